/* textout: small helpers for the human-readable output of the inspection commands (status, log,
 * inspect, accept): whether to colour, colour codes, how times, durations and ages read, and
 * the one sanitizer for text that did not come from gemflow itself. */
#ifndef GF_TEXTOUT_H
#define GF_TEXTOUT_H

#include "buf.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum tx_color_mode {
    TX_COLOR_AUTO,   /* colour when the stream is a terminal and $NO_COLOR is unset or empty */
    TX_COLOR_ALWAYS, /* --color=always */
    TX_COLOR_NEVER,  /* --color=never */
};

/* Parse a --color value (auto, always, never); returns 0, or -1 when it is none of them. */
int tx_color_parse(const char *s, enum tx_color_mode *mode);
/* The colour options as `gemflow run` takes them: --color (always), --color=WHEN, --color WHEN
 * (WHEN auto, always or never) and --no-color. Call from a getopt_long loop right after it
 * returned one of them, with `no_color` telling which and `optarg` as getopt left it; may take
 * the next argument (advancing optind). Returns 0, or -1 for a bad WHEN. */
int tx_color_option(bool no_color, const char *arg, int argc, char **argv,
                    enum tx_color_mode *mode);
/* Whether to colour what goes to `f` (an explicit mode wins over the terminal and NO_COLOR). */
bool tx_use_color(FILE *f, enum tx_color_mode mode);

/* SGR sequences; pass them through tx_c() so that they vanish when colour is off. */
#define TX_RESET  "\033[0m"
#define TX_BOLD   "\033[1m"
#define TX_DIM    "\033[2m"
#define TX_RED    "\033[31m"
#define TX_GREEN  "\033[32m"
#define TX_YELLOW "\033[33m"
#define TX_BLUE   "\033[34m"
#define TX_CYAN   "\033[36m"
/* `sgr` when colour is on, else "". */
const char *tx_c(bool color, const char *sgr);
/* The colour of a job, stage or item state word ("done", "failed", "running", ...). */
const char *tx_state_sgr(const char *state);

/* Text that came from a model, the API or a file, made harmless on a terminal: every C0
 * control character except '\n' and '\t' (ESC, BEL, CR, ...), DEL, every C1 control
 * (U+0080..U+009F, such as the one-character CSI U+009B) and every byte that is not part of
 * valid UTF-8 (overlong forms and surrogates included) becomes TX_SUBSTITUTE, one per character
 * or stray byte. Everything else, the rest of Unicode included, is kept. */
#define TX_SUBSTITUTE '?'
/* Append `s`, sanitized, to `out`. */
void tx_sanitize(struct buf *out, const char *s);
/* The same for one line of a display: '\n' and '\t' become spaces too. */
void tx_sanitize_line(struct buf *out, const char *s);
/* Sanitize `s` in place (it never grows: each substitute replaces at least one byte). */
void tx_sanitize_inplace(char *s);
/* Sanitize every string of a JSON tree in place, member names included, before a command
 * prints it for people (not for --json / --raw output, which is data and escaped). */
void tx_sanitize_json(cJSON *j);
/* JSON text (`len` bytes) for --json / --raw output, made terminal-safe without changing what
 * it means: inside strings every control character (C0, DEL, C1) becomes its \u escape and a
 * byte that is not valid UTF-8 becomes \ufffd; outside strings a tab or carriage return
 * becomes a space. Text without any of those is copied unchanged. Appended to `out`. */
void tx_json_safe(struct buf *out, const char *json, size_t len);
/* fputs of `s` sanitized. */
void tx_fputs(const char *s, FILE *f);

/* Parse an RFC 3339 UTC timestamp as gemflow writes it ("2026-11-25T12:00:00.123Z", the
 * fraction optional) into milliseconds since the epoch. Returns 0, or -1 when malformed. */
int tx_parse_ts(const char *ts, int64_t *epoch_ms);
/* Milliseconds since the epoch, now. */
int64_t tx_now_epoch_ms(void);
/* Local time "13:11:41.411" (with_date: "2026-11-25 13:11:41"). */
void tx_local_time(char *out, size_t n, int64_t epoch_ms, bool with_date);
/* A duration for people: "46 ms", "4.8s", "3m12s", "2h05m". */
void tx_duration(char *out, size_t n, int64_t ms);
/* An age for people: "just now", "12s ago", "3m ago", "2h ago", "4d ago". */
void tx_age(char *out, size_t n, int64_t seconds);

#endif
