/* test_wheelpack.c — unit tests for src/pkg/wheelpack.c on fake installed
 * trees: a .dist-info packed from its RECORD, a Debian .egg-info packed
 * from top_level.txt, Requires-Dist of absent distributions dropped, and
 * refusals (compiled code, unknown names). The packed wheels must verify
 * with wheel_verify_record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/jsonutil.h"
#include "common/path.h"
#include "pkg/archive.h"
#include "pkg/wheel.h"
#include "pkg/wheelpack.h"

#include <stdlib.h>
#include <string.h>

static char *fake_site(void)
{
    char *site = t_tmpdir();
    free(t_write(site, "alpha/__init__.py", "A = 1\n"));
    free(t_write(site, "alpha/sub/mod.py", "B = 2\n"));
    free(t_write(site, "alpha/__pycache__/__init__.cpython-311.pyc", "junk"));
    free(t_write(site, "alpha-1.0.dist-info/METADATA",
                 "Metadata-Version: 2.1\nName: Alpha\nVersion: 1.0\n"
                 "Requires-Dist: beta>=1\nRequires-Dist: missing-dep\n\nbody\n"));
    free(t_write(site, "alpha-1.0.dist-info/RECORD",
                 "alpha/__init__.py,sha256=x,6\nalpha/sub/mod.py,,\n"
                 "../../../bin/alpha,,\nalpha/gone.txt,,\nalpha-1.0.dist-info/RECORD,,\n"));
    free(t_write(site, "alpha-1.0.dist-info/entry_points.txt",
                 "[console_scripts]\nalpha = alpha:main\n"));
    free(t_write(site, "beta.py", "C = 3\n"));
    free(t_write(site, "beta-2.0+repack.egg-info/PKG-INFO",
                 "Metadata-Version: 2.1\nName: beta\nVersion: 2.0+repack\n"));
    free(t_write(site, "beta-2.0+repack.egg-info/top_level.txt", "beta\n"));
    free(t_write(site, "gamma/_speed.cpython-311-x86_64-linux-gnu.so", "\x7f" "ELF"));
    free(t_write(site, "gamma-0.1.dist-info/METADATA", "Metadata-Version: 2.1\nName: gamma\nVersion: 0.1\n"));
    free(t_write(site, "gamma-0.1.dist-info/RECORD",
                 "gamma/_speed.cpython-311-x86_64-linux-gnu.so,,\n"));
    return site;
}

static void verify_clean(const char *wheel, const char *dist_info, size_t want_files)
{
    char *dest = t_tmpdir();
    pyti_error err;
    assert_int_equal(archive_extract(wheel, dest, NULL, NULL, &err), PYTI_OK);
    pyti_findings f = PYTI_FINDINGS_INIT;
    json_t *summary = wheel_verify_record(dest, dist_info, &f, &err);
    assert_non_null(summary);
    for (size_t i = 0; i < f.len; i++)
        if (f.items[i].severity >= PYTI_SEV_MEDIUM)
            fail_msg("%s: %s", f.items[i].id, f.items[i].message);
    assert_int_equal(json_integer_value(json_object_get(summary, "verified")), want_files);
    json_decref(summary);
    findings_free(&f);
}

static void test_dist_info_is_packed_from_record(void **state)
{
    char *site = fake_site();
    char *out = t_tmpdir();
    char *wheel = NULL;
    pyti_error err;
    assert_int_equal(wheelpack_installed(site, "ALPHA", out, &wheel, &err), PYTI_OK);
    assert_string_equal(path_basename(wheel), "alpha-1.0-py3-none-any.whl");
    /* 2 modules + METADATA, WHEEL, entry_points, dropped list */
    verify_clean(wheel, "alpha-1.0.dist-info", 6);
    char *md = NULL, *dropped = NULL;
    size_t len;
    assert_int_equal(archive_read_member(wheel, "alpha-1.0.dist-info/METADATA", 1 << 20, &md, &len, &err), PYTI_OK);
    assert_non_null(strstr(md, "Requires-Dist: beta>=1"));
    assert_null(strstr(md, "missing-dep"));
    assert_int_equal(archive_read_member(wheel, "alpha-1.0.dist-info/pyti-dropped-requires.txt",
                                         1 << 20, &dropped, &len, &err), PYTI_OK);
    assert_string_equal(dropped, "missing-dep\n");
    free(md);
    free(dropped);
    free(wheel);
}

static void test_egg_info_is_packed_from_top_level(void **state)
{
    char *site = fake_site();
    char *out = t_tmpdir();
    char *wheel = NULL;
    pyti_error err;
    assert_int_equal(wheelpack_installed(site, "beta", out, &wheel, &err), PYTI_OK);
    assert_string_equal(path_basename(wheel), "beta-2.0+repack-py3-none-any.whl");
    verify_clean(wheel, "beta-2.0+repack.dist-info", 3);
    free(wheel);
}

static void test_refusals(void **state)
{
    char *site = fake_site();
    char *out = t_tmpdir();
    pyti_error err;
    assert_int_equal(wheelpack_installed(site, "gamma", out, NULL, &err), PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "pure-Python"));
    assert_int_equal(wheelpack_installed(site, "delta", out, NULL, &err), PYTI_ERR_NOTFOUND);
    pyti_strv left = PYTI_STRV_INIT;
    wheelpack_list_installed(out, &left);
    assert_int_equal(left.len, 0);
    char *part = path_join(out, "gamma-0.1-py3-none-any.whl.part");
    assert_false(path_exists(part));
    free(part);
    strv_free(&left);
}

static void test_list_installed(void **state)
{
    char *site = fake_site();
    pyti_strv names = PYTI_STRV_INIT;
    wheelpack_list_installed(site, &names);
    assert_int_equal(names.len, 3);
    assert_string_equal(names.items[0], "alpha");
    assert_string_equal(names.items[1], "beta");
    strv_free(&names);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dist_info_is_packed_from_record),
        cmocka_unit_test(test_egg_info_is_packed_from_top_level),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_list_installed),
    };
    return cmocka_run_group_tests_name("wheelpack", tests, NULL, NULL);
}
