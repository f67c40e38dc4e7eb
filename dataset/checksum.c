/* checksum.c: CRC-32 through zlib, FNV-1a 64 for dataset ids. */
#include "checksum.h"

#include <stdio.h>
#include <zlib.h>

#include "shard_format.h"

uint32_t checksum_crc32(const void *data, size_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    const Bytef *p = data;
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return (uint32_t)crc;
}

uint32_t checksum_image(const uint8_t *image)
{
    return checksum_crc32(image, IMAGE_STORED_BYTES);
}

void hash64_init(hash64 *h)
{
    h->state = 0xcbf29ce484222325ull; /* FNV offset basis */
}

void hash64_update(hash64 *h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        h->state ^= p[i];
        h->state *= 0x100000001b3ull; /* FNV prime */
    }
}

void hash64_update_str(hash64 *h, const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    hash64_update(h, s, n + 1);
}

void hash64_hex(const hash64 *h, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)h->state);
}
