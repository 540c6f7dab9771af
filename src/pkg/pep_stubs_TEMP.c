/* pep_stubs_TEMP.c — TEMPORARY: replaced when the pep branch merges.
 *
 * Minimal stand-ins for the parts of version.h, specifier.h, marker.h,
 * requirement.h and name.h that metadata.c and wheel.c call, so that the
 * metadata branch builds and its tests run before the real PEP 440/508
 * code lands. They accept and reject what packaging does for the inputs
 * the metadata tests use, but are deliberately small: no evaluation of
 * markers, no specifier matching. DELETE THIS FILE (and its line in
 * src/pkg/meson.build) when merging the pep branch. */
#include "pkg/marker.h"
#include "pkg/name.h"
#include "pkg/requirement.h"
#include "pkg/specifier.h"
#include "pkg/version.h"

#include "common/buf.h"
#include "common/str.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ---------------------------------------------------------- */

char *name_normalize(const char *name)
{
    pyti_buf b = PYTI_BUF_INIT;
    for (const char *p = name; *p;) {
        if (*p == '-' || *p == '_' || *p == '.') {
            while (*p == '-' || *p == '_' || *p == '.')
                p++;
            buf_putc(&b, '-');
        } else {
            buf_putc(&b, (char)tolower((unsigned char)*p++));
        }
    }
    return buf_detach(&b);
}

static bool is_alnum(char c) { return isascii((unsigned char)c) && isalnum((unsigned char)c); }

bool name_is_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || !is_alnum(name[0]) || !is_alnum(name[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(name[i]) && name[i] != '.' && name[i] != '_' && name[i] != '-')
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
    free(f->extension);
    strv_free(&f->python_tags);
    strv_free(&f->abi_tags);
    strv_free(&f->platform_tags);
    memset(f, 0, sizeof *f);
}

pyti_status dist_filename_parse(const char *filename, pyti_dist_filename *out, pyti_error *err)
{
    static const char *const sdist_ext[] = {".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".zip",
                                            NULL};
    memset(out, 0, sizeof *out);
    size_t n = strlen(filename);
    if (str_endswith(filename, ".whl")) {
        char *stem = xstrndup(filename, n - 4);
        pyti_strv parts = PYTI_STRV_INIT;
        char *save = NULL;
        size_t dashes = 0;
        for (char *p = stem; *p; p++)
            dashes += *p == '-';
        for (char *tok = strtok_r(stem, "-", &save); tok; tok = strtok_r(NULL, "-", &save))
            strv_push(&parts, tok);
        free(stem);
        if ((parts.len != 5 && parts.len != 6) || dashes != parts.len - 1 ||
            (parts.len == 6 && !isdigit((unsigned char)parts.items[2][0]))) {
            strv_free(&parts);
            return pyti_error_set(err, PYTI_ERR_INPUT,
                                  "wheel file name '%s' is not name-version[-build]-python-abi-"
                                  "platform.whl", filename);
        }
        out->kind = PYTI_DIST_WHEEL;
        out->name = xstrdup(parts.items[0]);
        out->version = xstrdup(parts.items[1]);
        size_t t = parts.len == 6 ? 3 : 2;
        if (parts.len == 6)
            out->build = xstrdup(parts.items[2]);
        strv_split(&out->python_tags, parts.items[t], ".");
        strv_split(&out->abi_tags, parts.items[t + 1], ".");
        strv_split(&out->platform_tags, parts.items[t + 2], ".");
        out->extension = xstrdup(".whl");
        strv_free(&parts);
        return PYTI_OK;
    }
    for (size_t i = 0; sdist_ext[i]; i++) {
        if (!str_endswith(filename, sdist_ext[i]))
            continue;
        size_t stem = n - strlen(sdist_ext[i]);
        for (size_t j = stem; j-- > 0;) {
            if (filename[j] == '-' && j + 1 < stem && isdigit((unsigned char)filename[j + 1])) {
                out->kind = PYTI_DIST_SDIST;
                out->name = xstrndup(filename, j);
                out->version = xstrndup(filename + j + 1, stem - j - 1);
                out->extension = xstrdup(sdist_ext[i]);
                return PYTI_OK;
            }
        }
        return pyti_error_set(err, PYTI_ERR_INPUT, "sdist file name '%s' has no version",
                              filename);
    }
    return pyti_error_set(err, PYTI_ERR_INPUT, "'%s' is not a wheel or sdist file name",
                          filename);
}

/* ---- versions ------------------------------------------------------- */

struct pyti_version {
    char *epoch;
    pyti_strv release;
    char pre_l[3]; /* "", "a", "b", "rc" */
    char *pre_n;
    char *post_n;  /* NULL if none */
    char *dev_n;   /* NULL if none */
    char *local;   /* normalised, NULL if none */
};

static char *digits_norm(const char *s, size_t n)
{
    while (n > 1 && *s == '0') {
        s++;
        n--;
    }
    return xstrndup(s, n);
}

static size_t span_digits(const char *s)
{
    size_t n = 0;
    while (isdigit((unsigned char)s[n]))
        n++;
    return n;
}

static bool is_sep(char c) { return c == '-' || c == '_' || c == '.'; }

static size_t match_word(const char *s, const char *w)
{
    size_t n = strlen(w);
    return strncasecmp(s, w, n) == 0 ? n : 0;
}

/* Optional [sep] number after a letter part; returns the consumed length
 * and sets *num (NULL when absent, meaning 0). */
static size_t opt_number(const char *s, char **num)
{
    size_t off = is_sep(*s) && isdigit((unsigned char)s[1]) ? 1 : 0;
    size_t d = span_digits(s + off);
    *num = d ? digits_norm(s + off, d) : xstrdup("0");
    return d ? off + d : 0;
}

void version_free(pyti_version *v)
{
    if (!v)
        return;
    free(v->epoch);
    strv_free(&v->release);
    free(v->pre_n);
    free(v->post_n);
    free(v->dev_n);
    free(v->local);
    free(v);
}

pyti_version *version_parse(const char *text, pyti_error *err)
{
    char *copy = xstrdup(text ? text : "");
    str_trim(copy);
    const char *p = copy;
    pyti_version *v = xcalloc(1, sizeof *v);
    if (*p == 'v' || *p == 'V')
        p++;
    size_t d = span_digits(p);
    if (d && p[d] == '!') {
        v->epoch = digits_norm(p, d);
        p += d + 1;
    } else {
        v->epoch = xstrdup("0");
    }
    for (;;) {
        d = span_digits(p);
        if (!d)
            goto bad;
        strv_push_owned(&v->release, digits_norm(p, d));
        p += d;
        if (*p == '.' && isdigit((unsigned char)p[1]))
            p++;
        else
            break;
    }
    /* pre-release */
    {
        static const char *const words[] = {"alpha", "a", "beta", "b", "preview", "pre",
                                            "c", "rc", NULL};
        static const char *const norm[] = {"a", "a", "b", "b", "rc", "rc", "rc", "rc"};
        const char *q = p + (is_sep(*p) ? 1 : 0);
        for (size_t i = 0; words[i]; i++) {
            size_t m = match_word(q, words[i]);
            if (m) {
                strcpy(v->pre_l, norm[i]);
                q += m;
                q += opt_number(q, &v->pre_n);
                p = q;
                break;
            }
        }
    }
    /* post-release */
    if (*p == '-' && isdigit((unsigned char)p[1])) {
        d = span_digits(p + 1);
        v->post_n = digits_norm(p + 1, d);
        p += 1 + d;
    } else {
        const char *q = p + (is_sep(*p) ? 1 : 0);
        size_t m = match_word(q, "post");
        if (!m)
            m = match_word(q, "rev");
        if (!m && (*q == 'r' || *q == 'R'))
            m = 1;
        if (m) {
            q += m;
            q += opt_number(q, &v->post_n);
            p = q;
        }
    }
    /* dev release */
    {
        const char *q = p + (is_sep(*p) ? 1 : 0);
        size_t m = match_word(q, "dev");
        if (m) {
            q += m;
            q += opt_number(q, &v->dev_n);
            p = q;
        }
    }
    if (*p == '+') {
        p++;
        pyti_buf b = PYTI_BUF_INIT;
        bool need = true;
        while (*p) {
            if (is_alnum(*p)) {
                buf_putc(&b, (char)tolower((unsigned char)*p));
                need = false;
            } else if (is_sep(*p) && !need) {
                buf_putc(&b, '.');
                need = true;
            } else {
                break;
            }
            p++;
        }
        v->local = buf_detach(&b);
        if (need)
            goto bad;
    }
    if (*p)
        goto bad;
    free(copy);
    return v;
bad:
    pyti_error_set(err, PYTI_ERR_INPUT, "invalid version '%s'", text ? text : "");
    free(copy);
    version_free(v);
    return NULL;
}

char *version_to_string(const pyti_version *v)
{
    pyti_buf b = PYTI_BUF_INIT;
    if (strcmp(v->epoch, "0") != 0)
        buf_printf(&b, "%s!", v->epoch);
    for (size_t i = 0; i < v->release.len; i++)
        buf_printf(&b, "%s%s", i ? "." : "", v->release.items[i]);
    if (v->pre_l[0])
        buf_printf(&b, "%s%s", v->pre_l, v->pre_n);
    if (v->post_n)
        buf_printf(&b, ".post%s", v->post_n);
    if (v->dev_n)
        buf_printf(&b, ".dev%s", v->dev_n);
    if (v->local)
        buf_printf(&b, "+%s", v->local);
    return buf_detach(&b);
}

static int num_cmp(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return la < lb ? -1 : 1;
    int c = strcmp(a, b);
    return (c > 0) - (c < 0);
}

/* Ordering key parts as packaging's _cmpkey: pre missing sorts after any
 * pre unless it is a bare dev release; post missing sorts first; dev
 * missing sorts last. */
int version_compare(const pyti_version *a, const pyti_version *b)
{
    int c = num_cmp(a->epoch, b->epoch);
    if (c)
        return c;
    size_t n = a->release.len > b->release.len ? a->release.len : b->release.len;
    for (size_t i = 0; i < n; i++) {
        const char *x = i < a->release.len ? a->release.items[i] : "0";
        const char *y = i < b->release.len ? b->release.items[i] : "0";
        if ((c = num_cmp(x, y)))
            return c;
    }
    /* pre: rank -1 (dev-only, before everything), 0..2 letter, 3 none */
    int ra = a->pre_l[0] ? (a->pre_l[0] == 'a' ? 0 : a->pre_l[0] == 'b' ? 1 : 2)
                         : (!a->post_n && a->dev_n ? -1 : 3);
    int rb = b->pre_l[0] ? (b->pre_l[0] == 'a' ? 0 : b->pre_l[0] == 'b' ? 1 : 2)
                         : (!b->post_n && b->dev_n ? -1 : 3);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    if (a->pre_l[0] && (c = num_cmp(a->pre_n, b->pre_n)))
        return c;
    if (!a->post_n != !b->post_n)
        return a->post_n ? 1 : -1;
    if (a->post_n && (c = num_cmp(a->post_n, b->post_n)))
        return c;
    if (!a->dev_n != !b->dev_n)
        return a->dev_n ? -1 : 1;
    if (a->dev_n && (c = num_cmp(a->dev_n, b->dev_n)))
        return c;
    if (!a->local != !b->local)
        return a->local ? 1 : -1;
    if (a->local) {
        c = strcmp(a->local, b->local); /* approximation of the segment rules */
        return (c > 0) - (c < 0);
    }
    return 0;
}

bool version_has_local(const pyti_version *v) { return v->local != NULL; }
unsigned version_release_len(const pyti_version *v) { return (unsigned)v->release.len; }

/* ---- specifiers ----------------------------------------------------- */

struct pyti_specset {
    unsigned n;
};

static pyti_status clause_check(const char *clause, pyti_error *err)
{
    static const char *const ops[] = {"===", "~=", "==", "!=", "<=", ">=", "<", ">", NULL};
    const char *op = NULL;
    for (size_t i = 0; ops[i]; i++)
        if (str_startswith(clause, ops[i])) {
            op = ops[i];
            break;
        }
    if (!op)
        return pyti_error_set(err, PYTI_ERR_INPUT, "invalid specifier '%s': no operator",
                              clause);
    char *ver = xstrdup(clause + strlen(op));
    str_trim(ver);
    pyti_status rc = PYTI_OK;
    if (strcmp(op, "===") == 0) {
        if (!*ver || strpbrk(ver, " \t;)"))
            rc = PYTI_ERR_INPUT;
    } else {
        bool wild = (strcmp(op, "==") == 0 || strcmp(op, "!=") == 0) && str_endswith(ver, ".*");
        if (wild)
            ver[strlen(ver) - 2] = '\0';
        pyti_version *v = *ver && !isspace((unsigned char)ver[0]) ? version_parse(ver, NULL)
                                                                 : NULL;
        if (!v)
            rc = PYTI_ERR_INPUT;
        else if (wild && (v->pre_l[0] || v->post_n || v->dev_n || v->local))
            rc = PYTI_ERR_INPUT;
        else if (v->local && strcmp(op, "==") != 0 && strcmp(op, "!=") != 0)
            rc = PYTI_ERR_INPUT;
        else if (strcmp(op, "~=") == 0 && v->release.len < 2)
            rc = PYTI_ERR_INPUT;
        version_free(v);
    }
    free(ver);
    if (rc != PYTI_OK)
        pyti_error_set(err, rc, "invalid specifier '%s'", clause);
    return rc;
}

pyti_specset *specset_parse(const char *text, pyti_error *err)
{
    pyti_strv parts = PYTI_STRV_INIT;
    strv_split(&parts, text ? text : "", ",");
    for (size_t i = 0; i < parts.len; i++) {
        if (clause_check(parts.items[i], err) != PYTI_OK) {
            strv_free(&parts);
            return NULL;
        }
    }
    pyti_specset *s = xcalloc(1, sizeof *s);
    s->n = (unsigned)parts.len;
    strv_free(&parts);
    return s;
}

void specset_free(pyti_specset *s) { free(s); }

/* ---- markers -------------------------------------------------------- */

struct pyti_marker {
    char *text;
};

typedef struct mparser {
    const char *s;
    size_t i;
    int depth;
} mparser;

static void mws(mparser *p)
{
    while (p->s[p->i] == ' ' || p->s[p->i] == '\t')
        p->i++;
}

static bool mvar(mparser *p)
{
    static const char *const vars[] = {
        "platform_python_implementation", "platform.python_implementation",
        "python_implementation", "python_full_version", "python_version",
        "platform_release", "platform_system", "platform_version", "platform.version",
        "platform_machine", "platform.machine", "implementation_name",
        "implementation_version", "os_name", "os.name", "sys_platform", "sys.platform",
        "extra", NULL};
    char q = p->s[p->i];
    if (q == '"' || q == '\'') {
        const char *end = strchr(p->s + p->i + 1, q);
        if (!end)
            return false;
        p->i = (size_t)(end - p->s) + 1;
        return true;
    }
    for (size_t k = 0; vars[k]; k++) {
        size_t n = strlen(vars[k]);
        if (strncmp(p->s + p->i, vars[k], n) == 0 &&
            !(is_alnum(p->s[p->i + n]) || p->s[p->i + n] == '_' || p->s[p->i + n] == '.')) {
            p->i += n;
            return true;
        }
    }
    return false;
}

static bool mop(mparser *p)
{
    static const char *const ops[] = {"===", "<=", "!=", "==", ">=", "~=", "<", ">", NULL};
    for (size_t k = 0; ops[k]; k++) {
        size_t n = strlen(ops[k]);
        if (strncmp(p->s + p->i, ops[k], n) == 0) {
            p->i += n;
            return true;
        }
    }
    const char *s = p->s + p->i;
    if (strncmp(s, "in", 2) == 0 && (s[2] == ' ' || s[2] == '\t' || s[2] == '"' || s[2] == '\'')) {
        p->i += 2;
        return true;
    }
    if (strncmp(s, "not", 3) == 0 && (s[3] == ' ' || s[3] == '\t')) {
        p->i += 3;
        mws(p);
        if (strncmp(p->s + p->i, "in", 2) == 0) {
            p->i += 2;
            return true;
        }
    }
    return false;
}

static bool mor(mparser *p);

static bool matom(mparser *p)
{
    mws(p);
    if (p->s[p->i] == '(') {
        if (++p->depth > 100)
            return false;
        p->i++;
        if (!mor(p))
            return false;
        mws(p);
        if (p->s[p->i] != ')')
            return false;
        p->i++;
        p->depth--;
        return true;
    }
    if (!mvar(p))
        return false;
    mws(p);
    if (!mop(p))
        return false;
    mws(p);
    return mvar(p);
}

static bool mkeyword(mparser *p, const char *kw)
{
    size_t save = p->i;
    mws(p);
    size_t n = strlen(kw);
    if (p->i > save && strncmp(p->s + p->i, kw, n) == 0 &&
        (p->s[p->i + n] == ' ' || p->s[p->i + n] == '\t' || p->s[p->i + n] == '(')) {
        p->i += n;
        return true;
    }
    /* "...)and (" is also accepted by packaging: allow no space after ')' */
    if (p->i == save && save > 0 && p->s[save - 1] == ')' && strncmp(p->s + p->i, kw, n) == 0) {
        p->i += n;
        return true;
    }
    p->i = save;
    return false;
}

static bool mand(mparser *p)
{
    if (!matom(p))
        return false;
    while (mkeyword(p, "and"))
        if (!matom(p))
            return false;
    return true;
}

static bool mor(mparser *p)
{
    if (!mand(p))
        return false;
    while (mkeyword(p, "or"))
        if (!mand(p))
            return false;
    return true;
}

pyti_marker *marker_parse(const char *text, pyti_error *err)
{
    mparser p = {text ? text : "", 0, 0};
    bool ok = mor(&p);
    mws(&p);
    if (!ok || p.s[p.i]) {
        pyti_error_set(err, PYTI_ERR_INPUT, "invalid marker '%s' at offset %zu", p.s, p.i);
        return NULL;
    }
    pyti_marker *m = xcalloc(1, sizeof *m);
    m->text = xstrdup(p.s);
    return m;
}

void marker_free(pyti_marker *m)
{
    if (m) {
        free(m->text);
        free(m);
    }
}

/* ---- requirements --------------------------------------------------- */

void requirement_free(pyti_requirement *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->normalized);
    strv_free(&r->extras);
    specset_free(r->spec);
    free(r->url);
    marker_free(r->marker);
    free(r);
}

static size_t ident_len(const char *s)
{
    if (!is_alnum(*s))
        return 0;
    size_t n = 1;
    while (is_alnum(s[n]) || s[n] == '.' || s[n] == '_' || s[n] == '-')
        n++;
    while (n > 1 && (s[n - 1] == '.' || s[n - 1] == '-'))
        n--;
    return n;
}

pyti_requirement *requirement_parse(const char *text, pyti_error *err)
{
    const char *s = text ? text : "";
    size_t i = 0, n;
    pyti_requirement *r = xcalloc(1, sizeof *r);
#define WS() while (s[i] == ' ' || s[i] == '\t') i++
    WS();
    if (!(n = ident_len(s + i)))
        goto bad;
    r->name = xstrndup(s + i, n);
    r->normalized = name_normalize(r->name);
    i += n;
    WS();
    if (s[i] == '[') {
        i++;
        WS();
        if (s[i] != ']') {
            for (;;) {
                WS();
                if (!(n = ident_len(s + i)))
                    goto bad;
                char *e = xstrndup(s + i, n);
                strv_push_unique(&r->extras, e);
                free(e);
                i += n;
                WS();
                if (s[i] == ',') {
                    i++;
                    continue;
                }
                break;
            }
        }
        if (s[i] != ']')
            goto bad;
        i++;
        WS();
    }
    if (s[i] == '@') {
        i++;
        WS();
        size_t start = i;
        while (s[i] && s[i] != ' ' && s[i] != '\t')
            i++;
        if (i == start)
            goto bad;
        r->url = xstrndup(s + start, i - start);
        size_t before = i;
        WS();
        if (s[i] && (s[i] != ';' || i == before))
            goto bad;
        r->spec = specset_parse("", NULL);
    } else {
        size_t start = i, end;
        if (s[i] == '(') {
            const char *close = strchr(s + i, ')');
            if (!close)
                goto bad;
            start = i + 1;
            end = (size_t)(close - s);
            i = end + 1;
        } else {
            while (s[i] && s[i] != ';')
                i++;
            end = i;
        }
        char *spec = xstrndup(s + start, end - start);
        r->spec = specset_parse(spec, NULL);
        free(spec);
        if (!r->spec)
            goto bad;
        WS();
    }
    if (s[i] == ';') {
        i++;
        r->marker = marker_parse(s + i, NULL);
        if (!r->marker)
            goto bad;
        i = strlen(s);
    }
    if (s[i])
        goto bad;
#undef WS
    return r;
bad:
    pyti_error_set(err, PYTI_ERR_INPUT, "invalid requirement '%s' at offset %zu", s, i);
    requirement_free(r);
    return NULL;
}
