/* fault_point.h: named places where the fault suite (tests/faults) kills a
 * program, chosen by count rather than by time (docs/RELIABILITY.md).
 *
 * Every durable write passes several points (temporary file written, synced,
 * renamed, directory synced), and so does every training step and every
 * scored batch. With ALEXNET_KILL_AT=N in the environment, the N-th point a
 * process reaches (1-based, all threads together) sends the process SIGKILL:
 * the same as `kill -9` at that instant (several processes, as under
 * mpirun, each count their own). With ALEXNET_FAULT_LOG=FILE every point
 * reached is appended to FILE as "PID NAME", so a test can count them first. Without either variable a point costs one relaxed load. */
#ifndef ALEXNET_FAULT_POINT_H
#define ALEXNET_FAULT_POINT_H

void fault_point(const char *name);

#endif
