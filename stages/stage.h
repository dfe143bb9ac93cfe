/* stage: a stage kind is one module. Each kind (stages/json.c, text.c, image.c, speech.c,
 * video_kind.c, ...) fills one `struct stage_kind` and owns everything about it:
 *
 *   - its workflow keys: the names (`keys`), parsing and checking them with file:line:column
 *     diagnostics into settings of its own (`parse`, kept in stage_def.k, freed by `release`);
 *   - the templates it renders per item (`templates`, `render`);
 *   - building the request and accepting the reply (`build`, `accept`) for the executor it runs
 *     on: *call* (one HTTP request), *local* (a program here, like FFmpeg) or *operation*
 *     (create, poll, fetch: a long-running API operation);
 *   - checking an artifact on disk (`check_artifact`: `gemflow accept`, the report, and an
 *     artifact edited by hand, which is kept only when it passes);
 *   - its estimate (`estimate`: tokens, images, seconds, for `plan` and --max-cost);
 *   - what the report shows of it (`media`, `input_label`).
 *
 * The runner never asks which kind a stage is: it calls these. Adding a kind is a new file in
 * stages/ and one line in stage_kinds[] (kinds.c); docs/adding-a-stage-kind.md says how. */
#ifndef GF_STAGE_H
#define GF_STAGE_H

#include "../runner/buf.h"
#include "../runner/gemini.h"
#include "../runner/workflow.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

struct wf_loader;
struct wf_stage_info;
struct ydoc_node;
struct render_ctx;
struct job;

/* A job file sent with the request as an inline media part (`references:`, refs.h). The request
 * holds `data`, a placeholder naming the file and its SHA-256 (so the request key covers the
 * bytes, and call records stay small); the executor puts the file's base64 in its place when it
 * sends the request, after checking the bytes are still those. */
struct stage_media {
    const char *path; /* relative to the job directory */
    const char *mime; /* from the bytes: image/png, image/jpeg, image/webp */
    const char *data; /* the placeholder: "gemflow-ref:sha256:HEX:PATH" */
    size_t bytes;
};

/* The rendered texts of one item. */
struct stage_input {
    char *prompt; /* json/text/image: the prompt; speech: the text to speak (or the turns) */
    char *system; /* optional system instruction, NULL when none */
    char *style;  /* speech: speechMetadata.style, NULL or "" when none */
    cJSON *turns; /* speech dialogue: the checked array of {speaker, text, style} */
    const struct stage_media *media; /* references, in order */
    size_t n_media;
};

struct stage_request {
    enum gemini_verb verb;
    cJSON *body; /* owned by the caller after build */
};

/* Why a reply could not be used. */
enum stage_fail_kind {
    FAIL_BLOCKED,    /* promptFeedback.blockReason: not retried */
    FAIL_REFUSED,    /* finishReason SAFETY and kin: not retried */
    FAIL_NO_OUTPUT,  /* no image/audio/text where one was asked for: not retried */
    FAIL_BAD_OUTPUT, /* unusable output: corrupt media, bad JSON, schema mismatch: retried */
};

struct stage_failure {
    enum stage_fail_kind kind;
    char message[1024];        /* what went wrong, with the model's own words when it gave any */
    const char *finish_reason; /* borrowed from the reply, may be NULL */
    const char *block_reason;  /* borrowed from the reply, may be NULL */
};

/* The verified artifact of one item. */
struct stage_output {
    struct buf data; /* the bytes to write (owned), unless `bytes` is set */
    /* The bytes to write when they were decoded in place inside the parsed reply (not owned,
     * valid while the reply is): then `data` is empty. */
    const unsigned char *bytes;
    size_t n_bytes;
    /* The reply's base64 text whose decoded bytes are written as they are (a pointer into the
     * parsed reply), or NULL when they were converted (PCM made into WAV). */
    const char *verbatim_b64;
    /* The reply's base64 text that was decoded in place (set even when the accept step then
     * failed): its text is gone, so a record must take its digest from `bytes` (consumed_ok)
     * or call it invalid base64 of consumed_len characters. */
    const char *consumed_b64;
    size_t consumed_len;
    bool consumed_ok;
    /* consumed_ok: the bytes that base64 text decoded to (in place), whether they are written
     * as they are (`bytes`) or converted into `data` first. */
    const unsigned char *consumed;
    size_t n_consumed;
    cJSON *media;     /* facts for the manifest: {"type": "image/png", "width": .., ...} */
    char *model_text; /* text the model gave beside the media, NULL when none (owned) */
};

/* How an item of the kind runs. */
enum stage_exec {
    EXEC_CALL,      /* one HTTP request (call.c) */
    EXEC_LOCAL,     /* a program here, no API (local.c) */
    EXEC_OPERATION, /* create, poll, fetch: a long-running API operation (operation.c) */
};

/* What the kind's artifact is, for the report, `inspect` and files kept aside. */
enum stage_media_kind {
    MEDIA_TEXT, /* a text or JSON file */
    MEDIA_IMAGE,
    MEDIA_AUDIO,
    MEDIA_VIDEO,
};

/* What templates of other stages may read of a stage's output. */
enum stage_value {
    VALUE_NONE, /* media: nothing (a stage waits for it with needs:) */
    VALUE_TEXT, /* the file's text, {{stage}} */
    VALUE_JSON, /* the parsed JSON, {{stage.path.to.x}}, checked against its schema */
};

/* Keys every kind with an API model takes (workflow_stage.c parses them). */
#define KIND_KEYS_MODEL                                                                            \
    (1u << 0)                        /* model, temperature, top_p, top_k, timeout, retries,        \
                                        paid_retries, strict_model, service_tier */
#define KIND_KEYS_FOREACH  (1u << 1) /* foreach */
#define KIND_KEYS_THINKING (1u << 2) /* thinking (and defaults.thinking) */
#define KIND_KEYS_REFS     (1u << 3) /* references: job files sent as inline media */

/* One template of a stage, as the workflow checks see it. */
struct stage_tmpl {
    const char *key;      /* the workflow key it came from */
    const struct tmpl *t; /* NULL when not given */
    bool per_item;        /* rendered once per foreach element (or video scene) */
    bool names_file;      /* a path of a job file that another stage may write (a dependency
                             when it reads like that stage's output template) */
};

/* The token estimate of one call (for `plan` and --max-cost), before prices. */
struct stage_estimate {
    double in_tokens, out_tokens;
    int images;     /* images generated (priced per image when the model has such a price) */
    double seconds; /* seconds of video generated (priced per second) */
};

struct stage_kind {
    const char *name;
    enum stage_exec exec;
    enum stage_media_kind media;
    enum stage_value value;
    unsigned common_keys;    /* KIND_KEYS_* */
    const char *const *keys; /* its own workflow keys, NULL-terminated */
    const char *input_label; /* what the item's rendered text is: "prompt", "text" */
    bool check_on_worker;    /* accepting a reply costs milliseconds (media): on a worker */

    /* The kind's keys of stage mapping `st` (at `key` in the document) into s->k, checked;
     * every problem a diagnostic (wfl_error). Missing required keys are reported here too. */
    void (*parse)(struct wf_loader *L, struct stage_def *s, struct wf_stage_info *info,
                  const struct ydoc_node *st, const struct ydoc_node *key);
    void (*release)(void *k);
    /* Its templates, for the reference checks and dependencies; returns how many (<= max). */
    size_t (*templates)(const struct stage_def *s, struct stage_tmpl *out, size_t max);
    /* The schema of its output when value is VALUE_JSON. */
    const cJSON *(*schema)(const struct stage_def *s);
    /* Its settings other than templates, as the workflow gave them or as defaulted, under
     * their workflow key names ({"voice": "Kore", "language": null, ...}; caller deletes):
     * for `gemflow validate --json` and the tests. */
    cJSON *(*settings)(const struct stage_def *s);

    /* Render one item's texts into `in` (owned by `in`, see stage_input_release); -1 with
     * *why (caller frees) when the item cannot be asked. Its prompt is what the item shows. */
    int (*render)(const struct stage_def *def, struct render_ctx *rc, struct stage_input *in,
                  char **why);
    /* EXEC_CALL: the request body; EXEC_OPERATION: the create body. */
    int (*build)(const struct stage_def *def, const struct stage_input *in,
                 struct stage_request *out, struct gf_err *err);
    /* EXEC_CALL: the parsed reply into the artifact: 0 with `out` filled, or -1 with `fail`. */
    int (*accept)(const struct stage_def *def, const struct gemini_reply *reply,
                  struct stage_output *out, struct stage_failure *fail);
    /* Is `data` what the kind would have written? Fills the media facts (the caller deletes
     * *media, also on failure). Used for a reply's artifact, by `gemflow accept`, and on an
     * artifact edited by hand (expand.c: refused, it fails the item with err's words). NULL:
     * its artifacts are made here (local) and cannot be adopted by `gemflow accept`. */
    int (*check_artifact)(const struct stage_def *def, const void *data, size_t len, cJSON **media,
                          struct gf_err *err);
    /* The estimate of one call: `chars` of request, `text` the item's rendered text (NULL when
     * the item is not known yet). Observed usage, when the job has some, is applied by the
     * caller. NULL: costs nothing (local). */
    void (*estimate)(const struct stage_def *def, double chars, const char *text,
                     struct stage_estimate *out);
    /* The API method the model must support (models.get supportedGenerationMethods), and the
     * kind of model to suggest instead ("text", "image", "speech", "video"). */
    const char *(*method)(const struct stage_def *def);
    const char *model_kind;
    /* The model a stage of this kind calls when it names none, before defaults.model (a kind
     * whose models do nothing else: clip); NULL: defaults.model. */
    const char *default_model;

    /* The element list its one item goes over (video: scenes), NULL when it has none: the
     * loader resolves and checks it like foreach. */
    struct stage_elements *(*elements)(struct stage_def *s);
    const char *elements_key;    /* its workflow key ("scenes") */
    const char *elements_fields; /* where {{item}} is defined, for the loader's message */
    /* An output path it writes besides `output` (video: subtitles), NULL when none: checked
     * like `output` against the other outputs and the job's files. */
    const struct tmpl *(*second_output)(const struct stage_def *s);

    /* Its items, when they are not the usual one per stage or per foreach element (video:
     * one item over the scenes); NULL for the usual. */
    int (*expand)(struct job *job, size_t s, struct gf_err *err);

    /* EXEC_OPERATION only: see operation.h. */
    const struct stage_operation *op;
};

/* The registered kinds (kinds.c), NULL-terminated, and one by name (NULL when unknown). */
extern const struct stage_kind *const stage_kinds[];
const struct stage_kind *stage_kind_find(const char *name);
/* "json, text, image, speech, video" */
void stage_kind_list(struct buf *b);

/* The template a stage has under workflow key `key` (prompt, text, ...), NULL when none. */
const struct tmpl *stage_template(const struct stage_def *s, const char *key);

void stage_input_release(struct stage_input *in);
void stage_output_release(struct stage_output *out);
bool stage_fail_is_retryable(enum stage_fail_kind kind);
const char *stage_fail_kind_name(enum stage_fail_kind kind);

/* Helpers shared by the kinds (stage.c). */
/* {"contents":[{"role":"user","parts":[{"text": text}, inline media...]}]} plus
 * systemInstruction. */
cJSON *stage_body_with_prompt(const char *text, const char *system, const struct stage_media *media,
                              size_t n_media);
/* The generationConfig object of `body`, created on first use. */
cJSON *stage_generation_config(cJSON *body, const struct stage_def *def);
/* Fill `fail` for a reply that carries no usable answer because it was blocked or refused;
 * returns true when it did. */
bool stage_reply_refused(const struct gemini_reply *reply, struct stage_failure *fail);
int stage_failf(struct stage_failure *fail, enum stage_fail_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "generateContent": the method of every kind that calls generateContent. */
const char *stage_method_generate(const struct stage_def *def);
/* The common token estimate: input = chars / 4, output = input. */
void stage_estimate_text(const struct stage_def *def, double chars, const char *text,
                         struct stage_estimate *out);

#endif
