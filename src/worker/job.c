/* job.c — one leased job on a worker: fetch the distribution (a readable
 * local path with the right sha256, else the URL, verified), tell the
 * master it started, run `pyti test` on it in a child process (its own
 * process group, killed if the worker dies), heartbeat the lease while it
 * runs (stopping the run if the master says the lease is lost, the job
 * cancelled or already done), then upload the report with the logs, or
 * report the failure. */
#include "worker/worker_internal.h"
#include "common/hash.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "exec/report.h"
#include "store/queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOG_TAIL_MAX (1u << 20)    /* bytes kept of one log */
#define LOGS_TOTAL_MAX (16u << 20) /* bytes of logs sent with one result */
#define MESSAGE_MAX 2000
#define KEPT_MARK "pyti: job directory kept: "

typedef struct run_ctx {
    pyti_worker *w;
    mclient *c;
    long long id;
    int attempt;
    char base[96];   /* /api/v1/jobs/ID/attempts/N */
    char *dir;       /* this job's private directory */
} run_ctx;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* A copy of s[0..len) without its NUL bytes: the master refuses JSON
 * with \u0000 (text from it must stay C strings), so NULs in logs and
 * reports are dropped here, as the store drops them anyway. */
static json_t *text_without_nul(const char *s, size_t len)
{
    char *b = xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i])
            b[n++] = s[i];
    json_t *j = json_textn(b, n);
    free(b);
    return j;
}

/* Replaces every string of v holding a NUL byte by one without. */
static void strip_nul(json_t *v)
{
    size_t i;
    const char *k;
    json_t *x;
    if (json_is_object(v)) {
        json_object_foreach(v, k, x) {
            if (json_is_string(x) && memchr(json_string_value(x), 0, json_string_length(x)))
                json_object_set_new(v, k, text_without_nul(json_string_value(x),
                                                           json_string_length(x)));
            else
                strip_nul(x);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x) {
            if (json_is_string(x) && memchr(json_string_value(x), 0, json_string_length(x)))
                json_array_set_new(v, i, text_without_nul(json_string_value(x),
                                                          json_string_length(x)));
            else
                strip_nul(x);
        }
    }
}

/* The last max bytes of a file, as a JSON string (invalid UTF-8
 * repaired, NUL bytes dropped), or NULL if it cannot be read. */
static json_t *file_tail(const char *path, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return NULL;
    }
    off_t off = st.st_size > (off_t)max ? st.st_size - (off_t)max : 0;
    size_t len = (size_t)(st.st_size - off);
    char *b = xmalloc(len + 1);
    ssize_t got = pread(fd, b, len, off);
    close(fd);
    json_t *j = got >= 0 ? text_without_nul(b, (size_t)got) : NULL;
    free(b);
    return j;
}

/* POSTs body to base + verb, retrying while the master is away. Returns
 * the answer's status (0 if it never answered). */
static long post(run_ctx *r, const char *verb, const json_t *body, double give_up_s, json_t **ans)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", r->base, verb);
    long status = 0;
    pyti_error err;
    if (mclient_call_retry(r->c, "POST", path, body, 120, give_up_s, &status, ans, &err) !=
        PYTI_OK) {
        log_warn("worker: job %lld: %s: %s", r->id, verb, err.msg);
        return 0;
    }
    return status;
}

/* Tells the master the attempt failed; logs may be NULL (stolen). */
static void report_failure(run_ctx *r, bool retryable, const char *msg, json_t *logs)
{
    json_t *body = json_pack("{s:b, s:o}", "retryable", retryable, "message", json_text(msg));
    if (logs)
        json_object_set_new(body, "logs", logs);
    /* Even a worker that is being stopped says so, briefly. */
    mclient_set_abort(r->c, NULL);
    json_t *ans = NULL;
    long st = post(r, "fail", body, r->w->stop_now ? 10 : -1, &ans);
    mclient_set_abort(r->c, &r->w->stop_now);
    if (st == 200)
        log_info("worker: job %lld attempt %d: failed (%s): %s", r->id, r->attempt,
                 json_get_str(ans, "result") ? json_get_str(ans, "result") : "?", msg);
    json_decref(ans);
    json_decref(body);
}

/* A file name from the job that is safe as one path component. */
static bool plain_name(const char *f)
{
    return f && *f && strlen(f) <= 255 && !strchr(f, '/') && strcmp(f, ".") != 0 &&
           strcmp(f, "..") != 0;
}

/* Finds the distribution: *dist gets a path (new string). On failure
 * *retryable tells whether another try (or worker) might do better. */
static pyti_status fetch(run_ctx *r, const json_t *job, char **dist, bool *retryable,
                         pyti_error *err)
{
    const char *sha = json_get_str(job, "sha256"), *path = json_get_str(job, "path"),
               *url = json_get_str(job, "url"), *filename = json_get_str(job, "filename");
    long long size = json_integer_value(json_object_get(job, "size"));
    *retryable = true;
    *dist = NULL;
    if (!plain_name(filename))
        return *retryable = false,
               pyti_error_set(err, PYTI_ERR_INPUT, "the job's file name is not a plain name");
    if (path && path_is_file(path)) {
        char got[PYTI_SHA256_HEX_LEN + 1];
        unsigned long long n;
        if (hash_sha256_file(path, got, &n, NULL) == PYTI_OK && sha && strcmp(got, sha) == 0) {
            *dist = xstrdup(path);
            return PYTI_OK;
        }
    }
    if (!url)
        return pyti_error_set(err, PYTI_ERR_NOTFOUND,
                              "%s is not readable on this worker (or its sha256 differs) and "
                              "the job has no URL", path ? path : "(no path)");
    char *dest = xasprintf("%s/%s", r->dir, filename);
    long long max = r->w->o->max_dist_size > 0 ? r->w->o->max_dist_size : 0;
    if (size > 0 && (max == 0 || size < max))
        max = size;
    pyti_status rc = PYTI_ERR_IO;
    double delay = 1;
    for (int tries = 0; tries < 4 && !r->w->stop_now; tries++) {
        rc = mclient_download(r->c, url, dest, sha, max, err);
        if (rc != PYTI_ERR_IO)
            break;
        struct timespec nap = {(time_t)delay, 0};
        nanosleep(&nap, NULL);
        delay *= 2;
    }
    if (rc == PYTI_OK) {
        *dist = dest;
        return PYTI_OK;
    }
    free(dest);
    /* A file that is gone or is not what the job says will not get
     * better by trying again. */
    *retryable = rc == PYTI_ERR_IO || rc == PYTI_ERR_LIMIT;
    return rc;
}

/* "--python 3.N": the newest Python of this worker the job's
 * requirement admits; NULL when the job has none (the default python3). */
static char *choose_python(run_ctx *r, const char *req, pyti_error *err)
{
    if (!req || !*req)
        return NULL;
    pyti_strv minors = PYTI_STRV_INIT;
    if (store_python_minors(req, &minors, err) != PYTI_OK) {
        strv_free(&minors);
        return NULL;
    }
    const char *best = NULL;
    unsigned bmaj = 0, bmin = 0;
    for (size_t i = 0; i < r->w->pythons.len; i++) {
        unsigned a, b;
        if (sscanf(r->w->pythons.items[i], "%u.%u", &a, &b) != 2)
            continue;
        char m[16];
        snprintf(m, sizeof m, "%u.%u", a, b);
        if (strv_contains(&minors, m) && (!best || a > bmaj || (a == bmaj && b > bmin))) {
            best = r->w->pythons.items[i];
            bmaj = a;
            bmin = b;
        }
    }
    char *out = NULL;
    if (best)
        out = xasprintf("%u.%u", bmaj, bmin);
    else
        pyti_error_set(err, PYTI_ERR_NOTFOUND, "no Python of this worker satisfies '%s'", req);
    strv_free(&minors);
    return out;
}

static pid_t spawn_test(run_ctx *r, const char *dist, const char *recipe, const char *python,
                        const char *report, const char *log)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    pid_t pid = fork();
    if (pid != 0) {
        close(fd);
        return pid;
    }
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    setenv("TMPDIR", r->dir, 1);
    setenv("NO_COLOR", "1", 1);
    const char *argv[24];
    int n = 0;
    argv[n++] = "pyti";
    if (r->w->o->config_path) {
        argv[n++] = "--config";
        argv[n++] = r->w->o->config_path;
    }
    argv[n++] = "test";
    argv[n++] = dist;
    argv[n++] = "--recipe";
    argv[n++] = recipe && *recipe ? recipe : "default";
    if (python) {
        argv[n++] = "--python";
        argv[n++] = python;
    }
    argv[n++] = "--json";
    argv[n++] = report;
    argv[n++] = "--no-store";
    argv[n++] = "--keep";
    argv[n] = NULL;
    const char *exe = r->w->o->pyti_exe ? r->w->o->pyti_exe : "/proc/self/exe";
    execv(exe, (char *const *)argv);
    fprintf(stderr, "pyti worker: cannot run %s: %s\n", exe, strerror(errno));
    _exit(127);
}

/* The logs of the run: "worker" (pyti test's own output) and
 * "task.NAME" (each task's log.txt in the kept job directory, which is
 * then removed). */
static json_t *collect_logs(const char *runlog)
{
    json_t *logs = json_object();
    size_t total = 0;
    json_t *main_log = file_tail(runlog, LOG_TAIL_MAX);
    if (main_log) {
        total += json_string_length(main_log);
        json_object_set_new(logs, "worker", main_log);
    }
    const char *text = main_log ? json_string_value(main_log) : "";
    const char *mark = strstr(text, KEPT_MARK);
    if (!mark)
        return logs;
    char *kept = xstrndup(mark + strlen(KEPT_MARK), strcspn(mark + strlen(KEPT_MARK), "\r\n"));
    char *out = path_join(kept, "out");
    DIR *d = opendir(out);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char name[80];
        snprintf(name, sizeof name, "task.%.60s", e->d_name);
        for (char *p = name; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                  *p == '-' || *p == '_' || *p == '.'))
                *p = '_';
        char *lp = xasprintf("%s/%s/log.txt", out, e->d_name);
        json_t *t = total < LOGS_TOTAL_MAX ? file_tail(lp, LOG_TAIL_MAX) : NULL;
        free(lp);
        if (t && json_string_length(t) > 0) {
            total += json_string_length(t);
            json_object_set_new(logs, name, t);
        } else {
            json_decref(t);
        }
    }
    if (d)
        closedir(d);
    path_rmtree(kept, NULL);
    free(out);
    free(kept);
    return logs;
}

/* The last lines of the run's output, for a failure message. */
static char *last_words(const char *runlog)
{
    json_t *t = file_tail(runlog, MESSAGE_MAX);
    const char *s = t ? json_string_value(t) : "";
    char *m = str_excerpt(s, strlen(s), MESSAGE_MAX);
    json_decref(t);
    return m;
}

void worker_run_lease(pyti_worker *w, mclient *c, const json_t *lease, json_t **next)
{
    run_ctx r = {0};
    r.w = w;
    r.c = c;
    r.id = json_integer_value(json_object_get(lease, "job_id"));
    r.attempt = (int)json_integer_value(json_object_get(lease, "attempt"));
    const json_t *job = json_object_get(lease, "job");
    snprintf(r.base, sizeof r.base, "/api/v1/jobs/%lld/attempts/%d", r.id, r.attempt);
    const char *filename = json_get_str(job, "filename");
    log_info("worker: job %lld attempt %d: %s", r.id, r.attempt, filename ? filename : "?");
    pyti_error err;
    char *dist = NULL, *python = NULL, *report_path = NULL, *runlog = NULL;
    bool retryable = true;
    long long size = json_integer_value(json_object_get(job, "size"));
    r.dir = path_mkdtemp(w->o->work_dir, "pyti-worker-", &err);
    if (!r.dir) {
        report_failure(&r, true, err.msg, NULL);
        return;
    }
    if (w->o->max_dist_size > 0 && size > w->o->max_dist_size) {
        /* The store's matching keeps such jobs away; this is the worker's
         * own word on its policy. */
        report_failure(&r, true, "the file is larger than this worker's --max-size", NULL);
        goto out;
    }
    const char *recipe = json_get_str(job, "recipe");
    if (recipe && (strchr(recipe, '/') || str_endswith(recipe, ".ini") || recipe[0] == '.')) {
        /* The master refuses such jobs; a worker never loads a file of its
         * host named by a job as a recipe. */
        report_failure(&r, false, "the job's recipe is a path, not a recipe name", NULL);
        goto out;
    }
    if (fetch(&r, job, &dist, &retryable, &err) != PYTI_OK) {
        report_failure(&r, retryable, err.msg, NULL);
        goto out;
    }
    const char *req = json_get_str(job, "python");
    python = choose_python(&r, req, &err);
    if (req && *req && !python) {
        report_failure(&r, true, err.msg, NULL);
        goto out;
    }
    json_t *ans = NULL;
    long st = post(&r, "start", NULL, 60, &ans);
    const char *lease_state = st == 200 ? json_get_str(ans, "state") : NULL;
    if (lease_state && strcmp(lease_state, "ok") != 0) {
        log_info("worker: job %lld: the lease is %s; not running it", r.id, lease_state);
        json_decref(ans);
        goto out;
    }
    json_decref(ans);

    report_path = xasprintf("%s/report.json", r.dir);
    runlog = xasprintf("%s/run.log", r.dir);
    pid_t pid = spawn_test(&r, dist, json_get_str(job, "recipe"), python, report_path, runlog);
    if (pid < 0) {
        report_failure(&r, true, "cannot start pyti test", NULL);
        goto out;
    }
    double next_hb = now_s() + w->heartbeat_s;
    int status = 0;
    bool abandoned = false, stopped = false;
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid)
            break;
        if (w->stop_now && !stopped) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            stopped = true;
        }
        if (!stopped && now_s() >= next_hb) {
            char path[128];
            snprintf(path, sizeof path, "%s/heartbeat", r.base);
            long hs = 0;
            json_t *ha = NULL;
            if (mclient_call(c, "POST", path, NULL, 10, &hs, &ha, &err) == PYTI_OK && hs == 200) {
                const char *state = json_get_str(ha, "state");
                if (state && strcmp(state, "ok") != 0) {
                    log_info("worker: job %lld: the lease is %s; stopping the run", r.id, state);
                    kill(-pid, SIGKILL);
                    kill(pid, SIGKILL);
                    abandoned = stopped = true;
                }
            } else if (hs == 404) {
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
                abandoned = stopped = true;
            }
            json_decref(ha);
            next_hb = now_s() + w->heartbeat_s;
        }
        struct timespec nap = {0, 50 * 1000000L};
        nanosleep(&nap, NULL);
    }
    json_t *logs = collect_logs(runlog);
    if (abandoned) {
        json_decref(logs);
        goto out;
    }
    if (stopped) {
        report_failure(&r, true, "the worker was stopped while the job ran", logs);
        goto out;
    }
    json_t *report = NULL;
    struct stat rs;
    if (stat(report_path, &rs) == 0 && (unsigned long long)rs.st_size <= PYTI_REPORT_MAX_BYTES)
        report = json_load_file(report_path, JSON_ALLOW_NUL, NULL);
    if (report)
        strip_nul(report);
    if (!report) {
        char *words = last_words(runlog);
        char *msg = xasprintf("pyti test exited with %s %d and wrote no report: %s",
                              WIFSIGNALED(status) ? "signal" : "status",
                              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), words);
        report_failure(&r, true, msg, logs);
        free(msg);
        free(words);
        goto out;
    }
    json_t *body = json_pack("{s:o, s:o}", "report", report, "logs", logs);
    if (next && !w->draining)
        json_object_set_new(body, "next", json_pack("{s:s, s:i}", "worker", w->id, "max", 1));
    ans = NULL;
    st = post(&r, "result", body, -1, &ans);
    if (st == 200 && next) {
        json_t *leases = json_object_get(json_object_get(ans, "next"), "leases");
        if (json_is_array(leases) && json_array_size(leases))
            *next = json_incref(leases);
    }
    if (st == 200) {
        log_info("worker: job %lld attempt %d: %s (%s)", r.id, r.attempt,
                 json_get_str(json_object_get(body, "report"), "outcome"),
                 json_get_str(ans, "result") ? json_get_str(ans, "result") : "?");
    } else if (st >= 400 && st < 500 && st != 404) {
        char *msg = xasprintf("the master refused the report: %s", mclient_error_text(ans, st));
        report_failure(&r, true, msg, NULL);
        free(msg);
    } else if (st != 0) {
        log_warn("worker: job %lld: result: %s", r.id, mclient_error_text(ans, st));
    }
    json_decref(ans);
    json_decref(body);
out:
    if (r.dir)
        path_rmtree(r.dir, NULL);
    free(r.dir);
    free(dist);
    free(python);
    free(report_path);
    free(runlog);
}
