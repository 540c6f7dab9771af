/* test_queue.c — the job queue (src/store/queue.h) on both backends:
 * submit and its idempotency, claims (order, atomicity under concurrent
 * claimers, matching from both sides), leases (heartbeat, expiry,
 * requeue), results stored exactly once (duplicates, late results from
 * expired leases), infrastructure retries with backoff up to the limit,
 * package failures never retried, cancel and retry, workers, feed
 * cursors, logs and metrics. Each test runs on SQLite and PostgreSQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "store_support.h"
#include "support.h"

#include "common/jsonutil.h"
#include "common/strv.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static long long submit_spec(pyti_store *s, const store_job_spec *sp, bool *created)
{
    pyti_error err;
    long long id = 0;
    bool made = false;
    if (store_job_submit(s, sp, &id, &made, &err) != PYTI_OK)
        fail_msg("submit %s: %s", sp->filename, err.msg);
    if (created)
        *created = made;
    return id;
}

static long long submit(pyti_store *s, unsigned n)
{
    store_job_spec sp;
    t_spec(&sp, n);
    return submit_spec(s, &sp, NULL);
}

/* Claims and returns the job id (0 if nothing); *attempt gets the attempt. */
static long long claim(pyti_store *s, const char *worker, int *attempt)
{
    pyti_error err;
    store_lease lease;
    bool claimed = false;
    if (store_job_claim(s, worker, 0, &lease, &claimed, &err) != PYTI_OK)
        fail_msg("claim by %s: %s", worker, err.msg);
    if (!claimed)
        return 0;
    if (attempt)
        *attempt = lease.attempt;
    long long id = lease.job_id;
    assert_int_equal(json_integer_value(json_object_get(lease.job, "id")), id);
    store_lease_clear(&lease);
    return id;
}

static json_t *job(pyti_store *s, long long id)
{
    pyti_error err;
    json_t *j = store_job_get(s, id, &err);
    if (!j)
        fail_msg("job %lld: %s", id, err.msg);
    return j;
}

static void assert_state(pyti_store *s, long long id, const char *state)
{
    json_t *j = job(s, id);
    if (strcmp(json_get_str(j, "state"), state) != 0)
        fail_msg("job %lld is %s, expected %s", id, json_get_str(j, "state"), state);
    json_decref(j);
}

static store_result complete(pyti_store *s, long long id, int attempt, unsigned n,
                             const char *outcome, char *report_id_out)
{
    char rid[33], sha[65];
    t_report_id(rid);
    t_sha(n, sha);
    char name[32];
    snprintf(name, sizeof name, "demo-%u", n);
    json_t *r = t_report(rid, name, "1.0", sha, outcome, "2026-11-25T10:00:00.000Z", NULL);
    store_result res;
    pyti_error err;
    if (store_job_complete(s, id, attempt, r, &res, &err) != PYTI_OK)
        fail_msg("complete job %lld attempt %d: %s", id, attempt, err.msg);
    json_decref(r);
    if (report_id_out)
        memcpy(report_id_out, rid, 33);
    return res;
}

static store_lease_state heartbeat(pyti_store *s, long long id, int attempt)
{
    store_lease_state st;
    pyti_error err;
    if (store_job_heartbeat(s, id, attempt, 0, &st, &err) != PYTI_OK)
        fail_msg("heartbeat job %lld attempt %d: %s", id, attempt, err.msg);
    return st;
}

static void set_clock(pyti_store *s, long long offset_ms)
{
    pyti_error err;
    if (store_debug_clock_offset(s, offset_ms, &err) != PYTI_OK)
        fail_msg("clock offset: %s", err.msg);
}

static void reap(pyti_store *s, long long want_requeued, long long want_failed)
{
    long long rq = -1, fl = -1;
    pyti_error err;
    if (store_reap_expired(s, &rq, &fl, &err) != PYTI_OK)
        fail_msg("reap: %s", err.msg);
    assert_int_equal(rq, want_requeued);
    assert_int_equal(fl, want_failed);
}

/* How many jobs a listing finds (state, project, worker: NULL for any),
 * checking that each matches and that they come newest first. */
static long long list_count(pyti_store *s, const char *project, const char *state,
                            const char *worker)
{
    store_job_filter f = {0};
    f.project = project;
    f.state = state;
    f.worker = worker;
    pyti_error err;
    json_t *arr = store_jobs_list(s, &f, &err);
    if (!arr)
        fail_msg("list: %s", err.msg);
    long long n = (long long)json_array_size(arr);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *j = json_array_get(arr, i);
        if (state)
            assert_string_equal(json_get_str(j, "state"), state);
        if (project) { /* the PEP 503 name of what was asked */
            char want[64];
            snprintf(want, sizeof want, "%s", project);
            for (char *c = want; *c; c++)
                *c = *c == '.' || *c == '_' ? '-' : (char)tolower((unsigned char)*c);
            assert_string_equal(json_get_str(j, "project"), want);
        }
        if (i > 0) /* newest first */
            assert_true(json_integer_value(json_object_get(j, "id")) <
                        json_integer_value(json_object_get(json_array_get(arr, i - 1), "id")));
    }
    /* The API's writer gives the text of the same list dumped as the API
     * dumps it, in whatever states the tests leave the jobs. */
    char *dumped = json_dumps(arr, JSON_INDENT(1) | JSON_SORT_KEYS);
    pyti_buf b = PYTI_BUF_INIT;
    json_writer w;
    jw_init(&w, &b, 1);
    size_t count;
    long long last;
    if (store_jobs_list_write(s, &f, &w, &count, &last, &err) != PYTI_OK)
        fail_msg("list (writer): %s", err.msg);
    assert_string_equal(buf_cstr(&b), dumped);
    assert_int_equal(count, (size_t)n);
    assert_int_equal(last, n ? json_integer_value(json_object_get(json_array_get(arr, n - 1), "id"))
                              : 0);
    buf_free(&b);
    free(dumped);
    json_decref(arr);
    return n;
}

static long long count_jobs(pyti_store *s, const char *state)
{
    return list_count(s, NULL, state, NULL);
}

/* ---- submit ---- */

static void test_submit_get_list(void **state)
{
    char *loc;
    pyti_store *s = t_store_fresh(state, &loc);
    store_job_spec sp;
    t_spec(&sp, 1);
    pyti_strv tags = PYTI_STRV_INIT, py = PYTI_STRV_INIT;
    strv_push(&tags, "gpu");
    strv_push(&py, "3.11.4");
    sp.tags = &tags;
    sp.pythons = &py;
    sp.arch = "x86_64";
    sp.python = ">=3.9";
    sp.priority = 5;
    sp.created_by = "feed";
    bool created = false;
    long long id = submit_spec(s, &sp, &created);
    assert_true(created);
    assert_true(id > 0);
    json_t *j = job(s, id);
    assert_string_equal(json_get_str(j, "state"), "queued");
    assert_string_equal(json_get_str(j, "project"), "demo-1");
    assert_string_equal(json_get_str(j, "sha256"), sp.sha256);
    assert_string_equal(json_get_str(j, "python"), ">=3.9");
    assert_string_equal(json_get_str(j, "recipe"), "default");
    assert_string_equal(json_get_str(j, "created_by"), "feed");
    assert_int_equal(json_integer_value(json_object_get(j, "priority")), 5);
    assert_int_equal(json_integer_value(json_object_get(j, "size")), 1001);
    assert_int_equal(json_integer_value(json_object_get(j, "max_attempts")), 3);
    json_t *req = json_object_get(j, "requirements");
    assert_string_equal(json_get_str(req, "arch"), "x86_64");
    assert_string_equal(json_string_value(json_array_get(json_object_get(req, "pythons"), 0)),
                        "3.11");
    assert_string_equal(json_string_value(json_array_get(json_object_get(req, "tags"), 0)), "gpu");
    assert_int_equal(json_array_size(json_object_get(j, "attempt_history")), 0);
    json_decref(j);

    /* Listing by state and project (any spelling). */
    assert_int_equal(count_jobs(s, "queued"), 1);
    assert_int_equal(count_jobs(s, "done"), 0);
    store_job_filter f = {0};
    f.project = "DEMO_1";
    pyti_error err;
    json_t *arr = store_jobs_list(s, &f, &err);
    assert_int_equal(json_array_size(arr), 1);
    json_decref(arr);
    f.project = NULL;
    f.state = "bogus";
    assert_null(store_jobs_list(s, &f, &err));
    assert_int_equal(err.code, PYTI_ERR_USAGE);
    assert_null(store_job_get(s, id + 100, &err));
    assert_int_equal(err.code, PYTI_ERR_NOTFOUND);

    /* The catalogue knows the file. */
    json_t *files = store_release_files(s, "demo-1", "1.0", &err);
    assert_int_equal(json_array_size(files), 1);
    assert_string_equal(json_get_str(json_array_get(files, 0), "kind"), "sdist");
    assert_string_equal(json_get_str(json_array_get(files, 0), "url"), sp.url);
    json_decref(files);
    strv_free(&tags);
    strv_free(&py);
    store_close(s);
    free(loc);
}

/* The writer copies a row's requirements from the row before when their
 * text is the same: rows whose requirements differ, alternate and repeat
 * still list as jansson dumps them, the same listing twice on a handle
 * (its statement cached), and with each filter shape. */
static void test_list_mixed_requirements(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    pyti_strv tags = PYTI_STRV_INIT, py = PYTI_STRV_INIT;
    strv_push(&tags, "gpu");
    strv_push(&py, "3.12");
    for (unsigned n = 1; n <= 7; n++) {
        store_job_spec sp;
        t_spec(&sp, 100 + n);
        if (n % 3 != 0) { /* two with, one without, ... */
            sp.tags = &tags;
            sp.arch = n % 2 ? "x86_64" : "aarch64";
        }
        if (n == 5)
            sp.pythons = &py;
        bool created;
        submit_spec(s, &sp, &created);
    }
    for (int round = 0; round < 2; round++) {
        assert_int_equal(count_jobs(s, NULL), 7);
        assert_int_equal(count_jobs(s, "queued"), 7);
        assert_int_equal(list_count(s, "demo-103", NULL, NULL), 1);
        assert_int_equal(list_count(s, "demo-104", "queued", NULL), 1);
    }
    strv_free(&tags);
    strv_free(&py);
    store_close(s);
}

static void test_submit_is_idempotent(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    t_fast_queue(s);
    t_worker(s, "w1", NULL, NULL, 0, "3.12", NULL);
    store_job_spec sp;
    t_spec(&sp, 7);
    sp.python = "3.12";
    bool created;
    long long a = submit_spec(s, &sp, &created);
    assert_true(created);
    /* Same sha256 + recipe + python (spelled differently) -> same job,
     * and a higher priority raises the queued job's. */
    sp.python = "==3.12.*";
    sp.priority = 9;
    sp.created_by = "upload";
    assert_int_equal(submit_spec(s, &sp, &created), a);
    assert_false(created);
    json_t *j = job(s, a);
    assert_int_equal(json_integer_value(json_object_get(j, "priority")), 9);
    json_decref(j);
    /* Another recipe or python is another job. */
    sp.recipe = "static";
    long long b = submit_spec(s, &sp, &created);
    assert_true(created);
    assert_true(b != a);
    sp.recipe = NULL;
    sp.python = "3.11";
    long long c = submit_spec(s, &sp, &created);
    assert_true(created);
    /* While leased and running, still the same job. */
    sp.python = "3.12";
    int attempt;
    assert_int_equal(claim(s, "w1", &attempt), a);
    assert_int_equal(submit_spec(s, &sp, &created), a);
    assert_false(created);
    /* Done: absorbed too, unless retest. */
    assert_int_equal(complete(s, a, attempt, 7, "passed", NULL), STORE_RESULT_STORED);
    assert_int_equal(submit_spec(s, &sp, &created), a);
    assert_false(created);
    sp.retest = true;
    long long d = submit_spec(s, &sp, &created);
    assert_true(created);
    assert_true(d != a && d != b && d != c);
    /* retest with a retest already queued: that one. */
    assert_int_equal(submit_spec(s, &sp, &created), d);
    assert_false(created);
    /* A cancelled job does not absorb a submit. */
    pyti_error err;
    assert_int_equal(store_job_cancel(s, d, NULL, &err), PYTI_OK);
    sp.retest = false;
    assert_int_equal(submit_spec(s, &sp, &created), a); /* the done one */
    sp.retest = true;
    long long e = submit_spec(s, &sp, &created);
    assert_true(created);
    assert_true(e != d);
    store_close(s);
}

typedef struct submit_arg {
    const char *loc;
    const store_job_spec *spec;
    long long id;
    int created;
} submit_arg;

static void *submit_thread(void *p)
{
    submit_arg *a = p;
    pyti_error err;
    pyti_store *s = store_open(a->loc, &err);
    if (!s)
        return NULL;
    bool created = false;
    if (store_job_submit(s, a->spec, &a->id, &created, &err) == PYTI_OK)
        a->created = created;
    else
        a->id = -1;
    store_close(s);
    return NULL;
}

static void test_concurrent_submits_make_one_job(void **state)
{
    char *loc;
    pyti_store *s = t_store_fresh(state, &loc);
    store_job_spec sp;
    t_spec(&sp, 42);
    enum { N = 6 };
    pthread_t th[N];
    submit_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (submit_arg){loc, &sp, 0, 0};
        pthread_create(&th[i], NULL, submit_thread, &args[i]);
    }
    int made = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_true(args[i].id > 0);
        assert_int_equal(args[i].id, args[0].id);
        made += args[i].created;
    }
    assert_int_equal(made, 1);
    assert_int_equal(count_jobs(s, NULL), 1);
    store_close(s);
    free(loc);
}

static void test_submit_refuses_bad_specs(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    pyti_error err;
    long long id;
    store_job_spec sp;
    struct {
        const char *field;
        const char *value;
        const char *expect;
    } cases[] = {
        {"sha256", "ABC", "sha256"},
        {"name", "-bad-", "name"},
        {"python", ">=4.0", "matches no Python"},
        {"python", "~=bogus", "python requirement"},
        {"created_by", "robot", "created_by"},
        {"arch", "x86 64", "arch"},
        {"url", NULL, "url or a path"},
        {"filename", "a/b.tar.gz", "filename"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        t_spec(&sp, 3);
        if (strcmp(cases[i].field, "sha256") == 0)
            sp.sha256 = cases[i].value;
        else if (strcmp(cases[i].field, "name") == 0)
            sp.name = cases[i].value;
        else if (strcmp(cases[i].field, "python") == 0)
            sp.python = cases[i].value;
        else if (strcmp(cases[i].field, "created_by") == 0)
            sp.created_by = cases[i].value;
        else if (strcmp(cases[i].field, "arch") == 0)
            sp.arch = cases[i].value;
        else if (strcmp(cases[i].field, "url") == 0)
            sp.url = cases[i].value;
        else if (strcmp(cases[i].field, "filename") == 0)
            sp.filename = cases[i].value;
        assert_int_equal(store_job_submit(s, &sp, &id, NULL, &err), PYTI_ERR_USAGE);
        if (!strstr(err.msg, cases[i].expect))
            fail_msg("case %zu: '%s' does not mention '%s'", i, err.msg, cases[i].expect);
    }
    pyti_strv tags = PYTI_STRV_INIT;
    strv_push(&tags, "bad tag");
    t_spec(&sp, 3);
    sp.tags = &tags;
    assert_int_equal(store_job_submit(s, &sp, &id, NULL, &err), PYTI_ERR_USAGE);
    strv_free(&tags);
    assert_int_equal(count_jobs(s, NULL), 0);
    store_close(s);
}

static void test_spec_from_json(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:b,"
                          " s:{s:s, s:i, s:[s], s:[s]}}",
                          "name", "Foo", "version", "2.0", "filename", "foo-2.0.tar.gz", "path",
                          "/srv/drop/foo-2.0.tar.gz", "sha256",
                          "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                          "size", 10, "recipe", "static", "created_by", "upload", "priority", 3,
                          "retest", 0, "requirements", "os", "linux", "memory_mb", 512, "pythons",
                          "3.12", "tags", "net");
    store_job_spec sp;
    pyti_strv py = PYTI_STRV_INIT, tg = PYTI_STRV_INIT;
    pyti_error err;
    assert_int_equal(store_job_spec_from_json(j, &sp, &py, &tg, &err), PYTI_OK);
    assert_string_equal(sp.os, "linux");
    assert_int_equal(sp.memory_mb, 512);
    long long id;
    assert_int_equal(store_job_submit(s, &sp, &id, NULL, &err), PYTI_OK);
    json_t *got = job(s, id);
    assert_string_equal(json_get_str(got, "path"), "/srv/drop/foo-2.0.tar.gz");
    assert_string_equal(json_get_str(got, "created_by"), "upload");
    json_decref(got);
    json_object_set_new(j, "size", json_string("ten"));
    strv_free(&py);
    strv_free(&tg);
    assert_int_equal(store_job_spec_from_json(j, &sp, &py, &tg, &err), PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "size"));
    strv_free(&py);
    strv_free(&tg);
    json_decref(j);
    store_close(s);
}

/* ---- claim ---- */

static void test_claim_order_and_attempts(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    t_fast_queue(s);
    pyti_error err;
    store_lease lease;
    bool claimed;
    /* An unregistered worker is told so. */
    assert_int_equal(store_job_claim(s, "nobody", 0, &lease, &claimed, &err), PYTI_ERR_NOTFOUND);
    t_worker(s, "w1", NULL, NULL, 0, NULL, NULL);
    assert_int_equal(claim(s, "w1", NULL), 0);
    long long ids[4];
    int prio[4] = {0, 10, 0, 10};
    for (int i = 0; i < 4; i++) {
        store_job_spec sp;
        t_spec(&sp, 100 + (unsigned)i);
        sp.priority = prio[i];
        ids[i] = submit_spec(s, &sp, NULL);
    }
    /* Highest priority first, then oldest. */
    long long want[4] = {ids[1], ids[3], ids[0], ids[2]};
    for (int i = 0; i < 4; i++) {
        int attempt = 0;
        assert_int_equal(claim(s, "w1", &attempt), want[i]);
        assert_int_equal(attempt, 1);
        assert_state(s, want[i], "leased");
    }
    assert_int_equal(claim(s, "w1", NULL), 0);
    json_t *j = job(s, ids[1]);
    assert_string_equal(json_get_str(j, "worker"), "w1");
    assert_int_equal(json_integer_value(json_object_get(j, "attempts")), 1);
    json_t *hist = json_object_get(j, "attempt_history");
    assert_int_equal(json_array_size(hist), 1);
    assert_string_equal(json_get_str(json_array_get(hist, 0), "worker"), "w1");
    assert_true(json_is_null(json_object_get(json_array_get(hist, 0), "ended")));
    json_decref(j);
    /* start marks it running; a draining worker gets nothing. */
    store_lease_state ls;
    assert_int_equal(store_job_start(s, ids[1], 1, 0, &ls, &err), PYTI_OK);
    assert_int_equal(ls, STORE_LEASE_OK);
    assert_state(s, ids[1], "running");
    assert_int_equal(store_job_start(s, ids[1], 2, 0, &ls, &err), PYTI_ERR_NOTFOUND);
    submit(s, 200);
    assert_int_equal(store_worker_heartbeat(s, "w1", "draining", &err), PYTI_OK);
    assert_int_equal(claim(s, "w1", NULL), 0);
    assert_int_equal(store_worker_heartbeat(s, "w1", "busy", &err), PYTI_OK);
    assert_true(claim(s, "w1", NULL) > 0);
    store_close(s);
}

static void test_claim_many(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    t_fast_queue(s);
    t_worker(s, "w", NULL, NULL, 0, NULL, NULL);
    store_lease leases[STORE_CLAIM_MAX];
    size_t n = 99;
    pyti_error err;
    /* Planned on an empty queue first (a plan PostgreSQL keeps). */
    assert_int_equal(store_job_claim_many(s, "w", 0, 4, leases, &n, &err), PYTI_OK);
    assert_int_equal(n, 0);
    long long ids[5];
    int prio[5] = {1, 5, 1, 5, 0};
    for (int i = 0; i < 5; i++) {
        store_job_spec sp;
        t_spec(&sp, 300 + (unsigned)i);
        sp.priority = prio[i];
        ids[i] = submit_spec(s, &sp, NULL);
    }
    assert_int_equal(store_job_claim_many(s, "w", 0, 3, leases, &n, &err), PYTI_OK);
    assert_int_equal(n, 3);
    /* Best first: priority 5 (oldest first), then 1. */
    assert_int_equal(leases[0].job_id, ids[1]);
    assert_int_equal(leases[1].job_id, ids[3]);
    assert_int_equal(leases[2].job_id, ids[0]);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(leases[i].attempt, 1);
        assert_int_equal(json_integer_value(json_object_get(leases[i].job, "id")), leases[i].job_id);
        assert_string_equal(json_get_str(leases[i].job, "state"), "leased");
        json_t *j = job(s, leases[i].job_id);
        assert_int_equal(json_array_size(json_object_get(j, "attempt_history")), 1);
        json_decref(j);
        store_lease_clear(&leases[i]);
    }
    assert_int_equal(store_job_claim_many(s, "w", 0, STORE_CLAIM_MAX, leases, &n, &err), PYTI_OK);
    assert_int_equal(n, 2);
    assert_int_equal(leases[0].job_id, ids[2]);
    assert_int_equal(leases[1].job_id, ids[4]);
    store_lease_clear(&leases[0]);
    store_lease_clear(&leases[1]);
    assert_int_equal(store_job_claim_many(s, "w", 0, 2, leases, &n, &err), PYTI_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_job_claim_many(s, "w", 0, 0, leases, &n, &err), PYTI_ERR_USAGE);
    assert_int_equal(store_job_claim_many(s, "w", 0, STORE_CLAIM_MAX + 1, leases, &n, &err),
                     PYTI_ERR_USAGE);
    assert_int_equal(store_job_claim_many(s, "nobody", 0, 2, leases, &n, &err), PYTI_ERR_NOTFOUND);
    store_close(s);
}

typedef struct claimer {
    const char *loc;
    int index;
    size_t batch;
    long long got[512];
    int ngot;
    int failed;
} claimer;

static void *claimer_thread(void *p)
{
    claimer *c = p;
    pyti_error err;
    pyti_store *s = store_open(c->loc, &err);
    if (!s) {
        c->failed = 1;
        return NULL;
    }
    char id[32];
    snprintf(id, sizeof id, "thread-%d", c->index);
    store_worker_info w = {0};
    w.id = id;
    if (store_worker_register(s, &w, &err) != PYTI_OK) {
        c->failed = 1;
        store_close(s);
        return NULL;
    }
    for (;;) {
        store_lease leases[8];
        size_t n = 0;
        if (store_job_claim_many(s, id, 0, c->batch, leases, &n, &err) != PYTI_OK) {
            fprintf(stderr, "claimer %d: %s\n", c->index, err.msg);
            c->failed = 1;
            break;
        }
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++) {
            if (c->ngot < 512)
                c->got[c->ngot++] = leases[i].job_id;
            store_lease_clear(&leases[i]);
        }
    }
    store_close(s);
    return NULL;
}

static void concurrent_claimers(void **state, size_t batch)
{
    char *loc;
    pyti_store *s = t_store_fresh(state, &loc);
    enum { JOBS = 300, THREADS = 6 };
    long long ids[JOBS];
    for (int i = 0; i < JOBS; i++)
        ids[i] = submit(s, 1000 + (unsigned)i);
    pthread_t th[THREADS];
    claimer *cs = xcalloc(THREADS, sizeof *cs);
    for (int i = 0; i < THREADS; i++) {
        cs[i].loc = loc;
        cs[i].index = i;
        cs[i].batch = batch;
        pthread_create(&th[i], NULL, claimer_thread, &cs[i]);
    }
    char *seen = xcalloc(JOBS, 1);
    int total = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_false(cs[i].failed);
        for (int k = 0; k < cs[i].ngot; k++) {
            long long id = cs[i].got[k];
            int idx = (int)(id - ids[0]);
            assert_true(idx >= 0 && idx < JOBS);
            if (seen[idx])
                fail_msg("job %lld claimed twice", id);
            seen[idx] = 1;
            total++;
        }
    }
    assert_int_equal(total, JOBS);
    assert_int_equal(count_jobs(s, "leased"), JOBS);
    free(seen);
    free(cs);
    store_close(s);
    free(loc);
}

static void test_concurrent_claimers_never_share(void **state)
{
    concurrent_claimers(state, 1);
}

/* The same with several jobs per claim. */
static void test_concurrent_batch_claimers_never_share(void **state)
{
    concurrent_claimers(state, 5);
}

/* ---- matching ---- */

static void test_matching_requirements(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    t_fast_queue(s);
    /* Workers with different capabilities. */
    t_worker(s, "arm", "aarch64", "linux", 4096, "3.11", NULL);
    t_worker(s, "small", "x86_64", "linux", 512, "3.11,3.12.1", NULL);
    t_worker(s, "big", "x86_64", "linux", 65536, "3.12", "gpu,net");
    t_worker(s, "bare", NULL, NULL, 0, NULL, NULL);
    store_job_spec sp;
    pyti_strv gpu = PYTI_STRV_INIT, py311 = PYTI_STRV_INIT;
    strv_push(&gpu, "gpu");
    strv_push(&py311, "3.11");

    t_spec(&sp, 1);
    sp.arch = "x86_64";
    sp.memory_mb = 2048;
    long long needs_mem = submit_spec(s, &sp, NULL);
    t_spec(&sp, 2);
    sp.tags = &gpu;
    long long needs_gpu = submit_spec(s, &sp, NULL);
    t_spec(&sp, 3);
    sp.pythons = &py311;
    sp.os = "linux";
    long long needs_311 = submit_spec(s, &sp, NULL);
    t_spec(&sp, 4);
    sp.python = ">=3.12";
    long long wants_312 = submit_spec(s, &sp, NULL);
    t_spec(&sp, 5);
    sp.arch = "aarch64";
    long long needs_arm = submit_spec(s, &sp, NULL);

    /* "bare" knows nothing about itself: only jobs with no requirement
     * — there are none. */
    assert_int_equal(claim(s, "bare", NULL), 0);
    /* "arm": aarch64 with 3.11 -> needs_311 (oldest it can run), then
     * needs_arm; never the x86_64, gpu or >=3.12 ones. */
    assert_int_equal(claim(s, "arm", NULL), needs_311);
    assert_int_equal(claim(s, "arm", NULL), needs_arm);
    assert_int_equal(claim(s, "arm", NULL), 0);
    /* "small": x86_64 but 512 MB, 3.11 and 3.12 -> only wants_312. */
    assert_int_equal(claim(s, "small", NULL), wants_312);
    assert_int_equal(claim(s, "small", NULL), 0);
    /* "big": the rest. */
    assert_int_equal(claim(s, "big", NULL), needs_mem);
    assert_int_equal(claim(s, "big", NULL), needs_gpu);
    assert_int_equal(claim(s, "big", NULL), 0);
    strv_free(&gpu);
    strv_free(&py311);
    store_close(s);
}

static void register_policy(pyti_store *s, const char *id, long long max_size, const char *recipe,
                            const char *project)
{
    pyti_strv recipes = PYTI_STRV_INIT, projects = PYTI_STRV_INIT;
    if (recipe)
        strv_push(&recipes, recipe);
    if (project)
        strv_push(&projects, project);
    store_worker_info w = {0};
    w.id = id;
    w.max_dist_size = max_size;
    w.recipes = &recipes;
    w.projects = &projects;
    pyti_error err;
    if (store_worker_register(s, &w, &err) != PYTI_OK)
        fail_msg("register %s: %s", id, err.msg);
    strv_free(&recipes);
    strv_free(&projects);
}

static void test_matching_worker_policy(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    t_fast_queue(s);
    store_job_spec sp;
    t_spec(&sp, 1);
    sp.size = 5000;
    long long big = submit_spec(s, &sp, NULL);
    t_spec(&sp, 2);
    sp.size = -1;
    long long unknown_size = submit_spec(s, &sp, NULL);
    t_spec(&sp, 3);
    sp.size = 10;
    sp.recipe = "full";
    long long full = submit_spec(s, &sp, NULL);
    t_spec(&sp, 4);
    sp.size = 10;
    long long demo4 = submit_spec(s, &sp, NULL);

    register_policy(s, "small-only", 1000, NULL, NULL);
    register_policy(s, "static-only", 0, "static", NULL);
    register_policy(s, "demo4-only", 0, NULL, "Demo_4");
    register_policy(s, "full-only", 0, "full", NULL);
    /* Size: a limit refuses big files and files of unknown size. */
    assert_int_equal(claim(s, "small-only", NULL), full);
    assert_int_equal(claim(s, "small-only", NULL), demo4);
    assert_int_equal(claim(s, "small-only", NULL), 0);
    store_job_cancel(s, full, NULL, NULL);
    store_job_retry(s, full, NULL);
    store_job_cancel(s, demo4, NULL, NULL);
    store_job_retry(s, demo4, NULL);
    /* Recipes: only the listed ones. */
    assert_int_equal(claim(s, "static-only", NULL), 0);
    assert_int_equal(claim(s, "full-only", NULL), full);
    /* Projects: only the listed ones (names normalised). */
    assert_int_equal(claim(s, "demo4-only", NULL), demo4);
    assert_int_equal(claim(s, "demo4-only", NULL), 0);
    /* Re-registering replaces the policy. */
    register_policy(s, "small-only", 0, NULL, NULL);
    assert_int_equal(claim(s, "small-only", NULL), big);
    assert_int_equal(claim(s, "small-only", NULL), unknown_size);
    store_close(s);
}

/* ---- leases ---- */

static void test_heartbeat_expiry_requeue(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    t_fast_queue(s); /* lease 1 s, backoff 1 s doubling */
    t_worker(s, "a", NULL, NULL, 0, NULL, NULL);
    t_worker(s, "b", NULL, NULL, 0, NULL, NULL);
    long long id = submit(s, 1);
    int attempt;
    assert_int_equal(claim(s, "a", &attempt), id);
    json_t *j = job(s, id);
    char *exp1 = xstrdup(json_get_str(j, "lease_expires"));
    json_decref(j);
    /* A heartbeat 800 ms later extends the lease from then. */
    set_clock(s, 800);
    assert_int_equal(heartbeat(s, id, attempt), STORE_LEASE_OK);
    j = job(s, id);
    assert_true(strcmp(json_get_str(j, "lease_expires"), exp1) > 0);
    json_decref(j);
    free(exp1);
    set_clock(s, 1500); /* 0.7 s after the heartbeat: still held */
    reap(s, 0, 0);
    assert_state(s, id, "leased");
    /* No heartbeat for longer than the lease: requeued after reaping,
     * with the first backoff (1 s). */
    set_clock(s, 2000);
    reap(s, 1, 0);
    assert_state(s, id, "queued");
    j = job(s, id);
    assert_int_equal(json_integer_value(json_object_get(j, "failures")), 1);
    assert_non_null(strstr(json_get_str(j, "error"), "lease expired"));
    json_t *hist = json_object_get(j, "attempt_history");
    assert_string_equal(json_get_str(json_array_get(hist, 0), "outcome"), "expired");
    json_decref(j);
    assert_int_equal(heartbeat(s, id, attempt), STORE_LEASE_LOST);
    /* Not before the backoff has passed. */
    set_clock(s, 2700);
    assert_int_equal(claim(s, "b", NULL), 0);
    set_clock(s, 3300);
    int attempt2;
    assert_int_equal(claim(s, "b", &attempt2), id);
    assert_int_equal(attempt2, 2);
    assert_int_equal(heartbeat(s, id, attempt), STORE_LEASE_LOST);
    assert_int_equal(heartbeat(s, id, attempt2), STORE_LEASE_OK);
    pyti_error err;
    store_lease_state ls;
    assert_int_equal(store_job_heartbeat(s, id, 3, 0, &ls, &err), PYTI_ERR_NOTFOUND);
    assert_int_equal(store_job_heartbeat(s, id + 1, 1, 0, &ls, &err), PYTI_ERR_NOTFOUND);
    /* Expiry counts against the attempts: a job whose leases keep
     * expiring fails at the limit (3). */
    set_clock(s, 5000);
    reap(s, 1, 0); /* not before 7000 */
    set_clock(s, 7300);
    assert_int_equal(claim(s, "b", NULL), id);
    set_clock(s, 9000);
    reap(s, 0, 1);
    assert_state(s, id, "failed");
    store_close(s);
}

/* ---- results ---- */

static void test_result_stored_exactly_once(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    t_fast_queue(s);
    t_worker(s, "w", NULL, NULL, 0, NULL, NULL);
    long long id = submit(s, 9);
    int attempt;
    assert_int_equal(claim(s, "w", &attempt), id);
    /* A report of another file is refused. */
    char rid[33], other_sha[65];
    t_report_id(rid);
    t_sha(10, other_sha);
    json_t *wrong = t_report(rid, "demo-9", "1.0", other_sha, "passed",
                             "2026-11-25T10:00:00.000Z", NULL);
    store_result res;
    pyti_error err;
    assert_int_equal(store_job_complete(s, id, attempt, wrong, &res, &err), PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "sha256"));
    assert_int_equal(store_job_complete(s, id, 7, wrong, &res, &err), PYTI_ERR_NOTFOUND);
    json_decref(wrong);
    /* The same report twice: stored once. */
    char sha[65];
    t_sha(9, sha);
    t_report_id(rid);
    json_t *r = t_report(rid, "demo-9", "1.0", sha, "passed", "2026-11-25T10:00:00.000Z", NULL);
    assert_int_equal(store_job_complete(s, id, attempt, r, &res, &err), PYTI_OK);
    assert_int_equal(res, STORE_RESULT_STORED);
    assert_int_equal(store_job_complete(s, id, attempt, r, &res, &err), PYTI_OK);
    assert_int_equal(res, STORE_RESULT_DUPLICATE);
    json_decref(r);
    /* A different report for the same job: acknowledged, dropped. */
    char rid2[33];
    assert_int_equal(complete(s, id, attempt, 9, "failed", rid2), STORE_RESULT_DUPLICATE);
    assert_int_equal(store_count_reports(s, &err), 1);
    json_t *none = store_get_report(s, rid2, &err);
    assert_null(none);
    assert_int_equal(err.code, PYTI_ERR_NOTFOUND);
    json_t *j = job(s, id);
    assert_string_equal(json_get_str(j, "state"), "done");
    assert_string_equal(json_get_str(j, "report_id"), rid);
    assert_true(json_is_real(json_object_get(j, "duration_s")));
    assert_true(json_is_null(json_object_get(j, "worker")));
    json_t *hist = json_object_get(j, "attempt_history");
    assert_string_equal(json_get_str(json_array_get(hist, 0), "outcome"), "done");
    assert_string_equal(json_get_str(json_array_get(hist, 0), "report_id"), rid);
    json_decref(j);
    assert_int_equal(heartbeat(s, id, attempt), STORE_LEASE_DONE);
    /* The result is filed under its release. */
    json_t *rel = store_list_releases(s, "demo-9", &err);
    assert_int_equal(json_array_size(rel), 1);
    assert_string_equal(json_get_str(json_object_get(json_array_get(rel, 0), "latest"), "id"), rid);
    json_decref(rel);
    /* A failure or a retryable error after the result changes nothing. */
    assert_int_equal(store_job_fail(s, id, attempt, true, "late", &res, &err), PYTI_OK);
    assert_int_equal(res, STORE_RESULT_DUPLICATE);
    assert_state(s, id, "done");
    store_close(s);
}

/* A result's rows (task results, findings, the release's verdict, its
 * report_metrics row) are those store_put_report files: on PostgreSQL
 * the common case is stored by one statement (STORE_JOB_RESULT), not by
 * the C path's; a second task without builtin, reason or started and with an
 * integer duration, a second finding without location or task. */
__attribute__((format(printf, 2, 3))) static long long raw_count(const char *loc,
                                                                   const char *fmt, ...)
{
    char sql[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return t_raw_int(loc, sql);
}

/* The rows under the store's reports are whole: none without its report
 * (what foreign keys promised; PostgreSQL's store keeps it without them
 * since migration 10) and none missing (every report of these tests has
 * a task, a finding and its report_metrics row); every report is of a
 * stored file of its release, every attempt of a stored job (keys gone on
 * PostgreSQL since migration 13). */
static void assert_report_rows_whole(const char *loc)
{
    assert_int_equal(raw_count(loc, "SELECT COUNT(*) FROM reports r WHERE NOT EXISTS"
                                    " (SELECT 1 FROM releases x WHERE x.id = r.release_id)"
                                    " OR NOT EXISTS (SELECT 1 FROM files x WHERE x.id = r.file_id"
                                    " AND x.release_id = r.release_id)"),
                     0);
    assert_int_equal(raw_count(loc, "SELECT COUNT(*) FROM attempts a WHERE NOT EXISTS"
                                    " (SELECT 1 FROM jobs j WHERE j.id = a.job_id"
                                    " AND a.n <= j.attempts)"),
                     0);
    static const char *const tables[] = {"task_results", "findings", "report_metrics"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        assert_int_equal(raw_count(loc,
                                   "SELECT COUNT(*) FROM %s x WHERE NOT EXISTS"
                                   " (SELECT 1 FROM reports r WHERE r.id = x.report_id)",
                                   tables[i]),
                         0);
        assert_int_equal(raw_count(loc,
                                   "SELECT COUNT(*) FROM reports r WHERE NOT EXISTS"
                                   " (SELECT 1 FROM %s x WHERE x.report_id = r.id)",
                                   tables[i]),
                         0);
    }
}

static void test_result_rows(void **state)
{
    char *loc = NULL;
    pyti_store *s = t_store_fresh(state, &loc);
    t_fast_queue(s);
    t_worker(s, "w", NULL, NULL, 0, NULL, NULL);
    long long id = submit(s, 5);
    int attempt;
    assert_int_equal(claim(s, "w", &attempt), id);
    char rid[33], sha[65];
    t_report_id(rid);
    t_sha(5, sha);
    json_t *r = t_report(rid, "demo-5", "1.0", sha, "failed", "2026-11-25T10:00:00.000Z", NULL);
    json_array_append_new(json_object_get(r, "tasks"),
                          json_pack("{s:s, s:s, s:n, s:i, s:{}}", "name", "tests", "status",
                                    "failed", "reason", "duration_s", 2, "data"));
    json_object_set_new(json_array_get(json_object_get(r, "tasks"), 0), "builtin",
                        json_string("extract"));
    json_array_append_new(json_object_get(r, "findings"),
                          json_pack("{s:s, s:s, s:s, s:n, s:n}", "id", "tests.failed", "severity",
                                    "high", "message", "it's \"quoted\" \\ and", "where",
                                    "task"));
    store_result res;
    pyti_error err;
    set_clock(s, 700); /* the job ran 0.7 s on the store's clock (its lease is 1 s) */
    if (store_job_complete(s, id, attempt, r, &res, &err) != PYTI_OK)
        fail_msg("complete: %s", err.msg);
    assert_int_equal(res, STORE_RESULT_STORED);
    /* The job is done, its duration from its attempt's lease; the attempt
     * ended with it. (SQLite reads the wall clock at every call: a
     * millisecond may pass between two.) */
    assert_int_equal(raw_count(loc,
                               "SELECT COUNT(*) FROM jobs j JOIN attempts a ON a.job_id = j.id"
                               " WHERE j.id = %lld AND j.state = 'done' AND j.report_id = '%s'"
                               " AND j.worker_id IS NULL AND j.lease_expires IS NULL"
                               " AND j.duration_ms BETWEEN 700 AND 60000"
                               " AND ABS(j.finished_at - a.leased_at - j.duration_ms) <= 50"
                               " AND a.n = %d AND a.outcome = 'done' AND a.report_id = '%s'"
                               " AND ABS(a.ended_at - j.finished_at) <= 50 AND a.error IS NULL",
                               id, rid, attempt, rid),
                     1);
    assert_int_equal(raw_count(loc, "SELECT COUNT(*) FROM task_results WHERE report_id = '%s'",
                               rid), 2);
    assert_int_equal(raw_count(loc,
                               "SELECT COUNT(*) FROM task_results WHERE report_id = '%s'"
                               " AND seq = 0 AND name = 'extract' AND builtin = 'extract'"
                               " AND status = 'failed' AND reason IS NULL"
                               " AND started = '2026-11-25T10:00:00.000Z' AND duration_s = 0.25",
                               rid), 1);
    assert_int_equal(raw_count(loc,
                               "SELECT COUNT(*) FROM task_results WHERE report_id = '%s'"
                               " AND seq = 1 AND name = 'tests' AND builtin IS NULL"
                               " AND status = 'failed' AND reason IS NULL AND started IS NULL"
                               " AND duration_s = 2",
                               rid), 1);
    assert_int_equal(raw_count(loc,
                               "SELECT COUNT(*) FROM findings WHERE report_id = '%s'"
                               " AND seq = 0 AND finding = 'metadata.missing-license'"
                               " AND severity = 'low' AND message = 'no license'"
                               " AND location IS NULL AND task = 'metadata'",
                               rid), 1);
    assert_int_equal(raw_count(loc,
                               "SELECT COUNT(*) FROM findings WHERE report_id = '%s'"
                               " AND seq = 1 AND finding = 'tests.failed' AND severity = 'high'"
                               " AND message = 'it''s \"quoted\" \\ and'"
                               " AND location IS NULL AND task IS NULL",
                               rid), 1);
    assert_int_equal(raw_count(loc,
                               "SELECT COUNT(*) FROM releases WHERE latest_report_id = '%s'"
                               " AND latest_outcome = 'failed' AND latest_quality = 'broken'"
                               " AND latest_safety = 'unassessed'"
                               " AND latest_created = '2026-11-25T10:00:00.000Z'",
                               rid), 1);
    assert_int_equal(raw_count(loc,
                               "SELECT COUNT(*) FROM report_metrics WHERE report_id = '%s'"
                               " AND project = 'demo-5' AND outcome = 'failed'",
                               rid), 1);
    assert_int_equal(raw_count(loc,
                               "SELECT COUNT(*) FROM reports WHERE id = '%s' AND job_id IS NOT NULL"
                               " AND attempt = 1 AND release_id IS NOT NULL"
                               " AND file_id IS NOT NULL",
                               rid), 1);
    /* What is read back is what was sent. */
    json_t *got = store_get_report(s, rid, &err);
    assert_non_null(got);
    assert_true(json_equal(got, r));
    json_decref(got);
    json_decref(r);
    assert_report_rows_whole(loc);
    store_close(s);
    free(loc);
}

/* A report without findings: on PostgreSQL its result's statement has
 * no findings insert (STORE_JOB_RESULT_NO_FINDINGS), through both
 * store_job_complete and store_job_complete_claim; its rows are those of
 * a report with them, less the findings. */
static void test_result_without_findings(void **state)
{
    char *loc = NULL;
    pyti_store *s = t_store_fresh(state, &loc);
    t_fast_queue(s);
    t_worker(s, "w", NULL, NULL, 0, NULL, NULL);
    long long a = submit(s, 41), b = submit(s, 42);
    int attempt;
    assert_int_equal(claim(s, "w", &attempt), a);
    char rid[2][33], sha[65];
    pyti_error err;
    store_result res;
    for (int k = 0; k < 2; k++) {
        t_report_id(rid[k]);
        t_sha(41 + (unsigned)k, sha);
        char name[16];
        snprintf(name, sizeof name, "demo-%d", 41 + k);
        json_t *r = t_report(rid[k], name, "1.0", sha, "passed", "2026-11-25T10:00:00.000Z", NULL);
        json_array_clear(json_object_get(r, "findings"));
        store_lease next;
        size_t got = 0;
        pyti_status rc = k == 0 ? store_job_complete_claim(s, a, attempt, r, &res, "w", 0, 1,
                                                           &next, &got, &err)
                                : store_job_complete(s, b, 1, r, &res, &err);
        if (rc != PYTI_OK)
            fail_msg("complete: %s", err.msg);
        assert_int_equal(res, STORE_RESULT_STORED);
        if (k == 0) {
            assert_int_equal(got, 1);
            assert_int_equal(next.job_id, b);
            store_lease_clear(&next);
        }
        json_t *back = store_get_report(s, rid[k], &err);
        assert_non_null(back);
        assert_true(json_equal(back, r));
        json_decref(back);
        json_decref(r);
        assert_int_equal(raw_count(loc, "SELECT COUNT(*) FROM task_results WHERE report_id = '%s'",
                                   rid[k]),
                         1);
        assert_int_equal(raw_count(loc, "SELECT COUNT(*) FROM findings WHERE report_id = '%s'",
                                   rid[k]),
                         0);
        assert_int_equal(raw_count(loc,
                                   "SELECT COUNT(*) FROM report_metrics WHERE report_id = '%s'",
                                   rid[k]),
                         1);
    }
    assert_state(s, a, "done");
    assert_state(s, b, "done");
    assert_int_equal(raw_count(loc, "SELECT COUNT(*) FROM findings"), 0);
    store_close(s);
    free(loc);
}

/* A report is first inserted as new, in one batch with the rest of the
 * result (store_job_complete); when its id is taken that transaction
 * fails and the careful path decides. Both ways must leave nothing
 * behind of the failed try. */
static void test_result_report_id_taken(void **state)
{
    char *loc = NULL;
    pyti_store *s = t_store_fresh(state, &loc);
    t_fast_queue(s);
    t_worker(s, "w", NULL, NULL, 0, NULL, NULL);
    long long a = submit(s, 21), b = submit(s, 22);
    int aa, ab;
    assert_int_equal(claim(s, "w", &aa), a);
    assert_int_equal(claim(s, "w", &ab), b);
    char rid[33];
    assert_int_equal(complete(s, a, aa, 21, "passed", rid), STORE_RESULT_STORED);
    /* Job b's report under the id job a's result has: refused, and b
     * still holds its lease, with nothing stored. */
    char sha[65];
    t_sha(22, sha);
    json_t *r = t_report(rid, "demo-22", "1.0", sha, "passed", "2026-11-25T10:00:00.000Z", NULL);
    store_result res;
    pyti_error err;
    assert_int_equal(store_job_complete(s, b, ab, r, &res, &err), PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "already stored for something else"));
    json_decref(r);
    assert_state(s, b, "leased");
    assert_int_equal(heartbeat(s, b, ab), STORE_LEASE_OK);
    assert_int_equal(store_count_reports(s, &err), 1);
    json_t *rel = store_list_releases(s, "demo-22", &err);
    assert_true(json_is_null(json_object_get(json_array_get(rel, 0), "latest")));
    json_decref(rel);
    /* An "error" report sent twice (a lost answer): the second call finds
     * its own report stored and the attempt ended; nothing changes. */
    char rid2[33];
    t_report_id(rid2);
    r = t_report(rid2, "demo-22", "1.0", sha, "error", "2026-11-25T10:00:00.000Z", NULL);
    assert_int_equal(store_job_complete(s, b, ab, r, &res, &err), PYTI_OK);
    assert_int_equal(res, STORE_RESULT_RETRY);
    assert_state(s, b, "queued");
    assert_int_equal(store_job_complete(s, b, ab, r, &res, &err), PYTI_OK);
    assert_int_equal(res, STORE_RESULT_IGNORED);
    assert_state(s, b, "queued");
    json_decref(r);
    assert_int_equal(store_count_reports(s, &err), 2);
    json_t *j = job(s, b);
    json_t *hist = json_object_get(j, "attempt_history");
    assert_int_equal(json_array_size(hist), 1);
    assert_string_equal(json_get_str(json_array_get(hist, 0), "outcome"), "error");
    assert_string_equal(json_get_str(json_array_get(hist, 0), "report_id"), rid2);
    json_decref(j);
    assert_report_rows_whole(loc);
    store_close(s);
    free(loc);
}

/* A result with the next claim (store_job_complete_claim): the result
 * stored as store_job_complete would, the next job leased to the worker
 * in the claim's order, in one transaction on PostgreSQL; a repeat of the
 * result is a duplicate that still gets a lease; a report id taken goes
 * the careful way and the claim still happens; an unknown worker gets no
 * lease but the result is stored; nothing queued, no lease. */
static store_result complete_claim(pyti_store *s, long long id, int attempt, unsigned n,
                                   const char *rid, const char *worker, size_t max,
                                   store_lease *leases, size_t *got)
{
    char sha[65], name[32];
    t_sha(n, sha);
    snprintf(name, sizeof name, "demo-%u", n);
    json_t *r = t_report(rid, name, "1.0", sha, "passed", "2026-11-25T10:00:00.000Z", NULL);
    store_result res = STORE_RESULT_IGNORED;
    pyti_error err;
    if (store_job_complete_claim(s, id, attempt, r, &res, worker, 0, max, leases, got, &err) !=
        PYTI_OK)
        fail_msg("complete_claim %lld: %s", id, err.msg);
    json_decref(r);
    return res;
}

static void test_result_with_next_claim(void **state)
{
    char *loc = NULL;
    pyti_store *s = t_store_fresh(state, &loc);
    t_fast_queue(s);
    t_worker(s, "w", NULL, NULL, 0, NULL, NULL);
    long long a = submit(s, 31), b = submit(s, 32), c = submit(s, 33), d = submit(s, 34);
    int aa;
    assert_int_equal(claim(s, "w", &aa), a);
    store_lease leases[2];
    size_t n = 9;
    char rid[33];
    t_report_id(rid);
    assert_int_equal(complete_claim(s, a, aa, 31, rid, "w", 1, leases, &n),
                     STORE_RESULT_STORED);
    assert_int_equal(n, 1);
    assert_int_equal(leases[0].job_id, b);
    assert_int_equal(leases[0].attempt, 1);
    assert_string_equal(json_get_str(leases[0].job, "filename"), "demo_32-1.0.tar.gz");
    store_lease_clear(&leases[0]);
    assert_state(s, a, "done");
    assert_state(s, b, "leased");
    json_t *j = job(s, a);
    assert_string_equal(json_get_str(j, "report_id"), rid);
    assert_string_equal(
        json_get_str(json_array_get(json_object_get(j, "attempt_history"), 0), "outcome"),
        "done");
    json_decref(j);
    pyti_error err;
    assert_int_equal(store_count_reports(s, &err), 1);
    /* The same result again: a duplicate, and the next two jobs. */
    assert_int_equal(complete_claim(s, a, aa, 31, rid, "w", 2, leases, &n),
                     STORE_RESULT_DUPLICATE);
    assert_int_equal(n, 2);
    assert_int_equal(leases[0].job_id, c);
    assert_int_equal(leases[1].job_id, d);
    store_lease_clear(&leases[0]);
    store_lease_clear(&leases[1]);
    assert_int_equal(store_count_reports(s, &err), 1);
    /* b's report under a's report id: refused the careful way, and no
     * lease either (nothing is queued). */
    char sha[65];
    t_sha(32, sha);
    json_t *r = t_report(rid, "demo-32", "1.0", sha, "passed", "2026-11-25T10:00:00.000Z", NULL);
    store_result res;
    assert_int_equal(store_job_complete_claim(s, b, 1, r, &res, "w", 0, 1, leases, &n, &err),
                     PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "already stored for something else"));
    assert_int_equal(n, 0);
    json_decref(r);
    assert_state(s, b, "leased");
    /* Stored, by a worker that does not exist: no lease, no error. */
    long long e = submit(s, 35);
    t_report_id(rid);
    assert_int_equal(complete_claim(s, b, 1, 32, rid, "nobody", 1, leases, &n),
                     STORE_RESULT_STORED);
    assert_int_equal(n, 0);
    assert_state(s, b, "done");
    assert_state(s, e, "queued");
    /* Nothing left for w after e. */
    t_report_id(rid);
    assert_int_equal(complete_claim(s, c, 1, 33, rid, "w", 1, leases, &n), STORE_RESULT_STORED);
    assert_int_equal(n, 1);
    assert_int_equal(leases[0].job_id, e);
    store_lease_clear(&leases[0]);
    t_report_id(rid);
    assert_int_equal(complete_claim(s, d, 1, 34, rid, "w", 1, leases, &n), STORE_RESULT_STORED);
    assert_int_equal(n, 0);
    assert_int_equal(store_count_reports(s, &err), 4);
    /* Bad arguments. */
    assert_int_equal(store_job_complete_claim(s, e, 1, NULL, &res, "w", 0, 0, leases, &n, &err),
                     PYTI_ERR_USAGE);
    assert_report_rows_whole(loc);
    store_close(s);
    free(loc);
}

static void test_late_result_first_complete_wins(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    t_fast_queue(s);
    t_worker(s, "slow", NULL, NULL, 0, NULL, NULL);
    t_worker(s, "fast", NULL, NULL, 0, NULL, NULL);
    long long id = submit(s, 11);
    int a1, a2;
    assert_int_equal(claim(s, "slow", &a1), id);
    set_clock(s, 2000);
    reap(s, 1, 0);
    set_clock(s, 3300);
    assert_int_equal(claim(s, "fast", &a2), id);
    assert_int_equal(a2, 2);
    /* The slow worker, whose lease expired, finishes first: its result is
     * the job's; the current lease is superseded. */
    char rid1[33], rid2[33];
    assert_int_equal(complete(s, id, a1, 11, "passed", rid1), STORE_RESULT_STORED);
    assert_int_equal(heartbeat(s, id, a2), STORE_LEASE_DONE);
    assert_int_equal(complete(s, id, a2, 11, "passed", rid2), STORE_RESULT_DUPLICATE);
    pyti_error err;
    assert_int_equal(store_count_reports(s, &err), 1);
    json_t *j = job(s, id);
    assert_string_equal(json_get_str(j, "report_id"), rid1);
    json_t *hist = json_object_get(j, "attempt_history");
    assert_int_equal(json_array_size(hist), 2);
    assert_string_equal(json_get_str(json_array_get(hist, 0), "outcome"), "done");
    assert_string_equal(json_get_str(json_array_get(hist, 1), "outcome"), "superseded");
    json_decref(j);

    /* A stale attempt's result also wins over a job left queued after its
     * lease expired, and over a job that failed for lack of attempts. */
    long long id2 = submit(s, 12);
    int b1;
    assert_int_equal(claim(s, "slow", &b1), id2);
    set_clock(s, 5000);
    reap(s, 1, 0);
    assert_state(s, id2, "queued");
    assert_int_equal(complete(s, id2, b1, 12, "failed", NULL), STORE_RESULT_STORED);
    assert_state(s, id2, "done");
    assert_int_equal(claim(s, "fast", NULL), 0);

    store_job_spec sp;
    t_spec(&sp, 13);
    sp.max_attempts = 1;
    long long id3 = submit_spec(s, &sp, NULL);
    int c1;
    assert_int_equal(claim(s, "slow", &c1), id3);
    set_clock(s, 7000);
    reap(s, 0, 1);
    assert_state(s, id3, "failed");
    assert_int_equal(complete(s, id3, c1, 13, "passed", NULL), STORE_RESULT_STORED);
    assert_state(s, id3, "done");
    store_close(s);
}

static void test_infra_errors_backoff_then_fail(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    t_fast_queue(s); /* base 1 s, cap 8 s, 3 attempts */
    t_worker(s, "w", NULL, NULL, 0, NULL, NULL);
    long long id = submit(s, 21);
    pyti_error err;
    store_result res;
    long long clock = 0;
    long long want_delay[] = {1000, 2000};
    for (int i = 0; i < 2; i++) {
        int attempt;
        assert_int_equal(claim(s, "w", &attempt), id);
        assert_int_equal(attempt, i + 1);
        assert_int_equal(store_job_fail(s, id, attempt, true, "download failed: 503", &res, &err),
                         PYTI_OK);
        assert_int_equal(res, STORE_RESULT_RETRY);
        assert_state(s, id, "queued");
        /* Just before the backoff ends: not yet; at its end: yes. */
        set_clock(s, clock + want_delay[i] - 300);
        assert_int_equal(claim(s, "w", NULL), 0);
        clock += want_delay[i] + 300;
        set_clock(s, clock);
    }
    int attempt;
    assert_int_equal(claim(s, "w", &attempt), id);
    assert_int_equal(attempt, 3);
    /* An "error" report is an infrastructure error too; the third one
     * exhausts the attempts. */
    char rid[33];
    assert_int_equal(complete(s, id, attempt, 21, "error", rid), STORE_RESULT_FAILED);
    json_t *j = job(s, id);
    assert_string_equal(json_get_str(j, "state"), "failed");
    assert_int_equal(json_integer_value(json_object_get(j, "failures")), 3);
    assert_true(json_is_null(json_object_get(j, "report_id")));
    json_t *hist = json_object_get(j, "attempt_history");
    assert_string_equal(json_get_str(json_array_get(hist, 0), "outcome"), "error");
    assert_string_equal(json_get_str(json_array_get(hist, 0), "error"), "download failed: 503");
    assert_string_equal(json_get_str(json_array_get(hist, 2), "report_id"), rid);
    json_decref(j);
    /* The error report is kept as the attempt's record. */
    json_t *rep = store_get_report(s, rid, &err);
    assert_non_null(rep);
    json_decref(rep);
    assert_int_equal(claim(s, "w", NULL), 0);
    /* Retry gives a fresh budget. */
    assert_int_equal(store_job_retry(s, id, &err), PYTI_OK);
    assert_int_equal(claim(s, "w", &attempt), id);
    assert_int_equal(attempt, 4);
    assert_int_equal(complete(s, id, attempt, 21, "passed", NULL), STORE_RESULT_STORED);
    /* A permanent error fails at once. */
    long long id2 = submit(s, 22);
    assert_int_equal(claim(s, "w", &attempt), id2);
    assert_int_equal(store_job_fail(s, id2, attempt, false, "sha256 mismatch", &res, &err),
                     PYTI_OK);
    assert_int_equal(res, STORE_RESULT_FAILED);
    assert_state(s, id2, "failed");
    store_close(s);
}

static void test_backoff_is_capped(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    store_queue_options o;
    store_queue_options_default(&o);
    o.backoff_base_ms = 1000;
    o.backoff_max_ms = 2500;
    o.reap_interval_ms = 0;
    store_set_queue_options(s, &o);
    t_worker(s, "w", NULL, NULL, 0, NULL, NULL);
    store_job_spec sp;
    t_spec(&sp, 23);
    sp.max_attempts = 10;
    long long id = submit_spec(s, &sp, NULL);
    long long clock = 0;
    long long want[] = {1000, 2000, 2500, 2500};
    for (int i = 0; i < 4; i++) {
        int attempt;
        assert_int_equal(claim(s, "w", &attempt), id);
        store_result res;
        assert_int_equal(store_job_fail(s, id, attempt, true, "x", &res, NULL), PYTI_OK);
        set_clock(s, clock + want[i] - 300);
        assert_int_equal(claim(s, "w", NULL), 0);
        clock += want[i] + 300;
        set_clock(s, clock);
    }
    store_close(s);
}

static void test_package_failures_are_results(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    t_fast_queue(s);
    t_worker(s, "w", NULL, NULL, 0, NULL, NULL);
    const char *outcomes[] = {"failed", "rejected"};
    for (int i = 0; i < 2; i++) {
        long long id = submit(s, 30 + (unsigned)i);
        int attempt;
        assert_int_equal(claim(s, "w", &attempt), id);
        assert_int_equal(complete(s, id, attempt, 30 + (unsigned)i, outcomes[i], NULL),
                         STORE_RESULT_STORED);
        json_t *j = job(s, id);
        assert_string_equal(json_get_str(j, "state"), "done");
        assert_int_equal(json_integer_value(json_object_get(j, "failures")), 0);
        json_decref(j);
    }
    assert_int_equal(claim(s, "w", NULL), 0);
    pyti_error err;
    json_t *failing = store_list_flagged_releases(s, "failing", 0, &err);
    assert_int_equal(json_array_size(failing), 2);
    json_decref(failing);
    store_close(s);
}

/* ---- cancel and retry ---- */

static void test_cancel_and_retry(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    t_fast_queue(s);
    t_worker(s, "w", NULL, NULL, 0, NULL, NULL);
    pyti_error err;
    bool changed;
    long long id = submit(s, 40);
    assert_int_equal(store_job_cancel(s, id, &changed, &err), PYTI_OK);
    assert_true(changed);
    assert_int_equal(store_job_cancel(s, id, &changed, &err), PYTI_OK);
    assert_false(changed);
    assert_int_equal(claim(s, "w", NULL), 0);
    assert_int_equal(store_job_retry(s, id, &err), PYTI_OK);
    int attempt;
    assert_int_equal(claim(s, "w", &attempt), id);
    /* Cancelled while leased: the worker learns it, its result is dropped. */
    assert_int_equal(store_job_cancel(s, id, &changed, &err), PYTI_OK);
    assert_int_equal(heartbeat(s, id, attempt), STORE_LEASE_CANCELLED);
    assert_int_equal(complete(s, id, attempt, 40, "passed", NULL), STORE_RESULT_CANCELLED);
    assert_int_equal(store_count_reports(s, &err), 0);
    json_t *j = job(s, id);
    assert_string_equal(json_get_str(json_array_get(json_object_get(j, "attempt_history"), 0),
                                     "outcome"),
                        "cancelled");
    json_decref(j);
    /* Retry while an identical job is active is refused. */
    long long twin = submit(s, 40);
    assert_true(twin != id);
    assert_int_equal(store_job_retry(s, id, &err), PYTI_ERR_USAGE);
    assert_non_null(strstr(err.msg, "identical"));
    /* Done and failed jobs cannot be cancelled; done ones not retried. */
    assert_int_equal(claim(s, "w", &attempt), twin);
    assert_int_equal(complete(s, twin, attempt, 40, "passed", NULL), STORE_RESULT_STORED);
    assert_int_equal(store_job_cancel(s, twin, &changed, &err), PYTI_ERR_USAGE);
    assert_int_equal(store_job_retry(s, twin, &err), PYTI_ERR_USAGE);
    assert_non_null(strstr(err.msg, "retest"));
    assert_int_equal(store_job_cancel(s, 999999, &changed, &err), PYTI_ERR_NOTFOUND);
    store_close(s);
}

/* ---- workers, cursors, logs, metrics ---- */

static void test_workers(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    t_fast_queue(s);
    pyti_error err;
    store_worker_info w = {0};
    w.id = "bad id";
    assert_int_equal(store_worker_register(s, &w, &err), PYTI_ERR_USAGE);
    t_worker(s, "w2", "x86_64", "linux", 1024, "3.11.4,3.12", "net");
    t_worker(s, "w1", NULL, NULL, 0, "3.10", NULL);
    pyti_strv bad = PYTI_STRV_INIT;
    strv_push(&bad, "three");
    w.id = "w3";
    w.pythons = &bad;
    assert_int_equal(store_worker_register(s, &w, &err), PYTI_ERR_USAGE);
    strv_free(&bad);
    assert_int_equal(store_worker_heartbeat(s, "w1", "busy", &err), PYTI_OK);
    assert_int_equal(store_worker_heartbeat(s, "w1", "asleep", &err), PYTI_ERR_USAGE);
    assert_int_equal(store_worker_heartbeat(s, "nope", "idle", &err), PYTI_ERR_NOTFOUND);
    submit(s, 50);
    assert_true(claim(s, "w2", NULL) > 0);
    json_t *list = store_workers_list(s, &err);
    assert_int_equal(json_array_size(list), 2);
    json_t *w1 = json_array_get(list, 0), *w2 = json_array_get(list, 1);
    assert_string_equal(json_get_str(w1, "id"), "w1");
    assert_string_equal(json_get_str(w1, "state"), "busy");
    assert_int_equal(json_integer_value(json_object_get(w2, "leases")), 1);
    assert_int_equal(json_array_size(json_object_get(w2, "pythons")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(w2, "pythons"), 0)),
                        "3.11");
    assert_string_equal(json_string_value(json_array_get(json_object_get(w2, "tags"), 0)), "net");
    json_decref(list);
    /* Silent workers become gone; a heartbeat brings them back. */
    set_clock(s, 200000);
    long long rq;
    assert_int_equal(store_reap_expired(s, &rq, NULL, &err), PYTI_OK);
    store_metrics m;
    assert_int_equal(store_metrics_get(s, 60, &m, &err), PYTI_OK);
    assert_int_equal(m.workers_gone, 2);
    assert_int_equal(store_worker_heartbeat(s, "w1", "idle", &err), PYTI_OK);
    assert_int_equal(store_metrics_get(s, 60, &m, &err), PYTI_OK);
    assert_int_equal(m.workers_gone, 1);
    assert_int_equal(m.workers_idle, 1);
    store_close(s);
}

static void test_feed_cursor_cas(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    pyti_error err;
    char *v = (char *)"x";
    bool swapped;
    assert_int_equal(store_cursor_get(s, "pypi-rss", &v, &err), PYTI_OK);
    assert_null(v);
    assert_int_equal(store_cursor_cas(s, "pypi-rss", "1", "2", &swapped, &err), PYTI_OK);
    assert_false(swapped);
    assert_int_equal(store_cursor_cas(s, "pypi-rss", NULL, "100", &swapped, &err), PYTI_OK);
    assert_true(swapped);
    assert_int_equal(store_cursor_cas(s, "pypi-rss", NULL, "999", &swapped, &err), PYTI_OK);
    assert_false(swapped);
    assert_int_equal(store_cursor_cas(s, "pypi-rss", "99", "200", &swapped, &err), PYTI_OK);
    assert_false(swapped);
    assert_int_equal(store_cursor_cas(s, "pypi-rss", "100", "200", &swapped, &err), PYTI_OK);
    assert_true(swapped);
    assert_int_equal(store_cursor_get(s, "pypi-rss", &v, &err), PYTI_OK);
    assert_string_equal(v, "200");
    free(v);
    assert_int_equal(store_cursor_get(s, "other", &v, &err), PYTI_OK);
    assert_null(v);
    assert_int_equal(store_cursor_cas(s, "", NULL, "1", &swapped, &err), PYTI_ERR_USAGE);
    store_close(s);
}

typedef struct cas_arg {
    const char *loc;
    int wins;
} cas_arg;

/* Each thread moves the cursor from n to n+1 as often as it can. */
static void *cas_thread(void *p)
{
    cas_arg *a = p;
    pyti_store *s = store_open(a->loc, NULL);
    if (!s)
        return NULL;
    for (int i = 0; i < 60; i++) {
        char *cur = NULL;
        if (store_cursor_get(s, "serial", &cur, NULL) != PYTI_OK)
            break;
        char next[32];
        snprintf(next, sizeof next, "%ld", strtol(cur, NULL, 10) + 1);
        bool swapped = false;
        if (store_cursor_cas(s, "serial", cur, next, &swapped, NULL) == PYTI_OK && swapped)
            a->wins++;
        free(cur);
    }
    store_close(s);
    return NULL;
}

static void test_feed_cursor_cas_concurrent(void **state)
{
    char *loc;
    pyti_store *s = t_store_fresh(state, &loc);
    bool swapped;
    assert_int_equal(store_cursor_cas(s, "serial", NULL, "0", &swapped, NULL), PYTI_OK);
    enum { N = 4 };
    pthread_t th[N];
    cas_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (cas_arg){loc, 0};
        pthread_create(&th[i], NULL, cas_thread, &args[i]);
    }
    int wins = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        wins += args[i].wins;
    }
    /* Every successful swap moved the cursor by exactly one: none lost,
     * none repeated. */
    char *v;
    assert_int_equal(store_cursor_get(s, "serial", &v, NULL), PYTI_OK);
    assert_int_equal(strtol(v, NULL, 10), wins);
    assert_true(wins > 0);
    free(v);
    store_close(s);
    free(loc);
}

static void test_logs(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    t_fast_queue(s);
    t_worker(s, "w", NULL, NULL, 0, NULL, NULL);
    long long id = submit(s, 60);
    int attempt;
    assert_int_equal(claim(s, "w", &attempt), id);
    pyti_error err;
    bool inserted;
    const char raw[] = "line 1\n\xff bad byte\0 nul\n";
    assert_int_equal(store_put_log(s, id, attempt, "install", raw, sizeof raw - 1, &inserted, &err),
                     PYTI_OK);
    assert_true(inserted);
    assert_int_equal(store_put_log(s, id, attempt, "install", "other", 5, &inserted, &err),
                     PYTI_OK);
    assert_false(inserted);
    assert_int_equal(store_put_log(s, id, 5, "install", "x", 1, &inserted, &err),
                     PYTI_ERR_NOTFOUND);
    size_t len;
    char *text = store_get_log(s, id, attempt, "install", &len, &err);
    assert_non_null(text);
    assert_string_equal(text, "line 1\n\xef\xbf\xbd bad byte nul\n");
    assert_int_equal(len, strlen(text));
    free(text);
    assert_null(store_get_log(s, id, attempt, "test", &len, &err));
    assert_int_equal(err.code, PYTI_ERR_NOTFOUND);
    json_t *list = store_list_logs(s, id, &err);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_get_str(json_array_get(list, 0), "name"), "install");
    json_decref(list);
    store_close(s);
}

static void test_metrics(void **state)
{
    pyti_store *s = t_store_fresh(state, NULL);
    t_fast_queue(s);
    t_worker(s, "w", NULL, NULL, 0, NULL, NULL);
    long long ids[5];
    for (int i = 0; i < 5; i++)
        ids[i] = submit(s, 70 + (unsigned)i);
    int a0, a1, a2;
    assert_int_equal(claim(s, "w", &a0), ids[0]);
    assert_int_equal(claim(s, "w", &a1), ids[1]);
    assert_int_equal(claim(s, "w", &a2), ids[2]);
    set_clock(s, 300);
    assert_int_equal(complete(s, ids[0], a0, 70, "passed", NULL), STORE_RESULT_STORED);
    set_clock(s, 500);
    assert_int_equal(complete(s, ids[1], a1, 71, "passed", NULL), STORE_RESULT_STORED);
    store_result res;
    assert_int_equal(store_job_fail(s, ids[2], a2, false, "gone", &res, NULL), PYTI_OK);
    store_job_cancel(s, ids[3], NULL, NULL);
    pyti_error err;
    store_metrics m;
    assert_int_equal(store_metrics_get(s, 60, &m, &err), PYTI_OK);
    assert_int_equal(m.jobs[STORE_JOB_QUEUED], 1);
    assert_int_equal(m.jobs[STORE_JOB_DONE], 2);
    assert_int_equal(m.jobs[STORE_JOB_FAILED], 1);
    assert_int_equal(m.jobs[STORE_JOB_CANCELLED], 1);
    assert_int_equal(m.done_recent, 2);
    assert_int_equal(m.failed_recent, 1);
    assert_true(m.duration_sum_s >= 0.75 && m.duration_sum_s < 2.0);
    assert_true(m.duration_p50_s >= 0.29 && m.duration_p50_s < 1.0);
    assert_true(m.duration_p99_s >= m.duration_p50_s);
    assert_true(m.oldest_queued_s >= 0.4);
    assert_int_equal(m.workers_idle, 1);
    /* Out of the window: nothing recent. */
    set_clock(s, 120000);
    assert_int_equal(store_metrics_get(s, 60, &m, &err), PYTI_OK);
    assert_int_equal(m.done_recent, 0);
    assert_int_equal(m.failed_recent, 0);
    store_close(s);
}

/* The store refuses a state, origin or attempt outcome outside its sets
 * whoever writes it (PostgreSQL's checks are domains since migration
 * 12; SQLite keeps its comparisons), and admits each value in them; an
 * attempt without an outcome yet passes. */
static void test_constraints_refuse_unknown_values(void **state)
{
    char *loc;
    pyti_store *s = t_store_fresh(state, &loc);
    t_worker(s, "w", NULL, NULL, 0, NULL, NULL);
    long long id = submit(s, 90);
    assert_int_equal(claim(s, "w", NULL), id);
    store_close(s);
    char sql[200];
    static const char *const states[] = {"queued", "leased", "running", "done", "failed",
                                         "cancelled"};
    for (size_t i = 0; i < sizeof states / sizeof *states; i++) {
        snprintf(sql, sizeof sql, "UPDATE jobs SET state = '%s' WHERE id = %lld", states[i], id);
        assert_true(t_raw_sql_ok(loc, sql));
    }
    static const char *const origins[] = {"feed", "upload", "api", "cli"};
    for (size_t i = 0; i < sizeof origins / sizeof *origins; i++) {
        snprintf(sql, sizeof sql, "UPDATE jobs SET created_by = '%s' WHERE id = %lld", origins[i],
                 id);
        assert_true(t_raw_sql_ok(loc, sql));
    }
    static const char *const outcomes[] = {"done",      "error",      "expired", "failed",
                                           "cancelled", "superseded", "late"};
    for (size_t i = 0; i < sizeof outcomes / sizeof *outcomes; i++) {
        snprintf(sql, sizeof sql, "UPDATE attempts SET outcome = '%s' WHERE job_id = %lld",
                 outcomes[i], id);
        assert_true(t_raw_sql_ok(loc, sql));
    }
    snprintf(sql, sizeof sql, "UPDATE attempts SET outcome = NULL WHERE job_id = %lld", id);
    assert_true(t_raw_sql_ok(loc, sql));
    static const struct {
        const char *table, *key, *set;
    } bad[] = {
        {"jobs", "id", "state = 'paused'"},
        {"jobs", "id", "state = 'Queued'"},
        {"jobs", "id", "created_by = 'robot'"},
        {"attempts", "job_id", "outcome = 'lost'"},
        {"attempts", "job_id", "outcome = ''"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(sql, sizeof sql, "UPDATE %s SET %s WHERE %s = %lld", bad[i].table, bad[i].set,
                 bad[i].key, id);
        if (t_raw_sql_ok(loc, sql))
            fail_msg("the store admitted: %s", sql);
    }
    assert_int_equal(t_raw_int(loc, "SELECT COUNT(*) FROM jobs WHERE state = 'cancelled'"
                                    " AND created_by = 'cli'"),
                     1);
    free(loc);
}

/* Listing and counting jobs in every state, by state, project and worker:
 * since migration 4 each of these finds its jobs through a different
 * partial index (or, for done jobs, the primary key), so every state and
 * every combination is checked, and jobs leave each listing with their
 * state. */
static void test_list_every_state(void **state)
{
    char *loc;
    pyti_store *s = t_store_fresh(state, &loc);
    t_fast_queue(s);
    t_worker(s, "w", NULL, NULL, 0, NULL, NULL);
    /* Six jobs of one project (two spellings, three releases), two of
     * another, submitted in claim order. */
    static const char *const versions[] = {"1.0", "1.0", "2.0", "2.0", "3.0", "3.0"};
    long long id[6];
    for (unsigned i = 0; i < 6; i++) {
        store_job_spec sp;
        t_spec(&sp, 100 + i);
        sp.name = i % 2 ? "Shared.Pkg" : "shared_pkg";
        sp.version = versions[i];
        id[i] = submit_spec(s, &sp, NULL);
    }
    long long other_done = submit(s, 110), other_queued = submit(s, 111);
    int a[6], ao;
    for (int i = 0; i < 6; i++)
        assert_int_equal(claim(s, "w", &a[i]), id[i]);
    assert_int_equal(claim(s, "w", &ao), other_done);
    assert_int_equal(complete(s, other_done, ao, 110, "passed", NULL), STORE_RESULT_STORED);
    pyti_error err;
    store_lease_state ls;
    assert_int_equal(store_job_start(s, id[2], a[2], 0, &ls, &err), PYTI_OK);
    assert_int_equal(complete(s, id[3], a[3], 103, "failed", NULL), STORE_RESULT_STORED);
    store_result res;
    assert_int_equal(store_job_fail(s, id[4], a[4], false, "gone", &res, &err), PYTI_OK);
    assert_int_equal(store_job_cancel(s, id[5], NULL, &err), PYTI_OK);
    /* id[0] is given back by a retryable failure: queued again. */
    assert_int_equal(store_job_fail(s, id[0], a[0], true, "disk full", &res, &err), PYTI_OK);
    assert_state(s, id[0], "queued");
    assert_state(s, id[1], "leased");
    assert_state(s, id[2], "running");

    static const char *const states[] = {"queued", "leased", "running",
                                         "done", "failed", "cancelled"};
    static const long long all[] = {2, 1, 1, 2, 1, 1};
    for (int k = 0; k < 6; k++) {
        assert_int_equal(list_count(s, NULL, states[k], NULL), all[k]);
        assert_int_equal(list_count(s, "SHARED-pkg", states[k], NULL), 1);
    }
    assert_int_equal(list_count(s, NULL, NULL, NULL), 8);
    assert_int_equal(list_count(s, "shared.pkg", NULL, NULL), 6);
    assert_int_equal(list_count(s, "demo-110", NULL, NULL), 1);
    assert_int_equal(list_count(s, "nothing", NULL, NULL), 0);
    assert_int_equal(list_count(s, NULL, NULL, "w"), 2);
    assert_int_equal(list_count(s, "shared-pkg", "running", "w"), 1);
    assert_int_equal(list_count(s, "shared-pkg", "done", "w"), 0);
    /* Paging a project's jobs across its states. */
    store_job_filter f = {0};
    f.project = "shared-pkg";
    f.before_id = id[4];
    f.limit = 2;
    json_t *arr = store_jobs_list(s, &f, &err);
    assert_int_equal(json_array_size(arr), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "id")), id[3]);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 1), "id")), id[2]);
    json_decref(arr);

    store_metrics m;
    assert_int_equal(store_metrics_get(s, 60, &m, &err), PYTI_OK);
    for (int k = 0; k < 6; k++)
        assert_int_equal(m.jobs[k], all[k]);
    (void)other_queued;

    /* Retried, a failed and a cancelled job are queued again; a job
     * leaves the leased listings when its lease expires. */
    assert_int_equal(store_job_retry(s, id[4], &err), PYTI_OK);
    assert_int_equal(store_job_retry(s, id[5], &err), PYTI_OK);
    assert_int_equal(list_count(s, "shared-pkg", "queued", NULL), 3);
    assert_int_equal(list_count(s, "shared-pkg", "failed", NULL), 0);
    assert_int_equal(list_count(s, NULL, "cancelled", NULL), 0);
    set_clock(s, 3600 * 1000);
    reap(s, 2, 0);
    assert_int_equal(list_count(s, NULL, NULL, "w"), 0);
    assert_int_equal(list_count(s, "shared-pkg", "queued", NULL), 5);
    assert_int_equal(store_metrics_get(s, 60, &m, &err), PYTI_OK);
    assert_int_equal(m.jobs[STORE_JOB_QUEUED], 6);
    assert_int_equal(m.jobs[STORE_JOB_LEASED] + m.jobs[STORE_JOB_RUNNING], 0);
    assert_int_equal(m.jobs[STORE_JOB_DONE], 2);
    store_close(s);
    free(loc);
}

/* What a worker uses to choose among its interpreters: the minors a
 * requirement admits, as the claim matches them. */
static void test_python_minors(void **state)
{
    (void)state;
    pyti_strv m = PYTI_STRV_INIT;
    pyti_error err;
    assert_int_equal(store_python_minors(">=3.10,<3.12", &m, &err), PYTI_OK);
    assert_int_equal(m.len, 2);
    assert_string_equal(m.items[0], "3.10");
    assert_string_equal(m.items[1], "3.11");
    strv_free(&m);
    assert_int_equal(store_python_minors("3.12", &m, &err), PYTI_OK);
    assert_int_equal(m.len, 1);
    strv_free(&m);
    assert_int_equal(store_python_minors(">=3.11.4", &m, &err), PYTI_OK);
    assert_string_equal(m.items[0], "3.11"); /* 3.11.4 and later admit 3.11 */
    strv_free(&m);
    assert_int_equal(store_python_minors(NULL, &m, &err), PYTI_OK);
    assert_true(m.len > 10);
    strv_free(&m);
    assert_int_equal(store_python_minors("any", &m, &err), PYTI_OK);
    assert_true(strv_contains(&m, "2.7"));
    strv_free(&m);
    assert_int_equal(store_python_minors(">=4", &m, &err), PYTI_ERR_USAGE);
    strv_free(&m);
    assert_int_equal(store_python_minors("not a spec", &m, &err), PYTI_ERR_USAGE);
    strv_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_python_minors),
        T_BOTH(test_submit_get_list),
        T_BOTH(test_list_mixed_requirements),
        T_BOTH(test_submit_is_idempotent),
        T_BOTH(test_concurrent_submits_make_one_job),
        T_BOTH(test_submit_refuses_bad_specs),
        T_BOTH(test_spec_from_json),
        T_BOTH(test_claim_order_and_attempts),
        T_BOTH(test_claim_many),
        T_BOTH(test_concurrent_claimers_never_share),
        T_BOTH(test_concurrent_batch_claimers_never_share),
        T_BOTH(test_matching_requirements),
        T_BOTH(test_matching_worker_policy),
        T_BOTH(test_result_with_next_claim),
        T_BOTH(test_heartbeat_expiry_requeue),
        T_BOTH(test_result_stored_exactly_once),
        T_BOTH(test_result_report_id_taken),
        T_BOTH(test_result_rows),
        T_BOTH(test_result_without_findings),
        T_BOTH(test_late_result_first_complete_wins),
        T_BOTH(test_infra_errors_backoff_then_fail),
        T_BOTH(test_backoff_is_capped),
        T_BOTH(test_package_failures_are_results),
        T_BOTH(test_cancel_and_retry),
        T_BOTH(test_workers),
        T_BOTH(test_feed_cursor_cas),
        T_BOTH(test_feed_cursor_cas_concurrent),
        T_BOTH(test_logs),
        T_BOTH(test_metrics),
        T_BOTH(test_list_every_state),
        T_BOTH(test_constraints_refuse_unknown_values),
    };
    return cmocka_run_group_tests_name("queue", tests, NULL, NULL);
}
