/* index.c — an index set (main + extra indexes): project pages, file
 * metadata without running package code, verified downloads, and the
 * resolver's provider (see index.h). */
#include "index/index.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "index/hmap_internal.h"
#include "index/url.h"
#include "pkg/archive.h"
#include "pkg/metadata.h"
#include "pkg/name.h"
#include "pkg/version.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

typedef struct proj_entry {
    bool fetched;
    pyti_simple_project *pages; /* one per index; nfiles 0 and page_url NULL on 404 */
    bool *present;              /* the index has a page for the project */
    bool *checked;              /* that index was asked (present, or 404) */
    pyti_dist_file *files;
    size_t nfiles;
} proj_entry;

struct pyti_index {
    pyti_http *http;
    pyti_strv urls;
    pyti_hmap projects;
    proj_entry **entries;
    size_t nentries, capentries;
    pyti_metadata_builder builder;
    void *builder_user;
};

pyti_index *index_new(pyti_http *http, const pyti_strv *urls)
{
    pyti_index *ix = xcalloc(1, sizeof *ix);
    ix->http = http;
    strv_extend(&ix->urls, urls);
    if (!ix->urls.len)
        strv_push(&ix->urls, PYTI_DEFAULT_INDEX);
    return ix;
}

static void entry_free(proj_entry *e, size_t nurls)
{
    if (e->pages)
        for (size_t i = 0; i < nurls; i++)
            simple_project_free(&e->pages[i]);
    free(e->pages);
    free(e->present);
    free(e->checked);
    for (size_t i = 0; i < e->nfiles; i++)
        dist_file_free(&e->files[i]);
    free(e->files);
    free(e);
}

void index_free(pyti_index *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->nentries; i++)
        entry_free(ix->entries[i], ix->urls.len);
    free(ix->entries);
    hmap_free(&ix->projects);
    strv_free(&ix->urls);
    free(ix);
}

void index_set_builder(pyti_index *ix, pyti_metadata_builder fn, void *user)
{
    ix->builder = fn;
    ix->builder_user = user;
}

pyti_status index_urls_from_config(const pyti_config *cfg, const char *url_opt,
                                   const pyti_strv *extra_opts, pyti_strv *urls,
                                   pyti_error *err)
{
    static const char *const known[] = {"url",     "extra_urls",     "cache_dir",
                                        "retries", "connect_timeout", "max_page_size",
                                        "max_file_size", NULL};
    pyti_status st = config_check_keys(cfg, "index", known, err);
    if (st != PYTI_OK)
        return st;
    const char *main_url = url_opt ? url_opt : config_get(cfg, "index", "url");
    strv_push(urls, main_url && *main_url ? main_url : PYTI_DEFAULT_INDEX);
    if (extra_opts && extra_opts->len) {
        strv_extend(urls, extra_opts);
    } else if (!url_opt) {
        /* Extra indexes from the settings only go with the settings' main
         * index: --index-url alone means exactly that index. */
        const char *extra = config_get(cfg, "index", "extra_urls");
        if (extra)
            strv_split(urls, extra, " \t\n,");
    }
    return PYTI_OK;
}

/* ---- project pages ---- */

static proj_entry *entry_get(pyti_index *ix, const char *project)
{
    proj_entry *e = hmap_get(&ix->projects, project);
    if (!e) {
        e = xcalloc(1, sizeof *e);
        hmap_put(&ix->projects, project, e);
        if (ix->nentries == ix->capentries) {
            ix->capentries = ix->capentries ? ix->capentries * 2 : 32;
            ix->entries = xreallocarray(ix->entries, ix->capentries, sizeof *ix->entries);
        }
        ix->entries[ix->nentries++] = e;
    }
    return e;
}

static void entry_arrays(pyti_index *ix, proj_entry *e)
{
    if (e->pages)
        return;
    e->pages = xcalloc(ix->urls.len, sizeof *e->pages);
    e->present = xcalloc(ix->urls.len, sizeof *e->present);
    e->checked = xcalloc(ix->urls.len, sizeof *e->checked);
    for (size_t i = 0; i < ix->urls.len; i++)
        e->pages[i].last_serial = -1;
}

static void add_files(proj_entry *e, const pyti_simple_project *pg, const char *index_url)
{
    if (!pg->nfiles)
        return;
    e->files = xreallocarray(e->files, e->nfiles + pg->nfiles, sizeof *e->files);
    for (size_t i = 0; i < pg->nfiles; i++) {
        const pyti_simple_file *s = &pg->files[i];
        pyti_dist_file *f = &e->files[e->nfiles++];
        memset(f, 0, sizeof *f);
        f->filename = xstrdup(s->filename);
        f->url = xstrdup(s->url);
        f->sha256 = s->sha256 ? xstrdup(s->sha256) : NULL;
        f->sha384 = s->sha384 ? xstrdup(s->sha384) : NULL;
        f->sha512 = s->sha512 ? xstrdup(s->sha512) : NULL;
        f->requires_python = s->requires_python ? xstrdup(s->requires_python) : NULL;
        f->yanked = s->yanked;
        f->yanked_reason = s->yanked_reason ? xstrdup(s->yanked_reason) : NULL;
        f->has_metadata = s->has_metadata;
        f->metadata_sha256 = s->metadata_sha256 ? xstrdup(s->metadata_sha256) : NULL;
        f->size = s->size;
        f->upload_time = s->upload_time ? xstrdup(s->upload_time) : NULL;
        f->index_url = xstrdup(index_url);
    }
}

/* The URL of a project's page on the i-th index (file: indexes through
 * their index.html, as pip does). */
static char *page_url(pyti_index *ix, size_t i, const char *project)
{
    char *url = url_join(ix->urls.items[i], project, true);
    char *scheme = url_scheme(url);
    if (scheme && strcmp(scheme, "file") == 0) {
        char *with = xasprintf("%sindex.html", url);
        free(url);
        url = with;
    }
    free(scheme);
    return url;
}

static pyti_status fetch_page(pyti_index *ix, size_t i, const char *project,
                              pyti_simple_project *page, bool *present, pyti_error *err)
{
    char *url = page_url(ix, i, project);
    pyti_http_response r;
    pyti_status st = http_get_page(ix->http, url, SIMPLE_ACCEPT, &r, err);
    *present = false;
    memset(page, 0, sizeof *page);
    page->last_serial = -1;
    if (st == PYTI_ERR_NOTFOUND && !http_options(ix->http)->offline) {
        free(url);
        return PYTI_OK; /* the index does not know the project */
    }
    if (st != PYTI_OK) {
        free(url);
        return st;
    }
    st = simple_parse_project(r.body.data, r.body.len, simple_format_for(r.content_type),
                              r.url ? r.url : url, page, err);
    if (st == PYTI_OK) {
        *present = true;
        if (page->last_serial < 0)
            page->last_serial = r.last_serial;
    }
    http_response_free(&r);
    free(url);
    return st;
}

pyti_status index_project_files(pyti_index *ix, const char *project,
                                const pyti_dist_file **files, size_t *nfiles, pyti_error *err)
{
    proj_entry *e = entry_get(ix, project);
    if (!e->fetched) {
        entry_arrays(ix, e);
        for (size_t i = 0; i < ix->urls.len; i++) {
            if (e->checked[i])
                continue; /* prefetched */
            simple_project_free(&e->pages[i]);
            pyti_status st = fetch_page(ix, i, project, &e->pages[i], &e->present[i], err);
            if (st != PYTI_OK)
                return st;
            e->checked[i] = true;
        }
        for (size_t i = 0; i < ix->urls.len; i++)
            if (e->present[i])
                add_files(e, &e->pages[i], ix->urls.items[i]);
        e->fetched = true;
    }
    *files = e->files;
    *nfiles = e->nfiles;
    return PYTI_OK;
}

const pyti_simple_project *index_project_page(pyti_index *ix, size_t i, const char *project)
{
    proj_entry *e = hmap_get(&ix->projects, project);
    if (!e || !e->pages || i >= ix->urls.len || !e->present[i])
        return NULL;
    return &e->pages[i];
}

void index_prefetch(pyti_index *ix, const char *const *projects, size_t n)
{
    /* The pages of these projects on every index, in parallel; what fails
     * here is fetched again (with retries and a proper message) by
     * index_project_files. */
    if (http_options(ix->http)->offline || !n)
        return;
    size_t cap = n * ix->urls.len, m = 0;
    char **urls = xcalloc(cap + 1, sizeof *urls);
    proj_entry **ents = xcalloc(cap + 1, sizeof *ents);
    size_t *idx = xcalloc(cap + 1, sizeof *idx);
    for (size_t k = 0; k < n; k++) {
        proj_entry *e = entry_get(ix, projects[k]);
        if (e->fetched)
            continue;
        entry_arrays(ix, e);
        for (size_t i = 0; i < ix->urls.len; i++) {
            if (e->checked[i])
                continue;
            bool dup = false;
            char *u = page_url(ix, i, projects[k]);
            for (size_t j = 0; j < m && !dup; j++)
                dup = strcmp(urls[j], u) == 0;
            if (dup) {
                free(u);
                continue;
            }
            urls[m] = u;
            ents[m] = e;
            idx[m++] = i;
        }
    }
    pyti_http_response *resp = xcalloc(m + 1, sizeof *resp);
    pyti_status *st = xcalloc(m + 1, sizeof *st);
    http_get_pages(ix->http, (const char *const *)urls, m, SIMPLE_ACCEPT, resp, st);
    for (size_t j = 0; j < m; j++) {
        proj_entry *e = ents[j];
        size_t i = idx[j];
        if (st[j] == PYTI_ERR_NOTFOUND) {
            e->checked[i] = true;
        } else if (st[j] == PYTI_OK) {
            pyti_simple_project page;
            if (simple_parse_project(resp[j].body.data, resp[j].body.len,
                                     simple_format_for(resp[j].content_type),
                                     resp[j].url ? resp[j].url : urls[j], &page, NULL) ==
                PYTI_OK) {
                if (page.last_serial < 0)
                    page.last_serial = resp[j].last_serial;
                simple_project_free(&e->pages[i]);
                e->pages[i] = page;
                e->present[i] = e->checked[i] = true;
            } else {
                simple_project_free(&page);
            }
        }
        http_response_free(&resp[j]);
        free(urls[j]);
    }
    free(resp);
    free(st);
    free(urls);
    free(ents);
    free(idx);
}

/* ---- files and metadata ---- */

pyti_status index_download(pyti_index *ix, const pyti_dist_file *f, char **path,
                           char *sha256_out, pyti_error *err)
{
    pyti_hashes hs = {f->sha256, f->sha384, f->sha512};
    if (!hashes_any(&hs))
        log_debug("%s: the index gives no hash; the download cannot be verified", f->filename);
    return http_fetch_file(ix->http, f->url, &hs, 0, path, sha256_out, err);
}

/* Lists the archive to find the one member matching what we look for:
 * "<x>.dist-info/METADATA" (wheel) or "<top>/PKG-INFO" (sdist), directly
 * under the top level. */
static pyti_status find_member(const char *path, bool wheel, char **member, pyti_error *err)
{
    *member = NULL;
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_zip(a);
    if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
        pyti_status st = pyti_error_set(err, PYTI_ERR_INPUT, "archive %s: %s",
                                        path_basename(path), archive_error_string(a));
        archive_read_free(a);
        return st;
    }
    pyti_strv found = PYTI_STRV_INIT;
    struct archive_entry *ent;
    unsigned long count = 0;
    int r;
    while ((r = archive_read_next_header(a, &ent)) == ARCHIVE_OK && count++ < 200000) {
        const char *name = archive_entry_pathname(ent);
        if (!name)
            continue;
        while (name[0] == '.' && name[1] == '/')
            name += 2;
        const char *slash = strchr(name, '/');
        if (!slash || strchr(slash + 1, '/'))
            continue;
        if (wheel) {
            if (strcmp(slash + 1, "METADATA") == 0 && slash - name > 10 &&
                strncmp(slash - 10, ".dist-info", 10) == 0)
                strv_push_unique(&found, name);
        } else if (strcmp(slash + 1, "PKG-INFO") == 0) {
            strv_push_unique(&found, name);
        }
    }
    archive_read_free(a);
    pyti_status st = PYTI_OK;
    if (found.len == 1)
        *member = xstrdup(found.items[0]);
    else if (!found.len)
        st = pyti_error_set(err, PYTI_ERR_NOTFOUND, "%s: no %s", path_basename(path),
                            wheel ? "*.dist-info/METADATA" : "top-level PKG-INFO");
    else
        st = pyti_error_set(err, PYTI_ERR_INPUT, "%s: %zu candidate metadata files",
                            path_basename(path), found.len);
    strv_free(&found);
    return st;
}

pyti_status index_read_dist_metadata(const char *path, const char *filename, char **out,
                                     size_t *len, pyti_error *err)
{
    *out = NULL;
    bool wheel = str_endswith(filename, ".whl");
    /* The name the specs give first (the file name's own parts), then a
     * listing for archives that spell it differently. */
    char *guess = NULL;
    pyti_dist_filename df;
    if (dist_filename_parse(filename, &df, NULL) == PYTI_OK) {
        if (wheel) {
            guess = xasprintf("%s-%s.dist-info/METADATA", df.name, df.version);
        } else {
            size_t stem = strlen(filename) - strlen(df.extension);
            guess = xasprintf("%.*s/PKG-INFO", (int)stem, filename);
        }
        dist_filename_free(&df);
    }
    pyti_status st = PYTI_ERR_NOTFOUND;
    if (guess)
        st = archive_read_member(path, guess, INDEX_MAX_METADATA, out, len, err);
    free(guess);
    if (st != PYTI_ERR_NOTFOUND)
        return st;
    char *member = NULL;
    st = find_member(path, wheel, &member, err);
    if (st != PYTI_OK)
        return st;
    st = archive_read_member(path, member, INDEX_MAX_METADATA, out, len, err);
    free(member);
    return st;
}

/* Metadata-Version as a comparable PEP 440 version; true if >= 2.2. */
static bool metadata_version_ge_22(const char *mv)
{
    if (!mv)
        return false;
    pyti_version *v = version_parse(mv, NULL);
    pyti_version *ref = version_parse("2.2", NULL);
    bool ok = v && version_compare(v, ref) >= 0;
    version_free(v);
    version_free(ref);
    return ok;
}

pyti_status index_metadata_from_text(const char *text, size_t len, const char *source_name,
                                     bool is_sdist, pyti_dist_metadata *out, bool *is_static,
                                     pyti_error *err)
{
    memset(out, 0, sizeof *out);
    if (is_static)
        *is_static = !is_sdist;
    pyti_metadata *md = metadata_parse(text, len, source_name, err);
    if (!md)
        return err ? err->code : PYTI_ERR_INPUT;
    const char *v;
    if ((v = metadata_get(md, "Name")))
        out->name = xstrdup(v);
    if ((v = metadata_get(md, "Version")))
        out->version = xstrdup(v);
    if ((v = metadata_get(md, "Requires-Python")))
        out->requires_python = xstrdup(v);
    metadata_get_all(md, "Requires-Dist", &out->requires_dist);
    metadata_get_all(md, "Provides-Extra", &out->provides_extra);
    if (is_sdist && is_static) {
        bool ok = metadata_version_ge_22(metadata_get(md, "Metadata-Version"));
        pyti_strv dyn = PYTI_STRV_INIT;
        metadata_get_all(md, "Dynamic", &dyn);
        for (size_t i = 0; i < dyn.len && ok; i++) {
            const char *d = str_trim(dyn.items[i]);
            if (str_eq_nocase(d, "Requires-Dist") || str_eq_nocase(d, "Requires-Python") ||
                str_eq_nocase(d, "Provides-Extra") || str_eq_nocase(d, "Name") ||
                str_eq_nocase(d, "Version"))
                ok = false;
        }
        strv_free(&dyn);
        *is_static = ok;
    }
    metadata_free(md);
    return PYTI_OK;
}

/* Metadata from the PEP 658 file: PYTI_ERR_NOTFOUND when the index does
 * not actually serve it. */
static pyti_status meta_pep658(pyti_index *ix, const pyti_dist_file *f,
                               pyti_dist_metadata *out, pyti_error *err)
{
    char *murl = xasprintf("%s.metadata", f->url);
    pyti_hashes hs = {f->metadata_sha256, NULL, NULL};
    char *path = NULL;
    pyti_status st = http_fetch_file(ix->http, murl, &hs, INDEX_MAX_METADATA, &path, NULL, err);
    free(murl);
    if (st != PYTI_OK)
        return st;
    pyti_buf b = PYTI_BUF_INIT;
    st = path_read_file(path, INDEX_MAX_METADATA, &b, err);
    free(path);
    if (st == PYTI_OK) {
        char *src = xasprintf("%s.metadata", f->filename);
        pyti_error pe;
        if (index_metadata_from_text(b.data ? b.data : "", b.len, src, false, out, NULL, &pe) !=
            PYTI_OK) {
            log_warn("%s: %s", src, pe.msg);
            memset(out, 0, sizeof *out); /* no name: the resolver discards the file */
        }
        free(src);
        out->source = xstrdup("pep658");
    }
    buf_free(&b);
    return st;
}

pyti_status index_file_metadata(pyti_index *ix, const char *project, const pyti_dist_file *f,
                                pyti_dist_metadata *out, bool *needs_build, pyti_error *err)
{
    memset(out, 0, sizeof *out);
    *needs_build = false;
    if (f->has_metadata) {
        pyti_error e;
        pyti_status st = meta_pep658(ix, f, out, &e);
        if (st == PYTI_OK)
            return PYTI_OK;
        if (st != PYTI_ERR_NOTFOUND) {
            if (err)
                *err = e;
            return st;
        }
        log_info("%s: the index announces PEP 658 metadata but does not serve it",
                 f->filename);
    }
    bool wheel = str_endswith(f->filename, ".whl");
    char *path = NULL;
    pyti_status st = index_download(ix, f, &path, NULL, err);
    if (st != PYTI_OK)
        return st;
    char *text = NULL;
    size_t len = 0;
    pyti_error me;
    st = index_read_dist_metadata(path, f->filename, &text, &len, &me);
    bool is_static = true;
    if (st != PYTI_OK) {
        /* A broken distribution is not the index's failure: a wheel is
         * discarded (no name) and resolution goes on; an sdist without
         * PKG-INFO could still build. */
        log_warn("%s: %s", f->filename, me.msg);
        if (wheel) {
            free(path);
            return PYTI_OK;
        }
        is_static = false;
        st = PYTI_OK;
    } else {
        pyti_error pe;
        if (index_metadata_from_text(text, len, f->filename, !wheel, out, &is_static, &pe) !=
            PYTI_OK) {
            log_warn("%s: %s", f->filename, pe.msg);
            memset(out, 0, sizeof *out);
            is_static = wheel;
        }
    }
    free(text);
    if (wheel) {
        out->source = xstrdup("wheel");
    } else if (is_static) {
        out->source = xstrdup("sdist");
    } else if (ix->builder) {
        dist_metadata_free(out);
        pyti_error be;
        st = ix->builder(ix->builder_user, project, f, path, out, &be);
        if (st == PYTI_OK && !out->source)
            out->source = xstrdup("build");
        if (st == PYTI_ERR_NOTFOUND) {
            /* the builder cannot build here (no sandbox): as without one */
            log_info("%s: %s", f->filename, be.msg);
            dist_metadata_free(out);
            memset(out, 0, sizeof *out);
            *needs_build = true;
            st = PYTI_OK;
        } else if (st != PYTI_OK && err) {
            *err = be;
        }
    } else {
        dist_metadata_free(out);
        *needs_build = true;
    }
    free(path);
    return st;
}

/* ---- provider ---- */

static pyti_status prov_list(void *ctx, const char *project, const pyti_dist_file **files,
                             size_t *nfiles, pyti_error *err)
{
    return index_project_files(ctx, project, files, nfiles, err);
}

static pyti_status prov_meta(void *ctx, const char *project, const pyti_dist_file *file,
                             pyti_dist_metadata *out, bool *needs_build, pyti_error *err)
{
    return index_file_metadata(ctx, project, file, out, needs_build, err);
}

static void prov_prefetch(void *ctx, const char *const *projects, size_t n)
{
    index_prefetch(ctx, projects, n);
}

void index_provider(pyti_index *ix, pyti_provider *out)
{
    memset(out, 0, sizeof *out);
    out->ctx = ix;
    out->list_files = prov_list;
    out->get_metadata = prov_meta;
    out->prefetch = prov_prefetch;
}

pyti_status index_http_options_from_config(const pyti_config *cfg, pyti_http_options *o,
                                           pyti_error *err)
{
    uint64_t retries = o->retries, timeout = 0, page = 0, file = 0;
    pyti_status st;
    if ((st = config_get_u64(cfg, "index", "retries", &retries, err)) ||
        (st = config_get_u64(cfg, "index", "connect_timeout", &timeout, err)) ||
        (st = config_get_u64(cfg, "index", "max_page_size", &page, err)) ||
        (st = config_get_u64(cfg, "index", "max_file_size", &file, err)))
        return st;
    o->retries = retries > 100 ? 100 : (unsigned)retries;
    if (timeout)
        o->connect_timeout_ms = (long)(timeout > 3600 ? 3600 : timeout) * 1000;
    if (page)
        o->max_page_size = (size_t)page;
    if (file)
        o->max_file_size = (size_t)file;
    const char *cd = config_get(cfg, "index", "cache_dir");
    if (cd && *cd)
        o->cache_dir = cd;
    return PYTI_OK;
}
