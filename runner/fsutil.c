/* fsutil: atomic, durable writes inside the job directory (see fsutil.h for the contract). */
#include "fsutil.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int fs_mkdirs(const char *dir, const char *rel, struct gf_err *err)
{
    char *path = fs_join(dir, rel);
    size_t base = strlen(path) - strlen(rel);
    for (char *p = path + base;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0777) < 0 && errno != EEXIST) {
            gf_error_errno(err, GF_ERR_IO, "cannot create directory '%s'", path);
            free(path);
            return -1;
        }
        *p = c;
        if (!c)
            break;
    }
    free(path);
    return 0;
}

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

int fs_write_atomic(const char *dir, const char *rel, const void *data, size_t len,
                    enum fs_sync sync, struct fs_facts *facts, struct gf_err *err)
{
    char *target = fs_join(dir, rel);
    char *slash = strrchr(target, '/');
    char *parent = xstrndup(target, (size_t)(slash - target));
    char *tmp = xasprintf("%s/.%s.tmp-%ld", parent, slash + 1, (long)getpid());
    int fd = -1, rc = -1;

    const char *rslash = strrchr(rel, '/');
    if (rslash) {
        char *reldir = xstrndup(rel, (size_t)(rslash - rel));
        int mk = fs_mkdirs(dir, reldir, err);
        free(reldir);
        if (mk < 0)
            goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) {
        gf_error_errno(err, GF_ERR_IO, "cannot create '%s'", tmp);
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
    if (rename(tmp, target) < 0) {
        gf_error_errno(err, GF_ERR_IO, "cannot rename '%s' to '%s'", tmp, target);
        goto out_unlink;
    }
    if (sync == FS_DURABLE && fs_fsync_dir(parent, err) < 0)
        goto out;
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
    unlink(tmp);
out:
    free(target);
    free(parent);
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

static int sweep(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int removed = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *path = fs_join(dir, de->d_name);
        struct stat st;
        if (lstat(path, &st) == 0) {
            if (S_ISREG(st.st_mode) && is_temporary(de->d_name))
                removed += unlink(path) == 0;
            else if (S_ISDIR(st.st_mode) && depth < 8)
                removed += sweep(path, depth + 1);
        }
        free(path);
    }
    closedir(d);
    return removed;
}

int fs_sweep_temporaries(const char *dir)
{
    return sweep(dir, 0);
}
