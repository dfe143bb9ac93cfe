/* imgcodec: image formats by their bytes, names and labels, the size limits, and the check and
 * conversion entry points that dispatch to the codec files (imgcodec_png/jpeg/webp.c). */
#include "imgcodec_impl.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const struct img_codec *const codecs[] = {&img_codec_png, &img_codec_jpeg, &img_codec_webp};

static const struct img_codec *codec_for(enum img_format f)
{
    for (size_t i = 0; i < sizeof codecs / sizeof *codecs; i++)
        if (codecs[i]->format == f)
            return codecs[i];
    return NULL;
}

/* ---- formats ---- */

static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
static const unsigned char jpeg_sig[3] = {0xFF, 0xD8, 0xFF};

enum img_format img_sniff(const void *data, size_t len)
{
    const unsigned char *d = data;
    if (len >= sizeof png_sig && memcmp(d, png_sig, sizeof png_sig) == 0)
        return IMG_PNG;
    if (len >= sizeof jpeg_sig && memcmp(d, jpeg_sig, sizeof jpeg_sig) == 0)
        return IMG_JPEG;
    if (len >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0)
        return IMG_WEBP;
    return IMG_UNKNOWN;
}

/* The format whose signature the (too short) bytes begin, for "PNG is truncated (5 bytes)". */
static enum img_format sniff_prefix(const unsigned char *d, size_t len)
{
    if (len < 2)
        return IMG_UNKNOWN;
    if (len < sizeof png_sig && memcmp(d, png_sig, len) == 0)
        return IMG_PNG;
    if (len < sizeof jpeg_sig && memcmp(d, jpeg_sig, len) == 0)
        return IMG_JPEG;
    if (len < 12 && memcmp(d, "RIFF", len < 4 ? len : 4) == 0 &&
        (len <= 8 || memcmp(d + 8, "WEBP", len - 8) == 0))
        return IMG_WEBP;
    return IMG_UNKNOWN;
}

const char *img_format_mime(enum img_format f)
{
    switch (f) {
    case IMG_PNG:
        return "image/png";
    case IMG_JPEG:
        return "image/jpeg";
    case IMG_WEBP:
        return "image/webp";
    case IMG_UNKNOWN:
        break;
    }
    return NULL;
}

const char *img_format_name(enum img_format f)
{
    switch (f) {
    case IMG_PNG:
        return "png";
    case IMG_JPEG:
        return "jpeg";
    case IMG_WEBP:
        return "webp";
    case IMG_UNKNOWN:
        break;
    }
    return "unknown";
}

/* How messages name a format: "PNG", "JPEG", "WebP". */
static const char *label(enum img_format f)
{
    const struct img_codec *c = codec_for(f);
    return c ? c->label : "image";
}

enum img_format img_format_for_path(const char *path)
{
    if (!path)
        return IMG_UNKNOWN;
    const char *base = strrchr(path, '/');
    const char *dot = strrchr(base ? base + 1 : path, '.');
    if (!dot)
        return IMG_UNKNOWN;
    if (strcasecmp(dot, ".png") == 0)
        return IMG_PNG;
    if (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0)
        return IMG_JPEG;
    if (strcasecmp(dot, ".webp") == 0)
        return IMG_WEBP;
    return IMG_UNKNOWN;
}

enum img_format img_format_for_mime(const char *mime)
{
    static const struct {
        const char *type;
        enum img_format f;
    } types[] = {{"image/png", IMG_PNG},
                 {"image/jpeg", IMG_JPEG},
                 {"image/jpg", IMG_JPEG},
                 {"image/pjpeg", IMG_JPEG},
                 {"image/webp", IMG_WEBP}};
    if (!mime)
        return IMG_UNKNOWN;
    while (isspace((unsigned char)*mime))
        mime++;
    size_t n = strcspn(mime, ";");
    while (n && isspace((unsigned char)mime[n - 1]))
        n--;
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (strlen(types[i].type) == n && strncasecmp(mime, types[i].type, n) == 0)
            return types[i].f;
    return IMG_UNKNOWN;
}

/* ---- limits ---- */

int img_check_size(uint32_t w, uint32_t h, struct gf_err *err)
{
    if (w == 0 || h == 0)
        return gf_error(err, GF_ERR_INPUT, "image is %ux%u pixels: it has none", w, h);
    if (w > IMG_MAX_SIDE || h > IMG_MAX_SIDE)
        return gf_error(err, GF_ERR_INPUT, "image is %ux%u pixels: more than %d on a side", w, h,
                        IMG_MAX_SIDE);
    if ((uint64_t)w * h > IMG_MAX_PIXELS)
        return gf_error(err, GF_ERR_INPUT, "image is %ux%u pixels: more than %u in all", w, h,
                        IMG_MAX_PIXELS);
    return 0;
}

/* The image goes through FFmpeg's scaler to cover the video frame, then libx264:
 * - at most 8192 on a side: the largest frames the H.264 level tables describe (level 6.2,
 *   8192x4320) and that decoders are built for; an image is never needed bigger than the frame
 *   (at most 4K, and twice that while the Ken Burns motion works), and a larger one only costs
 *   the scaler time and memory per scene;
 * - at least 16 on a side: one H.264 macroblock; smaller is a thumbnail or a broken reply, and
 *   the scaler would blow a few pixels up over a whole frame. */
int img_check_video_limits(const struct img_facts *f, struct gf_err *err)
{
    uint32_t lo = f->width < f->height ? f->width : f->height;
    uint32_t hi = f->width < f->height ? f->height : f->width;
    if (hi > IMG_VIDEO_MAX_SIDE)
        return gf_error(err, GF_ERR_INPUT,
                        "image is %ux%u pixels: more than %d on a side, too large for a video "
                        "frame",
                        f->width, f->height, IMG_VIDEO_MAX_SIDE);
    if (lo < IMG_VIDEO_MIN_SIDE)
        return gf_error(err, GF_ERR_INPUT,
                        "image is %ux%u pixels: less than %d on a side, too small for a video "
                        "frame",
                        f->width, f->height, IMG_VIDEO_MIN_SIDE);
    /* The video stage scales an image to cover its frame: a 16x8192 strip covering a 1080p
     * frame would be a 1920x983040 intermediate picture that FFmpeg refuses. The widest ratio an
     * image model makes is 8:1 (1:8, 8:1 on the Gemini image models). */
    if ((uint64_t)hi > (uint64_t)lo * IMG_VIDEO_MAX_RATIO)
        return gf_error(err, GF_ERR_INPUT,
                        "image is %ux%u pixels: more than %d times as long as it is wide, too "
                        "narrow for a video frame",
                        f->width, f->height, IMG_VIDEO_MAX_RATIO);
    return 0;
}

/* ---- check ---- */

/* The codec for the bytes, or an error naming what they are not. */
static const struct img_codec *codec_of(const unsigned char *d, size_t len, enum img_format want,
                                        struct gf_err *err)
{
    if (len == 0) {
        gf_error(err, GF_ERR_INPUT, "%s is empty (0 bytes)", label(want));
        return NULL;
    }
    enum img_format f = img_sniff(d, len);
    if (f == IMG_UNKNOWN) {
        enum img_format prefix = sniff_prefix(d, len);
        if (prefix != IMG_UNKNOWN && (want == IMG_UNKNOWN || want == prefix))
            gf_error(err, GF_ERR_INPUT, "%s is truncated (%zu bytes)", label(prefix), len);
        else if (want != IMG_UNKNOWN)
            gf_error(err, GF_ERR_INPUT, "not a %s (bad signature)", label(want));
        else
            gf_error(err, GF_ERR_INPUT, "not an image (the bytes are neither PNG, JPEG nor WebP)");
        return NULL;
    }
    if (want != IMG_UNKNOWN && f != want) {
        gf_error(err, GF_ERR_INPUT, "not a %s (the bytes are %s)", label(want), label(f));
        return NULL;
    }
    return codec_for(f);
}

int img_check_as(const void *data, size_t len, enum img_format want, struct img_facts *facts,
                 struct gf_err *err)
{
    const struct img_codec *c = codec_of(data, len, want, err);
    if (!c)
        return -1;
    struct img_facts f = {0};
    if (c->check(data, len, &f, err) < 0)
        return -1;
    if (facts)
        *facts = f;
    return 0;
}

int img_check(const void *data, size_t len, struct img_facts *facts, struct gf_err *err)
{
    return img_check_as(data, len, IMG_UNKNOWN, facts, err);
}

/* ---- conversion ---- */

int img_convert(const void *data, size_t len, enum img_format to, int quality, struct buf *out,
                struct img_facts *facts, struct gf_err *err)
{
    const struct img_codec *enc = codec_for(to);
    if (!enc)
        return gf_error(err, GF_ERR_INPUT, "cannot convert an image to an unknown format");
    if (quality == 0)
        quality = IMG_QUALITY_DEFAULT;
    if (quality < 1 || quality > 100)
        return gf_error(err, GF_ERR_INPUT, "image quality %d is not 1..100", quality);
    const struct img_codec *dec = codec_of(data, len, IMG_UNKNOWN, err);
    if (!dec)
        return -1;
    if (dec == enc)
        return gf_error(err, GF_ERR_INPUT, "image is already %s: nothing to convert", enc->label);

    struct img_rows rows = {0};
    if (dec->open_rows(data, len, &rows, err) < 0)
        return -1;
    size_t old_len = out->len;
    struct img_facts f = {0};
    int rc = enc->encode(&rows, quality, out, &f, err);
    if (rc == 0)
        rc = rows.end(&rows, err); /* the source is whole through its last byte */
    rows.close(&rows);
    if (rc < 0) {
        buf_setlen(out, old_len);
        return -1;
    }
    if (facts)
        *facts = f;
    return 0;
}
