/* web_fill.c — fills a store for bench/web_load: N reports made from one
 * real report (a template written by `pyti test --json`), spread over
 * projects, versions, days, outcomes and safety verdicts, part of them as
 * results of jobs (submitted, claimed by a few workers, completed) so the
 * queue, throughput and workers have history too. Writes the project
 * names and report ids it made, one per line, to OUT.paths (for wrk).
 *
 *   web_fill --db LOCATION --template REPORT.json --reports N
 *            [--projects P] [--jobs J] [--days D] --out PREFIX
 *
 * Each report's page parts are rendered and stored beside it
 * (web_report_warm, as a master does when it stores a result), so the
 * store is what a master's would be.
 *
 * Deterministic (a fixed-seed generator), so runs are comparable. */
#include "common/jsonutil.h"
#include "common/xalloc.h"
#include "exec/metrics.h"
#include "store/queue.h"
#include "store/store.h"
#include "web/web.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long long rng = 0x9e3779b97f4a7c15ull;

static unsigned long long next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void hex(char *out, size_t n)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++)
        out[i] = d[next() & 15];
    out[n] = '\0';
}

static void iso(long long ms, char *out, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, size, "%s.%03dZ", base, (int)(ms % 1000));
}

/* The template turned into report i of project p, version v. */
/* as_job: the report is a job's result, so never outcome "error" (that
 * would be an infrastructure error: the job is queued again). */
static json_t *make_report(const json_t *tpl, int p, int v, long long created_ms,
                           const char *sha, bool as_job)
{
    json_t *r = json_deep_copy(tpl);
    char id[33], name[64], version[32], file[128], when[40];
    hex(id, 32);
    snprintf(name, sizeof name, "project-%05d", p);
    snprintf(version, sizeof version, "1.%d.0", v);
    snprintf(file, sizeof file, "project_%05d-1.%d.0.tar.gz", p, v);
    iso(created_ms, when, sizeof when);
    json_object_set_new(r, "id", json_string(id));
    json_object_set_new(r, "created", json_string(when));
    json_t *d = json_object_get(r, "distribution");
    json_object_set_new(d, "name", json_string(name));
    json_object_set_new(d, "version", json_string(version));
    json_object_set_new(d, "filename", json_string(file));
    json_object_set_new(d, "sha256", json_string(sha));
    json_object_set_new(d, "size", json_integer(1000 + (json_int_t)(next() % 100000)));
    /* Outcomes: mostly passed; some failed (a broken test), a few
     * suspicious or malicious. */
    unsigned roll = (unsigned)(next() % 100);
    const char *outcome = roll < 80 ? "passed" : roll < 95 ? "failed" : roll < 98 ? "error" : "rejected";
    if (as_job && strcmp(outcome, "error") == 0)
        outcome = "failed";
    unsigned s = (unsigned)(next() % 200);
    const char *safety = s == 0 ? "malicious" : s < 4 ? "suspicious" : "clean";
    json_object_set_new(r, "outcome", json_string(strcmp(safety, "clean") ? "failed" : outcome));
    json_t *verdict = json_object_get(r, "verdict");
    json_object_set_new(verdict, "safety", json_string(safety));
    json_object_set_new(verdict, "quality",
                        json_string(strcmp(outcome, "passed") == 0 ? "ok" : "broken"));
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(r, "tasks"), i, t) {
        json_t *c = json_object_get(json_object_get(t, "data"), "counts");
        if (c && strcmp(outcome, "failed") == 0) {
            json_object_set_new(t, "status", json_string("failed"));
            json_object_set_new(c, "failures", json_integer(1 + (json_int_t)(next() % 3)));
        }
        json_object_set_new(t, "duration_s", json_real(0.01 + (double)(next() % 5000) / 1000.0));
    }
    json_object_set_new(r, "metrics", metrics_compute(r));
    return r;
}

int main(int argc, char **argv)
{
    const char *db = NULL, *tpl_path = NULL, *out = NULL;
    long reports = 100000, projects = 10000, jobs = 10000, days = 30;
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},      {"template", required_argument, NULL, 't'},
        {"reports", required_argument, NULL, 'n'}, {"projects", required_argument, NULL, 'p'},
        {"jobs", required_argument, NULL, 'j'},    {"days", required_argument, NULL, 'D'},
        {"out", required_argument, NULL, 'o'},     {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 't': tpl_path = optarg; break;
        case 'n': reports = atol(optarg); break;
        case 'p': projects = atol(optarg); break;
        case 'j': jobs = atol(optarg); break;
        case 'D': days = atol(optarg); break;
        case 'o': out = optarg; break;
        default: return 2;
        }
    }
    if (!db || !tpl_path || !out || reports < 1 || projects < 1 || jobs < 0 || jobs > reports) {
        fprintf(stderr, "usage: web_fill --db LOC --template REPORT.json --reports N "
                        "[--projects P] [--jobs J] [--days D] --out PREFIX\n");
        return 2;
    }
    pyti_error err;
    json_t *tpl = json_read_file(tpl_path, 64u << 20, &err);
    pyti_store *s = tpl ? store_open(db, &err) : NULL;
    if (!s) {
        fprintf(stderr, "web_fill: %s\n", err.msg);
        return 1;
    }
    char *paths_name = xasprintf("%s.paths", out);
    FILE *paths = fopen(paths_name, "w");
    if (!paths) {
        perror(paths_name);
        return 1;
    }
    /* Workers that run the job part. */
    for (int w = 0; w < 8; w++) {
        char id[32];
        snprintf(id, sizeof id, "bench-worker-%d", w);
        store_worker_info wi = {.id = id, .arch = "x86_64", .os = "linux", .memory_mb = 8192};
        if (store_worker_register(s, &wi, &err) != PYTI_OK) {
            fprintf(stderr, "web_fill: %s\n", err.msg);
            return 1;
        }
    }
    long long now = (long long)time(NULL) * 1000;
    long long span = days * 86400000LL;
    double t0 = (double)clock() / CLOCKS_PER_SEC;
    for (long i = 0; i < reports; i++) {
        int p = (int)(i % projects), v = (int)(i / projects);
        /* The newest reports last: created increases with i. */
        long long created = now - span + span * i / reports;
        char sha[65];
        hex(sha, 64);
        bool as_job = i >= reports - jobs;
        json_t *r = make_report(tpl, p, v, created, sha, as_job);
        if (as_job) {
            /* The newest ones as results of jobs. */
            store_job_spec spec;
            store_job_spec_init(&spec);
            const json_t *d = json_object_get(r, "distribution");
            spec.name = json_get_str(d, "name");
            spec.version = json_get_str(d, "version");
            spec.filename = json_get_str(d, "filename");
            spec.url = "https://files.example/bench.tar.gz";
            spec.sha256 = sha;
            spec.recipe = "default";
            long long job;
            bool created_job, claimed;
            store_lease lease;
            char wid[32];
            snprintf(wid, sizeof wid, "bench-worker-%ld", i % 8);
            store_result res;
            if (store_job_submit(s, &spec, &job, &created_job, &err) != PYTI_OK ||
                store_job_claim(s, wid, 0, &lease, &claimed, &err) != PYTI_OK || !claimed ||
                store_job_complete(s, lease.job_id, lease.attempt, r, &res, &err) != PYTI_OK) {
                fprintf(stderr, "web_fill: job %ld: %s\n", i, err.msg);
                return 1;
            }
            store_lease_clear(&lease);
        } else if (store_put_report(s, r, NULL, &err) != PYTI_OK) {
            fprintf(stderr, "web_fill: report %ld: %s\n", i, err.msg);
            return 1;
        }
        /* What the master does with a result it stored (api_jobs.c). */
        web_report_warm(s, json_get_str(r, "id"));
        if (v == 0 || i % 97 == 0)
            fprintf(paths, "project %s\n", json_get_str(json_object_get(r, "distribution"), "name"));
        if (i % 53 == 0)
            fprintf(paths, "report %s\n", json_get_str(r, "id"));
        json_decref(r);
        if (i % 10000 == 9999)
            fprintf(stderr, "web_fill: %ld reports (%.0f s CPU)\n", i + 1,
                    (double)clock() / CLOCKS_PER_SEC - t0);
    }
    fclose(paths);
    printf("web_fill: %ld reports of %ld projects (%ld as job results) in %s\n", reports,
           projects, jobs, db);
    free(paths_name);
    store_close(s);
    json_decref(tpl);
    return 0;
}
