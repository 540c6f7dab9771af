/* client.h — a client of the master's HTTP API (libcurl), for workers and
 * for the command line (pyti submit, pyti jobs --master): JSON calls with
 * the token, retries with backoff while the master is away, multipart
 * uploads, and verified downloads of distributions.
 *
 * The token is sent only to the master (its scheme, host and port); a
 * download from anywhere else never carries it. A client is one curl
 * handle (connections are kept alive): one per thread. */
#ifndef PYTI_WORKER_CLIENT_H
#define PYTI_WORKER_CLIENT_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>

#include "common/err.h"

typedef struct mclient mclient;

/* A client of the master at base_url ("http://host:port", a trailing
 * slash is fine) with token (may be NULL: anonymous). NULL with err for
 * a URL that is not http(s) or when libcurl fails. */
mclient *mclient_new(const char *base_url, const char *token, pyti_error *err);
void mclient_free(mclient *c);
/* The master's URL without a trailing slash. */
const char *mclient_url(const mclient *c);

/* When *flag becomes non-zero, requests in flight are abandoned and
 * retries stop (PYTI_ERR_IO "interrupted"). flag may be NULL. */
void mclient_set_abort(mclient *c, volatile sig_atomic_t *flag);

/* Reads a token file: its first word that is not on a '#' line. New
 * string, or NULL with err (PYTI_ERR_NOTFOUND, or PYTI_ERR_USAGE for an
 * empty file). */
char *mclient_read_token(const char *path, pyti_error *err);

/* One request: method and path ("/api/v1/jobs"; the query included),
 * body as JSON (NULL: none). *status gets the HTTP status and *out
 * (may be NULL) the body parsed as JSON, or NULL when it is not JSON.
 * PYTI_OK when the master answered, whatever the status; PYTI_ERR_IO when
 * it could not be reached or the transfer failed (err names the URL).
 * timeout_s 0 means 60 s. */
pyti_status mclient_call(mclient *c, const char *method, const char *path, const json_t *body,
                         double timeout_s, long *status, json_t **out, pyti_error *err);

/* mclient_call, repeated while the master is unreachable or answers 5xx
 * (503: the store is down), with a backoff from 0.5 s doubling to 10 s,
 * for at most give_up_s seconds (< 0: until the abort flag is set). The
 * last answer or error is returned. */
pyti_status mclient_call_retry(mclient *c, const char *method, const char *path,
                               const json_t *body, double timeout_s, double give_up_s,
                               long *status, json_t **out, pyti_error *err);

/* The message of an error answer {"error": {"message"}}, or a generic
 * text naming the status. Static or borrowed from answer. */
const char *mclient_error_text(const json_t *answer, long status);

/* POSTs a multipart/form-data form to path: the file at file_path as
 * field file_field (sent with its base name), plus fields (name, value,
 * name, value, ..., NULL). Same answer as mclient_call. */
pyti_status mclient_upload(mclient *c, const char *path, const char *file_field,
                           const char *file_path, const char *const *fields, long *status,
                           json_t **out, pyti_error *err);

/* GETs path as text into *text (new string, *len bytes) when the answer
 * is 200; other statuses set *text NULL. */
pyti_status mclient_get_text(mclient *c, const char *path, long *status, char **text,
                             size_t *len, pyti_error *err);

/* Downloads url into dest (created 0600, replaced) while hashing it;
 * keeps it only if its SHA-256 is sha256 and it is at most max bytes
 * (0: no limit). The token goes along only when url is on the master.
 * PYTI_ERR_INPUT for a hash mismatch (nothing kept), PYTI_ERR_NOTFOUND
 * for 404/410, PYTI_ERR_LIMIT over max, PYTI_ERR_IO for the rest (worth
 * retrying). */
pyti_status mclient_download(mclient *c, const char *url, const char *dest, const char *sha256,
                             long long max, pyti_error *err);

#endif
