/* cli_test.h: for the tests of the option tables: a command line given as
 * one string of space-separated words, parsed with stderr silenced (a usage
 * error prints the whole usage). */
#ifndef ALEXNET_CLI_TEST_H
#define ALEXNET_CLI_TEST_H

/* A program's parser over (settings, argc, argv), returning what main() would. */
typedef int (*cli_test_parser)(void *settings, int argc, char **argv);

/* Runs parse on {program, the words of args}; returns its result. */
int cli_test_parse(cli_test_parser parse, void *settings, const char *program, const char *args);

#endif
