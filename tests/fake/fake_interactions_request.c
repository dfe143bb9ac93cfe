/* fake_interactions_request.c: the checks of an interactions.create body for the fake Gemini server
 * (fake_interactions.c): known fields, generation_config, response_format and the input parts,
 * answered as the Interactions API does ("invalid_request"); a valid one fills in what it asks
 * for (struct fk_ix_spec). */
#include "fake.h"
#include "fake_interactions_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *snake_to_camel(const char *snake)
{
    char *out = fk_strdup(snake);
    size_t o = 0;
    for (const char *c = snake; *c; c++)
        if (*c == '_' && c[1])
            out[o++] = (char)toupper((unsigned char)*++c);
        else
            out[o++] = *c;
    out[o] = '\0';
    return out;
}

/* Every member of `obj` must be one of `names` (snake_case, the form the SDK sends; the
 * lowerCamelCase form is taken too). */
static bool known_fields(const cJSON *obj, const char *const *names, const char *at,
                         struct fk_reply *out)
{
    for (const cJSON *m = obj ? obj->child : NULL; m; m = m->next) {
        bool ok = false;
        for (int i = 0; names[i] && !ok; i++) {
            char *camel = snake_to_camel(names[i]);
            ok = strcmp(m->string, names[i]) == 0 || strcmp(m->string, camel) == 0;
            free(camel);
        }
        if (!ok)
            return fk_ix_fail(out, "parameter_unknown",
                              at ? fk_printf("Unknown parameter '%s' at '%s'.", m->string, at)
                                 : fk_printf("Unknown parameter '%s'.", m->string));
    }
    return true;
}

/* A string member that must be one of `values`; absent is fine. */
static bool enum_value(const cJSON *obj, const char *name, const char *at,
                       const char *const *values, const char **got, struct fk_reply *out)
{
    const cJSON *v = fk_get(obj, name);
    if (!v)
        return true;
    for (int i = 0; cJSON_IsString(v) && values[i]; i++)
        if (strcmp(v->valuestring, values[i]) == 0) {
            *got = values[i];
            return true;
        }
    struct fk_buf list = FK_BUF_INIT;
    for (int i = 0; values[i]; i++)
        fk_buf_addf(&list, "%s'%s'", i ? ", " : "", values[i]);
    char *shown = cJSON_IsString(v) ? fk_strdup(v->valuestring) : cJSON_PrintUnformatted(v);
    bool r = fk_ix_invalid(
        out, fk_printf("Invalid value '%s' for '%s'. Supported values: %s", shown, at, list.buf));
    free(shown);
    fk_buf_release(&list);
    return r;
}

/* A protobuf Duration string ("6s", "4.5s") in milliseconds; -1 when not one. */
static int duration_ms(const char *s)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*s))
        return -1;
    double v = strtod(s, &end);
    if (errno || strcmp(end, "s") != 0 || v > 86400)
        return -1;
    return (int)(v * 1000 + 0.5);
}

static bool check_response_format(const cJSON *body, struct fk_ix_spec *sp, struct fk_reply *out)
{
    static const char *const fields[] = {"type",       "aspect_ratio", "delivery", "duration",
                                         "resolution", "gcs_uri",      NULL};
    static const char *const ratios[] = {"16:9", "9:16", NULL};
    static const char *const deliveries[] = {"inline", "uri", NULL};
    static const char *const resolutions[] = {"360p", "720p", "1080p", "4k", NULL};
    const cJSON *rf = fk_get(body, "responseFormat");
    if (!rf)
        return true;
    int videos = 0;
    for (const cJSON *f = cJSON_IsArray(rf) ? rf->child : rf; f;
         f = cJSON_IsArray(rf) ? f->next : NULL) {
        if (!cJSON_IsObject(f))
            return fk_ix_invalid(out, fk_strdup("Invalid value for 'response_format': expected an "
                                                "object or a list of objects."));
        const char *type = fk_get_str(f, "type");
        if (type && strcmp(type, "video") != 0)
            return fk_ix_invalid(out,
                                 fk_printf("Response format type '%s' is not supported by this "
                                           "model: it generates video.",
                                           type));
        if (!known_fields(f, fields, "response_format", out))
            return false;
        if (++videos > 1)
            return fk_ix_invalid(out, fk_strdup("Only one video response format may be given."));
        const char *ratio = "16:9", *delivery = "inline", *res = "720p";
        if (!enum_value(f, "aspectRatio", "response_format.aspect_ratio", ratios, &ratio, out) ||
            !enum_value(f, "delivery", "response_format.delivery", deliveries, &delivery, out) ||
            !enum_value(f, "resolution", "response_format.resolution", resolutions, &res, out))
            return false;
        sp->portrait = strcmp(ratio, "9:16") == 0;
        sp->uri_delivery = strcmp(delivery, "uri") == 0;
        sp->resolution = res;
        if (fk_get(f, "gcsUri"))
            return fk_ix_invalid(out, fk_strdup("gcs_uri is only supported on Vertex AI (Gemini "
                                                "Enterprise Agent Platform)."));
        const cJSON *d = fk_get(f, "duration");
        if (d) {
            int ms = cJSON_IsString(d) ? duration_ms(d->valuestring) : -1;
            if (ms < 0)
                return fk_ix_invalid(out, fk_strdup("Invalid value for 'response_format.duration': "
                                                    "expected a duration string such as \"6s\"."));
            if (ms < 3000 || ms > 10000)
                return fk_ix_invalid(out, fk_printf("Requested video duration %ds %dns %s %ds 0ns",
                                                    ms / 1000, ms % 1000 * 1000000,
                                                    ms < 3000 ? "is less than the minimum allowed"
                                                              : "exceeds the maximum allowed",
                                                    ms < 3000 ? 3 : 10));
            sp->duration_ms = ms;
        }
    }
    return true;
}

static bool check_generation_config(const cJSON *body, struct fk_ix_spec *sp, struct fk_reply *out)
{
    static const char *const fields[] = {"image_config",
                                         "max_output_tokens",
                                         "seed",
                                         "speech_config",
                                         "stop_sequences",
                                         "temperature",
                                         "thinking_level",
                                         "thinking_summaries",
                                         "tool_choice",
                                         "top_p",
                                         "transcription_config",
                                         "video_config",
                                         NULL};
    static const char *const vfields[] = {"task", "resolution", NULL};
    static const char *const tasks[] = {"text_to_video", "image_to_video", "reference_to_video",
                                        "edit",          "extend",         NULL};
    static const char *const resolutions[] = {"360p", "720p", "1080p", "4k", NULL};
    static const char *const refused[] = {"temperature", "top_p", "stop_sequences", NULL};
    const cJSON *gc = fk_get(body, "generationConfig");
    if (!gc)
        return true;
    if (!cJSON_IsObject(gc))
        return fk_ix_invalid(out, fk_strdup("Invalid value for 'generation_config': expected an "
                                            "object."));
    if (!known_fields(gc, fields, "generation_config", out))
        return false;
    for (int i = 0; refused[i]; i++) /* the Omni guide's Limitations */
        if (fk_get(gc, refused[i]))
            return fk_ix_invalid(out, fk_printf("%s is not supported by this model.", refused[i]));
    const cJSON *vc = fk_get(gc, "videoConfig");
    if (!vc)
        return true;
    if (!known_fields(vc, vfields, "generation_config.video_config", out) ||
        !enum_value(vc, "task", "generation_config.video_config.task", tasks, &sp->task, out))
        return false;
    /* the changelog of 2026-08-27 puts resolution in video_config, the guide and the SDK in
     * response_format: both are taken */
    const char *res = NULL;
    if (!enum_value(vc, "resolution", "generation_config.video_config.resolution", resolutions,
                    &res, out))
        return false;
    if (res)
        sp->resolution = res;
    if (sp->task && (strcmp(sp->task, "edit") == 0 || strcmp(sp->task, "extend") == 0))
        return fk_ix_invalid(out,
                             fk_printf("Task '%s' requires a video input (fake-gemini does not "
                                       "implement video inputs).",
                                       sp->task));
    return true;
}

static bool base64_ok(const char *s)
{
    size_t n = 0, pad = 0;
    for (; *s; s++) {
        if (*s == '=') {
            pad++;
            continue;
        }
        if (pad || !(isalnum((unsigned char)*s) || *s == '+' || *s == '/'))
            return false;
        n++;
    }
    return n > 0 && pad <= 2 && (n + pad) % 4 == 0;
}

/* The first bytes of a base64 string. */
static size_t b64_head(const char *s, unsigned char *out, size_t max)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (; *s && *s != '=' && o < max; s++) {
        const char *tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p = strchr(tbl, *s);
        if (!p)
            break;
        acc = acc << 6 | (uint32_t)(p - tbl);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return o;
}

static bool image_bytes_match(const char *mime, const char *data)
{
    unsigned char h[12] = {0};
    size_t n = b64_head(data, h, sizeof h);
    if (strcmp(mime, "image/png") == 0)
        return n >= 8 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0;
    if (strcmp(mime, "image/jpeg") == 0)
        return n >= 3 && h[0] == 0xff && h[1] == 0xd8 && h[2] == 0xff;
    if (strcmp(mime, "image/webp") == 0)
        return n >= 12 && memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "WEBP", 4) == 0;
    return n >= 12; /* heic / heif: not looked into */
}

static bool check_part(const cJSON *p, const char *at, struct fk_ix_spec *sp, uint64_t *hash,
                       struct fk_reply *out)
{
    static const char *const text_fields[] = {"type", "text", "annotations", NULL};
    static const char *const image_fields[] = {"type", "data",       "mime_type",
                                               "uri",  "resolution", NULL};
    static const char *const mimes[] = {"image/png",  "image/jpeg", "image/webp",
                                        "image/heic", "image/heif", NULL};
    const char *type = fk_get_str(p, "type");
    if (!cJSON_IsObject(p) || !type)
        return fk_ix_invalid(out, fk_printf("Required field 'type' is missing at '%s'.", at));
    if (strcmp(type, "text") == 0) {
        const char *t = fk_get_str(p, "text");
        if (!known_fields(p, text_fields, at, out))
            return false;
        if (!t)
            return fk_ix_invalid(out, fk_printf("Required field 'text' is missing at '%s'.", at));
        if (sp->text.len)
            fk_buf_addch(&sp->text, '\n');
        fk_buf_adds(&sp->text, t);
        return true;
    }
    if (strcmp(type, "image") == 0) {
        if (!known_fields(p, image_fields, at, out))
            return false;
        const char *data = fk_get_str(p, "data"), *mime = fk_get_str(p, "mimeType");
        if (fk_get(p, "uri"))
            return fk_ix_invalid(out,
                                 fk_printf("fake-gemini does not implement image inputs by uri "
                                           "(Files API uploads) at '%s': send the image as data.",
                                           at));
        if (!data)
            return fk_ix_invalid(out, fk_printf("Required field 'data' is missing at '%s'.", at));
        if (!base64_ok(data))
            return fk_ix_invalid(out, fk_printf("Invalid value at '%s.data' (TYPE_BYTES), Base64 "
                                                "decoding failed",
                                                at));
        const char *m = NULL;
        if (!mime)
            return fk_ix_invalid(out,
                                 fk_printf("Required field 'mime_type' is missing at '%s'.", at));
        char *mat = fk_printf("%s.mime_type", at);
        bool ok = enum_value(p, "mimeType", mat, mimes, &m, out);
        free(mat);
        if (!ok)
            return false;
        if (!image_bytes_match(mime, data))
            return fk_ix_invalid(out,
                                 fk_strdup("Unable to process input image. Please retry or report "
                                           "in https://developers.generativeai.google/guide/"
                                           "troubleshooting"));
        sp->images++;
        *hash = fk_hash(data, strlen(data), *hash);
        return true;
    }
    if (strcmp(type, "audio") == 0)
        return fk_ix_invalid(out,
                             fk_strdup("Uploading audio references is unsupported in the current "
                                       "version of the API."));
    if (strcmp(type, "video") == 0 || strcmp(type, "document") == 0)
        return fk_ix_invalid(out,
                             fk_printf("fake-gemini does not implement %s inputs (edit, extend, "
                                       "video references) at '%s'.",
                                       type, at));
    return fk_ix_invalid(
        out, fk_printf("The value '%s' is not supported for 'type' at '%s'.", type, at));
}

static bool check_input(const cJSON *body, struct fk_ix_spec *sp, struct fk_reply *out)
{
    const cJSON *in = fk_get(body, "input");
    uint64_t hash = 0x9e3779b97f4a7c15ULL;
    if (!in)
        return fk_ix_invalid(out, fk_strdup("Required field 'input' is missing."));
    if (cJSON_IsString(in)) {
        fk_buf_adds(&sp->text, in->valuestring);
    } else if (cJSON_IsArray(in) || cJSON_IsObject(in)) {
        int i = 0;
        for (const cJSON *c = cJSON_IsArray(in) ? in->child : in; c;
             c = cJSON_IsArray(in) ? c->next : NULL, i++) {
            const char *type = fk_get_str(c, "type");
            const cJSON *content = fk_get(c, "content");
            if (type && strcmp(type, "user_input") == 0) { /* a step that holds the content */
                int j = 0;
                for (const cJSON *p = cJSON_IsArray(content) ? content->child : NULL; p;
                     p = p->next, j++) {
                    char *at = fk_printf("input[%d].content[%d]", i, j);
                    bool ok = check_part(p, at, sp, &hash, out);
                    free(at);
                    if (!ok)
                        return false;
                }
                continue;
            }
            char *at = fk_printf("input[%d]", i);
            bool ok = check_part(c, at, sp, &hash, out);
            free(at);
            if (!ok)
                return false;
        }
    } else {
        return fk_ix_invalid(out,
                             fk_strdup("Invalid value for 'input': expected a string, a content "
                                       "object or a list."));
    }
    if (!sp->text.len && !sp->images)
        return fk_ix_invalid(out, fk_strdup("input must not be empty."));
    const char *task = sp->task;
    if (task && strcmp(task, "image_to_video") == 0 && (sp->images < 1 || sp->images > 2))
        return fk_ix_invalid(out,
                             fk_printf("Task 'image_to_video' takes one image (the first frame) "
                                       "or two (the first and the last frame); the input has %d.",
                                       sp->images));
    if (task && strcmp(task, "reference_to_video") == 0 && !sp->images)
        return fk_ix_invalid(out,
                             fk_strdup("Task 'reference_to_video' needs at least one reference "
                                       "image."));
    if (sp->images > 10)
        return fk_ix_invalid(
            out, fk_printf("At most 10 images are accepted; the input has %d.", sp->images));
    sp->variant = fk_hash(sp->text.buf, sp->text.len, hash);
    return true;
}

bool fk_ix_check_create(const cJSON *body, struct fk_ix_spec *sp, struct fk_reply *out)
{
    static const char *const fields[] = {"background",
                                         "cached_content",
                                         "continuation_token",
                                         "environment",
                                         "generation_config",
                                         "input",
                                         "labels",
                                         "model",
                                         "previous_interaction_id",
                                         "response_format",
                                         "response_mime_type",
                                         "response_modalities",
                                         "safety_settings",
                                         "service_tier",
                                         "store",
                                         "stream",
                                         "system_instruction",
                                         "tools",
                                         "webhook_config",
                                         "agent",
                                         "agent_config",
                                         NULL};
    static const char *const not_here[] = {"previous_interaction_id",
                                           "continuation_token",
                                           "cached_content",
                                           "environment",
                                           "agent",
                                           "agent_config",
                                           NULL};
    if (!known_fields(body, fields, NULL, out))
        return false;
    if (fk_get(body, "systemInstruction")) /* the Omni guide's Limitations */
        return fk_ix_invalid(out,
                             fk_strdup("System instructions are not supported by this model."));
    for (int i = 0; not_here[i]; i++)
        if (fk_get(body, not_here[i]))
            return fk_ix_invalid(out, fk_printf("fake-gemini does not implement '%s' (editing, "
                                                "extension, agents).",
                                                not_here[i]));
    const cJSON *bg = fk_get(body, "background"), *store = fk_get(body, "store");
    const cJSON *stream = fk_get(body, "stream");
    if ((bg && !cJSON_IsBool(bg)) || (store && !cJSON_IsBool(store)) ||
        (stream && !cJSON_IsBool(stream)))
        return fk_ix_invalid(out, fk_strdup("Invalid value for 'background', 'store' or 'stream': "
                                            "expected true or false."));
    if (cJSON_IsTrue(stream))
        return fk_ix_invalid(out, fk_strdup("fake-gemini does not implement streaming (stream: "
                                            "true): poll GET /v1beta/interactions/{id} instead."));
    sp->background = cJSON_IsTrue(bg);
    sp->stored = !cJSON_IsFalse(store);
    if (sp->background && !sp->stored)
        return fk_ix_invalid(out, fk_strdup("Background execution requires store to be enabled."));
    const cJSON *mods = fk_get(body, "responseModalities");
    for (const cJSON *m = cJSON_IsArray(mods) ? mods->child : NULL; m; m = m->next)
        if (!cJSON_IsString(m) || !fk_streq_ci(m->valuestring, "video"))
            return fk_ix_invalid(out,
                                 fk_strdup("The requested response modalities are not supported "
                                           "by this model: it generates video."));
    return check_generation_config(body, sp, out) && check_response_format(body, sp, out) &&
           check_input(body, sp, out);
}
