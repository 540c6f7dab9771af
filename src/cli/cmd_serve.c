/* cmd_serve.c — `pyti serve`: runs the master (src/master/) until SIGINT
 * or SIGTERM and, with --workers N, N local worker processes (`pyti
 * worker`, restarted if they die) that talk to it with a token made for
 * this run. On a signal the workers drain first (they finish and report
 * their jobs), then the master stops; a second signal kills the workers. */
#include "cli/cli.h"
#include "common/log.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "master/master.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_LOCAL_WORKERS 256

typedef struct local_worker {
    pid_t pid;
    time_t started;
} local_worker;

typedef struct serve_ctx {
    const char *url;
    const char *token_file;
    const char *config_path;
    char host[64];
    int verbose;
} serve_ctx;

static pid_t spawn_worker(const serve_ctx *c, int k)
{
    char id[128], kbuf[16];
    snprintf(id, sizeof id, "%s:local-%d", c->host, k);
    snprintf(kbuf, sizeof kbuf, "%d", k);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* The child: a worker that dies with us. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    const char *argv[16];
    int n = 0;
    argv[n++] = "pyti";
    if (c->config_path) {
        argv[n++] = "--config";
        argv[n++] = c->config_path;
    }
    if (c->verbose)
        argv[n++] = "--verbose";
    argv[n++] = "worker";
    argv[n++] = "--master";
    argv[n++] = c->url;
    argv[n++] = "--token-file";
    argv[n++] = c->token_file;
    argv[n++] = "--id";
    argv[n++] = id;
    argv[n] = NULL;
    execv("/proc/self/exe", (char *const *)argv);
    fprintf(stderr, "pyti serve: cannot start a worker: %s\n", strerror(errno));
    _exit(127);
}

/* A private file holding a fresh random token, for the local workers. */
static char *make_token(char **dir_out, char **file_out, pyti_error *err)
{
    unsigned char raw[24];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        pyti_error_set(err, PYTI_ERR_INTERNAL, "no random bytes for the workers' token");
        return NULL;
    }
    char *tok = xmalloc(2 * sizeof raw + 1);
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(tok + 2 * i, 3, "%02x", raw[i]);
    char *dir = path_mkdtemp(NULL, "pyti-serve-", err);
    if (!dir) {
        free(tok);
        return NULL;
    }
    char *file = path_join(dir, "worker.token");
    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, tok, strlen(tok)) != (ssize_t)strlen(tok)) {
        pyti_error_errno(err, PYTI_ERR_IO, errno, "writing %s", file);
        if (fd >= 0)
            close(fd);
        path_rmtree(dir, NULL);
        free(dir);
        free(file);
        free(tok);
        return NULL;
    }
    close(fd);
    *dir_out = dir;
    *file_out = file;
    return tok;
}

/* Waits for the workers to exit, up to timeout_s; true if all did. */
static bool reap_all(local_worker *w, int n, double timeout_s)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int alive = 0;
        for (int i = 0; i < n; i++) {
            if (w[i].pid <= 0)
                continue;
            if (waitpid(w[i].pid, NULL, WNOHANG) == w[i].pid)
                w[i].pid = 0;
            else
                alive++;
        }
        if (!alive)
            return true;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9 > timeout_s)
            return false;
        struct timespec nap = {0, 50 * 1000000L};
        nanosleep(&nap, NULL);
    }
}

int cmd_serve(int argc, char **argv, cli_globals *g)
{
    const cli_command *self = cli_find_command("serve");
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"db", required_argument, NULL, 'd'},
        {"workers", required_argument, NULL, 'w'},
        {"config", required_argument, NULL, 'c'},
        {"log", no_argument, NULL, 'L'},
        {"no-feeds", no_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    master_options mo = {0};
    long nworkers = 0;
    int c;
    while ((c = getopt_long(argc, argv, "l:w:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': mo.listen = optarg; break;
        case 'd': mo.db = optarg; break;
        case 'w': {
            char *end;
            errno = 0;
            nworkers = strtol(optarg, &end, 10);
            if (errno || *end || !*optarg || nworkers < 0 || nworkers > MAX_LOCAL_WORKERS)
                return cli_usage(self, "--workers: expected 0..%d, got '%s'", MAX_LOCAL_WORKERS,
                                 optarg);
            break;
        }
        case 'c': g->config_path = optarg; break;
        case 'L': mo.log_requests = true; break;
        case 'F': mo.no_feeds = true; break;
        case 'h': cli_print_command_help(self, stdout); return EXIT_PASSED;
        default: return cli_usage(self, "bad option");
        }
    }
    if (optind < argc)
        return cli_usage(self, "unexpected argument '%s'", argv[optind]);

    pyti_error err;
    pyti_config *cfg = cli_load_config(g, &err);
    if (!cfg)
        return cli_fail(&err);
    mo.config = cfg;

    /* Signals are taken synchronously by this thread; every thread the
     * master starts inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGCHLD);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    char *tok_dir = NULL, *tok_file = NULL, *token = NULL;
    if (nworkers > 0 && !(token = make_token(&tok_dir, &tok_file, &err))) {
        config_free(cfg);
        return cli_fail(&err);
    }
    mo.extra_worker_token = token;
    pyti_master *m = master_start(&mo, &err);
    if (!m) {
        if (tok_dir)
            path_rmtree(tok_dir, NULL);
        free(tok_dir);
        free(tok_file);
        free(token);
        config_free(cfg);
        return cli_fail(&err);
    }
    printf("pyti serve: listening at %s (api %s/api/v1)%s\n", master_url(m), master_url(m),
           nworkers ? "" : "; no local workers");
    if (master_generated_token_file(m))
        printf("pyti serve: admin token in %s\n", master_generated_token_file(m));
    fflush(stdout);

    serve_ctx sc = {0};
    sc.url = master_url(m);
    sc.token_file = tok_file;
    sc.config_path = g->config_path;
    sc.verbose = g->verbose;
    if (gethostname(sc.host, sizeof sc.host) != 0 || !sc.host[0])
        snprintf(sc.host, sizeof sc.host, "localhost");
    sc.host[sizeof sc.host - 1] = '\0';
    local_worker *w = xcalloc((size_t)nworkers + 1, sizeof *w);
    for (int i = 0; i < nworkers; i++) {
        w[i].pid = spawn_worker(&sc, i + 1);
        w[i].started = time(NULL);
    }

    int rc = EXIT_PASSED;
    for (;;) {
        struct timespec tick = {1, 0};
        int sig = sigtimedwait(&sigs, NULL, &tick);
        if (sig == SIGINT || sig == SIGTERM)
            break;
        /* SIGCHLD or the tick: restart local workers that died. */
        for (int i = 0; i < nworkers; i++) {
            int st;
            if (w[i].pid > 0 && waitpid(w[i].pid, &st, WNOHANG) == w[i].pid) {
                log_warn("serve: local worker %d exited (%s %d); restarting it", i + 1,
                         WIFSIGNALED(st) ? "signal" : "status",
                         WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
                w[i].pid = 0;
            }
            /* At most one restart per second per worker. */
            if (w[i].pid == 0 && time(NULL) > w[i].started) {
                w[i].pid = spawn_worker(&sc, i + 1);
                w[i].started = time(NULL);
            }
        }
    }
    if (nworkers > 0) {
        log_info("serve: stopping: the local workers finish their jobs first (signal again to "
                 "stop them now)");
        for (int i = 0; i < nworkers; i++)
            if (w[i].pid > 0)
                kill(w[i].pid, SIGTERM);
        while (!reap_all(w, (int)nworkers, 0.5)) {
            struct timespec zero = {0, 0};
            int sig = sigtimedwait(&sigs, NULL, &zero);
            if (sig == SIGINT || sig == SIGTERM) {
                for (int i = 0; i < nworkers; i++)
                    if (w[i].pid > 0)
                        kill(w[i].pid, SIGKILL);
                reap_all(w, (int)nworkers, 10);
                break;
            }
        }
    }
    master_stop(m);
    if (tok_dir)
        path_rmtree(tok_dir, NULL);
    free(w);
    free(tok_dir);
    free(tok_file);
    free(token);
    config_free(cfg);
    return rc;
}
