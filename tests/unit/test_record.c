/* test_record.c — unit tests for src/pkg/record.c: RECORD rows read as
 * Python's csv module reads them, and written so that they read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "pkg/record.h"

#include <stdlib.h>
#include <string.h>

static void test_reads_plain_and_quoted_rows(void **state)
{
    const char text[] = "a/b.py,sha256=x,12\r\n"
                        "\"we,ird\"\"name.py\",sha256=y,3\n"
                        "\n"
                        "c.dist-info/RECORD,,\n"
                        "\"multi\nline\",,\n";
    pyti_record_rows rows = {0};
    record_parse(text, sizeof text - 1, 0, &rows);
    assert_int_equal(rows.len, 4);
    assert_string_equal(rows.items[0].f[0], "a/b.py");
    assert_string_equal(rows.items[0].f[2], "12");
    assert_string_equal(rows.items[1].f[0], "we,ird\"name.py");
    assert_int_equal(rows.items[1].line, 2);
    assert_string_equal(rows.items[2].f[1], "");
    assert_int_equal(rows.items[2].nf, 3);
    assert_string_equal(rows.items[3].f[0], "multi\nline");
    record_rows_free(&rows);
}

static void test_limits_and_bad_rows(void **state)
{
    pyti_record_rows rows = {0};
    record_parse("a,,\nb,,\nc,,\n", 12, 2, &rows);
    assert_int_equal(rows.len, 2);
    assert_true(rows.truncated);
    record_rows_free(&rows);
    record_parse("\"open,,\n", 8, 0, &rows);
    assert_int_equal(rows.len, 1);
    assert_true(rows.items[0].bad);
    record_rows_free(&rows);
    const char nul[] = "a\0b,,\n";
    record_parse(nul, sizeof nul - 1, 0, &rows);
    assert_true(rows.items[0].bad);
    record_rows_free(&rows);
}

static void test_writer_round_trips(void **state)
{
    const char *paths[] = {"plain.py", "com,ma.py", "quo\"te.py", "new\nline.py", "sp ace.py"};
    pyti_buf out = PYTI_BUF_INIT;
    for (size_t i = 0; i < 5; i++)
        record_append_row(&out, paths[i], i % 2 ? "sha256=abc" : NULL, i % 2 ? "7" : NULL);
    assert_non_null(strstr(buf_cstr(&out), "plain.py,,\n"));
    assert_non_null(strstr(buf_cstr(&out), "\"com,ma.py\",sha256=abc,7\n"));
    pyti_record_rows rows = {0};
    record_parse(buf_cstr(&out), out.len, 0, &rows);
    assert_int_equal(rows.len, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(rows.items[i].f[0], paths[i]);
        assert_false(rows.items[i].bad);
    }
    record_rows_free(&rows);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_plain_and_quoted_rows),
        cmocka_unit_test(test_limits_and_bad_rows),
        cmocka_unit_test(test_writer_round_trips),
    };
    return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
