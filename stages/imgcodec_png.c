/* imgcodec_png: PNG for imgcodec with libpng: a check that decodes row by row (signature, chunk
 * CRCs, zlib stream, up to IEND), rows for conversion, and an encoder into memory. */
#include "imgcodec_impl.h"
#include "../runner/util.h"

#include <png.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libpng's words: its error, and its first warning (reported with an error). */
struct png_msgs {
    char error[256];
    char warning[256];
};

/* Everything the libpng callbacks and the error path share. It is reached through a pointer, so
 * nothing that changes after setjmp is a local of the function that called setjmp (those would
 * be indeterminate after longjmp). */
struct png_src {
    png_structp png;
    png_infop info;
    const unsigned char *data;
    size_t len, pos;
    bool truncated;
    unsigned char *row;  /* check: one row as stored */
    unsigned char *full; /* rows of an interlaced image, decoded at open */
    png_bytep *rowptrs;  /* into full */
    size_t rowbytes;
    uint32_t next_y;
    struct png_msgs msgs;
};

static void on_error(png_structp png, png_const_charp msg)
{
    struct png_msgs *m = png_get_error_ptr(png);
    snprintf(m->error, sizeof m->error, "%s", msg ? msg : "unknown error");
    png_longjmp(png, 1);
}

/* Warnings (e.g. "iCCP: known incorrect sRGB profile") do not fail an image; libpng would print
 * them on stderr, so keep the first one for the error message instead. */
static void on_warning(png_structp png, png_const_charp msg)
{
    struct png_msgs *m = png_get_error_ptr(png);
    if (!m->warning[0])
        snprintf(m->warning, sizeof m->warning, "%s", msg ? msg : "");
}

static void read_mem(png_structp png, png_bytep out, size_t n)
{
    struct png_src *src = png_get_io_ptr(png);
    if (n > src->len - src->pos) {
        src->truncated = true;
        png_error(png, "unexpected end of data");
    }
    memcpy(out, src->data + src->pos, n);
    src->pos += n;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The size, from IHDR (always the first chunk), before libpng allocates anything for it. */
static int precheck_size(const unsigned char *d, size_t len, struct gf_err *err)
{
    if (len >= 8 + 8 + 13 && memcmp(d + 12, "IHDR", 4) == 0) {
        uint32_t w = be32(d + 16), h = be32(d + 20);
        if (w && h && img_check_size(w, h, err) < 0)
            return -1;
    }
    return 0;
}

static void src_open(struct png_src *src, const unsigned char *d, size_t len)
{
    memset(src, 0, sizeof *src);
    src->data = d;
    src->len = len;
    src->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src->msgs, on_error, on_warning);
    if (!src->png)
        die("cannot create a libpng read struct");
    src->info = png_create_info_struct(src->png);
    if (!src->info)
        die("cannot create a libpng info struct");
    png_set_read_fn(src->png, src, read_mem);
    png_set_user_limits(src->png, IMG_MAX_SIDE, IMG_MAX_SIDE); /* backstop for precheck_size */
    /* Text, ICC profiles and the like change no pixel, and libpng 1.6.39 allocates (and clears)
     * whatever size their header claims, before reading: a 141-byte file claiming a 1.3 GB zTXt
     * took 6 s and 1.3 GB (found by fuzz-imgcodec). Skipped as unknown chunks, they are only
     * read past with their CRC checked; a claim past the end of the data is a truncation. */
    static const png_byte skip[] = "iCCP\0sPLT\0tEXt\0zTXt\0iTXt\0pCAL\0sCAL\0eXIf";
    png_set_keep_unknown_chunks(src->png, PNG_HANDLE_CHUNK_NEVER, skip, (int)(sizeof skip / 5));
}

static void src_close(struct png_src *src)
{
    png_destroy_read_struct(&src->png, &src->info, NULL);
    free(src->row);
    free(src->full);
    free(src->rowptrs);
    src->row = src->full = NULL;
    src->rowptrs = NULL;
}

static int src_fail(const struct png_src *src, struct gf_err *err)
{
    if (src->truncated)
        return gf_error(err, GF_ERR_INPUT, "PNG is truncated (%zu bytes)", src->len);
    if (src->msgs.warning[0])
        return gf_error(err, GF_ERR_INPUT, "PNG does not decode: %s (after warning: %s)",
                        src->msgs.error, src->msgs.warning);
    return gf_error(err, GF_ERR_INPUT, "PNG does not decode: %s", src->msgs.error);
}

/* The facts of the image as stored, from the header read by png_read_info. */
static int read_facts(struct png_src *src, struct img_facts *f, struct gf_err *err)
{
    png_uint_32 w = png_get_image_width(src->png, src->info);
    png_uint_32 h = png_get_image_height(src->png, src->info);
    if (img_check_size(w, h, err) < 0)
        return -1;
    int color = png_get_color_type(src->png, src->info);
    bool trns = png_get_valid(src->png, src->info, PNG_INFO_tRNS) != 0;
    f->format = IMG_PNG;
    f->width = w;
    f->height = h;
    f->bit_depth = png_get_bit_depth(src->png, src->info);
    f->channels = color == PNG_COLOR_TYPE_GRAY         ? 1 + trns
                  : color == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
                  : color == PNG_COLOR_TYPE_RGB_ALPHA  ? 4
                                                       : 3 + trns; /* RGB, palette */
    f->has_alpha = f->channels == 2 || f->channels == 4;
    return 0;
}

/* ---- check ---- */

/* Read the whole image as stored; any libpng error longjmps back here. */
static int check_decode(struct png_src *src, struct img_facts *f, struct gf_err *err)
{
    if (setjmp(png_jmpbuf(src->png)))
        return src_fail(src, err);
    png_read_info(src->png, src->info);
    if (read_facts(src, f, err) < 0)
        return -1;
    int passes = png_set_interlace_handling(src->png);
    png_read_update_info(src->png, src->info);
    /* one row at a time: at most 16384 px * 8 bytes, never the whole image */
    src->row = xmalloc(png_get_rowbytes(src->png, src->info));
    for (int p = 0; p < passes; p++)
        for (png_uint_32 y = 0; y < f->height; y++)
            png_read_row(src->png, src->row, NULL);
    png_read_end(src->png, NULL); /* the chunks after IDAT, up to IEND, with their CRCs */
    return 0;
}

static int codec_check(const unsigned char *d, size_t len, struct img_facts *f, struct gf_err *err)
{
    if (len < 8)
        return gf_error(err, GF_ERR_INPUT, "PNG is truncated (%zu bytes)", len);
    if (precheck_size(d, len, err) < 0)
        return -1;
    struct png_src src;
    src_open(&src, d, len);
    int rc = check_decode(&src, f, err);
    src_close(&src);
    return rc;
}

/* ---- rows ---- */

static int rows_next(struct img_rows *r, unsigned char *row, struct gf_err *err)
{
    struct png_src *src = r->state;
    if (src->full) {
        memcpy(row, src->full + (size_t)src->next_y++ * src->rowbytes, src->rowbytes);
        return 0;
    }
    if (setjmp(png_jmpbuf(src->png)))
        return src_fail(src, err);
    png_read_row(src->png, row, NULL);
    return 0;
}

static int rows_end(struct img_rows *r, struct gf_err *err)
{
    struct png_src *src = r->state;
    if (setjmp(png_jmpbuf(src->png)))
        return src_fail(src, err);
    png_read_end(src->png, NULL);
    return 0;
}

static void rows_close(struct img_rows *r)
{
    src_close(r->state);
    free(r->state);
    r->state = NULL;
}

/* Header, transforms to 8-bit RGB(A), and for an interlaced image every pass into one picture
 * (its rows are only complete after the last pass). */
static int rows_start(struct png_src *src, struct img_rows *r, struct gf_err *err)
{
    if (setjmp(png_jmpbuf(src->png)))
        return src_fail(src, err);
    png_read_info(src->png, src->info);
    if (read_facts(src, &r->facts, err) < 0)
        return -1;
    png_set_expand(src->png); /* palette -> RGB, grey < 8 bits -> 8, tRNS -> alpha */
    png_set_strip_16(src->png);
    png_set_gray_to_rgb(src->png);
    int passes = png_set_interlace_handling(src->png);
    png_read_update_info(src->png, src->info);
    r->channels = png_get_channels(src->png, src->info);
    src->rowbytes = png_get_rowbytes(src->png, src->info);
    if (r->channels != 3 && r->channels != 4)
        return gf_error(err, GF_ERR_INPUT, "PNG does not decode: %d channels after expansion",
                        r->channels);
    if (passes > 1) {
        size_t h = r->facts.height;
        src->full = malloc(src->rowbytes * h);
        src->rowptrs = malloc(sizeof *src->rowptrs * h);
        if (!src->full || !src->rowptrs)
            return gf_error(err, GF_ERR_INPUT, "no memory to decode an interlaced %ux%u PNG",
                            r->facts.width, r->facts.height);
        for (size_t y = 0; y < h; y++)
            src->rowptrs[y] = src->full + y * src->rowbytes;
        png_read_image(src->png, src->rowptrs);
    }
    return 0;
}

static int codec_open_rows(const unsigned char *d, size_t len, struct img_rows *r,
                           struct gf_err *err)
{
    if (len < 8)
        return gf_error(err, GF_ERR_INPUT, "PNG is truncated (%zu bytes)", len);
    if (precheck_size(d, len, err) < 0)
        return -1;
    struct png_src *src = xmalloc(sizeof *src);
    src_open(src, d, len);
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

struct png_dst {
    png_structp png;
    png_infop info;
    unsigned char *row;
    struct png_msgs msgs; /* a writer's warnings do not fail it */
};

static void write_buf(png_structp png, png_bytep data, size_t n)
{
    buf_add(png_get_io_ptr(png), data, n);
}

static void flush_buf(png_structp png)
{
}

/* Write every row of src; 1 when the source failed (err filled), -1 on a libpng error. */
static int encode_rows(struct png_dst *dst, struct img_rows *src, struct buf *out,
                       struct gf_err *err)
{
    if (setjmp(png_jmpbuf(dst->png)))
        return -1;
    png_set_write_fn(dst->png, out, write_buf, flush_buf);
    png_set_IHDR(dst->png, dst->info, src->facts.width, src->facts.height, 8,
                 src->channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(dst->png, dst->info);
    for (uint32_t y = 0; y < src->facts.height; y++) {
        if (src->next(src, dst->row, err) < 0)
            return 1;
        png_write_row(dst->png, dst->row);
    }
    png_write_end(dst->png, NULL);
    return 0;
}

static int codec_encode(struct img_rows *src, int quality, struct buf *out, struct img_facts *f,
                        struct gf_err *err)
{
    struct png_dst dst = {0};
    dst.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &dst.msgs, on_error, on_warning);
    if (!dst.png)
        die("cannot create a libpng write struct");
    dst.info = png_create_info_struct(dst.png);
    if (!dst.info)
        die("cannot create a libpng info struct");
    dst.row = xmalloc((size_t)src->facts.width * (size_t)src->channels);
    int rc = encode_rows(&dst, src, out, err);
    png_destroy_write_struct(&dst.png, &dst.info);
    free(dst.row);
    if (rc < 0)
        return gf_error(err, GF_ERR_INPUT, "cannot encode PNG: %s", dst.msgs.error);
    if (rc > 0)
        return -1;
    f->format = IMG_PNG;
    f->width = src->facts.width;
    f->height = src->facts.height;
    f->channels = src->channels;
    f->bit_depth = 8;
    f->has_alpha = src->channels == 4;
    return 0;
}

const struct img_codec img_codec_png = {IMG_PNG, "PNG", codec_check, codec_open_rows, codec_encode};
