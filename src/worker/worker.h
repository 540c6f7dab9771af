/* worker.h — the worker (`pyti worker`): runs jobs of a master.
 *
 * It registers what it can run (capabilities: the Pythons on the host,
 * arch, OS, memory, tags) and what it agrees to run (policy: the largest
 * file, recipes, projects), then each of its slots long-polls the master
 * for a job, fetches the distribution (sha256 verified), runs it through
 * the job runner exactly as `pyti test` does — a `pyti test` process,
 * so a crash costs one job, and package code only ever runs in its
 * sandbox — heartbeats the lease while it runs, and uploads the report
 * and logs. Calls to the master are retried with backoff, so a master
 * restart costs nothing but time. SIGTERM/SIGINT drains (no new jobs,
 * running ones finish and are reported); a second signal stops the jobs
 * and hands them back to the queue. */
#ifndef PYTI_WORKER_H
#define PYTI_WORKER_H

#include <jansson.h>
#include <stdbool.h>

#include "common/config.h"
#include "common/err.h"
#include "common/strv.h"

typedef struct worker_options {
    const char *master;        /* http://host:port */
    const char *token;         /* the worker token */
    const char *id;            /* NULL: the host name */
    unsigned slots;            /* jobs at once; 0: 1 */
    const pyti_strv *tags;     /* advertised tags (may be NULL) */
    const pyti_strv *pythons;  /* advertised Pythons ("3.11"); NULL/empty: those found */
    long long max_dist_size;   /* policy: bytes, 0 any */
    const pyti_strv *recipes;  /* policy: NULL/empty any */
    const pyti_strv *projects; /* policy: NULL/empty any */
    const char *work_dir;      /* NULL: $TMPDIR or /tmp */
    const char *config_path;   /* passed on to the pyti test runs (may be NULL) */
    const char *pyti_exe;      /* the program run as `pyti test` (NULL: /proc/self/exe) */
} worker_options;

/* The capabilities this host advertises, as the register call's JSON
 * ({"id", "arch", "os", "memory_mb", "pythons", "tags", "max_dist_size",
 * "recipes", "projects", "info"}). New reference. */
json_t *worker_capabilities(const worker_options *o);

/* Runs the worker until it is told to stop (SIGTERM/SIGINT, which it
 * takes over for its threads). Returns 0 after a clean drain, non-zero
 * (a pyti exit code) when it cannot start: err says why (a bad token is
 * PYTI_ERR_USAGE). Signals must be blocked in the calling thread before
 * any other thread is started. */
int worker_run(const worker_options *o, pyti_error *err);

#endif
