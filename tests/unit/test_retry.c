/* test_retry: Duration and Retry-After parsing, full-jitter backoff, retryable statuses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "retry.h"

#include <string.h>
#include <time.h>

/* ---- retry_parse_duration ---- */

static void test_duration_whole_seconds(void **state)
{
    assert_int_equal(retry_parse_duration("26s"), 26000);
    assert_int_equal(retry_parse_duration("47s"), 47000);
    assert_int_equal(retry_parse_duration("0s"), 0);
}

static void test_duration_fractions(void **state)
{
    assert_int_equal(retry_parse_duration("1.5s"), 1500);
    assert_int_equal(retry_parse_duration("0.5s"), 500);
    assert_int_equal(retry_parse_duration("0.001s"), 1);
    assert_int_equal(retry_parse_duration("2.000000000s"), 2000);
}

static void test_duration_rounds_up_to_ms(void **state)
{
    assert_int_equal(retry_parse_duration("57.238747106s"), 57239);
    assert_int_equal(retry_parse_duration("20.04466179s"), 20045);
    assert_int_equal(retry_parse_duration("0.0001s"), 1);
    assert_int_equal(retry_parse_duration("1.0000000001s"), 1001);
}

static void test_duration_surrounding_blanks(void **state)
{
    assert_int_equal(retry_parse_duration("3s "), 3000);
    assert_int_equal(retry_parse_duration(" 3s"), 3000);
}

static void test_duration_rejects_garbage(void **state)
{
    static const char *const bad[] = {
        "abc",
        "-1s",
        "+1s",
        "1.5",
        "s",
        "",
        " ",
        "1.s",
        ".5s",
        "1e3s",
        "1 s",
        "1s2",
        "1ss",
        "3m",
        "1,5s",
        "0x10s",
        "99999999999999999999s",
        "315576000001s",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (retry_parse_duration(bad[i]) != -1)
            fail_msg("\"%s\" should be rejected", bad[i]);
    assert_int_equal(retry_parse_duration(NULL), -1);
}

static void test_duration_largest_accepted(void **state)
{
    /* protobuf's Duration maximum, 10,000 years */
    assert_int_equal(retry_parse_duration("315576000000s"), INT64_C(315576000000000));
}

/* ---- retry_parse_retry_after ---- */

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    return timegm(&tm);
}

static void test_retry_after_seconds(void **state)
{
    assert_int_equal(retry_parse_retry_after("120", 0), 120000);
    assert_int_equal(retry_parse_retry_after("0", 0), 0);
    assert_int_equal(retry_parse_retry_after(" 5 ", 0), 5000);
}

static void test_retry_after_http_date(void **state)
{
    time_t now = utc(2026, 10, 21, 7, 27, 0);
    assert_int_equal(retry_parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now), 60000);
    /* across a day and a month boundary: 31 Oct 23:59:30 -> 1 Nov 00:00:15 = 45 s */
    now = utc(2026, 10, 31, 23, 59, 30);
    assert_int_equal(retry_parse_retry_after("Sun, 01 Nov 2026 00:00:15 GMT", now), 45000);
}

static void test_retry_after_past_date_is_zero(void **state)
{
    time_t now = utc(2026, 11, 25, 12, 0, 0);
    assert_int_equal(retry_parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now), 0);
    assert_int_equal(retry_parse_retry_after("Wed, 25 Nov 2026 12:00:00 GMT", now), 0);
}

static void test_retry_after_rejects_garbage(void **state)
{
    static const char *const bad[] = {
        "",
        "soon",
        "12abc",
        "-5",
        "1.5",
        "Wed, 21 Oct 2026 07:28:00",
        "Wed, 21 Oct 2026 07:28:00 UTC",
        "Wed, 32 Oct 2026 07:28:00 GMT",
        "Wed, 31 Feb 2026 07:28:00 GMT",
        "Wed, 21 Foo 2026 07:28:00 GMT",
        "Wed, 21 Oct 2026 25:28:00 GMT",
        "Xyz, 21 Oct 2026 07:28:00 GMT",
        "Wednesday, 21-Oct-26 07:28:00 GMT",
        "Wed, 1 Oct 2026 07:28:00 GMT",
        "99999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (retry_parse_retry_after(bad[i], 0) != -1)
            fail_msg("\"%s\" should be rejected", bad[i]);
    assert_int_equal(retry_parse_retry_after(NULL, 0), -1);
}

/* ---- retry_backoff_ms ---- */

static void test_backoff_bounds_per_attempt(void **state)
{
    uint64_t rng = 12345;
    const int64_t base = 1000, cap = 60000;
    for (int attempt = 1; attempt <= 8; attempt++) {
        int64_t ceiling = base << (attempt - 1);
        if (ceiling > cap)
            ceiling = cap;
        int64_t lo = INT64_MAX, hi = -1;
        for (int i = 0; i < 2000; i++) {
            int64_t d = retry_backoff_ms(attempt, base, cap, &rng);
            if (d < 0 || d > ceiling)
                fail_msg("attempt %d: %lld outside [0, %lld]", attempt, (long long)d,
                         (long long)ceiling);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        /* full jitter: the whole range is used, not just its top */
        assert_true(lo < ceiling / 10);
        assert_true(hi > ceiling - ceiling / 10);
    }
}

static void test_backoff_first_attempt_is_within_base(void **state)
{
    uint64_t rng = 99;
    for (int i = 0; i < 1000; i++) {
        int64_t d = retry_backoff_ms(1, 500, 60000, &rng);
        assert_true(d >= 0 && d <= 500);
    }
}

static void test_backoff_capped_without_overflow(void **state)
{
    uint64_t rng = 7;
    for (int attempt = 9; attempt <= 200; attempt += 13)
        for (int i = 0; i < 200; i++) {
            int64_t d = retry_backoff_ms(attempt, 1000, 30000, &rng);
            assert_true(d >= 0 && d <= 30000);
        }
    int64_t d = retry_backoff_ms(1000, INT64_MAX / 2, INT64_MAX, &rng);
    assert_true(d >= 0);
}

static void test_backoff_deterministic_for_a_seed(void **state)
{
    uint64_t a = 0xC0FFEE, b = 0xC0FFEE, c = 0xC0FFEF;
    int same_as_other_seed = 0;
    for (int i = 1; i <= 50; i++) {
        int64_t x = retry_backoff_ms(i % 7 + 1, 1000, 60000, &a);
        int64_t y = retry_backoff_ms(i % 7 + 1, 1000, 60000, &b);
        int64_t z = retry_backoff_ms(i % 7 + 1, 1000, 60000, &c);
        assert_int_equal(x, y);
        same_as_other_seed += x == z;
    }
    assert_true(same_as_other_seed < 5);
    assert_int_equal(a, b); /* the state advanced identically */
}

static void test_backoff_never_negative_on_odd_input(void **state)
{
    uint64_t rng = 1;
    assert_int_equal(retry_backoff_ms(1, 0, 60000, &rng), 0);
    assert_int_equal(retry_backoff_ms(1, -5, 60000, &rng), 0);
    assert_int_equal(retry_backoff_ms(3, 1000, -1, &rng), 0);
    for (int i = 0; i < 100; i++) {
        int64_t d = retry_backoff_ms(0, 1000, 60000, &rng); /* attempt 0 counts as 1 */
        assert_true(d >= 0 && d <= 1000);
        d = retry_backoff_ms(-4, 1000, 60000, &rng);
        assert_true(d >= 0 && d <= 1000);
    }
}

static void test_backoff_zero_seed_does_not_stick(void **state)
{
    uint64_t rng = 0;
    int64_t first = retry_backoff_ms(5, 1000, 60000, &rng);
    assert_true(rng != 0);
    int distinct = 0;
    for (int i = 0; i < 20; i++)
        distinct += retry_backoff_ms(5, 1000, 60000, &rng) != first;
    assert_true(distinct > 15);
}

/* ---- retry_status_is_retryable ---- */

static void test_status_table(void **state)
{
    static const int yes[] = {408, 429, 500, 502, 503, 504};
    static const int no[] = {200, 204, 301, 400, 401, 403, 404, 409, 413, 422, 501, 505, 0, -1};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        if (!retry_status_is_retryable(yes[i]))
            fail_msg("%d should be retryable", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (retry_status_is_retryable(no[i]))
            fail_msg("%d should not be retryable", no[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_whole_seconds),
        cmocka_unit_test(test_duration_fractions),
        cmocka_unit_test(test_duration_rounds_up_to_ms),
        cmocka_unit_test(test_duration_surrounding_blanks),
        cmocka_unit_test(test_duration_rejects_garbage),
        cmocka_unit_test(test_duration_largest_accepted),
        cmocka_unit_test(test_retry_after_seconds),
        cmocka_unit_test(test_retry_after_http_date),
        cmocka_unit_test(test_retry_after_past_date_is_zero),
        cmocka_unit_test(test_retry_after_rejects_garbage),
        cmocka_unit_test(test_backoff_bounds_per_attempt),
        cmocka_unit_test(test_backoff_first_attempt_is_within_base),
        cmocka_unit_test(test_backoff_capped_without_overflow),
        cmocka_unit_test(test_backoff_deterministic_for_a_seed),
        cmocka_unit_test(test_backoff_never_negative_on_odd_input),
        cmocka_unit_test(test_backoff_zero_seed_does_not_stick),
        cmocka_unit_test(test_status_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
