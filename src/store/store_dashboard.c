/* store_dashboard.c — the read queries of the web dashboard and the
 * metrics history (see dashboard.h), and keeping report_metrics: a small
 * row per report (its verdict, metric values and test names), written
 * when the report is stored. */
#include "store/dashboard.h"
#include "store/store_internal.h"
#include "common/buf.h"
#include "common/jsonutil.h"
#include "common/xalloc.h"
#include "exec/metrics.h"
#include "exec/report.h"
#include "pkg/name.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- report_metrics ----
 *
 * Why a table of its own rather than columns of reports: a report row
 * carries the whole report (tens of KiB with logs), so SQLite keeps most
 * of it in a chain of overflow pages, and a column stored after it can
 * only be reached by walking that chain — 18 page reads for a 70 KiB
 * report. Measured with 100,000 reports: a project page reading ten
 * reports' metrics columns took ~0.5 s under load. Rows of this table
 * are a few hundred bytes. */

/* {"values": {...}, "python": "3.11.2"}: what the history needs of a
 * report, small enough to read for every report of a project. */
static char *metrics_column(const json_t *report)
{
    json_t *m = metrics_of_report(report);
    json_t *col = json_object();
    json_object_set(col, "values", json_object_get(m, "values"));
    const json_t *inst = json_object_get(json_object_get(m, "details"), "installs");
    const char *py = json_get_str(inst, "python");
    if (py)
        json_set_text(col, "python", py);
    char *text = json_dumps(col, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(col);
    json_decref(m);
    return text;
}

void dashboard_metrics_values(const json_t *report, char **metrics, char **tests)
{
    *metrics = metrics_column(report);
    json_t *names = metrics_test_names(report);
    *tests = json_dumps(names, JSON_COMPACT);
    json_decref(names);
}

pyti_status dashboard_put_metrics(pyti_store *s, const json_t *report, pyti_error *err)
{
    char *text, *tests;
    dashboard_metrics_values(report, &text, &tests);
    json_t *sum = report_summary(report);
    char *project = name_normalize(json_get_str(sum, "name") ?: "");
    pyti_status rc = db_exec(
        s, "storing the report's metrics",
        "INSERT INTO report_metrics (report_id, project, version, created, outcome, safety,"
        " metrics, test_names) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (report_id) DO NOTHING",
        DB_ARGS(db_text(json_get_str(sum, "id")), db_text(project),
                db_text(json_get_str(sum, "version")), db_text(json_get_str(sum, "created")),
                db_text(json_get_str(sum, "outcome")), db_text(json_get_str(sum, "safety")),
                db_text(text), db_text(tests)),
        NULL, err);
    free(project);
    json_decref(sum);
    free(tests);
    free(text);
    return rc;
}

const char *store_location_of(const pyti_store *s)
{
    return s->location;
}

/* ---- a project's history ---- */

static json_t *parse_column(const char *text)
{
    json_t *col = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_object(col)) {
        json_decref(col);
        col = json_object();
    }
    return col;
}

/* "3.11.2" -> "3.11"; NULL stays NULL. */
static char *python_minor(const char *full)
{
    if (!full)
        return NULL;
    const char *dot = strchr(full, '.');
    const char *end = dot ? strchr(dot + 1, '.') : NULL;
    return end ? xstrndup(full, (size_t)(end - full)) : xstrdup(full);
}

json_t *store_project_history(pyti_store *s, const char *project, pyti_error *err)
{
    char *norm = name_normalize(project);
    db_res *p = db_query(s, "reading a project", "SELECT display_name FROM projects WHERE name = $1",
                         DB_ARGS(db_text(norm)), err);
    if (!p) {
        free(norm);
        return NULL;
    }
    if (p->nrows == 0) {
        db_res_free(p);
        free(norm);
        return json_null();
    }
    json_t *releases = store_list_releases(s, norm, err);
    db_res *r = releases ? db_query(s, "reading a project's metrics",
                                    "SELECT report_id, version, outcome, metrics FROM report_metrics"
                                    " WHERE project = $1 ORDER BY created, report_id",
                                    DB_ARGS(db_text(norm)), err)
                         : NULL;
    if (!r) {
        json_decref(releases);
        db_res_free(p);
        free(norm);
        return NULL;
    }
    /* version -> release object, for the rows below */
    json_t *by_version = json_object();
    size_t i;
    json_t *rel;
    json_array_foreach(releases, i, rel) {
        json_object_set_new(rel, "values", json_object());
        json_object_set_new(rel, "pythons", json_object());
        json_object_set(by_version, json_get_str(rel, "version"), rel);
    }
    for (int k = 0; k < r->nrows; k++) {
        json_t *rl = json_object_get(by_version, db_get(r, k, 1) ?: "");
        if (!rl)
            continue;
        json_t *col = parse_column(db_get(r, k, 3));
        const char *latest = json_get_str(json_object_get(rl, "latest"), "id");
        json_t *values = json_object_get(col, "values");
        if (latest && strcmp(latest, db_get(r, k, 0)) == 0 && json_is_object(values))
            json_object_set(rl, "values", values);
        char *minor = python_minor(json_get_str(col, "python"));
        if (minor) {
            json_t *py = json_object();
            const json_t *inst = json_object_get(values, "installs");
            json_object_set_new(py, "installs", json_is_number(inst) ? json_incref((json_t *)inst)
                                                                     : json_null());
            json_set_text(py, "outcome", db_get(r, k, 2));
            json_set_text(py, "report", db_get(r, k, 0));
            json_object_set_new(json_object_get(rl, "pythons"), minor, py);
            free(minor);
        }
        json_decref(col);
    }
    json_decref(by_version);
    json_t *out = json_object();
    json_set_text(out, "project", norm);
    json_set_text(out, "display_name", db_get(p, 0, 0));
    json_object_set_new(out, "releases", releases);
    db_res_free(r);
    db_res_free(p);
    free(norm);
    return out;
}

pyti_status store_project_stamp(pyti_store *s, const char *project, bool *exists,
                                long long *releases, long long *reports, pyti_error *err)
{
    *exists = false;
    *releases = *reports = 0;
    char *norm = name_normalize(project);
    db_res *r = db_query(s, "reading a project's stamp",
                         "SELECT (SELECT COUNT(*) FROM releases r WHERE r.project_id = p.id),"
                         " (SELECT COUNT(*) FROM report_metrics m WHERE m.project = p.name)"
                         " FROM projects p WHERE p.name = $1",
                         DB_ARGS(db_text(norm)), err);
    free(norm);
    if (!r)
        return PYTI_ERR_IO;
    if (r->nrows > 0) {
        *exists = true;
        *releases = db_get_int(r, 0, 0);
        *reports = db_get_int(r, 0, 1);
    }
    db_res_free(r);
    return PYTI_OK;
}

/* ---- search ---- */

json_t *store_search_projects(pyti_store *s, const char *query, size_t limit, pyti_error *err)
{
    if (!query || strlen(query) > 200) {
        pyti_error_set(err, PYTI_ERR_USAGE, "project search: a query of at most 200 bytes");
        return NULL;
    }
    if (limit < 1 || limit > 1000)
        limit = 50;
    char *norm = name_normalize(query);
    /* LIKE pattern: %norm% with the wildcards of the query made literal. */
    pyti_buf pat = PYTI_BUF_INIT;
    buf_putc(&pat, '%');
    for (const char *c = norm; *c; c++) {
        if (*c == '%' || *c == '_' || *c == '\\')
            buf_putc(&pat, '\\');
        buf_putc(&pat, *c);
    }
    buf_putc(&pat, '%');
    db_res *r = db_query(s, "searching projects",
                         "SELECT p.name, p.display_name,"
                         " (SELECT COUNT(*) FROM releases r WHERE r.project_id = p.id)"
                         " FROM projects p WHERE p.name LIKE $1 ESCAPE '\\'"
                         " ORDER BY CASE WHEN p.name = $2 THEN 0 ELSE 1 END, length(p.name), p.name"
                         " LIMIT $3",
                         DB_ARGS(db_text(buf_cstr(&pat)), db_text(norm), db_int((long long)limit)),
                         err);
    buf_free(&pat);
    free(norm);
    if (!r)
        return NULL;
    json_t *arr = json_array();
    for (int i = 0; i < r->nrows; i++) {
        json_t *o = json_object();
        json_set_text(o, "name", db_get(r, i, 0));
        json_set_text(o, "display_name", db_get(r, i, 1));
        json_object_set_new(o, "releases", json_integer(db_get_int(r, i, 2)));
        json_array_append_new(arr, o);
    }
    db_res_free(r);
    return arr;
}

/* ---- over time ---- */

static long long store_now_ms(pyti_store *s, pyti_error *err)
{
    db_res *r = db_query(s, "reading the clock", "SELECT pyti_now_ms()", DB_NOARGS, err);
    if (!r)
        return -1;
    long long now = db_get_int(r, 0, 0);
    db_res_free(r);
    return now;
}

json_t *store_throughput(pyti_store *s, long long window_s, long long bucket_s, pyti_error *err)
{
    if (bucket_s <= 0 || window_s <= 0 || window_s / bucket_s > 1000) {
        pyti_error_set(err, PYTI_ERR_USAGE, "throughput: window %llds in buckets of %llds "
                       "(at most 1000 buckets)", window_s, bucket_s);
        return NULL;
    }
    long long now = store_now_ms(s, err);
    if (now < 0)
        return NULL;
    long long bucket = bucket_s * 1000, n = (window_s + bucket_s - 1) / bucket_s;
    /* Buckets end at the current one: align on the bucket size. */
    long long since = (now / bucket - n + 1) * bucket;
    db_res *r = db_query(s, "measuring throughput",
                         "SELECT (finished_at - $1) / $2, state, COUNT(*) FROM jobs"
                         " WHERE finished_at IS NOT NULL AND finished_at >= $1"
                         " GROUP BY (finished_at - $1) / $2, state",
                         DB_ARGS(db_int(since), db_int(bucket)), err);
    if (!r)
        return NULL;
    long long(*counts)[3] = xcalloc((size_t)n, sizeof *counts);
    for (int i = 0; i < r->nrows; i++) {
        long long b = db_get_int(r, i, 0);
        const char *st = db_get(r, i, 1) ?: "";
        int k = strcmp(st, "done") == 0 ? 0 : strcmp(st, "failed") == 0 ? 1
                : strcmp(st, "cancelled") == 0                         ? 2
                                                                       : -1;
        if (b >= 0 && b < n && k >= 0)
            counts[b][k] += db_get_int(r, i, 2);
    }
    db_res_free(r);
    json_t *arr = json_array();
    for (long long b = 0; b < n; b++) {
        json_t *o = json_object();
        json_object_set_new(o, "t", json_integer(since + b * bucket));
        json_object_set_new(o, "done", json_integer(counts[b][0]));
        json_object_set_new(o, "failed", json_integer(counts[b][1]));
        json_object_set_new(o, "cancelled", json_integer(counts[b][2]));
        json_array_append_new(arr, o);
    }
    free(counts);
    json_t *out = json_object();
    json_object_set_new(out, "now", json_integer(now));
    json_object_set_new(out, "bucket_s", json_integer(bucket_s));
    json_object_set_new(out, "buckets", arr);
    return out;
}

static void day_of(long long ms, char *out, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%d", &tm);
}

json_t *store_verdicts_by_day(pyti_store *s, int days, pyti_error *err)
{
    if (days < 1 || days > 366) {
        pyti_error_set(err, PYTI_ERR_USAGE, "verdicts by day: 1 to 366 days, not %d", days);
        return NULL;
    }
    long long now = store_now_ms(s, err);
    if (now < 0)
        return NULL;
    static const char *const keys[] = {"passed", "failed", "rejected", "error", "suspicious",
                                       "malicious"};
    json_t *arr = json_array();
    json_t *by_day = json_object();
    char first[16];
    for (int d = days - 1; d >= 0; d--) {
        char day[16];
        day_of(now - (long long)d * 86400000, day, sizeof day);
        if (d == days - 1)
            memcpy(first, day, sizeof first);
        json_t *o = json_object();
        json_object_set_new(o, "day", json_string(day));
        for (size_t k = 0; k < 6; k++)
            json_object_set_new(o, keys[k], json_integer(0));
        json_array_append(arr, o);
        json_object_set_new(by_day, day, o);
    }
    /* created is an ISO 8601 UTC string: its first 10 bytes are the day. */
    /* An index-only scan of report_metrics_by_created. */
    db_res *r = db_query(s, "counting verdicts by day",
                         "SELECT substr(created, 1, 10), outcome, safety, COUNT(*)"
                         " FROM report_metrics WHERE created >= $1"
                         " GROUP BY substr(created, 1, 10), outcome, safety",
                         DB_ARGS(db_text(first)), err);
    if (!r) {
        json_decref(arr);
        json_decref(by_day);
        return NULL;
    }
    for (int i = 0; i < r->nrows; i++) {
        json_t *o = json_object_get(by_day, db_get(r, i, 0) ?: "");
        if (!o)
            continue;
        long long n = db_get_int(r, i, 3);
        const char *keys2[2] = {db_get(r, i, 1), db_get(r, i, 2)};
        for (int k = 0; k < 2; k++) {
            json_t *v = keys2[k] ? json_object_get(o, keys2[k]) : NULL;
            if (json_is_integer(v) && strcmp(keys2[k], "day") != 0)
                json_integer_set(v, json_integer_value(v) + n);
        }
    }
    db_res_free(r);
    json_decref(by_day);
    return arr;
}

json_t *store_slow_jobs(pyti_store *s, long long window_s, size_t limit, pyti_error *err)
{
    if (limit < 1 || limit > 1000)
        limit = 10;
    db_res *r = db_query(s, "listing slow jobs",
                         /* a done job no longer names its worker: the
                          * winning attempt does */
                         "SELECT id, project, name, version, filename, duration_ms,"
                         " (SELECT a.worker_id FROM attempts a WHERE a.job_id = jobs.id"
                         "   AND a.outcome = 'done' LIMIT 1),"
                         " report_id, finished_at FROM jobs"
                         " WHERE finished_at IS NOT NULL AND finished_at >= pyti_now_ms() - $1"
                         " AND state = 'done' AND duration_ms IS NOT NULL"
                         " ORDER BY duration_ms DESC, id LIMIT $2",
                         DB_ARGS(db_int(window_s * 1000), db_int((long long)limit)), err);
    if (!r)
        return NULL;
    json_t *arr = json_array();
    for (int i = 0; i < r->nrows; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(db_get_int(r, i, 0)));
        json_set_text(o, "project", db_get(r, i, 1));
        json_set_text(o, "name", db_get(r, i, 2));
        json_set_text(o, "version", db_get(r, i, 3));
        json_set_text(o, "filename", db_get(r, i, 4));
        json_object_set_new(o, "duration_s", json_real((double)db_get_int(r, i, 5) / 1000.0));
        json_set_text(o, "worker", db_get(r, i, 6));
        json_set_text(o, "report_id", db_get(r, i, 7));
        json_object_set_new(o, "finished", store_json_time(db_get(r, i, 8)));
        json_array_append_new(arr, o);
    }
    db_res_free(r);
    return arr;
}

json_t *store_report_history_entry(pyti_store *s, const char *report_id, pyti_error *err)
{
    db_res *r = db_query(s, "reading a report's history entry",
                         "SELECT version, safety, metrics, test_names FROM report_metrics"
                         " WHERE report_id = $1",
                         DB_ARGS(db_text(report_id)), err);
    if (!r)
        return NULL;
    json_t *out = NULL;
    if (r->nrows == 0) {
        pyti_error_set(err, PYTI_ERR_NOTFOUND, "no report '%s' in %s", report_id, s->location);
    } else {
        json_t *col = parse_column(db_get(r, 0, 2));
        json_t *names = parse_column(db_get(r, 0, 3));
        out = json_object();
        json_set_text(out, "version", db_get(r, 0, 0));
        json_set_text(out, "safety", db_get(r, 0, 1));
        json_t *values = json_object_get(col, "values");
        json_object_set_new(out, "values", values ? json_incref(values) : json_object());
        static const char *const keys[][2] = {{"failed", "failed_tests"}, {"passed", "passed_tests"}};
        for (int k = 0; k < 2; k++) {
            json_t *v = json_object_get(names, keys[k][0]);
            json_object_set_new(out, keys[k][1], json_is_array(v) ? json_incref(v) : json_array());
        }
        json_decref(names);
        json_decref(col);
    }
    db_res_free(r);
    return out;
}

json_t *store_report_metrics(pyti_store *s, const char *report_id, pyti_error *err)
{
    db_res *r = db_query(s, "reading a report's metrics",
                         "SELECT metrics FROM report_metrics WHERE report_id = $1",
                         DB_ARGS(db_text(report_id)),
                         err);
    if (!r)
        return NULL;
    json_t *out = NULL;
    if (r->nrows == 0) {
        pyti_error_set(err, PYTI_ERR_NOTFOUND, "no report '%s' in %s", report_id, s->location);
    } else {
        json_t *col = parse_column(db_get(r, 0, 0));
        out = json_incref(json_object_get(col, "values"));
        if (!out)
            out = json_object();
        json_decref(col);
    }
    db_res_free(r);
    return out;
}
