/* png: decode a PNG from memory with libpng, row by row, to prove it is whole (signature, chunk
 * CRCs, zlib stream) before it counts as an artifact. The only module that touches libpng. */
#include "pngcheck.h"
#include "../runner/util.h"

#include <png.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PNG_MAX_SIDE 16384

/* Everything the libpng callbacks and the error path share. It lives in png_check's frame and
 * is reached through a pointer, so nothing that changes after setjmp is a local of the function
 * that called setjmp (those would be indeterminate after longjmp). */
struct png_src {
    png_structp png;
    png_infop info;
    const unsigned char *data;
    size_t len, pos;
    bool truncated;
    unsigned char *row;
    char error[256];   /* libpng's message */
    char warning[256]; /* libpng's first warning, reported with an error */
};

static void on_error(png_structp png, png_const_charp msg)
{
    struct png_src *src = png_get_error_ptr(png);
    snprintf(src->error, sizeof src->error, "%s", msg ? msg : "unknown error");
    png_longjmp(png, 1);
}

/* Warnings (e.g. "iCCP: known incorrect sRGB profile") do not fail an image; libpng would print
 * them on stderr, so keep the first one for the error message instead. */
static void on_warning(png_structp png, png_const_charp msg)
{
    struct png_src *src = png_get_error_ptr(png);
    if (!src->warning[0])
        snprintf(src->warning, sizeof src->warning, "%s", msg ? msg : "");
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

/* Read the whole image; any libpng error longjmps back here. */
static int decode(struct png_src *src, struct png_facts *facts)
{
    if (setjmp(png_jmpbuf(src->png)))
        return -1;
    png_set_read_fn(src->png, src, read_mem);
    png_set_user_limits(src->png, PNG_MAX_SIDE, PNG_MAX_SIDE); /* backstop for the IHDR check */
    png_read_info(src->png, src->info);
    png_uint_32 w, h;
    int depth, color, interlace;
    png_get_IHDR(src->png, src->info, &w, &h, &depth, &color, &interlace, NULL, NULL);
    int passes = png_set_interlace_handling(src->png);
    png_read_update_info(src->png, src->info);
    /* one row at a time: at most 16384 px * 8 bytes, never the whole image */
    src->row = xmalloc(png_get_rowbytes(src->png, src->info));
    for (int p = 0; p < passes; p++)
        for (png_uint_32 y = 0; y < h; y++)
            png_read_row(src->png, src->row, NULL);
    png_read_end(src->png, NULL); /* the chunks after IDAT, up to IEND, with their CRCs */
    facts->width = w;
    facts->height = h;
    facts->bit_depth = depth;
    facts->color_type = color;
    return 0;
}

int png_check(const void *data, size_t len, struct png_facts *facts, struct gf_err *err)
{
    const unsigned char *d = data;
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (len == 0)
        return gf_error(err, GF_ERR_INPUT, "PNG is empty (0 bytes)");
    if (memcmp(d, sig, len < 8 ? len : 8) != 0)
        return gf_error(err, GF_ERR_INPUT, "not a PNG (bad signature)");
    if (len < 8)
        return gf_error(err, GF_ERR_INPUT, "PNG is truncated (%zu bytes)", len);
    /* The size, from IHDR (always the first chunk), before libpng allocates anything for it. */
    if (len >= 8 + 8 + 13 && memcmp(d + 12, "IHDR", 4) == 0) {
        uint32_t w = be32(d + 16), h = be32(d + 20);
        if (w > PNG_MAX_SIDE || h > PNG_MAX_SIDE)
            return gf_error(err, GF_ERR_INPUT,
                            "PNG is too large: %" PRIu32 "x%" PRIu32
                            " pixels (at most %d on a side)",
                            w, h, PNG_MAX_SIDE);
    }

    struct png_src src = {.data = d, .len = len};
    src.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, on_error, on_warning);
    if (!src.png)
        die("cannot create a libpng read struct");
    src.info = png_create_info_struct(src.png);
    if (!src.info)
        die("cannot create a libpng info struct");
    int rc = decode(&src, facts);
    png_destroy_read_struct(&src.png, &src.info, NULL);
    free(src.row);
    if (rc == 0)
        return 0;
    if (src.truncated)
        return gf_error(err, GF_ERR_INPUT, "PNG is truncated (%zu bytes)", len);
    if (src.warning[0])
        return gf_error(err, GF_ERR_INPUT, "PNG does not decode: %s (after warning: %s)", src.error,
                        src.warning);
    return gf_error(err, GF_ERR_INPUT, "PNG does not decode: %s", src.error);
}
