/* test_report.c — unit tests for src/exec/report.c: building a report from
 * task results, the verdict and outcome rules, validation of reports from
 * outside, exit codes and summaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/jsonutil.h"
#include "exec/job.h"
#include "exec/recipe.h"
#include "exec/report.h"

#include <stdlib.h>
#include <string.h>

static pyti_job fake_job(void)
{
    pyti_job job;
    memset(&job, 0, sizeof job);
    strcpy(job.id, "0123456789abcdef0123456789abcdef");
    job.dist_filename = "demo-1.0.tar.gz";
    strcpy(job.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    job.size = 123;
    return job;
}

static pyti_task_def def_named(const char *name, const char *builtin)
{
    pyti_task_def d;
    memset(&d, 0, sizeof d);
    d.name = (char *)name;
    d.builtin = (char *)builtin;
    return d;
}

/* Builds a report with one task per (name, status) and optional findings
 * for the first task. */
static json_t *build(const char *const *names, const pyti_task_status *statuses, size_t n,
                     json_t *findings, bool rejected)
{
    pyti_job job = fake_job();
    pyti_recipe recipe = {.name = "static", .file = "/x/static.ini"};
    pyti_report_builder rb;
    report_builder_init(&rb, &job, &recipe);
    for (size_t i = 0; i < n; i++) {
        pyti_task_def d = def_named(names[i], names[i]);
        json_t *data = json_object();
        if (i == 0) {
            json_object_set_new(data, "filename_name", json_string("demo"));
            json_object_set_new(data, "filename_version", json_string("1.0"));
        }
        report_add_task(&rb, &d, statuses[i], statuses[i] == PYTI_TASK_PASSED ? NULL : "because",
                        "2026-11-25T00:00:00.000Z", 0.5, data, i == 0 ? findings : NULL, "log",
                        rejected && i == 0);
        json_decref(data);
    }
    json_t *items = json_object();
    report_set_items(&rb, items);
    json_decref(items);
    return report_builder_finish(&rb);
}

static json_t *finding(const char *id, const char *sev)
{
    json_t *f = json_object();
    json_object_set_new(f, "id", json_string(id));
    json_object_set_new(f, "severity", json_string(sev));
    json_object_set_new(f, "message", json_string("m"));
    json_object_set_new(f, "where", json_null());
    return f;
}

static void test_all_passed_is_ok(void **state)
{
    const char *names[] = {"extract", "facts"};
    pyti_task_status st[] = {PYTI_TASK_PASSED, PYTI_TASK_NEUTRAL};
    json_t *r = build(names, st, 2, NULL, false);
    assert_int_equal(report_validate(r, NULL), PYTI_OK);
    assert_string_equal(json_get_str(r, "outcome"), "passed");
    assert_string_equal(json_get_str(json_object_get(r, "verdict"), "quality"), "ok");
    assert_string_equal(json_get_str(json_object_get(r, "verdict"), "safety"), "unassessed");
    assert_int_equal(report_exit_code(r), 0);
    const json_t *d = json_object_get(r, "distribution");
    assert_string_equal(json_get_str(d, "name"), "demo");
    assert_string_equal(json_get_str(d, "version"), "1.0");
    assert_string_equal(json_get_str(d, "kind"), "sdist");
    assert_int_equal(json_array_size(json_object_get(r, "tasks")), 2);
    json_decref(r);
}

static void test_failed_task_breaks_quality_with_evidence(void **state)
{
    const char *names[] = {"extract", "metadata", "facts"};
    pyti_task_status st[] = {PYTI_TASK_PASSED, PYTI_TASK_FAILED, PYTI_TASK_SKIPPED};
    json_t *r = build(names, st, 3, NULL, false);
    const json_t *v = json_object_get(r, "verdict");
    assert_string_equal(json_get_str(v, "quality"), "broken");
    assert_string_equal(json_get_str(r, "outcome"), "failed");
    assert_int_equal(report_exit_code(r), 1);
    const json_t *ev = json_object_get(v, "quality_evidence");
    assert_int_equal(json_array_size(ev), 1);
    assert_string_equal(json_get_str(json_array_get(ev, 0), "task"), "metadata");
    json_decref(r);
}

static void test_findings_give_warnings_and_are_attributed(void **state)
{
    const char *names[] = {"metadata"};
    pyti_task_status st[] = {PYTI_TASK_PASSED};
    json_t *fs = json_array();
    json_array_append_new(fs, finding("metadata.missing-summary", "low"));
    json_array_append_new(fs, finding("facts.no-tests", "info"));
    json_t *r = build(names, st, 1, fs, false);
    json_decref(fs);
    assert_string_equal(json_get_str(json_object_get(r, "verdict"), "quality"), "warnings");
    assert_string_equal(json_get_str(r, "outcome"), "passed");
    const json_t *f0 = json_array_get(json_object_get(r, "findings"), 0);
    assert_string_equal(json_get_str(f0, "task"), "metadata");
    json_decref(r);
}

static void test_safety_findings_flag_the_job(void **state)
{
    const char *names[] = {"scan"};
    pyti_task_status st[] = {PYTI_TASK_PASSED};
    json_t *fs = json_array();
    json_array_append_new(fs, finding("scan.exec-base64", "critical"));
    json_t *r = build(names, st, 1, fs, false);
    json_decref(fs);
    const json_t *v = json_object_get(r, "verdict");
    assert_string_equal(json_get_str(v, "safety"), "malicious");
    assert_string_equal(json_get_str(v, "quality"), "ok");
    assert_string_equal(json_get_str(r, "outcome"), "failed");
    assert_int_equal(json_array_size(json_object_get(v, "safety_evidence")), 1);
    json_decref(r);
}

static void test_rejected_and_error_outcomes(void **state)
{
    const char *names[] = {"extract"};
    pyti_task_status failed[] = {PYTI_TASK_FAILED};
    json_t *r = build(names, failed, 1, NULL, true);
    assert_string_equal(json_get_str(r, "outcome"), "rejected");
    assert_int_equal(report_exit_code(r), 2);
    json_decref(r);
    pyti_task_status error[] = {PYTI_TASK_ERROR};
    r = build(names, error, 1, NULL, false);
    assert_string_equal(json_get_str(r, "outcome"), "error");
    assert_int_equal(report_exit_code(r), 3);
    json_decref(r);
}

static void test_validate_rejects_damaged_reports(void **state)
{
    const char *names[] = {"extract"};
    pyti_task_status st[] = {PYTI_TASK_PASSED};
    pyti_error err;
    struct {
        const char *path; /* member to damage: "key" or "parent.key" or "tasks.0.key" */
        json_t *value;
        const char *expect;
    } cases[] = {
        {"schema_version", json_integer(99), "schema_version"},
        {"id", json_string("not-hex"), "id"},
        {"outcome", json_string("great"), "outcome"},
        {"distribution.sha256", json_string("abc"), "distribution.sha256"},
        {"distribution.filename", json_integer(3), "distribution.filename"},
        {"verdict.quality", json_string("perfect"), "verdict.quality"},
        {"tasks.0.status", json_string("won"), "tasks[0].status"},
        {"tasks.0.duration_s", json_string("fast"), "tasks[0].duration_s"},
        {"findings", json_object(), "findings"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *r = build(names, st, 1, NULL, false);
        json_t *target = r;
        char path[64];
        strcpy(path, cases[i].path);
        char *key = path, *dot;
        while ((dot = strchr(key, '.')) != NULL) {
            *dot = '\0';
            json_t *next = json_object_get(target, key);
            if (json_is_array(next)) {
                next = json_array_get(next, (size_t)atoi(dot + 1));
                dot = strchr(dot + 1, '.');
            }
            target = next;
            key = dot + 1;
        }
        json_object_set_new(target, key, cases[i].value);
        assert_int_equal(report_validate(r, &err), PYTI_ERR_INPUT);
        if (!strstr(err.msg, cases[i].expect))
            fail_msg("case %zu: '%s' does not mention %s", i, err.msg, cases[i].expect);
        json_decref(r);
    }
    json_t *arr = json_array();
    assert_int_equal(report_validate(arr, &err), PYTI_ERR_INPUT);
    json_decref(arr);
}

static void test_summary_fields(void **state)
{
    const char *names[] = {"extract"};
    pyti_task_status st[] = {PYTI_TASK_PASSED};
    json_t *r = build(names, st, 1, NULL, false);
    json_t *s = report_summary(r);
    assert_string_equal(json_get_str(s, "id"), "0123456789abcdef0123456789abcdef");
    assert_string_equal(json_get_str(s, "recipe"), "static");
    assert_string_equal(json_get_str(s, "outcome"), "passed");
    assert_string_equal(json_get_str(s, "filename"), "demo-1.0.tar.gz");
    json_decref(s);
    json_decref(r);
}


/* The resolved dependency set from the `deps` item. */
static void test_dependencies_from_the_deps_item(void **state)
{
    (void)state;
    pyti_job job = fake_job();
    pyti_recipe recipe = {.name = "default", .file = "/x/default.ini"};
    pyti_report_builder rb;
    report_builder_init(&rb, &job, &recipe);
    json_error_t je;
    json_t *items = json_loads(
        "{\"deps\": {\"wheels\": [\"/job/input/deps/b-2.0-py3-none-any.whl\"],"
        " \"staged\": [{\"name\": \"b\", \"version\": \"2.0\", \"filename\":"
        " \"b-2.0-py3-none-any.whl\", \"sha256\": \"ab\", \"index\": \"https://i/simple\","
        " \"requires_dist\": [\"c\"], \"path\": \"/job/input/deps/b-2.0-py3-none-any.whl\"}],"
        " \"installed\": [{\"name\": \"six\", \"version\": \"1.16.0\","
        " \"required_by\": [\"a 1.0\"]}]}}", 0, &je);
    assert_non_null(items);
    report_set_items(&rb, items);
    json_decref(items);
    json_t *r = report_builder_finish(&rb);
    json_t *d = json_object_get(r, "dependencies");
    assert_non_null(d);
    json_t *b = json_array_get(json_object_get(d, "staged"), 0);
    assert_string_equal(json_string_value(json_object_get(b, "filename")),
                        "b-2.0-py3-none-any.whl");
    assert_string_equal(json_string_value(json_object_get(b, "index")), "https://i/simple");
    assert_null(json_object_get(b, "path")); /* inside paths stay in the task's data */
    json_t *six = json_array_get(json_object_get(d, "installed"), 0);
    assert_string_equal(json_string_value(json_object_get(six, "version")), "1.16.0");
    json_decref(r);
    /* no deps task: no member */
    json_t *plain = build((const char *const[]){"extract"}, (const pyti_task_status[]){PYTI_TASK_PASSED}, 1, NULL, false);
    assert_null(json_object_get(plain, "dependencies"));
    json_decref(plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_passed_is_ok),
        cmocka_unit_test(test_dependencies_from_the_deps_item),
        cmocka_unit_test(test_failed_task_breaks_quality_with_evidence),
        cmocka_unit_test(test_findings_give_warnings_and_are_attributed),
        cmocka_unit_test(test_safety_findings_flag_the_job),
        cmocka_unit_test(test_rejected_and_error_outcomes),
        cmocka_unit_test(test_validate_rejects_damaged_reports),
        cmocka_unit_test(test_summary_fields),
    };
    return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
