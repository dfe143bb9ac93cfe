/* fake_media.c: the media of the fake Gemini server: image sizes per model and aspect ratio,
 * the deterministic picture, PNG images (libpng), a corrupted-PNG variant, a huge flat PNG,
 * audible 16-bit PCM speech stand-ins and their RIFF/WAVE wrapping. */
#include "fake.h"

#include <math.h>
#include <pthread.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const fk_voices[30] = {
    "Zephyr",    "Puck",          "Charon",       "Kore",      "Fenrir",     "Leda",
    "Orus",      "Aoede",         "Callirrhoe",   "Autonoe",   "Enceladus",  "Iapetus",
    "Umbriel",   "Algieba",       "Despina",      "Erinome",   "Algenib",    "Rasalgethi",
    "Laomedeia", "Achernar",      "Alnilam",      "Schedar",   "Gacrux",     "Pulcherrima",
    "Achird",    "Zubenelgenubi", "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat"};

struct ratio {
    const char *ar;
    int w;
    int h;
};

/* gemini-2.5-flash-image, gemini-api.md §2.1 */
static const struct ratio sizes_25[] = {
    {"1:1", 1024, 1024}, {"2:3", 832, 1248},  {"3:2", 1248, 832}, {"3:4", 864, 1184},
    {"4:3", 1184, 864},  {"4:5", 896, 1152},  {"5:4", 1152, 896}, {"9:16", 768, 1344},
    {"16:9", 1344, 768}, {"21:9", 1536, 672}, {NULL, 0, 0}};

/* Gemini 3.x image models at 1K; the last four ratios exist on 3.1 only. */
static const struct ratio sizes_3[] = {
    {"1:1", 1024, 1024}, {"2:3", 848, 1264},  {"3:2", 1264, 848}, {"3:4", 896, 1200},
    {"4:3", 1200, 896},  {"4:5", 928, 1152},  {"5:4", 1152, 928}, {"9:16", 768, 1376},
    {"16:9", 1376, 768}, {"21:9", 1584, 672}, {"1:4", 512, 2048}, {"4:1", 2048, 512},
    {"1:8", 384, 3072},  {"8:1", 3072, 384},  {NULL, 0, 0}};

static const struct ratio sizes_imagen[] = {{"1:1", 1024, 1024}, {"3:4", 896, 1280},
                                            {"4:3", 1280, 896},  {"9:16", 768, 1408},
                                            {"16:9", 1408, 768}, {NULL, 0, 0}};

bool fk_model_is_gemini3_image(const struct fk_model *m)
{
    return m->kind == FK_KIND_IMAGE && !(m->traits & FK_T_IMG_25);
}

static int lookup(const struct ratio *t, int limit, const char *ar, int *w, int *h)
{
    for (int i = 0; t[i].ar && i < limit; i++)
        if (strcmp(t[i].ar, ar) == 0) {
            *w = t[i].w;
            *h = t[i].h;
            return 0;
        }
    return -1;
}

int fk_image_dims(const struct fk_model *m, const char *aspect, const char *size, int *w, int *h)
{
    const char *ar = aspect ? aspect : "1:1";
    if (!fk_model_is_gemini3_image(m))
        return lookup(sizes_25, 100, ar, w, h);
    if (lookup(sizes_3, m->traits & FK_T_IMG_EXT ? 100 : 10, ar, w, h) < 0)
        return -1;
    if (size && strcmp(size, "512") == 0) { /* half the 1K sides */
        *w /= 2;
        *h /= 2;
        return 0;
    }
    int scale = size && strcmp(size, "4K") == 0 ? 4 : size && strcmp(size, "2K") == 0 ? 2 : 1;
    *w *= scale;
    *h *= scale;
    return 0;
}

const char *fk_image_ratios(const struct fk_model *m)
{
    if (fk_model_is_gemini3_image(m) && (m->traits & FK_T_IMG_EXT))
        return "'1:1', '1:4', '1:8', '2:3', '3:2', '3:4', '4:1', '4:3', '4:5', '5:4', '8:1', "
               "'9:16', '16:9', or '21:9'";
    return "'1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', or '21:9'";
}

int fk_imagen_dims(const char *aspect, int scale, int *w, int *h)
{
    if (lookup(sizes_imagen, 100, aspect ? aspect : "1:1", w, h) < 0)
        return -1;
    *w *= scale;
    *h *= scale;
    return 0;
}

/* ---- PNG ---- */

struct painting {
    unsigned char top[3], bottom[3], ground[3];
    int horizon;
    int n_discs;
    struct {
        int cx, cy, r;
        unsigned char rgb[3];
    } disc[6];
};

static void paint_setup(struct painting *pt, int w, int h, uint64_t seed)
{
    uint64_t x = seed;
    for (int c = 0; c < 3; c++) {
        x = fk_mix(x);
        pt->top[c] = (unsigned char)(40 + x % 170);
        pt->bottom[c] = (unsigned char)(60 + (x >> 16) % 190);
        pt->ground[c] = (unsigned char)(20 + (x >> 32) % 90);
    }
    x = fk_mix(x);
    pt->horizon = (int)(h * (0.55 + 0.15 * fk_unit(x)));
    pt->n_discs = 3 + (int)(x % 4);
    for (int i = 0; i < pt->n_discs; i++) {
        x = fk_mix(x + (uint64_t)i);
        int side = w < h ? w : h;
        pt->disc[i].cx = (int)(x % (uint64_t)w);
        pt->disc[i].cy = (int)((x >> 20) % (uint64_t)h);
        pt->disc[i].r = side / 16 + (int)((x >> 40) % (uint64_t)(side / 5 + 1));
        for (int c = 0; c < 3; c++)
            pt->disc[i].rgb[c] = (unsigned char)(80 + (fk_mix(x + (uint64_t)c) % 176));
    }
}

struct fk_painting *fk_paint_new(int w, int h, uint64_t seed)
{
    struct painting *pt = fk_malloc(sizeof *pt);
    paint_setup(pt, w, h, seed);
    return (struct fk_painting *)pt;
}

static int grain; /* set once at start-up, before any thread serves */

void fk_png_set_grain(int amplitude)
{
    grain = amplitude;
}

static void add_grain(unsigned char *row, int w, int y)
{
    uint64_t x = fk_mix((uint64_t)y * 0x9E3779B97F4A7C15ULL + 1);
    for (int i = 0; i < 3 * w; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int v = row[i] + (int)(x % (uint64_t)(2 * grain + 1)) - grain;
        row[i] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

static void paint_row(const struct painting *pt, unsigned char *row, int w, int h, int y)
{
    const unsigned char *a = y < pt->horizon ? pt->top : pt->ground;
    const unsigned char *b = y < pt->horizon ? pt->bottom : pt->top;
    int span = y < pt->horizon ? pt->horizon : h - pt->horizon;
    int pos = y < pt->horizon ? y : y - pt->horizon;
    for (int c = 0; c < 3; c++) {
        int base = a[c] + (b[c] - a[c]) * pos / (span ? span : 1);
        for (int x = 0; x < w; x++) /* a gentle left-to-right shading */
            row[3 * x + c] = (unsigned char)(base * (768 + 256 * x / w) / 1024);
    }
    for (int i = 0; i < pt->n_discs; i++) {
        long dy = y - pt->disc[i].cy, r = pt->disc[i].r;
        if (dy * dy > r * r)
            continue;
        int half = (int)sqrt((double)(r * r - dy * dy));
        int x0 = pt->disc[i].cx - half < 0 ? 0 : pt->disc[i].cx - half;
        int x1 = pt->disc[i].cx + half >= w ? w - 1 : pt->disc[i].cx + half;
        for (int x = x0; x <= x1; x++)
            memcpy(row + 3 * x, pt->disc[i].rgb, 3);
    }
    if (grain)
        add_grain(row, w, y);
}

void fk_paint_row(const struct fk_painting *pt, unsigned char *row, int w, int h, int y)
{
    paint_row((const struct painting *)pt, row, w, h, y);
}

static void png_write_cb(png_structp png, png_bytep data, size_t len)
{
    fk_buf_add(png_get_io_ptr(png), data, len);
}

static void png_flush_cb(png_structp png)
{
    (void)png;
}

/* The libpng calls; kept apart so that setjmp has no locals to clobber. */
static int png_encode(png_structp png, png_infop info, struct fk_buf *out, unsigned char *row,
                      const struct painting *pt, int w, int h)
{
    if (setjmp(png_jmpbuf(png)))
        return -1;
    png_set_write_fn(png, out, png_write_cb, png_flush_cb);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 1); /* fast: a 4K image must not stall a benchmark */
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) {
        paint_row(pt, row, w, h, y);
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    return 0;
}

/* --media-cache (benchmarks): each image size is painted once, and audio is cut from the
 * longest PCM made so far, so the fake's own CPU stays out of the latency it simulates. The
 * media then no longer depend on the prompt. */
static bool media_cache;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    int w, h;
    char format;
    unsigned char *data;
    size_t len;
} img_cache[32];
static size_t n_img_cache;
static unsigned char *pcm_cache;
static long pcm_cache_frames;

void fk_media_cache_enable(void)
{
    media_cache = true;
}

unsigned char *fk_media_cached(char format, int w, int h, uint64_t seed, size_t *len,
                               unsigned char *(*paint)(int, int, uint64_t, size_t *))
{
    if (!media_cache)
        return paint(w, h, seed, len);
    pthread_mutex_lock(&cache_lock);
    size_t i = 0;
    while (i < n_img_cache &&
           (img_cache[i].w != w || img_cache[i].h != h || img_cache[i].format != format))
        i++;
    if (i == n_img_cache && i < sizeof img_cache / sizeof img_cache[0]) {
        img_cache[i].data = paint(w, h, 0, &img_cache[i].len);
        img_cache[i].w = w;
        img_cache[i].h = h;
        img_cache[i].format = format;
        n_img_cache++;
    }
    unsigned char *copy = NULL;
    if (i < n_img_cache) {
        copy = fk_malloc(img_cache[i].len);
        memcpy(copy, img_cache[i].data, img_cache[i].len);
        *len = img_cache[i].len;
    }
    pthread_mutex_unlock(&cache_lock);
    return copy ? copy : paint(w, h, seed, len);
}

static unsigned char *png_paint(int w, int h, uint64_t seed, size_t *len);

unsigned char *fk_png_make(int w, int h, uint64_t seed, size_t *len)
{
    return fk_media_cached('p', w, h, seed, len, png_paint);
}

static unsigned char *png_paint(int w, int h, uint64_t seed, size_t *len)
{
    struct painting pt;
    paint_setup(&pt, w, h, seed);
    struct fk_buf out = FK_BUF_INIT;
    unsigned char *row = fk_malloc((size_t)w * 3);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int rc = info ? png_encode(png, info, &out, row, &pt, w, h) : -1;
    png_destroy_write_struct(&png, info ? &info : NULL);
    free(row);
    if (rc < 0) { /* only on out-of-memory: our parameters are always valid */
        fputs(FK_PREFIX "cannot encode a PNG\n", stderr);
        abort();
    }
    return (unsigned char *)fk_buf_detach(&out, len);
}

/* The libpng calls of the huge flat image: 1-bit palette rows of zeros, deflated at level 9. */
static int png_encode_flat(png_structp png, png_infop info, struct fk_buf *out, unsigned char *row,
                           int side)
{
    if (setjmp(png_jmpbuf(png)))
        return -1;
    png_set_write_fn(png, out, png_write_cb, png_flush_cb);
    png_set_IHDR(png, info, (png_uint_32)side, (png_uint_32)side, 1, PNG_COLOR_TYPE_PALETTE,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_color plte[1] = {{70, 110, 150}};
    png_set_PLTE(png, info, plte, 1);
    png_set_compression_level(png, 9);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
    png_write_info(png, info);
    for (int y = 0; y < side; y++)
        png_write_row(png, row);
    png_write_end(png, NULL);
    return 0;
}

unsigned char *fk_png_huge(size_t *len, int *side)
{
    enum { SIDE = 16384 };
    struct fk_buf out = FK_BUF_INIT;
    unsigned char *row = fk_calloc(SIDE / 8, 1);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int rc = info ? png_encode_flat(png, info, &out, row, SIDE) : -1;
    png_destroy_write_struct(&png, info ? &info : NULL);
    free(row);
    if (rc < 0) {
        fputs(FK_PREFIX "cannot encode a PNG\n", stderr);
        abort();
    }
    *side = SIDE;
    return (unsigned char *)fk_buf_detach(&out, len);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void fk_png_corrupt(unsigned char *png, size_t len)
{
    for (size_t off = 8; off + 12 <= len;) {
        uint32_t n = be32(png + off);
        if (off + 12 + n > len)
            return;
        if (memcmp(png + off + 4, "IDAT", 4) == 0 && n >= 4) {
            unsigned char *data = png + off + 8;
            data[0] = 0xff; /* CM=15: not deflate, so inflate fails at once */
            data[1] = 0xff;
            for (uint32_t i = n / 2; i < n && i < n / 2 + 16; i++)
                data[i] ^= 0x5a;
            uint32_t crc = fk_crc32(0, png + off + 4, 4 + n); /* chunks still check out */
            unsigned char *c = data + n;
            c[0] = (unsigned char)(crc >> 24);
            c[1] = (unsigned char)(crc >> 16);
            c[2] = (unsigned char)(crc >> 8);
            c[3] = (unsigned char)crc;
            return;
        }
        off += 12 + n;
    }
}

/* ---- audio ---- */

static unsigned char *pcm_synth(long frames, uint64_t seed);

unsigned char *fk_pcm_make(long frames, uint64_t seed)
{
    if (!media_cache)
        return pcm_synth(frames, seed);
    pthread_mutex_lock(&cache_lock);
    if (frames > pcm_cache_frames) {
        free(pcm_cache);
        pcm_cache = pcm_synth(frames, 0);
        pcm_cache_frames = frames;
    }
    unsigned char *copy = fk_malloc((size_t)frames * 2 + 1);
    memcpy(copy, pcm_cache, (size_t)frames * 2);
    pthread_mutex_unlock(&cache_lock);
    return copy;
}

static unsigned char *pcm_synth(long frames, uint64_t seed)
{
    unsigned char *pcm = fk_malloc((size_t)frames * 2);
    const double rate = FK_PCM_RATE, total = (double)frames / rate;
    double f0 = 120.0 + (double)(seed % 100), phase = 0;
    double syll = 2.5 + (double)((seed >> 8) % 20) / 10.0;
    for (long i = 0; i < frames; i++) {
        double t = (double)i / rate;
        double f = f0 * (1.0 + 0.2 * sin(2 * M_PI * t / 3.0)); /* slow pitch glide */
        phase += 2 * M_PI * f / rate;
        double env = 0.55 + 0.45 * pow(sin(M_PI * syll * t), 2); /* syllable-like swell */
        double fade = fmin(1.0, fmin(t / 0.02, (total - t) / 0.02));
        double v = (sin(phase) + 0.35 * sin(2 * phase) + 0.15 * sin(3 * phase)) / 1.5;
        long s = lrint(v * env * fmax(fade, 0.0) * 0.5 * 32767.0);
        pcm[2 * i] = (unsigned char)(s & 0xff);
        pcm[2 * i + 1] = (unsigned char)((s >> 8) & 0xff);
    }
    return pcm;
}

static void le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

unsigned char *fk_wav_wrap(const unsigned char *pcm, size_t pcm_bytes, int rate, size_t *len)
{
    unsigned char *w = fk_malloc(44 + pcm_bytes);
    memcpy(w, "RIFF", 4);
    le32(w + 4, (uint32_t)(36 + pcm_bytes));
    memcpy(w + 8, "WAVEfmt ", 8);
    le32(w + 16, 16);
    w[20] = 1; /* PCM */
    w[21] = 0;
    w[22] = 1; /* mono */
    w[23] = 0;
    le32(w + 24, (uint32_t)rate);
    le32(w + 28, (uint32_t)rate * 2);
    w[32] = 2; /* block align */
    w[33] = 0;
    w[34] = 16; /* bits per sample */
    w[35] = 0;
    memcpy(w + 36, "data", 4);
    le32(w + 40, (uint32_t)pcm_bytes);
    memcpy(w + 44, pcm, pcm_bytes);
    *len = 44 + pcm_bytes;
    return w;
}
