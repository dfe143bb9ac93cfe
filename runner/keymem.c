/* keymem: the API key's memory: left out of core dumps, wiped on release, and the process not
 * dumpable while a key is held (see keymem.h). */
#include "keymem.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

struct held {
    char *p;
    size_t n;
};

/* What is held (a key from the command line is one; a test may make a few). Not thread-safe:
 * keys are read and released by the main thread. */
static struct held held[8];
static size_t n_held;
static int dumpable_before = -1; /* the flag before the first allocation */

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

char *keymem_alloc(size_t n)
{
    size_t page = page_size();
    n = n < page ? page : (n + page - 1) / page * page;
    void *p = NULL;
    if (posix_memalign(&p, page, n) != 0 || !p)
        die("out of memory (%zu bytes for the API key)", n);
    memset(p, 0, n);
    /* best effort: a kernel without MADV_DONTDUMP (before 3.4) still gets the rest */
    madvise(p, n, MADV_DONTDUMP);
    if (n_held == 0) {
        dumpable_before = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    if (n_held == sizeof held / sizeof held[0])
        die("more than %zu API keys held at once", n_held);
    held[n_held++] = (struct held){p, n};
    return p;
}

void keymem_free(char *p)
{
    if (!p)
        return;
    size_t n = page_size();
    for (size_t i = 0; i < n_held; i++) {
        if (held[i].p == p) {
            n = held[i].n;
            held[i] = held[--n_held];
            if (n_held == 0 && dumpable_before > 0)
                prctl(PR_SET_DUMPABLE, dumpable_before, 0, 0, 0);
            break;
        }
    }
    explicit_bzero(p, n);
    madvise(p, n, MADV_DODUMP);
    free(p);
}

bool keymem_process_dumpable(void)
{
    return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) > 0;
}
