/* specifier.c — PEP 440 version specifiers and specifier sets with the
 * semantics of packaging 23.0 (packaging.specifiers.Specifier and
 * SpecifierSet): the clause grammar of Specifier's regex, prefix matching
 * on the canonical strings ("==1.0.*"), "~=" as ">= V, == prefix.*", the
 * pre-release rule, the "<V" / ">V" special cases, "===" as a
 * case-insensitive string comparison, and set de-duplication by canonical
 * form. Several of these are defined by packaging in terms of strings
 * rather than versions; this file follows the strings to stay identical. */
#include "pkg/specifier.h"
#include "pkg/specifier_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/str.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "pkg/pyunicode_internal.h"
#include "pkg/version_internal.h"

/* Longest specifier set accepted, in bytes. */
#define PYTI_SPECSET_MAX_LEN (64 * 1024)

struct pyti_specset {
    unsigned n;
    spec_clause *c;
};

static const struct {
    const char *text;
    spec_op op;
} operators[] = {
    /* Specifier's regex tries these in this order; "===" only wins when
     * "==" cannot be followed by a version, i.e. whenever the text starts
     * with "===". It is therefore checked first here. */
    {"===", SPEC_ARBITRARY},
    {"~=", SPEC_COMPATIBLE},
    {"==", SPEC_EQ},
    {"!=", SPEC_NE},
    {"<=", SPEC_LE},
    {">=", SPEC_GE},
    {"<", SPEC_LT},
    {">", SPEC_GT},
};

static const char *op_text(spec_op op)
{
    for (size_t i = 0; i < sizeof operators / sizeof operators[0]; i++)
        if (operators[i].op == op)
            return operators[i].text;
    return "?";
}

static unsigned scan_flags(spec_op op)
{
    switch (op) {
    case SPEC_EQ:
    case SPEC_NE:
        return PEP440_LOCAL | PEP440_WILDCARD;
    case SPEC_COMPATIBLE:
        return PEP440_TWO_RELEASE;
    default:
        return 0;
    }
}

/* Matches an operator at s[i]; returns its length (0: none). */
static size_t match_op(const char *s, size_t n, size_t i, spec_op *op)
{
    for (size_t k = 0; k < sizeof operators / sizeof operators[0]; k++) {
        size_t len = strlen(operators[k].text);
        if (n - i >= len && memcmp(s + i, operators[k].text, len) == 0) {
            *op = operators[k].op;
            return len;
        }
    }
    return 0;
}

/* The end of the "===" operand [^\s;)]* starting at i. */
static size_t arbitrary_end(const char *s, size_t n, size_t i)
{
    while (i < n) {
        size_t j = i;
        int32_t cp = pyu_decode(s, n, &j);
        if (cp == ';' || cp == ')' || pyu_isspace(cp))
            break;
        i = j;
    }
    return i;
}

/* Scans operator, whitespace and version at s[i]; returns the end of the
 * version (or (size_t)-1) and reports where the version starts. */
static size_t scan_clause(const char *s, size_t n, size_t i, spec_op *op, size_t *vstart)
{
    size_t k = match_op(s, n, i, op);
    if (!k)
        return (size_t)-1;
    size_t q = pyu_skip_space(s, n, i + k);
    *vstart = q;
    if (*op == SPEC_ARBITRARY)
        return arbitrary_end(s, n, q);
    return pep440_scan(s, n, q, scan_flags(*op), NULL);
}

size_t spec_token_len(const char *s, size_t n, size_t i)
{
    spec_op op;
    size_t vstart;
    size_t end = scan_clause(s, n, i, &op, &vstart);
    return end == (size_t)-1 ? 0 : end - i;
}

static pyti_status clause_error(pyti_error *err, const char *s, size_t n, size_t at,
                                const char *what)
{
    char *ex = str_excerpt(s, n, 80);
    if (at >= n)
        pyti_error_set(err, PYTI_ERR_INPUT, "invalid specifier '%s': %s at the end", ex, what);
    else
        pyti_error_set(err, PYTI_ERR_INPUT, "invalid specifier '%s': %s at column %zu", ex, what,
                       pyu_column(s, at));
    free(ex);
    return PYTI_ERR_INPUT;
}

pyti_status spec_clause_parse(const char *s, size_t n, spec_clause *out, pyti_error *err)
{
    size_t i = pyu_skip_space(s, n, 0);
    spec_op op;
    if (!match_op(s, n, i, &op))
        return clause_error(err, s, n, i,
                            "expected an operator (==, !=, <=, >=, <, >, ~=, ===)");
    size_t vstart;
    size_t end = scan_clause(s, n, i, &op, &vstart);
    if (end == (size_t)-1) {
        char msg[128];
        if (op == SPEC_COMPATIBLE)
            snprintf(msg, sizeof msg,
                     "expected a version with at least two release numbers after '~='");
        else
            snprintf(msg, sizeof msg, "expected a version after '%s'", op_text(op));
        return clause_error(err, s, n, vstart, msg);
    }
    size_t after = pyu_skip_space(s, n, end);
    if (after != n) {
        const char *what = "unexpected text after the version";
        if (op == SPEC_ARBITRARY)
            what = "unexpected character in the '===' operand";
        else if (s[after] == '+' && op != SPEC_EQ && op != SPEC_NE && end == after)
            what = "local versions ('+...') are only allowed with == and !=";
        else if (s[after] == '+' && after >= 2 && s[after - 1] == '*')
            what = "a local version cannot follow a '.*' wildcard";
        else if (s[after] == '+' && end == after && !memchr(s + vstart, '+', end - vstart))
            what = "expected a local label of letters and digits after '+'";
        else if (after + 1 < n && s[after] == '.' && s[after + 1] == '*')
            what = op == SPEC_EQ || op == SPEC_NE
                       ? "'.*' is only allowed right after the release numbers"
                       : "'.*' is only allowed with == and !=";
        return clause_error(err, s, n, end == after ? end : after, what);
    }
    out->op = op;
    out->version = xstrndup(s + vstart, end - vstart);
    out->text = xasprintf("%s%s", op_text(op), out->version);
    return PYTI_OK;
}

void spec_clause_clear(spec_clause *c)
{
    free(c->version);
    free(c->text);
    c->version = c->text = NULL;
}

/* ---- the comparison helpers of packaging.specifiers -------------------- */

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* _prefix_regex: ^([0-9]+)((?:a|b|c|rc)[0-9]+)$ — splits "4rc1" after the
 * digits; returns the split offset or 0. */
static size_t prefix_split(const char *item)
{
    size_t i = 0;
    while (item[i] >= '0' && item[i] <= '9')
        i++;
    if (i == 0)
        return 0;
    size_t j = i;
    if (item[j] == 'r' && item[j + 1] == 'c')
        j += 2;
    else if (item[j] == 'a' || item[j] == 'b' || item[j] == 'c')
        j += 1;
    else
        return 0;
    return all_digits(item + j) ? i : 0;
}

/* _version_split: split at '.', and "4rc1" into "4", "rc1". */
static void version_split(pyti_strv *out, const char *version)
{
    const char *p = version;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        char *item = xstrndup(p, len);
        size_t k = prefix_split(item);
        if (k) {
            strv_push_owned(out, xstrndup(item, k));
            strv_push(out, item + k);
            free(item);
        } else {
            strv_push_owned(out, item);
        }
        if (!dot)
            break;
        p = dot + 1;
    }
}

static bool is_not_suffix(const char *seg)
{
    static const char *const suffixes[] = {"dev", "a", "b", "rc", "post"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
        if (str_startswith(seg, suffixes[i]))
            return false;
    return true;
}

/* Version(v.public) — which can fail for the odd spellings whose str() does
 * not re-parse (e.g. a U+0130 in "preview"). */
static pyti_version *reparse_public(const pyti_version *v, pyti_error *err)
{
    char *pub = version_public(v);
    pyti_version *p = version_parse(pub, err);
    free(pub);
    return p;
}

static pyti_version *reparse_base(const pyti_version *v)
{
    char *base = version_base(v);
    pyti_version *b = version_parse(base, NULL);
    free(base);
    return b;
}

/* _compare_equal for a spec ending in ".*". */
static bool equal_prefix(const pyti_version *prospective, const char *spec)
{
    char *pub = version_public(prospective);
    char *norm_prospective = version_canonical_str(pub, true);
    free(pub);
    char *trimmed = xstrndup(spec, strlen(spec) - 2);
    char *norm_spec = version_canonical_str(trimmed, false);
    free(trimmed);

    pyti_strv split_spec = PYTI_STRV_INIT, split_pro = PYTI_STRV_INIT;
    version_split(&split_spec, norm_spec);
    version_split(&split_pro, norm_prospective);
    free(norm_spec);
    free(norm_prospective);

    /* _pad_version(split_prospective, split_spec)[0] */
    size_t lrel = 0, rrel = 0;
    while (lrel < split_pro.len && all_digits(split_pro.items[lrel]))
        lrel++;
    while (rrel < split_spec.len && all_digits(split_spec.items[rrel]))
        rrel++;
    pyti_strv padded = PYTI_STRV_INIT;
    for (size_t i = 0; i < lrel; i++)
        strv_push(&padded, split_pro.items[i]);
    for (size_t i = lrel; i < rrel; i++)
        strv_push(&padded, "0");
    for (size_t i = lrel; i < split_pro.len; i++)
        strv_push(&padded, split_pro.items[i]);

    bool eq = padded.len >= split_spec.len;
    for (size_t i = 0; eq && i < split_spec.len; i++)
        eq = strcmp(padded.items[i], split_spec.items[i]) == 0;
    strv_free(&padded);
    strv_free(&split_spec);
    strv_free(&split_pro);
    return eq;
}

static int compare_equal(const pyti_version *prospective, const char *spec, pyti_error *err)
{
    if (str_endswith(spec, ".*"))
        return equal_prefix(prospective, spec);
    pyti_version *sv = version_parse(spec, err);
    if (!sv)
        return -1;
    int r;
    if (!version_has_local(sv)) {
        pyti_version *pub = reparse_public(prospective, err);
        if (!pub) {
            version_free(sv);
            return -1;
        }
        r = version_compare(pub, sv) == 0;
        version_free(pub);
    } else {
        r = version_compare(prospective, sv) == 0;
    }
    version_free(sv);
    return r;
}

/* Version(prospective.public) <op> Version(spec) for <= and >=. */
static int compare_public(const pyti_version *prospective, const char *spec, bool le,
                          pyti_error *err)
{
    pyti_version *sv = version_parse(spec, err);
    if (!sv)
        return -1;
    pyti_version *pub = reparse_public(prospective, err);
    if (!pub) {
        version_free(sv);
        return -1;
    }
    int c = version_compare(pub, sv);
    version_free(pub);
    version_free(sv);
    return le ? c <= 0 : c >= 0;
}

static bool same_base(const pyti_version *a, const pyti_version *b)
{
    pyti_version *ba = reparse_base(a), *bb = reparse_base(b);
    bool eq = ba && bb && version_compare(ba, bb) == 0;
    version_free(ba);
    version_free(bb);
    return eq;
}

static int compare_less(const pyti_version *prospective, const char *spec, pyti_error *err)
{
    pyti_version *sv = version_parse(spec, err);
    if (!sv)
        return -1;
    int r = 1;
    if (!(version_compare(prospective, sv) < 0))
        r = 0;
    else if (!version_is_prerelease(sv) && version_is_prerelease(prospective) &&
             same_base(prospective, sv))
        r = 0;
    version_free(sv);
    return r;
}

static int compare_greater(const pyti_version *prospective, const char *spec, pyti_error *err)
{
    pyti_version *sv = version_parse(spec, err);
    if (!sv)
        return -1;
    int r = 1;
    if (!(version_compare(prospective, sv) > 0))
        r = 0;
    else if (!version_is_postrelease(sv) && version_is_postrelease(prospective) &&
             same_base(prospective, sv))
        r = 0;
    else if (version_has_local(prospective) && same_base(prospective, sv))
        r = 0;
    version_free(sv);
    return r;
}

static int compare_compatible(const pyti_version *prospective, const char *spec,
                              pyti_error *err)
{
    pyti_strv split = PYTI_STRV_INIT;
    version_split(&split, spec);
    size_t keep = 0;
    while (keep < split.len && is_not_suffix(split.items[keep]))
        keep++;
    pyti_buf prefix = PYTI_BUF_INIT;
    for (size_t i = 0; i + 1 < keep; i++) {
        if (i)
            buf_putc(&prefix, '.');
        buf_puts(&prefix, split.items[i]);
    }
    buf_puts(&prefix, ".*");
    strv_free(&split);
    int r = compare_public(prospective, spec, false, err);
    if (r == 1)
        r = equal_prefix(prospective, buf_cstr(&prefix));
    buf_free(&prefix);
    return r;
}

static int compare_arbitrary(const pyti_version *prospective, const char *spec)
{
    char *text = version_to_string(prospective);
    pyti_buf a = PYTI_BUF_INIT, b = PYTI_BUF_INIT;
    pyu_lower(&a, text, strlen(text));
    pyu_lower(&b, spec, strlen(spec));
    int r = a.len == b.len && memcmp(buf_cstr(&a), buf_cstr(&b), a.len) == 0;
    buf_free(&a);
    buf_free(&b);
    free(text);
    return r;
}

int spec_clause_contains(const spec_clause *c, const pyti_version *v, bool prereleases,
                         pyti_error *err)
{
    if (version_is_prerelease(v) && !prereleases)
        return 0;
    int r;
    switch (c->op) {
    case SPEC_COMPATIBLE:
        return compare_compatible(v, c->version, err);
    case SPEC_EQ:
        return compare_equal(v, c->version, err);
    case SPEC_NE:
        r = compare_equal(v, c->version, err);
        return r < 0 ? r : !r;
    case SPEC_LE:
        return compare_public(v, c->version, true, err);
    case SPEC_GE:
        return compare_public(v, c->version, false, err);
    case SPEC_LT:
        return compare_less(v, c->version, err);
    case SPEC_GT:
        return compare_greater(v, c->version, err);
    case SPEC_ARBITRARY:
        return compare_arbitrary(v, c->version);
    }
    return 0;
}

int spec_clause_prereleases(const spec_clause *c, pyti_error *err)
{
    switch (c->op) {
    case SPEC_EQ:
    case SPEC_GE:
    case SPEC_LE:
    case SPEC_COMPATIBLE:
    case SPEC_ARBITRARY:
        break;
    default:
        return 0;
    }
    size_t len = strlen(c->version);
    if (c->op == SPEC_EQ && str_endswith(c->version, ".*"))
        len -= 2;
    pyti_version *v = version_parse_n(c->version, len, err);
    if (!v)
        return -1;
    int r = version_is_prerelease(v);
    version_free(v);
    return r;
}

/* ---- sets -------------------------------------------------------------- */

/* Specifier's hash/eq key: (operator, canonicalize_version(version,
 * strip_trailing_zero=operator != "~=")). */
static char *clause_key(const spec_clause *c)
{
    char *canon = version_canonical_str(c->version, c->op != SPEC_COMPATIBLE);
    char *key = xasprintf("%s %s", op_text(c->op), canon);
    free(canon);
    return key;
}

typedef struct keyed {
    char *key;
    unsigned index;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return (x->index > y->index) - (x->index < y->index);
}

/* SpecifierSet keeps a frozenset: of clauses with equal keys only the first
 * stays. Sorting by (key, position) finds the others in O(n log n). */
static void drop_duplicates(pyti_specset *s)
{
    if (s->n < 2)
        return;
    keyed *k = xcalloc(s->n, sizeof *k);
    bool *drop = xcalloc(s->n, sizeof *drop);
    for (unsigned i = 0; i < s->n; i++) {
        k[i].key = clause_key(&s->c[i]);
        k[i].index = i;
    }
    qsort(k, s->n, sizeof *k, cmp_keyed);
    for (unsigned i = 1; i < s->n; i++)
        if (strcmp(k[i].key, k[i - 1].key) == 0)
            drop[k[i].index] = true;
    for (unsigned i = 0; i < s->n; i++)
        free(k[i].key);
    free(k);
    unsigned out = 0;
    for (unsigned i = 0; i < s->n; i++) {
        if (drop[i])
            spec_clause_clear(&s->c[i]);
        else
            s->c[out++] = s->c[i];
    }
    s->n = out;
    free(drop);
}

pyti_specset *specset_parse(const char *text, pyti_error *err)
{
    if (!text)
        text = "";
    size_t n = strlen(text);
    if (n > PYTI_SPECSET_MAX_LEN) {
        pyti_error_set(err, PYTI_ERR_INPUT,
                       "invalid specifier set: too long (%zu bytes, at most %d)", n,
                       PYTI_SPECSET_MAX_LEN);
        return NULL;
    }
    if (!str_valid_utf8(text, n)) {
        char *ex = str_excerpt(text, n, 80);
        pyti_error_set(err, PYTI_ERR_INPUT, "invalid specifier set '%s': not valid UTF-8", ex);
        free(ex);
        return NULL;
    }
    pyti_specset *s = xcalloc(1, sizeof *s);
    size_t cap = 0;
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        size_t a = pyu_skip_space(p, len, 0);
        size_t b = pyu_rstrip_end(p, a, len);
        if (b > a) {
            spec_clause c;
            if (spec_clause_parse(p + a, b - a, &c, err) != PYTI_OK) {
                if (comma || p != text) {
                    char *ex = str_excerpt(text, n, 120);
                    pyti_error_prefix(err, "in specifier set '%s'", ex);
                    free(ex);
                }
                specset_free(s);
                return NULL;
            }
            if (s->n == cap) {
                cap = cap ? cap * 2 : 4;
                s->c = xreallocarray(s->c, cap, sizeof *s->c);
            }
            s->c[s->n++] = c;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    drop_duplicates(s);
    return s;
}

void specset_free(pyti_specset *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < s->n; i++)
        spec_clause_clear(&s->c[i]);
    free(s->c);
    free(s);
}

pyti_specset *specset_copy(const pyti_specset *s)
{
    if (!s)
        return NULL;
    pyti_specset *c = xcalloc(1, sizeof *c);
    c->n = s->n;
    if (s->n) {
        c->c = xcalloc(s->n, sizeof *c->c);
        for (unsigned i = 0; i < s->n; i++) {
            c->c[i].op = s->c[i].op;
            c->c[i].version = xstrdup(s->c[i].version);
            c->c[i].text = xstrdup(s->c[i].text);
        }
    }
    return c;
}

unsigned specset_len(const pyti_specset *s)
{
    return s->n;
}

int specset_check(const pyti_specset *s, const pyti_version *v, int prereleases,
                  pyti_error *err)
{
    bool pre;
    if (prereleases >= 0) {
        pre = prereleases != 0;
    } else {
        /* any(s.prereleases for s in specs): a clause that raises only
         * matters when no other clause says yes (packaging's answer then
         * depends on set iteration order; we answer deterministically). */
        pre = false;
        int failed = 0;
        pyti_error first;
        for (unsigned i = 0; i < s->n && !pre; i++) {
            pyti_error e;
            int r = spec_clause_prereleases(&s->c[i], &e);
            if (r < 0 && !failed++)
                first = e;
            else if (r > 0)
                pre = true;
        }
        if (!pre && failed) {
            if (err)
                *err = first;
            return -1;
        }
    }
    if (!pre && version_is_prerelease(v))
        return 0;
    int failed = 0;
    pyti_error first;
    for (unsigned i = 0; i < s->n; i++) {
        pyti_error e;
        int r = spec_clause_contains(&s->c[i], v, pre, &e);
        if (r == 0)
            return 0;
        if (r < 0 && !failed++)
            first = e;
    }
    if (failed) {
        if (err)
            *err = first;
        return -1;
    }
    return 1;
}

bool specset_contains(const pyti_specset *s, const pyti_version *v, int prereleases)
{
    return specset_check(s, v, prereleases, NULL) == 1;
}

bool specset_contains_str(const pyti_specset *s, const char *version, int prereleases)
{
    pyti_version *v = version_parse(version, NULL);
    if (!v)
        return false;
    bool r = specset_contains(s, v, prereleases);
    version_free(v);
    return r;
}

static int cmp_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *specset_to_string(const pyti_specset *s)
{
    pyti_strv texts = PYTI_STRV_INIT;
    for (unsigned i = 0; i < s->n; i++)
        strv_push(&texts, s->c[i].text);
    if (texts.len)
        qsort(texts.items, texts.len, sizeof *texts.items, cmp_text);
    char *r = strv_join(&texts, ",");
    strv_free(&texts);
    return r;
}

const char *specset_clause_at(const pyti_specset *s, unsigned i)
{
    return i < s->n ? s->c[i].text : NULL;
}
