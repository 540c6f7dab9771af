/* resolver.c — backtracking dependency resolution that follows
 * resolvelib 0.8.1 driven by pip 23.0.1's provider and finder, step for
 * step, so pyti picks what pip picks (see resolver.h and docs/index.md).
 *
 * Vocabulary (resolvelib's):
 *   identifier  what gets pinned: "name", "name[extra,...]" or the target
 *               Python ("<Python from Requires-Python>")
 *   candidate   one file of one version for an identifier (interned, so
 *               identity is equality, as pip's caches make it)
 *   requirement a specifier requirement ("b<2"), an explicit one (an
 *               extras candidate needs exactly its base candidate) or a
 *               Requires-Python
 *   criterion   for one identifier: the requirements seen with the
 *               candidate that brought each, the candidates known not to
 *               work, and the candidates still possible (immutable,
 *               reference counted, shared between states)
 *   state       the pins so far (ordered) and the criteria (ordered); a
 *               stack of states is the backtracking history.
 * Orders matter (they decide which of several solutions is found), so
 * every ordered container here keeps Python's dict insertion order. */
#include "index/resolver.h"
#include "common/buf.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "index/hmap_internal.h"
#include "pkg/marker.h"
#include "pkg/name.h"
#include "pkg/requirement.h"
#include "pkg/specifier.h"
#include "pkg/version.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/resolver_internal.h"

/* ---- small helpers ---- */

void dist_file_copy(pyti_dist_file *d, const pyti_dist_file *s)
{
#define DUP(f) d->f = s->f ? xstrdup(s->f) : NULL
    DUP(filename);
    DUP(url);
    DUP(sha256);
    DUP(sha384);
    DUP(sha512);
    DUP(requires_python);
    DUP(yanked_reason);
    DUP(metadata_sha256);
    DUP(upload_time);
    DUP(index_url);
#undef DUP
    d->yanked = s->yanked;
    d->has_metadata = s->has_metadata;
    d->size = s->size;
}

void dist_file_free(pyti_dist_file *f)
{
    free(f->filename);
    free(f->url);
    free(f->sha256);
    free(f->sha384);
    free(f->sha512);
    free(f->requires_python);
    free(f->yanked_reason);
    free(f->metadata_sha256);
    free(f->upload_time);
    free(f->index_url);
    memset(f, 0, sizeof *f);
}

void dist_metadata_free(pyti_dist_metadata *m)
{
    free(m->name);
    free(m->version);
    free(m->requires_python);
    free(m->source);
    strv_free(&m->requires_dist);
    strv_free(&m->provides_extra);
    memset(m, 0, sizeof *m);
}

void dist_metadata_copy(pyti_dist_metadata *d, const pyti_dist_metadata *s)
{
    memset(d, 0, sizeof *d);
    d->name = s->name ? xstrdup(s->name) : NULL;
    d->version = s->version ? xstrdup(s->version) : NULL;
    d->requires_python = s->requires_python ? xstrdup(s->requires_python) : NULL;
    d->source = s->source ? xstrdup(s->source) : NULL;
    for (size_t i = 0; i < s->requires_dist.len; i++)
        strv_push(&d->requires_dist, s->requires_dist.items[i]);
    for (size_t i = 0; i < s->provides_extra.len; i++)
        strv_push(&d->provides_extra, s->provides_extra.items[i]);
}

static void pin_free(pyti_pin *p)
{
    free(p->name);
    free(p->display_name);
    free(p->version);
    free(p->metadata_source);
    strv_free(&p->extras);
    strv_free(&p->required_by);
    dist_file_free(&p->file);
}

void resolution_free(pyti_resolution *r)
{
    for (size_t i = 0; i < r->npins; i++)
        pin_free(&r->pins[i]);
    free(r->pins);
    free(r->explanation);
    strv_free(&r->conflicts);
    free(r->build_project);
    free(r->build_version);
    dist_file_free(&r->build_file);
    memset(r, 0, sizeof *r);
}

const char *resolve_outcome_name(pyti_resolve_outcome o)
{
    switch (o) {
    case PYTI_RESOLVED: return "resolved";
    case PYTI_RESOLVE_IMPOSSIBLE: return "impossible";
    case PYTI_RESOLVE_NEEDS_BUILD: return "needs-build";
    case PYTI_RESOLVE_TOO_DEEP: return "too-deep";
    case PYTI_RESOLVE_ERROR: return "error";
    }
    return "?";
}

void rv_set_fatal(rv_ctx *x, const pyti_error *e)
{
    if (x->fatal)
        return;
    x->fatal = true;
    x->fatal_code = e->code ? e->code : PYTI_ERR_INTERNAL;
    x->fatal_err = *e;
}

/* The operator of a clause as str(Specifier) writes it ("~=1.4"). */
static size_t clause_op(const char *c, char op[4])
{
    static const char *const ops[] = {"===", "==", "!=", "<=", ">=", "~=", "<", ">", NULL};
    for (size_t i = 0; ops[i]; i++) {
        size_t l = strlen(ops[i]);
        if (strncmp(c, ops[i], l) == 0) {
            memcpy(op, ops[i], l + 1);
            return l;
        }
    }
    op[0] = '\0';
    return 0;
}

/* packaging's Specifier.prereleases for one clause: the operator may
 * match a pre-release and the operand is one. */
static bool clause_names_pre(const char *c)
{
    char op[4];
    size_t l = clause_op(c, op);
    if (!l || strcmp(op, "!=") == 0 || strcmp(op, "<") == 0 || strcmp(op, ">") == 0)
        return false;
    const char *v = c + l;
    while (*v == ' ')
        v++;
    char *ver = xstrdup(v);
    size_t n = strlen(ver);
    if (strcmp(op, "==") == 0 && n >= 2 && strcmp(ver + n - 2, ".*") == 0)
        ver[n - 2] = '\0';
    pyti_version *pv = version_parse(ver, NULL);
    bool pre = pv && version_is_prerelease(pv);
    version_free(pv);
    free(ver);
    return pre;
}

static void req_flags(rv_req *r)
{
    unsigned n = r->spec ? specset_len(r->spec) : 0;
    r->has_specs = n > 0;
    for (unsigned i = 0; i < n; i++) {
        const char *c = specset_clause_at(r->spec, i);
        char op[4];
        clause_op(c, op);
        if (strncmp(op, "==", 2) == 0)
            r->pinned = true;
        if (strcmp(op, "===") == 0 || (strcmp(op, "==") == 0 && !str_endswith(c, ".*")))
            r->exact = true;
        if (clause_names_pre(c))
            r->pre_ok = true;
    }
}

/* ---- projects and their candidate files (pip's LinkEvaluator and
 *      CandidateEvaluator) ---- */

static void link_take_meta(rv_link *l, const char *what);

/* The installed distribution of project p, if the caller listed one, as
 * a link whose metadata is known (pip's AlreadyInstalledCandidate: its
 * Requires-Python is not a dependency). The first listed wins, as the
 * first on sys.path does for pip. */
static void installed_link(rv_ctx *x, rv_project *p)
{
    for (size_t i = 0; i < x->o.ninstalled; i++) {
        const pyti_dist_metadata *m = &x->o.installed[i];
        if (!m->name || !m->version)
            continue;
        char *norm = name_normalize(m->name);
        bool mine = strcmp(norm, p->name) == 0;
        free(norm);
        if (!mine)
            continue;
        pyti_version *v = version_parse(m->version, NULL);
        if (!v) {
            log_warn("ignoring installed %s %s: not a PEP 440 version", m->name, m->version);
            continue;
        }
        rv_link *l = xcalloc(1, sizeof *l);
        l->proj = p;
        l->inst = true;
        l->version = v;
        l->pre = version_is_prerelease(v);
        l->meta_state = META_OK;
        dist_metadata_copy(&l->meta, m);
        free(l->meta.requires_python);
        l->meta.requires_python = NULL;
        free(l->meta.source);
        l->meta.source = xstrdup("installed");
        char *what = xasprintf("installed %s %s", m->name, m->version);
        link_take_meta(l, what);
        free(what);
        PUSH(x->linkv, x->nlink, x->caplink, l);
        p->inst = l;
        return;
    }
}

rv_project *rv_project_get(rv_ctx *x, const char *name)
{
    rv_project *p = hmap_get(&x->projects, name);
    if (!p) {
        p = xcalloc(1, sizeof *p);
        p->name = xstrdup(name);
        p->inst_file.size = -1;
        hmap_put(&x->projects, name, p);
        PUSH(x->projv, x->nproj, x->capproj, p);
        installed_link(x, p);
    }
    return p;
}

char *resolve_sdist_version(const char *filename, const char *project)
{
    static const char *const exts[] = {".tar.gz", ".tar.bz2", ".tar.xz", ".tar.lzma",
                                       ".tar.lz", ".tgz",     ".tbz",    ".txz",
                                       ".tlz",    ".tar",     ".zip",    NULL};
    size_t len = strlen(filename), stem = 0;
    for (size_t i = 0; exts[i]; i++) {
        size_t el = strlen(exts[i]);
        if (len > el && strcasecmp(filename + len - el, exts[i]) == 0) {
            stem = len - el;
            break;
        }
    }
    if (!stem)
        return NULL;
    /* pip's _find_name_version_sep: the first '-' whose prefix
     * canonicalises to the project name. */
    for (size_t i = 0; i < stem; i++) {
        if (filename[i] != '-')
            continue;
        char *prefix = xstrndup(filename, i);
        char *norm = name_normalize(prefix);
        bool same = strcmp(norm, project) == 0;
        free(norm);
        free(prefix);
        if (same)
            return i + 1 < stem ? xstrndup(filename + i + 1, stem - i - 1) : NULL;
    }
    return NULL;
}

static int link_cmp_key(const rv_link *a, const rv_link *b)
{
    /* pip's _sort_key: (hash allowed, -yanked, binary preference,
     * version, tag priority, build tag); smaller sorts first. */
    int ya = a->yanked ? -1 : 0, yb = b->yanked ? -1 : 0;
    if (ya != yb)
        return ya < yb ? -1 : 1;
    int c = version_compare(a->version, b->version);
    if (c)
        return c;
    if (a->pri != b->pri)
        return a->pri < b->pri ? -1 : 1;
    if (a->has_build != b->has_build)
        return a->has_build ? 1 : -1; /* () < (n, s) */
    if (a->has_build) {
        if (a->build_num != b->build_num)
            return a->build_num < b->build_num ? -1 : 1;
        c = strcmp(a->build_rest, b->build_rest);
        if (c)
            return c;
    }
    return 0;
}

static int link_sort_cmp(const void *pa, const void *pb)
{
    const rv_link *a = *(rv_link *const *)pa, *b = *(rv_link *const *)pb;
    int c = link_cmp_key(a, b);
    if (c)
        return -c; /* best first: the reverse of pip's ascending sort */
    /* Python's sort is stable, then the list is reversed: among equal
     * keys the file listed last comes first. */
    return a->order < b->order ? 1 : a->order > b->order ? -1 : 0;
}

static void skip(rv_project *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void skip(rv_project *p, const char *fmt, ...)
{
    if (p->skipped.len >= 200)
        return;
    va_list ap;
    va_start(ap, fmt);
    pyti_buf b = PYTI_BUF_INIT;
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    strv_push_owned(&p->skipped, buf_detach(&b));
}

/* "-py3.8" at the end of a version: pip drops files for other Pythons. */
static bool py_suffix_ok(rv_ctx *x, char *version)
{
    size_t n = strlen(version);
    for (size_t i = n; i-- > 0;) {
        if (version[i] != '-')
            continue;
        const char *s = version + i + 1;
        if (strncmp(s, "py", 2) != 0)
            return true;
        s += 2;
        /* [123]\.?[0-9]?$ */
        if (!(*s >= '1' && *s <= '3'))
            return true;
        const char *q = s + 1;
        if (*q == '.')
            q++;
        if (isdigit((unsigned char)*q))
            q++;
        if (*q)
            return true;
        bool ok = strcmp(s, x->pyshort) == 0;
        version[i] = '\0';
        return ok;
    }
    return true;
}

bool rv_project_load(rv_ctx *x, rv_project *p)
{
    if (p->loaded)
        return true;
    pyti_error e = {0};
    const pyti_dist_file *files = NULL;
    size_t nfiles = 0;
    if (x->p->list_files(x->p->ctx, p->name, &files, &nfiles, &e) != PYTI_OK) {
        rv_set_fatal(x, &e);
        return false;
    }
    p->loaded = true;
    p->files = files;
    p->nfiles = nfiles;
    x->out->projects++;
    size_t ntags = target_tag_count(x->t);
    for (size_t i = 0; i < nfiles; i++) {
        const pyti_dist_file *f = &files[i];
        if (!f->filename)
            continue;
        char *version = NULL;
        long pri;
        bool has_build = false;
        unsigned long long bnum = 0;
        char *brest = NULL;
        if (str_endswith(f->filename, ".whl")) {
            pyti_dist_filename df;
            if (dist_filename_parse(f->filename, &df, NULL) != PYTI_OK)
                continue;
            char *norm = name_normalize(df.name);
            bool mine = strcmp(norm, p->name) == 0;
            free(norm);
            long prio = mine ? target_wheel_priority(x->t, &df) : -1;
            if (mine && prio < 0)
                skip(p, "%s (no wheel tag supported by the target)", f->filename);
            if (!mine || prio < 0) {
                dist_filename_free(&df);
                continue;
            }
            pri = -prio;
            version = xstrdup(df.version);
            for (char *c = version; *c; c++)
                if (*c == '_')
                    *c = '-';
            if (df.build) {
                has_build = true;
                char *end;
                bnum = strtoull(df.build, &end, 10);
                brest = xstrdup(end);
            }
            dist_filename_free(&df);
        } else {
            if (strstr(f->url ? f->url : "", "macosx10") && str_endswith(f->filename, ".zip"))
                continue;
            version = resolve_sdist_version(f->filename, p->name);
            if (!version)
                continue;
            pri = -(long)ntags;
        }
        if (!py_suffix_ok(x, version)) {
            free(version);
            free(brest);
            continue;
        }
        if (f->requires_python) {
            pyti_specset *rp = specset_parse(f->requires_python, NULL);
            bool ok = !rp || specset_contains(rp, x->pyver, -1);
            specset_free(rp);
            if (!ok) {
                skip(p, "%s (requires Python %s)", version, f->requires_python);
                free(version);
                free(brest);
                continue;
            }
        }
        pyti_version *v = version_parse(version, NULL);
        free(version);
        if (!v) {
            free(brest);
            continue;
        }
        rv_link *l = xcalloc(1, sizeof *l);
        l->proj = p;
        l->file = i;
        l->version = v;
        l->yanked = f->yanked;
        l->pre = version_is_prerelease(v);
        l->pri = pri;
        l->has_build = has_build;
        l->build_num = bnum;
        l->build_rest = brest;
        l->order = p->nlinks;
        PUSH(x->linkv, x->nlink, x->caplink, l);
        p->links = xreallocarray(p->links, p->nlinks + 1, sizeof *p->links);
        p->links[p->nlinks++] = l;
    }
    if (p->nlinks)
        qsort(p->links, p->nlinks, sizeof *p->links, link_sort_cmp);
    return true;
}

/* Reads the metadata of a link's file once: META_OK or META_BAD (pip's
 * "build failure": unreadable, or name/version not those of the file).
 * Sets x->fatal when the provider fails or a build is needed. */
int rv_link_meta(rv_ctx *x, rv_link *l)
{
    if (l->meta_state != META_UNKNOWN)
        return l->meta_state;
    const pyti_dist_file *f = rv_link_file(l);
    pyti_error e = {0};
    bool needs_build = false;
    x->out->metadata_reads++;
    if (x->p->get_metadata(x->p->ctx, l->proj->name, f, &l->meta, &needs_build, &e) != PYTI_OK) {
        rv_set_fatal(x, &e);
        return META_UNKNOWN;
    }
    if (needs_build) {
        x->fatal = true;
        x->fatal_code = PYTI_OK;
        x->needs_build = l;
        return META_UNKNOWN;
    }
    l->meta_state = META_BAD;
    char *norm = name_normalize(l->meta.name);
    pyti_version *mv = l->meta.version ? version_parse(l->meta.version, NULL) : NULL;
    if (!l->meta.name || strcmp(norm, l->proj->name) != 0) {
        log_info("discarding %s: its metadata names project '%s'", f->filename,
                 l->meta.name ? l->meta.name : "");
    } else if (!mv || version_compare(mv, l->version) != 0) {
        log_info("discarding %s: its metadata says version '%s'", f->filename,
                 l->meta.version ? l->meta.version : "");
    } else {
        l->meta_state = META_OK;
    }
    free(norm);
    version_free(mv);
    if (l->meta_state != META_OK)
        return l->meta_state;
    link_take_meta(l, f->filename);
    return META_OK;
}

/* Parses the usable metadata of a link (its Requires-Dist,
 * Requires-Python, Provides-Extra) into the link. */
static void link_take_meta(rv_link *l, const char *what)
{
    l->reqs = xcalloc(l->meta.requires_dist.len + 1, sizeof *l->reqs);
    for (size_t i = 0; i < l->meta.requires_dist.len; i++) {
        pyti_error re;
        pyti_requirement *r = requirement_parse(l->meta.requires_dist.items[i], &re);
        if (!r) {
            /* pip stops with an error here; one broken line should not
             * make the file unusable for pyti, but it must not be
             * silently dropped either. */
            log_warn("%s: ignoring invalid Requires-Dist: %s", what, re.msg);
            continue;
        }
        l->reqs[l->nreqs++] = r;
    }
    if (l->meta.requires_python && !str_blank(l->meta.requires_python)) {
        l->requires_python = specset_parse(l->meta.requires_python, NULL);
        if (l->requires_python && specset_len(l->requires_python) == 0) {
            specset_free(l->requires_python);
            l->requires_python = NULL;
        }
    }
    for (size_t i = 0; i < l->meta.provides_extra.len; i++) {
        char *n = name_normalize(l->meta.provides_extra.items[i]);
        strv_push_owned(&l->extras, n);
    }
}

/* ---- identifiers, candidates, requirements ---- */

rv_ident *rv_ident_get(rv_ctx *x, const char *name, const pyti_strv *extras_in)
{
    pyti_strv extras = PYTI_STRV_INIT;
    if (extras_in)
        for (size_t i = 0; i < extras_in->len; i++) {
            char *n = name_normalize(extras_in->items[i]);
            if (*n)
                strv_push_unique(&extras, n);
            free(n);
        }
    strv_sort(&extras);
    char *key;
    if (extras.len) {
        char *j = strv_join(&extras, ",");
        key = xasprintf("%s[%s]", name, j);
        free(j);
    } else {
        key = xstrdup(name);
    }
    rv_ident *id = hmap_get(&x->idents, key);
    if (id) {
        free(key);
        strv_free(&extras);
        return id;
    }
    id = xcalloc(1, sizeof *id);
    id->idx = x->nid;
    id->str = key;
    id->extras = extras;
    id->depth = INFINITY;
    id->requested = INFINITY;
    id->proj = rv_project_get(x, name);
    hmap_put(&x->idents, key, id);
    PUSH(x->idv, x->nid, x->capid, id);
    if (extras.len)
        id->base = rv_ident_get(x, name, NULL);
    return id;
}

static rv_req *req_new(rv_ctx *x, int kind, rv_ident *id)
{
    rv_req *r = xcalloc(1, sizeof *r);
    r->kind = kind;
    r->id = id;
    PUSH(x->reqv, x->nreq, x->capreq, r);
    return r;
}

/* A specifier requirement from a parsed PEP 508 requirement (or an
 * unsatisfiable one for a direct URL, which pyti does not fetch). */
rv_req *rv_req_from(rv_ctx *x, const pyti_requirement *pr)
{
    rv_ident *id = rv_ident_get(x, pr->normalized, &pr->extras);
    rv_req *r = req_new(x, pr->url ? REQ_UNSAT : REQ_SPEC, id);
    r->spec = specset_copy(pr->spec);
    char *s = specset_to_string(pr->spec);
    if (pr->url)
        r->text = xasprintf("%s @ %s (direct references are not supported)", id->str, pr->url);
    else
        r->text = xasprintf("%s%s", id->str, s);
    free(s);
    req_flags(r);
    return r;
}

static rv_cand *cand_new(rv_ctx *x, rv_ident *id, rv_link *l, rv_cand *base)
{
    rv_cand *c = xcalloc(1, sizeof *c);
    c->id = id;
    c->link = l;
    c->base = base;
    PUSH(x->candv, x->ncand, x->capcand, c);
    return c;
}

/* The candidate of identifier id for link l (metadata must be OK). */
rv_cand *rv_cand_for(rv_ctx *x, rv_link *l, rv_ident *id)
{
    if (!l->base)
        l->base = cand_new(x, id->base ? id->base : id, l, NULL);
    if (!id->extras.len)
        return l->base;
    for (size_t i = 0; i < l->nx; i++)
        if (l->xcands[i]->id == id)
            return l->xcands[i];
    rv_cand *c = cand_new(x, id, l, l->base);
    l->xcands = xreallocarray(l->xcands, l->nx + 1, sizeof *l->xcands);
    l->xcands[l->nx++] = c;
    return c;
}

const pyti_version *rv_cand_version(rv_ctx *x, const rv_cand *c)
{
    return c->link ? c->link->version : x->pyver;
}

static int eval_marker(rv_ctx *x, const pyti_requirement *r, const char *extra)
{
    if (!r->marker)
        return 1;
    pyti_marker_env env = x->t->env;
    env.extra = extra;
    pyti_error e;
    int v = marker_evaluate(r->marker, &env, &e);
    if (v < 0) {
        log_warn("cannot evaluate the marker of '%s': %s; treating it as false",
                 r->name, e.msg);
        return 0;
    }
    return v;
}

/* The dependencies of a candidate, as pip's iter_dependencies yields
 * them (base: Requires-Dist whose markers hold with extra "", then
 * Requires-Python; extras candidate: its exact base first, then every
 * Requires-Dist without a marker or whose marker holds for one of the
 * requested extras the distribution provides). */
void rv_cand_deps(rv_ctx *x, rv_cand *c)
{
    if (c->deps_done || !c->link)
        return;
    c->deps_done = true;
    rv_link *l = c->link;
    size_t cap = 0;
    if (c->base) {
        rv_req *r = req_new(x, REQ_EXPLICIT, c->base->id);
        r->cand = c->base;
        char *v = version_to_string(l->version);
        r->text = xasprintf("%s==%s", c->base->id->str, v);
        free(v);
        PUSH(c->deps, c->ndeps, cap, r);
    }
    pyti_strv valid = PYTI_STRV_INIT;
    for (size_t i = 0; i < c->id->extras.len; i++)
        if (strv_contains(&l->extras, c->id->extras.items[i]))
            strv_push(&valid, c->id->extras.items[i]);
    if (c->base)
        for (size_t i = 0; i < c->id->extras.len; i++)
            if (!strv_contains(&valid, c->id->extras.items[i]))
                log_warn("%s %s does not provide the extra '%s'", l->proj->name,
                         l->meta.version, c->id->extras.items[i]);
    for (size_t i = 0; i < l->nreqs; i++) {
        const pyti_requirement *pr = l->reqs[i];
        bool use;
        if (!pr->marker)
            use = true;
        else if (!c->base || !valid.len)
            use = eval_marker(x, pr, "") == 1;
        else {
            use = false;
            for (size_t k = 0; k < valid.len && !use; k++)
                use = eval_marker(x, pr, valid.items[k]) == 1;
        }
        if (use)
            PUSH(c->deps, c->ndeps, cap, rv_req_from(x, pr));
    }
    strv_free(&valid);
    if (!c->base && l->requires_python) {
        rv_req *r = req_new(x, REQ_PYTHON, x->python);
        r->spec = specset_copy(l->requires_python);
        char *s = specset_to_string(l->requires_python);
        r->text = xasprintf("Python %s", s);
        free(s);
        PUSH(c->deps, c->ndeps, cap, r);
    }
    if (x->p->prefetch && c->ndeps) {
        const char **names = xcalloc(c->ndeps, sizeof *names);
        size_t n = 0;
        for (size_t i = 0; i < c->ndeps; i++) {
            rv_project *p = c->deps[i]->id->proj;
            if (p && !p->loaded && !p->inst)
                names[n++] = p->name;
        }
        if (n)
            x->p->prefetch(x->p->ctx, names, n);
        free(names);
    }
}

bool rv_satisfied(rv_ctx *x, const rv_req *r, const rv_cand *c)
{
    switch (r->kind) {
    case REQ_SPEC:
    case REQ_PYTHON:
        return specset_contains(r->spec, rv_cand_version(x, c), 1);
    case REQ_EXPLICIT:
        return r->cand == c;
    default:
        return false;
    }
}

/* ---- criteria ---- */

static void crit_unref(rv_crit *c)
{
    if (!c || --c->refs)
        return;
    free(c->info);
    free(c->incompat);
    free(c->expl);
    free(c->found);
    free(c);
}

static bool in_list(rv_cand *const *v, size_t n, const rv_cand *c)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == c)
            return true;
    return false;
}

static rv_crit *table_get(const rv_table *t, const rv_ident *id)
{
    if (id->idx >= t->npos || t->pos[id->idx] < 0)
        return NULL;
    return t->items[t->pos[id->idx]];
}

/* Stores c (taking the caller's reference) under its identifier: in
 * place if present, appended otherwise (dict semantics). */
static void table_set(rv_table *t, rv_crit *c)
{
    size_t idx = c->id->idx;
    if (idx >= t->npos) {
        size_t n = idx + 16;
        t->pos = xreallocarray(t->pos, n, sizeof *t->pos);
        for (size_t i = t->npos; i < n; i++)
            t->pos[i] = -1;
        t->npos = n;
    }
    if (t->pos[idx] >= 0) {
        crit_unref(t->items[t->pos[idx]]);
        t->items[t->pos[idx]] = c;
        return;
    }
    t->pos[idx] = (long)t->n;
    PUSH(t->items, t->n, t->cap, c);
}

static void table_copy(rv_table *dst, const rv_table *src)
{
    dst->n = dst->cap = src->n;
    dst->items = src->n ? xmalloc(src->n * sizeof *dst->items) : NULL;
    for (size_t i = 0; i < src->n; i++) {
        dst->items[i] = src->items[i];
        dst->items[i]->refs++;
    }
    dst->npos = src->npos;
    dst->pos = src->npos ? xmalloc(src->npos * sizeof *dst->pos) : NULL;
    if (src->npos)
        memcpy(dst->pos, src->pos, src->npos * sizeof *dst->pos);
}

static void table_free(rv_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        crit_unref(t->items[i]);
    free(t->items);
    free(t->pos);
    memset(t, 0, sizeof *t);
}

static void index_matches(rv_ctx *x, rv_crit *c, const pyti_version *skip);

/* pip's Factory.find_candidates for criterion c (whose info holds every
 * requirement for its identifier), the other identifiers' requirements
 * coming from table t. Fills c->explicit_mode/expl or c->found. */
static void find_matches(rv_ctx *x, const rv_table *t, rv_crit *c)
{
    rv_ident *id = c->id;
    size_t cap = 0;
    if (id->python) {
        /* Each satisfied Requires-Python offers the target Python. */
        bool any = false;
        for (size_t i = 0; i < c->ninfo; i++)
            if (rv_satisfied(x, c->info[i].req, x->pycand))
                any = true;
        c->explicit_mode = true;
        if (!any || in_list(c->incompat, c->nincompat, x->pycand))
            return;
        for (size_t i = 0; i < c->ninfo; i++)
            if (!rv_satisfied(x, c->info[i].req, x->pycand))
                return;
        PUSH(c->expl, c->nexpl, cap, x->pycand);
        return;
    }
    /* Explicit candidates: from this identifier's explicit requirements,
     * and for "name[extras]" the base's explicit candidates with these
     * extras. */
    rv_cand **ex = NULL;
    size_t nex = 0, capex = 0;
    bool any_spec = false;
    for (size_t i = 0; i < c->ninfo; i++) {
        rv_req *r = c->info[i].req;
        if (r->kind == REQ_EXPLICIT && !in_list(ex, nex, r->cand))
            PUSH(ex, nex, capex, r->cand);
        if (r->kind == REQ_SPEC)
            any_spec = true;
    }
    if (id->base) {
        rv_crit *bc = table_get(t, id->base);
        for (size_t i = 0; bc && i < bc->ninfo; i++) {
            rv_req *r = bc->info[i].req;
            if (r->kind != REQ_EXPLICIT)
                continue;
            rv_cand *ec = rv_cand_for(x, r->cand->link, id);
            if (!in_list(ex, nex, ec))
                PUSH(ex, nex, capex, ec);
        }
    }
    if (nex) {
        c->explicit_mode = true;
        for (size_t i = 0; i < nex; i++) {
            rv_cand *cand = ex[i];
            if (in_list(c->incompat, c->nincompat, cand))
                continue;
            bool ok = true;
            for (size_t k = 0; k < c->ninfo && ok; k++)
                ok = rv_satisfied(x, c->info[k].req, cand);
            if (ok)
                PUSH(c->expl, c->nexpl, cap, cand);
        }
        free(ex);
        return;
    }
    free(ex);
    c->explicit_mode = false;
    if (!any_spec || !id->proj)
        return;
    /* pip's FoundCandidates with prefers_installed: an installed version
     * that every requirement allows (pre-releases included, as pip's
     * get_installed_candidate checks) and that was not ruled out comes
     * first; the index's versions follow, without that version. */
    rv_link *inst = id->proj->inst;
    if (inst && !in_list(c->incompat, c->nincompat, rv_cand_for(x, inst, id))) {
        bool ok = true;
        for (size_t k = 0; k < c->ninfo && ok; k++) {
            rv_req *r = c->info[k].req;
            if (r->kind == REQ_SPEC && r->has_specs)
                ok = specset_contains(r->spec, inst->version, 1);
        }
        if (ok) {
            size_t capf = 0;
            PUSH(c->found, c->nfound, capf, inst);
            c->deferred = true;
            return;
        }
    }
    index_matches(x, c, NULL);
}

/* The index's files for criterion c (pip's iter_index_candidate_infos
 * after the specifier filter), appended to c->found, leaving out version
 * skip (the installed one, already there). */
static void index_matches(rv_ctx *x, rv_crit *c, const pyti_version *skip)
{
    rv_ident *id = c->id;
    if (!rv_project_load(x, id->proj))
        return;
    rv_project *p = id->proj;
    /* The merged SpecifierSet's filter (packaging 21.3, as pip vendors
     * it): with clauses, pre-releases only if some clause names one (or
     * --pre); without any clause, final releases, or every pre-release if
     * there is no final release at all. */
    bool has_specs = false, pre_ok = x->o.allow_prereleases, pinned = false;
    for (size_t i = 0; i < c->ninfo; i++) {
        rv_req *r = c->info[i].req;
        if (r->kind != REQ_SPEC)
            continue;
        has_specs |= r->has_specs;
        pre_ok |= r->pre_ok;
        pinned |= r->exact;
    }
    bool *pass = xcalloc(p->nlinks + 1, sizeof *pass);
    bool any_final = false;
    for (size_t i = 0; i < p->nlinks; i++) {
        rv_link *l = p->links[i];
        bool ok = true;
        for (size_t k = 0; k < c->ninfo && ok; k++) {
            rv_req *r = c->info[k].req;
            if (r->kind == REQ_SPEC && r->has_specs)
                ok = specset_contains(r->spec, l->version, pre_ok ? 1 : 0);
        }
        pass[i] = ok;
        if (ok && !l->pre)
            any_final = true;
    }
    if (!has_specs && !pre_ok)
        for (size_t i = 0; i < p->nlinks; i++)
            if (p->links[i]->pre && any_final)
                pass[i] = false;
    /* PEP 592: yanked files only when everything left is yanked and a
     * clause pins the version (== without .*, or ===). */
    bool all_yanked = true;
    for (size_t i = 0; i < p->nlinks; i++)
        if (pass[i] && !p->links[i]->yanked)
            all_yanked = false;
    size_t capf = c->nfound; /* a deferred list holds one link, in an array of 8 */
    if (capf)
        capf = 8;
    for (size_t i = 0; i < p->nlinks; i++) {
        if (!pass[i])
            continue;
        if (p->links[i]->yanked && !(all_yanked && pinned))
            continue;
        if (skip && version_compare(p->links[i]->version, skip) == 0)
            continue;
        PUSH(c->found, c->nfound, capf, p->links[i]);
    }
    free(pass);
}

static bool pin_pinned_clause(const rv_req *r);

/* Iterating a criterion's candidates (pip's FoundCandidates): per
 * version the best file whose metadata is usable; a version is done once
 * a candidate was produced for it, even one known to be incompatible. */
typedef struct rv_iter {
    const rv_crit *c;
    size_t i;
    const pyti_version *last;
} rv_iter;

static rv_cand *crit_next(rv_ctx *x, rv_iter *it)
{
    const rv_crit *c = it->c;
    if (c->explicit_mode)
        return it->i < c->nexpl ? c->expl[it->i++] : NULL;
    for (;;) {
        if (it->i >= c->nfound) {
            if (!c->deferred)
                break;
            /* Past the installed version: now the index's. The list is a
             * cache of what find_matches would have listed, the same for
             * every state sharing the criterion. */
            rv_crit *m = (rv_crit *)c;
            m->deferred = false;
            index_matches(x, m, m->found[0]->version);
            if (x->fatal)
                return NULL;
            continue;
        }
        rv_link *l = c->found[it->i++];
        if (it->last && version_compare(it->last, l->version) == 0)
            continue;
        int m = rv_link_meta(x, l);
        if (x->fatal)
            return NULL;
        if (m != META_OK)
            continue;
        it->last = l->version;
        rv_cand *cand = rv_cand_for(x, l, c->id);
        if (in_list(c->incompat, c->nincompat, cand))
            continue;
        return cand;
    }
    return NULL;
}

static bool crit_empty(rv_ctx *x, const rv_crit *c)
{
    rv_iter it = {c, 0, NULL};
    return crit_next(x, &it) == NULL;
}

static rv_crit *crit_new(rv_ident *id)
{
    rv_crit *c = xcalloc(1, sizeof *c);
    c->refs = 1;
    c->id = id;
    return c;
}

/* resolvelib's _add_to_criteria. On a conflict returns false and hands
 * the conflicting criterion's information to *conf (malloc'd). */
static bool add_to_criteria(rv_ctx *x, rv_table *t, rv_req *req, rv_cand *parent,
                            rv_info **conf, size_t *nconf)
{
    rv_crit *old = table_get(t, req->id);
    rv_crit *c = crit_new(req->id);
    size_t n = old ? old->ninfo : 0;
    c->info = xmalloc((n + 1) * sizeof *c->info);
    if (n)
        memcpy(c->info, old->info, n * sizeof *c->info);
    c->info[n].req = req;
    c->info[n].parent = parent;
    c->ninfo = n + 1;
    if (old && old->nincompat) {
        c->incompat = xmalloc(old->nincompat * sizeof *c->incompat);
        memcpy(c->incompat, old->incompat, old->nincompat * sizeof *c->incompat);
        c->nincompat = old->nincompat;
    }
    find_matches(x, t, c);
    if (x->fatal || crit_empty(x, c)) {
        if (conf) {
            *conf = c->info;
            *nconf = c->ninfo;
            c->info = NULL;
        }
        crit_unref(c);
        return false;
    }
    table_set(t, c);
    return true;
}

/* ---- states ---- */

static rv_state *state_copy(const rv_state *s)
{
    rv_state *n = xcalloc(1, sizeof *n);
    table_copy(&n->crit, &s->crit);
    n->nmap = n->capmap = s->nmap;
    if (s->nmap) {
        n->map_id = xmalloc(s->nmap * sizeof *n->map_id);
        n->map_cand = xmalloc(s->nmap * sizeof *n->map_cand);
        memcpy(n->map_id, s->map_id, s->nmap * sizeof *n->map_id);
        memcpy(n->map_cand, s->map_cand, s->nmap * sizeof *n->map_cand);
    }
    if (s->ncauses) {
        n->causes = xmalloc(s->ncauses * sizeof *n->causes);
        memcpy(n->causes, s->causes, s->ncauses * sizeof *n->causes);
        n->ncauses = s->ncauses;
    }
    return n;
}

static void state_free(rv_state *s)
{
    if (!s)
        return;
    table_free(&s->crit);
    free(s->map_id);
    free(s->map_cand);
    free(s->causes);
    free(s);
}

static rv_cand *state_pin(const rv_state *s, const rv_ident *id)
{
    for (size_t i = 0; i < s->nmap; i++)
        if (s->map_id[i] == id)
            return s->map_cand[i];
    return NULL;
}

/* mapping.pop(name); mapping[name] = cand */
static void state_set_pin(rv_state *s, rv_ident *id, rv_cand *c)
{
    for (size_t i = 0; i < s->nmap; i++)
        if (s->map_id[i] == id) {
            memmove(s->map_id + i, s->map_id + i + 1, (s->nmap - i - 1) * sizeof *s->map_id);
            memmove(s->map_cand + i, s->map_cand + i + 1,
                    (s->nmap - i - 1) * sizeof *s->map_cand);
            s->nmap--;
            break;
        }
    if (s->nmap == s->capmap) {
        s->capmap = s->capmap ? s->capmap * 2 : 16;
        s->map_id = xreallocarray(s->map_id, s->capmap, sizeof *s->map_id);
        s->map_cand = xreallocarray(s->map_cand, s->capmap, sizeof *s->map_cand);
    }
    s->map_id[s->nmap] = id;
    s->map_cand[s->nmap++] = c;
}

static void push_state(rv_ctx *x, rv_state *s) { PUSH(x->states, x->nstates, x->capstates, s); }

static rv_state *top(rv_ctx *x) { return x->states[x->nstates - 1]; }

static bool pin_satisfying(rv_ctx *x, const rv_state *s, const rv_crit *c)
{
    rv_cand *pin = state_pin(s, c->id);
    if (!pin)
        return false;
    for (size_t i = 0; i < c->ninfo; i++)
        if (!rv_satisfied(x, c->info[i].req, pin))
            return false;
    return true;
}

/* ---- pip's get_preference ---- */

typedef struct pref {
    bool not_rp, delay, not_pinned, not_cause;
    double depth, requested;
    bool not_unfree;
    const char *name;
} pref;

static bool pin_pinned_clause(const rv_req *r) { return r->kind == REQ_SPEC && r->pinned; }

static pref preference(rv_ctx *x, const rv_state *s, rv_crit *c)
{
    pref p = {0};
    rv_ident *id = c->id;
    bool pinned = false, unfree = false;
    for (size_t i = 0; i < c->ninfo; i++) {
        const rv_req *r = c->info[i].req;
        if (pin_pinned_clause(r))
            pinned = true;
        if (r->kind == REQ_SPEC && r->has_specs)
            unfree = true;
    }
    double depth;
    if (isinf(id->requested)) {
        depth = INFINITY;
        for (size_t i = 0; i < c->ninfo; i++) {
            const rv_cand *par = c->info[i].parent;
            double d = par ? par->id->depth : 0.0;
            if (d < depth)
                depth = d;
        }
        depth += 1.0;
    } else {
        depth = 1.0;
    }
    id->depth = depth;
    bool cause = false;
    for (size_t i = 0; i < s->ncauses && !cause; i++)
        if (s->causes[i].req->id == id || (s->causes[i].parent && s->causes[i].parent->id == id))
            cause = true;
    p.not_rp = !id->python;
    p.delay = strcmp(id->str, "setuptools") == 0;
    p.not_pinned = !pinned;
    p.not_cause = !cause;
    p.depth = depth;
    p.requested = id->requested;
    p.not_unfree = !unfree;
    p.name = id->str;
    return p;
}

static int pref_cmp(const pref *a, const pref *b)
{
#define CMPB(f) if (a->f != b->f) return a->f ? 1 : -1
#define CMPD(f) if (a->f != b->f) return a->f < b->f ? -1 : 1
    CMPB(not_rp);
    CMPB(delay);
    CMPB(not_pinned);
    CMPB(not_cause);
    CMPD(depth);
    CMPD(requested);
    CMPB(not_unfree);
#undef CMPB
#undef CMPD
    return strcmp(a->name, b->name);
}

/* ---- the resolution loop (resolvelib's Resolution) ---- */

typedef struct causes {
    rv_info *v;
    size_t n, cap;
} causes;

static void causes_add(causes *cs, const rv_info *info, size_t n)
{
    for (size_t i = 0; i < n; i++)
        PUSH(cs->v, cs->n, cs->cap, info[i]);
}

/* _attempt_to_pin_criterion: true when pinned; otherwise the causes of
 * every candidate's failure are appended to cs. */
static bool attempt_pin(rv_ctx *x, rv_ident *id, causes *cs)
{
    rv_state *s = top(x);
    rv_crit *c = table_get(&s->crit, id);
    c->refs++; /* the loop iterates it while the state changes */
    rv_iter it = {c, 0, NULL};
    rv_cand *cand;
    bool pinned = false;
    while ((cand = crit_next(x, &it))) {
        rv_cand_deps(x, cand);
        rv_table nt;
        table_copy(&nt, &s->crit);
        bool ok = true;
        for (size_t i = 0; i < cand->ndeps; i++) {
            rv_info *conf = NULL;
            size_t nconf = 0;
            if (!add_to_criteria(x, &nt, cand->deps[i], cand, &conf, &nconf)) {
                if (!x->fatal)
                    causes_add(cs, conf, nconf);
                free(conf);
                ok = false;
                break;
            }
        }
        if (x->fatal) {
            table_free(&nt);
            break;
        }
        if (!ok) {
            table_free(&nt);
            continue;
        }
        table_free(&s->crit);
        s->crit = nt;
        state_set_pin(s, id, cand);
        pinned = true;
        break;
    }
    crit_unref(c);
    return pinned;
}

typedef struct incompat_entry {
    rv_ident *id;
    rv_cand **v;
    size_t n;
} incompat_entry;

static bool patch_criteria(rv_ctx *x, incompat_entry *ents, size_t nents)
{
    rv_state *s = top(x);
    for (size_t e = 0; e < nents; e++) {
        if (!ents[e].n)
            continue;
        rv_crit *old = table_get(&s->crit, ents[e].id);
        if (!old)
            continue;
        rv_crit *c = crit_new(ents[e].id);
        c->info = xmalloc(old->ninfo * sizeof *c->info);
        memcpy(c->info, old->info, old->ninfo * sizeof *c->info);
        c->ninfo = old->ninfo;
        size_t cap = 0;
        for (size_t i = 0; i < ents[e].n; i++)
            if (!in_list(c->incompat, c->nincompat, ents[e].v[i]))
                PUSH(c->incompat, c->nincompat, cap, ents[e].v[i]);
        for (size_t i = 0; i < old->nincompat; i++)
            if (!in_list(c->incompat, c->nincompat, old->incompat[i]))
                PUSH(c->incompat, c->nincompat, cap, old->incompat[i]);
        find_matches(x, &s->crit, c);
        if (x->fatal || crit_empty(x, c)) {
            crit_unref(c);
            return false;
        }
        table_set(&s->crit, c);
    }
    return true;
}

static bool backtrack(rv_ctx *x)
{
    while (x->nstates >= 3) {
        state_free(x->states[--x->nstates]);
        rv_state *broken = x->states[--x->nstates];
        rv_ident *name = broken->map_id[broken->nmap - 1];
        rv_cand *cand = broken->map_cand[broken->nmap - 1];
        broken->nmap--;
        x->out->backtracks++;
        size_t nents = broken->crit.n + 1;
        incompat_entry *ents = xcalloc(nents, sizeof *ents);
        for (size_t i = 0; i < broken->crit.n; i++) {
            ents[i].id = broken->crit.items[i]->id;
            ents[i].v = broken->crit.items[i]->incompat;
            ents[i].n = broken->crit.items[i]->nincompat;
        }
        ents[nents - 1].id = name;
        ents[nents - 1].v = &cand;
        ents[nents - 1].n = 1;
        push_state(x, state_copy(top(x)));
        bool ok = patch_criteria(x, ents, nents);
        free(ents);
        state_free(broken);
        if (x->fatal)
            return false;
        if (ok)
            return true;
    }
    return false;
}

/* ---- results and explanations ---- */

static char *cand_desc(rv_ctx *x, const rv_cand *c)
{
    if (!c)
        return xstrdup("the request");
    if (!c->link)
        return xasprintf("Python %s", x->pyfull);
    char *v = version_to_string(c->link->version);
    char *s = xasprintf("%s %s", c->id->str, v);
    free(v);
    return s;
}

static int link_version_cmp(const void *a, const void *b)
{
    return version_compare((*(rv_link *const *)a)->version, (*(rv_link *const *)b)->version);
}

static void explain_conflict(rv_ctx *x, const rv_info *cs, size_t n)
{
    pyti_resolution *out = x->out;
    pyti_buf b = PYTI_BUF_INIT;
    /* Requires-Python first: that is what pip reports too. */
    bool python = false;
    for (size_t i = 0; i < n; i++) {
        if (cs[i].req->kind != REQ_PYTHON || rv_satisfied(x, cs[i].req, x->pycand))
            continue;
        char *who = cand_desc(x, cs[i].parent);
        char *spec = specset_to_string(cs[i].req->spec);
        char *line = xasprintf("%s requires Python %s, but the target is Python %s", who, spec,
                               x->pyfull);
        if (!strv_contains(&out->conflicts, line)) {
            strv_push(&out->conflicts, line);
            buf_printf(&b, "%s%s", b.len ? "; " : "", line);
        }
        free(line);
        free(spec);
        free(who);
        python = true;
    }
    if (python) {
        out->explanation = buf_detach(&b);
        return;
    }
    /* Group by identifier, in order of appearance. */
    pyti_strv ids = PYTI_STRV_INIT;
    for (size_t i = 0; i < n; i++)
        strv_push_unique(&ids, cs[i].req->id->str);
    for (size_t g = 0; g < ids.len; g++) {
        pyti_strv lines = PYTI_STRV_INIT;
        rv_ident *id = NULL;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(cs[i].req->id->str, ids.items[g]) != 0)
                continue;
            id = cs[i].req->id;
            char *who = cand_desc(x, cs[i].parent);
            char *line = cs[i].parent ? xasprintf("%s requires %s", who, cs[i].req->text)
                                      : xasprintf("the request is %s", cs[i].req->text);
            strv_push_unique(&lines, line);
            if (!strv_contains(&out->conflicts, line))
                strv_push(&out->conflicts, line);
            free(line);
            free(who);
        }
        if (b.len)
            buf_puts(&b, "; ");
        if (lines.len == 1) {
            /* One requirement nothing satisfies: say what exists. */
            buf_printf(&b, "%s, but no version of %s satisfies it", lines.items[0],
                       id->base ? id->base->str : id->str);
            rv_project *p = id->proj;
            if (p && p->loaded && !p->nfiles) {
                buf_printf(&b, " (the index has no files for %s)", p->name);
            } else if (p && p->loaded) {
                /* Versions ascending, as pip lists them; a version whose
                 * files are all yanked is marked. */
                rv_link **ls = xmalloc((p->nlinks + 1) * sizeof *ls);
                memcpy(ls, p->links, p->nlinks * sizeof *ls);
                qsort(ls, p->nlinks, sizeof *ls, link_version_cmp);
                pyti_strv vs = PYTI_STRV_INIT;
                for (size_t i = 0; i < p->nlinks;) {
                    size_t j = i;
                    bool all_yanked = true;
                    while (j < p->nlinks && version_compare(ls[j]->version, ls[i]->version) == 0)
                        all_yanked &= ls[j++]->yanked;
                    char *v = version_to_string(ls[i]->version);
                    strv_push_owned(&vs, all_yanked ? xasprintf("%s (yanked)", v) : xstrdup(v));
                    free(v);
                    i = j;
                }
                free(ls);
                if (vs.len) {
                    buf_puts(&b, " (available:");
                    for (size_t i = 0; i < vs.len; i++)
                        buf_printf(&b, " %s%s", vs.items[i], i + 1 < vs.len ? "," : "");
                    buf_puts(&b, ")");
                } else {
                    buf_puts(&b, " (no usable files)");
                }
                for (size_t i = 0; i < p->skipped.len && i < 5; i++)
                    buf_printf(&b, "%s%s", i ? ", " : "; skipped: ", p->skipped.items[i]);
                strv_free(&vs);
            }
        } else {
            for (size_t i = 0; i < lines.len; i++)
                buf_printf(&b, "%s%s", i == 0 ? "" : i + 1 == lines.len ? ", but " : ", ",
                           lines.items[i]);
        }
        strv_free(&lines);
    }
    strv_free(&ids);
    out->explanation = buf_detach(&b);
}

static int pin_cmp(const void *a, const void *b)
{
    return strcmp(((const pyti_pin *)a)->name, ((const pyti_pin *)b)->name);
}

static bool route_to_root(const rv_state *s, rv_ident *id, bool *connected, bool *visiting)
{
    if (connected[id->idx])
        return true;
    rv_crit *c = table_get(&s->crit, id);
    if (!c || visiting[id->idx])
        return false;
    visiting[id->idx] = true;
    bool ok = false;
    for (size_t i = 0; i < c->ninfo && !ok; i++) {
        rv_cand *par = c->info[i].parent;
        if (!par) {
            ok = true;
            break;
        }
        /* Only parents that are still pinned count (pip's all_keys). */
        if (state_pin(s, par->id) != par)
            continue;
        if (connected[par->id->idx] || route_to_root(s, par->id, connected, visiting))
            ok = true;
    }
    visiting[id->idx] = false;
    if (ok)
        connected[id->idx] = true;
    return ok;
}

static void build_result(rv_ctx *x)
{
    rv_state *s = top(x);
    pyti_resolution *out = x->out;
    bool *connected = xcalloc(x->nid + 1, sizeof *connected);
    bool *visiting = xcalloc(x->nid + 1, sizeof *visiting);
    for (size_t i = 0; i < s->crit.n; i++)
        route_to_root(s, s->crit.items[i]->id, connected, visiting);
    out->pins = xcalloc(s->nmap + 1, sizeof *out->pins);
    for (size_t i = 0; i < s->nmap; i++) {
        rv_cand *c = s->map_cand[i];
        if (!connected[s->map_id[i]->idx] || !c->link || c->base)
            continue;
        pyti_pin *p = &out->pins[out->npins++];
        p->name = xstrdup(c->link->proj->name);
        p->display_name = xstrdup(c->link->meta.name ? c->link->meta.name : p->name);
        p->version = version_to_string(c->link->version);
        p->metadata_source = xstrdup(c->link->meta.source ? c->link->meta.source : "");
        dist_file_copy(&p->file, rv_link_file(c->link));
        p->installed = c->link->inst;
    }
    /* Extras and who required what, from the criteria of pinned
     * identifiers. */
    for (size_t k = 0; k < s->crit.n; k++) {
        rv_crit *c = s->crit.items[k];
        if (c->id->python || !connected[c->id->idx])
            continue;
        const char *proj = c->id->proj ? c->id->proj->name : NULL;
        pyti_pin *p = NULL;
        for (size_t i = 0; proj && i < out->npins; i++)
            if (strcmp(out->pins[i].name, proj) == 0)
                p = &out->pins[i];
        if (!p)
            continue;
        for (size_t i = 0; i < c->id->extras.len; i++)
            strv_push_unique(&p->extras, c->id->extras.items[i]);
        for (size_t i = 0; i < c->ninfo; i++) {
            rv_cand *par = c->info[i].parent;
            if (par && (state_pin(s, par->id) != par || !connected[par->id->idx]))
                continue;
            if (par && par->link && strcmp(par->link->proj->name, proj) == 0)
                continue; /* an extras candidate needing its own base */
            char *who;
            if (par) {
                char *v = version_to_string(par->link->version);
                who = xasprintf("%s %s", par->link->proj->name, v);
                free(v);
            } else {
                who = xstrdup("<request>");
            }
            strv_push_unique(&p->required_by, who);
            free(who);
        }
    }
    for (size_t i = 0; i < out->npins; i++) {
        strv_sort(&out->pins[i].extras);
        strv_sort(&out->pins[i].required_by);
    }
    qsort(out->pins, out->npins, sizeof *out->pins, pin_cmp);
    free(connected);
    free(visiting);
}

/* ---- entry point ---- */

static void ctx_free(rv_ctx *x)
{
    for (size_t i = 0; i < x->nstates; i++)
        state_free(x->states[i]);
    free(x->states);
    for (size_t i = 0; i < x->nreq; i++) {
        specset_free(x->reqv[i]->spec);
        free(x->reqv[i]->text);
        free(x->reqv[i]);
    }
    free(x->reqv);
    for (size_t i = 0; i < x->ncand; i++) {
        free(x->candv[i]->deps);
        free(x->candv[i]);
    }
    free(x->candv);
    for (size_t i = 0; i < x->nlink; i++) {
        rv_link *l = x->linkv[i];
        version_free(l->version);
        free(l->build_rest);
        dist_metadata_free(&l->meta);
        for (size_t k = 0; k < l->nreqs; k++)
            requirement_free(l->reqs[k]);
        free(l->reqs);
        specset_free(l->requires_python);
        strv_free(&l->extras);
        free(l->xcands);
        free(l);
    }
    free(x->linkv);
    for (size_t i = 0; i < x->nid; i++) {
        free(x->idv[i]->str);
        strv_free(&x->idv[i]->extras);
        free(x->idv[i]);
    }
    free(x->idv);
    for (size_t i = 0; i < x->nproj; i++) {
        free(x->projv[i]->name);
        free(x->projv[i]->links);
        strv_free(&x->projv[i]->skipped);
        free(x->projv[i]);
    }
    free(x->projv);
    hmap_free(&x->projects);
    hmap_free(&x->idents);
    version_free(x->pyver);
}

static pyti_status finish_fatal(rv_ctx *x, pyti_error *err)
{
    pyti_resolution *out = x->out;
    if (x->needs_build) {
        rv_link *l = x->needs_build;
        const pyti_dist_file *f = rv_link_file(l);
        out->outcome = PYTI_RESOLVE_NEEDS_BUILD;
        out->build_project = xstrdup(l->proj->name);
        out->build_version = version_to_string(l->version);
        dist_file_copy(&out->build_file, f);
        out->explanation = xasprintf(
            "%s %s is only available as %s, whose metadata is not static (no PKG-INFO with "
            "Metadata-Version 2.2 or later that declares its dependencies): it needs a PEP 517 "
            "metadata build in the sandbox, and building was not available (--no-build, or no "
            "sandbox)",
            l->proj->name, out->build_version, f->filename);
        return PYTI_OK;
    }
    out->outcome = PYTI_RESOLVE_ERROR;
    out->explanation = xstrdup(x->fatal_err.msg);
    if (err)
        *err = x->fatal_err;
    return x->fatal_code;
}

pyti_status resolve_requirements(const pyti_provider *provider, const pyti_target *target,
                                 const char *const *reqs, size_t nreqs,
                                 const pyti_resolve_options *opts, pyti_resolution *out,
                                 pyti_error *err)
{
    memset(out, 0, sizeof *out);
    rv_ctx x = {0};
    x.p = provider;
    x.t = target;
    if (opts)
        x.o = *opts;
    if (!x.o.max_rounds)
        x.o.max_rounds = 200000;
    if (!x.o.max_steps)
        x.o.max_steps = 5000000;
    rv_req **roots = NULL;
    size_t nroots = 0, caproots = 0;
    x.out = out;
    target_python_full(target, x.pyfull, sizeof x.pyfull);
    snprintf(x.pyshort, sizeof x.pyshort, "%u.%u", target->py_major, target->py_minor);
    x.pyver = version_parse(x.pyfull, NULL);

    /* The target Python as an identifier with one candidate. */
    x.python = xcalloc(1, sizeof *x.python);
    x.python->idx = x.nid;
    x.python->str = xstrdup(PYTHON_IDENT);
    x.python->python = true;
    x.python->depth = INFINITY;
    x.python->requested = INFINITY;
    hmap_put(&x.idents, PYTHON_IDENT, x.python);
    PUSH(x.idv, x.nid, x.capid, x.python);
    x.pycand = cand_new(&x, x.python, NULL, NULL);
    x.pycand->deps_done = true;

    pyti_status st = PYTI_OK;
    rv_state *root = xcalloc(1, sizeof *root);
    push_state(&x, root);

    /* Root requirements (pip's collect_root_requirements). */
    for (size_t i = 0; i < nreqs; i++) {
        pyti_error pe;
        pyti_requirement *pr = requirement_parse(reqs[i], &pe);
        if (!pr) {
            st = pyti_error_set(err, PYTI_ERR_USAGE, "requirement '%s': %s", reqs[i], pe.msg);
            goto done;
        }
        if (pr->url) {
            st = pyti_error_set(err, PYTI_ERR_USAGE,
                                "requirement '%s': direct references (name @ URL) are not "
                                "supported by the resolver",
                                reqs[i]);
            requirement_free(pr);
            goto done;
        }
        if (eval_marker(&x, pr, "") != 1) {
            log_info("ignoring %s: markers do not match the target", reqs[i]);
            requirement_free(pr);
            continue;
        }
        rv_req *r = rv_req_from(&x, pr);
        requirement_free(pr);
        PUSH(roots, nroots, caproots, r);
        if (isinf(r->id->requested))
            r->id->requested = (double)i;
    }
    if (provider->prefetch && nroots) {
        const char **names = xcalloc(nroots, sizeof *names);
        size_t n = 0;
        for (size_t i = 0; i < nroots; i++)
            if (!roots[i]->id->proj->inst)
                names[n++] = roots[i]->id->proj->name;
        if (n)
            provider->prefetch(provider->ctx, names, n);
        free(names);
    }
    for (size_t i = 0; i < nroots; i++) {
        rv_req *r = roots[i];
        rv_info *conf = NULL;
        size_t nconf = 0;
        if (!add_to_criteria(&x, &root->crit, r, NULL, &conf, &nconf)) {
            if (x.fatal) {
                free(conf);
                st = finish_fatal(&x, err);
                goto done;
            }
            out->outcome = PYTI_RESOLVE_IMPOSSIBLE;
            explain_conflict(&x, conf, nconf);
            free(conf);
            goto done;
        }
    }
    push_state(&x, state_copy(root));

    for (unsigned long round = 0; round < x.o.max_rounds; round++) {
        out->rounds++;
        rv_state *s = top(&x);
        rv_ident *best = NULL;
        pref bp = {0};
        for (size_t i = 0; i < s->crit.n; i++) {
            rv_crit *c = s->crit.items[i];
            if (pin_satisfying(&x, s, c))
                continue;
            pref p = preference(&x, s, c);
            if (!best || pref_cmp(&p, &bp) < 0) {
                best = c->id;
                bp = p;
            }
        }
        if (!best) {
            out->outcome = PYTI_RESOLVED;
            build_result(&x);
            goto done;
        }
        causes cs = {0};
        bool pinned = attempt_pin(&x, best, &cs);
        if (x.fatal) {
            free(cs.v);
            st = finish_fatal(&x, err);
            goto done;
        }
        if (!pinned) {
            bool ok = backtrack(&x);
            if (x.fatal) {
                free(cs.v);
                st = finish_fatal(&x, err);
                goto done;
            }
            rv_state *t = top(&x);
            free(t->causes);
            t->causes = cs.v;
            t->ncauses = cs.n;
            if (!ok) {
                out->outcome = PYTI_RESOLVE_IMPOSSIBLE;
                explain_conflict(&x, t->causes, t->ncauses);
                goto done;
            }
        } else {
            free(cs.v);
            push_state(&x, state_copy(top(&x)));
        }
    }
    if (x.o.no_fallback) {
        out->outcome = PYTI_RESOLVE_TOO_DEEP;
        out->explanation = xasprintf("gave up after %lu rounds of resolution (the "
                                     "dependencies are too complex to explore)",
                                     x.o.max_rounds);
        goto done;
    }
    log_info("pip's algorithm did not finish in %lu rounds; solving with PubGrub",
             x.o.max_rounds);
    out->fallback = true;
    if (!rv_pubgrub(&x, roots, nroots, x.o.max_steps))
        st = finish_fatal(&x, err);
done:
    free(roots);
    ctx_free(&x);
    return st;
}

static json_t *file_json(const pyti_dist_file *f)
{
    json_t *j = json_object();
    json_set_text(j, "filename", f->filename);
    json_set_text(j, "url", f->url);
    json_t *h = json_object();
    if (f->sha256)
        json_set_text(h, "sha256", f->sha256);
    if (f->sha384)
        json_set_text(h, "sha384", f->sha384);
    if (f->sha512)
        json_set_text(h, "sha512", f->sha512);
    json_object_set_new(j, "hashes", h);
    json_object_set_new(j, "requires_python",
                        f->requires_python ? json_text(f->requires_python) : json_null());
    json_object_set_new(j, "yanked", json_boolean(f->yanked));
    if (f->yanked)
        json_object_set_new(j, "yanked_reason",
                            f->yanked_reason ? json_text(f->yanked_reason) : json_null());
    json_object_set_new(j, "size", f->size >= 0 ? json_integer(f->size) : json_null());
    json_object_set_new(j, "index", f->index_url ? json_text(f->index_url) : json_null());
    return j;
}

static json_t *strv_json(const pyti_strv *v)
{
    json_t *a = json_array();
    for (size_t i = 0; i < v->len; i++)
        json_array_append_new(a, json_text(v->items[i]));
    return a;
}

json_t *resolution_to_json(const pyti_resolution *r)
{
    json_t *j = json_object();
    json_object_set_new(j, "outcome", json_string(resolve_outcome_name(r->outcome)));
    json_object_set_new(j, "algorithm", json_string(r->fallback ? "pubgrub" : "pip"));
    json_t *pins = json_array();
    for (size_t i = 0; i < r->npins; i++) {
        const pyti_pin *p = &r->pins[i];
        json_t *o = json_object();
        json_set_text(o, "name", p->name);
        json_set_text(o, "display_name", p->display_name);
        json_set_text(o, "version", p->version);
        json_object_set_new(o, "extras", strv_json(&p->extras));
        json_object_set_new(o, "required_by", strv_json(&p->required_by));
        json_set_text(o, "metadata_source", p->metadata_source);
        json_object_set_new(o, "installed", json_boolean(p->installed));
        json_object_set_new(o, "file", p->installed ? json_null() : file_json(&p->file));
        json_array_append_new(pins, o);
    }
    json_object_set_new(j, "resolved", pins);
    json_object_set_new(j, "explanation", r->explanation ? json_text(r->explanation) : json_null());
    json_object_set_new(j, "conflicts", strv_json(&r->conflicts));
    if (r->outcome == PYTI_RESOLVE_NEEDS_BUILD) {
        json_t *nb = json_object();
        json_set_text(nb, "name", r->build_project);
        json_set_text(nb, "version", r->build_version);
        json_object_set_new(nb, "file", file_json(&r->build_file));
        json_object_set_new(j, "needs_build", nb);
    } else {
        json_object_set_new(j, "needs_build", json_null());
    }
    json_t *st = json_object();
    json_object_set_new(st, "rounds", json_integer((json_int_t)r->rounds));
    json_object_set_new(st, "backtracks", json_integer((json_int_t)r->backtracks));
    json_object_set_new(st, "metadata_reads", json_integer((json_int_t)r->metadata_reads));
    json_object_set_new(st, "projects", json_integer((json_int_t)r->projects));
    json_object_set_new(j, "stats", st);
    return j;
}
