/* wav: speech audio. PCM from the API becomes a WAV file; WAV replies are validated. Only this
 * module touches libsndfile. */
#ifndef GF_WAV_H
#define GF_WAV_H

#include "../runner/buf.h"
#include "../runner/err.h"

#include <stddef.h>
#include <stdint.h>

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
 * channels from "channels=N" (default 1); parameters may come in any order, with spaces and any
 * case. Returns 0, or -1 with err for an unsupported or malformed type. */
int audio_mime_parse(const char *mime, enum audio_format *fmt, int *rate, int *channels,
                     struct gf_err *err);

/* Wrap headerless 16-bit little-endian PCM into a WAV file (written through libsndfile's
 * virtual I/O into `out`). Fails on empty PCM or a length that is not a whole number of frames
 * ("PCM length 4801 is not a multiple of 2 bytes per frame"). */
int wav_from_pcm16(const void *pcm, size_t len, int rate, int channels, struct buf *out,
                   struct wav_facts *facts, struct gf_err *err);

/* Validate a WAV file in memory with libsndfile: it opens, has at least one frame, and every
 * frame reads. Fills facts. */
int wav_check(const void *data, size_t len, struct wav_facts *facts, struct gf_err *err);

#endif
