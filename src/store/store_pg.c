/* store_pg.c — the PostgreSQL driver of the store's SQL layer (see
 * store_internal.h), over libpq: one connection per handle, server-side
 * prepared statements kept for the life of the connection, parameters and
 * results as text, SQLSTATEs mapped to db_fail kinds.
 *
 * Inside a transaction the connection is in libpq's pipeline mode: BEGIN
 * and every statement whose rows are not needed are sent without waiting,
 * and the round trip happens only when a result is needed or at COMMIT
 * (run_commit sends the last statement with the COMMIT). A claim is then
 * one round trip and a result two, instead of five and eight. An error
 * in a sent statement aborts the rest of the pipeline and is reported,
 * naming that statement, by the call that waits next.
 *
 * A lost connection is re-established on the next call (never the failed
 * call itself: its outcome is unknown, so the caller decides whether to
 * repeat it). */
#include "store/store_internal.h"
#include "common/xalloc.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_PENDING = 256, MAX_ARGS = 32 };

typedef struct pg_impl {
    PGconn *conn;
    unsigned next_stmt;
    bool pipeline;   /* in pipeline mode (inside a transaction) */
    int npending;    /* queries sent whose results are unread */
    const char *pending_what[MAX_PENDING];
    /* BEGIN and COMMIT are prepared statements too (named below), and so
     * are the set_config forms of pg_set_local (by number of pairs): sent
     * as text they were parsed, and set_config also planned, on every
     * transaction. Prepared by the first BEGIN of a connection. */
    bool control_ready;
    /* send_kept's statement: its index among the pending (-1: none) and,
     * once read by a drain, its result, until take_kept. */
    int kept_at;
    PGresult *kept;
} pg_impl;

#define BEGIN_STMT "pyti_begin"
#define COMMIT_STMT "pyti_commit"

static pg_impl *impl_of(pyti_store *s) { return s->impl; }
static PGconn *conn_of(pyti_store *s) { return impl_of(s)->conn; }

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
    pg_impl *im = impl_of(s);
    if (PQstatus(im->conn) != CONNECTION_BAD)
        return;
    PQreset(im->conn);
    im->pipeline = false;
    im->npending = 0;
    im->kept_at = -1;
    PQclear(im->kept);
    im->kept = NULL;
    im->control_ready = false;
    db_forget_statements(s);
    s->in_txn = false;
}

/* ---- the pipeline ---- */

static pyti_status note_pending(pyti_store *s, int sent, pyti_error *err)
{
    pg_impl *im = impl_of(s);
    if (!sent)
        return fail(s, err, NULL);
    im->pending_what[im->npending++] = s->what;
    return PYTI_OK;
}

/* Reads up to the PGRES_PIPELINE_SYNC that closes a batch. */
static void skip_to_sync(PGconn *conn)
{
    PGresult *r;
    while ((r = PQgetResult(conn)) != NULL) {
        bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
        PQclear(r);
        if (sync)
            break;
    }
}

/* Ends the pipeline's batch and reads every pending result. The first
 * failure (naming the statement it came from) goes to err. If last is
 * not NULL it gets the result of pending statement number keep (counted
 * from 0; the caller clears it), given that no statement failed. The
 * kept statement's result (send_kept) is held for take_kept, likewise. */
static pyti_status drain_keep(pyti_store *s, int keep, PGresult **last, pyti_error *err)
{
    pg_impl *im = impl_of(s);
    if (last)
        *last = NULL;
    if (!PQpipelineSync(im->conn))
        return fail(s, err, NULL);
    pyti_status rc = PYTI_OK;
    const char *saved = s->what;
    for (int i = 0; i < im->npending; i++) {
        PGresult *r;
        while ((r = PQgetResult(im->conn)) != NULL) {
            ExecStatusType st = PQresultStatus(r);
            if ((st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR) && rc == PYTI_OK) {
                s->what = im->pending_what[i];
                rc = fail(s, err, r);
                s->what = saved;
            }
            if (last && i == keep && rc == PYTI_OK && !*last)
                *last = r;
            else if (i == im->kept_at && rc == PYTI_OK && !im->kept)
                im->kept = r;
            else
                PQclear(r);
        }
        if (PQstatus(im->conn) == CONNECTION_BAD)
            break;
    }
    im->npending = 0;
    im->kept_at = -1;
    skip_to_sync(im->conn);
    if (PQstatus(im->conn) == CONNECTION_BAD && rc == PYTI_OK)
        rc = fail(s, err, NULL);
    if (rc != PYTI_OK && last && *last) {
        PQclear(*last);
        *last = NULL;
    }
    if (rc != PYTI_OK && im->kept) {
        PQclear(im->kept);
        im->kept = NULL;
    }
    return rc;
}

/* drain_keep keeping the last statement's result. */
static pyti_status drain(pyti_store *s, PGresult **last, pyti_error *err)
{
    return drain_keep(s, impl_of(s)->npending - 1, last, err);
}

/* Leaves pipeline mode for a call libpq only allows outside it; pending
 * results are read first. Returns whether the pipeline was on. */
static pyti_status leave_pipeline(pyti_store *s, bool *was_on, pyti_error *err)
{
    pg_impl *im = impl_of(s);
    *was_on = im->pipeline;
    if (!im->pipeline)
        return PYTI_OK;
    pyti_status rc = im->npending ? drain(s, NULL, err) : PYTI_OK;
    PQexitPipelineMode(im->conn);
    im->pipeline = false;
    return rc;
}

static void resume_pipeline(pyti_store *s, bool was_on)
{
    pg_impl *im = impl_of(s);
    if (was_on && !im->pipeline && PQenterPipelineMode(im->conn))
        im->pipeline = true;
}

/* ---- statements ---- */

static void pg_close(pyti_store *s)
{
    pg_impl *im = s->impl;
    if (!im)
        return;
    PQclear(im->kept);
    PQfinish(im->conn);
    free(im);
    s->impl = NULL;
}

static pyti_status pg_prepare(pyti_store *s, db_stmt *st, pyti_error *err)
{
    heal(s);
    pg_impl *im = impl_of(s);
    /* Prepared once per connection, so simply outside the pipeline. */
    bool was_on;
    if (leave_pipeline(s, &was_on, err) != PYTI_OK) {
        resume_pipeline(s, was_on);
        return PYTI_ERR_IO;
    }
    char name[32];
    snprintf(name, sizeof name, "pyti_%u", im->next_stmt++);
    PGresult *res = PQprepare(im->conn, name, st->sql, 0, NULL);
    pyti_status rc = PYTI_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = fail(s, err, res);
    else
        st->handle = xstrdup(name);
    PQclear(res);
    resume_pipeline(s, was_on);
    return rc;
}

static void pg_finalize(pyti_store *s, db_stmt *st)
{
    if (!st->handle)
        return;
    if (PQstatus(conn_of(s)) == CONNECTION_OK && !impl_of(s)->pipeline) {
        char sql[64];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", (const char *)st->handle);
        PQclear(PQexec(conn_of(s), sql));
    }
    free(st->handle);
    st->handle = NULL;
}

/* Parameters as text for libpq; nums holds the numbers' spelling. */
static pyti_status params(pyti_store *s, int nargs, const db_arg *args,
                          char nums[MAX_ARGS][40], const char *values[MAX_ARGS], pyti_error *err)
{
    if (nargs > MAX_ARGS)
        return pyti_error_set(err, PYTI_ERR_INTERNAL, "store %s: %d parameters (at most %d)",
                              s->location, nargs, MAX_ARGS);
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
    return PYTI_OK;
}

static db_res *to_res(PGresult *res)
{
    db_res *r = xcalloc(1, sizeof *r);
    r->nrows = PQntuples(res);
    r->ncols = PQnfields(res);
    if (r->nrows && r->ncols) {
        /* Every cell's text in one block (see db_res.arena). */
        size_t total = 0;
        for (int i = 0; i < r->nrows; i++)
            for (int c = 0; c < r->ncols; c++)
                if (!PQgetisnull(res, i, c))
                    total += (size_t)PQgetlength(res, i, c) + 1;
        r->cells = xcalloc((size_t)r->nrows * (size_t)r->ncols, sizeof *r->cells);
        r->arena = xmalloc(total ? total : 1);
        char *p = r->arena;
        for (int i = 0; i < r->nrows; i++)
            for (int c = 0; c < r->ncols; c++) {
                if (PQgetisnull(res, i, c))
                    continue;
                size_t len = (size_t)PQgetlength(res, i, c);
                memcpy(p, PQgetvalue(res, i, c), len);
                p[len] = '\0';
                r->cells[(size_t)i * (size_t)r->ncols + (size_t)c] = p;
                p += len + 1;
            }
    }
    const char *n = PQcmdTuples(res);
    r->changes = n && *n ? strtoll(n, NULL, 10) : 0;
    return r;
}

static db_res *pg_run(pyti_store *s, db_stmt *st, int nargs, const db_arg *args,
                      pyti_error *err)
{
    char nums[MAX_ARGS][40];
    const char *values[MAX_ARGS];
    if (params(s, nargs, args, nums, values, err) != PYTI_OK)
        return NULL;
    pg_impl *im = impl_of(s);
    PGresult *res;
    if (im->pipeline) {
        if (im->npending >= MAX_PENDING && drain(s, NULL, err) != PYTI_OK)
            return NULL;
        int sent = PQsendQueryPrepared(im->conn, st->handle, nargs, values, NULL, NULL, 0);
        if (note_pending(s, sent, err) != PYTI_OK || drain(s, &res, err) != PYTI_OK) {
            heal(s);
            return NULL;
        }
    } else {
        res = PQexecPrepared(im->conn, st->handle, nargs, values, NULL, NULL, 0);
        ExecStatusType status = PQresultStatus(res);
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
            fail(s, err, res);
            PQclear(res);
            heal(s);
            return NULL;
        }
    }
    db_res *r = to_res(res);
    PQclear(res);
    return r;
}

static pyti_status pg_send(pyti_store *s, db_stmt *st, int nargs, const db_arg *args,
                           pyti_error *err)
{
    pg_impl *im = impl_of(s);
    if (!im->pipeline) {
        db_res *r = pg_run(s, st, nargs, args, err);
        db_res_free(r);
        return r ? PYTI_OK : PYTI_ERR_IO;
    }
    char nums[MAX_ARGS][40];
    const char *values[MAX_ARGS];
    if (params(s, nargs, args, nums, values, err) != PYTI_OK)
        return PYTI_ERR_INTERNAL;
    if (im->npending >= MAX_PENDING && drain(s, NULL, err) != PYTI_OK)
        return PYTI_ERR_IO;
    return note_pending(s, PQsendQueryPrepared(im->conn, st->handle, nargs, values, NULL, NULL, 0),
                        err);
}

static pyti_status pg_send_kept(pyti_store *s, db_stmt *st, int nargs, const db_arg *args,
                                pyti_error *err)
{
    pg_impl *im = impl_of(s);
    if (!im->pipeline)
        return pyti_error_set(err, PYTI_ERR_INTERNAL, "store: a kept statement outside a "
                                                      "transaction");
    if (im->kept_at >= 0 || im->kept)
        return pyti_error_set(err, PYTI_ERR_INTERNAL, "store: two kept statements at once");
    pyti_status rc = pg_send(s, st, nargs, args, err);
    if (rc == PYTI_OK)
        im->kept_at = im->npending - 1;
    return rc;
}

static db_res *pg_take_kept(pyti_store *s)
{
    pg_impl *im = impl_of(s);
    if (!im->kept)
        return NULL;
    db_res *r = to_res(im->kept);
    PQclear(im->kept);
    im->kept = NULL;
    return r;
}

/* Sends a parameterless command inside the pipeline: COMMIT and BEGIN as
 * the prepared statements, once they are. */
static pyti_status send_command(pyti_store *s, const char *sql, pyti_error *err)
{
    pg_impl *im = impl_of(s);
    const char *name = !im->control_ready    ? NULL
                       : !strcmp(sql, "BEGIN")  ? BEGIN_STMT
                       : !strcmp(sql, "COMMIT") ? COMMIT_STMT
                                                : NULL;
    if (name)
        return note_pending(s, PQsendQueryPrepared(im->conn, name, 0, NULL, NULL, NULL, 0), err);
    return note_pending(s, PQsendQueryParams(im->conn, sql, 0, NULL, NULL, NULL, NULL, 0), err);
}

enum { MAX_LOCAL_PAIRS = 8 };

/* SELECT set_config($1, $2, true), ... for npairs pairs, and its name. */
static void set_local_sql(int npairs, char *sql, size_t size, char *name, size_t nsize)
{
    int len = snprintf(sql, size, "SELECT ");
    for (int i = 0; i < npairs; i++)
        len += snprintf(sql + len, size - (size_t)len, "%sset_config($%d, $%d, true)",
                        i ? ", " : "", 2 * i + 1, 2 * i + 2);
    snprintf(name, nsize, "pyti_set_local_%d", npairs);
}

/* Prepares BEGIN, COMMIT and the set_config forms, in one round trip, out
 * of a transaction. On failure (the statements are then sent as text)
 * nothing is left pending. */
static void prepare_control(pyti_store *s)
{
    pg_impl *im = impl_of(s);
    if (PQstatus(im->conn) != CONNECTION_OK || !PQenterPipelineMode(im->conn))
        return;
    int sent = 0;
    bool ok = PQsendPrepare(im->conn, BEGIN_STMT, "BEGIN", 0, NULL) &&
              PQsendPrepare(im->conn, COMMIT_STMT, "COMMIT", 0, NULL);
    sent = ok ? 2 : 0;
    for (int n = 1; ok && n <= MAX_LOCAL_PAIRS; n++) {
        char sql[256], name[32];
        set_local_sql(n, sql, sizeof sql, name, sizeof name);
        ok = PQsendPrepare(im->conn, name, sql, 0, NULL);
        sent += ok;
    }
    ok = PQpipelineSync(im->conn) && ok;
    for (int i = 0; i < sent; i++) {
        PGresult *r;
        while ((r = PQgetResult(im->conn)) != NULL) {
            ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
            PQclear(r);
        }
    }
    skip_to_sync(im->conn);
    PQexitPipelineMode(im->conn);
    im->control_ready = ok && PQstatus(im->conn) == CONNECTION_OK;
}

static pyti_status pg_script(pyti_store *s, const char *sql, pyti_error *err)
{
    heal(s);
    bool was_on;
    if (leave_pipeline(s, &was_on, err) != PYTI_OK) {
        resume_pipeline(s, was_on);
        return PYTI_ERR_IO;
    }
    PGresult *res = PQexec(conn_of(s), sql);
    ExecStatusType status = PQresultStatus(res);
    pyti_status rc = PYTI_OK;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        rc = fail(s, err, res);
    PQclear(res);
    resume_pipeline(s, was_on);
    if (rc != PYTI_OK)
        heal(s);
    return rc;
}

/* ---- transactions ---- */

static pyti_status pg_begin(pyti_store *s, pyti_error *err)
{
    heal(s);
    pg_impl *im = impl_of(s);
    if (!im->control_ready)
        prepare_control(s);
    if (!PQenterPipelineMode(im->conn))
        return fail(s, err, NULL);
    im->pipeline = true;
    im->npending = 0;
    im->kept_at = -1;
    if (send_command(s, "BEGIN", err) != PYTI_OK) {
        PQexitPipelineMode(im->conn);
        im->pipeline = false;
        heal(s);
        return PYTI_ERR_IO;
    }
    return PYTI_OK;
}

static pyti_status pg_commit(pyti_store *s, pyti_error *err)
{
    pg_impl *im = impl_of(s);
    if (!im->pipeline)
        return pg_script(s, "COMMIT", err);
    pyti_status rc = send_command(s, "COMMIT", err);
    if (rc == PYTI_OK)
        rc = drain(s, NULL, err);
    if (rc == PYTI_OK) {
        PQexitPipelineMode(im->conn);
        im->pipeline = false;
    }
    /* On failure the caller rolls back (db_commit), which ends the
     * pipeline and the aborted transaction. */
    return rc;
}

/* The statement and COMMIT in one batch: one round trip. The rows are
 * returned only once the commit has succeeded. */
static db_res *pg_run_commit(pyti_store *s, db_stmt *st, int nargs, const db_arg *args,
                             pyti_error *err)
{
    pg_impl *im = impl_of(s);
    if (!im->pipeline) {
        db_res *r = pg_run(s, st, nargs, args, err);
        if (r && pg_script(s, "COMMIT", err) != PYTI_OK) {
            db_res_free(r);
            return NULL;
        }
        return r;
    }
    char nums[MAX_ARGS][40];
    const char *values[MAX_ARGS];
    if (params(s, nargs, args, nums, values, err) != PYTI_OK)
        return NULL;
    if (im->npending + 2 > MAX_PENDING && drain(s, NULL, err) != PYTI_OK)
        return NULL;
    const char *what = s->what;
    if (note_pending(s, PQsendQueryPrepared(im->conn, st->handle, nargs, values, NULL, NULL, 0),
                     err) != PYTI_OK)
        return NULL;
    s->what = "committing";
    if (send_command(s, "COMMIT", err) != PYTI_OK) {
        s->what = what;
        return NULL;
    }
    s->what = what;
    PGresult *res;
    if (drain_keep(s, im->npending - 2, &res, err) != PYTI_OK)
        return NULL; /* the caller rolls back */
    PQexitPipelineMode(im->conn);
    im->pipeline = false;
    db_res *r = to_res(res);
    PQclear(res);
    return r;
}

static void pg_rollback(pyti_store *s)
{
    pg_impl *im = impl_of(s);
    if (PQstatus(im->conn) == CONNECTION_BAD) {
        heal(s);
        return;
    }
    if (im->pipeline) {
        if (im->npending)
            drain(s, NULL, NULL);
        if (send_command(s, "ROLLBACK", NULL) == PYTI_OK)
            drain(s, NULL, NULL);
        PQexitPipelineMode(im->conn);
        im->pipeline = false;
        heal(s);
        return;
    }
    PQclear(PQexec(im->conn, "ROLLBACK"));
    heal(s);
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

static void pg_set_local(pyti_store *s, const char *const *pairs, int npairs)
{
    pg_impl *im = impl_of(s);
    if (!im->pipeline || npairs < 1 || npairs > MAX_LOCAL_PAIRS)
        return;
    /* One statement for all: SELECT set_config($1, $2, true), ... */
    char sql[256], name[32];
    set_local_sql(npairs, sql, sizeof sql, name, sizeof name);
    if (im->control_ready)
        note_pending(s, PQsendQueryPrepared(im->conn, name, 2 * npairs,
                                            (const char *const *)pairs, NULL, NULL, 0),
                     NULL);
    else
        note_pending(s, PQsendQueryParams(im->conn, sql, 2 * npairs, NULL,
                                          (const char *const *)pairs, NULL, NULL, 0),
                     NULL);
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
    .send = pg_send,
    .script = pg_script,
    .commit = pg_commit,
    .run_commit = pg_run_commit,
    .send_kept = pg_send_kept,
    .take_kept = pg_take_kept,
    .rollback = pg_rollback,
    .begin = pg_begin,
    .lock_migrations = pg_lock_migrations,
    .set_clock_offset = pg_set_clock_offset,
    .set_local = pg_set_local,
};

pyti_status store_pg_open(pyti_store *s, const char *conninfo, pyti_error *err)
{
    pg_impl *im = xcalloc(1, sizeof *im);
    im->kept_at = -1;
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
     * UTF-8). Every statement of the store is written for one index path
     * and its parameters (ids, names, worker ids) do not change the best
     * plan, so prepared statements keep their generic plan instead of
     * being planned again for each execution (about 15% of the queue's
     * throughput, bench/README.md). */
    if (pg_script(s, "SET client_encoding = 'UTF8'; SET client_min_messages = warning;"
                     " SET plan_cache_mode = force_generic_plan", err) != PYTI_OK) {
        pg_close(s);
        return PYTI_ERR_IO;
    }
    return PYTI_OK;
}
