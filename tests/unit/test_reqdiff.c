/* test_reqdiff: the generic comparison of two request bodies names each differing JSON path
 * with both values, short, and never prints media or reference placeholders. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "buf.h"
#include "reqdiff.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The description of old -> now (JSON texts) with at most `shown` places; *n: how many. */
static char *describe(const char *old, const char *now, size_t shown, size_t *n)
{
    cJSON *a = cJSON_Parse(old), *b = cJSON_Parse(now);
    assert_non_null(a);
    assert_non_null(b);
    struct buf out = BUF_INIT;
    *n = reqdiff_describe(a, b, shown, &out);
    cJSON_Delete(a);
    cJSON_Delete(b);
    return buf_detach(&out, NULL);
}

static void test_equal_bodies_differ_nowhere(void **state)
{
    (void)state;
    size_t n;
    char *s = describe("{\"a\": 1, \"b\": [1, {\"c\": \"x\"}]}",
                       "{\"b\": [1, {\"c\": \"x\"}], \"a\": 1}", 3, &n);
    assert_int_equal(n, 0);
    assert_string_equal(s, "");
    free(s);
}

/* A clip's duration and resolution: nested paths, both values. */
static void test_names_paths_with_both_values(void **state)
{
    (void)state;
    size_t n;
    char *s =
        describe("{\"model\": \"m\", \"response_format\": {\"duration\": \"8s\", \"resolution\": "
                 "\"720p\"}, \"config\": {\"duration\": 8}}",
                 "{\"model\": \"m\", \"response_format\": {\"duration\": \"5s\", \"resolution\": "
                 "\"1080p\"}, \"config\": {\"duration\": 5}}",
                 3, &n);
    assert_int_equal(n, 3);
    assert_string_equal(s, "response_format.duration (8s -> 5s), response_format.resolution "
                           "(720p -> 1080p), config.duration (8 -> 5)");
    free(s);
}

/* Members one side lacks, array elements by index, types that changed, empty strings. */
static void test_added_removed_and_arrays(void **state)
{
    (void)state;
    size_t n;
    char *s = describe("{\"gone\": true, \"list\": [1, 2], \"t\": \"\", \"o\": {\"k\": 1}}",
                       "{\"list\": [1, 3, 4], \"t\": null, \"o\": [], \"new\": 0.5}", 10, &n);
    assert_int_equal(n, 6);
    assert_string_equal(s, "gone (true -> unset), list[1] (2 -> 3), list[2] (unset -> 4), "
                           "t (\"\" -> null), o ({...} -> []), new (unset -> 0.5)");
    free(s);
}

/* At most `shown` places are written; the count is of all of them. */
static void test_caps_what_it_shows(void **state)
{
    (void)state;
    size_t n;
    char *s = describe("{\"a\": 1, \"b\": 1, \"c\": 1, \"d\": 1, \"e\": 1}",
                       "{\"a\": 2, \"b\": 2, \"c\": 2, \"d\": 2, \"e\": 2}", 2, &n);
    assert_int_equal(n, 5);
    assert_string_equal(s, "a (1 -> 2), b (1 -> 2)");
    free(s);
}

/* Long text is cut, control characters become spaces, a UTF-8 character is never split. */
static void test_long_text_is_cut(void **state)
{
    (void)state;
    size_t n;
    char *s = describe("{\"p\": \"short\\nline\"}",
                       "{\"p\": \"a long prompt that goes on and on past any limit\"}", 3, &n);
    assert_int_equal(n, 1);
    assert_string_equal(s, "p (short line -> a long prompt that goes on an...)");
    free(s);
    /* 28 ASCII bytes, then "é" (2 bytes) straddling the cut at 29 */
    s = describe("{\"p\": \"x\"}", "{\"p\": \"0123456789012345678901234567\xc3\xa9tail and more\"}",
                 3, &n);
    assert_string_equal(s, "p (x -> 0123456789012345678901234567...)");
    free(s);
}

/* Base64 media and reference placeholders are named, never printed. */
static void test_media_is_never_printed(void **state)
{
    (void)state;
    char b64[201];
    memset(b64, 'Q', 200);
    b64[200] = '\0';
    char *now = NULL;
    const char *ref =
        "gemflow-ref:sha256:"
        "3bfea1693cbc8b81b87434f2519e7ea6ec9b91be52da6b71b24bdad4c0928527:images/s01.jpg";
    size_t len = strlen(b64) + strlen(ref) + 64;
    now = malloc(len);
    snprintf(now, len, "{\"data\": \"%s\", \"img\": \"%s\"}", b64, ref);
    size_t n;
    char *s = describe("{\"data\": \"\", \"img\": \"images/s00.jpg\"}", now, 3, &n);
    assert_int_equal(n, 2);
    assert_string_equal(s, "data (\"\" -> <200 characters of base64>), "
                           "img (images/s00.jpg -> reference images/s01.jpg)");
    assert_null(strstr(s, "QQQQ"));
    assert_null(strstr(s, "sha256"));
    free(s);
    free(now);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal_bodies_differ_nowhere),
        cmocka_unit_test(test_names_paths_with_both_values),
        cmocka_unit_test(test_added_removed_and_arrays),
        cmocka_unit_test(test_caps_what_it_shows),
        cmocka_unit_test(test_long_text_is_cut),
        cmocka_unit_test(test_media_is_never_printed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
