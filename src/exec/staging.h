/* staging.h — staging a job's requirements on the host: PEP 508
 * requirements (found by the tasks: a wheel's Requires-Dist, an sdist's
 * build requirements, a package's test requirements) resolved for the
 * target interpreter as the venv task reported it, against the job's
 * indexes, and the chosen wheels downloaded (verified against the index's
 * hashes) into the job's input, read-only inside the sandbox:
 *
 *   <job>/input/deps/<file>   inside: /job/input/deps/<file>
 *
 * Runs no package code: the resolver reads metadata files and wheels'
 * METADATA only. The sandbox never gets network; this is the only place
 * a job talks to an index.
 *
 * What is already installed in the target environment (the system
 * site-packages the venv sees, the distribution under test, earlier
 * rounds) satisfies requirements as for pip (resolver.h: `installed`).
 * For build requirements the local wheelhouse (Debian's build backends)
 * is pooled with the indexes, and used alone when the indexes cannot be
 * reached.
 *
 * After an index could not be reached (a network failure after the
 * retries), the rest of the job's staging reads the download cache only
 * (<job>/index-unreachable holds why), so a job pays the retries once. */
#ifndef PYTI_STAGING_H
#define PYTI_STAGING_H

#include <jansson.h>
#include <stdbool.h>

#include "common/strv.h"
#include "exec/job.h"
#include "exec/task.h"
#include "index/resolver.h"

#define STAGING_DIR "deps" /* under the job's input */

typedef struct pyti_stage_spec {
    const char *what;           /* "dependencies", "build requirements", ... (messages) */
    const pyti_strv *reqs;      /* PEP 508 requirement strings */
    const json_t *venv;         /* the venv item: the target's facts */
    const pyti_dist_metadata *installed; /* already there (see resolver.h) */
    size_t ninstalled;
    bool wheelhouse;            /* pool the job's wheelhouse with the indexes */
    /* Building sdists (depbuild.h): the task whose sandbox runs build
     * them (NULL: an sdist that is needed is an error, as before), and
     * the sdists whose build this staging serves (NULL at the top). */
    pyti_task_ctx *build_ctx;
    const pyti_strv *build_chain;
} pyti_stage_spec;

/* Resolves spec->reqs and stages what is not installed. Returns the
 * staging record (a new JSON object, always):
 *
 *   requirements  the requirements asked for
 *   indexes       the job's indexes; source: "indexes", "indexes+wheelhouse"
 *                 or "wheelhouse" (fallback says why the indexes were not used)
 *   outcome       the resolution's ("resolved", "impossible", "needs-build",
 *                 "too-deep", "error")
 *   staged        [{name, version, filename, sha256, index, path, required_by,
 *                  extras, built_from}] — path is the file's path inside the
 *                 sandbox; built_from {sdist, sha256, cached} for a wheel
 *                 built from an sdist (build_ctx set)
 *   builds        the records of the sdists built (depbuild_records), when
 *                 any were: metadata for the resolver, wheels for staging
 *   build_failed  the dependency whose build failed, when that is why
 *   installed     [{name, version, required_by}] satisfied by what is
 *                 installed (nothing staged for them)
 *   explanation, conflicts   when not resolved
 *   reason        when *ok is false: why, in one sentence
 *   invalid_requirement, direct_reference   the requirement that does not
 *                 parse (the project's mistake) or names a URL (pyti's
 *                 limitation), when that is why
 *
 * *ok is true when everything needed is staged. Never fails otherwise:
 * an unreachable index, an unsatisfiable requirement, a hash mismatch or
 * a dependency only available as an sdist (without build_ctx) or whose
 * build fails all end in *ok false with the reason (pyti's limitation or the infrastructure's, never the package's
 * failure). */
json_t *staging_run(const pyti_job *job, const pyti_stage_spec *spec, bool *ok);

/* The inside paths of the staged files of a record, appended to out. */
void staging_paths(const json_t *record, pyti_strv *out);

/* The record's staged and installed distributions as installed
 * metadata for a later round (needs their requirements: the resolver's
 * pins carry none, so this is names and versions only; requirements of
 * staged wheels are read again from the files by the caller if needed).
 * Appends to *v (*n entries). */
void staging_as_installed(const json_t *record, pyti_dist_metadata **v, size_t *n);

#endif
