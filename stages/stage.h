/* stage: what a stage kind does with one item, and nothing else (no scheduling, no sockets):
 * turn the rendered prompt into a request body, and turn a parsed reply into the bytes of the
 * item's artifact, verified. One file per kind: json.c, text.c, image.c, speech.c. The local
 * kind video (FFmpeg, no API call) has its own interface in video.h. */
#ifndef GF_STAGE_H
#define GF_STAGE_H

#include "../runner/buf.h"
#include "../runner/gemini.h"
#include "../runner/workflow.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

/* The rendered texts of one item. */
struct stage_input {
    const char *prompt; /* json/text/image: the prompt; speech: the text to speak */
    const char *system; /* optional system instruction, NULL when none */
    const char *style;  /* speech: speechMetadata.style, NULL or "" when none */
    const cJSON *turns; /* speech dialogue: the checked array of {speaker, text, style} */
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

struct stage_ops {
    const char *name;
    int (*build)(const struct stage_def *def, const struct stage_input *in,
                 struct stage_request *out, struct gf_err *err);
    /* 0 with `out` filled, or -1 with `fail` filled. */
    int (*accept)(const struct stage_def *def, const struct gemini_reply *reply,
                  struct stage_output *out, struct stage_failure *fail);
};

/* The API operations of a kind; NULL for a local kind (see stage_is_local). */
const struct stage_ops *stage_ops_for(enum stage_kind kind);
/* A kind that runs a program here instead of calling the API (video). */
bool stage_is_local(enum stage_kind kind);
void stage_output_release(struct stage_output *out);
bool stage_fail_is_retryable(enum stage_fail_kind kind);
const char *stage_fail_kind_name(enum stage_fail_kind kind);

/* Helpers shared by the kinds (stage.c). */
/* {"contents":[{"role":"user","parts":[{"text": text}]}]} plus systemInstruction. */
cJSON *stage_body_with_prompt(const char *text, const char *system);
/* The generationConfig object of `body`, created on first use. */
cJSON *stage_generation_config(cJSON *body, const struct stage_def *def);
/* Fill `fail` for a reply that carries no usable answer because it was blocked or refused;
 * returns true when it did. */
bool stage_reply_refused(const struct gemini_reply *reply, struct stage_failure *fail);
int stage_failf(struct stage_failure *fail, enum stage_fail_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

extern const struct stage_ops stage_json_ops, stage_text_ops, stage_image_ops, stage_speech_ops;

#endif
