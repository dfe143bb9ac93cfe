/* wav: speech audio. PCM from the API becomes a WAV file; WAV replies are validated. Only this
 * module touches libsndfile. */
#ifndef GF_WAV_H
#define GF_WAV_H

#include "../runner/buf.h"
#include "../runner/err.h"

#include <stddef.h>
#include <stdint.h>

/* What speech audio may be, from the API or edited by hand (wav_check, wav_from_pcm16, and
 * the L16 mime type): refused outside these, with the value and the range in the message.
 *   8000..192000 Hz: telephone speech up to studio rates; a header saying 1 Hz would otherwise
 *     pass and make a clip of a few KB last hours in the video;
 *   1..2 channels: speech is mono, stereo at most;
 *   at most 600 s: a TTS call is capped at 16,384 output tokens, about 8.5 minutes of audio. */
#define WAV_RATE_MIN     8000
#define WAV_RATE_MAX     192000
#define WAV_CHANNELS_MAX 2
#define WAV_MAX_SECONDS  600

struct wav_facts {
    int sample_rate;
    int channels;
    int64_t frames;
    double duration_s;
};

enum audio_format {
    AUDIO_PCM16, /* audio/L16;codec=pcm;rate=N (raw signed 16-bit little-endian, headerless) */
    AUDIO_WAV,   /* audio/wav, audio/x-wav, audio/wave, audio/vnd.wave */
};

/* Parse an audio mime type. For L16 the rate comes from "rate=N" (required; 8000..192000) and
 * channels from "channels=N" (default 1; 1..2); parameters may come in any order, with spaces and
 * any case. Returns 0, or -1 with err for an unsupported or malformed type. */
int audio_mime_parse(const char *mime, enum audio_format *fmt, int *rate, int *channels,
                     struct gf_err *err);

/* Wrap headerless 16-bit little-endian PCM into a WAV file (written through libsndfile's
 * virtual I/O into `out`). Fails on empty PCM, a length that is not a whole number of frames
 * ("PCM length 4801 is not a multiple of 2 bytes per frame"), and outside the limits above
 * ("PCM rate 4000 Hz is not 8000..192000", "PCM has 3 channels, not 1..2", "PCM lasts 601.0 s
 * (4808000 frames at 8000 Hz), more than 600 s"); `out` is then as it was. */
int wav_from_pcm16(const void *pcm, size_t len, int rate, int channels, struct buf *out,
                   struct wav_facts *facts, struct gf_err *err);

/* Validate a WAV file in memory with libsndfile: it opens, has at least one frame, is within
 * the limits above ("WAV sample rate 1 Hz is not 8000..192000", "WAV has 3 channels, not 1..2",
 * "WAV lasts 601.0 s (...), more than 600 s", from its header, before reading the frames), and
 * every frame reads. Fills facts. */
int wav_check(const void *data, size_t len, struct wav_facts *facts, struct gf_err *err);

#endif
