/* cmd_jobs.c — `pyti jobs`: the job queue for operators and tests. Lists
 * jobs (by state, project), shows one with its attempts, submits local
 * distribution files or JSON job specs, cancels and retries jobs, lists
 * workers and prints the queue's metrics. The work happens in
 * store/queue.h; this file parses and prints. */
#include "cli/cli.h"
#include "common/buf.h"
#include "common/hash.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/str.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "pkg/name.h"
#include "store/queue.h"
#include "worker/client.h"

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
    const char *master;     /* remote mode: the master's URL */
    const char *token_file;
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

static void print_list(const json_t *list, const jobs_opts *o)
{
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
    print_list(list, o);
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

static void print_job(const json_t *j, const jobs_opts *o);

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
    print_job(j, o);
    json_decref(j);
    return EXIT_PASSED;
}

static void print_job(const json_t *j, const jobs_opts *o)
{
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

static void print_workers(const json_t *list, const jobs_opts *o)
{
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
}

static int do_workers(pyti_store *s, const jobs_opts *o)
{
    pyti_error err;
    json_t *list = store_workers_list(s, &err);
    if (!list)
        return cli_fail(&err);
    print_workers(list, o);
    json_decref(list);
    return EXIT_PASSED;
}

/* ---- against a master (--master URL) ---- */

/* GETs path as JSON into *out; an exit code other than -1 on failure. */
static int remote_get(mclient *c, const char *path, json_t **out)
{
    long status = 0;
    pyti_error err;
    *out = NULL;
    if (mclient_call_retry(c, "GET", path, NULL, 60, 10, &status, out, &err) != PYTI_OK)
        return cli_fail(&err);
    if (status != 200) {
        int rc = cli_master_error(c, status, *out);
        json_decref(*out);
        *out = NULL;
        return rc;
    }
    return -1;
}

static int remote_post(mclient *c, const char *path, const json_t *body, json_t **out)
{
    long status = 0;
    pyti_error err;
    *out = NULL;
    if (mclient_call_retry(c, "POST", path, body, 60, 10, &status, out, &err) != PYTI_OK)
        return cli_fail(&err);
    if (status != 200 && status != 201) {
        int rc = cli_master_error(c, status, *out);
        json_decref(*out);
        *out = NULL;
        return rc;
    }
    return -1;
}

static char *query_escape(mclient *c, const char *s)
{
    (void)c;
    pyti_buf b = PYTI_BUF_INIT;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.')
            buf_putc(&b, (char)*p);
        else
            buf_printf(&b, "%%%02X", *p);
    }
    return buf_detach(&b);
}

static int remote_list(mclient *c, const jobs_opts *o)
{
    json_t *all = json_array();
    long long before = 0;
    int rc = -1;
    /* The API pages by 1000 at most; --limit 0 reads every page. */
    while (rc == -1) {
        long want = o->limit == 0 ? 1000 : o->limit - (long)json_array_size(all);
        if (want <= 0)
            break;
        if (want > 1000)
            want = 1000;
        pyti_buf path = PYTI_BUF_INIT;
        buf_printf(&path, "/api/v1/jobs?limit=%ld", want);
        if (o->state) {
            char *e = query_escape(c, o->state);
            buf_printf(&path, "&state=%s", e);
            free(e);
        }
        if (o->project) {
            char *e = query_escape(c, o->project);
            buf_printf(&path, "&project=%s", e);
            free(e);
        }
        if (before)
            buf_printf(&path, "&before=%lld", before);
        json_t *page = NULL;
        rc = remote_get(c, buf_cstr(&path), &page);
        buf_free(&path);
        if (rc != -1)
            break;
        json_array_extend(all, json_object_get(page, "jobs"));
        json_t *next = json_object_get(page, "next_before");
        before = json_is_integer(next) ? json_integer_value(next) : 0;
        json_decref(page);
        if (!before)
            break;
    }
    if (rc == -1) {
        print_list(all, o);
        rc = EXIT_PASSED;
    }
    json_decref(all);
    return rc;
}

static int remote_submit(mclient *c, const jobs_opts *o, bool quiet)
{
    json_t *ans = NULL;
    int rc;
    if (str_endswith(o->arg, ".json")) {
        pyti_error err;
        json_t *doc = json_read_file(o->arg, 64u << 20, &err);
        if (!doc)
            return cli_fail(&err);
        rc = remote_post(c, "/api/v1/jobs", doc, &ans);
        json_decref(doc);
        if (rc != -1)
            return rc;
        json_t *list = json_object_get(ans, "jobs");
        if (!list) {
            json_t *one = json_pack("{s:O, s:O}", "id", json_object_get(ans, "id"), "created",
                                    json_object_get(ans, "created"));
            list = json_pack("[o]", one);
            json_object_set_new(ans, "jobs", list);
        }
        size_t i;
        json_t *j;
        rc = EXIT_PASSED;
        json_array_foreach(list, i, j) {
            if (json_get_str(j, "error")) {
                log_error("%s: job %zu: %s", o->arg, i, json_get_str(j, "error"));
                rc = EXIT_USAGE;
            } else if (!quiet) {
                printf("job %zu: %s job %lld\n", i,
                       json_is_true(json_object_get(j, "created")) ? "submitted as" : "already",
                       (long long)json_integer_value(json_object_get(j, "id")));
            }
        }
        json_decref(ans);
        return rc;
    }
    char prio[16];
    snprintf(prio, sizeof prio, "%ld", o->priority);
    const char *fields[12];
    int n = 0;
    if (o->recipe) {
        fields[n++] = "recipe";
        fields[n++] = o->recipe;
    }
    if (o->python) {
        fields[n++] = "python";
        fields[n++] = o->python;
    }
    fields[n++] = "priority";
    fields[n++] = prio;
    if (o->retest) {
        fields[n++] = "retest";
        fields[n++] = "true";
    }
    fields[n] = NULL;
    long status = 0;
    pyti_error err;
    if (mclient_upload(c, "/api/v1/jobs", "file", o->arg, fields, &status, &ans, &err) != PYTI_OK)
        return cli_fail(&err);
    if (status != 200 && status != 201) {
        rc = cli_master_error(c, status, ans);
    } else {
        rc = EXIT_PASSED;
        if (!quiet)
            printf("%s: %s job %lld\n", path_basename(o->arg),
                   json_is_true(json_object_get(ans, "created")) ? "submitted as" : "already",
                   (long long)json_integer_value(json_object_get(ans, "id")));
    }
    json_decref(ans);
    return rc;
}

static int jobs_remote(const cli_command *self, const jobs_opts *o, cli_globals *g)
{
    if (o->url)
        return cli_usage(self, "--url is for the local queue; with --master, give the file "
                               "(uploaded) or a JSON spec with a url");
    pyti_error err;
    pyti_config *cfg = cli_load_config(g, &err);
    if (!cfg)
        return cli_fail(&err);
    mclient *c = cli_master_client(o->master, o->token_file, cfg, &err);
    config_free(cfg);
    if (!c)
        return cli_fail(&err);
    int rc = EXIT_PASSED;
    long long id = 0;
    json_t *ans = NULL;
    char path[96];
    switch (o->action) {
    case LIST: rc = remote_list(c, o); break;
    case SHOW:
        if ((rc = job_id_arg(self, o->arg, &id)) != -1)
            break;
        snprintf(path, sizeof path, "/api/v1/jobs/%lld", id);
        if ((rc = remote_get(c, path, &ans)) == -1) {
            print_job(ans, o);
            rc = EXIT_PASSED;
        }
        break;
    case SUBMIT: rc = remote_submit(c, o, g->quiet); break;
    case CANCEL:
    case RETRY:
        if ((rc = job_id_arg(self, o->arg, &id)) != -1)
            break;
        snprintf(path, sizeof path, "/api/v1/jobs/%lld/%s", id,
                 o->action == CANCEL ? "cancel" : "retry");
        if ((rc = remote_post(c, path, NULL, &ans)) == -1) {
            rc = EXIT_PASSED;
            if (!g->quiet && o->action == CANCEL)
                printf("job %lld %s\n", id, json_is_true(json_object_get(ans, "changed"))
                                                ? "cancelled"
                                                : "was already cancelled");
            else if (!g->quiet)
                printf("job %lld queued again\n", id);
        }
        break;
    case WORKERS:
        if ((rc = remote_get(c, "/api/v1/workers", &ans)) == -1) {
            print_workers(json_object_get(ans, "workers"), o);
            rc = EXIT_PASSED;
        }
        break;
    case METRICS: {
        long status = 0;
        char *text = NULL;
        if (mclient_get_text(c, "/metrics", &status, &text, NULL, &err) != PYTI_OK)
            rc = cli_fail(&err);
        else if (!text)
            rc = cli_master_error(c, status, NULL);
        else
            fputs(text, stdout);
        free(text);
        break;
    }
    }
    json_decref(ans);
    mclient_free(c);
    return rc;
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
        {"master", required_argument, NULL, 'm'},
        {"token-file", required_argument, NULL, 't'},
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
        case 'm': o.master = optarg; break;
        case 't': o.token_file = optarg; break;
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

    if (o.token_file && !o.master)
        return cli_usage(self, "--token-file goes with --master");
    if (o.master && o.db)
        return cli_usage(self, "give --master URL or --db LOCATION, not both");
    if (o.master)
        return jobs_remote(self, &o, g);

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
