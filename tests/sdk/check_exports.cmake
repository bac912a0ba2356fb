# Checks that every provider plugin exports exactly one dynamic symbol,
# coffer_provider_entry. Run as a script:
#
#   cmake -DNM=<nm> -DPLUGIN_DIR=<dir> [-DEXTRA_PLUGINS=<file>;<file>...] -P check_exports.cmake
#
# Every *.so in PLUGIN_DIR is checked, and so is every file in EXTRA_PLUGINS.
# Fails when PLUGIN_DIR holds no plugin at all (an empty directory means the
# plugins were not built, which must not pass for "all plugins are clean"),
# and lists each extra symbol of each offending file.
if(NOT NM OR NOT PLUGIN_DIR)
  message(FATAL_ERROR "usage: cmake -DNM=<nm> -DPLUGIN_DIR=<dir> [-DEXTRA_PLUGINS=...] -P check_exports.cmake")
endif()
file(GLOB plugins LIST_DIRECTORIES false "${PLUGIN_DIR}/*.so")
if(NOT plugins)
  message(FATAL_ERROR "no plugin (*.so) in ${PLUGIN_DIR}: build the plugins before checking them")
endif()
list(APPEND plugins ${EXTRA_PLUGINS})

set(problems "")
set(checked 0)
foreach(plugin IN LISTS plugins)
  if(NOT EXISTS "${plugin}")
    string(APPEND problems "\n  ${plugin}: missing")
    continue()
  endif()
  execute_process(COMMAND "${NM}" -D --defined-only "${plugin}"
                  OUTPUT_VARIABLE listing ERROR_VARIABLE errors RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    string(APPEND problems "\n  ${plugin}: ${NM} failed: ${errors}")
    continue()
  endif()
  # Lines look like "0000000000005230 T coffer_provider_entry".
  string(REGEX REPLACE "\n$" "" listing "${listing}")
  string(REPLACE "\n" ";" lines "${listing}")
  set(entry_found FALSE)
  set(extra "")
  foreach(line IN LISTS lines)
    if(line STREQUAL "")
      continue()
    endif()
    string(REGEX REPLACE "^[0-9a-fA-F]* *[A-Za-z] " "" symbol "${line}")
    if(symbol STREQUAL "coffer_provider_entry")
      set(entry_found TRUE)
    else()
      list(APPEND extra "${symbol}")
    endif()
  endforeach()
  if(NOT entry_found)
    string(APPEND problems "\n  ${plugin}: does not export coffer_provider_entry")
  endif()
  if(extra)
    list(JOIN extra ", " extra_text)
    string(APPEND problems "\n  ${plugin}: exports more than coffer_provider_entry: ${extra_text}")
  endif()
  math(EXPR checked "${checked} + 1")
endforeach()

if(problems)
  message(FATAL_ERROR "plugins with a wrong dynamic symbol table:${problems}")
endif()
message(STATUS "${checked} plugin(s) export exactly coffer_provider_entry")
