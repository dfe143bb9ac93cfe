/* imgcodec: the image formats the API sends (PNG, JPEG, WebP): telling them apart by their bytes,
 * proving an image whole by decoding all of it, converting between formats, and the size limits
 * of what can be used. The only module that touches libpng, libjpeg(-turbo) and libwebp
 * (imgcodec.c plus one file per codec behind stages/imgcodec_impl.h). */
#ifndef GF_IMGCODEC_H
#define GF_IMGCODEC_H

#include "../runner/buf.h"
#include "../runner/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum img_format { IMG_UNKNOWN, IMG_PNG, IMG_JPEG, IMG_WEBP };

/* Limits on any image decoded here, checked from the header before pixel memory is allocated.
 * A side of 16384 is the old PNG cap; the pixel count bounds the memory of the paths that need a
 * whole picture (WebP, interlaced PNG, progressive JPEG: at most 4 to 6 bytes a pixel, 160 to
 * 240 MB) while leaving room for 8K UHD (7680x4320, 33.2 million) and any 4K reply of the image
 * models. */
#define IMG_MAX_SIDE   16384
#define IMG_MAX_PIXELS 40000000u

/* A progressive JPEG may hold any number of scans, each one a pass over the whole image: a few
 * hundred bytes can cost minutes. Real encoders write about ten. */
#define IMG_JPEG_MAX_SCANS 500

/* JPEG (and lossy WebP) quality when the caller passes 0. */
#define IMG_QUALITY_DEFAULT 95

struct img_facts {
    enum img_format format;
    uint32_t width, height;
    /* Colour channels once a palette is expanded: 1 grey, 2 grey+alpha, 3 colour, 4 colour+alpha;
     * a CMYK JPEG has 4 and no alpha. A PNG colour key (tRNS) counts as alpha. */
    int channels;
    int bit_depth; /* bits per channel as stored: PNG 1..16, JPEG 8, WebP 8 */
    bool has_alpha;
};

/* The format the bytes are in, from their signature alone: PNG's 8-byte signature, JPEG's SOI
 * followed by a marker (FF D8 FF), WebP's "RIFF" <size> "WEBP". IMG_UNKNOWN otherwise. */
enum img_format img_sniff(const void *data, size_t len);

/* "image/png", "image/jpeg", "image/webp"; NULL for IMG_UNKNOWN. Borrowed. */
const char *img_format_mime(enum img_format f);

/* "png", "jpeg", "webp", "unknown" (for manifests and configuration). Borrowed. */
const char *img_format_name(enum img_format f);

/* By the extension of the path's last component, any case: .png, .jpg, .jpeg, .webp. */
enum img_format img_format_for_path(const char *path);

/* By a mime type, any case, parameters ignored: image/png, image/jpeg (also image/jpg and
 * image/pjpeg), image/webp. Only the label: a reply's label can lie (a JPEG labelled image/png),
 * so compare it with img_sniff to note the lie; never decode by it. NULL gives IMG_UNKNOWN. */
enum img_format img_format_for_mime(const char *mime);

/* Decode the whole image from memory (every row or scanline, up to PNG's IEND or JPEG's EOI) so
 * that truncation and corruption are found; the format comes from the bytes. Returns 0 with its
 * facts (may be NULL), or -1 with err (GF_ERR_INPUT) and facts untouched. Messages:
 *   "image is empty (0 bytes)", "not an image (the bytes are neither PNG, JPEG nor WebP)",
 *   "PNG is truncated (N bytes)", "PNG does not decode: <libpng's message>",
 *   "JPEG is truncated (N bytes)", "JPEG does not decode: <libjpeg's message>",
 *   "WebP is truncated (N bytes)", "WebP does not decode: <status>", "WebP is animated: ...",
 *   "JPEG has 2 components: not grey, colour or CMYK", "JPEG does not decode: more than 500
 *   scans", "image is 20000x100 pixels: more than 16384 on a side",
 *   "image is 8000x6000 pixels: more than 40000000 in all".
 * libjpeg's warnings about corrupt data (premature end, bad Huffman code, extraneous bytes) fail
 * the image; harmless ones (unknown JFIF revision, bad ICC marker) do not. Nothing is printed.
 * Memory: PNG (not interlaced) and baseline JPEG are decoded a row at a time; a WebP is decoded
 * to a whole YUV(A) picture (1.5 or 2.5 bytes a pixel), a progressive JPEG keeps its
 * coefficients (2 bytes a sample: 3 bytes a pixel at 4:2:0, 6 at 4:4:4). Measured on a 4096x4096
 * picture: JPEG 0.6 MB, PNG 0.3 MB, WebP 25 MB above the file itself. Safe on any bytes and on
 * several threads at once. */
int img_check(const void *data, size_t len, struct img_facts *facts, struct gf_err *err);

/* img_check for bytes that must be in format `want` (IMG_UNKNOWN: any): other bytes fail
 * without being decoded, "not a PNG (the bytes are JPEG)" or "not a PNG (bad signature)", and
 * "PNG is empty (0 bytes)". For artifacts whose path names their format. */
int img_check_as(const void *data, size_t len, enum img_format want, struct img_facts *facts,
                 struct gf_err *err);

/* Decode the image (any format, from its bytes) and re-encode it as `to`, appended to `out`:
 *   PNG: 8-bit RGB, or RGBA when the source has alpha (libpng's default compression);
 *   JPEG: baseline, 8-bit RGB, at `quality` (1..100, 0 = IMG_QUALITY_DEFAULT) with the
 *     standard Huffman tables (optimised ones would need every coefficient of the image in
 *     memory: 50 MB at 4096x4096, for files about 15% smaller); alpha is composited over white (the
 * background model images with transparency are drawn for, and what flattening tools default to);
 *   WebP: lossy at `quality`, alpha kept (losslessly, as libwebp stores it).
 * Palettes and grey are expanded to RGB, 16-bit samples reduced to 8, a CMYK JPEG converted
 * naively (R = (255-C)(255-K)/255). The source is decoded through its end (IEND, EOI), so a
 * conversion proves the source whole as img_check does. Bytes already in format `to` are an
 * error ("image is already PNG: nothing to convert"): the caller writes them as they came.
 * Returns 0 with the facts of the image written (may be NULL), or -1 with err (GF_ERR_INPUT)
 * and `out` as it was. Memory: rows stream from decoder to encoder except where a whole picture
 * is needed (a WebP on either side: 3 or 4 bytes a pixel, plus the encoder's YUV picture; an
 * interlaced PNG source; a progressive JPEG source). */
int img_convert(const void *data, size_t len, enum img_format to, int quality, struct buf *out,
                struct img_facts *facts, struct gf_err *err);

/* What the video stage can use, from facts img_check filled:
 *   largest side at most IMG_VIDEO_MAX_SIDE, smallest at least IMG_VIDEO_MIN_SIDE, the long
 *   side at most IMG_VIDEO_MAX_RATIO times the short one.
 * Returns 0, or -1 with err (GF_ERR_INPUT): "image is 9000x5000 pixels: more than 8192 on a
 * side, too large for a video frame", "image is 12x800 pixels: less than 16 on a side, too small
 * for a video frame". So an image stage can refuse, when a reply is accepted, an image no video
 * could show. The reasons are beside the definitions in imgcodec.c. */
#define IMG_VIDEO_MAX_SIDE  8192
#define IMG_VIDEO_MIN_SIDE  16
#define IMG_VIDEO_MAX_RATIO 10 /* long side over short side */
int img_check_video_limits(const struct img_facts *f, struct gf_err *err);

#endif
