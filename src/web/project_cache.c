/* project_cache.c — rendered project pages (web_set_project_cache), in an
 * lru_cache keyed by store location, normalised project name and the
 * project's stamp (store_project_stamp: how many releases and reports it
 * has). The store only adds releases and reports, and the page is made
 * of nothing else, so a page kept under the stamp the store gives now is
 * the page a render would give: a result stored by any master sharing
 * the store, or by `pyti test` into a shared SQLite file, changes the
 * stamp and the next request renders afresh (the old copy ages out).
 * The stamp is read before the render, so a report arriving during a
 * render can only make a copy look older than it is, never newer. */
#include "web/web_internal.h"
#include "common/xalloc.h"
#include "pkg/name.h"
#include "store/dashboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lru_cache cache = LRU_CACHE_INIT;

void web_set_project_cache(size_t bytes)
{
    lru_set_budget(&cache, bytes);
}

void web_project_cache_stats(web_report_cache_info *info)
{
    lru_stats(&cache, info);
}

pyti_status web_project_cached(pyti_store *s, const char *name, web_page *out, pyti_error *err)
{
    web_report_cache_info info;
    lru_stats(&cache, &info);
    if (!info.budget)
        return page_project(s, name, out, err);
    bool exists;
    long long releases, reports;
    if (store_project_stamp(s, name, &exists, &releases, &reports, err) != PYTI_OK)
        return PYTI_ERR_IO;
    if (!exists) /* the 404 page: not kept, so unknown names take no room */
        return page_project(s, name, out, err);
    char *norm = name_normalize(name);
    pyti_buf key = PYTI_BUF_INIT;
    buf_append(&key, store_location_of(s), strlen(store_location_of(s)) + 1);
    buf_append(&key, norm, strlen(norm) + 1);
    buf_printf(&key, "%lld:%lld", releases, reports);
    free(norm);
    size_t start = out->body.len;
    if (lru_get(&cache, key.data, key.len, &out->body)) {
        out->status = 200;
        buf_free(&key);
        return PYTI_OK;
    }
    pyti_status rc = page_project(s, name, out, err);
    if (rc == PYTI_OK && out->status == 200)
        lru_put(&cache, key.data, key.len, out->body.data + start, out->body.len - start);
    buf_free(&key);
    return rc;
}
