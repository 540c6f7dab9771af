/* page_search.c — project search by name (/search?q=TEXT): the query is
 * PEP 503-normalised and matched as a substring (store_search_projects). */
#include "web/web_internal.h"
#include "common/jsonutil.h"
#include "store/dashboard.h"

#include <string.h>

#define SEARCH_RESULTS 100

pyti_status page_search(pyti_store *s, const char *query, web_page *out, pyti_error *err)
{
    pyti_buf *b = &out->body;
    if (query && strlen(query) > 200) {
        web_error_page(out, 400, "Query too long", "Search for at most 200 characters.");
        return PYTI_OK;
    }
    json_t *res = query && *query ? store_search_projects(s, query, SEARCH_RESULTS, err)
                                  : json_array();
    if (!res)
        return PYTI_ERR_IO;
    out->status = 200;
    layout_open(b, "Search \xe2\x80\x94 pyti", false);
    hf(b, "<h1>Search projects</h1><form method=\"get\" action=\"/search\">"
          "<input type=\"search\" name=\"q\" value=\"%s\" aria-label=\"project name\"> "
          "<button type=\"submit\">Search</button></form>",
       query ? query : "");
    if (query && *query) {
        size_t n = json_array_size(res);
        hf(b, "<p>%L project%r matching <b>%s</b>%r.</p>", (long long)n, n == 1 ? "" : "s", query,
           n == SEARCH_RESULTS ? " (the first ones)" : "");
        if (n) {
            buf_puts(b, "<table><tr><th>project</th><th class=\"num\">releases</th></tr>");
            size_t i;
            const json_t *o;
            json_array_foreach(res, i, o)
                hf(b, "<tr><td><a href=\"/project/%u\">%s</a></td><td class=\"num\">%L</td></tr>",
                   json_get_str(o, "name"), json_get_str(o, "display_name"),
                   (long long)json_integer_value(json_object_get(o, "releases")));
            buf_puts(b, "</table>");
        }
    }
    layout_close(b);
    json_decref(res);
    return PYTI_OK;
}
