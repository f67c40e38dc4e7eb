/* cli_test.c: a command line from one string, parsed quietly (cli_test.h). */
#include "cli_test.h"

#include <stdio.h>
#include <string.h>

int cli_test_parse(cli_test_parser parse, void *settings, const char *program, const char *args)
{
    static char copy[1024]; /* the words; argv points into it, as the settings may */
    char *argv[64] = {(char *)program};
    int argc = 1;
    snprintf(copy, sizeof copy, "%s", args);
    for (char *p = strtok(copy, " "); p && argc < 63; p = strtok(NULL, " ")) argv[argc++] = p;
    fflush(stderr);
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    int rc = parse(settings, argc, argv);
    fclose(stderr);
    stderr = saved;
    return rc;
}
