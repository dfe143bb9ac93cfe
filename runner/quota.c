/* quota: the shared request budget per key fingerprint and model (see quota.h). */
#include "quota.h"
#include "fsutil.h"
#include "buf.h"
#include "gemini.h"
#include "quotafs.h"
#include "sha256.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A lock is held for one pread and one pwrite: microseconds. A holder that keeps it longer (a
 * stopped process) is waited for this long at most, then the caller comes back later. */
#define LOCK_TRIES    40
#define LOCK_SLEEP_US 250
#define BUSY_RETRY_MS 20

struct quota_bucket {
    char *path;
    char *model;
    int fd;
};

struct quota {
    char *dir;
    char *warning;
    struct quota_bucket **buckets;
    char **names; /* "FP/MODEL" of each bucket */
    size_t n, cap;
};

void quota_fingerprint(const char *api_key, const char *origin, char out[QUOTA_FP_LEN + 1])
{
    static const char prefix[] = "gemflow quota v1";
    struct sha256_ctx *c = sha256_new();
    sha256_update(c, prefix, sizeof prefix); /* with its NUL: the separator */
    sha256_update(c, api_key, strlen(api_key) + 1);
    sha256_update(c, origin, strlen(origin));
    char hex[SHA256_HEX_LEN + 1];
    sha256_final_hex(c, hex);
    memcpy(out, hex, QUOTA_FP_LEN);
    out[QUOTA_FP_LEN] = '\0';
}

static int mkdir_p(const char *path, struct gf_err *err)
{
    char *p = xstrdup(path);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST) {
            gf_error_errno(err, GF_ERR_CONFIG, "cannot create quota directory '%s'", p);
            free(p);
            return -1;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    if (!fs_is_dir(path))
        return gf_error(err, GF_ERR_CONFIG, "quota directory '%s' is not a directory", path);
    return 0;
}

struct quota *quota_open(const char *dir, struct gf_err *err)
{
    if (!dir || !*dir) {
        gf_error(err, GF_ERR_CONFIG, "the quota directory is an empty string");
        return NULL;
    }
    if (mkdir_p(dir, err) < 0 || quotafs_probe(dir, err) < 0)
        return NULL;
    struct quota *q = xcalloc(1, sizeof *q);
    q->dir = xstrdup(dir);
    q->warning = quotafs_local_lock_warning(dir);
    return q;
}

const char *quota_dir(const struct quota *q)
{
    return q->dir;
}

const char *quota_warning(const struct quota *q)
{
    return q->warning;
}

void quota_close(struct quota *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->n; i++) {
        close(q->buckets[i]->fd);
        free(q->buckets[i]->path);
        free(q->buckets[i]->model);
        free(q->buckets[i]);
        free(q->names[i]);
    }
    free(q->buckets);
    free(q->names);
    free(q->warning);
    free(q->dir);
    free(q);
}

/* A model id as a file name: itself when it is plain ([A-Za-z0-9._-], not starting with a
 * dot), else "m-" and a digest (the record holds the id). */
static char *model_file(const char *model)
{
    bool plain = model[0] && model[0] != '.' && strlen(model) <= 100;
    for (const char *p = model; plain && *p; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                *p == '.' || *p == '_' || *p == '-';
    if (plain)
        return xasprintf("%s.quota", model);
    char hex[SHA256_HEX_LEN + 1];
    sha256_hex(model, strlen(model), hex);
    return xasprintf("m-%.16s.quota", hex);
}

/* FP/key.json, once: which origin the fingerprint is for (gemflow quota shows it). */
static void write_key_info(const char *fpdir, const char *fp, const char *origin)
{
    char *path = xasprintf("%s/key.json", fpdir);
    if (access(path, F_OK) != 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "fingerprint", fp);
        cJSON_AddStringToObject(o, "origin", origin);
        char *text = cJSON_Print(o);
        cJSON_Delete(o);
        struct buf b = BUF_INIT;
        buf_addf(&b, "%s\n", text);
        free(text);
        struct gf_err ignored = GF_ERR_INIT; /* only a label for `gemflow quota` */
        fs_write_atomic(fpdir, "key.json", b.data, b.len, FS_ATOMIC, NULL, &ignored);
        buf_release(&b);
    }
    free(path);
}

struct quota_bucket *quota_bucket(struct quota *q, const char *fp, const char *origin,
                                  const char *model, struct gf_err *err)
{
    char *name = xasprintf("%s/%s", fp, model);
    for (size_t i = 0; i < q->n; i++) {
        if (strcmp(q->names[i], name) == 0) {
            free(name);
            return q->buckets[i];
        }
    }
    char *fpdir = xasprintf("%s/%s", q->dir, fp);
    char *file = model_file(model);
    struct quota_bucket *b = NULL;
    if (mkdir(fpdir, 0700) < 0 && errno != EEXIST) {
        gf_error_errno(err, GF_ERR_IO, "cannot create '%s'", fpdir);
        goto out;
    }
    write_key_info(fpdir, fp, origin);
    char *path = xasprintf("%s/%s", fpdir, file);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        gf_error_errno(err, GF_ERR_IO, "cannot open quota record '%s'", path);
        free(path);
        goto out;
    }
    b = xcalloc(1, sizeof *b);
    b->path = path;
    b->model = xstrdup(model);
    b->fd = fd;
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 4;
        q->buckets = xrealloc(q->buckets, q->cap * sizeof *q->buckets);
        q->names = xrealloc(q->names, q->cap * sizeof *q->names);
    }
    q->buckets[q->n] = b;
    q->names[q->n++] = name;
    name = NULL;
out:
    free(name);
    free(fpdir);
    free(file);
    return b;
}

/* --- one locked read-modify-write ---------------------------------------------------------- */

/* 1 locked, 0 busy (held by another for too long), -1 error (errno). */
static int lock_rec(int fd, short type)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    for (int i = 0;; i++) {
        if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
            return 1;
        if (errno != EAGAIN && errno != EACCES && errno != EINTR)
            return -1;
        if (i >= LOCK_TRIES)
            return 0;
        struct timespec ts = {0, LOCK_SLEEP_US * 1000L};
        nanosleep(&ts, NULL);
    }
}

static void unlock_rec(int fd)
{
    struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    fcntl(fd, F_OFD_SETLK, &fl);
}

/* Read the record: a new (empty) file reads as a fresh record of `model`. Returns 0, or 1 when
 * the file held something else (a torn write after a power cut, another model's record) and
 * the record was started afresh, or -1 on an I/O error. */
static int read_rec(int fd, const char *path, const char *model, struct quota_rec *r,
                    struct gf_err *err)
{
    char text[QUOTAREC_SIZE];
    ssize_t n = pread(fd, text, sizeof text, 0);
    if (n < 0)
        return gf_error_errno(err, GF_ERR_IO, "cannot read quota record '%s'", path);
    if (n > 0 && quotarec_parse(text, (size_t)n, r) == 0 && strcmp(r->model, model) == 0)
        return 0;
    quotarec_init(r, model);
    return n > 0 ? 1 : 0;
}

static int write_rec(struct quota_bucket *b, struct quota_rec *r, int64_t now_ms, bool durable,
                     struct gf_err *err)
{
    char text[QUOTAREC_SIZE];
    r->updated_ms = now_ms;
    quota_rfc3339(now_ms, r->updated, sizeof r->updated);
    quotarec_format(r, text);
    if (pwrite(b->fd, text, sizeof text, 0) != (ssize_t)sizeof text)
        return gf_error_errno(err, GF_ERR_IO, "cannot write quota record '%s'", b->path);
    if (durable && fdatasync(b->fd) < 0)
        return gf_error_errno(err, GF_ERR_IO, "cannot sync quota record '%s'", b->path);
    return 0;
}

/* --- take ---------------------------------------------------------------------------------- */

static double interval_ms(double rpm, int64_t minute_ms)
{
    return rpm > 0 ? (double)minute_ms / rpm * 1.02 : 0;
}

int quota_take(struct quota_bucket *b, int64_t now_ms, double own_rpm, struct quota_verdict *v,
               struct gf_err *err)
{
    memset(v, 0, sizeof *v);
    int64_t minute = quota_minute_ms();
    int l = lock_rec(b->fd, F_WRLCK);
    if (l < 0)
        return gf_error_errno(err, GF_ERR_IO, "cannot lock quota record '%s'", b->path);
    if (l == 0) {
        v->at_ms = now_ms + BUSY_RETRY_MS;
        v->why = "busy";
        return QUOTA_LATER;
    }
    struct quota_rec r;
    int fresh = read_rec(b->fd, b->path, b->model, &r, err);
    if (fresh < 0) {
        unlock_rec(b->fd);
        return -1;
    }
    v->fresh_record = fresh == 1;
    char old_day[11];
    memcpy(old_day, r.day, sizeof old_day);
    quotarec_roll_day(&r, now_ms);
    bool dirty = strcmp(old_day, r.day) != 0;
    double learned = r.limits[QK_RPM].value;
    double rpm = own_rpm > 0 && (learned <= 0 || own_rpm < learned) ? own_rpm : learned;
    double iv = interval_ms(rpm, minute);
    double slack = iv / 2 < minute / 100.0 ? iv / 2 : minute / 100.0;
    /* a record from a clock far ahead (or ours went back) must not hold us for long */
    if (iv > 0 && r.tat_ms > now_ms + (int64_t)(iv + slack) + 1)
        r.tat_ms = now_ms, dirty = true;
    if (r.paused_until_ms > now_ms + QUOTA_PAUSE_MAX_MS)
        r.paused_until_ms = now_ms + QUOTA_PAUSE_MAX_MS, dirty = true;
    quota_pacific_day(now_ms, r.day, &v->reset_ms);
    v->day_limit = r.limits[QK_RPD].value;
    v->rpm = rpm;
    int answer;
    if (r.day_used_up || (v->day_limit > 0 && r.day_count >= (int64_t)v->day_limit)) {
        answer = QUOTA_DAY_USED;
        v->why = "day";
    } else if (now_ms < r.paused_until_ms) {
        answer = QUOTA_LATER;
        v->at_ms = r.paused_until_ms;
        v->why = "paused";
    } else if (iv > 0 && now_ms < r.tat_ms) {
        answer = QUOTA_LATER;
        v->at_ms = r.tat_ms;
        v->why = "pacing";
    } else {
        answer = QUOTA_GO;
        if (iv > 0) {
            double base = (double)r.tat_ms > now_ms - slack ? (double)r.tat_ms : now_ms - slack;
            r.tat_ms = (int64_t)(base + iv + 0.5);
        }
        quotarec_count(&r, now_ms, minute);
        dirty = true;
    }
    v->day_count = r.day_count;
    int rc = answer;
    if (dirty && write_rec(b, &r, now_ms, false, err) < 0)
        rc = -1;
    unlock_rec(b->fd);
    return rc;
}

/* --- learn --------------------------------------------------------------------------------- */

int quota_learn(struct quota_bucket *b, int64_t now_ms, const struct gemini_error *ge,
                const char *source, struct quota_learned *out, struct gf_err *err)
{
    memset(out, 0, sizeof *out);
    /* a 429 is rare and what it teaches must not be lost: wait for the lock */
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    while (fcntl(b->fd, F_OFD_SETLKW, &fl) < 0) {
        if (errno != EINTR)
            return gf_error_errno(err, GF_ERR_IO, "cannot lock quota record '%s'", b->path);
    }
    struct quota_rec r;
    if (read_rec(b->fd, b->path, b->model, &r, err) < 0) {
        unlock_rec(b->fd);
        return -1;
    }
    quotarec_roll_day(&r, now_ms);
    r.n_429++;
    char at[32];
    quota_rfc3339(now_ms, at, sizeof at);
    bool daily = ge->daily_quota;
    for (size_t i = 0; i < ge->n_violations; i++) {
        const struct gemini_violation *gv = &ge->violations[i];
        int k = quota_kind_of(gv->quota_id, gv->quota_metric);
        if (k < 0)
            continue;
        if (k == QK_RPD || k == QK_TPD)
            daily = true;
        if (gv->quota_value <= 0)
            continue; /* "limit: 0" (no quota at all) or no value: nothing to pace to */
        struct quota_limit *l = &r.limits[k];
        if (l->value != gv->quota_value) {
            out->kinds |= 1u << k; /* new to the record */
            out->value[k] = gv->quota_value;
        }
        l->value = gv->quota_value;
        snprintf(l->quota_id, sizeof l->quota_id, "%s", gv->quota_id);
        snprintf(l->metric, sizeof l->metric, "%s", gv->quota_metric ? gv->quota_metric : "");
        snprintf(l->learned_at, sizeof l->learned_at, "%s", at);
        snprintf(l->source, sizeof l->source, "%s", source ? source : "");
        l->retry_ms = ge->retry_delay_ms;
        if (k == QK_RPD && r.day_count < (int64_t)gv->quota_value)
            r.day_count = (int64_t)gv->quota_value; /* the server counted that many */
    }
    if (daily) {
        r.day_used_up = true;
        out->day_used_up = true;
    } else if (ge->retry_delay_ms > 0) {
        int64_t d =
            ge->retry_delay_ms < QUOTA_PAUSE_MAX_MS ? ge->retry_delay_ms : QUOTA_PAUSE_MAX_MS;
        if (now_ms + d > r.paused_until_ms)
            r.paused_until_ms = now_ms + d;
    }
    out->paused_until_ms = r.paused_until_ms;
    int rc = write_rec(b, &r, now_ms, true, err);
    unlock_rec(b->fd);
    return rc;
}

int quota_peek(struct quota_bucket *b, int64_t now_ms, struct quota_rec *out, struct gf_err *err)
{
    int l = lock_rec(b->fd, F_RDLCK);
    if (l < 0)
        return gf_error_errno(err, GF_ERR_IO, "cannot lock quota record '%s'", b->path);
    /* busy: read without the lock; a torn read parses as nothing and reads as fresh */
    int rc = read_rec(b->fd, b->path, b->model, out, err);
    if (l == 1)
        unlock_rec(b->fd);
    if (rc < 0)
        return -1;
    quotarec_roll_day(out, now_ms);
    return 0;
}

int quota_read_file(const char *path, struct quota_rec *out, struct gf_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return gf_error_errno(err, GF_ERR_IO, "cannot open quota record '%s'", path);
    int l = lock_rec(fd, F_RDLCK);
    char text[QUOTAREC_SIZE];
    ssize_t n = pread(fd, text, sizeof text, 0);
    int e = errno;
    if (l == 1)
        unlock_rec(fd);
    close(fd);
    if (n < 0) {
        errno = e;
        return gf_error_errno(err, GF_ERR_IO, "cannot read quota record '%s'", path);
    }
    if (n == 0 || quotarec_parse(text, (size_t)n, out) < 0)
        return gf_error(err, GF_ERR_IO, "'%s' is not a quota record (%s)", path,
                        n == 0 ? "empty" : "unreadable; the next request rewrites it");
    return 0;
}
