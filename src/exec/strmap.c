/* strmap.c — string-keyed hash map private to src/exec (see strmap_internal.h). */
#include "exec/strmap_internal.h"
#include "common/fnv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

static uint64_t hash_str(const char *s)
{
    return fnv1a_str(s);
}

/* The slot holding key, or the empty slot where it would go. cap > 0. */
static strmap_slot *find_slot(strmap_slot *slots, size_t cap, const char *key)
{
    size_t mask = cap - 1;
    size_t i = (size_t)hash_str(key) & mask;
    while (slots[i].key && strcmp(slots[i].key, key) != 0)
        i = (i + 1) & mask;
    return &slots[i];
}

static void grow(strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    strmap_slot *ns = xcalloc(ncap, sizeof *ns);
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key)
            *find_slot(ns, ncap, m->slots[i].key) = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
}

bool strmap_get(const strmap *m, const char *key, size_t *value)
{
    if (!m->cap)
        return false;
    strmap_slot *s = find_slot(m->slots, m->cap, key);
    if (!s->key)
        return false;
    if (value)
        *value = s->value;
    return true;
}

bool strmap_add(strmap *m, const char *key, size_t value, size_t *existing)
{
    if ((m->len + 1) * 2 > m->cap)
        grow(m);
    strmap_slot *s = find_slot(m->slots, m->cap, key);
    if (s->key) {
        if (existing)
            *existing = s->value;
        return false;
    }
    s->key = key;
    s->value = value;
    m->len++;
    return true;
}

void strmap_set(strmap *m, const char *key, size_t value)
{
    if ((m->len + 1) * 2 > m->cap)
        grow(m);
    strmap_slot *s = find_slot(m->slots, m->cap, key);
    if (!s->key)
        m->len++;
    s->key = key;
    s->value = value;
}

void strmap_free(strmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = 0;
    m->len = 0;
}
