/* test_quota: the quota record, the Pacific day, what a 429's violation limits, and the shared
 * bucket: two handles on one directory (two open file descriptions, as two processes have)
 * pace together, learn from a 429 and count the day. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gemini.h"
#include "quota.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* 2026-12-04T12:00:00Z */
#define T0 1796385600000LL

static void test_pacific_day_and_reset(void **state)
{
    char day[11];
    int64_t reset;
    /* winter (PST, UTC-8): 07:59Z is still the day before in Los Angeles */
    quota_pacific_day(1796457599000LL, day, &reset); /* 2026-12-05T07:59:59Z */
    assert_string_equal(day, "2026-12-04");
    assert_int_equal(reset, 1796457600000LL); /* 2026-12-05T08:00:00Z */
    quota_pacific_day(1796457600000LL, day, NULL);
    assert_string_equal(day, "2026-12-05");
    /* summer (PDT, UTC-7): 2026-07-01T06:59:59Z is June 30th there; resets at 07:00Z */
    quota_pacific_day(1782889199000LL, day, &reset);
    assert_string_equal(day, "2026-06-30");
    assert_int_equal(reset, 1782889200000LL);
    /* the day daylight saving starts (2026-03-08): midnight is still PST (08:00Z), the next
     * midnight is PDT (07:00Z) */
    quota_pacific_day(1772956800000LL, day, &reset); /* 2026-03-08T08:00:00Z */
    assert_string_equal(day, "2026-03-08");
    assert_int_equal(reset, 1773039600000LL); /* 2026-03-09T07:00:00Z */
    /* the day it ends (2026-11-01): the next midnight is PST again */
    quota_pacific_day(1793516400000LL, day, &reset); /* 2026-11-01T07:00:00Z */
    assert_string_equal(day, "2026-11-01");
    assert_int_equal(reset, 1793606400000LL); /* 2026-11-02T08:00:00Z */
    char t[32];
    quota_rfc3339(1796457600123LL, t, sizeof t);
    assert_string_equal(t, "2026-12-05T08:00:00.123Z");
}

static void test_kind_of_violations(void **state)
{
    assert_int_equal(quota_kind_of("GenerateRequestsPerMinutePerProjectPerModel",
                                   "generativelanguage.googleapis.com/generate_requests_per_model"),
                     QK_RPM);
    assert_int_equal(quota_kind_of("GenerateRequestsPerDayPerProjectPerModel-FreeTier", NULL),
                     QK_RPD);
    assert_int_equal(quota_kind_of("GenerateContentInputTokensPerModelPerMinute-FreeTier",
                                   "generativelanguage.googleapis.com/"
                                   "generate_content_free_tier_input_token_count"),
                     QK_TPM);
    assert_int_equal(quota_kind_of("GenerateContentInputTokensPerModelPerDay", NULL), QK_TPD);
    /* a per-minute id that says neither requests nor tokens: nothing to count */
    assert_int_equal(quota_kind_of("SomethingPerMinute", NULL), -1);
    assert_int_equal(quota_kind_of("GenerateRequestsPerProject", NULL), -1);
}

static void test_record_round_trip_and_size(void **state)
{
    struct quota_rec r, back;
    quotarec_init(&r, "gemini-3.8-flash");
    r.tat_ms = T0 + 5;
    r.day_count = 7;
    snprintf(r.day, sizeof r.day, "2026-12-04");
    for (int k = 0; k < QK_N; k++) { /* every string at its longest */
        struct quota_limit *l = &r.limits[k];
        l->value = 1e12;
        memset(l->quota_id, 'q', sizeof l->quota_id - 1);
        memset(l->metric, 'm', sizeof l->metric - 1);
        memset(l->learned_at, 't', sizeof l->learned_at - 1);
        memset(l->source, 's', sizeof l->source - 1);
        l->retry_ms = 123456789;
    }
    memset(r.model, 'x', sizeof r.model - 1);
    for (int i = 0; i < QUOTAREC_WIN; i++)
        r.win[i] = 2000000000;
    char text[QUOTAREC_SIZE];
    quotarec_format(&r, text);
    assert_int_equal(text[QUOTAREC_SIZE - 1], '\n');
    /* the largest record still fits: it parses back whole */
    assert_int_equal(quotarec_parse(text, sizeof text, &back), 0);
    assert_string_equal(back.model, r.model);
    assert_int_equal(back.tat_ms, r.tat_ms);
    assert_int_equal(back.day_count, 7);
    assert_string_equal(back.limits[QK_TPD].source, r.limits[QK_TPD].source);
    assert_int_equal(back.win[QUOTAREC_WIN - 1], 2000000000);
    /* a torn record does not parse */
    assert_int_equal(quotarec_parse(text, 100, &back), -1);
}

static void test_last_minute_window(void **state)
{
    struct quota_rec r;
    quotarec_init(&r, "m");
    for (int i = 0; i < 10; i++)
        quotarec_count(&r, T0 + i * 1000, 60000);
    assert_int_equal(quotarec_last_minute(&r, T0 + 9000, 60000), 10);
    /* 55 s later the first five have left the minute */
    assert_int_equal(quotarec_last_minute(&r, T0 + 64000, 60000), 5);
    assert_int_equal(quotarec_last_minute(&r, T0 + 200000, 60000), 0);
    assert_int_equal(r.total, 10);
}

struct fixture {
    char dir[64];
    struct quota *a, *b; /* two opened quota directories: two processes */
    struct quota_bucket *ba, *bb;
};

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_quota.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char *q = xasprintf("%s/quota", f->dir);
    struct gf_err err = GF_ERR_INIT;
    f->a = quota_open(q, &err);
    f->b = quota_open(q, &err);
    assert_non_null(f->a);
    assert_non_null(f->b);
    char fp[QUOTA_FP_LEN + 1];
    quota_fingerprint("secret-key", "http://127.0.0.1:1", fp);
    f->ba = quota_bucket(f->a, fp, "http://127.0.0.1:1", "img", &err);
    f->bb = quota_bucket(f->b, fp, "http://127.0.0.1:1", "img", &err);
    assert_non_null(f->ba);
    assert_non_null(f->bb);
    free(q);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    quota_close(f->a);
    quota_close(f->b);
    char *cmd = xasprintf("rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(f);
    return 0;
}

static void test_two_processes_pace_together(void **state)
{
    struct fixture *f = *state;
    struct gf_err err = GF_ERR_INIT;
    struct quota_verdict v;
    unsetenv("GEMFLOW_MINUTE_MS");
    /* 10 per minute: one per 6.12 s, whoever asks (after an idle time the first gap may be
     * 0.6 s shorter: a start late by up to 1 % of a minute is caught up) */
    assert_int_equal(quota_take(f->ba, T0, 10, &v, &err), QUOTA_GO);
    assert_int_equal(quota_take(f->bb, T0 + 1, 10, &v, &err), QUOTA_LATER);
    assert_true(v.at_ms >= T0 + 6120 - 600 && v.at_ms <= T0 + 6120);
    assert_string_equal(v.why, "pacing");
    assert_int_equal(quota_take(f->bb, v.at_ms, 10, &v, &err), QUOTA_GO);
    /* R + 1 starts, alternating between the two, span more than a minute */
    int64_t t = T0 + 12000, first = -1, last = 0;
    int started = 0;
    while (started < 11) {
        struct quota_bucket *b = started % 2 ? f->ba : f->bb;
        int a = quota_take(b, t, 10, &v, &err);
        if (a == QUOTA_GO) {
            if (first < 0)
                first = t;
            last = t;
            started++;
            t += 1;
        } else {
            assert_int_equal(a, QUOTA_LATER);
            t = v.at_ms;
        }
    }
    assert_true(last - first >= 60000);
    assert_true(last - first <= 62000); /* and not much more: 0.98 of the limit */
    /* a process with no limit of its own is not paced (nothing learned yet) */
    assert_int_equal(quota_take(f->ba, last + 1, 0, &v, &err), QUOTA_GO);
}

static void test_learned_limits_are_shared(void **state)
{
    struct fixture *f = *state;
    struct gf_err err = GF_ERR_INIT;
    struct gemini_error ge;
    const char *body =
        "{\"error\": {\"code\": 429, \"status\": \"RESOURCE_EXHAUSTED\", \"message\": \"x\", "
        "\"details\": [{\"@type\": \"type.googleapis.com/google.rpc.QuotaFailure\", "
        "\"violations\": [{\"quotaMetric\": \"m/generate_requests_per_model\", "
        "\"quotaId\": \"GenerateRequestsPerMinutePerProjectPerModel\", \"quotaValue\": \"6\"}]},"
        "{\"@type\": \"type.googleapis.com/google.rpc.RetryInfo\", \"retryDelay\": \"20s\"}]}}";
    gemini_error_parse(429, body, strlen(body), &ge);
    assert_int_equal(ge.n_violations, 1);
    struct quota_learned l;
    assert_int_equal(quota_learn(f->ba, T0, &ge, "job s/i", &l, &err), 0);
    gemini_error_release(&ge);
    assert_true(l.kinds & (1u << QK_RPM));
    /* the other process is paused by the RetryInfo, then paced to 6 per minute */
    struct quota_verdict v;
    assert_int_equal(quota_take(f->bb, T0 + 1000, 0, &v, &err), QUOTA_LATER);
    assert_string_equal(v.why, "paused");
    assert_int_equal(v.at_ms, T0 + 20000);
    assert_int_equal(quota_take(f->bb, T0 + 20000, 0, &v, &err), QUOTA_GO);
    assert_int_equal(quota_take(f->bb, T0 + 20001, 0, &v, &err), QUOTA_LATER);
    assert_true(v.rpm == 6);
    assert_true(v.at_ms >= T0 + 20000 + 10200 - 600); /* 60 s / 6 * 1.02, less the catch-up */
    struct quota_rec r;
    assert_int_equal(quota_peek(f->ba, T0, &r, &err), 0);
    assert_string_equal(r.limits[QK_RPM].source, "job s/i");
    assert_string_equal(r.limits[QK_RPM].quota_id, "GenerateRequestsPerMinutePerProjectPerModel");
}

static void test_per_day_quota_ends_the_day(void **state)
{
    struct fixture *f = *state;
    struct gf_err err = GF_ERR_INIT;
    struct quota_verdict v;
    for (int i = 0; i < 3; i++)
        assert_int_equal(quota_take(f->ba, T0 + i, 0, &v, &err), QUOTA_GO);
    assert_int_equal(v.day_count, 3);
    const char *body =
        "{\"error\": {\"code\": 429, \"message\": \"x\", \"details\": [{\"violations\": "
        "[{\"quotaId\": \"GenerateRequestsPerDayPerProjectPerModel-FreeTier\", "
        "\"quotaValue\": \"250\"}]}, {\"retryDelay\": \"47s\"}]}}";
    struct gemini_error ge;
    gemini_error_parse(429, body, strlen(body), &ge);
    struct quota_learned l;
    assert_int_equal(quota_learn(f->ba, T0 + 10, &ge, "j", &l, &err), 0);
    gemini_error_release(&ge);
    assert_true(l.day_used_up);
    assert_int_equal(quota_take(f->bb, T0 + 20, 0, &v, &err), QUOTA_DAY_USED);
    assert_int_equal(v.day_count, 250); /* the server counted at least its limit */
    assert_true(v.day_limit == 250);
    assert_int_equal(v.reset_ms, 1796457600000LL);
    /* the next Pacific day starts afresh, with the limit kept */
    assert_int_equal(quota_take(f->bb, 1796457600000LL, 0, &v, &err), QUOTA_GO);
    assert_int_equal(v.day_count, 1);
    assert_true(v.day_limit == 250);
}

static void test_clock_far_ahead_does_not_hold(void **state)
{
    struct fixture *f = *state;
    struct gf_err err = GF_ERR_INIT;
    struct quota_verdict v;
    /* a process whose clock was an hour ahead took a slot */
    assert_int_equal(quota_take(f->ba, T0 + 3600000, 60, &v, &err), QUOTA_GO);
    /* ours: not held for an hour, at most one interval */
    int a = quota_take(f->bb, T0, 60, &v, &err);
    assert_true(a == QUOTA_GO || (a == QUOTA_LATER && v.at_ms <= T0 + 1100));
}

/* Processes starting together each check that locks work in the quota directory: none of
 * them may take another's probe for locks that do not work (t_watch_fleet's four watchers once
 * refused a job with "file locks do not work ... Resource temporarily unavailable"). */
static void test_probes_at_once(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/gemflow-test-probe.XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    enum { PROCS = 4, ROUNDS = 300 };
    pid_t kids[PROCS];
    for (int k = 0; k < PROCS; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            int failed = 0;
            for (int i = 0; i < ROUNDS; i++) {
                struct gf_err err = GF_ERR_INIT;
                struct quota *q = quota_open(dir, &err);
                if (!q) {
                    if (!failed)
                        fprintf(stderr, "probe %d/%d: %s\n", k, i, err.msg);
                    failed++;
                } else {
                    quota_close(q);
                }
            }
            _exit(failed ? 1 : 0);
        }
    }
    int bad = 0;
    for (int k = 0; k < PROCS; k++) {
        int st = 0;
        assert_int_equal(waitpid(kids[k], &st, 0), kids[k]);
        bad += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    assert_int_equal(bad, 0);
    char *cmd =
        xasprintf("find '%s' -name '.lockprobe*' | wc -l | grep -qx 0 && rm -rf '%s'", dir, dir);
    assert_int_equal(system(cmd), 0); /* and no probe file is left behind */
    free(cmd);
}

static void test_fingerprint(void **state)
{
    char a[QUOTA_FP_LEN + 1], b[QUOTA_FP_LEN + 1], c[QUOTA_FP_LEN + 1];
    quota_fingerprint("key-1", "https://generativelanguage.googleapis.com", a);
    quota_fingerprint("key-1", "https://generativelanguage.googleapis.com", b);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), QUOTA_FP_LEN);
    assert_int_equal(strspn(a, "0123456789abcdef"), QUOTA_FP_LEN);
    quota_fingerprint("key-2", "https://generativelanguage.googleapis.com", c);
    assert_string_not_equal(a, c);
    quota_fingerprint("key-1", "http://127.0.0.1:8080", c);
    assert_string_not_equal(a, c);
    /* the separator: a key and an origin cannot be shifted into each other */
    quota_fingerprint("key-1h", "ttp://x", b);
    quota_fingerprint("key-1", "http://x", c);
    assert_string_not_equal(b, c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pacific_day_and_reset),
        cmocka_unit_test(test_kind_of_violations),
        cmocka_unit_test(test_record_round_trip_and_size),
        cmocka_unit_test(test_last_minute_window),
        cmocka_unit_test_setup_teardown(test_two_processes_pace_together, setup, teardown),
        cmocka_unit_test_setup_teardown(test_learned_limits_are_shared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_day_quota_ends_the_day, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock_far_ahead_does_not_hold, setup, teardown),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_probes_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
