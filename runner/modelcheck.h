/* modelcheck: is a model served, and which ones are? Before its first paid call a run asks
 * `GET {api_root}/models/{id}` (free) once per model, and when one is not served it lists the
 * models the key can use (`GET {api_root}/models?pageSize=&pageToken=`, every page) so the
 * error can name them. Answers are kept for the life of the process (struct modelcheck), keyed by
 * API root and model, so many jobs of a watcher ask once.
 *
 * Everything is asynchronous on the caller's HTTP client and event loop:
 *   mc = mc_new(http, api_key);
 *   mc_want(mc, root, "gemini-3.8-flash");        // or mc_want_list(mc, root)
 *   loop: wake = mc_pump(mc, now_ms());           // starts what is due; returns the next wake-up
 *         ... http_wait ...
 *         e = mc_get(mc, root, model); if (e->state != MC_PENDING) ... decide ...
 *   mc_free(mc);
 * mc_wait_all() runs that loop on its own for commands without an event loop (plan, models).
 *
 * Transient failures (429, 5xx, transport) are retried up to MC_ATTEMPTS times with backoff (or
 * the server's delay, at most a minute); then the entry is MC_ERROR. A 404 is MC_NOT_SERVED;
 * 400/401/403 are MC_DENIED (the key, not the model). */
#ifndef GF_MODELCHECK_H
#define GF_MODELCHECK_H

#include "buf.h"
#include "err.h"
#include "http.h"
#include "workflow.h"

#include <cjson/cJSON.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MC_ATTEMPTS 4

enum mc_state {
    MC_PENDING,    /* asked, no answer yet (or waiting to ask again) */
    MC_SERVED,     /* 200: the model exists for this key */
    MC_NOT_SERVED, /* 404: shut down, misspelt, or not for this API version */
    MC_DENIED,     /* 400/401/403: the key is refused; the model was not judged */
    MC_ERROR,      /* no answer after MC_ATTEMPTS (transport, 429, 5xx) */
};

/* What ListModels or models.get says of one model. Strings owned by the modelcheck. */
struct mc_model {
    char *name;         /* without "models/" */
    char *display_name; /* may be NULL */
    char **methods;     /* supportedGenerationMethods */
    size_t n_methods;
    int64_t input_limit, output_limit; /* -1 when absent */
};

struct mc_entry {
    enum mc_state state;
    struct mc_model info;  /* MC_SERVED */
    long http_status;      /* of the last answer; 0 for a transport error */
    char *api_status;      /* "NOT_FOUND", NULL when none */
    char *message;         /* the API's own words (or the transport error), NULL when served */
    int attempts;          /* requests made */
    int64_t not_before_ms; /* MC_PENDING: when it may be asked (again) */
    bool inflight;
};

struct mc_list {
    enum mc_state state; /* MC_PENDING, MC_SERVED (complete), MC_DENIED or MC_ERROR */
    struct mc_model *models;
    size_t n_models, cap_models;
    char *page_token; /* the next page to ask for, NULL for the first */
    char *message;    /* why it failed */
    long http_status;
    int attempts, pages;
    int64_t not_before_ms;
    bool inflight;
};

struct modelcheck;

/* `api_key` is borrowed and must outlive the modelcheck. */
struct modelcheck *mc_new(struct http_client *http, const char *api_key);
/* Abandons nothing: call when no request is in flight (after http_abort_all or when idle). */
void mc_free(struct modelcheck *mc);

/* Make sure `model` of `api_root` ("http://host:port/v1beta") is known or being asked. */
void mc_want(struct modelcheck *mc, const char *api_root, const char *model);
/* The entry of a wanted model; NULL when it was never wanted. */
const struct mc_entry *mc_get(const struct modelcheck *mc, const char *api_root, const char *model);
/* Make sure the whole model list of `api_root` is known or being fetched. */
void mc_want_list(struct modelcheck *mc, const char *api_root);
const struct mc_list *mc_get_list(const struct modelcheck *mc, const char *api_root);

/* Start the requests that are due; returns the monotonic time of the next one that waits (or
 * now + 1 s when nothing waits). */
int64_t mc_pump(struct modelcheck *mc, int64_t now);
/* Whether something is still being asked. */
bool mc_busy(const struct modelcheck *mc);
/* Run the HTTP client until nothing is pending (for commands without an event loop). */
int mc_wait_all(struct modelcheck *mc, struct gf_err *err);

/* Whether the model supports `method` ("generateContent", "predict"). */
bool mc_model_supports(const struct mc_model *m, const char *method);
/* The stage kind a listed model is for, from its name and methods: "text", "image", "speech",
 * "video", or "other" (embeddings, live, ...). */
const char *mc_model_kind(const struct mc_model *m);
/* The model a reply says answered (`modelVersion`) is the one asked for: equal, or the asked id
 * followed by a version suffix ("-001", "-2026-09-02", "-09-2025": a dash, then digits and
 * dashes only, ending in a digit), with an optional "models/" prefix on either side. Another
 * name ("-lite", "3.6" for "3.5", "-2.1", "-2b") is not. */
bool mc_same_model(const char *asked, const char *served);

/* The API method a stage calls (predict for imagen-*, else generateContent) and the kind of
 * model it needs ("text" for json and text stages). */
const char *mc_stage_method(const struct stage_def *def);
const char *mc_stage_kind(const struct stage_def *def);
/* Whether an answered entry rules the model out for `method`: not served, refused, not checked,
 * or served without the method. */
bool mc_entry_is_bad(const struct mc_entry *e, const char *method);
/* "model 'X' is not served (HTTP 404 NOT_FOUND: the API's words)" and kin, into `b`. */
void mc_describe_problem(struct buf *b, const struct mc_entry *e, const char *model,
                         const char *method);
/* "; models this key can use for a KIND stage: a, b (gemflow models --kind KIND)" from the
 * listed models of that kind that support `method`; each name is also added to `names` when it
 * is not NULL. Says so when the list could not be read or holds none. */
void mc_add_alternatives(struct buf *b, const struct mc_list *l, const char *kind,
                         const char *method, cJSON *names);

#endif
