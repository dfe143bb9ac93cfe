/* imgcodec_jpeg: JPEG for imgcodec with libjpeg(-turbo): a check that decodes every scanline up
 * to EOI, rows for conversion, and an encoder into memory. libjpeg's default error handler calls
 * exit(): here every error, and every warning about corrupt data, longjmps back to the caller. */
#include "imgcodec_impl.h"
#include "../runner/util.h"

#include <stdio.h> /* jpeglib.h needs FILE */

#include <jerror.h>
#include <jpeglib.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/* Memory libjpeg may take for whole-image buffers (a progressive JPEG's coefficients): a
 * backstop behind IMG_MAX_PIXELS; past it libjpeg fails ("Backing store not supported"). */
#define JPEG_MAX_MEMORY (512L * 1024 * 1024)

/* The error manager: libjpeg reaches it through cinfo->err, the first member. */
struct jpeg_fail {
    struct jpeg_error_mgr pub;
    jmp_buf jmp;
    bool truncated;
    char msg[JMSG_LENGTH_MAX];
};

static void on_error_exit(j_common_ptr cinfo)
{
    struct jpeg_fail *f = (struct jpeg_fail *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, f->msg);
    longjmp(f->jmp, 1);
}

/* Warnings that mean the data is corrupt fail the image. The others are about metadata that
 * does not change the pixels: an unknown JFIF revision, an odd Adobe transform code, a bad ICC
 * marker (the profile is dropped, the image decodes the same). */
static bool warning_is_fatal(int code)
{
    switch (code) {
    case JWRN_ADOBE_XFORM:
    case JWRN_JFIF_MAJOR:
    case JWRN_BOGUS_ICC:
        return false;
    default:
        return true;
    }
}

/* level -1: a warning; 0 and up: trace messages. Nothing is ever printed. */
static void on_emit_message(j_common_ptr cinfo, int level)
{
    struct jpeg_fail *f = (struct jpeg_fail *)cinfo->err;
    if (level >= 0)
        return;
    cinfo->err->num_warnings++;
    if (!warning_is_fatal(cinfo->err->msg_code))
        return;
    /* The memory source reports running out of data as this warning (then fakes an EOI). */
    if (cinfo->err->msg_code == JWRN_JPEG_EOF)
        f->truncated = true;
    (*cinfo->err->format_message)(cinfo, f->msg);
    longjmp(f->jmp, 1);
}

static void on_output_message(j_common_ptr cinfo)
{
}

static void fail_init(struct jpeg_fail *f)
{
    jpeg_std_error(&f->pub);
    f->pub.error_exit = on_error_exit;
    f->pub.emit_message = on_emit_message;
    f->pub.output_message = on_output_message;
    f->truncated = false;
    f->msg[0] = '\0';
}

/* ---- decoding ---- */

struct jpeg_src {
    struct jpeg_decompress_struct cinfo; /* created: cinfo.err is set */
    struct jpeg_fail fail;
    struct jpeg_progress_mgr progress;
    size_t len;
    unsigned char *row;  /* check: one scanline; rows: the CMYK scanline */
    bool cmyk;           /* rows: the scanlines are CMYK, converted to RGB here */
    char scans_msg[128]; /* set when the scan limit stopped decoding */
};

static int src_fail(const struct jpeg_src *src, struct gf_err *err)
{
    if (src->fail.truncated)
        return gf_error(err, GF_ERR_INPUT, "JPEG is truncated (%zu bytes)", src->len);
    return gf_error(err, GF_ERR_INPUT, "JPEG does not decode: %s",
                    src->scans_msg[0] ? src->scans_msg : src->fail.msg);
}

/* Called as a progressive JPEG's scans are absorbed: stop one with too many. */
static void on_progress(j_common_ptr cinfo)
{
    struct jpeg_src *src = (struct jpeg_src *)cinfo; /* cinfo is the first member */
    if (src->cinfo.input_scan_number > IMG_JPEG_MAX_SCANS) {
        snprintf(src->scans_msg, sizeof src->scans_msg, "more than %d scans", IMG_JPEG_MAX_SCANS);
        longjmp(src->fail.jmp, 1);
    }
}

/* Create the decompressor over the bytes; every later call into libjpeg needs its own setjmp. */
static int src_open(struct jpeg_src *src, const unsigned char *d, size_t len, struct gf_err *err)
{
    memset(src, 0, sizeof *src);
    src->len = len;
    fail_init(&src->fail);
    src->cinfo.err = &src->fail.pub;
    if (setjmp(src->fail.jmp)) {
        jpeg_destroy_decompress(&src->cinfo);
        return src_fail(src, err);
    }
    jpeg_create_decompress(&src->cinfo);
    src->cinfo.mem->max_memory_to_use = JPEG_MAX_MEMORY;
    src->progress.progress_monitor = on_progress;
    src->cinfo.progress = &src->progress;
    jpeg_mem_src(&src->cinfo, d, (unsigned long)len);
    return 0;
}

static void src_close(struct jpeg_src *src)
{
    jpeg_destroy_decompress(&src->cinfo);
    free(src->row);
    src->row = NULL;
}

static void read_facts(const struct jpeg_decompress_struct *c, struct img_facts *f)
{
    f->format = IMG_JPEG;
    f->width = c->image_width;
    f->height = c->image_height;
    f->channels = c->num_components;
    f->bit_depth = c->data_precision;
    f->has_alpha = false;
}

/* The header, its size checked before libjpeg allocates for the image. Only pictures: libjpeg
 * also decodes 2 or 5+ components of no known colour space, which nothing can show or convert. */
static int read_header(struct jpeg_src *src, struct img_facts *f, struct gf_err *err)
{
    jpeg_read_header(&src->cinfo, TRUE);
    read_facts(&src->cinfo, f);
    switch (src->cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_RGB:
    case JCS_YCbCr:
    case JCS_CMYK:
    case JCS_YCCK:
        break;
    default:
        return gf_error(err, GF_ERR_INPUT, "JPEG has %d components: not grey, colour or CMYK",
                        src->cinfo.num_components);
    }
    return img_check_size(f->width, f->height, err);
}

static int check_decode(struct jpeg_src *src, struct img_facts *f, struct gf_err *err)
{
    if (setjmp(src->fail.jmp))
        return src_fail(src, err);
    if (read_header(src, f, err) < 0)
        return -1;
    jpeg_start_decompress(&src->cinfo);
    /* one scanline at a time, as the colour space decodes natively */
    src->row = xmalloc((size_t)src->cinfo.output_width * (size_t)src->cinfo.output_components);
    JSAMPROW rows[1] = {src->row};
    while (src->cinfo.output_scanline < src->cinfo.output_height)
        jpeg_read_scanlines(&src->cinfo, rows, 1);
    jpeg_finish_decompress(&src->cinfo); /* what follows the scan(s), up to EOI */
    return 0;
}

static int codec_check(const unsigned char *d, size_t len, struct img_facts *f, struct gf_err *err)
{
    struct jpeg_src src;
    if (src_open(&src, d, len, err) < 0)
        return -1;
    int rc = check_decode(&src, f, err);
    src_close(&src);
    return rc;
}

/* ---- rows ---- */

/* CMYK to RGB without a colour profile. An Adobe APP14 marker means the values are stored
 * inverted (as Photoshop writes them), which libjpeg hands out unchanged. */
static void cmyk_to_rgb(const unsigned char *in, unsigned char *out, size_t w, bool inverted)
{
    for (size_t x = 0; x < w; x++, in += 4, out += 3) {
        unsigned k = inverted ? in[3] : 255u - in[3];
        for (int i = 0; i < 3; i++) {
            unsigned c = inverted ? in[i] : 255u - in[i];
            out[i] = (unsigned char)((c * k + 127) / 255);
        }
    }
}

/* One scanline into `line`; kept apart from what uses it so that nothing is live across
 * the setjmp. */
static int read_line(struct jpeg_src *src, unsigned char *line, struct gf_err *err)
{
    JSAMPROW rows[1] = {line};
    if (setjmp(src->fail.jmp))
        return src_fail(src, err);
    jpeg_read_scanlines(&src->cinfo, rows, 1);
    return 0;
}

static int rows_next(struct img_rows *r, unsigned char *row, struct gf_err *err)
{
    struct jpeg_src *src = r->state;
    if (read_line(src, src->cmyk ? src->row : row, err) < 0)
        return -1;
    if (src->cmyk)
        cmyk_to_rgb(src->row, row, src->cinfo.output_width, src->cinfo.saw_Adobe_marker);
    return 0;
}

static int rows_end(struct img_rows *r, struct gf_err *err)
{
    struct jpeg_src *src = r->state;
    if (setjmp(src->fail.jmp))
        return src_fail(src, err);
    jpeg_finish_decompress(&src->cinfo);
    return 0;
}

static void rows_close(struct img_rows *r)
{
    src_close(r->state);
    free(r->state);
    r->state = NULL;
}

static int rows_start(struct jpeg_src *src, struct img_rows *r, struct gf_err *err)
{
    if (setjmp(src->fail.jmp))
        return src_fail(src, err);
    if (read_header(src, &r->facts, err) < 0)
        return -1;
    /* libjpeg converts grey and YCbCr to RGB; CMYK and YCCK only as far as CMYK */
    J_COLOR_SPACE cs = src->cinfo.jpeg_color_space;
    src->cmyk = cs == JCS_CMYK || cs == JCS_YCCK;
    src->cinfo.out_color_space = src->cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&src->cinfo);
    if (src->cmyk)
        src->row = xmalloc((size_t)src->cinfo.output_width * 4);
    r->channels = 3;
    return 0;
}

static int codec_open_rows(const unsigned char *d, size_t len, struct img_rows *r,
                           struct gf_err *err)
{
    struct jpeg_src *src = xmalloc(sizeof *src);
    if (src_open(src, d, len, err) < 0) {
        free(src);
        return -1;
    }
    if (rows_start(src, r, err) < 0) {
        src_close(src);
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

#define DST_CHUNK 65536

/* A destination manager that writes into the spare room of a struct buf. */
struct jpeg_dst {
    struct jpeg_destination_mgr pub;
    struct buf *out;
};

static void dst_init(j_compress_ptr cinfo)
{
    struct jpeg_dst *d = (struct jpeg_dst *)cinfo->dest;
    buf_grow(d->out, DST_CHUNK);
    d->pub.next_output_byte = (JOCTET *)d->out->data + d->out->len;
    d->pub.free_in_buffer = DST_CHUNK;
}

/* The whole chunk is full (libjpeg ignores next_output_byte here): keep it, offer the next. */
static boolean dst_empty(j_compress_ptr cinfo)
{
    struct jpeg_dst *d = (struct jpeg_dst *)cinfo->dest;
    d->out->len += DST_CHUNK;
    dst_init(cinfo);
    return TRUE;
}

static void dst_term(j_compress_ptr cinfo)
{
    struct jpeg_dst *d = (struct jpeg_dst *)cinfo->dest;
    d->out->len += DST_CHUNK - d->pub.free_in_buffer;
    d->out->data[d->out->len] = '\0'; /* the buf invariant; buf_grow left room for it */
}

/* Alpha over white, rounded: c*a/255 + 255*(255-a)/255. */
static void over_white(const unsigned char *in, unsigned char *out, size_t w)
{
    for (size_t x = 0; x < w; x++, in += 4, out += 3) {
        unsigned a = in[3];
        for (int i = 0; i < 3; i++)
            out[i] = (unsigned char)((in[i] * a + 255u * (255u - a) + 127) / 255);
    }
}

struct jpeg_enc {
    struct jpeg_compress_struct cinfo;
    struct jpeg_fail fail;
    struct jpeg_dst dst;
    unsigned char *in, *rgb; /* a source row, and the row as RGB */
};

/* 0, 1 when the source failed (err filled), -1 on a libjpeg error (enc->fail.msg). */
static int encode_rows(struct jpeg_enc *enc, struct img_rows *src, int quality, struct gf_err *err)
{
    if (setjmp(enc->fail.jmp))
        return -1;
    jpeg_create_compress(&enc->cinfo);
    enc->cinfo.dest = &enc->dst.pub;
    enc->cinfo.image_width = src->facts.width;
    enc->cinfo.image_height = src->facts.height;
    enc->cinfo.input_components = 3;
    enc->cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&enc->cinfo);
    jpeg_set_quality(&enc->cinfo, quality, TRUE);
    enc->cinfo.optimize_coding = FALSE;
    jpeg_start_compress(&enc->cinfo, TRUE);
    JSAMPROW rows[1] = {enc->rgb};
    for (uint32_t y = 0; y < src->facts.height; y++) {
        if (src->next(src, src->channels == 4 ? enc->in : enc->rgb, err) < 0)
            return 1;
        if (src->channels == 4)
            over_white(enc->in, enc->rgb, src->facts.width);
        jpeg_write_scanlines(&enc->cinfo, rows, 1);
    }
    jpeg_finish_compress(&enc->cinfo);
    return 0;
}

static int codec_encode(struct img_rows *src, int quality, struct buf *out, struct img_facts *f,
                        struct gf_err *err)
{
    struct jpeg_enc enc;
    memset(&enc, 0, sizeof enc);
    fail_init(&enc.fail);
    enc.cinfo.err = &enc.fail.pub;
    enc.dst.pub.init_destination = dst_init;
    enc.dst.pub.empty_output_buffer = dst_empty;
    enc.dst.pub.term_destination = dst_term;
    enc.dst.out = out;
    size_t w = src->facts.width;
    enc.rgb = xmalloc(w * 3);
    enc.in = src->channels == 4 ? xmalloc(w * 4) : NULL;
    int rc = encode_rows(&enc, src, quality, err);
    jpeg_destroy_compress(&enc.cinfo);
    free(enc.rgb);
    free(enc.in);
    if (rc < 0)
        return gf_error(err, GF_ERR_INPUT, "cannot encode JPEG: %s", enc.fail.msg);
    if (rc > 0)
        return -1;
    f->format = IMG_JPEG;
    f->width = src->facts.width;
    f->height = src->facts.height;
    f->channels = 3;
    f->bit_depth = 8;
    f->has_alpha = false;
    return 0;
}

const struct img_codec img_codec_jpeg = {IMG_JPEG, "JPEG", codec_check, codec_open_rows,
                                         codec_encode};
