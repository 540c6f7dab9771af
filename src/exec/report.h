/* report.h — the job report: one JSON document per job (schema in
 * docs/report.md), its verdict, validation of reports from elsewhere, and
 * the short summary used in listings.
 *
 *   {schema_version, id, pyti_version, created, finished, duration_s,
 *    recipe {name, file},
 *    distribution {name, version, filename, sha256, size, kind},
 *    tasks [{name, builtin, status, reason, started, duration_s, data, log}],
 *    findings [{id, severity, message, where, task}],
 *    verdict {quality, safety, evidence [...]},
 *    outcome,
 *    metrics {catalogue_version, values {id: number|null}, details {...}}}
 *
 * metrics (exec/metrics.h, docs/metrics.md) is computed last, from the
 * rest of the report; reports stored before it existed have none.
 *
 * outcome: "passed" (every task passed or was neutral), "failed" (the
 * package failed a task or was flagged), "rejected" (the distribution was
 * refused as input, e.g. a hostile archive), "error" (pyti's own or the
 * infrastructure's failure). */
#ifndef PYTI_REPORT_H
#define PYTI_REPORT_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"
#include "common/finding.h"
#include "exec/job.h"
#include "exec/recipe.h"
#include "exec/taskgraph.h"

#define PYTI_REPORT_SCHEMA_VERSION 1
/* Largest report accepted from outside (pyti store, the API). */
#define PYTI_REPORT_MAX_BYTES (256u << 20)

typedef struct pyti_report_builder {
    json_t *report;
    json_t *tasks;
    json_t *findings;
    double t0;
    bool input_rejected;
    bool any_error;
    bool any_failed;
} pyti_report_builder;

void report_builder_init(pyti_report_builder *rb, const pyti_job *job, const pyti_recipe *recipe);
/* Adds one task's result. data, findings (JSON array from findings_to_json)
 * and log may be NULL; they are copied/referenced, not stolen. */
void report_add_task(pyti_report_builder *rb, const pyti_task_def *def, pyti_task_status status,
                     const char *reason, const char *started, double duration_s, json_t *data,
                     json_t *findings, const char *log, bool input_rejected);
/* Takes the distribution's name and version from the produced items
 * (metadata, else the file name as the extract task read it). */
void report_set_items(pyti_report_builder *rb, const json_t *items);
/* Computes the verdict and outcome; returns the report (new reference)
 * and resets the builder. */
json_t *report_builder_finish(pyti_report_builder *rb);

/* Checks a report from outside against the schema: required members and
 * their types, a 32-hex id, known statuses and severities, size bounds.
 * PYTI_ERR_INPUT naming the first offending member ("tasks[2].status: ..."). */
pyti_status report_validate(const json_t *report, pyti_error *err);

/* pyti test's exit code for a report: 0 passed, 1 failed, 2 rejected,
 * 3 error. */
int report_exit_code(const json_t *report);

/* A short summary object {id, name, version, filename, sha256, quality,
 * safety, outcome, created, recipe} (new reference). */
json_t *report_summary(const json_t *report);

#endif
