/* wav: speech audio with libsndfile over in-memory virtual I/O: headerless PCM from the API
 * becomes a 16-bit PCM WAV, and WAV replies are opened and read through before they count. */
#include "wav.h"
#include "../runner/util.h"

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define RATE_MIN     WAV_RATE_MIN
#define RATE_MAX     WAV_RATE_MAX
#define CHANNELS_MAX WAV_CHANNELS_MAX
#define CHUNK_FRAMES 4096

/* ---- mime types ---- */

/* Copy s[0..n) trimmed of white space into out (size cap). */
static void copy_trimmed(const char *s, size_t n, char *out, size_t cap)
{
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') /* quoted parameter value */
        s++, n -= 2;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

/* A decimal integer of up to 7 digits; -1 otherwise. */
static int parse_small_int(const char *s)
{
    int v = 0, digits = 0;
    for (; isdigit((unsigned char)*s); s++)
        if (++digits > 7)
            return -1;
        else
            v = v * 10 + (*s - '0');
    return digits && !*s ? v : -1;
}

int audio_mime_parse(const char *mime, enum audio_format *fmt, int *rate, int *channels,
                     struct gf_err *err)
{
    static const char *const wav_types[] = {"audio/wav", "audio/x-wav", "audio/wave",
                                            "audio/vnd.wave"};
    if (!mime)
        return gf_error(err, GF_ERR_INPUT, "audio part has no mime type");
    const char *semi = strchr(mime, ';');
    char type[64];
    copy_trimmed(mime, semi ? (size_t)(semi - mime) : strlen(mime), type, sizeof type);
    for (size_t i = 0; i < ARRAY_SIZE(wav_types); i++) {
        if (strcasecmp(type, wav_types[i]) == 0) {
            *fmt = AUDIO_WAV; /* rate and channels come from the file's header */
            if (rate)
                *rate = 0;
            if (channels)
                *channels = 0;
            return 0;
        }
    }
    if (strcasecmp(type, "audio/L16") != 0)
        return gf_error(err, GF_ERR_INPUT, "unsupported audio type '%.100s'", mime);

    int r = -1, ch = 1;
    for (const char *p = semi; p; p = strchr(p + 1, ';')) {
        const char *next = strchr(p + 1, ';');
        const char *eq = memchr(p + 1, '=', next ? (size_t)(next - p - 1) : strlen(p + 1));
        if (!eq)
            continue; /* a bare token: nothing we need */
        char name[32], value[32];
        copy_trimmed(p + 1, (size_t)(eq - p - 1), name, sizeof name);
        copy_trimmed(eq + 1, next ? (size_t)(next - eq - 1) : strlen(eq + 1), value, sizeof value);
        if (strcasecmp(name, "rate") == 0) {
            r = parse_small_int(value);
            if (r < RATE_MIN || r > RATE_MAX)
                return gf_error(err, GF_ERR_INPUT,
                                "audio type '%.100s' has rate '%s', not %d..%d Hz", mime, value,
                                RATE_MIN, RATE_MAX);
        } else if (strcasecmp(name, "channels") == 0) {
            ch = parse_small_int(value);
            if (ch < 1 || ch > CHANNELS_MAX)
                return gf_error(err, GF_ERR_INPUT,
                                "audio type '%.100s' has channels '%s', not 1..%d", mime, value,
                                CHANNELS_MAX);
        } else if (strcasecmp(name, "codec") == 0 && strcasecmp(value, "pcm") != 0) {
            return gf_error(err, GF_ERR_INPUT, "audio type '%.100s' has codec '%s', not pcm", mime,
                            value);
        }
    }
    if (r < 0)
        return gf_error(err, GF_ERR_INPUT, "audio type '%.100s' has no rate", mime);
    *fmt = AUDIO_PCM16;
    if (rate)
        *rate = r;
    if (channels)
        *channels = ch;
    return 0;
}

/* ---- libsndfile virtual I/O over memory ---- */

/* A virtual file: either writable, appended to `out` from offset `base`, or read-only bytes. */
struct vfile {
    struct buf *out;
    size_t base;
    const unsigned char *data;
    sf_count_t len, pos;
};

static sf_count_t vf_get_filelen(void *user)
{
    return ((struct vfile *)user)->len;
}

static sf_count_t vf_seek(sf_count_t offset, int whence, void *user)
{
    struct vfile *f = user;
    sf_count_t at = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? f->pos : f->len;
    if ((offset < 0 && -offset > at) || offset > INT64_MAX / 2)
        return -1;
    f->pos = at + offset; /* past the end is fine: a write there fills the gap with zeros */
    return f->pos;
}

static sf_count_t vf_read(void *ptr, sf_count_t count, void *user)
{
    struct vfile *f = user;
    if (count <= 0 || f->pos >= f->len)
        return 0;
    if (count > f->len - f->pos)
        count = f->len - f->pos;
    const unsigned char *src = f->out ? (unsigned char *)f->out->data + f->base : f->data;
    memcpy(ptr, src + f->pos, (size_t)count);
    f->pos += count;
    return count;
}

static sf_count_t vf_write(const void *ptr, sf_count_t count, void *user)
{
    struct vfile *f = user;
    if (!f->out || count <= 0)
        return 0;
    sf_count_t end = f->pos + count;
    if (end > f->len) {
        buf_grow(f->out, (size_t)(end - f->len));
        memset(f->out->data + f->base + f->len, 0, (size_t)(end - f->len));
        f->len = end;
        f->out->len = f->base + (size_t)end;
        f->out->data[f->out->len] = '\0';
    }
    memcpy(f->out->data + f->base + f->pos, ptr, (size_t)count);
    f->pos = end;
    return count;
}

static sf_count_t vf_tell(void *user)
{
    return ((struct vfile *)user)->pos;
}

static SF_VIRTUAL_IO vio = {vf_get_filelen, vf_seek, vf_read, vf_write, vf_tell};

/* libsndfile keeps the error of a failed open in a global (sf_strerror(NULL)); replies are
 * checked on worker threads, so opens are serialised and the reason copied under the lock. */
static pthread_mutex_t open_mu = PTHREAD_MUTEX_INITIALIZER;

static SNDFILE *open_virtual(int mode, SF_INFO *info, struct vfile *f, char *why, size_t n)
{
    pthread_mutex_lock(&open_mu);
    SNDFILE *sf = sf_open_virtual(&vio, mode, info, f);
    if (!sf)
        snprintf(why, n, "%s", sf_strerror(NULL));
    pthread_mutex_unlock(&open_mu);
    return sf;
}

/* ---- PCM to WAV ---- */

static void fill_facts(struct wav_facts *facts, int rate, int channels, int64_t frames)
{
    if (!facts)
        return;
    facts->sample_rate = rate;
    facts->channels = channels;
    facts->frames = frames;
    facts->duration_s = (double)frames / rate;
}

/* Write the little-endian samples through a small host-order buffer (no alignment or
 * endianness assumptions about `pcm`). */
static int write_samples(SNDFILE *sf, const unsigned char *pcm, size_t len, int channels)
{
    short chunk[1024 * CHANNELS_MAX];
    size_t per = (size_t)1024 * (size_t)channels * 2;
    for (size_t off = 0; off < len; off += per) {
        size_t n = len - off < per ? len - off : per;
        for (size_t i = 0; i < n / 2; i++)
            chunk[i] = (short)(int16_t)(uint16_t)(pcm[off + 2 * i] | pcm[off + 2 * i + 1] << 8);
        sf_count_t want = (sf_count_t)(n / 2 / (size_t)channels);
        if (sf_writef_short(sf, chunk, want) != want)
            return -1;
    }
    return 0;
}

int wav_from_pcm16(const void *pcm, size_t len, int rate, int channels, struct buf *out,
                   struct wav_facts *facts, struct gf_err *err)
{
    if (rate < RATE_MIN || rate > RATE_MAX)
        return gf_error(err, GF_ERR_INPUT, "PCM rate %d Hz is not %d..%d", rate, RATE_MIN,
                        RATE_MAX);
    if (channels < 1 || channels > CHANNELS_MAX)
        return gf_error(err, GF_ERR_INPUT, "PCM has %d channels, not 1..%d", channels,
                        CHANNELS_MAX);
    if (len == 0)
        return gf_error(err, GF_ERR_INPUT, "PCM is empty (0 bytes)");
    size_t frame = 2 * (size_t)channels;
    if (len % frame)
        return gf_error(err, GF_ERR_INPUT,
                        "PCM length %zu is not a multiple of %zu bytes per frame", len, frame);
    if (len / frame > (size_t)WAV_MAX_SECONDS * (size_t)rate)
        return gf_error(err, GF_ERR_INPUT, "PCM lasts %.1f s (%zu frames at %d Hz), more than %d s",
                        (double)(len / frame) / rate, len / frame, rate, WAV_MAX_SECONDS);
    if (len > 0xFFFFFFFFu - 1024) /* RIFF sizes are 32-bit */
        return gf_error(err, GF_ERR_INPUT, "PCM of %zu bytes is too long for a WAV file", len);

    size_t old_len = out->len;
    struct vfile f = {.out = out, .base = old_len};
    SF_INFO info = {
        .samplerate = rate, .channels = channels, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    char why[256];
    SNDFILE *sf = open_virtual(SFM_WRITE, &info, &f, why, sizeof why);
    if (!sf) {
        buf_setlen(out, old_len);
        return gf_error(err, GF_ERR_INPUT, "cannot start a WAV file: %s", why);
    }
    int wrote = write_samples(sf, pcm, len, channels);
    snprintf(why, sizeof why, "%s", sf_strerror(sf));
    int closed = sf_close(sf); /* rewrites the header with the final sizes */
    if (wrote < 0 || closed != 0) {
        buf_setlen(out, old_len);
        return gf_error(err, GF_ERR_INPUT, "cannot write WAV: %s",
                        wrote < 0 ? why : sf_error_number(closed));
    }
    fill_facts(facts, rate, channels, (int64_t)(len / frame));
    return 0;
}

/* ---- WAV validation ---- */

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* libsndfile quietly shortens a RIFF 'data' chunk that claims more bytes than the file holds;
 * a cut-off reply must fail instead. Placeholder sizes of streaming writers (0, >= 2^31 - 1)
 * are let through. Returns the missing byte count, 0 when whole. */
static uint64_t riff_data_missing(const unsigned char *d, size_t len)
{
    if (len < 12 || memcmp(d, "RIFF", 4) != 0 || memcmp(d + 8, "WAVE", 4) != 0)
        return 0;
    size_t off = 12;
    while (off + 8 <= len) {
        uint32_t size = le32(d + off + 4);
        if (memcmp(d + off, "data", 4) == 0) {
            uint64_t have = len - off - 8;
            if (size == 0 || size >= 0x7FFFFFFFu || size <= have)
                return 0;
            return size - have;
        }
        off += 8 + (size_t)size + (size & 1);
    }
    return 0;
}

static const char *format_name(int format, char *name, size_t n)
{
    SF_FORMAT_INFO fi = {.format = format & SF_FORMAT_TYPEMASK};
    if (sf_command(NULL, SFC_GET_FORMAT_INFO, &fi, sizeof fi) == 0 && fi.name)
        snprintf(name, n, "%s", fi.name);
    else
        snprintf(name, n, "format 0x%x", format);
    return name;
}

/* The limits of wav.h, from the header: refused before any frame is read. */
static int check_limits(const SF_INFO *info, struct gf_err *err)
{
    if (info->samplerate < RATE_MIN || info->samplerate > RATE_MAX)
        return gf_error(err, GF_ERR_INPUT, "WAV sample rate %d Hz is not %d..%d", info->samplerate,
                        RATE_MIN, RATE_MAX);
    if (info->channels > CHANNELS_MAX)
        return gf_error(err, GF_ERR_INPUT, "WAV has %d channels, not 1..%d", info->channels,
                        CHANNELS_MAX);
    if (info->frames > (sf_count_t)WAV_MAX_SECONDS * info->samplerate)
        return gf_error(err, GF_ERR_INPUT,
                        "WAV lasts %.1f s (%" PRId64 " frames at %d Hz), more than %d s",
                        (double)info->frames / info->samplerate, (int64_t)info->frames,
                        info->samplerate, WAV_MAX_SECONDS);
    return 0;
}

/* Read every frame; returns the count read, or -1 with a read error. */
static int64_t read_all(SNDFILE *sf, int channels)
{
    short *chunk = xmalloc(sizeof(short) * CHUNK_FRAMES * (size_t)channels);
    int64_t total = 0;
    sf_count_t n;
    while ((n = sf_readf_short(sf, chunk, CHUNK_FRAMES)) > 0)
        total += n;
    free(chunk);
    return sf_error(sf) != SF_ERR_NO_ERROR ? -1 : total;
}

int wav_check(const void *data, size_t len, struct wav_facts *facts, struct gf_err *err)
{
    if (len == 0)
        return gf_error(err, GF_ERR_INPUT, "WAV is empty (0 bytes)");
    struct vfile f = {.data = data, .len = (sf_count_t)len};
    SF_INFO info = {0};
    char why[256];
    SNDFILE *sf = open_virtual(SFM_READ, &info, &f, why, sizeof why);
    if (!sf)
        return gf_error(err, GF_ERR_INPUT, "WAV does not open: %s", why);
    int rc = -1;
    int major = info.format & SF_FORMAT_TYPEMASK;
    if (major != SF_FORMAT_WAV && major != SF_FORMAT_WAVEX && major != SF_FORMAT_RF64) {
        char name[64];
        gf_error(err, GF_ERR_INPUT, "audio is not a WAV file but %s",
                 format_name(info.format, name, sizeof name));
        goto out;
    }
    if (info.frames < 1 || info.samplerate <= 0 || info.channels <= 0) {
        gf_error(err, GF_ERR_INPUT, "WAV has no audio frames");
        goto out;
    }
    if (check_limits(&info, err) < 0)
        goto out;
    uint64_t missing = riff_data_missing(data, len);
    if (missing) {
        gf_error(err, GF_ERR_INPUT, "WAV is truncated: its data chunk lacks %" PRIu64 " bytes",
                 missing);
        goto out;
    }
    int64_t got = read_all(sf, info.channels);
    if (got < 0) {
        gf_error(err, GF_ERR_INPUT, "WAV does not read: %s", sf_strerror(sf));
        goto out;
    }
    if (got != info.frames) {
        gf_error(err, GF_ERR_INPUT, "WAV is truncated: %" PRId64 " of %" PRId64 " frames read", got,
                 (int64_t)info.frames);
        goto out;
    }
    fill_facts(facts, info.samplerate, info.channels, got);
    rc = 0;
out:
    sf_close(sf);
    return rc;
}
