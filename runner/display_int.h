/* display_int: what display.c (notes, events, frames, signals) and display_draw.c (the text of
 * the bar lines) share. Not for other modules. */
#ifndef GF_DISPLAY_INT_H
#define GF_DISPLAY_INT_H

#include "buf.h"
#include "display.h"
#include "progress.h"

#include <stddef.h>
#include <stdint.h>

/* SGR colours */
#define DC_DIM   "2"
#define DC_BOLD  "1"
#define DC_RED   "31"
#define DC_GREEN "32"
#define DC_YEL   "33"
#define DC_CYAN  "36"

/* A job on the display, from its first event to run_end. */
struct djob {
    const struct job *job; /* borrowed: valid until its run_end event */
    int64_t *stage_ms;     /* per stage: how long it took (stage_done/failed), -1 before */
};

struct display {
    struct display_opts o;
    bool live, color, utf8;
    struct djob *jobs;
    size_t n_jobs, cap_jobs;
    struct buf pending; /* live: lines to print above the bars at the next frame */
    size_t *drawn_w;    /* live: visible width of each bar line now on screen */
    size_t n_drawn, cap_drawn;
    int64_t last_frame; /* monotonic ms of the last frame */
    bool framed;        /* a frame was drawn (last_frame is set) */
    bool dirty;         /* something changed since the last frame */
    bool cursor_hidden;
    struct progress prog; /* scratch */
    struct loop *loop;    /* display_watch_signals */
    char *ended_job;      /* the job whose run_end came last, and its state: colours the */
    char ended_state[16]; /* final line that follows it */
};

/* One line being built, with its visible width (escape sequences and UTF-8 continuation bytes
 * do not count). */
struct dline {
    struct buf b;
    size_t w;
};

/* Append text, in colour `sgr` when colours are on and sgr is not NULL. Control characters of
 * the text are not passed on (tx_sanitize_line: newlines and tabs become spaces, the others
 * and invalid UTF-8 TX_SUBSTITUTE). */
void dline_add(const struct display *d, struct dline *l, const char *sgr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Cut a line to `cols` visible columns. */
void dline_fit(const struct display *d, struct dline *l, size_t cols);
/* Columns that `s` takes on a terminal (1 per code point; escape sequences take none). */
size_t display_width(const char *s, size_t len);

struct dlines {
    struct dline *v;
    size_t n, cap;
};
void dlines_release(struct dlines *ls);

/* The bar lines of one job (a header, then one per stage), each cut to `cols` columns, pushed
 * to `out`. `end_state`/`end_ms`: the run_end figures when freezing a finished job, else
 * NULL/0. */
void display_draw_job(struct display *d, const struct djob *dj, int64_t now, size_t cols,
                      const char *end_state, int64_t end_ms, struct dlines *out);

#endif
