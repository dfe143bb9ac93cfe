/* test_child: child processes on the event loop: stdout line by line, the tail of stderr, exit
 * status, working directory, kill, exec failure, no inherited descriptors; the synchronous run
 * and the PATH lookup. The children are small system programs (sh, sleep, pwd). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "buf.h"
#include "child.h"
#include "http.h"
#include "loop.h"
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct seen {
    struct buf lines; /* every stdout line, each followed by '|' */
    bool exited;
    int status;
    char *stderr_tail;
};

static void on_line(void *ctx, const char *line)
{
    struct seen *s = ctx;
    buf_addf(&s->lines, "%s|", line);
}

static void on_exited(void *ctx, struct child *c, int status)
{
    struct seen *s = ctx;
    s->exited = true;
    s->status = status;
    s->stderr_tail = xstrdup(child_stderr(c));
    child_free(c);
}

struct fixture {
    struct http_client *http;
    struct loop *loop;
    char *sh;
};

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof *f);
    struct gf_err err = GF_ERR_INIT;
    f->http = http_client_new(&err);
    assert_non_null(f->http);
    f->loop = loop_new(f->http);
    f->sh = child_find_program("sh");
    assert_non_null(f->sh);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    loop_free(f->loop);
    http_client_free(f->http);
    free(f->sh);
    free(f);
    return 0;
}

/* Run the loop until the child has exited (bounded, so a bug fails instead of hanging). */
static void wait_exit(struct fixture *f, struct seen *s)
{
    struct gf_err err = GF_ERR_INIT;
    for (int i = 0; i < 3000 && !s->exited; i++)
        assert_int_equal(loop_wait(f->loop, 10, &err), 0);
    assert_true(s->exited);
}

static struct child *spawn_sh(struct fixture *f, const char *script, const char *dir,
                              struct seen *s)
{
    const char *argv[] = {f->sh, "-c", script, NULL};
    struct child_hooks h = {s, on_line, on_exited};
    struct gf_err err = GF_ERR_INIT;
    memset(s, 0, sizeof *s);
    s->lines = (struct buf)BUF_INIT;
    struct child *c = child_spawn(f->loop, argv, dir, &h, &err);
    if (!c)
        fail_msg("spawn: %s", err.msg);
    return c;
}

static void seen_release(struct seen *s)
{
    buf_release(&s->lines);
    free(s->stderr_tail);
}

static void test_lines_status_stderr(void **state)
{
    struct fixture *f = *state;
    struct seen s;
    spawn_sh(f, "echo one; echo two; echo oops >&2; printf three; exit 5", NULL, &s);
    wait_exit(f, &s);
    assert_string_equal(s.lines.data, "one|two|three|"); /* the unterminated last line too */
    assert_true(WIFEXITED(s.status));
    assert_int_equal(WEXITSTATUS(s.status), 5);
    assert_string_equal(s.stderr_tail, "oops\n");
    assert_string_equal(child_status_text(s.status), "exit status 5");
    seen_release(&s);
}

static void test_stderr_keeps_last_lines(void **state)
{
    struct fixture *f = *state;
    struct seen s;
    spawn_sh(f, "i=1; while [ $i -le 120 ]; do echo \"line $i\" >&2; i=$((i+1)); done", NULL, &s);
    wait_exit(f, &s);
    int lines = 0;
    for (const char *p = s.stderr_tail; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, CHILD_STDERR_LINES);
    char first[32];
    snprintf(first, sizeof first, "line %d\n", 120 - CHILD_STDERR_LINES + 1);
    assert_true(str_starts_with(s.stderr_tail, first));
    assert_true(str_ends_with(s.stderr_tail, "line 120\n"));
    seen_release(&s);
}

static void test_working_directory(void **state)
{
    struct fixture *f = *state;
    struct seen s;
    char dir[] = "/tmp/test_child_XXXXXX", real[PATH_MAX];
    assert_non_null(mkdtemp(dir));
    assert_non_null(realpath(dir, real));
    spawn_sh(f, "pwd -P", dir, &s);
    wait_exit(f, &s);
    char *want = xasprintf("%s|", real);
    assert_string_equal(s.lines.data, want);
    free(want);
    rmdir(dir);
    seen_release(&s);
}

static void test_kill(void **state)
{
    struct fixture *f = *state;
    struct seen s;
    struct child *c = spawn_sh(f, "echo started; exec sleep 30", NULL, &s);
    struct gf_err err = GF_ERR_INIT;
    for (int i = 0; i < 3000 && !s.lines.len; i++)
        assert_int_equal(loop_wait(f->loop, 10, &err), 0);
    assert_string_equal(s.lines.data, "started|");
    child_kill(c);
    wait_exit(f, &s);
    assert_true(WIFSIGNALED(s.status));
    assert_int_equal(WTERMSIG(s.status), SIGKILL);
    assert_non_null(strstr(child_status_text(s.status), "killed by signal 9"));
    seen_release(&s);
}

static void test_no_inherited_descriptors(void **state)
{
    struct fixture *f = *state;
    struct seen s;
    int fd = open("/dev/null", O_RDONLY); /* not close-on-exec on purpose */
    assert_true(fd > 2);
    char *script = xasprintf("if [ -e /proc/$$/fd/%d ]; then echo leaked; else echo closed; fi; "
                             "read x || echo stdin-empty",
                             fd);
    spawn_sh(f, script, NULL, &s);
    wait_exit(f, &s);
    assert_string_equal(s.lines.data, "closed|stdin-empty|");
    close(fd);
    free(script);
    seen_release(&s);
}

static void test_exec_failure(void **state)
{
    struct fixture *f = *state;
    const char *argv[] = {"/nonexistent/program", NULL};
    struct seen s = {0};
    struct child_hooks h = {&s, on_line, on_exited};
    struct gf_err err = GF_ERR_INIT;
    assert_null(child_spawn(f->loop, argv, NULL, &h, &err));
    assert_non_null(strstr(err.msg, "cannot run '/nonexistent/program'"));
    assert_non_null(strstr(err.msg, "No such file"));
    const char *argv2[] = {f->sh, "-c", "true", NULL};
    assert_null(child_spawn(f->loop, argv2, "/nonexistent/dir", &h, &err));
    assert_false(s.exited);
}

static void test_run_sync(void **state)
{
    struct fixture *f = *state;
    const char *argv[] = {f->sh, "-c", "echo out; echo err >&2; exit 3", NULL};
    struct buf out = BUF_INIT;
    int status = 0;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(child_run(argv, &out, 4096, &status, &err), 0);
    assert_non_null(strstr(out.data, "out\n"));
    assert_non_null(strstr(out.data, "err\n"));
    assert_int_equal(WEXITSTATUS(status), 3);
    buf_release(&out);
    /* output over the limit is cut */
    const char *big[] = {f->sh, "-c",
                         "i=0; while [ $i -lt 500 ]; do echo 0123456789; i=$((i+1)); done", NULL};
    assert_int_equal(child_run(big, &out, 100, &status, &err), 0);
    assert_int_equal(out.len, 100);
    buf_release(&out);
    const char *none[] = {"/nonexistent/program", NULL};
    assert_int_equal(child_run(none, &out, 100, &status, &err), -1);
    assert_non_null(strstr(err.msg, "cannot run"));
}

/* A child never inherits a credential: no variable named *_API_KEY reaches it, the rest does. */
static void test_environment_without_keys(void **state)
{
    struct fixture *f = *state;
    setenv("GEMINI_API_KEY", "secret-gemini", 1);
    setenv("GOOGLE_API_KEY", "secret-google", 1);
    setenv("OTHER_API_KEY", "secret-other", 1);
    setenv("GEMFLOW_TEST_VISIBLE", "API_KEY-in-a-value-is-fine", 1);
    const char *argv[] = {f->sh, "-c", "env", NULL};
    struct buf out = BUF_INIT;
    int status = 0;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(child_run(argv, &out, 1 << 20, &status, &err), 0);
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_null(strstr(out.data, "secret-"));
    assert_null(strstr(out.data, "_API_KEY="));
    assert_non_null(strstr(out.data, "GEMFLOW_TEST_VISIBLE=API_KEY-in-a-value-is-fine\n"));
    assert_non_null(strstr(out.data, "PATH="));
    buf_release(&out);
    unsetenv("GEMINI_API_KEY");
    unsetenv("GOOGLE_API_KEY");
    unsetenv("OTHER_API_KEY");
    unsetenv("GEMFLOW_TEST_VISIBLE");
    /* the filter itself */
    assert_true(child_env_is_secret("GEMINI_API_KEY=x"));
    assert_true(child_env_is_secret("X_API_KEY="));
    assert_true(child_env_is_secret("API_KEY=x"));
    assert_false(child_env_is_secret("MY_API_KEYS=x"));
    assert_false(child_env_is_secret("XAPI_KEY=x"));
    assert_false(child_env_is_secret("GEMINI_API_KEY_FILE=/k"));
    assert_false(child_env_is_secret("PATH=/bin:/x_API_KEY"));
}

static void test_find_program(void **state)
{
    char *p = child_find_program("sh");
    assert_non_null(p);
    assert_true(p[0] == '/');
    assert_int_equal(access(p, X_OK), 0);
    free(p);
    assert_null(child_find_program("no-such-program-gemflow"));
    char *old = xstrdup(getenv("PATH"));
    setenv("PATH", "/nonexistent", 1);
    assert_null(child_find_program("sh"));
    setenv("PATH", old, 1);
    free(old);
    p = child_find_program("/bin/sh");
    assert_string_equal(p, "/bin/sh");
    free(p);
    assert_null(child_find_program("/etc/passwd")); /* not executable */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lines_status_stderr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stderr_keeps_last_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_working_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_inherited_descriptors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_environment_without_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_program, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
