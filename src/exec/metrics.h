/* metrics.h — pyti's published metrics catalogue (docs/metrics.md): what
 * each metric means, how it is computed from a job report, and how the
 * metrics of a project's releases compare (changes and regressions).
 *
 * A report carries its metrics as
 *
 *   "metrics": {"catalogue_version": 1,
 *               "values":  {"tests.pass_rate": 0.97, "coverage": null, ...},
 *               "details": {"tests": {...}, "metadata_score": {...}, ...}}
 *
 * Every catalogue id appears in "values": a number, or null when the job
 * did not measure it (the task did not run, was skipped or ended in
 * error, or there was nothing to measure). Booleans are 1 or 0. "details"
 * says why and holds the parts a value was computed from.
 *
 * Everything here is a pure function of JSON: the same code computes the
 * metrics of a fresh report and of an old stored one that has none. */
#ifndef PYTI_METRICS_H
#define PYTI_METRICS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define PYTI_METRICS_CATALOGUE_VERSION 1

/* Which way is better, for changes between releases. */
typedef enum metric_better {
    METRIC_NEUTRAL = 0, /* a fact (size, dependency count): a change is not judged */
    METRIC_HIGHER = 1,
    METRIC_LOWER = -1,
} metric_better;

typedef struct metric_def {
    const char *id;         /* stable: "tests.pass_rate" */
    const char *title;      /* "Test pass rate" */
    const char *unit;       /* "ratio", "percent", "per KLOC", "count", "bytes",
                             * "seconds", "score", "boolean" */
    double min, max;        /* the range; max < 0: unbounded above */
    const char *source;     /* the task it comes from ("test") */
    metric_better better;
    bool key;               /* shown on project pages and charted */
    const char *definition; /* one sentence */
    const char *formula;
} metric_def;

/* The catalogue, in its documented order; *n gets the count. Static data. */
const metric_def *metrics_catalogue(size_t *n);

/* The catalogue entry with this id, or NULL. */
const metric_def *metrics_find(const char *id);

/* Computes the metrics object (above) of a report (any schema-valid
 * report; members it lacks give null values). Never fails; new reference. */
json_t *metrics_compute(const json_t *report);

/* The metrics of a report: its own "metrics" member when it has a valid
 * one, else computed (old reports). New reference. */
json_t *metrics_of_report(const json_t *report);

/* Checks a "metrics" member from outside (report_validate): an object with
 * an integer catalogue_version, a "values" object of at most 256 members
 * each a number or null, and "details" an object if present. On error
 * returns false with a message naming the member in msg (size bytes). */
bool metrics_validate(const json_t *metrics, char *msg, size_t size);

/* Formats value v of metric m for people ("97.0 %", "1.2 MiB", "3.4 s",
 * "yes"); "–" for NaN (unmeasured). Writes into out (size >= 32). */
void metrics_format(const metric_def *m, double v, char *out, size_t size);

/* The job's resolved dependency set: the deps task's staging record
 * (staged and installed distributions, docs/tasks.md) as [{"name",
 * "version", "filename", "index", "source": "staged"|"installed"}], else
 * a task's data.resolved list, else NULL (none recorded). New reference. */
json_t *metrics_resolved_set(const json_t *report);

/* The names of the report's failed and passed tests (from the test task:
 * failed_tests[].test, passed_tests[]), {"failed": [...], "passed": [...]}
 * (empty arrays when unknown). New reference. */
json_t *metrics_test_names(const json_t *report);

/* A report as one entry of metrics_history's input: {"version", "safety",
 * "values", "failed_tests", "passed_tests"}. New reference. */
json_t *metrics_history_entry(const json_t *report);

/* Release history. releases is an array, OLDEST FIRST, of
 *   {"version", "safety", "outcome", "values": {...metrics values...},
 *    "failed_tests": [names] (optional), "passed_tests": [names] (optional)}
 * Returns a new array of the same length, one object per release:
 *   {"version", "changes": [{"id", "from", "to", "change": "better"|"worse"|"changed"}],
 *    "regressions": [{"kind", "message", "tests": [names] (for kind "tests")}]}
 * comparing each release with the one before it (the first has none).
 * Regression kinds: "installs" (installed before, does not now), "imports",
 * "tests" (tests passed before and fail now: the names of tests that
 * passed in the previous release and fail in this one, when both lists are
 * known), "suspicious" (safety was clean or unassessed, now suspicious or
 * malicious). Never fails. */
json_t *metrics_history(const json_t *releases);

#endif
