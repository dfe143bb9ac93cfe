/* template: compiling {{ref}} templates with exact positions, and rendering them against JSON
 * values (optionally as safe output paths). */
#include "template.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TMPL_MAX_COMPONENT 120

struct part {
    bool is_ref;
    size_t off, len; /* literal: bytes of src */
    size_t ref;      /* ref: index into refs */
};

struct tmpl {
    char *src;
    const char *file; /* borrowed from the origin */
    int line, col;    /* position of src[0] */
    struct part *parts;
    size_t n_parts, cap_parts;
    struct tmpl_ref *refs;
    size_t n_refs, cap_refs;
};

/* Positions of bytes of a template's text under its origin (see struct tmpl_origin), found by
 * walking forward from the last one asked for: compiling asks in increasing order, so finding
 * every reference's place costs one pass over the text, not one per reference. */
struct cursor {
    const char *text;
    size_t off; /* text[off] is at (line, col) */
    int line, col;
    int bol;   /* column at the beginning of a following line */
    bool none; /* no position (a command-line value) */
    int line0, col0;
};

static void cursor_init(struct cursor *c, const struct tmpl_origin *o, const char *text)
{
    memset(c, 0, sizeof *c);
    c->text = text;
    c->line0 = c->col0 = c->bol = 1;
    if (o && o->line <= 0) {
        c->none = true;
    } else if (o && o->block_indent > 0) {
        c->line0 = o->line + 1;
        c->col0 = c->bol = o->block_indent + 1;
    } else if (o) {
        c->line0 = o->line;
        c->col0 = o->col + (o->quoted ? 1 : 0);
    }
    c->line = c->line0;
    c->col = c->col0;
}

static void cursor_at(struct cursor *c, size_t off, int *line, int *col)
{
    if (c->none) {
        *line = *col = 0;
        return;
    }
    if (off < c->off) { /* backwards: start over */
        c->off = 0;
        c->line = c->line0;
        c->col = c->col0;
    }
    for (; c->off < off && c->text[c->off]; c->off++) {
        if (c->text[c->off] == '\n') {
            c->line++;
            c->col = c->bol;
        } else if (((unsigned char)c->text[c->off] & 0xC0) != 0x80) {
            c->col++; /* columns count characters, as libyaml's marks do */
        }
    }
    *line = c->line;
    *col = c->col;
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* Quote one character of `s` for a message: 'x', a whole UTF-8 sequence, or '\xNN'. */
static void describe_char(const char *s, struct buf *b)
{
    unsigned char c = (unsigned char)*s;
    if (c >= 0x20 && c < 0x7f) {
        buf_addf(b, "'%c'", c);
    } else if (c >= 0xC0) {
        size_t n = 1;
        while (n < 4 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n++;
        buf_addc(b, '\'');
        buf_add(b, s, n);
        buf_addc(b, '\'');
    } else {
        buf_addf(b, "'\\x%02x'", c);
    }
}

static void add_part(struct tmpl *t, bool is_ref, size_t off, size_t len)
{
    if (!is_ref && len == 0)
        return;
    struct part *p = VEC_PUSH(t->parts, t->n_parts, t->cap_parts);
    p->is_ref = is_ref;
    p->off = off;
    p->len = len;
    p->ref = t->n_refs - (is_ref ? 1 : 0);
}

/* Check and record the reference between "{{" at `open` and "}}" at `close`. */
static int add_ref(struct tmpl *t, struct cursor *o, size_t open, size_t close,
                   struct diag_list *dl)
{
    const char *s = t->src;
    size_t a = open + 2, b = close;
    int line, col;
    while (a < b && (s[a] == ' ' || s[a] == '\t'))
        a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
        b--;
    if (a == b) {
        cursor_at(o, open, &line, &col);
        diag_add(dl, t->file, line, col, "empty reference '%.*s' (write a name, e.g. {{script}})",
                 (int)(close + 2 - open), s + open);
        return -1;
    }
    for (size_t i = a; i < b; i++) {
        bool bad_dot = s[i] == '.' && (i == a || i + 1 == b || s[i + 1] == '.');
        if (is_name_char(s[i]) || (s[i] == '.' && !bad_dot))
            continue;
        struct buf m = BUF_INIT;
        cursor_at(o, i, &line, &col);
        if (s[i] == '.')
            buf_addf(&m, "empty name before or after '.' in reference '%.*s'",
                     (int)(close + 2 - open), s + open);
        else {
            buf_adds(&m, "bad character ");
            describe_char(s + i, &m);
            buf_addf(&m,
                     " in reference '%.*s' (names are letters, digits, '_' and '-', joined "
                     "by '.')",
                     (int)(close + 2 - open), s + open);
        }
        diag_add(dl, t->file, line, col, "%s", m.data);
        buf_release(&m);
        return -1;
    }
    struct tmpl_ref *r = VEC_PUSH(t->refs, t->n_refs, t->cap_refs);
    memset(r, 0, sizeof *r);
    r->expr = xstrndup(s + a, b - a);
    cursor_at(o, open, &r->line, &r->col);
    size_t cap = 0;
    const char *p = r->expr, *dot;
    while ((dot = strchr(p, '.'))) {
        char *seg = xstrndup(p, (size_t)(dot - p));
        if (!r->root)
            r->root = seg;
        else
            *VEC_PUSH(r->segs, r->n_segs, cap) = seg;
        p = dot + 1;
    }
    if (!r->root)
        r->root = xstrdup(p);
    else
        *VEC_PUSH(r->segs, r->n_segs, cap) = xstrdup(p);
    add_part(t, true, open, close + 2 - open);
    return 0;
}

int tmpl_compile(const char *text, const struct tmpl_origin *origin, struct tmpl **out,
                 struct diag_list *dl)
{
    struct tmpl *t = xcalloc(1, sizeof *t);
    int errors = 0;
    t->src = xstrdup(text);
    t->file = origin && origin->file ? origin->file : "<template>";
    struct cursor cur;
    cursor_init(&cur, origin, t->src);
    cursor_at(&cur, 0, &t->line, &t->col);
    const char *s = t->src;
    size_t lit = 0, i = 0, seen = 0;
    const char *p;
    while ((p = strstr(s + i, "{{"))) {
        size_t open = (size_t)(p - s);
        if (++seen > TMPL_MAX_REFS) {
            int line, col;
            cursor_at(&cur, open, &line, &col);
            diag_add(dl, t->file, line, col,
                     "too many references in one template (more than %d; a prompt needs far "
                     "fewer)",
                     TMPL_MAX_REFS);
            errors++;
            break;
        }
        /* A reference ends on its own line, before any other "{{". */
        size_t close = open + 2;
        while (s[close] && s[close] != '\n' && !(s[close] == '}' && s[close + 1] == '}') &&
               !(s[close] == '{' && s[close + 1] == '{'))
            close++;
        if (s[close] != '}') {
            int line, col;
            cursor_at(&cur, open, &line, &col);
            diag_add(dl, t->file, line, col, "unterminated '{{' (no '}}' after it on its line)");
            errors++;
            i = open + 2;
            continue;
        }
        add_part(t, false, lit, open - lit);
        if (add_ref(t, &cur, open, close, dl) < 0)
            errors++;
        i = lit = close + 2;
    }
    add_part(t, false, lit, strlen(s) - lit);
    if (errors) {
        tmpl_free(t);
        *out = NULL;
        return -1;
    }
    *out = t;
    return 0;
}

void tmpl_free(struct tmpl *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_refs; i++) {
        struct tmpl_ref *r = &t->refs[i];
        free(r->root);
        for (size_t j = 0; j < r->n_segs; j++)
            free(r->segs[j]);
        free(r->segs);
        free(r->expr);
    }
    free(t->refs);
    free(t->parts);
    free(t->src);
    free(t);
}

size_t tmpl_ref_count(const struct tmpl *t)
{
    return t->n_refs;
}

const struct tmpl_ref *tmpl_ref_at(const struct tmpl *t, size_t i)
{
    return i < t->n_refs ? &t->refs[i] : NULL;
}

const char *tmpl_source(const struct tmpl *t)
{
    return t->src;
}

void tmpl_move_ref(struct tmpl *t, size_t i, int line, int col)
{
    if (i < t->n_refs) {
        t->refs[i].line = line;
        t->refs[i].col = col;
    }
}

const char *tmpl_file(const struct tmpl *t)
{
    return t->file;
}

bool tmpl_is_literal(const struct tmpl *t)
{
    return t->n_refs == 0;
}

/* ---- rendering ---- */

static void render_number(double d, struct buf *out)
{
    char tmp[40];
    if (!isfinite(d)) {
        buf_adds(out, "null");
    } else if (d == floor(d) && fabs(d) < 9007199254740992.0) {
        buf_addf(out, "%.0f", d == 0 ? 0.0 : d);
    } else {
        snprintf(tmp, sizeof tmp, "%.15g", d);
        if (strtod(tmp, NULL) != d)
            snprintf(tmp, sizeof tmp, "%.17g", d);
        buf_adds(out, tmp);
    }
}

void tmpl_render_value(const cJSON *v, struct buf *out)
{
    if (!v)
        return;
    if (cJSON_IsString(v) || cJSON_IsRaw(v)) {
        buf_adds(out, v->valuestring ? v->valuestring : "");
    } else if (cJSON_IsNumber(v)) {
        render_number(v->valuedouble, out);
    } else if (cJSON_IsBool(v)) {
        buf_adds(out, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNull(v)) {
        buf_adds(out, "null");
    } else if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        char *s = cJSON_PrintUnformatted(v);
        if (!s)
            die("out of memory printing JSON");
        buf_adds(out, s);
        cJSON_free(s);
    }
}

char *tmpl_sanitize_component(const char *s)
{
    char *r = xstrdup(s);
    for (char *p = r; *p; p++)
        if (!is_name_char(*p) && *p != '.')
            *p = '_';
    if (r[0] == '.')
        r[0] = '_';
    return r;
}

static const char *json_kind(const cJSON *v)
{
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsArray(v))
        return "a list";
    return "an object";
}

/* Start an error message "file:line:col: '{{expr}}': " for reference `r`. */
static void ref_error_prefix(const struct tmpl *t, const struct tmpl_ref *r, struct buf *m)
{
    if (r->line > 0)
        buf_addf(m, "%s:%d:%d: '{{%s}}': ", t->file, r->line, r->col, r->expr);
    else
        buf_addf(m, "%s: '{{%s}}': ", t->file, r->expr);
}

/* Walk r->segs from the root value; on a missing step describe it into `m`. */
static const cJSON *walk(const struct tmpl_ref *r, const cJSON *v, struct buf *m)
{
    struct buf at = BUF_INIT;
    buf_adds(&at, r->root);
    for (size_t i = 0; i < r->n_segs && v; i++) {
        const char *seg = r->segs[i];
        const cJSON *next = NULL;
        if (cJSON_IsObject(v)) {
            next = cJSON_GetObjectItemCaseSensitive(v, seg);
            if (!next) {
                buf_addf(m, "'%s' has no field '%s' (its fields:", at.data, seg);
                int k = 0;
                for (const cJSON *c = v->child; c && k < 12; c = c->next, k++)
                    buf_addf(m, "%s %s", k ? "," : "", c->string);
                buf_adds(m, k ? ")" : " none)");
            }
        } else if (cJSON_IsArray(v)) {
            char *end;
            long idx = strtol(seg, &end, 10);
            int n = cJSON_GetArraySize(v);
            if (*end || !*seg || seg[0] == '-')
                buf_addf(m, "'%s' is a list; '%s' is not an index (use 0, 1, ...)", at.data, seg);
            else if (idx >= n)
                buf_addf(m, "'%s' has %d element%s, there is no index %s (indexes start at 0)",
                         at.data, n, n == 1 ? "" : "s", seg);
            else
                next = cJSON_GetArrayItem(v, (int)idx);
        } else {
            buf_addf(m, "'%s' is %s and has no field '%s'", at.data, json_kind(v), seg);
        }
        v = next;
        buf_addf(&at, ".%s", seg);
    }
    buf_release(&at);
    return v;
}

static bool reserved_path(const char *path)
{
    static const char *const names[] = {"progress.jsonl", "manifest.json", "workflow.yaml",
                                        "report.html", ".gemflow"};
    size_t n = strcspn(path, "/");
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (strlen(names[i]) == n && strncmp(path, names[i], n) == 0)
            return true;
    return false;
}

/* The problem with a rendered output path, or NULL when it is a safe relative path. */
static const char *path_problem(const char *p)
{
    if (!*p)
        return "is empty";
    if (*p == '/')
        return "is absolute (outputs are relative to the job directory)";
    if (strchr(p, '\\'))
        return "contains a backslash";
    for (const char *c = p;;) {
        size_t n = strcspn(c, "/");
        if (n == 0)
            return "has an empty component";
        if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return "has a '.' or '..' component (outputs must stay inside the job directory)";
        if (!c[n])
            break;
        c += n + 1;
    }
    if (reserved_path(p))
        return "is one of gemflow's own files in the job directory";
    return NULL;
}

/* Append value `v` of reference `r` as one safe path component. */
static int add_component(const struct tmpl *t, const struct tmpl_ref *r, const cJSON *v,
                         struct buf *out, struct buf *m)
{
    struct buf raw = BUF_INIT;
    tmpl_render_value(v, &raw);
    char *safe = tmpl_sanitize_component(raw.data);
    size_t n = strlen(safe);
    int rc = 0;
    if (n == 0 || n > TMPL_MAX_COMPONENT) {
        ref_error_prefix(t, r, m);
        if (n == 0)
            buf_adds(m, "the value is empty and cannot name a file");
        else {
            int show = 32; /* cut the quoted value at a character boundary */
            while (show > 0 && ((unsigned char)raw.data[show] & 0xC0) == 0x80)
                show--;
            buf_addf(m, "the value '%.*s...' (%zu bytes) is too long for a file name (at most %d)",
                     show, raw.data, raw.len, TMPL_MAX_COMPONENT);
        }
        rc = -1;
    } else {
        buf_add(out, safe, n);
    }
    free(safe);
    buf_release(&raw);
    return rc;
}

int tmpl_render(const struct tmpl *t, tmpl_resolve_fn resolve, void *ctx, int flags,
                struct buf *out, struct gf_err *err)
{
    size_t old = out->len;
    struct buf m = BUF_INIT;
    for (size_t i = 0; i < t->n_parts; i++) {
        const struct part *p = &t->parts[i];
        if (!p->is_ref) {
            buf_add(out, t->src + p->off, p->len);
            continue;
        }
        const struct tmpl_ref *r = &t->refs[p->ref];
        const cJSON *v = resolve(ctx, r->root);
        if (!v) {
            ref_error_prefix(t, r, &m);
            buf_addf(&m, "unknown name '%s'", r->root);
            goto err;
        }
        struct buf why = BUF_INIT;
        v = walk(r, v, &why);
        if (!v) {
            ref_error_prefix(t, r, &m);
            buf_add(&m, why.data, why.len);
            buf_release(&why);
            goto err;
        }
        buf_release(&why);
        if (!(flags & TMPL_PATH))
            tmpl_render_value(v, out);
        else if (add_component(t, r, v, out, &m) < 0)
            goto err;
    }
    const char *problem;
    if ((flags & TMPL_PATH) && (problem = path_problem(out->data + old))) {
        if (t->line > 0)
            buf_addf(&m, "%s:%d:%d: ", t->file, t->line, t->col);
        else
            buf_addf(&m, "%s: ", t->file);
        buf_addf(&m, "output path '%s' %s", out->data + old, problem);
        goto err;
    }
    return 0;
err:
    buf_setlen(out, old);
    gf_error(err, GF_ERR_INPUT, "%s", m.data);
    buf_release(&m);
    return -1;
}
