/* watch: inotify on the inbox (the only place gemflow uses it), the names it takes or ignores,
 * and judging its entries. Claiming and refusing them is in watch_claim.c. */
#include "watch.h"
#include "fsutil.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

struct watch {
    int fd, wd;
    bool gone;
    char *inbox;
};

/* --- inotify --------------------------------------------------------------------------- */

struct watch *watch_open(const char *inbox, struct gf_err *err)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        if (errno == EMFILE)
            gf_error(err, GF_ERR_CONFIG,
                     "cannot watch '%s': too many inotify instances (raise the sysctl "
                     "fs.inotify.max_user_instances)",
                     inbox);
        else
            gf_error_errno(err, GF_ERR_IO, "cannot watch '%s': inotify_init1", inbox);
        return NULL;
    }
    /* IN_CREATE only to see symlinks and special files appear (they are never written);
     * IN_UNMOUNT and IN_IGNORED come without asking. */
    uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF |
                    IN_ONLYDIR | IN_EXCL_UNLINK;
    int wd = inotify_add_watch(fd, inbox, mask);
    if (wd < 0) {
        if (errno == ENOSPC)
            gf_error(err, GF_ERR_CONFIG,
                     "cannot watch '%s': no inotify watches left (raise the sysctl "
                     "fs.inotify.max_user_watches)",
                     inbox);
        else
            gf_error_errno(err, GF_ERR_CONFIG, "cannot watch inbox '%s'", inbox);
        close(fd);
        return NULL;
    }
    struct watch *w = xcalloc(1, sizeof *w);
    w->fd = fd;
    w->wd = wd;
    w->inbox = xstrdup(inbox);
    return w;
}

int watch_fd(const struct watch *w)
{
    return w->fd;
}

void watch_free(struct watch *w)
{
    if (!w)
        return;
    close(w->fd);
    free(w->inbox);
    free(w);
}

static void deliver(struct watch *w, const struct inotify_event *ev, watch_fn fn, void *ctx)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        fn(ctx, WATCH_EV_OVERFLOW, NULL);
        return;
    }
    if (ev->wd != w->wd)
        return;
    const char *gone = NULL;
    if (ev->mask & IN_UNMOUNT)
        gone = "was unmounted";
    else if (ev->mask & IN_DELETE_SELF)
        gone = "was deleted";
    else if (ev->mask & IN_MOVE_SELF)
        gone = "was moved or renamed";
    else if (ev->mask & IN_IGNORED)
        gone = "is no longer watched (the kernel dropped the watch)";
    if (gone) {
        w->gone = true;
        fn(ctx, WATCH_EV_GONE, gone);
        return;
    }
    if (ev->len == 0 || !ev->name[0])
        return;
    if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))
        fn(ctx, WATCH_EV_READY, ev->name);
    else if (ev->mask & IN_CREATE)
        fn(ctx, WATCH_EV_CREATED, ev->name);
}

int watch_read(struct watch *w, watch_fn fn, void *ctx, struct gf_err *err)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (!w->gone) {
        ssize_t n = read(w->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0)
            return gf_error_errno(err, GF_ERR_IO, "cannot read the inotify events of '%s'",
                                  w->inbox);
        if (n == 0)
            return 0;
        for (char *p = buf; p < buf + n && !w->gone;) {
            const struct inotify_event *ev = (const void *)p;
            p += sizeof *ev + ev->len;
            deliver(w, ev, fn, ctx);
        }
    }
    return 0;
}

/* --- names ----------------------------------------------------------------------------- */

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a > b && strcasecmp(s + a - b, suffix) == 0;
}

bool watch_name_is_temporary(const char *name)
{
    static const char *const temp[] = {".swp", ".swx", ".tmp", ".part", ".crdownload"};
    if (!name[0] || name[0] == '.' || name[strlen(name) - 1] == '~')
        return true;
    for (size_t i = 0; i < ARRAY_SIZE(temp); i++)
        if (ends_with_ci(name, temp[i]))
            return true;
    return false;
}

bool watch_name_is_script(const char *name)
{
    static const char *const ext[] = {".txt", ".md", ".fountain"};
    for (size_t i = 0; i < ARRAY_SIZE(ext); i++)
        if (ends_with_ci(name, ext[i]))
            return true;
    return false;
}

static bool safe_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

void watch_job_name(const char *entry, bool is_dir, char out[WATCH_NAME_MAX + 1])
{
    size_t len = strlen(entry);
    const char *dot = is_dir ? NULL : strrchr(entry, '.');
    if (dot && dot != entry)
        len = (size_t)(dot - entry);
    size_t o = 0;
    for (size_t i = 0; i < len && o < WATCH_NAME_MAX; i++) {
        unsigned char c = (unsigned char)entry[i];
        if (!safe_char(c))
            c = '-';
        if (o == 0 && (c == '.' || c == '-'))
            continue; /* no hidden name, no option-like name */
        if (c == '-' && out[o - 1] == '-')
            continue;
        out[o++] = (char)c;
    }
    while (o > 0 && (out[o - 1] == '-' || out[o - 1] == '.'))
        o--;
    out[o] = '\0';
    if (o == 0)
        strcpy(out, "job");
}

/* --- judging ----------------------------------------------------------------------------- */

/* Whether a process on this machine has `path` open for writing: then no read lease can be
 * taken (EAGAIN). Taking one needs ownership or CAP_LEASE and a filesystem with leases (not
 * NFS); without them the answer is "no", as it is for writers on other machines. The lease is
 * dropped at once; a writer opening in that instant waits for it, and its break signal is
 * SIGURG, which is ignored by default (the default SIGIO would kill us). */
static bool open_for_writing(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool busy = false;
    if (fcntl(fd, F_SETSIG, SIGURG) == 0) {
        if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0)
            fcntl(fd, F_SETLEASE, F_UNLCK);
        else
            busy = errno == EAGAIN;
    }
    close(fd);
    return busy;
}

static enum watch_kind judge_dir(const char *path, const char *name, struct buf *why)
{
    static const char *const marks[] = {"script.txt", "workflow.yaml"};
    for (size_t i = 0; i < ARRAY_SIZE(marks); i++) {
        char *p = fs_join(path, marks[i]);
        struct stat st;
        int rc = lstat(p, &st);
        free(p);
        if (rc == 0)
            return WATCH_DIR;
    }
    buf_adds(why, "a directory with neither script.txt nor workflow.yaml");
    return WATCH_REFUSE;
}

enum watch_kind watch_judge(const char *inbox, const char *name, enum watch_ev ev, struct buf *why)
{
    buf_reset(why);
    if (watch_name_is_temporary(name))
        return WATCH_SKIP;
    char *path = fs_join(inbox, name);
    struct stat st;
    enum watch_kind k = WATCH_SKIP;
    if (lstat(path, &st) < 0) {
        /* gone: claimed by another watcher, or removed */
    } else if (S_ISLNK(st.st_mode)) {
        buf_adds(why, "a symbolic link");
        k = WATCH_REFUSE;
    } else if (S_ISFIFO(st.st_mode)) {
        buf_adds(why, "a FIFO (named pipe)");
        k = WATCH_REFUSE;
    } else if (S_ISSOCK(st.st_mode)) {
        buf_adds(why, "a socket");
        k = WATCH_REFUSE;
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        buf_adds(why, "a device");
        k = WATCH_REFUSE;
    } else if (S_ISDIR(st.st_mode)) {
        if (ev == WATCH_EV_CREATED)
            buf_adds(why, "a directory made in place (a directory is taken when moved in)");
        else
            k = judge_dir(path, name, why);
    } else if (!S_ISREG(st.st_mode)) {
        buf_adds(why, "not a regular file or a directory");
        k = WATCH_REFUSE;
    } else if (ev == WATCH_EV_CREATED) {
        /* being written: wait for IN_CLOSE_WRITE */
    } else if (!watch_name_is_script(name)) {
        buf_adds(why, "not a script (*.txt, *.md, *.fountain)");
    } else if (st.st_size == 0) {
        buf_adds(why, "empty (it is taken once something is written to it)");
    } else if (st.st_size > WATCH_MAX_BYTES) {
        buf_addf(why, "%lld bytes, more than the %d MB limit", (long long)st.st_size,
                 WATCH_MAX_BYTES >> 20);
        k = WATCH_REFUSE;
    } else if (open_for_writing(path)) {
        buf_adds(why, "still open for writing (it is taken when closed)");
    } else {
        k = WATCH_FILE;
    }
    free(path);
    return k;
}

struct entry {
    char *name;
    struct timespec mtime;
};

static int by_age(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return strcmp(x->name, y->name);
}

long watch_list(const char *inbox, char ***names, struct gf_err *err)
{
    *names = NULL;
    DIR *d = opendir(inbox);
    if (!d)
        return gf_error_errno(err, GF_ERR_IO, "cannot read inbox '%s'", inbox);
    struct entry *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (watch_name_is_temporary(de->d_name))
            continue;
        struct stat st;
        memset(&st, 0, sizeof st);
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
            continue;
        struct entry *e = VEC_PUSH(v, n, cap);
        e->name = xstrdup(de->d_name);
        e->mtime = st.st_mtim;
    }
    closedir(d);
    if (n)
        qsort(v, n, sizeof *v, by_age);
    *names = xcalloc(n + 1, sizeof **names);
    for (size_t i = 0; i < n; i++)
        (*names)[i] = v[i].name;
    free(v);
    return (long)n;
}
