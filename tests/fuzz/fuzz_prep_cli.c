/* fuzz_prep_cli.c: libFuzzer target: alexnet-prep's command line
 * (prep_options_parse), the subcommands verify, info and merge included. The
 * input's NUL-separated pieces are the arguments after the program name. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "prep_options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text, *argv[FUZZ_MAX_ARGS + 2];
    int argc = fuzz_args(data, size, "alexnet-prep", &text, argv);
    if (argc > 0 && fuzz_quiet(1) == 0) {
        prep_options o;
        if (prep_options_default(&o, 2) != AN_OK) abort();
        int rc = prep_options_parse(&o, argc, argv);
        fuzz_quiet(0);
        /* What the parser accepted is what prep_main.c goes on with. */
        if (rc == 0 && o.command == PREP_COMMAND_RUN && (!o.source || !o.input || !o.output)) abort();
        if (rc == 0 && o.command != PREP_COMMAND_RUN && !o.output) abort();
        if (rc == 0 && (o.jobs < 1 || o.shard_size < 1 || o.jpeg_quality < 1 || o.jpeg_quality > 100)) abort();
        if (rc == 0 && o.range_end >= 0 && o.range_end <= o.range_begin) abort();
    }
    free(text);
    return 0;
}
