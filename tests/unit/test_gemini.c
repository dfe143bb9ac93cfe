/* test_gemini: parsing real-shaped Gemini replies (tests/data/replies/) and error bodies. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base64.h"
#include "buf.h"
#include "gemini.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TEST_DATA_DIR
#error "TEST_DATA_DIR must name tests/data"
#endif

static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

static char *load(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/replies/%s", TEST_DATA_DIR, name);
    struct buf b = BUF_INIT;
    if (buf_read_file(&b, path) != 0)
        fail_msg("cannot read fixture %s", path);
    return buf_detach(&b, len);
}

/* Parse a fixture that must parse. */
static void parse_fixture(const char *name, enum gemini_verb verb, struct gemini_reply *r)
{
    size_t len;
    char *body = load(name, &len);
    struct gf_err err = GF_ERR_INIT;
    int rc = gemini_reply_parse(body, len, verb, r, &err);
    free(body);
    if (rc != 0)
        fail_msg("%s: %s", name, err.msg);
    assert_non_null(r->root);
}

/* Parse an inline body that must fail; returns the message in err. */
static void parse_must_fail(const char *body, struct gf_err *err)
{
    struct gemini_reply r;
    assert_int_equal(gemini_reply_parse(body, strlen(body), GEMINI_GENERATE, &r, err), -1);
    assert_int_equal(err->kind, GF_ERR_INPUT);
    assert_null(r.root); /* nothing left to free */
    assert_null(r.parts);
    assert_int_equal(r.n_parts, 0);
}

/* ---- real-shaped replies ---- */

static void test_text_reply(void **state)
{
    struct gemini_reply r;
    parse_fixture("text.json", GEMINI_GENERATE, &r);
    assert_int_equal(r.n_parts, 1);
    char *text = gemini_reply_text(&r);
    assert_string_equal(text, "The capital of France is **Paris**.\n");
    free(text);
    assert_string_equal(r.finish_reason, "STOP");
    assert_null(r.block_reason);
    assert_null(gemini_reply_media(&r, "image/"));
    gemini_reply_release(&r);
}

static void test_text_reply_usage_and_ids(void **state)
{
    struct gemini_reply r;
    parse_fixture("text.json", GEMINI_GENERATE, &r);
    assert_int_equal(r.usage.prompt, 7);
    assert_int_equal(r.usage.output, 9);
    assert_int_equal(r.usage.thoughts, -1); /* absent */
    assert_int_equal(r.usage.total, 16);
    assert_string_equal(r.model_version, "gemini-2.0-flash");
    assert_string_equal(r.response_id, "ictQaKDzD_6ShMIPm7P8iAY");
    gemini_reply_release(&r);
}

static void test_json_in_text(void **state)
{
    struct gemini_reply r;
    parse_fixture("json_text.json", GEMINI_GENERATE, &r);
    char *text = gemini_reply_text(&r);
    assert_non_null(text);
    cJSON *doc = cJSON_Parse(text);
    assert_non_null(doc);
    const cJSON *scenes = cJSON_GetObjectItemCaseSensitive(doc, "scenes");
    assert_int_equal(cJSON_GetArraySize(scenes), 2);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(scenes, 1), "id")->valuestring,
                        "s2");
    cJSON_Delete(doc);
    free(text);
    assert_int_equal(r.usage.thoughts, 513);
    assert_int_equal(r.usage.total, 1021);
    gemini_reply_release(&r);
}

static void test_image_reply_parts_in_order(void **state)
{
    struct gemini_reply r;
    parse_fixture("image.json", GEMINI_GENERATE, &r);
    assert_int_equal(r.n_parts, 3);
    assert_true(r.parts[0].thought);
    assert_non_null(r.parts[0].text);
    assert_false(r.parts[1].thought);
    assert_string_equal(r.parts[1].text, "Here is the lighthouse at dawn.");
    assert_null(r.parts[1].mime);
    assert_null(r.parts[2].text);
    assert_string_equal(r.parts[2].mime, "image/png");
    gemini_reply_release(&r);
}

static void test_image_reply_text_skips_thoughts(void **state)
{
    struct gemini_reply r;
    parse_fixture("image.json", GEMINI_GENERATE, &r);
    char *text = gemini_reply_text(&r);
    assert_string_equal(text, "Here is the lighthouse at dawn.");
    free(text);
    gemini_reply_release(&r);
}

static void test_image_reply_media_decodes_to_png(void **state)
{
    struct gemini_reply r;
    parse_fixture("image.json", GEMINI_GENERATE, &r);
    const struct gemini_part *img = gemini_reply_media(&r, "image/");
    assert_ptr_equal(img, &r.parts[2]);
    assert_int_equal(img->data_len, strlen(img->data));
    struct buf png = BUF_INIT;
    assert_int_equal(base64_decode(img->data, img->data_len, &png, NULL), 0);
    assert_int_equal(png.len, 156); /* the fixture's 8x6 PNG */
    assert_memory_equal(png.data, png_sig, 8);
    buf_release(&png);
    assert_null(gemini_reply_media(&r, "audio/"));
    assert_int_equal(r.usage.thoughts, 178);
    gemini_reply_release(&r);
}

static void test_tts_l16_reply(void **state)
{
    struct gemini_reply r;
    parse_fixture("tts_l16.json", GEMINI_GENERATE, &r);
    const struct gemini_part *audio = gemini_reply_media(&r, "audio/");
    assert_non_null(audio);
    assert_string_equal(audio->mime, "audio/L16;codec=pcm;rate=24000");
    struct buf pcm = BUF_INIT;
    assert_int_equal(base64_decode(audio->data, audio->data_len, &pcm, NULL), 0);
    assert_int_equal(pcm.len, 96); /* 48 frames of 16-bit mono */
    assert_int_equal((unsigned char)pcm.data[0] | (unsigned char)pcm.data[1] << 8, 0);
    buf_release(&pcm);
    assert_null(gemini_reply_text(&r));
    assert_int_equal(r.usage.output, 48);
    assert_int_equal(r.usage.total, 56);
    gemini_reply_release(&r);
}

static void test_tts_wav_reply(void **state)
{
    struct gemini_reply r;
    parse_fixture("tts_wav.json", GEMINI_GENERATE, &r);
    const struct gemini_part *audio = gemini_reply_media(&r, "AUDIO/"); /* case-insensitive */
    assert_non_null(audio);
    assert_string_equal(audio->mime, "audio/wav");
    struct buf wav = BUF_INIT;
    assert_int_equal(base64_decode(audio->data, audio->data_len, &wav, NULL), 0);
    assert_int_equal(wav.len, 140);
    assert_memory_equal(wav.data, "RIFF", 4);
    assert_memory_equal(wav.data + 8, "WAVE", 4);
    buf_release(&wav);
    assert_string_equal(r.model_version, "gemini-3.8-flash-tts");
    gemini_reply_release(&r);
}

static void test_predict_two_predictions(void **state)
{
    struct gemini_reply r;
    parse_fixture("predict.json", GEMINI_PREDICT, &r);
    assert_int_equal(r.n_parts, 2);
    assert_string_equal(r.parts[0].mime, "image/png");
    assert_string_equal(r.parts[1].mime, "image/jpeg");
    assert_ptr_equal(gemini_reply_media(&r, "image/"), &r.parts[0]);
    assert_null(r.rai_reason);
    assert_int_equal(r.usage.prompt, -1);
    assert_int_equal(r.usage.total, -1);
    gemini_reply_release(&r);
}

static void test_predict_default_mime_and_rai_reason(void **state)
{
    struct gemini_reply r;
    parse_fixture("predict_filtered.json", GEMINI_PREDICT, &r);
    assert_int_equal(r.n_parts, 1); /* the filtered sample is not a part */
    assert_string_equal(r.parts[0].mime, "image/png");
    assert_non_null(r.rai_reason);
    assert_non_null(strstr(r.rai_reason, "filtered out 1 generated images"));
    gemini_reply_release(&r);
}

static void test_predict_without_predictions_parses_empty(void **state)
{
    struct gemini_reply r;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(gemini_reply_parse("{}", 2, GEMINI_PREDICT, &r, &err), 0);
    assert_int_equal(r.n_parts, 0);
    assert_null(gemini_reply_media(&r, "image/"));
    gemini_reply_release(&r);
}

static void test_blocked_prompt(void **state)
{
    struct gemini_reply r;
    parse_fixture("blocked_prompt.json", GEMINI_GENERATE, &r);
    assert_string_equal(r.block_reason, "SAFETY");
    assert_null(r.finish_reason);
    assert_int_equal(r.n_parts, 0);
    assert_null(gemini_reply_text(&r));
    assert_null(gemini_reply_media(&r, "image/"));
    assert_non_null(r.safety_ratings);
    assert_int_equal(cJSON_GetArraySize(r.safety_ratings), 4);
    assert_int_equal(r.usage.prompt, 12);
    assert_int_equal(r.usage.output, -1);
    gemini_reply_release(&r);
}

static void test_safety_finish_with_ratings(void **state)
{
    struct gemini_reply r;
    parse_fixture("safety_finish.json", GEMINI_GENERATE, &r);
    assert_string_equal(r.finish_reason, "SAFETY");
    assert_true(gemini_finish_is_blocked(r.finish_reason));
    assert_int_equal(r.n_parts, 0);
    assert_non_null(r.safety_ratings);
    const cJSON *last = cJSON_GetArrayItem(r.safety_ratings, 3);
    assert_string_equal(cJSON_GetObjectItem(last, "probability")->valuestring, "HIGH");
    assert_null(r.block_reason);
    gemini_reply_release(&r);
}

static void test_image_safety_without_ratings(void **state)
{
    struct gemini_reply r;
    parse_fixture("image_safety.json", GEMINI_GENERATE, &r);
    assert_string_equal(r.finish_reason, "IMAGE_SAFETY");
    assert_true(gemini_finish_is_blocked(r.finish_reason));
    assert_null(r.safety_ratings);
    assert_non_null(r.finish_message);
    assert_non_null(strstr(r.finish_message, "filtered out"));
    assert_null(gemini_reply_media(&r, "image/"));
    gemini_reply_release(&r);
}

static void test_content_without_parts(void **state)
{
    struct gemini_reply r;
    parse_fixture("no_parts.json", GEMINI_GENERATE, &r);
    assert_int_equal(r.n_parts, 0);
    assert_null(gemini_reply_text(&r));
    assert_string_equal(r.finish_reason, "STOP");
    assert_false(gemini_finish_is_blocked(r.finish_reason));
    assert_int_equal(r.usage.thoughts, 1019);
    assert_int_equal(r.usage.output, -1);
    gemini_reply_release(&r);
}

static void test_max_tokens_truncated_json_text(void **state)
{
    struct gemini_reply r;
    parse_fixture("max_tokens.json", GEMINI_GENERATE, &r);
    assert_string_equal(r.finish_reason, "MAX_TOKENS");
    assert_false(gemini_finish_is_blocked(r.finish_reason));
    char *text = gemini_reply_text(&r);
    assert_non_null(text);
    assert_null(cJSON_Parse(text)); /* the caller finds the answer cut short */
    free(text);
    gemini_reply_release(&r);
}

/* ---- defensive parsing ---- */

static void test_snake_case_inline_data(void **state)
{
    const char *body = "{\"candidates\":[{\"content\":{\"parts\":[{\"inline_data\":"
                       "{\"mime_type\":\"image/png\",\"data\":\"iVBORw0KGgo=\"}}]}}]}";
    struct gemini_reply r;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(gemini_reply_parse(body, strlen(body), GEMINI_GENERATE, &r, &err), 0);
    const struct gemini_part *img = gemini_reply_media(&r, "image/");
    assert_non_null(img);
    assert_string_equal(img->data, "iVBORw0KGgo=");
    assert_int_equal(img->data_len, 12);
    gemini_reply_release(&r);
}

static void test_wrong_leaf_types_are_ignored(void **state)
{
    const char *body = "{\"candidates\":[{\"content\":{\"parts\":["
                       "{\"text\":42},"
                       "{\"text\":\"ok\",\"unknown\":{\"deep\":[1,2]},\"thought\":\"yes\"},"
                       "{\"inlineData\":{\"mimeType\":7,\"data\":\"AAAA\"}},"
                       "{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":null}},"
                       "{\"inlineData\":\"not an object\"}"
                       "]},\"finishReason\":1,\"index\":0}],"
                       "\"usageMetadata\":{\"promptTokenCount\":\"7\",\"totalTokenCount\":-3},"
                       "\"modelVersion\":[],\"somethingNew\":true}";
    struct gemini_reply r;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(gemini_reply_parse(body, strlen(body), GEMINI_GENERATE, &r, &err), 0);
    assert_int_equal(r.n_parts, 5);
    assert_null(r.parts[0].text);
    assert_false(r.parts[1].thought); /* "yes" is not true */
    char *text = gemini_reply_text(&r);
    assert_string_equal(text, "ok");
    free(text);
    assert_null(r.parts[2].mime);
    assert_string_equal(r.parts[2].data, "AAAA");
    assert_null(r.parts[3].data);
    assert_null(r.parts[3].mime);
    assert_null(gemini_reply_media(&r, "image/"));
    assert_null(r.finish_reason);
    assert_null(r.model_version);
    assert_int_equal(r.usage.prompt, -1);
    assert_int_equal(r.usage.total, -1);
    gemini_reply_release(&r);
}

static void test_thought_media_is_not_the_answer(void **state)
{
    const char *body =
        "{\"candidates\":[{\"content\":{\"parts\":["
        "{\"thought\":true,\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"QQ==\"}},"
        "{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"Qg==\"}}]}}]}";
    struct gemini_reply r;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(gemini_reply_parse(body, strlen(body), GEMINI_GENERATE, &r, &err), 0);
    const struct gemini_part *img = gemini_reply_media(&r, "image/");
    assert_non_null(img);
    assert_string_equal(img->data, "Qg==");
    gemini_reply_release(&r);
}

static void test_truncated_json_fails_with_offset(void **state)
{
    size_t len;
    char *body = load("text.json", &len);
    struct gemini_reply r;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(gemini_reply_parse(body, len / 2, GEMINI_GENERATE, &r, &err), -1);
    free(body);
    assert_non_null(strstr(err.msg, "reply is not valid JSON near byte"));
    assert_non_null(strstr(err.msg, "it ends inside a value (truncated?)"));
    assert_null(r.root);
}

static void test_invalid_json_names_the_byte(void **state)
{
    struct gf_err err = GF_ERR_INIT;
    parse_must_fail("{\"candidates\": [}, \"x\": 1}", &err);
    /* '{' 0, "candidates" 1..12, ':' 13, ' ' 14, '[' 15: the '}' at 16 cannot start a value */
    assert_string_equal(err.msg, "reply is not valid JSON near byte 16 of 26");
}

static void test_truncated_inside_string_is_called_truncated(void **state)
{
    struct gf_err err = GF_ERR_INIT;
    parse_must_fail("{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Hel", &err);
    assert_non_null(strstr(err.msg, "(truncated?)"));
}

static void test_empty_body_fails(void **state)
{
    struct gemini_reply r;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(gemini_reply_parse("", 0, GEMINI_GENERATE, &r, &err), -1);
    assert_non_null(strstr(err.msg, "empty"));
}

static void test_not_an_object_fails(void **state)
{
    struct gf_err err = GF_ERR_INIT;
    parse_must_fail("[{\"candidates\": []}]", &err);
    assert_string_equal(err.msg, "reply is an array, not a JSON object");
}

static void test_trailing_garbage_fails(void **state)
{
    struct gf_err err = GF_ERR_INIT;
    parse_must_fail("{\"candidates\": []} xyz", &err);
    assert_non_null(strstr(err.msg, "after the JSON value at byte 19"));
}

static void test_candidates_not_an_array_fails(void **state)
{
    struct gf_err err = GF_ERR_INIT;
    parse_must_fail("{\"candidates\": {\"content\": {}}}", &err);
    assert_string_equal(err.msg, "reply field 'candidates' is an object, not an array");
}

static void test_candidate_not_an_object_fails(void **state)
{
    struct gf_err err = GF_ERR_INIT;
    parse_must_fail("{\"candidates\": [\"STOP\"]}", &err);
    assert_string_equal(err.msg, "reply field 'candidates[0]' is a string, not an object");
}

static void test_content_not_an_object_fails(void **state)
{
    struct gf_err err = GF_ERR_INIT;
    parse_must_fail("{\"candidates\": [{\"content\": [1]}]}", &err);
    assert_string_equal(err.msg, "reply field 'candidates[0].content' is an array, not an object");
}

static void test_parts_not_an_array_fails(void **state)
{
    struct gf_err err = GF_ERR_INIT;
    parse_must_fail("{\"candidates\": [{\"content\": {\"parts\": \"hello\"}}]}", &err);
    assert_string_equal(err.msg,
                        "reply field 'candidates[0].content.parts' is a string, not an array");
}

static void test_part_not_an_object_fails(void **state)
{
    struct gf_err err = GF_ERR_INIT;
    parse_must_fail("{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"a\"}, 7]}}]}", &err);
    assert_string_equal(err.msg,
                        "reply field 'candidates[0].content.parts[1]' is a number, not an object");
}

static void test_predictions_not_an_array_fails(void **state)
{
    const char *body = "{\"predictions\": \"none\"}";
    struct gemini_reply r;
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(gemini_reply_parse(body, strlen(body), GEMINI_PREDICT, &r, &err), -1);
    assert_string_equal(err.msg, "reply field 'predictions' is a string, not an array");
}

static void test_neither_candidates_nor_feedback_fails(void **state)
{
    struct gf_err err = GF_ERR_INIT;
    parse_must_fail("{\"modelVersion\": \"x\", \"usageMetadata\": {}}", &err);
    assert_true(strncmp(err.msg, "reply has neither candidates nor promptFeedback", 47) == 0);
    assert_non_null(strstr(err.msg, "modelVersion, usageMetadata"));
}

static void test_error_object_in_2xx_fails(void **state)
{
    struct gf_err err = GF_ERR_INIT;
    parse_must_fail("{\"error\": {\"code\": 500, \"message\": \"An internal error has occurred.\","
                    " \"status\": \"INTERNAL\"}}",
                    &err);
    assert_string_equal(err.msg, "reply is an error INTERNAL: An internal error has occurred.");
}

static void test_release_twice_is_safe(void **state)
{
    struct gemini_reply r;
    parse_fixture("text.json", GEMINI_GENERATE, &r);
    gemini_reply_release(&r);
    gemini_reply_release(&r);
    gemini_reply_release(NULL);
    assert_null(r.root);
}

/* ---- finish reasons ---- */

static void test_finish_reasons_blocked(void **state)
{
    static const char *const blocked[] = {"SAFETY",
                                          "RECITATION",
                                          "LANGUAGE",
                                          "BLOCKLIST",
                                          "PROHIBITED_CONTENT",
                                          "SPII",
                                          "IMAGE_SAFETY",
                                          "IMAGE_PROHIBITED_CONTENT",
                                          "IMAGE_RECITATION"};
    for (size_t i = 0; i < sizeof blocked / sizeof *blocked; i++)
        if (!gemini_finish_is_blocked(blocked[i]))
            fail_msg("%s should count as blocked", blocked[i]);
}

static void test_finish_reasons_not_blocked(void **state)
{
    static const char *const fine[] = {"FINISH_REASON_UNSPECIFIED",
                                       "STOP",
                                       "MAX_TOKENS",
                                       "OTHER",
                                       "MALFORMED_FUNCTION_CALL",
                                       "UNEXPECTED_TOOL_CALL",
                                       "TOO_MANY_TOOL_CALLS",
                                       "NO_IMAGE",
                                       "IMAGE_OTHER",
                                       "CONTINUATION"};
    for (size_t i = 0; i < sizeof fine / sizeof *fine; i++)
        if (gemini_finish_is_blocked(fine[i]))
            fail_msg("%s should not count as blocked", fine[i]);
    assert_false(gemini_finish_is_blocked(NULL));
}

static void test_finish_reason_unknown_policy_name_blocked(void **state)
{
    assert_true(gemini_finish_is_blocked("VIDEO_SAFETY"));
    assert_false(gemini_finish_is_blocked("SOMETHING_NEW"));
}

/* ---- error bodies ---- */

static void parse_error_fixture(int http, const char *name, struct gemini_error *e)
{
    size_t len;
    char *body = load(name, &len);
    gemini_error_parse(http, body, len, e);
    free(body);
    assert_non_null(e->message);
}

static void test_error_429_per_minute(void **state)
{
    struct gemini_error e;
    parse_error_fixture(429, "error_429_minute.json", &e);
    assert_int_equal(e.code, 429);
    assert_string_equal(e.status, "RESOURCE_EXHAUSTED");
    assert_int_equal(e.retry_delay_ms, 26000);
    assert_string_equal(e.quota_id, "GenerateContentInputTokensPerModelPerMinute-FreeTier");
    assert_false(e.daily_quota);
    assert_true(strncmp(e.message, "You exceeded your current quota", 31) == 0);
    gemini_error_release(&e);
}

static void test_error_429_per_day(void **state)
{
    struct gemini_error e;
    parse_error_fixture(429, "error_429_day.json", &e);
    assert_true(e.daily_quota);
    assert_string_equal(e.quota_id, "GenerateRequestsPerDayPerProjectPerModel-FreeTier");
    assert_int_equal(e.retry_delay_ms, 47000); /* RetryInfo wins over the message's 47.1s */
    gemini_error_release(&e);
}

static void test_error_429_daily_among_several_violations(void **state)
{
    const char *body =
        "{\"error\":{\"code\":429,\"status\":\"RESOURCE_EXHAUSTED\",\"message\":\"quota\","
        "\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.QuotaFailure\",\"violations\":["
        "{\"quotaId\":\"GenerateRequestsPerMinutePerProjectPerModel\"},"
        "{\"quotaId\":\"GenerateContentInputTokensPerDayPerProjectPerModel\"}]}]}}";
    struct gemini_error e;
    gemini_error_parse(429, body, strlen(body), &e);
    assert_string_equal(e.quota_id, "GenerateRequestsPerMinutePerProjectPerModel"); /* first */
    assert_true(e.daily_quota);
    assert_int_equal(e.retry_delay_ms, -1);
    gemini_error_release(&e);
}

static void test_error_429_delay_from_message(void **state)
{
    struct gemini_error e;
    parse_error_fixture(429, "error_429_message.json", &e);
    assert_int_equal(e.retry_delay_ms, 20045); /* 20.04466179 s rounded up */
    assert_null(e.quota_id);
    assert_false(e.daily_quota);
    assert_non_null(strstr(e.message, "\n* Quota exceeded for metric")); /* newlines kept */
    gemini_error_release(&e);
}

static void test_error_delay_go_duration_in_message(void **state)
{
    const char *body = "{\"error\":{\"code\":429,\"message\":\"Slow down. Please retry in "
                       "1m30.5s.\",\"status\":\"RESOURCE_EXHAUSTED\"}}";
    struct gemini_error e;
    gemini_error_parse(429, body, strlen(body), &e);
    assert_int_equal(e.retry_delay_ms, 90500);
    gemini_error_release(&e);
}

static void test_error_delay_in_milliseconds_in_message(void **state)
{
    const char *body = "{\"error\":{\"code\":429,\"message\":\"Please retry in 850.2ms\"}}";
    struct gemini_error e;
    gemini_error_parse(429, body, strlen(body), &e);
    assert_int_equal(e.retry_delay_ms, 851);
    gemini_error_release(&e);
}

static void test_error_503(void **state)
{
    struct gemini_error e;
    parse_error_fixture(503, "error_503.json", &e);
    assert_int_equal(e.code, 503);
    assert_string_equal(e.status, "UNAVAILABLE");
    assert_string_equal(e.message, "The model is overloaded. Please try again later.");
    assert_int_equal(e.retry_delay_ms, -1);
    assert_null(e.quota_id);
    gemini_error_release(&e);
}

static void test_error_500(void **state)
{
    struct gemini_error e;
    parse_error_fixture(500, "error_500.json", &e);
    assert_string_equal(e.status, "INTERNAL");
    assert_int_equal(e.retry_delay_ms, -1); /* "Please retry or report" is no delay */
    gemini_error_release(&e);
}

static void test_error_400_api_key_invalid(void **state)
{
    struct gemini_error e;
    parse_error_fixture(400, "error_400_key.json", &e);
    assert_int_equal(e.code, 400);
    assert_string_equal(e.status, "INVALID_ARGUMENT");
    assert_string_equal(e.message, "API key not valid. Please pass a valid API key.");
    assert_int_equal(e.retry_delay_ms, -1);
    assert_false(e.daily_quota);
    gemini_error_release(&e);
}

static void test_error_403(void **state)
{
    struct gemini_error e;
    parse_error_fixture(403, "error_403.json", &e);
    assert_string_equal(e.status, "PERMISSION_DENIED");
    assert_true(strncmp(e.message, "Method doesn't allow unregistered callers", 41) == 0);
    gemini_error_release(&e);
}

static void test_error_404(void **state)
{
    struct gemini_error e;
    parse_error_fixture(404, "error_404.json", &e);
    assert_int_equal(e.code, 404);
    assert_string_equal(e.status, "NOT_FOUND");
    assert_true(strncmp(e.message, "models/gemini-2.0-flash-live-001 is not found", 45) == 0);
    gemini_error_release(&e);
}

static void assert_clean(const char *msg)
{
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            fail_msg("control character 0x%02x in \"%s\"", *p, msg);
}

static void test_error_html_502(void **state)
{
    struct gemini_error e;
    parse_error_fixture(502, "error_502.html", &e);
    assert_int_equal(e.code, 502);
    assert_null(e.status);
    assert_true(strlen(e.message) <= 300);
    assert_clean(e.message);
    assert_null(strchr(e.message, '<'));
    assert_null(strstr(e.message, "margin:0")); /* the <style> is not text */
    assert_true(strncmp(e.message, "Error 502 (Server Error)!!1 502.", 32) == 0);
    assert_non_null(strstr(e.message, "The server encountered a temporary error"));
    gemini_error_release(&e);
}

static void test_error_empty_body(void **state)
{
    struct gemini_error e;
    gemini_error_parse(502, "", 0, &e);
    assert_string_equal(e.message, "HTTP 502 with an empty body");
    assert_int_equal(e.code, 502);
    assert_null(e.status);
    assert_int_equal(e.retry_delay_ms, -1);
    gemini_error_release(&e);
    gemini_error_parse(504, " \r\n\t", 4, &e); /* white space only counts as empty */
    assert_string_equal(e.message, "HTTP 504 with an empty body");
    gemini_error_release(&e);
}

static void test_error_plain_text_body_is_trimmed_and_cut(void **state)
{
    char body[2000];
    memset(body, 'x', sizeof body);
    memcpy(body, "  upstream\r\nconnect\x1b[31m error\x01", 31);
    struct gemini_error e;
    gemini_error_parse(503, body, sizeof body, &e);
    assert_int_equal(strlen(e.message), 300);
    assert_clean(e.message);
    assert_true(strncmp(e.message, "upstream connect [31m error xxx", 31) == 0);
    assert_string_equal(e.message + 297, "...");
    gemini_error_release(&e);
}

static void test_error_invalid_utf8_replaced(void **state)
{
    const char body[] = "bad \xff\xfe byte \xc3\xa9t\xc3\xa9";
    struct gemini_error e;
    gemini_error_parse(500, body, sizeof body - 1, &e);
    assert_string_equal(e.message, "bad ?? byte \xc3\xa9t\xc3\xa9");
    gemini_error_release(&e);
}

static void test_error_cut_keeps_utf8_whole(void **state)
{
    char body[400];
    for (size_t i = 0; i < sizeof body; i += 2)
        memcpy(body + i, "\xc3\xa9", 2); /* 200 x U+00E9 */
    struct gemini_error e;
    gemini_error_parse(500, body, sizeof body, &e);
    /* 297 would split a character: 148 characters (296 bytes) and "..." */
    assert_int_equal(strlen(e.message), 299);
    assert_memory_equal(e.message + 294, "\xc3\xa9...", 5);
    gemini_error_release(&e);
}

static void test_error_without_code_uses_http_status(void **state)
{
    const char *body = "{\"error\":{\"message\":\"Backend Error\",\"status\":\"INTERNAL\"}}";
    struct gemini_error e;
    gemini_error_parse(500, body, strlen(body), &e);
    assert_int_equal(e.code, 500);
    assert_string_equal(e.message, "Backend Error");
    gemini_error_release(&e);
}

static void test_error_array_wrapped(void **state)
{
    const char *body =
        "[{\"error\":{\"code\":503,\"message\":\"overloaded\",\"status\":\"UNAVAILABLE\"}}]";
    struct gemini_error e;
    gemini_error_parse(503, body, strlen(body), &e);
    assert_string_equal(e.status, "UNAVAILABLE");
    assert_string_equal(e.message, "overloaded");
    gemini_error_release(&e);
}

static void test_error_string_error_field(void **state)
{
    const char *body = "{\"error\": \"Not Found\"}";
    struct gemini_error e;
    gemini_error_parse(404, body, strlen(body), &e);
    assert_string_equal(e.message, "Not Found");
    assert_null(e.status);
    gemini_error_release(&e);
}

static void test_error_bad_retry_delay_falls_back_to_message(void **state)
{
    const char *body = "{\"error\":{\"code\":429,\"message\":\"Please retry in 3s.\","
                       "\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\","
                       "\"retryDelay\":\"soon\"}]}}";
    struct gemini_error e;
    gemini_error_parse(429, body, strlen(body), &e);
    assert_int_equal(e.retry_delay_ms, 3000);
    gemini_error_release(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_reply),
        cmocka_unit_test(test_text_reply_usage_and_ids),
        cmocka_unit_test(test_json_in_text),
        cmocka_unit_test(test_image_reply_parts_in_order),
        cmocka_unit_test(test_image_reply_text_skips_thoughts),
        cmocka_unit_test(test_image_reply_media_decodes_to_png),
        cmocka_unit_test(test_tts_l16_reply),
        cmocka_unit_test(test_tts_wav_reply),
        cmocka_unit_test(test_predict_two_predictions),
        cmocka_unit_test(test_predict_default_mime_and_rai_reason),
        cmocka_unit_test(test_predict_without_predictions_parses_empty),
        cmocka_unit_test(test_blocked_prompt),
        cmocka_unit_test(test_safety_finish_with_ratings),
        cmocka_unit_test(test_image_safety_without_ratings),
        cmocka_unit_test(test_content_without_parts),
        cmocka_unit_test(test_max_tokens_truncated_json_text),
        cmocka_unit_test(test_snake_case_inline_data),
        cmocka_unit_test(test_wrong_leaf_types_are_ignored),
        cmocka_unit_test(test_thought_media_is_not_the_answer),
        cmocka_unit_test(test_truncated_json_fails_with_offset),
        cmocka_unit_test(test_invalid_json_names_the_byte),
        cmocka_unit_test(test_truncated_inside_string_is_called_truncated),
        cmocka_unit_test(test_empty_body_fails),
        cmocka_unit_test(test_not_an_object_fails),
        cmocka_unit_test(test_trailing_garbage_fails),
        cmocka_unit_test(test_candidates_not_an_array_fails),
        cmocka_unit_test(test_candidate_not_an_object_fails),
        cmocka_unit_test(test_content_not_an_object_fails),
        cmocka_unit_test(test_parts_not_an_array_fails),
        cmocka_unit_test(test_part_not_an_object_fails),
        cmocka_unit_test(test_predictions_not_an_array_fails),
        cmocka_unit_test(test_neither_candidates_nor_feedback_fails),
        cmocka_unit_test(test_error_object_in_2xx_fails),
        cmocka_unit_test(test_release_twice_is_safe),
        cmocka_unit_test(test_finish_reasons_blocked),
        cmocka_unit_test(test_finish_reasons_not_blocked),
        cmocka_unit_test(test_finish_reason_unknown_policy_name_blocked),
        cmocka_unit_test(test_error_429_per_minute),
        cmocka_unit_test(test_error_429_per_day),
        cmocka_unit_test(test_error_429_daily_among_several_violations),
        cmocka_unit_test(test_error_429_delay_from_message),
        cmocka_unit_test(test_error_delay_go_duration_in_message),
        cmocka_unit_test(test_error_delay_in_milliseconds_in_message),
        cmocka_unit_test(test_error_503),
        cmocka_unit_test(test_error_500),
        cmocka_unit_test(test_error_400_api_key_invalid),
        cmocka_unit_test(test_error_403),
        cmocka_unit_test(test_error_404),
        cmocka_unit_test(test_error_html_502),
        cmocka_unit_test(test_error_empty_body),
        cmocka_unit_test(test_error_plain_text_body_is_trimmed_and_cut),
        cmocka_unit_test(test_error_invalid_utf8_replaced),
        cmocka_unit_test(test_error_cut_keeps_utf8_whole),
        cmocka_unit_test(test_error_without_code_uses_http_status),
        cmocka_unit_test(test_error_array_wrapped),
        cmocka_unit_test(test_error_string_error_field),
        cmocka_unit_test(test_error_bad_retry_delay_falls_back_to_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
