/* commands.c — the command table with every command's help text, and the
 * helpers the subcommands share (see cli.h). */
#include "cli/cli.h"
#include "cli/cmd_sandbox.h"
#include "common/log.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "exec/task.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const cli_command commands[] = {
    {"test", cmd_test, "pyti test TARGET [OPTIONS]",
     "test a distribution file (sdist or wheel) with a recipe",
     "Runs the tasks of a recipe on TARGET, a distribution file (.tar.gz, .tgz,\n"
     ".tar.bz2, .tar.xz, .zip or .whl), prints a per-task summary, writes the\n"
     "JSON report if asked and stores it.\n"
     "\n"
     "options:\n"
     "  -r, --recipe NAME|PATH  recipe to run (default: default)\n"
     "  -p, --python PY         target interpreter: a version (3.11) or a path\n"
     "                          under /usr (default /usr/bin/python3)\n"
     "  -i, --index-url URL     the index dependencies are staged from (default:\n"
     "                          [index] url, else https://pypi.org/simple)\n"
     "      --extra-index-url URL  another index (repeatable; replaces [index]\n"
     "                          extra_urls)\n"
     "      --offline           stage dependencies from the download cache only\n"
     "  -j, --json FILE         write the JSON report to FILE ('-' for stdout)\n"
     "      --html FILE         write the report page to FILE (one self-contained\n"
     "                          HTML file, the web dashboard's report page)\n"
     "      --db LOCATION       store: a SQLite path or postgresql://... (default\n"
     "                          $XDG_DATA_HOME/pyti/pyti.db)\n"
     "      --no-store          do not store the report\n"
     "  -k, --keep              keep the job directory and print where it is\n"
     "  -q, --quiet             no progress or summary, only the verdict line\n"
     "      --config FILE       settings file\n"
     "\n"
     "exit codes: 0 every task passed, 1 the package failed a task or was\n"
     "flagged, 2 usage error or rejected input (e.g. a hostile archive),\n"
     "3 pyti's own or the infrastructure's failure.\n"},
    {"recipes", cmd_recipes, "pyti recipes", "list the recipes pyti can run",
     "Lists every recipe visible: the user's ($XDG_CONFIG_HOME/pyti/recipes/*.ini)\n"
     "first, shadowing pyti's shipped ones of the same name.\n"},
    {"recipe", cmd_recipe, "pyti recipe show NAME|PATH",
     "show a recipe's tasks in execution order",
     "`pyti recipe show NAME` prints the tasks of a recipe in the order they run,\n"
     "one per line, task name first, then what it is and what it depends on.\n"
     "Errors in the recipe (cycles, missing producers, unknown tasks) are\n"
     "reported with file:line.\n"},
    {"results", cmd_results, "pyti results [NAME] [OPTIONS]", "list stored reports",
     "Lists stored reports, newest first, optionally only those of project NAME\n"
     "(any spelling; compared normalised).\n"
     "\n"
     "options:\n"
     "      --db LOCATION  store: a SQLite path or postgresql://... (default\n"
     "                     $XDG_DATA_HOME/pyti/pyti.db)\n"
     "  -n, --limit N      at most N reports (default 50, 0 for all)\n"
     "      --json         print a JSON array of summaries\n"},
    {"report", cmd_report, "pyti report ID [OPTIONS]", "print one stored report",
     "Prints the stored report ID (or a unique prefix of at least 4 digits)\n"
     "as a readable summary, or as JSON with --json.\n"
     "\n"
     "options:\n"
     "      --db LOCATION  store: a SQLite path or postgresql://... (default\n"
     "                     $XDG_DATA_HOME/pyti/pyti.db)\n"
     "      --json         print the whole JSON report\n"},
    {"store", cmd_store, "pyti store FILE... [--db LOCATION]", "store JSON reports from files",
     "Validates and stores reports written by `pyti test --json` (on this or\n"
     "another machine). Storing a report that is already stored keeps one\n"
     "copy. A file that is not a valid report is refused with the reason.\n"
     "\n"
     "options:\n"
     "      --db LOCATION  store: a SQLite path or postgresql://... (default\n"
     "                     $XDG_DATA_HOME/pyti/pyti.db)\n"},
    {"resolve", cmd_resolve, "pyti resolve REQUIREMENT... [OPTIONS]",
     "resolve requirements against package indexes, running no package code on the host",
     "Finds one version of every project needed by the REQUIREMENTs (PEP 508:\n"
     "extras, specifiers, markers) for the target Python, as pip would, and\n"
     "prints them as name==version lines sorted by name. Metadata comes from\n"
     "PEP 658 files, wheels, or sdists with static metadata (PEP 643). An sdist\n"
     "without static metadata has it prepared by its PEP 517 backend inside\n"
     "pyti's sandbox (no network; prepare_metadata_for_build_wheel, else\n"
     "build_wheel; its build requirements staged like `pyti test` does) when\n"
     "the sandbox is available; nothing runs on the host. Downloads are\n"
     "verified against the index's hashes and cached in $XDG_CACHE_HOME/pyti.\n"
     "\n"
     "options:\n"
     "  -i, --index-url URL        main index (default [index] url, else PyPI)\n"
     "      --extra-index-url URL  another index (repeatable)\n"
     "      --python X.Y[.Z]       target Python (default 3.11.2, Debian 12's)\n"
     "      --pre                  allow pre-releases\n"
     "  -r, --requirement FILE     read requirements from FILE (repeatable)\n"
     "  -j, --json FILE            write the resolution with files, URLs and\n"
     "                             hashes to FILE ('-' for stdout)\n"
     "      --download DIR         also download the chosen files into DIR\n"
     "      --offline              use only the cache, never the network\n"
     "      --no-cache             neither read nor write the cache\n"
     "      --no-build             never build: an sdist without static metadata\n"
     "                             ends the resolution as needs-build\n"
     "      --config FILE          settings file\n"
     "\n"
     "exit codes: 0 resolved, 1 no resolution (a conflict, a metadata build\n"
     "that failed, or an sdist that needs one with --no-build), 2 usage error or rejected input (bad\n"
     "requirement, hash mismatch), 3 network or pyti failure.\n"},
    {"index", cmd_index, "pyti index serve DIR [OPTIONS] | pyti index tags [--python X.Y]",
     "serve a directory as a package index; show wheel tags",
     "`pyti index serve DIR` serves the distributions found in DIR (three levels\n"
     "deep) as a PEP 503 / PEP 691 simple index at http://ADDR:PORT/simple/\n"
     "(HTML or JSON by content negotiation), with sha256 hashes,\n"
     "requires-python, PEP 658 metadata files, PEP 700 versions, sizes and\n"
     "upload times. A file FILE.yanked next to a distribution yanks it (its\n"
     "text is the reason). It prints one line \"serving DIR (...) at URL\" and\n"
     "runs until SIGINT or SIGTERM; SIGHUP rescans DIR.\n"
     "\n"
     "serve options:\n"
     "  -l, --listen ADDR:PORT  where to listen (default 127.0.0.1:8000; port 0\n"
     "                          picks a free port)\n"
     "      --no-metadata       do not offer PEP 658 metadata files\n"
     "      --threads N         worker threads (default 4)\n"
     "      --log               one line per request on stderr\n"
     "\n"
     "`pyti index tags [--python X.Y]` prints the wheel tags the target Python\n"
     "supports, most preferred first (as packaging.tags.sys_tags orders them).\n"},
    {"sandbox", cmd_sandbox, CMD_SANDBOX_SYNOPSIS, CMD_SANDBOX_SUMMARY, CMD_SANDBOX_HELP},
    {"wheelhouse", cmd_wheelhouse, "pyti wheelhouse [--dir DIR] [--site DIR] [--wheels DIR] [NAME...]",
     "build the local wheelhouse of build backends from Debian's packages",
     "Fills DIR (default $XDG_DATA_HOME/pyti/wheelhouse) with the wheels Debian\n"
     "ships (--wheels, default /usr/share/python-wheels) and with the installed\n"
     "pure-Python distributions NAME... (default: the PEP 517 build backends and\n"
     "their dependencies) packed into wheels from --site (default\n"
     "/usr/lib/python3/dist-packages). The sandboxed build task installs build\n"
     "requirements from it, offline. Nothing is executed.\n"
     "\n"
     "options:\n"
     "      --dir DIR      the wheelhouse\n"
     "      --site DIR     where installed distributions are packed from\n"
     "      --wheels DIR   where ready wheels are copied from\n"
     "      --json         print a JSON summary\n"},
    {"install", cmd_install, "pyti install --venv DIR [OPTIONS] WHEEL...",
     "install wheels into a virtual environment, as pip does",
     "Installs the wheels into the virtual environment DIR (made by\n"
     "`python3 -m venv`) with pyti's native installer: the same files, bytes,\n"
     "modes and RECORD as `pip install --no-deps --no-compile WHEEL...`, except\n"
     "INSTALLER, which says \"pyti\". Each wheel's RECORD is verified first; a\n"
     "file that would replace an existing one is refused unless --overwrite;\n"
     "the batch is all or nothing. Runs no package code. In the product the\n"
     "installer runs inside the sandbox; this command is for debugging and\n"
     "benchmarks.\n"
     "\n"
     "options:\n"
     "      --venv DIR             the virtual environment (required)\n"
     "      --python-version X.Y   its Python version (default: from pyvenv.cfg)\n"
     "      --python PATH          interpreter for shebangs (default DIR/bin/python)\n"
     "      --no-requested         do not write REQUESTED (pip: a dependency)\n"
     "      --no-direct-url        do not write direct_url.json (pip: installed by\n"
     "                             name from an index or --find-links)\n"
     "      --overwrite            replace existing files (never directories, never\n"
     "                             another installed version of the project)\n"
     "      --compile              byte-compile with DIR's interpreter (-I -S, only\n"
     "                             the standard library's compileall runs)\n"
     "      --installer NAME       the line written to INSTALLER (default pyti)\n"
     "      --staging-dir DIR      where wheels are unpacked first (default: a\n"
     "                             tmpfs $TMPDIR, /tmp or /dev/shm, else the venv)\n"
     "      --dependency WHEEL     install WHEEL first, in a batch of its own,\n"
     "                             without REQUESTED and direct_url.json (as pip\n"
     "                             installs dependencies; repeatable)\n"
     "      --json FILE            write what was installed (from the RECORDs:\n"
     "                             files, top-level names) and any error as JSON\n"
     "  -q, --quiet                print nothing on success\n"
     "\n"
     "exit codes: 0 installed, 2 usage error, refused wheel or conflict (nothing\n"
     "installed), 3 the file system failed (nothing installed).\n"},
    {"jobs", cmd_jobs, "pyti jobs [--master URL | --db LOCATION] [--state S] [OPTIONS]",
     "list, submit, cancel and retry jobs of the queue",
     "Without an action, lists jobs newest first, one per line: id, state,\n"
     "attempts, project, version, file, recipe, Python requirement, the worker\n"
     "holding it, its report or its last error.\n"
     "\n"
     "actions (at most one):\n"
     "      --show ID       one job with its attempts\n"
     "      --submit FILE   queue a distribution file of this machine (fetched by\n"
     "                      path, or by --url), or the job specs in FILE.json (an\n"
     "                      object or an array, as in docs/store.md); a job already\n"
     "                      queued, running or done for the same file, recipe and\n"
     "                      Python is not queued again (--retest tests it again)\n"
     "      --cancel ID     cancel a queued, leased or running job\n"
     "      --retry ID      queue a failed or cancelled job again\n"
     "      --workers       the registered workers\n"
     "      --metrics       jobs by state, workers by state, the last minute's\n"
     "                      results and durations\n"
     "\n"
     "options:\n"
     "      --db LOCATION   store: a SQLite path or postgresql://... (default\n"
     "                      $XDG_DATA_HOME/pyti/pyti.db)\n"
     "  -m, --master URL    work on a master's queue over its API instead of a\n"
     "                      store (--submit FILE uploads the file; --metrics\n"
     "                      prints its Prometheus text)\n"
     "      --token-file F  with --master: the token (default [client] token_file,\n"
     "                      else $XDG_CONFIG_HOME/pyti/admin.token)\n"
     "      --state S       list only jobs in state S (queued, leased, running,\n"
     "                      done, failed, cancelled)\n"
     "      --project NAME  list only the jobs of project NAME\n"
     "  -n, --limit N       at most N jobs (default 50, 0 for all)\n"
     "      --json          print JSON (jobs as in docs/store.md)\n"
     "  -r, --recipe NAME   with --submit: the recipe (default: default)\n"
     "      --python SPEC   with --submit: the Python requirement (3.12, >=3.9)\n"
     "      --url URL       with --submit: where workers fetch the file\n"
     "      --priority N    with --submit: -1000..1000, higher runs first\n"
     "      --retest        with --submit: test again even if done before\n"},
    {"serve", cmd_serve, "pyti serve [--listen ADDR:PORT] [--db LOCATION] [--workers N]",
     "run the master: the HTTP API, feeds, uploads and (optionally) local workers",
     "Runs the master until SIGINT or SIGTERM: the JSON API under /api/v1 (submit,\n"
     "list, cancel and retry jobs; workers claim, heartbeat and report), twine's\n"
     "upload endpoint (/legacy/), the feeds configured in pyti.ini ([feed.rss],\n"
     "[feed.serial], [feed.dropdir]), GET /metrics (Prometheus) and the pages.\n"
     "It prints \"pyti serve: listening at URL\" once it accepts requests.\n"
     "Tokens come from [master] in pyti.ini; without any, it makes\n"
     "$XDG_CONFIG_HOME/pyti/admin.token and worker.token, which pyti submit,\n"
     "pyti jobs --master and pyti worker read by default (docs/operations.md).\n"
     "\n"
     "options:\n"
     "  -l, --listen ADDR:PORT  where to listen (default [master] listen, else\n"
     "                          127.0.0.1:8080; port 0 picks a free port)\n"
     "      --db LOCATION       store: a SQLite path or postgresql://... (default\n"
     "                          [store] path, else $XDG_DATA_HOME/pyti/pyti.db)\n"
     "  -w, --workers N         also run N local workers (pyti worker processes with\n"
     "                          a token made for this run); on SIGTERM they finish\n"
     "                          their jobs before the master stops\n"
     "      --no-feeds          do not run the configured feeds\n"
     "      --log               one line per request on stderr\n"
     "      --config FILE       settings file\n"},
    {"worker", cmd_worker, "pyti worker --master URL [--token-file F] [--slots N] [OPTIONS]",
     "run jobs for a master: claim, test in the sandbox, report",
     "Registers with the master (its Pythons, arch, OS, memory, tags and its\n"
     "acceptance policy), long-polls for jobs it can run, downloads each\n"
     "distribution (its sha256 verified), runs it through the job runner as\n"
     "`pyti test` does (package code only in the sandbox), heartbeats the lease,\n"
     "and uploads the report and logs. It survives master restarts (retrying\n"
     "with backoff). SIGTERM or SIGINT drains: no new jobs, running ones finish\n"
     "and are reported, then it exits 0; a second signal stops the jobs (they are\n"
     "handed back to the queue) and exits.\n"
     "\n"
     "options:\n"
     "  -m, --master URL        the master (http://host:port)\n"
     "  -t, --token-file F      the worker token (default [worker] token_file, else\n"
     "                          $XDG_CONFIG_HOME/pyti/worker.token)\n"
     "  -s, --slots N           jobs run at once (default 1)\n"
     "      --id ID             this worker's name, stable across restarts (default\n"
     "                          the host name)\n"
     "      --tag TAG           advertise a tag jobs can require (repeatable)\n"
     "      --python X.Y        advertise only these Pythons (repeatable; default:\n"
     "                          every /usr/bin/python3.N found)\n"
     "      --max-size SIZE     refuse distributions larger than SIZE (K/M/G)\n"
     "      --recipe NAME       run only jobs of these recipes (repeatable)\n"
     "      --project NAME      run only jobs of these projects (repeatable)\n"
     "      --work-dir DIR      where jobs are downloaded and run (default $TMPDIR)\n"
     "      --config FILE       settings file ([worker] section; [limits] etc. for\n"
     "                          the jobs)\n"},
    {"submit", cmd_submit, "pyti submit TARGET --master URL [OPTIONS]",
     "queue a distribution on a master: a local file (uploaded) or a URL",
     "TARGET is a distribution file on this machine (uploaded to the master, which\n"
     "keeps it and queues its test) or an http(s) URL given with --sha256 (workers\n"
     "download and verify it). Prints the job's id; with --wait, waits for its\n"
     "result and exits as pyti test would (0 passed, 1 failed or flagged,\n"
     "2 rejected, 3 error or the job failed).\n"
     "\n"
     "options:\n"
     "  -m, --master URL        the master (default [client] master)\n"
     "  -t, --token-file F      a submit or admin token (default [client]\n"
     "                          token_file, else $XDG_CONFIG_HOME/pyti/admin.token)\n"
     "  -r, --recipe NAME       the recipe (default: default)\n"
     "      --python SPEC       the Python requirement (3.12, >=3.9)\n"
     "      --priority N        -1000..1000, higher runs first\n"
     "      --sha256 HEX        with a URL: the file's SHA-256 (required)\n"
     "      --retest            test again even if this file was tested\n"
     "      --wait              wait for the result and print the verdict\n"
     "      --timeout S         with --wait: give up after S seconds (default 3600)\n"
     "      --json              print the job as JSON\n"},
    {"help", cmd_help, "pyti help [COMMAND]", "show help for pyti or a command", ""},
    {NULL, NULL, NULL, NULL, NULL},
};

const cli_command *cli_commands(void) { return commands; }

const cli_command *cli_find_command(const char *name)
{
    for (const cli_command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

int cmd_help(int argc, char **argv, cli_globals *g)
{
    (void)g;
    if (argc < 2) {
        printf("usage: pyti [--quiet] [--verbose] [--config FILE] COMMAND [ARGS]\n\ncommands:\n");
        for (const cli_command *c = commands; c->name; c++)
            printf("  %-10s %s\n", c->name, c->summary);
        printf("\n`pyti help COMMAND` shows a command's options.\n");
        return EXIT_PASSED;
    }
    const cli_command *c = cli_find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "pyti: no such command '%s'. Try 'pyti --help'.\n", argv[1]);
        return EXIT_USAGE;
    }
    cli_print_command_help(c, stdout);
    return EXIT_PASSED;
}

pyti_config *cli_load_config(const cli_globals *g, pyti_error *err)
{
    return config_load(g->config_path, err);
}

pyti_recipe_search cli_recipe_search(void)
{
    pyti_recipe_search s = {0};
    char *cfg = path_xdg_config_home();
    s.user_dir = xasprintf("%s/pyti/recipes", cfg);
    free(cfg);
    s.shipped_dir = path_join(path_pyti_datadir(), "recipes");
    s.is_builtin = builtin_exists;
    return s;
}

void cli_recipe_search_free(pyti_recipe_search *s)
{
    free((char *)s->user_dir);
    free((char *)s->shipped_dir);
    s->user_dir = s->shipped_dir = NULL;
}

pyti_store *cli_open_store(const char *db_opt, const pyti_config *cfg, pyti_error *err)
{
    const char *loc = db_opt ? db_opt : config_get(cfg, "store", "path");
    char *def = loc ? NULL : store_default_location();
    pyti_store *s = store_open(loc ? loc : def, err);
    free(def);
    return s;
}
