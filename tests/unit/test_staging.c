/* test_staging.c — unit tests for staging a job's requirements: the
 * interpreter's reported facts (validation, the target, installed
 * distributions, the host cache), the local-directory provider and the
 * provider pool, and staging_run against a file: index (staged files,
 * installed distributions, unsatisfiable requirements, an unreachable index
 * with the wheelhouse fallback and the job's offline memo), and
 * dependencies only available as sdists: the built-wheel cache (no
 * sandbox run on a hit), the build chain's cycle and depth checks, and
 * staging without a builder. The builds themselves run package code in
 * the sandbox: tests/e2e/test_sdist_deps.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/config.h"
#include "common/hash.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "exec/depbuild.h"
#include "exec/job.h"
#include "exec/pyfacts.h"
#include "exec/staging.h"
#include "exec/tasks_internal.h"
#include "index/http.h"
#include "index/index.h"
#include "index/localdir.h"
#include "index/url.h"
#include "pkg/wheelpack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *MARKERS =
    "{\"implementation_name\": \"cpython\", \"implementation_version\": \"3.11.2\","
    " \"os_name\": \"posix\", \"platform_machine\": \"x86_64\", \"platform_release\": \"6.1\","
    " \"platform_system\": \"Linux\", \"platform_version\": \"#1\","
    " \"python_full_version\": \"3.11.2\", \"platform_python_implementation\": \"CPython\","
    " \"python_version\": \"3.11\", \"sys_platform\": \"linux\"}";

static json_t *facts(const char *extra_members)
{
    char *text = xasprintf("{\"version\": \"3.11.2\", \"markers\": %s, \"tags\": "
                           "[\"cp311-cp311-manylinux_2_36_x86_64\", \"py3-none-any\"]%s%s}",
                           MARKERS, extra_members ? ", " : "",
                           extra_members ? extra_members : "");
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j)
        fail_msg("bad test JSON: %s: %s", je.text, text);
    free(text);
    return j;
}

static void expect_bad_target(json_t *f, const char *part)
{
    pyti_target t;
    pyti_error err;
    assert_int_equal(pyfacts_target(f, &t, &err), PYTI_ERR_INPUT);
    if (!strstr(err.msg, part))
        fail_msg("error '%s' lacks '%s'", err.msg, part);
    json_decref(f);
}

static void test_facts_target(void **state)
{
    (void)state;
    json_t *f = facts(NULL);
    pyti_target t;
    pyti_error err;
    assert_int_equal(pyfacts_target(f, &t, &err), PYTI_OK);
    assert_int_equal(t.py_minor, 11);
    assert_int_equal(t.py_micro, 2);
    assert_int_equal(t.tags.len, 2);
    assert_int_equal(target_tag_priority(&t, "py3-none-any"), 1);
    assert_int_equal(target_tag_priority(&t, "cp311-abi3-linux_x86_64"), -1);
    assert_string_equal(t.env.platform_release, "6.1");
    assert_string_equal(t.env.python_full_version, "3.11.2");
    target_free(&t);
    json_decref(f);

    /* No tags reported (packaging missing inside): computed. */
    f = facts(NULL);
    json_object_del(f, "tags");
    assert_int_equal(pyfacts_target(f, &t, &err), PYTI_OK);
    assert_true(t.tags.len > 100);
    assert_true(target_tag_priority(&t, "py3-none-any") >= 0);
    target_free(&t);
    json_decref(f);

    f = facts(NULL);
    json_object_del(json_object_get(f, "markers"), "os_name");
    expect_bad_target(f, "markers.os_name is missing");
    f = facts(NULL);
    json_object_set_new(f, "version", json_string("three"));
    expect_bad_target(f, "version 'three'");
    f = facts(NULL);
    json_array_append_new(json_object_get(f, "tags"), json_string("py3-none"));
    expect_bad_target(f, "tags[2]");
    f = facts(NULL);
    char *big = xmalloc(5001);
    memset(big, 'a', 5000);
    big[5000] = '\0';
    json_object_set_new(json_object_get(f, "markers"), "platform_version", json_string(big));
    free(big);
    expect_bad_target(f, "markers.platform_version is not a string");
    f = facts(NULL);
    json_object_set_new(f, "markers", json_integer(3));
    expect_bad_target(f, "markers is not an object");
    expect_bad_target(json_integer(1), "not an object");
}

static void test_facts_installed(void **state)
{
    (void)state;
    json_t *f = facts("\"installed\": [{\"name\": \"Six\", \"version\": \"1.16.0\"},"
                      " {\"name\": \"b\", \"version\": \"2\", \"requires_dist\": [\"c>1\"],"
                      " \"provides_extra\": [\"x\"]}]");
    pyti_dist_metadata *v;
    size_t n;
    pyti_error err;
    assert_int_equal(pyfacts_installed(f, &v, &n, &err), PYTI_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "Six");
    assert_int_equal(v[0].requires_dist.len, 0);
    assert_string_equal(v[1].requires_dist.items[0], "c>1");
    assert_string_equal(v[1].provides_extra.items[0], "x");
    pyfacts_installed_free(v, n);
    json_decref(f);

    static const char *const bad[] = {
        "\"installed\": 3",
        "\"installed\": [1]",
        "\"installed\": [{\"version\": \"1\"}]",
        "\"installed\": [{\"name\": \"a\", \"version\": \"1\", \"requires_dist\": [2]}]",
        "\"installed\": [{\"name\": \"a\", \"version\": \"1\"}, {\"name\": 5}]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        f = facts(bad[i]);
        assert_int_equal(pyfacts_installed(f, &v, &n, &err), PYTI_ERR_INPUT);
        assert_null(v);
        assert_non_null(strstr(err.msg, "installed"));
        json_decref(f);
    }
    /* none listed: none */
    f = facts(NULL);
    assert_int_equal(pyfacts_installed(f, &v, &n, &err), PYTI_OK);
    assert_int_equal(n, 0);
    free(v);
    json_decref(f);
}

static void touch_later(const char *path)
{
    struct timespec ts[2] = {{0, UTIME_OMIT}, {0, 0}};
    clock_gettime(CLOCK_REALTIME, &ts[1]);
    ts[1].tv_sec += 5;
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_facts_cache(void **state)
{
    (void)state;
    char *tmp = t_tmpdir();
    char *cache = path_join(tmp, "cache");
    setenv("XDG_CACHE_HOME", cache, 1);
    char *python = t_write(tmp, "bin/python3.11", "#!not really\n");
    char *site = path_join(tmp, "site");
    assert_int_equal(path_mkdirs(site, 0755, NULL), PYTI_OK);
    char *members = xasprintf("\"site_dirs\": [\"%s\"], \"installed\": [{\"name\": \"a\", "
                              "\"version\": \"1\"}], \"noise\": 1", site);
    json_t *f = facts(members);
    free(members);
    assert_null(pyfacts_cache_load(python));
    pyfacts_cache_store(python, f);
    json_t *got = pyfacts_cache_load(python);
    assert_non_null(got);
    assert_true(json_equal(json_object_get(got, "tags"), json_object_get(f, "tags")));
    assert_true(json_equal(json_object_get(got, "installed"), json_object_get(f, "installed")));
    assert_null(json_object_get(got, "noise"));
    json_decref(got);
    /* Another interpreter path does not share it. */
    char *other = t_write(tmp, "bin/python3.12", "#!\n");
    assert_null(pyfacts_cache_load(other));
    /* A distribution installed or removed changes the site dir. */
    touch_later(site);
    assert_null(pyfacts_cache_load(python));
    pyfacts_cache_store(python, f);
    got = pyfacts_cache_load(python);
    assert_non_null(got);
    json_decref(got);
    /* So does a new interpreter. */
    touch_later(python);
    assert_null(pyfacts_cache_load(python));
    /* A corrupt cache file is a miss. */
    pyfacts_cache_store(python, f);
    char hex[PYTI_SHA256_HEX_LEN + 1];
    hash_sha256_hex(python, strlen(python), hex);
    char *rel = xasprintf("pyti/interpreters/%s.json", hex);
    free(t_write(cache, rel, "{not json"));
    assert_null(pyfacts_cache_load(python));
    free(rel);
    json_decref(f);
    unsetenv("XDG_CACHE_HOME");
    free(other);
    free(site);
    free(python);
    free(cache);
}

/* ---- wheels, a file: index, a job ------------------------------------- */

/* Writes an installed distribution into site (module + dist-info). */
static void installed_dist(const char *site, const char *name, const char *version,
                           const char *requires)
{
    char *mod = xasprintf("%s/__init__.py", name);
    char *di = xasprintf("%s-%s.dist-info", name, version);
    char *md = xasprintf("%s/METADATA", di), *rec = xasprintf("%s/RECORD", di);
    pyti_buf m = PYTI_BUF_INIT;
    buf_printf(&m, "Metadata-Version: 2.1\nName: %s\nVersion: %s\n", name, version);
    if (requires)
        buf_printf(&m, "Requires-Dist: %s\n", requires);
    free(t_write(site, mod, "X = 1\n"));
    free(t_write(site, md, buf_cstr(&m)));
    char *rows = xasprintf("%s,,\n%s,,\n%s,,\n", mod, md, rec);
    free(t_write(site, rec, rows));
    free(rows);
    buf_free(&m);
    free(mod);
    free(di);
    free(md);
    free(rec);
}

/* Packs name from site into dir; returns the file name. */
static char *pack(const char *site, const char *name, const char *dir)
{
    char *path = NULL;
    pyti_error err;
    if (wheelpack_installed(site, name, dir, &path, &err) != PYTI_OK)
        fail_msg("packing %s: %s", name, err.msg);
    char *fn = xstrdup(path_basename(path));
    free(path);
    return fn;
}

/* A PEP 503 page for project listing files (relative to <root>/files). */
static void page(const char *root, const char *project, const char *const *files, size_t n)
{
    pyti_buf b = PYTI_BUF_INIT;
    buf_puts(&b, "<!DOCTYPE html><html><body>\n");
    for (size_t i = 0; i < n; i++) {
        char *p = xasprintf("%s/files/%s", root, files[i]);
        char hex[PYTI_SHA256_HEX_LEN + 1];
        assert_int_equal(hash_sha256_file(p, hex, NULL, NULL), PYTI_OK);
        buf_printf(&b, "<a href=\"../../files/%s#sha256=%s\">%s</a>\n", files[i], hex, files[i]);
        free(p);
    }
    buf_puts(&b, "</body></html>\n");
    char *rel = xasprintf("simple/%s/index.html", project);
    free(t_write(root, rel, buf_cstr(&b)));
    free(rel);
    buf_free(&b);
}

typedef struct fixture {
    char *tmp, *index_root, *index_url, *wheelhouse;
    char *a1, *b1, *b2, *c1;
    pyti_job job;
    json_t *venv;
} fixture;

static void fixture_make(fixture *fx, const char *index_url)
{
    memset(fx, 0, sizeof *fx);
    fx->tmp = t_tmpdir();
    char *cache = path_join(fx->tmp, "cache");
    setenv("XDG_CACHE_HOME", cache, 1);
    free(cache);
    char *site = path_join(fx->tmp, "site");
    installed_dist(site, "a", "1.0", "b>=1");
    installed_dist(site, "b", "2.0", NULL);
    installed_dist(site, "c", "1.0", NULL);
    fx->index_root = path_join(fx->tmp, "index");
    char *files = path_join(fx->index_root, "files");
    assert_int_equal(path_mkdirs(files, 0755, NULL), PYTI_OK);
    fx->a1 = pack(site, "a", files);
    fx->b2 = pack(site, "b", files);
    /* b 1.0 too */
    char *site2 = path_join(fx->tmp, "site2");
    installed_dist(site2, "b", "1.0", NULL);
    fx->b1 = pack(site2, "b", files);
    const char *pa[] = {fx->a1}, *pb[] = {fx->b1, fx->b2};
    page(fx->index_root, "a", pa, 1);
    page(fx->index_root, "b", pb, 2);
    fx->wheelhouse = path_join(fx->tmp, "wheelhouse");
    assert_int_equal(path_mkdirs(fx->wheelhouse, 0755, NULL), PYTI_OK);
    fx->c1 = pack(site, "c", fx->wheelhouse);
    fx->index_url = index_url ? xstrdup(index_url) : xasprintf("file://%s/simple", fx->index_root);

    pyti_job *j = &fx->job;
    j->job_dir = path_join(fx->tmp, "job");
    j->input_dir = path_join(j->job_dir, "input");
    j->work_dir = path_join(j->job_dir, "work");
    j->out_dir = path_join(j->job_dir, "out");
    assert_int_equal(path_mkdirs(j->input_dir, 0755, NULL), PYTI_OK);
    strv_push(&j->index_urls, fx->index_url);
    j->wheelhouse = xstrdup(fx->wheelhouse);
    fx->venv = facts(NULL);
    free(files);
    free(site);
    free(site2);
}

static void fixture_free(fixture *fx)
{
    json_decref(fx->venv);
    strv_free(&fx->job.index_urls);
    free(fx->job.job_dir);
    free(fx->job.input_dir);
    free(fx->job.work_dir);
    free(fx->job.out_dir);
    free(fx->job.wheelhouse);
    free(fx->index_root);
    free(fx->index_url);
    free(fx->wheelhouse);
    free(fx->a1);
    free(fx->b1);
    free(fx->b2);
    free(fx->c1);
    unsetenv("XDG_CACHE_HOME");
}

static json_t *staged_named(const json_t *rec, const char *list, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(rec, list), i, e) {
        const char *n = json_get_str(e, "name");
        if (n && strcmp(n, name) == 0)
            return e;
    }
    return NULL;
}

static void test_localdir_and_pool(void **state)
{
    (void)state;
    fixture fx;
    fixture_make(&fx, NULL);
    pyti_localdir *ld = localdir_new(fx.wheelhouse, "wheelhouse");
    free(t_write(fx.wheelhouse, "not-a-wheel.txt", "x"));
    char *link = path_join(fx.wheelhouse, "c-9.0-py3-none-any.whl");
    assert_int_equal(symlink(fx.c1, link), 0); /* never followed */
    free(link);
    pyti_provider lp, mem;
    localdir_provider(ld, &lp);
    const pyti_dist_file *files;
    size_t n;
    pyti_error err;
    assert_int_equal(lp.list_files(lp.ctx, "c", &files, &n, &err), PYTI_OK);
    assert_int_equal(n, 1);
    assert_string_equal(files[0].filename, fx.c1);
    assert_string_equal(files[0].index_url, "wheelhouse");
    assert_int_equal(strlen(files[0].sha256), 64);
    assert_non_null(localdir_file_path(ld, &files[0]));
    pyti_dist_metadata m;
    bool nb = true;
    assert_int_equal(lp.get_metadata(lp.ctx, "c", &files[0], &m, &nb, &err), PYTI_OK);
    assert_false(nb);
    assert_string_equal(m.name, "c");
    assert_string_equal(m.version, "1.0");
    dist_metadata_free(&m);
    assert_int_equal(lp.list_files(lp.ctx, "zzz", &files, &n, &err), PYTI_OK);
    assert_int_equal(n, 0);

    /* A pool: the index's files first, then the wheelhouse's. */
    pyti_http_options ho;
    http_options_default(&ho);
    ho.no_cache = true;
    pyti_http *http = http_new(&ho, &err);
    assert_non_null(http);
    pyti_index *ix = index_new(http, &fx.job.index_urls);
    index_provider(ix, &mem);
    pyti_provider subs[2] = {mem, lp}, pp;
    pyti_provider_pool *pool = provider_pool_new(subs, 2);
    provider_pool_provider(pool, &pp);
    assert_int_equal(pp.list_files(pp.ctx, "b", &files, &n, &err), PYTI_OK);
    assert_int_equal(n, 2);
    assert_int_equal(pp.list_files(pp.ctx, "c", &files, &n, &err), PYTI_OK);
    assert_int_equal(n, 1);
    assert_int_equal(pp.get_metadata(pp.ctx, "c", &files[0], &m, &nb, &err), PYTI_OK);
    assert_string_equal(m.name, "c");
    dist_metadata_free(&m);
    /* a file that is not the pool's */
    pyti_dist_file stray = {0};
    stray.filename = (char *)"x.whl";
    assert_int_equal(pp.get_metadata(pp.ctx, "c", &stray, &m, &nb, &err), PYTI_ERR_INTERNAL);
    provider_pool_free(pool);
    index_free(ix);
    http_free(http);
    localdir_free(ld);
    fixture_free(&fx);
}

static void test_staging_from_file_index(void **state)
{
    (void)state;
    fixture fx;
    fixture_make(&fx, NULL);
    pyti_strv reqs = PYTI_STRV_INIT;
    strv_push(&reqs, "a");
    pyti_stage_spec spec = {"dependencies", &reqs, fx.venv, NULL, 0, false, NULL, NULL};
    bool ok = false;
    json_t *rec = staging_run(&fx.job, &spec, &ok);
    if (!ok)
        fail_msg("not staged: %s", json_get_str(rec, "reason"));
    assert_string_equal(json_get_str(rec, "outcome"), "resolved");
    assert_string_equal(json_get_str(rec, "source"), "indexes");
    json_t *b = staged_named(rec, "staged", "b");
    assert_non_null(b);
    assert_string_equal(json_get_str(b, "version"), "2.0");
    assert_string_equal(json_get_str(b, "filename"), fx.b2);
    assert_string_equal(json_get_str(b, "index"), fx.index_url);
    char *want = xasprintf("/job/input/deps/%s", fx.b2);
    assert_string_equal(json_get_str(b, "path"), want);
    free(want);
    char *host = xasprintf("%s/deps/%s", fx.job.input_dir, fx.b2);
    char hex[PYTI_SHA256_HEX_LEN + 1];
    assert_int_equal(hash_sha256_file(host, hex, NULL, NULL), PYTI_OK);
    assert_string_equal(hex, json_get_str(b, "sha256"));
    struct stat st;
    assert_int_equal(stat(host, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    free(host);
    assert_non_null(staged_named(rec, "staged", "a"));
    pyti_strv paths = PYTI_STRV_INIT;
    staging_paths(rec, &paths);
    assert_int_equal(paths.len, 2);
    strv_free(&paths);
    /* The metadata of staged wheels comes along for later rounds. */
    pyti_dist_metadata *inst = NULL;
    size_t ninst = 0;
    staging_as_installed(rec, &inst, &ninst);
    assert_int_equal(ninst, 2);
    json_decref(rec);

    /* b 1.5 installed: satisfies a's b>=1, nothing staged for it; staging
     * again the same file is fine. */
    pyti_dist_metadata b15 = {0};
    b15.name = xstrdup("B");
    b15.version = xstrdup("1.5");
    spec.installed = &b15;
    spec.ninstalled = 1;
    rec = staging_run(&fx.job, &spec, &ok);
    assert_true(ok);
    assert_null(staged_named(rec, "staged", "b"));
    assert_non_null(staged_named(rec, "installed", "B"));
    json_decref(rec);
    dist_metadata_free(&b15);

    /* Unsatisfiable: not staged, with the reason. */
    strv_free(&reqs);
    strv_push(&reqs, "b>=5");
    spec.installed = inst; /* b 2.0 is "installed" too: still not >=5 */
    spec.ninstalled = ninst;
    rec = staging_run(&fx.job, &spec, &ok);
    assert_false(ok);
    const char *reason = json_get_str(rec, "reason");
    assert_non_null(reason);
    assert_non_null(strstr(reason, "cannot be satisfied from the configured indexes"));
    assert_non_null(strstr(reason, "b>=5"));
    json_decref(rec);
    pyfacts_installed_free(inst, ninst);

    /* A requirement that does not parse, and a direct reference: told
     * apart, no index asked. */
    strv_free(&reqs);
    strv_push(&reqs, "b >>> 1");
    rec = staging_run(&fx.job, &spec, &ok);
    assert_false(ok);
    assert_string_equal(json_get_str(rec, "invalid_requirement"), "b >>> 1");
    assert_non_null(strstr(json_get_str(rec, "reason"), "invalid requirement 'b >>> 1'"));
    json_decref(rec);
    strv_free(&reqs);
    strv_push(&reqs, "b @ https://example.invalid/b-1.0-py3-none-any.whl");
    rec = staging_run(&fx.job, &spec, &ok);
    assert_false(ok);
    assert_non_null(json_get_str(rec, "direct_reference"));
    assert_null(json_get_str(rec, "invalid_requirement"));
    json_decref(rec);

    /* Nothing to resolve: fine, nothing staged. */
    strv_free(&reqs);
    rec = staging_run(&fx.job, &spec, &ok);
    assert_true(ok);
    assert_int_equal(json_array_size(json_object_get(rec, "staged")), 0);
    json_decref(rec);

    /* A file staged earlier with other bytes under the same name is
     * refused, not replaced. */
    strv_push(&reqs, "b==1.0");
    char *stale = xasprintf("deps/%s", fx.b1);
    free(t_write(fx.job.input_dir, stale, "other bytes"));
    free(stale);
    spec.installed = NULL;
    spec.ninstalled = 0;
    rec = staging_run(&fx.job, &spec, &ok);
    assert_false(ok);
    assert_non_null(strstr(json_get_str(rec, "reason"), "two different files"));
    json_decref(rec);
    strv_free(&reqs);
    fixture_free(&fx);
}

static void test_staging_unreachable_index(void **state)
{
    (void)state;
    fixture fx;
    fixture_make(&fx, "http://127.0.0.1:1/simple");
    char *ini = t_write(fx.tmp, "pyti.ini", "[index]\nretries = 0\nconnect_timeout = 2\n");
    pyti_error err;
    pyti_config *cfg = config_load(ini, &err);
    assert_non_null(cfg);
    fx.job.config = cfg;
    pyti_strv reqs = PYTI_STRV_INIT;
    strv_push(&reqs, "c");
    /* Build requirements: the wheelhouse alone when the index fails. */
    pyti_stage_spec spec = {"build requirements", &reqs, fx.venv, NULL, 0, true, NULL, NULL};
    bool ok = false;
    json_t *rec = staging_run(&fx.job, &spec, &ok);
    if (!ok)
        fail_msg("not staged: %s", json_get_str(rec, "reason"));
    assert_string_equal(json_get_str(rec, "source"), "wheelhouse");
    assert_non_null(strstr(json_get_str(rec, "fallback"), "127.0.0.1:1"));
    json_t *c = staged_named(rec, "staged", "c");
    char *want = xasprintf("/wheelhouse/%s", fx.c1);
    assert_string_equal(json_get_str(c, "path"), want);
    free(want);
    json_decref(rec);
    /* The job remembers: later staging reads the cache only and says why. */
    char *memo = path_join(fx.job.job_dir, "index-unreachable");
    assert_true(path_exists(memo));
    free(memo);
    spec.wheelhouse = false;
    rec = staging_run(&fx.job, &spec, &ok);
    assert_false(ok);
    const char *reason = json_get_str(rec, "reason");
    assert_non_null(strstr(reason, "not in the cache"));
    assert_non_null(strstr(reason, "unreachable earlier in this job"));
    json_decref(rec);
    /* Neither the index nor the wheelhouse has it. */
    strv_free(&reqs);
    strv_push(&reqs, "zzz");
    spec.wheelhouse = true;
    rec = staging_run(&fx.job, &spec, &ok);
    assert_false(ok);
    assert_non_null(strstr(json_get_str(rec, "reason"), "wheelhouse cannot satisfy"));
    json_decref(rec);
    strv_free(&reqs);
    config_free(cfg);
    free(ini);
    fixture_free(&fx);
}


/* Runs the deps task in-process on the wheel file fn of the index (copied
 * into the job's input) with the venv item of the fixture. */
static pyti_task_status run_deps(fixture *fx, const char *src_dir, const char *fn,
                                 json_t **produced, char **reason)
{
    char *src = path_join(src_dir, fn);
    char *dst = path_join(fx->job.input_dir, fn);
    unlink(dst);
    pyti_error err;
    assert_int_equal(job_copy_file(src, dst, &err), PYTI_OK);
    char *out = path_join(fx->job.out_dir, "deps");
    assert_int_equal(path_mkdirs(out, 0755, NULL), PYTI_OK);
    json_t *inputs = json_object();
    json_t *venv = json_deep_copy(fx->venv);
    json_object_set_new(venv, "installed", json_array());
    json_object_set_new(inputs, "venv", venv);
    json_t *wheel = json_object();
    char *inside = xasprintf("/job/input/%s", fn);
    json_object_set_new(wheel, "path", json_string(inside));
    json_object_set_new(wheel, "filename", json_string(fn));
    json_object_set_new(inputs, "wheel", wheel);
    pyti_task_def def = {0};
    def.name = (char *)"deps";
    def.builtin = (char *)"deps";
    def.timeout_s = 60;
    pyti_task_ctx ctx;
    task_ctx_init(&ctx, &fx->job, &def, out, inputs);
    pyti_task_status st = task_builtin_deps(&ctx);
    *produced = json_incref(json_object_get(ctx.produced, "deps"));
    *reason = ctx.reason ? xstrdup(ctx.reason) : NULL;
    task_ctx_free(&ctx);
    json_decref(inputs);
    free(inside);
    free(out);
    free(src);
    free(dst);
    return st;
}

static void test_deps_task(void **state)
{
    (void)state;
    fixture fx;
    fixture_make(&fx, NULL);
    char *files = path_join(fx.index_root, "files");
    json_t *item = NULL;
    char *reason = NULL;
    /* a 1.0 requires b>=1: b 2.0 staged, a itself is not */
    pyti_task_status st = run_deps(&fx, files, fx.a1, &item, &reason);
    if (st != PYTI_TASK_PASSED)
        fail_msg("deps: %s", reason ? reason : "?");
    json_t *wheels = json_object_get(item, "wheels");
    assert_int_equal(json_array_size(wheels), 1);
    char *want = xasprintf("/job/input/deps/%s", fx.b2);
    assert_string_equal(json_string_value(json_array_get(wheels, 0)), want);
    free(want);
    assert_int_equal(json_array_size(json_object_get(item, "installed")), 0);
    json_decref(item);
    free(reason);

    /* A wheel whose Requires-Python excludes the interpreter fails. */
    char *site = path_join(fx.tmp, "site3");
    installed_dist(site, "newpy", "1.0", "b");
    installed_dist(site, "b", "1.0", NULL); /* wheelpack keeps only installed requirements */
    char *md = path_join(site, "newpy-1.0.dist-info/METADATA");
    free(t_write(site, "newpy-1.0.dist-info/METADATA",
                 "Metadata-Version: 2.1\nName: newpy\nVersion: 1.0\nRequires-Python: >=3.99\n"
                 "Requires-Dist: b\n"));
    char *fn = pack(site, "newpy", files);
    st = run_deps(&fx, files, fn, &item, &reason);
    assert_int_equal(st, PYTI_TASK_FAILED);
    assert_non_null(strstr(reason, "requires Python >=3.99"));
    json_decref(item);
    free(reason);
    free(fn);

    /* An unsatisfiable dependency is pyti's error, with the reason. */
    free(t_write(site, "newpy-1.0.dist-info/METADATA",
                 "Metadata-Version: 2.1\nName: newpy\nVersion: 1.0\nRequires-Dist: b>=7\n"));
    char *old = path_join(files, "newpy-1.0-py3-none-any.whl");
    unlink(old);
    free(old);
    fn = pack(site, "newpy", files);
    st = run_deps(&fx, files, fn, &item, &reason);
    assert_int_equal(st, PYTI_TASK_ERROR);
    assert_non_null(strstr(reason, "b>=7"));
    assert_null(item);
    free(reason);
    free(fn);
    free(md);
    free(site);
    free(files);
    fixture_free(&fx);
}


/* Index credentials never reach the staging record (nor the report). */
static void test_credentials_redacted(void **state)
{
    (void)state;
    char *pw = url_password("https://alice:s3cr%40t@example.invalid:8443/simple?x=1");
    assert_string_equal(pw, "s3cr%40t");
    free(pw);
    assert_null(url_password("https://alice@example.invalid/simple"));
    assert_null(url_password("https://example.invalid/a:b@c"));
    assert_null(url_password("not a url"));
    char *r = url_redact_in("GET https://a:pw@h/x: refused; again https://a:pw@h/y",
                            "https://a:pw@h/simple");
    assert_string_equal(r, "GET https://a:****@h/x: refused; again https://a:****@h/y");
    free(r);

    fixture fx;
    fixture_make(&fx, "http://alice:hunter2@127.0.0.1:1/simple");
    char *ini = t_write(fx.tmp, "pyti.ini", "[index]\nretries = 0\nconnect_timeout = 2\n");
    pyti_error err;
    pyti_config *cfg = config_load(ini, &err);
    fx.job.config = cfg;
    pyti_strv reqs = PYTI_STRV_INIT;
    strv_push(&reqs, "a");
    pyti_stage_spec spec = {"dependencies", &reqs, fx.venv, NULL, 0, false, NULL, NULL};
    bool ok = true;
    json_t *rec = staging_run(&fx.job, &spec, &ok);
    assert_false(ok);
    char *text = json_dumps(rec, 0);
    assert_null(strstr(text, "hunter2"));
    assert_non_null(strstr(text, "alice:****@127.0.0.1:1"));
    free(text);
    json_decref(rec);
    strv_free(&reqs);
    config_free(cfg);
    free(ini);
    fixture_free(&fx);
}

/* An sdist-only project s 1.0 (metadata not static) on the fixture's
 * index; returns its path in the index. */
static char *sdist_only(fixture *fx)
{
    /* Not even an archive: with the built wheel in the cache nothing
     * reads it but the hash. */
    char *path = t_write(fx->index_root, "files/s-1.0.tar.gz", "not really an sdist\n");
    const char *ps[] = {"s-1.0.tar.gz"};
    page(fx->index_root, "s", ps, 1);
    return path;
}

/* The cache entry a build of the sdist at path would have made. */
static void cache_built_wheel(fixture *fx, const char *sdist)
{
    char sha[PYTI_SHA256_HEX_LEN + 1];
    assert_int_equal(hash_sha256_file(sdist, sha, NULL, NULL), PYTI_OK);
    char *dir = xasprintf("%s/cache/pyti/built/cp311-cp311-manylinux_2_36_x86_64/%s", fx->tmp,
                          sha);
    assert_int_equal(path_mkdirs(dir, 0755, NULL), PYTI_OK);
    char *site = path_join(fx->tmp, "site-s");
    installed_dist(site, "s", "1.0", "b>=2");
    installed_dist(site, "b", "2.0", NULL); /* or wheelpack drops the requirement */
    free(pack(site, "s", dir));
    free(site);
    free(dir);
}

static void ctx_make(fixture *fx, pyti_task_def *def, pyti_task_ctx *ctx)
{
    memset(def, 0, sizeof *def);
    def->name = (char *)"deps";
    def->builtin = (char *)"deps";
    def->timeout_s = 60;
    char *out = path_join(fx->tmp, "out-deps");
    assert_int_equal(path_mkdirs(out, 0755, NULL), PYTI_OK);
    task_ctx_init(ctx, &fx->job, def, out, NULL);
}

static void ctx_free(pyti_task_ctx *ctx)
{
    char *out = (char *)ctx->out_dir;
    task_ctx_free(ctx);
    free(out);
}

static void test_sdist_dependency_from_the_build_cache(void **state)
{
    (void)state;
    fixture fx;
    fixture_make(&fx, NULL);
    char *sdist = sdist_only(&fx);
    pyti_strv reqs = PYTI_STRV_INIT;
    strv_push(&reqs, "s");

    /* Without a builder: the old outcome, nothing staged. */
    pyti_stage_spec plain = {"dependencies", &reqs, fx.venv, NULL, 0, false, NULL, NULL};
    bool ok = true;
    json_t *rec = staging_run(&fx.job, &plain, &ok);
    assert_false(ok);
    if (strcmp(json_get_str(rec, "outcome"), "needs-build") != 0)
        fail_msg("%s: %s", json_get_str(rec, "outcome"), json_get_str(rec, "reason"));
    assert_non_null(strstr(json_get_str(rec, "reason"), "s 1.0 is only available as s-1.0.tar.gz"));
    json_decref(rec);

    /* With a builder and the wheel in the cache: no sandbox runs (the
     * "sdist" is not even an archive); its metadata and wheel come from
     * the cached wheel, its dependency b>=2 is staged too. */
    cache_built_wheel(&fx, sdist);
    pyti_task_def def;
    pyti_task_ctx ctx;
    ctx_make(&fx, &def, &ctx);
    pyti_stage_spec spec = {"dependencies", &reqs, fx.venv, NULL, 0, false, &ctx, NULL};
    rec = staging_run(&fx.job, &spec, &ok);
    if (!ok)
        fail_msg("%s", json_get_str(rec, "reason"));
    json_t *s = staged_named(rec, "staged", "s");
    assert_non_null(s);
    assert_string_equal(json_get_str(s, "filename"), "s-1.0-py3-none-any.whl");
    assert_string_equal(json_get_str(s, "path"), "/job/input/deps/s-1.0-py3-none-any.whl");
    json_t *from = json_object_get(s, "built_from");
    assert_string_equal(json_get_str(from, "sdist"), "s-1.0.tar.gz");
    assert_true(json_is_true(json_object_get(from, "cached")));
    json_t *b = staged_named(rec, "staged", "b");
    assert_non_null(b);
    assert_string_equal(json_get_str(b, "version"), "2.0");
    json_t *build = json_array_get(json_object_get(rec, "builds"), 0);
    assert_string_equal(json_get_str(build, "outcome"), "cached");
    assert_int_equal(json_array_size(json_object_get(build, "rounds")), 0);
    char *staged = xasprintf("%s/deps/s-1.0-py3-none-any.whl", fx.job.input_dir);
    assert_true(path_is_file(staged));
    free(staged);
    assert_non_null(strstr(buf_cstr(&ctx.log), "reusing the wheel built earlier"));
    json_decref(rec);
    ctx_free(&ctx);
    strv_free(&reqs);
    free(sdist);
    fixture_free(&fx);
}

static void expect_chain_error(fixture *fx, const char *const *chain, size_t n,
                               const char *project, const char *part)
{
    pyti_task_def def;
    pyti_task_ctx ctx;
    ctx_make(fx, &def, &ctx);
    pyti_strv c = PYTI_STRV_INIT;
    for (size_t i = 0; i < n; i++)
        strv_push(&c, chain[i]);
    pyti_depbuild *b = depbuild_new(&ctx, fx->venv, &c);
    char *file = xasprintf("%s-1.0.tar.gz", project);
    char *path = t_write(fx->tmp, file, "sdist bytes\n");
    pyti_dist_file f = {.filename = file};
    char *wheel = NULL;
    bool cached = true;
    pyti_error err;
    assert_int_equal(depbuild_wheel(b, project, &f, path, "00", &wheel, &cached, &err),
                     PYTI_ERR_INPUT);
    assert_null(wheel);
    if (!strstr(err.msg, part))
        fail_msg("error '%s' lacks '%s'", err.msg, part);
    pyti_dist_metadata m;
    assert_int_equal(depbuild_metadata(b, project, &f, path, &m, &err), PYTI_ERR_INPUT);
    if (!strstr(err.msg, part))
        fail_msg("error '%s' lacks '%s'", err.msg, part);
    depbuild_free(b);
    strv_free(&c);
    free(path);
    free(file);
    ctx_free(&ctx);
}

static void test_build_chain_cycle_and_depth(void **state)
{
    (void)state;
    fixture fx;
    fixture_make(&fx, NULL);
    const char *cyc[] = {"x", "y"};
    expect_chain_error(&fx, cyc, 2, "X", "a build cycle: x → y → x");
    const char *deep[] = {"a", "b", "c"};
    expect_chain_error(&fx, deep, 3, "d", "nest deeper than 3 levels (a → b → c → d)");
    fixture_free(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_facts_target),
        cmocka_unit_test(test_facts_installed),
        cmocka_unit_test(test_facts_cache),
        cmocka_unit_test(test_localdir_and_pool),
        cmocka_unit_test(test_staging_from_file_index),
        cmocka_unit_test(test_staging_unreachable_index),
        cmocka_unit_test(test_deps_task),
        cmocka_unit_test(test_credentials_redacted),
        cmocka_unit_test(test_sdist_dependency_from_the_build_cache),
        cmocka_unit_test(test_build_chain_cycle_and_depth),
    };
    return cmocka_run_group_tests_name("staging", tests, NULL, NULL);
}
