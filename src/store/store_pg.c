/* store_pg.c — the PostgreSQL driver of the store's SQL layer (see
 * store_internal.h), over libpq: one connection per handle, server-side
 * prepared statements kept for the life of the connection, parameters and
 * results as text, SQLSTATEs mapped to db_fail kinds. A lost connection is
 * re-established on the next call (never the failed call itself: its
 * outcome is unknown, so the caller decides whether to repeat it). */
#include "store/store_internal.h"
#include "common/xalloc.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pg_impl {
    PGconn *conn;
    unsigned next_stmt;
} pg_impl;

static PGconn *conn_of(pyti_store *s) { return ((pg_impl *)s->impl)->conn; }

/* libpq's messages end in a newline and may span lines; keep the first. */
static void one_line(const char *in, char *out, size_t size)
{
    snprintf(out, size, "%s", in ? in : "");
    char *nl = strchr(out, '\n');
    if (nl)
        *nl = '\0';
}

static db_fail classify(const PGresult *res, PGconn *conn)
{
    if (PQstatus(conn) == CONNECTION_BAD)
        return DB_FAIL_CONN;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!state)
        return DB_FAIL_OTHER;
    if (strncmp(state, "23", 2) == 0)
        return DB_FAIL_CONSTRAINT;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
        strcmp(state, "55P03") == 0)
        return DB_FAIL_BUSY;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
        return DB_FAIL_CONN;
    return DB_FAIL_OTHER;
}

static pyti_status fail(pyti_store *s, pyti_error *err, const PGresult *res)
{
    char msg[512];
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    one_line(primary ? primary : PQerrorMessage(conn_of(s)), msg, sizeof msg);
    return db_fail_set(s, err, classify(res, conn_of(s)), msg);
}

/* After a failure that broke the connection, reconnect so that the next
 * call can work; prepared statements are gone with the old session. */
static void heal(pyti_store *s)
{
    if (PQstatus(conn_of(s)) != CONNECTION_BAD)
        return;
    PQreset(conn_of(s));
    db_forget_statements(s);
    s->in_txn = false;
}

static void pg_close(pyti_store *s)
{
    pg_impl *im = s->impl;
    if (!im)
        return;
    PQfinish(im->conn);
    free(im);
    s->impl = NULL;
}

static pyti_status pg_prepare(pyti_store *s, db_stmt *st, pyti_error *err)
{
    heal(s);
    pg_impl *im = s->impl;
    char name[32];
    snprintf(name, sizeof name, "pyti_%u", im->next_stmt++);
    PGresult *res = PQprepare(im->conn, name, st->sql, 0, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        pyti_status rc = fail(s, err, res);
        PQclear(res);
        return rc;
    }
    PQclear(res);
    st->handle = xstrdup(name);
    return PYTI_OK;
}

static void pg_finalize(pyti_store *s, db_stmt *st)
{
    if (!st->handle)
        return;
    if (PQstatus(conn_of(s)) == CONNECTION_OK) {
        char sql[64];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", (const char *)st->handle);
        PQclear(PQexec(conn_of(s), sql));
    }
    free(st->handle);
    st->handle = NULL;
}

static db_res *pg_run(pyti_store *s, db_stmt *st, int nargs, const db_arg *args,
                      pyti_error *err)
{
    enum { MAXARGS = 32 };
    char nums[MAXARGS][40];
    const char *values[MAXARGS];
    if (nargs > MAXARGS) {
        pyti_error_set(err, PYTI_ERR_INTERNAL, "store: %d parameters (at most %d)", nargs, MAXARGS);
        return NULL;
    }
    for (int i = 0; i < nargs; i++) {
        switch (args[i].type) {
        case DB_NULL: values[i] = NULL; break;
        case DB_INT:
            snprintf(nums[i], sizeof nums[i], "%lld", args[i].i);
            values[i] = nums[i];
            break;
        case DB_REAL:
            snprintf(nums[i], sizeof nums[i], "%.17g", args[i].d);
            values[i] = nums[i];
            break;
        case DB_TEXT: values[i] = args[i].s; break;
        }
    }
    PGresult *res = PQexecPrepared(conn_of(s), st->handle, nargs, values, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(res);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        fail(s, err, res);
        PQclear(res);
        heal(s);
        return NULL;
    }
    db_res *r = xcalloc(1, sizeof *r);
    r->nrows = PQntuples(res);
    r->ncols = PQnfields(res);
    if (r->nrows && r->ncols) {
        r->cells = xcalloc((size_t)r->nrows * (size_t)r->ncols, sizeof *r->cells);
        for (int i = 0; i < r->nrows; i++)
            for (int c = 0; c < r->ncols; c++)
                if (!PQgetisnull(res, i, c))
                    r->cells[(size_t)i * (size_t)r->ncols + (size_t)c] =
                        xstrdup(PQgetvalue(res, i, c));
    }
    const char *n = PQcmdTuples(res);
    r->changes = n && *n ? strtoll(n, NULL, 10) : 0;
    PQclear(res);
    return r;
}

static pyti_status pg_script(pyti_store *s, const char *sql, pyti_error *err)
{
    heal(s);
    PGresult *res = PQexec(conn_of(s), sql);
    ExecStatusType status = PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        pyti_status rc = fail(s, err, res);
        PQclear(res);
        heal(s);
        return rc;
    }
    PQclear(res);
    return PYTI_OK;
}

static pyti_status pg_begin(pyti_store *s, pyti_error *err)
{
    return pg_script(s, "BEGIN", err);
}

static pyti_status pg_lock_migrations(pyti_store *s, pyti_error *err)
{
    /* Any constant: every pyti process migrating this database takes the
     * same lock, released at the end of the transaction. */
    return pg_script(s, "SELECT pg_advisory_xact_lock(7079710519)", err);
}

static pyti_status pg_set_clock_offset(pyti_store *s, long long offset_ms, pyti_error *err)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT set_config('pyti.clock_offset_ms', '%lld', false)",
             offset_ms);
    s->what = "setting the clock offset";
    return pg_script(s, sql, err);
}

static void pg_relax_durability(pyti_store *s)
{
    PQclear(PQexec(conn_of(s), "SET LOCAL synchronous_commit = off"));
}

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static const db_driver pg_driver = {
    .name = "postgresql",
    .dialect = DB_PG,
    .close = pg_close,
    .prepare = pg_prepare,
    .run = pg_run,
    .finalize = pg_finalize,
    .script = pg_script,
    .begin = pg_begin,
    .lock_migrations = pg_lock_migrations,
    .set_clock_offset = pg_set_clock_offset,
    .relax_durability = pg_relax_durability,
};

pyti_status store_pg_open(pyti_store *s, const char *conninfo, pyti_error *err)
{
    pg_impl *im = xcalloc(1, sizeof *im);
    s->impl = im;
    s->drv = &pg_driver;
    im->conn = PQconnectdb(conninfo);
    if (!im->conn || PQstatus(im->conn) != CONNECTION_OK) {
        char msg[512];
        one_line(im->conn ? PQerrorMessage(im->conn) : "out of memory", msg, sizeof msg);
        pyti_error_set(err, PYTI_ERR_IO, "store %s: cannot connect: %s", s->location, msg);
        pg_close(s);
        return PYTI_ERR_IO;
    }
    PQsetNoticeProcessor(im->conn, ignore_notice, NULL);
    s->what = "configuring the session";
    /* Times are integers (ms since the epoch) throughout, so the session's
     * time zone does not matter; the client encoding does (reports are
     * UTF-8). */
    if (pg_script(s, "SET client_encoding = 'UTF8'; SET client_min_messages = warning", err) !=
        PYTI_OK) {
        pg_close(s);
        return PYTI_ERR_IO;
    }
    return PYTI_OK;
}
