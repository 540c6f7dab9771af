/* cmd_jobs.c — `pyti jobs`: the job queue for operators and tests. Lists
 * jobs (by state, project), shows one with its attempts, submits local
 * distribution files or JSON job specs, cancels and retries jobs, lists
 * workers and prints the queue's metrics. The work happens in
 * store/queue.h; this file parses and prints. */
#include "cli/cli.h"
#include "common/hash.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/str.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "pkg/name.h"
#include "store/queue.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct jobs_opts {
    const char *db;
    const char *state;
    const char *project;
    long limit;
    bool json;
    enum { LIST, SHOW, SUBMIT, CANCEL, RETRY, METRICS, WORKERS } action;
    const char *arg; /* the file (submit) or job id (show, cancel, retry) */
    const char *recipe;
    const char *python;
    const char *url;
    long priority;
    bool retest;
} jobs_opts;

static int set_action(const cli_command *self, jobs_opts *o, int action, const char *arg)
{
    if (o->action != LIST)
        return cli_usage(self, "give one of --show, --submit, --cancel, --retry, --metrics, "
                               "--workers");
    o->action = action;
    o->arg = arg;
    return -1;
}

static bool parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || !*s || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* A string from a package, safe for a terminal. */
static void put_field(FILE *out, const char *s, size_t max)
{
    char *e = str_excerpt(s ? s : "-", strlen(s ? s : "-"), max);
    fputs(e, out);
    free(e);
}

static void print_job_line(const json_t *j)
{
    printf("%-7lld %-9s %2lld  ", (long long)json_integer_value(json_object_get(j, "id")),
           json_get_str(j, "state"), (long long)json_integer_value(json_object_get(j, "attempts")));
    put_field(stdout, json_get_str(j, "name"), 40);
    putchar(' ');
    put_field(stdout, json_get_str(j, "version"), 24);
    printf("  ");
    put_field(stdout, json_get_str(j, "filename"), 60);
    printf("  recipe=");
    put_field(stdout, json_get_str(j, "recipe"), 40);
    const char *py = json_get_str(j, "python");
    if (py && *py) {
        printf(" python ");
        put_field(stdout, py, 40);
    }
    if (json_get_str(j, "worker")) {
        printf(" worker=");
        put_field(stdout, json_get_str(j, "worker"), 64);
    }
    if (json_get_str(j, "report_id"))
        printf(" report=%.12s", json_get_str(j, "report_id"));
    if (json_get_str(j, "error")) {
        printf(" error=\"");
        put_field(stdout, json_get_str(j, "error"), 80);
        putchar('"');
    }
    putchar('\n');
}

static void print_json(const json_t *v)
{
    char *text = json_dump_pretty(v);
    fputs(text, stdout);
    free(text);
}

static int do_list(pyti_store *s, const jobs_opts *o)
{
    store_job_filter f = {0};
    f.state = o->state;
    f.project = o->project;
    f.limit = (size_t)o->limit;
    pyti_error err;
    json_t *list = store_jobs_list(s, &f, &err);
    if (!list)
        return cli_fail(&err);
    if (o->json) {
        print_json(list);
    } else if (json_array_size(list) == 0) {
        fprintf(stderr, "pyti: no jobs%s%s\n", o->state ? " in state " : "",
                o->state ? o->state : "");
    } else {
        size_t i;
        json_t *j;
        json_array_foreach(list, i, j)
            print_job_line(j);
    }
    json_decref(list);
    return EXIT_PASSED;
}

static int job_id_arg(const cli_command *self, const char *arg, long long *id)
{
    long v;
    if (!parse_long(arg, 1, LONG_MAX, &v))
        return cli_usage(self, "expected a job id (a positive number), got '%s'", arg);
    *id = v;
    return -1;
}

static int do_show(const cli_command *self, pyti_store *s, const jobs_opts *o)
{
    long long id = 0;
    int rc = job_id_arg(self, o->arg, &id);
    if (rc != -1)
        return rc;
    pyti_error err;
    json_t *j = store_job_get(s, id, &err);
    if (!j)
        return cli_fail(&err);
    if (o->json) {
        print_json(j);
    } else {
        print_job_line(j);
        printf("  sha256 %s  size %lld  created %s  by %s  priority %lld  failures %lld/%lld\n",
               json_get_str(j, "sha256"), (long long)json_integer_value(json_object_get(j, "size")),
               json_get_str(j, "created"), json_get_str(j, "created_by"),
               (long long)json_integer_value(json_object_get(j, "priority")),
               (long long)json_integer_value(json_object_get(j, "failures")),
               (long long)json_integer_value(json_object_get(j, "max_attempts")));
        if (json_get_str(j, "url")) {
            printf("  url ");
            put_field(stdout, json_get_str(j, "url"), 200);
            putchar('\n');
        }
        if (json_get_str(j, "path")) {
            printf("  path ");
            put_field(stdout, json_get_str(j, "path"), 200);
            putchar('\n');
        }
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(j, "attempt_history"), i, a) {
            printf("  attempt %lld  worker ", (long long)json_integer_value(json_object_get(a, "attempt")));
            put_field(stdout, json_get_str(a, "worker"), 64);
            printf("  leased %s  ended %s  %s", json_get_str(a, "leased"),
                   json_get_str(a, "ended") ? json_get_str(a, "ended") : "-",
                   json_get_str(a, "outcome") ? json_get_str(a, "outcome") : "(holding)");
            if (json_get_str(a, "error")) {
                printf("  \"");
                put_field(stdout, json_get_str(a, "error"), 120);
                putchar('"');
            }
            putchar('\n');
        }
    }
    json_decref(j);
    return EXIT_PASSED;
}

/* Submits one spec and says what happened. */
static int submit_one(pyti_store *s, const store_job_spec *sp, bool quiet)
{
    pyti_error err;
    long long id = 0;
    bool created;
    if (store_job_submit(s, sp, &id, &created, &err) != PYTI_OK)
        return cli_fail(&err);
    if (!quiet) {
        printf("%s: %s job %lld\n", sp->filename, created ? "submitted as" : "already", id);
    }
    return EXIT_PASSED;
}

/* A JSON file: one job spec or an array of them. */
static int submit_json(pyti_store *s, const jobs_opts *o, bool quiet)
{
    pyti_error err;
    json_t *doc = json_read_file(o->arg, 64u << 20, &err);
    if (!doc)
        return cli_fail(&err);
    json_t *arr = json_is_array(doc) ? json_incref(doc) : json_pack("[O]", doc);
    int rc = EXIT_PASSED;
    size_t i;
    json_t *j;
    json_array_foreach(arr, i, j) {
        store_job_spec sp;
        pyti_strv py = PYTI_STRV_INIT, tags = PYTI_STRV_INIT;
        if (store_job_spec_from_json(j, &sp, &py, &tags, &err) != PYTI_OK) {
            log_error("%s: job %zu: %s", o->arg, i, err.msg);
            rc = EXIT_USAGE;
        } else {
            if (!json_object_get(j, "created_by"))
                sp.created_by = "cli";
            int r = submit_one(s, &sp, quiet);
            if (r > rc)
                rc = r;
        }
        strv_free(&py);
        strv_free(&tags);
    }
    json_decref(arr);
    json_decref(doc);
    return rc;
}

/* A distribution file on this machine: hashed here, fetched by path. */
static int submit_file(const cli_command *self, pyti_store *s, const jobs_opts *o, bool quiet)
{
    pyti_error err;
    char *abs = realpath(o->arg, NULL);
    if (!abs)
        return cli_usage(self, "%s: %s", o->arg, strerror(errno));
    pyti_dist_filename df;
    if (dist_filename_parse(path_basename(abs), &df, &err) != PYTI_OK) {
        free(abs);
        return cli_fail(&err);
    }
    char sha[PYTI_SHA256_HEX_LEN + 1];
    unsigned long long size = 0;
    int rc;
    if (hash_sha256_file(abs, sha, &size, &err) != PYTI_OK) {
        rc = cli_fail(&err);
    } else {
        store_job_spec sp;
        store_job_spec_init(&sp);
        sp.name = df.name;
        sp.version = df.version;
        sp.filename = path_basename(abs);
        sp.path = o->url ? NULL : abs;
        sp.url = o->url;
        sp.sha256 = sha;
        sp.size = (long long)size;
        sp.recipe = o->recipe;
        sp.python = o->python;
        sp.priority = (int)o->priority;
        sp.retest = o->retest;
        sp.created_by = "cli";
        rc = submit_one(s, &sp, quiet);
    }
    dist_filename_free(&df);
    free(abs);
    return rc;
}

static int do_metrics(pyti_store *s, const jobs_opts *o)
{
    store_metrics m;
    pyti_error err;
    if (store_metrics_get(s, 60, &m, &err) != PYTI_OK)
        return cli_fail(&err);
    json_t *j = json_object();
    json_t *jobs = json_object();
    for (int i = 0; i < STORE_JOB_NSTATES; i++)
        json_object_set_new(jobs, store_job_state_name((store_job_state)i),
                            json_integer(m.jobs[i]));
    json_object_set_new(j, "jobs", jobs);
    json_object_set_new(j, "workers", json_pack("{s:I, s:I, s:I, s:I}", "idle",
                                                (json_int_t)m.workers_idle, "busy",
                                                (json_int_t)m.workers_busy, "draining",
                                                (json_int_t)m.workers_draining, "gone",
                                                (json_int_t)m.workers_gone));
    json_object_set_new(j, "window_s", json_integer(60));
    json_object_set_new(j, "done_recent", json_integer(m.done_recent));
    json_object_set_new(j, "failed_recent", json_integer(m.failed_recent));
    json_object_set_new(j, "duration_sum_s", json_real(m.duration_sum_s));
    json_object_set_new(j, "duration_p50_s", json_real(m.duration_p50_s));
    json_object_set_new(j, "duration_p90_s", json_real(m.duration_p90_s));
    json_object_set_new(j, "duration_p99_s", json_real(m.duration_p99_s));
    json_object_set_new(j, "oldest_queued_s", json_real(m.oldest_queued_s));
    if (o->json) {
        print_json(j);
    } else {
        printf("jobs:");
        for (int i = 0; i < STORE_JOB_NSTATES; i++)
            printf(" %s=%lld", store_job_state_name((store_job_state)i), m.jobs[i]);
        printf("\nworkers: idle=%lld busy=%lld draining=%lld gone=%lld\n", m.workers_idle,
               m.workers_busy, m.workers_draining, m.workers_gone);
        printf("last 60 s: done=%lld failed=%lld duration p50=%.2fs p90=%.2fs p99=%.2fs\n",
               m.done_recent, m.failed_recent, m.duration_p50_s, m.duration_p90_s,
               m.duration_p99_s);
        printf("oldest queued job waits %.1fs\n", m.oldest_queued_s);
    }
    json_decref(j);
    return EXIT_PASSED;
}

static int do_workers(pyti_store *s, const jobs_opts *o)
{
    pyti_error err;
    json_t *list = store_workers_list(s, &err);
    if (!list)
        return cli_fail(&err);
    if (o->json) {
        print_json(list);
    } else {
        size_t i;
        json_t *w;
        json_array_foreach(list, i, w) {
            put_field(stdout, json_get_str(w, "id"), 64);
            printf("  %-8s leases=%lld  last seen %s\n", json_get_str(w, "state"),
                   (long long)json_integer_value(json_object_get(w, "leases")),
                   json_get_str(w, "last_seen"));
        }
        if (json_array_size(list) == 0)
            fprintf(stderr, "pyti: no workers registered\n");
    }
    json_decref(list);
    return EXIT_PASSED;
}

int cmd_jobs(int argc, char **argv, cli_globals *g)
{
    const cli_command *self = cli_find_command("jobs");
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"state", required_argument, NULL, 's'},
        {"project", required_argument, NULL, 'p'},
        {"limit", required_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'J'},
        {"show", required_argument, NULL, 'S'},
        {"submit", required_argument, NULL, 'U'},
        {"cancel", required_argument, NULL, 'C'},
        {"retry", required_argument, NULL, 'R'},
        {"metrics", no_argument, NULL, 'M'},
        {"workers", no_argument, NULL, 'W'},
        {"recipe", required_argument, NULL, 'r'},
        {"python", required_argument, NULL, 'P'},
        {"url", required_argument, NULL, 'u'},
        {"priority", required_argument, NULL, 'y'},
        {"retest", no_argument, NULL, 'T'},
        {"config", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    jobs_opts o = {0};
    o.limit = 50;
    int c, prc;
    while ((c = getopt_long(argc, argv, "n:r:qh", opts, NULL)) != -1) {
        prc = -1;
        switch (c) {
        case 'd': o.db = optarg; break;
        case 's': o.state = optarg; break;
        case 'p': o.project = optarg; break;
        case 'n':
            if (!parse_long(optarg, 0, LONG_MAX, &o.limit))
                return cli_usage(self, "--limit: expected a non-negative number, got '%s'", optarg);
            break;
        case 'J': o.json = true; break;
        case 'S': prc = set_action(self, &o, SHOW, optarg); break;
        case 'U': prc = set_action(self, &o, SUBMIT, optarg); break;
        case 'C': prc = set_action(self, &o, CANCEL, optarg); break;
        case 'R': prc = set_action(self, &o, RETRY, optarg); break;
        case 'M': prc = set_action(self, &o, METRICS, NULL); break;
        case 'W': prc = set_action(self, &o, WORKERS, NULL); break;
        case 'r': o.recipe = optarg; break;
        case 'P': o.python = optarg; break;
        case 'u': o.url = optarg; break;
        case 'y':
            if (!parse_long(optarg, -1000, 1000, &o.priority))
                return cli_usage(self, "--priority: expected -1000..1000, got '%s'", optarg);
            break;
        case 'T': o.retest = true; break;
        case 'c': g->config_path = optarg; break;
        case 'q': g->quiet = true; break;
        case 'h': cli_print_command_help(self, stdout); return EXIT_PASSED;
        default: return cli_usage(self, "bad option");
        }
        if (prc != -1)
            return prc;
    }
    if (optind < argc)
        return cli_usage(self, "unexpected argument '%s'", argv[optind]);
    if (o.action != SUBMIT && (o.recipe || o.python || o.url || o.priority || o.retest))
        return cli_usage(self, "--recipe, --python, --url, --priority and --retest go with "
                               "--submit");
    if (o.action != LIST && (o.state || o.project))
        return cli_usage(self, "--state and --project filter the listing");

    pyti_error err;
    pyti_config *cfg = cli_load_config(g, &err);
    if (!cfg)
        return cli_fail(&err);
    pyti_store *s = cli_open_store(o.db, cfg, &err);
    config_free(cfg);
    if (!s)
        return cli_fail(&err);
    int rc = EXIT_PASSED;
    long long id = 0;
    switch (o.action) {
    case LIST: rc = do_list(s, &o); break;
    case SHOW: rc = do_show(self, s, &o); break;
    case SUBMIT:
        rc = str_endswith(o.arg, ".json") ? submit_json(s, &o, g->quiet)
                                          : submit_file(self, s, &o, g->quiet);
        break;
    case CANCEL:
        if ((rc = job_id_arg(self, o.arg, &id)) == -1) {
            bool changed;
            rc = store_job_cancel(s, id, &changed, &err) != PYTI_OK ? cli_fail(&err) : EXIT_PASSED;
            if (rc == EXIT_PASSED && !g->quiet)
                printf("job %lld %s\n", id, changed ? "cancelled" : "was already cancelled");
        }
        break;
    case RETRY:
        if ((rc = job_id_arg(self, o.arg, &id)) == -1) {
            rc = store_job_retry(s, id, &err) != PYTI_OK ? cli_fail(&err) : EXIT_PASSED;
            if (rc == EXIT_PASSED && !g->quiet)
                printf("job %lld queued again\n", id);
        }
        break;
    case METRICS: rc = do_metrics(s, &o); break;
    case WORKERS: rc = do_workers(s, &o); break;
    }
    store_close(s);
    return rc;
}
