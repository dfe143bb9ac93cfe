/* watch_claim: claiming inbox entries into the jobs directory (a rename, then a copy the
 * watcher owns) and refusing them into .rejected/, with rename(2) that never replaces anything;
 * the start-up probe; taking over claims a dead watcher left half done (the protocol is in
 * watch.h). */
#include "watch.h"
#include "fsutil.h"
#include "util.h"
#include "watch_copy.h"
#include "workflow.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLAIM_PREFIX ".gfclaim+"
#define PROBE_PREFIX ".gemflow-probe+"
#define SUFFIX_MAX   10000
#define HOST_MAX     64

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
static int rename_noreplace(const char *from, int dirfd, const char *leaf)
{
    if (renameat2(AT_FDCWD, from, dirfd, leaf, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    struct stat st;
    if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        errno = EEXIST;
        return -1;
    }
    return renameat(AT_FDCWD, from, dirfd, leaf);
}

/* Move `from` into the directory open as `dirfd` (named `dir` in *to) as STEM[-N]EXT, the
 * first N that is free (and, with why_too, whose ".why" is free as well): through the
 * directory's descriptor, so whatever replaces its name meanwhile is not where it goes.
 * Returns 0 with the path in *to, 1 when `from` is gone, -1 with errno. */
static int move_to_free_name(const char *from, int dirfd, const char *dir, const char *stem,
                             const char *ext, bool why_too, struct buf *to)
{
    struct buf leaf = BUF_INIT;
    int rc = -1, e = EEXIST;
    for (int k = 1; k <= SUFFIX_MAX; k++) {
        buf_reset(&leaf);
        buf_adds(&leaf, stem);
        if (k > 1)
            buf_addf(&leaf, "-%d", k);
        buf_adds(&leaf, ext);
        buf_reset(to);
        buf_addf(to, "%s/%s", dir, leaf.data);
        if (why_too) {
            char *why = xasprintf("%s.why", leaf.data);
            struct stat st;
            int taken = fstatat(dirfd, why, &st, AT_SYMLINK_NOFOLLOW) == 0;
            free(why);
            if (taken)
                continue;
        }
        if (rename_noreplace(from, dirfd, leaf.data) == 0) {
            rc = 0;
            break;
        }
        e = errno;
        if (e == EEXIST || e == ENOTEMPTY)
            continue;
        if (e == ENOENT)
            rc = 1; /* the source went away (the directory is open: it is there) */
        break;
    }
    buf_release(&leaf);
    if (rc < 0)
        errno = e;
    return rc;
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
    int rc = -1, fd = -1;
    struct stat st;
    if (mkdir(rej, 0777) < 0 && errno != EEXIST) {
        gf_error_errno(err, GF_ERR_IO, "cannot create '%s'", rej);
        goto out;
    }
    /* The inbox is writable by others: .rejected is used only through a descriptor of a real
     * directory the watcher's user owns (never a link, nor one a dropper made). */
    fd = open(rej, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
        gf_error(err, GF_ERR_IO, "cannot refuse '%s': '%s' is not a directory", name, rej);
        goto out;
    }
    if (st.st_uid != geteuid()) {
        gf_error(err, GF_ERR_IO,
                 "cannot refuse '%s': '%s' belongs to uid %ld, not to this watcher (uid %ld): "
                 "remove it, and it is made anew",
                 name, rej, (long)st.st_uid, (long)geteuid());
        goto out;
    }
    const char *dot = strrchr(name, '.');
    const char *ext = dot && dot != name ? dot : "";
    stem = xstrndup(name, strlen(name) - strlen(ext));
    int r = move_to_free_name(src, fd, rej, stem, ext, true, where);
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
    buf_adds(&text, "refused '");
    watch_show_name(&text, name);
    buf_addf(&text,
             "': %s\nat: %s\nby: gemflow watch on %s, pid %ld\n"
             "A drop is a script file (*.txt, *.md, *.fountain, at most %d MB) written in the "
             "inbox or moved in, or a directory with script.txt (and optionally workflow.yaml) "
             "moved in, at most %llu MB and %d files; it may hold no symbolic link, special "
             "file or hard link.\n",
             why, ts, host, (long)getpid(), WATCH_MAX_BYTES >> 20,
             (unsigned long long)(WATCH_DROP_MAX_BYTES >> 20), WATCH_DROP_MAX_ENTRIES);
    /* beneath the inbox: a .rejected swapped for a link is refused, not written through */
    char *why_name = xasprintf(".rejected/%s.why", base_of(where->data));
    rc = fs_write_atomic(inbox, why_name, text.data, text.len, FS_ATOMIC, NULL, err);
    free(why_name);
    buf_release(&text);
out:
    if (fd >= 0)
        close(fd);
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

/* A new staging directory JOBS/.gfclaim+HOST+PID+SEQ+JOBNAME (mode 0700: nothing in it is
 * anybody else's business, also not of whoever holds a descriptor of the drop and looks at
 * its parent). Returns 0 with its path in *stage, or -1 with errno. */
static int new_stage(const char *jobs, const char *jobname, struct buf *stage)
{
    static unsigned long seq;
    char host[HOST_MAX + 1];
    host_tag(host);
    for (int tries = 0; tries < 100; tries++) {
        buf_reset(stage);
        buf_addf(stage, "%s/" CLAIM_PREFIX "%s+%ld+%lu+%s", jobs, host, (long)getpid(),
                 __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED), jobname);
        if (mkdir(stage->data, 0700) == 0)
            return 0;
        if (errno != EEXIST) /* EEXIST: a stale one of an earlier process with our pid */
            return -1;
    }
    errno = EEXIST;
    return -1;
}

int watch_take(const char *inbox, const char *name, const char *jobs, struct buf *stage,
               struct gf_err *err)
{
    char jobname[WATCH_NAME_MAX + 1];
    struct stat st;
    char *src = fs_join(inbox, name);
    watch_job_name(name, lstat(src, &st) == 0 && S_ISDIR(st.st_mode), jobname);
    int rc = -1;
    if (new_stage(jobs, jobname, stage) < 0) {
        claim_errno(err, src, jobs, errno);
        goto out;
    }
    /* The claim itself: the loser of a race gets ENOENT and leaves nothing behind. */
    char *dst = fs_join(stage->data, "drop");
    rc = rename(src, dst);
    int e = errno;
    free(dst);
    if (rc < 0) {
        rmdir(stage->data);
        rc = e == ENOENT && fs_is_dir(jobs) ? 1 : claim_errno(err, src, jobs, e);
    }
out:
    free(src);
    return rc;
}

static bool has(int dir, const char *name)
{
    struct stat st;
    return fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
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

static bool is_dir_at(int dir, const char *name)
{
    struct stat st;
    return fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* Write `marker` as copy/WORKFLOW_DROP_MARKER in the staging directory `sfd`, replacing any
 * file of that name the drop brought (the copy is ours: no symlink in it). */
static int write_marker(int sfd, const char *marker, struct gf_err *err)
{
    static const char dir[] = "copy/.gemflow", file[] = "copy/" WORKFLOW_DROP_MARKER;
    if (mkdirat(sfd, dir, 0777) < 0 && errno != EEXIST)
        return gf_error_errno(err, GF_ERR_IO, "cannot create '%s'", dir);
    if (unlinkat(sfd, file, 0) < 0 && errno != ENOENT)
        return gf_error_errno(err, GF_ERR_IO, "cannot replace '%s'", file);
    int fd = openat(sfd, file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0)
        return gf_error_errno(err, GF_ERR_IO, "cannot create '%s'", file);
    size_t n = strlen(marker);
    int rc = write(fd, marker, n) == (ssize_t)n
                 ? 0
                 : gf_error_errno(err, GF_ERR_IO, "cannot write '%s'", file);
    close(fd);
    return rc;
}

/* Copy `drop` into `copy` (with the marker), make it durable, and mark the copy complete
 * (`drop` renamed to `old`). Returns 0, 1 when refused (moved to .rejected/, *refused says
 * so), -1 with err (the claim stays as it is, for a restart). */
static int make_own(const char *inbox, const char *stage, int sfd, const char *name, unsigned flags,
                    const char *marker, struct buf *refused, struct gf_err *err)
{
    struct buf why = BUF_INIT, where = BUF_INIT;
    struct gf_err e2 = GF_ERR_INIT;
    int rc = has(sfd, "copy") ? watch_remove(sfd, "copy", err) : 0;
    if (rc == 0)
        rc = watch_copy(sfd, "drop", sfd, "copy", &why, err);
    if (rc == 0 && !has(sfd, "copy/script.txt") && !has(sfd, "copy/workflow.yaml"))
        buf_adds(&why, "a directory with neither script.txt nor workflow.yaml"), rc = 1;
    if (rc == 0 && (flags & WATCH_NO_WORKFLOW) && has(sfd, "copy/workflow.yaml"))
        buf_adds(&why, "a directory with a workflow.yaml of its own (this watcher runs "
                       "--allow-job-workflows none: drops run its workflow)"),
            rc = 1;
    if (rc == 0 && has(sfd, "copy/.gemflow") && !is_dir_at(sfd, "copy/.gemflow"))
        buf_adds(&why, "'.gemflow' is not a directory (it is gemflow's own, in a job)"), rc = 1;
    if (rc == 0 && marker) /* how every command is to trust it; replaces any it brought */
        rc = write_marker(sfd, marker, err);
    /* The copy's data on disk before it is marked complete (and later published, and its
     * original removed): a crash never leaves a published job with empty files. */
    if (rc == 0)
        rc = watch_copy_sync(sfd, err);
    if (rc != 0 && watch_remove(sfd, "copy", &e2) < 0 && rc > 0) {
        gf_error(err, GF_ERR_IO, "cannot remove the partial copy of '%s': %s", name, e2.msg);
        rc = -1;
    }
    if (rc == 1) {
        char *held = fs_join(stage, "drop");
        if (refuse_path(inbox, held, name, why.data, &where, err) != 0) {
            gf_error(err, GF_ERR_IO, "refusing '%s' (%s) failed: %s; it is kept in '%s'", name,
                     why.data, err->msg, held);
            rc = -1;
        } else {
            buf_addf(refused, "%s; moved to '%s'", why.data, where.data);
        }
        free(held);
    } else if (rc == 0 && renameat(sfd, "drop", sfd, "old") < 0) {
        /* made durable with the publishing rename, by the fsync of JOBS after it: the journal
         * commits the two in order, so a published copy is never found still marked `drop` */
        rc = gf_error_errno(err, GF_ERR_IO, "cannot mark the copy of '%s' complete in '%s'", name,
                            stage);
    }
    buf_release(&why);
    buf_release(&where);
    return rc;
}

int watch_adopt(const char *inbox, const char *stage, const char *name, const char *jobs,
                unsigned flags, const char *marker, struct buf *job_dir, struct buf *refused,
                struct buf *note, struct gf_err *err)
{
    buf_reset(job_dir);
    buf_reset(refused);
    buf_reset(note);
    char *base = xstrdup(base_of(stage)), *host, *jobname = "job";
    long pid;
    parse_claim(base, &host, &pid, &jobname);
    if (!name)
        name = jobname; /* taken over from a dead watcher: its inbox name is not known */
    int sfd = open(stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int rc = 1;
    if (sfd < 0) {
        if (errno != ENOENT)
            rc = gf_error_errno(err, GF_ERR_IO, "cannot open the claim '%s'", stage);
        goto out;
    }
    if (has(sfd, "drop") &&
        (rc = make_own(inbox, stage, sfd, name, flags, marker, refused, err)) != 0)
        goto out; /* refused (the staging directory is empty now), or kept for a restart */
    if (has(sfd, "copy") && has(sfd, "old")) {
        /* publish: the job appears complete or not at all, under a free name */
        char *copy = fs_join(stage, "copy");
        int jfd = open(jobs, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* the operator's */
        int moved = jfd < 0 ? -1 : move_to_free_name(copy, jfd, jobs, jobname, "", false, job_dir);
        if (jfd >= 0)
            close(jfd);
        if (moved != 0) {
            gf_error_errno(err, GF_ERR_IO,
                           "cannot move the copy of '%s' to '%s/%s' (it is kept "
                           "in '%s')",
                           name, jobs, jobname, copy);
            buf_reset(job_dir);
            free(copy);
            rc = -1;
            goto out;
        }
        free(copy);
        rc = fs_fsync_dir(jobs, err) < 0 ? -1 : 0;
    }
    /* What is left is the original (or nothing): it goes, as far as we may remove it. */
    struct gf_err e2 = GF_ERR_INIT;
    if (watch_remove(sfd, "old", &e2) < 0)
        buf_addf(note, "the original of '%s' is left in '%s/old': %s", name, stage, e2.msg);
    else if (rmdir(stage) < 0 && errno != ENOENT)
        buf_addf(note, "cannot remove the claim '%s': %s", stage, strerror(errno));
out:
    if (rc == 1 && sfd >= 0 && !refused->len && !note->len)
        rmdir(stage); /* nothing was in it */
    if (rc == 1 && refused->len)
        rmdir(stage);
    if (sfd >= 0)
        close(sfd);
    free(base);
    return rc;
}

int watch_claim(const char *inbox, const char *name, const char *jobs, unsigned flags,
                struct buf *job_dir, struct buf *refused, struct gf_err *err)
{
    struct buf stage = BUF_INIT, note = BUF_INIT;
    buf_reset(job_dir);
    buf_reset(refused);
    int rc = watch_take(inbox, name, jobs, &stage, err);
    if (rc == 0)
        rc = watch_adopt(inbox, stage.data, name, jobs, flags, NULL, job_dir, refused, &note, err);
    buf_release(&stage);
    buf_release(&note);
    return rc;
}

/* --- start-up checks and recovery ---------------------------------------------------------- */

int watch_check_rename(const char *inbox, const char *jobs, struct gf_err *err)
{
    char host[HOST_MAX + 1];
    host_tag(host);
    /* Whoever writes the inbox may plant a link under a name it can guess: the probe is a new
     * file of an unguessable name (mkostemp: O_CREAT | O_EXCL, never through a link). */
    char *src = xasprintf("%s/" PROBE_PREFIX "%s+%ld+XXXXXX", inbox, host, (long)getpid());
    char *probe = NULL, *dst = NULL;
    int rc = -1;
    int fd = mkostemp(src, O_CLOEXEC);
    probe = xstrdup(base_of(src));
    dst = fs_join(jobs, probe);
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

static bool process_is_alive(long pid)
{
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Take over the dead watcher's claim `path` (".gfclaim+..+NAME"): rename it to a staging name
 * of ours (exactly one of several watchers starting at once gets it). A claim made before
 * claims held `drop` (the drop's contents directly in it) is wrapped into one that does.
 * Returns 0 with the new staging directory in *stage, 1 when it was empty or taken, -1. */
static int take_over(const char *jobs, const char *path, const char *name, struct buf *stage)
{
    struct buf tmp = BUF_INIT;
    int rc = -1;
    if (rmdir(path) == 0 || errno == ENOENT) {
        rc = 1; /* empty: the claim never happened */
        goto out;
    }
    if (new_stage(jobs, name, stage) < 0)
        goto out;
    int fd = -1;
    if (rename(path, stage->data) < 0) { /* replaces our empty new stage, or fails */
        int e = errno;
        rmdir(stage->data);
        errno = e;
        rc = e == ENOENT ? 1 : -1;
        goto out;
    }
    fd = open(stage->data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 && !has(fd, "drop") && !has(fd, "copy") && !has(fd, "old")) {
        /* the old layout: the claimed directory itself */
        if (new_stage(jobs, name, &tmp) < 0)
            goto close;
        char *drop = fs_join(tmp.data, "drop");
        int r = rename(stage->data, drop);
        free(drop);
        if (r < 0) {
            rmdir(tmp.data);
            goto close;
        }
        buf_reset(stage);
        buf_adds(stage, tmp.data);
    }
    rc = fd < 0 ? -1 : 0;
close:
    if (fd >= 0)
        close(fd);
out:
    buf_release(&tmp);
    return rc;
}

int watch_recover(const char *jobs, void (*found)(void *ctx, const char *stage, const char *msg),
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
    int taken = 0;
    struct buf stage = BUF_INIT;
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
        } else if (pid != (long)getpid() && !process_is_alive(pid)) {
            int r = take_over(jobs, path, name, &stage);
            if (r == 0) {
                found(ctx, stage.data, NULL);
                taken++;
            } else if (r < 0) {
                char *msg = xasprintf("cannot take over the claim '%s': %s", path, strerror(errno));
                found(ctx, NULL, msg);
                free(msg);
            }
        }
        free(path);
        free(names[i]);
    }
    free(names);
    buf_release(&stage);
    return taken;
}
