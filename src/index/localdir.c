/* localdir.c — a directory of wheels as a resolver provider, and a pool of
 * providers seen as one (see localdir.h). */
#include "index/localdir.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "index/hmap_internal.h"
#include "index/index.h"
#include "pkg/name.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCALDIR_MAX_FILES 100000

typedef struct ld_project {
    pyti_dist_file *files;
    size_t n, cap;
} ld_project;

struct pyti_localdir {
    char *dir;
    char *label;
    char *url_prefix; /* "file://<dir>/" */
    bool scanned;
    pyti_hmap projects; /* normalised name -> ld_project */
    ld_project **all;
    size_t nall;
};

pyti_localdir *localdir_new(const char *dir, const char *label)
{
    pyti_localdir *d = xcalloc(1, sizeof *d);
    d->dir = xstrdup(dir);
    d->label = xstrdup(label ? label : dir);
    d->url_prefix = xasprintf("file://%s/", dir);
    return d;
}

void localdir_free(pyti_localdir *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nall; i++) {
        for (size_t k = 0; k < d->all[i]->n; k++)
            dist_file_free(&d->all[i]->files[k]);
        free(d->all[i]->files);
        free(d->all[i]);
    }
    free(d->all);
    hmap_free(&d->projects);
    free(d->dir);
    free(d->label);
    free(d->url_prefix);
    free(d);
}

/* Reads the directory once: regular files (lstat: no symlinks) named as
 * wheels, sorted by name so the listing does not depend on readdir. */
static void scan(pyti_localdir *d)
{
    d->scanned = true;
    DIR *dir = opendir(d->dir);
    if (!dir) {
        log_info("local directory %s: %s", d->dir, strerror(errno));
        return;
    }
    pyti_strv names = PYTI_STRV_INIT;
    struct dirent *e;
    while ((e = readdir(dir)) && names.len < LOCALDIR_MAX_FILES)
        if (e->d_name[0] != '.' && str_endswith(e->d_name, ".whl"))
            strv_push(&names, e->d_name);
    int dfd = dirfd(dir);
    strv_sort(&names);
    for (size_t i = 0; i < names.len; i++) {
        const char *fn = names.items[i];
        struct stat st;
        if (fstatat(dfd, fn, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        pyti_dist_filename df;
        if (dist_filename_parse(fn, &df, NULL) != PYTI_OK)
            continue;
        char *norm = name_normalize(df.name);
        dist_filename_free(&df);
        ld_project *p = hmap_get(&d->projects, norm);
        if (!p) {
            p = xcalloc(1, sizeof *p);
            hmap_put(&d->projects, norm, p);
            d->all = xreallocarray(d->all, d->nall + 1, sizeof *d->all);
            d->all[d->nall++] = p;
        }
        free(norm);
        if (p->n == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 4;
            p->files = xreallocarray(p->files, p->cap, sizeof *p->files);
        }
        pyti_dist_file *f = &p->files[p->n];
        memset(f, 0, sizeof *f);
        char *path = xasprintf("%s/%s", d->dir, fn);
        char hex[PYTI_SHA256_HEX_LEN + 1];
        unsigned long long size = 0;
        pyti_error err;
        if (hash_sha256_file(path, hex, &size, &err) != PYTI_OK) {
            log_warn("local directory %s: %s", d->dir, err.msg);
            free(path);
            continue;
        }
        free(path);
        f->filename = xstrdup(fn);
        f->url = xasprintf("%s%s", d->url_prefix, fn);
        f->sha256 = xstrdup(hex);
        f->size = (long long)size;
        f->index_url = xstrdup(d->label);
        p->n++;
    }
    strv_free(&names);
    closedir(dir);
}

static pyti_status ld_list(void *ctx, const char *project, const pyti_dist_file **files,
                           size_t *nfiles, pyti_error *err)
{
    (void)err;
    pyti_localdir *d = ctx;
    if (!d->scanned)
        scan(d);
    ld_project *p = hmap_get(&d->projects, project);
    *files = p ? p->files : NULL;
    *nfiles = p ? p->n : 0;
    return PYTI_OK;
}

const char *localdir_file_path(const pyti_localdir *d, const pyti_dist_file *f)
{
    size_t n = strlen(d->url_prefix);
    if (!f->url || strncmp(f->url, d->url_prefix, n) != 0)
        return NULL;
    return f->url + strlen("file://");
}

static pyti_status ld_meta(void *ctx, const char *project, const pyti_dist_file *f,
                           pyti_dist_metadata *out, bool *needs_build, pyti_error *err)
{
    (void)project;
    (void)err;
    pyti_localdir *d = ctx;
    *needs_build = false;
    memset(out, 0, sizeof *out);
    const char *path = localdir_file_path(d, f);
    if (!path)
        return PYTI_OK; /* not ours: no name, the resolver discards it */
    char *text = NULL;
    size_t len = 0;
    pyti_error me;
    if (index_read_dist_metadata(path, f->filename, &text, &len, &me) != PYTI_OK) {
        log_warn("%s: %s", path, me.msg);
        return PYTI_OK;
    }
    if (index_metadata_from_text(text, len, f->filename, false, out, NULL, &me) != PYTI_OK) {
        log_warn("%s: %s", path, me.msg);
        memset(out, 0, sizeof *out);
    } else {
        out->source = xstrdup("wheel");
    }
    free(text);
    return PYTI_OK;
}

void localdir_provider(pyti_localdir *d, pyti_provider *out)
{
    out->ctx = d;
    out->list_files = ld_list;
    out->get_metadata = ld_meta;
    out->prefetch = NULL;
}

/* ---- the pool ---- */

typedef struct pool_project {
    pyti_dist_file *files;
    size_t *owner; /* which provider each file came from */
    size_t n;
} pool_project;

struct pyti_provider_pool {
    const pyti_provider *subs;
    size_t nsubs;
    pyti_hmap projects;
    pool_project **all;
    size_t nall;
};

pyti_provider_pool *provider_pool_new(const pyti_provider *subs, size_t n)
{
    pyti_provider_pool *p = xcalloc(1, sizeof *p);
    p->subs = subs;
    p->nsubs = n;
    return p;
}

void provider_pool_free(pyti_provider_pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nall; i++) {
        for (size_t k = 0; k < p->all[i]->n; k++)
            dist_file_free(&p->all[i]->files[k]);
        free(p->all[i]->files);
        free(p->all[i]->owner);
        free(p->all[i]);
    }
    free(p->all);
    hmap_free(&p->projects);
    free(p);
}

static pyti_status pool_list(void *ctx, const char *project, const pyti_dist_file **files,
                             size_t *nfiles, pyti_error *err)
{
    pyti_provider_pool *p = ctx;
    pool_project *pp = hmap_get(&p->projects, project);
    if (!pp) {
        pp = xcalloc(1, sizeof *pp);
        for (size_t s = 0; s < p->nsubs; s++) {
            const pyti_dist_file *sf = NULL;
            size_t sn = 0;
            if (p->subs[s].list_files(p->subs[s].ctx, project, &sf, &sn, err) != PYTI_OK) {
                for (size_t k = 0; k < pp->n; k++)
                    dist_file_free(&pp->files[k]);
                free(pp->files);
                free(pp->owner);
                free(pp);
                return err ? err->code : PYTI_ERR_INTERNAL;
            }
            if (!sn)
                continue;
            pp->files = xreallocarray(pp->files, pp->n + sn, sizeof *pp->files);
            pp->owner = xreallocarray(pp->owner, pp->n + sn, sizeof *pp->owner);
            for (size_t k = 0; k < sn; k++) {
                dist_file_copy(&pp->files[pp->n], &sf[k]);
                pp->owner[pp->n++] = s;
            }
        }
        hmap_put(&p->projects, project, pp);
        p->all = xreallocarray(p->all, p->nall + 1, sizeof *p->all);
        p->all[p->nall++] = pp;
    }
    *files = pp->files;
    *nfiles = pp->n;
    return PYTI_OK;
}

static pyti_status pool_meta(void *ctx, const char *project, const pyti_dist_file *f,
                             pyti_dist_metadata *out, bool *needs_build, pyti_error *err)
{
    pyti_provider_pool *p = ctx;
    pool_project *pp = hmap_get(&p->projects, project);
    if (!pp || f < pp->files || f >= pp->files + pp->n)
        return pyti_error_set(err, PYTI_ERR_INTERNAL, "%s: not a file of the pool's project %s",
                              f->filename, project);
    const pyti_provider *sub = &p->subs[pp->owner[f - pp->files]];
    return sub->get_metadata(sub->ctx, project, f, out, needs_build, err);
}

static void pool_prefetch(void *ctx, const char *const *projects, size_t n)
{
    pyti_provider_pool *p = ctx;
    for (size_t s = 0; s < p->nsubs; s++)
        if (p->subs[s].prefetch)
            p->subs[s].prefetch(p->subs[s].ctx, projects, n);
}

void provider_pool_provider(pyti_provider_pool *p, pyti_provider *out)
{
    out->ctx = p;
    out->list_files = pool_list;
    out->get_metadata = pool_meta;
    out->prefetch = pool_prefetch;
}
