/* worker_internal.h — what the files of src/worker/ share: the running
 * worker (its settings from the master, its stop flags) and a slot's one
 * job. Private to src/worker/. */
#ifndef PYTI_WORKER_INTERNAL_H
#define PYTI_WORKER_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <signal.h>

#include "worker/client.h"
#include "worker/worker.h"

typedef struct pyti_worker {
    const worker_options *o;
    char id[129];
    double lease_s;        /* from the master's answer to register */
    double heartbeat_s;
    double long_poll_s;
    pyti_strv pythons;     /* the minors advertised, newest last */
    /* Set by the signal thread: stop claiming (drain), then stop jobs. */
    volatile sig_atomic_t draining;
    volatile sig_atomic_t stop_now;
    volatile sig_atomic_t busy_slots;
    pthread_mutex_t lock;
} pyti_worker;

/* Runs one leased job (lease: {"job_id", "attempt", "job": {...}}) to
 * its end: fetch, start, `pyti test`, heartbeats, result or failure. c is
 * the slot's own client. Never fails: every outcome is reported to the
 * master (or left to the lease's expiry when the master cannot be told).
 * With next (not NULL), a result sent while the worker is not draining
 * asks for the slot's next job too (the result's "next", docs/api.md):
 * *next gets the leases the master answered with (a JSON array, new
 * reference), or stays NULL. */
void worker_run_lease(pyti_worker *w, mclient *c, const json_t *lease, json_t **next);

#endif
