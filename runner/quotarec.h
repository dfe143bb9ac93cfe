/* quotarec: one model's shared request budget as the quota directory stores it (quota.h), and
 * the Pacific day per-day quotas are counted in.
 *
 * A record is a JSON object padded with spaces to exactly QUOTAREC_SIZE bytes and ending in a
 * newline, so it is rewritten in place with one pwrite(2) under the record's lock (a process
 * killed mid-update cannot leave half of it: the write either happened or not) and `cat` shows
 * it. A record that does not parse (a torn write after a power cut) is started afresh: the
 * pacing state is seconds old anyway, and a lost learned limit is learned again by one 429.
 *
 * Times are wall-clock milliseconds since the epoch: processes on several machines share the
 * record, so their clocks must agree (NTP), as they must for anything on a shared
 * filesystem. */
#ifndef GF_QUOTAREC_H
#define GF_QUOTAREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUOTAREC_SIZE 4096
/* The last minute is counted in this many buckets of minute/QUOTAREC_WIN each. */
#define QUOTAREC_WIN 60

/* What a QuotaFailure violation limits: requests or tokens, per minute or per day. */
enum quota_kind {
    QK_RPM, /* requests per minute: paced to */
    QK_RPD, /* requests per day: counted, and waited for when used up */
    QK_TPM, /* tokens per minute: kept and shown; the 429's RetryInfo pauses the model */
    QK_TPD, /* tokens per day: kept and shown; a 429 with it ends the model's day */
    QK_N,
};

/* A limit the server stated in a 429 (QuotaFailure violation), and where it came from. */
struct quota_limit {
    double value; /* quotaValue; 0 = none learned */
    char quota_id[96];
    char metric[128];
    char learned_at[32]; /* RFC 3339, UTC */
    char source[200];    /* which call got the 429: "JOB STAGE/ITEM" */
    int64_t retry_ms;    /* its RetryInfo delay, -1 when none */
};

struct quota_rec {
    char model[128];
    int64_t tat_ms;          /* the next request may start at or after this (pacing) */
    int64_t paused_until_ms; /* a 429's RetryInfo: no request of the model before this */
    char day[11];            /* the Pacific date day_count is for, "2026-12-04" */
    int64_t day_count;       /* requests started that day by every process */
    bool day_used_up;        /* a per-day 429 came that day: nothing more until the reset */
    int64_t win_start_ms;    /* start of the bucket win[0] */
    int32_t win[QUOTAREC_WIN];
    int64_t total;    /* requests counted since the record was made */
    int64_t n_429;    /* 429s reported to the record */
    char updated[32]; /* RFC 3339 of the last change */
    int64_t updated_ms;
    struct quota_limit limits[QK_N];
};

/* A fresh record of `model` (nothing learned, nothing counted). */
void quotarec_init(struct quota_rec *r, const char *model);
/* Parse a stored record; -1 when it is not one (the caller starts afresh). */
int quotarec_parse(const char *text, size_t len, struct quota_rec *r);
/* The record as QUOTAREC_SIZE bytes (JSON, spaces, a final newline). */
void quotarec_format(const struct quota_rec *r, char out[QUOTAREC_SIZE]);

/* Move the day to today's Pacific date (a new day starts at 0, used_up cleared). */
void quotarec_roll_day(struct quota_rec *r, int64_t now_ms);
/* One request started at now_ms: the minute's buckets, the day and the total. */
void quotarec_count(struct quota_rec *r, int64_t now_ms, int64_t minute_ms);
/* Requests started in the last minute (to a bucket's precision). */
int64_t quotarec_last_minute(const struct quota_rec *r, int64_t now_ms, int64_t minute_ms);

/* What a violation limits, from its quotaId ("...RequestsPerMinute...", "...TokensPerDay...")
 * and metric ("..._requests", "..._token_count"); -1 when neither says. */
int quota_kind_of(const char *quota_id, const char *metric);
/* "rpm", "rpd", "tpm", "tpd". */
const char *quota_kind_name(enum quota_kind k);

/* The Pacific (America/Los_Angeles, US daylight saving rules) date of an instant, and the
 * instant of the next Pacific midnight, when per-day quotas reset. */
void quota_pacific_day(int64_t epoch_ms, char day[11], int64_t *next_reset_ms);
/* Wall-clock milliseconds since the epoch. */
int64_t quota_wall_ms(void);
/* RFC 3339 UTC with milliseconds of an epoch ms (out >= 32 bytes). */
void quota_rfc3339(int64_t epoch_ms, char *out, size_t n);

#endif
