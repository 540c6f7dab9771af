/* fnv.h — FNV-1a, 64 bits: the hash of pyti's in-memory tables and of the
 * names of things it keeps (never an integrity check: common/hash.h has
 * the digests). Inline: some callers hash on hot paths (the scanner's
 * words, the web caches' keys). */
#ifndef PYTI_FNV_H
#define PYTI_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A_INIT 0xcbf29ce484222325ULL

/* h continued over n bytes at p (start with FNV1A_INIT). */
static inline uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ULL;
    return h;
}

/* The hash of a NUL-terminated string. */
static inline uint64_t fnv1a_str(const char *s)
{
    uint64_t h = FNV1A_INIT;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

#endif
