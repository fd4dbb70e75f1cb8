# MAE_ENABLE_CUDA and the optional mae::cuda target (CUDA runtime + cuBLAS on top of mae::mae).
# Default: ON when mae is the top-level project and a working nvcc is found; a CPU-only configure never
# needs nvcc. Projects that add mae as a subdirectory opt in with -DMAE_ENABLE_CUDA=ON.

set(_mae_detect_cuda OFF)
if(NOT DEFINED MAE_ENABLE_CUDA AND PROJECT_IS_TOP_LEVEL)
  set(_mae_detect_cuda ON)
endif()

# nvcc lives in /usr/local/cuda/bin, which need not be on PATH: point CMake's compiler search at it.
if((_mae_detect_cuda OR MAE_ENABLE_CUDA) AND NOT DEFINED CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
  find_program(_mae_nvcc nvcc HINTS ENV CUDA_PATH PATHS /usr/local/cuda PATH_SUFFIXES bin NO_CACHE)
  if(_mae_nvcc)
    set(ENV{CUDACXX} "${_mae_nvcc}")
  endif()
endif()

set(_mae_cuda_default OFF)
if(_mae_detect_cuda)
  include(CheckLanguage)
  check_language(CUDA)  # tries the compiler in a throw-away project; never fails the configure
  if(CMAKE_CUDA_COMPILER)
    set(_mae_cuda_default ON)
  endif()
endif()
option(MAE_ENABLE_CUDA "Build the CUDA target mae::cuda and the CUDA tests" ${_mae_cuda_default})

if(MAE_ENABLE_CUDA)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90)  # H100/H200: sm_90 code plus compute_90 PTX; never `native` in CI
  endif()
  if(NOT DEFINED CMAKE_CUDA_RUNTIME_LIBRARY)
    set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)  # the runtime CUDA::cudart brings; never two runtimes
  endif()
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  if(CMAKE_CXX_COMPILER_LAUNCHER AND NOT DEFINED CMAKE_CUDA_COMPILER_LAUNCHER)
    set(CMAKE_CUDA_COMPILER_LAUNCHER "${CMAKE_CXX_COMPILER_LAUNCHER}")
  endif()

  add_library(mae_cuda INTERFACE)
  add_library(mae::cuda ALIAS mae_cuda)
  set_target_properties(mae_cuda PROPERTIES EXPORT_NAME cuda)
  target_link_libraries(mae_cuda INTERFACE mae CUDA::cudart CUDA::cublas)
  # The CPU headers use OpenMP pragmas, which reach nvcc's host compiler only through -Xcompiler.
  target_compile_options(mae_cuda INTERFACE $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-fopenmp>)
endif()
