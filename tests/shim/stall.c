/* stall: an LD_PRELOAD shim for tests that makes opening one file for reading take as long as a
 * test wants, standing for work on a drop that does not end (a workflow too big to load soon, a
 * disk that hangs), so a test can check that the watcher claims other drops and stops on time
 * meanwhile. A test tool only: the product has no test hook. Configured by the environment:
 *
 *   STALL_MATCH=text      opening a path that contains `text` read-only stalls (openat paths
 *                         are resolved against their directory descriptor first)
 *   STALL_NOTE=/abs/file  created when a stall begins: an event the test waits for
 *   STALL_RELEASE=/file   the stall ends once this exists; without it, never
 *
 * Thread-safe: it keeps no state but the environment. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The path `path` (relative to `dirfd`) names, best effort, into out. */
static void full_path(int dirfd, const char *path, char out[PATH_MAX * 2])
{
    char dir[PATH_MAX] = "";
    if (path[0] != '/' && dirfd != AT_FDCWD) {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
        ssize_t n = readlink(link, dir, sizeof dir - 1);
        dir[n > 0 ? n : 0] = '\0';
    }
    snprintf(out, PATH_MAX * 2, "%s%s%s", dir, dir[0] ? "/" : "", path);
}

static void maybe_stall(int dirfd, const char *path, int flags)
{
    const char *match = getenv("STALL_MATCH");
    if (!match || !*match || !path || (flags & O_ACCMODE) != O_RDONLY)
        return;
    char full[PATH_MAX * 2];
    full_path(dirfd, path, full);
    if (!strstr(full, match))
        return;
    const char *note = getenv("STALL_NOTE"), *release = getenv("STALL_RELEASE");
    if (note && *note) {
        FILE *f = fopen(note, "a");
        if (f) {
            fprintf(f, "stalled opening %s\n", full);
            fclose(f);
        }
    }
    struct timespec tick = {0, 20 * 1000 * 1000};
    struct stat st;
    while (!(release && *release && stat(release, &st) == 0))
        nanosleep(&tick, NULL);
}

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    maybe_stall(AT_FDCWD, path, flags);
    return REAL("open", int (*)(const char *, int, ...))(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    maybe_stall(AT_FDCWD, path, flags);
    return REAL("open64", int (*)(const char *, int, ...))(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    maybe_stall(dirfd, path, flags);
    return REAL("openat", int (*)(int, const char *, int, ...))(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    maybe_stall(dirfd, path, flags);
    return REAL("openat64", int (*)(int, const char *, int, ...))(dirfd, path, flags, mode);
}
