/* err: filling caller-owned errors and diagnostics. */
#include "err.h"
#include "buf.h"
#include "textout.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int verror(struct gf_err *err, enum gf_err_kind kind, const char *suffix, const char *fmt,
                  va_list ap)
{
    if (!err)
        return -1;
    err->kind = kind;
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (suffix && n >= 0 && (size_t)n < sizeof err->msg)
        snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", suffix);
    /* a message can quote a model, the API or a file: printed anywhere, it is terminal-safe */
    tx_sanitize_inplace(err->msg);
    return -1;
}

int gf_error(struct gf_err *err, enum gf_err_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(err, kind, NULL, fmt, ap);
    va_end(ap);
    return -1;
}

int gf_error_errno(struct gf_err *err, enum gf_err_kind kind, const char *fmt, ...)
{
    const char *why = strerror(errno);
    va_list ap;
    va_start(ap, fmt);
    verror(err, kind, why, fmt, ap);
    va_end(ap);
    return -1;
}

enum gf_exit gf_err_exit_code(const struct gf_err *err)
{
    switch (err->kind) {
    case GF_ERR_NONE:
        return GF_EXIT_OK;
    case GF_ERR_USAGE:
    case GF_ERR_CONFIG:
    case GF_ERR_INPUT: /* a job that cannot start: nothing ran */
        return GF_EXIT_USAGE;
    case GF_ERR_LOCKED:
        return GF_EXIT_LOCKED;
    case GF_ERR_IO:
        return GF_EXIT_FAILED;
    }
    return GF_EXIT_FAILED;
}

void diag_add(struct diag_list *dl, const char *file, int line, int col, const char *fmt, ...)
{
    struct diag *d = VEC_PUSH(dl->v, dl->n, dl->cap);
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    d->file = xstrdup(file ? file : "");
    d->line = line;
    d->col = col;
    if (b.len) /* workflow text quoted in a message reaches a terminal */
        tx_sanitize_inplace(b.data);
    d->msg = buf_detach(&b, NULL);
}

char *diag_format(const struct diag *d)
{
    if (d->line > 0)
        return xasprintf("%s:%d:%d: %s", d->file, d->line, d->col > 0 ? d->col : 1, d->msg);
    if (d->file[0])
        return xasprintf("%s: %s", d->file, d->msg);
    return xstrdup(d->msg);
}

void diag_list_release(struct diag_list *dl)
{
    for (size_t i = 0; i < dl->n; i++) {
        free(dl->v[i].file);
        free(dl->v[i].msg);
    }
    free(dl->v);
    dl->v = NULL;
    dl->n = dl->cap = 0;
}

const char *gf_err_kind_name(enum gf_err_kind k)
{
    switch (k) {
    case GF_ERR_USAGE:
        return "usage";
    case GF_ERR_CONFIG:
        return "config";
    case GF_ERR_INPUT:
        return "input";
    case GF_ERR_LOCKED:
        return "locked";
    default:
        return "io";
    }
}
