/* strv.c — growable vector of owned strings (see strv.h). */
#include "common/strv.h"
#include "common/buf.h"
#include "common/str.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

void strv_push_owned(pyti_strv *v, char *s)
{
    if (v->len + 2 > v->cap) {
        v->cap = v->cap ? v->cap * 2 : 8;
        v->items = xreallocarray(v->items, v->cap, sizeof *v->items);
    }
    v->items[v->len++] = s;
    v->items[v->len] = NULL;
}

void strv_push(pyti_strv *v, const char *s)
{
    strv_push_owned(v, xstrdup(s));
}

void strv_push_unique(pyti_strv *v, const char *s)
{
    if (!strv_contains(v, s))
        strv_push(v, s);
}

long strv_index(const pyti_strv *v, const char *s)
{
    for (size_t i = 0; i < v->len; i++)
        if (strcmp(v->items[i], s) == 0)
            return (long)i;
    return -1;
}

bool strv_contains(const pyti_strv *v, const char *s)
{
    return strv_index(v, s) >= 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort(pyti_strv *v)
{
    if (v->len > 1)
        qsort(v->items, v->len, sizeof *v->items, cmp_str);
}

char *strv_join(const pyti_strv *v, const char *sep)
{
    pyti_buf b = PYTI_BUF_INIT;
    for (size_t i = 0; i < v->len; i++) {
        if (i)
            buf_puts(&b, sep);
        buf_puts(&b, v->items[i]);
    }
    return buf_detach(&b);
}

void strv_split(pyti_strv *v, const char *s, const char *seps)
{
    const char *p = s;
    while (*p) {
        size_t n = strcspn(p, seps);
        char *piece = xstrndup(p, n);
        str_trim(piece);
        if (*piece)
            strv_push_owned(v, piece);
        else
            free(piece);
        p += n;
        if (*p)
            p++;
    }
}

void strv_extend(pyti_strv *dst, const pyti_strv *src)
{
    for (size_t i = 0; i < src->len; i++)
        strv_push(dst, src->items[i]);
}

void strv_free(pyti_strv *v)
{
    for (size_t i = 0; i < v->len; i++)
        free(v->items[i]);
    free(v->items);
    v->items = NULL;
    v->len = v->cap = 0;
}
