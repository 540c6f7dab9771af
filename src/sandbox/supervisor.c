/* supervisor.c — the parent's side of seccomp user notification: receives
 * each notified system call, reports it (pid, process name read by the
 * parent from /proc/<pid>/comm, syscall name, raw arguments) and answers:
 * EPERM for denied calls, ENOSYS for clone3, CONTINUE for traced calls and
 * safe personas.
 *
 * Why it is safe: a denied call is never executed, so nothing the process
 * changes in its memory afterwards matters (no TOCTOU). CONTINUE is only
 * used where the decision depends on registers alone (personality) or
 * where the call is only observed, not judged (the tracer's calls).
 *
 * With spec.trace the behaviour tracer's calls (trace_rules.c) are also
 * notified: decoded (trace_decode.c) while the caller waits, then
 * continued; spec.keep_event filters them. Everything else stays in the
 * kernel's fast path. */
#include "sandbox/sandbox_internal.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

static void add_writable(sb_supervisor *s, const char *prefix)
{
    s->writable = xreallocarray(s->writable, s->n_writable + 1, sizeof *s->writable);
    s->writable[s->n_writable++] = xstrdup(prefix);
}

int sb_supervisor_root(sb_supervisor *s, pid_t pid)
{
    if (s->root < 0)
        s->root = sb_tr_open_root(pid);
    return s->root;
}

void sb_supervisor_init(sb_supervisor *s, int fd, const pyti_sandbox_spec *spec, double t0)
{
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->root = -1;
    s->trace = spec->trace_syscalls;
    s->tracer = spec->trace;
    s->on_event = spec->on_event;
    s->keep_event = spec->keep_event;
    s->user = spec->user;
    s->t0 = t0;
    s->max_events = spec->max_events ? spec->max_events : 1000;
    if (s->tracer) {
        /* Where package code can plant a symlink: the tmpfs mounts, the
         * home and the writable binds. Paths there are resolved the way
         * the kernel will resolve them. */
        static const char *const fixed[] = {"/tmp", "/var/tmp", "/dev/shm", "/home/pyti", NULL};
        for (size_t i = 0; fixed[i]; i++)
            add_writable(s, fixed[i]);
        for (size_t i = 0; i < spec->n_mounts; i++) {
            const pyti_sandbox_mount *m = &spec->mounts[i];
            if (m->kind == SANDBOX_MOUNT_BIND || m->kind == SANDBOX_MOUNT_TMPFS) {
                char *t = sb_inside_path(m->target);
                if (t)
                    add_writable(s, t);
                free(t);
            }
        }
    }
    /* The kernel (6.6+) can hand the CPU straight from the notifying
     * caller to the supervisor and back: a traced call then costs a
     * context switch instead of a wake-up through the scheduler. */
    if (fd >= 0)
        s->sync_wakeup =
            ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, 0) == 0;
}

void sandbox_event_clear(pyti_sandbox_event *ev)
{
    free(ev->text);
    free(ev->object);
    free(ev->object2);
    free(ev->data);
    json_decref(ev->detail);
    ev->text = ev->object = ev->object2 = NULL;
    ev->data = NULL;
    ev->data_len = 0;
    ev->detail = NULL;
}

/* Takes ownership of what ev points to. */
static void keep_or_drop(sb_supervisor *s, pyti_sandbox_event *ev)
{
    if (s->on_event)
        s->on_event(s->user, ev);
    if (s->n_events >= s->max_events) {
        s->dropped++;
        sandbox_event_clear(ev);
        return;
    }
    if (s->n_events == s->cap_events) {
        s->cap_events = s->cap_events ? s->cap_events * 2 : 16;
        s->events = xreallocarray(s->events, s->cap_events, sizeof *s->events);
    }
    s->events[s->n_events++] = *ev;
}

void sb_supervisor_record(sb_supervisor *s, const pyti_sandbox_event *ev)
{
    pyti_sandbox_event copy = *ev;
    /* Recorded events own their pointers; callers of this function keep
     * theirs, so the copy gets its own. */
    copy.text = ev->text ? xstrdup(ev->text) : NULL;
    copy.object = ev->object ? xstrdup(ev->object) : NULL;
    copy.object2 = ev->object2 ? xstrdup(ev->object2) : NULL;
    copy.data = NULL;
    copy.data_len = 0;
    if (ev->data) {
        copy.data = xmalloc(ev->data_len ? ev->data_len : 1);
        memcpy(copy.data, ev->data, ev->data_len);
        copy.data_len = ev->data_len;
    }
    copy.detail = ev->detail ? json_deep_copy(ev->detail) : NULL;
    keep_or_drop(s, &copy);
}

static void read_comm(pid_t pid, char *out, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    snprintf(out, size, "?");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, out, size - 1);
    close(fd);
    if (n <= 0) {
        snprintf(out, size, "?");
        return;
    }
    out[n] = '\0';
    out[strcspn(out, "\n")] = '\0';
    /* The name is the package's choice (PR_SET_NAME): no control bytes. */
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

/* Reads clone3's clone_args.flags (the first field) from the caller. */
static bool read_clone3_flags(pid_t pid, uint64_t addr, uint64_t *flags)
{
    struct iovec local = {flags, sizeof *flags};
    struct iovec remote = {(void *)(uintptr_t)addr, sizeof *flags};
    return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)sizeof *flags;
}

static void handle_one(sb_supervisor *s)
{
    struct seccomp_notif req;
    struct seccomp_notif_resp resp;
    memset(&req, 0, sizeof req);
    if (ioctl(s->fd, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0)
        return; /* ENOENT: the caller died meanwhile; EINTR: poll again */
    pyti_sandbox_event ev;
    memset(&ev, 0, sizeof ev);
    const char *arch = "?";
    const uint64_t *args = (const uint64_t *)req.data.args;
    sb_sc_action act = sb_seccomp_classify(req.data.arch, req.data.nr, args, s->trace, s->tracer,
                                           ev.syscall, sizeof ev.syscall, &arch);
    bool report = act != SB_SC_ALLOW;
    if (act == SB_SC_ENOSYS) {
        /* clone3: reported only when it asked for a namespace (or its
         * flags could not be read); plain thread creation is not news. */
        uint64_t flags = 0;
        if (read_clone3_flags((pid_t)req.pid, req.data.args[0], &flags))
            report = (flags & (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                               CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME)) != 0;
    }
    if (act == SB_SC_TRACE && s->tracer) {
        const sb_tr_rule *r = sb_trace_match(req.data.nr, args);
        s->traced_calls++;
        /* Decoding reads the caller's memory while it waits in the kernel. */
        if (r && !sb_trace_decode(s, (pid_t)req.pid, req.data.nr, args, r, &ev))
            report = false;
    }
    if (report) {
        ev.time_s = sb_now() - s->t0;
        struct timespec wall;
        clock_gettime(CLOCK_REALTIME, &wall);
        ev.wall_s = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
        ev.pid = (pid_t)req.pid;
        ev.nr = req.data.nr;
        snprintf(ev.arch, sizeof ev.arch, "%s", arch);
        memcpy(ev.args, req.data.args, sizeof ev.args);
        /* The name is read once per thread (three system calls while the
         * caller waits) and again after it runs a program. */
        size_t slot = (size_t)ev.pid % (sizeof s->comm_cache / sizeof *s->comm_cache);
        if (s->comm_cache[slot].pid == ev.pid) {
            memcpy(ev.comm, s->comm_cache[slot].comm, sizeof ev.comm);
        } else {
            read_comm(ev.pid, ev.comm, sizeof ev.comm);
            s->comm_cache[slot].pid = ev.pid;
            memcpy(s->comm_cache[slot].comm, ev.comm, sizeof ev.comm);
        }
        if (strcmp(ev.kind, "exec") == 0)
            s->comm_cache[slot].pid = 0;
        snprintf(ev.action, sizeof ev.action, "%s",
                 act == SB_SC_DENY ? "denied" : act == SB_SC_ENOSYS ? "enosys" : "traced");
    }
    /* The pid could have been reused between RECV and reading comm,
     * memory and /proc: what was read is only kept if the call is still
     * the one notified. */
    uint64_t id = req.id;
    if (report && ioctl(s->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0) {
        snprintf(ev.comm, sizeof ev.comm, "?");
        s->comm_cache[(size_t)ev.pid % (sizeof s->comm_cache / sizeof *s->comm_cache)].pid = 0;
        if (ev.kind[0]) {
            sandbox_event_clear(&ev);
            report = false;
        }
    }
    memset(&resp, 0, sizeof resp);
    resp.id = req.id;
    switch (act) {
    case SB_SC_ALLOW:
    case SB_SC_TRACE:
        resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        break;
    case SB_SC_ENOSYS:
        resp.error = -ENOSYS;
        break;
    default:
        resp.error = -EPERM;
        break;
    }
    /* Answer first, so the caller waits no longer than needed. */
    (void)ioctl(s->fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    if (!report)
        return;
    if (s->tracer) {
        if (ev.kind[0])
            sb_trace_after(s, &ev);
        sb_trace_result(ev.action, &ev);
    }
    if (s->keep_event && !s->keep_event(s->user, &ev)) {
        sandbox_event_clear(&ev);
        return;
    }
    keep_or_drop(s, &ev);
}

bool sb_supervisor_ready(sb_supervisor *s, short revents)
{
    if (s->fd < 0)
        return false;
    if (revents & POLLIN) {
        handle_one(s);
        return true;
    }
    if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
        close(s->fd);
        s->fd = -1;
        return false;
    }
    return true;
}

bool sb_supervisor_handle(sb_supervisor *s)
{
    if (s->fd < 0)
        return false;
    for (int i = 0; i < 256; i++) {
        struct pollfd p = {s->fd, POLLIN, 0};
        int n = poll(&p, 1, 0);
        if (n <= 0)
            return true;
        if (p.revents & POLLIN) {
            handle_one(s);
            continue;
        }
        if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) {
            close(s->fd);
            s->fd = -1;
            return false;
        }
        return true;
    }
    return true;
}

void sb_supervisor_finish(sb_supervisor *s, pyti_sandbox_result *res)
{
    if (s->fd >= 0) {
        sb_supervisor_handle(s);
        if (s->fd >= 0)
            close(s->fd);
        s->fd = -1;
    }
    res->events = s->events;
    res->n_events = s->n_events;
    res->events_dropped = s->dropped;
    res->traced_calls = s->traced_calls;
    res->execs = s->execs;
    res->sync_wakeup = s->sync_wakeup;
    s->events = NULL;
    s->n_events = s->cap_events = 0;
    if (s->root >= 0)
        close(s->root);
    s->root = -1;
    for (size_t i = 0; i < s->n_writable; i++)
        free(s->writable[i]);
    free(s->writable);
    s->writable = NULL;
    s->n_writable = 0;
}
