# dataset_lib.cmake: the dataset/shard format library (alexnet_dataset):
# shard reader and writer, dataset.h5, checksums. Free of libvips so train
# and eval link it on machines without image libraries. Include it with
#   if(NOT TARGET alexnet_dataset) include(${CMAKE_SOURCE_DIR}/common/dataset_lib.cmake) endif()
set(ALEXNET_DATASET_DIR ${CMAKE_CURRENT_LIST_DIR})
add_library(alexnet_dataset STATIC
  ${ALEXNET_DATASET_DIR}/checksum.c
  ${ALEXNET_DATASET_DIR}/h5_io.c
  ${ALEXNET_DATASET_DIR}/shard_stats.c
  ${ALEXNET_DATASET_DIR}/shard_writer.c
  ${ALEXNET_DATASET_DIR}/shard_reader.c
  ${ALEXNET_DATASET_DIR}/dataset.c)
target_include_directories(alexnet_dataset PUBLIC ${ALEXNET_DATASET_DIR})
target_link_libraries(alexnet_dataset PUBLIC alexnet_common HDF5::HDF5 PkgConfig::ZLIB)
