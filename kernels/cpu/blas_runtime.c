/* blas_runtime.c: chooses OpenBLAS's kernels for this CPU when OpenBLAS's
 * own detection fell back to generic ones, by setting OPENBLAS_CORETYPE and
 * re-executing the program (see blas_runtime.h). */
#define _GNU_SOURCE /* setenv, unsetenv, strcasecmp */
#include "blas_runtime.h"

#include <cblas.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

#define CORETYPE_VAR "OPENBLAS_CORETYPE"
#define AUTO_VAR "ALEXNET_BLAS_AUTO"

/* errno of a failed re-execution (0: none), and the core it tried. */
static int exec_errno = 0;
static const char *exec_core = NULL;

/* Running one of these on an AVX2 CPU wastes most of it. */
int blas_runtime_core_is_generic(const char *core)
{
    static const char *const generic[] = {
        "Unknown", "Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom",
        "Core2", "Penryn", "Dunnington", "Nehalem", "Sandybridge", "Athlon", "Opteron",
        "Opteron(SSE3)", "Barcelona", "Nano", "Bobcat", "Bulldozer", "Piledriver"};
    if (!core) return 1;
    for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
        if (strcasecmp(core, generic[i]) == 0) return 1;
    return 0;
}

/* blas_runtime_cpu_core, and *features names the instructions. */
static const char *core_supported(const char **features)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512cd")) {
        *features = "AVX-512";
        return "SkylakeX";
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        *features = "AVX2 and FMA";
        return "Haswell";
    }
#endif
    *features = NULL;
    return NULL;
}

const char *blas_runtime_cpu_core(void)
{
    const char *features;
    return core_supported(&features);
}

static int auto_disabled(void)
{
    const char *v = getenv(AUTO_VAR);
    return v && strcmp(v, "0") == 0;
}

void blas_runtime_select(int argc, char **argv)
{
    if (argc < 1 || !argv || !argv[0]) return;
    if (getenv(CORETYPE_VAR) || getenv(BLAS_RUNTIME_MARKER) || auto_disabled()) return;
    /* Only a DYNAMIC_ARCH build carries other kernels and reads the variable. */
    const char *config = openblas_get_config();
    if (!config || !strstr(config, "DYNAMIC_ARCH")) return;
    const char *detected = openblas_get_corename();
    if (!blas_runtime_core_is_generic(detected)) return;
    const char *features;
    const char *core = core_supported(&features);
    if (!core) return;
    /* The marker holds what OpenBLAS detected, for blas_runtime_describe. */
    if (setenv(BLAS_RUNTIME_MARKER, detected ? detected : "Unknown", 1) != 0 ||
        setenv(CORETYPE_VAR, core, 1) != 0) {
        exec_errno = errno;
    } else {
        execv("/proc/self/exe", argv); /* returns only on failure */
        exec_errno = errno;
    }
    exec_core = core;
    unsetenv(CORETYPE_VAR); /* children see what this process runs */
    unsetenv(BLAS_RUNTIME_MARKER);
    log_warn("could not re-execute %s with %s=%s (%s); OpenBLAS keeps its generic %s kernels: "
             "set %s=%s yourself for several times faster layers",
             argv[0], CORETYPE_VAR, core, strerror(exec_errno), detected ? detected : "Unknown",
             CORETYPE_VAR, core);
}

/* Writes "; this CPU has AVX-512: OPENBLAS_CORETYPE=SkylakeX runs several
 * times faster" when OpenBLAS runs generic kernels on a CPU that has better
 * ones, else "". */
static void advice_append(char *out, size_t size, const char *running)
{
    const char *features;
    const char *core = core_supported(&features);
    out[0] = '\0';
    if (!blas_runtime_core_is_generic(running) || !core) return;
    snprintf(out, size, "; this CPU has %s: %s=%s runs several times faster", features, CORETYPE_VAR, core);
}

const char *blas_runtime_describe(void)
{
    static char line[480];
    const char *core = openblas_get_corename();
    const char *user = getenv(CORETYPE_VAR);
    const char *marker = getenv(BLAS_RUNTIME_MARKER);
    char why[200], advice[120];
    if (user && marker)
        snprintf(why, sizeof why, "%s=%s set automatically: OpenBLAS detected %s on this CPU; %s=0 turns this off",
                 CORETYPE_VAR, user, marker, AUTO_VAR);
    else if (user)
        snprintf(why, sizeof why, "%s=%s from the environment", CORETYPE_VAR, user);
    else if (exec_errno)
        snprintf(why, sizeof why, "detected by OpenBLAS; re-executing with %s=%s failed: %s", CORETYPE_VAR,
                 exec_core, strerror(exec_errno));
    else if (auto_disabled())
        snprintf(why, sizeof why, "detected by OpenBLAS; automatic choice off (%s=0)", AUTO_VAR);
    else
        snprintf(why, sizeof why, "detected by OpenBLAS");
    advice_append(advice, sizeof advice, core);
    snprintf(line, sizeof line, "OpenBLAS kernels: %s (%s)%s", core ? core : "Unknown", why, advice);
    return line;
}
