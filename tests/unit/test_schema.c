/* test_schema: checking values against the schema subset (exact messages with JSON paths),
 * linting schemas, and walking schemas along template paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "schema.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *parse(const char *json)
{
    cJSON *v = cJSON_Parse(json);
    if (!v)
        fail_msg("bad JSON in test: %s", json);
    return v;
}

static void assert_valid(const char *schema, const char *value)
{
    cJSON *s = parse(schema), *v = parse(value);
    struct gf_err err = GF_ERR_INIT;
    int rc = schema_check(s, v, &err);
    if (rc != 0)
        print_message("unexpected error: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(err.kind, GF_ERR_NONE);
    cJSON_Delete(s);
    cJSON_Delete(v);
}

static void assert_invalid(const char *schema, const char *value, const char *want)
{
    cJSON *s = parse(schema), *v = parse(value);
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(schema_check(s, v, &err), -1);
    assert_int_equal(err.kind, GF_ERR_INPUT);
    assert_string_equal(err.msg, want);
    cJSON_Delete(s);
    cJSON_Delete(v);
}

/* ---- schema_check: one keyword at a time ---- */

static void test_type_string(void **state)
{
    const char *s = "{\"type\": \"object\", \"properties\": {\"title\": {\"type\": \"string\"}}}";
    assert_valid(s, "{\"title\": \"ok\"}");
    assert_invalid(s, "{\"title\": 42}", "$.title: expected a string, got 42");
    assert_invalid(s, "[1]", "$: expected an object, got an array");
}

static void test_type_list(void **state)
{
    const char *s = "{\"type\": [\"string\", \"null\"]}";
    assert_valid(s, "null");
    assert_valid(s, "\"x\"");
    assert_invalid(s, "true", "$: expected a string or null, got true");
}

static void test_type_integer(void **state)
{
    const char *s = "{\"type\": \"integer\"}";
    assert_valid(s, "2");
    assert_valid(s, "2.0");
    assert_invalid(s, "1.5", "$: expected an integer, got 1.5");
    assert_valid("{\"type\": \"number\"}", "1.5");
}

static void test_type_uppercase_openapi(void **state)
{
    const char *s = "{\"type\": \"OBJECT\", \"properties\": {\"n\": {\"type\": \"BOOLEAN\"}}}";
    assert_valid(s, "{\"n\": false}");
    assert_invalid(s, "{\"n\": \"no\"}", "$.n: expected a boolean, got \"no\"");
}

static void test_nullable(void **state)
{
    assert_valid("{\"type\": \"string\", \"nullable\": true}", "null");
    assert_invalid("{\"type\": \"string\"}", "null", "$: expected a string, got null");
}

static void test_enum(void **state)
{
    const char *s = "{\"type\": \"object\", \"properties\": {\"scenes\": {\"type\": \"array\", "
                    "\"items\": {\"type\": \"object\", \"properties\": {\"mood\": {\"type\": "
                    "\"string\", \"enum\": [\"calm\", \"tense\"]}}}}}}";
    assert_valid(s, "{\"scenes\": [{\"mood\": \"calm\"}, {\"mood\": \"tense\"}]}");
    assert_invalid(s, "{\"scenes\": [{\"mood\": \"calm\"}, {}, {\"mood\": \"angry\"}]}",
                   "$.scenes[2].mood: expected one of \"calm\", \"tense\", got \"angry\"");
}

static void test_enum_numbers(void **state)
{
    assert_invalid("{\"enum\": [1, 2, null]}", "3", "$: expected one of 1, 2, null, got 3");
}

static void test_required(void **state)
{
    const char *s = "{\"type\": \"object\", \"properties\": {\"scenes\": {\"type\": \"array\", "
                    "\"items\": {\"type\": \"object\", \"required\": [\"id\", \"narration\"]}}}}";
    assert_invalid(s, "{\"scenes\": [{\"id\": \"s01\"}]}",
                   "$.scenes[0]: missing required property \"narration\"");
}

static void test_min_max_items(void **state)
{
    const char *s = "{\"type\": \"object\", \"properties\": {\"scenes\": {\"type\": \"array\", "
                    "\"minItems\": 1, \"maxItems\": 2}}}";
    assert_valid(s, "{\"scenes\": [1, 2]}");
    assert_invalid(s, "{\"scenes\": []}", "$.scenes: expected at least 1 item, got 0");
    assert_invalid(s, "{\"scenes\": [1, 2, 3]}", "$.scenes: expected at most 2 items, got 3");
}

static void test_min_max_length(void **state)
{
    const char *s = "{\"type\": \"string\", \"minLength\": 3, \"maxLength\": 4}";
    assert_valid(s, "\"àéîõ\""); /* four characters, eight bytes */
    assert_invalid(s, "\"ab\"", "$: expected at least 3 characters, got 2");
    assert_invalid(s, "\"abcde\"", "$: expected at most 4 characters, got 5");
}

static void test_minimum_maximum(void **state)
{
    const char *s = "{\"type\": \"object\", \"properties\": {\"n\": {\"type\": \"number\", "
                    "\"minimum\": 0, \"maximum\": 10}}}";
    assert_valid(s, "{\"n\": 10}");
    assert_invalid(s, "{\"n\": -1}", "$.n: expected a number >= 0, got -1");
    assert_invalid(s, "{\"n\": 10.5}", "$.n: expected a number <= 10, got 10.5");
}

static void test_additional_properties_false(void **state)
{
    const char *s = "{\"type\": \"object\", \"properties\": {\"a\": {}}, "
                    "\"additionalProperties\": false}";
    assert_valid(s, "{\"a\": 1}");
    assert_invalid(s, "{\"a\": 1, \"extra\": 2}", "$: unexpected property \"extra\"");
}

static void test_additional_properties_schema(void **state)
{
    const char *s = "{\"type\": \"object\", \"additionalProperties\": {\"type\": \"number\"}}";
    assert_valid(s, "{\"x\": 1, \"y\": 2}");
    assert_invalid(s, "{\"x\": 1, \"y\": \"two\"}", "$.y: expected a number, got \"two\"");
}

static void test_any_of(void **state)
{
    const char *s =
        "{\"anyOf\": [{\"type\": \"string\"}, {\"type\": \"integer\", \"minimum\": 1}]}";
    assert_valid(s, "\"x\"");
    assert_valid(s, "3");
    assert_invalid(s, "0",
                   "$: matches none of the 2 schemas of anyOf (the first says: $: expected a "
                   "string, got 0)");
}

static void test_nested_path_quoting(void **state)
{
    const char *s = "{\"properties\": {\"a b\": {\"items\": {\"type\": \"string\"}}}}";
    assert_invalid(s, "{\"a b\": [\"x\", 2]}", "$[\"a b\"][1]: expected a string, got 2");
}

static void test_long_string_value_cut(void **state)
{
    assert_invalid("{\"type\": \"number\"}",
                   "\"0123456789012345678901234567890123456789-and-more\"",
                   "$: expected a number, got \"0123456789012345678901234567890123456\"...");
}

static void test_ignored_keywords(void **state)
{
    assert_valid("{\"type\": \"object\", \"title\": \"T\", \"description\": \"d\", \"$id\": \"x\", "
                 "\"propertyOrdering\": [\"a\"], \"properties\": {\"a\": {\"type\": \"string\", "
                 "\"format\": \"date\"}}}",
                 "{\"a\": \"not a date\"}");
}

static void test_bundled_analysis_schema(void **state)
{
    struct buf text = BUF_INIT;
    assert_int_equal(buf_read_file(&text, GEMFLOW_SOURCE_DIR "/workflows/schemas/analysis.json"),
                     0);
    cJSON *s = parse(text.data);
#define SCENE                                                                                      \
    "{\"id\": \"s01\", \"title\": \"T\", \"summary\": \"S\", \"narration\": \"N\", \"mood\": "     \
    "\"%s\", "                                                                                     \
    "\"visual_description\": \"V\"}"
    char one[512], two[512], doc[1200];
    snprintf(one, sizeof one, SCENE, "calm");
    snprintf(two, sizeof two, SCENE, "angry");
    struct gf_err err = GF_ERR_INIT;
    snprintf(doc, sizeof doc,
             "{\"title\": \"t\", \"logline\": \"l\", \"style\": \"s\", \"scenes\": [%s]}", one);
    cJSON *v = parse(doc);
    assert_int_equal(schema_check(s, v, &err), 0);
    cJSON_Delete(v);
    snprintf(doc, sizeof doc,
             "{\"title\": \"t\", \"logline\": \"l\", \"style\": \"s\", \"scenes\": [%s, %s]}", one,
             two);
    v = parse(doc);
    assert_int_equal(schema_check(s, v, &err), -1);
    assert_string_equal(err.msg, "$.scenes[1].mood: expected one of \"calm\", \"hopeful\", "
                                 "\"tense\", \"somber\", \"joyful\", \"mysterious\", "
                                 "\"dramatic\", got \"angry\"");
    cJSON_Delete(v);
    cJSON_Delete(s);
    buf_release(&text);
}

/* ---- schema_lint ---- */

static void assert_lint(const char *schema, int n, const char *want)
{
    cJSON *s = parse(schema);
    struct buf b = BUF_INIT;
    assert_int_equal(schema_lint(s, &b), n);
    assert_string_equal(b.data, want);
    buf_release(&b);
    cJSON_Delete(s);
}

static void test_lint_good(void **state)
{
    struct buf text = BUF_INIT;
    assert_int_equal(buf_read_file(&text, GEMFLOW_SOURCE_DIR "/workflows/schemas/prompts.json"), 0);
    assert_lint(text.data, 0, "");
    buf_release(&text);
    assert_lint("{}", 0, "");
}

static void test_lint_not_object(void **state)
{
    assert_lint("[1]", 1, "at $: a schema must be an object\n");
}

static void test_lint_unknown_type(void **state)
{
    assert_lint("{\"properties\": {\"mood\": {\"type\": \"strng\"}}}", 1,
                "at $.properties.mood: unknown type \"strng\" (use object, array, string, "
                "number, integer, boolean or null)\n");
    assert_lint("{\"type\": [\"string\", 3]}", 1,
                "at $: \"type\" must be a type name or a list of them\n");
}

static void test_lint_structure(void **state)
{
    assert_lint("{\"properties\": [], \"required\": \"a\", \"items\": 3, \"enum\": []}", 4,
                "at $: \"properties\" must be an object of schemas\n"
                "at $: \"required\" must be a list of property names\n"
                "at $.items: a schema must be an object\n"
                "at $: \"enum\" must be a non-empty list\n");
}

static void test_lint_required_not_in_properties(void **state)
{
    assert_lint("{\"properties\": {\"colours\": {}}, \"required\": [\"colors\"]}", 1,
                "at $: required property \"colors\" is not in \"properties\"\n");
}

static void test_lint_bounds(void **state)
{
    assert_lint("{\"items\": {\"minItems\": -1, \"minLength\": 1.5, \"minimum\": \"0\"}}", 3,
                "at $.items: \"minItems\" must be a whole number >= 0\n"
                "at $.items: \"minLength\" must be a whole number >= 0\n"
                "at $.items: \"minimum\" must be a number\n");
    assert_lint("{\"minItems\": 3, \"maxItems\": 2}", 1,
                "at $: \"minItems\" is greater than \"maxItems\"\n");
}

static void test_lint_any_of_and_extra(void **state)
{
    assert_lint("{\"anyOf\": [{\"type\": \"x\"}], \"additionalProperties\": 1, \"nullable\": 0}", 3,
                "at $: \"additionalProperties\" must be true, false or a schema\n"
                "at $.anyOf[0]: unknown type \"x\" (use object, array, string, number, integer, "
                "boolean or null)\n"
                "at $: \"nullable\" must be true or false\n");
}

/* ---- schema_at_path ---- */

static const char *analysis = "{\"type\": \"object\", \"properties\": {"
                              "\"title\": {\"type\": \"string\"},"
                              "\"meta\": {\"type\": \"object\"},"
                              "\"tags\": {\"type\": \"array\"},"
                              "\"scenes\": {\"type\": \"array\", \"items\": {\"type\": \"object\", "
                              "\"properties\": {\"id\": {\"type\": \"string\"}}}}}}";

static const cJSON *at(const cJSON *s, const char *path)
{
    char *copy = xstrdup(path), *segs[8], *save = NULL;
    size_t n = 0;
    for (char *p = strtok_r(copy, ".", &save); p && n < 8; p = strtok_r(NULL, ".", &save))
        segs[n++] = p;
    const cJSON *r = schema_at_path(s, segs, n);
    free(copy);
    return r;
}

static void test_at_path_walks_properties_and_items(void **state)
{
    cJSON *s = parse(analysis);
    const cJSON *id = at(s, "scenes.0.id");
    assert_non_null(id);
    assert_string_equal(cJSON_GetObjectItem(id, "type")->valuestring, "string");
    assert_ptr_equal(
        at(s, "scenes.3"),
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "properties"), "scenes"),
                            "items"));
    assert_ptr_equal(schema_at_path(s, NULL, 0), s);
    cJSON_Delete(s);
}

static void test_at_path_unknown(void **state)
{
    cJSON *s = parse(analysis);
    assert_null(at(s, "scenez"));
    assert_null(at(s, "scenes.0.nope"));
    assert_null(at(s, "title.x"));   /* a string has no fields */
    assert_null(at(s, "scenes.id")); /* an array has no named fields */
    cJSON_Delete(s);
}

static void test_at_path_unconstrained(void **state)
{
    cJSON *s = parse(analysis);
    assert_ptr_equal(at(s, "meta.anything.deep"), schema_any());
    assert_ptr_equal(at(s, "tags.2"), schema_any());
    cJSON *free_form = parse("{}");
    assert_ptr_equal(at(free_form, "a.b"), schema_any());
    cJSON_Delete(free_form);
    cJSON_Delete(s);
}

static void test_at_path_additional_properties(void **state)
{
    cJSON *s = parse("{\"properties\": {\"a\": {}}, \"additionalProperties\": {\"type\": "
                     "\"number\"}}");
    const cJSON *x = at(s, "x");
    assert_non_null(x);
    assert_string_equal(cJSON_GetObjectItem(x, "type")->valuestring, "number");
    cJSON_Delete(s);
    s = parse("{\"properties\": {\"a\": {}}, \"additionalProperties\": true}");
    assert_ptr_equal(at(s, "x"), schema_any());
    cJSON_Delete(s);
}

static void test_is_array_and_any(void **state)
{
    cJSON *s = parse("[{\"type\": \"array\"}, {\"type\": \"ARRAY\"}, {\"type\": [\"array\", "
                     "\"null\"]}, {\"type\": \"object\"}, {}]");
    assert_true(schema_is_array(cJSON_GetArrayItem(s, 0)));
    assert_true(schema_is_array(cJSON_GetArrayItem(s, 1)));
    assert_true(schema_is_array(cJSON_GetArrayItem(s, 2)));
    assert_false(schema_is_array(cJSON_GetArrayItem(s, 3)));
    assert_false(schema_is_array(cJSON_GetArrayItem(s, 4)));
    assert_true(cJSON_IsObject(schema_any()));
    assert_null(schema_any()->child);
    assert_ptr_equal(schema_any(), schema_any());
    cJSON_Delete(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_string),
        cmocka_unit_test(test_type_list),
        cmocka_unit_test(test_type_integer),
        cmocka_unit_test(test_type_uppercase_openapi),
        cmocka_unit_test(test_nullable),
        cmocka_unit_test(test_enum),
        cmocka_unit_test(test_enum_numbers),
        cmocka_unit_test(test_required),
        cmocka_unit_test(test_min_max_items),
        cmocka_unit_test(test_min_max_length),
        cmocka_unit_test(test_minimum_maximum),
        cmocka_unit_test(test_additional_properties_false),
        cmocka_unit_test(test_additional_properties_schema),
        cmocka_unit_test(test_any_of),
        cmocka_unit_test(test_nested_path_quoting),
        cmocka_unit_test(test_long_string_value_cut),
        cmocka_unit_test(test_ignored_keywords),
        cmocka_unit_test(test_bundled_analysis_schema),
        cmocka_unit_test(test_lint_good),
        cmocka_unit_test(test_lint_not_object),
        cmocka_unit_test(test_lint_unknown_type),
        cmocka_unit_test(test_lint_structure),
        cmocka_unit_test(test_lint_required_not_in_properties),
        cmocka_unit_test(test_lint_bounds),
        cmocka_unit_test(test_lint_any_of_and_extra),
        cmocka_unit_test(test_at_path_walks_properties_and_items),
        cmocka_unit_test(test_at_path_unknown),
        cmocka_unit_test(test_at_path_unconstrained),
        cmocka_unit_test(test_at_path_additional_properties),
        cmocka_unit_test(test_is_array_and_any),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
