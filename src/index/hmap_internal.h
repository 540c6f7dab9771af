/* hmap_internal.h — a small string-keyed hash map (open addressing) used
 * inside src/index. Keys are copied; values are borrowed pointers. */
#ifndef PYTI_HMAP_INTERNAL_H
#define PYTI_HMAP_INTERNAL_H

#include <stddef.h>

typedef struct pyti_hmap {
    char **keys;
    void **vals;
    size_t cap; /* power of two, or 0 */
    size_t len;
} pyti_hmap;

/* The value stored under key, or NULL. */
void *hmap_get(const pyti_hmap *m, const char *key);
/* Stores val under key (replacing any previous value). */
void hmap_put(pyti_hmap *m, const char *key, void *val);
/* Frees the keys and the table (not the values). */
void hmap_free(pyti_hmap *m);

#endif
