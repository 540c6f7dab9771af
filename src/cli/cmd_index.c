/* cmd_index.c — `pyti index serve DIR` (a local simple index over a
 * directory of distributions) and `pyti index tags` (the wheel tags of the
 * target, most preferred first). The work is in src/index. */
#include "cli/cli.h"
#include "common/log.h"
#include "index/server.h"
#include "index/tags.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int index_serve(int argc, char **argv, cli_globals *g, const cli_command *self)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"no-metadata", no_argument, NULL, 'M'},
        {"threads", required_argument, NULL, 't'},
        {"log", no_argument, NULL, 'L'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    pyti_server_options so = {0};
    int c;
    while ((c = getopt_long(argc, argv, "l:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'l': so.listen = optarg; break;
        case 'M': so.no_metadata = true; break;
        case 't': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 256)
                return cli_usage(self, "--threads: expected 1 to 256, got '%s'", optarg);
            so.threads = (unsigned)n;
            break;
        }
        case 'L': so.log_requests = true; break;
        case 'q': g->quiet = true; break;
        case 'h': cli_print_command_help(self, stdout); return EXIT_PASSED;
        default: return cli_usage(self, "bad option");
        }
    }
    if (argc - optind != 1)
        return cli_usage(self, "index serve: expected one DIR");
    so.dir = argv[optind];
    so.log_requests = so.log_requests || g->verbose > 0;

    /* Block the signals before the server's threads exist so that only
     * sigwait below receives them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    pyti_error err;
    pyti_server *s = server_start(&so, &err);
    if (!s)
        return cli_fail(&err);
    unsigned long np, nf;
    server_counts(s, &np, &nf);
    printf("serving %s (%lu projects, %lu files) at %s\n", so.dir, np, nf, server_url(s));
    fflush(stdout);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            break;
        if (sig != SIGHUP)
            break;
        if (server_rescan(s, &err) != PYTI_OK) {
            log_error("%s", err.msg);
            continue;
        }
        server_counts(s, &np, &nf);
        if (!g->quiet)
            fprintf(stderr, "pyti: rescanned %s: %lu projects, %lu files\n", so.dir, np, nf);
    }
    server_stop(s);
    return EXIT_PASSED;
}

static int index_tags(int argc, char **argv, cli_globals *g, const cli_command *self)
{
    static const struct option opts[] = {
        {"python", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *python = NULL;
    int c;
    (void)g;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': python = optarg; break;
        case 'h': cli_print_command_help(self, stdout); return EXIT_PASSED;
        default: return cli_usage(self, "bad option");
        }
    }
    if (optind != argc)
        return cli_usage(self, "index tags: unexpected argument '%s'", argv[optind]);
    pyti_error err;
    pyti_target t;
    if (target_init_host(&t, python, &err) != PYTI_OK)
        return cli_fail(&err);
    for (size_t i = 0; i < t.tags.len; i++)
        printf("%s\n", t.tags.items[i]);
    target_free(&t);
    return EXIT_PASSED;
}

int cmd_index(int argc, char **argv, cli_globals *g)
{
    const cli_command *self = cli_find_command("index");
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2)
            return cli_usage(self, "expected a subcommand: serve or tags");
        cli_print_command_help(self, stdout);
        return EXIT_PASSED;
    }
    /* getopt starts again after the subcommand's name. */
    if (strcmp(argv[1], "serve") == 0)
        return index_serve(argc - 1, argv + 1, g, self);
    if (strcmp(argv[1], "tags") == 0)
        return index_tags(argc - 1, argv + 1, g, self);
    return cli_usage(self, "unknown subcommand '%s' (expected serve or tags)", argv[1]);
}
