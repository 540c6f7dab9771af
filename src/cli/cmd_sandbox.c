/* cmd_sandbox.c — `pyti sandbox [OPTIONS] -- CMD [ARGS]`: runs any command
 * in pyti's sandbox (for debugging recipes and the sandbox itself), with
 * the same mounts and limits a task gets. Argument parsing and printing
 * only; the work is sandbox_run() in src/sandbox/. */
#include "cli/cli.h"
#include "cli/cmd_sandbox.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/str.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "sandbox/sandbox.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Exit codes of `pyti sandbox` when pyti itself ended the command. */
enum { EXIT_SANDBOX_TIMEOUT = 124, EXIT_SANDBOX_LIMIT = 125 };

static void print_event(void *user, const pyti_sandbox_event *ev)
{
    size_t *shown = user;
    if (++*shown > 100) {
        if (*shown == 101)
            fprintf(stderr, "pyti: sandbox: more events not shown (see --json)\n");
        return;
    }
    if (ev->text) {
        char *t = str_excerpt(ev->text, strlen(ev->text), 300);
        fprintf(stderr, "pyti: sandbox: %s %s by pid %d (%s)\n", ev->kind, t, (int)ev->pid,
                ev->comm);
        free(t);
        return;
    }
    fprintf(stderr, "pyti: sandbox: %s %s() by pid %d (%s)\n",
            strcmp(ev->action, "traced") == 0 ? "traced" : "denied", ev->syscall, (int)ev->pid,
            ev->comm);
}

static volatile sig_atomic_t cancel_signal;

static void on_signal(int sig) { cancel_signal = sig; }

static void set_env(pyti_strv *env, const char *key, const char *value)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < env->len; i++) {
        if (strncmp(env->items[i], key, kl) == 0 && env->items[i][kl] == '=') {
            free(env->items[i]);
            env->items[i] = xasprintf("%s=%s", key, value);
            return;
        }
    }
    strv_push_owned(env, xasprintf("%s=%s", key, value));
}

/* Not looked up in the command table: the front binary (front.c) runs this
 * command without linking the table and everything it names. */
static const cli_command sandbox_command = {
    "sandbox", cmd_sandbox, CMD_SANDBOX_SYNOPSIS, CMD_SANDBOX_SUMMARY, CMD_SANDBOX_HELP,
};

int cmd_sandbox(int argc, char **argv, cli_globals *g)
{
    const cli_command *self = &sandbox_command;
    enum {
        O_RO_BIND = 256, O_BIND, O_TMPFS, O_DIR, O_CHDIR, O_SETENV, O_TIMEOUT, O_MEMORY, O_PIDS,
        O_CPU, O_DISK, O_OUTPUT, O_HOSTNAME, O_JSON, O_HOME, O_STDOUT, O_STDERR, O_TRACE,
        O_VERBOSE, O_NO_STDIN, O_TRACE_ALL,
    };
    static const struct option opts[] = {
        {"ro-bind", required_argument, NULL, O_RO_BIND},
        {"bind", required_argument, NULL, O_BIND},
        {"tmpfs", required_argument, NULL, O_TMPFS},
        {"dir", required_argument, NULL, O_DIR},
        {"chdir", required_argument, NULL, O_CHDIR},
        {"setenv", required_argument, NULL, O_SETENV},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"memory", required_argument, NULL, O_MEMORY},
        {"pids", required_argument, NULL, O_PIDS},
        {"cpu", required_argument, NULL, O_CPU},
        {"disk", required_argument, NULL, O_DISK},
        {"output-limit", required_argument, NULL, O_OUTPUT},
        {"hostname", required_argument, NULL, O_HOSTNAME},
        {"json", required_argument, NULL, O_JSON},
        {"home", required_argument, NULL, O_HOME},
        {"stdout", required_argument, NULL, O_STDOUT},
        {"stderr", required_argument, NULL, O_STDERR},
        {"trace", required_argument, NULL, O_TRACE},
        {"trace-all", no_argument, NULL, O_TRACE_ALL},
        {"no-stdin", no_argument, NULL, O_NO_STDIN},
        {"verbose", no_argument, NULL, O_VERBOSE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };

    pyti_sandbox_spec spec;
    sandbox_spec_init(&spec);
    spec.limits.timeout_s = 600;
    spec.limits.memory_bytes = (uint64_t)2 << 30;
    spec.limits.pids = 512;
    spec.limits.disk_bytes = (uint64_t)1 << 30;
    spec.limits.output_bytes = (uint64_t)16 << 20;
    spec.stdin_fd = 0;
    spec.stdout_tee_fd = 1;
    spec.stderr_tee_fd = 2;
    size_t events_shown = 0;
    spec.on_event = g->quiet ? NULL : print_event;
    spec.user = &events_shown;

    pyti_sandbox_mount *mounts = NULL;
    size_t n_mounts = 0;
    pyti_strv env = PYTI_STRV_INIT, trace = PYTI_STRV_INIT, owned = PYTI_STRV_INIT;
    const char *json_path = NULL;
    bool verbose = g->verbose > 0, cwd_given = false, work_given = false;
    int rc = EXIT_USAGE;
    pyti_error err;

    static const char *const base_env[] = {
        "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/home/pyti", "USER=pyti", "LOGNAME=pyti",
        "SHELL=/bin/sh", "LANG=C.UTF-8", "TMPDIR=/tmp", NULL,
    };
    for (size_t i = 0; base_env[i]; i++)
        strv_push(&env, base_env[i]);
    const char *term = getenv("TERM");
    if (term)
        set_env(&env, "TERM", term);

#define ADD_MOUNT(k, s, t, z)                                                                    \
    do {                                                                                         \
        mounts = xreallocarray(mounts, n_mounts + 1, sizeof *mounts);                            \
        mounts[n_mounts++] = (pyti_sandbox_mount){(k), (s), (t), (z)};                           \
    } while (0)

    int c;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case O_RO_BIND:
        case O_BIND:
            if (optind >= argc) {
                rc = cli_usage(self, "--%s needs SRC and DEST", c == O_BIND ? "bind" : "ro-bind");
                goto done;
            }
            ADD_MOUNT(c == O_BIND ? SANDBOX_MOUNT_BIND : SANDBOX_MOUNT_RO_BIND, optarg,
                      argv[optind], 0);
            if (strcmp(argv[optind], "/work") == 0)
                work_given = true;
            optind++;
            break;
        case O_TMPFS: {
            char *spec_s = xstrdup(optarg);
            strv_push_owned(&owned, spec_s);
            uint64_t size = 0;
            char *colon = strchr(spec_s, ':');
            if (colon) {
                *colon = '\0';
                if (sandbox_parse_size(colon + 1, &size, &err) != PYTI_OK) {
                    rc = cli_usage(self, "--tmpfs %s: %s", optarg, err.msg);
                    goto done;
                }
            }
            ADD_MOUNT(SANDBOX_MOUNT_TMPFS, NULL, spec_s, size);
            if (strcmp(spec_s, "/work") == 0)
                work_given = true;
            break;
        }
        case O_DIR:
            ADD_MOUNT(SANDBOX_MOUNT_DIR, NULL, optarg, 0);
            break;
        case O_CHDIR:
            spec.cwd = optarg;
            cwd_given = true;
            break;
        case O_SETENV:
            if (optind >= argc || strchr(optarg, '=') || !*optarg) {
                rc = cli_usage(self, "--setenv needs a NAME (without '=') and a VALUE");
                goto done;
            }
            set_env(&env, optarg, argv[optind++]);
            break;
        case O_TIMEOUT:
            if (sandbox_parse_duration(optarg, &spec.limits.timeout_s, &err) != PYTI_OK) {
                rc = cli_usage(self, "--timeout: %s", err.msg);
                goto done;
            }
            break;
        case O_CPU:
            if (strcmp(optarg, "0") == 0)
                spec.limits.cpu_s = 0;
            else if (sandbox_parse_duration(optarg, &spec.limits.cpu_s, &err) != PYTI_OK) {
                rc = cli_usage(self, "--cpu: %s", err.msg);
                goto done;
            }
            break;
        case O_MEMORY:
        case O_DISK:
        case O_OUTPUT:
        case O_PIDS: {
            uint64_t v;
            if (sandbox_parse_size(optarg, &v, &err) != PYTI_OK) {
                rc = cli_usage(self, "%s: %s", argv[optind - 2], err.msg);
                goto done;
            }
            if (c == O_MEMORY)
                spec.limits.memory_bytes = v;
            else if (c == O_DISK)
                spec.limits.disk_bytes = v;
            else if (c == O_OUTPUT)
                spec.limits.output_bytes = v;
            else
                spec.limits.pids = v;
            break;
        }
        case O_HOSTNAME: spec.hostname = optarg; break;
        case O_JSON: json_path = optarg; break;
        case O_HOME: spec.home_source = optarg; break;
        case O_STDOUT: spec.stdout_path = optarg; break;
        case O_STDERR: spec.stderr_path = optarg; break;
        case O_TRACE: strv_push(&trace, optarg); break;
        case O_TRACE_ALL: spec.trace = true; break;
        case O_NO_STDIN: spec.stdin_fd = -1; break;
        case O_VERBOSE: verbose = true; break;
        case 'h':
            cli_print_command_help(self, stdout);
            rc = EXIT_PASSED;
            goto done;
        default:
            rc = cli_usage(self, "unknown option");
            goto done;
        }
    }
    if (optind >= argc) {
        rc = cli_usage(self, "no command given (put it after --)");
        goto done;
    }
    if (!work_given)
        ADD_MOUNT(SANDBOX_MOUNT_TMPFS, NULL, "/work", 0);
    if (!cwd_given)
        spec.cwd = "/work";
    spec.argv = argv + optind;
    spec.envp = env.items;
    spec.mounts = mounts;
    spec.n_mounts = n_mounts;
    if (trace.len)
        spec.trace_syscalls = (const char *const *)trace.items;

    if (sandbox_spec_check(&spec, &err) != PYTI_OK) {
        rc = cli_usage(self, "%s", err.msg);
        goto done;
    }

    /* Start-up report. With --verbose the whole probe (it tries a
     * sandbox) runs and is printed first, refusing without full isolation.
     * Otherwise nothing is probed up front: anything mandatory that is
     * missing makes sandbox_run fail before the command runs (the clone,
     * the mounts, the filter), and the probe then says what is missing;
     * a missing cgroup hierarchy is said after the run (sandbox_run looks
     * for cgroups while the sandbox sets up). A probe before every run
     * was ~6% of `pyti sandbox -- true` (bench/README.md). */
    pyti_sandbox_probe probe;
    if (verbose) {
        pyti_status pst = sandbox_probe(&probe, true, &err);
        char *d = sandbox_probe_describe(&probe);
        fputs(d, stderr);
        free(d);
        if (pst != PYTI_OK) {
            rc = cli_fail(&err);
            goto done;
        }
    }

    /* Ctrl-C, TERM, HUP: kill the run cleanly (cgroups removed) and exit
     * 128+N, instead of leaving init to the parent-death signal. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    spec.cancel = &cancel_signal;
    /* `pyti sandbox -- cmd | head`: a closed stdout must not kill pyti
     * (leaving the run to the parent-death signal); the tee just stops. */
    signal(SIGPIPE, SIG_IGN);

    pyti_sandbox_result res;
    if (sandbox_run(&spec, &res, &err) != PYTI_OK) {
        sandbox_result_free(&res);
        pyti_error perr;
        if (err.code == PYTI_ERR_INTERNAL && !verbose &&
            sandbox_probe(&probe, true, &perr) != PYTI_OK)
            err = perr; /* what is missing says more than which step failed */
        rc = err.code == PYTI_ERR_USAGE ? cli_usage(self, "%s", err.msg) : cli_fail(&err);
        if (rc == EXIT_USAGE && err.code != PYTI_ERR_USAGE)
            rc = EXIT_INTERNAL;
        goto done;
    }
    if (res.cancelled)
        rc = 128 + (int)cancel_signal;
    else if (res.timed_out)
        rc = EXIT_SANDBOX_TIMEOUT;
    else if (res.limit)
        rc = EXIT_SANDBOX_LIMIT;
    else if (res.signal)
        rc = 128 + res.signal;
    else
        rc = res.exit_code;
    if (!g->quiet && strcmp(res.accounting, "rlimits") == 0) {
        sandbox_probe_cgroups(&probe);
        log_warn("cgroups not available (%s): memory and pids limits were enforced with "
                 "rlimits only", probe.cgroup_note);
    }
    if (!g->quiet) {
        if (res.cancelled)
            log_error("sandbox: cancelled by signal %d", (int)cancel_signal);
        else if (res.timed_out)
            log_error("sandbox: timeout: %s", res.limit_detail);
        else if (res.limit)
            log_error("sandbox: %s limit: %s", res.limit, res.limit_detail);
    }
    if (verbose)
        fprintf(stderr,
                "pyti: sandbox: wall %.3fs user %.3fs sys %.3fs peak memory %llu bytes, "
                "disk %llu bytes, %zu event(s), accounting %s\n",
                res.wall_s, res.user_s, res.sys_s, (unsigned long long)res.peak_memory_bytes,
                (unsigned long long)res.disk_bytes, res.n_events, res.accounting);
    if (json_path) {
        json_t *j = sandbox_result_json(&res);
        json_t *a = json_array();
        for (int i = optind; i < argc; i++)
            json_array_append_new(a, json_text(argv[i]));
        json_object_set_new(j, "argv", a);
        json_object_set_new(j, "pyti_exit_code", json_integer(rc));
        json_t *lim = json_object();
        json_object_set_new(lim, "timeout_s", json_real(spec.limits.timeout_s));
        json_object_set_new(lim, "memory_bytes", json_integer((json_int_t)spec.limits.memory_bytes));
        json_object_set_new(lim, "pids", json_integer((json_int_t)spec.limits.pids));
        json_object_set_new(lim, "cpu_s", json_real(spec.limits.cpu_s));
        json_object_set_new(lim, "disk_bytes", json_integer((json_int_t)spec.limits.disk_bytes));
        json_object_set_new(lim, "output_bytes", json_integer((json_int_t)spec.limits.output_bytes));
        json_object_set_new(j, "limits", lim);
        pyti_status wst = PYTI_OK;
        if (strcmp(json_path, "-") == 0) {
            char *s = json_dump_pretty(j);
            fputs(s, stdout);
            free(s);
        } else {
            wst = json_write_file(j, json_path, &err);
        }
        json_decref(j);
        if (wst != PYTI_OK) {
            log_error("%s", err.msg);
            rc = EXIT_INTERNAL;
        }
    }
    sandbox_result_free(&res);

done:
#undef ADD_MOUNT
    free(mounts);
    strv_free(&env);
    strv_free(&trace);
    strv_free(&owned);
    return rc;
}
