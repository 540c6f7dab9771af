/* queue.h — the job queue that loses nothing, kept in the store (see
 * store.h for the handle and docs/store.md for the rules in full): jobs
 * and their attempts, leases and heartbeats, results stored exactly once,
 * retries with exponential backoff, cancel and retry, workers and the
 * matching of jobs to workers, feed cursors, and metrics.
 *
 * A job goes
 *
 *     queued --claim--> leased --start--> running --complete--> done
 *       ^                 |                  |     \--fail-----> failed
 *       |                 +------------------+--cancel--------> cancelled
 *       +--- lease expired / infrastructure error (backoff) ---+
 *
 * Every call is one transaction and safe while other processes and
 * machines use the same store; a handle is one connection, one per thread.
 * Ownership: strings and lists in the argument structs are borrowed for
 * the call; every json_t * returned is a new reference for the caller. */
#ifndef PYTI_QUEUE_H
#define PYTI_QUEUE_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"
#include "common/jsonwrite.h"
#include "common/strv.h"
#include "store/store.h"

typedef enum store_job_state {
    STORE_JOB_QUEUED = 0,
    STORE_JOB_LEASED,
    STORE_JOB_RUNNING,
    STORE_JOB_DONE,      /* has its result (a report; the package may have failed) */
    STORE_JOB_FAILED,    /* no result: infrastructure errors exhausted the
                          * attempts, or a permanent error */
    STORE_JOB_CANCELLED,
    STORE_JOB_NSTATES,
} store_job_state;

/* "queued", "leased", ...; NULL for an out-of-range value. */
const char *store_job_state_name(store_job_state st);
/* The state named name, or -1. */
int store_job_state_parse(const char *name);

/* Knobs of one handle's queue operations (defaults in brackets). */
typedef struct store_queue_options {
    long long lease_ms;         /* lease length when a call passes 0 [60000] */
    long long backoff_base_ms;  /* delay after the first infrastructure failure [10000] */
    long long backoff_max_ms;   /* cap of the doubling delay [3600000] */
    int max_attempts;           /* default attempts per job [3] */
    long long worker_gone_ms;   /* a worker unheard of this long is "gone" [120000] */
    long long reap_interval_ms; /* store_job_claim reaps expired leases at most this
                                 * often per handle; 0 never [5000] */
} store_queue_options;

/* Fills o with the defaults above. Cannot fail. */
void store_queue_options_default(store_queue_options *o);
/* Sets the options of this handle (copied). Cannot fail. */
void store_set_queue_options(pyti_store *s, const store_queue_options *o);

/* ---- submitting ---- */

/* A job to submit. Strings are borrowed. */
typedef struct store_job_spec {
    const char *name;       /* the project as published, any spelling */
    const char *version;
    const char *filename;   /* the distribution file's name */
    const char *url;        /* where a worker fetches it, or NULL ... */
    const char *path;       /* ... a path workers can read (drop dir, CLI); one is required */
    const char *sha256;     /* 64 lowercase hex digits */
    long long size;         /* bytes, -1 if unknown */
    const char *recipe;     /* NULL: "default" */
    const char *python;     /* the job's Python requirement: a PEP 440 specifier set
                             * (">=3.9,<3.13"), a bare version ("3.12", meaning
                             * "==3.12.*"), or NULL/"" for any */
    int priority;           /* higher runs first, -1000..1000 */
    const char *created_by; /* "feed", "upload", "api" or "cli" */
    /* What the worker must have: */
    const char *arch;       /* NULL for any ("x86_64", "aarch64") */
    const char *os;         /* NULL for any ("linux") */
    long long memory_mb;    /* 0 for any */
    const pyti_strv *pythons; /* every one of these Python versions ("3.11"); NULL: none */
    const pyti_strv *tags;    /* every one of these tags; NULL: none */
    int max_attempts;       /* 0: the handle's default; at most 100 */
    bool retest;            /* test again even if an identical job is done */
} store_job_spec;

/* A spec with every member unset (size -1, created_by "api"). */
void store_job_spec_init(store_job_spec *spec);

/* Fills spec from a JSON object with the members of store_job_spec
 * ("name", "version", "filename", "url", "path", "sha256", "size",
 * "recipe", "python", "priority", "created_by", "retest", "max_attempts",
 * "requirements": {"arch", "os", "memory_mb", "pythons": [], "tags": []}).
 * Strings are borrowed from j; the lists are appended to *pythons and
 * *tags, which spec points at. PYTI_ERR_INPUT naming the bad member. */
pyti_status store_job_spec_from_json(const json_t *j, store_job_spec *spec, pyti_strv *pythons,
                                     pyti_strv *tags, pyti_error *err);

/* The CPython minor versions ("3.11") a job's Python requirement admits,
 * as the claim matches them (a bare "3.12" means "==3.12.*"; NULL, "" or
 * "any" admits every minor pyti knows), appended to minors. For a worker
 * choosing among its interpreters. PYTI_ERR_USAGE for a requirement that
 * does not parse or admits no known minor. */
pyti_status store_python_minors(const char *requirement, pyti_strv *minors, pyti_error *err);

/* Submits a job; *job_id gets its id, *created whether it is new.
 *
 * Idempotent: while a job with the same sha256, recipe and (normalised)
 * Python requirement is queued, leased or running, that job is returned
 * (created false); so is a done one unless spec->retest is set, in which
 * case a new job tests the file again. Failed and cancelled jobs never
 * absorb a submit (use store_job_retry to requeue the same job).
 * The project, release and file are recorded in the catalogue.
 * PYTI_ERR_USAGE naming the member for an invalid spec (bad sha256, no url
 * or path, a Python requirement no known CPython satisfies, ...). */
pyti_status store_job_submit(pyti_store *s, const store_job_spec *spec, long long *job_id,
                             bool *created, pyti_error *err);

/* ---- workers ---- */

typedef struct store_worker_info {
    const char *id;            /* unique and stable across restarts, chosen by the
                                * worker: 1-128 of [A-Za-z0-9._:@-] */
    const char *arch;          /* NULL: unknown (matches no arch requirement) */
    const char *os;
    long long memory_mb;       /* 0: unknown */
    const pyti_strv *pythons;  /* available interpreters, "3.11" or "3.11.4" */
    const pyti_strv *tags;
    /* The worker's own acceptance policy: */
    long long max_dist_size;   /* largest distribution file it takes, bytes; 0: any
                                * (with a limit, files of unknown size are refused) */
    const pyti_strv *recipes;  /* the recipes it runs; NULL or empty: any */
    const pyti_strv *projects; /* the projects it tests; NULL or empty: any */
    const json_t *info;        /* free-form details (hostname, pyti version), or NULL */
} store_worker_info;

/* Fills w from a JSON object {"id", "arch", "os", "memory_mb", "pythons",
 * "tags", "max_dist_size", "recipes", "projects", "info"}; strings are
 * borrowed from j, lists appended to the given vectors (which w points
 * at). PYTI_ERR_INPUT naming the bad member. */
pyti_status store_worker_info_from_json(const json_t *j, store_worker_info *w,
                                        pyti_strv *pythons, pyti_strv *tags,
                                        pyti_strv *recipes, pyti_strv *projects,
                                        pyti_error *err);

/* Registers a worker or replaces its capabilities and policy (state
 * becomes idle, last seen now). Leases it holds are kept.
 * PYTI_ERR_USAGE for an invalid id or Python version. */
pyti_status store_worker_register(pyti_store *s, const store_worker_info *w, pyti_error *err);

/* Records that the worker is alive, in state "idle", "busy" or
 * "draining" (a draining worker is given no new jobs). A worker marked
 * "gone" comes back. PYTI_ERR_NOTFOUND if it never registered. */
pyti_status store_worker_heartbeat(pyti_store *s, const char *id, const char *state,
                                   pyti_error *err);

/* Every worker: {"id", "state", "arch", "os", "memory_mb", "pythons",
 * "tags", "max_dist_size", "recipes", "projects", "info", "registered",
 * "last_seen", "leases" (jobs it holds now)}, by id. */
json_t *store_workers_list(pyti_store *s, pyti_error *err);

/* ---- leases ---- */

typedef struct store_lease {
    long long job_id;
    int attempt;         /* 1 for the first lease of the job, then 2, ... */
    long long expires_ms; /* ms since the epoch, on the store's clock */
    json_t *job;         /* the job (as in store_job_get, without attempts); owned */
} store_lease;

/* Frees lease->job. */
void store_lease_clear(store_lease *lease);

/* Leases the best job this worker can run: the highest priority, then the
 * oldest, among queued jobs that are due (not_before passed), whose
 * requirements the worker's capabilities meet (arch, os, memory, every
 * required Python and tag, one Python satisfying the job's Python
 * requirement) and which the worker's policy accepts (size, recipe,
 * project) — all decided inside the claim, so a worker never leases a job
 * it cannot run. Atomic: two claimers never get the same job
 * (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: an immediate transaction).
 * lease_ms 0 uses the handle's default. *claimed false (and PYTI_OK) when
 * nothing fits. A draining worker gets nothing. PYTI_ERR_NOTFOUND if the
 * worker never registered. On success the caller owns lease->job. */
pyti_status store_job_claim(pyti_store *s, const char *worker_id, long long lease_ms,
                            store_lease *lease, bool *claimed, pyti_error *err);

/* Like store_job_claim for up to max jobs at once (1..STORE_CLAIM_MAX),
 * for a worker with several slots: one transaction, the same matching and
 * order. leases (room for max) gets *n leases, best first; the caller
 * clears each. *n is 0 when nothing fits. */
#define STORE_CLAIM_MAX 64
pyti_status store_job_claim_many(pyti_store *s, const char *worker_id, long long lease_ms,
                                 size_t max, store_lease *leases, size_t *n, pyti_error *err);

typedef enum store_lease_state {
    STORE_LEASE_OK = 0,    /* the attempt still holds the job */
    STORE_LEASE_LOST,      /* it does not: the lease expired and the job was
                            * requeued, leased again, or failed */
    STORE_LEASE_CANCELLED, /* the job was cancelled */
    STORE_LEASE_DONE,      /* the job already has its result */
} store_lease_state;

/* "ok", "lost", "cancelled", "done". */
const char *store_lease_state_name(store_lease_state st);

/* Extends the lease by lease_ms (0: the handle's default) from now.
 * *state says whether the attempt still holds the job; a worker told
 * anything but OK should stop. An expired lease that has not been reaped
 * yet is still held. PYTI_ERR_NOTFOUND if the job or attempt does not
 * exist. */
pyti_status store_job_heartbeat(pyti_store *s, long long job_id, int attempt, long long lease_ms,
                                store_lease_state *state, pyti_error *err);

/* Marks a leased job running (the worker has the distribution and starts
 * the recipe) and extends the lease like store_job_heartbeat. */
pyti_status store_job_start(pyti_store *s, long long job_id, int attempt, long long lease_ms,
                            store_lease_state *state, pyti_error *err);

/* ---- results ---- */

typedef enum store_result {
    STORE_RESULT_STORED = 0, /* the report is the job's result; the job is done */
    STORE_RESULT_DUPLICATE,  /* the job already had its result: acknowledged, dropped */
    STORE_RESULT_CANCELLED,  /* the job was cancelled: acknowledged, dropped */
    STORE_RESULT_RETRY,      /* an infrastructure error: the job is queued again
                              * after a backoff */
    STORE_RESULT_FAILED,     /* an infrastructure error with no attempts left, or a
                              * permanent error: the job failed */
    STORE_RESULT_IGNORED,    /* an error from an attempt that no longer holds the
                              * job: recorded on the attempt, job unchanged */
} store_result;

/* "stored", "duplicate", "cancelled", "retry", "failed", "ignored". */
const char *store_result_name(store_result r);

/* Stores the report of an attempt. The rule is "first result wins": the
 * first report with a result (outcome passed, failed or rejected — a
 * package failure is a result, never retried) becomes the job's result,
 * even from an attempt whose lease expired (the job may meanwhile be
 * queued again or leased to another worker, whose lease is then
 * superseded), and even if the job had failed; every later report is
 * acknowledged and dropped (STORE_RESULT_DUPLICATE), so a job reported
 * twice is stored exactly once. A report with outcome "error" is an
 * infrastructure error: it is kept as the attempt's record and handled as
 * store_job_fail(retryable). Reports for cancelled jobs are dropped.
 * PYTI_ERR_INPUT if the report is invalid or is not of the job's file
 * (sha256); PYTI_ERR_NOTFOUND for an unknown job or attempt. */
pyti_status store_job_complete(pyti_store *s, long long job_id, int attempt, const json_t *report,
                               store_result *result, pyti_error *err);

/* store_job_complete, then a claim of up to max jobs (1..STORE_CLAIM_MAX)
 * for worker_id as store_job_claim_many's: what a worker's slot that has
 * just finished a job asks for. On PostgreSQL the common case (a report of
 * the attempt holding the lease, not an error report) is one transaction
 * and one round trip for both, committed durably; otherwise the two happen
 * one after the other. The result's rules and errors are
 * store_job_complete's; the claim's failures after a stored result only
 * give no leases (*n 0), as does an error of the result (a lease taken
 * with a result that then failed the careful way is left to expire). The
 * caller clears each lease. */
pyti_status store_job_complete_claim(pyti_store *s, long long job_id, int attempt,
                                     const json_t *report, store_result *result,
                                     const char *worker_id, long long lease_ms, size_t max,
                                     store_lease *leases, size_t *n, pyti_error *err);

/* Ends an attempt without a result. retryable (an infrastructure error:
 * the download failed, the worker's disk filled) requeues the job with
 * exponential backoff — not_before = now + base * 2^(failures-1), capped —
 * until max_attempts failures, then fails it; not retryable (a permanent
 * error, e.g. the file no longer exists or its hash differs) fails it now.
 * message (may be NULL) is kept on the attempt and the job. From an
 * attempt that no longer holds the job: STORE_RESULT_IGNORED. */
pyti_status store_job_fail(pyti_store *s, long long job_id, int attempt, bool retryable,
                           const char *message, store_result *result, pyti_error *err);

/* Requeues jobs whose lease expired (counted as an infrastructure
 * failure of that attempt, so with backoff and the attempts limit) and
 * marks workers unheard of for worker_gone_ms as gone. Masters call it on a
 * timer; store_job_claim also calls it (see reap_interval_ms). *requeued
 * and *failed (may be NULL) get the counts. */
pyti_status store_reap_expired(pyti_store *s, long long *requeued, long long *failed,
                               pyti_error *err);

/* ---- operators ---- */

/* Cancels a queued, leased or running job (a worker holding it learns at
 * its next heartbeat). *changed (may be NULL) is false if it was already
 * cancelled. PYTI_ERR_USAGE for a done or failed job, PYTI_ERR_NOTFOUND for
 * an unknown one. */
pyti_status store_job_cancel(pyti_store *s, long long job_id, bool *changed, pyti_error *err);

/* Queues a failed or cancelled job again, now, with a fresh attempts
 * budget (its attempts history is kept). PYTI_ERR_USAGE for a job in
 * another state, or when an identical job is active (then it is that
 * one's turn). A deliberate re-test of a done job is a new submit with
 * retest set. */
pyti_status store_job_retry(pyti_store *s, long long job_id, pyti_error *err);

/* One job with its attempts:
 *   {"id", "state", "project", "name", "version", "filename", "url", "path",
 *    "sha256", "size", "recipe", "python", "priority", "created_by",
 *    "requirements": {"arch", "os", "memory_mb", "pythons", "tags"},
 *    "attempts", "failures", "max_attempts", "not_before", "worker",
 *    "lease_expires", "report_id", "error", "created", "updated",
 *    "finished", "duration_s",
 *    "attempt_history": [{"attempt", "worker", "leased", "started", "ended",
 *                         "outcome", "error", "report_id"}]}
 * Times are ISO 8601 UTC strings or null. PYTI_ERR_NOTFOUND if unknown. */
json_t *store_job_get(pyti_store *s, long long job_id, pyti_error *err);

typedef struct store_job_filter {
    const char *state;   /* NULL: any */
    const char *project; /* NULL: any (any spelling) */
    const char *worker;  /* NULL: any (jobs it holds now) */
    long long before_id; /* 0: from the newest; else ids below (paging) */
    size_t limit;        /* 0: no limit */
} store_job_filter;

/* Jobs (as store_job_get, without attempt_history), newest first.
 * PYTI_ERR_USAGE for an unknown state. */
json_t *store_jobs_list(pyti_store *s, const store_job_filter *f, pyti_error *err);
/* The same list written as a JSON array through w (the same text as
 * store_jobs_list's array dumped with sorted keys, without the tree: the
 * API's job lists). *count is the number of jobs and *last_id the id of
 * the last (oldest) one, 0 if none. On error nothing is written. */
pyti_status store_jobs_list_write(pyti_store *s, const store_job_filter *f, json_writer *w,
                                  size_t *count, long long *last_id, pyti_error *err);

/* ---- feed cursors ---- */

/* The cursor of a feed ("pypi-rss", "simple-serial", "dropdir:/x"), as a
 * new string in *value, or NULL if never set. */
pyti_status store_cursor_get(pyti_store *s, const char *name, char **value, pyti_error *err);

/* Compare-and-set: sets the cursor to value only if it is currently
 * expected (NULL: only if never set). *swapped tells whether it was set;
 * false means another master moved it first — read it again. */
pyti_status store_cursor_cas(pyti_store *s, const char *name, const char *expected,
                             const char *value, bool *swapped, pyti_error *err);

/* ---- metrics ---- */

typedef struct store_metrics {
    long long jobs[STORE_JOB_NSTATES]; /* jobs in each state now */
    long long workers_idle, workers_busy, workers_draining, workers_gone;
    long long done_recent;    /* jobs done in the window */
    long long failed_recent;  /* jobs failed in the window */
    double duration_sum_s;    /* run time (lease to result) of done_recent jobs */
    double duration_p50_s, duration_p90_s, duration_p99_s; /* of those; 0 if none */
    double oldest_queued_s;   /* age of the oldest due queued job; 0 if none */
} store_metrics;

/* Fills m; the window is the last window_s seconds. For a Prometheus
 * /metrics endpoint. */
pyti_status store_metrics_get(pyti_store *s, long long window_s, store_metrics *m,
                              pyti_error *err);

/* ---- tests ---- */

/* Shifts this handle's clock (the store's "now") by offset_ms, so tests
 * can let leases expire and backoffs pass without sleeping. Never use it
 * in production. */
pyti_status store_debug_clock_offset(pyti_store *s, long long offset_ms, pyti_error *err);

#endif
