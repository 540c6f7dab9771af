/* specifier.h — PEP 440 version specifiers and specifier sets
 * ("~=1.4, !=1.5.*, <2"), matching packaging.specifiers.SpecifierSet. */
#ifndef PYTI_SPECIFIER_H
#define PYTI_SPECIFIER_H

#include <stdbool.h>

#include "common/err.h"
#include "pkg/version.h"

typedef struct pyti_specset pyti_specset; /* opaque */

/* Parses a comma-separated set; the empty string is the empty set (matches
 * everything final). NULL with err (PYTI_ERR_INPUT) for a bad clause,
 * naming it. */
pyti_specset *specset_parse(const char *text, pyti_error *err);
void specset_free(pyti_specset *s);
pyti_specset *specset_copy(const pyti_specset *s);

/* Number of clauses. */
unsigned specset_len(const pyti_specset *s);

/* Whether v satisfies every clause. prereleases: -1 = the default rule of
 * packaging (pre-releases match only if a clause explicitly names one),
 * 0 = never, 1 = always allowed. */
bool specset_contains(const pyti_specset *s, const pyti_version *v, int prereleases);

/* Same, from a version string; an unparsable string never matches. */
bool specset_contains_str(const pyti_specset *s, const char *version, int prereleases);

/* Like specset_contains, but reports where packaging raises instead of
 * answering: 1 contained, 0 not, -1 error with err set. packaging raises
 * when prereleases is -1 and a "===" clause's operand is not a PEP 440
 * version (Specifier.prereleases parses it), and for a few odd spellings
 * whose normal form does not re-parse (docs/pep-conformance.md).
 * specset_contains answers false in those cases. */
int specset_check(const pyti_specset *s, const pyti_version *v, int prereleases,
                  pyti_error *err);

/* The i-th clause as str(Specifier) ("~=1.4", operand as written), in the
 * order given, duplicates removed; owned by s. NULL if i is out of range. */
const char *specset_clause_at(const pyti_specset *s, unsigned i);

/* Normalised text as str(SpecifierSet) in packaging (clauses sorted,
 * joined by ","), new string. */
char *specset_to_string(const pyti_specset *s);

#endif
