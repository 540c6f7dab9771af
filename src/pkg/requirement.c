/* requirement.c — PEP 508 dependency specifications as packaging 23.0's
 * Requirement parses them (packaging/_parser.py parse_requirement), with
 * its URL check (urllib.parse of Python 3.11 as Debian ships it: "file:"
 * URLs must survive urlunparse(urlparse(u)) unchanged, others need a
 * scheme and a host; bracketed hosts must be IPv6 addresses) and
 * str(Requirement). */
#include "pkg/requirement.h"
#include "pkg/pep508_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "pkg/name.h"
#include "pkg/pyunicode_internal.h"

/* ---- URLs (urllib.parse.urlparse / urlunparse, Python 3.11.2+deb) ------ */

static bool scheme_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '-' || c == '.';
}

static bool all_in(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(set, s[i]) || s[i] == '\0')
            return false;
    return true;
}

/* ipaddress.IPv4Address(s) accepts s. */
static bool ipv4_ok(const char *s, size_t n)
{
    if (n == 0 || memchr(s, '/', n))
        return false;
    int octets = 0;
    size_t i = 0;
    for (;;) {
        size_t j = i;
        while (j < n && s[j] != '.')
            j++;
        size_t len = j - i;
        if (len == 0 || len > 3 || !all_in(s + i, len, "0123456789"))
            return false;
        if (len > 1 && s[i] == '0')
            return false;
        int val = 0;
        for (size_t k = i; k < j; k++)
            val = val * 10 + (s[k] - '0');
        if (val > 255)
            return false;
        octets++;
        if (j == n)
            break;
        i = j + 1;
    }
    return octets == 4;
}

/* ipaddress.IPv6Address(s) accepts s (scope id included). */
static bool ipv6_ok(const char *s, size_t n)
{
    if (memchr(s, '/', n))
        return false;
    const char *pct = memchr(s, '%', n);
    if (pct) {
        size_t scope = n - (size_t)(pct - s) - 1;
        if (scope == 0 || memchr(pct + 1, '%', scope))
            return false;
        n = (size_t)(pct - s);
    }
    if (n == 0)
        return false;
    /* parts = s.split(':') */
    enum { MAXP = 64 };
    size_t off[MAXP + 2], len[MAXP + 2];
    size_t np = 0, i = 0;
    for (;;) {
        size_t j = i;
        while (j < n && s[j] != ':')
            j++;
        if (np >= MAXP)
            return false;
        off[np] = i;
        len[np] = j - i;
        np++;
        if (j == n)
            break;
        i = j + 1;
    }
    if (np < 3)
        return false;
    bool hex_ok[MAXP + 2];
    for (size_t k = 0; k < np; k++)
        hex_ok[k] = true;
    if (memchr(s + off[np - 1], '.', len[np - 1])) {
        if (!ipv4_ok(s + off[np - 1], len[np - 1]))
            return false;
        /* replaced by two valid hextets */
        len[np - 1] = 1;
        off[np] = off[np - 1];
        len[np] = 1;
        hex_ok[np - 1] = hex_ok[np] = false; /* already validated */
        np++;
    }
    if (np > 9)
        return false;
    long skip = -1;
    for (size_t k = 1; k + 1 < np; k++) {
        if (len[k] == 0) {
            if (skip >= 0)
                return false;
            skip = (long)k;
        }
    }
    size_t hi, lo;
    if (skip >= 0) {
        hi = (size_t)skip;
        lo = np - (size_t)skip - 1;
        if (len[0] == 0 && --hi)
            return false;
        if (len[np - 1] == 0 && --lo)
            return false;
        if (8 - (long)(hi + lo) < 1)
            return false;
    } else {
        if (np != 8 || len[0] == 0 || len[np - 1] == 0)
            return false;
        hi = np;
        lo = 0;
    }
    for (size_t k = 0; k < np; k++) {
        bool used = k < hi || k >= np - lo;
        if (!used || !hex_ok[k])
            continue;
        if (len[k] == 0 || len[k] > 4 || !all_in(s + off[k], len[k], "0123456789abcdefABCDEF"))
            return false;
    }
    return true;
}

/* _check_bracketed_host */
static bool bracketed_host_ok(const char *h, size_t n)
{
    if (n > 0 && h[0] == 'v') {
        /* \Av[a-fA-F0-9]+\..+\Z */
        size_t i = 1;
        while (i < n && strchr("0123456789abcdefABCDEF", h[i]) && h[i])
            i++;
        return i > 1 && i < n && h[i] == '.' && i + 1 < n;
    }
    if (ipv4_ok(h, n))
        return false; /* "An IPv4 address cannot be in brackets" */
    return ipv6_ok(h, n);
}

/* _check_bracketed_netloc */
static bool bracketed_netloc_ok(const char *netloc, size_t n)
{
    const char *hp = netloc;
    for (size_t i = n; i-- > 0;)
        if (netloc[i] == '@') {
            hp = netloc + i + 1;
            break;
        }
    size_t hn = n - (size_t)(hp - netloc);
    const char *open = memchr(hp, '[', hn);
    if (open) {
        if (open != hp)
            return false;
        const char *b = open + 1;
        size_t bn = hn - 1;
        const char *close = memchr(b, ']', bn);
        size_t hostlen = close ? (size_t)(close - b) : bn;
        if (close) {
            size_t portlen = bn - hostlen - 1;
            if (portlen > 0 && close[1] != ':')
                return false;
        }
        return bracketed_host_ok(b, hostlen);
    }
    const char *colon = memchr(hp, ':', hn);
    return bracketed_host_ok(hp, colon ? (size_t)(colon - hp) : hn);
}

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

/* Requirement's URL check. Returns NULL if acceptable, else a reason. */
static const char *url_problem(const char *url)
{
    static const char *const uses_netloc[] = {
        "", "ftp", "http", "gopher", "nntp", "telnet", "imap", "wais", "file", "mms", "https",
        "shttp", "snews", "prospero", "rtsp", "rtspu", "rsync", "svn", "svn+ssh", "sftp", "nfs",
        "git", "git+ssh", "ws", "wss", NULL};
    /* url.lstrip(C0 controls and space), then drop \t \r \n anywhere */
    const char *p = url;
    while (*p && (unsigned char)*p <= ' ')
        p++;
    pyti_buf u = PYTI_BUF_INIT;
    for (; *p; p++)
        if (*p != '\t' && *p != '\r' && *p != '\n')
            buf_putc(&u, *p);
    const char *s = buf_cstr(&u);

    char *scheme = xstrdup("");
    const char *rest = s;
    const char *colon = strchr(s, ':');
    if (colon && colon > s && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) {
        bool ok = true;
        for (const char *c = s; c < colon; c++)
            if (!scheme_char(*c))
                ok = false;
        if (ok) {
            free(scheme);
            scheme = xstrndup(s, (size_t)(colon - s));
            str_lower(scheme);
            rest = colon + 1;
        }
    }
    const char *problem = NULL;
    char *netloc = xstrdup("");
    if (rest[0] == '/' && rest[1] == '/') {
        size_t delim = strcspn(rest + 2, "/?#");
        free(netloc);
        netloc = xstrndup(rest + 2, delim);
        rest = rest + 2 + delim;
        bool open = strchr(netloc, '[') != NULL, close = strchr(netloc, ']') != NULL;
        if (open != close)
            problem = "invalid IPv6 host (unbalanced brackets)";
        else if (open && !bracketed_netloc_ok(netloc, strlen(netloc)))
            problem = "invalid bracketed host (not an IPv6 address)";
    }
    size_t path_len = strcspn(rest, "#");
    const char *fragment = rest[path_len] == '#' ? rest + path_len + 1 : NULL;
    size_t q = strcspn(rest, "?");
    const char *query = NULL;
    if (q < path_len) {
        query = rest + q + 1;
        path_len = q;
    }
    size_t query_len = query ? (size_t)((fragment ? fragment - 1 : rest + strlen(rest)) - query) : 0;

    /* _checknetloc: non-ASCII hosts must not NFKC-normalise into delimiters */
    if (!problem) {
        size_t nl = strlen(netloc), i = 0;
        while (i < nl) {
            int32_t cp = pyu_decode(netloc, nl, &i);
            if (cp >= 0x80 && pyu_nfkc_delim(cp)) {
                problem = "host contains characters that normalise to URL delimiters";
                break;
            }
        }
    }
    if (!problem && strcmp(scheme, "file") == 0) {
        /* urlunparse(urlparse(url)) must give url back */
        pyti_buf b = PYTI_BUF_INIT;
        buf_printf(&b, "%s:", scheme);
        bool slash_path = path_len >= 2 && rest[0] == '/' && rest[1] == '/';
        if (netloc[0] || (in_list(scheme, uses_netloc) && !slash_path)) {
            buf_printf(&b, "//%s", netloc);
            if (path_len && rest[0] != '/')
                buf_putc(&b, '/');
        }
        buf_append(&b, rest, path_len);
        if (query_len) {
            buf_putc(&b, '?');
            buf_append(&b, query, query_len);
        }
        if (fragment && *fragment)
            buf_printf(&b, "#%s", fragment);
        if (strcmp(buf_cstr(&b), url) != 0)
            problem = "a file: URL must be in its normal form (file:///path)";
        buf_free(&b);
    } else if (!problem && (!scheme[0] || !netloc[0])) {
        problem = "a URL needs a scheme and a host (or file:///path)";
    }
    free(scheme);
    free(netloc);
    buf_free(&u);
    return problem;
}

/* ---- parser (_parse_requirement) --------------------------------------- */

/* When a requirement stops where a version clause was meant, says what
 * was wrong with it rather than just "expected end or semicolon". */
static bool spec_hint(const pep508_tok *t, size_t last_clause, pyti_error *err)
{
    static const char *const ops[] = {"===", "~=", "==", "!=", "<=", ">=", "<", ">"};
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        size_t len = strlen(ops[k]);
        if (t->n - t->pos < len || memcmp(t->s + t->pos, ops[k], len) != 0)
            continue;
        size_t q = pyu_skip_space(t->s, t->n, t->pos + len);
        if (strcmp(ops[k], "~=") == 0)
            pep508_error(t, q, err,
                         "expected a version with at least two release numbers after '~='");
        else
            pep508_error(t, q, err, "expected a version after '%s'", ops[k]);
        return true;
    }
    if (last_clause != (size_t)-1 && t->pos < t->n && t->s[t->pos] == '+') {
        const char *c = t->s + last_clause;
        bool eq = (c[0] == '=' || c[0] == '!') && c[1] == '=';
        bool wildcard = t->pos >= 2 && t->s[t->pos - 1] == '*' && t->s[t->pos - 2] == '.';
        pep508_error(t, t->pos, err,
                     !eq        ? "local versions ('+...') are only allowed with == and !="
                     : wildcard ? "a local version cannot follow a '.*' wildcard"
                                : "expected a local label of letters and digits after '+'");
        return true;
    }
    if (last_clause != (size_t)-1 && t->pos + 1 < t->n && t->s[t->pos] == '.' &&
        t->s[t->pos + 1] == '*') {
        pep508_error(t, t->pos, err, "'.*' is only allowed with == and != right after the "
                                     "release numbers");
        return true;
    }
    return false;
}

static bool expect_ws_end_or_marker(pep508_tok *t, pyti_requirement *r, size_t span_start,
                                    const char *after, pyti_error *err)
{
    if (!pep508_char(t, ';')) {
        if (!spec_hint(t, span_start, err))
            pep508_error(t, t->pos, err, "expected end or semicolon (after %s)", after);
        return false;
    }
    pep508_advance(t, 1);
    mnode *m = pep508_parse_marker(t, err);
    if (!m)
        return false;
    pep508_normalize_extra(m);
    r->marker = marker_from_node(m);
    pep508_skip_ws(t);
    return true;
}

static pyti_status parse(pep508_tok *t, pyti_requirement *r, pyti_error *err)
{
    pep508_skip_ws(t);
    size_t len = pep508_identifier(t);
    if (!len)
        return pep508_error(t, t->pos, err,
                            "expected a package name at the start of the requirement");
    r->name = xstrndup(t->s + t->pos, len);
    pep508_advance(t, len);
    pep508_skip_ws(t);

    /* extras = (LEFT_BRACKET wsp* extras_list? wsp* RIGHT_BRACKET)? */
    if (pep508_char(t, '[')) {
        size_t open = t->pos;
        pep508_advance(t, 1);
        pep508_skip_ws(t);
        if ((len = pep508_identifier(t))) {
            char *e = xstrndup(t->s + t->pos, len);
            strv_push_unique(&r->extras, e);
            free(e);
            pep508_advance(t, len);
            for (;;) {
                pep508_skip_ws(t);
                if (pep508_identifier(t))
                    return pep508_error(t, t->pos, err, "expected a comma between extra names");
                if (!pep508_char(t, ','))
                    break;
                pep508_advance(t, 1);
                pep508_skip_ws(t);
                if (!(len = pep508_identifier(t)))
                    return pep508_error(t, t->pos, err, "expected an extra name after the comma");
                e = xstrndup(t->s + t->pos, len);
                strv_push_unique(&r->extras, e);
                free(e);
                pep508_advance(t, len);
            }
        }
        pep508_skip_ws(t);
        if (!pep508_char(t, ']'))
            return pep508_error(t, t->pos, err, "expected ']' (to close the '[' at column %zu)",
                                pyu_column(t->s, open));
        pep508_advance(t, 1);
    }
    pep508_skip_ws(t);

    pyti_buf spec = PYTI_BUF_INIT;
    size_t url_start = 0;
    if (pep508_char(t, '@')) {
        pep508_advance(t, 1);
        pep508_skip_ws(t);
        url_start = t->pos;
        if (!(len = pep508_url(t)))
            return pep508_error(t, t->pos, err, "expected a URL after '@'");
        r->url = xstrndup(t->s + t->pos, len);
        pep508_advance(t, len);
        if (!pep508_end(t)) {
            if (!(len = pep508_ws(t)))
                return pep508_error(t, t->pos, err, "expected whitespace after the URL");
            pep508_advance(t, len);
            if (!pep508_end(t) &&
                !expect_ws_end_or_marker(t, r, (size_t)-1, "URL and whitespace", err))
                return PYTI_ERR_INPUT;
        }
    } else {
        size_t last_clause = (size_t)-1;
        size_t open = t->pos;
        bool paren = pep508_char(t, '(');
        if (paren)
            pep508_advance(t, 1);
        pep508_skip_ws(t);
        /* version_many = (SPECIFIER (WS? COMMA WS? SPECIFIER)*)? */
        while ((len = pep508_specifier(t))) {
            last_clause = t->pos;
            buf_append(&spec, t->s + t->pos, len);
            pep508_advance(t, len);
            pep508_skip_ws(t);
            if (!pep508_char(t, ','))
                break;
            buf_putc(&spec, ',');
            pep508_advance(t, 1);
            pep508_skip_ws(t);
        }
        pep508_skip_ws(t);
        if (paren) {
            if (!pep508_char(t, ')')) {
                buf_free(&spec);
                if (spec_hint(t, last_clause, err))
                    return PYTI_ERR_INPUT;
                return pep508_error(t, t->pos, err,
                                    "expected a version specifier or ')' (to close the "
                                    "'(' at column %zu)",
                                    pyu_column(t->s, open));
            }
            pep508_advance(t, 1);
        }
        pep508_skip_ws(t);
        if (!pep508_end(t) &&
            !expect_ws_end_or_marker(t, r, last_clause,
                                     spec.len ? "version specifier"
                                              : "name and no valid version specifier",
                                     err)) {
            buf_free(&spec);
            return PYTI_ERR_INPUT;
        }
    }
    if (!pep508_end(t)) {
        buf_free(&spec);
        return pep508_error(t, t->pos, err, "expected the end of the requirement");
    }

    if (r->url) {
        const char *why = url_problem(r->url);
        if (why) {
            buf_free(&spec);
            char *ex = str_excerpt(r->url, strlen(r->url), 120);
            pep508_error(t, url_start, err, "invalid URL '%s': %s", ex, why);
            free(ex);
            return PYTI_ERR_INPUT;
        }
    }
    pyti_error serr;
    r->spec = specset_parse(buf_cstr(&spec), &serr);
    buf_free(&spec);
    if (!r->spec) {
        char *ex = str_excerpt(t->s, t->n, 160);
        pyti_error_set(err, PYTI_ERR_INPUT, "%s '%s': %s", t->kind, ex, serr.msg);
        free(ex);
        return PYTI_ERR_INPUT;
    }
    r->normalized = name_normalize(r->name);
    return PYTI_OK;
}

pyti_requirement *requirement_parse(const char *text, pyti_error *err)
{
    if (!text)
        text = "";
    size_t n = strlen(text);
    pep508_tok t = {text, n, 0, "requirement", 0};
    if (n > PYTI_PEP508_MAX_LEN) {
        pyti_error_set(err, PYTI_ERR_INPUT, "requirement too long (%zu bytes, at most %d)", n,
                       PYTI_PEP508_MAX_LEN);
        return NULL;
    }
    if (!str_valid_utf8(text, n)) {
        pep508_error(&t, 0, err, "not valid UTF-8");
        return NULL;
    }
    pyti_requirement *r = xcalloc(1, sizeof *r);
    if (parse(&t, r, err) != PYTI_OK) {
        requirement_free(r);
        return NULL;
    }
    return r;
}

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

char *requirement_to_string(const pyti_requirement *r)
{
    pyti_buf b = PYTI_BUF_INIT;
    buf_puts(&b, r->name);
    if (r->extras.len) {
        pyti_strv sorted = PYTI_STRV_INIT;
        strv_extend(&sorted, &r->extras);
        strv_sort(&sorted);
        char *j = strv_join(&sorted, ",");
        buf_printf(&b, "[%s]", j);
        free(j);
        strv_free(&sorted);
    }
    if (r->spec && specset_len(r->spec)) {
        char *s = specset_to_string(r->spec);
        buf_puts(&b, s);
        free(s);
    }
    if (r->url) {
        buf_printf(&b, "@ %s", r->url);
        if (r->marker)
            buf_putc(&b, ' ');
    }
    if (r->marker) {
        char *m = marker_to_string(r->marker);
        buf_printf(&b, "; %s", m);
        free(m);
    }
    return buf_detach(&b);
}
