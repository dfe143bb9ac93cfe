/* fake_schema.c: builds a JSON document that conforms to a response schema (JSON Schema for
 * responseJsonSchema, or the OpenAPI subset with uppercase types for responseSchema), with the
 * scene array following the input; and breaks one on purpose for the schema-break fault. */
#include "fake.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gen {
    const cJSON *root;
    const struct fk_scenes *sc;
    uint64_t h;
    int array_len;
    int depth;
    int cast_n;   /* members of the cast (a top-level `characters` list), 0 when none */
    bool in_cast; /* generating a cast member: idx is its index */
};

/* ---- the cast: a top-level `characters` (or `cast`) list of objects, and the scenes' lists of
 * their ids. Fixed names, so a test knows them; scene i (0-based) shows member j when bit j of
 * (i + 1) mod 2^n is set: with 3 members, s01 {elias}, s02 {mara}, s03 {elias, mara}, s04
 * {tomas}, ... s07 all three, s08 none, then again. ---- */

#define FK_CAST_MAX 3

static const struct {
    const char *id, *name, *look;
} cast[FK_CAST_MAX] = {
    {"elias", "Elias",
     "A weathered man in his sixties, close-cropped white beard, grey eyes, navy "
     "wool sweater and oilskin coat"},
    {"mara", "Mara",
     "A woman in her thirties, dark curly hair tied back, freckles, yellow "
     "fisherman's jacket over a green jumper"},
    {"tomas", "Tomas",
     "A lanky boy of about twelve, tousled red hair, too-large rubber boots, a "
     "striped scarf"},
};

static bool is_cast_name(const char *name)
{
    return name && (strcmp(name, "characters") == 0 || strcmp(name, "cast") == 0);
}

/* ---- schema navigation ---- */

static const cJSON *pointer(const cJSON *root, const char *ref)
{
    if (strcmp(ref, "#") == 0)
        return root;
    if (strncmp(ref, "#/", 2) != 0)
        return NULL;
    char *copy = fk_strdup(ref + 2), *save = NULL;
    const cJSON *cur = root;
    for (char *tok = strtok_r(copy, "/", &save); tok && cur; tok = strtok_r(NULL, "/", &save)) {
        char *w = tok;
        for (char *r = tok; *r; r++) { /* JSON Pointer escapes: ~1 is '/', ~0 is '~' */
            if (r[0] == '~' && (r[1] == '0' || r[1] == '1')) {
                *w++ = r[1] == '1' ? '/' : '~';
                r++;
            } else {
                *w++ = *r;
            }
        }
        *w = '\0';
        cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
    }
    free(copy);
    return cur;
}

/* Follow $ref and take the first non-null alternative of anyOf/oneOf. */
static const cJSON *resolve(const struct gen *g, const cJSON *s)
{
    for (int hops = 0; s && hops < 8; hops++) {
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(s, "$ref");
        const cJSON *alts = cJSON_GetObjectItemCaseSensitive(s, "anyOf");
        if (!alts)
            alts = cJSON_GetObjectItemCaseSensitive(s, "oneOf");
        if (cJSON_IsString(ref)) {
            s = pointer(g->root, ref->valuestring);
        } else if (cJSON_IsArray(alts) && alts->child) {
            const cJSON *pick = alts->child;
            for (const cJSON *a = alts->child; a; a = a->next) {
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "type");
                if (!(cJSON_IsString(t) && fk_streq_ci(t->valuestring, "null"))) {
                    pick = a;
                    break;
                }
            }
            s = pick;
        } else {
            return s;
        }
    }
    return s;
}

/* The schema's type in lowercase ("object", "array", ...), inferred when absent. */
static const char *type_of(const cJSON *s)
{
    static const char *const known[] = {"object", "array",   "string", "integer",
                                        "number", "boolean", "null",   NULL};
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "type");
    const char *name = NULL;
    if (cJSON_IsString(t))
        name = t->valuestring;
    else if (cJSON_IsArray(t))
        for (const cJSON *e = t->child; e && !name; e = e->next)
            if (cJSON_IsString(e) && !fk_streq_ci(e->valuestring, "null"))
                name = e->valuestring;
    if (name)
        for (int i = 0; known[i]; i++)
            if (fk_streq_ci(name, known[i]))
                return known[i];
    if (cJSON_GetObjectItemCaseSensitive(s, "properties"))
        return "object";
    if (cJSON_GetObjectItemCaseSensitive(s, "items") ||
        cJSON_GetObjectItemCaseSensitive(s, "prefixItems"))
        return "array";
    return "string";
}

static double num_or(const cJSON *s, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, key);
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsString(v)) /* the OpenAPI subset writes int64 limits as strings */
        return strtod(v->valuestring, NULL);
    return dflt;
}

/* ---- strings ---- */

static bool name_has(const char *name, const char *needle)
{
    return name && strcasestr(name, needle) != NULL;
}

static bool is_id_name(const char *name)
{
    if (!name)
        return false;
    size_t n = strlen(name);
    return strcmp(name, "id") == 0 || (n > 3 && strcmp(name + n - 3, "_id") == 0) ||
           (n > 2 && strcmp(name + n - 2, "Id") == 0);
}

/* "visual_description" -> "Visual description" */
static char *field_words(const char *name)
{
    struct fk_buf b = FK_BUF_INIT;
    for (const char *p = name ? name : "value"; *p; p++) {
        if (*p == '_' || *p == '-')
            fk_buf_addch(&b, ' ');
        else if (isupper((unsigned char)*p) && b.len)
            fk_buf_addf(&b, " %c", tolower((unsigned char)*p));
        else
            fk_buf_addch(&b, *p);
    }
    if (b.len)
        b.buf[0] = (char)toupper((unsigned char)b.buf[0]);
    return fk_buf_detach(&b, NULL);
}

static char *all_text(const struct fk_scenes *sc)
{
    struct fk_buf b = FK_BUF_INIT;
    for (size_t i = 0; i < sc->n; i++)
        fk_buf_addf(&b, "%s%s", b.len ? " " : "", sc->v[i].text);
    return fk_buf_detach(&b, NULL);
}

static char *string_for(const struct gen *g, const char *name, int idx)
{
    const struct fk_scene *s = idx >= 0 && (size_t)idx < g->sc->n ? &g->sc->v[idx] : NULL;
    const struct fk_scene *s0 = &g->sc->v[0];
    uint64_t h = fk_mix3(g->h, (uint64_t)(idx + 1), 7);
    if (g->in_cast && idx >= 0 && idx < FK_CAST_MAX) {
        if (is_id_name(name))
            return fk_strdup(cast[idx].id);
        if (name && (strcmp(name, "name") == 0 || name_has(name, "title")))
            return fk_strdup(cast[idx].name);
        if (name_has(name, "look") || name_has(name, "appearance") || name_has(name, "descr")) {
            /* the story's title (else the prompt's hash) in it: two scripts never ask for the
             * same portrait */
            if (g->sc->title)
                return fk_printf("%s; as seen in \"%s\"", cast[idx].look, g->sc->title);
            return fk_printf("%s; story %08llx", cast[idx].look,
                             (unsigned long long)(g->h & 0xffffffffu));
        }
        char *words = field_words(name);
        char *out = fk_printf("%s of %s.", words, cast[idx].name);
        free(words);
        return out;
    }
    if (is_id_name(name))
        return s && s->id ? fk_strdup(s->id)
               : idx >= 0 ? fk_printf("s%02d", idx + 1)
                          : fk_printf("fake-%08llx", (unsigned long long)(h & 0xffffffffu));
    if (name_has(name, "narration"))
        return s ? fk_strdup(s->text) : idx < 0 ? all_text(g->sc) : fk_strdup(s0->text);
    if (name_has(name, "prompt")) {
        const struct fk_scene *base = s ? s : s0;
        char *first = fk_first_sentence(base->text, 30);
        const char *visual = base->visual, *colon = strstr(visual, ": ");
        if (colon && colon - visual < 48 && strcasestr(visual, " scene ")) /* our own label */
            visual = colon + 2;
        char *a = fk_first_words(first, 5), *b = fk_first_words(visual, 5);
        bool same = strcmp(base->visual, base->text) == 0 || strcmp(a, b) == 0;
        char *what = same ? fk_strdup(base->text) : fk_printf("%s %s", first, visual);
        free(a);
        free(b);
        char *out = fk_image_prompt(what, g->sc->style, h);
        free(first);
        free(what);
        return out;
    }
    if (name && strcasecmp(name, "title") == 0) {
        if (s)
            return s->heading ? fk_strdup(s->heading) : fk_first_words(s->text, 5);
        return idx < 0 && g->sc->title ? fk_strdup(g->sc->title) : fk_strdup("The Quiet Hours");
    }
    if (name_has(name, "summary"))
        return fk_first_sentence(s ? s->text : s0->text, 25);
    if (name_has(name, "logline")) {
        char *first = fk_first_sentence(s0->text, 20);
        char *out = fk_printf("A short film in %zu scenes. %s", g->sc->n, first);
        free(first);
        return out;
    }
    if (name_has(name, "style"))
        return g->sc->style ? fk_strdup(g->sc->style)
                            : fk_strdup("Painterly cinematic realism, muted coastal palette, soft "
                                        "volumetric light, 35mm film grain");
    char *words = field_words(name);
    char *gist = fk_first_words(s ? s->visual : s0->text, 10);
    char *out = idx >= 0 ? fk_printf("%s for scene %d: %s.", words, idx + 1, gist)
                         : fk_printf("%s: %s.", words, gist);
    free(words);
    free(gist);
    return out;
}

static cJSON *string_value(const struct gen *g, const cJSON *s, const char *name, int idx)
{
    const char *fmt = fk_get_str(s, "format");
    char *text;
    if (fmt && strcmp(fmt, "date-time") == 0)
        text = fk_printf("2026-01-%02dT09:00:00Z", idx < 0 ? 1 : idx % 28 + 1);
    else if (fmt && strcmp(fmt, "date") == 0)
        text = fk_printf("2026-01-%02d", idx < 0 ? 1 : idx % 28 + 1);
    else if (fmt && (strcmp(fmt, "uri") == 0 || strcmp(fmt, "url") == 0))
        text = fk_printf("https://example.com/%s/%d", name ? name : "item", idx + 1);
    else
        text = string_for(g, name, idx);
    double maxlen = num_or(s, "maxLength", -1), minlen = num_or(s, "minLength", 0);
    size_t len = strlen(text);
    if (maxlen >= 0 && fk_utf8_chars(text, len) > (size_t)maxlen)
        text[fk_utf8_prefix(text, len, (size_t)maxlen)] = '\0';
    struct fk_buf b = FK_BUF_INIT;
    fk_buf_adds(&b, text);
    free(text);
    while (fk_utf8_chars(b.buf, b.len) < (size_t)minlen)
        fk_buf_addch(&b, '.');
    cJSON *v = cJSON_CreateString(b.buf);
    fk_buf_release(&b);
    return v;
}

static cJSON *number_value(const struct gen *g, const cJSON *s, const char *name, int idx,
                           bool integer)
{
    const struct fk_scene *sc = idx >= 0 && (size_t)idx < g->sc->n ? &g->sc->v[idx] : NULL;
    double v;
    if (name_has(name, "index") || name_has(name, "number") || name_has(name, "order") ||
        name_has(name, "scene") || name_has(name, "position"))
        v = idx < 0 ? 1 : idx + 1;
    else if (name_has(name, "duration") || name_has(name, "second"))
        v = round(0.4 + 0.06 * (double)strlen(sc ? sc->text : g->sc->v[0].text));
    else if (name_has(name, "year"))
        v = 2026;
    else
        v = (double)(1 + (fk_mix3(g->h, (uint64_t)(idx + 2), 3) % 9)) + (integer ? 0 : 0.5);
    double lo = num_or(s, "minimum", -INFINITY), hi = num_or(s, "maximum", INFINITY);
    if (v < lo)
        v = integer ? ceil(lo) : lo;
    if (v > hi)
        v = integer ? floor(hi) : hi;
    return cJSON_CreateNumber(v);
}

/* ---- the walk ---- */

static cJSON *gen_value(struct gen *g, const cJSON *schema, const char *name, int idx);

static cJSON *gen_object(struct gen *g, const cJSON *s, int idx)
{
    cJSON *obj = cJSON_CreateObject();
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
    const cJSON *order = fk_get(s, "propertyOrdering");
    if (cJSON_IsArray(order)) /* OpenAPI subset: listed properties come first, in this order */
        for (const cJSON *o = order->child; o; o = o->next) {
            const cJSON *p =
                cJSON_IsString(o) ? cJSON_GetObjectItemCaseSensitive(props, o->valuestring) : NULL;
            if (p)
                cJSON_AddItemToObject(obj, o->valuestring, gen_value(g, p, o->valuestring, idx));
        }
    for (const cJSON *p = props ? props->child : NULL; p; p = p->next)
        if (!cJSON_GetObjectItemCaseSensitive(obj, p->string))
            cJSON_AddItemToObject(obj, p->string, gen_value(g, p, p->string, idx));
    return obj;
}

static cJSON *gen_array(struct gen *g, const cJSON *s, const char *name, int idx)
{
    cJSON *arr = cJSON_CreateArray();
    const cJSON *items = resolve(g, cJSON_GetObjectItemCaseSensitive(s, "items"));
    const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(s, "prefixItems");
    int done = 0;
    for (const cJSON *p = cJSON_IsArray(prefix) ? prefix->child : NULL; p; p = p->next, done++)
        cJSON_AddItemToArray(arr, gen_value(g, p, name, idx));
    if (idx < 0 && g->depth == 2 && is_cast_name(name) && items &&
        strcmp(type_of(items), "object") == 0) { /* the cast */
        g->in_cast = true;
        for (int i = done; i < g->cast_n; i++)
            cJSON_AddItemToArray(arr, gen_value(g, items, name, i));
        g->in_cast = false;
        return arr;
    }
    const struct fk_scene *el = idx >= 0 && (size_t)idx < g->sc->n ? &g->sc->v[idx] : NULL;
    const cJSON *same = el && name ? cJSON_GetObjectItemCaseSensitive(el->src, name) : NULL;
    if (!done && cJSON_IsArray(same) && items && strcmp(type_of(items), "string") == 0) {
        cJSON_Delete(arr); /* a mirrored element's list of strings: copied as it came */
        return cJSON_Duplicate(same, 1);
    }
    if (!done && el && is_cast_name(name) && g->cast_n > 0 && items &&
        strcmp(type_of(items), "string") == 0) { /* the ids of the cast in this scene */
        unsigned mask = (unsigned)(idx + 1) % (1u << g->cast_n);
        for (int j = 0; j < g->cast_n; j++)
            if (mask & (1u << j))
                cJSON_AddItemToArray(arr, cJSON_CreateString(cast[j].id));
        return arr;
    }
    /* The outermost arrays of objects (and a root array) follow the scenes of the input. */
    bool scenes = idx < 0 && (g->depth == 1 || (items && strcmp(type_of(items), "object") == 0));
    double lo = num_or(s, "minItems", 0), hi = num_or(s, "maxItems", FK_MAX_SCENES);
    double n = scenes ? (double)g->sc->n : 2;
    if (n < lo)
        n = lo;
    if (n > hi)
        n = hi;
    if (scenes && n > FK_MAX_SCENES)
        n = FK_MAX_SCENES;
    if (scenes && n < 1)
        n = 1;
    if (scenes && g->array_len < 0)
        g->array_len = (int)n;
    for (int i = done; items && i < (int)n; i++)
        cJSON_AddItemToArray(arr, gen_value(g, items, name, scenes ? i : idx));
    return arr;
}

static cJSON *gen_value(struct gen *g, const cJSON *schema, const char *name, int idx)
{
    const cJSON *s = resolve(g, schema);
    if (!cJSON_IsObject(s) || g->depth > 24)
        return cJSON_CreateNull();
    g->depth++;
    cJSON *v;
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(s, "enum");
    const cJSON *cst = cJSON_GetObjectItemCaseSensitive(s, "const");
    const char *t = type_of(s);
    if (cJSON_IsArray(en) && en->child) /* rotate through the values by element index */
        v = cJSON_Duplicate(cJSON_GetArrayItem(en, (idx < 0 ? 0 : idx) % cJSON_GetArraySize(en)),
                            1);
    else if (cst)
        v = cJSON_Duplicate(cst, 1);
    else if (strcmp(t, "object") == 0)
        v = gen_object(g, s, idx);
    else if (strcmp(t, "array") == 0)
        v = gen_array(g, s, name, idx);
    else if (strcmp(t, "integer") == 0 || strcmp(t, "number") == 0)
        v = number_value(g, s, name, idx, t[0] == 'i');
    else if (strcmp(t, "boolean") == 0)
        v = cJSON_CreateBool(idx < 0 || idx % 2 == 0);
    else if (strcmp(t, "null") == 0)
        v = cJSON_CreateNull();
    else
        v = string_value(g, s, name, idx);
    g->depth--;
    return v;
}

cJSON *fk_schema_generate(const cJSON *schema, const struct fk_scenes *sc, uint64_t h,
                          int *array_len)
{
    struct gen g = {.root = schema, .sc = sc, .h = h, .array_len = -1, .depth = 0};
    const cJSON *root = resolve(&g, schema),
                *props = cJSON_GetObjectItemCaseSensitive(root, "properties");
    for (const cJSON *p = props ? props->child : NULL; p; p = p->next) {
        const cJSON *ps = resolve(&g, p);
        const cJSON *items = resolve(&g, cJSON_GetObjectItemCaseSensitive(ps, "items"));
        if (!is_cast_name(p->string) || !items || strcmp(type_of(items), "object") != 0)
            continue;
        double n = sc->n < FK_CAST_MAX ? (double)sc->n : FK_CAST_MAX;
        double lo = num_or(ps, "minItems", 0), hi = num_or(ps, "maxItems", FK_CAST_MAX);
        n = n < lo ? lo : n;
        n = n > hi ? hi : n;
        g.cast_n = n > FK_CAST_MAX ? FK_CAST_MAX : n < 0 ? 0 : (int)n;
    }
    cJSON *doc = gen_value(&g, schema, NULL, -1);
    *array_len = g.array_len;
    return doc;
}

/* ---- schema-break: drop the last required property of the deepest first object ---- */

static bool break_walk(const struct gen *g, cJSON *doc, const cJSON *schema, int depth)
{
    const cJSON *s = resolve(g, schema);
    if (!cJSON_IsObject(s) || depth > 24)
        return false;
    if (cJSON_IsArray(doc)) {
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
        return doc->child && break_walk(g, doc->child, items, depth + 1);
    }
    if (!cJSON_IsObject(doc))
        return false;
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
    for (cJSON *c = doc->child; c; c = c->next)
        if ((cJSON_IsObject(c) || cJSON_IsArray(c)) &&
            break_walk(g, c, cJSON_GetObjectItemCaseSensitive(props, c->string), depth + 1))
            return true;
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required");
    for (int i = cJSON_GetArraySize(req) - 1; i >= 0; i--) {
        const cJSON *k = cJSON_GetArrayItem(req, i);
        if (cJSON_IsString(k) && cJSON_GetObjectItemCaseSensitive(doc, k->valuestring)) {
            cJSON_DeleteItemFromObjectCaseSensitive(doc, k->valuestring);
            return true;
        }
    }
    return false;
}

bool fk_schema_break(cJSON *doc, const cJSON *schema)
{
    struct gen g = {.root = schema};
    return break_walk(&g, doc, schema, 0);
}
