/* joblock: flock-based job lock with the holder's pid inside. */
#include "joblock.h"
#include "fsutil.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* The owner written in the lock file: "HOST PID" (or an older "PID"); 0 when none. */
static long read_owner(int fd, char *host, size_t n)
{
    char buf[320] = "";
    ssize_t len = pread(fd, buf, sizeof buf - 1, 0);
    buf[len > 0 ? len : 0] = '\0';
    host[0] = '\0';
    char first[300] = "";
    long pid = 0;
    if (sscanf(buf, "%299s %ld", first, &pid) == 2) {
        snprintf(host, n, "%s", first);
        return pid;
    }
    return strtol(buf, NULL, 10);
}

int joblock_acquire(const char *job_dir, struct gf_err *err)
{
    if (fs_mkdirs(job_dir, ".gemflow", err) < 0)
        return -1;
    /* never through a symbolic link planted in the job: O_CREAT would follow it */
    int fd = fs_open_beneath(job_dir, ".gemflow/lock", O_RDWR | O_CREAT, 0644, err);
    if (fd < 0)
        return -1;
    char *path = fs_join(job_dir, ".gemflow/lock");
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        char host[256];
        long pid = read_owner(fd, host, sizeof host);
        close(fd);
        if (e == EWOULDBLOCK) {
            if (pid > 0 && host[0])
                gf_error(err, GF_ERR_LOCKED,
                         "job '%s' is locked by another gemflow process (pid %ld on %s)", job_dir,
                         pid, host);
            else if (pid > 0)
                gf_error(err, GF_ERR_LOCKED,
                         "job '%s' is locked by another gemflow process (pid %ld)", job_dir, pid);
            else
                gf_error(err, GF_ERR_LOCKED, "job '%s' is locked by another gemflow process",
                         job_dir);
        } else {
            errno = e;
            gf_error_errno(err, GF_ERR_IO, "cannot lock '%s'", path);
        }
        free(path);
        return -1;
    }
    char host[256] = "", owner[300];
    if (gethostname(host, sizeof host - 1) < 0 || strpbrk(host, " \n"))
        snprintf(host, sizeof host, "unknown");
    int len = snprintf(owner, sizeof owner, "%s %ld\n", host, (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, owner, (size_t)len, 0) != len) {
        gf_error_errno(err, GF_ERR_IO, "cannot write lock file '%s'", path);
        close(fd);
        free(path);
        return -1;
    }
    free(path);
    return fd;
}

void joblock_release(int fd)
{
    if (fd < 0)
        return;
    if (ftruncate(fd, 0) < 0) {
        /* the pid left behind is harmless: flock, not the pid, decides */
    }
    flock(fd, LOCK_UN);
    close(fd);
}

/* A lock another host holds on a shared filesystem: the conflicting lock, by F_OFD_GETLK on a
 * read-only descriptor (nothing is taken). */
static bool locked_elsewhere(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    bool held = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    close(fd);
    return held;
}

long joblock_holder(const char *job_dir, char *host, size_t n)
{
    char *path = fs_join(job_dir, ".gemflow/lock");
    char owner_host[256] = "", me[256] = "";
    long owner_pid = 0;
    struct stat st;
    int rc = stat(path, &st);
    if (rc == 0) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
            owner_pid = read_owner(fd, owner_host, sizeof owner_host);
            close(fd);
        }
    }
    gethostname(me, sizeof me - 1);
    if (host && n)
        host[0] = '\0';
    if (rc == 0 && owner_host[0] && strcmp(owner_host, me) != 0) {
        long pid = locked_elsewhere(path) ? (owner_pid > 0 ? owner_pid : -1) : 0;
        if (pid && host && n)
            snprintf(host, n, "%s", owner_host);
        free(path);
        return pid;
    }
    free(path);
    if (rc < 0)
        return 0;
    FILE *f = fopen("/proc/locks", "re");
    if (!f)
        return 0;
    char line[256];
    long holder = 0;
    while (fgets(line, sizeof line, f)) {
        /* "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF" (blocked waiters have "->") */
        char type[16], kind[16], mode[16];
        long pid;
        unsigned maj, min;
        unsigned long ino;
        if (strstr(line, "->"))
            continue;
        if (sscanf(line, "%*d: %15s %15s %15s %ld %x:%x:%lu", type, kind, mode, &pid, &maj, &min,
                   &ino) != 7)
            continue;
        if (strcmp(type, "FLOCK") == 0 && ino == (unsigned long)st.st_ino &&
            maj == major(st.st_dev) && min == minor(st.st_dev)) {
            holder = pid;
            break;
        }
    }
    fclose(f);
    if (holder && host && n)
        snprintf(host, n, "%s", me);
    return holder;
}
