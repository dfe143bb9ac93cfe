/* pngcheck: validating PNG images from the API with libpng (only this module touches libpng). */
#ifndef GF_PNGCHECK_H
#define GF_PNGCHECK_H

#include "../runner/err.h"

#include <stddef.h>
#include <stdint.h>

struct png_facts {
    uint32_t width, height;
    int bit_depth;
    int color_type; /* PNG_COLOR_TYPE_* value */
};

/* Fully decode the image (every row, so CRC and zlib errors are found) from memory. Returns 0
 * with its facts, or -1 with err (GF_ERR_INPUT) saying what is wrong: "not a PNG (bad
 * signature)", "PNG does not decode: <libpng's message>", "PNG is truncated". Refuses images
 * over 16384 pixels on a side. */
int png_check(const void *data, size_t len, struct png_facts *facts, struct gf_err *err);

#endif
