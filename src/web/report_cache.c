/* report_cache.c — the rendered immutable parts of report pages
 * (web_set_report_cache), per store location and report id, least
 * recently used first out when the copies pass their byte budget. A
 * stored report never changes, so the parts rendered from it (everything
 * but "since the previous release" and the list of the release's
 * reports, which depend on what else the store holds) stay true; what it
 * saves is parsing the stored JSON (most of a report page's cost) and
 * rendering it. Off (budget 0) unless a server turns it on. */
#include "web/web_internal.h"
#include "common/xalloc.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *key;                 /* location NUL id: compared as a whole */
    size_t key_len;
    report_parts parts;
    size_t bytes;              /* what the entry costs against the budget */
    struct entry *hnext;       /* bucket chain */
    struct entry *prev, *next; /* LRU list: head is the most recent */
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static size_t budget, used;
static entry **buckets;
static size_t nbuckets, count;
static entry *head, *tail;
static unsigned long long hits, misses;

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void parts_copy(report_parts *dst, const report_parts *src)
{
    dst->name = dup_or_null(src->name);
    dst->version = dup_or_null(src->version);
    dst->head = xmalloc(src->head_len + 1);
    memcpy(dst->head, src->head, src->head_len);
    dst->head[src->head_len] = '\0';
    dst->head_len = src->head_len;
    dst->tail = xmalloc(src->tail_len + 1);
    memcpy(dst->tail, src->tail, src->tail_len);
    dst->tail[src->tail_len] = '\0';
    dst->tail_len = src->tail_len;
}

void report_parts_free(report_parts *p)
{
    free(p->name);
    free(p->version);
    free(p->head);
    free(p->tail);
    memset(p, 0, sizeof *p);
}

static char *make_key(const char *location, const char *id, size_t *len)
{
    size_t a = strlen(location), b = strlen(id);
    char *k = xmalloc(a + b + 2);
    memcpy(k, location, a + 1);
    memcpy(k + a + 1, id, b + 1);
    *len = a + b + 1;
    return k;
}

static size_t hash_key(const char *k, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
    return (size_t)h;
}

static entry **slot_of(const char *key, size_t len)
{
    entry **e = &buckets[hash_key(key, len) % nbuckets];
    while (*e && !((*e)->key_len == len && memcmp((*e)->key, key, len) == 0))
        e = &(*e)->hnext;
    return e;
}

static void lru_unlink(entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push(entry *e)
{
    e->next = head;
    e->prev = NULL;
    if (head)
        head->prev = e;
    head = e;
    if (!tail)
        tail = e;
}

static void entry_drop(entry *e)
{
    *slot_of(e->key, e->key_len) = e->hnext;
    lru_unlink(e);
    used -= e->bytes;
    count--;
    report_parts_free(&e->parts);
    free(e->key);
    free(e);
}

static void grow(void)
{
    size_t n = nbuckets ? 2 * nbuckets : 1024;
    entry **nb = xcalloc(n, sizeof *nb);
    for (size_t i = 0; i < nbuckets; i++) {
        entry *e = buckets[i];
        while (e) {
            entry *next = e->hnext;
            size_t h = hash_key(e->key, e->key_len) % n;
            e->hnext = nb[h];
            nb[h] = e;
            e = next;
        }
    }
    free(buckets);
    buckets = nb;
    nbuckets = n;
}

static void clear_locked(void)
{
    while (tail)
        entry_drop(tail);
    free(buckets);
    buckets = NULL;
    nbuckets = 0;
}

void web_set_report_cache(size_t bytes)
{
    pthread_mutex_lock(&lock);
    clear_locked();
    budget = bytes;
    hits = misses = 0;
    pthread_mutex_unlock(&lock);
}

bool report_cache_get(const char *location, const char *id, report_parts *out)
{
    bool found = false;
    pthread_mutex_lock(&lock);
    if (budget && nbuckets) {
        size_t len;
        char *key = make_key(location, id, &len);
        entry *e = *slot_of(key, len);
        free(key);
        if (e) {
            lru_unlink(e);
            lru_push(e);
            parts_copy(out, &e->parts);
            found = true;
        }
    }
    if (budget)
        found ? hits++ : misses++;
    pthread_mutex_unlock(&lock);
    return found;
}

void report_cache_put(const char *location, const char *id, const report_parts *parts)
{
    size_t len;
    char *key = make_key(location, id, &len);
    size_t bytes = sizeof(entry) + len + parts->head_len + parts->tail_len +
                   (parts->name ? strlen(parts->name) : 0) +
                   (parts->version ? strlen(parts->version) : 0);
    pthread_mutex_lock(&lock);
    if (!budget || bytes > budget / 2) { /* off, or one page would crowd out the rest */
        pthread_mutex_unlock(&lock);
        free(key);
        return;
    }
    if (!nbuckets)
        grow();
    if (*slot_of(key, len)) { /* another request rendered it meanwhile */
        pthread_mutex_unlock(&lock);
        free(key);
        return;
    }
    while (used + bytes > budget && tail)
        entry_drop(tail);
    if (count + 1 > 2 * nbuckets)
        grow();
    entry *e = xcalloc(1, sizeof *e);
    e->key = key;
    e->key_len = len;
    e->bytes = bytes;
    parts_copy(&e->parts, parts);
    entry **slot = slot_of(key, len);
    e->hnext = *slot;
    *slot = e;
    lru_push(e);
    used += bytes;
    count++;
    pthread_mutex_unlock(&lock);
}

void web_report_cache_stats(web_report_cache_info *info)
{
    pthread_mutex_lock(&lock);
    info->budget = budget;
    info->used = used;
    info->entries = count;
    info->hits = hits;
    info->misses = misses;
    pthread_mutex_unlock(&lock);
}
