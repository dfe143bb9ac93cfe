/* imgcodec_impl: what imgcodec.c shares with its codec files (imgcodec_png.c, imgcodec_jpeg.c,
 * imgcodec_webp.c), after FFmpeg's FFCodec table: each codec fills one struct img_codec. Not for
 * other modules: they use imgcodec.h. */
#ifndef GF_IMGCODEC_IMPL_H
#define GF_IMGCODEC_IMPL_H

#include "imgcodec.h"

/* A decoder handing out 8-bit RGB or RGBA rows, top to bottom. Made by a codec's open_rows;
 * the caller asks for exactly `height` rows, then calls end (which reads what follows the last
 * row: PNG chunks up to IEND, JPEG up to EOI), then close (always, also after a failure). */
struct img_rows {
    struct img_facts facts; /* of the source, as stored */
    int channels;           /* of the rows handed out: 3 (RGB) or 4 (RGBA) */
    int (*next)(struct img_rows *r, unsigned char *row, struct gf_err *err);
    int (*end)(struct img_rows *r, struct gf_err *err);
    void (*close)(struct img_rows *r);
    void *state; /* the codec's */
};

struct img_codec {
    enum img_format format;
    const char *label; /* "PNG", "JPEG", "WebP": how messages name it */
    /* img_check for bytes known to be in this format (the signature matched). */
    int (*check)(const unsigned char *d, size_t len, struct img_facts *f, struct gf_err *err);
    /* Start decoding into rows; on failure nothing is left to close. */
    int (*open_rows)(const unsigned char *d, size_t len, struct img_rows *r, struct gf_err *err);
    /* Encode `src` (all its rows, not its end) into `out`; facts of what was written. On
     * failure `out` may hold part of an image: the caller restores its length. */
    int (*encode)(struct img_rows *src, int quality, struct buf *out, struct img_facts *f,
                  struct gf_err *err);
};

extern const struct img_codec img_codec_png, img_codec_jpeg, img_codec_webp;

/* The size caps of imgcodec.h for a header's claim; 0, or -1 with err. */
int img_check_size(uint32_t w, uint32_t h, struct gf_err *err);

#endif
