/* xalloc.h — allocation that never returns NULL.
 *
 * pyti treats running out of memory as fatal: every x* function prints one
 * line naming the failed request and aborts. This keeps every other error
 * path about real errors (bad input, I/O), which is where care is needed.
 * Limits on untrusted input (archive sizes, field lengths) are enforced by
 * the parsers before they allocate, so hostile input cannot reach this path
 * by asking for huge allocations. */
#ifndef PYTI_XALLOC_H
#define PYTI_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
/* Resizes ptr to nmemb*size bytes, aborting on overflow of the product. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
/* Copies at most n bytes of s and always NUL-terminates. */
char *xstrndup(const char *s, size_t n);
/* asprintf that aborts on failure; returns a malloc'd string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
