/* depbuild.c — building dependency sdists in the sandbox: their metadata
 * for the resolver and their wheels for staging, in shadow jobs, with a
 * cache of built wheels (see depbuild.h). */
#include "exec/depbuild.h"
#include "common/hash.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "exec/pyfacts.h"
#include "exec/sbtask.h"
#include "exec/staging.h"
#include "exec/tasks_internal.h"
#include "exec/wheelhouse.h"
#include "index/index.h"
#include "pkg/archive.h"
#include "pkg/name.h"
#include "pkg/version.h"

#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUILT_WHEEL_MAX (2ull << 30)
#define LOG_KEEP (16u << 10) /* the tail of a failed build's log kept in its record */

/* One sdist being built, in its shadow job. */
typedef struct dep_entry {
    char sha256[PYTI_SHA256_HEX_LEN + 1];
    char *project;      /* normalised */
    char *filename;
    pyti_job job;       /* shadow: own dirs; the rest borrowed from the caller's job */
    pyti_task_ctx ctx;  /* a context over the shadow job for the sandboxed runs */
    bool set_up, prepared, env_ready, failed;
    char *src_inside;   /* the extracted tree, inside */
    char *wheel;        /* host path of the built wheel, once there */
    char *metadata;     /* prepared METADATA text, once there */
    size_t metadata_len;
    json_t *rec;        /* this build's record */
} dep_entry;

struct pyti_depbuild {
    pyti_task_ctx *ctx;
    const json_t *facts;
    pyti_strv chain;
    char *cache_dir;    /* <cache>/built/<tag>, or NULL (no cache) */
    dep_entry **v;
    size_t n;
};

static char *cache_dir_for(const pyti_job *job, const json_t *facts)
{
    const char *tag = json_string_value(json_array_get(json_object_get(facts, "tags"), 0));
    if (!tag || !*tag || strlen(tag) > 200)
        return NULL;
    for (const char *c = tag; *c; c++)
        if (!(isalnum((unsigned char)*c) || *c == '_' || *c == '-' || *c == '.'))
            return NULL;
    const char *cfg = job->config ? config_get(job->config, "index", "cache_dir") : NULL;
    char *base = cfg ? xstrdup(cfg) : NULL;
    if (!base) {
        char *c = path_xdg_cache_home();
        base = path_join(c, "pyti");
        free(c);
    }
    char *dir = xasprintf("%s/built/%s", base, tag);
    free(base);
    return dir;
}

pyti_depbuild *depbuild_new(pyti_task_ctx *ctx, const json_t *facts, const pyti_strv *chain)
{
    pyti_depbuild *b = xcalloc(1, sizeof *b);
    b->ctx = ctx;
    b->facts = facts;
    for (size_t i = 0; chain && i < chain->len; i++)
        strv_push(&b->chain, chain->items[i]);
    b->cache_dir = cache_dir_for(ctx->job, facts);
    return b;
}

static void entry_free(dep_entry *e)
{
    free(e->project);
    free(e->filename);
    if (e->set_up) {
        char *out = (char *)e->ctx.out_dir;
        task_ctx_free(&e->ctx);
        free(out);
        free(e->job.job_dir);
        free(e->job.input_dir);
        free(e->job.work_dir);
        free(e->job.out_dir);
        free(e->job.dist_path);
    }
    free(e->src_inside);
    free(e->wheel);
    free(e->metadata);
    json_decref(e->rec);
    free(e);
}

void depbuild_free(pyti_depbuild *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        entry_free(b->v[i]);
    free(b->v);
    strv_free(&b->chain);
    free(b->cache_dir);
    free(b);
}

const char *depbuild_failed(const pyti_depbuild *b)
{
    for (size_t i = 0; b && i < b->n; i++)
        if (b->v[i]->failed)
            return json_get_str(b->v[i]->rec, "name");
    return NULL;
}

json_t *depbuild_records(const pyti_depbuild *b)
{
    json_t *a = json_array();
    for (size_t i = 0; b && i < b->n; i++)
        json_array_append(a, b->v[i]->rec);
    return a;
}

/* "a → b → c" of the chain plus project. */
static char *chain_text(const pyti_depbuild *b, const char *project)
{
    pyti_buf t = PYTI_BUF_INIT;
    for (size_t i = 0; i < b->chain.len; i++)
        buf_printf(&t, "%s → ", b->chain.items[i]);
    buf_puts(&t, project);
    return buf_detach(&t);
}

/* Depth and cycle checks before building project. */
static pyti_status check_chain(const pyti_depbuild *b, const char *project, pyti_error *err)
{
    if (strv_contains(&b->chain, project)) {
        char *c = chain_text(b, project);
        pyti_status st = pyti_error_set(err, PYTI_ERR_INPUT,
                                        "building %s needs %s itself (a build cycle: %s)",
                                        b->chain.items[0], project, c);
        free(c);
        return st;
    }
    if (b->chain.len >= DEPBUILD_MAX_DEPTH) {
        char *c = chain_text(b, project);
        pyti_status st = pyti_error_set(err, PYTI_ERR_INPUT,
                                        "sdists needed to build sdists nest deeper than %d "
                                        "levels (%s)", DEPBUILD_MAX_DEPTH, c);
        free(c);
        return st;
    }
    return PYTI_OK;
}

/* Merges what the shadow runs found (behaviour findings) into the calling
 * task's findings. */
static void merge_findings(pyti_depbuild *b, dep_entry *e)
{
    if (!e->ctx.findings.len)
        return;
    json_t *j = findings_to_json(&e->ctx.findings);
    findings_from_json(&b->ctx->findings, j);
    json_decref(j);
    findings_free(&e->ctx.findings);
    memset(&e->ctx.findings, 0, sizeof e->ctx.findings);
}

/* The shadow job: <job>/depbuild/<sha[:16]>/{input,work,out/<task>},
 * the sdist extracted by the host's safe extractor into input/src. */
static pyti_status entry_setup(pyti_depbuild *b, dep_entry *e, const char *path,
                               pyti_error *err)
{
    const pyti_job *pj = b->ctx->job;
    e->job = *pj;
    e->job.job_dir = xasprintf("%s/depbuild/%.16s", pj->job_dir, e->sha256);
    e->job.input_dir = path_join(e->job.job_dir, "input");
    e->job.work_dir = path_join(e->job.job_dir, "work");
    e->job.out_dir = path_join(e->job.job_dir, "out");
    e->job.dist_path = xstrdup(path);
    e->job.dist_filename = e->filename;
    e->set_up = true;
    char *out = path_join(e->job.out_dir, b->ctx->def->name);
    char *src = path_join(e->job.input_dir, "src");
    task_ctx_init(&e->ctx, &e->job, b->ctx->def, NULL, NULL);
    pyti_status st = PYTI_OK;
    if (path_exists(e->job.job_dir))
        st = path_rmtree(e->job.job_dir, err);
    if (st == PYTI_OK)
        st = path_mkdirs(e->job.work_dir, 0755, err);
    if (st == PYTI_OK)
        st = path_mkdirs(out, 0755, err);
    if (st == PYTI_OK)
        st = path_mkdirs(src, 0755, err);
    /* the offline fallback of build requirements, as the build task has */
    if (st == PYTI_OK && pj->wheelhouse)
        st = wheelhouse_ensure(pj->wheelhouse, err);
    if (st == PYTI_OK) {
        st = archive_extract(path, src, &pj->extract_limits, NULL, err);
        if (st != PYTI_OK)
            pyti_error_prefix(err, "the sdist %s cannot be unpacked", e->filename);
    }
    char *top = st == PYTI_OK ? extract_single_top_dir(src) : NULL;
    if (st == PYTI_OK && !top)
        st = pyti_error_set(err, PYTI_ERR_INPUT,
                            "the sdist %s does not unpack into one top-level directory",
                            e->filename);
    if (top)
        e->src_inside = sbtask_inside_path(&e->job, top);
    /* out_dir of a context is borrowed: keep the string with the entry */
    e->ctx.out_dir = out;
    free(top);
    free(src);
    return st;
}

static dep_entry *find_entry(pyti_depbuild *b, const char *sha256)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->v[i]->sha256, sha256) == 0)
            return b->v[i];
    return NULL;
}

static dep_entry *new_entry(pyti_depbuild *b, const char *project, const pyti_dist_file *f,
                            const char *sha256)
{
    dep_entry *e = xcalloc(1, sizeof *e);
    snprintf(e->sha256, sizeof e->sha256, "%s", sha256);
    e->project = name_normalize(project);
    e->filename = xstrdup(f->filename);
    e->rec = json_object();
    json_set_text(e->rec, "name", project);
    pyti_dist_filename fn;
    if (dist_filename_parse(f->filename, &fn, NULL) == PYTI_OK) {
        json_set_text(e->rec, "version", fn.version);
        dist_filename_free(&fn);
    }
    json_set_text(e->rec, "sdist", f->filename);
    json_set_text(e->rec, "sha256", sha256);
    json_object_set_new(e->rec, "hooks", json_array());
    json_object_set_new(e->rec, "rounds", json_array());
    json_object_set_new(e->rec, "staging", json_array());
    b->v = xreallocarray(b->v, b->n + 1, sizeof *b->v);
    b->v[b->n++] = e;
    return e;
}

/* Marks the build failed: the reason and the tail of its log in the
 * record, the log in the calling task's. */
static pyti_status entry_fail(pyti_depbuild *b, dep_entry *e, pyti_error *err, const char *fmt,
                              ...) __attribute__((format(printf, 4, 5)));
static pyti_status entry_fail(pyti_depbuild *b, dep_entry *e, pyti_error *err, const char *fmt,
                              ...)
{
    va_list ap;
    va_start(ap, fmt);
    pyti_buf wb = PYTI_BUF_INIT;
    buf_vprintf(&wb, fmt, ap);
    va_end(ap);
    char *why = buf_detach(&wb);
    e->failed = true;
    json_set_text(e->rec, "outcome", "failed");
    json_set_text(e->rec, "reason", why);
    if (e->set_up && e->ctx.log.len) {
        size_t off = e->ctx.log.len > LOG_KEEP ? e->ctx.log.len - LOG_KEEP : 0;
        char *tail = xstrndup(e->ctx.log.data + off, e->ctx.log.len - off);
        json_object_set_new(e->rec, "log", json_text(tail));
        task_log(b->ctx, "--- build of %s (%s) failed; its log (tail):\n%s", e->project,
                 e->filename, tail);
        free(tail);
    }
    pyti_status st = pyti_error_set(err, PYTI_ERR_INPUT, "building %s from its sdist %s in the "
                                    "sandbox failed: %s", e->project, e->filename, why);
    free(why);
    return st;
}

/* Runs build.py in the shadow job and keeps the round in the record. */
static pyti_task_status helper_round(pyti_depbuild *b, dep_entry *e, const char *phase,
                                     const pyti_strv *args, json_t **res)
{
    json_object_clear(e->ctx.data);
    pyti_task_status st = sbtask_helper(&e->ctx, "build", (const char *const *)args->items, 0, res);
    merge_findings(b, e);
    json_t *r = json_object();
    json_set_text(r, "phase", phase);
    json_object_set(r, "outcome", json_object_get(*res, "outcome"));
    json_t *rs = json_object_get(e->ctx.data, "resources");
    if (rs)
        json_object_set(r, "resources", rs);
    /* what the tracer kept of this run (the report's timeline has the
     * calling task's own runs only; the findings are merged above) */
    json_t *ev = json_object_get(json_object_get(e->ctx.data, "sandbox"), "events");
    if (json_array_size(ev))
        json_object_set(r, "events", ev);
    json_array_append_new(json_object_get(e->rec, "rounds"), r);
    const char *tail = json_get_str(*res, "log_tail");
    if (tail && *tail)
        task_log(&e->ctx, "--- %s (build.py output)\n%s", phase, tail);
    return st;
}

/* Stages reqs for the shadow job's build environment, building sdists
 * among them one level deeper; the staged paths go to paths. */
static bool stage_for(pyti_depbuild *b, dep_entry *e, const pyti_strv *reqs,
                      const pyti_dist_metadata *inst, size_t ninst, pyti_strv *paths,
                      json_t **rec)
{
    pyti_strv chain = PYTI_STRV_INIT;
    for (size_t i = 0; i < b->chain.len; i++)
        strv_push(&chain, b->chain.items[i]);
    strv_push(&chain, e->project);
    char *what = xasprintf("build requirements of %s", e->project);
    pyti_stage_spec spec = {what, reqs, b->facts, inst, ninst, true, &e->ctx, &chain};
    bool ok = false;
    *rec = staging_run(&e->job, &spec, &ok);
    merge_findings(b, e);
    json_array_append(json_object_get(e->rec, "staging"), *rec);
    if (ok)
        staging_paths(*rec, paths);
    free(what);
    strv_free(&chain);
    return ok;
}

static void json_strings(const json_t *a, pyti_strv *out)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) if (json_is_string(v)) strv_push(out, json_string_value(v));
}

/* The build rounds up to hook ("metadata" or "wheel"); *res gets the last
 * helper result (outcome "metadata" or "built") on success. */
static pyti_status run_build(pyti_depbuild *b, dep_entry *e, const char *hook, json_t **res,
                             pyti_error *err)
{
    *res = NULL;
    json_array_append_new(json_object_get(e->rec, "hooks"), json_string(hook));
    pyti_strv args = PYTI_STRV_INIT, reqs = PYTI_STRV_INIT, paths = PYTI_STRV_INIT;
    json_t *rec = NULL;
    pyti_dist_metadata *inst = NULL;
    size_t ninst = 0;
    pyti_status st = PYTI_OK;
    pyti_task_status ts;
    if (!e->prepared) {
        const char *pa[] = {"--phase", "prepare", "--source", e->src_inside, "--work", SB_WORK,
                            NULL};
        pyti_strv pargs = {(char **)pa, 6, 0};
        ts = helper_round(b, e, "prepare", &pargs, res);
        if (ts != PYTI_TASK_PASSED || !json_get_str(*res, "outcome") ||
            strcmp(json_get_str(*res, "outcome"), "prepared") != 0) {
            st = entry_fail(b, e, err, "%s", json_get_str(*res, "reason") ? json_get_str(*res, "reason")
                            : e->ctx.reason ? e->ctx.reason : "preparing the build failed");
            goto out;
        }
        json_object_set(e->rec, "backend", json_object_get(*res, "backend"));
        json_object_set(e->rec, "requires", json_object_get(*res, "requires"));
        json_strings(json_object_get(*res, "requires"), &reqs);
        if (!stage_for(b, e, &reqs, NULL, 0, &paths, &rec)) {
            st = entry_fail(b, e, err, "%s", json_get_str(rec, "reason"));
            goto out;
        }
        e->prepared = true;
    }
    for (int round = 0; round < 2; round++) {
        build_phase_args(&args, hook, e->env_ready || round == 1, &paths);
        json_decref(*res);
        *res = NULL;
        ts = helper_round(b, e, hook, &args, res);
        const char *outcome = json_get_str(*res, "outcome");
        if (ts != PYTI_TASK_PASSED || !outcome) {
            st = entry_fail(b, e, err, "%s", json_get_str(*res, "reason") ? json_get_str(*res, "reason")
                            : e->ctx.reason ? e->ctx.reason : "the build helper reported nothing");
            goto out;
        }
        if (strcmp(outcome, "needs-more") != 0 || round == 1)
            break;
        strv_free(&reqs);
        json_strings(json_object_get(*res, "missing"), &reqs);
        staging_as_installed(rec, &inst, &ninst);
        strv_free(&paths);
        json_decref(rec);
        rec = NULL;
        if (!stage_for(b, e, &reqs, inst, ninst, &paths, &rec)) {
            st = entry_fail(b, e, err, "%s", json_get_str(rec, "reason"));
            goto out;
        }
    }
    const char *outcome = json_get_str(*res, "outcome");
    if (strcmp(outcome, "metadata") != 0 && strcmp(outcome, "built") != 0) {
        const char *why = json_get_str(*res, "reason");
        st = entry_fail(b, e, err, "%s", strcmp(outcome, "needs-more") == 0
                                             ? "the backend still asks for build requirements "
                                               "after they were installed"
                                             : why ? why : outcome);
        goto out;
    }
    e->env_ready = true;
out:
    if (st != PYTI_OK) {
        json_decref(*res);
        *res = NULL;
    }
    json_decref(rec);
    pyfacts_installed_free(inst, ninst);
    strv_free(&args);
    strv_free(&reqs);
    strv_free(&paths);
    return st;
}

/* Copies fd into a new file dest (exclusive, never through a link). */
static pyti_status copy_fd(int in, const char *dest, pyti_error *err)
{
    int out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (out < 0)
        return pyti_error_errno(err, PYTI_ERR_IO, errno, "creating %s", dest);
    pyti_status rc = PYTI_OK;
    unsigned long long total = 0;
    for (;;) {
        ssize_t n = sendfile(out, in, NULL, 1 << 24);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "copying into %s", dest);
        if (n <= 0)
            break;
        total += (unsigned long long)n;
        if (total > BUILT_WHEEL_MAX) {
            rc = pyti_error_set(err, PYTI_ERR_LIMIT, "the built wheel is larger than 2 GiB");
            break;
        }
    }
    if (close(out) != 0 && rc == PYTI_OK)
        rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "writing %s", dest);
    if (rc != PYTI_OK)
        unlink(dest);
    return rc;
}

/* Checks that the built file is a wheel of the sdist's project. */
static pyti_status check_wheel_name(const dep_entry *e, const char *filename, pyti_error *err)
{
    pyti_dist_filename fn;
    if (strchr(filename, '/') || filename[0] == '.' ||
        dist_filename_parse(filename, &fn, NULL) != PYTI_OK)
        return pyti_error_set(err, PYTI_ERR_INPUT, "the backend built '%s', not a wheel",
                              filename);
    char *n = name_normalize(fn.name);
    bool ok = fn.kind == PYTI_DIST_WHEEL && strcmp(n, e->project) == 0;
    free(n);
    dist_filename_free(&fn);
    if (!ok)
        return pyti_error_set(err, PYTI_ERR_INPUT, "the backend built '%s', not a wheel of %s",
                              filename, e->project);
    return PYTI_OK;
}

/* Takes the wheel the build left (inside path, untrusted) into the cache
 * (atomically: a temporary name, then rename), else into the shadow job. */
static pyti_status take_wheel(pyti_depbuild *b, dep_entry *e, const char *inside,
                              const char *filename, pyti_error *err)
{
    if (check_wheel_name(e, filename, err) != PYTI_OK)
        return PYTI_ERR_INPUT;
    int in = sbtask_open_beneath(&e->job, inside, err);
    if (in < 0)
        return PYTI_ERR_INPUT;
    pyti_status st = PYTI_ERR_IO;
    if (b->cache_dir) {
        char *dir = xasprintf("%s/%s", b->cache_dir, e->sha256);
        char *tmp = xasprintf("%s.tmp-%d", dir, (int)getpid());
        char *tmpfile = path_join(tmp, filename);
        pyti_error ce;
        path_rmtree(tmp, NULL);
        st = path_mkdirs(tmp, 0755, &ce);
        if (st == PYTI_OK)
            st = copy_fd(in, tmpfile, &ce);
        if (st == PYTI_OK) {
            path_rmtree(dir, NULL); /* another job's build of the same sdist */
            if (rename(tmp, dir) != 0)
                st = pyti_error_errno(&ce, PYTI_ERR_IO, errno, "renaming %s", tmp);
        }
        if (st == PYTI_OK)
            e->wheel = path_join(dir, filename);
        else {
            log_warn("cannot cache the wheel built from %s: %s", e->filename, ce.msg);
            path_rmtree(tmp, NULL);
            lseek(in, 0, SEEK_SET);
        }
        free(tmpfile);
        free(tmp);
        free(dir);
    }
    if (st != PYTI_OK) {
        char *dest = path_join(e->job.job_dir, filename);
        st = copy_fd(in, dest, err);
        if (st == PYTI_OK)
            e->wheel = dest;
        else
            free(dest);
    }
    close(in);
    if (st == PYTI_OK)
        json_set_text(e->rec, "wheel", filename);
    return st;
}

/* A wheel built earlier from the sdist with this SHA-256, or NULL. */
static char *cached_wheel(const pyti_depbuild *b, const char *sha256)
{
    if (!b->cache_dir)
        return NULL;
    char *dir = xasprintf("%s/%s", b->cache_dir, sha256);
    DIR *d = opendir(dir);
    char *found = NULL;
    struct dirent *de;
    while (d && !found && (de = readdir(d)))
        if (str_endswith(de->d_name, ".whl") && de->d_name[0] != '.') {
            char *p = path_join(dir, de->d_name);
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
                found = p;
            else
                free(p);
        }
    if (d)
        closedir(d);
    free(dir);
    return found;
}

/* Finds or starts the entry of an sdist; a cached wheel is taken as built. */
static pyti_status entry_for(pyti_depbuild *b, const char *project, const pyti_dist_file *f,
                             const char *path, const char *sha256, dep_entry **out,
                             pyti_error *err)
{
    char *norm = name_normalize(project);
    pyti_status st = check_chain(b, norm, err);
    free(norm);
    if (st != PYTI_OK)
        return st;
    dep_entry *e = find_entry(b, sha256);
    if (!e) {
        e = new_entry(b, project, f, sha256);
        e->wheel = cached_wheel(b, sha256);
        if (e->wheel) {
            json_set_text(e->rec, "outcome", "cached");
            json_set_text(e->rec, "wheel", path_basename(e->wheel));
            task_log(b->ctx, "%s: reusing the wheel built earlier from %s (sha256 %.16s…)",
                     e->project, f->filename, sha256);
        }
    }
    *out = e;
    if (e->failed)
        return pyti_error_set(err, PYTI_ERR_INPUT, "building %s from its sdist %s in the "
                              "sandbox failed: %s", e->project, e->filename,
                              json_get_str(e->rec, "reason"));
    if (!e->wheel && !e->set_up) {
        pyti_error se;
        if (entry_setup(b, e, path, &se) != PYTI_OK)
            return entry_fail(b, e, err, "%s", se.msg);
    }
    return PYTI_OK;
}

static pyti_status metadata_from_wheel(const char *wheel, pyti_dist_metadata *out,
                                       pyti_error *err)
{
    char *text = NULL;
    size_t len = 0;
    pyti_status st = index_read_dist_metadata(wheel, path_basename(wheel), &text, &len, err);
    if (st == PYTI_OK)
        st = index_metadata_from_text(text, len, path_basename(wheel), false, out, NULL, err);
    free(text);
    return st;
}

/* Reads the METADATA the hook prepared (inside path, untrusted). */
static pyti_status read_prepared(dep_entry *e, const char *inside, pyti_error *err)
{
    int fd = sbtask_open_beneath(&e->job, inside, err);
    if (fd < 0)
        return PYTI_ERR_INPUT;
    pyti_buf b = PYTI_BUF_INIT;
    char chunk[65536];
    ssize_t n;
    pyti_status st = PYTI_OK;
    while ((n = read(fd, chunk, sizeof chunk)) > 0) {
        buf_append(&b, chunk, (size_t)n);
        if (b.len > INDEX_MAX_METADATA) {
            st = pyti_error_set(err, PYTI_ERR_LIMIT, "the prepared METADATA of %s is larger "
                                "than %u bytes", e->filename, INDEX_MAX_METADATA);
            break;
        }
    }
    if (n < 0 && st == PYTI_OK)
        st = pyti_error_errno(err, PYTI_ERR_IO, errno, "reading %s", inside);
    close(fd);
    if (st == PYTI_OK) {
        e->metadata_len = b.len;
        e->metadata = buf_detach(&b);
    }
    buf_free(&b);
    return st;
}

/* Takes a "built" result's wheel. */
static pyti_status take_built(pyti_depbuild *b, dep_entry *e, const json_t *res, pyti_error *err)
{
    const char *inside = json_get_str(res, "wheel"), *filename = json_get_str(res, "filename");
    pyti_error we;
    if (!inside || !filename || take_wheel(b, e, inside, filename, &we) != PYTI_OK)
        return entry_fail(b, e, err, "the build did not leave a usable wheel: %s",
                          inside && filename ? we.msg : "no wheel named");
    json_set_text(e->rec, "outcome", "built");
    task_log(b->ctx, "built %s from the sdist %s in the sandbox", filename, e->filename);
    return PYTI_OK;
}

pyti_status depbuild_metadata(void *user, const char *project, const pyti_dist_file *f,
                              const char *path, pyti_dist_metadata *out, pyti_error *err)
{
    pyti_depbuild *b = user;
    memset(out, 0, sizeof *out);
    char sha[PYTI_SHA256_HEX_LEN + 1];
    pyti_status st = hash_sha256_file(path, sha, NULL, err);
    dep_entry *e = NULL;
    if (st == PYTI_OK)
        st = entry_for(b, project, f, path, sha, &e, err);
    if (st != PYTI_OK)
        return st;
    if (!e->wheel && !e->metadata) {
        json_t *res = NULL;
        st = run_build(b, e, "metadata", &res, err);
        const char *outcome = json_get_str(res, "outcome");
        if (st == PYTI_OK && strcmp(outcome, "built") == 0) {
            st = take_built(b, e, res, err);
        } else if (st == PYTI_OK) {
            const char *inside = json_get_str(res, "metadata");
            pyti_error me;
            if (!inside || read_prepared(e, inside, &me) != PYTI_OK)
                st = entry_fail(b, e, err, "the backend's prepared metadata is unusable: %s",
                                inside ? me.msg : "no METADATA named");
            else
                json_set_text(e->rec, "outcome", "metadata");
        }
        json_decref(res);
        if (st != PYTI_OK)
            return st;
    }
    pyti_error pe;
    st = e->wheel ? metadata_from_wheel(e->wheel, out, &pe)
                  : index_metadata_from_text(e->metadata, e->metadata_len, f->filename, false,
                                             out, NULL, &pe);
    if (st != PYTI_OK) {
        dist_metadata_free(out);
        memset(out, 0, sizeof *out);
        return pyti_error_set(err, PYTI_ERR_INPUT, "the metadata built from %s is unusable: %s",
                              f->filename, pe.msg);
    }
    if (!out->source)
        out->source = xstrdup(e->wheel ? "build (wheel)" : "build (prepare_metadata_for_build_wheel)");
    return PYTI_OK;
}

pyti_status depbuild_wheel(pyti_depbuild *b, const char *project, const pyti_dist_file *f,
                           const char *path, const char *sha256, char **wheel, bool *cached,
                           pyti_error *err)
{
    *wheel = NULL;
    *cached = false;
    dep_entry *e = NULL;
    pyti_status st = entry_for(b, project, f, path, sha256, &e, err);
    if (st != PYTI_OK)
        return st;
    if (!e->wheel) {
        json_t *res = NULL;
        st = run_build(b, e, "wheel", &res, err);
        if (st == PYTI_OK && strcmp(json_get_str(res, "outcome"), "built") == 0)
            st = take_built(b, e, res, err);
        else if (st == PYTI_OK)
            st = entry_fail(b, e, err, "the backend prepared metadata when asked for a wheel");
        json_decref(res);
        if (st != PYTI_OK)
            return st;
    }
    *cached = strcmp(json_get_str(e->rec, "outcome"), "cached") == 0;
    *wheel = xstrdup(e->wheel);
    return PYTI_OK;
}
