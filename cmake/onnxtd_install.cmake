# What `cmake --install` puts under the prefix: the command, both libraries,
# the public headers, a CMake package (find_package(onnxtd)) and a pkg-config
# file. Both package files find the prefix from where they lie, so that an
# installed tree can be moved.
include(CMakePackageConfigHelpers)

set(ONNXTD_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/onnxtd)

install(TARGETS onnxtd_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS onnxtd_static onnxtd_shared EXPORT onnxtdTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES include/onnxtd.h ${ONNXTD_GEN_INCLUDE}/onnxtd_version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT onnxtdTargets NAMESPACE onnxtd:: DESTINATION ${ONNXTD_CMAKE_DIR})

configure_package_config_file(cmake/onnxtdConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/onnxtdConfig.cmake
  INSTALL_DESTINATION ${ONNXTD_CMAKE_DIR})
# Before 1.0 a minor release may change the API (semantic versioning).
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/onnxtdConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/onnxtdConfig.cmake
        ${CMAKE_CURRENT_BINARY_DIR}/onnxtdConfigVersion.cmake
        DESTINATION ${ONNXTD_CMAKE_DIR})

# onnxtd.pc names its prefix relative to its own folder (${pcfiledir}),
# which is the prefix's libdir/pkgconfig.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  message(FATAL_ERROR "onnxtd.pc needs CMAKE_INSTALL_LIBDIR and "
          "CMAKE_INSTALL_INCLUDEDIR relative to the prefix")
endif()
file(RELATIVE_PATH ONNXTD_PC_UP "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
set(ONNXTD_PC_PREFIX "\${pcfiledir}/${ONNXTD_PC_UP}")
configure_file(onnxtd.pc.in ${CMAKE_CURRENT_BINARY_DIR}/onnxtd.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/onnxtd.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
