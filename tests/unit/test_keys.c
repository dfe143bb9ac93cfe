/* test_keys: the request keys are pinned. A fixed workflow and input (tests/data/keys: one
 * stage of every kind) must produce, byte for byte, the request bodies written out below, and
 * so the keys below. A key decides for every user's finished job whether an item is paid for
 * again: a change in cJSON's number printing, in the order a stage writes its fields or in a
 * default would silently re-bill them all. Changing a key on purpose means changing its constant
 * here in the same commit (docs/design-notes.md, "Changing a request key").
 *
 * The expected bodies are written by hand from the wire format (tests/data/sdk, captured from
 * the official SDK); each key is the SHA-256 of origin "\n" method path "\n" body, computed here
 * from those strings and also pinned as a constant, so a change in the key function shows too. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fsutil.h"
#include "job.h"
#include "sha256.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ORIGIN "https://generativelanguage.googleapis.com"
#define SCRIPT "SCENE 1\\nA lighthouse at dawn.\\n"

struct golden {
    const char *stage, *item;
    const char *method_path;
    const char *body; /* NULL: not compared (the video's is checked by its fields below) */
    const char *key;
};

static const struct golden goldens[] = {
    {"analysis", "analysis", "/v1beta/models/gemini-3.8-flash:generateContent",
     "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Divide this script into "
     "scenes:\\n---\\n" SCRIPT "---\"}]}],\"systemInstruction\":{\"role\":\"user\",\"parts\":[{"
     "\"text\":\"You are a careful script editor.\"}]},\"generationConfig\":{\"thinkingConfig\":{"
     "\"thinkingLevel\":\"LOW\"},\"responseMimeType\":\"application/json\","
     "\"responseJsonSchema\":{\"type\":\"object\",\"properties\":{\"scenes\":{\"type\":\"array\","
     "\"items\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"},\"narration\":{"
     "\"type\":\"string\"}},\"required\":[\"id\",\"narration\"]}}},\"required\":[\"scenes\"]}}}",
     "c58fb1125d2f1ac54d5794188dc583d6da04ae9a4c92247cecc017e70e961b27"},
    {"summary", "summary", "/v1beta/models/gemini-3.8-flash:generateContent",
     "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Summarise in one line: " SCRIPT
     "\"}]}],\"generationConfig\":{\"temperature\":0.5}}",
     "40d3f1100515f610701e5fa0d4b2ceff4e59d59d13d42520927981a489b4a868"},
    {"picture", "picture", "/v1beta/models/gemini-nano-banana-2.1:generateContent",
     "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"A lighthouse at dawn, "
     "cinematic\"}]}],\"generationConfig\":{\"responseModalities\":[\"TEXT\",\"IMAGE\"],"
     "\"imageConfig\":{\"aspectRatio\":\"16:9\",\"imageSize\":\"1K\"}}}",
     "3e1bdf4bddf4fabf948e4e50fda280fded7690059e6be2958007799282327bed"},
    {"voice", "s01", "/v1beta/models/gemini-3.8-flash-tts:generateContent",
     "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"A lighthouse at dawn.\","
     "\"speechMetadata\":{\"style\":\"calm\"}}]}],\"generationConfig\":{\"responseModalities\":["
     "\"AUDIO\"],\"speechConfig\":{\"voiceConfig\":{\"prebuiltVoiceConfig\":{\"voiceName\":"
     "\"Kore\"}}}}}",
     "e845f6a2aa18d1f8de67c2631069633e67a528809c65dd703b27248f696e0036"},
    {"dialogue", "dialogue", "/v1beta/models/gemini-3.8-flash-tts:generateContent",
     "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Is the lamp lit?\","
     "\"speechMetadata\":{\"speaker\":\"Keeper\"}},{\"text\":\"Yes.\",\"speechMetadata\":{"
     "\"speaker\":\"Child\"}}]}],\"generationConfig\":{\"responseModalities\":[\"AUDIO\"],"
     "\"speechConfig\":{\"multiSpeakerVoiceConfig\":{\"speakerVoiceConfigs\":[{\"speaker\":"
     "\"Keeper\",\"voiceConfig\":{\"prebuiltVoiceConfig\":{\"voiceName\":\"Charon\"}}},{"
     "\"speaker\":\"Child\",\"voiceConfig\":{\"prebuiltVoiceConfig\":{\"voiceName\":\"Leda\"}}}]}"
     "}}}",
     "5c5061c2c64e0b2b8526d2789e601291c9ce3e6e8f1d9a113b16eaa3ae3ec615"},
    /* the video's request: its inputs' digests and facts, every setting, FFmpeg 5; pinned as
     * gemflow makes it today (its fields are checked below) */
    {"film", "film", NULL, NULL,
     "946176cea20f27e508d43203974e073c85a68cf89eaaf70e77f1942064712a3a"},
};

static char *key_of(const char *method_path, const char *body)
{
    char *hex = xcalloc(1, SHA256_HEX_LEN + 1);
    job_request_key(ORIGIN, method_path, body, strlen(body), hex);
    return hex;
}

/* A directory first on PATH holding an `ffmpeg` that only says which FFmpeg it is: the video
 * request names FFmpeg's major version, which must not depend on the machine here. */
static char *fake_ffmpeg_dir(void)
{
    char tmpl[] = "/tmp/gemflow-keys-XXXXXX";
    char *dir = xstrdup(mkdtemp(tmpl));
    char *path = xasprintf("%s/ffmpeg", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\necho 'ffmpeg version 5.1.6-0+deb12u1 Copyright (c) 2000-2024 the FFmpeg "
          "developers'\n",
          f);
    fclose(f);
    chmod(path, 0755);
    char *newpath = xasprintf("%s:%s", dir, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    setenv("PATH", newpath, 1);
    free(newpath);
    free(path);
    return dir;
}

static struct item *find_item(struct job *job, const char *stage, const char *id)
{
    int s = workflow_stage_index(&job->wf, stage);
    assert_true(s >= 0);
    for (size_t i = 0; i < job->st[s].n_items; i++)
        if (strcmp(job->st[s].items[i].id, id) == 0)
            return &job->st[s].items[i];
    fail_msg("no item %s/%s", stage, id);
    return NULL;
}

static void test_keys_are_pinned(void **state)
{
    char *ffdir = fake_ffmpeg_dir();
    struct job job;
    struct job_opts opts = {.endpoint = ORIGIN};
    struct diag_list dl = DIAG_LIST_INIT;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(job_open(&job, TEST_DATA_DIR "/keys", &opts, JOB_LOOK, &dl, &err), 0);
    for (size_t k = 0; k < job.wf.n_stages; k++) {
        size_t s = job.wf.order[k];
        if (job_expand_stage(&job, s, &err) < 0)
            fail_msg("stage %s: %s", job.wf.stages[s].name, err.msg);
        /* the foreach and the video read analysis.json (a fixture, as a run would have left it) */
        if (strcmp(job.wf.stages[s].name, "analysis") == 0 &&
            job_load_stage_value(&job, s, &err) < 0)
            fail_msg("analysis.json: %s", err.msg);
    }
    int bad = 0;
    for (size_t g = 0; g < sizeof goldens / sizeof *goldens; g++) {
        const struct golden *x = &goldens[g];
        const struct item *it = find_item(&job, x->stage, x->item);
        if (it->input_error)
            fail_msg("%s/%s cannot be built: %s", x->stage, x->item, it->input_error);
        if (x->body) {
            if (strcmp(it->method_path, x->method_path) != 0 || strcmp(it->body, x->body) != 0) {
                fprintf(stderr, "%s/%s: request changed\n  want %s %s\n  got  %s %s\n", x->stage,
                        x->item, x->method_path, x->body, it->method_path, it->body);
                bad++;
            }
            char *want = key_of(x->method_path, x->body);
            if (strcmp(want, x->key) != 0) {
                fprintf(stderr,
                        "%s: the key function changed: sha256 of the body is %s, the "
                        "pinned constant %s\n",
                        x->stage, want, x->key);
                bad++;
            }
            free(want);
        }
        if (strcmp(it->key, x->key) != 0) {
            fprintf(stderr, "%s/%s: key %s, pinned %s\n", x->stage, x->item, it->key, x->key);
            bad++;
        }
    }
    /* the video's request names each input by its bytes and the settings, FFmpeg's version */
    const struct item *film = find_item(&job, "film", "film");
    assert_string_equal(film->method_path, "video");
    static const char *const parts[] = {
        "\"ffmpeg\":\"5\"",           "\"path\":\"stills/s01.png\"",
        "\"width\":32,\"height\":18", "\"path\":\"audio/s01.wav\"",
        "\"sample_rate\":24000",      "\"caption\":\"A lighthouse at dawn.\"",
    };
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        if (!strstr(film->body, parts[i])) {
            fprintf(stderr, "film: the request lacks %s: %s\n", parts[i], film->body);
            bad++;
        }
    assert_int_equal(bad, 0);
    job_close(&job);
    diag_list_release(&dl);
    char *cmd = xasprintf("rm -rf '%s'", ffdir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(ffdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_are_pinned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
