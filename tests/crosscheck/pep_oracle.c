/* pep_oracle.c — answers PEP 440/508/503 questions with pyti's parsers for
 * the cross-check against python3-packaging (test_pep_crosscheck.py).
 *
 * Reads one JSON object per line on stdin, writes one JSON object per line
 * on stdout, in the same order:
 *   {"op":"version","s":S}            -> {"ok":true,"str":..,"public":..,"base":..,
 *                                         "epoch":..,"release":[..],"pre":b,"post":b,
 *                                         "dev":b,"local":b} | {"ok":false}
 *   {"op":"compare","a":A,"b":B}       -> {"cmp":-1|0|1}
 *   {"op":"spec","s":S,"v":V?,"pre":null|true|false}
 *                                      -> {"ok":true,"str":..,"len":n,
 *                                          "contains":true|false|"error"}
 *   {"op":"marker","s":S,"env":{..}?}  -> {"ok":true,"str":..,"eval":true|false|"error"}
 *   {"op":"req","s":S}                 -> {"ok":true,"str":..,"name":..,"extras":[..],
 *                                          "spec":..,"url":..|null,"marker":..|null}
 *   {"op":"name","s":S}                -> {"norm":..,"valid":b}
 *   {"op":"dist","s":S}                -> {"ok":true,"kind":..,"name":..,"version":..,
 *                                          "build":..|null,"python":[..],"abi":[..],
 *                                          "platform":[..]}
 * A failed parse adds "error" with pyti's message. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/strv.h"
#include "pkg/marker.h"
#include "pkg/name.h"
#include "pkg/requirement.h"
#include "pkg/specifier.h"
#include "pkg/version.h"

static json_t *jstr(const char *s)
{
    return json_text(s); /* NULL gives null */
}

static json_t *jstrv(const pyti_strv *v)
{
    json_t *a = json_array();
    for (size_t i = 0; i < v->len; i++)
        json_array_append_new(a, jstr(v->items[i]));
    return a;
}

static json_t *jown(char *s)
{
    json_t *j = jstr(s);
    free(s);
    return j;
}

static json_t *op_version(const char *s)
{
    json_t *o = json_object();
    pyti_error err;
    pyti_version *v = version_parse(s, &err);
    json_object_set_new(o, "ok", json_boolean(v != NULL));
    if (!v) {
        json_object_set_new(o, "error", jstr(err.msg));
        return o;
    }
    json_object_set_new(o, "str", jown(version_to_string(v)));
    json_object_set_new(o, "public", jown(version_public(v)));
    json_object_set_new(o, "base", jown(version_base(v)));
    json_object_set_new(o, "epoch", jstr(version_epoch(v)));
    json_t *rel = json_array();
    for (unsigned i = 0; i < version_release_len(v); i++)
        json_array_append_new(rel, jstr(version_release_at(v, i)));
    json_object_set_new(o, "release", rel);
    json_object_set_new(o, "pre", json_boolean(version_is_prerelease(v)));
    json_object_set_new(o, "post", json_boolean(version_is_postrelease(v)));
    json_object_set_new(o, "dev", json_boolean(version_is_devrelease(v)));
    json_object_set_new(o, "local", json_boolean(version_has_local(v)));
    version_free(v);
    return o;
}

static json_t *op_compare(const char *a, const char *b)
{
    json_t *o = json_object();
    pyti_version *va = version_parse(a, NULL), *vb = version_parse(b, NULL);
    if (va && vb) {
        int c = version_compare(va, vb);
        json_object_set_new(o, "cmp", json_integer((c > 0) - (c < 0)));
    } else {
        json_object_set_new(o, "cmp", json_null());
    }
    version_free(va);
    version_free(vb);
    return o;
}

static json_t *op_spec(const char *s, const char *vs, json_t *pre)
{
    json_t *o = json_object();
    pyti_error err;
    pyti_specset *set = specset_parse(s, &err);
    json_object_set_new(o, "ok", json_boolean(set != NULL));
    if (!set) {
        json_object_set_new(o, "error", jstr(err.msg));
        return o;
    }
    json_object_set_new(o, "str", jown(specset_to_string(set)));
    json_object_set_new(o, "len", json_integer(specset_len(set)));
    if (vs) {
        int prereleases = json_is_true(pre) ? 1 : json_is_false(pre) ? 0 : -1;
        pyti_version *v = version_parse(vs, NULL);
        if (!v) {
            json_object_set_new(o, "contains", json_string("invalid-version"));
        } else {
            int r = specset_check(set, v, prereleases, &err);
            json_object_set_new(o, "contains", r < 0 ? json_string("error") : json_boolean(r));
            if ((r == 1) != specset_contains(set, v, prereleases))
                json_object_set_new(o, "inconsistent", json_true());
            version_free(v);
        }
    }
    specset_free(set);
    return o;
}

static const char *env_field(json_t *env, const char *key)
{
    json_t *v = json_object_get(env, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *op_marker(const char *s, json_t *env)
{
    json_t *o = json_object();
    pyti_error err;
    pyti_marker *m = marker_parse(s, &err);
    json_object_set_new(o, "ok", json_boolean(m != NULL));
    if (!m) {
        json_object_set_new(o, "error", jstr(err.msg));
        return o;
    }
    json_object_set_new(o, "str", jown(marker_to_string(m)));
    if (json_is_object(env)) {
        pyti_marker_env e = {
            .implementation_name = env_field(env, "implementation_name"),
            .implementation_version = env_field(env, "implementation_version"),
            .os_name = env_field(env, "os_name"),
            .platform_machine = env_field(env, "platform_machine"),
            .platform_release = env_field(env, "platform_release"),
            .platform_system = env_field(env, "platform_system"),
            .platform_version = env_field(env, "platform_version"),
            .python_full_version = env_field(env, "python_full_version"),
            .platform_python_implementation = env_field(env, "platform_python_implementation"),
            .python_version = env_field(env, "python_version"),
            .sys_platform = env_field(env, "sys_platform"),
            .extra = env_field(env, "extra"),
        };
        int r = marker_evaluate(m, &e, &err);
        json_object_set_new(o, "eval", r < 0 ? json_string("error") : json_boolean(r));
        if (r < 0)
            json_object_set_new(o, "eval_error", jstr(err.msg));
    }
    marker_free(m);
    return o;
}

static json_t *op_req(const char *s)
{
    json_t *o = json_object();
    pyti_error err;
    pyti_requirement *r = requirement_parse(s, &err);
    json_object_set_new(o, "ok", json_boolean(r != NULL));
    if (!r) {
        json_object_set_new(o, "error", jstr(err.msg));
        return o;
    }
    json_object_set_new(o, "str", jown(requirement_to_string(r)));
    json_object_set_new(o, "name", jstr(r->name));
    json_object_set_new(o, "normalized", jstr(r->normalized));
    pyti_strv extras = PYTI_STRV_INIT;
    strv_extend(&extras, &r->extras);
    strv_sort(&extras);
    json_object_set_new(o, "extras", jstrv(&extras));
    strv_free(&extras);
    json_object_set_new(o, "spec", jown(specset_to_string(r->spec)));
    json_object_set_new(o, "url", jstr(r->url));
    json_object_set_new(o, "marker", r->marker ? jown(marker_to_string(r->marker)) : json_null());
    requirement_free(r);
    return o;
}

static json_t *op_name(const char *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "norm", jown(name_normalize(s)));
    json_object_set_new(o, "valid", json_boolean(name_is_valid(s)));
    return o;
}

static json_t *op_dist(const char *s)
{
    json_t *o = json_object();
    pyti_error err;
    pyti_dist_filename f;
    pyti_status st = dist_filename_parse(s, &f, &err);
    json_object_set_new(o, "ok", json_boolean(st == PYTI_OK));
    if (st != PYTI_OK) {
        json_object_set_new(o, "error", jstr(err.msg));
        return o;
    }
    json_object_set_new(o, "kind", json_string(f.kind == PYTI_DIST_WHEEL ? "wheel" : "sdist"));
    json_object_set_new(o, "name", jstr(f.name));
    json_object_set_new(o, "version", jstr(f.version));
    json_object_set_new(o, "build", jstr(f.build));
    json_object_set_new(o, "python", jstrv(&f.python_tags));
    json_object_set_new(o, "abi", jstrv(&f.abi_tags));
    json_object_set_new(o, "platform", jstrv(&f.platform_tags));
    json_object_set_new(o, "extension", jstr(f.extension));
    dist_filename_free(&f);
    return o;
}

static const char *get_s(json_t *in, const char *key)
{
    json_t *v = json_object_get(in, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        lineno++;
        json_error_t jerr;
        json_t *in = json_loadb(line, (size_t)len, 0, &jerr);
        if (!in) {
            fprintf(stderr, "pep_oracle: line %ld: %s\n", lineno, jerr.text);
            return 2;
        }
        const char *op = get_s(in, "op");
        const char *s = get_s(in, "s");
        json_t *out;
        if (!op || (!s && strcmp(op, "compare") != 0)) {
            fprintf(stderr, "pep_oracle: line %ld: missing op or s\n", lineno);
            return 2;
        } else if (strcmp(op, "version") == 0) {
            out = op_version(s);
        } else if (strcmp(op, "compare") == 0) {
            out = op_compare(get_s(in, "a"), get_s(in, "b"));
        } else if (strcmp(op, "spec") == 0) {
            out = op_spec(s, get_s(in, "v"), json_object_get(in, "pre"));
        } else if (strcmp(op, "marker") == 0) {
            out = op_marker(s, json_object_get(in, "env"));
        } else if (strcmp(op, "req") == 0) {
            out = op_req(s);
        } else if (strcmp(op, "name") == 0) {
            out = op_name(s);
        } else if (strcmp(op, "dist") == 0) {
            out = op_dist(s);
        } else {
            fprintf(stderr, "pep_oracle: line %ld: unknown op '%s'\n", lineno, op);
            return 2;
        }
        char *text = json_dumps(out, JSON_COMPACT);
        puts(text);
        free(text);
        json_decref(out);
        json_decref(in);
    }
    free(line);
    return 0;
}
