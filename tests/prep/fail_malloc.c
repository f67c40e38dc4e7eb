/* fail_malloc.c: a library for tests to LD_PRELOAD into a real program:
 * malloc of exactly ALEXNET_FAIL_MALLOC_BYTES bytes fails (NULL, ENOMEM), as
 * when memory runs out; every other call is glibc's own malloc. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t size);

void *malloc(size_t size)
{
    /* read once; getenv and strtoull do not allocate. Threads racing here
     * compute the same value. */
    static volatile int ready;
    static size_t fail_bytes;
    if (!ready) {
        const char *s = getenv("ALEXNET_FAIL_MALLOC_BYTES");
        fail_bytes = s ? (size_t)strtoull(s, NULL, 10) : 0;
        ready = 1;
    }
    if (fail_bytes && size == fail_bytes) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_malloc(size);
}
