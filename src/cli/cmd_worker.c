/* cmd_worker.c — `pyti worker`: options and [worker] settings into
 * worker_options, the token read from its file, then worker_run
 * (src/worker/). */
#include "cli/cli.h"
#include "common/log.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "worker/client.h"
#include "worker/worker.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const worker_keys[] = {"master", "token_file", "slots", "id", "tags",
                                          "max_size", "recipes", "projects", "work_dir",
                                          "pythons", NULL};

/* Parses a size with an optional K/M/G suffix. */
static bool parse_size(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v < 0)
        return false;
    int shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift)
        end++;
    if (*end || v > (LLONG_MAX >> shift))
        return false;
    *out = v << shift;
    return true;
}

char *cli_default_token_file(const char *name)
{
    char *cfg = path_xdg_config_home();
    char *p = xasprintf("%s/pyti/%s", cfg, name);
    free(cfg);
    return p;
}

int cmd_worker(int argc, char **argv, cli_globals *g)
{
    const cli_command *self = cli_find_command("worker");
    static const struct option opts[] = {
        {"master", required_argument, NULL, 'm'},
        {"token-file", required_argument, NULL, 't'},
        {"slots", required_argument, NULL, 's'},
        {"id", required_argument, NULL, 'i'},
        {"tag", required_argument, NULL, 'T'},
        {"python", required_argument, NULL, 'P'},
        {"max-size", required_argument, NULL, 'M'},
        {"recipe", required_argument, NULL, 'r'},
        {"project", required_argument, NULL, 'p'},
        {"work-dir", required_argument, NULL, 'w'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    worker_options o = {0};
    pyti_strv tags = PYTI_STRV_INIT, pythons = PYTI_STRV_INIT, recipes = PYTI_STRV_INIT,
              projects = PYTI_STRV_INIT;
    const char *token_file = NULL, *slots_s = NULL, *size_s = NULL;
    int c, rc = EXIT_PASSED;
    while ((c = getopt_long(argc, argv, "m:t:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': o.master = optarg; break;
        case 't': token_file = optarg; break;
        case 's': slots_s = optarg; break;
        case 'i': o.id = optarg; break;
        case 'T': strv_push(&tags, optarg); break;
        case 'P': strv_push(&pythons, optarg); break;
        case 'M': size_s = optarg; break;
        case 'r': strv_push(&recipes, optarg); break;
        case 'p': strv_push(&projects, optarg); break;
        case 'w': o.work_dir = optarg; break;
        case 'c': g->config_path = optarg; break;
        case 'h': cli_print_command_help(self, stdout); goto done;
        default: rc = cli_usage(self, "bad option"); goto done;
        }
    }
    if (optind < argc) {
        rc = cli_usage(self, "unexpected argument '%s'", argv[optind]);
        goto done;
    }
    pyti_error err;
    pyti_config *cfg = cli_load_config(g, &err);
    if (!cfg) {
        rc = cli_fail(&err);
        goto done;
    }
    if (config_check_keys(cfg, "worker", worker_keys, &err) != PYTI_OK) {
        rc = cli_fail(&err);
        config_free(cfg);
        goto done;
    }
    /* The command line wins over [worker]. */
    if (!o.master)
        o.master = config_get(cfg, "worker", "master");
    if (!token_file)
        token_file = config_get(cfg, "worker", "token_file");
    if (!slots_s)
        slots_s = config_get(cfg, "worker", "slots");
    if (!o.id)
        o.id = config_get(cfg, "worker", "id");
    if (!size_s)
        size_s = config_get(cfg, "worker", "max_size");
    if (!o.work_dir)
        o.work_dir = config_get(cfg, "worker", "work_dir");
    if (!tags.len && config_get(cfg, "worker", "tags"))
        strv_split(&tags, config_get(cfg, "worker", "tags"), " \t,");
    if (!pythons.len && config_get(cfg, "worker", "pythons"))
        strv_split(&pythons, config_get(cfg, "worker", "pythons"), " \t,");
    if (!recipes.len && config_get(cfg, "worker", "recipes"))
        strv_split(&recipes, config_get(cfg, "worker", "recipes"), " \t,");
    if (!projects.len && config_get(cfg, "worker", "projects"))
        strv_split(&projects, config_get(cfg, "worker", "projects"), " \t,");
    char *end = NULL;
    long slots = slots_s ? strtol(slots_s, &end, 10) : 1;
    if (!o.master) {
        rc = cli_usage(self, "--master URL is required (or [worker] master)");
    } else if (slots_s && (*end || slots < 1 || slots > 64)) {
        rc = cli_usage(self, "--slots: expected 1..64, got '%s'", slots_s);
    } else if (size_s && !parse_size(size_s, &o.max_dist_size)) {
        rc = cli_usage(self, "--max-size: expected a size like 50M, got '%s'", size_s);
    } else {
        char *def = token_file ? NULL : cli_default_token_file("worker.token");
        char *token = mclient_read_token(token_file ? token_file : def, &err);
        free(def);
        if (!token) {
            rc = cli_fail(&err);
        } else {
            o.token = token;
            o.slots = (unsigned)slots;
            o.tags = &tags;
            o.pythons = &pythons;
            o.recipes = &recipes;
            o.projects = &projects;
            o.config_path = g->config_path;
            if (log_get_level() < PYTI_LOG_INFO && !g->quiet)
                log_set_level(PYTI_LOG_INFO);
            rc = worker_run(&o, &err);
            if (rc != 0)
                rc = cli_fail(&err);
            explicit_bzero(token, strlen(token));
            free(token);
        }
    }
    config_free(cfg);
done:
    strv_free(&tags);
    strv_free(&pythons);
    strv_free(&recipes);
    strv_free(&projects);
    return rc;
}
