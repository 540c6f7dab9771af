/* web_cache.c — the overview's cache (web_set_overview_cache): one copy
 * of the overview page per process, for the store it was rendered from,
 * served while it is fresh. When it expires, one request renders it again
 * while the others are served the old copy (no herd of renders of the most
 * expensive page); only when there is no copy at all do they wait for the
 * one being made. */
#include "web/web_internal.h"
#include "common/xalloc.h"
#include "store/dashboard.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static long long ttl_ms;
static bool rendering;   /* a request is rendering the overview now */
static char *location;   /* the store the copy came from */
static char *body;
static size_t body_len;
static long long until_ms;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void web_set_overview_cache(long long ttl)
{
    pthread_mutex_lock(&lock);
    ttl_ms = ttl > 0 ? ttl : 0;
    until_ms = 0;
    pthread_mutex_unlock(&lock);
}

static void serve_copy(web_page *out)
{
    buf_append(&out->body, body, body_len);
    out->status = 200;
}

pyti_status web_overview_cached(pyti_store *s, web_page *out, pyti_error *err)
{
    const char *loc = store_location_of(s);
    pthread_mutex_lock(&lock);
    if (ttl_ms == 0) {
        pthread_mutex_unlock(&lock);
        return page_overview(s, out, err);
    }
    for (;;) {
        bool same = body && strcmp(location, loc) == 0;
        if (same && (now_ms() < until_ms || rendering)) {
            serve_copy(out); /* fresh, or being refreshed by another request */
            pthread_mutex_unlock(&lock);
            return PYTI_OK;
        }
        if (!rendering)
            break;
        pthread_cond_wait(&done, &lock);
    }
    rendering = true;
    pthread_mutex_unlock(&lock);
    pyti_status rc = page_overview(s, out, err);
    pthread_mutex_lock(&lock);
    if (rc == PYTI_OK && ttl_ms > 0 && out->status == 200) {
        free(body);
        free(location);
        body = xstrdup(buf_cstr(&out->body));
        body_len = out->body.len;
        location = xstrdup(loc);
        until_ms = now_ms() + ttl_ms;
    }
    rendering = false;
    pthread_cond_broadcast(&done);
    pthread_mutex_unlock(&lock);
    return rc;
}
