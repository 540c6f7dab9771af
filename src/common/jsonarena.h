/* jsonarena.h — a per-thread bump allocator for jansson, for values that
 * are parsed, read and released within one stretch of one thread (a
 * stored report rendered into a page): a report of ~1,700 values makes
 * ~7,000 small allocations, and glibc's bookkeeping for them (and its
 * free-list upkeep between the pages' large buffers) was a fifth of an
 * uncached report page's CPU in the server.
 *
 * Between json_arena_begin() and json_arena_end() on a thread, every
 * jansson allocation made by that thread comes from the thread's arena,
 * and freeing one of them costs nothing; json_arena_end() takes the
 * arena back whole. Every other allocation and free (other threads, or
 * outside the stretch) goes to malloc and free as before: jansson's
 * allocator is replaced process-wide at the first json_arena_begin(),
 * with functions that pass anything not from an arena through.
 *
 * The rule: every jansson value made inside the stretch must be released
 * (json_decref, or jansson's own temporaries) before json_arena_end. A
 * value kept beyond it is a bug that json_arena_end catches: it aborts
 * with a message, rather than leave a value pointing into memory about
 * to be reused. Stretches do not nest. */
#ifndef PYTI_JSONARENA_H
#define PYTI_JSONARENA_H

void json_arena_begin(void);
void json_arena_end(void);

#endif
