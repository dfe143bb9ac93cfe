/* err: the caller-owned error every fallible function fills (returns 0 or -1), and the
 * diagnostics list the workflow loader fills so `validate` can report every problem at once. */
#ifndef GF_ERR_H
#define GF_ERR_H

#include <stddef.h>

/* Exit codes of the gemflow command (documented in README and docs/gemflow.1). */
enum gf_exit {
    GF_EXIT_OK = 0,          /* every stage done */
    GF_EXIT_FAILED = 1,      /* a stage failed */
    GF_EXIT_USAGE = 2,       /* usage or configuration error */
    GF_EXIT_INTERRUPTED = 3, /* stopped by SIGINT/SIGTERM */
    GF_EXIT_LOCKED = 4,      /* the job is locked by another process */
};

enum gf_err_kind {
    GF_ERR_NONE = 0,
    GF_ERR_USAGE,  /* bad command line */
    GF_ERR_CONFIG, /* bad workflow, missing key, bad option value */
    GF_ERR_IO,     /* file system */
    GF_ERR_INPUT,  /* bad job input or model output (script, upstream artifact) */
    GF_ERR_LOCKED, /* job lock held by another process */
};

struct gf_err {
    enum gf_err_kind kind;
    char msg[1024];
};

#define GF_ERR_INIT                                                                                \
    {                                                                                              \
        GF_ERR_NONE,                                                                               \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

/* Fill `err` (may be NULL) and return -1. Message style: lowercase, no final period,
 * failure first, subject quoted: "cannot open 'workflow.yaml': No such file or directory".
 * Control characters in the message (a model's or the API's words quoted in it) are replaced
 * as tx_sanitize does, so it can be printed as it is; diag_add does the same. */
int gf_error(struct gf_err *err, enum gf_err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, with ": strerror(errno)" appended. */
int gf_error_errno(struct gf_err *err, enum gf_err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The exit code an error kind maps to. */
enum gf_exit gf_err_exit_code(const struct gf_err *err);
/* "usage", "config", "input", "locked" or "io": the kind as progress.jsonl names it. */
const char *gf_err_kind_name(enum gf_err_kind k);

/* A diagnostic with its place: "file:line:column: message". line/col are 1-based; 0 = unknown. */
struct diag {
    char *file;
    int line, col;
    char *msg;
};

struct diag_list {
    struct diag *v;
    size_t n, cap;
};

#define DIAG_LIST_INIT                                                                             \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void diag_add(struct diag_list *dl, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* "file:line:column: message" (or "file: message" when line is 0); caller frees. */
char *diag_format(const struct diag *d);
void diag_list_release(struct diag_list *dl);

#endif
