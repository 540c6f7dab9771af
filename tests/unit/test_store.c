/* test_store.c — unit tests for src/store on real SQLite files: migration
 * at open, idempotent storing, listing by normalised project name, lookup
 * by id and prefix, refusal of invalid reports, persistence and sharing
 * between two handles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/jsonutil.h"
#include "common/path.h"
#include "exec/report.h"
#include "store/store.h"
#include "store/store_internal.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static json_t *make_report(const char *id, const char *name, const char *version,
                           const char *created)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"schema_version\": 1, \"id\": \"%s\", \"pyti_version\": \"0.1.0\","
             " \"created\": \"%s\", \"finished\": \"%s\", \"duration_s\": 1.0,"
             " \"recipe\": {\"name\": \"static\", \"file\": \"/r/static.ini\"},"
             " \"distribution\": {\"name\": \"%s\", \"version\": \"%s\","
             "   \"filename\": \"%s-%s.tar.gz\", \"sha256\": "
             "   \"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","
             "   \"size\": 10, \"kind\": \"sdist\"},"
             " \"tasks\": [{\"name\": \"extract\", \"status\": \"passed\", \"reason\": null,"
             "   \"started\": \"%s\", \"duration_s\": 0.1, \"data\": {}}],"
             " \"findings\": [],"
             " \"verdict\": {\"quality\": \"ok\", \"safety\": \"unassessed\"},"
             " \"outcome\": \"passed\"}",
             id, created, created, name, version, name, version, created);
    json_error_t jerr;
    json_t *r = json_loads(text, 0, &jerr);
    if (!r)
        fail_msg("bad test JSON: %s", jerr.text);
    return r;
}

static char *db_path(void)
{
    return path_join(t_tmpdir(), "sub/dir/pyti.db");
}

static void test_open_creates_and_migrates(void **state)
{
    char *db = db_path();
    pyti_error err;
    pyti_store *s = store_open(db, &err);
    assert_non_null(s);
    assert_true(store_schema_version(s) >= 1);
    assert_int_equal(store_count_reports(s, &err), 0);
    store_close(s);
    /* "sqlite:" prefix means the same file. */
    char *loc = malloc(strlen(db) + 8);
    sprintf(loc, "sqlite:%s", db);
    s = store_open(loc, &err);
    assert_non_null(s);
    store_close(s);
    free(loc);
    free(db);
}

static void test_put_is_idempotent(void **state)
{
    char *db = db_path();
    pyti_error err;
    pyti_store *s = store_open(db, &err);
    json_t *r = make_report("00000000000000000000000000000001", "Demo_Pkg", "1.0",
                            "2026-11-25T10:00:00.000Z");
    bool inserted = false;
    assert_int_equal(store_put_report(s, r, &inserted, &err), PYTI_OK);
    assert_true(inserted);
    assert_int_equal(store_put_report(s, r, &inserted, &err), PYTI_OK);
    assert_false(inserted);
    assert_int_equal(store_count_reports(s, &err), 1);
    json_decref(r);
    store_close(s);
    free(db);
}

static void test_list_get_and_prefixes(void **state)
{
    char *db = db_path();
    pyti_error err;
    pyti_store *s = store_open(db, &err);
    const char *ids[] = {"aaaa0000000000000000000000000001", "aaaa0000000000000000000000000002",
                         "bbbb0000000000000000000000000003"};
    const char *names[] = {"Demo_Pkg", "demo-pkg", "other"};
    const char *times[] = {"2026-11-25T10:00:00.000Z", "2026-11-25T11:00:00.000Z",
                           "2026-11-25T12:00:00.000Z"};
    for (int i = 0; i < 3; i++) {
        json_t *r = make_report(ids[i], names[i], "1.0", times[i]);
        assert_int_equal(store_put_report(s, r, NULL, &err), PYTI_OK);
        json_decref(r);
    }
    json_t *all = store_list_reports(s, NULL, 0, &err);
    assert_int_equal(json_array_size(all), 3);
    assert_string_equal(json_get_str(json_array_get(all, 0), "id"), ids[2]); /* newest first */
    json_decref(all);
    json_t *demo = store_list_reports(s, "DEMO.pkg", 0, &err);
    assert_int_equal(json_array_size(demo), 2);
    json_decref(demo);
    json_t *one = store_list_reports(s, NULL, 1, &err);
    assert_int_equal(json_array_size(one), 1);
    json_decref(one);

    json_t *got = store_get_report(s, ids[2], &err);
    assert_non_null(got);
    assert_string_equal(json_get_str(got, "id"), ids[2]);
    json_decref(got);
    got = store_get_report(s, "bbbb", &err);
    assert_non_null(got);
    json_decref(got);
    assert_null(store_get_report(s, "aaaa", &err));
    assert_int_equal(err.code, PYTI_ERR_USAGE);
    assert_non_null(strstr(err.msg, "ambiguous"));
    assert_null(store_get_report(s, "cccc", &err));
    assert_int_equal(err.code, PYTI_ERR_NOTFOUND);
    assert_null(store_get_report(s, "x'; DROP TABLE reports; --", &err));
    assert_int_equal(err.code, PYTI_ERR_USAGE);
    assert_int_equal(store_count_reports(s, &err), 3);
    store_close(s);
    free(db);
}

static void test_invalid_report_is_refused_and_nothing_stored(void **state)
{
    char *db = db_path();
    pyti_error err;
    pyti_store *s = store_open(db, &err);
    json_t *r = make_report("00000000000000000000000000000009", "x", "1", "2026-11-25T10:00:00.000Z");
    json_object_set_new(r, "outcome", json_string("bogus"));
    assert_int_equal(store_put_report(s, r, NULL, &err), PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "outcome"));
    assert_int_equal(store_count_reports(s, &err), 0);
    json_decref(r);
    store_close(s);
    free(db);
}

static void test_two_handles_share_and_persist(void **state)
{
    char *db = db_path();
    pyti_error err;
    pyti_store *a = store_open(db, &err);
    pyti_store *b = store_open(db, &err);
    assert_non_null(a);
    assert_non_null(b);
    json_t *r = make_report("00000000000000000000000000000042", "p", "2", "2026-11-25T10:00:00.000Z");
    bool ins_a = false, ins_b = true;
    assert_int_equal(store_put_report(a, r, &ins_a, &err), PYTI_OK);
    assert_int_equal(store_put_report(b, r, &ins_b, &err), PYTI_OK);
    assert_true(ins_a);
    assert_false(ins_b);
    json_decref(r);
    store_close(a);
    store_close(b);
    pyti_store *c = store_open(db, &err);
    assert_int_equal(store_count_reports(c, &err), 1);
    store_close(c);
    free(db);
}

static void test_newer_schema_is_refused(void **state)
{
    char *db = db_path();
    pyti_error err;
    pyti_store *s = store_open(db, &err);
    store_close(s);
    sqlite3 *raw;
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "INSERT INTO schema_migrations VALUES (999, 'future')",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    assert_null(store_open(db, &err));
    assert_int_equal(err.code, PYTI_ERR_USAGE);
    assert_non_null(strstr(err.msg, "newer"));
    free(db);
}

static void test_unopenable_location(void **state)
{
    pyti_error err;
    char *dir = t_tmpdir();
    /* A directory where the database file should be. */
    assert_null(store_open(dir, &err));
    assert_non_null(strstr(err.msg, dir));
    /* Nothing listens on port 1: a PostgreSQL location that cannot be
     * reached is an I/O error naming it, without its password. */
    assert_null(store_open("postgresql://pyti:s3cret@127.0.0.1:1/pyti?connect_timeout=5", &err));
    assert_int_equal(err.code, PYTI_ERR_IO);
    assert_non_null(strstr(err.msg, "127.0.0.1:1"));
    assert_null(strstr(err.msg, "s3cret"));
}

/* store_iso_time computes the civil date itself (no gmtime_r): it must
 * agree with gmtime_r + strftime, across leap years, centuries, the
 * milliseconds' borrow before 1970, and times of one day in a row. */
static void test_iso_time_matches_gmtime(void **state)
{
    (void)state;
    long long samples[] = {0, -1, 999, 1000, 86399999, 86400000, -86400001, 951782400000LL,
                           951868800000LL, 4107542400000LL, 1798761599999LL, 253402300799999LL,
                           -30610224000000LL};
    unsigned long long x = 88172645463325252ull;
    for (int i = 0; i < 210000; i++) {
        long long ms;
        if (i < (int)(sizeof samples / sizeof *samples)) {
            ms = samples[i];
        } else if (i >= 200000) {
            /* Steps of ~17 minutes across the epoch: the same day many
             * times in a row (the date kept from the call before), then
             * the next. */
            ms = -5 * 86400000LL + (long long)(i - 200000) * 1021337LL;
        } else {
            x ^= x << 13; /* xorshift: years 1000..9999 */
            x ^= x >> 7;
            x ^= x << 17;
            ms = -30610224000000LL + (long long)(x % 284012524800000ull);
        }
        char got[40], want[40], base[32];
        store_iso_time(ms, got, sizeof got);
        time_t sec = (time_t)(ms / 1000);
        int milli = (int)(ms % 1000);
        if (milli < 0) {
            milli += 1000;
            sec -= 1;
        }
        struct tm tm;
        gmtime_r(&sec, &tm);
        strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(want, sizeof want, "%s.%03dZ", base, milli);
        assert_string_equal(got, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_creates_and_migrates),
        cmocka_unit_test(test_put_is_idempotent),
        cmocka_unit_test(test_list_get_and_prefixes),
        cmocka_unit_test(test_invalid_report_is_refused_and_nothing_stored),
        cmocka_unit_test(test_two_handles_share_and_persist),
        cmocka_unit_test(test_newer_schema_is_refused),
        cmocka_unit_test(test_unopenable_location),
        cmocka_unit_test(test_iso_time_matches_gmtime),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
