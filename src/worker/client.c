/* client.c — the master's API over libcurl (see client.h). */
#include "worker/client.h"
#include "common/buf.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "pyti_config.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define ANSWER_MAX (512u << 20)

struct mclient {
    CURL *curl;
    char *base;      /* without trailing slash */
    char *origin;    /* scheme://host:port of base, lowercased */
    char *auth;      /* "Authorization: Bearer ..." or NULL */
    volatile sig_atomic_t *abort_flag;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* "scheme://host:port" of an http(s) URL (default ports filled in). */
static char *origin_of(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return NULL;
    bool https = str_startswith(url, "https://");
    const char *host = p + 3;
    size_t n = strcspn(host, "/?#");
    char *hp = xstrndup(host, n);
    str_lower(hp);
    const char *at = strrchr(hp, '@');
    const char *h = at ? at + 1 : hp;
    const char *close_br = strrchr(h, ']');
    const char *colon = strrchr(h, ':');
    char *o;
    if (colon && (!close_br || colon > close_br))
        o = xasprintf("%s://%s", https ? "https" : "http", h);
    else
        o = xasprintf("%s://%s:%s", https ? "https" : "http", h, https ? "443" : "80");
    free(hp);
    return o;
}

mclient *mclient_new(const char *base_url, const char *token, pyti_error *err)
{
    if (!base_url ||
        !(str_startswith(base_url, "http://") || str_startswith(base_url, "https://"))) {
        pyti_error_set(err, PYTI_ERR_USAGE, "master URL '%s': expected http://HOST:PORT",
                       base_url ? base_url : "");
        return NULL;
    }
    pthread_once(&curl_once, curl_init_once);
    CURL *curl = curl_easy_init();
    if (!curl) {
        pyti_error_set(err, PYTI_ERR_INTERNAL, "libcurl could not be initialised");
        return NULL;
    }
    mclient *c = xcalloc(1, sizeof *c);
    c->curl = curl;
    c->base = xstrdup(base_url);
    size_t n = strlen(c->base);
    while (n > 0 && c->base[n - 1] == '/')
        c->base[--n] = '\0';
    c->origin = origin_of(c->base);
    if (token && *token)
        c->auth = xasprintf("Authorization: Bearer %s", token);
    return c;
}

void mclient_free(mclient *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c->base);
    free(c->origin);
    if (c->auth) {
        explicit_bzero(c->auth, strlen(c->auth));
        free(c->auth);
    }
    free(c);
}

const char *mclient_url(const mclient *c) { return c->base; }

void mclient_set_abort(mclient *c, volatile sig_atomic_t *flag) { c->abort_flag = flag; }

char *mclient_read_token(const char *path, pyti_error *err)
{
    pyti_buf b = PYTI_BUF_INIT;
    if (path_read_file(path, 65536, &b, err) != PYTI_OK) {
        buf_free(&b);
        return NULL;
    }
    char *tok = NULL;
    char *save = NULL;
    for (char *line = strtok_r(b.data ? b.data : (char *)"", "\n", &save); line && !tok;
         line = strtok_r(NULL, "\n", &save)) {
        str_trim(line);
        if (!*line || *line == '#')
            continue;
        size_t n = strcspn(line, " \t\r,");
        tok = xstrndup(line, n);
    }
    if (b.data)
        explicit_bzero(b.data, b.len);
    buf_free(&b);
    if (!tok)
        pyti_error_set(err, PYTI_ERR_USAGE, "token file %s: no token in it", path);
    return tok;
}

static size_t to_buf(char *p, size_t size, size_t n, void *user)
{
    pyti_buf *b = user;
    if (b->len + size * n > ANSWER_MAX)
        return 0;
    buf_append(b, p, size * n);
    return size * n;
}

static int progress_cb(void *user, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    mclient *c = user;
    return c->abort_flag && *c->abort_flag ? 1 : 0;
}

static void common_setup(mclient *c, const char *url, double timeout_s)
{
    curl_easy_reset(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "pyti/" PYTI_VERSION " (worker)");
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)((timeout_s > 0 ? timeout_s : 60) * 1000));
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, progress_cb);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
}

static pyti_status perform(mclient *c, const char *url, long *status, pyti_error *err)
{
    CURLcode cc = curl_easy_perform(c->curl);
    if (cc != CURLE_OK) {
        if (cc == CURLE_ABORTED_BY_CALLBACK)
            return pyti_error_set(err, PYTI_ERR_IO, "%s: interrupted", url);
        return pyti_error_set(err, PYTI_ERR_IO, "%s: %s", url, curl_easy_strerror(cc));
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    return PYTI_OK;
}

/* Performs the prepared transfer with the answer gathered in memory:
 * parsed as JSON into *out (may be NULL), and kept in *body (a new
 * string of *len bytes) when body is not NULL. */
static pyti_status perform_collect(mclient *c, const char *url, long *status, json_t **out,
                                   char **body, size_t *len, pyti_error *err)
{
    pyti_buf b = PYTI_BUF_INIT;
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, to_buf);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &b);
    pyti_status rc = perform(c, url, status, err);
    if (rc == PYTI_OK && out && b.len)
        *out = json_loadb(b.data, b.len, 0, NULL);
    if (rc == PYTI_OK && body) {
        if (len)
            *len = b.len;
        *body = buf_detach(&b);
    }
    buf_free(&b);
    return rc;
}

pyti_status mclient_call(mclient *c, const char *method, const char *path, const json_t *body,
                         double timeout_s, long *status, json_t **out, pyti_error *err)
{
    if (out)
        *out = NULL;
    *status = 0;
    char *url = xasprintf("%s%s", c->base, path);
    common_setup(c, url, timeout_s);
    struct curl_slist *h = NULL;
    if (c->auth)
        h = curl_slist_append(h, c->auth);
    h = curl_slist_append(h, "Accept: application/json");
    char *text = NULL;
    if (body) {
        text = json_dumps(body, JSON_COMPACT);
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, text ? text : "");
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)(text ? strlen(text) : 0));
    } else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, 0L);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
    pyti_status rc = perform_collect(c, url, status, out, NULL, NULL, err);
    curl_slist_free_all(h);
    free(text);
    free(url);
    return rc;
}

pyti_status mclient_call_retry(mclient *c, const char *method, const char *path,
                               const json_t *body, double timeout_s, double give_up_s,
                               long *status, json_t **out, pyti_error *err)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double delay = 0.5;
    for (;;) {
        pyti_status rc = mclient_call(c, method, path, body, timeout_s, status, out, err);
        if (rc == PYTI_OK && *status < 500)
            return rc;
        if (c->abort_flag && *c->abort_flag)
            return rc;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double spent = (double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9;
        if (give_up_s >= 0 && spent + delay > give_up_s)
            return rc;
        if (out && *out) {
            json_decref(*out);
            *out = NULL;
        }
        /* Sleep in small steps so an abort is noticed. */
        for (double slept = 0; slept < delay && !(c->abort_flag && *c->abort_flag); slept += 0.05) {
            struct timespec nap = {0, 50 * 1000000L};
            nanosleep(&nap, NULL);
        }
        delay = delay * 2 > 10 ? 10 : delay * 2;
    }
}

const char *mclient_error_text(const json_t *answer, long status)
{
    const json_t *e = json_object_get(answer, "error");
    const json_t *m = json_object_get(e, "message");
    if (json_is_string(m))
        return json_string_value(m);
    static __thread char buf[64];
    snprintf(buf, sizeof buf, "the master answered HTTP %ld", status);
    return buf;
}

pyti_status mclient_upload(mclient *c, const char *path, const char *file_field,
                           const char *file_path, const char *const *fields, long *status,
                           json_t **out, pyti_error *err)
{
    if (out)
        *out = NULL;
    *status = 0;
    if (!path_is_file(file_path))
        return pyti_error_set(err, PYTI_ERR_NOTFOUND, "%s: no such file", file_path);
    char *url = xasprintf("%s%s", c->base, path);
    common_setup(c, url, 3600);
    struct curl_slist *h = NULL;
    if (c->auth)
        h = curl_slist_append(h, c->auth);
    h = curl_slist_append(h, "Accept: application/json");
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
    curl_mime *mime = curl_mime_init(c->curl);
    curl_mimepart *part = curl_mime_addpart(mime);
    curl_mime_name(part, file_field);
    curl_mime_filedata(part, file_path);
    curl_mime_type(part, "application/octet-stream");
    for (size_t i = 0; fields && fields[i] && fields[i + 1]; i += 2) {
        part = curl_mime_addpart(mime);
        curl_mime_name(part, fields[i]);
        curl_mime_data(part, fields[i + 1], CURL_ZERO_TERMINATED);
    }
    curl_easy_setopt(c->curl, CURLOPT_MIMEPOST, mime);
    pyti_status rc = perform_collect(c, url, status, out, NULL, NULL, err);
    curl_mime_free(mime);
    curl_slist_free_all(h);
    free(url);
    return rc;
}

pyti_status mclient_get_text(mclient *c, const char *path, long *status, char **text,
                             size_t *len, pyti_error *err)
{
    *text = NULL;
    char *url = xasprintf("%s%s", c->base, path);
    common_setup(c, url, 120);
    struct curl_slist *h = NULL;
    if (c->auth)
        h = curl_slist_append(h, c->auth);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
    char *body = NULL;
    pyti_status rc = perform_collect(c, url, status, NULL, &body, len, err);
    if (rc == PYTI_OK && *status == 200)
        *text = body;
    else
        free(body);
    curl_slist_free_all(h);
    free(url);
    return rc;
}

typedef struct dl_state {
    int fd;
    EVP_MD_CTX *md;
    long long got, max;
    bool too_big, write_failed;
} dl_state;

static size_t to_file(char *p, size_t size, size_t n, void *user)
{
    dl_state *d = user;
    size_t len = size * n;
    d->got += (long long)len;
    if (d->max > 0 && d->got > d->max) {
        d->too_big = true;
        return 0;
    }
    EVP_DigestUpdate(d->md, p, len);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(d->fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            d->write_failed = true;
            return 0;
        }
        off += (size_t)w;
    }
    return len;
}

pyti_status mclient_download(mclient *c, const char *url, const char *dest, const char *sha256,
                             long long max, pyti_error *err)
{
    if (!str_startswith(url, "http://") && !str_startswith(url, "https://"))
        return pyti_error_set(err, PYTI_ERR_INPUT, "%s: only http and https URLs are fetched", url);
    int fd = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return pyti_error_errno(err, PYTI_ERR_IO, errno, "creating %s", dest);
    dl_state d = {fd, EVP_MD_CTX_new(), 0, max, false, false};
    EVP_DigestInit_ex(d.md, EVP_sha256(), NULL);
    common_setup(c, url, 3600);
    curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c->curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME, 60L);
    struct curl_slist *h = NULL;
    char *o = origin_of(url);
    /* The token goes only to the master. libcurl does not carry a custom
     * Authorization header over a redirect to another host (the default
     * CURLOPT_UNRESTRICTED_AUTH off), so a redirect cannot leak it. */
    if (c->auth && o && c->origin && strcmp(o, c->origin) == 0)
        h = curl_slist_append(h, c->auth);
    free(o);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, to_file);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &d);
    long status = 0;
    pyti_status rc = perform(c, url, &status, err);
    curl_slist_free_all(h);
    unsigned char dg[32];
    unsigned dl = 0;
    EVP_DigestFinal_ex(d.md, dg, &dl);
    EVP_MD_CTX_free(d.md);
    if (close(fd) != 0 && rc == PYTI_OK)
        rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "writing %s", dest);
    if (d.too_big)
        rc = pyti_error_set(err, PYTI_ERR_LIMIT, "%s: larger than %lld bytes", url, max);
    else if (d.write_failed)
        rc = pyti_error_set(err, PYTI_ERR_IO, "%s: writing %s failed", url, dest);
    else if (rc == PYTI_OK && (status == 404 || status == 410))
        rc = pyti_error_set(err, PYTI_ERR_NOTFOUND, "%s: HTTP %ld (the file is gone)", url, status);
    else if (rc == PYTI_OK && status != 200)
        rc = pyti_error_set(err, PYTI_ERR_IO, "%s: HTTP %ld", url, status);
    if (rc == PYTI_OK) {
        char hex[65];
        for (unsigned i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", dg[i]);
        if (!sha256 || strcasecmp(hex, sha256) != 0)
            rc = pyti_error_set(err, PYTI_ERR_INPUT,
                                "%s: hash mismatch: sha256 %s, the job says %.64s; the file was "
                                "not used", url, hex, sha256 ? sha256 : "(none)");
    }
    if (rc != PYTI_OK)
        unlink(dest);
    return rc;
}
