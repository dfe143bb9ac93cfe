/* test_imgcodec: image formats by their bytes (PNG, JPEG, WebP), full decoding of valid, cut and
 * corrupted images, the size caps, conversions between the formats, and the video limits. The
 * images are made here with libpng, libjpeg and libwebp directly, and conversions are checked
 * by decoding their output with those libraries directly, not through the module under test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "buf.h"
#include "imgcodec.h"

#include <png.h>
#include <stdio.h> /* jpeglib.h needs FILE */
#include <jpeglib.h>
#include <webp/decode.h>
#include <webp/encode.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef TEST_DATA_DIR
#error "TEST_DATA_DIR must name tests/data"
#endif

/* ---- helpers ---- */

/* A file under tests/data/media/ (made by other tools: Python's zlib module). */
static void load_media(const char *name, struct buf *b)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/media/%s", TEST_DATA_DIR, name);
    if (buf_read_file(b, path) != 0)
        fail_msg("cannot read %s", path);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void put_be16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

/* The test pattern: smooth gradients (so lossy codecs keep it close) that differ per channel. */
static unsigned char pattern(uint32_t x, uint32_t y, int c)
{
    return (unsigned char)(c == 0 ? x * 3 + y : c == 1 ? y * 4 + 20 : c == 2 ? 200 - x - y : 255);
}

static unsigned char *pattern_image(uint32_t w, uint32_t h, int channels)
{
    unsigned char *px = malloc((size_t)w * h * (size_t)channels);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (int c = 0; c < channels; c++)
                px[((size_t)y * w + x) * (size_t)channels + (size_t)c] = pattern(x, y, c);
    return px;
}

/* Mean absolute difference of two 8-bit pictures of n samples. */
static double mean_diff(const unsigned char *a, const unsigned char *b, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += abs((int)a[i] - (int)b[i]);
    return sum / (double)n;
}

/* CRC-32 as PNG chunks use it (ISO 3309), bitwise: written here, not taken from zlib. */
static uint32_t crc32_png(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

/* ---- making and reading images with the libraries directly ---- */

static void write_cb(png_structp png, png_bytep data, size_t n)
{
    buf_add(png_get_io_ptr(png), data, n);
}

static void flush_cb(png_structp png)
{
}

/* A w x h PNG with a gradient, written with libpng's write API. */
static void make_png(struct buf *out, uint32_t w, uint32_t h, int depth, int color, int interlace)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png)))
        fail_msg("libpng could not write the test image");
    png_set_write_fn(png, out, write_cb, flush_cb);
    png_set_IHDR(png, info, w, h, depth, color, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    int channels = color == PNG_COLOR_TYPE_RGB         ? 3
                   : color == PNG_COLOR_TYPE_RGB_ALPHA ? 4
                   : color == PNG_COLOR_TYPE_GRAY      ? 1
                                                       : 2;
    size_t rowbytes = (size_t)w * (size_t)channels * (size_t)(depth / 8);
    unsigned char *row = malloc(rowbytes);
    int passes = png_set_interlace_handling(png);
    for (int p = 0; p < passes; p++)
        for (uint32_t y = 0; y < h; y++) {
            for (size_t i = 0; i < rowbytes; i++)
                row[i] = (unsigned char)(i * 7 + y * 13);
            png_write_row(png, row);
        }
    free(row);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
}

/* A 16-bit RGB PNG whose high bytes are the given 8-bit pixels (the low bytes 0x5A). */
static void make_png16_of(struct buf *out, const unsigned char *px, uint32_t w, uint32_t h)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png)))
        fail_msg("libpng could not write the test image");
    png_set_write_fn(png, out, write_cb, flush_cb);
    png_set_IHDR(png, info, w, h, 16, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    unsigned char *row = malloc((size_t)w * 6);
    for (uint32_t y = 0; y < h; y++) {
        for (size_t i = 0; i < (size_t)w * 3; i++) {
            row[2 * i] = px[(size_t)y * w * 3 + i];
            row[2 * i + 1] = 0x5A;
        }
        png_write_row(png, row);
    }
    free(row);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
}

/* An 8-bit RGB or RGBA PNG of the given pixels, with libpng's simplified API. */
static void make_png_of(struct buf *out, const unsigned char *px, uint32_t w, uint32_t h,
                        int channels)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = w;
    img.height = h;
    img.format = channels == 4 ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
    png_alloc_size_t size = 0;
    assert_true(png_image_write_get_memory_size(img, size, 0, px, 0, NULL));
    buf_grow(out, size);
    assert_true(png_image_write_to_memory(&img, out->data + out->len, &size, 0, px, 0, NULL));
    out->len += size;
    out->data[out->len] = '\0';
}

/* Decode a PNG into 8-bit RGB or RGBA with libpng's simplified API (caller frees). */
static unsigned char *read_png(const struct buf *b, int channels, uint32_t *w, uint32_t *h)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, b->data, b->len))
        fail_msg("libpng cannot read the PNG: %s", img.message);
    img.format = channels == 4 ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
    unsigned char *px = malloc(PNG_IMAGE_SIZE(img));
    if (!png_image_finish_read(&img, NULL, px, 0, NULL))
        fail_msg("libpng cannot decode the PNG: %s", img.message);
    *w = img.width;
    *h = img.height;
    return px;
}

/* libjpeg's default error handler calls exit(): the test fails instead. */
static void jpeg_test_error(j_common_ptr cinfo)
{
    char msg[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, msg);
    fail_msg("libjpeg: %s", msg);
}

/* A JPEG of the given pixels (components 1, 3, 4 for CMYK, any other in no colour space), with
 * libjpeg directly. A scan
 * script, when given, replaces the default one. */
static void make_jpeg_of(struct buf *out, const unsigned char *px, uint32_t w, uint32_t h,
                         int components, int quality, bool progressive, const jpeg_scan_info *scans,
                         int n_scans)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jerr.error_exit = jpeg_test_error;
    jpeg_create_compress(&c);
    unsigned char *mem = NULL;
    unsigned long size = 0;
    jpeg_mem_dest(&c, &mem, &size);
    c.image_width = w;
    c.image_height = h;
    c.input_components = components;
    c.in_color_space = components == 1   ? JCS_GRAYSCALE
                       : components == 3 ? JCS_RGB
                       : components == 4 ? JCS_CMYK
                                         : JCS_UNKNOWN;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    if (progressive)
        jpeg_simple_progression(&c);
    if (scans) {
        c.scan_info = scans;
        c.num_scans = n_scans;
    }
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < h) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * w * (size_t)components);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    buf_add(out, mem, size);
    free(mem);
}

static void make_jpeg(struct buf *out, uint32_t w, uint32_t h, int components, bool progressive)
{
    unsigned char *px = pattern_image(w, h, components);
    make_jpeg_of(out, px, w, h, components, 90, progressive, NULL, 0);
    free(px);
}

/* Decode a JPEG into 8-bit RGB with libjpeg directly (caller frees); fails on any warning. */
static unsigned char *read_jpeg(const struct buf *b, uint32_t *w, uint32_t *h)
{
    struct jpeg_decompress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jerr.error_exit = jpeg_test_error;
    jpeg_create_decompress(&c);
    jpeg_mem_src(&c, (const unsigned char *)b->data, b->len);
    jpeg_read_header(&c, TRUE);
    c.out_color_space = JCS_RGB;
    jpeg_start_decompress(&c);
    size_t stride = (size_t)c.output_width * 3;
    unsigned char *px = malloc(stride * c.output_height);
    while (c.output_scanline < c.output_height) {
        JSAMPROW row = px + (size_t)c.output_scanline * stride;
        jpeg_read_scanlines(&c, &row, 1);
    }
    jpeg_finish_decompress(&c);
    assert_int_equal(jerr.num_warnings, 0);
    *w = c.image_width;
    *h = c.image_height;
    jpeg_destroy_decompress(&c);
    return px;
}

/* A WebP of the pattern with libwebp's simple API: lossy (quality 90) or lossless. */
static void make_webp(struct buf *out, uint32_t w, uint32_t h, int channels, bool lossless)
{
    unsigned char *px = pattern_image(w, h, channels);
    if (channels == 4) /* some real transparency, so libwebp keeps the alpha channel */
        for (size_t i = 3; i < (size_t)w * h * 4; i += 4)
            px[i] = (unsigned char)(i % 251);
    int stride = (int)w * channels;
    uint8_t *mem = NULL;
    size_t size = channels == 4
                      ? (lossless ? WebPEncodeLosslessRGBA(px, (int)w, (int)h, stride, &mem)
                                  : WebPEncodeRGBA(px, (int)w, (int)h, stride, 90, &mem))
                      : (lossless ? WebPEncodeLosslessRGB(px, (int)w, (int)h, stride, &mem)
                                  : WebPEncodeRGB(px, (int)w, (int)h, stride, 90, &mem));
    assert_true(size > 0);
    buf_add(out, mem, size);
    WebPFree(mem);
    free(px);
}

/* Decode a WebP into RGB or RGBA with libwebp directly (caller frees with WebPFree). */
static unsigned char *read_webp(const struct buf *b, int channels, uint32_t *w, uint32_t *h)
{
    int iw = 0, ih = 0;
    uint8_t *px = channels == 4 ? WebPDecodeRGBA((const uint8_t *)b->data, b->len, &iw, &ih)
                                : WebPDecodeRGB((const uint8_t *)b->data, b->len, &iw, &ih);
    if (!px)
        fail_msg("libwebp cannot decode the WebP");
    *w = (uint32_t)iw;
    *h = (uint32_t)ih;
    return px;
}

/* ---- checking ---- */

static void must_fail_as(const struct buf *b, size_t len, enum img_format want, const char *expect)
{
    struct img_facts facts = {.width = 7};
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(img_check_as(b->data, len, want, &facts, &err), -1);
    assert_int_equal(err.kind, GF_ERR_INPUT);
    if (!strstr(err.msg, expect))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, expect);
    assert_int_equal(facts.width, 7); /* untouched */
}

static void must_fail(const struct buf *b, size_t len, const char *expect)
{
    must_fail_as(b, len, IMG_UNKNOWN, expect);
}

static struct img_facts must_pass(const struct buf *b)
{
    struct img_facts facts;
    memset(&facts, 0xAB, sizeof facts);
    struct gf_err err = GF_ERR_INIT;
    if (img_check(b->data, b->len, &facts, &err) != 0)
        fail_msg("%s", err.msg);
    return facts;
}

/* Run img_check with stderr redirected; returns what the libraries would have printed. */
static int check_quiet(const struct buf *b, struct img_facts *facts, struct gf_err *err,
                       char *printed, size_t n)
{
    char path[] = "/tmp/test_imgcodec_stderr_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    int rc = img_check(b->data, b->len, facts, err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ssize_t got = pread(fd, printed, n - 1, 0);
    printed[got > 0 ? got : 0] = '\0';
    close(fd);
    unlink(path);
    return rc;
}

static void convert_must_fail(const struct buf *in, size_t len, enum img_format to, int quality,
                              const char *expect);

/* PNG: offset of the first chunk of the given type (its length field), or fail. */
static size_t find_chunk(const struct buf *b, const char *type)
{
    for (size_t off = 8; off + 12 <= b->len; off += 12 + be32((unsigned char *)b->data + off))
        if (memcmp(b->data + off + 4, type, 4) == 0)
            return off;
    fail_msg("no %s chunk", type);
    return 0;
}

/* PNG: recompute the CRC of the chunk at `off` after editing it. */
static void fix_crc(struct buf *b, size_t off)
{
    unsigned char *p = (unsigned char *)b->data + off;
    uint32_t len = be32(p);
    put_be32(p + 8 + len, crc32_png(p + 4, 4 + len));
}

/* JPEG: offset of the first marker FF <code> (its FF byte), walking the marker segments up to
 * the first SOS; or fail. */
static size_t find_marker(const struct buf *b, unsigned char code)
{
    const unsigned char *d = (const unsigned char *)b->data;
    for (size_t off = 2; off + 4 <= b->len;) {
        assert_int_equal(d[off], 0xFF);
        if (d[off + 1] == code)
            return off;
        if (d[off + 1] == 0xDA)
            break;
        off += 2 + ((size_t)d[off + 2] << 8 | d[off + 3]);
    }
    fail_msg("no marker 0x%02x", code);
    return 0;
}

/* ---- sniffing, names, labels ---- */

static void test_sniff_each_format(void **state)
{
    struct buf png = BUF_INIT, jpeg = BUF_INIT, webp = BUF_INIT;
    make_png(&png, 8, 8, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE);
    make_jpeg(&jpeg, 8, 8, 3, false);
    make_webp(&webp, 8, 8, 3, false);
    assert_int_equal(img_sniff(png.data, png.len), IMG_PNG);
    assert_int_equal(img_sniff(jpeg.data, jpeg.len), IMG_JPEG);
    assert_int_equal(img_sniff(webp.data, webp.len), IMG_WEBP);
    /* the signature is enough: the first bytes alone */
    assert_int_equal(img_sniff(png.data, 8), IMG_PNG);
    assert_int_equal(img_sniff(jpeg.data, 3), IMG_JPEG);
    assert_int_equal(img_sniff(webp.data, 12), IMG_WEBP);
    /* one byte short of the signature is not enough */
    assert_int_equal(img_sniff(png.data, 7), IMG_UNKNOWN);
    assert_int_equal(img_sniff(jpeg.data, 2), IMG_UNKNOWN);
    assert_int_equal(img_sniff(webp.data, 11), IMG_UNKNOWN);
    buf_release(&png);
    buf_release(&jpeg);
    buf_release(&webp);
}

static void test_sniff_garbage(void **state)
{
    static const char *const not_images[] = {
        "",
        "<html>not an image</html>",
        "RIFF\x24\0\0\0WAVEfmt ", /* a WAV: RIFF, but not WEBP */
        "GIF89a\x01\0\x01\0",
        "\xFF\xD8\x00\x00", /* SOI without a marker after it */
        "\x89PNG\r\n\x1a\x0b",
    };
    for (size_t i = 0; i < sizeof not_images / sizeof *not_images; i++)
        assert_int_equal(img_sniff(not_images[i], strlen(not_images[i])), IMG_UNKNOWN);
    struct buf b = BUF_INIT;
    buf_adds(&b, "<html>not an image</html>");
    must_fail(&b, b.len, "not an image (the bytes are neither PNG, JPEG nor WebP)");
    must_fail(&b, 0, "image is empty (0 bytes)");
    buf_release(&b);
}

static void test_format_names(void **state)
{
    assert_string_equal(img_format_mime(IMG_PNG), "image/png");
    assert_string_equal(img_format_mime(IMG_JPEG), "image/jpeg");
    assert_string_equal(img_format_mime(IMG_WEBP), "image/webp");
    assert_null(img_format_mime(IMG_UNKNOWN));
    assert_string_equal(img_format_name(IMG_PNG), "png");
    assert_string_equal(img_format_name(IMG_JPEG), "jpeg");
    assert_string_equal(img_format_name(IMG_WEBP), "webp");
    assert_string_equal(img_format_name(IMG_UNKNOWN), "unknown");
}

static void test_format_for_path(void **state)
{
    static const struct {
        const char *path;
        enum img_format f;
    } cases[] = {
        {"images/s1.png", IMG_PNG},     {"images/s1.PNG", IMG_PNG},
        {"s1.jpg", IMG_JPEG},           {"a/b/s1.JPEG", IMG_JPEG},
        {"s1.webp", IMG_WEBP},          {"s1.png.txt", IMG_UNKNOWN},
        {"images.png/s1", IMG_UNKNOWN}, {"s1", IMG_UNKNOWN},
        {"s1.jpe", IMG_UNKNOWN},        {"", IMG_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (img_format_for_path(cases[i].path) != cases[i].f)
            fail_msg("'%s'", cases[i].path);
    assert_int_equal(img_format_for_path(NULL), IMG_UNKNOWN);
}

static void test_format_for_mime(void **state)
{
    static const struct {
        const char *mime;
        enum img_format f;
    } cases[] = {
        {"image/png", IMG_PNG},     {"IMAGE/PNG", IMG_PNG},      {" image/jpeg ; q=1", IMG_JPEG},
        {"image/jpg", IMG_JPEG},    {"image/pjpeg", IMG_JPEG},   {"image/webp", IMG_WEBP},
        {"image/gif", IMG_UNKNOWN}, {"image/pngx", IMG_UNKNOWN}, {"image/pn", IMG_UNKNOWN},
        {"", IMG_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (img_format_for_mime(cases[i].mime) != cases[i].f)
            fail_msg("'%s'", cases[i].mime);
    assert_int_equal(img_format_for_mime(NULL), IMG_UNKNOWN);
}

/* googleapis/python-genai#1824: the image models reply with JPEG labelled image/png. The label
 * says PNG, the bytes say JPEG, and the bytes win. */
static void test_jpeg_labelled_png(void **state)
{
    struct buf jpeg = BUF_INIT;
    make_jpeg(&jpeg, 40, 30, 3, false);
    assert_int_equal(img_format_for_mime("image/png"), IMG_PNG);
    assert_int_equal(img_sniff(jpeg.data, jpeg.len), IMG_JPEG);
    struct img_facts f = must_pass(&jpeg);
    assert_int_equal(f.format, IMG_JPEG);
    assert_int_equal(f.width, 40);
    /* where only PNG will do, the lie is named */
    must_fail_as(&jpeg, jpeg.len, IMG_PNG, "not a PNG (the bytes are JPEG)");
    buf_release(&jpeg);
}

static void test_check_as(void **state)
{
    struct buf png = BUF_INIT, webp = BUF_INIT;
    make_png(&png, 8, 8, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE);
    make_webp(&webp, 8, 8, 3, false);
    struct img_facts f;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(img_check_as(png.data, png.len, IMG_PNG, &f, &err), 0);
    assert_int_equal(f.format, IMG_PNG);
    assert_int_equal(img_check_as(webp.data, webp.len, IMG_WEBP, NULL, &err), 0);
    must_fail_as(&webp, webp.len, IMG_JPEG, "not a JPEG (the bytes are WebP)");
    must_fail_as(&png, png.len, IMG_WEBP, "not a WebP (the bytes are PNG)");
    must_fail_as(&png, 0, IMG_PNG, "PNG is empty (0 bytes)");
    buf_release(&png);
    buf_release(&webp);
}

/* ---- PNG ---- */

static void test_png_valid_rgb(void **state)
{
    struct buf b = BUF_INIT;
    make_png(&b, 64, 48, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE);
    struct img_facts f = must_pass(&b);
    assert_int_equal(f.format, IMG_PNG);
    assert_int_equal(f.width, 64);
    assert_int_equal(f.height, 48);
    assert_int_equal(f.bit_depth, 8);
    assert_int_equal(f.channels, 3);
    assert_false(f.has_alpha);
    buf_release(&b);
}

static void test_png_valid_interlaced_rgba16(void **state)
{
    struct buf b = BUF_INIT;
    make_png(&b, 33, 17, 16, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_ADAM7);
    struct img_facts f = must_pass(&b);
    assert_int_equal(f.width, 33);
    assert_int_equal(f.height, 17);
    assert_int_equal(f.bit_depth, 16);
    assert_int_equal(f.channels, 4);
    assert_true(f.has_alpha);
    buf_release(&b);
}

static void test_png_valid_grey_alpha(void **state)
{
    struct buf b = BUF_INIT;
    make_png(&b, 5, 3, 8, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_INTERLACE_NONE);
    struct img_facts f = must_pass(&b);
    assert_int_equal(f.channels, 2);
    assert_true(f.has_alpha);
    buf_release(&b);
}

static void test_png_from_another_encoder(void **state)
{
    struct buf b = BUF_INIT;
    load_media("rgb_8x6.png", &b); /* chunks and zlib stream written by hand in Python */
    struct img_facts f = must_pass(&b);
    assert_int_equal(f.width, 8);
    assert_int_equal(f.height, 6);
    assert_int_equal(f.bit_depth, 8);
    assert_int_equal(f.channels, 3);
    buf_release(&b);
}

static void test_png_truncated(void **state)
{
    struct buf b = BUF_INIT;
    make_png(&b, 64, 48, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE);
    char want[64];
    snprintf(want, sizeof want, "PNG is truncated (%zu bytes)", b.len / 2);
    must_fail(&b, b.len / 2, want);
    must_fail(&b, b.len - 12, "PNG is truncated");  /* IEND missing */
    must_fail(&b, 5, "PNG is truncated (5 bytes)"); /* part of the signature */
    must_fail_as(&b, 5, IMG_PNG, "PNG is truncated (5 bytes)");
    buf_release(&b);
}

static void test_png_bad_signature(void **state)
{
    struct buf b = BUF_INIT;
    make_png(&b, 64, 48, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE);
    b.data[1] = 'J';
    must_fail_as(&b, b.len, IMG_PNG, "not a PNG (bad signature)");
    must_fail(&b, b.len, "not an image");
    buf_release(&b);
    struct buf text = BUF_INIT;
    buf_adds(&text, "<html>not an image</html>");
    must_fail_as(&text, text.len, IMG_PNG, "not a PNG (bad signature)");
    buf_release(&text);
}

/* libpng inflates IDAT while reading it, so a flipped data byte is usually reported by zlib
 * before the chunk's CRC is checked; either way the image fails with libpng's words. */
static void test_png_idat_flipped_byte(void **state)
{
    struct buf b = BUF_INIT;
    make_png(&b, 64, 48, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE);
    size_t idat = find_chunk(&b, "IDAT");
    b.data[idat + 8 + 10] ^= 0x20;
    must_fail(&b, b.len, "PNG does not decode: IDAT: ");
    buf_release(&b);
}

static void test_png_idat_crc_error(void **state)
{
    struct buf b = BUF_INIT;
    make_png(&b, 64, 48, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE);
    size_t idat = find_chunk(&b, "IDAT");
    b.data[idat + 8 + be32((unsigned char *)b.data + idat) + 1] ^= 0x01; /* in the CRC itself */
    must_fail(&b, b.len, "PNG does not decode: IDAT: CRC error");
    buf_release(&b);
}

static void test_png_zlib_error(void **state)
{
    struct buf b = BUF_INIT;
    make_png(&b, 64, 48, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE);
    size_t idat = find_chunk(&b, "IDAT");
    /* a deflate block type of 3 (reserved) right after the 2-byte zlib header, CRC fixed so
     * only zlib can notice */
    b.data[idat + 8 + 2] = 0x07;
    fix_crc(&b, idat);
    must_fail(&b, b.len, "PNG does not decode: IDAT: invalid block type");
    buf_release(&b);
}

static void test_png_missing_rows(void **state)
{
    struct buf b = BUF_INIT;
    make_png(&b, 64, 48, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE);
    size_t ihdr = find_chunk(&b, "IHDR");
    put_be32((unsigned char *)b.data + ihdr + 12, 60); /* claims 60 rows, holds 48 */
    fix_crc(&b, ihdr);
    must_fail(&b, b.len, "PNG does not decode: Not enough image data");
    buf_release(&b);
}

/* A well-formed header (CRC fixed) where only the size is wrong. */
static void png_with_size(struct buf *b, uint32_t w, uint32_t h)
{
    make_png(b, 64, 48, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE);
    size_t ihdr = find_chunk(b, "IHDR");
    put_be32((unsigned char *)b->data + ihdr + 8, w);
    put_be32((unsigned char *)b->data + ihdr + 12, h);
    fix_crc(b, ihdr);
}

static void test_png_over_the_caps(void **state)
{
    struct buf b = BUF_INIT;
    png_with_size(&b, 20000, 100);
    must_fail(&b, b.len, "image is 20000x100 pixels: more than 16384 on a side");
    buf_reset(&b);
    png_with_size(&b, 16385, 1);
    must_fail(&b, b.len, "image is 16385x1 pixels: more than 16384 on a side");
    buf_reset(&b);
    png_with_size(&b, 1, 16385);
    must_fail(&b, b.len, "image is 1x16385 pixels: more than 16384 on a side");
    buf_reset(&b);
    png_with_size(&b, 8000, 6000); /* 48 million: under the side cap, over the pixel cap */
    must_fail(&b, b.len, "image is 8000x6000 pixels: more than 40000000 in all");
    buf_release(&b);
}

/* An ancillary chunk with a bad CRC is a libpng warning: the image passes and nothing is
 * printed on stderr. */
static void test_png_warning_is_silent(void **state)
{
    struct buf b = BUF_INIT;
    make_png(&b, 16, 16, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE);
    size_t idat = find_chunk(&b, "IDAT");
    struct buf edited = BUF_INIT;
    buf_add(&edited, b.data, idat);
    static const unsigned char text[] = {0,   0,   0,   9,   't', 'E', 'X',  't',  'C',  'o', 'm',
                                         'm', 'e', 'n', 't', 0,   'x', 0xDE, 0xAD, 0xBE, 0xEF};
    buf_add(&edited, text, sizeof text);
    buf_add(&edited, b.data + idat, b.len - idat);
    struct img_facts facts;
    struct gf_err err = GF_ERR_INIT;
    char printed[512];
    int rc = check_quiet(&edited, &facts, &err, printed, sizeof printed);
    if (rc != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(printed, "");
    assert_int_equal(facts.width, 16);
    buf_release(&b);
    buf_release(&edited);
}

/* A text chunk whose header claims 1.3 GB in a file of a few hundred bytes: libpng would
 * allocate and clear the claimed size before reading it (found by fuzz-imgcodec). It is read
 * past instead, so the claim is a truncation and the peak memory does not grow by a gigabyte. */
static void test_png_huge_text_chunk_claim(void **state)
{
    struct buf b = BUF_INIT;
    make_png(&b, 8, 8, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE);
    size_t idat = find_chunk(&b, "IDAT");
    struct buf edited = BUF_INIT;
    buf_add(&edited, b.data, idat);
    static const unsigned char ztxt[] = {0x50, 0x4e, 0x47, 0x0d, 'z', 'T', 'X', 't', 'C', 0, 0};
    buf_add(&edited, ztxt, sizeof ztxt);
    buf_add(&edited, b.data + idat, b.len - idat);
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    must_fail(&edited, edited.len, "PNG is truncated");
    getrusage(RUSAGE_SELF, &after);
    if (after.ru_maxrss - before.ru_maxrss > 100 * 1024)
        fail_msg("the peak memory grew by %ld KB", after.ru_maxrss - before.ru_maxrss);
    buf_release(&b);
    buf_release(&edited);
}

static void test_png_error_is_silent(void **state)
{
    struct buf b = BUF_INIT;
    make_png(&b, 64, 48, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE);
    b.data[find_chunk(&b, "IDAT") + 20] ^= 1;
    struct img_facts facts;
    struct gf_err err = GF_ERR_INIT;
    char printed[512];
    assert_int_equal(check_quiet(&b, &facts, &err, printed, sizeof printed), -1);
    assert_string_equal(printed, "");
    buf_release(&b);
}

/* ---- JPEG ---- */

static void test_jpeg_valid_baseline(void **state)
{
    struct buf b = BUF_INIT;
    make_jpeg(&b, 64, 48, 3, false);
    struct img_facts f = must_pass(&b);
    assert_int_equal(f.format, IMG_JPEG);
    assert_int_equal(f.width, 64);
    assert_int_equal(f.height, 48);
    assert_int_equal(f.channels, 3);
    assert_int_equal(f.bit_depth, 8);
    assert_false(f.has_alpha);
    buf_release(&b);
}

static void test_jpeg_valid_grey_and_progressive(void **state)
{
    struct buf b = BUF_INIT;
    make_jpeg(&b, 30, 20, 1, false);
    struct img_facts f = must_pass(&b);
    assert_int_equal(f.channels, 1);
    assert_int_equal(f.width, 30);
    buf_reset(&b);
    make_jpeg(&b, 50, 70, 3, true);
    assert_non_null(memmem(b.data, b.len, "\xFF\xC2", 2)); /* SOF2: progressive */
    f = must_pass(&b);
    assert_int_equal(f.width, 50);
    assert_int_equal(f.height, 70);
    buf_release(&b);
}

static void test_jpeg_truncated(void **state)
{
    struct buf b = BUF_INIT;
    make_jpeg(&b, 64, 48, 3, false);
    char want[64];
    snprintf(want, sizeof want, "JPEG is truncated (%zu bytes)", b.len / 2);
    must_fail(&b, b.len / 2, want); /* in the scan */
    snprintf(want, sizeof want, "JPEG is truncated (%zu bytes)", b.len - 2);
    must_fail(&b, b.len - 2, want);                    /* EOI missing */
    must_fail(&b, 40, "JPEG is truncated (40 bytes)"); /* in the headers */
    must_fail(&b, 2, "JPEG is truncated (2 bytes)");   /* SOI alone */
    buf_release(&b);
}

/* The offset of the entropy-coded data's middle, at a byte that does not follow an FF (so an
 * edit there does not undo a stuffed byte), and the end of that data (the EOI). */
static size_t scan_middle(const struct buf *b, size_t *end)
{
    size_t sos = find_marker(b, 0xDA);
    const unsigned char *d = (const unsigned char *)b->data;
    size_t start = sos + 2 + ((size_t)d[sos + 2] << 8 | d[sos + 3]);
    *end = b->len - 2;
    assert_true(*end > start + 64);
    size_t mid = start + (*end - start) / 2;
    while (d[mid - 1] == 0xFF || d[mid] == 0xFF)
        mid++;
    return mid;
}

/* All-ones bits are no Huffman code (JPEG reserves them), so a run of stuffed FF bytes in the
 * middle of the scan is a bad code. */
static void test_jpeg_bad_huffman_code(void **state)
{
    struct buf b = BUF_INIT;
    make_jpeg(&b, 64, 48, 3, false);
    size_t end, mid = scan_middle(&b, &end);
    for (size_t i = 0; i < 16; i += 2) {
        b.data[mid + i] = (char)0xFF;
        b.data[mid + i + 1] = 0x00;
    }
    must_fail(&b, b.len, "JPEG does not decode: Corrupt JPEG data: bad Huffman code");
    buf_release(&b);
}

/* A marker inside the scan ends its data early: a libjpeg warning, which fails the image. */
static void test_jpeg_marker_in_scan(void **state)
{
    struct buf b = BUF_INIT;
    make_jpeg(&b, 64, 48, 3, false);
    size_t end, mid = scan_middle(&b, &end);
    b.data[mid] = (char)0xFF;
    b.data[mid + 1] = (char)0xD0; /* RST0, with no restart interval defined */
    must_fail(&b, b.len, "JPEG does not decode: Corrupt JPEG data: premature end of data segment");
    buf_release(&b);
}

/* Bytes between two marker segments: libjpeg skips them with a warning; here they fail. */
static void test_jpeg_extraneous_bytes(void **state)
{
    struct buf b = BUF_INIT;
    make_jpeg(&b, 64, 48, 3, false);
    size_t dqt = find_marker(&b, 0xDB);
    struct buf edited = BUF_INIT;
    buf_add(&edited, b.data, dqt);
    buf_add(&edited, "abc", 3);
    buf_add(&edited, b.data + dqt, b.len - dqt);
    must_fail(&edited, edited.len,
              "JPEG does not decode: Corrupt JPEG data: 3 extraneous bytes before marker 0xdb");
    buf_release(&b);
    buf_release(&edited);
}

/* A JFIF revision 2.1 is a warning about metadata, not about the pixels: the image passes, and
 * neither it nor a failing one prints anything. */
static void test_jpeg_harmless_warning_passes_silently(void **state)
{
    struct buf b = BUF_INIT;
    make_jpeg(&b, 16, 16, 3, false);
    size_t app0 = find_marker(&b, 0xE0);
    assert_memory_equal(b.data + app0 + 4, "JFIF", 5);
    b.data[app0 + 9] = 2; /* major version */
    struct img_facts facts;
    struct gf_err err = GF_ERR_INIT;
    char printed[512];
    if (check_quiet(&b, &facts, &err, printed, sizeof printed) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(printed, "");
    b.data[find_marker(&b, 0xDA) + 5] = 9; /* SOS names component 9 (there is none) */
    assert_int_equal(check_quiet(&b, &facts, &err, printed, sizeof printed), -1);
    assert_non_null(strstr(err.msg, "JPEG does not decode: "));
    assert_string_equal(printed, "");
    buf_release(&b);
}

/* libjpeg decodes any number of components; only grey, colour and CMYK are pictures. */
static void test_jpeg_no_colour_space(void **state)
{
    unsigned char *px = pattern_image(16, 16, 2);
    struct buf b = BUF_INIT;
    make_jpeg_of(&b, px, 16, 16, 2, 90, false, NULL, 0);
    free(px);
    must_fail(&b, b.len, "JPEG has 2 components: not grey, colour or CMYK");
    convert_must_fail(&b, b.len, IMG_PNG, 0, "JPEG has 2 components");
    buf_release(&b);
}

static void jpeg_with_size(struct buf *b, unsigned w, unsigned h)
{
    make_jpeg(b, 64, 48, 3, false);
    size_t sof = find_marker(b, 0xC0);
    put_be16((unsigned char *)b->data + sof + 5, h);
    put_be16((unsigned char *)b->data + sof + 7, w);
}

static void test_jpeg_over_the_caps(void **state)
{
    struct buf b = BUF_INIT;
    jpeg_with_size(&b, 20000, 100);
    must_fail(&b, b.len, "image is 20000x100 pixels: more than 16384 on a side");
    buf_reset(&b);
    jpeg_with_size(&b, 8000, 6000);
    must_fail(&b, b.len, "image is 8000x6000 pixels: more than 40000000 in all");
    buf_release(&b);
}

/* A valid progressive JPEG of 568 scans (a DC scan, then each AC coefficient sent alone at 8
 * bits of approximation and refined bit by bit): libjpeg decodes it, the check refuses it. */
static void test_jpeg_too_many_scans(void **state)
{
    enum { N = 1 + 63 * 9 };
    static jpeg_scan_info scans[N];
    int n = 0;
    scans[n++] = (jpeg_scan_info){1, {0}, 0, 0, 0, 0};
    for (int k = 1; k < 64; k++) {
        scans[n++] = (jpeg_scan_info){1, {0}, k, k, 0, 8};
        for (int al = 7; al >= 0; al--)
            scans[n++] = (jpeg_scan_info){1, {0}, k, k, al + 1, al};
    }
    assert_int_equal(n, N);
    unsigned char *px = pattern_image(16, 16, 1);
    struct buf b = BUF_INIT;
    make_jpeg_of(&b, px, 16, 16, 1, 90, false, scans, n);
    free(px);
    size_t sos = 0;
    for (size_t i = 0; i + 1 < b.len; i++)
        sos += (unsigned char)b.data[i] == 0xFF && (unsigned char)b.data[i + 1] == 0xDA;
    assert_int_equal(sos, N);
    uint32_t w, h;
    free(read_jpeg(&b, &w, &h)); /* valid for libjpeg */
    assert_int_equal(w, 16);
    must_fail(&b, b.len, "JPEG does not decode: more than 500 scans");
    buf_release(&b);
}

/* ---- WebP ---- */

static void test_webp_valid(void **state)
{
    struct buf b = BUF_INIT;
    make_webp(&b, 64, 48, 3, false);
    struct img_facts f = must_pass(&b);
    assert_int_equal(f.format, IMG_WEBP);
    assert_int_equal(f.width, 64);
    assert_int_equal(f.height, 48);
    assert_int_equal(f.channels, 3);
    assert_false(f.has_alpha);
    buf_reset(&b);
    make_webp(&b, 33, 17, 4, true); /* lossless with alpha: VP8L */
    assert_memory_equal(b.data + 12, "VP8L", 4);
    f = must_pass(&b);
    assert_int_equal(f.width, 33);
    assert_int_equal(f.channels, 4);
    assert_true(f.has_alpha);
    buf_reset(&b);
    make_webp(&b, 20, 10, 4, false); /* lossy with alpha: VP8X, ALPH, VP8 */
    assert_memory_equal(b.data + 12, "VP8X", 4);
    f = must_pass(&b);
    assert_int_equal(f.height, 10);
    assert_true(f.has_alpha);
    buf_release(&b);
}

static void test_webp_truncated(void **state)
{
    struct buf b = BUF_INIT;
    make_webp(&b, 64, 48, 3, false);
    char want[64];
    snprintf(want, sizeof want, "WebP is truncated (%zu bytes)", b.len / 2);
    must_fail(&b, b.len / 2, want);
    snprintf(want, sizeof want, "WebP is truncated (%zu bytes)", b.len - 1);
    must_fail(&b, b.len - 1, want);
    must_fail(&b, 10, "WebP is truncated (10 bytes)"); /* "RIFF", size, "WE" */
    buf_reset(&b);
    make_webp(&b, 64, 48, 4, true);
    snprintf(want, sizeof want, "WebP is truncated (%zu bytes)", b.len - 20);
    must_fail(&b, b.len - 20, want);
    buf_release(&b);
}

static void test_webp_corrupt(void **state)
{
    struct buf b = BUF_INIT;
    make_webp(&b, 64, 48, 3, false);
    assert_memory_equal(b.data + 12, "VP8 ", 4);
    assert_memory_equal(b.data + 23, "\x9d\x01\x2a", 3); /* the key frame's start code */
    b.data[24] = 0x02;
    must_fail(&b, b.len, "WebP does not decode: bitstream error");
    buf_reset(&b);
    make_webp(&b, 64, 48, 4, true);
    assert_int_equal((unsigned char)b.data[20], 0x2F); /* VP8L signature */
    b.data[20] = 0x2E;
    must_fail(&b, b.len, "WebP does not decode: bitstream error");
    buf_release(&b);
}

/* A lossy WebP's frame header holds 14-bit sizes: at most 16383 on a side (libwebp's own
 * limit, under the side cap), but far more than the pixel cap in all. */
static void test_webp_over_the_caps(void **state)
{
    struct buf b = BUF_INIT;
    make_webp(&b, 64, 48, 3, false);
    assert_memory_equal(b.data + 23, "\x9d\x01\x2a", 3);
    unsigned char *d = (unsigned char *)b.data;
    d[26] = 10000 & 0xFF, d[27] = 10000 >> 8; /* width, no scaling */
    d[28] = 6000 & 0xFF, d[29] = 6000 >> 8;   /* height */
    must_fail(&b, b.len, "image is 10000x6000 pixels: more than 40000000 in all");
    buf_release(&b);
}

static void test_webp_animated_refused(void **state)
{
    struct buf b = BUF_INIT;
    make_webp(&b, 20, 10, 4, false);
    b.data[20] |= 0x02; /* VP8X flags: animation */
    must_fail(&b, b.len, "WebP is animated");
    buf_release(&b);
}

/* ---- conversion ---- */

static void convert_ok(const struct buf *in, enum img_format to, int quality, struct buf *out,
                       struct img_facts *f)
{
    struct gf_err err = GF_ERR_INIT;
    if (img_convert(in->data, in->len, to, quality, out, f, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(img_sniff(out->data, out->len), to);
}

/* JPEG to PNG is lossless: the PNG holds exactly the pixels libjpeg decodes. */
static void test_convert_jpeg_to_png_keeps_pixels(void **state)
{
    struct buf jpeg = BUF_INIT, png = BUF_INIT;
    make_jpeg(&jpeg, 61, 37, 3, false);
    struct img_facts f;
    convert_ok(&jpeg, IMG_PNG, 0, &png, &f);
    assert_int_equal(f.format, IMG_PNG);
    assert_int_equal(f.width, 61);
    assert_int_equal(f.height, 37);
    assert_int_equal(f.channels, 3);
    uint32_t jw, jh, pw, ph;
    unsigned char *want = read_jpeg(&jpeg, &jw, &jh);
    unsigned char *got = read_png(&png, 3, &pw, &ph);
    assert_int_equal(pw, 61);
    assert_int_equal(ph, 37);
    assert_memory_equal(got, want, (size_t)61 * 37 * 3);
    free(want);
    free(got);
    buf_release(&jpeg);
    buf_release(&png);
}

static void test_convert_png_to_jpeg_95(void **state)
{
    unsigned char *px = pattern_image(64, 48, 3);
    struct buf png = BUF_INIT, q0 = BUF_INIT, q95 = BUF_INIT, q10 = BUF_INIT;
    make_png_of(&png, px, 64, 48, 3);
    struct img_facts f;
    convert_ok(&png, IMG_JPEG, 0, &q0, &f);
    assert_int_equal(f.format, IMG_JPEG);
    assert_int_equal(f.width, 64);
    assert_int_equal(f.height, 48);
    uint32_t w, h;
    unsigned char *got = read_jpeg(&q0, &w, &h);
    assert_int_equal(w, 64);
    assert_int_equal(h, 48);
    double d95 = mean_diff(got, px, (size_t)64 * 48 * 3);
    free(got);
    assert_true(d95 < 2.0); /* a smooth gradient at quality 95: within a couple of levels */
    must_pass(&q0);
    /* 0 means 95; a low quality is smaller and further off */
    convert_ok(&png, IMG_JPEG, 95, &q95, NULL);
    assert_int_equal(q95.len, q0.len);
    assert_memory_equal(q95.data, q0.data, q0.len);
    convert_ok(&png, IMG_JPEG, 10, &q10, NULL);
    assert_true(q10.len < q95.len);
    got = read_jpeg(&q10, &w, &h);
    assert_true(mean_diff(got, px, (size_t)64 * 48 * 3) > d95);
    free(got);
    free(px);
    buf_release(&png);
    buf_release(&q0);
    buf_release(&q95);
    buf_release(&q10);
}

/* Transparent pixels become white in a JPEG, opaque ones keep their colour. */
static void test_convert_alpha_over_white(void **state)
{
    enum { W = 32, H = 16 };
    unsigned char px[W * H * 4];
    for (size_t i = 0; i < W * H; i++) {
        bool opaque = i % W >= W / 2;
        unsigned char *p = px + 4 * i;
        p[0] = opaque ? 200 : 0;
        p[1] = opaque ? 30 : 0;
        p[2] = 30;
        p[3] = opaque ? 255 : 0;
    }
    struct buf png = BUF_INIT, jpeg = BUF_INIT;
    make_png_of(&png, px, W, H, 4);
    struct img_facts f;
    convert_ok(&png, IMG_JPEG, 0, &jpeg, &f);
    assert_false(f.has_alpha);
    uint32_t w, h;
    unsigned char *got = read_jpeg(&jpeg, &w, &h);
    const unsigned char *left = got + (8 * W + 4) * 3, *right = got + (8 * W + 24) * 3;
    for (int c = 0; c < 3; c++)
        if (left[c] < 250)
            fail_msg("transparent pixel channel %d is %d, not white", c, left[c]);
    assert_in_range(right[0], 194, 206);
    assert_in_range(right[1], 24, 36);
    assert_in_range(right[2], 24, 36);
    free(got);
    buf_release(&png);
    buf_release(&jpeg);
}

static void test_convert_png_to_webp_keeps_alpha(void **state)
{
    enum { W = 40, H = 24 };
    unsigned char *px = pattern_image(W, H, 4);
    for (size_t i = 0; i < W * H; i++)
        px[4 * i + 3] = (unsigned char)(i % W * 6 + 10);
    struct buf png = BUF_INIT, webp = BUF_INIT;
    make_png_of(&png, px, W, H, 4);
    struct img_facts f;
    convert_ok(&png, IMG_WEBP, 0, &webp, &f);
    assert_int_equal(f.format, IMG_WEBP);
    assert_int_equal(f.width, W);
    assert_int_equal(f.height, H);
    assert_true(f.has_alpha);
    uint32_t w, h;
    unsigned char *got = read_webp(&webp, 4, &w, &h);
    assert_int_equal(w, W);
    assert_int_equal(h, H);
    double rgb = 0;
    for (size_t i = 0; i < W * H; i++) {
        assert_int_equal(got[4 * i + 3], px[4 * i + 3]); /* alpha is stored losslessly */
        rgb += mean_diff(got + 4 * i, px + 4 * i, 3) / (W * H);
    }
    assert_true(rgb < 4.0);
    WebPFree(got);
    free(px);
    buf_release(&png);
    buf_release(&webp);
}

/* WebP to PNG is lossless: the PNG holds exactly the pixels libwebp decodes. */
static void test_convert_webp_to_png_keeps_pixels(void **state)
{
    struct buf webp = BUF_INIT, png = BUF_INIT;
    make_webp(&webp, 45, 29, 3, false);
    struct img_facts f;
    convert_ok(&webp, IMG_PNG, 0, &png, &f);
    assert_int_equal(f.width, 45);
    assert_int_equal(f.height, 29);
    uint32_t ww, wh, pw, ph;
    unsigned char *want = read_webp(&webp, 3, &ww, &wh);
    unsigned char *got = read_png(&png, 3, &pw, &ph);
    assert_int_equal(pw, 45);
    assert_int_equal(ph, 29);
    assert_memory_equal(got, want, (size_t)45 * 29 * 3);
    WebPFree(want);
    free(got);
    buf_release(&webp);
    buf_release(&png);
}

static void test_convert_jpeg_webp_round_trip(void **state)
{
    struct buf jpeg = BUF_INIT, webp = BUF_INIT, back = BUF_INIT;
    make_jpeg(&jpeg, 50, 30, 3, true);
    convert_ok(&jpeg, IMG_WEBP, 90, &webp, NULL);
    struct img_facts f;
    convert_ok(&webp, IMG_JPEG, 90, &back, &f);
    assert_int_equal(f.width, 50);
    assert_int_equal(f.height, 30);
    uint32_t w, h;
    unsigned char *a = read_jpeg(&jpeg, &w, &h);
    unsigned char *b = read_jpeg(&back, &w, &h);
    assert_true(mean_diff(a, b, (size_t)50 * 30 * 3) < 4.0);
    free(a);
    free(b);
    buf_release(&jpeg);
    buf_release(&webp);
    buf_release(&back);
}

/* An interlaced PNG is converted from the same pixels as its plain twin. */
static void test_convert_interlaced_same_as_plain(void **state)
{
    struct buf plain = BUF_INIT, laced = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
    make_png(&plain, 37, 21, 8, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE);
    make_png(&laced, 37, 21, 8, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_ADAM7);
    assert_true(plain.len != laced.len || memcmp(plain.data, laced.data, plain.len) != 0);
    convert_ok(&plain, IMG_JPEG, 0, &a, NULL);
    convert_ok(&laced, IMG_JPEG, 0, &b, NULL);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    buf_release(&plain);
    buf_release(&laced);
    buf_release(&a);
    buf_release(&b);
}

/* Grey and 16-bit PNGs are expanded to 8-bit RGB. */
static void test_convert_grey_and_16_bit(void **state)
{
    enum { W = 24, H = 16 };
    unsigned char grey[W * H];
    for (size_t i = 0; i < W * H; i++)
        grey[i] = (unsigned char)(i % W * 8 + i / W * 2);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = W;
    img.height = H;
    img.format = PNG_FORMAT_GRAY;
    struct buf png = BUF_INIT, jpeg = BUF_INIT;
    png_alloc_size_t size = 4096;
    buf_grow(&png, size);
    assert_true(png_image_write_to_memory(&img, png.data, &size, 0, grey, 0, NULL));
    png.len = size;
    assert_int_equal(must_pass(&png).channels, 1);
    convert_ok(&png, IMG_JPEG, 0, &jpeg, NULL);
    uint32_t w, h;
    unsigned char *got = read_jpeg(&jpeg, &w, &h);
    double d = 0;
    for (size_t i = 0; i < W * H; i++)
        for (int c = 0; c < 3; c++)
            d += abs(got[3 * i + (size_t)c] - grey[i]) / (3.0 * W * H);
    assert_true(d < 2.0);
    free(got);
    /* 16 bits per sample: the high byte is kept */
    buf_reset(&png);
    buf_reset(&jpeg);
    unsigned char *px = pattern_image(W, H, 3);
    make_png16_of(&png, px, W, H);
    assert_int_equal(must_pass(&png).bit_depth, 16);
    struct img_facts f;
    convert_ok(&png, IMG_JPEG, 0, &jpeg, &f);
    assert_int_equal(f.bit_depth, 8);
    got = read_jpeg(&jpeg, &w, &h);
    assert_true(mean_diff(got, px, (size_t)W * H * 3) < 2.0);
    free(got);
    free(px);
    buf_release(&png);
    buf_release(&jpeg);
}

/* CMYK as Photoshop stores it (inverted, with an Adobe marker, which libjpeg writes for CMYK):
 * 255,0,0,255 is no cyan, full magenta and yellow, no black: red. */
static void test_convert_cmyk_jpeg(void **state)
{
    enum { W = 16, H = 16 };
    unsigned char px[W * H * 4];
    for (size_t i = 0; i < W * H; i++)
        memcpy(px + 4 * i, "\xff\x00\x00\xff", 4);
    struct buf jpeg = BUF_INIT, png = BUF_INIT;
    make_jpeg_of(&jpeg, px, W, H, 4, 95, false, NULL, 0);
    assert_non_null(memmem(jpeg.data, jpeg.len, "Adobe", 5));
    struct img_facts f = must_pass(&jpeg);
    assert_int_equal(f.channels, 4);
    assert_false(f.has_alpha);
    convert_ok(&jpeg, IMG_PNG, 0, &png, NULL);
    uint32_t w, h;
    unsigned char *got = read_png(&png, 3, &w, &h);
    for (size_t i = 0; i < W * H; i++) {
        assert_in_range(got[3 * i], 245, 255);
        assert_in_range(got[3 * i + 1], 0, 10);
        assert_in_range(got[3 * i + 2], 0, 10);
    }
    free(got);
    buf_release(&jpeg);
    buf_release(&png);
}

static void convert_must_fail(const struct buf *in, size_t len, enum img_format to, int quality,
                              const char *expect)
{
    struct buf out = BUF_INIT;
    buf_adds(&out, "keep");
    struct img_facts f = {.width = 7};
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(img_convert(in->data, len, to, quality, &out, &f, &err), -1);
    assert_int_equal(err.kind, GF_ERR_INPUT);
    if (!strstr(err.msg, expect))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, expect);
    assert_string_equal(out.data, "keep");
    assert_int_equal(out.len, 4);
    assert_int_equal(f.width, 7);
    buf_release(&out);
}

static void test_convert_refusals(void **state)
{
    struct buf png = BUF_INIT, jpeg = BUF_INIT, text = BUF_INIT;
    make_png(&png, 64, 48, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE);
    make_jpeg(&jpeg, 64, 48, 3, false);
    buf_adds(&text, "plain text");
    convert_must_fail(&png, png.len, IMG_PNG, 0, "image is already PNG: nothing to convert");
    convert_must_fail(&jpeg, jpeg.len, IMG_JPEG, 0, "image is already JPEG: nothing to convert");
    convert_must_fail(&text, text.len, IMG_PNG, 0, "not an image");
    convert_must_fail(&png, png.len, IMG_UNKNOWN, 0, "unknown format");
    convert_must_fail(&png, png.len, IMG_JPEG, 101, "image quality 101 is not 1..100");
    convert_must_fail(&png, png.len, IMG_JPEG, -5, "image quality -5 is not 1..100");
    buf_release(&png);
    buf_release(&jpeg);
    buf_release(&text);
}

/* A conversion reads its source to the end: a cut in the last bytes fails it too. */
static void test_convert_bad_source(void **state)
{
    struct buf png = BUF_INIT, jpeg = BUF_INIT;
    make_png(&png, 64, 48, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE);
    make_jpeg(&jpeg, 64, 48, 3, false);
    convert_must_fail(&png, png.len - 12, IMG_JPEG, 0, "PNG is truncated"); /* IEND missing */
    convert_must_fail(&png, png.len / 2, IMG_WEBP, 0, "PNG is truncated");
    convert_must_fail(&jpeg, jpeg.len - 2, IMG_PNG, 0, "JPEG is truncated"); /* EOI missing */
    convert_must_fail(&jpeg, jpeg.len / 2, IMG_WEBP, 0, "JPEG is truncated");
    buf_release(&png);
    buf_release(&jpeg);
}

static void test_convert_too_wide_for_webp(void **state)
{
    struct buf png = BUF_INIT;
    make_png(&png, 16384, 1, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE);
    must_pass(&png);
    convert_must_fail(&png, png.len, IMG_WEBP, 0,
                      "cannot encode WebP: image is 16384x1 pixels, more than 16383 on a side");
    buf_release(&png);
}

/* ---- video limits ---- */

static void test_video_limits(void **state)
{
    static const struct {
        uint32_t w, h;
        const char *error;
    } cases[] = {
        {1920, 1080, NULL},
        {8192, 4320, NULL},
        {16, 16, NULL},
        {384, 3072, NULL}, /* 1:8, the narrowest an image model makes */
        {160, 1600, NULL}, /* 1:10, the limit */
        {16, 8192,
         "image is 16x8192 pixels: more than 10 times as long as it is wide, too narrow for a "
         "video frame"},
        {1601, 160, "more than 10 times as long as it is wide"},
        {8193, 100,
         "image is 8193x100 pixels: more than 8192 on a side, too large for a video "
         "frame"},
        {100, 9000, "image is 100x9000 pixels: more than 8192 on a side"},
        {15, 1000,
         "image is 15x1000 pixels: less than 16 on a side, too small for a video "
         "frame"},
        {1000, 1, "image is 1000x1 pixels: less than 16 on a side"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct img_facts f = {.format = IMG_JPEG, .width = cases[i].w, .height = cases[i].h};
        struct gf_err err = GF_ERR_INIT;
        int rc = img_check_video_limits(&f, &err);
        if (!cases[i].error) {
            if (rc != 0)
                fail_msg("%ux%u: %s", cases[i].w, cases[i].h, err.msg);
            continue;
        }
        assert_int_equal(rc, -1);
        assert_int_equal(err.kind, GF_ERR_INPUT);
        if (!strstr(err.msg, cases[i].error))
            fail_msg("message \"%s\" lacks \"%s\"", err.msg, cases[i].error);
    }
}

/* ---- threads ---- */

/* Replies are checked on worker threads: nothing in the codecs may be shared between calls. */
struct thread_job {
    const struct buf *images;
    size_t n;
    int failures;
};

static void *check_many(void *arg)
{
    struct thread_job *job = arg;
    for (int round = 0; round < 10; round++)
        for (size_t i = 0; i < job->n; i++) {
            struct gf_err err = GF_ERR_INIT;
            struct buf out = BUF_INIT;
            const struct buf *b = &job->images[i];
            enum img_format to = img_sniff(b->data, b->len) == IMG_PNG ? IMG_JPEG : IMG_PNG;
            if (img_check(b->data, b->len, NULL, &err) != 0 ||
                img_convert(b->data, b->len, to, 0, &out, NULL, &err) != 0)
                job->failures++;
            buf_release(&out);
        }
    return NULL;
}

static void test_threads(void **state)
{
    struct buf images[3] = {BUF_INIT, BUF_INIT, BUF_INIT};
    make_png(&images[0], 64, 48, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7);
    make_jpeg(&images[1], 64, 48, 3, true);
    make_webp(&images[2], 64, 48, 4, false);
    pthread_t t[4];
    struct thread_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct thread_job){images, 3, 0};
        assert_int_equal(pthread_create(&t[i], NULL, check_many, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    for (int i = 0; i < 3; i++)
        buf_release(&images[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sniff_each_format),
        cmocka_unit_test(test_sniff_garbage),
        cmocka_unit_test(test_format_names),
        cmocka_unit_test(test_format_for_path),
        cmocka_unit_test(test_format_for_mime),
        cmocka_unit_test(test_jpeg_labelled_png),
        cmocka_unit_test(test_check_as),
        cmocka_unit_test(test_png_valid_rgb),
        cmocka_unit_test(test_png_valid_interlaced_rgba16),
        cmocka_unit_test(test_png_valid_grey_alpha),
        cmocka_unit_test(test_png_from_another_encoder),
        cmocka_unit_test(test_png_truncated),
        cmocka_unit_test(test_png_bad_signature),
        cmocka_unit_test(test_png_idat_flipped_byte),
        cmocka_unit_test(test_png_idat_crc_error),
        cmocka_unit_test(test_png_zlib_error),
        cmocka_unit_test(test_png_missing_rows),
        cmocka_unit_test(test_png_over_the_caps),
        cmocka_unit_test(test_png_warning_is_silent),
        cmocka_unit_test(test_png_huge_text_chunk_claim),
        cmocka_unit_test(test_png_error_is_silent),
        cmocka_unit_test(test_jpeg_valid_baseline),
        cmocka_unit_test(test_jpeg_valid_grey_and_progressive),
        cmocka_unit_test(test_jpeg_truncated),
        cmocka_unit_test(test_jpeg_bad_huffman_code),
        cmocka_unit_test(test_jpeg_marker_in_scan),
        cmocka_unit_test(test_jpeg_extraneous_bytes),
        cmocka_unit_test(test_jpeg_harmless_warning_passes_silently),
        cmocka_unit_test(test_jpeg_no_colour_space),
        cmocka_unit_test(test_jpeg_over_the_caps),
        cmocka_unit_test(test_jpeg_too_many_scans),
        cmocka_unit_test(test_webp_valid),
        cmocka_unit_test(test_webp_truncated),
        cmocka_unit_test(test_webp_corrupt),
        cmocka_unit_test(test_webp_over_the_caps),
        cmocka_unit_test(test_webp_animated_refused),
        cmocka_unit_test(test_convert_jpeg_to_png_keeps_pixels),
        cmocka_unit_test(test_convert_png_to_jpeg_95),
        cmocka_unit_test(test_convert_alpha_over_white),
        cmocka_unit_test(test_convert_png_to_webp_keeps_alpha),
        cmocka_unit_test(test_convert_webp_to_png_keeps_pixels),
        cmocka_unit_test(test_convert_jpeg_webp_round_trip),
        cmocka_unit_test(test_convert_interlaced_same_as_plain),
        cmocka_unit_test(test_convert_grey_and_16_bit),
        cmocka_unit_test(test_convert_cmyk_jpeg),
        cmocka_unit_test(test_convert_refusals),
        cmocka_unit_test(test_convert_bad_source),
        cmocka_unit_test(test_convert_too_wide_for_webp),
        cmocka_unit_test(test_video_limits),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
