/* image_geometry.h: the image sizes every stage agrees on, each stated once.
 * Stored images are 256x256 RGB (§2: "down-sampled the images to a fixed
 * resolution of 256 x 256"); the network sees 224x224 crops of them (§4.1),
 * so a crop's top-left corner ranges over 0..32 on each axis (32² x 2 = 2048
 * translations and reflections). Ten-crop scoring (§4.1) takes the four
 * corner crops and the centre crop, and their mirrors. The stored layout is
 * HWC uint8 (docs/FORMAT.md); the network's input is CHW float.
 */
#ifndef ALEXNET_IMAGE_GEOMETRY_H
#define ALEXNET_IMAGE_GEOMETRY_H

#define IMAGE_CHANNELS 3      /* RGB */
#define IMAGE_STORED_SIZE 256 /* §2 */
#define IMAGE_CROP_SIZE 224   /* §4.1; docs/network.md on 224 against 227 */
#define IMAGE_MAX_OFFSET (IMAGE_STORED_SIZE - IMAGE_CROP_SIZE)  /* 32: crop corners 0..32 */
#define IMAGE_CENTRE_OFFSET (IMAGE_MAX_OFFSET / 2)               /* 16: the centre crop */
#define IMAGE_STORED_BYTES ((size_t)IMAGE_STORED_SIZE * IMAGE_STORED_SIZE * IMAGE_CHANNELS) /* 196608 */
#define IMAGE_CROP_FLOATS ((size_t)IMAGE_CHANNELS * IMAGE_CROP_SIZE * IMAGE_CROP_SIZE)       /* 150528 */

#endif
