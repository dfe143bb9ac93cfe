/* test_inspection: the pieces the inspection commands share: timestamps, durations and ages
 * (textout), HTML escaping and relative media URLs (report_html), and the facts replayed from
 * a progress log (jobfacts). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "jobfacts.h"
#include "jsonutil.h"
#include "report.h"
#include "textout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- textout ---- */

static void test_parse_ts(void **state)
{
    int64_t ms = 0;
    assert_int_equal(tx_parse_ts("1970-01-01T00:00:01.250Z", &ms), 0);
    assert_int_equal(ms, 1250);
    assert_int_equal(tx_parse_ts("2026-11-25T12:00:00Z", &ms), 0);
    assert_int_equal(ms, 1795608000000LL);
    assert_int_equal(tx_parse_ts("2026-11-25T12:00:00.5Z", &ms), 0);
    assert_int_equal(ms % 1000, 500);
    assert_int_equal(tx_parse_ts("2026-11-25T12:00:00.123456Z", &ms), 0);
    assert_int_equal(ms % 1000, 123);
}

static void test_parse_ts_rejects(void **state)
{
    int64_t ms = 7;
    assert_int_equal(tx_parse_ts(NULL, &ms), -1);
    assert_int_equal(tx_parse_ts("", &ms), -1);
    assert_int_equal(tx_parse_ts("2026-11-25 12:00:00Z", &ms), -1);
    assert_int_equal(tx_parse_ts("2026-11-25T12:00:00+01:00", &ms), -1);
    assert_int_equal(ms, 7); /* untouched on failure */
}

static void test_duration(void **state)
{
    char d[32];
    tx_duration(d, sizeof d, 46);
    assert_string_equal(d, "46 ms");
    tx_duration(d, sizeof d, 4800);
    assert_string_equal(d, "4.8s");
    tx_duration(d, sizeof d, 192000);
    assert_string_equal(d, "3m12s");
    tx_duration(d, sizeof d, 2 * 3600000 + 5 * 60000);
    assert_string_equal(d, "2h05m");
    tx_duration(d, sizeof d, -5);
    assert_string_equal(d, "0 ms");
}

static void test_age(void **state)
{
    char a[32];
    tx_age(a, sizeof a, 2);
    assert_string_equal(a, "just now");
    tx_age(a, sizeof a, 12);
    assert_string_equal(a, "12s ago");
    tx_age(a, sizeof a, 185);
    assert_string_equal(a, "3m ago");
    tx_age(a, sizeof a, 7200);
    assert_string_equal(a, "2h ago");
    tx_age(a, sizeof a, 86400 * 4);
    assert_string_equal(a, "4d ago");
}

static void test_color_decision(void **state)
{
    enum tx_color_mode m;
    assert_int_equal(tx_color_parse("always", &m), 0);
    assert_int_equal(m, TX_COLOR_ALWAYS);
    assert_int_equal(tx_color_parse("sometimes", &m), -1);
    FILE *f = tmpfile();
    assert_true(tx_use_color(f, TX_COLOR_ALWAYS));
    assert_false(tx_use_color(f, TX_COLOR_NEVER));
    assert_false(tx_use_color(f, TX_COLOR_AUTO)); /* not a terminal */
    fclose(f);
    assert_string_equal(tx_c(false, TX_RED), "");
    assert_string_equal(tx_c(true, TX_RED), TX_RED);
}

/* ---- report_html ---- */

static void test_html_esc(void **state)
{
    struct buf b = BUF_INIT;
    html_esc(&b, "<img src=x onerror=\"a('b')\"> & </p>");
    assert_string_equal(b.data,
                        "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt; &amp; &lt;/p&gt;");
    buf_reset(&b);
    html_esc(&b, NULL);
    assert_int_equal(b.len, 0);
    buf_release(&b);
}

static void test_rel_url(void **state)
{
    struct buf b = BUF_INIT;
    html_rel_url(&b, "images/s01.png");
    assert_string_equal(b.data, "images/s01.png");
    buf_reset(&b);
    html_rel_url(&b, "audio/scène 1\"#?.wav");
    assert_string_equal(b.data, "audio/sc%C3%A8ne%201%22%23%3F.wav");
    buf_reset(&b);
    html_rel_url(&b, "javascript:alert(1)"); /* never a scheme */
    assert_string_equal(b.data, "./javascript%3Aalert%281%29");
    buf_reset(&b);
    html_rel_url(&b, "/etc/passwd"); /* never absolute */
    assert_string_equal(b.data, ".//etc/passwd");
    buf_release(&b);
}

/* ---- jobfacts ---- */

static const char log_text[] =
    "{\"ts\":\"2026-11-25T12:00:00.000Z\",\"event\":\"run_start\",\"pid\":11}\n"
    "{\"ts\":\"2026-11-25T12:00:00.010Z\",\"event\":\"stage_start\",\"stage\":\"images\"}\n"
    "{\"ts\":\"2026-11-25T12:00:00.020Z\",\"event\":\"call_start\",\"stage\":\"images\","
    "\"item\":\"s01\"}\n"
    "{\"ts\":\"2026-11-25T12:00:01.000Z\",\"event\":\"call_end\",\"stage\":\"images\","
    "\"item\":\"s01\",\"tokens\":{\"prompt\":10,\"output\":1290,\"total\":1300}}\n"
    "{\"ts\":\"2026-11-25T12:00:01.100Z\",\"event\":\"item_failed\",\"stage\":\"images\","
    "\"item\":\"s01\",\"error\":{\"http_status\":400,\"message\":\"bad\"}}\n"
    "{\"ts\":\"2026-11-25T12:00:01.200Z\",\"event\":\"stage_failed\",\"stage\":\"images\","
    "\"ms\":1190}\n"
    "{\"ts\":\"2026-11-25T12:00:01.300Z\",\"event\":\"run_end\",\"state\":\"failed\"}\n"
    "{\"ts\":\"2026-11-25T12:05:00.000Z\",\"event\":\"run_start\",\"pid\":12}\n"
    "{\"ts\":\"2026-11-25T12:05:00.010Z\",\"event\":\"stage_start\",\"stage\":\"images\"}\n"
    "{\"ts\":\"2026-11-25T12:05:00.020Z\",\"event\":\"call_start\",\"stage\":\"images\","
    "\"item\":\"s01\"}\n"
    "{\"ts\":\"2026-11-25T12:05:00.030Z\",\"event\":\"retry\",\"stage\":\"images\","
    "\"item\":\"s02\"}\n"
    "{\"ts\":\"2026-11-25T12:05:00.040Z\",\"event\":\"item_done\",\"stage\":\"images\","
    "\"item\":\"s03\",\"accepted\":true}\n"
    "{\"ts\":\"2026-11-25T12:05:00.050Z\",\"event\":\"call_e"; /* torn: ignored */

static void test_jobfacts(void **state)
{
    char dir[] = "/tmp/gemflow-test-jobfacts-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/progress.jsonl", dir);
    FILE *f = fopen(path, "w");
    fputs(log_text, f);
    fclose(f);
    struct job_facts jf;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(jobfacts_load(&jf, dir, &err), 0);
    assert_int_equal(jf.runs, 2);
    assert_int_equal(jf.calls, 1);
    assert_int_equal(jf.tokens, 1300);
    assert_string_equal(jobfacts_last_run_state(&jf), "killed"); /* no run_end after pid 12 */
    assert_int_equal(json_num(jf.last_start, "pid", 0), 12);
    assert_string_equal(jf.last_ts, "2026-11-25T12:05:00.040Z");
    const struct stage_facts *sf = jobfacts_stage(&jf, "images");
    assert_int_equal(sf->ms, 1190); /* from the earlier run: the latest end */
    assert_true(sf->started_last_run);
    assert_false(sf->ended_last_run);
    assert_int_equal(sf->inflight, 1); /* the last run's call_start without call_end */
    assert_int_equal(sf->retries, 1);
    assert_int_equal(sf->produced, 0); /* the only item_done was accepted */
    assert_int_equal(sf->tok_output, 1290);
    const cJSON *fail = jobfacts_failure(&jf, "images", "s01");
    assert_non_null(fail);
    assert_string_equal(json_str(json_field(fail, "error"), "message"), "bad");
    assert_null(jobfacts_failure(&jf, "images", "s02"));
    assert_int_equal(jobfacts_stage(&jf, "nothing")->ms, -1);
    jobfacts_release(&jf);
    unlink(path);
    rmdir(dir);
}

static void test_jobfacts_no_log(void **state)
{
    struct job_facts jf;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(jobfacts_load(&jf, "/nonexistent-gemflow-dir", &err), 0);
    assert_null(jobfacts_last_run_state(&jf));
    assert_int_equal(jf.events, 0);
    jobfacts_release(&jf);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ts),        cmocka_unit_test(test_parse_ts_rejects),
        cmocka_unit_test(test_duration),        cmocka_unit_test(test_age),
        cmocka_unit_test(test_color_decision),  cmocka_unit_test(test_html_esc),
        cmocka_unit_test(test_rel_url),         cmocka_unit_test(test_jobfacts),
        cmocka_unit_test(test_jobfacts_no_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
