/* fake_scene.c: finds the scenes a JSON reply must follow: an embedded JSON document holding
 * an array of objects with `id` fields (mirrored; `scenes` first), else the script in the prompt
 * (scene headings, else the paragraphs of the last --- fenced block); plus small text builders. */
#include "fake.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct line {
    const char *p;
    size_t len;
};

/* ---- text helpers ---- */

static char *trim_dup(const char *p, size_t len)
{
    while (len && isspace((unsigned char)*p)) {
        p++;
        len--;
    }
    while (len && isspace((unsigned char)p[len - 1]))
        len--;
    return fk_strndup(p, len);
}

char *fk_first_words(const char *text, int n)
{
    struct fk_buf b = FK_BUF_INIT;
    const char *p = text;
    for (int i = 0; i < n; i++) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        if (b.len)
            fk_buf_addch(&b, ' ');
        fk_buf_add(&b, w, (size_t)(p - w));
    }
    while (b.len && strchr(".,;:!?", b.buf[b.len - 1]))
        fk_buf_setlen(&b, b.len - 1);
    return fk_buf_detach(&b, NULL);
}

char *fk_first_sentence(const char *text, int max_words)
{
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    const char *end = p;
    int words = 0;
    bool in_word = false;
    for (; *end; end++) {
        if (isspace((unsigned char)*end)) {
            in_word = false;
            continue;
        }
        if (!in_word && ++words > max_words)
            break;
        in_word = true;
        if (strchr(".!?", *end) && (!end[1] || isspace((unsigned char)end[1]))) {
            end++;
            return trim_dup(p, (size_t)(end - p));
        }
    }
    char *s = trim_dup(p, (size_t)(end - p));
    if (!*s) {
        free(s);
        return fk_strdup("Nothing happens.");
    }
    size_t n = strlen(s);
    while (n && strchr(",;:", s[n - 1]))
        s[--n] = '\0';
    char *out = fk_printf("%s.", s);
    free(s);
    return out;
}

char *fk_title_case(const char *text)
{
    char *s = fk_strdup(text);
    bool has_lower = false;
    for (char *p = s; *p; p++)
        has_lower = has_lower || islower((unsigned char)*p);
    if (has_lower)
        return s;
    bool start = true;
    for (char *p = s; *p; p++) {
        if (isalpha((unsigned char)*p)) {
            *p = (char)(start ? toupper((unsigned char)*p) : tolower((unsigned char)*p));
            start = false;
        } else {
            start = *p != '\'';
        }
    }
    return s;
}

static int count_words(const char *s)
{
    int n = 0;
    bool in = false;
    for (; *s; s++) {
        bool sp = isspace((unsigned char)*s);
        if (!sp && !in)
            n++;
        in = !sp;
    }
    return n;
}

char *fk_image_prompt(const char *base, const char *style, uint64_t h)
{
    static const char *const shots[] = {"Cinematic wide shot", "Atmospheric medium shot",
                                        "Low-angle establishing shot", "Intimate close-up"};
    static const char *const lens[] = {"35mm lens, shallow depth of field",
                                       "50mm lens, natural perspective",
                                       "24mm wide-angle lens, deep focus"};
    static const char *const light[] = {"soft golden-hour light raking across the scene",
                                        "moody overcast light with gentle shadows",
                                        "warm lamplight against cool blue surroundings"};
    static const char *const palette[] = {"muted teal and amber palette",
                                          "desaturated slate and cream palette",
                                          "rich ochre and deep navy palette"};
    static const char *const filler[] = {"fine film grain",          "balanced composition",
                                         "subtle atmospheric haze",  "realistic textures",
                                         "clear subject separation", "quiet emotional tone"};
    char *subject = fk_first_words(base, 40);
    struct fk_buf b = FK_BUF_INIT;
    fk_buf_addf(&b, "%s: %s. %s, %s, %s. %s.", shots[h % 4], *subject ? subject : "the scene",
                lens[(h >> 8) % 3], light[(h >> 16) % 3], palette[(h >> 24) % 3],
                style && *style ? style : "Painterly cinematic realism with consistent lighting");
    free(subject);
    for (int i = 0; count_words(b.buf) < 40; i++)
        fk_buf_addf(&b, " %c%s.", toupper((unsigned char)filler[i % 6][0]), filler[i % 6] + 1);
    if (count_words(b.buf) > 80) {
        char *cut = fk_first_words(b.buf, 80);
        fk_buf_release(&b);
        fk_buf_adds(&b, cut);
        fk_buf_addch(&b, '.');
        free(cut);
    }
    return fk_buf_detach(&b, NULL);
}

/* ---- scenes from an embedded JSON document ---- */

static bool is_id_array(const cJSON *a)
{
    if (!cJSON_IsArray(a) || !a->child)
        return false;
    for (const cJSON *e = a->child; e; e = e->next) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        if (!cJSON_IsObject(e) || !(cJSON_IsString(id) || cJSON_IsNumber(id)))
            return false;
    }
    return true;
}

static const cJSON *find_id_array(const cJSON *j, int depth)
{
    if (depth > 16)
        return NULL;
    if (is_id_array(j))
        return j;
    for (const cJSON *c = j->child; c; c = c->next) {
        const cJSON *found =
            (cJSON_IsArray(c) || cJSON_IsObject(c)) ? find_id_array(c, depth + 1) : NULL;
        if (found)
            return found;
    }
    return NULL;
}

/* The first string member whose name contains one of `keys` (comma-separated), or NULL. */
static const char *member_like(const cJSON *o, const char *keys)
{
    char *list = fk_strdup(keys), *save = NULL;
    const char *found = NULL;
    for (char *k = strtok_r(list, ",", &save); k && !found; k = strtok_r(NULL, ",", &save))
        for (const cJSON *m = o->child; m && !found; m = m->next)
            if (cJSON_IsString(m) && strcasestr(m->string, k) && *m->valuestring)
                found = m->valuestring;
    free(list);
    return found;
}

static void scene_from_element(const cJSON *e, struct fk_scene *sc)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
    sc->id = cJSON_IsString(id) ? fk_strdup(id->valuestring) : fk_printf("%g", id->valuedouble);
    const char *v = member_like(e, "title,name");
    sc->heading = v ? fk_strdup(v) : NULL;
    v = member_like(e, "narration,text,summary,description,content");
    if (v) {
        sc->text = fk_strdup(v);
    } else {
        struct fk_buf b = FK_BUF_INIT;
        for (const cJSON *m = e->child; m; m = m->next)
            if (cJSON_IsString(m) && strcmp(m->string, "id") != 0)
                fk_buf_addf(&b, "%s%s", b.len ? " " : "", m->valuestring);
        sc->text = fk_buf_detach(&b, NULL);
    }
    v = member_like(e, "visual,image,description,summary");
    sc->visual = fk_strdup(v ? v : sc->text);
    sc->src = cJSON_Duplicate(e, 1);
}

static bool from_embedded_json(const char *text, struct fk_scenes *out)
{
    size_t len = strlen(text);
    int tries = 0;
    for (const char *p = text; *p && tries < 4000; p++) {
        if (*p != '{' && *p != '[')
            continue;
        tries++;
        const char *end = NULL;
        cJSON *doc = fk_json_parse(p, len - (size_t)(p - text), &end);
        if (!doc)
            continue;
        /* an analysis with a cast (characters) and scenes: the scenes are what a reply follows */
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "scenes");
        if (!is_id_array(arr))
            arr = find_id_array(doc, 0);
        if (arr) {
            out->n = (size_t)cJSON_GetArraySize(arr);
            out->v = fk_calloc(out->n, sizeof *out->v);
            size_t i = 0;
            for (const cJSON *e = arr->child; e; e = e->next)
                scene_from_element(e, &out->v[i++]);
            const char *v = fk_get_str(doc, "style");
            out->style = v ? fk_strdup(v) : NULL;
            v = fk_get_str(doc, "title");
            out->title = v ? fk_strdup(v) : NULL;
            out->mirrored = true;
            cJSON_Delete(doc);
            return true;
        }
        cJSON_Delete(doc);
        if (end && end > p)
            p = end - 1;
    }
    return false;
}

/* ---- scenes from a script ---- */

static bool is_fence(const struct line *l)
{
    char *t = trim_dup(l->p, l->len);
    size_t n = strlen(t);
    bool fence = n >= 3 && strspn(t, "-") == n;
    free(t);
    return fence;
}

/* Length of the scene-heading marker that starts the line, or 0 when it is not a heading. */
static size_t marker_len(const struct line *l)
{
    size_t i = 0;
    while (i < l->len && strchr(" \t[*(_", l->p[i]))
        i++;
    const char *p = l->p + i;
    size_t rest = l->len - i;
    if (rest >= 2 && p[0] == '#') {
        size_t k = strspn(p, "#");
        return k < rest && p[k] == ' ' ? i + k : 0;
    }
    if (rest > 5 && strncmp(p, "SCENE", 5) == 0 && !isalpha((unsigned char)p[5]))
        return i + 5;
    if (rest > 6 && strncasecmp(p, "scene ", 6) == 0 && isdigit((unsigned char)p[6]))
        return i + 5;
    if (rest >= 4 && (strncmp(p, "INT.", 4) == 0 || strncmp(p, "EXT.", 4) == 0))
        return i + 4;
    if (rest >= 8 && strncmp(p, "INT/EXT.", 8) == 0)
        return i + 8;
    return 0;
}

static char *heading_title(const struct line *l, size_t mlen)
{
    const char *p = l->p + mlen, *end = l->p + l->len;
    bool numbered = mlen >= 5 && strncasecmp(l->p + mlen - 5, "scene", 5) == 0;
    while (p < end && *p == ' ')
        p++;
    if (numbered)
        while (p < end && (isdigit((unsigned char)*p) || *p == '.'))
            p++;
    /* separators: spaces, -, :, ., ), ], and the UTF-8 dashes U+2013 and U+2014 */
    while (p < end) {
        if (strchr(" \t-:.)]*", *p))
            p++;
        else if (end - p >= 3 && (unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x80 &&
                 ((unsigned char)p[2] == 0x93 || (unsigned char)p[2] == 0x94))
            p += 3;
        else
            break;
    }
    while (end > p && strchr(" \t*]", end[-1]))
        end--;
    if (end <= p)
        return NULL;
    char *raw = fk_strndup(p, (size_t)(end - p));
    char *t = fk_title_case(raw);
    free(raw);
    return t;
}

static char *join_lines(const struct line *v, size_t a, size_t b)
{
    struct fk_buf buf = FK_BUF_INIT;
    for (size_t i = a; i < b; i++) {
        char *t = trim_dup(v[i].p, v[i].len);
        if (*t)
            fk_buf_addf(&buf, "%s%s", buf.len ? " " : "", t);
        free(t);
    }
    return fk_buf_detach(&buf, NULL);
}

static void scene_push(struct fk_scenes *out, char *heading, char *text)
{
    out->v = fk_realloc(out->v, (out->n + 1) * sizeof *out->v);
    struct fk_scene *s = &out->v[out->n++];
    memset(s, 0, sizeof *s);
    s->heading = heading;
    s->text = text;
    s->visual = fk_strdup(text);
}

static bool from_markers(const struct line *v, size_t a, size_t b, struct fk_scenes *out)
{
    size_t first = b;
    for (size_t i = a; i < b && first == b; i++)
        if (marker_len(&v[i]))
            first = i;
    if (first == b)
        return false;
    for (size_t i = a; i < first && !out->title; i++) {
        char *t = trim_dup(v[i].p, v[i].len);
        if (*t && strlen(t) <= 120)
            out->title = t;
        else
            free(t);
    }
    for (size_t i = first; i < b;) {
        size_t m = marker_len(&v[i]), j = i + 1;
        while (j < b && !marker_len(&v[j]))
            j++;
        char *heading = heading_title(&v[i], m);
        char *text = join_lines(v, i + 1, j);
        if (!*text) {
            free(text);
            text = fk_strdup(heading ? heading : "An empty scene.");
        }
        scene_push(out, heading, text);
        i = j;
    }
    return true;
}

static bool is_blank(const struct line *l)
{
    for (size_t i = 0; i < l->len; i++)
        if (!isspace((unsigned char)l->p[i]))
            return false;
    return true;
}

static void from_paragraphs(const struct line *v, size_t a, size_t b, struct fk_scenes *out)
{
    for (size_t i = a; i < b;) {
        while (i < b && is_blank(&v[i]))
            i++;
        size_t j = i;
        while (j < b && !is_blank(&v[j]))
            j++;
        if (j > i)
            scene_push(out, NULL, join_lines(v, i, j));
        i = j;
    }
}

static struct line *split_lines(const char *text, size_t *n)
{
    size_t cap = 16;
    struct line *v = fk_malloc(cap * sizeof *v);
    *n = 0;
    for (const char *p = text;;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (*n == cap) {
            cap *= 2;
            v = fk_realloc(v, cap * sizeof *v);
        }
        v[*n].p = p;
        v[(*n)++].len = len && p[len - 1] == '\r' ? len - 1 : len;
        if (!nl)
            break;
        p = nl + 1;
    }
    return v;
}

void fk_scenes_from_prompt(const char *text, struct fk_scenes *out)
{
    memset(out, 0, sizeof *out);
    if (from_embedded_json(text, out))
        return;
    size_t n, a = 0, b, fences[2] = {0, 0};
    struct line *v = split_lines(text, &n);
    b = n;
    /* The last complete pair of --- lines fences the script. */
    int open = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_fence(&v[i]))
            continue;
        fences[open] = i;
        if (open == 1) {
            a = fences[0] + 1;
            b = fences[1];
        }
        open ^= 1;
    }
    if (!from_markers(v, a, b, out) && (a != 0 || b != n))
        from_markers(v, 0, n, out);
    if (out->n == 0)
        from_paragraphs(v, a, b, out);
    if (out->n == 0)
        scene_push(out, NULL, fk_strdup("An empty scene."));
    free(v);
}

void fk_scenes_release(struct fk_scenes *sc)
{
    for (size_t i = 0; i < sc->n; i++) {
        free(sc->v[i].id);
        free(sc->v[i].heading);
        free(sc->v[i].text);
        free(sc->v[i].visual);
        cJSON_Delete(sc->v[i].src);
    }
    free(sc->v);
    free(sc->title);
    free(sc->style);
    memset(sc, 0, sizeof *sc);
}
