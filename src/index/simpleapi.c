/* simpleapi.c — parsing simple repository pages: PEP 691 JSON with
 * jansson, PEP 503 HTML with libxml2's recovering HTML parser (see
 * simpleapi.h). */
#include "index/simpleapi.h"
#include "common/buf.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "index/url.h"

#include <ctype.h>
#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

pyti_page_format simple_format_for(const char *content_type)
{
    if (!content_type)
        return PYTI_PAGE_HTML;
    while (*content_type == ' ')
        content_type++;
    if (strncasecmp(content_type, "application/vnd.pypi.simple.v1+json", 35) == 0 ||
        strncasecmp(content_type, "application/json", 16) == 0)
        return PYTI_PAGE_JSON;
    return PYTI_PAGE_HTML;
}

static void file_free(pyti_simple_file *f)
{
    free(f->filename);
    free(f->url);
    free(f->sha256);
    free(f->sha384);
    free(f->sha512);
    free(f->requires_python);
    free(f->yanked_reason);
    free(f->metadata_sha256);
    free(f->upload_time);
}

void simple_project_free(pyti_simple_project *p)
{
    for (size_t i = 0; i < p->nfiles; i++)
        file_free(&p->files[i]);
    free(p->files);
    free(p->name);
    free(p->api_version);
    free(p->page_url);
    strv_free(&p->versions);
    memset(p, 0, sizeof *p);
    p->last_serial = -1;
}

void simple_index_free(pyti_simple_index *ix)
{
    strv_free(&ix->names);
    free(ix->api_version);
    memset(ix, 0, sizeof *ix);
    ix->last_serial = -1;
}

/* A copy of s bounded to SIMPLE_MAX_FIELD bytes, or NULL for NULL. */
static char *field(const char *s)
{
    if (!s)
        return NULL;
    return xstrndup(s, SIMPLE_MAX_FIELD);
}

static char *hexlower(const char *s, size_t len)
{
    if (len > 256)
        len = 256;
    char *h = xstrndup(s, len);
    str_lower(h);
    return h;
}

/* Sets one of the file's hashes if algo is one we verify with. */
static void set_hash(pyti_simple_file *f, const char *algo, const char *value, size_t len)
{
    char **slot = NULL;
    if (strcasecmp(algo, "sha256") == 0)
        slot = &f->sha256;
    else if (strcasecmp(algo, "sha384") == 0)
        slot = &f->sha384;
    else if (strcasecmp(algo, "sha512") == 0)
        slot = &f->sha512;
    if (!slot || *slot)
        return; /* the first value given for an algorithm counts */
    *slot = hexlower(value, len);
}

/* "sha256=abc&egg=x" style fragments. */
static void parse_fragment(pyti_simple_file *f, const char *frag)
{
    if (!frag)
        return;
    const char *p = frag;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (eq && eq > p && (size_t)(eq - p) < 16) {
            char algo[16];
            memcpy(algo, p, (size_t)(eq - p));
            algo[eq - p] = '\0';
            set_hash(f, algo, eq + 1, n - (size_t)(eq - p) - 1);
        }
        p += n;
        if (*p == '&')
            p++;
    }
}

void simple_parse_metadata_attr(const char *value, bool *has, char **sha256)
{
    *has = false;
    *sha256 = NULL;
    if (!value)
        return;
    while (isspace((unsigned char)*value))
        value++;
    if (strcasecmp(value, "false") == 0)
        return;
    *has = true; /* "true", a hash, or anything else: pip fetches the file */
    if (strncasecmp(value, "sha256=", 7) == 0 && value[7])
        *sha256 = hexlower(value + 7, strcspn(value + 7, " \t\r\n"));
}

/* Appends a file to p; returns it, or NULL when the page has too many. */
static pyti_simple_file *add_file(pyti_simple_project *p, size_t *cap)
{
    if (p->nfiles >= SIMPLE_MAX_FILES)
        return NULL;
    if (p->nfiles == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        p->files = xreallocarray(p->files, *cap, sizeof *p->files);
    }
    pyti_simple_file *f = &p->files[p->nfiles++];
    memset(f, 0, sizeof *f);
    f->size = -1;
    return f;
}

/* Fills url and filename from href; false if the link is unusable. */
static bool set_location(pyti_simple_file *f, const char *base, const char *href,
                         char **fragment)
{
    f->url = url_resolve(base, href, fragment);
    if (!f->url)
        return false;
    f->filename = url_filename(f->url);
    if (!f->filename || !*f->filename || strlen(f->filename) > SIMPLE_MAX_FIELD) {
        free(f->url);
        free(f->filename);
        f->url = f->filename = NULL;
        if (fragment) {
            free(*fragment);
            *fragment = NULL;
        }
        return false;
    }
    return true;
}

/* ---- JSON (PEP 691) ---- */

static pyti_status check_api_version(const char *v, const char *what, pyti_error *err)
{
    if (v && atoi(v) > 1)
        return pyti_error_set(err, PYTI_ERR_INPUT,
                              "%s: unsupported simple API version '%s' (pyti speaks 1.x)",
                              what, v);
    return PYTI_OK;
}

static void json_meta(json_t *root, char **api_version, long long *serial)
{
    json_t *meta = json_object_get(root, "meta");
    if (!json_is_object(meta))
        return;
    const char *v = json_string_value(json_object_get(meta, "api-version"));
    if (v)
        *api_version = field(v);
    json_t *s = json_object_get(meta, "_last-serial");
    if (json_is_integer(s))
        *serial = json_integer_value(s);
}

/* core-metadata / dist-info-metadata: true, false or {"sha256": ...}. */
static void json_metadata(pyti_simple_file *f, json_t *v)
{
    if (json_is_true(v)) {
        f->has_metadata = true;
    } else if (json_is_object(v)) {
        f->has_metadata = true;
        const char *h = json_string_value(json_object_get(v, "sha256"));
        if (h)
            f->metadata_sha256 = hexlower(h, strlen(h));
    }
}

static void json_file(pyti_simple_project *p, size_t *cap, json_t *jf, const char *page_url)
{
    if (!json_is_object(jf))
        return;
    const char *url = json_string_value(json_object_get(jf, "url"));
    if (!url)
        return;
    pyti_simple_file *f = add_file(p, cap);
    if (!f)
        return;
    char *frag = NULL;
    if (!set_location(f, page_url, url, &frag)) {
        p->nfiles--;
        return;
    }
    const char *fname = json_string_value(json_object_get(jf, "filename"));
    if (fname && *fname && strlen(fname) <= SIMPLE_MAX_FIELD && !strchr(fname, '/')) {
        free(f->filename);
        f->filename = xstrdup(fname);
    }
    json_t *hashes = json_object_get(jf, "hashes");
    if (json_is_object(hashes)) {
        const char *algo;
        json_t *hv;
        json_object_foreach(hashes, algo, hv) {
            const char *s = json_string_value(hv);
            if (s)
                set_hash(f, algo, s, strlen(s));
        }
    }
    parse_fragment(f, frag); /* only fills algorithms "hashes" did not give */
    free(frag);
    const char *rp = json_string_value(json_object_get(jf, "requires-python"));
    if (rp)
        f->requires_python = field(rp);
    json_t *y = json_object_get(jf, "yanked");
    if (json_is_string(y)) {
        f->yanked = true;
        if (*json_string_value(y))
            f->yanked_reason = field(json_string_value(y));
    } else if (json_is_true(y)) {
        f->yanked = true;
    }
    /* PEP 714: "core-metadata" replaces "dist-info-metadata"; the new
     * name wins when both are present. */
    json_t *cm = json_object_get(jf, "core-metadata");
    json_metadata(f, cm ? cm : json_object_get(jf, "dist-info-metadata"));
    json_t *size = json_object_get(jf, "size");
    if (json_is_integer(size) && json_integer_value(size) >= 0)
        f->size = json_integer_value(size);
    const char *ut = json_string_value(json_object_get(jf, "upload-time"));
    if (ut)
        f->upload_time = field(ut);
}

static json_t *load_json(const char *body, size_t len, const char *what, pyti_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (!root) {
        pyti_error_set(err, PYTI_ERR_INPUT, "%s: invalid JSON at line %d column %d: %s", what,
                       jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        pyti_error_set(err, PYTI_ERR_INPUT, "%s: JSON page is not an object", what);
        return NULL;
    }
    return root;
}

static pyti_status parse_project_json(const char *body, size_t len, const char *page_url,
                                      pyti_simple_project *out, pyti_error *err)
{
    json_t *root = load_json(body, len, page_url, err);
    if (!root)
        return err ? err->code : PYTI_ERR_INPUT;
    pyti_status st = PYTI_OK;
    json_meta(root, &out->api_version, &out->last_serial);
    if ((st = check_api_version(out->api_version, page_url, err)) != PYTI_OK)
        goto done;
    const char *name = json_string_value(json_object_get(root, "name"));
    if (name)
        out->name = field(name);
    json_t *files = json_object_get(root, "files");
    if (files && !json_is_array(files)) {
        st = pyti_error_set(err, PYTI_ERR_INPUT, "%s: \"files\" is not a list", page_url);
        goto done;
    }
    size_t cap = 0, i;
    json_t *jf;
    json_array_foreach(files, i, jf)
        json_file(out, &cap, jf, page_url);
    json_t *versions = json_object_get(root, "versions");
    json_t *jv;
    json_array_foreach(versions, i, jv) {
        if (out->versions.len >= SIMPLE_MAX_FILES)
            break;
        if (json_is_string(jv))
            strv_push_owned(&out->versions, field(json_string_value(jv)));
    }
done:
    json_decref(root);
    return st;
}

/* ---- HTML (PEP 503) ---- */

static htmlDocPtr parse_html(const char *body, size_t len, const char *url)
{
    if (len > (size_t)0x7fffffff)
        len = 0x7fffffff;
    /* UTF-8 unless the page says otherwise in a <meta> (libxml2 honours
     * it); NONET so an odd DOCTYPE cannot make libxml2 fetch anything. */
    return htmlReadMemory(body, (int)len, url, "UTF-8",
                          HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                              HTML_PARSE_NONET | HTML_PARSE_COMPACT);
}

static char *attr(xmlNodePtr n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    if (!v)
        return NULL;
    char *s = field((const char *)v);
    xmlFree(v);
    return s;
}

static bool has_attr(xmlNodePtr n, const char *name)
{
    return xmlHasProp(n, (const xmlChar *)name) != NULL;
}

/* Visits every element in document order without recursion (pages are
 * untrusted; nesting depth must not cost stack). */
typedef void (*visit_fn)(xmlNodePtr n, void *user);

static void walk(xmlNodePtr top, visit_fn fn, void *user)
{
    xmlNodePtr n = top ? top->children : NULL;
    while (n) {
        if (n->type == XML_ELEMENT_NODE)
            fn(n, user);
        if (n->type == XML_ELEMENT_NODE && n->children) {
            n = n->children;
            continue;
        }
        while (n && !n->next) {
            n = n->parent;
            if (n == top)
                n = NULL;
        }
        if (n)
            n = n->next;
    }
}

static bool is_tag(xmlNodePtr n, const char *tag)
{
    return n->name && strcasecmp((const char *)n->name, tag) == 0;
}

typedef struct html_ctx {
    pyti_simple_project *project;
    pyti_simple_index *index;
    size_t cap;
    char *base;        /* from <base href>, resolved against the page URL */
    const char *page_url;
    char **api_version;
} html_ctx;

static void visit_meta(xmlNodePtr n, html_ctx *c)
{
    char *name = attr(n, "name");
    if (name && strcasecmp(name, "pypi:repository-version") == 0 && !*c->api_version)
        *c->api_version = attr(n, "content");
    free(name);
}

static void visit_base(xmlNodePtr n, html_ctx *c)
{
    if (c->base)
        return; /* the first <base> counts */
    char *href = attr(n, "href");
    if (href)
        c->base = url_resolve(c->page_url, href, NULL);
    free(href);
}

static void visit_project(xmlNodePtr n, void *user)
{
    html_ctx *c = user;
    if (is_tag(n, "meta")) {
        visit_meta(n, c);
        return;
    }
    if (is_tag(n, "base")) {
        visit_base(n, c);
        return;
    }
    if (!is_tag(n, "a"))
        return;
    char *href = attr(n, "href");
    if (!href)
        return;
    pyti_simple_file *f = add_file(c->project, &c->cap);
    if (!f) {
        free(href);
        return;
    }
    char *frag = NULL;
    bool ok = set_location(f, c->base ? c->base : c->page_url, href, &frag);
    free(href);
    if (!ok) {
        c->project->nfiles--;
        return;
    }
    parse_fragment(f, frag);
    free(frag);
    f->requires_python = attr(n, "data-requires-python");
    if (has_attr(n, "data-yanked")) {
        f->yanked = true;
        f->yanked_reason = attr(n, "data-yanked");
        if (f->yanked_reason && !*f->yanked_reason) {
            free(f->yanked_reason);
            f->yanked_reason = NULL;
        }
    }
    char *cm = attr(n, "data-core-metadata");
    if (!cm)
        cm = attr(n, "data-dist-info-metadata");
    simple_parse_metadata_attr(cm, &f->has_metadata, &f->metadata_sha256);
    free(cm);
}

static void visit_index(xmlNodePtr n, void *user)
{
    html_ctx *c = user;
    if (is_tag(n, "meta")) {
        visit_meta(n, c);
        return;
    }
    if (!is_tag(n, "a") || c->index->names.len >= SIMPLE_MAX_PROJECTS)
        return;
    xmlChar *text = xmlNodeGetContent(n);
    if (!text)
        return;
    char *name = field((const char *)text);
    xmlFree(text);
    str_trim(name);
    size_t l = strlen(name);
    if (l && name[l - 1] == '/') /* directory listings: "foo/" */
        name[--l] = '\0';
    if (l)
        strv_push_owned(&c->index->names, name);
    else
        free(name);
}

static void init_parser(void)
{
    static int done;
    if (!__atomic_exchange_n(&done, 1, __ATOMIC_SEQ_CST))
        xmlInitParser();
}

pyti_status simple_parse_project(const char *body, size_t len, pyti_page_format format,
                                 const char *page_url, pyti_simple_project *out,
                                 pyti_error *err)
{
    memset(out, 0, sizeof *out);
    out->last_serial = -1;
    out->format = format;
    out->page_url = xstrdup(page_url ? page_url : "");
    if (format == PYTI_PAGE_JSON)
        return parse_project_json(body ? body : "", body ? len : 0, out->page_url, out, err);
    init_parser();
    htmlDocPtr doc = parse_html(body ? body : "", body ? len : 0, out->page_url);
    if (!doc)
        return PYTI_OK; /* nothing parsable: a page without links */
    html_ctx c = {.project = out, .page_url = out->page_url, .api_version = &out->api_version};
    walk((xmlNodePtr)doc, visit_project, &c);
    free(c.base);
    xmlFreeDoc(doc);
    return check_api_version(out->api_version, out->page_url, err);
}

pyti_status simple_parse_index(const char *body, size_t len, pyti_page_format format,
                               pyti_simple_index *out, pyti_error *err)
{
    memset(out, 0, sizeof *out);
    out->last_serial = -1;
    if (!body)
        body = "", len = 0;
    if (format == PYTI_PAGE_JSON) {
        json_t *root = load_json(body, len, "project list", err);
        if (!root)
            return err ? err->code : PYTI_ERR_INPUT;
        json_meta(root, &out->api_version, &out->last_serial);
        pyti_status st = check_api_version(out->api_version, "project list", err);
        json_t *projects = json_object_get(root, "projects");
        size_t i;
        json_t *jp;
        if (st == PYTI_OK && projects && !json_is_array(projects))
            st = pyti_error_set(err, PYTI_ERR_INPUT, "project list: \"projects\" is not a list");
        if (st == PYTI_OK)
            json_array_foreach(projects, i, jp) {
                if (out->names.len >= SIMPLE_MAX_PROJECTS)
                    break;
                const char *n = json_string_value(json_object_get(jp, "name"));
                if (n && *n)
                    strv_push_owned(&out->names, field(n));
            }
        json_decref(root);
        return st;
    }
    init_parser();
    htmlDocPtr doc = parse_html(body, len, "index");
    if (!doc)
        return PYTI_OK;
    html_ctx c = {.index = out, .page_url = "http://index/", .api_version = &out->api_version};
    walk((xmlNodePtr)doc, visit_index, &c);
    xmlFreeDoc(doc);
    return check_api_version(out->api_version, "project list", err);
}
