/* pages.c — every non-API GET of the master (see pages.h): the web
 * dashboard's pages, rendered by src/web/ (web_render) over a pooled
 * store handle. The master only adds what HTTP needs: status, content
 * type, the CSP (http.c) and no caching of pages that change. */
#include "master/pages.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "web/web.h"

static const char unavailable_html[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pyti: unavailable</title></head>\n"
    "<body><h1>Store unavailable</h1><p>The master cannot reach its store right now; "
    "try again shortly.</p></body></html>\n";

void master_pages_handle(pyti_master *m, const master_request *req, master_response *resp)
{
    pyti_error err = {0};
    pyti_store *s = master_store_get(m, &err);
    if (!s) {
        log_warn("pages: %s: %s", req->path, err.msg);
        master_response_text(resp, 503, "text/html; charset=utf-8", unavailable_html);
        master_response_header(resp, "Retry-After", "5");
        return;
    }
    /* web_render wants the path still percent-encoded (project names and
     * queries are decoded by it, once); fall back to the decoded path for
     * callers that build requests by hand. */
    const char *path = req->raw_path ? req->raw_path : req->path;
    if (strcmp(path, "/index.html") == 0)
        path = "/";
    web_page page;
    web_page_init(&page);
    pyti_error rerr = {0};
    if (web_render(s, path, req->raw_query, &page, &rerr) != PYTI_OK)
        log_warn("pages: %s: %s", req->path, rerr.msg);
    master_store_put(m, s);
    resp->status = page.status;
    snprintf(resp->content_type, sizeof resp->content_type, "%s", page.content_type);
    buf_free(&resp->body);
    resp->body = page.body; /* moved: pages can be large, no copy */
    page.body = (pyti_buf)PYTI_BUF_INIT;
    web_page_free(&page);
    master_response_header(resp, "Cache-Control", "no-cache");
    if (resp->status == 503)
        master_response_header(resp, "Retry-After", "5");
}
