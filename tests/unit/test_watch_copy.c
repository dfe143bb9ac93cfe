/* test_watch_copy: a claimed drop becomes the watcher's own copy. What may be copied (regular
 * files and directories within limits) and what refuses the drop (symlinks, FIFOs, hard links,
 * odd names, a workflow.yaml that is a directory or too big, too many entries); the job is a
 * copy that whoever dropped it cannot reach any more, even holding descriptors of the original;
 * the original is removed without following symlinks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "buf.h"
#include "fsutil.h"
#include "util.h"
#include "watch.h"
#include "watch_copy.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct dirs {
    char *root, *inbox, *jobs, *outside;
};

static void make_dirs(struct dirs *d)
{
    char tmpl[] = "/tmp/gf-watch-copy-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    d->root = xstrdup(tmpl);
    d->inbox = fs_join(d->root, "inbox");
    d->jobs = fs_join(d->root, "jobs");
    d->outside = fs_join(d->root, "outside");
    assert_int_equal(mkdir(d->inbox, 0777), 0);
    assert_int_equal(mkdir(d->jobs, 0777), 0);
    assert_int_equal(mkdir(d->outside, 0777), 0);
}

static void free_dirs(struct dirs *d)
{
    char *cmd = xasprintf("rm -rf '%s'", d->root);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(d->root);
    free(d->inbox);
    free(d->jobs);
    free(d->outside);
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

static bool exists(const char *dir, const char *rel)
{
    char *p = fs_join(dir, rel);
    struct stat st;
    bool e = lstat(p, &st) == 0;
    free(p);
    return e;
}

static void make_dir(const char *dir, const char *rel)
{
    char *p = fs_join(dir, rel);
    assert_int_equal(mkdir(p, 0777), 0);
    free(p);
}

/* A drop directory inbox/NAME holding script.txt. */
static char *new_drop(const struct dirs *d, const char *name)
{
    char *p = fs_join(d->inbox, name);
    assert_int_equal(mkdir(p, 0777), 0);
    write_file(p, "script.txt", "a script\n");
    return p;
}

/* Claim inbox/NAME; returns what watch_claim returns, with the reason or job dir in `out`. */
static int claim(const struct dirs *d, const char *name, unsigned flags, struct buf *out)
{
    struct buf dir = BUF_INIT, refused = BUF_INIT;
    struct gf_err err = GF_ERR_INIT;
    int rc = watch_claim(d->inbox, name, d->jobs, flags, &dir, &refused, &err);
    buf_reset(out);
    buf_adds(out, rc == 0 ? dir.data : rc == 1 ? refused.data : err.msg);
    buf_release(&dir);
    buf_release(&refused);
    return rc;
}

static void assert_refused(const struct dirs *d, const char *name, const char *why)
{
    struct buf out = BUF_INIT;
    int rc = claim(d, name, 0, &out);
    if (rc != 1 || !strstr(out.data, why))
        fail_msg("'%s': want refused with \"%s\", got %d: %s", name, why, rc, out.data);
    char *rel = xasprintf(".rejected/%s.why", name);
    char *text = read_all(d->inbox, rel);
    assert_non_null(text);
    assert_non_null(strstr(text, why));
    assert_false(exists(d->jobs, name));
    free(text);
    free(rel);
    buf_release(&out);
}

/* Only .gfclaim-free: a refusal or a claim leaves nothing behind in JOBS but jobs. */
static void assert_no_staging(const struct dirs *d)
{
    char *cmd = xasprintf("ls -A '%s' | grep -c '^\\.gfclaim' || true", d->jobs);
    FILE *f = popen(cmd, "r");
    int n = -1;
    assert_int_equal(fscanf(f, "%d", &n), 1);
    pclose(f);
    free(cmd);
    assert_int_equal(n, 0);
}

static void test_copy_refuses(void **state)
{
    struct dirs d;
    make_dirs(&d);
    char *p;

    p = new_drop(&d, "symlink");
    char *lnk = fs_join(p, "prompt.md");
    assert_int_equal(symlink("/etc/passwd", lnk), 0);
    free(lnk);
    free(p);
    assert_refused(&d, "symlink", "'prompt.md' is a symbolic link");

    p = new_drop(&d, "fifo");
    char *fifo = fs_join(p, "notes.txt");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    free(fifo);
    free(p);
    assert_refused(&d, "fifo", "'notes.txt' is a FIFO (named pipe)");

    /* a hard link to a file the dropper could not otherwise show us (here: outside) */
    write_file(d.outside, "key", "not yours\n");
    p = new_drop(&d, "hardlink");
    char *src = fs_join(d.outside, "key"), *dst = fs_join(p, "input.txt");
    assert_int_equal(link(src, dst), 0);
    free(src);
    free(dst);
    free(p);
    assert_refused(&d, "hardlink", "'input.txt' has 2 hard links");

    p = new_drop(&d, "oddname");
    write_file(p, "a\033[2Jb", "x");
    free(p);
    assert_refused(&d, "oddname", "'a\\x1b[2Jb' has a name with control characters");

    p = new_drop(&d, "wfdir");
    make_dir(p, "workflow.yaml");
    free(p);
    assert_refused(&d, "wfdir", "'workflow.yaml' is a directory");

    p = new_drop(&d, "bigwf");
    char *wf = fs_join(p, "workflow.yaml");
    FILE *f = fopen(wf, "w");
    for (unsigned i = 0; i <= WATCH_WORKFLOW_MAX_BYTES / 16; i++)
        fputs("# padding line.\n", f);
    fclose(f);
    free(wf);
    free(p);
    assert_refused(&d, "bigwf", "more than the 1 MB a dropped workflow may have");

    p = new_drop(&d, "deep");
    struct buf rel = BUF_INIT;
    for (int i = 0; i <= WATCH_DROP_MAX_DEPTH; i++) {
        buf_addf(&rel, "%sd", i ? "/" : "");
        make_dir(p, rel.data);
    }
    buf_release(&rel);
    free(p);
    assert_refused(&d, "deep", "is nested deeper than 16 levels");

    p = new_drop(&d, "many");
    for (int i = 0; i < WATCH_DROP_MAX_ENTRIES; i++) {
        char *n = xasprintf("f%d", i);
        write_file(p, n, "");
        free(n);
    }
    free(p);
    assert_refused(&d, "many", "more than 2000 files and directories in a drop");

    p = new_drop(&d, "none");
    write_file(p, "workflow.yaml", "version: 1\nuse: script-to-media\n");
    free(p);
    struct buf out = BUF_INIT;
    assert_int_equal(claim(&d, "none", WATCH_NO_WORKFLOW, &out), 1);
    assert_non_null(strstr(out.data, "--allow-job-workflows none"));
    buf_release(&out);

    assert_no_staging(&d);
    free_dirs(&d);
}

/* The job is the watcher's copy: whatever the dropper does through descriptors it kept, it
 * reaches only the original, which is gone from the job's view. */
static void test_claim_is_a_copy(void **state)
{
    struct dirs d;
    make_dirs(&d);
    char *p = new_drop(&d, "held");
    make_dir(p, "prompts");
    write_file(p, "prompts/a.md", "prompt\n");
    int dir_fd = open(p, O_RDONLY | O_DIRECTORY);
    int sub_fd = open(p, O_RDONLY | O_DIRECTORY);
    char *script = fs_join(p, "script.txt");
    int file_fd = open(script, O_WRONLY);
    assert_true(dir_fd >= 0 && sub_fd >= 0 && file_fd >= 0);
    struct stat before;
    assert_int_equal(stat(script, &before), 0);

    struct buf out = BUF_INIT;
    assert_int_equal(claim(&d, "held", 0, &out), 0);
    char *job = buf_detach(&out, NULL);

    /* the dropper rewrites the script it held open, plants a symlink and a file */
    assert_int_equal(pwrite(file_fd, "EVIL", 4, 0), 4);
    symlinkat("/etc/passwd", dir_fd, "prompts/b.md");
    int planted = openat(dir_fd, "planted.txt", O_WRONLY | O_CREAT, 0644);
    if (planted >= 0)
        close(planted);
    char *text = read_all(job, "script.txt");
    assert_string_equal(text, "a script\n");
    free(text);
    assert_false(exists(job, "prompts/b.md"));
    assert_false(exists(job, "planted.txt"));
    text = read_all(job, "prompts/a.md");
    assert_string_equal(text, "prompt\n");
    free(text);
    /* a new inode, not the dropper's */
    struct stat after;
    char *copy = fs_join(job, "script.txt");
    assert_int_equal(stat(copy, &after), 0);
    assert_true(after.st_ino != before.st_ino);
    assert_int_equal(after.st_nlink, 1);
    /* the original is gone: the held directory was removed */
    struct stat held;
    assert_int_equal(fstat(dir_fd, &held), 0);
    assert_int_equal(held.st_nlink, 0);
    assert_no_staging(&d);
    close(dir_fd);
    close(sub_fd);
    close(file_fd);
    free(copy);
    free(script);
    free(job);
    free(p);
    free_dirs(&d);
}

/* Files and directories of the copy get the watcher's umask, whatever the drop's modes. */
static void test_copy_modes(void **state)
{
    struct dirs d;
    make_dirs(&d);
    char *p = new_drop(&d, "modes");
    char *script = fs_join(p, "script.txt");
    assert_int_equal(chmod(script, 0777), 0);
    mode_t old = umask(027);
    struct buf out = BUF_INIT;
    assert_int_equal(claim(&d, "modes", 0, &out), 0);
    umask(old);
    struct stat st;
    char *copy = fs_join(out.data, "script.txt");
    assert_int_equal(stat(copy, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(stat(out.data, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0750);
    free(copy);
    free(script);
    free(p);
    buf_release(&out);
    free_dirs(&d);
}

/* Removal never follows a symlink: a link to a directory outside loses nothing there. */
static void test_remove_no_follow(void **state)
{
    struct dirs d;
    make_dirs(&d);
    write_file(d.outside, "precious", "keep me\n");
    char *p = fs_join(d.root, "tree");
    assert_int_equal(mkdir(p, 0777), 0);
    make_dir(p, "sub");
    char *l = fs_join(p, "sub/out");
    assert_int_equal(symlink(d.outside, l), 0);
    free(l);
    int fd = open(d.root, O_RDONLY | O_DIRECTORY);
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(watch_remove(fd, "tree", &err), 0);
    close(fd);
    assert_false(exists(d.root, "tree"));
    char *text = read_all(d.outside, "precious");
    assert_string_equal(text, "keep me\n");
    free(text);
    free(p);
    free_dirs(&d);
}

static void test_names(void **state)
{
    assert_null(watch_name_problem("my video (final).txt"));
    assert_null(watch_name_problem("café.md"));
    assert_string_equal(watch_name_problem("a\nb"), "control characters");
    assert_string_equal(watch_name_problem("a\x7f"), "control characters");
    assert_string_equal(watch_name_problem("a\xc2\x9b"
                                           "31m"),
                        "control characters");
    assert_string_equal(watch_name_problem("a\xff"), "bytes that are not UTF-8");
    struct buf b = BUF_INIT;
    watch_show_name(&b, "x\033[31my\xff");
    assert_string_equal(b.data, "x\\x1b[31my\\xff");
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_refuses), cmocka_unit_test(test_claim_is_a_copy),
        cmocka_unit_test(test_copy_modes),   cmocka_unit_test(test_remove_no_follow),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
