/* ydoc: a YAML document tree with positions, built from libyaml's event parser. */
#include "ydoc.h"
#include "buf.h"
#include "strmap.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct frame {
    struct ydoc_node *node;
    struct ydoc_node *key; /* mapping: the key waiting for its value */
    bool have_key;         /* mapping: the next node is a value */
    bool skip;             /* mapping: drop the next value (its key was refused) */
    struct strmap keys;    /* mapping: every key seen so far (values unused) */
    size_t n_keys;         /* mapping: keys seen, refused ones included */
};

struct pctx {
    const char *text;
    size_t len;
    const char *file;
    struct diag_list *dl;
    struct frame *stack;
    size_t n, cap;
    struct ydoc_node *root;
    size_t *lines; /* byte offset of the start of each line, computed on first use */
    size_t n_lines, cap_lines;
    int errors;
    size_t nodes; /* nodes made so far (YDOC_MAX_NODES) */
    bool too_big; /* a limit was crossed: stop */
};

static struct ydoc_node *node_new(enum ydoc_kind kind, const char *file, int line, int col)
{
    struct ydoc_node *n = xcalloc(1, sizeof *n);
    n->kind = kind;
    n->file = file;
    n->line = line;
    n->col = col;
    n->end_line = line;
    n->end_col = col;
    return n;
}

struct ydoc_node *ydoc_new_scalar(const char *s, const char *file, int line, int col)
{
    struct ydoc_node *n = node_new(YDOC_SCALAR, file, line, col);
    n->len = strlen(s);
    n->str = xstrndup(s, n->len);
    return n;
}

struct ydoc_node *ydoc_new_map(const char *file, int line, int col)
{
    return node_new(YDOC_MAP, file, line, col);
}

void ydoc_free(struct ydoc_node *n)
{
    if (!n)
        return;
    free(n->str);
    free(n->marks);
    for (size_t i = 0; i < n->n_pairs; i++) {
        ydoc_free(n->pairs[i].key);
        ydoc_free(n->pairs[i].val);
    }
    free(n->pairs);
    for (size_t i = 0; i < n->n_items; i++)
        ydoc_free(n->items[i]);
    free(n->items);
    free(n);
}

struct ydoc_node *ydoc_copy(const struct ydoc_node *n)
{
    struct ydoc_node *c = xmalloc(sizeof *c);
    *c = *n;
    c->str = n->str ? xstrndup(n->str, n->len) : NULL;
    c->marks = NULL;
    if (n->n_marks) {
        c->marks = xcalloc(n->n_marks, sizeof *c->marks);
        memcpy(c->marks, n->marks, n->n_marks * sizeof *c->marks);
    }
    c->pairs = NULL;
    c->n_pairs = c->cap_pairs = 0;
    c->items = NULL;
    c->n_items = c->cap_items = 0;
    for (size_t i = 0; i < n->n_pairs; i++) {
        struct ydoc_pair *p = VEC_PUSH(c->pairs, c->n_pairs, c->cap_pairs);
        p->key = ydoc_copy(n->pairs[i].key);
        p->val = ydoc_copy(n->pairs[i].val);
    }
    for (size_t i = 0; i < n->n_items; i++)
        *VEC_PUSH(c->items, c->n_items, c->cap_items) = ydoc_copy(n->items[i]);
    return c;
}

struct ydoc_pair *ydoc_find(const struct ydoc_node *map, const char *key)
{
    if (!map || map->kind != YDOC_MAP)
        return NULL;
    for (size_t i = 0; i < map->n_pairs; i++)
        if (strcmp(map->pairs[i].key->str, key) == 0)
            return &map->pairs[i];
    return NULL;
}

struct ydoc_node *ydoc_get(const struct ydoc_node *map, const char *key)
{
    struct ydoc_pair *p = ydoc_find(map, key);
    return p ? p->val : NULL;
}

void ydoc_map_set(struct ydoc_node *map, struct ydoc_node *key, struct ydoc_node *val)
{
    struct ydoc_pair *p = ydoc_find(map, key->str);
    if (p) {
        ydoc_free(p->val);
        p->val = val;
        ydoc_free(key);
        return;
    }
    p = VEC_PUSH(map->pairs, map->n_pairs, map->cap_pairs);
    p->key = key;
    p->val = val;
}

/* ---- scalar typing (YAML 1.2 core schema) ---- */

static bool all_of(const char *s, const char *set)
{
    return *s && strspn(s, set) == strlen(s);
}

static bool is_float_text(const char *s)
{
    static const char *const special[] = {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"};
    const char *p = s + (*s == '-' || *s == '+');
    for (size_t i = 0; i < ARRAY_SIZE(special); i++)
        if (strcmp(p, special[i]) == 0 &&
            (p == s || (special[i][1] != 'n' && special[i][1] != 'N')))
            return true;
    size_t digits = strspn(p, "0123456789");
    p += digits;
    if (*p == '.') {
        size_t frac = strspn(p + 1, "0123456789");
        if (!digits && !frac)
            return false;
        p += 1 + frac;
    } else if (!digits) {
        return false;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        p += (*p == '-' || *p == '+');
        if (!all_of(p, "0123456789"))
            return false;
        return true;
    }
    return *p == '\0';
}

enum ydoc_type ydoc_scalar_type(const struct ydoc_node *n)
{
    if (n->kind != YDOC_SCALAR || n->style != YDOC_PLAIN || n->tag_str)
        return YDOC_T_STR;
    const char *s = n->str;
    if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
        return YDOC_T_NULL;
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") || !strcmp(s, "false") ||
        !strcmp(s, "False") || !strcmp(s, "FALSE"))
        return YDOC_T_BOOL;
    const char *d = s + (*s == '-' || *s == '+');
    if (all_of(d, "0123456789"))
        return YDOC_T_INT;
    if ((str_starts_with(s, "0x") && all_of(s + 2, "0123456789abcdefABCDEF")) ||
        (str_starts_with(s, "0o") && all_of(s + 2, "01234567")))
        return YDOC_T_INT;
    if (is_float_text(s))
        return YDOC_T_FLOAT;
    return YDOC_T_STR;
}

bool ydoc_is_null(const struct ydoc_node *n)
{
    return n->kind == YDOC_SCALAR && ydoc_scalar_type(n) == YDOC_T_NULL;
}

bool ydoc_int(const struct ydoc_node *n, long long *out)
{
    if (n->kind != YDOC_SCALAR || ydoc_scalar_type(n) != YDOC_T_INT)
        return false;
    const char *s = n->str;
    int base = 10;
    if (str_starts_with(s, "0x") || str_starts_with(s, "0o")) {
        base = s[1] == 'x' ? 16 : 8;
        s += 2;
    }
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, base);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

bool ydoc_number(const struct ydoc_node *n, double *out)
{
    long long i;
    if (ydoc_int(n, &i)) {
        *out = (double)i;
        return true;
    }
    if (n->kind != YDOC_SCALAR || ydoc_scalar_type(n) != YDOC_T_FLOAT)
        return false;
    const char *s = n->str, *p = s + (*s == '-' || *s == '+');
    if (*p == '.' && (p[1] == 'i' || p[1] == 'I')) {
        *out = *s == '-' ? -INFINITY : INFINITY;
        return true;
    }
    if (*p == '.' && (p[1] == 'n' || p[1] == 'N')) {
        *out = NAN;
        return true;
    }
    *out = strtod(s, NULL);
    return true;
}

const char *ydoc_describe(const struct ydoc_node *n)
{
    switch (n->kind) {
    case YDOC_MAP:
        return "a mapping";
    case YDOC_SEQ:
        return "a list";
    case YDOC_SCALAR:
        break;
    }
    switch (ydoc_scalar_type(n)) {
    case YDOC_T_NULL:
        return "null";
    case YDOC_T_BOOL:
        return "true/false";
    case YDOC_T_INT:
    case YDOC_T_FLOAT:
        return "a number";
    case YDOC_T_STR:
        break;
    }
    return "a string";
}

cJSON *ydoc_to_json(const struct ydoc_node *n)
{
    if (n->kind == YDOC_MAP) {
        cJSON *o = cJSON_CreateObject();
        for (size_t i = 0; i < n->n_pairs; i++)
            cJSON_AddItemToObject(o, n->pairs[i].key->str, ydoc_to_json(n->pairs[i].val));
        return o;
    }
    if (n->kind == YDOC_SEQ) {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; i < n->n_items; i++)
            cJSON_AddItemToArray(a, ydoc_to_json(n->items[i]));
        return a;
    }
    double d;
    switch (ydoc_scalar_type(n)) {
    case YDOC_T_NULL:
        return cJSON_CreateNull();
    case YDOC_T_BOOL:
        return cJSON_CreateBool(n->str[0] == 't' || n->str[0] == 'T');
    case YDOC_T_INT:
    case YDOC_T_FLOAT:
        if (ydoc_number(n, &d))
            return cJSON_CreateNumber(d);
        break;
    case YDOC_T_STR:
        break;
    }
    return cJSON_CreateString(n->str);
}

/* ---- positions in the source text ---- */

static void index_lines(struct pctx *p)
{
    if (p->n_lines)
        return;
    *VEC_PUSH(p->lines, p->n_lines, p->cap_lines) = 0;
    for (size_t i = 0; i < p->len; i++)
        if (p->text[i] == '\n')
            *VEC_PUSH(p->lines, p->n_lines, p->cap_lines) = i + 1;
}

/* Byte offset of 0-based (line, column in characters), clamped to the text. */
static size_t offset_of(struct pctx *p, size_t line, size_t col)
{
    index_lines(p);
    if (line >= p->n_lines)
        return p->len;
    size_t off = p->lines[line];
    while (off < p->len && p->text[off] != '\n' && col > 0) {
        off++;
        while (off < p->len && ((unsigned char)p->text[off] & 0xC0) == 0x80)
            off++;
        col--;
    }
    return off;
}

/* Indentation of a block scalar's content: explicit (|2) or that of its first non-blank line. */
static int block_indent(struct pctx *p, const yaml_event_t *ev, const struct frame *parent)
{
    size_t off = offset_of(p, ev->start_mark.line, ev->start_mark.column);
    for (int i = 1; i <= 2 && off + (size_t)i < p->len; i++) {
        char c = p->text[off + (size_t)i];
        if (c >= '1' && c <= '9') {
            int base = parent && parent->key ? parent->key->col - 1 : 0;
            return base + (c - '0');
        }
    }
    index_lines(p);
    for (size_t l = ev->start_mark.line + 1; l < p->n_lines; l++) {
        size_t s = p->lines[l], e = s;
        while (e < p->len && p->text[e] == ' ')
            e++;
        if (e < p->len && p->text[e] != '\n' && p->text[e] != '\r')
            return (int)(e - s);
    }
    return 0;
}

/* Record where each "{{" of a folded multi-line scalar (flow, or block with >) is in the
 * source. */
static void find_marks(struct pctx *p, const yaml_event_t *ev, struct ydoc_node *n)
{
    size_t a = offset_of(p, ev->start_mark.line, ev->start_mark.column);
    size_t b = offset_of(p, ev->end_mark.line, ev->end_mark.column), cap = 0;
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    for (size_t i = a; i < b; i++) {
        if (p->text[i] == '{' && i + 1 < b && p->text[i + 1] == '{') {
            *VEC_PUSH(n->marks, n->n_marks, cap) = (struct ydoc_mark){line, col};
            i++;
            col += 2;
        } else if (p->text[i] == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)p->text[i] & 0xC0) != 0x80) {
            col++;
        }
    }
}

/* ---- building the tree ---- */

/* Add a finished node to its parent. NULL is a refused node (an alias): the mapping entry or
 * list item it belongs to is dropped. */
static void attach(struct pctx *p, struct ydoc_node *n)
{
    if (p->n == 0) {
        p->root = n;
        return;
    }
    struct frame *f = &p->stack[p->n - 1];
    if (!n) {
        if (f->node->kind == YDOC_SEQ)
            return;
        if (!f->have_key) {
            f->have_key = f->skip = true;
        } else {
            f->have_key = f->skip = false;
            ydoc_free(f->key);
            f->key = NULL;
        }
        return;
    }
    if (f->node->kind == YDOC_SEQ) {
        *VEC_PUSH(f->node->items, f->node->n_items, f->node->cap_items) = n;
        return;
    }
    if (!f->have_key) {
        f->have_key = true;
        if (++f->n_keys > YDOC_MAX_KEYS) {
            diag_add(p->dl, p->file, n->line, n->col,
                     "too many keys in one mapping (more than %d; a workflow needs far fewer)",
                     YDOC_MAX_KEYS);
            p->too_big = true;
            f->skip = true;
            ydoc_free(n);
        } else if (n->kind != YDOC_SCALAR) {
            diag_add(p->dl, p->file, n->line, n->col, "a mapping key must be a plain name, not %s",
                     ydoc_describe(n));
            p->errors++;
            f->skip = true;
            ydoc_free(n);
        } else if (strmap_put(&f->keys, n->str, n)) {
            diag_add(p->dl, p->file, n->line, n->col, "duplicate key '%s'", n->str);
            p->errors++;
            f->skip = true;
            ydoc_free(n);
        } else {
            f->key = n;
        }
        return;
    }
    f->have_key = false;
    if (f->skip) {
        f->skip = false;
        ydoc_free(n);
        return;
    }
    struct ydoc_pair *pair = VEC_PUSH(f->node->pairs, f->node->n_pairs, f->node->cap_pairs);
    pair->key = f->key;
    pair->val = n;
    f->key = NULL;
}

static struct ydoc_node *scalar_node(struct pctx *p, const yaml_event_t *ev)
{
    struct ydoc_node *n = node_new(YDOC_SCALAR, p->file, (int)ev->start_mark.line + 1,
                                   (int)ev->start_mark.column + 1);
    n->len = ev->data.scalar.length;
    n->str = xstrndup((const char *)ev->data.scalar.value, n->len);
    switch (ev->data.scalar.style) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
        n->style = YDOC_SINGLE_QUOTED;
        break;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
        n->style = YDOC_DOUBLE_QUOTED;
        break;
    case YAML_LITERAL_SCALAR_STYLE:
        n->style = YDOC_LITERAL;
        break;
    case YAML_FOLDED_SCALAR_STYLE:
        n->style = YDOC_FOLDED;
        break;
    default:
        n->style = YDOC_PLAIN;
        break;
    }
    if (n->style == YDOC_LITERAL || n->style == YDOC_FOLDED)
        n->block_indent = block_indent(p, ev, p->n ? &p->stack[p->n - 1] : NULL);
    if (n->style != YDOC_LITERAL && ev->end_mark.line > ev->start_mark.line)
        find_marks(p, ev, n); /* folded: offsets in the value no longer match the lines */
    const char *tag = (const char *)ev->data.scalar.tag;
    n->tag_str = tag && (strcmp(tag, "tag:yaml.org,2002:str") == 0 || strcmp(tag, "!") == 0);
    return n;
}

static void yaml_problem(struct pctx *p, const yaml_parser_t *y)
{
    int line = (int)y->problem_mark.line + 1, col = (int)y->problem_mark.column + 1;
    const char *problem = y->problem ? y->problem : "cannot parse YAML";
    if (y->error == YAML_READER_ERROR) {
        /* The reader reports a byte offset, not a mark. */
        size_t off = y->problem_offset < p->len ? y->problem_offset : p->len;
        line = 1;
        col = 1;
        for (size_t i = 0; i < off; i++) {
            if (p->text[i] == '\n') {
                line++;
                col = 1;
            } else if (((unsigned char)p->text[i] & 0xC0) != 0x80) {
                col++;
            }
        }
        diag_add(p->dl, p->file, line, col, "%s (the file must be UTF-8 text)", problem);
        return;
    }
    size_t off = offset_of(p, y->problem_mark.line, y->problem_mark.column);
    if (off < p->len && p->text[off] == '\t') {
        diag_add(p->dl, p->file, line, col,
                 "found a tab character where YAML expects spaces (indent with spaces only)");
        return;
    }
    if (y->context)
        diag_add(p->dl, p->file, line, col, "%s (%s at line %d, column %d)", problem, y->context,
                 (int)y->context_mark.line + 1, (int)y->context_mark.column + 1);
    else
        diag_add(p->dl, p->file, line, col, "%s", problem);
}

static void drop_stack(struct pctx *p)
{
    while (p->n) {
        struct frame *f = &p->stack[--p->n];
        ydoc_free(f->key);
        ydoc_free(f->node);
        strmap_release(&f->keys);
    }
}

/* Count a new node against YDOC_MAX_NODES; false (after a diagnostic) when it is one too many. */
static bool count_node(struct pctx *p, int line, int col)
{
    if (++p->nodes <= YDOC_MAX_NODES)
        return true;
    diag_add(p->dl, p->file, line, col,
             "the document has too many values (more than %d lists, mappings and scalars; a "
             "workflow needs far fewer)",
             YDOC_MAX_NODES);
    p->too_big = true;
    return false;
}

/* Handle one event; returns 1 at the end of the stream, 0 to go on, -1 to stop. */
static int on_event(struct pctx *p, const yaml_event_t *ev, int *docs)
{
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    struct ydoc_node *n;
    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        return 1;
    case YAML_DOCUMENT_START_EVENT:
        if (++*docs > 1) {
            diag_add(p->dl, p->file, line, col,
                     "a second YAML document is not supported (one workflow per file)");
            return -1;
        }
        return 0;
    case YAML_ALIAS_EVENT:
        /* Aliases would let a small file expand into a huge tree; refuse them. */
        diag_add(p->dl, p->file, line, col,
                 "alias '*%s' is not supported (YAML anchors and aliases are not supported; write "
                 "the value out)",
                 (const char *)ev->data.alias.anchor);
        p->errors++;
        if (!count_node(p, line, col))
            return -1;
        attach(p, NULL);
        return 0;
    case YAML_SCALAR_EVENT:
        if (!count_node(p, line, col))
            return -1;
        attach(p, scalar_node(p, ev));
        return p->too_big ? -1 : 0;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (p->n >= YDOC_MAX_DEPTH) { /* the tree is walked recursively */
            diag_add(p->dl, p->file, line, col,
                     "lists and mappings are nested too deep (more than %d levels)",
                     YDOC_MAX_DEPTH);
            return -1;
        }
        if (!count_node(p, line, col))
            return -1;
        n = node_new(ev->type == YAML_MAPPING_START_EVENT ? YDOC_MAP : YDOC_SEQ, p->file, line,
                     col);
        *VEC_PUSH(p->stack, p->n, p->cap) = (struct frame){.node = n};
        return 0;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: {
        struct frame f = p->stack[--p->n];
        ydoc_free(f.key);
        strmap_release(&f.keys);
        f.node->end_line = (int)ev->end_mark.line + 1;
        f.node->end_col = (int)ev->end_mark.column + 1;
        attach(p, f.node);
        return p->too_big ? -1 : 0;
    }
    default:
        return 0;
    }
}

int ydoc_parse(const char *text, size_t len, const char *file, struct ydoc_node **root,
               struct diag_list *dl)
{
    struct pctx p = {.text = text, .len = len, .file = file, .dl = dl};
    yaml_parser_t y;
    int docs = 0, rc = -1;
    *root = NULL;
    if (len > YDOC_MAX_BYTES) {
        diag_add(dl, file, 1, 1, "the document is too large (%zu bytes, more than %u)", len,
                 YDOC_MAX_BYTES);
        return -1;
    }
    if (!yaml_parser_initialize(&y))
        die("out of memory initialising the YAML parser");
    yaml_parser_set_input_string(&y, (const unsigned char *)text, len);
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&y, &ev)) {
            yaml_problem(&p, &y);
            goto out;
        }
        int r = on_event(&p, &ev, &docs);
        yaml_event_delete(&ev);
        if (r < 0)
            goto out;
        if (r > 0)
            break;
    }
    *root = p.root;
    p.root = NULL;
    rc = p.errors ? -1 : 0;
out:
    drop_stack(&p);
    ydoc_free(p.root);
    free(p.stack);
    free(p.lines);
    yaml_parser_delete(&y);
    return rc;
}
