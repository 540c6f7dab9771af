/* test_common.c — unit tests for src/common: buffers, string vectors,
 * strings, paths, hashes, JSON text repair, findings, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/buf.h"
#include "common/err.h"
#include "common/finding.h"
#include "common/hash.h"
#include "common/jsonarena.h"
#include "common/jsonutil.h"
#include "common/jsonwrite.h"
#include "common/path.h"
#include "common/str.h"
#include "common/strv.h"
#include "common/thread.h"
#include "common/xalloc.h"

#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_buf_grows_and_formats(void **state)
{
    pyti_buf b = PYTI_BUF_INIT;
    assert_string_equal(buf_cstr(&b), "");
    for (int i = 0; i < 1000; i++)
        buf_printf(&b, "%d,", i);
    assert_true(b.len > 3000);
    assert_memory_equal(b.data, "0,1,2,", 6);
    buf_truncate(&b, 2);
    assert_string_equal(buf_cstr(&b), "0,");
    char *s = buf_detach(&b);
    assert_string_equal(s, "0,");
    assert_null(b.data);
    free(s);
    buf_free(&b);
}

static void test_strv_split_join_sort(void **state)
{
    pyti_strv v = PYTI_STRV_INIT;
    strv_split(&v, " b , a,, c ,", ",");
    assert_int_equal(v.len, 3);
    assert_string_equal(v.items[0], "b");
    assert_null(v.items[3]);
    strv_sort(&v);
    char *j = strv_join(&v, "|");
    assert_string_equal(j, "a|b|c");
    free(j);
    strv_push_unique(&v, "a");
    assert_int_equal(v.len, 3);
    assert_int_equal(strv_index(&v, "c"), 2);
    strv_free(&v);
}

static void test_str_helpers(void **state)
{
    char s[] = "  Hello World \n";
    assert_string_equal(str_trim(s), "Hello World");
    assert_string_equal(str_lower(s), "hello world");
    assert_true(str_startswith("foo.tar.gz", "foo"));
    assert_true(str_endswith("foo.tar.gz", ".tar.gz"));
    assert_false(str_endswith("gz", ".tar.gz"));
    assert_true(str_eq_nocase("Name", "nAME"));
    assert_true(str_blank(" \t"));
    assert_true(str_valid_utf8("caf\xc3\xa9", 5));
    assert_false(str_valid_utf8("\xc0\xaf", 2));          /* overlong '/' */
    assert_false(str_valid_utf8("\xed\xa0\x80", 3));      /* surrogate */
    assert_false(str_valid_utf8("\xe2\x82", 2));          /* truncated */
    char *e = str_excerpt("a\x01" "bcdef", 7, 4);
    assert_string_equal(e, "a?bc...");
    free(e);
}

static void test_path_join_and_names(void **state)
{
    char *p = path_join("/a/", "/b");
    assert_string_equal(p, "/a/b");
    free(p);
    assert_string_equal(path_basename("/x/y.whl"), "y.whl");
    char *d = path_dirname("/x/y.whl");
    assert_string_equal(d, "/x");
    free(d);
    d = path_dirname("y");
    assert_string_equal(d, ".");
    free(d);
}

static void test_path_rmtree_does_not_follow_symlinks(void **state)
{
    char *outside = t_tmpdir();
    char *keep = t_write(outside, "keep.txt", "precious");
    char *victim = t_tmpdir();
    char *sub = path_join(victim, "sub");
    char *marker = t_write(sub, "f", "x");
    char *link = path_join(sub, "link");
    assert_int_equal(symlink(outside, link), 0);
    chmod(sub, 0);
    pyti_error err;
    assert_int_equal(path_rmtree(victim, &err), PYTI_OK);
    assert_false(path_exists(victim));
    char *content = t_slurp(keep);
    assert_string_equal(content, "precious");
    free(content);
    free(keep); free(sub); free(marker); free(link);
}

static void test_path_read_limit_and_atomic_write(void **state)
{
    char *dir = t_tmpdir();
    char *path = path_join(dir, "f.txt");
    pyti_error err;
    assert_int_equal(path_write_file_atomic(path, "hello", 5, &err), PYTI_OK);
    pyti_buf b = PYTI_BUF_INIT;
    assert_int_equal(path_read_file(path, 0, &b, &err), PYTI_OK);
    assert_string_equal(buf_cstr(&b), "hello");
    buf_reset(&b);
    assert_int_equal(path_read_file(path, 3, &b, &err), PYTI_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "f.txt"));
    char *missing = path_join(dir, "nope");
    assert_int_equal(path_read_file(missing, 0, &b, &err), PYTI_ERR_NOTFOUND);
    buf_free(&b);
    free(path);
    free(missing);
}

static void test_hash_sha256_and_b64(void **state)
{
    char hex[65];
    hash_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char *dir = t_tmpdir();
    char *f = t_write(dir, "abc", "abc");
    unsigned long long size = 0;
    pyti_error err;
    assert_int_equal(hash_sha256_file(f, hex, &size, &err), PYTI_OK);
    assert_int_equal(size, 3);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    unsigned char md[PYTI_DIGEST_MAX];
    size_t mdlen;
    assert_int_equal(hash_file_named(f, "md5", md, &mdlen, NULL, &err), PYTI_ERR_INPUT);
    assert_int_equal(hash_file_named(f, "sha256", md, &mdlen, NULL, &err), PYTI_OK);
    char *b64 = hash_urlsafe_b64_nopad(md, mdlen);
    /* python: base64.urlsafe_b64encode(hashlib.sha256(b"abc").digest()).rstrip(b"=") */
    assert_string_equal(b64, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
    free(b64);
    free(f);
}

static void test_json_text_repairs_utf8(void **state)
{
    json_t *j = json_text("ok\xff" "end");
    assert_non_null(j);
    assert_string_equal(json_string_value(j), "ok\xef\xbf\xbd" "end");
    json_decref(j);
    j = json_textn("a\0b", 3);
    assert_int_equal(json_string_length(j), 3);
    json_decref(j);
    assert_true(json_is_null(json_text(NULL)));
}

/* jw_json's text of v equals jansson's json_dumps with sorted keys. */
static void assert_writes_like_jansson(const json_t *v, int indent)
{
    char *want = json_dumps(v, JSON_INDENT(indent) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    assert_non_null(want);
    pyti_buf b = PYTI_BUF_INIT;
    json_writer w;
    jw_init(&w, &b, indent);
    jw_json(&w, v);
    assert_string_equal(buf_cstr(&b), want);
    buf_free(&b);
    free(want);
}

static void test_jsonwrite_matches_jansson(void **state)
{
    (void)state;
    /* Every escape, control characters, non-ASCII text, a NUL inside a
     * string, reals that need ".0" or lose an exponent's "+" and zeros,
     * empty and nested containers, and keys out of order. */
    json_t *v = json_pack("{s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:b, s:b, s:n,"
                          " s:[], s:{}, s:[i, [], {}, [s, {s:i}]], s:{s:{s:[n]}}}",
                          "zeta", "quote\" back\\ slash/ \b\f\n\r\t \x01\x1f\x7f end",
                          "alpha", "caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x90\x8d",
                          "int", (json_int_t)-9223372036854775807LL - 1, "int2",
                          (json_int_t)1234567890123LL, "r0", 0.0, "r1", 1.234, "r2", 1e20,
                          "r3", 1e-5, "r4", -2.5e-300, "r5", 0.1 + 0.2, "t", 1, "f", 0, "n",
                          "ea", "eo", "nest", 7, "x", "y", 1, "deep", "a", "b");
    json_object_set_new(v, "nul", json_stringn("a\0b", 3));
    json_object_set_new(v, "", json_string("empty key"));
    for (int indent = 1; indent <= 4; indent++)
        assert_writes_like_jansson(v, indent);
    json_t *arr = json_array();
    assert_writes_like_jansson(arr, 1);
    json_array_append_new(arr, json_string("x"));
    assert_writes_like_jansson(arr, 1);
    json_decref(arr);
    json_decref(v);

    /* Keys written in order through the calls give the same text. */
    pyti_buf b = PYTI_BUF_INIT;
    json_writer w;
    jw_init(&w, &b, 1);
    jw_object_open(&w);
    jw_key(&w, "a");
    jw_string(&w, NULL);
    jw_key(&w, "b");
    jw_real(&w, NAN); /* jansson has no such real: null */
    jw_key(&w, "c");
    jw_array_open(&w);
    jw_int(&w, 0);
    jw_string(&w, "\xff bad \xc3");
    jw_array_close(&w);
    jw_object_close(&w);
    assert_string_equal(buf_cstr(&b), "{\n \"a\": null,\n \"b\": null,\n \"c\": [\n  0,\n"
                                      "  \"\xef\xbf\xbd bad \xef\xbf\xbd\"\n ]\n}");
    buf_free(&b);

    /* Invalid UTF-8 is repaired as json_text repairs it. */
    json_t *t = json_object();
    json_object_set_new(t, "s", json_text("ok \xff\xfe \xe2\x82 x"));
    char *want = json_dumps(t, JSON_INDENT(1) | JSON_SORT_KEYS);
    jw_init(&w, &b, 1);
    jw_object_open(&w);
    jw_key(&w, "s");
    jw_string(&w, "ok \xff\xfe \xe2\x82 x");
    jw_object_close(&w);
    assert_string_equal(buf_cstr(&b), want);
    free(want);
    buf_free(&b);
    json_decref(t);

    /* Deeper than JW_MAX_DEPTH: null, not a overflow of the bit set. */
    json_t *deep = json_array(), *cur = deep;
    for (int i = 0; i < JW_MAX_DEPTH + 5; i++) {
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    jw_init(&w, &b, 1);
    jw_json(&w, deep);
    assert_non_null(strstr(buf_cstr(&b), "null"));
    buf_free(&b);
    json_decref(deep);
}

/* jw_real's text of v is jansson's (its own digits for the fixed style,
 * snprintf's elsewhere), and jw_int_text's is jw_int's of strtoll. */
static void assert_real_like_jansson(double v)
{
    json_t *j = json_real(v);
    char *want = json_dumps(j, JSON_ENCODE_ANY);
    pyti_buf b = PYTI_BUF_INIT;
    json_writer w;
    jw_init(&w, &b, 1);
    jw_real(&w, v);
    if (strcmp(buf_cstr(&b), want) != 0)
        fail_msg("jw_real(%a): '%s', jansson '%s'", v, buf_cstr(&b), want);
    buf_free(&b);
    free(want);
    json_decref(j);
}

static void test_jsonwrite_numbers(void **state)
{
    (void)state;
    /* Durations in ms as seconds, the API's case. */
    for (long long k = 0; k < 200000; k++)
        assert_real_like_jansson((double)k / 1000.0);
    for (long long k = 1; k < 10000000000000LL; k = k * 3 + 1)
        assert_real_like_jansson((double)k / 1000.0);
    /* Every binade around the fixed style's edges (1e-4, 1e15, 1e17),
     * the powers of ten and their neighbours, ties and negatives. */
    for (int e = -30; e <= 30; e++) {
        double p = pow(10, e);
        assert_real_like_jansson(p);
        assert_real_like_jansson(nextafter(p, 0));
        assert_real_like_jansson(nextafter(p, INFINITY));
        assert_real_like_jansson(-p);
    }
    assert_real_like_jansson(0.5);
    assert_real_like_jansson(2.5);
    assert_real_like_jansson(9007199254740993.0);
    assert_real_like_jansson(999999999999999.9);
    assert_real_like_jansson(99999999999999999.0);
    assert_real_like_jansson(0.1 + 0.2);
    assert_real_like_jansson(-0.0);
    /* Random bit patterns of doubles between about 1e-6 and 1e18. */
    unsigned long long x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 300000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        unsigned long long bits = (x & 0x800FFFFFFFFFFFFFull) |
                                  ((unsigned long long)(1003 + (x >> 52) % 82) << 52);
        memcpy(&v, &bits, sizeof v);
        assert_real_like_jansson(v);
    }

    static const char *const ints[] = {"0", "-0", "007", "123", "-123", "+5", " 5", "12abc", "",
                                       "-", "999999999999999999", "-999999999999999999",
                                       "1000000000000000000", "9223372036854775807",
                                       "-9223372036854775808", "99999999999999999999"};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        pyti_buf got = PYTI_BUF_INIT, want = PYTI_BUF_INIT;
        json_writer w;
        jw_init(&w, &got, 1);
        jw_int_text(&w, ints[i]);
        jw_init(&w, &want, 1);
        jw_int(&w, strtoll(ints[i], NULL, 10));
        assert_string_equal(buf_cstr(&got), buf_cstr(&want));
        buf_free(&got);
        buf_free(&want);
    }

    /* jw_key_plain is jw_key; jw_raw_value repeats a value's text. */
    pyti_buf a = PYTI_BUF_INIT, b = PYTI_BUF_INIT;
    json_writer wa, wb;
    jw_init(&wa, &a, 2);
    jw_init(&wb, &b, 2);
    jw_array_open(&wa);
    jw_array_open(&wb);
    for (int i = 0; i < 3; i++) {
        jw_object_open(&wa);
        jw_object_open(&wb);
        jw_key(&wa, "created_by");
        jw_key_plain(&wb, "created_by", 10);
        jw_string(&wa, "api");
        jw_string(&wb, "api");
        jw_key(&wa, "r");
        jw_key_plain(&wb, "r", 1);
        json_t *r = json_pack("{s:[i,s], s:{}}", "b", 1, "x", "a");
        jw_json(&wa, r);
        static size_t start, len;
        if (i == 0) {
            start = b.len;
            jw_json(&wb, r);
            len = b.len - start;
        } else {
            char *copy = strndup(b.data + start, len);
            jw_raw_value(&wb, copy, len);
            free(copy);
        }
        json_decref(r);
        jw_object_close(&wa);
        jw_object_close(&wb);
    }
    jw_array_close(&wa);
    jw_array_close(&wb);
    assert_string_equal(buf_cstr(&a), buf_cstr(&b));
    buf_free(&a);
    buf_free(&b);
}

/* The arena: values parsed and released inside a stretch; values made
 * before it and released inside it, or made inside another thread's, go
 * to malloc and free as ever; the memory is reused stretch after stretch. */
static void *arena_thread(void *arg)
{
    (void)arg;
    for (int round = 0; round < 200; round++) {
        json_arena_begin();
        json_t *v = json_loads("{\"a\": [1, 2.5, \"x\", {\"b\": null}], \"c\": \"long string here\"}",
                               0, NULL);
        if (!v || json_integer_value(json_array_get(json_object_get(v, "a"), 0)) != 1)
            abort();
        json_decref(v);
        json_arena_end();
    }
    return NULL;
}

static void test_json_arena(void **state)
{
    (void)state;
    json_t *before = json_pack("{s:s}", "made", "outside");
    pyti_buf big = PYTI_BUF_INIT;
    buf_puts(&big, "[");
    for (int i = 0; i < 20000; i++)
        buf_printf(&big, "%s{\"i\": %d, \"s\": \"value %d\"}", i ? ", " : "", i, i);
    buf_puts(&big, "]");
    for (int round = 0; round < 3; round++) {
        json_arena_begin();
        json_t *v = json_loads(buf_cstr(&big), 0, NULL); /* several chunks' worth */
        assert_non_null(v);
        assert_int_equal(json_array_size(v), 20000);
        assert_string_equal(json_string_value(json_object_get(json_array_get(v, 19999), "s")),
                            "value 19999");
        json_t *huge = json_stringn(buf_cstr(&big), big.len); /* a chunk of its own */
        assert_int_equal(json_string_length(huge), big.len);
        json_decref(huge);
        json_decref(v);
        if (round == 2) /* made before the stretch, released inside it: free() */
            json_decref(before);
        json_arena_end();
    }
    buf_free(&big);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, arena_thread, NULL), 0);
    json_t *mine = json_loads("[1, 2, 3]", 0, NULL); /* outside any stretch meanwhile */
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(json_array_size(mine), 3);
    json_decref(mine);
}

static void test_json_read_file_names_position(void **state)
{
    char *dir = t_tmpdir();
    char *f = t_write(dir, "bad.json", "{\n \"a\": 1,\n \"a\": 2}");
    pyti_error err;
    assert_null(json_read_file(f, 0, &err));
    assert_int_equal(err.code, PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "bad.json:3:"));
    free(f);
}

static void test_findings_roundtrip(void **state)
{
    pyti_findings f = PYTI_FINDINGS_INIT;
    findings_add(&f, "metadata.missing-summary", PYTI_SEV_LOW, "PKG-INFO", "no %s", "Summary");
    findings_add(&f, "archive.bad", PYTI_SEV_CRITICAL, NULL, "bad");
    assert_int_equal(findings_max_severity(&f), PYTI_SEV_CRITICAL);
    json_t *j = findings_to_json(&f);
    pyti_findings g = PYTI_FINDINGS_INIT;
    findings_from_json(&g, j);
    assert_int_equal(g.len, 2);
    assert_string_equal(g.items[0].message, "no Summary");
    assert_null(g.items[1].where);
    assert_true(findings_has(&g, "archive.bad"));
    json_decref(j);
    findings_free(&f);
    findings_free(&g);
    assert_int_equal(severity_from_name("high"), PYTI_SEV_HIGH);
    assert_int_equal(severity_from_name("nope"), -1);
}

static void test_error_prefix(void **state)
{
    pyti_error err;
    pyti_error_set(&err, PYTI_ERR_INPUT, "entry '%s' escapes", "../x");
    pyti_error_prefix(&err, "archive %s", "a.tar.gz");
    assert_string_equal(err.msg, "archive a.tar.gz: entry '../x' escapes");
    assert_int_equal(err.code, PYTI_ERR_INPUT);
    assert_int_equal(pyti_error_set(NULL, PYTI_ERR_IO, "x"), PYTI_ERR_IO);
}

/* A detached thread runs its function with its argument; nobody joins
 * it (the test waits for the semaphore the thread posts). */
static void *detached_main(void *p)
{
    sem_post(p);
    return NULL;
}

static void test_thread_start_detached(void **state)
{
    (void)state;
    sem_t done;
    sem_init(&done, 0, 0);
    assert_int_equal(thread_start_detached(detached_main, &done), 0);
    assert_int_equal(sem_wait(&done), 0);
    sem_destroy(&done);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_grows_and_formats),
        cmocka_unit_test(test_strv_split_join_sort),
        cmocka_unit_test(test_str_helpers),
        cmocka_unit_test(test_path_join_and_names),
        cmocka_unit_test(test_path_rmtree_does_not_follow_symlinks),
        cmocka_unit_test(test_path_read_limit_and_atomic_write),
        cmocka_unit_test(test_hash_sha256_and_b64),
        cmocka_unit_test(test_json_text_repairs_utf8),
        cmocka_unit_test(test_json_read_file_names_position),
        cmocka_unit_test(test_jsonwrite_matches_jansson),
        cmocka_unit_test(test_jsonwrite_numbers),
        cmocka_unit_test(test_json_arena),
        cmocka_unit_test(test_findings_roundtrip),
        cmocka_unit_test(test_error_prefix),
        cmocka_unit_test(test_thread_start_detached),
    };
    return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
