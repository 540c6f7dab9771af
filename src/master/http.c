/* http.c — the master's HTTP side over libmicrohttpd: a small pool of
 * threads, each serving many connections through its own epoll set (a
 * thread per connection cost ~0.5 ms of scheduling per request with 64
 * connections busy, bench/README.md "web_load"); request bodies gathered
 * up to the limit of their route (bigger ones spill to an unlinked
 * temporary file and are mapped, so a 500 MiB upload is never copied
 * around in memory); a master_request handed to master_dispatch, and its
 * master_response sent back with the headers every response carries.
 *
 * Requests that may hold their thread for long — writes (claims are long
 * polls of up to long_poll_max; any write may wait for the store's write
 * lock) and spilled uploads — must not stall the other connections of a
 * pool thread: their connection is suspended and the request runs on a
 * thread of its own, which resumes the connection with the response
 * (offload()). Reads, the dashboard's pages and the JSON API's answers,
 * run on the pool thread itself. */
#include "master/master_internal.h"
#include "common/log.h"
#include "common/netaddr.h"
#include "common/str.h"
#include "common/thread.h"
#include "common/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

/* Bodies up to this size stay in memory. */
#define SPILL_AT (4u << 20)

typedef struct conn_state {
    bool started;    /* the first call of the handler has been made */
    char *raw_uri;   /* the request target as sent (still percent-encoded) */
    uint64_t limit;
    bool too_large;
    bool early_done; /* a response was queued before the body was read */
    pyti_buf mem;
    int spill_fd;    /* >= 0 once the body went to a file */
    uint64_t spilled;
    pyti_strv query;
    master_response *done; /* an offloaded request's response, set before the resume */
} conn_state;

/* What m->http holds: the daemon, and the requests running on threads of
 * their own (master_http_stop waits for them before it stops the daemon,
 * which must not stop with a connection suspended). */
typedef struct http_state {
    struct MHD_Daemon *d;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    unsigned offloaded;
    bool closing; /* master_http_stop began: no more offloads */
} http_state;

static uint64_t body_limit(const pyti_master *m, const char *method, const char *url,
                           const char *ctype)
{
    if (strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0)
        return m->st.max_body;
    if (str_startswith(url, "/legacy"))
        return m->st.max_upload;
    if (strcmp(url, "/api/v1/jobs") == 0 && ctype && str_startswith(ctype, "multipart/"))
        return m->st.max_upload;
    if (str_startswith(url, "/api/v1/jobs/") && str_endswith(url, "/result"))
        return m->st.max_result;
    return m->st.max_body;
}

static void response_free(master_response *r)
{
    if (r) {
        master_response_free(r);
        free(r);
    }
}

static void conn_free(conn_state *cs)
{
    if (!cs)
        return;
    buf_free(&cs->mem);
    if (cs->spill_fd >= 0)
        close(cs->spill_fd);
    strv_free(&cs->query);
    free(cs->raw_uri);
    response_free(cs->done);
    free(cs);
}

/* Called by libmicrohttpd with the request target as sent, before it
 * decodes it; what it returns is the request's state (con_cls), so the
 * raw path and query reach the pages, which decode them themselves. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    conn_state *cs = xcalloc(1, sizeof *cs);
    cs->spill_fd = -1;
    cs->raw_uri = xstrndup(uri ? uri : "/", 8192);
    return cs;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn_free(*con_cls);
    *con_cls = NULL;
}


static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    pyti_strv *q = cls;
    if (q->len < 2 * 64) {
        strv_push(q, key);
        strv_push(q, value ? value : "");
    }
    return MHD_YES;
}

static pyti_status spill(pyti_master *m, conn_state *cs, pyti_error *err)
{
    int fd = open(m->st.files_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        fd = open("/var/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return pyti_error_errno(err, PYTI_ERR_IO, errno, "a temporary file for a request body");
    cs->spill_fd = fd;
    return PYTI_OK;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static void append_body(pyti_master *m, conn_state *cs, const char *data, size_t n)
{
    if (cs->too_large)
        return;
    uint64_t have = cs->spill_fd >= 0 ? cs->spilled : cs->mem.len;
    if (have + n > cs->limit) {
        cs->too_large = true;
        buf_free(&cs->mem);
        return;
    }
    if (cs->spill_fd < 0 && cs->mem.len + n > SPILL_AT) {
        pyti_error err;
        if (spill(m, cs, &err) != PYTI_OK) {
            log_warn("serve: %s", err.msg);
            cs->too_large = true;
            return;
        }
        if (!write_all(cs->spill_fd, cs->mem.data ? cs->mem.data : "", cs->mem.len)) {
            cs->too_large = true;
            return;
        }
        cs->spilled = cs->mem.len;
        buf_free(&cs->mem);
    }
    if (cs->spill_fd >= 0) {
        if (!write_all(cs->spill_fd, data, n))
            cs->too_large = true;
        cs->spilled += n;
    } else {
        buf_append(&cs->mem, data, n);
    }
}

static void count_response(pyti_master *m, int status)
{
    pthread_mutex_lock(&m->stats_lock);
    m->requests_total++;
    int cls = status / 100;
    if (cls >= 1 && cls <= 5)
        m->responses[cls]++;
    pthread_mutex_unlock(&m->stats_lock);
}

static enum MHD_Result send_response(pyti_master *m, struct MHD_Connection *c,
                                     master_response *resp)
{
    struct MHD_Response *r;
    if (resp->status == 0)
        master_response_error(resp, 500, "internal", "no response");
    if (resp->fd >= 0) {
        r = MHD_create_response_from_fd64(resp->fd_size, resp->fd);
        resp->fd = -1; /* MHD closes it */
    } else {
        size_t len = resp->body.len;
        char *body = buf_detach(&resp->body);
        r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    }
    if (!r)
        return MHD_NO;
    if (resp->content_type[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    if (str_startswith(resp->content_type, "text/html"))
        MHD_add_response_header(r, "Content-Security-Policy", MASTER_HTML_CSP);
    bool has_cache = false;
    for (size_t i = 0; i + 1 < resp->headers.len; i += 2) {
        MHD_add_response_header(r, resp->headers.items[i], resp->headers.items[i + 1]);
        has_cache |= strcasecmp(resp->headers.items[i], "Cache-Control") == 0;
    }
    if (!has_cache)
        MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    count_response(m, resp->status);
    return ret;
}

static void remote_addr(struct MHD_Connection *c, char *out, size_t size)
{
    snprintf(out, size, "?");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)size);
}

/* Runs one complete request: builds the master_request from the
 * connection and cs (mapping a spilled body), dispatches it into resp
 * (initialised here; the caller frees it). Safe on any thread while the
 * connection is in the handler or suspended. */
static void run_request(pyti_master *m, struct MHD_Connection *c, conn_state *cs,
                        const char *method, const char *url, const char *ctype,
                        master_response *resp)
{
    char remote[64];
    remote_addr(c, remote, sizeof remote);
    master_request req = {0};
    req.method = method;
    req.path = url;
    char *qmark = strchr(cs->raw_uri, '?');
    if (qmark) {
        *qmark = '\0';
        req.raw_query = qmark + 1;
    }
    req.raw_path = cs->raw_uri;
    req.query = &cs->query;
    req.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    req.content_type = ctype;
    req.remote = remote;
    const union MHD_ConnectionInfo *fdi =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    req.client_fd = fdi ? fdi->connect_fd : -1;
    req.body_too_large = cs->too_large;
    void *map = NULL;
    size_t map_len = 0;
    if (cs->spill_fd >= 0 && !cs->too_large) {
        map_len = (size_t)cs->spilled;
        if (map_len) {
            map = mmap(NULL, map_len, PROT_READ, MAP_PRIVATE, cs->spill_fd, 0);
            if (map == MAP_FAILED) {
                map = NULL;
                req.body_too_large = true;
            }
        }
        req.body = map;
        req.body_len = map ? map_len : 0;
    } else {
        req.body = cs->mem.data ? cs->mem.data : "";
        req.body_len = cs->mem.len;
    }
    master_response_init(resp);
    if (req.body_too_large)
        master_response_error(resp, 413, "too_large",
                              "request body is over the limit of %llu bytes for %s %s",
                              (unsigned long long)cs->limit, method, url);
    else
        master_dispatch(m, &req, resp);
    if (map)
        munmap(map, map_len);
    if (m->log_requests)
        log_error("serve: %s %s %s -> %d", remote, method, url, resp->status);
}

/* Requests that may hold their thread for long: every write — a claim is
 * a long poll of up to long_poll_max, and any write may wait up to 30 s
 * for the store's write lock (SQLite's busy handler) — and spilled
 * uploads. Reads (GET, HEAD) never wait for a lock (WAL readers, MVCC). */
static bool may_block(const char *method, const conn_state *cs)
{
    return !(strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) || cs->spill_fd >= 0;
}

typedef struct offloaded {
    pyti_master *m;
    struct MHD_Connection *c;
    conn_state *cs;
    const char *method, *url, *ctype; /* MHD's, valid until the request completes */
} offloaded;

/* Resumes the connection with cs->done set, then stops counting the
 * request: after the resume, cs may be freed at any time by MHD. */
static void offload_finish(pyti_master *m, struct MHD_Connection *c)
{
    http_state *h = m->http;
    MHD_resume_connection(c);
    pthread_mutex_lock(&h->lock);
    if (--h->offloaded == 0)
        pthread_cond_broadcast(&h->idle);
    pthread_mutex_unlock(&h->lock);
}

static void *offload_main(void *arg)
{
    offloaded *o = arg;
    master_response *resp = xmalloc(sizeof *resp);
    run_request(o->m, o->c, o->cs, o->method, o->url, o->ctype, resp);
    o->cs->done = resp;
    offload_finish(o->m, o->c);
    free(o);
    return NULL;
}

/* Suspends the connection and runs the request on a thread of its own;
 * the handler is called again after the resume and sends cs->done. When
 * no thread can be made, the answer is a 503 (the client retries). */
static enum MHD_Result offload(pyti_master *m, struct MHD_Connection *c, conn_state *cs,
                               const char *method, const char *url, const char *ctype)
{
    http_state *h = m->http;
    pthread_mutex_lock(&h->lock);
    bool closing = h->closing;
    if (!closing)
        h->offloaded++;
    pthread_mutex_unlock(&h->lock);
    if (closing) {
        /* The daemon is stopping and must not find a connection
         * suspended: answer here (m->stopping is set, so a claim does
         * not wait). */
        master_response resp;
        run_request(m, c, cs, method, url, ctype, &resp);
        enum MHD_Result r = send_response(m, c, &resp);
        master_response_free(&resp);
        return r;
    }
    offloaded *o = xmalloc(sizeof *o);
    *o = (offloaded){m, c, cs, method, url, ctype};
    MHD_suspend_connection(c);
    int rc = thread_start_detached(offload_main, o);
    if (rc != 0) {
        free(o);
        cs->done = xmalloc(sizeof *cs->done);
        master_response_init(cs->done);
        master_response_error(cs->done, 503, "unavailable",
                              "%s %s: no thread for the request (%s); try again", method, url,
                              strerror(rc));
        master_response_header(cs->done, "Retry-After", "1");
        offload_finish(m, c);
    }
    return MHD_YES;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    pyti_master *m = cls;
    (void)version;
    conn_state *cs = *con_cls;
    const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (!cs) { /* on_uri always runs first; this is only a safety net */
        cs = on_uri(NULL, url, c);
        *con_cls = cs;
    }
    if (cs->done) { /* called again after an offloaded request's resume */
        enum MHD_Result r = send_response(m, c, cs->done);
        response_free(cs->done);
        cs->done = NULL;
        return r;
    }
    if (!cs->started) {
        cs->started = true;
        cs->limit = body_limit(m, method, url, ctype);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(cl, &end, 10);
            if (errno || *end || v > cs->limit) {
                /* Refuse before reading: MHD closes the connection after
                 * this response instead of reading the body. */
                master_response resp;
                master_response_init(&resp);
                master_response_error(&resp, 413, "too_large",
                                      "request body of %s bytes is over the limit of %llu bytes "
                                      "for %s %s", cl, (unsigned long long)cs->limit, method, url);
                cs->early_done = true;
                enum MHD_Result r = send_response(m, c, &resp);
                master_response_free(&resp);
                return r;
            }
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!cs->early_done)
            append_body(m, cs, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (cs->early_done)
        return MHD_YES;

    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &cs->query);
    if (may_block(method, cs))
        return offload(m, c, cs, method, url, ctype);
    master_response resp;
    run_request(m, c, cs, method, url, ctype, &resp);
    enum MHD_Result r = send_response(m, c, &resp);
    master_response_free(&resp);
    return r;
}

/* Pool threads: two per core, so that one waiting on a disk read of the
 * store does not leave a core idle; at least 4, so that one slow page (the
 * overview's render every few seconds, a store busy with a write) holds
 * up only a quarter of the connections. */
static unsigned pool_size(void)
{
    int n = 2 * get_nprocs();
    return n < 4 ? 4 : n > 64 ? 64 : (unsigned)n;
}

pyti_status master_http_start(pyti_master *m, pyti_error *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    bool v6 = false;
    if (netaddr_parse_listen(m->st.listen, "127.0.0.1:8080", &ss, &sslen, &v6, err) != PYTI_OK)
        return PYTI_ERR_USAGE;
    http_state *h = xcalloc(1, sizeof *h);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->idle, NULL);
    m->http = h;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     (v6 ? MHD_USE_IPv6 : 0);
    /* Connections are kept while idle for as long as a claim may wait and
     * a minute more (a suspended claim does not time out meanwhile). */
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, handle, m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, m, MHD_OPTION_URI_LOG_CALLBACK, on_uri, m,
        MHD_OPTION_THREAD_POOL_SIZE, pool_size(), MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(m->st.long_poll_max_s + 60), MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)m->st.connection_limit, MHD_OPTION_END);
    if (!h->d) {
        master_http_stop(m);
        return pyti_error_set(err, PYTI_ERR_IO, "serve: cannot listen on %s (in use?)",
                              m->st.listen);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    m->port = di ? di->port : 0;
    netaddr_http_url(&ss, v6, m->port, m->url, sizeof m->url);
    return PYTI_OK;
}

void master_http_stop(pyti_master *m)
{
    http_state *h = m->http;
    if (!h)
        return;
    /* The offloaded requests end soon once m->stopping is set (claims
     * stop waiting); each resumes its connection, and requests arriving
     * from now on are answered inline, so none is suspended when the
     * daemon stops. */
    pthread_mutex_lock(&h->lock);
    h->closing = true;
    while (h->offloaded)
        pthread_cond_wait(&h->idle, &h->lock);
    pthread_mutex_unlock(&h->lock);
    if (h->d)
        MHD_stop_daemon(h->d);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->idle);
    free(h);
    m->http = NULL;
}
