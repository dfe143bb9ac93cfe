/* speech stage: generateContent with responseModalities AUDIO. The Gemini 3.8 TTS models recite
 * their text exactly: the words go in the part's text, the delivery in the part's
 * speechMetadata.style, a dialogue as one part per turn with speechMetadata.speaker (Gemini 3.8
 * TTS migration guide, checked 2026-12-04). Raw L16 PCM (rate from the mime type) is wrapped into
 * WAV; audio/wav replies are validated and written as they are. */
#include "stage.h"
#include "wav.h"
#include "../runner/base64.h"
#include "../runner/models.h"
#include "../runner/util.h"

#include <string.h>

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
    if (def->n_speakers) {
        cJSON *msc = cJSON_AddObjectToObject(sc, "multiSpeakerVoiceConfig");
        cJSON *svcs = cJSON_AddArrayToObject(msc, "speakerVoiceConfigs");
        for (size_t i = 0; i < def->n_speakers; i++) {
            cJSON *one = cJSON_CreateObject();
            cJSON_AddStringToObject(one, "speaker", def->speakers[i].name);
            cJSON_AddItemToObject(one, "voiceConfig", voice_config(def->speakers[i].voice));
            cJSON_AddItemToArray(svcs, one);
        }
    } else {
        cJSON_AddItemToObject(sc, "voiceConfig", voice_config(def->voice));
    }
    if (def->language)
        cJSON_AddStringToObject(sc, "languageCode", def->language);
    out->verb = GEMINI_GENERATE;
    out->body = body;
    return 0;
}

static int speech_accept(const struct stage_def *def, const struct gemini_reply *reply,
                         struct stage_output *out, struct stage_failure *fail)
{
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

const struct stage_ops stage_speech_ops = {"speech", speech_build, speech_accept};
