/* cmd_install.c — `pyti install --venv DIR WHEEL...`: install wheels into a
 * virtual environment with the native installer (see pkg/install.h). In
 * the product the installer runs inside the sandbox; this command exists
 * for debugging, tests and benchmarks. Installing files runs no package
 * code (only --compile runs the environment's interpreter, on the
 * standard library's compileall). */
#include "cli/cli.h"
#include "common/xalloc.h"
#include "pkg/install.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_install(int argc, char **argv, cli_globals *g)
{
    const cli_command *self = cli_find_command("install");
    static const struct option opts[] = {
        {"venv", required_argument, NULL, 'v'},
        {"python-version", required_argument, NULL, 'V'},
        {"python", required_argument, NULL, 'p'},
        {"no-requested", no_argument, NULL, 'R'},
        {"no-direct-url", no_argument, NULL, 'D'},
        {"overwrite", no_argument, NULL, 'o'},
        {"compile", no_argument, NULL, 'C'},
        {"installer", required_argument, NULL, 'I'},
        {"staging-dir", required_argument, NULL, 'S'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *venv = NULL, *pyver = NULL, *python = NULL;
    pyti_install_options o = {.installer = "pyti", .requested = true, .direct_url = true};
    int c;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'v': venv = optarg; break;
        case 'V': pyver = optarg; break;
        case 'p': python = optarg; break;
        case 'R': o.requested = false; break;
        case 'D': o.direct_url = false; break;
        case 'o': o.overwrite = true; break;
        case 'C': o.compile = true; break;
        case 'I': o.installer = optarg; break;
        case 'S': o.staging_dir = optarg; break;
        case 'q': g->quiet = true; break;
        case 'h': cli_print_command_help(self, stdout); return EXIT_PASSED;
        default: return cli_usage(self, "bad option");
        }
    }
    if (!venv)
        return cli_usage(self, "--venv DIR is required");
    if (optind >= argc)
        return cli_usage(self, "no WHEEL given");
    if (!*o.installer || strpbrk(o.installer, "\r\n"))
        return cli_usage(self, "--installer must be one non-empty line");
    pyti_error err = {0};
    pyti_install_scheme scheme;
    if (install_scheme_for_venv(venv, pyver, &scheme, &err) != PYTI_OK)
        return cli_fail(&err);
    if (python) {
        free(scheme.python);
        scheme.python = xstrdup(python);
    }
    pyti_install_result res;
    pyti_status rc = install_wheels(&scheme, (const char *const *)argv + optind,
                                    (size_t)(argc - optind), &o, &res, &err);
    install_scheme_free(&scheme);
    if (rc != PYTI_OK)
        return cli_fail(&err);
    if (!g->quiet)
        for (size_t i = 0; i < res.len; i++) {
            const pyti_installed_dist *d = &res.dists[i];
            printf("installed %s %s (%zu files, %zu launchers", d->name, d->version, d->files,
                   d->launchers);
            if (o.compile)
                printf(", %zu compiled", d->compiled);
            printf(")\n");
        }
    install_result_free(&res);
    return EXIT_PASSED;
}
