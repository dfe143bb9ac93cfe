/* test_fsutil: opening, creating and replacing files beneath a job directory never goes through
 * a symbolic link inside it (an intermediate directory or the last component), refuses ".." and
 * absolute paths, and leaves the link's target untouched; the same with openat2 and with the
 * component walk that stands in for it on older kernels. The directory itself may be a link. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "buf.h"
#include "fsutil.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VICTIM_TEXT "victim bytes\n"

struct tree {
    char *root;    /* a temporary directory */
    char *job;     /* root/job */
    char *outside; /* root/outside, a directory links point to */
    char *victim;  /* root/victim, a file links point to */
};

static char *path2(const char *a, const char *b)
{
    return xasprintf("%s/%s", a, b);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path)
{
    struct buf b = BUF_INIT;
    if (buf_read_file(&b, path) < 0)
        return NULL;
    return buf_detach(&b, NULL);
}

static int setup(void **state)
{
    struct tree *t = xcalloc(1, sizeof *t);
    char tmpl[] = "/tmp/gemflow-test-fsutil.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    t->root = xstrdup(tmpl);
    t->job = path2(t->root, "job");
    t->outside = path2(t->root, "outside");
    t->victim = path2(t->root, "victim");
    assert_int_equal(mkdir(t->job, 0777), 0);
    assert_int_equal(mkdir(t->outside, 0777), 0);
    write_text(t->victim, VICTIM_TEXT);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct tree *t = *state;
    char *cmd = xasprintf("rm -rf '%s'", t->root);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(t->root);
    free(t->job);
    free(t->outside);
    free(t->victim);
    free(t);
    fs_beneath_use_openat2(true);
    return 0;
}

/* link job/rel -> target */
static void plant(const struct tree *t, const char *rel, const char *target)
{
    char *p = path2(t->job, rel);
    assert_int_equal(symlink(target, p), 0);
    free(p);
}

static void assert_outside_untouched(const struct tree *t)
{
    char *v = read_text(t->victim);
    assert_non_null(v);
    assert_string_equal(v, VICTIM_TEXT);
    free(v);
    char *cmd = xasprintf("test -z \"$(ls -A '%s')\"", t->outside);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

static void check_refusals(struct tree *t)
{
    struct gf_err err = GF_ERR_INIT;
    plant(t, "out", t->outside);
    plant(t, "log", t->victim);

    /* an intermediate directory that is a link */
    errno = 0;
    assert_int_equal(fs_open_beneath(t->job, "out/a.png", O_WRONLY | O_CREAT, 0644, &err), -1);
    assert_int_equal(errno, ELOOP);
    assert_non_null(strstr(err.msg, "'out' in '"));
    assert_non_null(strstr(err.msg, "is a symbolic link: refusing to write through it"));
    /* the last component is a link: O_CREAT does not follow it */
    err = (struct gf_err)GF_ERR_INIT;
    assert_int_equal(fs_open_beneath(t->job, "log", O_RDWR | O_CREAT | O_APPEND, 0644, &err), -1);
    assert_non_null(strstr(err.msg, "'log' in '"));
    /* reading through it is refused too, and says so */
    err = (struct gf_err)GF_ERR_INIT;
    assert_int_equal(fs_open_beneath(t->job, "log", O_RDONLY, 0, &err), -1);
    assert_non_null(strstr(err.msg, "refusing to read through it"));
    /* mkdir -p through the link */
    err = (struct gf_err)GF_ERR_INIT;
    assert_int_equal(fs_mkdirs(t->job, "out/deeper/still", &err), -1);
    assert_non_null(strstr(err.msg, "'out' in '"));
    /* an atomic write below the link */
    err = (struct gf_err)GF_ERR_INIT;
    assert_int_equal(fs_write_atomic(t->job, "out/x.json", "{}", 2, FS_DURABLE, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "is a symbolic link"));
    /* ".." and absolute paths */
    err = (struct gf_err)GF_ERR_INIT;
    assert_int_equal(fs_open_beneath(t->job, "../victim", O_RDONLY, 0, &err), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(fs_open_beneath(t->job, t->victim, O_RDONLY, 0, &err), -1);
    assert_outside_untouched(t);
}

static void test_refusals_openat2(void **state)
{
    fs_beneath_use_openat2(true);
    check_refusals(*state);
}

static void test_refusals_walk(void **state)
{
    fs_beneath_use_openat2(false);
    check_refusals(*state);
}

/* A link in the place of the file an atomic write replaces is replaced, not followed. */
static void check_replace(struct tree *t)
{
    struct gf_err err = GF_ERR_INIT;
    plant(t, "manifest.json", t->victim);
    struct fs_facts facts;
    assert_int_equal(fs_write_atomic(t->job, "manifest.json", "new\n", 4, FS_DURABLE, &facts, &err),
                     0);
    assert_int_equal(facts.bytes, 4);
    char *p = path2(t->job, "manifest.json");
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    char *text = read_text(p);
    assert_string_equal(text, "new\n");
    free(text);
    free(p);
    assert_outside_untouched(t);
    /* and a nested new file makes its directories */
    assert_int_equal(fs_write_atomic(t->job, "a/b/c.txt", "x", 1, FS_ATOMIC, NULL, &err), 0);
    p = path2(t->job, "a/b/c.txt");
    text = read_text(p);
    assert_string_equal(text, "x");
    free(text);
    free(p);
    /* nothing temporary is left */
    char *cmd = xasprintf("test -z \"$(find '%s' -name '.*.tmp-*')\"", t->job);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

static void test_replace_openat2(void **state)
{
    fs_beneath_use_openat2(true);
    check_replace(*state);
}

static void test_replace_walk(void **state)
{
    fs_beneath_use_openat2(false);
    check_replace(*state);
}

/* The directory argument itself may be a link; unlink and rename stay beneath it. */
static void test_dir_is_link(void **state)
{
    struct tree *t = *state;
    struct gf_err err = GF_ERR_INIT;
    char *alias = path2(t->root, "alias");
    assert_int_equal(symlink(t->job, alias), 0);
    int fd = fs_open_beneath(alias, "progress.jsonl", O_RDWR | O_CREAT | O_APPEND, 0644, &err);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{}\n", 3), 3);
    close(fd);
    assert_int_equal(fs_rename_beneath(alias, "progress.jsonl", "d/moved.jsonl", &err), 0);
    char *moved = path2(t->job, "d/moved.jsonl");
    char *text = read_text(moved);
    assert_string_equal(text, "{}\n");
    free(text);
    assert_int_equal(fs_unlink_beneath(alias, "d/moved.jsonl"), 0);
    assert_int_equal(access(moved, F_OK), -1);
    /* unlink below a planted link removes nothing outside */
    char *bait = path2(t->outside, "bait");
    write_text(bait, "bait");
    plant(t, "linked", t->outside);
    assert_int_equal(fs_unlink_beneath(alias, "linked/bait"), -1);
    assert_int_equal(access(bait, F_OK), 0);
    free(bait);
    free(moved);
    free(alias);
}

/* The sweep removes temporaries inside the job, never through a link. */
static void test_sweep(void **state)
{
    struct tree *t = *state;
    char *inside = path2(t->job, "images");
    assert_int_equal(mkdir(inside, 0777), 0);
    char *tmp_in = path2(inside, ".s01.png.tmp-4242");
    write_text(tmp_in, "");
    char *tmp_out = path2(t->outside, ".s02.png.tmp-4242");
    write_text(tmp_out, "");
    plant(t, "linked", t->outside);
    assert_int_equal(fs_sweep_temporaries(t->job), 1);
    assert_int_equal(access(tmp_in, F_OK), -1);
    assert_int_equal(access(tmp_out, F_OK), 0);
    free(tmp_in);
    free(tmp_out);
    free(inside);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refusals_openat2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_openat2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dir_is_link, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
