/* pages.h — the one entry point of every non-API page the master serves
 * (/, /project/NAME, ...): the web dashboard (src/web/, docs/web.md)
 * renders them; this is where the master hands the request over. */
#ifndef PYTI_MASTER_PAGES_H
#define PYTI_MASTER_PAGES_H

#include "master/master_internal.h"

/* Answers a GET or HEAD of a page: req->path is any path that is not
 * under /api/, /legacy or /metrics (req->raw_path and req->raw_query
 * have it as sent, still percent-encoded); the caller has checked that
 * the request may read. Fills resp (status, content type, body, headers);
 * every text/html response gets the Content-Security-Policy
 * MASTER_HTML_CSP from http.c. Store handles come from master_store_get
 * and go back with master_store_put. Cannot fail: errors are pages. */
void master_pages_handle(pyti_master *m, const master_request *req, master_response *resp);

#endif
