/* web_cache.c — the overview's cache (web_set_overview_cache): one copy
 * of the overview page per process, for the store it was rendered from,
 * served while it is fresh. When it expires, a thread of its own renders
 * it again over a handle of its own while every request is served the old
 * copy: no herd of renders of the most expensive page, and no request
 * waits for it — in a server whose few threads each serve many
 * connections, a request rendering it inline would stall all of its
 * thread's connections for the render (49 ms of CPU over 100,000
 * reports). Only when there is no copy at all do requests wait for the
 * one being made (or, when no thread can be started, render it inline). */
#include "web/web_internal.h"
#include "common/thread.h"
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

/* Refresh failures retry after this long, not at every request. */
#define RETRY_MS 1000

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void web_set_overview_cache(long long ttl)
{
    pthread_mutex_lock(&lock);
    while (rendering) /* a refresh in flight finishes first */
        pthread_cond_wait(&done, &lock);
    ttl_ms = ttl > 0 ? ttl : 0;
    until_ms = 0;
    pthread_mutex_unlock(&lock);
}

static void serve_copy(web_page *out)
{
    buf_append(&out->body, body, body_len);
    out->status = 200;
}

/* Keeps page as the copy of location's overview (with lock held). */
static void keep_copy(const char *loc, const web_page *page)
{
    free(body);
    free(location);
    body = xmalloc(page->body.len + 1);
    memcpy(body, page->body.data ? page->body.data : "", page->body.len);
    body[page->body.len] = '\0';
    body_len = page->body.len;
    location = xstrdup(loc);
    until_ms = now_ms() + ttl_ms;
}

/* The refresh thread: arg is the location (owned). */
static void *refresh_main(void *arg)
{
    char *loc = arg;
    web_page page;
    web_page_init(&page);
    pyti_error err;
    pyti_store *s = store_open(loc, &err);
    pyti_status rc = s ? page_overview(s, &page, &err) : PYTI_ERR_IO;
    store_close(s);
    pthread_mutex_lock(&lock);
    if (rc == PYTI_OK && page.status == 200 && ttl_ms > 0)
        keep_copy(loc, &page);
    else
        until_ms = now_ms() + RETRY_MS; /* the old copy meanwhile */
    rendering = false;
    pthread_cond_broadcast(&done);
    pthread_mutex_unlock(&lock);
    web_page_free(&page);
    free(loc);
    return NULL;
}

/* Starts refresh_main for loc (with lock held, rendering set); false if
 * no thread could be made. */
static bool start_refresh(const char *loc)
{
    char *arg = xstrdup(loc);
    if (thread_start_detached(refresh_main, arg) == 0)
        return true;
    free(arg);
    return false;
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
            serve_copy(out); /* fresh, or being refreshed */
            pthread_mutex_unlock(&lock);
            return PYTI_OK;
        }
        if (same) { /* stale: refreshed behind this request's back */
            rendering = true;
            if (start_refresh(loc)) {
                serve_copy(out);
                pthread_mutex_unlock(&lock);
                return PYTI_OK;
            }
            break;
        }
        if (!rendering)
            break;
        pthread_cond_wait(&done, &lock);
    }
    /* No copy of this store's page yet (or no thread): render it here. */
    rendering = true;
    pthread_mutex_unlock(&lock);
    pyti_status rc = page_overview(s, out, err);
    pthread_mutex_lock(&lock);
    if (rc == PYTI_OK && ttl_ms > 0 && out->status == 200)
        keep_copy(loc, out);
    rendering = false;
    pthread_cond_broadcast(&done);
    pthread_mutex_unlock(&lock);
    return rc;
}
