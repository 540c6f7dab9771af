/* store_catalog.c — reports and the catalogue they are filed under
 * (projects, releases, distribution files), their task results and
 * findings, the releases' latest verdicts, the queries over them, and
 * logs (see store.h). Written once for both backends. */
#include "store/store_internal.h"
#include "common/jsonutil.h"
#include "common/str.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "exec/report.h"
#include "pkg/name.h"
#include "pkg/version.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* LIMIT for "no limit" that both engines accept (PostgreSQL refuses -1). */
#define NO_LIMIT ((long long)1 << 62)

/* Writes n as exactly width digits at p. */
static void digits(char *p, long long n, int width)
{
    for (int i = width - 1; i >= 0; i--, n /= 10)
        p[i] = (char)('0' + n % 10);
}

/* The civil date of a day counted from 1970-01-01, computed rather than
 * asked of gmtime_r: glibc's takes a process-wide lock (__tz_convert), and
 * the API's job lists write five times per job from every HTTP thread at
 * once. The days in the proleptic Gregorian calendar, counted in 400-year
 * eras of 146,097 days, from 0000-03-01 so that the leap day ends a year. */
static void civil_date(long long days, long long *year, long long *month, long long *day)
{
    long long z = days + 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;                                   /* [0, 146096] */
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);             /* [0, 365] */
    long long mp = (5 * doy + 2) / 153;                                  /* March = 0 */
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = yoe + era * 400 + (*month <= 2);
}

void store_iso_time(long long ms, char *out, size_t size)
{
    long long sec = ms / 1000;
    int milli = (int)(ms % 1000);
    if (milli < 0) {
        milli += 1000;
        sec -= 1;
    }
    long long days = sec / 86400, rem = sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    /* "YYYY-MM-DD" of the last day this thread wrote: a listing's times
     * are mostly of a few days. */
    static _Thread_local long long memo_day = LLONG_MIN;
    static _Thread_local char memo_date[10];
    if (days != memo_day) {
        long long year, month, day;
        civil_date(days, &year, &month, &day);
        if (year < 1000 || year > 9999) { /* not four digits: leave it to snprintf */
            snprintf(out, size, "%lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03dZ", year, month,
                     day, rem / 3600, rem / 60 % 60, rem % 60, milli);
            return;
        }
        digits(memo_date, year, 4);
        memo_date[4] = '-';
        digits(memo_date + 5, month, 2);
        memo_date[7] = '-';
        digits(memo_date + 8, day, 2);
        memo_day = days;
    }
    char b[] = "YYYY-MM-DDTHH:MM:SS.mmmZ";
    memcpy(b, memo_date, 10);
    digits(b + 11, rem / 3600, 2);
    digits(b + 14, rem / 60 % 60, 2);
    digits(b + 17, rem % 60, 2);
    digits(b + 20, milli, 3);
    if (size >= sizeof b)
        memcpy(out, b, sizeof b);
    else
        snprintf(out, size, "%s", b);
}

json_t *store_json_time(const char *ms_cell)
{
    if (!ms_cell)
        return json_null();
    char buf[40];
    store_iso_time(strtoll(ms_cell, NULL, 10), buf, sizeof buf);
    return json_string(buf);
}

/* ---- the catalogue ---- */

/* Finds or makes a row: runs find (returning the id), else insert (ON
 * CONFLICT DO NOTHING RETURNING id), else find again (another transaction
 * inserted it meanwhile). */
static long long find_or_insert(pyti_store *s, const char *what, const char *find, int nfind,
                                const db_arg *fargs, const char *insert, int nins,
                                const db_arg *iargs, pyti_error *err)
{
    for (int round = 0; round < 2; round++) {
        db_res *r = db_query(s, what, find, nfind, fargs, err);
        if (!r)
            return -1;
        long long id = r->nrows ? db_get_int(r, 0, 0) : 0;
        db_res_free(r);
        if (id > 0 || round == 1)
            return id > 0 ? id : (pyti_error_set(err, PYTI_ERR_INTERNAL,
                                                 "store %s: %s: row vanished", s->location, what),
                                  -1);
        r = db_query(s, what, insert, nins, iargs, err);
        if (!r)
            return -1;
        id = r->nrows ? db_get_int(r, 0, 0) : 0;
        db_res_free(r);
        if (id > 0)
            return id;
    }
    return -1;
}

pyti_status catalog_file(pyti_store *s, const char *project, const char *display,
                         const char *version, const char *filename, const char *sha256,
                         long long size, const char *url, const char *path, const char *kind,
                         long long *release_id, long long *file_id, pyti_error *err)
{
    long long pid = find_or_insert(
        s, "recording the project", "SELECT id FROM projects WHERE name = $1",
        DB_ARGS(db_text(project)),
        "INSERT INTO projects (name, display_name, created_at) VALUES ($1, $2, pyti_now_ms())"
        " ON CONFLICT (name) DO NOTHING RETURNING id",
        DB_ARGS(db_text(project), db_text(display)), err);
    if (pid < 0)
        return PYTI_ERR_IO;
    long long rid = find_or_insert(
        s, "recording the release",
        "SELECT id FROM releases WHERE project_id = $1 AND version = $2",
        DB_ARGS(db_int(pid), db_text(version)),
        "INSERT INTO releases (project_id, version, created_at) VALUES ($1, $2, pyti_now_ms())"
        " ON CONFLICT (project_id, version) DO NOTHING RETURNING id",
        DB_ARGS(db_int(pid), db_text(version)), err);
    if (rid < 0)
        return PYTI_ERR_IO;
    long long fid = find_or_insert(
        s, "recording the file",
        "SELECT id FROM files WHERE release_id = $1 AND filename = $2 AND sha256 = $3",
        DB_ARGS(db_int(rid), db_text(filename), db_text(sha256)),
        "INSERT INTO files (release_id, filename, sha256, size, url, path, kind, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, pyti_now_ms())"
        " ON CONFLICT (release_id, filename, sha256) DO NOTHING RETURNING id",
        DB_ARGS(db_int(rid), db_text(filename), db_text(sha256), db_int_or_null(size),
                db_text(url), db_text(path), db_text(kind)),
        err);
    if (fid < 0)
        return PYTI_ERR_IO;
    /* What a later sighting knows and the first did not (a size, a URL). */
    if ((size >= 0 || url || path || kind) &&
        db_exec(s, "completing the file",
                "UPDATE files SET size = COALESCE(size, $2), url = COALESCE(url, $3),"
                " path = COALESCE(path, $4), kind = COALESCE(kind, $5)"
                " WHERE id = $1 AND (size IS NULL OR url IS NULL OR path IS NULL OR kind IS NULL)",
                DB_ARGS(db_int(fid), db_int_or_null(size), db_text(url), db_text(path),
                        db_text(kind)),
                NULL, err) != PYTI_OK)
        return PYTI_ERR_IO;
    *release_id = rid;
    *file_id = fid;
    return PYTI_OK;
}

/* The values of a task's task_results row and a finding's findings row
 * after report_id and seq, in column order, as a JSON array (a string or
 * null each; a task's duration a number or null): what index_report binds
 * and what STORE_JOB_RESULT is given. */
static json_t *str_or_null(const json_t *o, const char *key)
{
    const char *v = json_get_str(o, key);
    return v ? json_string(v) : json_null();
}

static json_t *task_row(const json_t *t)
{
    const json_t *dur = json_object_get(t, "duration_s");
    return json_pack("[ooooo o]", str_or_null(t, "name"), str_or_null(t, "builtin"),
                     str_or_null(t, "status"), str_or_null(t, "reason"),
                     str_or_null(t, "started"),
                     json_is_number(dur) ? json_real(json_number_value(dur)) : json_null());
}

static json_t *finding_row(const json_t *f)
{
    return json_pack("[ooooo]", str_or_null(f, "id"), str_or_null(f, "severity"),
                     str_or_null(f, "message"), str_or_null(f, "where"), str_or_null(f, "task"));
}

/* Inserts one row per item (items an array, row making its values) with
 * report_id id and seq its index: sql takes them as $1, $2 and the row's
 * values as $3... */
static pyti_status insert_rows(pyti_store *s, const char *what, const char *sql, const char *id,
                               const json_t *items, json_t *(*row)(const json_t *),
                               pyti_error *err)
{
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *r = row(json_array_get(items, i));
        db_arg a[8] = {db_text(id), db_int((long long)i)};
        size_t n = 2;
        for (size_t k = 0; k < json_array_size(r) && n < sizeof a / sizeof *a; k++, n++) {
            const json_t *v = json_array_get(r, k);
            a[n] = json_is_number(v) ? db_real(json_number_value(v))
                                     : db_text(json_string_value(v)); /* NULL: SQL NULL */
        }
        pyti_status rc = db_exec(s, what, sql, (int)n, a, NULL, err);
        json_decref(r);
        if (rc != PYTI_OK)
            return PYTI_ERR_IO;
    }
    return PYTI_OK;
}

/* The task results, findings and the release's latest verdict of a report
 * whose row exists. */
static pyti_status index_report(pyti_store *s, const json_t *report, const json_t *summary,
                                long long release_id, pyti_error *err)
{
    const char *id = json_get_str(report, "id");
    if (insert_rows(s, "storing task results",
                    "INSERT INTO task_results (report_id, seq, name, builtin, status, reason,"
                    " started, duration_s) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                    " ON CONFLICT (report_id, seq) DO NOTHING",
                    id, json_object_get(report, "tasks"), task_row, err) != PYTI_OK ||
        insert_rows(s, "storing findings",
                    "INSERT INTO findings (report_id, seq, finding, severity, message, location,"
                    " task) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                    " ON CONFLICT (report_id, seq) DO NOTHING",
                    id, json_object_get(report, "findings"), finding_row, err) != PYTI_OK)
        return PYTI_ERR_IO;
    /* The newest report (by its created time, ties by id) gives the
     * release its verdict, whatever order reports arrive in. */
    const char *created = json_get_str(summary, "created");
    return db_exec(s, "updating the release's verdict",
                   "UPDATE releases SET latest_report_id = $2, latest_created = $3,"
                   " latest_outcome = $4, latest_quality = $5, latest_safety = $6"
                   " WHERE id = $1 AND (latest_created IS NULL OR latest_created < $3"
                   "   OR (latest_created = $3 AND latest_report_id < $2))",
                   DB_ARGS(db_int(release_id), db_text(id), db_text(created),
                           db_text(json_get_str(summary, "outcome")),
                           db_text(json_get_str(summary, "quality")),
                           db_text(json_get_str(summary, "safety"))),
                   NULL, err);
}

/* The report row's summary columns, in INSERT_REPORT's order ($1-$11):
 * id, project (normalised), name, version, filename, sha256, recipe,
 * quality, safety, outcome, created. a gets 11 arguments. */
static void summary_args(const json_t *summary, const char *project, db_arg *a)
{
    static const char *const keys[] = {"id",     "project", "name",    "version",
                                       "filename", "sha256", "recipe", "quality",
                                       "safety", "outcome", "created"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        a[i] = i == 1 ? db_text(project) : db_text(json_get_str(summary, keys[i]));
}

#define INSERT_REPORT                                                                            \
    "INSERT INTO reports (id, project, name, version, filename, sha256, recipe,"                  \
    " quality, safety, outcome, created, stored_at, report, release_id, file_id,"                 \
    " job_id, attempt)"                                                                           \
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"

pyti_status catalog_put_report(pyti_store *s, const json_t *report, long long job_id,
                               int attempt, long long release_id, long long file_id, bool fresh,
                               bool *inserted, pyti_error *err)
{
    json_t *summary = report_summary(report);
    const json_t *dist = json_object_get(report, "distribution");
    const char *name = json_get_str(summary, "name");
    char *project = name_normalize(name ? name : "");
    char *text = json_dumps(report, JSON_COMPACT | JSON_SORT_KEYS);
    pyti_status rc = PYTI_OK;
    if (!text) {
        rc = pyti_error_set(err, PYTI_ERR_INTERNAL, "cannot serialise the report");
        goto out;
    }
    if (file_id <= 0) {
        const json_t *size = json_object_get(dist, "size");
        const char *version = json_get_str(summary, "version");
        rc = catalog_file(s, project, name ? name : "", version ? version : "",
                          json_get_str(summary, "filename"), json_get_str(summary, "sha256"),
                          json_is_integer(size) ? json_integer_value(size) : -1, NULL, NULL,
                          json_get_str(dist, "kind"), &release_id, &file_id, err);
        if (rc != PYTI_OK)
            goto out;
    }
    char now[40];
    time_utc_iso8601(now, sizeof now);
    long long changes = 1;
    /* A report id is stored once: a repeat keeps the first copy (or, when
     * fresh, fails the transaction). */
    db_arg a[17];
    summary_args(summary, project, a);
    a[11] = db_text(now);
    a[12] = db_text(text);
    a[13] = db_int(release_id);
    a[14] = db_int(file_id);
    a[15] = job_id > 0 ? db_int(job_id) : db_null();
    a[16] = job_id > 0 ? db_int(attempt) : db_null();
    rc = db_exec(s, "storing the report",
                 fresh ? INSERT_REPORT : INSERT_REPORT " ON CONFLICT (id) DO NOTHING", 17, a,
                 fresh ? NULL : &changes, err);
    if (rc != PYTI_OK)
        goto out;
    if (inserted)
        *inserted = changes > 0;
    if (changes > 0)
        rc = index_report(s, report, summary, release_id, err);
    if (changes > 0 && rc == PYTI_OK)
        rc = dashboard_put_metrics(s, report, err);
out:
    free(text);
    free(project);
    json_decref(summary);
    return rc;
}

/* The rows of a report's tasks (or findings) as one JSON text. */
static char *rows_json(const json_t *items, json_t *(*row)(const json_t *))
{
    json_t *rows = json_array();
    for (size_t i = 0; i < json_array_size(items); i++)
        json_array_append_new(rows, row(json_array_get(items, i)));
    char *text = json_dumps(rows, JSON_COMPACT);
    json_decref(rows);
    return text;
}

/* The common case of a job's result on PostgreSQL, as one statement of
 * data-modifying CTEs (store_job_complete, docs/store.md "Results"). j
 * marks the job done (its duration from its attempt's leased_at) if it
 * is leased or running under attempt $2 and of file $3 and catalogued —
 * conditions an UPDATE re-checks on the row's newest version should
 * another transaction have changed it since the statement began (READ
 * COMMITTED), so that they hold under the row lock it takes. Every other
 * write is driven by j's row, so when it has none (a repeat, a late or
 * stale attempt, a cancelled or unknown job) nothing is written and the
 * answer is 'other'. The writes are the careful path's for that case: the
 * job, the report (a plain INSERT: a taken id fails with
 * unique_violation), its task results and findings (from JSON arrays of
 * the values the C path binds, built by the same code), the release's
 * verdict if this report is its newest, the report_metrics row and the
 * attempt (ended, "done"). Until the job's own UPDATE came first, a
 * SELECT ... FOR UPDATE of the row did that check: one more row lock
 * (and WAL record) and plan node per result, 2% of the server's
 * instructions per job (bench/README.md, "The job's UPDATE first").
 * The rows under the report (task results, findings, report_metrics)
 * are plain INSERTs too, unlike the careful path's "ON CONFLICT DO
 * NOTHING": their report is new in this statement, so none of them can
 * exist yet, and a speculative insertion cost each row one more index
 * probe and WAL record (1.6% of the server's instructions per job;
 * bench/README.md). Should one conflict all the same, the statement fails
 * like a taken report id and the careful path decides.
 *
 * One statement and not the PL/pgSQL function of eight it replaces
 * (pyti_job_result, migrations 6 to 8): one snapshot and one executor
 * set-up instead of eight, and the SQL sits here next to the careful
 * path it must agree with. Measured with eight claimers it saves little
 * (the server's CPU per job -2.5%, within the noise; bench/README.md).
 * $1 job, $2 attempt, $3 the report's file
 * sha256, $4-$14 summary_args (id, project, name, version, filename,
 * sha256, recipe, quality, safety, outcome, created), $15 stored_at, $16
 * the report, $17 task rows, $18 finding rows, $19 metrics, $20 test
 * names. */
#define STORE_JOB_RESULT_WITH(FINDINGS)                                                           \
    "WITH j AS (UPDATE jobs SET state = 'done', report_id = $4, worker_id = NULL,"               \
    "  lease_expires = NULL, error = NULL, updated_at = pyti_now_ms(),"                           \
    "  finished_at = pyti_now_ms(), duration_ms = pyti_now_ms() - (SELECT leased_at"              \
    "   FROM attempts WHERE job_id = $1 AND n = $2)"                                              \
    "  WHERE id = $1 AND state IN ('leased', 'running') AND attempts = $2 AND sha256 = $3"        \
    "  AND release_id IS NOT NULL AND file_id IS NOT NULL RETURNING id, release_id, file_id),"    \
    " r AS (INSERT INTO reports (id, project, name, version, filename, sha256, recipe,"           \
    "  quality, safety, outcome, created, stored_at, report, release_id, file_id, job_id,"        \
    "  attempt)"                                                                                  \
    "  SELECT $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, j.release_id,"           \
    "  j.file_id, j.id, $2 FROM j),"                                                              \
    " t AS (INSERT INTO task_results (report_id, seq, name, builtin, status, reason, started,"    \
    "  duration_s)"                                                                               \
    "  SELECT $4, t.n - 1, t.r->>0, t.r->>1, t.r->>2, t.r->>3, t.r->>4,"                          \
    "  (t.r->>5)::double precision"                                                               \
    "  FROM j, json_array_elements($17::json) WITH ORDINALITY AS t(r, n)),"                       \
    FINDINGS                                                                                      \
    " v AS (UPDATE releases SET latest_report_id = $4, latest_created = $14,"                     \
    "  latest_outcome = $13, latest_quality = $11, latest_safety = $12"                           \
    "  FROM j WHERE releases.id = j.release_id AND (latest_created IS NULL"                       \
    "  OR latest_created < $14 OR (latest_created = $14 AND latest_report_id < $4))),"            \
    " m AS (INSERT INTO report_metrics (report_id, project, version, created, outcome, safety,"   \
    "  metrics, test_names)"                                                                      \
    "  SELECT $4, $5, $7, $14, $13, $12, $19, $20 FROM j),"                                       \
    " a AS (UPDATE attempts SET ended_at = pyti_now_ms(), report_id = $4,"                        \
    "  error = CASE WHEN outcome IS NULL THEN NULL"                                               \
    "   ELSE 'result arrived after the attempt had ended: ' || outcome END,"                      \
    "  outcome = 'done' FROM j WHERE attempts.job_id = j.id AND attempts.n = $2)"                 \
    " SELECT CASE WHEN EXISTS (SELECT 1 FROM j) THEN 'stored' ELSE 'other' END"

/* The result's statement for a report with findings, and for one without:
 * PostgreSQL sets up every data-modifying CTE of a statement whether it
 * inserts anything or not, and the findings' insert was 2-3% of the
 * server's instructions per job of a report with none (bench/README.md,
 * "A result without findings"). Its stand-in only gives $18 its type (an
 * unused parameter must have one); a CTE that writes nothing and is not
 * read is not run. */
#define STORE_JOB_RESULT                                                                          \
    STORE_JOB_RESULT_WITH(                                                                        \
        " f AS (INSERT INTO findings (report_id, seq, finding, severity, message, location,"     \
        "  task) SELECT $4, f.n - 1, f.r->>0, f.r->>1, f.r->>2, f.r->>3, f.r->>4"                \
        "  FROM j, json_array_elements($18::json) WITH ORDINALITY AS f(r, n)),")
#define STORE_JOB_RESULT_NO_FINDINGS STORE_JOB_RESULT_WITH(" f AS (SELECT $18::json),")

/* STORE_JOB_RESULT for the report: as the transaction's last statement,
 * committed with it (*stored set), or, if kept, as its kept statement
 * (db_query_kept; stored is NULL) for the caller to commit. */
static pyti_status job_result(pyti_store *s, const json_t *report, long long job_id, int attempt,
                              const char *sha, bool kept, bool *stored, pyti_error *err)
{
    if (stored)
        *stored = false;
    json_t *summary = report_summary(report);
    const char *name = json_get_str(summary, "name");
    char *project = name_normalize(name ? name : "");
    char *text = json_dumps(report, JSON_COMPACT | JSON_SORT_KEYS);
    char *tasks = rows_json(json_object_get(report, "tasks"), task_row);
    char *findings = rows_json(json_object_get(report, "findings"), finding_row);
    char *metrics = NULL, *tests = NULL;
    dashboard_metrics_values(report, &metrics, &tests);
    pyti_status rc = PYTI_OK;
    if (!text || !tasks || !findings || !metrics || !tests) {
        db_rollback(s);
        rc = pyti_error_set(err, PYTI_ERR_INTERNAL, "cannot serialise the report");
        goto out;
    }
    char now[40];
    time_utc_iso8601(now, sizeof now);
    db_arg a[20];
    a[0] = db_int(job_id);
    a[1] = db_int(attempt);
    a[2] = db_text(sha);
    summary_args(summary, project, a + 3);
    a[14] = db_text(now);
    a[15] = db_text(text);
    a[16] = db_text(tasks);
    a[17] = db_text(findings);
    a[18] = db_text(metrics);
    a[19] = db_text(tests);
    const char *sql = json_array_size(json_object_get(report, "findings"))
                          ? STORE_JOB_RESULT
                          : STORE_JOB_RESULT_NO_FINDINGS;
    if (kept) {
        rc = db_query_kept(s, "storing the result", sql, 20, a, err);
        if (rc != PYTI_OK)
            db_rollback(s);
        goto out;
    }
    db_res *r = db_query_commit(s, "storing the result", sql, 20, a, err);
    if (!r) {
        rc = PYTI_ERR_IO;
        goto out;
    }
    *stored = catalog_job_result_stored(r);
    db_res_free(r);
out:
    free(tests);
    free(metrics);
    free(findings);
    free(tasks);
    free(text);
    free(project);
    json_decref(summary);
    return rc;
}

pyti_status catalog_put_job_result(pyti_store *s, const json_t *report, long long job_id,
                                   int attempt, const char *sha, bool *stored, pyti_error *err)
{
    return job_result(s, report, job_id, attempt, sha, false, stored, err);
}

pyti_status catalog_send_job_result(pyti_store *s, const json_t *report, long long job_id,
                                    int attempt, const char *sha, pyti_error *err)
{
    return job_result(s, report, job_id, attempt, sha, true, NULL, err);
}

bool catalog_job_result_stored(const db_res *r)
{
    return r && r->nrows == 1 && db_get(r, 0, 0) && strcmp(db_get(r, 0, 0), "stored") == 0;
}

pyti_status catalog_backfill_report(pyti_store *s, const json_t *report, pyti_error *err)
{
    json_t *summary = report_summary(report);
    const json_t *dist = json_object_get(report, "distribution");
    const char *name = json_get_str(summary, "name");
    const char *version = json_get_str(summary, "version");
    const char *filename = json_get_str(summary, "filename");
    const char *sha256 = json_get_str(summary, "sha256");
    const json_t *size = json_object_get(dist, "size");
    char *project = name_normalize(name ? name : "");
    long long rid = 0, fid = 0;
    pyti_status rc = PYTI_OK;
    if (!filename || !sha256 || !json_get_str(report, "id"))
        goto out; /* not a report this pyti can file; it stays readable */
    rc = catalog_file(s, project, name ? name : "", version ? version : "", filename, sha256,
                      json_is_integer(size) ? json_integer_value(size) : -1, NULL, NULL,
                      json_get_str(dist, "kind"), &rid, &fid, err);
    if (rc == PYTI_OK)
        rc = db_exec(s, "filing an old report",
                     "UPDATE reports SET release_id = $2, file_id = $3 WHERE id = $1",
                     DB_ARGS(db_text(json_get_str(report, "id")), db_int(rid), db_int(fid)), NULL,
                     err);
    if (rc == PYTI_OK)
        rc = index_report(s, report, summary, rid, err);
out:
    free(project);
    json_decref(summary);
    return rc;
}

/* ---- report queries ---- */

#define SUMMARY_COLUMNS_X                                                                  \
    "x.id, x.name, x.version, x.filename, x.sha256, x.recipe, x.quality, x.safety, x.outcome,"   \
    " x.created"

static json_t *row_summary(const db_res *r, int row)
{
    static const char *const cols[] = {"id", "name", "version", "filename", "sha256", "recipe",
                                       "quality", "safety", "outcome", "created"};
    json_t *o = json_object();
    for (int i = 0; i < (int)(sizeof cols / sizeof *cols); i++) {
        const char *v = db_get(r, row, i);
        json_object_set_new(o, cols[i], v ? json_text(v) : json_null());
    }
    return o;
}

static json_t *summaries(const db_res *r)
{
    json_t *arr = json_array();
    for (int i = 0; i < r->nrows; i++)
        json_array_append_new(arr, row_summary(r, i));
    return arr;
}

pyti_status store_put_report(pyti_store *s, const json_t *report, bool *inserted, pyti_error *err)
{
    if (report_validate(report, err) != PYTI_OK)
        return PYTI_ERR_INPUT;
    if (db_begin(s, err) != PYTI_OK)
        return PYTI_ERR_IO;
    pyti_status rc = catalog_put_report(s, report, 0, 0, 0, 0, false, inserted, err);
    if (rc != PYTI_OK) {
        db_rollback(s);
        return rc;
    }
    return db_commit(s, err);
}

json_t *store_list_reports(pyti_store *s, const char *project, size_t limit, pyti_error *err)
{
    long long lim = limit ? (long long)limit : NO_LIMIT;
    db_res *r;
    /* In the order of report_metrics' indexes (every report has its row
     * there, with the same project and created): since migration 4 the
     * reports table has no index of its own on either, one entry fewer
     * per stored report for each. */
    if (project) {
        char *norm = name_normalize(project);
        r = db_query(s, "listing reports",
                     "SELECT " SUMMARY_COLUMNS_X " FROM report_metrics m"
                     " JOIN reports x ON x.id = m.report_id WHERE m.project = $1"
                     " ORDER BY m.created DESC, m.report_id LIMIT $2",
                     DB_ARGS(db_text(norm), db_int(lim)), err);
        free(norm);
    } else {
        r = db_query(s, "listing reports",
                     "SELECT " SUMMARY_COLUMNS_X " FROM report_metrics m"
                     " JOIN reports x ON x.id = m.report_id"
                     " ORDER BY m.created DESC, m.report_id LIMIT $1",
                     DB_ARGS(db_int(lim)), err);
    }
    if (!r)
        return NULL;
    json_t *arr = summaries(r);
    db_res_free(r);
    return arr;
}

json_t *store_get_report(pyti_store *s, const char *id, pyti_error *err)
{
    size_t len = strlen(id);
    bool hex = len >= 4 && len <= 32;
    for (size_t i = 0; hex && i < len; i++)
        hex = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
    if (!hex) {
        pyti_error_set(err, PYTI_ERR_USAGE,
                       "report id '%s': expected 4 to 32 lowercase hex digits", id);
        return NULL;
    }
    db_res *r;
    char *upper = NULL;
    if (len < 32) {
        /* Ids are lowercase hex: every id with this prefix sorts at or
         * above the prefix and below prefix + "g". */
        upper = xasprintf("%sg", id);
        r = db_query(s, "reading a report",
                     "SELECT id, report FROM reports WHERE id >= $1 AND id < $2 ORDER BY id LIMIT 2",
                     DB_ARGS(db_text(id), db_text(upper)), err);
    } else {
        r = db_query(s, "reading a report", "SELECT id, report FROM reports WHERE id = $1",
                     DB_ARGS(db_text(id)), err);
    }
    free(upper);
    if (!r)
        return NULL;
    json_t *result = NULL;
    if (r->nrows == 0) {
        pyti_error_set(err, PYTI_ERR_NOTFOUND, "no report '%s' in %s", id, s->location);
    } else if (r->nrows > 1) {
        pyti_error_set(err, PYTI_ERR_USAGE, "report id prefix '%s' is ambiguous; give more digits",
                       id);
    } else {
        json_error_t jerr;
        result = json_loads(db_get(r, 0, 1), 0, &jerr);
        if (!result)
            pyti_error_set(err, PYTI_ERR_IO, "store %s: report '%s' is corrupt: %s", s->location,
                           id, jerr.text);
    }
    db_res_free(r);
    return result;
}

long long store_count_reports(pyti_store *s, pyti_error *err)
{
    db_res *r = db_query(s, "counting reports", "SELECT COUNT(*) FROM reports", DB_NOARGS, err);
    if (!r)
        return -1;
    long long n = db_get_int(r, 0, 0);
    db_res_free(r);
    return n;
}

/* ---- release queries ---- */

static json_t *latest_of(const db_res *r, int row, int col)
{
    /* cols: id, outcome, quality, safety, created */
    if (!db_get(r, row, col))
        return json_null();
    json_t *o = json_object();
    static const char *const keys[] = {"id", "outcome", "quality", "safety", "created"};
    for (int i = 0; i < 5; i++) {
        const char *v = db_get(r, row, col + i);
        json_object_set_new(o, keys[i], v ? json_text(v) : json_null());
    }
    return o;
}

typedef struct rel_sort {
    pyti_version *v;
    const char *text;
    json_t *obj;
    int row;
} rel_sort;

static int cmp_release_desc(const void *a, const void *b)
{
    const rel_sort *x = a, *y = b;
    if (x->v && y->v) {
        int c = version_compare(y->v, x->v);
        if (c)
            return c;
    } else if (x->v || y->v) {
        return x->v ? -1 : 1; /* parsable versions first */
    }
    return strcmp(y->text, x->text);
}

json_t *store_list_releases(pyti_store *s, const char *project, pyti_error *err)
{
    char *norm = name_normalize(project);
    db_res *r = db_query(
        s, "listing releases",
        "SELECT r.version, r.created_at,"
        " (SELECT COUNT(*) FROM reports x WHERE x.release_id = r.id),"
        " r.latest_report_id, r.latest_outcome, r.latest_quality, r.latest_safety,"
        " r.latest_created"
        " FROM releases r JOIN projects p ON p.id = r.project_id WHERE p.name = $1",
        DB_ARGS(db_text(norm)), err);
    free(norm);
    if (!r)
        return NULL;
    rel_sort *v = xcalloc((size_t)r->nrows + 1, sizeof *v);
    for (int i = 0; i < r->nrows; i++) {
        json_t *o = json_object();
        json_set_text(o, "version", db_get(r, i, 0));
        json_object_set_new(o, "first_seen", store_json_time(db_get(r, i, 1)));
        json_object_set_new(o, "reports", json_integer(db_get_int(r, i, 2)));
        json_object_set_new(o, "latest", latest_of(r, i, 3));
        v[i].text = db_get(r, i, 0);
        v[i].v = version_parse(v[i].text, NULL);
        v[i].obj = o;
    }
    qsort(v, (size_t)r->nrows, sizeof *v, cmp_release_desc);
    json_t *arr = json_array();
    for (int i = 0; i < r->nrows; i++) {
        json_array_append_new(arr, v[i].obj);
        version_free(v[i].v);
    }
    free(v);
    db_res_free(r);
    return arr;
}

pyti_status store_previous_release_report(pyti_store *s, const char *project,
                                          const char *version, char **id, pyti_error *err)
{
    *id = NULL;
    char *norm = name_normalize(project);
    db_res *r = db_query(s, "finding the previous release",
                         "SELECT r.version, r.latest_report_id"
                         " FROM releases r JOIN projects p ON p.id = r.project_id WHERE p.name = $1",
                         DB_ARGS(db_text(norm)), err);
    free(norm);
    if (!r)
        return PYTI_ERR_IO;
    rel_sort *v = xcalloc((size_t)r->nrows + 1, sizeof *v);
    for (int i = 0; i < r->nrows; i++) {
        v[i].text = db_get(r, i, 0);
        v[i].v = version_parse(v[i].text, NULL);
        v[i].row = i;
    }
    qsort(v, (size_t)r->nrows, sizeof *v, cmp_release_desc);
    bool seen = false;
    for (int i = 0; i < r->nrows && !*id; i++) {
        if (!seen)
            seen = strcmp(v[i].text ? v[i].text : "", version) == 0;
        else if (db_get(r, v[i].row, 1))
            *id = xstrdup(db_get(r, v[i].row, 1));
    }
    for (int i = 0; i < r->nrows; i++)
        version_free(v[i].v);
    free(v);
    db_res_free(r);
    return PYTI_OK;
}

json_t *store_release_reports(pyti_store *s, const char *project, const char *version,
                              pyti_error *err)
{
    char *norm = name_normalize(project);
    db_res *r = db_query(s, "listing a release's reports",
                         "SELECT x.id, x.name, x.version, x.filename, x.sha256, x.recipe,"
                         " x.quality, x.safety, x.outcome, x.created"
                         " FROM reports x JOIN releases r ON r.id = x.release_id"
                         " JOIN projects p ON p.id = r.project_id"
                         " WHERE p.name = $1 AND r.version = $2 ORDER BY x.created DESC, x.id",
                         DB_ARGS(db_text(norm), db_text(version)), err);
    free(norm);
    if (!r)
        return NULL;
    json_t *arr = summaries(r);
    db_res_free(r);
    return arr;
}

json_t *store_list_flagged_releases(pyti_store *s, const char *kind, size_t limit,
                                    pyti_error *err)
{
    long long lim = limit ? (long long)limit : NO_LIMIT;
    db_res *r;
    if (strcmp(kind, "failing") == 0) {
        r = db_query(s, "listing failing releases",
                     "SELECT p.name, r.version, r.latest_report_id, r.latest_outcome,"
                     " r.latest_quality, r.latest_safety, r.latest_created"
                     " FROM releases r JOIN projects p ON p.id = r.project_id"
                     " WHERE " SQL_FAILING_RELEASE
                     " ORDER BY r.latest_created DESC, r.id DESC LIMIT $1",
                     DB_ARGS(db_int(lim)), err);
    } else if (strcmp(kind, "suspicious") == 0) {
        r = db_query(s, "listing suspicious releases",
                     "SELECT p.name, r.version, r.latest_report_id, r.latest_outcome,"
                     " r.latest_quality, r.latest_safety, r.latest_created"
                     " FROM releases r JOIN projects p ON p.id = r.project_id"
                     " WHERE " SQL_SUSPICIOUS_RELEASE
                     " ORDER BY r.latest_created DESC, r.id DESC LIMIT $1",
                     DB_ARGS(db_int(lim)), err);
    } else {
        pyti_error_set(err, PYTI_ERR_USAGE,
                       "flagged releases: unknown kind '%s' (failing, suspicious)", kind);
        return NULL;
    }
    if (!r)
        return NULL;
    json_t *arr = json_array();
    for (int i = 0; i < r->nrows; i++) {
        json_t *o = json_object();
        json_set_text(o, "project", db_get(r, i, 0));
        json_set_text(o, "version", db_get(r, i, 1));
        json_object_set_new(o, "latest", latest_of(r, i, 2));
        json_array_append_new(arr, o);
    }
    db_res_free(r);
    return arr;
}

json_t *store_release_files(pyti_store *s, const char *project, const char *version,
                            pyti_error *err)
{
    char *norm = name_normalize(project);
    db_res *r = db_query(s, "listing a release's files",
                         "SELECT f.filename, f.sha256, f.size, f.url, f.path, f.kind"
                         " FROM files f JOIN releases r ON r.id = f.release_id"
                         " JOIN projects p ON p.id = r.project_id"
                         " WHERE p.name = $1 AND r.version = $2 ORDER BY f.filename, f.id",
                         DB_ARGS(db_text(norm), db_text(version)), err);
    free(norm);
    if (!r)
        return NULL;
    json_t *arr = json_array();
    for (int i = 0; i < r->nrows; i++) {
        json_t *o = json_object();
        json_set_text(o, "filename", db_get(r, i, 0));
        json_set_text(o, "sha256", db_get(r, i, 1));
        json_object_set_new(o, "size",
                            db_get(r, i, 2) ? json_integer(db_get_int(r, i, 2)) : json_null());
        json_set_text(o, "url", db_get(r, i, 3));
        json_set_text(o, "path", db_get(r, i, 4));
        json_set_text(o, "kind", db_get(r, i, 5));
        json_array_append_new(arr, o);
    }
    db_res_free(r);
    return arr;
}

json_t *store_list_projects(pyti_store *s, const char *prefix, size_t limit, pyti_error *err)
{
    long long lim = limit ? (long long)limit : NO_LIMIT;
    char *norm = name_normalize(prefix ? prefix : "");
    for (const char *p = norm; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.')) {
            pyti_error_set(err, PYTI_ERR_USAGE, "listing projects: prefix '%s' is not the start "
                           "of a project name", prefix);
            free(norm);
            return NULL;
        }
    }
    /* The prefix is [a-z0-9.-] only, so LIKE sees no wildcard but its own;
     * the range keeps it an index walk on projects.name on both engines. */
    char *upper = xasprintf("%s~", norm);
    db_res *r = db_query(s, "listing projects",
                         "SELECT p.name, p.display_name, p.created_at,"
                         " (SELECT COUNT(*) FROM releases r WHERE r.project_id = p.id),"
                         " (SELECT MAX(r.latest_created) FROM releases r WHERE r.project_id = p.id)"
                         " FROM projects p WHERE p.name >= $1 AND p.name < $2"
                         " ORDER BY p.name LIMIT $3",
                         DB_ARGS(db_text(norm), db_text(upper), db_int(lim)), err);
    free(upper);
    free(norm);
    if (!r)
        return NULL;
    json_t *arr = json_array();
    for (int i = 0; i < r->nrows; i++) {
        json_t *o = json_object();
        json_set_text(o, "name", db_get(r, i, 0));
        json_set_text(o, "display_name", db_get(r, i, 1));
        json_object_set_new(o, "first_seen", store_json_time(db_get(r, i, 2)));
        json_object_set_new(o, "releases", json_integer(db_get_int(r, i, 3)));
        json_set_text(o, "latest_report", db_get(r, i, 4));
        json_array_append_new(arr, o);
    }
    db_res_free(r);
    return arr;
}

/* ---- logs ---- */

pyti_status store_put_log(pyti_store *s, long long job_id, int attempt, const char *name,
                          const void *data, size_t len, bool *inserted, pyti_error *err)
{
    if (len > PYTI_STORE_LOG_MAX)
        return pyti_error_set(err, PYTI_ERR_LIMIT, "log '%s' of job %lld: %zu bytes (at most %u)",
                              name, job_id, len, PYTI_STORE_LOG_MAX);
    if (!name || !*name || strlen(name) > 128)
        return pyti_error_set(err, PYTI_ERR_USAGE, "log of job %lld: a name of 1-128 bytes",
                              job_id);
    /* Repair the text: the database holds valid UTF-8 without NULs. */
    json_t *t = json_textn(data, len);
    const char *v = json_string_value(t);
    size_t vlen = json_string_length(t);
    char *clean = xmalloc(vlen + 1);
    size_t n = 0;
    for (size_t i = 0; i < vlen; i++)
        if (v[i])
            clean[n++] = v[i];
    clean[n] = '\0';
    json_decref(t);
    pyti_status rc = db_begin(s, err);
    if (rc != PYTI_OK) {
        free(clean);
        return rc;
    }
    db_res *r = db_query(s, "storing a log",
                         "SELECT 1 FROM attempts WHERE job_id = $1 AND n = $2",
                         DB_ARGS(db_int(job_id), db_int(attempt)), err);
    if (!r) {
        rc = PYTI_ERR_IO;
    } else if (r->nrows == 0) {
        rc = pyti_error_set(err, PYTI_ERR_NOTFOUND, "job %lld has no attempt %d", job_id,
                            attempt);
    } else {
        long long changes = 0;
        rc = db_exec(s, "storing a log",
                     "INSERT INTO logs (job_id, attempt, name, content, size, created_at)"
                     " VALUES ($1, $2, $3, $4, $5, pyti_now_ms())"
                     " ON CONFLICT (job_id, attempt, name) DO NOTHING",
                     DB_ARGS(db_int(job_id), db_int(attempt), db_text(name), db_text(clean),
                             db_int((long long)n)),
                     &changes, err);
        if (rc == PYTI_OK && inserted)
            *inserted = changes > 0;
    }
    db_res_free(r);
    free(clean);
    if (rc != PYTI_OK) {
        db_rollback(s);
        return rc;
    }
    return db_commit(s, err);
}

char *store_get_log(pyti_store *s, long long job_id, int attempt, const char *name, size_t *len,
                    pyti_error *err)
{
    db_res *r = db_query(s, "reading a log",
                         "SELECT content FROM logs WHERE job_id = $1 AND attempt = $2 AND name = $3",
                         DB_ARGS(db_int(job_id), db_int(attempt), db_text(name)), err);
    if (!r)
        return NULL;
    char *out = NULL;
    if (r->nrows == 0) {
        pyti_error_set(err, PYTI_ERR_NOTFOUND, "job %lld attempt %d has no log '%s'", job_id,
                       attempt, name);
    } else {
        out = xstrdup(db_get(r, 0, 0));
        if (len)
            *len = strlen(out);
    }
    db_res_free(r);
    return out;
}

json_t *store_list_logs(pyti_store *s, long long job_id, pyti_error *err)
{
    db_res *r = db_query(s, "listing logs",
                         "SELECT attempt, name, size, created_at FROM logs WHERE job_id = $1"
                         " ORDER BY attempt, name",
                         DB_ARGS(db_int(job_id)), err);
    if (!r)
        return NULL;
    json_t *arr = json_array();
    for (int i = 0; i < r->nrows; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "attempt", json_integer(db_get_int(r, i, 0)));
        json_set_text(o, "name", db_get(r, i, 1));
        json_object_set_new(o, "size", json_integer(db_get_int(r, i, 2)));
        json_object_set_new(o, "created", store_json_time(db_get(r, i, 3)));
        json_array_append_new(arr, o);
    }
    db_res_free(r);
    return arr;
}
