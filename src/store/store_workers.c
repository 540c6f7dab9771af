/* store_workers.c — workers (registration with capabilities and
 * acceptance policy, heartbeats, listing), feed cursors with
 * compare-and-set, and the queue's metrics (see queue.h). */
#include "store/store_internal.h"
#include "common/jsonutil.h"
#include "common/xalloc.h"
#include "pkg/name.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- workers ---- */

static pyti_status add_caps(pyti_store *s, const char *id, const char *kind, const pyti_strv *v,
                            pyti_error *err)
{
    for (size_t i = 0; v && i < v->len; i++) {
        char m[16];
        char *norm = NULL;
        const char *value = v->items[i];
        if (strcmp(kind, "python") == 0 && store_python_minor(value, m, sizeof m))
            value = m;
        else if (strcmp(kind, "project") == 0)
            value = norm = name_normalize(value);
        pyti_status rc = db_exec(s, "registering the worker",
                                 "INSERT INTO worker_caps (worker_id, kind, value)"
                                 " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                                 DB_ARGS(db_text(id), db_text(kind), db_text(value)), NULL, err);
        free(norm);
        if (rc != PYTI_OK)
            return rc;
    }
    return PYTI_OK;
}

static pyti_status check_worker(const store_worker_info *w, pyti_error *err)
{
    if (!store_is_token(w->id, 128, "._:@-"))
        return pyti_error_set(err, PYTI_ERR_USAGE,
                              "worker id '%s': expected 1-128 of [A-Za-z0-9._:@-]",
                              w->id ? w->id : "");
    if ((w->arch && !store_is_token(w->arch, 64, "_.-")) || (w->os && !store_is_token(w->os, 64, "_.-")))
        return pyti_error_set(err, PYTI_ERR_USAGE, "worker %s: arch and os are 1-64 of "
                              "[A-Za-z0-9_.-]", w->id);
    if (w->memory_mb < 0 || w->max_dist_size < 0)
        return pyti_error_set(err, PYTI_ERR_USAGE, "worker %s: negative memory or size", w->id);
    for (size_t i = 0; w->pythons && i < w->pythons->len; i++) {
        char m[16];
        if (!store_python_minor(w->pythons->items[i], m, sizeof m))
            return pyti_error_set(err, PYTI_ERR_USAGE,
                                  "worker %s: python '%s' is not a version like 3.11 or 3.11.4",
                                  w->id, w->pythons->items[i]);
    }
    for (size_t i = 0; w->tags && i < w->tags->len; i++)
        if (!store_is_token(w->tags->items[i], 64, "_.:-"))
            return pyti_error_set(err, PYTI_ERR_USAGE,
                                  "worker %s: tag '%s' is not 1-64 of [A-Za-z0-9_.:-]", w->id,
                                  w->tags->items[i]);
    for (size_t i = 0; w->recipes && i < w->recipes->len; i++)
        if (!*w->recipes->items[i] || strlen(w->recipes->items[i]) > 256)
            return pyti_error_set(err, PYTI_ERR_USAGE, "worker %s: empty or long recipe name",
                                  w->id);
    for (size_t i = 0; w->projects && i < w->projects->len; i++)
        if (!name_is_valid(w->projects->items[i]))
            return pyti_error_set(err, PYTI_ERR_USAGE, "worker %s: '%s' is not a project name",
                                  w->id, w->projects->items[i]);
    return PYTI_OK;
}

pyti_status store_worker_register(pyti_store *s, const store_worker_info *w, pyti_error *err)
{
    if (check_worker(w, err) != PYTI_OK)
        return PYTI_ERR_USAGE;
    char *info = w->info ? json_dumps(w->info, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    bool recipes = w->recipes && w->recipes->len;
    bool projects = w->projects && w->projects->len;
    pyti_status rc = db_begin(s, err);
    if (rc != PYTI_OK) {
        free(info);
        return rc;
    }
    rc = db_exec(s, "registering the worker",
                 "INSERT INTO workers (id, arch, os, memory_mb, max_dist_size, recipe_policy,"
                 " project_policy, state, info, registered_at, last_seen)"
                 " VALUES ($1, $2, $3, $4, $5, $6, $7, 'idle', $8, pyti_now_ms(), pyti_now_ms())"
                 " ON CONFLICT (id) DO UPDATE SET arch = excluded.arch, os = excluded.os,"
                 " memory_mb = excluded.memory_mb, max_dist_size = excluded.max_dist_size,"
                 " recipe_policy = excluded.recipe_policy,"
                 " project_policy = excluded.project_policy, state = 'idle',"
                 " info = excluded.info, last_seen = excluded.last_seen",
                 DB_ARGS(db_text(w->id), db_text(w->arch), db_text(w->os),
                         w->memory_mb ? db_int(w->memory_mb) : db_null(),
                         w->max_dist_size ? db_int(w->max_dist_size) : db_null(),
                         db_int(recipes), db_int(projects), db_text(info)),
                 NULL, err);
    if (rc == PYTI_OK)
        rc = db_exec(s, "registering the worker", "DELETE FROM worker_caps WHERE worker_id = $1",
                     DB_ARGS(db_text(w->id)), NULL, err);
    if (rc == PYTI_OK)
        rc = add_caps(s, w->id, "python", w->pythons, err);
    if (rc == PYTI_OK)
        rc = add_caps(s, w->id, "tag", w->tags, err);
    if (rc == PYTI_OK)
        rc = add_caps(s, w->id, "recipe", w->recipes, err);
    if (rc == PYTI_OK)
        rc = add_caps(s, w->id, "project", w->projects, err);
    free(info);
    if (rc != PYTI_OK) {
        db_rollback(s);
        return rc;
    }
    return db_commit(s, err);
}

pyti_status store_worker_heartbeat(pyti_store *s, const char *id, const char *state,
                                   pyti_error *err)
{
    if (!state || (strcmp(state, "idle") && strcmp(state, "busy") && strcmp(state, "draining")))
        return pyti_error_set(err, PYTI_ERR_USAGE,
                              "worker %s: state '%s' (expected idle, busy or draining)",
                              id ? id : "?", state ? state : "");
    long long changes = 0;
    if (db_exec(s, "recording the worker's heartbeat",
                "UPDATE workers SET state = $2, last_seen = pyti_now_ms() WHERE id = $1",
                DB_ARGS(db_text(id), db_text(state)), &changes, err) != PYTI_OK)
        return PYTI_ERR_IO;
    if (changes == 0)
        return pyti_error_set(err, PYTI_ERR_NOTFOUND, "worker '%s' is not registered in %s", id,
                              s->location);
    return PYTI_OK;
}

json_t *store_workers_list(pyti_store *s, pyti_error *err)
{
    db_res *w = db_query(s, "listing workers",
                         "SELECT w.id, w.state, w.arch, w.os, w.memory_mb, w.max_dist_size,"
                         " w.info, w.registered_at, w.last_seen,"
                         " (SELECT COUNT(*) FROM jobs j WHERE j.worker_id = w.id"
                         "   AND j.state IN ('leased', 'running'))"
                         " FROM workers w ORDER BY w.id",
                         DB_NOARGS, err);
    if (!w)
        return NULL;
    db_res *c = db_query(s, "listing workers",
                         "SELECT worker_id, kind, value FROM worker_caps"
                         " ORDER BY worker_id, kind, value",
                         DB_NOARGS, err);
    if (!c) {
        db_res_free(w);
        return NULL;
    }
    json_t *arr = json_array();
    int ci = 0;
    for (int i = 0; i < w->nrows; i++) {
        const char *id = db_get(w, i, 0);
        json_t *o = json_object();
        json_set_text(o, "id", id);
        json_set_text(o, "state", db_get(w, i, 1));
        json_set_text(o, "arch", db_get(w, i, 2));
        json_set_text(o, "os", db_get(w, i, 3));
        json_object_set_new(o, "memory_mb",
                            db_get(w, i, 4) ? json_integer(db_get_int(w, i, 4)) : json_null());
        json_object_set_new(o, "max_dist_size",
                            db_get(w, i, 5) ? json_integer(db_get_int(w, i, 5)) : json_null());
        json_t *info = db_get(w, i, 6) ? json_loads(db_get(w, i, 6), 0, NULL) : NULL;
        json_object_set_new(o, "info", info ? info : json_null());
        json_object_set_new(o, "registered", store_json_time(db_get(w, i, 7)));
        json_object_set_new(o, "last_seen", store_json_time(db_get(w, i, 8)));
        json_object_set_new(o, "leases", json_integer(db_get_int(w, i, 9)));
        static const char *const kinds[] = {"python", "tag", "recipe", "project"};
        static const char *const keys[] = {"pythons", "tags", "recipes", "projects"};
        json_t *lists[4];
        for (int k = 0; k < 4; k++)
            lists[k] = json_array();
        /* Both listings are ordered by worker id. */
        while (ci < c->nrows && strcmp(db_get(c, ci, 0), id) < 0)
            ci++;
        for (; ci < c->nrows && strcmp(db_get(c, ci, 0), id) == 0; ci++)
            for (int k = 0; k < 4; k++)
                if (strcmp(db_get(c, ci, 1), kinds[k]) == 0)
                    json_array_append_new(lists[k], json_text(db_get(c, ci, 2)));
        for (int k = 0; k < 4; k++)
            json_object_set_new(o, keys[k], lists[k]);
        json_array_append_new(arr, o);
    }
    db_res_free(w);
    db_res_free(c);
    return arr;
}

/* ---- feed cursors ---- */

static pyti_status check_cursor_name(const char *name, pyti_error *err)
{
    if (!name || !*name || strlen(name) > 256)
        return pyti_error_set(err, PYTI_ERR_USAGE, "feed cursor: a name of 1-256 bytes");
    return PYTI_OK;
}

pyti_status store_cursor_get(pyti_store *s, const char *name, char **value, pyti_error *err)
{
    *value = NULL;
    if (check_cursor_name(name, err) != PYTI_OK)
        return PYTI_ERR_USAGE;
    db_res *r = db_query(s, "reading a feed cursor",
                         "SELECT value FROM feed_cursors WHERE name = $1", DB_ARGS(db_text(name)),
                         err);
    if (!r)
        return PYTI_ERR_IO;
    if (r->nrows)
        *value = xstrdup(db_get(r, 0, 0));
    db_res_free(r);
    return PYTI_OK;
}

pyti_status store_cursor_cas(pyti_store *s, const char *name, const char *expected,
                             const char *value, bool *swapped, pyti_error *err)
{
    *swapped = false;
    if (check_cursor_name(name, err) != PYTI_OK)
        return PYTI_ERR_USAGE;
    if (!value)
        return pyti_error_set(err, PYTI_ERR_USAGE, "feed cursor %s: no value", name);
    long long changes = 0;
    pyti_status rc;
    /* Each is one statement, atomic on its own: the insert only if no row
     * exists, the update only if the row still holds expected. */
    if (!expected)
        rc = db_exec(s, "setting a feed cursor",
                     "INSERT INTO feed_cursors (name, value, updated_at)"
                     " VALUES ($1, $2, pyti_now_ms()) ON CONFLICT (name) DO NOTHING",
                     DB_ARGS(db_text(name), db_text(value)), &changes, err);
    else
        rc = db_exec(s, "setting a feed cursor",
                     "UPDATE feed_cursors SET value = $3, updated_at = pyti_now_ms()"
                     " WHERE name = $1 AND value = $2",
                     DB_ARGS(db_text(name), db_text(expected), db_text(value)), &changes, err);
    if (rc == PYTI_OK)
        *swapped = changes > 0;
    return rc;
}

/* ---- metrics ---- */

static double percentile(const db_res *r, double p)
{
    if (r->nrows == 0)
        return 0;
    /* Nearest rank. */
    int k = (int)(p * r->nrows + 0.999999) - 1;
    if (k < 0)
        k = 0;
    if (k >= r->nrows)
        k = r->nrows - 1;
    return (double)db_get_int(r, k, 0) / 1000.0;
}

pyti_status store_metrics_get(pyti_store *s, long long window_s, store_metrics *m,
                              pyti_error *err)
{
    memset(m, 0, sizeof *m);
    long long window_ms = window_s > 0 ? window_s * 1000 : 60000;
    /* Per group of states through its partial index (there is no index on
     * state alone since migration 4): the few queued, leased and ended
     * jobs directly; the done ones as the finished jobs (finished_at is set
     * exactly while a job is done, failed or cancelled: jobs_finished, a
     * narrow index, as cheap to count as the old jobs_by_state) less the
     * ended ones. One statement, so one snapshot. */
    db_res *r = db_query(s, "counting jobs",
                         "SELECT 'queued', COUNT(*) FROM jobs WHERE state = 'queued'"
                         " UNION ALL SELECT state, COUNT(*) FROM jobs WHERE " SQL_LEASED_JOB
                         " GROUP BY state"
                         " UNION ALL SELECT 'finished', COUNT(*)"
                         " FROM jobs {{sqlite INDEXED BY jobs_finished}}"
                         " WHERE finished_at IS NOT NULL"
                         " UNION ALL SELECT state, COUNT(*) FROM jobs WHERE " SQL_ENDED_JOB
                         " GROUP BY state",
                         DB_NOARGS, err);
    if (!r)
        return PYTI_ERR_IO;
    long long finished = 0;
    for (int i = 0; i < r->nrows; i++) {
        int st = store_job_state_parse(db_get(r, i, 0));
        if (st >= 0)
            m->jobs[st] = db_get_int(r, i, 1);
        else if (strcmp(db_get(r, i, 0), "finished") == 0)
            finished = db_get_int(r, i, 1);
    }
    m->jobs[STORE_JOB_DONE] =
        finished - m->jobs[STORE_JOB_FAILED] - m->jobs[STORE_JOB_CANCELLED];
    db_res_free(r);
    r = db_query(s, "counting workers", "SELECT state, COUNT(*) FROM workers GROUP BY state",
                 DB_NOARGS, err);
    if (!r)
        return PYTI_ERR_IO;
    for (int i = 0; i < r->nrows; i++) {
        const char *st = db_get(r, i, 0);
        long long n = db_get_int(r, i, 1);
        if (strcmp(st, "idle") == 0)
            m->workers_idle = n;
        else if (strcmp(st, "busy") == 0)
            m->workers_busy = n;
        else if (strcmp(st, "draining") == 0)
            m->workers_draining = n;
        else
            m->workers_gone = n;
    }
    db_res_free(r);
    r = db_query(s, "counting failed jobs",
                 "SELECT COUNT(*) FROM jobs WHERE finished_at >= pyti_now_ms() - $1"
                 " AND state = 'failed'",
                 DB_ARGS(db_int(window_ms)), err);
    if (!r)
        return PYTI_ERR_IO;
    m->failed_recent = db_get_int(r, 0, 0);
    db_res_free(r);
    r = db_query(s, "measuring durations",
                 "SELECT duration_ms FROM jobs WHERE finished_at >= pyti_now_ms() - $1"
                 " AND state = 'done' AND duration_ms IS NOT NULL ORDER BY duration_ms",
                 DB_ARGS(db_int(window_ms)), err);
    if (!r)
        return PYTI_ERR_IO;
    m->done_recent = r->nrows;
    for (int i = 0; i < r->nrows; i++)
        m->duration_sum_s += (double)db_get_int(r, i, 0) / 1000.0;
    m->duration_p50_s = percentile(r, 0.50);
    m->duration_p90_s = percentile(r, 0.90);
    m->duration_p99_s = percentile(r, 0.99);
    db_res_free(r);
    r = db_query(s, "measuring the queue's age",
                 "SELECT pyti_now_ms() - MIN(created_at) FROM jobs"
                 " WHERE state = 'queued' AND not_before <= pyti_now_ms()",
                 DB_NOARGS, err);
    if (!r)
        return PYTI_ERR_IO;
    m->oldest_queued_s = db_get(r, 0, 0) ? (double)db_get_int(r, 0, 0) / 1000.0 : 0;
    db_res_free(r);
    return PYTI_OK;
}
