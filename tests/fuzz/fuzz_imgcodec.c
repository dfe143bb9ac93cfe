/* fuzz_imgcodec: the image decoders on arbitrary bytes (model output is untrusted): img_check,
 * img_check_as for each format, and for small images img_convert to the two other formats, whose
 * output must check back as the same picture. */
#include "fuzz.h"
#include "buf.h"
#include "imgcodec.h"

#include <string.h>

/* Conversions cost an encode each: only for images up to this many pixels, to keep runs fast. */
#define CONVERT_MAX_PIXELS (256 * 256)

static const enum img_format formats[] = {IMG_PNG, IMG_JPEG, IMG_WEBP};

static void check_facts(const struct img_facts *f)
{
    FUZZ_CHECK(f->width >= 1 && f->width <= IMG_MAX_SIDE);
    FUZZ_CHECK(f->height >= 1 && f->height <= IMG_MAX_SIDE);
    FUZZ_CHECK((uint64_t)f->width * f->height <= IMG_MAX_PIXELS);
    FUZZ_CHECK(f->channels >= 1 && f->channels <= 4);
    if (f->format == IMG_JPEG)
        FUZZ_CHECK(!f->has_alpha && f->channels != 2);
    else
        FUZZ_CHECK(f->has_alpha == (f->channels == 2 || f->channels == 4));
}

/* A checked image converts to each other format, and the result checks with the same size. */
static void check_conversions(const char *bytes, size_t size, const struct img_facts *f)
{
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
        if (formats[i] == f->format)
            continue;
        struct buf out = BUF_INIT;
        struct img_facts cf, back;
        struct gf_err err = GF_ERR_INIT;
        if (img_convert(bytes, size, formats[i], 0, &out, &cf, &err) < 0) {
            /* the one thing a valid image may lack: WebP holds at most 16383 on a side */
            FUZZ_CHECK(formats[i] == IMG_WEBP && (f->width > 16383 || f->height > 16383));
            FUZZ_CHECK(out.len == 0 && err.msg[0] != '\0');
            continue;
        }
        FUZZ_CHECK(cf.format == formats[i] && cf.width == f->width && cf.height == f->height);
        FUZZ_CHECK(img_sniff(out.data, out.len) == formats[i]);
        FUZZ_CHECK(img_check(out.data, out.len, &back, &err) == 0);
        FUZZ_CHECK(back.format == formats[i] && back.width == f->width && back.height == f->height);
        buf_release(&out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *bytes = fuzz_copy(data, size);
    enum img_format sniffed = img_sniff(bytes, size);
    struct img_facts f, before;
    memset(&f, 0x5A, sizeof f);
    before = f;
    struct gf_err err = GF_ERR_INIT;
    int rc = img_check(bytes, size, &f, &err);
    if (rc == 0) {
        FUZZ_CHECK(sniffed != IMG_UNKNOWN && f.format == sniffed);
        check_facts(&f);
    } else {
        FUZZ_CHECK(err.kind == GF_ERR_INPUT && err.msg[0] != '\0');
        FUZZ_CHECK(memcmp(&f, &before, sizeof f) == 0); /* untouched on failure */
    }
    /* img_check_as agrees: the format it wants, or a failure without decoding */
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
        struct gf_err e = GF_ERR_INIT;
        int want_ok = rc == 0 && sniffed == formats[i];
        if (sniffed != formats[i] || rc == 0) /* a failing decode is not repeated */
            FUZZ_CHECK((img_check_as(bytes, size, formats[i], NULL, &e) == 0) == want_ok);
    }
    if (rc == 0 && (uint64_t)f.width * f.height <= CONVERT_MAX_PIXELS)
        check_conversions(bytes, size, &f);
    free(bytes);
    return 0;
}
