/* master.h — the master (`pyti serve`): an HTTP server (libmicrohttpd) over
 * the store that takes submissions (JSON API, uploads, twine's legacy
 * upload endpoint), hands jobs to workers (long-polled claims, lease
 * heartbeats), receives their results and logs, watches feeds, and serves
 * the JSON API, /metrics and the pages (docs/api.md, docs/operations.md).
 *
 * The master keeps no state of its own between requests: everything is in
 * the store, so several masters can serve one PostgreSQL database. Each
 * request borrows a store handle from a small pool (one connection per
 * handle, never shared by two threads at once).
 *
 * Ownership: master_start copies what it needs from the options; the
 * configuration passed in must outlive the master (tokens are read at
 * start). */
#ifndef PYTI_MASTER_H
#define PYTI_MASTER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/err.h"

typedef struct pyti_master pyti_master;

typedef struct master_options {
    const char *listen;      /* "ADDR:PORT", "[ADDR6]:PORT" or "PORT"; NULL: [master] listen,
                              * else 127.0.0.1:8080; port 0 picks a free port */
    const char *db;          /* store location; NULL: [store] path, else the default */
    const pyti_config *config; /* [master], [feeds], [feed.*] and [store]; may be NULL */
    bool log_requests;       /* one line per request on stderr */
    bool no_feeds;           /* do not run the feeds even if configured */
    /* Tokens added to those of the configuration (pyti serve --workers
     * uses this for the local workers' token). May be NULL. */
    const char *extra_worker_token;
} master_options;

/* Reads the configuration, opens the store (migrating it), makes the
 * files directory, starts the HTTP server, the reaper and the feeds.
 * NULL with err: PYTI_ERR_USAGE for a bad option or setting (file:line),
 * PYTI_ERR_IO when the port cannot be bound or the store not reached. */
pyti_master *master_start(const master_options *o, pyti_error *err);

/* The port actually bound. */
unsigned master_port(const pyti_master *m);
/* The URL workers and clients use ("http://127.0.0.1:8080", no trailing
 * slash): [master] public_url, else derived from the bound address.
 * Static storage in m. */
const char *master_url(const pyti_master *m);
/* The admin token file made by master_start when no admin token was
 * configured (see docs/operations.md), or NULL. Static storage in m. */
const char *master_generated_token_file(const pyti_master *m);

/* Stops accepting requests, wakes long polls, stops the feeds and the
 * reaper, waits for requests in flight and frees everything. NULL is
 * fine. */
void master_stop(pyti_master *m);

#endif
