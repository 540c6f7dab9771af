/* wheelhouse.h — the local wheelhouse of build backends: the wheels
 * Debian ships (/usr/share/python-wheels: pip, setuptools, wheel) plus the
 * build backends Debian installs (flit_core, hatchling, poetry-core and
 * their dependencies) packed into wheels (see pkg/wheelpack.h). The build
 * task resolves build requirements over the job's indexes pooled with it,
 * and over it alone when the indexes cannot be reached (staging.h), so a
 * machine without an index still builds with Debian's backends. */
#ifndef PYTI_WHEELHOUSE_H
#define PYTI_WHEELHOUSE_H

#include <jansson.h>

#include "common/err.h"
#include "common/strv.h"

#define WHEELHOUSE_DEBIAN_WHEELS "/usr/share/python-wheels"
#define WHEELHOUSE_DEBIAN_SITE "/usr/lib/python3/dist-packages"

/* $XDG_DATA_HOME/pyti/wheelhouse, new string. */
char *wheelhouse_default_dir(void);

/* The distributions packed by default (static, NULL-terminated). */
const char *const *wheelhouse_default_names(void);

/* Fills dir (created if needed) with the Debian wheels found in
 * wheels_dir and the distributions `names` (NULL: the defaults) packed
 * from site_dir. Names not installed are skipped and listed in the
 * returned summary {copied: [...], packed: [...], skipped: [{name,
 * reason}]} (new reference). NULL with err only for I/O failures on dir. */
json_t *wheelhouse_build(const char *dir, const char *wheels_dir, const char *site_dir,
                         const pyti_strv *names, pyti_error *err);

/* Builds the default wheelhouse in dir unless it already holds wheels. */
pyti_status wheelhouse_ensure(const char *dir, pyti_error *err);

#endif
