/* cmd_submit.c — `pyti submit TARGET --master URL`: queues a local
 * distribution file (uploaded) or a URL with its sha256 on a master,
 * optionally waiting for the verdict. Also the helper that connects the
 * command line to a master (pyti jobs --master uses it too). */
#include "cli/cli.h"
#include "cli/render.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "exec/report.h"
#include "pkg/name.h"
#include "worker/client.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const client_keys[] = {"master", "token_file", NULL};

mclient *cli_master_client(const char *master_opt, const char *token_opt,
                           const pyti_config *cfg, pyti_error *err)
{
    if (config_check_keys(cfg, "client", client_keys, err) != PYTI_OK)
        return NULL;
    const char *url = master_opt ? master_opt : config_get(cfg, "client", "master");
    if (!url) {
        pyti_error_set(err, PYTI_ERR_USAGE, "no master: give --master URL (or [client] master)");
        return NULL;
    }
    const char *tf = token_opt ? token_opt : config_get(cfg, "client", "token_file");
    char *def = tf ? NULL : cli_default_token_file("admin.token");
    char *token = NULL;
    if (tf || path_exists(def)) {
        token = mclient_read_token(tf ? tf : def, err);
        if (!token) {
            free(def);
            return NULL;
        }
    }
    free(def);
    mclient *c = mclient_new(url, token, err);
    if (token) {
        explicit_bzero(token, strlen(token));
        free(token);
    }
    return c;
}

int cli_master_error(mclient *c, long status, const json_t *ans)
{
    fprintf(stderr, "pyti: error: %s: %s\n", mclient_url(c), mclient_error_text(ans, status));
    return status == 400 || status == 401 || status == 403 || status == 404 || status == 409 ||
                   status == 413
               ? EXIT_USAGE
               : EXIT_INTERNAL;
}

/* Waits until the job is done, failed or cancelled; prints the verdict. */
static int wait_for(mclient *c, long long id, double timeout_s, bool json_out)
{
    char path[64];
    snprintf(path, sizeof path, "/api/v1/jobs/%lld", id);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        long status;
        json_t *job = NULL;
        pyti_error err;
        if (mclient_call_retry(c, "GET", path, NULL, 30, 60, &status, &job, &err) != PYTI_OK)
            return cli_fail(&err);
        if (status != 200) {
            int rc = cli_master_error(c, status, job);
            json_decref(job);
            return rc;
        }
        const char *state = json_get_str(job, "state");
        if (state && strcmp(state, "done") == 0) {
            json_decref(job);
            snprintf(path, sizeof path, "/api/v1/jobs/%lld/report", id);
            json_t *rep = NULL;
            if (mclient_call_retry(c, "GET", path, NULL, 60, 60, &status, &rep, &err) != PYTI_OK)
                return cli_fail(&err);
            if (status != 200) {
                int rc = cli_master_error(c, status, rep);
                json_decref(rep);
                return rc;
            }
            if (json_out) {
                char *s = json_dump_pretty(rep);
                fputs(s, stdout);
                free(s);
            } else {
                render_verdict_line(stdout, rep, log_color_enabled(STDOUT_FILENO));
            }
            int rc = report_exit_code(rep);
            json_decref(rep);
            return rc;
        }
        if (state && (strcmp(state, "failed") == 0 || strcmp(state, "cancelled") == 0)) {
            fprintf(stderr, "pyti: job %lld %s%s%s\n", id, state,
                    json_get_str(job, "error") ? ": " : "",
                    json_get_str(job, "error") ? json_get_str(job, "error") : "");
            json_decref(job);
            return EXIT_INTERNAL;
        }
        json_decref(job);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((double)(now.tv_sec - t0.tv_sec) > timeout_s) {
            fprintf(stderr, "pyti: job %lld: no result after %.0f s\n", id, timeout_s);
            return EXIT_INTERNAL;
        }
        struct timespec nap = {0, 500 * 1000000L};
        nanosleep(&nap, NULL);
    }
}

int cmd_submit(int argc, char **argv, cli_globals *g)
{
    const cli_command *self = cli_find_command("submit");
    static const struct option opts[] = {
        {"master", required_argument, NULL, 'm'},
        {"token-file", required_argument, NULL, 't'},
        {"recipe", required_argument, NULL, 'r'},
        {"python", required_argument, NULL, 'P'},
        {"priority", required_argument, NULL, 'y'},
        {"sha256", required_argument, NULL, 'S'},
        {"retest", no_argument, NULL, 'R'},
        {"wait", no_argument, NULL, 'W'},
        {"timeout", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'J'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *master = NULL, *token_file = NULL, *recipe = NULL, *python = NULL,
               *priority = NULL, *sha = NULL;
    bool retest = false, wait = false, json_out = false;
    double timeout_s = 3600;
    int c;
    while ((c = getopt_long(argc, argv, "m:t:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': master = optarg; break;
        case 't': token_file = optarg; break;
        case 'r': recipe = optarg; break;
        case 'P': python = optarg; break;
        case 'y': priority = optarg; break;
        case 'S': sha = optarg; break;
        case 'R': retest = true; break;
        case 'W': wait = true; break;
        case 'o': {
            char *end;
            timeout_s = strtod(optarg, &end);
            if (*end || !(timeout_s > 0))
                return cli_usage(self, "--timeout: expected seconds, got '%s'", optarg);
            break;
        }
        case 'J': json_out = true; break;
        case 'c': g->config_path = optarg; break;
        case 'h': cli_print_command_help(self, stdout); return EXIT_PASSED;
        default: return cli_usage(self, "bad option");
        }
    }
    if (optind != argc - 1)
        return cli_usage(self, optind >= argc ? "missing TARGET" : "expected one TARGET");
    const char *target = argv[optind];
    bool is_url = str_startswith(target, "http://") || str_startswith(target, "https://");
    if (is_url && !sha)
        return cli_usage(self, "a URL needs --sha256 (the file's SHA-256, which workers verify)");
    if (!is_url && sha)
        return cli_usage(self, "--sha256 goes with a URL; a local file is hashed by the master");
    long prio = 0;
    if (priority) {
        char *end;
        prio = strtol(priority, &end, 10);
        if (*end || !*priority || prio < -1000 || prio > 1000)
            return cli_usage(self, "--priority: expected -1000..1000, got '%s'", priority);
    }

    pyti_error err;
    pyti_config *cfg = cli_load_config(g, &err);
    if (!cfg)
        return cli_fail(&err);
    mclient *mc = cli_master_client(master, token_file, cfg, &err);
    config_free(cfg);
    if (!mc)
        return cli_fail(&err);
    long status = 0;
    json_t *ans = NULL;
    pyti_status prc;
    if (is_url) {
        const char *base = strrchr(target, '/') + 1;
        char *fname = xstrndup(base, strcspn(base, "?#"));
        pyti_dist_filename df;
        if (dist_filename_parse(fname, &df, &err) != PYTI_OK) {
            free(fname);
            mclient_free(mc);
            return cli_fail(&err);
        }
        json_t *spec = json_object();
        json_set_text(spec, "name", df.name);
        json_set_text(spec, "version", df.version);
        json_set_text(spec, "filename", fname);
        json_set_text(spec, "url", target);
        json_set_text(spec, "sha256", sha);
        if (recipe)
            json_set_text(spec, "recipe", recipe);
        if (python)
            json_set_text(spec, "python", python);
        json_object_set_new(spec, "priority", json_integer(prio));
        json_object_set_new(spec, "retest", json_boolean(retest));
        json_set_text(spec, "created_by", "cli");
        prc = mclient_call_retry(mc, "POST", "/api/v1/jobs", spec, 60, 30, &status, &ans, &err);
        json_decref(spec);
        dist_filename_free(&df);
        free(fname);
    } else {
        char pbuf[16];
        snprintf(pbuf, sizeof pbuf, "%ld", prio);
        const char *fields[12];
        int n = 0;
        if (recipe) {
            fields[n++] = "recipe";
            fields[n++] = recipe;
        }
        if (python) {
            fields[n++] = "python";
            fields[n++] = python;
        }
        fields[n++] = "priority";
        fields[n++] = pbuf;
        if (retest) {
            fields[n++] = "retest";
            fields[n++] = "true";
        }
        fields[n] = NULL;
        prc = mclient_upload(mc, "/api/v1/jobs", "file", target, fields, &status, &ans, &err);
    }
    int rc = EXIT_PASSED;
    if (prc != PYTI_OK) {
        rc = cli_fail(&err);
    } else if (status != 200 && status != 201) {
        rc = cli_master_error(mc, status, ans);
    } else {
        long long id = json_integer_value(json_object_get(ans, "id"));
        bool created = json_is_true(json_object_get(ans, "created"));
        if (json_out && !wait) {
            char *s = json_dump_pretty(ans);
            fputs(s, stdout);
            free(s);
        } else if (!g->quiet) {
            printf("%s: %s job %lld\n", path_basename(target),
                   created ? "submitted as" : "already", id);
            fflush(stdout);
        }
        if (wait)
            rc = wait_for(mc, id, timeout_s, json_out);
    }
    json_decref(ans);
    mclient_free(mc);
    return rc;
}
