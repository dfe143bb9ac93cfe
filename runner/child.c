/* child: child processes from an argument vector, watched on the event loop (see child.h). */
#include "child.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define STDERR_MAX_BYTES 16384

extern char **environ;

struct child {
    struct loop *loop;
    struct child_hooks hooks;
    pid_t pid;
    int out_fd, err_fd, pid_fd;
    bool reaped, finished;
    int status;
    struct buf line; /* stdout not yet ended by a newline */
    struct buf tail; /* the last stderr lines */
};

/* --- starting ----------------------------------------------------------------------------- */

static void close_from(int lowest, int keep)
{
    /* close_range(2) where the kernel has it (5.9+), else one by one */
#ifdef SYS_close_range
    if (keep > lowest && syscall(SYS_close_range, lowest, keep - 1, 0) == 0 &&
        syscall(SYS_close_range, keep + 1, ~0U, 0) == 0)
        return;
#endif
    for (int fd = lowest; fd < 65536; fd++)
        if (fd != keep)
            close(fd);
}

bool child_env_is_secret(const char *entry)
{
    const char *eq = strchr(entry, '=');
    size_t n = eq ? (size_t)(eq - entry) : strlen(entry);
    static const char key[] = "API_KEY";
    size_t k = sizeof key - 1;
    return n >= k && memcmp(entry + n - k, key, k) == 0 && (n == k || entry[n - k - 1] == '_');
}

char **child_environment(char *const *env)
{
    size_t n = 0, k = 0;
    while (env && env[n])
        n++;
    char **out = xcalloc(n + 1, sizeof *out);
    for (size_t i = 0; i < n; i++)
        if (!child_env_is_secret(env[i]))
            out[k++] = env[i];
    return out;
}

/* Fork and exec argv in dir with stdout/stderr on out_w/err_w. Returns the pid, or -1 with
 * *exec_errno set when the program could not be started. Only async-signal-safe calls happen
 * between fork and exec: libcurl may run resolver threads. */
static pid_t spawn(const char *const *argv, const char *dir, int out_w, int err_w, int *exec_errno)
{
    int report[2];
    *exec_errno = 0;
    if (pipe2(report, O_CLOEXEC) < 0) {
        *exec_errno = errno;
        return -1;
    }
    pid_t parent = getpid();
    char **envp = child_environment(environ); /* made before fork: no malloc in the child */
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old); /* no handler of ours runs in the child */
    pid_t pid = fork();
    if (pid == 0) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; sig++)
            sigaction(sig, &dfl, NULL); /* gemflow ignores SIGPIPE; the child must not */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int e = 0;
        if (getppid() != parent)
            _exit(127);
        int null = open("/dev/null", O_RDONLY);
        if (null < 0 || dup2(null, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0 ||
            (dir && chdir(dir) < 0)) {
            e = errno;
        } else {
            close_from(3, report[1]);
            execve(argv[0], (char *const *)argv, envp);
            e = errno;
        }
        ssize_t n = write(report[1], &e, sizeof e);
        (void)n;
        _exit(127);
    }
    int fork_errno = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    free(envp);
    close(report[1]);
    if (pid < 0) {
        close(report[0]);
        *exec_errno = fork_errno;
        return -1;
    }
    int e = 0;
    ssize_t n;
    while ((n = read(report[0], &e, sizeof e)) < 0 && errno == EINTR)
        ;
    close(report[0]);
    if (n == (ssize_t)sizeof e) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        *exec_errno = e ? e : ENOEXEC;
        return -1;
    }
    return pid;
}

static void on_stdout(void *ctx, int fd);
static void on_stderr(void *ctx, int fd);
static void on_pidfd(void *ctx, int fd);

struct child *child_spawn(struct loop *l, const char *const *argv, const char *dir,
                          const struct child_hooks *hooks, struct gf_err *err)
{
    int out[2] = {-1, -1}, errp[2] = {-1, -1};
    if (pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(errp, O_CLOEXEC | O_NONBLOCK) < 0) {
        gf_error_errno(err, GF_ERR_IO, "cannot create pipes for '%s'", argv[0]);
        goto fail;
    }
    int e;
    pid_t pid = spawn(argv, dir, out[1], errp[1], &e);
    close(out[1]);
    close(errp[1]);
    out[1] = errp[1] = -1;
    if (pid < 0) {
        errno = e;
        gf_error_errno(err, GF_ERR_IO, "cannot run '%s'", argv[0]);
        goto fail;
    }
    struct child *c = xcalloc(1, sizeof *c);
    c->loop = l;
    c->hooks = *hooks;
    c->pid = pid;
    c->out_fd = out[0];
    c->err_fd = errp[0];
    c->line = (struct buf)BUF_INIT;
    c->tail = (struct buf)BUF_INIT;
#ifdef SYS_pidfd_open
    c->pid_fd = (int)syscall(SYS_pidfd_open, pid, 0);
#else
    c->pid_fd = -1;
#endif
    if (c->pid_fd >= 0) {
        fcntl(c->pid_fd, F_SETFD, FD_CLOEXEC);
        loop_add_fd(l, c->pid_fd, on_pidfd, c);
    }
    loop_add_fd(l, c->out_fd, on_stdout, c);
    loop_add_fd(l, c->err_fd, on_stderr, c);
    return c;
fail:
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0)
            close(out[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
    return NULL;
}

/* --- output ------------------------------------------------------------------------------- */

static void keep_tail(struct buf *t)
{
    size_t lines = 0, cut = 0;
    for (size_t i = t->len; i-- > 0;) {
        if (t->data[i] == '\n' && i + 1 < t->len && ++lines >= CHILD_STDERR_LINES) {
            cut = i + 1;
            break;
        }
    }
    if (t->len - cut > STDERR_MAX_BYTES)
        cut = t->len - STDERR_MAX_BYTES;
    if (cut) {
        memmove(t->data, t->data + cut, t->len - cut);
        buf_setlen(t, t->len - cut);
    }
}

static void stop_watching(struct child *c, int *fd)
{
    if (*fd < 0)
        return;
    loop_remove_fd(c->loop, *fd);
    close(*fd);
    *fd = -1;
}

/* Read what is there; returns false at end of file (or an error). */
static bool drain(struct child *c, int fd, bool is_stdout)
{
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK;
        if (n == 0)
            return false;
        if (!is_stdout) {
            buf_add(&c->tail, chunk, (size_t)n);
            keep_tail(&c->tail);
            continue;
        }
        buf_add(&c->line, chunk, (size_t)n);
        char *start = c->line.data, *nl;
        while ((nl = memchr(start, '\n', c->line.len - (size_t)(start - c->line.data)))) {
            *nl = '\0';
            if (c->hooks.line)
                c->hooks.line(c->hooks.ctx, start);
            start = nl + 1;
        }
        size_t rest = c->line.len - (size_t)(start - c->line.data);
        memmove(c->line.data, start, rest);
        buf_setlen(&c->line, rest);
    }
}

static void finish(struct child *c)
{
    if (c->finished)
        return;
    c->finished = true;
    if (c->line.len && c->hooks.line)
        c->hooks.line(c->hooks.ctx, c->line.data);
    buf_reset(&c->line);
    stop_watching(c, &c->out_fd);
    stop_watching(c, &c->err_fd);
    stop_watching(c, &c->pid_fd);
    c->hooks.exited(c->hooks.ctx, c, c->status); /* may free c */
}

static bool reap(struct child *c, bool block)
{
    if (c->reaped)
        return true;
    pid_t r;
    while ((r = waitpid(c->pid, &c->status, block ? 0 : WNOHANG)) < 0 && errno == EINTR)
        ;
    if (r == c->pid)
        c->reaped = true;
    return c->reaped;
}

static void on_stdout(void *ctx, int fd)
{
    struct child *c = ctx;
    if (!drain(c, fd, true)) {
        stop_watching(c, &c->out_fd);
        if (c->err_fd < 0 && c->pid_fd < 0 && reap(c, true))
            finish(c);
    }
}

static void on_stderr(void *ctx, int fd)
{
    struct child *c = ctx;
    if (!drain(c, fd, false)) {
        stop_watching(c, &c->err_fd);
        if (c->out_fd < 0 && c->pid_fd < 0 && reap(c, true))
            finish(c);
    }
}

static void on_pidfd(void *ctx, int fd)
{
    struct child *c = ctx;
    if (!reap(c, false))
        return;
    /* it has exited: what it wrote is in the pipes */
    if (c->out_fd >= 0)
        drain(c, c->out_fd, true);
    if (c->err_fd >= 0)
        drain(c, c->err_fd, false);
    finish(c);
}

/* --- control ------------------------------------------------------------------------------ */

void child_kill(struct child *c)
{
    if (c && !c->reaped)
        kill(c->pid, SIGKILL);
}

pid_t child_pid(const struct child *c)
{
    return c->pid;
}

const char *child_stderr(const struct child *c)
{
    return c->tail.data;
}

void child_free(struct child *c)
{
    if (!c)
        return;
    if (!c->reaped) {
        kill(c->pid, SIGKILL);
        reap(c, true);
    }
    stop_watching(c, &c->out_fd);
    stop_watching(c, &c->err_fd);
    stop_watching(c, &c->pid_fd);
    buf_release(&c->line);
    buf_release(&c->tail);
    free(c);
}

int child_run(const char *const *argv, struct buf *out, size_t max, int *status, struct gf_err *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return gf_error_errno(err, GF_ERR_IO, "cannot create a pipe for '%s'", argv[0]);
    int e;
    pid_t pid = spawn(argv, NULL, p[1], p[1], &e);
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        errno = e;
        return gf_error_errno(err, GF_ERR_IO, "cannot run '%s'", argv[0]);
    }
    char chunk[4096];
    ssize_t n;
    while ((n = read(p[0], chunk, sizeof chunk)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        if (out->len < max)
            buf_add(out, chunk, (size_t)n < max - out->len ? (size_t)n : max - out->len);
    }
    close(p[0]);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    return 0;
}

char *child_find_program(const char *name)
{
    struct stat st;
    if (strchr(name, '/'))
        return stat(name, &st) == 0 && S_ISREG(st.st_mode) && access(name, X_OK) == 0
                   ? xstrdup(name)
                   : NULL;
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;;) {
        size_t n = strcspn(p, ":");
        char *full = n ? xasprintf("%.*s/%s", (int)n, p, name) : xasprintf("./%s", name);
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
            return full;
        free(full);
        if (!p[n])
            return NULL;
        p += n + 1;
    }
}

const char *child_status_text(int status)
{
    static char text[96];
    if (WIFEXITED(status))
        snprintf(text, sizeof text, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(text, sizeof text, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(text, sizeof text, "wait status %#x", status);
    return text;
}
