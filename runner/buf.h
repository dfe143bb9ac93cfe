/* buf: a growable byte buffer for bodies, paths and messages (after git's strbuf).
 * Invariant: `data` is never NULL and always NUL-terminated, so it can be used as a C string. */
#ifndef GF_BUF_H
#define GF_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap; /* 0 while data points at the shared empty string */
};

extern char buf_empty[];
#define BUF_INIT                                                                                   \
    {                                                                                              \
        buf_empty, 0, 0                                                                            \
    }

void buf_init(struct buf *b, size_t hint);
/* Make room for `extra` more bytes plus the terminating NUL. */
void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* Set the length to `len` (<= current length) and terminate there. */
void buf_setlen(struct buf *b, size_t len);
static inline void buf_reset(struct buf *b)
{
    buf_setlen(b, 0);
}
/* Hand the storage to the caller, who now owns it (free() it); `b` is reset to BUF_INIT.
 * Never returns NULL. */
char *buf_detach(struct buf *b, size_t *len);
/* Free the storage and reset to BUF_INIT. */
void buf_release(struct buf *b);
/* Append a whole file. Returns 0, or -1 with errno set; on failure `b` keeps its old contents.
 * Opening never blocks: a FIFO nobody writes to reads as empty. */
int buf_read_file(struct buf *b, const char *path);
/* The same, failing with EFBIG ("File too large") once more than `max` bytes were read, for
 * files that must be small (workflows, prompts, schemas): a device such as /dev/zero behind a
 * symlink never ends. */
int buf_read_file_max(struct buf *b, const char *path, size_t max);
/* The same from an open fd (read to its end; O_NONBLOCK is cleared first; not closed). */
int buf_read_fd_max(struct buf *b, int fd, size_t max);

#endif
