/* test_template: compiling templates (positions, syntax errors) and rendering them (value types,
 * paths, errors, TMPL_PATH sanitising). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "template.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cJSON *resolve(void *ctx, const char *root)
{
    return cJSON_GetObjectItemCaseSensitive((const cJSON *)ctx, root);
}

static struct tmpl *compile_ok(const char *text, const struct tmpl_origin *o)
{
    struct tmpl *t = NULL;
    struct diag_list dl = DIAG_LIST_INIT;
    int rc = tmpl_compile(text, o, &t, &dl);
    for (size_t i = 0; i < dl.n; i++)
        print_message("unexpected diagnostic: %s\n", dl.v[i].msg);
    assert_int_equal(rc, 0);
    assert_non_null(t);
    assert_int_equal(dl.n, 0);
    diag_list_release(&dl);
    return t;
}

/* Render `text` against the JSON object `data`; returns the result (caller frees) or NULL with
 * the error message in `msg` (if given). */
static char *render(const char *text, const char *data, int flags, char *msg, size_t msg_size)
{
    struct tmpl_origin o = {"p.md", 1, 1, 0, false};
    struct tmpl *t = compile_ok(text, &o);
    cJSON *ctx = cJSON_Parse(data);
    assert_non_null(ctx);
    struct buf out = BUF_INIT;
    struct gf_err err = GF_ERR_INIT;
    buf_adds(&out, "<");
    int rc = tmpl_render(t, resolve, ctx, flags, &out, &err);
    char *res = NULL;
    if (rc == 0) {
        assert_int_equal(err.kind, GF_ERR_NONE);
        res = xstrdup(out.data + 1);
    } else {
        assert_int_equal(rc, -1);
        assert_int_equal(err.kind, GF_ERR_INPUT);
        assert_string_equal(out.data, "<"); /* left as it was */
        if (msg)
            snprintf(msg, msg_size, "%s", err.msg);
    }
    buf_release(&out);
    cJSON_Delete(ctx);
    tmpl_free(t);
    return res;
}

static void assert_renders(const char *text, const char *data, int flags, const char *want)
{
    char msg[1024] = "";
    char *got = render(text, data, flags, msg, sizeof msg);
    if (!got)
        print_message("render error: %s\n", msg);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void assert_render_error(const char *text, const char *data, int flags, const char *want)
{
    char msg[1024] = "";
    char *got = render(text, data, flags, msg, sizeof msg);
    assert_null(got);
    assert_string_equal(msg, want);
}

/* Compile `text` expecting exactly the diagnostics `want` ("line:col: message", NULL-ended). */
static void assert_compile_errors(const char *text, const struct tmpl_origin *o,
                                  const char *const *want)
{
    struct tmpl *t = (struct tmpl *)1;
    struct diag_list dl = DIAG_LIST_INIT;
    assert_int_equal(tmpl_compile(text, o, &t, &dl), -1);
    assert_null(t);
    size_t n = 0;
    while (want[n])
        n++;
    assert_int_equal(dl.n, n);
    for (size_t i = 0; i < n; i++) {
        char *s = diag_format(&dl.v[i]);
        assert_string_equal(s, want[i]);
        free(s);
    }
    diag_list_release(&dl);
}

/* ---- rendering values ---- */

static void test_render_string_raw(void **state)
{
    assert_renders("Hello {{name}}!", "{\"name\": \"a \\\"quoted\\\" \\n word\"}", 0,
                   "Hello a \"quoted\" \n word!");
}

static void test_render_integer_without_fraction(void **state)
{
    assert_renders("{{n}}|{{neg}}|{{big}}", "{\"n\": 42, \"neg\": -7, \"big\": 12345678901}", 0,
                   "42|-7|12345678901");
}

static void test_render_float(void **state)
{
    assert_renders("{{x}} {{y}}", "{\"x\": 1.5, \"y\": 0.1}", 0, "1.5 0.1");
}

static void test_render_bool_and_null(void **state)
{
    assert_renders("{{t}} {{f}} {{z}}", "{\"t\": true, \"f\": false, \"z\": null}", 0,
                   "true false null");
}

static void test_render_object_compact_json(void **state)
{
    assert_renders("data: {{o}}", "{\"o\": {\"a\": 1, \"b\": [true, \"x\"]}}", 0,
                   "data: {\"a\":1,\"b\":[true,\"x\"]}");
}

static void test_render_array_compact_json(void **state)
{
    assert_renders("{{a}}", "{\"a\": [1, 2.5, \"s\", null]}", 0, "[1,2.5,\"s\",null]");
}

static void test_render_array_index(void **state)
{
    const char *data =
        "{\"an\": {\"scenes\": [{\"id\": \"s01\"}, {\"id\": \"s02\", \"n\": [7, 8]}]}}";
    assert_renders("{{an.scenes.1.id}} {{an.scenes.0.id}} {{an.scenes.1.n.1}}", data, 0,
                   "s02 s01 8");
}

static void test_render_spaces_in_braces(void **state)
{
    assert_renders("[{{ item.id }}][{{\titem.id  }}]", "{\"item\": {\"id\": \"s01\"}}", 0,
                   "[s01][s01]");
}

static void test_render_literal(void **state)
{
    struct tmpl *t = compile_ok("no references } { here", NULL);
    assert_true(tmpl_is_literal(t));
    assert_int_equal(tmpl_ref_count(t), 0);
    assert_string_equal(tmpl_source(t), "no references } { here");
    tmpl_free(t);
    assert_renders("plain text", "{}", 0, "plain text");
}

static void test_render_value_direct(void **state)
{
    cJSON *v = cJSON_Parse("[3, {\"k\": \"v\"}]");
    struct buf b = BUF_INIT;
    tmpl_render_value(cJSON_GetArrayItem(v, 0), &b);
    buf_adds(&b, "|");
    tmpl_render_value(cJSON_GetArrayItem(v, 1), &b);
    assert_string_equal(b.data, "3|{\"k\":\"v\"}");
    buf_release(&b);
    cJSON_Delete(v);
}

/* ---- references and positions ---- */

static void test_ref_parts(void **state)
{
    struct tmpl *t = compile_ok("{{ item.image_prompt }} {{script}}", NULL);
    assert_int_equal(tmpl_ref_count(t), 2);
    const struct tmpl_ref *r = tmpl_ref_at(t, 0);
    assert_string_equal(r->root, "item");
    assert_int_equal(r->n_segs, 1);
    assert_string_equal(r->segs[0], "image_prompt");
    assert_string_equal(r->expr, "item.image_prompt");
    r = tmpl_ref_at(t, 1);
    assert_string_equal(r->root, "script");
    assert_int_equal(r->n_segs, 0);
    assert_null(tmpl_ref_at(t, 2));
    tmpl_free(t);
}

static void test_positions_in_prompt_file(void **state)
{
    struct tmpl_origin o = {"prompts/a.md", 1, 1, 0, false};
    struct tmpl *t = compile_ok("line one\n  {{a}} and {{b.c}}\n\n{{d}}\n", &o);
    assert_int_equal(tmpl_ref_count(t), 3);
    assert_int_equal(tmpl_ref_at(t, 0)->line, 2);
    assert_int_equal(tmpl_ref_at(t, 0)->col, 3);
    assert_int_equal(tmpl_ref_at(t, 1)->line, 2);
    assert_int_equal(tmpl_ref_at(t, 1)->col, 13);
    assert_int_equal(tmpl_ref_at(t, 2)->line, 4);
    assert_int_equal(tmpl_ref_at(t, 2)->col, 1);
    assert_string_equal(tmpl_file(t), "prompts/a.md");
    tmpl_free(t);
}

static void test_positions_count_characters(void **state)
{
    struct tmpl *t = compile_ok("café – {{x}}", NULL);
    assert_int_equal(tmpl_ref_at(t, 0)->line, 1);
    assert_int_equal(tmpl_ref_at(t, 0)->col, 8);
    tmpl_free(t);
}

static void test_positions_plain_scalar(void **state)
{
    /*     prompt: Paint {{x}}     (value at 5:13) */
    struct tmpl_origin o = {"wf.yaml", 5, 13, 0, false};
    struct tmpl *t = compile_ok("Paint {{x}}", &o);
    assert_int_equal(tmpl_ref_at(t, 0)->line, 5);
    assert_int_equal(tmpl_ref_at(t, 0)->col, 19);
    tmpl_free(t);
}

static void test_positions_quoted_scalar(void **state)
{
    /*     prompt: "Read {{x}}"    (quote at 5:13) */
    struct tmpl_origin o = {"wf.yaml", 5, 13, 0, true};
    struct tmpl *t = compile_ok("Read {{x}}", &o);
    assert_int_equal(tmpl_ref_at(t, 0)->line, 5);
    assert_int_equal(tmpl_ref_at(t, 0)->col, 19);
    tmpl_free(t);
}

static void test_positions_block_scalar(void **state)
{
    /* line 10:    prompt: |
     * line 11:      Summarise.
     * line 12:
     * line 13:      Script: {{script}} */
    struct tmpl_origin o = {"wf.yaml", 10, 13, 6, false};
    struct tmpl *t = compile_ok("Summarise.\n\nScript: {{script}}\n{{x}}\n", &o);
    assert_int_equal(tmpl_ref_at(t, 0)->line, 13);
    assert_int_equal(tmpl_ref_at(t, 0)->col, 15);
    assert_int_equal(tmpl_ref_at(t, 1)->line, 14);
    assert_int_equal(tmpl_ref_at(t, 1)->col, 7);
    tmpl_free(t);
}

static void test_positions_without_place(void **state)
{
    /* a --set value has no line: positions stay 0 */
    struct tmpl_origin o = {"--set a.prompt={{x}}", 0, 0, 0, false};
    struct tmpl *t = compile_ok("{{x}}", &o);
    assert_int_equal(tmpl_ref_at(t, 0)->line, 0);
    tmpl_free(t);
}

/* ---- syntax errors ---- */

static void test_error_unterminated(void **state)
{
    struct tmpl_origin o = {"p.md", 1, 1, 0, false};
    const char *want[] = {"p.md:2:7: unterminated '{{' (no '}}' after it on its line)", NULL};
    assert_compile_errors("ok\nHello {{name\n}}", &o, want);
}

static void test_error_unterminated_before_next_ref(void **state)
{
    struct tmpl_origin o = {"p.md", 1, 1, 0, false};
    const char *want[] = {"p.md:1:3: unterminated '{{' (no '}}' after it on its line)", NULL};
    assert_compile_errors("a {{b and {{c}}", &o, want);
}

static void test_error_empty(void **state)
{
    struct tmpl_origin o = {"wf.yaml", 4, 13, 0, true};
    const char *want[] = {"wf.yaml:4:19: empty reference '{{ }}' (write a name, e.g. {{script}})",
                          NULL};
    assert_compile_errors("Read {{ }}", &o, want);
}

static void test_error_bad_character(void **state)
{
    struct tmpl_origin o = {"p.md", 1, 1, 0, false};
    const char *want[] = {"p.md:1:10: bad character '/' in reference '{{ item/id }}' (names are "
                          "letters, digits, '_' and '-', joined by '.')",
                          NULL};
    assert_compile_errors("x {{ item/id }}", &o, want);
}

static void test_error_bad_unicode_character(void **state)
{
    struct tmpl_origin o = {"p.md", 1, 1, 0, false};
    const char *want[] = {"p.md:1:4: bad character 'é' in reference '{{né}}' (names are letters, "
                          "digits, '_' and '-', joined by '.')",
                          NULL};
    assert_compile_errors("{{né}}", &o, want);
}

static void test_error_empty_segment(void **state)
{
    struct tmpl_origin o = {"p.md", 1, 1, 0, false};
    const char *want[] = {"p.md:1:7: empty name before or after '.' in reference '{{item..id}}'",
                          "p.md:1:16: empty name before or after '.' in reference '{{.x}}'",
                          "p.md:1:24: empty name before or after '.' in reference '{{x.}}'", NULL};
    assert_compile_errors("{{item..id}} {{.x}} {{x.}}", &o, want);
}

static void test_error_all_reported(void **state)
{
    struct tmpl_origin o = {"p.md", 1, 1, 0, false};
    const char *want[] = {
        "p.md:1:1: empty reference '{{}}' (write a name, e.g. {{script}})",
        "p.md:2:11: bad character ' ' in reference '{{a b}}' (names are letters, digits, '_' and "
        "'-', joined by '.')",
        "p.md:3:1: unterminated '{{' (no '}}' after it on its line)",
        NULL,
    };
    assert_compile_errors("{{}} {{ok}}\n{{ok}} {{a b}}\n{{c\n", &o, want);
}

/* ---- render errors ---- */

static void test_render_unknown_root(void **state)
{
    assert_render_error("x\n  {{ nope.a }}", "{\"yes\": 1}", 0,
                        "p.md:2:3: '{{nope.a}}': unknown name 'nope'");
}

static void test_render_missing_field(void **state)
{
    assert_render_error("{{item.image_prompt}}", "{\"item\": {\"id\": \"s01\", \"title\": \"T\"}}",
                        0,
                        "p.md:1:1: '{{item.image_prompt}}': 'item' has no field 'image_prompt' "
                        "(its fields: id, title)");
}

static void test_render_missing_nested_field(void **state)
{
    assert_render_error("ab {{a.scenes.0.mood}}", "{\"a\": {\"scenes\": [{}]}}", 0,
                        "p.md:1:4: '{{a.scenes.0.mood}}': 'a.scenes.0' has no field 'mood' (its "
                        "fields: none)");
}

static void test_render_index_out_of_range(void **state)
{
    assert_render_error("{{a.2}}", "{\"a\": [1, 2]}", 0,
                        "p.md:1:1: '{{a.2}}': 'a' has 2 elements, there is no index 2 (indexes "
                        "start at 0)");
}

static void test_render_name_on_array(void **state)
{
    assert_render_error("{{a.first}}", "{\"a\": [1]}", 0,
                        "p.md:1:1: '{{a.first}}': 'a' is a list; 'first' is not an index (use 0, "
                        "1, ...)");
}

static void test_render_field_of_scalar(void **state)
{
    assert_render_error("{{a.b.c}}", "{\"a\": {\"b\": \"text\"}}", 0,
                        "p.md:1:1: '{{a.b.c}}': 'a.b' is a string and has no field 'c'");
}

/* ---- TMPL_PATH ---- */

static void test_path_plain(void **state)
{
    assert_renders("images/{{item.id}}.png", "{\"item\": {\"id\": \"s01\"}}", TMPL_PATH,
                   "images/s01.png");
    assert_renders("n/{{item_index}}.txt", "{\"item_index\": 3}", TMPL_PATH, "n/3.txt");
}

static void test_path_dotdot_value(void **state)
{
    assert_renders("images/{{id}}.png", "{\"id\": \"../../etc/x\"}", TMPL_PATH,
                   "images/_._.._etc_x.png");
}

static void test_path_absolute_value(void **state)
{
    assert_renders("{{id}}", "{\"id\": \"/abs\"}", TMPL_PATH, "_abs");
}

static void test_path_slash_value(void **state)
{
    assert_renders("out/{{id}}.txt", "{\"id\": \"a/b\"}", TMPL_PATH, "out/a_b.txt");
}

static void test_path_unicode_value(void **state)
{
    assert_renders("{{id}}.png", "{\"id\": \"café\"}", TMPL_PATH, "caf__.png");
}

static void test_path_dot_values(void **state)
{
    assert_renders("a/{{x}}/{{y}}", "{\"x\": \".\", \"y\": \"..\"}", TMPL_PATH, "a/_/_.");
}

static void test_path_empty_value(void **state)
{
    assert_render_error("images/{{id}}.png", "{\"id\": \"\"}", TMPL_PATH,
                        "p.md:1:8: '{{id}}': the value is empty and cannot name a file");
}

static void test_path_long_value(void **state)
{
    size_t n = 10 * 1024;
    char *big = xmalloc(n + 32);
    strcpy(big, "{\"id\": \"");
    memset(big + 8, 'a', n);
    strcpy(big + 8 + n, "\"}");
    char msg[1024] = "";
    char *got = render("images/{{id}}.png", big, TMPL_PATH, msg, sizeof msg);
    assert_null(got);
    assert_string_equal(msg, "p.md:1:8: '{{id}}': the value 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' "
                             "(10240 bytes) is too long for a file name (at most 120)");
    free(big);
}

static void test_path_120_bytes_ok(void **state)
{
    char data[200], want[200];
    strcpy(data, "{\"id\": \"");
    memset(data + 8, 'b', 120);
    strcpy(data + 128, "\"}");
    memset(want, 'b', 120);
    want[120] = '\0';
    assert_renders("{{id}}", data, TMPL_PATH, want);
}

static void test_path_absolute_literal(void **state)
{
    assert_render_error("/abs/{{id}}", "{\"id\": \"x\"}", TMPL_PATH,
                        "p.md:1:1: output path '/abs/x' is absolute (outputs are relative to the "
                        "job directory)");
}

static void test_path_dotdot_literal(void **state)
{
    assert_render_error("../{{id}}", "{\"id\": \"x\"}", TMPL_PATH,
                        "p.md:1:1: output path '../x' has a '.' or '..' component (outputs must "
                        "stay inside the job directory)");
}

static void test_path_empty_component(void **state)
{
    assert_render_error("a//{{id}}", "{\"id\": \"x\"}", TMPL_PATH,
                        "p.md:1:1: output path 'a//x' has an empty component");
}

static void test_path_backslash(void **state)
{
    assert_render_error("a\\{{id}}", "{\"id\": \"x\"}", TMPL_PATH,
                        "p.md:1:1: output path 'a\\x' contains a backslash");
}

static void test_path_reserved(void **state)
{
    assert_render_error("{{id}}", "{\"id\": \"progress.jsonl\"}", TMPL_PATH,
                        "p.md:1:1: output path 'progress.jsonl' is one of gemflow's own files in "
                        "the job directory");
}

static void test_sanitize_component(void **state)
{
    static const char *const cases[][2] = {
        {".hidden", "_hidden"},
        {"a b\tc", "a_b_c"},
        {"ok-1_2.x", "ok-1_2.x"},
        {"..", "_."},
        {"", ""},
        {"a\\b", "a_b"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *s = tmpl_sanitize_component(cases[i][0]);
        assert_string_equal(s, cases[i][1]);
        free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_string_raw),
        cmocka_unit_test(test_render_integer_without_fraction),
        cmocka_unit_test(test_render_float),
        cmocka_unit_test(test_render_bool_and_null),
        cmocka_unit_test(test_render_object_compact_json),
        cmocka_unit_test(test_render_array_compact_json),
        cmocka_unit_test(test_render_array_index),
        cmocka_unit_test(test_render_spaces_in_braces),
        cmocka_unit_test(test_render_literal),
        cmocka_unit_test(test_render_value_direct),
        cmocka_unit_test(test_ref_parts),
        cmocka_unit_test(test_positions_in_prompt_file),
        cmocka_unit_test(test_positions_count_characters),
        cmocka_unit_test(test_positions_plain_scalar),
        cmocka_unit_test(test_positions_quoted_scalar),
        cmocka_unit_test(test_positions_block_scalar),
        cmocka_unit_test(test_positions_without_place),
        cmocka_unit_test(test_error_unterminated),
        cmocka_unit_test(test_error_unterminated_before_next_ref),
        cmocka_unit_test(test_error_empty),
        cmocka_unit_test(test_error_bad_character),
        cmocka_unit_test(test_error_bad_unicode_character),
        cmocka_unit_test(test_error_empty_segment),
        cmocka_unit_test(test_error_all_reported),
        cmocka_unit_test(test_render_unknown_root),
        cmocka_unit_test(test_render_missing_field),
        cmocka_unit_test(test_render_missing_nested_field),
        cmocka_unit_test(test_render_index_out_of_range),
        cmocka_unit_test(test_render_name_on_array),
        cmocka_unit_test(test_render_field_of_scalar),
        cmocka_unit_test(test_path_plain),
        cmocka_unit_test(test_path_dotdot_value),
        cmocka_unit_test(test_path_absolute_value),
        cmocka_unit_test(test_path_slash_value),
        cmocka_unit_test(test_path_unicode_value),
        cmocka_unit_test(test_path_dot_values),
        cmocka_unit_test(test_path_empty_value),
        cmocka_unit_test(test_path_long_value),
        cmocka_unit_test(test_path_120_bytes_ok),
        cmocka_unit_test(test_path_absolute_literal),
        cmocka_unit_test(test_path_dotdot_literal),
        cmocka_unit_test(test_path_empty_component),
        cmocka_unit_test(test_path_backslash),
        cmocka_unit_test(test_path_reserved),
        cmocka_unit_test(test_sanitize_component),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
