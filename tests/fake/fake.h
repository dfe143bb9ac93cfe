/* fake.h: shared types and module interfaces of fake-gemini, the fake Gemini REST server used
 * by gemflow's tests, benchmarks and offline demo (a test double, never a real service).
 * Each section below names the .c file that implements it. */
#ifndef FAKE_H
#define FAKE_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <sys/types.h>
#include <microhttpd.h>
#include <cjson/cJSON.h>

#define FK_PREFIX     "fake-gemini: "
#define FK_MAX_BODY   (100u * 1024u * 1024u) /* the inline request limit: 100 MB (README) */
#define FK_PCM_RATE   24000
#define FK_MAX_SCENES 64

/* ---- fake_util.c: memory, growable buffer, hashing, time, text helpers ---- */

/* Allocation that never returns NULL (aborts with a message on out-of-memory). */
void *fk_malloc(size_t n);
void *fk_calloc(size_t n, size_t size);
void *fk_realloc(void *p, size_t n);
char *fk_strdup(const char *s);
char *fk_strndup(const char *s, size_t n);
char *fk_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* caller frees */

/* Growable byte buffer after git's strbuf: `buf` is never NULL and always NUL-terminated. */
struct fk_buf {
    char *buf;
    size_t len;
    size_t alloc;
};
extern char fk_buf_slop[1];
#define FK_BUF_INIT                                                                                \
    {                                                                                              \
        fk_buf_slop, 0, 0                                                                          \
    }
void fk_buf_grow(struct fk_buf *b, size_t extra);
void fk_buf_add(struct fk_buf *b, const void *data, size_t len);
void fk_buf_adds(struct fk_buf *b, const char *s);
void fk_buf_addch(struct fk_buf *b, char c);
void fk_buf_addf(struct fk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fk_buf_vaddf(struct fk_buf *b, const char *fmt, va_list ap);
void fk_buf_setlen(struct fk_buf *b, size_t len);
/* Append everything `f` has left to read; -1 on a read error (what was read stays). */
int fk_buf_add_stream(struct fk_buf *b, FILE *f);
/* Hand the storage to the caller (who frees it); the buffer is re-initialised. */
char *fk_buf_detach(struct fk_buf *b, size_t *len);
void fk_buf_release(struct fk_buf *b);

uint64_t fk_hash(const void *data, size_t len, uint64_t seed); /* FNV-1a, then mixed */
uint64_t fk_mix(uint64_t x);                                   /* splitmix64 finaliser */
uint64_t fk_mix3(uint64_t a, uint64_t b, uint64_t c);
double fk_unit(uint64_t x); /* [0, 1) from 53 bits */
int64_t fk_mono_ms(void);
void fk_rfc3339_ms(const struct timespec *ts, char out[32]);
void fk_sha256_hex(const void *data, size_t len, char out[65]);
uint32_t fk_crc32(uint32_t crc, const unsigned char *p, size_t n);

size_t fk_utf8_chars(const char *s, size_t len);                   /* code points */
size_t fk_utf8_prefix(const char *s, size_t len, size_t maxchars); /* bytes of first N chars */
bool fk_streq_ci(const char *a, const char *b);
char *fk_camel_to_snake(const char *camel); /* caller frees */
const char *fk_memmem(const char *hay, size_t hlen, const char *needle);

/* Base64 (standard alphabet, padded, no line breaks). Caller frees. */
char *fk_base64(const unsigned char *data, size_t len, size_t *out_len);

/* cJSON parsing behind a lock: cJSON records parse errors in a global. `end` may be NULL. */
cJSON *fk_json_parse(const char *s, size_t len, const char **end);
/* Pretty JSON with two-space indentation like the real API; caller frees. */
char *fk_json_print(const cJSON *j, size_t *len);
/* Object member by canonical lowerCamelCase name, or by its snake_case form. */
cJSON *fk_get(const cJSON *obj, const char *camel);
const char *fk_get_str(const cJSON *obj, const char *camel);

/* ---- fake_fault.c: fault kinds, triggers, rules, rate limits ---- */

enum fk_fault {
    FK_FAULT_NONE = 0,
    FK_F_429,
    FK_F_429_RETRY_AFTER,
    FK_F_429_DAILY,
    FK_F_500,
    FK_F_502,
    FK_F_503,
    FK_F_504,
    FK_F_400,
    FK_F_401,
    FK_F_403,
    FK_F_404,
    FK_F_400_CONTROLS,
    FK_F_TIMEOUT,
    FK_F_RESET,
    FK_F_TRUNCATED,
    FK_F_BADJSON,
    FK_F_SAFETY,
    FK_F_BLOCKED,
    FK_F_TEXT_ONLY,
    FK_F_EMPTY_PARTS,
    FK_F_BAD_BASE64,
    FK_F_BAD_PNG,
    FK_F_ODD_PCM,
    FK_F_SCHEMA_BREAK,
    FK_F_MAX_TOKENS,
    FK_F_PNG,
    FK_F_WEBP,
    FK_F_BAD_JPEG,
    FK_F_HUGE_IMAGE,
    FK_F_WAV_1HZ,
    FK_F_OP_FAILED,  /* interactions: the interaction ends "failed" */
    FK_F_OP_EXPIRED, /* interactions: gone (404) once its render time is over */
    FK_FAULT_COUNT
};

struct fk_rule {
    char *match; /* substring of path or body; NULL matches all */
    char *model; /* exact model; NULL matches all */
    enum fk_fault kind;
    long times; /* -1 = always */
    long skip;
    long seen;  /* matching requests so far */
    long fired; /* times this rule fired */
};

struct fk_rules {
    struct fk_rule *v;
    size_t n;
};

const char *fk_fault_name(enum fk_fault f);
/* Returns the kind for a name ("none" gives FK_FAULT_NONE), or -1 when unknown. */
int fk_fault_parse(const char *name, size_t len);
/* Kinds answered with an HTTP error status instead of a generated reply. */
bool fk_fault_is_http_error(enum fk_fault f);
/* Parse a JSON array of rules; on error fill `err` and return -1 (rules left empty). */
int fk_rules_parse(const cJSON *arr, struct fk_rules *out, char *err, size_t errlen);
void fk_rules_release(struct fk_rules *r);
cJSON *fk_rules_to_json(const struct fk_rules *r);

/* ---- shared server state (fake_main.c sets it up) ---- */

enum fk_kind { FK_KIND_TEXT, FK_KIND_IMAGE, FK_KIND_SPEECH, FK_KIND_IMAGEN, FK_KIND_VIDEO };

/* What a model accepts and how it answers, beyond its kind (fake_models.c sets them for the
 * default catalog and guesses them from the name for --model). */
enum fk_trait {
    FK_T_IMG_25 = 1 << 0,      /* image: the gemini-2.5-flash-image size table, no thought part */
    FK_T_IMG_EXT = 1 << 1,     /* image: also the ratios 1:4 4:1 1:8 8:1 */
    FK_T_IMG_512 = 1 << 2,     /* image: also imageSize "512" (half the 1K sides) */
    FK_T_WAV = 1 << 3,         /* speech: replies audio/wav (else raw L16 PCM) */
    FK_T_SPEECH_META = 1 << 4, /* speech: parts[].speechMetadata and voiceConfig.voice */
    FK_T_NO_MINIMAL = 1 << 5,  /* text: thinkingLevel MINIMAL is refused */
};

struct fk_model {
    char *name;
    enum fk_kind kind;
    unsigned traits; /* enum fk_trait bits */
    bool retired;    /* shut down: 404 on every route, absent from models.list */
    char *reroute;   /* retired but still accepted: served by this model, or NULL */
    const struct fk_model *served_by; /* resolved `reroute` (fk_models_finish), or NULL */
};

struct fk_rpm {
    char *model;
    int limit;
    int64_t *stamps; /* ring of admission times (monotonic ms), capacity `limit` */
    int head;
    int count;
};

struct fk_counter {
    char *key;
    long count;
};

struct fk_config {
    int port;
    const char *port_file;
    const char *log_path;
    const char *faults_file;
    const char *key;
    const char *retry_delay;
    int latency_ms;
    int jitter_ms;
    int retry_after;
    int hang_ms;
    int minute_ms;
    uint64_t seed;
    double fault_rate;
    enum fk_fault rate_kinds[FK_FAULT_COUNT];
    int n_rate_kinds;
    double mislabel_rate;   /* share of JPEG replies labelled image/png; < 0: odd prompt hashes */
    int page_size_max;      /* models.list page size cap (default 1000) */
    int render_ms;          /* interactions: wall-clock time from create to done (default 3000) */
    double op_fail_rate;    /* interactions: share that end "failed", from (seed, id) */
    const char *state_path; /* interactions: kept in this file across restarts, or NULL */
    size_t max_body;        /* largest request body taken (--max-body; default FK_MAX_BODY) */
    bool mime_strict;       /* refuse image bytes of another format than declared */
    bool quiet;
};

struct fk_server {
    struct fk_config cfg;
    struct fk_model *models;
    size_t n_models;
    struct fk_rpm *rpm;
    size_t n_rpm;

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake;  /* broadcast on shutdown to end sleeps and hangs */
    bool stopping;
    uint64_t next_seq;
    uint64_t logged; /* API requests written to the log (next_seq - logged are still open) */
    struct fk_rules rules;
    struct fk_counter *markers;
    size_t n_markers;
    FILE *log;
    cJSON *stats;
    struct fk_ix *ix; /* interactions (fake_interactions_store.c), oldest first */
    size_t n_ix;
};

/* Sleep up to `ms`, returning early (false) when the server is stopping. */
bool fk_server_sleep(struct fk_server *s, int64_t ms);

/* ---- one request and its reply (fake_http.c owns their life cycle) ---- */

struct fk_media {
    int type; /* 0 none, 1 image, 2 audio, 3 video (MP4: mime, width, height, bytes, duration_s) */
    char mime[48];
    const char *format; /* image bytes really sent: "jpeg", "png", "webp" */
    int width;
    int height;
    size_t bytes;
    int rate;
    long frames;
    size_t pcm_bytes;
    double duration_s;
};

enum fk_send { FK_SEND_NORMAL, FK_SEND_TRUNCATED, FK_SEND_RESET, FK_SEND_HANG };

struct fk_reply {
    int status;
    char *body; /* malloc'ed, owned */
    size_t len;
    const char *content_type;
    int retry_after; /* Retry-After header seconds, or -1 */
    enum fk_send mode;
};

struct fk_request {
    int64_t start_ms;
    struct timespec start_rt;
    uint64_t seq; /* arrival order of API requests, 1-based; 0 for control requests */
    char method[16];
    char *path;
    char *query_key;    /* ?key= value, never logged */
    char *header_key;   /* x-goog-api-key value, never logged */
    char *header_fault; /* X-Fake-Fault */
    char *page_token;   /* models.list ?pageToken= */
    int page_size;      /* models.list ?pageSize=, 0 when absent */
    bool alt_sse;       /* ?alt=sse */
    bool alt_media;     /* ?alt=media */
    char *host;         /* Host header (to build the URIs of generated files) */
    struct fk_buf body;
    bool body_too_large;
    bool is_control;

    /* outcome, filled while handling */
    char *model;
    const char *verb;
    const char *fault;     /* fault kind name, "rpm" for the rate limiter, or NULL */
    const char *served_by; /* the serving model when the path's model is rerouted, else NULL */
    char *prompt;
    char *service_tier;   /* serviceTier as sent, or NULL */
    char *thinking_level; /* generationConfig.thinkingConfig.thinkingLevel as sent, or NULL */
    cJSON *speech;        /* {texts, styles, speakers, voices} of a TTS request, or NULL; owned */
    cJSON *interaction;   /* {id, state, duration_s, ...} of an interactions call, or NULL; owned */
    cJSON *inputs;        /* [{mime, bytes, sha256, format}] of a generateContent, or NULL; owned */
    struct fk_media media;
    int scenes; /* -1 when not a JSON reply */
    int status;
    size_t response_bytes;
};

void fk_reply_set(struct fk_reply *r, int status, char *body, size_t len, const char *ctype);
void fk_reply_json(struct fk_reply *r, int status, cJSON *doc); /* consumes doc */
void fk_reply_release(struct fk_reply *r);

/* ---- fake_http.c: libmicrohttpd callbacks (MHD_OPTION_NOTIFY_COMPLETED for the second) ---- */

enum MHD_Result fk_http_access(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls);
void fk_http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                       enum MHD_RequestTerminationCode toe);

/* ---- fake_errors.c: Google-style error bodies ---- */

void fk_error(struct fk_reply *r, int code, const char *status, const char *message,
              cJSON *details);
void fk_error_invalid(struct fk_reply *r, const char *message); /* 400 INVALID_ARGUMENT */
/* 400 with a google.rpc.BadRequest detail listing `violations` (array of {field,description}). */
void fk_error_bad_request(struct fk_reply *r, const char *message, cJSON *violations);
void fk_error_model_not_found(struct fk_reply *r, const char *version, const char *model,
                              const char *method);
/* 404 NOT_FOUND "This model models/X is no longer available. ..." of a shut-down model. */
void fk_error_model_retired(struct fk_reply *r, const char *model);
void fk_error_no_route(struct fk_reply *r, const char *path);
/* The reply for an HTTP-error fault kind. */
void fk_error_fault(struct fk_server *s, enum fk_fault f, const char *model, const char *method,
                    struct fk_reply *r);
/* The 429 of the --rpm limiter; `wait_ms` until the window frees. */
void fk_error_rpm(struct fk_reply *r, const char *model, int limit, int64_t wait_ms);

/* ---- fake_fault.c (continued): per-request decisions, all take s->lock ---- */

/* Which fault (if any) this request gets: header, then body marker, then rules, then rate.
 * `generates`: a paid call (generateContent, streamGenerateContent, predict); the others
 * (models.get, models.list, countTokens) get a fault only from the header or from a rule whose
 * `match` names them. */
enum fk_fault fk_fault_pick(struct fk_server *s, struct fk_request *req, const char *model,
                            bool generates);
/* Sliding-window --rpm limit: returns false and fills `r` when the request must be refused. */
bool fk_rpm_admit(struct fk_server *s, const char *model, struct fk_reply *r);

/* ---- fake_interactions.c, fake_interactions_store.c: the Interactions API (Gemini Omni Flash
 * video) and Files API ---- */

struct fk_ix;
/* Answer the request when its path is an interactions or files route; false when it is not. */
bool fk_ix_handle(struct fk_server *s, struct fk_request *req, struct fk_reply *out);
/* POST /_fake/interactions {"render_ms": N, "finish": true}: the render time of later creates,
 * and every interaction still rendering done now, so that a test sees "in progress" and "done"
 * by its own action, not by the clock. */
void fk_ix_control(struct fk_server *s, struct fk_request *req, struct fk_reply *out);
/* Load --state FILE (a missing file is an empty store); on error fill `err`, return -1. */
int fk_ix_load(struct fk_server *s, char *err, size_t errlen);
void fk_ix_release(struct fk_server *s);

/* ---- fake_video.c: the MP4 clips of Omni interactions, rendered by FFmpeg and cached ---- */

void fk_video_dims(bool portrait, int *w, int *h);
/* The clip of (duration, orientation, variant); caller frees *out. -1 with `err` on failure. */
int fk_video_clip(int duration_ms, bool portrait, uint64_t variant, unsigned char **out,
                  size_t *len, char *err, size_t errlen);
void fk_video_release(void);

/* ---- fake_api.c: routing, auth, the order of checks for one request ---- */

void fk_api_handle(struct fk_server *s, struct fk_request *req, struct fk_reply *out);

/* ---- fake_models.c: the model catalog (served, rerouted, shut down), models.get/list ---- */

const struct fk_model *fk_model_find(const struct fk_server *s, const char *name);
int fk_kind_parse(const char *s);
void fk_models_defaults(struct fk_server *s); /* today's catalog (README.md, with sources) */
/* --model NAME:KIND: add a served model, or serve an existing one (again) with this kind. */
void fk_models_add(struct fk_server *s, const char *name, enum fk_kind kind);
void fk_models_retire(struct fk_server *s, const char *name);                  /* --retire */
void fk_models_reroute(struct fk_server *s, const char *from, const char *to); /* --reroute */
/* Resolve reroutes once all options are read; on error fill `err` and return -1. */
int fk_models_finish(struct fk_server *s, char *err, size_t errlen);
void fk_models_release(struct fk_server *s);
cJSON *fk_model_json(const struct fk_model *m); /* one models.get entry; caller deletes */
void fk_models_list(struct fk_server *s, const struct fk_request *req, struct fk_reply *out);

/* ---- fake_control.c: /_fake/ endpoints ---- */

void fk_control_handle(struct fk_server *s, struct fk_request *req, struct fk_reply *out);

/* ---- fake_log.c: request log and stats ---- */

void fk_log_request(struct fk_server *s, const struct fk_request *req, bool completed);
/* Add 1 to stats[group][key]; the caller holds s->lock. */
void fk_stats_bump(struct fk_server *s, const char *group, const char *key);

/* ---- fake_validate.c: request validation into a parsed view ---- */

struct fk_gen {
    const struct fk_model *model;
    const cJSON *body;
    char *text;           /* all text parts of `contents`, joined by newlines */
    char *system;         /* text of systemInstruction, or NULL */
    int n_images;         /* inline image parts in the request */
    cJSON *inputs;        /* the log view of the inline parts read so far (fake_inputs.c), owned */
    uint64_t inputs_hash; /* mix of the inline parts' bytes in order; 0 when there are none */
    const char *mime;
    const cJSON *schema; /* responseSchema or responseJsonSchema, borrowed */
    bool want_text;
    bool want_image;
    bool want_audio;
    bool image_only; /* responseModalities is exactly ["IMAGE"] */
    bool include_thoughts;
    const char *aspect;
    const char *image_size;
    const char *voice;
    long max_tokens;            /* -1 when unset */
    const char *service_tier;   /* as sent, or NULL */
    const char *thinking_level; /* as sent, or NULL */
    cJSON *speech;              /* the log view of a TTS request (fake_speech.c), owned, or NULL */
};

/* Validate a generateContent body; on failure fill `err` and return -1. `strict`: refuse image
 * bytes of another format than their declared MIME type (--mime-strict). */
int fk_validate_generate(const struct fk_model *m, const cJSON *body, bool strict, struct fk_gen *g,
                         struct fk_reply *err);
void fk_gen_release(struct fk_gen *g);

struct fk_predict {
    const char *prompt;
    int samples;
    const char *aspect;
    int scale; /* 1 for 1K, 2 for 2K */
    bool rai_reason;
};
int fk_validate_predict(const struct fk_model *m, const cJSON *body, struct fk_predict *p,
                        struct fk_reply *err);
/* Check that every member of `obj` is one of `names` (camelCase; snake_case accepted too);
 * append one "Unknown name" violation per stranger to `viol`. `at` is the proto path or NULL. */
void fk_check_fields(const cJSON *obj, const char *const *names, const char *at, cJSON *viol);
/* Fail with the BadRequest body when `viol` is non-empty (consumes viol). */
bool fk_violations_reply(cJSON *viol, struct fk_reply *err);
/* Append {field, description} to `viol`; `field` may be NULL. */
void fk_violation(cJSON *viol, const char *field, const char *description);
/* "Invalid value at 'at' (type), value" as the proto JSON parser words it. */
void fk_invalid_value(cJSON *viol, const char *at, const char *type, const cJSON *v);
/* 400 INVALID_ARGUMENT with `msg` (consumed); returns false for `return fk_fail(...)`. */
bool fk_fail(struct fk_reply *err, char *msg);

/* ---- fake_inputs.c: inline media parts (reference images and other inputs) ---- */

/* Pass 1: field names and JSON types inside one part's inlineData (`at` is the part's path). */
void fk_inputs_check_names(const cJSON *part, const char *at, cJSON *viol);
/* Pass 2, once per part in request order: base64, the MIME type the model takes, what the
 * bytes are; appends the part to g->inputs and mixes it into g->inputs_hash. A part without
 * inlineData passes. */
bool fk_inputs_check_part(const struct fk_model *m, const cJSON *part, int i, int j, bool strict,
                          struct fk_gen *g, struct fk_reply *err);
/* After the last part: the model's limit on input images. */
bool fk_inputs_check_count(const struct fk_model *m, const struct fk_gen *g, struct fk_reply *err);

/* ---- fake_speech.c: speechConfig and parts[].speechMetadata of TTS requests ---- */

/* Pass 1: field names and types inside speechConfig (`gc` is generationConfig), and inside
 * one part's speechMetadata (`at` is the part's proto path); into `viol`. */
void fk_speech_check_names(const cJSON *gc, cJSON *viol);
void fk_speech_meta_names(const cJSON *part, const char *at, cJSON *viol);
/* Pass 2: voices, speakers and per-part metadata; fills g->voice and g->speech. */
bool fk_speech_check(const struct fk_model *m, const cJSON *body, const cJSON *gc, struct fk_gen *g,
                     struct fk_reply *err);

/* ---- fake_gen.c: successful replies ---- */

struct fk_ctx {
    struct fk_server *s;
    struct fk_request *req;
    enum fk_fault fault;
};
void fk_gen_reply(struct fk_ctx *c, const struct fk_gen *g, struct fk_reply *out);
void fk_predict_reply(struct fk_ctx *c, const struct fk_model *m, const struct fk_predict *p,
                      struct fk_reply *out);
int fk_tokens_for_text(size_t chars);

/* ---- fake_scene.c: scenes of the script (or of an embedded JSON analysis) in a prompt ---- */

struct fk_scene {
    char *id;      /* mirrored id, or NULL (then s01, s02, ...) */
    char *heading; /* title from the scene heading, or NULL */
    char *text;    /* the scene's words (narration) */
    char *visual;  /* what to picture: embedded visual description, else the text */
    cJSON *src;    /* the mirrored element of the embedded JSON, or NULL */
};

struct fk_scenes {
    struct fk_scene *v;
    size_t n;
    char *title; /* the script's title line, or NULL */
    char *style; /* "style" of an embedded analysis, or NULL */
    bool mirrored;
};

void fk_scenes_from_prompt(const char *text, struct fk_scenes *out);
void fk_scenes_release(struct fk_scenes *sc);
char *fk_image_prompt(const char *base, const char *style, uint64_t h); /* 40-80 words */
char *fk_first_sentence(const char *text, int max_words);
char *fk_first_words(const char *text, int n);
char *fk_title_case(const char *text);

/* ---- fake_schema.c: JSON documents that conform to a response schema ---- */

/* Generate a value for `schema`; *array_len gets the scene array's length (or -1). */
cJSON *fk_schema_generate(const cJSON *schema, const struct fk_scenes *sc, uint64_t h,
                          int *array_len);
/* Remove one required property (schema-break fault); returns true if one was removed. */
bool fk_schema_break(cJSON *doc, const cJSON *schema);

/* ---- fake_media.c: image sizes, painting, PNG, PCM, WAV ---- */

/* Pixel size for a Gemini image model; -1 when the aspect ratio is not supported. */
int fk_image_dims(const struct fk_model *m, const char *aspect, const char *size, int *w, int *h);
const char *fk_image_ratios(const struct fk_model *m); /* for error messages */
int fk_imagen_dims(const char *aspect, int scale, int *w, int *h);
/* Encode a deterministic RGB image; caller frees. Never NULL (aborts like fk_malloc). */
unsigned char *fk_png_make(int w, int h, uint64_t seed, size_t *len);
/* One row of the deterministic picture (RGB, 3*w bytes); `pt` from fk_paint_new. */
struct fk_painting;
struct fk_painting *fk_paint_new(int w, int h, uint64_t seed);
void fk_paint_row(const struct fk_painting *pt, unsigned char *row, int w, int h, int y);
/* A 16384x16384 PNG of one flat colour (1-bit palette, about 40 KB); caller frees. */
unsigned char *fk_png_huge(size_t *len, int *side);
/* Per-pixel grain amplitude of generated images (0 = none, the default). */
void fk_png_set_grain(int amplitude);
/* Paint each image size once and cut audio from one long PCM (benchmarks). Before serving. */
void fk_media_cache_enable(void);
/* `paint(w, h, seed, len)`, or with the cache on, a copy of the one image of that format and
 * size (painted with seed 0 the first time); caller frees. */
unsigned char *fk_media_cached(char format, int w, int h, uint64_t seed, size_t *len,
                               unsigned char *(*paint)(int, int, uint64_t, size_t *));
void fk_png_corrupt(unsigned char *png, size_t len); /* break the IDAT, keep the CRCs valid */
/* 16-bit mono little-endian PCM, `frames` samples; caller frees. */
unsigned char *fk_pcm_make(long frames, uint64_t seed);
/* A RIFF/WAVE file whose header says `rate` Hz (fault wav-1hz passes 1); caller frees. */
unsigned char *fk_wav_wrap(const unsigned char *pcm, size_t pcm_bytes, int rate, size_t *len);
bool fk_model_is_gemini3_image(const struct fk_model *m);
extern const char *const fk_voices[30];

/* ---- fake_codec.c: JPEG (libjpeg-turbo) and lossless WebP (libwebp) of the same picture ---- */

/* Baseline JPEG, quality 90; caller frees. Never NULL (aborts like fk_malloc). */
unsigned char *fk_jpeg_make(int w, int h, uint64_t seed, size_t *len);
/* Keep the headers, make the middle of the entropy-coded scan undecodable. */
void fk_jpeg_corrupt(unsigned char *jpeg, size_t len);
unsigned char *fk_webp_make(int w, int h, uint64_t seed, size_t *len); /* lossless; caller frees */

#endif
