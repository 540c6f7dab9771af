/* http.c — the index HTTP client over libcurl: pages, verified file
 * downloads, the content-addressed cache, retries (see http.h). */
#include "index/http.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "index/url.h"
#include "pyti_config.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Where people can read what pyti is, for the User-Agent (change it here
 * if the project moves). */
#define PYTI_HOMEPAGE "https://github.com/pyti/pyti"

struct pyti_http {
    pyti_http_options o;
    char *cache_dir;
    char *tmp_dir;      /* private downloads when no_cache */
    char *user_agent;
    CURL *curl;
    CURLSH *share;      /* connections and DNS shared by h->curl and the
                           handles of parallel page fetches */
    pyti_http_stats stats;
};

const char *http_default_user_agent(void)
{
    return "pyti/" PYTI_VERSION " (+" PYTI_HOMEPAGE ")";
}

void http_options_default(pyti_http_options *o)
{
    memset(o, 0, sizeof *o);
    o->connect_timeout_ms = 10000;
    o->low_speed_time_s = 60;
    o->retries = 4;
    o->backoff_ms = 250;
    o->backoff_max_ms = 8000;
    o->max_page_size = 64u << 20;
    o->max_file_size = (size_t)2 << 30;
}

bool hashes_any(const pyti_hashes *hs)
{
    return hs && (hs->sha256 || hs->sha384 || hs->sha512);
}

static void curl_global(void)
{
    static int done;
    if (!__atomic_exchange_n(&done, 1, __ATOMIC_SEQ_CST))
        curl_global_init(CURL_GLOBAL_DEFAULT);
}

pyti_http *http_new(const pyti_http_options *opts, pyti_error *err)
{
    curl_global();
    pyti_http *h = xcalloc(1, sizeof *h);
    pyti_http_options d;
    http_options_default(&d);
    h->o = opts ? *opts : d;
    if (!h->o.connect_timeout_ms)
        h->o.connect_timeout_ms = d.connect_timeout_ms;
    if (!h->o.low_speed_time_s)
        h->o.low_speed_time_s = d.low_speed_time_s;
    if (!h->o.backoff_ms)
        h->o.backoff_ms = d.backoff_ms;
    if (!h->o.backoff_max_ms)
        h->o.backoff_max_ms = d.backoff_max_ms;
    if (!h->o.max_page_size)
        h->o.max_page_size = d.max_page_size;
    if (!h->o.max_file_size)
        h->o.max_file_size = d.max_file_size;
    h->user_agent = xstrdup(h->o.user_agent ? h->o.user_agent : http_default_user_agent());
    h->o.user_agent = h->user_agent;
    if (h->o.cache_dir) {
        h->cache_dir = xstrdup(h->o.cache_dir);
    } else {
        char *c = path_xdg_cache_home();
        h->cache_dir = path_join(c, "pyti");
        free(c);
    }
    h->o.cache_dir = h->cache_dir;
    h->curl = curl_easy_init();
    h->share = curl_share_init();
    if (h->share) {
        curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
        curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    }
    if (!h->curl) {
        http_free(h);
        pyti_error_set(err, PYTI_ERR_INTERNAL, "cannot initialise libcurl");
        return NULL;
    }
    return h;
}

void http_free(pyti_http *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    if (h->share)
        curl_share_cleanup(h->share);
    if (h->tmp_dir)
        path_rmtree(h->tmp_dir, NULL);
    free(h->tmp_dir);
    free(h->cache_dir);
    free(h->user_agent);
    free(h);
}

const pyti_http_options *http_options(const pyti_http *h) { return &h->o; }

void http_stats(const pyti_http *h, pyti_http_stats *out) { *out = h->stats; }

void http_response_free(pyti_http_response *r)
{
    free(r->content_type);
    free(r->url);
    buf_free(&r->body);
    memset(r, 0, sizeof *r);
}

/* ---- one transfer ---- */

typedef struct sink {
    pyti_buf *buf;       /* pages */
    FILE *fp;            /* files */
    EVP_MD_CTX *sha256;  /* files: running digest */
    size_t max;
    size_t got;
    bool over;
    bool io_error;
} sink;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *user)
{
    sink *s = user;
    size_t n = size * nmemb;
    if (s->got + n > s->max) {
        s->over = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    s->got += n;
    if (s->buf) {
        buf_append(s->buf, ptr, n);
    } else if (s->fp) {
        if (fwrite(ptr, 1, n, s->fp) != n) {
            s->io_error = true;
            return 0;
        }
        if (s->sha256)
            EVP_DigestUpdate(s->sha256, ptr, n);
    }
    return n;
}

static void sink_reset(sink *s)
{
    s->got = 0;
    s->over = s->io_error = false;
    if (s->buf)
        buf_reset(s->buf);
    if (s->fp) {
        rewind(s->fp);
        if (ftruncate(fileno(s->fp), 0) != 0)
            s->io_error = true;
    }
    if (s->sha256)
        EVP_DigestInit_ex(s->sha256, EVP_sha256(), NULL);
}

typedef enum outcome {
    OUT_OK,
    OUT_TRANSIENT,
    OUT_FATAL,
} outcome;

typedef struct xfer {
    long status;
    char *content_type;
    char *url;
    long long serial;
    long retry_after_s;
} xfer;

static void xfer_free(xfer *x)
{
    free(x->content_type);
    free(x->url);
    memset(x, 0, sizeof *x);
}

static void setup_handle(pyti_http *h, CURL *c, const char *url, const char *accept,
                         bool compressed, sink *s, struct curl_slist **headers)
{
    curl_easy_reset(c);
    if (h->share)
        curl_easy_setopt(c, CURLOPT_SHARE, h->share);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_USERAGENT, h->user_agent);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS | CURLPROTO_FILE);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->o.connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->o.low_speed_time_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    /* Pages may come compressed; distribution files never are decoded
     * (a .tar.gz served with Content-Encoding: gzip must stay a .tar.gz). */
    if (compressed)
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    const char *ca = getenv("CURL_CA_BUNDLE");
    if (!ca || !*ca)
        ca = getenv("SSL_CERT_FILE");
    if (ca && *ca)
        curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    const char *capath = getenv("SSL_CERT_DIR");
    if (capath && *capath)
        curl_easy_setopt(c, CURLOPT_CAPATH, capath);
    *headers = NULL;
    if (accept) {
        char *line = xasprintf("Accept: %s", accept);
        *headers = curl_slist_append(*headers, line);
        free(line);
    }
    if (*headers)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, *headers);
}

static bool transient_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        return false;
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Runs the transfer with retries. On OUT_OK x is filled. */
static pyti_status transfer(pyti_http *h, const char *url, const char *accept, bool compressed,
                            sink *s, xfer *x, pyti_error *err)
{
    long delay = h->o.backoff_ms;
    for (unsigned attempt = 0;; attempt++) {
        sink_reset(s);
        xfer_free(x);
        x->serial = -1;
        struct curl_slist *headers;
        setup_handle(h, h->curl, url, accept, compressed, s, &headers);
        h->stats.requests++;
        char errbuf[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, errbuf);
        CURLcode rc = curl_easy_perform(h->curl);
        curl_slist_free_all(headers);
        h->stats.bytes += s->got;

        outcome oc;
        pyti_status code = PYTI_ERR_IO;
        char why[512] = "";
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &x->status);
        if (rc == CURLE_OK) {
            char *scheme = url_scheme(url);
            if (x->status == 0 && scheme && strcmp(scheme, "file") == 0)
                x->status = 200;
            free(scheme);
            if (x->status >= 200 && x->status < 300) {
                oc = OUT_OK;
            } else if (x->status >= 500 || x->status == 429 || x->status == 408) {
                oc = OUT_TRANSIENT;
                snprintf(why, sizeof why, "HTTP %ld", x->status);
            } else {
                oc = OUT_FATAL;
                code = (x->status == 404 || x->status == 410) ? PYTI_ERR_NOTFOUND : PYTI_ERR_IO;
                snprintf(why, sizeof why, "HTTP %ld", x->status);
            }
        } else if (s->over || rc == CURLE_FILESIZE_EXCEEDED) {
            oc = OUT_FATAL;
            code = PYTI_ERR_LIMIT;
            snprintf(why, sizeof why, "response larger than the limit of %zu bytes", s->max);
        } else if (s->io_error) {
            oc = OUT_FATAL;
            snprintf(why, sizeof why, "cannot write the download: %s", strerror(errno));
        } else {
            oc = transient_curl(rc) ? OUT_TRANSIENT : OUT_FATAL;
            if (rc == CURLE_FILE_COULDNT_READ_FILE)
                code = PYTI_ERR_NOTFOUND;
            snprintf(why, sizeof why, "%s", *errbuf ? errbuf : curl_easy_strerror(rc));
        }
        if (oc == OUT_OK) {
            char *ct = NULL, *eff = NULL;
            curl_easy_getinfo(h->curl, CURLINFO_CONTENT_TYPE, &ct);
            curl_easy_getinfo(h->curl, CURLINFO_EFFECTIVE_URL, &eff);
            x->content_type = ct ? xstrdup(ct) : NULL;
            x->url = xstrdup(eff ? eff : url);
            struct curl_header *hd = NULL;
            if (curl_easy_header(h->curl, "X-PyPI-Last-Serial", 0, CURLH_HEADER, -1, &hd) ==
                    CURLHE_OK && hd && hd->value)
                x->serial = strtoll(hd->value, NULL, 10);
            return PYTI_OK;
        }
        /* A name that does not resolve is asked again once, not
         * h->o.retries times: on a machine without DNS (offline, or a
         * sandboxed builder) the full back-off would cost every job
         * seconds for nothing, while a resolver's passing glitch still
         * gets its second chance. */
        bool unresolved = rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY;
        if (oc == OUT_FATAL || attempt >= h->o.retries || (unresolved && attempt >= 1))
            return pyti_error_set(err, code, "GET %s: %s%s", url, why,
                                  oc == OUT_TRANSIENT ? " (gave up after retries)" : "");
        curl_off_t ra = 0;
        curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &ra);
        long wait = delay;
        if (ra > 0 && ra * 1000 > wait)
            wait = ra * 1000 > h->o.backoff_max_ms ? h->o.backoff_max_ms : (long)ra * 1000;
        log_info("GET %s: %s; retrying in %ld ms", url, why, wait);
        h->stats.retries++;
        sleep_ms(wait);
        delay = delay * 2 > h->o.backoff_max_ms ? h->o.backoff_max_ms : delay * 2;
    }
}

/* ---- cache ---- */

/* Writes data to path via a temporary file and rename (no fsync: a cache
 * entry lost in a crash is simply fetched again; entries are verified
 * before they are written, and a torn file cannot appear under the final
 * name). */
/* Creates the directory of path (the cache's directories are made on
 * first use, not checked on every write). */
static bool mkdir_up(const char *dir)
{
    if (mkdir(dir, 0755) == 0 || errno == EEXIST)
        return true;
    if (errno != ENOENT)
        return false;
    char *parent = path_dirname(dir);
    bool ok = strcmp(parent, dir) != 0 && mkdir_up(parent);
    free(parent);
    return ok && (mkdir(dir, 0755) == 0 || errno == EEXIST);
}

static pyti_status make_parent(const char *path, pyti_error *err)
{
    /* Deepest first: in a warm cache only the last one or two levels are
     * missing. */
    char *dir = path_dirname(path);
    pyti_status st = PYTI_OK;
    if (!mkdir_up(dir))
        st = pyti_error_errno(err, PYTI_ERR_IO, errno, "cache: cannot create %s", dir);
    free(dir);
    return st;
}

static pyti_status write_atomic(const char *path, const void *data, size_t len,
                                pyti_error *err)
{
    pyti_status st = PYTI_OK;
    char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT && make_parent(path, err) == PYTI_OK)
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        st = pyti_error_errno(err, PYTI_ERR_IO, errno, "cache: cannot create %s", tmp);
        free(tmp);
        return st;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            st = pyti_error_errno(err, PYTI_ERR_IO, errno, "cache: cannot write %s", tmp);
            close(fd);
            unlink(tmp);
            free(tmp);
            return st;
        }
        p += n;
        left -= (size_t)n;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        st = pyti_error_errno(err, PYTI_ERR_IO, errno, "cache: cannot rename %s", tmp);
        unlink(tmp);
    }
    free(tmp);
    return st;
}

static char *content_path(const pyti_http *h, const char *sha256)
{
    return xasprintf("%s/files/sha256/%.2s/%s", h->cache_dir, sha256, sha256);
}

static char *keyed_path(const pyti_http *h, const char *kind, const char *key)
{
    char hex[PYTI_SHA256_HEX_LEN + 1];
    hash_sha256_hex(key, strlen(key), hex);
    return xasprintf("%s/%s/%.2s/%s", h->cache_dir, kind, hex, hex);
}

static bool is_hex64(const char *s)
{
    if (!s || strlen(s) != 64)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

static char *page_key(const char *url, const char *accept)
{
    return xasprintf("%s\n%s", url, accept ? accept : "");
}

static void page_store(pyti_http *h, const char *url, const char *accept,
                       const pyti_http_response *r)
{
    if (h->o.no_cache)
        return;
    char *key = page_key(url, accept);
    char *path = keyed_path(h, "pages", key);
    free(key);
    pyti_buf b = PYTI_BUF_INIT;
    /* Header lines, then the body. URLs and content types cannot contain
     * newlines (libcurl refuses them). */
    buf_printf(&b, "pyti-page 1\nurl %s\ncontent-type %s\nserial %lld\n\n", r->url,
               r->content_type ? r->content_type : "", r->last_serial);
    buf_append(&b, r->body.data ? r->body.data : "", r->body.len);
    pyti_error e;
    if (write_atomic(path, b.data, b.len, &e) != PYTI_OK)
        log_warn("%s", e.msg);
    buf_free(&b);
    free(path);
}

static bool page_load(pyti_http *h, const char *url, const char *accept,
                      pyti_http_response *out)
{
    char *key = page_key(url, accept);
    char *path = keyed_path(h, "pages", key);
    free(key);
    pyti_buf b = PYTI_BUF_INIT;
    bool ok = path_read_file(path, h->o.max_page_size + 65536, &b, NULL) == PYTI_OK;
    free(path);
    char *end = ok ? strstr(buf_cstr(&b), "\n\n") : NULL;
    if (!end || !str_startswith(buf_cstr(&b), "pyti-page 1\n")) {
        buf_free(&b);
        return false;
    }
    *end = '\0';
    char *line = b.data;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (str_startswith(line, "url "))
            out->url = xstrdup(line + 4);
        else if (str_startswith(line, "content-type ") && line[13])
            out->content_type = xstrdup(line + 13);
        else if (str_startswith(line, "serial "))
            out->last_serial = strtoll(line + 7, NULL, 10);
        line = nl ? nl + 1 : NULL;
    }
    size_t off = (size_t)(end + 2 - b.data);
    buf_append(&out->body, b.data + off, b.len - off);
    if (!out->url)
        out->url = xstrdup(url);
    out->status = 200;
    out->from_cache = true;
    buf_free(&b);
    return true;
}

pyti_status http_get_page(pyti_http *h, const char *url, const char *accept,
                          pyti_http_response *out, pyti_error *err)
{
    memset(out, 0, sizeof *out);
    out->last_serial = -1;
    if (h->o.offline) {
        if (!h->o.no_cache && page_load(h, url, accept, out)) {
            h->stats.cache_hits++;
            return PYTI_OK;
        }
        return pyti_error_set(err, PYTI_ERR_NOTFOUND,
                              "offline: %s is not in the cache (%s)", url, h->cache_dir);
    }
    sink s = {.buf = &out->body, .max = h->o.max_page_size};
    xfer x = {0};
    pyti_status st = transfer(h, url, accept, true, &s, &x, err);
    if (st != PYTI_OK) {
        xfer_free(&x);
        http_response_free(out);
        out->last_serial = -1;
        return st;
    }
    out->status = x.status;
    out->content_type = x.content_type;
    out->url = x.url;
    out->last_serial = x.serial;
    x.content_type = x.url = NULL;
    page_store(h, url, accept, out);
    return PYTI_OK;
}

/* Checks path against the non-SHA-256 hashes in expect. */
static pyti_status verify_other(const char *path, const char *url, const pyti_hashes *expect,
                                pyti_error *err)
{
    const char *algos[2] = {"sha384", "sha512"};
    const char *want[2] = {expect ? expect->sha384 : NULL, expect ? expect->sha512 : NULL};
    for (int i = 0; i < 2; i++) {
        if (!want[i])
            continue;
        unsigned char d[PYTI_DIGEST_MAX];
        size_t dl = 0;
        if (hash_file_named(path, algos[i], d, &dl, NULL, err) != PYTI_OK)
            return err ? err->code : PYTI_ERR_IO;
        char *hex = hash_hex(d, dl);
        bool same = strcmp(hex, want[i]) == 0;
        if (!same)
            pyti_error_set(err, PYTI_ERR_INPUT,
                           "hash mismatch for %s: the index says %s %s, the download has %s; "
                           "the file was not used",
                           url, algos[i], want[i], hex);
        free(hex);
        if (!same)
            return PYTI_ERR_INPUT;
    }
    return PYTI_OK;
}

static pyti_status cached_file(pyti_http *h, const char *url, const pyti_hashes *expect,
                               char **path_out, char *sha256_out, pyti_error *err)
{
    char sha[PYTI_SHA256_HEX_LEN + 1] = "";
    if (expect && expect->sha256) {
        snprintf(sha, sizeof sha, "%s", expect->sha256);
    } else {
        /* Remembered from an earlier download of the same URL. */
        char *upath = keyed_path(h, "urls", url);
        pyti_buf b = PYTI_BUF_INIT;
        if (path_read_file(upath, 256, &b, NULL) == PYTI_OK) {
            char *t = str_trim(b.data ? b.data : (char *)"");
            if (is_hex64(t))
                snprintf(sha, sizeof sha, "%s", t);
        }
        buf_free(&b);
        free(upath);
    }
    if (!is_hex64(sha))
        return PYTI_ERR_NOTFOUND;
    char *p = content_path(h, sha);
    if (!path_is_file(p)) {
        free(p);
        return PYTI_ERR_NOTFOUND;
    }
    if (verify_other(p, url, expect, err) != PYTI_OK) {
        free(p);
        return PYTI_ERR_INPUT;
    }
    *path_out = p;
    if (sha256_out)
        memcpy(sha256_out, sha, sizeof sha);
    h->stats.cache_hits++;
    return PYTI_OK;
}

pyti_status http_fetch_file(pyti_http *h, const char *url, const pyti_hashes *expect,
                            size_t max, char **path_out, char *sha256_out, pyti_error *err)
{
    *path_out = NULL;
    if (!max)
        max = h->o.max_file_size;
    if (!h->o.no_cache) {
        pyti_status st = cached_file(h, url, expect, path_out, sha256_out, err);
        if (st == PYTI_OK || st == PYTI_ERR_INPUT)
            return st;
        /* Online with no SHA-256 to look up, a cached copy found via the
         * URL map is used too: the map only ever records verified bytes
         * of that URL. */
    }
    if (h->o.offline)
        return pyti_error_set(err, PYTI_ERR_NOTFOUND, "offline: %s is not in the cache (%s)",
                              url, h->cache_dir);

    const char *base = h->cache_dir;
    if (h->o.no_cache) {
        if (!h->tmp_dir && !(h->tmp_dir = path_mkdtemp(NULL, "pyti-dl-", err)))
            return err ? err->code : PYTI_ERR_IO;
        base = h->tmp_dir;
    }
    char *tmp = xasprintf("%s/files/tmp/dl-XXXXXX", base);
    int fd = mkostemp(tmp, O_CLOEXEC);
    pyti_status st = PYTI_OK;
    if (fd < 0 && errno == ENOENT && make_parent(tmp, err) == PYTI_OK) {
        free(tmp);
        tmp = xasprintf("%s/files/tmp/dl-XXXXXX", base);
        fd = mkostemp(tmp, O_CLOEXEC);
    }
    if (fd < 0) {
        st = pyti_error_errno(err, PYTI_ERR_IO, errno, "cache: cannot create %s", tmp);
        free(tmp);
        return st;
    }
    FILE *fp = fdopen(fd, "w+b");
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    sink s = {.fp = fp, .sha256 = md, .max = max};
    xfer x = {0};
    st = transfer(h, url, NULL, false, &s, &x, err);
    xfer_free(&x);
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    EVP_DigestFinal_ex(md, dig, &dlen);
    EVP_MD_CTX_free(md);
    if (fflush(fp) != 0 && st == PYTI_OK)
        st = pyti_error_errno(err, PYTI_ERR_IO, errno, "cache: cannot write %s", tmp);
    fclose(fp);
    char *got = hash_hex(dig, dlen);
    if (st == PYTI_OK && expect && expect->sha256 && strcmp(got, expect->sha256) != 0)
        st = pyti_error_set(err, PYTI_ERR_INPUT,
                            "hash mismatch for %s: the index says sha256 %s, the download has "
                            "%s; the file was not used",
                            url, expect->sha256, got);
    if (st == PYTI_OK)
        st = verify_other(tmp, url, expect, err);
    if (st != PYTI_OK) {
        unlink(tmp);
        free(tmp);
        free(got);
        return st;
    }
    char *final = h->o.no_cache ? xasprintf("%s/files/sha256/%s", base, got) : content_path(h, got);
    int rc = rename(tmp, final);
    if (rc != 0 && errno == ENOENT && (st = make_parent(final, err)) == PYTI_OK)
        rc = rename(tmp, final);
    if (st == PYTI_OK && rc != 0)
        st = pyti_error_errno(err, PYTI_ERR_IO, errno, "cache: cannot rename %s", tmp);
    if (st != PYTI_OK) {
        unlink(tmp);
        free(tmp);
        free(final);
        free(got);
        return st;
    }
    free(tmp);
    if (!h->o.no_cache && !(expect && expect->sha256)) {
        /* Without a hash from the index, offline mode finds the file
         * through its URL. */
        char *upath = keyed_path(h, "urls", url);
        char *line = xasprintf("%s\n", got);
        pyti_error e;
        if (write_atomic(upath, line, strlen(line), &e) != PYTI_OK)
            log_warn("%s", e.msg);
        free(line);
        free(upath);
    }
    if (sha256_out)
        memcpy(sha256_out, got, PYTI_SHA256_HEX_LEN + 1);
    free(got);
    *path_out = final;
    return PYTI_OK;
}

/* ---- parallel page fetches ---- */

#define PAGES_PARALLEL 8

typedef struct pending {
    CURL *c;
    struct curl_slist *headers;
    sink s;
    size_t i;
} pending;

static void finish_one(pyti_http *h, pending *p, const char *const *urls, const char *accept,
                       CURLcode rc, pyti_http_response *out, pyti_status *st)
{
    pyti_http_response *r = &out[p->i];
    long status = 0;
    curl_easy_getinfo(p->c, CURLINFO_RESPONSE_CODE, &status);
    h->stats.requests++;
    h->stats.bytes += p->s.got;
    if (rc == CURLE_OK && status >= 200 && status < 300) {
        char *ct = NULL, *eff = NULL;
        curl_easy_getinfo(p->c, CURLINFO_CONTENT_TYPE, &ct);
        curl_easy_getinfo(p->c, CURLINFO_EFFECTIVE_URL, &eff);
        r->status = status;
        r->content_type = ct ? xstrdup(ct) : NULL;
        r->url = xstrdup(eff ? eff : urls[p->i]);
        struct curl_header *hd = NULL;
        if (curl_easy_header(p->c, "X-PyPI-Last-Serial", 0, CURLH_HEADER, -1, &hd) == CURLHE_OK &&
            hd && hd->value)
            r->last_serial = strtoll(hd->value, NULL, 10);
        st[p->i] = PYTI_OK;
        page_store(h, urls[p->i], accept, r);
    } else {
        /* Anything else is left to http_get_page (retries, messages); a
         * 404 is final and worth saying. */
        st[p->i] = rc == CURLE_OK && (status == 404 || status == 410) ? PYTI_ERR_NOTFOUND
                                                                       : PYTI_ERR_IO;
        buf_free(&r->body);
    }
    curl_slist_free_all(p->headers);
    curl_easy_cleanup(p->c);
    p->c = NULL;
}

void http_get_pages(pyti_http *h, const char *const *urls, size_t n, const char *accept,
                    pyti_http_response *out, pyti_status *st)
{
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].last_serial = -1;
        st[i] = PYTI_ERR_IO;
    }
    if (h->o.offline || !n)
        return;
    CURLM *m = curl_multi_init();
    if (!m)
        return;
    pending slots[PAGES_PARALLEL];
    memset(slots, 0, sizeof slots);
    size_t next = 0, running = 0;
    for (;;) {
        for (size_t k = 0; k < PAGES_PARALLEL && next < n; k++) {
            if (slots[k].c)
                continue;
            pending *p = &slots[k];
            p->c = curl_easy_init();
            if (!p->c)
                break;
            p->i = next++;
            memset(&p->s, 0, sizeof p->s);
            p->s.buf = &out[p->i].body;
            p->s.max = h->o.max_page_size;
            setup_handle(h, p->c, urls[p->i], accept, true, &p->s, &p->headers);
            curl_easy_setopt(p->c, CURLOPT_PRIVATE, p);
            curl_multi_add_handle(m, p->c);
            running++;
        }
        if (!running)
            break;
        int still = 0;
        if (curl_multi_perform(m, &still) != CURLM_OK)
            break;
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            pending *p = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&p);
            CURLcode rc = msg->data.result;
            curl_multi_remove_handle(m, msg->easy_handle);
            finish_one(h, p, urls, accept, rc, out, st);
            running--;
        }
        if (running && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK)
            break;
    }
    for (size_t k = 0; k < PAGES_PARALLEL; k++)
        if (slots[k].c) {
            curl_multi_remove_handle(m, slots[k].c);
            curl_slist_free_all(slots[k].headers);
            curl_easy_cleanup(slots[k].c);
            buf_free(&out[slots[k].i].body);
        }
    curl_multi_cleanup(m);
}
