/* fuzz_train_cli.c: libFuzzer target: alexnet-train's command line
 * (train_options_parse). The input's NUL-separated pieces are the arguments
 * after the program name. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "train_options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text, *argv[FUZZ_MAX_ARGS + 2];
    int argc = fuzz_args(data, size, "alexnet-train", &text, argv);
    if (argc > 0 && fuzz_quiet(1) == 0) {
        train_options o;
        if (train_options_default(&o) != AN_OK) abort();
        (void)train_options_parse(&o, argc, argv);
        fuzz_quiet(0);
    }
    free(text);
    return 0;
}
