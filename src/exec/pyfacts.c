/* pyfacts.c — the interpreter's reported facts: validation, conversion for
 * the resolver, and their host-side cache (see pyfacts.h). */
#include "exec/pyfacts.h"
#include "common/hash.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/xalloc.h"

#include <string.h>
#include <sys/stat.h>

#define FACT_STR_MAX 4096
#define FACT_TAGS_MAX 10000
#define FACT_INSTALLED_MAX 10000
#define FACT_REQS_MAX 1000
#define CACHE_FORMAT 1

/* A string member of at most FACT_STR_MAX bytes without NUL, or NULL. */
static const char *fact_str(const json_t *obj, const char *key, const char *where,
                            bool required, pyti_error *err, bool *bad)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required) {
            pyti_error_set(err, PYTI_ERR_INPUT, "interpreter facts: %s%s is missing", where, key);
            *bad = true;
        }
        return NULL;
    }
    if (!json_is_string(v) || json_string_length(v) > FACT_STR_MAX ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        pyti_error_set(err, PYTI_ERR_INPUT,
                       "interpreter facts: %s%s is not a string of at most %d bytes", where, key,
                       FACT_STR_MAX);
        *bad = true;
        return NULL;
    }
    return json_string_value(v);
}

/* Appends the strings of array facts[key] (absent: none) to out. */
static pyti_status fact_strv(const json_t *obj, const char *key, const char *where, size_t max,
                             pyti_strv *out, pyti_error *err)
{
    json_t *a = json_object_get(obj, key);
    if (!a || json_is_null(a))
        return PYTI_OK;
    if (!json_is_array(a) || json_array_size(a) > max)
        return pyti_error_set(err, PYTI_ERR_INPUT,
                              "interpreter facts: %s%s is not a list of at most %zu strings",
                              where, key, max);
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        if (!json_is_string(v) || json_string_length(v) > FACT_STR_MAX ||
            strlen(json_string_value(v)) != json_string_length(v))
            return pyti_error_set(err, PYTI_ERR_INPUT,
                                  "interpreter facts: %s%s[%zu] is not a string of at most %d "
                                  "bytes",
                                  where, key, i, FACT_STR_MAX);
        strv_push(out, json_string_value(v));
    }
    return PYTI_OK;
}

pyti_status pyfacts_target(const json_t *facts, pyti_target *t, pyti_error *err)
{
    memset(t, 0, sizeof *t);
    if (!json_is_object(facts))
        return pyti_error_set(err, PYTI_ERR_INPUT, "interpreter facts: not an object");
    bool bad = false;
    const char *version = fact_str(facts, "version", "", true, err, &bad);
    json_t *m = json_object_get(facts, "markers");
    if (bad)
        return PYTI_ERR_INPUT;
    if (!json_is_object(m))
        return pyti_error_set(err, PYTI_ERR_INPUT, "interpreter facts: markers is not an object");
    pyti_marker_env env = {0};
    static const char *const keys[] = {
        "implementation_name", "implementation_version", "os_name", "platform_machine",
        "platform_release", "platform_system", "platform_version", "python_full_version",
        "platform_python_implementation", "python_version", "sys_platform"};
    const char **dst[] = {
        &env.implementation_name, &env.implementation_version, &env.os_name,
        &env.platform_machine, &env.platform_release, &env.platform_system,
        &env.platform_version, &env.python_full_version, &env.platform_python_implementation,
        &env.python_version, &env.sys_platform};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        *dst[i] = fact_str(m, keys[i], "markers.", true, err, &bad);
        if (bad)
            return PYTI_ERR_INPUT;
    }
    pyti_strv tags = PYTI_STRV_INIT;
    pyti_status st = fact_strv(facts, "tags", "", FACT_TAGS_MAX, &tags, err);
    for (size_t i = 0; st == PYTI_OK && i < tags.len; i++) {
        /* "py-abi-plat": three non-empty parts */
        const char *a = strchr(tags.items[i], '-');
        const char *b = a ? strchr(a + 1, '-') : NULL;
        if (!a || !b || a == tags.items[i] || b == a + 1 || !b[1] || strchr(b + 1, '-'))
            st = pyti_error_set(err, PYTI_ERR_INPUT, "interpreter facts: tags[%zu] '%s' is not "
                                "a py-abi-platform tag", i, tags.items[i]);
    }
    if (st == PYTI_OK)
        st = target_init_reported(t, version, &env, &tags, err);
    strv_free(&tags);
    return st;
}

void pyfacts_installed_free(pyti_dist_metadata *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dist_metadata_free(&v[i]);
    free(v);
}

pyti_status pyfacts_installed(const json_t *facts, pyti_dist_metadata **out, size_t *n,
                              pyti_error *err)
{
    *out = NULL;
    *n = 0;
    json_t *a = json_object_get(facts, "installed");
    if (!a || json_is_null(a))
        return PYTI_OK;
    if (!json_is_array(a) || json_array_size(a) > FACT_INSTALLED_MAX)
        return pyti_error_set(err, PYTI_ERR_INPUT, "interpreter facts: installed is not a list "
                              "of at most %d distributions", FACT_INSTALLED_MAX);
    pyti_dist_metadata *v = xcalloc(json_array_size(a) + 1, sizeof *v);
    size_t i;
    json_t *d;
    json_array_foreach(a, i, d) {
        char where[48];
        snprintf(where, sizeof where, "installed[%zu].", i);
        bool bad = false;
        if (!json_is_object(d)) {
            pyfacts_installed_free(v, i);
            return pyti_error_set(err, PYTI_ERR_INPUT, "interpreter facts: installed[%zu] is "
                                  "not an object", i);
        }
        const char *name = fact_str(d, "name", where, true, err, &bad);
        const char *version = bad ? NULL : fact_str(d, "version", where, true, err, &bad);
        pyti_dist_metadata *m = &v[i];
        if (!bad) {
            m->name = xstrdup(name);
            m->version = xstrdup(version);
            m->source = xstrdup("installed");
        }
        if (bad ||
            fact_strv(d, "requires_dist", where, FACT_REQS_MAX, &m->requires_dist, err) ||
            fact_strv(d, "provides_extra", where, FACT_REQS_MAX, &m->provides_extra, err)) {
            pyfacts_installed_free(v, i + 1);
            return PYTI_ERR_INPUT;
        }
    }
    *out = v;
    *n = json_array_size(a);
    return PYTI_OK;
}

/* ---- the cache ---- */

static char *cache_path(const char *python)
{
    char hex[PYTI_SHA256_HEX_LEN + 1];
    hash_sha256_hex(python, strlen(python), hex);
    char *home = path_xdg_cache_home();
    char *p = xasprintf("%s/pyti/interpreters/%s.json", home, hex);
    free(home);
    return p;
}

/* What must not have changed for cached facts of path to hold. */
static json_t *stat_key(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return NULL;
    json_t *k = json_object();
    json_set_text(k, "path", path);
    json_object_set_new(k, "dev", json_integer((json_int_t)st.st_dev));
    json_object_set_new(k, "ino", json_integer((json_int_t)st.st_ino));
    json_object_set_new(k, "size", json_integer((json_int_t)st.st_size));
    json_object_set_new(k, "mtime_ns", json_integer((json_int_t)st.st_mtim.tv_sec * 1000000000 +
                                                    st.st_mtim.tv_nsec));
    return k;
}

static bool key_holds(const json_t *k)
{
    const char *path = json_get_str(k, "path");
    if (!path)
        return false;
    json_t *now = stat_key(path);
    bool same = now && json_equal(now, (json_t *)k);
    json_decref(now);
    return same;
}

json_t *pyfacts_cache_load(const char *python)
{
    char *p = cache_path(python);
    json_t *c = json_read_file(p, 64u << 20, NULL);
    free(p);
    if (!c)
        return NULL;
    json_t *facts = json_object_get(c, "facts");
    json_t *keys = json_object_get(c, "keys");
    bool ok = json_integer_value(json_object_get(c, "format")) == CACHE_FORMAT &&
              json_is_object(facts) && json_is_array(keys) && json_array_size(keys) > 0;
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        if (!ok)
            break;
        ok = key_holds(k);
    }
    if (ok) {
        const char *py = json_get_str(json_array_get(keys, 0), "path");
        ok = py && strcmp(py, python) == 0;
    }
    json_t *out = ok ? json_incref(facts) : NULL;
    json_decref(c);
    return out;
}

void pyfacts_cache_store(const char *python, const json_t *facts)
{
    json_t *keys = json_array();
    json_t *k = stat_key(python);
    if (!k) {
        json_decref(keys);
        return;
    }
    json_array_append_new(keys, k);
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(facts, "site_dirs"), i, d) {
        if (!json_is_string(d) || !(k = stat_key(json_string_value(d)))) {
            json_decref(keys); /* a site dir we cannot watch: do not cache */
            return;
        }
        json_array_append_new(keys, k);
    }
    json_t *c = json_object();
    json_object_set_new(c, "format", json_integer(CACHE_FORMAT));
    json_object_set_new(c, "keys", keys);
    json_t *f = json_object();
    static const char *const keep[] = {"version", "implementation", "markers", "tags",
                                       "installed", "site_dirs", NULL};
    for (size_t n = 0; keep[n]; n++) {
        json_t *v = json_object_get(facts, keep[n]);
        if (v)
            json_object_set(f, keep[n], v);
    }
    json_object_set_new(c, "facts", f);
    char *p = cache_path(python);
    char *dir = path_dirname(p);
    pyti_error err;
    if (path_mkdirs(dir, 0700, &err) != PYTI_OK || json_write_file(c, p, &err) != PYTI_OK)
        log_info("not caching the facts of %s: %s", python, err.msg);
    free(dir);
    free(p);
    json_decref(c);
}
