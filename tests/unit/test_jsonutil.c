/* test_jsonutil: json_pretty prints what cJSON would (same scalars, read back equal), with the
 * layout gemflow's files use. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "buf.h"
#include "jsonutil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *pretty(const cJSON *v)
{
    struct buf out = BUF_INIT;
    json_pretty(v, &out);
    char *s = strndup(out.data, out.len);
    buf_release(&out);
    return s;
}

/* Each scalar prints exactly as cJSON_PrintUnformatted prints it. */
static void test_scalars_as_cjson_prints_them(void **state)
{
    (void)state;
    const double numbers[] = {0,
                              -0.0,
                              1,
                              -1,
                              42,
                              2147483647.0,
                              -2147483648.0,
                              2147483648.0,
                              1e300,
                              -1e-300,
                              0.1,
                              1.0 / 3,
                              123456789012345678.0,
                              2.5,
                              9007199254740993.0,
                              6.02214076e23};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        cJSON *n = cJSON_CreateNumber(numbers[i]);
        char *want = cJSON_PrintUnformatted(n);
        char *got = pretty(n);
        got[strlen(got) - 1] = 0; /* json_pretty ends with a newline */
        assert_string_equal(got, want);
        free(want);
        free(got);
        cJSON_Delete(n);
    }
    const char *strings[] = {"",
                             "plain",
                             "quote \" and \\ backslash",
                             "tab\tnl\ncr\r",
                             "\b\f\x01\x1f",
                             "caf\xc3\xa9 \xe2\x80\x94 / slash",
                             "\x7f del"};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        cJSON *s = cJSON_CreateString(strings[i]);
        char *want = cJSON_PrintUnformatted(s);
        char *got = pretty(s);
        got[strlen(got) - 1] = 0;
        assert_string_equal(got, want);
        free(want);
        free(got);
        cJSON_Delete(s);
    }
}

static void test_not_numbers_print_null(void **state)
{
    (void)state;
    cJSON *n = cJSON_CreateNumber(NAN);
    char *got = pretty(n);
    assert_string_equal(got, "null\n");
    free(got);
    cJSON_SetNumberValue(n, INFINITY);
    got = pretty(n);
    assert_string_equal(got, "null\n");
    free(got);
    cJSON_Delete(n);
}

static void test_layout_and_round_trip(void **state)
{
    (void)state;
    const char *doc = "{\"a\":[1,true,null,{\"k\\\"ey\":\"v\\u0001\"}],\"e\":{},\"f\":[],"
                      "\"n\":-12.75}";
    cJSON *v = cJSON_Parse(doc);
    assert_non_null(v);
    char *got = pretty(v);
    assert_string_equal(got, "{\n"
                             "  \"a\": [\n"
                             "    1,\n"
                             "    true,\n"
                             "    null,\n"
                             "    {\n"
                             "      \"k\\\"ey\": \"v\\u0001\"\n"
                             "    }\n"
                             "  ],\n"
                             "  \"e\": {},\n"
                             "  \"f\": [],\n"
                             "  \"n\": -12.75\n"
                             "}\n");
    cJSON *back = cJSON_Parse(got);
    assert_non_null(back);
    assert_true(cJSON_Compare(v, back, 1));
    cJSON_Delete(back);
    cJSON_Delete(v);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars_as_cjson_prints_them),
        cmocka_unit_test(test_not_numbers_print_null),
        cmocka_unit_test(test_layout_and_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
