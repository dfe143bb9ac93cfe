/* sha256: SHA-256 hex digests through OpenSSL's EVP interface; the only user of libcrypto.
 * Digest failures inside libcrypto cannot be caused by input, so they are fatal (die). */
#include "sha256.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <unistd.h>

struct sha256_ctx {
    EVP_MD_CTX *md;
};

/* Fetched once: EVP_sha256() in a DigestInit makes OpenSSL 3 look the algorithm up in its
 * provider tables on every call, which was a tenth of a no-op rerun's instructions. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_md(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

struct sha256_ctx *sha256_new(void)
{
    struct sha256_ctx *c = xmalloc(sizeof *c);
    pthread_once(&sha256_once, fetch_md);
    c->md = EVP_MD_CTX_new();
    if (!sha256_md || !c->md || EVP_DigestInit_ex(c->md, sha256_md, NULL) != 1)
        die("cannot initialise SHA-256 (libcrypto)");
    return c;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
    if (len && EVP_DigestUpdate(c->md, data, len) != 1)
        die("SHA-256 update failed (libcrypto)");
}

void sha256_final_hex(struct sha256_ctx *c, char out[SHA256_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(c->md, md, &n) != 1 || n != SHA256_HEX_LEN / 2)
        die("SHA-256 final failed (libcrypto)");
    for (unsigned int i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[SHA256_HEX_LEN] = '\0';
    EVP_MD_CTX_free(c->md);
    free(c);
}

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
    struct sha256_ctx *c = sha256_new();
    sha256_update(c, data, len);
    sha256_final_hex(c, out);
}

int sha256_file(const char *path, char out[SHA256_HEX_LEN + 1], size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct sha256_ctx *c = sha256_new();
    unsigned char *chunk = xmalloc(65536);
    size_t total = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, 65536);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            sha256_final_hex(c, out); /* frees the context; the digest is discarded */
            out[0] = '\0';
            free(chunk);
            close(fd);
            errno = e;
            return -1;
        }
        if (n == 0)
            break;
        sha256_update(c, chunk, (size_t)n);
        total += (size_t)n;
    }
    free(chunk);
    close(fd);
    sha256_final_hex(c, out);
    if (size)
        *size = total;
    return 0;
}
