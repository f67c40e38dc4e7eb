/* without_locks.c: runs a command on which every file lock fails the way it
 * fails on a file system without locks: `without_locks ENOSYS|ENOLCK COMMAND
 * [ARG...]`. A seccomp filter (inherited by the command and its children)
 * makes the kernel answer flock() and fcntl()'s lock commands with that
 * error; nothing else changes, so the real HDF5 library meets the real
 * failure. ENOSYS is what a file system without lock support answers (Lustre
 * mounted without flock, some FUSE and 9p mounts); ENOLCK what NFS answers
 * when no lock manager runs. Exit status 77 where seccomp is unavailable (the
 * test is then skipped). Used by tests/faults/test_faults_locks.sh. */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define THIS_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define THIS_ARCH AUDIT_ARCH_AARCH64
#else
#define THIS_ARCH 0
#endif

#define EXIT_SKIP 77

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: without_locks ENOSYS|ENOLCK COMMAND [ARG...]\n");
        return 2;
    }
    unsigned error;
    if (strcmp(argv[1], "ENOSYS") == 0) error = ENOSYS;
    else if (strcmp(argv[1], "ENOLCK") == 0) error = ENOLCK;
    else {
        fprintf(stderr, "without_locks: the error must be ENOSYS or ENOLCK, not '%s'\n", argv[1]);
        return 2;
    }
    if (THIS_ARCH == 0) {
        fprintf(stderr, "without_locks: no seccomp filter written for this architecture\n");
        return EXIT_SKIP;
    }
    const unsigned fail = SECCOMP_RET_ERRNO | (error & SECCOMP_RET_DATA);
    struct sock_filter filter[] = {
        /* Another architecture's system call numbers mean other calls: let them be. */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_flock, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, fail),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fcntl, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* fcntl: only the lock commands fail. */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_SETLK, 4, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_SETLKW, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_OFD_SETLK, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_OFD_SETLKW, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, fail),
    };
    struct sock_fprog program = {.len = sizeof filter / sizeof filter[0], .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
        fprintf(stderr, "without_locks: cannot install the seccomp filter: %s\n", strerror(errno));
        return EXIT_SKIP;
    }
    execvp(argv[2], argv + 2);
    fprintf(stderr, "without_locks: cannot run %s: %s\n", argv[2], strerror(errno));
    return 127;
}
