/* store_jobs.c — the job queue (see queue.h and docs/store.md): submit
 * with de-duplication, the atomic claim with two-sided matching, leases and
 * heartbeats, results stored exactly once, infrastructure failures with
 * exponential backoff, reaping of expired leases, cancel and retry, job
 * listings. Written once for both backends.
 *
 * Invariants (checked by tests/unit/test_queue.c and test_chaos.c):
 *  - a job is leased to at most one attempt at a time: the attempt whose
 *    number equals jobs.attempts while state is leased or running;
 *  - a job has at most one result (jobs.report_id), set once, by the first
 *    report with a result whatever attempt sent it;
 *  - every attempt row ends at most once (ended_at set once);
 *  - at most one job per (sha256, recipe, python) is queued, leased or
 *    running (a unique partial index). */
#include "store/store_internal.h"
#include "common/buf.h"
#include "common/jsonutil.h"
#include "common/jsonwrite.h"
#include "common/str.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "exec/report.h"
#include "pkg/name.h"
#include "pkg/specifier.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[STORE_JOB_NSTATES] = {
    "queued", "leased", "running", "done", "failed", "cancelled",
};

const char *store_job_state_name(store_job_state st)
{
    return (unsigned)st < STORE_JOB_NSTATES ? state_names[st] : NULL;
}

int store_job_state_parse(const char *name)
{
    for (int i = 0; name && i < STORE_JOB_NSTATES; i++)
        if (strcmp(name, state_names[i]) == 0)
            return i;
    return -1;
}

const char *store_lease_state_name(store_lease_state st)
{
    static const char *const n[] = {"ok", "lost", "cancelled", "done"};
    return (unsigned)st < 4 ? n[st] : "?";
}

const char *store_result_name(store_result r)
{
    static const char *const n[] = {"stored", "duplicate", "cancelled",
                                    "retry",  "failed",    "ignored"};
    return (unsigned)r < 6 ? n[r] : "?";
}

void store_lease_clear(store_lease *lease)
{
    if (!lease)
        return;
    json_decref(lease->job);
    lease->job = NULL;
}

/* ---- validation ---- */

static bool is_sha256(const char *s)
{
    if (!s || strlen(s) != 64)
        return false;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* 1..max bytes, every one printable ASCII or UTF-8 (no controls). */
static bool is_text(const char *s, size_t max)
{
    if (!s || !*s)
        return false;
    size_t n = strlen(s);
    if (n > max || !str_valid_utf8(s, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

bool store_is_token(const char *s, size_t max, const char *extra)
{
    if (!s || !*s || strlen(s) > max)
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(extra, *p))
            return false;
    return true;
}

bool store_python_minor(const char *v, char *out, size_t size)
{
    if (!v)
        return false;
    unsigned major, minor;
    int n = 0;
    if (sscanf(v, "%3u.%3u%n", &major, &minor, &n) != 2 || !isdigit((unsigned char)v[0]))
        return false;
    const char *rest = v + n;
    if (*rest == '.') {
        rest++;
        if (!isdigit((unsigned char)*rest))
            return false;
        while (isdigit((unsigned char)*rest))
            rest++;
    }
    if (*rest)
        return false;
    snprintf(out, size, "%u.%u", major, minor);
    return true;
}

/* The CPython minor versions a Python requirement is matched against.
 * Matching works at minor granularity: a worker that advertises 3.9 is
 * taken to satisfy any 3.9.x the requirement admits (docs/store.md). */
static const char *const known_minors[] = {
    "2.7",  "3.0",  "3.1",  "3.2",  "3.3",  "3.4",  "3.5",  "3.6",  "3.7",  "3.8",  "3.9",
    "3.10", "3.11", "3.12", "3.13", "3.14", "3.15", "3.16", "3.17", "3.18", "3.19", "3.20",
};

/* Normalises a job's Python requirement into *norm (new string; "" for
 * any) and appends the minors it admits to minors. */
static pyti_status python_requirement(const char *in, char **norm, pyti_strv *minors,
                                      pyti_error *err)
{
    *norm = NULL;
    if (!in || str_blank(in) || strcmp(in, "any") == 0) {
        *norm = xstrdup("");
        return PYTI_OK;
    }
    if (strlen(in) > 256)
        return pyti_error_set(err, PYTI_ERR_USAGE, "job: python requirement longer than 256 bytes");
    char *text = xstrdup(in);
    str_trim(text);
    bool bare = isdigit((unsigned char)text[0]);
    for (const char *p = text; bare && *p; p++)
        bare = isdigit((unsigned char)*p) || *p == '.';
    char *spec_text = bare ? xasprintf("==%s.*", text) : xstrdup(text);
    free(text);
    pyti_error perr;
    pyti_specset *spec = specset_parse(spec_text, &perr);
    free(spec_text);
    if (!spec)
        return pyti_error_set(err, PYTI_ERR_USAGE, "job: python requirement '%s': %s", in,
                              perr.msg);
    for (size_t i = 0; i < sizeof known_minors / sizeof *known_minors; i++) {
        bool ok = specset_contains_str(spec, known_minors[i], -1);
        for (int patch = 0; !ok && patch <= 30; patch++) {
            char v[24];
            snprintf(v, sizeof v, "%s.%d", known_minors[i], patch);
            ok = specset_contains_str(spec, v, -1);
        }
        if (ok)
            strv_push(minors, known_minors[i]);
    }
    *norm = specset_to_string(spec);
    specset_free(spec);
    if (minors->len == 0) {
        pyti_status rc = pyti_error_set(err, PYTI_ERR_USAGE,
                                        "job: python requirement '%s' matches no Python version "
                                        "pyti knows (2.7, 3.0-3.20)", in);
        free(*norm);
        *norm = NULL;
        return rc;
    }
    return PYTI_OK;
}

pyti_status store_python_minors(const char *requirement, pyti_strv *minors, pyti_error *err)
{
    char *norm = NULL;
    if (!requirement || str_blank(requirement) || strcmp(requirement, "any") == 0) {
        for (size_t i = 0; i < sizeof known_minors / sizeof *known_minors; i++)
            strv_push(minors, known_minors[i]);
        return PYTI_OK;
    }
    pyti_status rc = python_requirement(requirement, &norm, minors, err);
    free(norm);
    return rc;
}

void store_job_spec_init(store_job_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->size = -1;
    spec->created_by = "api";
}

static pyti_status check_spec(const store_job_spec *j, pyti_error *err)
{
#define BAD(...) pyti_error_set(err, PYTI_ERR_USAGE, __VA_ARGS__)
    if (!j->name || !name_is_valid(j->name))
        return BAD("job: name '%s' is not a valid project name", j->name ? j->name : "");
    if (!is_text(j->version, 256))
        return BAD("job %s: version missing or not 1-256 printable bytes", j->name);
    if (!is_text(j->filename, 255) || strchr(j->filename, '/'))
        return BAD("job %s: filename missing, longer than 255 bytes or with a '/'", j->name);
    if (!is_sha256(j->sha256))
        return BAD("job %s: sha256 must be 64 lowercase hex digits", j->filename);
    if (!j->url && !j->path)
        return BAD("job %s: needs a url or a path to fetch the file from", j->filename);
    if ((j->url && !is_text(j->url, 4096)) || (j->path && !is_text(j->path, 4096)))
        return BAD("job %s: url or path empty or longer than 4096 bytes", j->filename);
    if (j->size < -1)
        return BAD("job %s: negative size", j->filename);
    if (j->recipe && !is_text(j->recipe, 256))
        return BAD("job %s: recipe not 1-256 printable bytes", j->filename);
    if (j->priority < -1000 || j->priority > 1000)
        return BAD("job %s: priority %d outside -1000..1000", j->filename, j->priority);
    static const char *const origins[] = {"feed", "upload", "api", "cli"};
    bool origin = false;
    for (int i = 0; i < 4 && j->created_by; i++)
        origin |= strcmp(j->created_by, origins[i]) == 0;
    if (!origin)
        return BAD("job %s: created_by must be feed, upload, api or cli", j->filename);
    if ((j->arch && !store_is_token(j->arch, 64, "_.-")) || (j->os && !store_is_token(j->os, 64, "_.-")))
        return BAD("job %s: arch and os are 1-64 of [A-Za-z0-9_.-]", j->filename);
    if (j->memory_mb < 0)
        return BAD("job %s: negative memory requirement", j->filename);
    if (j->max_attempts < 0 || j->max_attempts > 100)
        return BAD("job %s: max_attempts %d outside 0..100", j->filename, j->max_attempts);
    for (size_t i = 0; j->tags && i < j->tags->len; i++)
        if (!store_is_token(j->tags->items[i], 64, "_.:-"))
            return BAD("job %s: tag '%s' is not 1-64 of [A-Za-z0-9_.:-]", j->filename,
                       j->tags->items[i]);
    for (size_t i = 0; j->pythons && i < j->pythons->len; i++) {
        char m[16];
        if (!store_python_minor(j->pythons->items[i], m, sizeof m))
            return BAD("job %s: python '%s' is not a version like 3.11", j->filename,
                       j->pythons->items[i]);
    }
    return PYTI_OK;
#undef BAD
}

/* ---- job rows ---- */

#define JOB_COLUMNS                                                                          \
    "id, state, project, name, version, filename, url, path, sha256, size, recipe, python,"  \
    " priority, created_by, requirements, attempts, failures, max_attempts, not_before,"      \
    " worker_id, lease_expires, report_id, error, created_at, updated_at, finished_at,"       \
    " duration_ms"

static json_t *job_from_row(const db_res *r, int i)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(db_get_int(r, i, 0)));
    static const char *const text1[] = {"state", "project", "name", "version",
                                        "filename", "url", "path", "sha256"};
    for (int c = 0; c < 8; c++)
        json_set_text(o, text1[c], db_get(r, i, 1 + c));
    json_object_set_new(o, "size", db_get(r, i, 9) ? json_integer(db_get_int(r, i, 9)) : json_null());
    json_set_text(o, "recipe", db_get(r, i, 10));
    json_set_text(o, "python", db_get(r, i, 11));
    json_object_set_new(o, "priority", json_integer(db_get_int(r, i, 12)));
    json_set_text(o, "created_by", db_get(r, i, 13));
    json_t *req = db_get(r, i, 14) ? json_loads(db_get(r, i, 14), 0, NULL) : NULL;
    json_object_set_new(o, "requirements", req ? req : json_object());
    json_object_set_new(o, "attempts", json_integer(db_get_int(r, i, 15)));
    json_object_set_new(o, "failures", json_integer(db_get_int(r, i, 16)));
    json_object_set_new(o, "max_attempts", json_integer(db_get_int(r, i, 17)));
    json_object_set_new(o, "not_before", store_json_time(db_get(r, i, 18)));
    json_set_text(o, "worker", db_get(r, i, 19));
    json_object_set_new(o, "lease_expires", store_json_time(db_get(r, i, 20)));
    json_set_text(o, "report_id", db_get(r, i, 21));
    json_set_text(o, "error", db_get(r, i, 22));
    json_object_set_new(o, "created", store_json_time(db_get(r, i, 23)));
    json_object_set_new(o, "updated", store_json_time(db_get(r, i, 24)));
    json_object_set_new(o, "finished", store_json_time(db_get(r, i, 25)));
    json_object_set_new(o, "duration_s", db_get(r, i, 26)
                                             ? json_real((double)db_get_int(r, i, 26) / 1000.0)
                                             : json_null());
    return o;
}

/* The facts of a job the result and failure paths decide on, read with
 * the row locked (FOR UPDATE on PostgreSQL; SQLite's transaction holds
 * the write lock already). */
typedef struct job_row {
    long long id;
    int state;
    int attempts;
    int failures;
    int max_attempts;
    char *sha256;
    char *report_id;
    char *worker;
    long long release_id;
    long long file_id;
} job_row;

static void job_row_free(job_row *j)
{
    free(j->sha256);
    free(j->report_id);
    free(j->worker);
    memset(j, 0, sizeof *j);
}

/* PYTI_ERR_NOTFOUND if the job does not exist. */
static pyti_status lock_job(pyti_store *s, long long job_id, job_row *j, pyti_error *err)
{
    memset(j, 0, sizeof *j);
    db_res *r = db_query(s, "reading the job",
                         "SELECT state, attempts, failures, max_attempts, sha256, report_id,"
                         " worker_id, release_id, file_id FROM jobs WHERE id = $1"
                         " {{pg FOR UPDATE}}",
                         DB_ARGS(db_int(job_id)), err);
    if (!r)
        return PYTI_ERR_IO;
    if (r->nrows == 0) {
        db_res_free(r);
        return pyti_error_set(err, PYTI_ERR_NOTFOUND, "no job %lld in %s", job_id, s->location);
    }
    j->id = job_id;
    j->state = store_job_state_parse(db_get(r, 0, 0));
    j->attempts = (int)db_get_int(r, 0, 1);
    j->failures = (int)db_get_int(r, 0, 2);
    j->max_attempts = (int)db_get_int(r, 0, 3);
    j->sha256 = xstrdup(db_get(r, 0, 4));
    j->report_id = db_get(r, 0, 5) ? xstrdup(db_get(r, 0, 5)) : NULL;
    j->worker = db_get(r, 0, 6) ? xstrdup(db_get(r, 0, 6)) : NULL;
    j->release_id = db_get_int(r, 0, 7);
    j->file_id = db_get_int(r, 0, 8);
    db_res_free(r);
    return PYTI_OK;
}

static bool holds(const job_row *j, int attempt)
{
    return (j->state == STORE_JOB_LEASED || j->state == STORE_JOB_RUNNING) &&
           j->attempts == attempt;
}

static pyti_status no_attempt(pyti_store *s, long long job_id, int attempt, pyti_error *err)
{
    return pyti_error_set(err, PYTI_ERR_NOTFOUND, "job %lld has no attempt %d in %s", job_id,
                          attempt, s->location);
}

/* ---- submit ---- */

static void set_requirements(json_t *req, const char *key, const pyti_strv *v, bool minors)
{
    pyti_strv sorted = PYTI_STRV_INIT;
    for (size_t i = 0; v && i < v->len; i++) {
        char m[16];
        if (minors && store_python_minor(v->items[i], m, sizeof m))
            strv_push_unique(&sorted, m);
        else if (!minors)
            strv_push_unique(&sorted, v->items[i]);
    }
    strv_sort(&sorted);
    json_t *arr = json_array();
    for (size_t i = 0; i < sorted.len; i++)
        json_array_append_new(arr, json_string(sorted.items[i]));
    json_object_set_new(req, key, arr);
    strv_free(&sorted);
}

static pyti_status insert_needs(pyti_store *s, long long job_id, const char *kind,
                                const pyti_strv *values, bool minors, pyti_error *err)
{
    for (size_t i = 0; values && i < values->len; i++) {
        char m[16];
        const char *v = values->items[i];
        if (minors && store_python_minor(v, m, sizeof m))
            v = m;
        if (db_exec(s, "storing the job's requirements",
                    "INSERT INTO job_needs (job_id, kind, value) VALUES ($1, $2, $3)"
                    " ON CONFLICT DO NOTHING",
                    DB_ARGS(db_int(job_id), db_text(kind), db_text(v)), NULL, err) != PYTI_OK)
            return PYTI_ERR_IO;
    }
    return PYTI_OK;
}

/* The job that absorbs a submit: the active one, else (unless retest) the
 * newest done one. 0 if none. Two queries, each on its partial index. */
static long long find_same(pyti_store *s, const char *sha256, const char *recipe,
                           const char *python, bool with_done, pyti_error *err)
{
    db_res *r = db_query(s, "looking for the same job",
                         "SELECT id FROM jobs WHERE sha256 = $1 AND recipe = $2 AND python = $3"
                         " AND " SQL_ACTIVE_JOB,
                         DB_ARGS(db_text(sha256), db_text(recipe), db_text(python)), err);
    if (!r)
        return -1;
    long long id = r->nrows ? db_get_int(r, 0, 0) : 0;
    db_res_free(r);
    if (id || !with_done)
        return id;
    r = db_query(s, "looking for the same job",
                 "SELECT id FROM jobs WHERE sha256 = $1 AND recipe = $2 AND python = $3"
                 " AND state = 'done' ORDER BY id DESC LIMIT 1",
                 DB_ARGS(db_text(sha256), db_text(recipe), db_text(python)), err);
    if (!r)
        return -1;
    id = r->nrows ? db_get_int(r, 0, 0) : 0;
    db_res_free(r);
    return id;
}

pyti_status store_job_submit(pyti_store *s, const store_job_spec *spec, long long *job_id,
                             bool *created, pyti_error *err)
{
    if (check_spec(spec, err) != PYTI_OK)
        return PYTI_ERR_USAGE;
    char *python = NULL;
    pyti_strv minors = PYTI_STRV_INIT;
    if (python_requirement(spec->python, &python, &minors, err) != PYTI_OK) {
        strv_free(&minors);
        return PYTI_ERR_USAGE;
    }
    const char *recipe = spec->recipe ? spec->recipe : "default";
    char *project = name_normalize(spec->name);
    json_t *req = json_object();
    json_set_text(req, "arch", spec->arch);
    json_set_text(req, "os", spec->os);
    json_object_set_new(req, "memory_mb", spec->memory_mb ? json_integer(spec->memory_mb)
                                                          : json_null());
    set_requirements(req, "pythons", spec->pythons, true);
    set_requirements(req, "tags", spec->tags, false);
    char *req_text = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
    /* How many job_needs rows must all be met (distinct pythons and tags). */
    int req_all = (int)(json_array_size(json_object_get(req, "pythons")) +
                        json_array_size(json_object_get(req, "tags")));
    json_decref(req);
    int max_attempts = spec->max_attempts ? spec->max_attempts : s->qopt.max_attempts;
    const char *kind = str_endswith(spec->filename, ".whl") ? "wheel" : "sdist";

    long long id = 0;
    bool made = false;
    pyti_status rc = db_begin(s, err);
    if (rc != PYTI_OK)
        goto out;
    long long rid = 0, fid = 0;
    rc = catalog_file(s, project, spec->name, spec->version, spec->filename, spec->sha256,
                      spec->size, spec->url, spec->path, kind, &rid, &fid, err);
    if (rc != PYTI_OK)
        goto fail;
    id = find_same(s, spec->sha256, recipe, python, !spec->retest, err);
    if (id < 0) {
        rc = PYTI_ERR_IO;
        goto fail;
    }
    if (id == 0) {
        db_res *r = db_query(
            s, "submitting the job",
            "INSERT INTO jobs (file_id, release_id, project, name, version, filename, url, path,"
            " sha256, size, recipe, python, priority, created_by, req_arch, req_os,"
            " req_memory_mb, req_all, req_python_any, requirements, state, attempts, failures,"
            " max_attempts, not_before, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,"
            " $18, $19, $20, 'queued', 0, 0, $21, pyti_now_ms(), pyti_now_ms(), pyti_now_ms())"
            " ON CONFLICT DO NOTHING RETURNING id",
            DB_ARGS(db_int(fid), db_int(rid), db_text(project), db_text(spec->name),
                    db_text(spec->version), db_text(spec->filename), db_text(spec->url),
                    db_text(spec->path), db_text(spec->sha256), db_int_or_null(spec->size),
                    db_text(recipe), db_text(python), db_int(spec->priority),
                    db_text(spec->created_by), db_text(spec->arch), db_text(spec->os),
                    spec->memory_mb ? db_int(spec->memory_mb) : db_null(), db_int(req_all),
                    db_int(minors.len ? 1 : 0), db_text(req_text), db_int(max_attempts)),
            err);
        if (!r) {
            rc = PYTI_ERR_IO;
            goto fail;
        }
        id = r->nrows ? db_get_int(r, 0, 0) : 0;
        db_res_free(r);
        if (id > 0) {
            made = true;
            if (insert_needs(s, id, "python", spec->pythons, true, err) != PYTI_OK ||
                insert_needs(s, id, "tag", spec->tags, false, err) != PYTI_OK ||
                insert_needs(s, id, "python-any", &minors, false, err) != PYTI_OK) {
                rc = PYTI_ERR_IO;
                goto fail;
            }
        } else {
            /* Another master submitted the same job between our look and
             * our insert (PostgreSQL); it is the one. */
            id = find_same(s, spec->sha256, recipe, python, false, err);
            if (id <= 0) {
                rc = id < 0 ? PYTI_ERR_IO
                            : pyti_error_set(err, PYTI_ERR_INTERNAL,
                                             "store %s: submitting %s: conflicting job vanished",
                                             s->location, spec->filename);
                goto fail;
            }
        }
    }
    if (!made &&
        db_exec(s, "raising the job's priority",
                "UPDATE jobs SET priority = $2, updated_at = pyti_now_ms()"
                " WHERE id = $1 AND state = 'queued' AND priority < $2",
                DB_ARGS(db_int(id), db_int(spec->priority)), NULL, err) != PYTI_OK) {
        rc = PYTI_ERR_IO;
        goto fail;
    }
    rc = db_commit(s, err);
    if (rc == PYTI_OK) {
        if (job_id)
            *job_id = id;
        if (created)
            *created = made;
    }
    goto out;
fail:
    db_rollback(s);
out:
    free(req_text);
    free(project);
    free(python);
    strv_free(&minors);
    return rc;
}

/* ---- claim ---- */

/* The queued, due jobs worker $1 can run and accepts, best first, at most
 * LIMIT of them, locked (PostgreSQL: skipping those other claimers are
 * taking). The whole match from both sides is here, so no worker leases a
 * job it cannot run. The job's needs and the worker's policies live in
 * job_needs and worker_caps (CLAIM_FITS); most jobs have none and most
 * workers take every recipe and project, and then neither table is read.
 * PostgreSQL reads the worker's row once and walks the queue in a LATERAL
 * subquery with its columns as parameters: joined the other way (the
 * queue's walk outside, as on SQLite), every job the walk looked at —
 * with eight claimers several per claim, taken by the others — looked up
 * the worker's row again (2.9% of the server's instructions per job;
 * bench/README.md, "The worker's row read once"). ?1 in SQLite's block:
 * a block's text is passed as it is, so $1 would not be renumbered. */
#define CLAIM_CANDIDATES(LIMIT)                                                                   \
    "{{pg SELECT q.id FROM workers w CROSS JOIN LATERAL (}}"                                    \
    "SELECT j.id FROM jobs j {{sqlite INDEXED BY jobs_queue JOIN workers w ON w.id = ?1}}"      \
    " WHERE j.state = 'queued' AND j.not_before <= pyti_now_ms()"                               \
    "  {{sqlite AND w.state <> 'draining'}}"                                                    \
    "  AND (j.req_arch IS NULL OR j.req_arch = w.arch)"                                         \
    "  AND (j.req_os IS NULL OR j.req_os = w.os)"                                               \
    "  AND (j.req_memory_mb IS NULL OR j.req_memory_mb <= w.memory_mb)"                         \
    "  AND (w.max_dist_size IS NULL"                                                            \
    "    OR (j.size IS NOT NULL AND j.size <= w.max_dist_size))"                                \
    "  AND " CLAIM_FITS                                                                         \
    " ORDER BY j.priority DESC, j.id LIMIT" LIMIT "{{pg FOR UPDATE OF j SKIP LOCKED}}"         \
    "{{pg ) q WHERE w.id = $1 AND w.state <> 'draining'}}"

/* Whether job j's needs (every python/tag need among the worker's
 * capabilities, one python-any need among its Pythons) and worker w's
 * policies (only some recipes, only some projects) let w take j.
 * PostgreSQL: the function pyti_claim_fits (migration 8) holds the same
 * subqueries, called only for a job with needs or a worker with policies:
 * written out here, every claim set up their six index scans of
 * job_needs and worker_caps (opening both tables and their indexes) even
 * when none ran, and with eight claimers that cost the server 11-18% of its
 * CPU per job (bench/README.md, run-queue, migration 8).
 * SQLite, which sets up nothing it does not run: the subqueries. */
#define CLAIM_FITS                                                                                \
    "{{pg ((j.req_all = 0 AND j.req_python_any = 0 AND w.recipe_policy = 0"                      \
    "   AND w.project_policy = 0)"                                                              \
    "  OR pyti_claim_fits(j.id, w.id, j.recipe, j.project, j.req_all, j.req_python_any,"        \
    "   w.recipe_policy, w.project_policy))}}"                                                  \
    "{{sqlite (j.req_all = 0 OR NOT EXISTS (SELECT 1 FROM job_needs n"                          \
    "    WHERE n.job_id = j.id AND (n.kind = 'python' OR n.kind = 'tag') AND NOT EXISTS ("      \
    "      SELECT 1 FROM worker_caps c WHERE c.worker_id = w.id AND c.kind = n.kind"            \
    "       AND c.value = n.value)))"                                                           \
    "  AND (j.req_python_any = 0 OR EXISTS (SELECT 1 FROM job_needs n"                          \
    "    JOIN worker_caps c ON c.worker_id = w.id AND c.kind = 'python'"                        \
    "     AND c.value = n.value"                                                                \
    "    WHERE n.job_id = j.id AND n.kind = 'python-any'))"                                     \
    "  AND (w.recipe_policy = 0 OR EXISTS (SELECT 1 FROM worker_caps c"                         \
    "    WHERE c.worker_id = w.id AND c.kind = 'recipe' AND c.value = j.recipe))"               \
    "  AND (w.project_policy = 0 OR EXISTS (SELECT 1 FROM worker_caps c"                        \
    "    WHERE c.worker_id = w.id AND c.kind = 'project' AND c.value = j.project))}}"

/* Leases the jobs WHERE selects (the candidates, locked), returning
 * JOB_COLUMNS; $1 is the worker, $2 the lease in ms. */
#define CLAIM_UPDATE(WHERE)                                                                       \
    "UPDATE jobs SET state = 'leased', attempts = attempts + 1, worker_id = $1,"                  \
    " lease_expires = pyti_now_ms() + $2, updated_at = pyti_now_ms()"                             \
    " WHERE " WHERE " RETURNING " JOB_COLUMNS

/* The attempts of the jobs leased by CTE u (PostgreSQL). */
#define CLAIM_ATTEMPTS                                                                            \
    "INSERT INTO attempts (job_id, n, worker_id, leased_at)"                                      \
    " SELECT id, attempts, $1, pyti_now_ms() FROM u"

typedef struct claimed_row {
    long long priority;
    long long id;
    int row;
} claimed_row;

/* The claim's order: highest priority, then oldest. */
static int cmp_claimed(const void *a, const void *b)
{
    const claimed_row *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Checks a claim's arguments and readies its outputs: no leases yet
 * (*n 0, leases cleared), the handle's lease length for lease_ms <= 0. */
static pyti_status claim_args(pyti_store *s, const char *worker_id, size_t max,
                              store_lease *leases, size_t *n, long long *lease_ms,
                              pyti_error *err)
{
    *n = 0;
    if (!worker_id)
        return pyti_error_set(err, PYTI_ERR_USAGE, "claim: no worker id");
    if (max < 1 || max > STORE_CLAIM_MAX)
        return pyti_error_set(err, PYTI_ERR_USAGE, "claim: %zu jobs at once (1-%d)", max,
                              STORE_CLAIM_MAX);
    memset(leases, 0, max * sizeof *leases);
    if (*lease_ms <= 0)
        *lease_ms = s->qopt.lease_ms;
    return PYTI_OK;
}

/* Reaps expired leases if the handle's reap interval has passed. */
static pyti_status reap_if_due(pyti_store *s, pyti_error *err)
{
    if (s->qopt.reap_interval_ms <= 0)
        return PYTI_OK;
    double now = time_monotonic();
    if (s->last_reap != 0 && (now - s->last_reap) * 1000.0 < (double)s->qopt.reap_interval_ms)
        return PYTI_OK;
    s->last_reap = now;
    return store_reap_expired(s, NULL, NULL, err) == PYTI_OK ? PYTI_OK : PYTI_ERR_IO;
}

/* The claim of up to max jobs for worker_id as the open transaction's end:
 * its settings, the statement(s) and COMMIT. The leased rows (JOB_COLUMNS)
 * once committed; NULL with err if anything failed, the transaction
 * rolled back. durable: the transaction has written something that must
 * not be lost (a result), so it keeps synchronous_commit on. */
static db_res *claim_commit(pyti_store *s, const char *worker_id, long long lease_ms, size_t max,
                            bool durable, pyti_error *err)
{
    /* PostgreSQL: losing a claim in a server crash is harmless (the job
     * is still queued and the worker's first heartbeat says "lost"), so
     * the commit need not wait for the disk — unless it carries a result.
     * And the claim must walk jobs_queue in order and stop at the first
     * matches: a planner without statistics yet (a fresh store, a burst of
     * submits before autoanalyze) would rather read every queued job and
     * sort them — on every claim. Every access path of the claim is meant
     * to be an index lookup, so sorts, bitmap and sequential scans are off
     * for this transaction, whose plan (generic, kept) is made under
     * these settings. */
    static const char *const claim_settings[] = {
        "enable_sort", "off", "enable_bitmapscan", "off", "enable_seqscan", "off",
        "synchronous_commit", "off",
    };
    s->drv->set_local(s, claim_settings, durable ? 3 : 4);
    /* Either statement leases the candidates: one (a scalar subquery, run
     * once) or up to $3 (a MATERIALIZED CTE, run once, its ids looked up
     * by primary key). Both stay index lookups whatever the statistics:
     * written as "id IN (SELECT ... FOR UPDATE SKIP LOCKED)", PostgreSQL
     * plans made on an empty table ran the locking subquery again for
     * every queued job, or walked the whole queue to join it. The outer
     * WHERE has no "state = 'queued'": the candidates were checked and
     * locked (PostgreSQL re-checks a changed row before locking it; SQLite
     * holds the write lock), and with it a stats-less planner used the
     * partial index jobs_queue to find an id, reading the whole queue.
     *
     * On PostgreSQL the same statement also records the attempts (a
     * data-modifying CTE) and travels with the COMMIT: the whole claim is
     * one round trip. SQLite has no INSERT inside WITH: it records them
     * with one more statement (no round trips there). */
    bool in_statement = s->drv->dialect == DB_PG;
    db_res *(*run)(pyti_store *, const char *, const char *, int, const db_arg *, pyti_error *) =
        in_statement ? db_query_commit : db_query;
    db_res *r = max == 1
        ? run(s, "claiming a job",
              "{{pg WITH u AS (}}" CLAIM_UPDATE("id = (" CLAIM_CANDIDATES(" 1 ") ")")
                  "{{pg ), a AS (" CLAIM_ATTEMPTS ") SELECT * FROM u}}",
              DB_ARGS(db_text(worker_id), db_int(lease_ms)), err)
        : run(s, "claiming jobs",
              "WITH c AS MATERIALIZED (" CLAIM_CANDIDATES(" $3 ") ")"
              "{{pg , u AS (}}" CLAIM_UPDATE("{{pg id = ANY(ARRAY(SELECT id FROM c))}}"
                                            "{{sqlite id IN (SELECT id FROM c)}}")
                  "{{pg ), a AS (" CLAIM_ATTEMPTS ") SELECT * FROM u}}",
              DB_ARGS(db_text(worker_id), db_int(lease_ms), db_int((long long)max)), err);
    if (!r) {
        db_rollback(s); /* db_query; db_query_commit has rolled back */
        return NULL;
    }
    for (int i = 0; !in_statement && i < r->nrows; i++) {
        if (db_exec(s, "recording the attempt",
                    "INSERT INTO attempts (job_id, n, worker_id, leased_at)"
                    " VALUES ($1, $2, $3, pyti_now_ms())",
                    DB_ARGS(db_int(db_get_int(r, i, 0)), db_int(db_get_int(r, i, 15)),
                            db_text(worker_id)),
                    NULL, err) != PYTI_OK) {
            db_res_free(r);
            db_rollback(s);
            return NULL;
        }
    }
    if (!in_statement && db_commit(s, err) != PYTI_OK) {
        db_res_free(r);
        return NULL;
    }
    return r;
}

/* The leases of claim_commit's rows, best first (RETURNING follows no
 * order): *n of them into leases; frees r. */
static void take_leases(db_res *r, store_lease *leases, size_t *n)
{
    claimed_row *order = xcalloc((size_t)r->nrows ? (size_t)r->nrows : 1, sizeof *order);
    for (int i = 0; i < r->nrows; i++)
        order[i] = (claimed_row){db_get_int(r, i, 12), db_get_int(r, i, 0), i};
    qsort(order, (size_t)r->nrows, sizeof *order, cmp_claimed);
    for (int i = 0; i < r->nrows; i++) {
        int row = order[i].row;
        leases[i].job_id = db_get_int(r, row, 0);
        leases[i].attempt = (int)db_get_int(r, row, 15);
        leases[i].expires_ms = db_get_int(r, row, 20);
        leases[i].job = job_from_row(r, row);
    }
    *n = (size_t)r->nrows;
    free(order);
    db_res_free(r);
}

pyti_status store_job_claim_many(pyti_store *s, const char *worker_id, long long lease_ms,
                                 size_t max, store_lease *leases, size_t *n, pyti_error *err)
{
    pyti_status rc = claim_args(s, worker_id, max, leases, n, &lease_ms, err);
    if (rc != PYTI_OK)
        return rc;
    if (reap_if_due(s, err) != PYTI_OK || db_begin(s, err) != PYTI_OK)
        return PYTI_ERR_IO;
    db_res *r = claim_commit(s, worker_id, lease_ms, max, false, err);
    if (!r)
        return PYTI_ERR_IO;
    if (r->nrows == 0) {
        /* Nothing to claim; say so if the worker is unknown. */
        db_res_free(r);
        r = db_query(s, "claiming jobs", "SELECT state FROM workers WHERE id = $1",
                     DB_ARGS(db_text(worker_id)), err);
        if (!r)
            return PYTI_ERR_IO;
        bool known = r->nrows > 0;
        db_res_free(r);
        if (!known)
            return pyti_error_set(err, PYTI_ERR_NOTFOUND,
                                  "worker '%s' is not registered in %s", worker_id, s->location);
        return PYTI_OK;
    }
    take_leases(r, leases, n);
    return PYTI_OK;
}

pyti_status store_job_claim(pyti_store *s, const char *worker_id, long long lease_ms,
                            store_lease *lease, bool *claimed, pyti_error *err)
{
    size_t n = 0;
    *claimed = false;
    pyti_status rc = store_job_claim_many(s, worker_id, lease_ms, 1, lease, &n, err);
    if (rc == PYTI_OK)
        *claimed = n == 1;
    return rc;
}

/* ---- leases ---- */

/* Why an attempt does not hold its job (after the update found no row). */
static pyti_status lease_state_of(pyti_store *s, long long job_id, int attempt,
                                  store_lease_state *state, pyti_error *err)
{
    db_res *r = db_query(s, "checking the lease", "SELECT state, attempts FROM jobs WHERE id = $1",
                         DB_ARGS(db_int(job_id)), err);
    if (!r)
        return PYTI_ERR_IO;
    if (r->nrows == 0) {
        db_res_free(r);
        return pyti_error_set(err, PYTI_ERR_NOTFOUND, "no job %lld in %s", job_id, s->location);
    }
    int st = store_job_state_parse(db_get(r, 0, 0));
    int attempts = (int)db_get_int(r, 0, 1);
    db_res_free(r);
    if (attempt < 1 || attempt > attempts)
        return no_attempt(s, job_id, attempt, err);
    *state = st == STORE_JOB_DONE        ? STORE_LEASE_DONE
             : st == STORE_JOB_CANCELLED ? STORE_LEASE_CANCELLED
                                         : STORE_LEASE_LOST;
    return PYTI_OK;
}

pyti_status store_job_heartbeat(pyti_store *s, long long job_id, int attempt, long long lease_ms,
                                store_lease_state *state, pyti_error *err)
{
    if (lease_ms <= 0)
        lease_ms = s->qopt.lease_ms;
    long long changes = 0;
    if (db_exec(s, "extending the lease",
                "UPDATE jobs SET lease_expires = pyti_now_ms() + $3, updated_at = pyti_now_ms()"
                " WHERE id = $1 AND attempts = $2 AND state IN ('leased', 'running')",
                DB_ARGS(db_int(job_id), db_int(attempt), db_int(lease_ms)), &changes,
                err) != PYTI_OK)
        return PYTI_ERR_IO;
    if (changes == 1) {
        *state = STORE_LEASE_OK;
        return PYTI_OK;
    }
    return lease_state_of(s, job_id, attempt, state, err);
}

pyti_status store_job_start(pyti_store *s, long long job_id, int attempt, long long lease_ms,
                            store_lease_state *state, pyti_error *err)
{
    if (lease_ms <= 0)
        lease_ms = s->qopt.lease_ms;
    if (db_begin(s, err) != PYTI_OK)
        return PYTI_ERR_IO;
    long long changes = 0;
    pyti_status rc = db_exec(s, "starting the job",
                             "UPDATE jobs SET state = 'running', lease_expires = pyti_now_ms() + $3,"
                             " updated_at = pyti_now_ms()"
                             " WHERE id = $1 AND attempts = $2 AND state IN ('leased', 'running')",
                             DB_ARGS(db_int(job_id), db_int(attempt), db_int(lease_ms)), &changes,
                             err);
    if (rc == PYTI_OK && changes == 1) {
        *state = STORE_LEASE_OK;
        rc = db_exec(s, "starting the job",
                     "UPDATE attempts SET started_at = pyti_now_ms()"
                     " WHERE job_id = $1 AND n = $2 AND started_at IS NULL",
                     DB_ARGS(db_int(job_id), db_int(attempt)), NULL, err);
    } else if (rc == PYTI_OK) {
        rc = lease_state_of(s, job_id, attempt, state, err);
    }
    if (rc != PYTI_OK) {
        db_rollback(s);
        return rc;
    }
    return db_commit(s, err);
}

/* ---- failures and backoff ---- */

/* The delay before the next attempt after the n-th failure in a row:
 * base, 2 base, 4 base, ... capped. */
static long long backoff_ms(const store_queue_options *o, int failures)
{
    int shift = failures - 1;
    if (shift < 0)
        shift = 0;
    if (shift > 40 || o->backoff_base_ms > (o->backoff_max_ms >> shift))
        return o->backoff_max_ms;
    long long d = o->backoff_base_ms << shift;
    return d < o->backoff_max_ms ? d : o->backoff_max_ms;
}

/* Ends the attempt (if still open) with outcome and message. */
static pyti_status end_attempt(pyti_store *s, long long job_id, int attempt, const char *outcome,
                               const char *message, const char *report_id, pyti_error *err)
{
    return db_exec(s, "ending the attempt",
                   "UPDATE attempts SET ended_at = pyti_now_ms(), outcome = $3, error = $4,"
                   " report_id = COALESCE(report_id, $5)"
                   " WHERE job_id = $1 AND n = $2 AND ended_at IS NULL",
                   DB_ARGS(db_int(job_id), db_int(attempt), db_text(outcome), db_text(message),
                           db_text(report_id)),
                   NULL, err);
}

/* An attempt ended without a result (outcome "error", "expired" or
 * "failed"). Inside the caller's transaction, with j locked. */
static pyti_status attempt_failed(pyti_store *s, const job_row *j, int attempt, bool retryable,
                                  const char *outcome, const char *message,
                                  const char *report_id, store_result *result, pyti_error *err)
{
    if (!holds(j, attempt)) {
        *result = j->state == STORE_JOB_DONE        ? STORE_RESULT_DUPLICATE
                  : j->state == STORE_JOB_CANCELLED ? STORE_RESULT_CANCELLED
                                                    : STORE_RESULT_IGNORED;
        return end_attempt(s, j->id, attempt, outcome, message, report_id, err);
    }
    int failures = j->failures + 1;
    pyti_status rc;
    if (retryable && failures < j->max_attempts) {
        *result = STORE_RESULT_RETRY;
        rc = db_exec(s, "requeueing the job",
                     "UPDATE jobs SET state = 'queued', failures = $2,"
                     " not_before = pyti_now_ms() + $3, worker_id = NULL, lease_expires = NULL,"
                     " error = $4, updated_at = pyti_now_ms() WHERE id = $1",
                     DB_ARGS(db_int(j->id), db_int(failures),
                             db_int(backoff_ms(&s->qopt, failures)), db_text(message)),
                     NULL, err);
    } else {
        *result = STORE_RESULT_FAILED;
        rc = db_exec(s, "failing the job",
                     "UPDATE jobs SET state = 'failed', failures = $2, worker_id = NULL,"
                     " lease_expires = NULL, error = $3, updated_at = pyti_now_ms(),"
                     " finished_at = pyti_now_ms() WHERE id = $1",
                     DB_ARGS(db_int(j->id), db_int(failures), db_text(message)), NULL, err);
    }
    if (rc != PYTI_OK)
        return rc;
    return end_attempt(s, j->id, attempt, outcome, message, report_id, err);
}

pyti_status store_job_fail(pyti_store *s, long long job_id, int attempt, bool retryable,
                           const char *message, store_result *result, pyti_error *err)
{
    if (db_begin(s, err) != PYTI_OK)
        return PYTI_ERR_IO;
    job_row j;
    pyti_status rc = lock_job(s, job_id, &j, err);
    if (rc == PYTI_OK && (attempt < 1 || attempt > j.attempts))
        rc = no_attempt(s, job_id, attempt, err);
    if (rc == PYTI_OK)
        rc = attempt_failed(s, &j, attempt, retryable, retryable ? "error" : "failed", message,
                            NULL, result, err);
    job_row_free(&j);
    if (rc != PYTI_OK) {
        db_rollback(s);
        return rc;
    }
    return db_commit(s, err);
}

/* ---- results ---- */

/* fresh: see catalog_put_report (store_job_complete says why). */
static pyti_status complete_locked(pyti_store *s, const job_row *j, int attempt,
                                   const json_t *report, bool fresh, store_result *result,
                                   pyti_error *err)
{
    const char *rid = json_get_str(report, "id");
    const char *outcome = json_get_str(report, "outcome");
    if (j->state == STORE_JOB_DONE) {
        /* First result wins; this one is acknowledged and dropped. */
        *result = STORE_RESULT_DUPLICATE;
        return end_attempt(s, j->id, attempt, "late", "the job already had its result", NULL,
                           err);
    }
    if (j->state == STORE_JOB_CANCELLED) {
        *result = STORE_RESULT_CANCELLED;
        return end_attempt(s, j->id, attempt, "cancelled", "the job was cancelled", NULL, err);
    }
    bool inserted = false;
    pyti_status rc = catalog_put_report(s, report, j->id, attempt, j->release_id, j->file_id,
                                        fresh, &inserted, err);
    if (rc != PYTI_OK)
        return rc;
    if (!inserted) {
        /* The id is taken: by this job (a repeat of an error report), or by
         * a report of something else, which a worker must not claim. */
        db_res *r = db_query(s, "checking the report", "SELECT job_id FROM reports WHERE id = $1",
                             DB_ARGS(db_text(rid)), err);
        if (!r)
            return PYTI_ERR_IO;
        bool ours = r->nrows && db_get_int(r, 0, 0) == j->id;
        db_res_free(r);
        if (!ours)
            return pyti_error_set(err, PYTI_ERR_INPUT,
                                  "job %lld: report %s is already stored for something else",
                                  j->id, rid);
    }
    if (strcmp(outcome, "error") == 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "report %s: outcome error (pyti's or the infrastructure's)",
                 rid);
        return attempt_failed(s, j, attempt, true, "error", msg, rid, result, err);
    }
    *result = STORE_RESULT_STORED;
    /* The winning attempt is "done" even if the reaper had ended it as
     * expired: it did the work; the note says its lease had lapsed. On
     * PostgreSQL the attempt's update is a data-modifying CTE of the job's
     * (one statement, and the attempt's leased_at comes from its RETURNING
     * instead of a second lookup); SQLite has no DML inside WITH. */
#define END_WINNING_ATTEMPT                                                                       \
    "UPDATE attempts SET ended_at = pyti_now_ms(), report_id = $2,"                               \
    " error = CASE WHEN outcome IS NULL THEN NULL"                                                \
    "   ELSE 'result arrived after the attempt had ended: ' || outcome END,"                      \
    " outcome = 'done'"                                                                           \
    " WHERE job_id = $1 AND n = $3"
#define JOB_DONE(LEASED_AT)                                                                       \
    "UPDATE jobs SET state = 'done', report_id = $2, worker_id = NULL,"                           \
    " lease_expires = NULL, error = NULL, updated_at = pyti_now_ms(),"                            \
    " finished_at = pyti_now_ms(), duration_ms = pyti_now_ms() - (" LEASED_AT ")"                 \
    " WHERE id = $1"
    if (s->drv->dialect == DB_PG) {
        rc = db_exec(s, "storing the result",
                     "WITH a AS (" END_WINNING_ATTEMPT " RETURNING leased_at) "
                     JOB_DONE("SELECT leased_at FROM a"),
                     DB_ARGS(db_int(j->id), db_text(rid), db_int(attempt)), NULL, err);
    } else {
        rc = db_exec(s, "storing the result",
                     JOB_DONE("SELECT leased_at FROM attempts WHERE job_id = $1 AND n = $3"),
                     DB_ARGS(db_int(j->id), db_text(rid), db_int(attempt)), NULL, err);
        if (rc == PYTI_OK)
            rc = db_exec(s, "ending the attempt", END_WINNING_ATTEMPT,
                         DB_ARGS(db_int(j->id), db_text(rid), db_int(attempt)), NULL, err);
    }
#undef JOB_DONE
#undef END_WINNING_ATTEMPT
    /* A stale attempt won: the attempt holding the lease now has nothing
     * left to do. */
    if (rc == PYTI_OK && (j->state == STORE_JOB_LEASED || j->state == STORE_JOB_RUNNING) &&
        j->attempts != attempt)
        rc = end_attempt(s, j->id, j->attempts, "superseded",
                         "an earlier attempt stored the result first", NULL, err);
    return rc;
}

static pyti_status complete_once(pyti_store *s, long long job_id, int attempt,
                                 const json_t *report, const char *sha, bool fresh,
                                 store_result *result, pyti_error *err)
{
    if (db_begin(s, err) != PYTI_OK)
        return PYTI_ERR_IO;
    job_row j;
    pyti_status rc = lock_job(s, job_id, &j, err);
    if (rc == PYTI_OK && (attempt < 1 || attempt > j.attempts))
        rc = no_attempt(s, job_id, attempt, err);
    if (rc == PYTI_OK && (!sha || strcmp(sha, j.sha256) != 0))
        rc = pyti_error_set(err, PYTI_ERR_INPUT,
                            "job %lld: the report is of file sha256 %s, the job's is %s", job_id,
                            sha ? sha : "(none)", j.sha256);
    if (rc == PYTI_OK)
        rc = complete_locked(s, &j, attempt, report, fresh, result, err);
    job_row_free(&j);
    if (rc != PYTI_OK) {
        db_rollback(s);
        return rc;
    }
    return db_commit(s, err);
}

pyti_status store_job_complete(pyti_store *s, long long job_id, int attempt, const json_t *report,
                               store_result *result, pyti_error *err)
{
    if (report_validate(report, err) != PYTI_OK)
        return PYTI_ERR_INPUT;
    const char *sha = json_get_str(json_object_get(report, "distribution"), "sha256");
    /* Almost always the report is new: it is then inserted as such, and
     * everything after reading the locked job row goes to PostgreSQL with
     * the COMMIT in one batch — two round trips instead of three. A report
     * id already stored (a repeated call, or a report of something else)
     * fails that transaction, which is rolled back (nothing of it
     * committed: the error stops the batch before its COMMIT) and done
     * again the careful way. */
    pyti_status rc = PYTI_OK;
    bool stored = false;
    /* On PostgreSQL the common case — a report of the attempt holding the
     * lease, not an error report — is one round trip: BEGIN, one statement
     * (store_catalog.c, STORE_JOB_RESULT) that does the locked read and
     * all of the careful path's writes for that case, and COMMIT, in one
     * batch. Whatever else it finds, it writes nothing and says so, and
     * the job is decided below as on SQLite. */
    const char *outcome = json_get_str(report, "outcome");
    if (s->drv->dialect == DB_PG && sha && outcome && strcmp(outcome, "error") != 0) {
        rc = db_begin(s, err);
        if (rc == PYTI_OK)
            rc = catalog_put_job_result(s, report, job_id, attempt, sha, &stored, err);
        if (rc == PYTI_OK && stored) {
            *result = STORE_RESULT_STORED;
            return PYTI_OK;
        }
        if (rc == PYTI_ERR_IO && s->last_fail == DB_FAIL_CONSTRAINT)
            /* The report id is taken: decided the careful way. */
            return complete_once(s, job_id, attempt, report, sha, false, result, err);
        if (rc != PYTI_OK)
            return rc;
    }
    rc = complete_once(s, job_id, attempt, report, sha, true, result, err);
    if (rc == PYTI_ERR_IO && s->last_fail == DB_FAIL_CONSTRAINT)
        rc = complete_once(s, job_id, attempt, report, sha, false, result, err);
    return rc;
}

pyti_status store_job_complete_claim(pyti_store *s, long long job_id, int attempt,
                                     const json_t *report, store_result *result,
                                     const char *worker_id, long long lease_ms, size_t max,
                                     store_lease *leases, size_t *n, pyti_error *err)
{
    pyti_status rc = claim_args(s, worker_id, max, leases, n, &lease_ms, err);
    if (rc != PYTI_OK)
        return rc;
    if (report_validate(report, err) != PYTI_OK)
        return PYTI_ERR_INPUT;
    const char *sha = json_get_str(json_object_get(report, "distribution"), "sha256");
    const char *outcome = json_get_str(report, "outcome");
    /* PostgreSQL, the common case (as store_job_complete's): BEGIN, the
     * result's statement, the claim's settings and statement, COMMIT — one
     * round trip and one transaction for what were two of each, committed
     * durably for the result's sake. */
    if (s->drv->dialect == DB_PG && sha && outcome && strcmp(outcome, "error") != 0) {
        if (reap_if_due(s, err) != PYTI_OK || db_begin(s, err) != PYTI_OK)
            return PYTI_ERR_IO;
        db_res *r = NULL;
        rc = catalog_send_job_result(s, report, job_id, attempt, sha, err);
        if (rc == PYTI_OK && !(r = claim_commit(s, worker_id, lease_ms, max, true, err)))
            rc = PYTI_ERR_IO;
        db_res *kept = db_take_kept(s);
        bool stored = catalog_job_result_stored(kept);
        db_res_free(kept);
        if (r) {
            take_leases(r, leases, n);
            if (stored) {
                *result = STORE_RESULT_STORED;
                return PYTI_OK;
            }
            /* The claim is committed; the result was something else (a
             * repeat, a late attempt, ...): decided the careful way. Should
             * that fail, the leases just taken are not handed out and
             * expire like any lease whose worker went silent. */
            rc = store_job_complete(s, job_id, attempt, report, result, err);
            if (rc != PYTI_OK) {
                for (size_t i = 0; i < *n; i++)
                    store_lease_clear(&leases[i]);
                *n = 0;
            }
            return rc;
        }
        if (rc != PYTI_ERR_IO || s->last_fail != DB_FAIL_CONSTRAINT)
            return rc;
        /* The report id is taken: nothing of the transaction happened;
         * the result is decided the careful way, then the claim made. */
    }
    rc = store_job_complete(s, job_id, attempt, report, result, err);
    if (rc != PYTI_OK)
        return rc;
    /* The result is stored: a claim that fails now (the worker unknown, the
     * store away) is only no next job; the worker's own claim says why. */
    pyti_error ignored;
    if (store_job_claim_many(s, worker_id, lease_ms, max, leases, n, &ignored) != PYTI_OK)
        *n = 0;
    return PYTI_OK;
}

/* ---- reaping ---- */

pyti_status store_reap_expired(pyti_store *s, long long *requeued, long long *failed,
                               pyti_error *err)
{
    long long nreq = 0, nfail = 0;
    enum { BATCH = 100 };
    for (;;) {
        if (db_begin(s, err) != PYTI_OK)
            return PYTI_ERR_IO;
        db_res *r = db_query(s, "reaping expired leases",
                             /* The leased jobs, through jobs_by_worker. */
                             "SELECT id FROM jobs WHERE " SQL_LEASED_JOB
                             " AND (state = 'leased' OR state = 'running')"
                             " AND lease_expires < pyti_now_ms()"
                             " ORDER BY lease_expires LIMIT 100 {{pg FOR UPDATE SKIP LOCKED}}",
                             DB_NOARGS, err);
        if (!r) {
            db_rollback(s);
            return PYTI_ERR_IO;
        }
        pyti_status rc = PYTI_OK;
        for (int i = 0; i < r->nrows && rc == PYTI_OK; i++) {
            job_row j;
            rc = lock_job(s, db_get_int(r, i, 0), &j, err);
            if (rc != PYTI_OK)
                break;
            char msg[256];
            snprintf(msg, sizeof msg, "lease expired: no heartbeat from worker '%s'",
                     j.worker ? j.worker : "?");
            store_result res;
            rc = attempt_failed(s, &j, j.attempts, true, "expired", msg, NULL, &res, err);
            if (res == STORE_RESULT_RETRY)
                nreq++;
            else if (res == STORE_RESULT_FAILED)
                nfail++;
            job_row_free(&j);
        }
        int n = r->nrows;
        db_res_free(r);
        if (rc == PYTI_OK && n < BATCH)
            rc = db_exec(s, "marking silent workers gone",
                         "UPDATE workers SET state = 'gone'"
                         " WHERE state <> 'gone' AND last_seen < pyti_now_ms() - $1",
                         DB_ARGS(db_int(s->qopt.worker_gone_ms)), NULL, err);
        if (rc != PYTI_OK) {
            db_rollback(s);
            return rc;
        }
        if (db_commit(s, err) != PYTI_OK)
            return PYTI_ERR_IO;
        if (n < BATCH)
            break;
    }
    if (requeued)
        *requeued = nreq;
    if (failed)
        *failed = nfail;
    return PYTI_OK;
}

/* ---- operators ---- */

pyti_status store_job_cancel(pyti_store *s, long long job_id, bool *changed, pyti_error *err)
{
    if (db_begin(s, err) != PYTI_OK)
        return PYTI_ERR_IO;
    job_row j;
    pyti_status rc = lock_job(s, job_id, &j, err);
    bool did = false;
    if (rc == PYTI_OK) {
        if (j.state == STORE_JOB_DONE || j.state == STORE_JOB_FAILED) {
            rc = pyti_error_set(err, PYTI_ERR_USAGE, "job %lld is %s; only queued, leased or "
                                "running jobs can be cancelled", job_id,
                                store_job_state_name(j.state));
        } else if (j.state != STORE_JOB_CANCELLED) {
            did = true;
            rc = db_exec(s, "cancelling the job",
                         "UPDATE jobs SET state = 'cancelled', worker_id = NULL,"
                         " lease_expires = NULL, updated_at = pyti_now_ms(),"
                         " finished_at = pyti_now_ms() WHERE id = $1",
                         DB_ARGS(db_int(job_id)), NULL, err);
            if (rc == PYTI_OK && j.attempts > 0)
                rc = end_attempt(s, job_id, j.attempts, "cancelled", "the job was cancelled",
                                 NULL, err);
        }
    }
    job_row_free(&j);
    if (rc != PYTI_OK) {
        db_rollback(s);
        return rc;
    }
    rc = db_commit(s, err);
    if (rc == PYTI_OK && changed)
        *changed = did;
    return rc;
}

pyti_status store_job_retry(pyti_store *s, long long job_id, pyti_error *err)
{
    if (db_begin(s, err) != PYTI_OK)
        return PYTI_ERR_IO;
    job_row j;
    pyti_status rc = lock_job(s, job_id, &j, err);
    if (rc == PYTI_OK && j.state != STORE_JOB_FAILED && j.state != STORE_JOB_CANCELLED)
        rc = pyti_error_set(err, PYTI_ERR_USAGE,
                            "job %lld is %s; only failed or cancelled jobs can be retried%s",
                            job_id, store_job_state_name(j.state),
                            j.state == STORE_JOB_DONE ? " (submit it again with retest to test "
                                                        "it again)" : "");
    if (rc == PYTI_OK) {
        db_res *r = db_query(s, "retrying the job",
                             "SELECT o.id FROM jobs o JOIN jobs j ON j.id = $1"
                             " WHERE o.sha256 = j.sha256 AND o.recipe = j.recipe"
                             " AND o.python = j.python AND o.id <> j.id"
                             " AND (o.state = 'queued' OR o.state = 'leased' OR o.state = 'running')",
                             DB_ARGS(db_int(job_id)), err);
        if (!r)
            rc = PYTI_ERR_IO;
        else if (r->nrows)
            rc = pyti_error_set(err, PYTI_ERR_USAGE,
                                "job %lld: the identical job %lld is active; it will give the "
                                "result", job_id, db_get_int(r, 0, 0));
        db_res_free(r);
    }
    if (rc == PYTI_OK)
        rc = db_exec(s, "retrying the job",
                     "UPDATE jobs SET state = 'queued', failures = 0, not_before = pyti_now_ms(),"
                     " error = NULL, finished_at = NULL, updated_at = pyti_now_ms()"
                     " WHERE id = $1",
                     DB_ARGS(db_int(job_id)), NULL, err);
    job_row_free(&j);
    if (rc != PYTI_OK) {
        db_rollback(s);
        return rc;
    }
    return db_commit(s, err);
}

/* ---- listings ---- */

json_t *store_job_get(pyti_store *s, long long job_id, pyti_error *err)
{
    db_res *r = db_query(s, "reading the job", "SELECT " JOB_COLUMNS " FROM jobs WHERE id = $1",
                         DB_ARGS(db_int(job_id)), err);
    if (!r)
        return NULL;
    if (r->nrows == 0) {
        db_res_free(r);
        pyti_error_set(err, PYTI_ERR_NOTFOUND, "no job %lld in %s", job_id, s->location);
        return NULL;
    }
    json_t *job = job_from_row(r, 0);
    db_res_free(r);
    r = db_query(s, "reading the job's attempts",
                 "SELECT n, worker_id, leased_at, started_at, ended_at, outcome, error, report_id"
                 " FROM attempts WHERE job_id = $1 ORDER BY n",
                 DB_ARGS(db_int(job_id)), err);
    if (!r) {
        json_decref(job);
        return NULL;
    }
    json_t *arr = json_array();
    for (int i = 0; i < r->nrows; i++) {
        json_t *a = json_object();
        json_object_set_new(a, "attempt", json_integer(db_get_int(r, i, 0)));
        json_set_text(a, "worker", db_get(r, i, 1));
        json_object_set_new(a, "leased", store_json_time(db_get(r, i, 2)));
        json_object_set_new(a, "started", store_json_time(db_get(r, i, 3)));
        json_object_set_new(a, "ended", store_json_time(db_get(r, i, 4)));
        json_set_text(a, "outcome", db_get(r, i, 5));
        json_set_text(a, "error", db_get(r, i, 6));
        json_set_text(a, "report_id", db_get(r, i, 7));
        json_array_append_new(arr, a);
    }
    db_res_free(r);
    json_object_set_new(job, "attempt_history", arr);
    return job;
}

/* The rows of JOB_COLUMNS that f selects, newest first; NULL on error. */
static db_res *jobs_query(pyti_store *s, const store_job_filter *f, pyti_error *err)
{
    store_job_filter none = {0};
    if (!f)
        f = &none;
    if (f->state && store_job_state_parse(f->state) < 0) {
        pyti_error_set(err, PYTI_ERR_USAGE,
                       "unknown job state '%s' (queued, leased, running, done, failed, "
                       "cancelled)", f->state);
        return NULL;
    }
    /* Only the filters asked for appear in the SQL, each spelled so that
     * the variant is an indexed query without a full index on state or
     * project (migration 4): a state's jobs through its partial index
     * (jobs_queue, jobs_by_worker, jobs_ended; done jobs are most of the
     * table, the primary key's order finds them), a project's through its
     * files' sha256 in the partial index of each group of states. */
    /* SQLite would rather walk the whole table in id order than sort a
     * partial index's few rows: INDEXED BY says which index (and fails to
     * prepare, in the tests, if the predicate no longer matches it). */
    pyti_buf where = PYTI_BUF_INIT;
    const char *indexed = "";
    db_arg args[5];
    int n = 0;
    store_job_state st = f->state ? (store_job_state)store_job_state_parse(f->state) : 0;
    if (f->state) {
        args[n] = db_text(f->state);
        buf_printf(&where, " AND state = $%d", ++n);
        if (st == STORE_JOB_QUEUED) {
            buf_puts(&where, " AND state = 'queued'");
            indexed = "{{sqlite INDEXED BY jobs_queue}}";
        } else if (st == STORE_JOB_LEASED || st == STORE_JOB_RUNNING) {
            buf_puts(&where, " AND " SQL_LEASED_JOB);
            indexed = "{{sqlite INDEXED BY jobs_by_worker}}";
        } else if (st == STORE_JOB_FAILED || st == STORE_JOB_CANCELLED) {
            buf_puts(&where, " AND " SQL_ENDED_JOB);
            indexed = "{{sqlite INDEXED BY jobs_ended}}";
        }
    }
    if (f->worker) {
        args[n] = db_text(f->worker);
        buf_printf(&where, " AND worker_id = $%d", ++n);
    }
    if (f->before_id > 0) {
        args[n] = db_int(f->before_id);
        buf_printf(&where, " AND id < $%d", ++n);
    }
    pyti_buf sql = PYTI_BUF_INIT;
    char *project = f->project ? name_normalize(f->project) : NULL;
    if (project) {
        args[n] = db_text(project);
        int p = ++n;
        /* Each branch repeats its partial index's predicate (SQLite uses
         * the index only then); a state filter leaves one branch. */
        static const char *const groups[] = {SQL_ACTIVE_JOB, "state = 'done'", SQL_ENDED_JOB};
        static const char *const group_index[] = {"jobs_active_key", "jobs_done_key",
                                                  "jobs_ended"};
        const bool in_group[] = {
            !f->state || st == STORE_JOB_QUEUED || st == STORE_JOB_LEASED ||
                st == STORE_JOB_RUNNING,
            !f->state || st == STORE_JOB_DONE,
            !f->state || st == STORE_JOB_FAILED || st == STORE_JOB_CANCELLED};
        buf_puts(&sql, "SELECT * FROM (");
        const char *sep = "";
        for (int g = 0; g < 3; g++) {
            if (!in_group[g])
                continue;
            buf_printf(&sql,
                       "%sSELECT " JOB_COLUMNS " FROM jobs {{sqlite INDEXED BY %s}}"
                       " WHERE %s AND project = $%d"
                       " AND sha256 IN (SELECT f.sha256 FROM projects p"
                       " JOIN releases r ON r.project_id = p.id"
                       " JOIN files f ON f.release_id = r.id WHERE p.name = $%d)%s",
                       sep, group_index[g], groups[g], p, p, buf_cstr(&where));
            sep = " UNION ALL ";
        }
        buf_puts(&sql, ") k");
    } else {
        buf_printf(&sql, "SELECT " JOB_COLUMNS " FROM jobs %s WHERE 1 = 1%s", indexed,
                   buf_cstr(&where));
    }
    buf_free(&where);
    args[n] = db_int(f->limit ? (long long)f->limit : (long long)1 << 62);
    buf_printf(&sql, " ORDER BY id DESC LIMIT $%d", ++n);
    /* The text has at most a few dozen shapes (the filters given, not
     * their values): its statement is prepared once per handle. */
    db_res *r = db_query_built(s, "listing jobs", buf_cstr(&sql), n, args, err);
    buf_free(&sql);
    free(project);
    return r;
}

json_t *store_jobs_list(pyti_store *s, const store_job_filter *f, pyti_error *err)
{
    db_res *r = jobs_query(s, f, err);
    if (!r)
        return NULL;
    json_t *arr = json_array();
    for (int i = 0; i < r->nrows; i++)
        json_array_append_new(arr, job_from_row(r, i));
    db_res_free(r);
    return arr;
}

/* A time column (milliseconds) as job_from_row's store_json_time. */
static void jw_time(json_writer *w, const db_res *r, int row, int col)
{
    if (!db_get(r, row, col)) {
        jw_null(w);
        return;
    }
    char buf[40];
    store_iso_time(db_get_int(r, row, col), buf, sizeof buf);
    jw_string(w, buf);
}

/* How job_write_row writes a column of JOB_COLUMNS. */
typedef enum col_kind {
    COL_TEXT,     /* a string, or null */
    COL_INT,      /* an integer (0 for NULL) */
    COL_INT_NULL, /* an integer, or null */
    COL_TIME,     /* milliseconds as an ISO time, or null */
    COL_SECONDS,  /* milliseconds as seconds (a real), or null */
    COL_REQS,     /* the requirements' JSON text, {} if none */
} col_kind;

/* job_from_row's keys in sorted order (the API's order), each with its
 * column of JOB_COLUMNS. */
#define KEY(k) k, sizeof k - 1
static const struct {
    const char *key;
    size_t keylen;
    int col;
    col_kind kind;
} job_fields[] = {
    {KEY("attempts"), 15, COL_INT},      {KEY("created"), 23, COL_TIME},
    {KEY("created_by"), 13, COL_TEXT},   {KEY("duration_s"), 26, COL_SECONDS},
    {KEY("error"), 22, COL_TEXT},        {KEY("failures"), 16, COL_INT},
    {KEY("filename"), 5, COL_TEXT},      {KEY("finished"), 25, COL_TIME},
    {KEY("id"), 0, COL_INT},             {KEY("lease_expires"), 20, COL_TIME},
    {KEY("max_attempts"), 17, COL_INT},  {KEY("name"), 3, COL_TEXT},
    {KEY("not_before"), 18, COL_TIME},   {KEY("path"), 7, COL_TEXT},
    {KEY("priority"), 12, COL_INT},      {KEY("project"), 2, COL_TEXT},
    {KEY("python"), 11, COL_TEXT},       {KEY("recipe"), 10, COL_TEXT},
    {KEY("report_id"), 21, COL_TEXT},    {KEY("requirements"), 14, COL_REQS},
    {KEY("sha256"), 8, COL_TEXT},        {KEY("size"), 9, COL_INT_NULL},
    {KEY("state"), 1, COL_TEXT},         {KEY("updated"), 24, COL_TIME},
    {KEY("url"), 6, COL_TEXT},           {KEY("version"), 4, COL_TEXT},
    {KEY("worker"), 19, COL_TEXT},
};
#undef KEY

/* The requirements of the last row written: most jobs share one text,
 * and its JSON is parsed, sorted and written once per listing; the rows
 * after copy the written text (same depth, so the same layout). */
typedef struct req_memo {
    char *text;     /* the column's text, or NULL */
    pyti_buf out;   /* what the writer wrote for it */
    int depth;      /* at this depth */
} req_memo;

static void write_requirements(json_writer *w, const char *v, req_memo *m)
{
    if (v && m->text && m->depth == w->depth && strcmp(m->text, v) == 0) {
        jw_raw_value(w, m->out.data, m->out.len);
        return;
    }
    size_t start = w->out->len; /* after the key's ": ": the value's text */
    json_t *j = v ? json_loads(v, 0, NULL) : NULL;
    if (j) {
        jw_json(w, j);
    } else {
        jw_object_open(w);
        jw_object_close(w);
    }
    json_decref(j);
    free(m->text);
    m->text = v ? xstrdup(v) : NULL;
    m->depth = w->depth;
    buf_reset(&m->out);
    buf_append(&m->out, w->out->data + start, w->out->len - start);
}

/* Row i as job_from_row's object, keys in sorted order. */
static void job_write_row(json_writer *w, const db_res *r, int i, req_memo *memo)
{
    jw_object_open(w);
    for (size_t f = 0; f < sizeof job_fields / sizeof *job_fields; f++) {
        const char *v = db_get(r, i, job_fields[f].col);
        jw_key_plain(w, job_fields[f].key, job_fields[f].keylen);
        switch (job_fields[f].kind) {
        case COL_TEXT:
            jw_string(w, v);
            break;
        case COL_INT:
            v ? jw_int_text(w, v) : jw_int(w, 0);
            break;
        case COL_INT_NULL:
            v ? jw_int_text(w, v) : jw_null(w);
            break;
        case COL_TIME:
            jw_time(w, r, i, job_fields[f].col);
            break;
        case COL_SECONDS:
            v ? jw_real(w, (double)db_get_int(r, i, job_fields[f].col) / 1000.0) : jw_null(w);
            break;
        case COL_REQS:
            write_requirements(w, v, memo);
            break;
        }
    }
    jw_object_close(w);
}

pyti_status store_jobs_list_write(pyti_store *s, const store_job_filter *f, json_writer *w,
                                  size_t *count, long long *last_id, pyti_error *err)
{
    *count = 0;
    *last_id = 0;
    db_res *r = jobs_query(s, f, err);
    if (!r)
        return err && err->code != PYTI_OK ? err->code : PYTI_ERR_IO;
    req_memo memo = {0};
    jw_array_open(w);
    for (int i = 0; i < r->nrows; i++)
        job_write_row(w, r, i, &memo);
    jw_array_close(w);
    *count = (size_t)r->nrows;
    if (r->nrows)
        *last_id = db_get_int(r, r->nrows - 1, 0);
    free(memo.text);
    buf_free(&memo.out);
    db_res_free(r);
    return PYTI_OK;
}

/* ---- specs from JSON ---- */

static pyti_status opt_str(const json_t *j, const char *key, const char **out, pyti_error *err)
{
    const json_t *v = json_object_get(j, key);
    if (!v || json_is_null(v))
        return PYTI_OK;
    if (!json_is_string(v))
        return pyti_error_set(err, PYTI_ERR_INPUT, "%s: expected a string", key);
    *out = json_string_value(v);
    return PYTI_OK;
}

static pyti_status opt_int(const json_t *j, const char *key, long long *out, pyti_error *err)
{
    const json_t *v = json_object_get(j, key);
    if (!v || json_is_null(v))
        return PYTI_OK;
    if (!json_is_integer(v))
        return pyti_error_set(err, PYTI_ERR_INPUT, "%s: expected an integer", key);
    *out = json_integer_value(v);
    return PYTI_OK;
}

static pyti_status opt_list(const json_t *j, const char *key, pyti_strv *out, pyti_error *err)
{
    const json_t *v = json_object_get(j, key);
    if (!v || json_is_null(v))
        return PYTI_OK;
    if (!json_is_array(v) || json_array_size(v) > 256)
        return pyti_error_set(err, PYTI_ERR_INPUT, "%s: expected an array of at most 256 strings",
                              key);
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *e = json_array_get(v, i);
        if (!json_is_string(e))
            return pyti_error_set(err, PYTI_ERR_INPUT, "%s[%zu]: expected a string", key, i);
        strv_push(out, json_string_value(e));
    }
    return PYTI_OK;
}

pyti_status store_job_spec_from_json(const json_t *j, store_job_spec *spec, pyti_strv *pythons,
                                     pyti_strv *tags, pyti_error *err)
{
    store_job_spec_init(spec);
    if (!json_is_object(j))
        return pyti_error_set(err, PYTI_ERR_INPUT, "job: expected a JSON object");
    long long priority = 0, max_attempts = 0, memory = 0;
    const json_t *req = json_object_get(j, "requirements");
    const json_t *retest = json_object_get(j, "retest");
    if (opt_str(j, "name", &spec->name, err) || opt_str(j, "version", &spec->version, err) ||
        opt_str(j, "filename", &spec->filename, err) || opt_str(j, "url", &spec->url, err) ||
        opt_str(j, "path", &spec->path, err) || opt_str(j, "sha256", &spec->sha256, err) ||
        opt_int(j, "size", &spec->size, err) || opt_str(j, "recipe", &spec->recipe, err) ||
        opt_str(j, "python", &spec->python, err) || opt_int(j, "priority", &priority, err) ||
        opt_str(j, "created_by", &spec->created_by, err) ||
        opt_int(j, "max_attempts", &max_attempts, err))
        return PYTI_ERR_INPUT;
    if (retest && !json_is_boolean(retest))
        return pyti_error_set(err, PYTI_ERR_INPUT, "retest: expected true or false");
    spec->retest = json_is_true(retest);
    if (req && !json_is_null(req)) {
        if (!json_is_object(req))
            return pyti_error_set(err, PYTI_ERR_INPUT, "requirements: expected an object");
        if (opt_str(req, "arch", &spec->arch, err) || opt_str(req, "os", &spec->os, err) ||
            opt_int(req, "memory_mb", &memory, err) ||
            opt_list(req, "pythons", pythons, err) || opt_list(req, "tags", tags, err))
            return pyti_error_prefix(err, "requirements.");
    }
    if (priority < -1000 || priority > 1000 || max_attempts < 0 || max_attempts > 100)
        return pyti_error_set(err, PYTI_ERR_INPUT, "priority or max_attempts out of range");
    spec->priority = (int)priority;
    spec->max_attempts = (int)max_attempts;
    spec->memory_mb = memory;
    spec->pythons = pythons;
    spec->tags = tags;
    if (!spec->created_by)
        spec->created_by = "api";
    return PYTI_OK;
}

pyti_status store_worker_info_from_json(const json_t *j, store_worker_info *w,
                                        pyti_strv *pythons, pyti_strv *tags,
                                        pyti_strv *recipes, pyti_strv *projects,
                                        pyti_error *err)
{
    memset(w, 0, sizeof *w);
    if (!json_is_object(j))
        return pyti_error_set(err, PYTI_ERR_INPUT, "worker: expected a JSON object");
    if (opt_str(j, "id", &w->id, err) || opt_str(j, "arch", &w->arch, err) ||
        opt_str(j, "os", &w->os, err) || opt_int(j, "memory_mb", &w->memory_mb, err) ||
        opt_int(j, "max_dist_size", &w->max_dist_size, err) ||
        opt_list(j, "pythons", pythons, err) || opt_list(j, "tags", tags, err) ||
        opt_list(j, "recipes", recipes, err) || opt_list(j, "projects", projects, err))
        return PYTI_ERR_INPUT;
    w->pythons = pythons;
    w->tags = tags;
    w->recipes = recipes;
    w->projects = projects;
    w->info = json_object_get(j, "info");
    return PYTI_OK;
}
