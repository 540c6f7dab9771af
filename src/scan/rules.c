/* rules.c — reading, merging and compiling scan rules files (see rules.h
 * and docs/scan-rules.md).
 *
 * Why not libinih, which reads pyti's other INI files: rule values are
 * PCRE2 patterns. They contain ';' and '#' (inih would cut an inline
 * comment at " ;"), can be long (inih splits lines longer than its
 * buffer), and every error must name the exact line of the key. The
 * grammar here is the INI subset the rules need, parsed strictly:
 *
 *   - blank lines and lines whose first non-blank character is '#' or ';'
 *     are comments (only at the start of a line: never inside a value);
 *   - "[rule <id>]" starts a rule;
 *   - "key = value" sets a key; the value is everything after the first
 *     '=', trimmed at both ends;
 *   - anything else (including indented continuation lines) is an error.
 *
 * Loading happens in two steps so that overrides can be partial: each file
 * is parsed into raw rules (strings with their file:line), later files
 * replace keys of earlier rules with the same id; then every rule is
 * validated and its patterns compiled, and errors name the file:line of
 * the offending key. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "scan/rules.h"

#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"

#define SCAN_RULES_LINE_MAX (64u * 1024)
#define SCAN_RULES_MAX_RULES 4096
#define LIST_SEPS ", \t"

/* ---- raw rules: strings with their origin ------------------------------ */

enum raw_key {
    K_SEVERITY, K_CATEGORY, K_DESCRIPTION, K_FILES, K_EXCLUDE, K_PATTERN, K_CHECK,
    K_THRESHOLD, K_MIN_LENGTH, K_REQUIRE_ALSO, K_UNLESS, K_DISABLED, K_TRIGGER, K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "severity", "category", "description", "files", "exclude", "pattern", "check",
    "threshold", "min-length", "require-also", "unless", "disabled", "trigger",
};

static bool key_repeatable(enum raw_key k)
{
    return k == K_PATTERN || k == K_REQUIRE_ALSO || k == K_TRIGGER;
}

typedef struct raw_value {
    char *value;
    char *file;
    unsigned line;
} raw_value;

typedef struct raw_list {
    raw_value *items;
    size_t len;
} raw_list;

typedef struct raw_rule {
    char *id;
    char *file;
    unsigned line;
    raw_list keys[K_COUNT];
} raw_rule;

typedef struct raw_set {
    raw_rule *rules;
    size_t len, cap;
} raw_set;

static void raw_list_clear(raw_list *l)
{
    for (size_t i = 0; i < l->len; i++) {
        free(l->items[i].value);
        free(l->items[i].file);
    }
    free(l->items);
    l->items = NULL;
    l->len = 0;
}

static void raw_list_push(raw_list *l, const char *value, const char *file, unsigned line)
{
    l->items = xreallocarray(l->items, l->len + 1, sizeof *l->items);
    l->items[l->len++] = (raw_value){xstrdup(value), xstrdup(file), line};
}

static void raw_rule_free(raw_rule *r)
{
    free(r->id);
    free(r->file);
    for (int k = 0; k < K_COUNT; k++)
        raw_list_clear(&r->keys[k]);
}

static void raw_set_free(raw_set *s)
{
    for (size_t i = 0; i < s->len; i++)
        raw_rule_free(&s->rules[i]);
    free(s->rules);
    memset(s, 0, sizeof *s);
}

static raw_rule *raw_set_find(raw_set *s, const char *id)
{
    for (size_t i = 0; i < s->len; i++)
        if (strcmp(s->rules[i].id, id) == 0)
            return &s->rules[i];
    return NULL;
}

/* ---- parsing one file --------------------------------------------------- */

static bool valid_rule_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SCAN_RULE_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
        if (!ok)
            return false;
    }
    return s[n - 1] != '-';
}

static int key_index(const char *k)
{
    for (int i = 0; i < K_COUNT; i++)
        if (strcmp(k, key_names[i]) == 0)
            return i;
    return -1;
}

/* The override of one file: its sections, parsed into a fresh raw_set, so
 * that a duplicate section or key inside one file is an error while the
 * same id in a later file is an override. */
static pyti_status parse_file(const char *text, size_t len, const char *name, raw_set *out,
                              pyti_error *err)
{
    if (len > SCAN_RULES_MAX_BYTES)
        return pyti_error_set(err, PYTI_ERR_LIMIT, "%s: larger than %u bytes", name,
                              SCAN_RULES_MAX_BYTES);
    raw_rule *cur = NULL;
    unsigned lineno = 0;
    size_t pos = 0;
    char *line = NULL;
    pyti_status rc = PYTI_OK;
    while (pos < len) {
        lineno++;
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (n > SCAN_RULES_LINE_MAX) {
            rc = pyti_error_set(err, PYTI_ERR_USAGE, "%s:%u: line longer than %u bytes", name,
                                lineno, SCAN_RULES_LINE_MAX);
            break;
        }
        if (memchr(start, '\0', n)) {
            rc = pyti_error_set(err, PYTI_ERR_USAGE, "%s:%u: NUL byte in the line", name, lineno);
            break;
        }
        if (!str_valid_utf8(start, n)) {
            rc = pyti_error_set(err, PYTI_ERR_USAGE, "%s:%u: the line is not valid UTF-8", name,
                                lineno);
            break;
        }
        free(line);
        line = xstrndup(start, n);
        if (lineno == 1 && str_startswith(line, "\xef\xbb\xbf"))
            memmove(line, line + 3, strlen(line + 3) + 1);
        bool indented = line[0] == ' ' || line[0] == '\t';
        char *s = str_trim(line);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (indented) {
            rc = pyti_error_set(err, PYTI_ERR_USAGE,
                                "%s:%u: indented line: continuation lines are not supported "
                                "(write each value on one line)", name, lineno);
            break;
        }
        if (*s == '[') {
            size_t sl = strlen(s);
            if (s[sl - 1] != ']') {
                rc = pyti_error_set(err, PYTI_ERR_USAGE, "%s:%u: section header without ']'",
                                    name, lineno);
                break;
            }
            s[sl - 1] = '\0';
            char *inner = str_trim(s + 1);
            if (strncmp(inner, "rule", 4) != 0 || (inner[4] != ' ' && inner[4] != '\t')) {
                char *e = str_excerpt(inner, strlen(inner), 80);
                rc = pyti_error_set(err, PYTI_ERR_USAGE,
                                    "%s:%u: unknown section '[%s]' (expected '[rule <id>]')",
                                    name, lineno, e);
                free(e);
                break;
            }
            char *id = str_trim(inner + 4);
            if (!valid_rule_id(id)) {
                char *e = str_excerpt(id, strlen(id), 80);
                rc = pyti_error_set(err, PYTI_ERR_USAGE,
                                    "%s:%u: invalid rule id '%s' (lowercase letters, digits and "
                                    "'-', at most %d characters)", name, lineno, e,
                                    SCAN_RULE_ID_MAX);
                free(e);
                break;
            }
            raw_rule *dup = raw_set_find(out, id);
            if (dup) {
                rc = pyti_error_set(err, PYTI_ERR_USAGE,
                                    "%s:%u: rule '%s' defined twice in this file (first at line %u)",
                                    name, lineno, id, dup->line);
                break;
            }
            if (out->len >= SCAN_RULES_MAX_RULES) {
                rc = pyti_error_set(err, PYTI_ERR_LIMIT, "%s:%u: more than %d rules", name,
                                    lineno, SCAN_RULES_MAX_RULES);
                break;
            }
            if (out->len == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 32;
                out->rules = xreallocarray(out->rules, out->cap, sizeof *out->rules);
            }
            cur = &out->rules[out->len++];
            memset(cur, 0, sizeof *cur);
            cur->id = xstrdup(id);
            cur->file = xstrdup(name);
            cur->line = lineno;
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = pyti_error_set(err, PYTI_ERR_USAGE, "%s:%u: expected 'key = value'", name,
                                lineno);
            break;
        }
        *eq = '\0';
        char *key = str_trim(s);
        char *value = str_trim(eq + 1);
        if (!cur) {
            rc = pyti_error_set(err, PYTI_ERR_USAGE,
                                "%s:%u: key '%.64s' outside a '[rule <id>]' section", name, lineno,
                                key);
            break;
        }
        int k = key_index(key);
        if (k < 0) {
            char *e = str_excerpt(key, strlen(key), 64);
            rc = pyti_error_set(err, PYTI_ERR_USAGE, "%s:%u: rule '%s': unknown key '%s'", name,
                                lineno, cur->id, e);
            free(e);
            break;
        }
        if (!*value) {
            rc = pyti_error_set(err, PYTI_ERR_USAGE, "%s:%u: rule '%s': empty value for '%s'",
                                name, lineno, cur->id, key_names[k]);
            break;
        }
        raw_list *l = &cur->keys[k];
        if (l->len && !key_repeatable((enum raw_key)k)) {
            rc = pyti_error_set(err, PYTI_ERR_USAGE,
                                "%s:%u: rule '%s': '%s' given twice (first at line %u)", name,
                                lineno, cur->id, key_names[k], l->items[0].line);
            break;
        }
        if (l->len >= SCAN_RULE_PATTERNS_MAX) {
            rc = pyti_error_set(err, PYTI_ERR_LIMIT, "%s:%u: rule '%s': more than %d '%s' keys",
                                name, lineno, cur->id, SCAN_RULE_PATTERNS_MAX, key_names[k]);
            break;
        }
        raw_list_push(l, value, name, lineno);
    }
    free(line);
    return rc;
}

/* Merges the rules of one file into the accumulated set: a new id is
 * appended; a known id has each key the file sets replaced. */
static void merge(raw_set *acc, raw_set *file)
{
    for (size_t i = 0; i < file->len; i++) {
        raw_rule *src = &file->rules[i];
        raw_rule *dst = raw_set_find(acc, src->id);
        if (!dst) {
            if (acc->len == acc->cap) {
                acc->cap = acc->cap ? acc->cap * 2 : 64;
                acc->rules = xreallocarray(acc->rules, acc->cap, sizeof *acc->rules);
            }
            acc->rules[acc->len++] = *src;
            memset(src, 0, sizeof *src);
            continue;
        }
        free(dst->file);
        dst->file = src->file;
        src->file = NULL;
        dst->line = src->line;
        for (int k = 0; k < K_COUNT; k++) {
            if (!src->keys[k].len)
                continue;
            raw_list_clear(&dst->keys[k]);
            dst->keys[k] = src->keys[k];
            src->keys[k] = (raw_list){NULL, 0};
        }
    }
}

/* ---- compiling ------------------------------------------------------------ */

struct pyti_scan_rules {
    pyti_scan_rule *rules;
    size_t len;
    bool jit;
};

static void pattern_free(pyti_scan_pattern *p)
{
    free(p->source);
    pcre2_code_free(p->code);
    p->source = NULL;
    p->code = NULL;
}

static void rule_free(pyti_scan_rule *r)
{
    free(r->id);
    free(r->category);
    free(r->description);
    free(r->file);
    strv_free(&r->files);
    strv_free(&r->exclude);
    for (size_t i = 0; i < r->npatterns; i++)
        pattern_free(&r->patterns[i]);
    for (size_t i = 0; i < r->nrequire; i++)
        pattern_free(&r->require[i]);
    pattern_free(&r->unless);
    for (size_t i = 0; i < r->ntriggers; i++)
        strv_free(&r->triggers[i].words);
}

void scan_rules_free(pyti_scan_rules *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->len; i++)
        rule_free(&rs->rules[i]);
    free(rs->rules);
    free(rs);
}

static const raw_value *one(const raw_rule *r, enum raw_key k)
{
    return r->keys[k].len ? &r->keys[k].items[0] : NULL;
}

/* Compiles v->value into p. Patterns are matched over a whole file with
 * ^ and $ at line ends; '.' does not cross lines unless the pattern says
 * (?s). A pattern that matches the empty string would "hit" everywhere and
 * is refused. */
static pyti_status compile_pattern(const raw_rule *r, const raw_value *v, const char *key,
                                   pyti_scan_pattern *p, bool *jit, pyti_error *err)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)v->value, PCRE2_ZERO_TERMINATED, PCRE2_MULTILINE,
                                   &code, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        return pyti_error_set(err, PYTI_ERR_USAGE, "%s:%u: rule '%s': %s: %s at offset %zu",
                              v->file, v->line, r->id, key, (const char *)msg, (size_t)off);
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int m = pcre2_match(re, (PCRE2_SPTR) "", 0, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    if (m >= 0 && strcmp(key, "pattern") == 0) {
        pcre2_code_free(re);
        return pyti_error_set(err, PYTI_ERR_USAGE,
                              "%s:%u: rule '%s': pattern matches the empty string", v->file,
                              v->line, r->id);
    }
    (void)jit; /* JIT code is made on first use: scan_pattern_ready */
    p->source = xstrdup(v->value);
    p->code = re;
    return PYTI_OK;
}

/* Expands @scopes into globs. */
static pyti_status add_globs(pyti_strv *out, const raw_value *v, const char *rule_id,
                             pyti_error *err)
{
    static const struct { const char *name, *globs; } scopes[] = {
        {"@python", "*.py *.pyw"},
        {"@build", "setup.py hatch_build.py pdm_build.py build.py"},
        {"@pth", "*.pth"},
        {"@shell", "*.sh *.bash *.zsh *.bat *.cmd *.ps1"},
        {"@code", "*.py *.pyw *.pth *.pyx *.pxi *.sh *.bash *.zsh *.bat *.cmd *.ps1 *.js"},
        {"@text", "*"},
    };
    pyti_strv parts = PYTI_STRV_INIT;
    strv_split(&parts, v->value, LIST_SEPS);
    pyti_status rc = PYTI_OK;
    for (size_t i = 0; i < parts.len && rc == PYTI_OK; i++) {
        const char *g = parts.items[i];
        if (g[0] != '@') {
            strv_push_unique(out, g);
            continue;
        }
        size_t j;
        for (j = 0; j < sizeof scopes / sizeof *scopes; j++)
            if (strcmp(g, scopes[j].name) == 0)
                break;
        if (j == sizeof scopes / sizeof *scopes) {
            char *e = str_excerpt(g, strlen(g), 40);
            rc = pyti_error_set(err, PYTI_ERR_USAGE,
                                "%s:%u: rule '%s': unknown scope '%s' (known: @python, @build, "
                                "@pth, @shell, @code, @text)", v->file, v->line, rule_id, e);
            free(e);
            break;
        }
        pyti_strv g2 = PYTI_STRV_INIT;
        strv_split(&g2, scopes[j].globs, " ");
        for (size_t k = 0; k < g2.len; k++)
            strv_push_unique(out, g2.items[k]);
        strv_free(&g2);
    }
    strv_free(&parts);
    return rc;
}

static pyti_status parse_number(const raw_value *v, const char *rule_id, double lo, double hi,
                                double *out, pyti_error *err)
{
    char *end;
    errno = 0;
    double d = strtod(v->value, &end);
    if (errno || end == v->value || *end || !isfinite(d) || d < lo || d > hi)
        return pyti_error_set(err, PYTI_ERR_USAGE,
                              "%s:%u: rule '%s': '%.40s' is not a number between %g and %g",
                              v->file, v->line, rule_id, v->value, lo, hi);
    *out = d;
    return PYTI_OK;
}

static pyti_status parse_bool(const raw_value *v, const char *rule_id, bool *out,
                              pyti_error *err)
{
    if (strcmp(v->value, "yes") == 0 || strcmp(v->value, "true") == 0) {
        *out = true;
        return PYTI_OK;
    }
    if (strcmp(v->value, "no") == 0 || strcmp(v->value, "false") == 0) {
        *out = false;
        return PYTI_OK;
    }
    return pyti_error_set(err, PYTI_ERR_USAGE, "%s:%u: rule '%s': expected yes or no, not '%.40s'",
                          v->file, v->line, rule_id, v->value);
}

static pyti_status missing(const raw_rule *r, const char *key, pyti_error *err)
{
    return pyti_error_set(err, PYTI_ERR_USAGE, "%s:%u: rule '%s': missing '%s'", r->file, r->line,
                          r->id, key);
}

/* Validates and compiles one raw rule into out. *enabled is false for a
 * rule with disabled = yes (out is then left empty). */
static pyti_status compile_rule(const raw_rule *r, pyti_scan_rule *out, bool *enabled, bool *jit,
                                pyti_error *err)
{
    memset(out, 0, sizeof *out);
    const raw_value *v;
    bool disabled = false;
    if ((v = one(r, K_DISABLED)) && parse_bool(v, r->id, &disabled, err) != PYTI_OK)
        return PYTI_ERR_USAGE;
    *enabled = !disabled;
    if (disabled)
        return PYTI_OK;
    out->id = xstrdup(r->id);
    out->file = xstrdup(r->file);
    out->line = r->line;

    if (!(v = one(r, K_SEVERITY)))
        return missing(r, "severity", err);
    int sev = severity_from_name(v->value);
    if (sev < 0)
        return pyti_error_set(err, PYTI_ERR_USAGE,
                              "%s:%u: rule '%s': unknown severity '%.40s' (info, low, medium, "
                              "high, critical)", v->file, v->line, r->id, v->value);
    out->severity = (pyti_severity)sev;
    if (!(v = one(r, K_CATEGORY)))
        return missing(r, "category", err);
    out->category = xstrdup(v->value);
    if (!(v = one(r, K_DESCRIPTION)))
        return missing(r, "description", err);
    out->description = xstrdup(v->value);

    if ((v = one(r, K_FILES))) {
        if (add_globs(&out->files, v, r->id, err) != PYTI_OK)
            return PYTI_ERR_USAGE;
        if (!out->files.len)
            return pyti_error_set(err, PYTI_ERR_USAGE, "%s:%u: rule '%s': 'files' names no glob",
                                  v->file, v->line, r->id);
    } else {
        strv_push(&out->files, "*.py");
        strv_push(&out->files, "*.pyw");
    }
    if ((v = one(r, K_EXCLUDE)) && add_globs(&out->exclude, v, r->id, err) != PYTI_OK)
        return PYTI_ERR_USAGE;

    const raw_value *check = one(r, K_CHECK);
    if (check && r->keys[K_PATTERN].len)
        return pyti_error_set(err, PYTI_ERR_USAGE,
                              "%s:%u: rule '%s': a rule has either 'pattern' or 'check', not both",
                              check->file, check->line, r->id);
    if (!check && !r->keys[K_PATTERN].len)
        return missing(r, "pattern' or 'check", err);
    if (check) {
        if (strcmp(check->value, "long-line") == 0) {
            out->check = SCAN_CHECK_LONG_LINE;
            out->threshold = 5000;
        } else if (strcmp(check->value, "entropy") == 0) {
            out->check = SCAN_CHECK_ENTROPY;
            out->threshold = 5.2;
            out->min_length = 200;
        } else if (strcmp(check->value, "ipv4") == 0) {
            out->check = SCAN_CHECK_IPV4;
        } else {
            return pyti_error_set(err, PYTI_ERR_USAGE,
                                  "%s:%u: rule '%s': unknown check '%.40s' (long-line, entropy, "
                                  "ipv4)", check->file, check->line, r->id, check->value);
        }
    }
    if ((v = one(r, K_THRESHOLD))) {
        if (out->check == SCAN_CHECK_LONG_LINE) {
            if (parse_number(v, r->id, 1, 1e9, &out->threshold, err) != PYTI_OK)
                return PYTI_ERR_USAGE;
        } else if (out->check == SCAN_CHECK_ENTROPY) {
            if (parse_number(v, r->id, 0.1, 8, &out->threshold, err) != PYTI_OK)
                return PYTI_ERR_USAGE;
        } else {
            return pyti_error_set(err, PYTI_ERR_USAGE,
                                  "%s:%u: rule '%s': 'threshold' only applies to the long-line "
                                  "and entropy checks", v->file, v->line, r->id);
        }
    }
    if ((v = one(r, K_MIN_LENGTH))) {
        double d;
        if (out->check != SCAN_CHECK_ENTROPY)
            return pyti_error_set(err, PYTI_ERR_USAGE,
                                  "%s:%u: rule '%s': 'min-length' only applies to the entropy check",
                                  v->file, v->line, r->id);
        if (parse_number(v, r->id, 16, 1e7, &d, err) != PYTI_OK)
            return PYTI_ERR_USAGE;
        out->min_length = (size_t)d;
    }
    for (size_t i = 0; i < r->keys[K_PATTERN].len; i++) {
        if (compile_pattern(r, &r->keys[K_PATTERN].items[i], "pattern", &out->patterns[i], jit,
                            err) != PYTI_OK)
            return PYTI_ERR_USAGE;
        out->npatterns++;
    }
    for (size_t i = 0; i < r->keys[K_REQUIRE_ALSO].len; i++) {
        if (compile_pattern(r, &r->keys[K_REQUIRE_ALSO].items[i], "require-also",
                            &out->require[i], jit, err) != PYTI_OK)
            return PYTI_ERR_USAGE;
        out->nrequire++;
    }
    if ((v = one(r, K_UNLESS)) &&
        compile_pattern(r, v, "unless", &out->unless, jit, err) != PYTI_OK)
        return PYTI_ERR_USAGE;
    for (size_t i = 0; i < r->keys[K_TRIGGER].len; i++) {
        v = &r->keys[K_TRIGGER].items[i];
        pyti_strv *w = &out->triggers[out->ntriggers++].words;
        strv_split(w, v->value, LIST_SEPS);
        for (size_t j = 0; j < w->len; j++) {
            const char *t = w->items[j];
            size_t n = strlen(t);
            bool ok = n >= 1 && n <= SCAN_TRIGGER_WORD_MAX;
            for (size_t k = 0; ok && k < n; k++)
                ok = (t[k] >= 'a' && t[k] <= 'z') || (t[k] >= '0' && t[k] <= '9') || t[k] == '_';
            if (!ok)
                return pyti_error_set(err, PYTI_ERR_USAGE,
                                      "%s:%u: rule '%s': trigger word '%.40s' is not lowercase "
                                      "letters, digits and '_' (at most %d)", v->file, v->line,
                                      r->id, t, SCAN_TRIGGER_WORD_MAX);
        }
    }
    return PYTI_OK;
}

static pyti_scan_rules *compile_all(const raw_set *raw, pyti_error *err)
{
    pyti_scan_rules *rs = xcalloc(1, sizeof *rs);
    uint32_t have_jit = 0;
    pcre2_config(PCRE2_CONFIG_JIT, &have_jit);
    rs->jit = have_jit != 0;
    rs->rules = xcalloc(raw->len ? raw->len : 1, sizeof *rs->rules);
    for (size_t i = 0; i < raw->len; i++) {
        bool enabled;
        pyti_scan_rule *r = &rs->rules[rs->len];
        if (compile_rule(&raw->rules[i], r, &enabled, &rs->jit, err) != PYTI_OK) {
            rule_free(r);
            scan_rules_free(rs);
            return NULL;
        }
        if (enabled)
            rs->len++;
    }
    return rs;
}

/* ---- public ---------------------------------------------------------------- */

pyti_scan_rules *scan_rules_from_string(const char *text, size_t len, const char *name,
                                        pyti_error *err)
{
    raw_set raw = {0};
    if (parse_file(text, len, name, &raw, err) != PYTI_OK) {
        raw_set_free(&raw);
        return NULL;
    }
    pyti_scan_rules *rs = compile_all(&raw, err);
    raw_set_free(&raw);
    return rs;
}

pyti_scan_rules *scan_rules_load(const char *const *paths, const bool *optional, pyti_error *err)
{
    raw_set acc = {0};
    pyti_buf text = PYTI_BUF_INIT;
    for (size_t i = 0; paths[i]; i++) {
        buf_reset(&text);
        pyti_error e;
        pyti_status rc = path_read_file(paths[i], SCAN_RULES_MAX_BYTES, &text, &e);
        if (rc == PYTI_ERR_NOTFOUND && optional && optional[i])
            continue;
        if (rc != PYTI_OK) {
            if (err)
                *err = e;
            pyti_error_prefix(err, "rules file %s: ", paths[i]);
            goto fail;
        }
        raw_set one_file = {0};
        if (parse_file(buf_cstr(&text), text.len, paths[i], &one_file, err) != PYTI_OK) {
            raw_set_free(&one_file);
            goto fail;
        }
        merge(&acc, &one_file);
        raw_set_free(&one_file);
    }
    buf_free(&text);
    pyti_scan_rules *rs = compile_all(&acc, err);
    raw_set_free(&acc);
    return rs;
fail:
    buf_free(&text);
    raw_set_free(&acc);
    return NULL;
}

pyti_scan_rules *scan_rules_load_default(pyti_strv *files_read, pyti_error *err)
{
    char *shipped = path_join(path_pyti_datadir(), "data/scan-rules.ini");
    char *cfg = path_xdg_config_home();
    char *user = path_join(cfg, "pyti/scan-rules.ini");
    free(cfg);
    const char *paths[] = {shipped, user, NULL};
    const bool optional[] = {false, true};
    pyti_scan_rules *rs = scan_rules_load(paths, optional, err);
    if (rs && files_read) {
        strv_push(files_read, shipped);
        if (path_exists(user))
            strv_push(files_read, user);
    }
    free(shipped);
    free(user);
    return rs;
}

size_t scan_rules_count(const pyti_scan_rules *rs) { return rs ? rs->len : 0; }

const pyti_scan_rule *scan_rules_get(const pyti_scan_rules *rs, size_t i)
{
    return rs && i < rs->len ? &rs->rules[i] : NULL;
}

const pyti_scan_rule *scan_rules_find(const pyti_scan_rules *rs, const char *id)
{
    for (size_t i = 0; rs && i < rs->len; i++)
        if (strcmp(rs->rules[i].id, id) == 0)
            return &rs->rules[i];
    return NULL;
}

bool scan_rules_jit(const pyti_scan_rules *rs) { return rs && rs->jit; }

void *scan_pattern_ready(const pyti_scan_rules *rs, const pyti_scan_pattern *p)
{
    if (p->jit == 0 && p->code) {
        /* The JIT state is a cache of the read-only rules (rules.h). */
        pyti_scan_pattern *mp = (pyti_scan_pattern *)p;
        pyti_scan_rules *mrs = (pyti_scan_rules *)rs;
        if (rs && rs->jit && pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE) == 0) {
            mp->jit = 1;
        } else {
            mp->jit = -1;
            if (mrs)
                mrs->jit = false;
        }
    }
    return p->code;
}

static bool glob_match(const pyti_strv *globs, const char *rel, const char *base)
{
    for (size_t i = 0; i < globs->len; i++) {
        const char *g = globs->items[i];
        const char *target = strchr(g, '/') ? rel : base;
        if (fnmatch(g, target, FNM_CASEFOLD) == 0)
            return true;
    }
    return false;
}

bool scan_rule_applies(const pyti_scan_rule *r, const char *rel)
{
    const char *base = path_basename(rel);
    return glob_match(&r->files, rel, base) && !glob_match(&r->exclude, rel, base);
}
