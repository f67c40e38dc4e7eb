# Finds the libraries every configuration needs, the CMake way, and exposes
# them as imported targets: HDF5::HDF5, PkgConfig::VIPS, JPEG::JPEG, alexnet::blas
# (OpenBLAS cblas + LAPACKE), OpenMP::OpenMP_C, MPI::MPI_C, alexnet::cmocka,
# PkgConfig::JSONC (json-c: every JSON file read or written).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS C)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(MPI COMPONENTS C)
# libjpeg-turbo, the one libvips decodes with: alexnet-prep's fast JPEG path,
# and the JPEG store's codec that every program reading shards needs (dataset/)
find_package(JPEG REQUIRED)

pkg_check_modules(VIPS IMPORTED_TARGET vips)
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
pkg_check_modules(LAPACKE REQUIRED IMPORTED_TARGET lapacke)
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib)
pkg_check_modules(JSONC REQUIRED IMPORTED_TARGET json-c)

add_library(alexnet_blas INTERFACE)
target_link_libraries(alexnet_blas INTERFACE PkgConfig::OPENBLAS PkgConfig::LAPACKE)
add_library(alexnet::blas ALIAS alexnet_blas)

if(NOT VIPS_FOUND)
  message(STATUS "libvips not found: alexnet-prep and the eval figures are not built")
endif()
if(NOT MPI_C_FOUND)
  message(STATUS "MPI not found: alexnet-train runs in one process only")
endif()
