/* keymem: memory for the API key, the one secret gemflow holds. The key lives in its own
 * page-aligned allocation marked MADV_DONTDUMP (never in a core dump) and is wiped when
 * released; from the first allocation on the process is not dumpable (PR_SET_DUMPABLE 0: no
 * core file, and other processes of the same user can neither ptrace it nor read its memory
 * or environment under /proc), until the last allocation is released.
 *
 * Calling sequence:
 *   char *key = keymem_alloc(KEYMEM_SIZE);   // zeroed; write the key into it, NUL-terminated
 *   ... use key ...
 *   keymem_free(key);                        // wiped, then freed
 * A pointer from keymem_alloc may also be wiped and passed to free() (the allocation is
 * malloc's); it then stays marked, which is harmless, and the process stays non-dumpable. */
#ifndef GF_KEYMEM_H
#define GF_KEYMEM_H

#include <stdbool.h>
#include <stddef.h>

#define KEYMEM_SIZE 4096 /* one page: a key (or a key file's contents) fits */

/* `n` zeroed bytes (at least one page, page-aligned), marked MADV_DONTDUMP; dies when out of
 * memory. The process is made non-dumpable. */
char *keymem_alloc(size_t n);
/* Wipe (explicit_bzero) and free; NULL is a no-op. The last one restores dumpability. */
void keymem_free(char *p);
/* Whether the process is dumpable now (prctl PR_GET_DUMPABLE), for tests and diagnostics. */
bool keymem_process_dumpable(void);

#endif
