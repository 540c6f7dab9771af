/* test_index.c — unit tests for src/index/http.c, index.c and server.c
 * over loopback: the local index server (content negotiation, redirects,
 * JSON and HTML pages, PEP 658 files, yanked markers), the client's cache
 * layout, hash verification (a file changed after the scan must be
 * refused and not cached), offline mode, size limits, retries against a
 * flaky server, metadata from PEP 658 / wheels / static sdists and the
 * "needs a build" outcome, and a resolution through it all. Archives are
 * written here with libarchive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/buf.h"
#include "common/hash.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "index/http.h"
#include "index/index.h"
#include "index/resolver.h"
#include "index/server.h"
#include "index/simpleapi.h"
#include "index/tags.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- building distributions ---- */

typedef struct member {
    const char *name;
    const char *data;
} member;

static void write_archive(const char *path, bool zip, const member *m, size_t n)
{
    struct archive *a = archive_write_new();
    if (zip) {
        archive_write_set_format_zip(a);
    } else {
        archive_write_set_format_pax_restricted(a);
        archive_write_add_filter_gzip(a);
    }
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, m[i].name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)strlen(m[i].data));
        archive_write_header(a, e);
        archive_write_data(a, m[i].data, strlen(m[i].data));
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

static char *make_wheel(const char *dir, const char *name, const char *version,
                        const char *extra_headers)
{
    char *fn = xasprintf("%s/%s-%s-py3-none-any.whl", dir, name, version);
    char *di = xasprintf("%s-%s.dist-info/METADATA", name, version);
    char *md = xasprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s\n", name, version,
                         extra_headers ? extra_headers : "");
    member m[] = {{"pkg/__init__.py", ""}, {di, md}};
    write_archive(fn, true, m, 2);
    free(di);
    free(md);
    return fn;
}

static char *make_sdist(const char *dir, const char *name, const char *version,
                        const char *mv, const char *extra_headers)
{
    char *fn = xasprintf("%s/%s-%s.tar.gz", dir, name, version);
    char *pi = xasprintf("%s-%s/PKG-INFO", name, version);
    char *setup = xasprintf("%s-%s/setup.py", name, version);
    char *md = xasprintf("Metadata-Version: %s\nName: %s\nVersion: %s\n%s\n", mv, name, version,
                         extra_headers ? extra_headers : "");
    member m[] = {{setup, "raise SystemExit('never run')\n"}, {pi, md}};
    write_archive(fn, false, m, 2);
    free(pi);
    free(setup);
    free(md);
    return fn;
}

static char *dist_dir;
static pyti_server *srv, *srv_nometa;

static void free_str(char *s) { free(s); }

static int setup(void **state)
{
    (void)state;
    dist_dir = t_tmpdir();
    free_str(make_wheel(dist_dir, "foo", "1.0",
                        "Requires-Python: >=3.8\nRequires-Dist: bar>=1\nRequires-Dist: "
                        "extra-thing; extra == \"x\"\nProvides-Extra: x"));
    free_str(make_sdist(dist_dir, "foo", "1.0", "2.2", "Requires-Dist: bar>=1"));
    free_str(make_sdist(dist_dir, "foo", "1.1", "2.2",
                        "Requires-Dist: bar>=1\nDynamic: Requires-Dist"));
    free_str(make_wheel(dist_dir, "bar", "1.0", NULL));
    char *bar2 = make_wheel(dist_dir, "bar", "2.0", NULL);
    char *y = xasprintf("%s.yanked", bar2);
    FILE *fp = fopen(y, "w");
    fputs("broken <release> & \"quoted\"\n", fp);
    fclose(fp);
    free(y);
    free(bar2);
    char *sub = path_join(dist_dir, "sub");
    mkdir(sub, 0755);
    free_str(make_sdist(sub, "Baz_Qux", "1.0", "1.2", "Requires-Dist: foo"));
    free(sub);
    free(t_write(dist_dir, "README.txt", "not a distribution"));
    free(t_write(dist_dir, "broken-1.0-py3-none-any.whl", "not a zip"));

    pyti_error err;
    pyti_server_options o = {.dir = dist_dir, .listen = "127.0.0.1:0", .threads = 2};
    srv = server_start(&o, &err);
    if (!srv)
        fail_msg("%s", err.msg);
    o.no_metadata = true;
    srv_nometa = server_start(&o, &err);
    assert_non_null(srv_nometa);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    server_stop(srv);
    server_stop(srv_nometa);
    return 0;
}

static char *base_url(pyti_server *s)
{
    return xasprintf("http://127.0.0.1:%u/simple", server_port(s));
}

static pyti_http *client(const char *cache, bool offline)
{
    pyti_http_options o;
    http_options_default(&o);
    o.cache_dir = cache;
    o.offline = offline;
    o.backoff_ms = 1;
    o.backoff_max_ms = 5;
    pyti_error err;
    pyti_http *h = http_new(&o, &err);
    assert_non_null(h);
    return h;
}

/* ---- tests ---- */

static void test_negotiate(void **state)
{
    (void)state;
    assert_int_equal(server_negotiate(NULL), 3);
    assert_int_equal(server_negotiate(""), 3);
    assert_int_equal(server_negotiate(SIMPLE_ACCEPT), 1);
    assert_int_equal(server_negotiate("application/vnd.pypi.simple.v1+json"), 1);
    assert_int_equal(server_negotiate("application/vnd.pypi.simple.latest+json"), 1);
    assert_int_equal(server_negotiate("application/vnd.pypi.simple.v1+html"), 2);
    assert_int_equal(server_negotiate("text/html"), 3);
    assert_int_equal(server_negotiate("*/*"), 3);
    assert_int_equal(server_negotiate("text/*"), 3);
    assert_int_equal(server_negotiate("application/*"), 2);
    assert_int_equal(server_negotiate("text/html;q=0.5, application/vnd.pypi.simple.v1+json"), 1);
    assert_int_equal(server_negotiate("application/vnd.pypi.simple.v1+json;q=0.1, */*;q=0.5"), 3);
    assert_int_equal(server_negotiate("application/json"), 0);
    assert_int_equal(server_negotiate("text/html;q=0"), 0);
    assert_int_equal(server_negotiate("*/*;q=0, application/vnd.pypi.simple.v1+json"), 1);
}

static void test_pages(void **state)
{
    (void)state;
    unsigned long np, nf;
    server_counts(srv, &np, &nf);
    assert_int_equal(np, 4); /* bar, baz-qux, broken, foo */
    assert_int_equal(nf, 7);
    char *cache = t_tmpdir();
    pyti_http *h = client(cache, false);
    char *base = base_url(srv);
    pyti_error err;

    /* The project list, both formats. */
    pyti_http_response r;
    char *u = xasprintf("%s/", base);
    assert_int_equal(http_get_page(h, u, "text/html", &r, &err), PYTI_OK);
    assert_non_null(strstr(r.content_type, "text/html"));
    pyti_simple_index ix;
    assert_int_equal(simple_parse_index(r.body.data, r.body.len, PYTI_PAGE_HTML, &ix, &err),
                     PYTI_OK);
    assert_int_equal(ix.names.len, 4);
    assert_string_equal(ix.names.items[1], "Baz_Qux");
    simple_index_free(&ix);
    http_response_free(&r);
    assert_int_equal(http_get_page(h, u, SIMPLE_ACCEPT, &r, &err), PYTI_OK);
    assert_int_equal(simple_format_for(r.content_type), PYTI_PAGE_JSON);
    assert_true(r.last_serial > 0);
    http_response_free(&r);
    free(u);

    /* A project page in JSON. */
    u = xasprintf("%s/bar/", base);
    assert_int_equal(http_get_page(h, u, SIMPLE_ACCEPT, &r, &err), PYTI_OK);
    pyti_simple_project p;
    assert_int_equal(simple_parse_project(r.body.data, r.body.len,
                                          simple_format_for(r.content_type), r.url, &p, &err),
                     PYTI_OK);
    assert_int_equal(p.nfiles, 2);
    assert_string_equal(p.name, "bar");
    assert_string_equal(p.api_version, "1.1");
    assert_int_equal(p.versions.len, 2);
    assert_string_equal(p.files[1].filename, "bar-2.0-py3-none-any.whl");
    assert_true(p.files[1].yanked);
    assert_string_equal(p.files[1].yanked_reason, "broken <release> & \"quoted\"");
    assert_true(p.files[1].has_metadata);
    assert_non_null(p.files[1].metadata_sha256);
    assert_true(p.files[1].size > 0);
    assert_non_null(p.files[1].upload_time);
    assert_true(str_startswith(p.files[1].url, "http://127.0.0.1:"));
    assert_non_null(strstr(p.files[1].url, "/files/bar/bar-2.0-py3-none-any.whl"));
    simple_project_free(&p);
    http_response_free(&r);

    /* The same page in HTML carries the same facts (escaped). */
    assert_int_equal(http_get_page(h, u, "text/html", &r, &err), PYTI_OK);
    assert_non_null(strstr(r.body.data, "data-yanked=\"broken &lt;release&gt; &amp; &quot;quoted&quot;\""));
    assert_int_equal(simple_parse_project(r.body.data, r.body.len, PYTI_PAGE_HTML, r.url, &p, &err),
                     PYTI_OK);
    assert_int_equal(p.nfiles, 2);
    assert_string_equal(p.files[1].yanked_reason, "broken <release> & \"quoted\"");
    assert_true(p.files[0].has_metadata);
    assert_non_null(p.files[0].sha256);
    simple_project_free(&p);
    http_response_free(&r);
    free(u);

    /* Non-normalised names redirect. */
    u = xasprintf("%s/Baz_Qux", base);
    assert_int_equal(http_get_page(h, u, SIMPLE_ACCEPT, &r, &err), PYTI_OK);
    assert_non_null(strstr(r.url, "/simple/baz-qux/"));
    http_response_free(&r);
    free(u);
    u = xasprintf("%s/nosuch/", base);
    assert_int_equal(http_get_page(h, u, SIMPLE_ACCEPT, &r, &err), PYTI_ERR_NOTFOUND);
    free(u);
    http_free(h);
    free(base);
}

static void test_metadata_sources(void **state)
{
    (void)state;
    char *cache = t_tmpdir();
    pyti_http *h = client(cache, false);
    for (int nometa = 0; nometa < 2; nometa++) {
        char *base = base_url(nometa ? srv_nometa : srv);
        pyti_strv urls = PYTI_STRV_INIT;
        strv_push(&urls, base);
        pyti_index *ix = index_new(h, &urls);
        const pyti_dist_file *files;
        size_t n;
        pyti_error err;
        assert_int_equal(index_project_files(ix, "foo", &files, &n, &err), PYTI_OK);
        assert_int_equal(n, 3);
        for (size_t i = 0; i < n; i++) {
            pyti_dist_metadata md;
            bool nb;
            assert_int_equal(index_file_metadata(ix, "foo", &files[i], &md, &nb, &err), PYTI_OK);
            if (str_endswith(files[i].filename, ".whl")) {
                assert_false(nb);
                assert_string_equal(md.source, nometa ? "wheel" : "pep658");
                assert_string_equal(md.requires_python, ">=3.8");
                assert_int_equal(md.requires_dist.len, 2);
                assert_string_equal(md.provides_extra.items[0], "x");
                assert_string_equal(files[i].requires_python, ">=3.8");
            } else if (strstr(files[i].filename, "1.0")) {
                assert_false(nb);
                assert_string_equal(md.source, "sdist");
                assert_string_equal(md.requires_dist.items[0], "bar>=1");
            } else {
                assert_true(nb); /* Dynamic: Requires-Dist */
            }
            dist_metadata_free(&md);
        }
        /* Legacy sdist metadata cannot be trusted. */
        assert_int_equal(index_project_files(ix, "baz-qux", &files, &n, &err), PYTI_OK);
        assert_int_equal(n, 1);
        pyti_dist_metadata md;
        bool nb;
        assert_int_equal(index_file_metadata(ix, "baz-qux", &files[0], &md, &nb, &err), PYTI_OK);
        assert_true(nb);
        dist_metadata_free(&md);
        /* A "wheel" that is not a zip: no metadata, not an error. */
        assert_int_equal(index_project_files(ix, "broken", &files, &n, &err), PYTI_OK);
        assert_int_equal(index_file_metadata(ix, "broken", &files[0], &md, &nb, &err), PYTI_OK);
        assert_null(md.name);
        dist_metadata_free(&md);
        assert_int_equal(index_project_files(ix, "unknown-project", &files, &n, &err), PYTI_OK);
        assert_int_equal(n, 0);
        index_free(ix);
        strv_free(&urls);
        free(base);
    }
    http_free(h);
}

static size_t count_files(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *p = path_join(dir, de->d_name);
        n += path_is_dir(p) ? count_files(p) : 1;
        free(p);
    }
    closedir(d);
    return n;
}

static void test_cache_and_mismatch(void **state)
{
    (void)state;
    /* A private server over a copy, so the file can be changed after the
     * scan. */
    char *dir = t_tmpdir();
    char *whl = make_wheel(dir, "evil", "1.0", NULL);
    pyti_error err;
    pyti_server_options so = {.dir = dir, .listen = "127.0.0.1:0", .threads = 1};
    pyti_server *s = server_start(&so, &err);
    assert_non_null(s);
    char *cache = t_tmpdir();
    pyti_http *h = client(cache, false);
    char *base = base_url(s);
    pyti_strv urls = PYTI_STRV_INIT;
    strv_push(&urls, base);
    pyti_index *ix = index_new(h, &urls);
    const pyti_dist_file *files;
    size_t n;
    assert_int_equal(index_project_files(ix, "evil", &files, &n, &err), PYTI_OK);
    assert_int_equal(n, 1);

    /* Good download: lands under files/sha256/ab/<hash>. */
    char *path = NULL;
    char sha[65];
    assert_int_equal(index_download(ix, &files[0], &path, sha, &err), PYTI_OK);
    assert_string_equal(sha, files[0].sha256);
    char *want = xasprintf("%s/files/sha256/%.2s/%s", cache, sha, sha);
    assert_string_equal(path, want);
    free(want);
    free(path);
    pyti_http_stats st;
    http_stats(h, &st);
    unsigned long before = st.requests;
    assert_int_equal(index_download(ix, &files[0], &path, NULL, &err), PYTI_OK);
    http_stats(h, &st);
    assert_int_equal(st.requests, before); /* from the cache */
    free(path);

    /* Change the file behind the index's back: the hash no longer holds. */
    char *cache2 = t_tmpdir();
    pyti_http *h2 = client(cache2, false);
    pyti_index *ix2 = index_new(h2, &urls);
    assert_int_equal(index_project_files(ix2, "evil", &files, &n, &err), PYTI_OK);
    FILE *fp = fopen(whl, "ab");
    fputs("tampered", fp);
    fclose(fp);
    assert_int_equal(index_download(ix2, &files[0], &path, NULL, &err), PYTI_ERR_INPUT);
    assert_null(path);
    assert_non_null(strstr(err.msg, "hash mismatch"));
    assert_non_null(strstr(err.msg, "not used"));
    char *fdir = path_join(cache2, "files");
    assert_int_equal(count_files(fdir), 0); /* nothing cached, no temp file left */
    free(fdir);
    /* Metadata through the wheel: the same hard error. */
    pyti_dist_file f = {0};
    dist_file_copy(&f, &files[0]);
    f.has_metadata = false;
    pyti_dist_metadata md;
    bool nb;
    assert_int_equal(index_file_metadata(ix2, "evil", &f, &md, &nb, &err), PYTI_ERR_INPUT);
    dist_file_free(&f);
    index_free(ix2);
    http_free(h2);

    /* Offline: pages and files from the first cache only. */
    pyti_http *off = client(cache, true);
    pyti_index *ixo = index_new(off, &urls);
    assert_int_equal(index_project_files(ixo, "evil", &files, &n, &err), PYTI_OK);
    assert_int_equal(n, 1);
    assert_int_equal(index_download(ixo, &files[0], &path, NULL, &err), PYTI_OK);
    free(path);
    assert_int_equal(index_project_files(ixo, "other", &files, &n, &err), PYTI_ERR_NOTFOUND);
    assert_non_null(strstr(err.msg, "offline"));
    http_stats(off, &st);
    assert_int_equal(st.requests, 0);
    index_free(ixo);
    http_free(off);

    /* Size limits. */
    pyti_http_options o;
    http_options_default(&o);
    o.cache_dir = cache;
    o.max_page_size = 10;
    pyti_http *tiny = http_new(&o, &err);
    pyti_http_response r;
    char *u = xasprintf("%s/evil/", base);
    assert_int_equal(http_get_page(tiny, u, SIMPLE_ACCEPT, &r, &err), PYTI_ERR_LIMIT);
    free(u);
    http_free(tiny);

    index_free(ix);
    http_free(h);
    strv_free(&urls);
    free(base);
    free(whl);
    server_stop(s);
}

/* A server that answers 503 to the first `fail` requests. */
typedef struct flaky {
    unsigned fail;
    unsigned seen;
} flaky;

static enum MHD_Result flaky_handler(void *cls, struct MHD_Connection *c, const char *url,
                                     const char *method, const char *version,
                                     const char *upload, size_t *upload_size, void **con_cls)
{
    flaky *f = cls;
    (void)url, (void)method, (void)version, (void)upload, (void)upload_size, (void)con_cls;
    unsigned n = __atomic_fetch_add(&f->seen, 1, __ATOMIC_SEQ_CST);
    bool fail = n < f->fail;
    const char *body = fail ? "busy" : "<a href=\"x-1.0.tar.gz#sha256=00\">x</a>";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "text/html");
    enum MHD_Result ret = MHD_queue_response(c, fail ? 503 : 200, r);
    MHD_destroy_response(r);
    return ret;
}

static void test_retries(void **state)
{
    (void)state;
    flaky f = {2, 0};
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL,
                                            flaky_handler, &f, MHD_OPTION_END);
    assert_non_null(d);
    unsigned port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    char *u = xasprintf("http://127.0.0.1:%u/simple/x/", port);
    char *cache = t_tmpdir();
    pyti_http *h = client(cache, false);
    pyti_http_response r;
    pyti_error err;
    assert_int_equal(http_get_page(h, u, SIMPLE_ACCEPT, &r, &err), PYTI_OK);
    assert_int_equal(r.status, 200);
    http_response_free(&r);
    pyti_http_stats st;
    http_stats(h, &st);
    assert_int_equal(st.retries, 2);
    assert_int_equal(st.requests, 3);
    /* Always failing: gives up after the retries, with the status. */
    f.fail = 1000;
    f.seen = 0;
    assert_int_equal(http_get_page(h, u, SIMPLE_ACCEPT, &r, &err), PYTI_ERR_IO);
    assert_non_null(strstr(err.msg, "HTTP 503"));
    assert_non_null(strstr(err.msg, "gave up"));
    assert_int_equal(f.seen, 5); /* 1 + 4 retries */
    http_free(h);
    MHD_stop_daemon(d);
    /* Nobody listening: a connection error, retried too. */
    h = client(cache, false);
    assert_int_equal(http_get_page(h, u, SIMPLE_ACCEPT, &r, &err), PYTI_ERR_IO);
    http_stats(h, &st);
    assert_int_equal(st.retries, 4);
    http_free(h);
    /* A host name that cannot resolve (.invalid never does, RFC 6761):
     * asked again once only. */
    h = client(cache, false);
    assert_int_equal(http_get_page(h, "http://pyti-test.invalid/simple/x/", SIMPLE_ACCEPT, &r,
                                   &err),
                     PYTI_ERR_IO);
    http_stats(h, &st);
    assert_int_equal(st.requests, 2);
    assert_int_equal(st.retries, 1);
    http_free(h);
    free(u);
}

/* A metadata builder for the tests: user points at the mode. */
static pyti_status fake_builder(void *user, const char *project, const pyti_dist_file *f,
                                const char *path, pyti_dist_metadata *out, pyti_error *err)
{
    int mode = *(int *)user;
    assert_true(path_is_file(path)); /* downloaded and verified first */
    memset(out, 0, sizeof *out);
    if (mode == 0)
        return pyti_error_set(err, PYTI_ERR_NOTFOUND, "no sandbox here");
    if (mode == 1)
        return pyti_error_set(err, PYTI_ERR_INPUT, "building %s from %s failed", project,
                              f->filename);
    out->name = xstrdup("foo");
    out->version = xstrdup("1.1");
    strv_push(&out->requires_dist, "bar<2");
    return PYTI_OK;
}

static void test_resolve_through_index(void **state)
{
    (void)state;
    char *cache = t_tmpdir();
    pyti_http *h = client(cache, false);
    char *base = base_url(srv);
    pyti_strv urls = PYTI_STRV_INIT;
    strv_push(&urls, base);
    pyti_index *ix = index_new(h, &urls);
    pyti_provider p;
    index_provider(ix, &p);
    pyti_target t;
    pyti_error err;
    assert_int_equal(target_init_host(&t, NULL, &err), PYTI_OK);
    /* foo 1.1 is an sdist whose dependencies are dynamic. */
    const char *r0[] = {"Foo"};
    pyti_resolution res;
    assert_int_equal(resolve_requirements(&p, &t, r0, 1, NULL, &res, &err), PYTI_OK);
    assert_int_equal(res.outcome, PYTI_RESOLVE_NEEDS_BUILD);
    assert_string_equal(res.build_file.filename, "foo-1.1.tar.gz");
    resolution_free(&res);
    const char *reqs[] = {"Foo!=1.1"};
    assert_int_equal(resolve_requirements(&p, &t, reqs, 1, NULL, &res, &err), PYTI_OK);
    assert_int_equal(res.outcome, PYTI_RESOLVED);
    assert_int_equal(res.npins, 2);
    assert_string_equal(res.pins[0].name, "bar");
    assert_string_equal(res.pins[0].version, "1.0"); /* 2.0 is yanked */
    assert_string_equal(res.pins[1].name, "foo");
    /* The wheel beats the sdist of the same version. */
    assert_string_equal(res.pins[1].file.filename, "foo-1.0-py3-none-any.whl");
    assert_string_equal(res.pins[1].metadata_source, "pep658");
    json_t *j = resolution_to_json(&res);
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "resolved");
    json_decref(j);
    resolution_free(&res);
    /* baz-qux only has a legacy sdist. */
    const char *r2[] = {"baz_qux"};
    assert_int_equal(resolve_requirements(&p, &t, r2, 1, NULL, &res, &err), PYTI_OK);
    assert_int_equal(res.outcome, PYTI_RESOLVE_NEEDS_BUILD);
    assert_string_equal(res.build_file.filename, "Baz_Qux-1.0.tar.gz");
    resolution_free(&res);
    /* A builder: one that cannot build leaves needs-build; one whose
     * build fails stops the resolution with its error; one that builds
     * gives the sdist's metadata (source "build"). */
    int mode = 0;
    index_set_builder(ix, fake_builder, &mode);
    pyti_index *ix2 = index_new(h, &urls); /* fresh: no metadata remembered */
    index_set_builder(ix2, fake_builder, &mode);
    index_provider(ix2, &p);
    assert_int_equal(resolve_requirements(&p, &t, r0, 1, NULL, &res, &err), PYTI_OK);
    assert_int_equal(res.outcome, PYTI_RESOLVE_NEEDS_BUILD);
    resolution_free(&res);
    mode = 1;
    assert_int_not_equal(resolve_requirements(&p, &t, r0, 1, NULL, &res, &err), PYTI_OK);
    assert_int_equal(res.outcome, PYTI_RESOLVE_ERROR);
    assert_non_null(strstr(err.msg, "building foo from foo-1.1.tar.gz failed"));
    resolution_free(&res);
    mode = 2;
    assert_int_equal(resolve_requirements(&p, &t, r0, 1, NULL, &res, &err), PYTI_OK);
    assert_int_equal(res.outcome, PYTI_RESOLVED);
    assert_string_equal(res.pins[1].name, "foo");
    assert_string_equal(res.pins[1].version, "1.1");
    assert_string_equal(res.pins[1].file.filename, "foo-1.1.tar.gz");
    assert_string_equal(res.pins[1].metadata_source, "build");
    assert_string_equal(res.pins[0].version, "1.0"); /* bar<2 */
    resolution_free(&res);
    index_free(ix2);
    target_free(&t);
    index_free(ix);
    strv_free(&urls);
    free(base);
    http_free(h);
}

static void test_prefetch(void **state)
{
    (void)state;
    char *cache = t_tmpdir();
    pyti_http *h = client(cache, false);
    char *base = base_url(srv), *base2 = base_url(srv_nometa);
    pyti_strv urls = PYTI_STRV_INIT;
    strv_push(&urls, base);
    strv_push(&urls, base2);
    pyti_index *ix = index_new(h, &urls);
    const char *names[] = {"foo", "bar", "nosuch", "foo"};
    index_prefetch(ix, names, 4);
    pyti_http_stats st;
    http_stats(h, &st);
    assert_int_equal(st.requests, 6); /* 3 projects x 2 indexes, duplicates dropped */
    const pyti_dist_file *files;
    size_t n;
    pyti_error err;
    assert_int_equal(index_project_files(ix, "foo", &files, &n, &err), PYTI_OK);
    assert_int_equal(n, 6); /* 3 files on each index */
    assert_string_equal(files[0].index_url, base);
    assert_string_equal(files[5].index_url, base2);
    assert_int_equal(index_project_files(ix, "nosuch", &files, &n, &err), PYTI_OK);
    assert_int_equal(n, 0);
    assert_int_equal(index_project_files(ix, "bar", &files, &n, &err), PYTI_OK);
    assert_int_equal(n, 4);
    http_stats(h, &st);
    assert_int_equal(st.requests, 6); /* all answered by the prefetch */
    assert_non_null(index_project_page(ix, 1, "bar"));
    assert_null(index_project_page(ix, 0, "nosuch"));
    /* A second prefetch of known projects does nothing. */
    index_prefetch(ix, names, 4);
    http_stats(h, &st);
    assert_int_equal(st.requests, 6);
    index_free(ix);
    strv_free(&urls);
    free(base);
    free(base2);
    http_free(h);
}

static void test_config(void **state)
{
    (void)state;
    pyti_config *cfg = config_new_empty();
    config_set(cfg, "index", "url", "http://main/simple", "t:1");
    config_set(cfg, "index", "extra_urls", "http://a/simple, http://b/simple", "t:2");
    config_set(cfg, "index", "retries", "7", "t:3");
    pyti_strv urls = PYTI_STRV_INIT;
    pyti_error err;
    assert_int_equal(index_urls_from_config(cfg, NULL, NULL, &urls, &err), PYTI_OK);
    assert_int_equal(urls.len, 3);
    assert_string_equal(urls.items[0], "http://main/simple");
    assert_string_equal(urls.items[2], "http://b/simple");
    strv_free(&urls);
    pyti_strv extra = PYTI_STRV_INIT;
    strv_push(&extra, "http://x/simple");
    assert_int_equal(index_urls_from_config(cfg, "http://cli/simple", &extra, &urls, &err),
                     PYTI_OK);
    assert_int_equal(urls.len, 2);
    assert_string_equal(urls.items[0], "http://cli/simple");
    assert_string_equal(urls.items[1], "http://x/simple");
    strv_free(&urls);
    strv_free(&extra);
    pyti_http_options o;
    http_options_default(&o);
    assert_int_equal(index_http_options_from_config(cfg, &o, &err), PYTI_OK);
    assert_int_equal(o.retries, 7);
    config_set(cfg, "index", "bogus", "1", "t:9");
    assert_int_equal(index_urls_from_config(cfg, NULL, NULL, &urls, &err), PYTI_ERR_USAGE);
    assert_non_null(strstr(err.msg, "t:9"));
    strv_free(&urls);
    config_free(cfg);
    /* No settings at all: PyPI. */
    assert_int_equal(index_urls_from_config(NULL, NULL, NULL, &urls, &err), PYTI_OK);
    assert_string_equal(urls.items[0], PYTI_DEFAULT_INDEX);
    strv_free(&urls);
    assert_non_null(strstr(http_default_user_agent(), "pyti/"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiate),
        cmocka_unit_test(test_pages),
        cmocka_unit_test(test_metadata_sources),
        cmocka_unit_test(test_cache_and_mismatch),
        cmocka_unit_test(test_retries),
        cmocka_unit_test(test_resolve_through_index),
        cmocka_unit_test(test_prefetch),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
