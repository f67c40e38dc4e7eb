/* test_blas_runtime.c: runs blas_runtime_probe (started like every program,
 * with blas_runtime_select) in fresh processes under controlled environments:
 * with OPENBLAS_CORETYPE unset the kernels are not a generic fallback on an
 * AVX2 CPU (skipped without AVX2), the process keeps its PID and arguments;
 * a user's OPENBLAS_CORETYPE is never overridden; ALEXNET_BLAS_AUTO=0 and the
 * marker of a previous re-execution turn the choice off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blas_runtime.h"

#ifndef BLAS_RUNTIME_PROBE
#error "BLAS_RUNTIME_PROBE (the probe's path) must be defined by the build"
#endif

typedef struct probe_result {
    long spawned_pid; /* the PID fork() gave the probe */
    long pid;         /* the PID the probe printed after blas_runtime_select */
    char core[64];
    char marker[64];
    char args[128];
    char describe[512];
} probe_result;

/* Copies the rest of the line that starts with `key ` in `text` into out. */
static void field(const char *text, const char *key, char *out, size_t size)
{
    size_t klen = strlen(key);
    out[0] = '\0';
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
            const char *end = strchr(line, '\n');
            size_t n = end ? (size_t)(end - line) - klen - 1 : strlen(line) - klen - 1;
            if (n >= size) n = size - 1;
            memcpy(out, line + klen + 1, n);
            out[n] = '\0';
            return;
        }
    }
}

/* Runs the probe with the three variables cleared, then `assignments`
 * ("NAME=value", NULL-terminated) set; fails the test unless it exits 0. */
static void run_probe(const char *const *assignments, probe_result *r)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        unsetenv("OPENBLAS_CORETYPE");
        unsetenv("ALEXNET_BLAS_AUTO");
        unsetenv(BLAS_RUNTIME_MARKER);
        for (const char *const *a = assignments; a && *a; a++) putenv((char *)*a);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        char *argv[] = {(char *)BLAS_RUNTIME_PROBE, (char *)"first", (char *)"--second=2", NULL};
        execv(BLAS_RUNTIME_PROBE, argv);
        _exit(127);
    }
    close(fds[1]);
    char text[2048];
    size_t used = 0;
    ssize_t got;
    while ((got = read(fds[0], text + used, sizeof text - 1 - used)) > 0) used += (size_t)got;
    text[used] = '\0';
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail_msg("probe failed (status %d): %s", status, text);
    char pid[32];
    field(text, "pid", pid, sizeof pid);
    r->spawned_pid = (long)child;
    r->pid = strtol(pid, NULL, 10);
    field(text, "core", r->core, sizeof r->core);
    field(text, "marker", r->marker, sizeof r->marker);
    field(text, "args", r->args, sizeof r->args);
    field(text, "describe", r->describe, sizeof r->describe);
    assert_true(r->core[0] != '\0');
}

static void test_unset_picks_cpu_kernels(void **state)
{
    (void)state;
    const char *best = blas_runtime_cpu_core();
    if (!best) skip(); /* no AVX2: the generic kernels are the right ones */
    probe_result r;
    run_probe(NULL, &r);
    assert_false(blas_runtime_core_is_generic(r.core));
    assert_int_equal(r.pid, r.spawned_pid); /* exec keeps the PID (mpirun's child) */
    assert_string_equal(r.args, "first --second=2");
    if (strcmp(r.marker, "-") != 0) {
        /* Re-executed: only from a generic detection, into the CPU's best core. */
        assert_true(blas_runtime_core_is_generic(r.marker));
        assert_string_equal(r.core, best);
        assert_non_null(strstr(r.describe, "set automatically"));
    }
}

static void test_user_coretype_respected(void **state)
{
    (void)state;
    /* Prescott runs on every x86-64 CPU and is generic: the worst case for
     * an override, which must still not happen. */
    static const char *const env[] = {"OPENBLAS_CORETYPE=Prescott", NULL};
    probe_result r;
    run_probe(env, &r);
    assert_string_equal(r.core, "Prescott");
    assert_string_equal(r.marker, "-");
    assert_non_null(strstr(r.describe, "OPENBLAS_CORETYPE=Prescott from the environment"));
    if (blas_runtime_cpu_core()) assert_non_null(strstr(r.describe, "runs several times faster"));
}

static void test_auto_off(void **state)
{
    (void)state;
    probe_result automatic, off;
    run_probe(NULL, &automatic);
    static const char *const env[] = {"ALEXNET_BLAS_AUTO=0", NULL};
    run_probe(env, &off);
    assert_string_equal(off.marker, "-");
    assert_int_equal(off.pid, off.spawned_pid);
    assert_non_null(strstr(off.describe, "automatic choice off"));
    /* Off, OpenBLAS keeps its own detection: the generic core that the
     * automatic run replaced, or the same core when there was nothing to do. */
    if (strcmp(automatic.marker, "-") != 0) assert_string_equal(off.core, automatic.marker);
    else assert_string_equal(off.core, automatic.core);
}

static void test_marker_prevents_reexec(void **state)
{
    (void)state;
    probe_result automatic, marked;
    run_probe(NULL, &automatic);
    static const char *const env[] = {BLAS_RUNTIME_MARKER "=Prescott", NULL};
    run_probe(env, &marked);
    assert_string_equal(marked.marker, "Prescott");
    if (strcmp(automatic.marker, "-") != 0) assert_string_equal(marked.core, automatic.marker);
    else assert_string_equal(marked.core, automatic.core);
}

static void test_generic_names(void **state)
{
    (void)state;
    assert_true(blas_runtime_core_is_generic("Prescott"));
    assert_true(blas_runtime_core_is_generic("prescott"));
    assert_true(blas_runtime_core_is_generic("Sandybridge"));
    assert_true(blas_runtime_core_is_generic(NULL));
    assert_false(blas_runtime_core_is_generic("Haswell"));
    assert_false(blas_runtime_core_is_generic("SkylakeX"));
    assert_false(blas_runtime_core_is_generic("Zen"));
    assert_false(blas_runtime_core_is_generic("Cooperlake"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unset_picks_cpu_kernels), cmocka_unit_test(test_user_coretype_respected),
        cmocka_unit_test(test_auto_off), cmocka_unit_test(test_marker_prevents_reexec),
        cmocka_unit_test(test_generic_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
