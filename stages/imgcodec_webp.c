/* imgcodec_webp: WebP for imgcodec with libwebp: a check that decodes the whole still image,
 * rows for conversion, and a lossy encoder into memory. libwebp has no row-by-row decoder for a
 * whole file: a WebP is decoded into one picture (the check takes YUV, the smallest output). */
#include "imgcodec_impl.h"
#include "../runner/util.h"

#include <webp/decode.h>
#include <webp/encode.h>

#include <stdlib.h>
#include <string.h>

static const char *status_text(VP8StatusCode s)
{
    switch (s) {
    case VP8_STATUS_OK:
        return "ok";
    case VP8_STATUS_OUT_OF_MEMORY:
        return "out of memory";
    case VP8_STATUS_INVALID_PARAM:
        return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR:
        return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE:
        return "unsupported feature";
    case VP8_STATUS_SUSPENDED:
        return "suspended";
    case VP8_STATUS_USER_ABORT:
        return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA:
        return "not enough data";
    }
    return "unknown status";
}

static int status_fail(VP8StatusCode s, size_t len, struct gf_err *err)
{
    if (s == VP8_STATUS_NOT_ENOUGH_DATA)
        return gf_error(err, GF_ERR_INPUT, "WebP is truncated (%zu bytes)", len);
    return gf_error(err, GF_ERR_INPUT, "WebP does not decode: %s", status_text(s));
}

/* The header: features, facts, and the refusals that come before decoding. */
static int read_header(const unsigned char *d, size_t len, WebPDecoderConfig *cfg,
                       struct img_facts *f, struct gf_err *err)
{
    if (!WebPInitDecoderConfig(cfg))
        return gf_error(err, GF_ERR_INPUT, "WebP does not decode: libwebp version mismatch");
    VP8StatusCode s = WebPGetFeatures(d, len, &cfg->input);
    if (s != VP8_STATUS_OK)
        return status_fail(s, len, err);
    if (cfg->input.has_animation)
        return gf_error(err, GF_ERR_INPUT, "WebP is animated: only still images are supported");
    f->format = IMG_WEBP;
    f->width = (uint32_t)cfg->input.width;
    f->height = (uint32_t)cfg->input.height;
    f->has_alpha = cfg->input.has_alpha != 0;
    f->channels = f->has_alpha ? 4 : 3;
    f->bit_depth = 8;
    return img_check_size(f->width, f->height, err);
}

/* Decode into cfg->output (colourspace set by the caller); the caller frees it. */
static int decode(const unsigned char *d, size_t len, WebPDecoderConfig *cfg, struct gf_err *err)
{
    cfg->options.use_threads = 0; /* checks already run on worker threads */
    VP8StatusCode s = WebPDecode(d, len, cfg);
    if (s != VP8_STATUS_OK)
        return status_fail(s, len, err);
    return 0;
}

static int codec_check(const unsigned char *d, size_t len, struct img_facts *f, struct gf_err *err)
{
    WebPDecoderConfig cfg;
    if (read_header(d, len, &cfg, f, err) < 0)
        return -1;
    cfg.output.colorspace = f->has_alpha ? MODE_YUVA : MODE_YUV;
    int rc = decode(d, len, &cfg, err);
    WebPFreeDecBuffer(&cfg.output);
    return rc;
}

/* ---- rows ---- */

struct webp_src {
    WebPDecoderConfig cfg; /* its output holds the whole RGB(A) picture */
    uint32_t next_y;
};

static int rows_next(struct img_rows *r, unsigned char *row, struct gf_err *err)
{
    struct webp_src *src = r->state;
    const WebPRGBABuffer *rgba = &src->cfg.output.u.RGBA;
    memcpy(row, rgba->rgba + (size_t)src->next_y++ * (size_t)rgba->stride,
           (size_t)r->facts.width * (size_t)r->channels);
    return 0;
}

static int rows_end(struct img_rows *r, struct gf_err *err)
{
    return 0; /* decoded whole at open */
}

static void rows_close(struct img_rows *r)
{
    struct webp_src *src = r->state;
    WebPFreeDecBuffer(&src->cfg.output);
    free(src);
    r->state = NULL;
}

static int codec_open_rows(const unsigned char *d, size_t len, struct img_rows *r,
                           struct gf_err *err)
{
    struct webp_src *src = xcalloc(1, sizeof *src);
    if (read_header(d, len, &src->cfg, &r->facts, err) < 0) {
        free(src);
        return -1;
    }
    r->channels = r->facts.channels;
    src->cfg.output.colorspace = r->channels == 4 ? MODE_RGBA : MODE_RGB;
    if (decode(d, len, &src->cfg, err) < 0) {
        WebPFreeDecBuffer(&src->cfg.output);
        free(src);
        return -1;
    }
    r->state = src;
    r->next = rows_next;
    r->end = rows_end;
    r->close = rows_close;
    return 0;
}

/* ---- encoder ---- */

static const char *enc_error_text(WebPEncodingError e)
{
    switch (e) {
    case VP8_ENC_OK:
        return "ok";
    case VP8_ENC_ERROR_OUT_OF_MEMORY:
    case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY:
        return "out of memory";
    case VP8_ENC_ERROR_NULL_PARAMETER:
        return "null parameter";
    case VP8_ENC_ERROR_INVALID_CONFIGURATION:
        return "invalid configuration";
    case VP8_ENC_ERROR_BAD_DIMENSION:
        return "bad dimension (WebP holds at most 16383 pixels on a side)";
    case VP8_ENC_ERROR_PARTITION0_OVERFLOW:
        return "partition 0 is over 512 KB";
    case VP8_ENC_ERROR_PARTITION_OVERFLOW:
        return "a partition is over 16 MB";
    case VP8_ENC_ERROR_BAD_WRITE:
        return "write error";
    case VP8_ENC_ERROR_FILE_TOO_BIG:
        return "file over 4 GB";
    case VP8_ENC_ERROR_USER_ABORT:
        return "aborted";
    case VP8_ENC_ERROR_LAST:
        break;
    }
    return "unknown error";
}

static int write_buf(const uint8_t *data, size_t size, const WebPPicture *pic)
{
    buf_add(pic->custom_ptr, data, size);
    return 1;
}

/* All the source's rows in one RGB(A) picture, imported into `pic` (then freed). */
static int import_rows(struct img_rows *src, WebPPicture *pic, struct gf_err *err)
{
    size_t stride = (size_t)src->facts.width * (size_t)src->channels;
    unsigned char *all = malloc(stride * src->facts.height);
    if (!all)
        return gf_error(err, GF_ERR_INPUT, "no memory to encode a %ux%u WebP", src->facts.width,
                        src->facts.height);
    for (uint32_t y = 0; y < src->facts.height; y++) {
        if (src->next(src, all + y * stride, err) < 0) {
            free(all);
            return -1;
        }
    }
    int ok = src->channels == 4 ? WebPPictureImportRGBA(pic, all, (int)stride)
                                : WebPPictureImportRGB(pic, all, (int)stride);
    free(all);
    if (!ok)
        return gf_error(err, GF_ERR_INPUT, "cannot encode WebP: %s",
                        enc_error_text(pic->error_code));
    return 0;
}

static int codec_encode(struct img_rows *src, int quality, struct buf *out, struct img_facts *f,
                        struct gf_err *err)
{
    WebPConfig cfg;
    WebPPicture pic;
    if (!WebPConfigInit(&cfg) || !WebPPictureInit(&pic))
        return gf_error(err, GF_ERR_INPUT, "cannot encode WebP: libwebp version mismatch");
    cfg.quality = (float)quality;
    pic.width = (int)src->facts.width;
    pic.height = (int)src->facts.height;
    if (src->facts.width > WEBP_MAX_DIMENSION || src->facts.height > WEBP_MAX_DIMENSION)
        return gf_error(err, GF_ERR_INPUT,
                        "cannot encode WebP: image is %ux%u pixels, more than %d on a side",
                        src->facts.width, src->facts.height, WEBP_MAX_DIMENSION);
    if (import_rows(src, &pic, err) < 0) {
        WebPPictureFree(&pic);
        return -1;
    }
    pic.writer = write_buf;
    pic.custom_ptr = out;
    size_t start = out->len;
    int ok = WebPEncode(&cfg, &pic);
    WebPEncodingError e = pic.error_code;
    WebPPictureFree(&pic);
    if (!ok)
        return gf_error(err, GF_ERR_INPUT, "cannot encode WebP: %s", enc_error_text(e));
    /* The facts of what was written: libwebp leaves out an alpha channel that is all opaque. */
    WebPDecoderConfig written;
    if (read_header((unsigned char *)out->data + start, out->len - start, &written, f, err) < 0)
        return -1;
    return 0;
}

const struct img_codec img_codec_webp = {IMG_WEBP, "WebP", codec_check, codec_open_rows,
                                         codec_encode};
