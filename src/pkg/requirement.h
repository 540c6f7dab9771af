/* requirement.h — PEP 508 dependency specifications ("name[extra]>=1;
 * marker" and "name @ url"), matching packaging.requirements.Requirement. */
#ifndef PYTI_REQUIREMENT_H
#define PYTI_REQUIREMENT_H

#include "common/err.h"
#include "common/strv.h"
#include "pkg/marker.h"
#include "pkg/specifier.h"

typedef struct pyti_requirement {
    char *name;            /* as written */
    char *normalized;      /* PEP 503 normalised name */
    pyti_strv extras;      /* as written, in order, no duplicates */
    pyti_specset *spec;    /* never NULL (empty set when none given) */
    char *url;             /* for "name @ url", else NULL */
    pyti_marker *marker;   /* NULL when none */
} pyti_requirement;

/* Parses one requirement. NULL with err (PYTI_ERR_INPUT) naming the
 * offset and what was expected. */
pyti_requirement *requirement_parse(const char *text, pyti_error *err);
void requirement_free(pyti_requirement *r);
/* Normalised text as str(Requirement) in packaging, new string. */
char *requirement_to_string(const pyti_requirement *r);

#endif
