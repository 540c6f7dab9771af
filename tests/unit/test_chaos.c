/* test_chaos.c — the store-level chaos test, on both backends: N jobs,
 * several claimer processes (each with its own connection) that claim,
 * "work", sometimes hit infrastructure errors and complete; the test kills
 * claimers with SIGKILL at random moments while they hold leases, starts
 * new ones, and closes and reopens its own handle along the way. In the
 * end every job is done exactly once: one result each, none lost, none
 * stored twice, every attempt ended.
 *
 * Small in CI; PYTI_CHAOS_JOBS, PYTI_CHAOS_CLAIMERS and PYTI_CHAOS_KILLS
 * make it bigger. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "store_support.h"
#include "support.h"

#include "common/jsonutil.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAX_JOBS = 4096, MAX_CLAIMERS = 32 };

/* Shared between the test and its claimers (MAP_SHARED). */
typedef struct chaos_shared {
    long long base_id;                  /* id of the first job */
    volatile long long holding[MAX_CLAIMERS]; /* job a claimer holds now, 0 if none */
    int stored[MAX_JOBS];               /* STORED answers per job (atomic) */
    int completions;                    /* complete calls answered (atomic) */
    int infra_errors;                   /* fail(retryable) calls (atomic) */
} chaos_shared;

static int env_int(const char *name, int dflt, int max)
{
    const char *v = getenv(name);
    int n = v ? atoi(v) : dflt;
    return n < 1 ? dflt : n > max ? max : n;
}

static void queue_options(pyti_store *s)
{
    store_queue_options o;
    store_queue_options_default(&o);
    o.lease_ms = 400;
    o.backoff_base_ms = 20;
    o.backoff_max_ms = 200;
    o.max_attempts = 100; /* kills are infrastructure failures; never give up here */
    o.reap_interval_ms = 100;
    store_set_queue_options(s, &o);
}

static void msleep(int ms)
{
    usleep((useconds_t)ms * 1000);
}

/* One claimer process: never returns. */
static void claimer(const char *loc, int slot, chaos_shared *sh)
{
    srand((unsigned)getpid() ^ (unsigned)(unsigned long long)(time_monotonic() * 1e6));
    pyti_error err;
    pyti_store *s = store_open(loc, &err);
    if (!s) {
        fprintf(stderr, "claimer %d: %s\n", slot, err.msg);
        _exit(2);
    }
    queue_options(s);
    char id[64];
    snprintf(id, sizeof id, "chaos-%d-%d", slot, (int)getpid());
    store_worker_info w = {0};
    w.id = id;
    if (store_worker_register(s, &w, &err) != PYTI_OK) {
        fprintf(stderr, "claimer %d: %s\n", slot, err.msg);
        _exit(2);
    }
    for (;;) {
        store_lease lease;
        bool claimed;
        if (store_job_claim(s, id, 0, &lease, &claimed, &err) != PYTI_OK) {
            fprintf(stderr, "claimer %d: claim: %s\n", slot, err.msg);
            _exit(2);
        }
        if (!claimed) {
            store_metrics m;
            if (store_metrics_get(s, 60, &m, &err) == PYTI_OK &&
                m.jobs[STORE_JOB_QUEUED] + m.jobs[STORE_JOB_LEASED] + m.jobs[STORE_JOB_RUNNING] ==
                    0)
                break;
            msleep(10);
            continue;
        }
        sh->holding[slot] = lease.job_id;
        store_lease_state ls;
        store_job_start(s, lease.job_id, lease.attempt, 0, &ls, &err);
        msleep(5 + rand() % 40); /* the work */
        if (rand() % 8 == 0) {
            store_result res;
            if (store_job_fail(s, lease.job_id, lease.attempt, true, "chaos: infrastructure",
                               &res, &err) != PYTI_OK) {
                fprintf(stderr, "claimer %d: fail: %s\n", slot, err.msg);
                _exit(2);
            }
            __atomic_fetch_add(&sh->infra_errors, 1, __ATOMIC_SEQ_CST);
        } else {
            char rid[33];
            t_report_id(rid);
            json_t *job = lease.job;
            json_t *r = t_report(rid, json_get_str(job, "name"), json_get_str(job, "version"),
                                 json_get_str(job, "sha256"), rand() % 3 ? "passed" : "failed",
                                 "2026-11-25T10:00:00.000Z", NULL);
            store_result res;
            if (store_job_complete(s, lease.job_id, lease.attempt, r, &res, &err) != PYTI_OK) {
                fprintf(stderr, "claimer %d: complete: %s\n", slot, err.msg);
                _exit(2);
            }
            json_decref(r);
            if (res == STORE_RESULT_STORED)
                __atomic_fetch_add(&sh->stored[lease.job_id - sh->base_id], 1, __ATOMIC_SEQ_CST);
            __atomic_fetch_add(&sh->completions, 1, __ATOMIC_SEQ_CST);
        }
        sh->holding[slot] = 0;
        store_lease_clear(&lease);
    }
    store_close(s);
    _exit(0);
}

static pid_t spawn(const char *loc, int slot, chaos_shared *sh)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork failed");
    if (pid == 0)
        claimer(loc, slot, sh);
    return pid;
}

static void test_chaos(void **state)
{
    int njobs = env_int("PYTI_CHAOS_JOBS", 40, MAX_JOBS);
    int nclaimers = env_int("PYTI_CHAOS_CLAIMERS", 4, MAX_CLAIMERS);
    int nkills = env_int("PYTI_CHAOS_KILLS", 10, 100000);
    char *loc;
    pyti_store *s = t_store_fresh(state, &loc);
    queue_options(s);
    chaos_shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                            -1, 0);
    assert_true(sh != MAP_FAILED);
    memset(sh, 0, sizeof *sh);
    long long ids[MAX_JOBS];
    for (int i = 0; i < njobs; i++) {
        store_job_spec sp;
        t_spec(&sp, 5000 + (unsigned)i);
        pyti_error err;
        if (store_job_submit(s, &sp, &ids[i], NULL, &err) != PYTI_OK)
            fail_msg("submit: %s", err.msg);
        assert_int_equal(ids[i], ids[0] + i);
    }
    sh->base_id = ids[0];
    /* Never carry an open connection across fork. */
    store_close(s);
    s = NULL;

    pid_t pids[MAX_CLAIMERS];
    for (int i = 0; i < nclaimers; i++)
        pids[i] = spawn(loc, i, sh);
    int kills = 0, lease_kills = 0, reopens = 0;
    double start = time_monotonic(), last_reopen = start;
    bool finished = false;
    while (time_monotonic() - start < 240) {
        msleep(20 + rand() % 60);
        /* Kill a claimer that holds a lease (or any, if none does). */
        if (kills < nkills) {
            int victim = -1;
            for (int k = 0; k < nclaimers && victim < 0; k++) {
                int i = (rand() + k) % nclaimers;
                if (sh->holding[i])
                    victim = i;
            }
            if (victim < 0)
                victim = rand() % nclaimers;
            if (sh->holding[victim])
                lease_kills++;
            kill(pids[victim], SIGKILL);
            int st;
            waitpid(pids[victim], &st, 0);
            sh->holding[victim] = 0;
            kills++;
            pids[victim] = spawn(loc, victim, sh);
        }
        /* Close and reopen our own handle now and then, and look. */
        if (time_monotonic() - last_reopen > 0.3) {
            s = t_store_open(loc);
            queue_options(s);
            store_metrics m;
            pyti_error err;
            if (store_metrics_get(s, 3600, &m, &err) != PYTI_OK)
                fail_msg("metrics: %s", err.msg);
            store_close(s);
            s = NULL;
            reopens++;
            last_reopen = time_monotonic();
            if (kills >= nkills && m.jobs[STORE_JOB_DONE] == njobs) {
                finished = true;
                break;
            }
        }
    }
    /* The claimers leave by themselves once nothing is left. */
    for (int i = 0; i < nclaimers; i++) {
        int st = 0;
        double t0 = time_monotonic();
        pid_t r;
        while ((r = waitpid(pids[i], &st, WNOHANG)) == 0 && time_monotonic() - t0 < 20)
            msleep(20);
        if (r == 0) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], &st, 0);
            fail_msg("claimer %d did not finish", i);
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            fail_msg("claimer %d ended with status %d", i, st);
    }
    if (!finished)
        fail_msg("not every job was done after 240 s");

    /* Every job done exactly once. */
    s = t_store_open(loc);
    pyti_error err;
    assert_int_equal(store_count_reports(s, &err), njobs);
    int expired = 0;
    for (int i = 0; i < njobs; i++) {
        json_t *j = store_job_get(s, ids[i], &err);
        if (!j)
            fail_msg("job %lld: %s", ids[i], err.msg);
        if (strcmp(json_get_str(j, "state"), "done") != 0)
            fail_msg("job %lld is %s", ids[i], json_get_str(j, "state"));
        const char *rid = json_get_str(j, "report_id");
        assert_non_null(rid);
        json_t *hist = json_object_get(j, "attempt_history");
        int done = 0;
        for (size_t a = 0; a < json_array_size(hist); a++) {
            json_t *at = json_array_get(hist, a);
            const char *outcome = json_get_str(at, "outcome");
            if (!outcome || json_is_null(json_object_get(at, "ended")))
                fail_msg("job %lld attempt %zu never ended", ids[i], a + 1);
            if (strcmp(outcome, "done") == 0) {
                done++;
                assert_string_equal(json_get_str(at, "report_id"), rid);
            }
            expired += strcmp(outcome, "expired") == 0;
        }
        if (done != 1)
            fail_msg("job %lld has %d attempts done", ids[i], done);
        if (sh->stored[i] > 1)
            fail_msg("job %lld was stored %d times", ids[i], sh->stored[i]);
        json_t *rep = store_get_report(s, rid, &err);
        assert_non_null(rep);
        json_decref(rep);
        json_decref(j);
    }
    /* The kills happened while leases were held, and were survived. */
    assert_true(lease_kills > 0);
    assert_true(expired > 0);
    print_message("chaos[%s]: %d jobs, %d claimers, %d kills (%d holding a lease), %d leases "
                  "expired, %d infrastructure errors, %d reopens, %.1f s\n",
                  store_backend(s), njobs, nclaimers, kills, lease_kills, expired,
                  sh->infra_errors, reopens, time_monotonic() - start);
    store_close(s);
    munmap(sh, sizeof *sh);
    free(loc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T_BOTH(test_chaos),
    };
    return cmocka_run_group_tests_name("chaos", tests, NULL, NULL);
}
