/* test_tags.c — unit tests for src/index/tags.c: the order of the wheel
 * tags (packaging.tags.sys_tags for CPython on glibc 2.36 x86_64,
 * checked against the list packaging 23.0 prints, counts and positions),
 * legacy manylinux aliases, musllinux, other Pythons, wheel priorities,
 * marker environments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/xalloc.h"
#include "index/tags.h"
#include "pkg/name.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void debian_x86(pyti_target *t, const char *py)
{
    pyti_error err;
    assert_int_equal(target_init_host(t, py, &err), PYTI_OK);
    snprintf(t->machine, sizeof t->machine, "x86_64");
    t->libc = PYTI_LIBC_GLIBC;
    t->libc_major = 2;
    t->libc_minor = 36;
    target_compute_tags(t);
    target_update_env(t);
}

static void assert_tag(const pyti_target *t, size_t i, const char *want)
{
    if (i >= t->tags.len || strcmp(t->tags.items[i], want) != 0)
        fail_msg("tag %zu is '%s', want '%s'", i, i < t->tags.len ? t->tags.items[i] : "(none)",
                 want);
}

static void test_cpython311_glibc236(void **state)
{
    (void)state;
    pyti_target t;
    debian_x86(&t, NULL);
    /* Figures from packaging 23.0's sys_tags() under Debian 12's
     * python3.11 (and pip 23.0.1's get_supported()). */
    assert_int_equal(t.tags.len, 914);
    assert_tag(&t, 0, "cp311-cp311-manylinux_2_36_x86_64");
    assert_tag(&t, 19, "cp311-cp311-manylinux_2_17_x86_64");
    assert_tag(&t, 20, "cp311-cp311-manylinux2014_x86_64");
    assert_tag(&t, 26, "cp311-cp311-manylinux2010_x86_64");
    assert_tag(&t, 34, "cp311-cp311-manylinux1_x86_64");
    assert_tag(&t, 35, "cp311-cp311-linux_x86_64");
    assert_tag(&t, 36, "cp311-abi3-manylinux_2_36_x86_64");
    assert_tag(&t, 107, "cp311-none-linux_x86_64");
    assert_tag(&t, 108, "cp310-abi3-manylinux_2_36_x86_64");
    assert_tag(&t, 431, "cp32-abi3-linux_x86_64");
    assert_tag(&t, 432, "py311-none-manylinux_2_36_x86_64");
    assert_tag(&t, 899, "py30-none-linux_x86_64");
    assert_tag(&t, 900, "cp311-none-any");
    assert_tag(&t, 901, "py311-none-any");
    assert_tag(&t, 902, "py3-none-any");
    assert_tag(&t, 903, "py310-none-any");
    assert_tag(&t, 913, "py30-none-any");
    assert_int_equal(target_tag_priority(&t, "py3-none-any"), 902);
    assert_int_equal(target_tag_priority(&t, "PY3-None-Any"), 902);
    assert_int_equal(target_tag_priority(&t, "py2-none-any"), -1);
    assert_int_equal(target_tag_priority(&t, "cp311-cp311-win_amd64"), -1);
    assert_int_equal(target_tag_count(&t), 914);
    target_free(&t);
}

static void test_other_versions(void **state)
{
    (void)state;
    pyti_target t;
    debian_x86(&t, "3.7");
    assert_int_equal(t.tags.len, 622);
    assert_tag(&t, 0, "cp37-cp37m-manylinux_2_36_x86_64");
    char full[32];
    target_python_full(&t, full, sizeof full);
    assert_string_equal(full, "3.7.0");
    assert_string_equal(t.env.python_version, "3.7");
    assert_string_equal(t.env.python_full_version, "3.7.0");
    pyti_error err;
    assert_int_equal(target_set_python(&t, "3.9", &err), PYTI_OK);
    assert_int_equal(t.tags.len, 768);
    assert_tag(&t, 756, "cp39-none-any");
    assert_int_equal(target_set_python(&t, "3.12.1", &err), PYTI_OK);
    assert_int_equal(t.tags.len, 987);
    assert_string_equal(t.env.python_full_version, "3.12.1");
    static const char *const bad[] = {"", "3", "3.", "2.7", "3.x", "3.11.2.1", "3.11a",
                                      "99999.1", NULL};
    for (size_t i = 0; bad[i]; i++)
        if (target_set_python(&t, bad[i], &err) != PYTI_ERR_USAGE)
            fail_msg("accepted '%s'", bad[i]);
    target_free(&t);
}

static void test_musl_and_arm(void **state)
{
    (void)state;
    pyti_target t;
    debian_x86(&t, NULL);
    t.libc = PYTI_LIBC_MUSL;
    t.libc_major = 1;
    t.libc_minor = 2;
    target_compute_tags(&t);
    assert_tag(&t, 0, "cp311-cp311-musllinux_1_2_x86_64");
    assert_tag(&t, 1, "cp311-cp311-musllinux_1_1_x86_64");
    assert_tag(&t, 2, "cp311-cp311-musllinux_1_0_x86_64");
    assert_tag(&t, 3, "cp311-cp311-linux_x86_64");
    assert_int_equal(target_tag_priority(&t, "cp311-cp311-manylinux1_x86_64"), -1);

    snprintf(t.machine, sizeof t.machine, "aarch64");
    t.libc = PYTI_LIBC_GLIBC;
    t.libc_major = 2;
    t.libc_minor = 31;
    target_compute_tags(&t);
    /* aarch64: manylinux from 2.31 down to 2.17, with manylinux2014. */
    assert_tag(&t, 0, "cp311-cp311-manylinux_2_31_aarch64");
    assert_tag(&t, 14, "cp311-cp311-manylinux_2_17_aarch64");
    assert_tag(&t, 15, "cp311-cp311-manylinux2014_aarch64");
    assert_tag(&t, 16, "cp311-cp311-linux_aarch64");
    target_free(&t);
}

static void test_pypy(void **state)
{
    (void)state;
    pyti_target t;
    debian_x86(&t, "3.9");
    snprintf(t.interpreter, sizeof t.interpreter, "pp");
    strv_push(&t.abis, "pypy39_pp73");
    target_compute_tags(&t);
    target_update_env(&t);
    assert_tag(&t, 0, "pp39-pypy39_pp73-manylinux_2_36_x86_64");
    assert_int_equal(target_tag_priority(&t, "pp39-none-linux_x86_64") > 0, 1);
    assert_true(target_tag_priority(&t, "pp3-none-any") >= 0);
    assert_true(target_tag_priority(&t, "cp39-abi3-linux_x86_64") < 0);
    assert_string_equal(t.env.implementation_name, "pypy");
    target_free(&t);
}

static long wheel_pri(const pyti_target *t, const char *filename)
{
    pyti_dist_filename f;
    assert_int_equal(dist_filename_parse(filename, &f, NULL), PYTI_OK);
    long p = target_wheel_priority(t, &f);
    dist_filename_free(&f);
    return p;
}

static void test_wheel_priority(void **state)
{
    (void)state;
    pyti_target t;
    debian_x86(&t, NULL);
    long any = wheel_pri(&t, "x-1.0-py3-none-any.whl");
    long many = wheel_pri(&t, "x-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl");
    long abi3 = wheel_pri(&t, "x-1.0-cp37-abi3-manylinux1_x86_64.whl");
    long multi = wheel_pri(&t, "x-1.0-py2.py3-none-any.whl");
    assert_int_equal(any, 902);
    assert_int_equal(many, 19);
    assert_true(abi3 > many && abi3 < any);
    assert_int_equal(multi, 902);
    assert_int_equal(wheel_pri(&t, "x-1.0-cp311-cp311-win_amd64.whl"), -1);
    assert_int_equal(wheel_pri(&t, "x-1.0-py2-none-any.whl"), -1);
    assert_int_equal(wheel_pri(&t, "x-1.0-cp312-cp312-manylinux1_x86_64.whl"), -1);
    pyti_dist_filename f;
    assert_int_equal(dist_filename_parse("x-1.0.tar.gz", &f, NULL), PYTI_OK);
    assert_int_equal(target_wheel_priority(&t, &f), -1);
    dist_filename_free(&f);
    target_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpython311_glibc236),
        cmocka_unit_test(test_other_versions),
        cmocka_unit_test(test_musl_and_arm),
        cmocka_unit_test(test_pypy),
        cmocka_unit_test(test_wheel_priority),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
