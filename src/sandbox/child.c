/* child.c — the sandbox's init process (PID 1 of the new PID namespace):
 * the ordered set-up inside the new namespaces, then the command.
 *
 * Order matters and is the security argument:
 *   1. wait for the parent (uid/gid maps written);
 *   2. private mounts; clone the bind sources while the caller's access
 *      still applies;
 *   3. become the inside user, keeping the namespace's capabilities;
 *   4. hostname, loopback, the new root (pivot_root, old root detached);
 *   5. rlimits; wait until the parent has put us in the run's cgroup
 *      (the message carries the compiled seccomp program), then a new
 *      cgroup namespace rooted there;
 *   6. drop every capability, lock securebits,
 *      no_new_privs, not dumpable (the command cannot ptrace or
 *      /proc/1/mem its way into init);
 *   7. load the seccomp filter and pass its listener (and fds of the
 *      tmpfs mounts, for disk accounting) to the parent;
 *   8. fork the command; reap every process; when the command ends,
 *      report its wait status and exit — the kernel then kills whatever
 *      is left in the namespace, so no daemonised grandchild survives.
 * Any failure is reported to the parent as text and the run is refused:
 * nothing runs with partial isolation. */
#include "sandbox/sandbox_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static void send_msg(int sock, char tag, const void *data, size_t len, const int *fds,
                     size_t nfds)
{
    char buf[1 + sizeof(sb_msg)];
    buf[0] = tag;
    if (len > sizeof buf - 1)
        len = sizeof buf - 1;
    memcpy(buf + 1, data, len);
    struct iovec iov = {buf, 1 + len};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    union {
        char b[CMSG_SPACE(sizeof(int) * (SB_MAX_TMPFS + 1))];
        struct cmsghdr align;
    } cm;
    if (nfds) {
        memset(&cm, 0, sizeof cm);
        mh.msg_control = cm.b;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    /* Without descriptors, write(): once the filter is loaded, sendmsg is
     * one of the tracer's calls, and init must never wait for its own
     * supervisor. */
    if (nfds == 0) {
        while (write(sock, buf, 1 + len) < 0 && errno == EINTR)
            ;
        return;
    }
    while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

__attribute__((noreturn)) static void die(sb_child_ctx *c, const sb_msg *m)
{
    send_msg(c->sock, SB_MSG_ERROR, m->text, strlen(m->text), NULL, 0);
    _exit(1);
}

/* execve with a PATH search in the command's own environment. */
static void exec_command(sb_child_ctx *c)
{
    char *const *argv = c->spec->argv;
    const char *file = argv[0];
    if (strchr(file, '/')) {
        execve(file, argv, c->envp);
        return;
    }
    const char *path = "/usr/local/bin:/usr/bin:/bin";
    for (char *const *e = c->envp; *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0)
            path = *e + 5;
    int saved = ENOENT;
    char buf[4096];
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);
        if (len == 0) {
            snprintf(buf, sizeof buf, "%s", file);
        } else {
            snprintf(buf, sizeof buf, "%.*s/%s", (int)len, path, file);
        }
        execve(buf, argv, c->envp);
        if (errno != ENOENT && errno != ENOTDIR)
            saved = errno;
        path += len;
        if (*path == ':')
            path++;
    }
    errno = saved;
}

__attribute__((noreturn)) static void run_command(sb_child_ctx *c)
{
    int in = c->stdin_fd;
    if (in < 0)
        in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in < 0 || dup2(in, 0) < 0 || dup2(c->stdout_fd, 1) < 0 || dup2(c->stderr_fd, 2) < 0)
        _exit(126);
    /* Nothing else of pyti's leaks into the command. */
    if (syscall(SYS_close_range, 3, ~0U, 0) != 0)
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (chdir(c->cwd) != 0) {
        dprintf(2, "pyti sandbox: cannot enter %s: %s\n", c->cwd, strerror(errno));
        _exit(126);
    }
    exec_command(c);
    int e = errno;
    dprintf(2, "pyti sandbox: cannot run %s: %s\n", c->spec->argv[0], strerror(e));
    _exit(e == ENOENT ? 127 : 126);
}

/* With the tracer, /proc/sys/kernel/ns_last_pid of the sandbox's PID
 * namespace, opened before the seccomp filter is loaded (init's own open
 * would otherwise be traced and reported as the package's); -1 without. */
static int last_pid_fd = -1;

/* The command's status and, with the tracer, the last PID handed out in
 * this PID namespace: init is 1, so every process and thread started
 * here is counted (forks are not notified: trace_rules.c says why). */
static void send_exit(int sock, int st)
{
    unsigned char msg[sizeof(int) + sizeof(uint64_t)];
    size_t len = sizeof(int);
    memcpy(msg, &st, sizeof st);
    if (last_pid_fd >= 0) {
        char buf[32];
        ssize_t n = pread(last_pid_fd, buf, sizeof buf - 1, 0);
        if (n > 0) {
            buf[n] = '\0';
            uint64_t last = 0;
            for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
                last = last * 10 + (uint64_t)(buf[i] - '0');
            memcpy(msg + len, &last, sizeof last);
            len += sizeof last;
        }
    }
    send_msg(sock, SB_MSG_EXIT, msg, len, NULL, 0);
}

/* Closes every descriptor init inherited from pyti (init never execs, so
 * O_CLOEXEC does not help) except stdio and the ones it needs. */
static void close_inherited(const sb_child_ctx *c)
{
    int keep[4] = {c->sock, c->stdin_fd, c->stdout_fd, c->stderr_fd};
    /* sort the four (insertion sort) */
    for (int i = 1; i < 4; i++)
        for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
            int t = keep[j];
            keep[j] = keep[j - 1];
            keep[j - 1] = t;
        }
    unsigned from = 3;
    for (int i = 0; i < 4; i++) {
        if (keep[i] < (int)from)
            continue;
        if ((unsigned)keep[i] > from)
            syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0);
        from = (unsigned)keep[i] + 1;
    }
    syscall(SYS_close_range, from, ~0U, 0);
}

void sb_child_main(sb_child_ctx *c)
{
    sb_msg m;
    memset(&m, 0, sizeof m);
    prctl(PR_SET_PDEATHSIG, SIGKILL);

    close_inherited(c);
    char tag = 0;
    if (read(c->sock, &tag, 1) != 1 || tag != SB_MSG_GO)
        _exit(1);

    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        die(c, (sb_fail(&m, errno, "making mounts private"), &m));
    if (sb_child_open_sources(c->plan, &m) != 0)
        die(c, &m);
    if (sb_child_become_user(c->ids, &m) != 0)
        die(c, &m);
    if (sethostname(c->hostname, strlen(c->hostname)) != 0)
        die(c, (sb_fail(&m, errno, "sethostname"), &m));
    if (setdomainname("(none)", 6) != 0)
        die(c, (sb_fail(&m, errno, "setdomainname"), &m));
    if (sb_child_loopback_up(&m) != 0)
        die(c, &m);

    int fds[SB_MAX_TMPFS + 1];
    size_t n_tmpfs = 0;
    if (sb_child_build_root(c->plan, "/tmp", fds + 1, SB_MAX_TMPFS, &n_tmpfs, &m) != 0)
        die(c, &m);
    /* The parent moves us into the run's cgroup while we set up (a v1
     * migration can wait for an RCU grace period); nothing of the command
     * runs before it is done. Then the cgroup namespace is rooted there. */
    static char msg[2 + BPF_MAXINSNS * sizeof(struct sock_filter)];
    ssize_t n = recv(c->sock, msg, sizeof msg, 0);
    if (n < 2 + (ssize_t)sizeof(struct sock_filter) || msg[0] != SB_MSG_CGROUP ||
        (n - 2) % sizeof(struct sock_filter) != 0)
        _exit(1);
    if (sb_child_set_rlimits(&c->spec->limits, (unsigned char)msg[1], &m) != 0)
        die(c, &m);
    static struct sock_filter insns[BPF_MAXINSNS];
    memcpy(insns, msg + 2, (size_t)n - 2);
    sb_filter filter = {{(unsigned short)((size_t)(n - 2) / sizeof(struct sock_filter)), insns}};
    if (c->spec->trace) /* the new /proc is mounted; no filter yet */
        last_pid_fd = open("/proc/sys/kernel/ns_last_pid", O_RDONLY | O_CLOEXEC);
    if (unshare(CLONE_NEWCGROUP) != 0)
        die(c, (sb_fail(&m, errno, "new cgroup namespace"), &m));
    if (sb_child_drop_privileges(&m) != 0)
        die(c, &m);
    /* The uid change cleared the parent-death signal: set it again, then
     * make sure the parent did not die in between. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    struct pollfd p = {c->sock, 0, 0};
    if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)))
        _exit(1);
    send_msg(c->sock, SB_MSG_TMPFS, "", 0, fds + 1, n_tmpfs);
    for (size_t i = 1; i < n_tmpfs + 1; i++)
        close(fds[i]);

    /* The listener is not sent with SCM_RIGHTS: sendmsg may be traced,
     * and a traced call waits for the supervisor, which would be waiting
     * for this very message. The parent takes it with pidfd_getfd
     * instead. As root it has CAP_SYS_PTRACE over init's memory, so init
     * stays non-dumpable and does not wait here: it keeps its copy of the
     * listener open (the command never inherits it: run_command closes
     * every descriptor above 2) and goes on; a call that is notified
     * meanwhile just waits for the supervisor, which does not need init
     * to get the descriptor. The acknowledgement is read before init
     * exits instead, so the parent always holds the listener (and has
     * answered what was pending) before the namespace goes away. As a
     * user, pidfd_getfd needs init dumpable: init is, for that moment only
     * (nothing of the command runs yet), and waits for the ack here. */
    bool wait_for_ack = !c->ids->root;
    prctl(PR_SET_DUMPABLE, wait_for_ack ? 1 : 0);
    fds[0] = sb_child_load_filter(&filter, &m);
    if (fds[0] < 0)
        die(c, &m);
    send_msg(c->sock, SB_MSG_READY, &fds[0], sizeof fds[0], NULL, 0);
    if (wait_for_ack) {
        if (read(c->sock, &tag, 1) != 1 || tag != SB_MSG_ACK)
            _exit(1);
        prctl(PR_SET_DUMPABLE, 0);
        close(fds[0]);
    }

    /* No controlling terminal for the command (TIOCSTI needs one too). */
    setsid();
    /* vfork: no copy of pyti's page tables; the child only sets up its
     * descriptors and execs (run_command is async-signal-safe). */
    pid_t cmd = vfork();
    if (cmd < 0) {
        sb_fail(&m, errno, "fork of the command");
        die(c, &m);
    }
    if (cmd == 0)
        run_command(c);
    close(c->stdout_fd);
    close(c->stderr_fd);
    if (c->stdin_fd >= 0)
        close(c->stdin_fd);
    for (;;) {
        int st;
        pid_t r = waitpid(-1, &st, 0);
        if (r == cmd) {
            if (!wait_for_ack && (read(c->sock, &tag, 1) != 1 || tag != SB_MSG_ACK))
                _exit(1);
            send_exit(c->sock, st);
            _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        }
        if (r < 0 && errno != EINTR)
            _exit(1);
    }
}
