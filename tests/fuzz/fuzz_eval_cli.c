/* fuzz_eval_cli.c: libFuzzer target: alexnet-eval's command line
 * (eval_cli_parse): the scorer's options and the subcommands report, compare
 * and classify, in a build with and without figures and classify (the input's
 * first byte chooses). The other NUL-separated pieces are the arguments after
 * the program name. */
#include <stdint.h>
#include <stdlib.h>

#include "eval_cli.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    static const eval_figures_part some_figures;   /* present; the parser never calls it */
    static const eval_classify_part some_classify;
    eval_features have = {data[0] & 1 ? &some_figures : NULL, (data[0] >> 1) & 1 ? &some_classify : NULL};
    char *text, *argv[FUZZ_MAX_ARGS + 2];
    int argc = fuzz_args(data + 1, size - 1, "alexnet-eval", &text, argv);
    if (argc > 0 && fuzz_quiet(1) == 0) {
        eval_cli a;
        int rc = eval_cli_parse(&a, argc, argv, &have);
        fuzz_quiet(0);
        /* What the parser accepted is what main.c goes on with. */
        if (rc == 0) {
            switch (a.command) {
            case EVAL_COMMAND_SCORE:
                if (!a.data || (!a.run && !a.checkpoint) || a.batch < 1 || (a.figures && !have.figures)) abort();
                break;
            case EVAL_COMMAND_REPORT: if (!a.run) abort(); break;
            case EVAL_COMMAND_COMPARE:
                if (!a.out || a.num_paths < 2) abort();
                for (int i = 0; i < a.num_paths; i++)
                    if (!a.paths[i]) abort();
                break;
            case EVAL_COMMAND_CLASSIFY:
                if (!have.classify || !a.checkpoint || !a.data || a.num_paths < 1) abort();
                for (int i = 0; i < a.num_paths; i++)
                    if (!a.paths[i]) abort();
                break;
            }
        }
    }
    free(text);
    return 0;
}
