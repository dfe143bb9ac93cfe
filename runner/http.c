/* http: libcurl multi-handle client (see http.h). */
#include "http.h"
#include "util.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HTTP_MAX_BODY (256u * 1024 * 1024) /* a reply larger than this is refused */

struct transfer {
    CURL *easy;
    struct curl_slist *headers;
    http_done_fn done;
    void (*released)(void *ctx);
    void *ctx;
    CURLcode code; /* its result, once finished */
    struct buf body;
    char *content_type, *retry_after;
    char errbuf[CURL_ERROR_SIZE];
    bool too_big;
    size_t body_len; /* of the request, to tell a body sent whole from one cut off */
    struct transfer *next, *prev;
};

struct http_client {
    CURLM *multi;
    struct transfer *list;
    size_t active;
    http_refill_fn refill;
    void *refill_ctx;
};

void http_set_refill(struct http_client *c, http_refill_fn refill, void *ctx)
{
    c->refill = refill;
    c->refill_ctx = ctx;
}

static int curl_ready;

struct http_client *http_client_new(struct gf_err *err)
{
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            gf_error(err, GF_ERR_IO, "cannot initialise libcurl");
            return NULL;
        }
        curl_ready = 1;
    }
    struct http_client *c = xcalloc(1, sizeof *c);
    c->multi = curl_multi_init();
    if (!c->multi) {
        free(c);
        gf_error(err, GF_ERR_IO, "cannot create a libcurl multi handle");
        return NULL;
    }
    return c;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct transfer *t = ud;
    size_t len = size * n;
    if (t->body.len + len > HTTP_MAX_BODY) {
        t->too_big = true;
        return 0; /* makes libcurl fail the transfer */
    }
    buf_add(&t->body, data, len);
    return len;
}

/* Keep the value of one header, trimmed. */
static void keep_header(char **slot, const char *v, size_t len)
{
    while (len && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
        len--;
    free(*slot);
    *slot = xstrndup(v, len);
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    struct transfer *t = ud;
    size_t len = size * n;
    static const char ct[] = "content-type:", ra[] = "retry-after:";
    if (len > sizeof ct - 1 && strncasecmp(data, ct, sizeof ct - 1) == 0)
        keep_header(&t->content_type, data + sizeof ct - 1, len - (sizeof ct - 1));
    else if (len > sizeof ra - 1 && strncasecmp(data, ra, sizeof ra - 1) == 0)
        keep_header(&t->retry_after, data + sizeof ra - 1, len - (sizeof ra - 1));
    return len;
}

int http_submit(struct http_client *c, const struct http_request *req, http_done_fn done, void *ctx,
                struct gf_err *err)
{
    return http_submit_released(c, req, done, NULL, ctx, err);
}

/* Free a request's headers, the API key's copy wiped first (libcurl's own copies are its). */
static void free_headers(struct curl_slist *h)
{
    for (struct curl_slist *p = h; p; p = p->next)
        if (p->data && strncasecmp(p->data, "x-goog-api-key:", 15) == 0)
            explicit_bzero(p->data, strlen(p->data));
    curl_slist_free_all(h);
}

int http_submit_released(struct http_client *c, const struct http_request *req, http_done_fn done,
                         void (*released)(void *ctx), void *ctx, struct gf_err *err)
{
    struct transfer *t = xcalloc(1, sizeof *t);
    t->done = done;
    t->released = released;
    t->ctx = ctx;
    t->body = (struct buf)BUF_INIT;
    t->easy = curl_easy_init();
    if (!t->easy) {
        free(t);
        return gf_error(err, GF_ERR_IO, "cannot create a libcurl handle");
    }
    if (req->body) {
        t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
        t->headers = curl_slist_append(t->headers, "Expect:");
    }
    t->headers = curl_slist_append(t->headers, "User-Agent: gemflow/" GEMFLOW_VERSION);
    if (req->api_key) {
        struct buf h = BUF_INIT;
        buf_addf(&h, "x-goog-api-key: %s", req->api_key);
        t->headers = curl_slist_append(t->headers, h.data);
        /* wipe our copy; libcurl keeps its own until the transfer ends */
        memset(h.data, 0, h.len);
        buf_release(&h);
    }
    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    if (req->body) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        t->body_len = req->body_len;
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(req->timeout_ms < 30000 ? req->timeout_ms : 30000));
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (req->once)
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
        free_headers(t->headers);
        curl_easy_cleanup(e);
        free(t);
        return gf_error(err, GF_ERR_IO, "cannot start a transfer");
    }
    t->next = c->list;
    if (c->list)
        c->list->prev = t;
    c->list = t;
    c->active++;
    return 0;
}

/* Take a transfer out of the multi handle and the list. */
static void detach(struct http_client *c, struct transfer *t)
{
    curl_multi_remove_handle(c->multi, t->easy);
    if (t->prev)
        t->prev->next = t->next;
    else
        c->list = t->next;
    if (t->next)
        t->next->prev = t->prev;
    c->active--;
}

/* Run a detached transfer's completion callback and free it. */
static void complete(struct transfer *t, CURLcode code, const char *why)
{
    struct http_result res;
    memset(&res, 0, sizeof res);
    res.body = t->body;
    res.content_type = t->content_type;
    res.retry_after = t->retry_after;
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_off_t us = 0;
    curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &us);
    res.ms = (int64_t)(us / 1000);
    res.status = status;
    curl_off_t up = 0, req = 0;
    curl_easy_getinfo(t->easy, CURLINFO_SIZE_UPLOAD_T, &up);
    curl_easy_getinfo(t->easy, CURLINFO_REQUEST_SIZE, &req);
    res.body_sent = req > 0 && up >= (curl_off_t)t->body_len;
    if (why) {
        res.transport_error = true;
        snprintf(res.error, sizeof res.error, "%s", why);
    } else if (code != CURLE_OK) {
        res.transport_error = true;
        res.timed_out = code == CURLE_OPERATION_TIMEDOUT;
        if (t->too_big)
            snprintf(res.error, sizeof res.error, "reply larger than %u MB refused",
                     HTTP_MAX_BODY >> 20);
        else
            snprintf(res.error, sizeof res.error, "%s",
                     t->errbuf[0] ? t->errbuf : curl_easy_strerror(code));
    }
    t->done(t->ctx, &res);
    buf_release(&res.body);
    free_headers(t->headers);
    curl_easy_cleanup(t->easy);
    free(t->content_type);
    free(t->retry_after);
    free(t);
}

static void finish(struct http_client *c, struct transfer *t, CURLcode code, const char *why)
{
    detach(c, t);
    complete(t, code, why);
}

/* Whether the server asked for less: a 429 or a 5xx. */
static bool pushback(struct transfer *t)
{
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    return status == 429 || status >= 500;
}

/* Complete finished transfers; returns how many. They are all taken out first and their slots
 * released, the refill hook starts what can start and that is sent, and only then do their
 * completion callbacks decode and write their replies. */
static int drain(struct http_client *c)
{
    CURLMsg *m;
    int left, running;
    struct transfer *done = NULL, **tail = &done;
    int n = 0;
    bool any_released = false, any_pushback = false;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct transfer *t = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        t->code = m->data.result;
        detach(c, t); /* m is invalid from here on */
        t->next = NULL;
        *tail = t;
        tail = &t->next;
        n++;
    }
    for (struct transfer *t = done; t; t = t->next) {
        any_pushback |= pushback(t);
        if (t->released) {
            t->released(t->ctx);
            any_released = true;
        }
    }
    if (any_released && !any_pushback && c->refill) {
        c->refill(c->refill_ctx);
        curl_multi_perform(c->multi, &running); /* send what it started */
    }
    while (done) {
        struct transfer *t = done;
        done = t->next;
        complete(t, t->code, NULL);
    }
    return n;
}

int http_wait(struct http_client *c, int timeout_ms, const int *extra_fds, short *revents,
              unsigned n_extra, struct gf_err *err)
{
    struct curl_waitfd stack[16];
    struct curl_waitfd *w = n_extra <= ARRAY_SIZE(stack) ? stack : xcalloc(n_extra, sizeof *w);
    for (unsigned i = 0; i < n_extra; i++) {
        w[i].fd = extra_fds[i];
        w[i].events = CURL_WAIT_POLLIN;
        w[i].revents = 0;
        revents[i] = 0;
    }
    int running, rc = 0;
    if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
        rc = gf_error(err, GF_ERR_IO, "libcurl multi perform failed");
        goto out;
    }
    if (drain(c) > 0)
        goto out; /* something finished: let the caller act on it before waiting */
    if (timeout_ms < 0)
        timeout_ms = 0;
    if (curl_multi_poll(c->multi, w, n_extra, timeout_ms, NULL) != CURLM_OK) {
        rc = gf_error(err, GF_ERR_IO, "libcurl multi poll failed");
        goto out;
    }
    for (unsigned i = 0; i < n_extra; i++)
        revents[i] = (short)w[i].revents;
    if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
        rc = gf_error(err, GF_ERR_IO, "libcurl multi perform failed");
        goto out;
    }
    drain(c);
out:
    if (w != stack)
        free(w);
    return rc;
}

size_t http_active(const struct http_client *c)
{
    return c->active;
}

void http_abort_all(struct http_client *c)
{
    while (c->list)
        finish(c, c->list, CURLE_ABORTED_BY_CALLBACK, "abandoned");
}

void http_client_free(struct http_client *c)
{
    if (!c)
        return;
    http_abort_all(c);
    curl_multi_cleanup(c->multi);
    free(c);
}
