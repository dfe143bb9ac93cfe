/* test_checkpoint: replay of progress.jsonl (torn line, bad lines, latest item_done wins,
 * stage_reset, item_failed, op_create/op_started/op_ended), judging items (done, edited, changed
 * key, missing output), and the log writer cutting a torn tail before appending. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "buf.h"
#include "checkpoint.h"
#include "fsutil.h"
#include "joblog.h"
#include "sha256.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define KEY_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char *make_dir(void)
{
    char tmpl[] = "/tmp/gf-ckpt-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return xstrdup(d);
}

static void rm_rf(const char *dir)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

static void write_file(const char *dir, const char *rel, const char *text)
{
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(fs_write_atomic(dir, rel, text, strlen(text), FS_ATOMIC, NULL, &err), 0);
}

/* An item_done line for an output whose bytes are `content` as it is on disk now. */
/* Set a file's mtime (ns since the epoch) explicitly with utimensat. */
static void set_mtime(const char *dir, const char *rel, int64_t ns)
{
    char *p = fs_join(dir, rel);
    struct timespec ts[2] = {{0, UTIME_OMIT}, {ns / 1000000000, ns % 1000000000}};
    assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
    free(p);
}

static int64_t mtime_of(const char *dir, const char *rel)
{
    struct fs_facts f;
    assert_int_equal(fs_stat(dir, rel, &f), 0);
    return f.mtime_ns;
}

/* The mtime_ns an item_done line recorded. */
static int64_t recorded_mtime(const char *line)
{
    const char *m = strstr(line, "\"mtime_ns\":\"");
    assert_non_null(m);
    return strtoll(m + 12, NULL, 10);
}

static char *done_line(const char *dir, const char *stage, const char *item, const char *key,
                       const char *path, const char *content)
{
    char hex[SHA256_HEX_LEN + 1];
    sha256_hex(content, strlen(content), hex);
    struct fs_facts f;
    assert_int_equal(fs_stat(dir, path, &f), 0);
    return xasprintf(
        "{\"ts\":\"2026-01-01T00:00:00.000Z\",\"event\":\"item_done\",\"stage\":\"%s\","
        "\"item\":\"%s\",\"key\":\"%s\",\"outputs\":[{\"path\":\"%s\",\"bytes\":%zu,"
        "\"sha256\":\"%s\",\"mtime_ns\":\"%lld\"}]}\n",
        stage, item, key, path, strlen(content), hex, (long long)f.mtime_ns);
}

static void test_done_item_is_done(void **state)
{
    char *dir = make_dir();
    write_file(dir, "images/s01.png", "PNGDATA");
    char *line = done_line(dir, "images", "s01", KEY_A, "images/s01.png", "PNGDATA");
    write_file(dir, "progress.jsonl", line);
    struct ckpt ck;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(ckpt_load(&ck, dir, &err), 0);
    assert_int_equal(ckpt_judge(&ck, dir, "images", "s01", KEY_A, NULL), CK_DONE);
    assert_int_equal(ckpt_judge(&ck, dir, "images", "s02", KEY_A, NULL), CK_NEW);
    assert_int_equal(ckpt_judge(&ck, dir, "images", "s01", KEY_B, NULL), CK_CHANGED);
    ckpt_release(&ck);
    free(line);
    rm_rf(dir);
    free(dir);
}

static void test_torn_last_line_is_ignored(void **state)
{
    char *dir = make_dir();
    write_file(dir, "a.json", "{}");
    char *line = done_line(dir, "s", "a", KEY_A, "a.json", "{}");
    /* the same event for another item, cut off mid-write */
    struct buf log = BUF_INIT;
    buf_adds(&log, line);
    buf_adds(&log,
             "{\"ts\":\"2026-01-01T00:00:01.000Z\",\"event\":\"item_done\",\"stage\":\"s\",\"it");
    write_file(dir, "progress.jsonl", log.data);
    struct ckpt ck;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(ckpt_load(&ck, dir, &err), 0);
    assert_true(ck.stats.torn);
    assert_int_equal(ck.stats.lines, 1);
    assert_int_equal(ckpt_judge(&ck, dir, "s", "a", KEY_A, NULL), CK_DONE);
    ckpt_release(&ck);

    /* opening the log for append cuts the torn tail, so the next event starts a fresh line */
    struct joblog jl;
    bool torn = false;
    assert_int_equal(joblog_open(&jl, dir, &torn, &err), 0);
    assert_true(torn);
    assert_int_equal(joblog_append(&jl, "run_start", NULL, true, &err), 0);
    joblog_close(&jl);
    char *path = fs_join(dir, "progress.jsonl");
    struct buf after = BUF_INIT;
    assert_int_equal(buf_read_file(&after, path), 0);
    assert_int_equal(strncmp(after.data, line, strlen(line)), 0);
    assert_non_null(strstr(after.data + strlen(line), "\"event\":\"run_start\""));
    assert_null(strstr(after.data, "\"it{"));
    struct joblog_stats st;
    assert_int_equal(joblog_replay(path, NULL, NULL, &st, &err), 0);
    assert_int_equal(st.lines, 2);
    assert_int_equal(st.bad_lines, 0);
    assert_false(st.torn);
    buf_release(&after);
    buf_release(&log);
    free(path);
    free(line);
    rm_rf(dir);
    free(dir);
}

static void test_bad_middle_line_is_skipped(void **state)
{
    char *dir = make_dir();
    write_file(dir, "a.json", "{}");
    char *line = done_line(dir, "s", "a", KEY_A, "a.json", "{}");
    char *log = xasprintf("not json at all\n%s[1,2]\n", line);
    write_file(dir, "progress.jsonl", log);
    struct ckpt ck;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(ckpt_load(&ck, dir, &err), 0);
    assert_int_equal(ck.stats.bad_lines, 2);
    assert_int_equal(ckpt_judge(&ck, dir, "s", "a", KEY_A, NULL), CK_DONE);
    ckpt_release(&ck);
    free(log);
    free(line);
    rm_rf(dir);
    free(dir);
}

static void test_edited_output_is_kept_and_reported(void **state)
{
    char *dir = make_dir();
    write_file(dir, "prompts.json", "{\"v\":1}");
    char *line = done_line(dir, "prompts", "prompts", KEY_A, "prompts.json", "{\"v\":1}");
    write_file(dir, "progress.jsonl", line);
    write_file(dir, "prompts.json", "{\"v\":2, \"edited\": true}");
    struct ckpt ck;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(ckpt_load(&ck, dir, &err), 0);
    const char *edited = NULL;
    assert_int_equal(ckpt_judge(&ck, dir, "prompts", "prompts", KEY_A, &edited), CK_EDITED);
    assert_string_equal(edited, "prompts.json");
    /* a changed request beats an edit: the key decides first */
    assert_int_equal(ckpt_judge(&ck, dir, "prompts", "prompts", KEY_B, NULL), CK_CHANGED);
    ckpt_release(&ck);
    free(line);
    rm_rf(dir);
    free(dir);
}

static void test_touched_but_same_bytes_is_done(void **state)
{
    char *dir = make_dir();
    write_file(dir, "a.txt", "same");
    char *line = done_line(dir, "s", "a", KEY_A, "a.txt", "same");
    write_file(dir, "progress.jsonl", line);
    write_file(dir, "a.txt", "same");
    /* another mtime, set explicitly (a sleep may not change it on a coarse clock), same bytes:
     * the cheap check cannot decide, so the file is hashed and found equal */
    set_mtime(dir, "a.txt", 1000000000);
    assert_true(mtime_of(dir, "a.txt") != recorded_mtime(line));
    struct ckpt ck;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(ckpt_load(&ck, dir, &err), 0);
    assert_int_equal(ckpt_judge(&ck, dir, "s", "a", KEY_A, NULL), CK_DONE);
    ckpt_release(&ck);
    free(line);
    rm_rf(dir);
    free(dir);
}

static void test_same_size_and_mtime_is_not_hashed(void **state)
{
    char *dir = make_dir();
    write_file(dir, "a.txt", "aaaa");
    char *line = done_line(dir, "s", "a", KEY_A, "a.txt", "aaaa");
    write_file(dir, "progress.jsonl", line);
    int64_t mt = recorded_mtime(line);
    /* other bytes of the same size, the recorded mtime put back: the cheap check (size and
     * mtime) takes it as unchanged without hashing it, which is what makes a no-op rerun fast;
     * a hash would have called it edited */
    write_file(dir, "a.txt", "bbbb");
    set_mtime(dir, "a.txt", mt);
    assert_int_equal(mtime_of(dir, "a.txt"), mt);
    struct ckpt ck;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(ckpt_load(&ck, dir, &err), 0);
    assert_int_equal(ckpt_judge(&ck, dir, "s", "a", KEY_A, NULL), CK_DONE);
    /* one nanosecond off, and the hash finds the edit */
    set_mtime(dir, "a.txt", mt + 1);
    assert_int_equal(ckpt_judge(&ck, dir, "s", "a", KEY_A, NULL), CK_EDITED);
    ckpt_release(&ck);
    free(line);
    rm_rf(dir);
    free(dir);
}

static void test_missing_output_is_missing(void **state)
{
    char *dir = make_dir();
    write_file(dir, "audio/s01.wav", "RIFF");
    char *line = done_line(dir, "narration", "s01", KEY_A, "audio/s01.wav", "RIFF");
    write_file(dir, "progress.jsonl", line);
    char *p = fs_join(dir, "audio/s01.wav");
    unlink(p);
    struct ckpt ck;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(ckpt_load(&ck, dir, &err), 0);
    assert_int_equal(ckpt_judge(&ck, dir, "narration", "s01", KEY_A, NULL), CK_MISSING);
    ckpt_release(&ck);
    free(p);
    free(line);
    rm_rf(dir);
    free(dir);
}

static void test_latest_done_wins_and_reset_clears(void **state)
{
    char *dir = make_dir();
    write_file(dir, "a.txt", "one");
    char *l1 = done_line(dir, "s", "a", KEY_A, "a.txt", "one");
    write_file(dir, "a.txt", "two");
    char *l2 = done_line(dir, "s", "a", KEY_B, "a.txt", "two");
    char *log = xasprintf("%s%s", l1, l2);
    write_file(dir, "progress.jsonl", log);
    struct ckpt ck;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(ckpt_load(&ck, dir, &err), 0);
    assert_int_equal(ckpt_judge(&ck, dir, "s", "a", KEY_B, NULL), CK_DONE);
    assert_int_equal(ckpt_judge(&ck, dir, "s", "a", KEY_A, NULL), CK_CHANGED);
    ckpt_release(&ck);

    char *log2 = xasprintf("%s{\"ts\":\"x\",\"event\":\"stage_reset\",\"stage\":\"s\"}\n", log);
    write_file(dir, "progress.jsonl", log2);
    assert_int_equal(ckpt_load(&ck, dir, &err), 0);
    assert_int_equal(ckpt_judge(&ck, dir, "s", "a", KEY_B, NULL), CK_NEW);
    ckpt_release(&ck);
    free(l1);
    free(l2);
    free(log);
    free(log2);
    rm_rf(dir);
    free(dir);
}

static void test_failure_after_done_is_remembered(void **state)
{
    char *dir = make_dir();
    write_file(dir, "a.txt", "one");
    char *l1 = done_line(dir, "s", "a", KEY_A, "a.txt", "one");
    char *log =
        xasprintf("%s{\"ts\":\"x\",\"event\":\"item_failed\",\"stage\":\"s\",\"item\":\"a\","
                  "\"key\":\"" KEY_B "\",\"error\":{\"message\":\"API key not valid\"}}\n",
                  l1);
    write_file(dir, "progress.jsonl", log);
    struct ckpt ck;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(ckpt_load(&ck, dir, &err), 0);
    const struct ckpt_item *it = ckpt_get(&ck, "s", "a");
    assert_non_null(it);
    assert_string_equal(it->failed_key, KEY_B);
    assert_string_equal(it->fail_message, "API key not valid");
    /* the earlier success still holds for its own key */
    assert_int_equal(ckpt_judge(&ck, dir, "s", "a", KEY_A, NULL), CK_DONE);
    ckpt_release(&ck);
    free(l1);
    free(log);
    rm_rf(dir);
    free(dir);
}

static void test_damaged_done_line_changes_nothing(void **state)
{
    char *dir = make_dir();
    write_file(dir, "a.txt", "one");
    /* unsafe path, short key, negative size: each ignored */
    const char *bad =
        "{\"event\":\"item_done\",\"stage\":\"s\",\"item\":\"a\",\"key\":\"" KEY_A
        "\",\"outputs\":[{\"path\":\"../../etc/passwd\",\"bytes\":3,\"sha256\":\"" KEY_A "\"}]}\n"
        "{\"event\":\"item_done\",\"stage\":\"s\",\"item\":\"b\",\"key\":\"abc\","
        "\"outputs\":[]}\n"
        "{\"event\":\"item_done\",\"stage\":\"s\",\"item\":\"c\",\"key\":\"" KEY_A
        "\",\"outputs\":[{\"path\":\"a.txt\",\"bytes\":-1,\"sha256\":\"" KEY_A "\"}]}\n";
    write_file(dir, "progress.jsonl", bad);
    struct ckpt ck;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(ckpt_load(&ck, dir, &err), 0);
    assert_int_equal(ckpt_judge(&ck, dir, "s", "a", KEY_A, NULL), CK_NEW);
    assert_int_equal(ckpt_judge(&ck, dir, "s", "b", "abc", NULL), CK_NEW);
    assert_int_equal(ckpt_judge(&ck, dir, "s", "c", KEY_A, NULL), CK_NEW);
    ckpt_release(&ck);
    rm_rf(dir);
    free(dir);
}

static void test_atomic_write_replaces_whole_file(void **state)
{
    char *dir = make_dir();
    struct gf_err err = GF_ERR_INIT;
    struct fs_facts f;
    assert_int_equal(fs_write_atomic(dir, "deep/er/x.bin", "12345", 5, FS_DURABLE, &f, &err), 0);
    assert_int_equal(f.bytes, 5);
    assert_int_equal(fs_write_atomic(dir, "deep/er/x.bin", "ab", 2, FS_DURABLE, &f, &err), 0);
    char *p = fs_join(dir, "deep/er/x.bin");
    struct buf b = BUF_INIT;
    assert_int_equal(buf_read_file(&b, p), 0);
    assert_string_equal(b.data, "ab");
    /* no temporary file is left beside it */
    char *cmd = xasprintf("test $(ls -A '%s/deep/er' | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    buf_release(&b);
    free(p);
    rm_rf(dir);
    free(dir);
}

static void test_atomic_write_failure_keeps_old_file(void **state)
{
    char *dir = make_dir();
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(fs_write_atomic(dir, "keep.txt", "old", 3, FS_DURABLE, NULL, &err), 0);
    /* a directory in the way of the temporary file's parent makes the write fail */
    write_file(dir, "blocker", "x");
    assert_int_equal(fs_write_atomic(dir, "blocker/new.txt", "new", 3, FS_DURABLE, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "blocker"));
    char *p = fs_join(dir, "keep.txt");
    struct buf b = BUF_INIT;
    assert_int_equal(buf_read_file(&b, p), 0);
    assert_string_equal(b.data, "old");
    buf_release(&b);
    free(p);
    rm_rf(dir);
    free(dir);
}

static void test_rel_path_safety(void **state)
{
    assert_true(fs_rel_is_safe("images/s01.png"));
    assert_true(fs_rel_is_safe("a"));
    assert_false(fs_rel_is_safe("../x"));
    assert_false(fs_rel_is_safe("a/../../x"));
    assert_false(fs_rel_is_safe("/etc/passwd"));
    assert_false(fs_rel_is_safe("a//b"));
    assert_false(fs_rel_is_safe("a/./b"));
    assert_false(fs_rel_is_safe("a\\b"));
    assert_false(fs_rel_is_safe(""));
    assert_false(fs_rel_is_safe("a/"));
}

static void test_sweep_removes_only_crash_leftovers(void **state)
{
    char *dir = make_dir();
    write_file(dir, "images/.s01.png.tmp-4242", "half");
    write_file(dir, ".manifest.json.tmp-17", "half");
    write_file(dir, "images/s02.png", "whole");
    write_file(dir, "notes.tmp-12", "user file: no leading dot");
    write_file(dir, "images/.hidden.tmp-x1", "not a pid suffix");
    assert_int_equal(fs_sweep_temporaries(dir), 2);
    struct fs_facts f;
    assert_int_equal(fs_stat(dir, "images/.s01.png.tmp-4242", &f), -1);
    assert_int_equal(fs_stat(dir, ".manifest.json.tmp-17", &f), -1);
    assert_int_equal(fs_stat(dir, "images/s02.png", &f), 0);
    assert_int_equal(fs_stat(dir, "notes.tmp-12", &f), 0);
    assert_int_equal(fs_stat(dir, "images/.hidden.tmp-x1", &f), 0);
    rm_rf(dir);
    free(dir);
}

/* Long-running work: op_create (sent, answer unknown), op_started (the API's id), op_ended (over)
 * and item_done (over, done) replayed; a key other than the pending one is not pending. */
static void test_operation_events_replay(void **state)
{
    char *dir = make_dir();
    write_file(dir, "clips/s01.mp4", "MP4DATA");
    char *done = done_line(dir, "clips", "s01", KEY_A, "clips/s01.mp4", "MP4DATA");
    char *log = xasprintf(
        "{\"ts\":\"2026-01-01T00:00:01.000Z\",\"event\":\"op_create\",\"stage\":\"clips\","
        "\"item\":\"s01\",\"key\":\"" KEY_A "\"}\n"
        "{\"ts\":\"2026-01-01T00:00:02.000Z\",\"event\":\"op_create\",\"stage\":\"clips\","
        "\"item\":\"s02\",\"key\":\"" KEY_A "\"}\n"
        "{\"ts\":\"2026-01-01T00:00:03.000Z\",\"event\":\"op_started\",\"stage\":\"clips\","
        "\"item\":\"s02\",\"key\":\"" KEY_A "\",\"operation\":\"v1_abc\"}\n"
        "{\"ts\":\"2026-01-01T00:00:04.000Z\",\"event\":\"op_started\",\"stage\":\"clips\","
        "\"item\":\"s03\",\"key\":\"" KEY_B "\",\"operation\":\"v1_def\"}\n"
        "{\"ts\":\"2026-01-01T00:00:05.000Z\",\"event\":\"op_ended\",\"stage\":\"clips\","
        "\"item\":\"s03\",\"key\":\"" KEY_B "\"}\n"
        "{\"ts\":\"2026-01-01T00:00:06.000Z\",\"event\":\"op_started\",\"stage\":\"clips\","
        "\"item\":\"s04\",\"key\":\"" KEY_A "\",\"operation\":\"v1_ghi\"}\n"
        "%s"
        "{\"ts\":\"2026-01-01T00:00:07.000Z\",\"event\":\"op_started\",\"stage\":\"clips\","
        "\"item\":\"s05\",\"key\":\"" KEY_A "\",\"operation\":\"\"}\n",
        done);
    /* s04's op is followed by s01's item_done, not its own: it stays pending */
    write_file(dir, "progress.jsonl", log);
    struct ckpt ck;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(ckpt_load(&ck, dir, &err), 0);

    /* s01: a create sent, then done: nothing pending, and done */
    assert_null(ckpt_pending_op(&ck, "clips", "s01", KEY_A));
    assert_int_equal(ckpt_judge(&ck, dir, "clips", "s01", KEY_A, NULL), CK_DONE);
    /* s02: the create's answer recorded: pending with the API's id and the time it was accepted */
    const struct ckpt_item *op = ckpt_pending_op(&ck, "clips", "s02", KEY_A);
    assert_non_null(op);
    assert_string_equal(op->op_id, "v1_abc");
    assert_string_equal(op->op_ts, "2026-01-01T00:00:03.000Z");
    assert_null(ckpt_pending_op(&ck, "clips", "s02", KEY_B)); /* another request: not this op */
    assert_int_equal(ckpt_judge(&ck, dir, "clips", "s02", KEY_A, NULL), CK_NEW);
    /* s03: started, then ended: nothing pending */
    assert_null(ckpt_pending_op(&ck, "clips", "s03", KEY_B));
    /* s04: pending */
    op = ckpt_pending_op(&ck, "clips", "s04", KEY_A);
    assert_non_null(op);
    assert_string_equal(op->op_id, "v1_ghi");
    /* s05: an op_started without an id is ignored (no create recorded before it) */
    assert_null(ckpt_pending_op(&ck, "clips", "s05", KEY_A));
    ckpt_release(&ck);

    /* a create whose answer was never recorded (a crash between send and answer): pending, no id */
    free(log);
    log = xasprintf("{\"ts\":\"2026-01-01T00:00:01.000Z\",\"event\":\"op_create\",\"stage\":"
                    "\"clips\",\"item\":\"s09\",\"key\":\"" KEY_B "\"}\n");
    write_file(dir, "progress.jsonl", log);
    assert_int_equal(ckpt_load(&ck, dir, &err), 0);
    op = ckpt_pending_op(&ck, "clips", "s09", KEY_B);
    assert_non_null(op);
    assert_null(op->op_id);
    assert_string_equal(op->op_ts, "2026-01-01T00:00:01.000Z");
    ckpt_release(&ck);
    free(log);
    free(done);
    rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_done_item_is_done),
        cmocka_unit_test(test_torn_last_line_is_ignored),
        cmocka_unit_test(test_bad_middle_line_is_skipped),
        cmocka_unit_test(test_edited_output_is_kept_and_reported),
        cmocka_unit_test(test_touched_but_same_bytes_is_done),
        cmocka_unit_test(test_same_size_and_mtime_is_not_hashed),
        cmocka_unit_test(test_missing_output_is_missing),
        cmocka_unit_test(test_latest_done_wins_and_reset_clears),
        cmocka_unit_test(test_failure_after_done_is_remembered),
        cmocka_unit_test(test_damaged_done_line_changes_nothing),
        cmocka_unit_test(test_atomic_write_replaces_whole_file),
        cmocka_unit_test(test_atomic_write_failure_keeps_old_file),
        cmocka_unit_test(test_rel_path_safety),
        cmocka_unit_test(test_sweep_removes_only_crash_leftovers),
        cmocka_unit_test(test_operation_events_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
