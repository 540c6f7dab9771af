/* store_sqlite.c — the embedded SQLite backend of the store (see
 * store.h): WAL mode, a busy timeout so several processes can share one
 * file, versioned migrations applied at open, idempotent inserts keyed by
 * report id. */
#include "store/store_internal.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* Each entry moves the schema from version i to i+1. Never edit a
 * migration that has shipped: add a new one. */
static const char *const migrations[] = {
    /* 1: reports */
    "CREATE TABLE reports ("
    "  id TEXT PRIMARY KEY,"
    "  project TEXT NOT NULL,"
    "  name TEXT,"
    "  version TEXT,"
    "  filename TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  recipe TEXT,"
    "  quality TEXT NOT NULL,"
    "  safety TEXT NOT NULL,"
    "  outcome TEXT NOT NULL,"
    "  created TEXT NOT NULL,"
    "  stored_at TEXT NOT NULL,"
    "  report TEXT NOT NULL"
    ");"
    "CREATE INDEX reports_by_project ON reports(project, created);"
    "CREATE INDEX reports_by_created ON reports(created);",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof *migrations))

typedef struct sqlite_impl {
    sqlite3 *db;
    char *path;
} sqlite_impl;

static sqlite3 *db_of(pyti_store *s) { return ((sqlite_impl *)s->impl)->db; }
static const char *path_of(pyti_store *s) { return ((sqlite_impl *)s->impl)->path; }

static pyti_status db_error(pyti_store *s, pyti_error *err, const char *what)
{
    return pyti_error_set(err, PYTI_ERR_IO, "store %s: %s: %s", path_of(s), what,
                          sqlite3_errmsg(db_of(s)));
}

static pyti_status exec_sql(pyti_store *s, const char *sql, pyti_error *err, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(db_of(s), sql, NULL, NULL, &msg) != SQLITE_OK) {
        pyti_error_set(err, PYTI_ERR_IO, "store %s: %s: %s", path_of(s), what,
                       msg ? msg : "unknown error");
        sqlite3_free(msg);
        return PYTI_ERR_IO;
    }
    return PYTI_OK;
}

static int current_version(pyti_store *s)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(db_of(s), "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static pyti_status migrate(pyti_store *s, pyti_error *err)
{
    if (exec_sql(s,
                 "CREATE TABLE IF NOT EXISTS schema_migrations ("
                 " version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
                 err, "creating the migrations table") != PYTI_OK)
        return PYTI_ERR_IO;
    /* BEGIN IMMEDIATE: two processes opening a fresh store at once must not
     * both apply the same migration. */
    if (exec_sql(s, "BEGIN IMMEDIATE", err, "locking for migration") != PYTI_OK)
        return PYTI_ERR_IO;
    int v = current_version(s);
    if (v < 0) {
        exec_sql(s, "ROLLBACK", NULL, "");
        return db_error(s, err, "reading the schema version");
    }
    if (v > SCHEMA_VERSION) {
        exec_sql(s, "ROLLBACK", NULL, "");
        return pyti_error_set(err, PYTI_ERR_USAGE,
                              "store %s: schema version %d is newer than this pyti knows (%d); "
                              "upgrade pyti", path_of(s), v, SCHEMA_VERSION);
    }
    for (int i = v; i < SCHEMA_VERSION; i++) {
        char what[64];
        snprintf(what, sizeof what, "applying migration %d", i + 1);
        char now[40];
        time_utc_iso8601(now, sizeof now);
        char *record = xasprintf("INSERT INTO schema_migrations VALUES (%d, '%s')", i + 1, now);
        pyti_status rc = exec_sql(s, migrations[i], err, what);
        if (rc == PYTI_OK)
            rc = exec_sql(s, record, err, what);
        free(record);
        if (rc != PYTI_OK) {
            exec_sql(s, "ROLLBACK", NULL, "");
            return rc;
        }
    }
    return exec_sql(s, "COMMIT", err, "committing the migration");
}

static void sqlite_close(pyti_store *s)
{
    sqlite_impl *im = s->impl;
    if (!im)
        return;
    sqlite3_close_v2(im->db);
    free(im->path);
    free(im);
    s->impl = NULL;
}

static int sqlite_schema_version(pyti_store *s)
{
    return current_version(s);
}

static void bind_text_or_null(sqlite3_stmt *st, int idx, const char *v)
{
    if (v)
        sqlite3_bind_text(st, idx, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, idx);
}

static pyti_status sqlite_put_report(pyti_store *s, const json_t *report, const json_t *summary,
                                     const char *project, const char *text, bool *inserted,
                                     pyti_error *err)
{
    (void)report;
    sqlite3_stmt *st;
    const char *sql =
        "INSERT INTO reports (id, project, name, version, filename, sha256, recipe, quality,"
        " safety, outcome, created, stored_at, report)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        " ON CONFLICT(id) DO NOTHING";
    if (sqlite3_prepare_v2(db_of(s), sql, -1, &st, NULL) != SQLITE_OK)
        return db_error(s, err, "preparing the insert");
    char now[40];
    time_utc_iso8601(now, sizeof now);
    static const char *const cols[] = {"id", NULL, "name", "version", "filename", "sha256",
                                       "recipe", "quality", "safety", "outcome", "created"};
    for (int i = 0; i < (int)(sizeof cols / sizeof *cols); i++)
        bind_text_or_null(st, i + 1, cols[i] ? json_get_str(summary, cols[i]) : project);
    sqlite3_bind_text(st, 12, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 13, text, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_error(s, err, "storing the report");
    if (inserted)
        *inserted = sqlite3_changes(db_of(s)) > 0;
    return PYTI_OK;
}

static json_t *row_summary(sqlite3_stmt *st)
{
    static const char *const cols[] = {"id", "name", "version", "filename", "sha256", "recipe",
                                       "quality", "safety", "outcome", "created"};
    json_t *o = json_object();
    for (int i = 0; i < (int)(sizeof cols / sizeof *cols); i++) {
        const char *v = (const char *)sqlite3_column_text(st, i);
        json_object_set_new(o, cols[i], v ? json_text(v) : json_null());
    }
    return o;
}

static json_t *sqlite_list_reports(pyti_store *s, const char *project, size_t limit,
                                   pyti_error *err)
{
    const char *sql =
        "SELECT id, name, version, filename, sha256, recipe, quality, safety, outcome, created"
        " FROM reports WHERE (?1 IS NULL OR project = ?1)"
        " ORDER BY created DESC, id LIMIT ?2";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db_of(s), sql, -1, &st, NULL) != SQLITE_OK) {
        db_error(s, err, "listing reports");
        return NULL;
    }
    bind_text_or_null(st, 1, project);
    sqlite3_bind_int64(st, 2, limit ? (sqlite3_int64)limit : -1);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, row_summary(st));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        db_error(s, err, "listing reports");
        return NULL;
    }
    return arr;
}

static json_t *sqlite_get_report(pyti_store *s, const char *id, bool prefix, pyti_error *err)
{
    const char *sql = prefix ? "SELECT id, report FROM reports WHERE id >= ?1 AND id < ?2"
                               " ORDER BY id LIMIT 2"
                             : "SELECT id, report FROM reports WHERE id = ?1";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db_of(s), sql, -1, &st, NULL) != SQLITE_OK) {
        db_error(s, err, "reading a report");
        return NULL;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    char *upper = NULL;
    if (prefix) {
        /* Ids are lowercase hex: every id with this prefix sorts below
         * prefix + "g". */
        upper = xasprintf("%sg", id);
        sqlite3_bind_text(st, 2, upper, -1, SQLITE_TRANSIENT);
    }
    json_t *result = NULL;
    int rows = 0;
    char *text = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (++rows == 1)
            text = xstrdup((const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    free(upper);
    if (rc != SQLITE_DONE) {
        db_error(s, err, "reading a report");
    } else if (rows == 0) {
        pyti_error_set(err, PYTI_ERR_NOTFOUND, "no report '%s' in %s", id, path_of(s));
    } else if (rows > 1) {
        pyti_error_set(err, PYTI_ERR_USAGE, "report id prefix '%s' is ambiguous; give more digits", id);
    } else {
        json_error_t jerr;
        result = json_loads(text, 0, &jerr);
        if (!result)
            pyti_error_set(err, PYTI_ERR_IO, "store %s: report '%s' is corrupt: %s", path_of(s), id,
                           jerr.text);
    }
    free(text);
    return result;
}

static long long sqlite_count_reports(pyti_store *s, pyti_error *err)
{
    sqlite3_stmt *st;
    long long n = -1;
    if (sqlite3_prepare_v2(db_of(s), "SELECT COUNT(*) FROM reports", -1, &st, NULL) != SQLITE_OK) {
        db_error(s, err, "counting reports");
        return -1;
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    else
        db_error(s, err, "counting reports");
    sqlite3_finalize(st);
    return n;
}

static const store_ops sqlite_ops = {
    "sqlite",
    sqlite_close,
    sqlite_schema_version,
    sqlite_put_report,
    sqlite_list_reports,
    sqlite_get_report,
    sqlite_count_reports,
};

pyti_status store_sqlite_open(pyti_store *s, const char *path, pyti_error *err)
{
    char *dir = path_dirname(path);
    pyti_status rc = path_mkdirs(dir, 0755, err);
    free(dir);
    if (rc != PYTI_OK)
        return pyti_error_prefix(err, "store %s", path);
    sqlite_impl *im = xcalloc(1, sizeof *im);
    im->path = xstrdup(path);
    s->impl = im;
    s->ops = &sqlite_ops;
    if (sqlite3_open_v2(path, &im->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        pyti_error_set(err, PYTI_ERR_IO, "store %s: cannot open: %s", path,
                       im->db ? sqlite3_errmsg(im->db) : "out of memory");
        sqlite_close(s);
        return PYTI_ERR_IO;
    }
    sqlite3_busy_timeout(im->db, 10000);
    sqlite3_extended_result_codes(im->db, 1);
    if (exec_sql(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON",
                 err, "configuring") != PYTI_OK ||
        migrate(s, err) != PYTI_OK) {
        sqlite_close(s);
        return err ? err->code : PYTI_ERR_IO;
    }
    return PYTI_OK;
}
