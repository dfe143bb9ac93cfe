/* quotafs: where the quota directory is, and whether file locks work there (see quota.h):
 * the probe quota_open makes, and the mount options that keep locks on one machine. */
#include "quotafs.h"
#include "buf.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *quota_dir_default(struct gf_err *err)
{
    const char *env = getenv("GEMFLOW_QUOTA_DIR");
    if (env && *env)
        return xstrdup(env);
    const char *state = getenv("XDG_STATE_HOME");
    if (state && state[0] == '/') /* the XDG spec: a relative value is invalid, ignored */
        return xasprintf("%s/gemflow/quota", state);
    const char *home = getenv("HOME");
    if (home && *home)
        return xasprintf("%s/.local/state/gemflow/quota", home);
    gf_error(err, GF_ERR_CONFIG,
             "no quota directory: $HOME is not set; give one with --quota-dir or "
             "$GEMFLOW_QUOTA_DIR");
    return NULL;
}

int64_t quota_minute_ms(void)
{
    const char *env = getenv("GEMFLOW_MINUTE_MS");
    if (env && *env) {
        char *end = NULL;
        long long v = strtoll(env, &end, 10);
        if (*end == '\0' && v >= 100 && v <= 3600000)
            return v;
    }
    return 60000;
}

static int ofd_lock(int fd, short type)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    return fcntl(fd, F_OFD_SETLK, &fl);
}

int quotafs_probe(const char *dir, struct gf_err *err)
{
    /* A file of this probe's own: processes starting together each probe theirs, and one
     * holding its lock is never taken for locks that do not work by another. */
    char *path = xasprintf("%s/.lockprobe.XXXXXX", dir);
    int a = mkostemp(path, O_CLOEXEC);
    int b = a < 0 ? -1 : open(path, O_RDWR | O_CLOEXEC);
    int rc = -1;
    if (a < 0 || b < 0) {
        gf_error_errno(err, GF_ERR_CONFIG, "cannot open '%s' to check file locking", path);
        goto out;
    }
    if (ofd_lock(a, F_WRLCK) < 0) {
        gf_error_errno(err, GF_ERR_CONFIG,
                       "file locks do not work in quota directory '%s' (fcntl F_OFD_SETLK); "
                       "gemflow processes could not share the API quota there: choose another "
                       "with --quota-dir or $GEMFLOW_QUOTA_DIR",
                       dir);
        goto out;
    }
    /* A second open file description must be refused while the first holds the lock. */
    if (ofd_lock(b, F_WRLCK) == 0) {
        gf_error(err, GF_ERR_CONFIG,
                 "file locks are a silent no-op in quota directory '%s': a second lock on "
                 "a probe file was granted while the first was held, so gemflow processes "
                 "could not share the API quota there; choose another with --quota-dir or "
                 "$GEMFLOW_QUOTA_DIR",
                 dir);
        goto out;
    }
    if (errno != EAGAIN && errno != EACCES) {
        gf_error_errno(err, GF_ERR_CONFIG,
                       "file locks do not work in quota directory '%s' (a conflicting lock "
                       "failed otherwise than by waiting)",
                       dir);
        goto out;
    }
    /* and it must be granted once the first is gone */
    ofd_lock(a, F_UNLCK);
    if (ofd_lock(b, F_WRLCK) < 0) {
        gf_error_errno(err, GF_ERR_CONFIG,
                       "file locks do not work in quota directory '%s' (a released lock "
                       "could not be taken again)",
                       dir);
        goto out;
    }
    ofd_lock(b, F_UNLCK);
    rc = 0;
out:
    if (a >= 0) {
        close(a);
        unlink(path);
    }
    if (b >= 0)
        close(b);
    free(path);
    return rc;
}

/* Whether a comma-separated option list holds `opt` exactly. */
static bool has_option(const char *list, const char *opt)
{
    size_t n = strlen(opt);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, opt, n) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

/* /proc/self/mountinfo: "36 35 98:0 / /mnt rw,noatime master:1 - nfs4 srv:/x rw,local_lock=all"
 * The mount whose mount point is the longest prefix of `real` wins. */
char *quotafs_local_lock_warning(const char *dir)
{
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return NULL;
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return NULL;
    char line[4096], best_type[64] = "", best_opts[2048] = "", best_mnt[1024] = "";
    size_t best_len = 0;
    while (fgets(line, sizeof line, f)) {
        char mnt[1024], mopts[512], type[64], src[512], sopts[1024];
        const char *dash = strstr(line, " - ");
        if (!dash || sscanf(line, "%*s %*s %*s %*s %1023s %511s", mnt, mopts) != 2 ||
            sscanf(dash + 3, "%63s %511s %1023s", type, src, sopts) != 3)
            continue;
        size_t len = strlen(mnt);
        bool under = strcmp(mnt, "/") == 0 ||
                     (strncmp(real, mnt, len) == 0 && (real[len] == '/' || real[len] == '\0'));
        if (!under || (len < best_len && best_len))
            continue;
        best_len = len;
        snprintf(best_type, sizeof best_type, "%s", type);
        snprintf(best_opts, sizeof best_opts, "%s,%s", mopts, sopts);
        snprintf(best_mnt, sizeof best_mnt, "%s", mnt);
    }
    fclose(f);
    const char *why = NULL;
    if (str_starts_with(best_type, "nfs") &&
        (has_option(best_opts, "local_lock=all") || has_option(best_opts, "local_lock=posix") ||
         has_option(best_opts, "nolock")))
        why = "NFS mounted with local locks (local_lock=all/posix or nolock)";
    else if (strcmp(best_type, "lustre") == 0 && has_option(best_opts, "localflock"))
        why = "Lustre mounted with localflock";
    else if (strcmp(best_type, "cifs") == 0 && has_option(best_opts, "nobrl"))
        why = "CIFS mounted with nobrl";
    else if (strcmp(best_type, "fuse.sshfs") == 0)
        why = "sshfs (FUSE without lock forwarding)";
    if (!why)
        return NULL;
    return xasprintf("quota directory '%s' is on %s at '%s': its locks hold on this machine "
                     "only, so gemflow processes on other machines sharing it would not share "
                     "the API quota",
                     dir, why, best_mnt);
}
