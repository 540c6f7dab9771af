/* test_web.c — the web dashboard (src/web/) and the store queries behind
 * it (store/dashboard.h): escaping and URL handling, the SVG charts
 * (well-formed, escaped, gaps), and every page rendered by web_render from
 * a store filled here, on SQLite and PostgreSQL — including reports whose
 * metadata, file names, findings, logs and behaviour events carry script
 * payloads: the HTML is parsed (libxml2) and must contain no script
 * element, no event-handler attribute and no javascript: URL, and the
 * payloads must appear as text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/jsonutil.h"
#include "common/xalloc.h"
#include "exec/metrics.h"
#include "store/dashboard.h"
#include "store_support.h"
#include "web/html.h"
#include "web/svg.h"
#include "web/report_renderer.h"
#include "web/web.h"

#define XSS "<script>alert('x')</script>\"><img src=x onerror=alert(1)>"

/* ---- escaping ---- */

static void test_escape(void **state)
{
    (void)state;
    pyti_buf b = PYTI_BUF_INIT;
    html_text(&b, "<a href=\"x\">&'</a>");
    assert_string_equal(buf_cstr(&b), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    buf_reset(&b);
    /* invalid UTF-8, a control character and DEL become U+FFFD; valid
     * multi-byte text stays */
    html_text(&b, "a\xff" "b\x01" "c\x7f" "d\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_string_equal(buf_cstr(&b), "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd"
                                      "d\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    buf_reset(&b);
    /* overlong and surrogate encodings are invalid */
    html_text(&b, "\xc0\xbc\xed\xa0\x80");
    assert_null(strchr(buf_cstr(&b), '<'));
    assert_non_null(strstr(buf_cstr(&b), "\xef\xbf\xbd"));
    buf_reset(&b);
    html_textn(&b, "a\0b", 3);
    assert_string_equal(buf_cstr(&b), "a\xef\xbf\xbd" "b");
    buf_reset(&b);
    html_url_encode(&b, "a b/c?d=<e>&f");
    assert_string_equal(buf_cstr(&b), "a%20b%2Fc%3Fd%3D%3Ce%3E%26f");
    buf_reset(&b);
    hf(&b, "<p title=\"%s\">%s %r %u %d %L %.1f %%</p>", "\"q\"", "<b>", "<i>", "x y", 7,
       (long long)1 << 40, 2.25);
    assert_string_equal(buf_cstr(&b),
                        "<p title=\"&quot;q&quot;\">&lt;b&gt; <i> x%20y 7 1099511627776 2.3 %</p>");
    buf_reset(&b);
    hf(&b, "%.1f %.1f %.0f %.2f %.3f %.1f %f", 0.04, -0.05, 2.5, -3.14159, 1e12 + 0.25, 1e20,
       0.5);
    assert_string_equal(buf_cstr(&b), "0.0 -0.1 3 -3.14 1000000000000.250 "
                                      "100000000000000000000.0 0.500000");
    buf_reset(&b);
    hf(&b, "%d %d %d %L %L %L %.2f", 0, -7, INT_MIN, (long long)-1, LLONG_MIN, LLONG_MAX, -0.001);
    assert_string_equal(buf_cstr(&b), "0 -7 -2147483648 -1 -9223372036854775808 "
                                      "9223372036854775807 0.00");
    buf_free(&b);
}

static void test_url_decode(void **state)
{
    (void)state;
    char *s = html_url_decode("a%20b+c%2F", 10, 1);
    assert_string_equal(s, "a b c/");
    free(s);
    s = html_url_decode("a+b", 3, 0);
    assert_string_equal(s, "a+b");
    free(s);
    assert_null(html_url_decode("%zz", 3, 0));
    assert_null(html_url_decode("%2", 2, 0));
    assert_null(html_url_decode("%\x10" "1", 3, 0)); /* only hex digits are digits */
    s = html_url_decode("%4a%4A", 6, 0);
    assert_string_equal(s, "JJ");
    free(s);
    assert_null(html_url_decode("a%00b", 5, 0)); /* no NUL smuggling */
    s = html_query_get("x=1&q=py%2Dti&z", "q");
    assert_string_equal(s, "py-ti");
    free(s);
    s = html_query_get("x=1&z", "z");
    assert_string_equal(s, "");
    free(s);
    assert_null(html_query_get("x=1", "q"));
    assert_null(html_query_get("q=%G0", "q"));
}

/* ---- SVG ---- */

static xmlDocPtr parse_xml(const pyti_buf *b)
{
    xmlDocPtr doc = xmlReadMemory(buf_cstr(b), (int)b->len, "chart.svg", "UTF-8",
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    assert_non_null(doc); /* well-formed XML */
    return doc;
}

static int count_elems(xmlNodePtr n, const char *name)
{
    int c = 0;
    for (; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
            c++;
        c += count_elems(n->children, name);
    }
    return c;
}

static void test_svg(void **state)
{
    (void)state;
    pyti_buf b = PYTI_BUF_INIT;
    double done[] = {1, 0, 3, NAN}, failed[] = {0, 2, 1, 0};
    const char *labels[] = {"10:00", XSS, "12:00", NULL};
    svg_series series[] = {{"done", "c-done", done}, {"fail<ed>", "c-failed", failed}};
    svg_stacked_bars(&b, "Jobs <per> hour", labels, 4, series, 2, 500, 200);
    assert_null(strstr(buf_cstr(&b), "<script"));
    xmlDocPtr doc = parse_xml(&b);
    /* 4 non-zero values + 2 legend boxes */
    assert_int_equal(count_elems(xmlDocGetRootElement(doc), "rect"), 6);
    xmlFreeDoc(doc);

    buf_reset(&b);
    double vals[] = {1, NAN, 3, 4};
    const char *tips[] = {"one", "two", "<three>", "four"};
    int marks[] = {0, 0, 0, 1};
    svg_line_chart(&b, "Coverage", labels, tips, vals, marks, 4, 0, 0, 400, 200);
    doc = parse_xml(&b);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    assert_int_equal(count_elems(root, "polyline"), 2); /* broken at the gap */
    assert_int_equal(count_elems(root, "circle"), 3);
    assert_non_null(strstr(buf_cstr(&b), "class=\"pt reg\""));
    xmlFreeDoc(doc);

    buf_reset(&b);
    svg_gantt_bar bars[] = {{"extract", 0, 0.5, "c-passed", "passed"},
                            {"build", 0.5, 0, "c-skipped", XSS},
                            {"test", 0.5, 10, "c-failed", "failed"}};
    svg_gantt(&b, "Tasks", bars, 3, 800);
    doc = parse_xml(&b);
    assert_int_equal(count_elems(xmlDocGetRootElement(doc), "rect"), 3);
    assert_non_null(strstr(buf_cstr(&b), "width=\"2.0\"")); /* zero-length stays visible */
    xmlFreeDoc(doc);
    buf_free(&b);
}

/* ---- pages ---- */

/* Checks a rendered page: parses as HTML; no script, no handlers, no
 * javascript: URLs, no external resources. */
static void check_no_active_content(xmlNodePtr n)
{
    for (; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE) {
            const char *name = (const char *)n->name;
            assert_true(strcasecmp(name, "script") != 0);
            assert_true(strcasecmp(name, "iframe") != 0);
            assert_true(strcasecmp(name, "object") != 0);
            assert_true(strcasecmp(name, "embed") != 0);
            assert_true(strcasecmp(name, "img") != 0);
            if (strcasecmp(name, "link") == 0) { /* only the empty icon */
                xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");
                assert_true(href && strcmp((const char *)href, "data:,") == 0);
                xmlFree(href);
            }
            for (xmlAttrPtr a = n->properties; a; a = a->next) {
                const char *an = (const char *)a->name;
                if (strncasecmp(an, "on", 2) == 0)
                    fail_msg("event handler attribute %s on <%s>", an, name);
                xmlChar *v = xmlNodeGetContent((xmlNodePtr)a);
                if (v && (strcasecmp(an, "href") == 0 || strcasecmp(an, "src") == 0 ||
                          strcasecmp(an, "action") == 0)) {
                    const char *u = (const char *)v;
                    while (*u == ' ')
                        u++;
                    if (strncasecmp(u, "javascript:", 11) == 0 || strncasecmp(u, "http", 4) == 0 ||
                        strncmp(u, "//", 2) == 0)
                        fail_msg("<%s %s=\"%s\">", name, an, u);
                }
                xmlFree(v);
            }
        }
        check_no_active_content(n->children);
    }
}

static void check_page(const web_page *p)
{
    htmlDocPtr doc = htmlReadMemory(buf_cstr(&p->body), (int)p->body.len, "page.html", "UTF-8",
                                    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
    assert_non_null(doc);
    check_no_active_content(xmlDocGetRootElement(doc));
    xmlFreeDoc(doc);
    assert_non_null(strstr(buf_cstr(&p->body), "</html>"));
}

static int render(pyti_store *s, const char *path, const char *query, web_page *p)
{
    web_page_free(p);
    web_page_init(p);
    pyti_error err;
    pyti_status rc = web_render(s, path, query, p, &err);
    if (rc != PYTI_OK)
        fail_msg("web_render %s: %s", path, err.msg);
    check_page(p);
    return p->status;
}

static bool has(const web_page *p, const char *s)
{
    return strstr(buf_cstr(&p->body), s) != NULL;
}

/* A report of project NAME VERSION with the tasks the pages show, every
 * package-controlled string carrying XSS, and metrics. */
static json_t *rich_report(const char *id, const char *name, const char *version, unsigned sha,
                           const char *created, const char *outcome, const char *safety,
                           int tests_failed)
{
    char sh[65];
    t_sha(sha, sh);
    json_t *r = t_report(id, name, version, sh, outcome, created, safety);
    json_t *tasks = json_object_get(r, "tasks");
    json_t *md = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s], s:s}", "name", name, "version",
                           version, "summary", "summary " XSS, "description",
                           "description " XSS, "license", "MIT", "project_url",
                           "Home, javascript:alert(1)", "author", "Eve " XSS);
    json_array_append_new(tasks,
                          json_pack("{s:s, s:s, s:s, s:n, s:s, s:f, s:{s:o}, s:s}", "name",
                                    "metadata", "builtin", "metadata", "status", "passed",
                                    "reason", "started", created, "duration_s", 0.01, "data",
                                    "metadata", md, "log", "log line " XSS));
    json_t *ev = json_pack("[{s:f, s:i, s:s, s:s, s:s, s:[s]}]", "time", 0.5, "pid", 42, "comm",
                           "python3 " XSS, "syscall", "connect", "action", "denied", "args",
                           "10.0.0.1:443 " XSS);
    json_array_append_new(
        tasks, json_pack("{s:s, s:s, s:s, s:n, s:s, s:f, s:{s:{s:o, s:i}}, s:s}", "name",
                         "install", "builtin", "install", "status", "passed", "reason", "started",
                         created, "duration_s", 2.0, "data", "sandbox", "events", ev,
                         "events_dropped", 0, "log", "pip says " XSS));
    json_array_append_new(
        tasks,
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:{s:{s:i,s:i,s:i,s:i,s:i,s:i}, s:s,"
                  " s:[{s:s, s:s}], s:[s]}}",
                  "name", "test", "builtin", "test", "status", tests_failed ? "failed" : "passed",
                  "reason", tests_failed ? "1 failed" : "", "started", created, "duration_s", 1.0,
                  "data", "counts", "tests", 2, "passed", 2 - tests_failed, "failures",
                  tests_failed, "errors", 0, "skipped", 0, "collection_errors", 0, "runner",
                  "pytest", "failed_tests", "test", tests_failed ? "tests::test_b" : "none",
                  "message", "assert " XSS, "passed_tests", "tests::test_b"));
    json_array_append_new(json_object_get(r, "findings"),
                          json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", "scan.exec-base64",
                                    "severity", "high", "message", "exec of " XSS, "where",
                                    "pkg/" XSS ".py:3", "task", "scan", "excerpt",
                                    "exec(b64decode('" XSS "'))"));
    json_object_set_new(r, "metrics", metrics_compute(r));
    return r;
}

static void fill_store(pyti_store *s)
{
    pyti_error err;
    const char *ids[] = {"a0000000000000000000000000000001", "a0000000000000000000000000000002",
                         "a0000000000000000000000000000003"};
    json_t *r1 = rich_report(ids[0], "demo", "1.0", 1, "2026-12-01T10:00:00.000Z", "passed",
                             "clean", 0);
    json_t *r2 = rich_report(ids[1], "demo", "1.1", 2, "2026-12-02T10:00:00.000Z", "failed",
                             "suspicious", 1);
    json_t *r3 = rich_report(ids[2], "evil" XSS, "6.6.6", 3, "2026-12-03T10:00:00.000Z",
                             "failed", "malicious", 0);
    /* r3 has the tracer's report-level timeline (exec/report_events.c). */
    json_object_set_new(r3, "events",
                        json_pack("[{s:s, s:f, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s}]",
                                  "time", "2026-12-03T10:00:01.500Z", "t", 1.5, "task", "import",
                                  "phase", "import", "pid", 77, "process", "python3 " XSS, "kind",
                                  "network", "syscall", "connect", "action", "denied", "object",
                                  "203.0.113.9:443 " XSS, "severity", "high", "finding",
                                  "trace.network-connect"));
    json_object_set_new(r3, "events_dropped", json_integer(4));
    json_t *rs[] = {r1, r2, r3};
    for (int i = 0; i < 3; i++) {
        if (store_put_report(s, rs[i], NULL, &err) != PYTI_OK)
            fail_msg("store: %s", err.msg);
        json_decref(rs[i]);
    }
    /* A worker and a job it ran, with a log. */
    t_worker(s, "w1@x", "x86_64", "linux", 4096, "3.11", NULL);
    store_job_spec spec;
    t_spec(&spec, 7);
    long long job;
    bool created;
    assert_int_equal(store_job_submit(s, &spec, &job, &created, &err), PYTI_OK);
    store_lease lease;
    bool claimed;
    assert_int_equal(store_job_claim(s, "w1@x", 0, &lease, &claimed, &err), PYTI_OK);
    assert_true(claimed);
    char sh[65], id[33];
    t_sha(7, sh);
    t_report_id(id);
    json_t *rep = t_report(id, "demo-7", "1.0", sh, "passed", "2026-12-04T10:00:00.000Z", NULL);
    store_result res;
    assert_int_equal(store_job_complete(s, job, lease.attempt, rep, &res, &err), PYTI_OK);
    assert_int_equal(store_put_log(s, job, lease.attempt, "worker", "log " XSS, 20, NULL, &err),
                     PYTI_OK);
    store_lease_clear(&lease);
    json_decref(rep);
}

static void test_pages(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    fill_store(s);
    web_page p;
    web_page_init(&p);

    assert_int_equal(render(s, "/", NULL, &p), 200);
    assert_true(has(&p, "Overview"));
    assert_true(has(&p, "<svg"));
    assert_true(has(&p, "w1@x")); /* the worker, escaped */
    assert_true(has(&p, "/project/demo/1.1")); /* failing and suspicious */

    assert_int_equal(render(s, "/project/demo", NULL, &p), 200);
    assert_true(has(&p, "1.0"));
    assert_true(has(&p, "class=\"regression\"")); /* 1.1 regressed */
    assert_true(has(&p, "newly suspicious"));
    assert_true(has(&p, "<polyline")); /* trend charts */
    assert_int_equal(render(s, "/project/Demo", NULL, &p), 200); /* any spelling */

    assert_int_equal(render(s, "/project/demo/1.1", NULL, &p), 200);
    assert_true(has(&p, "Since the previous release (1.0)"));
    assert_true(has(&p, "tests::test_b")); /* passed in 1.0, fails in 1.1 */
    assert_true(has(&p, "summary &lt;script&gt;"));
    assert_true(has(&p, "log line &lt;script&gt;"));
    assert_true(has(&p, "exec(b64decode(&#39;&lt;script&gt;"));
    assert_true(has(&p, "python3 &lt;script&gt;")); /* event process */
    assert_true(has(&p, "10.0.0.1:443 &lt;script&gt;")); /* event argument */
    assert_true(has(&p, "/catalogue#metric-coverage"));
    assert_true(has(&p, "<h3>install &mdash; 1 event</h3>")); /* grouped by phase */

    assert_int_equal(render(s, "/report/a0000000000000000000000000000003", NULL, &p), 200);
    assert_true(has(&p, "evil&lt;script&gt;"));
    /* the tracer's timeline, grouped by phase, escaped, seconds from the start */
    assert_true(has(&p, "<h3>import &mdash; 1 event</h3>"));
    assert_true(has(&p, "203.0.113.9:443 &lt;script&gt;"));
    assert_true(has(&p, "1.500 s"));
    assert_true(has(&p, "4 events were not recorded"));
    assert_true(has(&p, "/project/evil%3Cscript%3E"));
    /* the page's own links of that project are encoded, and work */
    assert_int_equal(render(s, "/project/evil%3Cscript%3Ealert('x')%3C%2Fscript%3E%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
                            NULL, &p), 200);

    assert_int_equal(render(s, "/workers", NULL, &p), 200);
    assert_true(has(&p, "w1@x"));
    assert_int_equal(render(s, "/job/1", NULL, &p), 200);
    assert_true(has(&p, "attempt 1: worker &mdash; 20 bytes"));
    assert_true(has(&p, "log &lt;script&gt;")); /* its content, escaped */
    assert_int_equal(render(s, "/catalogue", NULL, &p), 200);
    assert_true(has(&p, "id=\"metric-tests.pass_rate\""));

    assert_int_equal(render(s, "/search", "q=dem", &p), 200);
    assert_true(has(&p, "href=\"/project/demo\""));
    assert_true(has(&p, "href=\"/project/demo-7\""));
    assert_int_equal(render(s, "/search", "q=" "%3Cscript%3E", &p), 200);
    assert_true(has(&p, "value=\"&lt;script&gt;\""));
    assert_int_equal(render(s, "/search", "q=%25", &p), 200); /* % is literal: no match */
    assert_true(has(&p, "0 projects"));

    /* not found, malformed */
    assert_int_equal(render(s, "/project/nope", NULL, &p), 404);
    assert_int_equal(render(s, "/project/demo/9.9", NULL, &p), 404);
    assert_int_equal(render(s, "/report/zz", NULL, &p), 404);
    assert_int_equal(render(s, "/report/b0000000000000000000000000000001", NULL, &p), 404);
    assert_int_equal(render(s, "/job/99999", NULL, &p), 404);
    assert_int_equal(render(s, "/job/abc", NULL, &p), 404);
    assert_int_equal(render(s, "/nothing/here", NULL, &p), 404);
    assert_int_equal(render(s, "/project/%zz", NULL, &p), 400);
    assert_int_equal(render(s, "/project/a%00b", NULL, &p), 400);
    assert_int_equal(render(s, "/a/b/c/d/e", NULL, &p), 400);
    assert_int_equal(render(s, "/search", "q=%G1", &p), 400);
    web_page_free(&p);
    store_close(s);
}

static void test_standalone(void **state)
{
    (void)state;
    json_t *r = rich_report("c0000000000000000000000000000001", "demo", "2.0", 9,
                            "2026-12-05T10:00:00.000Z", "failed", "suspicious", 1);
    web_page p;
    web_page_init(&p);
    web_report_standalone(r, &p.body);
    check_page(&p);
    assert_true(has(&p, "href=\"#metric-coverage\""));
    assert_true(has(&p, "id=\"metric-coverage\""));
    assert_false(has(&p, "href=\"/")); /* no link needs a server */
    web_page_free(&p);
    json_decref(r);
}

/* The overview's cache: a copy served while fresh, per store, off by
 * default. */
static void test_overview_cache(void **state)
{
    (void)state;
    char *la = t_store_location_for(&T_SQLITE), *lb = t_store_location_for(&T_SQLITE);
    pyti_store *a = t_store_open(la), *b = t_store_open(lb);
    web_page p;
    web_page_init(&p);
    web_set_overview_cache(60000);
    assert_int_equal(render(a, "/", NULL, &p), 200);
    assert_false(has(&p, "w9"));
    t_worker(a, "w9", "x86_64", "linux", 1024, "3.11", NULL);
    assert_int_equal(render(a, "/", NULL, &p), 200);
    assert_false(has(&p, "w9")); /* the cached copy */
    t_worker(b, "w8", "x86_64", "linux", 1024, "3.11", NULL);
    assert_int_equal(render(b, "/", NULL, &p), 200);
    assert_true(has(&p, "w8")); /* another store: its own page */
    web_set_overview_cache(0);
    assert_int_equal(render(a, "/", NULL, &p), 200);
    assert_true(has(&p, "w9"));

    /* Expired, the copy is still served — the request that finds it so
     * starts a refresh on a thread of its own and does not wait for it —
     * and the refreshed copy follows. */
    web_set_overview_cache(40);
    assert_int_equal(render(a, "/", NULL, &p), 200);
    t_worker(a, "w7", "x86_64", "linux", 1024, "3.11", NULL);
    struct timespec pause = {0, 60 * 1000000L};
    nanosleep(&pause, NULL);
    assert_int_equal(render(a, "/", NULL, &p), 200);
    assert_false(has(&p, "w7"));
    bool seen = false;
    for (int i = 0; i < 200 && !seen; i++) {
        nanosleep(&pause, NULL);
        assert_int_equal(render(a, "/", NULL, &p), 200);
        seen = has(&p, "w7");
    }
    assert_true(seen);
    web_set_overview_cache(0); /* waits for a refresh in flight */
    web_page_free(&p);
    store_close(a);
    store_close(b);
    free(la);
    free(lb);
}

/* Many threads, each with its own handle, render the overview while its
 * copy keeps expiring: every page complete, no crash (ASan in CI). */
typedef struct render_arg {
    const char *loc;
    int ok;
} render_arg;

static void *render_thread(void *p)
{
    render_arg *a = p;
    pyti_store *s = t_store_open(a->loc);
    for (int i = 0; i < 20; i++) {
        web_page page;
        web_page_init(&page);
        if (web_render(s, "/", NULL, &page, NULL) == PYTI_OK && page.status == 200 &&
            strstr(buf_cstr(&page.body), "</html>"))
            a->ok++;
        web_page_free(&page);
    }
    store_close(s);
    return NULL;
}

static void test_overview_cache_threads(void **state)
{
    (void)state;
    char *loc = t_store_location_for(&T_SQLITE);
    store_close(t_store_open(loc));
    web_set_overview_cache(2);
    enum { N = 6 };
    pthread_t th[N];
    render_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (render_arg){loc, 0};
        pthread_create(&th[i], NULL, render_thread, &args[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].ok, 20);
    }
    web_set_overview_cache(0);
    free(loc);
}

/* ---- the store queries ---- */

static void test_dashboard_queries(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    fill_store(s);
    pyti_error err;
    json_t *h = store_project_history(s, "DEMO", &err);
    assert_non_null(h);
    assert_string_equal(json_get_str(h, "project"), "demo");
    const json_t *rels = json_object_get(h, "releases");
    assert_int_equal(json_array_size(rels), 2);
    const json_t *newest = json_array_get(rels, 0);
    assert_string_equal(json_get_str(newest, "version"), "1.1");
    const json_t *v = json_object_get(json_object_get(newest, "values"), "tests.pass_rate");
    assert_true(json_is_number(v) && fabs(json_number_value(v) - 0.5) < 1e-9);
    json_decref(h);
    h = store_project_history(s, "nope", &err);
    assert_true(json_is_null(h));
    json_decref(h);

    json_t *sr = store_search_projects(s, "EVIL", 10, &err);
    assert_int_equal(json_array_size(sr), 1);
    json_decref(sr);
    sr = store_search_projects(s, "%", 10, &err); /* literal, not a wildcard */
    assert_int_equal(json_array_size(sr), 0);
    json_decref(sr);
    sr = store_search_projects(s, "demo", 10, &err);
    assert_int_equal(json_array_size(sr), 2);
    assert_string_equal(json_get_str(json_array_get(sr, 0), "name"), "demo"); /* exact first */
    json_decref(sr);

    json_t *tp = store_throughput(s, 24 * 3600, 3600, &err);
    assert_non_null(tp);
    const json_t *buckets = json_object_get(tp, "buckets");
    assert_int_equal(json_array_size(buckets), 24);
    long long done = 0;
    size_t i;
    const json_t *o;
    json_array_foreach(buckets, i, o) done += json_integer_value(json_object_get(o, "done"));
    assert_int_equal(done, 1);
    json_decref(tp);
    assert_null(store_throughput(s, 10, 0, &err));

    json_t *days = store_verdicts_by_day(s, 366, &err);
    assert_int_equal(json_array_size(days), 366);
    long long failed = 0, susp = 0, mal = 0;
    json_array_foreach(days, i, o) {
        failed += json_integer_value(json_object_get(o, "failed"));
        susp += json_integer_value(json_object_get(o, "suspicious"));
        mal += json_integer_value(json_object_get(o, "malicious"));
    }
    assert_int_equal(failed, 2);
    assert_int_equal(susp, 1);
    assert_int_equal(mal, 1);
    json_decref(days);

    json_t *slow = store_slow_jobs(s, 3600, 5, &err);
    assert_int_equal(json_array_size(slow), 1);
    assert_string_equal(json_get_str(json_array_get(slow, 0), "worker"), "w1@x");
    json_decref(slow);

    char *prev_id = NULL;
    assert_int_equal(store_previous_release_report(s, "Demo", "1.1", &prev_id, &err), PYTI_OK);
    assert_string_equal(prev_id, "a0000000000000000000000000000001");
    free(prev_id);
    assert_int_equal(store_previous_release_report(s, "demo", "1.0", &prev_id, &err), PYTI_OK);
    assert_null(prev_id);
    assert_int_equal(store_previous_release_report(s, "nothing", "1.0", &prev_id, &err), PYTI_OK);
    assert_null(prev_id);
    json_t *he = store_report_history_entry(s, "a0000000000000000000000000000002", &err);
    assert_non_null(he);
    assert_string_equal(json_get_str(he, "version"), "1.1");
    assert_string_equal(json_get_str(he, "safety"), "suspicious");
    assert_string_equal(json_string_value(json_array_get(json_object_get(he, "failed_tests"), 0)),
                        "tests::test_b");
    assert_int_equal(json_array_size(json_object_get(he, "passed_tests")), 1);
    json_decref(he);
    assert_null(store_report_history_entry(s, "ffff0000000000000000000000000001", &err));
    json_t *m = store_report_metrics(s, "a0000000000000000000000000000001", &err);
    assert_true(json_is_number(json_object_get(m, "installs")));
    json_decref(m);
    assert_null(store_report_metrics(s, "ffff0000000000000000000000000001", &err));
    assert_int_equal(err.code, PYTI_ERR_NOTFOUND);
    store_close(s);
}

/* A store made before migration 3 gets its reports' metrics back-filled. */
static void test_backfill(void **state)
{
    char *loc = NULL;
    pyti_store *s = t_store_fresh(state, &loc);
    json_t *r = rich_report("d0000000000000000000000000000001", "old", "1.0", 11,
                            "2026-12-01T10:00:00.000Z", "passed", "clean", 0);
    json_object_del(r, "metrics"); /* as an old pyti wrote it */
    pyti_error err;
    assert_int_equal(store_put_report(s, r, NULL, &err), PYTI_OK);
    store_close(s);
    /* Back to version 2: undo migrations 13, 12, 11, 10, 9, 8, 5, 4 and 3
     * (6 to 10, 12 and 13 are PostgreSQL's only: 8 drops 6's function; 7
     * re-spells CHECK constraints, which a second run re-spells the same,
     * once they are back under their old names — 12 made the columns
     * domains and dropped 9's functions; 10 and 13 drop foreign keys, put
     * back below but for report_metrics', which 3 re-makes with its table;
     * 13's pyti_now_ms() replaces itself). */
    t_raw_sql(loc, "DELETE FROM schema_migrations WHERE version >= 3");
    t_raw_sql(loc, "DROP TABLE report_pages");
    if (strncmp(loc, "postgres", 8) == 0) {
        t_raw_sql(loc, "DROP FUNCTION pyti_claim_fits");
        t_raw_sql(loc, "ALTER TABLE jobs ALTER COLUMN state TYPE text,"
                       " ALTER COLUMN created_by TYPE text,"
                       " ADD CONSTRAINT jobs_state_check CHECK (state <> ''),"
                       " ADD CONSTRAINT jobs_created_by_check CHECK (created_by <> '');"
                       "ALTER TABLE attempts ALTER COLUMN outcome TYPE text,"
                       " ADD CONSTRAINT attempts_outcome_check CHECK (outcome <> '');"
                       "DROP DOMAIN pyti_job_state; DROP DOMAIN pyti_job_origin;"
                       " DROP DOMAIN pyti_attempt_outcome");
        t_raw_sql(loc, "ALTER TABLE task_results ADD CONSTRAINT task_results_report_id_fkey"
                       " FOREIGN KEY (report_id) REFERENCES reports(id) ON DELETE CASCADE;"
                       "ALTER TABLE findings ADD CONSTRAINT findings_report_id_fkey"
                       " FOREIGN KEY (report_id) REFERENCES reports(id) ON DELETE CASCADE");
        t_raw_sql(loc, "ALTER TABLE attempts ADD CONSTRAINT attempts_job_id_fkey"
                       " FOREIGN KEY (job_id) REFERENCES jobs(id) ON DELETE CASCADE;"
                       "ALTER TABLE reports ADD CONSTRAINT reports_release_id_fkey"
                       " FOREIGN KEY (release_id) REFERENCES releases(id),"
                       " ADD CONSTRAINT reports_file_id_fkey"
                       " FOREIGN KEY (file_id) REFERENCES files(id)");
    }
    t_raw_sql(loc, "CREATE INDEX task_results_by_status ON task_results(name, status);"
                   "CREATE INDEX findings_by_id ON findings(finding, severity);"
                   "CREATE INDEX attempts_by_worker ON attempts(worker_id, leased_at)");
    t_raw_sql(loc, "DROP INDEX jobs_ended");
    t_raw_sql(loc, "CREATE INDEX jobs_by_state ON jobs(state, id)");
    t_raw_sql(loc, "CREATE INDEX jobs_by_project ON jobs(project, id)");
    t_raw_sql(loc, "CREATE INDEX reports_by_job ON reports(job_id)");
    t_raw_sql(loc, "CREATE INDEX reports_by_project ON reports(project, created)");
    t_raw_sql(loc, "CREATE INDEX reports_by_created ON reports(created)");
    t_raw_sql(loc, "DROP TABLE report_metrics");
    s = t_store_open(loc);
    json_t *m = store_report_metrics(s, "d0000000000000000000000000000001", &err);
    assert_non_null(m);
    assert_true(json_is_number(json_object_get(m, "tests.pass_rate")));
    json_decref(m);
    store_close(s);
    json_decref(r);
    free(loc);
}

/* The report cache: a page served from it is the page rendered without
 * it, byte for byte; what depends on the rest of the store (the previous
 * release, the release's reports) is fresh on every request; copies stay
 * within their budget, least recently used out first; off by default. */
static char *render_copy(pyti_store *s, const char *path)
{
    web_page p;
    web_page_init(&p);
    assert_int_equal(render(s, path, NULL, &p), 200);
    char *out = xstrdup(buf_cstr(&p.body));
    web_page_free(&p);
    return out;
}

/* A cache after one page rendered twice: one copy (of about the page's
 * size, within the budget), one miss, one hit. */
static void expect_one_entry_one_hit(const web_report_cache_info *info, const char *page)
{
    assert_int_equal(info->misses, 1);
    assert_int_equal(info->hits, 1);
    assert_int_equal(info->entries, 1);
    assert_true(info->used > strlen(page) / 2 && info->used <= info->budget);
}

static void test_report_cache(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    fill_store(s);
    const char *path = "/report/a0000000000000000000000000000002";
    web_report_cache_info info;
    web_set_report_cache(0);
    char *plain = render_copy(s, path);
    web_report_cache_stats(&info);
    assert_int_equal(info.entries, 0);
    assert_int_equal(info.hits + info.misses, 0);

    web_set_report_cache(1 << 20);
    char *miss = render_copy(s, path), *hit = render_copy(s, path);
    web_report_cache_stats(&info);
    expect_one_entry_one_hit(&info, plain);
    assert_string_equal(miss, plain);
    assert_string_equal(hit, plain);
    char *release = render_copy(s, "/project/demo/1.1"); /* the same report, from the cache */
    assert_string_equal(release, plain);
    web_report_cache_stats(&info);
    assert_int_equal(info.hits, 2);

    /* Warmed (as a master does when it stores a result): the parts are
     * kept before any request, and the page served from them is the same;
     * a report already kept, an unknown id and a cache that is off are
     * left alone. */
    web_set_report_cache(1 << 20);
    web_report_warm(s, "a0000000000000000000000000000002");
    web_report_warm(s, "a0000000000000000000000000000002");
    web_report_warm(s, "ffff0000000000000000000000000001");
    web_report_warm(s, NULL);
    web_report_cache_stats(&info);
    assert_int_equal(info.entries, 1);
    assert_int_equal(info.hits + info.misses, 0);
    char *warmed = render_copy(s, path);
    assert_string_equal(warmed, plain);
    web_report_cache_stats(&info);
    assert_int_equal(info.hits, 1);
    free(warmed);
    web_set_report_cache(0);
    web_report_warm(s, "a0000000000000000000000000000001");
    web_report_cache_stats(&info);
    assert_int_equal(info.entries, 0);
    web_set_report_cache(1 << 20);
    free(render_copy(s, path)); /* kept again, for what follows */

    /* A release between 1.0 and 1.1 and a second report of 1.1 arrive:
     * the cached page shows both. */
    pyti_error err;
    json_t *mid = rich_report("a0000000000000000000000000000010", "demo", "1.0.5", 11,
                              "2026-12-01T12:00:00.000Z", "passed", "clean", 0);
    json_t *again = rich_report("a0000000000000000000000000000011", "demo", "1.1", 12,
                                "2026-12-02T12:00:00.000Z", "failed", "suspicious", 1);
    assert_int_equal(store_put_report(s, mid, NULL, &err), PYTI_OK);
    assert_int_equal(store_put_report(s, again, NULL, &err), PYTI_OK);
    json_decref(mid);
    json_decref(again);
    char *fresh = render_copy(s, path);
    assert_non_null(strstr(fresh, "Since the previous release (1.0.5)"));
    assert_non_null(strstr(fresh, "Reports of this release (2)"));
    assert_null(strstr(plain, "Reports of this release"));
    web_set_report_cache(0);
    char *fresh_plain = render_copy(s, path);
    assert_string_equal(fresh, fresh_plain);

    /* A budget one byte short of three pages' copies: rendering three
     * pages drops the least recently used. */
    const char *three[] = {"/report/a0000000000000000000000000000001", path,
                           "/report/a0000000000000000000000000000003"};
    size_t total = 0;
    for (int i = 0; i < 3; i++) {
        web_set_report_cache(1 << 20);
        free(render_copy(s, three[i]));
        web_report_cache_stats(&info);
        total += info.used;
    }
    web_set_report_cache(total - 1);
    for (int i = 0; i < 3; i++)
        free(render_copy(s, three[i]));
    web_report_cache_stats(&info);
    assert_int_equal(info.entries, 2);
    assert_true(info.used <= info.budget);
    free(render_copy(s, three[2]));
    free(render_copy(s, three[1]));
    web_report_cache_stats(&info);
    assert_int_equal(info.hits, 2);
    free(render_copy(s, three[0])); /* it went */
    web_report_cache_stats(&info);
    assert_int_equal(info.misses, 4);
    /* A page over half the budget is not kept. */
    web_set_report_cache(strlen(plain));
    free(render_copy(s, path));
    web_report_cache_stats(&info);
    assert_int_equal(info.entries, 0);
    web_set_report_cache(0);
    free(plain);
    free(miss);
    free(hit);
    free(release);
    free(fresh);
    free(fresh_plain);
    store_close(s);
}

/* Threads render report pages through a cache too small for them all
 * (entries come and go under their feet): every page complete and
 * equal to the uncached one. */
typedef struct report_arg {
    const char *loc;
    const char *plain[3];
    int ok;
} report_arg;

/* The project pages' cache: a page served from it is the page rendered
 * without it, byte for byte, in any spelling of the name; a new report
 * (of a new release or of one shown), and a new release without a report
 * yet (a job submitted), change the project's stamp, so the next request
 * shows them, whoever stored them; unknown projects take no room. */
static void test_project_cache(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    fill_store(s);
    const char *path = "/project/demo";
    web_report_cache_info info;
    web_set_project_cache(0);
    char *plain = render_copy(s, path);
    web_project_cache_stats(&info);
    assert_int_equal(info.entries + info.hits + info.misses, 0);

    web_set_project_cache(1 << 20);
    char *miss = render_copy(s, path), *hit = render_copy(s, "/project/DEMO");
    web_project_cache_stats(&info);
    expect_one_entry_one_hit(&info, plain);
    assert_string_equal(miss, plain);
    assert_string_equal(hit, plain);
    web_page p;
    web_page_init(&p);
    assert_int_equal(render(s, "/project/nothing-here", NULL, &p), 404);
    web_page_free(&p);
    web_project_cache_stats(&info);
    assert_int_equal(info.entries, 1);

    /* Each change below shows at the next request although the page of
     * the state before it is kept, as a render without the cache shows it. */
    pyti_error err;
    json_t *newer = rich_report("a0000000000000000000000000000020", "demo", "1.2", 21,
                                "2026-12-05T12:00:00.000Z", "passed", "clean", 0);
    json_t *again = rich_report("a0000000000000000000000000000021", "demo", "1.1", 22,
                                "2026-12-06T12:00:00.000Z", "passed", "clean", 0);
    store_job_spec spec;
    t_spec(&spec, 30);
    spec.name = "Demo";
    spec.version = "1.3";
    spec.filename = "demo-1.3.tar.gz";
    const char *expect[] = {">1.2<", NULL, ">1.3<"};
    for (int step = 0; step < 3; step++) {
        if (step == 0)
            assert_int_equal(store_put_report(s, newer, NULL, &err), PYTI_OK);
        if (step == 1)
            assert_int_equal(store_put_report(s, again, NULL, &err), PYTI_OK);
        if (step == 2) {
            long long job;
            bool created;
            assert_int_equal(store_job_submit(s, &spec, &job, &created, &err), PYTI_OK);
        }
        char *cached = render_copy(s, path);
        char *again_hit = render_copy(s, path);
        web_set_project_cache(0);
        char *fresh = render_copy(s, path);
        web_set_project_cache(1 << 20);
        free(render_copy(s, path)); /* the next step starts with this state's copy kept */
        assert_string_equal(cached, fresh);
        assert_string_equal(again_hit, fresh);
        assert_string_not_equal(cached, plain);
        if (expect[step])
            assert_non_null(strstr(cached, expect[step]));
        free(plain);
        plain = fresh;
        free(cached);
        free(again_hit);
    }
    assert_non_null(strstr(plain, "not tested yet"));
    json_decref(newer);
    json_decref(again);
    web_set_project_cache(0);
    free(plain);
    free(miss);
    free(hit);
    store_close(s);
}

static void *report_thread(void *p)
{
    report_arg *a = p;
    pyti_store *s = t_store_open(a->loc);
    for (int i = 0; i < 60; i++) {
        char path[64];
        snprintf(path, sizeof path, "/report/a000000000000000000000000000000%d", 1 + i % 3);
        web_page page;
        web_page_init(&page);
        if (web_render(s, path, NULL, &page, NULL) == PYTI_OK && page.status == 200 &&
            strcmp(buf_cstr(&page.body), a->plain[i % 3]) == 0)
            a->ok++;
        web_page_free(&page);
    }
    store_close(s);
    return NULL;
}

static void test_report_cache_threads(void **state)
{
    (void)state;
    char *loc = t_store_location_for(&T_SQLITE);
    pyti_store *s = t_store_open(loc);
    fill_store(s);
    web_set_report_cache(0);
    char *plain[3];
    for (int i = 0; i < 3; i++) {
        char path[64];
        snprintf(path, sizeof path, "/report/a000000000000000000000000000000%d", 1 + i);
        plain[i] = render_copy(s, path);
    }
    store_close(s);
    web_set_report_cache(strlen(plain[0]) * 9);
    enum { N = 6 };
    pthread_t th[N];
    report_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (report_arg){loc, {plain[0], plain[1], plain[2]}, 0};
        pthread_create(&th[i], NULL, report_thread, &args[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].ok, 60);
    }
    web_report_cache_info info;
    web_report_cache_stats(&info);
    assert_true(info.hits > 0 && info.used <= info.budget);
    web_set_report_cache(0);
    for (int i = 0; i < 3; i++)
        free(plain[i]);
    free(loc);
}

/* Report pages kept in the store (report_pages): the first render of a
 * page stores its parts, and a page read from them is the page rendered
 * from the report's JSON, byte for byte (escaping included); a row is
 * what is served while its renderer is this pyti's; a row of another
 * renderer, or none (a store filled before), is rendered again and
 * replaced; web_report_warm stores a new report's row with the cache off. */
static long long page_rows(const char *loc, const char *id)
{
    char *sql = xasprintf("SELECT COUNT(*) FROM report_pages WHERE report_id = '%s'", id);
    long long n = t_raw_int(loc, sql);
    free(sql);
    return n;
}

static void test_report_pages_stored(void **state)
{
    char *loc;
    pyti_store *s = t_store_fresh(state, &loc);
    fill_store(s);
    web_set_report_cache(0);
    const char *id = "a0000000000000000000000000000003"; /* the one full of XSS */
    char *path = xasprintf("/report/%s", id);
    assert_int_equal(page_rows(loc, id), 0);
    char *plain = render_copy(s, path); /* from the JSON, then stored */
    assert_int_equal(page_rows(loc, id), 1);
    assert_int_equal(t_raw_int(loc, "SELECT renderer FROM report_pages"), REPORT_RENDERER);
    char *from_row = render_copy(s, path);
    assert_string_equal(from_row, plain);
    assert_null(strstr(plain, "<script"));

    /* The row is what is served (marked here to tell it from a render). */
    t_raw_sql(loc, "UPDATE report_pages SET tail = tail || '<p>from-the-row</p>'");
    char *marked = render_copy(s, path);
    assert_non_null(strstr(marked, "<p>from-the-row</p>"));

    /* Another renderer's row is ignored, rendered again and replaced. */
    t_raw_sql(loc, "UPDATE report_pages SET renderer = 0, head = '<p>stale</p>'");
    char *again = render_copy(s, path);
    assert_string_equal(again, plain);
    assert_int_equal(t_raw_int(loc, "SELECT renderer FROM report_pages"), REPORT_RENDERER);
    assert_int_equal(t_raw_int(loc, "SELECT COUNT(*) FROM report_pages WHERE head LIKE '%stale%'"
                                    " OR tail LIKE '%from-the-row%'"),
                     0);

    /* No row (a store filled before migration 5): the lazy back-fill. */
    t_raw_sql(loc, "DELETE FROM report_pages");
    char *lazy = render_copy(s, path);
    assert_string_equal(lazy, plain);
    assert_int_equal(page_rows(loc, id), 1);

    /* The release page reads the same row. */
    char *release = render_copy(s, "/project/demo/1.1");
    char *report2 = render_copy(s, "/report/a0000000000000000000000000000002");
    assert_string_equal(release, report2);
    assert_int_equal(page_rows(loc, "a0000000000000000000000000000002"), 1);

    /* Warmed with the cache off (a master storing a result): the row is
     * written before any request; an unknown id writes nothing. */
    pyti_error err;
    json_t *r = rich_report("a0000000000000000000000000000020", "demo", "1.2", 20,
                            "2026-12-04T10:00:00.000Z", "passed", "clean", 0);
    assert_int_equal(store_put_report(s, r, NULL, &err), PYTI_OK);
    json_decref(r);
    assert_int_equal(page_rows(loc, "a0000000000000000000000000000020"), 0);
    web_report_warm(s, "a0000000000000000000000000000020");
    web_report_warm(s, "ffff0000000000000000000000000001");
    assert_int_equal(page_rows(loc, "a0000000000000000000000000000020"), 1);
    assert_int_equal(page_rows(loc, "ffff0000000000000000000000000001"), 0);
    char *warm = render_copy(s, "/report/a0000000000000000000000000000020");
    t_raw_sql(loc, "DELETE FROM report_pages");
    char *cold = render_copy(s, "/report/a0000000000000000000000000000020");
    assert_string_equal(warm, cold);
    web_report_cache_info info;
    web_report_cache_stats(&info);
    assert_int_equal(info.entries, 0);

    free(warm);
    free(cold);
    free(release);
    free(report2);
    free(lazy);
    free(again);
    free(marked);
    free(from_row);
    free(plain);
    free(path);
    store_close(s);
    free(loc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_url_decode),
        cmocka_unit_test(test_svg),
        cmocka_unit_test(test_standalone),
        cmocka_unit_test(test_overview_cache),
        cmocka_unit_test(test_overview_cache_threads),
        T_BOTH(test_pages),
        T_BOTH(test_report_cache),
        T_BOTH(test_report_pages_stored),
        T_BOTH(test_project_cache),
        cmocka_unit_test(test_report_cache_threads),
        T_BOTH(test_dashboard_queries),
        T_BOTH(test_backfill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
