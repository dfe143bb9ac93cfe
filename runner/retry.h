/* retry: which failures of a call are retried, and after how long.
 *
 * Retried: HTTP 408, 429 (unless the quota is per day), 500, 502, 503, 504, transport errors
 * and timeouts, truncated or unparseable 2xx bodies, corrupt media in a 2xx reply. Not retried:
 * 400, 401, 403, 404 and any other status, blocked prompts, safety finishes, a reply without the
 * asked-for image/audio. Delay: the server's RetryInfo.retryDelay, else Retry-After, else
 * exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]. */
#ifndef GF_RETRY_H
#define GF_RETRY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* "26s", "1.5s", "57.238747106s", "0.5s", "3s " -> milliseconds (rounded up); -1 if invalid.
 * A protobuf Duration string: decimal seconds followed by 's'. */
int64_t retry_parse_duration(const char *s);
/* Retry-After header value: delta-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2026 07:28:00
 * GMT") relative to `now`. Returns ms (>= 0), or -1 if invalid. */
int64_t retry_parse_retry_after(const char *value, time_t now);
/* Full-jitter backoff for the given attempt (1 = the first retry). `rng` is the state of a
 * small PRNG (xorshift64*), seeded by the caller; it must not be 0. */
int64_t retry_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint64_t *rng);
/* Whether an HTTP status is retryable on its own (408, 429, 500, 502, 503, 504). */
bool retry_status_is_retryable(int http_status);

#endif
