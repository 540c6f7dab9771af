/* sandbox_loop.c — benchmark: sandbox_run() of `true` in a loop, in one
 * process, as the runner and a worker use it (no pyti start-up per run).
 * Prints one line per run in seconds; bench/sandbox_start summarises.
 * With --bwrap, each run is followed by one of
 * `bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc true`
 * (posix_spawn + wait), and lines are "sandbox_s bwrap_s": interleaved,
 * so both see the same machine load.
 *
 * With --cli PYTI [PYTI_B], no sandbox_run() here: each round spawns
 * `PYTI -q sandbox -- true`, the bwrap command (and `PYTI_B -q sandbox --
 * true`, e.g. another build, when given), in an order that rotates every
 * round so that none always follows another; each line is the round's
 * "wall cpu" pairs (cpu: user+sys of the process and everything it
 * waited for, from wait4), in the order PYTI, bwrap[, PYTI_B].
 *
 * usage: sandbox_loop RUNS [--bwrap | --cli PYTI [PYTI_B]] */
#include "sandbox/sandbox.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

/* One bwrap run of `true`, timed; -1 on failure. */
static double bwrap_once(void)
{
    char *argv[] = {"bwrap", "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev",
                    "--proc", "/proc", "true", NULL};
    double t = 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    pid_t pid;
    if (posix_spawnp(&pid, "bwrap", NULL, NULL, argv, environ) != 0)
        return -1;
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - t;
}

static double now(void);

/* Spawns argv, waits; wall and user+sys CPU seconds. false on failure. */
static int spawn_timed(char *const argv[], double *wall, double *cpu)
{
    double t = now();
    pid_t pid;
    if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
        return 0;
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return 0;
    *wall = now() - t;
    *cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return 1;
}

/* --cli: the commands interleaved, order rotating per round. */
static int cli_loop(int runs, char *pyti, char *pyti_b)
{
    char *bwrap[] = {"bwrap", "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev",
                     "--proc", "/proc", "true", NULL};
    char *a[] = {pyti, "-q", "sandbox", "--", "true", NULL};
    char *b[] = {pyti_b, "-q", "sandbox", "--", "true", NULL};
    char *const *cmds[3] = {a, bwrap, b};
    int n = pyti_b ? 3 : 2;
    for (int i = 0; i < runs + 10; i++) {
        double wall[3], cpu[3];
        for (int k = 0; k < n; k++) {
            int c = (i + k) % n;
            if (!spawn_timed(cmds[c], &wall[c], &cpu[c])) {
                fprintf(stderr, "sandbox_loop: %s failed\n", cmds[c][0]);
                return 1;
            }
        }
        if (i < 10) /* warm-up */
            continue;
        for (int c = 0; c < n; c++)
            printf("%s%.6f %.6f", c ? " " : "", wall[c], cpu[c]);
        printf("\n");
    }
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 100;
    int with_bwrap = argc > 2 && strcmp(argv[2], "--bwrap") == 0;
    if (argc > 3 && strcmp(argv[2], "--cli") == 0)
        return cli_loop(runs, argv[3], argc > 4 ? argv[4] : NULL);
    char *cmd[] = {"true", NULL};
    pyti_sandbox_spec spec;
    sandbox_spec_init(&spec);
    spec.argv = cmd;
    spec.limits.timeout_s = 60;
    spec.limits.memory_bytes = (uint64_t)2 << 30; /* the CLI's defaults */
    spec.limits.pids = 512;
    spec.limits.disk_bytes = (uint64_t)1 << 30;
    spec.limits.output_bytes = (uint64_t)16 << 20;
    pyti_sandbox_mount work = {SANDBOX_MOUNT_TMPFS, NULL, "/work", 0};
    spec.mounts = &work;
    spec.n_mounts = 1;
    spec.cwd = "/work";
    for (int i = 0; i < runs + 10; i++) {
        pyti_sandbox_result res;
        pyti_error err;
        double t = now();
        if (sandbox_run(&spec, &res, &err) != PYTI_OK || res.exit_code != 0) {
            fprintf(stderr, "sandbox_loop: %s\n", err.msg);
            return 1;
        }
        double dt = now() - t;
        sandbox_result_free(&res);
        double bw = 0;
        if (with_bwrap && (bw = bwrap_once()) < 0) {
            fprintf(stderr, "sandbox_loop: bwrap failed\n");
            return 1;
        }
        if (i >= 10 && with_bwrap) /* after warm-up */
            printf("%.6f %.6f\n", dt, bw);
        else if (i >= 10)
            printf("%.6f\n", dt);
    }
    return 0;
}
