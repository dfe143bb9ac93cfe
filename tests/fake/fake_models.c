/* fake_models.c: the model catalog of the fake Gemini server as of 2026-12-04 (served, rerouted
 * and shut-down models with their traits; sources in README.md), the --model/--retire/--reroute
 * edits, and the models.get / models.list answers. */
#include "fake.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"text", "image", "speech", "imagen", "video"};

int fk_kind_parse(const char *s)
{
    for (int i = 0; i < 5; i++)
        if (fk_streq_ci(s, kind_names[i]))
            return i;
    return fk_streq_ci(s, "tts") ? FK_KIND_SPEECH : -1;
}

enum { SERVED, RETIRED };

/* Today's table (gemini-api.md's top table, checked 2026-12-04; README.md gives the sources). */
static const struct {
    const char *name;
    enum fk_kind kind;
    unsigned traits;
    int state;
    const char *reroute;
} defaults[] = {
    {"gemini-3.8-flash", FK_KIND_TEXT, FK_T_NO_MINIMAL, SERVED, NULL},
    {"gemini-3.6-flash", FK_KIND_TEXT, 0, SERVED, NULL},
    {"gemini-3.5-flash-lite", FK_KIND_TEXT, 0, SERVED, NULL},
    {"gemini-3.1-flash-lite", FK_KIND_TEXT, 0, SERVED, NULL},
    {"gemini-nano-banana-2.1", FK_KIND_IMAGE, FK_T_IMG_EXT, SERVED, NULL},
    {"gemini-3.1-flash-image", FK_KIND_IMAGE, FK_T_IMG_EXT | FK_T_IMG_512, SERVED, NULL},
    {"gemini-3-pro-image", FK_KIND_IMAGE, 0, SERVED, NULL},
    {"gemini-3.1-flash-lite-image", FK_KIND_IMAGE, 0, SERVED, NULL},
    {"gemini-3.8-flash-tts", FK_KIND_SPEECH, FK_T_WAV | FK_T_SPEECH_META, SERVED, NULL},
    {"gemini-3.8-flash-lite-tts", FK_KIND_SPEECH, FK_T_WAV | FK_T_SPEECH_META, SERVED, NULL},
    {"gemini-3.1-flash-tts-preview", FK_KIND_SPEECH, 0, SERVED, NULL},
    {"gemini-2.5-flash-preview-tts", FK_KIND_SPEECH, 0, SERVED, NULL},
    /* video, through the Interactions API only (GA 2026-08-27) */
    {"gemini-omni-1.1-flash", FK_KIND_VIDEO, 0, SERVED, NULL},
    /* retired 2026-10-08 but still accepted: answered by the newer model */
    {"gemini-3.5-flash", FK_KIND_TEXT, 0, SERVED, "gemini-3.6-flash"},
    {"gemini-3.7-flash", FK_KIND_TEXT, FK_T_NO_MINIMAL, SERVED, "gemini-3.8-flash"},
    /* shut down: 404 everywhere */
    {"gemini-3.1-flash-image-preview", FK_KIND_IMAGE, FK_T_IMG_EXT | FK_T_IMG_512, RETIRED, NULL},
    {"gemini-3-pro-image-preview", FK_KIND_IMAGE, 0, RETIRED, NULL},
    {"gemini-2.5-flash-image", FK_KIND_IMAGE, FK_T_IMG_25, RETIRED, NULL},
    {"gemini-2.5-flash", FK_KIND_TEXT, 0, RETIRED, NULL},
    {"gemini-3-pro-preview", FK_KIND_TEXT, 0, RETIRED, NULL},
    {"imagen-4.0-generate-001", FK_KIND_IMAGEN, 0, RETIRED, NULL},
    {"imagen-4.0-fast-generate-001", FK_KIND_IMAGEN, 0, RETIRED, NULL},
    {"imagen-4.0-ultra-generate-001", FK_KIND_IMAGEN, 0, RETIRED, NULL},
    {"gemini-omni-flash-preview", FK_KIND_VIDEO, 0, RETIRED, NULL}, /* shut down 2026-09-30 */
};

/* Traits of a model added with --model, guessed from its name like the real family names. */
static unsigned guess_traits(const char *name, enum fk_kind kind)
{
    switch (kind) {
    case FK_KIND_IMAGE:
        if (strstr(name, "2.5"))
            return FK_T_IMG_25;
        if (strstr(name, "nano-banana"))
            return FK_T_IMG_EXT;
        if (strstr(name, "3.1-flash-image"))
            return FK_T_IMG_EXT | FK_T_IMG_512;
        return strstr(name, "3.1") ? FK_T_IMG_EXT : 0;
    case FK_KIND_SPEECH:
        return strstr(name, "3.8") ? FK_T_WAV | FK_T_SPEECH_META : 0;
    case FK_KIND_TEXT:
        return (strstr(name, "3.7-flash") || strstr(name, "3.8-flash")) && !strstr(name, "lite")
                   ? FK_T_NO_MINIMAL
                   : 0;
    default:
        return 0;
    }
}

static struct fk_model *find(struct fk_server *s, const char *name)
{
    for (size_t i = 0; i < s->n_models; i++)
        if (strcmp(s->models[i].name, name) == 0)
            return &s->models[i];
    return NULL;
}

const struct fk_model *fk_model_find(const struct fk_server *s, const char *name)
{
    return find((struct fk_server *)s, name);
}

static struct fk_model *add(struct fk_server *s, const char *name, enum fk_kind kind,
                            unsigned traits)
{
    s->models = fk_realloc(s->models, (s->n_models + 1) * sizeof *s->models);
    struct fk_model *m = &s->models[s->n_models++];
    memset(m, 0, sizeof *m);
    m->name = fk_strdup(name);
    m->kind = kind;
    m->traits = traits;
    return m;
}

static void set_reroute(struct fk_model *m, const char *to)
{
    free(m->reroute);
    m->reroute = to ? fk_strdup(to) : NULL;
}

void fk_models_defaults(struct fk_server *s)
{
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        struct fk_model *m = add(s, defaults[i].name, defaults[i].kind, defaults[i].traits);
        m->retired = defaults[i].state == RETIRED;
        set_reroute(m, defaults[i].reroute);
    }
}

void fk_models_add(struct fk_server *s, const char *name, enum fk_kind kind)
{
    struct fk_model *m = find(s, name);
    if (!m) {
        add(s, name, kind, guess_traits(name, kind));
        return;
    }
    if (m->kind != kind)
        m->traits = guess_traits(name, kind);
    m->kind = kind;
    m->retired = false;
    set_reroute(m, NULL);
}

void fk_models_retire(struct fk_server *s, const char *name)
{
    struct fk_model *m = find(s, name);
    if (!m)
        m = add(s, name, FK_KIND_TEXT, 0);
    m->retired = true;
    set_reroute(m, NULL);
}

void fk_models_reroute(struct fk_server *s, const char *from, const char *to)
{
    struct fk_model *m = find(s, from);
    if (!m)
        m = add(s, from, FK_KIND_TEXT, 0);
    m->retired = false;
    set_reroute(m, to);
}

int fk_models_finish(struct fk_server *s, char *err, size_t errlen)
{
    for (size_t i = 0; i < s->n_models; i++) {
        struct fk_model *m = &s->models[i];
        m->served_by = NULL;
        if (!m->reroute)
            continue;
        const struct fk_model *to = find(s, m->reroute);
        if (!to || to->retired || to->reroute || to == m) {
            snprintf(err, errlen, "cannot reroute '%s' to '%s': not a served model", m->name,
                     m->reroute);
            return -1;
        }
        m->served_by = to;
        m->kind = to->kind; /* answered by that model: its kind and traits apply */
    }
    return 0;
}

void fk_models_release(struct fk_server *s)
{
    for (size_t i = 0; i < s->n_models; i++) {
        free(s->models[i].name);
        free(s->models[i].reroute);
    }
    free(s->models);
    s->models = NULL;
    s->n_models = 0;
}

/* ---- models.get / models.list ---- */

/* The version of gemini-3.8-flash is "3.8", of gemini-nano-banana-2.1 "2.1": the first
 * dash-separated token that starts with a digit. */
static char *version_of(const struct fk_model *m)
{
    for (const char *p = m->name; *p; p = strchr(p, '-') ? strchr(p, '-') + 1 : "")
        if (isdigit((unsigned char)*p))
            return fk_strndup(p, strcspn(p, "-"));
    return fk_strdup("001");
}

cJSON *fk_model_json(const struct fk_model *m)
{
    static const int limits[5][2] = {
        {1048576, 65536}, {65536, 32768}, {8192, 16384}, {480, 8192}, {131072, 57920}};
    cJSON *o = cJSON_CreateObject();
    char *name = fk_printf("models/%s", m->name);
    cJSON_AddStringToObject(o, "name", name);
    free(name);
    char *version = m->kind == FK_KIND_IMAGEN ? fk_strdup("001") : version_of(m);
    cJSON_AddStringToObject(o, "version", version);
    free(version);
    struct fk_buf disp = FK_BUF_INIT;
    for (const char *p = m->name; *p; p++) /* gemini-3.8-flash -> Gemini 3.8 Flash */
        fk_buf_addch(&disp, *p == '-'                        ? ' '
                            : (p == m->name || p[-1] == '-') ? (char)toupper((unsigned char)*p)
                                                             : *p);
    cJSON_AddStringToObject(o, "displayName", disp.buf);
    fk_buf_release(&disp);
    char *desc = m->served_by
                     ? fk_printf("Retired; requests are served by %s. A model of fake-gemini, a "
                                 "local test double of the Gemini API.",
                                 m->served_by->name)
                     : fk_strdup("A model served by fake-gemini, a local test double of the Gemini "
                                 "API.");
    cJSON_AddStringToObject(o, "description", desc);
    free(desc);
    cJSON_AddNumberToObject(o, "inputTokenLimit", limits[m->kind][0]);
    cJSON_AddNumberToObject(o, "outputTokenLimit", limits[m->kind][1]);
    cJSON *meth = cJSON_AddArrayToObject(o, "supportedGenerationMethods");
    if (m->kind == FK_KIND_IMAGEN) {
        cJSON_AddItemToArray(meth, cJSON_CreateString("predict"));
        return o;
    }
    const char *list[] = {"generateContent", "countTokens", "streamGenerateContent"};
    /* Omni advertises generateContent and countTokens but serves only the Interactions API
     * (TanStack/ai#871, checked against the live API 2026-07-01) */
    for (int i = 0; i < (m->kind == FK_KIND_VIDEO ? 2 : 3); i++)
        cJSON_AddItemToArray(meth, cJSON_CreateString(list[i]));
    if (m->kind == FK_KIND_VIDEO)
        return o;
    cJSON_AddNumberToObject(o, "temperature", 1);
    cJSON_AddNumberToObject(o, "topP", 0.95);
    cJSON_AddNumberToObject(o, "topK", 64);
    cJSON_AddNumberToObject(o, "maxTemperature", 2);
    if (m->kind == FK_KIND_TEXT)
        cJSON_AddBoolToObject(o, "thinking", 1);
    return o;
}

static bool listed(const struct fk_model *m)
{
    return !m->retired && !m->reroute;
}

/* Paged like the real API: pageSize (default 50, at most --page-size-max), and an opaque
 * nextPageToken while more models follow. Only served models are listed. */
void fk_models_list(struct fk_server *s, const struct fk_request *req, struct fk_reply *out)
{
    size_t max = (size_t)s->cfg.page_size_max;
    size_t size = req->page_size > 0 ? (size_t)req->page_size : 50;
    size = size > max ? max : size;
    size_t from = 0;
    const char *tok = req->page_token;
    if (tok && *tok) {
        char *end = NULL;
        bool ok = strncmp(tok, "fk-", 3) == 0 && isdigit((unsigned char)tok[3]);
        from = ok ? strtoul(tok + 3, &end, 10) : 0;
        if (!ok || *end || from > s->n_models) {
            fk_error_invalid(out, "Invalid page token.");
            return;
        }
    }
    cJSON *doc = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(doc, "models");
    size_t i = from, n = 0;
    for (; i < s->n_models && n < size; i++)
        if (listed(&s->models[i])) {
            cJSON_AddItemToArray(arr, fk_model_json(&s->models[i]));
            n++;
        }
    while (i < s->n_models && !listed(&s->models[i]))
        i++;
    if (i < s->n_models) {
        char next[32];
        snprintf(next, sizeof next, "fk-%zu", i);
        cJSON_AddStringToObject(doc, "nextPageToken", next);
    }
    fk_reply_json(out, 200, doc);
}
