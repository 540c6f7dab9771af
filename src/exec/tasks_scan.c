/* tasks_scan.c — the `scan` built-in: static red flags in the unpacked
 * distribution, without running anything. Applies the scan rules
 * (data/scan-rules.ini, then $XDG_CONFIG_HOME/pyti/scan-rules.ini, then
 * the task's `rules` option) to every text file (src/scan/scanner.h) and
 * checks the project name for typosquatting (src/scan/typosquat.h).
 *
 * Findings are `scan.<rule id>`, safety findings in the verdict
 * (docs/report.md). The task passes whenever the scan completed — what it
 * found is judged by the verdict, not by the task status — and ends in
 * error when the rules or the popular-projects list cannot be loaded
 * (pyti's or the user's fault, never the package's).
 *
 * Escalation: a typosquat alone is medium; with any other red flag (a
 * rule finding of severity low or above) it becomes high, and with one of
 * severity high or above critical: a look-alike name carrying a payload is
 * the commonest shape of a malicious upload. */
#include "exec/task.h"
#include "exec/tasks_internal.h"
#include "common/jsonutil.h"
#include "common/str.h"
#include "common/strv.h"
#include "common/timeutil.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "exec/recipe.h"
#include "pkg/name.h"
#include "scan/rules.h"
#include "scan/scanner.h"
#include "scan/typosquat.h"

#include <stdlib.h>
#include <string.h>

/* Findings about the scan itself (limits, unreadable files), not red flags
 * of the package: they never escalate a typosquat. */
static bool is_meta_finding(const char *id)
{
    return strcmp(id, "scan.match-limit") == 0 || strcmp(id, "scan.file-too-large") == 0 ||
           strcmp(id, "scan.incomplete") == 0 || strcmp(id, "scan.unreadable") == 0 ||
           strcmp(id, "scan.findings-truncated") == 0 || strcmp(id, "scan.typosquat") == 0;
}

static pyti_scan_rules *load_rules(pyti_task_ctx *ctx, pyti_strv *files, pyti_error *err)
{
    const char *extra = task_def_option(ctx->def, "rules");
    if (!extra)
        return scan_rules_load_default(files, err);
    char *shipped = path_join(path_pyti_datadir(), "data/scan-rules.ini");
    char *cfg = path_xdg_config_home();
    char *user = path_join(cfg, "pyti/scan-rules.ini");
    free(cfg);
    const char *paths[] = {shipped, user, extra, NULL};
    const bool optional[] = {false, true, false};
    pyti_scan_rules *rs = scan_rules_load(paths, optional, err);
    if (rs) {
        strv_push(files, shipped);
        if (path_exists(user))
            strv_push(files, user);
        strv_push(files, extra);
    }
    free(shipped);
    free(user);
    return rs;
}

/* The project name from the distribution's file name (the metadata task
 * already reports a Name that disagrees with it). NULL if unparsable. */
static char *project_name(const pyti_task_ctx *ctx)
{
    pyti_dist_filename fn;
    if (!ctx->job || !ctx->job->dist_filename ||
        dist_filename_parse(ctx->job->dist_filename, &fn, NULL) != PYTI_OK)
        return NULL;
    char *name = xstrdup(fn.name);
    dist_filename_free(&fn);
    return name;
}

static void check_typosquat(pyti_task_ctx *ctx, const pyti_popular *pop)
{
    char *name = project_name(ctx);
    pyti_typosquat ts;
    if (!name || !typosquat_check(pop, name, &ts)) {
        json_object_set_new(ctx->data, "typosquat", json_null());
        free(name);
        return;
    }
    int other = -1;
    size_t nother = 0;
    for (size_t i = 0; i < ctx->findings.len; i++) {
        const pyti_finding *f = &ctx->findings.items[i];
        if (!str_startswith(f->id, "scan.") || is_meta_finding(f->id) ||
            f->severity < PYTI_SEV_LOW)
            continue;
        nother++;
        if ((int)f->severity > other)
            other = (int)f->severity;
    }
    pyti_severity sev = PYTI_SEV_MEDIUM;
    if (other >= PYTI_SEV_HIGH)
        sev = PYTI_SEV_CRITICAL;
    else if (other >= PYTI_SEV_LOW)
        sev = PYTI_SEV_HIGH;
    char *norm = name_normalize(name);
    pyti_buf msg = PYTI_BUF_INIT;
    buf_printf(&msg, "the project name '%s' imitates the popular project '%s' (%s", norm,
               ts.target, ts.method);
    if (strcmp(ts.method, "edit") == 0)
        buf_printf(&msg, ", edit distance %u", ts.distance);
    buf_puts(&msg, ")");
    if (sev > PYTI_SEV_MEDIUM)
        buf_printf(&msg, "; raised to %s: the package also has %zu other red flag%s",
                   severity_name(sev), nother, nother == 1 ? "" : "s");
    findings_add(&ctx->findings, "scan.typosquat", sev, ctx->job->dist_filename, "%s",
                 buf_cstr(&msg));
    findings_set_last_excerpt(&ctx->findings, norm);
    json_t *t = json_object();
    json_set_text(t, "name", norm);
    json_set_text(t, "imitates", ts.target);
    json_set_text(t, "method", ts.method);
    json_object_set_new(t, "distance", json_integer(ts.distance));
    json_object_set_new(t, "severity", json_string(severity_name(sev)));
    json_object_set_new(ctx->data, "typosquat", t);
    buf_free(&msg);
    free(norm);
    free(name);
}

pyti_task_status task_builtin_scan(pyti_task_ctx *ctx)
{
    const json_t *source = task_input(ctx, "source");
    const char *root = json_get_str(source, "root");
    if (!root)
        return task_error(ctx, "no 'source' item with a root");

    double t0 = time_monotonic();
    pyti_error err;
    pyti_strv files = PYTI_STRV_INIT;
    pyti_scan_rules *rules = load_rules(ctx, &files, &err);
    if (!rules) {
        strv_free(&files);
        return task_error(ctx, "scan rules: %s", err.msg);
    }
    const char *pop_path = task_def_option(ctx->def, "popular");
    pyti_popular *pop = pop_path ? popular_load(pop_path, &err) : popular_load_default(&err);
    if (!pop) {
        scan_rules_free(rules);
        strv_free(&files);
        return task_error(ctx, "popular projects list: %s", err.msg);
    }
    double t_loaded = time_monotonic();

    pyti_scanner *sc = scanner_new(rules, NULL);
    pyti_status rc = scanner_scan_tree(sc, root, &ctx->findings, &err);
    scanner_finish(sc, &ctx->findings);
    double t_scanned = time_monotonic();
    pyti_task_status st = PYTI_TASK_PASSED;
    if (rc != PYTI_OK) {
        st = task_error(ctx, "scanning: %s", err.msg);
    } else {
        check_typosquat(ctx, pop);
        json_t *stats = scanner_stats_json(sc);
        json_object_set_new(stats, "load_s", json_real(t_loaded - t0));
        json_object_set_new(stats, "scan_s", json_real(t_scanned - t_loaded));
        json_object_set_new(ctx->data, "scan", stats);
        json_t *jf = json_array();
        for (size_t i = 0; i < files.len; i++)
            json_array_append_new(jf, json_text(files.items[i]));
        json_object_set_new(ctx->data, "rules_files", jf);
        json_object_set_new(ctx->data, "popular_projects",
                            json_integer((json_int_t)popular_count(pop)));
        const pyti_scan_stats *ss = scanner_stats(sc);
        int max = findings_max_severity(&ctx->findings);
        task_log(ctx, "%zu rules (%s); %llu files, %llu scanned (%llu bytes), %llu binary, "
                 "%llu too large, %llu symlinks not followed; %.3f s; %zu findings%s%s",
                 scan_rules_count(rules), scan_rules_jit(rules) ? "JIT" : "no JIT",
                 (unsigned long long)ss->files, (unsigned long long)ss->scanned,
                 (unsigned long long)ss->bytes, (unsigned long long)ss->binary,
                 (unsigned long long)ss->too_large, (unsigned long long)ss->symlinks,
                 t_scanned - t_loaded, ctx->findings.len, max >= 0 ? ", highest " : "",
                 max >= 0 ? severity_name((pyti_severity)max) : "");
    }
    scanner_free(sc);
    popular_free(pop);
    scan_rules_free(rules);
    strv_free(&files);
    return st;
}
