/* pubgrub.c — the resolver's fallback for cases that pip's backtracking
 * cannot finish: PubGrub (conflict-driven clause learning over version
 * sets, as in Dart's pub and pubgrub-rs), on the model resolver.c builds.
 *
 * Every project's candidate versions are known once its page is read, so
 * a version set is a bitset over them, with one more bit for "not
 * selected"; a term is such a set (positive terms exclude that bit,
 * negative ones include it) and every relation PubGrub needs is a bitwise
 * operation. Incompatibilities come from dependencies (p == v requires q
 * in S: {p: {v}, q: not S}), unusable versions (metadata that does not
 * fit, a Requires-Python that excludes the target) and learning.
 *
 * Differences from pip's rules are confined to this fallback and
 * documented in docs/index.md: pre-releases and yanked files are judged
 * per requirement (pip merges the requirements of a project first), and
 * the next project to decide is the one with the fewest versions left,
 * newest version first. */
#include "index/resolver_internal.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "pkg/name.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t word;

typedef struct pg_pkg {
    rv_ident *id;        /* NULL for the root */
    size_t nver;         /* versions, newest first; bit nver = "not selected" */
    size_t nwords;
    rv_link **links;     /* the project's links, an installed version first */
    size_t *vstart, *vend; /* each version's files in links */
    bool *vyanked;       /* every file of the version is yanked */
    size_t *dep_first, *dep_last; /* the version's dependency incompatibilities,
                                     once added (dep_last 0: not yet) */
    bool has_final;
    word *term;          /* intersection of the assignments so far */
    long decided;        /* version index, or -1 */
    rv_link *chosen;
    size_t *incs;        /* incompatibilities that mention the package */
    size_t nincs, capincs;
} pg_pkg;

enum { INC_ROOT, INC_DEP, INC_UNUSABLE, INC_NOVERSION, INC_DERIVED };

typedef struct pg_termv {
    size_t pkg;
    word *bits;
} pg_termv;

typedef struct pg_inc {
    pg_termv *t;
    size_t n;
    int kind;
    rv_req *req;         /* INC_DEP */
    const char *why;     /* INC_UNUSABLE */
    size_t cause1, cause2; /* INC_DERIVED */
} pg_inc;

typedef struct pg_asg {
    size_t pkg;
    word *bits;
    unsigned level;
    long cause;          /* incompatibility index, -1 for a decision */
} pg_asg;

typedef struct pg {
    rv_ctx *x;
    pg_pkg *pkgs;
    size_t npkgs, cappkgs;
    pg_inc *incs;
    size_t nincs, capincs;
    pg_asg *asg;
    size_t nasg, capasg;
    unsigned level;
    size_t *pkg_of_ident; /* ident idx -> pkg + 1 */
    size_t npoi;
    unsigned long steps;
} pg;

/* ---- bitsets ---- */

static word *bits_new(const pg_pkg *p, bool ones)
{
    word *b = xcalloc(p->nwords, sizeof *b);
    if (ones) {
        for (size_t i = 0; i <= p->nver; i++)
            b[i / 64] |= (word)1 << (i % 64);
    }
    return b;
}

static word *bits_dup(const pg_pkg *p, const word *src)
{
    word *b = xmalloc(p->nwords * sizeof *b);
    memcpy(b, src, p->nwords * sizeof *b);
    return b;
}

static bool bit(const word *b, size_t i) { return (b[i / 64] >> (i % 64)) & 1; }
static void set_bit(word *b, size_t i) { b[i / 64] |= (word)1 << (i % 64); }
static void clear_bit(word *b, size_t i) { b[i / 64] &= ~((word)1 << (i % 64)); }

static void bits_not(const pg_pkg *p, word *b)
{
    for (size_t i = 0; i < p->nwords; i++)
        b[i] = ~b[i];
    /* clear bits past "not selected" */
    size_t last = p->nver + 1;
    if (last % 64)
        b[p->nwords - 1] &= ((word)1 << (last % 64)) - 1;
    for (size_t i = (last + 63) / 64; i < p->nwords; i++)
        b[i] = 0;
}

static void bits_and(const pg_pkg *p, word *a, const word *b)
{
    for (size_t i = 0; i < p->nwords; i++)
        a[i] &= b[i];
}

static void bits_or(const pg_pkg *p, word *a, const word *b)
{
    for (size_t i = 0; i < p->nwords; i++)
        a[i] |= b[i];
}

/* a ⊆ b */
static bool bits_subset(const pg_pkg *p, const word *a, const word *b)
{
    for (size_t i = 0; i < p->nwords; i++)
        if (a[i] & ~b[i])
            return false;
    return true;
}

static bool bits_disjoint(const pg_pkg *p, const word *a, const word *b)
{
    for (size_t i = 0; i < p->nwords; i++)
        if (a[i] & b[i])
            return false;
    return true;
}

static bool bits_full(const pg_pkg *p, const word *b)
{
    for (size_t i = 0; i <= p->nver; i++)
        if (!bit(b, i))
            return false;
    return true;
}

static size_t bits_count_versions(const pg_pkg *p, const word *b)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nver; i++)
        n += bit(b, i);
    return n;
}

/* ---- packages ---- */

static pg_pkg *pkg_at(pg *g, size_t i) { return &g->pkgs[i]; }

static size_t pkg_add_raw(pg *g, rv_ident *id, size_t nver)
{
    if (g->npkgs == g->cappkgs) {
        g->cappkgs = g->cappkgs ? g->cappkgs * 2 : 32;
        g->pkgs = xreallocarray(g->pkgs, g->cappkgs, sizeof *g->pkgs);
    }
    pg_pkg *p = &g->pkgs[g->npkgs];
    memset(p, 0, sizeof *p);
    p->id = id;
    p->nver = nver;
    p->nwords = (nver + 1 + 63) / 64;
    p->vstart = xcalloc(nver + 1, sizeof *p->vstart);
    p->vend = xcalloc(nver + 1, sizeof *p->vend);
    p->vyanked = xcalloc(nver + 1, sizeof *p->vyanked);
    p->dep_first = xcalloc(nver + 1, sizeof *p->dep_first);
    p->dep_last = xcalloc(nver + 1, sizeof *p->dep_last);
    p->term = bits_new(p, true);
    p->decided = -1;
    return g->npkgs++;
}

/* The package of an identifier, created (and its project loaded) on first
 * use; SIZE_MAX when the provider failed. */
static size_t pkg_of(pg *g, rv_ident *id)
{
    if (id->idx < g->npoi && g->pkg_of_ident[id->idx])
        return g->pkg_of_ident[id->idx] - 1;
    rv_project *proj = id->proj;
    if (!rv_project_load(g->x, proj))
        return SIZE_MAX;
    /* An installed version is tried first (decisions take the first
     * version left), then the index's, newest first (links are best
     * first), without the installed one's. */
    rv_link **links = xcalloc(proj->nlinks + 1, sizeof *links);
    size_t nlinks = 0;
    if (proj->inst)
        links[nlinks++] = proj->inst;
    for (size_t i = 0; i < proj->nlinks; i++)
        if (!proj->inst || version_compare(proj->links[i]->version, proj->inst->version))
            links[nlinks++] = proj->links[i];
    size_t nver = 0;
    for (size_t i = 0; i < nlinks; i++)
        if (i == 0 || version_compare(links[i - 1]->version, links[i]->version))
            nver++;
    size_t k = pkg_add_raw(g, id, nver);
    pg_pkg *p = pkg_at(g, k);
    p->links = links;
    long v = -1;
    for (size_t i = 0; i < nlinks; i++) {
        if (i == 0 || version_compare(links[i - 1]->version, links[i]->version)) {
            v++;
            p->vstart[v] = i;
            p->vyanked[v] = true;
        }
        p->vend[v] = i + 1;
        if (!links[i]->yanked)
            p->vyanked[v] = false;
        if (!links[i]->pre)
            p->has_final = true;
    }
    if (id->idx >= g->npoi) {
        size_t n = id->idx + 64;
        g->pkg_of_ident = xreallocarray(g->pkg_of_ident, n, sizeof *g->pkg_of_ident);
        memset(g->pkg_of_ident + g->npoi, 0, (n - g->npoi) * sizeof *g->pkg_of_ident);
        g->npoi = n;
    }
    g->pkg_of_ident[id->idx] = k + 1;
    return k;
}

/* The versions of package k a requirement allows (positive set). */
static word *req_set(pg *g, size_t k, const rv_req *r)
{
    pg_pkg *p = pkg_at(g, k);
    word *b = bits_new(p, false);
    bool pre = g->x->o.allow_prereleases || r->pre_ok || (!r->has_specs && !p->has_final);
    for (size_t v = 0; v < p->nver; v++) {
        rv_link *l = p->links[p->vstart[v]];
        if (p->vyanked[v] && !r->exact)
            continue;
        if (r->has_specs ? specset_contains(r->spec, l->version, pre ? 1 : 0) : (pre || !l->pre))
            set_bit(b, v);
    }
    return b;
}

/* ---- incompatibilities and assignments ---- */

static size_t inc_add(pg *g, pg_inc inc)
{
    /* A term that holds for everything says nothing. (A dependency's own
     * term, one version, never does, so messages can still name it.) */
    for (size_t t = 0; t < inc.n;) {
        if (bits_full(pkg_at(g, inc.t[t].pkg), inc.t[t].bits)) {
            free(inc.t[t].bits);
            inc.t[t] = inc.t[--inc.n];
        } else {
            t++;
        }
    }
    if (g->nincs == g->capincs) {
        g->capincs = g->capincs ? g->capincs * 2 : 64;
        g->incs = xreallocarray(g->incs, g->capincs, sizeof *g->incs);
    }
    size_t i = g->nincs++;
    g->incs[i] = inc;
    for (size_t t = 0; t < inc.n; t++)
        PUSH(g->pkgs[inc.t[t].pkg].incs, g->pkgs[inc.t[t].pkg].nincs,
             g->pkgs[inc.t[t].pkg].capincs, i);
    return i;
}

/* Adds term (pkg, bits) to a term list, intersecting with an existing term
 * for the same package; takes ownership of bits. */
static void terms_add(pg *g, pg_termv **t, size_t *n, size_t pkg, word *bits)
{
    for (size_t i = 0; i < *n; i++)
        if ((*t)[i].pkg == pkg) {
            bits_and(pkg_at(g, pkg), (*t)[i].bits, bits);
            free(bits);
            return;
        }
    *t = xreallocarray(*t, *n + 1, sizeof **t);
    (*t)[*n].pkg = pkg;
    (*t)[*n].bits = bits;
    (*n)++;
}

static void assign(pg *g, size_t pkg, word *bits, long cause)
{
    if (g->nasg == g->capasg) {
        g->capasg = g->capasg ? g->capasg * 2 : 64;
        g->asg = xreallocarray(g->asg, g->capasg, sizeof *g->asg);
    }
    g->asg[g->nasg++] = (pg_asg){pkg, bits, g->level, cause};
    bits_and(pkg_at(g, pkg), pkg_at(g, pkg)->term, bits);
}

static void backtrack_to(pg *g, unsigned level)
{
    bool *touched = xcalloc(g->npkgs + 1, sizeof *touched);
    while (g->nasg && g->asg[g->nasg - 1].level > level) {
        pg_asg *a = &g->asg[--g->nasg];
        touched[a->pkg] = true;
        if (a->cause < 0) {
            g->pkgs[a->pkg].decided = -1;
            g->pkgs[a->pkg].chosen = NULL;
        }
        free(a->bits);
    }
    for (size_t k = 0; k < g->npkgs; k++) {
        if (!touched[k])
            continue;
        pg_pkg *p = pkg_at(g, k);
        free(p->term);
        p->term = bits_new(p, true);
        for (size_t i = 0; i < g->nasg; i++)
            if (g->asg[i].pkg == k)
                bits_and(p, p->term, g->asg[i].bits);
    }
    g->level = level;
    free(touched);
}

enum { REL_SAT, REL_CONTRA, REL_INCONC };

static int term_rel(pg *g, const pg_termv *t)
{
    pg_pkg *p = pkg_at(g, t->pkg);
    if (bits_subset(p, p->term, t->bits))
        return REL_SAT;
    if (bits_disjoint(p, p->term, t->bits))
        return REL_CONTRA;
    return REL_INCONC;
}

/* ---- conflict resolution ---- */

static bool terminal(pg *g, const pg_inc *inc)
{
    if (inc->n == 0)
        return true;
    if (inc->n == 1 && inc->t[0].pkg == 0) {
        pg_pkg *root = pkg_at(g, 0);
        return !bit(inc->t[0].bits, root->nver); /* positive root term */
    }
    return false;
}

/* Index of the first assignment after which term t is satisfied, with
 * extra (may be NULL) intersected in from the start; -1 if it already is
 * before any, nasg if never. Only assignments < limit count. */
static long satisfied_at(pg *g, const pg_termv *t, const word *extra, size_t limit)
{
    pg_pkg *p = pkg_at(g, t->pkg);
    word *acc = bits_new(p, true);
    if (extra)
        bits_and(p, acc, extra);
    long at = (long)g->nasg;
    if (bits_subset(p, acc, t->bits)) {
        at = -1;
    } else {
        for (size_t i = 0; i < limit; i++) {
            if (g->asg[i].pkg != t->pkg)
                continue;
            bits_and(p, acc, g->asg[i].bits);
            if (bits_subset(p, acc, t->bits)) {
                at = (long)i;
                break;
            }
        }
    }
    free(acc);
    return at;
}

/* Returns the incompatibility to derive from (index), or SIZE_MAX when
 * resolution failed (the terminal incompatibility's index in *fail). */
static size_t resolve_conflict(pg *g, size_t inc_i, size_t *fail)
{
    bool created = false;
    for (;;) {
        pg_inc *inc = &g->incs[inc_i];
        if (terminal(g, inc)) {
            *fail = inc_i;
            return SIZE_MAX;
        }
        /* satisfier */
        long sat = -1;
        size_t sat_term = 0;
        for (size_t t = 0; t < inc->n; t++) {
            long at = satisfied_at(g, &inc->t[t], NULL, g->nasg);
            if (at > sat) {
                sat = at;
                sat_term = t;
            }
        }
        if (sat < 0 || sat >= (long)g->nasg) {
            /* Should not happen: the incompatibility is satisfied. */
            *fail = inc_i;
            return SIZE_MAX;
        }
        pg_asg *sa = &g->asg[sat];
        long prev = -1;
        for (size_t t = 0; t < inc->n; t++) {
            long at = t == sat_term ? satisfied_at(g, &inc->t[t], sa->bits, (size_t)sat)
                                    : satisfied_at(g, &inc->t[t], NULL, g->nasg);
            if (t == sat_term && at >= sat)
                at = -1;
            if (at > prev)
                prev = at;
        }
        unsigned prev_level = prev >= 0 ? g->asg[prev].level : 1;
        if (sa->cause < 0 || prev_level != sa->level) {
            (void)created;
            backtrack_to(g, prev_level);
            return inc_i;
        }
        /* Resolution with the satisfier's cause. */
        pg_inc *cause = &g->incs[sa->cause];
        pg_termv *nt = NULL;
        size_t nn = 0;
        size_t sp = sa->pkg;
        for (size_t t = 0; t < inc->n; t++)
            if (inc->t[t].pkg != sp)
                terms_add(g, &nt, &nn, inc->t[t].pkg, bits_dup(pkg_at(g, inc->t[t].pkg), inc->t[t].bits));
        for (size_t t = 0; t < cause->n; t++)
            if (cause->t[t].pkg != sp)
                terms_add(g, &nt, &nn, cause->t[t].pkg,
                          bits_dup(pkg_at(g, cause->t[t].pkg), cause->t[t].bits));
        pg_pkg *spp = pkg_at(g, sp);
        const word *term = inc->t[sat_term].bits;
        if (!bits_subset(spp, sa->bits, term)) {
            /* not (satisfier \ term) = not satisfier  or  term */
            word *b = bits_dup(spp, sa->bits);
            bits_not(spp, b);
            bits_or(spp, b, term);
            terms_add(g, &nt, &nn, sp, b);
        }
        pg_inc d = {nt, nn, INC_DERIVED, NULL, NULL, inc_i, (size_t)sa->cause};
        inc_i = inc_add(g, d);
        created = true;
    }
}

/* ---- propagation ---- */

/* Derives from an incompatibility that is almost satisfied. */
static size_t derive(pg *g, size_t inc_i)
{
    pg_inc *inc = &g->incs[inc_i];
    for (size_t t = 0; t < inc->n; t++) {
        if (term_rel(g, &inc->t[t]) == REL_SAT)
            continue;
        pg_pkg *p = pkg_at(g, inc->t[t].pkg);
        word *b = bits_dup(p, inc->t[t].bits);
        bits_not(p, b);
        assign(g, inc->t[t].pkg, b, (long)inc_i);
        return inc->t[t].pkg;
    }
    return SIZE_MAX;
}

/* Returns false when resolution failed (*fail set). */
static bool propagate(pg *g, size_t start, size_t *fail)
{
    size_t *changed = xmalloc(sizeof *changed);
    size_t nch = 1, capch = 1;
    changed[0] = start;
    bool ok = true;
    while (nch && ok) {
        size_t pk = changed[--nch];
        pg_pkg *p = pkg_at(g, pk);
        for (size_t k = p->nincs; k-- > 0;) {
            size_t ii = p->incs[k];
            pg_inc *inc = &g->incs[ii];
            size_t nsat = 0, ninc = 0;
            bool contra = false;
            for (size_t t = 0; t < inc->n && !contra; t++) {
                int r = term_rel(g, &inc->t[t]);
                if (r == REL_SAT)
                    nsat++;
                else if (r == REL_CONTRA)
                    contra = true;
                else
                    ninc++;
            }
            if (contra || ninc > 1)
                continue;
            if (ninc == 0) {
                size_t r = resolve_conflict(g, ii, fail);
                if (r == SIZE_MAX) {
                    ok = false;
                    break;
                }
                size_t d = derive(g, r);
                nch = 0;
                if (d != SIZE_MAX)
                    PUSH(changed, nch, capch, d);
                break; /* the package's incompatibilities changed under us */
            }
            size_t d = derive(g, ii);
            if (d != SIZE_MAX)
                PUSH(changed, nch, capch, d);
        }
    }
    free(changed);
    return ok;
}

/* ---- decisions ---- */

static const char *unusable_reason(rv_ctx *x, rv_link *l)
{
    if (l->meta_state != META_OK)
        return "no usable metadata";
    if (l->requires_python && !specset_contains(l->requires_python, x->pyver, 1))
        return "requires another Python";
    return NULL;
}

/* Adds the incompatibilities of package k at version v; true if the
 * decision can be made without an immediate conflict. SIZE_MAX in *dep
 * means the provider failed. */
static bool add_deps(pg *g, size_t k, size_t v, rv_link *l, bool *failed)
{
    rv_ctx *x = g->x;
    pg_pkg *p = pkg_at(g, k);
    if (!p->dep_last[v]) {
        rv_cand *c = rv_cand_for(x, l, p->id);
        rv_cand_deps(x, c);
        if (x->fatal) {
            *failed = true;
            return false;
        }
        p->dep_first[v] = g->nincs;
        for (size_t i = 0; i < c->ndeps; i++) {
            rv_req *r = c->deps[i];
            if (r->kind == REQ_PYTHON)
                continue; /* checked before deciding (unusable_reason) */
            pg_termv *t = NULL;
            size_t n = 0;
            word *me = bits_new(p, false);
            set_bit(me, v);
            terms_add(g, &t, &n, k, me);
            int kind = r->kind == REQ_UNSAT ? INC_UNUSABLE : INC_DEP;
            if (r->kind == REQ_SPEC || r->kind == REQ_EXPLICIT) {
                size_t q = pkg_of(g, r->id);
                if (q == SIZE_MAX) {
                    free(t[0].bits);
                    free(t);
                    *failed = true;
                    return false;
                }
                pg_pkg *qp = pkg_at(g, q);
                word *s;
                if (r->kind == REQ_EXPLICIT) {
                    s = bits_new(qp, false);
                    set_bit(s, v); /* the base has the same version list */
                } else {
                    s = req_set(g, q, r);
                }
                if (q == k) {
                    /* A project that needs itself: fine if this version
                     * is allowed, otherwise the version is unusable. */
                    bool ok = bit(s, v);
                    free(s);
                    if (ok) {
                        free(t[0].bits);
                        free(t);
                        continue;
                    }
                } else {
                    bits_not(qp, s);
                    terms_add(g, &t, &n, q, s);
                }
            }
            inc_add(g, (pg_inc){t, n, kind, r,
                                r->kind == REQ_UNSAT ? "has a direct URL dependency" : NULL, 0, 0});
        }
        p->dep_last[v] = g->nincs + 1;
    }
    /* Would deciding v satisfy one of them at once? */
    for (size_t ii = p->dep_first[v]; ii + 1 < p->dep_last[v]; ii++) {
        pg_inc *in = &g->incs[ii];
        bool all = true;
        for (size_t j = 0; j < in->n && all; j++)
            if (in->t[j].pkg != k)
                all = term_rel(g, &in->t[j]) == REL_SAT;
        if (all)
            return false;
    }
    return true;
}

/* Picks the next package and version. Returns the package to propagate
 * from, SIZE_MAX-1 when everything is decided, SIZE_MAX on provider
 * failure. */
static size_t decide(pg *g)
{
    size_t best = SIZE_MAX, best_n = 0;
    for (size_t k = 0; k < g->npkgs; k++) {
        pg_pkg *p = pkg_at(g, k);
        if (p->decided >= 0 || bit(p->term, p->nver))
            continue; /* decided, or not required */
        size_t n = bits_count_versions(p, p->term);
        if (best == SIZE_MAX || n < best_n) {
            best = k;
            best_n = n;
        }
    }
    if (best == SIZE_MAX)
        return SIZE_MAX - 1;
    pg_pkg *p = pkg_at(g, best);
    if (!p->id) { /* the root */
        g->level++;
        word *b = bits_new(p, false);
        set_bit(b, 0);
        assign(g, best, b, -1);
        p->decided = 0;
        return best;
    }
    rv_ctx *x = g->x;
    for (size_t v = 0; v < p->nver; v++) {
        if (!bit(p->term, v))
            continue;
        rv_link *use = NULL;
        const char *why = NULL;
        for (size_t i = p->vstart[v]; i < p->vend[v] && !use; i++) {
            rv_link *l = p->links[i];
            rv_link_meta(x, l);
            if (x->fatal)
                return SIZE_MAX;
            why = p->id->base ? (l->meta_state == META_OK ? NULL : "no usable metadata")
                              : unusable_reason(x, l);
            if (!why)
                use = l;
        }
        if (!use) {
            pg_termv *t = NULL;
            size_t n = 0;
            word *b = bits_new(p, false);
            set_bit(b, v);
            terms_add(g, &t, &n, best, b);
            inc_add(g, (pg_inc){t, n, INC_UNUSABLE, NULL, why, 0, 0});
            return best; /* propagation excludes it */
        }
        bool failed = false;
        bool ok = add_deps(g, best, v, use, &failed);
        if (failed)
            return SIZE_MAX;
        if (ok) {
            g->level++;
            word *b = bits_new(p, false);
            set_bit(b, v);
            assign(g, best, b, -1);
            p->decided = (long)v;
            p->chosen = use;
        }
        return best;
    }
    /* No version left: that is an incompatibility of its own. */
    pg_termv *t = NULL;
    size_t n = 0;
    word *b = bits_dup(p, p->term);
    clear_bit(b, p->nver);
    terms_add(g, &t, &n, best, b);
    inc_add(g, (pg_inc){t, n, INC_NOVERSION, NULL, NULL, 0, 0});
    return best;
}

/* ---- results ---- */

static char *pkg_version_str(pg *g, size_t k, size_t v)
{
    pg_pkg *p = pkg_at(g, k);
    return version_to_string(p->links[p->vstart[v]]->version);
}

/* "a 1.0, 2.0" for the versions in a positive set. */
static char *set_desc(pg *g, size_t k, const word *b)
{
    pg_pkg *p = pkg_at(g, k);
    pyti_buf o = PYTI_BUF_INIT;
    size_t shown = 0, total = bits_count_versions(p, b);
    for (size_t v = p->nver; v-- > 0;) {
        if (!bit(b, v))
            continue;
        if (shown == 6) {
            buf_printf(&o, ", ... (%zu versions)", total);
            break;
        }
        char *s = pkg_version_str(g, k, v);
        buf_printf(&o, "%s%s", shown ? ", " : "", s);
        free(s);
        shown++;
    }
    return buf_detach(&o);
}

static void describe(pg *g, size_t ii, pyti_strv *lines, bool *seen)
{
    if (seen[ii])
        return;
    seen[ii] = true;
    pg_inc *inc = &g->incs[ii];
    if (inc->kind == INC_DERIVED) {
        describe(g, inc->cause1, lines, seen);
        describe(g, inc->cause2, lines, seen);
        return;
    }
    if (lines->len >= 20 || inc->kind == INC_ROOT)
        return;
    const pg_termv *me = inc->n ? &inc->t[0] : NULL;
    char *line = NULL;
    if (inc->kind == INC_DEP && me) {
        pg_pkg *p = pkg_at(g, me->pkg);
        if (!p->id) {
            line = xasprintf("the request is %s", inc->req->text);
        } else {
            size_t v = 0;
            while (v < p->nver && !bit(me->bits, v))
                v++;
            char *vs = pkg_version_str(g, me->pkg, v);
            line = xasprintf("%s %s requires %s", p->id->str, vs, inc->req->text);
            free(vs);
        }
    } else if (inc->kind == INC_UNUSABLE && me) {
        char *vs = set_desc(g, me->pkg, me->bits);
        line = xasprintf("%s %s cannot be used (%s)", pkg_at(g, me->pkg)->id->str, vs,
                         inc->why ? inc->why : "unusable");
        free(vs);
    } else if (inc->kind == INC_NOVERSION && me) {
        char *vs = set_desc(g, me->pkg, me->bits);
        line = *vs ? xasprintf("none of %s %s can be used", pkg_at(g, me->pkg)->id->str, vs)
                   : xasprintf("no version of %s is available", pkg_at(g, me->pkg)->id->str);
        free(vs);
    }
    if (line && !strv_contains(lines, line))
        strv_push(lines, line);
    free(line);
}

static int pin_cmp(const void *a, const void *b)
{
    return strcmp(((const pyti_pin *)a)->name, ((const pyti_pin *)b)->name);
}

static void result(pg *g)
{
    pyti_resolution *out = g->x->out;
    out->pins = xcalloc(g->npkgs + 1, sizeof *out->pins);
    for (size_t k = 0; k < g->npkgs; k++) {
        pg_pkg *p = pkg_at(g, k);
        if (!p->id || p->decided < 0 || p->id->base)
            continue;
        rv_link *l = p->chosen;
        pyti_pin *pin = &out->pins[out->npins++];
        pin->name = xstrdup(l->proj->name);
        pin->display_name = xstrdup(l->meta.name ? l->meta.name : pin->name);
        pin->version = version_to_string(l->version);
        pin->metadata_source = xstrdup(l->meta.source ? l->meta.source : "");
        dist_file_copy(&pin->file, rv_link_file(l));
        pin->installed = l->inst;
    }
    /* Extras, and who required what. */
    for (size_t k = 0; k < g->npkgs; k++) {
        pg_pkg *p = pkg_at(g, k);
        if (p->decided < 0)
            continue;
        if (p->id && p->id->base)
            for (size_t i = 0; i < out->npins; i++)
                if (strcmp(out->pins[i].name, p->id->proj->name) == 0)
                    for (size_t e = 0; e < p->id->extras.len; e++)
                        strv_push_unique(&out->pins[i].extras, p->id->extras.items[e]);
    }
    for (size_t ii = 0; ii < g->nincs; ii++) {
        pg_inc *inc = &g->incs[ii];
        if (inc->kind != INC_DEP || inc->n < 2)
            continue;
        pg_pkg *p = pkg_at(g, inc->t[0].pkg), *q = pkg_at(g, inc->t[1].pkg);
        if (p->decided < 0 || !bit(inc->t[0].bits, (size_t)p->decided) || q->decided < 0)
            continue;
        const char *qname = q->id->proj->name;
        if (p->id && strcmp(p->id->proj->name, qname) == 0)
            continue;
        char *who;
        if (p->id) {
            char *vs = pkg_version_str(g, inc->t[0].pkg, (size_t)p->decided);
            who = xasprintf("%s %s", p->id->proj->name, vs);
            free(vs);
        } else {
            who = xstrdup("<request>");
        }
        for (size_t i = 0; i < out->npins; i++)
            if (strcmp(out->pins[i].name, qname) == 0)
                strv_push_unique(&out->pins[i].required_by, who);
        free(who);
    }
    for (size_t i = 0; i < out->npins; i++) {
        strv_sort(&out->pins[i].extras);
        strv_sort(&out->pins[i].required_by);
    }
    qsort(out->pins, out->npins, sizeof *out->pins, pin_cmp);
}

static void pg_free(pg *g)
{
    for (size_t k = 0; k < g->npkgs; k++) {
        pg_pkg *p = &g->pkgs[k];
        free(p->links);
        free(p->vstart);
        free(p->vend);
        free(p->vyanked);
        free(p->dep_first);
        free(p->dep_last);
        free(p->term);
        free(p->incs);
    }
    free(g->pkgs);
    for (size_t i = 0; i < g->nincs; i++) {
        for (size_t t = 0; t < g->incs[i].n; t++)
            free(g->incs[i].t[t].bits);
        free(g->incs[i].t);
    }
    free(g->incs);
    for (size_t i = 0; i < g->nasg; i++)
        free(g->asg[i].bits);
    free(g->asg);
    free(g->pkg_of_ident);
}

bool rv_pubgrub(rv_ctx *x, rv_req *const *reqs, size_t n, unsigned long max_steps)
{
    pg g = {0};
    g.x = x;
    pyti_resolution *out = x->out;
    size_t root = pkg_add_raw(&g, NULL, 1);
    /* {root not selected} is incompatible. */
    pg_termv *t = NULL;
    size_t nt = 0;
    word *b = bits_new(pkg_at(&g, root), false);
    set_bit(b, 1);
    terms_add(&g, &t, &nt, root, b);
    inc_add(&g, (pg_inc){t, nt, INC_ROOT, NULL, NULL, 0, 0});
    /* The request as the root's dependencies. */
    for (size_t i = 0; i < n; i++) {
        size_t q = pkg_of(&g, reqs[i]->id);
        if (q == SIZE_MAX) {
            pg_free(&g);
            return false;
        }
        t = NULL;
        nt = 0;
        word *me = bits_new(pkg_at(&g, root), false);
        set_bit(me, 0);
        terms_add(&g, &t, &nt, root, me);
        word *s = req_set(&g, q, reqs[i]);
        bits_not(pkg_at(&g, q), s);
        terms_add(&g, &t, &nt, q, s);
        inc_add(&g, (pg_inc){t, nt, INC_DEP, reqs[i], NULL, 0, 0});
    }
    size_t next = root, fail = 0;
    bool ok = true;
    for (;;) {
        if (++g.steps > max_steps) {
            out->outcome = PYTI_RESOLVE_TOO_DEEP;
            out->explanation =
                xasprintf("gave up after %lu steps of the fallback solver", max_steps);
            break;
        }
        if (!propagate(&g, next, &fail)) {
            out->outcome = PYTI_RESOLVE_IMPOSSIBLE;
            bool *seen = xcalloc(g.nincs + 1, sizeof *seen);
            describe(&g, fail, &out->conflicts, seen);
            free(seen);
            char *j = strv_join(&out->conflicts, "; ");
            out->explanation = xasprintf("no set of versions works: %s", j);
            free(j);
            break;
        }
        next = decide(&g);
        if (next == SIZE_MAX) {
            ok = false;
            break;
        }
        if (next == SIZE_MAX - 1) {
            out->outcome = PYTI_RESOLVED;
            result(&g);
            break;
        }
    }
    out->rounds += g.steps;
    pg_free(&g);
    return ok && !x->fatal;
}
