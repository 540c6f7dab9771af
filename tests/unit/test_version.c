/* test_version.c — unit tests for src/pkg/version.c: PEP 440 parsing and
 * normal forms (tables checked against packaging 23.0), the order, big
 * numbers, the length limit and error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "pkg/version.h"

#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *in, *str, *public_, *base;
    int pre, post, dev, local;
} valid[] = {
    {"1", "1", "1", "1", 0, 0, 0, 0},
    {"1.0", "1.0", "1.0", "1.0", 0, 0, 0, 0},
    {"01.02.003", "1.2.3", "1.2.3", "1.2.3", 0, 0, 0, 0},
    {"v1.0", "1.0", "1.0", "1.0", 0, 0, 0, 0},
    {"V1.0", "1.0", "1.0", "1.0", 0, 0, 0, 0},
    {" 1.0 ", "1.0", "1.0", "1.0", 0, 0, 0, 0},
    {"\t1.0\n", "1.0", "1.0", "1.0", 0, 0, 0, 0},
    {"1!1.0", "1!1.0", "1!1.0", "1!1.0", 0, 0, 0, 0},
    {"0!1.0", "1.0", "1.0", "1.0", 0, 0, 0, 0},
    {"1.0a", "1.0a0", "1.0a0", "1.0", 1, 0, 0, 0},
    {"1.0.a1", "1.0a1", "1.0a1", "1.0", 1, 0, 0, 0},
    {"1.0-alpha-1", "1.0a1", "1.0a1", "1.0", 1, 0, 0, 0},
    {"1.0_beta_2", "1.0b2", "1.0b2", "1.0", 1, 0, 0, 0},
    {"1.0c3", "1.0rc3", "1.0rc3", "1.0", 1, 0, 0, 0},
    {"1.0pre4", "1.0rc4", "1.0rc4", "1.0", 1, 0, 0, 0},
    {"1.0preview5", "1.0rc5", "1.0rc5", "1.0", 1, 0, 0, 0},
    {"1.0RC6", "1.0rc6", "1.0rc6", "1.0", 1, 0, 0, 0},
    {"1.0-1", "1.0.post1", "1.0.post1", "1.0", 0, 1, 0, 0},
    {"1.0.post", "1.0.post0", "1.0.post0", "1.0", 0, 1, 0, 0},
    {"1.0post-2", "1.0.post2", "1.0.post2", "1.0", 0, 1, 0, 0},
    {"1.0-rev3", "1.0.post3", "1.0.post3", "1.0", 0, 1, 0, 0},
    {"1.0r4", "1.0.post4", "1.0.post4", "1.0", 0, 1, 0, 0},
    {"1.0.dev", "1.0.dev0", "1.0.dev0", "1.0", 1, 0, 1, 0},
    {"1.0-dev-5", "1.0.dev5", "1.0.dev5", "1.0", 1, 0, 1, 0},
    {"1.0DEV6", "1.0.dev6", "1.0.dev6", "1.0", 1, 0, 1, 0},
    {"1.0a1.post2.dev3", "1.0a1.post2.dev3", "1.0a1.post2.dev3", "1.0", 1, 1, 1, 0},
    {"1.0+abc.5", "1.0+abc.5", "1.0", "1.0", 0, 0, 0, 1},
    {"1.0+ABC-5_x", "1.0+abc.5.x", "1.0", "1.0", 0, 0, 0, 1},
    {"1.0+007", "1.0+7", "1.0", "1.0", 0, 0, 0, 1},
    {"1.0a-", "1.0a0", "1.0a0", "1.0", 1, 0, 0, 0},
    {"1.0a--1", "1.0a0.post1", "1.0a0.post1", "1.0", 1, 1, 0, 0},
    {"1.0.post-", "1.0.post0", "1.0.post0", "1.0", 0, 1, 0, 0},
    {"1.0.dev-+local", "1.0.dev0+local", "1.0.dev0", "1.0", 1, 0, 1, 1},
    {"1.0rc.1", "1.0rc1", "1.0rc1", "1.0", 1, 0, 0, 0},
    {"1.99999999999999999999999", "1.99999999999999999999999", "1.99999999999999999999999", "1.99999999999999999999999", 0, 0, 0, 0},
    {"00000000000000000000001.0", "1.0", "1.0", "1.0", 0, 0, 0, 0},
    {"1.0+K", "1.0+k", "1.0", "1.0", 0, 0, 0, 1},
    {"1.0po\xc5\xbft1", "1.0.post1", "1.0.post1", "1.0", 0, 1, 0, 0},
    {"1.0prev\xc4\xb1""ew", "1.0prev\xc4\xb1""ew0", "1.0prev\xc4\xb1""ew0", "1.0", 1, 0, 0, 0},
    {" 1.0\xe3\x80\x80", "1.0", "1.0", "1.0", 0, 0, 0, 0},
    {"1.0.0.0.0.0", "1.0.0.0.0.0", "1.0.0.0.0.0", "1.0.0.0.0.0", 0, 0, 0, 0},
};

static const char *const invalid[] = {
    "",
    " ",
    "1.0-",
    "1..0",
    ".1",
    "1.",
    "1.0+",
    "1.0+abc.",
    "1!",
    "v",
    "1.0 a1",
    "1.0.*",
    "a1",
    "1.0-dev-1-1",
    "1.0+a..b",
    "1.0.-1",
    "1.0\xc3\xa9",
    "1 .0",
    "1.0+\xc3\xa9",
    "1.0a1b2",
    "1.0.post1.post2",
    "\xd9\xa1.0",
    "2004d",
    "1.0\xe3\x80\x80""a1",
};

static void test_valid_versions(void **state)
{
    for (size_t i = 0; i < NELEM(valid); i++) {
        pyti_error err;
        pyti_version *v = version_parse(valid[i].in, &err);
        if (!v)
            fail_msg("'%s' rejected: %s", valid[i].in, err.msg);
        char *s = version_to_string(v), *p = version_public(v), *b = version_base(v);
        if (strcmp(s, valid[i].str) || strcmp(p, valid[i].public_) || strcmp(b, valid[i].base))
            fail_msg("'%s': got %s / %s / %s", valid[i].in, s, p, b);
        assert_int_equal(version_is_prerelease(v), valid[i].pre);
        assert_int_equal(version_is_postrelease(v), valid[i].post);
        assert_int_equal(version_is_devrelease(v), valid[i].dev);
        assert_int_equal(version_has_local(v), valid[i].local);
        free(s);
        free(p);
        free(b);
        version_free(v);
    }
}

static void test_invalid_versions(void **state)
{
    for (size_t i = 0; i < NELEM(invalid); i++) {
        pyti_error err;
        pyti_version *v = version_parse(invalid[i], &err);
        if (v)
            fail_msg("'%s' accepted as %s", invalid[i], version_to_string(v));
        assert_int_equal(err.code, PYTI_ERR_INPUT);
        assert_non_null(strstr(err.msg, "invalid version '"));
        assert_true(strstr(err.msg, "column") || strstr(err.msg, "at the end"));
    }
    assert_null(version_parse(NULL, NULL));
}

static void test_error_messages_name_input_and_position(void **state)
{
    pyti_error err;
    assert_null(version_parse("1.0+abc.", &err));
    assert_string_equal(err.msg, "invalid version '1.0+abc.': expected '.', a pre-, post- or "
                                 "dev-release, a '+local' label or the end at column 8");
    assert_null(version_parse("1.0+", &err));
    assert_string_equal(err.msg, "invalid version '1.0+': expected a local label of letters "
                                 "and digits after '+' at column 4");
    assert_null(version_parse("vx", &err));
    assert_string_equal(err.msg,
                        "invalid version 'vx': expected a release number like '1.0' at column 2");
    assert_null(version_parse("  ", &err));
    assert_non_null(strstr(err.msg, "empty"));
}

static void test_accessors(void **state)
{
    pyti_version *v = version_parse("7!01.002.0030rc4.post5.dev6+Ubuntu.01", NULL);
    assert_non_null(v);
    assert_string_equal(version_epoch(v), "7");
    assert_int_equal(version_release_len(v), 3);
    assert_string_equal(version_release_at(v, 0), "1");
    assert_string_equal(version_release_at(v, 1), "2");
    assert_string_equal(version_release_at(v, 2), "30");
    assert_null(version_release_at(v, 3));
    char *s = version_to_string(v);
    assert_string_equal(s, "7!1.2.30rc4.post5.dev6+ubuntu.1");
    free(s);
    s = version_base(v);
    assert_string_equal(s, "7!1.2.30");
    free(s);
    pyti_version *c = version_copy(v);
    version_free(v);
    s = version_to_string(c);
    assert_string_equal(s, "7!1.2.30rc4.post5.dev6+ubuntu.1");
    free(s);
    assert_string_equal(version_epoch(c), "7");
    version_free(c);
    v = version_parse("1.0", NULL);
    assert_string_equal(version_epoch(v), "0");
    version_free(v);
}

/* Strictly increasing, as packaging orders them. */
static const char *const chain[] = {
    "0.9", "1.0.dev0", "1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12",
    "1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456", "1.0b2.post345", "1.0b2-346",
    "1.0c1.dev456", "1.0c1", "1.0rc2", "1.0c3", "1.0", "1.0+abc", "1.0+abc.1", "1.0+1",
    "1.0+1.abc", "1.0+2", "1.0.post456.dev34", "1.0.post456", "1.0.1", "1.1.dev1", "1.2+123abc",
    "1.2+123abc456", "1.2+abc", "1.2+abc123", "1.2+abc123def", "1.2+1234.abc", "1.2+123456",
    "1.2.r32+123456", "1.2.rev33+123456", "1.10", "1.99999999999999999999",
    "1.100000000000000000000", "2", "1!0.1", "1!1.0", "10!0",
};

static void test_order_chain(void **state)
{
    pyti_version *v[NELEM(chain)];
    for (size_t i = 0; i < NELEM(chain); i++) {
        v[i] = version_parse(chain[i], NULL);
        assert_non_null(v[i]);
    }
    for (size_t i = 0; i < NELEM(chain); i++)
        for (size_t j = 0; j < NELEM(chain); j++) {
            int c = version_compare(v[i], v[j]);
            int want = (i > j) - (i < j);
            if ((c > 0) - (c < 0) != want)
                fail_msg("compare(%s, %s) = %d, want %d", chain[i], chain[j], c, want);
        }
    for (size_t i = 0; i < NELEM(chain); i++)
        version_free(v[i]);
}

static const char *const equal_groups[][5] = {
    {"1.0", "1.0.0", "v1.0.0.0", "1.00", "0!1.0"},
    {"1.0a", "1.0a0", "1.0.alpha0", "1.0-A", "1.0a"},
    {"1.0+1", "1.0+01", "1.0+0001", "1.0+1", "1.0+1"},
    {"1.0.post", "1.0-0", "1.0r", "1.0.rev0", "1.0post0"},
    {"1.0+a.b", "1.0+A-B", "1.0+a_b", "1.0+a.b", "1.0+a.b"},
};

static void test_equal_spellings(void **state)
{
    for (size_t g = 0; g < NELEM(equal_groups); g++) {
        pyti_version *first = version_parse(equal_groups[g][0], NULL);
        for (size_t i = 1; i < 5; i++) {
            pyti_version *v = version_parse(equal_groups[g][i], NULL);
            assert_non_null(v);
            if (version_compare(first, v) != 0)
                fail_msg("%s != %s", equal_groups[g][0], equal_groups[g][i]);
            version_free(v);
        }
        version_free(first);
    }
}

static void test_big_numbers_do_not_overflow(void **state)
{
    pyti_version *a = version_parse("1.18446744073709551616", NULL);
    pyti_version *b = version_parse("1.18446744073709551615", NULL);
    pyti_version *c = version_parse("1.000018446744073709551616", NULL);
    assert_true(version_compare(a, b) > 0);
    assert_int_equal(version_compare(a, c), 0);
    char *s = version_to_string(c);
    assert_string_equal(s, "1.18446744073709551616");
    free(s);
    version_free(a);
    version_free(b);
    version_free(c);
}

static void test_length_limit(void **state)
{
    char text[1100];
    memset(text, '1', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    text[1024] = '\0';
    pyti_version *v = version_parse(text, NULL);
    assert_non_null(v); /* exactly 1 KiB is fine */
    version_free(v);
    text[1024] = '1';
    pyti_error err;
    assert_null(version_parse(text, &err));
    assert_non_null(strstr(err.msg, "too long (1099 bytes, at most 1024)"));
}

static void test_odd_spellings_like_python(void **state)
{
    /* re.IGNORECASE lets U+017F match 's': the post-release letter is then
     * "po\u017ft", which still prints as ".post1" but sorts after "post". */
    pyti_version *odd = version_parse("1.0po\xc5\xbft1", NULL);
    pyti_version *plain = version_parse("1.0.post1", NULL);
    assert_true(version_compare(odd, plain) > 0);
    version_free(odd);
    version_free(plain);
    /* U+212A KELVIN SIGN lowercases to 'k' in a local label. */
    pyti_version *k = version_parse("1.0+\xe2\x84\xaa", NULL);
    char *s = version_to_string(k);
    assert_string_equal(s, "1.0+k");
    free(s);
    version_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_versions),
        cmocka_unit_test(test_invalid_versions),
        cmocka_unit_test(test_error_messages_name_input_and_position),
        cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_order_chain),
        cmocka_unit_test(test_equal_spellings),
        cmocka_unit_test(test_big_numbers_do_not_overflow),
        cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_odd_spellings_like_python),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
