/* cmd_results.c — the store's commands: `pyti results [NAME]` lists
 * stored reports, `pyti report ID` prints one, `pyti store FILE...` stores
 * reports from JSON files. */
#include "cli/cli.h"
#include "cli/render.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "exec/report.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Options shared by the three commands. */
typedef struct store_opts {
    const char *db;
    bool json;
    long limit;
} store_opts;

/* Returns -1 to go on, or the exit code to return now. */
static int parse(int argc, char **argv, cli_globals *g, const cli_command *self, store_opts *o,
                 bool allow_json, bool allow_limit)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'J'},
        {"limit", required_argument, NULL, 'n'},
        {"config", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "n:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': o->db = optarg; break;
        case 'J':
            if (!allow_json)
                return cli_usage(self, "--json is not an option of this command");
            o->json = true;
            break;
        case 'n': {
            if (!allow_limit)
                return cli_usage(self, "--limit is not an option of this command");
            char *end;
            errno = 0;
            o->limit = strtol(optarg, &end, 10);
            if (errno || *end || o->limit < 0)
                return cli_usage(self, "--limit: expected a non-negative number, got '%s'", optarg);
            break;
        }
        case 'c': g->config_path = optarg; break;
        case 'q': g->quiet = true; break;
        case 'h': cli_print_command_help(self, stdout); return EXIT_PASSED;
        default: return cli_usage(self, "bad option");
        }
    }
    return -1;
}

static pyti_store *open_store(cli_globals *g, const store_opts *o, pyti_error *err)
{
    pyti_config *cfg = cli_load_config(g, err);
    if (!cfg)
        return NULL;
    pyti_store *s = cli_open_store(o->db, cfg, err);
    config_free(cfg);
    return s;
}

int cmd_results(int argc, char **argv, cli_globals *g)
{
    const cli_command *self = cli_find_command("results");
    store_opts o = {NULL, false, 50};
    int prc = parse(argc, argv, g, self, &o, true, true);
    if (prc != -1)
        return prc;
    if (argc - optind > 1)
        return cli_usage(self, "expected at most one project NAME");
    const char *project = optind < argc ? argv[optind] : NULL;
    pyti_error err;
    pyti_store *s = open_store(g, &o, &err);
    if (!s)
        return cli_fail(&err);
    json_t *list = store_list_reports(s, project, (size_t)o.limit, &err);
    store_close(s);
    if (!list)
        return cli_fail(&err);
    if (o.json) {
        char *text = json_dump_pretty(list);
        fputs(text, stdout);
        free(text);
    } else if (json_array_size(list) == 0) {
        fprintf(stderr, "pyti: no stored reports%s%s\n", project ? " for " : "",
                project ? project : "");
    } else {
        render_summaries(stdout, list, log_color_enabled(STDOUT_FILENO));
    }
    json_decref(list);
    return EXIT_PASSED;
}

int cmd_report(int argc, char **argv, cli_globals *g)
{
    const cli_command *self = cli_find_command("report");
    store_opts o = {NULL, false, 0};
    int prc = parse(argc, argv, g, self, &o, true, false);
    if (prc != -1)
        return prc;
    if (argc - optind != 1)
        return cli_usage(self, "expected one report ID");
    pyti_error err;
    pyti_store *s = open_store(g, &o, &err);
    if (!s)
        return cli_fail(&err);
    json_t *r = store_get_report(s, argv[optind], &err);
    store_close(s);
    if (!r)
        return cli_fail(&err);
    if (o.json) {
        char *text = json_dump_pretty(r);
        fputs(text, stdout);
        free(text);
    } else {
        render_report(stdout, r, log_color_enabled(STDOUT_FILENO));
    }
    json_decref(r);
    return EXIT_PASSED;
}

int cmd_store(int argc, char **argv, cli_globals *g)
{
    const cli_command *self = cli_find_command("store");
    store_opts o = {NULL, false, 0};
    int prc = parse(argc, argv, g, self, &o, false, false);
    if (prc != -1)
        return prc;
    if (optind >= argc)
        return cli_usage(self, "expected at least one report FILE");
    pyti_error err;
    pyti_store *s = open_store(g, &o, &err);
    if (!s)
        return cli_fail(&err);
    int rc = EXIT_PASSED;
    for (int i = optind; i < argc; i++) {
        json_t *r = json_read_file(argv[i], PYTI_REPORT_MAX_BYTES, &err);
        bool inserted = false;
        if (!r || store_put_report(s, r, &inserted, &err) != PYTI_OK) {
            log_error("%s: %s", argv[i], err.msg);
            int code = cli_exit_for(err.code);
            if (code > rc)
                rc = code;
        } else if (!g->quiet) {
            printf("%s: %s %s\n", argv[i], inserted ? "stored" : "already stored as",
                   json_get_str(r, "id"));
        }
        json_decref(r);
    }
    store_close(s);
    return rc;
}
