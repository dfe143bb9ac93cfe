/* workflow_value: reading typed values (strings, numbers, durations, model ids) out of the YAML
 * tree, each failure a diagnostic at the value, and the loader's small text helpers. */
#include "models.h"
#include "util.h"
#include "workflow_int.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void wfl_error(struct wf_loader *L, const struct ydoc_node *at, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    diag_add(L->dl, at ? at->file : L->wf->path, at ? at->line : 0, at ? at->col : 0, "%s", b.data);
    buf_release(&b);
}

/* "'x'" for a scalar, "a list" for others: the "got ..." part of a type error. */
static void add_got(struct buf *b, const struct ydoc_node *n)
{
    if (n->kind == YDOC_SCALAR && !ydoc_is_null(n))
        buf_addf(b, "'%s'", n->str);
    else
        buf_adds(b, n->kind == YDOC_SCALAR ? "nothing" : ydoc_describe(n));
}

const char *wfl_string(struct wf_loader *L, const struct ydoc_node *n, const char *key)
{
    if (n->kind != YDOC_SCALAR) {
        wfl_error(L, n, "'%s' must be a string, not %s", key, ydoc_describe(n));
        return NULL;
    }
    if (ydoc_is_null(n)) {
        wfl_error(L, n, "'%s' has no value", key);
        return NULL;
    }
    return n->str;
}

bool wfl_mapping(struct wf_loader *L, const struct ydoc_node *n, const char *key)
{
    if (n->kind == YDOC_MAP)
        return true;
    wfl_error(L, n, "'%s' must be a mapping (key: value lines), not %s", key, ydoc_describe(n));
    return false;
}

bool wfl_int(struct wf_loader *L, const struct ydoc_node *n, const char *key, long long lo,
             long long hi, long long *out)
{
    long long v;
    if (n->kind == YDOC_SCALAR && ydoc_int(n, &v) && v >= lo && v <= hi) {
        *out = v;
        return true;
    }
    struct buf b = BUF_INIT;
    add_got(&b, n);
    if (hi == LLONG_MAX)
        wfl_error(L, n, "'%s' must be a whole number >= %lld, got %s", key, lo, b.data);
    else
        wfl_error(L, n, "'%s' must be a whole number from %lld to %lld, got %s", key, lo, hi,
                  b.data);
    buf_release(&b);
    return false;
}

bool wfl_number(struct wf_loader *L, const struct ydoc_node *n, const char *key, double lo,
                double hi, bool lo_open, double *out)
{
    double v;
    if (n->kind == YDOC_SCALAR && ydoc_number(n, &v) && !isnan(v) && (lo_open ? v > lo : v >= lo) &&
        v <= hi) {
        *out = v;
        return true;
    }
    struct buf b = BUF_INIT;
    add_got(&b, n);
    if (isinf(hi))
        wfl_error(L, n, "'%s' must be a number %s %g, got %s", key, lo_open ? ">" : ">=", lo,
                  b.data);
    else
        wfl_error(L, n, "'%s' must be a number from %g to %g, got %s", key, lo, hi, b.data);
    buf_release(&b);
    return false;
}

bool wfl_bool(struct wf_loader *L, const struct ydoc_node *n, const char *key, bool *out)
{
    if (n->kind == YDOC_SCALAR && ydoc_scalar_type(n) == YDOC_T_BOOL) {
        *out = n->str[0] == 't' || n->str[0] == 'T';
        return true;
    }
    wfl_error(L, n, "'%s' must be true or false, not %s", key, ydoc_describe(n));
    return false;
}

/* One of `words` in any case; the canonical spelling (a copy), or NULL after a diagnostic. */
static char *word_any_case(struct wf_loader *L, const struct ydoc_node *n, const char *key,
                           const char *const *words, size_t count)
{
    const char *s = wfl_string(L, n, key);
    if (!s)
        return NULL;
    for (size_t i = 0; i < count; i++)
        if (strcasecmp(s, words[i]) == 0)
            return xstrdup(words[i]);
    struct buf b = BUF_INIT;
    wfl_add_list(&b, words, count);
    wfl_error(L, n, "bad %s '%s' (one of %s)", key, s, b.data);
    buf_release(&b);
    return NULL;
}

char *wfl_thinking(struct wf_loader *L, const struct ydoc_node *n)
{
    /* thinkingConfig.thinkingLevel of the Gemini 3 models (SDK ThinkingLevel) */
    static const char *const levels[] = {"MINIMAL", "LOW", "MEDIUM", "HIGH"};
    return word_any_case(L, n, "thinking", levels, ARRAY_SIZE(levels));
}

char *wfl_service_tier(struct wf_loader *L, const struct ydoc_node *n)
{
    static const char *const tiers[] = {"flex", "standard", "priority"};
    return word_any_case(L, n, "service_tier", tiers, ARRAY_SIZE(tiers));
}

bool wfl_duration(struct wf_loader *L, const struct ydoc_node *n, const char *key, int64_t *out_ms)
{
    const char *s = wfl_string(L, n, key);
    if (!s)
        return false;
    int64_t ms;
    if (parse_duration_ms(s, &ms) < 0) {
        wfl_error(L, n, "bad duration '%s' (use e.g. 30s, 500ms, 2m)", s);
        return false;
    }
    if (ms <= 0) {
        wfl_error(L, n, "'%s' must be more than 0, got '%s'", key, s);
        return false;
    }
    if (ms > 24 * 3600000LL) {
        wfl_error(L, n, "'%s' of '%s' is too long (at most 24h)", key, s);
        return false;
    }
    *out_ms = ms;
    return true;
}

bool wfl_model_id(struct wf_loader *L, const struct ydoc_node *n, const char *model)
{
    if (str_starts_with(model, "models/")) {
        wfl_error(L, n, "bad model id '%s' (drop the 'models/' prefix: '%s')", model, model + 7);
        return false;
    }
    if (!*model || strspn(model, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789._-") != strlen(model)) {
        wfl_error(L, n, "bad model id '%s' (model ids use letters, digits, '.', '_' and '-')",
                  model);
        return false;
    }
    return true;
}

bool wfl_voice(struct wf_loader *L, const struct ydoc_node *n, const char *voice)
{
    if (models_prebuilt_voice(voice))
        return true;
    size_t nv;
    const char *const *voices = models_prebuilt_voices(&nv);
    const char *near = wfl_suggest(voice, voices, nv);
    if (near && !strchr(voice, '_')) {
        wfl_error(L, n,
                  "unknown voice '%s' (did you mean '%s'? designed and cloned voice ids look "
                  "like voice_... or voicekey_...)",
                  voice, near);
        return false;
    }
    if (strlen(voice) <= 128 && wfl_is_name(voice, false))
        return true; /* a voice id: voiceConfig.voice */
    wfl_error(L, n,
              "bad voice '%s' (a prebuilt voice such as Kore or Puck, or a voice id made of "
              "letters, digits, '_' and '-')",
              voice);
    return false;
}

bool wfl_is_name(const char *s, bool lower_only)
{
    const char *first = lower_only ? "abcdefghijklmnopqrstuvwxyz"
                                   : "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
    const char *rest = lower_only ? "abcdefghijklmnopqrstuvwxyz0123456789_-"
                                  : "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789_-";
    return *s && strchr(first, *s) && strspn(s, rest) == strlen(s);
}

/* Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 64 || m > 64 || n > m + 2 || m > n + 2) /* never a suggestion: more than 2 apart */
        return SIZE_MAX;
    size_t d[65][65];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[n][m];
}

const char *wfl_suggest(const char *s, const char *const *words, size_t n)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX, limit = strlen(s) < 4 ? 1 : 2;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(s, words[i]);
        if (d < best_d) {
            best_d = d;
            best = words[i];
        }
    }
    return best_d > 0 && best_d <= limit ? best : NULL;
}

void wfl_add_suggestion(struct buf *b, const char *s, const char *const *words, size_t n)
{
    const char *w = wfl_suggest(s, words, n);
    if (w)
        buf_addf(b, " (did you mean '%s'?)", w);
}

void wfl_add_list(struct buf *b, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf_addf(b, "%s%s", i ? ", " : "", words[i]);
}

const char *wfl_path_problem(const char *path)
{
    if (!*path)
        return "is empty";
    if (*path == '/')
        return "is absolute (paths are relative to the job directory)";
    if (strchr(path, '\\'))
        return "contains a backslash (use '/')";
    for (const char *c = path;;) {
        size_t n = strcspn(c, "/");
        if (n == 0)
            return "has an empty component ('//' or a trailing '/')";
        if (n == 2 && c[0] == '.' && c[1] == '.')
            return "leaves the job directory ('..' is not allowed)";
        if (n == 1 && c[0] == '.')
            return "has a '.' component (write the path without it)";
        if (!c[n])
            break;
        c += n + 1;
    }
    return NULL;
}

const char *wfl_reserved_name(const char *path)
{
    static const char *const names[] = {"progress.jsonl", "manifest.json", "workflow.yaml",
                                        "report.html", ".gemflow"};
    size_t n = strcspn(path, "/");
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (strlen(names[i]) == n && strncmp(path, names[i], n) == 0)
            return names[i];
    return NULL;
}

void wfl_check_keys_one(struct wf_loader *L, const struct ydoc_node *k, const char *const *known,
                        size_t n, const char *where)
{
    struct buf b = BUF_INIT;
    buf_addf(&b, "unknown key '%s' %s", k->str, where);
    const char *s = wfl_suggest(k->str, known, n);
    if (s) {
        buf_addf(&b, " (did you mean '%s'?)", s);
    } else {
        buf_adds(&b, " (known keys: ");
        wfl_add_list(&b, known, n);
        buf_addc(&b, ')');
    }
    wfl_error(L, k, "%s", b.data);
    buf_release(&b);
}

void wfl_check_keys(struct wf_loader *L, const struct ydoc_node *map, const char *const *known,
                    size_t n, const char *where)
{
    for (size_t i = 0; i < map->n_pairs; i++) {
        const struct ydoc_node *k = map->pairs[i].key;
        bool ok = false;
        for (size_t j = 0; j < n && !ok; j++)
            ok = strcmp(k->str, known[j]) == 0;
        if (!ok)
            wfl_check_keys_one(L, k, known, n, where);
    }
}
