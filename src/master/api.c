/* api.c — the master's router: authentication of every request, the
 * permission each route needs, and the hand-off to the handler files;
 * plus the helpers handlers share (JSON bodies, ids). Every non-API GET
 * goes to the pages (pages.c). */
#include "master/master_internal.h"
#include "master/pages.h"
#include "common/jsonutil.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "pyti_config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

const char *master_request_arg(const master_request *r, const char *name)
{
    for (size_t i = 0; r->query && i + 1 < r->query->len; i += 2)
        if (strcmp(r->query->items[i], name) == 0)
            return r->query->items[i + 1];
    return NULL;
}

void master_split_query(char *qs, pyti_strv *q)
{
    char *save = NULL;
    for (char *kv = strtok_r(qs, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (eq)
            *eq = '\0';
        strv_push(q, kv);
        strv_push(q, eq ? eq + 1 : "");
    }
}

json_t *master_parse_json_body(const master_request *req, pyti_error *err)
{
    if (req->body_len == 0) {
        pyti_error_set(err, PYTI_ERR_INPUT, "request body: empty, expected a JSON document");
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        pyti_error_set(err, PYTI_ERR_INPUT, "request body: line %d, column %d: %s", je.line,
                       je.column, je.text);
    return j;
}

json_t *master_json_object_body(const master_request *req, bool empty_ok, master_response *resp)
{
    if (empty_ok && req->body_len == 0)
        return json_object();
    pyti_error err;
    json_t *j = master_parse_json_body(req, &err);
    if (!j) {
        master_response_pyti_error(resp, &err);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        master_response_error(resp, 400, "bad_request", "request body: expected a JSON object");
        return NULL;
    }
    return j;
}

bool master_recipe_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64 || name[0] == '.' || str_endswith(name, ".ini"))
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

bool master_parse_id(const char *s, long long *out)
{
    if (!s || *s < '1' || *s > '9' || strlen(s) > 18)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v <= 0)
        return false;
    *out = v;
    return true;
}

bool master_allowed(const pyti_master *m, master_role have, master_role need)
{
    switch (need) {
    case ROLE_NONE: return true;
    case ROLE_READ: return m->st.public_read || have >= ROLE_WORKER;
    case ROLE_WORKER: return have == ROLE_WORKER || have == ROLE_ADMIN;
    case ROLE_SUBMIT: return have == ROLE_SUBMIT || have == ROLE_ADMIN;
    case ROLE_ADMIN: return have == ROLE_ADMIN;
    }
    return false;
}

bool master_require(const pyti_master *m, const master_request *req, master_role have,
                    master_role need, master_response *resp)
{
    if (master_allowed(m, have, need))
        return true;
    static const char *const what[] = {"", "a token", "a worker token", "a submit token",
                                       "the admin token"};
    if (have == ROLE_NONE) {
        master_response_error(resp, 401, "unauthorized", "%s %s needs %s (Authorization: %s)",
                              req->method, req->path, what[need],
                              req->authorization ? "the token given is not valid"
                                                 : "none was sent");
        master_response_header(resp, "WWW-Authenticate", "Bearer realm=\"pyti\"");
        master_response_header(resp, "WWW-Authenticate", "Basic realm=\"pyti\"");
    } else {
        master_response_error(resp, 403, "forbidden", "%s %s needs %s", req->method, req->path,
                              what[need]);
    }
    return false;
}

static void api_index(pyti_master *m, master_response *resp)
{
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:b, s:[s,s,s,s,s,s,s,s]}", "api", "pyti", "version", "v1", "pyti",
        PYTI_VERSION, "public_read", m->st.public_read, "endpoints", "/api/v1/jobs",
        "/api/v1/jobs/{id}", "/api/v1/workers", "/api/v1/projects", "/api/v1/projects/{name}",
        "/api/v1/reports", "/api/v1/releases/flagged", "/metrics");
    master_response_json(resp, 200, j);
}

static bool is_read(const master_request *req)
{
    return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

void master_dispatch(pyti_master *m, const master_request *req, master_response *resp)
{
    master_role role = master_auth_role(&m->st, req->authorization);
    const char *p = req->path ? req->path : "/";

    if (strcmp(p, "/metrics") == 0) {
        if (!is_read(req))
            master_response_error(resp, 405, "method_not_allowed", "%s /metrics: only GET",
                                  req->method);
        else if (master_require(m, req, role, ROLE_READ, resp))
            metrics_handle(m, req, resp);
        return;
    }
    if (strcmp(p, "/legacy") == 0 || strcmp(p, "/legacy/") == 0) {
        if (strcmp(req->method, "POST") != 0) {
            master_response_error(resp, 405, "method_not_allowed",
                                  "%s %s: the upload endpoint takes POST (twine upload "
                                  "--repository-url URL/legacy/)", req->method, p);
            return;
        }
        if (master_require(m, req, role, ROLE_SUBMIT, resp))
            upload_legacy(m, req, resp);
        return;
    }
    if (strcmp(p, "/api/v1") == 0 || strcmp(p, "/api/v1/") == 0) {
        if (master_require(m, req, role, ROLE_READ, resp))
            api_index(m, resp);
        return;
    }
    if (str_startswith(p, "/api/v1/jobs") && (p[12] == '\0' || p[12] == '/')) {
        api_jobs(m, req, role, p + 12, resp);
        return;
    }
    if (str_startswith(p, "/api/v1/workers") && (p[15] == '\0' || p[15] == '/')) {
        api_workers(m, req, role, p + 15, resp);
        return;
    }
    if (str_startswith(p, "/api/v1/files/")) {
        if (!is_read(req))
            master_response_error(resp, 405, "method_not_allowed", "%s %s: only GET",
                                  req->method, p);
        else if (master_require(m, req, role, ROLE_READ, resp))
            upload_serve_file(m, req, p + 14, resp);
        return;
    }
    if (str_startswith(p, "/api/")) {
        if (!is_read(req)) {
            master_response_error(resp, 404, "not_found", "%s %s: no such endpoint", req->method,
                                  p);
            return;
        }
        if (master_require(m, req, role, ROLE_READ, resp))
            api_catalog(m, req, p + 5, resp);
        return;
    }
    if (!is_read(req)) {
        master_response_error(resp, 405, "method_not_allowed", "%s %s: pages are read with GET",
                              req->method, p);
        return;
    }
    if (master_require(m, req, role, ROLE_READ, resp))
        master_pages_handle(m, req, resp);
}
