/* sandbox.c — sandbox_run(), the parent's side of a run: validates the
 * spec, prepares the mount plan, ids, pipes and capture files, clones
 * the init process into new namespaces, writes its id maps, then watches
 * it: captured output (capped), seccomp notifications (supervisor),
 * limits (timeout, cgroup samples, disk samples), until init exits. Also
 * the result's JSON form. See sandbox.h for the contract and child.c for
 * the other side. */
#include "sandbox/sandbox_internal.h"
#include "common/jsonutil.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

double sb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sandbox_spec_init(pyti_sandbox_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->stdin_fd = -1;
    spec->stdout_tee_fd = -1;
    spec->stderr_tee_fd = -1;
}

pyti_status sandbox_spec_check(const pyti_sandbox_spec *spec, pyti_error *err)
{
    if (!spec->argv || !spec->argv[0] || !spec->argv[0][0])
        return pyti_error_set(err, PYTI_ERR_USAGE, "sandbox: no command to run");
    if (spec->cwd && spec->cwd[0] != '/')
        return pyti_error_set(err, PYTI_ERR_USAGE,
                              "sandbox: working directory '%s' must be absolute", spec->cwd);
    if (spec->hostname) {
        size_t len = strlen(spec->hostname);
        if (len == 0 || len > 64)
            return pyti_error_set(err, PYTI_ERR_USAGE,
                                  "sandbox: hostname must have 1 to 64 characters");
        for (const char *p = spec->hostname; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
                return pyti_error_set(err, PYTI_ERR_USAGE,
                                      "sandbox: hostname '%s' has characters other than "
                                      "letters, digits, '-' and '.'", spec->hostname);
    }
    const pyti_sandbox_limits *l = &spec->limits;
    if (l->timeout_s < 0 || !isfinite(l->timeout_s) || l->cpu_s < 0 || !isfinite(l->cpu_s))
        return pyti_error_set(err, PYTI_ERR_USAGE, "sandbox: negative or invalid time limit");
    if (l->memory_bytes && l->memory_bytes < 4 * 1024 * 1024)
        return pyti_error_set(err, PYTI_ERR_USAGE,
                              "sandbox: a memory limit below 4M cannot run anything");
    for (size_t i = 0; i < spec->n_mounts; i++) {
        const pyti_sandbox_mount *m = &spec->mounts[i];
        char *t = sb_inside_path(m->target);
        if (!t)
            return pyti_error_set(err, PYTI_ERR_USAGE,
                                  "sandbox: mount target '%s' must be an absolute path other "
                                  "than / without '.' or '..' components",
                                  m->target ? m->target : "(null)");
        free(t);
        if ((m->kind == SANDBOX_MOUNT_BIND || m->kind == SANDBOX_MOUNT_RO_BIND) && !m->source)
            return pyti_error_set(err, PYTI_ERR_USAGE, "sandbox: bind mount of %s has no source",
                                  m->target);
    }
    for (size_t i = 0; spec->envp && spec->envp[i]; i++)
        if (!strchr(spec->envp[i], '='))
            return pyti_error_set(err, PYTI_ERR_USAGE,
                                  "sandbox: environment entry '%s' has no '='", spec->envp[i]);
    return PYTI_OK;
}

void sandbox_result_free(pyti_sandbox_result *res)
{
    for (size_t i = 0; i < res->n_events; i++)
        sandbox_event_clear(&res->events[i]);
    free(res->events);
    res->events = NULL;
    res->n_events = 0;
}

json_t *sandbox_result_json(const pyti_sandbox_result *res)
{
    json_t *o = json_object();
    const char *status = res->timed_out ? "timeout"
                         : res->cancelled ? "cancelled"
                         : res->limit   ? "limit"
                         : res->signal  ? "signaled"
                                        : "exited";
    json_object_set_new(o, "status", json_string(status));
    json_object_set_new(o, "exit_code", res->signal ? json_null() : json_integer(res->exit_code));
    json_object_set_new(o, "signal", res->signal ? json_integer(res->signal) : json_null());
    json_object_set_new(o, "timed_out", json_boolean(res->timed_out));
    json_object_set_new(o, "cancelled", json_boolean(res->cancelled));
    json_object_set_new(o, "limit", res->limit ? json_string(res->limit) : json_null());
    json_set_text(o, "limit_detail", res->limit_detail[0] ? res->limit_detail : NULL);
    json_object_set_new(o, "wall_s", json_real(res->wall_s));
    json_object_set_new(o, "user_s", json_real(res->user_s));
    json_object_set_new(o, "sys_s", json_real(res->sys_s));
    json_object_set_new(o, "peak_memory_bytes", json_integer((json_int_t)res->peak_memory_bytes));
    json_object_set_new(o, "disk_bytes", json_integer((json_int_t)res->disk_bytes));
    json_object_set_new(o, "stdout_bytes", json_integer((json_int_t)res->stdout_bytes));
    json_object_set_new(o, "stderr_bytes", json_integer((json_int_t)res->stderr_bytes));
    json_object_set_new(o, "output_truncated", json_boolean(res->output_truncated));
    json_set_text(o, "accounting", res->accounting);
    json_t *evs = json_array();
    for (size_t i = 0; i < res->n_events; i++)
        json_array_append_new(evs, sandbox_event_json(&res->events[i]));
    json_object_set_new(o, "events", evs);
    json_object_set_new(o, "events_dropped", json_integer((json_int_t)res->events_dropped));
    if (res->traced_calls || res->forks || res->execs) {
        json_object_set_new(o, "traced_calls", json_integer((json_int_t)res->traced_calls));
        json_object_set_new(o, "forks", json_integer((json_int_t)res->forks));
        json_object_set_new(o, "execs", json_integer((json_int_t)res->execs));
        json_object_set_new(o, "sync_wakeup", json_boolean(res->sync_wakeup));
    }
    return o;
}

json_t *sandbox_event_json(const pyti_sandbox_event *e)
{
    json_t *ev = json_object();
    json_object_set_new(ev, "time_s", json_real(e->time_s));
    if (e->wall_s > 0)
        json_object_set_new(ev, "wall_s", json_real(e->wall_s));
    json_object_set_new(ev, "pid", json_integer(e->pid));
    json_set_text(ev, "comm", e->comm);
    json_set_text(ev, "syscall", e->syscall);
    json_set_text(ev, "arch", e->arch);
    json_object_set_new(ev, "nr", json_integer(e->nr));
    json_t *args = json_array();
    for (int a = 0; a < 6; a++)
        json_array_append_new(args, json_integer((json_int_t)e->args[a]));
    json_object_set_new(ev, "args", args);
    json_set_text(ev, "action", e->action);
    if (e->kind[0]) {
        json_set_text(ev, "kind", e->kind);
        json_set_text(ev, "text", e->text);
        json_set_text(ev, "object", e->object);
        if (e->object2)
            json_set_text(ev, "object2", e->object2);
        if (e->detail)
            json_object_set(ev, "detail", e->detail);
    }
    return ev;
}

/* ---- the run ---------------------------------------------------------- */

static char *const default_env[] = {
    "PATH=/usr/local/bin:/usr/bin:/bin",
    "HOME=/home/pyti",
    "USER=pyti",
    "LOGNAME=pyti",
    "SHELL=/bin/sh",
    "LANG=C.UTF-8",
    "TMPDIR=/tmp",
    "PYTHONDONTWRITEBYTECODE=1",
    NULL,
};

/* One captured stream: the pipe's read end, the capture file, the tee. */
typedef struct stream {
    int fd;
    int file;
    int tee;
    uint64_t *count;
} stream;

typedef struct run {
    const pyti_sandbox_spec *spec;
    pyti_sandbox_result *res;
    pid_t pid;
    int pidfd;
    int sock;
    stream out, err;
    uint64_t kept;           /* output bytes written to files so far */
    sb_supervisor sup;
    bool supervising;
    sb_cgroup cg;
    int tmpfs_fds[SB_MAX_TMPFS];
    size_t n_tmpfs;
    bool ready, exited, killed;
    bool root;               /* pyti runs as root: init does not wait for ACK */
    int wait_status;
    uint64_t tasks_started;  /* with the tracer: from init's EXIT */
    char setup_error[sizeof(sb_msg)];
    double t0;
    const char **disk_dirs;  /* writable binds (host paths) */
    size_t n_disk_dirs;
    double next_cg, next_disk, disk_interval;
    bool inodes_full;        /* a tmpfs ran out of inodes */
} run;

static void kill_run(run *r, const char *limit, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void kill_run(run *r, const char *limit, const char *fmt, ...)
{
    if (!r->killed) {
        r->killed = true;
        if (limit && !r->res->timed_out && !r->res->limit) {
            r->res->limit = limit;
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(r->res->limit_detail, sizeof r->res->limit_detail, fmt, ap);
            va_end(ap);
        }
    }
    /* Killing the PID namespace's init kills every process in it; the
     * cgroup kill covers the moment between a fork and its accounting. */
    if (r->pidfd >= 0)
        syscall(SYS_pidfd_send_signal, r->pidfd, SIGKILL, NULL, 0);
    else
        kill(r->pid, SIGKILL);
    sb_cgroup_kill(&r->cg);
}

/* Writes everything; false on an error (EPIPE included: callers that
 * tee to a pipe should ignore SIGPIPE, as the CLI does). */
static bool write_all_fd(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads what is available on s; returns false at EOF. */
static bool pump(run *r, stream *s)
{
    char buf[65536];
    ssize_t n = read(s->fd, buf, sizeof buf);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN;
    if (n == 0)
        return false;
    *s->count += (uint64_t)n;
    uint64_t limit = r->spec->limits.output_bytes;
    size_t keep = (size_t)n;
    if (limit && r->kept + keep > limit) {
        keep = (size_t)(limit - r->kept);
        r->res->output_truncated = true;
    }
    if (keep) {
        if (s->file >= 0)
            write_all_fd(s->file, buf, keep);
        /* A tee that fails (a closed pipe) is dropped; capture goes on. */
        if (s->tee >= 0 && !write_all_fd(s->tee, buf, keep))
            s->tee = -1;
        r->kept += keep;
    }
    if (r->res->output_truncated)
        kill_run(r, "output", "stdout+stderr exceeded %llu bytes",
                 (unsigned long long)limit);
    return true;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Reads one message from init. */
static void read_sock(run *r)
{
    char buf[1 + sizeof(sb_msg)];
    struct iovec iov = {buf, sizeof buf - 1};
    union {
        char b[CMSG_SPACE(sizeof(int) * (SB_MAX_TMPFS + 1))];
        struct cmsghdr align;
    } cm;
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cm.b;
    mh.msg_controllen = sizeof cm.b;
    ssize_t n = recvmsg(r->sock, &mh, MSG_CMSG_CLOEXEC);
    if (n <= 0) {
        close_fd(&r->sock);
        return;
    }
    buf[n] = '\0';
    int fds[SB_MAX_TMPFS + 1];
    size_t nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k && nfds < SB_MAX_TMPFS + 1; i++)
                memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        }
    }
    switch (buf[0]) {
    case SB_MSG_TMPFS:
        for (size_t i = 0; i < nfds && r->n_tmpfs < SB_MAX_TMPFS; i++)
            r->tmpfs_fds[r->n_tmpfs++] = fds[i];
        nfds = 0;
        break;
    case SB_MSG_READY:
        if ((size_t)n >= 1 + sizeof(int) && !r->ready) {
            int remote;
            memcpy(&remote, buf + 1, sizeof remote);
            int lfd = (int)syscall(SYS_pidfd_getfd, r->pidfd, remote, 0);
            if (lfd < 0) {
                snprintf(r->setup_error, sizeof r->setup_error,
                         "taking the seccomp listener from init (pidfd_getfd): %s",
                         strerror(errno));
                kill_run(r, NULL, "no listener"); /* the run fails as not ready */
                break;
            }
            fcntl(lfd, F_SETFD, FD_CLOEXEC);
            r->ready = true;
            sb_supervisor_init(&r->sup, lfd, r->spec, r->t0);
            r->supervising = true;
            /* As root, init did not wait (child.c): answer what is already
             * pending before init may exit on the ack. */
            if (r->root)
                sb_supervisor_handle(&r->sup);
            char ack = SB_MSG_ACK;
            if (write(r->sock, &ack, 1) != 1)
                snprintf(r->setup_error, sizeof r->setup_error, "acknowledging init: %s",
                         strerror(errno));
        }
        break;
    case SB_MSG_ERROR:
        snprintf(r->setup_error, sizeof r->setup_error, "%s", buf + 1);
        break;
    case SB_MSG_EXIT:
        if ((size_t)n >= 1 + sizeof(int)) {
            memcpy(&r->wait_status, buf + 1, sizeof(int));
            r->exited = true;
            if ((size_t)n >= 1 + sizeof(int) + sizeof(uint64_t)) {
                uint64_t last;
                memcpy(&last, buf + 1 + sizeof(int), sizeof last);
                r->tasks_started = last > 1 ? last - 1 : 0; /* all but init */
            }
        }
        break;
    default:
        break;
    }
    for (size_t i = 0; i < nfds; i++)
        close(fds[i]);
}

static uint64_t disk_sample(run *r, bool *complete)
{
    uint64_t total = 0;
    *complete = true;
    for (size_t i = 0; i < r->n_disk_dirs; i++) {
        uint64_t b = 0;
        if (!sb_disk_usage(r->disk_dirs[i], &b))
            *complete = false;
        total += b;
    }
    for (size_t i = 0; i < r->n_tmpfs; i++) {
        struct statfs sf;
        if (fstatfs(r->tmpfs_fds[i], &sf) == 0) {
            total += (uint64_t)(sf.f_blocks - sf.f_bfree) * (uint64_t)sf.f_bsize;
            if (sf.f_files && sf.f_ffree == 0)
                r->inodes_full = true;
        }
    }
    if (total > r->res->disk_bytes)
        r->res->disk_bytes = total;
    return total;
}

static void check_disk(run *r)
{
    uint64_t limit = r->spec->limits.disk_bytes;
    double t = sb_now();
    bool complete;
    uint64_t used = disk_sample(r, &complete);
    double cost = sb_now() - t;
    /* Sampling may take at most ~5% of a core. */
    r->disk_interval = cost * 20 > 0.25 ? cost * 20 : 0.25;
    if (!limit)
        return;
    if (!complete)
        kill_run(r, "disk", "a directory tree too deep to measure (over 512 levels)");
    else if (r->inodes_full)
        kill_run(r, "disk", "a tmpfs ran out of inodes (one per 4 KiB of the disk limit)");
    else if (used >= limit)
        kill_run(r, "disk", "writable dirs and tmpfs use %llu bytes, limit %llu",
                 (unsigned long long)used, (unsigned long long)limit);
}

static void check_cgroup(run *r, bool final)
{
    uint64_t peak = r->res->peak_memory_bytes, user = 0, sys = 0, pids_hits = 0, ooms = 0;
    sb_cgroup_sample(&r->cg, &peak, &user, &sys, &pids_hits, &ooms);
    r->res->peak_memory_bytes = peak;
    if (r->cg.cpu) {
        r->res->user_s = (double)user / 1e9;
        r->res->sys_s = (double)sys / 1e9;
    }
    const pyti_sandbox_limits *l = &r->spec->limits;
    if (!final && (!r->cg.memory || !r->cg.pids) && (l->memory_bytes || l->pids) && r->pid > 0) {
        /* No cgroup counts for us: sample the tree (tasks, resident
         * memory) and enforce the limits tree-wide. */
        uint64_t tasks = 0, rss = 0;
        sb_proctree_sample(r->pid, l->pids ? (size_t)l->pids + 1 : 1 << 20, &tasks, &rss);
        if (rss > r->res->peak_memory_bytes)
            r->res->peak_memory_bytes = rss;
        if (l->pids && !r->cg.pids && tasks >= l->pids)
            kill_run(r, "pids", "%llu processes and threads at the limit of %llu (sampled)",
                     (unsigned long long)tasks, (unsigned long long)l->pids);
        else if (l->memory_bytes && !r->cg.memory && rss >= l->memory_bytes)
            kill_run(r, "memory", "%llu bytes resident in the tree, limit %llu (sampled)",
                     (unsigned long long)rss, (unsigned long long)l->memory_bytes);
    }
    if (ooms > 0)
        kill_run(r, "memory", "the kernel's OOM killer ran %llu time(s) at the %llu-byte limit",
                 (unsigned long long)ooms, (unsigned long long)l->memory_bytes);
    else if (pids_hits > 0 && l->pids)
        kill_run(r, "pids", "fork refused %llu time(s) at the limit of %llu processes",
                 (unsigned long long)pids_hits, (unsigned long long)l->pids);
    else if (l->cpu_s > 0 && r->cg.cpu && r->res->user_s + r->res->sys_s >= l->cpu_s && !final)
        kill_run(r, "cpu", "%.2f CPU seconds used, limit %.2f", r->res->user_s + r->res->sys_s,
                 l->cpu_s);
}

static int open_capture(const char *path, pyti_error *err)
{
    if (!path)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        pyti_error_errno(err, PYTI_ERR_IO, errno, "sandbox: opening capture file %s", path);
    return fd;
}

/* Bind sources must exist; nothing may be mounted over /proc. (Targets
 * were checked by sandbox_spec_check.) */
static pyti_status check_sources(const pyti_sandbox_spec *spec, pyti_error *err)
{
    for (size_t i = 0; i < spec->n_mounts; i++) {
        const pyti_sandbox_mount *m = &spec->mounts[i];
        char *t = sb_inside_path(m->target);
        bool proc = t && strncmp(t, "/proc", 5) == 0 && (t[5] == '\0' || t[5] == '/');
        free(t);
        if (proc)
            return pyti_error_set(err, PYTI_ERR_USAGE,
                                  "sandbox mount %zu: nothing may be mounted over /proc", i + 1);
        struct stat st;
        if ((m->kind == SANDBOX_MOUNT_BIND || m->kind == SANDBOX_MOUNT_RO_BIND) &&
            stat(m->source, &st) != 0)
            return pyti_error_errno(err, PYTI_ERR_USAGE, errno, "sandbox mount source %s",
                                    m->source);
    }
    struct stat st;
    if (spec->home_source && (stat(spec->home_source, &st) != 0 || !S_ISDIR(st.st_mode)))
        return pyti_error_set(err, PYTI_ERR_USAGE, "sandbox: home %s is not a directory",
                              spec->home_source);
    return PYTI_OK;
}

/* A directory whose whole tree pyti may hand to the sandbox's uid: never
 * / or a top-level system directory, nor anything inside the system's own
 * trees (a slip there would give the host away). */
static pyti_status check_givable(const char *path, pyti_error *err)
{
    static const char *const exact[] = {
        "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32",
        "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var",
        "/var/tmp", "/dev/shm", NULL,
    };
    static const char *const trees[] = {
        "/usr/", "/etc/", "/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/",
        "/boot/", "/proc/", "/sys/", NULL,
    };
    char *real = realpath(path, NULL);
    if (!real)
        return pyti_error_errno(err, PYTI_ERR_USAGE, errno, "sandbox: %s", path);
    bool refused = false;
    for (size_t i = 0; exact[i]; i++)
        refused |= strcmp(real, exact[i]) == 0;
    for (size_t i = 0; trees[i]; i++)
        refused |= strncmp(real, trees[i], strlen(trees[i])) == 0;
    pyti_status st = PYTI_OK;
    if (refused)
        st = pyti_error_set(err, PYTI_ERR_USAGE,
                            "sandbox: refusing to hand %s (%s) to the sandbox's uid", path, real);
    free(real);
    return st;
}

/* The filter without extra traced calls, with or without the behaviour
 * tracer's notifications: made once per process (a task host runs a job's
 * sandboxes one after another), and kept across processes
 * (filter_cache.c). */
static const sb_filter *default_filter(bool tracer, pyti_error *err)
{
    static sb_filter f[2];
    static bool built[2];
    if (!built[tracer]) {
        if (sb_filter_standard(tracer, &f[tracer], err) != PYTI_OK)
            return NULL;
        built[tracer] = true;
    }
    return &f[tracer];
}

static void watch(run *r)
{
    const pyti_sandbox_limits *l = &r->spec->limits;
    double timeout = l->timeout_s > 0 ? l->timeout_s : SANDBOX_DEFAULT_TIMEOUT_S;
    double deadline = r->t0 + timeout;
    r->next_cg = r->t0 + 0.05;
    r->disk_interval = 0.25;
    r->next_disk = r->t0 + 0.2;
    bool init_alive = true;
    while (init_alive) {
        struct pollfd p[5];
        int n = 0;
        int i_pidfd = -1, i_sock = -1, i_out = -1, i_err = -1, i_sup = -1;
        i_pidfd = n;
        p[n++] = (struct pollfd){r->pidfd, POLLIN, 0};
        if (r->sock >= 0) {
            i_sock = n;
            p[n++] = (struct pollfd){r->sock, POLLIN, 0};
        }
        if (r->out.fd >= 0) {
            i_out = n;
            p[n++] = (struct pollfd){r->out.fd, POLLIN, 0};
        }
        if (r->err.fd >= 0) {
            i_err = n;
            p[n++] = (struct pollfd){r->err.fd, POLLIN, 0};
        }
        if (r->supervising && r->sup.fd >= 0) {
            i_sup = n;
            p[n++] = (struct pollfd){r->sup.fd, POLLIN, 0};
        }
        double now = sb_now();
        double next = deadline;
        if (r->next_cg < next)
            next = r->next_cg;
        if (r->next_disk < next)
            next = r->next_disk;
        int ms = next <= now ? 0 : (int)ceil((next - now) * 1000);
        int rc = poll(p, (nfds_t)n, ms);
        if (rc < 0 && errno != EINTR)
            break;
        if (i_sup >= 0 && p[i_sup].revents)
            sb_supervisor_ready(&r->sup, p[i_sup].revents);
        if (i_sock >= 0 && p[i_sock].revents)
            read_sock(r);
        if (i_out >= 0 && p[i_out].revents && !pump(r, &r->out))
            close_fd(&r->out.fd);
        if (i_err >= 0 && p[i_err].revents && !pump(r, &r->err))
            close_fd(&r->err.fd);
        if (p[i_pidfd].revents)
            init_alive = false;
        if (r->spec->cancel && *r->spec->cancel && !r->killed) {
            r->res->cancelled = true;
            kill_run(r, NULL, "cancelled");
        }
        now = sb_now();
        if (now >= deadline && !r->killed) {
            r->res->timed_out = true;
            snprintf(r->res->limit_detail, sizeof r->res->limit_detail,
                     "wall-clock limit of %.3g s", timeout);
            kill_run(r, NULL, "timeout");
        }
        if (now >= r->next_cg) {
            check_cgroup(r, false);
            r->next_cg = now + 0.1;
        }
        if (now >= r->next_disk && r->ready) {
            check_disk(r);
            r->next_disk = sb_now() + r->disk_interval;
        }
        if (r->killed && now >= deadline + 5) {
            /* init refuses to die: should never happen; stop waiting */
            break;
        }
    }
}

/* Reads whatever init said before exiting and what the pipes still hold. */
static void drain(run *r)
{
    while (r->sock >= 0) {
        struct pollfd p = {r->sock, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
            break;
        read_sock(r);
    }
    stream *ss[2] = {&r->out, &r->err};
    for (int i = 0; i < 2; i++) {
        /* All writers are dead (the whole namespace is gone): read to EOF. */
        while (ss[i]->fd >= 0) {
            struct pollfd p = {ss[i]->fd, POLLIN, 0};
            if (poll(&p, 1, 1000) <= 0 || !pump(r, ss[i]))
                close_fd(&ss[i]->fd);
        }
    }
}

static void finish_result(run *r, const struct rusage *ru)
{
    pyti_sandbox_result *res = r->res;
    res->wall_s = sb_now() - r->t0;
    if (r->exited) {
        int st = r->wait_status;
        if (WIFEXITED(st)) {
            res->exit_code = WEXITSTATUS(st);
        } else {
            res->signal = WTERMSIG(st);
            res->exit_code = -1;
        }
    } else {
        res->signal = SIGKILL;
        res->exit_code = -1;
    }
    if (!r->cg.cpu) {
        res->user_s = (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6;
        res->sys_s = (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
    }
    if (!r->cg.memory && (uint64_t)ru->ru_maxrss * 1024 > res->peak_memory_bytes)
        res->peak_memory_bytes = (uint64_t)ru->ru_maxrss * 1024;
    if (!res->timed_out && !res->limit && res->signal == SIGXCPU)
        res->limit = "cpu", snprintf(res->limit_detail, sizeof res->limit_detail,
                                     "RLIMIT_CPU (%.2f s per process)", r->spec->limits.cpu_s);
    if (!res->timed_out && !res->limit && res->signal == SIGXFSZ)
        res->limit = "disk", snprintf(res->limit_detail, sizeof res->limit_detail,
                                      "RLIMIT_FSIZE (a file reached %llu bytes)",
                                      (unsigned long long)r->spec->limits.disk_bytes);
}

pyti_status sandbox_run(const pyti_sandbox_spec *spec, pyti_sandbox_result *res,
                        pyti_error *err)
{
    memset(res, 0, sizeof *res);
    res->exit_code = -1;
    res->accounting = "rlimits";
    if (sandbox_spec_check(spec, err) != PYTI_OK)
        return PYTI_ERR_USAGE;

    run r;
    memset(&r, 0, sizeof r);
    r.spec = spec;
    r.res = res;
    r.pid = -1;
    r.pidfd = r.sock = -1;
    r.out = (stream){-1, -1, spec->stdout_tee_fd, &res->stdout_bytes};
    r.err = (stream){-1, -1, spec->stderr_tee_fd, &res->stderr_bytes};
    sb_filter own_filter = {0};
    sb_plan plan = {0};
    sb_ids ids;
    int pipes[2][2] = {{-1, -1}, {-1, -1}};
    int sv[2] = {-1, -1};
    pyti_status st = PYTI_OK;

    /* Everything that can be the caller's mistake is checked before the
     * clone, and the mount plan is built here (the host part once per
     * process). */
    if ((st = check_sources(spec, err)) != PYTI_OK ||
        (st = sb_plan_build(spec, spec->limits.disk_bytes, &plan, err)) != PYTI_OK)
        goto out;
    (void)sb_etc_cache_use(&plan, sb_etc_cache_default_root());
    sb_ids_choose(spec, &ids);
    r.root = ids.root;
    r.disk_dirs = xcalloc(spec->n_mounts + 2, sizeof *r.disk_dirs);
    if (spec->home_source)
        r.disk_dirs[r.n_disk_dirs++] = spec->home_source;
    for (size_t i = 0; i < spec->n_mounts; i++)
        if (spec->mounts[i].kind == SANDBOX_MOUNT_BIND)
            r.disk_dirs[r.n_disk_dirs++] = spec->mounts[i].source;
    /* As root, and only when asked, the writable dirs are handed to the
     * mapped uid. */
    for (size_t i = 0; spec->give_writable_dirs && ids.root && i < r.n_disk_dirs; i++) {
        if ((st = check_givable(r.disk_dirs[i], err)) != PYTI_OK ||
            (st = sb_chown_tree(r.disk_dirs[i], ids.host_uid, ids.host_gid, err)) != PYTI_OK)
            goto out;
    }
    if ((r.out.file = open_capture(spec->stdout_path, err)) < 0 && spec->stdout_path) {
        st = PYTI_ERR_IO;
        goto out;
    }
    if ((r.err.file = open_capture(spec->stderr_path, err)) < 0 && spec->stderr_path) {
        st = PYTI_ERR_IO;
        goto out;
    }
    if (pipe2(pipes[0], O_CLOEXEC) != 0 || pipe2(pipes[1], O_CLOEXEC) != 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        st = pyti_error_errno(err, PYTI_ERR_INTERNAL, errno, "sandbox: pipes");
        goto out;
    }

    sb_child_ctx ctx = {
        .spec = spec,
        .plan = &plan,
        .ids = &ids,
        .sock = sv[1],
        .stdin_fd = spec->stdin_fd,
        .stdout_fd = pipes[0][1],
        .stderr_fd = pipes[1][1],
        .envp = spec->envp ? spec->envp : default_env,
        .cwd = spec->cwd ? spec->cwd : "/home/pyti",
        .hostname = spec->hostname ? spec->hostname : "pyti",
    };

    fflush(NULL);
    r.t0 = sb_now();
    int pidfd = -1;
    long pid = syscall(SYS_clone,
                       CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
                           CLONE_NEWUTS | CLONE_PIDFD | SIGCHLD,
                       NULL, &pidfd, NULL, 0);
    if (pid < 0) {
        st = pyti_error_errno(err, PYTI_ERR_INTERNAL, errno,
                              "sandbox: creating namespaces (user, mount, pid, net, ipc, uts)");
        goto out;
    }
    if (pid == 0) {
        close(sv[0]);
        close(pipes[0][0]);
        close(pipes[1][0]);
        sb_child_main(&ctx);
    }
    r.pid = (pid_t)pid;
    r.pidfd = pidfd;
    r.sock = sv[0];
    sv[0] = -1;
    close_fd(&sv[1]);
    close_fd(&pipes[0][1]);
    close_fd(&pipes[1][1]);
    r.out.fd = pipes[0][0];
    r.err.fd = pipes[1][0];
    pipes[0][0] = pipes[1][0] = -1;
    fcntl(r.out.fd, F_SETFL, O_NONBLOCK);
    fcntl(r.err.fd, F_SETFL, O_NONBLOCK);

    /* Maps, then GO; while init sets up: the run's cgroup, moving init
     * into it, compiling the filter; then CGROUP with the program. */
    char go = SB_MSG_GO;
    const sb_filter *filter = NULL;
    if ((st = sb_userns_write_maps(r.pid, &ids, err)) != PYTI_OK)
        goto fail_started;
    if (write(r.sock, &go, 1) != 1) {
        st = pyti_error_errno(err, PYTI_ERR_INTERNAL, errno, "sandbox: starting init");
        goto fail_started;
    }
    if ((st = sb_cgroup_create(&r.cg, &spec->limits, err)) != PYTI_OK ||
        (st = sb_cgroup_attach(&r.cg, r.pid, err)) != PYTI_OK)
        goto fail_started;
    res->accounting = r.cg.version == 2 ? "cgroup v2" : r.cg.version == 1 ? "cgroup v1" : "rlimits";
    if (spec->trace_syscalls) {
        if ((st = sb_filter_build(spec->trace_syscalls, spec->trace, &own_filter, err)) !=
            PYTI_OK)
            goto fail_started;
        filter = &own_filter;
    } else if (!(filter = default_filter(spec->trace, err))) {
        st = PYTI_ERR_INTERNAL;
        goto fail_started;
    }
    {
        size_t plen = filter->prog.len * sizeof(struct sock_filter);
        char *msg = xmalloc(2 + plen);
        msg[0] = SB_MSG_CGROUP;
        msg[1] = (char)((r.cg.memory ? SB_CG_MEMORY : 0) | (r.cg.pids ? SB_CG_PIDS : 0) |
                        (r.cg.cpu ? SB_CG_CPU : 0));
        memcpy(msg + 2, filter->prog.filter, plen);
        ssize_t w = send(r.sock, msg, 2 + plen, MSG_NOSIGNAL);
        free(msg);
        if (w != (ssize_t)(2 + plen)) {
            st = pyti_error_errno(err, PYTI_ERR_INTERNAL, errno, "sandbox: starting init");
            goto fail_started;
        }
    }

    sb_cgroup_sweep_stale(); /* init is setting up meanwhile */
    watch(&r);
    if (!r.killed && !r.exited)
        kill_run(&r, NULL, "init ended"); /* belt and braces */
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    int wst;
    while (wait4(r.pid, &wst, 0, &ru) < 0 && errno == EINTR)
        ;
    r.pid = -1;
    drain(&r);
    if (r.supervising)
        sb_supervisor_finish(&r.sup, res);
    res->forks = r.tasks_started;
    if (!r.ready) {
        st = pyti_error_set(err, PYTI_ERR_INTERNAL, "sandbox set-up failed: %s",
                            r.setup_error[0] ? r.setup_error : "init died before it was ready");
        goto out;
    }
    check_cgroup(&r, true);
    if (spec->limits.disk_bytes || r.n_disk_dirs || r.n_tmpfs) {
        if (spec->limits.disk_bytes) {
            bool was_killed = r.killed;
            check_disk(&r);
            (void)was_killed;
        } else {
            bool complete;
            (void)disk_sample(&r, &complete);
        }
    }
    finish_result(&r, &ru);
    goto out;

fail_started:
    /* init never got to run the command: take it down, report pyti's error. */
    kill(r.pid, SIGKILL);
    waitpid(r.pid, NULL, 0);
    r.pid = -1;
    read_sock(&r); /* an earlier set-up error from init explains more */
    if (r.setup_error[0])
        st = pyti_error_set(err, PYTI_ERR_INTERNAL, "sandbox set-up failed: %s", r.setup_error);
out:
    for (size_t i = 0; i < r.n_tmpfs; i++)
        close(r.tmpfs_fds[i]);
    if (r.supervising && r.sup.fd >= 0)
        sb_supervisor_finish(&r.sup, res);
    if (r.pid > 0) {
        kill(r.pid, SIGKILL);
        waitpid(r.pid, NULL, 0);
    }
    sb_cgroup_destroy(&r.cg);
    close_fd(&r.pidfd);
    close_fd(&r.sock);
    close_fd(&r.out.fd);
    close_fd(&r.err.fd);
    close_fd(&r.out.file);
    close_fd(&r.err.file);
    for (int i = 0; i < 2; i++) {
        close_fd(&pipes[i][0]);
        close_fd(&pipes[i][1]);
    }
    close_fd(&sv[0]);
    close_fd(&sv[1]);
    free(r.disk_dirs);
    sb_plan_free(&plan);
    sb_filter_free(&own_filter);
    return st;
}
