# coffer_add_provider(<target> SOURCES <file>... [OUTPUT_DIRECTORY <dir>])
#
# Builds a provider plugin: a MODULE library named lib<target>.so that exports
# exactly one dynamic symbol, coffer_provider_entry (hidden visibility plus a
# version script). Link it against coffer::provider (or coffer_sdk in the
# coffer source tree) for the ABI headers.
function(coffer_add_provider target)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  endif()
  set(map ${CMAKE_CURRENT_BINARY_DIR}/${target}.map)
  file(WRITE ${map} "{\n  global: coffer_provider_entry;\n  local: *;\n};\n")
  target_link_options(${target} PRIVATE "LINKER:--version-script=${map}" "LINKER:--no-undefined"
                      "LINKER:-z,now" "LINKER:-z,relro")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${map})
endfunction()
