/* tags.c — the target interpreter: PEP 425 tags in the order of
 * packaging.tags.sys_tags (23.0; pip 23.0.1's get_supported gives the same
 * list), the priority map used to rank wheels, and the marker environment. */
#include "index/tags.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <gnu/libc-version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

/* Open-addressing string -> index map; the table holds pointers into the
 * target's tags vector. */
struct pyti_tagmap {
    size_t cap;          /* power of two */
    const char **keys;
    long *vals;
};

static unsigned long hash_str(const char *s)
{
    unsigned long h = 1469598103934665603UL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)tolower((unsigned char)*s);
        h *= 1099511628211UL;
    }
    return h;
}

static void tagmap_free(pyti_tagmap *m)
{
    if (!m)
        return;
    free(m->keys);
    free(m->vals);
    free(m);
}

void target_index_tags(pyti_target *t)
{
    tagmap_free(t->map);
    pyti_tagmap *m = xcalloc(1, sizeof *m);
    m->cap = 64;
    while (m->cap < t->tags.len * 2 + 1)
        m->cap *= 2;
    m->keys = xcalloc(m->cap, sizeof *m->keys);
    m->vals = xcalloc(m->cap, sizeof *m->vals);
    for (size_t i = 0; i < t->tags.len; i++) {
        /* Lowercase in place: packaging's Tag lowercases its parts. */
        for (char *p = t->tags.items[i]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        size_t j = hash_str(t->tags.items[i]) & (m->cap - 1);
        while (m->keys[j] && strcmp(m->keys[j], t->tags.items[i]) != 0)
            j = (j + 1) & (m->cap - 1);
        if (!m->keys[j]) { /* the first occurrence keeps its priority */
            m->keys[j] = t->tags.items[i];
            m->vals[j] = (long)i;
        }
    }
    t->map = m;
}

long target_tag_priority(const pyti_target *t, const char *tag)
{
    const pyti_tagmap *m = t->map;
    if (!m || !tag)
        return -1;
    size_t j = hash_str(tag) & (m->cap - 1);
    while (m->keys[j]) {
        if (strcasecmp(m->keys[j], tag) == 0)
            return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return -1;
}

long target_wheel_priority(const pyti_target *t, const pyti_dist_filename *f)
{
    if (f->kind != PYTI_DIST_WHEEL)
        return -1;
    long best = -1;
    char tag[512];
    for (size_t i = 0; i < f->python_tags.len; i++)
        for (size_t j = 0; j < f->abi_tags.len; j++)
            for (size_t k = 0; k < f->platform_tags.len; k++) {
                int n = snprintf(tag, sizeof tag, "%s-%s-%s", f->python_tags.items[i],
                                 f->abi_tags.items[j], f->platform_tags.items[k]);
                if (n < 0 || (size_t)n >= sizeof tag)
                    continue;
                long p = target_tag_priority(t, tag);
                if (p >= 0 && (best < 0 || p < best))
                    best = p;
            }
    return best;
}

size_t target_tag_count(const pyti_target *t) { return t->tags.len; }

void target_python_full(const pyti_target *t, char *buf, size_t size)
{
    snprintf(buf, size, "%u.%u.%u", t->py_major, t->py_minor, t->py_micro);
}

/* packaging.tags._version_nodot */
static char *nodot(unsigned major, unsigned minor)
{
    return xasprintf("%u%u", major, minor);
}

static bool manylinux_arch(const char *arch)
{
    static const char *const ok[] = {"x86_64", "i686", "aarch64", "ppc64", "ppc64le",
                                     "s390x", "armv7l", NULL};
    for (size_t i = 0; ok[i]; i++)
        if (strcmp(arch, ok[i]) == 0)
            return true;
    return false;
}

void target_platforms(const pyti_target *t, pyti_strv *out)
{
    const char *arch = t->machine[0] ? t->machine : "x86_64";
    if (t->libc == PYTI_LIBC_GLIBC && manylinux_arch(arch) && t->libc_major == 2) {
        /* _manylinux.platform_tags: from the running glibc down to 2.17
         * (2.5 on x86 and i686), legacy names right after their version. */
        int min_minor = (strcmp(arch, "x86_64") == 0 || strcmp(arch, "i686") == 0) ? 4 : 16;
        for (int minor = (int)t->libc_minor; minor > min_minor; minor--) {
            strv_push_owned(out, xasprintf("manylinux_2_%d_%s", minor, arch));
            const char *legacy = minor == 17 ? "manylinux2014"
                                 : minor == 12 ? "manylinux2010"
                                 : minor == 5  ? "manylinux1"
                                               : NULL;
            if (legacy)
                strv_push_owned(out, xasprintf("%s_%s", legacy, arch));
        }
    } else if (t->libc == PYTI_LIBC_MUSL && t->libc_major >= 1) {
        for (int minor = (int)t->libc_minor; minor >= 0; minor--)
            strv_push_owned(out, xasprintf("musllinux_%u_%d_%s", t->libc_major, minor, arch));
    }
    strv_push_owned(out, xasprintf("linux_%s", arch));
}

/* packaging.tags._py_interpreter_range */
static void py_range(const pyti_target *t, pyti_strv *out)
{
    char *v = nodot(t->py_major, t->py_minor);
    strv_push_owned(out, xasprintf("py%s", v));
    free(v);
    strv_push_owned(out, xasprintf("py%u", t->py_major));
    for (int minor = (int)t->py_minor - 1; minor >= 0; minor--) {
        v = nodot(t->py_major, (unsigned)minor);
        strv_push_owned(out, xasprintf("py%s", v));
        free(v);
    }
}

void target_compute_tags(pyti_target *t)
{
    strv_free(&t->tags);
    pyti_strv plats = PYTI_STRV_INIT, pys = PYTI_STRV_INIT;
    target_platforms(t, &plats);
    char *ver = nodot(t->py_major, t->py_minor);
    bool cpython = strcmp(t->interpreter, "cp") == 0 || !t->interpreter[0];
    char *interp = xasprintf("%s%s", cpython ? "cp" : t->interpreter, ver);

    if (cpython) {
        /* cpython_tags: the interpreter's own ABI, abi3, none, then abi3
         * of every older 3.x down to 3.2. */
        pyti_strv abis = PYTI_STRV_INIT;
        if (t->abis.len)
            strv_extend(&abis, &t->abis);
        else if (t->py_major == 3 && t->py_minor < 8)
            strv_push_owned(&abis, xasprintf("cp%sm", ver));
        else
            strv_push_owned(&abis, xasprintf("cp%s", ver));
        for (size_t a = 0; a < abis.len; a++) {
            if (strcmp(abis.items[a], "abi3") == 0 || strcmp(abis.items[a], "none") == 0)
                continue;
            for (size_t p = 0; p < plats.len; p++)
                strv_push_owned(&t->tags, xasprintf("%s-%s-%s", interp, abis.items[a],
                                                    plats.items[p]));
        }
        strv_free(&abis);
        bool abi3 = t->py_major == 3 && t->py_minor >= 2;
        if (abi3)
            for (size_t p = 0; p < plats.len; p++)
                strv_push_owned(&t->tags, xasprintf("%s-abi3-%s", interp, plats.items[p]));
        for (size_t p = 0; p < plats.len; p++)
            strv_push_owned(&t->tags, xasprintf("%s-none-%s", interp, plats.items[p]));
        if (abi3)
            for (int minor = (int)t->py_minor - 1; minor > 1; minor--) {
                char *v = nodot(t->py_major, (unsigned)minor);
                for (size_t p = 0; p < plats.len; p++)
                    strv_push_owned(&t->tags, xasprintf("cp%s-abi3-%s", v, plats.items[p]));
                free(v);
            }
    } else {
        /* generic_tags: the given ABIs, then "none". */
        pyti_strv abis = PYTI_STRV_INIT;
        strv_extend(&abis, &t->abis);
        if (!strv_contains(&abis, "none"))
            strv_push(&abis, "none");
        for (size_t a = 0; a < abis.len; a++)
            for (size_t p = 0; p < plats.len; p++)
                strv_push_owned(&t->tags, xasprintf("%s-%s-%s", interp, abis.items[a],
                                                    plats.items[p]));
        strv_free(&abis);
    }

    /* compatible_tags */
    py_range(t, &pys);
    for (size_t v = 0; v < pys.len; v++)
        for (size_t p = 0; p < plats.len; p++)
            strv_push_owned(&t->tags, xasprintf("%s-none-%s", pys.items[v], plats.items[p]));
    if (cpython)
        strv_push_owned(&t->tags, xasprintf("%s-none-any", interp));
    else if (strcmp(t->interpreter, "pp") == 0)
        strv_push_owned(&t->tags, xasprintf("pp%u-none-any", t->py_major));
    for (size_t v = 0; v < pys.len; v++)
        strv_push_owned(&t->tags, xasprintf("%s-none-any", pys.items[v]));

    strv_free(&pys);
    strv_free(&plats);
    free(ver);
    free(interp);
    target_index_tags(t);
}

static const char *keep(pyti_target *t, size_t slot, char *s)
{
    free(t->env_store[slot]);
    t->env_store[slot] = s;
    return s;
}

void target_update_env(pyti_target *t)
{
    struct utsname uts;
    bool have_uts = uname(&uts) == 0;
    bool cpython = strcmp(t->interpreter, "cp") == 0 || !t->interpreter[0];
    bool pypy = strcmp(t->interpreter, "pp") == 0;
    memset(&t->env, 0, sizeof t->env);
    char full[64];
    target_python_full(t, full, sizeof full);
    t->env.implementation_name = cpython ? "cpython" : pypy ? "pypy" : t->interpreter;
    t->env.platform_python_implementation = cpython ? "CPython" : pypy ? "PyPy" : t->interpreter;
    t->env.os_name = "posix";
    t->env.platform_system = "Linux";
    t->env.sys_platform = "linux";
    t->env.platform_machine = keep(t, 0, xstrdup(t->machine[0] ? t->machine : "x86_64"));
    t->env.platform_release = keep(t, 1, xstrdup(have_uts ? uts.release : ""));
    t->env.platform_version = keep(t, 2, xstrdup(have_uts ? uts.version : ""));
    t->env.python_full_version = keep(t, 3, xstrdup(full));
    t->env.implementation_version = keep(t, 4, xstrdup(full));
    t->env.python_version = keep(t, 5, xasprintf("%u.%u", t->py_major, t->py_minor));
}

static bool parse_uint(const char **p, unsigned *out)
{
    if (!isdigit((unsigned char)**p))
        return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(*p, &end, 10);
    if (errno || v > 1000 || end - *p > 4)
        return false;
    *out = (unsigned)v;
    *p = end;
    return true;
}

pyti_status target_set_python(pyti_target *t, const char *version, pyti_error *err)
{
    unsigned major = 0, minor = 0, micro = 0;
    const char *p = version ? version : "";
    if (!parse_uint(&p, &major) || *p++ != '.' || !parse_uint(&p, &minor) ||
        (*p == '.' && (p++, !parse_uint(&p, &micro))) || *p || major < 3)
        return pyti_error_set(err, PYTI_ERR_USAGE,
                              "invalid Python version '%s': expected X.Y or X.Y.Z (3.0 or newer)",
                              version ? version : "");
    t->py_major = major;
    t->py_minor = minor;
    t->py_micro = micro;
    target_compute_tags(t);
    target_update_env(t);
    return PYTI_OK;
}

pyti_status target_init_host(pyti_target *t, const char *python_version, pyti_error *err)
{
    memset(t, 0, sizeof *t);
    snprintf(t->interpreter, sizeof t->interpreter, "cp");
    struct utsname uts;
    if (uname(&uts) == 0)
        snprintf(t->machine, sizeof t->machine, "%s", uts.machine);
    else
        snprintf(t->machine, sizeof t->machine, "x86_64");
    t->libc = PYTI_LIBC_GLIBC;
    const char *gv = gnu_get_libc_version();
    unsigned maj = 0, min = 0;
    if (gv && sscanf(gv, "%u.%u", &maj, &min) == 2) {
        t->libc_major = maj;
        t->libc_minor = min;
    } else {
        t->libc = PYTI_LIBC_NONE;
    }
    pyti_status st = target_set_python(t, python_version ? python_version : "3.11.2", err);
    if (st != PYTI_OK)
        target_free(t);
    return st;
}

void target_free(pyti_target *t)
{
    strv_free(&t->abis);
    strv_free(&t->tags);
    for (size_t i = 0; i < sizeof t->env_store / sizeof t->env_store[0]; i++) {
        free(t->env_store[i]);
        t->env_store[i] = NULL;
    }
    tagmap_free(t->map);
    t->map = NULL;
}

pyti_status target_init_reported(pyti_target *t, const char *version, const pyti_marker_env *env,
                                 const pyti_strv *tags, pyti_error *err)
{
    unsigned v[3] = {0, 0, 0};
    const char *p = version ? version : "";
    int parts = 0;
    while (parts < 3 && parse_uint(&p, &v[parts])) {
        parts++;
        if (*p != '.')
            break;
        p++;
    }
    if (parts < 2)
        return pyti_error_set(err, PYTI_ERR_INPUT,
                              "the interpreter reported version '%s', not X.Y.Z", version ? version : "");
    char buf[48];
    snprintf(buf, sizeof buf, "%u.%u.%u", v[0], v[1], v[2]);
    const char *const fields[] = {
        env->implementation_name, env->implementation_version, env->os_name,
        env->platform_machine, env->platform_release, env->platform_system,
        env->platform_version, env->python_full_version,
        env->platform_python_implementation, env->python_version, env->sys_platform};
    static const char *const names[] = {
        "implementation_name", "implementation_version", "os_name", "platform_machine",
        "platform_release", "platform_system", "platform_version", "python_full_version",
        "platform_python_implementation", "python_version", "sys_platform"};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (!fields[i])
            return pyti_error_set(err, PYTI_ERR_INPUT,
                                  "the interpreter reported no marker value '%s'", names[i]);
    pyti_status st = target_init_host(t, buf, err);
    if (st != PYTI_OK)
        return st;
    snprintf(t->machine, sizeof t->machine, "%s", env->platform_machine);
    if (strcmp(env->implementation_name, "cpython") == 0)
        snprintf(t->interpreter, sizeof t->interpreter, "cp");
    else if (strcmp(env->implementation_name, "pypy") == 0)
        snprintf(t->interpreter, sizeof t->interpreter, "pp");
    else
        snprintf(t->interpreter, sizeof t->interpreter, "%.15s", env->implementation_name);
    if (tags && tags->len) {
        strv_free(&t->tags);
        for (size_t i = 0; i < tags->len; i++)
            strv_push(&t->tags, tags->items[i]);
        target_index_tags(t);
    } else {
        target_compute_tags(t);
    }
    memset(&t->env, 0, sizeof t->env);
    const char **dst[] = {
        &t->env.implementation_name, &t->env.implementation_version, &t->env.os_name,
        &t->env.platform_machine, &t->env.platform_release, &t->env.platform_system,
        &t->env.platform_version, &t->env.python_full_version,
        &t->env.platform_python_implementation, &t->env.python_version, &t->env.sys_platform};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        *dst[i] = keep(t, i, xstrdup(fields[i]));
    return PYTI_OK;
}
