/* pep508_lex.c — the token rules of packaging 23.0's PEP 508 tokenizer
 * (see pep508_internal.h). Each rule mirrors one regular expression of
 * packaging/_tokenizer.py DEFAULT_RULES, matched at a position. */
#include "pkg/pep508_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/str.h"
#include "pkg/pyunicode_internal.h"
#include "pkg/specifier_internal.h"

size_t pep508_char(const pep508_tok *t, char c)
{
    return t->pos < t->n && t->s[t->pos] == c ? 1 : 0;
}

size_t pep508_ws(const pep508_tok *t)
{
    size_t i = t->pos;
    while (i < t->n && (t->s[i] == ' ' || t->s[i] == '\t'))
        i++;
    return i - t->pos;
}

size_t pep508_quoted(const pep508_tok *t)
{
    if (t->pos >= t->n)
        return 0;
    char q = t->s[t->pos];
    if (q != '\'' && q != '"')
        return 0;
    const char *close = memchr(t->s + t->pos + 1, q, t->n - t->pos - 1);
    return close ? (size_t)(close - (t->s + t->pos)) + 1 : 0;
}

static size_t literal_at(const pep508_tok *t, size_t i, const char *word)
{
    size_t len = strlen(word);
    if (t->n - i >= len && memcmp(t->s + i, word, len) == 0)
        return len;
    return 0;
}

size_t pep508_op(const pep508_tok *t)
{
    static const char *const ops[] = {"===", "==", "~=", "!=", "<=", ">=", "<", ">"};
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        size_t len = literal_at(t, t->pos, ops[k]);
        if (len)
            return len;
    }
    return 0;
}

/* \b(word)\b at t->pos. */
static size_t bounded_word(const pep508_tok *t, const char *word)
{
    if (!pyu_word_boundary(t->s, t->n, t->pos))
        return 0;
    size_t len = literal_at(t, t->pos, word);
    if (!len || !pyu_word_boundary(t->s, t->n, t->pos + len))
        return 0;
    return len;
}

size_t pep508_boolop(const pep508_tok *t)
{
    size_t len = bounded_word(t, "or");
    return len ? len : bounded_word(t, "and");
}

size_t pep508_in(const pep508_tok *t)
{
    return bounded_word(t, "in");
}

size_t pep508_not(const pep508_tok *t)
{
    return bounded_word(t, "not");
}

size_t pep508_variable(const pep508_tok *t)
{
    /* No alternative is a prefix of another, so at most one can match. */
    static const char *const names[] = {
        "python_version", "python_full_version",
        "os.name", "os_name", "sys.platform", "sys_platform",
        "platform_release", "platform_system",
        "platform.version", "platform_version", "platform.machine", "platform_machine",
        "platform.python_implementation", "platform_python_implementation",
        "python_implementation", "implementation_name", "implementation_version", "extra",
    };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        size_t len = bounded_word(t, names[k]);
        if (len)
            return len;
    }
    return 0;
}

size_t pep508_specifier(const pep508_tok *t)
{
    return spec_token_len(t->s, t->n, t->pos);
}

size_t pep508_url(const pep508_tok *t)
{
    size_t i = t->pos;
    while (i < t->n && t->s[i] != ' ' && t->s[i] != '\t')
        i++;
    return i - t->pos;
}

static bool ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

size_t pep508_identifier(const pep508_tok *t)
{
    size_t i = t->pos;
    if (i >= t->n)
        return 0;
    char c = t->s[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum || !pyu_word_boundary(t->s, t->n, i))
        return 0;
    size_t e = i + 1;
    while (e < t->n && ident_char(t->s[e]))
        e++;
    /* Backtrack until the trailing \b holds, as the regex does. */
    while (e > i + 1 && !pyu_word_boundary(t->s, t->n, e))
        e--;
    if (!pyu_word_boundary(t->s, t->n, e))
        return 0;
    return e - i;
}

bool pep508_end(const pep508_tok *t)
{
    return t->pos == t->n || (t->pos + 1 == t->n && t->s[t->pos] == '\n');
}

void pep508_advance(pep508_tok *t, size_t len)
{
    t->pos += len;
}

void pep508_skip_ws(pep508_tok *t)
{
    t->pos += pep508_ws(t);
}

pyti_status pep508_error(const pep508_tok *t, size_t at, pyti_error *err, const char *fmt, ...)
{
    if (!err)
        return PYTI_ERR_INPUT;
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char *ex = str_excerpt(t->s, t->n, 160);
    if (at >= t->n)
        pyti_error_set(err, PYTI_ERR_INPUT, "%s '%s': %s at the end", t->kind, ex, what);
    else
        pyti_error_set(err, PYTI_ERR_INPUT, "%s '%s': %s at column %zu", t->kind, ex, what,
                       pyu_column(t->s, at));
    free(ex);
    return PYTI_ERR_INPUT;
}
