/* hmap.c — string-keyed open-addressing hash map (see hmap_internal.h). */
#include "index/hmap_internal.h"
#include "common/fnv.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

static size_t hash(const char *s)
{
    return (size_t)fnv1a_str(s);
}

void *hmap_get(const pyti_hmap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    for (size_t i = hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i])
            return NULL;
        if (strcmp(m->keys[i], key) == 0)
            return m->vals[i];
    }
}

static void grow(pyti_hmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    char **keys = xcalloc(ncap, sizeof *keys);
    void **vals = xcalloc(ncap, sizeof *vals);
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = hash(m->keys[i]) & (ncap - 1);
        while (keys[j])
            j = (j + 1) & (ncap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = ncap;
}

void hmap_put(pyti_hmap *m, const char *key, void *val)
{
    if ((m->len + 1) * 2 > m->cap)
        grow(m);
    size_t i = hash(key) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i]) {
        m->keys[i] = xstrdup(key);
        m->len++;
    }
    m->vals[i] = val;
}

void hmap_free(pyti_hmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}
