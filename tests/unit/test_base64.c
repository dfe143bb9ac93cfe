/* test_base64: RFC 4648 vectors, strictness with offsets, buffer untouched on failure, speed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base64.h"
#include "buf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* RFC 4648 section 10 */
static const struct {
    const char *plain, *coded;
} vectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void decode_ok(const char *in, const void *want, size_t want_len)
{
    struct buf out = BUF_INIT;
    size_t bad = 12345;
    if (base64_decode(in, strlen(in), &out, &bad) != 0)
        fail_msg("\"%s\" rejected at %zu", in, bad);
    assert_int_equal(out.len, want_len);
    assert_memory_equal(out.data, want, want_len);
    assert_int_equal(out.data[out.len], '\0');
    buf_release(&out);
}

/* Decoding `in` fails at offset `at`; a buffer holding "keep" is left exactly as it was. */
static void decode_bad(const char *in, size_t at)
{
    struct buf out = BUF_INIT;
    buf_adds(&out, "keep");
    size_t bad = 12345;
    if (base64_decode(in, strlen(in), &out, &bad) != -1)
        fail_msg("\"%s\" accepted", in);
    if (bad != at)
        fail_msg("\"%s\": offset %zu, want %zu", in, bad, at);
    assert_int_equal(out.len, 4);
    assert_string_equal(out.data, "keep");
    buf_release(&out);
}

static void test_rfc4648_decode(void **state)
{
    for (size_t i = 0; i < sizeof vectors / sizeof *vectors; i++)
        decode_ok(vectors[i].coded, vectors[i].plain, strlen(vectors[i].plain));
}

static void test_rfc4648_encode(void **state)
{
    for (size_t i = 0; i < sizeof vectors / sizeof *vectors; i++) {
        struct buf out = BUF_INIT;
        base64_encode(vectors[i].plain, strlen(vectors[i].plain), &out);
        assert_string_equal(out.data, vectors[i].coded);
        assert_int_equal(out.len, strlen(vectors[i].coded));
        buf_release(&out);
    }
}

static void test_decode_appends(void **state)
{
    struct buf out = BUF_INIT;
    buf_adds(&out, "<<");
    assert_int_equal(base64_decode("Zm9v", 4, &out, NULL), 0);
    assert_string_equal(out.data, "<<foo");
    buf_release(&out);
}

static void test_encode_appends(void **state)
{
    struct buf out = BUF_INIT;
    buf_adds(&out, "data:");
    base64_encode("foob", 4, &out);
    assert_string_equal(out.data, "data:Zm9vYg==");
    buf_release(&out);
}

static void test_all_byte_values(void **state)
{
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    struct buf coded = BUF_INIT;
    base64_encode(all, sizeof all, &coded);
    /* 00 01 02 -> 000000 000000 000100 000010 -> "AAEC"; fc fd fe -> 111111 001111 110111
     * 111110 -> "/P3+"; a lone ff -> 111111 110000 -> "/w==" */
    assert_memory_equal(coded.data, "AAEC", 4);
    assert_int_equal(coded.len, 344);
    assert_string_equal(coded.data + 336, "/P3+/w==");
    struct buf plain = BUF_INIT;
    assert_int_equal(base64_decode(coded.data, coded.len, &plain, NULL), 0);
    assert_int_equal(plain.len, 256);
    assert_memory_equal(plain.data, all, 256);
    buf_release(&coded);
    buf_release(&plain);
}

static void test_crlf_skipped(void **state)
{
    decode_ok("Zm9v\r\nYmFy\r\n", "foobar", 6);
    decode_ok("Zm\r\n9vYm\nFy", "foobar", 6); /* breaks inside a quantum */
    decode_ok("Zg=\r\n=\r\n", "f", 1);        /* and inside the padding */
    decode_ok("\r\n", "", 0);
}

static void test_missing_padding_accepted(void **state)
{
    decode_ok("Zg", "f", 1);
    decode_ok("Zm8", "fo", 2);
    decode_ok("Zm9vYg", "foob", 4);
    decode_ok("Zm9vYmE", "fooba", 5);
}

static void test_rejects_url_safe_alphabet(void **state)
{
    decode_bad("ab-d", 2);
    decode_bad("Zm9v_w==", 4);
}

static void test_rejects_other_characters(void **state)
{
    decode_bad("Zm9v YmFy", 4);  /* space */
    decode_bad("Zm9v\tYmFy", 4); /* tab: only CR and LF are skipped */
    decode_bad("Zm9\xc3\xa9", 3);
    struct buf out = BUF_INIT;
    size_t bad = 0;
    assert_int_equal(base64_decode("Zm9v\0Zm9v", 9, &out, &bad), -1); /* an embedded NUL */
    assert_int_equal(bad, 4);
    buf_release(&out);
}

static void test_rejects_bad_padding(void **state)
{
    decode_bad("=", 0);
    decode_bad("Z===", 1);  /* '=' where the second digit must be */
    decode_bad("Zm9v=", 4); /* padding after a whole quantum */
    decode_bad("Zg=", 3);   /* the second '=' is missing */
    decode_bad("Zg=x", 3);
    decode_bad("Zm8==", 4); /* one '=' too many */
}

static void test_rejects_data_after_padding(void **state)
{
    decode_bad("Zg==Zg==", 4);
    decode_bad("Zm8=\r\nZm8=", 6);
}

static void test_rejects_lone_final_digit(void **state)
{
    decode_bad("Zm9vY", 4);
    decode_bad("Z", 0);
    decode_bad("Zm9v\r\nY\r\n", 6);
}

static void test_failure_leaves_unallocated_buffer_unallocated(void **state)
{
    struct buf out = BUF_INIT;
    assert_int_equal(base64_decode("Zm9vYmFy!", 9, &out, NULL), -1);
    assert_int_equal(out.len, 0);
    assert_int_equal(out.cap, 0); /* nothing to release: no leak if the caller forgets */
    assert_string_equal(out.data, "");
}

static void test_round_trip_random_lengths(void **state)
{
    srand(42);
    unsigned char data[700];
    for (size_t len = 0; len <= sizeof data; len += 1 + len / 8) {
        for (size_t i = 0; i < len; i++)
            data[i] = (unsigned char)rand();
        struct buf coded = BUF_INIT, plain = BUF_INIT;
        base64_encode(data, len, &coded);
        assert_int_equal(coded.len, (len + 2) / 3 * 4);
        assert_int_equal(base64_decode(coded.data, coded.len, &plain, NULL), 0);
        assert_int_equal(plain.len, len);
        if (len)
            assert_memory_equal(plain.data, data, len);
        buf_release(&coded);
        buf_release(&plain);
    }
}

/* A 4 MB payload (a large image) decodes whole and exact. (Its speed is bench/run's business:
 * no timed assertion here.) */
static void test_large_payload(void **state)
{
    size_t len = 4 << 20;
    unsigned char *data = malloc(len);
    assert_non_null(data);
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        data[i] = (unsigned char)x;
    }
    struct buf coded = BUF_INIT, plain = BUF_INIT;
    base64_encode(data, len, &coded);
    assert_int_equal(base64_decode(coded.data, coded.len, &plain, NULL), 0);
    assert_int_equal(plain.len, len);
    assert_memory_equal(plain.data, data, len);
    free(data);
    buf_release(&coded);
    buf_release(&plain);
}

/* Decoding in place gives what decoding to a new buffer gives: the same bytes, or the same
 * failure at the same offset, for valid text with and without line breaks and padding and
 * for each kind of bad text. */
static void check_inplace_like_copy(const char *text, size_t len)
{
    struct buf copy = BUF_INIT;
    size_t bad_copy = 7777, bad_inplace = 8888, n = 0;
    int rc_copy = base64_decode(text, len, &copy, &bad_copy);
    char *s = malloc(len + 1);
    assert_non_null(s);
    memcpy(s, text, len);
    s[len] = '\0';
    int rc_inplace = base64_decode_inplace(s, len, &n, &bad_inplace);
    assert_int_equal(rc_inplace, rc_copy);
    if (rc_copy == 0) {
        assert_int_equal(n, copy.len);
        if (n)
            assert_memory_equal(s, copy.data, n);
    } else {
        assert_int_equal(bad_inplace, bad_copy);
    }
    free(s);
    buf_release(&copy);
}

static void test_inplace_matches_copy(void **state)
{
    srand(7);
    unsigned char data[3000];
    for (size_t len = 0; len <= sizeof data; len += 1 + len / 5) {
        for (size_t i = 0; i < len; i++)
            data[i] = (unsigned char)rand();
        struct buf coded = BUF_INIT, broken = BUF_INIT;
        base64_encode(data, len, &coded);
        check_inplace_like_copy(coded.data, coded.len);
        /* MIME line breaks every 76 characters */
        for (size_t i = 0; i < coded.len; i += 76) {
            buf_add(&broken, coded.data + i, coded.len - i < 76 ? coded.len - i : 76);
            buf_adds(&broken, "\r\n");
        }
        check_inplace_like_copy(broken.data, broken.len);
        /* padding left off */
        size_t unpadded = coded.len;
        while (unpadded && coded.data[unpadded - 1] == '=')
            unpadded--;
        check_inplace_like_copy(coded.data, unpadded);
        /* a bad character, a '=' inside, a lone final digit */
        if (coded.len > 8) {
            char *c = coded.data;
            char keep = c[coded.len / 2];
            c[coded.len / 2] = '-';
            check_inplace_like_copy(c, coded.len);
            c[coded.len / 2] = '=';
            check_inplace_like_copy(c, coded.len);
            c[coded.len / 2] = keep;
            check_inplace_like_copy(c, unpadded - (unpadded % 4 == 0 ? 3 : 0));
        }
        buf_release(&coded);
        buf_release(&broken);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_decode),
        cmocka_unit_test(test_rfc4648_encode),
        cmocka_unit_test(test_decode_appends),
        cmocka_unit_test(test_encode_appends),
        cmocka_unit_test(test_all_byte_values),
        cmocka_unit_test(test_crlf_skipped),
        cmocka_unit_test(test_missing_padding_accepted),
        cmocka_unit_test(test_rejects_url_safe_alphabet),
        cmocka_unit_test(test_rejects_other_characters),
        cmocka_unit_test(test_rejects_bad_padding),
        cmocka_unit_test(test_rejects_data_after_padding),
        cmocka_unit_test(test_rejects_lone_final_digit),
        cmocka_unit_test(test_failure_leaves_unallocated_buffer_unallocated),
        cmocka_unit_test(test_round_trip_random_lengths),
        cmocka_unit_test(test_large_payload),
        cmocka_unit_test(test_inplace_matches_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
