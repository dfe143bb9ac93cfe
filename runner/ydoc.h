/* ydoc: one YAML document as a small tree of mappings, sequences and scalars (built from
 * libyaml events), every node with its 1-based line and column, so the workflow loader can say
 * "file:line:column: message". Anchors are ignored; aliases and multiple documents are refused. */
#ifndef GF_YDOC_H
#define GF_YDOC_H

#include "err.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

enum ydoc_kind {
    YDOC_SCALAR,
    YDOC_MAP,
    YDOC_SEQ,
};

enum ydoc_style {
    YDOC_PLAIN,
    YDOC_SINGLE_QUOTED,
    YDOC_DOUBLE_QUOTED,
    YDOC_LITERAL, /* | block */
    YDOC_FOLDED,  /* > block */
};

/* What a scalar means under the YAML 1.2 core schema (quoted scalars are always strings). */
enum ydoc_type {
    YDOC_T_NULL, /* empty plain, ~, null */
    YDOC_T_BOOL, /* true, false (and Title/UPPER case) */
    YDOC_T_INT,  /* 12, -3, 0x1f, 0o17 */
    YDOC_T_FLOAT,
    YDOC_T_STR,
};

struct ydoc_node;

struct ydoc_mark {
    int line, col;
};

struct ydoc_pair {
    struct ydoc_node *key; /* always a scalar */
    struct ydoc_node *val;
};

struct ydoc_node {
    enum ydoc_kind kind;
    const char *file; /* borrowed: the caller keeps it alive as long as the tree */
    /* 1-based position of the node's first character: for a quoted scalar its quote, for a
     * block scalar its | or >. line 0 = no position (a value given on the command line). */
    int line, col;
    int end_line, end_col; /* just past the node */

    /* YDOC_SCALAR: `str` (len bytes, NUL-terminated), its style, and for block scalars the
     * indentation (spaces) of the content lines, which start on the line after the indicator. */
    enum ydoc_style style;
    char *str;
    size_t len;
    int block_indent;
    bool tag_str; /* explicitly tagged !!str */
    /* A flow or folded (>) scalar written over several lines: the place of every "{{" in its
     * source text, as line folding makes offsets in `str` differ from the file's (see
     * tmpl_move_ref). */
    struct ydoc_mark *marks;
    size_t n_marks;

    /* YDOC_MAP: keys in file order, unique. */
    struct ydoc_pair *pairs;
    size_t n_pairs, cap_pairs;

    /* YDOC_SEQ */
    struct ydoc_node **items;
    size_t n_items, cap_items;
};

/* Limits no legitimate workflow comes near, so that a hostile document costs time in
 * proportion to its size (at most YDOC_MAX_BYTES): crossing one stops the parse with a
 * diagnostic at the place it was crossed. */
#define YDOC_MAX_BYTES (1u << 20) /* the document */
#define YDOC_MAX_DEPTH 64         /* nested lists and mappings (the tree is walked recursively) */
#define YDOC_MAX_KEYS  1000       /* keys in one mapping */
#define YDOC_MAX_NODES 20000      /* scalars, lists and mappings in the document */

/* Parse one YAML document from `text` (len bytes). `file` names it in diagnostics and in every
 * node (borrowed, must outlive the tree). Returns 0 with *root the tree (caller frees with
 * ydoc_free), or NULL for a stream without a document. A syntax error or a second document adds
 * a diagnostic to `dl` and returns -1 with *root = NULL; so does crossing a limit above.
 * Duplicate keys (found with a hash set: O(1) per key), aliases and keys that
 * are not scalars add a diagnostic each and return -1, but *root still holds the rest of the
 * tree (without those entries) so the caller can go on checking it; the caller frees it. */
int ydoc_parse(const char *text, size_t len, const char *file, struct ydoc_node **root,
               struct diag_list *dl);
void ydoc_free(struct ydoc_node *n);
/* A deep copy (caller frees). */
struct ydoc_node *ydoc_copy(const struct ydoc_node *n);

/* New nodes at a position (caller frees, or hands them to a tree). */
struct ydoc_node *ydoc_new_scalar(const char *s, const char *file, int line, int col);
struct ydoc_node *ydoc_new_map(const char *file, int line, int col);

/* The pair with key `key` in a mapping, or NULL (also when `map` is not a mapping). */
struct ydoc_pair *ydoc_find(const struct ydoc_node *map, const char *key);
/* The value of `key` in a mapping, or NULL. */
struct ydoc_node *ydoc_get(const struct ydoc_node *map, const char *key);
/* Set `key` in `map` to `val` (both owned by the map from now on). An existing value is freed and
 * replaced, keeping the old key node (and `key` is freed); otherwise the pair is appended. */
void ydoc_map_set(struct ydoc_node *map, struct ydoc_node *key, struct ydoc_node *val);

enum ydoc_type ydoc_scalar_type(const struct ydoc_node *n);
bool ydoc_is_null(const struct ydoc_node *n);
/* Integer / number value of a scalar typed int (or int or float); false otherwise. */
bool ydoc_int(const struct ydoc_node *n, long long *out);
bool ydoc_number(const struct ydoc_node *n, double *out);
/* "a mapping", "a list", "a number", "true/false", "null", "a string": for type errors. */
const char *ydoc_describe(const struct ydoc_node *n);

/* Convert to JSON with core-schema typing of plain scalars (caller deletes). */
cJSON *ydoc_to_json(const struct ydoc_node *n);

#endif
