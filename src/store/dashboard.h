/* dashboard.h — the store's read queries behind the web dashboard
 * (src/web/, docs/web.md) and the release history of the metrics
 * catalogue (exec/metrics.h): a project's releases with their metrics,
 * project search, throughput and verdicts over time, slow jobs. Written
 * once for both backends, like the rest of the store (docs/store.md).
 *
 * Every report stored since schema version 3 has a small row in
 * report_metrics (its verdict, the values of its metrics, the names of
 * its failed and passed tests), so a project's history is one indexed
 * query, a report's regressions need no second report parsed, and the
 * verdicts over time are an index-only scan; older reports are
 * back-filled by the migration. All functions return a new reference, or NULL with err
 * (PYTI_ERR_IO naming the store) when the database fails. */
#ifndef PYTI_STORE_DASHBOARD_H
#define PYTI_STORE_DASHBOARD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "store/store.h"

/* A project's history, or a JSON null if the project is unknown:
 *   {"project": normalised name, "display_name",
 *    "releases": [ newest version first (PEP 440 order), each
 *      {"version", "reports": N, "latest": null | {"id", "outcome", "quality",
 *       "safety", "created"},
 *       "values": {metric id: number|null} of the latest report (or {}),
 *       "pythons": {"3.11": {"installs": 1|0|null, "outcome", "report"}} from
 *                  the newest report per Python version}]} */
json_t *store_project_history(pyti_store *s, const char *project, pyti_error *err);

/* What store_project_history's answer depends on, as a stamp that
 * changes whenever that answer may: the number of the project's releases
 * and of its reports (the store only ever adds either, and a release's
 * verdict changes only with a new report). One indexed query, for the
 * dashboard's cache of project pages. *exists is false (and the counts 0)
 * for an unknown project. PYTI_ERR_IO when the database fails. */
pyti_status store_project_stamp(pyti_store *s, const char *project, bool *exists,
                                long long *releases, long long *reports, pyti_error *err);

/* Projects whose normalised name contains the normalised query (at most
 * 200 bytes; SQL LIKE wildcards in it are literal), exact match first,
 * then shorter names, then alphabetical: [{"name", "display_name",
 * "releases": N}]. limit 1..1000. */
json_t *store_search_projects(pyti_store *s, const char *query, size_t limit, pyti_error *err);

/* Jobs finished in the last window_s seconds, in buckets of bucket_s
 * seconds (on the store's clock), oldest first, every bucket present:
 *   {"now": ms, "bucket_s", "buckets": [{"t": ms, "done", "failed", "cancelled"}]} */
json_t *store_throughput(pyti_store *s, long long window_s, long long bucket_s, pyti_error *err);

/* Reports created in the last `days` days (1..366), per UTC day, oldest
 * first, every day present:
 *   [{"day": "2026-12-06", "passed", "failed", "rejected", "error",
 *     "suspicious", "malicious"}]
 * (outcome counts, plus reports whose safety was suspicious/malicious). */
json_t *store_verdicts_by_day(pyti_store *s, int days, pyti_error *err);

/* The longest-running done jobs that finished in the last window_s
 * seconds, longest first: [{"id", "project", "name", "version",
 * "filename", "duration_s", "worker", "report_id", "finished"}]. */
json_t *store_slow_jobs(pyti_store *s, long long window_s, size_t limit, pyti_error *err);

/* The location this handle was opened on (as given to store_open), for
 * telling stores apart (the web's overview cache). Owned by the handle. */
const char *store_location_of(const pyti_store *s);

/* One report as an entry of metrics_history's input, from the columns
 * kept for it (no report parsed): {"version", "safety", "values",
 * "failed_tests", "passed_tests"}. PYTI_ERR_NOTFOUND if unknown. */
json_t *store_report_history_entry(pyti_store *s, const char *report_id, pyti_error *err);

/* The stored metric values of one report ({id: number|null}), {} if it
 * has none, or NULL with PYTI_ERR_NOTFOUND. */
json_t *store_report_metrics(pyti_store *s, const char *report_id, pyti_error *err);

#endif
