/* report.c — building, judging and validating job reports (see report.h). */
#include "exec/report.h"
#include "exec/metrics.h"
#include "exec/report_events.h"
#include "common/jsonutil.h"
#include "common/str.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "pyti_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void report_builder_init(pyti_report_builder *rb, const pyti_job *job, const pyti_recipe *recipe)
{
    memset(rb, 0, sizeof *rb);
    rb->t0 = time_monotonic();
    rb->report = json_object();
    rb->tasks = json_array();
    rb->findings = json_array();
    char now[40];
    time_utc_iso8601(now, sizeof now);
    json_t *r = rb->report;
    json_object_set_new(r, "schema_version", json_integer(PYTI_REPORT_SCHEMA_VERSION));
    json_object_set_new(r, "id", json_string(job->id));
    json_object_set_new(r, "pyti_version", json_string(PYTI_VERSION));
    json_object_set_new(r, "created", json_string(now));
    json_t *rec = json_object();
    json_set_text(rec, "name", recipe->name);
    json_set_text(rec, "file", recipe->file);
    json_object_set_new(r, "recipe", rec);
    json_t *d = json_object();
    json_object_set_new(d, "name", json_null());
    json_object_set_new(d, "version", json_null());
    json_set_text(d, "filename", job->dist_filename);
    json_object_set_new(d, "sha256", json_string(job->sha256));
    json_object_set_new(d, "size", json_integer((json_int_t)job->size));
    json_object_set_new(d, "kind", json_string(str_endswith(job->dist_filename, ".whl") ? "wheel" : "sdist"));
    json_object_set_new(r, "distribution", d);
}

void report_add_task(pyti_report_builder *rb, const pyti_task_def *def, pyti_task_status status,
                     const char *reason, const char *started, double duration_s, json_t *data,
                     json_t *findings, const char *log, bool input_rejected)
{
    json_t *t = json_object();
    json_set_text(t, "name", def->name);
    if (def->builtin)
        json_set_text(t, "builtin", def->builtin);
    if (def->run)
        json_set_text(t, "run", def->run);
    json_object_set_new(t, "status", json_string(task_status_name(status)));
    json_set_text(t, "reason", reason);
    json_set_text(t, "started", started);
    json_object_set_new(t, "duration_s", json_real(duration_s));
    if (json_is_object(data))
        json_object_set(t, "data", data);
    else
        json_object_set_new(t, "data", json_object());
    json_set_text(t, "log", log);
    if (input_rejected)
        json_object_set_new(t, "input_rejected", json_true());
    json_array_append_new(rb->tasks, t);

    size_t i;
    json_t *f;
    json_array_foreach(findings, i, f) {
        json_t *copy = json_deep_copy(f);
        json_set_text(copy, "task", def->name);
        json_array_append_new(rb->findings, copy);
    }
    rb->input_rejected |= input_rejected;
    rb->any_error |= status == PYTI_TASK_ERROR;
    rb->any_failed |= status == PYTI_TASK_FAILED || status == PYTI_TASK_TIMEOUT;
}

static void report_set_dependencies(json_t *report, const json_t *deps);

void report_set_items(pyti_report_builder *rb, const json_t *items)
{
    json_t *d = json_object_get(rb->report, "distribution");
    const json_t *md = json_object_get(items, "metadata");
    const char *name = json_get_str(md, "name");
    const char *version = json_get_str(md, "version");
    if (!name || !version) {
        /* Fall back to what the file name says (recorded by extract). */
        size_t i;
        json_t *t;
        json_array_foreach(rb->tasks, i, t) {
            const json_t *data = json_object_get(t, "data");
            if (!name)
                name = json_get_str(data, "filename_name");
            if (!version)
                version = json_get_str(data, "filename_version");
        }
    }
    if (name)
        json_set_text(d, "name", name);
    if (version)
        json_set_text(d, "version", version);
    report_set_dependencies(rb->report, json_object_get(items, "deps"));
}

/* The resolved dependency set (the `deps` item, staging.h): what was
 * staged from which index, and what installed distributions satisfied. */
static void report_set_dependencies(json_t *report, const json_t *deps)
{
    if (!json_is_object(deps))
        return;
    static const char *const fields[] = {"name", "version", "filename", "sha256", "index",
                                         "built_from", NULL};
    json_t *out = json_object(), *staged = json_array(), *installed = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(deps, "staged"), i, e) {
        json_t *o = json_object();
        for (size_t k = 0; fields[k]; k++)
            json_object_set(o, fields[k], json_object_get(e, fields[k]));
        json_array_append_new(staged, o);
    }
    json_array_foreach(json_object_get(deps, "installed"), i, e) {
        json_t *o = json_object();
        json_object_set(o, "name", json_object_get(e, "name"));
        json_object_set(o, "version", json_object_get(e, "version"));
        json_array_append_new(installed, o);
    }
    json_object_set_new(out, "staged", staged);
    json_object_set_new(out, "installed", installed);
    json_object_set_new(report, "dependencies", out);
}

static json_t *evidence_task(json_t *t)
{
    json_t *e = json_object();
    json_object_set_new(e, "kind", json_string("task"));
    json_object_set(e, "task", json_object_get(t, "name"));
    json_object_set(e, "status", json_object_get(t, "status"));
    json_object_set(e, "reason", json_object_get(t, "reason"));
    return e;
}

static json_t *evidence_finding(json_t *f)
{
    json_t *e = json_object();
    json_object_set_new(e, "kind", json_string("finding"));
    json_object_set(e, "id", json_object_get(f, "id"));
    json_object_set(e, "severity", json_object_get(f, "severity"));
    json_object_set(e, "message", json_object_get(f, "message"));
    json_object_set(e, "where", json_object_get(f, "where"));
    json_object_set(e, "task", json_object_get(f, "task"));
    if (json_object_get(f, "excerpt"))
        json_object_set(e, "excerpt", json_object_get(f, "excerpt"));
    return e;
}

/* Findings whose id starts with one of these speak to safety, not quality. */
static bool is_safety_finding(const char *id)
{
    return str_startswith(id, "scan.") || str_startswith(id, "trace.") ||
           str_startswith(id, "honeytoken.") || strcmp(id, "archive.escape") == 0;
}

/* Tasks whose having run means safety was actually assessed. */
static bool is_safety_task(const char *builtin)
{
    return builtin && (strcmp(builtin, "scan") == 0 || strcmp(builtin, "trace") == 0);
}

/* The metrics catalogue's values (exec/metrics.h), computed from the
 * finished report. */
static void report_add_metrics(json_t *r)
{
    json_object_set_new(r, "metrics", metrics_compute(r));
}

/* The behaviour timeline (report_events.c): times relative to the
 * report's creation, taken on the real-time clock. */
static void add_timeline(pyti_report_builder *rb)
{
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    double created = (double)rt.tv_sec + (double)rt.tv_nsec / 1e9 - (time_monotonic() - rb->t0);
    report_set_events(rb->report, created);
}

json_t *report_builder_finish(pyti_report_builder *rb)
{
    json_t *r = rb->report;
    char now[40];
    time_utc_iso8601(now, sizeof now);
    json_object_set_new(r, "finished", json_string(now));
    json_object_set_new(r, "duration_s", json_real(time_monotonic() - rb->t0));
    json_object_set_new(r, "tasks", rb->tasks);
    json_object_set_new(r, "findings", rb->findings);
    add_timeline(rb);

    /* Quality: broken if the package failed a task or was refused;
     * warnings if any quality finding of severity low or above; else ok. */
    json_t *q_evidence = json_array();
    json_t *s_evidence = json_array();
    const char *quality = "ok";
    size_t i;
    json_t *t;
    bool safety_assessed = false;
    json_array_foreach(rb->tasks, i, t) {
        const char *st = json_get_str(t, "status");
        if (strcmp(st, "failed") == 0 || strcmp(st, "timeout") == 0) {
            quality = "broken";
            json_array_append_new(q_evidence, evidence_task(t));
        }
        if (is_safety_task(json_get_str(t, "builtin")) && strcmp(st, "passed") == 0)
            safety_assessed = true;
    }
    int max_safety = -1;
    json_t *f;
    json_array_foreach(rb->findings, i, f) {
        const char *id = json_get_str(f, "id");
        int sev = severity_from_name(json_get_str(f, "severity"));
        if (is_safety_finding(id)) {
            if (sev >= PYTI_SEV_MEDIUM)
                json_array_append_new(s_evidence, evidence_finding(f));
            if (sev > max_safety)
                max_safety = sev;
        } else if (sev >= PYTI_SEV_LOW) {
            if (strcmp(quality, "ok") == 0)
                quality = "warnings";
            json_array_append_new(q_evidence, evidence_finding(f));
        }
    }
    const char *safety;
    if (max_safety >= PYTI_SEV_CRITICAL)
        safety = "malicious";
    else if (max_safety >= PYTI_SEV_MEDIUM)
        safety = "suspicious";
    else
        safety = safety_assessed ? "clean" : "unassessed";

    json_t *v = json_object();
    json_object_set_new(v, "quality", json_string(quality));
    json_object_set_new(v, "safety", json_string(safety));
    json_object_set_new(v, "quality_evidence", q_evidence);
    json_object_set_new(v, "safety_evidence", s_evidence);
    json_object_set_new(r, "verdict", v);

    const char *outcome = "passed";
    if (rb->input_rejected)
        outcome = "rejected";
    else if (rb->any_error)
        outcome = "error";
    else if (rb->any_failed || strcmp(safety, "suspicious") == 0 || strcmp(safety, "malicious") == 0)
        outcome = "failed";
    json_object_set_new(r, "outcome", json_string(outcome));
    report_add_metrics(r);

    rb->report = rb->tasks = rb->findings = NULL;
    return r;
}

int report_exit_code(const json_t *report)
{
    const char *o = json_get_str(report, "outcome");
    if (!o)
        return 3;
    if (strcmp(o, "passed") == 0)
        return 0;
    if (strcmp(o, "failed") == 0)
        return 1;
    if (strcmp(o, "rejected") == 0)
        return 2;
    return 3;
}

json_t *report_summary(const json_t *report)
{
    const json_t *d = json_object_get(report, "distribution");
    const json_t *v = json_object_get(report, "verdict");
    json_t *s = json_object();
    json_object_set(s, "id", json_object_get(report, "id"));
    json_object_set(s, "name", json_object_get(d, "name"));
    json_object_set(s, "version", json_object_get(d, "version"));
    json_object_set(s, "filename", json_object_get(d, "filename"));
    json_object_set(s, "sha256", json_object_get(d, "sha256"));
    json_object_set(s, "quality", json_object_get(v, "quality"));
    json_object_set(s, "safety", json_object_get(v, "safety"));
    json_object_set(s, "outcome", json_object_get(report, "outcome"));
    json_object_set(s, "created", json_object_get(report, "created"));
    json_object_set(s, "recipe", json_object_get(json_object_get(report, "recipe"), "name"));
    /* json_object_set with NULL values fails silently; make absences explicit. */
    const char *keys[] = {"id", "name", "version", "filename", "sha256", "quality", "safety",
                          "outcome", "created", "recipe"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!json_object_get(s, keys[i]))
            json_object_set_new(s, keys[i], json_null());
    return s;
}

/* --- validation of reports from outside ---------------------------------- */

static bool is_hex(const char *s, size_t len)
{
    if (!s || strlen(s) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static pyti_status want_string(const json_t *obj, const char *key, const char *where, bool nullable,
                               size_t max, pyti_error *err)
{
    const json_t *v = json_object_get(obj, key);
    if (nullable && json_is_null(v))
        return PYTI_OK;
    if (!json_is_string(v))
        return pyti_error_set(err, PYTI_ERR_INPUT, "report %s.%s: expected a string%s", where, key,
                              nullable ? " or null" : "");
    if (json_string_length(v) > max)
        return pyti_error_set(err, PYTI_ERR_INPUT, "report %s.%s: longer than %zu bytes", where,
                              key, max);
    return PYTI_OK;
}

static pyti_status want_one_of(const json_t *obj, const char *key, const char *where,
                               const char *const *allowed, pyti_error *err)
{
    const char *s = json_get_str(obj, key);
    for (size_t i = 0; s && allowed[i]; i++)
        if (strcmp(s, allowed[i]) == 0)
            return PYTI_OK;
    return pyti_error_set(err, PYTI_ERR_INPUT, "report %s.%s: '%s' is not one of the allowed values",
                          where, key, s ? s : "(missing)");
}

/* "metrics" is optional (reports older than the catalogue have none). */
static pyti_status validate_metrics(const json_t *r, pyti_error *err)
{
    const json_t *m = json_object_get(r, "metrics");
    char msg[160];
    if (m && !metrics_validate(m, msg, sizeof msg))
        return pyti_error_set(err, PYTI_ERR_INPUT, "report %s", msg);
    return PYTI_OK;
}

pyti_status report_validate(const json_t *r, pyti_error *err)
{
    static const char *const outcomes[] = {"passed", "failed", "rejected", "error", NULL};
    static const char *const qualities[] = {"ok", "warnings", "broken", NULL};
    static const char *const safeties[] = {"unassessed", "clean", "suspicious", "malicious", NULL};
    static const char *const statuses[] = {"passed", "failed", "skipped", "timeout", "error",
                                           "neutral", NULL};
    static const char *const severities[] = {"info", "low", "medium", "high", "critical", NULL};
    if (!json_is_object(r))
        return pyti_error_set(err, PYTI_ERR_INPUT, "report: expected a JSON object");
    const json_t *sv = json_object_get(r, "schema_version");
    if (!json_is_integer(sv) || json_integer_value(sv) != PYTI_REPORT_SCHEMA_VERSION)
        return pyti_error_set(err, PYTI_ERR_INPUT, "report schema_version: expected %d",
                              PYTI_REPORT_SCHEMA_VERSION);
    if (!is_hex(json_get_str(r, "id"), 32))
        return pyti_error_set(err, PYTI_ERR_INPUT, "report id: expected 32 lowercase hex digits");
    if (want_string(r, "created", "", false, 64, err) ||
        want_string(r, "pyti_version", "", false, 64, err) ||
        want_one_of(r, "outcome", "", outcomes, err))
        return PYTI_ERR_INPUT;
    const json_t *d = json_object_get(r, "distribution");
    if (!json_is_object(d))
        return pyti_error_set(err, PYTI_ERR_INPUT, "report distribution: expected an object");
    if (want_string(d, "filename", "distribution", false, 1024, err) ||
        want_string(d, "name", "distribution", true, 1024, err) ||
        want_string(d, "version", "distribution", true, 1024, err))
        return PYTI_ERR_INPUT;
    if (!is_hex(json_get_str(d, "sha256"), 64))
        return pyti_error_set(err, PYTI_ERR_INPUT, "report distribution.sha256: expected 64 hex digits");
    const json_t *v = json_object_get(r, "verdict");
    if (!json_is_object(v))
        return pyti_error_set(err, PYTI_ERR_INPUT, "report verdict: expected an object");
    if (want_one_of(v, "quality", "verdict", qualities, err) ||
        want_one_of(v, "safety", "verdict", safeties, err))
        return PYTI_ERR_INPUT;
    const json_t *tasks = json_object_get(r, "tasks");
    if (!json_is_array(tasks))
        return pyti_error_set(err, PYTI_ERR_INPUT, "report tasks: expected an array");
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t) {
        char where[32];
        snprintf(where, sizeof where, "tasks[%zu]", i);
        if (!json_is_object(t))
            return pyti_error_set(err, PYTI_ERR_INPUT, "report %s: expected an object", where);
        if (want_string(t, "name", where, false, 256, err) ||
            want_one_of(t, "status", where, statuses, err) ||
            want_string(t, "reason", where, true, 1 << 16, err))
            return PYTI_ERR_INPUT;
        if (!json_is_number(json_object_get(t, "duration_s")))
            return pyti_error_set(err, PYTI_ERR_INPUT, "report %s.duration_s: expected a number", where);
    }
    const json_t *findings = json_object_get(r, "findings");
    if (!json_is_array(findings))
        return pyti_error_set(err, PYTI_ERR_INPUT, "report findings: expected an array");
    json_array_foreach(findings, i, t) {
        char where[32];
        snprintf(where, sizeof where, "findings[%zu]", i);
        if (!json_is_object(t))
            return pyti_error_set(err, PYTI_ERR_INPUT, "report %s: expected an object", where);
        if (want_string(t, "id", where, false, 256, err) ||
            want_one_of(t, "severity", where, severities, err) ||
            want_string(t, "message", where, false, 1 << 16, err) ||
            want_string(t, "where", where, true, 4096, err))
            return PYTI_ERR_INPUT;
    }
    return validate_metrics(r, err);
}
