/* api_catalog.c — the read-only catalogue of the JSON API: projects, a
 * project's releases with their verdicts, a release's reports and files,
 * reports, and the failing and suspicious releases. path is what follows
 * "/api/" (for example "v1/projects/demo"). */
#include "master/master_internal.h"
#include "common/jsonutil.h"
#include "common/str.h"
#include "common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CATALOG_LIMIT_DEFAULT 100
#define CATALOG_LIMIT_MAX 1000
#define SEGMENT_MAX 256

static bool get_limit(const master_request *req, master_response *resp, size_t *limit)
{
    const char *v = master_request_arg(req, "limit");
    *limit = CATALOG_LIMIT_DEFAULT;
    long long n;
    if (!v)
        return true;
    if (!master_parse_id(v, &n) || n > CATALOG_LIMIT_MAX) {
        master_response_error(resp, 400, "bad_request",
                              "query parameter limit = '%.40s': expected 1..%d", v,
                              CATALOG_LIMIT_MAX);
        return false;
    }
    *limit = (size_t)n;
    return true;
}

/* Splits "a/b/c" into at most max segments of at most SEGMENT_MAX bytes;
 * returns the count, or -1 if there are more or one is too long or
 * empty. */
static int split_path(const char *p, char seg[][SEGMENT_MAX + 1], int max)
{
    int n = 0;
    while (*p) {
        size_t len = strcspn(p, "/");
        if (len == 0 || len > SEGMENT_MAX || n == max)
            return -1;
        memcpy(seg[n], p, len);
        seg[n][len] = '\0';
        n++;
        p += len;
        if (*p == '/')
            p++;
    }
    return n;
}

void api_catalog(pyti_master *m, const master_request *req, const char *path,
                 master_response *resp)
{
    char seg[4][SEGMENT_MAX + 1];
    int n = split_path(path, seg, 4);
    if (n < 2 || strcmp(seg[0], "v1") != 0) {
        master_response_error(resp, 404, "not_found", "no endpoint %.300s (see /api/v1)",
                              req->path);
        return;
    }
    size_t limit = 0;
    pyti_error err;
    json_t *out = NULL;
    pyti_store *s = NULL;
    if (strcmp(seg[1], "projects") == 0 && n == 2) {
        if (!get_limit(req, resp, &limit) || !(s = master_store_get(m, &err)))
            goto store_failed;
        json_t *list = store_list_projects(s, master_request_arg(req, "prefix"), limit, &err);
        if (list)
            out = json_pack("{s:o}", "projects", list);
    } else if (strcmp(seg[1], "projects") == 0 && n == 3) {
        if (!(s = master_store_get(m, &err)))
            goto store_failed;
        json_t *rel = store_list_releases(s, seg[2], &err);
        if (rel && json_array_size(rel) == 0) {
            json_decref(rel);
            rel = NULL;
            pyti_error_set(&err, PYTI_ERR_NOTFOUND, "no project '%s'", seg[2]);
        }
        if (rel)
            out = json_pack("{s:o, s:o}", "project", json_text(seg[2]), "releases", rel);
    } else if (strcmp(seg[1], "projects") == 0 && n == 4) {
        if (!(s = master_store_get(m, &err)))
            goto store_failed;
        json_t *reps = store_release_reports(s, seg[2], seg[3], &err);
        json_t *files = reps ? store_release_files(s, seg[2], seg[3], &err) : NULL;
        if (files && json_array_size(files) == 0 && json_array_size(reps) == 0) {
            json_decref(files);
            files = NULL;
            pyti_error_set(&err, PYTI_ERR_NOTFOUND, "no release %s of project '%s'", seg[3],
                           seg[2]);
        }
        if (files)
            out = json_pack("{s:o, s:o, s:O, s:o}", "project", json_text(seg[2]), "version",
                            json_text(seg[3]), "reports", reps, "files", files);
        json_decref(reps);
    } else if (strcmp(seg[1], "reports") == 0 && n == 2) {
        if (!get_limit(req, resp, &limit) || !(s = master_store_get(m, &err)))
            goto store_failed;
        json_t *list = store_list_reports(s, master_request_arg(req, "project"), limit, &err);
        if (list)
            out = json_pack("{s:o}", "reports", list);
    } else if (strcmp(seg[1], "reports") == 0 && n == 3) {
        if (!(s = master_store_get(m, &err)))
            goto store_failed;
        out = store_get_report(s, seg[2], &err);
    } else if (strcmp(seg[1], "releases") == 0 && n == 3 && strcmp(seg[2], "flagged") == 0) {
        const char *kind = master_request_arg(req, "kind");
        if (!get_limit(req, resp, &limit) || !(s = master_store_get(m, &err)))
            goto store_failed;
        json_t *list = store_list_flagged_releases(s, kind ? kind : "failing", limit, &err);
        if (list)
            out = json_pack("{s:o, s:o}", "kind", json_text(kind ? kind : "failing"), "releases",
                            list);
    } else {
        master_response_error(resp, 404, "not_found", "no endpoint %.300s (see /api/v1)",
                              req->path);
        return;
    }
    master_store_put(m, s);
    if (out)
        master_response_json(resp, 200, out);
    else
        master_response_pyti_error(resp, &err);
    return;
store_failed:
    if (resp->status == 0)
        master_response_pyti_error(resp, &err);
}
