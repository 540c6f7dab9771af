/* test_metrics.c — the metrics catalogue (exec/metrics.c): every metric
 * computed from reports built here, unmeasured values and their reasons,
 * the metadata score against pyroma's formula, validation of the metrics
 * member, formatting, and the release history (changes and regressions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "common/jsonutil.h"
#include "exec/metrics.h"
#include "exec/report.h"

static json_t *task(const char *name, const char *status, double dur, json_t *data)
{
    json_t *t = json_pack("{s:s, s:s, s:s, s:n, s:s, s:f}", "name", name, "builtin", name,
                          "status", status, "reason", "started", "2026-12-06T10:00:00.000Z",
                          "duration_s", dur);
    json_object_set_new(t, "data", data ? data : json_object());
    return t;
}

/* A report of a healthy sdist: every task ran. */
static json_t *full_report(void)
{
    json_t *md = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s,s,s], s:s, s:[s,s], s:[s], s:s}",
        "name", "demo", "version", "1.0", "summary", "A demonstration package",
        "description",
        "A long description of the demonstration package, long enough to count as a real "
        "README for the purposes of the score.",
        "description_content_type", "text/markdown", "license", "MIT", "author", "Ann",
        "author_email", "ann@example.invalid", "classifier",
        "Development Status :: 4 - Beta", "License :: OSI Approved :: MIT License",
        "Programming Language :: Python :: 3.11", "requires_python", ">=3.9", "requires_dist",
        "requests>=2", "pytest; extra == \"test\"", "project_url",
        "Documentation, https://demo.readthedocs.io/", "keywords", "demo");
    json_t *tasks = json_array();
    json_array_append_new(tasks, task("extract", "passed", 0.1,
                                      json_pack("{s:{s:i}}", "archive", "unpacked_size", 5000)));
    json_array_append_new(tasks, task("metadata", "passed", 0.01, json_pack("{s:o}", "metadata", md)));
    json_array_append_new(tasks, task("facts", "passed", 0.01,
                                      json_pack("{s:b, s:b}", "has_readme", 1, "has_docs", 1)));
    json_array_append_new(tasks, task("scan", "passed", 0.05, NULL));
    json_array_append_new(
        tasks, task("venv", "passed", 0.3,
                    json_pack("{s:{s:{s:s}}}", "interpreter", "markers", "python_full_version",
                              "3.11.2")));
    json_array_append_new(tasks, task("build", "passed", 4.0,
                                      json_pack("{s:{s:i}}", "resources", "peak_memory_bytes",
                                                60000000)));
    json_array_append_new(
        tasks, task("install", "passed", 3.0,
                    json_pack("{s:[{s:s,s:s},{s:s,s:s}], s:{s:i}, s:{}}", "installed", "name",
                              "Demo", "version", "1.0", "name", "requests", "version", "2.31",
                              "resources", "peak_memory_bytes", 50000000, "sandbox")));
    json_array_append_new(tasks, task("import", "failed", 0.5,
                                      json_pack("{s:i, s:i}", "imported", 3, "failed", 1)));
    json_array_append_new(
        tasks, task("test", "failed", 2.0,
                    json_pack("{s:{s:i,s:i,s:i,s:i,s:i,s:i}, s:s, s:{s:f,s:i,s:i}}", "counts",
                              "tests", 10, "passed", 7, "failures", 1, "errors", 1, "skipped", 1,
                              "collection_errors", 0, "runner", "pytest", "coverage", "percent",
                              81.5, "statements", 200, "covered", 163)));
    json_array_append_new(tasks, task("lint", "passed", 0.4,
                                      json_pack("{s:f, s:f, s:i}", "pycodestyle_per_kloc", 12.5,
                                                "pyflakes_per_kloc", 1.5, "lines", 800)));
    json_t *findings = json_pack("[{s:s,s:s,s:s,s:n,s:s}, {s:s,s:s,s:s,s:n,s:s},"
                                 " {s:s,s:s,s:s,s:n,s:s}]",
                                 "id", "scan.exec-base64", "severity", "high", "message", "x",
                                 "where", "task", "scan", "id", "scan.long-line", "severity",
                                 "low", "message", "y", "where", "task", "scan", "id",
                                 "trace.network-connect", "severity", "medium", "message", "z",
                                 "where", "task", "install");
    return json_pack("{s:i, s:s, s:{s:s, s:s, s:s, s:i}, s:o, s:o}", "schema_version", 1, "id",
                     "0123456789abcdef0123456789abcdef", "distribution", "name", "demo", "version",
                     "1.0", "filename", "demo-1.0.tar.gz", "size", 1234, "tasks", tasks,
                     "findings", findings);
}

static double val(const json_t *m, const char *id)
{
    const json_t *v = json_object_get(json_object_get(m, "values"), id);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void test_every_metric(void **state)
{
    (void)state;
    json_t *r = full_report();
    json_t *m = metrics_compute(r);
    size_t n;
    const metric_def *cat = metrics_catalogue(&n);
    /* Every catalogue id is present in values, as a number or null. */
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_object_get(json_object_get(m, "values"), cat[i].id);
        assert_non_null(v);
        assert_true(json_is_number(v) || json_is_null(v));
    }
    assert_int_equal(json_object_size(json_object_get(m, "values")), n);
    assert_true(val(m, "installs") == 1);
    assert_true(fabs(val(m, "imports") - 0.75) < 1e-9);
    assert_true(val(m, "tests.count") == 10);
    /* 7 passed of 9 judged (failures + errors count, skipped do not) */
    assert_true(fabs(val(m, "tests.pass_rate") - 7.0 / 9.0) < 1e-9);
    assert_true(val(m, "coverage") == 81.5);
    assert_true(val(m, "style") == 12.5);
    assert_true(val(m, "pyflakes") == 1.5);
    assert_true(val(m, "metadata_score") == 10);
    assert_true(val(m, "documentation") == 3);
    assert_true(val(m, "dependencies.direct") == 1); /* pytest is behind an extra */
    assert_true(val(m, "dependencies.transitive") == 1); /* requests; Demo is itself */
    assert_true(isnan(val(m, "dependencies.freshness")));
    assert_true(val(m, "size") == 1234);
    assert_true(val(m, "size.unpacked") == 5000);
    assert_true(val(m, "time.build") == 4.0);
    assert_true(val(m, "time.install") == 3.0);
    assert_true(val(m, "time.test") == 2.0);
    assert_true(val(m, "memory.peak") == 60000000);
    assert_true(val(m, "safety.findings") == 1); /* high; the low one is only counted */
    assert_true(val(m, "safety.events") == 1);
    const json_t *d = json_object_get(m, "details");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(d, "safety"), "findings_by_severity"),
                         "low")),
                     1);
    assert_string_equal(json_get_str(json_object_get(d, "installs"), "python"), "3.11.2");
    json_decref(m);
    json_decref(r);
}

static json_t *task_named(json_t *r, const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(r, "tasks"), i, t)
        if (strcmp(json_get_str(t, "name"), name) == 0)
            return t;
    return NULL;
}

static void test_unmeasured_and_neutral(void **state)
{
    (void)state;
    json_t *r = full_report();
    json_t *t = task_named(r, "test");
    json_object_set_new(t, "status", json_string("neutral"));
    json_object_set_new(t, "reason", json_string("no tests found"));
    json_object_set_new(t, "data", json_object());
    json_object_set_new(task_named(r, "install"), "status", json_string("skipped"));
    json_object_set_new(task_named(r, "lint"), "status", json_string("error"));
    json_object_set_new(task_named(r, "lint"), "reason", json_string("helper crashed"));
    json_t *m = metrics_compute(r);
    assert_true(val(m, "tests.count") == 0);
    assert_true(isnan(val(m, "tests.pass_rate")));
    assert_true(isnan(val(m, "coverage")));
    assert_true(isnan(val(m, "installs")));
    assert_true(isnan(val(m, "style")));
    const json_t *d = json_object_get(m, "details");
    assert_string_equal(json_get_str(json_object_get(d, "tests"), "status"), "neutral");
    assert_string_equal(json_get_str(json_object_get(d, "lint"), "reason"), "helper crashed");
    assert_string_equal(json_get_str(json_object_get(d, "installs"), "status"), "skipped");
    json_decref(m);
    /* A static recipe: no install task at all. */
    json_t *tasks = json_object_get(r, "tasks");
    for (size_t i = json_array_size(tasks); i-- > 0;) {
        const char *nm = json_get_str(json_array_get(tasks, i), "name");
        if (strcmp(nm, "install") == 0 || strcmp(nm, "test") == 0)
            json_array_remove(tasks, i);
    }
    m = metrics_compute(r);
    assert_string_equal(json_get_str(json_object_get(json_object_get(m, "details"), "installs"),
                                     "status"),
                        "absent");
    assert_true(isnan(val(m, "time.test")));
    json_decref(m);
    json_decref(r);
}

static void test_metadata_score(void **state)
{
    (void)state;
    json_t *r = full_report();
    json_t *md = json_object_get(json_object_get(task_named(r, "metadata"), "data"), "metadata");
    /* Without keywords (20) and URLs (20): good 760 of 800 ->
     * 760*9/800 + 1 = 9 (integer division, as pyroma). */
    json_object_del(md, "keywords");
    json_object_del(md, "project_url");
    json_t *m = metrics_compute(r);
    assert_true(val(m, "metadata_score") == 9);
    json_decref(m);
    /* An invalid classifier finding fails classifiers_valid (20). */
    json_array_append_new(json_object_get(r, "findings"),
                          json_pack("{s:s,s:s,s:s,s:n}", "id", "metadata.unknown-classifier",
                                    "severity", "low", "message", "m", "where"));
    m = metrics_compute(r);
    assert_true(val(m, "metadata_score") == (740 * 9) / 800 + 1);
    json_decref(m);
    /* No summary is fatal: 0, as in pyroma. */
    json_object_del(md, "summary");
    m = metrics_compute(r);
    assert_true(val(m, "metadata_score") == 0);
    json_decref(m);
    /* PEP 621 style: the author's name only in Author-email still counts. */
    json_object_set_new(md, "summary", json_string("A demonstration package"));
    json_object_del(md, "author");
    json_object_set_new(md, "author_email", json_string("Ann Smith <ann@example.invalid>"));
    m = metrics_compute(r);
    const json_t *checks = json_object_get(json_object_get(json_object_get(m, "details"),
                                                           "metadata_score"),
                                           "checks");
    size_t i;
    const json_t *c;
    bool seen = false;
    json_array_foreach(checks, i, c)
        if (strcmp(json_get_str(c, "id"), "author") == 0) {
            assert_true(json_is_true(json_object_get(c, "ok")));
            seen = true;
        }
    assert_true(seen);
    json_decref(m);
    json_decref(r);
}

/* The deps task's staging record is the resolved set. */
static void test_resolved_set(void **state)
{
    (void)state;
    json_t *r = full_report();
    json_array_append_new(
        json_object_get(r, "tasks"),
        task("deps", "passed", 0.1,
             json_pack("{s:{s:[{s:s,s:s,s:s,s:s}, {s:s,s:s,s:s,s:s}], s:[{s:s,s:s}]}}", "staging",
                       "staged", "name", "requests", "version", "2.31", "filename",
                       "requests-2.31-py3-none-any.whl", "index", "https://pypi.org/simple",
                       "name", "urllib3", "version", "2.0", "filename",
                       "urllib3-2.0-py3-none-any.whl", "index", "https://pypi.org/simple",
                       "installed", "name", "idna", "version", "3.4")));
    json_t *set = metrics_resolved_set(r);
    assert_int_equal(json_array_size(set), 3);
    assert_string_equal(json_get_str(json_array_get(set, 2), "source"), "installed");
    json_decref(set);
    json_t *m = metrics_compute(r);
    assert_true(val(m, "dependencies.transitive") == 3);
    assert_true(isnan(val(m, "dependencies.freshness")));
    json_decref(m);
    json_decref(r);
}

static void test_validate(void **state)
{
    (void)state;
    char msg[160];
    json_t *r = full_report();
    json_t *m = metrics_compute(r);
    assert_true(metrics_validate(m, msg, sizeof msg));
    json_object_set_new(json_object_get(m, "values"), "coverage", json_string("high"));
    assert_false(metrics_validate(m, msg, sizeof msg));
    assert_non_null(strstr(msg, "metrics.values.coverage"));
    json_decref(m);
    /* report_validate names the member; a report without metrics is fine. */
    json_t *full = json_pack("{s:i, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:[], s:[],"
                             " s:{s:s, s:s}, s:s}",
                             "schema_version", 1, "id", "0123456789abcdef0123456789abcdef",
                             "created", "2026-12-06T10:00:00.000Z", "pyti_version", "0.1.0",
                             "outcome", "passed", "distribution", "name", "demo", "version", "1",
                             "filename", "demo-1.tar.gz", "sha256",
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                             "tasks", "findings", "verdict", "quality", "ok", "safety", "clean",
                             "metrics", "values");
    pyti_error err;
    assert_int_equal(report_validate(full, &err), PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "metrics"));
    json_object_del(full, "metrics");
    assert_int_equal(report_validate(full, &err), PYTI_OK);
    /* An old report (no metrics member) gets computed ones. */
    json_t *old = metrics_of_report(full);
    assert_non_null(json_object_get(old, "values"));
    json_decref(old);
    json_decref(full);
    json_decref(r);
}

static void test_format(void **state)
{
    (void)state;
    char out[48];
    metrics_format(metrics_find("tests.pass_rate"), 0.975, out, sizeof out);
    assert_string_equal(out, "97.5 %");
    metrics_format(metrics_find("size"), 3.5 * 1024 * 1024, out, sizeof out);
    assert_string_equal(out, "3.5 MiB");
    metrics_format(metrics_find("installs"), 0, out, sizeof out);
    assert_string_equal(out, "no");
    metrics_format(metrics_find("coverage"), NAN, out, sizeof out);
    assert_string_equal(out, "\xe2\x80\x93");
    assert_null(metrics_find("no.such.metric"));
}

static json_t *rel(const char *version, const char *safety, double installs, double rate,
                   const char *passed, const char *failed)
{
    json_t *o = json_pack("{s:s, s:s, s:{s:f, s:f, s:f}}", "version", version, "safety", safety,
                          "values", "installs", installs, "tests.pass_rate", rate, "size", 100.0);
    if (passed)
        json_object_set_new(o, "passed_tests", json_pack("[s, s]", passed, "t::ok"));
    if (failed)
        json_object_set_new(o, "failed_tests", json_pack("[s]", failed));
    return o;
}

static const json_t *find_reg(const json_t *h, size_t i, const char *kind)
{
    size_t k;
    const json_t *g;
    json_array_foreach(json_object_get(json_array_get(h, i), "regressions"), k, g)
        if (strcmp(json_get_str(g, "kind"), kind) == 0)
            return g;
    return NULL;
}

static void test_history(void **state)
{
    (void)state;
    json_t *rels = json_array();
    json_array_append_new(rels, rel("1.0", "clean", 1, 1.0, "t::a", NULL));
    json_array_append_new(rels, rel("1.1", "clean", 1, 0.5, NULL, "t::a"));
    json_array_append_new(rels, rel("1.2", "suspicious", 0, 0.5, NULL, NULL));
    json_array_append_new(rels, rel("1.3", "suspicious", 1, 1.0, NULL, NULL));
    json_t *h = metrics_history(rels);
    assert_int_equal(json_array_size(h), 4);
    assert_int_equal(json_array_size(json_object_get(json_array_get(h, 0), "regressions")), 0);
    /* 1.1: t::a passed in 1.0 and fails now */
    const json_t *g = find_reg(h, 1, "tests");
    assert_non_null(g);
    assert_int_equal(json_array_size(json_object_get(g, "tests")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(g, "tests"), 0)), "t::a");
    const json_t *c = json_array_get(json_object_get(json_array_get(h, 1), "changes"), 0);
    assert_string_equal(json_get_str(c, "id"), "tests.pass_rate");
    assert_string_equal(json_get_str(c, "change"), "worse");
    /* 1.2: no longer installs, newly suspicious */
    assert_non_null(find_reg(h, 2, "installs"));
    assert_non_null(find_reg(h, 2, "suspicious"));
    /* 1.3: suspicious stays suspicious (not new); installs again (better) */
    assert_null(find_reg(h, 3, "suspicious"));
    assert_null(find_reg(h, 3, "installs"));
    json_decref(h);
    json_decref(rels);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_metric),    cmocka_unit_test(test_unmeasured_and_neutral),
        cmocka_unit_test(test_metadata_score),  cmocka_unit_test(test_validate),
        cmocka_unit_test(test_resolved_set),
        cmocka_unit_test(test_format),          cmocka_unit_test(test_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
