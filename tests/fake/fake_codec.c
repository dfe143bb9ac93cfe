/* fake_codec.c: the other image formats of the fake Gemini server, painted like its PNGs:
 * baseline JPEG (libjpeg-turbo; the real image models answer JPEG), a JPEG whose scan data is
 * corrupt, and lossless WebP (libwebp) for the webp fault. */
#include "fake.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <webp/encode.h>

/* ---- JPEG ---- */

struct jpeg_fail {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
};

static void jpeg_fail_exit(j_common_ptr cinfo)
{
    longjmp(((struct jpeg_fail *)cinfo->err)->jump, 1);
}

/* The libjpeg calls; kept apart so that setjmp has no locals to clobber. */
static int jpeg_encode(struct jpeg_compress_struct *ci, struct jpeg_fail *jf, unsigned char **mem,
                       unsigned long *size, const struct fk_painting *pt, unsigned char *row, int w,
                       int h)
{
    if (setjmp(jf->jump))
        return -1;
    jpeg_create_compress(ci);
    jpeg_mem_dest(ci, mem, size);
    ci->image_width = (JDIMENSION)w;
    ci->image_height = (JDIMENSION)h;
    ci->input_components = 3;
    ci->in_color_space = JCS_RGB;
    jpeg_set_defaults(ci); /* baseline, Huffman tables of the standard, 4:2:0 */
    jpeg_set_quality(ci, 90, TRUE);
    jpeg_start_compress(ci, TRUE);
    for (int y = 0; y < h; y++) {
        fk_paint_row(pt, row, w, h, y);
        JSAMPROW rows[1] = {row};
        jpeg_write_scanlines(ci, rows, 1);
    }
    jpeg_finish_compress(ci);
    return 0;
}

static unsigned char *jpeg_paint(int w, int h, uint64_t seed, size_t *len)
{
    struct jpeg_compress_struct ci;
    struct jpeg_fail jf;
    memset(&ci, 0, sizeof ci);
    ci.err = jpeg_std_error(&jf.mgr);
    jf.mgr.error_exit = jpeg_fail_exit;
    unsigned char *mem = NULL;
    unsigned long size = 0;
    struct fk_painting *pt = fk_paint_new(w, h, seed);
    unsigned char *row = fk_malloc((size_t)w * 3);
    int rc = jpeg_encode(&ci, &jf, &mem, &size, pt, row, w, h);
    jpeg_destroy_compress(&ci);
    free(row);
    free(pt);
    if (rc < 0) { /* only on out-of-memory: our parameters are always valid */
        fputs(FK_PREFIX "cannot encode a JPEG\n", stderr);
        abort();
    }
    unsigned char *out = fk_malloc(size); /* hand out memory that plain free() owns */
    memcpy(out, mem, size);
    free(mem);
    *len = size;
    return out;
}

unsigned char *fk_jpeg_make(int w, int h, uint64_t seed, size_t *len)
{
    return fk_media_cached('j', w, h, seed, len, jpeg_paint);
}

/* Fill the middle third of the entropy-coded data after SOS with stuffed 0xFF bytes: runs of
 * 1-bits are no Huffman code (the standard never assigns all-ones codes), so every decoder
 * reports corrupt data there, while SOI, the tables, SOF, SOS and EOI stay intact. */
void fk_jpeg_corrupt(unsigned char *jpeg, size_t len)
{
    size_t i = 2;
    while (i + 4 <= len && jpeg[i] == 0xff) {
        unsigned char marker = jpeg[i + 1];
        size_t seg = (size_t)jpeg[i + 2] << 8 | jpeg[i + 3];
        if (marker == 0xda) { /* SOS: the scan data follows its header */
            size_t start = i + 2 + seg, end = len >= 2 ? len - 2 : len; /* before EOI */
            if (start >= end)
                return;
            size_t from = start + (end - start) / 3, to = start + 2 * (end - start) / 3;
            for (size_t k = from; k + 1 < to; k += 2) {
                jpeg[k] = 0xff;
                jpeg[k + 1] = 0x00;
            }
            return;
        }
        i += 2 + seg;
    }
}

/* ---- WebP ---- */

unsigned char *fk_webp_make(int w, int h, uint64_t seed, size_t *len)
{
    struct fk_painting *pt = fk_paint_new(w, h, seed);
    unsigned char *rgb = fk_malloc((size_t)w * (size_t)h * 3);
    for (int y = 0; y < h; y++)
        fk_paint_row(pt, rgb + (size_t)y * (size_t)w * 3, w, h, y);
    free(pt);
    uint8_t *enc = NULL;
    size_t n = WebPEncodeLosslessRGB(rgb, w, h, w * 3, &enc);
    free(rgb);
    if (n == 0) {
        fputs(FK_PREFIX "cannot encode a WebP\n", stderr);
        abort();
    }
    unsigned char *out = fk_malloc(n);
    memcpy(out, enc, n);
    WebPFree(enc);
    *len = n;
    return out;
}
