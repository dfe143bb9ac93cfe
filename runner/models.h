/* models: what gemflow knows about model families without asking the API, for checks made
 * before any call (docs/bad-inputs.md lists the limits). Model IDs stay configuration: an
 * unknown family is not an error, it only goes unchecked (the API's own message then says). */
#ifndef GF_MODELS_H
#define GF_MODELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The documented input token limit of `model`'s family, or 0 when the family is unknown:
 * imagen-* 480; *-tts* 8,192; gemini-2.5-flash-image* 32,768; other *-image* 65,536; other
 * gemini-* 1,048,576. */
int64_t models_input_token_limit(const char *model);

/* The estimate gemflow uses to refuse a request before calling: one token per 4 bytes
 * (rounded up). It is meant to catch what is clearly over a limit; the API decides the rest. */
int64_t models_estimate_tokens(uint64_t bytes);

/* The canonical spelling of a prebuilt TTS voice ("kore" -> "Kore"), or NULL when `name` is
 * none of the 30. A speech stage sends a prebuilt voice as prebuiltVoiceConfig.voiceName and
 * anything else (a designed or cloned voice id, voice_... or voicekey_...) as voiceConfig.voice. */
const char *models_prebuilt_voice(const char *name);
const char *const *models_prebuilt_voices(size_t *n);

/* Whether a model ignores temperature, top_p and top_k (deprecated for gemini 3.6 and later). */
bool models_ignores_sampling(const char *model);

/* Whether a TTS model takes parts[].speechMetadata (style, speaker): gemini 3.8 and later;
 * true for families it does not know (the API decides). */
bool models_tts_has_speech_metadata(const char *model);

#endif
