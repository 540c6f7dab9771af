/* master_internal.h — what the files of src/master/ share: a request and a
 * response as plain values (so handlers are tested without HTTP), the
 * master's settings, the store pool, authentication, and the entry points
 * of each file. Private to src/master/.
 *
 * Flow of a request: http.c (libmicrohttpd) gathers method, path, query,
 * headers and body into a master_request, calls master_dispatch (api.c),
 * which authenticates (auth.c), routes to a handler (api_jobs.c,
 * api_workers.c, api_catalog.c, upload.c, metrics.c, pages.c) and fills a
 * master_response that http.c sends. */
#ifndef PYTI_MASTER_INTERNAL_H
#define PYTI_MASTER_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/err.h"
#include "common/strv.h"
#include "master/master.h"
#include "store/queue.h"
#include "store/store.h"

/* ---- requests and responses ---- */

typedef struct master_request {
    const char *method;        /* "GET", "POST", ... */
    const char *path;          /* decoded, without the query string */
    const char *raw_path;      /* the path as sent (percent-encoded), or NULL */
    const char *raw_query;     /* the query string as sent (after '?'), or NULL */
    const pyti_strv *query;    /* name, value, name, value, ... (decoded); may be NULL */
    const char *authorization; /* the Authorization header, or NULL */
    const char *content_type;  /* or NULL */
    const char *body;          /* the whole body (not NUL-terminated in general) */
    size_t body_len;
    bool body_too_large;       /* the body went over its limit and was dropped */
    const char *remote;        /* the peer's address, for logs */
    int client_fd;             /* the connection's socket (long polls notice a client
                                * that hung up), or <= 0 when unknown */
} master_request;

/* Splits a query string ("a=1&b") in place into name, value pairs
 * appended to q (no percent-decoding: libmicrohttpd decodes real
 * requests); for tests and tools that make requests by hand. */
void master_split_query(char *qs, pyti_strv *q);
/* The value of query parameter name, or NULL. */
const char *master_request_arg(const master_request *r, const char *name);

typedef struct master_response {
    int status;               /* HTTP status; 0 until a handler sets it */
    char content_type[128];
    pyti_buf body;
    pyti_strv headers;        /* extra headers: name, value, name, value, ... */
    int fd;                   /* >= 0: send this file instead of body (closed after) */
    uint64_t fd_size;
} master_response;

void master_response_init(master_response *r);
void master_response_free(master_response *r);
/* Adds a header (copied). */
void master_response_header(master_response *r, const char *name, const char *value);
/* A JSON body (value stolen) with status. */
void master_response_json(master_response *r, int status, json_t *value);
/* {"error": {"status": N, "code": code, "message": msg}} with status.
 * code is a short stable word ("bad_request", "unauthorized", ...). */
void master_response_error(master_response *r, int status, const char *code, const char *fmt,
                           ...) __attribute__((format(printf, 4, 5)));
/* The error of a failed store or parsing call: 400 for input/usage, 404
 * for not-found, 413 for a limit, 503 for I/O (the store is unreachable),
 * 500 otherwise, with err's message. */
void master_response_pyti_error(master_response *r, const pyti_error *err);
/* A text body (copied) with status and content type. */
void master_response_text(master_response *r, int status, const char *ctype, const char *text);

/* The Content-Security-Policy of every HTML response. */
#define MASTER_HTML_CSP \
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " \
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/* ---- settings ([master] in pyti.ini) ---- */

typedef enum master_role {
    ROLE_NONE = 0,  /* no or unknown token */
    ROLE_READ,      /* anonymous reader where public_read is on */
    ROLE_WORKER,    /* worker endpoints */
    ROLE_SUBMIT,    /* submit and upload */
    ROLE_ADMIN,     /* everything */
} master_role;

/* A token is kept only as its SHA-256: comparisons hash the presented
 * token and compare digests in constant time (auth.c). */
typedef struct master_token {
    unsigned char digest[32];
    master_role role;
} master_token;

typedef struct master_settings {
    char *listen;
    char *public_url;        /* NULL: derived from the bound address */
    bool public_read;        /* read-only endpoints without a token [true] */
    uint64_t max_body;       /* JSON request bodies [8M] */
    uint64_t max_result;     /* result uploads: report and logs [96M] */
    uint64_t max_upload;     /* distribution uploads [512M] */
    char *files_dir;         /* uploaded files [$XDG_DATA_HOME/pyti/files] */
    unsigned long long long_poll_max_s; /* longest claim wait [30] */
    unsigned long long lease_s;         /* lease length given to workers [60] */
    unsigned long long reap_interval_s; /* reaper timer [5] */
    unsigned long long connection_limit; /* [512] */
    unsigned long long max_attempts;     /* attempts of a job without its own [3] */
    unsigned long long retry_backoff_s;  /* delay after a first infrastructure failure,
                                          * doubled after each next one [10] */
    master_token *tokens;
    size_t ntokens;
    char *generated_token_file; /* the admin token file made at start, or NULL */
    pyti_strv allow, deny;   /* [feeds] allow, deny: normalised names or fnmatch patterns */
} master_settings;

/* Reads [master] of cfg (NULL: defaults) into st; extra_worker_token (may
 * be NULL) is added as a worker token. Makes and reads the default token
 * files when no admin or worker token is configured (docs/operations.md).
 * PYTI_ERR_USAGE naming file:line for a bad value or unknown key. */
pyti_status master_settings_load(const pyti_config *cfg, const char *extra_worker_token,
                                 master_settings *st, pyti_error *err);
void master_settings_free(master_settings *st);
/* True if the allow/deny lists let project (any spelling) in: not
 * denied, and allowed when an allow list exists. Patterns are fnmatch(3)
 * over PEP 503 normalised names. */
bool master_project_allowed(const master_settings *st, const char *project);

/* ---- authentication (auth.c) ---- */

/* The role the Authorization header grants: "Bearer TOKEN" or "Basic
 * base64(user:TOKEN)" (twine), matched against every configured token in
 * constant time (the time does not depend on which token matched or how
 * much of it). ROLE_NONE without a matching token. */
master_role master_auth_role(const master_settings *st, const char *authorization);
/* Adds token with role to st (kept as its digest). */
void master_settings_add_token(master_settings *st, const char *token, master_role role);
/* Decodes standard base64 (with or without padding) into a new string;
 * NULL if malformed or longer than max bytes decoded. */
char *master_base64_decode(const char *in, size_t max);

/* Whether a request with role have may use an endpoint that needs need
 * (ROLE_READ: anyone when public_read is on, else any token). */
bool master_allowed(const pyti_master *m, master_role have, master_role need);
/* master_allowed, or fills resp with 401 (no valid token; with
 * WWW-Authenticate) or 403 (a token without the permission) and returns
 * false. */
bool master_require(const pyti_master *m, const master_request *req, master_role have,
                    master_role need, master_response *resp);

/* ---- the master ---- */

typedef struct master_pool {
    pthread_mutex_t lock;
    pyti_store **idle;
    size_t nidle, cap;
    char *location;
    size_t open; /* handles open now, idle or in use */
} master_pool;

struct master_feeds;

struct pyti_master {
    master_settings st;
    master_pool pool;
    const pyti_config *config;
    bool log_requests;
    char url[256];
    unsigned port;
    void *http;              /* http.c's state: the daemon, offloaded requests */
    volatile int stopping;
    /* Long polls sleep on this; submits and retries broadcast. */
    pthread_mutex_t wake_lock;
    pthread_cond_t wake;
    unsigned long long wake_gen;
    /* The reaper. */
    pthread_t reaper;
    bool reaper_started;
    struct master_feeds *feeds;
    /* Counters for /metrics (this process only). */
    pthread_mutex_t stats_lock;
    unsigned long long requests_total;
    unsigned long long responses[6]; /* by status class: [1..5] = 1xx..5xx */
    unsigned long long claims_total, results_total, submits_total, uploads_total;
};

/* A store handle for this thread's request (opened if none is idle).
 * NULL with err when the store cannot be reached. Give it back with
 * master_store_put. */
pyti_store *master_store_get(pyti_master *m, pyti_error *err);
void master_store_put(pyti_master *m, pyti_store *s);

/* Wakes every long poll (a job may be claimable). */
void master_wake(pyti_master *m);

/* Starts and stops the HTTP server (http.c); start sets m->port and
 * m->url. PYTI_ERR_USAGE for a bad listen address, PYTI_ERR_IO when it
 * cannot be bound. */
pyti_status master_http_start(pyti_master *m, pyti_error *err);
void master_http_stop(pyti_master *m);

/* Routes one request (api.c). Fills resp; never fails. */
void master_dispatch(pyti_master *m, const master_request *req, master_response *resp);

/* Creates a master without the HTTP server, feeds or reaper, for unit
 * tests of master_dispatch: settings from cfg, the store at db. */
pyti_master *master_new_for_tests(const char *db, const pyti_config *cfg, pyti_error *err);
void master_free_for_tests(pyti_master *m);

/* ---- handlers (one file each) ---- */

/* api_jobs.c: /api/v1/jobs... (submit, list, get, cancel, retry, logs,
 * report) and the worker's attempt calls (heartbeat, start, result,
 * fail). rest is the path after "/api/v1/jobs". */
void api_jobs(pyti_master *m, const master_request *req, master_role role, const char *rest,
              master_response *resp);
/* api_workers.c: /api/v1/workers... (list, get, register, heartbeat,
 * claim). */
void api_workers(pyti_master *m, const master_request *req, master_role role,
                 const char *rest, master_response *resp);
/* A claim's answer, {"leases": [{"job_id", "attempt", "job"}], "lease_s"}
 * (api_workers.c), counted in the master's claims; clears the n leases. */
json_t *master_leases_json(pyti_master *m, store_lease *leases, size_t n);
/* api_catalog.c: /api/v1/projects..., /api/v1/reports/..., /api/v1/releases/flagged. */
void api_catalog(pyti_master *m, const master_request *req, const char *path,
                 master_response *resp);
/* upload.c: POST /legacy/ (twine), multipart POST /api/v1/jobs, GET
 * /api/v1/files/SHA256/NAME. */
void upload_legacy(pyti_master *m, const master_request *req, master_response *resp);
void upload_submit(pyti_master *m, const master_request *req, master_response *resp);
void upload_serve_file(pyti_master *m, const master_request *req, const char *rest,
                       master_response *resp);
/* metrics.c: GET /metrics (Prometheus text format 0.0.4). */
void metrics_handle(pyti_master *m, const master_request *req, master_response *resp);

/* Stores a distribution file's bytes under files_dir (content-addressed,
 * atomically) and submits its job; used by uploads and the drop
 * directory. name and version come from the file name when NULL.
 * *job_id and *created as store_job_submit. PYTI_ERR_INPUT for a file
 * name that is not a distribution's, PYTI_ERR_USAGE for a project the
 * allow/deny lists refuse. spec_in supplies recipe, python, priority,
 * retest and created_by (may be NULL: defaults, created_by "upload"). */
pyti_status master_store_upload(pyti_master *m, pyti_store *s, const char *filename,
                                 const void *data, size_t len, const char *expect_sha256,
                                 const store_job_spec *spec_in, long long *job_id,
                                 bool *created, char *sha256_out, pyti_error *err);

/* Parses a JSON body: NULL with err (PYTI_ERR_INPUT) naming line and
 * column, "request body: ..." (api.c). An empty body is an error. */
json_t *master_parse_json_body(const master_request *req, pyti_error *err);

/* The body as a JSON object, or NULL after answering 400 (naming line
 * and column, or that it is not an object). With empty_ok an empty body
 * is an empty object. New reference. */
json_t *master_json_object_body(const master_request *req, bool empty_ok, master_response *resp);

/* True if name is a recipe name (1-64 of [A-Za-z0-9._-], not ending in
 * ".ini"): jobs name recipes, never paths, so nobody submitting a job can
 * make a worker load a file of its host as a recipe. */
bool master_recipe_name_ok(const char *name);

/* Parses a positive decimal id; false if s is not one. */
bool master_parse_id(const char *s, long long *out);

/* ---- feeds (feeds.c) ---- */

/* Starts the feeds configured in cfg ([feeds], [feed.rss], [feed.serial],
 * [feed.dropdir]); nothing when none is. PYTI_ERR_USAGE for a bad
 * setting. */
pyti_status feeds_start(pyti_master *m, const pyti_config *cfg, pyti_error *err);
void feeds_stop(pyti_master *m);

#endif
