/* srttext: captions as SubRip cue text that cannot end a cue or start one (see srttext.h). */
#include "srttext.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* The code point at `s` and its length in bytes (1..4), or 0 for a byte that does not start
 * valid UTF-8 (overlong, surrogate, past U+10FFFF, cut short). */
static size_t decode(const unsigned char *s, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        *cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        *cp = c & 0x0f;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        *cp = c & 0x07;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
        *cp = *cp << 6 | (s[i] & 0x3f);
    }
    return n;
}

static bool is_line_break(uint32_t c)
{
    return c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0x85 || c == 0x2028 ||
           c == 0x2029;
}

static bool is_space(uint32_t c)
{
    return c == ' ' || c == '\t' || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
           c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Invisible: dropped (zero-width space, word joiner, BOM, Mongolian vowel separator). */
static bool is_invisible(uint32_t c)
{
    return c == 0x200b || c == 0x2060 || c == 0xfeff || c == 0x180e;
}

/* Shows nothing on its own: a line of only these (and spaces) is blank (joiners, direction
 * marks and embeddings). */
static bool is_format(uint32_t c)
{
    return c == 0x200c || c == 0x200d || c == 0x200e || c == 0x200f ||
           (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x061c;
}

static bool is_control(uint32_t c)
{
    return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f);
}

/* Add `line` (trimmed; every "-->" taken apart) to `out` after `base`, unless it is blank. */
static void add_line(struct buf *out, size_t base, struct buf *line, bool visible)
{
    size_t a = 0, b = line->len;
    while (a < b && line->data[a] == ' ')
        a++;
    while (b > a && line->data[b - 1] == ' ')
        b--;
    if (visible && a < b) {
        if (out->len > base)
            buf_addc(out, '\n');
        size_t from = out->len;
        for (size_t i = a; i < b; i++) {
            buf_addc(out, line->data[i]);
            /* "-->" becomes "->"; checked again after each change, so "--->" does too */
            while (out->len - from >= 3 && memcmp(out->data + out->len - 3, "-->", 3) == 0) {
                out->data[out->len - 2] = '>';
                buf_setlen(out, out->len - 1);
            }
        }
    }
    buf_reset(line);
}

void srt_cue_text(struct buf *out, const char *caption)
{
    const unsigned char *p = (const unsigned char *)caption;
    size_t base = out->len;
    struct buf line = BUF_INIT;
    bool visible = false; /* the current line shows something */
    while (*p) {
        uint32_t c;
        size_t n = decode(p, &c);
        if (!n) {
            buf_addc(&line, '?');
            visible = true;
            p++;
            continue;
        }
        p += n;
        if (is_line_break(c)) {
            add_line(out, base, &line, visible);
            visible = false;
        } else if (is_space(c) || is_control(c)) {
            buf_addc(&line, ' ');
        } else if (!is_invisible(c)) {
            buf_add(&line, (const char *)p - n, n);
            visible = visible || !is_format(c);
        }
    }
    add_line(out, base, &line, visible);
    buf_release(&line);
}
