/* test_keymem: the API key in memory (docs/security.md, "The key beyond the process"): its
 * memory is marked MADV_DONTDUMP (VmFlags "dd" in /proc/self/smaps), the process is not
 * dumpable while a key is held and is again once it is released, and a key read with
 * --api-key-file is in the process' memory exactly once (a scan of every readable mapping
 * through /proc/self/mem for a canary key that the test itself only ever holds scrambled). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cli.h"
#include "keymem.h"
#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCRAMBLE 0x5a

/* Whether the mapping holding `p` has VmFlags "dd" (do not dump) in /proc/self/smaps. */
static bool marked_dontdump(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "re");
    assert_non_null(f);
    char line[512];
    bool inside = false, dd = false;
    uintptr_t a = (uintptr_t)p;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) { /* a mapping's first line */
            inside = a >= lo && a < hi;
            continue;
        }
        if (inside && strncmp(line, "VmFlags:", 8) == 0) {
            dd = strstr(line, " dd") != NULL;
            break;
        }
    }
    fclose(f);
    return dd;
}

static void test_keymem_marks_and_dumpable(void **state)
{
    bool before = keymem_process_dumpable();
    char *k = keymem_alloc(KEYMEM_SIZE);
    assert_int_equal((uintptr_t)k % (uintptr_t)sysconf(_SC_PAGESIZE), 0);
    assert_false(keymem_process_dumpable());
    assert_true(marked_dontdump(k));
    char *k2 = keymem_alloc(10); /* a second one: still not dumpable after the first goes */
    keymem_free(k);
    assert_false(keymem_process_dumpable());
    keymem_free(k2);
    assert_int_equal(keymem_process_dumpable(), before);
    keymem_free(NULL);
}

static void test_env_key(void **state)
{
    setenv("GEMINI_API_KEY", "env-key-123", 1);
    struct gf_err err = GF_ERR_INIT;
    char *k = cli_api_key(NULL, &err);
    assert_non_null(k);
    assert_string_equal(k, "env-key-123");
    assert_false(keymem_process_dumpable());
    assert_true(marked_dontdump(k));
    cli_api_key_free(k);
    unsetenv("GEMINI_API_KEY");
}

/* Occurrences of the scrambled `needle` (n bytes) in every readable private mapping. */
static size_t count_in_memory(const unsigned char *scrambled, size_t n)
{
    FILE *maps = fopen("/proc/self/maps", "re");
    int mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    assert_non_null(maps);
    assert_true(mem >= 0);
    size_t hits = 0, chunk = 1 << 20;
    /* its own mapping, skipped by the scan: it holds copies of what was read */
    unsigned char *buf =
        mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(buf != MAP_FAILED);
    char line[512];
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r')
            continue;
        if (strstr(line, "[vvar") || strstr(line, "[vsyscall]") || hi - lo > (1ul << 30) ||
            (lo <= (uintptr_t)buf && (uintptr_t)buf < hi))
            continue; /* not memory, a sanitizer's huge reserved shadow, or the scan's buffer */
        for (unsigned long at = lo; at < hi; at += chunk) {
            size_t want = hi - at < chunk ? hi - at : chunk;
            ssize_t got = pread(mem, buf, want, (off_t)at);
            if (got <= 0)
                continue;
            for (ssize_t i = 0; i + (ssize_t)n <= got; i++) {
                size_t j = 0;
                while (j < n && (buf[i + j] ^ SCRAMBLE) == scrambled[j])
                    j++;
                hits += j == n;
            }
        }
    }
    explicit_bzero(buf, chunk);
    munmap(buf, chunk);
    close(mem);
    fclose(maps);
    return hits;
}

static void test_key_file_once_in_memory(void **state)
{
    /* a random canary, only ever held scrambled (so the scan does not find the test's copy) */
    unsigned char scrambled[40];
    int rnd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    assert_true(rnd >= 0);
    assert_int_equal(read(rnd, scrambled, sizeof scrambled), (ssize_t)sizeof scrambled);
    close(rnd);
    for (size_t i = 0; i < sizeof scrambled; i++)
        scrambled[i] = (unsigned char)(('A' + scrambled[i] % 26) ^ SCRAMBLE);
    char path[] = "/tmp/gemflow-test-keymem.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, 0600), 0);
    for (size_t i = 0; i < sizeof scrambled; i++) { /* one byte at a time: no whole copy */
        unsigned char c = scrambled[i] ^ SCRAMBLE;
        assert_int_equal(write(fd, &c, 1), 1);
        c = 0;
    }
    assert_int_equal(write(fd, "\nsecond line\n", 13), 13);
    close(fd);
    assert_int_equal(count_in_memory(scrambled, sizeof scrambled), 0);

    struct gf_err err = GF_ERR_INIT;
    char *k = cli_api_key(path, &err);
    if (!k)
        fail_msg("%s", err.msg);
    assert_int_equal(strlen(k), sizeof scrambled);
    assert_int_equal(count_in_memory(scrambled, sizeof scrambled), 1);
    assert_true(marked_dontdump(k));
    cli_api_key_free(k);
    assert_int_equal(count_in_memory(scrambled, sizeof scrambled), 0);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keymem_marks_and_dumpable),
        cmocka_unit_test(test_env_key),
        cmocka_unit_test(test_key_file_once_in_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
