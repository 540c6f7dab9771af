/* taskhost.c — the task host, a forked child that runs a job's tasks one
 * after another, and the runner's side of talking to it (see taskhost.h).
 *
 * The channel is a stream socketpair (so a write to a dead peer is EPIPE,
 * never SIGPIPE, with MSG_NOSIGNAL). The runner sends the index of a task
 * in the recipe (4 bytes); the host answers with one result: an 8-byte
 * length, then that many bytes of compact JSON {status, reason, data,
 * produced, findings, input_rejected, log}. The host does everything that
 * could fail or crash — the task, its clean-up, recording its items —
 * before it sends the result, so whatever happens is charged to the task
 * that was running. */
#include "exec/taskhost.h"
#include "common/buf.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "exec/task.h"
#include "exec/tasks_internal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Largest result taken from the host (its raw data and findings). */
#define RESULT_MAX_BYTES (64u << 20)
/* The log kept per task (the report's "log"). */
#define LOG_KEEP_BYTES (64u << 10)

struct pyti_taskhost {
    const pyti_recipe *recipe;
    pid_t pid;
    int pidfd; /* -1 if pidfd_open failed: then only the socket tells */
    int fd;    /* the runner's end of the channel */
    bool dead; /* crashed, timed out, exited or discarded */
    bool reaped;
};

void task_outcome_free(pyti_task_outcome *o)
{
    free(o->reason);
    json_decref(o->data);
    json_decref(o->produced);
    json_decref(o->findings);
    free(o->log);
    memset(o, 0, sizeof *o);
}

void taskhost_record_items(json_t *items, const pyti_task_def *def, pyti_task_status status,
                           const json_t *produced, pyti_strv *names)
{
    if (!task_status_ok(status) || !json_is_object(produced))
        return;
    for (size_t k = 0; k < def->produces.len; k++) {
        json_t *v = json_object_get(produced, def->produces.items[k]);
        if (v) {
            json_object_set(items, def->produces.items[k], v);
            if (names)
                strv_push(names, def->produces.items[k]);
        }
    }
}

/* Sends (or, with receive, reads) exactly len bytes, blocking; false on
 * EOF or any error (the peer is gone). */
static bool transfer_all(int fd, void *data, size_t len, bool receive)
{
    char *p = data;
    while (len) {
        ssize_t n = receive ? recv(fd, p, len, 0) : send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static bool send_all(int fd, const void *data, size_t len)
{
    return transfer_all(fd, (void *)data, len, false);
}

/* In the host: runs def and returns its result object (new reference).
 * items gets what it produced. */
static json_t *host_run_task(const pyti_job *job, const pyti_task_def *def, json_t *items)
{
    const pyti_builtin *b = def->builtin ? builtin_find(def->builtin) : NULL;
    char *out_dir = path_join(job->out_dir, def->name);
    json_t *inputs = json_object();
    for (size_t k = 0; k < def->needs.len; k++) {
        json_t *v = json_object_get(items, def->needs.items[k]);
        if (v)
            json_object_set(inputs, def->needs.items[k], v);
    }
    pyti_task_ctx ctx;
    task_ctx_init(&ctx, job, def, out_dir, inputs);
    pyti_task_status st = b ? b->run(&ctx) : task_command(&ctx);
    if (ctx.log.len > LOG_KEEP_BYTES) {
        buf_truncate(&ctx.log, LOG_KEEP_BYTES);
        buf_puts(&ctx.log, "\n[log truncated]\n");
    }
    json_t *res = json_object();
    json_object_set_new(res, "status", json_string(task_status_name(st)));
    json_set_text(res, "reason", ctx.reason);
    json_object_set(res, "data", ctx.data);
    json_object_set(res, "produced", ctx.produced);
    json_object_set_new(res, "findings", findings_to_json(&ctx.findings));
    json_object_set_new(res, "input_rejected", json_boolean(ctx.input_rejected));
    json_object_set_new(res, "log", json_textn(buf_cstr(&ctx.log), ctx.log.len));
    taskhost_record_items(items, def, st, ctx.produced, NULL);
    task_ctx_free(&ctx);
    json_decref(inputs);
    free(out_dir);
    return res;
}

/* The host's life: one task per request until the runner closes the
 * channel. Never returns. */
static void host_main(const pyti_job *job, const pyti_recipe *recipe, const json_t *items0,
                      int fd)
{
    json_t *items = json_deep_copy(items0);
    for (;;) {
        uint32_t idx;
        if (!transfer_all(fd, &idx, sizeof idx, true) || idx >= recipe->ntasks)
            break;
        json_t *res = host_run_task(job, &recipe->tasks[idx], items);
        char *text = json_dumps(res, JSON_COMPACT);
        json_decref(res);
        fflush(NULL); /* what the task printed goes out before its result */
        uint64_t len = text ? strlen(text) : 0;
        bool sent = text && send_all(fd, &len, sizeof len) && send_all(fd, text, len);
        free(text);
        if (!sent)
            _exit(1);
    }
    json_decref(items);
    fflush(NULL);
    _exit(0);
}

pyti_taskhost *taskhost_start(const pyti_job *job, const pyti_recipe *recipe,
                              const json_t *items, pyti_error *err)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        pyti_error_errno(err, PYTI_ERR_IO, errno, "creating the task host's channel");
        return NULL;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        pyti_error_errno(err, PYTI_ERR_IO, e, "forking the task host");
        return NULL;
    }
    if (pid == 0) {
        close(sv[0]);
        host_main(job, recipe, items, sv[1]);
    }
    close(sv[1]);
    pyti_taskhost *h = xcalloc(1, sizeof *h);
    h->recipe = recipe;
    h->pid = pid;
    h->pidfd = pidfd_open(pid, 0);
    h->fd = sv[0];
    return h;
}

bool taskhost_alive(const pyti_taskhost *h)
{
    if (!h || h->dead)
        return false;
    /* A host that died after its last result must not take the next
     * task's blame: look before asking it for one. */
    siginfo_t si = {0};
    if (waitid(P_PID, (id_t)h->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == h->pid)
        return false;
    return true;
}

pid_t taskhost_pid(const pyti_taskhost *h) { return h ? h->pid : -1; }

/* Kills (if asked) and reaps the host; *wstatus gets its wait status. */
static void host_reap(pyti_taskhost *h, bool kill_it, int *wstatus)
{
    h->dead = true;
    int st = 0;
    if (!h->reaped) {
        if (kill_it)
            kill(h->pid, SIGKILL);
        while (waitpid(h->pid, &st, 0) < 0 && errno == EINTR)
            ;
        h->reaped = true;
    }
    if (wstatus)
        *wstatus = st;
}

/* The outcome of a host that ended while running def. */
static void host_died(pyti_taskhost *h, const pyti_task_def *def, pyti_task_outcome *o)
{
    int wstatus = 0;
    host_reap(h, true, &wstatus);
    o->status = PYTI_TASK_ERROR;
    if (WIFSIGNALED(wstatus))
        o->reason = xasprintf("task '%s' crashed (signal %d: %s)", def->name, WTERMSIG(wstatus),
                              strsignal(WTERMSIG(wstatus)));
    else
        o->reason = xasprintf("task '%s' could not write its result", def->name);
}

/* Reads one result into b before deadline. 0 done, 1 timed out, -1 the
 * host ended (EOF or died) or sent something unusable (*bad set). */
static int read_result(pyti_taskhost *h, double deadline, pyti_buf *b, bool *bad)
{
    uint64_t want = 0;
    bool have_len = false;
    char chunk[65536];
    for (;;) {
        if (!have_len && b->len >= sizeof want) {
            memcpy(&want, b->data, sizeof want);
            if (want == 0 || want > RESULT_MAX_BYTES) {
                *bad = true;
                return -1;
            }
            have_len = true;
        }
        if (have_len && b->len >= sizeof want + want)
            return b->len == sizeof want + want ? 0 : (*bad = true, -1);
        double left = deadline - time_monotonic();
        if (left <= 0) {
            /* A result already waiting in the socket counts: the task
             * ended in time, the runner was slow to look. */
            ssize_t n = recv(h->fd, chunk, sizeof chunk, MSG_DONTWAIT);
            if (n > 0) {
                buf_append(b, chunk, (size_t)n);
                continue;
            }
            return 1;
        }
        struct pollfd p[2] = {{h->fd, POLLIN, 0}, {h->pidfd, POLLIN, 0}};
        int ms = left > 1000 ? 1000000 : (int)(left * 1000) + 1;
        int r = poll(p, h->pidfd >= 0 ? 2 : 1, ms);
        if (r < 0 && errno != EINTR)
            return -1;
        if (r <= 0)
            continue;
        if (p[0].revents) {
            ssize_t n = recv(h->fd, chunk, sizeof chunk, MSG_DONTWAIT);
            if (n > 0) {
                buf_append(b, chunk, (size_t)n);
                continue;
            }
            if (n == 0 || (errno != EINTR && errno != EAGAIN))
                return -1;
        }
        /* The host ended: take what it had sent, if that was all. */
        if (h->pidfd >= 0 && p[1].revents) {
            ssize_t n;
            while ((n = recv(h->fd, chunk, sizeof chunk, MSG_DONTWAIT)) > 0)
                buf_append(b, chunk, (size_t)n);
            if (!have_len && b->len >= sizeof want) {
                memcpy(&want, b->data, sizeof want);
                have_len = want > 0 && want <= RESULT_MAX_BYTES;
            }
            return have_len && b->len == sizeof want + want ? 0 : -1;
        }
    }
}

void taskhost_run(pyti_taskhost *h, const pyti_task_def *def, double timeout_s,
                  pyti_task_outcome *o)
{
    memset(o, 0, sizeof *o);
    size_t idx = (size_t)(def - h->recipe->tasks);
    if (h->dead || idx >= h->recipe->ntasks) {
        o->status = PYTI_TASK_ERROR;
        o->reason = xasprintf("task '%s' could not be started", def->name);
        return;
    }
    double deadline = time_monotonic() + timeout_s;
    uint32_t req = (uint32_t)idx;
    if (!send_all(h->fd, &req, sizeof req)) {
        host_died(h, def, o);
        return;
    }
    pyti_buf b = PYTI_BUF_INIT;
    bool bad = false;
    int r = read_result(h, deadline, &b, &bad);
    if (r == 1) {
        host_reap(h, true, NULL);
        o->status = PYTI_TASK_TIMEOUT;
        o->reason = xasprintf("exceeded its timeout of %g s", def->timeout_s);
        buf_free(&b);
        return;
    }
    json_error_t jerr;
    json_t *res = r == 0 ? json_loadb(b.data + sizeof(uint64_t), b.len - sizeof(uint64_t), 0,
                                      &jerr)
                         : NULL;
    buf_free(&b);
    if (r != 0 && !bad) {
        host_died(h, def, o);
        return;
    }
    if (!json_is_object(res)) {
        /* The host and the runner may disagree about the items now: this
         * host takes no further task. */
        json_decref(res);
        host_reap(h, true, NULL);
        o->status = PYTI_TASK_ERROR;
        o->reason = xasprintf("task '%s' sent an unusable result", def->name);
        return;
    }
    int st = task_status_from_name(json_get_str(res, "status"));
    o->status = st > 0 ? (pyti_task_status)st : PYTI_TASK_ERROR;
    const char *reason = json_get_str(res, "reason");
    o->reason = reason ? xstrdup(reason) : NULL;
    o->data = json_incref(json_object_get(res, "data"));
    o->produced = json_incref(json_object_get(res, "produced"));
    o->findings = json_incref(json_object_get(res, "findings"));
    o->input_rejected = json_is_true(json_object_get(res, "input_rejected"));
    const char *log = json_get_str(res, "log");
    o->log = xstrdup(log ? log : "");
    if (st <= 0)
        host_reap(h, true, NULL); /* its own view of the status differs */
    json_decref(res);
}

void taskhost_close(pyti_taskhost *h)
{
    if (h && h->fd >= 0) {
        close(h->fd);
        h->fd = -1;
    }
}

void taskhost_stop(pyti_taskhost *h)
{
    if (!h)
        return;
    /* Closing the channel ends an idle host; a discarded one is dead. */
    taskhost_close(h);
    host_reap(h, h->dead, NULL);
    if (h->pidfd >= 0)
        close(h->pidfd);
    free(h);
}
