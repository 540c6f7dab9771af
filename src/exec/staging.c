/* staging.c — resolving a job's requirements on the host and staging the
 * chosen wheels into its input (see staging.h). */
#include "exec/staging.h"
#include "common/hash.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "exec/depbuild.h"
#include "exec/pyfacts.h"
#include "exec/sbtask.h"
#include "index/http.h"
#include "index/index.h"
#include "index/localdir.h"
#include "index/url.h"
#include "pkg/name.h"
#include "pkg/requirement.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNREACHABLE_FILE "index-unreachable"

static json_t *strv_to_json(const pyti_strv *v)
{
    json_t *a = json_array();
    for (size_t i = 0; i < v->len; i++)
        json_array_append_new(a, json_text(v->items[i]));
    return a;
}

/* Places the verified file at cached into <input>/deps/<filename>. A
 * file of that name already staged must have the same SHA-256. */
static pyti_status place(const pyti_job *job, const char *cached, const char *filename,
                         const char *sha256, pyti_error *err)
{
    if (strchr(filename, '/') || filename[0] == '.')
        return pyti_error_set(err, PYTI_ERR_INPUT, "refusing to stage a file named '%s'",
                              filename);
    char *dir = path_join(job->input_dir, STAGING_DIR);
    char *dst = path_join(dir, filename);
    pyti_status st = path_mkdirs(dir, 0755, err);
    if (st == PYTI_OK && path_exists(dst)) {
        char have[PYTI_SHA256_HEX_LEN + 1];
        st = hash_sha256_file(dst, have, NULL, err);
        if (st == PYTI_OK && strcmp(have, sha256) != 0)
            st = pyti_error_set(err, PYTI_ERR_INPUT,
                                "two different files named %s were chosen (sha256 %s and %s)",
                                filename, have, sha256);
    } else if (st == PYTI_OK) {
        /* A copy, not a hard link: the cache's files are private (0600). */
        st = job_copy_file(cached, dst, err);
        if (st != PYTI_OK)
            unlink(dst);
    }
    free(dst);
    free(dir);
    return st;
}

/* Requires-Dist and Provides-Extra of a staged wheel, for later rounds. */
static void add_wheel_metadata(json_t *entry, const char *path, const char *filename)
{
    char *text = NULL;
    size_t len = 0;
    pyti_dist_metadata m = {0};
    if (index_read_dist_metadata(path, filename, &text, &len, NULL) == PYTI_OK &&
        index_metadata_from_text(text, len, filename, false, &m, NULL, NULL) == PYTI_OK) {
        json_object_set_new(entry, "requires_dist", strv_to_json(&m.requires_dist));
        json_object_set_new(entry, "provides_extra", strv_to_json(&m.provides_extra));
    }
    dist_metadata_free(&m);
    free(text);
}

/* Stages the wheel built (in the sandbox, or found in the cache) from
 * the sdist pin p; fills e, or *ok false with rec.reason. */
static void stage_built(const pyti_job *job, pyti_index *ix, pyti_depbuild *db,
                        const pyti_pin *p, json_t *e, json_t *rec, bool *ok)
{
    const pyti_dist_file *f = &p->file;
    pyti_error err;
    char sdist_sha[PYTI_SHA256_HEX_LEN + 1] = "", wheel_sha[PYTI_SHA256_HEX_LEN + 1] = "";
    char *sdist = NULL, *wheel = NULL;
    bool cached = false;
    pyti_status st = index_download(ix, f, &sdist, sdist_sha, &err);
    if (st == PYTI_OK)
        st = depbuild_wheel(db, p->display_name, f, sdist, sdist_sha, &wheel, &cached, &err);
    if (st == PYTI_OK)
        st = hash_sha256_file(wheel, wheel_sha, NULL, &err);
    if (st == PYTI_OK)
        st = place(job, wheel, path_basename(wheel), wheel_sha, &err);
    if (st != PYTI_OK) {
        char *why = xasprintf("cannot stage %s %s (only available as the sdist %s): %s",
                              p->display_name, p->version, f->filename, err.msg);
        json_object_set_new(rec, "reason", json_text(why));
        json_set_text(rec, "build_failed", p->display_name);
        free(why);
        *ok = false;
    } else {
        const char *name = path_basename(wheel);
        char *inside = xasprintf(SB_INPUT "/" STAGING_DIR "/%s", name);
        char *host = xasprintf("%s/" STAGING_DIR "/%s", job->input_dir, name);
        json_set_text(e, "filename", name);
        json_set_text(e, "sha256", wheel_sha);
        json_set_text(e, "index", f->index_url);
        json_set_text(e, "url", f->url);
        json_set_text(e, "path", inside);
        json_t *from = json_object();
        json_set_text(from, "sdist", f->filename);
        json_set_text(from, "sha256", sdist_sha);
        json_object_set_new(from, "cached", json_boolean(cached));
        json_object_set_new(e, "built_from", from);
        add_wheel_metadata(e, host, name);
        free(inside);
        free(host);
    }
    free(sdist);
    free(wheel);
}

static const pyti_dist_metadata *find_installed(const pyti_stage_spec *spec, const char *name)
{
    for (size_t i = 0; i < spec->ninstalled; i++) {
        if (!spec->installed[i].name)
            continue;
        char *n = name_normalize(spec->installed[i].name);
        bool same = strcmp(n, name) == 0;
        free(n);
        if (same)
            return &spec->installed[i];
    }
    return NULL;
}

/* Stages every pin of a resolution; *ok false with rec.reason when one
 * cannot be. */
static void stage_pins(const pyti_job *job, const pyti_stage_spec *spec, pyti_index *ix,
                       pyti_localdir *wh, pyti_depbuild *db, const pyti_resolution *res,
                       json_t *rec, bool *ok)
{
    json_t *staged = json_array(), *installed = json_array();
    json_object_set_new(rec, "staged", staged);
    json_object_set_new(rec, "installed", installed);
    for (size_t i = 0; i < res->npins && *ok; i++) {
        const pyti_pin *p = &res->pins[i];
        json_t *e = json_object();
        json_set_text(e, "name", p->display_name);
        json_set_text(e, "version", p->version);
        json_object_set_new(e, "required_by", strv_to_json(&p->required_by));
        if (p->extras.len)
            json_object_set_new(e, "extras", strv_to_json(&p->extras));
        if (p->installed) {
            const pyti_dist_metadata *m = find_installed(spec, p->name);
            if (m) {
                json_object_set_new(e, "requires_dist", strv_to_json(&m->requires_dist));
                json_object_set_new(e, "provides_extra", strv_to_json(&m->provides_extra));
            }
            json_array_append_new(installed, e);
            continue;
        }
        const pyti_dist_file *f = &p->file;
        if (!str_endswith(f->filename, ".whl") && db) {
            stage_built(job, ix, db, p, e, rec, ok);
            if (*ok)
                json_array_append_new(staged, e);
            else
                json_decref(e);
            continue;
        }
        if (!str_endswith(f->filename, ".whl")) {
            char *why = xasprintf("%s %s is only available as %s, an sdist: pyti does not build "
                                  "dependencies (only the distribution under test)",
                                  p->display_name, p->version, f->filename);
            json_object_set_new(rec, "reason", json_text(why));
            free(why);
            json_decref(e);
            *ok = false;
            break;
        }
        pyti_error err;
        const char *local = wh ? localdir_file_path(wh, f) : NULL;
        char sha[PYTI_SHA256_HEX_LEN + 1] = "";
        char *inside = NULL;
        char *host = NULL;
        pyti_status st = PYTI_OK;
        if (local) {
            /* The wheelhouse is mounted read-only in the sandbox. */
            st = hash_sha256_file(local, sha, NULL, &err);
            inside = xasprintf(SB_WHEELHOUSE "/%s", f->filename);
            host = xstrdup(local);
        } else {
            char *cached = NULL;
            st = index_download(ix, f, &cached, sha, &err);
            if (st == PYTI_OK)
                st = place(job, cached, f->filename, sha, &err);
            free(cached);
            inside = xasprintf(SB_INPUT "/" STAGING_DIR "/%s", f->filename);
            host = xasprintf("%s/" STAGING_DIR "/%s", job->input_dir, f->filename);
        }
        if (st != PYTI_OK) {
            char *why = xasprintf("cannot stage %s %s: %s", p->display_name, p->version, err.msg);
            json_object_set_new(rec, "reason", json_text(why));
            free(why);
            json_decref(e);
            free(inside);
            free(host);
            *ok = false;
            break;
        }
        json_set_text(e, "filename", f->filename);
        json_set_text(e, "sha256", sha);
        json_set_text(e, "index", f->index_url);
        json_set_text(e, "url", f->url);
        json_set_text(e, "path", inside);
        add_wheel_metadata(e, host, f->filename);
        json_array_append_new(staged, e);
        free(inside);
        free(host);
    }
}

/* Replaces index passwords in every string of v (reports are shared;
 * credentials in an index URL must not travel with them). */
static void redact(json_t *v, const pyti_strv *urls)
{
    if (json_is_string(v)) {
        for (size_t i = 0; i < urls->len; i++) {
            char *r = url_redact_in(json_string_value(v), urls->items[i]);
            if (strcmp(r, json_string_value(v)) != 0)
                json_string_set(v, r);
            free(r);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) redact(e, urls);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) redact(e, urls);
    }
}

/* One resolution over provider; the record gets outcome and the rest. */
static pyti_status resolve_with(const pyti_provider *prov, const pyti_target *t,
                                const pyti_stage_spec *spec, pyti_resolution *res,
                                pyti_error *err)
{
    pyti_resolve_options ro = {.installed = spec->installed, .ninstalled = spec->ninstalled};
    return resolve_requirements(prov, t, (const char *const *)spec->reqs->items,
                                spec->reqs->len, &ro, res, err);
}

json_t *staging_run(const pyti_job *job, const pyti_stage_spec *spec, bool *ok)
{
    json_t *rec = json_object();
    *ok = false;
    json_object_set_new(rec, "requirements", strv_to_json(spec->reqs));
    json_object_set_new(rec, "indexes", strv_to_json(&job->index_urls));
    json_object_set_new(rec, "staged", json_array());
    json_object_set_new(rec, "installed", json_array());
    if (!spec->reqs->len) {
        json_set_text(rec, "outcome", "resolved");
        *ok = true;
        redact(rec, &job->index_urls);
        return rec;
    }
    pyti_error err;
    /* A requirement that does not parse is the project's mistake (pip
     * refuses it too); a direct reference is pyti's limitation. Both are
     * told apart here, before any index is asked. */
    for (size_t i = 0; i < spec->reqs->len; i++) {
        pyti_requirement *r = requirement_parse(spec->reqs->items[i], &err);
        const char *why = NULL;
        char *msg = NULL;
        if (!r) {
            why = "invalid_requirement";
            msg = xasprintf("invalid requirement '%s' among the %s: %s", spec->reqs->items[i],
                            spec->what, err.msg);
        } else if (r->url) {
            why = "direct_reference";
            msg = xasprintf("the %s name a direct reference ('%s'): pyti stages requirements "
                            "from indexes only", spec->what, spec->reqs->items[i]);
        }
        requirement_free(r);
        if (why) {
            json_set_text(rec, why, spec->reqs->items[i]);
            json_object_set_new(rec, "reason", json_text(msg));
            free(msg);
            redact(rec, &job->index_urls);
            return rec;
        }
    }
    pyti_target t;
    if (pyfacts_target(spec->venv, &t, &err) != PYTI_OK) {
        json_object_set_new(rec, "reason", json_text(err.msg));
        redact(rec, &job->index_urls);
        return rec;
    }
    pyti_http_options ho;
    http_options_default(&ho);
    char *marker = path_join(job->job_dir, UNREACHABLE_FILE);
    pyti_buf unreachable = PYTI_BUF_INIT;
    bool was_unreachable = path_read_file(marker, 4096, &unreachable, NULL) == PYTI_OK;
    pyti_http *http = NULL;
    pyti_index *ix = NULL;
    pyti_localdir *wh = NULL;
    pyti_provider_pool *pool = NULL;
    pyti_depbuild *db = NULL;
    pyti_resolution res = {0};
    if (index_http_options_from_config(job->config, &ho, &err) != PYTI_OK) {
        json_object_set_new(rec, "reason", json_text(err.msg));
        goto out;
    }
    ho.offline = job->index_offline || was_unreachable;
    if (!(http = http_new(&ho, &err))) {
        json_object_set_new(rec, "reason", json_text(err.msg));
        goto out;
    }
    ix = index_new(http, &job->index_urls);
    if (spec->build_ctx) {
        db = depbuild_new(spec->build_ctx, spec->venv, spec->build_chain);
        index_set_builder(ix, depbuild_metadata, db);
    }
    pyti_provider subs[2];
    index_provider(ix, &subs[0]);
    pyti_provider prov = subs[0];
    const char *source = "indexes";
    if (spec->wheelhouse && job->wheelhouse) {
        wh = localdir_new(job->wheelhouse, "wheelhouse");
        localdir_provider(wh, &subs[1]);
        pool = provider_pool_new(subs, 2);
        provider_pool_provider(pool, &prov);
        source = "indexes+wheelhouse";
    }
    pyti_status st = resolve_with(&prov, &t, spec, &res, &err);
    if (st != PYTI_OK || res.outcome == PYTI_RESOLVE_ERROR) {
        const char *why = res.explanation ? res.explanation : err.msg;
        char *reason = was_unreachable
                           ? xasprintf("%s (an index was unreachable earlier in this job: %.*s)",
                                       why, (int)unreachable.len, unreachable.data)
                           : xstrdup(why);
        if (!was_unreachable && err.code == PYTI_ERR_IO)
            path_write_file_atomic(marker, err.msg, strlen(err.msg), NULL);
        const char *failed_build = depbuild_failed(db);
        if (failed_build)
            json_set_text(rec, "build_failed", failed_build);
        if (wh && !failed_build) {
            /* The offline fallback: the wheelhouse alone. */
            json_object_set_new(rec, "fallback", json_text(reason));
            log_info("%s: the indexes failed (%s); resolving from the wheelhouse alone",
                     spec->what, reason);
            resolution_free(&res);
            source = "wheelhouse";
            pyti_provider lp;
            localdir_provider(wh, &lp);
            st = resolve_with(&lp, &t, spec, &res, &err);
            if (st != PYTI_OK || res.outcome != PYTI_RESOLVED) {
                char *r2 = xasprintf("the indexes failed (%s), and the local wheelhouse cannot "
                                     "satisfy the %s either: %s",
                                     reason, spec->what,
                                     res.explanation ? res.explanation : err.msg);
                free(reason);
                reason = r2;
            } else {
                free(reason);
                reason = NULL;
            }
        }
        if (reason) {
            json_set_text(rec, "outcome", resolve_outcome_name(res.outcome));
            json_object_set_new(rec, "reason", json_text(reason));
            free(reason);
            goto out;
        }
    }
    json_set_text(rec, "source", source);
    json_set_text(rec, "outcome", resolve_outcome_name(res.outcome));
    json_object_set_new(rec, "algorithm", json_string(res.fallback ? "pubgrub" : "pip"));
    if (res.outcome != PYTI_RESOLVED) {
        json_set_text(rec, "explanation", res.explanation);
        json_object_set_new(rec, "conflicts", strv_to_json(&res.conflicts));
        char *reason = xasprintf("the %s cannot be satisfied from %s: %s", spec->what,
                                 strcmp(source, "wheelhouse") == 0 ? "the local wheelhouse"
                                                                    : "the configured indexes",
                                 res.explanation ? res.explanation : "no explanation");
        if (was_unreachable) {
            char *r2 = xasprintf("%s (an index was unreachable earlier in this job, so only the "
                                 "download cache was read: %.*s)",
                                 reason, (int)unreachable.len, unreachable.data);
            free(reason);
            reason = r2;
        }
        json_object_set_new(rec, "reason", json_text(reason));
        free(reason);
        goto out;
    }
    *ok = true;
    stage_pins(job, spec, ix, wh, db, &res, rec, ok);
out:
    if (db) {
        json_t *builds = depbuild_records(db);
        if (json_array_size(builds))
            json_object_set(rec, "builds", builds);
        json_decref(builds);
    }
    depbuild_free(db);
    resolution_free(&res);
    provider_pool_free(pool);
    localdir_free(wh);
    index_free(ix);
    http_free(http);
    buf_free(&unreachable);
    free(marker);
    target_free(&t);
    redact(rec, &job->index_urls);
    return rec;
}

void staging_paths(const json_t *record, pyti_strv *out)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(record, "staged"), i, e) {
        const char *p = json_get_str(e, "path");
        if (p)
            strv_push(out, p);
    }
}

static void json_strv(const json_t *a, pyti_strv *out)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) if (json_is_string(v)) strv_push(out, json_string_value(v));
}

void staging_as_installed(const json_t *record, pyti_dist_metadata **v, size_t *n)
{
    static const char *const lists[] = {"staged", "installed"};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(record, lists[l]), i, e) {
            const char *name = json_get_str(e, "name"), *version = json_get_str(e, "version");
            if (!name || !version)
                continue;
            *v = xreallocarray(*v, *n + 1, sizeof **v);
            pyti_dist_metadata *m = &(*v)[(*n)++];
            memset(m, 0, sizeof *m);
            m->name = xstrdup(name);
            m->version = xstrdup(version);
            m->source = xstrdup("installed");
            json_strv(json_object_get(e, "requires_dist"), &m->requires_dist);
            json_strv(json_object_get(e, "provides_extra"), &m->provides_extra);
        }
    }
}
