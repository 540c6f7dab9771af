/* config.c — pyti's settings file (see config.h). */
#include "common/config.h"
#include "common/buf.h"
#include "common/path.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct entry {
    char *section, *key, *value, *where;
} entry;

struct pyti_config {
    entry *items;
    size_t len, cap;
    char *path;
};

pyti_config *config_new_empty(void)
{
    return xcalloc(1, sizeof(pyti_config));
}

void config_set(pyti_config *cfg, const char *section, const char *key, const char *value,
                const char *where)
{
    if (cfg->len == cfg->cap) {
        cfg->cap = cfg->cap ? cfg->cap * 2 : 16;
        cfg->items = xreallocarray(cfg->items, cfg->cap, sizeof *cfg->items);
    }
    cfg->items[cfg->len++] = (entry){xstrdup(section), xstrdup(key), xstrdup(value),
                                     xstrdup(where ? where : "(set)")};
}

void config_free(pyti_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->len; i++) {
        free(cfg->items[i].section);
        free(cfg->items[i].key);
        free(cfg->items[i].value);
        free(cfg->items[i].where);
    }
    free(cfg->items);
    free(cfg->path);
    free(cfg);
}

/* inih reads the text through this reader so we know the current line. */
typedef struct reader_state {
    const char *p, *end;
    unsigned line;
    bool long_line;
    pyti_config *cfg;
    const char *path;
} reader_state;

static char *read_line(char *str, int num, void *stream)
{
    reader_state *rs = stream;
    if (rs->p >= rs->end)
        return NULL;
    const char *nl = memchr(rs->p, '\n', (size_t)(rs->end - rs->p));
    size_t len = nl ? (size_t)(nl - rs->p) + 1 : (size_t)(rs->end - rs->p);
    if (len >= (size_t)num) {
        rs->long_line = true;
        len = (size_t)num - 1;
    }
    memcpy(str, rs->p, len);
    str[len] = '\0';
    rs->p += nl ? (size_t)(nl - rs->p) + 1 : len;
    rs->line++;
    return str;
}

static int on_value(void *user, const char *section, const char *name, const char *value)
{
    reader_state *rs = user;
    if (rs->long_line)
        return 0;
    char *where = xasprintf("%s:%u", rs->path, rs->line);
    config_set(rs->cfg, section, name, value, where);
    free(where);
    return 1;
}

pyti_config *config_load(const char *path, pyti_error *err)
{
    char *owned = NULL;
    bool optional = false;
    if (!path) {
        char *dir = path_xdg_config_home();
        owned = xasprintf("%s/pyti/pyti.ini", dir);
        free(dir);
        path = owned;
        optional = true;
    }
    pyti_config *cfg = config_new_empty();
    cfg->path = xstrdup(path);
    pyti_buf text = PYTI_BUF_INIT;
    pyti_error rerr;
    pyti_status rc = path_read_file(path, 1 << 20, &text, &rerr);
    if (rc == PYTI_ERR_NOTFOUND && optional) {
        free(cfg->path);
        cfg->path = NULL;
        goto done;
    }
    if (rc != PYTI_OK) {
        pyti_error_set(err, rc == PYTI_ERR_NOTFOUND ? PYTI_ERR_NOTFOUND : PYTI_ERR_USAGE,
                       "configuration: %s", rerr.msg);
        goto fail;
    }
    reader_state rs = {text.data ? text.data : "", (text.data ? text.data : "") + text.len, 0,
                       false, cfg, path};
    int bad = ini_parse_stream(read_line, &rs, on_value, &rs);
    if (rs.long_line) {
        pyti_error_set(err, PYTI_ERR_USAGE, "%s:%u: line too long", path, rs.line);
        goto fail;
    }
    if (bad != 0) {
        pyti_error_set(err, PYTI_ERR_USAGE, "%s:%d: syntax error (expected [section] or key = value)",
                       path, bad);
        goto fail;
    }
done:
    buf_free(&text);
    free(owned);
    return cfg;
fail:
    buf_free(&text);
    free(owned);
    config_free(cfg);
    return NULL;
}

static const entry *find(const pyti_config *cfg, const char *section, const char *key)
{
    for (size_t i = cfg->len; i-- > 0;)
        if (strcmp(cfg->items[i].section, section) == 0 && strcmp(cfg->items[i].key, key) == 0)
            return &cfg->items[i];
    return NULL;
}

const char *config_get(const pyti_config *cfg, const char *section, const char *key)
{
    const entry *e = cfg ? find(cfg, section, key) : NULL;
    return e ? e->value : NULL;
}

pyti_status config_get_u64(const pyti_config *cfg, const char *section, const char *key,
                           uint64_t *out, pyti_error *err)
{
    const entry *e = cfg ? find(cfg, section, key) : NULL;
    if (!e)
        return PYTI_OK;
    const char *s = e->value;
    if (!isdigit((unsigned char)*s))
        goto bad;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        goto bad;
    unsigned shift = 0;
    switch (*end) {
    case 'K': case 'k': shift = 10; end++; break;
    case 'M': case 'm': shift = 20; end++; break;
    case 'G': case 'g': shift = 30; end++; break;
    case 'T': case 't': shift = 40; end++; break;
    }
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        goto bad;
    *out = (uint64_t)v << shift;
    return PYTI_OK;
bad:
    return pyti_error_set(err, PYTI_ERR_USAGE,
                          "%s: [%s] %s = '%s': expected a non-negative integer (K/M/G suffix allowed)",
                          e->where, section, key, s);
}

pyti_status config_get_bool(const pyti_config *cfg, const char *section, const char *key,
                            bool *out, pyti_error *err)
{
    const entry *e = cfg ? find(cfg, section, key) : NULL;
    if (!e)
        return PYTI_OK;
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(e->value, yes[i]) == 0) {
            *out = true;
            return PYTI_OK;
        }
        if (strcasecmp(e->value, no[i]) == 0) {
            *out = false;
            return PYTI_OK;
        }
    }
    return pyti_error_set(err, PYTI_ERR_USAGE, "%s: [%s] %s = '%s': expected true or false",
                          e->where, section, key, e->value);
}

pyti_status config_get_double(const pyti_config *cfg, const char *section, const char *key,
                              double *out, pyti_error *err)
{
    const entry *e = cfg ? find(cfg, section, key) : NULL;
    if (!e)
        return PYTI_OK;
    char *end;
    errno = 0;
    double v = strtod(e->value, &end);
    if (errno || *end || end == e->value || !isfinite(v) || v < 0)
        return pyti_error_set(err, PYTI_ERR_USAGE, "%s: [%s] %s = '%s': expected a non-negative number",
                              e->where, section, key, e->value);
    *out = v;
    return PYTI_OK;
}

pyti_status config_check_keys(const pyti_config *cfg, const char *section,
                              const char *const *known, pyti_error *err)
{
    if (!cfg)
        return PYTI_OK;
    for (size_t i = 0; i < cfg->len; i++) {
        const entry *e = &cfg->items[i];
        if (strcmp(e->section, section) != 0)
            continue;
        bool ok = false;
        for (size_t k = 0; known[k] && !ok; k++)
            ok = strcmp(known[k], e->key) == 0;
        if (!ok)
            return pyti_error_set(err, PYTI_ERR_USAGE, "%s: unknown setting '%s' in [%s]", e->where,
                                  e->key, section);
    }
    return PYTI_OK;
}

const char *config_path(const pyti_config *cfg)
{
    return cfg ? cfg->path : NULL;
}
