/* fuzz_trainer_state.c: libFuzzer target: the trainer state JSON a checkpoint
 * carries (train_state_from_json over json-c, docs/FORMAT.md section 3). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "train_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1); /* the state is read as a C string */
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    train_state s;
    (void)train_state_from_json(text, &s);
    free(text);
    return 0;
}
