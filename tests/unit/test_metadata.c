/* test_metadata.c — unit tests for src/pkg/metadata.c: parsing the
 * RFC 822 form (continuations, CRLF, BOM, body, bad bytes, limits), every
 * validation finding, the PEP 566 JSON form, and the METADATA of the real
 * wheels Debian ships. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/buf.h"
#include "common/finding.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/str.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "pkg/metadata.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers -------------------------------------------------------- */

static pyti_metadata *parse(const char *text)
{
    pyti_error err = {0};
    pyti_metadata *md = metadata_parse(text, strlen(text), "pkg-1.0/PKG-INFO", &err);
    if (!md)
        fail_msg("parse failed: %s", err.msg);
    return md;
}

/* Parses and validates; returns parse findings + validation findings. */
static pyti_findings check_full(const char *text, const char *filename, const pyti_strv *known)
{
    pyti_metadata *md = parse(text);
    pyti_findings f = PYTI_FINDINGS_INIT;
    for (size_t i = 0; i < md->parse_findings.len; i++) {
        const pyti_finding *x = &md->parse_findings.items[i];
        findings_add(&f, x->id, x->severity, x->where, "%s", x->message);
    }
    metadata_validate(md, filename, known, &f);
    metadata_free(md);
    return f;
}

static pyti_findings check(const char *text)
{
    return check_full(text, NULL, NULL);
}

static const pyti_finding *find(const pyti_findings *f, const char *id)
{
    for (size_t i = 0; i < f->len; i++)
        if (strcmp(f->items[i].id, id) == 0)
            return &f->items[i];
    return NULL;
}

static size_t count(const pyti_findings *f, const char *id)
{
    size_t n = 0;
    for (size_t i = 0; i < f->len; i++)
        n += strcmp(f->items[i].id, id) == 0;
    return n;
}

static void dump(const pyti_findings *f)
{
    for (size_t i = 0; i < f->len; i++)
        fprintf(stderr, "  %s [%s] %s (%s)\n", f->items[i].id,
                severity_name(f->items[i].severity), f->items[i].message,
                f->items[i].where ? f->items[i].where : "-");
}

/* Asserts a finding id is present with the given severity and, if
 * where_sub is given, a where containing it. */
#define assert_finding(f, id, sev, where_sub) assert_finding_(&(f), id, sev, where_sub, __LINE__)
static void assert_finding_(const pyti_findings *f, const char *id, pyti_severity sev,
                            const char *where_sub, int line)
{
    const pyti_finding *x = find(f, id);
    if (!x) {
        dump(f);
        fail_msg("line %d: no finding %s", line, id);
    }
    if (x->severity != sev) {
        dump(f);
        fail_msg("line %d: %s has severity %s, expected %s", line, id,
                 severity_name(x->severity), severity_name(sev));
    }
    if (where_sub && (!x->where || !strstr(x->where, where_sub))) {
        dump(f);
        fail_msg("line %d: %s where '%s' lacks '%s'", line, id, x->where ? x->where : "(null)",
                 where_sub);
    }
}

#define assert_no_finding(f, id) assert_no_finding_(&(f), id, __LINE__)
static void assert_no_finding_(const pyti_findings *f, const char *id, int line)
{
    if (find(f, id)) {
        dump(f);
        fail_msg("line %d: unexpected finding %s", line, id);
    }
}

/* A complete, clean 2.1 file; tests append or vary fields. */
#define GOOD_HEAD "Metadata-Version: 2.1\nName: beagle-vote\nVersion: 1.0a2\n"
#define GOOD_REST                                                                         \
    "Summary: A module for collecting votes from beagles.\n"                              \
    "Home-page: https://example.com/beagle\n"                                             \
    "Author: C. Schultz\n"                                                                \
    "Author-email: cschultz@example.com\n"                                                \
    "License: MIT\n"                                                                      \
    "Classifier: Development Status :: 4 - Beta\n"                                        \
    "Classifier: License :: OSI Approved :: MIT License\n"                                \
    "Requires-Python: >=3.8\n"                                                            \
    "Requires-Dist: requests (>=2.0)\n"                                                   \
    "Requires-Dist: pytest>=7; extra == \"test\"\n"                                       \
    "Provides-Extra: test\n"                                                              \
    "Description-Content-Type: text/markdown; charset=UTF-8; variant=GFM\n"               \
    "\n"                                                                                  \
    "# Beagle vote\n\nA long description.\n"
#define GOOD GOOD_HEAD GOOD_REST

/* ---- parsing -------------------------------------------------------- */

static void test_parse_basic_fields_and_lines(void **state)
{
    pyti_metadata *md = parse(GOOD);
    assert_string_equal(metadata_get(md, "Name"), "beagle-vote");
    assert_string_equal(metadata_get(md, "name"), "beagle-vote"); /* case-insensitive */
    assert_string_equal(metadata_get(md, "Version"), "1.0a2");
    assert_null(metadata_get(md, "Maintainer"));
    assert_int_equal(md->fields[0].line, 1);
    assert_int_equal(md->fields[2].line, 3);
    assert_string_equal(md->fields[2].name, "Version");
    pyti_strv v = PYTI_STRV_INIT;
    assert_int_equal(metadata_get_all(md, "Requires-Dist", &v), 2);
    assert_string_equal(v.items[0], "requests (>=2.0)");
    assert_string_equal(v.items[1], "pytest>=7; extra == \"test\"");
    strv_free(&v);
    assert_non_null(md->body);
    assert_string_equal(md->body, "# Beagle vote\n\nA long description.\n");
    assert_int_equal(md->body_line, 17);
    assert_string_equal(metadata_description(md), md->body);
    assert_string_equal(md->source, "pkg-1.0/PKG-INFO");
    assert_int_equal(md->parse_findings.len, 0);
    metadata_free(md);
}

static void test_parse_clean_file_has_no_findings(void **state)
{
    pyti_findings f = check(GOOD);
    if (f.len)
        dump(&f);
    assert_int_equal(f.len, 0);
    findings_free(&f);
}

static void test_parse_continuation_generic(void **state)
{
    pyti_metadata *md = parse("Metadata-Version: 1.0\nName: x\nVersion: 1\n"
                              "Author: C. Schultz, Universal Features Syndicate,\n"
                              "        Los Angeles, CA\n"
                              "Summary: one\n\ttwo   \n");
    /* email.parser keeps the folding whitespace; trailing space is dropped */
    assert_string_equal(metadata_get(md, "Author"),
                        "C. Schultz, Universal Features Syndicate,\n        Los Angeles, CA");
    assert_string_equal(metadata_get(md, "Summary"), "one\n\ttwo");
    assert_int_equal(md->fields[4].line, 6);
    metadata_free(md);
}

static void test_parse_description_pipe_folding(void **state)
{
    pyti_metadata *md = parse("Metadata-Version: 1.1\nName: x\nVersion: 1\n"
                              "Description: This project provides powerful math functions\n"
                              "       |For example, you can use `sum()` to sum numbers:\n"
                              "       |\n"
                              "       |Example::\n"
                              "       |\n"
                              "       |    >>> sum(1, 2)\n"
                              "       |    3\n"
                              "       |\n"
                              "Summary: s\n");
    assert_string_equal(metadata_description(md),
                        "This project provides powerful math functions\n"
                        "For example, you can use `sum()` to sum numbers:\n"
                        "\n"
                        "Example::\n"
                        "\n"
                        "    >>> sum(1, 2)\n"
                        "    3");
    assert_string_equal(metadata_get(md, "Summary"), "s");
    metadata_free(md);
}

static void test_parse_description_eight_spaces(void **state)
{
    /* setuptools' rfc822_escape: 8 spaces; blank lines become 8 spaces */
    pyti_metadata *md = parse("Metadata-Version: 2.1\nName: x\nVersion: 1\n"
                              "Description: Title\n"
                              "        =====\n"
                              "        \n"
                              "        Text with\n"
                              "            indented code\n"
                              "License: Line one\n"
                              "        line two\n");
    assert_string_equal(metadata_description(md),
                        "Title\n=====\n\nText with\n    indented code");
    assert_string_equal(metadata_get(md, "License"), "Line one\nline two");
    metadata_free(md);
}

static void test_parse_crlf_and_lone_cr(void **state)
{
    pyti_metadata *md = parse("Metadata-Version: 2.1\r\nName: x\r\nVersion: 1\r\n"
                              "Summary: a\r\n  b\r\n\r\nBody line 1\r\nBody line 2\r\n");
    assert_string_equal(metadata_get(md, "Name"), "x");
    assert_string_equal(metadata_get(md, "Summary"), "a\n  b");
    assert_string_equal(md->body, "Body line 1\nBody line 2\n");
    assert_int_equal(md->body_line, 7);
    metadata_free(md);
    md = parse("Metadata-Version: 2.1\rName: y\rVersion: 2\r\rbody\r");
    assert_string_equal(metadata_get(md, "Name"), "y");
    assert_int_equal(md->fields[2].line, 3);
    assert_string_equal(md->body, "body\n");
    metadata_free(md);
}

static void test_parse_bom(void **state)
{
    pyti_metadata *md = parse("\xEF\xBB\xBFMetadata-Version: 2.1\nName: x\nVersion: 1\n");
    assert_string_equal(md->fields[0].name, "Metadata-Version");
    assert_true(findings_has(&md->parse_findings, "metadata.utf8-bom"));
    metadata_free(md);
}

static void test_parse_line_without_colon_starts_body(void **state)
{
    pyti_metadata *md = parse("Metadata-Version: 2.1\nName: x\nthis is not a header\n"
                              "Version: 1\n");
    assert_null(metadata_get(md, "Version")); /* as email.parser: it became body */
    assert_string_equal(md->body, "this is not a header\nVersion: 1\n");
    assert_int_equal(md->body_line, 3);
    const pyti_finding *f = find(&md->parse_findings, "metadata.malformed-header-line");
    assert_non_null(f);
    assert_string_equal(f->where, "pkg-1.0/PKG-INFO:3");
    assert_non_null(strstr(f->message, "this is not a header"));
    metadata_free(md);
    /* a field name with a space is not a field name either */
    md = parse("Metadata-Version: 2.1\nHome page: x\n");
    assert_true(findings_has(&md->parse_findings, "metadata.malformed-header-line"));
    metadata_free(md);
    /* an empty field name is skipped, parsing goes on */
    md = parse("Metadata-Version: 2.1\n: nothing\nName: x\n");
    assert_true(findings_has(&md->parse_findings, "metadata.malformed-header-line"));
    assert_string_equal(metadata_get(md, "Name"), "x");
    metadata_free(md);
}

static void test_parse_orphan_continuation(void **state)
{
    pyti_metadata *md = parse("   leading continuation\nMetadata-Version: 2.1\nName: x\n");
    assert_true(findings_has(&md->parse_findings, "metadata.orphan-continuation-line"));
    assert_string_equal(metadata_get(md, "Name"), "x");
    metadata_free(md);
}

static void test_parse_duplicates(void **state)
{
    pyti_metadata *md = parse("Metadata-Version: 2.1\nName: x\nName: y\nVersion: 1\n"
                              "Summary: a\nsummary: b\nClassifier: A :: B\nClassifier: C :: D\n");
    assert_string_equal(metadata_get(md, "Name"), "x");
    size_t dups = 0;
    for (size_t i = 0; i < md->parse_findings.len; i++) {
        const pyti_finding *f = &md->parse_findings.items[i];
        if (strcmp(f->id, "metadata.duplicate-field") != 0)
            continue;
        dups++;
        if (strstr(f->message, "Name"))
            assert_int_equal(f->severity, PYTI_SEV_HIGH);
        else
            assert_int_equal(f->severity, PYTI_SEV_MEDIUM);
    }
    assert_int_equal(dups, 2); /* Name and Summary; Classifier is multiple-use */
    metadata_free(md);
}

static void test_parse_description_header_and_body(void **state)
{
    pyti_metadata *md = parse("Metadata-Version: 2.1\nName: x\nVersion: 1\n"
                              "Description: in header\n\nin body\n");
    assert_string_equal(metadata_description(md), "in header");
    assert_true(findings_has(&md->parse_findings, "metadata.description-header-and-body"));
    metadata_free(md);
}

static void test_parse_errors(void **state)
{
    pyti_error err = {0};
    assert_null(metadata_parse("", 0, "e", &err));
    assert_int_equal(err.code, PYTI_ERR_INPUT);
    assert_null(metadata_parse("\n\nbody only\n", 11, "e", &err));
    assert_int_equal(err.code, PYTI_ERR_INPUT);
    assert_null(metadata_parse("just text", 9, "e", &err));
    /* invalid UTF-8 in the header: rejected, naming the line */
    const char bad[] = "Metadata-Version: 2.1\nName: caf\xe9\nVersion: 1\n";
    assert_null(metadata_parse(bad, sizeof bad - 1, "x/PKG-INFO", &err));
    assert_int_equal(err.code, PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "x/PKG-INFO:2"));
    const char nul[] = "Metadata-Version: 2.1\nName: a\0b\n";
    assert_null(metadata_parse(nul, sizeof nul - 1, "n", &err));
    assert_non_null(strstr(err.msg, "n:2"));
    /* size limit */
    size_t big = (16u << 20) + 1;
    char *huge = xmalloc(big);
    memset(huge, 'a', big);
    memcpy(huge, "Name: x\n", 8);
    assert_null(metadata_parse(huge, big, "big", &err));
    assert_int_equal(err.code, PYTI_ERR_INPUT);
    free(huge);
    /* too many fields */
    pyti_buf b = PYTI_BUF_INIT;
    for (int i = 0; i < 20001; i++)
        buf_puts(&b, "Classifier: A :: B\n");
    assert_null(metadata_parse(b.data, b.len, "many", &err));
    assert_int_equal(err.code, PYTI_ERR_INPUT);
    buf_free(&b);
    /* err may be NULL */
    assert_null(metadata_parse("x", 1, NULL, NULL));
}

static void test_parse_body_bad_bytes_repaired(void **state)
{
    const char text[] = "Metadata-Version: 2.1\nName: x\nVersion: 1\n\ncaf\xe9 \0 ok\n";
    pyti_error err = {0};
    pyti_metadata *md = metadata_parse(text, sizeof text - 1, "s", &err);
    assert_non_null(md);
    assert_string_equal(md->body, "caf\xEF\xBF\xBD \xEF\xBF\xBD ok\n");
    assert_true(findings_has(&md->parse_findings, "metadata.body-not-utf8"));
    assert_true(findings_has(&md->parse_findings, "metadata.body-nul-bytes"));
    metadata_free(md);
}

static void test_parse_empty_value_and_no_body(void **state)
{
    pyti_metadata *md = parse("Metadata-Version: 2.1\nName: x\nVersion: 1\nSummary:\n");
    assert_string_equal(metadata_get(md, "Summary"), "");
    assert_null(md->body);
    assert_null(metadata_description(md));
    metadata_free(md);
    md = parse("Metadata-Version: 2.1\nName: x\n\n");
    assert_null(md->body);
    metadata_free(md);
}

/* ---- every metadata version ----------------------------------------- */

static void test_versions_1_0_to_2_5(void **state)
{
    static const char *const files[] = {
        "Metadata-Version: 1.0\nName: a\nVersion: 1.0\nSummary: s\nHome-page: h\n"
        "Author: me\nLicense: MIT\nPlatform: UNKNOWN\nKeywords: x y\nDescription: d\n",
        "Metadata-Version: 1.1\nName: a\nVersion: 1.0\nSummary: s\nHome-page: h\n"
        "Author: me\nLicense: MIT\nDownload-URL: u\nClassifier: A :: B\nRequires: re\n"
        "Description: d\n",
        "Metadata-Version: 1.2\nName: a\nVersion: 1.0\nSummary: s\nAuthor: me\nLicense: MIT\n"
        "Maintainer: m\nProject-URL: Docs, https://d\nRequires-Dist: b (>=1)\n"
        "Requires-Python: >=2.7\nRequires-External: libpng (>=1.5)\nProvides-Dist: a (1.0)\n"
        "Obsoletes-Dist: old (<1)\nDescription: d\n",
        "Metadata-Version: 2.1\nName: a\nVersion: 1.0\nSummary: s\nAuthor: me\nLicense: MIT\n"
        "Project-URL: Home, https://h\nProvides-Extra: tests\nRequires-Dist: b; extra == 'tests'\n"
        "Description-Content-Type: text/x-rst\n\nbody\n",
        "Metadata-Version: 2.2\nName: a\nVersion: 1.0\nSummary: s\nAuthor: me\nLicense: MIT\n"
        "Project-URL: Home, https://h\nDynamic: Requires-Dist\nDynamic: license\n\nbody\n",
        "Metadata-Version: 2.3\nName: a\nVersion: 1.0\nSummary: s\nAuthor: me\nLicense: MIT\n"
        "Project-URL: Home, https://h\nProvides-Extra: my-extra\n\nbody\n",
        "Metadata-Version: 2.4\nName: a\nVersion: 1.0\nSummary: s\nAuthor: me\n"
        "License-Expression: MIT OR (Apache-2.0 AND BSD-3-Clause)\n"
        "License-File: LICENSE\nLicense-File: licenses/NOTICE.txt\n"
        "Project-URL: Home, https://h\n\nbody\n",
        "Metadata-Version: 2.5\nName: a\nVersion: 1.0\nSummary: s\nAuthor: me\n"
        "License-Expression: MIT\nProject-URL: Home, https://h\nImport-Name: a\n\nbody\n",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        pyti_findings f = check(files[i]);
        /* Requires in 1.1 is fine; nothing else should be reported */
        if (f.len) {
            fprintf(stderr, "file %zu:\n", i);
            dump(&f);
        }
        assert_int_equal(f.len, 0);
        findings_free(&f);
    }
}

/* ---- validation, one finding at a time ------------------------------ */

static void test_missing_required(void **state)
{
    pyti_findings f = check("Summary: only\n");
    assert_finding(f, "metadata.missing-metadata-version", PYTI_SEV_HIGH, "pkg-1.0/PKG-INFO");
    assert_finding(f, "metadata.missing-name", PYTI_SEV_HIGH, NULL);
    assert_finding(f, "metadata.missing-version", PYTI_SEV_HIGH, NULL);
    findings_free(&f);
}

static void test_metadata_version_values(void **state)
{
    pyti_findings f = check("Metadata-Version: banana\nName: x\nVersion: 1\n");
    assert_finding(f, "metadata.invalid-metadata-version", PYTI_SEV_HIGH, ":1");
    findings_free(&f);
    f = check("Metadata-Version: 3.0\nName: x\nVersion: 1\n");
    assert_finding(f, "metadata.unknown-metadata-version", PYTI_SEV_HIGH, ":1");
    findings_free(&f);
    f = check("Metadata-Version: 2.0\nName: x\nVersion: 1\nProvides-Extra: a\n");
    assert_finding(f, "metadata.unknown-metadata-version", PYTI_SEV_LOW, NULL);
    assert_no_finding(f, "metadata.field-too-new"); /* 2.0 is read as 2.1 */
    findings_free(&f);
    f = check("Metadata-Version: 1.3\nName: x\nVersion: 1\n");
    assert_finding(f, "metadata.unknown-metadata-version", PYTI_SEV_MEDIUM, NULL);
    findings_free(&f);
    f = check("Metadata-Version: 2.9\nName: x\nVersion: 1\n");
    assert_finding(f, "metadata.unknown-metadata-version", PYTI_SEV_LOW, NULL);
    findings_free(&f);
}

static void test_invalid_name(void **state)
{
    static const char *const bad[] = {"-x", "x-", "my package", "caf\xc3\xa9", "", "a..b!"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *t = xasprintf("Metadata-Version: 2.1\nName: %s\nVersion: 1\n", bad[i]);
        pyti_findings f = check(t);
        assert_finding(f, "metadata.invalid-name", PYTI_SEV_HIGH, ":2");
        findings_free(&f);
        free(t);
    }
    pyti_findings f = check("Metadata-Version: 2.1\nName: Zope.Interface_2-x\nVersion: 1\n");
    assert_no_finding(f, "metadata.invalid-name");
    findings_free(&f);
}

static void test_invalid_version(void **state)
{
    pyti_findings f = check("Metadata-Version: 2.1\nName: x\nVersion: 1.0-foo bar\n");
    assert_finding(f, "metadata.invalid-version", PYTI_SEV_HIGH, ":3");
    assert_non_null(strstr(find(&f, "metadata.invalid-version")->message, "1.0-foo bar"));
    findings_free(&f);
    f = check("Metadata-Version: 2.1\nName: x\nVersion: 1.0.0-Beta.1\n");
    assert_no_finding(f, "metadata.invalid-version");
    assert_finding(f, "metadata.version-not-normalized", PYTI_SEV_LOW, ":3");
    assert_non_null(strstr(find(&f, "metadata.version-not-normalized")->message, "1.0.0b1"));
    findings_free(&f);
}

static void test_filename_mismatch(void **state)
{
    pyti_findings f = check_full(GOOD, "/tmp/dl/beagle_vote-1.0a2-py3-none-any.whl", NULL);
    assert_no_finding(f, "metadata.name-mismatch");
    assert_no_finding(f, "metadata.version-mismatch");
    findings_free(&f);
    /* normalised comparison: Beagle.Vote vs beagle-vote, 1.0.0a2 vs 1.0a2 */
    f = check_full(GOOD, "Beagle.Vote-1.0.0alpha2.tar.gz", NULL);
    assert_no_finding(f, "metadata.name-mismatch");
    assert_no_finding(f, "metadata.version-mismatch");
    findings_free(&f);
    f = check_full(GOOD, "other-1.0a2.tar.gz", NULL);
    assert_finding(f, "metadata.name-mismatch", PYTI_SEV_HIGH, ":2");
    assert_no_finding(f, "metadata.version-mismatch");
    findings_free(&f);
    f = check_full(GOOD, "beagle_vote-1.0-py3-none-any.whl", NULL);
    assert_finding(f, "metadata.version-mismatch", PYTI_SEV_HIGH, ":3");
    findings_free(&f);
    f = check_full(GOOD, "beagle.exe", NULL);
    assert_finding(f, "metadata.filename-unparsable", PYTI_SEV_LOW, NULL);
    findings_free(&f);
}

static void test_requires_dist_and_python(void **state)
{
    pyti_findings f = check(GOOD_HEAD "Requires-Dist: requests >=2.0 <3\n"
                            "Requires-Dist: ok>=1\nRequires-Python: >=3.6,,<4\n");
    assert_finding(f, "metadata.invalid-requires-dist", PYTI_SEV_HIGH, ":4");
    assert_non_null(strstr(find(&f, "metadata.invalid-requires-dist")->message,
                           "requests >=2.0 <3"));
    assert_int_equal(count(&f, "metadata.invalid-requires-dist"), 1);
    assert_no_finding(f, "metadata.invalid-requires-python"); /* empty clauses dropped */
    findings_free(&f);
    f = check(GOOD_HEAD "Requires-Python: >= 3.six\nRequires-Dist: a @ https://x/a.whl\n"
              "Requires-Dist: b[x,y] (>=1,<2) ; python_version < \"3.8\"\n"
              "Requires-Dist: c; os_name == \"nt\" and\n");
    assert_finding(f, "metadata.invalid-requires-python", PYTI_SEV_HIGH, ":4");
    assert_int_equal(count(&f, "metadata.invalid-requires-dist"), 1);
    assert_finding(f, "metadata.invalid-requires-dist", PYTI_SEV_HIGH, ":7");
    findings_free(&f);
}

static void test_extras(void **state)
{
    pyti_findings f = check("Metadata-Version: 2.3\nName: x\nVersion: 1\n"
                            "Provides-Extra: Foo_Bar\nProvides-Extra: -bad\n"
                            "Provides-Extra: foo-bar\n"
                            "Requires-Dist: a; extra == 'foo-bar'\n"
                            "Requires-Dist: b; extra == \"missing\"\n");
    assert_finding(f, "metadata.extra-not-normalized", PYTI_SEV_LOW, ":4");
    assert_finding(f, "metadata.invalid-provides-extra", PYTI_SEV_MEDIUM, ":5");
    assert_finding(f, "metadata.duplicate-extra", PYTI_SEV_LOW, ":6");
    assert_finding(f, "metadata.undeclared-extra", PYTI_SEV_LOW, ":8");
    assert_int_equal(count(&f, "metadata.undeclared-extra"), 1);
    findings_free(&f);
    /* before 2.3 the spelling of extras is free */
    f = check("Metadata-Version: 2.1\nName: x\nVersion: 1\nProvides-Extra: Foo_Bar\n");
    assert_no_finding(f, "metadata.extra-not-normalized");
    findings_free(&f);
}

static void test_other_relations(void **state)
{
    pyti_findings f = check("Metadata-Version: 1.2\nName: x\nVersion: 1\n"
                            "Requires-External: C\nRequires-External: libpng (>=1.5)\n"
                            "Requires-External: make; sys_platform != 'win32'\n"
                            "Requires-External: (broken\n"
                            "Provides-Dist: OtherProject\nProvides-Dist: AnotherProject (3.4)\n"
                            "Provides-Dist: virtual_package; python_version >= '3.4'\n"
                            "Provides-Dist: bad (not-a-version)\n"
                            "Obsoletes-Dist: Gorgon\nObsoletes-Dist: OtherProject (<3.0)\n"
                            "Obsoletes-Dist: Foo; os_name == 'posix'\n"
                            "Obsoletes-Dist: !!\n");
    assert_int_equal(count(&f, "metadata.invalid-requires-external"), 1);
    assert_finding(f, "metadata.invalid-requires-external", PYTI_SEV_LOW, ":7");
    assert_int_equal(count(&f, "metadata.invalid-provides-dist"), 1);
    assert_finding(f, "metadata.invalid-provides-dist", PYTI_SEV_MEDIUM, ":11");
    assert_int_equal(count(&f, "metadata.invalid-obsoletes-dist"), 1);
    assert_finding(f, "metadata.invalid-obsoletes-dist", PYTI_SEV_MEDIUM, ":15");
    findings_free(&f);
}

static void test_classifiers(void **state)
{
    pyti_strv known = PYTI_STRV_INIT;
    strv_push(&known, "Development Status :: 4 - Beta");
    strv_push(&known, "License :: OSI Approved :: MIT License");
    strv_push(&known, "Topic :: Software Development");
    strv_push(&known, "!Natural Language :: Ukranian => Natural Language :: Ukrainian");
    strv_push(&known, "!Topic :: Old");
    pyti_findings f = check_full(GOOD_HEAD "Classifier: Topic :: Software Development\n"
                                 "Classifier: Topic::Software\n"
                                 "Classifier: Topic :: \n"
                                 "Classifier: Topic ::  Spaces\n"
                                 "Classifier: Lonely\n"
                                 "Classifier: Topic :: Made Up\n"
                                 "Classifier: Natural Language :: Ukranian\n"
                                 "Classifier: Topic :: Old\n"
                                 "Classifier: Private :: Do Not Upload\n"
                                 "Classifier: Topic :: Software Development\n",
                                 NULL, &known);
    assert_int_equal(count(&f, "metadata.invalid-classifier"), 4);
    assert_finding(f, "metadata.invalid-classifier", PYTI_SEV_MEDIUM, ":5");
    assert_finding(f, "metadata.unknown-classifier", PYTI_SEV_LOW, ":9");
    assert_int_equal(count(&f, "metadata.unknown-classifier"), 1);
    assert_finding(f, "metadata.deprecated-classifier", PYTI_SEV_LOW, ":10");
    assert_non_null(strstr(find(&f, "metadata.deprecated-classifier")->message,
                           "Natural Language :: Ukrainian"));
    assert_int_equal(count(&f, "metadata.deprecated-classifier"), 2);
    assert_finding(f, "metadata.private-classifier", PYTI_SEV_INFO, ":12");
    assert_finding(f, "metadata.duplicate-classifier", PYTI_SEV_LOW, ":13");
    findings_free(&f);
    /* without a known list: syntax only */
    f = check(GOOD_HEAD "Classifier: Topic :: Made Up\n");
    assert_no_finding(f, "metadata.unknown-classifier");
    findings_free(&f);
    strv_free(&known);
}

static void test_classifier_list_file(void **state)
{
    char *dir = t_tmpdir();
    char *p = t_write(dir, "c.txt", "# comment\n\nTopic :: A\n!Topic :: B => Topic :: A\n");
    pyti_strv known = PYTI_STRV_INIT;
    pyti_error err = {0};
    assert_int_equal(metadata_load_classifiers(p, &known, &err), PYTI_OK);
    assert_int_equal(known.len, 2);
    free(p);
    assert_int_not_equal(metadata_load_classifiers("/nonexistent/c.txt", &known, &err),
                         PYTI_OK);
    strv_free(&known);
    /* the shipped list loads and knows a common classifier */
    char *shipped = path_join(t_source_root(), "data/classifiers.txt");
    assert_int_equal(metadata_load_classifiers(shipped, &known, &err), PYTI_OK);
    assert_true(known.len > 500);
    assert_true(strv_contains(&known, "Programming Language :: Python :: 3"));
    pyti_findings f = check_full(GOOD_HEAD "Classifier: Programming Language :: Python :: 3\n"
                                 "Classifier: Natural Language :: Ukranian\n", NULL, &known);
    assert_no_finding(f, "metadata.unknown-classifier");
    assert_finding(f, "metadata.deprecated-classifier", PYTI_SEV_LOW, ":5");
    findings_free(&f);
    free(shipped);
    strv_free(&known);
}

static void test_missing_recommended(void **state)
{
    pyti_findings f = check("Metadata-Version: 2.1\nName: x\nVersion: 1\n"
                            "Summary: UNKNOWN\nHome-page: UNKNOWN\nAuthor: UNKNOWN\n"
                            "License: UNKNOWN\nDescription: UNKNOWN\n");
    assert_finding(f, "metadata.missing-summary", PYTI_SEV_LOW, ":4");
    assert_finding(f, "metadata.missing-description", PYTI_SEV_LOW, NULL);
    assert_finding(f, "metadata.missing-project-url", PYTI_SEV_LOW, NULL);
    assert_finding(f, "metadata.missing-author", PYTI_SEV_LOW, NULL);
    assert_finding(f, "metadata.missing-license", PYTI_SEV_MEDIUM, NULL);
    findings_free(&f);
    /* a License classifier, a Project-URL, a Maintainer-email are enough */
    f = check("Metadata-Version: 2.1\nName: x\nVersion: 1\nSummary: s\n"
              "Classifier: License :: OSI Approved :: MIT License\n"
              "Project-URL: Source, https://x\nMaintainer-email: m@x\n\nbody");
    assert_int_equal(f.len, 0);
    findings_free(&f);
}

static void test_summary(void **state)
{
    pyti_findings f = check(GOOD_HEAD "Summary: line one\n  line two\n");
    assert_finding(f, "metadata.summary-multiline", PYTI_SEV_MEDIUM, ":4");
    findings_free(&f);
    pyti_buf b = PYTI_BUF_INIT;
    buf_puts(&b, GOOD_HEAD "Summary: ");
    for (int i = 0; i < 600; i++)
        buf_putc(&b, 'a');
    buf_putc(&b, '\n');
    f = check(b.data);
    assert_finding(f, "metadata.summary-too-long", PYTI_SEV_LOW, ":4");
    findings_free(&f);
    buf_free(&b);
}

static void test_description_content_type(void **state)
{
    static const char *const ok[] = {"text/plain", "text/x-rst; charset=UTF-8",
                                     "text/markdown; charset=utf-8; variant=CommonMark",
                                     "TEXT/Markdown", "text/markdown; variant=\"GFM\""};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char *t = xasprintf(GOOD_HEAD "Description-Content-Type: %s\n", ok[i]);
        pyti_findings f = check(t);
        assert_no_finding(f, "metadata.invalid-description-content-type");
        assert_no_finding(f, "metadata.unknown-markdown-variant");
        findings_free(&f);
        free(t);
    }
    static const char *const bad[] = {"text/html", "text/plain; charset=latin-1",
                                      "text/x-rst; nonsense", "markdown"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *t = xasprintf(GOOD_HEAD "Description-Content-Type: %s\n", bad[i]);
        pyti_findings f = check(t);
        assert_finding(f, "metadata.invalid-description-content-type", PYTI_SEV_MEDIUM, ":4");
        findings_free(&f);
        free(t);
    }
    pyti_findings f = check(GOOD_HEAD "Description-Content-Type: text/markdown; variant=Foo\n");
    assert_finding(f, "metadata.unknown-markdown-variant", PYTI_SEV_LOW, ":4");
    findings_free(&f);
}

static void test_field_too_new_unknown_deprecated(void **state)
{
    pyti_findings f = check("Metadata-Version: 2.1\nName: x\nVersion: 1\n"
                            "License-Expression: MIT\nLicense-File: LICENSE\nDynamic: Summary\n"
                            "X-Custom: 1\nx-custom: 2\nRequires: old\n");
    assert_finding(f, "metadata.field-too-new", PYTI_SEV_MEDIUM, ":4");
    assert_int_equal(count(&f, "metadata.field-too-new"), 3);
    /* License-File under 2.1 is what setuptools wrote for years: low */
    for (size_t i = 0; i < f.len; i++)
        if (strcmp(f.items[i].id, "metadata.field-too-new") == 0 &&
            strstr(f.items[i].message, "License-File"))
            assert_int_equal(f.items[i].severity, PYTI_SEV_LOW);
    assert_finding(f, "metadata.unknown-field", PYTI_SEV_LOW, ":7");
    assert_int_equal(count(&f, "metadata.unknown-field"), 1);
    assert_finding(f, "metadata.deprecated-field", PYTI_SEV_LOW, ":9");
    findings_free(&f);
    f = check("Metadata-Version: 1.0\nName: x\nVersion: 1\nClassifier: A :: B\n");
    assert_finding(f, "metadata.field-too-new", PYTI_SEV_MEDIUM, ":4");
    findings_free(&f);
}

static void test_dynamic(void **state)
{
    pyti_findings f = check("Metadata-Version: 2.2\nName: x\nVersion: 1\n"
                            "Dynamic: Version\nDynamic: name\nDynamic: Requires-Dist\n"
                            "Dynamic: Nonsense\n");
    assert_int_equal(count(&f, "metadata.dynamic-forbidden"), 2);
    assert_finding(f, "metadata.dynamic-forbidden", PYTI_SEV_HIGH, ":4");
    assert_finding(f, "metadata.dynamic-unknown-field", PYTI_SEV_MEDIUM, ":7");
    assert_int_equal(count(&f, "metadata.dynamic-unknown-field"), 1);
    findings_free(&f);
}

static void test_license_expression(void **state)
{
    static const char *const ok[] = {
        "MIT", "Apache-2.0", "MIT OR Apache-2.0", "(MIT OR Apache-2.0) AND BSD-3-Clause",
        "GPL-2.0-or-later WITH Classpath-exception-2.0", "LicenseRef-Proprietary",
        "GPL-2.0+", "mit or apache-2.0", "DocumentRef-x:LicenseRef-y"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(metadata_license_expression_ok(ok[i]));
    static const char *const bad[] = {
        "", "MIT OR", "AND MIT", "(MIT", "MIT)", "MIT Apache-2.0", "MIT WITH",
        "MIT, Apache-2.0", "GPL v3", "MIT OR OR BSD", "MIT WITH AND", "a:b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (metadata_license_expression_ok(bad[i]))
            fail_msg("accepted '%s'", bad[i]);
    /* deep nesting is refused, not a stack overflow */
    pyti_buf b = PYTI_BUF_INIT;
    for (int i = 0; i < 10000; i++)
        buf_putc(&b, '(');
    assert_false(metadata_license_expression_ok(b.data));
    buf_free(&b);

    pyti_findings f = check("Metadata-Version: 2.4\nName: x\nVersion: 1\n"
                            "License-Expression: GPL v3\nLicense: GPL\n"
                            "Classifier: License :: OSI Approved :: MIT License\n"
                            "License-File: /etc/passwd\nLicense-File: ../LICENSE\n"
                            "License-File: LICEN*\nLicense-File: ok/LICENSE\n"
                            "License-File: dir\\\\x\n");
    assert_finding(f, "metadata.invalid-license-expression", PYTI_SEV_MEDIUM, ":4");
    assert_finding(f, "metadata.license-and-expression", PYTI_SEV_LOW, ":5");
    assert_finding(f, "metadata.license-classifier-with-expression", PYTI_SEV_MEDIUM, ":6");
    assert_finding(f, "metadata.invalid-license-file", PYTI_SEV_MEDIUM, ":7");
    assert_int_equal(count(&f, "metadata.invalid-license-file"), 4);
    assert_finding(f, "metadata.deprecated-field", PYTI_SEV_INFO, ":5"); /* License in 2.4 */
    assert_no_finding(f, "metadata.missing-license");
    findings_free(&f);
}

static void test_project_url(void **state)
{
    pyti_findings f = check(GOOD_HEAD "Project-URL: no comma here\n"
                            "Project-URL: A label that is much longer than thirty-two, https://x\n"
                            "Project-URL: Docs, https://docs\n");
    assert_int_equal(count(&f, "metadata.invalid-project-url"), 2);
    assert_finding(f, "metadata.invalid-project-url", PYTI_SEV_LOW, ":4");
    findings_free(&f);
}

static void test_where_and_message_name_field(void **state)
{
    pyti_findings f = check("Metadata-Version: 2.1\nName: x\nVersion: 1\n"
                            "Requires-Dist: bad bad\n");
    const pyti_finding *x = find(&f, "metadata.invalid-requires-dist");
    assert_non_null(x);
    assert_string_equal(x->where, "pkg-1.0/PKG-INFO:4");
    assert_non_null(strstr(x->message, "pkg-1.0/PKG-INFO:4"));
    assert_non_null(strstr(x->message, "Requires-Dist 'bad bad'"));
    findings_free(&f);
}

/* ---- JSON ----------------------------------------------------------- */

static void test_to_json(void **state)
{
    pyti_metadata *md = parse(GOOD_HEAD "Keywords: dog,puppy, voting\nX-Thing: a\nX-Thing: b\n"
                              "Platform: any\nSummary: s\nSummary: dup\n\nBody text\n");
    json_t *j = metadata_to_json(md);
    assert_string_equal(json_get_str(j, "metadata_version"), "2.1");
    assert_string_equal(json_get_str(j, "name"), "beagle-vote");
    assert_string_equal(json_get_str(j, "summary"), "s");
    assert_string_equal(json_get_str(j, "description"), "Body text\n");
    json_t *kw = json_object_get(j, "keywords");
    assert_true(json_is_array(kw));
    assert_int_equal(json_array_size(kw), 3);
    assert_string_equal(json_string_value(json_array_get(kw, 2)), "voting");
    json_t *pl = json_object_get(j, "platform");
    assert_true(json_is_array(pl));
    assert_int_equal(json_array_size(pl), 1);
    json_t *xt = json_object_get(j, "x_thing");
    assert_true(json_is_array(xt));
    assert_int_equal(json_array_size(xt), 2);
    json_decref(j);
    metadata_free(md);

    md = parse(GOOD);
    j = metadata_to_json(md);
    json_t *rd = json_object_get(j, "requires_dist");
    assert_int_equal(json_array_size(rd), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "classifier"), 1)),
                        "License :: OSI Approved :: MIT License");
    assert_string_equal(json_get_str(j, "home_page"), "https://example.com/beagle");
    assert_string_equal(json_get_str(j, "author_email"), "cschultz@example.com");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "provides_extra"),
                                                         0)), "test");
    json_decref(j);
    metadata_free(md);

    /* space-separated keywords (the old spec's form) */
    md = parse("Metadata-Version: 1.0\nName: x\nkeywords: a b  c\n");
    j = metadata_to_json(md);
    assert_int_equal(json_array_size(json_object_get(j, "keywords")), 3);
    json_decref(j);
    metadata_free(md);
}

/* ---- real metadata from Debian's wheels ----------------------------- */

static char *read_whl_member(const char *whl, const char *suffix)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_zip(a);
    if (archive_read_open_filename(a, whl, 65536) != ARCHIVE_OK) {
        archive_read_free(a);
        return NULL;
    }
    struct archive_entry *e;
    char *out = NULL;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        if (!strstr(name, ".dist-info/") || !str_endswith(name, suffix))
            continue;
        pyti_buf b = PYTI_BUF_INIT;
        char chunk[8192];
        la_ssize_t n;
        while ((n = archive_read_data(a, chunk, sizeof chunk)) > 0)
            buf_append(&b, chunk, (size_t)n);
        out = buf_detach(&b);
        break;
    }
    archive_read_free(a);
    return out;
}

static void test_debian_wheels_metadata(void **state)
{
    DIR *d = opendir("/usr/share/python-wheels");
    if (!d)
        skip();
    struct dirent *de;
    int n = 0;
    pyti_strv known = PYTI_STRV_INIT;
    char *shipped = path_join(t_source_root(), "data/classifiers.txt");
    assert_int_equal(metadata_load_classifiers(shipped, &known, NULL), PYTI_OK);
    free(shipped);
    while ((de = readdir(d)) != NULL) {
        if (!str_endswith(de->d_name, ".whl"))
            continue;
        char *whl = path_join("/usr/share/python-wheels", de->d_name);
        char *text = read_whl_member(whl, "/METADATA");
        assert_non_null(text);
        pyti_error err = {0};
        pyti_metadata *md = metadata_parse(text, strlen(text), de->d_name, &err);
        assert_non_null(md);
        pyti_findings f = PYTI_FINDINGS_INIT;
        metadata_validate(md, de->d_name, &known, &f);
        int max = findings_max_severity(&f);
        int pmax = findings_max_severity(&md->parse_findings);
        if (max >= PYTI_SEV_MEDIUM || pmax >= PYTI_SEV_MEDIUM) {
            dump(&md->parse_findings);
            dump(&f);
            fail_msg("%s: medium or worse findings", de->d_name);
        }
        assert_non_null(metadata_description(md));
        json_t *j = metadata_to_json(md);
        assert_non_null(json_get_str(j, "name"));
        json_decref(j);
        findings_free(&f);
        metadata_free(md);
        free(text);
        free(whl);
        n++;
    }
    closedir(d);
    strv_free(&known);
    if (n == 0)
        skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_basic_fields_and_lines),
        cmocka_unit_test(test_parse_clean_file_has_no_findings),
        cmocka_unit_test(test_parse_continuation_generic),
        cmocka_unit_test(test_parse_description_pipe_folding),
        cmocka_unit_test(test_parse_description_eight_spaces),
        cmocka_unit_test(test_parse_crlf_and_lone_cr),
        cmocka_unit_test(test_parse_bom),
        cmocka_unit_test(test_parse_line_without_colon_starts_body),
        cmocka_unit_test(test_parse_orphan_continuation),
        cmocka_unit_test(test_parse_duplicates),
        cmocka_unit_test(test_parse_description_header_and_body),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_body_bad_bytes_repaired),
        cmocka_unit_test(test_parse_empty_value_and_no_body),
        cmocka_unit_test(test_versions_1_0_to_2_5),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_metadata_version_values),
        cmocka_unit_test(test_invalid_name),
        cmocka_unit_test(test_invalid_version),
        cmocka_unit_test(test_filename_mismatch),
        cmocka_unit_test(test_requires_dist_and_python),
        cmocka_unit_test(test_extras),
        cmocka_unit_test(test_other_relations),
        cmocka_unit_test(test_classifiers),
        cmocka_unit_test(test_classifier_list_file),
        cmocka_unit_test(test_missing_recommended),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_description_content_type),
        cmocka_unit_test(test_field_too_new_unknown_deprecated),
        cmocka_unit_test(test_dynamic),
        cmocka_unit_test(test_license_expression),
        cmocka_unit_test(test_project_url),
        cmocka_unit_test(test_where_and_message_name_field),
        cmocka_unit_test(test_to_json),
        cmocka_unit_test(test_debian_wheels_metadata),
    };
    return cmocka_run_group_tests_name("metadata", tests, NULL, NULL);
}
