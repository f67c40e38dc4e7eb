/* checksum.h: the per-image CRC-32 stored in every shard, and the 64-bit
 * hash that names a dataset (its id: 16 lowercase hex characters). */
#ifndef ALEXNET_CHECKSUM_H
#define ALEXNET_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* zlib crc32 of n bytes. */
uint32_t checksum_crc32(const void *data, size_t n);
/* crc32 of one image's 196608 bytes [256,256,3]. */
uint32_t checksum_image(const uint8_t *image);

/* FNV-1a 64-bit, streamed: a fingerprint of a listing and parameters, not a
 * cryptographic hash. */
typedef struct hash64 { uint64_t state; } hash64;
void hash64_init(hash64 *h);
void hash64_update(hash64 *h, const void *data, size_t n);
void hash64_update_str(hash64 *h, const char *s); /* the string and its NUL */
/* 16 lowercase hex characters + NUL into out[17]. */
void hash64_hex(const hash64 *h, char out[17]);

#endif
