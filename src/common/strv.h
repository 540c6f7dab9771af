/* strv.h — a growable vector of owned strings.
 *
 * A zero-initialised pyti_strv is empty and ready. The vector owns its
 * strings: strv_push copies, strv_free frees them all. items[len] is always
 * NULL once anything was pushed, so items can be passed as an argv. */
#ifndef PYTI_STRV_H
#define PYTI_STRV_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pyti_strv {
    char **items;
    size_t len;
    size_t cap;
} pyti_strv;

#define PYTI_STRV_INIT {NULL, 0, 0}

/* Appends a copy of s. */
void strv_push(pyti_strv *v, const char *s);
/* Appends s itself, taking ownership of the malloc'd string. */
void strv_push_owned(pyti_strv *v, char *s);
/* Appends a copy of s unless an equal string is already present. */
void strv_push_unique(pyti_strv *v, const char *s);
/* Index of the first string equal to s, or -1. */
long strv_index(const pyti_strv *v, const char *s);
bool strv_contains(const pyti_strv *v, const char *s);
/* Sorts by strcmp (stable, deterministic). */
void strv_sort(pyti_strv *v);
/* Joins with sep into a new malloc'd string ("" for an empty vector). */
char *strv_join(const pyti_strv *v, const char *sep);
/* Splits s at any of the characters in seps, trimming whitespace around
 * each piece and dropping empty pieces; appends the pieces to v. */
void strv_split(pyti_strv *v, const char *s, const char *seps);
/* Deep-copies src's strings onto the end of dst. */
void strv_extend(pyti_strv *dst, const pyti_strv *src);
void strv_free(pyti_strv *v);

#endif
