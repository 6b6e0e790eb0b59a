# Installing vixy and packaging it for Debian. Only the proxy is installed: the harness (fake
# nodes, chaos runner, benchmarks) stays a development tool.
#   cmake --install BUILD [--prefix /usr]    the binary, /etc/vixy/config.toml, the systemd unit
#   scripts/package.sh                       vixy_<version>_<arch>.deb from the optimised build
include(GNUInstallDirs)

install(TARGETS vixy RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/config.example.toml DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/vixy
        RENAME config.toml)
# deploy/systemd/vixy.service names the package's paths (/usr/bin, /etc); another prefix gets its own.
file(READ ${PROJECT_SOURCE_DIR}/deploy/systemd/vixy.service unit)
string(REPLACE "/usr/bin/vixy" "${CMAKE_INSTALL_FULL_BINDIR}/vixy" unit "${unit}")
string(REPLACE "/etc/vixy/" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/vixy/" unit "${unit}")
file(WRITE ${PROJECT_BINARY_DIR}/deploy/vixy.service "${unit}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/deploy/systemd/vixy.service)
install(FILES ${PROJECT_BINARY_DIR}/deploy/vixy.service DESTINATION lib/systemd/system)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vixy)
set(CPACK_PACKAGE_VENDOR "vixy")
set(CPACK_PACKAGE_CONTACT "vixy maintainers <vixy@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "One stable address for Ethereum execution and consensus nodes")
set(CPACK_PACKAGE_DESCRIPTION
    "vixy health-checks Ethereum EL (JSON-RPC over HTTP and WebSocket) and CL (beacon REST) nodes,\n\
routes to a healthy, synced one (primary tier first, backup tier when no primary is healthy) and\n\
keeps WebSocket sessions whole while nodes fail and recover. Drop-in compatible with Vixy's\n\
config file, endpoints and metric names.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries' packages (Boost.URL, OpenSSL, toml++, libstdc++) from dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The config file is the operator's: an upgrade keeps their edits (dpkg asks when both changed).
# Maintainer scripts: systemd reloads the unit on install, restarts a running vixy on upgrade,
# stops and disables it on removal (what debhelper would add for a service).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
