/* jsonarena.c — the per-thread bump allocator for jansson (see
 * jsonarena.h). Each thread's arena is a list of chunks, kept between
 * stretches (up to KEEP bytes, freed when the thread exits) so that a
 * server thread reuses the same memory page after page. */
#include "common/jsonarena.h"
#include "common/xalloc.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK ((size_t)256 << 10) /* a report of 50-80 KiB needs ~2-3 */
#define KEEP ((size_t)4 << 20)    /* kept for the next stretch; the rest freed */
#define ALIGN 16

typedef struct chunk {
    struct chunk *next;
    size_t size; /* of data */
    size_t used;
    _Alignas(ALIGN) unsigned char data[];
} chunk;

typedef struct arena {
    bool active;
    bool registered; /* its chunks are freed when the thread exits */
    chunk *chunks; /* in the order they are filled */
    chunk *cur;    /* the one being filled (NULL: none yet) */
    size_t live;   /* allocations not yet freed */
} arena;

static _Thread_local arena a;
static pthread_once_t installed = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key; /* its destructor frees a thread's chunks */
static bool exit_key_ok;

static bool in_arena(const void *p)
{
    for (const chunk *c = a.chunks; c; c = c->next)
        if ((const unsigned char *)p >= c->data && (const unsigned char *)p < c->data + c->size)
            return true;
    return false;
}

static void *arena_malloc(size_t size)
{
    if (!a.active)
        return malloc(size);
    size_t need = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need < size) /* overflow */
        return NULL;
    chunk *c = a.cur;
    while (c && c->size - c->used < need && c->next && c->next->used == 0 &&
           c->next->size >= need)
        c = a.cur = c->next; /* a chunk kept from an earlier stretch */
    if (!c || c->size - c->used < need) {
        /* A new chunk after the current one; a large value gets one of
         * its own. */
        size_t sz = need > CHUNK / 4 ? need : CHUNK;
        chunk *n = malloc(sizeof *n + sz);
        if (!n)
            return NULL; /* jansson reports the failure */
        n->size = sz;
        n->used = 0;
        if (c) {
            n->next = c->next;
            c->next = n;
        } else {
            n->next = a.chunks;
            a.chunks = n;
        }
        if (sz == CHUNK || !c)
            a.cur = n;
        c = n;
    }
    void *p = c->data + c->used;
    c->used += need;
    a.live++;
    return p;
}

static void arena_free(void *p)
{
    if (!p)
        return;
    if (a.chunks && in_arena(p)) {
        a.live--;
        return;
    }
    free(p);
}

/* At a thread's exit: the chunks kept for its next stretch go (a master
 * runs each write on a thread of its own, and may warm a report page
 * there). */
static void thread_exit(void *p)
{
    arena *x = p;
    while (x->chunks) {
        chunk *c = x->chunks;
        x->chunks = c->next;
        free(c);
    }
    x->cur = NULL;
}

static void install(void)
{
    exit_key_ok = pthread_key_create(&exit_key, thread_exit) == 0;
    json_set_alloc_funcs(arena_malloc, arena_free);
}

/* Under AddressSanitizer (the fuzz targets) the arena is off, so that
 * the sanitizer sees every allocation of a report's values. */
#if defined(__SANITIZE_ADDRESS__) /* gcc */
#define ARENA_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) /* clang (the fuzz build) */
#define ARENA_OFF 1
#endif
#endif
#ifndef ARENA_OFF
#define ARENA_OFF 0
#endif

void json_arena_begin(void)
{
    if (ARENA_OFF)
        return;
    pthread_once(&installed, install);
    if (a.active) {
        fprintf(stderr, "pyti: json_arena_begin inside a stretch (a bug)\n");
        abort();
    }
    if (!a.registered && exit_key_ok)
        a.registered = pthread_setspecific(exit_key, &a) == 0;
    a.active = true;
    a.live = 0;
    a.cur = a.chunks;
}

void json_arena_end(void)
{
    if (!a.active)
        return;
    if (a.live != 0) {
        fprintf(stderr, "pyti: %zu JSON values outlive their arena (a bug)\n", a.live);
        abort();
    }
    a.active = false;
    /* Keep chunks up to KEEP bytes, emptied; free the rest. */
    size_t kept = 0;
    chunk **pc = &a.chunks;
    while (*pc) {
        chunk *c = *pc;
        if (a.registered && kept + c->size <= KEEP && c->size == CHUNK) {
            c->used = 0;
            kept += c->size;
            pc = &c->next;
        } else {
            *pc = c->next;
            free(c);
        }
    }
    a.cur = a.chunks;
}
