/* test_simpleapi.c — unit tests for src/index/simpleapi.c and url.c:
 * PEP 691 JSON and PEP 503 HTML project pages and project lists (hash
 * fragments, entity escapes, relative URLs and <base>, yanked, PEP 658 /
 * 714 metadata attributes, PEP 700 fields, api versions), directory
 * listings, and garbage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/buf.h"
#include "common/xalloc.h"
#include "index/simpleapi.h"
#include "index/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE "https://idx.example/simple/foo/"

static void parse_html(const char *html, pyti_simple_project *p)
{
    pyti_error err;
    assert_int_equal(simple_parse_project(html, strlen(html), PYTI_PAGE_HTML, PAGE, p, &err),
                     PYTI_OK);
}

static void parse_json(const char *json, pyti_simple_project *p)
{
    pyti_error err;
    pyti_status st = simple_parse_project(json, strlen(json), PYTI_PAGE_JSON, PAGE, p, &err);
    if (st != PYTI_OK)
        fail_msg("%s", err.msg);
}

static void test_format_for(void **state)
{
    (void)state;
    assert_int_equal(simple_format_for(NULL), PYTI_PAGE_HTML);
    assert_int_equal(simple_format_for("text/html; charset=utf-8"), PYTI_PAGE_HTML);
    assert_int_equal(simple_format_for("application/vnd.pypi.simple.v1+html"), PYTI_PAGE_HTML);
    assert_int_equal(simple_format_for("application/vnd.pypi.simple.v1+json"), PYTI_PAGE_JSON);
    assert_int_equal(simple_format_for("Application/Vnd.PyPI.Simple.V1+JSON"), PYTI_PAGE_JSON);
    assert_int_equal(simple_format_for("application/json"), PYTI_PAGE_JSON);
}

static void test_html_pep503(void **state)
{
    (void)state;
    const char *html =
        "<!DOCTYPE html><html><head><meta name=\"pypi:repository-version\" content=\"1.1\">"
        "<title>Links for foo</title></head><body><h1>Links for foo</h1>\n"
        "<a href=\"../../packages/ab/foo-1.0.tar.gz#sha256=ABCDEF0123\">foo-1.0.tar.gz</a><br/>\n"
        "<a href=\"https://files.example/foo-2.0-py3-none-any.whl#md5=00&amp;sha256=aa11\" "
        "data-requires-python=\"&gt;=3.8,&lt;4\" data-dist-info-metadata=\"sha256=deadbeef\" "
        "data-core-metadata=\"sha256=c0ffee\">foo-2.0-py3-none-any.whl</a>\n"
        "<a href=\"foo-3.0.tar.gz\" data-yanked=\"\">foo-3.0.tar.gz</a>\n"
        "<a href=\"foo-3.1.tar.gz\" data-yanked=\"bad &quot;release&quot;\" "
        "data-dist-info-metadata=\"true\">x</a>\n"
        "<a href=\"foo%20bar-4.0.zip#sha512=FF\" data-core-metadata=\"false\">y</a>\n"
        "<a>no href</a><a href=\"javascript:alert(1)\">js</a><a href=\"../\">up</a>\n"
        "<a href=\"mailto:x@y\">mail</a><a href=\"file:///etc/passwd\">file</a>"
        "</body></html>";
    pyti_simple_project p;
    parse_html(html, &p);
    assert_int_equal(p.nfiles, 5);
    assert_string_equal(p.api_version, "1.1");
    assert_int_equal(p.format, PYTI_PAGE_HTML);

    pyti_simple_file *f = &p.files[0];
    assert_string_equal(f->url, "https://idx.example/packages/ab/foo-1.0.tar.gz");
    assert_string_equal(f->filename, "foo-1.0.tar.gz");
    assert_string_equal(f->sha256, "abcdef0123");
    assert_null(f->requires_python);
    assert_false(f->yanked);
    assert_false(f->has_metadata);

    f = &p.files[1];
    assert_string_equal(f->url, "https://files.example/foo-2.0-py3-none-any.whl");
    assert_string_equal(f->sha256, "aa11");
    assert_string_equal(f->requires_python, ">=3.8,<4");
    assert_true(f->has_metadata);
    assert_string_equal(f->metadata_sha256, "c0ffee"); /* PEP 714's name wins */
    assert_int_equal(f->size, -1);

    f = &p.files[2];
    assert_string_equal(f->url, "https://idx.example/simple/foo/foo-3.0.tar.gz");
    assert_true(f->yanked);
    assert_null(f->yanked_reason);

    f = &p.files[3];
    assert_true(f->yanked);
    assert_string_equal(f->yanked_reason, "bad \"release\"");
    assert_true(f->has_metadata);
    assert_null(f->metadata_sha256);

    f = &p.files[4];
    assert_string_equal(f->filename, "foo bar-4.0.zip");
    assert_string_equal(f->url, "https://idx.example/simple/foo/foo%20bar-4.0.zip");
    assert_string_equal(f->sha512, "ff");
    assert_null(f->sha256);
    assert_false(f->has_metadata);
    simple_project_free(&p);
}

static void test_html_base_and_listing(void **state)
{
    (void)state;
    pyti_simple_project p;
    parse_html("<html><head><base href=\"https://cdn.example/dist/\"></head><body>"
               "<a href=\"foo-1.0.tar.gz\">foo</a><a href=\"/abs/foo-2.0.tar.gz\">a</a>"
               "<a href=\"//other.example/foo-3.0.tar.gz\">b</a></body></html>",
               &p);
    assert_int_equal(p.nfiles, 3);
    assert_string_equal(p.files[0].url, "https://cdn.example/dist/foo-1.0.tar.gz");
    assert_string_equal(p.files[1].url, "https://cdn.example/abs/foo-2.0.tar.gz");
    assert_string_equal(p.files[2].url, "https://other.example/foo-3.0.tar.gz");
    simple_project_free(&p);

    /* What python3 -m http.server lists for a directory. */
    parse_html("<!DOCTYPE HTML>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<title>Directory listing for /simple/foo/</title>\n</head>\n<body>\n"
               "<h1>Directory listing for /simple/foo/</h1>\n<hr>\n<ul>\n"
               "<li><a href=\"foo-1.0-py3-none-any.whl\">foo-1.0-py3-none-any.whl</a></li>\n"
               "<li><a href=\"foo-1.0.tar.gz\">foo-1.0.tar.gz</a></li>\n"
               "<li><a href=\"sub/\">sub/</a></li>\n</ul>\n<hr>\n</body>\n</html>\n",
               &p);
    assert_int_equal(p.nfiles, 2);
    assert_string_equal(p.files[0].filename, "foo-1.0-py3-none-any.whl");
    assert_string_equal(p.files[0].url, "https://idx.example/simple/foo/foo-1.0-py3-none-any.whl");
    assert_null(p.files[0].sha256);
    assert_null(p.api_version);
    simple_project_free(&p);

    /* file: links are kept only on a file: page. */
    pyti_error err;
    const char *h = "<a href=\"foo-1.0.tar.gz\">x</a><a href=\"http://h/foo-2.0.tar.gz\">y</a>";
    assert_int_equal(simple_parse_project(h, strlen(h), PYTI_PAGE_HTML, "file:///srv/simple/foo/",
                                          &p, &err),
                     PYTI_OK);
    assert_int_equal(p.nfiles, 2);
    assert_string_equal(p.files[0].url, "file:///srv/simple/foo/foo-1.0.tar.gz");
    simple_project_free(&p);
}

static void test_html_garbage(void **state)
{
    (void)state;
    static const char *const junk[] = {
        "",
        "<<<<>>>>",
        "<a href=\"x-1.0.tar.gz\"",
        "<a href=x-1.0.tar.gz>unquoted</a>",
        "<html><body><a href=\"\xff\xfe-1.0.tar.gz\">bad utf-8</a>",
        "<a href=\"a\tb\nc-1.0.tar.gz\">ctl</a>",
        "\0\0\0\0",
        "<table><tr><td><a href=\"t-1.0.tar.gz\">in a table</a></td></tr></table>",
        "<a href=\"u-1.0.tar.gz\"><a href=\"v-1.0.tar.gz\">nested</a></a>",
    };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        pyti_simple_project p;
        pyti_error err;
        assert_int_equal(simple_parse_project(junk[i], i == 6 ? 4 : strlen(junk[i]),
                                              PYTI_PAGE_HTML, PAGE, &p, &err),
                         PYTI_OK);
        for (size_t k = 0; k < p.nfiles; k++) {
            assert_non_null(p.files[k].url);
            assert_true(strlen(p.files[k].filename) > 0);
        }
        simple_project_free(&p);
    }
    /* 10 000 nested elements: no recursion on the C stack. */
    pyti_buf b = PYTI_BUF_INIT;
    for (int i = 0; i < 10000; i++)
        buf_puts(&b, "<div>");
    buf_puts(&b, "<a href=\"deep-1.0.tar.gz\">deep</a>");
    pyti_simple_project p;
    parse_html(buf_cstr(&b), &p);
    simple_project_free(&p);
    buf_free(&b);
}

static void test_json_pep691(void **state)
{
    (void)state;
    const char *json =
        "{\"meta\": {\"api-version\": \"1.1\", \"_last-serial\": 42},"
        " \"name\": \"foo\","
        " \"files\": ["
        "  {\"filename\": \"foo-1.0.tar.gz\", \"url\": \"../../packages/foo-1.0.tar.gz\","
        "   \"hashes\": {\"sha256\": \"AB12\", \"md5\": \"00\"}, \"yanked\": false,"
        "   \"size\": 1234, \"upload-time\": \"2023-01-02T03:04:05.123456Z\"},"
        "  {\"filename\": \"foo-2.0-py3-none-any.whl\","
        "   \"url\": \"https://files.example/foo-2.0-py3-none-any.whl#sha256=ffff\","
        "   \"hashes\": {}, \"requires-python\": \">=3.8\", \"yanked\": \"broken <b>\","
        "   \"dist-info-metadata\": {\"sha256\": \"0ld\"}, \"core-metadata\": {\"sha256\": \"NEW\"}},"
        "  {\"filename\": \"foo-3.0.tar.gz\", \"url\": \"foo-3.0.tar.gz\", \"hashes\": {},"
        "   \"yanked\": true, \"dist-info-metadata\": true},"
        "  {\"filename\": \"foo-4.0.tar.gz\", \"url\": \"foo-4.0.tar.gz\", \"hashes\": {},"
        "   \"core-metadata\": false, \"dist-info-metadata\": {\"sha256\": \"x\"}},"
        "  {\"filename\": \"nourl.tar.gz\"}, 7, null, {\"url\": \"javascript:x\"}"
        " ],"
        " \"versions\": [\"1.0\", \"2.0\", \"3.0\", 5]}";
    pyti_simple_project p;
    parse_json(json, &p);
    assert_int_equal(p.format, PYTI_PAGE_JSON);
    assert_string_equal(p.name, "foo");
    assert_string_equal(p.api_version, "1.1");
    assert_int_equal(p.last_serial, 42);
    assert_int_equal(p.nfiles, 4);
    assert_int_equal(p.versions.len, 3);
    assert_string_equal(p.versions.items[2], "3.0");

    pyti_simple_file *f = &p.files[0];
    assert_string_equal(f->url, "https://idx.example/packages/foo-1.0.tar.gz");
    assert_string_equal(f->sha256, "ab12");
    assert_int_equal(f->size, 1234);
    assert_string_equal(f->upload_time, "2023-01-02T03:04:05.123456Z");
    assert_false(f->yanked);

    f = &p.files[1];
    assert_string_equal(f->sha256, "ffff"); /* from the fragment: "hashes" had none */
    assert_string_equal(f->url, "https://files.example/foo-2.0-py3-none-any.whl");
    assert_string_equal(f->requires_python, ">=3.8");
    assert_true(f->yanked);
    assert_string_equal(f->yanked_reason, "broken <b>");
    assert_true(f->has_metadata);
    assert_string_equal(f->metadata_sha256, "new");

    f = &p.files[2];
    assert_true(f->yanked);
    assert_null(f->yanked_reason);
    assert_true(f->has_metadata);
    assert_null(f->metadata_sha256);

    f = &p.files[3];
    assert_false(f->has_metadata); /* core-metadata: false wins over the old key */
    simple_project_free(&p);
}

static void test_json_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "{", "[]", "\"x\"", "{\"files\": 3}", "{\"meta\": {\"api-version\": \"2.0\"}}",
        "{\"files\": [], \"x\": \"\xff\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pyti_simple_project p;
        pyti_error err;
        if (simple_parse_project(bad[i], strlen(bad[i]), PYTI_PAGE_JSON, PAGE, &p, &err) !=
            PYTI_ERR_INPUT)
            fail_msg("accepted '%s'", bad[i]);
        simple_project_free(&p);
    }
    /* A major version above 1 in HTML is refused too. */
    pyti_simple_project p;
    pyti_error err;
    const char *h = "<meta name=\"pypi:repository-version\" content=\"2.0\"><a href=\"a-1.tar.gz\">a</a>";
    assert_int_equal(simple_parse_project(h, strlen(h), PYTI_PAGE_HTML, PAGE, &p, &err),
                     PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "unsupported simple API version '2.0'"));
    simple_project_free(&p);
    /* Missing fields are fine. */
    parse_json("{}", &p);
    assert_int_equal(p.nfiles, 0);
    assert_int_equal(p.last_serial, -1);
    simple_project_free(&p);
}

static void test_index_pages(void **state)
{
    (void)state;
    pyti_simple_index ix;
    pyti_error err;
    const char *h = "<html><body><a href=\"/simple/foo/\">Foo</a>\n<a href=\"bar/\"> bar </a>"
                    "<a href=\"baz/\">baz/</a><a href=\"x\"></a></body></html>";
    assert_int_equal(simple_parse_index(h, strlen(h), PYTI_PAGE_HTML, &ix, &err), PYTI_OK);
    assert_int_equal(ix.names.len, 3);
    assert_string_equal(ix.names.items[0], "Foo");
    assert_string_equal(ix.names.items[1], "bar");
    assert_string_equal(ix.names.items[2], "baz");
    simple_index_free(&ix);
    const char *j = "{\"meta\": {\"api-version\": \"1.0\", \"_last-serial\": 7}, \"projects\": "
                    "[{\"name\": \"Foo\"}, {\"name\": \"\"}, {}, {\"name\": \"bar\"}]}";
    assert_int_equal(simple_parse_index(j, strlen(j), PYTI_PAGE_JSON, &ix, &err), PYTI_OK);
    assert_int_equal(ix.names.len, 2);
    assert_int_equal(ix.last_serial, 7);
    assert_string_equal(ix.api_version, "1.0");
    simple_index_free(&ix);
    assert_int_equal(simple_parse_index("{\"projects\": {}}", 16, PYTI_PAGE_JSON, &ix, &err),
                     PYTI_ERR_INPUT);
    simple_index_free(&ix);
}

static void test_metadata_attr(void **state)
{
    (void)state;
    bool has;
    char *h;
    simple_parse_metadata_attr(NULL, &has, &h);
    assert_false(has);
    simple_parse_metadata_attr("true", &has, &h);
    assert_true(has);
    assert_null(h);
    simple_parse_metadata_attr("FALSE", &has, &h);
    assert_false(has);
    simple_parse_metadata_attr("sha256=ABC", &has, &h);
    assert_true(has);
    assert_string_equal(h, "abc");
    free(h);
    simple_parse_metadata_attr("md5=abc", &has, &h);
    assert_true(has);
    assert_null(h);
}

static void test_urls(void **state)
{
    (void)state;
    char *frag = NULL;
    char *u = url_resolve("http://h/simple/foo/", " ../../f/x y.whl#sha256=1 ", &frag);
    assert_string_equal(u, "http://h/f/x%20y.whl");
    assert_string_equal(frag, "sha256=1");
    free(u);
    free(frag);
    assert_null(url_resolve("http://h/simple/foo/", "ftp://h/x.whl", NULL));
    assert_null(url_resolve("http://h/simple/foo/", "file:///x.whl", NULL));
    assert_null(url_resolve("http://h/", "a\x01.whl", NULL));
    u = url_filename("http://h/a/b/foo%2Bbar-1.0.tar.gz?x=1#y");
    assert_string_equal(u, "foo+bar-1.0.tar.gz");
    free(u);
    u = url_filename("http://h/a/b/");
    assert_string_equal(u, "");
    free(u);
    u = url_encode("a b/c~d", true);
    assert_string_equal(u, "a%20b/c~d");
    free(u);
    u = url_decode("%41%4g%", 7);
    assert_string_equal(u, "A%4g%");
    free(u);
    u = url_join("http://h/simple/", "/foo", true);
    assert_string_equal(u, "http://h/simple/foo/");
    free(u);
    u = url_scheme("HTTPS://x");
    assert_string_equal(u, "https");
    free(u);
    assert_null(url_scheme("/x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_for),
        cmocka_unit_test(test_html_pep503),
        cmocka_unit_test(test_html_base_and_listing),
        cmocka_unit_test(test_html_garbage),
        cmocka_unit_test(test_json_pep691),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_index_pages),
        cmocka_unit_test(test_metadata_attr),
        cmocka_unit_test(test_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
