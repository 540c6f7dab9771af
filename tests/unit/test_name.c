/* test_name.c — unit tests for src/pkg/name.c: PEP 503 normalisation (as
 * packaging.utils.canonicalize_name, table computed with it, Unicode
 * lowercasing included), name validity, and wheel and sdist file names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "pkg/name.h"

#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *in, *out;
} norm[] = {
    {"foo", "foo"},
    {"Foo", "foo"},
    {"FOO_bar", "foo-bar"},
    {"foo--bar", "foo-bar"},
    {"foo-_.bar", "foo-bar"},
    {"Foo.Bar-Baz_Qux", "foo-bar-baz-qux"},
    {"-foo-", "-foo-"},
    {"", ""},
    {"a", "a"},
    {"\xc4\xb0stanbul", "i\xcc\x87stanbul"},
    {"\xce\xa3\xce\xa3", "\xcf\x83\xcf\x82"},
    {"A\xce\xa3", "a\xcf\x82"},
    {"a\xce\xa3""b", "a\xcf\x83""b"},
    {"\xe2\x84\xaa""elvin", "kelvin"},
    {"Stra\xc3\x9f""e", "stra\xc3\x9f""e"},
    {"foo bar", "foo bar"},
    {"\xc3\x89""COLE", "\xc3\xa9""cole"},
    {"zope.interface", "zope-interface"},
};

static void test_normalize(void **state)
{
    for (size_t i = 0; i < NELEM(norm); i++) {
        char *n = name_normalize(norm[i].in);
        if (strcmp(n, norm[i].out) != 0)
            fail_msg("normalize('%s') = '%s', want '%s'", norm[i].in, n, norm[i].out);
        free(n);
    }
}

static void test_is_valid(void **state)
{
    static const char *const good[] = {"a", "A", "0", "foo", "Foo.Bar-baz_qux", "a1", "1a", "a.b"};
    static const char *const badn[] = {"", "-a", "a-", ".a", "a.", "_a", "a_", "a b", "a\n",
                                       "\xc3\xa9", "a/b", "a+b"};
    for (size_t i = 0; i < NELEM(good); i++)
        assert_true(name_is_valid(good[i]));
    for (size_t i = 0; i < NELEM(badn); i++)
        if (name_is_valid(badn[i]))
            fail_msg("'%s' accepted", badn[i]);
    assert_false(name_is_valid(NULL));
}

static void test_wheels(void **state)
{
    pyti_dist_filename f;
    pyti_error err;
    assert_int_equal(dist_filename_parse("Foo_Bar-1.0.post1-12abc-cp38.CP39-abi3-"
                                         "manylinux1_x86_64.manylinux2010_x86_64.whl", &f, &err),
                     PYTI_OK);
    assert_int_equal(f.kind, PYTI_DIST_WHEEL);
    assert_string_equal(f.name, "Foo_Bar");
    assert_string_equal(f.version, "1.0.post1");
    assert_string_equal(f.build, "12abc");
    assert_int_equal(f.python_tags.len, 2);
    assert_string_equal(f.python_tags.items[0], "cp38");
    assert_string_equal(f.python_tags.items[1], "cp39");
    assert_int_equal(f.abi_tags.len, 1);
    assert_string_equal(f.abi_tags.items[0], "abi3");
    assert_int_equal(f.platform_tags.len, 2);
    assert_string_equal(f.platform_tags.items[1], "manylinux2010_x86_64");
    assert_string_equal(f.extension, ".whl");
    dist_filename_free(&f);

    assert_int_equal(dist_filename_parse("pkg-2.0-py2.py3.PY3-none-any.whl", &f, &err), PYTI_OK);
    assert_null(f.build);
    assert_int_equal(f.python_tags.len, 2); /* duplicates dropped after lowercasing */
    dist_filename_free(&f);
}

static const struct {
    const char *in, *name, *version, *ext;
} sdists[] = {
    {"foo-1.0.tar.gz", "foo", "1.0", ".tar.gz"},
    {"foo-bar-1.0.tar.gz", "foo-bar", "1.0", ".tar.gz"},
    {"foo_bar-2.0b1.zip", "foo_bar", "2.0b1", ".zip"},
    {"foo-1.0.tgz", "foo", "1.0", ".tgz"},
    {"foo-1.0.tar.bz2", "foo", "1.0", ".tar.bz2"},
    {"foo-1.0.tar.xz", "foo", "1.0", ".tar.xz"},
    {"foo-2-bar-1.0.tar.gz", "foo-2-bar", "1.0", ".tar.gz"},
    {"Foo-1.0-beta.tar.gz", "Foo", "1.0-beta", ".tar.gz"},
    {"zope.interface-5.4.0.tar.gz", "zope.interface", "5.4.0", ".tar.gz"},
};

static void test_sdists(void **state)
{
    for (size_t i = 0; i < NELEM(sdists); i++) {
        pyti_dist_filename f;
        pyti_error err;
        if (dist_filename_parse(sdists[i].in, &f, &err) != PYTI_OK)
            fail_msg("'%s': %s", sdists[i].in, err.msg);
        assert_int_equal(f.kind, PYTI_DIST_SDIST);
        assert_string_equal(f.name, sdists[i].name);
        assert_string_equal(f.version, sdists[i].version);
        assert_string_equal(f.extension, sdists[i].ext);
        assert_null(f.build);
        assert_int_equal(f.python_tags.len, 0);
        dist_filename_free(&f);
    }
}

static const struct {
    const char *in, *msg;
} bad[] = {
    {"foo.tar.gz", "no '-' followed by a digit"},
    {"foo-1.0.rar", "unknown extension"},
    {"foo-1.0-py3-none.whl", "found 3 dashes"},
    {"foo-1.0-1-2-py3-none-any.whl", "found 6 dashes"},
    {"-1.0.tar.gz", "invalid project name"},
    {"foo__bar-1.0-py3-none-any.whl", "invalid project name"},
    {"foo$-1.0-py3-none-any.whl", "invalid project name"},
    {"foo-1.0-x-py3-none-any.whl", "the build tag must start with a digit"},
    {"foo-bad-py3-none-any.whl", "invalid version 'bad'"},
    {"foo-1.0-py3..py2-none-any.whl", "empty python, abi or platform tag"},
    {"dir/foo-1.0.tar.gz", "cannot contain '/'"},
    {"foo-1.0 .tar.gz", "control character or space in the version"},
    {"", "empty"},
};

static void test_errors(void **state)
{
    for (size_t i = 0; i < NELEM(bad); i++) {
        pyti_dist_filename f;
        pyti_error err;
        assert_int_equal(dist_filename_parse(bad[i].in, &f, &err), PYTI_ERR_INPUT);
        if (!strstr(err.msg, bad[i].msg))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].in, err.msg, bad[i].msg);
        assert_null(f.name); /* out is left empty */
        dist_filename_free(&f);
    }
    pyti_dist_filename f;
    pyti_error err;
    assert_int_equal(dist_filename_parse("foo-1.0-x-py3-none-any.whl", &f, &err), PYTI_ERR_INPUT);
    assert_string_equal(err.msg, "distribution file name 'foo-1.0-x-py3-none-any.whl': the "
                                 "build tag must start with a digit");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_is_valid),
        cmocka_unit_test(test_wheels),
        cmocka_unit_test(test_sdists),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
