/* name.h — project names (PEP 503 normalisation, validity) and the names
 * of distribution files: wheels (PEP 427/491) and sdists (PEP 625 and the
 * legacy "name-version.tar.gz" forms). */
#ifndef PYTI_NAME_H
#define PYTI_NAME_H

#include <stdbool.h>

#include "common/err.h"
#include "common/strv.h"

/* PEP 503: lowercase, runs of [-_.] become "-". New string. Lowercasing is
 * Python's str.lower() (packaging.utils.canonicalize_name), Unicode
 * included; NULL gives "". Cannot fail. */
char *name_normalize(const char *name);
/* True if name is a valid project name per the core metadata spec
 * (^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$, case-insensitive). */
bool name_is_valid(const char *name);

typedef enum pyti_dist_kind {
    PYTI_DIST_WHEEL,
    PYTI_DIST_SDIST,
} pyti_dist_kind;

typedef struct pyti_dist_filename {
    pyti_dist_kind kind;
    char *name;       /* as in the file name ("foo_bar") */
    char *version;    /* as in the file name */
    char *build;      /* wheel build tag or NULL */
    pyti_strv python_tags; /* wheel: expanded compressed tag sets */
    pyti_strv abi_tags;
    pyti_strv platform_tags;
    char *extension;  /* ".whl", ".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz" */
} pyti_dist_filename;

/* Parses the base name of a distribution file. Fails (PYTI_ERR_INPUT) for
 * unknown extensions or malformed names, saying which and why. For sdists
 * whose name contains dashes the split is at the last dash followed by a
 * digit, as pip does. */
pyti_status dist_filename_parse(const char *filename, pyti_dist_filename *out, pyti_error *err);
void dist_filename_free(pyti_dist_filename *f);

#endif
