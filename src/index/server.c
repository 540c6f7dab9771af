/* server.c — the local simple index over a directory (see server.h):
 * scanning the directory into an immutable table, rendering PEP 503 HTML
 * and PEP 691 JSON pages, serving files and PEP 658 metadata with
 * libmicrohttpd. */
#include "index/server.h"
#include "common/buf.h"
#include "common/hash.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/netaddr.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "index/hmap_internal.h"
#include "index/index.h"
#include "index/url.h"
#include "pkg/name.h"
#include "pkg/version.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SCAN_DEPTH 3
#define MAX_SCAN_FILES 200000

typedef struct sv_file {
    char *path;
    char *filename;
    char *project;       /* normalised */
    char *display;       /* Name from the metadata, else from the file name */
    char *version;       /* as in the file name */
    pyti_version *pv;    /* NULL if not PEP 440 */
    char sha256[PYTI_SHA256_HEX_LEN + 1];
    unsigned long long size;
    struct timespec mtime;
    char *requires_python;
    char *metadata;      /* wheels: METADATA text, else NULL */
    size_t metadata_len;
    char metadata_sha256[PYTI_SHA256_HEX_LEN + 1];
    bool yanked;
    char *yanked_reason;
} sv_file;

typedef struct sv_project {
    char *name;
    char *display;
    sv_file **files;
    size_t n;
    long long serial;
} sv_project;

typedef struct sv_repo {
    unsigned refs;
    sv_file *files;
    size_t nfiles;
    sv_project *projects; /* sorted by name */
    size_t nprojects;
    pyti_hmap map;        /* name -> sv_project */
    long long serial;
} sv_repo;

struct pyti_server {
    pyti_server_options o;
    char *dir;
    struct MHD_Daemon *mhd;
    pthread_mutex_t lock;
    sv_repo *repo;
    unsigned port;
    char url[128];
};

/* ---- scanning ---- */

static void file_free(sv_file *f)
{
    free(f->path);
    free(f->filename);
    free(f->project);
    free(f->display);
    free(f->version);
    version_free(f->pv);
    free(f->requires_python);
    free(f->metadata);
    free(f->yanked_reason);
}

static void repo_free(sv_repo *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nfiles; i++)
        file_free(&r->files[i]);
    free(r->files);
    for (size_t i = 0; i < r->nprojects; i++) {
        free(r->projects[i].name);
        free(r->projects[i].display);
        free(r->projects[i].files);
    }
    free(r->projects);
    hmap_free(&r->map);
    free(r);
}

typedef struct scan {
    sv_file *files;
    size_t n, cap;
} scan;

static void scan_file(scan *sc, const char *path, const char *name)
{
    pyti_dist_filename df;
    if (dist_filename_parse(name, &df, NULL) != PYTI_OK)
        return;
    if (sc->n >= MAX_SCAN_FILES) {
        dist_filename_free(&df);
        return;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        dist_filename_free(&df);
        return;
    }
    unsigned long long size = 0;
    char sha[PYTI_SHA256_HEX_LEN + 1];
    pyti_error e;
    if (hash_sha256_file(path, sha, &size, &e) != PYTI_OK) {
        log_warn("index serve: %s", e.msg);
        dist_filename_free(&df);
        return;
    }
    if (sc->n == sc->cap) {
        sc->cap = sc->cap ? sc->cap * 2 : 64;
        sc->files = xreallocarray(sc->files, sc->cap, sizeof *sc->files);
    }
    sv_file *f = &sc->files[sc->n++];
    memset(f, 0, sizeof *f);
    f->path = xstrdup(path);
    f->filename = xstrdup(name);
    f->project = name_normalize(df.name);
    f->display = xstrdup(df.name);
    f->version = xstrdup(df.version);
    f->pv = version_parse(df.version, NULL);
    memcpy(f->sha256, sha, sizeof sha);
    f->size = size;
    f->mtime = st.st_mtim;
    bool wheel = df.kind == PYTI_DIST_WHEEL;
    dist_filename_free(&df);

    char *text = NULL;
    size_t len = 0;
    if (index_read_dist_metadata(path, name, &text, &len, &e) != PYTI_OK) {
        log_warn("index serve: %s: no metadata (%s)", name, e.msg);
    } else {
        pyti_dist_metadata md;
        if (index_metadata_from_text(text, len, name, !wheel, &md, NULL, &e) == PYTI_OK) {
            if (md.requires_python && !str_blank(md.requires_python))
                f->requires_python = xstrdup(md.requires_python);
            if (md.name && *md.name) {
                free(f->display);
                f->display = xstrdup(md.name);
            }
            dist_metadata_free(&md);
        }
        if (wheel) {
            f->metadata = text;
            f->metadata_len = len;
            hash_sha256_hex(text, len, f->metadata_sha256);
            text = NULL;
        }
        free(text);
    }
    char *ypath = xasprintf("%s.yanked", path);
    pyti_buf y = PYTI_BUF_INIT;
    if (path_read_file(ypath, 4096, &y, NULL) == PYTI_OK) {
        f->yanked = true;
        char *reason = str_trim(y.data ? y.data : (char *)"");
        if (*reason)
            f->yanked_reason = xstrdup(reason);
    }
    buf_free(&y);
    free(ypath);
}

static void scan_dir(scan *sc, const char *dir, unsigned depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    pyti_strv names = PYTI_STRV_INIT;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            strv_push(&names, de->d_name);
    closedir(d);
    strv_sort(&names);
    for (size_t i = 0; i < names.len; i++) {
        char *p = path_join(dir, names.items[i]);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (depth < MAX_SCAN_DEPTH)
                scan_dir(sc, p, depth + 1);
        } else {
            scan_file(sc, p, names.items[i]);
        }
        free(p);
    }
    strv_free(&names);
}

static int file_order(const void *a, const void *b)
{
    const sv_file *x = a, *y = b;
    int c = strcmp(x->project, y->project);
    if (c)
        return c;
    if (x->pv && y->pv && (c = version_compare(x->pv, y->pv)))
        return c;
    if (!x->pv != !y->pv)
        return x->pv ? -1 : 1;
    return strcmp(x->filename, y->filename);
}

static sv_repo *repo_scan(const char *dir)
{
    scan sc = {0};
    scan_dir(&sc, dir, 1);
    if (sc.n)
        qsort(sc.files, sc.n, sizeof *sc.files, file_order);
    sv_repo *r = xcalloc(1, sizeof *r);
    r->refs = 1;
    r->files = sc.files;
    r->nfiles = sc.n;
    for (size_t i = 0; i < sc.n; i++) {
        sv_file *f = &sc.files[i];
        sv_project *p = r->nprojects ? &r->projects[r->nprojects - 1] : NULL;
        if (!p || strcmp(p->name, f->project) != 0) {
            r->projects = xreallocarray(r->projects, r->nprojects + 1, sizeof *r->projects);
            p = &r->projects[r->nprojects++];
            memset(p, 0, sizeof *p);
            p->name = xstrdup(f->project);
            p->display = xstrdup(f->display);
        }
        p->files = xreallocarray(p->files, p->n + 1, sizeof *p->files);
        p->files[p->n++] = f;
        if (f->mtime.tv_sec > p->serial)
            p->serial = f->mtime.tv_sec;
        if (f->mtime.tv_sec > r->serial)
            r->serial = f->mtime.tv_sec;
    }
    for (size_t i = 0; i < r->nprojects; i++)
        hmap_put(&r->map, r->projects[i].name, &r->projects[i]);
    return r;
}

static sv_repo *repo_get(pyti_server *s)
{
    pthread_mutex_lock(&s->lock);
    sv_repo *r = s->repo;
    r->refs++;
    pthread_mutex_unlock(&s->lock);
    return r;
}

static void repo_put(pyti_server *s, sv_repo *r)
{
    pthread_mutex_lock(&s->lock);
    bool last = --r->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (last)
        repo_free(r);
}

/* ---- content negotiation ---- */

int server_negotiate(const char *accept)
{
    static const char *const types[3] = {"application/vnd.pypi.simple.v1+json",
                                         "application/vnd.pypi.simple.v1+html", "text/html"};
    if (!accept || str_blank(accept))
        return 3;
    double q[3] = {-1, -1, -1};
    int spec[3] = {-1, -1, -1}; /* specificity of the range that set q */
    const char *p = accept;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char *item = xstrndup(p, n);
        p += n + (end ? 1 : 0);
        char *semi = strchr(item, ';');
        double qv = 1.0;
        if (semi) {
            *semi = '\0';
            for (char *par = semi + 1; par && *par;) {
                char *next = strchr(par, ';');
                if (next)
                    *next++ = '\0';
                char *t = str_trim(par);
                if ((t[0] == 'q' || t[0] == 'Q') && t[1] == '=') {
                    char *e;
                    qv = strtod(t + 2, &e);
                    if (e == t + 2 || qv < 0 || qv > 1)
                        qv = 1.0;
                }
                par = next;
            }
        }
        char *mt = str_lower(str_trim(item));
        /* PEP 691's "latest" aliases mean v1 for this server. */
        const char *alias = strcmp(mt, "application/vnd.pypi.simple.latest+json") == 0 ? types[0]
                            : strcmp(mt, "application/vnd.pypi.simple.latest+html") == 0
                                ? types[1]
                                : mt;
        for (int i = 0; i < 3; i++) {
            int sp = -1;
            if (strcmp(alias, types[i]) == 0)
                sp = 2;
            else if (strcmp(alias, "*/*") == 0)
                sp = 0;
            else {
                const char *slash = strchr(types[i], '/');
                size_t tl = (size_t)(slash - types[i]);
                if (strlen(alias) == tl + 2 && strncmp(alias, types[i], tl) == 0 &&
                    strcmp(alias + tl, "/*") == 0)
                    sp = 1;
            }
            if (sp > spec[i] || (sp == spec[i] && sp >= 0 && qv > q[i])) {
                spec[i] = sp;
                q[i] = qv;
            }
        }
        free(item);
    }
    /* Highest q wins; on a tie HTML first (browsers, old clients), JSON
     * only when asked for at least as strongly as anything else. */
    int best = 0;
    double bq = 0;
    static const int order[3] = {2, 1, 0};
    for (int k = 0; k < 3; k++) {
        int i = order[k];
        if (q[i] > bq) {
            bq = q[i];
            best = i + 1;
        }
    }
    return bq > 0 ? best : 0;
}

/* ---- rendering ---- */

static void html_escape(pyti_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': buf_puts(b, "&amp;"); break;
        case '<': buf_puts(b, "&lt;"); break;
        case '>': buf_puts(b, "&gt;"); break;
        case '"': buf_puts(b, "&quot;"); break;
        case '\'': buf_puts(b, "&#x27;"); break;
        default: buf_putc(b, *s);
        }
    }
}

static char *upload_time(const sv_file *f)
{
    struct tm tm;
    gmtime_r(&f->mtime.tv_sec, &tm);
    char t[64];
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
    return xasprintf("%s.%06ldZ", t, f->mtime.tv_nsec / 1000);
}

/* The file's URL relative to its project page. */
static char *file_href(const sv_file *f)
{
    char *p = url_encode(f->project, false);
    char *n = url_encode(f->filename, false);
    char *h = xasprintf("../../files/%s/%s", p, n);
    free(p);
    free(n);
    return h;
}

static char *render_index_html(const sv_repo *r)
{
    pyti_buf b = PYTI_BUF_INIT;
    buf_puts(&b, "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" "
                 "content=\"1.1\">\n    <title>Simple index</title>\n  </head>\n  <body>\n");
    for (size_t i = 0; i < r->nprojects; i++) {
        char *enc = url_encode(r->projects[i].name, false);
        buf_puts(&b, "    <a href=\"");
        html_escape(&b, enc);
        buf_puts(&b, "/\">");
        html_escape(&b, r->projects[i].display);
        buf_puts(&b, "</a><br/>\n");
        free(enc);
    }
    buf_puts(&b, "  </body>\n</html>\n");
    return buf_detach(&b);
}

static char *render_index_json(const sv_repo *r)
{
    json_t *root = json_object();
    json_t *meta = json_object();
    json_object_set_new(meta, "api-version", json_string("1.1"));
    json_object_set_new(meta, "_last-serial", json_integer(r->serial));
    json_object_set_new(root, "meta", meta);
    json_t *list = json_array();
    for (size_t i = 0; i < r->nprojects; i++) {
        json_t *p = json_object();
        json_set_text(p, "name", r->projects[i].display);
        json_object_set_new(p, "_last-serial", json_integer(r->projects[i].serial));
        json_array_append_new(list, p);
    }
    json_object_set_new(root, "projects", list);
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

static char *render_project_html(const sv_project *p, bool metadata)
{
    pyti_buf b = PYTI_BUF_INIT;
    buf_puts(&b, "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" "
                 "content=\"1.1\">\n    <title>Links for ");
    html_escape(&b, p->display);
    buf_puts(&b, "</title>\n  </head>\n  <body>\n    <h1>Links for ");
    html_escape(&b, p->display);
    buf_puts(&b, "</h1>\n");
    for (size_t i = 0; i < p->n; i++) {
        const sv_file *f = p->files[i];
        char *href = file_href(f);
        buf_puts(&b, "    <a href=\"");
        html_escape(&b, href);
        buf_printf(&b, "#sha256=%s\"", f->sha256);
        free(href);
        if (f->requires_python) {
            buf_puts(&b, " data-requires-python=\"");
            html_escape(&b, f->requires_python);
            buf_puts(&b, "\"");
        }
        if (metadata && f->metadata)
            buf_printf(&b, " data-dist-info-metadata=\"sha256=%s\" data-core-metadata=\"sha256=%s\"",
                       f->metadata_sha256, f->metadata_sha256);
        if (f->yanked) {
            buf_puts(&b, " data-yanked=\"");
            html_escape(&b, f->yanked_reason ? f->yanked_reason : "");
            buf_puts(&b, "\"");
        }
        buf_puts(&b, ">");
        html_escape(&b, f->filename);
        buf_puts(&b, "</a><br/>\n");
    }
    buf_puts(&b, "  </body>\n</html>\n");
    return buf_detach(&b);
}

static int pv_cmp(const void *a, const void *b)
{
    const sv_file *x = *(sv_file *const *)a, *y = *(sv_file *const *)b;
    if (x->pv && y->pv)
        return version_compare(x->pv, y->pv);
    if (!x->pv != !y->pv)
        return x->pv ? -1 : 1;
    return strcmp(x->version, y->version);
}

static char *render_project_json(const sv_project *p, bool metadata)
{
    json_t *root = json_object();
    json_t *meta = json_object();
    json_object_set_new(meta, "api-version", json_string("1.1"));
    json_object_set_new(meta, "_last-serial", json_integer(p->serial));
    json_object_set_new(root, "meta", meta);
    json_set_text(root, "name", p->name);
    json_t *files = json_array();
    for (size_t i = 0; i < p->n; i++) {
        const sv_file *f = p->files[i];
        json_t *jf = json_object();
        json_set_text(jf, "filename", f->filename);
        char *href = file_href(f);
        json_set_text(jf, "url", href);
        free(href);
        json_t *h = json_object();
        json_object_set_new(h, "sha256", json_string(f->sha256));
        json_object_set_new(jf, "hashes", h);
        if (f->requires_python)
            json_set_text(jf, "requires-python", f->requires_python);
        /* PEP 714: only the new key in JSON. pip 23.0 and 23.0.1 crash on
         * any PEP 691 value of the old "dist-info-metadata" key (they
         * expect a string), which is why the key was renamed. HTML keeps
         * both attributes: old clients read data-dist-info-metadata. */
        if (metadata && f->metadata) {
            json_t *mh = json_object();
            json_object_set_new(mh, "sha256", json_string(f->metadata_sha256));
            json_object_set_new(jf, "core-metadata", mh);
        }
        if (f->yanked)
            json_object_set_new(jf, "yanked", f->yanked_reason ? json_text(f->yanked_reason)
                                                               : json_true());
        else
            json_object_set_new(jf, "yanked", json_false());
        json_object_set_new(jf, "size", json_integer((json_int_t)f->size));
        char *ut = upload_time(f);
        json_set_text(jf, "upload-time", ut);
        free(ut);
        json_array_append_new(files, jf);
    }
    json_object_set_new(root, "files", files);
    /* PEP 700: every version with files, in version order. */
    sv_file **sorted = xmalloc((p->n + 1) * sizeof *sorted);
    memcpy(sorted, p->files, p->n * sizeof *sorted);
    qsort(sorted, p->n, sizeof *sorted, pv_cmp);
    json_t *versions = json_array();
    pyti_strv seen = PYTI_STRV_INIT;
    for (size_t i = 0; i < p->n; i++) {
        char *v = sorted[i]->pv ? version_to_string(sorted[i]->pv) : xstrdup(sorted[i]->version);
        if (!strv_contains(&seen, v)) {
            strv_push(&seen, v);
            json_array_append_new(versions, json_text(v));
        }
        free(v);
    }
    strv_free(&seen);
    free(sorted);
    json_object_set_new(root, "versions", versions);
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

/* ---- HTTP ---- */

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *ctype,
                                 char *body, long long serial, bool vary)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (vary)
        MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept");
    if (serial >= 0) {
        char s[32];
        snprintf(s, sizeof s, "%lld", serial);
        MHD_add_response_header(r, "X-PyPI-Last-Serial", s);
    }
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
    return send_text(c, status, "text/plain; charset=utf-8", xasprintf("%s\n", msg), -1, false);
}

static enum MHD_Result redirect(struct MHD_Connection *c, const char *to)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, to);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_MOVED_PERMANENTLY, r);
    MHD_destroy_response(r);
    return ret;
}

static int choose_format(struct MHD_Connection *c)
{
    const char *fmt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
    if (fmt && *fmt) {
        /* "+json" arrives as " json" when the client did not escape the
         * '+' (query strings decode '+' as a space). */
        char *f = xstrdup(fmt);
        for (char *p = f; *p; p++)
            if (*p == ' ')
                *p = '+';
        int r = server_negotiate(f);
        free(f);
        return r;
    }
    return server_negotiate(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept"));
}

static const char *format_ctype(int f)
{
    return f == 1   ? "application/vnd.pypi.simple.v1+json"
           : f == 2 ? "application/vnd.pypi.simple.v1+html"
                    : "text/html; charset=utf-8";
}

static enum MHD_Result send_file(struct MHD_Connection *c, const sv_file *f)
{
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return send_error(c, MHD_HTTP_NOT_FOUND, "file vanished");
    }
    uint64_t size = (uint64_t)st.st_size, off = 0, len = size;
    unsigned status = MHD_HTTP_OK;
    char range_hdr[96] = "";
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    if (range && strncmp(range, "bytes=", 6) == 0 && !strchr(range, ',')) {
        /* One range only: "a-b", "a-" or "-n". */
        const char *spec = range + 6;
        char *end;
        unsigned long long a = 0, z = size ? size - 1 : 0;
        bool ok = true;
        if (*spec == '-') {
            unsigned long long n = strtoull(spec + 1, &end, 10);
            ok = *end == '\0' && n > 0;
            a = n >= size ? 0 : size - n;
        } else {
            a = strtoull(spec, &end, 10);
            if (*end != '-')
                ok = false;
            else if (end[1]) {
                z = strtoull(end + 1, &end, 10);
                ok = ok && *end == '\0';
            }
        }
        if (!ok || a >= size || z < a) {
            close(fd);
            struct MHD_Response *r =
                MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
            snprintf(range_hdr, sizeof range_hdr, "bytes */%llu", (unsigned long long)size);
            MHD_add_response_header(r, "Content-Range", range_hdr);
            enum MHD_Result ret = MHD_queue_response(c, 416, r);
            MHD_destroy_response(r);
            return ret;
        }
        if (z >= size)
            z = size - 1;
        off = a;
        len = z - a + 1;
        status = MHD_HTTP_PARTIAL_CONTENT;
        snprintf(range_hdr, sizeof range_hdr, "bytes %llu-%llu/%llu", a, z,
                 (unsigned long long)size);
    }
    struct MHD_Response *r = MHD_create_response_from_fd_at_offset64(len, fd, off);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    if (*range_hdr)
        MHD_add_response_header(r, "Content-Range", range_hdr);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result route(pyti_server *s, sv_repo *repo, struct MHD_Connection *c,
                             const char *url)
{
    if (strcmp(url, "/") == 0 || strcmp(url, "/simple") == 0)
        return redirect(c, "/simple/");
    if (strcmp(url, "/simple/") == 0) {
        int f = choose_format(c);
        if (!f)
            return send_error(c, MHD_HTTP_NOT_ACCEPTABLE, "no acceptable format");
        char *body = f == 1 ? render_index_json(repo) : render_index_html(repo);
        return send_text(c, MHD_HTTP_OK, format_ctype(f), body, repo->serial, true);
    }
    if (str_startswith(url, "/simple/")) {
        const char *name = url + 8;
        size_t n = strlen(name);
        bool slash = n && name[n - 1] == '/';
        char *raw = xstrndup(name, slash ? n - 1 : n);
        if (!*raw || strchr(raw, '/')) {
            free(raw);
            return send_error(c, MHD_HTTP_NOT_FOUND, "not found");
        }
        char *norm = name_normalize(raw);
        if (strcmp(norm, raw) != 0 || !slash) {
            char *enc = url_encode(norm, false);
            char *to = xasprintf("/simple/%s/", enc);
            enum MHD_Result r = redirect(c, to);
            free(to);
            free(enc);
            free(raw);
            free(norm);
            return r;
        }
        free(raw);
        sv_project *p = hmap_get(&repo->map, norm);
        free(norm);
        if (!p)
            return send_error(c, MHD_HTTP_NOT_FOUND, "no such project");
        int f = choose_format(c);
        if (!f)
            return send_error(c, MHD_HTTP_NOT_ACCEPTABLE, "no acceptable format");
        char *body = f == 1 ? render_project_json(p, !s->o.no_metadata)
                            : render_project_html(p, !s->o.no_metadata);
        return send_text(c, MHD_HTTP_OK, format_ctype(f), body, p->serial, true);
    }
    if (str_startswith(url, "/files/")) {
        const char *rest = url + 7;
        const char *slash = strchr(rest, '/');
        if (!slash || strchr(slash + 1, '/'))
            return send_error(c, MHD_HTTP_NOT_FOUND, "not found");
        char *proj = xstrndup(rest, (size_t)(slash - rest));
        sv_project *p = hmap_get(&repo->map, proj);
        free(proj);
        const char *fname = slash + 1;
        if (p) {
            size_t fl = strlen(fname);
            bool meta = fl > 9 && strcmp(fname + fl - 9, ".metadata") == 0;
            for (size_t i = 0; i < p->n; i++) {
                const sv_file *f = p->files[i];
                if (strcmp(f->filename, fname) == 0)
                    return send_file(c, f);
                if (meta && f->metadata && !s->o.no_metadata &&
                    strlen(f->filename) == fl - 9 && strncmp(f->filename, fname, fl - 9) == 0) {
                    char *body = xmalloc(f->metadata_len + 1);
                    memcpy(body, f->metadata, f->metadata_len);
                    struct MHD_Response *r = MHD_create_response_from_buffer(
                        f->metadata_len, body, MHD_RESPMEM_MUST_FREE);
                    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                            "application/octet-stream");
                    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
                    MHD_destroy_response(r);
                    return ret;
                }
            }
        }
        return send_error(c, MHD_HTTP_NOT_FOUND, "no such file");
    }
    return send_error(c, MHD_HTTP_NOT_FOUND, "not found");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    pyti_server *s = cls;
    (void)version;
    (void)upload;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD");
    /* Answer on the second call: queueing a response on the first one
     * (before MHD knows the request has no body) makes MHD close the
     * connection, and clients would reconnect for every file. */
    static int seen;
    if (!*con_cls) {
        *con_cls = &seen;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (s->o.log_requests)
        log_error("index serve: %s %s", method, url);
    sv_repo *repo = repo_get(s);
    enum MHD_Result r = route(s, repo, c, url);
    repo_put(s, repo);
    return r;
}

/* ---- life cycle ---- */

pyti_server *server_start(const pyti_server_options *o, pyti_error *err)
{
    if (!o->dir || !path_is_dir(o->dir)) {
        pyti_error_set(err, PYTI_ERR_NOTFOUND, "index serve: '%s' is not a directory",
                       o->dir ? o->dir : "");
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    bool v6 = false;
    if (netaddr_parse_listen(o->listen, "127.0.0.1:8000", &ss, &sslen, &v6, err) != PYTI_OK)
        return NULL;
    pyti_server *s = xcalloc(1, sizeof *s);
    s->o = *o;
    s->dir = xstrdup(o->dir);
    s->o.dir = s->dir;
    s->o.listen = NULL;
    pthread_mutex_init(&s->lock, NULL);
    s->repo = repo_scan(s->dir);
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | (v6 ? MHD_USE_IPv6 : 0);
    unsigned threads = o->threads ? o->threads : 4;
    s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR,
                              (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, threads,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)256, MHD_OPTION_END);
    if (!s->mhd) {
        pyti_error_set(err, PYTI_ERR_IO, "index serve: cannot listen on %s (in use?)",
                       o->listen ? o->listen : "127.0.0.1:8000");
        repo_free(s->repo);
        pthread_mutex_destroy(&s->lock);
        free(s->dir);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    char host[INET6_ADDRSTRLEN] = "127.0.0.1";
    if (v6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
    else
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
    snprintf(s->url, sizeof s->url, v6 ? "http://[%s]:%u/simple/" : "http://%s:%u/simple/",
             host, s->port);
    return s;
}

unsigned server_port(const pyti_server *s) { return s->port; }

const char *server_url(const pyti_server *s) { return s->url; }

void server_counts(const pyti_server *s, unsigned long *projects, unsigned long *files)
{
    pthread_mutex_lock((pthread_mutex_t *)&s->lock);
    *projects = s->repo->nprojects;
    *files = s->repo->nfiles;
    pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
}

pyti_status server_rescan(pyti_server *s, pyti_error *err)
{
    if (!path_is_dir(s->dir))
        return pyti_error_set(err, PYTI_ERR_NOTFOUND, "index serve: '%s' is not a directory",
                              s->dir);
    sv_repo *fresh = repo_scan(s->dir);
    pthread_mutex_lock(&s->lock);
    sv_repo *old = s->repo;
    s->repo = fresh;
    bool last = --old->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (last)
        repo_free(old);
    return PYTI_OK;
}

void server_stop(pyti_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->mhd);
    repo_free(s->repo);
    pthread_mutex_destroy(&s->lock);
    free(s->dir);
    free(s);
}
