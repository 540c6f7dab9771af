/* tasks_record.c — the `record` built-in: for wheels, check the WHEEL file
 * and verify every RECORD entry's hash and size; sdists have no RECORD and
 * end neutral. Fails on findings of severity high or above (a file whose
 * hash does not match is one). */
#include "exec/task.h"
#include "exec/tasks_internal.h"
#include "common/jsonutil.h"
#include "pkg/wheel.h"

#include <stdlib.h>
#include <string.h>

pyti_task_status task_builtin_record(pyti_task_ctx *ctx)
{
    const json_t *source = task_input(ctx, "source");
    const char *root = json_get_str(source, "root");
    const char *kind = json_get_str(source, "kind");
    if (!root || !kind)
        return task_error(ctx, "no 'source' item with a root and kind");
    if (strcmp(kind, "wheel") != 0)
        return task_neutral(ctx, "not a wheel: sdists carry no RECORD to verify");

    pyti_error err;
    char *dist_info = wheel_find_dist_info(root, &err);
    if (!dist_info) {
        findings_add(&ctx->findings, "wheel.no-dist-info", PYTI_SEV_CRITICAL, NULL, "%s", err.msg);
        return task_fail(ctx, "%s", err.msg);
    }
    pyti_task_status status = PYTI_TASK_PASSED;
    json_t *wheel = wheel_check_wheel_file(root, dist_info, ctx->job->dist_filename,
                                           &ctx->findings, &err);
    if (wheel)
        json_object_set_new(ctx->data, "wheel", wheel);
    else {
        findings_add(&ctx->findings, "wheel.no-wheel-file", PYTI_SEV_HIGH, dist_info, "%s", err.msg);
    }
    json_t *record = wheel_verify_record(root, dist_info, &ctx->findings, &err);
    if (record) {
        json_object_set_new(ctx->data, "record", record);
    } else {
        findings_add(&ctx->findings, "wheel.no-record", PYTI_SEV_HIGH, dist_info, "%s", err.msg);
    }
    if (findings_max_severity(&ctx->findings) >= PYTI_SEV_HIGH)
        status = task_fail(ctx, "the wheel's WHEEL/RECORD checks found problems of severity high or above");
    free(dist_info);
    return status;
}
