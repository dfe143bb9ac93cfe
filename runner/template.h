/* template: the small template language of workflow prompts and output paths.
 *
 *   {{name}}              an input's text, or a stage's output (JSON value, or text)
 *   {{stage.path.to.x}}   a value inside a stage's JSON output; numeric segments index arrays
 *   {{item.field}}        the current foreach element (or {{item}} for all of it)
 *   {{item_index}}        the 1-based position of the current element
 *
 * Spaces inside the braces are allowed ("{{ item.id }}"). Strings render as their text,
 * numbers and booleans as JSON, null as "null", objects and arrays as compact JSON.
 * An unknown name or path is an error naming the template's file:line:column; it never renders
 * empty. Compiling checks syntax only; names are checked by the workflow loader (static, against
 * schemas) and by tmpl_render (dynamic, against the data). */
#ifndef GF_TEMPLATE_H
#define GF_TEMPLATE_H

#include "buf.h"
#include "err.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

struct tmpl;

/* At most this many "{{" in one template: a prompt file (at most 16 MiB) compiles in time
 * proportional to its size, and its references are checked in bounded time. */
#define TMPL_MAX_REFS 1000

/* Where a template's text came from, to turn an offset into file:line:column. */
struct tmpl_origin {
    const char *file; /* borrowed; must outlive the template */
    int line, col;    /* 1-based position of the first character of `text` */
    /* For a YAML block scalar (| or >) the text starts on the next line at this indentation;
     * 0 for a prompt file or a single-line scalar. */
    int block_indent;
    bool quoted; /* single-line quoted scalar: the text starts one column after the quote */
};

/* A reference inside a template:
 * "{{ item.image_prompt }}" -> root "item", segs ["image_prompt"]. */
struct tmpl_ref {
    char *root;
    char **segs;
    size_t n_segs;
    char *expr; /* the whole path as written, "item.image_prompt" */
    int line, col;
};

/* Compile `text`. On syntax errors (unterminated "{{", empty or malformed name, more than
 * TMPL_MAX_REFS references) adds one diagnostic per error to `dl` and returns -1 with
 * *out = NULL. The template keeps its own copy
 * of `text`. */
int tmpl_compile(const char *text, const struct tmpl_origin *origin, struct tmpl **out,
                 struct diag_list *dl);
void tmpl_free(struct tmpl *t);

size_t tmpl_ref_count(const struct tmpl *t);
const struct tmpl_ref *tmpl_ref_at(const struct tmpl *t, size_t i);
/* The template's source text as written (without origin). */
const char *tmpl_source(const struct tmpl *t);
/* Put reference i at (line, col): for text whose positions an origin cannot describe, such as
 * a YAML flow scalar folded over several lines. */
void tmpl_move_ref(struct tmpl *t, size_t i, int line, int col);
/* The file named by the template's origin ("<template>" without one); borrowed. */
const char *tmpl_file(const struct tmpl *t);
/* True when the template has no {{...}} at all. */
bool tmpl_is_literal(const struct tmpl *t);

/* Looks a root name up at render time; returns a borrowed value, or NULL when unknown. */
typedef const cJSON *(*tmpl_resolve_fn)(void *ctx, const char *root);

enum tmpl_flags {
    /* Rendering an output path: every substituted value is made a safe single path component
     * (see tmpl_sanitize_component) and the result must be a relative path inside the job
     * directory without "." or ".." components, and not one of gemflow's own files
     * (progress.jsonl, manifest.json, workflow.yaml, report.html, .gemflow/). */
    TMPL_PATH = 1,
};

/* Render into `out` (appended). On an unknown root or path, a value that cannot be used
 * (TMPL_PATH: empty, or longer than 120 bytes after sanitising), fills `err` (GF_ERR_INPUT)
 * with "file:line:col: ..." naming the reference and returns -1; `out` is left as it was. */
int tmpl_render(const struct tmpl *t, tmpl_resolve_fn resolve, void *ctx, int flags,
                struct buf *out, struct gf_err *err);

/* Make `s` a safe file name component: bytes outside [A-Za-z0-9._-] become '_', a leading '.'
 * becomes '_'. Returns a new string (caller frees). */
char *tmpl_sanitize_component(const char *s);

/* Render a JSON value as templates do (string raw, others compact JSON). Appends to `out`. */
void tmpl_render_value(const cJSON *v, struct buf *out);

#endif
