/* test_master.c — the master without HTTP: multipart bodies, the feed
 * parsers (RSS, serial project lists, the RSS cursor), tokens and
 * permissions, settings, and master_dispatch over a real store on both
 * backends (submit, list, claim, heartbeat, result stored once, fail,
 * cancel/retry, uploads, the catalogue, metrics, pages, errors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/hash.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "master/feedparse.h"
#include "master/master_internal.h"
#include "master/multipart.h"
#include "store_support.h"
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- multipart ---- */

static const char form_body[] =
    "preamble ignored\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\":action\"\r\n\r\n"
    "file_upload\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"classifiers\"\r\n\r\n"
    "A :: B\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"classifiers\"\r\n\r\n"
    "C :: D\r\n"
    "--XyZ\r\n"
    "content-disposition: form-data; name=\"content\"; filename=\"demo \\\"q\\\"-1.0.tar.gz\"\r\n"
    "Content-Type: application/octet-stream\r\n\r\n"
    "bin\r\n--Xy\0ary\r\n"
    "--XyZ--\r\n"
    "epilogue\r\n";

static void test_multipart_parses_a_form(void **state)
{
    (void)state;
    char b[80];
    assert_int_equal(multipart_boundary("multipart/form-data; boundary=XyZ", b, sizeof b, NULL),
                     PYTI_OK);
    assert_string_equal(b, "XyZ");
    assert_int_equal(multipart_boundary("Multipart/Form-Data;charset=x; boundary=\"a b'c\"", b,
                                        sizeof b, NULL), PYTI_OK);
    assert_string_equal(b, "a b'c");
    mp_form f;
    pyti_error err;
    assert_int_equal(multipart_parse(form_body, sizeof form_body - 1, "XyZ", &f, &err), PYTI_OK);
    assert_int_equal(f.n, 4);
    char *action = multipart_field(&f, ":action", 100);
    assert_string_equal(action, "file_upload");
    free(action);
    const mp_part *c = multipart_get(&f, "content");
    assert_non_null(c);
    assert_string_equal(c->filename, "demo \"q\"-1.0.tar.gz");
    assert_string_equal(c->content_type, "application/octet-stream");
    /* Binary content, NUL bytes and look-alike delimiters included. */
    assert_int_equal(c->len, 13);
    assert_memory_equal(c->data, "bin\r\n--Xy\0ary", 13);
    /* A file is not a field; a field with a NUL is refused as text. */
    assert_null(multipart_field(&f, "content", 100));
    assert_null(multipart_field(&f, "missing", 100));
    const mp_part *cl = multipart_get(&f, "classifiers");
    assert_int_equal(cl->len, 6);
    assert_memory_equal(cl->data, "A :: B", 6);
    assert_memory_equal(f.parts[2].data, "C :: D", 6);
    multipart_free(&f);
}

static void expect_bad(const char *body, const char *boundary, const char *needle)
{
    mp_form f;
    pyti_error err = {0};
    pyti_status rc = multipart_parse(body, strlen(body), boundary, &f, &err);
    multipart_free(&f);
    assert_int_not_equal(rc, PYTI_OK);
    if (!strstr(err.msg, needle))
        fail_msg("'%s' does not say '%s'", err.msg, needle);
}

static void test_multipart_refuses_malformed(void **state)
{
    (void)state;
    char b[80];
    pyti_error err;
    assert_int_equal(multipart_boundary("application/json", b, sizeof b, &err), PYTI_ERR_INPUT);
    assert_int_equal(multipart_boundary("multipart/form-data", b, sizeof b, &err), PYTI_ERR_INPUT);
    assert_int_equal(multipart_boundary("multipart/form-data; boundary=", b, sizeof b, &err),
                     PYTI_ERR_INPUT);
    assert_int_equal(multipart_boundary("multipart/form-data; boundary=a\x01", b, sizeof b, &err),
                     PYTI_ERR_INPUT);
    char longb[120];
    snprintf(longb, sizeof longb, "multipart/form-data; boundary=%071d", 0);
    assert_int_equal(multipart_boundary(longb, b, sizeof b, &err), PYTI_ERR_INPUT);

    expect_bad("no boundary here", "B", "never appears");
    expect_bad("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue", "B",
               "no closing boundary");
    expect_bad("--Bjunk\r\n", "B", "expected CRLF");
    expect_bad("--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--", "B", "no Content-Disposition");
    expect_bad("--B\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--B--", "B",
               "expected form-data");
    expect_bad("--B\r\nContent-Disposition: form-data; filename=\"f\"\r\n\r\nx\r\n--B--", "B",
               "no name");
    expect_bad("--B\r\nContent-Disposition: form-data; name=\"a\"; name=\"b\"\r\n\r\nx\r\n--B--",
               "B", "given twice");
    expect_bad("--B\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--B--", "B",
               "malformed");
    expect_bad("--B\r\nno colon line\r\n\r\nx\r\n--B--", "B", "malformed header line");
    expect_bad("--B\r\nContent-Disposition: form-data; name=\"a\"", "B", "does not end");
    /* Header blocks and part counts are bounded. */
    pyti_buf big = PYTI_BUF_INIT;
    buf_puts(&big, "--B\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: ");
    for (int i = 0; i < 9000; i++)
        buf_putc(&big, 'p');
    buf_puts(&big, "\r\n\r\nx\r\n--B--");
    mp_form f;
    assert_int_equal(multipart_parse(big.data, big.len, "B", &f, &err), PYTI_ERR_LIMIT);
    multipart_free(&f);
    buf_reset(&big);
    for (int i = 0; i <= MULTIPART_MAX_PARTS; i++)
        buf_puts(&big, "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n");
    buf_puts(&big, "--B--");
    assert_int_equal(multipart_parse(big.data, big.len, "B", &f, &err), PYTI_ERR_LIMIT);
    multipart_free(&f);
    buf_free(&big);
    /* A part without headers has no name. */
    expect_bad("--B\r\n\r\nx\r\n--B--", "B", "no Content-Disposition");
}

/* ---- feeds ---- */

static const char updates_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<rss version=\"2.0\"><channel><title>PyPI recent updates</title>\n"
    "<item><title>Demo-Pkg 2.0</title><link>https://pypi.org/project/Demo-Pkg/2.0/</link>"
    "<pubDate>Sat, 05 Dec 2026 10:00:02 GMT</pubDate></item>\n"
    "<item><title>other 1.0rc1</title><link>https://example.invalid/x</link>"
    "<pubDate>Sat, 05 Dec 2026 11:00:00 +0100</pubDate></item>\n"
    "<item><title>newproj added to PyPI</title><link>https://pypi.org/project/newproj/</link>"
    "<pubDate>05 Dec 2026 10:00</pubDate></item>\n"
    "<item><title>no date 1.0</title><link>https://pypi.org/project/nodate/1.0/</link></item>\n"
    "<item><title>bad name!! 1.0</title><link>nowhere</link>"
    "<pubDate>Sat, 05 Dec 2026 10:00:00 GMT</pubDate></item>\n"
    "</channel></rss>\n";

static void test_rss_parses_pypi_feeds(void **state)
{
    (void)state;
    feed_item *it;
    size_t n, skipped;
    pyti_error err;
    assert_int_equal(feed_parse_rss(updates_xml, strlen(updates_xml), &it, &n, &skipped, &err),
                     PYTI_OK);
    assert_int_equal(n, 3);
    assert_int_equal(skipped, 2);
    assert_string_equal(it[0].name, "Demo-Pkg");
    assert_string_equal(it[0].version, "2.0");
    assert_int_equal(it[0].time, 1796464802LL);
    assert_string_equal(it[1].name, "other");
    assert_string_equal(it[1].version, "1.0rc1");
    assert_int_equal(it[1].time, 1796464800LL); /* 11:00 +0100 is 10:00 UTC */
    assert_string_equal(it[2].name, "newproj");
    assert_null(it[2].version);
    feed_items_free(it, n);

    assert_int_equal(feed_parse_rfc822("Sat, 05 Dec 2026 10:00:02 GMT"), 1796464802LL);
    assert_int_equal(feed_parse_rfc822("5 Dec 2026 10:00:02 -0030"), 1796464802LL + 1800);
    assert_int_equal(feed_parse_rfc822("Sat, 05 Dec 2026 10:00:02 PST"), -1);
    assert_int_equal(feed_parse_rfc822("Sat, 32 Dec 2026 10:00:02 GMT"), -1);
    assert_int_equal(feed_parse_rfc822("yesterday"), -1);
    assert_int_equal(feed_parse_rfc822(NULL), -1);
}

static void test_rss_refuses_what_is_not_rss(void **state)
{
    (void)state;
    feed_item *it;
    size_t n;
    pyti_error err;
    const char *doctype = "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY a \"aaaa\">"
                          "<!ENTITY b \"&a;&a;&a;&a;\">]><rss><channel><item><title>&b; 1"
                          "</title></item></channel></rss>";
    assert_int_equal(feed_parse_rss(doctype, strlen(doctype), &it, &n, NULL, &err), PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "DOCTYPE"));
    const char *atom = "<feed xmlns=\"http://www.w3.org/2005/Atom\"></feed>";
    assert_int_equal(feed_parse_rss(atom, strlen(atom), &it, &n, NULL, &err), PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "expected <rss><channel>"));
    const char *broken = "<rss><channel><item>";
    assert_int_equal(feed_parse_rss(broken, strlen(broken), &it, &n, NULL, &err), PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "not well-formed"));
    const char *ext = "<?xml version=\"1.0\"?><!DOCTYPE rss SYSTEM \"file:///etc/passwd\">"
                      "<rss><channel/></rss>";
    assert_int_equal(feed_parse_rss(ext, strlen(ext), &it, &n, NULL, &err), PYTI_ERR_INPUT);
}

static void test_serial_index_and_cursor(void **state)
{
    (void)state;
    const char *doc = "{\"meta\": {\"api-version\": \"1.1\", \"_last-serial\": 99},"
                      " \"projects\": [{\"name\": \"a\", \"_last-serial\": 5},"
                      " {\"name\": \"B-c\", \"_last-serial\": 98}]}";
    feed_project *p;
    size_t n;
    long long last;
    pyti_error err;
    assert_int_equal(feed_parse_serial_index(doc, strlen(doc), &p, &n, &last, &err), PYTI_OK);
    assert_int_equal(n, 2);
    assert_int_equal(last, 99);
    assert_string_equal(p[1].name, "B-c");
    assert_int_equal(p[1].serial, 98);
    feed_projects_free(p, n);
    const char *no_meta = "{\"projects\": [{\"name\": \"a\", \"_last-serial\": 7}]}";
    assert_int_equal(feed_parse_serial_index(no_meta, strlen(no_meta), &p, &n, &last, &err),
                     PYTI_OK);
    assert_int_equal(last, 7);
    feed_projects_free(p, n);
    static const char *const bad[] = {
        "[]", "{\"projects\": {}}", "{\"projects\": [{\"name\": \"a\"}]}",
        "{\"projects\": [{\"name\": 3, \"_last-serial\": 1}]}",
        "{\"projects\": [{\"name\": \"a\", \"_last-serial\": -1}]}",
        "{\"meta\": {\"_last-serial\": \"x\"}, \"projects\": []}", "{\"projects\": [",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(feed_parse_serial_index(bad[i], strlen(bad[i]), &p, &n, &last, &err),
                         PYTI_ERR_INPUT);
        assert_non_null(strstr(err.msg, "project list"));
    }
    assert_non_null(strstr(err.msg, "line 1"));

    pyti_strv seen = PYTI_STRV_INIT;
    strv_push(&seen, "a 1.0");
    strv_push(&seen, "b \"2\"");
    char *text = feed_rss_cursor_format(1234, &seen);
    strv_free(&seen);
    long long t;
    assert_int_equal(feed_rss_cursor_parse(text, &t, &seen, &err), PYTI_OK);
    free(text);
    assert_int_equal(t, 1234);
    assert_int_equal(seen.len, 2);
    assert_string_equal(seen.items[1], "b \"2\"");
    strv_free(&seen);
    assert_int_equal(feed_rss_cursor_parse(NULL, &t, &seen, &err), PYTI_OK);
    assert_int_equal(t, -1);
    assert_int_equal(feed_rss_cursor_parse("{\"time\": \"x\"}", &t, &seen, &err), PYTI_ERR_INPUT);
    assert_int_equal(feed_rss_cursor_parse("garbage", &t, &seen, &err), PYTI_ERR_INPUT);
    strv_free(&seen);
}

/* ---- tokens and settings ---- */

static pyti_config *cfg_with(const char *dir, const char *text)
{
    char *p = t_write(dir, "pyti.ini", text);
    pyti_error err;
    pyti_config *c = config_load(p, &err);
    if (!c)
        fail_msg("%s", err.msg);
    free(p);
    return c;
}

static void test_tokens_and_roles(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    char *tf = t_write(dir, "workers.tokens", "# the workers\nw-one w-two\n\nw-three\n");
    char *text = xasprintf("[master]\nadmin_token = the-admin\nworker_token_file = %s\n"
                           "submit_tokens = s-1, s-2\n", tf);
    pyti_config *cfg = cfg_with(dir, text);
    master_settings st;
    pyti_error err;
    assert_int_equal(master_settings_load(cfg, "local-extra", &st, &err), PYTI_OK);
    assert_null(st.generated_token_file);
    assert_int_equal(master_auth_role(&st, "Bearer the-admin"), ROLE_ADMIN);
    assert_int_equal(master_auth_role(&st, "bearer w-two"), ROLE_WORKER);
    assert_int_equal(master_auth_role(&st, "Bearer w-three"), ROLE_WORKER);
    assert_int_equal(master_auth_role(&st, "Bearer local-extra"), ROLE_WORKER);
    assert_int_equal(master_auth_role(&st, "Bearer s-2"), ROLE_SUBMIT);
    assert_int_equal(master_auth_role(&st, "Bearer the-admi"), ROLE_NONE);
    assert_int_equal(master_auth_role(&st, "Bearer the-admin "), ROLE_NONE);
    assert_int_equal(master_auth_role(&st, "Bearer "), ROLE_NONE);
    assert_int_equal(master_auth_role(&st, "the-admin"), ROLE_NONE);
    assert_int_equal(master_auth_role(&st, NULL), ROLE_NONE);
    assert_int_equal(master_auth_role(&st, "Bearer # the workers"), ROLE_NONE);
    /* Basic: twine's __token__:TOKEN, any user name. */
    assert_int_equal(master_auth_role(&st, "Basic X190b2tlbl9fOnMtMQ=="), ROLE_SUBMIT);
    assert_int_equal(master_auth_role(&st, "Basic X190b2tlbl9fOnMtMQ"), ROLE_SUBMIT);
    assert_int_equal(master_auth_role(&st, "Basic bm9jb2xvbg=="), ROLE_NONE);
    assert_int_equal(master_auth_role(&st, "Basic !!!!"), ROLE_NONE);
    /* Permissions. */
    pyti_master fake = {0};
    fake.st = st;
    assert_true(master_allowed(&fake, ROLE_NONE, ROLE_READ)); /* public_read default */
    assert_false(master_allowed(&fake, ROLE_WORKER, ROLE_SUBMIT));
    assert_false(master_allowed(&fake, ROLE_SUBMIT, ROLE_WORKER));
    assert_true(master_allowed(&fake, ROLE_ADMIN, ROLE_WORKER));
    assert_false(master_allowed(&fake, ROLE_SUBMIT, ROLE_ADMIN));
    fake.st.public_read = false;
    assert_false(master_allowed(&fake, ROLE_NONE, ROLE_READ));
    assert_true(master_allowed(&fake, ROLE_WORKER, ROLE_READ));
    master_settings_free(&st);
    config_free(cfg);

    char *b = master_base64_decode("aGVsbG8=", 100);
    assert_string_equal(b, "hello");
    free(b);
    assert_null(master_base64_decode("aGVsbG8=", 3));
    assert_null(master_base64_decode("a", 10));
    assert_null(master_base64_decode("AA==", 10)); /* a NUL byte */
    free(text);
    free(tf);
}

static void test_settings_defaults_and_errors(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    /* No token configured: token files made in the configuration dir. */
    char *old = getenv("XDG_CONFIG_HOME") ? xstrdup(getenv("XDG_CONFIG_HOME")) : NULL;
    setenv("XDG_CONFIG_HOME", dir, 1);
    master_settings st;
    pyti_error err;
    assert_int_equal(master_settings_load(NULL, NULL, &st, &err), PYTI_OK);
    assert_true(st.public_read);
    assert_int_equal(st.lease_s, 60);
    assert_string_equal(st.listen, "127.0.0.1:8080");
    char *admin = xasprintf("%s/pyti/admin.token", dir);
    assert_string_equal(st.generated_token_file, admin);
    char *tok = t_slurp(admin);
    tok[strcspn(tok, "\n")] = '\0';
    char *hdr = xasprintf("Bearer %s", tok);
    assert_int_equal(master_auth_role(&st, hdr), ROLE_ADMIN);
    master_settings_free(&st);
    /* A second start reads the same token. */
    assert_int_equal(master_settings_load(NULL, NULL, &st, &err), PYTI_OK);
    assert_int_equal(master_auth_role(&st, hdr), ROLE_ADMIN);
    master_settings_free(&st);
    free(hdr);
    free(tok);
    free(admin);

    static const char *const bad[][2] = {
        {"[master]\nlease = 2\n", "lease = 2"},
        {"[master]\npublic_read = maybe\n", "expected true or false"},
        {"[master]\nmax_body = lots\n", "max_body"},
        {"[master]\nnonsense = 1\n", "unknown setting 'nonsense'"},
        {"[master]\npublic_url = ftp://x\n", "public_url"},
        {"[master]\nadmin_token_file = /nonexistent/x\n", "admin_token_file"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        pyti_config *cfg = cfg_with(dir, bad[i][0]);
        assert_int_not_equal(master_settings_load(cfg, NULL, &st, &err), PYTI_OK);
        if (!strstr(err.msg, bad[i][1]))
            fail_msg("'%s' does not say '%s'", err.msg, bad[i][1]);
        config_free(cfg);
    }
    pyti_config *cfg = cfg_with(dir, "[master]\nadmin_token = a\nworker_tokens = w\n"
                                     "[feeds]\nallow = good-* Exact_Name\ndeny = good-but-bad\n");
    assert_int_equal(master_settings_load(cfg, NULL, &st, &err), PYTI_OK);
    assert_true(master_project_allowed(&st, "Good.Thing"));
    assert_true(master_project_allowed(&st, "exact-name"));
    assert_false(master_project_allowed(&st, "good_but_bad"));
    assert_false(master_project_allowed(&st, "other"));
    master_settings_free(&st);
    config_free(cfg);
    if (old)
        setenv("XDG_CONFIG_HOME", old, 1);
    else
        unsetenv("XDG_CONFIG_HOME");
    free(old);
}

/* ---- dispatch over a real store ---- */

typedef struct tm_ctx {
    pyti_master *m;
    const char *dir;
    char *loc;
    pyti_config *cfg;
} tm_ctx;

static void tm_open(void **state, tm_ctx *t, const char *extra)
{
    t->dir = t_tmpdir();
    t->loc = t_store_location(state);
    char *text = xasprintf("[master]\nadmin_token = adm\nworker_tokens = wrk\nsubmit_tokens = sub\n"
                           "files_dir = %s/files\npublic_url = http://master.test:1\n%s",
                           t->dir, extra ? extra : "");
    t->cfg = cfg_with(t->dir, text);
    free(text);
    pyti_error err;
    t->m = master_new_for_tests(t->loc, t->cfg, &err);
    if (!t->m)
        fail_msg("%s", err.msg);
}

static void tm_close(tm_ctx *t)
{
    master_free_for_tests(t->m);
    config_free(t->cfg);
    free(t->loc);
}

/* Dispatches one request; returns the status and, in *body, the parsed
 * JSON (NULL if the body is not JSON). */
static int req(tm_ctx *t, const char *method, const char *path, const char *token,
               const char *body, json_t **out, master_response *keep)
{
    pyti_strv q = PYTI_STRV_INIT;
    char *p = xstrdup(path);
    char *qs = strchr(p, '?');
    if (qs) {
        *qs++ = '\0';
        master_split_query(qs, &q);
    }
    char *auth = token ? xasprintf("Bearer %s", token) : NULL;
    master_request r = {0};
    r.method = method;
    r.path = p;
    r.query = &q;
    r.authorization = auth;
    r.body = body ? body : "";
    r.body_len = body ? strlen(body) : 0;
    r.client_fd = -1;
    master_response resp;
    master_response_init(&resp);
    master_dispatch(t->m, &r, &resp);
    if (out)
        *out = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
    int status = resp.status;
    if (getenv("TM_DEBUG"))
        fprintf(stderr, "%s %s -> %d %s\n", method, path, status, buf_cstr(&resp.body));
    if (keep)
        *keep = resp;
    else
        master_response_free(&resp);
    free(auth);
    free(p);
    strv_free(&q);
    return status;
}

/* GET /api/v1/jobs/ID, asserting it answers 200: the job (the caller
 * frees it). */
static json_t *get_job(tm_ctx *t, long long id)
{
    char path[64];
    json_t *j = NULL;
    snprintf(path, sizeof path, "/api/v1/jobs/%lld", id);
    assert_int_equal(req(t, "GET", path, NULL, NULL, &j, NULL), 200);
    return j;
}

static char *spec_json(unsigned n, const char *extra)
{
    char sha[65];
    t_sha(n, sha);
    return xasprintf("{\"name\": \"demo-%u\", \"version\": \"1.0\", \"filename\": "
                     "\"demo_%u-1.0.tar.gz\", \"url\": \"https://files.test/demo_%u-1.0.tar.gz\", "
                     "\"sha256\": \"%s\", \"size\": 100%s}", n, n, n, sha, extra ? extra : "");
}

static void test_dispatch_job_life(void **state)
{
    tm_ctx t;
    tm_open(state, &t, NULL);
    json_t *j = NULL;
    char *spec = spec_json(1, NULL);
    assert_int_equal(req(&t, "POST", "/api/v1/jobs", "sub", spec, &j, NULL), 201);
    long long id = json_integer_value(json_object_get(j, "id"));
    assert_true(json_is_true(json_object_get(j, "created")));
    json_decref(j);
    assert_int_equal(req(&t, "POST", "/api/v1/jobs", "sub", spec, &j, NULL), 200);
    assert_false(json_is_true(json_object_get(j, "created")));
    json_decref(j);
    free(spec);

    /* A worker registers, claims, heartbeats, starts, reports. */
    assert_int_equal(req(&t, "PUT", "/api/v1/workers/w1", "wrk",
                         "{\"arch\": \"x86_64\", \"os\": \"linux\", \"pythons\": [\"3.11\"]}", &j,
                         NULL), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "lease_s")), 60);
    json_decref(j);
    assert_int_equal(req(&t, "POST", "/api/v1/workers/w1/claim", "wrk", "{\"max\": 4}", &j, NULL),
                     200);
    json_t *leases = json_object_get(j, "leases");
    assert_int_equal(json_array_size(leases), 1);
    json_t *l = json_array_get(leases, 0);
    assert_int_equal(json_integer_value(json_object_get(l, "job_id")), id);
    assert_int_equal(json_integer_value(json_object_get(l, "attempt")), 1);
    char sha[65];
    t_sha(1, sha);
    assert_string_equal(json_get_str(json_object_get(l, "job"), "sha256"), sha);
    json_decref(j);
    /* Nothing more to claim: an empty answer at once (no wait asked). */
    assert_int_equal(req(&t, "POST", "/api/v1/workers/w1/claim", "wrk", NULL, &j, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(j, "leases")), 0);
    json_decref(j);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/jobs/%lld/attempts/1/start", id);
    assert_int_equal(req(&t, "POST", path, "wrk", NULL, &j, NULL), 200);
    assert_string_equal(json_get_str(j, "state"), "ok");
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/jobs/%lld/attempts/1/heartbeat", id);
    assert_int_equal(req(&t, "POST", path, "sub", NULL, NULL, NULL), 403);
    assert_int_equal(req(&t, "POST", path, "wrk", NULL, &j, NULL), 200);
    json_decref(j);
    assert_int_equal(req(&t, "POST", "/api/v1/workers/w1/heartbeat", "wrk",
                         "{\"state\": \"busy\"}", NULL, NULL), 200);
    assert_int_equal(req(&t, "POST", "/api/v1/workers/w1/heartbeat", "wrk",
                         "{\"state\": \"sleepy\"}", NULL, NULL), 400);

    char rid[33];
    t_report_id(rid);
    json_t *rep = t_report(rid, "demo-1", "1.0", sha, "passed", "2026-12-06T10:00:00Z", "clean");
    json_t *body = json_pack("{s:O, s:{s:s}}", "report", rep, "logs", "worker", "all good");
    json_object_set_new(json_object_get(body, "logs"), "task.extract",
                        json_string("unpacked \xc3\xa9 bytes"));
    char *text = json_dumps(body, 0);
    snprintf(path, sizeof path, "/api/v1/jobs/%lld/attempts/1/result", id);
    assert_int_equal(req(&t, "POST", path, "wrk", text, &j, NULL), 200);
    assert_string_equal(json_get_str(j, "result"), "stored");
    json_decref(j);
    /* Reported twice: stored once. */
    assert_int_equal(req(&t, "POST", path, "wrk", text, &j, NULL), 200);
    assert_string_equal(json_get_str(j, "result"), "duplicate");
    json_decref(j);
    free(text);
    json_decref(body);

    j = get_job(&t, id);
    assert_string_equal(json_get_str(j, "state"), "done");
    assert_string_equal(json_get_str(j, "report_id"), rid);
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/jobs/%lld/report", id);
    assert_int_equal(req(&t, "GET", path, NULL, NULL, &j, NULL), 200);
    assert_true(json_equal(j, rep));
    json_decref(j);
    json_decref(rep);
    snprintf(path, sizeof path, "/api/v1/jobs/%lld/logs/1/task.extract", id);
    master_response resp;
    assert_int_equal(req(&t, "GET", path, NULL, NULL, NULL, &resp), 200);
    assert_string_equal(resp.content_type, "text/plain; charset=utf-8");
    assert_string_equal(buf_cstr(&resp.body), "unpacked \xc3\xa9 bytes");
    master_response_free(&resp);
    snprintf(path, sizeof path, "/api/v1/jobs/%lld/logs/1/../../x", id);
    assert_int_equal(req(&t, "GET", path, NULL, NULL, NULL, NULL), 404);

    /* The catalogue and the lists. */
    assert_int_equal(req(&t, "GET", "/api/v1/jobs?state=done&limit=1", NULL, NULL, &j, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(j, "jobs")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "next_before")), id);
    json_decref(j);
    assert_int_equal(req(&t, "GET", "/api/v1/jobs?state=sleeping", NULL, NULL, NULL, NULL), 400);
    assert_int_equal(req(&t, "GET", "/api/v1/jobs?limit=0", NULL, NULL, NULL, NULL), 400);
    assert_int_equal(req(&t, "GET", "/api/v1/projects?prefix=DEMO", NULL, NULL, &j, NULL), 200);
    assert_string_equal(json_get_str(json_array_get(json_object_get(j, "projects"), 0), "name"),
                        "demo-1");
    json_decref(j);
    assert_int_equal(req(&t, "GET", "/api/v1/projects?prefix=%25", NULL, NULL, NULL, NULL), 400);
    assert_int_equal(req(&t, "GET", "/api/v1/projects/Demo_1", NULL, NULL, &j, NULL), 200);
    assert_string_equal(json_get_str(json_object_get(json_array_get(json_object_get(j, "releases"),
                                                                    0), "latest"), "outcome"),
                        "passed");
    json_decref(j);
    assert_int_equal(req(&t, "GET", "/api/v1/projects/demo-1/1.0", NULL, NULL, &j, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(j, "reports")), 1);
    json_decref(j);
    assert_int_equal(req(&t, "GET", "/api/v1/projects/demo-1/9.9", NULL, NULL, NULL, NULL), 404);
    char rpath[80];
    snprintf(rpath, sizeof rpath, "/api/v1/reports/%.8s", rid);
    assert_int_equal(req(&t, "GET", rpath, NULL, NULL, NULL, NULL), 200);
    assert_int_equal(req(&t, "GET", "/api/v1/reports?project=demo-1", NULL, NULL, &j, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(j, "reports")), 1);
    json_decref(j);
    assert_int_equal(req(&t, "GET", "/api/v1/releases/flagged?kind=suspicious", NULL, NULL, NULL,
                         NULL), 200);
    assert_int_equal(req(&t, "GET", "/api/v1/releases/flagged?kind=odd", NULL, NULL, NULL, NULL),
                     400);
    assert_int_equal(req(&t, "GET", "/api/v1/workers/w1", NULL, NULL, &j, NULL), 200);
    assert_string_equal(json_get_str(j, "state"), "busy");
    json_decref(j);
    assert_int_equal(req(&t, "GET", "/api/v1/workers/nobody", NULL, NULL, NULL, NULL), 404);

    /* Metrics. */
    assert_int_equal(req(&t, "GET", "/metrics", NULL, NULL, NULL, &resp), 200);
    assert_non_null(strstr(buf_cstr(&resp.body), "pyti_jobs{state=\"done\"} 1\n"));
    assert_non_null(strstr(buf_cstr(&resp.body), "pyti_workers{state=\"busy\"} 1\n"));
    assert_non_null(strstr(buf_cstr(&resp.body), "pyti_master_results_total 2\n"));
    assert_string_equal(resp.content_type, "text/plain; version=0.0.4");
    master_response_free(&resp);
    tm_close(&t);
}

/* A result with "next": the answer carries the slot's next lease (the
 * result and the claim in one store call); a bad "next" is refused before
 * anything is stored; with nothing queued, "next" has no leases. */
static void test_dispatch_result_with_next(void **state)
{
    tm_ctx t;
    tm_open(state, &t, NULL);
    json_t *j = NULL;
    long long ids[2];
    for (unsigned i = 0; i < 2; i++) {
        char *spec = spec_json(i + 1, NULL);
        assert_int_equal(req(&t, "POST", "/api/v1/jobs", "sub", spec, &j, NULL), 201);
        ids[i] = json_integer_value(json_object_get(j, "id"));
        json_decref(j);
        free(spec);
    }
    assert_int_equal(req(&t, "PUT", "/api/v1/workers/w1", "wrk", "{}", NULL, NULL), 200);
    assert_int_equal(req(&t, "POST", "/api/v1/workers/w1/claim", "wrk", NULL, &j, NULL), 200);
    assert_int_equal(json_integer_value(
                         json_object_get(json_array_get(json_object_get(j, "leases"), 0), "job_id")),
                     ids[0]);
    json_decref(j);
    char rid[33], sha[65], path[128];
    t_report_id(rid);
    t_sha(1, sha);
    json_t *rep = t_report(rid, "demo-1", "1.0", sha, "passed", "2026-12-06T10:00:00Z", "clean");
    snprintf(path, sizeof path, "/api/v1/jobs/%lld/attempts/1/result", ids[0]);
    static const char *const bad[] = {"\"w1\"", "{}", "{\"worker\": 7}", "{\"worker\": \"\"}",
                                      "{\"worker\": \"w1\", \"max\": 0}",
                                      "{\"worker\": \"w1\", \"max\": 65}",
                                      "{\"worker\": \"w1\", \"max\": \"1\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *rtext = json_dumps(rep, 0);
        char *text = xasprintf("{\"report\": %s, \"next\": %s}", rtext, bad[i]);
        assert_int_equal(req(&t, "POST", path, "wrk", text, &j, NULL), 400);
        assert_non_null(strstr(json_get_str(json_object_get(j, "error"), "message"), "next"));
        json_decref(j);
        free(text);
        free(rtext);
    }
    j = get_job(&t, ids[0]);
    assert_string_equal(json_get_str(j, "state"), "leased");
    json_decref(j);
    /* The result, and the next job with it. */
    json_t *body = json_pack("{s:O, s:{s:s}}", "report", rep, "next", "worker", "w1");
    char *text = json_dumps(body, 0);
    snprintf(path, sizeof path, "/api/v1/jobs/%lld/attempts/1/result", ids[0]);
    assert_int_equal(req(&t, "POST", path, "wrk", text, &j, NULL), 200);
    assert_string_equal(json_get_str(j, "result"), "stored");
    json_t *next = json_object_get(j, "next");
    assert_int_equal(json_integer_value(json_object_get(next, "lease_s")), 60);
    json_t *l = json_array_get(json_object_get(next, "leases"), 0);
    assert_int_equal(json_integer_value(json_object_get(l, "job_id")), ids[1]);
    assert_int_equal(json_integer_value(json_object_get(l, "attempt")), 1);
    t_sha(2, sha);
    assert_string_equal(json_get_str(json_object_get(l, "job"), "sha256"), sha);
    json_decref(j);
    /* The same again: a duplicate; nothing left to lease. */
    assert_int_equal(req(&t, "POST", path, "wrk", text, &j, NULL), 200);
    assert_string_equal(json_get_str(j, "result"), "duplicate");
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "next"), "leases")), 0);
    json_decref(j);
    free(text);
    json_decref(body);
    json_decref(rep);
    j = get_job(&t, ids[1]);
    assert_string_equal(json_get_str(j, "state"), "leased");
    assert_string_equal(json_get_str(j, "worker"), "w1");
    json_decref(j);
    master_response resp;
    assert_int_equal(req(&t, "GET", "/metrics", NULL, NULL, NULL, &resp), 200);
    assert_non_null(strstr(buf_cstr(&resp.body), "pyti_master_leases_total 2\n"));
    master_response_free(&resp);
    tm_close(&t);
}

static void test_dispatch_fail_cancel_retry(void **state)
{
    tm_ctx t;
    tm_open(state, &t, "max_attempts = 2\nretry_backoff = 0\n");
    json_t *j;
    char *spec = spec_json(2, ", \"python\": \"3.11\"");
    assert_int_equal(req(&t, "POST", "/api/v1/jobs", "adm", spec, &j, NULL), 201);
    long long id = json_integer_value(json_object_get(j, "id"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "job"),
                                                        "max_attempts")), 2);
    json_decref(j);
    free(spec);
    /* A worker without a Python 3.11 gets nothing; one with it does. */
    assert_int_equal(req(&t, "PUT", "/api/v1/workers/old", "wrk", "{\"pythons\": [\"3.9\"]}",
                         NULL, NULL), 200);
    assert_int_equal(req(&t, "POST", "/api/v1/workers/old/claim", "wrk", "{\"wait\": 0.3}", &j,
                         NULL), 200);
    assert_int_equal(json_array_size(json_object_get(j, "leases")), 0);
    json_decref(j);
    assert_int_equal(req(&t, "PUT", "/api/v1/workers/new", "wrk", "{\"pythons\": [\"3.11.2\"]}",
                         NULL, NULL), 200);
    char path[128];
    for (int attempt = 1; attempt <= 2; attempt++) {
        assert_int_equal(req(&t, "POST", "/api/v1/workers/new/claim", "wrk", "{\"wait\": 2}", &j,
                             NULL), 200);
        assert_int_equal(json_array_size(json_object_get(j, "leases")), 1);
        json_decref(j);
        snprintf(path, sizeof path, "/api/v1/jobs/%lld/attempts/%d/fail", id, attempt);
        assert_int_equal(req(&t, "POST", path, "wrk",
                             "{\"retryable\": true, \"message\": \"disk full\", "
                             "\"logs\": {\"worker\": \"no space\"}}", &j, NULL), 200);
        assert_string_equal(json_get_str(j, "result"), attempt == 1 ? "retry" : "failed");
        json_decref(j);
    }
    snprintf(path, sizeof path, "/api/v1/jobs/%lld/logs/2/worker", id);
    assert_int_equal(req(&t, "GET", path, NULL, NULL, NULL, NULL), 200);
    snprintf(path, sizeof path, "/api/v1/jobs/%lld/cancel", id);
    assert_int_equal(req(&t, "POST", path, "adm", NULL, NULL, NULL), 409); /* failed */
    snprintf(path, sizeof path, "/api/v1/jobs/%lld/retry", id);
    assert_int_equal(req(&t, "POST", path, "sub", NULL, NULL, NULL), 403);
    assert_int_equal(req(&t, "POST", path, "adm", NULL, &j, NULL), 200);
    assert_string_equal(json_get_str(json_object_get(j, "job"), "state"), "queued");
    json_decref(j);
    snprintf(path, sizeof path, "/api/v1/jobs/%lld/cancel", id);
    assert_int_equal(req(&t, "POST", path, "adm", NULL, &j, NULL), 200);
    assert_true(json_is_true(json_object_get(j, "changed")));
    json_decref(j);
    assert_int_equal(req(&t, "GET", path, "adm", NULL, NULL, NULL), 405);
    assert_int_equal(req(&t, "POST", "/api/v1/jobs/999/cancel", "adm", NULL, NULL, NULL), 404);
    tm_close(&t);
}

static void test_dispatch_bad_requests(void **state)
{
    tm_ctx t;
    tm_open(state, &t, "public_read = false\n[feeds]\ndeny = blocked\n");
    json_t *j;
    assert_int_equal(req(&t, "GET", "/api/v1/jobs", NULL, NULL, &j, NULL), 401);
    assert_string_equal(json_get_str(json_object_get(j, "error"), "code"), "unauthorized");
    json_decref(j);
    assert_int_equal(req(&t, "GET", "/", NULL, NULL, NULL, NULL), 401);
    assert_int_equal(req(&t, "GET", "/api/v1", "wrk", NULL, NULL, NULL), 200);
    assert_int_equal(req(&t, "POST", "/api/v1/jobs", "sub", "{\"name\": }", &j, NULL), 400);
    assert_non_null(strstr(json_get_str(json_object_get(j, "error"), "message"),
                           "request body: line 1, column"));
    json_decref(j);
    assert_int_equal(req(&t, "POST", "/api/v1/jobs", "sub", "[1, 2]", &j, NULL), 400);
    assert_non_null(strstr(json_get_str(json_object_get(j, "error"), "message"), "[0]"));
    json_decref(j);
    char *spec = spec_json(3, ", \"path\": \"/etc/shadow\"");
    assert_int_equal(req(&t, "POST", "/api/v1/jobs", "sub", spec, NULL, NULL), 400);
    free(spec);
    spec = spec_json(3, NULL);
    char *bad = xasprintf("%.*s, \"url\": \"file:///etc/shadow\"}", (int)strlen(spec) - 1, spec);
    free(spec);
    char *recipe_path = spec_json(5, ", \"recipe\": \"/tmp/evil.ini\"");
    assert_int_equal(req(&t, "POST", "/api/v1/jobs", "sub", recipe_path, &j, NULL), 400);
    assert_non_null(strstr(json_get_str(json_object_get(j, "error"), "message"), "recipe"));
    json_decref(j);
    free(recipe_path);
    /* Duplicate keys are refused too. */
    assert_int_equal(req(&t, "POST", "/api/v1/jobs", "sub", bad, &j, NULL), 400);
    json_decref(j);
    free(bad);
    char sha[65];
    t_sha(4, sha);
    char *blocked = xasprintf("{\"name\": \"Blocked\", \"version\": \"1\", \"filename\": "
                              "\"blocked-1.tar.gz\", \"url\": \"https://x.test/b.tar.gz\", "
                              "\"sha256\": \"%s\"}", sha);
    assert_int_equal(req(&t, "POST", "/api/v1/jobs", "sub", blocked, NULL, NULL), 403);
    free(blocked);
    assert_int_equal(req(&t, "POST", "/api/v1/jobs/1/attempts/x/heartbeat", "wrk", NULL, NULL,
                         NULL), 404);
    assert_int_equal(req(&t, "POST", "/api/v1/jobs/1/attempts/1/explode", "wrk", NULL, NULL, NULL),
                     404);
    assert_int_equal(req(&t, "POST", "/api/v1/jobs/1/attempts/1/logs/a%2Fb", "wrk", "x", NULL,
                         NULL), 400);
    assert_int_equal(req(&t, "PATCH", "/api/v1/workers/x", "wrk", NULL, NULL, NULL), 405);
    assert_int_equal(req(&t, "PUT", "/api/v1/workers/bad id!", "wrk", "{}", NULL, NULL), 400);
    assert_int_equal(req(&t, "POST", "/metrics", "adm", NULL, NULL, NULL), 405);
    assert_int_equal(req(&t, "GET", "/api/v2/jobs", "adm", NULL, NULL, NULL), 404);
    assert_int_equal(req(&t, "GET", "/api/v1/files/xyz/a.whl", "adm", NULL, NULL, NULL), 404);
    master_response resp;
    assert_int_equal(req(&t, "GET", "/", "adm", NULL, NULL, &resp), 200);
    assert_string_equal(resp.content_type, "text/html; charset=utf-8");
    master_response_free(&resp);
    tm_close(&t);
}

static void test_dispatch_uploads(void **state)
{
    tm_ctx t;
    tm_open(state, &t, "[feeds]\nrecipe = static\n");
    const char *data = "not really a gzip, but the master does not look inside";
    char *form = xasprintf("--b\r\nContent-Disposition: form-data; name=\"file\"; "
                           "filename=\"up_pkg-2.0.tar.gz\"\r\n\r\n%s\r\n"
                           "--b\r\nContent-Disposition: form-data; name=\"priority\"\r\n\r\n7\r\n"
                           "--b--\r\n", data);
    master_request r = {0};
    pyti_strv q = PYTI_STRV_INIT;
    r.method = "POST";
    r.path = "/api/v1/jobs";
    r.query = &q;
    r.authorization = "Bearer sub";
    r.content_type = "multipart/form-data; boundary=b";
    r.body = form;
    r.body_len = strlen(form);
    master_response resp;
    master_response_init(&resp);
    master_dispatch(t.m, &r, &resp);
    assert_int_equal(resp.status, 201);
    json_t *j = json_loads(buf_cstr(&resp.body), 0, NULL);
    master_response_free(&resp);
    json_t *job = json_object_get(j, "job");
    assert_string_equal(json_get_str(job, "created_by"), "api");
    assert_int_equal(json_integer_value(json_object_get(job, "priority")), 7);
    char sha[65];
    hash_sha256_hex(data, strlen(data), sha);
    assert_string_equal(json_get_str(job, "sha256"), sha);
    char *url = xasprintf("http://master.test:1/api/v1/files/%s/up_pkg-2.0.tar.gz", sha);
    assert_string_equal(json_get_str(job, "url"), url);
    free(url);
    char *stored = t_slurp(json_get_str(job, "path"));
    assert_string_equal(stored, data);
    free(stored);
    json_decref(j);
    /* The file is served back. */
    char *fpath = xasprintf("/api/v1/files/%s/up_pkg-2.0.tar.gz", sha);
    assert_int_equal(req(&t, "GET", fpath, "wrk", NULL, NULL, &resp), 200);
    assert_true(resp.fd >= 0);
    assert_int_equal(resp.fd_size, strlen(data));
    master_response_free(&resp);
    free(fpath);
    fpath = xasprintf("/api/v1/files/%s/other-1.0.tar.gz", sha);
    assert_int_equal(req(&t, "GET", fpath, "wrk", NULL, NULL, NULL), 404);
    free(fpath);

    /* twine's form at /legacy/. */
    char *twine = xasprintf(
        "--t\r\nContent-Disposition: form-data; name=\":action\"\r\n\r\nfile_upload\r\n"
        "--t\r\nContent-Disposition: form-data; name=\"protocol_version\"\r\n\r\n1\r\n"
        "--t\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nUp.Pkg\r\n"
        "--t\r\nContent-Disposition: form-data; name=\"version\"\r\n\r\n2.0.0\r\n"
        "--t\r\nContent-Disposition: form-data; name=\"sha256_digest\"\r\n\r\n%s\r\n"
        "--t\r\nContent-Disposition: form-data; name=\"content\"; filename=\"up_pkg-2.0.tar.gz\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n%s\r\n--t--\r\n", sha, data);
    r.path = "/legacy/";
    r.content_type = "multipart/form-data; boundary=t";
    r.body = twine;
    r.body_len = strlen(twine);
    master_response_init(&resp);
    master_dispatch(t.m, &r, &resp);
    assert_int_equal(resp.status, 200);
    j = json_loads(buf_cstr(&resp.body), 0, NULL);
    /* The same file and recipe... but uploads take [feeds] recipe. */
    assert_true(json_is_true(json_object_get(j, "created")));
    json_decref(j);
    master_response_free(&resp);
    r.authorization = "Bearer wrk";
    master_response_init(&resp);
    master_dispatch(t.m, &r, &resp);
    assert_int_equal(resp.status, 403);
    master_response_free(&resp);
    free(twine);
    free(form);
    strv_free(&q);
    tm_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multipart_parses_a_form),
        cmocka_unit_test(test_multipart_refuses_malformed),
        cmocka_unit_test(test_rss_parses_pypi_feeds),
        cmocka_unit_test(test_rss_refuses_what_is_not_rss),
        cmocka_unit_test(test_serial_index_and_cursor),
        cmocka_unit_test(test_tokens_and_roles),
        cmocka_unit_test(test_settings_defaults_and_errors),
        T_BOTH(test_dispatch_job_life),
        T_BOTH(test_dispatch_result_with_next),
        T_BOTH(test_dispatch_fail_cancel_retry),
        T_BOTH(test_dispatch_bad_requests),
        T_BOTH(test_dispatch_uploads),
    };
    return cmocka_run_group_tests_name("master", tests, NULL, NULL);
}
