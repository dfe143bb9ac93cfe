/* workflow_stage: one stage's keys: kind, which keys apply to it, templates (inline or prompt
 * files), schemas (files or inline), foreach, needs and the per-kind settings (the video kind's
 * own settings are in workflow_video.c). */
#include "models.h"
#include "schema.h"
#include "../stages/imgcodec.h"
#include "util.h"
#include "workflow_int.h"

#include <errno.h>
#include <string.h>

const char *const wfl_stage_keys[] = {
    "kind",     "model",      "prompt",       "system",       "text",           "schema",
    "output",   "foreach",    "needs",        "voice",        "aspect_ratio",   "image_size",
    "language", "style",      "speakers",     "turns",        "temperature",    "top_p",
    "top_k",    "thinking",   "service_tier", "strict_model", "paid_retries",   "timeout",
    "retries",  "scenes",     "image",        "audio",        "caption",        "subtitles",
    "fps",      "resolution", "motion",       "transition",   "burn_subtitles", "crf",
    "preset",   "clip",       "clip_sound",
};
const size_t wfl_n_stage_keys = ARRAY_SIZE(wfl_stage_keys);

#define K_JSON   (1u << STAGE_JSON)
#define K_TEXT   (1u << STAGE_TEXT)
#define K_IMAGE  (1u << STAGE_IMAGE)
#define K_SPEECH (1u << STAGE_SPEECH)
#define K_VIDEO  (1u << STAGE_VIDEO)
#define K_API    (K_JSON | K_TEXT | K_IMAGE | K_SPEECH)
#define K_ALL    (K_API | K_VIDEO)

/* The kinds a key applies to; keys not listed apply to every kind. */
static const struct {
    const char *key;
    unsigned kinds;
} applies[] = {
    {"prompt", K_JSON | K_TEXT | K_IMAGE},
    {"system", K_JSON | K_TEXT},
    {"text", K_SPEECH},
    {"schema", K_JSON},
    {"aspect_ratio", K_IMAGE},
    {"image_size", K_IMAGE},
    {"voice", K_SPEECH},
    {"language", K_SPEECH},
    {"style", K_SPEECH},
    {"speakers", K_SPEECH},
    {"turns", K_SPEECH},
    {"thinking", K_JSON | K_TEXT},
    {"model", K_API},
    {"temperature", K_API},
    {"top_p", K_API},
    {"top_k", K_API},
    {"service_tier", K_API},
    {"strict_model", K_API},
    {"paid_retries", K_API},
    {"timeout", K_API},
    {"retries", K_API},
    {"foreach", K_API},
    {"scenes", K_VIDEO},
    {"image", K_VIDEO},
    {"audio", K_VIDEO},
    {"caption", K_VIDEO},
    {"subtitles", K_VIDEO},
    {"fps", K_VIDEO},
    {"resolution", K_VIDEO},
    {"motion", K_VIDEO},
    {"transition", K_VIDEO},
    {"burn_subtitles", K_VIDEO},
    {"crf", K_VIDEO},
    {"preset", K_VIDEO},
    {"clip", K_VIDEO},
    {"clip_sound", K_VIDEO},
};

static const char *const kinds[] = {"json", "text", "image", "speech", "video"};
static const char *const aspect_ratios[] = {"1:1",  "2:3",  "3:2",  "3:4", "4:3", "4:5", "5:4",
                                            "9:16", "16:9", "21:9", "1:4", "4:1", "1:8", "8:1"};
static const char *const image_sizes[] = {"1K", "2K", "4K"};
static const char *const workflow_words[] = {"defaults", "limits", "inputs", "endpoint", "name",
                                             "version",  "use",    "set",    "stages"};

static unsigned kinds_of(const char *key)
{
    for (size_t i = 0; i < ARRAY_SIZE(applies); i++)
        if (strcmp(applies[i].key, key) == 0)
            return applies[i].kinds;
    return K_ALL;
}

static bool one_of(const char *s, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, words[i]) == 0)
            return true;
    return false;
}

static void check_name(struct wf_loader *L, const struct ydoc_node *k)
{
    const char *name = k->str;
    if (!wfl_is_name(name, true))
        wfl_error(L, k,
                  "bad stage name '%s' (use lowercase letters, digits, '_' and '-', starting with "
                  "a letter)",
                  name);
    else if (!strcmp(name, "item") || !strcmp(name, "item_index"))
        wfl_error(L, k, "stage name '%s' is reserved (it names the foreach element)", name);
    else if (one_of(name, workflow_words, ARRAY_SIZE(workflow_words)))
        wfl_error(L, k, "stage name '%s' is reserved (set paths like '%s.x' would be ambiguous)",
                  name, name);
    for (size_t i = 0; i < L->wf->n_inputs; i++)
        if (strcmp(L->wf->inputs[i].name, name) == 0)
            wfl_error(L, k,
                      "stage '%s' has the same name as an input (templates could not tell "
                      "them apart)",
                      name);
}

static bool is_prompt_file(const char *s)
{
    return !strchr(s, '\n') &&
           (str_ends_with(s, ".md") || str_ends_with(s, ".txt") || str_ends_with(s, ".prompt"));
}

/* Compile the template of `key`: inline text, or (may_be_file) a prompt file next to the file
 * that holds the value. NULL after diagnostics. */
struct tmpl *wfl_template_field(struct wf_loader *L, const struct ydoc_node *n, const char *key,
                                bool may_be_file)
{
    const char *s = wfl_string(L, n, key);
    struct tmpl *t = NULL;
    if (!s)
        return NULL;
    if (!*s) {
        wfl_error(L, n, "'%s' is empty", key);
        return NULL;
    }
    if (!may_be_file || !is_prompt_file(s)) {
        bool block = n->style == YDOC_LITERAL || n->style == YDOC_FOLDED;
        struct tmpl_origin o = {n->file, n->line, n->col, block ? n->block_indent : 0,
                                n->style == YDOC_SINGLE_QUOTED || n->style == YDOC_DOUBLE_QUOTED};
        if (tmpl_compile(s, &o, &t, L->dl) == 0 && n->n_marks == tmpl_ref_count(t))
            for (size_t i = 0; i < n->n_marks; i++) /* folded over lines: use the real places */
                tmpl_move_ref(t, i, n->marks[i].line, n->marks[i].col);
        return t;
    }
    char *path;
    struct buf text = BUF_INIT;
    if (wfl_read_beside(L, n, key, s, &text, &path) < 0)
        return NULL;
    if (strlen(text.data) != text.len)
        wfl_error(L, n, "%s file '%s' contains a NUL byte (it must be text)", key, path);
    else if (text.len == 0)
        wfl_error(L, n, "%s file '%s' is empty", key, path);
    else {
        struct tmpl_origin o = {wfl_intern(L->wf, path), 1, 1, 0, false};
        tmpl_compile(text.data, &o, &t, L->dl);
    }
    buf_release(&text);
    free(path);
    return t;
}

/* Line and column (1-based, in characters) of byte `off` in `text`. */
static void text_pos(const char *text, size_t off, int *line, int *col)
{
    *line = *col = 1;
    for (size_t i = 0; i < off && text[i]; i++) {
        if (text[i] == '\n') {
            ++*line;
            *col = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            ++*col;
        }
    }
}

static cJSON *read_schema_file(struct wf_loader *L, struct stage_def *s, const struct ydoc_node *n,
                               const char *name, char **path)
{
    struct buf text = BUF_INIT;
    cJSON *schema = NULL;
    if (wfl_read_beside(L, n, "schema", name, &text, path) == 0) {
        const char *end = NULL;
        schema = cJSON_ParseWithOpts(text.data, &end, true);
        if (!schema) {
            int line, col;
            size_t off = end && end >= text.data ? (size_t)(end - text.data) : 0;
            text_pos(text.data, off, &line, &col);
            diag_add(L->dl, wfl_intern(L->wf, *path), line, col,
                     "invalid JSON in the schema of stage '%s'", s->name);
        }
    }
    buf_release(&text);
    return schema;
}

static void schema_field(struct wf_loader *L, struct stage_def *s, struct wf_stage_info *info,
                         const struct ydoc_node *n)
{
    char *path = NULL;
    cJSON *schema = NULL;
    const char *str;
    if (n->kind == YDOC_MAP) {
        schema = ydoc_to_json(n);
    } else if ((str = wfl_string(L, n, "schema"))) {
        if (!str_ends_with(str, ".json")) {
            wfl_error(L, n, "'schema' must name a .json file or be a mapping, got '%s'", str);
            return;
        }
        schema = read_schema_file(L, s, n, str, &path);
    }
    if (!schema) {
        free(path);
        return;
    }
    struct buf problems = BUF_INIT;
    if (schema_check_size(schema, &problems) < 0) {
        wfl_error(L, n, "schema%s%s%s is too large: %s", path ? " '" : "", path ? path : "",
                  path ? "'" : "", problems.data);
        buf_release(&problems);
        cJSON_Delete(schema);
        free(path);
        return;
    }
    int np = schema_lint(schema, &problems);
    for (char *line = problems.data, *nl; np && *line; line = nl + 1) {
        nl = strchr(line, '\n');
        *nl = '\0';
        if (path)
            wfl_error(L, n, "bad schema '%s': %s", path, line);
        else
            wfl_error(L, n, "bad schema: %s", line);
    }
    buf_release(&problems);
    s->schema = schema;
    s->schema_file = path;
    info->schema_ok = np == 0;
}

bool wfl_array_path(struct wf_loader *L, const struct ydoc_node *n, const char *key, char **text,
                    char ***segs, size_t *n_segs)
{
    const char *str = wfl_string(L, n, key);
    if (!str)
        return false;
    for (const char *p = str;; p++) {
        size_t len = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
        p += len;
        if (!len || (*p && *p != '.')) {
            wfl_error(L, n, "bad %s '%s' (use STAGE.path.to.list, e.g. %s)", key, str,
                      strcmp(key, "scenes") == 0 ? "analysis.scenes" : "prompts.scenes");
            return false;
        }
        if (!*p)
            break;
    }
    size_t cap = 0;
    *text = xstrdup(str);
    for (const char *p = strchr(str, '.'); p; p = strchr(p + 1, '.')) {
        size_t len = strcspn(p + 1, ".");
        *VEC_PUSH(*segs, *n_segs, cap) = xstrndup(p + 1, len);
    }
    return true;
}

static void foreach_field(struct wf_loader *L, struct stage_def *s, struct wf_stage_info *info,
                          const struct ydoc_node *n)
{
    if (!wfl_array_path(L, n, "foreach", &s->foreach, &s->foreach_segs, &s->n_foreach_segs))
        return;
    s->foreach_pos = (struct wf_pos){n->file, n->line, n->col};
    info->foreach = n;
}

static void needs_field(struct wf_loader *L, struct wf_stage_info *info, const struct ydoc_node *n)
{
    const struct ydoc_node *const *items = (const struct ydoc_node *const *)n->items;
    size_t count = n->n_items;
    if (n->kind == YDOC_SCALAR) {
        items = &n;
        count = 1;
    } else if (n->kind != YDOC_SEQ) {
        wfl_error(L, n, "'needs' must be a list of stage names, not %s", ydoc_describe(n));
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const char *name = wfl_string(L, items[i], "needs");
        if (!name)
            continue;
        struct wf_need *need = VEC_PUSH(info->needs, info->n_needs, info->cap_needs);
        need->name = name;
        need->node = items[i];
    }
}

char *wfl_choice_field(struct wf_loader *L, const struct ydoc_node *n, const char *key,
                       const char *what, const char *const *words, size_t count)
{
    const char *s = wfl_string(L, n, key);
    if (!s)
        return NULL;
    if (one_of(s, words, count))
        return xstrdup(s);
    struct buf b = BUF_INIT;
    wfl_add_list(&b, words, count);
    wfl_error(L, n, "bad %s '%s' (one of %s)", what, s, b.data);
    buf_release(&b);
    return NULL;
}

static bool is_language(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    if (n < 2 || n > 3)
        return false;
    for (s += n; *s == '-'; s += n) {
        s++;
        n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
        if (n < 1 || n > 8)
            return false;
    }
    return *s == '\0';
}

/* The settings every kind has: model, temperature, timeout, retries. */
static void common_fields(struct wf_loader *L, struct stage_def *s, const struct ydoc_node *st,
                          const struct ydoc_node *key, unsigned kind_bit)
{
    const struct ydoc_node *v;
    const char *str;
    long long r;
    if (kind_bit == K_VIDEO) {
        s->model = xstrdup("ffmpeg"); /* no model: FFmpeg does the work */
        return;
    }
    if ((v = ydoc_get(st, "model"))) {
        if ((str = wfl_string(L, v, "model")) && wfl_model_id(L, v, str))
            s->model = xstrdup(str);
    } else if (L->model) {
        s->model = xstrdup(L->model);
    } else if (!ydoc_get(ydoc_get(L->doc, "defaults"), "model")) {
        wfl_error(L, key, "stage '%s' has no model (set 'model' here or in defaults.model)",
                  s->name);
    }
    if ((v = ydoc_get(st, "temperature")))
        s->has_temperature = wfl_number(L, v, "temperature", 0, 2, false, &s->temperature);
    if ((v = ydoc_get(st, "top_p")))
        s->has_top_p = wfl_number(L, v, "top_p", 0, 1, false, &s->top_p);
    if ((v = ydoc_get(st, "top_k")) && wfl_int(L, v, "top_k", 1, 1000, &r)) {
        s->has_top_k = true;
        s->top_k = (int)r;
    }
    if ((v = ydoc_get(st, "timeout")))
        s->timeout_set = wfl_duration(L, v, "timeout", &s->timeout_ms);
    if ((v = ydoc_get(st, "retries")) && wfl_int(L, v, "retries", 0, 20, &r))
        s->retries = (int)r;
    if ((v = ydoc_get(st, "paid_retries")) && wfl_int(L, v, "paid_retries", 0, 5, &r))
        s->paid_retries = (int)r;
    if ((v = ydoc_get(st, "strict_model")))
        wfl_bool(L, v, "strict_model", &s->strict_model);
    if ((v = ydoc_get(st, "service_tier"))) {
        free(s->service_tier);
        s->service_tier = wfl_service_tier(L, v);
    }
    if ((kind_bit & (K_JSON | K_TEXT)) && (v = ydoc_get(st, "thinking"))) {
        free(s->thinking);
        s->thinking = wfl_thinking(L, v);
    } else if ((kind_bit & (K_JSON | K_TEXT)) && L->thinking) {
        s->thinking = xstrdup(L->thinking);
    }
}

/* temperature, top_p and top_k are ignored by gemini 3.6 and later (changelog 2026-07-21): a
 * warning where each is set, in the stage or in defaults. */
static void warn_sampling(struct wf_loader *L, const struct stage_def *s,
                          const struct ydoc_node *st)
{
    static const char *const keys[] = {"temperature", "top_p", "top_k"};
    const bool set[] = {s->has_temperature, s->has_top_p, s->has_top_k};
    if (s->model && s->thinking && strcmp(s->thinking, "MINIMAL") == 0 &&
        (str_starts_with(s->model, "gemini-3.7-flash") ||
         str_starts_with(s->model, "gemini-3.8-flash"))) {
        const struct ydoc_node *at = ydoc_get(st, "thinking");
        if (!at)
            at = ydoc_get(ydoc_get(L->doc, "defaults"), "thinking");
        if (at)
            diag_add(&L->wf->warnings, at->file, at->line, at->col,
                     "warning: stage '%s': model '%s' refuses thinking level MINIMAL (the API "
                     "answers 400); use LOW",
                     s->name, s->model);
    }
    if (!s->model || !models_ignores_sampling(s->model))
        return;
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        const struct ydoc_node *at = ydoc_get(st, keys[i]);
        if (!at)
            at = ydoc_get(ydoc_get(L->doc, "defaults"), keys[i]);
        if (!set[i] || !at)
            continue;
        diag_add(&L->wf->warnings, at->file, at->line, at->col,
                 "warning: stage '%s': '%s' has no effect on model '%s' (deprecated for gemini "
                 "3.6 and later, changelog 2026-07-21); it is sent but ignored",
                 s->name, keys[i], s->model);
    }
}

/* speakers: {NAME: VOICE, NAME: VOICE} for a dialogue (multiSpeakerVoiceConfig takes two). */
static void speakers_field(struct wf_loader *L, struct stage_def *s, const struct ydoc_node *n)
{
    if (!wfl_mapping(L, n, "speakers"))
        return;
    if (n->n_pairs != 2) {
        wfl_error(L, n, "'speakers' must name exactly 2 speakers (a dialogue), got %zu",
                  n->n_pairs);
        return;
    }
    s->speakers = xcalloc(n->n_pairs, sizeof *s->speakers);
    for (size_t i = 0; i < n->n_pairs; i++) {
        const struct ydoc_node *k = n->pairs[i].key, *v = n->pairs[i].val;
        const char *voice = wfl_string(L, v, "voice");
        if (!k->str[0] || strlen(k->str) > 64 || strpbrk(k->str, "\n\r\t"))
            wfl_error(L, k, "bad speaker name '%s' (1 to 64 characters on one line)", k->str);
        if (!voice || !wfl_voice(L, v, voice))
            continue;
        s->speakers[s->n_speakers].name = xstrdup(k->str);
        s->speakers[s->n_speakers++].voice = xstrdup(voice);
    }
}

/* The keys that depend on the kind; `ok(key)` says whether a key may be read. */
static void kind_fields(struct wf_loader *L, struct stage_def *s, struct wf_stage_info *info,
                        const struct ydoc_node *st, unsigned kind_bit)
{
    const struct ydoc_node *v;
    const char *str;
#define FIELD(k) ((v = ydoc_get(st, k)) && (kinds_of(k) & kind_bit))
    if (FIELD("prompt"))
        s->prompt = wfl_template_field(L, v, "prompt", true);
    if (FIELD("system"))
        s->system = wfl_template_field(L, v, "system", true);
    if (FIELD("text"))
        s->text = wfl_template_field(L, v, "text", true);
    if (FIELD("style") && !(v->kind == YDOC_SCALAR && !v->str[0])) /* style: "" is none */
        s->style = wfl_template_field(L, v, "style", false);
    if (FIELD("turns"))
        s->turns = wfl_template_field(L, v, "turns", false);
    if (FIELD("speakers"))
        speakers_field(L, s, v);
    if ((v = ydoc_get(st, "output"))) {
        s->output = wfl_template_field(L, v, "output", false);
        info->output = v;
    }
    if (FIELD("schema"))
        schema_field(L, s, info, v);
    if (FIELD("foreach"))
        foreach_field(L, s, info, v);
    if ((v = ydoc_get(st, "needs")))
        needs_field(L, info, v);
    if (FIELD("aspect_ratio"))
        s->aspect_ratio = wfl_choice_field(L, v, "aspect_ratio", "aspect ratio", aspect_ratios,
                                           ARRAY_SIZE(aspect_ratios));
    if (FIELD("image_size"))
        s->image_size = wfl_choice_field(L, v, "image_size", "image size", image_sizes,
                                         ARRAY_SIZE(image_sizes));
    if (FIELD("voice") && (str = wfl_string(L, v, "voice")) && wfl_voice(L, v, str))
        s->voice = xstrdup(str);
    if (FIELD("language") && (str = wfl_string(L, v, "language"))) {
        if (is_language(str))
            s->language = xstrdup(str);
        else
            wfl_error(L, v, "bad language code '%s' (use a BCP-47 code such as en-US)", str);
    }
    if (kind_bit == K_VIDEO)
        wfl_video_fields(L, s, info, st);
#undef FIELD
}

/* Missing required keys, once the kind is known. */
static void required_fields(struct wf_loader *L, struct stage_def *s, const struct ydoc_node *st,
                            const struct ydoc_node *key)
{
    const char *kind = stage_kind_name(s->kind);
    if ((kinds_of("prompt") & (1u << s->kind)) && !ydoc_get(st, "prompt"))
        wfl_error(L, key, "stage '%s' has no 'prompt' (required for kind %s)", s->name, kind);
    bool dialogue = ydoc_get(st, "turns") || ydoc_get(st, "speakers");
    if (s->kind == STAGE_SPEECH && !ydoc_get(st, "text") && !dialogue)
        wfl_error(L, key,
                  "stage '%s' has no 'text' (required for kind speech: what to say; or "
                  "'speakers' and 'turns' for a dialogue)",
                  s->name);
    if (s->kind == STAGE_SPEECH && ydoc_get(st, "text") && ydoc_get(st, "turns"))
        wfl_error(L, ydoc_find(st, "turns")->key,
                  "stage '%s' has both 'text' and 'turns' (a dialogue's words are in its turns)",
                  s->name);
    if (s->kind == STAGE_SPEECH && ydoc_get(st, "turns") && !ydoc_get(st, "speakers"))
        wfl_error(L, ydoc_find(st, "turns")->key,
                  "stage '%s' has 'turns' but no 'speakers' (name the two voices: speakers: "
                  "{Ana: Kore, Ben: Puck})",
                  s->name);
    if (s->kind == STAGE_SPEECH && ydoc_get(st, "speakers") && !ydoc_get(st, "turns"))
        wfl_error(L, ydoc_find(st, "speakers")->key,
                  "stage '%s' has 'speakers' but no 'turns' (a template giving the dialogue as "
                  "a list of {speaker, text, style})",
                  s->name);
    if (s->kind == STAGE_SPEECH && s->model && !models_tts_has_speech_metadata(s->model) &&
        (s->style || ydoc_get(st, "turns"))) {
        const struct ydoc_node *at =
            ydoc_get(st, "turns") ? ydoc_get(st, "turns") : ydoc_get(st, "style");
        wfl_error(L, at,
                  "stage '%s': model '%s' takes no speechMetadata, so no %s (the Gemini 3.8 TTS "
                  "models do); put the direction in 'text' and set 'style: \"\"', or use "
                  "gemini-3.8-flash-tts",
                  s->name, s->model, ydoc_get(st, "turns") ? "turns" : "style");
    }
    if (s->kind == STAGE_SPEECH && dialogue && ydoc_get(st, "voice"))
        wfl_error(L, ydoc_find(st, "voice")->key,
                  "stage '%s' has 'voice' and 'speakers' (a dialogue takes its voices from "
                  "speakers)",
                  s->name);
    if (s->kind == STAGE_JSON && !ydoc_get(st, "schema"))
        wfl_error(L, key, "stage '%s' has no 'schema' (required for kind json)", s->name);
    if (s->kind == STAGE_SPEECH && !dialogue && !ydoc_get(st, "voice") && !s->voice) {
        if (L->voice)
            s->voice = xstrdup(L->voice);
        else if (!ydoc_get(ydoc_get(L->doc, "defaults"), "voice"))
            wfl_error(L, key, "stage '%s' has no 'voice' (set it here or in defaults.voice)",
                      s->name);
    }
    if (s->kind == STAGE_VIDEO)
        wfl_video_required(L, s, st, key);
    if (s->kind == STAGE_IMAGE && s->output) {
        s->image_format = img_format_for_path(tmpl_source(s->output));
        if (s->image_format == IMG_UNKNOWN)
            wfl_error(L, ydoc_get(st, "output"),
                      "the output of image stage '%s' must end in .png, .jpg, .jpeg or .webp "
                      "(the format written: a reply in another format is converted), got '%s'",
                      s->name, tmpl_source(s->output));
    }
    if (!ydoc_get(st, "output"))
        wfl_error(L, key,
                  "stage '%s' has no 'output' (required: the file it writes in the job "
                  "directory)",
                  s->name);
}

static void parse_stage(struct wf_loader *L, struct stage_def *s, struct wf_stage_info *info,
                        const struct ydoc_node *key, const struct ydoc_node *st)
{
    const struct ydoc_node *kn = ydoc_get(st, "kind");
    const char *kind = NULL;
    unsigned bit = K_ALL; /* unknown kind: read every key */
    if (!kn) {
        wfl_error(L, key, "stage '%s' has no 'kind' (one of json, text, image, speech, video)",
                  s->name);
    } else if ((kind = wfl_string(L, kn, "kind"))) {
        for (size_t i = 0; i < ARRAY_SIZE(kinds) && !info->kind_ok; i++) {
            if (strcmp(kind, kinds[i]) == 0) {
                s->kind = (enum stage_kind)i;
                info->kind_ok = true;
                bit = 1u << s->kind;
            }
        }
        if (!info->kind_ok) {
            struct buf b = BUF_INIT;
            wfl_add_suggestion(&b, kind, kinds, ARRAY_SIZE(kinds));
            wfl_error(L, kn, "unknown stage kind '%s'%s", kind,
                      b.len ? b.data : " (kinds: json, text, image, speech, video)");
            buf_release(&b);
        }
    }
    char *where = xasprintf("in stage '%s'", s->name);
    for (size_t i = 0; i < st->n_pairs; i++) {
        const struct ydoc_node *k = st->pairs[i].key;
        if (!one_of(k->str, wfl_stage_keys, wfl_n_stage_keys))
            wfl_check_keys_one(L, k, wfl_stage_keys, wfl_n_stage_keys, where);
        else if (!(kinds_of(k->str) & bit))
            wfl_error(L, k, "'%s' does not apply to a stage of kind %s", k->str, kind);
    }
    free(where);
    common_fields(L, s, st, key, bit);
    kind_fields(L, s, info, st, bit);
    if (bit != K_VIDEO)
        warn_sampling(L, s, st);
    if (info->kind_ok)
        required_fields(L, s, st, key);
    if (info->kind_ok && s->kind == STAGE_VIDEO)
        wfl_video_needs_ffmpeg(L, s, kn);
}

void wfl_parse_stages(struct wf_loader *L, const struct ydoc_node *stages)
{
    struct workflow *wf = L->wf;
    if (stages->n_pairs > WF_MAX_STAGES) {
        wfl_error(L, stages->pairs[WF_MAX_STAGES].key,
                  "too many stages (more than %d; split the work into several workflows)",
                  WF_MAX_STAGES);
        return;
    }
    wf->stages = xcalloc(stages->n_pairs, sizeof *wf->stages);
    L->info = xcalloc(stages->n_pairs, sizeof *L->info);
    for (size_t i = 0; i < stages->n_pairs; i++) {
        const struct ydoc_node *k = stages->pairs[i].key, *v = stages->pairs[i].val;
        struct stage_def *s = &wf->stages[wf->n_stages];
        struct wf_stage_info *info = &L->info[wf->n_stages++];
        s->name = xstrdup(k->str);
        s->pos = (struct wf_pos){k->file, k->line, k->col};
        s->timeout_ms = L->timeout_ms;
        s->retries = L->retries;
        s->has_temperature = L->has_temperature;
        s->temperature = L->temperature;
        s->has_top_p = L->has_top_p;
        s->top_p = L->top_p;
        s->has_top_k = L->has_top_k;
        s->top_k = L->top_k;
        s->timeout_set = L->timeout_set;
        s->paid_retries = L->paid_retries;
        s->strict_model = L->strict_model;
        s->service_tier = L->service_tier ? xstrdup(L->service_tier) : NULL;
        info->key = k;
        check_name(L, k);
        if (v->kind != YDOC_MAP) {
            wfl_error(L, v,
                      "stage '%s' must be a mapping of keys (kind, prompt, output, ...), not %s",
                      s->name, ydoc_describe(v));
            continue;
        }
        parse_stage(L, s, info, k, v);
    }
}
