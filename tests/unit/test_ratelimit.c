/* test_ratelimit: per-model pacing and 429 pauses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ratelimit.h"

static void test_unlimited_model_starts_at_once(void **state)
{
    struct ratelimit rl = {0};
    assert_int_equal(rl_ready_at(&rl, "m", 1000), 1000);
    rl_take(&rl, "m", 1000);
    assert_int_equal(rl_ready_at(&rl, "m", 1000), 1000);
    rl_release(&rl);
}

static void test_rpm_paces_calls_with_margin(void **state)
{
    struct ratelimit rl = {0};
    rl_set(&rl, "img", 10); /* one call per 6 s, plus 1 % */
    assert_int_equal(rl_ready_at(&rl, "img", 0), 0);
    rl_take(&rl, "img", 0);
    int64_t next = rl_ready_at(&rl, "img", 0);
    assert_true(next >= 6000 && next <= 6100);
    /* R calls take at least a minute: a sliding-minute server never sees more than R */
    int64_t t = 0;
    for (int i = 1; i < 11; i++) {
        t = rl_ready_at(&rl, "img", t);
        rl_take(&rl, "img", t);
    }
    assert_true(t >= 60000);
    /* other models are not affected */
    assert_int_equal(rl_ready_at(&rl, "tts", 5), 5);
    rl_release(&rl);
}

static void test_lowest_limit_wins(void **state)
{
    struct ratelimit rl = {0};
    rl_set(&rl, "m", 60);
    rl_set(&rl, "m", 30);
    rl_set(&rl, "m", 120);
    rl_take(&rl, "m", 0);
    assert_true(rl_ready_at(&rl, "m", 0) >= 2000);
    rl_release(&rl);
}

static void test_pause_holds_the_model(void **state)
{
    struct ratelimit rl = {0};
    rl_pause(&rl, "m", 5000);
    assert_int_equal(rl_ready_at(&rl, "m", 100), 5000);
    rl_pause(&rl, "m", 3000); /* an earlier end does not shorten the pause */
    assert_int_equal(rl_ready_at(&rl, "m", 100), 5000);
    assert_int_equal(rl_ready_at(&rl, "m", 7000), 7000);
    rl_release(&rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unlimited_model_starts_at_once),
        cmocka_unit_test(test_rpm_paces_calls_with_margin),
        cmocka_unit_test(test_lowest_limit_wins),
        cmocka_unit_test(test_pause_holds_the_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
