/* version.h — PEP 440 versions: parse, normalise, compare.
 *
 * Behaviour matches the `packaging` library (packaging.version.Version,
 * as shipped by Debian as python3-packaging) exactly; the cross-check in
 * tests/crosscheck/ holds us to that. Numeric components are compared as
 * arbitrary-precision decimals (no overflow on "1.99999999999999999999"). */
#ifndef PYTI_VERSION_H
#define PYTI_VERSION_H

#include <stdbool.h>

#include "common/err.h"

typedef struct pyti_version pyti_version; /* opaque, immutable once parsed */

/* Parses a version string (surrounding whitespace allowed, as in
 * packaging). Returns NULL with err (PYTI_ERR_INPUT) naming the string and
 * what is wrong, for anything packaging would reject. */
pyti_version *version_parse(const char *text, pyti_error *err);
void version_free(pyti_version *v);
pyti_version *version_copy(const pyti_version *v);

/* The normalised form (str(Version(text)) in packaging), new string. */
char *version_to_string(const pyti_version *v);
/* The public part without the local label, new string. */
char *version_public(const pyti_version *v);
/* The release with trailing ".0"s stripped is NOT applied: base_version
 * as in packaging ("1!2.0" for "1!2.0rc1+x"), new string. */
char *version_base(const pyti_version *v);

/* <0, 0, >0 as a is older than, equal to, newer than b (PEP 440 order,
 * local labels included). */
int version_compare(const pyti_version *a, const pyti_version *b);

bool version_is_prerelease(const pyti_version *v); /* has pre or dev */
bool version_is_postrelease(const pyti_version *v);
bool version_is_devrelease(const pyti_version *v);
bool version_has_local(const pyti_version *v);
/* The epoch as a decimal string (owned by v). */
const char *version_epoch(const pyti_version *v);
/* Number of release components and the i-th as a decimal string without
 * leading zeros (owned by v). */
unsigned version_release_len(const pyti_version *v);
const char *version_release_at(const pyti_version *v, unsigned i);

#endif
