/* buf: growable byte buffer; see buf.h for the invariants. */
#include "buf.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

char buf_empty[1];

void buf_init(struct buf *b, size_t hint)
{
    b->data = buf_empty;
    b->len = b->cap = 0;
    if (hint)
        buf_grow(b, hint);
}

void buf_grow(struct buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        die("buffer size overflow");
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap < SIZE_MAX / 2 ? cap * 2 : need;
    if (b->cap == 0) {
        b->data = xmalloc(cap);
        b->data[0] = '\0';
    } else {
        b->data = xrealloc(b->data, cap);
    }
    b->cap = cap;
}

void buf_add(struct buf *b, const void *data, size_t len)
{
    if (!len)
        return;
    buf_grow(b, len);
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void buf_addc(struct buf *b, char c)
{
    buf_grow(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(b->data + b->len, b->cap ? b->cap - b->len : 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        die("vsnprintf failed");
    if ((size_t)n >= (b->cap ? b->cap - b->len : 0)) {
        buf_grow(b, (size_t)n);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    }
    b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(b, fmt, ap);
    va_end(ap);
}

void buf_setlen(struct buf *b, size_t len)
{
    if (len > b->len)
        die("buf_setlen beyond length");
    b->len = len;
    if (b->cap)
        b->data[len] = '\0';
}

char *buf_detach(struct buf *b, size_t *len)
{
    char *out = b->cap ? b->data : xstrdup("");
    if (len)
        *len = b->len;
    b->data = buf_empty;
    b->len = b->cap = 0;
    return out;
}

void buf_release(struct buf *b)
{
    if (b->cap)
        free(b->data);
    b->data = buf_empty;
    b->len = b->cap = 0;
}

int buf_read_file_max(struct buf *b, const char *path, size_t max)
{
    /* O_NONBLOCK so that opening a FIFO without a writer does not wait for one; reads block */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    int rc = buf_read_fd_max(b, fd, max);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int buf_read_fd_max(struct buf *b, int fd, size_t max)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK))
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    size_t old = b->len;
    bool had_storage = b->cap != 0;
    for (;;) {
        buf_grow(b, 65536);
        ssize_t n = read(fd, b->data + b->len, b->cap - b->len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (n > 0 && b->len - old + (size_t)n > max)) {
            int e = n < 0 ? errno : EFBIG;
            /* leave the buffer as it was: also without the storage grown here (EISDIR) */
            if (had_storage)
                buf_setlen(b, old);
            else
                buf_release(b);
            errno = e;
            return -1;
        }
        if (n == 0)
            break;
        b->len += (size_t)n;
    }
    b->data[b->len] = '\0';
    return 0;
}

int buf_read_file(struct buf *b, const char *path)
{
    return buf_read_file_max(b, path, SIZE_MAX);
}
