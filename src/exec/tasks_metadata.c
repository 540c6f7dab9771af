/* tasks_metadata.c — the `metadata` built-in: read the core metadata of
 * the unpacked distribution (an sdist's PKG-INFO, a wheel's
 * .dist-info/METADATA), validate it, and produce `metadata` (its PEP 566
 * JSON form). Fails when there is no metadata or a finding of severity
 * high or above. */
#include "exec/task.h"
#include "exec/tasks_internal.h"
#include "common/buf.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "pkg/metadata.h"
#include "pkg/wheel.h"

#include <stdlib.h>
#include <string.h>

#define METADATA_MAX_BYTES (16u << 20)

/* The list of valid trove classifiers shipped in data/classifiers.txt. */
static void load_classifiers(pyti_strv *out)
{
    char *path = path_join(path_pyti_datadir(), "data/classifiers.txt");
    pyti_buf b = PYTI_BUF_INIT;
    if (path_read_file(path, 8u << 20, &b, NULL) == PYTI_OK)
        strv_split(out, buf_cstr(&b), "\n");
    buf_free(&b);
    free(path);
}

pyti_task_status task_builtin_metadata(pyti_task_ctx *ctx)
{
    const json_t *source = task_input(ctx, "source");
    const char *root = json_get_str(source, "root");
    const char *kind = json_get_str(source, "kind");
    if (!root || !kind)
        return task_error(ctx, "no 'source' item with a root and kind");

    pyti_error err;
    char *md_path = NULL, *shown = NULL;
    if (strcmp(kind, "wheel") == 0) {
        char *dist_info = wheel_find_dist_info(root, &err);
        if (!dist_info) {
            findings_add(&ctx->findings, "metadata.missing", PYTI_SEV_CRITICAL, NULL, "%s", err.msg);
            return task_fail(ctx, "%s", err.msg);
        }
        shown = xasprintf("%s/METADATA", dist_info);
        md_path = path_join(root, shown);
        free(dist_info);
    } else {
        shown = xasprintf("%s/PKG-INFO", path_basename(root));
        md_path = path_join(root, "PKG-INFO");
    }

    pyti_status rc;
    pyti_buf text = PYTI_BUF_INIT;
    pyti_task_status status = PYTI_TASK_PASSED;
    rc = path_read_file(md_path, METADATA_MAX_BYTES, &text, &err);
    if (rc != PYTI_OK) {
        findings_add(&ctx->findings, "metadata.missing", PYTI_SEV_CRITICAL, shown, "%s",
                     rc == PYTI_ERR_NOTFOUND ? "the distribution has no core metadata file" : err.msg);
        status = task_fail(ctx, "cannot read %s: %s", shown, err.msg);
        goto out;
    }
    pyti_metadata *md = metadata_parse(buf_cstr(&text), text.len, shown, &err);
    if (!md) {
        findings_add(&ctx->findings, "metadata.unreadable", PYTI_SEV_CRITICAL, shown, "%s", err.msg);
        status = task_fail(ctx, "%s", err.msg);
        goto out;
    }
    pyti_strv classifiers = PYTI_STRV_INIT;
    load_classifiers(&classifiers);
    metadata_validate(md, ctx->job->dist_filename, classifiers.len ? &classifiers : NULL,
                      &ctx->findings);
    strv_free(&classifiers);
    for (size_t i = 0; i < md->parse_findings.len; i++) {
        const pyti_finding *f = &md->parse_findings.items[i];
        findings_add(&ctx->findings, f->id, f->severity, f->where, "%s", f->message);
    }
    json_t *mdjson = metadata_to_json(md);
    json_set_text(ctx->data, "file", shown);
    json_object_set(ctx->data, "metadata", mdjson);
    task_produce(ctx, "metadata", mdjson);
    task_log(ctx, "%s: %zu fields, %zu findings", shown, md->nfields, ctx->findings.len);
    metadata_free(md);
    if (findings_max_severity(&ctx->findings) >= PYTI_SEV_HIGH)
        status = task_fail(ctx, "the core metadata has problems of severity high or above");
out:
    buf_free(&text);
    free(md_path);
    free(shown);
    return status;
}
