/* typosquat.h — does a project name imitate a popular one?
 *
 * The popular names come from data/popular-projects.txt (made by
 * scripts/update-popular-projects): one PEP 503 name per line, "#"
 * comments, optionally followed by its tier: "top" for the hand-kept list
 * of the most-used projects, else (no tier, or "listed") the projects
 * Debian packages. A name
 * is compared, after PEP 503 normalisation, with every popular name that
 * is not itself (docs/scan-rules.md, "Typosquatting"):
 *
 *   separators  equal once '-', '_' and '.' are dropped ("python-dateutil"
 *               vs "pythondateutil");
 *   homoglyph   equal once separators are dropped and look-alikes folded:
 *               "rn"->"m", "vv"->"w", "0"->"o", "1"->"l" ("djang0",
 *               "rnatplotlib", "f1ask");
 *   swap        two adjacent characters exchanged (any length >= 4);
 *   edit        Damerau-Levenshtein (optimal string alignment) distance 1
 *               for popular names of 5+ characters, 2 for 10+ ("top" tier
 *               only: long listed names share long common prefixes);
 *   affix       a "top" name of 4+ characters with a prefix or suffix that suggests the same
 *               project: "python-", "python3-", "py-", "py" / "-python",
 *               "-py", "py", "2", "3", "-2", "-3", "-lib", "-dev",
 *               "-official", "-latest", "-new", "-fix", "-secure".
 *
 * Very short candidates (under 4 characters) are never flagged. */
#ifndef PYTI_SCAN_TYPOSQUAT_H
#define PYTI_SCAN_TYPOSQUAT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

typedef struct pyti_popular pyti_popular;

typedef struct pyti_typosquat {
    char target[128];     /* the popular name imitated */
    const char *method;   /* "separators", "homoglyph", "swap", "edit", "affix" */
    unsigned distance;    /* edit distance (for "edit" and "swap") */
} pyti_typosquat;

/* Parses a popular-projects list (see above). Lines that are not a valid
 * name are errors naming name:line; an unknown tier is an error. Names are
 * normalised. On error NULL. */
pyti_popular *popular_from_string(const char *text, size_t len, const char *name,
                                  pyti_error *err);
/* Reads path (at most 16 MiB) and parses it. */
pyti_popular *popular_load(const char *path, pyti_error *err);
/* <datadir>/data/popular-projects.txt. */
pyti_popular *popular_load_default(pyti_error *err);
size_t popular_count(const pyti_popular *p);
/* True if the (normalised) name is in the list. */
bool popular_contains(const pyti_popular *p, const char *name);
void popular_free(pyti_popular *p);

/* True, with *out filled, if name (any spelling; it is normalised here)
 * imitates a popular name and is not itself popular. The first method
 * that matches wins, in the order above, and within a method the first
 * popular name in list order. Cannot fail. */
bool typosquat_check(const pyti_popular *p, const char *name, pyti_typosquat *out);

/* The optimal-string-alignment distance between a and b (insertions,
 * deletions, substitutions and transpositions of adjacent characters,
 * each costing 1), or max + 1 if it is larger than max. Strings longer
 * than 255 bytes are compared as unequal beyond max. Cannot fail. */
unsigned typosquat_distance(const char *a, const char *b, unsigned max);

/* The look-alike fold of a normalised name into out (size outsz):
 * separators dropped, "rn"->"m", "vv"->"w", "0"->"o", "1"->"l". */
void typosquat_fold(const char *name, char *out, size_t outsz);

#endif
