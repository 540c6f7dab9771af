/* web.h — the web dashboard: server-side rendered HTML pages over the
 * store (docs/web.md). The master (src/master/pages.c) serves them; tests
 * call web_render directly, without a server; `pyti test --html` writes
 * the release report page as one self-contained file.
 *
 * Pages (stable, shareable paths):
 *   /                          overview: queue, throughput, verdicts, latest
 *                              jobs, failing and suspicious releases, slow
 *                              jobs, workers online
 *   /project/NAME              every version with verdicts, key metrics,
 *                              trend charts, regressions
 *   /project/NAME/VERSION      the release: its newest report (and the others)
 *   /report/ID                 one report (32 hex digits)
 *   /job/ID                    one job and its attempts
 *   /workers                   the workers
 *   /search?q=TEXT             projects by name
 *   /catalogue                 the metrics catalogue
 *
 * Pages contain no script and load nothing: styles are one inline <style>
 * block and charts are inline SVG, so they work under a Content-Security-
 * Policy of "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
 * (the master sends MASTER_HTML_CSP, which allows no more than these and
 * its own origin). Every value
 * from a package or a worker is escaped (web/html.h). */
#ifndef PYTI_WEB_H
#define PYTI_WEB_H

#include <jansson.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "store/store.h"

typedef struct web_page {
    int status;               /* HTTP status: 200, 400, 404, 500 or 503 */
    const char *content_type; /* static: "text/html; charset=utf-8" */
    pyti_buf body;
} web_page;

/* An empty page (status 0, empty body). */
void web_page_init(web_page *p);
/* Frees the body. */
void web_page_free(web_page *p);

/* Renders the page for a GET of path (the URL path, still percent-encoded)
 * with query (the part after '?', or NULL) from store s. Always fills out
 * with a complete HTML page: 404 for an unknown path, project, report or
 * job, 400 for a malformed request, 500 when the store fails — in that
 * case PYTI_ERR_IO is also returned with err set, for the server's log;
 * otherwise PYTI_OK. The caller owns out (web_page_free). */
pyti_status web_render(pyti_store *s, const char *path, const char *query, web_page *out,
                       pyti_error *err);

/* Lets web_render keep the overview page (/) for up to ttl_ms
 * milliseconds and serve that copy to every request in between, per
 * store location: the overview aggregates the whole store (jobs by
 * state, throughput, verdicts by day), which costs far more than any
 * other page, while its figures change slowly. 0 (the default) turns the
 * cache off; a server sets it once at start-up. Thread-safe. */
void web_set_overview_cache(long long ttl_ms);

/* Lets web_render keep the rendered parts of report pages that never
 * change (all but "since the previous release" and the list of the
 * release's reports) for up to `bytes` bytes of copies, per store
 * location and report id, the least recently shown dropped first: a
 * report page shown again costs a few small queries instead of parsing
 * its stored report (tens of KiB of JSON). 0 (the default) turns the
 * cache off and drops its copies; any call empties it. Thread-safe. */
void web_set_report_cache(size_t bytes);

typedef struct web_report_cache_info {
    size_t budget, used, entries;
    unsigned long long hits, misses; /* since the last web_set_report_cache */
} web_report_cache_info;

/* Renders the parts of report id's page that depend on the report alone
 * and keeps them: in the store beside the report (report_pages, with
 * this pyti's renderer version), and in the report cache when it is on;
 * nothing when the cache holds them already. A master calls it when it
 * has stored a result, on the thread that stored it, so that no visitor
 * of the report's page pays for parsing its JSON: a page not in memory
 * is read from its stored parts. Pages of reports stored without them
 * (older stores, `pyti test`, another renderer version) are rendered
 * from the JSON at their first request and stored then. Failures are
 * ignored: the page is then rendered at its first request, as without
 * this call. */
void web_report_warm(pyti_store *s, const char *id);

/* The report cache's state now (for tests and /metrics). Can't fail. */
void web_report_cache_stats(web_report_cache_info *info);

/* Lets web_render keep rendered project pages (/project/NAME) for up to
 * `bytes` bytes of copies, the least recently shown dropped first. Each
 * copy is kept under the project's stamp (store_project_stamp: its
 * number of releases and of reports), read from the store at every
 * request: a page is served from its copy only while the store still
 * holds exactly what it was rendered from, whoever wrote to the store
 * (this master, another master sharing a PostgreSQL store, `pyti test`).
 * A shown page costs that one small query instead of its render. 0 (the
 * default) turns the cache off and drops its copies; any call empties it.
 * Thread-safe. */
void web_set_project_cache(size_t bytes);
/* The project cache's state now (for tests). Can't fail. */
void web_project_cache_stats(web_report_cache_info *info);

/* The release report page of one report as a single self-contained HTML
 * document (no links that need a server; the catalogue is appended), for
 * `pyti test --html`. Appends to out. Cannot fail. */
void web_report_standalone(const json_t *report, pyti_buf *out);

#endif
