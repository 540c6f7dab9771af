/* pages.c — every non-API GET of the master (see pages.h). For now one
 * minimal page that links to the JSON API; unknown paths are 404 pages.
 * The dashboard engineer's renderer replaces the body of
 * master_pages_handle. Nothing from a request is echoed unescaped. */
#include "master/pages.h"

#include <stdio.h>
#include <string.h>

static const char index_html[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pyti</title>\n"
    "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}</style></head>\n"
    "<body><h1>pyti</h1>\n"
    "<p>A testing infrastructure for the Python Package Index. The JSON API:</p>\n"
    "<ul>\n"
    "<li><a href=\"/api/v1\">/api/v1</a> &mdash; what this master offers</li>\n"
    "<li><a href=\"/api/v1/jobs\">/api/v1/jobs</a> &mdash; the job queue</li>\n"
    "<li><a href=\"/api/v1/workers\">/api/v1/workers</a> &mdash; workers and their state</li>\n"
    "<li><a href=\"/api/v1/projects\">/api/v1/projects</a> &mdash; projects, releases and their "
    "reports</li>\n"
    "<li><a href=\"/api/v1/releases/flagged?kind=failing\">failing</a> and "
    "<a href=\"/api/v1/releases/flagged?kind=suspicious\">suspicious</a> releases</li>\n"
    "<li><a href=\"/metrics\">/metrics</a> &mdash; Prometheus metrics</li>\n"
    "</ul></body></html>\n";

static const char missing_html[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pyti: not found</title></head>\n"
    "<body><h1>Not found</h1><p>No such page. See <a href=\"/\">the start page</a>.</p>"
    "</body></html>\n";

void master_pages_handle(pyti_master *m, const master_request *req, master_response *resp)
{
    (void)m;
    bool root = strcmp(req->path, "/") == 0 || strcmp(req->path, "/index.html") == 0;
    master_response_text(resp, root ? 200 : 404, "text/html; charset=utf-8",
                         root ? index_html : missing_html);
}
