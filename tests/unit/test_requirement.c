/* test_requirement.c — unit tests for src/pkg/requirement.c: PEP 508
 * requirements parsed and printed as packaging 23.0 does (tables computed
 * with it): names, extras, specifiers with and without parentheses, URLs
 * and their checks, markers, and error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "pkg/requirement.h"

#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* input, str(Requirement), name, normalised name, sorted extras joined by
 * ",", str(specifier), url, str(marker) */
static const struct {
    const char *in, *str, *name, *normalized, *extras, *spec, *url, *marker;
} ok[] = {
    {"foo", "foo", "foo", "foo", "", "", NULL, NULL},
    {"Foo.Bar_baz-qux", "Foo.Bar_baz-qux", "Foo.Bar_baz-qux", "foo-bar-baz-qux", "", "", NULL, NULL},
    {"foo\n", "foo", "foo", "foo", "", "", NULL, NULL},
    {"foo_", "foo_", "foo_", "foo-", "", "", NULL, NULL},
    {"  foo  ", "foo", "foo", "foo", "", "", NULL, NULL},
    {"foo>=1.0", "foo>=1.0", "foo", "foo", "", ">=1.0", NULL, NULL},
    {"foo >= 1.0", "foo>=1.0", "foo", "foo", "", ">=1.0", NULL, NULL},
    {"foo (>=1.0, <2)", "foo<2,>=1.0", "foo", "foo", "", "<2,>=1.0", NULL, NULL},
    {"foo(>=1.0,<2)", "foo<2,>=1.0", "foo", "foo", "", "<2,>=1.0", NULL, NULL},
    {"foo >=1.0,", "foo>=1.0", "foo", "foo", "", ">=1.0", NULL, NULL},
    {"foo==1.0.*", "foo==1.0.*", "foo", "foo", "", "==1.0.*", NULL, NULL},
    {"foo===bar", "foo===bar", "foo", "foo", "", "===bar", NULL, NULL},
    {"foo===,>=1", "foo===,>=1", "foo", "foo", "", "===,>=1", NULL, NULL},
    {"foo[bar]", "foo[bar]", "foo", "foo", "bar", "", NULL, NULL},
    {"foo[ bar , baz ]", "foo[bar,baz]", "foo", "foo", "bar,baz", "", NULL, NULL},
    {"foo[b,a,b]", "foo[a,b]", "foo", "foo", "a,b", "", NULL, NULL},
    {"foo[a]>=1; python_version < '3.8'", "foo[a]>=1; python_version < \"3.8\"", "foo", "foo", "a", ">=1", NULL, "python_version < \"3.8\""},
    {"foo; os_name == 'posix'", "foo; os_name == \"posix\"", "foo", "foo", "", "", NULL, "os_name == \"posix\""},
    {"foo ;os_name=='posix'", "foo; os_name == \"posix\"", "foo", "foo", "", "", NULL, "os_name == \"posix\""},
    {"foo>=1;extra=='Foo_Bar'", "foo>=1; extra == \"foo-bar\"", "foo", "foo", "", ">=1", NULL, "extra == \"foo-bar\""},
    {"foo @ https://example.com/foo-1.0.tar.gz", "foo@ https://example.com/foo-1.0.tar.gz", "foo", "foo", "", "", "https://example.com/foo-1.0.tar.gz", NULL},
    {"foo@https://example.com/foo.whl#sha256=00", "foo@ https://example.com/foo.whl#sha256=00", "foo", "foo", "", "", "https://example.com/foo.whl#sha256=00", NULL},
    {"foo @ file:///tmp/foo", "foo@ file:///tmp/foo", "foo", "foo", "", "", "file:///tmp/foo", NULL},
    {"foo @ http://x ; os_name=='a'", "foo@ http://x ; os_name == \"a\"", "foo", "foo", "", "", "http://x", "os_name == \"a\""},
    {"foo @ http://x;os_name=='a'", "foo@ http://x;os_name=='a'", "foo", "foo", "", "", "http://x;os_name=='a'", NULL},
    {"foo @ http://x ", "foo@ http://x", "foo", "foo", "", "", "http://x", NULL},
    {"foo[x] @ git+https://github.com/a/b.git@v1", "foo[x]@ git+https://github.com/a/b.git@v1", "foo", "foo", "x", "", "git+https://github.com/a/b.git@v1", NULL},
    {"foo @ http://[::1]:8080/x", "foo@ http://[::1]:8080/x", "foo", "foo", "", "", "http://[::1]:8080/x", NULL},
    {"foo @ http://[fe80::1%eth0]/", "foo@ http://[fe80::1%eth0]/", "foo", "foo", "", "", "http://[fe80::1%eth0]/", NULL},
    {"foo @ http://[v1.fe]/x", "foo@ http://[v1.fe]/x", "foo", "foo", "", "", "http://[v1.fe]/x", NULL},
    {"name; (os_name == 'a')", "name; os_name == \"a\"", "name", "name", "", "", NULL, "os_name == \"a\""},
    {"name; os_name == 'a' and (python_version >= '3' or extra == 'X')", "name; os_name == \"a\" and (python_version >= \"3\" or extra == \"X\")", "name", "name", "", "", NULL, "os_name == \"a\" and (python_version >= \"3\" or extra == \"X\")"},
    {"foo\t>=1\t;\tos_name=='a'", "foo>=1; os_name == \"a\"", "foo", "foo", "", ">=1", NULL, "os_name == \"a\""},
    {"foo== 1.0", "foo==1.0", "foo", "foo", "", "==1.0", NULL, NULL},
    {"foo ~= 1.4.5, != 1.4.6", "foo!=1.4.6,~=1.4.5", "foo", "foo", "", "!=1.4.6,~=1.4.5", NULL, NULL},
};

static const char *const bad[] = {
    "",
    " ",
    "_foo",
    "-foo",
    "foo-",
    "foo bar",
    "foo[",
    "foo[a",
    "foo[a b]",
    "foo[a,]",
    "foo >=",
    "foo ~=1",
    "foo>=1.0+local",
    "foo==1.0.*+x",
    "foo (>=1",
    "foo >=1)",
    "foo===a,b",
    "foo; ",
    "foo; os_name == 'a' xyz",
    "foo @",
    "foo @ ",
    "foo @ file:/x",
    "foo @ FILE:///x",
    "foo @ http:/x",
    "foo @ x",
    "foo @ http://[::1/x",
    "foo @ http://[1.2.3.4]/",
    "foo @ http://[::1::2]/",
    "foo @ http://h\xe2\x84\x80st/",
    "foo @ http://x\t;os_name=='a' x",
    "foo>=1.0 @ http://x",
    "foo\xc3\xa9",
    "foo==1.0abc",
    "foo @ http://x;os_name=='a' ;",
};

static void check_opt(const char *in, const char *what, const char *got, const char *want)
{
    if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
        fail_msg("'%s': %s is '%s', want '%s'", in, what, got ? got : "(null)",
                 want ? want : "(null)");
}

static void test_round_trips(void **state)
{
    for (size_t i = 0; i < NELEM(ok); i++) {
        pyti_error err;
        pyti_requirement *r = requirement_parse(ok[i].in, &err);
        if (!r)
            fail_msg("'%s' rejected: %s", ok[i].in, err.msg);
        char *s = requirement_to_string(r);
        check_opt(ok[i].in, "str", s, ok[i].str);
        free(s);
        check_opt(ok[i].in, "name", r->name, ok[i].name);
        check_opt(ok[i].in, "normalized", r->normalized, ok[i].normalized);
        pyti_strv sorted = PYTI_STRV_INIT;
        strv_extend(&sorted, &r->extras);
        strv_sort(&sorted);
        char *extras = strv_join(&sorted, ",");
        check_opt(ok[i].in, "extras", extras, ok[i].extras);
        free(extras);
        strv_free(&sorted);
        assert_non_null(r->spec);
        char *spec = specset_to_string(r->spec);
        check_opt(ok[i].in, "specifier", spec, ok[i].spec);
        free(spec);
        check_opt(ok[i].in, "url", r->url, ok[i].url);
        char *marker = r->marker ? marker_to_string(r->marker) : NULL;
        check_opt(ok[i].in, "marker", marker, ok[i].marker);
        free(marker);
        requirement_free(r);
    }
}

static void test_rejects(void **state)
{
    for (size_t i = 0; i < NELEM(bad); i++) {
        pyti_error err;
        pyti_requirement *r = requirement_parse(bad[i], &err);
        if (r)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(err.code, PYTI_ERR_INPUT);
        assert_true(strncmp(err.msg, "requirement '", 13) == 0);
    }
    assert_null(requirement_parse(NULL, NULL));
}

static const struct {
    const char *in, *msg;
} messages[] = {
    {"foo >=", "requirement 'foo >=': expected a version after '>=' at the end"},
    {"foo ~=1", "requirement 'foo ~=1': expected a version with at least two release numbers "
                "after '~=' at column 7"},
    {"foo>=1.0+local", "requirement 'foo>=1.0+local': local versions ('+...') are only allowed "
                       "with == and != at column 9"},
    {"foo bar", "requirement 'foo bar': expected end or semicolon (after name and no valid "
                "version specifier) at column 5"},
    {"foo>=1 bar", "requirement 'foo>=1 bar': expected end or semicolon (after version "
                   "specifier) at column 8"},
    {"foo[a b]", "requirement 'foo[a b]': expected a comma between extra names at column 7"},
    {"foo[a", "requirement 'foo[a': expected ']' (to close the '[' at column 4) at the end"},
    {"_foo", "requirement '_foo': expected a package name at the start of the requirement at "
             "column 1"},
    {"foo @ file:/x", "requirement 'foo @ file:/x': invalid URL 'file:/x': a file: URL must be "
                      "in its normal form (file:///path) at column 7"},
    {"foo @ x", "requirement 'foo @ x': invalid URL 'x': a URL needs a scheme and a host (or "
                "file:///path) at column 7"},
    {"foo===a,b", "requirement 'foo===a,b': in specifier set '===a,b': invalid specifier 'b': "
                  "expected an operator (==, !=, <=, >=, <, >, ~=, ===) at column 1"},
    {"foo; os_name = 'a'", "requirement 'foo; os_name = 'a'': expected a marker operator, one of "
                           "<=, <, !=, ==, >=, >, ~=, ===, in, not in at column 14"},
};

static void test_error_messages(void **state)
{
    for (size_t i = 0; i < NELEM(messages); i++) {
        pyti_error err;
        assert_null(requirement_parse(messages[i].in, &err));
        if (strcmp(err.msg, messages[i].msg) != 0)
            fail_msg("'%s':\n got  %s\n want %s", messages[i].in, err.msg, messages[i].msg);
    }
}

static void test_extras_keep_order_without_duplicates(void **state)
{
    pyti_requirement *r = requirement_parse("foo[c, a, c, B]", NULL);
    assert_int_equal(r->extras.len, 3);
    assert_string_equal(r->extras.items[0], "c");
    assert_string_equal(r->extras.items[1], "a");
    assert_string_equal(r->extras.items[2], "B");
    requirement_free(r);
}

static void test_marker_of_requirement_evaluates(void **state)
{
    pyti_requirement *r = requirement_parse("foo[test]>=1; extra == 'Test' and os_name == 'posix'",
                                            NULL);
    pyti_marker_env env;
    marker_env_default(&env, "3.11.2");
    assert_int_equal(marker_evaluate(r->marker, &env, NULL), 0);
    env.extra = "TEST";
    assert_int_equal(marker_evaluate(r->marker, &env, NULL), 1);
    requirement_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_error_messages),
        cmocka_unit_test(test_extras_keep_order_without_duplicates),
        cmocka_unit_test(test_marker_of_requirement_evaluates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
