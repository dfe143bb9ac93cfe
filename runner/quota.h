/* quota: the quota directory, where every gemflow process on one API key shares the request
 * budget of each model, and keeps the limits the server stated in its 429s.
 *
 *   DIR/FP/key.json        {"fingerprint", "origin"}: which key and endpoint FP stands for
 *   DIR/FP/MODEL.quota     the model's record (quotarec.h), locked while it is read and updated
 *   DIR/.lockprobe.XXXXXX  a file of one process's own that quota_open checks locking with
 *                          (removed after the check)
 *
 * FP is the key fingerprint: the first 16 hex digits of SHA-256("gemflow quota v1", NUL, key,
 * NUL, endpoint origin). The key itself is never written; the origin is part of it because a
 * quota belongs to a key at one API (a test server must not teach the real API's limits).
 *
 * Locks are fcntl open-file-description locks (F_OFD_SETLK) on the whole record: the kernel
 * drops them when the holder dies, so a killed process cannot wedge the others, and NFS (v4,
 * and v3 through lockd) and Lustre (mounted -o flock) carry them to the server, so machines
 * that share DIR share the budget. Taking one also makes an NFS client revalidate what it
 * cached of the file, and releasing it writes the update back. A lock is only ever held for
 * one read and one write; a holder that does not let go (a stopped process) makes the others
 * wait a few ms and try again at their next turn, never block.
 *
 * Calling sequence: quota_open once (it checks that locks work in DIR: exit 2 when not), then
 * quota_bucket per (fingerprint, model) as calls need them, quota_take before every request,
 * quota_learn after every 429. Nothing is created or touched before the first quota_open, so
 * a run that calls nothing never touches the directory. */
#ifndef GF_QUOTA_H
#define GF_QUOTA_H

#include "err.h"
#include "quotarec.h"

#include <stdint.h>

#define QUOTA_FP_LEN 16
/* An advised pause longer than this is not believed (a clock far off, a hostile record). */
#define QUOTA_PAUSE_MAX_MS (10 * 60 * 1000)

struct quota;
struct quota_bucket;
struct gemini_error;

/* The quota directory when no --quota-dir is given: $GEMFLOW_QUOTA_DIR, else
 * $XDG_STATE_HOME/gemflow/quota, else $HOME/.local/state/gemflow/quota. Returns a new string
 * (caller frees), or NULL with err when none can be made (no HOME). */
char *quota_dir_default(struct gf_err *err);
/* The length of a "minute" of per-minute limits: 60000, or $GEMFLOW_MINUTE_MS for tests and
 * benchmarks that scale time down as the fake server's --minute-ms does. */
int64_t quota_minute_ms(void);
/* The fingerprint of a key at an origin (see above); out gets QUOTA_FP_LEN hex digits. */
void quota_fingerprint(const char *api_key, const char *origin, char out[QUOTA_FP_LEN + 1]);

/* Create DIR if needed (mode 0700) and check that its locks work: the lock taken on one open
 * file description must make a second one wait. Returns NULL with err (GF_ERR_CONFIG) when
 * locks fail or are a silent no-op there. quota_warning says when they are known to hold on
 * this machine only (NFS local_lock, Lustre localflock, CIFS nobrl, sshfs). */
struct quota *quota_open(const char *dir, struct gf_err *err);
const char *quota_dir(const struct quota *q);
/* NULL, or why other machines sharing DIR would not see this machine's locks. */
const char *quota_warning(const struct quota *q);
/* Closes every bucket's file (their locks are never held between calls). NULL is a no-op. */
void quota_close(struct quota *q);

/* The record of `model` under fingerprint fp (origin is written to key.json once); opened on
 * first use, then kept. Borrowed: it lives as long as q. */
struct quota_bucket *quota_bucket(struct quota *q, const char *fp, const char *origin,
                                  const char *model, struct gf_err *err);

enum quota_answer {
    QUOTA_GO,       /* counted: the request may start now */
    QUOTA_LATER,    /* not now: ask again at at_ms (pacing, a 429's pause, a busy lock) */
    QUOTA_DAY_USED, /* today's requests are used up: nothing before reset_ms */
};

struct quota_verdict {
    int64_t at_ms;    /* QUOTA_LATER: when to ask again (wall clock) */
    int64_t reset_ms; /* the next Pacific midnight */
    int64_t day_count;
    double day_limit;  /* learned requests per day, 0 when none */
    double rpm;        /* the requests per minute paced to, 0 when none */
    const char *why;   /* QUOTA_LATER/DAY_USED: "pacing", "paused", "busy", "day" (static) */
    bool fresh_record; /* the stored record did not parse and was started afresh */
};

/* Before a request of the bucket's model at wall-clock now_ms: whether it may start, counting
 * it when it may. own_rpm is this process's own limit (limits.rpm; 0 none); the stricter of it
 * and a learned per-minute limit is paced to, one request every minute/R * 1.02 (the 2 %
 * margin covers the time between the start here and the arrival there; a start late by up to
 * 1 % of a minute is caught up). Returns an enum quota_answer, or -1 with err (I/O). */
int quota_take(struct quota_bucket *b, int64_t now_ms, double own_rpm, struct quota_verdict *v,
               struct gf_err *err);

/* What quota_learn took from a 429. */
struct quota_learned {
    unsigned kinds;     /* 1 << enum quota_kind of each limit new to the record (value > 0) */
    double value[QK_N]; /* the values learned */
    bool day_used_up;   /* a per-day violation: the model's day is over */
    int64_t paused_until_ms;
};

/* A 429 of the bucket's model: its QuotaFailure limits are kept (with `source`, which call got
 * it, and when), a per-day violation ends the model's day, and its RetryInfo pauses the model
 * for every process. Durable (fdatasync): the next start paces to it. Returns 0 or -1 with
 * err. */
int quota_learn(struct quota_bucket *b, int64_t now_ms, const struct gemini_error *ge,
                const char *source, struct quota_learned *out, struct gf_err *err);

/* The bucket's record as it is now (under a shared lock), day rolled to today. */
int quota_peek(struct quota_bucket *b, int64_t now_ms, struct quota_rec *out, struct gf_err *err);

/* Read a record file read-only (gemflow quota): 0 with *out, -1 with err. Creates nothing. */
int quota_read_file(const char *path, struct quota_rec *out, struct gf_err *err);

#endif
