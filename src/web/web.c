/* web.c — the dashboard's router (see web.h): splits and decodes the path,
 * picks the page, and turns store failures into a 500 page. */
#include "web/web_internal.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

void web_page_init(web_page *p)
{
    memset(p, 0, sizeof *p);
    p->content_type = "text/html; charset=utf-8";
}

void web_page_free(web_page *p)
{
    buf_free(&p->body);
}

#define MAX_SEGMENTS 4
#define MAX_PATH 2048

/* Splits "/a/b%2Fc/" into decoded segments; false if malformed (bad
 * escape, NUL, too long, too many segments). */
static bool split_path(const char *path, char **seg, int *nseg)
{
    *nseg = 0;
    if (!path || path[0] != '/' || strlen(path) > MAX_PATH)
        return false;
    const char *p = path + 1;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len > 0) {
            if (*nseg == MAX_SEGMENTS)
                return false;
            char *d = html_url_decode(p, len, 0);
            if (!d)
                return false;
            seg[(*nseg)++] = d;
        }
        p += len + (slash ? 1 : 0);
    }
    return true;
}

static bool parse_id(const char *s, long long *out)
{
    if (!*s || strlen(s) > 18)
        return false;
    for (const char *c = s; *c; c++)
        if (*c < '0' || *c > '9')
            return false;
    *out = strtoll(s, NULL, 10);
    return *out > 0;
}

static pyti_status route(pyti_store *s, char **seg, int n, const char *query, web_page *out,
                         pyti_error *err)
{
    if (n == 0)
        return web_overview_cached(s, out, err);
    const char *a = seg[0];
    if (n == 1 && strcmp(a, "index.html") == 0)
        return web_overview_cached(s, out, err);
    if (strcmp(a, "project") == 0 && n == 2)
        return web_project_cached(s, seg[1], out, err);
    if (strcmp(a, "project") == 0 && n == 3)
        return page_release(s, seg[1], seg[2], out, err);
    if (strcmp(a, "report") == 0 && n == 2)
        return page_report(s, seg[1], out, err);
    long long id;
    if (strcmp(a, "job") == 0 && n == 2 && parse_id(seg[1], &id))
        return page_job(s, id, out, err);
    if (strcmp(a, "workers") == 0 && n == 1)
        return page_workers(s, out, err);
    if (strcmp(a, "catalogue") == 0 && n == 1)
        return page_catalogue(out);
    if (strcmp(a, "search") == 0 && n == 1) {
        char *q = query ? html_query_get(query, "q") : NULL;
        if (query && !q && strstr(query, "q=")) {
            web_error_page(out, 400, "Bad request", "The search query is not properly encoded.");
            return PYTI_OK;
        }
        pyti_status rc = page_search(s, q, out, err);
        free(q);
        return rc;
    }
    web_error_page(out, 404, "Not found", "No page here. Try the overview or the search.");
    return PYTI_OK;
}

pyti_status web_render(pyti_store *s, const char *path, const char *query, web_page *out,
                       pyti_error *err)
{
    if (!out->content_type)
        out->content_type = "text/html; charset=utf-8";
    buf_reset(&out->body);
    char *seg[MAX_SEGMENTS];
    int n = 0;
    if (!split_path(path, seg, &n)) {
        for (int i = 0; i < n; i++)
            free(seg[i]);
        web_error_page(out, 400, "Bad request", "The path is malformed or too long.");
        return PYTI_OK;
    }
    pyti_error e;
    pyti_error_clear(&e);
    pyti_status rc = route(s, seg, n, query, out, &e);
    for (int i = 0; i < n; i++)
        free(seg[i]);
    if (rc != PYTI_OK) {
        /* The store failed: the details go to the server's log, not to
         * the visitor. A store that cannot be reached (PYTI_ERR_IO: the
         * server is down, the connection was lost) is a 503, which tells
         * clients and proxies to come back; anything else is a 500. */
        int status = e.code == PYTI_ERR_IO ? 503 : 500;
        web_error_page(out, status, "The store is not available",
                       "pyti could not read its store. Try again later.");
        if (err)
            *err = e;
        return rc;
    }
    return PYTI_OK;
}
