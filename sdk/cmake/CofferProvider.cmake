# coffer_add_provider(<name> SOURCES <file>... [OUTPUT_DIRECTORY <dir>])
#
# Builds a provider plugin: a MODULE library named lib<name>.so that exports
# exactly one dynamic symbol, coffer_provider_entry (hidden visibility plus a
# version script). <name> is the plugin name: the policy's
# `providers.NAME.plugin` selects the file by it, and the provider's table must
# give the same name (COFFER_PROVIDER(Class, "<name>", ...)), so it may only
# use lower-case letters, digits and '_'. Link the target against
# coffer::provider (or coffer_sdk in the coffer source tree) for the ABI
# headers. Without OUTPUT_DIRECTORY the plugin lands in the current binary
# directory.
#
# This file is installed with the coffer CMake package; find_package(coffer)
# includes it.
include_guard(GLOBAL)

function(coffer_add_provider target)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "coffer_add_provider(${target}): unexpected arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "coffer_add_provider(${target}): SOURCES is required")
  endif()
  if(NOT target MATCHES "^[a-z0-9_]+$")
    message(FATAL_ERROR "coffer_add_provider(${target}): a plugin name may only use lower-case "
                        "letters, digits and '_' (the policy names the plugin file by it)")
  endif()
  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  endif()
  # Hidden visibility alone does not hide what libstdc++ declares with default
  # visibility (template instantiations of std::), nor symbols from static
  # libraries linked in: the version script makes everything else local.
  set(map ${CMAKE_CURRENT_BINARY_DIR}/${target}.map)
  file(WRITE ${map} "{\n  global: coffer_provider_entry;\n  local: *;\n};\n")
  target_link_options(${target} PRIVATE "LINKER:--version-script=${map}" "LINKER:--no-undefined"
                      "LINKER:-z,now" "LINKER:-z,relro")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${map})
endfunction()
