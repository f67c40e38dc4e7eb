/* device.h: which backend trains (--device auto|cpu|cuda).
 *
 * auto (the default): CUDA when this build has it and a device is present,
 * otherwise the CPU, said once in the log. cpu: the CPU. cuda: CUDA or an
 * error (this build has no CUDA backend, or no device was found): asking for
 * a GPU explicitly never silently trains on the CPU.
 */
#ifndef ALEXNET_DEVICE_H
#define ALEXNET_DEVICE_H

#include "status.h"

typedef enum train_device { DEVICE_AUTO = 0, DEVICE_CPU = 1, DEVICE_CUDA = 2 } train_device;

an_status device_parse(const char *text, train_device *out);
const char *device_name(train_device d);

/* Resolves auto, checks cuda is available, and sets *chosen to CPU or CUDA. */
an_status device_resolve(train_device requested, train_device *chosen);

#endif
