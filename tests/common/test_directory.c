/* test_directory.c: mkdir -p (common/directory.h): nested parents created,
 * an existing directory accepted, a file in the way refused with its name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "directory.h"

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static void test_make_nested(void **state)
{
    (void)state;
    char root[] = "/tmp/alexnet-test-directory-XXXXXX", path[256], file[256];
    assert_non_null(mkdtemp(root));
    snprintf(path, sizeof path, "%s/a//b/c/", root);
    assert_int_equal(directory_make(path), AN_OK);
    snprintf(path, sizeof path, "%s/a/b/c", root);
    assert_true(is_dir(path));
    assert_int_equal(directory_make(path), AN_OK); /* already there */

    snprintf(file, sizeof file, "%s/a/plain", root);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(path, sizeof path, "%s/a/plain/d", root);
    assert_int_equal(directory_make(path), AN_ERR_IO);
    assert_non_null(strstr(error_message(), "plain"));
    assert_int_equal(directory_make(file), AN_ERR_IO);
    assert_int_equal(directory_make(""), AN_ERR_ARG);

    unlink(file);
    rmdir(strcat(strcpy(path, root), "/a/b/c"));
    rmdir(strcat(strcpy(path, root), "/a/b"));
    rmdir(strcat(strcpy(path, root), "/a"));
    rmdir(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_make_nested)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
