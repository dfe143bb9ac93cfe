/* display: the one place that decides what a running gemflow prints on stderr. On a terminal,
 * live bars (a line per job and per stage: bar, items done/total, calls in flight, retries,
 * ETA, or "waiting for quota until 09:00 CEST" while a stage waits for a per-day quota's reset
 * instead of the ETA), redrawn at most 10 times a second in place, with the engine's notes
 * scrolling above them. Elsewhere, plain timestamped lines, one per event worth reading. The
 * figures come from progress.c, so they equal the `progress` events of progress.jsonl.
 *
 * Calling sequence (gemflow run; watch drives display_event/display_tick from its own hooks):
 *   struct display *d = display_new(&(struct display_opts){.fd = 2, .verbosity = v});
 *   struct engine_hooks h = {0};
 *   display_hooks(d, &h);                      // event + tick
 *   engine_set_hooks(e, &h);
 *   display_watch_signals(d, engine_loop(e));  // redraw at once on SIGWINCH / SIGCONT
 *   ... engine_add_job, engine_run ...
 *   display_free(d);                           // before engine_free: it leaves the loop
 *
 * While a display exists it is the process's display: engine_note() hands it its lines
 * (display_note). Verbosity: -1 only failures and the final line (no bars), 0 also stage and
 * retry lines, 1 also a line per call. The cursor is hidden while bars are on screen and shown
 * again when the display ends, at exit, and on SIGTSTP. */
#ifndef GF_DISPLAY_H
#define GF_DISPLAY_H

#include "textout.h"

#include "engine.h"
#include "job.h"
#include "loop.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

enum display_mode {
    DISPLAY_AUTO,  /* live when fd is a terminal and verbosity >= 0, else lines */
    DISPLAY_LIVE,  /* bars, even when fd is not a terminal (tests) */
    DISPLAY_LINES, /* plain lines */
};

struct display_opts {
    int fd;        /* where to write: STDERR_FILENO */
    int verbosity; /* -1 quiet, 0 normal, 1 verbose */
    enum display_mode mode;
    enum tx_color_mode color; /* the commands' one colour setting (textout.h); AUTO colours a
                                 terminal, and the live bars even off one, unless $NO_COLOR */
};

struct display;

/* A new display; it becomes the process's display until display_free. */
struct display *display_new(const struct display_opts *opts);
/* Print what is pending, leave the bars' final state on screen, show the cursor, leave the
 * loop; NULL is a no-op. */
void display_free(struct display *d);

/* Set the event and tick hooks of `h` (and h->ctx) to the display's. */
void display_hooks(struct display *d, struct engine_hooks *h);
/* The same, for a caller with hooks of its own: call from its event hook. */
void display_event(struct display *d, const struct job *job, const char *name, const cJSON *ev);
/* ...and from its tick hook: draws when due; returns the ms until it wants to run again. */
int64_t display_tick(struct display *d, int64_t now_ms);
/* Redraw at once when the terminal is resized or the process continued after a stop. */
void display_watch_signals(struct display *d, struct loop *loop);

/* Whether bars are drawn (a terminal, not quiet). */
bool display_is_live(const struct display *d);

/* A line about `job` (NULL: about gemflow) at `level` (-1, 0, 1: shown when level <= the
 * verbosity) on the process's display. Returns false when there is no display; the caller
 * prints it itself. */
bool display_note(const char *job, int level, const char *msg);

#endif
