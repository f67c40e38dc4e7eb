/* stop_signal.c: see stop_signal.h. */
#include "stop_signal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t requests = 0;
static volatile sig_atomic_t first_signal = 0;

static void on_signal(int sig)
{
    if (requests > 0) {
        /* The second request: abort now with the default action. */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    requests = 1;
    first_signal = sig;
    static const char msg[] = "alexnet-train: stop requested: finishing this step and writing a checkpoint "
                              "(signal again to abort)\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
}

an_status stop_signal_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return error_set(AN_ERR_INTERNAL, "cannot install signal handlers: %s", strerror(errno));
    return AN_OK;
}

int stop_signal_requested(void) { return requests > 0; }
int stop_signal_number(void) { return first_signal; }
