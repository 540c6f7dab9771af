/* web_internal.h — what the files of src/web/ share: the page frame and
 * stylesheet (layout.c), small renderers used on several pages, and one
 * function per page. Private to src/web/. */
#ifndef PYTI_WEB_INTERNAL_H
#define PYTI_WEB_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "web/html.h"
#include "web/svg.h"
#include "web/web.h"

/* ---- layout.c ---- */

/* Opens the document: head with title and the stylesheet, the top bar
 * (navigation and the search form, unless standalone). */
void layout_open(pyti_buf *b, const char *title, bool standalone);
/* Closes the document. */
void layout_close(pyti_buf *b);

/* Fills p with a complete error page. */
void web_error_page(web_page *p, int status, const char *title, const char *message);

/* A coloured badge for a status, outcome, quality, safety or severity
 * value ("passed", "suspicious", "high", ...). */
void web_badge(pyti_buf *b, const char *value);

/* The CSS class of a status-like value ("c-passed"); "c-other" for
 * values it does not know (so a hostile value never becomes a class). */
const char *web_class(const char *value);

/* ISO 8601 UTC time ("2026-12-06T18:00:29.223Z") as ms since the epoch,
 * or NAN if it does not parse. */
double web_iso_ms(const char *iso);

/* "2026-12-06 18:00:29" from an ISO time (escaped; "–" for NULL). */
void web_time(pyti_buf *b, const char *iso);

/* A table of jobs (store_jobs_list objects), linking each to its job
 * page and its report (page_overview.c). */
void web_jobs_table(pyti_buf *b, const json_t *jobs);

/* ---- the report's sections (report_contents.c, report_behaviour.c) ---- */

/* The first task of the report run by this built-in, or NULL. */
const json_t *web_task(const json_t *report, const char *builtin);
/* Its data object, or NULL (t may be NULL). */
const json_t *web_task_data(const json_t *t);
/* <dt>k</dt><dd>v</dd> when v is a string / an integer; nothing otherwise. */
void web_kv_text(pyti_buf *b, const char *k, const char *v);
void web_kv_int(pyti_buf *b, const char *k, const json_t *v);
/* Any JSON value as compact escaped text (strings as they are), cut at
 * 600 bytes. */
void web_json_inline(pyti_buf *b, const json_t *v);

void report_section_facts(pyti_buf *b, const json_t *report);
void report_section_dependencies(pyti_buf *b, const json_t *report);
void report_section_tests(pyti_buf *b, const json_t *report);
void report_section_events(pyti_buf *b, const json_t *report);
void report_section_findings(pyti_buf *b, const json_t *report);
void report_section_logs(pyti_buf *b, const json_t *report);

/* ---- the report (page_report.c) ---- */

/* The body of a report page: everything inside <main>. previous (may be
 * NULL) is the latest report of the release before this one as a history
 * entry (metrics_history_entry), for the regressions; others (may be NULL) lists the release's other reports.
 * In standalone mode links that need a server are left out and metric
 * names link to the catalogue appended to the page. */
void report_body(pyti_buf *b, const json_t *report, const json_t *previous,
                 const json_t *others, bool standalone);

/* ---- lru_cache.c: rendered copies within a byte budget ---- */

/* A cache of byte strings by key (any bytes), holding at most budget
 * bytes of entries (each counted with its key and bookkeeping), the least
 * recently used dropped first; a value over half the budget is not kept.
 * A budget of 0 (LRU_CACHE_INIT) keeps nothing. Thread-safe. */
typedef struct lru_entry lru_entry;
typedef struct lru_cache {
    pthread_mutex_t lock;
    size_t budget, used, nbuckets, count;
    lru_entry **buckets, *head, *tail;
    unsigned long long hits, misses; /* since the last lru_set_budget */
} lru_cache;
#define LRU_CACHE_INIT {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0}

/* Empties c and sets its budget. */
void lru_set_budget(lru_cache *c, size_t bytes);
/* Appends the value of key to out and marks it recently used; false (out
 * untouched) when c has no such key. */
bool lru_get(lru_cache *c, const char *key, size_t key_len, pyti_buf *out);
/* Whether c holds key (not counted as a hit or a miss, not marked used). */
bool lru_has(lru_cache *c, const char *key, size_t key_len);
/* Keeps a copy of val under key (nothing if key is there already: another
 * thread rendered the same copy meanwhile), dropping the least recently
 * used entries to make room. */
void lru_put(lru_cache *c, const char *key, size_t key_len, const void *val, size_t val_len);
/* c's budget, bytes used, entries, hits and misses. */
void lru_stats(lru_cache *c, web_report_cache_info *info);

/* The rendered parts of a report page that depend on the report alone
 * (report_cache.c keeps them; the store keeps them too, as
 * store_report_page, hence the one type): head is the document's
 * opening, header and verdict, tail the timeline to the logs; name and
 * version (either may be NULL) find the previous release and the
 * release's reports; renderer is REPORT_RENDERER (page_report.c) once
 * rendered or read from the store, not kept by the cache. */
typedef store_report_page report_parts;

#define report_parts_free store_report_page_free

/* A copy of the cached parts of report id in the store at location into
 * out (the caller frees it); false when not cached or the cache is off. */
bool report_cache_get(const char *location, const char *id, report_parts *out);
/* Whether the cache holds report id's parts (no hit or miss counted). */
bool report_cache_peek(const char *location, const char *id);
/* Keeps a copy of parts (nothing when the cache is off). */
void report_cache_put(const char *location, const char *id, const report_parts *parts);

/* The metrics catalogue as a table with an anchor per metric
 * (id "metric-ID"). */
void catalogue_table(pyti_buf *b);

/* ---- pages: each fills out and returns PYTI_OK, or PYTI_ERR_IO with
 * err when the store fails (the caller then renders the 500 page) ---- */

pyti_status page_overview(pyti_store *s, web_page *out, pyti_error *err);
/* page_overview through the overview's cache (web_cache.c). */
pyti_status web_overview_cached(pyti_store *s, web_page *out, pyti_error *err);
pyti_status page_project(pyti_store *s, const char *name, web_page *out, pyti_error *err);
/* page_project through the project pages' cache (project_cache.c). */
pyti_status web_project_cached(pyti_store *s, const char *name, web_page *out, pyti_error *err);
pyti_status page_release(pyti_store *s, const char *name, const char *version, web_page *out,
                         pyti_error *err);
pyti_status page_report(pyti_store *s, const char *id, web_page *out, pyti_error *err);
pyti_status page_job(pyti_store *s, long long id, web_page *out, pyti_error *err);
pyti_status page_workers(pyti_store *s, web_page *out, pyti_error *err);
pyti_status page_search(pyti_store *s, const char *query, web_page *out, pyti_error *err);
pyti_status page_catalogue(web_page *out);

#endif
