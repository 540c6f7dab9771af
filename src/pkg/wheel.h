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
 * findings. Returns a new JSON object {wheel_version, generator,
 * root_is_purelib, tags[]} or NULL with err if WHEEL is missing/unreadable. */
json_t *wheel_check_wheel_file(const char *root, const char *dist_info,
                               const char *filename, pyti_findings *out, pyti_error *err);

/* Verifies RECORD: every listed file exists with the listed size and
 * digest; every file in the tree is listed (RECORD itself and signature
 * files excepted); no entry escapes the root; hashes use strong
 * algorithms. Problems are findings (wheel.record-hash-mismatch, ...).
 * Returns a new JSON object {entries, verified, mismatched, missing,
 * unlisted} or NULL with err if RECORD is missing or unreadable. */
json_t *wheel_verify_record(const char *root, const char *dist_info,
                            pyti_findings *out, pyti_error *err);

#endif
