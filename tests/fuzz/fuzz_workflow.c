/* fuzz_workflow: the YAML workflow loader (libyaml, ydoc, every check, `use:` + `set:`) on an
 * arbitrary file. The input is written to a workflow file in a scratch directory that also
 * holds the files workflows refer to (the bundled prompts and schemas, the bad fixtures'
 * files/), so references resolve as they do for the fixtures. Lines "# set: K=V" in the input
 * become --set overrides, as in tests/data/workflows/bad. Invariants: a failed load reports at
 * least one diagnostic; a loaded workflow is consistent (stages in a topological order,
 * dependencies in range, every stage with a model and an output). Built for libFuzzer (not
 * for the replay under CTest), a load taking more CPU time than FUZZ_NS_PER_BYTE per input byte
 * plus FUZZ_BASE_NS is a finding too: a hostile workflow must cost time in proportion to its size
 * (tests/fuzz/README.md, "Slow inputs"). */
#include "fuzz.h"
#include "buf.h"
#include "util.h"
#include "workflow.h"
#include "../stages/stage.h"

#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SETS 16

/* In memory (/dev/shm) when there is one: the file is rewritten for every input. */
static char scratch[64];
static char wf_path[96];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void remove_scratch(void)
{
    nftw(scratch, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void copy_file(const char *from, const char *to)
{
    struct buf b = BUF_INIT;
    if (buf_read_file(&b, from) < 0)
        return; /* a fixture that is gone only makes fewer references resolve */
    int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len)
        abort();
    close(fd);
    buf_release(&b);
}

static void init(void)
{
    static int ready;
    if (ready)
        return;
    ready = 1;
    snprintf(scratch, sizeof scratch, "/dev/shm/gemflow-fuzz-workflow.XXXXXX");
    if (!mkdtemp(scratch)) {
        snprintf(scratch, sizeof scratch, "/tmp/gemflow-fuzz-workflow.XXXXXX");
        if (!mkdtemp(scratch))
            abort();
    }
    atexit(remove_scratch);
    static const char *const dirs[] = {"files", "prompts", "schemas"};
    for (size_t i = 0; i < 3; i++) {
        char *d = xasprintf("%s/%s", scratch, dirs[i]);
        mkdir(d, 0755);
        free(d);
    }
    static const char *const files[][2] = {
        {"tests/data/workflows/bad/files/analysis.json", "files/analysis.json"},
        {"tests/data/workflows/bad/files/bad-ref.md", "files/bad-ref.md"},
        {"tests/data/workflows/bad/files/bad.json", "files/bad.json"},
        {"tests/data/workflows/good/my-analyze.md", "my-analyze.md"},
        {"workflows/prompts/analyze.md", "prompts/analyze.md"},
        {"workflows/prompts/image-prompts.md", "prompts/image-prompts.md"},
        {"workflows/schemas/analysis.json", "schemas/analysis.json"},
        {"workflows/schemas/prompts.json", "schemas/prompts.json"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *from = xasprintf("%s/%s", GEMFLOW_SOURCE_DIR, files[i][0]);
        char *to = xasprintf("%s/%s", scratch, files[i][1]);
        copy_file(from, to);
        free(from);
        free(to);
    }
    snprintf(wf_path, sizeof wf_path, "%s/workflow.yaml", scratch);
}

/* Every "# set: K=V" line of the input (copied out; caller frees each). */
static size_t find_sets(const char *text, char **sets)
{
    size_t n = 0;
    for (const char *p = text; p && *p && n < MAX_SETS;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > 7 && strncmp(p, "# set: ", 7) == 0)
            sets[n++] = xstrndup(p + 7, len - 7);
        p = eol ? eol + 1 : NULL;
    }
    return n;
}

static void check_loaded(const struct workflow *wf)
{
    FUZZ_CHECK(wf->n_stages > 0 && wf->path && wf->dir);
    char *seen = xcalloc(wf->n_stages, 1);
    for (size_t k = 0; k < wf->n_stages; k++) {
        size_t s = wf->order[k];
        FUZZ_CHECK(s < wf->n_stages && !seen[s]);
        const struct stage_def *d = &wf->stages[s];
        FUZZ_CHECK(d->name && d->model && d->output);
        FUZZ_CHECK(workflow_stage_index(wf, d->name) == (int)s);
        for (size_t i = 0; i < d->n_deps; i++) {
            FUZZ_CHECK(d->deps[i] < wf->n_stages && seen[d->deps[i]]);
        }
        if (d->foreach)
            FUZZ_CHECK(d->foreach_stage < wf->n_stages && seen[d->foreach_stage]);
        FUZZ_CHECK(d->kind != NULL);
        FUZZ_CHECK(d->kind->value != VALUE_JSON || d->kind->schema(d));
        /* an API kind has something to say: its first template, or a dialogue's turns */
        FUZZ_CHECK(d->kind->exec == EXEC_LOCAL || stage_template(d, d->kind->input_label) ||
                   stage_template(d, "turns"));
        seen[s] = 1;
    }
    free(seen);
    for (size_t i = 0; i < wf->n_inputs; i++)
        FUZZ_CHECK(wf->inputs[i].name && wf->inputs[i].path);
    FUZZ_CHECK(wf->concurrency >= 1);
}

#ifdef FUZZ_NS_PER_BYTE
/* CPU time of this thread, not wall time: a shared machine may deschedule the fuzzer for
 * hundreds of milliseconds, which says nothing about the loader. */
static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A finding: the load took more than the per-byte bound (the files it read count too, but
 * they are the scratch directory's few small ones). */
static void check_time(int64_t ns, size_t size)
{
    int64_t bound = (int64_t)FUZZ_BASE_NS + (int64_t)FUZZ_NS_PER_BYTE * (int64_t)size;
    if (ns <= bound)
        return;
    fprintf(stderr,
            "slow input: %zu bytes loaded in %.1f ms of CPU (%.0f ns/byte), more than the bound of "
            "%d ms + %d ns/byte\n",
            size, (double)ns / 1e6, (double)ns / (double)(size ? size : 1),
            (int)(FUZZ_BASE_NS / 1000000), (int)FUZZ_NS_PER_BYTE);
    abort();
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
#ifdef FUZZ_NS_PER_BYTE
    int64_t t0 = cpu_ns();
#endif
    int fd = open(wf_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
        abort();
    close(fd);

    char *text = xstrndup((const char *)data, size);
    char *sets[MAX_SETS];
    size_t n_sets = find_sets(text, sets);
    struct wf_load_opts opts = {.sets = (const char *const *)sets, .n_sets = n_sets};
    struct workflow wf;
    struct diag_list dl = DIAG_LIST_INIT;
    int rc = workflow_load_file(&wf, wf_path, &opts, &dl);
#ifdef FUZZ_NS_PER_BYTE
    check_time(cpu_ns() - t0, size);
#endif
    if (rc == 0) {
        check_loaded(&wf);
        workflow_release(&wf);
    } else {
        FUZZ_CHECK(dl.n > 0);
    }
    for (size_t i = 0; i < dl.n; i++) {
        FUZZ_CHECK(dl.v[i].msg && dl.v[i].msg[0]);
        free(diag_format(&dl.v[i]));
    }
    diag_list_release(&dl);
    for (size_t i = 0; i < n_sets; i++)
        free(sets[i]);
    free(text);
    return 0;
}
