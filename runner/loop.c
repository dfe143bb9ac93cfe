/* loop: file descriptors and curl transfers in one wait (see loop.h). */
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#define LOOP_SIGNALS 65 /* signal numbers 1..64 */

/* The self-pipe is the process's: a signal handler cannot know which loop it belongs to. */
static int sig_pipe[2] = {-1, -1};

static void on_signal(int signo)
{
    int saved = errno;
    if (sig_pipe[1] >= 0) {
        unsigned char c = (unsigned char)signo;
        ssize_t n = write(sig_pipe[1], &c, 1);
        (void)n; /* a full pipe: that signal is already pending there */
    }
    errno = saved;
}

struct sig_watch {
    loop_signal_fn fn;
    void *ctx;
    struct sigaction old;
    bool set;
};

struct watch {
    int fd;
    loop_fd_fn fn;
    void *ctx;
};

struct loop {
    struct http_client *http;
    struct watch *w;
    size_t n, cap;
    int *fds;
    short *revents;
    size_t cap_fds;
    bool hold_http; /* wait on the fds only: leave replies in the kernel for now */
    struct sig_watch sig[LOOP_SIGNALS];
    int n_sig;
};

struct loop *loop_new(struct http_client *http)
{
    struct loop *l = xcalloc(1, sizeof *l);
    l->http = http;
    return l;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    for (int s = 1; s < LOOP_SIGNALS; s++)
        loop_off_signal(l, s);
    free(l->w);
    free(l->fds);
    free(l->revents);
    free(l);
}

void loop_hold_http(struct loop *l, bool hold)
{
    l->hold_http = hold;
}

void loop_add_fd(struct loop *l, int fd, loop_fd_fn fn, void *ctx)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->w[i].fd == fd) {
            l->w[i].fn = fn;
            l->w[i].ctx = ctx;
            return;
        }
    }
    struct watch *w = VEC_PUSH(l->w, l->n, l->cap);
    w->fd = fd;
    w->fn = fn;
    w->ctx = ctx;
}

void loop_remove_fd(struct loop *l, int fd)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->w[i].fd == fd) {
            l->w[i] = l->w[--l->n];
            return;
        }
    }
}

static void read_signals(void *ctx, int fd)
{
    struct loop *l = ctx;
    unsigned char buf[64];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            int s = buf[i];
            if (s > 0 && s < LOOP_SIGNALS && l->sig[s].fn)
                l->sig[s].fn(l->sig[s].ctx, s);
        }
    }
}

int loop_on_signal(struct loop *l, int signo, loop_signal_fn fn, void *ctx)
{
    if (signo <= 0 || signo >= LOOP_SIGNALS)
        return -1;
    if (sig_pipe[0] < 0 && pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return -1;
    struct sig_watch *w = &l->sig[signo];
    w->fn = fn;
    w->ctx = ctx;
    if (!w->set) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(signo, &sa, &w->old);
        w->set = true;
        if (l->n_sig++ == 0) {
            signal(SIGPIPE, SIG_IGN);
            loop_add_fd(l, sig_pipe[0], read_signals, l);
        }
    }
    return 0;
}

void loop_off_signal(struct loop *l, int signo)
{
    if (signo <= 0 || signo >= LOOP_SIGNALS || !l->sig[signo].set)
        return;
    struct sig_watch *w = &l->sig[signo];
    sigaction(signo, &w->old, NULL);
    memset(w, 0, sizeof *w);
    if (--l->n_sig == 0)
        loop_remove_fd(l, sig_pipe[0]);
}

int loop_wait(struct loop *l, int timeout_ms, struct gf_err *err)
{
    size_t n = l->n;
    if (n > l->cap_fds) {
        l->fds = xrealloc(l->fds, n * sizeof *l->fds);
        l->revents = xrealloc(l->revents, n * sizeof *l->revents);
        l->cap_fds = n;
    }
    for (size_t i = 0; i < n; i++)
        l->fds[i] = l->w[i].fd;
    if (!l->hold_http && http_wait(l->http, timeout_ms, l->fds, l->revents, (unsigned)n, err) < 0)
        return -1;
    /* Held: wait here on the fds alone. Otherwise libcurl has waited, but it reports only
     * POLLIN for extra fds, not a hang-up (a child's pipe at EOF): ask poll(2) itself which fds
     * are ready, without waiting. */
    struct pollfd stack[16];
    struct pollfd *p = n <= 16 ? stack : xcalloc(n, sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = (struct pollfd){.fd = l->fds[i], .events = POLLIN};
    int wait = l->hold_http ? (timeout_ms < 0 ? 0 : timeout_ms) : 0;
    if ((n || wait) && poll(p, n, wait) < 0)
        memset(p, 0, n * sizeof *p); /* EINTR: a signal; its pipe is read next time */
    for (size_t i = 0; i < n; i++)
        l->revents[i] = p[i].revents;
    if (p != stack)
        free(p);
    /* Callbacks may add or remove watches: look each ready fd up again before calling. */
    for (size_t i = 0; i < n; i++) {
        if (!l->revents[i])
            continue;
        int fd = l->fds[i];
        for (size_t k = 0; k < l->n; k++) {
            if (l->w[k].fd == fd) {
                l->w[k].fn(l->w[k].ctx, fd);
                break;
            }
        }
    }
    return 0;
}
