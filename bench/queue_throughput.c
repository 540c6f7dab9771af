/* queue_throughput.c — the job queue's claim -> complete throughput with
 * trivial jobs (bench/README.md): submits N jobs, then K claimer
 * processes (or threads), each with its own connection, claim a job and
 * complete it with a minimal valid report until none is left. Prints the
 * submit rate and the claim -> complete rate. A figure, not a test.
 *
 *   queue_throughput --db LOCATION [--jobs N] [--claimers K] [--batch B] [--threads]
 *                    [--async-submit] [--default-malloc] [--separate-claims]
 *
 * --async-submit commits the submits (PostgreSQL) without waiting for the
 * disk: the claim phase, which is what is measured, is unchanged.
 *
 * The process keeps freed memory as the master does (master.c: mallopt
 * M_TRIM_THRESHOLD 32 MiB, M_MMAP_THRESHOLD 8 MiB), instead of glibc's
 * default of handing the top of the heap back to the kernel after every
 * result (a TLB shoot-down each time: 8% of a SQLite run's CPU);
 * --default-malloc keeps glibc's defaults.
 *
 * A claimer works as a worker's slot does: it claims once, then sends
 * each result with the claim of its next job (store_job_complete_claim;
 * on PostgreSQL one transaction and round trip for both). With
 * --separate-claims every claim is its own call (store_job_claim_many), as
 * before that call existed.
 *
 * --batch B makes each claim lease up to B jobs (as a worker with B slots
 * would); every result is still its own durable transaction.
 *
 * LOCATION is a SQLite path or a postgresql:// URI (bench/run-queue starts
 * a throwaway PostgreSQL server). Jobs get a random sha256 prefix per run,
 * so runs do not absorb each other's jobs.
 *
 * Besides the wall-clock rate, it measures the CPU time the claim phase
 * cost — the claimers' own and, for a PostgreSQL server on this machine,
 * the server's: its postmaster and every process it started (backends,
 * WAL writer, autovacuum workers, also those that exited; from
 * /proc/PID/stat, which needs the right to read them, e.g. root; other
 * clusters on the machine are not counted) — and prints the rate the machine's cores could sustain
 * if they did nothing else: on a shared machine the wall-clock rate says
 * more about the neighbours than about the queue. */
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "store/queue.h"
#include "store/store.h"

#include <dirent.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <malloc.h>
#include <sys/resource.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *location;
static int njobs = 20000;
static int nclaimers = 8;
static int batch = 1;
static unsigned run_tag;
static bool async_submit;
static bool separate_claims;

/* A process's parent and CPU seconds (user + system; with children, also
 * those of its children that have exited and were waited for) from
 * /proc/PID/stat; false if it is gone. */
static bool proc_stat(long pid, long *ppid, double *cpu, double *children)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    long pp = 0;
    unsigned long ut = 0, st = 0;
    long cut = 0, cst = 0;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt
     * majflt cmajflt utime stime cutime cstime */
    if (!p || sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %ld %ld", &pp,
                     &ut, &st, &cut, &cst) != 5)
        return false;
    double tck = (double)sysconf(_SC_CLK_TCK);
    *ppid = pp;
    *cpu = (double)(ut + st) / tck;
    *children = (double)(cut + cst) / tck;
    return true;
}

/* The PID of the postmaster of the server at location (the parent of
 * this connection's backend), or -1. */
static long postmaster_of(const char *loc)
{
    PGconn *c = PQconnectdb(loc);
    long pm = -1;
    if (PQstatus(c) == CONNECTION_OK) {
        long backend = PQbackendPID(c), ppid;
        double cpu, ch;
        if (proc_stat(backend, &ppid, &cpu, &ch))
            pm = ppid;
    }
    PQfinish(c);
    return pm;
}

/* The server's WAL position in bytes, or -1: the WAL a phase wrote is a
 * measure of the work its writes did (row versions, index entries) that,
 * unlike CPU time, the machine's other load does not move. */
static double wal_bytes(const char *loc)
{
    PGconn *c = PQconnectdb(loc);
    double lsn = -1;
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, "SELECT pg_current_wal_lsn() - '0/0'");
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            lsn = strtod(PQgetvalue(r, 0, 0), NULL);
        PQclear(r);
    }
    PQfinish(c);
    return lsn;
}

/* CPU seconds of a PostgreSQL server on this machine: its postmaster and
 * every process it started (backends, WAL writer, checkpointer,
 * autovacuum), including those that have exited — and only those: other
 * clusters on a shared machine are not counted. */
static double server_cpu(long postmaster)
{
    double sum = 0, cpu, children;
    long ppid;
    if (proc_stat(postmaster, &ppid, &cpu, &children))
        sum += cpu + children;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid == postmaster)
            continue;
        if (proc_stat(pid, &ppid, &cpu, &children) && ppid == postmaster)
            sum += cpu;
    }
    if (d)
        closedir(d);
    return sum;
}

static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what, const pyti_error *err)
{
    fprintf(stderr, "queue_throughput: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

static void sha_of(int i, char out[65])
{
    snprintf(out, 65, "%08x%056x", run_tag, (unsigned)i);
}

static void random_hex(char *out, int n)
{
    unsigned char b[32];
    if (getrandom(b, (size_t)n / 2, 0) != n / 2)
        abort();
    for (int i = 0; i < n / 2; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* What a claimer reports: jobs done and its own CPU seconds. */
typedef struct claimer_report {
    long done;
    double cpu;
} claimer_report;

/* Claims and completes until nothing is left. With pipes (processes), it
 * waits for "go" before starting, sends its report on report_fd and keeps
 * its connection open until "close", so that the parent can read the CPU
 * time of its server backend. */
static claimer_report claim_loop(int index, int ready_fd, int go_fd, int report_fd, int close_fd)
{
    pyti_error err;
    pyti_store *s = store_open(location, &err);
    if (!s)
        die("open", &err);
    char wid[64];
    snprintf(wid, sizeof wid, "bench-%08x-%d", run_tag, index);
    store_worker_info w = {0};
    w.id = wid;
    if (store_worker_register(s, &w, &err) != PYTI_OK)
        die("register", &err);
    /* Prepare the statements before the clock starts, like a worker that
     * has been running for a while. */
    if (ready_fd >= 0) {
        char c = 'r';
        if (write(ready_fd, &c, 1) != 1 || read(go_fd, &c, 1) != 1)
            die("start barrier", NULL);
    }
    double cpu0 = self_cpu();
    long done = 0;
    store_lease *leases = xcalloc((size_t)batch, sizeof *leases);
    store_lease *next = xcalloc((size_t)batch, sizeof *next);
    size_t n = 0;
    if (store_job_claim_many(s, wid, 0, (size_t)batch, leases, &n, &err) != PYTI_OK)
        die("claim", &err);
    while (n > 0) {
        size_t got = 0;
        for (size_t k = 0; k < n; k++) {
            store_lease *lease = &leases[k];
            char rid[33];
            random_hex(rid, 32);
            json_t *r = json_pack(
                "{s:i, s:s, s:s, s:s, s:s, s:f, s:{s:s, s:s},"
                " s:{s:s, s:s, s:s, s:s, s:i, s:s},"
                " s:[{s:s, s:s, s:n, s:s, s:f, s:{}}], s:[], s:{s:s, s:s}, s:s}",
                "schema_version", 1, "id", rid, "pyti_version", "0.1.0", "created",
                "2026-11-25T10:00:00.000Z", "finished", "2026-11-25T10:00:00.001Z", "duration_s",
                0.001, "recipe", "name", "default", "file", "default.ini", "distribution", "name",
                json_string_value(json_object_get(lease->job, "name")), "version", "1.0",
                "filename", json_string_value(json_object_get(lease->job, "filename")), "sha256",
                json_string_value(json_object_get(lease->job, "sha256")), "size", 1, "kind",
                "sdist", "tasks", "name", "extract", "status", "passed", "reason", "started",
                "2026-11-25T10:00:00.000Z", "duration_s", 0.001, "data", "findings", "verdict",
                "quality", "ok", "safety", "unassessed", "outcome", "passed");
            store_result res;
            /* As a worker's slot: the last job's result asks for the next. */
            pyti_status rc =
                k == n - 1 && !separate_claims
                    ? store_job_complete_claim(s, lease->job_id, lease->attempt, r, &res, wid, 0,
                                               (size_t)batch, next, &got, &err)
                    : store_job_complete(s, lease->job_id, lease->attempt, r, &res, &err);
            if (rc != PYTI_OK)
                die("complete", &err);
            if (res != STORE_RESULT_STORED) {
                fprintf(stderr, "queue_throughput: job %lld: %s\n", lease->job_id,
                        store_result_name(res));
                exit(1);
            }
            json_decref(r);
            store_lease_clear(lease);
            done++;
        }
        if (separate_claims) {
            if (store_job_claim_many(s, wid, 0, (size_t)batch, leases, &n, &err) != PYTI_OK)
                die("claim", &err);
        } else {
            store_lease *t = leases;
            leases = next;
            next = t;
            n = got;
        }
    }
    free(next);
    free(leases);
    claimer_report rep = {done, self_cpu() - cpu0};
    if (report_fd >= 0) {
        char c;
        if (write(report_fd, &rep, sizeof rep) != sizeof rep || read(close_fd, &c, 1) != 1)
            die("report", NULL);
    }
    store_close(s);
    return rep;
}

/* Reads exactly n bytes from a claimer's pipe, giving up (exit 1) as soon
 * as a claimer has died: the other claimers keep the pipe open, so its
 * end would never come. */
static void read_from_claimers(int fd, void *buf, size_t n, const char *what)
{
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 200) > 0) {
            if (read(fd, buf, n) != (ssize_t)n)
                die(what, NULL);
            return;
        }
        int st;
        pid_t dead = waitpid(-1, &st, WNOHANG);
        if (dead > 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
            die("a claimer failed", NULL);
    }
}

typedef struct thread_arg {
    int index;
    long done;
} thread_arg;

static void *thread_main(void *p)
{
    thread_arg *a = p;
    a->done = claim_loop(a->index, -1, -1, -1, -1).done;
    return NULL;
}

int main(int argc, char **argv)
{
    bool threads = false, default_malloc = false;
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"jobs", required_argument, NULL, 'n'},
        {"claimers", required_argument, NULL, 'k'},
        {"threads", no_argument, NULL, 't'},
        {"batch", required_argument, NULL, 'b'},
        {"async-submit", no_argument, NULL, 'a'},
        {"default-malloc", no_argument, NULL, 'm'},
        {"separate-claims", no_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': location = optarg; break;
        case 'n': njobs = atoi(optarg); break;
        case 'k': nclaimers = atoi(optarg); break;
        case 't': threads = true; break;
        case 'b': batch = atoi(optarg); break;
        case 'a': async_submit = true; break;
        case 'm': default_malloc = true; break;
        case 's': separate_claims = true; break;
        default:
            fprintf(stderr, "usage: queue_throughput --db LOCATION [--jobs N] [--claimers K]"
                            " [--batch B] [--threads] [--async-submit] [--default-malloc]"
                            " [--separate-claims]\n");
            return 2;
        }
    }
    if (!location || njobs < 1 || nclaimers < 1 || nclaimers > 256 || batch < 1 ||
        batch > STORE_CLAIM_MAX) {
        fprintf(stderr, "usage: queue_throughput --db LOCATION [--jobs N] [--claimers K]"
                        " [--batch B] [--threads] [--async-submit] [--default-malloc]"
                        " [--separate-claims]\n");
        return 2;
    }
    /* As the master (master.c); inherited by the claimer processes. */
    if (!default_malloc) {
        mallopt(M_TRIM_THRESHOLD, 32 << 20);
        mallopt(M_MMAP_THRESHOLD, 8 << 20);
    }
    if (getrandom(&run_tag, sizeof run_tag, 0) != sizeof run_tag)
        abort();

    pyti_error err;
    /* --async-submit: the submitting connection (only) commits without
     * waiting for the disk, so that a run does not spend most of its time
     * on N fsync'd submits before the phase it measures. */
    bool pg = strncmp(location, "postgres", 8) == 0;
    char *submit_location =
        async_submit && pg
            ? xasprintf("%s%coptions=-csynchronous_commit%%3Doff", location,
                        strchr(location, '?') ? '&' : '?')
            : xstrdup(location);
    pyti_store *s = store_open(submit_location, &err);
    free(submit_location);
    if (!s)
        die("open", &err);
    printf("backend %s, %d jobs, %d claimer %s, up to %d per claim%s\n", store_backend(s), njobs,
           nclaimers, threads ? "threads" : "processes", batch,
           separate_claims ? ", claims separate from results" : ", the next claim with each result");
    double t0 = time_monotonic();
    for (int i = 0; i < njobs; i++) {
        char sha[65], name[32], file[64], url[128];
        sha_of(i, sha);
        snprintf(name, sizeof name, "bench%d", i % 500);
        snprintf(file, sizeof file, "bench%d-1.0-%d.tar.gz", i % 500, i);
        snprintf(url, sizeof url, "https://files.example/%s", file);
        store_job_spec sp;
        store_job_spec_init(&sp);
        sp.name = name;
        sp.version = "1.0";
        sp.filename = file;
        sp.url = url;
        sp.sha256 = sha;
        sp.size = 100;
        sp.created_by = "api";
        if (store_job_submit(s, &sp, NULL, NULL, &err) != PYTI_OK)
            die("submit", &err);
    }
    double t1 = time_monotonic();
    store_close(s);
    printf("submit: %d jobs in %.2f s = %.0f jobs/s (one connection%s)\n", njobs, t1 - t0,
           njobs / (t1 - t0), async_submit && pg ? ", synchronous_commit off" : "");
    fflush(stdout);

    long total = 0;
    double t2, t3, cpu_client = 0, cpu_server = 0;
    bool cpu_known = false;
    double wal0 = -1, wal1 = -1;
    if (threads) {
        pthread_t *th = xcalloc((size_t)nclaimers, sizeof *th);
        thread_arg *args = xcalloc((size_t)nclaimers, sizeof *args);
        t2 = time_monotonic();
        for (int i = 0; i < nclaimers; i++) {
            args[i].index = i;
            pthread_create(&th[i], NULL, thread_main, &args[i]);
        }
        for (int i = 0; i < nclaimers; i++) {
            pthread_join(th[i], NULL);
            total += args[i].done;
        }
        t3 = time_monotonic();
        free(th);
        free(args);
    } else {
        int ready[2], go[2], counts[2], closing[2];
        if (pipe(ready) || pipe(go) || pipe(counts) || pipe(closing))
            die("pipe", NULL);
        pid_t *pids = xcalloc((size_t)nclaimers, sizeof *pids);
        for (int i = 0; i < nclaimers; i++) {
            pids[i] = fork();
            if (pids[i] == 0) {
                claim_loop(i, ready[1], go[0], counts[1], closing[0]);
                _exit(0);
            }
        }
        for (int i = 0; i < nclaimers; i++) {
            char ch;
            read_from_claimers(ready[0], &ch, 1, "barrier");
        }
        long postmaster = pg ? postmaster_of(location) : -1;
        wal0 = pg ? wal_bytes(location) : -1;
        double srv0 = postmaster > 0 ? server_cpu(postmaster) : 0;
        t2 = time_monotonic();
        for (int i = 0; i < nclaimers; i++)
            if (write(go[1], "g", 1) != 1)
                die("barrier", NULL);
        double client_cpu = 0;
        for (int i = 0; i < nclaimers; i++) {
            claimer_report rep;
            read_from_claimers(counts[0], &rep, sizeof rep, "a claimer failed");
            total += rep.done;
            client_cpu += rep.cpu;
        }
        t3 = time_monotonic();
        double srv = postmaster > 0 ? server_cpu(postmaster) - srv0 : 0;
        wal1 = pg ? wal_bytes(location) : -1;
        for (int i = 0; i < nclaimers; i++)
            if (write(closing[1], "c", 1) != 1)
                die("barrier", NULL);
        for (int i = 0; i < nclaimers; i++) {
            int st;
            waitpid(pids[i], &st, 0);
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                die("a claimer failed", NULL);
        }
        free(pids);
        cpu_client = client_cpu;
        cpu_server = srv;
        cpu_known = !pg || srv > 0;
    }
    if (total != njobs) {
        fprintf(stderr, "queue_throughput: %ld jobs completed, expected %d\n", total, njobs);
        return 1;
    }
    printf("claim->complete: %ld jobs in %.2f s = %.0f jobs/s (%d claimers)\n", total, t3 - t2,
           total / (t3 - t2), nclaimers);
    if (cpu_known) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        double per_job = (cpu_client + cpu_server) / (double)total;
        printf("cpu: %.0f us per job (claimers %.0f us, server %.0f us); %ld idle cores could do"
               " %.0f jobs/s\n",
               per_job * 1e6, cpu_client / (double)total * 1e6, cpu_server / (double)total * 1e6,
               ncpu, (double)ncpu / per_job);
    } else if (!threads) {
        printf("cpu: the server's CPU time was not readable (run as root next to it)\n");
    }
    if (wal0 >= 0 && wal1 >= wal0)
        printf("wal: %.0f bytes per job\n", (wal1 - wal0) / (double)total);
    return 0;
}
