/* version.c — PEP 440 versions: a hand-written parser for the language of
 * packaging 23.0's VERSION_PATTERN, its normal form (str(Version)) and its
 * order (_cmpkey).
 *
 * The grammar, after optional surrounding whitespace (Python's \s, which
 * includes some non-ASCII spaces), is
 *
 *   v? (N!)? N(.N)* ([-_.]? PRE [-_.]? N?)?
 *                   (-N | [-_.]? POST [-_.]? N?)?
 *                   ([-_.]? dev [-_.]? N?)?  (+L([-_.]L)*)?
 *
 * with letters matched case-insensitively the way Python's re does it, so
 * U+017F matches 's', U+0130/U+0131 match 'i' and U+212A matches 'k'. For
 * this grammar a greedy left-to-right scan accepts exactly what the
 * backtracking regex accepts and captures the same groups: every optional
 * piece begins with a character that cannot continue the piece before it,
 * and the longest keyword is the only one that can be followed by a valid
 * rest. tests/crosscheck/ holds us to that.
 *
 * Numbers are kept as decimal strings without leading zeros and compared by
 * length then bytes, so there is no overflow. */
#include "pkg/version.h"
#include "pkg/version_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "pkg/pyunicode_internal.h"

typedef struct vlocal {
    char *s;       /* lowercased label, or digits without leading zeros */
    bool numeric;
} vlocal;

struct pyti_version {
    char *epoch;        /* "0" when absent */
    unsigned nrelease;
    char **release;
    char *pre_l;        /* "a", "b", "rc" (or an odd spelling); NULL: none */
    char *pre_n;
    char *post_l;       /* "post" (or an odd spelling); NULL: none */
    char *post_n;
    char *dev_n;        /* NULL: none */
    unsigned nlocal;
    vlocal *local;
    char *text;         /* str(Version) */
};

/* ---- scanning ---------------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_sep(char c)
{
    return c == '-' || c == '_' || c == '.';
}

static size_t skip_digits(const char *s, size_t n, size_t i)
{
    while (i < n && is_digit(s[i]))
        i++;
    return i;
}

/* Bytes of one character at s[i] that re.IGNORECASE matches against the
 * lowercase ASCII letter want, or 0. */
static size_t ci_char(const char *s, size_t n, size_t i, char want)
{
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        return c == (unsigned char)want ? 1 : 0;
    }
    const unsigned char *u = (const unsigned char *)s + i;
    if (want == 's' && i + 1 < n && u[0] == 0xc5 && u[1] == 0xbf)
        return 2; /* U+017F LATIN SMALL LETTER LONG S */
    if (want == 'i' && i + 1 < n && u[0] == 0xc4 && (u[1] == 0xb0 || u[1] == 0xb1))
        return 2; /* U+0130, U+0131: dotted capital / dotless small i */
    if (want == 'k' && i + 2 < n && u[0] == 0xe2 && u[1] == 0x84 && u[2] == 0xaa)
        return 3; /* U+212A KELVIN SIGN */
    return 0;
}

/* Bytes of word matched case-insensitively at s[i], or 0. */
static size_t ci_word(const char *s, size_t n, size_t i, const char *word)
{
    size_t p = i;
    for (const char *w = word; *w; w++) {
        if (p >= n)
            return 0;
        size_t k = ci_char(s, n, p, *w);
        if (!k)
            return 0;
        p += k;
    }
    return p - i;
}

/* The longest of words[] matching at s[i] (bytes), or 0. */
static size_t ci_longest(const char *s, size_t n, size_t i, const char *const *words)
{
    size_t best = 0;
    for (; *words; words++) {
        size_t k = ci_word(s, n, i, *words);
        if (k > best)
            best = k;
    }
    return best;
}

/* One character of the local-label class [a-z0-9] under IGNORECASE. */
static size_t local_char(const char *s, size_t n, size_t i)
{
    if (i >= n)
        return 0;
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit((char)c);
        return ok ? 1 : 0;
    }
    size_t k;
    if ((k = ci_char(s, n, i, 's')) || (k = ci_char(s, n, i, 'i')) || (k = ci_char(s, n, i, 'k')))
        return k;
    return 0;
}

static const char *const pre_words[] = {"a", "b", "c", "rc", "alpha", "beta", "pre", "preview", NULL};
static const char *const post_words[] = {"post", "rev", "r", NULL};

size_t pep440_scan(const char *s, size_t n, size_t i, unsigned flags, pep440_parts *parts)
{
    pep440_parts tmp;
    pep440_parts *pp = parts ? parts : &tmp;
    memset(pp, 0, sizeof *pp);
    size_t p = i;

    if (p < n && (s[p] == 'v' || s[p] == 'V'))
        p++;

    size_t q = skip_digits(s, n, p);
    if (q > p && q < n && s[q] == '!') {
        pp->epoch = (pep440_span){p, q - p};
        p = q + 1;
    }

    q = skip_digits(s, n, p);
    if (q == p)
        return (size_t)-1;
    size_t rel_start = p;
    unsigned count = 1;
    p = q;
    while (p + 1 < n && s[p] == '.' && is_digit(s[p + 1])) {
        p = skip_digits(s, n, p + 1);
        count++;
    }
    if ((flags & PEP440_TWO_RELEASE) && count < 2)
        return (size_t)-1;
    pp->release = (pep440_span){rel_start, p - rel_start};

    if ((flags & PEP440_WILDCARD) && p + 1 < n && s[p] == '.' && s[p + 1] == '*') {
        pp->wildcard = true;
        return p + 2;
    }

    /* pre-release: [-_.]? (a|b|c|rc|alpha|beta|pre|preview) [-_.]? N? */
    q = p;
    if (q < n && is_sep(s[q]))
        q++;
    size_t k = q < n ? ci_longest(s, n, q, pre_words) : 0;
    if (k) {
        pp->pre_l = (pep440_span){q, k};
        q += k;
        if (q < n && is_sep(s[q]))
            q++;
        size_t d = skip_digits(s, n, q);
        pp->pre_n = (pep440_span){q, d - q};
        p = d;
    }

    /* post-release: -N | [-_.]? (post|rev|r) [-_.]? N? */
    if (p + 1 < n && s[p] == '-' && is_digit(s[p + 1])) {
        size_t d = skip_digits(s, n, p + 1);
        pp->has_post = true;
        pp->post_n = (pep440_span){p + 1, d - p - 1};
        p = d;
    } else {
        q = p;
        if (q < n && is_sep(s[q]))
            q++;
        k = q < n ? ci_longest(s, n, q, post_words) : 0;
        if (k) {
            pp->has_post = true;
            pp->post_l = (pep440_span){q, k};
            q += k;
            if (q < n && is_sep(s[q]))
                q++;
            size_t d = skip_digits(s, n, q);
            pp->post_n = (pep440_span){q, d - q};
            p = d;
        }
    }

    /* dev-release: [-_.]? dev [-_.]? N? */
    q = p;
    if (q < n && is_sep(s[q]))
        q++;
    k = q < n ? ci_word(s, n, q, "dev") : 0;
    if (k) {
        q += k;
        if (q < n && is_sep(s[q]))
            q++;
        size_t d = skip_digits(s, n, q);
        pp->has_dev = true;
        pp->dev_n = (pep440_span){q, d - q};
        p = d;
    }

    /* local: \+ L ([-_.] L)* with L = [a-z0-9]+ */
    if ((flags & PEP440_LOCAL) && p < n && s[p] == '+' && local_char(s, n, p + 1)) {
        q = p + 1;
        for (;;) {
            size_t c;
            while ((c = local_char(s, n, q)))
                q += c;
            if (q < n && is_sep(s[q]) && local_char(s, n, q + 1))
                q++;
            else
                break;
        }
        pp->local = (pep440_span){p + 1, q - p - 1};
        p = q;
    }
    return p;
}

/* ---- building ---------------------------------------------------------- */

/* Decimal digits without leading zeros ("0" for all zeros), new string. */
static char *num_dup(const char *s, size_t len)
{
    while (len > 1 && s[0] == '0') {
        s++;
        len--;
    }
    if (len == 0)
        return xstrdup("0");
    return xstrndup(s, len);
}

/* Python's str.lower() of a matched keyword (ASCII, U+017F, U+0130, U+0131
 * only can occur), new string. */
static char *letters_lower(const char *s, size_t len)
{
    pyti_buf b = PYTI_BUF_INIT;
    pyu_lower(&b, s, len);
    return buf_detach(&b);
}

static char *pre_letter(const char *s, size_t len)
{
    char *l = letters_lower(s, len);
    const char *norm = NULL;
    if (strcmp(l, "alpha") == 0)
        norm = "a";
    else if (strcmp(l, "beta") == 0)
        norm = "b";
    else if (strcmp(l, "c") == 0 || strcmp(l, "pre") == 0 || strcmp(l, "preview") == 0)
        norm = "rc";
    if (norm) {
        free(l);
        return xstrdup(norm);
    }
    return l;
}

static char *post_letter(const char *s, size_t len)
{
    if (len == 0)
        return xstrdup("post"); /* implicit "1.0-1" */
    char *l = letters_lower(s, len);
    if (strcmp(l, "rev") == 0 || strcmp(l, "r") == 0) {
        free(l);
        return xstrdup("post");
    }
    return l;
}

static int num_cmp(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return la < lb ? -1 : 1;
    int c = strcmp(a, b);
    return (c > 0) - (c < 0);
}

static void put_text(pyti_buf *b, const pyti_version *v, bool public_only, bool base_only,
                     bool strip_zero)
{
    if (strcmp(v->epoch, "0") != 0)
        buf_printf(b, "%s!", v->epoch);
    unsigned nrel = v->nrelease;
    if (strip_zero)
        while (nrel > 1 && strcmp(v->release[nrel - 1], "0") == 0)
            nrel--;
    for (unsigned i = 0; i < nrel; i++) {
        if (i)
            buf_putc(b, '.');
        buf_puts(b, v->release[i]);
    }
    if (base_only)
        return;
    if (v->pre_l)
        buf_printf(b, "%s%s", v->pre_l, v->pre_n);
    if (v->post_l)
        buf_printf(b, ".post%s", v->post_n);
    if (v->dev_n)
        buf_printf(b, ".dev%s", v->dev_n);
    if (public_only || !v->nlocal)
        return;
    buf_putc(b, '+');
    for (unsigned i = 0; i < v->nlocal; i++) {
        if (i)
            buf_putc(b, '.');
        buf_puts(b, v->local[i].s);
    }
}

static pyti_status bad_version(pyti_error *err, const char *s, size_t n, size_t at,
                               const char *what)
{
    char *ex = str_excerpt(s, n, 80);
    if (at >= n)
        pyti_error_set(err, PYTI_ERR_INPUT, "invalid version '%s': %s at the end", ex, what);
    else
        pyti_error_set(err, PYTI_ERR_INPUT, "invalid version '%s': %s at column %zu", ex, what,
                       pyu_column(s, at));
    free(ex);
    return PYTI_ERR_INPUT;
}

pyti_version *version_parse_n(const char *s, size_t n, pyti_error *err)
{
    if (n > PYTI_VERSION_MAX_LEN) {
        char *ex = str_excerpt(s, n, 40);
        pyti_error_set(err, PYTI_ERR_INPUT,
                       "invalid version '%s': too long (%zu bytes, at most %d)", ex, n,
                       PYTI_VERSION_MAX_LEN);
        free(ex);
        return NULL;
    }
    if (memchr(s, '\0', n)) {
        bad_version(err, s, n, (size_t)((const char *)memchr(s, '\0', n) - s),
                    "unexpected NUL byte");
        return NULL;
    }
    size_t start = pyu_skip_space(s, n, 0);
    size_t end = pyu_rstrip_end(s, start, n);
    pep440_parts pp;
    size_t stop = pep440_scan(s, end, start, PEP440_LOCAL, &pp);
    if (stop == (size_t)-1) {
        size_t at = start;
        if (at < end && (s[at] == 'v' || s[at] == 'V'))
            at++;
        bad_version(err, s, n, at, start == end ? "empty, expected a release number like '1.0'"
                                                : "expected a release number like '1.0'");
        return NULL;
    }
    if (stop != end) {
        const char *what = "expected '.', a pre-, post- or dev-release, a '+local' label or the end";
        if (s[stop] == '+')
            what = "expected a local label of letters and digits after '+'";
        bad_version(err, s, n, stop, what);
        return NULL;
    }

    pyti_version *v = xcalloc(1, sizeof *v);
    v->epoch = pp.epoch.len ? num_dup(s + pp.epoch.off, pp.epoch.len) : xstrdup("0");

    const char *r = s + pp.release.off, *rend = r + pp.release.len;
    for (const char *c = r; c < rend; c++)
        if (*c == '.')
            v->nrelease++;
    v->nrelease++;
    v->release = xcalloc(v->nrelease, sizeof *v->release);
    for (unsigned i = 0; i < v->nrelease; i++) {
        const char *dot = memchr(r, '.', (size_t)(rend - r));
        const char *e = dot ? dot : rend;
        v->release[i] = num_dup(r, (size_t)(e - r));
        r = e + 1;
    }
    if (pp.pre_l.len) {
        v->pre_l = pre_letter(s + pp.pre_l.off, pp.pre_l.len);
        v->pre_n = num_dup(s + pp.pre_n.off, pp.pre_n.len);
    }
    if (pp.has_post) {
        v->post_l = post_letter(s + pp.post_l.off, pp.post_l.len);
        v->post_n = num_dup(s + pp.post_n.off, pp.post_n.len);
    }
    if (pp.has_dev)
        v->dev_n = num_dup(s + pp.dev_n.off, pp.dev_n.len);
    if (pp.local.len) {
        const char *l = s + pp.local.off, *lend = l + pp.local.len;
        v->nlocal = 1;
        for (const char *c = l; c < lend; c++)
            if (is_sep(*c))
                v->nlocal++;
        v->local = xcalloc(v->nlocal, sizeof *v->local);
        for (unsigned i = 0; i < v->nlocal; i++) {
            const char *e = l;
            while (e < lend && !is_sep(*e))
                e++;
            bool numeric = true;
            for (const char *c = l; c < e; c++)
                if (!is_digit(*c))
                    numeric = false;
            v->local[i].numeric = numeric;
            v->local[i].s = numeric ? num_dup(l, (size_t)(e - l)) : letters_lower(l, (size_t)(e - l));
            l = e + 1;
        }
    }
    pyti_buf b = PYTI_BUF_INIT;
    put_text(&b, v, false, false, false);
    v->text = buf_detach(&b);
    return v;
}

pyti_version *version_parse(const char *text, pyti_error *err)
{
    if (!text) {
        pyti_error_set(err, PYTI_ERR_INPUT, "invalid version: no text given");
        return NULL;
    }
    return version_parse_n(text, strlen(text), err);
}

void version_free(pyti_version *v)
{
    if (!v)
        return;
    free(v->epoch);
    for (unsigned i = 0; i < v->nrelease; i++)
        free(v->release[i]);
    free(v->release);
    free(v->pre_l);
    free(v->pre_n);
    free(v->post_l);
    free(v->post_n);
    free(v->dev_n);
    for (unsigned i = 0; i < v->nlocal; i++)
        free(v->local[i].s);
    free(v->local);
    free(v->text);
    free(v);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

pyti_version *version_copy(const pyti_version *v)
{
    if (!v)
        return NULL;
    pyti_version *c = xcalloc(1, sizeof *c);
    c->epoch = xstrdup(v->epoch);
    c->nrelease = v->nrelease;
    c->release = xcalloc(v->nrelease, sizeof *c->release);
    for (unsigned i = 0; i < v->nrelease; i++)
        c->release[i] = xstrdup(v->release[i]);
    c->pre_l = dup_or_null(v->pre_l);
    c->pre_n = dup_or_null(v->pre_n);
    c->post_l = dup_or_null(v->post_l);
    c->post_n = dup_or_null(v->post_n);
    c->dev_n = dup_or_null(v->dev_n);
    c->nlocal = v->nlocal;
    if (v->nlocal) {
        c->local = xcalloc(v->nlocal, sizeof *c->local);
        for (unsigned i = 0; i < v->nlocal; i++) {
            c->local[i].s = xstrdup(v->local[i].s);
            c->local[i].numeric = v->local[i].numeric;
        }
    }
    c->text = xstrdup(v->text);
    return c;
}

char *version_to_string(const pyti_version *v)
{
    return xstrdup(v->text);
}

char *version_public(const pyti_version *v)
{
    pyti_buf b = PYTI_BUF_INIT;
    put_text(&b, v, true, false, false);
    return buf_detach(&b);
}

char *version_base(const pyti_version *v)
{
    pyti_buf b = PYTI_BUF_INIT;
    put_text(&b, v, true, true, false);
    return buf_detach(&b);
}

char *version_canonical(const pyti_version *v, bool strip_trailing_zero)
{
    pyti_buf b = PYTI_BUF_INIT;
    put_text(&b, v, false, false, strip_trailing_zero);
    return buf_detach(&b);
}

char *version_canonical_str(const char *s, bool strip_trailing_zero)
{
    pyti_version *v = version_parse(s, NULL);
    if (!v)
        return xstrdup(s);
    char *c = version_canonical(v, strip_trailing_zero);
    version_free(v);
    return c;
}

/* ---- order ------------------------------------------------------------- */

/* The pre/post/dev parts of _cmpkey: -1 is -Infinity, +1 +Infinity, 0 a
 * (letter, number) tuple. */
static int key_kind_pre(const pyti_version *v)
{
    if (!v->pre_l && !v->post_l && v->dev_n)
        return -1;
    if (!v->pre_l)
        return 1;
    return 0;
}

static int cmp_kind_tuple(int ka, int kb, const char *la, const char *na, const char *lb,
                          const char *nb)
{
    if (ka != kb)
        return ka < kb ? -1 : 1;
    if (ka != 0)
        return 0;
    int c = strcmp(la, lb);
    if (c)
        return c < 0 ? -1 : 1;
    return num_cmp(na, nb);
}

static int cmp_local(const pyti_version *a, const pyti_version *b)
{
    /* None sorts before any label. */
    if (!a->nlocal || !b->nlocal)
        return (a->nlocal != 0) - (b->nlocal != 0);
    unsigned n = a->nlocal < b->nlocal ? a->nlocal : b->nlocal;
    for (unsigned i = 0; i < n; i++) {
        const vlocal *x = &a->local[i], *y = &b->local[i];
        int c;
        if (x->numeric != y->numeric)
            return x->numeric ? 1 : -1; /* numbers sort after words */
        if (x->numeric) {
            c = num_cmp(x->s, y->s);
        } else {
            c = strcmp(x->s, y->s);
            c = (c > 0) - (c < 0);
        }
        if (c)
            return c;
    }
    return (a->nlocal > b->nlocal) - (a->nlocal < b->nlocal);
}

int version_compare(const pyti_version *a, const pyti_version *b)
{
    int c = num_cmp(a->epoch, b->epoch);
    if (c)
        return c;

    unsigned na = a->nrelease, nb = b->nrelease;
    while (na > 0 && strcmp(a->release[na - 1], "0") == 0)
        na--;
    while (nb > 0 && strcmp(b->release[nb - 1], "0") == 0)
        nb--;
    for (unsigned i = 0; i < na && i < nb; i++)
        if ((c = num_cmp(a->release[i], b->release[i])))
            return c;
    if (na != nb)
        return na < nb ? -1 : 1;

    c = cmp_kind_tuple(key_kind_pre(a), key_kind_pre(b), a->pre_l, a->pre_n, b->pre_l, b->pre_n);
    if (c)
        return c;
    c = cmp_kind_tuple(a->post_l ? 0 : -1, b->post_l ? 0 : -1, a->post_l, a->post_n, b->post_l,
                       b->post_n);
    if (c)
        return c;
    c = cmp_kind_tuple(a->dev_n ? 0 : 1, b->dev_n ? 0 : 1, "dev", a->dev_n, "dev", b->dev_n);
    if (c)
        return c;
    return cmp_local(a, b);
}

/* ---- accessors --------------------------------------------------------- */

bool version_is_prerelease(const pyti_version *v)
{
    return v->pre_l || v->dev_n;
}

bool version_is_postrelease(const pyti_version *v)
{
    return v->post_l != NULL;
}

bool version_is_devrelease(const pyti_version *v)
{
    return v->dev_n != NULL;
}

bool version_has_local(const pyti_version *v)
{
    return v->nlocal != 0;
}

const char *version_epoch(const pyti_version *v)
{
    return v->epoch;
}

unsigned version_release_len(const pyti_version *v)
{
    return v->nrelease;
}

const char *version_release_at(const pyti_version *v, unsigned i)
{
    return i < v->nrelease ? v->release[i] : NULL;
}
