/* watch_copy: the bounded, no-follow copy that makes a claimed drop the watcher's own, and the
 * bounded removal of the original (see watch_copy.h). */
#include "watch_copy.h"
#include "util.h"
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK       65536
#define REMOVE_MAX  (4 * WATCH_DROP_MAX_ENTRIES)
#define REMOVE_DEEP 64

/* --- names ------------------------------------------------------------------------------- */

/* Length of the UTF-8 sequence at s (1-4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n = s[0] < 0x80             ? 1
               : (s[0] & 0xE0) == 0xC0 ? 2
               : (s[0] & 0xF0) == 0xE0 ? 3
               : (s[0] & 0xF8) == 0xF0 ? 4
                                       : 0;
    if (n == 0 || (n == 2 && s[0] < 0xC2) || (n == 4 && s[0] > 0xF4))
        return 0;
    for (size_t k = 1; k < n; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))
        return 0;
    return n;
}

/* C0 controls, DEL, and the C1 controls U+0080..U+009F (which terminals may obey too). */
static bool is_control(const unsigned char *s, size_t n)
{
    return (n == 1 && (s[0] < 0x20 || s[0] == 0x7f)) || (n == 2 && s[0] == 0xC2 && s[1] < 0xA0);
}

const char *watch_name_problem(const char *name)
{
    const unsigned char *s = (const unsigned char *)name;
    while (*s) {
        size_t n = utf8_len(s);
        if (n == 0)
            return "bytes that are not UTF-8";
        if (is_control(s, n))
            return "control characters";
        s += n;
    }
    return NULL;
}

void watch_show_name(struct buf *out, const char *name)
{
    const unsigned char *s = (const unsigned char *)name;
    while (*s) {
        size_t n = utf8_len(s);
        if (n == 0 || is_control(s, n)) {
            for (size_t k = 0; k < (n ? n : 1); k++)
                buf_addf(out, "\\x%02x", s[k]);
            s += n ? n : 1;
        } else {
            buf_add(out, s, n);
            s += n;
        }
    }
}

/* --- copying ----------------------------------------------------------------------------- */

struct copy {
    dev_t dev;       /* the drop's filesystem */
    uint64_t bytes;  /* copied so far */
    size_t entries;  /* entries met so far */
    struct buf *why; /* why the drop is refused */
    struct gf_err *err;
};

/* Refuse the drop: returns 1 with the reason in c->why ("'REL' is a FIFO"). */
static int refuse(struct copy *c, const char *rel, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(struct copy *c, const char *rel, const char *fmt, ...)
{
    buf_reset(c->why);
    if (rel[0]) {
        buf_adds(c->why, "'");
        watch_show_name(c->why, rel);
        buf_adds(c->why, "' ");
    }
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(c->why, fmt, ap);
    va_end(ap);
    return 1;
}

static const char *what_is(mode_t m)
{
    return S_ISLNK(m)                 ? "is a symbolic link"
           : S_ISFIFO(m)              ? "is a FIFO (named pipe)"
           : S_ISSOCK(m)              ? "is a socket"
           : S_ISCHR(m) || S_ISBLK(m) ? "is a device"
                                      : "is not a regular file or a directory";
}

static int copy_entry(struct copy *c, int sdir, const char *sname, int ddir, const char *dname,
                      const char *rel, int depth, bool as_script);

/* Copy the open regular file `fd` (facts `st`) to a new file ddir/dname. */
static int copy_file(struct copy *c, int fd, const struct stat *st, int ddir, const char *dname,
                     const char *rel)
{
    if (st->st_nlink != 1)
        return refuse(c, rel, "has %lu hard links (a drop's files must have one)",
                      (unsigned long)st->st_nlink);
    if ((uint64_t)st->st_size > WATCH_DROP_MAX_BYTES - c->bytes)
        return refuse(c, "", "more than %llu MB of files in a drop",
                      (unsigned long long)(WATCH_DROP_MAX_BYTES >> 20));
    if (strcmp(rel, "workflow.yaml") == 0 && st->st_size > WATCH_WORKFLOW_MAX_BYTES)
        return refuse(c, rel, "is %lld bytes, more than the %u MB a dropped workflow may have",
                      (long long)st->st_size, WATCH_WORKFLOW_MAX_BYTES >> 20);
    int out = openat(ddir, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (out < 0)
        return gf_error_errno(c->err, GF_ERR_IO, "cannot create the copy of '%s'", rel);
    char *data = xmalloc(CHUNK);
    uint64_t left = (uint64_t)st->st_size;
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, data, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = refuse(c, rel, "cannot be read: %s", strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if ((uint64_t)n > left) {
            rc = refuse(c, rel, "grew while it was copied");
            break;
        }
        left -= (uint64_t)n;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, data + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = gf_error_errno(c->err, GF_ERR_IO, "cannot write the copy of '%s'", rel);
                break;
            }
            off += w;
        }
        if (rc)
            break;
    }
    if (rc == 0 && left)
        rc = refuse(c, rel, "shrank while it was copied");
    c->bytes += (uint64_t)st->st_size - left;
    free(data);
    close(out);
    return rc;
}

/* Copy the open directory `fd` to a new directory ddir/dname, entry by entry. */
static int copy_dir(struct copy *c, int fd, int ddir, const char *dname, const char *rel, int depth)
{
    if (depth > WATCH_DROP_MAX_DEPTH)
        return refuse(c, rel, "is nested deeper than %d levels", WATCH_DROP_MAX_DEPTH);
    if (mkdirat(ddir, dname, 0777) < 0)
        return gf_error_errno(c->err, GF_ERR_IO, "cannot create the copy of '%s'",
                              rel[0] ? rel : ".");
    int out = openat(ddir, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int dup_fd = out < 0 ? -1 : dup(fd);
    DIR *d = dup_fd < 0 ? NULL : fdopendir(dup_fd);
    if (!d) {
        if (dup_fd >= 0)
            close(dup_fd);
        if (out >= 0)
            close(out);
        return gf_error_errno(c->err, GF_ERR_IO, "cannot copy '%s'", rel[0] ? rel : ".");
    }
    int rc = 0;
    struct dirent *de;
    errno = 0;
    while (rc == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *sub = rel[0] ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
        rc = copy_entry(c, fd, de->d_name, out, de->d_name, sub, depth + 1, false);
        free(sub);
        errno = 0;
    }
    if (rc == 0 && errno)
        rc = refuse(c, rel[0] ? rel : "", "cannot be listed: %s", strerror(errno));
    closedir(d);
    close(out);
    return rc;
}

/* The rules for the job's own files at the top of a directory drop. */
static int check_top(struct copy *c, const char *rel, const struct stat *st)
{
    if ((!strcmp(rel, "workflow.yaml") || !strcmp(rel, "script.txt")) && !S_ISREG(st->st_mode))
        return refuse(c, rel, "%s", S_ISDIR(st->st_mode) ? "is a directory" : what_is(st->st_mode));
    return 0;
}

static int copy_entry(struct copy *c, int sdir, const char *sname, int ddir, const char *dname,
                      const char *rel, int depth, bool as_script)
{
    const char *bad = watch_name_problem(sname);
    if (bad)
        return refuse(c, rel, "has a name with %s", bad);
    if (++c->entries > WATCH_DROP_MAX_ENTRIES)
        return refuse(c, "", "more than %d files and directories in a drop",
                      WATCH_DROP_MAX_ENTRIES);
    struct stat st, fst;
    if (fstatat(sdir, sname, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return refuse(c, rel, "cannot be read: %s", strerror(errno));
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return refuse(c, rel, "%s", what_is(st.st_mode));
    if (depth == 1 && check_top(c, rel, &st))
        return 1;
    if (depth > 0 && st.st_dev != c->dev)
        return refuse(c, rel, "is on another filesystem (a mount point)");
    /* O_NONBLOCK: were it swapped for a FIFO since, opening it does not wait for a writer */
    int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    int fd = openat(sdir, sname, flags | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
    if (fd < 0)
        return errno == ELOOP ? refuse(c, rel, "is a symbolic link")
                              : refuse(c, rel, "cannot be read: %s", strerror(errno));
    int rc;
    if (fstat(fd, &fst) < 0)
        rc = refuse(c, rel, "cannot be read: %s", strerror(errno));
    else if (fst.st_dev != st.st_dev || fst.st_ino != st.st_ino ||
             (fst.st_mode & S_IFMT) != (st.st_mode & S_IFMT))
        rc = refuse(c, rel, "was replaced while it was copied");
    else if (S_ISDIR(fst.st_mode))
        rc = copy_dir(c, fd, ddir, dname, rel, depth);
    else if (as_script) { /* a script dropped as a file: the job directory holds it */
        if (fst.st_size == 0)
            rc = refuse(c, "", "empty once claimed");
        else if (fst.st_size > WATCH_MAX_BYTES)
            rc = refuse(c, "", "%lld bytes once claimed, more than the %d MB limit",
                        (long long)fst.st_size, WATCH_MAX_BYTES >> 20);
        else if (mkdirat(ddir, dname, 0777) < 0)
            rc = gf_error_errno(c->err, GF_ERR_IO, "cannot create the copy of the script");
        else {
            int out = openat(ddir, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            rc = out < 0 ? gf_error_errno(c->err, GF_ERR_IO, "cannot open the copy")
                         : copy_file(c, fd, &fst, out, "script.txt", "script.txt");
            if (out >= 0)
                close(out);
        }
    } else
        rc = copy_file(c, fd, &fst, ddir, dname, rel);
    close(fd);
    return rc;
}

int watch_copy(int src_dir, const char *src, int dst_dir, const char *dst, struct buf *why,
               struct gf_err *err)
{
    struct copy c = {.why = why, .err = err};
    struct stat st;
    if (fstatat(src_dir, src, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        buf_addf(why, "unreadable once claimed: %s", strerror(errno));
        return 1;
    }
    c.dev = st.st_dev;
    return copy_entry(&c, src_dir, src, dst_dir, dst, "", 0, S_ISREG(st.st_mode));
}

int watch_copy_sync(int dir, struct gf_err *err)
{
    /* one commit for every file of the copy, instead of one per file */
    if (syncfs(dir) < 0)
        return gf_error_errno(err, GF_ERR_IO, "cannot write the copy to disk (syncfs)");
    return 0;
}

/* --- removing ---------------------------------------------------------------------------- */

static int remove_at(int dir, const char *name, long *budget, int depth, struct gf_err *err);

/* Empty the directory dir/name (opened without following a symlink). */
static int empty_dir(int dir, const char *name, long *budget, int depth, struct gf_err *err)
{
    int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : gf_error_errno(err, GF_ERR_IO, "cannot open '%s'", name);
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return gf_error_errno(err, GF_ERR_IO, "cannot list '%s'", name);
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        rc = remove_at(dirfd(d), de->d_name, budget, depth + 1, err);
    }
    closedir(d);
    return rc;
}

static int remove_at(int dir, const char *name, long *budget, int depth, struct gf_err *err)
{
    for (int tries = 0; tries < 3; tries++) {
        if (--*budget < 0)
            return gf_error(err, GF_ERR_IO, "'%s' keeps growing (more than %d entries)", name,
                            REMOVE_MAX);
        if (unlinkat(dir, name, 0) == 0 || errno == ENOENT)
            return 0;
        if (errno != EISDIR && errno != EPERM)
            return gf_error_errno(err, GF_ERR_IO, "cannot remove '%s'", name);
        if (depth > REMOVE_DEEP)
            return gf_error(err, GF_ERR_IO, "'%s' is nested deeper than %d levels", name,
                            REMOVE_DEEP);
        if (empty_dir(dir, name, budget, depth, err) < 0)
            return -1;
        if (unlinkat(dir, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
            return 0;
        if (errno != ENOTEMPTY && errno != EEXIST) /* refilled meanwhile: once more */
            return gf_error_errno(err, GF_ERR_IO, "cannot remove '%s'", name);
    }
    return gf_error(err, GF_ERR_IO, "cannot remove '%s': it keeps being refilled", name);
}

int watch_remove(int dir, const char *name, struct gf_err *err)
{
    long budget = REMOVE_MAX;
    return remove_at(dir, name, &budget, 0, err);
}
