/* util: allocation that dies on exhaustion, small string helpers, clocks. */
#ifndef GF_UTIL_H
#define GF_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Print "gemflow: fatal: ..." and abort; only for broken invariants and out-of-memory. */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Grow an array `*v` of `*cap` elements of `size` bytes to hold at least `need`. */
void xgrow(void *v, size_t *cap, size_t need, size_t size);
#define VEC_PUSH(v, n, cap) (xgrow(&(v), &(cap), (n) + 1, sizeof(*(v))), &(v)[(n)++])

bool str_starts_with(const char *s, const char *prefix);
bool str_ends_with(const char *s, const char *suffix);

/* Monotonic milliseconds, for timers and latencies. */
int64_t now_ms(void);
/* Wall clock in RFC 3339 with milliseconds, UTC: "2026-11-25T12:00:00.123Z" (out >= 32 bytes). */
void now_rfc3339(char *out, size_t n);
/* Wall-clock milliseconds since the epoch (for ages shown to people: "rendering, 2m10s"). */
int64_t wall_ms(void);
/* An RFC 3339 UTC time as now_rfc3339 writes it, in wall-clock milliseconds; -1 when it is not
 * one. */
int64_t rfc3339_ms(const char *s);

/* A duration: digits with an optional fraction, then "ms", "s", "m", "h" or nothing (seconds):
 * "30s", "1.5s", "500ms", "2m". Returns 0 with *out_ms, or -1 when it is not one. */
int parse_duration_ms(const char *s, int64_t *out_ms);

#endif
