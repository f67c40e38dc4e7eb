# Decides whether the CUDA backend is compiled (ALEXNET_CUDA=AUTO|ON|OFF) and,
# if so, finds cuDNN, cuBLAS and NCCL. Sets the CMake variable
# ALEXNET_HAVE_CUDA and the interface target alexnet::cuda_deps (CUDA
# libraries and, when NCCL is found, ALEXNET_HAVE_NCCL=1). The compile
# definition ALEXNET_HAVE_CUDA=1 is NOT set here: alexnet_kernels_cuda
# (kernels/cuda/CMakeLists.txt) defines it, PUBLIC, for whatever links it.
set(ALEXNET_HAVE_CUDA OFF)
if(NOT ALEXNET_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  find_package(CUDAToolkit QUIET)
  find_path(CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
  find_library(CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64)
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
  find_library(NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64)
  if(CMAKE_CUDA_COMPILER AND CUDAToolkit_FOUND AND CUDNN_INCLUDE_DIR AND CUDNN_LIBRARY)
    set(ALEXNET_HAVE_CUDA ON)
  elseif(ALEXNET_CUDA STREQUAL "ON")
    message(FATAL_ERROR "ALEXNET_CUDA=ON but nvcc, the CUDA toolkit or cuDNN was not found "
                        "(looked in /usr/local/cuda). Install them or use -DALEXNET_CUDA=OFF.")
  endif()
endif()

if(ALEXNET_HAVE_CUDA)
  if(NOT CMAKE_CUDA_ARCHITECTURES)
    # sm_80 (A100) and sm_90 (H100/H200) machine code, plus PTX for newer chips.
    set(CMAKE_CUDA_ARCHITECTURES 80-real 90)
  endif()
  enable_language(CUDA)
  set(CMAKE_CUDA_STANDARD 17)
  add_library(alexnet_cuda_deps INTERFACE)
  target_include_directories(alexnet_cuda_deps INTERFACE ${CUDNN_INCLUDE_DIR})
  target_link_libraries(alexnet_cuda_deps INTERFACE CUDA::cudart CUDA::cublas ${CUDNN_LIBRARY})
  if(NCCL_LIBRARY)
    target_include_directories(alexnet_cuda_deps INTERFACE ${NCCL_INCLUDE_DIR})
    target_link_libraries(alexnet_cuda_deps INTERFACE ${NCCL_LIBRARY})
    target_compile_definitions(alexnet_cuda_deps INTERFACE ALEXNET_HAVE_NCCL=1)
  endif()
  add_library(alexnet::cuda_deps ALIAS alexnet_cuda_deps)
  message(STATUS "CUDA backend: ON (cuDNN ${CUDNN_LIBRARY}, archs ${CMAKE_CUDA_ARCHITECTURES})")
else()
  message(STATUS "CUDA backend: OFF (CPU only)")
endif()
