/* cmd_install.c — `pyti install --venv DIR WHEEL...`: install wheels into a
 * virtual environment with the native installer (see pkg/install.h). In
 * the product the installer runs inside the sandbox; this command exists
 * for debugging, tests and benchmarks. Installing files runs no package
 * code (only --compile runs the environment's interpreter, on the
 * standard library's compileall). */
#include "cli/cli.h"
#include "common/jsonutil.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "pkg/install.h"
#include "pkg/install_report.h"

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
        {"json", required_argument, NULL, 'j'},
        {"dependency", required_argument, NULL, 'd'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *venv = NULL, *pyver = NULL, *python = NULL, *json_path = NULL;
    pyti_strv deps = PYTI_STRV_INIT;
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
        case 'j': json_path = optarg; break;
        case 'd': strv_push(&deps, optarg); break;
        case 'q': g->quiet = true; break;
        case 'h': cli_print_command_help(self, stdout); return EXIT_PASSED;
        default: return cli_usage(self, "bad option");
        }
    }
    int rc = EXIT_PASSED;
    if (!venv) {
        rc = cli_usage(self, "--venv DIR is required");
        goto out;
    }
    if (optind >= argc) {
        rc = cli_usage(self, "no WHEEL given");
        goto out;
    }
    if (!*o.installer || strpbrk(o.installer, "\r\n")) {
        rc = cli_usage(self, "--installer must be one non-empty line");
        goto out;
    }
    pyti_error err = {0};
    pyti_install_scheme scheme;
    if (install_scheme_for_venv(venv, pyver, &scheme, &err) != PYTI_OK) {
        rc = cli_fail(&err);
        goto out;
    }
    if (python) {
        free(scheme.python);
        scheme.python = xstrdup(python);
    }
    json_t *report = json_object();
    json_t *dists = json_array();
    json_object_set_new(report, "installed", dists);
    /* Dependencies first, as pip installs them: a batch of their own,
     * without REQUESTED or direct_url.json (pip writes those only for what
     * it was asked to install). */
    pyti_install_result dres = {0}, res = {0};
    pyti_status st = PYTI_OK;
    if (deps.len) {
        pyti_install_options dopt = o;
        dopt.requested = false;
        dopt.direct_url = false;
        st = install_wheels(&scheme, (const char *const *)deps.items, deps.len, &dopt, &dres,
                            &err);
    }
    if (st == PYTI_OK)
        st = install_wheels(&scheme, (const char *const *)argv + optind, (size_t)(argc - optind),
                            &o, &res, &err);
    const pyti_install_result *all[] = {&dres, &res};
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < all[k]->len; i++) {
            const pyti_installed_dist *d = &all[k]->dists[i];
            json_t *dj = install_report_dist(&scheme, d);
            json_object_set_new(dj, "dependency", json_boolean(k == 0));
            json_array_append_new(dists, dj);
            if (!g->quiet) {
                printf("installed %s %s (%zu files, %zu launchers", d->name, d->version, d->files,
                       d->launchers);
                if (o.compile)
                    printf(", %zu compiled", d->compiled);
                printf(")\n");
            }
        }
    if (st != PYTI_OK) {
        json_t *e = json_object();
        json_object_set_new(e, "code", json_string(pyti_status_name(st)));
        json_set_text(e, "message", err.msg);
        json_object_set_new(report, "error", e);
    }
    if (json_path) {
        pyti_error jerr;
        /* Read back at once by the install task (or the user): no fsync. */
        if (json_write_file_unsynced(report, json_path, &jerr) != PYTI_OK && st == PYTI_OK) {
            err = jerr;
            st = jerr.code;
        }
    }
    json_decref(report);
    install_result_free(&dres);
    install_result_free(&res);
    install_scheme_free(&scheme);
    if (st != PYTI_OK)
        rc = cli_fail(&err);
out:
    strv_free(&deps);
    return rc;
}
