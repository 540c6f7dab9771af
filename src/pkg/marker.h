/* marker.h — PEP 508 environment markers: parse and evaluate, matching
 * packaging.markers.Marker (including its string-vs-version comparison
 * rules and `extra` normalisation). */
#ifndef PYTI_MARKER_H
#define PYTI_MARKER_H

#include "common/err.h"

typedef struct pyti_marker pyti_marker; /* opaque */

/* The values markers are evaluated against. NULL fields are errors when a
 * marker uses them, except extra (NULL = "", i.e. no extra requested). */
typedef struct pyti_marker_env {
    const char *implementation_name;             /* "cpython" */
    const char *implementation_version;          /* "3.11.2" */
    const char *os_name;                         /* "posix" */
    const char *platform_machine;                /* "x86_64" */
    const char *platform_release;
    const char *platform_system;                 /* "Linux" */
    const char *platform_version;
    const char *python_full_version;             /* "3.11.2" */
    const char *platform_python_implementation;  /* "CPython" */
    const char *python_version;                  /* "3.11" */
    const char *sys_platform;                    /* "linux" */
    const char *extra;
} pyti_marker_env;

/* Parses a marker expression. NULL with err (PYTI_ERR_INPUT) naming the
 * offset and what was expected. Like packaging 23.0's Marker(), text after
 * a complete expression is ignored ("os_name == 'a' junk" parses);
 * requirement_parse does insist on the end (docs/pep-conformance.md). */
pyti_marker *marker_parse(const char *text, pyti_error *err);
void marker_free(pyti_marker *m);
pyti_marker *marker_copy(const pyti_marker *m);

/* 1 true, 0 false, -1 error (err set: unknown variable, invalid
 * comparison as packaging raises). */
int marker_evaluate(const pyti_marker *m, const pyti_marker_env *env, pyti_error *err);

/* Normalised text as str(Marker) in packaging, new string. */
char *marker_to_string(const pyti_marker *m);

/* Fills env with the values of the interpreter pyti itself was built for
 * (Linux/CPython defaults for python_version given, e.g. "3.11.2"; the
 * kernel's uname() for platform_release/platform_version). The strings are
 * owned by pyti (per thread, valid until the next call on the same
 * thread); extra is NULL. A NULL python_full_version leaves the three
 * Python version fields NULL. */
void marker_env_default(pyti_marker_env *env, const char *python_full_version);

#endif
