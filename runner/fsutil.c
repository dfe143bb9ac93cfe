/* fsutil: atomic, durable writes inside the job directory (see fsutil.h for the contract). */
#include "fsutil.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#endif

char *fs_join(const char *dir, const char *rel)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    return xasprintf("%.*s/%s", (int)n, dir, rel);
}

bool fs_rel_is_safe(const char *rel)
{
    if (!rel[0] || rel[0] == '/' || strchr(rel, '\\'))
        return false;
    const char *p = rel;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n;
        if (*p == '/')
            p++;
        if (slash && !*p)
            return false; /* trailing slash */
    }
    return true;
}

bool fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fs_fsync_dir(const char *path, struct gf_err *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return gf_error_errno(err, GF_ERR_IO, "cannot open directory '%s'", path);
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc < 0 && e != EINVAL) {
        errno = e;
        return gf_error_errno(err, GF_ERR_IO, "cannot fsync directory '%s'", path);
    }
    return 0;
}

/* ---- opening beneath a directory ---- */

static const char *verb(int flags)
{
    return flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC) ? "write" : "read";
}

static atomic_bool openat2_missing; /* the kernel said ENOSYS once, or a test asked */

void fs_beneath_use_openat2(bool on)
{
    atomic_store(&openat2_missing, !on);
}

/* openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): the fd, -1 with errno, or -2 when the
 * kernel (or a seccomp filter: EPERM) does not offer it and the walk must decide. */
static int kernel_beneath(int dirfd, const char *rel, int flags, int mode)
{
#if defined(SYS_openat2) && defined(RESOLVE_BENEATH)
    if (!atomic_load_explicit(&openat2_missing, memory_order_relaxed)) {
        struct open_how how;
        memset(&how, 0, sizeof how);
        how.flags = (uint64_t)(flags | O_CLOEXEC);
        how.mode = flags & O_CREAT ? (uint64_t)mode : 0;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        for (int tries = 0; tries < 3; tries++) {
            long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
            if (fd >= 0)
                return (int)fd;
            if (errno == EAGAIN || errno == EINTR) /* a rename raced the lookup: again */
                continue;
            if (errno == ENOSYS || errno == E2BIG)
                atomic_store_explicit(&openat2_missing, true, memory_order_relaxed);
            else if (errno != EPERM)
                return -1;
            break;
        }
    }
#endif
    (void)dirfd, (void)rel, (void)flags, (void)mode;
    return -2;
}

/* Why component `name` (ending at `end` in `rel`) could not be opened below `cur`. */
static int walk_error(int cur, const char *name, const char *dir, const char *rel, size_t end,
                      int flags, bool creating_dir, struct gf_err *err)
{
    int e = errno;
    struct stat st;
    if ((e == ELOOP || e == ENOTDIR || e == EEXIST) &&
        fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        gf_error(err, GF_ERR_IO, "'%.*s' in '%s' is a symbolic link: refusing to %s through it",
                 (int)end, rel, dir, verb(flags));
        e = ELOOP;
    } else if (e == ENOTDIR && rel[end] == '/') {
        gf_error(err, GF_ERR_IO, "'%.*s' in '%s' is not a directory", (int)end, rel, dir);
    } else {
        errno = e;
        gf_error_errno(err, GF_ERR_IO, "cannot %s '%s/%.*s'",
                       creating_dir ? "create directory" : "open", dir, (int)end, rel);
    }
    errno = e;
    return -1;
}

/* One component at a time: every directory opened with O_NOFOLLOW, missing ones made when
 * `mk`; the last opened with `flags` (mk: as a directory). */
static int walk_beneath(int dirfd, const char *dir, const char *rel, int flags, int mode, bool mk,
                        struct gf_err *err)
{
    int cur = dirfd;
    for (const char *p = rel;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        size_t end = (size_t)(p - rel) + n;
        char name[NAME_MAX + 1];
        if (n > NAME_MAX) {
            errno = ENAMETOOLONG;
            gf_error_errno(err, GF_ERR_IO, "cannot open '%s/%.*s'", dir, (int)end, rel);
            goto fail;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        int fd;
        bool mkdir_failed = false;
        if (slash || mk) {
            int dflags = O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | (slash ? O_PATH : O_RDONLY);
            fd = openat(cur, name, dflags);
            if (fd < 0 && errno == ENOENT && mk) {
                if (mkdirat(cur, name, 0777) == 0 || errno == EEXIST)
                    fd = openat(cur, name, dflags);
                else
                    mkdir_failed = true;
            }
        } else {
            fd = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
        }
        if (fd < 0) {
            walk_error(cur, name, dir, rel, end, mk ? O_CREAT : flags, mkdir_failed, err);
            goto fail;
        }
        if (cur != dirfd)
            close(cur);
        cur = fd;
        if (!slash)
            return cur;
        p = slash + 1;
    }
fail:
    if (cur != dirfd) {
        int e = errno;
        close(cur);
        errno = e;
    }
    return -1;
}

/* A relative path of plain components: no "", "." or ".." component, not absolute (a
 * backslash is an ordinary character here, unlike for fs_rel_is_safe). */
static bool plain_rel(const char *rel)
{
    if (!rel[0] || rel[0] == '/')
        return false;
    for (const char *p = rel;;) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (!p[n])
            return true;
        p += n + 1;
    }
}

static int check_rel(const char *dir, const char *rel, struct gf_err *err)
{
    if (plain_rel(rel))
        return 0;
    gf_error(err, GF_ERR_IO, "'%s' is not a relative path inside '%s'", rel, dir);
    errno = EINVAL;
    return -1;
}

int fs_openat_beneath(int dirfd, const char *dir, const char *rel, int flags, int mode,
                      struct gf_err *err)
{
    if (check_rel(dir, rel, err) < 0)
        return -1;
    int fd = kernel_beneath(dirfd, rel, flags, mode);
    if (fd >= 0)
        return fd;
    /* Not offered, or failed: the walk decides, and names the component that failed. */
    return walk_beneath(dirfd, dir, rel, flags, mode, false, err);
}

static int open_top(const char *dir, int flags, struct gf_err *err)
{
    int fd = open(dir, flags | O_DIRECTORY | O_CLOEXEC); /* `dir` itself may be a symlink */
    if (fd < 0)
        gf_error_errno(err, GF_ERR_IO, "cannot open directory '%s'", dir);
    return fd;
}

int fs_open_beneath(const char *dir, const char *rel, int flags, int mode, struct gf_err *err)
{
    int dfd = open_top(dir, O_PATH, err);
    if (dfd < 0)
        return -1;
    int fd = fs_openat_beneath(dfd, dir, rel, flags, mode, err);
    int e = errno;
    close(dfd);
    errno = e;
    return fd;
}

int fs_mkdirs_open(const char *dir, const char *rel, struct gf_err *err)
{
    if (!rel[0])
        return open_top(dir, O_RDONLY, err);
    if (check_rel(dir, rel, err) < 0)
        return -1;
    int dfd = open_top(dir, O_PATH, err);
    if (dfd < 0)
        return -1;
    int fd = kernel_beneath(dfd, rel, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0)
        fd = walk_beneath(dfd, dir, rel, O_RDONLY | O_DIRECTORY, 0, true, err);
    int e = errno;
    close(dfd);
    errno = e;
    return fd;
}

int fs_mkdirs(const char *dir, const char *rel, struct gf_err *err)
{
    int fd = fs_mkdirs_open(dir, rel, err);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* Split `rel` into its directory (a new string, "" for none) and its last component. */
static char *split_rel(const char *rel, const char **name)
{
    const char *slash = strrchr(rel, '/');
    *name = slash ? slash + 1 : rel;
    return slash ? xstrndup(rel, (size_t)(slash - rel)) : xstrdup("");
}

/* The directory of `rel` opened beneath `dir` (O_RDONLY, for fsync and *at calls). */
static int open_parent(const char *dir, const char *rel, bool create, const char **name,
                       struct gf_err *err)
{
    if (check_rel(dir, rel, err) < 0)
        return -1;
    char *reldir = split_rel(rel, name);
    int fd;
    if (create || !reldir[0])
        fd = fs_mkdirs_open(dir, reldir, err);
    else
        fd = fs_open_beneath(dir, reldir, O_RDONLY | O_DIRECTORY, 0, err);
    int e = errno;
    free(reldir);
    errno = e;
    return fd;
}

int fs_unlink_beneath(const char *dir, const char *rel)
{
    const char *name;
    int dfd = open_parent(dir, rel, false, &name, NULL);
    if (dfd < 0)
        return -1;
    int rc = unlinkat(dfd, name, 0);
    int e = errno;
    close(dfd);
    errno = e;
    return rc;
}

int fs_rename_beneath(const char *dir, const char *from, const char *to, struct gf_err *err)
{
    const char *from_name, *to_name;
    int from_fd = open_parent(dir, from, false, &from_name, err);
    if (from_fd < 0)
        return -1;
    int to_fd = open_parent(dir, to, true, &to_name, err), rc = -1;
    if (to_fd < 0)
        goto out;
    if (renameat(from_fd, from_name, to_fd, to_name) < 0)
        gf_error_errno(err, GF_ERR_IO, "cannot rename '%s' to '%s' in '%s'", from, to, dir);
    else if (fsync(to_fd) < 0 && errno != EINVAL)
        gf_error_errno(err, GF_ERR_IO, "cannot fsync the directory of '%s' in '%s'", to, dir);
    else
        rc = 0;
    close(to_fd);
out:
    close(from_fd);
    return rc;
}

/* ---- atomic writes ---- */

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A new temporary file `tmp` in `dfd`; one left by a dead process with our pid is replaced. */
static int create_temporary(int dfd, const char *tmp)
{
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = openat(dfd, tmp, flags, 0666);
    if (fd < 0 && errno == EEXIST && unlinkat(dfd, tmp, 0) == 0)
        fd = openat(dfd, tmp, flags, 0666);
    return fd;
}

int fs_write_atomic(const char *dir, const char *rel, const void *data, size_t len,
                    enum fs_sync sync, struct fs_facts *facts, struct gf_err *err)
{
    const char *name;
    int dfd = open_parent(dir, rel, true, &name, err);
    if (dfd < 0)
        return -1;
    char *tmp = xasprintf(".%s.tmp-%ld", name, (long)getpid());
    int fd = -1, rc = -1;
    fd = create_temporary(dfd, tmp);
    if (fd < 0) {
        gf_error_errno(err, GF_ERR_IO, "cannot create '%s' beside '%s' in '%s'", tmp, rel, dir);
        goto out;
    }
    if (write_all(fd, data, len) < 0) {
        gf_error_errno(err, GF_ERR_IO, "cannot write '%s'", rel);
        goto out_unlink;
    }
    if (sync == FS_DURABLE && fsync(fd) < 0) {
        gf_error_errno(err, GF_ERR_IO, "cannot fsync '%s'", rel);
        goto out_unlink;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        gf_error_errno(err, GF_ERR_IO, "cannot stat '%s'", tmp);
        goto out_unlink;
    }
    if (close(fd) < 0) {
        fd = -1;
        gf_error_errno(err, GF_ERR_IO, "cannot write '%s'", rel);
        goto out_unlink;
    }
    fd = -1;
    /* renameat replaces whatever `name` is (a planted symbolic link too) without following it */
    if (renameat(dfd, tmp, dfd, name) < 0) {
        gf_error_errno(err, GF_ERR_IO, "cannot rename '%s' to '%s' in '%s'", tmp, rel, dir);
        goto out_unlink;
    }
    if (sync == FS_DURABLE && fsync(dfd) < 0 && errno != EINVAL) {
        gf_error_errno(err, GF_ERR_IO, "cannot fsync the directory of '%s' in '%s'", rel, dir);
        goto out;
    }
    if (facts) {
        facts->bytes = (int64_t)st.st_size;
        facts->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    }
    rc = 0;
    goto out;
out_unlink:
    if (fd >= 0)
        close(fd);
    fd = -1;
    unlinkat(dfd, tmp, 0);
out:
    close(dfd);
    free(tmp);
    return rc;
}

int fs_stat(const char *dir, const char *rel, struct fs_facts *facts)
{
    char *path = fs_join(dir, rel);
    struct stat st;
    int rc = stat(path, &st);
    free(path);
    if (rc < 0)
        return -1;
    if (!S_ISREG(st.st_mode)) {
        errno = EISDIR;
        return -1;
    }
    facts->bytes = (int64_t)st.st_size;
    facts->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    return 0;
}

static bool is_temporary(const char *name)
{
    const char *t = strstr(name, ".tmp-");
    if (name[0] != '.' || !t || !t[5])
        return false;
    for (const char *p = t + 5; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
    }
    return true;
}

/* Sweep the directory open as `dfd` (closed here). */
static int sweep(int dfd, int depth)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return 0;
    }
    int removed = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISREG(st.st_mode) && is_temporary(de->d_name)) {
            removed += unlinkat(dirfd(d), de->d_name, 0) == 0;
        } else if (S_ISDIR(st.st_mode) && depth < 8) {
            int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                removed += sweep(sub, depth + 1);
        }
    }
    closedir(d);
    return removed;
}

int fs_sweep_temporaries(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? 0 : sweep(fd, 0);
}
