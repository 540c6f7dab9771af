/* name.c — project names (PEP 503 normalisation as
 * packaging.utils.canonicalize_name, validity per the core metadata spec)
 * and distribution file names: wheels as packaging.utils.
 * parse_wheel_filename splits them, sdists by the last "-<digit>". */
#include "pkg/name.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "pkg/pyunicode_internal.h"
#include "pkg/version.h"

/* Longest file name accepted, in bytes. */
#define PYTI_FILENAME_MAX_LEN 4096

static bool is_name_sep(char c)
{
    return c == '-' || c == '_' || c == '.';
}

char *name_normalize(const char *name)
{
    /* re.sub(r"[-_.]+", "-", name).lower() */
    if (!name)
        return xstrdup("");
    /* ASCII (every valid name; the scan's popular list is ~6,000 of them
     * per job): one pass, same result as the general path below. */
    size_t n = 0;
    while (name[n] && !(name[n] & 0x80))
        n++;
    if (!name[n]) {
        char *out = xmalloc(n + 1), *o = out;
        for (const char *p = name; *p;) {
            if (is_name_sep(*p)) {
                *o++ = '-';
                while (is_name_sep(*p))
                    p++;
            } else {
                char c = *p++;
                *o++ = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
            }
        }
        *o = '\0';
        return out;
    }
    pyti_buf sub = PYTI_BUF_INIT;
    for (const char *p = name; *p;) {
        if (is_name_sep(*p)) {
            buf_putc(&sub, '-');
            while (is_name_sep(*p))
                p++;
        } else {
            buf_putc(&sub, *p++);
        }
    }
    pyti_buf low = PYTI_BUF_INIT;
    pyu_lower(&low, buf_cstr(&sub), sub.len);
    buf_free(&sub);
    return buf_detach(&low);
}

static bool is_ascii_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool name_is_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || !is_ascii_alnum(name[0]) || !is_ascii_alnum(name[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_ascii_alnum(name[i]) && !is_name_sep(name[i]))
            return false;
    return true;
}

void dist_filename_free(pyti_dist_filename *f)
{
    if (!f)
        return;
    free(f->name);
    free(f->version);
    free(f->build);
    strv_free(&f->python_tags);
    strv_free(&f->abi_tags);
    strv_free(&f->platform_tags);
    free(f->extension);
    memset(f, 0, sizeof *f);
}

static pyti_status bad_name(pyti_error *err, const char *filename, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static pyti_status bad_name(pyti_error *err, const char *filename, const char *fmt, ...)
{
    if (!err)
        return PYTI_ERR_INPUT;
    char *ex = str_excerpt(filename, strlen(filename), 160);
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    pyti_error_set(err, PYTI_ERR_INPUT, "distribution file name '%s': %s", ex, what);
    free(ex);
    return PYTI_ERR_INPUT;
}

/* One compressed tag set ("cp38.cp39"): lowercased as packaging's Tag does,
 * duplicates dropped, order kept. Empty members are refused. */
static bool expand_tags(pyti_strv *out, const char *set, size_t len)
{
    size_t i = 0;
    for (;;) {
        size_t j = i;
        while (j < len && set[j] != '.')
            j++;
        if (j == i)
            return false;
        pyti_buf low = PYTI_BUF_INIT;
        pyu_lower(&low, set + i, j - i);
        strv_push_unique(out, buf_cstr(&low));
        buf_free(&low);
        if (j == len)
            return true;
        i = j + 1;
    }
}

/* packaging's check on the name part: no "__" and ^[\w\d._]*$. */
static bool wheel_name_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '_' && s[i + 1] == '_')
            return false;
    size_t i = 0;
    while (i < n) {
        int32_t cp = pyu_decode(s, n, &i);
        if (cp != '.' && !pyu_isword(cp))
            return false;
    }
    return true;
}

static pyti_status parse_wheel(const char *filename, pyti_dist_filename *out, pyti_error *err)
{
    size_t stem_len = strlen(filename) - 4;
    const char *dash[6];
    int dashes = 0;
    for (size_t i = 0; i < stem_len; i++) {
        if (filename[i] == '-') {
            if (dashes < 6)
                dash[dashes] = filename + i;
            dashes++;
        }
    }
    if (dashes != 4 && dashes != 5) {
        return bad_name(err, filename,
                        "a wheel name needs 5 or 6 dash-separated parts "
                        "(name-version[-build]-python-abi-platform), found %d dashes", dashes);
    }
    const char *name = filename, *name_end = dash[0];
    const char *ver = dash[0] + 1, *ver_end = dash[1];
    if (!wheel_name_ok(name, (size_t)(name_end - name)))
        return bad_name(err, filename,
                        "invalid project name (letters, digits, '_' and '.' only, no '__')");
    char *version = xstrndup(ver, (size_t)(ver_end - ver));
    pyti_error verr;
    pyti_version *v = version_parse(version, &verr);
    if (!v) {
        pyti_status st = bad_name(err, filename, "%s", verr.msg);
        free(version);
        return st;
    }
    version_free(v);
    const char *tags = dash[1] + 1;
    if (dashes == 5) {
        const char *b = dash[1] + 1, *b_end = dash[2];
        size_t k = 0;
        if (b == b_end || !pyu_isdigit(pyu_decode(b, (size_t)(b_end - b), &k))) {
            free(version);
            return bad_name(err, filename, "the build tag must start with a digit");
        }
        out->build = xstrndup(b, (size_t)(b_end - b));
        tags = dash[2] + 1;
    }
    const char *abi = strchr(tags, '-') + 1;
    const char *plat = strchr(abi, '-') + 1;
    const char *end = filename + stem_len;
    if (!expand_tags(&out->python_tags, tags, (size_t)(abi - 1 - tags)) ||
        !expand_tags(&out->abi_tags, abi, (size_t)(plat - 1 - abi)) ||
        !expand_tags(&out->platform_tags, plat, (size_t)(end - plat))) {
        free(version);
        return bad_name(err, filename, "empty python, abi or platform tag");
    }
    out->kind = PYTI_DIST_WHEEL;
    out->name = xstrndup(name, (size_t)(name_end - name));
    out->version = version;
    out->extension = xstrdup(".whl");
    return PYTI_OK;
}

static const char *const sdist_exts[] = {".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip", NULL};

static pyti_status parse_sdist(const char *filename, const char *ext, pyti_dist_filename *out,
                               pyti_error *err)
{
    size_t stem_len = strlen(filename) - strlen(ext);
    const char *split = NULL;
    for (size_t i = stem_len; i-- > 0;) {
        if (filename[i] == '-' && i + 1 < stem_len && filename[i + 1] >= '0' &&
            filename[i + 1] <= '9') {
            split = filename + i;
            break;
        }
    }
    if (!split)
        return bad_name(err, filename,
                        "expected 'name-version%s' (no '-' followed by a digit)", ext);
    char *name = xstrndup(filename, (size_t)(split - filename));
    if (!name_is_valid(name)) {
        free(name);
        return bad_name(err, filename,
                        "invalid project name (letters, digits, '-', '_', '.'; "
                        "starting and ending with a letter or digit)");
    }
    const char *ver = split + 1;
    size_t vlen = stem_len - (size_t)(ver - filename);
    for (size_t i = 0; i < vlen; i++) {
        unsigned char c = (unsigned char)ver[i];
        if (c <= ' ' || c == 0x7f) {
            free(name);
            return bad_name(err, filename, "control character or space in the version");
        }
    }
    out->kind = PYTI_DIST_SDIST;
    out->name = name;
    out->version = xstrndup(ver, vlen);
    out->extension = xstrdup(ext);
    return PYTI_OK;
}

pyti_status dist_filename_parse(const char *filename, pyti_dist_filename *out, pyti_error *err)
{
    memset(out, 0, sizeof *out);
    if (!filename || !*filename)
        return pyti_error_set(err, PYTI_ERR_INPUT, "distribution file name is empty");
    size_t n = strlen(filename);
    if (n > PYTI_FILENAME_MAX_LEN)
        return pyti_error_set(err, PYTI_ERR_INPUT,
                              "distribution file name too long (%zu bytes, at most %d)", n,
                              PYTI_FILENAME_MAX_LEN);
    if (!str_valid_utf8(filename, n))
        return bad_name(err, filename, "not valid UTF-8");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)filename[i];
        if (c == '/' || c < 0x20 || c == 0x7f)
            return bad_name(err, filename,
                            "a file name cannot contain '/' or control characters");
    }
    pyti_status st;
    if (str_endswith(filename, ".whl")) {
        st = parse_wheel(filename, out, err);
    } else {
        st = PYTI_ERR_INPUT;
        const char *ext = NULL;
        for (const char *const *e = sdist_exts; *e; e++)
            if (str_endswith(filename, *e)) {
                ext = *e;
                break;
            }
        if (!ext)
            return bad_name(err, filename,
                            "unknown extension (expected .whl, .tar.gz, .tgz, .tar.bz2, "
                            ".tar.xz or .zip)");
        st = parse_sdist(filename, ext, out, err);
    }
    if (st != PYTI_OK)
        dist_filename_free(out);
    return st;
}
