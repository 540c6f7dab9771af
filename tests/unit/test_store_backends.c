/* test_store_backends.c — the store (src/store/store.h) on both backends:
 * schema migrations from an empty database and from the shipped version 1
 * with reports in it, concurrent first opens, reports and the catalogue
 * queries, a newer schema refused, and the same answers from SQLite and
 * PostgreSQL for the same reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "store_support.h"
#include "support.h"

/* The newest migration of store_schema.c (13: the last foreign keys of
 * a job's attempt and report go on PostgreSQL). */
#define SCHEMA_LATEST 13

#include "common/jsonutil.h"
#include "common/xalloc.h"
#include "pkg/name.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SHA_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

/* The schema as pyti 0.1.0 (issue #2) shipped it: migration 1. */
static const char *const V1_SCHEMA =
    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);"
    "INSERT INTO schema_migrations VALUES (1, '2026-11-01T00:00:00.000Z');"
    "CREATE TABLE reports ("
    "  id TEXT PRIMARY KEY, project TEXT NOT NULL, name TEXT, version TEXT,"
    "  filename TEXT NOT NULL, sha256 TEXT NOT NULL, recipe TEXT, quality TEXT NOT NULL,"
    "  safety TEXT NOT NULL, outcome TEXT NOT NULL, created TEXT NOT NULL,"
    "  stored_at TEXT NOT NULL, report TEXT NOT NULL);"
    "CREATE INDEX reports_by_project ON reports(project, created);"
    "CREATE INDEX reports_by_created ON reports(created);";

/* Inserts a report the way the version 1 store did. */
static void v1_insert(const char *loc, json_t *r)
{
    char *text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
    const json_t *d = json_object_get(r, "distribution");
    const json_t *v = json_object_get(r, "verdict");
    char *project = name_normalize(json_get_str(d, "name"));
    char *sql = xasprintf(
        "INSERT INTO reports VALUES ('%s', '%s', '%s', '%s', '%s', '%s', 'default', '%s', '%s',"
        " '%s', '%s', '2026-11-01T00:00:00.000Z', '%s')",
        json_get_str(r, "id"), project, json_get_str(d, "name"),
        json_get_str(d, "version"), json_get_str(d, "filename"), json_get_str(d, "sha256"),
        json_get_str(v, "quality"), json_get_str(v, "safety"), json_get_str(r, "outcome"),
        json_get_str(r, "created"), text);
    t_raw_sql(loc, sql);
    free(sql);
    free(project);
    free(text);
}

static void test_migrate_from_empty(void **state)
{
    char *loc;
    pyti_store *s = t_store_fresh(state, &loc);
    assert_int_equal(store_schema_version(s), SCHEMA_LATEST);
    pyti_error err;
    assert_int_equal(store_count_reports(s, &err), 0);
    store_close(s);
    /* Opening again changes nothing. */
    s = t_store_open(loc);
    assert_int_equal(store_schema_version(s), SCHEMA_LATEST);
    store_close(s);
    assert_int_equal(t_raw_int(loc, "SELECT COUNT(*) FROM schema_migrations"), SCHEMA_LATEST);
    free(loc);
}

static void test_migrate_from_v1_with_reports(void **state)
{
    char *loc = t_store_location(state);
    t_raw_sql(loc, V1_SCHEMA);
    json_t *r1 = t_report("11111111111111111111111111111111", "Old_Pkg", "1.0", SHA_A, "passed",
                          "2026-11-01T10:00:00.000Z", NULL);
    json_t *r2 = t_report("22222222222222222222222222222222", "old-pkg", "2.0", SHA_B, "failed",
                          "2026-11-02T10:00:00.000Z", NULL);
    json_t *r3 = t_report("33333333333333333333333333333333", "old.pkg", "2.0", SHA_B, "passed",
                          "2026-11-03T10:00:00.000Z", "suspicious");
    v1_insert(loc, r1);
    v1_insert(loc, r2);
    v1_insert(loc, r3);
    pyti_store *s = t_store_open(loc);
    assert_int_equal(store_schema_version(s), SCHEMA_LATEST);
    pyti_error err;
    assert_int_equal(store_count_reports(s, &err), 3);
    /* Old reports read back as they were stored. */
    json_t *got = store_get_report(s, "2222", &err);
    assert_non_null(got);
    assert_true(json_equal(got, r2));
    json_decref(got);
    json_t *list = store_list_reports(s, "OLD-PKG", 0, &err);
    assert_int_equal(json_array_size(list), 3);
    assert_string_equal(json_get_str(json_array_get(list, 0), "id"),
                        "33333333333333333333333333333333");
    json_decref(list);
    /* ...and are filed in the catalogue: releases with their verdicts. */
    json_t *rel = store_list_releases(s, "old_pkg", &err);
    assert_int_equal(json_array_size(rel), 2);
    json_t *v2 = json_array_get(rel, 0);
    assert_string_equal(json_get_str(v2, "version"), "2.0");
    assert_int_equal(json_integer_value(json_object_get(v2, "reports")), 2);
    assert_string_equal(json_get_str(json_object_get(v2, "latest"), "id"),
                        "33333333333333333333333333333333");
    assert_string_equal(json_get_str(json_object_get(v2, "latest"), "safety"), "suspicious");
    json_decref(rel);
    json_t *sus = store_list_flagged_releases(s, "suspicious", 0, &err);
    assert_int_equal(json_array_size(sus), 1);
    json_decref(sus);
    assert_int_equal(t_raw_int(loc, "SELECT COUNT(*) FROM task_results"), 3);
    assert_int_equal(t_raw_int(loc, "SELECT COUNT(*) FROM findings"), 3);
    assert_int_equal(t_raw_int(loc, "SELECT COUNT(*) FROM reports WHERE release_id IS NULL"), 0);
    /* New reports go in beside them. */
    json_t *r4 = t_report("44444444444444444444444444444444", "old-pkg", "3.0", SHA_C, "passed",
                          "2026-11-04T10:00:00.000Z", NULL);
    bool inserted;
    assert_int_equal(store_put_report(s, r4, &inserted, &err), PYTI_OK);
    assert_true(inserted);
    assert_int_equal(store_count_reports(s, &err), 4);
    store_close(s);
    json_decref(r1);
    json_decref(r2);
    json_decref(r3);
    json_decref(r4);
    free(loc);
}

typedef struct open_arg {
    const char *loc;
    int ok;
    char msg[PYTI_ERROR_MSG_MAX];
} open_arg;

static void *open_thread(void *p)
{
    open_arg *a = p;
    pyti_error err;
    pyti_store *s = store_open(a->loc, &err);
    if (s) {
        a->ok = store_schema_version(s) == SCHEMA_LATEST;
        store_close(s);
    } else {
        snprintf(a->msg, sizeof a->msg, "%s", err.msg);
    }
    return NULL;
}

static void test_concurrent_first_open(void **state)
{
    char *loc = t_store_location(state);
    enum { N = 5 };
    pthread_t th[N];
    open_arg args[N];
    for (int i = 0; i < N; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].loc = loc;
        pthread_create(&th[i], NULL, open_thread, &args[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        if (!args[i].ok)
            fail_msg("open %d: %s", i, args[i].msg);
    }
    assert_int_equal(t_raw_int(loc, "SELECT COUNT(*) FROM schema_migrations"), SCHEMA_LATEST);
    free(loc);
}

static void test_newer_schema_refused(void **state)
{
    char *loc;
    pyti_store *s = t_store_fresh(state, &loc);
    store_close(s);
    t_raw_sql(loc, "INSERT INTO schema_migrations VALUES (99, 'future')");
    pyti_error err;
    assert_null(store_open(loc, &err));
    assert_int_equal(err.code, PYTI_ERR_USAGE);
    assert_non_null(strstr(err.msg, "newer"));
    free(loc);
}

/* The CHECK constraints (re-spelled on PostgreSQL by migration 7) admit
 * exactly the values they did. */
static void test_check_constraints(void **state)
{
    char *loc;
    pyti_store *s = t_store_fresh(state, &loc);
    pyti_error err;
    store_job_spec spec;
    t_spec(&spec, 1);
    long long id = 0;
    assert_int_equal(store_job_submit(s, &spec, &id, NULL, &err), PYTI_OK);
    t_worker(s, "w1", NULL, NULL, 0, NULL, NULL);
    store_lease lease;
    bool claimed = false;
    assert_int_equal(store_job_claim(s, "w1", 0, &lease, &claimed, &err), PYTI_OK);
    assert_true(claimed);
    store_lease_clear(&lease);
    store_close(s);
    /* Each column's row: the job's (key = its id) or the worker's. */
    static const struct {
        const char *table, *column, *key;
        bool by_job;
        const char *good[7], *bad[3];
    } cols[] = {
        {"jobs", "state", "id", true,
         {"queued", "leased", "running", "done", "failed", "cancelled"},
         {"bogus", "Queued", ""}},
        {"jobs", "created_by", "id", true, {"feed", "upload", "api", "cli"},
         {"bogus", "API", ""}},
        {"attempts", "outcome", "job_id", true,
         {"done", "error", "expired", "failed", "cancelled", "superseded", "late"},
         {"bogus", "Done", ""}},
        {"job_needs", "kind", "job_id", true, {"python", "tag", "python-any"},
         {"bogus", "python-", ""}},
        {"workers", "state", "id", false, {"idle", "busy", "draining", "gone"},
         {"bogus", "Idle", ""}},
        {"worker_caps", "kind", "worker_id", false, {"python", "tag", "recipe", "project"},
         {"bogus", "tags", ""}},
    };
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO job_needs (job_id, kind, value) VALUES (%lld, 'tag', 'x');"
             " INSERT INTO worker_caps (worker_id, kind, value) VALUES ('w1', 'tag', 'x')",
             id);
    t_raw_sql(loc, sql);
    for (size_t c = 0; c < sizeof cols / sizeof *cols; c++) {
        char where[64];
        if (cols[c].by_job)
            snprintf(where, sizeof where, "%s = %lld", cols[c].key, id);
        else
            snprintf(where, sizeof where, "%s = 'w1'", cols[c].key);
        for (int i = 0; i < 7 && cols[c].good[i]; i++) {
            snprintf(sql, sizeof sql, "UPDATE %s SET %s = '%s' WHERE %s", cols[c].table,
                     cols[c].column, cols[c].good[i], where);
            if (!t_raw_sql_ok(loc, sql))
                fail_msg("refused: %s", sql);
        }
        for (int i = 0; i < 3; i++) {
            snprintf(sql, sizeof sql, "UPDATE %s SET %s = '%s' WHERE %s", cols[c].table,
                     cols[c].column, cols[c].bad[i], where);
            if (t_raw_sql_ok(loc, sql))
                fail_msg("accepted: %s", sql);
        }
    }
    free(loc);
}

/* Which rows check their parent by foreign key. PostgreSQL, since
 * migration 10: not the rows under a report (task_results, findings,
 * report_metrics), written by their report's own transaction; the keys
 * whose parent another operation wrote stay. SQLite keeps them all and
 * refuses a task result of no report: the tests of every writer run
 * against them there. */
static void test_foreign_keys(void **state)
{
    char *loc;
    store_close(t_store_fresh(state, &loc));
    bool pg = t_backend_of(state) == &T_PG;
    static const struct {
        const char *table, *parent;
        int on_pg;
    } keys[] = {
        {"task_results", "reports", 0}, {"findings", "reports", 0},
        {"report_metrics", "reports", 0}, {"report_pages", "reports", 1},
        {"reports", "releases", 0},     {"reports", "files", 0},
        {"attempts", "jobs", 0},        {"jobs", "files", 1},
        {"jobs", "releases", 1},        {"files", "releases", 1},
        {"logs", "jobs", 1},
    };
    char sql[256];
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        if (pg)
            snprintf(sql, sizeof sql,
                     "SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f'"
                     " AND conrelid = '%s'::regclass AND confrelid = '%s'::regclass",
                     keys[i].table, keys[i].parent);
        else
            snprintf(sql, sizeof sql,
                     "SELECT COUNT(*) FROM pragma_foreign_key_list('%s') WHERE \"table\" = '%s'",
                     keys[i].table, keys[i].parent);
        if (t_raw_int(loc, sql) != (pg ? keys[i].on_pg : 1))
            fail_msg("%s -> %s: %lld foreign keys", keys[i].table, keys[i].parent,
                     t_raw_int(loc, sql));
    }
    if (!pg)
        assert_false(t_raw_sql_ok(loc, "PRAGMA foreign_keys = ON;"
                                       " INSERT INTO task_results (report_id, seq, name, status)"
                                       " VALUES ('ffff0000000000000000000000000001', 0, 'x',"
                                       " 'passed')"));
    free(loc);
}

/* The reports used for the catalogue tests and the cross-backend one. */
static json_t **catalogue_reports(size_t *n)
{
    static const struct {
        const char *id, *name, *version, *sha, *outcome, *created, *safety;
    } rs[] = {
        {"a0000000000000000000000000000001", "Demo_Pkg", "1.0", SHA_A, "passed",
         "2026-11-01T10:00:00.000Z", NULL},
        {"a0000000000000000000000000000002", "demo-pkg", "1.10", SHA_B, "failed",
         "2026-11-02T10:00:00.000Z", NULL},
        /* stored after a newer report of the same release: not the latest */
        {"a0000000000000000000000000000004", "demo.pkg", "2.0", SHA_C, "passed",
         "2026-11-04T10:00:00.000Z", "suspicious"},
        {"a0000000000000000000000000000003", "demo-pkg", "2.0", SHA_C, "failed",
         "2026-11-03T10:00:00.000Z", NULL},
        {"b0000000000000000000000000000005", "other", "0.1", SHA_A, "rejected",
         "2026-11-05T10:00:00.000Z", NULL},
    };
    *n = sizeof rs / sizeof *rs;
    json_t **out = xcalloc(*n, sizeof *out);
    for (size_t i = 0; i < *n; i++)
        out[i] = t_report(rs[i].id, rs[i].name, rs[i].version, rs[i].sha, rs[i].outcome,
                          rs[i].created, rs[i].safety);
    return out;
}

static void put_all(pyti_store *s, json_t **rs, size_t n)
{
    pyti_error err;
    for (size_t i = 0; i < n; i++) {
        bool inserted;
        if (store_put_report(s, rs[i], &inserted, &err) != PYTI_OK)
            fail_msg("put %zu: %s", i, err.msg);
        assert_true(inserted);
        assert_int_equal(store_put_report(s, rs[i], &inserted, &err), PYTI_OK);
        assert_false(inserted);
    }
}

static void test_reports_and_catalogue(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    size_t n;
    json_t **rs = catalogue_reports(&n);
    put_all(s, rs, n);
    pyti_error err;
    assert_int_equal(store_count_reports(s, &err), 5);
    /* Releases newest version first (PEP 440: 2.0 > 1.10 > 1.0). */
    json_t *rel = store_list_releases(s, "DEMO_PKG", &err);
    assert_int_equal(json_array_size(rel), 3);
    assert_string_equal(json_get_str(json_array_get(rel, 0), "version"), "2.0");
    assert_string_equal(json_get_str(json_array_get(rel, 1), "version"), "1.10");
    assert_string_equal(json_get_str(json_array_get(rel, 2), "version"), "1.0");
    /* 2.0's latest is the newest report, whatever the order stored. */
    json_t *latest = json_object_get(json_array_get(rel, 0), "latest");
    assert_string_equal(json_get_str(latest, "id"), "a0000000000000000000000000000004");
    assert_string_equal(json_get_str(latest, "outcome"), "passed");
    json_decref(rel);
    json_t *two = store_release_reports(s, "demo-pkg", "2.0", &err);
    assert_int_equal(json_array_size(two), 2);
    assert_string_equal(json_get_str(json_array_get(two, 0), "id"),
                        "a0000000000000000000000000000004");
    json_decref(two);
    json_t *none = store_list_releases(s, "unknown", &err);
    assert_int_equal(json_array_size(none), 0);
    json_decref(none);
    /* Failing: the latest verdict failed or rejected (1.10, other 0.1);
     * 2.0's failed report is not its latest. Suspicious: 2.0. */
    json_t *failing = store_list_flagged_releases(s, "failing", 0, &err);
    assert_int_equal(json_array_size(failing), 2);
    assert_string_equal(json_get_str(json_array_get(failing, 0), "project"), "other");
    assert_string_equal(json_get_str(json_array_get(failing, 1), "version"), "1.10");
    json_decref(failing);
    json_t *sus = store_list_flagged_releases(s, "suspicious", 1, &err);
    assert_int_equal(json_array_size(sus), 1);
    assert_string_equal(json_get_str(json_array_get(sus, 0), "version"), "2.0");
    json_decref(sus);
    assert_null(store_list_flagged_releases(s, "odd", 0, &err));
    assert_int_equal(err.code, PYTI_ERR_USAGE);
    json_t *files = store_release_files(s, "demo-pkg", "1.0", &err);
    assert_int_equal(json_array_size(files), 1);
    assert_string_equal(json_get_str(json_array_get(files, 0), "filename"), "Demo_Pkg-1.0.tar.gz");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(files, 0), "size")), 1234);
    json_decref(files);
    for (size_t i = 0; i < n; i++)
        json_decref(rs[i]);
    free(rs);
    store_close(s);
}

/* The project list the master's API pages through: by name, a prefix in
 * any spelling, release counts and the newest report's time. */
static void test_list_projects(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    size_t n;
    json_t **rs = catalogue_reports(&n);
    put_all(s, rs, n);
    pyti_error err;
    json_t *all = store_list_projects(s, NULL, 0, &err);
    assert_int_equal(json_array_size(all), 2);
    json_t *demo = json_array_get(all, 0);
    assert_string_equal(json_get_str(demo, "name"), "demo-pkg");
    assert_int_equal(json_integer_value(json_object_get(demo, "releases")), 3);
    assert_non_null(json_get_str(demo, "latest_report"));
    assert_string_equal(json_get_str(json_array_get(all, 1), "name"), "other");
    json_decref(all);
    json_t *some = store_list_projects(s, "Demo_P", 0, &err);
    assert_int_equal(json_array_size(some), 1);
    json_decref(some);
    some = store_list_projects(s, "", 1, &err);
    assert_int_equal(json_array_size(some), 1);
    json_decref(some);
    some = store_list_projects(s, "zzz", 0, &err);
    assert_int_equal(json_array_size(some), 0);
    json_decref(some);
    assert_null(store_list_projects(s, "a%", 0, &err));
    assert_int_equal(err.code, PYTI_ERR_USAGE);
    for (size_t i = 0; i < n; i++)
        json_decref(rs[i]);
    free(rs);
    store_close(s);
}

/* Everything the API says about a store, minus wall-clock times. */
static json_t *api_view(pyti_store *s)
{
    pyti_error err;
    json_t *v = json_object();
    json_object_set_new(v, "list", store_list_reports(s, NULL, 0, &err));
    json_object_set_new(v, "list_demo", store_list_reports(s, "demo-pkg", 2, &err));
    json_t *all = store_list_reports(s, NULL, 0, &err);
    json_t *full = json_array();
    for (size_t i = 0; i < json_array_size(all); i++)
        json_array_append_new(full, store_get_report(s, json_get_str(json_array_get(all, i), "id"),
                                                     &err));
    json_decref(all);
    json_object_set_new(v, "reports", full);
    json_t *rel = store_list_releases(s, "demo-pkg", &err);
    for (size_t i = 0; i < json_array_size(rel); i++)
        json_object_del(json_array_get(rel, i), "first_seen");
    json_object_set_new(v, "releases", rel);
    json_object_set_new(v, "release_reports", store_release_reports(s, "demo-pkg", "2.0", &err));
    json_object_set_new(v, "failing", store_list_flagged_releases(s, "failing", 0, &err));
    json_object_set_new(v, "suspicious", store_list_flagged_releases(s, "suspicious", 0, &err));
    json_object_set_new(v, "files", store_release_files(s, "demo-pkg", "2.0", &err));
    json_object_set_new(v, "count", json_integer(store_count_reports(s, &err)));
    return v;
}

static void test_backends_give_identical_answers(void **state)
{
    (void)state;
    char *lite_loc = t_store_location_for(&T_SQLITE);
    char *pg_loc = t_store_location_for(&T_PG);
    pyti_store *lite = t_store_open(lite_loc);
    pyti_store *pg = t_store_open(pg_loc);
    assert_string_equal(store_backend(lite), "sqlite");
    assert_string_equal(store_backend(pg), "postgresql");
    size_t n;
    json_t **rs = catalogue_reports(&n);
    put_all(lite, rs, n);
    put_all(pg, rs, n);
    json_t *a = api_view(lite), *b = api_view(pg);
    if (!json_equal(a, b)) {
        char *ta = json_dumps(a, JSON_INDENT(1) | JSON_SORT_KEYS);
        char *tb = json_dumps(b, JSON_INDENT(1) | JSON_SORT_KEYS);
        fail_msg("SQLite and PostgreSQL differ:\n--- sqlite\n%s\n--- postgresql\n%s", ta, tb);
    }
    /* And the reports are exactly the ones stored. */
    json_t *reports = json_object_get(a, "reports");
    assert_int_equal(json_array_size(reports), n);
    json_decref(a);
    json_decref(b);
    for (size_t i = 0; i < n; i++)
        json_decref(rs[i]);
    free(rs);
    store_close(lite);
    store_close(pg);
    free(lite_loc);
    free(pg_loc);
}

/* The server ends our session (a restart, a failover): the call in flight
 * fails, the next one reconnects. */
static void test_pg_reconnects(void **state)
{
    (void)state;
    char *base = t_store_location_for(&T_PG);
    char *loc = xasprintf("%s&application_name=pyti_reconnect_test", base);
    free(base);
    pyti_store *s = t_store_open(loc);
    pyti_error err;
    assert_int_equal(store_count_reports(s, &err), 0);
    PGconn *c = PQconnectdb(getenv("PYTI_TEST_PG"));
    PGresult *r = PQexec(c, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE application_name = 'pyti_reconnect_test'");
    assert_int_equal(PQntuples(r), 1);
    PQclear(r);
    PQfinish(c);
    /* The first call after the kill may fail (its outcome is unknown to
     * the client, so it is not repeated behind the caller's back)... */
    long long n = store_count_reports(s, &err);
    if (n < 0) {
        assert_int_equal(err.code, PYTI_ERR_IO);
        n = store_count_reports(s, &err); /* ...the next one reconnects */
    }
    assert_int_equal(n, 0);
    size_t nr;
    json_t **rs = catalogue_reports(&nr);
    assert_int_equal(store_put_report(s, rs[0], NULL, &err), PYTI_OK);
    assert_int_equal(store_count_reports(s, &err), 1);
    for (size_t i = 0; i < nr; i++)
        json_decref(rs[i]);
    free(rs);
    store_close(s);
    free(loc);
}

/* Migration 12 over stored jobs (PostgreSQL): the store taken back to
 * version 11 by hand (text columns, migration 9's CHECK calls, 13's
 * foreign keys) with
 * queued, leased and cancelled jobs and an open attempt; migrating
 * keeps every row as it was, makes the columns domains, and the store
 * claims through its rebuilt partial indexes and refuses what it
 * refused. */
static void test_pg_domains_over_stored_jobs(void **state)
{
    (void)state;
    char *loc = t_store_location_for(&T_PG);
    pyti_store *s = t_store_open(loc);
    pyti_error err;
    long long ids[4];
    for (unsigned i = 0; i < 4; i++) {
        store_job_spec spec;
        t_spec(&spec, i + 1);
        assert_int_equal(store_job_submit(s, &spec, &ids[i], NULL, &err), PYTI_OK);
    }
    t_worker(s, "w1", NULL, NULL, 0, NULL, NULL);
    store_lease lease;
    bool claimed = false;
    assert_int_equal(store_job_claim(s, "w1", 0, &lease, &claimed, &err), PYTI_OK);
    assert_true(claimed);
    assert_int_equal(lease.job_id, ids[0]);
    store_lease_clear(&lease);
    bool changed = false;
    assert_int_equal(store_job_cancel(s, ids[1], &changed, &err), PYTI_OK);
    assert_true(changed);
    store_close(s);
    t_raw_sql(loc,
              "ALTER TABLE jobs ALTER COLUMN state TYPE text, ALTER COLUMN created_by TYPE text;"
              "ALTER TABLE attempts ALTER COLUMN outcome TYPE text;"
              "DROP DOMAIN pyti_job_state; DROP DOMAIN pyti_job_origin;"
              " DROP DOMAIN pyti_attempt_outcome;"
              "CREATE FUNCTION pyti_job_ok(state text, created_by text) RETURNS boolean"
              "  LANGUAGE plpgsql IMMUTABLE STRICT AS $$"
              "BEGIN RETURN state = ANY ('{queued,leased,running,done,failed,cancelled}'::text[])"
              "  AND created_by = ANY ('{feed,upload,api,cli}'::text[]); END $$;"
              "CREATE FUNCTION pyti_attempt_outcome_ok(v text) RETURNS boolean"
              "  LANGUAGE plpgsql IMMUTABLE STRICT AS $$"
              "BEGIN RETURN v = ANY"
              "  ('{done,error,expired,failed,cancelled,superseded,late}'::text[]); END $$;"
              "ALTER TABLE jobs ADD CONSTRAINT jobs_state_and_origin_check"
              "  CHECK (pyti_job_ok(state, created_by));"
              "ALTER TABLE attempts ADD CONSTRAINT attempts_outcome_check"
              "  CHECK (pyti_attempt_outcome_ok(outcome));"
              /* and migration 13's foreign keys back */
              "ALTER TABLE attempts ADD CONSTRAINT attempts_job_id_fkey"
              "  FOREIGN KEY (job_id) REFERENCES jobs(id) ON DELETE CASCADE;"
              "ALTER TABLE reports ADD CONSTRAINT reports_release_id_fkey"
              "  FOREIGN KEY (release_id) REFERENCES releases(id),"
              "  ADD CONSTRAINT reports_file_id_fkey FOREIGN KEY (file_id) REFERENCES files(id);"
              "DELETE FROM schema_migrations WHERE version >= 12");
    assert_int_equal(t_raw_int(loc, "SELECT COUNT(*) FROM pg_attribute WHERE"
                                    " atttypid = 'text'::regtype AND attname IN"
                                    " ('state', 'created_by', 'outcome') AND attrelid IN"
                                    " ('jobs'::regclass, 'attempts'::regclass)"),
                     3);
    s = t_store_open(loc);
    assert_int_equal(store_schema_version(s), SCHEMA_LATEST);
    assert_int_equal(t_raw_int(loc, "SELECT COUNT(*) FROM pg_attribute a JOIN pg_type t"
                                    " ON t.oid = a.atttypid WHERE t.typtype = 'd' AND"
                                    " t.typname IN ('pyti_job_state', 'pyti_job_origin',"
                                    " 'pyti_attempt_outcome') AND a.attrelid IN"
                                    " ('jobs'::regclass, 'attempts'::regclass)"),
                     3);
    char sql[160];
    static const char *const states[] = {"leased", "cancelled", "queued", "queued"};
    for (unsigned i = 0; i < 4; i++) {
        snprintf(sql, sizeof sql,
                 "SELECT COUNT(*) FROM jobs WHERE id = %lld AND state = '%s'"
                 " AND created_by = 'api'",
                 ids[i], states[i]);
        assert_int_equal(t_raw_int(loc, sql), 1);
    }
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM attempts WHERE job_id = %lld AND outcome IS NULL", ids[0]);
    assert_int_equal(t_raw_int(loc, sql), 1);
    /* Claims walk jobs_queue, rebuilt with the column's new type. */
    assert_int_equal(store_job_claim(s, "w1", 0, &lease, &claimed, &err), PYTI_OK);
    assert_true(claimed);
    assert_int_equal(lease.job_id, ids[2]);
    store_lease_clear(&lease);
    snprintf(sql, sizeof sql, "UPDATE jobs SET state = 'paused' WHERE id = %lld", ids[3]);
    assert_false(t_raw_sql_ok(loc, sql));
    snprintf(sql, sizeof sql, "UPDATE attempts SET outcome = 'lost' WHERE job_id = %lld",
             ids[0]);
    assert_false(t_raw_sql_ok(loc, sql));
    store_close(s);
    free(loc);
}

/* Migration 5's report_pages: a page kept is read back as kept (any
 * renderer: comparing it is the caller's), replaced by the next put,
 * refused for a report the store does not have, missing before a put,
 * and gone with its report. */
static void test_report_pages(void **state)
{
    char *loc;
    pyti_store *s = t_store_fresh(state, &loc);
    pyti_error err;
    const char *id = "11111111111111111111111111111111";
    json_t *r = t_report(id, "Demo", "1.0", SHA_A, "passed", "2026-11-01T10:00:00.000Z", NULL);
    assert_int_equal(store_put_report(s, r, NULL, &err), PYTI_OK);
    json_decref(r);
    store_report_page got;
    assert_int_equal(store_get_report_page(s, id, &got, &err), PYTI_ERR_NOTFOUND);

    const char *head = "<h1>Demo &lt;b&gt; \xc3\xa9</h1>", *tail = "<p>'quotes' $1 ?1</p>";
    store_report_page page = {1, "Demo", NULL, (char *)head, (char *)tail, strlen(head),
                              strlen(tail)};
    assert_int_equal(store_put_report_page(s, id, &page, true, &err), PYTI_OK);
    assert_int_equal(store_get_report_page(s, id, &got, &err), PYTI_OK);
    assert_int_equal(got.renderer, 1);
    assert_string_equal(got.name, "Demo");
    assert_null(got.version);
    assert_string_equal(got.head, head);
    assert_int_equal(got.head_len, strlen(head));
    assert_string_equal(got.tail, tail);
    assert_int_equal(got.tail_len, strlen(tail));
    store_report_page_free(&got);

    /* Another renderer replaces it (one row per report). */
    store_report_page newer = {2, "Demo", "1.0", "<h1>new</h1>", "", 12, 0};
    assert_int_equal(store_put_report_page(s, id, &newer, false, &err), PYTI_OK);
    assert_int_equal(store_get_report_page(s, id, &got, &err), PYTI_OK);
    assert_int_equal(got.renderer, 2);
    assert_string_equal(got.version, "1.0");
    assert_string_equal(got.head, "<h1>new</h1>");
    assert_string_equal(got.tail, "");
    assert_int_equal(got.tail_len, 0);
    store_report_page_free(&got);
    assert_int_equal(t_raw_int(loc, "SELECT COUNT(*) FROM report_pages"), 1);

    /* No such report: nothing kept. */
    const char *none = "22222222222222222222222222222222";
    assert_int_equal(store_put_report_page(s, none, &page, true, &err), PYTI_ERR_NOTFOUND);
    assert_int_equal(store_get_report_page(s, none, &got, &err), PYTI_ERR_NOTFOUND);
    assert_int_equal(t_raw_int(loc, "SELECT COUNT(*) FROM report_pages"), 1);
    store_close(s);

    /* The row goes with its report (ON DELETE CASCADE; SQLite enforces
     * it with foreign keys on, as the store's connections have them). */
    t_raw_sql(loc, t_backend_of(state)->pg
                       ? "DELETE FROM reports"
                       : "PRAGMA foreign_keys = ON; DELETE FROM reports");
    assert_int_equal(t_raw_int(loc, "SELECT COUNT(*) FROM report_pages"), 0);
    free(loc);
}

/* A thread serving reads must not wait for a writer: on SQLite, with
 * another connection holding the write lock, a put without wait fails at
 * once (and leaves the handle waiting again for what follows), a put
 * with wait succeeds once the lock is released. */
static void test_report_page_no_wait(void **state)
{
    (void)state;
    char *loc = t_store_location_for(&T_SQLITE);
    pyti_store *s = t_store_open(loc);
    pyti_error err;
    const char *id = "11111111111111111111111111111111";
    json_t *r = t_report(id, "Demo", "1.0", SHA_A, "passed", "2026-11-01T10:00:00.000Z", NULL);
    assert_int_equal(store_put_report(s, r, NULL, &err), PYTI_OK);
    json_decref(r);
    sqlite3 *raw;
    assert_int_equal(sqlite3_open(loc, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    store_report_page page = {1, "Demo", "1.0", "<h1>x</h1>", "", 10, 0};
    /* (Waiting, it would fail too, after the 30 s busy timeout.) */
    assert_int_equal(store_put_report_page(s, id, &page, false, &err), PYTI_ERR_IO);
    store_report_page got;
    assert_int_equal(store_get_report_page(s, id, &got, &err), PYTI_ERR_NOTFOUND);
    assert_int_equal(sqlite3_exec(raw, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    assert_int_equal(store_put_report_page(s, id, &page, true, &err), PYTI_OK);
    assert_int_equal(store_get_report_page(s, id, &got, &err), PYTI_OK);
    store_report_page_free(&got);
    store_close(s);
    free(loc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T_BOTH(test_migrate_from_empty),
        T_BOTH(test_migrate_from_v1_with_reports),
        T_BOTH(test_concurrent_first_open),
        T_BOTH(test_newer_schema_refused),
        T_BOTH(test_check_constraints),
        T_BOTH(test_foreign_keys),
        T_BOTH(test_reports_and_catalogue),
        T_BOTH(test_list_projects),
        T_BOTH(test_report_pages),
        cmocka_unit_test(test_report_page_no_wait),
        cmocka_unit_test(test_backends_give_identical_answers),
        cmocka_unit_test(test_pg_reconnects),
        cmocka_unit_test(test_pg_domains_over_stored_jobs),
    };
    return cmocka_run_group_tests_name("store_backends", tests, NULL, NULL);
}
