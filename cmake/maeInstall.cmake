# Install rules: headers, the exported targets and a relocatable package config for find_package(mae).
include(CMakePackageConfigHelpers)

set(MAE_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/cmake/mae")

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(TARGETS mae EXPORT maeTargets)
install(EXPORT maeTargets NAMESPACE mae:: DESTINATION "${MAE_INSTALL_CMAKEDIR}")
if(TARGET mae_cuda)
  # A separate export set: CPU-only consumers of a CUDA-built install never need the CUDA toolkit.
  install(TARGETS mae_cuda EXPORT maeCudaTargets)
  install(EXPORT maeCudaTargets NAMESPACE mae:: DESTINATION "${MAE_INSTALL_CMAKEDIR}")
endif()

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/maeConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/maeConfig.cmake"
  INSTALL_DESTINATION "${MAE_INSTALL_CMAKEDIR}")
# Before 1.0 a minor version may break the API: accept only the same major.minor.
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/maeConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMinorVersion
  ARCH_INDEPENDENT)
install(FILES
  "${PROJECT_BINARY_DIR}/maeConfig.cmake"
  "${PROJECT_BINARY_DIR}/maeConfigVersion.cmake"
  DESTINATION "${MAE_INSTALL_CMAKEDIR}")
