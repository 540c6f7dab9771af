/* tasks_extract.c — the `extract` built-in: unpack the distribution with
 * the safe extractor into <work>/dist and produce `source`
 * {root, kind, unpacked}, where root is the sdist's single top-level
 * directory (or the wheel's root). A refused archive fails the task and
 * marks the input as rejected (pyti test exits 2). */
#include "exec/task.h"
#include "exec/tasks_internal.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "pkg/archive.h"
#include "pkg/name.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *extract_single_top_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char *only = NULL;
    int count = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (++count == 1)
            only = xstrdup(de->d_name);
    }
    closedir(d);
    char *result = NULL;
    if (count == 1) {
        char *p = path_join(dir, only);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            result = p;
        else
            free(p);
    }
    free(only);
    return result;
}

static json_t *stats_json(const pyti_extract_stats *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "entries", json_integer((json_int_t)s->entries));
    json_object_set_new(o, "files", json_integer((json_int_t)s->files));
    json_object_set_new(o, "dirs", json_integer((json_int_t)s->dirs));
    json_object_set_new(o, "symlinks", json_integer((json_int_t)s->symlinks));
    json_object_set_new(o, "hardlinks", json_integer((json_int_t)s->hardlinks));
    json_object_set_new(o, "unpacked_size", json_integer((json_int_t)s->total_size));
    json_object_set_new(o, "archive_size", json_integer((json_int_t)s->archive_size));
    json_object_set_new(o, "compression_ratio",
                        json_real(s->archive_size ? (double)s->total_size / (double)s->archive_size : 0));
    json_set_text(o, "format", s->format);
    json_set_text(o, "filter", s->filter);
    return o;
}

pyti_task_status task_builtin_extract(pyti_task_ctx *ctx)
{
    const pyti_job *job = ctx->job;
    pyti_error err;
    pyti_dist_filename fn;
    if (dist_filename_parse(job->dist_filename, &fn, &err) != PYTI_OK) {
        ctx->input_rejected = true;
        findings_add(&ctx->findings, "dist.bad-filename", PYTI_SEV_HIGH, job->dist_filename,
                     "%s", err.msg);
        return task_fail(ctx, "not a distribution file name: %s", err.msg);
    }
    const char *kind = fn.kind == PYTI_DIST_WHEEL ? "wheel" : "sdist";
    json_set_text(ctx->data, "kind", kind);
    json_set_text(ctx->data, "filename_name", fn.name);
    json_set_text(ctx->data, "filename_version", fn.version);
    dist_filename_free(&fn);

    char *dest = path_join(job->work_dir, "dist");
    if (path_mkdirs(dest, 0755, &err) != PYTI_OK) {
        free(dest);
        return task_error(ctx, "%s", err.msg);
    }
    pyti_extract_stats stats;
    memset(&stats, 0, sizeof stats);
    pyti_status rc = archive_extract(job->dist_path, dest, &job->extract_limits, &stats, &err);
    json_object_set_new(ctx->data, "archive", stats_json(&stats));
    if (rc == PYTI_ERR_INPUT || rc == PYTI_ERR_LIMIT) {
        ctx->input_rejected = true;
        findings_add(&ctx->findings, rc == PYTI_ERR_LIMIT ? "archive.limit" : "archive.rejected",
                     PYTI_SEV_CRITICAL, job->dist_filename, "%s", err.msg);
        free(dest);
        return task_fail(ctx, "archive refused: %s", err.msg);
    }
    if (rc != PYTI_OK) {
        free(dest);
        return task_error(ctx, "extracting: %s", err.msg);
    }
    task_log(ctx, "extracted %llu entries (%llu bytes) into %s",
             (unsigned long long)stats.entries, (unsigned long long)stats.total_size, dest);

    char *root = NULL;
    if (strcmp(kind, "sdist") == 0) {
        root = extract_single_top_dir(dest);
        if (!root) {
            findings_add(&ctx->findings, "sdist.no-top-level-dir", PYTI_SEV_MEDIUM,
                         job->dist_filename,
                         "the sdist does not unpack into a single '<name>-<version>/' directory");
            root = xstrdup(dest);
        } else {
            json_set_text(ctx->data, "top_level_dir", path_basename(root));
        }
    } else {
        root = xstrdup(dest);
    }
    json_t *source = json_object();
    json_set_text(source, "root", root);
    json_set_text(source, "unpacked", dest);
    json_set_text(source, "kind", kind);
    task_produce(ctx, "source", source);
    free(root);
    free(dest);
    return PYTI_TASK_PASSED;
}
