/* upload.c — distribution files sent to the master: twine's legacy upload
 * endpoint (POST /legacy/, the form PyPI's upload API takes), multipart
 * submits of the JSON API (POST /api/v1/jobs with a file), and the files
 * served back to workers (GET /api/v1/files/SHA256/NAME).
 *
 * An uploaded file is kept content-addressed under files_dir
 * (<files_dir>/<sha[0:2]>/<sha256>/<filename>, written atomically), and
 * its job points at it twice: by path (a worker on this machine reads it
 * directly) and by URL on this master (any other worker downloads it and
 * verifies the sha256). */
#include "master/master_internal.h"
#include "master/multipart.h"
#include "common/hash.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "pkg/name.h"
#include "pkg/version.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIELD_MAX 4096

/* A distribution file name that is safe as a path component and in a URL
 * path: no separators, no leading dot, no control characters. */
static bool safe_filename(const char *f)
{
    size_t n = strlen(f);
    if (n == 0 || n > 255 || f[0] == '.')
        return false;
    for (const char *p = f; *p; p++)
        if ((unsigned char)*p < 0x21 || *p == '/' || *p == '\\' || *p == 0x7f || *p == '%' ||
            *p == '?' || *p == '#' || *p == '"' || *p == '<' || *p == '>')
            return false;
    return true;
}

static bool is_sha256(const char *s)
{
    if (!s || strlen(s) != 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static char *stored_path(const pyti_master *m, const char *sha, const char *filename)
{
    return xasprintf("%s/%.2s/%s/%s", m->st.files_dir, sha, sha, filename);
}

pyti_status master_store_upload(pyti_master *m, pyti_store *s, const char *filename,
                                const void *data, size_t len, const char *expect_sha256,
                                const store_job_spec *spec_in, long long *job_id, bool *created,
                                char *sha256_out, pyti_error *err)
{
    if (!safe_filename(filename))
        return pyti_error_set(err, PYTI_ERR_INPUT,
                              "file name '%.120s': not a plain file name (no '/', no leading "
                              "'.', no control or URL characters, at most 255 bytes)", filename);
    pyti_dist_filename df;
    if (dist_filename_parse(filename, &df, err) != PYTI_OK)
        return PYTI_ERR_INPUT;
    pyti_status rc = PYTI_OK;
    char *dest = NULL;
    if (!master_project_allowed(&m->st, df.name)) {
        rc = pyti_error_set(err, PYTI_ERR_USAGE, "project '%s' is refused by the allow/deny lists",
                            df.name);
        goto out;
    }
    char sha[PYTI_SHA256_HEX_LEN + 1];
    hash_sha256_hex(data, len, sha);
    if (expect_sha256 && *expect_sha256 && strcasecmp(expect_sha256, sha) != 0) {
        rc = pyti_error_set(err, PYTI_ERR_INPUT,
                            "%s: sha256_digest %.64s does not match the file's sha256 %s", filename,
                            expect_sha256, sha);
        goto out;
    }
    if (sha256_out)
        memcpy(sha256_out, sha, sizeof sha);
    dest = stored_path(m, sha, filename);
    if (!path_is_file(dest)) {
        char *dir = path_dirname(dest);
        rc = path_mkdirs(dir, 0755, err);
        free(dir);
        if (rc == PYTI_OK)
            rc = path_write_file_atomic(dest, data, len, err);
        if (rc != PYTI_OK)
            goto out;
    }
    char *url = xasprintf("%s/api/v1/files/%s/%s", m->url, sha, filename);
    store_job_spec sp;
    if (spec_in)
        sp = *spec_in;
    else
        store_job_spec_init(&sp);
    sp.name = df.name;
    sp.version = df.version;
    sp.filename = filename;
    sp.url = url;
    sp.path = dest;
    sp.sha256 = sha;
    sp.size = (long long)len;
    if (!spec_in || !spec_in->created_by)
        sp.created_by = "upload";
    rc = store_job_submit(s, &sp, job_id, created, err);
    free(url);
    if (rc == PYTI_OK) {
        pthread_mutex_lock(&m->stats_lock);
        m->uploads_total++;
        pthread_mutex_unlock(&m->stats_lock);
        if (*created)
            master_wake(m);
    }
out:
    free(dest);
    dist_filename_free(&df);
    return rc;
}

/* Job settings of uploads without their own: [feeds] recipe, python and
 * priority. */
static void upload_defaults(const pyti_master *m, store_job_spec *sp)
{
    store_job_spec_init(sp);
    sp->recipe = config_get(m->config, "feeds", "recipe");
    sp->python = config_get(m->config, "feeds", "python");
    const char *pr = config_get(m->config, "feeds", "priority");
    if (pr)
        sp->priority = atoi(pr);
}

static bool parse_form(const master_request *req, mp_form *form, master_response *resp)
{
    char boundary[80];
    pyti_error err;
    memset(form, 0, sizeof *form); /* freed by the caller even when the type is wrong */
    if (multipart_boundary(req->content_type, boundary, sizeof boundary, &err) != PYTI_OK ||
        multipart_parse(req->body, req->body_len, boundary, form, &err) != PYTI_OK) {
        pyti_error_prefix(&err, "request body");
        master_response_pyti_error(resp, &err);
        return false;
    }
    return true;
}

void upload_legacy(pyti_master *m, const master_request *req, master_response *resp)
{
    mp_form form;
    if (!parse_form(req, &form, resp)) {
        multipart_free(&form);
        return;
    }
    char *action = multipart_field(&form, ":action", FIELD_MAX);
    char *proto = multipart_field(&form, "protocol_version", FIELD_MAX);
    char *name = multipart_field(&form, "name", FIELD_MAX);
    char *version = multipart_field(&form, "version", FIELD_MAX);
    char *digest = multipart_field(&form, "sha256_digest", FIELD_MAX);
    const mp_part *content = multipart_get(&form, "content");
    pyti_dist_filename df = {0};
    pyti_error err;
    if (!action || strcmp(action, "file_upload") != 0) {
        master_response_error(resp, 400, "bad_request",
                              "field ':action' is '%.40s': only file_upload is supported",
                              action ? action : "(missing)");
    } else if (proto && strcmp(proto, "1") != 0) {
        master_response_error(resp, 400, "bad_request",
                              "field 'protocol_version' is '%.40s': only 1 is supported", proto);
    } else if (!content || !content->filename) {
        master_response_error(resp, 400, "bad_request",
                              "field 'content': missing, or not a file (no filename)");
    } else if (dist_filename_parse(content->filename, &df, &err) != PYTI_OK) {
        master_response_error(resp, 400, "bad_request", "field 'content': %s", err.msg);
    } else {
        char *n1 = name ? name_normalize(name) : NULL, *n2 = name_normalize(df.name);
        bool name_ok = !n1 || strcmp(n1, n2) == 0;
        bool version_ok = true;
        if (version) {
            pyti_version *a = version_parse(version, NULL), *b = version_parse(df.version, NULL);
            version_ok = a && b ? version_compare(a, b) == 0 : strcmp(version, df.version) == 0;
            version_free(a);
            version_free(b);
        }
        free(n1);
        free(n2);
        if (!name_ok || !version_ok) {
            master_response_error(resp, 400, "bad_request",
                                  "fields 'name' and 'version' (%.100s %.60s) do not match the "
                                  "file %.200s", name ? name : "-", version ? version : "-",
                                  content->filename);
        } else if (digest && !is_sha256(digest)) {
            master_response_error(resp, 400, "bad_request",
                                  "field 'sha256_digest': expected 64 lowercase hex digits");
        } else {
            pyti_store *s = master_store_get(m, &err);
            store_job_spec sp;
            upload_defaults(m, &sp);
            sp.created_by = "upload";
            long long id = 0;
            bool created = false;
            char sha[PYTI_SHA256_HEX_LEN + 1];
            pyti_status rc = s ? master_store_upload(m, s, content->filename, content->data,
                                                     content->len, digest, &sp, &id, &created,
                                                     sha, &err)
                               : err.code;
            master_store_put(m, s);
            if (rc == PYTI_ERR_USAGE && s)
                master_response_error(resp, 403, "project_denied", "%s", err.msg);
            else if (rc != PYTI_OK)
                master_response_pyti_error(resp, &err);
            else
                master_response_json(resp, 200,
                                     json_pack("{s:I, s:b, s:s, s:o}", "job", (json_int_t)id,
                                               "created", created, "sha256", sha, "filename",
                                               json_text(content->filename)));
        }
    }
    dist_filename_free(&df);
    free(action);
    free(proto);
    free(name);
    free(version);
    free(digest);
    multipart_free(&form);
}

void upload_submit(pyti_master *m, const master_request *req, master_response *resp)
{
    mp_form form;
    if (!parse_form(req, &form, resp)) {
        multipart_free(&form);
        return;
    }
    const mp_part *file = multipart_get(&form, "file");
    if (!file)
        file = multipart_get(&form, "content");
    char *recipe = multipart_field(&form, "recipe", 256);
    char *python = multipart_field(&form, "python", 256);
    char *priority = multipart_field(&form, "priority", 16);
    char *retest = multipart_field(&form, "retest", 16);
    char *sha = multipart_field(&form, "sha256", 128);
    store_job_spec sp;
    store_job_spec_init(&sp);
    sp.recipe = recipe;
    sp.python = python;
    sp.created_by = "api";
    sp.retest = retest && (strcmp(retest, "true") == 0 || strcmp(retest, "1") == 0);
    char *end = NULL;
    long prio = priority ? strtol(priority, &end, 10) : 0;
    pyti_error err;
    if (!file || !file->filename) {
        master_response_error(resp, 400, "bad_request",
                              "request body: field 'file' (a file with a filename) is missing");
    } else if (recipe && !master_recipe_name_ok(recipe)) {
        master_response_error(resp, 400, "bad_request",
                              "request body: field 'recipe': '%.80s' is not a recipe name", recipe);
    } else if (priority && (*end || !*priority || prio < -1000 || prio > 1000)) {
        master_response_error(resp, 400, "bad_request",
                              "request body: field 'priority': expected -1000..1000");
    } else {
        sp.priority = (int)prio;
        pyti_store *s = master_store_get(m, &err);
        long long id = 0;
        bool created = false;
        pyti_status rc = s ? master_store_upload(m, s, file->filename, file->data, file->len, sha,
                                                 &sp, &id, &created, NULL, &err)
                           : err.code;
        json_t *job = rc == PYTI_OK ? store_job_get(s, id, &err) : NULL;
        master_store_put(m, s);
        if (rc == PYTI_ERR_USAGE && s && str_startswith(err.msg, "project"))
            master_response_error(resp, 403, "project_denied", "%s", err.msg);
        else if (rc != PYTI_OK)
            master_response_pyti_error(resp, &err);
        else
            master_response_json(resp, created ? 201 : 200,
                                 json_pack("{s:I, s:b, s:o}", "id", (json_int_t)id, "created",
                                           created, "job", job ? job : json_null()));
    }
    free(recipe);
    free(python);
    free(priority);
    free(retest);
    free(sha);
    multipart_free(&form);
}

void upload_serve_file(pyti_master *m, const master_request *req, const char *rest,
                       master_response *resp)
{
    (void)req;
    const char *slash = strchr(rest, '/');
    char sha[PYTI_SHA256_HEX_LEN + 1];
    if (!slash || slash - rest != PYTI_SHA256_HEX_LEN || !safe_filename(slash + 1)) {
        master_response_error(resp, 404, "not_found", "expected /api/v1/files/SHA256/FILENAME");
        return;
    }
    memcpy(sha, rest, PYTI_SHA256_HEX_LEN);
    sha[PYTI_SHA256_HEX_LEN] = '\0';
    if (!is_sha256(sha)) {
        master_response_error(resp, 404, "not_found", "expected /api/v1/files/SHA256/FILENAME");
        return;
    }
    char *path = stored_path(m, sha, slash + 1);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    free(path);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        master_response_error(resp, 404, "not_found", "no file %.64s/%.200s on this master", sha,
                              slash + 1);
        return;
    }
    resp->fd = fd;
    resp->fd_size = (uint64_t)st.st_size;
    resp->status = 200;
    snprintf(resp->content_type, sizeof resp->content_type, "application/octet-stream");
    master_response_header(resp, "Cache-Control", "public, max-age=31536000, immutable");
}
