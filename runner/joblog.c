/* joblog: appending to and replaying progress.jsonl (see joblog.h for the durability rules). */
#include "joblog.h"
#include "buf.h"
#include "fsutil.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Cut a torn tail: everything after the last newline. */
static int cut_torn_tail(int fd, const char *path, bool *torn, struct gf_err *err)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return gf_error_errno(err, GF_ERR_IO, "cannot stat '%s'", path);
    off_t end = st.st_size;
    if (end == 0)
        return 0;
    char c;
    if (pread(fd, &c, 1, end - 1) != 1)
        return gf_error_errno(err, GF_ERR_IO, "cannot read '%s'", path);
    if (c == '\n')
        return 0;
    /* Scan back in blocks for the last newline. */
    char block[4096];
    off_t pos = end;
    off_t keep = 0;
    while (pos > 0) {
        size_t n = pos >= (off_t)sizeof block ? sizeof block : (size_t)pos;
        pos -= (off_t)n;
        if (pread(fd, block, n, pos) != (ssize_t)n)
            return gf_error_errno(err, GF_ERR_IO, "cannot read '%s'", path);
        char *nl = memrchr(block, '\n', n);
        if (nl) {
            keep = pos + (nl - block) + 1;
            break;
        }
    }
    if (ftruncate(fd, keep) < 0)
        return gf_error_errno(err, GF_ERR_IO, "cannot repair torn last line of '%s'", path);
    if (torn)
        *torn = true;
    return 0;
}

int joblog_open(struct joblog *log, const char *job_dir, bool *torn, struct gf_err *err)
{
    memset(log, 0, sizeof *log);
    if (torn)
        *torn = false;
    log->path = fs_join(job_dir, "progress.jsonl");
    log->fd = fs_open_beneath(job_dir, "progress.jsonl", O_RDWR | O_CREAT | O_APPEND, 0644, err);
    if (log->fd < 0) {
        free(log->path);
        log->path = NULL;
        return -1;
    }
    if (cut_torn_tail(log->fd, log->path, torn, err) < 0) {
        joblog_close(log);
        return -1;
    }
    return 0;
}

int joblog_append(struct joblog *log, const char *event, cJSON *fields, bool durable,
                  struct gf_err *err)
{
    char ts[40];
    now_rfc3339(ts, sizeof ts);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "ts", ts);
    cJSON_AddStringToObject(ev, "event", event);
    if (fields) {
        cJSON *child = fields->child;
        fields->child = NULL;
        while (child) {
            cJSON *next = child->next;
            child->prev = child->next = NULL;
            cJSON_AddItemToObject(ev, child->string, child); /* copies the key, frees the old */
            child = next;
        }
        cJSON_Delete(fields);
    }
    char *line = cJSON_PrintUnformatted(ev);
    size_t len = strlen(line);
    line = xrealloc(line, len + 2);
    line[len++] = '\n';
    line[len] = '\0';
    int rc = 0;
    const char *p = line;
    size_t left = len;
    while (left) {
        ssize_t n = write(log->fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = gf_error_errno(err, GF_ERR_IO, "cannot append to '%s'", log->path);
            break;
        }
        p += n;
        left -= (size_t)n;
    }
    if (rc == 0 && durable && fdatasync(log->fd) < 0)
        rc = gf_error_errno(err, GF_ERR_IO, "cannot fsync '%s'", log->path);
    if (rc < 0 && left && left < len) {
        /* A partial line would corrupt the log for the next event: cut it off again. */
        cut_torn_tail(log->fd, log->path, NULL, NULL);
    }
    if (rc == 0 && log->observer)
        log->observer(log->observer_ctx, event, ev);
    free(line);
    cJSON_Delete(ev);
    return rc;
}

void joblog_close(struct joblog *log)
{
    if (log->fd >= 0 && log->path)
        close(log->fd);
    free(log->path);
    log->path = NULL;
    log->fd = -1;
}

/* The event name of a line as joblog_append writes it ({"ts":"...","event":"NAME",...}), found
 * without parsing the line; NULL when the line has another shape (it is then parsed in full). */
static const char *peek_event(const char *p, const char *end, size_t *len)
{
    static const char head[] = "{\"ts\":\"", mid[] = "\",\"event\":\"";
    if ((size_t)(end - p) < sizeof head - 1 || memcmp(p, head, sizeof head - 1) != 0)
        return NULL;
    p += sizeof head - 1;
    const char *q = memchr(p, '"', (size_t)(end - p));
    if (!q || memchr(p, '\\', (size_t)(q - p)))
        return NULL;
    p = q;
    if ((size_t)(end - p) < sizeof mid - 1 || memcmp(p, mid, sizeof mid - 1) != 0)
        return NULL;
    p += sizeof mid - 1;
    q = memchr(p, '"', (size_t)(end - p));
    if (!q || memchr(p, '\\', (size_t)(q - p)))
        return NULL;
    *len = (size_t)(q - p);
    return p;
}

static bool wanted(const char *const *events, const char *name, size_t len)
{
    for (; *events; events++)
        if (strlen(*events) == len && memcmp(*events, name, len) == 0)
            return true;
    return false;
}

static void replay_mem(const char *data, size_t len, const char *const *events, joblog_fn fn,
                       void *ctx, struct joblog_stats *stats)
{
    struct joblog_stats st = {0};
    size_t lineno = 0;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        lineno++;
        if (!nl) {
            st.torn = true; /* no final newline: a write cut short by a crash */
            break;
        }
        st.lines++;
        size_t name_len;
        const char *name_at = events ? peek_event(p, nl, &name_len) : NULL;
        if (name_at && !wanted(events, name_at, name_len)) {
            p = nl + 1;
            continue;
        }
        cJSON *ev = cJSON_ParseWithLength(p, (size_t)(nl - p));
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(ev, "event");
        if (!cJSON_IsObject(ev) || !cJSON_IsString(name)) {
            st.bad_lines++;
        } else if (events && !wanted(events, name->valuestring, strlen(name->valuestring))) {
            /* listed events only */
        } else if (fn && fn(ctx, ev, lineno)) {
            cJSON_Delete(ev);
            break;
        }
        cJSON_Delete(ev);
        p = nl + 1;
    }
    if (stats)
        *stats = st;
}

int joblog_replay_mem(const char *data, size_t len, joblog_fn fn, void *ctx,
                      struct joblog_stats *stats)
{
    replay_mem(data, len, NULL, fn, ctx, stats);
    return 0;
}

int joblog_replay_events(const char *path, const char *const *events, joblog_fn fn, void *ctx,
                         struct joblog_stats *stats, struct gf_err *err)
{
    struct buf b = BUF_INIT;
    if (buf_read_file(&b, path) < 0) {
        if (errno == ENOENT) {
            if (stats)
                memset(stats, 0, sizeof *stats);
            return 0;
        }
        return gf_error_errno(err, GF_ERR_IO, "cannot read '%s'", path);
    }
    replay_mem(b.data, b.len, events, fn, ctx, stats);
    buf_release(&b);
    return 0;
}

int joblog_replay(const char *path, joblog_fn fn, void *ctx, struct joblog_stats *stats,
                  struct gf_err *err)
{
    return joblog_replay_events(path, NULL, fn, ctx, stats, err);
}
