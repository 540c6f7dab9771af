/* metrics.c — the metrics catalogue and the computation of every metric
 * from a job report, one function per group of the catalogue (see
 * metrics.h, docs/metrics.md; the release history is metrics_history.c).
 * The catalogue table below is the single source of the ids, units,
 * ranges and formulas; the docs page and the web pages are written from
 * it. */
#include "exec/metrics.h"
#include "common/jsonutil.h"
#include "common/str.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "pkg/name.h"
#include "pkg/requirement.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const metric_def catalogue[] = {
    {"installs", "Installs", "boolean", 0, 1, "install", METRIC_HIGHER, true,
     "Whether the distribution installs (with its dependencies, offline) into a fresh venv of "
     "the job's Python; per Python version across a release's reports.",
     "1 if the install task passed, 0 if it failed or timed out"},
    {"imports", "Imports", "ratio", 0, 1, "import", METRIC_HIGHER, true,
     "Share of the installed top-level modules that import in a fresh interpreter.",
     "imported / (imported + failed)"},
    {"tests.count", "Tests run", "count", 0, -1, "test", METRIC_NEUTRAL, false,
     "Number of the package's own tests that ran (pytest or unittest); 0 when it has none "
     "(the test task is then neutral).",
     "counts.tests"},
    {"tests.pass_rate", "Test pass rate", "ratio", 0, 1, "test", METRIC_HIGHER, true,
     "Share of the tests that ran and were not skipped that passed; collection errors count "
     "as failures. Unmeasured (neutral) when the package has no tests.",
     "passed / (passed + failures + errors + collection_errors)"},
    {"coverage", "Line coverage", "percent", 0, 100, "test", METRIC_HIGHER, true,
     "Share of the package's executable lines that its own test run executed, measured by "
     "coverage.py (Debian's python3-coverage) on the installed package's modules.",
     "100 * covered_lines / num_statements"},
    {"style", "Style issues per KLOC", "per KLOC", 0, -1, "lint", METRIC_LOWER, true,
     "pycodestyle issues (default settings) per 1,000 lines of the distribution's Python code.",
     "1000 * pycodestyle_issues / lines"},
    {"pyflakes", "pyflakes warnings per KLOC", "per KLOC", 0, -1, "lint", METRIC_LOWER, true,
     "pyflakes warnings (unused imports, undefined names, ...) per 1,000 lines of Python code.",
     "1000 * pyflakes_warnings / lines"},
    {"metadata_score", "Packaging metadata score", "score", 0, 10, "metadata", METRIC_HIGHER, true,
     "A pyroma-like rating of the core metadata: name, PEP 440 version, summary, description "
     "and its content type, license, classifiers (present and valid), keywords, development "
     "status, Requires-Python, URLs, author and author e-mail.",
     "0 if name, version or summary is missing; else 1 + floor(9 * passed_weight / "
     "total_weight)"},
    {"documentation", "Documentation", "count", 0, 3, "facts", METRIC_HIGHER, true,
     "How many of three kinds of documentation the release has: a README or long "
     "description of at least 100 characters, a documentation directory, a documentation URL.",
     "readme + docs_dir + docs_url"},
    {"dependencies.direct", "Direct dependencies", "count", 0, -1, "metadata", METRIC_NEUTRAL, true,
     "Distinct projects named by Requires-Dist that are not behind an extra.",
     "|{normalised names of Requires-Dist without 'extra' in the marker}|"},
    {"dependencies.transitive", "Installed dependencies", "count", 0, -1, "install",
     METRIC_NEUTRAL, false,
     "Distributions the package's install needs besides itself: the deps task's resolution "
     "(staged from the indexes or satisfied by the system's site-packages), else what pip "
     "installed.",
     "|resolved set| - 1"},
    {"dependencies.freshness", "Dependency freshness", "ratio", 0, 1, "install", METRIC_HIGHER,
     false,
     "Share of the resolved dependencies at the newest version their index offered; "
     "unmeasured when the resolution does not record the newest versions.",
     "|{d : version(d) = latest(d)}| / |resolved dependencies|"},
    {"size", "Distribution size", "bytes", 0, -1, "extract", METRIC_NEUTRAL, true,
     "Size of the distribution file.", "distribution.size"},
    {"size.unpacked", "Unpacked size", "bytes", 0, -1, "extract", METRIC_NEUTRAL, false,
     "Bytes of the files in the unpacked distribution.", "archive.unpacked_size"},
    {"time.build", "Build time", "seconds", 0, -1, "build", METRIC_LOWER, false,
     "Wall time of the build task (a wheel needs no build: near zero).", "tasks[build].duration_s"},
    {"time.install", "Install time", "seconds", 0, -1, "install", METRIC_LOWER, false,
     "Wall time of the install task.", "tasks[install].duration_s"},
    {"time.test", "Test time", "seconds", 0, -1, "test", METRIC_LOWER, true,
     "Wall time of the test task.", "tasks[test].duration_s"},
    {"memory.peak", "Peak memory", "bytes", 0, -1, "build, install, import, test",
     METRIC_LOWER, false,
     "Largest peak memory (cgroup accounting) of the sandboxed tasks.",
     "max(tasks[*].data.resources.peak_memory_bytes)"},
    {"safety.findings", "Static red flags", "count", 0, -1, "scan", METRIC_LOWER, true,
     "Static-scan findings of severity medium or above (all severities are counted in the "
     "details).",
     "|{scan.* findings with severity >= medium}|"},
    {"safety.events", "Suspicious behaviour", "count", 0, -1, "trace", METRIC_LOWER, true,
     "Behaviour events judged medium or above while building, installing, importing and "
     "testing (trace.* and honeytoken.* findings); details count every severity and the raw "
     "events recorded.",
     "|{trace.* or honeytoken.* findings with severity >= medium}|"},
};

#define NCATALOGUE (sizeof catalogue / sizeof *catalogue)

const metric_def *metrics_catalogue(size_t *n)
{
    *n = NCATALOGUE;
    return catalogue;
}

const metric_def *metrics_find(const char *id)
{
    for (size_t i = 0; id && i < NCATALOGUE; i++)
        if (strcmp(catalogue[i].id, id) == 0)
            return &catalogue[i];
    return NULL;
}

/* ---- helpers over the report ---- */

/* The first task run by this built-in (or named so), or NULL. */
static const json_t *task_of(const json_t *report, const char *builtin)
{
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(report, "tasks"), i, t) {
        const char *b = json_get_str(t, "builtin");
        if ((b && strcmp(b, builtin) == 0) || (!b && strcmp(json_get_str(t, "name") ?: "", builtin) == 0))
            return t;
    }
    return NULL;
}

static const char *status_of(const json_t *t)
{
    return t ? json_get_str(t, "status") : NULL;
}

static bool status_is(const json_t *t, const char *st)
{
    const char *s = status_of(t);
    return s && strcmp(s, st) == 0;
}

/* True if the task ran to an outcome about the package (not skipped, not
 * pyti's error). */
static bool task_judged(const json_t *t)
{
    return status_is(t, "passed") || status_is(t, "failed") || status_is(t, "timeout") ||
           status_is(t, "neutral");
}

static const json_t *data_of(const json_t *t)
{
    return t ? json_object_get(t, "data") : NULL;
}

static double num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void set_value(json_t *values, const char *id, double v)
{
    json_object_set_new(values, id, isfinite(v) ? json_real(v) : json_null());
}

/* details[key] = {"status": ..., "reason": ...} for a task that did not
 * give a value, so a page can say why. */
static json_t *why_unmeasured(const json_t *t, const char *builtin)
{
    json_t *o = json_object();
    if (!t) {
        json_object_set_new(o, "status", json_string("absent"));
        json_object_set_new(o, "reason",
                            json_sprintf("the recipe has no '%s' task", builtin));
    } else {
        json_set_text(o, "status", status_of(t));
        json_set_text(o, "reason", json_get_str(t, "reason"));
    }
    return o;
}

/* ---- the metrics, one function per catalogue group ---- */

static void m_installs(const json_t *r, json_t *values, json_t *details)
{
    const json_t *t = task_of(r, "install");
    const json_t *venv = data_of(task_of(r, "venv"));
    const json_t *markers = json_object_get(json_object_get(venv, "interpreter"), "markers");
    double v = NAN;
    if (status_is(t, "passed"))
        v = 1;
    else if (status_is(t, "failed") || status_is(t, "timeout"))
        v = 0;
    set_value(values, "installs", v);
    json_t *d = isfinite(v) ? json_object() : why_unmeasured(t, "install");
    json_set_text(d, "python", json_get_str(markers, "python_full_version"));
    if (isfinite(v))
        json_set_text(d, "status", status_of(t));
    json_object_set_new(details, "installs", d);
}

static void m_imports(const json_t *r, json_t *values, json_t *details)
{
    const json_t *t = task_of(r, "import");
    const json_t *d = data_of(t);
    double ok = num(d, "imported"), bad = num(d, "failed");
    double v = NAN;
    if ((status_is(t, "passed") || status_is(t, "failed")) && isfinite(ok) && isfinite(bad) &&
        ok + bad > 0)
        v = ok / (ok + bad);
    set_value(values, "imports", v);
    json_t *o = isfinite(v) ? json_object() : why_unmeasured(t, "import");
    if (isfinite(v)) {
        json_object_set_new(o, "imported", json_integer((json_int_t)ok));
        json_object_set_new(o, "failed", json_integer((json_int_t)bad));
    }
    json_object_set_new(details, "imports", o);
}

static void m_tests(const json_t *r, json_t *values, json_t *details)
{
    const json_t *t = task_of(r, "test");
    const json_t *d = data_of(t);
    const json_t *c = json_object_get(d, "counts");
    double count = NAN, rate = NAN;
    json_t *o;
    if (status_is(t, "neutral")) {
        count = 0;
        o = json_object();
        json_object_set_new(o, "status", json_string("neutral"));
        json_set_text(o, "reason", json_get_str(t, "reason"));
    } else if ((status_is(t, "passed") || status_is(t, "failed")) && json_is_object(c)) {
        count = num(c, "tests");
        double passed = num(c, "passed");
        double bad = num(c, "failures") + num(c, "errors") + num(c, "collection_errors");
        if (isfinite(passed) && isfinite(bad) && passed + bad > 0)
            rate = passed / (passed + bad);
        o = json_object();
        json_set_text(o, "status", status_of(t));
        json_object_set(o, "counts", (json_t *)c);
        json_set_text(o, "runner", json_get_str(d, "runner"));
    } else {
        o = why_unmeasured(t, "test");
    }
    set_value(values, "tests.count", count);
    set_value(values, "tests.pass_rate", rate);
    json_object_set_new(details, "tests", o);

    const json_t *cov = json_object_get(d, "coverage");
    double pct = num(cov, "percent");
    set_value(values, "coverage", pct);
    json_t *co;
    if (isfinite(pct)) {
        co = json_deep_copy(cov);
    } else if (json_is_object(cov)) {
        co = json_object();
        json_object_set_new(co, "status", json_string("unmeasured"));
        json_set_text(co, "reason", json_get_str(cov, "reason"));
    } else if (task_judged(t)) {
        co = json_object();
        json_object_set_new(co, "status", json_string("unmeasured"));
        json_object_set_new(co, "reason",
                            json_string(status_is(t, "neutral")
                                            ? "no tests ran"
                                            : "the test task did not measure coverage"));
    } else {
        co = why_unmeasured(t, "test");
    }
    json_object_set_new(details, "coverage", co);
}

static void m_lint(const json_t *r, json_t *values, json_t *details)
{
    const json_t *t = task_of(r, "lint");
    const json_t *d = data_of(t);
    bool ok = status_is(t, "passed");
    set_value(values, "style", ok ? num(d, "pycodestyle_per_kloc") : NAN);
    set_value(values, "pyflakes", ok ? num(d, "pyflakes_per_kloc") : NAN);
    json_t *o = ok ? json_object() : why_unmeasured(t, "lint");
    if (ok) {
        static const char *const keep[] = {"lines", "python_files", "pycodestyle_issues",
                                           "pyflakes_warnings", "pycodestyle_codes", NULL};
        for (size_t i = 0; keep[i]; i++)
            if (json_object_get(d, keep[i]))
                json_object_set(o, keep[i], json_object_get(d, keep[i]));
    }
    json_object_set_new(details, "lint", o);
}

/* ---- the packaging metadata score ---- */

static bool has_finding(const json_t *r, const char *prefix)
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(r, "findings"), i, f) {
        const char *id = json_get_str(f, "id");
        if (id && str_startswith(id, prefix))
            return true;
    }
    return false;
}

/* A metadata field as non-blank text: a string, or the first string of a
 * list. */
static const char *field(const json_t *md, const char *key)
{
    const json_t *v = json_object_get(md, key);
    if (json_is_array(v))
        v = json_array_get(v, 0);
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    return s && !str_blank(s) ? s : NULL;
}

static size_t field_len(const json_t *md, const char *key)
{
    const char *s = field(md, key);
    return s ? strlen(s) : 0;
}

static bool any_classifier(const json_t *md, const char *prefix)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(md, "classifier"), i, c)
        if (json_is_string(c) && str_startswith(json_string_value(c), prefix))
            return true;
    return false;
}

/* "Name <mail>" in an e-mail field carries a name (PEP 621 tools write
 * authors that way, leaving Author empty). */
static bool email_has_name(const char *e)
{
    if (!e)
        return false;
    const char *lt = strchr(e, '<');
    if (!lt)
        return false;
    for (const char *p = e; p < lt; p++)
        if (*p != ' ' && *p != '"' && *p != ',')
            return true;
    return false;
}

typedef struct score_check {
    const char *id;
    int weight;  /* 0: fatal (a failure makes the score 0) */
    bool ok;
    const char *fix;
} score_check;

static void m_metadata_score(const json_t *r, json_t *values, json_t *details)
{
    const json_t *t = task_of(r, "metadata");
    const json_t *md = json_object_get(data_of(t), "metadata");
    if (!json_is_object(md)) {
        set_value(values, "metadata_score", NAN);
        json_object_set_new(details, "metadata_score", why_unmeasured(t, "metadata"));
        return;
    }
    const char *ctype = field(md, "description_content_type");
    bool ctype_ok = ctype && (str_startswith(ctype, "text/plain") ||
                              str_startswith(ctype, "text/markdown") ||
                              str_startswith(ctype, "text/x-rst"));
    bool license = field(md, "license") || field(md, "license_expression") ||
                   any_classifier(md, "License ::");
    bool urls = field(md, "home_page") || field(md, "project_url") || field(md, "download_url");
    bool author = field(md, "author") || field(md, "maintainer") ||
                  email_has_name(field(md, "author_email")) ||
                  email_has_name(field(md, "maintainer_email"));
    bool email = field(md, "author_email") || field(md, "maintainer_email");
    score_check checks[] = {
        {"name", 0, field(md, "name") && !has_finding(r, "metadata.invalid-name"),
         "a valid Name"},
        {"version", 0, field(md, "version") != NULL, "a Version"},
        {"summary", 0, field(md, "summary") != NULL, "a Summary"},
        {"summary_length", 100, field_len(md, "summary") > 10,
         "a Summary longer than 10 characters"},
        {"version_pep440", 50, field(md, "version") && !has_finding(r, "metadata.invalid-version"),
         "a PEP 440 Version"},
        {"description", 50, field_len(md, "description") > 100,
         "a description (README) longer than 100 characters"},
        {"description_content_type", 50, ctype_ok,
         "Description-Content-Type text/markdown, text/x-rst or text/plain"},
        {"classifiers", 100, field(md, "classifier") != NULL, "trove classifiers"},
        {"classifiers_valid", 20,
         !has_finding(r, "metadata.invalid-classifier") &&
             !has_finding(r, "metadata.unknown-classifier"),
         "only known, valid trove classifiers"},
        {"requires_python", 100,
         field(md, "requires_python") && !has_finding(r, "metadata.invalid-requires-python"),
         "a valid Requires-Python"},
        {"keywords", 20, field(md, "keywords") != NULL, "Keywords"},
        {"development_status", 20, any_classifier(md, "Development Status ::"),
         "a 'Development Status ::' classifier"},
        {"author", 100, author, "an Author (or Maintainer)"},
        {"author_email", 100, email, "an Author-email (or Maintainer-email)"},
        {"urls", 20, urls, "a Home-page or Project-URL"},
        {"license", 50, license, "a License, License-Expression or license classifier"},
    };
    int good = 0, bad = 0;
    bool fatal = false;
    json_t *arr = json_array();
    json_t *missing = json_array();
    for (size_t i = 0; i < sizeof checks / sizeof *checks; i++) {
        const score_check *c = &checks[i];
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(c->id));
        json_object_set_new(o, "ok", json_boolean(c->ok));
        json_object_set_new(o, "weight", c->weight ? json_integer(c->weight) : json_string("fatal"));
        json_array_append_new(arr, o);
        if (c->ok) {
            good += c->weight;
        } else {
            if (c->weight)
                bad += c->weight;
            else
                fatal = true;
            json_array_append_new(missing, json_string(c->fix));
        }
    }
    /* pyroma's formula, so the two ratings are comparable. */
    int score = fatal ? 0 : (good * 9) / (good + bad) + 1;
    set_value(values, "metadata_score", score);
    json_t *o = json_object();
    json_object_set_new(o, "checks", arr);
    json_object_set_new(o, "missing", missing);
    json_object_set_new(details, "metadata_score", o);
}

/* ---- documentation ---- */

static bool is_docs_url(const char *entry)
{
    /* Project-URL is "Label, URL". */
    char *s = str_lower(xstrdup(entry));
    bool yes = str_startswith(s, "documentation") || str_startswith(s, "docs") ||
               strstr(s, "readthedocs.") != NULL || strstr(s, "://docs.") != NULL ||
               strstr(s, ".github.io") != NULL;
    free(s);
    return yes;
}

static void m_documentation(const json_t *r, json_t *values, json_t *details)
{
    const json_t *facts = data_of(task_of(r, "facts"));
    const json_t *md = json_object_get(data_of(task_of(r, "metadata")), "metadata");
    if (!json_is_object(facts) && !json_is_object(md)) {
        set_value(values, "documentation", NAN);
        json_object_set_new(details, "documentation", why_unmeasured(task_of(r, "facts"), "facts"));
        return;
    }
    bool readme = json_is_true(json_object_get(facts, "has_readme")) ||
                  field_len(md, "description") >= 100;
    bool docs_dir = json_is_true(json_object_get(facts, "has_docs"));
    bool docs_url = false;
    size_t i;
    const json_t *u;
    json_array_foreach(json_object_get(md, "project_url"), i, u)
        docs_url |= json_is_string(u) && is_docs_url(json_string_value(u));
    const char *home = field(md, "home_page");
    docs_url |= home && (strstr(home, "readthedocs.") || strstr(home, "://docs."));
    set_value(values, "documentation", (double)(readme + docs_dir + docs_url));
    json_t *o = json_object();
    json_object_set_new(o, "readme", json_boolean(readme));
    json_object_set_new(o, "docs_dir", json_boolean(docs_dir));
    json_object_set_new(o, "docs_url", json_boolean(docs_url));
    json_object_set_new(details, "documentation", o);
}

/* ---- dependencies ---- */

json_t *metrics_resolved_set(const json_t *r)
{
    /* The deps task's staging record (docs/tasks.md, "Staging"). */
    const json_t *staging = json_object_get(data_of(task_of(r, "deps")), "staging");
    if (json_is_object(staging)) {
        json_t *out = json_array();
        static const char *const lists[] = {"staged", "installed"};
        for (int k = 0; k < 2; k++) {
            size_t i;
            const json_t *e;
            json_array_foreach(json_object_get(staging, lists[k]), i, e) {
                json_t *c = json_object();
                static const char *const keep[] = {"name", "version", "filename", "index",
                                                   "latest", NULL};
                for (size_t j = 0; keep[j]; j++)
                    if (json_is_string(json_object_get(e, keep[j])))
                        json_object_set(c, keep[j], json_object_get(e, keep[j]));
                json_object_set_new(c, "source", json_string(lists[k]));
                json_array_append_new(out, c);
            }
        }
        return out;
    }
    /* Any other task's data.resolved. */
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(r, "tasks"), i, t) {
        const json_t *res = json_object_get(data_of(t), "resolved");
        if (json_is_array(res))
            return json_incref((json_t *)res);
    }
    return NULL;
}

static void m_dependencies(const json_t *r, json_t *values, json_t *details)
{
    const json_t *dist = json_object_get(r, "distribution");
    const json_t *md = json_object_get(data_of(task_of(r, "metadata")), "metadata");
    json_t *o = json_object();
    if (json_is_object(md)) {
        pyti_strv names = PYTI_STRV_INIT;
        size_t i;
        const json_t *rq;
        json_array_foreach(json_object_get(md, "requires_dist"), i, rq) {
            if (!json_is_string(rq))
                continue;
            pyti_requirement *req = requirement_parse(json_string_value(rq), NULL);
            if (!req)
                continue; /* metadata.invalid-requires-dist says so */
            char *marker = req->marker ? marker_to_string(req->marker) : NULL;
            if (!marker || !strstr(marker, "extra"))
                strv_push_unique(&names, req->normalized);
            free(marker);
            requirement_free(req);
        }
        set_value(values, "dependencies.direct", (double)names.len);
        json_t *arr = json_array();
        for (size_t k = 0; k < names.len; k++)
            json_array_append_new(arr, json_text(names.items[k]));
        json_object_set_new(o, "direct", arr);
        strv_free(&names);
    } else {
        set_value(values, "dependencies.direct", NAN);
    }

    char *self = name_normalize(json_get_str(dist, "name") ?: "");
    json_t *res = metrics_resolved_set(r);
    const json_t *inst = task_of(r, "install");
    double transitive = NAN, fresh = NAN;
    if (res) {
        size_t i, n = 0, known = 0, newest = 0;
        const json_t *e;
        json_array_foreach(res, i, e) {
            char *nm = name_normalize(json_get_str(e, "name") ?: "");
            bool is_self = strcmp(nm, self) == 0;
            free(nm);
            if (is_self)
                continue;
            n++;
            const char *ver = json_get_str(e, "version"), *latest = json_get_str(e, "latest");
            if (ver && latest) {
                known++;
                newest += strcmp(ver, latest) == 0;
            }
        }
        transitive = (double)n;
        if (n > 0 && known == n)
            fresh = (double)newest / (double)n;
        json_object_set_new(o, "transitive_source", json_string("resolved set"));
    } else if (status_is(inst, "passed")) {
        size_t i, n = 0;
        const json_t *e;
        json_array_foreach(json_object_get(data_of(inst), "installed"), i, e) {
            char *nm = name_normalize(json_get_str(e, "name") ?: "");
            n += strcmp(nm, self) != 0;
            free(nm);
        }
        transitive = (double)n;
        json_object_set_new(o, "transitive_source", json_string("pip install report"));
    }
    free(self);
    json_decref(res);
    if (!isfinite(fresh))
        json_object_set_new(o, "freshness_reason",
                            json_string(res ? "the resolution does not record the newest "
                                              "versions the indexes offered"
                                            : "no resolution recorded"));
    set_value(values, "dependencies.transitive", transitive);
    set_value(values, "dependencies.freshness", fresh);
    json_object_set_new(details, "dependencies", o);
}

/* ---- size and resources ---- */

static double task_time(const json_t *r, const char *builtin)
{
    const json_t *t = task_of(r, builtin);
    return task_judged(t) ? num(t, "duration_s") : NAN;
}

static void m_resources(const json_t *r, json_t *values, json_t *details)
{
    const json_t *dist = json_object_get(r, "distribution");
    set_value(values, "size", num(dist, "size"));
    const json_t *archive = json_object_get(data_of(task_of(r, "extract")), "archive");
    set_value(values, "size.unpacked", num(archive, "unpacked_size"));
    set_value(values, "time.build", task_time(r, "build"));
    set_value(values, "time.install", task_time(r, "install"));
    set_value(values, "time.test", task_time(r, "test"));
    double peak = NAN;
    json_t *per_task = json_object();
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(r, "tasks"), i, t) {
        double p = num(json_object_get(data_of(t), "resources"), "peak_memory_bytes");
        if (isfinite(p)) {
            json_object_set_new(per_task, json_get_str(t, "name") ?: "?", json_real(p));
            if (!isfinite(peak) || p > peak)
                peak = p;
        }
    }
    set_value(values, "memory.peak", peak);
    json_t *o = json_object();
    json_object_set_new(o, "peak_memory_bytes", per_task);
    json_object_set_new(details, "resources", o);
}

/* ---- safety ---- */

static bool is_static_safety(const char *id)
{
    return str_startswith(id, "scan.") || strcmp(id, "archive.escape") == 0;
}

static bool is_behaviour(const char *id)
{
    return str_startswith(id, "trace.") || str_startswith(id, "honeytoken.");
}

static bool medium_or_above(const char *sev)
{
    return sev && (strcmp(sev, "medium") == 0 || strcmp(sev, "high") == 0 ||
                   strcmp(sev, "critical") == 0);
}

static json_t *severity_counts(void)
{
    json_t *o = json_object();
    static const char *const sev[] = {"info", "low", "medium", "high", "critical", NULL};
    for (size_t i = 0; sev[i]; i++)
        json_object_set_new(o, sev[i], json_integer(0));
    return o;
}

static void bump(json_t *counts, const char *sev)
{
    json_t *v = sev ? json_object_get(counts, sev) : NULL;
    if (json_is_integer(v))
        json_integer_set(v, json_integer_value(v) + 1);
}

static void m_safety(const json_t *r, json_t *values, json_t *details)
{
    json_t *stat = severity_counts(), *beh = severity_counts();
    long long nstat = 0, nbeh = 0;
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(r, "findings"), i, f) {
        const char *id = json_get_str(f, "id"), *sev = json_get_str(f, "severity");
        if (!id)
            continue;
        if (is_static_safety(id)) {
            bump(stat, sev);
            nstat += medium_or_above(sev);
        } else if (is_behaviour(id)) {
            bump(beh, sev);
            nbeh += medium_or_above(sev);
        }
    }
    /* Raw events: the sandbox's per task, and a report-level list if the
     * tracer keeps one. Behaviour was observed only if a sandboxed task
     * (or a trace task) ran. */
    long long events = 0, dropped = 0;
    bool observed = task_judged(task_of(r, "trace"));
    const json_t *t;
    json_array_foreach(json_object_get(r, "tasks"), i, t) {
        const json_t *sb = json_object_get(data_of(t), "sandbox");
        if (!json_is_object(sb))
            continue;
        observed = true;
        events += (long long)json_array_size(json_object_get(sb, "events"));
        const json_t *d = json_object_get(sb, "events_dropped");
        dropped += json_is_integer(d) ? json_integer_value(d) : 0;
    }
    if (json_is_array(json_object_get(r, "events"))) {
        /* The tracer's timeline (exec/report_events.c): its own counts. */
        events = (long long)json_array_size(json_object_get(r, "events"));
        const json_t *d = json_object_get(r, "events_dropped");
        if (json_is_integer(d))
            dropped = json_integer_value(d);
    }

    bool scanned = task_judged(task_of(r, "scan"));
    set_value(values, "safety.findings", scanned || nstat ? (double)nstat : NAN);
    set_value(values, "safety.events", observed || nbeh ? (double)nbeh : NAN);
    json_t *o = json_object();
    json_object_set_new(o, "findings_by_severity", stat);
    json_object_set_new(o, "events_by_severity", beh);
    json_object_set_new(o, "events_recorded", json_integer(events));
    json_object_set_new(o, "events_dropped", json_integer(dropped));
    json_object_set_new(details, "safety", o);
}

json_t *metrics_compute(const json_t *report)
{
    json_t *values = json_object(), *details = json_object();
    m_installs(report, values, details);
    m_imports(report, values, details);
    m_tests(report, values, details);
    m_lint(report, values, details);
    m_metadata_score(report, values, details);
    m_documentation(report, values, details);
    m_dependencies(report, values, details);
    m_resources(report, values, details);
    m_safety(report, values, details);
    json_t *m = json_object();
    json_object_set_new(m, "catalogue_version", json_integer(PYTI_METRICS_CATALOGUE_VERSION));
    json_object_set_new(m, "values", values);
    json_object_set_new(m, "details", details);
    return m;
}

bool metrics_validate(const json_t *m, char *msg, size_t size)
{
    if (!json_is_object(m)) {
        snprintf(msg, size, "metrics: expected an object");
        return false;
    }
    if (!json_is_integer(json_object_get(m, "catalogue_version"))) {
        snprintf(msg, size, "metrics.catalogue_version: expected an integer");
        return false;
    }
    const json_t *values = json_object_get(m, "values");
    if (!json_is_object(values)) {
        snprintf(msg, size, "metrics.values: expected an object");
        return false;
    }
    if (json_object_size(values) > 256) {
        snprintf(msg, size, "metrics.values: more than 256 members");
        return false;
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)values, k, v) {
        if (!json_is_number(v) && !json_is_null(v)) {
            snprintf(msg, size, "metrics.values.%.64s: expected a number or null", k);
            return false;
        }
        if (strlen(k) > 64) {
            snprintf(msg, size, "metrics.values: a member name is longer than 64 bytes");
            return false;
        }
    }
    const json_t *d = json_object_get(m, "details");
    if (d && !json_is_object(d)) {
        snprintf(msg, size, "metrics.details: expected an object");
        return false;
    }
    return true;
}

json_t *metrics_of_report(const json_t *report)
{
    const json_t *m = json_object_get(report, "metrics");
    char msg[128];
    if (m && metrics_validate(m, msg, sizeof msg))
        return json_incref((json_t *)m);
    return metrics_compute(report);
}

void metrics_format(const metric_def *m, double v, char *out, size_t size)
{
    if (!isfinite(v) || !m) {
        snprintf(out, size, "\xe2\x80\x93"); /* en dash */
        return;
    }
    const char *u = m->unit;
    if (strcmp(u, "boolean") == 0)
        snprintf(out, size, "%s", v != 0 ? "yes" : "no");
    else if (strcmp(u, "ratio") == 0)
        snprintf(out, size, "%.1f %%", v * 100);
    else if (strcmp(u, "percent") == 0)
        snprintf(out, size, "%.1f %%", v);
    else if (strcmp(u, "per KLOC") == 0)
        snprintf(out, size, "%.1f /KLOC", v);
    else if (strcmp(u, "score") == 0)
        snprintf(out, size, "%.0f/10", v);
    else if (strcmp(u, "seconds") == 0)
        snprintf(out, size, v < 10 ? "%.2f s" : "%.1f s", v);
    else if (strcmp(u, "bytes") == 0) {
        if (v < 1024)
            snprintf(out, size, "%.0f B", v);
        else if (v < 1024 * 1024)
            snprintf(out, size, "%.1f KiB", v / 1024);
        else if (v < 1024.0 * 1024 * 1024)
            snprintf(out, size, "%.1f MiB", v / (1024 * 1024));
        else
            snprintf(out, size, "%.2f GiB", v / (1024.0 * 1024 * 1024));
    } else if (strcmp(m->id, "documentation") == 0)
        snprintf(out, size, "%.0f/3", v);
    else
        snprintf(out, size, "%.0f", v);
}

/* ---- history ---- */

json_t *metrics_test_names(const json_t *report)
{
    const json_t *td = data_of(task_of(report, "test"));
    json_t *failed = json_array(), *passed = json_array();
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(td, "failed_tests"), i, f)
        if (json_get_str(f, "test"))
            json_array_append_new(failed, json_string(json_get_str(f, "test")));
    json_array_foreach(json_object_get(td, "passed_tests"), i, f)
        if (json_is_string(f))
            json_array_append(passed, (json_t *)f);
    json_t *o = json_object();
    json_object_set_new(o, "failed", failed);
    json_object_set_new(o, "passed", passed);
    return o;
}

json_t *metrics_history_entry(const json_t *report)
{
    json_t *m = metrics_of_report(report);
    json_t *names = metrics_test_names(report);
    json_t *o = json_object();
    json_set_text(o, "version", json_get_str(json_object_get(report, "distribution"), "version"));
    json_set_text(o, "safety", json_get_str(json_object_get(report, "verdict"), "safety"));
    json_object_set(o, "values", json_object_get(m, "values"));
    json_object_set(o, "failed_tests", json_object_get(names, "failed"));
    json_object_set(o, "passed_tests", json_object_get(names, "passed"));
    json_decref(names);
    json_decref(m);
    return o;
}
