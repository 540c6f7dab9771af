/* sandbox_internal.h — what the files of src/sandbox/ share and nothing
 * outside this room may use: the mount plan, id mapping, the seccomp rule
 * table, the supervisor, cgroups and limits. Functions named sb_child_*
 * run in the sandbox's init process between clone and exec: they only
 * make system calls, never allocate, and report failures as text into a
 * caller buffer (sb_msg). */
#ifndef PYTI_SANDBOX_INTERNAL_H
#define PYTI_SANDBOX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <linux/filter.h>

#include "common/buf.h"
#include "common/err.h"
#include "sandbox/sandbox.h"

/* An error message produced in the child and sent to the parent. */
typedef struct sb_msg {
    char text[512];
} sb_msg;

/* Writes all n bytes (retrying short writes and EINTR); 0 or -1 with errno. */
int sb_write_all(int fd, const char *p, size_t n);

/* Fills m with "what: strerror(errnum)" and returns -1. */
int sb_fail(sb_msg *m, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- mounts.c: the mount plan (built in the parent, applied in the child) */

typedef enum sb_op_kind {
    SB_OP_BIND,       /* src (host) -> dst, ro or rw */
    SB_OP_TMPFS,      /* fresh tmpfs at dst of size bytes */
    SB_OP_DIR,        /* mkdir dst */
    SB_OP_SYMLINK,    /* dst -> src (link text) */
    SB_OP_FILE,       /* dst with contents data (generated) */
    SB_OP_COPY,       /* dst with the contents of host file src */
    SB_OP_PROC,       /* new procfs at dst */
    SB_OP_RO_REMOUNT, /* dst (an existing path inside) made read-only */
    SB_OP_MASK,       /* dst hidden: /dev/null over a file, empty ro tmpfs over a dir */
} sb_op_kind;

/* What tells a host file's contents apart without reading them. */
typedef struct sb_file_facts {
    uint64_t dev, ino, size, mtime_s, mtime_ns, ctime_s, ctime_ns;
} sb_file_facts;

/* The facts of a file from its (l)stat. */
void sb_file_facts_of(const struct stat *st, sb_file_facts *out);

typedef struct sb_op {
    sb_op_kind kind;
    char *src;
    char *dst;          /* absolute inside path, normalised */
    bool ro;
    bool devices;       /* bind of a device node: keep dev, add noexec */
    bool disk;          /* counts against the disk limit */
    bool optional;      /* skip silently when the source/target is missing */
    uint64_t size;      /* tmpfs bytes */
    mode_t mode;
    char *data;         /* SB_OP_FILE contents */
    size_t data_len;
    int tree_fd;        /* child: open_tree() clone of src, -1 before */
    /* SB_OP_COPY: src's facts when the plan's host part was discovered by
     * this very sb_plan_build (later plans of a process reuse that
     * discovery, and their facts would be stale: they stat again). */
    bool facts_fresh;
    sb_file_facts facts;
} sb_op;

typedef struct sb_plan {
    sb_op *ops;
    size_t n, cap;
} sb_plan;

/* Normalises an inside path: absolute, no "." or ".." components, no
 * doubled or trailing slash. Returns a new string, or NULL if the path is
 * not acceptable as a mount target (relative, "..", "/", too long). */
char *sb_inside_path(const char *p);

/* Builds the whole mount plan for spec: system mounts (/usr, links, /etc,
 * /proc, /dev, /tmp, home) then the spec's. disk_limit sizes the tmpfs
 * mounts that have no size. PYTI_ERR_USAGE for a bad target or a missing
 * source, naming it. */
pyti_status sb_plan_build(const pyti_sandbox_spec *spec, uint64_t disk_limit, sb_plan *plan,
                          pyti_error *err);
void sb_plan_free(sb_plan *plan);

/* Child: clones every bind source (must run before anything is mounted
 * over the host tree and while the child still has the caller's access). */
int sb_child_open_sources(sb_plan *plan, sb_msg *m);
/* Child: mounts a tmpfs at newroot and builds the plan under it; collects
 * O_PATH fds of every disk-counted tmpfs into tmpfs_fds (at most max);
 * then enters it with pivot_root and detaches the old root. */
int sb_child_build_root(sb_plan *plan, const char *newroot, int *tmpfs_fds, size_t max,
                        size_t *n_tmpfs, sb_msg *m);

/* ---- etc_cache.c: /etc prepared once on the host, bound read-only */

/* Replaces the plan's /etc files by a read-only bind of a directory under
 * root holding exactly those files (built on first use, reused while what
 * it is made of is unchanged). Returns false, leaving the plan as it was,
 * when root is NULL or untrusted, the plan asks for its own mounts under
 * /etc, or the entry cannot be built; the files are then written into the
 * root at each run. */
bool sb_etc_cache_use(sb_plan *plan, const char *root);
/* This process's cache root: sandbox-etc in the runtime directory, or
 * NULL (no cache). Decided once per process. */
const char *sb_etc_cache_default_root(void);

/* ---- runtime_dir.c: where prepared things are kept across processes */

/* <runtime>/name, created (/run/pyti as root; as a user
 * $XDG_RUNTIME_DIR/pyti, else $XDG_CACHE_HOME/pyti), as a new string; NULL
 * when it cannot be made or is not pyti's own and closed to others. */
char *sb_runtime_subdir(const char *name);
/* A directory pyti's user owns that no one else may write. */
bool sb_trusted_dir(const struct stat *st);

/* ---- userns.c: uid/gid mapping and privileges */

typedef struct sb_ids {
    bool root;          /* pyti runs as (host) root */
    uid_t inside_uid, host_uid;
    gid_t inside_gid, host_gid;
} sb_ids;

/* Decides the mapping for this process and spec. Can't fail. */
void sb_ids_choose(const pyti_sandbox_spec *spec, sb_ids *ids);
/* Parent: writes setgroups/uid_map/gid_map of pid. */
pyti_status sb_userns_write_maps(pid_t pid, const sb_ids *ids, pyti_error *err);
/* Child: becomes inside_uid/gid keeping its capabilities (for setup). */
int sb_child_become_user(const sb_ids *ids, sb_msg *m);
/* Child: drops every capability (bounding, ambient, permitted, effective,
 * inheritable), locks securebits, sets no_new_privs. */
int sb_child_drop_privileges(sb_msg *m);
/* Parent, root only: hands the writable host dirs to the mapped host uid
 * (lchown -R, never following symlinks). */
pyti_status sb_chown_tree(const char *path, uid_t uid, gid_t gid, pyti_error *err);

/* ---- netns.c */

/* Child: brings loopback up in the new network namespace. */
int sb_child_loopback_up(sb_msg *m);

/* ---- seccomp_filter.c */

typedef enum sb_sc_action {
    SB_SC_ALLOW = 0,
    SB_SC_DENY,    /* notify, report, answer EPERM */
    SB_SC_ENOSYS,  /* notify, report if it asked for namespaces, answer ENOSYS */
    SB_SC_TRACE,   /* notify, report, continue (the tracer's calls) */
} sb_sc_action;

/* One row of the rule table. */
typedef struct sb_sc_rule {
    const char *name;     /* syscall name as libseccomp knows it */
    sb_sc_action action;
    int arg;              /* -1: whole call; else the argument compared */
    uint64_t mask;        /* denied when (arg & mask) == value, or != 0 if */
    uint64_t value;       /*   value is SB_ANY_BIT */
    const char *why;      /* one-line justification (docs/sandbox.md) */
} sb_sc_rule;

#define SB_ANY_BIT UINT64_MAX

/* The rule table, terminated by a NULL name. */
const sb_sc_rule *sb_seccomp_rules(void);

/* A compiled filter ready to load in the child. */
typedef struct sb_filter {
    struct sock_fprog prog;
} sb_filter;

/* Compiles the table (plus trace, NULL-terminated names, may be NULL, and
 * with tracer the behaviour tracer's table) with libseccomp: native x86_64 rules; x86 and x32 go wholly to the
 * notifier. PYTI_ERR_INTERNAL naming the rule on failure; an unknown
 * trace name is PYTI_ERR_USAGE. */
pyti_status sb_filter_build(const char *const *trace, bool tracer, sb_filter *f,
                            pyti_error *err);
void sb_filter_free(sb_filter *f);
/* filter_cache.c: the program sb_filter_build(NULL, tracer) makes, read
 * from the runtime directory when it was kept there by an earlier process
 * (else compiled, and kept for the next). */
pyti_status sb_filter_standard(bool tracer, sb_filter *f, pyti_error *err);
/* Where that program is kept (new string), or NULL without a runtime dir. */
char *sb_filter_program_path(bool tracer);
/* Child: loads the filter with a new listener; returns the listener fd. */
int sb_child_load_filter(const sb_filter *f, sb_msg *m);
/* Decides what a notification means: the action for native nr/args
 * (trace list included) and a name; other-ABI calls are always SB_SC_DENY.
 * name gets "mount", "x86:mount", ... */
sb_sc_action sb_seccomp_classify(uint32_t arch, int nr, const uint64_t *args,
                                 const char *const *trace, bool tracer, char *name,
                                 size_t name_size, const char **arch_name);

/* ---- trace_rules.c, trace_mem.c, trace_net.c, trace_decode.c: the
 * behaviour tracer (docs/tracing.md). The filter notifies the rows of the
 * tracer's table; the supervisor decodes each into an event and lets the
 * call continue. */

typedef enum sb_tr_decoder {
    SB_TR_OPEN, SB_TR_OPENAT, SB_TR_OPENAT2, SB_TR_CREAT,
    SB_TR_PATH,      /* unlink, rmdir, mkdir, chmod, chown, lchown, truncate: path in arg 0 */
    SB_TR_PATHAT,    /* unlinkat, mkdirat, fchmodat, fchownat: dirfd 0, path 1 */
    SB_TR_FD,        /* fchmod, fchown: fd 0 */
    SB_TR_PATH2,     /* rename, link: old 0, new 1 */
    SB_TR_PATH2AT,   /* renameat, renameat2, linkat: olddirfd 0, old 1, newdirfd 2, new 3 */
    SB_TR_SYMLINK,   /* target 0, linkpath 1 */
    SB_TR_SYMLINKAT, /* target 0, newdirfd 1, linkpath 2 */
    SB_TR_EXECVE, SB_TR_EXECVEAT,
    SB_TR_CONNECT, SB_TR_BIND, SB_TR_SENDTO, SB_TR_SENDMSG, SB_TR_SENDMMSG,
    SB_TR_NANOSLEEP, SB_TR_CLOCK_NANOSLEEP,
} sb_tr_decoder;

typedef struct sb_tr_rule {
    const char *name;     /* syscall name (libseccomp) */
    sb_tr_decoder decoder;
    const char *kind;     /* event kind ("file.mkdir"); open decides read/write itself */
    int arg;              /* -1: every call; else notified when (args[arg] & mask) == value */
    uint64_t mask, value;
} sb_tr_rule;

/* The tracer's table, terminated by a NULL name. */
const sb_tr_rule *sb_trace_rules(void);
/* The row for a native x86_64 call, or NULL (its condition included). */
const sb_tr_rule *sb_trace_match(int nr, const uint64_t *args);

/* Reads up to len bytes at addr in pid's memory (page by page, stopping
 * at the first unreadable page). Returns the bytes read, 0 if none. */
size_t sb_tr_read(pid_t pid, uint64_t addr, void *buf, size_t len);
/* Reads a NUL-terminated string at addr into buf (cap >= 2): returns its
 * length, or -1 if nothing was readable. *cut (may be NULL) is set when
 * the string was longer than cap - 1 (buf holds its start). */
ssize_t sb_tr_read_str(pid_t pid, uint64_t addr, char *buf, size_t cap, bool *cut);
/* Joins base (absolute) and rel and removes ".", ".." and doubled
 * slashes lexically ("/a/b" + "../c" = "/a/c"; ".." never climbs above
 * "/"). rel may be absolute (base ignored). New string. */
char *sb_path_join_normal(const char *base, const char *rel);
/* What pid sees as the directory dirfd (AT_FDCWD: its cwd), through
 * /proc/<pid>/{cwd,fd/N}. New string or NULL (not a directory path). */
char *sb_tr_dir_of(pid_t pid, int dirfd);
/* The absolute, lexically normalised path of (dirfd, path) for pid. */
char *sb_tr_abs_path(pid_t pid, int dirfd, const char *path);
/* The path after following symlinks inside pid's root (openat2 with
 * RESOLVE_IN_ROOT on /proc/<pid>/root; the last component is not
 * followed with nofollow). For a path that does not exist yet, its
 * parent is resolved. New string, or NULL if nothing could be resolved. */
char *sb_tr_resolve(pid_t pid, const char *abs, bool nofollow);
/* The same inside an already opened root (an O_PATH fd of /proc/<pid>/root:
 * every process of a sandbox has the same root, chroot and pivot_root
 * being denied). */
char *sb_tr_resolve_at(int root, const char *abs, bool nofollow);
/* An O_PATH fd of /proc/<pid>/root, or -1. */
int sb_tr_open_root(pid_t pid);
/* False only when abs certainly does not exist inside root (ENOENT). */
bool sb_tr_exists_at(int root, const char *abs);
/* readlink of /proc/<pid>/fd/<fd> into out: "socket:[123]", "/tmp/x"... */
bool sb_tr_fd_link(pid_t pid, int fd, char *out, size_t cap);

/* Decodes a socket address (untrusted bytes): "1.2.3.4:80", "[::1]:53",
 * "unix:/path", "unix:@abstract", "netlink", "family 17". *family and
 * *port (0 when none) are set; *local is true for loopback, unix and
 * netlink addresses. Returns false for a length too short to decode. */
bool sb_tr_sockaddr(const unsigned char *sa, size_t len, char *out, size_t cap, int *family,
                    int *port, bool *local);
/* Parses a DNS query (a UDP payload, untrusted): header with QR=0 and at
 * least one question; the first question's name (dotted, lower case,
 * unusual bytes as \xNN) and type. Returns false if it is not one. */
bool sb_dns_parse_query(const unsigned char *p, size_t n, char *name, size_t cap,
                        unsigned *qtype);
/* "A", "AAAA", "TXT"... or NULL. */
const char *sb_dns_type_name(unsigned qtype);
/* The peer address of socket fd of pid ("1.2.3.4:53") from its
 * network namespace's /proc tables, and *port, *udp. False if unknown. */
bool sb_tr_socket_peer(pid_t pid, int fd, char *out, size_t cap, int *port, bool *udp);
/* Parses one line of /proc/net/{tcp,udp}{,6}: the socket inode and the
 * remote address. False for the header or a malformed line. */
bool sb_tr_parse_net_line(const char *line, bool v6, unsigned long *inode, char *peer,
                          size_t cap, int *port);

/* Open flags as text: "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC". */
void sb_tr_open_flags(uint64_t flags, char *out, size_t cap);

/* After the call was answered: resolves the decoded paths through
 * symlinks inside the sandbox's root where decoding asked for it
 * (detail.resolved, new_resolved; object, object2 and text updated) and
 * marks programs that do not exist (detail.missing). */
struct sb_supervisor;
void sb_trace_after(struct sb_supervisor *s, pyti_sandbox_event *ev);

/* Sets ev->detail.result: what the call did, where the sandbox knows it
 * (denied, answered ENOSYS) or can tell in advance (a program that does
 * not exist, a non-local address in the empty network namespace, a
 * change in a read-only tree); else "continued". */
void sb_trace_result(const char *action, pyti_sandbox_event *ev);

struct sb_supervisor;
/* The supervisor's O_PATH fd of the sandbox's root, opened through pid the
 * first time; -1 if it could not be. */
int sb_supervisor_root(struct sb_supervisor *s, pid_t pid);
/* Decodes the notified call (req, of row r) into ev: reads the caller's
 * memory and /proc entries. Returns false when the call is only counted
 * (forks) or below interest (sleeps under a second). */
bool sb_trace_decode(struct sb_supervisor *s, pid_t pid, int nr, const uint64_t *args,
                     const sb_tr_rule *r, pyti_sandbox_event *ev);

/* ---- supervisor.c */

typedef struct sb_supervisor {
    int fd;                        /* listener, -1 when closed */
    const char *const *trace;
    bool tracer;                   /* spec.trace */
    pyti_sandbox_event_fn on_event;
    pyti_sandbox_keep_fn keep_event;
    void *user;
    double t0;                     /* monotonic start */
    size_t max_events;
    pyti_sandbox_event *events;
    size_t n_events, cap_events, dropped;
    uint64_t traced_calls, execs;
    bool sync_wakeup;
    char **writable;               /* inside prefixes where links may be planted */
    size_t n_writable;
    int root;                      /* O_PATH fd of the sandbox's root, -1 until needed */
    struct {
        bool active, nofollow;
    } pend[2];                     /* the event's object/object2 await link resolution */
    bool check_exists;             /* the event's program awaits an existence check */
    struct {
        pid_t pid;
        char comm[17];
    } comm_cache[256];             /* process names by thread id (cleared on exec) */
} sb_supervisor;

void sb_supervisor_init(sb_supervisor *s, int fd, const pyti_sandbox_spec *spec, double t0);
/* Answers every pending notification. Returns false once the listener is
 * gone (all sandbox processes exited). */
bool sb_supervisor_handle(sb_supervisor *s);
/* Answers one notification when the caller's poll saw the listener ready
 * (revents): one poll per traced call instead of two. Returns false once
 * the listener is gone. */
bool sb_supervisor_ready(sb_supervisor *s, short revents);
/* Records one event (also used by tests). */
void sb_supervisor_record(sb_supervisor *s, const pyti_sandbox_event *ev);
/* Moves the events into res and closes the listener. */
void sb_supervisor_finish(sb_supervisor *s, pyti_sandbox_result *res);

/* ---- cgroup.c */

typedef struct sb_cgroup {
    int version;          /* 2, 1, or 0 (none: rlimits) */
    char *v2_dir;         /* the run's cgroup (v2) */
    char *mem_dir, *pids_dir, *cpu_dir, *freezer_dir; /* v1 run cgroups, or NULL */
    bool memory, pids, cpu;
    uint64_t oom_kills_at_start;
} sb_cgroup;

/* What the cgroup code found on this host (for the probe and runs). */
typedef struct sb_cgroup_info {
    int version;
    char *v2_base;        /* where run cgroups are created (v2) */
    char *v1_base[4];     /* memory, pids, cpuacct, freezer bases (v1) */
    bool memory, pids, cpu, kill;
    char note[256];
} sb_cgroup_info;

/* Finds (once per process) where run cgroups can be made; creates the
 * pyti parent cgroup(s). Never fails: info->version 0 with a note means
 * rlimits only. */
const sb_cgroup_info *sb_cgroup_detect(void);
/* Removes run cgroups left by pyti processes that died, once per process.
 * sandbox_run calls it while init sets up, off the start-up's path. */
void sb_cgroup_sweep_stale(void);
/* Parses /proc/self/cgroup contents: the path of controller ctl (v1, e.g.
 * "memory") or of the v2 hierarchy (ctl NULL). New string or NULL. */
char *sb_cgroup_parse_self(const char *text, const char *ctl);
/* Parses /proc/self/mountinfo contents: mount point of the v1 hierarchy
 * with controller ctl, or of cgroup2 (ctl NULL). New string or NULL. */
char *sb_cgroup_parse_mountinfo(const char *text, const char *ctl);
/* Creates the run's cgroups and applies limits. */
pyti_status sb_cgroup_create(sb_cgroup *cg, const pyti_sandbox_limits *lim, pyti_error *err);
pyti_status sb_cgroup_attach(const sb_cgroup *cg, pid_t pid, pyti_error *err);
/* Samples: memory peak (bytes), CPU (ns user/sys), pids limit hits, OOM
 * kills. Missing values are left unchanged. */
void sb_cgroup_sample(const sb_cgroup *cg, uint64_t *peak, uint64_t *user_ns, uint64_t *sys_ns,
                      uint64_t *pids_max_hits, uint64_t *oom_kills);
/* Kills every process in the run's cgroup (cgroup.kill, or freeze + kill). */
void sb_cgroup_kill(const sb_cgroup *cg);
/* Removes the run's cgroups (waiting briefly for them to empty). */
void sb_cgroup_destroy(sb_cgroup *cg);

/* ---- limits.c */

/* What the run's cgroup counts and limits (SB_MSG_CGROUP's flags byte):
 * the rlimits for those are only backstops. */
#define SB_CG_MEMORY 1u
#define SB_CG_PIDS 2u
#define SB_CG_CPU 4u

/* Child: sets rlimits for lim; cg_flags (SB_CG_*) tells which are only
 * backstops. */
int sb_child_set_rlimits(const pyti_sandbox_limits *lim, unsigned cg_flags, sb_msg *m);
/* Parent: bytes used under path (st_blocks, plus 512 per entry), never
 * following symlinks nor crossing into other file systems. Returns false
 * if the tree could not be measured completely (too deep). */
bool sb_disk_usage(const char *path, uint64_t *bytes);

/* ---- proctree.c */

/* Parent: counts the tasks (processes and threads) of the tree under root
 * (inclusive, at most max_tasks) and sums their resident memory, through
 * /proc. For the rlimit fallback. */
void sb_proctree_sample(pid_t root, size_t max_tasks, uint64_t *tasks, uint64_t *rss_bytes);

/* ---- probe.c */

/* Text describing missing mandatory isolation for a probe, or "" */
void sb_probe_missing(const pyti_sandbox_probe *p, char *out, size_t size);

/* ---- child.c */

/* Everything the sandbox's init process needs, prepared by the parent
 * (init never allocates: the caller may have threads, and a raw clone
 * runs no fork handlers). The seccomp program arrives with SB_MSG_CGROUP,
 * made while init sets up, as do the run cgroup's flags (the cgroups are
 * looked for then too, off the start-up's path). */
typedef struct sb_child_ctx {
    const pyti_sandbox_spec *spec;
    sb_plan *plan;
    const sb_ids *ids;
    int sock;                /* SOCK_SEQPACKET to the parent */
    int stdin_fd, stdout_fd, stderr_fd;
    char *const *envp;
    const char *cwd;
    const char *hostname;
} sb_child_ctx;

/* Message tags on the parent/init socket. */
#define SB_MSG_GO 'G'      /* parent -> init: maps written */
#define SB_MSG_CGROUP 'C'  /* parent -> init: cgroup joined; + SB_CG_* byte + the BPF program */
#define SB_MSG_TMPFS 'T'   /* init -> parent: + fds of the tmpfs mounts */
#define SB_MSG_READY 'R'   /* init -> parent: + int, the listener's fd number in init */
#define SB_MSG_ACK 'A'     /* parent -> init: listener taken (pidfd_getfd) */
#define SB_MSG_ERROR 'E'   /* init -> parent: + text */
#define SB_MSG_EXIT 'X'    /* init -> parent: + int wait status [+ uint64 last PID] */
#define SB_MAX_TMPFS 16

/* The init process: never returns. */
__attribute__((noreturn)) void sb_child_main(sb_child_ctx *ctx);

/* Monotonic seconds. */
double sb_now(void);

#endif
