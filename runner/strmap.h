/* strmap: a small string-keyed hash map (open addressing) for items, models and paths. */
#ifndef GF_STRMAP_H
#define GF_STRMAP_H

#include <stddef.h>

struct strmap {
    struct strmap_slot {
        char *key; /* owned copy; NULL = empty slot */
        void *val; /* borrowed */
    } * slots;
    size_t n, cap;
};

#define STRMAP_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Set key -> val; returns the previous value or NULL. */
void *strmap_put(struct strmap *m, const char *key, void *val);
void *strmap_get(const struct strmap *m, const char *key);
/* Call fn on every value (order unspecified), e.g. free. */
void strmap_each(struct strmap *m, void (*fn)(void *val, void *ctx), void *ctx);
/* Free the keys and the table, not the values. */
void strmap_release(struct strmap *m);

#endif
