/* report_cache.c — the rendered immutable parts of report pages
 * (web_set_report_cache), per store location and report id, in an
 * lru_cache. A stored report never changes, so the parts rendered from
 * it (everything but "since the previous release" and the list of the
 * release's reports, which depend on what else the store holds) stay
 * true; what it saves is parsing the stored JSON (most of a report page's
 * cost) and rendering it. Off (budget 0) unless a server turns it on. */
#include "web/web_internal.h"
#include "common/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static lru_cache cache = LRU_CACHE_INIT;

/* An entry's value: the four lengths (name and version: NONE when NULL),
 * then the four strings one after the other. */
#define NONE UINT64_MAX

static void make_key(pyti_buf *k, const char *location, const char *id)
{
    buf_append(k, location, strlen(location) + 1);
    buf_puts(k, id);
}

void web_set_report_cache(size_t bytes)
{
    lru_set_budget(&cache, bytes);
}

/* A new string of the n bytes at *p (NULL for NONE), moving *p on. */
static char *take(const char **p, uint64_t n)
{
    if (n == NONE)
        return NULL;
    char *s = xmalloc((size_t)n + 1);
    memcpy(s, *p, (size_t)n);
    s[n] = '\0';
    *p += n;
    return s;
}

bool report_cache_get(const char *location, const char *id, report_parts *out)
{
    pyti_buf k = PYTI_BUF_INIT, v = PYTI_BUF_INIT;
    make_key(&k, location, id);
    bool found = lru_get(&cache, k.data, k.len, &v);
    buf_free(&k);
    if (!found) {
        buf_free(&v);
        return false;
    }
    uint64_t len[4];
    memcpy(len, v.data, sizeof len);
    const char *p = v.data + sizeof len;
    memset(out, 0, sizeof *out);
    out->name = take(&p, len[0]);
    out->version = take(&p, len[1]);
    out->head = take(&p, len[2]);
    out->head_len = (size_t)len[2];
    out->tail = take(&p, len[3]);
    out->tail_len = (size_t)len[3];
    buf_free(&v);
    return true;
}

bool report_cache_peek(const char *location, const char *id)
{
    pyti_buf k = PYTI_BUF_INIT;
    make_key(&k, location, id);
    bool found = lru_has(&cache, k.data, k.len);
    buf_free(&k);
    return found;
}

void report_cache_put(const char *location, const char *id, const report_parts *parts)
{
    pyti_buf k = PYTI_BUF_INIT, v = PYTI_BUF_INIT;
    make_key(&k, location, id);
    uint64_t len[4] = {parts->name ? strlen(parts->name) : NONE,
                       parts->version ? strlen(parts->version) : NONE, parts->head_len,
                       parts->tail_len};
    buf_reserve(&v, sizeof len + parts->head_len + parts->tail_len + 256);
    buf_append(&v, len, sizeof len);
    if (parts->name)
        buf_puts(&v, parts->name);
    if (parts->version)
        buf_puts(&v, parts->version);
    buf_append(&v, parts->head, parts->head_len);
    buf_append(&v, parts->tail, parts->tail_len);
    lru_put(&cache, k.data, k.len, v.data, v.len);
    buf_free(&k);
    buf_free(&v);
}

void web_report_cache_stats(web_report_cache_info *info)
{
    lru_stats(&cache, info);
}
