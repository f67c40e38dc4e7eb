/* shard_store.c: the names of the two ways a shard stores its images
 * ("store" attribute, docs/FORMAT.md §1.1). */
#include "shard_format.h"

#include <string.h>

const char *shard_store_name(shard_store store) { return store == SHARD_STORE_JPEG ? "jpeg" : "raw"; }

an_status shard_store_parse(const char *name, shard_store *out)
{
    if (strcmp(name, "raw") == 0) {
        *out = SHARD_STORE_RAW;
        return AN_OK;
    }
    if (strcmp(name, "jpeg") == 0) {
        *out = SHARD_STORE_JPEG;
        return AN_OK;
    }
    return error_set(AN_ERR_ARG, "store must be raw or jpeg, got '%s'", name);
}
