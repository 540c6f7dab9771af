/* wheelpack.h — packing an installed distribution back into a wheel.
 *
 * Debian ships Python build backends (flit_core, hatchling, poetry-core,
 * setuptools ...) as installed trees under /usr/lib/python3/dist-packages,
 * not as wheels. The local wheelhouse made of these trees is the build
 * task's offline fallback for build requirements (see exec/wheelhouse.h).
 * Only pure-Python distributions are
 * packed; nothing is executed.
 *
 * A .dist-info directory supplies its file list (RECORD) and METADATA; a
 * Debian .egg-info supplies PKG-INFO and top_level.txt (its modules are
 * packed whole, without __pycache__). Requires-Dist entries naming a
 * distribution that is not installed in the same directory are dropped —
 * Debian patched those dependencies out of its own packages — and listed
 * in <dist-info>/pyti-dropped-requires.txt. */
#ifndef PYTI_WHEELPACK_H
#define PYTI_WHEELPACK_H

#include "common/err.h"
#include "common/strv.h"

/* Packs the distribution called name (any spelling) installed in site_dir
 * into out_dir/<name>-<version>-py3-none-any.whl with a fresh RECORD.
 * *wheel_path (may be NULL) gets the new file's path. PYTI_ERR_NOTFOUND if
 * no such distribution is installed there, PYTI_ERR_INPUT if it is not
 * pure Python or its metadata is unusable; on failure nothing is left in
 * out_dir. */
pyti_status wheelpack_installed(const char *site_dir, const char *name, const char *out_dir,
                                char **wheel_path, pyti_error *err);

/* Appends the normalised names of every distribution installed in
 * site_dir (.dist-info and .egg-info directories), sorted. */
void wheelpack_list_installed(const char *site_dir, pyti_strv *names);

#endif
