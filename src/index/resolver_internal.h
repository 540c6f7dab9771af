/* resolver_internal.h — what resolver.c (pip's algorithm) and pubgrub.c
 * (the fallback for cases pip's algorithm cannot finish) share: the
 * model of projects, candidate files, identifiers, candidates and
 * requirements, and the helpers that fill it from the provider. Private
 * to src/index. */
#ifndef PYTI_RESOLVER_INTERNAL_H
#define PYTI_RESOLVER_INTERNAL_H

#include "common/strv.h"
#include "common/xalloc.h"
#include "index/hmap_internal.h"
#include "index/resolver.h"
#include "pkg/requirement.h"
#include "pkg/specifier.h"
#include "pkg/version.h"

#define PYTHON_IDENT "<Python from Requires-Python>"

typedef struct rv_ctx rv_ctx;
typedef struct rv_ident rv_ident;
typedef struct rv_cand rv_cand;
typedef struct rv_req rv_req;
typedef struct rv_link rv_link;
typedef struct rv_project rv_project;

enum { META_UNKNOWN, META_OK, META_BAD };
enum { REQ_SPEC, REQ_EXPLICIT, REQ_PYTHON, REQ_UNSAT };

struct rv_project {
    char *name;
    bool loaded;
    const pyti_dist_file *files;
    size_t nfiles;
    rv_link **links; /* candidate files, best first (pip's sort, reversed) */
    size_t nlinks;
    rv_link *inst;     /* the installed distribution of this project, or NULL */
    pyti_dist_file inst_file; /* its (empty) file */
    pyti_strv skipped; /* "2.0 (requires Python >=3.12)" for messages */
};

struct rv_link {
    rv_project *proj;
    size_t file;
    pyti_version *version;
    bool yanked, pre;
    long pri;
    bool has_build;
    unsigned long long build_num;
    char *build_rest;
    size_t order;
    int meta_state;
    pyti_dist_metadata meta;
    pyti_requirement **reqs;
    size_t nreqs;
    pyti_specset *requires_python;
    pyti_strv extras; /* normalised Provides-Extra */
    rv_cand *base;
    rv_cand **xcands;
    size_t nx;
    bool inst;        /* an installed distribution, not a file */
};

struct rv_ident {
    size_t idx;
    char *str;
    rv_project *proj;
    pyti_strv extras;
    rv_ident *base;
    bool python;
    double depth;    /* pip's _known_depths */
    double requested; /* order among the user's requirements, or inf */
};

struct rv_cand {
    rv_ident *id;
    rv_link *link;   /* NULL for the Python candidate */
    rv_cand *base;   /* extras candidates: the base candidate */
    bool deps_done;
    rv_req **deps;
    size_t ndeps;
};

struct rv_req {
    int kind;
    rv_ident *id;
    pyti_specset *spec;
    rv_cand *cand;
    char *text;
    bool pinned;    /* an operator starting with "==" (pip's preference) */
    bool exact;     /* "===", or "==" without ".*" (PEP 592 yanked rule) */
    bool pre_ok, has_specs;
};

typedef struct rv_info {
    rv_req *req;
    rv_cand *parent;
} rv_info;

typedef struct rv_crit {
    unsigned refs;
    rv_ident *id;
    rv_info *info;
    size_t ninfo;
    rv_cand **incompat;
    size_t nincompat;
    bool explicit_mode;
    rv_cand **expl;
    size_t nexpl;
    rv_link **found;
    size_t nfound;
    /* found holds only the installed distribution; the index's files are
     * listed (after it) the first time a candidate past it is wanted, so a
     * project the installed version satisfies never costs a request */
    bool deferred;
} rv_crit;

typedef struct rv_table {
    rv_crit **items;
    size_t n, cap;
    long *pos;
    size_t npos;
} rv_table;

typedef struct rv_state {
    rv_table crit;
    rv_ident **map_id;
    rv_cand **map_cand;
    size_t nmap, capmap;
    rv_info *causes;
    size_t ncauses;
} rv_state;

struct rv_ctx {
    const pyti_provider *p;
    const pyti_target *t;
    pyti_resolve_options o;
    pyti_version *pyver;
    char pyfull[32];
    char pyshort[16];
    pyti_hmap projects;
    rv_project **projv;
    size_t nproj, capproj;
    pyti_hmap idents;
    rv_ident **idv;
    size_t nid, capid;
    rv_ident *python;
    rv_cand *pycand;
    rv_req **reqv; /* every requirement made, for freeing */
    size_t nreq, capreq;
    rv_link **linkv;
    size_t nlink, caplink;
    rv_cand **candv;
    size_t ncand, capcand;
    rv_state **states;
    size_t nstates, capstates;
    /* fatal: the provider failed (error) or an sdist needs a build */
    bool fatal;
    pyti_status fatal_code;
    pyti_error fatal_err;
    rv_link *needs_build;
    pyti_resolution *out;
};

#define PUSH(arr, n, cap, v)                                         \
    do {                                                             \
        if ((n) == (cap)) {                                          \
            (cap) = (cap) ? (cap) * 2 : 8;                           \
            (arr) = xreallocarray((arr), (cap), sizeof *(arr));      \
        }                                                            \
        (arr)[(n)++] = (v);                                          \
    } while (0)

/* The file a link stands for (an empty one for an installed
 * distribution). */
static inline const pyti_dist_file *rv_link_file(const rv_link *l)
{
    return l->inst ? &l->proj->inst_file : &l->proj->files[l->file];
}

/* Marks the resolution as failed with e (the first failure wins). */
void rv_set_fatal(rv_ctx *x, const pyti_error *e);
/* The project of that normalised name (created empty). */
rv_project *rv_project_get(rv_ctx *x, const char *name);
/* Lists and orders a project's candidate files once; false (fatal set)
 * when the provider fails. */
bool rv_project_load(rv_ctx *x, rv_project *p);
/* Reads a file's metadata once: META_OK or META_BAD; META_UNKNOWN with
 * x->fatal set when the provider failed or a build is needed. */
int rv_link_meta(rv_ctx *x, rv_link *l);
/* The identifier for a project name and extras (interned). */
rv_ident *rv_ident_get(rv_ctx *x, const char *name, const pyti_strv *extras);
/* A specifier requirement (or an unsatisfiable one for a URL). */
rv_req *rv_req_from(rv_ctx *x, const pyti_requirement *pr);
/* The interned candidate of identifier id for link l. */
rv_cand *rv_cand_for(rv_ctx *x, rv_link *l, rv_ident *id);
/* Fills c->deps as pip's iter_dependencies would. */
void rv_cand_deps(rv_ctx *x, rv_cand *c);
const pyti_version *rv_cand_version(rv_ctx *x, const rv_cand *c);
/* Whether candidate c satisfies requirement r. */
bool rv_satisfied(rv_ctx *x, const rv_req *r, const rv_cand *c);

/* The fallback: PubGrub over the same model, for root requirements
 * reqs. Fills x->out (outcome RESOLVED or IMPOSSIBLE with an
 * explanation, or TOO_DEEP past max_steps); returns false when x->fatal
 * was set. */
bool rv_pubgrub(rv_ctx *x, rv_req *const *reqs, size_t n, unsigned long max_steps);

#endif
