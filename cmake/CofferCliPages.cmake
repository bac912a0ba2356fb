# Writes the manual pages and the shell completion scripts of `coffer` with
# the tool itself, from its command table (tools/CMakeLists.txt runs this at
# build time). Variables: COFFER (the built tool), MAN_DIR, COMPLETION_DIR,
# STAMP (touched when everything was written).
file(REMOVE_RECURSE ${MAN_DIR})
file(MAKE_DIRECTORY ${MAN_DIR} ${COMPLETION_DIR})
execute_process(COMMAND ${COFFER} man --output-dir ${MAN_DIR} RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "coffer man --output-dir ${MAN_DIR} failed: ${status}")
endif()
foreach(shell IN ITEMS bash zsh)
  if(shell STREQUAL "bash")
    set(file ${COMPLETION_DIR}/coffer)
  else()
    set(file ${COMPLETION_DIR}/_coffer)
  endif()
  execute_process(COMMAND ${COFFER} completion ${shell} OUTPUT_FILE ${file} RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "coffer completion ${shell} failed: ${status}")
  endif()
endforeach()
file(TOUCH ${STAMP})
