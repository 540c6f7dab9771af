/* test_wheel.c — unit tests for src/pkg/wheel.c: locating .dist-info, the
 * WHEEL file, RECORD parsing (Python csv quoting) and verification, on
 * synthetic trees and on the real wheels Debian ships (extracted here with
 * libarchive, then tampered with). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/buf.h"
#include "common/finding.h"
#include "common/hash.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "pkg/wheel.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------- */

static void dump(const pyti_findings *f)
{
    for (size_t i = 0; i < f->len; i++)
        fprintf(stderr, "  %s [%s] %s (%s)\n", f->items[i].id,
                severity_name(f->items[i].severity), f->items[i].message,
                f->items[i].where ? f->items[i].where : "-");
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

static long jint(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    assert_true(json_is_integer(v));
    return (long)json_integer_value(v);
}

/* "sha256=<b64>" of a file. */
static char *record_hash(const char *path, const char *algo)
{
    unsigned char d[PYTI_DIGEST_MAX];
    size_t n = 0;
    pyti_error err;
    if (hash_file_named(path, algo, d, &n, NULL, &err) != PYTI_OK)
        fail_msg("hash %s: %s", path, err.msg);
    char *b = hash_urlsafe_b64_nopad(d, n);
    char *r = xasprintf("%s=%s", algo, b);
    free(b);
    return r;
}

/* Appends a correct RECORD row for root/rel to b. */
static void row(pyti_buf *b, const char *root, const char *rel)
{
    char *p = path_join(root, rel);
    char *h = record_hash(p, "sha256");
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    if (strpbrk(rel, ",\"\n")) {
        buf_putc(b, '"');
        for (const char *c = rel; *c; c++) {
            if (*c == '"')
                buf_putc(b, '"');
            buf_putc(b, *c);
        }
        buf_putc(b, '"');
    } else {
        buf_puts(b, rel);
    }
    buf_printf(b, ",%s,%lld\n", h, (long long)st.st_size);
    free(h);
    free(p);
}

#define DI "demo-1.0.dist-info"

/* A small valid wheel tree: package files, METADATA, WHEEL, and a RECORD
 * listing them all plus `extra` rows appended verbatim. */
static char *make_wheel(const char *extra)
{
    char *root = t_tmpdir();
    free(t_write(root, "demo/__init__.py", "x = 1\n"));
    free(t_write(root, "demo/data, with comma.txt", "comma\n"));
    free(t_write(root, "demo/q\"uote.txt", "quote\n"));
    free(t_write(root, "demo/__pycache__/__init__.cpython-311.pyc", "\x00\x01pyc"));
    free(t_write(root, DI "/METADATA", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"));
    free(t_write(root, DI "/WHEEL", "Wheel-Version: 1.0\nGenerator: test (1.0)\n"
                                    "Root-Is-Purelib: true\nTag: py3-none-any\n"));
    pyti_buf b = PYTI_BUF_INIT;
    row(&b, root, "demo/__init__.py");
    row(&b, root, "demo/data, with comma.txt");
    row(&b, root, "demo/q\"uote.txt");
    buf_puts(&b, "demo/__pycache__/__init__.cpython-311.pyc,,\n");
    row(&b, root, DI "/METADATA");
    row(&b, root, DI "/WHEEL");
    buf_puts(&b, DI "/RECORD,,\n");
    if (extra)
        buf_puts(&b, extra);
    free(t_write(root, DI "/RECORD", buf_cstr(&b)));
    buf_free(&b);
    return root;
}

static json_t *verify(const char *root, pyti_findings *f)
{
    pyti_error err = {0};
    json_t *j = wheel_verify_record(root, DI, f, &err);
    if (!j)
        fail_msg("verify: %s", err.msg);
    return j;
}

/* ---- .dist-info ----------------------------------------------------- */

static void test_find_dist_info(void **state)
{
    char *root = make_wheel(NULL);
    pyti_error err = {0};
    char *di = wheel_find_dist_info(root, &err);
    assert_non_null(di);
    assert_string_equal(di, DI);
    free(di);
    char *p = path_join(root, "other-2.0.dist-info");
    assert_int_equal(mkdir(p, 0755), 0);
    assert_null(wheel_find_dist_info(root, &err));
    assert_int_equal(err.code, PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "2 .dist-info"));
    free(p);
    char *empty = t_tmpdir();
    free(t_write(empty, "file.dist-info", "not a dir"));
    assert_null(wheel_find_dist_info(empty, &err));
    assert_int_equal(err.code, PYTI_ERR_INPUT);
    assert_null(wheel_find_dist_info("/nonexistent/pyti", &err));
    assert_int_equal(err.code, PYTI_ERR_NOTFOUND);
}

/* ---- WHEEL ---------------------------------------------------------- */

static json_t *wheel_file(const char *content, const char *filename, pyti_findings *f)
{
    char *root = t_tmpdir();
    free(t_write(root, DI "/WHEEL", content));
    pyti_error err = {0};
    json_t *j = wheel_check_wheel_file(root, DI, filename, f, &err);
    if (!j)
        fail_msg("WHEEL: %s", err.msg);
    return j;
}

static void test_wheel_file_good(void **state)
{
    pyti_findings f = PYTI_FINDINGS_INIT;
    json_t *j = wheel_file("Wheel-Version: 1.0\nGenerator: bdist_wheel (0.40.0)\n"
                           "Root-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_17_x86_64\n"
                           "Tag: cp311-cp311-manylinux2014_x86_64\n",
                           "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                           &f);
    if (f.len)
        dump(&f);
    assert_int_equal(f.len, 0);
    assert_string_equal(json_get_str(j, "wheel_version"), "1.0");
    assert_string_equal(json_get_str(j, "generator"), "bdist_wheel (0.40.0)");
    assert_true(json_is_false(json_object_get(j, "root_is_purelib")));
    assert_int_equal(json_array_size(json_object_get(j, "tags")), 2);
    json_decref(j);
}

static void test_wheel_file_problems(void **state)
{
    pyti_findings f = PYTI_FINDINGS_INIT;
    json_t *j = wheel_file("Wheel-Version: 2.0\nRoot-Is-Purelib: yes\nTag: py3-none\n"
                           "Tag: py2-none-any\n",
                           "demo-1.0-py3-none-any.whl", &f);
    assert_finding(f, "wheel.unsupported-wheel-version", PYTI_SEV_HIGH, DI "/WHEEL:1");
    assert_finding(f, "wheel.invalid-root-is-purelib", PYTI_SEV_MEDIUM, DI "/WHEEL:2");
    assert_finding(f, "wheel.invalid-tag", PYTI_SEV_MEDIUM, DI "/WHEEL:3");
    assert_finding(f, "wheel.missing-generator", PYTI_SEV_INFO, NULL);
    /* py3-none-any has no Tag line; py2-none-any is not in the name */
    assert_int_equal(count(&f, "wheel.tag-mismatch"), 2);
    assert_finding(f, "wheel.tag-mismatch", PYTI_SEV_MEDIUM, NULL);
    assert_true(json_is_null(json_object_get(j, "root_is_purelib")));
    json_decref(j);
    findings_free(&f);

    j = wheel_file("Wheel-Version: 1.1\nGenerator: g\nRoot-Is-Purelib: true\n", NULL, &f);
    assert_finding(f, "wheel.newer-wheel-version", PYTI_SEV_LOW, ":1");
    assert_finding(f, "wheel.missing-tag", PYTI_SEV_MEDIUM, NULL);
    json_decref(j);
    findings_free(&f);

    j = wheel_file("Wheel-Version: one\nGenerator: g\nTag: py3-none-any\n", NULL, &f);
    assert_finding(f, "wheel.invalid-wheel-version", PYTI_SEV_HIGH, ":1");
    assert_finding(f, "wheel.missing-root-is-purelib", PYTI_SEV_MEDIUM, NULL);
    json_decref(j);
    findings_free(&f);

    j = wheel_file("Generator: g\nRoot-Is-Purelib: true\nTag: py2.py3-none-any\n"
                   "Build: 7\n", "other-2.0-1-py2.py3-none-any.whl", &f);
    assert_finding(f, "wheel.missing-wheel-version", PYTI_SEV_HIGH, NULL);
    assert_finding(f, "wheel.dist-info-mismatch", PYTI_SEV_HIGH, DI);
    assert_finding(f, "wheel.build-tag-mismatch", PYTI_SEV_LOW, NULL);
    assert_int_equal(count(&f, "wheel.tag-mismatch"), 0); /* compressed set expanded */
    json_decref(j);
    findings_free(&f);

    j = wheel_file("Wheel-Version: 1.0\nGenerator: g\nRoot-Is-Purelib: true\n"
                   "Tag: py3-none-any\n", "demo-1.1-py3-none-any.whl", &f);
    assert_finding(f, "wheel.dist-info-mismatch", PYTI_SEV_MEDIUM, NULL);
    json_decref(j);
    findings_free(&f);

    j = wheel_file("Wheel-Version: 1.0\nGenerator: g\nRoot-Is-Purelib: true\n"
                   "Tag: py3-none-any\n", "demo-1.0.tar.gz", &f);
    assert_finding(f, "wheel.filename-unparsable", PYTI_SEV_LOW, NULL);
    json_decref(j);
    findings_free(&f);

    j = wheel_file("\xEF\xBB\xBFWheel-Version: 1.0\nWheel-Version: 1.0\nGenerator: g\n"
                   "Root-Is-Purelib: true\nTag: py3-none-any\n", NULL, &f);
    assert_finding(f, "wheel.wheel-file-syntax", PYTI_SEV_LOW, NULL); /* the BOM */
    assert_finding(f, "wheel.duplicate-field", PYTI_SEV_MEDIUM, DI "/WHEEL:2");
    json_decref(j);
    findings_free(&f);
}

static void test_wheel_file_tag_bomb(void **state)
{
    /* a compressed tag set whose expansion would be 20000^3 tags */
    pyti_buf b = PYTI_BUF_INIT;
    pyti_buf t = PYTI_BUF_INIT;
    for (int i = 0; i < 20000; i++)
        buf_printf(&t, "%sp%d", i ? "." : "", i);
    buf_printf(&b, "Wheel-Version: 1.0\nGenerator: g\nRoot-Is-Purelib: true\nTag: %s-%s-%s\n"
                   "Tag: py3-none-any\n", t.data, t.data, t.data);
    pyti_findings f = PYTI_FINDINGS_INIT;
    json_t *j = wheel_file(b.data, "demo-1.0-py3-none-any.whl", &f);
    assert_finding(f, "wheel.invalid-tag", PYTI_SEV_MEDIUM, DI "/WHEEL:4");
    assert_int_equal(count(&f, "wheel.tag-mismatch"), 0);
    json_decref(j);
    findings_free(&f);
    buf_free(&b);
    buf_free(&t);
}

static void test_wheel_file_missing_or_binary(void **state)
{
    char *root = t_tmpdir();
    pyti_findings f = PYTI_FINDINGS_INIT;
    pyti_error err = {0};
    assert_null(wheel_check_wheel_file(root, DI, NULL, &f, &err));
    assert_int_equal(err.code, PYTI_ERR_NOTFOUND);
    assert_finding(f, "wheel.wheel-file-missing", PYTI_SEV_HIGH, DI "/WHEEL");
    findings_free(&f);
    free(t_write_bytes(root, DI "/WHEEL", "Wheel-Version: \xff\xfe\n", 18));
    assert_null(wheel_check_wheel_file(root, DI, NULL, &f, NULL));
    assert_finding(f, "wheel.wheel-file-unreadable", PYTI_SEV_HIGH, NULL);
    findings_free(&f);
}

/* ---- RECORD --------------------------------------------------------- */

static void test_record_clean(void **state)
{
    char *root = make_wheel(NULL);
    pyti_findings f = PYTI_FINDINGS_INIT;
    json_t *j = verify(root, &f);
    if (f.len)
        dump(&f);
    assert_int_equal(f.len, 0);
    assert_int_equal(jint(j, "entries"), 7);
    assert_int_equal(jint(j, "verified"), 5);
    assert_int_equal(jint(j, "mismatched"), 0);
    assert_int_equal(jint(j, "missing"), 0);
    assert_int_equal(jint(j, "unlisted"), 0);
    assert_int_equal(jint(j, "unverified"), 1); /* the .pyc without hash */
    json_decref(j);
}

static void test_record_tampered(void **state)
{
    char *root = make_wheel(NULL);
    free(t_write(root, "demo/__init__.py", "x = 2\n"));               /* same size */
    free(t_write(root, "demo/data, with comma.txt", "comma!!\n"));    /* size too */
    char *gone = path_join(root, "demo/q\"uote.txt");
    assert_int_equal(unlink(gone), 0);
    free(gone);
    free(t_write(root, "demo/evil.py", "import os\n"));
    free(t_write(root, DI "/RECORD.jws", "{}"));                       /* allowed unlisted */
    pyti_findings f = PYTI_FINDINGS_INIT;
    json_t *j = verify(root, &f);
    assert_int_equal(count(&f, "wheel.record-hash-mismatch"), 2);
    assert_finding(f, "wheel.record-hash-mismatch", PYTI_SEV_HIGH, DI "/RECORD:1");
    assert_finding(f, "wheel.record-size-mismatch", PYTI_SEV_HIGH, DI "/RECORD:2");
    assert_finding(f, "wheel.record-missing-file", PYTI_SEV_HIGH, DI "/RECORD:3");
    assert_finding(f, "wheel.record-unlisted-file", PYTI_SEV_MEDIUM, "demo/evil.py");
    assert_int_equal(count(&f, "wheel.record-unlisted-file"), 1);
    assert_int_equal(jint(j, "verified"), 2);
    assert_int_equal(jint(j, "mismatched"), 2);
    assert_int_equal(jint(j, "missing"), 1);
    assert_int_equal(jint(j, "unlisted"), 1);
    json_decref(j);
    findings_free(&f);
}

static void test_record_bad_entries(void **state)
{
    char *root = make_wheel("/etc/passwd,sha256=abc,10\n"
                            "../outside.txt,sha256=abc,10\n"
                            "demo/../../x,sha256=abc,10\n"
                            "C:/win.txt,sha256=abc,1\n"
                            "demo/__init__.py,sha256=dup,6\n"
                            "demo/nohash.txt,,\n"
                            "demo/weak.txt,md5=1B2M2Y8AsgTpgAmY7PhCfg,0\n"
                            "demo/odd.txt,crc32=AAAA,0\n"
                            "demo/nosep.txt,deadbeef,0\n"
                            "demo/badsize.txt,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,"
                            "ten\n"
                            "only,two\n"
                            "a,b,c,d\n"
                            "\n"
                            "\"unterminated,sha256=x,1\n");
    free(t_write(root, "demo/nohash.txt", "n"));
    free(t_write(root, "demo/weak.txt", ""));
    free(t_write(root, "demo/odd.txt", ""));
    free(t_write(root, "demo/nosep.txt", ""));
    free(t_write(root, "demo/badsize.txt", ""));
    pyti_findings f = PYTI_FINDINGS_INIT;
    json_t *j = verify(root, &f);
    assert_int_equal(count(&f, "wheel.record-path-escapes"), 4);
    assert_finding(f, "wheel.record-path-escapes", PYTI_SEV_HIGH, DI "/RECORD:8");
    assert_finding(f, "wheel.record-duplicate-entry", PYTI_SEV_MEDIUM, DI "/RECORD:12");
    assert_finding(f, "wheel.record-missing-hash", PYTI_SEV_MEDIUM, DI "/RECORD:13");
    assert_finding(f, "wheel.record-weak-hash", PYTI_SEV_MEDIUM, DI "/RECORD:14");
    assert_finding(f, "wheel.record-unknown-hash-algorithm", PYTI_SEV_MEDIUM, ":15");
    assert_finding(f, "wheel.record-malformed-hash", PYTI_SEV_HIGH, ":16");
    assert_finding(f, "wheel.record-malformed-size", PYTI_SEV_MEDIUM, ":17");
    assert_int_equal(count(&f, "wheel.record-malformed-row"), 3);
    assert_finding(f, "wheel.record-malformed-row", PYTI_SEV_HIGH, ":18");
    const pyti_finding *x = NULL;
    for (size_t i = 0; i < f.len; i++)
        if (strstr(f.items[i].message, "unterminated"))
            x = &f.items[i];
    assert_non_null(x);
    assert_string_equal(x->where, DI "/RECORD:21");
    assert_int_equal(count(&f, "wheel.record-unlisted-file"), 0);
    assert_int_equal(jint(j, "entries"), 20);
    assert_int_equal(jint(j, "malformed"), 7);
    json_decref(j);
    findings_free(&f);
}

static void test_record_csv_quoting(void **state)
{
    /* "" escapes, quoted newline, text after a closing quote, CRLF */
    char *root = t_tmpdir();
    free(t_write(root, "a\"b.txt", "1"));
    free(t_write(root, "multi\nline.txt", "2"));
    free(t_write(root, "xy.txt", "3"));
    char *p1 = path_join(root, "a\"b.txt"), *p2 = path_join(root, "multi\nline.txt");
    char *p3 = path_join(root, "xy.txt");
    char *h1 = record_hash(p1, "sha256"), *h2 = record_hash(p2, "sha256");
    char *h3 = record_hash(p3, "sha256");
    free(p1);
    free(p2);
    free(p3);
    char *rec = xasprintf("\"a\"\"b.txt\",%s,1\r\n\"multi\nline.txt\",\"%s\",1\r\n"
                          "\"x\"y.txt,%s==,1\r\n" DI "/RECORD,,\r\n", h1, h2, h3);
    free(t_write(root, DI "/RECORD", rec));
    pyti_findings f = PYTI_FINDINGS_INIT;
    json_t *j = verify(root, &f);
    if (f.len)
        dump(&f);
    assert_int_equal(f.len, 0);
    assert_int_equal(jint(j, "verified"), 3);
    json_decref(j);
    /* line numbers count physical lines: the row after the quoted newline is 4 */
    free(t_write(root, DI "/RECORD", "\"multi\nline.txt\",sha256=x,1\nxy.txt,sha256=bad,1\n"
                                     DI "/RECORD,,\na\"b.txt,,\n"));
    j = verify(root, &f);
    assert_finding(f, "wheel.record-hash-mismatch", PYTI_SEV_HIGH, DI "/RECORD:1");
    const pyti_finding *x = NULL;
    for (size_t i = 0; i < f.len; i++)
        if (strstr(f.items[i].message, "'xy.txt'"))
            x = &f.items[i];
    assert_non_null(x);
    assert_string_equal(x->where, DI "/RECORD:3");
    /* a"b.txt unquoted: the quote is literal, as Python's csv reads it */
    assert_finding(f, "wheel.record-missing-hash", PYTI_SEV_MEDIUM, DI "/RECORD:5");
    json_decref(j);
    findings_free(&f);
    free(rec);
    free(h1);
    free(h2);
    free(h3);
}

static void test_record_symlinks_and_specials(void **state)
{
    char *root = make_wheel("demo/link.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n"
                            "demo/sub/inner.txt,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
                            ",0\n"
                            "demo,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n");
    char *l = path_join(root, "demo/link.py");
    assert_int_equal(symlink("/etc/passwd", l), 0);
    char *outside = t_tmpdir();
    free(t_write(outside, "inner.txt", ""));
    char *sub = path_join(root, "demo/sub");
    assert_int_equal(symlink(outside, sub), 0); /* a directory symlink leaving the root */
    pyti_findings f = PYTI_FINDINGS_INIT;
    json_t *j = verify(root, &f);
    assert_finding(f, "wheel.record-not-regular-file", PYTI_SEV_HIGH, DI "/RECORD:8");
    /* demo/sub is a symlink: demo/sub/inner.txt is not in the tree */
    assert_finding(f, "wheel.record-missing-file", PYTI_SEV_HIGH, DI "/RECORD:9");
    assert_int_equal(count(&f, "wheel.record-missing-file"), 1);
    assert_int_equal(count(&f, "wheel.record-not-regular-file"), 2); /* + the directory */
    assert_int_equal(jint(j, "missing"), 3);
    assert_finding(f, "wheel.record-unlisted-file", PYTI_SEV_MEDIUM, "demo/sub");
    assert_int_equal(jint(j, "verified"), 5);
    json_decref(j);
    findings_free(&f);
    free(l);
    free(sub);
}

static void test_record_missing_and_limits(void **state)
{
    char *root = t_tmpdir();
    pyti_findings f = PYTI_FINDINGS_INIT;
    pyti_error err = {0};
    assert_null(wheel_verify_record(root, DI, &f, &err));
    assert_int_equal(err.code, PYTI_ERR_NOTFOUND);
    assert_finding(f, "wheel.record-missing", PYTI_SEV_HIGH, DI "/RECORD");
    findings_free(&f);
    /* RECORD not listing itself; more rows than allowed */
    pyti_buf b = PYTI_BUF_INIT;
    for (int i = 0; i < 200005; i++)
        buf_printf(&b, "f%d,,\n", i);
    free(t_write(root, DI "/RECORD", b.data));
    buf_free(&b);
    json_t *j = wheel_verify_record(root, DI, &f, &err);
    assert_non_null(j);
    assert_finding(f, "wheel.record-too-many-entries", PYTI_SEV_HIGH, NULL);
    assert_int_equal(jint(j, "entries"), 200000);
    json_decref(j);
    findings_free(&f);
    /* RECORD that is a symlink is not followed */
    char *rp = path_join(root, DI "/RECORD");
    assert_int_equal(unlink(rp), 0);
    assert_int_equal(symlink("/etc/hostname", rp), 0);
    assert_null(wheel_verify_record(root, DI, &f, &err));
    assert_int_equal(err.code, PYTI_ERR_INPUT);
    assert_finding(f, "wheel.record-unreadable", PYTI_SEV_HIGH, DI "/RECORD");
    findings_free(&f);
    assert_int_equal(unlink(rp), 0);
    free(rp);
    /* a hash without a size */
    free(t_write(root, "x.txt", ""));
    free(t_write(root, DI "/RECORD",
                 "x.txt,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,\n" DI "/RECORD,,\n"));
    j = wheel_verify_record(root, DI, &f, &err);
    assert_finding(f, "wheel.record-missing-size", PYTI_SEV_LOW, DI "/RECORD:1");
    assert_int_equal(jint(j, "verified"), 1);
    json_decref(j);
    findings_free(&f);
    free(t_write(root, DI "/RECORD", ""));
    j = wheel_verify_record(root, DI, &f, &err);
    assert_finding(f, "wheel.record-not-self-listed", PYTI_SEV_LOW, NULL);
    assert_int_equal(jint(j, "entries"), 0);
    json_decref(j);
    findings_free(&f);
}

/* ---- Debian's real wheels ------------------------------------------- */

/* Extracts a (trusted) zip into a new temporary directory. */
static char *extract(const char *whl)
{
    char *dir = t_tmpdir();
    struct archive *a = archive_read_new();
    archive_read_support_format_zip(a);
    assert_int_equal(archive_read_open_filename(a, whl, 65536), ARCHIVE_OK);
    struct archive_entry *e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        if (str_endswith(name, "/"))
            continue;
        assert_null(strstr(name, ".."));
        pyti_buf b = PYTI_BUF_INIT;
        char chunk[65536];
        la_ssize_t n;
        while ((n = archive_read_data(a, chunk, sizeof chunk)) > 0)
            buf_append(&b, chunk, (size_t)n);
        free(t_write_bytes(dir, name, b.data ? b.data : "", b.len));
        buf_free(&b);
    }
    archive_read_free(a);
    return dir;
}

static void flip_byte(const char *path)
{
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    int c = fgetc(fp);
    assert_int_not_equal(c, EOF);
    fseek(fp, 0, SEEK_SET);
    fputc(c ^ 1, fp);
    fclose(fp);
}

static void test_debian_wheels(void **state)
{
    DIR *d = opendir("/usr/share/python-wheels");
    if (!d)
        skip();
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)) != NULL) {
        if (!str_endswith(de->d_name, ".whl"))
            continue;
        char *whl = path_join("/usr/share/python-wheels", de->d_name);
        char *root = extract(whl);
        pyti_error err = {0};
        char *di = wheel_find_dist_info(root, &err);
        if (!di)
            fail_msg("%s: %s", de->d_name, err.msg);
        pyti_findings f = PYTI_FINDINGS_INIT;
        json_t *w = wheel_check_wheel_file(root, di, de->d_name, &f, &err);
        assert_non_null(w);
        assert_string_equal(json_get_str(w, "wheel_version"), "1.0");
        assert_true(json_is_true(json_object_get(w, "root_is_purelib")));
        json_decref(w);
        json_t *r = wheel_verify_record(root, di, &f, &err);
        assert_non_null(r);
        if (findings_max_severity(&f) >= PYTI_SEV_MEDIUM) {
            dump(&f);
            fail_msg("%s: findings on a pristine wheel", de->d_name);
        }
        long entries = jint(r, "entries");
        assert_true(entries > 5);
        assert_int_equal(jint(r, "verified"), entries - 1); /* all but RECORD itself */
        assert_int_equal(jint(r, "unlisted"), 0);
        json_decref(r);
        findings_free(&f);

        /* tamper: one byte of one file, delete another, add a third */
        char *meta_rel = xasprintf("%s/METADATA", di);
        char *meta = path_join(root, meta_rel);
        flip_byte(meta);
        char *wheel_path = xasprintf("%s/%s/WHEEL", root, di);
        assert_int_equal(unlink(wheel_path), 0);
        free(t_write(root, "sitecustomize.py", "print('owned')\n"));
        r = wheel_verify_record(root, di, &f, &err);
        assert_non_null(r);
        assert_finding(f, "wheel.record-hash-mismatch", PYTI_SEV_HIGH, "/RECORD:");
        assert_non_null(strstr(find(&f, "wheel.record-hash-mismatch")->message, meta_rel));
        assert_finding(f, "wheel.record-missing-file", PYTI_SEV_HIGH, "/RECORD:");
        assert_finding(f, "wheel.record-unlisted-file", PYTI_SEV_MEDIUM, "sitecustomize.py");
        assert_int_equal(jint(r, "mismatched"), 1);
        assert_int_equal(jint(r, "missing"), 1);
        assert_int_equal(jint(r, "unlisted"), 1);
        assert_int_equal(jint(r, "verified"), entries - 3);
        json_decref(r);
        findings_free(&f);
        free(wheel_path);
        free(meta);
        free(meta_rel);
        free(di);
        free(whl);
        n++;
    }
    closedir(d);
    if (n == 0)
        skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_dist_info),
        cmocka_unit_test(test_wheel_file_good),
        cmocka_unit_test(test_wheel_file_problems),
        cmocka_unit_test(test_wheel_file_tag_bomb),
        cmocka_unit_test(test_wheel_file_missing_or_binary),
        cmocka_unit_test(test_record_clean),
        cmocka_unit_test(test_record_tampered),
        cmocka_unit_test(test_record_bad_entries),
        cmocka_unit_test(test_record_csv_quoting),
        cmocka_unit_test(test_record_symlinks_and_specials),
        cmocka_unit_test(test_record_missing_and_limits),
        cmocka_unit_test(test_debian_wheels),
    };
    return cmocka_run_group_tests_name("wheel", tests, NULL, NULL);
}
