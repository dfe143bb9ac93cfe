/* test_models: the per-family input token limits and the estimate used to refuse a request
 * before calling (docs/bad-inputs.md, "Huge inputs"). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "modelcheck.h"
#include "models.h"

static void test_families_have_their_documented_limits(void **state)
{
    assert_int_equal(models_input_token_limit("gemini-3.5-flash"), 1048576);
    assert_int_equal(models_input_token_limit("gemini-3.5-pro"), 1048576);
    assert_int_equal(models_input_token_limit("gemini-3.1-flash-image-preview"), 65536);
    assert_int_equal(models_input_token_limit("gemini-3-pro-image-preview"), 65536);
    assert_int_equal(models_input_token_limit("gemini-2.5-flash-image"), 32768);
    assert_int_equal(models_input_token_limit("gemini-2.5-flash-image-preview"), 32768);
    assert_int_equal(models_input_token_limit("gemini-3.8-flash-tts"), 8192);
    assert_int_equal(models_input_token_limit("gemini-2.5-flash-preview-tts"), 8192);
    assert_int_equal(models_input_token_limit("imagen-4.0-generate-001"), 480);
}

static void test_unknown_families_are_not_checked(void **state)
{
    assert_int_equal(models_input_token_limit("my-tuned-model"), 0);
    assert_int_equal(models_input_token_limit(""), 0);
    assert_int_equal(models_input_token_limit("learnlm-2.0-flash"), 0);
}

static void test_estimate_is_a_quarter_rounded_up(void **state)
{
    assert_int_equal(models_estimate_tokens(0), 0);
    assert_int_equal(models_estimate_tokens(1), 1);
    assert_int_equal(models_estimate_tokens(4), 1);
    assert_int_equal(models_estimate_tokens(5), 2);
    assert_int_equal(models_estimate_tokens(4194304), 1048576);
    assert_int_equal(models_estimate_tokens(4194305), 1048577);
    /* no overflow near the top of the range */
    assert_true(models_estimate_tokens(UINT64_MAX) > 0);
}

/* The rule for "the model that answered is the one asked": equal, or a version suffix (a dash,
 * then digits and dashes only). */
static void test_same_model_rule(void **state)
{
    assert_true(mc_same_model("gemini-3.8-flash", "gemini-3.8-flash"));
    assert_true(mc_same_model("gemini-3.8-flash", "models/gemini-3.8-flash"));
    assert_true(mc_same_model("gemini-3.8-flash", "gemini-3.8-flash-001"));
    assert_true(mc_same_model("gemini-3.8-flash", "gemini-3.8-flash-2026-09-02"));
    assert_true(mc_same_model("gemini-2.5-flash-image", "gemini-2.5-flash-image-09-2025"));
    assert_false(mc_same_model("gemini-3.5-flash", "gemini-3.6-flash"));
    assert_false(mc_same_model("gemini-3.8-flash", "gemini-3.8-flash-lite"));
    assert_false(mc_same_model("gemini-3.8-flash", "gemini-3.8-flash-tts"));
    assert_false(mc_same_model("gemini-3.8-flash", "gemini-3.8"));
    assert_false(mc_same_model("gemini-3.8-flash", ""));
    assert_false(mc_same_model("gemini-3.8-flash", "gemini-3.8-flash-"));
    /* a version suffix is digits and dashes only: a dot or letters after the dash make another
     * model, even when they start with a digit */
    assert_false(mc_same_model("gemini-nano-banana", "gemini-nano-banana-2.1"));
    assert_false(mc_same_model("gemini-nano-banana", "models/gemini-nano-banana-2.1-preview"));
    assert_false(mc_same_model("gemini-3.8-flash", "gemini-3.8-flash-2b"));
    assert_false(mc_same_model("gemini-3.8-flash", "gemini-3.8-flash-001-lite"));
    assert_false(mc_same_model("gemini-3.8-flash", "gemini-3.8-flash-001-"));
    assert_false(mc_same_model("gemini-3.8-flash", "gemini-3.8-flash-2026--09"));
    assert_true(mc_same_model("models/gemini-nano-banana-2.1", "gemini-nano-banana-2.1-001"));
}

static void test_model_kinds(void **state)
{
    const char *gen[] = {"generateContent", "countTokens"};
    struct mc_model m = {.methods = (char **)gen, .n_methods = 2};
    struct {
        const char *name, *kind;
    } cases[] = {
        {"gemini-3.8-flash", "text"},         {"gemini-3.8-flash-tts", "speech"},
        {"gemini-nano-banana-2.1", "image"},  {"gemini-3-pro-image", "image"},
        {"imagen-4.0-generate-001", "image"}, {"gemini-omni-1.1-flash", "video"},
        {"gemini-embedding-2", "other"},      {"gemini-3.8-live", "other"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        m.name = (char *)cases[i].name;
        assert_string_equal(mc_model_kind(&m), cases[i].kind);
    }
    m.name = "some-model";
    m.n_methods = 0;
    assert_string_equal(mc_model_kind(&m), "other"); /* no generateContent: not a text model */
    assert_true(models_prebuilt_voice("kore") &&
                strcmp(models_prebuilt_voice("kore"), "Kore") == 0);
    assert_null(models_prebuilt_voice("voice_abc123"));
    assert_true(models_ignores_sampling("gemini-3.6-flash"));
    assert_true(models_ignores_sampling("gemini-4.0-pro"));
    assert_false(models_ignores_sampling("gemini-3.5-flash"));
    assert_false(models_ignores_sampling("gemini-2.5-flash"));
    assert_true(models_tts_has_speech_metadata("gemini-3.8-flash-tts"));
    assert_false(models_tts_has_speech_metadata("gemini-2.5-flash-preview-tts"));
    assert_false(models_tts_has_speech_metadata("gemini-3.1-flash-tts-preview"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_families_have_their_documented_limits),
        cmocka_unit_test(test_unknown_families_are_not_checked),
        cmocka_unit_test(test_estimate_is_a_quarter_rounded_up),
        cmocka_unit_test(test_same_model_rule),
        cmocka_unit_test(test_model_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
