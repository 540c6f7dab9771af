/* api_jobs.c — /api/v1/jobs: submitting jobs (JSON specs; multipart
 * uploads go to upload.c), listing and reading them with their report and
 * logs, cancel and retry for the admin, and the calls a worker makes on
 * an attempt it holds: heartbeat, start, result (report and logs), fail,
 * logs. The rules (leases, first result wins, backoff) are the store's
 * (docs/store.md); this file checks the requests and maps the answers. */
#include "master/master_internal.h"
#include "common/jsonutil.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "web/web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUBMIT_BATCH_MAX 1000
#define LIST_LIMIT_DEFAULT 50
#define LIST_LIMIT_MAX 1000
#define LOG_NAME_MAX 64

/* Runs fn with a store handle from the pool; on failure to get one,
 * answers 503. */
#define WITH_STORE(m, resp, s)                                 \
    pyti_error err_;                                           \
    pyti_store *s = master_store_get((m), &err_);              \
    if (!s) {                                                  \
        master_response_pyti_error((resp), &err_);             \
        return;                                                \
    }

static bool is_get(const master_request *req)
{
    return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

static bool is_post(const master_request *req) { return strcmp(req->method, "POST") == 0; }

static void method_not_allowed(const master_request *req, master_response *resp,
                               const char *allowed)
{
    master_response_error(resp, 405, "method_not_allowed", "%s %s: use %s", req->method,
                          req->path, allowed);
    master_response_header(resp, "Allow", allowed);
}

/* ---- submit ---- */

/* A spec from the API: only a URL (http/https) workers can fetch; paths
 * on the master's machine come from the drop directory and uploads only. */
static pyti_status api_spec(const json_t *j, store_job_spec *sp, pyti_strv *py, pyti_strv *tags,
                            pyti_error *err)
{
    if (!json_is_object(j))
        return pyti_error_set(err, PYTI_ERR_INPUT, "expected a job spec object");
    if (json_object_get(j, "path"))
        return pyti_error_set(err, PYTI_ERR_INPUT,
                              "path: not accepted over the API (give \"url\" and \"sha256\", or "
                              "upload the file as multipart/form-data)");
    if (store_job_spec_from_json(j, sp, py, tags, err) != PYTI_OK)
        return PYTI_ERR_INPUT;
    if (!sp->url || !(str_startswith(sp->url, "http://") || str_startswith(sp->url, "https://")))
        return pyti_error_set(err, PYTI_ERR_INPUT, "url: required, an http:// or https:// URL");
    if (sp->recipe && !master_recipe_name_ok(sp->recipe))
        return pyti_error_set(err, PYTI_ERR_INPUT, "recipe: '%.80s' is not a recipe name (1-64 "
                              "of [A-Za-z0-9._-]; paths are not accepted)", sp->recipe);
    if (!json_object_get(j, "created_by"))
        sp->created_by = "api";
    return PYTI_OK;
}

static void submit_json(pyti_master *m, const master_request *req, master_response *resp)
{
    pyti_error err;
    json_t *doc = master_parse_json_body(req, &err);
    if (!doc) {
        master_response_pyti_error(resp, &err);
        return;
    }
    bool batch = json_is_array(doc);
    if (batch && json_array_size(doc) > SUBMIT_BATCH_MAX) {
        master_response_error(resp, 413, "too_large", "request body: %zu job specs, at most %d "
                              "per request", json_array_size(doc), SUBMIT_BATCH_MAX);
        json_decref(doc);
        return;
    }
    json_t *arr = batch ? json_incref(doc) : json_pack("[O]", doc);
    /* Every spec is checked before anything is submitted: a batch with a
     * bad spec submits nothing. */
    size_t n = json_array_size(arr);
    store_job_spec *specs = xcalloc(n + 1, sizeof *specs);
    pyti_strv *lists = xcalloc(2 * n + 1, sizeof *lists);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        if (api_spec(json_array_get(arr, i), &specs[i], &lists[2 * i], &lists[2 * i + 1], &err) !=
            PYTI_OK) {
            if (batch)
                master_response_error(resp, 400, "bad_request", "request body: [%zu]: %s", i,
                                      err.msg);
            else
                master_response_error(resp, 400, "bad_request", "request body: %s", err.msg);
            ok = false;
        } else if (!master_project_allowed(&m->st, specs[i].name)) {
            master_response_error(resp, 403, "project_denied",
                                  "request body: %s%zu%s: project '%s' is refused by the "
                                  "allow/deny lists", batch ? "[" : "", i, batch ? "]" : "",
                                  specs[i].name);
            ok = false;
        }
    }
    pyti_store *s = ok ? master_store_get(m, &err) : NULL;
    if (ok && !s) {
        master_response_pyti_error(resp, &err);
        ok = false;
    }
    if (ok) {
        json_t *results = json_array();
        int status = batch ? 200 : 201;
        bool any_new = false;
        for (size_t i = 0; i < n; i++) {
            long long id = 0;
            bool created = false;
            if (store_job_submit(s, &specs[i], &id, &created, &err) != PYTI_OK) {
                if (!batch) {
                    master_response_pyti_error(resp, &err);
                    break;
                }
                json_t *e = json_pack("{s:I}", "index", (json_int_t)i);
                json_set_text(e, "error", err.msg);
                json_array_append_new(results, e);
                continue;
            }
            any_new |= created;
            if (!batch && !created)
                status = 200;
            json_array_append_new(results, json_pack("{s:I, s:I, s:b}", "index", (json_int_t)i,
                                                     "id", (json_int_t)id, "created", created));
        }
        if (any_new) {
            pthread_mutex_lock(&m->stats_lock);
            m->submits_total += n;
            pthread_mutex_unlock(&m->stats_lock);
            master_wake(m);
        }
        if (resp->status == 0) {
            if (batch) {
                master_response_json(resp, status, json_pack("{s:O}", "jobs", results));
            } else {
                json_t *r0 = json_array_get(results, 0);
                long long id = json_integer_value(json_object_get(r0, "id"));
                json_t *job = store_job_get(s, id, &err);
                json_t *out = json_pack("{s:I, s:O, s:o}", "id", (json_int_t)id, "created",
                                        json_object_get(r0, "created"), "job",
                                        job ? job : json_null());
                if (status == 201) {
                    char loc[64];
                    snprintf(loc, sizeof loc, "/api/v1/jobs/%lld", id);
                    master_response_header(resp, "Location", loc);
                }
                master_response_json(resp, status, out);
            }
        }
        json_decref(results);
    }
    master_store_put(m, s);
    for (size_t i = 0; i < 2 * n; i++)
        strv_free(&lists[i]);
    free(lists);
    free(specs);
    json_decref(arr);
    json_decref(doc);
}

/* ---- reading ---- */

static bool limit_arg(const master_request *req, master_response *resp, size_t *limit)
{
    const char *v = master_request_arg(req, "limit");
    *limit = LIST_LIMIT_DEFAULT;
    if (!v)
        return true;
    long long n;
    if (!master_parse_id(v, &n) || n > LIST_LIMIT_MAX) {
        master_response_error(resp, 400, "bad_request",
                              "query parameter limit = '%.40s': expected 1..%d", v,
                              LIST_LIMIT_MAX);
        return false;
    }
    *limit = (size_t)n;
    return true;
}

static void list_jobs(pyti_master *m, const master_request *req, master_response *resp)
{
    store_job_filter f = {0};
    f.state = master_request_arg(req, "state");
    f.project = master_request_arg(req, "project");
    f.worker = master_request_arg(req, "worker");
    const char *before = master_request_arg(req, "before");
    if (before && !master_parse_id(before, &f.before_id)) {
        master_response_error(resp, 400, "bad_request",
                              "query parameter before = '%.40s': expected a job id", before);
        return;
    }
    if (!limit_arg(req, resp, &f.limit))
        return;
    WITH_STORE(m, resp, s);
    /* Written straight into the body: building 50 jobs as a jansson tree
     * and dumping it cost more than the query (bench/README.md, web_load). */
    json_writer w;
    buf_reset(&resp->body);
    jw_init(&w, &resp->body, 1);
    jw_object_open(&w);
    jw_key(&w, "jobs");
    pyti_error err;
    size_t count;
    long long last_id;
    pyti_status rc = store_jobs_list_write(s, &f, &w, &count, &last_id, &err);
    master_store_put(m, s);
    if (rc != PYTI_OK) {
        master_response_pyti_error(resp, &err);
        return;
    }
    jw_key(&w, "next_before");
    if (count == f.limit && f.limit > 0)
        jw_int(&w, last_id);
    else
        jw_null(&w);
    jw_object_close(&w);
    buf_putc(&resp->body, '\n');
    resp->status = 200;
    snprintf(resp->content_type, sizeof resp->content_type, "application/json");
}

static void get_job(pyti_master *m, long long id, master_response *resp)
{
    WITH_STORE(m, resp, s);
    pyti_error err;
    json_t *j = store_job_get(s, id, &err);
    master_store_put(m, s);
    if (!j)
        master_response_pyti_error(resp, &err);
    else
        master_response_json(resp, 200, j);
}

static void job_report(pyti_master *m, long long id, master_response *resp)
{
    WITH_STORE(m, resp, s);
    pyti_error err;
    json_t *j = store_job_get(s, id, &err);
    json_t *rep = NULL;
    if (j) {
        const char *rid = json_get_str(j, "report_id");
        if (!rid)
            pyti_error_set(&err, PYTI_ERR_NOTFOUND, "job %lld has no report yet (state %s)", id,
                           json_get_str(j, "state"));
        else
            rep = store_get_report(s, rid, &err);
    }
    master_store_put(m, s);
    json_decref(j);
    if (!rep)
        master_response_pyti_error(resp, &err);
    else
        master_response_json(resp, 200, rep);
}

static bool valid_log_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > LOG_NAME_MAX)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

static void job_logs(pyti_master *m, long long id, const char *rest, master_response *resp)
{
    WITH_STORE(m, resp, s);
    pyti_error err;
    if (!*rest || strcmp(rest, "/") == 0) {
        json_t *list = store_list_logs(s, id, &err);
        master_store_put(m, s);
        if (!list)
            master_response_pyti_error(resp, &err);
        else
            master_response_json(resp, 200, json_pack("{s:I, s:o}", "job", (json_int_t)id,
                                                      "logs", list));
        return;
    }
    /* /ATTEMPT/NAME */
    char attempt_s[24];
    const char *slash = strchr(rest + 1, '/');
    long long attempt = 0;
    if (!slash || (size_t)(slash - rest - 1) >= sizeof attempt_s) {
        master_store_put(m, s);
        master_response_error(resp, 404, "not_found", "expected /api/v1/jobs/%lld/logs/ATTEMPT/NAME",
                              id);
        return;
    }
    snprintf(attempt_s, sizeof attempt_s, "%.*s", (int)(slash - rest - 1), rest + 1);
    if (!master_parse_id(attempt_s, &attempt) || attempt > 1000000 || !valid_log_name(slash + 1)) {
        master_store_put(m, s);
        master_response_error(resp, 404, "not_found", "no log '%.80s' of job %lld", rest + 1, id);
        return;
    }
    size_t len = 0;
    char *text = store_get_log(s, id, (int)attempt, slash + 1, &len, &err);
    master_store_put(m, s);
    if (!text) {
        master_response_pyti_error(resp, &err);
        return;
    }
    buf_reset(&resp->body);
    buf_append(&resp->body, text, len);
    free(text);
    resp->status = 200;
    snprintf(resp->content_type, sizeof resp->content_type, "text/plain; charset=utf-8");
}

/* ---- operators ---- */

static void cancel_or_retry(pyti_master *m, long long id, bool cancel, master_response *resp)
{
    WITH_STORE(m, resp, s);
    pyti_error err;
    bool changed = true;
    pyti_status rc = cancel ? store_job_cancel(s, id, &changed, &err) : store_job_retry(s, id, &err);
    json_t *j = rc == PYTI_OK ? store_job_get(s, id, &err) : NULL;
    master_store_put(m, s);
    if (rc != PYTI_OK) {
        /* A job in the wrong state is a conflict, not a malformed request. */
        if (err.code == PYTI_ERR_USAGE)
            master_response_error(resp, 409, "conflict", "%s", err.msg);
        else
            master_response_pyti_error(resp, &err);
        json_decref(j);
        return;
    }
    if (!cancel)
        master_wake(m);
    master_response_json(resp, 200, json_pack("{s:I, s:b, s:o}", "id", (json_int_t)id, "changed",
                                              changed, "job", j ? j : json_null()));
}

/* ---- a worker's attempt ---- */

/* Stores the logs of an object {"NAME": "text", ...}. */
static pyti_status put_logs(pyti_store *s, long long id, int attempt, const json_t *logs,
                            pyti_error *err)
{
    if (!logs || json_is_null(logs))
        return PYTI_OK;
    if (!json_is_object(logs))
        return pyti_error_set(err, PYTI_ERR_INPUT, "logs: expected an object {\"name\": \"text\"}");
    if (json_object_size(logs) > 256)
        return pyti_error_set(err, PYTI_ERR_INPUT, "logs: %zu logs, at most 256",
                              json_object_size(logs));
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)logs, name, v) {
        if (!valid_log_name(name))
            return pyti_error_set(err, PYTI_ERR_INPUT,
                                  "logs: name '%.80s': expected 1-64 of [A-Za-z0-9._-]", name);
        if (!json_is_string(v))
            return pyti_error_set(err, PYTI_ERR_INPUT, "logs.%s: expected a string", name);
        bool inserted;
        if (store_put_log(s, id, attempt, name, json_string_value(v), json_string_length(v),
                          &inserted, err) != PYTI_OK)
            return pyti_error_prefix(err, "logs.%s", name);
    }
    return PYTI_OK;
}

/* A result's optional "next": {"worker": "ID", "max": 1..STORE_CLAIM_MAX},
 * the claim a worker's slot makes with its result. *worker stays NULL
 * without one. */
static pyti_status next_of(const json_t *next, const char **worker, long long *max,
                           pyti_error *err)
{
    if (!next)
        return PYTI_OK;
    const json_t *w = json_object_get(next, "worker"), *mx = json_object_get(next, "max");
    if (!json_is_object(next) || !json_is_string(w) || json_string_length(w) < 1 ||
        json_string_length(w) > 128 || (mx && !json_is_integer(mx)) ||
        (mx && (json_integer_value(mx) < 1 || json_integer_value(mx) > STORE_CLAIM_MAX)))
        return pyti_error_set(err, PYTI_ERR_INPUT,
                              "request body: next: expected {\"worker\": \"ID\", \"max\": "
                              "1..%d}",
                              STORE_CLAIM_MAX);
    *worker = json_string_value(w);
    if (mx)
        *max = json_integer_value(mx);
    return PYTI_OK;
}

static void attempt_call(pyti_master *m, const master_request *req, long long id, int attempt,
                         const char *verb, master_response *resp)
{
    if (!is_post(req)) {
        method_not_allowed(req, resp, "POST");
        return;
    }
    pyti_error err;
    json_t *body = NULL;
    bool raw_log = str_startswith(verb, "logs/");
    if (raw_log) {
        if (!valid_log_name(verb + 5)) {
            master_response_error(resp, 400, "bad_request",
                                  "log name '%.80s': expected 1-64 of [A-Za-z0-9._-]", verb + 5);
            return;
        }
    } else if (req->body_len > 0 && !(body = master_json_object_body(req, false, resp))) {
        return;
    }
    pyti_store *s = master_store_get(m, &err);
    if (!s) {
        json_decref(body);
        master_response_pyti_error(resp, &err);
        return;
    }
    pyti_status rc = PYTI_OK;
    json_t *out = NULL;
    if (strcmp(verb, "heartbeat") == 0 || strcmp(verb, "start") == 0) {
        store_lease_state st;
        rc = verb[0] == 'h' ? store_job_heartbeat(s, id, attempt, 0, &st, &err)
                            : store_job_start(s, id, attempt, 0, &st, &err);
        if (rc == PYTI_OK)
            out = json_pack("{s:s, s:I}", "state", store_lease_state_name(st), "lease_s",
                            (json_int_t)m->st.lease_s);
    } else if (strcmp(verb, "result") == 0) {
        json_t *report = body ? json_object_get(body, "report") : NULL;
        const char *next_worker = NULL;
        long long next_max = 1;
        if (!report) {
            rc = pyti_error_set(&err, PYTI_ERR_INPUT,
                                "request body: expected {\"report\": {...}, \"logs\": {...}}");
        } else if (next_of(json_object_get(body, "next"), &next_worker, &next_max, &err) !=
                   PYTI_OK) {
            rc = PYTI_ERR_INPUT;
        } else if ((rc = put_logs(s, id, attempt, json_object_get(body, "logs"), &err)) ==
                   PYTI_OK) {
            store_result r;
            store_lease leases[STORE_CLAIM_MAX];
            size_t n = 0;
            rc = next_worker ? store_job_complete_claim(s, id, attempt, report, &r, next_worker,
                                                        0, (size_t)next_max, leases, &n, &err)
                             : store_job_complete(s, id, attempt, report, &r, &err);
            if (rc == PYTI_OK && r == STORE_RESULT_STORED)
                /* This request runs on a thread of its own (a write): its
                 * page's parts are rendered here, not by its first visitor. */
                web_report_warm(s, json_get_str(report, "id"));
            if (rc == PYTI_OK) {
                out = json_pack("{s:s}", "result", store_result_name(r));
                if (next_worker)
                    json_object_set_new(out, "next", master_leases_json(m, leases, n));
                pthread_mutex_lock(&m->stats_lock);
                m->results_total++;
                pthread_mutex_unlock(&m->stats_lock);
            } else if (err.code == PYTI_ERR_INPUT) {
                pyti_error_prefix(&err, "report");
            }
        }
    } else if (strcmp(verb, "fail") == 0) {
        json_t *retry = body ? json_object_get(body, "retryable") : NULL;
        json_t *msg = body ? json_object_get(body, "message") : NULL;
        if ((retry && !json_is_boolean(retry)) || (msg && !json_is_string(msg) && !json_is_null(msg))) {
            rc = pyti_error_set(&err, PYTI_ERR_INPUT, "request body: expected {\"retryable\": "
                                "true|false, \"message\": \"text\", \"logs\": {...}}");
        } else if ((rc = put_logs(s, id, attempt, body ? json_object_get(body, "logs") : NULL,
                                  &err)) == PYTI_OK) {
            store_result r;
            rc = store_job_fail(s, id, attempt, !retry || json_is_true(retry),
                                msg ? json_string_value(msg) : NULL, &r, &err);
            if (rc == PYTI_OK)
                out = json_pack("{s:s}", "result", store_result_name(r));
        }
    } else if (raw_log) {
        bool inserted = false;
        rc = store_put_log(s, id, attempt, verb + 5, req->body, req->body_len, &inserted, &err);
        if (rc == PYTI_OK)
            out = json_pack("{s:b}", "stored", inserted);
    } else {
        rc = pyti_error_set(&err, PYTI_ERR_NOTFOUND,
                            "no endpoint '%.40s' on an attempt (heartbeat, start, result, fail, "
                            "logs/NAME)", verb);
    }
    master_store_put(m, s);
    json_decref(body);
    if (rc != PYTI_OK) {
        master_response_pyti_error(resp, &err);
        return;
    }
    /* A retry or a requeue makes a job claimable again. */
    const char *res = json_get_str(out, "result");
    if (res && strcmp(res, "retry") == 0)
        master_wake(m);
    master_response_json(resp, 200, out);
}

void api_jobs(pyti_master *m, const master_request *req, master_role role, const char *rest,
              master_response *resp)
{
    if (!*rest || strcmp(rest, "/") == 0) {
        if (is_get(req)) {
            if (master_require(m, req, role, ROLE_READ, resp))
                list_jobs(m, req, resp);
        } else if (is_post(req)) {
            if (!master_require(m, req, role, ROLE_SUBMIT, resp))
                return;
            if (req->content_type && str_startswith(req->content_type, "multipart/"))
                upload_submit(m, req, resp);
            else
                submit_json(m, req, resp);
        } else {
            method_not_allowed(req, resp, "GET, POST");
        }
        return;
    }
    /* /ID[/...] */
    char ids[24];
    const char *p = rest + 1;
    size_t n = strcspn(p, "/");
    long long id = 0;
    if (n >= sizeof ids || (snprintf(ids, sizeof ids, "%.*s", (int)n, p), !master_parse_id(ids, &id))) {
        master_response_error(resp, 404, "not_found", "'%.40s' is not a job id", p);
        return;
    }
    const char *sub = p + n;
    if (!*sub) {
        if (!is_get(req))
            method_not_allowed(req, resp, "GET");
        else if (master_require(m, req, role, ROLE_READ, resp))
            get_job(m, id, resp);
        return;
    }
    if (strcmp(sub, "/cancel") == 0 || strcmp(sub, "/retry") == 0) {
        if (!is_post(req))
            method_not_allowed(req, resp, "POST");
        else if (master_require(m, req, role, ROLE_ADMIN, resp))
            cancel_or_retry(m, id, sub[1] == 'c', resp);
        return;
    }
    if (strcmp(sub, "/report") == 0) {
        if (!is_get(req))
            method_not_allowed(req, resp, "GET");
        else if (master_require(m, req, role, ROLE_READ, resp))
            job_report(m, id, resp);
        return;
    }
    if (strcmp(sub, "/logs") == 0 || str_startswith(sub, "/logs/")) {
        if (!is_get(req))
            method_not_allowed(req, resp, "GET");
        else if (master_require(m, req, role, ROLE_READ, resp))
            job_logs(m, id, sub + 5, resp);
        return;
    }
    if (str_startswith(sub, "/attempts/")) {
        const char *a = sub + 10;
        size_t an = strcspn(a, "/");
        char as[16];
        long long attempt = 0;
        if (an >= sizeof as || a[an] != '/' ||
            (snprintf(as, sizeof as, "%.*s", (int)an, a), !master_parse_id(as, &attempt)) ||
            attempt > 1000000) {
            master_response_error(resp, 404, "not_found",
                                  "expected /api/v1/jobs/ID/attempts/N/(heartbeat|start|result|"
                                  "fail|logs/NAME)");
            return;
        }
        if (master_require(m, req, role, ROLE_WORKER, resp))
            attempt_call(m, req, id, (int)attempt, a + an + 1, resp);
        return;
    }
    master_response_error(resp, 404, "not_found", "no endpoint %s", req->path);
}
