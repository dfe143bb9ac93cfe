/* test_workpool: work runs on a worker thread, its completion back on the loop's thread, once
 * each; nothing is dropped at free; the thread count comes from GEMFLOW_CHECK_THREADS. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "http.h"
#include "loop.h"
#include "util.h"
#include "workpool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_TASKS 64

struct task_state {
    pthread_t main_thread;
    pthread_t worked_on;
    int worked, done;
    bool done_on_main;
    unsigned long result; /* computed by work from input */
    unsigned long input;
};

static void work(void *ctx)
{
    struct task_state *t = ctx;
    t->worked_on = pthread_self();
    t->worked++;
    unsigned long x = t->input;
    for (int i = 0; i < 1000; i++)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    t->result = x;
}

static void done(void *ctx)
{
    struct task_state *t = ctx;
    t->done++;
    t->done_on_main = pthread_equal(pthread_self(), t->main_thread);
}

static unsigned long expected(unsigned long x)
{
    for (int i = 0; i < 1000; i++)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    return x;
}

struct fixture {
    struct http_client *http;
    struct loop *loop;
};

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof *f);
    struct gf_err err = GF_ERR_INIT;
    f->http = http_client_new(&err);
    if (!f->http)
        return -1;
    f->loop = loop_new(f->http);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    loop_free(f->loop);
    http_client_free(f->http);
    free(f);
    return 0;
}

/* Drive the loop until every completion has run (or give up after ~5 s). */
static void run_until_idle(struct fixture *f, struct workpool *p, bool hold)
{
    for (int i = 0; i < 5000 && workpool_pending(p) > 0; i++) {
        struct gf_err err = GF_ERR_INIT;
        loop_hold_http(f->loop, hold);
        assert_int_equal(loop_wait(f->loop, 1, &err), 0);
    }
}

static void check_all(struct task_state *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(t[i].worked, 1);
        assert_int_equal(t[i].done, 1);
        assert_true(t[i].done_on_main);
        assert_false(pthread_equal(t[i].worked_on, t[i].main_thread));
        assert_true(t[i].result == expected(t[i].input));
    }
}

static void submit_all(struct workpool *p, struct task_state *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        memset(&t[i], 0, sizeof t[i]);
        t[i].main_thread = pthread_self();
        t[i].input = i * 7919 + 1;
        workpool_submit(p, work, done, &t[i]);
    }
}

static void test_work_on_worker_done_on_loop(void **state)
{
    struct fixture *f = *state;
    struct gf_err err = GF_ERR_INIT;
    struct workpool *p = workpool_new(f->loop, 3, &err);
    assert_non_null(p);
    struct task_state t[N_TASKS];
    submit_all(p, t, N_TASKS);
    assert_int_equal(workpool_pending(p), N_TASKS);
    assert_true(workpool_busy(p));
    run_until_idle(f, p, false);
    assert_int_equal(workpool_pending(p), 0);
    assert_false(workpool_busy(p));
    check_all(t, N_TASKS);
    workpool_free(p);
}

/* Holding the transfers back does not hold the completions back: the pool's descriptor is
 * still waited on. */
static void test_completions_arrive_while_http_held(void **state)
{
    struct fixture *f = *state;
    struct gf_err err = GF_ERR_INIT;
    struct workpool *p = workpool_new(f->loop, 2, &err);
    assert_non_null(p);
    struct task_state t[8];
    submit_all(p, t, 8);
    run_until_idle(f, p, true);
    assert_int_equal(workpool_pending(p), 0);
    check_all(t, 8);
    loop_hold_http(f->loop, false);
    workpool_free(p);
}

/* Freed with work still queued: every task still runs and completes, none twice. */
static void test_free_finishes_everything(void **state)
{
    struct fixture *f = *state;
    struct gf_err err = GF_ERR_INIT;
    struct workpool *p = workpool_new(f->loop, 1, &err);
    assert_non_null(p);
    struct task_state t[N_TASKS];
    submit_all(p, t, N_TASKS);
    workpool_free(p);
    check_all(t, N_TASKS);
}

static void test_threads_from_environment(void **state)
{
    (void)state;
    setenv("GEMFLOW_CHECK_THREADS", "0", 1);
    assert_int_equal(workpool_threads_wanted(), 0);
    setenv("GEMFLOW_CHECK_THREADS", "3", 1);
    assert_int_equal(workpool_threads_wanted(), 3);
    unsetenv("GEMFLOW_CHECK_THREADS");
    int def = workpool_threads_wanted();
    assert_in_range(def, 1, 4);
    const char *bad[] = {"abc", "17", "-1", "2x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        setenv("GEMFLOW_CHECK_THREADS", bad[i], 1);
        assert_int_equal(workpool_threads_wanted(), def);
    }
    unsetenv("GEMFLOW_CHECK_THREADS");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_work_on_worker_done_on_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_completions_arrive_while_http_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_finishes_everything, setup, teardown),
        cmocka_unit_test(test_threads_from_environment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
