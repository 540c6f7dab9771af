/* store_support.c — helpers for the store tests on both backends (see
 * store_support.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "store_support.h"
#include "support.h"

#include "common/path.h"
#include "common/strv.h"
#include "common/xalloc.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

const t_backend T_SQLITE = {"sqlite", false};
const t_backend T_PG = {"postgresql", true};

static PGconn *admin;
static pid_t admin_pid;
static char **schemas;
static size_t nschemas;

static void drop_schemas(void)
{
    if (getpid() != admin_pid || !admin)
        return;
    for (size_t i = 0; i < nschemas; i++) {
        char *sql = xasprintf("DROP SCHEMA IF EXISTS %s CASCADE", schemas[i]);
        PQclear(PQexec(admin, sql));
        free(sql);
        free(schemas[i]);
    }
    free(schemas);
    PQfinish(admin);
    admin = NULL;
}

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

const t_backend *t_backend_of(void **state)
{
    return *state ? (const t_backend *)*state : &T_SQLITE;
}

char *t_store_location_for(const t_backend *b)
{
    if (!b->pg)
        return path_join(t_tmpdir(), "pyti.db");
    const char *pg = getenv("PYTI_TEST_PG");
    if (!pg || !*pg) {
        const char *allow = getenv("PYTI_ALLOW_NO_PG");
        if (allow && strcmp(allow, "1") == 0)
            skip();
        fail_msg("PYTI_TEST_PG is not set: the PostgreSQL cases need a server (scripts/test "
                 "starts one; set PYTI_ALLOW_NO_PG=1 to skip them locally)");
    }
    if (!admin) {
        admin = PQconnectdb(pg);
        if (PQstatus(admin) != CONNECTION_OK)
            fail_msg("PYTI_TEST_PG=%s: %s", pg, PQerrorMessage(admin));
        PQsetNoticeProcessor(admin, quiet, NULL);
        admin_pid = getpid();
        atexit(drop_schemas);
    }
    static unsigned counter;
    char *name = xasprintf("pyti_t%d_%u", (int)getpid(), ++counter);
    char *sql = xasprintf("CREATE SCHEMA %s", name);
    PGresult *res = PQexec(admin, sql);
    free(sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        fail_msg("creating schema %s: %s", name, PQerrorMessage(admin));
    PQclear(res);
    schemas = xreallocarray(schemas, nschemas + 1, sizeof *schemas);
    schemas[nschemas++] = xstrdup(name);
    char *loc = xasprintf("%s%soptions=-csearch_path%%3D%s", pg, strchr(pg, '?') ? "&" : "?",
                          name);
    free(name);
    return loc;
}

char *t_store_location(void **state)
{
    return t_store_location_for(t_backend_of(state));
}

pyti_store *t_store_open(const char *location)
{
    pyti_error err;
    pyti_store *s = store_open(location, &err);
    if (!s)
        fail_msg("store_open(%s): %s", location, err.msg);
    return s;
}

pyti_store *t_store_fresh(void **state, char **location)
{
    char *loc = t_store_location(state);
    pyti_store *s = t_store_open(loc);
    if (location)
        *location = loc;
    else
        free(loc);
    return s;
}

/* ---- raw SQL ---- */

static bool is_pg(const char *location)
{
    return strncmp(location, "postgres", 8) == 0;
}

/* Runs sql; false with the message in msg on failure. */
static bool raw_sql(const char *location, const char *sql, char *msg, size_t size)
{
    bool ok;
    if (is_pg(location)) {
        PGconn *c = PQconnectdb(location);
        PQsetNoticeProcessor(c, quiet, NULL);
        PGresult *r = PQexec(c, sql);
        ExecStatusType st = PQresultStatus(r);
        ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
        if (!ok)
            snprintf(msg, size, "%s", PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        return ok;
    }
    sqlite3 *db;
    char *emsg = NULL;
    ok = sqlite3_open(location, &db) == SQLITE_OK &&
         sqlite3_exec(db, sql, NULL, NULL, &emsg) == SQLITE_OK;
    if (!ok)
        snprintf(msg, size, "%s", emsg ? emsg : sqlite3_errmsg(db));
    sqlite3_free(emsg);
    sqlite3_close(db);
    return ok;
}

void t_raw_sql(const char *location, const char *sql)
{
    char msg[512];
    if (!raw_sql(location, sql, msg, sizeof msg))
        fail_msg("raw SQL failed: %s\n%s", msg, sql);
}

bool t_raw_sql_ok(const char *location, const char *sql)
{
    char msg[512];
    return raw_sql(location, sql, msg, sizeof msg);
}

long long t_raw_int(const char *location, const char *sql)
{
    long long v = -1;
    if (is_pg(location)) {
        PGconn *c = PQconnectdb(location);
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            fail_msg("raw SQL failed: %s\n%s", PQerrorMessage(c), sql);
        if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
            v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        PQfinish(c);
        return v;
    }
    sqlite3 *db;
    sqlite3_stmt *st;
    if (sqlite3_open(location, &db) != SQLITE_OK ||
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("raw SQL failed: %s\n%s", sqlite3_errmsg(db), sql);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* ---- data ---- */

json_t *t_report(const char *id, const char *name, const char *version, const char *sha256,
                 const char *outcome, const char *created, const char *safety)
{
    json_t *r = json_pack(
        "{s:i, s:s, s:s, s:s, s:s, s:f, s:{s:s, s:s},"
        " s:{s:s, s:s, s:s+++, s:s, s:i, s:s},"
        " s:[{s:s, s:s, s:n, s:s, s:f, s:{}}],"
        " s:[{s:s, s:s, s:s, s:n, s:s}],"
        " s:{s:s, s:s}, s:s}",
        "schema_version", 1, "id", id, "pyti_version", "0.1.0", "created", created, "finished",
        created, "duration_s", 0.5, "recipe", "name", "default", "file", "/r/default.ini",
        "distribution", "name", name, "version", version, "filename", name, "-", version,
        ".tar.gz", "sha256", sha256, "size", 1234, "kind", "sdist", "tasks", "name", "extract",
        "status", strcmp(outcome, "passed") == 0 ? "passed" : strcmp(outcome, "error") == 0 ? "error"
                                                                                             : "failed",
        "reason", "started", created, "duration_s", 0.25, "data", "findings", "id",
        "metadata.missing-license", "severity", "low", "message", "no license", "where", "task",
        "metadata", "verdict", "quality", strcmp(outcome, "passed") == 0 ? "warnings" : "broken",
        "safety", safety ? safety : "unassessed", "outcome", outcome);
    if (!r)
        fail_msg("t_report: bad pack");
    return r;
}

void t_report_id(char out[33])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        abort();
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

void t_sha(unsigned n, char out[65])
{
    char seed[17];
    snprintf(seed, sizeof seed, "%016x", n);
    for (int i = 0; i < 64; i++)
        out[i] = seed[i % 16];
    out[64] = '\0';
}

void t_spec(store_job_spec *spec, unsigned n)
{
    enum { SLOTS = 64 };
    static char names[SLOTS][32], files[SLOTS][64], urls[SLOTS][128], shas[SLOTS][65];
    unsigned k = n % SLOTS;
    snprintf(names[k], sizeof names[k], "demo-%u", n);
    snprintf(files[k], sizeof files[k], "demo_%u-1.0.tar.gz", n);
    snprintf(urls[k], sizeof urls[k], "https://files.example/demo_%u-1.0.tar.gz", n);
    t_sha(n, shas[k]);
    store_job_spec_init(spec);
    spec->name = names[k];
    spec->version = "1.0";
    spec->filename = files[k];
    spec->url = urls[k];
    spec->sha256 = shas[k];
    spec->size = 1000 + n;
    spec->created_by = "api";
}

void t_worker(pyti_store *s, const char *id, const char *arch, const char *os, long long memory_mb,
              const char *pythons, const char *tags)
{
    pyti_strv py = PYTI_STRV_INIT, tg = PYTI_STRV_INIT;
    if (pythons)
        strv_split(&py, pythons, ",");
    if (tags)
        strv_split(&tg, tags, ",");
    store_worker_info w = {0};
    w.id = id;
    w.arch = arch;
    w.os = os;
    w.memory_mb = memory_mb;
    w.pythons = &py;
    w.tags = &tg;
    pyti_error err;
    if (store_worker_register(s, &w, &err) != PYTI_OK)
        fail_msg("registering worker %s: %s", id, err.msg);
    strv_free(&py);
    strv_free(&tg);
}

void t_fast_queue(pyti_store *s)
{
    store_queue_options o;
    store_queue_options_default(&o);
    o.lease_ms = 1000;
    o.backoff_base_ms = 1000;
    o.backoff_max_ms = 8000;
    o.reap_interval_ms = 0;
    store_set_queue_options(s, &o);
}
