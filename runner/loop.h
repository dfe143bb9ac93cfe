/* loop: the single-threaded event loop of a gemflow process. It waits on the HTTP client's
 * transfers (one curl multi handle) and on registered file descriptors (the signal pipe,
 * inotify, child-process pipes) at once, then runs their callbacks. Timers are the caller's:
 * pass the time until the next one as the wait's timeout. */
#ifndef GF_LOOP_H
#define GF_LOOP_H

#include "err.h"
#include "http.h"

#include <stdbool.h>

struct loop;

/* Called when fd is readable (or hung up / in error). */
typedef void (*loop_fd_fn)(void *ctx, int fd);
/* Called on the loop (not in the signal handler) once per delivery of a signal. */
typedef void (*loop_signal_fn)(void *ctx, int signo);

struct loop *loop_new(struct http_client *http);
void loop_free(struct loop *l);
/* Watch fd for reading; one callback per fd. */
void loop_add_fd(struct loop *l, int fd, loop_fd_fn fn, void *ctx);
/* Stop watching fd (safe from inside a callback). */
void loop_remove_fd(struct loop *l, int fd);
/* The process's one signal facility: from now on `signo` is caught by a handler that only
 * writes its number into a self-pipe (async-signal-safe), and `fn` runs on the loop when the
 * pipe is read. One callback per signal (a second call replaces it); SIGPIPE is ignored while
 * any is set. Returns 0, or -1 when the pipe cannot be made (the signal keeps its disposition).
 * loop_off_signal restores the disposition found before. */
int loop_on_signal(struct loop *l, int signo, loop_signal_fn fn, void *ctx);
void loop_off_signal(struct loop *l, int signo);
/* While held, loop_wait waits on the fds alone and leaves the transfers be: replies not read
 * yet stay in the kernel's socket buffers instead of this process's heap (backpressure while
 * the worker threads are all busy checking replies). */
void loop_hold_http(struct loop *l, bool hold);
/* Wait up to timeout_ms for a transfer to progress or a watched fd to become readable; run the
 * completions and callbacks that are due. */
int loop_wait(struct loop *l, int timeout_ms, struct gf_err *err);

#endif
