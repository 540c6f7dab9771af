/* lru_cache.c — a byte-budgeted cache of byte strings by key (see
 * web_internal.h), least recently used out first: what the report and
 * project pages' caches (report_cache.c, project_cache.c) keep their
 * rendered copies in. One mutex per cache; a get copies the value out
 * under it, so an entry dropped meanwhile never reaches a reader. */
#include "web/web_internal.h"
#include "common/fnv.h"
#include "common/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct lru_entry {
    char *key; /* compared as key_len bytes */
    size_t key_len;
    char *val;
    size_t val_len;
    size_t bytes;                  /* what the entry costs against the budget */
    struct lru_entry *hnext;       /* bucket chain */
    struct lru_entry *prev, *next; /* LRU list: head is the most recent */
};

static size_t hash_key(const char *k, size_t len)
{
    return (size_t)fnv1a(FNV1A_INIT, k, len);
}

static lru_entry **slot_of(lru_cache *c, const char *key, size_t len)
{
    lru_entry **e = &c->buckets[hash_key(key, len) % c->nbuckets];
    while (*e && !((*e)->key_len == len && memcmp((*e)->key, key, len) == 0))
        e = &(*e)->hnext;
    return e;
}

static void lru_unlink(lru_cache *c, lru_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push(lru_cache *c, lru_entry *e)
{
    e->next = c->head;
    e->prev = NULL;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

static void entry_drop(lru_cache *c, lru_entry *e)
{
    *slot_of(c, e->key, e->key_len) = e->hnext;
    lru_unlink(c, e);
    c->used -= e->bytes;
    c->count--;
    free(e->key);
    free(e->val);
    free(e);
}

static void grow(lru_cache *c)
{
    size_t n = c->nbuckets ? 2 * c->nbuckets : 1024;
    lru_entry **nb = xcalloc(n, sizeof *nb);
    for (size_t i = 0; i < c->nbuckets; i++) {
        lru_entry *e = c->buckets[i];
        while (e) {
            lru_entry *next = e->hnext;
            size_t h = hash_key(e->key, e->key_len) % n;
            e->hnext = nb[h];
            nb[h] = e;
            e = next;
        }
    }
    free(c->buckets);
    c->buckets = nb;
    c->nbuckets = n;
}

void lru_set_budget(lru_cache *c, size_t bytes)
{
    pthread_mutex_lock(&c->lock);
    while (c->tail)
        entry_drop(c, c->tail);
    free(c->buckets);
    c->buckets = NULL;
    c->nbuckets = 0;
    c->budget = bytes;
    c->hits = c->misses = 0;
    pthread_mutex_unlock(&c->lock);
}

bool lru_get(lru_cache *c, const char *key, size_t key_len, pyti_buf *out)
{
    bool found = false;
    pthread_mutex_lock(&c->lock);
    if (c->budget && c->nbuckets) {
        lru_entry *e = *slot_of(c, key, key_len);
        if (e) {
            lru_unlink(c, e);
            lru_push(c, e);
            buf_append(out, e->val, e->val_len);
            found = true;
        }
    }
    if (c->budget)
        found ? c->hits++ : c->misses++;
    pthread_mutex_unlock(&c->lock);
    return found;
}

bool lru_has(lru_cache *c, const char *key, size_t key_len)
{
    pthread_mutex_lock(&c->lock);
    bool found = c->budget && c->nbuckets && *slot_of(c, key, key_len);
    pthread_mutex_unlock(&c->lock);
    return found;
}

void lru_put(lru_cache *c, const char *key, size_t key_len, const void *val, size_t val_len)
{
    size_t bytes = sizeof(lru_entry) + key_len + val_len;
    /* The copies are made before the lock is taken: tens of KiB each. */
    char *k = xmalloc(key_len + 1), *v = xmalloc(val_len + 1);
    memcpy(k, key, key_len);
    k[key_len] = '\0';
    if (val_len)
        memcpy(v, val, val_len);
    v[val_len] = '\0';
    pthread_mutex_lock(&c->lock);
    if (!c->budget || bytes > c->budget / 2) /* off, or one value would crowd out the rest */
        goto drop;
    if (!c->nbuckets)
        grow(c);
    if (*slot_of(c, key, key_len)) /* another request rendered it meanwhile */
        goto drop;
    while (c->used + bytes > c->budget && c->tail)
        entry_drop(c, c->tail);
    if (c->count + 1 > 2 * c->nbuckets)
        grow(c);
    lru_entry *e = xcalloc(1, sizeof *e);
    e->key = k;
    e->key_len = key_len;
    e->val = v;
    e->val_len = val_len;
    e->bytes = bytes;
    lru_entry **slot = slot_of(c, key, key_len);
    e->hnext = *slot;
    *slot = e;
    lru_push(c, e);
    c->used += bytes;
    c->count++;
    pthread_mutex_unlock(&c->lock);
    return;
drop:
    pthread_mutex_unlock(&c->lock);
    free(k);
    free(v);
}

void lru_stats(lru_cache *c, web_report_cache_info *info)
{
    pthread_mutex_lock(&c->lock);
    info->budget = c->budget;
    info->used = c->used;
    info->entries = c->count;
    info->hits = c->hits;
    info->misses = c->misses;
    pthread_mutex_unlock(&c->lock);
}
