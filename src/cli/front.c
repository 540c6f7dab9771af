/* front.c — the `pyti` executable: a small front that runs `pyti sandbox`
 * itself and hands every other command, unchanged, to pyti-core (main.c).
 *
 * Why two programs: the full command line links libarchive, libcurl,
 * libpq, libxml2, ICU, libstdc++ and libcrypto, and loading them costs
 * ~3.5 ms before main() runs — more than the whole sandbox start-up that
 * `pyti sandbox -- true` measures against bubblewrap (bench/sandbox_start).
 * This front links only what the sandbox needs (libseccomp, jansson), and
 * the other commands pay one extra execve (~0.5 ms), which none of them
 * notices. pyti-core is looked up next to this executable (the build tree,
 * or a bindir holding both), then in PYTI_INSTALL_LIBEXECDIR. */
#include "cli/cli.h"
#include "common/log.h"
#include "pyti_config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

__attribute__((noreturn)) static void exec_core(char **argv)
{
    char exe[PATH_MAX], core[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(core, sizeof core, "%s/pyti-core", exe);
            if (access(core, X_OK) == 0) {
                execv(core, argv);
                fprintf(stderr, "pyti: cannot run %s: %s\n", core, strerror(errno));
                _exit(EXIT_INTERNAL);
            }
        }
    }
    snprintf(core, sizeof core, "%s/pyti-core", PYTI_INSTALL_LIBEXECDIR);
    execv(core, argv);
    fprintf(stderr, "pyti: cannot run %s: %s (is pyti installed completely?)\n", core,
            strerror(errno));
    _exit(EXIT_INTERNAL);
}

int main(int argc, char **argv)
{
    cli_globals g = {0};
    int at = 0;
    /* Anything but a well-formed `pyti [GLOBALS] sandbox ...` goes to the
     * core unchanged, which prints the help, version or errors itself. */
    if (cli_parse_globals(argc, argv, &g, &at, false) == CLI_GLOBALS_COMMAND &&
        strcmp(argv[at], "sandbox") == 0) {
        if (g.verbose > 1)
            log_set_level(PYTI_LOG_DEBUG);
        optind = 0;
        return cmd_sandbox(argc - at, argv + at, &g);
    }
    exec_core(argv);
}
