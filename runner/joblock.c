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
        char pidbuf[32] = "";
        ssize_t n = pread(fd, pidbuf, sizeof pidbuf - 1, 0);
        pidbuf[n > 0 ? n : 0] = '\0';
        long pid = strtol(pidbuf, NULL, 10);
        close(fd);
        if (e == EWOULDBLOCK) {
            if (pid > 0)
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
    char pidbuf[32];
    int len = snprintf(pidbuf, sizeof pidbuf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pidbuf, (size_t)len, 0) != len) {
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

long joblock_holder(const char *job_dir)
{
    char *path = fs_join(job_dir, ".gemflow/lock");
    struct stat st;
    int rc = stat(path, &st);
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
    return holder;
}
