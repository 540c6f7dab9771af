/* store_db.c — the small SQL layer under every store operation (see
 * store_internal.h): dialect translation, the per-connection statement
 * cache, result access, transactions, error messages. */
#include "store/store_internal.h"
#include "common/fnv.h"
#include "common/buf.h"
#include "common/xalloc.h"

#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

char *db_translate(const char *sql, db_dialect d)
{
    pyti_buf b = PYTI_BUF_INIT;
    const char *p = sql;
    while (*p) {
        if (p[0] == '{' && p[1] == '{') {
            const char *tag = p + 2;
            const char *end = strstr(tag, "}}");
            assert(end && "unterminated {{ block in SQL");
            bool pg = strncmp(tag, "pg ", 3) == 0;
            bool lite = strncmp(tag, "sqlite ", 7) == 0;
            assert((pg || lite) && "unknown {{ block in SQL");
            const char *body = tag + (pg ? 3 : 7);
            if ((pg && d == DB_PG) || (lite && d == DB_SQLITE))
                buf_append(&b, body, (size_t)(end - body));
            p = end + 2;
            continue;
        }
        if (d == DB_SQLITE && p[0] == '$' && isdigit((unsigned char)p[1])) {
            buf_putc(&b, '?');
            p++;
            continue;
        }
        buf_putc(&b, *p++);
    }
    return buf_detach(&b);
}

/* ---- results ---- */

double db_get_real(const db_res *r, int row, int col)
{
    const char *v = db_get(r, row, col);
    return v ? strtod(v, NULL) : 0.0;
}

void db_res_free(db_res *r)
{
    if (!r)
        return;
    if (r->arena) {
        free(r->arena);
    } else {
        size_t n = (size_t)r->nrows * (size_t)r->ncols;
        for (size_t i = 0; i < n; i++)
            free(r->cells[i]);
    }
    free(r->cells);
    free(r);
}

/* ---- errors ---- */

pyti_status db_fail_set(pyti_store *s, pyti_error *err, db_fail kind, const char *msg)
{
    s->last_fail = kind;
    return pyti_error_set(err, PYTI_ERR_IO, "store %s: %s: %s", s->location,
                          s->what ? s->what : "query", msg && *msg ? msg : "unknown error");
}

/* ---- the statement cache ---- */

/* A text of db_query_built: its hash (FNV-1a) and the kept copy. */
struct db_built {
    uint64_t hash;
    char *sql;
};

static size_t slot_of(const void *key, size_t cap)
{
    uintptr_t h = (uintptr_t)key;
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 7) & (cap - 1);
}

static db_stmt *cache_find(pyti_store *s, const char *key)
{
    if (!s->stmt_cap)
        return NULL;
    for (size_t i = slot_of(key, s->stmt_cap);; i = (i + 1) & (s->stmt_cap - 1)) {
        if (s->stmts[i].key == key)
            return &s->stmts[i];
        if (!s->stmts[i].key)
            return NULL;
    }
}

static db_stmt *cache_add(pyti_store *s, const char *key)
{
    if ((s->nstmts + 1) * 2 > s->stmt_cap) {
        size_t cap = s->stmt_cap ? s->stmt_cap * 2 : 64;
        db_stmt *old = s->stmts;
        size_t oldcap = s->stmt_cap;
        s->stmts = xcalloc(cap, sizeof *s->stmts);
        s->stmt_cap = cap;
        for (size_t i = 0; i < oldcap; i++) {
            if (!old[i].key)
                continue;
            size_t j = slot_of(old[i].key, cap);
            while (s->stmts[j].key)
                j = (j + 1) & (cap - 1);
            s->stmts[j] = old[i];
        }
        free(old);
    }
    size_t j = slot_of(key, s->stmt_cap);
    while (s->stmts[j].key)
        j = (j + 1) & (s->stmt_cap - 1);
    s->stmts[j].key = key;
    s->stmts[j].sql = db_translate(key, s->drv->dialect);
    s->stmts[j].handle = NULL;
    s->nstmts++;
    return &s->stmts[j];
}

void db_forget_statements(pyti_store *s)
{
    for (size_t i = 0; i < s->stmt_cap; i++) {
        if (!s->stmts[i].key)
            continue;
        /* PostgreSQL's handle is the statement's name; the server forgot the
         * statement with the old connection. */
        free(s->stmts[i].handle);
        s->stmts[i].handle = NULL;
    }
}

void db_free_statements(pyti_store *s)
{
    for (size_t i = 0; i < s->stmt_cap; i++) {
        if (!s->stmts[i].key)
            continue;
        if (s->stmts[i].handle)
            s->drv->finalize(s, &s->stmts[i]);
        free(s->stmts[i].sql);
    }
    free(s->stmts);
    s->stmts = NULL;
    s->stmt_cap = s->nstmts = 0;
    for (size_t i = 0; i < s->nbuilt; i++)
        free(s->built[i].sql);
    free(s->built);
    s->built = NULL;
    s->nbuilt = 0;
}

/* ---- running statements ---- */

/* The cached, prepared statement of sql (cached by the address of sql),
 * with what and the failure kind reset for the call; NULL with err if it
 * cannot be prepared. */
static db_stmt *statement(pyti_store *s, const char *what, const char *sql, pyti_error *err)
{
    s->what = what;
    s->last_fail = DB_FAIL_NONE;
    db_stmt *st = cache_find(s, sql);
    if (!st)
        st = cache_add(s, sql);
    if (!st->handle && s->drv->prepare(s, st, err) != PYTI_OK)
        return NULL;
    return st;
}

db_res *db_query(pyti_store *s, const char *what, const char *sql, int nargs, const db_arg *args,
                 pyti_error *err)
{
    db_stmt *st = statement(s, what, sql, err);
    return st ? s->drv->run(s, st, nargs, args, err) : NULL;
}

pyti_status db_exec(pyti_store *s, const char *what, const char *sql, int nargs,
                    const db_arg *args, long long *changes, pyti_error *err)
{
    if (s->in_txn && !changes) {
        db_stmt *st = statement(s, what, sql, err);
        return st ? s->drv->send(s, st, nargs, args, err) : PYTI_ERR_IO;
    }
    db_res *r = db_query(s, what, sql, nargs, args, err);
    if (!r)
        return PYTI_ERR_IO;
    if (changes)
        *changes = r->changes;
    db_res_free(r);
    return PYTI_OK;
}

db_res *db_query_built(pyti_store *s, const char *what, const char *sql, int nargs,
                       const db_arg *args, pyti_error *err)
{
    /* A linear search: a handle sees a few dozen shapes at most, and the
     * hash spares comparing their long common prefixes. */
    uint64_t h = fnv1a_str(sql);
    for (size_t i = 0; i < s->nbuilt; i++)
        if (s->built[i].hash == h && strcmp(s->built[i].sql, sql) == 0)
            return db_query(s, what, s->built[i].sql, nargs, args, err);
    if (s->nbuilt >= DB_BUILT_MAX)
        return db_query_once(s, what, sql, nargs, args, err);
    s->built = xreallocarray(s->built, s->nbuilt + 1, sizeof *s->built);
    s->built[s->nbuilt] = (struct db_built){h, xstrdup(sql)};
    return db_query(s, what, s->built[s->nbuilt++].sql, nargs, args, err);
}

db_res *db_query_once(pyti_store *s, const char *what, const char *sql, int nargs,
                      const db_arg *args, pyti_error *err)
{
    db_stmt st = {sql, db_translate(sql, s->drv->dialect), NULL, 0};
    db_res *r = NULL;
    s->what = what;
    s->last_fail = DB_FAIL_NONE;
    if (s->drv->prepare(s, &st, err) == PYTI_OK) {
        r = s->drv->run(s, &st, nargs, args, err);
        s->drv->finalize(s, &st);
    }
    free(st.sql);
    return r;
}

pyti_status db_script(pyti_store *s, const char *what, const char *sql, pyti_error *err)
{
    char *t = db_translate(sql, s->drv->dialect);
    s->what = what;
    s->last_fail = DB_FAIL_NONE;
    pyti_status rc = s->drv->script(s, t, err);
    free(t);
    return rc;
}

/* ---- transactions ---- */

pyti_status db_begin(pyti_store *s, pyti_error *err)
{
    assert(!s->in_txn && "nested store transaction");
    s->what = "beginning a transaction";
    pyti_status rc = s->drv->begin(s, err);
    if (rc == PYTI_OK)
        s->in_txn = true;
    return rc;
}

pyti_status db_commit(pyti_store *s, pyti_error *err)
{
    assert(s->in_txn);
    s->what = "committing";
    pyti_status rc = s->drv->commit(s, err);
    if (rc != PYTI_OK) {
        db_rollback(s);
        return rc;
    }
    s->in_txn = false;
    return PYTI_OK;
}

db_res *db_query_commit(pyti_store *s, const char *what, const char *sql, int nargs,
                        const db_arg *args, pyti_error *err)
{
    assert(s->in_txn);
    if (!s->drv->run_commit) {
        db_res *r = db_query(s, what, sql, nargs, args, err);
        if (!r) {
            db_rollback(s);
            return NULL;
        }
        if (db_commit(s, err) != PYTI_OK) {
            db_res_free(r);
            return NULL;
        }
        return r;
    }
    db_stmt *st = statement(s, what, sql, err);
    db_res *r = st ? s->drv->run_commit(s, st, nargs, args, err) : NULL;
    if (!r) {
        db_rollback(s);
        return NULL;
    }
    s->in_txn = false;
    return r;
}

void db_rollback(pyti_store *s)
{
    if (!s->in_txn)
        return;
    s->drv->rollback(s);
    s->in_txn = false;
    db_res_free(db_take_kept(s));
}

pyti_status db_query_kept(pyti_store *s, const char *what, const char *sql, int nargs,
                          const db_arg *args, pyti_error *err)
{
    assert(s->in_txn);
    if (!s->drv->send_kept) {
        assert(!s->kept && "one kept statement per transaction");
        s->kept = db_query(s, what, sql, nargs, args, err);
        return s->kept ? PYTI_OK : PYTI_ERR_IO;
    }
    db_stmt *st = statement(s, what, sql, err);
    return st ? s->drv->send_kept(s, st, nargs, args, err) : PYTI_ERR_IO;
}

db_res *db_take_kept(pyti_store *s)
{
    if (s->drv->take_kept)
        return s->drv->take_kept(s);
    db_res *r = s->kept;
    s->kept = NULL;
    return r;
}
