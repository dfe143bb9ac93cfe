/* watch_claim: claiming inbox entries into the jobs directory and refusing them into
 * .rejected/, with rename(2) that never replaces anything; the start-up probe; finishing claims
 * a dead watcher left half done (the protocol is in watch.h). */
#include "watch.h"
#include "fsutil.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLAIM_PREFIX     ".gfclaim+"
#define PROBE_PREFIX     ".gemflow-probe+"
#define SUFFIX_MAX       10000
#define WALK_MAX_DEPTH   16
#define WALK_MAX_ENTRIES 100000
#define HOST_MAX         64

/* [A-Za-z0-9._-] (no '+', the separator of claim names) */
static bool safe_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

/* This host's name as a claim tag: [A-Za-z0-9.-] only (no '+', the tag separator). */
static void host_tag(char out[HOST_MAX + 1])
{
    char h[256] = "";
    if (gethostname(h, sizeof h - 1) < 0)
        h[0] = '\0';
    size_t o = 0;
    for (size_t i = 0; h[i] && o < HOST_MAX; i++) {
        unsigned char c = (unsigned char)h[i];
        out[o++] = safe_char(c) ? (char)c : '-';
    }
    out[o] = '\0';
    if (o == 0)
        strcpy(out, "host");
}

/* --- moving without replacing ------------------------------------------------------------ */

/* rename(2) that never replaces `to`. Where the filesystem cannot refuse (NFS answers
 * RENAME_NOREPLACE with EINVAL) `to` is checked first; the names gemflow moves to are its own
 * (suffixed job names, .rejected/), so the remaining window only matters between watchers that
 * pick the same new name at the same instant, and then rename(2) still fails on a non-empty
 * directory. */
static int rename_noreplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    struct stat st;
    if (lstat(to, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(from, to);
}

/* Move `from` to DIR/STEM[-N]EXT, the first N that is free (and, with why_too, whose ".why"
 * is free as well). Returns 0 with the path in *to, 1 when `from` is gone, -1 with errno. */
static int move_to_free_name(const char *from, const char *dir, const char *stem, const char *ext,
                             bool why_too, struct buf *to)
{
    for (int k = 1; k <= SUFFIX_MAX; k++) {
        buf_reset(to);
        buf_addf(to, "%s/%s", dir, stem);
        if (k > 1)
            buf_addf(to, "-%d", k);
        buf_adds(to, ext);
        if (why_too) {
            char *why = xasprintf("%s.why", to->data);
            struct stat st;
            int taken = lstat(why, &st) == 0;
            free(why);
            if (taken)
                continue;
        }
        if (rename_noreplace(from, to->data) == 0)
            return 0;
        if (errno == EEXIST || errno == ENOTEMPTY)
            continue;
        if (errno == ENOENT && fs_is_dir(dir))
            return 1; /* the source went away */
        return -1;
    }
    errno = EEXIST;
    return -1;
}

static const char *base_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* --- refusing ---------------------------------------------------------------------------- */

/* Move `src` (an inbox entry, or something claimed and found bad) to INBOX/.rejected/ under
 * its inbox name `name`, and write the reason beside it. */
static int refuse_path(const char *inbox, const char *src, const char *name, const char *why,
                       struct buf *where, struct gf_err *err)
{
    char *rej = fs_join(inbox, ".rejected");
    char *stem = NULL;
    int rc = -1;
    struct stat st;
    if (mkdir(rej, 0777) < 0 && errno != EEXIST) {
        gf_error_errno(err, GF_ERR_IO, "cannot create '%s'", rej);
        goto out;
    }
    if (lstat(rej, &st) < 0 || !S_ISDIR(st.st_mode)) {
        gf_error(err, GF_ERR_IO, "cannot refuse '%s': '%s' is not a directory", name, rej);
        goto out;
    }
    const char *dot = strrchr(name, '.');
    const char *ext = dot && dot != name ? dot : "";
    stem = xstrndup(name, strlen(name) - strlen(ext));
    int r = move_to_free_name(src, rej, stem, ext, true, where);
    if (r != 0) {
        if (r < 0)
            gf_error_errno(err, GF_ERR_IO, "cannot move '%s' to '%s'", src, rej);
        rc = r;
        goto out;
    }
    char ts[40], host[HOST_MAX + 1];
    now_rfc3339(ts, sizeof ts);
    host_tag(host);
    struct buf text = BUF_INIT;
    buf_addf(&text,
             "refused '%s': %s\nat: %s\nby: gemflow watch on %s, pid %ld\n"
             "A drop is a script file (*.txt, *.md, *.fountain, at most %d MB) written in the "
             "inbox or moved in, or a directory with script.txt (and optionally workflow.yaml) "
             "moved in.\n",
             name, why, ts, host, (long)getpid(), WATCH_MAX_BYTES >> 20);
    char *why_name = xasprintf("%s.why", base_of(where->data));
    rc = fs_write_atomic(rej, why_name, text.data, text.len, FS_ATOMIC, NULL, err);
    free(why_name);
    buf_release(&text);
out:
    free(stem);
    free(rej);
    return rc;
}

int watch_refuse(const char *inbox, const char *name, const char *why, struct buf *where,
                 struct gf_err *err)
{
    char *src = fs_join(inbox, name);
    int rc = refuse_path(inbox, src, name, why, where, err);
    free(src);
    return rc;
}

/* --- claiming ---------------------------------------------------------------------------- */

/* Check a claimed drop in its staging place: a file must still be a non-empty regular script
 * within the limit (it may have been swapped between judging and renaming); a directory must
 * hold no symlink or special file anywhere (a job reads its inputs by path). */
static int walk_dir(const char *path, const char *rel, int depth, long *budget, struct buf *why)
{
    if (depth > WALK_MAX_DEPTH) {
        buf_addf(why, "a directory nested deeper than %d levels at '%s'", WALK_MAX_DEPTH, rel);
        return -1;
    }
    DIR *d = opendir(path);
    if (!d) {
        buf_addf(why, "a directory whose '%s' cannot be read: %s", rel[0] ? rel : ".",
                 strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (--*budget < 0) {
            buf_addf(why, "a directory holding more than %d entries", WALK_MAX_ENTRIES);
            rc = -1;
            break;
        }
        char *sub = fs_join(path, de->d_name);
        char *subrel = rel[0] ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
        struct stat st;
        if (lstat(sub, &st) < 0) {
            buf_addf(why, "a directory whose '%s' cannot be read: %s", subrel, strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk_dir(sub, subrel, depth + 1, budget, why);
        } else if (!S_ISREG(st.st_mode)) {
            buf_addf(why, "a directory holding '%s', which is %s", subrel,
                     S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
            rc = -1;
        }
        free(sub);
        free(subrel);
    }
    closedir(d);
    return rc;
}

static int check_claimed(const char *held, enum watch_kind kind, struct buf *why)
{
    if (kind == WATCH_DIR) {
        long budget = WALK_MAX_ENTRIES;
        return walk_dir(held, "", 0, &budget, why);
    }
    struct stat st;
    if (lstat(held, &st) < 0)
        buf_addf(why, "unreadable once claimed: %s", strerror(errno));
    else if (!S_ISREG(st.st_mode))
        buf_adds(why, "replaced by something that is not a regular file");
    else if (st.st_size == 0)
        buf_adds(why, "empty once claimed");
    else if (st.st_size > WATCH_MAX_BYTES)
        buf_addf(why, "%lld bytes, more than the %d MB limit", (long long)st.st_size,
                 WATCH_MAX_BYTES >> 20);
    else
        return 0;
    return -1;
}

static int claim_errno(struct gf_err *err, const char *src, const char *jobs, int e)
{
    errno = e;
    if (e == EXDEV)
        return gf_error(err, GF_ERR_CONFIG,
                        "cannot claim '%s': the inbox and the jobs directory '%s' are on different "
                        "filesystems, and a claim is a rename(2); put both on one filesystem",
                        src, jobs);
    return gf_error_errno(err, GF_ERR_IO, "cannot claim '%s' into '%s'", src, jobs);
}

/* Step 1, the claim itself: rename the drop out of the inbox into a new staging name that no
 * other watcher uses. Returns 0 (staging path in *stage), 1 when the drop was gone, -1. */
static int take(const char *src, enum watch_kind kind, const char *jobs, const char *jobname,
                struct buf *stage, struct gf_err *err)
{
    static unsigned long seq;
    char host[HOST_MAX + 1];
    host_tag(host);
    for (int tries = 0; tries < 100; tries++) {
        buf_reset(stage);
        buf_addf(stage, "%s/" CLAIM_PREFIX "%s+%ld+%lu+%s", jobs, host, (long)getpid(), ++seq,
                 jobname);
        if (kind == WATCH_DIR) {
            if (rename_noreplace(src, stage->data) == 0)
                return 0;
            if (errno == EEXIST || errno == ENOTEMPTY)
                continue; /* a stale staging name of an earlier process with our pid */
            if (errno == ENOENT && fs_is_dir(jobs))
                return 1;
            return claim_errno(err, src, jobs, errno);
        }
        if (mkdir(stage->data, 0777) < 0) {
            if (errno == EEXIST)
                continue;
            return claim_errno(err, src, jobs, errno);
        }
        char *dst = fs_join(stage->data, "script.txt");
        int rc = rename(src, dst);
        int e = errno;
        free(dst);
        if (rc == 0)
            return 0;
        rmdir(stage->data); /* the loser of a race leaves nothing behind */
        if (e == ENOENT)
            return 1;
        return claim_errno(err, src, jobs, e);
    }
    return gf_error(err, GF_ERR_IO, "cannot claim '%s': no free staging name in '%s'", src, jobs);
}

int watch_claim(const char *inbox, const char *name, enum watch_kind kind, const char *jobs,
                struct buf *job_dir, struct buf *refused, struct gf_err *err)
{
    buf_reset(job_dir);
    buf_reset(refused);
    char jobname[WATCH_NAME_MAX + 1];
    watch_job_name(name, kind == WATCH_DIR, jobname);
    char *src = fs_join(inbox, name);
    struct buf stage = BUF_INIT, why = BUF_INIT, where = BUF_INIT;
    int rc = take(src, kind, jobs, jobname, &stage, err);
    if (rc != 0)
        goto out;
    /* Step 2: judge what we hold now that nobody else can change its place. */
    char *held = kind == WATCH_FILE ? fs_join(stage.data, "script.txt") : xstrdup(stage.data);
    if (check_claimed(held, kind, &why) < 0) {
        int r = refuse_path(inbox, held, name, why.data, &where, err);
        free(held);
        if (kind == WATCH_FILE)
            rmdir(stage.data);
        if (r < 0) {
            gf_error(err, GF_ERR_IO, "refusing '%s' (%s) failed: %s; it is kept in '%s'", name,
                     why.data, err->msg, stage.data);
            rc = -1;
            goto out;
        }
        buf_addf(refused, "%s; moved to '%s'", why.data, where.data);
        rc = 1;
        goto out;
    }
    free(held);
    /* Step 3: publish it under a free job name; it appears complete or not at all. */
    if (move_to_free_name(stage.data, jobs, jobname, "", false, job_dir) != 0) {
        gf_error_errno(err, GF_ERR_IO, "cannot move claimed '%s' to '%s/%s' (it is kept in '%s')",
                       name, jobs, jobname, stage.data);
        buf_reset(job_dir);
        rc = -1;
        goto out;
    }
    /* The claim survives a crash from here on (one journal commit holds both renames). */
    if (fs_fsync_dir(jobs, err) < 0)
        rc = -1;
out:
    buf_release(&stage);
    buf_release(&why);
    buf_release(&where);
    free(src);
    return rc;
}

/* --- start-up checks and recovery ---------------------------------------------------------- */

int watch_check_rename(const char *inbox, const char *jobs, struct gf_err *err)
{
    char host[HOST_MAX + 1];
    host_tag(host);
    char *probe = xasprintf(PROBE_PREFIX "%s+%ld", host, (long)getpid());
    char *src = fs_join(inbox, probe), *dst = fs_join(jobs, probe);
    int rc = -1;
    int fd = open(src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        gf_error_errno(err, GF_ERR_CONFIG, "cannot write in inbox '%s' (a claim moves files out)",
                       inbox);
        goto out;
    }
    close(fd);
    if (rename(src, dst) < 0) {
        int e = errno;
        unlink(src);
        if (e == EXDEV)
            gf_error(err, GF_ERR_CONFIG,
                     "inbox '%s' and jobs directory '%s' are on different filesystems: a claim is "
                     "an atomic rename(2), which cannot cross them (gemflow does not copy); put "
                     "both on one filesystem, e.g. /srv/gemflow/inbox and /srv/gemflow/jobs",
                     inbox, jobs);
        else {
            errno = e;
            gf_error_errno(err, GF_ERR_CONFIG, "cannot move a file from inbox '%s' into '%s'",
                           inbox, jobs);
        }
        goto out;
    }
    unlink(dst);
    rc = 0;
out:
    free(probe);
    free(src);
    free(dst);
    return rc;
}

/* Split ".gfclaim+HOST+PID+SEQ+NAME"; false when it is not one. */
static bool parse_claim(char *s, char **host, long *pid, char **name)
{
    if (!str_starts_with(s, CLAIM_PREFIX))
        return false;
    char *f[4];
    char *p = s + strlen(CLAIM_PREFIX);
    for (int i = 0; i < 4; i++) {
        f[i] = p;
        char *plus = i < 3 ? strchr(p, '+') : NULL;
        if (i < 3 && !plus)
            return false;
        if (plus) {
            *plus = '\0';
            p = plus + 1;
        }
    }
    char *end;
    *pid = strtol(f[1], &end, 10);
    if (*end || *pid <= 0 || !f[3][0])
        return false;
    *host = f[0];
    *name = f[3];
    return true;
}

static bool process_is_alive(long pid)
{
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

int watch_recover(const char *jobs, void (*found)(void *ctx, const char *job_dir, const char *msg),
                  void *ctx)
{
    DIR *d = opendir(jobs);
    if (!d)
        return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (str_starts_with(de->d_name, CLAIM_PREFIX))
            *VEC_PUSH(names, n, cap) = xstrdup(de->d_name);
    closedir(d);
    char me[HOST_MAX + 1];
    host_tag(me);
    int published = 0;
    struct buf to = BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        char *path = fs_join(jobs, names[i]);
        char *host, *name;
        long pid;
        if (!parse_claim(names[i], &host, &pid, &name)) {
            /* not ours to touch */
        } else if (strcmp(host, me) != 0) {
            char *msg = xasprintf("'%s' is a claim left half done by a watcher on host '%s'; a "
                                  "watcher started there finishes it",
                                  path, host);
            found(ctx, NULL, msg);
            free(msg);
        } else if (pid != (long)getpid() && !process_is_alive(pid) && rmdir(path) < 0) {
            /* not empty: the drop is inside; publish it as a job */
            if (move_to_free_name(path, jobs, name, "", false, &to) == 0) {
                found(ctx, to.data, NULL);
                published++;
            } else {
                char *msg = xasprintf("cannot finish the claim '%s': %s", path, strerror(errno));
                found(ctx, NULL, msg);
                free(msg);
            }
        }
        free(path);
        free(names[i]);
    }
    free(names);
    buf_release(&to);
    if (published)
        fs_fsync_dir(jobs, NULL);
    return published;
}
