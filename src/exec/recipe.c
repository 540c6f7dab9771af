/* recipe.c — loading recipes: reading INI files with libinih, validating
 * every section and key with file:line errors, resolving includes (with
 * cycle detection) and merging included tasks. See recipe.h and
 * docs/recipes.md.
 *
 * Why a custom reader around inih: Debian's libinih is built without
 * INI_HANDLER_LINENO and without a handler call on new sections, so the
 * handler alone can neither name the line it is called for nor see a
 * section that has no keys. We therefore feed inih through
 * ini_parse_stream() with a reader that hands out one line at a time,
 * counts lines and classifies each line exactly the way inih r55 will
 * (comment/blank, continuation, section header, key = value). The handler
 * runs right after the line it came from was read, so the reader's line
 * number is the handler's line. Section headers are taken from the reader
 * (inih truncates section names to 49 bytes silently); the handler's
 * arguments are cross-checked against the reader's view, and any
 * disagreement is reported as an internal error rather than silently
 * misread (the fuzz target treats it as a crash).
 *
 * The reader also refuses what inih would mangle: lines longer than inih's
 * line buffer (inih would split them), NUL bytes (inih works on C strings)
 * and invalid UTF-8. Parsing stops at the first error. */
#include "exec/recipe.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "common/buf.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "exec/strmap_internal.h"

#define RECIPE_MAX_BYTES (1024 * 1024) /* per file */
#define RECIPE_MAX_DEPTH 32            /* include nesting */
#define RECIPE_NAME_MAX 64             /* task, item, option and recipe names */
#define RECIPE_TIMEOUT_DEFAULT 600.0
#define RECIPE_TIMEOUT_MAX (7.0 * 24 * 3600)
#define INIH_MAX_SECTION 50 /* inih's MAX_SECTION/MAX_NAME (buffers incl. NUL) */
#define INIH_MAX_NAME 50
/* Separators of list values: commas and/or whitespace. */
#define LIST_SEPS ", \t\r\v\f"

/* ---- small helpers ------------------------------------------------------ */

/* Names of tasks, data items, option keys and recipes: a letter, digit or
 * '_' first (so a name is never ".", ".." or an option-looking "-x" when
 * the runner uses it as a file name or argument), then letters, digits,
 * '_', '.', '-'; at most RECIPE_NAME_MAX bytes. */
static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > RECIPE_NAME_MAX)
        return false;
    if (!isalnum((unsigned char)s[0]) && s[0] != '_')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c < 0x80 && (isalnum(c) || c == '_' || c == '.' || c == '-')))
            return false;
    }
    return true;
}

/* A quoted-safe copy of untrusted text for an error message. */
static char *shown(const char *s)
{
    return str_excerpt(s, strlen(s), 80);
}

static char *concat_space(char *a, const char *b)
{
    if (!a || !*a) {
        free(a);
        return xstrdup(b);
    }
    char *r = xasprintf("%s %s", a, b);
    free(a);
    return r;
}

static void task_def_free(pyti_task_def *t)
{
    free(t->name);
    free(t->builtin);
    free(t->run);
    free(t->description);
    strv_free(&t->requires);
    strv_free(&t->needs);
    strv_free(&t->produces);
    strv_free(&t->option_keys);
    strv_free(&t->option_values);
    free(t->file);
    memset(t, 0, sizeof *t);
}

/* Removes repeated strings from v, keeping first occurrences in order. */
static void strv_dedupe(pyti_strv *v)
{
    if (v->len < 2)
        return;
    strmap seen = STRMAP_INIT;
    size_t out = 0;
    for (size_t i = 0; i < v->len; i++) {
        if (strmap_add(&seen, v->items[i], i, NULL))
            v->items[out++] = v->items[i];
        else
            free(v->items[i]);
    }
    /* The map's keys point at strings kept in v: free it before touching them. */
    strmap_free(&seen);
    v->len = out;
    v->items[out] = NULL;
}

/* Parses a timeout: a positive decimal number ("90", "1.5") with an
 * optional unit s, m or h, at most RECIPE_TIMEOUT_MAX seconds. No
 * exponents, hex, inf or nan (which strtod would accept). */
static bool parse_timeout(const char *s, double *out)
{
    const char *p = s;
    size_t ndigits = 0;
    while (isdigit((unsigned char)*p)) {
        p++;
        ndigits++;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
            ndigits++;
        }
    }
    if (ndigits == 0 || ndigits > 20)
        return false;
    size_t numlen = (size_t)(p - s);
    while (*p == ' ' || *p == '\t')
        p++;
    double mult = 1;
    if (*p == 's')
        p++;
    else if (*p == 'm')
        mult = 60, p++;
    else if (*p == 'h')
        mult = 3600, p++;
    if (*p)
        return false;
    char num[32];
    memcpy(num, s, numlen);
    num[numlen] = '\0';
    double v = strtod(num, NULL) * mult;
    if (!(v > 0) || v > RECIPE_TIMEOUT_MAX)
        return false;
    *out = v;
    return true;
}

/* ---- a growable list of task definitions with a name index -------------- */

typedef struct task_list {
    pyti_task_def *items;
    size_t len, cap;
    strmap index; /* name -> position; keys are the items' names */
} task_list;

/* Moves t into l: replaces the task of the same name in its position, or
 * appends. t is left empty. */
static void task_list_put(task_list *l, pyti_task_def *t)
{
    size_t at;
    if (strmap_get(&l->index, t->name, &at)) {
        /* The map's key is the old task's name: re-key before freeing it. */
        pyti_task_def old = l->items[at];
        l->items[at] = *t;
        strmap_set(&l->index, l->items[at].name, at);
        task_def_free(&old);
    } else {
        if (l->len == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 8;
            l->items = xreallocarray(l->items, l->cap, sizeof *l->items);
        }
        at = l->len++;
        l->items[at] = *t;
        strmap_set(&l->index, l->items[at].name, at);
    }
    memset(t, 0, sizeof *t);
}

static void task_list_free(task_list *l)
{
    strmap_free(&l->index);
    for (size_t i = 0; i < l->len; i++)
        task_def_free(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* ---- parsing one file ----------------------------------------------------- */

enum task_key { K_BUILTIN, K_RUN, K_REQUIRES, K_NEEDS, K_PRODUCES, K_TIMEOUT, K_DESCRIPTION,
                K_NKEYS };
static const char *const task_keys[K_NKEYS] = {
    "builtin", "run", "requires", "needs", "produces", "timeout", "description",
};

enum line_kind { LINE_NONE, LINE_BLANK, LINE_CONT, LINE_SECTION, LINE_KEY };
enum section_kind { SEC_NONE, SEC_RECIPE, SEC_TASK };
/* What a continuation line extends. */
enum last_kind { LAST_NONE, LAST_STR, LAST_LIST, LAST_INCLUDE, LAST_OPTION };

typedef struct include_ref {
    char *what;     /* name or path as written */
    unsigned line;
} include_ref;

typedef struct parse_ctx {
    const char *file; /* as shown in messages */
    const pyti_recipe_search *search;
    pyti_error *err;
    bool failed;

    /* reader */
    const char *data;
    size_t len, pos;
    unsigned lineno;
    enum line_kind kind;   /* of the line handed out last */
    bool expect_handler;   /* inih must call the handler for that line */
    bool prev_name;        /* shadow of inih's "prev_name is not empty" */
    char inih_section[INIH_MAX_SECTION]; /* shadow of inih's section buffer */
    char *cur_key;         /* key of the current key line (full length) */

    /* current section */
    enum section_kind sec;
    unsigned sec_line;
    enum last_kind last;
    char **last_str;
    pyti_strv *last_list;
    size_t last_option;
    char *last_key;        /* full name of the last key (continuations) */

    /* [recipe] */
    unsigned recipe_line;
    unsigned recipe_key_line[2]; /* description, include */
    char *description;
    include_ref *includes;
    size_t nincludes, cap_includes;

    /* [task NAME] being read */
    pyti_task_def cur;
    unsigned key_line[K_NKEYS];
    char *timeout_raw;
    strmap options; /* option key -> its line; keys live in cur.option_keys */

    /* tasks of this file, in order */
    task_list tasks;
} parse_ctx;

static void fail(parse_ctx *c, pyti_status code, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(parse_ctx *c, pyti_status code, unsigned line, const char *fmt, ...)
{
    if (c->failed)
        return;
    c->failed = true;
    char msg[PYTI_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line)
        pyti_error_set(c->err, code, "%s:%u: %s", c->file, line, msg);
    else
        pyti_error_set(c->err, code, "%s: %s", c->file, msg);
}

static void add_include(parse_ctx *c, const char *what, unsigned line)
{
    if (c->nincludes == c->cap_includes) {
        c->cap_includes = c->cap_includes ? c->cap_includes * 2 : 4;
        c->includes = xreallocarray(c->includes, c->cap_includes, sizeof *c->includes);
    }
    c->includes[c->nincludes].what = xstrdup(what);
    c->includes[c->nincludes].line = line;
    c->nincludes++;
}

static void add_includes(parse_ctx *c, const char *value, unsigned line)
{
    pyti_strv v = PYTI_STRV_INIT;
    strv_split(&v, value, LIST_SEPS);
    for (size_t i = 0; i < v.len; i++)
        add_include(c, v.items[i], line);
    strv_free(&v);
}

static void reset_current_task(parse_ctx *c)
{
    task_def_free(&c->cur);
    free(c->timeout_raw);
    c->timeout_raw = NULL;
    strmap_free(&c->options);
    memset(c->key_line, 0, sizeof c->key_line);
}

static bool check_names(parse_ctx *c, const pyti_strv *v, enum task_key k, const char *what)
{
    for (size_t i = 0; i < v->len; i++) {
        if (!valid_name(v->items[i])) {
            char *s = shown(v->items[i]);
            fail(c, PYTI_ERR_INPUT, c->key_line[k], "task '%s': %s: invalid %s name '%s'",
                 c->cur.name, task_keys[k], what, s);
            free(s);
            return false;
        }
    }
    return true;
}

/* Validates the task section just finished and moves it into c->tasks. */
static void finish_task(parse_ctx *c)
{
    pyti_task_def *t = &c->cur;
    const char *name = t->name;
    if (t->builtin && t->run) {
        fail(c, PYTI_ERR_INPUT, c->sec_line,
             "task '%s' has both builtin (line %u) and run (line %u); choose one", name,
             c->key_line[K_BUILTIN], c->key_line[K_RUN]);
        return;
    }
    if (!t->builtin && !t->run) {
        fail(c, PYTI_ERR_INPUT, c->sec_line, "task '%s' has neither builtin nor run", name);
        return;
    }
    if (t->builtin) {
        if (!*t->builtin) {
            fail(c, PYTI_ERR_INPUT, c->key_line[K_BUILTIN], "task '%s': empty builtin", name);
            return;
        }
        if (!valid_name(t->builtin) ||
            (c->search && c->search->is_builtin && !c->search->is_builtin(t->builtin))) {
            char *s = shown(t->builtin);
            fail(c, PYTI_ERR_INPUT, c->key_line[K_BUILTIN], "task '%s': unknown builtin '%s'",
                 name, s);
            free(s);
            return;
        }
    }
    if (t->run && str_blank(t->run)) {
        fail(c, PYTI_ERR_INPUT, c->key_line[K_RUN], "task '%s': empty run", name);
        return;
    }
    t->timeout_s = RECIPE_TIMEOUT_DEFAULT;
    if (c->timeout_raw && !parse_timeout(c->timeout_raw, &t->timeout_s)) {
        char *s = shown(c->timeout_raw);
        fail(c, PYTI_ERR_INPUT, c->key_line[K_TIMEOUT],
             "task '%s': bad timeout '%s' (expected a positive number of seconds, "
             "optionally followed by s, m or h, at most 7 days)", name, s);
        free(s);
        return;
    }
    if (!check_names(c, &t->requires, K_REQUIRES, "task") ||
        !check_names(c, &t->needs, K_NEEDS, "item") ||
        !check_names(c, &t->produces, K_PRODUCES, "item"))
        return;
    strv_dedupe(&t->requires);
    strv_dedupe(&t->needs);
    strv_dedupe(&t->produces);
    if (t->description && !*t->description) {
        free(t->description);
        t->description = NULL;
    }
    t->file = xstrdup(c->file);
    t->line = c->sec_line;
    task_list_put(&c->tasks, t);
    reset_current_task(c);
}

static void finish_section(parse_ctx *c)
{
    if (c->sec == SEC_TASK && !c->failed)
        finish_task(c);
    reset_current_task(c);
    c->sec = SEC_NONE;
    c->last = LAST_NONE;
    free(c->last_key);
    c->last_key = NULL;
}

/* A "[...]" header; text is what inih takes as the section name. */
static void begin_section(parse_ctx *c, const char *text, size_t len)
{
    finish_section(c);
    if (c->failed)
        return;
    char *raw = xstrndup(text, len);
    char *t = str_trim(raw);
    c->sec_line = c->lineno;
    if (strcmp(t, "recipe") == 0) {
        if (c->recipe_line) {
            fail(c, PYTI_ERR_INPUT, c->lineno, "duplicate [recipe] section (first at line %u)",
                 c->recipe_line);
        } else {
            c->recipe_line = c->lineno;
            c->sec = SEC_RECIPE;
        }
    } else if (strncmp(t, "task", 4) == 0 && (t[4] == '\0' || isspace((unsigned char)t[4]))) {
        char *name = str_trim(t + 4);
        size_t first;
        if (!*name) {
            fail(c, PYTI_ERR_INPUT, c->lineno, "task section without a name (expected [task NAME])");
        } else if (!valid_name(name)) {
            char *s = shown(name);
            fail(c, PYTI_ERR_INPUT, c->lineno,
                 "invalid task name '%s' (use letters, digits, '_', '.' and '-', starting with a "
                 "letter, digit or '_'; at most %d characters)", s, RECIPE_NAME_MAX);
            free(s);
        } else if (strmap_get(&c->tasks.index, name, &first)) {
            fail(c, PYTI_ERR_INPUT, c->lineno, "duplicate section [task %s] (first at line %u)",
                 name, c->tasks.items[first].line);
        } else {
            c->sec = SEC_TASK;
            c->cur.name = xstrdup(name);
        }
    } else {
        char *s = shown(t);
        fail(c, PYTI_ERR_INPUT, c->lineno,
             "unknown section [%s] (expected [recipe] or [task NAME])", s);
        free(s);
    }
    free(raw);
}

/* inih's find_chars_or_comment (inline comments enabled, prefix ';'),
 * bounded by end. */
static const char *find_chars_or_comment(const char *s, const char *end, const char *chars)
{
    int was_space = 0;
    while (s < end && (!chars || !strchr(chars, *s)) && !(was_space && *s == ';')) {
        was_space = isspace((unsigned char)*s);
        s++;
    }
    return s;
}

/* Decides what inih will make of line (NUL-terminated, no NULs inside) and
 * acts on section headers. Mirrors ini_parse_stream() of inih r55 with
 * Debian's defaults: BOM allowed, ';' and '#' start-of-line comments, ';'
 * inline comments after whitespace, multi-line values, no bare keys. */
static void classify(parse_ctx *c, const char *line)
{
    const char *s = line;
    if (c->lineno == 1 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
        (unsigned char)s[2] == 0xBF)
        s += 3;
    const char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    while (s < end && isspace((unsigned char)*s))
        s++;

    c->expect_handler = false;
    if (s == end || *s == ';' || *s == '#') {
        c->kind = LINE_BLANK;
    } else if (c->prev_name && s > line) {
        c->kind = LINE_CONT;
        c->expect_handler = true;
    } else if (*s == '[') {
        const char *q = find_chars_or_comment(s + 1, end, "]");
        if (q == end || *q != ']') {
            fail(c, PYTI_ERR_INPUT, c->lineno, "section header without a closing ']'");
            return;
        }
        const char *after = q + 1;
        while (after < end && isspace((unsigned char)*after))
            after++;
        if (after < end && *after != ';' && *after != '#') {
            fail(c, PYTI_ERR_INPUT, c->lineno, "unexpected text after the section header");
            return;
        }
        c->kind = LINE_SECTION;
        c->prev_name = false;
        size_t n = (size_t)(q - (s + 1));
        size_t keep = n < INIH_MAX_SECTION - 1 ? n : INIH_MAX_SECTION - 1;
        memcpy(c->inih_section, s + 1, keep);
        c->inih_section[keep] = '\0';
        begin_section(c, s + 1, n);
    } else {
        const char *q = find_chars_or_comment(s, end, "=:");
        if (q == end || (*q != '=' && *q != ':')) {
            fail(c, PYTI_ERR_INPUT, c->lineno,
                 "syntax error (expected 'key = value', '[section]' or a comment)");
            return;
        }
        const char *ne = q;
        while (ne > s && isspace((unsigned char)ne[-1]))
            ne--;
        if (ne == s) {
            fail(c, PYTI_ERR_INPUT, c->lineno, "missing key before '%c'", *q);
            return;
        }
        c->kind = LINE_KEY;
        c->expect_handler = true;
        c->prev_name = true;
        free(c->cur_key);
        c->cur_key = xstrndup(s, (size_t)(ne - s));
    }
}

static char *reader(char *str, int num, void *stream)
{
    parse_ctx *c = stream;
    if (c->failed || c->pos >= c->len || num < 3)
        return NULL;
    if (c->expect_handler) {
        /* inih skipped a line we expected it to hand to the handler. */
        fail(c, PYTI_ERR_INTERNAL, c->lineno, "recipe parser out of step with inih");
        return NULL;
    }
    const char *p = c->data + c->pos;
    size_t rest = c->len - c->pos;
    const char *nl = memchr(p, '\n', rest);
    size_t n = nl ? (size_t)(nl - p) + 1 : rest;
    size_t content = n - (nl ? 1 : 0);
    c->lineno++;
    c->kind = LINE_NONE;
    if (content > (size_t)num - 2) {
        fail(c, PYTI_ERR_INPUT, c->lineno,
             "line is too long (at most %d characters; continue long values on indented lines)",
             num - 2);
        return NULL;
    }
    if (memchr(p, '\0', n)) {
        fail(c, PYTI_ERR_INPUT, c->lineno, "NUL byte in line");
        return NULL;
    }
    if (!str_valid_utf8(p, n)) {
        fail(c, PYTI_ERR_INPUT, c->lineno, "invalid UTF-8");
        return NULL;
    }
    memcpy(str, p, n);
    str[n] = '\0';
    c->pos += n;
    classify(c, str);
    return c->failed ? NULL : str;
}

static void set_last_str(parse_ctx *c, char **field)
{
    c->last = LAST_STR;
    c->last_str = field;
}

static void recipe_key(parse_ctx *c, const char *name, const char *value)
{
    int k = strcmp(name, "description") == 0 ? 0 : strcmp(name, "include") == 0 ? 1 : -1;
    if (k < 0) {
        char *s = shown(name);
        fail(c, PYTI_ERR_INPUT, c->lineno,
             "unknown key '%s' in [recipe] (expected description or include)", s);
        free(s);
        return;
    }
    if (c->recipe_key_line[k]) {
        fail(c, PYTI_ERR_INPUT, c->lineno, "duplicate key '%s' in [recipe] (first at line %u)",
             name, c->recipe_key_line[k]);
        return;
    }
    c->recipe_key_line[k] = c->lineno;
    if (k == 0) {
        c->description = xstrdup(value);
        set_last_str(c, &c->description);
    } else {
        add_includes(c, value, c->lineno);
        c->last = LAST_INCLUDE;
    }
}

static void task_key(parse_ctx *c, const char *name, const char *value)
{
    int k = -1;
    for (int i = 0; i < K_NKEYS; i++) {
        if (strcmp(name, task_keys[i]) == 0)
            k = i;
    }
    if (k >= 0) {
        if (c->key_line[k]) {
            fail(c, PYTI_ERR_INPUT, c->lineno,
                 "duplicate key '%s' in [task %s] (first at line %u)", name, c->cur.name,
                 c->key_line[k]);
            return;
        }
        c->key_line[k] = c->lineno;
        switch ((enum task_key)k) {
        case K_BUILTIN: c->cur.builtin = xstrdup(value); set_last_str(c, &c->cur.builtin); break;
        case K_RUN: c->cur.run = xstrdup(value); set_last_str(c, &c->cur.run); break;
        case K_DESCRIPTION:
            c->cur.description = xstrdup(value);
            set_last_str(c, &c->cur.description);
            break;
        case K_TIMEOUT: c->timeout_raw = xstrdup(value); set_last_str(c, &c->timeout_raw); break;
        case K_REQUIRES: case K_NEEDS: case K_PRODUCES: {
            pyti_strv *v = k == K_REQUIRES ? &c->cur.requires
                         : k == K_NEEDS ? &c->cur.needs : &c->cur.produces;
            strv_split(v, value, LIST_SEPS);
            c->last = LAST_LIST;
            c->last_list = v;
            break;
        }
        case K_NKEYS: break;
        }
        return;
    }
    /* An option. */
    if (!valid_name(name)) {
        char *s = shown(name);
        fail(c, PYTI_ERR_INPUT, c->lineno,
             "invalid key '%s' in [task %s] (use letters, digits, '_', '.' and '-')", s,
             c->cur.name);
        free(s);
        return;
    }
    for (int i = 0; i < K_NKEYS; i++) {
        if (str_eq_nocase(name, task_keys[i])) {
            fail(c, PYTI_ERR_INPUT, c->lineno,
                 "unknown key '%s' in [task %s] (keys are case-sensitive; did you mean '%s'?)",
                 name, c->cur.name, task_keys[i]);
            return;
        }
    }
    size_t first;
    if (strmap_get(&c->options, name, &first)) {
        fail(c, PYTI_ERR_INPUT, c->lineno, "duplicate key '%s' in [task %s] (first at line %u)",
             name, c->cur.name, (unsigned)first);
        return;
    }
    strv_push(&c->cur.option_keys, name);
    strv_push(&c->cur.option_values, value);
    size_t idx = c->cur.option_keys.len - 1;
    strmap_add(&c->options, c->cur.option_keys.items[idx], c->lineno, NULL);
    c->last = LAST_OPTION;
    c->last_option = idx;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx *c = user;
    if (c->failed)
        return 0;
    if (!c->expect_handler || !name || !value || strcmp(section, c->inih_section) != 0) {
        fail(c, PYTI_ERR_INTERNAL, c->lineno, "recipe parser out of step with inih");
        return 0;
    }
    c->expect_handler = false;
    if (c->kind == LINE_CONT) {
        if (!c->last_key || strncmp(name, c->last_key, INIH_MAX_NAME - 1) != 0 ||
            strlen(name) != strnlen(c->last_key, INIH_MAX_NAME - 1)) {
            fail(c, PYTI_ERR_INTERNAL, c->lineno, "recipe parser out of step with inih");
            return 0;
        }
        switch (c->last) {
        case LAST_STR: *c->last_str = concat_space(*c->last_str, value); break;
        case LAST_LIST: strv_split(c->last_list, value, LIST_SEPS); break;
        case LAST_INCLUDE: add_includes(c, value, c->lineno); break;
        case LAST_OPTION:
            c->cur.option_values.items[c->last_option] =
                concat_space(c->cur.option_values.items[c->last_option], value);
            break;
        case LAST_NONE: break; /* the key was rejected; parsing has stopped */
        }
        return !c->failed;
    }
    if (c->kind != LINE_KEY || strcmp(name, c->cur_key) != 0) {
        fail(c, PYTI_ERR_INTERNAL, c->lineno, "recipe parser out of step with inih");
        return 0;
    }
    free(c->last_key);
    c->last_key = xstrdup(name);
    c->last = LAST_NONE;
    switch (c->sec) {
    case SEC_NONE: {
        char *s = shown(name);
        fail(c, PYTI_ERR_INPUT, c->lineno,
             "key '%s' outside of any section (expected [recipe] or [task NAME] first)", s);
        free(s);
        break;
    }
    case SEC_RECIPE: recipe_key(c, name, value); break;
    case SEC_TASK: task_key(c, name, value); break;
    }
    return !c->failed;
}

static void parse_ctx_free(parse_ctx *c)
{
    reset_current_task(c);
    free(c->cur_key);
    free(c->last_key);
    free(c->description);
    for (size_t i = 0; i < c->nincludes; i++)
        free(c->includes[i].what);
    free(c->includes);
    task_list_free(&c->tasks);
}

/* Parses data (the contents of file) into c. On error c->failed is set and
 * c->err holds the message. */
static void parse_text(parse_ctx *c)
{
    int rc = ini_parse_stream(reader, c, handler, c);
    if (c->failed)
        return;
    if (c->expect_handler) {
        fail(c, PYTI_ERR_INTERNAL, c->lineno, "recipe parser out of step with inih");
        return;
    }
    if (rc > 0) {
        fail(c, PYTI_ERR_INPUT, (unsigned)rc, "syntax error");
        return;
    }
    if (rc < 0) {
        fail(c, PYTI_ERR_INTERNAL, 0, "inih failed (%d)", rc);
        return;
    }
    finish_section(c);
}

/* ---- loading files and includes ------------------------------------------- */

typedef struct loader {
    const pyti_recipe_search *search;
    pyti_error *err;         /* never NULL */
    pyti_strv stack_real;    /* the include chain being loaded (real paths) */
    pyti_strv stack_shown;   /* the same, as shown in messages */
    pyti_strv loaded;        /* real paths of every file loaded so far */
    strmap loaded_set;       /* keys in loaded */
} loader;

/* A reference to another recipe is a path if it contains '/' or ends in
 * ".ini"; otherwise it is a name looked up in the search directories. */
static bool is_path_ref(const char *s)
{
    return strchr(s, '/') || str_endswith(s, ".ini");
}

/* Finds NAME.ini in the user, then the shipped directory, skipping the file
 * whose real path is skip_real (so a user recipe can include the shipped
 * recipe of the same name). Returns a new path or NULL; every place looked
 * at is appended to looked. */
static char *lookup_name(const pyti_recipe_search *search, const char *name,
                         const char *skip_real, pyti_buf *looked)
{
    const char *dirs[2] = {search ? search->user_dir : NULL, search ? search->shipped_dir : NULL};
    char *file = xasprintf("%s.ini", name);
    char *found = NULL;
    for (int i = 0; i < 2 && !found; i++) {
        if (!dirs[i] || !*dirs[i])
            continue;
        char *p = path_join(dirs[i], file);
        if (looked->len)
            buf_puts(looked, ", ");
        buf_puts(looked, p);
        bool skip = !path_is_file(p);
        if (!skip && skip_real) {
            char *rp = realpath(p, NULL);
            skip = rp && strcmp(rp, skip_real) == 0;
            free(rp);
        }
        if (skip)
            free(p);
        else
            found = p;
    }
    free(file);
    return found;
}

static pyti_status read_recipe_file(const char *path, pyti_buf *data, pyti_error *err)
{
    pyti_status st = path_read_file(path, RECIPE_MAX_BYTES, data, err);
    if (st == PYTI_ERR_LIMIT)
        return pyti_error_set(err, PYTI_ERR_INPUT, "%s: file is larger than the limit of %d bytes",
                              path, RECIPE_MAX_BYTES);
    return st;
}

static pyti_status load_file(loader *L, const char *shown_path, const char *real, int depth,
                             task_list *out, char **description);

/* Loads the include inc of the file being parsed in c and merges its tasks
 * into out. */
static void load_include(loader *L, parse_ctx *c, const char *real, const include_ref *inc,
                         int depth, task_list *out)
{
    const char *what = inc->what;
    char *path = NULL;
    if (is_path_ref(what)) {
        if (what[0] == '/') {
            path = xstrdup(what);
        } else {
            char *dir = path_dirname(c->file);
            path = path_join(dir, what);
            free(dir);
        }
        if (!path_is_file(path)) {
            char *s = shown(what);
            fail(c, PYTI_ERR_NOTFOUND, inc->line, "include '%s': no such recipe file %s", s, path);
            free(s);
            free(path);
            return;
        }
    } else {
        if (!valid_name(what)) {
            char *s = shown(what);
            fail(c, PYTI_ERR_INPUT, inc->line, "include '%s': invalid recipe name", s);
            free(s);
            return;
        }
        pyti_buf looked = PYTI_BUF_INIT;
        path = lookup_name(L->search, what, real, &looked);
        if (!path) {
            if (looked.len)
                fail(c, PYTI_ERR_NOTFOUND, inc->line,
                     "include '%s': recipe not found (looked for %s)", what, buf_cstr(&looked));
            else
                fail(c, PYTI_ERR_NOTFOUND, inc->line,
                     "include '%s': recipe not found (no recipe directories configured)", what);
            buf_free(&looked);
            return;
        }
        buf_free(&looked);
    }
    char *rp = realpath(path, NULL);
    if (!rp) {
        int e = errno;
        char *s = shown(what);
        fail(c, PYTI_ERR_IO, inc->line, "include '%s': resolving %s: %s", s, path, strerror(e));
        free(s);
        free(path);
        return;
    }
    long k = strv_index(&L->stack_real, rp);
    if (k >= 0) {
        pyti_buf chain = PYTI_BUF_INIT;
        for (size_t i = (size_t)k; i < L->stack_shown.len; i++)
            buf_printf(&chain, "%s -> ", L->stack_shown.items[i]);
        buf_puts(&chain, path);
        fail(c, PYTI_ERR_INPUT, inc->line, "include cycle: %s", buf_cstr(&chain));
        buf_free(&chain);
    } else if (strmap_get(&L->loaded_set, rp, NULL)) {
        /* Already merged through another include: its tasks are there. */
    } else if (depth + 1 > RECIPE_MAX_DEPTH) {
        fail(c, PYTI_ERR_INPUT, inc->line, "include '%s': includes nested more than %d deep",
             what, RECIPE_MAX_DEPTH);
    } else {
        task_list sub = {0};
        if (load_file(L, path, rp, depth + 1, &sub, NULL) != PYTI_OK) {
            /* The included file's own message names its file:line. */
            size_t len = strlen(L->err->msg);
            snprintf(L->err->msg + len, sizeof L->err->msg - len, " (included from %s:%u)",
                     c->file, inc->line);
            c->failed = true;
        } else {
            for (size_t i = 0; i < sub.len; i++)
                task_list_put(out, &sub.items[i]);
        }
        task_list_free(&sub);
    }
    free(rp);
    free(path);
}

/* Loads the file at shown_path (real path real) and everything it includes;
 * appends the merged tasks to out (which must be empty). */
static pyti_status load_file(loader *L, const char *shown_path, const char *real, int depth,
                             task_list *out, char **description)
{
    pyti_buf data = PYTI_BUF_INIT;
    pyti_status st = read_recipe_file(shown_path, &data, L->err);
    if (st != PYTI_OK) {
        buf_free(&data);
        return st;
    }
    char *key = xstrdup(real);
    strv_push_owned(&L->loaded, key);
    strmap_add(&L->loaded_set, key, 0, NULL);

    parse_ctx c = {0};
    c.file = shown_path;
    c.search = L->search;
    c.err = L->err;
    c.data = buf_cstr(&data);
    c.len = data.len;
    parse_text(&c);

    strv_push(&L->stack_real, real);
    strv_push(&L->stack_shown, shown_path);
    for (size_t i = 0; i < c.nincludes && !c.failed; i++)
        load_include(L, &c, real, &c.includes[i], depth, out);
    if (!c.failed) {
        /* The file's own tasks replace included ones of the same name in
         * place; new ones go after everything included. */
        for (size_t i = 0; i < c.tasks.len; i++)
            task_list_put(out, &c.tasks.items[i]);
        if (description) {
            *description = c.description;
            c.description = NULL;
        }
    }
    free(L->stack_real.items[--L->stack_real.len]);
    L->stack_real.items[L->stack_real.len] = NULL;
    free(L->stack_shown.items[--L->stack_shown.len]);
    L->stack_shown.items[L->stack_shown.len] = NULL;

    st = c.failed ? L->err->code : PYTI_OK;
    parse_ctx_free(&c);
    buf_free(&data);
    return st;
}

pyti_recipe *recipe_load(const char *name_or_path, const pyti_recipe_search *search,
                         pyti_error *err)
{
    pyti_error local;
    pyti_error_clear(&local);
    if (!name_or_path || !*name_or_path) {
        pyti_error_set(err, PYTI_ERR_INPUT, "empty recipe name");
        return NULL;
    }
    char *path;
    if (is_path_ref(name_or_path)) {
        if (!path_exists(name_or_path)) {
            pyti_error_set(err, PYTI_ERR_NOTFOUND, "recipe file %s not found", name_or_path);
            return NULL;
        }
        /* Checked before opening: opening a FIFO would block. */
        if (!path_is_file(name_or_path)) {
            pyti_error_set(err, PYTI_ERR_INPUT, "recipe file %s is not a regular file",
                           name_or_path);
            return NULL;
        }
        path = xstrdup(name_or_path);
    } else {
        if (!valid_name(name_or_path)) {
            char *s = shown(name_or_path);
            pyti_error_set(err, PYTI_ERR_INPUT, "invalid recipe name '%s'", s);
            free(s);
            return NULL;
        }
        pyti_buf looked = PYTI_BUF_INIT;
        path = lookup_name(search, name_or_path, NULL, &looked);
        if (!path) {
            if (looked.len)
                pyti_error_set(err, PYTI_ERR_NOTFOUND, "recipe '%s' not found (looked for %s)",
                               name_or_path, buf_cstr(&looked));
            else
                pyti_error_set(err, PYTI_ERR_NOTFOUND,
                               "recipe '%s' not found (no recipe directories configured)",
                               name_or_path);
            buf_free(&looked);
            return NULL;
        }
        buf_free(&looked);
    }
    char *real = realpath(path, NULL);
    if (!real) {
        pyti_error_errno(err, PYTI_ERR_IO, errno, "resolving recipe file %s", path);
        free(path);
        return NULL;
    }

    loader L = {.search = search, .err = &local};
    task_list tasks = {0};
    char *description = NULL;
    pyti_status st = load_file(&L, path, real, 0, &tasks, &description);
    strv_free(&L.stack_real);
    strv_free(&L.stack_shown);
    strmap_free(&L.loaded_set);
    strv_free(&L.loaded);
    if (st != PYTI_OK) {
        if (err)
            *err = local;
        task_list_free(&tasks);
        free(description);
        free(real);
        free(path);
        return NULL;
    }

    pyti_recipe *r = xcalloc(1, sizeof *r);
    const char *base = path_basename(path);
    size_t blen = strlen(base);
    if (str_endswith(base, ".ini") && blen > 4)
        blen -= 4;
    r->name = xstrndup(base, blen);
    if (description && *description)
        r->description = description;
    else
        free(description);
    r->file = real;
    strmap_free(&tasks.index);
    r->tasks = tasks.items;
    r->ntasks = tasks.len;
    free(path);
    return r;
}

void recipe_free(pyti_recipe *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ntasks; i++)
        task_def_free(&r->tasks[i]);
    free(r->tasks);
    free(r->name);
    free(r->description);
    free(r->file);
    free(r);
}

const pyti_task_def *recipe_find_task(const pyti_recipe *r, const char *name)
{
    if (!r || !name)
        return NULL;
    for (size_t i = 0; i < r->ntasks; i++) {
        if (r->tasks[i].name && strcmp(r->tasks[i].name, name) == 0)
            return &r->tasks[i];
    }
    return NULL;
}

const char *task_def_option(const pyti_task_def *t, const char *key)
{
    if (!t || !key)
        return NULL;
    for (size_t i = 0; i < t->option_keys.len && i < t->option_values.len; i++) {
        if (strcmp(t->option_keys.items[i], key) == 0)
            return t->option_values.items[i];
    }
    return NULL;
}

static void list_dir(const char *dir, pyti_strv *out)
{
    if (!dir || !*dir)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n <= 4 || !str_endswith(de->d_name, ".ini"))
            continue;
        char *stem = xstrndup(de->d_name, n - 4);
        char *full = path_join(dir, de->d_name);
        if (valid_name(stem) && path_is_file(full))
            strv_push_owned(out, stem);
        else
            free(stem);
        free(full);
    }
    closedir(d);
}

void recipe_list(const pyti_recipe_search *search, pyti_strv *names)
{
    if (!search)
        return;
    pyti_strv all = PYTI_STRV_INIT;
    list_dir(search->user_dir, &all);
    list_dir(search->shipped_dir, &all);
    strv_sort(&all);
    for (size_t i = 0; i < all.len; i++) {
        if (i == 0 || strcmp(all.items[i], all.items[i - 1]) != 0)
            strv_push(names, all.items[i]);
    }
    strv_free(&all);
}
