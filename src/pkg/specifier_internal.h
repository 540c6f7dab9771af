/* specifier_internal.h — single PEP 440 specifier clauses, shared by
 * specifier.c, marker.c (whose comparisons go through Specifier) and the
 * PEP 508 tokenizer. Private to src/pkg. */
#ifndef PYTI_SPECIFIER_INTERNAL_H
#define PYTI_SPECIFIER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "pkg/version.h"

typedef enum spec_op {
    SPEC_COMPATIBLE, /* ~= */
    SPEC_EQ,         /* == */
    SPEC_NE,         /* != */
    SPEC_LE,         /* <= */
    SPEC_GE,         /* >= */
    SPEC_LT,         /* <  */
    SPEC_GT,         /* >  */
    SPEC_ARBITRARY,  /* === */
} spec_op;

/* One parsed clause, as packaging.specifiers.Specifier keeps it. */
typedef struct spec_clause {
    spec_op op;
    char *version;  /* as written, whitespace stripped ("1.0.*", "v2", ...) */
    char *text;     /* str(Specifier): operator + version */
} spec_clause;

/* Parses one clause exactly as Specifier(text) (anchored, surrounding
 * whitespace allowed). On error returns PYTI_ERR_INPUT with a message that
 * names the clause (callers add context) and leaves out untouched. */
pyti_status spec_clause_parse(const char *s, size_t n, spec_clause *out, pyti_error *err);
void spec_clause_clear(spec_clause *c);

/* The length of the SPECIFIER token of packaging's PEP 508 tokenizer (the
 * clause regex unanchored at the end) at s[i..n), or 0 if none matches. */
size_t spec_token_len(const char *s, size_t n, size_t i);

/* Specifier.contains(v, prereleases=...): 1 yes, 0 no, -1 error (err set),
 * where packaging raises. */
int spec_clause_contains(const spec_clause *c, const pyti_version *v, bool prereleases,
                         pyti_error *err);

/* Specifier.prereleases without an override: 1, 0, or -1 with err set when
 * packaging raises (a "===" clause whose version is not PEP 440). */
int spec_clause_prereleases(const spec_clause *c, pyti_error *err);

#endif
