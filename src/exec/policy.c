/* policy.c — the behaviour policy: reading rules (libinih, with a reader
 * that counts lines so every error names file:line), matching events
 * against them in order, and the glob matcher the rules use. See
 * policy.h and docs/tracing.md.
 *
 * A policy file is untrusted in the sense that a user writes it by hand:
 * every value is bounded, unknown keys and bad values are errors, and the
 * parser has a fuzz target (tests/fuzz/fuzz_policy.c). */
#include "exec/policy.h"
#include "common/buf.h"
#include "common/finding.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fnmatch.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALUE_MAX 4096
#define PATTERNS_MAX 256

/* B (after "**" + "/") against every suffix of r that starts a component. */
static bool match_tail(const char *b, const char *r)
{
    if (!*b)
        return true;
    for (const char *t = r;; t++) {
        if ((t == r || t[-1] == '/') && fnmatch(b, t, FNM_PATHNAME) == 0)
            return true;
        if (!*t)
            return false;
    }
}

bool policy_glob(const char *pat, const char *s, bool text)
{
    if (text)
        return fnmatch(pat, s, 0) == 0;
    const char *dd = strstr(pat, "**");
    if (!dd)
        return fnmatch(pat, s, FNM_PATHNAME) == 0;
    /* One double star, a whole component: at the end (A, then slash, then
     * the stars), at the start (the stars, a slash, then B) or between. */
    const char *b = dd[2] == '/' ? dd + 3 : dd + 2;
    if (dd == pat)
        return match_tail(b, s);
    size_t alen = (size_t)(dd - pat); /* A with its trailing '/' */
    char a[1024];
    if (alen >= sizeof a || pat[alen - 1] != '/')
        return false;
    memcpy(a, pat, alen - 1);
    a[alen - 1] = '\0';
    char pre[4096];
    for (const char *t = s; *t; t++) {
        if (*t != '/' || (size_t)(t - s) >= sizeof pre)
            continue;
        memcpy(pre, s, (size_t)(t - s));
        pre[t - s] = '\0';
        if (fnmatch(a, pre, FNM_PATHNAME) == 0 && match_tail(b, t + 1))
            return true;
    }
    /* A trailing double star also matches A itself. */
    return !*b && fnmatch(a, s, FNM_PATHNAME) == 0;
}

/* A pattern may hold one "**", as a whole component. */
static bool glob_ok(const char *pat)
{
    const char *dd = strstr(pat, "**");
    if (!dd)
        return true;
    if (strstr(dd + 2, "**") || dd[2] == '*')
        return false;
    return (dd == pat || dd[-1] == '/') && (dd[2] == '\0' || dd[2] == '/');
}

static void rule_free(pyti_policy_rule *r)
{
    free(r->name);
    free(r->id);
    free(r->message);
    free(r->file);
    pyti_strv *lists[] = {&r->kind,  &r->path,  &r->target,  &r->any_path, &r->program,
                          &r->argv,  &r->object, &r->phase, &r->process,  &r->category};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
        strv_free(lists[i]);
    memset(r, 0, sizeof *r);
}

void policy_free(pyti_policy *p)
{
    for (size_t i = 0; i < p->n; i++)
        rule_free(&p->rules[i]);
    free(p->rules);
    memset(p, 0, sizeof *p);
}

typedef struct parse_state {
    const char *p, *end;
    unsigned line;
    bool long_line;
    const char *name;
    pyti_policy rules; /* parsed from this text */
    pyti_policy_rule *cur;
    char *cur_section;
    pyti_error *err;
    bool failed;
    unsigned fail_line;
} parse_state;

static char *read_line(char *str, int num, void *stream)
{
    parse_state *ps = stream;
    if (ps->p >= ps->end)
        return NULL;
    const char *nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
    size_t len = nl ? (size_t)(nl - ps->p) + 1 : (size_t)(ps->end - ps->p);
    if (len >= (size_t)num) {
        ps->long_line = true;
        len = (size_t)num - 1;
    }
    memcpy(str, ps->p, len);
    str[len] = '\0';
    ps->p += nl ? (size_t)(nl - ps->p) + 1 : len;
    ps->line++;
    return str;
}

static int fail(parse_state *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parse_state *ps, const char *fmt, ...)
{
    if (!ps->failed) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        pyti_error_set(ps->err, PYTI_ERR_INPUT, "%s:%u: %s", ps->name, ps->line, msg);
        ps->failed = true;
        ps->fail_line = ps->line;
    }
    return 0;
}

static int parse_severity(const char *v)
{
    if (strcmp(v, "ignore") == 0)
        return POLICY_IGNORE;
    if (strcmp(v, "record") == 0)
        return POLICY_RECORD;
    int s = severity_from_name(v);
    return s < 0 ? -100 : s;
}

static int parse_tristate(const char *v)
{
    if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
        return 1;
    if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
        return 0;
    if (strcmp(v, "any") == 0)
        return -1;
    return -100;
}

static pyti_policy_rule *new_rule(parse_state *ps, const char *section)
{
    pyti_policy *p = &ps->rules;
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->rules = xreallocarray(p->rules, p->cap, sizeof *p->rules);
    }
    pyti_policy_rule *r = &p->rules[p->n++];
    memset(r, 0, sizeof *r);
    r->name = xstrdup(section + 5);
    str_trim(r->name);
    r->severity = -100;
    r->local = -1;
    r->socket_stdio = -1;
    r->file = xstrdup(ps->name);
    r->line = ps->line;
    return r;
}

static pyti_strv *list_for(pyti_policy_rule *r, const char *key)
{
    static const struct {
        const char *key;
        size_t off;
    } lists[] = {
        {"kind", offsetof(pyti_policy_rule, kind)},
        {"path", offsetof(pyti_policy_rule, path)},
        {"target", offsetof(pyti_policy_rule, target)},
        {"any-path", offsetof(pyti_policy_rule, any_path)},
        {"program", offsetof(pyti_policy_rule, program)},
        {"argv", offsetof(pyti_policy_rule, argv)},
        {"object", offsetof(pyti_policy_rule, object)},
        {"phase", offsetof(pyti_policy_rule, phase)},
        {"process", offsetof(pyti_policy_rule, process)},
        {"category", offsetof(pyti_policy_rule, category)},
    };
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
        if (strcmp(lists[i].key, key) == 0)
            return (pyti_strv *)((char *)r + lists[i].off);
    return NULL;
}

static int on_value(void *user, const char *section, const char *key, const char *value)
{
    parse_state *ps = user;
    if (ps->failed)
        return 0;
    if (ps->long_line)
        return fail(ps, "line too long");
    if (strncmp(section, "rule ", 5) != 0 || str_blank(section + 5))
        return fail(ps, "section [%s]: expected [rule NAME]", section);
    if (strlen(value) > VALUE_MAX)
        return fail(ps, "value of '%s' longer than %d bytes", key, VALUE_MAX);
    if (!ps->cur_section || strcmp(ps->cur_section, section) != 0) {
        if (ps->rules.n >= POLICY_MAX_RULES)
            return fail(ps, "more than %d rules", POLICY_MAX_RULES);
        free(ps->cur_section);
        ps->cur_section = xstrdup(section);
        ps->cur = new_rule(ps, section);
    }
    pyti_policy_rule *r = ps->cur;
    pyti_strv *list = list_for(r, key);
    if (list) {
        size_t before = list->len;
        strv_split(list, value, ",");
        if (list->len > PATTERNS_MAX)
            return fail(ps, "'%s': more than %d patterns", key, PATTERNS_MAX);
        if (list->len == before)
            return fail(ps, "'%s' has no pattern", key);
        for (size_t i = before; i < list->len; i++)
            if (!glob_ok(list->items[i]))
                return fail(ps, "'%s': pattern '%s' may hold one '**', as a whole path "
                                "component", key, list->items[i]);
        return 1;
    }
    char *v = xstrdup(value);
    str_trim(v);
    int rc = 1;
    if (strcmp(key, "id") == 0) {
        bool ok = (str_startswith(v, "trace.") || str_startswith(v, "honeytoken.")) &&
                  strlen(v) < 80 && !strpbrk(v, " \t");
        if (!ok)
            rc = fail(ps, "id '%s': expected trace.NAME or honeytoken.NAME", v);
        else {
            free(r->id);
            r->id = xstrdup(v);
        }
    } else if (strcmp(key, "severity") == 0) {
        r->severity = parse_severity(v);
        if (r->severity == -100)
            rc = fail(ps, "severity '%s': expected ignore, record, info, low, medium, high "
                          "or critical", v);
    } else if (strcmp(key, "message") == 0) {
        free(r->message);
        r->message = xstrdup(v);
    } else if (strcmp(key, "local") == 0 || strcmp(key, "socket-stdio") == 0) {
        int t = parse_tristate(v);
        if (t == -100)
            rc = fail(ps, "'%s' = '%s': expected yes, no or any", key, v);
        else if (key[0] == 'l')
            r->local = t;
        else
            r->socket_stdio = t;
    } else if (strcmp(key, "min-seconds") == 0) {
        char *end;
        errno = 0;
        double d = strtod(v, &end);
        if (*v == '\0' || *end || errno || !(d >= 0) || d > 1e9)
            rc = fail(ps, "min-seconds '%s': expected a number of seconds", v);
        else
            r->min_seconds = d;
    } else if (strcmp(key, "min-count") == 0 || strcmp(key, "mode-any") == 0) {
        bool mode = key[0] == 'm' && key[1] == 'o';
        char *end;
        errno = 0;
        unsigned long long u = strtoull(v, &end, mode ? 8 : 10);
        if (*v == '\0' || *v == '-' || *end || errno || (mode && u > 07777))
            rc = fail(ps, "%s '%s': expected %s", key, v,
                      mode ? "octal mode bits (e.g. 0111)" : "a count");
        else if (mode)
            r->mode_any = u;
        else
            r->min_count = u;
    } else {
        rc = fail(ps, "unknown key '%s' in [%s]", key, section);
    }
    free(v);
    return rc;
}

static pyti_status check_rule(parse_state *ps, const pyti_policy_rule *r)
{
    ps->line = r->line;
    if (r->severity == -100)
        return fail(ps, "rule '%s' has no severity", r->name), PYTI_ERR_INPUT;
    if (r->severity >= PYTI_SEV_INFO && !r->id)
        return fail(ps, "rule '%s' gives a finding (severity %s) but has no id", r->name,
                    severity_name(r->severity)),
               PYTI_ERR_INPUT;
    if (r->kind.len == 0)
        return fail(ps, "rule '%s' names no kind", r->name), PYTI_ERR_INPUT;
    return PYTI_OK;
}

pyti_status policy_parse(pyti_policy *p, const char *text, size_t len, const char *name,
                         bool prepend, pyti_error *err)
{
    parse_state ps;
    memset(&ps, 0, sizeof ps);
    ps.p = text;
    ps.end = text + len;
    ps.name = name;
    ps.err = err;
    if (len > POLICY_MAX_BYTES) {
        pyti_error_set(err, PYTI_ERR_INPUT, "%s: larger than %u bytes", name, POLICY_MAX_BYTES);
        return PYTI_ERR_INPUT;
    }
    if (memchr(text, '\0', len)) {
        pyti_error_set(err, PYTI_ERR_INPUT, "%s: contains a NUL byte", name);
        return PYTI_ERR_INPUT;
    }
    int bad = ini_parse_stream(read_line, &ps, on_value, &ps);
    /* inih goes on after a syntax error: an earlier one explains more. */
    if (ps.failed && bad > 0 && (unsigned)bad < ps.fail_line)
        ps.failed = false;
    if (!ps.failed && ps.long_line) {
        fail(&ps, "line too long");
    } else if (!ps.failed && bad > 0) {
        ps.line = (unsigned)bad;
        fail(&ps, "syntax error (expected [rule NAME] or key = value)");
    } else if (!ps.failed && bad < 0) {
        pyti_error_set(err, PYTI_ERR_INTERNAL, "%s: inih failed (%d)", name, bad);
        ps.failed = true;
    }
    for (size_t i = 0; !ps.failed && i < ps.rules.n; i++)
        if (check_rule(&ps, &ps.rules.rules[i]) != PYTI_OK)
            break;
    for (size_t i = 0; !ps.failed && i < ps.rules.n; i++)
        for (size_t j = i + 1; !ps.failed && j < ps.rules.n; j++)
            if (strcmp(ps.rules.rules[i].name, ps.rules.rules[j].name) == 0) {
                ps.line = ps.rules.rules[j].line;
                fail(&ps, "rule '%s' defined twice (first at line %u)",
                     ps.rules.rules[j].name, ps.rules.rules[i].line);
            }
    free(ps.cur_section);
    if (ps.failed) {
        policy_free(&ps.rules);
        return err ? err->code : PYTI_ERR_INPUT;
    }
    if (p->n + ps.rules.n > POLICY_MAX_RULES) {
        policy_free(&ps.rules);
        pyti_error_set(err, PYTI_ERR_INPUT, "%s: more than %d rules in all", name,
                       POLICY_MAX_RULES);
        return PYTI_ERR_INPUT;
    }
    /* Same name: replaces in place; the others go first or last. */
    pyti_policy_rule *fresh = xcalloc(ps.rules.n + 1, sizeof *fresh);
    size_t nfresh = 0;
    for (size_t i = 0; i < ps.rules.n; i++) {
        pyti_policy_rule *r = &ps.rules.rules[i];
        size_t k;
        for (k = 0; k < p->n && strcmp(p->rules[k].name, r->name) != 0; k++)
            ;
        if (k < p->n) {
            rule_free(&p->rules[k]);
            p->rules[k] = *r;
        } else {
            fresh[nfresh++] = *r;
        }
    }
    free(ps.rules.rules);
    size_t total = p->n + nfresh;
    if (total > p->cap) {
        p->cap = total;
        p->rules = xreallocarray(p->rules, p->cap, sizeof *p->rules);
    }
    if (prepend && nfresh) {
        memmove(p->rules + nfresh, p->rules, p->n * sizeof *p->rules);
        memcpy(p->rules, fresh, nfresh * sizeof *fresh);
    } else if (nfresh) {
        memcpy(p->rules + p->n, fresh, nfresh * sizeof *fresh);
    }
    p->n = total;
    free(fresh);
    return PYTI_OK;
}

static pyti_status load_file(pyti_policy *p, const char *path, bool optional, bool prepend,
                             pyti_error *err)
{
    pyti_buf text = PYTI_BUF_INIT;
    pyti_error rerr;
    pyti_status rc = path_read_file(path, POLICY_MAX_BYTES + 1, &text, &rerr);
    if (rc == PYTI_ERR_NOTFOUND && optional) {
        buf_free(&text);
        return PYTI_OK;
    }
    if (rc != PYTI_OK) {
        buf_free(&text);
        pyti_error_set(err, PYTI_ERR_INPUT, "behaviour policy: %s", rerr.msg);
        return PYTI_ERR_INPUT;
    }
    rc = policy_parse(p, text.data ? text.data : "", text.len, path, prepend, err);
    buf_free(&text);
    return rc;
}

pyti_status policy_load_default(pyti_policy *p, pyti_error *err)
{
    memset(p, 0, sizeof *p);
    char *shipped = path_join(path_pyti_datadir(), "data/trace-policy.ini");
    pyti_status rc = load_file(p, shipped, false, false, err);
    free(shipped);
    if (rc != PYTI_OK)
        return rc;
    char *dir = path_xdg_config_home();
    char *user = xasprintf("%s/pyti/trace-policy.ini", dir);
    free(dir);
    rc = load_file(p, user, true, true, err);
    free(user);
    if (rc != PYTI_OK)
        policy_free(p);
    return rc;
}

static bool any_glob(const pyti_strv *pats, const char *s, bool text)
{
    if (!s)
        return false;
    for (size_t i = 0; i < pats->len; i++)
        if (policy_glob(pats->items[i], s, text))
            return true;
    return false;
}

/* A path-valued kind: file.* */
static bool has_target(const char *kind)
{
    return strcmp(kind, "file.rename") == 0 || strcmp(kind, "file.link") == 0;
}

static bool rule_matches(const pyti_policy_rule *r, const pyti_policy_event *e)
{
    if (!any_glob(&r->kind, e->kind, true))
        return false;
    if (r->phase.len && !any_glob(&r->phase, e->phase, true))
        return false;
    if (r->process.len && !any_glob(&r->process, e->process, true))
        return false;
    if (r->path.len && !any_glob(&r->path, e->object, false))
        return false;
    if (r->target.len && e->object2 && has_target(e->kind) &&
        !any_glob(&r->target, e->object2, false))
        return false;
    if (r->any_path.len && !any_glob(&r->any_path, e->object, false) &&
        !(e->object2 && has_target(e->kind) && any_glob(&r->any_path, e->object2, false)))
        return false;
    if (r->program.len && !any_glob(&r->program, e->object, false))
        return false;
    if (r->object.len && !any_glob(&r->object, e->object, true))
        return false;
    if (r->argv.len && !any_glob(&r->argv, e->argv, true))
        return false;
    if (r->category.len && !any_glob(&r->category, e->category, true))
        return false;
    if (r->local >= 0 && (bool)r->local != e->local)
        return false;
    if (r->socket_stdio >= 0 && (bool)r->socket_stdio != e->socket_stdio)
        return false;
    if (r->min_seconds > 0 && e->seconds < r->min_seconds)
        return false;
    if (r->min_count && e->count < r->min_count)
        return false;
    if (r->mode_any && !(e->mode & r->mode_any))
        return false;
    return true;
}

const pyti_policy_rule *policy_match(const pyti_policy *p, const pyti_policy_event *ev)
{
    for (size_t i = 0; i < p->n; i++)
        if (rule_matches(&p->rules[i], ev))
            return &p->rules[i];
    return NULL;
}
