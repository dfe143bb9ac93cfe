/* workpool: worker threads for pure work, completions back on the loop (see workpool.h). */
#include "workpool.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct task {
    void (*work)(void *ctx);
    void (*done)(void *ctx);
    void *ctx;
    struct task *next;
};

/* A FIFO of tasks: head is taken first. */
struct queue {
    struct task *head, *tail;
};

struct workpool {
    struct loop *loop;
    int wake_fd; /* eventfd: the loop's thread is told that `finished` holds tasks */
    pthread_mutex_t mu;
    pthread_cond_t more; /* `todo` got a task, or the pool is stopping */
    struct queue todo, finished;
    bool stopping;
    size_t pending; /* submitted, `done` not yet run (loop thread only) */
    pthread_t *threads;
    int n_threads;
};

static void push(struct queue *q, struct task *t)
{
    t->next = NULL;
    if (q->tail)
        q->tail->next = t;
    else
        q->head = t;
    q->tail = t;
}

static struct task *pop(struct queue *q)
{
    struct task *t = q->head;
    if (t) {
        q->head = t->next;
        if (!q->head)
            q->tail = NULL;
    }
    return t;
}

static void *worker(void *arg)
{
    struct workpool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        struct task *t = pop(&p->todo);
        if (!t) {
            if (p->stopping)
                break;
            pthread_cond_wait(&p->more, &p->mu);
            continue;
        }
        pthread_mutex_unlock(&p->mu);
        t->work(t->ctx);
        pthread_mutex_lock(&p->mu);
        push(&p->finished, t);
        uint64_t one = 1;
        /* cannot fail short of a full counter (2^64 - 2 wake-ups) */
        (void)!write(p->wake_fd, &one, sizeof one);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* On the loop's thread: run the completions of the tasks the workers have finished. */
static void run_finished(struct workpool *p)
{
    pthread_mutex_lock(&p->mu);
    struct queue ready = p->finished;
    p->finished.head = p->finished.tail = NULL;
    pthread_mutex_unlock(&p->mu);
    struct task *t;
    while ((t = pop(&ready))) {
        p->pending--;
        t->done(t->ctx);
        free(t);
    }
}

static void on_wake(void *ctx, int fd)
{
    uint64_t n;
    while (read(fd, &n, sizeof n) < 0 && errno == EINTR)
        ;
    run_finished(ctx);
}

struct workpool *workpool_new(struct loop *l, int threads, struct gf_err *err)
{
    struct workpool *p = xcalloc(1, sizeof *p);
    p->loop = l;
    p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (p->wake_fd < 0) {
        gf_error_errno(err, GF_ERR_IO, "cannot create an eventfd for the worker threads");
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->more, NULL);
    if (threads < 1)
        threads = 1;
    p->threads = xcalloc((size_t)threads, sizeof *p->threads);
    for (; p->n_threads < threads; p->n_threads++) {
        int rc = pthread_create(&p->threads[p->n_threads], NULL, worker, p);
        if (rc != 0) {
            errno = rc;
            gf_error_errno(err, GF_ERR_IO, "cannot start a worker thread");
            workpool_free(p);
            return NULL;
        }
    }
    loop_add_fd(l, p->wake_fd, on_wake, p);
    return p;
}

void workpool_submit(struct workpool *p, void (*work)(void *ctx), void (*done)(void *ctx),
                     void *ctx)
{
    struct task *t = xmalloc(sizeof *t);
    t->work = work;
    t->done = done;
    t->ctx = ctx;
    p->pending++;
    pthread_mutex_lock(&p->mu);
    push(&p->todo, t);
    pthread_cond_signal(&p->more);
    pthread_mutex_unlock(&p->mu);
}

size_t workpool_pending(const struct workpool *p)
{
    return p->pending;
}

void workpool_free(struct workpool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true; /* workers finish the queue first: a task is never dropped */
    pthread_cond_broadcast(&p->more);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    run_finished(p);
    if (p->loop)
        loop_remove_fd(p->loop, p->wake_fd);
    close(p->wake_fd);
    pthread_cond_destroy(&p->more);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}

bool workpool_busy(const struct workpool *p)
{
    return p->pending >= (size_t)p->n_threads;
}

int workpool_threads_wanted(void)
{
    const char *v = getenv("GEMFLOW_CHECK_THREADS");
    if (v && *v) {
        char *end;
        long n = strtol(v, &end, 10);
        if (!*end && n >= 0 && n <= 16)
            return (int)n;
        static bool warned;
        if (!warned)
            fprintf(stderr,
                    "gemflow: GEMFLOW_CHECK_THREADS='%s' is not a number from 0 to 16; "
                    "using the default\n",
                    v);
        warned = true;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 4 ? 4 : (int)n;
}
