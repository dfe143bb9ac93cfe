/* fuzz_gemini: the Gemini wire parsers on arbitrary bytes: gemini_reply_parse for both verbs,
 * the helpers over a parsed reply, every stage kind's check of a reply (base64, PNG decoding,
 * PCM/WAV, JSON against the bundled analysis schema), and gemini_error_parse. */
#include "fuzz.h"
#include "buf.h"
#include "gemini.h"
#include "stage.h"

#include <string.h>
#include <strings.h>

/* Real stages, loaded as a run loads them: the bundled workflow's json, image and speech
 * stages, and a text stage and an imagen stage from a test workflow. */
static const struct stage_def *defs[8];
static size_t n_defs;
static struct workflow wf_bundled, wf_whole;

static void load(struct workflow *wf, const char *path)
{
    struct diag_list dl = DIAG_LIST_INIT;
    struct wf_load_opts opts = {0};
    FUZZ_CHECK(workflow_load_file(wf, path, &opts, &dl) == 0); /* kept for the whole process */
    diag_list_release(&dl);
}

static void init(void)
{
    static int ready;
    if (ready)
        return;
    ready = 1;
    load(&wf_bundled, GEMFLOW_SOURCE_DIR "/workflows/script-to-media.yaml");
    load(&wf_whole, GEMFLOW_SOURCE_DIR "/tests/data/workflows/good/whole.yaml");
    const struct workflow *wfs[] = {&wf_bundled, &wf_whole};
    for (size_t w = 0; w < 2; w++)
        for (size_t i = 0; i < wfs[w]->n_stages && n_defs < 8; i++) {
            const struct stage_def *d = &wfs[w]->stages[i];
            bool have = false;
            for (size_t k = 0; k < n_defs; k++)
                have |= defs[k]->kind == d->kind && strcmp(defs[k]->model, d->model) == 0;
            if (d->kind->accept && !have)
                defs[n_defs++] = d;
        }
    FUZZ_CHECK(n_defs >= 4);
}

static void check_reply(const struct gemini_reply *r, enum gemini_verb verb)
{
    for (size_t i = 0; i < r->n_parts; i++) {
        const struct gemini_part *p = &r->parts[i];
        FUZZ_CHECK(!p->data || strlen(p->data) == p->data_len);
    }
    free(gemini_reply_text(r));
    const struct gemini_part *img = gemini_reply_media(r, "image/");
    FUZZ_CHECK(!img || strncasecmp(img->mime, "image/", 6) == 0);
    (void)gemini_reply_media(r, "audio/");
    (void)gemini_finish_is_blocked(r->finish_reason);
    for (size_t k = 0; k < n_defs; k++) {
        if (verb == GEMINI_PREDICT && defs[k]->kind->media != MEDIA_IMAGE)
            continue;
        struct stage_output out;
        struct stage_failure fail;
        memset(&out, 0, sizeof out);
        memset(&fail, 0, sizeof fail);
        if (defs[k]->kind->accept(defs[k], r, &out, &fail) == 0) {
            FUZZ_CHECK(out.data.len > 0 || out.n_bytes > 0); // image: decoded in place
            stage_output_release(&out);
        } else {
            FUZZ_CHECK(fail.message[0] != '\0');
            FUZZ_CHECK(memchr(fail.message, '\0', sizeof fail.message) != NULL);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    char *body = fuzz_copy(data, size);
    const enum gemini_verb verbs[] = {GEMINI_GENERATE, GEMINI_PREDICT};
    for (size_t v = 0; v < 2; v++) {
        struct gemini_reply r;
        struct gf_err err = GF_ERR_INIT;
        if (gemini_reply_parse(body, size, verbs[v], &r, &err) == 0) {
            check_reply(&r, verbs[v]);
            gemini_reply_release(&r);
        } else {
            FUZZ_CHECK(err.msg[0] != '\0');
        }
    }
    static const int statuses[] = {400, 403, 404, 429, 500, 502, 503};
    struct gemini_error ge;
    gemini_error_parse(statuses[size % 7], body, size, &ge);
    FUZZ_CHECK(ge.message != NULL);
    FUZZ_CHECK(ge.retry_delay_ms >= -1);
    gemini_error_release(&ge);
    free(body);
    return 0;
}
