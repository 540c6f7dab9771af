/* master_throughput.c — claim -> result throughput of trivial jobs through
 * the master's HTTP API (bench/README.md), the over-HTTP twin of
 * queue_throughput: submits N jobs in batches of 1,000 (JSON specs with
 * URLs nobody fetches), then K claimer threads, each a worker with its own
 * keep-alive connection (src/worker/client.c), claim up to B jobs and post
 * a minimal valid report for each until the queue is empty — the last
 * result of each batch asking for the next jobs ("next", as the worker's
 * slots do; --separate-claims: a claim call each time instead). Prints
 * the submit rate and the claim -> result rate. A figure, not a test.
 *
 *   master_throughput --master URL --token-file F [--jobs N] [--claimers K] [--batch B]
 *                     [--separate-claims]
 *
 * bench/run-master starts `pyti serve` on SQLite and on a throwaway
 * PostgreSQL and runs this against each. */
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "worker/client.h"

#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static const char *master;
static char *token;
static int njobs = 5000;
static int nclaimers = 8;
static int batch = 1;
static bool separate_claims;

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "master_throughput: %s: %s\n", what, msg ? msg : "failed");
    exit(1);
}

static void random_hex(char *out, size_t n)
{
    unsigned char b[64];
    if (getrandom(b, (n + 1) / 2, 0) != (ssize_t)((n + 1) / 2))
        die("getrandom", NULL);
    for (size_t i = 0; i < n; i++)
        out[i] = "0123456789abcdef"[(b[i / 2] >> (i % 2 ? 0 : 4)) & 15];
    out[n] = '\0';
}

/* A POST that must succeed. */
static json_t *post(mclient *c, const char *path, json_t *body)
{
    long status = 0;
    json_t *ans = NULL;
    pyti_error err;
    if (mclient_call(c, "POST", path, body, 120, &status, &ans, &err) != PYTI_OK)
        die(path, err.msg);
    if (status != 200 && status != 201)
        die(path, mclient_error_text(ans, status));
    return ans;
}

static json_t *report_for(const json_t *job)
{
    char rid[33];
    random_hex(rid, 32);
    return json_pack(
        "{s:i, s:s, s:s, s:s, s:s, s:f, s:{s:s, s:s},"
        " s:{s:s, s:s, s:s, s:s, s:i, s:s},"
        " s:[{s:s, s:s, s:n, s:s, s:f, s:{}}], s:[], s:{s:s, s:s}, s:s}",
        "schema_version", 1, "id", rid, "pyti_version", "0.1.0", "created",
        "2026-11-25T10:00:00.000Z", "finished", "2026-11-25T10:00:00.001Z", "duration_s", 0.001,
        "recipe", "name", "static", "file", "static.ini", "distribution", "name",
        json_string_value(json_object_get(job, "name")), "version", "1.0", "filename",
        json_string_value(json_object_get(job, "filename")), "sha256",
        json_string_value(json_object_get(job, "sha256")), "size", 1, "kind", "sdist", "tasks",
        "name", "extract", "status", "passed", "reason", "started", "2026-11-25T10:00:00.000Z",
        "duration_s", 0.001, "data", "findings", "verdict", "quality", "ok", "safety",
        "unassessed", "outcome", "passed");
}

typedef struct claimer {
    int index;
    long done;
    pthread_t thread;
} claimer;

static void *claim_loop(void *arg)
{
    claimer *cl = arg;
    pyti_error err;
    mclient *c = mclient_new(master, token, &err);
    if (!c)
        die("client", err.msg);
    char wid[64], path[128];
    snprintf(wid, sizeof wid, "bench-%d", cl->index);
    snprintf(path, sizeof path, "/api/v1/workers/%s", wid);
    long status;
    json_t *ans = NULL;
    json_t *caps = json_object();
    if (mclient_call(c, "PUT", path, caps, 60, &status, &ans, &err) != PYTI_OK || status != 200)
        die("register", err.msg);
    json_decref(ans);
    json_decref(caps);
    snprintf(path, sizeof path, "/api/v1/workers/%s/claim", wid);
    json_t *req = json_pack("{s:i, s:i}", "max", batch, "wait", 0);
    /* As a worker's slot: the last job's result asks for the next ones
     * ("next"); a claim only when none came. */
    json_t *got = post(c, path, req);
    for (;;) {
        json_t *leases = json_object_get(got, "leases");
        if (json_array_size(leases) == 0) {
            json_decref(got);
            break;
        }
        json_t *next = NULL;
        size_t i;
        json_t *l;
        json_array_foreach(leases, i, l) {
            char rpath[128];
            snprintf(rpath, sizeof rpath, "/api/v1/jobs/%lld/attempts/%lld/result",
                     (long long)json_integer_value(json_object_get(l, "job_id")),
                     (long long)json_integer_value(json_object_get(l, "attempt")));
            json_t *body = json_pack("{s:o}", "report", report_for(json_object_get(l, "job")));
            if (!separate_claims && i + 1 == json_array_size(leases))
                json_object_set_new(body, "next",
                                    json_pack("{s:s, s:i}", "worker", wid, "max", batch));
            json_t *res = post(c, rpath, body);
            const char *r = json_string_value(json_object_get(res, "result"));
            if (!r || strcmp(r, "stored") != 0)
                die("result", r);
            if (!separate_claims && i + 1 == json_array_size(leases))
                next = json_incref(json_object_get(res, "next"));
            json_decref(res);
            json_decref(body);
            cl->done++;
        }
        json_decref(got);
        got = next && json_array_size(json_object_get(next, "leases")) ? next : post(c, path, req);
        if (got != next)
            json_decref(next);
    }
    json_decref(req);
    mclient_free(c);
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"master", required_argument, NULL, 'm'}, {"token-file", required_argument, NULL, 't'},
        {"jobs", required_argument, NULL, 'n'},   {"claimers", required_argument, NULL, 'k'},
        {"batch", required_argument, NULL, 'b'},  {"separate-claims", no_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    const char *token_file = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': master = optarg; break;
        case 't': token_file = optarg; break;
        case 'n': njobs = atoi(optarg); break;
        case 'k': nclaimers = atoi(optarg); break;
        case 'b': batch = atoi(optarg); break;
        case 's': separate_claims = true; break;
        default: return 2;
        }
    }
    if (!master || !token_file || njobs < 1 || nclaimers < 1 || batch < 1 || batch > 64) {
        fprintf(stderr, "usage: master_throughput --master URL --token-file F [--jobs N] "
                        "[--claimers K] [--batch 1..64] [--separate-claims]\n");
        return 2;
    }
    pyti_error err;
    if (!(token = mclient_read_token(token_file, &err)))
        die("token", err.msg);
    mclient *mc = mclient_new(master, token, &err);
    if (!mc)
        die("client", err.msg);
    char tag[9];
    random_hex(tag, 8);
    double t0 = time_monotonic();
    for (int from = 0; from < njobs; from += 1000) {
        json_t *arr = json_array();
        for (int i = from; i < njobs && i < from + 1000; i++) {
            char sha[65], name[48], fn[80], url[128];
            snprintf(sha, sizeof sha, "%s%056x", tag, i);
            snprintf(name, sizeof name, "bench-%s-%d", tag, i);
            snprintf(fn, sizeof fn, "bench_%s_%d-1.0.tar.gz", tag, i);
            snprintf(url, sizeof url, "http://files.invalid/%s", fn);
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "name",
                                                 name, "version", "1.0", "filename", fn, "url",
                                                 url, "sha256", sha, "size", 1, "recipe",
                                                 "static"));
        }
        json_decref(post(mc, "/api/v1/jobs", arr));
        json_decref(arr);
    }
    double t1 = time_monotonic();
    printf("submitted %d jobs in %.2f s: %.0f jobs/s (batches of 1000)\n", njobs, t1 - t0,
           njobs / (t1 - t0));
    fflush(stdout);
    claimer *cls = xcalloc((size_t)nclaimers, sizeof *cls);
    double t2 = time_monotonic();
    for (int i = 0; i < nclaimers; i++) {
        cls[i].index = i;
        pthread_create(&cls[i].thread, NULL, claim_loop, &cls[i]);
    }
    long done = 0;
    for (int i = 0; i < nclaimers; i++) {
        pthread_join(cls[i].thread, NULL);
        done += cls[i].done;
    }
    double t3 = time_monotonic();
    printf("claim -> result over HTTP: %ld jobs by %d claimers (batch %d) in %.2f s: "
           "%.0f jobs/s\n", done, nclaimers, batch, t3 - t2, done / (t3 - t2));
    if (done != njobs) {
        fprintf(stderr, "master_throughput: %ld of %d jobs done\n", done, njobs);
        return 1;
    }
    free(cls);
    mclient_free(mc);
    free(token);
    return 0;
}
