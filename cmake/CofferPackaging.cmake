# Debian packages built by CPack (cpack -G DEB in a build tree configured with
# -DCMAKE_INSTALL_PREFIX=/usr; docs/packaging.md):
#
#   coffer        the CLI (with the agent, `coffer serve`), the credential
#                 helpers, the plugins, the default catalog, the systemd units
#   libcoffer0    the shared library (named for its SONAME)
#   libcoffer-dev headers, the SDK and its examples, the CMake package and the
#                 pkg-config files
#
# Install rules name their component (cli, runtime, dev); rules that name none
# belong to `cli` (CMAKE_INSTALL_DEFAULT_COMPONENT_NAME, set in the top-level
# CMakeLists.txt before the subdirectories). Library dependencies come from
# dpkg-shlibdeps; the -dev package's come from what its headers and CMake
# package need.

# The systemd units, from the copies in docs/deploy/ with ExecStart naming the
# installed coffer (docs/deploy/ keeps /usr/local/bin for a manual install).
set(coffer_unit_dir ${PROJECT_BINARY_DIR}/systemd)
foreach(unit IN ITEMS coffer.service coffer.socket)
  file(READ ${PROJECT_SOURCE_DIR}/docs/deploy/${unit} coffer_unit_text)
  if(unit STREQUAL "coffer.service")
    string(FIND "${coffer_unit_text}" "ExecStart=/usr/local/bin/coffer " coffer_exec_at)
    if(coffer_exec_at EQUAL -1)
      message(FATAL_ERROR "docs/deploy/coffer.service: no 'ExecStart=/usr/local/bin/coffer ' line "
                          "to point at ${CMAKE_INSTALL_FULL_BINDIR}/coffer")
    endif()
    string(REPLACE "ExecStart=/usr/local/bin/coffer " "ExecStart=${CMAKE_INSTALL_FULL_BINDIR}/coffer "
                   coffer_unit_text "${coffer_unit_text}")
  endif()
  file(WRITE ${coffer_unit_dir}/${unit}.tmp "${coffer_unit_text}")
  configure_file(${coffer_unit_dir}/${unit}.tmp ${coffer_unit_dir}/${unit} COPYONLY)
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${PROJECT_SOURCE_DIR}/docs/deploy/coffer.service ${PROJECT_SOURCE_DIR}/docs/deploy/coffer.socket)
# Relative to the prefix: /usr/lib/systemd/system in the package (searched by
# systemd on Debian 12), and inside the prefix of any other installation.
install(FILES ${coffer_unit_dir}/coffer.service ${coffer_unit_dir}/coffer.socket
        DESTINATION lib/systemd/system COMPONENT cli)
# The service runs as the system user coffer and writes to /var/lib/coffer and
# /var/log/coffer: systemd-sysusers and systemd-tmpfiles create them.
install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian/sysusers.conf DESTINATION lib/sysusers.d
        RENAME coffer.conf COMPONENT cli)
install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian/tmpfiles.conf DESTINATION lib/tmpfiles.d
        RENAME coffer.conf COMPONENT cli)

set(CPACK_PACKAGE_NAME coffer)
set(CPACK_PACKAGE_VENDOR "coffer project")
set(CPACK_PACKAGE_CONTACT "coffer maintainers <coffer@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_GENERATOR DEB)
set(CPACK_SOURCE_GENERATOR "")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
# Debug information stays in the build tree, as Debian's own packages ship it apart.
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL cli runtime dev)
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_BINARY_DIR}/CofferCPackOptions.cmake)
configure_file(${PROJECT_SOURCE_DIR}/cmake/CofferCPackOptions.cmake.in ${CPACK_PROJECT_CONFIG_FILE} @ONLY)

set(CPACK_COMPONENT_RUNTIME_DISPLAY_NAME "coffer library")
set(CPACK_COMPONENT_DEV_DEPENDS runtime)
set(CPACK_COMPONENT_CLI_DEPENDS runtime)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/coffer/coffer")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# dpkg-shlibdeps finds libcoffer.so.0 in the build tree; the dependency on it
# is the component dependency (libcoffer0 (= VERSION-1)).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR}/core)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)

set(CPACK_DEBIAN_CLI_PACKAGE_NAME coffer)
set(CPACK_DEBIAN_CLI_PACKAGE_SECTION admin)
set(CPACK_COMPONENT_CLI_DESCRIPTION
    "secrets for programs from the providers a policy names\n"
    "The coffer command (get, set, check, migrate, db, run), the agent `coffer serve`\n"
    "(Dapr secrets API over a Unix socket, with systemd units), the git and Docker\n"
    "credential helpers, the provider plugins database (SQLite, PostgreSQL),\n"
    "azure_keyvault and env_file, and the default catalog.")
string(JOIN "" CPACK_COMPONENT_CLI_DESCRIPTION ${CPACK_COMPONENT_CLI_DESCRIPTION})
set(CPACK_DEBIAN_CLI_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/cmake/debian/postinst ${PROJECT_SOURCE_DIR}/cmake/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libcoffer${PROJECT_VERSION_MAJOR})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
    "plugin-based secrets-provider framework (library)\n"
    "libcoffer loads provider plugins through a stable C ABI and resolves catalog keys\n"
    "through the providers a policy routes them to, with caching and secret memory.")
string(JOIN "" CPACK_COMPONENT_RUNTIME_DESCRIPTION ${CPACK_COMPONENT_RUNTIME_DESCRIPTION})
# A shlibs file for libcoffer0 (CPack runs ldconfig from its postinst and postrm).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY "=")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libcoffer-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# <coffer/asio.hpp> includes Boost.Asio; the SDK's C++ example links Boost.JSON.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libboost1.81-dev")
set(CPACK_DEBIAN_DEV_PACKAGE_RECOMMENDS "libboost-json1.81-dev, cmake (>= 3.25), pkg-config")
set(CPACK_DEBIAN_DEV_PACKAGE_SHLIBDEPS OFF)
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "plugin-based secrets-provider framework (development files)\n"
    "Headers of the host API (C++20 and C) and of the provider SDK (C ABI and C++\n"
    "helper), the CMake package (find_package(coffer), coffer_add_provider), the\n"
    "pkg-config files coffer and coffer-provider, and the SDK's example providers.")
string(JOIN "" CPACK_COMPONENT_DEV_DESCRIPTION ${CPACK_COMPONENT_DEV_DESCRIPTION})

include(CPack)
