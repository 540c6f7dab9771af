/* worker.c — the worker's life (see worker.h): capabilities, registering
 * with the master, the slots' claim loops, the worker heartbeat, and the
 * signals that drain or stop it. One job's run is in job.c. */
#include "worker/worker_internal.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "exec/python.h"
#include "pyti_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define REGISTER_TIMEOUT_S 30

static json_t *strv_json(const pyti_strv *v)
{
    json_t *a = json_array();
    for (size_t i = 0; v && i < v->len; i++)
        json_array_append_new(a, json_text(v->items[i]));
    return a;
}

/* "3.11" of /usr/bin/python3.11. */
static void found_pythons(pyti_strv *out)
{
    pyti_strv paths = PYTI_STRV_INIT;
    python_list(&paths);
    for (size_t i = 0; i < paths.len; i++) {
        const char *b = strrchr(paths.items[i], '/');
        b = b ? b + 1 : paths.items[i];
        unsigned maj, min;
        int n = 0;
        if (sscanf(b, "python%u.%u%n", &maj, &min, &n) == 2 && b[n] == '\0') {
            char v[16];
            snprintf(v, sizeof v, "%u.%u", maj, min);
            strv_push_unique(out, v);
        }
    }
    strv_free(&paths);
}

static void default_id(const worker_options *o, char *out, size_t size)
{
    if (o->id && *o->id) {
        snprintf(out, size, "%s", o->id);
        return;
    }
    char host[128] = "";
    if (gethostname(host, sizeof host) != 0 || !host[0])
        snprintf(host, sizeof host, "worker");
    host[sizeof host - 1] = '\0';
    snprintf(out, size, "%s", host);
}

json_t *worker_capabilities(const worker_options *o)
{
    struct utsname u;
    uname(&u);
    char os[sizeof u.sysname];
    snprintf(os, sizeof os, "%s", u.sysname);
    str_lower(os);
    struct sysinfo si;
    long long mem = 0;
    if (sysinfo(&si) == 0)
        mem = (long long)((unsigned long long)si.totalram * si.mem_unit / (1024 * 1024));
    pyti_strv py = PYTI_STRV_INIT;
    if (o->pythons && o->pythons->len)
        strv_extend(&py, o->pythons);
    else
        found_pythons(&py);
    char id[129], host[128] = "";
    default_id(o, id, sizeof id);
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    json_t *j = json_object();
    json_set_text(j, "id", id);
    json_set_text(j, "arch", u.machine);
    json_set_text(j, "os", os);
    json_object_set_new(j, "memory_mb", json_integer(mem));
    json_object_set_new(j, "pythons", strv_json(&py));
    json_object_set_new(j, "tags", strv_json(o->tags));
    json_object_set_new(j, "max_dist_size", json_integer(o->max_dist_size));
    json_object_set_new(j, "recipes", strv_json(o->recipes));
    json_object_set_new(j, "projects", strv_json(o->projects));
    json_t *info = json_object();
    json_set_text(info, "hostname", host);
    json_set_text(info, "pyti_version", PYTI_VERSION);
    json_set_text(info, "kernel", u.release);
    json_object_set_new(info, "slots", json_integer(o->slots ? o->slots : 1));
    json_object_set_new(info, "pid", json_integer(getpid()));
    json_object_set_new(j, "info", info);
    strv_free(&py);
    return j;
}

/* Registers (again), retrying while the master is away. PYTI_ERR_USAGE
 * when the master refuses (a bad token, an invalid capability). */
static pyti_status do_register(pyti_worker *w, mclient *c, pyti_error *err)
{
    json_t *caps = worker_capabilities(w->o);
    char path[200];
    snprintf(path, sizeof path, "/api/v1/workers/%s", w->id);
    long status;
    json_t *ans = NULL;
    pyti_status rc = mclient_call_retry(c, "PUT", path, caps, REGISTER_TIMEOUT_S, -1, &status,
                                        &ans, err);
    json_decref(caps);
    if (rc == PYTI_OK && status != 200)
        rc = pyti_error_set(err, PYTI_ERR_USAGE, "registering with %s: %s", mclient_url(c),
                            mclient_error_text(ans, status));
    if (rc == PYTI_OK) {
        json_t *l = json_object_get(ans, "lease_s"), *h = json_object_get(ans, "heartbeat_s"),
               *p = json_object_get(ans, "long_poll_max_s");
        if (json_is_integer(l) && json_integer_value(l) > 0)
            w->lease_s = (double)json_integer_value(l);
        if (json_is_integer(h) && json_integer_value(h) > 0)
            w->heartbeat_s = (double)json_integer_value(h);
        if (json_is_integer(p))
            w->long_poll_s = (double)json_integer_value(p);
    }
    json_decref(ans);
    return rc;
}

typedef struct slot {
    pyti_worker *w;
    unsigned index;
    pthread_t thread;
} slot;

static void *slot_main(void *arg)
{
    slot *sl = arg;
    pyti_worker *w = sl->w;
    pyti_error err;
    mclient *c = mclient_new(w->o->master, w->o->token, &err);
    if (!c) {
        log_error("worker: %s", err.msg);
        return NULL;
    }
    /* A waiting claim is abandoned as soon as the worker drains. */
    mclient_set_abort(c, &w->draining);
    char path[220];
    snprintf(path, sizeof path, "/api/v1/workers/%s/claim", w->id);
    double wait = w->long_poll_s > 25 ? 25 : w->long_poll_s;
    json_t *req = json_pack("{s:i, s:f}", "max", 1, "wait", wait);
    /* The leases the master handed out with the last result (its "next"):
     * run before claiming again. */
    json_t *next = NULL;
    while (!w->draining) {
        long status = 0;
        json_t *ans = NULL;
        json_t *leases = next;
        next = NULL;
        if (leases)
            log_info("worker: %zu job%s leased with the last result", json_array_size(leases),
                     json_array_size(leases) == 1 ? "" : "s");
        else {
            pyti_status rc = mclient_call_retry(c, "POST", path, req, wait + 30, -1, &status,
                                                &ans, &err);
            if (w->draining) {
                /* A job leased just as we gave up the call is not ours to
                 * run; its lease expires and it is requeued. */
                json_decref(ans);
                break;
            }
            if (rc == PYTI_OK && status == 404) {
                /* The master forgot us (a fresh store): register again. */
                mclient_set_abort(c, &w->stop_now);
                if (do_register(w, c, &err) != PYTI_OK)
                    log_warn("worker: %s", err.msg);
                mclient_set_abort(c, &w->draining);
            } else if (rc != PYTI_OK || status != 200) {
                log_warn("worker: claiming: %s",
                         rc != PYTI_OK ? err.msg : mclient_error_text(ans, status));
                struct timespec nap = {2, 0};
                nanosleep(&nap, NULL);
            } else {
                leases = json_incref(json_object_get(ans, "leases"));
            }
            json_decref(ans);
        }
        size_t i;
        json_t *l;
        /* Results are reported even while draining. */
        mclient_set_abort(c, &w->stop_now);
        json_array_foreach(leases, i, l) {
            pthread_mutex_lock(&w->lock);
            w->busy_slots++;
            pthread_mutex_unlock(&w->lock);
            /* The last job's result asks for this slot's next one. */
            bool last = i + 1 == json_array_size(leases);
            worker_run_lease(w, c, l, last ? &next : NULL);
            pthread_mutex_lock(&w->lock);
            w->busy_slots--;
            pthread_mutex_unlock(&w->lock);
        }
        mclient_set_abort(c, &w->draining);
        json_decref(leases);
    }
    /* Leases that came with a result as the worker began to drain: not
     * run; they expire and their jobs are requeued. */
    json_decref(next);
    json_decref(req);
    mclient_free(c);
    return NULL;
}

typedef struct sig_ctx {
    pyti_worker *w;
    sigset_t set;
} sig_ctx;

static void *signal_main(void *arg)
{
    sig_ctx *sc = arg;
    for (;;) {
        int sig = 0;
        if (sigwait(&sc->set, &sig) != 0)
            continue;
        if (sig == SIGUSR2) /* our own wake-up at the end */
            return NULL;
        if (!sc->w->draining) {
            log_info("worker: draining (no new jobs; running ones finish; signal again to stop "
                     "them)");
            sc->w->draining = 1;
        } else {
            log_info("worker: stopping the running jobs");
            sc->w->stop_now = 1;
        }
    }
}

int worker_run(const worker_options *o, pyti_error *err)
{
    pyti_worker w = {0};
    w.o = o;
    w.lease_s = 60;
    w.heartbeat_s = 20;
    w.long_poll_s = 25;
    pthread_mutex_init(&w.lock, NULL);
    default_id(o, w.id, sizeof w.id);

    sig_ctx sc = {&w, {{0}}};
    sigemptyset(&sc.set);
    sigaddset(&sc.set, SIGINT);
    sigaddset(&sc.set, SIGTERM);
    sigaddset(&sc.set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &sc.set, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_t sigthread;
    pthread_create(&sigthread, NULL, signal_main, &sc);

    int rc = 0;
    mclient *c = mclient_new(o->master, o->token, err);
    if (!c) {
        rc = 2;
        goto out;
    }
    mclient_set_abort(c, &w.draining);
    if (do_register(&w, c, err) != PYTI_OK) {
        rc = w.draining ? 0 : 2;
        goto out;
    }
    log_info("worker %s: registered with %s (%u slot%s)", w.id, o->master,
             o->slots ? o->slots : 1, o->slots > 1 ? "s" : "");
    if (o->pythons && o->pythons->len)
        strv_extend(&w.pythons, o->pythons);
    else
        found_pythons(&w.pythons);
    unsigned n = o->slots ? o->slots : 1;
    slot *slots = xcalloc(n, sizeof *slots);
    for (unsigned i = 0; i < n; i++) {
        slots[i].w = &w;
        slots[i].index = i;
        pthread_create(&slots[i].thread, NULL, slot_main, &slots[i]);
    }
    /* The worker's own heartbeat: its state, and that it is alive. */
    mclient_set_abort(c, &w.stop_now);
    char path[220];
    snprintf(path, sizeof path, "/api/v1/workers/%s/heartbeat", w.id);
    double next = 0;
    bool said_draining = false;
    int drain_tries = 0;
    for (;;) {
        pthread_mutex_lock(&w.lock);
        int busy = w.busy_slots;
        pthread_mutex_unlock(&w.lock);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double t = (double)now.tv_sec + now.tv_nsec / 1e9;
        if (t >= next || (w.draining && !said_draining)) {
            const char *state = w.draining ? "draining" : busy ? "busy" : "idle";
            drain_tries += w.draining != 0;
            json_t *body = json_pack("{s:s}", "state", state);
            long status = 0;
            json_t *ans = NULL;
            pyti_error herr;
            if (mclient_call(c, "POST", path, body, 10, &status, &ans, &herr) == PYTI_OK) {
                if (status == 404 && do_register(&w, c, &herr) != PYTI_OK)
                    log_warn("worker: %s", herr.msg);
                said_draining |= w.draining != 0;
            }
            json_decref(ans);
            json_decref(body);
            next = t + (w.heartbeat_s < 10 ? w.heartbeat_s : 10);
        }
        /* Out once the master knows we drain (or cannot be told). */
        if (w.draining && busy == 0 && (said_draining || w.stop_now || drain_tries >= 3))
            break;
        struct timespec nap = {0, 100 * 1000000L};
        nanosleep(&nap, NULL);
    }
    for (unsigned i = 0; i < n; i++)
        pthread_join(slots[i].thread, NULL);
    free(slots);
    log_info("worker %s: drained", w.id);
out:
    mclient_free(c);
    pthread_kill(sigthread, SIGUSR2);
    pthread_join(sigthread, NULL);
    strv_free(&w.pythons);
    pthread_mutex_destroy(&w.lock);
    return rc;
}
