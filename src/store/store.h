/* store.h — where reports, jobs and everything around them live: one
 * interface, two backends (docs/store.md).
 *
 * A location is a file path or "sqlite:PATH" (the embedded default: SQLite
 * in WAL mode at $XDG_DATA_HOME/pyti/pyti.db), or a libpq URI
 * "postgresql://..." / "postgres://..." (one database shared by several
 * masters and many workers on many machines). The schema is versioned and
 * migrated when the store is opened, on both backends, by whichever
 * process gets there first.
 *
 * This header has the handle, the reports and the catalogue (projects,
 * releases, distribution files) and logs; queue.h has jobs, workers, feed
 * cursors and metrics.
 *
 * Concurrency: every call is safe while other processes (or threads, with
 * their own handles) use the same store; each call is one transaction.
 * A handle is one database connection and is NOT safe to share between
 * threads without a lock of your own: open one handle per thread.
 *
 * Storing a report is idempotent: a report is keyed by its id, and storing
 * the same id again keeps the first copy (inserted = false). */
#ifndef PYTI_STORE_H
#define PYTI_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

typedef struct pyti_store pyti_store;

/* The default location ($XDG_DATA_HOME/pyti/pyti.db), new string. */
char *store_default_location(void);

/* True if location names the PostgreSQL backend. */
bool store_location_is_pg(const char *location);

/* Opens (creating if needed, with parent directories, for SQLite) and
 * migrates the store. NULL with err naming the location on failure
 * (PYTI_ERR_IO when the database cannot be reached); a database newer than
 * this pyti is PYTI_ERR_USAGE. The location is shown in messages with any
 * password removed. */
pyti_store *store_open(const char *location, pyti_error *err);
/* Closes the connection and frees the handle. NULL is fine. */
void store_close(pyti_store *s);
/* The schema version the store is at, or -1 if it cannot be read. */
int store_schema_version(pyti_store *s);
/* "sqlite" or "postgresql". */
const char *store_backend(const pyti_store *s);

/* ---- reports ---- */

/* Stores a report (which must pass report_validate). *inserted (may be
 * NULL) tells whether it was new. Also files it under its project,
 * release and distribution file (created if missing), with its task
 * results and findings, and makes it the release's latest verdict if it is
 * the newest report of that release. Atomic: on error nothing is stored. */
pyti_status store_put_report(pyti_store *s, const json_t *report, bool *inserted,
                             pyti_error *err);

/* Summaries (see report_summary) of stored reports, newest first; project
 * (any spelling, compared PEP 503-normalised) may be NULL for all. limit 0
 * means no limit. Returns a new array or NULL with err. */
json_t *store_list_reports(pyti_store *s, const char *project, size_t limit, pyti_error *err);

/* The report with this id, or the only one whose id starts with the given
 * prefix (at least 4 hex digits). PYTI_ERR_NOTFOUND, or PYTI_ERR_USAGE when
 * a prefix is ambiguous. New reference. */
json_t *store_get_report(pyti_store *s, const char *id, pyti_error *err);

/* Number of stored reports, or -1 with err. */
long long store_count_reports(pyti_store *s, pyti_error *err);

/* ---- rendered report pages (store_pages.c) ----
 *
 * The parts of a report's web page that depend on the report alone,
 * rendered by src/web when a result is stored (or at the page's first
 * request) and kept beside the report, so a page not in a server's
 * memory is read instead of parsing the stored JSON. The store keeps
 * them as given and knows nothing of HTML: renderer is the version of
 * the renderer that made them, which the caller compares with its own. */
typedef struct store_report_page {
    int renderer;
    char *name, *version; /* the distribution's; either may be NULL */
    char *head, *tail;
    size_t head_len, tail_len;
} store_report_page;

/* Keeps (or replaces) the page of stored report id (32 hex). The texts
 * must be UTF-8 without NUL bytes. PYTI_ERR_NOTFOUND when no report has
 * that id. wait false: on SQLite, when another connection holds the
 * write lock, fail at once (PYTI_ERR_IO) instead of waiting for it — for
 * a thread serving reads, which must not stall on a writer (PostgreSQL
 * can only wait for a concurrent write of the same row). */
pyti_status store_put_report_page(pyti_store *s, const char *id, const store_report_page *page,
                                  bool wait, pyti_error *err);
/* The page of report id into *out (caller frees with
 * store_report_page_free), of whatever renderer; PYTI_ERR_NOTFOUND when
 * there is none. */
pyti_status store_get_report_page(pyti_store *s, const char *id, store_report_page *out,
                                  pyti_error *err);
void store_report_page_free(store_report_page *p);

/* ---- the catalogue: projects, releases, files ---- */

/* The releases of a project (any spelling), newest version first (PEP 440
 * order; versions that do not parse come last), each
 *   {"version", "first_seen", "reports": N,
 *    "latest": null | {"id", "outcome", "quality", "safety", "created"}}.
 * An unknown project is an empty array. New reference, or NULL with err. */
json_t *store_list_releases(pyti_store *s, const char *project, pyti_error *err);

/* The newest report of the release before `version` of a project (in
 * store_list_releases' order, skipping releases without a report), as a
 * new string in *id, or NULL when there is none (or no such release).
 * What a report page's regressions compare with: one query on releases,
 * without store_list_releases' counts and objects. */
pyti_status store_previous_release_report(pyti_store *s, const char *project,
                                          const char *version, char **id, pyti_error *err);

/* Summaries of the reports of one release, newest first (empty array if
 * none). New reference, or NULL with err. */
json_t *store_release_reports(pyti_store *s, const char *project, const char *version,
                              pyti_error *err);

/* Releases whose latest report is flagged, most recent report first:
 * kind "failing" (outcome failed or rejected) or "suspicious" (safety
 * suspicious or malicious). Each {"project", "version", "latest": {...}}.
 * limit 0 means no limit. PYTI_ERR_USAGE for another kind. */
json_t *store_list_flagged_releases(pyti_store *s, const char *kind, size_t limit,
                                    pyti_error *err);

/* The distribution files of a release, each {"filename", "sha256",
 * "size" (null if unknown), "url", "path", "kind"}. */
json_t *store_release_files(pyti_store *s, const char *project, const char *version,
                            pyti_error *err);

/* Projects whose PEP 503 name starts with prefix (any spelling; NULL or
 * "" for all), by name, each {"name", "display_name", "first_seen",
 * "releases": N, "latest_report": ISO time of the newest report or null}.
 * limit 0 means no limit. PYTI_ERR_USAGE for a prefix that cannot start
 * a name. New reference, or NULL with err. */
json_t *store_list_projects(pyti_store *s, const char *prefix, size_t limit, pyti_error *err);

/* ---- logs ---- */

/* Keeps a log (len bytes of text; invalid UTF-8 becomes U+FFFD and NUL
 * bytes are dropped) of one attempt of a job under a name ("install",
 * "worker", ...). The first copy wins: putting the same (job, attempt,
 * name) again is a no-op with *inserted false. Logs larger than
 * PYTI_STORE_LOG_MAX are PYTI_ERR_LIMIT. PYTI_ERR_NOTFOUND if the job has
 * no such attempt. */
#define PYTI_STORE_LOG_MAX (64u << 20)
pyti_status store_put_log(pyti_store *s, long long job_id, int attempt, const char *name,
                          const void *data, size_t len, bool *inserted, pyti_error *err);
/* The log as a new NUL-terminated string (*len, may be NULL, gets its
 * length), or NULL with PYTI_ERR_NOTFOUND. Free with free(). */
char *store_get_log(pyti_store *s, long long job_id, int attempt, const char *name, size_t *len,
                    pyti_error *err);
/* The logs of a job: [{"attempt", "name", "size", "created"}]. */
json_t *store_list_logs(pyti_store *s, long long job_id, pyti_error *err);

#endif
