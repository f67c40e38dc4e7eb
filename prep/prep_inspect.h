/* prep_inspect.h: `alexnet-prep verify DIR` (every checksum and count; names
 * the first bad shard and image) and `alexnet-prep info DIR` (the summary). */
#ifndef ALEXNET_PREP_INSPECT_H
#define ALEXNET_PREP_INSPECT_H

#include <stdio.h>

#include "status.h"

an_status prep_verify(const char *dir, FILE *out);
an_status prep_info(const char *dir, FILE *out);

#endif
