/* seccomp_filter.c — the system-call policy: the rule table (what a Python
 * package never needs, each with its reason), its compilation with
 * libseccomp into a BPF program, loading it in the child with a listener,
 * and the classification of notifications for the supervisor.
 *
 * Every denied call is SECCOMP_RET_USER_NOTIF, so the supervisor in the
 * parent reports it (pid, comm, name, arguments) and answers EPERM. All
 * calls of the x86 (int 0x80) and x32 ABIs reach the notifier too, through
 * libseccomp's bad-architecture action (x32 numbers carry bit 30 and are
 * filtered as a foreign architecture), and are always denied. clone3 is
 * answered ENOSYS (its flags live in memory, out of the filter's reach),
 * so libc falls back to clone, whose flags the filter checks; it is
 * reported only when it asked for a namespace. Everything else is allowed
 * in the kernel without a round trip: the fast path stays fast.
 *
 * The behaviour tracer (trace_rules.c, spec.trace) and spec.trace_syscalls
 * add calls that are notified, reported and continued
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE); a denied call stays denied. */
#include "sandbox/sandbox_internal.h"
#include "common/xalloc.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define NS_FLAGS                                                                                 \
    (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |              \
     CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME)
#define TIOCSTI_NR 0x5412
#define TIOCLINUX_NR 0x541C

static const sb_sc_rule rules[] = {
    /* the mount family: the file system view is pyti's to decide */
    {"mount", SB_SC_DENY, -1, 0, 0, "changes the file system view"},
    {"umount2", SB_SC_DENY, -1, 0, 0, "could uncover what a mount hides"},
    {"pivot_root", SB_SC_DENY, -1, 0, 0, "changes the root"},
    {"move_mount", SB_SC_DENY, -1, 0, 0, "new mount API"},
    {"open_tree", SB_SC_DENY, -1, 0, 0, "new mount API (clones mounts)"},
    {"fsopen", SB_SC_DENY, -1, 0, 0, "new mount API"},
    {"fsconfig", SB_SC_DENY, -1, 0, 0, "new mount API"},
    {"fsmount", SB_SC_DENY, -1, 0, 0, "new mount API"},
    {"fspick", SB_SC_DENY, -1, 0, 0, "new mount API"},
    {"mount_setattr", SB_SC_DENY, -1, 0, 0, "could make read-only mounts writable"},
    {"chroot", SB_SC_DENY, -1, 0, 0, "classic chroot break-outs"},
    /* namespaces: the sandbox's are the only ones */
    {"unshare", SB_SC_DENY, 0, NS_FLAGS, SB_ANY_BIT, "new namespaces reopen kernel attack surface"},
    {"clone", SB_SC_DENY, 0, NS_FLAGS, SB_ANY_BIT, "clone with namespace flags"},
    {"clone3", SB_SC_ENOSYS, -1, 0, 0, "flags are in memory: ENOSYS makes libc use clone"},
    {"setns", SB_SC_DENY, -1, 0, 0, "joining other namespaces"},
    /* debugging other processes: pyti is the only tracer */
    {"ptrace", SB_SC_DENY, -1, 0, 0, "pyti is the only tracer"},
    {"process_vm_readv", SB_SC_DENY, -1, 0, 0, "reads another process's memory"},
    {"process_vm_writev", SB_SC_DENY, -1, 0, 0, "writes another process's memory"},
    {"process_madvise", SB_SC_DENY, -1, 0, 0, "acts on another process's memory"},
    {"pidfd_getfd", SB_SC_DENY, -1, 0, 0, "steals another process's file descriptors"},
    {"kcmp", SB_SC_DENY, -1, 0, 0, "inspects other processes' kernel state"},
    /* kernel attack surface a package never needs */
    {"bpf", SB_SC_DENY, -1, 0, 0, "eBPF programs: a large kernel attack surface"},
    {"perf_event_open", SB_SC_DENY, -1, 0, 0, "side channels and kernel attack surface"},
    {"userfaultfd", SB_SC_DENY, -1, 0, 0, "widens kernel race windows (exploit primitive)"},
    {"io_uring_setup", SB_SC_DENY, -1, 0, 0, "io_uring: bypasses seccomp, frequent CVEs"},
    {"io_uring_enter", SB_SC_DENY, -1, 0, 0, "io_uring"},
    {"io_uring_register", SB_SC_DENY, -1, 0, 0, "io_uring"},
    {"keyctl", SB_SC_DENY, -1, 0, 0, "kernel keyrings are not namespaced"},
    {"add_key", SB_SC_DENY, -1, 0, 0, "kernel keyrings"},
    {"request_key", SB_SC_DENY, -1, 0, 0, "kernel keyrings"},
    {"open_by_handle_at", SB_SC_DENY, -1, 0, 0, "opens files outside the mounts (shocker)"},
    {"name_to_handle_at", SB_SC_DENY, -1, 0, 0, "file handles, companion of the above"},
    {"ioctl", SB_SC_DENY, 1, 0xffffffffu, TIOCSTI_NR, "TIOCSTI types into the host terminal"},
    {"ioctl", SB_SC_DENY, 1, 0xffffffffu, TIOCLINUX_NR, "TIOCLINUX can inject console input"},
    {"personality", SB_SC_DENY, -1, 0, 0,
     "only the safe personas are let through by the supervisor"},
    {"modify_ldt", SB_SC_DENY, -1, 0, 0, "16-bit segments: old exploit primitive"},
    {"uselib", SB_SC_DENY, -1, 0, 0, "obsolete loader"},
    {"fanotify_init", SB_SC_DENY, -1, 0, 0, "watches file systems globally"},
    /* the machine itself */
    {"kexec_load", SB_SC_DENY, -1, 0, 0, "loads a new kernel"},
    {"kexec_file_load", SB_SC_DENY, -1, 0, 0, "loads a new kernel"},
    {"init_module", SB_SC_DENY, -1, 0, 0, "loads kernel code"},
    {"finit_module", SB_SC_DENY, -1, 0, 0, "loads kernel code"},
    {"delete_module", SB_SC_DENY, -1, 0, 0, "unloads kernel code"},
    {"reboot", SB_SC_DENY, -1, 0, 0, "reboots the machine"},
    {"swapon", SB_SC_DENY, -1, 0, 0, "changes swap"},
    {"swapoff", SB_SC_DENY, -1, 0, 0, "changes swap"},
    {"acct", SB_SC_DENY, -1, 0, 0, "process accounting is global"},
    {"settimeofday", SB_SC_DENY, -1, 0, 0, "the clock is not namespaced"},
    {"clock_settime", SB_SC_DENY, -1, 0, 0, "the clock is not namespaced"},
    {"clock_adjtime", SB_SC_DENY, -1, 0, 0, "the clock is not namespaced"},
    {"adjtimex", SB_SC_DENY, -1, 0, 0, "the clock is not namespaced"},
    {"quotactl", SB_SC_DENY, -1, 0, 0, "disk quotas"},
    {"quotactl_fd", SB_SC_DENY, -1, 0, 0, "disk quotas"},
    {"lookup_dcookie", SB_SC_DENY, -1, 0, 0, "profiling interface"},
    {"vhangup", SB_SC_DENY, -1, 0, 0, "hangs up the terminal"},
    {"sysfs", SB_SC_DENY, -1, 0, 0, "obsolete file system type query"},
    {"_sysctl", SB_SC_DENY, -1, 0, 0, "obsolete sysctl"},
    {"nfsservctl", SB_SC_DENY, -1, 0, 0, "NFS server control"},
    {"syslog", SB_SC_DENY, -1, 0, 0, "kernel log (addresses, host activity)"},
    {"iopl", SB_SC_DENY, -1, 0, 0, "I/O port access"},
    {"ioperm", SB_SC_DENY, -1, 0, 0, "I/O port access"},
    {"create_module", SB_SC_DENY, -1, 0, 0, "obsolete module call"},
    {"get_kernel_syms", SB_SC_DENY, -1, 0, 0, "obsolete module call"},
    {"query_module", SB_SC_DENY, -1, 0, 0, "obsolete module call"},
    {NULL, 0, 0, 0, 0, NULL},
};

const sb_sc_rule *sb_seccomp_rules(void) { return rules; }

/* Personas a program may set (as Docker allows): Linux, UNAME26,
 * PER_LINUX32 and their combination, and the query 0xffffffff. */
static bool personality_safe(uint64_t v)
{
    uint32_t p = (uint32_t)v;
    return p == 0 || p == 0x8 || p == 0x20000 || p == 0x20008 || p == 0xffffffffu;
}

static bool in_list(const char *const *list, const char *name)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

pyti_status sb_filter_build(const char *const *trace, bool tracer, sb_filter *f,
                            pyti_error *err)
{
    memset(f, 0, sizeof *f);
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return pyti_error_set(err, PYTI_ERR_INTERNAL, "sandbox: seccomp_init failed");
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_NOTIFY);
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (rc != 0) {
        seccomp_release(ctx);
        return pyti_error_set(err, PYTI_ERR_INTERNAL, "sandbox: seccomp attributes: %s",
                              strerror(-rc));
    }
    for (const sb_sc_rule *r = rules; r->name; r++) {
        int nr = seccomp_syscall_resolve_name(r->name);
        if (nr == __NR_SCMP_ERROR || nr < 0)
            continue; /* not a syscall on this architecture */
        if (r->arg < 0) {
            rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
        } else if (r->value == SB_ANY_BIT) {
            for (int bit = 0; bit < 64 && rc == 0; bit++) {
                uint64_t b = (uint64_t)1 << bit;
                if (r->mask & b)
                    rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 1,
                                          SCMP_CMP((unsigned)r->arg, SCMP_CMP_MASKED_EQ, b, b));
            }
        } else {
            rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 1,
                                  SCMP_CMP((unsigned)r->arg, SCMP_CMP_MASKED_EQ, r->mask,
                                           r->value));
        }
        if (rc != 0) {
            seccomp_release(ctx);
            return pyti_error_set(err, PYTI_ERR_INTERNAL, "sandbox: seccomp rule for %s: %s",
                                  r->name, strerror(-rc));
        }
    }
    for (size_t i = 0; trace && trace[i]; i++) {
        int nr = seccomp_syscall_resolve_name(trace[i]);
        if (nr == __NR_SCMP_ERROR || nr < 0) {
            seccomp_release(ctx);
            return pyti_error_set(err, PYTI_ERR_USAGE, "sandbox: unknown syscall '%s' to trace",
                                  trace[i]);
        }
        bool denied = false;
        for (const sb_sc_rule *r = rules; r->name; r++)
            if (strcmp(r->name, trace[i]) == 0)
                denied = true;
        if (denied)
            continue; /* a denied call stays denied (and is reported anyway) */
        rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
        if (rc != 0) {
            seccomp_release(ctx);
            return pyti_error_set(err, PYTI_ERR_INTERNAL, "sandbox: seccomp trace rule %s: %s",
                                  trace[i], strerror(-rc));
        }
    }
    for (const sb_tr_rule *r = tracer ? sb_trace_rules() : NULL; r && r->name; r++) {
        int nr = seccomp_syscall_resolve_name(r->name);
        if (nr == __NR_SCMP_ERROR || nr < 0)
            continue; /* not known to this libseccomp or architecture */
        if (r->arg < 0)
            rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
        else
            rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 1,
                                  SCMP_CMP((unsigned)r->arg, SCMP_CMP_MASKED_EQ, r->mask,
                                           r->value));
        if (rc != 0) {
            seccomp_release(ctx);
            return pyti_error_set(err, PYTI_ERR_INTERNAL, "sandbox: seccomp tracer rule %s: %s",
                                  r->name, strerror(-rc));
        }
    }
    /* libseccomp 2.5 exports to a file descriptor only. */
    int mfd = memfd_create("pyti-seccomp", MFD_CLOEXEC);
    if (mfd < 0) {
        seccomp_release(ctx);
        return pyti_error_errno(err, PYTI_ERR_INTERNAL, errno, "sandbox: memfd_create");
    }
    rc = seccomp_export_bpf(ctx, mfd);
    seccomp_release(ctx);
    off_t len = lseek(mfd, 0, SEEK_END);
    if (rc != 0 || len <= 0 || len % (off_t)sizeof(struct sock_filter) != 0) {
        close(mfd);
        return pyti_error_set(err, PYTI_ERR_INTERNAL, "sandbox: exporting the seccomp filter");
    }
    struct sock_filter *insns = xmalloc((size_t)len);
    if (pread(mfd, insns, (size_t)len, 0) != len) {
        free(insns);
        close(mfd);
        return pyti_error_errno(err, PYTI_ERR_INTERNAL, errno, "sandbox: reading the filter");
    }
    close(mfd);
    f->prog.filter = insns;
    f->prog.len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
    return PYTI_OK;
}

void sb_filter_free(sb_filter *f)
{
    free(f->prog.filter);
    memset(f, 0, sizeof *f);
}

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

int sb_child_load_filter(const sb_filter *f, sb_msg *m)
{
    /* Once the supervisor has taken a notification, the caller waits for
     * the answer killably only. Otherwise any signal with a handler that
     * lacks SA_RESTART (a SIGCHLD handler, say) ends the wait and the
     * call fails with EINTR: a traced fork() or open() that never fails
     * that way outside the sandbox (dash: "Cannot fork"). Linux 5.19; an
     * older kernel gets the filter without it. */
    int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                          SECCOMP_FILTER_FLAG_NEW_LISTENER |
                              SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
                          &f->prog);
    if (fd < 0 && errno == EINVAL)
        fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                          SECCOMP_FILTER_FLAG_NEW_LISTENER, &f->prog);
    if (fd < 0)
        return sb_fail(m, errno, "loading the seccomp filter");
    return fd;
}

sb_sc_action sb_seccomp_classify(uint32_t arch, int nr, const uint64_t *args,
                                 const char *const *trace, bool tracer, char *name,
                                 size_t name_size, const char **arch_name)
{
    if (arch != AUDIT_ARCH_X86_64 || (nr & 0x40000000)) {
        bool x32 = arch == AUDIT_ARCH_X86_64;
        *arch_name = x32 ? "x32" : (arch == AUDIT_ARCH_I386 ? "x86" : "other");
        char *s = seccomp_syscall_resolve_num_arch(x32 ? SCMP_ARCH_X32 : SCMP_ARCH_X86, nr);
        if (s)
            snprintf(name, name_size, "%s:%s", *arch_name, s);
        else
            snprintf(name, name_size, "%s:%d", *arch_name, nr);
        free(s);
        return SB_SC_DENY;
    }
    *arch_name = "x86_64";
    char *s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
    if (s)
        snprintf(name, name_size, "%s", s);
    else
        snprintf(name, name_size, "%d", nr);
    free(s);
    const sb_sc_rule *hit = NULL;
    for (const sb_sc_rule *r = rules; r->name; r++) {
        if (strcmp(r->name, name) != 0)
            continue;
        if (r->arg < 0) {
            hit = r;
            break;
        }
        uint64_t a = args[r->arg];
        if (r->value == SB_ANY_BIT ? (a & r->mask) != 0 : (a & r->mask) == r->value) {
            hit = r;
            break;
        }
    }
    if (hit) {
        if (strcmp(hit->name, "personality") == 0 && personality_safe(args[0]))
            return SB_SC_ALLOW;
        return hit->action;
    }
    if (in_list(trace, name) || (tracer && sb_trace_match(nr, args)))
        return SB_SC_TRACE;
    /* A notification the table does not explain (a rule row whose
     * condition did not match here): deny rather than guess. */
    return SB_SC_DENY;
}
