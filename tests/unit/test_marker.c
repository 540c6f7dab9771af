/* test_marker.c — unit tests for src/pkg/marker.c: PEP 508 markers parsed,
 * printed and evaluated as packaging 23.0 does (tables computed with it),
 * including its quirks, plus error messages, limits and the default
 * environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "pkg/marker.h"

#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* input, str(Marker(input)) */
static const struct {
    const char *in, *str;
} parse_ok[] = {
    {"os_name == \"posix\"", "os_name == \"posix\""},
    {"os_name=='posix'", "os_name == \"posix\""},
    {"os.name == \"posix\"", "os_name == \"posix\""},
    {"sys.platform != 'win32'", "sys_platform != \"win32\""},
    {"platform.version == 'x'", "platform_version == \"x\""},
    {"platform.machine == 'x'", "platform_machine == \"x\""},
    {"platform.python_implementation == 'CPython'", "platform_python_implementation == \"CPython\""},
    {"python_implementation == 'CPython'", "platform_python_implementation == \"CPython\""},
    {"python_version >= '3.8' and python_version < '4'", "python_version >= \"3.8\" and python_version < \"4\""},
    {"(python_version >= '3.8')", "python_version >= \"3.8\""},
    {"((os_name == 'a'))", "os_name == \"a\""},
    {"os_name == 'a' and ((os_name == 'b' or os_name == 'c'))", "os_name == \"a\" and os_name == \"b\" or os_name == \"c\""},
    {"(os_name == 'a' or os_name == 'b') and os_name == 'c'", "(os_name == \"a\" or os_name == \"b\") and os_name == \"c\""},
    {"os_name == 'a' and (os_name == 'b' or (os_name == 'c' and os_name == 'd'))", "os_name == \"a\" and (os_name == \"b\" or (os_name == \"c\" and os_name == \"d\"))"},
    {"extra == 'Foo_Bar.baz'", "extra == \"foo-bar-baz\""},
    {"'Foo_Bar' == extra", "\"foo-bar\" == extra"},
    {"extra == extra", "extra == \"extra\""},
    {"os_name == 'a' and extra == 'Foo_Bar'", "os_name == \"a\" and extra == \"Foo_Bar\""},
    {"os_name == 'a' trailing garbage", "os_name == \"a\""},
    {"os_name == 'a'\nand x", "os_name == \"a\""},
    {"os_name in 'posix nt'", "os_name in \"posix nt\""},
    {"os_name not in 'posix'", "os_name not in \"posix\""},
    {"os_name not \t in 'posix'", "os_name not in \"posix\""},
    {"'3.8' <= python_version", "\"3.8\" <= python_version"},
    {"os_name == 'a\\tb'", "os_name == \"a\tb\""},
    {"os_name == '\\x41\\u00e9\\U0001F600'", "os_name == \"A\xc3\xa9\xf0\x9f\x98\x80\""},
    {"os_name == 'a\\qb'", "os_name == \"a\\qb\""},
    {"os_name == 'a\\\nb'", "os_name == \"ab\""},
    {"os_name == '\\101'", "os_name == \"A\""},
    {"python_version ~= '3.8'", "python_version ~= \"3.8\""},
    {"python_version === '3.8'", "python_version === \"3.8\""},
    {"os_name=='a'or os_name=='b'", "os_name == \"a\" or os_name == \"b\""},
    {"  os_name  ==  'a'  ", "os_name == \"a\""},
};

static const char *const parse_bad[] = {
    "",
    " ",
    "os_name",
    "os_name ==",
    "os_name = 'a'",
    "os_name == a",
    "os_name == 'a",
    "(os_name == 'a'",
    "os_name == 'a' and",
    "os_name == 'a' and or",
    "os_name is 'a'",
    "os_name not 'a'",
    "os_name notin 'a'",
    "os_nam == 'a'",
    "python_versionx == '3'",
    "os_name == 'a\nb'",
    "os_name == '\\x4'",
    "os_name == 'a\\'",
    "os_name == '\\U00110000'",
    "()",
    "(",
    "os_name == 'a' or ()",
    "os_name == \"a' ",
};

/* marker, Marker.evaluate(env) with the environment below: 1, 0 or -1
 * where packaging raises */
static const struct {
    const char *in;
    int want;
} eval_table[] = {
    {"os_name == 'posix'", 1},
    {"os_name != 'posix'", 0},
    {"python_version >= '3.8'", 1},
    {"python_version < '3.8'", 0},
    {"python_version > '3.11'", 0},
    {"python_version >= '3.11.0'", 1},
    {"python_full_version == '3.11.*'", 1},
    {"python_full_version ~= '3.10'", 1},
    {"python_version ~= '3'", -1},
    {"python_version === '3.11'", 1},
    {"python_version === '3 11'", -1},
    {"python_version in '3.10 3.11 3.12'", 1},
    {"python_version not in '3.1'", 1},
    {"'linux' in sys_platform", 1},
    {"sys_platform < 'm'", 1},
    {"platform_release >= '6'", -1},
    {"os_name == '1.0'", -1},
    {"platform_machine ~= 'x86'", -1},
    {"extra == 'test-extra'", 1},
    {"extra == 'TEST.EXTRA'", 1},
    {"extra != 'test_extra'", 0},
    {"'test.extra' == extra", 1},
    {"extra == '1.0'", -1},
    {"extra in 'test-extra-2'", 1},
    {"'a' == 'b'", -1},
    {"'posix' == 'os_name'", 1},
    {"os_name == 'nt' or python_version >= '3' and os_name == 'x'", 0},
    {"(os_name == 'nt' or python_version >= '3') and os_name == 'x'", 0},
    {"os_name == 'nt' and platform_release >= '6'", -1},
    {"implementation_name == 'cpython' and python_version > '3.10.*'", 1},
    {"python_version > '3.10.*'", 1},
    {"python_version == '3.11.0+local'", 0},
    {"python_full_version >= '3.11.2+local'", 0},
    {"platform_python_implementation == 'CPython'", 1},
    {"python_implementation == 'CPython'", 1},
};

static const pyti_marker_env env = {
    .implementation_name = "cpython",
    .implementation_version = "3.11.2",
    .os_name = "posix",
    .platform_machine = "x86_64",
    .platform_release = "6.1.0-18-amd64",
    .platform_system = "Linux",
    .platform_version = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1",
    .python_full_version = "3.11.2",
    .platform_python_implementation = "CPython",
    .python_version = "3.11",
    .sys_platform = "linux",
    .extra = "Test_Extra",
};

static void test_parse_and_str(void **state)
{
    for (size_t i = 0; i < NELEM(parse_ok); i++) {
        pyti_error err;
        pyti_marker *m = marker_parse(parse_ok[i].in, &err);
        if (!m)
            fail_msg("'%s' rejected: %s", parse_ok[i].in, err.msg);
        char *s = marker_to_string(m);
        if (strcmp(s, parse_ok[i].str) != 0)
            fail_msg("'%s': str %s, want %s", parse_ok[i].in, s, parse_ok[i].str);
        pyti_marker *c = marker_copy(m);
        char *cs = marker_to_string(c);
        assert_string_equal(cs, s);
        free(cs);
        marker_free(c);
        free(s);
        marker_free(m);
    }
}

static void test_parse_errors(void **state)
{
    for (size_t i = 0; i < NELEM(parse_bad); i++) {
        pyti_error err;
        pyti_marker *m = marker_parse(parse_bad[i], &err);
        if (m)
            fail_msg("'%s' accepted", parse_bad[i]);
        assert_int_equal(err.code, PYTI_ERR_INPUT);
        assert_true(strncmp(err.msg, "marker '", 8) == 0);
    }
}

static void test_error_messages(void **state)
{
    pyti_error err;
    assert_null(marker_parse("os_name = 'a'", &err));
    assert_string_equal(err.msg, "marker 'os_name = 'a'': expected a marker operator, one of "
                                 "<=, <, !=, ==, >=, >, ~=, ===, in, not in at column 9");
    assert_null(marker_parse("(os_name == 'a'", &err));
    assert_string_equal(err.msg, "marker '(os_name == 'a'': expected ')' (to close the '(' at "
                                 "column 1) at the end");
    assert_null(marker_parse("os_name not 'a'", &err));
    assert_string_equal(err.msg, "marker 'os_name not 'a'': expected 'in' after 'not' at column 13");
    assert_null(marker_parse("os_name == '\\x4'", &err));
    assert_non_null(strstr(err.msg, "truncated \\x escape"));
}

static void test_evaluate_table(void **state)
{
    for (size_t i = 0; i < NELEM(eval_table); i++) {
        pyti_marker *m = marker_parse(eval_table[i].in, NULL);
        assert_non_null(m);
        pyti_error err;
        int got = marker_evaluate(m, &env, &err);
        if (got != eval_table[i].want)
            fail_msg("'%s': got %d, want %d (%s)", eval_table[i].in, got, eval_table[i].want,
                     got < 0 ? err.msg : "");
        if (got < 0)
            assert_true(strncmp(err.msg, "evaluating marker '", 19) == 0);
        marker_free(m);
    }
}

static void test_evaluation_errors_say_why(void **state)
{
    pyti_error err;
    pyti_marker *m = marker_parse("python_version ~= '3'", NULL);
    assert_int_equal(marker_evaluate(m, &env, &err), -1);
    assert_string_equal(err.msg, "evaluating marker 'python_version ~= \"3\"': undefined "
                                 "comparison '3.11' ~= '3'");
    marker_free(m);
    m = marker_parse("platform_release >= '6'", NULL);
    assert_int_equal(marker_evaluate(m, &env, &err), -1);
    assert_non_null(strstr(err.msg, "invalid version '6.1.0-18-amd64'"));
    marker_free(m);
    m = marker_parse("'a' == 'b'", NULL);
    assert_int_equal(marker_evaluate(m, &env, &err), -1);
    assert_non_null(strstr(err.msg, "'b' is not an environment name"));
    marker_free(m);
}

static void test_unset_values(void **state)
{
    pyti_marker_env e = {0};
    pyti_error err;
    pyti_marker *m = marker_parse("extra == ''", NULL);
    assert_int_equal(marker_evaluate(m, &e, &err), 1); /* NULL extra is "" */
    assert_int_equal(marker_evaluate(m, NULL, &err), 1);
    marker_free(m);
    m = marker_parse("os_name == 'posix'", NULL);
    assert_int_equal(marker_evaluate(m, &e, &err), -1);
    assert_non_null(strstr(err.msg, "environment value 'os_name' is not set"));
    marker_free(m);
}

static void test_all_items_are_evaluated(void **state)
{
    /* packaging evaluates every item, so an error after a decided 'or'
     * still raises */
    pyti_marker *m = marker_parse("os_name == 'posix' or platform_release >= '6'", NULL);
    assert_int_equal(marker_evaluate(m, &env, NULL), -1);
    marker_free(m);
}

static void test_refused_string_escapes(void **state)
{
    static const char *const refused[] = {
        "os_name == '\\0'", "os_name == '\\x00'", "os_name == '\\u0000'", "os_name == '\\ud800'",
        "os_name == '\\U0000dfff'", "os_name == '\\N{LATIN SMALL LETTER A}'",
    };
    for (size_t i = 0; i < NELEM(refused); i++) {
        pyti_error err;
        assert_null(marker_parse(refused[i], &err));
        assert_true(strstr(err.msg, "NUL") || strstr(err.msg, "surrogate") ||
                    strstr(err.msg, "\\N{...}"));
    }
}

static void test_limits(void **state)
{
    char deep[512];
    size_t n = 0;
    for (int i = 0; i < 101; i++)
        deep[n++] = '(';
    strcpy(deep + n, "os_name == 'a'");
    n = strlen(deep);
    for (int i = 0; i < 101; i++)
        deep[n++] = ')';
    deep[n] = '\0';
    pyti_error err;
    assert_null(marker_parse(deep, &err));
    assert_non_null(strstr(err.msg, "nested more than 100 deep"));
    pyti_marker *m = marker_parse(deep + 1, NULL);
    char *s = marker_to_string(m);
    assert_string_equal(s, "os_name == \"a\"");
    free(s);
    marker_free(m);
    assert_null(marker_parse("os_name == '\xff'", &err));
    assert_non_null(strstr(err.msg, "not valid UTF-8"));
}

static void test_default_environment(void **state)
{
    pyti_marker_env e;
    marker_env_default(&e, "3.12.0rc1");
    assert_string_equal(e.python_full_version, "3.12.0rc1");
    assert_string_equal(e.python_version, "3.12");
    assert_string_equal(e.implementation_name, "cpython");
    assert_string_equal(e.platform_system, "Linux");
    assert_string_equal(e.sys_platform, "linux");
    assert_string_equal(e.os_name, "posix");
    assert_non_null(e.platform_release);
    assert_null(e.extra);
    pyti_marker *m = marker_parse("python_version >= '3.8' and sys_platform == 'linux' and "
                                  "platform_release != ''", NULL);
    assert_int_equal(marker_evaluate(m, &e, NULL), 1);
    marker_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_str),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_error_messages),
        cmocka_unit_test(test_evaluate_table),
        cmocka_unit_test(test_evaluation_errors_say_why),
        cmocka_unit_test(test_unset_values),
        cmocka_unit_test(test_all_items_are_evaluated),
        cmocka_unit_test(test_refused_string_escapes),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_default_environment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
