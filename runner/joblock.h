/* joblock: one process runs a job at a time. `.gemflow/lock` is held with flock(2) for the whole
 * run and holds the owner's host name and pid ("HOST PID\n"; a lone "PID\n" from older
 * versions is read too) for the message a second process prints and for `gemflow status`. The
 * kernel drops the lock when the owner dies, so a stale lock from a killed process is simply
 * taken over; on NFS the server drops it when the client's lease ends (a lost machine). */
#ifndef GF_JOBLOCK_H
#define GF_JOBLOCK_H

#include "err.h"

/* Take the lock of `job_dir` (creating .gemflow/). Returns the lock fd, or -1 with err:
 * GF_ERR_LOCKED "job 'x' is locked by another gemflow process (pid 1234)", or GF_ERR_IO. */
int joblock_acquire(const char *job_dir, struct gf_err *err);
/* Release and close; the file stays (removing it would race with a new owner). */
void joblock_release(int fd);
/* The pid of the process holding the job's lock, or 0 when none; `host` (n bytes, may be NULL)
 * gets the host it runs on. A lock of this host is looked up in /proc/locks; one that the lock
 * file says another host holds (a shared filesystem, where flock is carried as a byte-range
 * lock) is tested with F_OFD_GETLK. Neither takes the lock (a look must not make a starting run
 * fail). */
long joblock_holder(const char *job_dir, char *host, size_t n);

#endif
