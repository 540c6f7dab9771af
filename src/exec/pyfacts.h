/* pyfacts.h — the target interpreter's facts as the venv task's helper
 * reports them from inside the sandbox (version, PEP 508 environment,
 * supported wheel tags, system site directories and the distributions
 * installed there), their cache on the host, and their conversion into
 * what the resolver needs (a pyti_target, installed distributions).
 *
 * Facts come out of the sandbox, so they are validated like any untrusted
 * input: types checked, every string at most 4 KiB, at most 10,000 tags
 * and 10,000 installed distributions (1,000 requirements each); anything
 * else is PYTI_ERR_INPUT naming the field.
 *
 * The cache ($XDG_CACHE_HOME/pyti/interpreters/<sha256 of the path>.json)
 * keeps the facts of one interpreter; an entry holds while the
 * interpreter file (device, inode, size, mtime) and every site directory
 * (inode, mtime: installing or removing a distribution changes it) are
 * the ones it was made with. Asking the interpreter costs ~100 ms per job
 * (reading every installed METADATA); a hit costs a few stat calls. */
#ifndef PYTI_PYFACTS_H
#define PYTI_PYFACTS_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"
#include "index/resolver.h"
#include "index/tags.h"

/* Fills t (see target_init_reported) from facts {version, markers,
 * tags}. On error t is left freed. */
pyti_status pyfacts_target(const json_t *facts, pyti_target *t, pyti_error *err);

/* The distributions of facts["installed"] ([{name, version,
 * requires_dist, provides_extra}]) as a new array *out of *n entries (an
 * absent list is none). Free with pyfacts_installed_free. */
pyti_status pyfacts_installed(const json_t *facts, pyti_dist_metadata **out, size_t *n,
                              pyti_error *err);
void pyfacts_installed_free(pyti_dist_metadata *v, size_t n);

/* The cached facts of interpreter python (a host path), or NULL when
 * there are none or they no longer hold. New reference. */
json_t *pyfacts_cache_load(const char *python);

/* Stores facts (with their site_dirs) for python. Failures are logged
 * and otherwise ignored: the cache is an optimisation. */
void pyfacts_cache_store(const char *python, const json_t *facts);

#endif
