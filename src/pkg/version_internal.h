/* version_internal.h — the PEP 440 scanner and helpers shared by
 * version.c and specifier.c. Private to src/pkg. */
#ifndef PYTI_VERSION_INTERNAL_H
#define PYTI_VERSION_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "pkg/version.h"

/* Longest accepted version string, in bytes (before any trimming). */
#define PYTI_VERSION_MAX_LEN 1024

/* Flags for pep440_scan. */
#define PEP440_LOCAL       1u /* allow "+local" */
#define PEP440_WILDCARD    2u /* allow ".*" right after the release */
#define PEP440_TWO_RELEASE 4u /* the release needs at least two numbers */

typedef struct pep440_span {
    size_t off, len;
} pep440_span;

/* What pep440_scan recognised; spans index the scanned string. */
typedef struct pep440_parts {
    pep440_span epoch;              /* len 0: none */
    pep440_span release;            /* "1.2.3" */
    pep440_span pre_l, pre_n;       /* pre_l.len 0: no pre-release */
    bool has_post;
    pep440_span post_l, post_n;     /* post_l.len 0 with has_post: "1.0-1" */
    bool has_dev;
    pep440_span dev_n;
    pep440_span local;              /* len 0: none (without the '+') */
    bool wildcard;
} pep440_parts;

/* Matches packaging's version grammar (VERSION_PATTERN, or the version part
 * of Specifier's regex when flags say so) at s[i..n) without anchoring the
 * end, greedily as Python's re does for this grammar. Returns the offset
 * just past the match, or (size_t)-1 if there is no release number at i.
 * parts may be NULL. Leading/trailing whitespace is the caller's job. */
size_t pep440_scan(const char *s, size_t n, size_t i, unsigned flags, pep440_parts *parts);

/* version_parse on s[0..n). */
pyti_version *version_parse_n(const char *s, size_t n, pyti_error *err);

/* packaging.utils.canonicalize_version(v, strip_trailing_zero=...), new
 * string. */
char *version_canonical(const pyti_version *v, bool strip_trailing_zero);
/* canonicalize_version of a string: the canonical form if it parses as a
 * version, else the string itself (new string either way). */
char *version_canonical_str(const char *s, bool strip_trailing_zero);

#endif
