/* fuzz: what the fuzz targets share: the libFuzzer entry point they define, and an invariant
 * check that aborts (so libFuzzer and the replay driver report it) when a contract is broken. */
#ifndef GF_FUZZ_H
#define GF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken contract is a finding like a crash: print it and abort. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A copy of the input without a terminating NUL after it, so that reading past `size` is
 * caught by AddressSanitizer rather than stopped by a terminator (caller frees). */
static inline char *fuzz_copy(const uint8_t *data, size_t size)
{
    char *p = malloc(size ? size : 1);
    if (!p)
        abort();
    for (size_t i = 0; i < size; i++)
        p[i] = (char)data[i];
    return p;
}

#endif
