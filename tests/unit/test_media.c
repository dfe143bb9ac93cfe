/* test_media: WAV writing and validation (and its limits), audio mime types, and SHA-256 digests.
 * Images are tested in test_imgcodec.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "buf.h"
#include "sha256.h"
#include "wav.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TEST_DATA_DIR
#error "TEST_DATA_DIR must name tests/data"
#endif

/* ---- helpers ---- */

/* A file under tests/data/media/ (made by other tools: Python's zlib and wave modules). */
static void load_media(const char *name, struct buf *b)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/media/%s", TEST_DATA_DIR, name);
    if (buf_read_file(b, path) != 0)
        fail_msg("cannot read %s", path);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* ---- WAV ---- */

/* 4800 frames (0.2 s at 24 kHz) of a 440 Hz tone as little-endian 16-bit PCM. */
static void make_pcm(unsigned char *pcm, size_t frames)
{
    for (size_t i = 0; i < frames; i++) {
        int16_t v = (int16_t)lrint(12000.0 * sin(2 * M_PI * 440.0 * (double)i / 24000.0));
        pcm[2 * i] = (unsigned char)((uint16_t)v & 0xFF);
        pcm[2 * i + 1] = (unsigned char)((uint16_t)v >> 8);
    }
}

static unsigned char pcm4800[9600];

static void make_wav(struct buf *out)
{
    make_pcm(pcm4800, 4800);
    struct gf_err err = GF_ERR_INIT;
    if (wav_from_pcm16(pcm4800, sizeof pcm4800, 24000, 1, out, NULL, &err) != 0)
        fail_msg("%s", err.msg);
}

/* Offset of a RIFF chunk's header, walking the chunk list; fails when absent. */
static size_t riff_chunk(const struct buf *b, const char *id)
{
    for (size_t off = 12; off + 8 <= b->len;) {
        if (memcmp(b->data + off, id, 4) == 0)
            return off;
        uint32_t size = le32((unsigned char *)b->data + off + 4);
        off += 8 + size + (size & 1);
    }
    fail_msg("no '%s' chunk", id);
    return 0;
}

static void test_wav_from_pcm_facts(void **state)
{
    make_pcm(pcm4800, 4800);
    struct buf out = BUF_INIT;
    struct wav_facts facts;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(wav_from_pcm16(pcm4800, sizeof pcm4800, 24000, 1, &out, &facts, &err), 0);
    assert_int_equal(facts.sample_rate, 24000);
    assert_int_equal(facts.channels, 1);
    assert_int_equal(facts.frames, 4800);
    assert_float_equal(facts.duration_s, 0.2, 1e-12);
    buf_release(&out);
}

static void test_wav_header_bytes(void **state)
{
    struct buf out = BUF_INIT;
    make_wav(&out);
    const unsigned char *d = (const unsigned char *)out.data;
    assert_memory_equal(d, "RIFF", 4);
    assert_int_equal(le32(d + 4), out.len - 8);
    assert_memory_equal(d + 8, "WAVE", 4);
    size_t fmt = riff_chunk(&out, "fmt ");
    assert_true(le32(d + fmt + 4) >= 16);
    assert_int_equal(le16(d + fmt + 8), 1);      /* WAVE_FORMAT_PCM */
    assert_int_equal(le16(d + fmt + 10), 1);     /* channels */
    assert_int_equal(le32(d + fmt + 12), 24000); /* sample rate */
    assert_int_equal(le32(d + fmt + 16), 48000); /* byte rate = 24000 * 2 */
    assert_int_equal(le16(d + fmt + 20), 2);     /* block align */
    assert_int_equal(le16(d + fmt + 22), 16);    /* bits per sample */
    size_t data = riff_chunk(&out, "data");
    assert_int_equal(le32(d + data + 4), 9600);
    assert_int_equal(data + 8 + 9600, out.len);
    buf_release(&out);
}

static void test_wav_payload_is_the_pcm(void **state)
{
    struct buf out = BUF_INIT;
    make_wav(&out);
    size_t data = riff_chunk(&out, "data");
    assert_memory_equal(out.data + data + 8, pcm4800, sizeof pcm4800);
    buf_release(&out);
}

static void test_wav_appends_after_existing_bytes(void **state)
{
    struct buf out = BUF_INIT;
    buf_adds(&out, "prefix");
    make_wav(&out);
    assert_memory_equal(out.data, "prefixRIFF", 10);
    struct wav_facts facts;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(wav_check(out.data + 6, out.len - 6, &facts, &err), 0);
    assert_int_equal(facts.frames, 4800);
    buf_release(&out);
}

static void test_wav_stereo(void **state)
{
    unsigned char pcm[4 * 1000];
    for (size_t i = 0; i < sizeof pcm; i++)
        pcm[i] = (unsigned char)(i * 31);
    struct buf out = BUF_INIT;
    struct wav_facts facts;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(wav_from_pcm16(pcm, sizeof pcm, 16000, 2, &out, &facts, &err), 0);
    assert_int_equal(facts.frames, 1000);
    assert_float_equal(facts.duration_s, 0.0625, 1e-12);
    size_t fmt = riff_chunk(&out, "fmt ");
    assert_int_equal(le16((unsigned char *)out.data + fmt + 10), 2);
    assert_int_equal(le16((unsigned char *)out.data + fmt + 20), 4);
    buf_release(&out);
}

static void test_wav_odd_length_rejected(void **state)
{
    make_pcm(pcm4800, 4800);
    struct buf out = BUF_INIT;
    buf_adds(&out, "keep");
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(wav_from_pcm16(pcm4800, 4801, 24000, 1, &out, NULL, &err), -1);
    assert_string_equal(err.msg, "PCM length 4801 is not a multiple of 2 bytes per frame");
    assert_string_equal(out.data, "keep");
    assert_int_equal(out.len, 4);
    buf_release(&out);
}

static void test_wav_partial_stereo_frame_rejected(void **state)
{
    unsigned char pcm[6] = {0};
    struct buf out = BUF_INIT;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(wav_from_pcm16(pcm, sizeof pcm, 24000, 2, &out, NULL, &err), -1);
    assert_string_equal(err.msg, "PCM length 6 is not a multiple of 4 bytes per frame");
    assert_int_equal(out.len, 0);
}

static void test_wav_empty_pcm_rejected(void **state)
{
    struct buf out = BUF_INIT;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(wav_from_pcm16("", 0, 24000, 1, &out, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "empty"));
    assert_int_equal(out.len, 0);
}

static void test_wav_bad_rate_rejected(void **state)
{
    unsigned char pcm[4] = {0};
    struct buf out = BUF_INIT;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(wav_from_pcm16(pcm, sizeof pcm, 0, 1, &out, NULL, &err), -1);
    assert_int_equal(wav_from_pcm16(pcm, sizeof pcm, 24000, 0, &out, NULL, &err), -1);
    assert_int_equal(out.len, 0);
}

static void test_wav_check_round_trip(void **state)
{
    struct buf out = BUF_INIT;
    make_wav(&out);
    struct wav_facts facts;
    struct gf_err err = GF_ERR_INIT;
    if (wav_check(out.data, out.len, &facts, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(facts.sample_rate, 24000);
    assert_int_equal(facts.channels, 1);
    assert_int_equal(facts.frames, 4800);
    assert_float_equal(facts.duration_s, 0.2, 1e-12);
    buf_release(&out);
}

static void test_wav_check_from_another_writer(void **state)
{
    struct buf b = BUF_INIT;
    load_media("tone_24k_48.wav", &b); /* Python's wave module: 48 frames, mono, 24 kHz */
    struct wav_facts facts;
    struct gf_err err = GF_ERR_INIT;
    if (wav_check(b.data, b.len, &facts, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(facts.sample_rate, 24000);
    assert_int_equal(facts.channels, 1);
    assert_int_equal(facts.frames, 48);
    assert_float_equal(facts.duration_s, 0.002, 1e-12);
    buf_release(&b);
}

static void wav_must_fail(const void *data, size_t len, const char *want)
{
    struct wav_facts facts = {7, 7, 7, 7.0};
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(wav_check(data, len, &facts, &err), -1);
    assert_int_equal(err.kind, GF_ERR_INPUT);
    if (!strstr(err.msg, want))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
    assert_int_equal(facts.frames, 7);
}

static void test_wav_check_garbage(void **state)
{
    static const char garbage[] = "this is not audio at all, just some text bytes......";
    wav_must_fail(garbage, sizeof garbage - 1, "WAV does not open");
}

static void test_wav_check_truncated_header(void **state)
{
    struct buf out = BUF_INIT;
    make_wav(&out);
    wav_must_fail(out.data, 20, "WAV does not open");
    buf_release(&out);
}

static void test_wav_check_truncated_data(void **state)
{
    struct buf out = BUF_INIT;
    make_wav(&out);
    wav_must_fail(out.data, out.len - 100, "WAV is truncated: its data chunk lacks 100 bytes");
    buf_release(&out);
}

static void test_wav_check_empty(void **state)
{
    wav_must_fail("", 0, "WAV is empty");
}

static void test_wav_check_no_frames(void **state)
{
    /* a canonical 44-byte header: PCM, mono, 24000 Hz, 16 bits, and an empty data chunk */
    static const unsigned char hdr[44] = {'R', 'I', 'F',  'F',  36,  0,   0,    0,    'W', 'A', 'V',
                                          'E', 'f', 'm',  't',  ' ', 16,  0,    0,    0,   1,   0,
                                          1,   0,   0xC0, 0x5D, 0,   0,   0x80, 0xBB, 0,   0,   2,
                                          0,   16,  0,    'd',  'a', 't', 'a',  0,    0,   0,   0};
    wav_must_fail(hdr, sizeof hdr, "WAV has no audio frames");
}

static void test_wav_check_rejects_other_formats(void **state)
{
    char path[] = "/tmp/test_media_aiff_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    SF_INFO info = {
        .samplerate = 24000, .channels = 1, .format = SF_FORMAT_AIFF | SF_FORMAT_PCM_16};
    SNDFILE *sf = sf_open_fd(fd, SFM_WRITE, &info, 1);
    assert_non_null(sf);
    short samples[480] = {0};
    assert_int_equal(sf_write_short(sf, samples, 480), 480);
    sf_close(sf);
    struct buf aiff = BUF_INIT;
    assert_int_equal(buf_read_file(&aiff, path), 0);
    unlink(path);
    wav_must_fail(aiff.data, aiff.len, "not a WAV file");
    buf_release(&aiff);
}

/* ---- WAV limits ---- */

/* A WAV of `frames` frames of silence written by libsndfile itself (not through wav.c). */
static void sndfile_wav(int rate, int channels, int64_t frames, struct buf *out)
{
    char path[] = "/tmp/test_media_wav_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    SF_INFO info = {
        .samplerate = rate, .channels = channels, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *sf = sf_open_fd(fd, SFM_WRITE, &info, 1);
    if (!sf)
        fail_msg("libsndfile: %s", sf_strerror(NULL));
    static short zeros[8192 * 3];
    for (int64_t left = frames; left > 0;) {
        sf_count_t n = left < 8192 ? left : 8192;
        assert_int_equal(sf_writef_short(sf, zeros, n), n);
        left -= n;
    }
    sf_close(sf);
    assert_int_equal(buf_read_file(out, path), 0);
    unlink(path);
}

/* A header that says 1 Hz: 4800 frames would last 80 minutes. */
static void test_wav_check_one_hertz(void **state)
{
    struct buf out = BUF_INIT;
    make_wav(&out);
    size_t fmt = riff_chunk(&out, "fmt ");
    unsigned char *d = (unsigned char *)out.data + fmt;
    memcpy(d + 12, "\x01\0\0\0", 4); /* sample rate */
    memcpy(d + 16, "\x02\0\0\0", 4); /* byte rate = rate * block align */
    wav_must_fail(out.data, out.len, "WAV sample rate 1 Hz is not 8000..192000");
    memcpy(d + 12, "\x01\xEE\x02\0", 4); /* 192001 Hz */
    memcpy(d + 16, "\x02\xDC\x05\0", 4);
    wav_must_fail(out.data, out.len, "WAV sample rate 192001 Hz is not 8000..192000");
    buf_release(&out);
}

static void test_wav_check_three_channels(void **state)
{
    struct buf b = BUF_INIT;
    sndfile_wav(24000, 3, 4800, &b);
    wav_must_fail(b.data, b.len, "WAV has 3 channels, not 1..2");
    buf_reset(&b);
    sndfile_wav(24000, 2, 4800, &b); /* stereo is fine */
    struct wav_facts facts;
    struct gf_err err = GF_ERR_INIT;
    if (wav_check(b.data, b.len, &facts, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(facts.channels, 2);
    buf_release(&b);
}

/* 600 s is the limit: exactly that passes, one frame more does not. */
static void test_wav_check_too_long(void **state)
{
    struct buf b = BUF_INIT;
    sndfile_wav(8000, 1, 600 * 8000, &b);
    struct wav_facts facts;
    struct gf_err err = GF_ERR_INIT;
    if (wav_check(b.data, b.len, &facts, &err) != 0)
        fail_msg("%s", err.msg);
    assert_float_equal(facts.duration_s, 600.0, 1e-9);
    buf_reset(&b);
    sndfile_wav(8000, 1, 600 * 8000 + 1, &b);
    wav_must_fail(b.data, b.len, "WAV lasts 600.0 s (4800001 frames at 8000 Hz), more than 600 s");
    buf_release(&b);
}

static void test_wav_from_pcm_limits(void **state)
{
    size_t len = (size_t)600 * 8000 * 2;
    unsigned char *pcm = calloc(len + 2, 1);
    struct buf out = BUF_INIT;
    buf_adds(&out, "keep");
    struct wav_facts facts;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(wav_from_pcm16(pcm, len + 2, 8000, 1, &out, NULL, &err), -1);
    assert_string_equal(err.msg, "PCM lasts 600.0 s (4800001 frames at 8000 Hz), more than 600 s");
    assert_int_equal(wav_from_pcm16(pcm, 12, 24000, 3, &out, NULL, &err), -1);
    assert_string_equal(err.msg, "PCM has 3 channels, not 1..2");
    assert_int_equal(wav_from_pcm16(pcm, 12, 7999, 1, &out, NULL, &err), -1);
    assert_string_equal(err.msg, "PCM rate 7999 Hz is not 8000..192000");
    assert_string_equal(out.data, "keep");
    if (wav_from_pcm16(pcm, len, 8000, 1, &out, &facts, &err) != 0)
        fail_msg("%s", err.msg);
    assert_float_equal(facts.duration_s, 600.0, 1e-9);
    if (wav_check(out.data + 4, out.len - 4, &facts, &err) != 0) /* and it reads back */
        fail_msg("%s", err.msg);
    assert_int_equal(facts.frames, 600 * 8000);
    free(pcm);
    buf_release(&out);
}

/* ---- audio mime types ---- */

static void test_mime_l16(void **state)
{
    static const struct {
        const char *mime;
        int rate, channels;
    } ok[] = {
        {"audio/L16;codec=pcm;rate=24000", 24000, 1},
        {"audio/l16; rate=16000; channels=2", 16000, 2},
        {"AUDIO/L16 ; RATE=\"44100\"", 44100, 1},
        {"audio/L16;rate=8000", 8000, 1},
        {"audio/L16;channels=1;rate=192000;endianness=little", 192000, 1},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        enum audio_format fmt = AUDIO_WAV;
        int rate = 0, channels = 0;
        struct gf_err err = GF_ERR_INIT;
        if (audio_mime_parse(ok[i].mime, &fmt, &rate, &channels, &err) != 0)
            fail_msg("'%s': %s", ok[i].mime, err.msg);
        assert_int_equal(fmt, AUDIO_PCM16);
        assert_int_equal(rate, ok[i].rate);
        assert_int_equal(channels, ok[i].channels);
    }
}

static void test_mime_wav(void **state)
{
    static const char *const ok[] = {"audio/wav",      "audio/x-wav",         "audio/wave",
                                     "audio/vnd.wave", "Audio/WAV; codecs=1", " audio/wav "};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        enum audio_format fmt = AUDIO_PCM16;
        int rate = -1, channels = -1;
        struct gf_err err = GF_ERR_INIT;
        if (audio_mime_parse(ok[i], &fmt, &rate, &channels, &err) != 0)
            fail_msg("'%s': %s", ok[i], err.msg);
        assert_int_equal(fmt, AUDIO_WAV);
        assert_int_equal(rate, 0); /* from the file */
    }
}

static void test_mime_rejected(void **state)
{
    static const char *const bad[] = {
        "audio/mpeg",
        "audio/L16",
        "audio/L16;codec=pcm",
        "audio/L16;rate=7999",
        "audio/L16;rate=192001",
        "audio/L16;rate=abc",
        "audio/L16;rate=",
        "audio/L16;rate=24000;channels=0",
        "audio/L16;rate=24000;channels=3",
        "audio/L16;rate=24000;channels=9",
        "audio/L16;codec=opus;rate=24000",
        "audio/L24;rate=24000",
        "audio/L16x;rate=24000",
        "image/png",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        enum audio_format fmt;
        int rate, channels;
        struct gf_err err = GF_ERR_INIT;
        if (audio_mime_parse(bad[i], &fmt, &rate, &channels, &err) != -1)
            fail_msg("'%s' accepted", bad[i]);
        char quoted[128];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        if (!strstr(err.msg, quoted))
            fail_msg("message \"%s\" does not name %s", err.msg, quoted);
    }
}

static void test_mime_messages(void **state)
{
    enum audio_format fmt;
    int rate, channels;
    struct gf_err err = GF_ERR_INIT;
    audio_mime_parse("audio/mpeg", &fmt, &rate, &channels, &err);
    assert_string_equal(err.msg, "unsupported audio type 'audio/mpeg'");
    audio_mime_parse("audio/L16", &fmt, &rate, &channels, &err);
    assert_string_equal(err.msg, "audio type 'audio/L16' has no rate");
    assert_int_equal(audio_mime_parse(NULL, &fmt, &rate, &channels, &err), -1);
    assert_int_equal(audio_mime_parse("", &fmt, &rate, &channels, &err), -1);
}

/* ---- SHA-256 (FIPS 180-2 / NIST example vectors) ---- */

static void test_sha256_abc(void **state)
{
    char hex[SHA256_HEX_LEN + 1];
    sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_sha256_empty(void **state)
{
    char hex[SHA256_HEX_LEN + 1];
    sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_sha256_incremental(void **state)
{
    const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    struct sha256_ctx *c = sha256_new();
    size_t len = strlen(msg);
    for (size_t off = 0; off < len; off += 5) /* 5-byte pieces straddle the 64-byte block */
        sha256_update(c, msg + off, len - off < 5 ? len - off : 5);
    char hex[SHA256_HEX_LEN + 1];
    sha256_final_hex(c, hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_sha256_file_million_a(void **state)
{
    char path[] = "/tmp/test_media_sha_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char *a = malloc(1000000);
    memset(a, 'a', 1000000);
    assert_int_equal(write(fd, a, 1000000), 1000000); /* several read chunks */
    close(fd);
    free(a);
    char hex[SHA256_HEX_LEN + 1];
    size_t size = 0;
    assert_int_equal(sha256_file(path, hex, &size), 0);
    unlink(path);
    assert_int_equal(size, 1000000);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_sha256_file_abc(void **state)
{
    char path[] = "/tmp/test_media_sha_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abc", 3), 3);
    close(fd);
    char hex[SHA256_HEX_LEN + 1];
    assert_int_equal(sha256_file(path, hex, NULL), 0);
    unlink(path);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_sha256_file_missing(void **state)
{
    char hex[SHA256_HEX_LEN + 1];
    errno = 0;
    assert_int_equal(sha256_file("/nonexistent/gemflow/file", hex, NULL), -1);
    assert_int_equal(errno, ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wav_from_pcm_facts),
        cmocka_unit_test(test_wav_header_bytes),
        cmocka_unit_test(test_wav_payload_is_the_pcm),
        cmocka_unit_test(test_wav_appends_after_existing_bytes),
        cmocka_unit_test(test_wav_stereo),
        cmocka_unit_test(test_wav_odd_length_rejected),
        cmocka_unit_test(test_wav_partial_stereo_frame_rejected),
        cmocka_unit_test(test_wav_empty_pcm_rejected),
        cmocka_unit_test(test_wav_bad_rate_rejected),
        cmocka_unit_test(test_wav_check_round_trip),
        cmocka_unit_test(test_wav_check_from_another_writer),
        cmocka_unit_test(test_wav_check_garbage),
        cmocka_unit_test(test_wav_check_truncated_header),
        cmocka_unit_test(test_wav_check_truncated_data),
        cmocka_unit_test(test_wav_check_empty),
        cmocka_unit_test(test_wav_check_no_frames),
        cmocka_unit_test(test_wav_check_rejects_other_formats),
        cmocka_unit_test(test_wav_check_one_hertz),
        cmocka_unit_test(test_wav_check_three_channels),
        cmocka_unit_test(test_wav_check_too_long),
        cmocka_unit_test(test_wav_from_pcm_limits),
        cmocka_unit_test(test_mime_l16),
        cmocka_unit_test(test_mime_wav),
        cmocka_unit_test(test_mime_rejected),
        cmocka_unit_test(test_mime_messages),
        cmocka_unit_test(test_sha256_abc),
        cmocka_unit_test(test_sha256_empty),
        cmocka_unit_test(test_sha256_incremental),
        cmocka_unit_test(test_sha256_file_million_a),
        cmocka_unit_test(test_sha256_file_abc),
        cmocka_unit_test(test_sha256_file_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
