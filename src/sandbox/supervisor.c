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
 * The tracer of the next issue extends this through the spec's
 * trace_syscalls and on_event: more calls are notified and continued,
 * everything else stays in the kernel's fast path. */
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
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

void sb_supervisor_init(sb_supervisor *s, int fd, const pyti_sandbox_spec *spec, double t0)
{
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->trace = spec->trace_syscalls;
    s->on_event = spec->on_event;
    s->user = spec->user;
    s->t0 = t0;
    s->max_events = spec->max_events ? spec->max_events : 1000;
}

void sb_supervisor_record(sb_supervisor *s, const pyti_sandbox_event *ev)
{
    if (s->on_event)
        s->on_event(s->user, ev);
    if (s->n_events >= s->max_events) {
        s->dropped++;
        return;
    }
    if (s->n_events == s->cap_events) {
        s->cap_events = s->cap_events ? s->cap_events * 2 : 16;
        s->events = xreallocarray(s->events, s->cap_events, sizeof *s->events);
    }
    s->events[s->n_events++] = *ev;
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
    sb_sc_action act = sb_seccomp_classify(req.data.arch, req.data.nr,
                                           (const uint64_t *)req.data.args, s->trace,
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
    if (report) {
        ev.time_s = sb_now() - s->t0;
        ev.pid = (pid_t)req.pid;
        ev.nr = req.data.nr;
        snprintf(ev.arch, sizeof ev.arch, "%s", arch);
        memcpy(ev.args, req.data.args, sizeof ev.args);
        read_comm(ev.pid, ev.comm, sizeof ev.comm);
        /* The pid could have been reused between RECV and reading comm. */
        uint64_t id = req.id;
        if (ioctl(s->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0)
            snprintf(ev.comm, sizeof ev.comm, "?");
        snprintf(ev.action, sizeof ev.action, "%s",
                 act == SB_SC_DENY ? "denied" : act == SB_SC_ENOSYS ? "enosys" : "traced");
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
    if (report)
        sb_supervisor_record(s, &ev);
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
    s->events = NULL;
    s->n_events = s->cap_events = 0;
}
