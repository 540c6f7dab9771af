/* cmd_wheelhouse.c — `pyti wheelhouse`: build the local wheelhouse of
 * build backends from Debian's packages (see exec/wheelhouse.h). */
#include "cli/cli.h"
#include "common/jsonutil.h"
#include "common/strv.h"
#include "exec/wheelhouse.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

int cmd_wheelhouse(int argc, char **argv, cli_globals *g)
{
    const cli_command *self = cli_find_command("wheelhouse");
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"site", required_argument, NULL, 's'},
        {"wheels", required_argument, NULL, 'w'},
        {"json", no_argument, NULL, 'J'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL, *site = WHEELHOUSE_DEBIAN_SITE, *wheels = WHEELHOUSE_DEBIAN_WHEELS;
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 's': site = optarg; break;
        case 'w': wheels = optarg; break;
        case 'J': json = true; break;
        case 'q': g->quiet = true; break;
        case 'h': cli_print_command_help(self, stdout); return EXIT_PASSED;
        default: return cli_usage(self, "bad option");
        }
    }
    pyti_strv names = PYTI_STRV_INIT;
    for (int i = optind; i < argc; i++)
        strv_push(&names, argv[i]);
    char *def = dir ? NULL : wheelhouse_default_dir();
    pyti_error err;
    json_t *s = wheelhouse_build(dir ? dir : def, wheels, site, names.len ? &names : NULL, &err);
    strv_free(&names);
    free(def);
    if (!s)
        return cli_fail(&err);
    if (json) {
        char *text = json_dump_pretty(s);
        fputs(text, stdout);
        free(text);
    } else if (!g->quiet) {
        size_t i;
        json_t *v;
        printf("wheelhouse %s\n", json_get_str(s, "dir"));
        json_array_foreach(json_object_get(s, "copied"), i, v)
            printf("  copied  %s\n", json_string_value(v));
        json_array_foreach(json_object_get(s, "packed"), i, v)
            printf("  packed  %s\n", json_string_value(v));
        json_array_foreach(json_object_get(s, "skipped"), i, v)
            printf("  skipped %s: %s\n", json_get_str(v, "name"), json_get_str(v, "reason"));
    }
    json_decref(s);
    return EXIT_PASSED;
}
