/* base64: strict table-driven RFC 4648 (section 4) decoding and encoding for inline media.
 * Inline images and audio are megabytes of base64, so the decoder grows the output once and
 * converts whole quanta in a tight loop; only CR/LF, padding and errors take the slow path. */
#include "base64.h"

#include <stddef.h>
#include <stdint.h>

#define XX 0xFF /* not in the alphabet */
#define PD 64   /* '=' */
#define SK 65   /* CR or LF: skipped (MIME-style line breaks) */

/* Every valid digit is < 64, so OR-ing four lookups and testing the top two bits tells whether
 * a quantum is all digits. */
// clang-format off
static const uint8_t dec[256] = {
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, SK, XX, XX, SK, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX, XX, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, PD, XX, XX,
    XX,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, XX,
    XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
};
// clang-format on

static const char enc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The next index at or after i that is not CR/LF, or len. */
static size_t skip_breaks(const unsigned char *s, size_t i, size_t len)
{
    while (i < len && dec[s[i]] == SK)
        i++;
    return i;
}

/* Check the padding that starts at s[i] (an '=') after `n` digits of the last quantum: one '='
 * after 3 digits, two after 2, then only line breaks. Returns 0, or -1 with *bad set. */
static int check_padding(const unsigned char *s, size_t i, size_t len, int n, size_t *bad)
{
    if (n < 2) {
        *bad = i; /* "=" where a digit must be */
        return -1;
    }
    i++;
    if (n == 2) {
        i = skip_breaks(s, i, len);
        if (i == len || dec[s[i]] != PD) {
            *bad = i; /* second '=' missing: the quantum is cut short */
            return -1;
        }
        i++;
    }
    i = skip_breaks(s, i, len);
    if (i < len) {
        *bad = i; /* data (or more '=') after the padding */
        return -1;
    }
    return 0;
}

/* Decode s[0..len) to d, which may be s itself: a quantum's bytes are written only after its
 * four digits were read, and never past them (3 bytes out for every 4 characters in). Returns
 * the number of bytes written, or -1 with *bad_at set. */
static ptrdiff_t decode(const unsigned char *s, size_t len, unsigned char *d0, size_t *bad_at)
{
    unsigned char *d = d0;
    uint32_t acc = 0;
    int n = 0;       /* digits in the current quantum */
    size_t last = 0; /* offset of the last digit seen */
    size_t bad = 0;
    size_t i = 0;

    while (i < len) {
        if (n == 0) { /* fast path: whole quanta of digits */
            while (i + 4 <= len) {
                uint8_t a = dec[s[i]], b = dec[s[i + 1]], c = dec[s[i + 2]], e = dec[s[i + 3]];
                if ((a | b | c | e) & 0xC0)
                    break;
                uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | e;
                d[0] = (unsigned char)(v >> 16);
                d[1] = (unsigned char)(v >> 8);
                d[2] = (unsigned char)v;
                d += 3;
                i += 4;
            }
            if (i >= len)
                break;
        }
        uint8_t v = dec[s[i]];
        if (v < 64) {
            acc = acc << 6 | v;
            last = i++;
            if (++n == 4) {
                d[0] = (unsigned char)(acc >> 16);
                d[1] = (unsigned char)(acc >> 8);
                d[2] = (unsigned char)acc;
                d += 3;
                n = 0;
                acc = 0;
            }
        } else if (v == SK) {
            i++;
        } else if (v == PD) {
            if (check_padding(s, i, len, n, &bad) < 0)
                goto fail;
            break;
        } else {
            bad = i; /* outside the standard alphabet ('-', '_', space, ...) */
            goto fail;
        }
    }

    /* The last quantum: 2 or 3 digits give 1 or 2 bytes (padding given or omitted); a lone
     * digit cannot encode a byte. Nonzero pad bits are accepted (RFC 4648 3.5: MAY reject). */
    if (n == 1) {
        bad = last;
        goto fail;
    }
    if (n == 2) {
        *d++ = (unsigned char)(acc >> 4);
    } else if (n == 3) {
        *d++ = (unsigned char)(acc >> 10);
        *d++ = (unsigned char)(acc >> 2);
    }
    return d - d0;

fail:
    if (bad_at)
        *bad_at = bad;
    return -1;
}

int base64_decode(const char *in, size_t len, struct buf *out, size_t *bad_at)
{
    size_t old_len = out->len;
    int was_unallocated = out->cap == 0;
    buf_grow(out, len / 4 * 3 + 3);
    ptrdiff_t n =
        decode((const unsigned char *)in, len, (unsigned char *)out->data + out->len, bad_at);
    if (n < 0) {
        if (was_unallocated)
            buf_release(out);
        else
            buf_setlen(out, old_len);
        return -1;
    }
    out->len += (size_t)n;
    out->data[out->len] = '\0';
    return 0;
}

int base64_decode_inplace(char *s, size_t len, size_t *out_len, size_t *bad_at)
{
    ptrdiff_t n = decode((const unsigned char *)s, len, (unsigned char *)s, bad_at);
    if (n < 0)
        return -1;
    *out_len = (size_t)n;
    return 0;
}

void base64_encode(const void *data, size_t len, struct buf *out)
{
    const unsigned char *s = data;
    if (len == 0)
        return;
    buf_grow(out, (len + 2) / 3 * 4);
    char *d = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        d[0] = enc[v >> 18];
        d[1] = enc[(v >> 12) & 63];
        d[2] = enc[(v >> 6) & 63];
        d[3] = enc[v & 63];
        d += 4;
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        d[0] = enc[v >> 18];
        d[1] = enc[(v >> 12) & 63];
        d[2] = '=';
        d[3] = '=';
        d += 4;
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        d[0] = enc[v >> 18];
        d[1] = enc[(v >> 12) & 63];
        d[2] = enc[(v >> 6) & 63];
        d[3] = '=';
        d += 4;
    }
    out->len = (size_t)(d - out->data);
    out->data[out->len] = '\0';
}
