/* base64: standard alphabet (RFC 4648 section 4), as the Gemini API uses for inline data. */
#ifndef GF_BASE64_H
#define GF_BASE64_H

#include "buf.h"

#include <stddef.h>

/* Decode `len` bytes of base64 and append the bytes to `out`. Strict: only the standard
 * alphabet, '=' padding only at the end, length a multiple of 4 once CR/LF are skipped (padding
 * may be omitted). Returns 0, or -1 with `out` as it was and *bad_at set to the offset of the
 * first offending character (when bad_at is not NULL). */
int base64_decode(const char *in, size_t len, struct buf *out, size_t *bad_at);
/* Decode `len` bytes of base64 at s into s itself (the bytes take the first *out_len places;
 * what follows is left as it was). The same rules and result as base64_decode; after a failure
 * the start of s is decoded bytes, no longer base64. */
int base64_decode_inplace(char *s, size_t len, size_t *out_len, size_t *bad_at);
void base64_encode(const void *data, size_t len, struct buf *out);

#endif
