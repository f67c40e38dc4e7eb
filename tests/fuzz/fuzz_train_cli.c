/* fuzz_train_cli.c: libFuzzer target: alexnet-train's command line
 * (train_options_parse). The input's NUL-separated pieces are the arguments
 * after the program name. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train_options.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = "alexnet-train";
    for (size_t i = 0; i <= size && argc < MAX_ARGS + 1;) {
        argv[argc++] = text + i;
        i += strlen(text + i) + 1;
    }
    argv[argc] = NULL;
    optind = 0; /* getopt's state is global: start afresh (glibc) */
    opterr = 0;
    train_options o;
    train_options_default(&o);
    FILE *saved = stderr; /* usage errors are printed: keep the fuzzer's output readable */
    stderr = fopen("/dev/null", "w");
    if (stderr) {
        (void)train_options_parse(&o, argc, argv);
        fclose(stderr);
    }
    stderr = saved;
    free(text);
    return 0;
}
