/* loop: file descriptors and curl transfers in one wait (see loop.h). */
#include "loop.h"
#include "util.h"

#include <poll.h>
#include <stdbool.h>
#include <string.h>

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
