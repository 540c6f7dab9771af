/* strmap_internal.h — a small string-keyed hash map private to src/exec:
 * name -> index lookups for the recipe loader and the task graph.
 *
 * Open addressing with linear probing, FNV-1a hashing, at most half full.
 * Keys are NOT copied: the caller keeps every key alive (and unchanged)
 * while it is in the map. A zero-initialised strmap is empty and ready.
 * Nothing here can fail (allocation failure aborts, see xalloc.h). */
#ifndef PYTI_EXEC_STRMAP_INTERNAL_H
#define PYTI_EXEC_STRMAP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strmap_slot {
    const char *key; /* NULL: empty slot */
    size_t value;
} strmap_slot;

typedef struct strmap {
    strmap_slot *slots;
    size_t cap; /* 0 or a power of two */
    size_t len;
} strmap;

#define STRMAP_INIT {NULL, 0, 0}

/* True if key is present; its value goes to *value (if value is not NULL). */
bool strmap_get(const strmap *m, const char *key, size_t *value);
/* Adds key -> value unless key is present. Returns true if added; false if
 * key was already there, with its value in *existing (if not NULL) and the
 * map unchanged. */
bool strmap_add(strmap *m, const char *key, size_t value, size_t *existing);
/* Adds or replaces: afterwards key (this very pointer) maps to value. */
void strmap_set(strmap *m, const char *key, size_t value);
void strmap_free(strmap *m);

#endif
