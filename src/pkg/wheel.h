/* wheel.h — checks on an extracted wheel (PEP 427/491): locating the
 * .dist-info directory, the WHEEL file, and verifying every RECORD entry's
 * hash and size against the files. */
#ifndef PYTI_WHEEL_H
#define PYTI_WHEEL_H

#include <jansson.h>

#include "common/err.h"
#include "common/finding.h"

/* Finds the single "<name>-<version>.dist-info" directory at the top of an
 * extracted wheel. New string (the directory's base name), or NULL with err
 * (PYTI_ERR_INPUT) if there is none or more than one. */
char *wheel_find_dist_info(const char *root, pyti_error *err);

/* Checks the WHEEL file (Wheel-Version 1.x, Root-Is-Purelib, Tag lines
 * consistent with the file name's tags; filename may be NULL) and appends
 * findings. With a wheel file name it also checks that the .dist-info
 * directory belongs to that project and version, and the build tag.
 * Returns a new JSON object {wheel_version, generator, root_is_purelib
 * (true/false/null), tags[] (as written), build} or NULL with err if WHEEL
 * is missing (PYTI_ERR_NOTFOUND), not a regular file, over 1 MiB or not
 * parsable (PYTI_ERR_INPUT / PYTI_ERR_LIMIT); in that case a finding
 * (wheel.wheel-file-missing / wheel.wheel-file-unreadable) is appended
 * too, so a caller that only collects findings still sees it. */
json_t *wheel_check_wheel_file(const char *root, const char *dist_info,
                               const char *filename, pyti_findings *out, pyti_error *err);

/* Verifies RECORD: every listed file exists with the listed size and
 * digest; every file in the tree is listed (RECORD itself and signature
 * files excepted); no entry escapes the root; hashes use strong
 * algorithms. RECORD is read as Python's csv module reads it. Entries are
 * only opened when a walk of the tree (which never follows symlinks) saw
 * a regular file at that path, so RECORD cannot make us read outside
 * root. Problems are findings (wheel.record-hash-mismatch, ...; see
 * docs/findings.md); at most 200,000 rows are checked.
 * Returns a new JSON object {entries, verified, mismatched, missing,
 * unlisted, unverified (no usable hash), malformed (bad rows and escaping
 * paths)} or NULL with err if RECORD is missing (PYTI_ERR_NOTFOUND), not
 * a regular file or over 64 MiB, or root cannot be opened; for a missing
 * or unreadable RECORD a finding is appended too. */
json_t *wheel_verify_record(const char *root, const char *dist_info,
                            pyti_findings *out, pyti_error *err);

#endif
