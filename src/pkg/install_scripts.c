/* install_scripts.c — the text rules of the wheel installer (see
 * install_internal.h): entry_points.txt, distlib export entries, launcher
 * scripts, "#!python" rewriting, and the lexical path helpers.
 *
 * The behaviour is pip 23.0.1's (pip/_internal/operations/install/wheel.py
 * and its vendored distlib 0.3.6 scripts.py / util.py) on CPython 3.11,
 * reimplemented here; the reference tests are tests/unit/test_install.c
 * and the byte-for-byte comparison with pip in
 * tests/e2e/test_install_vs_pip.py. */
#include "pkg/install_internal.h"

#include "common/str.h"
#include "common/xalloc.h"
#include "pkg/pyunicode_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- the ordered map ------------------------------------------------ */

void ep_map_set(pyti_ep_map *m, const char *name, const char *value)
{
    long i = strv_index(&m->names, name);
    if (i >= 0) {
        free(m->values.items[i]);
        m->values.items[i] = xstrdup(value);
        return;
    }
    strv_push(&m->names, name);
    strv_push(&m->values, value);
}

const char *ep_map_get(const pyti_ep_map *m, const char *name)
{
    long i = strv_index(&m->names, name);
    return i >= 0 ? m->values.items[i] : NULL;
}

void ep_map_free(pyti_ep_map *m)
{
    strv_free(&m->names);
    strv_free(&m->values);
}

/* ---- entry_points.txt ----------------------------------------------- */

/* Length of the line break at s[i] (str.splitlines' boundaries), or 0. */
static size_t line_break_len(const char *s, size_t n, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c == '\r')
        return i + 1 < n && s[i + 1] == '\n' ? 2 : 1;
    if (c == '\n' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d || c == 0x1e)
        return 1;
    if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] == 0x85)
        return 2; /* U+0085 */
    if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
        ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9))
        return 3; /* U+2028, U+2029 */
    return 0;
}

/* str.strip() of s[*start..*end). */
static void py_strip(const char *s, size_t *start, size_t *end)
{
    *start = pyu_skip_space(s, *end, *start);
    *end = pyu_rstrip_end(s, *start, *end);
}

pyti_status entry_points_parse(const char *text, size_t len, pyti_ep_map *console,
                               pyti_ep_map *gui, pyti_error *err)
{
    if (!str_valid_utf8(text, len))
        return pyti_error_set(err, PYTI_ERR_INPUT, "entry_points.txt is not valid UTF-8");
    char *group = NULL;
    unsigned lineno = 0;
    pyti_status rc = PYTI_OK;
    size_t i = 0;
    while (i < len && rc == PYTI_OK) {
        size_t ls = i, le = i, brk = 0;
        while (le < len && (brk = line_break_len(text, len, le)) == 0)
            le++;
        i = le + brk;
        lineno++;
        size_t a = ls, b = le;
        py_strip(text, &a, &b);
        if (a == b || text[a] == '#')
            continue;
        if (text[a] == '[' && text[b - 1] == ']') {
            while (a < b && (text[a] == '[' || text[a] == ']'))
                a++;
            while (b > a && (text[b - 1] == '[' || text[b - 1] == ']'))
                b--;
            free(group);
            group = xstrndup(text + a, b - a);
            continue;
        }
        if (!group)
            continue; /* importlib drops pairs outside a section unparsed */
        const char *eq = memchr(text + a, '=', b - a);
        if (!eq) {
            char *line = str_excerpt(text + a, b - a, 120);
            rc = pyti_error_set(err, PYTI_ERR_INPUT,
                                "entry_points.txt:%u: '%s' is not 'name = value'", lineno, line);
            free(line);
            break;
        }
        if (strcmp(group, "console_scripts") != 0 && strcmp(group, "gui_scripts") != 0)
            continue;
        size_t na = a, nb = (size_t)(eq - text), va = nb + 1, vb = b;
        py_strip(text, &na, &nb);
        py_strip(text, &va, &vb);
        char *name = xstrndup(text + na, nb - na);
        char *value = xstrndup(text + va, vb - va);
        ep_map_set(group[0] == 'c' ? console : gui, name, value);
        free(name);
        free(value);
    }
    free(group);
    return rc;
}

/* ---- pip's console script specs ------------------------------------- */

/* The length of a run of \d (Unicode Nd) code points at s[i]. */
static size_t digits_at(const char *s, size_t n, size_t i)
{
    size_t j = i;
    while (j < n) {
        size_t k = j;
        int32_t cp = pyu_decode(s, n, &k);
        if (cp < 0 || !pyu_isdigit(cp))
            break;
        j = k;
    }
    return j - i;
}

/* re.match(r"pip(\d+(\.\d+)?)?$", k) */
static bool is_versioned_pip(const char *k)
{
    size_t n = strlen(k);
    if (strncmp(k, "pip", 3) != 0)
        return false;
    size_t i = 3;
    size_t d = digits_at(k, n, i);
    if (d) {
        i += d;
        if (i < n && k[i] == '.') {
            size_t d2 = digits_at(k, n, i + 1);
            if (d2)
                i += 1 + d2;
        }
    }
    return i == n || (i + 1 == n && k[i] == '\n');
}

/* re.match(r"easy_install(-\d+\.\d+)?$", k) */
static bool is_versioned_easy_install(const char *k)
{
    size_t n = strlen(k);
    if (strncmp(k, "easy_install", 12) != 0)
        return false;
    size_t i = 12;
    if (i < n && k[i] == '-') {
        size_t d = digits_at(k, n, i + 1);
        if (d && i + 1 + d < n && k[i + 1 + d] == '.') {
            size_t d2 = digits_at(k, n, i + 2 + d);
            if (d2)
                i += 2 + d + d2;
        }
    }
    return i == n || (i + 1 == n && k[i] == '\n');
}

void console_script_specs(const pyti_ep_map *console, const char *python_version,
                          pyti_strv *specs)
{
    char major[16] = "3";
    const char *dot = strchr(python_version, '.');
    size_t ml = dot ? (size_t)(dot - python_version) : strlen(python_version);
    if (ml > 0 && ml < sizeof major) {
        memcpy(major, python_version, ml);
        major[ml] = '\0';
    }
    const char *pip = ep_map_get(console, "pip");
    const char *easy = ep_map_get(console, "easy_install");
    if (pip) {
        strv_push_owned(specs, xasprintf("pip = %s", pip));
        strv_push_owned(specs, xasprintf("pip%s = %s", major, pip));
        strv_push_owned(specs, xasprintf("pip%s = %s", python_version, pip));
    }
    if (easy) {
        strv_push_owned(specs, xasprintf("easy_install = %s", easy));
        strv_push_owned(specs, xasprintf("easy_install-%s = %s", python_version, easy));
    }
    for (size_t i = 0; i < console->names.len; i++) {
        const char *k = console->names.items[i];
        if (pip && (strcmp(k, "pip") == 0 || is_versioned_pip(k)))
            continue;
        if (easy && (strcmp(k, "easy_install") == 0 || is_versioned_easy_install(k)))
            continue;
        strv_push_owned(specs, xasprintf("%s = %s", k, console->values.items[i]));
    }
}

void gui_script_specs(const pyti_ep_map *gui, pyti_strv *specs)
{
    for (size_t i = 0; i < gui->names.len; i++)
        strv_push_owned(specs, xasprintf("%s = %s", gui->names.items[i], gui->values.items[i]));
}

/* ---- distlib's ENTRY_RE --------------------------------------------- */
/*
 * (?P<name>(\w|[-.+])+)
 * \s*=\s*(?P<callable>(\w+)([:\.]\w+)*)
 * \s*(\[\s*(?P<flags>[\w-]+(=\w+)?(,\s*\w+(=\w+)?)*)\s*\])?
 *
 * Searched with re.search. Every element is followed by characters that
 * cannot continue it, so greedy matching without backtracking finds what
 * Python's backtracking engine finds; and a failed attempt from a start
 * inside a run of name characters fails the same way from every later
 * start in that run, so the search resumes after the run (linear time).
 */

typedef struct scan {
    const char *s;
    size_t n;
} scan;

static int32_t cp_at(const scan *sc, size_t i, size_t *next)
{
    size_t k = i;
    int32_t cp = i < sc->n ? pyu_decode(sc->s, sc->n, &k) : -1;
    *next = k;
    return cp;
}

static bool is_word(int32_t cp) { return cp >= 0 && pyu_isword(cp); }

/* Greedy run of \w from i; returns the end. */
static size_t words(const scan *sc, size_t i)
{
    size_t nx;
    int32_t cp;
    while ((cp = cp_at(sc, i, &nx)) >= 0 && is_word(cp))
        i = nx;
    return i;
}

static size_t spaces(const scan *sc, size_t i)
{
    size_t nx;
    int32_t cp;
    while ((cp = cp_at(sc, i, &nx)) >= 0 && pyu_isspace(cp))
        i = nx;
    return i;
}

/* The bracketed flags group at i; returns its end or SIZE_MAX. */
static size_t match_flags(const scan *sc, size_t i)
{
    if (i >= sc->n || sc->s[i] != '[')
        return SIZE_MAX;
    i = spaces(sc, i + 1);
    /* [\w-]+ */
    size_t start = i, nx;
    int32_t cp;
    while ((cp = cp_at(sc, i, &nx)) >= 0 && (is_word(cp) || cp == '-'))
        i = nx;
    if (i == start)
        return SIZE_MAX;
    /* (=\w+)? */
    if (i < sc->n && sc->s[i] == '=') {
        size_t e = words(sc, i + 1);
        if (e > i + 1)
            i = e;
    }
    /* (,\s*\w+(=\w+)?)* */
    while (i < sc->n && sc->s[i] == ',') {
        size_t j = spaces(sc, i + 1);
        size_t e = words(sc, j);
        if (e == j)
            break;
        j = e;
        if (j < sc->n && sc->s[j] == '=') {
            size_t e2 = words(sc, j + 1);
            if (e2 > j + 1)
                j = e2;
        }
        i = j;
    }
    i = spaces(sc, i);
    if (i >= sc->n || sc->s[i] != ']')
        return SIZE_MAX;
    return i + 1;
}

static bool is_name_char(int32_t cp)
{
    return is_word(cp) || cp == '-' || cp == '.' || cp == '+';
}

void export_entry_free(pyti_export_entry *e)
{
    free(e->name);
    free(e->prefix);
    free(e->suffix);
    memset(e, 0, sizeof *e);
}

pyti_status export_entry_parse(const char *spec, pyti_export_entry *out, pyti_error *err)
{
    memset(out, 0, sizeof *out);
    scan sc = {spec, strlen(spec)};
    bool brackets = strchr(spec, '[') || strchr(spec, ']');
    char *ex = str_excerpt(spec, sc.n, 160);
    size_t i = 0;
    while (i < sc.n) {
        size_t nx;
        int32_t cp = cp_at(&sc, i, &nx);
        if (cp < 0 || !is_name_char(cp)) {
            i = nx > i ? nx : i + 1;
            continue;
        }
        size_t name_start = i, name_end = i;
        while ((cp = cp_at(&sc, name_end, &nx)) >= 0 && is_name_char(cp))
            name_end = nx;
        size_t j = spaces(&sc, name_end);
        if (j >= sc.n || spec[j] != '=') {
            i = name_end;
            continue;
        }
        j = spaces(&sc, j + 1);
        size_t cs = j, ce = words(&sc, j);
        if (ce == cs) {
            i = name_end;
            continue;
        }
        /* ([:\.]\w+)* */
        while (ce < sc.n && (spec[ce] == ':' || spec[ce] == '.')) {
            size_t e = words(&sc, ce + 1);
            if (e == ce + 1)
                break;
            ce = e;
        }
        size_t k = spaces(&sc, ce);
        bool has_flags = match_flags(&sc, k) != SIZE_MAX;
        /* a match: the rest is distlib's get_export_entry */
        char *callable = xstrndup(spec + cs, ce - cs);
        size_t colons = 0;
        for (char *c = callable; *c; c++)
            colons += *c == ':';
        pyti_status rc = PYTI_OK;
        if (!has_flags && brackets) {
            rc = pyti_error_set(err, PYTI_ERR_INPUT, "invalid entry point specification '%s' "
                                "(its [extras] are not a list of names)", ex);
        } else if (colons == 0) {
            rc = pyti_error_set(err, PYTI_ERR_INPUT, "invalid script entry point '%s': a "
                                "callable suffix (module:function) is required", ex);
        } else if (colons > 1) {
            rc = pyti_error_set(err, PYTI_ERR_INPUT,
                                "invalid entry point specification '%s' (more than one ':')", ex);
        } else {
            char *colon = strchr(callable, ':');
            out->name = xstrndup(spec + name_start, name_end - name_start);
            out->prefix = xstrndup(callable, (size_t)(colon - callable));
            out->suffix = xstrdup(colon + 1);
            if (strcmp(out->name, ".") == 0 || strcmp(out->name, "..") == 0) {
                rc = pyti_error_set(err, PYTI_ERR_INPUT, "entry point '%s' names the script "
                                    "'%s', which is not a file name", ex, out->name);
                export_entry_free(out);
            }
        }
        free(callable);
        free(ex);
        return rc;
    }
    pyti_status rc = brackets
        ? pyti_error_set(err, PYTI_ERR_INPUT, "invalid entry point specification '%s'", ex)
        : pyti_error_set(err, PYTI_ERR_INPUT, "invalid entry point '%s': not 'name = "
                         "module:function'", ex);
    free(ex);
    return rc;
}

/* ---- launchers ------------------------------------------------------ */

#define MAX_SHEBANG 127 /* distlib's limit on Linux, "#!" and "\n" included */

char *launcher_shebang(const char *python, pyti_error *err)
{
    if (!python || !*python || !str_valid_utf8(python, strlen(python))) {
        pyti_error_set(err, PYTI_ERR_USAGE, "the interpreter path for launchers must be "
                       "non-empty UTF-8 (distlib refuses anything else)");
        return NULL;
    }
    char *exe;
    if (strchr(python, ' ')) {
        /* distlib's enquote_executable */
        if (str_startswith(python, "/usr/bin/env ")) {
            const char *rest = python + strlen("/usr/bin/env ");
            exe = strchr(rest, ' ') && rest[0] != '"' ? xasprintf("/usr/bin/env \"%s\"", rest)
                                                      : xstrdup(python);
        } else {
            exe = python[0] != '"' ? xasprintf("\"%s\"", python) : xstrdup(python);
        }
    } else {
        exe = xstrdup(python);
    }
    char *out;
    if (!strchr(exe, ' ') && strlen(exe) + 3 <= MAX_SHEBANG)
        out = xasprintf("#!%s\n", exe);
    else
        out = xasprintf("#!/bin/sh\n'''exec' %s \"$0\" \"$@\"\n' '''\n", exe);
    free(exe);
    return out;
}

void launcher_text(const char *shebang, const pyti_export_entry *e, pyti_buf *out)
{
    size_t dot = strcspn(e->suffix, ".");
    buf_puts(out, shebang);
    buf_puts(out, "# -*- coding: utf-8 -*-\n"
                  "import re\n"
                  "import sys\n"
                  "from ");
    buf_puts(out, e->prefix);
    buf_puts(out, " import ");
    buf_append(out, e->suffix, dot);
    buf_puts(out, "\n"
                  "if __name__ == '__main__':\n"
                  "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
                  "    sys.exit(");
    buf_puts(out, e->suffix);
    buf_puts(out, "())\n");
}

bool script_fix_shebang(const char *data, size_t len, const char *python, pyti_buf *out)
{
    if (len < 8 || memcmp(data, "#!python", 8) != 0)
        return false;
    const char *nl = memchr(data, '\n', len);
    size_t first = nl ? (size_t)(nl - data) + 1 : len;
    buf_puts(out, "#!");
    buf_puts(out, python);
    buf_putc(out, '\n');
    buf_append(out, data + first, len - first);
    return true;
}

static bool suffix_nocase(const char *s, size_t n, const char *suf)
{
    size_t m = strlen(suf);
    return n >= m && strncasecmp(s + n - m, suf, m) == 0;
}

bool script_is_entrypoint_wrapper(const char *base, const pyti_ep_map *console,
                                  const pyti_ep_map *gui)
{
    size_t n = strlen(base);
    size_t keep = n;
    if (suffix_nocase(base, n, ".exe"))
        keep = n - 4;
    else if (suffix_nocase(base, n, "-script.py"))
        keep = n - 10;
    else if (suffix_nocase(base, n, ".pya"))
        keep = n - 4;
    char *m = xstrndup(base, keep);
    bool hit = ep_map_get(console, m) || ep_map_get(gui, m);
    free(m);
    return hit;
}

/* ---- paths ---------------------------------------------------------- */

char *install_normpath(const char *path)
{
    if (!*path)
        return xstrdup(".");
    int initial = path[0] == '/' ? 1 : 0;
    if (initial && path[1] == '/' && path[2] != '/')
        initial = 2;
    pyti_strv comps = PYTI_STRV_INIT;
    const char *p = path;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        bool dotdot = n == 2 && p[0] == '.' && p[1] == '.';
        if (n == 0 || (n == 1 && p[0] == '.')) {
            /* skip */
        } else if (!dotdot || (!initial && comps.len == 0) ||
                   (comps.len && strcmp(comps.items[comps.len - 1], "..") == 0)) {
            strv_push_owned(&comps, xstrndup(p, n));
        } else if (comps.len) {
            free(comps.items[--comps.len]);
            comps.items[comps.len] = NULL;
        }
        p += n + (e ? 1 : 0);
        if (!e)
            break;
    }
    char *joined = strv_join(&comps, "/");
    strv_free(&comps);
    char *out = xasprintf("%.*s%s", initial, "//", joined);
    free(joined);
    if (!*out) {
        free(out);
        out = xstrdup(".");
    }
    return out;
}

static void split_nonempty(const char *s, pyti_strv *out)
{
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n)
            strv_push_owned(out, xstrndup(s, n));
        s += n + (e ? 1 : 0);
        if (!e)
            break;
    }
}

char *install_relpath(const char *path, const char *start)
{
    pyti_strv a = PYTI_STRV_INIT, b = PYTI_STRV_INIT, rel = PYTI_STRV_INIT;
    split_nonempty(start, &a);
    split_nonempty(path, &b);
    size_t i = 0;
    while (i < a.len && i < b.len && strcmp(a.items[i], b.items[i]) == 0)
        i++;
    for (size_t k = i; k < a.len; k++)
        strv_push(&rel, "..");
    for (size_t k = i; k < b.len; k++)
        strv_push(&rel, b.items[k]);
    char *out = rel.len ? strv_join(&rel, "/") : xstrdup(".");
    strv_free(&a);
    strv_free(&b);
    strv_free(&rel);
    return out;
}

char *install_file_url(const char *abs_path)
{
    pyti_buf b = PYTI_BUF_INIT;
    /* urljoin("file:", p): "file://" + p, and "file:" + p when p starts
     * with "//" (normpath keeps exactly two leading slashes) */
    buf_puts(&b, str_startswith(abs_path, "//") ? "file:" : "file://");
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)abs_path; *c; c++) {
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
            *c == '_' || *c == '.' || *c == '-' || *c == '~' || *c == '/') {
            buf_putc(&b, (char)*c);
        } else {
            buf_putc(&b, '%');
            buf_putc(&b, hex[*c >> 4]);
            buf_putc(&b, hex[*c & 15]);
        }
    }
    return buf_detach(&b);
}
