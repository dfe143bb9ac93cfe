/* fake_http.c: the libmicrohttpd side of the fake Gemini server: collects each request and its
 * body, applies the latency, sends the reply (whole, truncated mid-body, reset, or held until
 * the hang time ends) and logs it when MHD reports the request finished. */
#include "fake.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

bool fk_server_sleep(struct fk_server *s, int64_t ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (long)(ms % 1000) * 1000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&s->lock);
    while (!s->stopping && ms > 0)
        if (pthread_cond_timedwait(&s->wake, &s->lock, &dl) == ETIMEDOUT)
            break;
    bool awake = !s->stopping;
    pthread_mutex_unlock(&s->lock);
    return awake;
}

static struct fk_request *request_new(struct fk_server *s, struct MHD_Connection *conn,
                                      const char *url, const char *method)
{
    struct fk_request *r = fk_calloc(1, sizeof *r);
    r->start_ms = fk_mono_ms();
    clock_gettime(CLOCK_REALTIME, &r->start_rt);
    snprintf(r->method, sizeof r->method, "%s", method);
    r->path = fk_strdup(url);
    r->body = (struct fk_buf)FK_BUF_INIT;
    r->scenes = -1;
    const char *v;
    if ((v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-goog-api-key")))
        r->header_key = fk_strdup(v);
    if ((v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "key")))
        r->query_key = fk_strdup(v);
    if ((v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Fake-Fault")) && *v)
        r->header_fault = fk_strdup(v);
    if ((v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "pageToken")))
        r->page_token = fk_strdup(v);
    if ((v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "pageSize")))
        r->page_size = atoi(v);
    v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "alt");
    r->alt_sse = v && strcmp(v, "sse") == 0;
    r->alt_media = v && strcmp(v, "media") == 0;
    if ((v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host")))
        r->host = fk_strdup(v);
    r->is_control = strncmp(url, "/_fake/", 7) == 0 || strcmp(url, "/_fake") == 0;
    if (!r->is_control) {
        pthread_mutex_lock(&s->lock);
        r->seq = ++s->next_seq;
        pthread_mutex_unlock(&s->lock);
    }
    return r;
}

static void request_free(struct fk_request *r)
{
    free(r->path);
    free(r->query_key);
    free(r->header_key);
    free(r->header_fault);
    free(r->page_token);
    fk_buf_release(&r->body);
    free(r->model);
    free(r->prompt);
    free(r->service_tier);
    free(r->thinking_level);
    cJSON_Delete(r->speech);
    cJSON_Delete(r->interaction);
    cJSON_Delete(r->inputs);
    free(r->host);
    free(r);
}

/* ---- sending ---- */

struct truncated {
    char *body;
    size_t cut;
};

/* Hands out the first part of the body, then fails: MHD closes the connection mid-body. */
static ssize_t truncated_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct truncated *t = cls;
    if (pos >= t->cut)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = t->cut - (size_t)pos < max ? t->cut - (size_t)pos : max;
    memcpy(buf, t->body + pos, n);
    return (ssize_t)n;
}

static void truncated_free(void *cls)
{
    struct truncated *t = cls;
    free(t->body);
    free(t);
}

static void abort_connection(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct linger lg = {1, 0}; /* close with RST, like a dropped connection */
    if (ci)
        setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

static enum MHD_Result send_reply(struct fk_server *s, struct MHD_Connection *conn,
                                  struct fk_request *r, struct fk_reply *rep)
{
    struct MHD_Response *resp;
    if (rep->mode == FK_SEND_HANG)
        fk_server_sleep(s, s->cfg.hang_ms);
    if (rep->mode == FK_SEND_HANG || rep->mode == FK_SEND_RESET) {
        if (rep->mode == FK_SEND_RESET)
            abort_connection(conn);
        fk_reply_release(rep);
        r->status = 0;
        return MHD_NO;
    }
    if (rep->mode == FK_SEND_TRUNCATED) {
        struct truncated *t = fk_malloc(sizeof *t);
        t->body = rep->body;
        t->cut = rep->len / 2;
        resp = MHD_create_response_from_callback(rep->len, 4096, truncated_read, t, truncated_free);
        r->response_bytes = t->cut;
    } else {
        resp = MHD_create_response_from_buffer(rep->len, rep->body, MHD_RESPMEM_MUST_FREE);
        r->response_bytes = rep->len;
    }
    rep->body = NULL;
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type",
                            rep->content_type ? rep->content_type : "application/json");
    MHD_add_response_header(resp, "Vary", "Origin, X-Origin, Referer");
    MHD_add_response_header(resp, "Server", "scaffolding on HTTPServer2");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    char tmp[48];
    snprintf(tmp, sizeof tmp, "gfet4t7; dur=%lld", (long long)(fk_mono_ms() - r->start_ms));
    MHD_add_response_header(resp, "Server-Timing", tmp);
    if (rep->retry_after >= 0) {
        snprintf(tmp, sizeof tmp, "%d", rep->retry_after);
        MHD_add_response_header(resp, "Retry-After", tmp);
    }
    r->status = rep->status;
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned int)rep->status, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* ---- MHD callbacks ---- */

enum MHD_Result fk_http_access(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    struct fk_server *s = cls;
    struct fk_request *r = *con_cls;
    if (!r) {
        *con_cls = request_new(s, conn, url, method);
        return MHD_YES;
    }
    if (*upload_size) {
        if (r->body.len + *upload_size > s->cfg.max_body)
            r->body_too_large = true;
        else
            fk_buf_add(&r->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    struct fk_reply rep = {.status = 500, .retry_after = -1, .mode = FK_SEND_NORMAL};
    if (r->is_control) {
        fk_control_handle(s, r, &rep);
    } else {
        int64_t delay = s->cfg.latency_ms;
        if (s->cfg.jitter_ms > 0) /* uniform in latency +- jitter, from (seed, seq) */
            delay +=
                (int64_t)((2 * fk_unit(fk_mix3(s->cfg.seed, r->seq, 3)) - 1) * s->cfg.jitter_ms);
        /* The latency is the whole time to the answer, as a client sees it: the reply is
         * generated first (a large PNG takes a while), then the rest of the latency passes. */
        fk_api_handle(s, r, &rep);
        int64_t left = delay - (fk_mono_ms() - r->start_ms);
        if (left > 0 && !fk_server_sleep(s, left)) {
            fk_reply_release(&rep);
            r->status = 0;
            return MHD_NO;
        }
    }
    if (!rep.body && rep.mode != FK_SEND_HANG && rep.mode != FK_SEND_RESET)
        fk_error(&rep, 500, "INTERNAL", "fake-gemini: no reply was produced", NULL);
    return send_reply(s, conn, r, &rep);
}

void fk_http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                       enum MHD_RequestTerminationCode toe)
{
    struct fk_server *s = cls;
    struct fk_request *r = *con_cls;
    if (!r)
        return;
    if (!r->is_control)
        fk_log_request(s, r, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
    request_free(r);
    *con_cls = NULL;
}
