/* test_workflow_trust: loading the workflow.yaml a drop brought (gemflow watch
 * --allow-job-workflows): `none` refuses it, `set` allows only `use:` plus `set:` of the
 * content fields in workflow_trust.c's table, `full` everything but `endpoint`; the operator's
 * --workflow is what a dropped `use:` starts from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util.h"
#include "workflow.h"
#include "../stages/stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GOOD TEST_DATA_DIR "/workflows/good"

struct tmp {
    char *dir;  /* a job directory */
    char *file; /* its workflow.yaml */
};

static void tmp_job(struct tmp *t, const char *workflow)
{
    char tmpl[] = "/tmp/gemflow-test-trust.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    t->dir = xstrdup(tmpl);
    t->file = xasprintf("%s/workflow.yaml", t->dir);
    FILE *f = fopen(t->file, "w");
    assert_non_null(f);
    fputs(workflow, f);
    fclose(f);
}

static void tmp_release(struct tmp *t)
{
    unlink(t->file);
    rmdir(t->dir);
    free(t->file);
    free(t->dir);
}

/* Every diagnostic, one per line, with the job directory shown as "JOB". */
static char *diags(const struct diag_list *dl, const struct tmp *t)
{
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < dl->n; i++) {
        char *s = diag_format(&dl->v[i]);
        const char *p = s;
        if (str_starts_with(s, t->dir)) {
            buf_adds(&b, "JOB");
            p += strlen(t->dir);
        }
        buf_addf(&b, "%s\n", p);
        free(s);
    }
    return buf_detach(&b, NULL);
}

/* Load t's workflow.yaml as a drop's; returns the diagnostics (caller frees). */
static char *load_drop(struct workflow *wf, const struct tmp *t, enum wf_trust trust,
                       const char *operator_workflow, int want_rc)
{
    struct diag_list dl = DIAG_LIST_INIT;
    struct wf_load_opts opts = {.trust = trust, .workflow_path = operator_workflow};
    int rc = workflow_load_job(wf, t->dir, &opts, &dl);
    char *text = diags(&dl, t);
    if (rc != want_rc)
        fail_msg("load returned %d, not %d; diagnostics:\n%s", rc, want_rc, text);
    diag_list_release(&dl);
    return text;
}

static const struct stage_def *stage(const struct workflow *wf, const char *name)
{
    int i = workflow_stage_index(wf, name);
    if (i < 0)
        fail_msg("no stage '%s'", name);
    return &wf->stages[i];
}

/* A kind's setting by its workflow key, as text ("" for null), compared with `want`. */
static void assert_setting(const struct stage_def *d, const char *key, const char *want)
{
    cJSON *o = d->kind->settings(d);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    const char *got = cJSON_IsString(v) ? v->valuestring : cJSON_IsNull(v) ? "" : "?";
    if (strcmp(got, want) != 0) {
        cJSON_Delete(o);
        fail_msg("stage '%s': %s is '%s', expected '%s'", d->name, key, got, want);
    }
    cJSON_Delete(o);
}

static void test_trust_words(void **state)
{
    enum wf_trust t = WF_TRUST_ALL;
    assert_int_equal(workflow_trust_parse("none", &t), 0);
    assert_int_equal(t, WF_TRUST_NONE);
    assert_int_equal(workflow_trust_parse("set", &t), 0);
    assert_int_equal(t, WF_TRUST_SET);
    assert_int_equal(workflow_trust_parse("full", &t), 0);
    assert_int_equal(t, WF_TRUST_FULL);
    assert_int_equal(workflow_trust_parse("all", &t), -1); /* not a drop's word */
    assert_int_equal(workflow_trust_parse("Set", &t), -1);
    assert_string_equal(workflow_trust_name(WF_TRUST_SET), "set");
}

/* `set`: content fields of the bundled workflow change; the rest of it is untouched. */
static void test_set_content_fields(void **state)
{
    struct tmp t;
    tmp_job(&t, "version: 1\n"
                "use: script-to-media\n"
                "name: my-video\n"
                "set:\n"
                "  images.model: gemini-3-pro-image-preview\n"
                "  stages.images.prompt: \"Watercolour: {{item.image_prompt}}\"\n"
                "  images.aspect_ratio: \"9:16\"\n"
                "  narration.voice: Leda\n"
                "  defaults.temperature: 0.2\n");
    struct workflow wf;
    char *d = load_drop(&wf, &t, WF_TRUST_SET, NULL, 0);
    assert_string_equal(d, "");
    assert_string_equal(wf.name, "my-video");
    assert_string_equal(wf.job_path, t.file);
    assert_string_equal(stage(&wf, "images")->model, "gemini-3-pro-image-preview");
    assert_setting(stage(&wf, "images"), "aspect_ratio", "9:16");
    assert_setting(stage(&wf, "narration"), "voice", "Leda");
    assert_true(stage(&wf, "analysis")->has_temperature);
    assert_null(wf.endpoint);
    assert_int_equal(wf.concurrency, 8); /* the bundled workflow's own limit */
    workflow_release(&wf);
    free(d);
    tmp_release(&t);
}

/* `set`: every path outside the table is one error at its key, in the documented words. */
static void test_set_refuses_the_rest(void **state)
{
    struct tmp t;
    tmp_job(&t, "version: 1\n"
                "use: script-to-media\n"
                "endpoint: http://127.0.0.1:18555\n"
                "set:\n"
                "  endpoint: http://127.0.0.1:18555\n"
                "  limits.concurrency: 1000\n"
                "  limits.rpm.gemini-3.5-flash: 10000\n"
                "  defaults.timeout: 1h\n"
                "  defaults.retries: 20\n"
                "  inputs.script: ../../etc/passwd\n"
                "  images.output: ../x.png\n"
                "  images.foreach: analysis.scenes\n"
                "  images.kind: text\n"
                "  analysis.schema: /etc/passwd\n"
                "  video.needs: [images]\n"
                "  video.fps: 120\n"
                "  analysis.prompt: ../x.md\n"
                "  images: {model: x}\n"
                "  images.model: gemini-3-pro-image-preview\n");
    struct workflow wf;
    char *d = load_drop(&wf, &t, WF_TRUST_SET, NULL, -1);
    const char *want =
        "JOB/workflow.yaml:3:1: 'endpoint' cannot be set by a dropped job (--allow-job-workflows "
        "set)\n"
        "JOB/workflow.yaml:5:3: 'endpoint' cannot be set by a dropped job (--allow-job-workflows "
        "set)\n"
        "JOB/workflow.yaml:6:3: 'limits.concurrency' cannot be set by a dropped job "
        "(--allow-job-workflows set)\n"
        "JOB/workflow.yaml:7:3: 'limits.rpm.gemini-3.5-flash' cannot be set by a dropped job "
        "(--allow-job-workflows set)\n"
        "JOB/workflow.yaml:8:3: 'defaults.timeout' cannot be set by a dropped job "
        "(--allow-job-workflows set)\n"
        "JOB/workflow.yaml:9:3: 'defaults.retries' cannot be set by a dropped job "
        "(--allow-job-workflows set)\n"
        "JOB/workflow.yaml:10:3: 'inputs.script' cannot be set by a dropped job "
        "(--allow-job-workflows set)\n"
        "JOB/workflow.yaml:11:3: 'images.output' cannot be set by a dropped job "
        "(--allow-job-workflows set)\n"
        "JOB/workflow.yaml:12:3: 'images.foreach' cannot be set by a dropped job "
        "(--allow-job-workflows set)\n"
        "JOB/workflow.yaml:13:3: 'images.kind' cannot be set by a dropped job "
        "(--allow-job-workflows set)\n"
        "JOB/workflow.yaml:14:3: 'analysis.schema' cannot be set by a dropped job "
        "(--allow-job-workflows set)\n"
        "JOB/workflow.yaml:15:3: 'video.needs' cannot be set by a dropped job "
        "(--allow-job-workflows set)\n"
        "JOB/workflow.yaml:16:3: 'video.fps' cannot be set by a dropped job "
        "(--allow-job-workflows set)\n"
        "JOB/workflow.yaml:17:20: 'analysis.prompt' cannot be set by a dropped job "
        "(--allow-job-workflows set): '../x.md' would be read as a prompt file; write the text "
        "inline\n"
        "JOB/workflow.yaml:18:3: 'images' cannot be set by a dropped job (--allow-job-workflows "
        "set)\n";
    assert_string_equal(d, want);
    free(d);
    tmp_release(&t);
}

/* `set`: a whole workflow of its own is refused key by key, and says what is allowed. */
static void test_set_refuses_whole_workflow(void **state)
{
    struct tmp t;
    tmp_job(&t, "version: 1\n"
                "inputs: {script: script.txt}\n"
                "stages:\n"
                "  s: {kind: text, prompt: hi, output: s.txt}\n");
    struct workflow wf;
    char *d = load_drop(&wf, &t, WF_TRUST_SET, NULL, -1);
    assert_non_null(strstr(d, "JOB/workflow.yaml:2:1: 'inputs' cannot be set by a dropped job "
                              "(--allow-job-workflows set)\n"));
    assert_non_null(strstr(d, "JOB/workflow.yaml:3:1: 'stages' cannot be set by a dropped job "
                              "(--allow-job-workflows set)\n"));
    assert_non_null(strstr(d, "may only start from a workflow ('use: NAME')"));
    free(d);
    tmp_release(&t);
}

/* With the operator's --workflow, `use:` must name it, and starts from it. */
static void test_set_uses_the_operators_workflow(void **state)
{
    struct tmp t;
    tmp_job(&t, "version: 1\nuse: everything\nset:\n  summary.prompt: \"Short: {{outline}}\"\n");
    struct workflow wf;
    char *d = load_drop(&wf, &t, WF_TRUST_SET, GOOD "/whole.yaml", 0);
    assert_string_equal(d, "");
    assert_string_equal(wf.path, GOOD "/whole.yaml");
    assert_string_equal(wf.job_path, t.file);
    /* the operator's workflow may choose an endpoint; the drop did not */
    assert_string_equal(wf.endpoint, "http://127.0.0.1:8080");
    assert_int_equal(wf.concurrency, 2);
    workflow_release(&wf);
    free(d);
    tmp_release(&t);

    tmp_job(&t, "version: 1\nuse: script-to-media\n");
    d = load_drop(&wf, &t, WF_TRUST_SET, GOOD "/whole.yaml", -1);
    assert_string_equal(d, "JOB/workflow.yaml:2:6: 'use: script-to-media': a dropped job may "
                           "only use 'everything', the watcher's workflow "
                           "(--allow-job-workflows set)\n");
    free(d);
    tmp_release(&t);

    /* a job without a workflow.yaml of its own runs the operator's */
    char tmpl[] = "/tmp/gemflow-test-trust.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    struct diag_list dl = DIAG_LIST_INIT;
    struct wf_load_opts opts = {.trust = WF_TRUST_SET, .workflow_path = GOOD "/whole.yaml"};
    assert_int_equal(workflow_load_job(&wf, tmpl, &opts, &dl), 0);
    assert_string_equal(wf.name, "everything");
    workflow_release(&wf);
    diag_list_release(&dl);
    rmdir(tmpl);
}

/* `full`: a whole workflow of its own loads, but never with an endpoint. */
static void test_full_everything_but_endpoint(void **state)
{
    struct tmp t;
    tmp_job(&t, "version: 1\n"
                "inputs: {script: script.txt}\n"
                "defaults: {model: gemini-3.5-flash}\n"
                "limits: {concurrency: 3}\n"
                "stages:\n"
                "  s: {kind: text, prompt: \"hi {{script}}\", output: s.txt}\n");
    struct workflow wf;
    char *d = load_drop(&wf, &t, WF_TRUST_FULL, NULL, 0);
    assert_string_equal(d, "");
    assert_int_equal(wf.concurrency, 3);
    assert_string_equal(wf.path, t.file);
    workflow_release(&wf);
    free(d);
    tmp_release(&t);

    tmp_job(&t, "version: 1\n"
                "endpoint: http://127.0.0.1:18555\n"
                "inputs: {script: script.txt}\n"
                "defaults: {model: gemini-3.5-flash}\n"
                "stages:\n"
                "  s: {kind: text, prompt: \"hi {{script}}\", output: s.txt}\n");
    d = load_drop(&wf, &t, WF_TRUST_FULL, NULL, -1);
    assert_string_equal(d, "JOB/workflow.yaml:2:1: 'endpoint' cannot be set by a dropped job "
                           "(--allow-job-workflows full)\n");
    free(d);
    tmp_release(&t);

    tmp_job(&t, "version: 1\nuse: script-to-media\nset: {endpoint: \"http://127.0.0.1:1\"}\n");
    d = load_drop(&wf, &t, WF_TRUST_FULL, NULL, -1);
    assert_string_equal(d, "JOB/workflow.yaml:3:7: 'endpoint' cannot be set by a dropped job "
                           "(--allow-job-workflows full)\n");
    free(d);
    tmp_release(&t);

    /* inputs of a dropped workflow stay inside the job */
    tmp_job(&t, "version: 1\n"
                "inputs: {script: ../../etc/passwd, other: /etc/passwd}\n"
                "stages:\n"
                "  s: {kind: text, prompt: \"{{script}} {{other}}\", output: s.txt}\n");
    d = load_drop(&wf, &t, WF_TRUST_FULL, NULL, -1);
    assert_non_null(strstr(d, "input 'script': path '../../etc/passwd' leaves the job directory"));
    assert_non_null(strstr(d, "input 'other': path '/etc/passwd' is absolute"));
    free(d);
    tmp_release(&t);
}

/* `none`: a workflow.yaml of its own is an error whatever it says. */
static void test_none(void **state)
{
    struct tmp t;
    tmp_job(&t, "version: 1\nuse: script-to-media\n");
    struct workflow wf;
    char *d = load_drop(&wf, &t, WF_TRUST_NONE, NULL, -1);
    assert_string_equal(d, "JOB/workflow.yaml: a dropped job cannot bring its own workflow "
                           "(--allow-job-workflows none)\n");
    free(d);
    tmp_release(&t);
}

/* The operator's own files are trusted: WF_TRUST_ALL is today's behaviour. */
static void test_all_is_unchanged(void **state)
{
    struct tmp t;
    tmp_job(&t, "version: 1\nuse: script-to-media\nset: {endpoint: \"http://127.0.0.1:1\"}\n");
    struct workflow wf;
    char *d = load_drop(&wf, &t, WF_TRUST_ALL, NULL, 0);
    assert_string_equal(d, "");
    assert_string_equal(wf.endpoint, "http://127.0.0.1:1");
    workflow_release(&wf);
    free(d);
    tmp_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trust_words),
        cmocka_unit_test(test_set_content_fields),
        cmocka_unit_test(test_set_refuses_the_rest),
        cmocka_unit_test(test_set_refuses_whole_workflow),
        cmocka_unit_test(test_set_uses_the_operators_workflow),
        cmocka_unit_test(test_full_everything_but_endpoint),
        cmocka_unit_test(test_none),
        cmocka_unit_test(test_all_is_unchanged),
    };
    setenv("GEMFLOW_WORKFLOWS", TEST_DATA_DIR "/../../workflows", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
