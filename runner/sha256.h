/* sha256: hex digests over memory and files (OpenSSL libcrypto behind this one module). */
#ifndef GF_SHA256_H
#define GF_SHA256_H

#include <stddef.h>

#define SHA256_HEX_LEN 64

struct sha256_ctx;

struct sha256_ctx *sha256_new(void);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
/* Write the 64 hex digits and a NUL into out; frees the context. */
void sha256_final_hex(struct sha256_ctx *c, char out[SHA256_HEX_LEN + 1]);
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);
/* Digest of a file's bytes; returns 0, or -1 with errno set. Also reports the size read. */
int sha256_file(const char *path, char out[SHA256_HEX_LEN + 1], size_t *size);

#endif
