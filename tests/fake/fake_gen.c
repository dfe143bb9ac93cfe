/* fake_gen.c: builds the successful (HTTP 200) replies of the fake Gemini server: text, JSON
 * that follows the schema and the script, images, speech and Imagen predictions, with usage
 * metadata; content faults (safety, blocked, bad media, ...) are applied here. */
#include "fake.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Large base64 payloads are put in the tree by reference and freed after printing. */
struct keep {
    char *owned[8];
    int n;
};

static const char *keep(struct keep *k, char *p)
{
    if (k->n < 8)
        k->owned[k->n++] = p;
    return p;
}

static void reply_and_free(struct fk_reply *out, cJSON *doc, struct keep *k)
{
    fk_reply_json(out, 200, doc);
    for (int i = 0; i < k->n; i++)
        free(k->owned[i]);
    k->n = 0;
}

int fk_tokens_for_text(size_t chars)
{
    return chars ? (int)((chars + 3) / 4) : 0;
}

struct usage {
    int prompt;
    int images;
    int cand;
    int thoughts;
    const char *modality;
};

static cJSON *details(const char *modality, int n)
{
    cJSON *a = cJSON_CreateArray(), *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "modality", modality);
    cJSON_AddNumberToObject(o, "tokenCount", n);
    cJSON_AddItemToArray(a, o);
    return a;
}

static void add_usage(cJSON *doc, const struct usage *u)
{
    cJSON *o = cJSON_AddObjectToObject(doc, "usageMetadata");
    int prompt = u->prompt + 258 * u->images;
    cJSON_AddNumberToObject(o, "promptTokenCount", prompt);
    if (u->cand > 0)
        cJSON_AddNumberToObject(o, "candidatesTokenCount", u->cand);
    cJSON_AddNumberToObject(o, "totalTokenCount", prompt + u->cand + u->thoughts);
    cJSON *pd = details("TEXT", u->prompt);
    if (u->images) {
        cJSON *img = details("IMAGE", 258 * u->images);
        cJSON_AddItemToArray(pd, cJSON_DetachItemFromArray(img, 0));
        cJSON_Delete(img);
    }
    cJSON_AddItemToObject(o, "promptTokensDetails", pd);
    if (u->cand > 0)
        cJSON_AddItemToObject(o, "candidatesTokensDetails", details(u->modality, u->cand));
    if (u->thoughts > 0)
        cJSON_AddNumberToObject(o, "thoughtsTokenCount", u->thoughts);
}

/* Complete `doc` (created when NULL) with candidates, usage, model version and response id. */
static cJSON *response_fill(struct fk_ctx *c, const struct fk_model *m, cJSON *doc, cJSON *cand,
                            const struct usage *u)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    if (!doc)
        doc = cJSON_CreateObject();
    if (cand)
        cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "candidates"), cand);
    add_usage(doc, u);
    cJSON_AddStringToObject(doc, "modelVersion", m->name);
    char id[23];
    uint64_t x = fk_mix3(c->s->cfg.seed, c->req->seq, 99);
    for (int i = 0; i < 22; i++) {
        if (i % 10 == 0)
            x = fk_mix(x + (uint64_t)i);
        id[i] = al[x & 63];
        x >>= 6;
    }
    id[22] = '\0';
    cJSON_AddStringToObject(doc, "responseId", id);
    return doc;
}

static cJSON *response_new(struct fk_ctx *c, const struct fk_model *m, cJSON *cand,
                           const struct usage *u)
{
    return response_fill(c, m, NULL, cand, u);
}

static cJSON *candidate(cJSON *parts, const char *finish)
{
    cJSON *cand = cJSON_CreateObject();
    cJSON *content = cJSON_AddObjectToObject(cand, "content");
    if (parts)
        cJSON_AddItemToObject(content, "parts", parts);
    cJSON_AddStringToObject(content, "role", "model");
    cJSON_AddStringToObject(cand, "finishReason", finish);
    cJSON_AddNumberToObject(cand, "index", 0);
    return cand;
}

static void add_text_part(cJSON *parts, const char *text, bool thought)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "text", text);
    if (thought)
        cJSON_AddBoolToObject(p, "thought", 1);
    cJSON_AddItemToArray(parts, p);
}

static void add_inline_part(cJSON *parts, const char *mime, const char *b64)
{
    cJSON *p = cJSON_CreateObject(), *d = cJSON_AddObjectToObject(p, "inlineData");
    cJSON_AddStringToObject(d, "mimeType", mime);
    cJSON_AddItemToObject(d, "data", cJSON_CreateStringReference(b64));
    cJSON_AddItemToArray(parts, p);
}

static cJSON *safety_ratings(void)
{
    static const char *const cats[] = {"HARM_CATEGORY_SEXUALLY_EXPLICIT",
                                       "HARM_CATEGORY_HATE_SPEECH", "HARM_CATEGORY_HARASSMENT",
                                       "HARM_CATEGORY_DANGEROUS_CONTENT"};
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < 4; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "category", cats[i]);
        cJSON_AddStringToObject(r, "probability", i == 3 ? "HIGH" : "NEGLIGIBLE");
        if (i == 3)
            cJSON_AddBoolToObject(r, "blocked", 1);
        cJSON_AddItemToArray(a, r);
    }
    return a;
}

/* Base64 that no decoder accepts: stray symbols and a length that is not a multiple of 4. */
static char *base64_of(const unsigned char *data, size_t len, bool broken)
{
    size_t n;
    char *b = fk_base64(data, len, &n);
    if (broken) {
        for (size_t i = 7; i < n; i += 61)
            b[i] = "*!#%"[i % 4];
        if (n > 3)
            b[n - 1 - (n % 4 == 1)] = '\0';
    }
    return b;
}

static char *cut_utf8(const char *t, size_t bytes)
{
    size_t n = strlen(t);
    if (bytes >= n)
        return fk_strdup(t);
    while (bytes > 0 && ((unsigned char)t[bytes] & 0xc0) == 0x80)
        bytes--;
    return fk_strndup(t, bytes);
}

/* ---- text and JSON ---- */

static char *text_answer(const char *prompt, uint64_t h)
{
    static const char *const open[] = {"Here is a short answer", "Certainly",
                                       "Happy to help with that", "Here is what I would suggest"};
    static const char *const body[] = {
        "Start with the essentials and keep each step small enough to check.",
        "The main idea is to separate what must happen first from what can wait.",
        "A clear structure makes the result easier to read and easier to change later.",
        "Consider the audience first, then choose the simplest wording that works."};
    char *gist = fk_first_words(prompt, 12);
    char *out =
        fk_printf("%s. You asked about \"%s\".\n\n%s %s\n", open[h % 4], gist, body[(h >> 8) % 4],
                  body[(h >> 16) % 4 == (h >> 8) % 4 ? ((h >> 8) + 1) % 4 : (h >> 16) % 4]);
    free(gist);
    return out;
}

static char *thought_text(const char *prompt)
{
    char *gist = fk_first_words(prompt, 10);
    char *t = fk_printf("**Planning the response**\n\nI'm reading the request about \"%s\" and "
                        "settling on a clear structure before writing the answer.",
                        gist);
    free(gist);
    return t;
}

/* The answer text of a JSON request; logs the scene count. */
static char *json_answer(struct fk_ctx *c, const struct fk_gen *g, uint64_t h)
{
    const char *mime = g->mime ? g->mime : "";
    if (strcmp(mime, "text/x.enum") == 0) {
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(g->schema, "enum");
        int n = cJSON_GetArraySize(en);
        const cJSON *v = n ? cJSON_GetArrayItem(en, (int)(h % (uint64_t)n)) : NULL;
        return fk_strdup(cJSON_IsString(v) ? v->valuestring : "UNKNOWN");
    }
    cJSON *doc;
    int n = -1;
    if (g->schema) {
        struct fk_scenes sc;
        fk_scenes_from_prompt(g->text, &sc);
        doc = fk_schema_generate(g->schema, &sc, h, &n);
        fk_scenes_release(&sc);
        if (c->fault == FK_F_SCHEMA_BREAK)
            fk_schema_break(doc, g->schema);
    } else {
        doc = cJSON_CreateObject();
        char *t = text_answer(g->text, h);
        cJSON_AddStringToObject(doc, "response", t);
        free(t);
    }
    c->req->scenes = n;
    size_t len;
    char *text = fk_json_print(doc, &len);
    cJSON_Delete(doc);
    if (len && text[len - 1] == '\n')
        text[len - 1] = '\0';
    return text;
}

static void text_reply(struct fk_ctx *c, const struct fk_gen *g, struct fk_reply *out)
{
    uint64_t h = fk_hash(g->text, strlen(g->text), 0);
    bool json = g->schema || (g->mime && (strcmp(g->mime, "application/json") == 0 ||
                                          strcmp(g->mime, "text/x.enum") == 0));
    char *text = json ? json_answer(c, g, h) : text_answer(g->text, h);
    const char *finish = "STOP";
    size_t len = strlen(text);
    if (c->fault == FK_F_MAX_TOKENS ||
        (g->max_tokens > 0 && fk_tokens_for_text(len) > g->max_tokens)) {
        size_t keep_bytes = c->fault == FK_F_MAX_TOKENS ? len / 2 : (size_t)g->max_tokens * 4;
        if (keep_bytes > len / 2 && c->fault == FK_F_MAX_TOKENS)
            keep_bytes = len / 2;
        char *cut = cut_utf8(text, keep_bytes);
        free(text);
        text = cut;
        finish = "MAX_TOKENS";
    }
    cJSON *parts = cJSON_CreateArray();
    struct usage u = {.prompt =
                          fk_tokens_for_text(strlen(g->text) + (g->system ? strlen(g->system) : 0)),
                      .images = g->n_images,
                      .cand = fk_tokens_for_text(strlen(text)),
                      .modality = "TEXT"};
    if (g->include_thoughts) {
        char *t = thought_text(g->text);
        add_text_part(parts, t, true);
        u.thoughts = fk_tokens_for_text(strlen(t)) * 3;
        free(t);
    }
    add_text_part(parts, text, false);
    free(text);
    fk_reply_json(out, 200, response_new(c, g->model, candidate(parts, finish), &u));
}

/* ---- images ---- */

/* Whether a JPEG reply is labelled image/png like some real ones (python-genai#1824): drawn
 * from the prompt hash, so a prompt always gets the same label. */
static bool mislabelled(const struct fk_server *s, uint64_t prompt_hash)
{
    if (s->cfg.mislabel_rate < 0)
        return prompt_hash & 1;
    return fk_unit(fk_mix(prompt_hash ^ 0x6d69736cULL)) < s->cfg.mislabel_rate;
}

/* The image bytes of a reply, by fault: JPEG normally (sometimes labelled image/png), a real
 * PNG (png, bad-png, huge-image), a lossless WebP (webp) or a corrupt JPEG (bad-jpeg). Seeded
 * by the prompt and the inline inputs' bytes. Fills the format, label and size in `md` (width
 * and height in, possibly changed). */
static unsigned char *image_bytes(struct fk_ctx *c, const struct fk_gen *g, struct fk_media *md)
{
    uint64_t h = fk_hash(g->text, strlen(g->text), 0);
    if (g->inputs_hash) /* reference images: another reference, another picture */
        h = fk_mix3(h, g->inputs_hash, 0x726566);
    unsigned char *img;
    const char *mime = "image/png";
    switch (c->fault) {
    case FK_F_PNG:
    case FK_F_BAD_PNG:
        img = fk_png_make(md->width, md->height, h, &md->bytes);
        if (c->fault == FK_F_BAD_PNG)
            fk_png_corrupt(img, md->bytes);
        md->format = "png";
        break;
    case FK_F_HUGE_IMAGE:
        img = fk_png_huge(&md->bytes, &md->width);
        md->height = md->width;
        md->format = "png";
        break;
    case FK_F_WEBP:
        img = fk_webp_make(md->width, md->height, h, &md->bytes);
        md->format = "webp";
        mime = "image/webp";
        break;
    default:
        img = fk_jpeg_make(md->width, md->height, h, &md->bytes);
        if (c->fault == FK_F_BAD_JPEG)
            fk_jpeg_corrupt(img, md->bytes);
        md->format = "jpeg";
        mime = c->fault != FK_F_BAD_JPEG && mislabelled(c->s, h) ? "image/png" : "image/jpeg";
        break;
    }
    snprintf(md->mime, sizeof md->mime, "%s", mime);
    return img;
}

static void image_reply(struct fk_ctx *c, const struct fk_gen *g, struct fk_reply *out)
{
    const struct fk_model *m = g->model;
    struct keep k = {0};
    struct usage u = {.prompt = fk_tokens_for_text(strlen(g->text)),
                      .images = g->n_images,
                      .cand = 1290,
                      .modality = "IMAGE"};
    cJSON *parts = cJSON_CreateArray();
    char *gist = fk_first_words(g->text, 14);
    if (fk_model_is_gemini3_image(m)) {
        char *t = fk_printf("**Composing the image**\n\nI'm laying out a %s frame of \"%s\", "
                            "choosing the palette and the light before rendering.",
                            g->aspect ? g->aspect : "1:1", gist);
        add_text_part(parts, t, true);
        u.thoughts = fk_tokens_for_text(strlen(t)) * 3;
        free(t);
    }
    if (c->fault == FK_F_TEXT_ONLY) {
        add_text_part(parts, "I'm unable to create that image. Please try a different prompt.",
                      false);
        u.cand = 14;
        u.modality = "TEXT";
        free(gist);
        fk_reply_json(out, 200, response_new(c, m, candidate(parts, "STOP"), &u));
        return;
    }
    if (!g->image_only) {
        char *t = fk_printf("Here is an image of %s.", gist);
        add_text_part(parts, t, false);
        free(t);
    }
    free(gist);
    struct fk_media *md = &c->req->media;
    md->type = 1;
    md->width = md->height = 1024;
    fk_image_dims(m, g->aspect, g->image_size, &md->width, &md->height);
    unsigned char *img = image_bytes(c, g, md);
    add_inline_part(parts, md->mime,
                    keep(&k, base64_of(img, md->bytes, c->fault == FK_F_BAD_BASE64)));
    free(img);
    reply_and_free(out, response_new(c, m, candidate(parts, "STOP"), &u), &k);
}

/* ---- speech ---- */

static void speech_reply(struct fk_ctx *c, const struct fk_gen *g, struct fk_reply *out)
{
    const struct fk_model *m = g->model;
    struct keep k = {0};
    size_t chars = fk_utf8_chars(g->text, strlen(g->text));
    double duration = 0.4 + 0.06 * (double)chars;
    long frames = lround(duration * FK_PCM_RATE);
    uint64_t seed = fk_hash(g->voice ? g->voice : "Kore", strlen(g->voice ? g->voice : "Kore"),
                            fk_hash(g->text, strlen(g->text), 0));
    cJSON *parts = cJSON_CreateArray();
    struct usage u = {.prompt = fk_tokens_for_text(strlen(g->text)), .modality = "AUDIO"};
    if (c->fault == FK_F_TEXT_ONLY) {
        add_text_part(parts, "I'm unable to generate audio for that text.", false);
        u.cand = 11;
        u.modality = "TEXT";
        fk_reply_json(out, 200, response_new(c, m, candidate(parts, "STOP"), &u));
        return;
    }
    unsigned char *pcm = fk_pcm_make(frames, seed);
    size_t pcm_bytes = (size_t)frames * 2, len = pcm_bytes;
    unsigned char *data = pcm;
    int rate = c->fault == FK_F_WAV_1HZ ? 1 : FK_PCM_RATE; /* what the header will say */
    char mime[48];
    snprintf(mime, sizeof mime, "audio/L16;codec=pcm;rate=%d", FK_PCM_RATE);
    if (c->fault == FK_F_ODD_PCM) {
        pcm_bytes = len = pcm_bytes - 1; /* a torn last sample */
    } else if ((m->traits & FK_T_WAV) || c->fault == FK_F_WAV_1HZ) {
        data = fk_wav_wrap(pcm, pcm_bytes, rate, &len);
        snprintf(mime, sizeof mime, "audio/wav");
    }
    add_inline_part(parts, mime, keep(&k, base64_of(data, len, c->fault == FK_F_BAD_BASE64)));
    if (data != pcm)
        free(data);
    free(pcm);
    struct fk_media *md = &c->req->media;
    md->type = 2;
    snprintf(md->mime, sizeof md->mime, "%s", mime);
    md->rate = rate;
    md->frames = (long)(pcm_bytes / 2);
    md->pcm_bytes = pcm_bytes;
    md->duration_s = (double)md->frames / rate;
    u.cand = (int)ceil(25.0 * (double)md->frames / FK_PCM_RATE);
    reply_and_free(out, response_new(c, m, candidate(parts, "STOP"), &u), &k);
}

/* ---- dispatch ---- */

void fk_gen_reply(struct fk_ctx *c, const struct fk_gen *g, struct fk_reply *out)
{
    struct usage u = {.prompt = fk_tokens_for_text(strlen(g->text)), .images = g->n_images};
    switch (c->fault) {
    case FK_F_BLOCKED: { /* the prompt itself is refused: no candidates at all */
        cJSON *doc = cJSON_CreateObject();
        cJSON *fb = cJSON_AddObjectToObject(doc, "promptFeedback");
        cJSON_AddStringToObject(fb, "blockReason", "SAFETY");
        cJSON_AddItemToObject(fb, "safetyRatings", safety_ratings());
        fk_reply_json(out, 200, response_fill(c, g->model, doc, NULL, &u));
        return;
    }
    case FK_F_SAFETY: { /* a candidate stopped for safety, without content */
        cJSON *cand = cJSON_CreateObject();
        bool img = g->model->kind == FK_KIND_IMAGE && g->want_image;
        cJSON_AddStringToObject(cand, "finishReason", img ? "IMAGE_SAFETY" : "SAFETY");
        cJSON_AddNumberToObject(cand, "index", 0);
        cJSON_AddItemToObject(cand, "safetyRatings", safety_ratings());
        fk_reply_json(out, 200, response_new(c, g->model, cand, &u));
        return;
    }
    case FK_F_EMPTY_PARTS: /* content with a role and no parts */
        fk_reply_json(out, 200, response_new(c, g->model, candidate(NULL, "STOP"), &u));
        return;
    default:
        break;
    }
    if (g->want_audio)
        speech_reply(c, g, out);
    else if (g->want_image)
        image_reply(c, g, out);
    else
        text_reply(c, g, out);
}

void fk_predict_reply(struct fk_ctx *c, const struct fk_model *m, const struct fk_predict *p,
                      struct fk_reply *out)
{
    cJSON *doc = cJSON_CreateObject();
    if (c->fault == FK_F_SAFETY || c->fault == FK_F_BLOCKED || c->fault == FK_F_EMPTY_PARTS) {
        /* Filtered samples are dropped; with includeRaiReason the reason is returned. */
        if (p->rai_reason && c->fault != FK_F_EMPTY_PARTS) {
            cJSON *one = cJSON_CreateObject();
            cJSON_AddStringToObject(one, "raiFilteredReason",
                                    "Your current safety filter threshold filtered out the "
                                    "generated image. Try rephrasing the prompt.");
            cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "predictions"), one);
        }
        fk_reply_json(out, 200, doc);
        return;
    }
    struct keep k = {0};
    int w = 1024, h = 1024;
    fk_imagen_dims(p->aspect, p->scale, &w, &h);
    cJSON *preds = cJSON_AddArrayToObject(doc, "predictions");
    uint64_t seed = fk_hash(p->prompt, strlen(p->prompt), 0x1a6e);
    for (int i = 0; i < p->samples; i++) {
        size_t len;
        unsigned char *png = fk_png_make(w, h, seed + (uint64_t)i, &len);
        if (c->fault == FK_F_BAD_PNG)
            fk_png_corrupt(png, len);
        cJSON *one = cJSON_CreateObject();
        cJSON_AddItemToObject(one, "bytesBase64Encoded",
                              cJSON_CreateStringReference(
                                  keep(&k, base64_of(png, len, c->fault == FK_F_BAD_BASE64))));
        cJSON_AddStringToObject(one, "mimeType", "image/png");
        cJSON_AddItemToArray(preds, one);
        free(png);
        if (i == 0) {
            struct fk_media *md = &c->req->media;
            md->type = 1;
            md->format = "png";
            snprintf(md->mime, sizeof md->mime, "image/png");
            md->width = w;
            md->height = h;
            md->bytes = len;
        }
    }
    (void)m;
    reply_and_free(out, doc, &k);
}
