/* sandbox.h — the sandbox: runs one command in a fresh isolated environment
 * built by pyti itself (no bwrap, no container runtime), enforces limits,
 * reports denied system calls, and measures what the run used.
 *
 * Every run gets new user, mount, PID, network, IPC, UTS and cgroup
 * namespaces; a tmpfs root entered with pivot_root (the old root detached);
 * the host's /usr (and the /bin, /lib* links) read-only; a few generated or
 * copied /etc files; a new /proc with sensitive files masked; a minimal
 * /dev; an empty network namespace with only loopback up; an unprivileged
 * uid inside (1000 "pyti", mapped to an unprivileged host uid); all
 * capabilities dropped; no_new_privs; and a seccomp filter whose denied
 * calls are reported to a supervisor in the parent. There is no way to
 * run a command with less: sandbox_run() fails if any mandatory step
 * fails. docs/sandbox.md has the design and the reasons.
 *
 * Typical use:
 *
 *   pyti_sandbox_spec spec;
 *   sandbox_spec_init(&spec);
 *   spec.argv = argv;
 *   spec.mounts = mounts; spec.n_mounts = n;
 *   spec.limits.timeout_s = 60;
 *   pyti_sandbox_result res;
 *   if (sandbox_run(&spec, &res, &err) != PYTI_OK) ... pyti's own failure ...
 *   ... res.exit_code / res.signal / res.limit ...
 *   sandbox_result_free(&res);
 */
#ifndef PYTI_SANDBOX_H
#define PYTI_SANDBOX_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

/* What a mount of the spec puts inside. Targets are absolute paths inside
 * the sandbox; sources are host paths. */
typedef enum pyti_sandbox_mount_kind {
    SANDBOX_MOUNT_RO_BIND, /* host source, read-only, nosuid, nodev */
    SANDBOX_MOUNT_BIND,    /* host source, writable, nosuid, nodev; its size
                            * counts against the disk limit */
    SANDBOX_MOUNT_TMPFS,   /* fresh tmpfs of `size` bytes (0: the disk limit) */
    SANDBOX_MOUNT_DIR,     /* an empty directory in the (read-only) root */
} pyti_sandbox_mount_kind;

typedef struct pyti_sandbox_mount {
    pyti_sandbox_mount_kind kind;
    const char *source; /* host path for binds, NULL otherwise */
    const char *target; /* absolute path inside */
    uint64_t size;      /* tmpfs only: bytes; 0 = the disk limit */
} pyti_sandbox_mount;

/* Limits of one run. 0 means "no limit" for every field except timeout_s,
 * where 0 means the default (SANDBOX_DEFAULT_TIMEOUT_S): a run without a
 * wall-clock limit does not exist. */
typedef struct pyti_sandbox_limits {
    double timeout_s;       /* wall clock; the whole tree is killed */
    uint64_t memory_bytes;  /* cgroup memory limit (RLIMIT_AS without cgroups) */
    uint64_t pids;          /* processes+threads (cgroup pids; RLIMIT_NPROC) */
    double cpu_s;           /* user+sys CPU seconds of the whole tree */
    uint64_t disk_bytes;    /* writable binds + tmpfs mounts together */
    uint64_t output_bytes;  /* captured stdout + stderr together */
} pyti_sandbox_limits;

#define SANDBOX_DEFAULT_TIMEOUT_S 3600.0
#define SANDBOX_INSIDE_UID 1000
#define SANDBOX_INSIDE_GID 1000
/* The host uid/gid the inside uid maps to when pyti runs as root (a
 * subordinate id no account uses; settable per spec). */
#define SANDBOX_DEFAULT_HOST_ID 100000

/* One reported system call: a denied call, or (for traced calls) one that
 * was let through. The fixed strings are NUL-terminated and never NULL.
 *
 * With spec.trace (the behaviour tracer, docs/tracing.md) the supervisor
 * also decodes the call: kind names what it is, text is a one-line
 * human description ("openat(\"/home/pyti/.ssh/id_rsa\", O_RDONLY)"),
 * object is the thing acted upon (a path as the sandbox sees it, with
 * dirfd-relative and relative paths resolved, and symlinks resolved for
 * paths in writable trees; "1.2.3.4:80" for addresses; the query name for
 * DNS), object2 a second path (rename/link target, symlink text), data a
 * bounded copy of an outgoing payload (send*) or of execve's argv (NUL
 * separated), detail every decoded argument as JSON. These pointers are
 * owned by the event (by the result once recorded) and may be NULL. The
 * memory of a call that is let through can change after the supervisor
 * read it: decoded arguments are evidence of intent, not proof of what
 * the kernel did (docs/tracing.md, "TOCTOU"). */
typedef struct pyti_sandbox_event {
    double time_s;        /* seconds since the run started */
    double wall_s;        /* CLOCK_REALTIME, seconds since the epoch */
    pid_t pid;            /* host pid (thread id) of the caller */
    char comm[17];        /* its /proc/<pid>/comm as read by the parent */
    char syscall[32];     /* "mount", or "x86:21" if the name is unknown */
    char arch[8];         /* "x86_64", "x86" (int 0x80) or "x32" */
    int nr;               /* raw syscall number */
    uint64_t args[6];     /* raw arguments */
    char action[12];      /* "denied" (EPERM), "enosys", "traced" */
    char kind[16];        /* tracer: "file.open", "file.write", "exec", ...; else "" */
    char *text;
    char *object;
    char *object2;
    unsigned char *data;
    size_t data_len;
    json_t *detail;
    uint64_t flags;       /* open flags, mode of chmod, port of connect ... */
} pyti_sandbox_event;

typedef void (*pyti_sandbox_event_fn)(void *user, const pyti_sandbox_event *ev);
/* Decides whether an event is kept in the result (true) or forgotten
 * (false: not counted as dropped either). May annotate ev->detail. */
typedef bool (*pyti_sandbox_keep_fn)(void *user, pyti_sandbox_event *ev);

/* Frees what an event owns (text, object, object2, data, detail). */
void sandbox_event_clear(pyti_sandbox_event *ev);
/* The event as a JSON object (new reference): time_s, wall_s, pid, comm,
 * syscall, arch, nr, args, action, and with the tracer kind, text,
 * object, object2, detail. */
json_t *sandbox_event_json(const pyti_sandbox_event *ev);

/* What to run and how. Initialise with sandbox_spec_init(); every pointer
 * is borrowed for the duration of sandbox_run(). */
typedef struct pyti_sandbox_spec {
    char *const *argv;        /* NULL-terminated; argv[0] searched in PATH of envp */
    char *const *envp;        /* the complete environment; NULL = a minimal
                               * default (PATH, HOME, LANG=C.UTF-8, TMPDIR...) */
    const char *cwd;          /* inside; NULL = HOME */
    const pyti_sandbox_mount *mounts; /* the job's mounts, applied after the system ones */
    size_t n_mounts;
    const char *home_source;  /* host dir bound writable at /home/pyti (a decoy
                               * home, e.g. seeded with honeytokens); NULL = an
                               * empty tmpfs */
    const char *hostname;     /* NULL = "pyti" */
    /* When pyti runs as root: hand the writable binds and the home source
     * to the mapped host uid (lchown -R, never following symlinks) so the
     * inside user can write them. Only for directories pyti made itself
     * (a job's work and out dirs): the ownership of everything below
     * changes. Writable binds of / or of system directories are refused
     * then. Without it, a writable bind must already be writable by the
     * mapped uid (e.g. mode 1777). */
    bool give_writable_dirs;
    uid_t host_uid;           /* when pyti runs as root: host id the inside uid */
    gid_t host_gid;           /* maps to; 0 = SANDBOX_DEFAULT_HOST_ID */
    pyti_sandbox_limits limits;
    int stdin_fd;             /* given to the command as stdin; -1 = /dev/null */
    const char *stdout_path;  /* host files receiving the captured output */
    const char *stderr_path;  /* (created 0600, never through a symlink); NULL = none */
    int stdout_tee_fd;        /* also copy output here live; -1 = no */
    int stderr_tee_fd;
    /* Extension point for the tracer: these syscalls (names) are reported
     * as "traced" events and then allowed to continue. NULL-terminated or
     * NULL. Denied syscalls cannot be traced. */
    const char *const *trace_syscalls;
    pyti_sandbox_event_fn on_event; /* called for every event, may be NULL */
    void *user;
    size_t max_events;        /* events kept in the result; 0 = 1000 */
    /* The behaviour tracer (docs/tracing.md): file calls (every open,
     * unlink, rename, chmod, chown, link, symlink, mkdir), execve with its
     * argv and environment size, connect/bind/sendto/sendmsg/sendmmsg
     * with decoded addresses and DNS queries, and long sleeps are notified,
     * decoded and continued; everything else stays in the kernel. The
     * processes and threads started are counted (result.forks). /etc/resolv.conf then names 127.0.0.53 (nothing
     * listens: queries are sent, traced, and fail at once). */
    bool trace;
    pyti_sandbox_keep_fn keep_event; /* with trace: filter/annotate; NULL = keep all */
    /* When *cancel becomes non-zero (e.g. set by a SIGINT handler of the
     * caller; the run's poll is interrupted by the signal), the run is
     * killed and reported as cancelled. NULL = not cancellable. */
    volatile sig_atomic_t *cancel;
} pyti_sandbox_spec;

/* What happened. Filled by sandbox_run(); free with sandbox_result_free(). */
typedef struct pyti_sandbox_result {
    int exit_code;            /* the command's exit code, -1 if it was killed */
    int signal;               /* the signal that killed it, 0 if it exited */
    bool timed_out;           /* the wall-clock limit was hit */
    bool cancelled;           /* the caller cancelled the run (spec.cancel) */
    const char *limit;        /* NULL or "memory", "pids", "cpu", "disk",
                               * "output" (static strings) */
    char limit_detail[160];   /* human-readable detail of the limit hit */
    double wall_s, user_s, sys_s;
    uint64_t peak_memory_bytes;
    uint64_t disk_bytes;      /* largest disk use sampled */
    uint64_t stdout_bytes, stderr_bytes; /* produced (kept up to the limit) */
    bool output_truncated;
    pyti_sandbox_event *events;
    size_t n_events;
    size_t events_dropped;    /* beyond max_events */
    uint64_t traced_calls;    /* notifications handled for the tracer */
    uint64_t forks;           /* with trace: processes and threads started in the
                               * sandbox (from its PID namespace's last PID, read
                               * when the command ends; 0 if it was killed) */
    uint64_t execs;           /* execve/execveat seen */
    bool sync_wakeup;         /* the listener uses the kernel's sync wake-up */
    const char *accounting;   /* "cgroup v2", "cgroup v1" or "rlimits" */
} pyti_sandbox_result;

/* Sets every field of spec to its default: no argv, no mounts, stdin
 * /dev/null, no tees, default limits (timeout only). Can't fail. */
void sandbox_spec_init(pyti_sandbox_spec *spec);

/* Runs spec->argv in a new sandbox and waits for it (and every process it
 * started) to end. Returns PYTI_OK when the command ran, whatever its
 * outcome: res tells how it ended and what it used. Returns an error
 * only for pyti's own failures: an invalid spec (PYTI_ERR_USAGE, naming
 * the field), a host that cannot give full isolation or a setup step that
 * failed (PYTI_ERR_INTERNAL, naming the step). res is always initialised
 * and must be freed with sandbox_result_free(). Never runs the command
 * with less than full isolation. One run at a time per process (the
 * compiled filter, the cgroup set-up and the host part of the mount plan
 * are cached per process); the caller may have other threads. Blocks
 * until the run ends; a signal handler can cancel it via spec->cancel. */
pyti_status sandbox_run(const pyti_sandbox_spec *spec, pyti_sandbox_result *res,
                        pyti_error *err);

/* Checks spec without running anything (also done by sandbox_run). */
pyti_status sandbox_spec_check(const pyti_sandbox_spec *spec, pyti_error *err);

void sandbox_result_free(pyti_sandbox_result *res);

/* The result as a JSON object (new reference): exit_code, signal, status
 * ("exited", "signaled", "timeout", "limit", "cancelled"), timed_out,
 * cancelled, limit, wall_s,
 * user_s, sys_s, peak_memory_bytes, disk_bytes, stdout_bytes, stderr_bytes,
 * output_truncated, accounting, events [sandbox_event_json...],
 * events_dropped, and with the tracer traced_calls, forks, execs. */
json_t *sandbox_result_json(const pyti_sandbox_result *res);

/* What the host offers. */
typedef struct pyti_sandbox_probe {
    bool userns, mntns, pidns, netns, ipcns, utsns, cgroupns;
    bool pivot_root;          /* tried: a tmpfs root could be entered */
    bool mount_api;           /* open_tree/move_mount/mount_setattr */
    bool seccomp;             /* seccomp filters */
    bool seccomp_notify;      /* SECCOMP_RET_USER_NOTIF with a listener */
    bool tried;               /* namespaces were really tried, not guessed */
    int cgroup_version;       /* 2, 1, or 0 when none is usable */
    bool cg_memory, cg_pids, cg_cpu, cg_kill; /* usable controllers / kill */
    bool root;                /* pyti runs as root */
    char cgroup_note[256];    /* why cgroups are not (fully) usable, or "" */
    char missing[256];        /* mandatory pieces missing, or "" */
} pyti_sandbox_probe;

/* Tells what isolation is available. With try_it, namespaces, pivot_root
 * and a seccomp listener are really tried in a throw-away child (about a
 * millisecond); without, they are inferred from /proc. Returns PYTI_OK if
 * everything mandatory (namespaces, pivot_root, seccomp with user
 * notification) is there, else PYTI_ERR_INTERNAL naming what is missing;
 * *out is filled either way. Cgroups are optional: without them limits
 * fall back to rlimits (see cgroup_note). */
pyti_status sandbox_probe(pyti_sandbox_probe *out, bool try_it, pyti_error *err);

/* Only the cgroup fields of *out (the rest zero): what sandbox_run will
 * use for limits and accounting. Cheap after the first call (the cgroup
 * code detects once per process and sandbox_run needs it anyway). */
void sandbox_probe_cgroups(pyti_sandbox_probe *out);

/* Human-readable lines describing a probe, for `pyti sandbox --verbose`. */
char *sandbox_probe_describe(const pyti_sandbox_probe *p);

/* Parses a size: digits with an optional K, M, G or T suffix (powers of
 * 1024, optional trailing "B" or "iB"). PYTI_ERR_USAGE on anything else or
 * overflow. */
pyti_status sandbox_parse_size(const char *s, uint64_t *out, pyti_error *err);

/* Parses a duration in seconds: a decimal number with an optional s, m or
 * h suffix. Must be > 0. PYTI_ERR_USAGE otherwise. */
pyti_status sandbox_parse_duration(const char *s, double *out, pyti_error *err);

#endif
