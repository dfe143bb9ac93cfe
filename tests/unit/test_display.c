/* test_display: what gemflow prints while jobs run, on a file instead of a terminal: plain
 * timestamped lines filtered by verbosity, no control bytes from the API's words, and in live
 * mode frames at most every 100 ms (on the clock the caller passes), bars fitted to the width,
 * the final state left behind at run_end, the cursor given back, and the reset a stage waits
 * for instead of an ETA. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "buf.h"
#include "display.h"
#include "display_int.h" /* display_width */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct fx {
    struct job job;
    struct stage_def defs[2];
    struct stage_run st[2];
    size_t order[2];
    struct item items[8];
    int fd;
    char path[32];
};

/* A job "demo" with a running stage "images" of 8 items (3 done, 2 in flight). */
static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof *f);
    f->job.name = "demo";
    f->job.wf.stages = f->defs;
    f->job.wf.order = f->order;
    f->job.wf.n_stages = 1;
    f->job.wf.concurrency = 2;
    f->job.st = f->st;
    f->defs[0].name = "images";
    f->defs[0].model = "img";
    f->defs[0].foreach = "prompts.scenes";
    f->st[0].state = SS_RUNNING;
    f->st[0].items = f->items;
    f->st[0].n_items = 8;
    for (size_t i = 0; i < 8; i++) {
        f->items[i].job = &f->job;
        f->items[i].state = i < 3 ? IS_DONE : i < 5 ? IS_INFLIGHT : IS_TODO;
    }
    f->st[0].n_done = 3;
    strcpy(f->path, "/tmp/gf-display-XXXXXX");
    f->fd = mkstemp(f->path);
    assert_true(f->fd >= 0);
}

static char *fx_output(struct fx *f)
{
    struct buf b = BUF_INIT;
    assert_int_equal(buf_read_file(&b, f->path), 0);
    return buf_detach(&b, NULL);
}

static void fx_release(struct fx *f)
{
    close(f->fd);
    unlink(f->path);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_lines_are_timestamped_and_filtered(void **state)
{
    struct fx f;
    fx_init(&f);
    struct display *d = display_new(&(struct display_opts){.fd = f.fd, .mode = DISPLAY_LINES});
    assert_false(display_is_live(d));
    assert_true(display_note("demo", 0, "stage images: 8 items"));
    assert_true(display_note("demo", 1, "a verbose line")); /* taken, not shown */
    assert_true(display_note("demo", -1, "images/s1 failed: HTTP 400"));
    display_free(d);
    assert_false(display_note("demo", 0, "no display now"));
    char *out = fx_output(&f);
    const char *lines[2] = {"stage images: 8 items", "images/s1 failed: HTTP 400"};
    const char *p = out;
    for (size_t i = 0; i < 2; i++) {
        /* "HH:MM:SS gemflow: demo: ..." */
        assert_true(p[2] == ':' && p[5] == ':' && p[8] == ' ');
        assert_memory_equal(p + 9, "gemflow: demo: ", 15);
        assert_memory_equal(p + 24, lines[i], strlen(lines[i]));
        p = strchr(p, '\n') + 1;
    }
    assert_string_equal(p, "");
    assert_null(strchr(out, '\x1b'));
    free(out);
    fx_release(&f);
}

static void test_quiet_keeps_failures_only(void **state)
{
    struct fx f;
    fx_init(&f);
    struct display *d =
        display_new(&(struct display_opts){.fd = f.fd, .verbosity = -1, .mode = DISPLAY_LIVE});
    assert_false(display_is_live(d)); /* quiet: never bars */
    display_note("demo", 0, "stage images: 8 items");
    display_note("demo", -1, "failed in 1.0s");
    display_free(d);
    char *out = fx_output(&f);
    assert_int_equal(count(out, "\n"), 1);
    assert_non_null(strstr(out, "failed in 1.0s"));
    free(out);
    fx_release(&f);
}

static void test_control_bytes_never_reach_the_terminal(void **state)
{
    struct fx f;
    fx_init(&f);
    struct display *d = display_new(
        &(struct display_opts){.fd = f.fd, .mode = DISPLAY_LINES, .color = TX_COLOR_NEVER});
    display_note("demo", 0, "the model said \x1b]0;owned\x07 and\nmore\x1b[2J");
    display_free(d);
    char *out = fx_output(&f);
    assert_null(strchr(out, '\x1b'));
    assert_null(strchr(out, '\x07'));
    assert_int_equal(count(out, "\n"), 1); /* one line, the message's newline made a space */
    assert_non_null(strstr(out, "?]0;owned? and more?[2J"));
    free(out);
    fx_release(&f);
}

static void test_frames_at_most_every_100_ms(void **state)
{
    struct fx f;
    fx_init(&f);
    struct display *d = display_new(
        &(struct display_opts){.fd = f.fd, .mode = DISPLAY_LIVE, .color = TX_COLOR_NEVER});
    assert_true(display_is_live(d));
    cJSON *ev = cJSON_CreateObject();
    display_event(d, &f.job, "run_start", ev);
    int64_t t = 5000;
    assert_int_equal(display_tick(d, t), 1000); /* first frame at once; then once a second */
    size_t frames = 1;
    /* an event every 10 ms for a second: a frame when 100 ms have passed, never sooner */
    for (int i = 1; i <= 100; i++) {
        display_event(d, &f.job, "call_start", ev);
        int64_t want = display_tick(d, t + 10 * i);
        frames += want == 1000; /* a frame: the next in a second unless something changes */
        assert_true(want == 1000 || (want >= 0 && want <= 100));
    }
    char *out = fx_output(&f);
    assert_int_equal(count(out, "\x1b[?25l"), frames);
    assert_true(frames >= 9 && frames <= 11);
    free(out);
    /* nothing new: the next frame is a second after the last */
    int64_t last = t + 1000;
    assert_true(display_tick(d, last + 500) > 0);
    cJSON_Delete(ev);
    display_free(d);
    fx_release(&f);
}

static void test_bars_fit_and_stay_at_run_end(void **state)
{
    struct fx f;
    fx_init(&f);
    struct display *d = display_new(
        &(struct display_opts){.fd = f.fd, .mode = DISPLAY_LIVE, .color = TX_COLOR_NEVER});
    cJSON *ev = cJSON_CreateObject();
    display_event(d, &f.job, "run_start", ev);
    display_tick(d, 1000);
    /* the stage ends, then the job */
    for (size_t i = 3; i < 8; i++)
        f.items[i].state = IS_DONE;
    f.st[0].n_done = 8;
    f.st[0].state = SS_DONE;
    cJSON *done = cJSON_CreateObject();
    cJSON_AddStringToObject(done, "stage", "images");
    cJSON_AddNumberToObject(done, "ms", 2500);
    display_event(d, &f.job, "stage_done", done);
    cJSON *end = cJSON_CreateObject();
    cJSON_AddStringToObject(end, "state", "done");
    cJSON_AddNumberToObject(end, "ms", 3000);
    display_event(d, &f.job, "run_end", end);
    display_note("demo", -1, "done in 3.0s");
    display_free(d);
    char *out = fx_output(&f);
    /* the first frame showed the running state */
    assert_non_null(strstr(out, "3/8  2 in flight"));
    /* what stays: after the last frame started, the final bars, then the final line */
    const char *last = out;
    for (const char *p = strstr(out, "\x1b[?25l"); p; p = strstr(p + 1, "\x1b[?25l"))
        last = p;
    assert_non_null(strstr(last, "100.0%  8/8 items  done in 3.0s"));
    assert_non_null(strstr(last, "8/8  done in 2.5s"));
    assert_true(strstr(last, "done in 3.0s\n") < strstr(last, "gemflow: demo: done in 3.0s"));
    /* the cursor is shown again, last */
    size_t n = strlen(out);
    assert_true(n > 6 && strcmp(out + n - 6, "\x1b[?25h") == 0);
    /* not a terminal: 80 columns, so no line is wider than 79 */
    for (const char *line = out; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char *plain = xstrndup(line, len);
        assert_true(display_width(plain, len) <= 79 || strstr(plain, "gemflow: demo:"));
        free(plain);
        line += len + (nl != NULL);
    }
    free(out);
    cJSON_Delete(ev);
    cJSON_Delete(done);
    cJSON_Delete(end);
    fx_release(&f);
}

/* The text of the frame drawn last (after its hide-cursor sequence), owned by the caller. */
static char *last_frame(struct fx *f)
{
    char *out = fx_output(f);
    const char *last = out;
    for (const char *p = strstr(out, "\x1b[?25l"); p; p = strstr(p + 1, "\x1b[?25l"))
        last = p;
    char *frame = xstrdup(last);
    free(out);
    return frame;
}

static void test_quota_wait_shows_the_reset_not_an_eta(void **state)
{
    struct fx f;
    fx_init(&f);
    /* the done items answered in this run: a running stage shows an ETA */
    cJSON *log[3];
    for (size_t i = 0; i < 3; i++) {
        log[i] = cJSON_CreateArray();
        cJSON *a = cJSON_CreateObject();
        cJSON_AddNumberToObject(a, "ms", 1000);
        cJSON_AddItemToArray(log[i], a);
        f.items[i].attempt_log = log[i];
    }
    for (size_t i = 3; i < 8; i++)
        f.items[i].state = IS_TODO;
    struct display *d = display_new(
        &(struct display_opts){.fd = f.fd, .mode = DISPLAY_LIVE, .color = TX_COLOR_NEVER});
    cJSON *ev = cJSON_CreateObject();
    display_event(d, &f.job, "run_start", ev);
    display_tick(d, 1000);
    char *frame = last_frame(&f);
    assert_non_null(strstr(frame, "eta "));
    assert_null(strstr(frame, "waiting for quota"));
    free(frame);
    /* the stage waits for the reset, two hours from now: both lines say until when (local
     * time), neither has an ETA */
    int64_t until = wall_ms() + 2 * 3600000 + 30000;
    f.st[0].quota_wait_until_ms = until;
    display_event(d, &f.job, "quota_wait", ev);
    display_tick(d, 2000);
    time_t t = (time_t)(until / 1000);
    struct tm tm;
    char at[32], want[96];
    localtime_r(&t, &tm);
    strftime(at, sizeof at, "%H:%M %Z", &tm);
    snprintf(want, sizeof want, "waiting for quota until %s (in 2h00m)", at);
    frame = last_frame(&f);
    assert_int_equal(count(frame, want), 2);
    assert_non_null(strstr(frame, "3/8  waiting for quota until"));
    assert_null(strstr(frame, "eta "));
    free(frame);
    /* the wait ends: the ETA is back, the wait is gone */
    f.st[0].quota_wait_until_ms = 0;
    display_event(d, &f.job, "call_start", ev);
    display_tick(d, 3000);
    frame = last_frame(&f);
    assert_non_null(strstr(frame, "eta "));
    assert_null(strstr(frame, "waiting for quota"));
    free(frame);
    display_free(d);
    for (size_t i = 0; i < 3; i++)
        cJSON_Delete(log[i]);
    cJSON_Delete(ev);
    fx_release(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_are_timestamped_and_filtered),
        cmocka_unit_test(test_quiet_keeps_failures_only),
        cmocka_unit_test(test_control_bytes_never_reach_the_terminal),
        cmocka_unit_test(test_frames_at_most_every_100_ms),
        cmocka_unit_test(test_bars_fit_and_stay_at_run_end),
        cmocka_unit_test(test_quota_wait_shows_the_reset_not_an_eta),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
