/* test_models: the per-family input token limits and the estimate used to refuse a request
 * before calling (docs/bad-inputs.md, "Huge inputs"). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_families_have_their_documented_limits),
        cmocka_unit_test(test_unknown_families_are_not_checked),
        cmocka_unit_test(test_estimate_is_a_quarter_rounded_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
