/* probe.c — sandbox_probe(): what isolation this host offers (user and
 * other namespaces, pivot_root, the new mount API, seccomp with user
 * notification, cgroup version and controllers), inferred from /proc or
 * really tried in a throw-away child, and the text pyti prints about it. */
#include "sandbox/sandbox_internal.h"
#include "common/buf.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static bool file_has(const char *path, const char *word)
{
    char buf[512];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    return strstr(buf, word) != NULL;
}

static long read_long(const char *path, long dflt)
{
    char buf[64];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dflt;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return dflt;
    buf[n] = '\0';
    return strtol(buf, NULL, 10);
}

/* Exit bits of the trial child. */
enum { T_MOUNT = 1, T_PIVOT = 2, T_API = 4, T_SECCOMP = 8, T_NOTIFY = 16 };

static int trial_child(void)
{
    int bits = 0;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return bits;
    int t = open_tree(AT_FDCWD, "/usr", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (t >= 0) {
        struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
        if (mount_setattr(t, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) == 0)
            bits |= T_API;
        close(t);
    }
    if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") != 0)
        return bits;
    bits |= T_MOUNT;
    if (chdir("/tmp") == 0 && syscall(SYS_pivot_root, ".", ".") == 0 &&
        umount2(".", MNT_DETACH) == 0)
        bits |= T_PIVOT;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0) {
        struct sock_filter allow = {0x06, 0, 0, SECCOMP_RET_ALLOW};
        struct sock_fprog prog = {1, &allow};
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
            bits |= T_SECCOMP;
        int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                              SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
        if (fd >= 0)
            bits |= T_NOTIFY;
    }
    return bits;
}

void sb_probe_missing(const pyti_sandbox_probe *p, char *out, size_t size)
{
    pyti_buf b = PYTI_BUF_INIT;
    struct {
        bool ok;
        const char *name;
    } need[] = {
        {p->userns, "user namespaces"}, {p->mntns, "mount namespaces"},
        {p->pidns, "PID namespaces"},   {p->netns, "network namespaces"},
        {p->ipcns, "IPC namespaces"},   {p->utsns, "UTS namespaces"},
        {p->cgroupns, "cgroup namespaces"}, {p->pivot_root, "pivot_root into a tmpfs"},
        {p->mount_api, "the new mount API (open_tree, mount_setattr)"},
        {p->seccomp, "seccomp filters"},
        {p->seccomp_notify, "seccomp user notification"},
    };
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        if (need[i].ok)
            continue;
        if (b.len)
            buf_puts(&b, ", ");
        buf_puts(&b, need[i].name);
    }
    snprintf(out, size, "%s", buf_cstr(&b));
    buf_free(&b);
}

static void fill_cgroups(pyti_sandbox_probe *out)
{
    const sb_cgroup_info *ci = sb_cgroup_detect();
    out->cgroup_version = ci->version;
    out->cg_memory = ci->memory;
    out->cg_pids = ci->pids;
    out->cg_cpu = ci->cpu;
    out->cg_kill = ci->kill;
    snprintf(out->cgroup_note, sizeof out->cgroup_note, "%s", ci->note);
}

void sandbox_probe_cgroups(pyti_sandbox_probe *out)
{
    memset(out, 0, sizeof *out);
    out->root = geteuid() == 0;
    fill_cgroups(out);
}

pyti_status sandbox_probe(pyti_sandbox_probe *out, bool try_it, pyti_error *err)
{
    memset(out, 0, sizeof *out);
    out->root = geteuid() == 0;
    static const char *const ns[] = {"user", "mnt", "pid", "net", "ipc", "uts", "cgroup"};
    bool *flags[] = {&out->userns, &out->mntns, &out->pidns, &out->netns,
                     &out->ipcns, &out->utsns, &out->cgroupns};
    for (size_t i = 0; i < 7; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/ns/%s", ns[i]);
        *flags[i] = access(path, F_OK) == 0;
    }
    if (read_long("/proc/sys/user/max_user_namespaces", 1) == 0 ||
        read_long("/proc/sys/kernel/unprivileged_userns_clone", 1) == 0)
        out->userns = false;
    out->seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
    out->seccomp_notify = file_has("/proc/sys/kernel/seccomp/actions_avail", "user_notif");
    out->mount_api = true;
    out->pivot_root = true; /* assumed until tried */

    if (try_it) {
        out->tried = true;
        int pidfd = -1;
        long pid = syscall(SYS_clone,
                           CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
                               CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP | SIGCHLD,
                           NULL, &pidfd, NULL, 0);
        if (pid == 0)
            _exit(trial_child());
        int st = 0;
        if (pid < 0) {
            out->userns = out->mntns = out->pidns = out->netns = false;
            out->ipcns = out->utsns = out->cgroupns = false;
            out->pivot_root = out->mount_api = false;
        } else if (waitpid((pid_t)pid, &st, 0) == pid && WIFEXITED(st)) {
            int bits = WEXITSTATUS(st);
            out->pivot_root = (bits & T_PIVOT) != 0;
            out->mount_api = (bits & T_API) != 0;
            out->seccomp = (bits & T_SECCOMP) != 0;
            out->seccomp_notify = (bits & T_NOTIFY) != 0;
        } else {
            out->pivot_root = out->mount_api = false;
        }
    }

    fill_cgroups(out);

    sb_probe_missing(out, out->missing, sizeof out->missing);
    if (out->missing[0])
        return pyti_error_set(err, PYTI_ERR_INTERNAL,
                              "sandbox: this host cannot give full isolation; missing: %s",
                              out->missing);
    return PYTI_OK;
}

char *sandbox_probe_describe(const pyti_sandbox_probe *p)
{
    pyti_buf b = PYTI_BUF_INIT;
#define YN(x) ((x) ? "yes" : "NO")
    buf_printf(&b, "sandbox probe (%s, pyti runs as %s):\n",
               p->tried ? "tried" : "inferred from /proc", p->root ? "root" : "a user");
    buf_printf(&b, "  namespaces: user %s, mount %s, pid %s, net %s, ipc %s, uts %s, cgroup %s\n",
               YN(p->userns), YN(p->mntns), YN(p->pidns), YN(p->netns), YN(p->ipcns),
               YN(p->utsns), YN(p->cgroupns));
    buf_printf(&b, "  pivot_root: %s, mount API: %s\n", YN(p->pivot_root), YN(p->mount_api));
    buf_printf(&b, "  seccomp: %s, user notification: %s\n", YN(p->seccomp),
               YN(p->seccomp_notify));
    if (p->cgroup_version)
        buf_printf(&b, "  cgroups: v%d (memory %s, pids %s, cpu %s, kill %s)\n",
                   p->cgroup_version, YN(p->cg_memory), YN(p->cg_pids), YN(p->cg_cpu),
                   YN(p->cg_kill));
    else
        buf_printf(&b, "  cgroups: none usable (%s): rlimits only\n", p->cgroup_note);
    if (p->missing[0])
        buf_printf(&b, "  MISSING (package code will not run): %s\n", p->missing);
    else
        buf_printf(&b, "  full isolation available\n");
#undef YN
    return buf_detach(&b);
}
