/* refs: job files as inline media parts (see refs.h). */
#include "refs.h"
#include "base64.h"
#include "fsutil.h"
#include "sha256.h"
#include "util.h"
#include "../stages/imgcodec.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Read `rel` from beneath the job directory (no link followed), at most `max` bytes. */
static int read_beneath(const char *dir, const char *rel, size_t max, struct buf *b,
                        struct gf_err *err)
{
    int fd = fs_open_beneath(dir, rel, O_RDONLY | O_NONBLOCK, 0, err);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return gf_error(err, GF_ERR_INPUT, "it is not a regular file");
    }
    int rc = buf_read_fd_max(b, fd, max);
    int saved = errno;
    close(fd);
    if (rc < 0 && saved == EFBIG)
        return gf_error(err, GF_ERR_INPUT,
                        "it is larger than %zu bytes (the API's limit for a request's inline "
                        "data)",
                        max);
    errno = saved;
    if (rc < 0)
        return gf_error_errno(err, GF_ERR_INPUT, "cannot read it");
    return 0;
}

/* One file into the list; -1 with *why. `total` counts the base64 bytes so far. */
static int add_file(struct render_ctx *rc, const char *rel, struct item_refs *out, size_t *cap,
                    size_t *total, char **why)
{
    if (!fs_rel_is_safe(rel)) {
        *why = xasprintf("reference '%s' is not a file inside the job directory", rel);
        return -1;
    }
    if (out->n >= REFS_MAX_FILES) {
        *why = xasprintf("too many references: '%s' would be file %zu of one request (at most "
                         "%d)",
                         rel, out->n + 1, REFS_MAX_FILES);
        return -1;
    }
    struct buf data = BUF_INIT;
    struct gf_err err = GF_ERR_INIT;
    if (read_beneath(rc->job->dir, rel, REFS_REQUEST_MAX, &data, &err) < 0) {
        *why = xasprintf("reference '%s': %s", rel, err.msg);
        buf_release(&data);
        return -1;
    }
    enum img_format f = img_sniff(data.data, data.len);
    size_t b64 = (data.len + 2) / 3 * 4;
    if (f == IMG_UNKNOWN) {
        *why = xasprintf("reference '%s' is not a PNG, JPEG or WebP image (by its bytes)", rel);
    } else if (*total + b64 > REFS_REQUEST_MAX) {
        *why = xasprintf("reference '%s' (%zu bytes) takes the request's inline data past %u "
                         "bytes (the API's limit for a request; send smaller images)",
                         rel, data.len, REFS_REQUEST_MAX);
    }
    if (*why) {
        buf_release(&data);
        return -1;
    }
    *total += b64;
    char hex[SHA256_HEX_LEN + 1];
    sha256_hex(data.data, data.len, hex);
    struct stage_media *m = VEC_PUSH(out->media, out->n, *cap);
    m->path = xstrdup(rel);
    m->mime = img_format_mime(f);
    m->data = xasprintf(REFS_PREFIX "%s:%s", hex, rel);
    m->bytes = data.len;
    buf_release(&data);
    return 0;
}

int refs_render(const struct stage_def *def, struct render_ctx *rc, struct item_refs *out,
                char **why)
{
    size_t cap = 0, total = 0;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < def->n_refs; i++) {
        const struct wf_ref *ref = &def->refs[i];
        struct gf_err err = GF_ERR_INIT;
        char *rel = NULL, *list = NULL;
        if (!ref->each) {
            if (expand_render(ref->path, rc, TMPL_PATH, &rel, &err) < 0) {
                *why = xasprintf("reference: %s", err.msg);
                return -1;
            }
            int r = add_file(rc, rel, out, &cap, &total, why);
            free(rel);
            if (r < 0)
                return -1;
            continue;
        }
        if (expand_render(ref->each, rc, 0, &list, &err) < 0) {
            *why = xasprintf("reference: %s", err.msg);
            return -1;
        }
        cJSON *arr = cJSON_Parse(list);
        if (!cJSON_IsArray(arr)) {
            *why = xasprintf("reference 'each: %s' is not a list (it is %.60s)",
                             tmpl_source(ref->each), list);
            free(list);
            cJSON_Delete(arr);
            return -1;
        }
        free(list);
        const cJSON *el;
        int rc_el = 0;
        cJSON_ArrayForEach(el, arr)
        {
            rc->each = el;
            rc_el = expand_render(ref->path, rc, TMPL_PATH, &rel, &err);
            rc->each = NULL;
            if (rc_el < 0) {
                *why = xasprintf("reference: %s", err.msg);
                break;
            }
            rc_el = add_file(rc, rel, out, &cap, &total, why);
            free(rel);
            if (rc_el < 0)
                break;
        }
        cJSON_Delete(arr);
        if (rc_el < 0)
            return -1;
    }
    return 0;
}

void refs_release(struct item_refs *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free((char *)r->media[i].path);
        free((char *)r->media[i].data);
    }
    free(r->media);
    memset(r, 0, sizeof *r);
}

bool refs_in(const char *body)
{
    return body && strstr(body, REFS_PREFIX) != NULL;
}

size_t refs_count(const char *body)
{
    size_t n = 0;
    for (const char *p = body; p && (p = strstr(p, REFS_PREFIX)); p += strlen(REFS_PREFIX))
        n++;
    return n;
}

bool refs_parse(const char *s, const char **sha256, size_t *sha_len, const char **path)
{
    if (strncmp(s, REFS_PREFIX, strlen(REFS_PREFIX)) != 0)
        return false;
    s += strlen(REFS_PREFIX);
    const char *colon = strchr(s, ':');
    if (!colon || colon - s != SHA256_HEX_LEN)
        return false;
    *sha256 = s;
    *sha_len = (size_t)(colon - s);
    *path = colon + 1;
    return true;
}

/* Replace the placeholders under `j`. */
static int inline_walk(const char *dir, cJSON *j, struct gf_err *err)
{
    for (cJSON *c = j ? j->child : NULL; c; c = c->next) {
        const char *sha, *path;
        size_t sha_len;
        if (cJSON_IsString(c) && refs_parse(c->valuestring, &sha, &sha_len, &path)) {
            struct buf data = BUF_INIT, b64 = BUF_INIT;
            if (read_beneath(dir, path, REFS_REQUEST_MAX, &data, err) < 0) {
                buf_release(&data);
                return -1;
            }
            char hex[SHA256_HEX_LEN + 1];
            sha256_hex(data.data, data.len, hex);
            if (strncmp(hex, sha, sha_len) != 0) {
                buf_release(&data);
                return gf_error(err, GF_ERR_INPUT,
                                "reference '%s' changed since the request was made (sha256 "
                                "%.12s, now %.12s); run again to make it anew",
                                path, sha, hex);
            }
            base64_encode(data.data, data.len, &b64);
            buf_release(&data);
            cJSON_SetValuestring(c, b64.data);
            buf_release(&b64);
        } else if (inline_walk(dir, c, err) < 0) {
            return -1;
        }
    }
    return 0;
}

int refs_inline(const char *job_dir, const char *body, size_t len, char **out, size_t *out_len,
                struct gf_err *err)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    if (!j)
        return gf_error(err, GF_ERR_INPUT, "the request body is not JSON");
    int rc = inline_walk(job_dir, j, err);
    if (rc == 0) {
        *out = cJSON_PrintUnformatted(j);
        *out_len = strlen(*out);
    }
    cJSON_Delete(j);
    return rc;
}
