/* store_internal.h — what the files of src/store/ share: the handle, the
 * small SQL layer every store operation is written against, and the two
 * drivers under it (SQLite, PostgreSQL). Private to src/store/.
 *
 * Every operation of store.h and queue.h is written once, in SQL that both
 * engines accept, against db_query/db_exec. The few places where the
 * dialects differ are marked inside the SQL text with blocks
 *
 *     {{pg FOR UPDATE SKIP LOCKED}}    kept on PostgreSQL only
 *     {{sqlite INTEGER PRIMARY KEY}}   kept on SQLite only
 *
 * and parameters are written $1, $2, ... (PostgreSQL's spelling; the SQLite
 * driver turns them into ?1, ?2). A statement is translated and prepared
 * once per connection and cached, keyed by the address of its SQL text, so
 * SQL given to db_query must be a string literal (or otherwise live as long
 * as the handle); db_query_built is for SQL built at run time from a
 * few shapes (cached by its text), db_query_once for one-off SQL.
 *
 * Times inside the store are integer milliseconds since the Unix epoch,
 * read from the database's clock through the SQL function pyti_now_ms()
 * (a C function on SQLite, a SQL function created by migration 2 on
 * PostgreSQL), so that workers on machines with skewed clocks agree. */
#ifndef PYTI_STORE_INTERNAL_H
#define PYTI_STORE_INTERNAL_H

#include "store/queue.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdlib.h>

typedef enum db_dialect { DB_SQLITE, DB_PG } db_dialect;

/* Predicates of partial indexes (store_schema.c). SQLite uses a partial
 * index only when the query repeats its predicate word for word, so
 * queries spell them with these macros. */
#define SQL_ACTIVE_JOB "(state = 'queued' OR state = 'leased' OR state = 'running')"
#define SQL_ENDED_JOB "(state = 'failed' OR state = 'cancelled')"
/* Leased or running: worker_id is set exactly then (jobs_by_worker). */
#define SQL_LEASED_JOB "worker_id IS NOT NULL"
#define SQL_FAILING_RELEASE "(latest_outcome = 'failed' OR latest_outcome = 'rejected')"
#define SQL_SUSPICIOUS_RELEASE "(latest_safety = 'suspicious' OR latest_safety = 'malicious')"

typedef enum db_arg_type { DB_NULL, DB_INT, DB_REAL, DB_TEXT } db_arg_type;

/* One parameter of a statement. Text is borrowed for the call only. */
typedef struct db_arg {
    db_arg_type type;
    long long i;
    double d;
    const char *s;
} db_arg;

static inline db_arg db_int(long long v) { return (db_arg){DB_INT, v, 0, NULL}; }
static inline db_arg db_real(double v) { return (db_arg){DB_REAL, 0, v, NULL}; }
/* A text parameter; NULL gives SQL NULL. */
static inline db_arg db_text(const char *v) { return (db_arg){v ? DB_TEXT : DB_NULL, 0, 0, v}; }
static inline db_arg db_null(void) { return (db_arg){DB_NULL, 0, 0, NULL}; }
/* An integer, or SQL NULL when v is negative (for "unknown" sizes). */
static inline db_arg db_int_or_null(long long v) { return v < 0 ? db_null() : db_int(v); }

/* Turns a list of db_arg into the (count, array) pair the calls take. */
#define DB_ARGS(...) \
    (int)(sizeof((db_arg[]){__VA_ARGS__}) / sizeof(db_arg)), ((db_arg[]){__VA_ARGS__})
#define DB_NOARGS 0, NULL

/* The rows a statement returned, every cell as text (NULL for SQL NULL),
 * plus how many rows an INSERT/UPDATE/DELETE changed. */
typedef struct db_res {
    int nrows;
    int ncols;
    char **cells; /* nrows * ncols, owned (the pointers; the text, unless arena) */
    /* When set, one block holding every cell's text (the drivers' way: a
     * listing of 50 jobs is 1,350 cells, and an allocation each cost more
     * than the query); NULL: each cell is an allocation of its own. */
    char *arena;
    long long changes;
} db_res;

/* Cell (row, col) or NULL; out-of-range is NULL too. (Inline, as the
 * next two: a job listing reads some 2,000 cells per answer.) */
static inline const char *db_get(const db_res *r, int row, int col)
{
    if (!r || row < 0 || row >= r->nrows || col < 0 || col >= r->ncols)
        return NULL;
    return r->cells[(size_t)row * (size_t)r->ncols + (size_t)col];
}

/* The cell as an integer, or dflt for NULL: what strtoll gives. */
static inline long long db_get_int_or(const db_res *r, int row, int col, long long dflt)
{
    const char *v = db_get(r, row, col);
    if (!v)
        return dflt;
    /* The usual cell, plain digits (up to 18 cannot overflow), without
     * strtoll's locale and base handling; anything else through it. */
    const char *p = v + (*v == '-');
    long long n = 0;
    int k = 0;
    for (; p[k] >= '0' && p[k] <= '9' && k < 18; k++)
        n = n * 10 + (p[k] - '0');
    if (k > 0 && p[k] == '\0')
        return *v == '-' ? -n : n;
    return strtoll(v, NULL, 10);
}

/* The cell as an integer (0 for NULL). */
static inline long long db_get_int(const db_res *r, int row, int col)
{
    return db_get_int_or(r, row, col, 0);
}
double db_get_real(const db_res *r, int row, int col);
void db_res_free(db_res *r);

/* What kind of failure the last failed call of a handle was; lets callers
 * tell a uniqueness violation (a race they can resolve) from an outage. */
typedef enum db_fail {
    DB_FAIL_NONE = 0,
    DB_FAIL_CONSTRAINT, /* unique / foreign-key / check violation */
    DB_FAIL_BUSY,       /* lock timeout, deadlock, serialization failure */
    DB_FAIL_CONN,       /* the connection is gone */
    DB_FAIL_OTHER,
} db_fail;

/* A cached statement: the SQL as written (the cache key), the SQL after
 * translation for the dialect, and the driver's handle. */
typedef struct db_stmt {
    const char *key;
    char *sql;
    void *handle; /* sqlite3_stmt *, or the prepared statement's name (PG) */
    int nparams;
} db_stmt;

typedef struct db_driver {
    const char *name;
    db_dialect dialect;
    void (*close)(pyti_store *s);
    /* Prepares st->sql into st->handle. */
    pyti_status (*prepare)(pyti_store *s, db_stmt *st, pyti_error *err);
    /* Runs a prepared statement to completion. NULL with err on failure. */
    db_res *(*run)(pyti_store *s, db_stmt *st, int nargs, const db_arg *args, pyti_error *err);
    void (*finalize)(pyti_store *s, db_stmt *st);
    /* Sends a prepared statement whose rows are not needed; inside a
     * transaction the PostgreSQL driver does not wait for it (pipeline
     * mode): its failure is reported by the next call that waits, at the
     * latest by commit. SQLite runs it at once. */
    pyti_status (*send)(pyti_store *s, db_stmt *st, int nargs, const db_arg *args,
                        pyti_error *err);
    /* Runs several ;-separated statements without parameters. */
    pyti_status (*script)(pyti_store *s, const char *sql, pyti_error *err);
    /* Ends the transaction; commit reports the failure of any statement
     * still unreported. rollback cannot fail. */
    pyti_status (*commit)(pyti_store *s, pyti_error *err);
    void (*rollback)(pyti_store *s);
    /* Runs a prepared statement as the last of the transaction and
     * commits, in one round trip (PostgreSQL); the rows, once the commit
     * has succeeded. NULL with err on failure: the caller rolls back.
     * May be NULL: run, then commit. */
    db_res *(*run_commit)(pyti_store *s, db_stmt *st, int nargs, const db_arg *args,
                          pyti_error *err);
    /* Sends a prepared statement inside the transaction whose rows are
     * read with the next round trip's (no wait of its own; PostgreSQL)
     * and then handed out by take_kept; one at a time. May be NULL
     * (SQLite): the SQL layer runs it at once (db_query_kept). */
    pyti_status (*send_kept)(pyti_store *s, db_stmt *st, int nargs, const db_arg *args,
                             pyti_error *err);
    db_res *(*take_kept)(pyti_store *s);
    /* BEGIN for a transaction that will write: BEGIN IMMEDIATE on SQLite
     * (takes the write lock now, so the transaction never fails half way
     * with SQLITE_BUSY), plain BEGIN (READ COMMITTED) on PostgreSQL. */
    pyti_status (*begin)(pyti_store *s, pyti_error *err);
    /* Serialises schema migrations between processes; called inside the
     * migration transaction (SQLite: already serialised by BEGIN IMMEDIATE;
     * PostgreSQL: a transaction-scoped advisory lock). */
    pyti_status (*lock_migrations)(pyti_store *s, pyti_error *err);
    /* Shifts this connection's pyti_now_ms() by offset_ms (tests only). */
    pyti_status (*set_clock_offset)(pyti_store *s, long long offset_ms, pyti_error *err);
    /* Settings for the rest of the current transaction, as
     * set_config(name, value, true) pairs: PostgreSQL only (sent in the
     * pipeline, no round trip); SQLite ignores them. */
    void (*set_local)(pyti_store *s, const char *const *pairs, int npairs);
} db_driver;

struct pyti_store {
    const db_driver *drv;
    char *location; /* as given to store_open, for messages */
    void *impl;     /* the driver's connection state */
    /* Statement cache: open addressing on the SQL text's address. */
    db_stmt *stmts;
    size_t nstmts;
    size_t stmt_cap;
    /* db_query_built's texts, each kept for the life of the handle as the
     * key of its cached statement (at most DB_BUILT_MAX). */
    struct db_built *built;
    size_t nbuilt;
    bool in_txn;
    /* SQLite: fail a call at once rather than wait for another
     * connection's write lock (store_put_report_page without wait). */
    bool no_lock_wait;
    db_fail last_fail;
    db_res *kept; /* db_query_kept's rows where the driver has no send_kept */
    const char *what; /* the operation under way, for messages */
    store_queue_options qopt;
    double last_reap; /* monotonic seconds of the last opportunistic reap */
};

/* ---- the SQL layer (store_db.c) ---- */

/* Translates sql for dialect d: keeps or drops {{pg ...}} / {{sqlite ...}}
 * blocks and, for SQLite, turns $N into ?N. New string. */
char *db_translate(const char *sql, db_dialect d);

/* Runs a statement (cached by the address of sql) and returns its rows.
 * NULL with err (naming the store and what) on failure; s->last_fail says
 * what kind. */
db_res *db_query(pyti_store *s, const char *what, const char *sql, int nargs, const db_arg *args,
                 pyti_error *err);
/* db_query for statements whose rows are not needed; *changes (may be NULL)
 * gets the number of rows changed. Inside a transaction and with changes
 * NULL, the statement may only be sent (db_driver.send): a failure then
 * fails a later call of the same transaction, at the latest db_commit —
 * so callers must treat the whole transaction as failed, as they do. */
pyti_status db_exec(pyti_store *s, const char *what, const char *sql, int nargs,
                    const db_arg *args, long long *changes, pyti_error *err);
/* Like db_query for SQL built at run time whose shapes are few (a
 * listing's filters present or absent, never values spelled into the
 * text): the text is kept and its statement cached, found by its content
 * on the next call. Past DB_BUILT_MAX different texts on a handle, new
 * ones run as db_query_once. */
#define DB_BUILT_MAX 128
db_res *db_query_built(pyti_store *s, const char *what, const char *sql, int nargs,
                       const db_arg *args, pyti_error *err);
/* Like db_query for SQL built at run time: prepared, run and finalised
 * (SQLite parses it again on every call: for one-off statements). */
db_res *db_query_once(pyti_store *s, const char *what, const char *sql, int nargs,
                      const db_arg *args, pyti_error *err);
/* Runs a script of several statements (translated for the dialect). */
pyti_status db_script(pyti_store *s, const char *what, const char *sql, pyti_error *err);

/* Transactions. db_begin starts a write transaction (see db_driver.begin);
 * db_rollback is safe to call when no transaction is open. */
pyti_status db_begin(pyti_store *s, pyti_error *err);
pyti_status db_commit(pyti_store *s, pyti_error *err);
void db_rollback(pyti_store *s);
/* db_query of the transaction's last statement, then db_commit: one round
 * trip on PostgreSQL. The rows once committed; NULL with err on failure
 * of either, the transaction rolled back. */
db_res *db_query_commit(pyti_store *s, const char *what, const char *sql, int nargs,
                        const db_arg *args, pyti_error *err);
/* Inside a transaction: a statement whose rows are needed only once the
 * transaction is over. PostgreSQL sends it without waiting and reads its
 * rows in the transaction's next round trip (at the latest its
 * db_query_commit); SQLite runs it at once. db_take_kept then hands them
 * out (after the commit; NULL if the transaction failed). One kept
 * statement per transaction; a failure of it fails the transaction as
 * db_exec's do. */
pyti_status db_query_kept(pyti_store *s, const char *what, const char *sql, int nargs,
                          const db_arg *args, pyti_error *err);
db_res *db_take_kept(pyti_store *s);

/* Forgets every prepared statement (after a reconnect). */
void db_forget_statements(pyti_store *s);
/* Finalises and frees every cached statement (at close). */
void db_free_statements(pyti_store *s);

/* Records a failure of kind and sets err (PYTI_ERR_IO) to
 * "store LOCATION: WHAT: MESSAGE", WHAT being s->what. Returns the code. */
pyti_status db_fail_set(pyti_store *s, pyti_error *err, db_fail kind, const char *msg);

/* ---- schema (store_schema.c) ---- */

/* Brings the schema up to date (see store_schema.c for the migrations). */
pyti_status store_migrate(pyti_store *s, pyti_error *err);
/* The newest schema version this pyti knows. */
int store_schema_latest(void);

/* ---- drivers ---- */

/* Open a connection into s (sets s->drv and s->impl). */
pyti_status store_sqlite_open(pyti_store *s, const char *path, pyti_error *err);
pyti_status store_pg_open(pyti_store *s, const char *conninfo, pyti_error *err);

/* ---- shared helpers (store_catalog.c) ---- */

/* Ids of the project, release and file rows for a distribution, created
 * if missing (inside the caller's transaction). project is the normalised
 * name, display the name as given. size < 0 is unknown; url and path may
 * be NULL. kind may be NULL. */
pyti_status catalog_file(pyti_store *s, const char *project, const char *display,
                         const char *version, const char *filename, const char *sha256,
                         long long size, const char *url, const char *path, const char *kind,
                         long long *release_id, long long *file_id, pyti_error *err);

/* Stores a validated report inside the caller's transaction: the report
 * row (linked to file/release and, if job_id > 0, the job and attempt),
 * its task results and findings, and the release's latest verdict.
 * *inserted says whether it was new (a report id is stored once). When
 * file_id <= 0 the catalogue rows are found or made from the report.
 *
 * fresh: the caller expects the id to be new. The report is then inserted
 * without waiting for the database (PostgreSQL's pipeline), and an id
 * already stored fails the transaction with DB_FAIL_CONSTRAINT (reported
 * at the latest by db_commit), for the caller to roll back and call again
 * without fresh; *inserted is set to true. */
pyti_status catalog_put_report(pyti_store *s, const json_t *report, long long job_id,
                               int attempt, long long release_id, long long file_id, bool fresh,
                               bool *inserted, pyti_error *err);

/* PostgreSQL only: a validated report of job_id's attempt, whose file's
 * sha256 is sha, stored by one statement (store_catalog.c,
 * STORE_JOB_RESULT) as the last of the caller's transaction, committed
 * with it (one round trip; db_query_commit). *stored says whether that
 * statement took it; if not, nothing was written and the caller decides
 * the careful way (store_job_complete). On failure the transaction is rolled back; a
 * report id already stored fails with DB_FAIL_CONSTRAINT. */
pyti_status catalog_put_job_result(pyti_store *s, const json_t *report, long long job_id,
                                   int attempt, const char *sha, bool *stored, pyti_error *err);
/* The same statement sent as the open transaction's kept statement
 * (db_query_kept), for a caller that has more to say before its commit
 * (store_job_complete_claim); after the commit, catalog_job_result_stored
 * of db_take_kept's rows says whether it took the report. On failure the
 * transaction is rolled back. */
pyti_status catalog_send_job_result(pyti_store *s, const json_t *report, long long job_id,
                                    int attempt, const char *sha, pyti_error *err);
bool catalog_job_result_stored(const db_res *r);

/* Files a report stored before the catalogue existed (migration 2's
 * back-fill): catalogue rows, task results, findings, latest verdict. */
pyti_status catalog_backfill_report(pyti_store *s, const json_t *report, pyti_error *err);

/* ---- report_metrics (store_dashboard.c) ---- */

/* Files the report_metrics row of a stored report (inside the caller's
 * transaction; a repeat is a no-op). */
pyti_status dashboard_put_metrics(pyti_store *s, const json_t *report, pyti_error *err);
/* The metrics and test_names columns of report's report_metrics row (as
 * dashboard_put_metrics stores them). New strings. */
void dashboard_metrics_values(const json_t *report, char **metrics, char **tests);

/* True if s is 1..max bytes of [A-Za-z0-9] and the characters in extra. */
bool store_is_token(const char *s, size_t max, const char *extra);
/* "3.11" or "3.11.4" into "3.11" (out >= 16 bytes); false if v is not a
 * version like that. */
bool store_python_minor(const char *v, char *out, size_t size);

/* "2026-11-25T10:00:00.123Z" for ms since the epoch into out (>= 32 bytes). */
void store_iso_time(long long ms, char *out, size_t size);
/* A JSON string with the ISO time, or null when ms is NULL (cell NULL). */
json_t *store_json_time(const char *ms_cell);

#endif
