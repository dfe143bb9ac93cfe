/* fake_validate.c: checks generateContent and predict bodies the way the real API does (unknown
 * field names, missing contents, empty parts, roles, modalities per model, schemas, image
 * settings, service tier, thinking level; speech in fake_speech.c) and turns a valid body into
 * the parsed view the generators use. Accepted names: every field @google/genai 3.3.0 sends
 * (tests/data/sdk). */
#include "fake.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GCR "* GenerateContentRequest."

static const char *const top_fields[] = {"contents",
                                         "systemInstruction",
                                         "generationConfig",
                                         "safetySettings",
                                         "tools",
                                         "toolConfig",
                                         "cachedContent",
                                         "labels",
                                         "serviceTier",
                                         "store",
                                         "model",
                                         "continuationToken",
                                         NULL};
static const char *const config_fields[] = {"temperature",
                                            "topP",
                                            "topK",
                                            "candidateCount",
                                            "maxOutputTokens",
                                            "stopSequences",
                                            "responseLogprobs",
                                            "logprobs",
                                            "presencePenalty",
                                            "frequencyPenalty",
                                            "seed",
                                            "responseMimeType",
                                            "responseSchema",
                                            "responseJsonSchema",
                                            "responseModalities",
                                            "mediaResolution",
                                            "speechConfig",
                                            "audioTranscriptionConfig",
                                            "thinkingConfig",
                                            "imageConfig",
                                            "enableEnhancedCivicAnswers",
                                            NULL};
static const char *const content_fields[] = {"role", "parts", NULL};
static const char *const part_fields[] = {"text",
                                          "inlineData",
                                          "fileData",
                                          "functionCall",
                                          "functionResponse",
                                          "executableCode",
                                          "codeExecutionResult",
                                          "thought",
                                          "thoughtSignature",
                                          "videoMetadata",
                                          "partMetadata",
                                          "mediaResolution",
                                          "toolCall",
                                          "toolResponse",
                                          "audioTranscription",
                                          "mediaProcessing",
                                          "speechMetadata",
                                          NULL};
static const char *const data_fields[] = {
    "text",           "inlineData",          "fileData", "functionCall", "functionResponse",
    "executableCode", "codeExecutionResult", "toolCall", "toolResponse", NULL};
/* Enum values as the SDK sends them (serviceTier lowercase, thinkingLevel uppercase); matched
 * without regard to case, like responseModalities. */
static const char *const service_tiers[] = {"unspecified", "flex", "standard", "priority", NULL};
static const char *const thinking_levels[] = {
    "THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH", "XHIGH", NULL};
#define PROTO "type.googleapis.com/google.ai.generativelanguage.v1beta."

static const char *const thinking_fields[] = {"thinkingBudget", "includeThoughts", "thinkingLevel",
                                              NULL};
static const char *const image_fields[] = {"aspectRatio", "imageSize", NULL};
static const char *const speech_fields[] = {"voiceConfig", "multiSpeakerVoiceConfig",
                                            "languageCode", NULL};
static const char *const mimes[] = {"text/plain",       "application/json", "application/xml",
                                    "application/yaml", "text/x.enum",      NULL};

static bool name_known(const char *member, const char *const *names)
{
    for (int i = 0; names[i]; i++) {
        if (strcmp(member, names[i]) == 0)
            return true;
        char *snake = fk_camel_to_snake(names[i]);
        bool same = strcmp(member, snake) == 0;
        free(snake);
        if (same)
            return true;
    }
    return false;
}

void fk_violation(cJSON *viol, const char *field, const char *description)
{
    cJSON *v = cJSON_CreateObject();
    if (field)
        cJSON_AddStringToObject(v, "field", field);
    cJSON_AddStringToObject(v, "description", description);
    cJSON_AddItemToArray(viol, v);
}

void fk_check_fields(const cJSON *obj, const char *const *names, const char *at, cJSON *viol)
{
    if (!cJSON_IsObject(obj))
        return;
    for (const cJSON *m = obj->child; m; m = m->next) {
        if (name_known(m->string, names))
            continue;
        char *msg = at ? fk_printf("Invalid JSON payload received. Unknown name \"%s\" at '%s': "
                                   "Cannot find field.",
                                   m->string, at)
                       : fk_printf("Invalid JSON payload received. Unknown name \"%s\": Cannot "
                                   "find field.",
                                   m->string);
        fk_violation(viol, at, msg);
        free(msg);
    }
}

bool fk_violations_reply(cJSON *viol, struct fk_reply *err)
{
    if (cJSON_GetArraySize(viol) == 0) {
        cJSON_Delete(viol);
        return false;
    }
    struct fk_buf msg = FK_BUF_INIT;
    for (const cJSON *v = viol->child; v; v = v->next)
        fk_buf_addf(&msg, "%s%s", msg.len ? "\n" : "",
                    cJSON_GetObjectItemCaseSensitive(v, "description")->valuestring);
    fk_error_bad_request(err, msg.buf, viol);
    fk_buf_release(&msg);
    return true;
}

void fk_invalid_value(cJSON *viol, const char *at, const char *type, const cJSON *v)
{
    char *shown = cJSON_PrintUnformatted(v);
    char *msg = fk_printf("Invalid value at '%s' (%s), %s", at, type, shown ? shown : "null");
    fk_violation(viol, at, msg);
    free(msg);
    cJSON_free(shown);
}

/* A repeated proto field accepts a list, or a single object standing for a one-item list. */
static bool is_list_or_object(const cJSON *v)
{
    return cJSON_IsArray(v) || cJSON_IsObject(v);
}

static const cJSON *list_first(const cJSON *v)
{
    return cJSON_IsArray(v) ? v->child : v;
}

static const cJSON *list_next(const cJSON *list, const cJSON *cur)
{
    return cJSON_IsArray(list) ? cur->next : NULL;
}

/* ---- pass 1: field names and JSON types (all reported at once, like the real parser) ---- */

static void check_content(const cJSON *c, const char *at, cJSON *viol)
{
    if (!cJSON_IsObject(c)) {
        fk_invalid_value(viol, at,
                         "type.googleapis.com/google.ai.generativelanguage.v1beta.Content", c);
        return;
    }
    fk_check_fields(c, content_fields, at, viol);
    const cJSON *role = fk_get(c, "role"), *parts = fk_get(c, "parts");
    char *path = fk_printf("%s.role", at);
    if (role && !cJSON_IsString(role))
        fk_invalid_value(viol, path, "TYPE_STRING", role);
    free(path);
    if (parts && !is_list_or_object(parts))
        return;
    int j = 0;
    for (const cJSON *p = parts ? list_first(parts) : NULL; p; p = list_next(parts, p), j++) {
        char *pat = fk_printf("%s.parts[%d]", at, j);
        if (!cJSON_IsObject(p)) {
            fk_invalid_value(viol, pat,
                             "type.googleapis.com/google.ai.generativelanguage.v1beta.Part", p);
        } else {
            fk_check_fields(p, part_fields, pat, viol);
            fk_speech_meta_names(p, pat, viol);
            fk_inputs_check_names(p, pat, viol);
            const cJSON *text = fk_get(p, "text");
            char *tat = fk_printf("%s.text", pat);
            if (text && !cJSON_IsString(text))
                fk_invalid_value(viol, tat, "TYPE_STRING", text);
            free(tat);
        }
        free(pat);
    }
}

/* An enum field: a string among `values` (any case), else the parser's invalid value. */
static void check_enum(const cJSON *v, const char *const *values, const char *at, const char *type,
                       cJSON *viol)
{
    if (!v)
        return;
    for (int i = 0; cJSON_IsString(v) && values[i]; i++)
        if (fk_streq_ci(v->valuestring, values[i]))
            return;
    fk_invalid_value(viol, at, type, v);
}

static void check_names(const cJSON *body, cJSON *viol)
{
    fk_check_fields(body, top_fields, NULL, viol);
    const cJSON *contents = fk_get(body, "contents");
    int i = 0;
    if (contents && !is_list_or_object(contents))
        fk_invalid_value(viol, "contents",
                         "type.googleapis.com/google.ai.generativelanguage.v1beta.Content",
                         contents);
    if (is_list_or_object(contents))
        for (const cJSON *c = list_first(contents); c; c = list_next(contents, c), i++) {
            char *at = fk_printf("contents[%d]", i);
            check_content(c, at, viol);
            free(at);
        }
    const cJSON *sys = fk_get(body, "systemInstruction");
    if (sys)
        check_content(sys, "system_instruction", viol);
    const cJSON *gc = fk_get(body, "generationConfig");
    if (gc && !cJSON_IsObject(gc)) {
        fk_invalid_value(viol, "generation_config",
                         "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig",
                         gc);
        return;
    }
    fk_check_fields(gc, config_fields, "generation_config", viol);
    fk_check_fields(fk_get(gc, "thinkingConfig"), thinking_fields,
                    "generation_config.thinking_config", viol);
    fk_check_fields(fk_get(gc, "imageConfig"), image_fields, "generation_config.image_config",
                    viol);
    fk_check_fields(fk_get(gc, "speechConfig"), speech_fields, "generation_config.speech_config",
                    viol);
    fk_speech_check_names(gc, viol);
    check_enum(fk_get(body, "serviceTier"), service_tiers, "service_tier", PROTO "ServiceTier",
               viol);
    check_enum(fk_get(fk_get(gc, "thinkingConfig"), "thinkingLevel"), thinking_levels,
               "generation_config.thinking_config.thinking_level",
               PROTO "ThinkingConfig.ThinkingLevel", viol);
    const cJSON *mods = fk_get(gc, "responseModalities");
    int k = 0;
    for (const cJSON *m = mods ? list_first(mods) : NULL; m; m = list_next(mods, m), k++) {
        if (cJSON_IsString(m) &&
            (fk_streq_ci(m->valuestring, "TEXT") || fk_streq_ci(m->valuestring, "IMAGE") ||
             fk_streq_ci(m->valuestring, "AUDIO")))
            continue;
        char *at = fk_printf("generation_config.response_modalities[%d]", k);
        fk_invalid_value(viol, at,
                         "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig."
                         "Modality",
                         m);
        free(at);
    }
}

/* ---- pass 2: meaning; the first failure is reported ---- */

bool fk_fail(struct fk_reply *err, char *msg)
{
    fk_error_invalid(err, msg);
    free(msg);
    return false;
}

static bool part_has_data(const cJSON *p)
{
    for (int i = 0; data_fields[i]; i++)
        if (fk_get(p, data_fields[i]))
            return true;
    return false;
}

static bool check_contents(const struct fk_model *m, const cJSON *body, bool strict,
                           struct fk_gen *g, struct fk_reply *err)
{
    const cJSON *contents = fk_get(body, "contents");
    if (!contents || (cJSON_IsArray(contents) && !contents->child))
        return fk_fail(err, fk_strdup(GCR "contents: contents is not specified\n"));
    struct fk_buf text = FK_BUF_INIT;
    int i = 0;
    for (const cJSON *c = list_first(contents); c; c = list_next(contents, c), i++) {
        const char *role = fk_get_str(c, "role");
        if (role && strcmp(role, "user") != 0 && strcmp(role, "model") != 0) {
            fk_buf_release(&text);
            return fk_fail(err, fk_strdup("Please use a valid role: user, model."));
        }
        const cJSON *parts = fk_get(c, "parts");
        if (!parts || (cJSON_IsArray(parts) && !parts->child)) {
            fk_buf_release(&text);
            return fk_fail(err, fk_printf(GCR "contents[%d].parts: contents.parts must not be "
                                              "empty.\n",
                                          i));
        }
        int j = 0;
        for (const cJSON *p = list_first(parts); p; p = list_next(parts, p), j++) {
            const cJSON *inl = fk_get(p, "inlineData");
            const char *data = fk_get_str(inl, "data");
            if (!part_has_data(p) || (inl && !data)) {
                fk_buf_release(&text);
                return fk_fail(err,
                               fk_printf(GCR "contents[%d].parts[%d].data: required oneof field "
                                             "'data' must have one initialized field\n",
                                         i, j));
            }
            if (!fk_inputs_check_part(m, p, i, j, strict, g, err)) {
                fk_buf_release(&text);
                return false;
            }
            const char *t = fk_get_str(p, "text");
            if (t && !cJSON_IsTrue(fk_get(p, "thought")))
                fk_buf_addf(&text, "%s%s", text.len ? "\n" : "", t);
        }
    }
    g->text = fk_buf_detach(&text, NULL);
    if (!fk_inputs_check_count(m, g, err))
        return false;
    const cJSON *sys = fk_get(body, "systemInstruction");
    const cJSON *sparts = fk_get(sys, "parts");
    struct fk_buf st = FK_BUF_INIT;
    for (const cJSON *p = sparts ? list_first(sparts) : NULL; p; p = list_next(sparts, p)) {
        const char *t = fk_get_str(p, "text");
        if (t)
            fk_buf_addf(&st, "%s%s", st.len ? "\n" : "", t);
    }
    g->system = sys ? fk_buf_detach(&st, NULL) : NULL;
    fk_buf_release(&st);
    return true;
}

static char *modality_list(const cJSON *mods)
{
    struct fk_buf b = FK_BUF_INIT;
    for (const cJSON *m = mods ? list_first(mods) : NULL; m; m = list_next(mods, m)) {
        char *up = fk_strdup(m->valuestring);
        for (char *p = up; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        fk_buf_addf(&b, "%s%s", b.len ? ", " : "", up);
        free(up);
    }
    if (!b.len)
        fk_buf_adds(&b, "TEXT");
    return fk_buf_detach(&b, NULL);
}

static bool check_modalities(const struct fk_model *m, const cJSON *gc, struct fk_gen *g,
                             struct fk_reply *err)
{
    const cJSON *mods = fk_get(gc, "responseModalities");
    int n = 0;
    for (const cJSON *x = mods ? list_first(mods) : NULL; x; x = list_next(mods, x), n++) {
        g->want_text |= fk_streq_ci(x->valuestring, "TEXT");
        g->want_image |= fk_streq_ci(x->valuestring, "IMAGE");
        g->want_audio |= fk_streq_ci(x->valuestring, "AUDIO");
    }
    if (n == 0) {
        g->want_text = true;
        g->want_image = m->kind == FK_KIND_IMAGE;
    }
    g->image_only = g->want_image && !g->want_text && !g->want_audio;
    const char *accepts = NULL;
    if (m->kind == FK_KIND_SPEECH && (!g->want_audio || g->want_text || g->want_image))
        accepts = "* AUDIO\n";
    else if (m->kind == FK_KIND_IMAGE && g->want_audio)
        accepts = "* TEXT\n* IMAGE\n* TEXT, IMAGE\n";
    else if (m->kind == FK_KIND_TEXT && (g->want_audio || g->want_image))
        accepts = "* TEXT\n";
    if (!accepts)
        return true;
    char *asked = modality_list(mods);
    char *msg = fk_printf("The requested combination of response modalities (%s) is not supported "
                          "by the model. models/%s accepts the following combination of response "
                          "modalities:\n%s",
                          asked, m->name, accepts);
    free(asked);
    return fk_fail(err, msg);
}

/* thinkingLevel: TTS models refuse any thinking config (fake_speech.c); 3.7/3.8 Flash refuse
 * MINIMAL, and no Flash model takes XHIGH (pi#9455 quotes the real message for 3.8 MINIMAL). */
static bool check_thinking(const struct fk_model *m, const cJSON *body, const cJSON *gc,
                           struct fk_gen *g, struct fk_reply *err)
{
    g->service_tier = fk_get_str(body, "serviceTier");
    g->thinking_level = fk_get_str(fk_get(gc, "thinkingConfig"), "thinkingLevel");
    const char *lv = g->thinking_level;
    if (!lv || m->kind != FK_KIND_TEXT)
        return true;
    bool refused =
        fk_streq_ci(lv, "XHIGH") || (fk_streq_ci(lv, "MINIMAL") && (m->traits & FK_T_NO_MINIMAL));
    if (!refused)
        return true;
    char *up = fk_strdup(lv);
    for (char *p = up; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    char *msg = fk_printf("Thinking level %s is not supported for this model. Please retry with "
                          "other thinking level.",
                          up);
    free(up);
    return fk_fail(err, msg);
}

static bool check_output(const struct fk_model *m, const cJSON *gc, struct fk_gen *g,
                         struct fk_reply *err)
{
    g->mime = fk_get_str(gc, "responseMimeType");
    bool mime_ok = !g->mime;
    for (int i = 0; !mime_ok && mimes[i]; i++)
        mime_ok = strcmp(g->mime, mimes[i]) == 0;
    if (!mime_ok)
        return fk_fail(err,
                       fk_strdup(GCR "generation_config.response_mime_type: allowed mimetypes "
                                     "are `text/plain`, `application/json`, `application/xml`, "
                                     "`application/yaml` and `text/x.enum`.\n"));
    const cJSON *rs = fk_get(gc, "responseSchema"), *rjs = fk_get(gc, "responseJsonSchema");
    if (rs && rjs)
        return fk_fail(err, fk_strdup(GCR "generation_config.response_json_schema: "
                                          "response_json_schema and response_schema cannot both be "
                                          "set.\n"));
    g->schema = rs ? rs : rjs;
    bool json = g->mime && strcmp(g->mime, "application/json") == 0;
    bool enum_ok = rs && g->mime && strcmp(g->mime, "text/x.enum") == 0;
    if (g->schema && !json && !enum_ok)
        return fk_fail(err, fk_printf(GCR "generation_config.%s: response_mime_type must be "
                                          "application/json when %s is set.\n",
                                      rs ? "response_schema" : "response_json_schema",
                                      rs ? "response_schema" : "response_json_schema"));
    const cJSON *ic = fk_get(gc, "imageConfig");
    g->aspect = fk_get_str(ic, "aspectRatio");
    g->image_size = fk_get_str(ic, "imageSize");
    if (m->kind != FK_KIND_IMAGE)
        return true;
    int w, h;
    if (g->aspect && fk_image_dims(m, g->aspect, NULL, &w, &h) < 0)
        return fk_fail(err,
                       fk_printf(GCR "generation_config.image_config.aspect_ratio: aspect_ratio "
                                     "must be one of %s.\n",
                                 fk_image_ratios(m)));
    bool s512 = (m->traits & FK_T_IMG_512) && g->image_size && strcmp(g->image_size, "512") == 0;
    if (g->image_size && !s512 && strcmp(g->image_size, "1K") != 0 &&
        strcmp(g->image_size, "2K") != 0 && strcmp(g->image_size, "4K") != 0)
        return fk_fail(err, fk_printf(GCR "generation_config.image_config.image_size: image_size "
                                          "must be one of %s'1K', '2K', or '4K'.\n",
                                      m->traits & FK_T_IMG_512 ? "'512', " : ""));
    return true;
}

int fk_validate_generate(const struct fk_model *m, const cJSON *body, bool strict, struct fk_gen *g,
                         struct fk_reply *err)
{
    memset(g, 0, sizeof *g);
    g->model = m;
    g->body = body;
    g->max_tokens = -1;
    cJSON *viol = cJSON_CreateArray();
    check_names(body, viol);
    if (fk_violations_reply(viol, err))
        return -1;
    const cJSON *gc = fk_get(body, "generationConfig");
    if (!check_contents(m, body, strict, g, err) || !check_modalities(m, gc, g, err) ||
        !fk_speech_check(m, body, gc, g, err) || !check_thinking(m, body, gc, g, err) ||
        !check_output(m, gc, g, err)) {
        return -1; /* the caller releases g (its inputs go to the log first) */
    }
    g->include_thoughts = cJSON_IsTrue(fk_get(fk_get(gc, "thinkingConfig"), "includeThoughts"));
    const cJSON *mt = fk_get(gc, "maxOutputTokens");
    if (cJSON_IsNumber(mt) && mt->valuedouble > 0)
        g->max_tokens = (long)mt->valuedouble;
    else if (cJSON_IsString(mt) && atol(mt->valuestring) > 0)
        g->max_tokens = atol(mt->valuestring);
    return 0;
}

void fk_gen_release(struct fk_gen *g)
{
    free(g->text);
    free(g->system);
    cJSON_Delete(g->speech);
    cJSON_Delete(g->inputs);
    g->text = g->system = NULL;
    g->speech = g->inputs = NULL;
}

/* ---- predict (Imagen) ---- */

static const char *const predict_fields[] = {"instances", "parameters", NULL};

int fk_validate_predict(const struct fk_model *m, const cJSON *body, struct fk_predict *p,
                        struct fk_reply *err)
{
    memset(p, 0, sizeof *p);
    cJSON *viol = cJSON_CreateArray();
    fk_check_fields(body, predict_fields, NULL, viol);
    if (fk_violations_reply(viol, err))
        return -1;
    const cJSON *inst = cJSON_GetObjectItemCaseSensitive(body, "instances");
    p->prompt = fk_get_str(cJSON_IsArray(inst) ? inst->child : NULL, "prompt");
    if (!p->prompt || !*p->prompt) {
        fk_error_invalid(err, "instances[0].prompt is required: the Imagen model needs a text "
                              "prompt to generate images from.");
        return -1;
    }
    const cJSON *par = cJSON_GetObjectItemCaseSensitive(body, "parameters");
    const cJSON *sc = fk_get(par, "sampleCount");
    p->samples = 4;
    if (sc) {
        if (!cJSON_IsNumber(sc) || sc->valuedouble < 1 || sc->valuedouble > 4 ||
            sc->valuedouble != (int)sc->valuedouble) {
            fk_error_invalid(err, "Number of images to generate (sampleCount) must be an integer "
                                  "between 1 and 4.");
            return -1;
        }
        p->samples = (int)sc->valuedouble;
    }
    p->aspect = fk_get_str(par, "aspectRatio");
    int w, h;
    if (p->aspect && fk_imagen_dims(p->aspect, 1, &w, &h) < 0) {
        char *msg = fk_printf("Unsupported aspect ratio '%s'. Supported aspect ratios are 1:1, "
                              "3:4, 4:3, 9:16 and 16:9.",
                              p->aspect);
        fk_error_invalid(err, msg);
        free(msg);
        return -1;
    }
    const char *size = fk_get_str(par, "sampleImageSize");
    p->scale = 1;
    if (size && (strcmp(size, "2K") == 0 && !strstr(m->name, "fast")))
        p->scale = 2;
    else if (size && strcmp(size, "1K") != 0) {
        fk_error_invalid(err, "Unsupported sampleImageSize: use 1K, or 2K on the standard and "
                              "ultra models.");
        return -1;
    }
    p->rai_reason = cJSON_IsTrue(fk_get(par, "includeRaiReason"));
    return 0;
}
