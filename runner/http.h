/* http: every HTTP call of the process on one libcurl multi handle, driven from the caller's
 * single-threaded event loop (connection reuse, no threads). Only this module touches libcurl.
 *
 * Calling sequence:
 *   c = http_client_new(&err);
 *   http_submit(c, &req, on_done, ctx, &err);       // as many as the caller's limits allow
 *   while (http_active(c) || more work)
 *       http_wait(c, timeout_ms, extra_fds, n, &err); // runs on_done for finished transfers
 *   http_client_free(c);
 * The API key is sent as the x-goog-api-key header and kept nowhere else. */
#ifndef GF_HTTP_H
#define GF_HTTP_H

#include "buf.h"
#include "err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_client;

struct http_request {
    const char *url;
    const char *body; /* borrowed until the completion callback has run; NULL: a GET */
    size_t body_len;
    const char *api_key; /* sent as x-goog-api-key; NULL sends none */
    int64_t timeout_ms;  /* whole transfer */
    /* Never sent twice: a connection of its own. libcurl silently sends a request again when
     * a reused connection dies before any answer byte, which for a paid create the API may
     * have accepted would buy it twice (the fake's log showed it); a fresh connection is never
     * retried that way. */
    bool once;
};

struct http_result {
    bool transport_error; /* no complete HTTP response: connect error, reset, timeout, cut body */
    bool timed_out;
    char error[256];          /* libcurl's words for a transport error */
    long status;              /* HTTP status, 0 when there was no response */
    struct buf body;          /* the callback may take it with buf_detach */
    const char *content_type; /* NULL when absent; valid during the callback */
    const char *retry_after;  /* NULL when absent; valid during the callback */
    int64_t ms;               /* total time of the transfer */
    /* The whole request body left this process (a transport error after it may have been
     * acted on by the server; one before it cannot have been: the server never had a whole
     * request). True for a GET. */
    bool body_sent;
};

typedef void (*http_done_fn)(void *ctx, struct http_result *res);
/* Refill hook (http_set_refill): transfers have finished and their slots are free; start
 * what can start now. It runs after each finished transfer's `released` notice and before
 * any of their completion callbacks, and what it submits is sent at once, so a new call does
 * not wait for the previous one's reply to be decoded and written. */
typedef void (*http_refill_fn)(void *ctx);

struct http_client *http_client_new(struct gf_err *err);
void http_client_free(struct http_client *c);

int http_submit(struct http_client *c, const struct http_request *req, http_done_fn done, void *ctx,
                struct gf_err *err);
/* Set the refill hook. A transfer submitted with a `released` function (http_submit_released)
 * gets that notice, with its ctx, just before the hook runs; the hook is skipped for a batch
 * that holds a 429 or 5xx reply (the server is asking for less, not more). */
void http_set_refill(struct http_client *c, http_refill_fn refill, void *ctx);
int http_submit_released(struct http_client *c, const struct http_request *req, http_done_fn done,
                         void (*released)(void *ctx), void *ctx, struct gf_err *err);
/* Wait up to timeout_ms for network activity or for one of the extra fds to become readable,
 * then complete finished transfers (their callbacks run inside this call). revents[i] is set
 * non-zero for each extra fd that is readable (or hung up). */
int http_wait(struct http_client *c, int timeout_ms, const int *extra_fds, short *revents,
              unsigned n_extra, struct gf_err *err);
/* Transfers in flight. */
size_t http_active(const struct http_client *c);
/* Abandon every transfer in flight; their callbacks run with transport_error set and
 * error "abandoned". */
void http_abort_all(struct http_client *c);

#endif
