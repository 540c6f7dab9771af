/* test_resolver.c — unit tests for src/index/resolver.c on synthetic
 * in-memory indexes: newest versions and best wheels, conflicts and their
 * explanations, deep backtracking, extras, markers, yanked files,
 * Requires-Python (index and metadata), pre-releases, circular
 * dependencies, many versions, metadata that needs a build, inconsistent
 * metadata, and the round limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/buf.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "index/resolver.h"
#include "index/tags.h"
#include "pkg/name.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    YANKED = 1,      /* the index marks the file yanked */
    NEEDS_BUILD = 2, /* an sdist without static metadata */
    INDEX_RP = 4,    /* requires-python is also on the index page */
    BAD_NAME = 8,    /* the metadata names another project */
    BAD_VERSION = 16 /* the metadata gives another version */
};

typedef struct mfile {
    const char *filename;
    const char *deps;   /* Requires-Dist lines separated by '|' */
    const char *rp;     /* Requires-Python of the metadata */
    const char *extras; /* Provides-Extra, comma-separated */
    unsigned flags;
} mfile;

typedef struct mproj {
    char *name;
    pyti_dist_file *files;
    size_t n;
} mproj;

typedef struct mindex {
    const mfile *files;
    size_t nfiles;
    mproj *projects;
    size_t nprojects;
    unsigned long meta_calls, list_calls;
} mindex;

static const mfile *find_mfile(const mindex *m, const char *filename)
{
    for (size_t i = 0; i < m->nfiles; i++)
        if (strcmp(m->files[i].filename, filename) == 0)
            return &m->files[i];
    return NULL;
}

static pyti_status m_list(void *ctx, const char *project, const pyti_dist_file **files,
                          size_t *nfiles, pyti_error *err)
{
    mindex *m = ctx;
    (void)err;
    m->list_calls++;
    for (size_t i = 0; i < m->nprojects; i++)
        if (strcmp(m->projects[i].name, project) == 0) {
            *files = m->projects[i].files;
            *nfiles = m->projects[i].n;
            return PYTI_OK;
        }
    m->projects = xreallocarray(m->projects, m->nprojects + 1, sizeof *m->projects);
    mproj *p = &m->projects[m->nprojects++];
    memset(p, 0, sizeof *p);
    p->name = xstrdup(project);
    for (size_t i = 0; i < m->nfiles; i++) {
        const mfile *mf = &m->files[i];
        pyti_dist_filename df;
        if (dist_filename_parse(mf->filename, &df, NULL) != PYTI_OK)
            continue;
        char *norm = name_normalize(df.name);
        bool mine = strcmp(norm, project) == 0;
        free(norm);
        dist_filename_free(&df);
        if (!mine)
            continue;
        p->files = xreallocarray(p->files, p->n + 1, sizeof *p->files);
        pyti_dist_file *f = &p->files[p->n++];
        memset(f, 0, sizeof *f);
        f->filename = xstrdup(mf->filename);
        f->url = xasprintf("https://example.invalid/files/%s", mf->filename);
        f->yanked = mf->flags & YANKED;
        if (f->yanked)
            f->yanked_reason = xstrdup("broken");
        if ((mf->flags & INDEX_RP) && mf->rp)
            f->requires_python = xstrdup(mf->rp);
        f->size = -1;
    }
    *files = p->files;
    *nfiles = p->n;
    return PYTI_OK;
}

static void split_into(pyti_strv *out, const char *s, char sep)
{
    if (!s)
        return;
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, sep);
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char *item = xstrndup(p, n);
        char *t = str_trim(item);
        if (*t)
            strv_push(out, t);
        free(item);
        p += n + (e ? 1 : 0);
    }
}

static pyti_status m_meta(void *ctx, const char *project, const pyti_dist_file *f,
                          pyti_dist_metadata *out, bool *needs_build, pyti_error *err)
{
    mindex *m = ctx;
    (void)project;
    (void)err;
    m->meta_calls++;
    memset(out, 0, sizeof *out);
    const mfile *mf = find_mfile(m, f->filename);
    assert_non_null(mf);
    if (mf->flags & NEEDS_BUILD) {
        *needs_build = true;
        return PYTI_OK;
    }
    pyti_dist_filename df;
    assert_int_equal(dist_filename_parse(mf->filename, &df, NULL), PYTI_OK);
    out->name = xstrdup(mf->flags & BAD_NAME ? "someone-else" : df.name);
    out->version = xstrdup(mf->flags & BAD_VERSION ? "99.0" : df.version);
    dist_filename_free(&df);
    if (mf->rp)
        out->requires_python = xstrdup(mf->rp);
    split_into(&out->requires_dist, mf->deps, '|');
    split_into(&out->provides_extra, mf->extras, ',');
    out->source = xstrdup("memory");
    return PYTI_OK;
}

static void mindex_free(mindex *m)
{
    for (size_t i = 0; i < m->nprojects; i++) {
        for (size_t k = 0; k < m->projects[i].n; k++)
            dist_file_free(&m->projects[i].files[k]);
        free(m->projects[i].files);
        free(m->projects[i].name);
    }
    free(m->projects);
    memset(m, 0, sizeof *m);
}

static pyti_target target;
/* Second pass: every scenario solved by the PubGrub fallback directly. */
static bool fallback_mode;

static int setup(void **state)
{
    (void)state;
    pyti_error err;
    assert_int_equal(target_init_host(&target, "3.11.2", &err), PYTI_OK);
    /* Independent of the machine running the tests. */
    snprintf(target.machine, sizeof target.machine, "x86_64");
    target.libc = PYTI_LIBC_GLIBC;
    target.libc_major = 2;
    target.libc_minor = 36;
    target_compute_tags(&target);
    target_update_env(&target);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    target_free(&target);
    return 0;
}

/* Resolves reqs (separated by ';;' is awkward: a NULL-terminated list). */
static pyti_status run_opts(const mfile *files, size_t n, const char *const *reqs,
                            const pyti_resolve_options *o, pyti_resolution *res, mindex *keep)
{
    mindex m = {files, n, NULL, 0, 0, 0};
    pyti_provider p = {&m, m_list, m_meta, NULL};
    pyti_resolve_options fo = {0};
    if (o)
        fo = *o;
    if (fallback_mode && !fo.no_fallback && !fo.max_rounds)
        fo.max_rounds = 1;
    o = &fo;
    size_t nreqs = 0;
    while (reqs[nreqs])
        nreqs++;
    pyti_error err;
    pyti_status st = resolve_requirements(&p, &target, reqs, nreqs, o, res, &err);
    if (keep) {
        keep->meta_calls = m.meta_calls;
        keep->list_calls = m.list_calls;
    }
    mindex_free(&m);
    return st;
}

#define RUN(files, res, ...)                                                        \
    do {                                                                            \
        const char *const reqs_[] = {__VA_ARGS__, NULL};                            \
        assert_int_equal(run_opts(files, sizeof files / sizeof files[0], reqs_, NULL, \
                                  res, NULL),                                       \
                         PYTI_OK);                                                  \
    } while (0)

static char *pins_text(const pyti_resolution *r)
{
    pyti_buf b = PYTI_BUF_INIT;
    for (size_t i = 0; i < r->npins; i++)
        buf_printf(&b, "%s%s==%s", i ? " " : "", r->pins[i].name, r->pins[i].version);
    return buf_detach(&b);
}

#define assert_pins(res, want) assert_pins_(res, want, __LINE__)
static void assert_pins_(const pyti_resolution *r, const char *want, int line)
{
    if (r->outcome != PYTI_RESOLVED)
        fail_msg("line %d: outcome %s (%s), want %s", line, resolve_outcome_name(r->outcome),
                 r->explanation ? r->explanation : "", want);
    char *got = pins_text(r);
    if (strcmp(got, want) != 0)
        fail_msg("line %d: resolved '%s', want '%s'", line, got, want);
    free(got);
}

#define assert_impossible(res, sub) assert_impossible_(res, sub, __LINE__)
static void assert_impossible_(const pyti_resolution *r, const char *sub, int line)
{
    if (r->outcome != PYTI_RESOLVE_IMPOSSIBLE) {
        char *got = pins_text(r);
        fail_msg("line %d: outcome %s ('%s'), want impossible", line,
                 resolve_outcome_name(r->outcome), got);
    }
    if (!r->explanation || !*r->explanation)
        fail_msg("line %d: no explanation", line);
    if (fallback_mode) /* PubGrub words it its own way */
        return;
    if (sub && (!r->explanation || !strstr(r->explanation, sub)))
        fail_msg("line %d: explanation '%s' lacks '%s'", line,
                 r->explanation ? r->explanation : "(null)", sub);
}

/* ---- tests ---- */

static void test_newest_and_chain(void **state)
{
    (void)state;
    static const mfile f[] = {
        {"a-1.0-py3-none-any.whl", "b>=1", NULL, NULL, 0},
        {"a-2.0-py3-none-any.whl", "b>=2", NULL, NULL, 0},
        {"b-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"b-2.0-py3-none-any.whl", "c", NULL, NULL, 0},
        {"b-2.1-py3-none-any.whl", "c<2", NULL, NULL, 0},
        {"c-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"c-2.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"unrelated-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
    };
    pyti_resolution r;
    RUN(f, &r, "a");
    assert_pins(&r, "a==2.0 b==2.1 c==1.0");
    assert_string_equal(r.pins[0].file.filename, "a-2.0-py3-none-any.whl");
    assert_int_equal(r.pins[1].required_by.len, 1);
    assert_string_equal(r.pins[1].required_by.items[0], "a 2.0");
    resolution_free(&r);
    RUN(f, &r, "a<2", "C>1");
    assert_pins(&r, "a==1.0 b==2.0 c==2.0");
    resolution_free(&r);
}

static void test_conflict_explained(void **state)
{
    (void)state;
    static const mfile f[] = {
        {"a-1.0-py3-none-any.whl", "b<2", NULL, NULL, 0},
        {"c-3.1-py3-none-any.whl", "b>=2", NULL, NULL, 0},
        {"b-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"b-2.0-py3-none-any.whl", NULL, NULL, NULL, 0},
    };
    pyti_resolution r;
    RUN(f, &r, "a", "c");
    assert_impossible(&r, "a 1.0 requires b<2, but c 3.1 requires b>=2");
    assert_true(r.conflicts.len >= 2);
    if (fallback_mode) {
        assert_true(strv_contains(&r.conflicts, "a 1.0 requires b<2"));
        assert_true(strv_contains(&r.conflicts, "c 3.1 requires b>=2"));
    }
    resolution_free(&r);
    /* Two requests that contradict each other. */
    RUN(f, &r, "b<2", "b>=2");
    assert_impossible(&r, "the request is b<2, but the request is b>=2");
    resolution_free(&r);
    /* Nothing matches at all: say what exists. */
    RUN(f, &r, "b>5");
    assert_impossible(&r, "no version of b satisfies it (available: 1.0, 2.0)");
    resolution_free(&r);
    RUN(f, &r, "nosuchproject");
    assert_impossible(&r, "no version of nosuchproject");
    resolution_free(&r);
}

static void test_backtracking(void **state)
{
    (void)state;
    /* The newest a needs a b that conflicts with c: a must go back. */
    static const mfile f[] = {
        {"a-1.0-py3-none-any.whl", "b==1.0", NULL, NULL, 0},
        {"a-2.0-py3-none-any.whl", "b==2.0", NULL, NULL, 0},
        {"a-3.0-py3-none-any.whl", "b==3.0", NULL, NULL, 0},
        {"b-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"b-2.0-py3-none-any.whl", "d<1", NULL, NULL, 0},
        {"b-3.0-py3-none-any.whl", "d<1", NULL, NULL, 0},
        {"c-1.0-py3-none-any.whl", "d>=1", NULL, NULL, 0},
        {"d-0.5-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"d-1.5-py3-none-any.whl", NULL, NULL, NULL, 0},
    };
    pyti_resolution r;
    RUN(f, &r, "a", "c");
    assert_pins(&r, "a==1.0 b==1.0 c==1.0 d==1.5");
    assert_true(fallback_mode || r.backtracks > 0);
    resolution_free(&r);
}

/* x has N versions; x i needs y==i; only y 1 works with z, which every
 * other y excludes: the resolver walks back N-1 times. */
static void test_deep_backtracking(void **state)
{
    (void)state;
    enum { N = 60 };
    static mfile f[3 * N + 2];
    static char names[3 * N][64], deps[3 * N][64];
    size_t n = 0;
    for (int i = 1; i <= N; i++) {
        snprintf(names[n], 64, "x-%d.0-py3-none-any.whl", i);
        snprintf(deps[n], 64, "y==%d.0", i);
        f[n] = (mfile){names[n], deps[n], NULL, NULL, 0};
        n++;
        snprintf(names[n], 64, "y-%d.0-py3-none-any.whl", i);
        snprintf(deps[n], 64, i == 1 ? "z>=2" : "z<2");
        f[n] = (mfile){names[n], deps[n], NULL, NULL, 0};
        n++;
    }
    f[n++] = (mfile){"z-1.0-py3-none-any.whl", NULL, NULL, NULL, 0};
    f[n++] = (mfile){"z-2.0-py3-none-any.whl", NULL, NULL, NULL, 0};
    f[n++] = (mfile){"top-1.0-py3-none-any.whl", "x|z>=2", NULL, NULL, 0};
    const char *const reqs[] = {"top", NULL};
    pyti_resolution r;
    assert_int_equal(run_opts(f, n, reqs, NULL, &r, NULL), PYTI_OK);
    assert_pins(&r, "top==1.0 x==1.0 y==1.0 z==2.0");
    resolution_free(&r);
}

static void test_extras(void **state)
{
    (void)state;
    static const mfile f[] = {
        {"a-1.0-py3-none-any.whl",
         "b|c>=2; extra == \"fast\"|d; extra == 'docs' or extra == 'all'|e; python_version < '3'",
         NULL, "fast,docs,all", 0},
        {"b-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"c-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"c-2.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"d-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"e-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"f-1.0-py3-none-any.whl", "a[docs]", NULL, NULL, 0},
    };
    pyti_resolution r;
    RUN(f, &r, "a");
    assert_pins(&r, "a==1.0 b==1.0");
    resolution_free(&r);
    RUN(f, &r, "a[fast]");
    assert_pins(&r, "a==1.0 b==1.0 c==2.0");
    assert_int_equal(r.pins[0].extras.len, 1);
    assert_string_equal(r.pins[0].extras.items[0], "fast");
    resolution_free(&r);
    RUN(f, &r, "A[FAST,all]");
    assert_pins(&r, "a==1.0 b==1.0 c==2.0 d==1.0");
    resolution_free(&r);
    RUN(f, &r, "f", "a[nosuchextra]");
    assert_pins(&r, "a==1.0 b==1.0 d==1.0 f==1.0");
    resolution_free(&r);
}

static void test_extras_same_version(void **state)
{
    (void)state;
    /* a[x] and a[y] must agree on one version of a. */
    static const mfile f[] = {
        {"a-1.0-py3-none-any.whl", "b; extra == 'x'|c; extra == 'y'", NULL, "x,y", 0},
        {"a-2.0-py3-none-any.whl", "b; extra == 'x'|c<1; extra == 'y'", NULL, "x,y", 0},
        {"b-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"c-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
    };
    pyti_resolution r;
    RUN(f, &r, "a[x]", "a[y]");
    assert_pins(&r, "a==1.0 b==1.0 c==1.0");
    resolution_free(&r);
}

static void test_markers(void **state)
{
    (void)state;
    static const mfile f[] = {
        {"a-1.0-py3-none-any.whl",
         "win; sys_platform == 'win32'|lin; sys_platform == 'linux'|"
         "old; python_version < '3.8'|new; python_version >= '3.11'|"
         "arm; platform_machine == 'aarch64'|cp; implementation_name == 'cpython'",
         NULL, NULL, 0},
        {"win-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"lin-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"old-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"new-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"arm-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"cp-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
    };
    pyti_resolution r;
    RUN(f, &r, "a", "win; os_name == 'nt'", "old; python_version < '3'");
    assert_pins(&r, "a==1.0 cp==1.0 lin==1.0 new==1.0");
    resolution_free(&r);
    /* For Python 3.7 the markers change. */
    pyti_error err;
    assert_int_equal(target_set_python(&target, "3.7", &err), PYTI_OK);
    RUN(f, &r, "a");
    assert_pins(&r, "a==1.0 cp==1.0 lin==1.0 old==1.0");
    resolution_free(&r);
    assert_int_equal(target_set_python(&target, "3.11.2", &err), PYTI_OK);
}

static void test_yanked(void **state)
{
    (void)state;
    static const mfile f[] = {
        {"a-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"a-2.0-py3-none-any.whl", NULL, NULL, NULL, YANKED},
        {"b-1.0-py3-none-any.whl", NULL, NULL, NULL, YANKED},
    };
    pyti_resolution r;
    RUN(f, &r, "a");
    assert_pins(&r, "a==1.0");
    resolution_free(&r);
    RUN(f, &r, "a==2.0");
    assert_pins(&r, "a==2.0");
    assert_true(r.pins[0].file.yanked);
    resolution_free(&r);
    RUN(f, &r, "a>=2.0");
    assert_impossible(&r, "a>=2.0");
    resolution_free(&r);
    RUN(f, &r, "b===1.0");
    assert_pins(&r, "b==1.0");
    resolution_free(&r);
    RUN(f, &r, "b");
    assert_impossible(&r, NULL);
    resolution_free(&r);
    RUN(f, &r, "b==1.*");
    assert_impossible(&r, NULL);
    resolution_free(&r);
}

static void test_requires_python(void **state)
{
    (void)state;
    static const mfile f[] = {
        /* 3.0 announces its Requires-Python on the index: skipped early. */
        {"a-3.0-py3-none-any.whl", NULL, ">=3.12", NULL, INDEX_RP},
        /* 2.0 only says it in its metadata: a conflict when tried. */
        {"a-2.0-py3-none-any.whl", NULL, ">=3.12", NULL, 0},
        {"a-1.0-py3-none-any.whl", NULL, ">=3.8", NULL, 0},
        {"b-1.0-py3-none-any.whl", NULL, "<3", NULL, 0},
    };
    pyti_resolution r;
    RUN(f, &r, "a");
    assert_pins(&r, "a==1.0");
    resolution_free(&r);
    RUN(f, &r, "a>=2");
    assert_impossible(&r, "a 2.0 requires Python >=3.12, but the target is Python 3.11.2");
    resolution_free(&r);
    RUN(f, &r, "b");
    assert_impossible(&r, "requires Python <3");
    resolution_free(&r);
    pyti_error err;
    assert_int_equal(target_set_python(&target, "3.12", &err), PYTI_OK);
    RUN(f, &r, "a");
    assert_pins(&r, "a==3.0");
    resolution_free(&r);
    assert_int_equal(target_set_python(&target, "3.11.2", &err), PYTI_OK);
}

static void test_prereleases(void **state)
{
    (void)state;
    static const mfile f[] = {
        {"a-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"a-2.0b1-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"b-1.0a1-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"b-1.0a2-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"c-1.0-py3-none-any.whl", "a>=2.0b1", NULL, NULL, 0},
        {"d-1.0.dev1-py3-none-any.whl", NULL, NULL, NULL, 0},
    };
    pyti_resolution r;
    RUN(f, &r, "a");
    assert_pins(&r, "a==1.0");
    resolution_free(&r);
    RUN(f, &r, "a>=1.5");
    assert_impossible(&r, NULL);
    resolution_free(&r);
    RUN(f, &r, "a>=2.0b1");
    assert_pins(&r, "a==2.0b1");
    resolution_free(&r);
    /* Only pre-releases exist: without a specifier pip takes them. */
    RUN(f, &r, "b");
    assert_pins(&r, "b==1.0a2");
    resolution_free(&r);
    /* ... but not with one that names no pre-release. */
    RUN(f, &r, "b>=0.1");
    assert_impossible(&r, NULL);
    resolution_free(&r);
    RUN(f, &r, "c");
    assert_pins(&r, "a==2.0b1 c==1.0");
    resolution_free(&r);
    RUN(f, &r, "d");
    assert_pins(&r, "d==1.0.dev1");
    resolution_free(&r);
    const char *const reqs[] = {"a", NULL};
    pyti_resolve_options o = {.allow_prereleases = true};
    assert_int_equal(run_opts(f, sizeof f / sizeof f[0], reqs, &o, &r, NULL), PYTI_OK);
    assert_pins(&r, "a==2.0b1");
    resolution_free(&r);
}

static void test_circular(void **state)
{
    (void)state;
    static const mfile f[] = {
        {"a-1.0-py3-none-any.whl", "b", NULL, NULL, 0},
        {"b-1.0-py3-none-any.whl", "c", NULL, NULL, 0},
        {"c-1.0-py3-none-any.whl", "a", NULL, NULL, 0},
        {"c-2.0-py3-none-any.whl", "a>1", NULL, NULL, 0},
        {"self-1.0-py3-none-any.whl", "self", NULL, NULL, 0},
    };
    pyti_resolution r;
    RUN(f, &r, "a");
    assert_pins(&r, "a==1.0 b==1.0 c==1.0");
    resolution_free(&r);
    RUN(f, &r, "self");
    assert_pins(&r, "self==1.0");
    resolution_free(&r);
}

static void test_many_versions(void **state)
{
    (void)state;
    enum { N = 1500 };
    mfile *f = xcalloc(N + 1, sizeof *f);
    char (*names)[64] = xcalloc(N, 64);
    for (int i = 0; i < N; i++) {
        snprintf(names[i], 64, "many-%d.%d.%d-py3-none-any.whl", i / 100, (i / 10) % 10, i % 10);
        f[i] = (mfile){names[i], NULL, NULL, NULL, 0};
    }
    const char *const reqs[] = {"many<7,!=6.9.9,>=1", NULL};
    pyti_resolution r;
    mindex m = {0};
    assert_int_equal(run_opts(f, N, reqs, NULL, &r, &m), PYTI_OK);
    assert_pins(&r, "many==6.9.8");
    /* Metadata is only read for what is tried. */
    assert_int_equal(m.meta_calls, 1);
    resolution_free(&r);
    free(names);
    free(f);
}

static void test_wheel_preference(void **state)
{
    (void)state;
    static const mfile f[] = {
        {"w-1.0.tar.gz", NULL, NULL, NULL, 0},
        {"w-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"w-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", NULL, NULL, NULL, 0},
        {"w-1.0-cp311-abi3-manylinux_2_28_x86_64.whl", NULL, NULL, NULL, 0},
        {"w-1.0-cp311-cp311-win_amd64.whl", NULL, NULL, NULL, 0},
        {"w-1.1-cp39-cp39-manylinux1_x86_64.whl", NULL, NULL, NULL, 0},
        {"w-1.1-cp311-cp311-musllinux_1_1_x86_64.whl", NULL, NULL, NULL, 0},
        {"v-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"v-1.0-1-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"v-1.0-2-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"s-1.0.tar.gz", NULL, NULL, NULL, 0},
        {"s-1.0.zip", NULL, NULL, NULL, 0},
    };
    pyti_resolution r;
    RUN(f, &r, "w");
    /* 1.1 has no wheel for this target; of 1.0 the most specific wheel. */
    assert_pins(&r, "w==1.0");
    assert_string_equal(r.pins[0].file.filename,
                        "w-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl");
    resolution_free(&r);
    RUN(f, &r, "v");
    assert_string_equal(r.pins[0].file.filename, "v-1.0-2-py3-none-any.whl");
    resolution_free(&r);
    /* Equal keys: the file listed last wins (pip sorts stably, then
     * reverses). */
    RUN(f, &r, "s");
    assert_string_equal(r.pins[0].file.filename, "s-1.0.zip");
    resolution_free(&r);
}

static void test_needs_build(void **state)
{
    (void)state;
    static const mfile f[] = {
        {"a-1.0-py3-none-any.whl", "legacy", NULL, NULL, 0},
        {"legacy-2.0.tar.gz", NULL, NULL, NULL, NEEDS_BUILD},
        {"legacy-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
    };
    pyti_resolution r;
    RUN(f, &r, "a");
    assert_int_equal(r.outcome, PYTI_RESOLVE_NEEDS_BUILD);
    assert_string_equal(r.build_project, "legacy");
    assert_string_equal(r.build_version, "2.0");
    assert_string_equal(r.build_file.filename, "legacy-2.0.tar.gz");
    assert_non_null(strstr(r.explanation, "PEP 517 metadata build"));
    resolution_free(&r);
    RUN(f, &r, "a", "legacy<2");
    assert_pins(&r, "a==1.0 legacy==1.0");
    resolution_free(&r);
}

static void test_inconsistent_metadata(void **state)
{
    (void)state;
    static const mfile f[] = {
        {"a-3.0-py3-none-any.whl", NULL, NULL, NULL, BAD_NAME},
        {"a-2.0-py3-none-any.whl", NULL, NULL, NULL, BAD_VERSION},
        {"a-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"a-1.0.tar.gz", NULL, NULL, NULL, 0},
    };
    pyti_resolution r;
    RUN(f, &r, "a");
    assert_pins(&r, "a==1.0");
    assert_string_equal(r.pins[0].file.filename, "a-1.0-py3-none-any.whl");
    resolution_free(&r);
}

static void test_sdist_versions(void **state)
{
    (void)state;
    char *v = resolve_sdist_version("foo-bar-1.0.tar.gz", "foo-bar");
    assert_string_equal(v, "1.0");
    free(v);
    v = resolve_sdist_version("Foo_Bar-1.0-1.tar.gz", "foo-bar");
    assert_string_equal(v, "1.0-1");
    free(v);
    v = resolve_sdist_version("foo-2-1.0.zip", "foo-2");
    assert_string_equal(v, "1.0");
    free(v);
    assert_null(resolve_sdist_version("foo-1.0.rar", "foo"));
    assert_null(resolve_sdist_version("bar-1.0.tar.gz", "foo"));
    assert_null(resolve_sdist_version("foo-.tar.gz", "foo"));
}

static void test_too_deep_and_bad_input(void **state)
{
    (void)state;
    if (fallback_mode)
        skip();
    static const mfile f[] = {
        {"a-1.0-py3-none-any.whl", "b", NULL, NULL, 0},
        {"b-1.0-py3-none-any.whl", "c", NULL, NULL, 0},
        {"c-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
    };
    const char *const reqs[] = {"a", NULL};
    pyti_resolve_options o = {.max_rounds = 2, .no_fallback = true};
    pyti_resolution r;
    assert_int_equal(run_opts(f, 3, reqs, &o, &r, NULL), PYTI_OK);
    assert_int_equal(r.outcome, PYTI_RESOLVE_TOO_DEEP);
    resolution_free(&r);
    /* With the fallback the same limit still gives the answer. */
    o.no_fallback = false;
    assert_int_equal(run_opts(f, 3, reqs, &o, &r, NULL), PYTI_OK);
    assert_pins(&r, "a==1.0 b==1.0 c==1.0");
    assert_true(r.fallback);
    resolution_free(&r);
    o.max_steps = 2;
    assert_int_equal(run_opts(f, 3, reqs, &o, &r, NULL), PYTI_OK);
    assert_int_equal(r.outcome, PYTI_RESOLVE_TOO_DEEP);
    resolution_free(&r);
    const char *const bad[] = {"a >=", NULL};
    assert_int_equal(run_opts(f, 3, bad, NULL, &r, NULL), PYTI_ERR_USAGE);
    resolution_free(&r);
    const char *const url[] = {"a @ https://example.invalid/a.whl", NULL};
    assert_int_equal(run_opts(f, 3, url, NULL, &r, NULL), PYTI_ERR_USAGE);
    resolution_free(&r);
    /* A dependency with a URL cannot be satisfied (and says why). */
    static const mfile g[] = {
        {"u-1.0-py3-none-any.whl", "v @ https://example.invalid/v.whl", NULL, NULL, 0},
    };
    const char *const ureq[] = {"u", NULL};
    assert_int_equal(run_opts(g, 1, ureq, NULL, &r, NULL), PYTI_OK);
    assert_impossible(&r, "direct references are not supported");
    resolution_free(&r);
}

/* A case that makes naive backtracking explode: many packages each with
 * many versions, all of which conflict with one late requirement except
 * the oldest. */
static void test_hard_case_finishes(void **state)
{
    (void)state;
    enum { P = 8, V = 12 };
    static mfile f[P * V + 4];
    static char names[P * V][64], deps[P * V][64];
    size_t n = 0;
    for (int p = 0; p < P; p++)
        for (int v = 1; v <= V; v++) {
            snprintf(names[n], 64, "p%d-%d.0-py3-none-any.whl", p, v);
            snprintf(deps[n], 64, v == 1 ? "shared>=2" : "shared<2");
            f[n] = (mfile){names[n], deps[n], NULL, NULL, 0};
            n++;
        }
    f[n++] = (mfile){"shared-1.0-py3-none-any.whl", NULL, NULL, NULL, 0};
    f[n++] = (mfile){"shared-2.0-py3-none-any.whl", NULL, NULL, NULL, 0};
    f[n++] = (mfile){"late-1.0-py3-none-any.whl", "shared>=2", NULL, NULL, 0};
    const char *const reqs[] = {"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "late", NULL};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pyti_resolution r;
    assert_int_equal(run_opts(f, n, reqs, NULL, &r, NULL), PYTI_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_pins(&r, "late==1.0 p0==1.0 p1==1.0 p2==1.0 p3==1.0 p4==1.0 p5==1.0 p6==1.0 "
                    "p7==1.0 shared==2.0");
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("hard case: %lu rounds, %lu backtracks, %.3fs\n", r.rounds, r.backtracks,
                  secs);
    resolution_free(&r);
}


/* Installed distributions (pip's AlreadyInstalledCandidate): preferred
 * when they fit, the index asked only when they do not, backtracked away
 * from like any candidate. */
static pyti_dist_metadata inst_meta(const char *name, const char *version, const char *deps,
                                    const char *extras)
{
    pyti_dist_metadata m = {0};
    m.name = xstrdup(name);
    m.version = xstrdup(version);
    split_into(&m.requires_dist, deps, '|');
    split_into(&m.provides_extra, extras, ',');
    return m;
}

static void run_installed(const mfile *f, size_t nf, pyti_dist_metadata *inst, size_t ninst,
                          const char *req, pyti_resolution *r, mindex *keep)
{
    pyti_resolve_options o = {.installed = inst, .ninstalled = ninst};
    const char *const reqs[] = {req, NULL};
    assert_int_equal(run_opts(f, nf, reqs, &o, r, keep), PYTI_OK);
}

static bool pin_installed(const pyti_resolution *r, const char *name)
{
    for (size_t i = 0; i < r->npins; i++)
        if (strcmp(r->pins[i].name, name) == 0)
            return r->pins[i].installed;
    fail_msg("no pin %s", name);
    return false;
}

static void test_installed(void **state)
{
    (void)state;
    static const mfile f[] = {
        {"a-1.0-py3-none-any.whl", "b>=1", NULL, NULL, 0},
        {"b-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"b-2.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"d-1.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"d-2.0-py3-none-any.whl", NULL, NULL, NULL, 0},
        {"e-1.0-py3-none-any.whl", "b>=1|d>=2", NULL, NULL, 0},
    };
    size_t nf = sizeof f / sizeof f[0];
    pyti_resolution r;
    mindex keep = {0};

    /* b 1.5 is installed and fits: it is used, b's page is never read. */
    pyti_dist_metadata i1[] = {inst_meta("B", "1.5", NULL, NULL)};
    run_installed(f, nf, i1, 1, "a", &r, &keep);
    assert_pins(&r, "a==1.0 b==1.5");
    assert_true(pin_installed(&r, "b"));
    assert_false(pin_installed(&r, "a"));
    assert_null(r.pins[1].file.filename);
    if (!fallback_mode)
        assert_int_equal(keep.list_calls, 1);
    resolution_free(&r);
    dist_metadata_free(&i1[0]);

    /* An installed version the requirement excludes: the index's newest. */
    pyti_dist_metadata i2[] = {inst_meta("b", "0.5", NULL, NULL)};
    run_installed(f, nf, i2, 1, "a", &r, NULL);
    assert_pins(&r, "a==1.0 b==2.0");
    assert_false(pin_installed(&r, "b"));
    resolution_free(&r);
    dist_metadata_free(&i2[0]);

    /* An installed distribution's own dependencies come from its
     * metadata, and may be installed too (c is on no index). */
    pyti_dist_metadata i3[] = {inst_meta("b", "1.5", "c>=1", NULL), inst_meta("c", "3", NULL, NULL)};
    run_installed(f, nf, i3, 2, "a", &r, NULL);
    assert_pins(&r, "a==1.0 b==1.5 c==3");
    assert_true(pin_installed(&r, "c"));
    resolution_free(&r);
    dist_metadata_free(&i3[0]);
    dist_metadata_free(&i3[1]);

    /* The installed b needs d<2, e needs d>=2: pip's algorithm steps
     * back from the installed b to the index's. */
    pyti_dist_metadata i4[] = {inst_meta("b", "1.5", "d<2", NULL)};
    run_installed(f, nf, i4, 1, "e", &r, NULL);
    if (!fallback_mode) {
        assert_pins(&r, "b==2.0 d==2.0 e==1.0");
    } else {
        assert_int_equal(r.outcome, PYTI_RESOLVED);
    }
    resolution_free(&r);
    dist_metadata_free(&i4[0]);

    /* The distribution under test as an installed one: requested exactly,
     * its dependencies resolved, nothing of it fetched; its extras too. */
    pyti_dist_metadata i5[] = {
        inst_meta("self-pkg", "1.0", "b>=2|d; extra == 'test'", "test")};
    run_installed(f, nf, i5, 1, "self_pkg[test]===1.0", &r, &keep);
    assert_pins(&r, "b==2.0 d==2.0 self-pkg==1.0");
    assert_true(pin_installed(&r, "self-pkg"));
    resolution_free(&r);
    dist_metadata_free(&i5[0]);
}

static int fallback_setup(void **state)
{
    fallback_mode = true;
    return setup(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_newest_and_chain),
        cmocka_unit_test(test_conflict_explained),
        cmocka_unit_test(test_backtracking),
        cmocka_unit_test(test_deep_backtracking),
        cmocka_unit_test(test_extras),
        cmocka_unit_test(test_extras_same_version),
        cmocka_unit_test(test_markers),
        cmocka_unit_test(test_yanked),
        cmocka_unit_test(test_requires_python),
        cmocka_unit_test(test_prereleases),
        cmocka_unit_test(test_circular),
        cmocka_unit_test(test_many_versions),
        cmocka_unit_test(test_wheel_preference),
        cmocka_unit_test(test_needs_build),
        cmocka_unit_test(test_inconsistent_metadata),
        cmocka_unit_test(test_sdist_versions),
        cmocka_unit_test(test_too_deep_and_bad_input),
        cmocka_unit_test(test_hard_case_finishes),
        cmocka_unit_test(test_installed),
    };
    int rc = cmocka_run_group_tests_name("pip's algorithm", tests, setup, teardown);
    rc += cmocka_run_group_tests_name("PubGrub fallback", tests, fallback_setup, teardown);
    return rc;
}
