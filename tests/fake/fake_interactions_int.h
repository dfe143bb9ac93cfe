/* fake_interactions_int: shared by the files of the fake's Interactions API
 * (fake_interactions.c: routes, errors, handlers; fake_interactions_store.c: the store, ids and
 * the interaction as shown; fake_interactions_request.c: the checks of a create's body); not
 * for the rest of the fake. */
#ifndef FAKE_INTERACTIONS_INT_H
#define FAKE_INTERACTIONS_INT_H

#include "fake.h"

#include <stdbool.h>
#include <stdint.h>

enum outcome { OUT_COMPLETED, OUT_FAILED, OUT_EXPIRED };

struct fk_ix {
    char id[80];
    char file_id[16];
    char model[64];
    char body_sha[65];
    char resolution[8];
    char task[24];
    char *text; /* the text parts, joined by newlines */
    uint64_t variant;
    int64_t created_ms, done_ms, cancelled_ms; /* wall clock (survives a restart) */
    int duration_ms;
    int images;
    int input_tokens;
    bool portrait, uri_delivery, background, stored;
    enum outcome outcome;
};

/* What a valid create asks for. */
struct fk_ix_spec {
    const char *model;
    int duration_ms;
    bool portrait, uri_delivery, background, stored;
    const char *resolution;
    const char *task;
    int images;
    struct fk_buf text;
    uint64_t variant;
};

/* ---- fake_interactions.c: errors {"error": {"message", "code"}} ---- */
void fk_ix_error(struct fk_reply *out, int http, const char *code, const char *message);
/* Answer error `code` (404 for not_found and model_not_found, else 400) and free `message`;
 * returns false. */
bool fk_ix_fail(struct fk_reply *out, const char *code, char *message);
/* fk_ix_fail with "invalid_request". */
bool fk_ix_invalid(struct fk_reply *out, char *message);

/* ---- fake_interactions_store.c (the store: callers hold s->lock) ---- */
/* The wall clock in milliseconds. */
int64_t fk_ix_now_ms(void);
/* "2026-01-02T03:04:05Z" for `ms` into out. */
void fk_ix_rfc3339_s(int64_t ms, char out[32]);
struct fk_ix *fk_ix_find(struct fk_server *s, const char *id);
/* The interaction delivered by URI as file `fid`, or NULL. */
struct fk_ix *fk_ix_find_file(struct fk_server *s, const char *fid);
/* Rewrite --state FILE (nothing without --state). */
void fk_ix_save_state(struct fk_server *s);
/* A new id for `x`, made from the seed, the body and the interactions before; and its file id. */
void fk_ix_make_id(struct fk_server *s, const char *body_sha, struct fk_ix *x);
bool fk_ix_id_well_formed(const char *id);
/* in_progress, completed, failed, expired or cancelled at `now`. */
const char *fk_ix_status_of(const struct fk_ix *x, int64_t now);
/* "http://HOST" of the request (caller frees). */
char *fk_ix_base_url(const struct fk_request *req);
/* The request log's "interaction" for `x` in `state`. */
void fk_ix_log_view(struct fk_request *req, const struct fk_ix *x, const char *state);
/* Answer `x` (a copy) as it stands at `now`. */
void fk_ix_reply(const struct fk_ix *x, int64_t now, bool uri, struct fk_request *req,
                 struct fk_reply *out);

/* ---- fake_interactions_request.c ---- */
/* Check a create's body into *sp; false after answering the error. */
bool fk_ix_check_create(const cJSON *body, struct fk_ix_spec *sp, struct fk_reply *out);

#endif
