/* depbuild.h — dependencies that exist only as sdists, built inside the
 * sandbox: their metadata for the resolver (PEP 517
 * prepare_metadata_for_build_wheel, else build_wheel) and their wheels
 * for staging. Package code never runs on the host.
 *
 * Each sdist (by SHA-256) is built in its own shadow job under
 * <job>/depbuild/<sha256[:16]>/ — fresh input (the sdist extracted by the
 * host's safe extractor, its staged build requirements), work, out dir
 * and decoy home — so nothing the package under test left in the job's
 * work dir or home can reach a dependency's build (and through the cache,
 * other jobs). The build runs build.py's rounds as the `build` task does
 * (docs/tasks.md, "Build rounds"): prepare, stage build-system.requires
 * (the indexes pooled with the wheelhouse), get_requires_for_build_wheel,
 * stage what it asks for, then the hook. Build requirements that are
 * sdists themselves are built the same way, one level deeper: at most
 * DEPBUILD_MAX_DEPTH levels, and a project that needs itself to build is
 * a cycle; both are errors naming the chain.
 *
 * Built wheels are cached by the sdist's SHA-256 and the interpreter's
 * most preferred tag: <cache>/built/<tag>/<sha256>/<wheel> ([index]
 * cache_dir, else $XDG_CACHE_HOME/pyti), so a later job reuses them.
 *
 * The sandboxed runs are traced as the calling task's: their behaviour
 * findings join the calling task's findings. */
#ifndef PYTI_DEPBUILD_H
#define PYTI_DEPBUILD_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"
#include "common/strv.h"
#include "exec/task.h"
#include "index/simpleapi.h"
#include "index/resolver.h"

#define DEPBUILD_MAX_DEPTH 3

typedef struct pyti_depbuild pyti_depbuild;

/* A build session for the task ctx (borrowed; its job's indexes, limits
 * and interpreter are used) targeting the interpreter described by facts
 * (the venv item; borrowed, must outlive the session). chain: the
 * normalised names of the sdists whose builds this session serves (NULL
 * at the top), for depth and cycle checks. Never fails. */
pyti_depbuild *depbuild_new(pyti_task_ctx *ctx, const json_t *facts, const pyti_strv *chain);
/* Frees the session and its shadow jobs' state (their directories stay
 * in the job directory, removed with it). NULL is fine. */
void depbuild_free(pyti_depbuild *b);

/* The metadata builder hook for index_set_builder (user is the session):
 * the sdist at path (downloaded, verified) of project's file f is
 * extracted and its metadata prepared in the sandbox (from the cached
 * wheel when there is one). On failure (build failed, cycle, too deep,
 * unusable sdist) returns PYTI_ERR_INPUT with a message naming the
 * project and file; the build's log is in the session's records. */
pyti_status depbuild_metadata(void *user, const char *project, const pyti_dist_file *f,
                              const char *path, pyti_dist_metadata *out, pyti_error *err);

/* Builds the wheel of the sdist at path (its SHA-256 is sha256), or takes
 * it from the cache. *wheel gets a new string: the host path of the built
 * wheel (in the cache, or in the shadow job when the cache cannot be
 * written); *cached whether it came from the cache. Errors as
 * depbuild_metadata. */
pyti_status depbuild_wheel(pyti_depbuild *b, const char *project, const pyti_dist_file *f,
                           const char *path, const char *sha256, char **wheel, bool *cached,
                           pyti_error *err);

/* The name of a project whose build failed in this session, or NULL
 * (b may be NULL). Owned by the session. */
const char *depbuild_failed(const pyti_depbuild *b);

/* The records of the session's builds, one per sdist (a new reference):
 * [{name, version, sdist, sha256, outcome ("built", "cached",
 * "metadata", "failed"), wheel, hooks, rounds, staging, reason, log}];
 * log (the tail of the build's output) only on failure. */
json_t *depbuild_records(const pyti_depbuild *b);

/* ---- a session outside a job (`pyti resolve`) ---- */

typedef struct pyti_depbuild_host pyti_depbuild_host;

/* A builder for resolving on the command line: interpreter python_spec
 * (NULL: python3; see job_set_python), the indexes urls (copied), the
 * download cache only when offline; cfg borrowed. Nothing is set up until
 * the first build is needed (resolutions without one pay nothing): then
 * a throwaway job directory ($TMPDIR/pyti-resolve-XXXXXX), the sandbox's
 * isolation check, the interpreter's facts (the host's cache, else a venv
 * made in the sandbox). Never fails. */
pyti_depbuild_host *depbuild_host_new(const pyti_config *cfg, const char *python_spec,
                                      const pyti_strv *urls, bool offline);
/* The metadata builder hook for index_set_builder (user is the host):
 * depbuild_metadata in the host's session, set up on first use. When the
 * set-up fails (no full isolation, no such interpreter) it returns
 * PYTI_ERR_NOTFOUND saying why: the sdist then needs a build, as
 * without a builder. */
pyti_status depbuild_host_metadata(void *user, const char *project, const pyti_dist_file *f,
                                   const char *path, pyti_dist_metadata *out, pyti_error *err);
/* Whether a build of the host's failed (h may be NULL: false). */
bool depbuild_host_failed(const pyti_depbuild_host *h);
/* The records of the host's builds (depbuild_records; [] before any). */
json_t *depbuild_host_records(const pyti_depbuild_host *h);
/* What the tracer found in the host's builds (findings_to_json; [] when
 * none). New reference. */
json_t *depbuild_host_findings(const pyti_depbuild_host *h);
/* The log of the host's sandboxed runs (build output), or "". */
const char *depbuild_host_log(const pyti_depbuild_host *h);
/* Removes the directory and frees everything. NULL is fine. */
void depbuild_host_free(pyti_depbuild_host *h);

#endif
