/* test_textout: the sanitizer for text gemflow did not write itself (tx_sanitize and kin): C0
 * controls but newline and tab, DEL, C1 controls and invalid UTF-8 (stray bytes, overlong
 * forms, surrogates, past U+10FFFF, cut sequences) become '?', the rest of Unicode stays; and
 * tx_json_safe, which escapes them inside JSON strings without changing what the JSON means. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "buf.h"
#include "err.h"
#include "textout.h"
#include "util.h"

#include <string.h>

static void expect(const char *in, const char *want, const char *want_line)
{
    struct buf b = BUF_INIT, l = BUF_INIT;
    tx_sanitize(&b, in);
    tx_sanitize_line(&l, in);
    assert_string_equal(b.data, want);
    assert_int_equal(b.len, strlen(want));
    assert_string_equal(l.data, want_line);
    char *copy = xstrdup(in);
    tx_sanitize_inplace(copy);
    assert_string_equal(copy, want);
    free(copy);
    buf_release(&b);
    buf_release(&l);
}

static void test_controls(void **state)
{
    expect("plain text", "plain text", "plain text");
    expect("two\nlines\tand a tab", "two\nlines\tand a tab", "two lines and a tab");
    expect("title \x1b]0;pwned\x07 clear \x1b[2J\rover", "title ?]0;pwned? clear ?[2J?over",
           "title ?]0;pwned? clear ?[2J?over");
    expect("del \x7f nul-free \x01\x1f", "del ? nul-free ??", "del ? nul-free ??");
    /* C1: U+0080..U+009F as UTF-8 (two bytes, one substitute), the CSI U+009B among them */
    expect("csi \xc2\x9b"
           "31m red",
           "csi ?31m red", "csi ?31m red");
    expect("\xc2\x80\xc2\x9f", "??", "??");
}

static void test_unicode(void **state)
{
    /* kept: Latin-1 letters after the C1 block, CJK, emoji, NBSP */
    expect("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\xac \xc2\xa0x",
           "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\xac \xc2\xa0x",
           "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\xac \xc2\xa0x");
    /* not UTF-8: a stray 8-bit CSI byte, a continuation alone, overlong ESC and NUL, a
     * surrogate, past U+10FFFF, a cut sequence at the end */
    expect("\x9b"
           "31m",
           "?31m", "?31m");
    expect("a\x80z", "a?z", "a?z");
    expect("\xc0\x9b\xc1\x81", "????", "????");
    expect("\xe0\x80\x9b", "???", "???");
    expect("\xed\xa0\x80", "???", "???");
    expect("\xf4\x90\x80\x80", "????", "????");
    expect("end \xe2\x82", "end ??", "end ??");
}

static void json_expect(const char *in, const char *want)
{
    struct buf b = BUF_INIT;
    tx_json_safe(&b, in, strlen(in));
    assert_string_equal(b.data, want);
    buf_release(&b);
}

static void test_json_safe(void **state)
{
    /* unchanged when there is nothing to escape, escapes and quotes inside strings included */
    json_expect("{\n  \"a\": \"x \\\"quoted\\\" \\\\ y\",\n  \"n\": [1, 2]\n}\n",
                "{\n  \"a\": \"x \\\"quoted\\\" \\\\ y\",\n  \"n\": [1, 2]\n}\n");
    json_expect("{\"m\":\"caf\xc3\xa9\"}", "{\"m\":\"caf\xc3\xa9\"}");
    /* inside strings: C1, DEL, raw C0 (cJSON accepts them), invalid UTF-8 */
    json_expect("{\"m\":\"a\xc2\x9b"
                "b\x7f\x1b\r\xff\"}",
                "{\"m\":\"a\\u009bb\\u007f\\u001b\\u000d\\ufffd\"}");
    /* outside strings: tab and CR are whitespace, made spaces */
    json_expect("{\t\"a\":\r1}", "{ \"a\": 1}");
}

/* Errors and diagnostics are sanitized where they are made. */
static void test_errors(void **state)
{
    struct gf_err err = GF_ERR_INIT;
    gf_error(&err, GF_ERR_INPUT, "the model said '%s'", "\x1b]0;t\x07\xc2\x9b");
    assert_string_equal(err.msg, "the model said '?]0;t?"
                                 "?'");
    struct diag_list dl = DIAG_LIST_INIT;
    diag_add(&dl, "w.yaml", 1, 2, "unknown key '%s'", "k\x1b[2J");
    assert_string_equal(dl.v[0].msg, "unknown key 'k?[2J'");
    diag_list_release(&dl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_controls),
        cmocka_unit_test(test_unicode),
        cmocka_unit_test(test_json_safe),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
