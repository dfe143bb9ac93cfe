/* speech stage: generateContent with responseModalities AUDIO. The Gemini 3.8 TTS models recite
 * their text exactly: the words go in the part's text, the delivery in the part's
 * speechMetadata.style, a dialogue as one part per turn with speechMetadata.speaker (Gemini 3.8
 * TTS migration guide, checked 2026-12-04). Raw L16 PCM (rate from the mime type) is wrapped into
 * WAV; audio/wav replies are validated and written as they are. */
#include "stage.h"
#include "wav.h"
#include "../runner/base64.h"
#include "../runner/expand_int.h"
#include "../runner/jsonutil.h"
#include "../runner/models.h"
#include "../runner/util.h"
#include "../runner/workflow_int.h"

#include <string.h>

struct speech_settings {
    struct tmpl *text;  /* the text to speak; required unless a dialogue */
    struct tmpl *style; /* speechMetadata.style of each part; NULL = none */
    struct tmpl *turns; /* dialogue: renders to a JSON array of {speaker, text, style}; one part
                           per turn; NULL = `text` is one part */
    char *voice;        /* a prebuilt voice name (prebuiltVoiceConfig.voiceName) or a designed
                           or cloned voice id (voiceConfig.voice); unless `speakers` is given */
    char *language;     /* languageCode; NULL = not sent */
    struct speaker {
        char *name;  /* as the turns name it */
        char *voice; /* prebuilt name or voice id */
    } * speakers;    /* dialogue: exactly 2 (multiSpeakerVoiceConfig) */
    size_t n_speakers;
};

static const char *const speech_keys[] = {"text",  "voice",    "language", "style",
                                          "turns", "speakers", NULL};

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

/* speakers: {NAME: VOICE, NAME: VOICE} for a dialogue (multiSpeakerVoiceConfig takes two). */
static void speakers_field(struct wf_loader *L, struct speech_settings *ss,
                           const struct ydoc_node *n)
{
    if (!wfl_mapping(L, n, "speakers"))
        return;
    if (n->n_pairs != 2) {
        wfl_error(L, n, "'speakers' must name exactly 2 speakers (a dialogue), got %zu",
                  n->n_pairs);
        return;
    }
    ss->speakers = xcalloc(n->n_pairs, sizeof *ss->speakers);
    for (size_t i = 0; i < n->n_pairs; i++) {
        const struct ydoc_node *k = n->pairs[i].key, *v = n->pairs[i].val;
        const char *voice = wfl_string(L, v, "voice");
        if (!k->str[0] || strlen(k->str) > 64 || strpbrk(k->str, "\n\r\t"))
            wfl_error(L, k, "bad speaker name '%s' (1 to 64 characters on one line)", k->str);
        if (!voice || !wfl_voice(L, v, voice))
            continue;
        ss->speakers[ss->n_speakers].name = xstrdup(k->str);
        ss->speakers[ss->n_speakers++].voice = xstrdup(voice);
    }
}

/* The keys, then what a speech stage requires of them. */
static void speech_parse(struct wf_loader *L, struct stage_def *s, struct wf_stage_info *info,
                         const struct ydoc_node *st, const struct ydoc_node *key)
{
    (void)info;
    struct speech_settings *ss = xcalloc(1, sizeof *ss);
    s->k = ss;
    const struct ydoc_node *v;
    const char *str;
    if ((v = ydoc_get(st, "text")))
        ss->text = wfl_template_field(L, v, "text", true);
    if ((v = ydoc_get(st, "style")) && !(v->kind == YDOC_SCALAR && !v->str[0])) /* "" is none */
        ss->style = wfl_template_field(L, v, "style", false);
    if ((v = ydoc_get(st, "turns")))
        ss->turns = wfl_template_field(L, v, "turns", false);
    if ((v = ydoc_get(st, "speakers")))
        speakers_field(L, ss, v);
    if ((v = ydoc_get(st, "voice")) && (str = wfl_string(L, v, "voice")) && wfl_voice(L, v, str))
        ss->voice = xstrdup(str);
    if ((v = ydoc_get(st, "language")) && (str = wfl_string(L, v, "language"))) {
        if (is_language(str))
            ss->language = xstrdup(str);
        else
            wfl_error(L, v, "bad language code '%s' (use a BCP-47 code such as en-US)", str);
    }
    bool dialogue = ydoc_get(st, "turns") || ydoc_get(st, "speakers");
    if (!ydoc_get(st, "text") && !dialogue)
        wfl_error(L, key,
                  "stage '%s' has no 'text' (required for kind speech: what to say; or "
                  "'speakers' and 'turns' for a dialogue)",
                  s->name);
    if (ydoc_get(st, "text") && ydoc_get(st, "turns"))
        wfl_error(L, ydoc_find(st, "turns")->key,
                  "stage '%s' has both 'text' and 'turns' (a dialogue's words are in its turns)",
                  s->name);
    if (ydoc_get(st, "turns") && !ydoc_get(st, "speakers"))
        wfl_error(L, ydoc_find(st, "turns")->key,
                  "stage '%s' has 'turns' but no 'speakers' (name the two voices: speakers: "
                  "{Ana: Kore, Ben: Puck})",
                  s->name);
    if (ydoc_get(st, "speakers") && !ydoc_get(st, "turns"))
        wfl_error(L, ydoc_find(st, "speakers")->key,
                  "stage '%s' has 'speakers' but no 'turns' (a template giving the dialogue as "
                  "a list of {speaker, text, style})",
                  s->name);
    if (s->model && !models_tts_has_speech_metadata(s->model) &&
        (ss->style || ydoc_get(st, "turns"))) {
        const struct ydoc_node *at =
            ydoc_get(st, "turns") ? ydoc_get(st, "turns") : ydoc_get(st, "style");
        wfl_error(L, at,
                  "stage '%s': model '%s' takes no speechMetadata, so no %s (the Gemini 3.8 TTS "
                  "models do); put the direction in 'text' and set 'style: \"\"', or use "
                  "gemini-3.8-flash-tts",
                  s->name, s->model, ydoc_get(st, "turns") ? "turns" : "style");
    }
    if (dialogue && ydoc_get(st, "voice"))
        wfl_error(L, ydoc_find(st, "voice")->key,
                  "stage '%s' has 'voice' and 'speakers' (a dialogue takes its voices from "
                  "speakers)",
                  s->name);
    if (!dialogue && !ydoc_get(st, "voice") && !ss->voice) {
        if (L->voice)
            ss->voice = xstrdup(L->voice);
        else if (!ydoc_get(ydoc_get(L->doc, "defaults"), "voice"))
            wfl_error(L, key, "stage '%s' has no 'voice' (set it here or in defaults.voice)",
                      s->name);
    }
}

static void speech_release(void *k)
{
    struct speech_settings *ss = k;
    if (!ss)
        return;
    tmpl_free(ss->text);
    tmpl_free(ss->style);
    tmpl_free(ss->turns);
    for (size_t i = 0; i < ss->n_speakers; i++) {
        free(ss->speakers[i].name);
        free(ss->speakers[i].voice);
    }
    free(ss->speakers);
    free(ss->voice);
    free(ss->language);
    free(ss);
}

static size_t speech_templates(const struct stage_def *s, struct stage_tmpl *out, size_t max)
{
    const struct speech_settings *ss = s->k;
    const struct stage_tmpl all[] = {{"text", ss->text, true, false},
                                     {"style", ss->style, true, false},
                                     {"turns", ss->turns, true, false}};
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(all) && n < max; i++)
        out[n++] = all[i];
    return n;
}

static cJSON *speech_settings_json(const struct stage_def *s)
{
    const struct speech_settings *ss = s->k;
    cJSON *o = cJSON_CreateObject();
    json_add_str_or_null(o, "voice", ss->voice);
    json_add_str_or_null(o, "language", ss->language);
    cJSON *sp = cJSON_AddObjectToObject(o, "speakers");
    for (size_t i = 0; i < ss->n_speakers; i++)
        cJSON_AddStringToObject(sp, ss->speakers[i].name, ss->speakers[i].voice);
    return o;
}

/* The rendered `turns` of a dialogue: a JSON array of {speaker, text, style?}, every speaker one
 * of the stage's speakers. NULL with *why (caller frees) when it is not. */
static cJSON *parse_turns(const struct speech_settings *ss, const char *text, char **why)
{
    cJSON *arr = cJSON_Parse(text);
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) {
        *why = xasprintf(
            "'turns' must render to a JSON array of {speaker, text, style}, got: %.80s", text);
        cJSON_Delete(arr);
        return NULL;
    }
    int k = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, arr)
    {
        k++;
        const char *speaker = json_str(t, "speaker"), *words = json_str(t, "text");
        const cJSON *style = cJSON_GetObjectItemCaseSensitive(t, "style");
        if (!cJSON_IsObject(t) || !speaker || !words || !words[0] ||
            (style && !cJSON_IsString(style) && !cJSON_IsNull(style))) {
            *why = xasprintf("turn %d of 'turns' is not {speaker, text, style} with a non-empty "
                             "text",
                             k);
            cJSON_Delete(arr);
            return NULL;
        }
        bool known = false;
        for (size_t i = 0; i < ss->n_speakers; i++)
            known = known || strcmp(ss->speakers[i].name, speaker) == 0;
        if (!known) {
            *why = xasprintf("turn %d names speaker '%s', who is not in the stage's speakers "
                             "('%s', '%s')",
                             k, speaker, ss->speakers[0].name,
                             ss->n_speakers > 1 ? ss->speakers[1].name : "");
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

/* The item's text is the words (or the turns as rendered). */
static int speech_render(const struct stage_def *def, struct render_ctx *rc, struct stage_input *in,
                         char **why)
{
    const struct speech_settings *ss = def->k;
    struct gf_err err = GF_ERR_INIT;
    if (expand_render(ss->turns ? ss->turns : ss->text, rc, 0, &in->prompt, &err) < 0 ||
        expand_render(ss->style, rc, 0, &in->style, &err) < 0) {
        *why = xstrdup(err.msg);
        return -1;
    }
    if (ss->turns && !(in->turns = parse_turns(ss, in->prompt, why)))
        return -1;
    return 0;
}

/* Output: 25 audio tokens per second, at about 15 characters of text per second. */
static void speech_estimate(const struct stage_def *def, double chars, const char *text,
                            struct stage_estimate *out)
{
    (void)def;
    out->in_tokens = chars / 4;
    out->out_tokens = (text ? (double)strlen(text) : chars) / 15.0 * 25.0;
}

static int speech_check_artifact(const struct stage_def *def, const void *data, size_t len,
                                 cJSON **media, struct gf_err *err)
{
    (void)def;
    struct wav_facts wf;
    if (wav_check(data, len, &wf, err) < 0)
        return -1;
    *media = cJSON_CreateObject();
    cJSON_AddStringToObject(*media, "type", "audio/wav");
    cJSON_AddNumberToObject(*media, "sample_rate", wf.sample_rate);
    cJSON_AddNumberToObject(*media, "channels", wf.channels);
    cJSON_AddNumberToObject(*media, "frames", (double)wf.frames);
    cJSON_AddNumberToObject(*media, "duration_s", wf.duration_s);
    return 0;
}

/* {"prebuiltVoiceConfig": {"voiceName": "Kore"}} for one of the 30 prebuilt voices, else
 * {"voice": ID} for a designed or cloned voice (voice_..., voicekey_...). */
static cJSON *voice_config(const char *voice)
{
    cJSON *vc = cJSON_CreateObject();
    const char *prebuilt = models_prebuilt_voice(voice);
    if (prebuilt) {
        cJSON *pv = cJSON_AddObjectToObject(vc, "prebuiltVoiceConfig");
        cJSON_AddStringToObject(pv, "voiceName", prebuilt);
    } else {
        cJSON_AddStringToObject(vc, "voice", voice);
    }
    return vc;
}

static cJSON *speech_part(const char *text, const char *speaker, const char *style)
{
    cJSON *part = cJSON_CreateObject();
    cJSON_AddStringToObject(part, "text", text);
    if (speaker || (style && style[0])) {
        cJSON *md = cJSON_AddObjectToObject(part, "speechMetadata");
        if (speaker)
            cJSON_AddStringToObject(md, "speaker", speaker);
        if (style && style[0])
            cJSON_AddStringToObject(md, "style", style);
    }
    return part;
}

static int speech_build(const struct stage_def *def, const struct stage_input *in,
                        struct stage_request *out, struct gf_err *err)
{
    (void)err;
    const struct speech_settings *ss = def->k;
    cJSON *body = cJSON_CreateObject();
    cJSON *contents = cJSON_AddArrayToObject(body, "contents");
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "role", "user");
    cJSON *parts = cJSON_AddArrayToObject(msg, "parts");
    cJSON_AddItemToArray(contents, msg);
    if (in->turns) {
        const cJSON *t;
        cJSON_ArrayForEach(t, in->turns)
        {
            const char *style = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "style"));
            cJSON_AddItemToArray(
                parts,
                speech_part(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "text")),
                            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "speaker")),
                            style ? style : in->style));
        }
    } else {
        cJSON_AddItemToArray(parts, speech_part(in->prompt, NULL, in->style));
    }
    cJSON *gc = stage_generation_config(body, def);
    cJSON *mods = cJSON_AddArrayToObject(gc, "responseModalities");
    cJSON_AddItemToArray(mods, cJSON_CreateString("AUDIO"));
    cJSON *sc = cJSON_AddObjectToObject(gc, "speechConfig");
    if (ss->n_speakers) {
        cJSON *msc = cJSON_AddObjectToObject(sc, "multiSpeakerVoiceConfig");
        cJSON *svcs = cJSON_AddArrayToObject(msc, "speakerVoiceConfigs");
        for (size_t i = 0; i < ss->n_speakers; i++) {
            cJSON *one = cJSON_CreateObject();
            cJSON_AddStringToObject(one, "speaker", ss->speakers[i].name);
            cJSON_AddItemToObject(one, "voiceConfig", voice_config(ss->speakers[i].voice));
            cJSON_AddItemToArray(svcs, one);
        }
    } else {
        cJSON_AddItemToObject(sc, "voiceConfig", voice_config(ss->voice));
    }
    if (ss->language)
        cJSON_AddStringToObject(sc, "languageCode", ss->language);
    out->verb = GEMINI_GENERATE;
    out->body = body;
    return 0;
}

static int speech_accept(const struct stage_def *def, const struct gemini_reply *reply,
                         struct stage_output *out, struct stage_failure *fail)
{
    (void)def;
    if (stage_reply_refused(reply, fail))
        return -1;
    const struct gemini_part *audio = gemini_reply_media(reply, "audio/");
    if (!audio) {
        char *text = gemini_reply_text(reply);
        stage_failf(fail, FAIL_NO_OUTPUT, "the reply has no audio (finishReason %s)%s%s",
                    reply->finish_reason ? reply->finish_reason : "none",
                    text ? "; the model said: " : "", text ? text : "");
        free(text);
        return -1;
    }
    enum audio_format fmt;
    int rate = 0, channels = 0;
    struct gf_err aerr = GF_ERR_INIT;
    if (audio_mime_parse(audio->mime, &fmt, &rate, &channels, &aerr) < 0)
        return stage_failf(fail, FAIL_NO_OUTPUT, "%s", aerr.msg);
    struct buf raw = BUF_INIT;
    size_t bad_at = 0;
    if (base64_decode(audio->data, audio->data_len, &raw, &bad_at) < 0)
        return stage_failf(fail, FAIL_BAD_OUTPUT,
                           "the audio data is not valid base64 (byte %zu of %zu)", bad_at,
                           audio->data_len);
    struct wav_facts facts;
    out->data = (struct buf)BUF_INIT;
    int rc;
    if (fmt == AUDIO_PCM16) {
        rc = wav_from_pcm16(raw.data, raw.len, rate, channels, &out->data, &facts, &aerr);
        buf_release(&raw);
    } else {
        rc = wav_check(raw.data, raw.len, &facts, &aerr);
        out->data = raw; /* written as it came */
        out->verbatim_b64 = audio->data;
    }
    if (rc < 0) {
        buf_release(&out->data);
        return stage_failf(fail, FAIL_BAD_OUTPUT, "the audio is not usable: %s", aerr.msg);
    }
    out->media = cJSON_CreateObject();
    cJSON_AddStringToObject(out->media, "type", "audio/wav");
    cJSON_AddStringToObject(out->media, "source_type", audio->mime);
    cJSON_AddNumberToObject(out->media, "sample_rate", facts.sample_rate);
    cJSON_AddNumberToObject(out->media, "channels", facts.channels);
    cJSON_AddNumberToObject(out->media, "frames", (double)facts.frames);
    cJSON_AddNumberToObject(out->media, "duration_s", facts.duration_s);
    return 0;
}

const struct stage_kind stage_kind_speech = {
    .name = "speech",
    .exec = EXEC_CALL,
    .media = MEDIA_AUDIO,
    .value = VALUE_NONE,
    .common_keys = KIND_KEYS_MODEL | KIND_KEYS_FOREACH,
    .keys = speech_keys,
    .input_label = "text",
    .check_on_worker = true,
    .parse = speech_parse,
    .release = speech_release,
    .templates = speech_templates,
    .settings = speech_settings_json,
    .render = speech_render,
    .build = speech_build,
    .accept = speech_accept,
    .check_artifact = speech_check_artifact,
    .estimate = speech_estimate,
    .method = stage_method_generate,
    .model_kind = "speech",
};
