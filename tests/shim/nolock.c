/* nolock: an LD_PRELOAD shim for tests that makes fcntl byte-range and open-file-description
 * locks a silent no-op, as some filesystems do (FUSE mounts without lock support, NFS mounted
 * with locks that never reach the server): every F_SETLK, F_SETLKW, F_OFD_SETLK and
 * F_OFD_SETLKW succeeds without locking anything, and F_GETLK / F_OFD_GETLK report no lock.
 * A test tool only, for the quota directory's start-up check (tests/e2e/t_quota_locks.sh). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>

typedef int (*fcntl_fn)(int, int, ...);

static int fake_lock(int cmd, void *arg)
{
    struct flock *fl = arg;
    if (cmd == F_GETLK || cmd == F_OFD_GETLK)
        fl->l_type = F_UNLCK;
    return 0;
}

static int is_lock(int cmd)
{
    return cmd == F_SETLK || cmd == F_SETLKW || cmd == F_GETLK || cmd == F_OFD_SETLK ||
           cmd == F_OFD_SETLKW || cmd == F_OFD_GETLK;
}

static int pass(const char *name, int fd, int cmd, void *arg)
{
    fcntl_fn real = (fcntl_fn)dlsym(RTLD_NEXT, name);
    return real(fd, cmd, arg);
}

int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return is_lock(cmd) ? fake_lock(cmd, arg) : pass("fcntl", fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return is_lock(cmd) ? fake_lock(cmd, arg) : pass("fcntl64", fd, cmd, arg);
}
