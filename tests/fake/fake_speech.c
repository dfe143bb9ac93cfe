/* fake_speech.c: the text-to-speech side of generateContent validation: speechConfig (a prebuilt
 * voice, a designed voice id in voiceConfig.voice, or two speakers) and the per-part
 * speechMetadata {style, speaker} of the 3.8 TTS models, as @google/genai 3.3.0 sends them
 * (tests/data/sdk/tts_*.json); builds the "speech" view the request log shows. */
#include "fake.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GCR "* GenerateContentRequest."
#define SC  "generation_config.speech_config"

static const char *const voice_config_fields[] = {"prebuiltVoiceConfig", "replicatedVoiceConfig",
                                                  "voice", NULL};
static const char *const prebuilt_fields[] = {"voiceName", NULL};
static const char *const multi_fields[] = {"speakerVoiceConfigs", NULL};
static const char *const speaker_fields[] = {"speaker", "voiceConfig", NULL};
static const char *const meta_fields[] = {"speaker", "style", NULL};

static const cJSON *first(const cJSON *v)
{
    return cJSON_IsArray(v) ? v->child : v;
}

static const cJSON *next(const cJSON *list, const cJSON *cur)
{
    return cJSON_IsArray(list) ? cur->next : NULL;
}

/* A string member, else an "Invalid value ... (TYPE_STRING)" violation. */
static void want_string(const cJSON *obj, const char *name, const char *at, cJSON *viol)
{
    const cJSON *v = fk_get(obj, name);
    if (!v || cJSON_IsString(v))
        return;
    char *snake = fk_camel_to_snake(name);
    char *path = fk_printf("%s.%s", at, snake);
    fk_invalid_value(viol, path, "TYPE_STRING", v);
    free(path);
    free(snake);
}

static void voice_config_names(const cJSON *vc, const char *at, cJSON *viol)
{
    if (!vc)
        return;
    fk_check_fields(vc, voice_config_fields, at, viol);
    want_string(vc, "voice", at, viol);
    char *pat = fk_printf("%s.prebuilt_voice_config", at);
    fk_check_fields(fk_get(vc, "prebuiltVoiceConfig"), prebuilt_fields, pat, viol);
    want_string(fk_get(vc, "prebuiltVoiceConfig"), "voiceName", pat, viol);
    free(pat);
}

void fk_speech_check_names(const cJSON *gc, cJSON *viol)
{
    const cJSON *sc = fk_get(gc, "speechConfig");
    voice_config_names(fk_get(sc, "voiceConfig"), SC ".voice_config", viol);
    const cJSON *multi = fk_get(sc, "multiSpeakerVoiceConfig");
    fk_check_fields(multi, multi_fields, SC ".multi_speaker_voice_config", viol);
    const cJSON *list = fk_get(multi, "speakerVoiceConfigs");
    int i = 0;
    for (const cJSON *s = list ? first(list) : NULL; s; s = next(list, s), i++) {
        char *at = fk_printf(SC ".multi_speaker_voice_config.speaker_voice_configs[%d]", i);
        fk_check_fields(s, speaker_fields, at, viol);
        want_string(s, "speaker", at, viol);
        char *vat = fk_printf("%s.voice_config", at);
        voice_config_names(fk_get(s, "voiceConfig"), vat, viol);
        free(vat);
        free(at);
    }
}

void fk_speech_meta_names(const cJSON *part, const char *at, cJSON *viol)
{
    const cJSON *meta = fk_get(part, "speechMetadata");
    if (!meta)
        return;
    char *mat = fk_printf("%s.speech_metadata", at);
    if (!cJSON_IsObject(meta)) {
        fk_invalid_value(viol, mat,
                         "type.googleapis.com/google.ai.generativelanguage.v1beta.SpeechMetadata",
                         meta);
    } else {
        fk_check_fields(meta, meta_fields, mat, viol);
        want_string(meta, "speaker", mat, viol);
        want_string(meta, "style", mat, viol);
    }
    free(mat);
}

/* ---- pass 2 ---- */

static bool prebuilt_ok(const char *v)
{
    for (int i = 0; i < 30; i++)
        if (fk_streq_ci(v, fk_voices[i]))
            return true;
    return false;
}

/* A designed or cloned voice id (voice_abc123, voicekey_...): letters, digits, '_' and '-'. */
static bool voice_id_ok(const char *v)
{
    if (!*v)
        return false;
    for (; *v; v++)
        if (!isalnum((unsigned char)*v) && *v != '_' && *v != '-')
            return false;
    return true;
}

/* One voiceConfig; appends {speaker, voice} to `voices`. */
static bool check_voice(const struct fk_model *m, const cJSON *vc, const char *at,
                        const char *speaker, cJSON *voices, struct fk_gen *g, struct fk_reply *err)
{
    const char *name = fk_get_str(fk_get(vc, "prebuiltVoiceConfig"), "voiceName");
    const char *id = fk_get_str(vc, "voice");
    if (name && !prebuilt_ok(name))
        return fk_fail(err, fk_printf(GCR "%s.prebuilt_voice_config.voice_name: Voice '%s' is not "
                                          "supported. Use one of the 30 prebuilt voices, e.g. "
                                          "Kore, Puck, Zephyr.\n",
                                      at, name));
    if (id && !(m->traits & FK_T_SPEECH_META))
        return fk_fail(err, fk_printf(GCR "%s.voice: designed and cloned voices are not "
                                          "supported by models/%s.\n",
                                      at, m->name));
    if (id && !voice_id_ok(id))
        return fk_fail(err, fk_printf(GCR "%s.voice: '%s' is not a voice id. Use the id of a "
                                          "voice from /v1beta/voices (letters, digits, '_' and "
                                          "'-').\n",
                                      at, id));
    /* This fake knows no voice library: a voice field names a prebuilt voice, or a designed
     * (voice_...) or cloned (voicekey_...) voice, which it takes on trust; any other name is a
     * voice that does not exist (our wording, in the style of the prebuilt-voice error). */
    if (id && !prebuilt_ok(id) && strncmp(id, "voice_", 6) != 0 && strncmp(id, "voicekey_", 9) != 0)
        return fk_fail(err, fk_printf(GCR "%s.voice: Voice '%s' is not supported. Use one of the "
                                          "30 prebuilt voices or the id of a voice from "
                                          "/v1beta/voices (voice_..., voicekey_...).\n",
                                      at, id));
    const char *v = id ? id : name;
    if (!v)
        return true;
    if (!g->voice)
        g->voice = v;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "speaker", speaker ? cJSON_CreateString(speaker) : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "voice", v);
    cJSON_AddItemToArray(voices, o);
    return true;
}

/* speechConfig: one voice, or exactly two named speakers. Fills `speakers` (names). */
static bool check_config(const struct fk_model *m, const cJSON *sc, cJSON *voices, cJSON *speakers,
                         struct fk_gen *g, struct fk_reply *err)
{
    if (!check_voice(m, fk_get(sc, "voiceConfig"), SC ".voice_config", NULL, voices, g, err))
        return false;
    const cJSON *multi = fk_get(sc, "multiSpeakerVoiceConfig");
    if (!multi)
        return true;
    const cJSON *list = fk_get(multi, "speakerVoiceConfigs");
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) != 2)
        return fk_fail(err, fk_strdup(GCR SC ".multi_speaker_voice_config.speaker_voice_configs: "
                                             "exactly 2 speaker voice configs are required.\n"));
    int i = 0;
    for (const cJSON *s = list->child; s; s = s->next, i++) {
        const char *name = fk_get_str(s, "speaker");
        if (!name || !*name)
            return fk_fail(err, fk_printf(GCR SC ".multi_speaker_voice_config.speaker_voice_configs"
                                                 "[%d].speaker: speaker is required.\n",
                                          i));
        if (i == 1 && strcmp(name, cJSON_GetArrayItem(speakers, 0)->valuestring) == 0)
            return fk_fail(err, fk_printf(GCR SC ".multi_speaker_voice_config.speaker_voice_configs"
                                                 "[1].speaker: speaker '%s' is named twice.\n",
                                          name));
        cJSON_AddItemToArray(speakers, cJSON_CreateString(name));
        char *at =
            fk_printf(SC ".multi_speaker_voice_config.speaker_voice_configs[%d].voice_config", i);
        bool ok = check_voice(m, fk_get(s, "voiceConfig"), at, name, voices, g, err);
        free(at);
        if (!ok)
            return false;
    }
    return true;
}

static char *speaker_list(const cJSON *speakers)
{
    struct fk_buf b = FK_BUF_INIT;
    for (const cJSON *s = speakers->child; s; s = s->next)
        fk_buf_addf(&b, "%s'%s'", b.len ? ", " : "", s->valuestring);
    return fk_buf_detach(&b, NULL);
}

/* One part's speechMetadata: only on a text part; its speaker must be a configured one. */
static bool check_meta(const struct fk_model *m, const cJSON *p, int i, int j,
                       const cJSON *speakers, struct fk_reply *err)
{
    const cJSON *meta = fk_get(p, "speechMetadata");
    if (!meta)
        return true;
    if (!(m->traits & FK_T_SPEECH_META))
        return fk_fail(err, fk_printf(GCR "contents[%d].parts[%d].speech_metadata: speech "
                                          "metadata is not supported by models/%s.\n",
                                      i, j, m->name));
    if (!fk_get_str(p, "text"))
        return fk_fail(err, fk_printf(GCR "contents[%d].parts[%d].speech_metadata: speech "
                                          "metadata is only valid on a text part.\n",
                                      i, j));
    const char *who = fk_get_str(meta, "speaker");
    if (!who)
        return true;
    for (const cJSON *s = speakers->child; s; s = s->next)
        if (strcmp(s->valuestring, who) == 0)
            return true;
    if (!speakers->child)
        return fk_fail(err, fk_printf(GCR "contents[%d].parts[%d].speech_metadata.speaker: "
                                          "speaker '%s' needs speech_config."
                                          "multi_speaker_voice_config, which is not set.\n",
                                      i, j, who));
    char *names = speaker_list(speakers);
    char *msg = fk_printf(GCR "contents[%d].parts[%d].speech_metadata.speaker: speaker '%s' is "
                              "not one of the speakers of speech_config."
                              "multi_speaker_voice_config: %s.\n",
                          i, j, who, names);
    free(names);
    return fk_fail(err, msg);
}

static cJSON *str_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* Every text part, its style and its speaker, in order; fails on the first bad metadata. */
static bool check_parts(const struct fk_model *m, const cJSON *body, const cJSON *speakers,
                        cJSON *view, struct fk_reply *err)
{
    cJSON *texts = cJSON_AddArrayToObject(view, "texts");
    cJSON *styles = cJSON_AddArrayToObject(view, "styles");
    cJSON *who = cJSON_AddArrayToObject(view, "speakers");
    const cJSON *contents = fk_get(body, "contents");
    int i = 0;
    for (const cJSON *c = first(contents); c; c = next(contents, c), i++) {
        const cJSON *parts = fk_get(c, "parts");
        int j = 0;
        for (const cJSON *p = first(parts); p; p = next(parts, p), j++) {
            if (!check_meta(m, p, i, j, speakers, err))
                return false;
            const char *t = fk_get_str(p, "text");
            if (!t || cJSON_IsTrue(fk_get(p, "thought")))
                continue;
            const cJSON *meta = fk_get(p, "speechMetadata");
            cJSON_AddItemToArray(texts, cJSON_CreateString(t));
            cJSON_AddItemToArray(styles, str_or_null(fk_get_str(meta, "style")));
            cJSON_AddItemToArray(who, str_or_null(fk_get_str(meta, "speaker")));
        }
    }
    return true;
}

/* Speech metadata on a model that does not speak (wording ours). */
static bool no_meta_elsewhere(const struct fk_model *m, const cJSON *body, struct fk_reply *err)
{
    const cJSON *contents = fk_get(body, "contents");
    int i = 0;
    for (const cJSON *c = first(contents); c; c = next(contents, c), i++) {
        const cJSON *parts = fk_get(c, "parts");
        int j = 0;
        for (const cJSON *p = first(parts); p; p = next(parts, p), j++)
            if (fk_get(p, "speechMetadata"))
                return fk_fail(err, fk_printf(GCR "contents[%d].parts[%d].speech_metadata: speech "
                                                  "metadata is only supported by text-to-speech "
                                                  "models, not models/%s.\n",
                                              i, j, m->name));
    }
    return true;
}

bool fk_speech_check(const struct fk_model *m, const cJSON *body, const cJSON *gc, struct fk_gen *g,
                     struct fk_reply *err)
{
    if (m->kind != FK_KIND_SPEECH)
        return no_meta_elsewhere(m, body, err);
    if (fk_get(body, "systemInstruction"))
        return fk_fail(err, fk_strdup("Developer instruction is not enabled for this model"));
    if (fk_get(gc, "thinkingConfig"))
        return fk_fail(err, fk_strdup("Thinking level is not supported for this model."));
    cJSON *view = cJSON_CreateObject();
    cJSON *voices = cJSON_CreateArray(), *speakers = cJSON_CreateArray();
    bool ok = check_config(m, fk_get(gc, "speechConfig"), voices, speakers, g, err) &&
              check_parts(m, body, speakers, view, err);
    cJSON_Delete(speakers);
    cJSON_AddItemToObject(view, "voices", voices);
    if (!ok) {
        cJSON_Delete(view);
        return false;
    }
    g->speech = view;
    return true;
}
