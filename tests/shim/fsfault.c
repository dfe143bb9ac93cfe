/* fsfault: an LD_PRELOAD shim for tests that makes the file system fail under one directory, so
 * the end-to-end tests can check that gemflow says what went wrong and loses nothing. It is a
 * test tool only: the product has no test hook. Configured by the environment:
 *
 *   FSFAULT_DIR=/abs/dir      the directory (and everything under it) the faults apply to
 *   FSFAULT_ENOSPC_AFTER=N    "disk full": write()/pwrite() to files there succeed for N bytes
 *                             in total (the write that crosses N is cut short, as on a full
 *                             disk), then fail with ENOSPC; fsync()/fdatasync() of such files
 *                             fail with ENOSPC once the budget is spent
 *   FSFAULT_EROFS=1           "read-only file system": opening a file there for writing
 *                             (open, openat, openat2), creating, renaming, removing, truncating
 *                             or mkdir (and their *at forms) fail with EROFS
 *
 * Paths are compared after resolving symlinks of the directory (realpath), file descriptors by
 * /proc/self/fd. Single-threaded callers only (gemflow's engine is). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#endif

static char dir[PATH_MAX];
static size_t dir_len;
static bool ready, erofs, enospc;
static long long budget; /* bytes that may still be written under dir */

static void setup(void)
{
    if (ready)
        return;
    ready = true;
    const char *d = getenv("FSFAULT_DIR");
    if (!d || !realpath(d, dir))
        return;
    dir_len = strlen(dir);
    const char *n = getenv("FSFAULT_ENOSPC_AFTER");
    if (n && *n) {
        enospc = true;
        budget = atoll(n);
    }
    const char *r = getenv("FSFAULT_EROFS");
    erofs = r && *r && strcmp(r, "0") != 0;
}

static bool under(const char *abs)
{
    return dir_len && strncmp(abs, dir, dir_len) == 0 && (abs[dir_len] == '/' || !abs[dir_len]);
}

/* Whether `path` (relative to dirfd) is under dir: its parent is resolved, the last component
 * need not exist yet. */
static bool path_under(int dirfd, const char *path)
{
    setup();
    if (!dir_len || !path)
        return false;
    char full[PATH_MAX * 2], parent[PATH_MAX * 2], res[PATH_MAX];
    if (path[0] == '/') {
        snprintf(full, sizeof full, "%s", path);
    } else {
        char base[PATH_MAX];
        if (dirfd == AT_FDCWD) {
            if (!getcwd(base, sizeof base))
                return false;
        } else {
            char link[64];
            snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
            ssize_t n = readlink(link, base, sizeof base - 1);
            if (n < 0)
                return false;
            base[n] = '\0';
        }
        snprintf(full, sizeof full, "%s/%s", base, path);
    }
    if (realpath(full, res))
        return under(res);
    snprintf(parent, sizeof parent, "%s", full);
    char *slash = strrchr(parent, '/');
    if (!slash)
        return false;
    *slash = '\0';
    if (!realpath(parent[0] ? parent : "/", res))
        return under(parent);
    return under(res);
}

static bool fd_under(int fd)
{
    setup();
    if (!dir_len)
        return false;
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0)
        return false;
    target[n] = '\0';
    return under(target);
}

/* The next definition of `name` (libc's, or a sanitizer's interceptor). */
#define REAL(name)                                                                                 \
    static __typeof__(name) *real_##name;                                                          \
    if (!real_##name)                                                                              \
    real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

/* How much of `count` bytes may be written to fd: count, less, or -1 (ENOSPC). */
static ssize_t allowance(int fd, size_t count)
{
    if (!enospc || count == 0 || !fd_under(fd))
        return (ssize_t)count;
    if (budget <= 0) {
        errno = ENOSPC;
        return -1;
    }
    size_t n = (long long)count > budget ? (size_t)budget : count;
    budget -= (long long)n;
    return (ssize_t)n;
}

ssize_t write(int fd, const void *buf, size_t count)
{
    REAL(write);
    ssize_t n = allowance(fd, count);
    if (n < 0)
        return -1;
    return real_write(fd, buf, (size_t)n);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t off)
{
    REAL(pwrite);
    ssize_t n = allowance(fd, count);
    if (n < 0)
        return -1;
    return real_pwrite(fd, buf, (size_t)n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t off)
{
    return pwrite(fd, buf, count, off);
}

static int sync_fault(int fd)
{
    if (enospc && budget <= 0 && fd_under(fd)) {
        errno = ENOSPC;
        return -1;
    }
    if (erofs && fd_under(fd)) {
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            errno = EROFS;
            return -1;
        }
    }
    return 0;
}

int fsync(int fd)
{
    REAL(fsync);
    setup();
    return sync_fault(fd) < 0 ? -1 : real_fsync(fd);
}

int fdatasync(int fd)
{
    REAL(fdatasync);
    setup();
    return sync_fault(fd) < 0 ? -1 : real_fdatasync(fd);
}

/* --- read-only file system ------------------------------------------------------------------ */

static bool deny(int dirfd, const char *path)
{
    setup();
    if (erofs && path_under(dirfd, path)) {
        errno = EROFS;
        return true;
    }
    return false;
}

static bool writes(int flags)
{
    return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) != 0;
}

int openat(int dirfd, const char *path, int flags, ...)
{
    REAL(openat);
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    if (writes(flags) && deny(dirfd, path))
        return -1;
    return real_openat(dirfd, path, flags, mode);
}

int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    return openat(AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    return openat(AT_FDCWD, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    return openat(dirfd, path, flags, mode);
}

int creat(const char *path, mode_t mode)
{
    return openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

int mkdir(const char *path, mode_t mode)
{
    REAL(mkdir);
    if (deny(AT_FDCWD, path))
        return -1;
    return real_mkdir(path, mode);
}

int rename(const char *from, const char *to)
{
    REAL(rename);
    if (deny(AT_FDCWD, from) || deny(AT_FDCWD, to))
        return -1;
    return real_rename(from, to);
}

int unlink(const char *path)
{
    REAL(unlink);
    if (deny(AT_FDCWD, path))
        return -1;
    return real_unlink(path);
}

int mkdirat(int dirfd, const char *path, mode_t mode)
{
    REAL(mkdirat);
    if (deny(dirfd, path))
        return -1;
    return real_mkdirat(dirfd, path, mode);
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
    REAL(renameat);
    if (deny(fromfd, from) || deny(tofd, to))
        return -1;
    return real_renameat(fromfd, from, tofd, to);
}

int unlinkat(int dirfd, const char *path, int flags)
{
    REAL(unlinkat);
    if (deny(dirfd, path))
        return -1;
    return real_unlinkat(dirfd, path, flags);
}

/* openat2(2) has no libc wrapper: gemflow calls syscall(SYS_openat2, ...). The other system
 * calls pass through with their (up to six) arguments. */
long syscall(long number, ...)
{
    REAL(syscall);
    long a[6];
    va_list ap;
    va_start(ap, number);
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
#ifdef SYS_openat2
    if (number == SYS_openat2 && a[2]) {
        const struct open_how *how = (const struct open_how *)a[2];
        if (writes((int)how->flags) && deny((int)a[0], (const char *)a[1]))
            return -1;
    }
#endif
    return real_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

int ftruncate(int fd, off_t len)
{
    REAL(ftruncate);
    setup();
    if (erofs && fd_under(fd)) {
        errno = EROFS;
        return -1;
    }
    return real_ftruncate(fd, len);
}
