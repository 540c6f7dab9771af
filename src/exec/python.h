/* python.h — the interpreters a job can target: finding the one named by
 * --python (a path or a version) and listing those on the host. Only
 * interpreters under /usr qualify: the sandbox sees the host's /usr and
 * nothing else of it. Nothing is executed here. */
#ifndef PYTI_PYTHON_H
#define PYTI_PYTHON_H

#include "common/err.h"
#include "common/strv.h"

/* The default interpreter when --python is not given. */
#define PYTHON_DEFAULT "/usr/bin/python3"

/* Resolves spec — NULL (the default), a version such as "3.11", or a
 * path — to the real path of an executable interpreter under /usr. New
 * string, or NULL with err (PYTI_ERR_USAGE naming what was tried, and the
 * interpreters that do exist). */
char *python_find(const char *spec, pyti_error *err);

/* Appends the real paths of the interpreters found on the host
 * (/usr/bin/python3.N and /usr/local/bin/python3.N), sorted, unique. */
void python_list(pyti_strv *out);

#endif
