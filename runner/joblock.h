/* joblock: one process runs a job at a time. `.gemflow/lock` is held with flock(2) for the whole
 * run and holds the owner's pid for the message a second process prints. The kernel drops the
 * lock when the owner dies, so a stale lock from a killed process is simply taken over. */
#ifndef GF_JOBLOCK_H
#define GF_JOBLOCK_H

#include "err.h"

/* Take the lock of `job_dir` (creating .gemflow/). Returns the lock fd, or -1 with err:
 * GF_ERR_LOCKED "job 'x' is locked by another gemflow process (pid 1234)", or GF_ERR_IO. */
int joblock_acquire(const char *job_dir, struct gf_err *err);
/* Release and close; the file stays (removing it would race with a new owner). */
void joblock_release(int fd);
/* The pid of the process holding the job's lock, or 0 when none. Reads /proc/locks, so it
 * never takes the lock itself (a look must not make a starting run fail). */
long joblock_holder(const char *job_dir);

#endif
