/* test_progress: percent and ETA of a job from its stage and item state: no ETA before a call
 * succeeded, ETA from this run's latencies over the concurrency slots, calls in flight, rpm
 * pacing, retry delays, waiting stages after their dependencies, no ETA while a stage waits for
 * the per-day quota, estimates, exclusions, and the fields of the progress event. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "jsonutil.h"
#include "progress.h"

#include <string.h>

#define MAX_ST 4
#define MAX_IT 16
#define NOW    100000 /* monotonic ms of every computation */

struct fx {
    struct job job;
    struct stage_def defs[MAX_ST];
    struct stage_run st[MAX_ST];
    size_t order[MAX_ST];
    size_t deps[MAX_ST][MAX_ST];
    struct item items[MAX_ST][MAX_IT];
    struct wf_rpm rpm[2];
    struct progress p;
};

static void fx_init(struct fx *f, int concurrency)
{
    memset(f, 0, sizeof *f);
    f->job.name = "t";
    f->job.wf.stages = f->defs;
    f->job.wf.order = f->order;
    f->job.wf.concurrency = concurrency;
    f->job.wf.rpm = f->rpm;
    f->job.st = f->st;
}

/* A stage in topological order (stages are added after their dependencies). */
static size_t fx_stage(struct fx *f, const char *name, const char *model, bool foreach, int dep)
{
    size_t s = f->job.wf.n_stages++;
    f->defs[s].name = (char *)name;
    f->defs[s].model = (char *)model;
    f->defs[s].foreach = foreach ? (char *)"up.list" : NULL;
    if (dep >= 0) {
        f->deps[s][0] = (size_t)dep;
        f->defs[s].deps = f->deps[s];
        f->defs[s].n_deps = 1;
    }
    f->order[s] = s;
    f->st[s].state = SS_WAITING;
    return s;
}

static void fx_expand(struct fx *f, size_t s, size_t n)
{
    f->st[s].state = SS_RUNNING;
    f->st[s].items = f->items[s];
    f->st[s].n_items = n;
    for (size_t i = 0; i < n; i++) {
        f->items[s][i].job = &f->job;
        f->items[s][i].stage = s;
        f->items[s][i].state = IS_TODO;
    }
}

static void fx_attempt(struct item *it, double ms, const char *error)
{
    if (!it->attempt_log)
        it->attempt_log = cJSON_CreateArray();
    cJSON *a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "attempt", ++it->attempts);
    cJSON_AddNumberToObject(a, "ms", ms);
    cJSON_AddNumberToObject(a, "http_status", error ? 503 : 200);
    if (error)
        cJSON_AddStringToObject(a, "error", error);
    cJSON_AddItemToArray(it->attempt_log, a);
}

/* Item i of stage s was called in this run and succeeded after `ms`. */
static void fx_done(struct fx *f, size_t s, size_t i, double ms)
{
    fx_attempt(&f->items[s][i], ms, NULL);
    f->items[s][i].state = IS_DONE;
    f->st[s].n_done++;
}

static void fx_cached(struct fx *f, size_t s, size_t i)
{
    f->items[s][i].state = IS_DONE;
    f->st[s].n_done++;
    f->st[s].n_cached++;
}

static void fx_release(struct fx *f)
{
    for (size_t s = 0; s < MAX_ST; s++)
        for (size_t i = 0; i < MAX_IT; i++)
            cJSON_Delete(f->items[s][i].attempt_log);
    progress_release(&f->p);
}

static struct progress *compute(struct fx *f)
{
    progress_compute(&f->job, NOW, &f->p);
    /* invariants */
    assert_true(f->p.finished <= f->p.total);
    assert_true(f->p.percent >= 0 && f->p.percent <= 100);
    return &f->p;
}

static void test_no_eta_before_a_call_succeeded(void **state)
{
    struct fx f;
    fx_init(&f, 8);
    size_t a = fx_stage(&f, "a", "text", false, -1);
    fx_expand(&f, a, 1);
    f.items[a][0].state = IS_INFLIGHT;
    f.items[a][0].attempts = 1;
    f.items[a][0].started_ms = NOW - 500;
    fx_attempt(&f.items[a][0], 700, "the model is overloaded"); /* a failure is no latency */
    f.items[a][0].attempts = 2;
    struct progress *p = compute(&f);
    assert_true(p->eta_s < 0);
    assert_true(p->stages[a].eta_s < 0);
    assert_int_equal(p->inflight, 1);
    assert_int_equal(p->retries, 1);
    assert_true(p->percent == 0);
    cJSON *ev = progress_fields(p);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(ev, "eta_s")));
    cJSON_Delete(ev);
    fx_release(&f);
}

static void test_percent_counts_settled_items_floored(void **state)
{
    struct fx f;
    fx_init(&f, 8);
    size_t a = fx_stage(&f, "a", "m", true, -1);
    fx_expand(&f, a, 3);
    fx_done(&f, a, 0, 100);
    struct progress *p = compute(&f);
    assert_true(p->percent == 33.3);
    f.items[a][1].state = IS_FAILED;
    f.st[a].n_failed = 1;
    p = compute(&f);
    assert_true(p->percent == 66.6); /* floored: never 100 before everything settled */
    assert_true(p->stages[a].percent == 66.6);
    assert_int_equal(p->finished, 2);
    assert_int_equal(p->total, 3);
    assert_false(p->estimated);
    fx_release(&f);
}

static void test_eta_from_latencies_over_slots(void **state)
{
    struct fx f;
    fx_init(&f, 2);
    size_t a = fx_stage(&f, "a", "m", true, -1);
    fx_expand(&f, a, 6);
    fx_done(&f, a, 0, 800);
    fx_done(&f, a, 1, 1200); /* mean 1000 ms */
    struct progress *p = compute(&f);
    /* 4 calls of 1 s over 2 slots: two rounds */
    assert_true(p->eta_s == 2.0);
    assert_true(p->stages[a].eta_s == 2.0);
    assert_true(p->stages[a].mean_ms == 1000);
    assert_int_equal(p->stages[a].calls, 2);
    fx_release(&f);
}

static void test_calls_in_flight_hold_their_slot(void **state)
{
    struct fx f;
    fx_init(&f, 2);
    size_t a = fx_stage(&f, "a", "m", true, -1);
    fx_expand(&f, a, 4);
    fx_done(&f, a, 0, 1000);
    f.items[a][1].state = IS_INFLIGHT;
    f.items[a][1].attempts = 1;
    f.items[a][1].started_ms = NOW - 400; /* 600 ms left */
    f.items[a][2].state = IS_INFLIGHT;
    f.items[a][2].attempts = 1;
    f.items[a][2].started_ms = NOW - 5000; /* past the mean: a tenth of it left */
    struct progress *p = compute(&f);
    assert_int_equal(p->stages[a].inflight, 2);
    /* the last call starts when the second slot frees (100 ms) and takes 1 s */
    assert_true(p->eta_s == 1.1);
    fx_release(&f);
}

static void test_rpm_pacing_spaces_starts(void **state)
{
    struct fx f;
    fx_init(&f, 8);
    f.rpm[0] = (struct wf_rpm){(char *)"img", 60};
    f.job.wf.n_rpm = 1;
    size_t a = fx_stage(&f, "a", "img", true, -1);
    fx_expand(&f, a, 4);
    fx_done(&f, a, 0, 100);
    struct progress *p = compute(&f);
    /* starts 0, 1010, 2020 (60 rpm plus the 1 % margin), each 100 ms */
    assert_true(p->eta_s == 2.1);
    fx_release(&f);
}

static void test_retry_delay_counts(void **state)
{
    struct fx f;
    fx_init(&f, 8);
    size_t a = fx_stage(&f, "a", "m", true, -1);
    fx_expand(&f, a, 2);
    fx_done(&f, a, 0, 500);
    struct item *it = &f.items[a][1];
    fx_attempt(it, 50, "overloaded");
    it->state = IS_WAIT;
    it->not_before_ms = NOW + 3000;
    struct progress *p = compute(&f);
    assert_int_equal(p->retries, 1);
    assert_true(p->eta_s == 3.5);
    fx_release(&f);
}

static void test_waiting_stage_after_its_dependency(void **state)
{
    struct fx f;
    fx_init(&f, 8);
    size_t a = fx_stage(&f, "a", "text", true, -1);
    size_t b = fx_stage(&f, "b", "tts", true, (int)a);
    fx_expand(&f, a, 5);
    fx_done(&f, a, 0, 1000);
    struct progress *p = compute(&f);
    /* b: estimated as wide as the widest foreach so far */
    assert_true(p->stages[b].estimated);
    assert_int_equal(p->stages[b].total, 5);
    assert_true(p->estimated);
    assert_int_equal(p->total, 10);
    /* a ends in 1 s; b (no latency of its own: the job's mean) starts then, 1 s */
    assert_true(p->stages[a].eta_s == 1.0);
    assert_true(p->eta_s == 2.0);
    assert_true(p->stages[b].eta_s < 0);
    fx_release(&f);
}

static void test_stage_eta_needs_its_own_model(void **state)
{
    struct fx f;
    fx_init(&f, 8);
    size_t a = fx_stage(&f, "a", "text", false, -1);
    size_t b = fx_stage(&f, "b", "tts", true, (int)a);
    fx_expand(&f, a, 1);
    fx_done(&f, a, 0, 400);
    fx_expand(&f, b, 3);
    struct progress *p = compute(&f);
    assert_true(p->stages[b].eta_s < 0); /* never a guess from another model */
    assert_true(p->eta_s == 0.4);        /* the job falls back to the job-wide mean */
    assert_true(p->stages[a].eta_s == 0);
    fx_release(&f);
}

static void test_quota_wait_has_no_eta(void **state)
{
    struct fx f;
    fx_init(&f, 2);
    size_t a = fx_stage(&f, "a", "img", true, -1);
    size_t b = fx_stage(&f, "b", "tts", true, -1);
    fx_expand(&f, a, 4);
    fx_done(&f, a, 0, 1000);
    fx_expand(&f, b, 4);
    fx_done(&f, b, 0, 1000);
    f.st[b].priority = 1; /* dispatched first */
    struct progress *p = compute(&f);
    assert_true(p->stages[b].eta_s > 0 && p->eta_s > 0);
    assert_true(p->stages[a].eta_s == 3.0); /* b's 3 calls first, then a's: 6 over 2 slots */
    assert_int_equal(p->quota_until_ms, 0);
    /* b waits for the per-day reset: no ETA for it or the job; a keeps its own, and b's calls
     * take no slot of it */
    f.st[b].quota_wait_until_ms = 1767254400000;
    p = compute(&f);
    assert_true(p->stages[b].eta_s < 0);
    assert_true(p->eta_s < 0);
    assert_true(p->stages[b].quota_until_ms == 1767254400000);
    assert_true(p->quota_until_ms == 1767254400000);
    assert_true(p->stages[a].eta_s == 2.0);
    assert_true(p->stages[a].quota_until_ms == 0);
    cJSON *ev = progress_fields(p);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(ev, "eta_s")));
    cJSON_Delete(ev);
    /* the wait ends (engine_quota.c clears it): the ETAs are back */
    f.st[b].quota_wait_until_ms = 0;
    p = compute(&f);
    assert_int_equal(p->quota_until_ms, 0);
    assert_true(p->stages[b].eta_s > 0 && p->eta_s > 0);
    fx_release(&f);
}

static void test_failed_dependency_excludes_stage(void **state)
{
    struct fx f;
    fx_init(&f, 8);
    size_t a = fx_stage(&f, "a", "text", false, -1);
    size_t b = fx_stage(&f, "b", "tts", true, (int)a);
    fx_expand(&f, a, 1);
    f.items[a][0].state = IS_FAILED;
    f.st[a].n_failed = 1;
    f.st[a].state = SS_FAILED;
    struct progress *p = compute(&f);
    assert_int_equal(p->total, 1);
    assert_true(p->percent == 100);
    assert_true(p->eta_s == 0);
    (void)b;
    f.st[b].state = SS_BLOCKED;
    p = compute(&f);
    assert_int_equal(p->total, 1);
    fx_release(&f);
}

static void test_cached_items_count_as_done(void **state)
{
    struct fx f;
    fx_init(&f, 8);
    size_t a = fx_stage(&f, "a", "m", true, -1);
    fx_expand(&f, a, 4);
    for (size_t i = 0; i < 4; i++)
        fx_cached(&f, a, i);
    f.st[a].state = SS_DONE;
    struct progress *p = compute(&f);
    assert_true(p->percent == 100);
    assert_true(p->eta_s == 0); /* nothing left: no data needed */
    assert_int_equal(p->stages[a].cached, 4);
    assert_int_equal(p->stages[a].calls, 0);
    fx_release(&f);
}

static void test_event_fields(void **state)
{
    struct fx f;
    fx_init(&f, 8);
    size_t a = fx_stage(&f, "a", "m", false, -1);
    size_t b = fx_stage(&f, "b", "m", true, (int)a);
    fx_expand(&f, a, 1);
    fx_done(&f, a, 0, 250);
    f.st[a].state = SS_DONE;
    fx_expand(&f, b, 4);
    fx_done(&f, b, 0, 250);
    f.items[b][1].state = IS_INFLIGHT;
    f.items[b][1].started_ms = NOW;
    f.items[b][1].attempts = 1;
    cJSON *ev = progress_fields(compute(&f));
    assert_true(json_num(ev, "percent", -1) == 40);
    assert_true(json_num(ev, "finished", -1) == 2);
    assert_true(json_num(ev, "total", -1) == 5);
    assert_true(json_num(ev, "inflight", -1) == 1);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(ev, "estimated")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(ev, "eta_s")));
    const cJSON *stages = cJSON_GetObjectItem(ev, "stages");
    assert_int_equal(cJSON_GetArraySize(stages), 1); /* running stages only */
    const cJSON *s0 = cJSON_GetArrayItem(stages, 0);
    assert_string_equal(json_str(s0, "stage"), "b");
    assert_true(json_num(s0, "done", -1) == 1);
    assert_true(json_num(s0, "total", -1) == 4);
    assert_true(json_num(s0, "percent", -1) == 25);
    cJSON_Delete(ev);
    fx_release(&f);
}

static void test_format_duration(void **state)
{
    char t[16];
    progress_format_duration(0.4, t, sizeof t);
    assert_string_equal(t, "<1s");
    progress_format_duration(41.2, t, sizeof t);
    assert_string_equal(t, "42s");
    progress_format_duration(185, t, sizeof t);
    assert_string_equal(t, "3m05s");
    progress_format_duration(7620, t, sizeof t);
    assert_string_equal(t, "2h07m");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_eta_before_a_call_succeeded),
        cmocka_unit_test(test_percent_counts_settled_items_floored),
        cmocka_unit_test(test_eta_from_latencies_over_slots),
        cmocka_unit_test(test_calls_in_flight_hold_their_slot),
        cmocka_unit_test(test_rpm_pacing_spaces_starts),
        cmocka_unit_test(test_retry_delay_counts),
        cmocka_unit_test(test_waiting_stage_after_its_dependency),
        cmocka_unit_test(test_stage_eta_needs_its_own_model),
        cmocka_unit_test(test_quota_wait_has_no_eta),
        cmocka_unit_test(test_failed_dependency_excludes_stage),
        cmocka_unit_test(test_cached_items_count_as_done),
        cmocka_unit_test(test_event_fields),
        cmocka_unit_test(test_format_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
