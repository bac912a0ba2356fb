# Writes coffer.pc and coffer-provider.pc for the prefix of the running install
# step (CMAKE_INSTALL_PREFIX, which `cmake --install --prefix` overrides).
# Included by the install script with COFFER_PC_* and the version variables set.
set(COFFER_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
foreach(dir IN ITEMS LIBDIR INCLUDEDIR)
  if(NOT IS_ABSOLUTE "${COFFER_PC_${dir}}")
    set(COFFER_PC_${dir} "\${prefix}/${COFFER_PC_${dir}}")
  endif()
endforeach()
foreach(pc IN ITEMS coffer coffer-provider)
  configure_file("${COFFER_PC_SOURCE_DIR}/${pc}.pc.in" "${COFFER_PC_OUTPUT_DIR}/${pc}.pc" @ONLY)
endforeach()
