/* master.c — the master's life cycle (start, stop), the pool of store
 * handles requests borrow, the wake-up of long polls, the reaper timer,
 * and the response helpers every handler uses. The HTTP side is http.c. */
#include "master/master_internal.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "web/web.h"

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Handles kept open between requests; more are opened under load and
 * closed when given back beyond this. */
#define POOL_KEEP 16

/* ---- responses ---- */

void master_response_init(master_response *r)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

void master_response_free(master_response *r)
{
    buf_free(&r->body);
    strv_free(&r->headers);
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

void master_response_header(master_response *r, const char *name, const char *value)
{
    strv_push(&r->headers, name);
    strv_push(&r->headers, value);
}

void master_response_json(master_response *r, int status, json_t *value)
{
    char *text = json_dumps(value, JSON_INDENT(1) | JSON_SORT_KEYS);
    json_decref(value);
    buf_reset(&r->body);
    if (text) {
        buf_puts(&r->body, text);
        buf_putc(&r->body, '\n');
    }
    free(text);
    r->status = status;
    snprintf(r->content_type, sizeof r->content_type, "application/json");
}

void master_response_text(master_response *r, int status, const char *ctype, const char *text)
{
    buf_reset(&r->body);
    buf_puts(&r->body, text);
    r->status = status;
    snprintf(r->content_type, sizeof r->content_type, "%s", ctype);
}

void master_response_error(master_response *r, int status, const char *code, const char *fmt, ...)
{
    char msg[PYTI_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *e = json_object();
    json_object_set_new(e, "status", json_integer(status));
    json_object_set_new(e, "code", json_string(code));
    json_set_text(e, "message", msg);
    master_response_json(r, status, json_pack("{s:o}", "error", e));
}

void master_response_pyti_error(master_response *r, const pyti_error *err)
{
    int status = 500;
    const char *code = "internal";
    switch (err->code) {
    case PYTI_ERR_INPUT:
    case PYTI_ERR_USAGE: status = 400; code = "bad_request"; break;
    case PYTI_ERR_NOTFOUND: status = 404; code = "not_found"; break;
    case PYTI_ERR_LIMIT: status = 413; code = "too_large"; break;
    case PYTI_ERR_IO: status = 503; code = "unavailable"; break;
    default: break;
    }
    master_response_error(r, status, code, "%s", err->msg);
    /* The store cannot be reached: come back shortly, as the pages say. */
    if (status == 503)
        master_response_header(r, "Retry-After", "5");
}

/* ---- the store pool ---- */

pyti_store *master_store_get(pyti_master *m, pyti_error *err)
{
    master_pool *p = &m->pool;
    pthread_mutex_lock(&p->lock);
    pyti_store *s = p->nidle ? p->idle[--p->nidle] : NULL;
    if (!s)
        p->open++;
    pthread_mutex_unlock(&p->lock);
    if (s)
        return s;
    s = store_open(p->location, err);
    if (!s) {
        pthread_mutex_lock(&p->lock);
        p->open--;
        pthread_mutex_unlock(&p->lock);
        return NULL;
    }
    store_queue_options qo;
    store_queue_options_default(&qo);
    qo.lease_ms = (long long)m->st.lease_s * 1000;
    qo.max_attempts = (int)m->st.max_attempts;
    qo.backoff_base_ms = (long long)m->st.retry_backoff_s * 1000;
    store_set_queue_options(s, &qo);
    return s;
}

void master_store_put(pyti_master *m, pyti_store *s)
{
    if (!s)
        return;
    master_pool *p = &m->pool;
    pthread_mutex_lock(&p->lock);
    if (p->nidle < POOL_KEEP) {
        if (p->nidle == p->cap) {
            p->cap = p->cap ? 2 * p->cap : 8;
            p->idle = xreallocarray(p->idle, p->cap, sizeof *p->idle);
        }
        p->idle[p->nidle++] = s;
        s = NULL;
    } else {
        p->open--;
    }
    pthread_mutex_unlock(&p->lock);
    store_close(s);
}

static void pool_free(master_pool *p)
{
    for (size_t i = 0; i < p->nidle; i++)
        store_close(p->idle[i]);
    free(p->idle);
    free(p->location);
    pthread_mutex_destroy(&p->lock);
}

void master_wake(pyti_master *m)
{
    pthread_mutex_lock(&m->wake_lock);
    m->wake_gen++;
    pthread_cond_broadcast(&m->wake);
    pthread_mutex_unlock(&m->wake_lock);
}

/* ---- the reaper ---- */

static void *reaper_main(void *arg)
{
    pyti_master *m = arg;
    while (!m->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)m->st.reap_interval_s;
        pthread_mutex_lock(&m->wake_lock);
        while (!m->stopping && pthread_cond_timedwait(&m->wake, &m->wake_lock, &until) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&m->wake_lock);
        if (m->stopping)
            break;
        pyti_error err;
        pyti_store *s = master_store_get(m, &err);
        if (!s) {
            log_warn("serve: reaper: %s", err.msg);
            continue;
        }
        long long requeued = 0, failed = 0;
        if (store_reap_expired(s, &requeued, &failed, &err) != PYTI_OK)
            log_warn("serve: reaper: %s", err.msg);
        else if (requeued || failed)
            log_info("serve: %lld expired leases requeued, %lld jobs failed", requeued, failed);
        master_store_put(m, s);
        if (requeued)
            master_wake(m);
    }
    return NULL;
}

/* ---- life cycle ---- */

static pyti_master *master_alloc(const char *db, const pyti_config *cfg, const char *extra_token,
                                 pyti_error *err)
{
    pyti_master *m = xcalloc(1, sizeof *m);
    if (master_settings_load(cfg, extra_token, &m->st, err) != PYTI_OK) {
        free(m);
        return NULL;
    }
    m->config = cfg;
    const char *loc = db ? db : config_get(cfg, "store", "path");
    m->pool.location = loc ? xstrdup(loc) : store_default_location();
    pthread_mutex_init(&m->pool.lock, NULL);
    pthread_mutex_init(&m->wake_lock, NULL);
    pthread_cond_init(&m->wake, NULL);
    pthread_mutex_init(&m->stats_lock, NULL);
    /* One handle now: the store is reachable and migrated before the
     * first request. */
    pyti_store *s = master_store_get(m, err);
    if (!s) {
        master_free_for_tests(m);
        return NULL;
    }
    master_store_put(m, s);
    return m;
}

pyti_master *master_new_for_tests(const char *db, const pyti_config *cfg, pyti_error *err)
{
    pyti_master *m = master_alloc(db, cfg, NULL, err);
    if (m)
        snprintf(m->url, sizeof m->url, "%s",
                 m->st.public_url ? m->st.public_url : "http://127.0.0.1:8080");
    return m;
}

void master_free_for_tests(pyti_master *m)
{
    if (!m)
        return;
    pool_free(&m->pool);
    master_settings_free(&m->st);
    pthread_mutex_destroy(&m->wake_lock);
    pthread_cond_destroy(&m->wake);
    pthread_mutex_destroy(&m->stats_lock);
    free(m);
}

pyti_master *master_start(const master_options *o, pyti_error *err)
{
    pyti_master *m = master_alloc(o->db, o->config, o->extra_worker_token, err);
    if (!m)
        return NULL;
    m->log_requests = o->log_requests;
    if (o->listen) {
        free(m->st.listen);
        m->st.listen = xstrdup(o->listen);
    }
    if (path_mkdirs(m->st.files_dir, 0755, err) != PYTI_OK) {
        pyti_error_prefix(err, "[master] files_dir");
        master_free_for_tests(m);
        return NULL;
    }
    /* The overview aggregates the whole store; a copy at most 5 s old
     * serves every request in between (docs/web.md). */
    /* Every request allocates and frees a few hundred KiB (a report's
     * JSON, a page); by default glibc hands the top of each thread's heap
     * back to the kernel as soon as 128 KiB are free and maps larger
     * blocks afresh, and each return costs a TLB shootdown across the
     * cores: ~15 % of the server's CPU under load (bench/README.md,
     * "web_load"). Keep up to 32 MiB free per heap, map only blocks of
     * 8 MiB and more on their own. */
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
    mallopt(M_MMAP_THRESHOLD, 8 << 20);
    web_set_overview_cache(5000);
    /* Reports never change: the parts of their pages that depend on the
     * report alone are kept, up to 256 MiB of copies (~7,500 pages of a
     * typical report; docs/web.md). */
    web_set_report_cache((size_t)256 << 20);
    /* Project pages are kept under the project's stamp (its releases and
     * reports), checked at every request: up to 128 MiB of copies (~3,000
     * pages of ten releases; docs/web.md). */
    web_set_project_cache((size_t)128 << 20);
    if (master_http_start(m, err) != PYTI_OK) {
        master_free_for_tests(m);
        return NULL;
    }
    if (m->st.public_url)
        snprintf(m->url, sizeof m->url, "%s", m->st.public_url);
    if (pthread_create(&m->reaper, NULL, reaper_main, m) == 0)
        m->reaper_started = true;
    if (!o->no_feeds && feeds_start(m, o->config, err) != PYTI_OK) {
        master_stop(m);
        return NULL;
    }
    return m;
}

unsigned master_port(const pyti_master *m) { return m->port; }

const char *master_url(const pyti_master *m) { return m->url; }

const char *master_generated_token_file(const pyti_master *m)
{
    return m->st.generated_token_file;
}

void master_stop(pyti_master *m)
{
    if (!m)
        return;
    m->stopping = 1;
    master_wake(m);
    feeds_stop(m);
    if (m->reaper_started)
        pthread_join(m->reaper, NULL);
    master_http_stop(m);
    master_free_for_tests(m);
}
