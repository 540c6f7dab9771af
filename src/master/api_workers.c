/* api_workers.c — /api/v1/workers: the list of workers and their state,
 * and a worker's own calls: register (PUT, its capabilities and
 * acceptance policy), heartbeat (its state), claim (a long poll that
 * returns as soon as a job it can run is leased to it, or empty after
 * the wait). Matching of jobs to workers is the store's, inside the
 * claim (docs/store.md). */
#include "master/master_internal.h"
#include "common/jsonutil.h"
#include "common/str.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How often a waiting claim looks at the store when nothing wakes it (a
 * job submitted through another master, a backoff that ends). */
#define CLAIM_POLL_S 0.25

static void list_workers(pyti_master *m, const char *only, master_response *resp)
{
    pyti_error err;
    pyti_store *s = master_store_get(m, &err);
    json_t *list = s ? store_workers_list(s, &err) : NULL;
    master_store_put(m, s);
    if (!list) {
        master_response_pyti_error(resp, &err);
        return;
    }
    if (!only) {
        master_response_json(resp, 200, json_pack("{s:o}", "workers", list));
        return;
    }
    size_t i;
    json_t *w;
    json_array_foreach(list, i, w) {
        const char *id = json_get_str(w, "id");
        if (id && strcmp(id, only) == 0) {
            master_response_json(resp, 200, json_incref(w));
            json_decref(list);
            return;
        }
    }
    json_decref(list);
    master_response_error(resp, 404, "not_found", "no worker '%.128s'", only);
}

static void register_worker(pyti_master *m, const master_request *req, const char *id,
                            master_response *resp)
{
    pyti_error err;
    json_t *body = master_json_object_body(req, false, resp);
    if (!body)
        return;
    const char *bid = json_get_str(body, "id");
    if (json_object_get(body, "id") && (!bid || strcmp(bid, id) != 0)) {
        json_decref(body);
        master_response_error(resp, 400, "bad_request",
                              "request body: id: '%.128s' differs from the worker in the path",
                              bid ? bid : "(not a string)");
        return;
    }
    if (!bid)
        json_object_set_new(body, "id", json_text(id));
    store_worker_info w;
    pyti_strv py = PYTI_STRV_INIT, tags = PYTI_STRV_INIT, recipes = PYTI_STRV_INIT,
              projects = PYTI_STRV_INIT;
    pyti_status rc = store_worker_info_from_json(body, &w, &py, &tags, &recipes, &projects, &err);
    if (rc != PYTI_OK) {
        pyti_error_prefix(&err, "request body");
    } else {
        pyti_store *s = master_store_get(m, &err);
        rc = s ? store_worker_register(s, &w, &err) : err.code;
        master_store_put(m, s);
    }
    strv_free(&py);
    strv_free(&tags);
    strv_free(&recipes);
    strv_free(&projects);
    json_decref(body);
    if (rc != PYTI_OK) {
        master_response_pyti_error(resp, &err);
        return;
    }
    /* The worker paces itself by these. */
    master_response_json(resp, 200,
                         json_pack("{s:s, s:I, s:I, s:I}", "id", id, "lease_s",
                                   (json_int_t)m->st.lease_s, "heartbeat_s",
                                   (json_int_t)(m->st.lease_s / 3 ? m->st.lease_s / 3 : 1),
                                   "long_poll_max_s", (json_int_t)m->st.long_poll_max_s));
}

static void heartbeat_worker(pyti_master *m, const master_request *req, const char *id,
                             master_response *resp)
{
    pyti_error err;
    const char *state = "idle";
    json_t *body = master_json_object_body(req, true, resp);
    if (!body)
        return;
    json_t *st = json_object_get(body, "state");
    if (st && !json_is_string(st)) {
        json_decref(body);
        master_response_error(resp, 400, "bad_request",
                              "request body: expected {\"state\": \"idle|busy|draining\"}");
        return;
    }
    if (st)
        state = json_string_value(st);
    if (strcmp(state, "idle") != 0 && strcmp(state, "busy") != 0 &&
        strcmp(state, "draining") != 0) {
        master_response_error(resp, 400, "bad_request",
                              "request body: state: '%.40s' is not idle, busy or draining", state);
        json_decref(body);
        return;
    }
    pyti_store *s = master_store_get(m, &err);
    pyti_status rc = s ? store_worker_heartbeat(s, id, state, &err) : err.code;
    master_store_put(m, s);
    if (rc != PYTI_OK)
        master_response_pyti_error(resp, &err);
    else
        master_response_json(resp, 200, json_pack("{s:o, s:s}", "id", json_text(id), "state",
                                                  state));
    json_decref(body); /* state points into it */
}

/* True once the client hung up (only where the transport can tell). */
static bool client_gone(const master_request *req)
{
    if (req->client_fd <= 0)
        return false;
    struct pollfd pfd = {req->client_fd, POLLRDHUP, 0};
    return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

json_t *master_leases_json(pyti_master *m, store_lease *leases, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, json_pack("{s:I, s:i, s:O}", "job_id",
                                             (json_int_t)leases[i].job_id, "attempt",
                                             leases[i].attempt, "job", leases[i].job));
        store_lease_clear(&leases[i]);
    }
    if (n) {
        pthread_mutex_lock(&m->stats_lock);
        m->claims_total += n;
        pthread_mutex_unlock(&m->stats_lock);
    }
    return json_pack("{s:o, s:I}", "leases", arr, "lease_s", (json_int_t)m->st.lease_s);
}

static void claim(pyti_master *m, const master_request *req, const char *id,
                  master_response *resp)
{
    pyti_error err;
    long long max = 1;
    double wait = 0;
    json_t *body = master_json_object_body(req, true, resp);
    if (!body)
        return;
    json_t *jm = json_object_get(body, "max"), *jw = json_object_get(body, "wait");
    bool ok = (!jm || json_is_integer(jm)) && (!jw || json_is_number(jw));
    if (ok && jm)
        max = json_integer_value(jm);
    if (ok && jw)
        wait = json_number_value(jw);
    json_decref(body);
    if (!ok || max < 1 || max > STORE_CLAIM_MAX || wait < 0 || wait != wait) {
        master_response_error(resp, 400, "bad_request",
                              "request body: expected {\"max\": 1..%d, \"wait\": seconds}",
                              STORE_CLAIM_MAX);
        return;
    }
    if (wait > (double)m->st.long_poll_max_s)
        wait = (double)m->st.long_poll_max_s;
    double deadline = time_monotonic() + wait;
    store_lease leases[STORE_CLAIM_MAX];
    size_t n = 0;
    for (;;) {
        pthread_mutex_lock(&m->wake_lock);
        unsigned long long gen = m->wake_gen;
        pthread_mutex_unlock(&m->wake_lock);
        if (client_gone(req))
            break;
        pyti_store *s = master_store_get(m, &err);
        pyti_status rc = s ? store_job_claim_many(s, id, 0, (size_t)max, leases, &n, &err)
                           : err.code;
        master_store_put(m, s);
        if (rc != PYTI_OK) {
            master_response_pyti_error(resp, &err);
            return;
        }
        double now = time_monotonic();
        if (n > 0 || m->stopping || now >= deadline)
            break;
        double step = deadline - now < CLAIM_POLL_S ? deadline - now : CLAIM_POLL_S;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long long ns = until.tv_nsec + (long long)(step * 1e9);
        until.tv_sec += (time_t)(ns / 1000000000LL);
        until.tv_nsec = (long)(ns % 1000000000LL);
        pthread_mutex_lock(&m->wake_lock);
        while (gen == m->wake_gen && !m->stopping &&
               pthread_cond_timedwait(&m->wake, &m->wake_lock, &until) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&m->wake_lock);
    }
    master_response_json(resp, 200, master_leases_json(m, leases, n));
}

void api_workers(pyti_master *m, const master_request *req, master_role role,
                 const char *rest, master_response *resp)
{
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if (!*rest || strcmp(rest, "/") == 0) {
        if (!get)
            master_response_error(resp, 405, "method_not_allowed", "%s %s: use GET", req->method,
                                  req->path);
        else if (master_require(m, req, role, ROLE_READ, resp))
            list_workers(m, NULL, resp);
        return;
    }
    char id[129];
    const char *p = rest + 1;
    size_t n = strcspn(p, "/");
    if (n == 0 || n >= sizeof id) {
        master_response_error(resp, 404, "not_found", "expected /api/v1/workers/ID");
        return;
    }
    snprintf(id, sizeof id, "%.*s", (int)n, p);
    const char *sub = p + n;
    if (!*sub) {
        if (get) {
            if (master_require(m, req, role, ROLE_READ, resp))
                list_workers(m, id, resp);
        } else if (strcmp(req->method, "PUT") == 0) {
            if (master_require(m, req, role, ROLE_WORKER, resp))
                register_worker(m, req, id, resp);
        } else {
            master_response_error(resp, 405, "method_not_allowed", "%s %s: use GET or PUT",
                                  req->method, req->path);
        }
        return;
    }
    bool hb = strcmp(sub, "/heartbeat") == 0, cl = strcmp(sub, "/claim") == 0;
    if (!hb && !cl) {
        master_response_error(resp, 404, "not_found", "no endpoint %s", req->path);
        return;
    }
    if (strcmp(req->method, "POST") != 0) {
        master_response_error(resp, 405, "method_not_allowed", "%s %s: use POST", req->method,
                              req->path);
        return;
    }
    if (!master_require(m, req, role, ROLE_WORKER, resp))
        return;
    if (hb)
        heartbeat_worker(m, req, id, resp);
    else
        claim(m, req, id, resp);
}
