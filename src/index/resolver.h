/* resolver.h — dependency resolution without running package code.
 *
 * Given PEP 508 requirement strings and a target interpreter (tags.h), the
 * resolver finds one version of every project needed so that every
 * requirement, extra, marker and Requires-Python holds. Projects and their
 * metadata come from a provider (a package index through index.h, or an
 * in-memory table in tests), so the algorithm can be tested without HTTP
 * and reused by callers that bring their own requirement lists (test and
 * build requirements found in the sandbox).
 *
 * The algorithm is backtracking in the way of resolvelib 0.8.1 with pip
 * 23.0.1's provider (docs/index.md explains it): candidates newest first,
 * the most specific compatible wheel of each version (PEP 425 priority),
 * yanked files only when pinned with == or ===, pre-releases only when a
 * specifier names one, no final release exists, or allow_prereleases; the
 * next project to decide is chosen by pip's preference (Requires-Python
 * first, pinned requirements, causes of the last backtrack, depth, request
 * order, constrained before free, name). Following pip step by step is
 * what makes pyti's answers agree with pip's, including which solution is
 * found when several exist. Conflicts are explained in plain words.
 *
 * pip's backtracking forgets what it learnt when it steps back, so some
 * cases take it exponentially long (pip gives up after 2,000,000 rounds,
 * hours later). When pyti's run of the same algorithm passes max_rounds,
 * it solves the problem again with PubGrub (conflict-driven, learning
 * incompatibilities), which finishes on such cases; the result is then
 * marked as coming from the fallback (pip has no answer to agree with). */
#ifndef PYTI_RESOLVER_H
#define PYTI_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/err.h"
#include "common/strv.h"
#include "index/tags.h"

/* One file a project offers (a row of its simple API page). */
typedef struct pyti_dist_file {
    char *filename;
    char *url;
    char *sha256, *sha384, *sha512; /* lowercase hex or NULL */
    char *requires_python;          /* from the index, or NULL */
    bool yanked;
    char *yanked_reason;
    bool has_metadata;              /* PEP 658 file at url + ".metadata" */
    char *metadata_sha256;
    long long size;                 /* -1 unknown */
    char *upload_time;
    char *index_url;                /* the index it was listed by */
} pyti_dist_file;

void dist_file_copy(pyti_dist_file *dst, const pyti_dist_file *src);
void dist_file_free(pyti_dist_file *f);

/* The parts of a distribution's core metadata the resolver uses. */
typedef struct pyti_dist_metadata {
    char *name;
    char *version;
    char *requires_python;     /* NULL when absent */
    pyti_strv requires_dist;
    pyti_strv provides_extra;
    char *source;              /* "pep658", "wheel", "sdist", "build", "memory" */
} pyti_dist_metadata;

void dist_metadata_free(pyti_dist_metadata *m);
/* Deep copy of src into dst. */
void dist_metadata_copy(pyti_dist_metadata *dst, const pyti_dist_metadata *src);

/* Where projects and metadata come from. Strings given to the callbacks
 * are normalised project names. */
typedef struct pyti_provider {
    void *ctx;
    /* Every file the indexes list for project. *files stays owned by the
     * provider and valid until it is freed. An unknown project is PYTI_OK
     * with no files. Any error aborts the resolution. */
    pyti_status (*list_files)(void *ctx, const char *project, const pyti_dist_file **files,
                              size_t *nfiles, pyti_error *err);
    /* The metadata of one file. *needs_build is set (and PYTI_OK returned)
     * when the file is an sdist without trustworthy static metadata, i.e.
     * only a PEP 517 build could tell. Errors abort the resolution. */
    pyti_status (*get_metadata)(void *ctx, const char *project, const pyti_dist_file *file,
                                pyti_dist_metadata *out, bool *needs_build, pyti_error *err);
    /* Optional: the resolver will soon want these projects' files (the
     * provider may fetch them in parallel). */
    void (*prefetch)(void *ctx, const char *const *projects, size_t n);
} pyti_provider;

typedef struct pyti_resolve_options {
    bool allow_prereleases;    /* pip's --pre */
    /* Distributions already installed in the target environment (e.g. the
     * system site-packages a venv sees), as pip's AlreadyInstalledCandidate:
     * an installed version that satisfies every requirement on its project
     * is tried first (pip's "only-if-needed" upgrade strategy, which is what
     * pip does for every project it was not asked for by name), its
     * dependencies come from this metadata (Requires-Python is not checked,
     * as pip does not), and the provider is asked about the project only
     * when the installed version does not do. Such pins have `installed`
     * set and no file. Borrowed; NULL or empty: none (pip's
     * --ignore-installed). */
    const pyti_dist_metadata *installed;
    size_t ninstalled;
    /* Rounds of pip's algorithm before switching to the fallback (0:
     * 200,000 — about a second here, and more than pip gets through in
     * minutes); with no_fallback the resolution then stops as "too deep",
     * as pip does after its 2,000,000 rounds. */
    unsigned long max_rounds;
    bool no_fallback;
    unsigned long max_steps;   /* of the fallback (0: 5,000,000) */
} pyti_resolve_options;

typedef enum pyti_resolve_outcome {
    PYTI_RESOLVED = 0,
    PYTI_RESOLVE_IMPOSSIBLE,   /* no set of versions satisfies everything */
    PYTI_RESOLVE_NEEDS_BUILD,  /* an sdist needs a PEP 517 metadata build */
    PYTI_RESOLVE_TOO_DEEP,     /* max_rounds reached */
    PYTI_RESOLVE_ERROR,        /* the provider failed (network, hash, ...) */
} pyti_resolve_outcome;

typedef struct pyti_pin {
    char *name;            /* PEP 503 normalised */
    char *display_name;    /* Name as the metadata spells it */
    char *version;         /* normalised PEP 440 */
    pyti_strv extras;      /* extras requested of it, normalised, sorted */
    pyti_strv required_by; /* "<request>" or "name version", sorted */
    pyti_dist_file file;   /* zeroed for an installed pin */
    char *metadata_source;
    bool installed;        /* satisfied by an installed distribution */
} pyti_pin;

typedef struct pyti_resolution {
    pyti_resolve_outcome outcome;
    pyti_pin *pins;          /* RESOLVED: sorted by name */
    size_t npins;
    char *explanation;       /* otherwise: what went wrong, in plain words */
    pyti_strv conflicts;     /* IMPOSSIBLE: "a 1.0 requires b<2", ... */
    char *build_project;     /* NEEDS_BUILD: which project and file */
    char *build_version;
    pyti_dist_file build_file;
    unsigned long rounds, backtracks, metadata_reads, projects;
    bool fallback;           /* pip's algorithm ran out of rounds; the result
                                comes from the PubGrub fallback */
} pyti_resolution;

void resolution_free(pyti_resolution *r);

/* The resolution as JSON (docs/index.md shows the shape): outcome,
 * pins with their files, URLs and hashes, explanation and conflicts,
 * the file needing a build, statistics. New reference. */
json_t *resolution_to_json(const pyti_resolution *r);

/* The outcome's short stable name ("resolved", "impossible",
 * "needs-build", "too-deep", "error"). */
const char *resolve_outcome_name(pyti_resolve_outcome o);

/* Resolves reqs (PEP 508 strings; markers are evaluated against the
 * target, requirements whose markers are false are dropped as pip does)
 * for target using provider. out is filled in every case. Returns PYTI_OK
 * when the resolver reached an answer (any outcome but ERROR);
 * PYTI_ERR_USAGE for a requirement that does not parse or names a URL
 * (direct references are not supported); the provider's error (outcome
 * ERROR, err set) when fetching failed. */
pyti_status resolve_requirements(const pyti_provider *provider, const pyti_target *target,
                                 const char *const *reqs, size_t nreqs,
                                 const pyti_resolve_options *opts, pyti_resolution *out,
                                 pyti_error *err);

/* pip's version of an sdist file name: the text after the first '-' at
 * which the prefix normalises to project (so "foo-bar-1.0.tar.gz" is
 * 1.0 for foo-bar), extension removed; NULL if there is none. New
 * string. Exposed for tests. */
char *resolve_sdist_version(const char *filename, const char *project);

#endif
