/* tracing.c — behaviour tracing of a sandboxed task (see tracing.h): the
 * sandbox's keep_event callback that judges each event with the policy,
 * the honeytoken checks, and what is judged after the run.
 *
 * The callback runs in the supervisor after the traced call was answered,
 * so its cost delays the next notification, not the caller: a few glob
 * matches per event. Expected events (the policy's "ignore") are dropped
 * here and never reach the report. */
#include "exec/tracing.h"
#include "common/finding.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "exec/honeytoken.h"
#include "exec/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_EVENTS 2000
#define MAX_PER_ID 20
#define TEXT_MAX 400
#define STATE_FILE "trace-state.json"

struct pyti_tracing {
    pyti_task_ctx *ctx;
    pyti_policy policy;
    pyti_honeytokens h;
    const char *phase;
    pyti_strv chmod_x;     /* paths made executable in this run */
    pyti_strv bait_seen;   /* bait paths the tracer saw touched */
    pyti_strv keys;        /* "id\nobject" of findings made (one each) */
    pyti_strv ids;         /* finding ids, for the per-id cap */
    size_t *id_counts;
    size_t suppressed;
    char *secret;          /* first bait touched or value used (this job) */
    char *reach;           /* first non-local network attempt (this job) */
    bool exfil_reported;
    size_t findings, recorded;
};

const char *tracing_phase(const pyti_task_def *def)
{
    return def->builtin ? def->builtin : "command";
}

bool tracing_enabled(const pyti_job *job)
{
    const char *v = job->config ? config_get(job->config, "sandbox", "trace") : NULL;
    return !v || strcmp(v, "no") != 0;
}

static bool count_id(pyti_tracing *t, const char *id)
{
    long i = strv_index(&t->ids, id);
    if (i < 0) {
        strv_push(&t->ids, id);
        t->id_counts = xreallocarray(t->id_counts, t->ids.len, sizeof *t->id_counts);
        i = (long)t->ids.len - 1;
        t->id_counts[i] = 0;
    }
    if (t->id_counts[i] >= MAX_PER_ID) {
        t->suppressed++;
        return false;
    }
    t->id_counts[i]++;
    return true;
}

/* Applies the policy to pe; makes a finding or says whether to keep. */
static int judge(pyti_tracing *t, const pyti_policy_event *pe, const pyti_sandbox_event *ev,
                 const char *label, json_t *detail)
{
    const pyti_policy_rule *r = policy_match(&t->policy, pe);
    int sev = r ? r->severity : POLICY_IGNORE;
    if (sev == POLICY_IGNORE)
        return sev;
    if (detail) {
        json_set_text(detail, "task", t->ctx->def->name);
        json_set_text(detail, "phase", t->phase);
        json_object_set_new(detail, "severity",
                            json_string(sev >= 0 ? severity_name(sev) : "record"));
        if (sev >= 0)
            json_set_text(detail, "finding", r->id);
    }
    if (sev < 0) {
        t->recorded++;
        return sev;
    }
    char *key = xasprintf("%s\n%s", r->id, pe->object ? pe->object : "");
    bool fresh = !strv_contains(&t->keys, key);
    if (fresh && count_id(t, r->id)) {
        strv_push(&t->keys, key);
        char where[160];
        if (ev)
            snprintf(where, sizeof where, "%s: pid %d (%s) at %.2f s", t->phase, (int)ev->pid,
                     ev->comm, ev->time_s);
        else
            snprintf(where, sizeof where, "%s", t->phase);
        const char *msg = r->message ? r->message : r->id;
        findings_add(&t->ctx->findings, r->id, (pyti_severity)sev, where, "%s%s%s (task %s)",
                     msg, label ? ": " : "", label ? label : "", t->ctx->def->name);
        const char *text = ev && ev->text ? ev->text : pe->object;
        if (text) {
            char *ex = str_excerpt(text, strlen(text), TEXT_MAX);
            findings_set_last_excerpt(&t->ctx->findings, ex);
            free(ex);
        }
        t->findings++;
    }
    free(key);
    return sev;
}

static void note_secret(pyti_tracing *t, const char *what)
{
    if (!t->secret)
        t->secret = xstrdup(what);
}

static void note_reach(pyti_tracing *t, const char *what)
{
    if (!t->reach)
        t->reach = xstrdup(what);
}

/* A bait value in data: a use of a secret. */
static void check_use(pyti_tracing *t, const pyti_sandbox_event *ev, const void *data, size_t len,
                      const char *where)
{
    const pyti_bait_value *v = honeytokens_find_value(&t->h, data, len);
    if (!v)
        return;
    pyti_policy_event pe = {
        .kind = "honeytoken.used", .phase = t->phase, .process = ev->comm,
        .object = v->label, .category = v->category,
    };
    char *label = xasprintf("%s found in %s", v->label, where);
    judge(t, &pe, ev, label, NULL);
    note_secret(t, label);
    free(label);
}

static char *argv_text(const pyti_sandbox_event *ev)
{
    if (!ev->data || !ev->data_len)
        return NULL;
    char *s = xmalloc(ev->data_len + 1);
    memcpy(s, ev->data, ev->data_len);
    s[ev->data_len] = '\0';
    for (size_t i = 0; i + 1 < ev->data_len; i++)
        if (s[i] == '\0')
            s[i] = ' ';
    return s;
}

static bool keep_event(void *user, pyti_sandbox_event *ev)
{
    pyti_tracing *t = user;
    /* A call notified only because spec.trace_syscalls named it: not
     * the tracer's, nothing to judge. */
    if (!ev->kind[0] && strcmp(ev->action, "traced") == 0)
        return false;
    json_t *d = ev->detail;
    if (!d)
        d = ev->detail = json_object();
    pyti_policy_event pe = {
        .kind = ev->kind[0] ? ev->kind : "denied",
        .phase = t->phase,
        .process = ev->comm,
        .object = ev->kind[0] ? ev->object : ev->syscall,
        .object2 = ev->object2,
    };
    if (!ev->kind[0] && !ev->text) {
        ev->text = xasprintf("%s() denied (%s ABI)", ev->syscall, ev->arch);
        snprintf(ev->kind, sizeof ev->kind, "denied");
        ev->object = xstrdup(ev->syscall);
    }
    pe.local = json_is_true(json_object_get(d, "local"));
    pe.socket_stdio = json_is_true(json_object_get(d, "stdin_socket")) ||
                      json_is_true(json_object_get(d, "stdout_socket"));
    pe.seconds = json_number_value(json_object_get(d, "seconds"));
    bool file = strncmp(pe.kind, "file.", 5) == 0;
    if (file)
        pe.mode = ev->flags & 07777;
    if (strcmp(pe.kind, "file.write") == 0 && json_get_str(d, "mode"))
        pe.mode = strtoul(json_get_str(d, "mode"), NULL, 8);
    char *argv = strcmp(pe.kind, "exec") == 0 ? argv_text(ev) : NULL;
    pe.argv = argv;

    /* The decoy secrets: a bait file touched in any way, a value used. */
    const pyti_bait *bait = file ? honeytokens_file(&t->h, ev->object) : NULL;
    if (!bait && file && ev->object2)
        bait = honeytokens_file(&t->h, ev->object2);
    int sev;
    if (bait) {
        strv_push_unique(&t->bait_seen, bait->path);
        pyti_policy_event hp = pe;
        hp.kind = "honeytoken.read";
        hp.object = bait->path;
        hp.category = bait->category;
        char *label = xasprintf("%s (%s)", bait->label, bait->path);
        sev = judge(t, &hp, ev, label, d);
        /* Configuration without secrets does not make a later network
         * attempt an exfiltration. */
        if (strcmp(bait->category, "cloud-config") != 0 &&
            strcmp(bait->category, "known-hosts") != 0)
            note_secret(t, label);
        free(label);
        json_set_text(d, "honeytoken", bait->category);
    } else {
        if (strcmp(pe.kind, "file.chmod") == 0 && (pe.mode & 0111))
            strv_push_unique(&t->chmod_x, ev->object);
        if (strcmp(pe.kind, "file.write") == 0 && (pe.mode & 0111) &&
            json_get_str(d, "mode"))
            strv_push_unique(&t->chmod_x, ev->object);
        sev = judge(t, &pe, ev, NULL, d);
    }
    if (strcmp(pe.kind, "exec") == 0) {
        check_use(t, ev, ev->data, ev->data_len, "a program's arguments");
        if (ev->object && strv_contains(&t->chmod_x, ev->object)) {
            pyti_policy_event cp = pe;
            cp.kind = "combo.dropper";
            int s2 = judge(t, &cp, ev, "made a file executable, then ran it", d);
            if (s2 > sev)
                sev = s2;
        }
    } else if (strcmp(pe.kind, "net.send") == 0 || strcmp(pe.kind, "net.dns") == 0) {
        check_use(t, ev, ev->data, ev->data_len, "data sent to the network");
        if (ev->object)
            check_use(t, ev, ev->object, strlen(ev->object), "a DNS name");
    }
    if (!pe.local && (strcmp(pe.kind, "net.connect") == 0 || strcmp(pe.kind, "net.send") == 0 ||
                      strcmp(pe.kind, "net.dns") == 0))
        note_reach(t, ev->text ? ev->text : pe.kind);
    free(argv);
    /* A PATH search's misses are not programs run. */
    if (strcmp(pe.kind, "exec") == 0 && sev < PYTI_SEV_LOW &&
        json_is_true(json_object_get(d, "missing")))
        sev = POLICY_IGNORE;
    if (t->secret && t->reach && !t->exfil_reported) {
        t->exfil_reported = true;
        char *label = xasprintf("%s; then %s", t->secret, t->reach);
        pyti_policy_event xp = {.kind = "combo.exfiltration", .phase = t->phase,
                                .process = ev->comm, .object = t->secret};
        judge(t, &xp, ev, label, NULL);
        free(label);
    }
    return sev != POLICY_IGNORE;
}

/* Secrets touched and network reached in earlier tasks of the job. */
static void load_state(pyti_tracing *t)
{
    char *p = path_join(t->ctx->job->job_dir, STATE_FILE);
    json_t *o = json_read_file(p, 1 << 20, NULL);
    free(p);
    if (!o)
        return;
    const char *s = json_get_str(o, "secret"), *r = json_get_str(o, "reach");
    if (s)
        note_secret(t, s);
    if (r)
        note_reach(t, r);
    t->exfil_reported = json_is_true(json_object_get(o, "exfil_reported"));
    json_decref(o);
}

static void save_state(pyti_tracing *t)
{
    if (!t->secret && !t->reach)
        return;
    json_t *o = json_object();
    json_set_text(o, "secret", t->secret);
    json_set_text(o, "reach", t->reach);
    json_object_set_new(o, "exfil_reported", json_boolean(t->exfil_reported));
    /* Job state, removed with the job: no fsync. */
    char *p = path_join(t->ctx->job->job_dir, STATE_FILE);
    char *text = json_dump_pretty(o);
    path_write_file_scratch(p, text, strlen(text), NULL);
    free(text);
    free(p);
    json_decref(o);
}

pyti_tracing *tracing_begin(pyti_task_ctx *ctx, pyti_sandbox_spec *spec, pyti_strv *env,
                            pyti_error *err)
{
    pyti_tracing *t = xcalloc(1, sizeof *t);
    t->ctx = ctx;
    t->phase = tracing_phase(ctx->def);
    if (policy_load_default(&t->policy, err) != PYTI_OK) {
        free(t);
        return NULL;
    }
    if (honeytokens_prepare(ctx->job, &t->h, err) != PYTI_OK) {
        policy_free(&t->policy);
        free(t);
        return NULL;
    }
    load_state(t);
    for (size_t i = 0; i < t->h.env.len; i++)
        strv_push(env, t->h.env.items[i]);
    spec->trace = true;
    spec->keep_event = keep_event;
    spec->user = t;
    spec->home_source = t->h.home;
    spec->max_events = MAX_EVENTS;
    return t;
}

void tracing_end(pyti_tracing *t, const pyti_sandbox_result *res)
{
    /* Limits and counts: judged once per run. */
    const char *limit = res->timed_out ? "timeout" : res->limit;
    if (limit) {
        pyti_policy_event pe = {.kind = "limit", .phase = t->phase, .object = limit};
        char *label = xasprintf("%s%s%s", limit, res->limit_detail[0] ? ": " : "",
                                res->limit_detail);
        judge(t, &pe, NULL, label, NULL);
        free(label);
    }
    if (res->forks) {
        pyti_policy_event pe = {.kind = "forks", .phase = t->phase, .count = res->forks};
        char *label = xasprintf("%llu processes and threads started",
                                (unsigned long long)res->forks);
        pe.object = label;
        judge(t, &pe, NULL, label, NULL);
        free(label);
    }
    /* Reads the tracer did not see (its view of a path can be fooled;
     * the file's access time cannot). */
    pyti_strv read = PYTI_STRV_INIT;
    honeytokens_check_reads(&t->h, &read);
    for (size_t i = 0; i < read.len; i++) {
        if (strv_contains(&t->bait_seen, read.items[i]))
            continue;
        const pyti_bait *b = honeytokens_file(&t->h, read.items[i]);
        pyti_policy_event pe = {.kind = "honeytoken.untraced", .phase = t->phase,
                                .object = read.items[i], .category = b ? b->category : NULL};
        char *label = xasprintf("%s (%s): its access time moved, but no traced call touched it",
                                b ? b->label : "bait", read.items[i]);
        judge(t, &pe, NULL, label, NULL);
        note_secret(t, label);
        free(label);
    }
    strv_free(&read);
    if (t->secret && t->reach && !t->exfil_reported) {
        t->exfil_reported = true;
        char *label = xasprintf("%s; %s", t->secret, t->reach);
        pyti_policy_event xp = {.kind = "combo.exfiltration", .phase = t->phase,
                                .object = t->secret};
        judge(t, &xp, NULL, label, NULL);
        free(label);
    }
    save_state(t);
    if (t->suppressed)
        findings_add(&t->ctx->findings, "trace.findings-truncated", PYTI_SEV_INFO, t->phase,
                     "%zu more behaviour findings of the same kinds were not listed",
                     t->suppressed);
    json_t *o = json_object();
    json_object_set_new(o, "phase", json_string(t->phase));
    json_object_set_new(o, "traced_calls", json_integer((json_int_t)res->traced_calls));
    json_object_set_new(o, "events_kept", json_integer((json_int_t)res->n_events));
    json_object_set_new(o, "events_dropped", json_integer((json_int_t)res->events_dropped));
    json_object_set_new(o, "forks", json_integer((json_int_t)res->forks));
    json_object_set_new(o, "execs", json_integer((json_int_t)res->execs));
    json_object_set_new(o, "sync_wakeup", json_boolean(res->sync_wakeup));
    json_object_set_new(o, "findings", json_integer((json_int_t)t->findings));
    json_object_set_new(o, "bait_files", json_integer((json_int_t)t->h.n_files));
    json_object_set_new(o, "policy_rules", json_integer((json_int_t)t->policy.n));
    json_object_set(t->ctx->data, "trace", o);
    json_decref(o);
}

void tracing_free(pyti_tracing *t)
{
    if (!t)
        return;
    policy_free(&t->policy);
    honeytokens_free(&t->h);
    strv_free(&t->chmod_x);
    strv_free(&t->bait_seen);
    strv_free(&t->keys);
    strv_free(&t->ids);
    free(t->id_counts);
    free(t->secret);
    free(t->reach);
    free(t);
}
