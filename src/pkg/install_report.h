/* install_report.h — what an install put where, read back from the RECORD
 * files the installer wrote: per distribution its name, version, the
 * files of its RECORD, and its top-level importable names (packages and
 * modules at the root of the lib directory), compared with top_level.txt.
 * Used by `pyti install --json` (which the install task runs inside the
 * sandbox), so the job knows what to import without running Python. */
#ifndef PYTI_INSTALL_REPORT_H
#define PYTI_INSTALL_REPORT_H

#include <jansson.h>

#include "pkg/install.h"

/* At most this many RECORD paths are listed per distribution (the count
 * is always exact). */
#define INSTALL_REPORT_MAX_PATHS 5000

/* The report of one installed distribution: {name, version, dist_info,
 * files (RECORD rows), launchers, record (paths, capped), top_level
 * (sorted), top_level_txt_not_installed (names top_level.txt lists that
 * are not installed)}. A RECORD that cannot be read leaves record and
 * top_level empty and says so in "record_error". New reference. */
json_t *install_report_dist(const pyti_install_scheme *scheme, const pyti_installed_dist *d);

#endif
