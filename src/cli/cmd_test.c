/* cmd_test.c — `pyti test TARGET`: run a recipe on a distribution file,
 * show progress and the per-task summary, write and store the report. */
#include "cli/cli.h"
#include "cli/render.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "exec/job.h"
#include "exec/report.h"
#include "exec/runner.h"
#include "common/path.h"
#include "web/web.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct progress {
    bool on;
    bool color;
} progress;

static void on_started(void *user, size_t index, size_t total, const pyti_task_def *def)
{
    progress *p = user;
    if (!p->on)
        return;
    fprintf(stderr, "[%zu/%zu] %s ...", index + 1, total, def->name);
    fflush(stderr);
}

static void on_finished(void *user, size_t index, size_t total, const pyti_task_def *def,
                        pyti_task_status status, const char *reason, double dur)
{
    progress *p = user;
    if (!p->on)
        return;
    if (status == PYTI_TASK_SKIPPED)
        fprintf(stderr, "[%zu/%zu] %s ...", index + 1, total, def->name);
    const char *col = "";
    if (p->color)
        col = status == PYTI_TASK_PASSED ? "\033[32m"
              : status == PYTI_TASK_SKIPPED || status == PYTI_TASK_NEUTRAL ? "\033[33m"
                                                                           : "\033[31m";
    fprintf(stderr, " %s%s%s (%.2fs)\n", col, task_status_name(status), p->color ? "\033[0m" : "",
            dur);
    (void)reason;
}

/* --html FILE: the report page as one self-contained file (web/web.h). */
static pyti_status write_html(const json_t *report, const char *path, pyti_error *err)
{
    pyti_buf page = PYTI_BUF_INIT;
    web_report_standalone(report, &page);
    pyti_status rc = path_write_file_atomic(path, buf_cstr(&page), page.len, err);
    buf_free(&page);
    return rc;
}

int cmd_test(int argc, char **argv, cli_globals *g)
{
    const cli_command *self = cli_find_command("test");
    static const struct option opts[] = {
        {"recipe", required_argument, NULL, 'r'},
        {"json", required_argument, NULL, 'j'},
        {"html", required_argument, NULL, 'H'},
        {"db", required_argument, NULL, 'd'},
        {"no-store", no_argument, NULL, 'N'},
        {"keep", no_argument, NULL, 'k'},
        {"quiet", no_argument, NULL, 'q'},
        {"config", required_argument, NULL, 'c'},
        {"python", required_argument, NULL, 'p'},
        {"index-url", required_argument, NULL, 'i'},
        {"extra-index-url", required_argument, NULL, 'x'},
        {"offline", no_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *recipe_name = "default", *json_path = NULL, *db = NULL, *python = NULL;
    const char *index_url = NULL, *html_path = NULL;
    pyti_strv extra_urls = PYTI_STRV_INIT;
    bool store_it = true, keep = false, offline = false;
    int c;
    while ((c = getopt_long(argc, argv, "r:j:p:i:kqh", opts, NULL)) != -1) {
        switch (c) {
        case 'r': recipe_name = optarg; break;
        case 'j': json_path = optarg; break;
        case 'H': html_path = optarg; break;
        case 'd': db = optarg; break;
        case 'N': store_it = false; break;
        case 'k': keep = true; break;
        case 'q': g->quiet = true; break;
        case 'c': g->config_path = optarg; break;
        case 'p': python = optarg; break;
        case 'i': index_url = optarg; break;
        case 'x': strv_push(&extra_urls, optarg); break;
        case 'o': offline = true; break;
        case 'h':
            strv_free(&extra_urls);
            cli_print_command_help(self, stdout);
            return EXIT_PASSED;
        default: strv_free(&extra_urls); return cli_usage(self, "bad option");
        }
    }
    if (optind != argc - 1) {
        strv_free(&extra_urls);
        return cli_usage(self, optind >= argc ? "missing TARGET" : "expected one TARGET");
    }
    const char *target = argv[optind];

    pyti_error err;
    pyti_config *cfg = cli_load_config(g, &err);
    if (!cfg) {
        strv_free(&extra_urls);
        return cli_fail(&err);
    }
    pyti_recipe_search search = cli_recipe_search();
    pyti_recipe *recipe = recipe_load(recipe_name, &search, &err);
    cli_recipe_search_free(&search);
    if (!recipe || runner_check_recipe(recipe, &err) != PYTI_OK) {
        recipe_free(recipe);
        config_free(cfg);
        return cli_fail(&err);
    }

    pyti_job job;
    if (job_prepare(&job, target, config_get(cfg, "jobs", "dir"), cfg, &err) != PYTI_OK) {
        recipe_free(recipe);
        config_free(cfg);
        return cli_fail(&err);
    }
    if ((python && job_set_python(&job, python, &err) != PYTI_OK) ||
        ((index_url || extra_urls.len) &&
         job_set_indexes(&job, index_url, &extra_urls, &err) != PYTI_OK)) {
        job_cleanup(&job, false);
        recipe_free(recipe);
        config_free(cfg);
        strv_free(&extra_urls);
        return cli_fail(&err);
    }
    strv_free(&extra_urls);
    job.index_offline = offline;
    job.keep = keep;
    log_debug("job %s in %s", job.id, job.job_dir);

    bool color_out = log_color_enabled(STDOUT_FILENO);
    progress prog = {!g->quiet && isatty(STDERR_FILENO), log_color_enabled(STDERR_FILENO)};
    pyti_run_events ev = {on_started, on_finished, &prog};
    json_t *report = runner_run(&job, recipe, &ev, &err);
    int rc;
    if (!report) {
        rc = cli_fail(&err);
        goto out;
    }
    rc = report_exit_code(report);

    if (json_path) {
        if (strcmp(json_path, "-") == 0) {
            char *s = json_dump_pretty(report);
            fputs(s, stdout);
            free(s);
        } else if (json_write_file_unsynced(report, json_path, &err) != PYTI_OK) {
            log_error("%s", err.msg);
            rc = EXIT_INTERNAL;
        }
    }
    if (html_path && write_html(report, html_path, &err) != PYTI_OK) {
        log_error("%s", err.msg);
        rc = EXIT_INTERNAL;
    }
    FILE *human = json_path && strcmp(json_path, "-") == 0 ? stderr : stdout;
    bool human_color = human == stdout ? color_out : log_color_enabled(STDERR_FILENO);
    if (g->quiet)
        render_verdict_line(human, report, human_color);
    else
        render_report(human, report, human_color);

    if (store_it) {
        pyti_store *store = cli_open_store(db, cfg, &err);
        bool inserted = false;
        if (!store || store_put_report(store, report, &inserted, &err) != PYTI_OK) {
            log_error("the report could not be stored: %s", err.msg);
            rc = EXIT_INTERNAL;
        } else if (!g->quiet) {
            fprintf(human, "stored in %s\n", db ? db : "the default store");
        }
        store_close(store);
    }
    json_decref(report);
out:
    if (keep)
        fprintf(stderr, "pyti: job directory kept: %s\n", job.job_dir);
    job_cleanup_detached(&job, keep); /* the report is out: no need to wait */
    recipe_free(recipe);
    config_free(cfg);
    return rc;
}
