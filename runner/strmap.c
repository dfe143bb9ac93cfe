/* strmap: open-addressing hash map from strings to borrowed pointers (FNV-1a, linear probing). */
#include "strmap.h"
#include "util.h"

#include <string.h>

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static struct strmap_slot *find(const struct strmap *m, const char *key)
{
    size_t i = hash(key) & (m->cap - 1);
    while (m->slots[i].key && strcmp(m->slots[i].key, key) != 0)
        i = (i + 1) & (m->cap - 1);
    return &m->slots[i];
}

static void rehash(struct strmap *m, size_t cap)
{
    struct strmap old = *m;
    m->slots = xcalloc(cap, sizeof *m->slots);
    m->cap = cap;
    for (size_t i = 0; i < old.cap; i++) {
        if (old.slots[i].key)
            *find(m, old.slots[i].key) = old.slots[i];
    }
    free(old.slots);
}

void *strmap_put(struct strmap *m, const char *key, void *val)
{
    if ((m->n + 1) * 4 >= m->cap * 3)
        rehash(m, m->cap ? m->cap * 2 : 16);
    struct strmap_slot *s = find(m, key);
    if (s->key) {
        void *prev = s->val;
        s->val = val;
        return prev;
    }
    s->key = xstrdup(key);
    s->val = val;
    m->n++;
    return NULL;
}

void *strmap_get(const struct strmap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    struct strmap_slot *s = find(m, key);
    return s->key ? s->val : NULL;
}

void strmap_each(struct strmap *m, void (*fn)(void *val, void *ctx), void *ctx)
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key)
            fn(m->slots[i].val, ctx);
    }
}

void strmap_release(struct strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    m->slots = NULL;
    m->n = m->cap = 0;
}
