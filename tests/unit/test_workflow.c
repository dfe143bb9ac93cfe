/* test_workflow: loading workflows: the bundled one, `use:` + `set:` + `--set`, a whole workflow
 * with every key, the YAML layer, and every bad workflow under tests/data/workflows/bad (each
 * with its exact expected diagnostics in "# expect:" lines). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util.h"
#include "workflow.h"
#include "../stages/stage.h"
#include "../stages/imgcodec.h"
#include "../stages/video_settings.h"
#include "workflow_int.h"
#include "ydoc.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GOOD TEST_DATA_DIR "/workflows/good"
#define BAD  TEST_DATA_DIR "/workflows/bad"

static void print_diags(const struct diag_list *dl)
{
    for (size_t i = 0; i < dl->n; i++) {
        char *s = diag_format(&dl->v[i]);
        print_message("diagnostic: %s\n", s);
        free(s);
    }
}

static void load_ok(struct workflow *wf, const char *path, const char *const *sets, size_t n)
{
    struct diag_list dl = DIAG_LIST_INIT;
    struct wf_load_opts opts = {.sets = sets, .n_sets = n};
    int rc = workflow_load_file(wf, path, &opts, &dl);
    print_diags(&dl);
    assert_int_equal(rc, 0);
    assert_int_equal(dl.n, 0);
    diag_list_release(&dl);
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

static const struct tmpl *tmpl_of(const struct stage_def *d, const char *key)
{
    const struct tmpl *t = stage_template(d, key);
    if (!t)
        fail_msg("stage '%s' has no template '%s'", d->name, key);
    return t;
}

static bool depends_on(const struct workflow *wf, const char *a, const char *b)
{
    const struct stage_def *s = stage(wf, a);
    for (size_t i = 0; i < s->n_deps; i++)
        if (s->deps[i] == (size_t)workflow_stage_index(wf, b))
            return true;
    return false;
}

static size_t order_of(const struct workflow *wf, const char *name)
{
    for (size_t i = 0; i < wf->n_stages; i++)
        if (wf->order[i] == (size_t)workflow_stage_index(wf, name))
            return i;
    fail_msg("stage '%s' not in order", name);
    return 0;
}

static char *bundled_path(void)
{
    struct buf b = BUF_INIT;
    assert_int_equal(workflow_find_bundled("script-to-media", &b), 0);
    return buf_detach(&b, NULL);
}

/* ---- the bundled workflow ---- */

static void test_bundled_loads(void **state)
{
    struct workflow wf;
    char *path = bundled_path();
    load_ok(&wf, path, NULL, 0);
    assert_string_equal(wf.name, "script-to-media");
    assert_string_equal(wf.path, path);
    assert_null(wf.job_path);
    assert_null(wf.endpoint);
    assert_int_equal(wf.n_stages, 6);
    assert_int_equal(wf.n_inputs, 1);
    assert_string_equal(wf.inputs[0].name, "script");
    assert_string_equal(wf.inputs[0].path, "script.txt");
    assert_int_equal(wf.concurrency, 8);
    /* no rpm: the server's 429s pace the calls (README, "Rate limits") */
    assert_int_equal(wf.n_rpm, 0);
    assert_true(wf.model_check);

    const struct stage_def *an = stage(&wf, "analysis"), *pr = stage(&wf, "prompts");
    const struct stage_def *im = stage(&wf, "images"), *na = stage(&wf, "narration");
    assert_string_equal(an->kind->name, "json");
    assert_string_equal(im->kind->name, "image");
    assert_string_equal(na->kind->name, "speech");
    assert_string_equal(an->model, "gemini-3.8-flash");
    assert_string_equal(pr->model, "gemini-3.8-flash");
    assert_string_equal(im->model, "gemini-nano-banana-2.1");
    assert_string_equal(na->model, "gemini-3.8-flash-tts");
    /* the words alone in text, the delivery in style; JPEG written as it comes */
    assert_string_equal(tmpl_source(tmpl_of(na, "text")), "{{item.narration}}");
    assert_string_equal(tmpl_source(tmpl_of(na, "style")), "{{item.mood}}");
    assert_string_equal(an->thinking, "LOW");
    assert_setting(im, "format", "jpeg");
    assert_int_equal(an->paid_retries, 1);
    assert_non_null(an->kind->schema(an));
    cJSON *settings = an->kind->settings(an);
    assert_true(str_ends_with(cJSON_GetStringValue(cJSON_GetObjectItem(settings, "schema_file")),
                              "/schemas/analysis.json"));
    cJSON_Delete(settings);
    assert_true(str_ends_with(tmpl_file(tmpl_of(an, "prompt")), "/prompts/analyze.md"));
    assert_setting(im, "aspect_ratio", "16:9");
    assert_setting(na, "voice", "Kore");
    assert_int_equal(an->timeout_ms, 120000);
    assert_int_equal(im->retries, 5);
    assert_false(an->has_temperature);

    assert_string_equal(im->foreach, "prompts.scenes");
    /* one portrait per character, sent with the images of the scenes that show it */
    const struct stage_def *po = stage(&wf, "portraits");
    assert_string_equal(po->kind->name, "image");
    assert_string_equal(po->foreach, "analysis.characters");
    assert_string_equal(tmpl_source(po->output), "portraits/{{item.id}}.jpg");
    assert_int_equal(im->n_refs, 1);
    assert_string_equal(tmpl_source(im->refs[0].each), "{{item.characters}}");
    assert_string_equal(tmpl_source(im->refs[0].path), "portraits/{{each}}.jpg");
    assert_true(order_of(&wf, "images") > order_of(&wf, "portraits"));
    assert_int_equal(wf.n_off, 0);
    assert_int_equal(im->foreach_stage, (size_t)workflow_stage_index(&wf, "prompts"));
    assert_int_equal(im->n_foreach_segs, 1);
    assert_string_equal(im->foreach_segs[0], "scenes");

    assert_int_equal(an->n_deps, 0);
    assert_int_equal(pr->n_deps, 1);
    assert_true(depends_on(&wf, "prompts", "analysis"));
    assert_int_equal(im->n_deps, 2);
    assert_true(depends_on(&wf, "images", "prompts"));
    assert_true(depends_on(&wf, "images", "portraits")); /* it sends their files */
    assert_true(depends_on(&wf, "portraits", "analysis"));
    assert_int_equal(na->n_deps, 1);
    assert_true(depends_on(&wf, "narration", "analysis"));
    assert_true(order_of(&wf, "analysis") < order_of(&wf, "prompts"));
    assert_true(order_of(&wf, "prompts") < order_of(&wf, "images"));
    assert_true(order_of(&wf, "analysis") < order_of(&wf, "narration"));

    /* the video stage: local, last, after the stages whose files it reads */
    const struct stage_def *vi = stage(&wf, "video");
    assert_string_equal(vi->kind->name, "video");
    assert_string_equal(vi->model, "ffmpeg");
    const struct video_settings *vs = video_settings(vi);
    assert_non_null(vs);
    assert_string_equal(vs->scenes.text, "analysis.scenes");
    assert_int_equal(vs->scenes.stage, (size_t)workflow_stage_index(&wf, "analysis"));
    assert_int_equal(vs->fps, 30);
    assert_int_equal(vs->width, 0); /* from the images */
    assert_int_equal(vs->motion, VIDEO_MOTION_KENBURNS);
    assert_int_equal(vs->transition_ms, 500);
    assert_false(vs->burn_subtitles);
    assert_int_equal(vs->crf, 20);
    assert_string_equal(vs->preset, "veryfast");
    assert_non_null(vs->subtitles);
    assert_non_null(vs->caption);
    assert_true(depends_on(&wf, "video", "analysis"));
    assert_true(depends_on(&wf, "video", "images"));
    assert_true(depends_on(&wf, "video", "narration"));
    assert_int_equal(order_of(&wf, "video"), 5); /* last */
    workflow_release(&wf);
    assert_null(wf.stages);
    free(path);
}

static void test_video_stage(void **state)
{
    struct workflow wf;
    load_ok(&wf, GOOD "/video.yaml", NULL, 0);
    const struct stage_def *v = stage(&wf, "film");
    assert_string_equal(v->kind->name, "video");
    assert_string_equal(v->model, "ffmpeg");
    const struct video_settings *vs = video_settings(v);
    assert_non_null(vs);
    assert_int_equal(vs->scenes.stage, (size_t)workflow_stage_index(&wf, "beats"));
    assert_int_equal(vs->scenes.n_segs, 1);
    assert_string_equal(vs->scenes.segs[0], "list");
    assert_int_equal(vs->width, 1280);
    assert_int_equal(vs->height, 720);
    assert_int_equal(vs->fps, 25);
    assert_int_equal(vs->motion, VIDEO_MOTION_NONE);
    assert_int_equal(vs->transition_ms, 250);
    assert_true(vs->burn_subtitles);
    assert_int_equal(vs->crf, 28);
    assert_string_equal(vs->preset, "veryfast");
    assert_string_equal(tmpl_source(vs->subtitles), "film/film.srt");
    /* no needs: the stages writing pics/{{item.id}}.png and voice/{{item.id}}.wav */
    assert_int_equal(v->n_deps, 3);
    assert_true(depends_on(&wf, "film", "beats"));
    assert_true(depends_on(&wf, "film", "pictures"));
    assert_true(depends_on(&wf, "film", "voices"));
    assert_false(depends_on(&wf, "film", "unrelated"));
    assert_true(order_of(&wf, "film") > order_of(&wf, "pictures"));
    assert_true(order_of(&wf, "film") > order_of(&wf, "voices"));
    assert_non_null(stage_kind_find("video"));
    workflow_release(&wf);
}

static void test_stage_index_and_kind_names(void **state)
{
    struct workflow wf;
    char *path = bundled_path();
    load_ok(&wf, path, NULL, 0);
    assert_int_equal(workflow_stage_index(&wf, "images"), 3);
    assert_int_equal(workflow_stage_index(&wf, "image"), -1);
    assert_string_equal(stage_kind_find("json")->name, "json");
    assert_null(stage_kind_find("jsn"));
    workflow_release(&wf);
    free(path);
}

static void test_find_bundled(void **state)
{
    struct buf b = BUF_INIT;
    assert_int_equal(workflow_find_bundled("script-to-media", &b), 0);
    assert_true(str_ends_with(b.data, "/workflows/script-to-media.yaml"));
    assert_int_equal(workflow_find_bundled("no-such-workflow", &b), -1);
    assert_int_equal(workflow_find_bundled("../workflows/script-to-media", &b), -1);
    assert_int_equal(workflow_find_bundled("Script-To-Media", &b), -1);
    assert_int_equal(workflow_find_bundled("", &b), -1);
    /* without $GEMFLOW_WORKFLOWS nothing points into the source tree: this test binary has no
     * `workflows` link beside it, so only an installed copy could be found */
    char *env = xstrdup(getenv("GEMFLOW_WORKFLOWS"));
    unsetenv("GEMFLOW_WORKFLOWS");
    if (workflow_find_bundled("script-to-media", &b) == 0)
        assert_false(str_starts_with(b.data, GEMFLOW_SOURCE_DIR "/"));
    setenv("GEMFLOW_WORKFLOWS", env, 1);
    free(env);
    buf_release(&b);
}

/* ---- use + set + --set ---- */

static void test_use_and_set(void **state)
{
    struct workflow wf;
    load_ok(&wf, GOOD "/use-set.yaml", NULL, 0);
    char *bundled = bundled_path();
    assert_string_equal(wf.path, bundled);
    assert_string_equal(wf.job_path, GOOD "/use-set.yaml");
    assert_string_equal(wf.name, "my-video");
    assert_int_equal(wf.n_stages, 6);
    assert_string_equal(stage(&wf, "images")->model, "gemini-3-pro-image-preview");
    assert_setting(stage(&wf, "images"), "aspect_ratio", "1:1");
    assert_setting(stage(&wf, "narration"), "voice", "Puck");
    assert_setting(stage(&wf, "narration"), "language", "en-GB");
    assert_string_equal(stage(&wf, "analysis")->model, "gemini-3.8-flash");
    for (size_t i = 0; i < wf.n_stages; i++)
        assert_int_equal(wf.stages[i].retries, 2);
    assert_int_equal(wf.concurrency, 3);
    assert_true(workflow_rpm(&wf, "gemini-3-pro-image-preview") == 4);
    assert_true(workflow_rpm(&wf, "gemini-nano-banana-2.1") == 0);
    assert_string_equal(wf.inputs[0].path, "story.md");
    /* the set prompt file is next to the file holding the set; the others next to the bundle */
    assert_string_equal(tmpl_file(tmpl_of(stage(&wf, "analysis"), "prompt")),
                        GOOD "/my-analyze.md");
    assert_string_equal(tmpl_source(tmpl_of(stage(&wf, "analysis"), "prompt")),
                        "Split this story into scenes:\n\n{{script}}\n");
    assert_true(str_ends_with(tmpl_file(tmpl_of(stage(&wf, "prompts"), "prompt")),
                              "/prompts/image-prompts.md"));
    free(bundled);
    workflow_release(&wf);
}

static void test_cli_set_images_model(void **state)
{
    struct workflow wf;
    char *path = bundled_path();
    const char *sets[] = {"images.model=gemini-3-pro-image-preview"};
    load_ok(&wf, path, sets, 1);
    assert_string_equal(stage(&wf, "images")->model, "gemini-3-pro-image-preview");
    assert_string_equal(stage(&wf, "prompts")->model, "gemini-3.8-flash");
    assert_string_equal(stage(&wf, "narration")->model, "gemini-3.8-flash-tts");
    workflow_release(&wf);
    free(path);
}

/* --set portraits.enabled=false: the stage is gone, the images send no references, the other
 * stages keep their order and dependencies (renumbered) */
static void test_cli_set_portraits_off(void **state)
{
    struct workflow wf;
    char *path = bundled_path();
    const char *sets[] = {"portraits.enabled=false"};
    load_ok(&wf, path, sets, 1);
    assert_int_equal(wf.n_stages, 5);
    assert_int_equal(workflow_stage_index(&wf, "portraits"), -1);
    assert_true(workflow_stage_is_off(&wf, "portraits"));
    assert_false(workflow_stage_is_off(&wf, "images"));
    assert_int_equal(wf.n_off, 1);
    assert_string_equal(wf.off[0].name, "portraits");
    assert_string_equal(wf.off[0].note, "images sends none of its files as references");
    const struct stage_def *im = stage(&wf, "images");
    assert_int_equal(im->n_refs, 0);
    assert_int_equal(im->n_deps, 1);
    assert_string_equal(wf.stages[im->deps[0]].name, "prompts");
    assert_string_equal(wf.stages[im->foreach_stage].name, "prompts");
    const struct stage_def *vi = stage(&wf, "video");
    assert_string_equal(wf.stages[video_settings(vi)->scenes.stage].name, "analysis");
    for (size_t k = 0; k < wf.n_stages; k++)
        for (size_t d = 0; d < wf.stages[wf.order[k]].n_deps; d++)
            assert_true(order_of(&wf, wf.stages[wf.stages[wf.order[k]].deps[d]].name) < k);
    workflow_release(&wf);
    const char *on[] = {"portraits.enabled=true"};
    load_ok(&wf, path, on, 1);
    assert_int_equal(wf.n_stages, 6);
    assert_int_equal(wf.n_off, 0);
    workflow_release(&wf);
    free(path);
}

static void test_cli_set_rpm_dotted_model(void **state)
{
    struct workflow wf;
    char *path = bundled_path();
    const char *sets[] = {"limits.rpm.gemini-3.1-flash-image-preview=3",
                          "limits.rpm.gemini-3.8-flash-lite-tts=2.5", "limits.concurrency=16"};
    load_ok(&wf, path, sets, 3);
    assert_true(workflow_rpm(&wf, "gemini-3.1-flash-image-preview") == 3);
    assert_true(workflow_rpm(&wf, "gemini-3.8-flash-lite-tts") == 2.5);
    assert_true(workflow_rpm(&wf, "gemini-3.8-flash-tts") == 0);
    assert_int_equal(wf.concurrency, 16);
    workflow_release(&wf);
    free(path);
}

static void test_cli_set_wins_over_file_set(void **state)
{
    struct workflow wf;
    const char *sets[] = {"images.model=gemini-3.1-flash-image-preview", "narration.voice=Kore"};
    load_ok(&wf, GOOD "/use-set.yaml", sets, 2);
    assert_string_equal(stage(&wf, "images")->model, "gemini-3.1-flash-image-preview");
    assert_setting(stage(&wf, "narration"), "voice", "Kore");
    assert_setting(stage(&wf, "images"), "aspect_ratio", "1:1");
    workflow_release(&wf);
}

/* service_tier: flex waits as long as flex may take unless a timeout was given; --tier wins. */
static void test_service_tier_and_timeouts(void **state)
{
    struct workflow wf;
    char *path = bundled_path();
    const char *flex[] = {"images.service_tier=flex", "narration.timeout=30s",
                          "narration.service_tier=FLEX"};
    load_ok(&wf, path, flex, 3);
    assert_string_equal(stage(&wf, "images")->service_tier, "flex");
    assert_int_equal(stage(&wf, "images")->timeout_ms, 20 * 60 * 1000);
    assert_string_equal(stage(&wf, "narration")->service_tier, "flex"); /* any case */
    assert_int_equal(stage(&wf, "narration")->timeout_ms, 30000);       /* its own timeout */
    assert_null(stage(&wf, "analysis")->service_tier);
    assert_int_equal(stage(&wf, "analysis")->timeout_ms, 120000);
    workflow_release(&wf);

    struct wf_load_opts opts = {.sets = flex, .n_sets = 1, .service_tier = "priority"};
    struct diag_list dl = DIAG_LIST_INIT;
    assert_int_equal(workflow_load_file(&wf, path, &opts, &dl), 0);
    for (size_t i = 0; i < wf.n_stages; i++)
        if (wf.stages[i].kind->exec != EXEC_LOCAL)
            assert_string_equal(wf.stages[i].service_tier, "priority");
    assert_int_equal(stage(&wf, "images")->timeout_ms, 120000); /* priority: the usual 120 s */
    workflow_release(&wf);
    diag_list_release(&dl);
    free(path);
}

static void test_cli_set_yaml_values(void **state)
{
    struct workflow wf;
    char *path = bundled_path();
    const char *sets[] = {"images.aspect_ratio=\"4:3\"", "narration.needs=[images]",
                          "defaults.temperature=0.25", "stages.prompts.timeout=90",
                          "endpoint=http://localhost:9"};
    load_ok(&wf, path, sets, 5);
    assert_setting(stage(&wf, "images"), "aspect_ratio", "4:3");
    assert_true(depends_on(&wf, "narration", "images"));
    assert_true(order_of(&wf, "images") < order_of(&wf, "narration"));
    assert_true(stage(&wf, "analysis")->has_temperature);
    assert_true(stage(&wf, "analysis")->temperature == 0.25);
    assert_int_equal(stage(&wf, "prompts")->timeout_ms, 90000);
    assert_string_equal(wf.endpoint, "http://localhost:9");
    workflow_release(&wf);
    free(path);
}

static void test_cli_set_prompt_file_from_cwd(void **state)
{
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(GOOD), 0);
    struct workflow wf;
    char *path = bundled_path();
    const char *sets[] = {"analysis.prompt=my-analyze.md"};
    load_ok(&wf, path, sets, 1);
    assert_string_equal(tmpl_file(tmpl_of(stage(&wf, "analysis"), "prompt")), "my-analyze.md");
    workflow_release(&wf);
    free(path);
    assert_int_equal(chdir(cwd), 0);
}

static void test_cli_set_error_location(void **state)
{
    struct workflow wf;
    struct diag_list dl = DIAG_LIST_INIT;
    char *path = bundled_path();
    const char *sets[] = {"imagez.model=x", "music.model=x", "images.voice=Kore",
                          "narration.timeout=10 minutes"};
    struct wf_load_opts opts = {.sets = sets, .n_sets = 4};
    assert_int_equal(workflow_load_file(&wf, path, &opts, &dl), -1);
    const char *want[] = {
        "--set imagez.model=x: unknown stage 'imagez' (did you mean 'images'?)",
        "--set music.model=x: unknown stage 'music' (stages: analysis, prompts, portraits, images, "
        "narration, video)",
        "--set images.voice=Kore: 'voice' does not apply to a stage of kind image",
        "--set narration.timeout=10 minutes: bad duration '10 minutes' (use e.g. 30s, 500ms, 2m)",
    };
    assert_int_equal(dl.n, ARRAY_SIZE(want));
    for (size_t i = 0; i < dl.n; i++) {
        char *s = diag_format(&dl.v[i]);
        assert_string_equal(s, want[i]);
        free(s);
    }
    assert_int_equal(wf.n_stages, 0); /* released on failure */
    assert_null(wf.stages);
    diag_list_release(&dl);
    free(path);
}

/* ---- a whole workflow with every key ---- */

static void test_whole_workflow(void **state)
{
    struct workflow wf;
    load_ok(&wf, GOOD "/whole.yaml", NULL, 0);
    assert_string_equal(wf.name, "everything");
    assert_string_equal(wf.endpoint, "http://127.0.0.1:8080");
    assert_int_equal(wf.n_inputs, 2);
    assert_string_equal(wf.inputs[1].path, "input/notes.md");
    assert_int_equal(wf.concurrency, 2);
    assert_true(workflow_rpm(&wf, "imagen-4.0-generate-001") == 0.5);

    const struct stage_def *ou = stage(&wf, "outline"), *in = stage(&wf, "intro");
    const struct stage_def *sh = stage(&wf, "shots"), *sp = stage(&wf, "speak");
    assert_setting(ou, "schema_file", "");
    assert_true(cJSON_IsObject(ou->kind->schema(ou)));
    assert_non_null(tmpl_of(ou, "system"));
    assert_string_equal(tmpl_source(tmpl_of(ou, "system")), "You are terse.");
    assert_int_equal(ou->timeout_ms, 1500);
    assert_int_equal(ou->retries, 0);
    assert_true(ou->has_temperature && ou->temperature == 0.7);
    assert_int_equal(in->timeout_ms, 500);
    assert_true(in->temperature == 1.2);
    assert_setting(sh, "image_size", "2K");
    assert_setting(sh, "aspect_ratio", "9:16");
    assert_string_equal(sh->model, "imagen-4.0-generate-001");
    assert_setting(sp, "voice", "Puck"); /* from defaults */
    assert_setting(sp, "language", "en-US");
    assert_int_equal(sp->timeout_ms, 120000);
    assert_int_equal(sp->retries, 3);

    /* positions of references in block scalars (| and >) */
    const struct tmpl_ref *r = tmpl_ref_at(tmpl_of(ou, "prompt"), 0);
    assert_string_equal(r->expr, "script");
    assert_int_equal(r->line, 27);
    assert_int_equal(r->col, 15);
    r = tmpl_ref_at(tmpl_of(ou, "prompt"), 1);
    assert_int_equal(r->line, 28);
    assert_int_equal(r->col, 14);
    r = tmpl_ref_at(tmpl_of(sp, "text"), 0);
    assert_int_equal(r->line, 61);
    assert_int_equal(r->col, 11);
    assert_string_equal(tmpl_file(tmpl_of(sp, "text")), GOOD "/whole.yaml");

    /* dependencies: templates, foreach and needs; order keeps file order where it can */
    assert_true(depends_on(&wf, "summary", "outline"));
    assert_true(depends_on(&wf, "shots", "outline"));
    assert_true(depends_on(&wf, "shots", "intro"));
    assert_int_equal(sh->n_deps, 2);
    assert_int_equal(sp->n_deps, 1);
    const char *order[] = {"outline", "summary", "intro", "shots", "speak"};
    for (size_t i = 0; i < ARRAY_SIZE(order); i++)
        assert_string_equal(wf.stages[wf.order[i]].name, order[i]);
    workflow_release(&wf);
}

static void test_cli_set_on_whole_workflow(void **state)
{
    struct workflow wf;
    const char *sets[] = {"defaults.timeout=30s", "shots.image_size=4K", "inputs.extra=x.txt",
                          "name=renamed"};
    load_ok(&wf, GOOD "/whole.yaml", sets, 4);
    assert_int_equal(stage(&wf, "outline")->timeout_ms, 30000);
    assert_int_equal(stage(&wf, "intro")->timeout_ms, 500);
    assert_setting(stage(&wf, "shots"), "image_size", "4K");
    assert_int_equal(wf.n_inputs, 3);
    assert_string_equal(wf.inputs[2].name, "extra");
    assert_string_equal(wf.name, "renamed");
    assert_null(wf.job_path);
    workflow_release(&wf);
}

/* ---- workflow_load_job ---- */

static char *write_job(const char *workflow)
{
    char tmpl[] = "/tmp/gemflow-test-job.XXXXXX";
    char *dir = xstrdup(mkdtemp(tmpl));
    if (workflow) {
        char *p = xasprintf("%s/workflow.yaml", dir);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(workflow, f);
        fclose(f);
        free(p);
    }
    return dir;
}

static void remove_job(char *dir)
{
    char *p = xasprintf("%s/workflow.yaml", dir);
    unlink(p);
    free(p);
    assert_int_equal(rmdir(dir), 0);
    free(dir);
}

static void test_load_job_default(void **state)
{
    char *dir = write_job(NULL);
    struct workflow wf;
    struct diag_list dl = DIAG_LIST_INIT;
    assert_int_equal(workflow_load_job(&wf, dir, NULL, &dl), 0);
    assert_string_equal(wf.name, "script-to-media");
    assert_null(wf.job_path);
    workflow_release(&wf);
    diag_list_release(&dl);
    remove_job(dir);
}

static void test_load_job_own_workflow(void **state)
{
    char *dir = write_job("version: 1\nuse: script-to-media\nset: {images.model: x-image}\n");
    struct workflow wf;
    struct diag_list dl = DIAG_LIST_INIT;
    const char *sets[] = {"narration.voice=Leda"};
    struct wf_load_opts opts = {.sets = sets, .n_sets = 1};
    assert_int_equal(workflow_load_job(&wf, dir, &opts, &dl), 0);
    char *own = xasprintf("%s/workflow.yaml", dir);
    assert_string_equal(wf.job_path, own);
    assert_true(str_ends_with(wf.path, "/script-to-media.yaml"));
    assert_string_equal(stage(&wf, "images")->model, "x-image");
    assert_setting(stage(&wf, "narration"), "voice", "Leda");
    free(own);
    workflow_release(&wf);
    diag_list_release(&dl);
    remove_job(dir);
}

static void test_load_job_workflow_path(void **state)
{
    char *dir = write_job("version: 1\nuse: no-such-one\n"); /* ignored: the option wins */
    struct workflow wf;
    struct diag_list dl = DIAG_LIST_INIT;
    struct wf_load_opts opts = {.workflow_path = GOOD "/whole.yaml"};
    assert_int_equal(workflow_load_job(&wf, dir, &opts, &dl), 0);
    assert_string_equal(wf.name, "everything");
    assert_string_equal(wf.path, GOOD "/whole.yaml");
    workflow_release(&wf);
    diag_list_release(&dl);
    remove_job(dir);
}

static void test_load_job_bad_workflow(void **state)
{
    char *dir = write_job("version: 1\nuse: script-to-media\nset:\n  images.modle: x\n");
    struct workflow wf;
    struct diag_list dl = DIAG_LIST_INIT;
    assert_int_equal(workflow_load_job(&wf, dir, NULL, &dl), -1);
    assert_int_equal(dl.n, 1);
    char *want = xasprintf("%s/workflow.yaml:4:3: unknown field 'modle' in stage 'images' (did "
                           "you mean 'model'?)",
                           dir);
    char *got = diag_format(&dl.v[0]);
    assert_string_equal(got, want);
    free(want);
    free(got);
    diag_list_release(&dl);
    remove_job(dir);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char *p = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

/* The job's workflow names prompt and schema files; only those inside its directory load. */
static void test_files_stay_inside(void **state)
{
    char *dir = write_job("version: 1\n"
                          "defaults:\n"
                          "  model: gemini-3.5-flash\n"
                          "stages:\n"
                          "  a:\n"
                          "    kind: json\n"
                          "    prompt: ./ok/prompt.md\n" /* 7: inside, through "." */
                          "    schema: linked.json\n"    /* 8: a link to a file outside */
                          "    output: a.json\n"
                          "  b:\n"
                          "    kind: text\n"
                          "    prompt: out/prompt.md\n"      /* 12: a linked directory */
                          "    system: ok/../ok/prompt.md\n" /* 13: ".." even staying inside */
                          "    output: b.txt\n");
    char *ok = xasprintf("%s/ok", dir), *out = xasprintf("%s.outside", dir);
    assert_int_equal(mkdir(ok, 0777), 0);
    assert_int_equal(mkdir(out, 0777), 0);
    write_file(dir, "ok/prompt.md", "Say hello.\n");
    write_file(out, "prompt.md", "SECRET\n");
    write_file(out, "schema.json", "{\"type\": \"object\"}\n");
    char *target = xasprintf("%s/schema.json", out), *link = xasprintf("%s/linked.json", dir);
    assert_int_equal(symlink(target, link), 0);
    char *dlink = xasprintf("%s/out", dir);
    assert_int_equal(symlink(out, dlink), 0);

    struct workflow wf;
    struct diag_list dl = DIAG_LIST_INIT;
    assert_int_equal(workflow_load_job(&wf, dir, NULL, &dl), -1);
    print_diags(&dl);
    assert_int_equal(dl.n, 3);
    char *want[3] = {
        xasprintf("%s/workflow.yaml:8:13: cannot read schema file '%s/linked.json': "
                  "'linked.json' in '%s' is a symbolic link: refusing to read through it",
                  dir, dir, dir),
        xasprintf("%s/workflow.yaml:12:13: cannot read prompt file '%s/out/prompt.md': 'out' "
                  "in '%s' is a symbolic link: refusing to read through it",
                  dir, dir, dir),
        xasprintf("%s/workflow.yaml:13:13: system file 'ok/../ok/prompt.md' is outside the "
                  "workflow's directory",
                  dir),
    };
    for (size_t i = 0; i < 3; i++) {
        char *got = diag_format(&dl.v[i]);
        assert_string_equal(got, want[i]);
        free(got);
        free(want[i]);
    }
    diag_list_release(&dl);

    /* the same files named by --set on the command line are the user's own choice */
    const char *sets[] = {"a.schema=linked.json", "b.prompt=ok/prompt.md", "b.system=ok/prompt.md"};
    struct wf_load_opts opts = {.sets = sets, .n_sets = 3};
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    int rc = workflow_load_job(&wf, ".", &opts, &dl);
    assert_int_equal(chdir(cwd), 0);
    print_diags(&dl);
    assert_int_equal(rc, 0);
    workflow_release(&wf);
    diag_list_release(&dl);

    char *cmd = xasprintf("rm -rf '%s' '%s'", dir, out);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(ok);
    free(out);
    free(target);
    free(link);
    free(dlink);
    free(dir);
}

static void test_missing_file(void **state)
{
    struct workflow wf;
    struct diag_list dl = DIAG_LIST_INIT;
    assert_int_equal(workflow_load_file(&wf, GOOD "/nope.yaml", NULL, &dl), -1);
    assert_int_equal(dl.n, 1);
    char *got = diag_format(&dl.v[0]);
    assert_string_equal(got,
                        GOOD "/nope.yaml: cannot read the workflow: No such file or directory");
    free(got);
    diag_list_release(&dl);
}

/* ---- values and the YAML layer ---- */

static void test_durations(void **state)
{
    static const struct {
        const char *text;
        int64_t ms;
    } ok[] = {{"120s", 120000}, {"1.5s", 1500}, {"500ms", 500}, {"2m", 120000},
              {"1h", 3600000},  {"90", 90000},  {"0.25", 250}};
    static const char *const bad[] = {"10 minutes", "-3s", "1.s", "s", "", "3d", "1e3", "2 m"};
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        int64_t ms = -1;
        assert_int_equal(parse_duration_ms(ok[i].text, &ms), 0);
        assert_int_equal(ms, ok[i].ms);
    }
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        int64_t ms;
        assert_int_equal(parse_duration_ms(bad[i], &ms), -1);
    }
}

static void test_ydoc_positions_and_styles(void **state)
{
    const char *text = "a: plain\nb: \"dq\"\nc: 'sq'\nd: |\n    lit {{x}}\ne: >-\n  fold\nf: [1, "
                       "x]\n";
    struct ydoc_node *root;
    struct diag_list dl = DIAG_LIST_INIT;
    assert_int_equal(ydoc_parse(text, strlen(text), "t.yaml", &root, &dl), 0);
    assert_int_equal(root->kind, YDOC_MAP);
    assert_int_equal(root->n_pairs, 6);
    assert_string_equal(root->pairs[5].key->str, "f");
    const struct ydoc_node *n = ydoc_get(root, "b");
    assert_int_equal(n->style, YDOC_DOUBLE_QUOTED);
    assert_int_equal(n->line, 2);
    assert_int_equal(n->col, 4);
    assert_int_equal(ydoc_get(root, "c")->style, YDOC_SINGLE_QUOTED);
    n = ydoc_get(root, "d");
    assert_int_equal(n->style, YDOC_LITERAL);
    assert_int_equal(n->block_indent, 4);
    assert_string_equal(n->str, "lit {{x}}\n");
    n = ydoc_get(root, "e");
    assert_int_equal(n->style, YDOC_FOLDED);
    assert_int_equal(n->block_indent, 2);
    assert_string_equal(n->str, "fold");
    n = ydoc_get(root, "f");
    assert_int_equal(n->kind, YDOC_SEQ);
    assert_int_equal(n->items[1]->line, 8);
    assert_int_equal(n->items[1]->col, 8);
    ydoc_free(root);
    diag_list_release(&dl);
}

static void test_ydoc_scalar_types(void **state)
{
    static const struct {
        const char *text;
        enum ydoc_type type;
    } cases[] = {
        {"x: ", YDOC_T_NULL},      {"x: ~", YDOC_T_NULL},       {"x: true", YDOC_T_BOOL},
        {"x: False", YDOC_T_BOOL}, {"x: 12", YDOC_T_INT},       {"x: -0x1f", YDOC_T_STR},
        {"x: 0x1f", YDOC_T_INT},   {"x: 1.5", YDOC_T_FLOAT},    {"x: .inf", YDOC_T_FLOAT},
        {"x: 1e3", YDOC_T_FLOAT},  {"x: 16:9", YDOC_T_STR},     {"x: yes", YDOC_T_STR},
        {"x: '12'", YDOC_T_STR},   {"x: !!str 12", YDOC_T_STR}, {"x: 120s", YDOC_T_STR},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ydoc_node *root;
        struct diag_list dl = DIAG_LIST_INIT;
        assert_int_equal(ydoc_parse(cases[i].text, strlen(cases[i].text), "t", &root, &dl), 0);
        if (ydoc_scalar_type(ydoc_get(root, "x")) != cases[i].type)
            fail_msg("'%s': type %d, want %d", cases[i].text,
                     (int)ydoc_scalar_type(ydoc_get(root, "x")), (int)cases[i].type);
        ydoc_free(root);
    }
}

static void test_ydoc_to_json(void **state)
{
    const char *text = "a: [1, 2.5, true, null, '3', x]\nb: {c: d}\n";
    struct ydoc_node *root;
    struct diag_list dl = DIAG_LIST_INIT;
    assert_int_equal(ydoc_parse(text, strlen(text), "t", &root, &dl), 0);
    cJSON *j = ydoc_to_json(root);
    char *s = cJSON_PrintUnformatted(j);
    assert_string_equal(s, "{\"a\":[1,2.5,true,null,\"3\",\"x\"],\"b\":{\"c\":\"d\"}}");
    cJSON_free(s);
    cJSON_Delete(j);
    ydoc_free(root);
}

/* ---- the bad workflows ---- */

struct expect {
    char **want;
    size_t n, cap;
    char **sets;
    size_t n_sets, cap_sets;
};

static void read_expectations(const char *path, struct expect *e)
{
    struct buf text = BUF_INIT;
    assert_int_equal(buf_read_file(&text, path), 0);
    if (!str_starts_with(text.data, "# expect: "))
        fail_msg("%s: the first line must be '# expect: LINE:COL: message'", path);
    for (char *line = text.data, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            nl = line + strlen(line) - 1;
        else
            *nl = '\0';
        if (str_starts_with(line, "# expect: "))
            *VEC_PUSH(e->want, e->n, e->cap) = xstrdup(line + 10);
        else if (str_starts_with(line, "# set: "))
            *VEC_PUSH(e->sets, e->n_sets, e->cap_sets) = xstrdup(line + 7);
    }
    buf_release(&text);
}

/* Load one fixture (from inside the bad directory, so paths are as a user would type them) and
 * compare its diagnostics with its expectations; returns the number of mismatches. */
static int check_fixture(const char *name)
{
    struct expect e = {0};
    read_expectations(name, &e);
    struct workflow wf;
    struct diag_list dl = DIAG_LIST_INIT;
    struct wf_load_opts opts = {.sets = (const char *const *)e.sets, .n_sets = e.n_sets};
    int rc = workflow_load_file(&wf, name, &opts, &dl), bad = 0;
    if (rc != -1) {
        print_message("%s: loaded without error\n", name);
        bad++;
        workflow_release(&wf);
    }
    bool *used = xcalloc(e.n + 1, sizeof *used);
    size_t prefix = strlen(name);
    for (size_t i = 0; i < dl.n; i++) {
        char *s = diag_format(&dl.v[i]);
        /* "NAME:LINE:COL: msg" is written "LINE:COL: msg" in the fixture */
        const char *got = strncmp(s, name, prefix) == 0 && s[prefix] == ':' ? s + prefix + 1 : s;
        size_t k;
        for (k = 0; k < e.n; k++)
            if (!used[k] && strcmp(e.want[k], got) == 0)
                break;
        if (k == e.n) {
            print_message("%s: unexpected diagnostic: %s\n", name, got);
            bad++;
        } else {
            used[k] = true;
        }
        free(s);
    }
    for (size_t k = 0; k < e.n; k++) {
        if (!used[k]) {
            print_message("%s: missing diagnostic: %s\n", name, e.want[k]);
            bad++;
        }
        free(e.want[k]);
    }
    for (size_t k = 0; k < e.n_sets; k++)
        free(e.sets[k]);
    free(e.want);
    free(e.sets);
    free(used);
    diag_list_release(&dl);
    return bad;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_fixture(const struct dirent *d)
{
    return str_ends_with(d->d_name, ".yaml");
}

static void test_bad_workflows(void **state)
{
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(BAD), 0);
    struct dirent **names;
    int n = scandir(".", &names, is_fixture, by_name), bad = 0, failed = 0;
    assert_true(n >= 30);
    for (int i = 0; i < n; i++) {
        int b = check_fixture(names[i]->d_name);
        bad += b;
        failed += b > 0;
        free(names[i]);
    }
    free(names);
    assert_int_equal(chdir(cwd), 0);
    if (bad)
        fail_msg("%d mismatched diagnostics in %d of %d bad workflows", bad, failed, n);
}

int main(void)
{
    setenv("GEMFLOW_WORKFLOWS", GEMFLOW_SOURCE_DIR "/workflows", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bundled_loads),
        cmocka_unit_test(test_video_stage),
        cmocka_unit_test(test_stage_index_and_kind_names),
        cmocka_unit_test(test_find_bundled),
        cmocka_unit_test(test_use_and_set),
        cmocka_unit_test(test_cli_set_images_model),
        cmocka_unit_test(test_cli_set_portraits_off),
        cmocka_unit_test(test_cli_set_rpm_dotted_model),
        cmocka_unit_test(test_cli_set_wins_over_file_set),
        cmocka_unit_test(test_cli_set_yaml_values),
        cmocka_unit_test(test_service_tier_and_timeouts),
        cmocka_unit_test(test_cli_set_prompt_file_from_cwd),
        cmocka_unit_test(test_cli_set_error_location),
        cmocka_unit_test(test_whole_workflow),
        cmocka_unit_test(test_cli_set_on_whole_workflow),
        cmocka_unit_test(test_load_job_default),
        cmocka_unit_test(test_load_job_own_workflow),
        cmocka_unit_test(test_load_job_workflow_path),
        cmocka_unit_test(test_load_job_bad_workflow),
        cmocka_unit_test(test_files_stay_inside),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_ydoc_positions_and_styles),
        cmocka_unit_test(test_ydoc_scalar_types),
        cmocka_unit_test(test_ydoc_to_json),
        cmocka_unit_test(test_bad_workflows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
