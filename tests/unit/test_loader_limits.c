/* test_loader_limits: the workflow loader on generated worst-case documents, at each limit and
 * one past it (docs/security.md, "A hostile workflow costs time in proportion to its size").
 * Each case asserts what the loader said (loaded, or the limit's file:line:column error), and
 * prints how long it took per input byte: a timing probe to read, never an assertion (the
 * per-byte bound is enforced by the workflow fuzz target, tests/fuzz/README.md). Before the
 * limits, 40,000 keys in one mapping took seconds (duplicate detection was O(n^2)). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "buf.h"
#include "template.h"
#include "util.h"
#include "workflow.h"
#include "workflow_int.h"
#include "schema.h"
#include "ydoc.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/gemflow-test-limits.XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    return 0;
}

static char *write_file(const char *name, const struct buf *b)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(b->data, 1, b->len, f), b->len);
    fclose(f);
    return path;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Load `doc` (plus `extra` bytes of other files it reads) as workflow.yaml, print the time per
 * byte, and return the diagnostics (caller releases). */
static int probe(const char *what, const struct buf *doc, size_t extra, struct diag_list *dl)
{
    char *path = write_file("workflow.yaml", doc);
    struct workflow wf;
    int64_t t0 = now_ns();
    int rc = workflow_load_file(&wf, path, NULL, dl);
    int64_t ns = now_ns() - t0;
    size_t bytes = doc->len + extra;
    print_message("probe %-44s %9zu bytes %8.1f ms %8.1f ns/byte %6zu diagnostics\n", what, bytes,
                  (double)ns / 1e6, (double)ns / (double)(bytes ? bytes : 1), dl->n);
    if (rc == 0)
        workflow_release(&wf);
    free(path);
    return rc;
}

/* The diagnostic list holds `msg` (a substring) at line:col (0: any). */
static void assert_diag(const struct diag_list *dl, int line, int col, const char *msg)
{
    for (size_t i = 0; i < dl->n; i++) {
        if (strstr(dl->v[i].msg, msg) && (!line || dl->v[i].line == line) &&
            (!col || dl->v[i].col == col))
            return;
    }
    for (size_t i = 0; i < dl->n && i < 5; i++) {
        char *s = diag_format(&dl->v[i]);
        print_message("got: %s\n", s);
        free(s);
    }
    fail_msg("no diagnostic %d:%d: %s", line, col, msg);
}

static void head(struct buf *b)
{
    buf_adds(b, "version: 1\ndefaults:\n  model: gemini-3.5-flash\n");
}

static void text_stage(struct buf *b, const char *name, const char *prompt)
{
    buf_addf(b, "  %s:\n    kind: text\n    prompt: %s\n    output: %s.txt\n", name, prompt, name);
}

/* keys in one mapping: 1000 load (unknown ones, each a diagnostic), 1001 stop at the 1001st */
static void test_keys_per_mapping(void **state)
{
    for (int n = YDOC_MAX_KEYS; n <= YDOC_MAX_KEYS + 1; n++) {
        struct buf b = BUF_INIT;
        head(&b);
        buf_adds(&b, "stages:\n");
        text_stage(&b, "a", "hello");
        buf_adds(&b, "inputs:\n");
        for (int i = 1; i < n; i++)
            buf_addf(&b, "  input%d: in%d.txt\n", i, i);
        buf_adds(&b, "  last: last.txt\n");
        struct diag_list dl = DIAG_LIST_INIT;
        char what[64];
        snprintf(what, sizeof what, "%d keys in one mapping", n);
        assert_int_equal(probe(what, &b, 0, &dl), -1);
        if (n > YDOC_MAX_KEYS) /* the key past the limit: the first is on line 10 */
            assert_diag(&dl, 10 + n - 1, 3, "too many keys in one mapping (more than 1000");
        else
            assert_diag(&dl, 0, 0, "too many inputs (more than 64)");
        diag_list_release(&dl);
        buf_release(&b);
    }
    /* the case of the report: 40,000 keys, and 40,000 duplicates of one key */
    struct buf b = BUF_INIT, d = BUF_INIT;
    head(&b);
    buf_adds(&b, "junk:\n");
    for (int i = 0; i < 40000; i++)
        buf_addf(&b, "  k%d: v\n", i);
    head(&d);
    buf_adds(&d, "junk:\n");
    for (int i = 0; i < 40000; i++)
        buf_adds(&d, "  k: v\n");
    struct diag_list dl = DIAG_LIST_INIT;
    assert_int_equal(probe("40,000 keys in one mapping", &b, 0, &dl), -1);
    assert_diag(&dl, 0, 3, "too many keys in one mapping");
    diag_list_release(&dl);
    assert_int_equal(probe("40,000 duplicates of one key", &d, 0, &dl), -1);
    assert_diag(&dl, 6, 3, "duplicate key 'k'");
    assert_diag(&dl, 0, 3, "too many keys in one mapping");
    assert_true(dl.n <= YDOC_MAX_KEYS + 2);
    diag_list_release(&dl);
    buf_release(&b);
    buf_release(&d);
}

/* values in the document, in a flow list and in block lists */
static void test_nodes(void **state)
{
    for (int extra = 0; extra <= 1; extra++) {
        struct buf b = BUF_INIT;
        head(&b); /* 7 nodes (with the document's mapping) */
        buf_adds(&b, "stages:\n");
        text_stage(&b, "a", "hello"); /* 10 nodes */
        buf_adds(&b, "name: [");      /* 2 nodes, then the items */
        int items = YDOC_MAX_NODES - 19 + extra;
        for (int i = 0; i < items; i++)
            buf_addf(&b, "%sx", i ? ", " : "");
        buf_adds(&b, "]\n");
        struct diag_list dl = DIAG_LIST_INIT;
        assert_int_equal(probe(extra ? "20,001 values" : "20,000 values", &b, 0, &dl), -1);
        if (extra)
            assert_diag(&dl, 9, 0, "the document has too many values (more than 20000");
        else
            assert_diag(&dl, 9, 7, "'name' must be a string");
        diag_list_release(&dl);
        buf_release(&b);
    }
}

static void test_depth(void **state)
{
    for (int depth = YDOC_MAX_DEPTH; depth <= YDOC_MAX_DEPTH + 1; depth++) {
        struct buf b = BUF_INIT;
        head(&b);
        buf_adds(&b, "stages:\n");
        text_stage(&b, "a", "hello");
        buf_adds(&b, "name: ");
        for (int i = 1; i < depth; i++) /* the document itself is the first level */
            buf_addc(&b, '[');
        for (int i = 1; i < depth; i++)
            buf_addc(&b, ']');
        buf_addc(&b, '\n');
        struct diag_list dl = DIAG_LIST_INIT;
        char what[64];
        snprintf(what, sizeof what, "%d levels deep", depth);
        assert_int_equal(probe(what, &b, 0, &dl), -1);
        if (depth > YDOC_MAX_DEPTH)
            assert_diag(&dl, 9, 6 + depth - 1, "nested too deep (more than 64 levels)");
        else
            assert_diag(&dl, 9, 7, "'name' must be a string");
        diag_list_release(&dl);
        buf_release(&b);
    }
}

/* the document's size: 1 MiB loads (a long comment), a byte more does not */
static void test_document_size(void **state)
{
    for (size_t extra = 0; extra <= 1; extra++) {
        struct buf b = BUF_INIT;
        head(&b);
        buf_adds(&b, "stages:\n");
        text_stage(&b, "a", "hello");
        while (b.len + 80 < YDOC_MAX_BYTES)
            buf_adds(&b,
                     "# .......................................................................\n");
        buf_addc(&b, '#');
        while (b.len < YDOC_MAX_BYTES - 1 + extra)
            buf_addc(&b, '.');
        buf_addc(&b, '\n');
        struct diag_list dl = DIAG_LIST_INIT;
        int rc = probe(extra ? "1 MiB + 1 byte" : "1 MiB of comments", &b, 0, &dl);
        if (extra) {
            assert_int_equal(rc, -1);
            assert_diag(&dl, 1, 1, "the workflow is too large (more than 1048576 bytes");
        } else {
            assert_int_equal(rc, 0);
        }
        diag_list_release(&dl);
        buf_release(&b);
    }
}

/* stages: 64 stages that all need each other in a chain load; 65 stop at the 65th */
static void test_stages(void **state)
{
    for (int n = WF_MAX_STAGES; n <= WF_MAX_STAGES + 1; n++) {
        struct buf b = BUF_INIT;
        head(&b);
        buf_adds(&b, "inputs:\n  script: script.txt\nstages:\n");
        for (int i = 0; i < n; i++) {
            char prompt[64];
            if (i)
                snprintf(prompt, sizeof prompt, "\"{{s%d}} {{script}}\"", i - 1);
            else
                snprintf(prompt, sizeof prompt, "\"{{script}}\"");
            char name[16];
            snprintf(name, sizeof name, "s%d", i);
            text_stage(&b, name, prompt);
        }
        struct diag_list dl = DIAG_LIST_INIT;
        char what[64];
        snprintf(what, sizeof what, "%d stages in a chain", n);
        int rc = probe(what, &b, 0, &dl);
        if (n > WF_MAX_STAGES) {
            assert_int_equal(rc, -1);
            assert_diag(&dl, 7 + 4 * WF_MAX_STAGES, 3, "too many stages (more than 64");
        } else {
            assert_int_equal(rc, 0);
        }
        diag_list_release(&dl);
        buf_release(&b);
    }
}

/* templates: 1000 references at the end of a 16 MiB prompt file load; 1001 do not */
static void test_template_refs(void **state)
{
    for (int n = TMPL_MAX_REFS; n <= TMPL_MAX_REFS + 1; n++) {
        struct buf p = BUF_INIT;
        while (p.len < WF_FILE_MAX - 64 * 1024)
            buf_adds(&p, "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do.\n");
        for (int i = 0; i < n; i++)
            buf_adds(&p, "{{script}}\n");
        free(write_file("big.md", &p));
        struct buf b = BUF_INIT;
        head(&b);
        buf_adds(&b, "inputs:\n  script: script.txt\nstages:\n");
        text_stage(&b, "a", "big.md");
        struct diag_list dl = DIAG_LIST_INIT;
        char what[64];
        snprintf(what, sizeof what, "16 MiB prompt, %d references", n);
        int rc = probe(what, &b, p.len, &dl);
        if (n > TMPL_MAX_REFS) {
            assert_int_equal(rc, -1);
            assert_diag(&dl, 0, 1, "too many references in one template (more than 1000");
        } else {
            assert_int_equal(rc, 0);
        }
        diag_list_release(&dl);
        buf_release(&b);
        buf_release(&p);
    }
}

/* many unknown keys close to known ones (each looked up and given a suggestion), in every
 * stage, and so many diagnostics to order */
static void test_unknown_keys(void **state)
{
    struct buf b = BUF_INIT;
    head(&b);
    buf_adds(&b, "stages:\n");
    for (int s = 0; s < WF_MAX_STAGES; s++) {
        buf_addf(&b, "  s%d:\n    kind: text\n    prompt: hi\n    output: s%d.txt\n", s, s);
        for (int k = 0; k < 140; k++) /* 64 x 140 x 2 values: within YDOC_MAX_NODES */
            buf_addf(&b, "    promp%03d: x\n", k);
    }
    struct diag_list dl = DIAG_LIST_INIT;
    assert_int_equal(probe("64 stages x 140 unknown keys", &b, 0, &dl), -1);
    assert_diag(&dl, 9, 5, "unknown key 'promp000' in stage 's0'");
    diag_list_release(&dl);
    buf_release(&b);
}

/* a schema file at the limits: objects of 1000 properties, all required */
static void test_schema(void **state)
{
    for (int n = SCHEMA_MAX_MEMBERS; n <= SCHEMA_MAX_MEMBERS + 1; n++) {
        struct buf s = BUF_INIT, req = BUF_INIT;
        buf_adds(&s, "{\"type\": \"object\", \"properties\": {");
        for (int i = 0; i < n; i++) {
            buf_addf(&s, "%s\"p%d\": {\"type\": \"string\"}", i ? ", " : "", i);
            buf_addf(&req, "%s\"p%d\"", i ? ", " : "", i);
        }
        buf_addf(&s, "}, \"required\": [%s]}\n", req.data);
        free(write_file("schema.json", &s));
        struct buf b = BUF_INIT;
        head(&b);
        buf_adds(&b, "stages:\n  a:\n    kind: json\n    prompt: hi\n    schema: schema.json\n"
                     "    output: a.json\n");
        struct diag_list dl = DIAG_LIST_INIT;
        char what[64];
        snprintf(what, sizeof what, "schema of %d required properties", n);
        int rc = probe(what, &b, s.len, &dl);
        if (n > SCHEMA_MAX_MEMBERS) {
            assert_int_equal(rc, -1);
            assert_diag(&dl, 8, 13, "more than 1000 members in one object (at $.properties)");
        } else {
            assert_int_equal(rc, 0);
        }
        diag_list_release(&dl);
        buf_release(&b);
        buf_release(&s);
        buf_release(&req);
    }
}

/* what libyaml itself reads: one long scalar, many short lines of a block scalar, a flow scalar
 * folded over many lines full of "{{" (each one's place is looked up) */
static void test_scalars(void **state)
{
    struct buf b = BUF_INIT;
    head(&b);
    buf_adds(&b, "inputs:\n  script: script.txt\nstages:\n  a:\n    kind: text\n    prompt: |\n");
    while (b.len < YDOC_MAX_BYTES / 2)
        buf_adds(&b, "      a line of a long prompt\n");
    buf_adds(&b, "    output: a.txt\n  b:\n    kind: text\n    system: \"x\n");
    for (int i = 0; i < TMPL_MAX_REFS - 1; i++)
        buf_adds(&b, "      {{script}} and more text on a folded line of a quoted scalar\n");
    buf_adds(&b, "      end\"\n    prompt: \"");
    while (b.len < YDOC_MAX_BYTES - 1024)
        buf_adds(&b, "word ");
    buf_adds(&b, "\"\n    output: b.txt\n");
    struct diag_list dl = DIAG_LIST_INIT;
    int rc = probe("block, folded and long scalars", &b, 0, &dl);
    for (size_t i = 0; i < dl.n; i++) {
        char *s = diag_format(&dl.v[i]);
        print_message("unexpected: %s\n", s);
        free(s);
    }
    assert_int_equal(rc, 0);
    diag_list_release(&dl);
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keys_per_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_document_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_template_refs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scalars, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
