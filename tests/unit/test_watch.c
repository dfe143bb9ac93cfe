/* test_watch: the inbox module without inotify: job names, temporary and script names, judging
 * entries by lstat, claiming (the loser of a race leaves nothing, a taken name gets a suffix, a
 * drop found bad once claimed is refused, the job is a copy whoever dropped it cannot reach),
 * refusing into .rejected/ with a .why, and finishing claims left by a dead watcher at any
 * step. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "buf.h"
#include "fsutil.h"
#include "util.h"
#include "watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct dirs {
    char *root, *inbox, *jobs;
};

static void make_dirs(struct dirs *d)
{
    char tmpl[] = "/tmp/gf-watch-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    d->root = xstrdup(tmpl);
    d->inbox = fs_join(d->root, "inbox");
    d->jobs = fs_join(d->root, "jobs");
    assert_int_equal(mkdir(d->inbox, 0777), 0);
    assert_int_equal(mkdir(d->jobs, 0777), 0);
}

static void free_dirs(struct dirs *d)
{
    char *cmd = xasprintf("rm -rf '%s'", d->root);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(d->root);
    free(d->inbox);
    free(d->jobs);
}

static void write_file(const char *dir, const char *rel, const char *text)
{
    char *p = fs_join(dir, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

static char *read_all(const char *dir, const char *rel)
{
    char *p = fs_join(dir, rel);
    struct buf b = BUF_INIT;
    int rc = buf_read_file(&b, p);
    free(p);
    if (rc < 0) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

static void make_dir(const char *dir, const char *rel)
{
    char *p = fs_join(dir, rel);
    assert_int_equal(mkdir(p, 0777), 0);
    free(p);
}

static bool exists(const char *dir, const char *rel)
{
    char *p = fs_join(dir, rel);
    struct stat st;
    bool e = lstat(p, &st) == 0;
    free(p);
    return e;
}

/* Entries in dir (not . and ..). */
static int count_entries(const char *dir)
{
    char *cmd = xasprintf("ls -A '%s' | wc -l", dir);
    FILE *f = popen(cmd, "r");
    int n = -1;
    assert_int_equal(fscanf(f, "%d", &n), 1);
    pclose(f);
    free(cmd);
    return n;
}

static void assert_job_name(const char *entry, bool is_dir, const char *want)
{
    char out[WATCH_NAME_MAX + 1];
    watch_job_name(entry, is_dir, out);
    assert_string_equal(out, want);
}

static void test_job_names(void **state)
{
    assert_job_name("lighthouse.txt", false, "lighthouse");
    assert_job_name("My Video (final)!.fountain", false, "My-Video-final");
    assert_job_name("a.b.md", false, "a.b");
    assert_job_name("my.job", true, "my.job");
    assert_job_name("--rf.txt", false, "rf");
    assert_job_name("..secret.txt", false, "secret");
    assert_job_name("!!!.txt", false, "job");
    assert_job_name("caf\xc3\xa9 cr\xc3\xa8me.txt", false, "caf-cr-me");
    char long_name[200];
    memset(long_name, 'x', 150);
    strcpy(long_name + 150, ".txt");
    char out[WATCH_NAME_MAX + 1];
    watch_job_name(long_name, false, out);
    assert_int_equal(strlen(out), WATCH_NAME_MAX);
}

static void test_names(void **state)
{
    const char *temporary[] = {".hidden.txt", "x.txt~", ".x.txt.swp",   "x.swp", "x.tmp",
                               "x.txt.part",  "x.PART", "x.crdownload", ""};
    for (size_t i = 0; i < ARRAY_SIZE(temporary); i++)
        assert_true(watch_name_is_temporary(temporary[i]));
    assert_false(watch_name_is_temporary("script.txt"));
    assert_false(watch_name_is_temporary("my-job"));
    assert_true(watch_name_is_script("a.txt"));
    assert_true(watch_name_is_script("A.MD"));
    assert_true(watch_name_is_script("scene.fountain"));
    assert_false(watch_name_is_script("a.pdf"));
    assert_false(watch_name_is_script("txt"));
    assert_false(watch_name_is_script("a.txt.bak"));
}

static void test_judge(void **state)
{
    struct dirs d;
    make_dirs(&d);
    struct buf why = BUF_INIT;
    write_file(d.inbox, "ok.txt", "a script\n");
    write_file(d.inbox, "empty.txt", "");
    write_file(d.inbox, "photo.jpg", "jpeg\n");
    write_file(d.inbox, ".hidden.txt", "x\n");
    char *p = fs_join(d.inbox, "huge.txt");
    FILE *f = fopen(p, "w");
    assert_int_equal(ftruncate(fileno(f), WATCH_MAX_BYTES + 1), 0); /* sparse: costs nothing */
    fclose(f);
    free(p);
    p = fs_join(d.inbox, "link.txt");
    assert_int_equal(symlink("ok.txt", p), 0);
    free(p);
    p = fs_join(d.inbox, "pipe.txt");
    assert_int_equal(mkfifo(p, 0600), 0);
    free(p);
    char *sub = fs_join(d.inbox, "dirjob");
    assert_int_equal(mkdir(sub, 0777), 0);
    write_file(sub, "script.txt", "x\n");
    free(sub);
    sub = fs_join(d.inbox, "nothing");
    assert_int_equal(mkdir(sub, 0777), 0);
    free(sub);

    assert_int_equal(watch_judge(d.inbox, "ok.txt", WATCH_EV_READY, &why), WATCH_FILE);
    /* while someone still has it open for writing it waits for the close */
    p = fs_join(d.inbox, "ok.txt");
    FILE *writer = fopen(p, "a");
    free(p);
    assert_int_equal(watch_judge(d.inbox, "ok.txt", WATCH_EV_READY, &why), WATCH_SKIP);
    assert_non_null(strstr(why.data, "open for writing"));
    fclose(writer);
    assert_int_equal(watch_judge(d.inbox, "ok.txt", WATCH_EV_READY, &why), WATCH_FILE);
    assert_int_equal(watch_judge(d.inbox, "ok.txt", WATCH_EV_CREATED, &why), WATCH_SKIP);
    assert_int_equal(watch_judge(d.inbox, "empty.txt", WATCH_EV_READY, &why), WATCH_SKIP);
    assert_non_null(strstr(why.data, "empty"));
    assert_int_equal(watch_judge(d.inbox, "photo.jpg", WATCH_EV_READY, &why), WATCH_SKIP);
    assert_non_null(strstr(why.data, "not a script"));
    assert_int_equal(watch_judge(d.inbox, ".hidden.txt", WATCH_EV_READY, &why), WATCH_SKIP);
    assert_int_equal(why.len, 0);
    assert_int_equal(watch_judge(d.inbox, "gone.txt", WATCH_EV_READY, &why), WATCH_SKIP);
    assert_int_equal(watch_judge(d.inbox, "huge.txt", WATCH_EV_READY, &why), WATCH_REFUSE);
    assert_non_null(strstr(why.data, "16 MB limit"));
    /* a symlink is refused even when it points at a good script, and at creation already */
    assert_int_equal(watch_judge(d.inbox, "link.txt", WATCH_EV_CREATED, &why), WATCH_REFUSE);
    assert_string_equal(why.data, "a symbolic link");
    assert_int_equal(watch_judge(d.inbox, "pipe.txt", WATCH_EV_CREATED, &why), WATCH_REFUSE);
    assert_non_null(strstr(why.data, "FIFO"));
    assert_int_equal(watch_judge(d.inbox, "dirjob", WATCH_EV_READY, &why), WATCH_DIR);
    assert_int_equal(watch_judge(d.inbox, "dirjob", WATCH_EV_CREATED, &why), WATCH_SKIP);
    assert_int_equal(watch_judge(d.inbox, "nothing", WATCH_EV_READY, &why), WATCH_REFUSE);

    char **names;
    long n = watch_list(d.inbox, &names, NULL);
    assert_int_equal(n, 8); /* all but .hidden.txt */
    for (long i = 0; i < n; i++) {
        assert_true(names[i][0] != '.');
        free(names[i]);
    }
    free(names);
    buf_release(&why);
    free_dirs(&d);
}

static void test_claim_file(void **state)
{
    struct dirs d;
    make_dirs(&d);
    struct buf dir = BUF_INIT, refused = BUF_INIT;
    struct gf_err err = GF_ERR_INIT;
    write_file(d.inbox, "story.txt", "first\n");
    assert_int_equal(watch_claim(d.inbox, "story.txt", d.jobs, 0, &dir, &refused, &err), 0);
    char *want = fs_join(d.jobs, "story");
    assert_string_equal(dir.data, want);
    free(want);
    char *text = read_all(d.jobs, "story/script.txt");
    assert_string_equal(text, "first\n");
    free(text);
    assert_false(exists(d.inbox, "story.txt"));

    /* a second claim of the same name: it is gone, nothing is left behind */
    assert_int_equal(watch_claim(d.inbox, "story.txt", d.jobs, 0, &dir, &refused, &err), 1);
    assert_int_equal(refused.len, 0);
    assert_int_equal(count_entries(d.jobs), 1);

    /* a new drop with a taken name gets a suffix; the first job is untouched */
    write_file(d.inbox, "story.md", "second\n");
    assert_int_equal(watch_claim(d.inbox, "story.md", d.jobs, 0, &dir, &refused, &err), 0);
    assert_true(str_ends_with(dir.data, "/story-2"));
    text = read_all(d.jobs, "story/script.txt");
    assert_string_equal(text, "first\n");
    free(text);
    text = read_all(d.jobs, "story-2/script.txt");
    assert_string_equal(text, "second\n");
    free(text);
    assert_int_equal(count_entries(d.jobs), 2);
    buf_release(&dir);
    buf_release(&refused);
    free_dirs(&d);
}

static void test_claim_dir_checked_once_claimed(void **state)
{
    struct dirs d;
    make_dirs(&d);
    struct buf dir = BUF_INIT, refused = BUF_INIT;
    struct gf_err err = GF_ERR_INIT;
    char *sub = fs_join(d.inbox, "good");
    assert_int_equal(mkdir(sub, 0777), 0);
    write_file(sub, "script.txt", "x\n");
    write_file(sub, "workflow.yaml", "version: 1\n");
    free(sub);
    assert_int_equal(watch_claim(d.inbox, "good", d.jobs, 0, &dir, &refused, &err), 0);
    assert_true(exists(d.jobs, "good/workflow.yaml"));

    /* a directory holding a symlink deep inside is refused after the claim */
    sub = fs_join(d.inbox, "bad");
    assert_int_equal(mkdir(sub, 0777), 0);
    write_file(sub, "script.txt", "x\n");
    char *deep = fs_join(sub, "prompts");
    assert_int_equal(mkdir(deep, 0777), 0);
    char *link = fs_join(deep, "p.md");
    assert_int_equal(symlink("/etc/passwd", link), 0);
    assert_int_equal(watch_claim(d.inbox, "bad", d.jobs, 0, &dir, &refused, &err), 1);
    assert_non_null(strstr(refused.data, "'prompts/p.md' is a symbolic link"));
    assert_true(exists(d.inbox, ".rejected/bad/prompts/p.md"));
    assert_true(exists(d.inbox, ".rejected/bad.why"));
    assert_false(exists(d.jobs, "bad"));
    assert_int_equal(count_entries(d.jobs), 1); /* no staging left */
    free(link);
    free(deep);
    free(sub);
    buf_release(&dir);
    buf_release(&refused);
    free_dirs(&d);
}

static void test_refuse(void **state)
{
    struct dirs d;
    make_dirs(&d);
    struct buf where = BUF_INIT;
    struct gf_err err = GF_ERR_INIT;
    for (int round = 1; round <= 2; round++) {
        char *p = fs_join(d.inbox, "link.txt");
        assert_int_equal(symlink("/etc/hostname", p), 0);
        free(p);
        assert_int_equal(watch_refuse(d.inbox, "link.txt", "a symbolic link", &where, &err), 0);
        assert_true(str_ends_with(where.data,
                                  round == 1 ? "/.rejected/link.txt" : "/.rejected/link-2.txt"));
    }
    char *why = read_all(d.inbox, ".rejected/link-2.txt.why");
    assert_non_null(why);
    assert_non_null(strstr(why, "refused 'link.txt': a symbolic link"));
    free(why);
    /* gone before we got to it: another watcher refused it */
    assert_int_equal(watch_refuse(d.inbox, "link.txt", "a symbolic link", &where, &err), 1);
    /* a rejected entry's name never collides with another's .why */
    write_file(d.inbox, ".rejected/x.why", "an entry named x.why\n");
    char *p = fs_join(d.inbox, "x");
    assert_int_equal(mkfifo(p, 0600), 0);
    free(p);
    assert_int_equal(watch_refuse(d.inbox, "x", "a FIFO", &where, &err), 0);
    assert_true(str_ends_with(where.data, "/.rejected/x-2"));
    char *kept = read_all(d.inbox, ".rejected/x.why");
    assert_string_equal(kept, "an entry named x.why\n");
    free(kept);
    buf_release(&where);
    free_dirs(&d);
}

static void host_tag(char *out, size_t n)
{
    char h[256] = "";
    gethostname(h, sizeof h - 1);
    size_t o = 0;
    for (size_t i = 0; h[i] && o < 64 && o + 1 < n; i++) {
        char c = h[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_';
        out[o++] = ok ? c : '-';
    }
    out[o] = '\0';
}

static void note_found(void *ctx, const char *stage, const char *msg)
{
    struct buf *b = ctx;
    buf_addf(b, "%s|", stage ? stage : msg);
}

/* Finish every claim taken over (listed in `seen` by note_found); returns how many became
 * jobs. */
static int adopt_all(const struct dirs *d, const char *seen)
{
    int jobs = 0;
    char *list = xstrdup(seen), *save = NULL;
    for (char *t = strtok_r(list, "|", &save); t; t = strtok_r(NULL, "|", &save)) {
        if (!strstr(t, "/.gfclaim+"))
            continue;
        struct buf dir = BUF_INIT, refused = BUF_INIT, note = BUF_INIT;
        struct gf_err err = GF_ERR_INIT;
        int rc = watch_adopt(d->inbox, t, NULL, d->jobs, 0, NULL, &dir, &refused, &note, &err);
        assert_true(rc >= 0);
        assert_int_equal(note.len, 0);
        jobs += rc == 0;
        buf_release(&dir);
        buf_release(&refused);
        buf_release(&note);
    }
    free(list);
    return jobs;
}

static char *claim_name(const char *host, pid_t pid, int seq, const char *name)
{
    return xasprintf(".gfclaim+%s+%ld+%d+%s", host, (long)pid, seq, name);
}

static void test_recover(void **state)
{
    struct dirs d;
    make_dirs(&d);
    char host[65];
    host_tag(host, sizeof host);
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    /* the layout before claims were copies: the drop's contents in the staging directory */
    char *left = claim_name(host, dead, 7, "crashed");
    char *empty = claim_name(host, dead, 8, "nothing");
    char *alive = claim_name(host, getppid(), 9, "busy");
    char *other = xstrdup(".gfclaim+elsewhere+1+1+theirs");
    /* the claim renamed, not copied yet (a partial copy is redone) */
    char *claimed = claim_name(host, dead, 10, "claimed");
    /* the copy complete, not published */
    char *copied = claim_name(host, dead, 11, "copied");
    /* published; the original not removed yet */
    char *published = claim_name(host, dead, 12, "published");
    char *names[] = {left, empty, alive, other, claimed, copied, published};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        char *p = fs_join(d.jobs, names[i]);
        assert_int_equal(mkdir(p, 0700), 0);
        if (names[i] == claimed) {
            make_dir(p, "drop");
            write_file(p, "drop/script.txt", "claimed, not copied\n");
            make_dir(p, "copy");
            write_file(p, "copy/half.txt", "half a copy\n");
        } else if (names[i] == copied) {
            make_dir(p, "old");
            write_file(p, "old/script.txt", "the original\n");
            make_dir(p, "copy");
            write_file(p, "copy/script.txt", "the copy\n");
        } else if (names[i] == published) {
            make_dir(p, "old");
            write_file(p, "old/script.txt", "the original, already a job\n");
        } else if (names[i] != empty) {
            write_file(p, "script.txt", "left behind\n");
        }
        free(p);
    }
    struct buf seen = BUF_INIT;
    assert_int_equal(watch_recover(d.jobs, note_found, &seen), 4);
    assert_non_null(strstr(seen.data, "host 'elsewhere'"));
    assert_int_equal(adopt_all(&d, seen.data), 3);
    char *text = read_all(d.jobs, "crashed/script.txt");
    assert_string_equal(text, "left behind\n");
    free(text);
    text = read_all(d.jobs, "claimed/script.txt");
    assert_string_equal(text, "claimed, not copied\n");
    free(text);
    assert_false(exists(d.jobs, "claimed/half.txt")); /* the partial copy was redone */
    text = read_all(d.jobs, "copied/script.txt");
    assert_string_equal(text, "the copy\n");
    free(text);
    assert_false(exists(d.jobs, "published")); /* it was a job already: only cleaned up */
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        assert_int_equal(exists(d.jobs, names[i]), names[i] == alive || names[i] == other);
    /* nothing else is left: 3 jobs, the live watcher's claim, the other host's */
    assert_int_equal(count_entries(d.jobs), 5);
    buf_release(&seen);
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        free(names[i]);
    free_dirs(&d);
}

static void test_check_rename(void **state)
{
    struct dirs d;
    make_dirs(&d);
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(watch_check_rename(d.inbox, d.jobs, &err), 0);
    assert_int_equal(count_entries(d.inbox), 0);
    assert_int_equal(count_entries(d.jobs), 0);
    char *missing = fs_join(d.root, "missing");
    assert_int_equal(watch_check_rename(d.inbox, missing, &err), -1);
    assert_non_null(strstr(err.msg, "cannot move a file from inbox"));
    assert_int_equal(count_entries(d.inbox), 0); /* the probe is cleaned up */
    free(missing);
    free_dirs(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_names),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_judge),
        cmocka_unit_test(test_claim_file),
        cmocka_unit_test(test_claim_dir_checked_once_claimed),
        cmocka_unit_test(test_refuse),
        cmocka_unit_test(test_recover),
        cmocka_unit_test(test_check_rename),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
