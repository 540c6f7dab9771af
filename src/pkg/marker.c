/* marker.c — PEP 508 environment markers as packaging 23.0 handles them:
 * the recursive-descent grammar of packaging/_parser.py, Python string
 * literals decoded as ast.literal_eval does, the "extra" normalisation,
 * str(Marker) and Marker.evaluate (comparisons through Specifier when the
 * right-hand side makes a valid clause, else Python string operators).
 *
 * Faithfully reproduced quirks of 23.0 (docs/pep-conformance.md):
 * Marker() ignores text after a complete expression; str() of a doubly
 * parenthesised group drops its parentheses; only the first item of the
 * top level has its "extra" value normalised in str(); a quoted left-hand
 * side names the environment key to compare with. */
#include "pkg/marker.h"
#include "pkg/pep508_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/buf.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "pkg/name.h"
#include "pkg/pyunicode_internal.h"
#include "pkg/specifier_internal.h"

struct pyti_marker {
    mnode *root; /* a list */
};

/* ---- nodes ------------------------------------------------------------- */

void mnode_free(mnode *m)
{
    if (!m)
        return;
    if (m->is_item) {
        free(m->lhs.text);
        free(m->rhs.text);
        free(m->op);
    } else {
        for (size_t i = 0; i < m->n; i++)
            mnode_free(m->atoms[i]);
        free(m->atoms);
        free(m->is_or);
    }
    free(m);
}

static mnode *mnode_copy(const mnode *m)
{
    mnode *c = xcalloc(1, sizeof *c);
    c->is_item = m->is_item;
    if (m->is_item) {
        c->lhs.is_variable = m->lhs.is_variable;
        c->lhs.text = xstrdup(m->lhs.text);
        c->rhs.is_variable = m->rhs.is_variable;
        c->rhs.text = xstrdup(m->rhs.text);
        c->op = xstrdup(m->op);
    } else {
        c->n = m->n;
        c->atoms = xcalloc(m->n, sizeof *c->atoms);
        c->is_or = xcalloc(m->n, sizeof *c->is_or);
        for (size_t i = 0; i < m->n; i++) {
            c->atoms[i] = mnode_copy(m->atoms[i]);
            c->is_or[i] = m->is_or[i];
        }
    }
    return c;
}

static void list_append(mnode *list, mnode *atom, bool is_or)
{
    list->atoms = xreallocarray(list->atoms, list->n + 1, sizeof *list->atoms);
    list->is_or = xreallocarray(list->is_or, list->n + 1, sizeof *list->is_or);
    if (list->n)
        list->is_or[list->n - 1] = is_or;
    list->is_or[list->n] = false;
    list->atoms[list->n++] = atom;
}

/* ---- Python string literals -------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void put_cp(pyti_buf *b, unsigned long c)
{
    char u[4];
    if (c < 0x80) {
        buf_putc(b, (char)c);
    } else if (c < 0x800) {
        u[0] = (char)(0xc0 | (c >> 6));
        u[1] = (char)(0x80 | (c & 0x3f));
        buf_append(b, u, 2);
    } else if (c < 0x10000) {
        u[0] = (char)(0xe0 | (c >> 12));
        u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        u[2] = (char)(0x80 | (c & 0x3f));
        buf_append(b, u, 3);
    } else {
        u[0] = (char)(0xf0 | (c >> 18));
        u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
        u[3] = (char)(0x80 | (c & 0x3f));
        buf_append(b, u, 4);
    }
}

/* Decodes the quoted token at t->pos (len bytes, quotes included) as
 * ast.literal_eval would. Returns a new string, or NULL with err. We refuse
 * a few things Python accepts, because pyti keeps values as C strings or
 * lacks the Unicode name table: escapes of NUL or lone surrogates, and
 * \N{...} (docs/pep-conformance.md). */
static char *decode_literal(const pep508_tok *t, size_t len, pyti_error *err)
{
    const char *s = t->s + t->pos + 1;
    size_t n = len - 2;
    pyti_buf b = PYTI_BUF_INIT;
    size_t i = 0;
    while (i < n) {
        size_t at = t->pos + 1 + i;
        char c = s[i];
        if (c == '\n' || c == '\r') {
            pep508_error(t, at, err, "line break inside a quoted string");
            goto fail;
        }
        if (c != '\\') {
            buf_putc(&b, c);
            i++;
            continue;
        }
        if (i + 1 >= n) {
            pep508_error(t, at, err, "backslash escapes the closing quote (unterminated string)");
            goto fail;
        }
        char e = s[i + 1];
        i += 2;
        unsigned long cp;
        int digits;
        switch (e) {
        case '\n':
            break; /* line continuation */
        case '\r':
            if (i < n && s[i] == '\n')
                i++;
            break;
        case '\\': buf_putc(&b, '\\'); break;
        case '\'': buf_putc(&b, '\''); break;
        case '"': buf_putc(&b, '"'); break;
        case 'a': buf_putc(&b, '\a'); break;
        case 'b': buf_putc(&b, '\b'); break;
        case 'f': buf_putc(&b, '\f'); break;
        case 'n': buf_putc(&b, '\n'); break;
        case 'r': buf_putc(&b, '\r'); break;
        case 't': buf_putc(&b, '\t'); break;
        case 'v': buf_putc(&b, '\v'); break;
        case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
            cp = (unsigned long)(e - '0');
            for (digits = 1; digits < 3 && i < n && s[i] >= '0' && s[i] <= '7'; digits++)
                cp = cp * 8 + (unsigned long)(s[i++] - '0');
            if (cp == 0) {
                pep508_error(t, at, err, "NUL characters are not allowed in marker strings");
                goto fail;
            }
            put_cp(&b, cp);
            break;
        case 'x':
        case 'u':
        case 'U':
            digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            cp = 0;
            for (int k = 0; k < digits; k++) {
                if (i >= n || hexval(s[i]) < 0) {
                    pep508_error(t, at, err, "truncated \\%c escape (expected %d hex digits)", e,
                                 digits);
                    goto fail;
                }
                cp = cp * 16 + (unsigned long)hexval(s[i++]);
            }
            if (cp > 0x10ffff) {
                pep508_error(t, at, err, "illegal Unicode character in \\U escape");
                goto fail;
            }
            if (cp == 0 || (cp >= 0xd800 && cp < 0xe000)) {
                pep508_error(t, at, err, "%s escapes are not allowed in marker strings",
                             cp == 0 ? "NUL" : "surrogate");
                goto fail;
            }
            put_cp(&b, cp);
            break;
        case 'N':
            pep508_error(t, at, err, "\\N{...} escapes are not supported in marker strings");
            goto fail;
        default:
            /* Unknown escapes stay as written (Python warns). */
            buf_putc(&b, '\\');
            i--;
            break;
        }
    }
    return buf_detach(&b);
fail:
    buf_free(&b);
    return NULL;
}

/* ---- parser (packaging/_parser.py) ------------------------------------- */

static bool parse_var(pep508_tok *t, mvar *out, pyti_error *err)
{
    size_t len = pep508_variable(t);
    if (len) {
        char *name = xstrndup(t->s + t->pos, len);
        for (char *c = name; *c; c++)
            if (*c == '.')
                *c = '_';
        if (strcmp(name, "python_implementation") == 0) {
            free(name);
            name = xstrdup("platform_python_implementation");
        }
        out->is_variable = true;
        out->text = name;
        pep508_advance(t, len);
        return true;
    }
    len = pep508_quoted(t);
    if (len) {
        char *v = decode_literal(t, len, err);
        if (!v)
            return false;
        out->is_variable = false;
        out->text = v;
        pep508_advance(t, len);
        return true;
    }
    pep508_error(t, t->pos, err, "expected a marker variable or quoted string");
    return false;
}

static char *parse_op(pep508_tok *t, pyti_error *err)
{
    size_t len = pep508_in(t);
    if (len) {
        pep508_advance(t, len);
        return xstrdup("in");
    }
    len = pep508_not(t);
    if (len) {
        pep508_advance(t, len);
        len = pep508_ws(t);
        if (!len) {
            pep508_error(t, t->pos, err, "expected whitespace after 'not'");
            return NULL;
        }
        pep508_advance(t, len);
        len = pep508_in(t);
        if (!len) {
            pep508_error(t, t->pos, err, "expected 'in' after 'not'");
            return NULL;
        }
        pep508_advance(t, len);
        return xstrdup("not in");
    }
    len = pep508_op(t);
    if (len) {
        char *op = xstrndup(t->s + t->pos, len);
        pep508_advance(t, len);
        return op;
    }
    pep508_error(t, t->pos, err,
                 "expected a marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in");
    return NULL;
}

static mnode *parse_item(pep508_tok *t, pyti_error *err)
{
    mnode *m = xcalloc(1, sizeof *m);
    m->is_item = true;
    pep508_skip_ws(t);
    if (!parse_var(t, &m->lhs, err))
        goto fail;
    pep508_skip_ws(t);
    if (!(m->op = parse_op(t, err)))
        goto fail;
    pep508_skip_ws(t);
    if (!parse_var(t, &m->rhs, err))
        goto fail;
    pep508_skip_ws(t);
    return m;
fail:
    mnode_free(m);
    return NULL;
}

static mnode *parse_atom(pep508_tok *t, pyti_error *err)
{
    mnode *atom;
    pep508_skip_ws(t);
    if (pep508_char(t, '(')) {
        size_t open = t->pos;
        if (t->depth >= PYTI_MARKER_MAX_DEPTH) {
            pep508_error(t, open, err, "parentheses nested more than %d deep",
                         PYTI_MARKER_MAX_DEPTH);
            return NULL;
        }
        pep508_advance(t, 1);
        t->depth++;
        pep508_skip_ws(t);
        atom = pep508_parse_marker(t, err);
        t->depth--;
        if (!atom)
            return NULL;
        pep508_skip_ws(t);
        if (!pep508_char(t, ')')) {
            pep508_error(t, t->pos, err, "expected ')' (to close the '(' at column %zu)",
                         pyu_column(t->s, open));
            mnode_free(atom);
            return NULL;
        }
        pep508_advance(t, 1);
    } else {
        atom = parse_item(t, err);
        if (!atom)
            return NULL;
    }
    pep508_skip_ws(t);
    return atom;
}

mnode *pep508_parse_marker(pep508_tok *t, pyti_error *err)
{
    mnode *list = xcalloc(1, sizeof *list);
    mnode *atom = parse_atom(t, err);
    if (!atom)
        goto fail;
    list_append(list, atom, false);
    size_t len;
    while ((len = pep508_boolop(t))) {
        bool is_or = t->s[t->pos] == 'o';
        pep508_advance(t, len);
        atom = parse_atom(t, err);
        if (!atom)
            goto fail;
        list_append(list, atom, is_or);
    }
    return list;
fail:
    mnode_free(list);
    return NULL;
}

static char *canonical_name(const char *s)
{
    return name_normalize(s);
}

void pep508_normalize_extra(mnode *list)
{
    if (!list || list->is_item || !list->n || !list->atoms[0]->is_item)
        return;
    mnode *m = list->atoms[0];
    mvar *fix = NULL, *from = NULL;
    if (m->lhs.is_variable && strcmp(m->lhs.text, "extra") == 0)
        fix = &m->rhs, from = &m->rhs;
    else if (m->rhs.is_variable && strcmp(m->rhs.text, "extra") == 0)
        fix = &m->lhs, from = &m->lhs;
    if (!fix)
        return;
    char *norm = canonical_name(from->text);
    free(fix->text);
    fix->text = norm;
    fix->is_variable = false; /* Value(canonicalize_name(...)) */
}

pyti_marker *marker_from_node(mnode *list)
{
    pyti_marker *m = xcalloc(1, sizeof *m);
    m->root = list;
    return m;
}

pyti_marker *marker_parse(const char *text, pyti_error *err)
{
    if (!text)
        text = "";
    size_t n = strlen(text);
    pep508_tok t = {text, n, 0, "marker", 0};
    if (n > PYTI_PEP508_MAX_LEN) {
        pyti_error_set(err, PYTI_ERR_INPUT, "marker too long (%zu bytes, at most %d)", n,
                       PYTI_PEP508_MAX_LEN);
        return NULL;
    }
    if (!str_valid_utf8(text, n)) {
        pep508_error(&t, 0, err, "not valid UTF-8");
        return NULL;
    }
    mnode *root = pep508_parse_marker(&t, err);
    if (!root)
        return NULL;
    /* packaging 23.0's Marker() does not require the end of the input
     * here; Requirement() does (requirement.c). */
    pep508_normalize_extra(root);
    return marker_from_node(root);
}

void marker_free(pyti_marker *m)
{
    if (!m)
        return;
    mnode_free(m->root);
    free(m);
}

pyti_marker *marker_copy(const pyti_marker *m)
{
    if (!m)
        return NULL;
    return marker_from_node(mnode_copy(m->root));
}

/* ---- str(Marker): _format_marker --------------------------------------- */

static void put_var(pyti_buf *b, const mvar *v)
{
    if (v->is_variable)
        buf_puts(b, v->text);
    else
        buf_printf(b, "\"%s\"", v->text);
}

static void format_node(pyti_buf *b, const mnode *m, bool first)
{
    if (m->is_item) {
        put_var(b, &m->lhs);
        buf_printf(b, " %s ", m->op);
        put_var(b, &m->rhs);
        return;
    }
    if (m->n == 1) {
        /* [[...]] or [(...)]: no parentheses, and the inner list is
         * formatted as if it were the outermost one. */
        format_node(b, m->atoms[0], true);
        return;
    }
    if (!first)
        buf_putc(b, '(');
    for (size_t i = 0; i < m->n; i++) {
        if (i)
            buf_puts(b, m->is_or[i - 1] ? " or " : " and ");
        format_node(b, m->atoms[i], false);
    }
    if (!first)
        buf_putc(b, ')');
}

char *marker_to_string(const pyti_marker *m)
{
    pyti_buf b = PYTI_BUF_INIT;
    format_node(&b, m->root, true);
    return buf_detach(&b);
}

/* ---- evaluation -------------------------------------------------------- */

/* environment[key]: 1 found, 0 key unknown, -1 key known but unset (NULL;
 * extra counts as ""). */
static int env_lookup(const pyti_marker_env *env, const char *key, const char **out)
{
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
        {"implementation_name", offsetof(pyti_marker_env, implementation_name)},
        {"implementation_version", offsetof(pyti_marker_env, implementation_version)},
        {"os_name", offsetof(pyti_marker_env, os_name)},
        {"platform_machine", offsetof(pyti_marker_env, platform_machine)},
        {"platform_release", offsetof(pyti_marker_env, platform_release)},
        {"platform_system", offsetof(pyti_marker_env, platform_system)},
        {"platform_version", offsetof(pyti_marker_env, platform_version)},
        {"python_full_version", offsetof(pyti_marker_env, python_full_version)},
        {"platform_python_implementation",
         offsetof(pyti_marker_env, platform_python_implementation)},
        {"python_version", offsetof(pyti_marker_env, python_version)},
        {"sys_platform", offsetof(pyti_marker_env, sys_platform)},
        {"extra", offsetof(pyti_marker_env, extra)},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (strcmp(fields[i].name, key) == 0) {
            const char *v = *(const char *const *)((const char *)env + fields[i].off);
            if (!v && strcmp(key, "extra") == 0)
                v = "";
            *out = v;
            return v ? 1 : -1;
        }
    }
    return 0;
}

static int string_op(const char *op, const char *lhs, const char *rhs)
{
    if (strcmp(op, "in") == 0)
        return strstr(rhs, lhs) != NULL;
    if (strcmp(op, "not in") == 0)
        return strstr(rhs, lhs) == NULL;
    int c = strcmp(lhs, rhs); /* code-point order, as UTF-8 bytes */
    if (strcmp(op, "<") == 0)
        return c < 0;
    if (strcmp(op, "<=") == 0)
        return c <= 0;
    if (strcmp(op, "==") == 0)
        return c == 0;
    if (strcmp(op, "!=") == 0)
        return c != 0;
    if (strcmp(op, ">=") == 0)
        return c >= 0;
    if (strcmp(op, ">") == 0)
        return c > 0;
    return -1;
}

/* _eval_op */
static int eval_op(const char *lhs, const char *op, const char *rhs, pyti_error *err)
{
    if (strcmp(op, "in") != 0 && strcmp(op, "not in") != 0) {
        char *spec_text = xasprintf("%s%s", op, rhs);
        spec_clause c;
        pyti_status st = spec_clause_parse(spec_text, strlen(spec_text), &c, NULL);
        free(spec_text);
        if (st == PYTI_OK) {
            pyti_version *v = version_parse(lhs, err);
            int r = -1;
            if (v) {
                r = spec_clause_contains(&c, v, true, err);
                version_free(v);
            }
            spec_clause_clear(&c);
            return r;
        }
    }
    int r = string_op(op, lhs, rhs);
    if (r < 0) {
        char *l = str_excerpt(lhs, strlen(lhs), 60), *rr = str_excerpt(rhs, strlen(rhs), 60);
        pyti_error_set(err, PYTI_ERR_INPUT, "undefined comparison '%s' %s '%s'", l, op, rr);
        free(l);
        free(rr);
    }
    return r;
}

static int eval_item(const mnode *m, const pyti_marker_env *env, pyti_error *err)
{
    const char *key, *lhs, *rhs;
    int found;
    if (m->lhs.is_variable) {
        key = m->lhs.text;
        rhs = m->rhs.text;
        found = env_lookup(env, key, &lhs);
    } else {
        /* A quoted left-hand side: packaging looks the right-hand side up
         * as an environment name, even when it is a quoted string too. */
        lhs = m->lhs.text;
        key = m->rhs.text;
        found = env_lookup(env, key, &rhs);
    }
    if (found <= 0) {
        char *k = str_excerpt(key, strlen(key), 60);
        if (found < 0)
            pyti_error_set(err, PYTI_ERR_INPUT, "environment value '%s' is not set", k);
        else
            pyti_error_set(err, PYTI_ERR_INPUT, "'%s' is not an environment name", k);
        free(k);
        return -1;
    }
    if (strcmp(key, "extra") == 0) {
        char *l = name_normalize(lhs), *r = name_normalize(rhs);
        int res = eval_op(l, m->op, r, err);
        free(l);
        free(r);
        return res;
    }
    return eval_op(lhs, m->op, rhs, err);
}

/* _evaluate_markers: every atom is evaluated (no short-circuit), so the
 * first error in reading order is the one reported, as in packaging. */
static int eval_list(const mnode *list, const pyti_marker_env *env, pyti_error *err)
{
    bool any_group = false, group = true;
    for (size_t i = 0; i < list->n; i++) {
        const mnode *a = list->atoms[i];
        int r = a->is_item ? eval_item(a, env, err) : eval_list(a, env, err);
        if (r < 0)
            return -1;
        group = group && r;
        if (i + 1 == list->n || list->is_or[i]) {
            any_group = any_group || group;
            group = true;
        }
    }
    return any_group;
}

int marker_evaluate(const pyti_marker *m, const pyti_marker_env *env, pyti_error *err)
{
    pyti_marker_env empty = {0};
    int r = eval_list(m->root, env ? env : &empty, err);
    if (r < 0 && err) {
        char *text = marker_to_string(m);
        char *ex = str_excerpt(text, strlen(text), 160);
        pyti_error_prefix(err, "evaluating marker '%s'", ex);
        free(ex);
        free(text);
    }
    return r;
}

/* ---- the default environment ------------------------------------------- */

#if defined(__x86_64__)
#define PYTI_MACHINE "x86_64"
#elif defined(__aarch64__)
#define PYTI_MACHINE "aarch64"
#elif defined(__i386__)
#define PYTI_MACHINE "i686"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PYTI_MACHINE "ppc64le"
#elif defined(__s390x__)
#define PYTI_MACHINE "s390x"
#elif defined(__riscv) && __riscv_xlen == 64
#define PYTI_MACHINE "riscv64"
#elif defined(__arm__)
#define PYTI_MACHINE "armv7l"
#else
#define PYTI_MACHINE "unknown"
#endif

void marker_env_default(pyti_marker_env *env, const char *python_full_version)
{
    /* Per-thread copies, so the pointers stay valid until the next call on
     * the same thread and concurrent callers do not race. */
    static _Thread_local char full[64], short_version[64];
    static _Thread_local struct utsname uts;
    memset(env, 0, sizeof *env);
    env->implementation_name = "cpython";
    env->os_name = "posix";
    env->platform_machine = PYTI_MACHINE;
    env->platform_system = "Linux";
    env->platform_python_implementation = "CPython";
    env->sys_platform = "linux";
    if (uname(&uts) == 0) {
        env->platform_release = uts.release;
        env->platform_version = uts.version;
    }
    if (python_full_version) {
        snprintf(full, sizeof full, "%s", python_full_version);
        /* ".".join(platform.python_version_tuple()[:2]) */
        snprintf(short_version, sizeof short_version, "%s", full);
        char *dot = strchr(short_version, '.');
        if (dot && (dot = strchr(dot + 1, '.')))
            *dot = '\0';
        env->python_full_version = full;
        env->implementation_version = full;
        env->python_version = short_version;
    }
}
