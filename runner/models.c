/* models: per-family facts used before calling (input token limits). */
#include "models.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int64_t models_input_token_limit(const char *model)
{
    if (str_starts_with(model, "imagen-"))
        return 480;
    if (strstr(model, "-tts"))
        return 8192;
    if (str_starts_with(model, "gemini-2.5-flash-image"))
        return 32768;
    if (str_starts_with(model, "gemini-") && strstr(model, "-image"))
        return 65536;
    if (str_starts_with(model, "gemini-"))
        return 1048576;
    return 0;
}

int64_t models_estimate_tokens(uint64_t bytes)
{
    return (int64_t)(bytes / 4 + (bytes % 4 != 0));
}

/* The 30 prebuilt voices of the Gemini TTS models (speech-generation guide; OpenRouter's
 * gemini-3.8-flash-tts card, checked 2026-12-04). */
static const char *const prebuilt_voices[] = {
    "Zephyr",    "Puck",          "Charon",       "Kore",      "Fenrir",     "Leda",
    "Orus",      "Aoede",         "Callirrhoe",   "Autonoe",   "Enceladus",  "Iapetus",
    "Umbriel",   "Algieba",       "Despina",      "Erinome",   "Algenib",    "Rasalgethi",
    "Laomedeia", "Achernar",      "Alnilam",      "Schedar",   "Gacrux",     "Pulcherrima",
    "Achird",    "Zubenelgenubi", "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat",
};

const char *models_prebuilt_voice(const char *name)
{
    for (size_t i = 0; i < sizeof prebuilt_voices / sizeof *prebuilt_voices; i++)
        if (strcasecmp(name, prebuilt_voices[i]) == 0)
            return prebuilt_voices[i];
    return NULL;
}

const char *const *models_prebuilt_voices(size_t *n)
{
    *n = sizeof prebuilt_voices / sizeof *prebuilt_voices;
    return prebuilt_voices;
}

bool models_ignores_sampling(const char *model)
{
    /* temperature, top_p and top_k are deprecated for 3.6 and later (changelog 2026-07-21):
     * gemini-3.6-*, gemini-3.7-*, gemini-3.8-*, and any later gemini-3.N or gemini-4+ */
    if (!str_starts_with(model, "gemini-"))
        return false;
    const char *v = model + 7;
    int major = 0, minor = 0;
    if (sscanf(v, "%d.%d", &major, &minor) < 1)
        return false;
    return major > 3 || (major == 3 && minor >= 6);
}

bool models_tts_has_speech_metadata(const char *model)
{
    /* speechMetadata (style, speaker) came with the Gemini 3.8 TTS models (migration guide,
     * checked 2026-12-04); the 2.5 and 3.1 preview TTS models refuse it */
    if (!strstr(model, "tts") || !str_starts_with(model, "gemini-"))
        return true; /* not a TTS model we know: let the API say */
    int major = 0, minor = 0;
    if (sscanf(model + 7, "%d.%d", &major, &minor) < 1)
        return true;
    return major > 3 || (major == 3 && minor >= 8);
}
