/* stop_signal.h: SIGINT and SIGTERM as a request to stop cleanly. The first
 * signal sets a flag that the training loop reads after each step (it then
 * checkpoints and exits 0); a second signal restores the default action and
 * re-raises it, which aborts at once. */
#ifndef ALEXNET_STOP_SIGNAL_H
#define ALEXNET_STOP_SIGNAL_H

#include "status.h"

an_status stop_signal_install(void);
/* 1 once a stop was requested. */
int stop_signal_requested(void);
/* The signal number of the first request (for the message). */
int stop_signal_number(void);

#endif
