/* store_sqlite.c — the SQLite driver of the store's SQL layer (see
 * store_internal.h): one connection per handle, WAL mode, a busy handler
 * so several processes can share one file, prepared statements kept for
 * the life of the handle, and pyti_now_ms() as a C function. */
#include "store/store_internal.h"
#include "common/buf.h"
#include "common/path.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long a call waits for another process's write transaction. */
#define BUSY_TIMEOUT_S 30.0

typedef struct sqlite_impl {
    sqlite3 *db;
    long long clock_offset_ms;
    double busy_since;
    unsigned seed;
} sqlite_impl;

static sqlite_impl *impl_of(pyti_store *s) { return s->impl; }

static db_fail classify(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: return DB_FAIL_CONSTRAINT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return DB_FAIL_BUSY;
    default: return DB_FAIL_OTHER;
    }
}

static pyti_status fail(pyti_store *s, pyti_error *err, int rc)
{
    return db_fail_set(s, err, classify(rc), sqlite3_errmsg(impl_of(s)->db));
}

/* pyti_now_ms(): the wall clock in ms since the epoch, plus the test
 * offset. */
static void now_ms_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite_impl *im = sqlite3_user_data(ctx);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    sqlite3_result_int64(ctx, (sqlite3_int64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
                                  im->clock_offset_ms);
}

/* Waits for a lock held by another connection (not at all while
 * s->no_lock_wait: the call then fails at once with SQLITE_BUSY).
 * SQLite's own busy timeout sleeps 1, 2, 5, 10... ms; a queue transaction
 * holds the lock for tens of microseconds, so short randomised sleeps
 * give the lock to a waiter much sooner and keep claimers from waking in
 * lockstep. */
static int busy_handler(void *arg, int count)
{
    pyti_store *s = arg;
    sqlite_impl *im = impl_of(s);
    if (s->no_lock_wait)
        return 0;
    double now = time_monotonic();
    if (count == 0)
        im->busy_since = now;
    else if (now - im->busy_since > BUSY_TIMEOUT_S)
        return 0;
    unsigned cap = 50u << (count < 6 ? count : 6); /* 50 us .. 3.2 ms */
    usleep(cap / 2 + (unsigned)rand_r(&im->seed) % cap);
    return 1;
}

static void sqlite_close(pyti_store *s)
{
    sqlite_impl *im = s->impl;
    if (!im)
        return;
    sqlite3_close_v2(im->db);
    free(im);
    s->impl = NULL;
}

static pyti_status sqlite_prepare(pyti_store *s, db_stmt *st, pyti_error *err)
{
    sqlite3_stmt *h = NULL;
    int rc = sqlite3_prepare_v3(impl_of(s)->db, st->sql, -1, SQLITE_PREPARE_PERSISTENT, &h, NULL);
    if (rc != SQLITE_OK)
        return fail(s, err, rc);
    st->handle = h;
    st->nparams = sqlite3_bind_parameter_count(h);
    return PYTI_OK;
}

static void sqlite_finalize(pyti_store *s, db_stmt *st)
{
    (void)s;
    sqlite3_finalize(st->handle);
    st->handle = NULL;
}

/* v in decimal with its NUL, at the end of tmp; returns the length with
 * the NUL. */
static int int_text(sqlite3_int64 v, char tmp[24])
{
    char *p = tmp + 24;
    *--p = '\0';
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return (int)(tmp + 24 - p);
}

static db_res *sqlite_run(pyti_store *s, db_stmt *st, int nargs, const db_arg *args,
                          pyti_error *err)
{
    sqlite3_stmt *h = st->handle;
    for (int i = 0; i < nargs; i++) {
        switch (args[i].type) {
        case DB_NULL: sqlite3_bind_null(h, i + 1); break;
        case DB_INT: sqlite3_bind_int64(h, i + 1, args[i].i); break;
        case DB_REAL: sqlite3_bind_double(h, i + 1, args[i].d); break;
        case DB_TEXT: sqlite3_bind_text(h, i + 1, args[i].s, -1, SQLITE_STATIC); break;
        }
    }
    db_res *r = xcalloc(1, sizeof *r);
    r->ncols = sqlite3_column_count(h);
    /* The cells' text goes into one growing block; until the last row the
     * cells hold offsets into it (plus one; 0 is NULL), as it may move. */
    pyti_buf text = PYTI_BUF_INIT;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(h)) == SQLITE_ROW) {
        size_t need = (size_t)(r->nrows + 1) * (size_t)r->ncols;
        if (need > cap) {
            cap = cap ? cap * 2 : (size_t)r->ncols * 4;
            if (cap < need)
                cap = need;
            r->cells = xreallocarray(r->cells, cap, sizeof *r->cells);
        }
        char **row = r->cells + (size_t)r->nrows * (size_t)r->ncols;
        for (int c = 0; c < r->ncols; c++) {
            int type = sqlite3_column_type(h, c);
            if (type == SQLITE_NULL) {
                row[c] = NULL;
                continue;
            }
            row[c] = (char *)(uintptr_t)(text.len + 1);
            if (type == SQLITE_INTEGER) {
                /* Spelled here as SQLite would ("%lld"), without its
                 * conversion of the value to text and back. */
                char tmp[24];
                int n = int_text(sqlite3_column_int64(h, c), tmp);
                buf_append(&text, tmp + sizeof tmp - n, (size_t)n);
                continue;
            }
            const unsigned char *v = sqlite3_column_text(h, c);
            if (!v) { /* out of memory converting the value */
                row[c] = NULL;
                continue;
            }
            buf_append(&text, v, (size_t)sqlite3_column_bytes(h, c) + 1);
        }
        r->nrows++;
    }
    size_t ncells = (size_t)r->nrows * (size_t)r->ncols;
    if (rc != SQLITE_DONE) {
        fail(s, err, rc);
        sqlite3_reset(h);
        sqlite3_clear_bindings(h);
        buf_free(&text);
        free(r->cells);
        free(r);
        return NULL;
    }
    /* No text at all (no rows, or only NULLs): no arena, and
     * db_res_free's cell by cell path frees nothing. */
    r->arena = text.data;
    for (size_t i = 0; i < ncells; i++)
        if (r->cells[i])
            r->cells[i] = r->arena + ((uintptr_t)r->cells[i] - 1);
    r->changes = sqlite3_changes(impl_of(s)->db);
    sqlite3_reset(h);
    sqlite3_clear_bindings(h);
    return r;
}

static pyti_status sqlite_script(pyti_store *s, const char *sql, pyti_error *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(impl_of(s)->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        pyti_status st = db_fail_set(s, err, classify(rc), msg);
        sqlite3_free(msg);
        return st;
    }
    return PYTI_OK;
}

static pyti_status sqlite_send(pyti_store *s, db_stmt *st, int nargs, const db_arg *args,
                               pyti_error *err)
{
    db_res *r = sqlite_run(s, st, nargs, args, err);
    db_res_free(r);
    return r ? PYTI_OK : PYTI_ERR_IO;
}

static pyti_status sqlite_commit(pyti_store *s, pyti_error *err)
{
    return sqlite_script(s, "COMMIT", err);
}

static void sqlite_rollback(pyti_store *s)
{
    sqlite_script(s, "ROLLBACK", NULL);
}

static pyti_status sqlite_begin(pyti_store *s, pyti_error *err)
{
    return sqlite_script(s, "BEGIN IMMEDIATE", err);
}

static pyti_status sqlite_lock_migrations(pyti_store *s, pyti_error *err)
{
    /* BEGIN IMMEDIATE already holds the database's write lock. */
    (void)s;
    (void)err;
    return PYTI_OK;
}

static pyti_status sqlite_set_clock_offset(pyti_store *s, long long offset_ms, pyti_error *err)
{
    (void)err;
    impl_of(s)->clock_offset_ms = offset_ms;
    return PYTI_OK;
}

static void sqlite_set_local(pyti_store *s, const char *const *pairs, int npairs)
{
    (void)s; /* PostgreSQL's planner and commit settings; nothing to do here */
    (void)pairs;
    (void)npairs;
}

static const db_driver sqlite_driver = {
    .name = "sqlite",
    .dialect = DB_SQLITE,
    .close = sqlite_close,
    .prepare = sqlite_prepare,
    .run = sqlite_run,
    .finalize = sqlite_finalize,
    .send = sqlite_send,
    .script = sqlite_script,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .begin = sqlite_begin,
    .lock_migrations = sqlite_lock_migrations,
    .set_clock_offset = sqlite_set_clock_offset,
    .set_local = sqlite_set_local,
};

pyti_status store_sqlite_open(pyti_store *s, const char *path, pyti_error *err)
{
    char *dir = path_dirname(path);
    pyti_status rc = path_mkdirs(dir, 0755, err);
    free(dir);
    if (rc != PYTI_OK)
        return pyti_error_prefix(err, "store %s", path);
    sqlite_impl *im = xcalloc(1, sizeof *im);
    im->seed = (unsigned)getpid() ^ (unsigned)(unsigned long long)(time_monotonic() * 1e6);
    s->impl = im;
    s->drv = &sqlite_driver;
    /* NOMUTEX: a handle is one connection used by one thread at a time
     * (store.h), so SQLite's own mutexes would be pure cost. */
    if (sqlite3_open_v2(path, &im->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        pyti_error_set(err, PYTI_ERR_IO, "store %s: cannot open: %s", s->location,
                       im->db ? sqlite3_errmsg(im->db) : "out of memory");
        sqlite_close(s);
        return PYTI_ERR_IO;
    }
    sqlite3_busy_handler(im->db, busy_handler, s);
    sqlite3_extended_result_codes(im->db, 1);
    sqlite3_create_function(im->db, "pyti_now_ms", 0, SQLITE_UTF8, im, now_ms_fn, NULL, NULL);
    /* WAL lets readers run beside the one writer; synchronous=NORMAL in WAL
     * mode never corrupts the database and loses nothing when a process
     * dies — only a power cut can roll back the last commits, which the
     * embedded single-machine store accepts (docs/store.md). */
    s->what = "configuring";
    /* Switching a new database to WAL needs an exclusive lock, and SQLite
     * does not call the busy handler for it: when several processes open
     * a fresh store at once, wait here. */
    double start = time_monotonic();
    while ((rc = sqlite_script(s, "PRAGMA journal_mode=WAL", err)) != PYTI_OK &&
           s->last_fail == DB_FAIL_BUSY && time_monotonic() - start < BUSY_TIMEOUT_S)
        usleep(1000 + (unsigned)rand_r(&im->seed) % 4000);
    if (rc != PYTI_OK ||
        sqlite_script(s, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", err) != PYTI_OK) {
        sqlite_close(s);
        return PYTI_ERR_IO;
    }
    return PYTI_OK;
}
