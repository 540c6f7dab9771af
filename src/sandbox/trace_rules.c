/* trace_rules.c — the behaviour tracer's table: which system calls the
 * seccomp filter sends to the supervisor when spec.trace is set, under
 * which condition on a register argument, and how each is decoded.
 *
 * The choice is the point of the design: only calls that change the file
 * system, open files, start programs, talk to the network or sleep are
 * notified; read, write, stat, mmap and the rest never leave the kernel.
 * Neither are fork, vfork and clone: a notified call that a signal
 * interrupts before the supervisor has taken it fails with EINTR when the
 * caller's handler lacks SA_RESTART, and a shell's fork() then fails
 * ("Cannot fork", seen with dash under load). Processes and threads are
 * counted afterwards from the PID namespace instead (child.c). */
#include "sandbox/sandbox_internal.h"

#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

static const sb_tr_rule rules[] = {
    {"open", SB_TR_OPEN, "file.open", -1, 0, 0},
    {"openat", SB_TR_OPENAT, "file.open", -1, 0, 0},
    {"openat2", SB_TR_OPENAT2, "file.open", -1, 0, 0},
    {"creat", SB_TR_CREAT, "file.write", -1, 0, 0},
    {"truncate", SB_TR_PATH, "file.write", -1, 0, 0},
    {"unlink", SB_TR_PATH, "file.unlink", -1, 0, 0},
    {"rmdir", SB_TR_PATH, "file.unlink", -1, 0, 0},
    {"unlinkat", SB_TR_PATHAT, "file.unlink", -1, 0, 0},
    {"rename", SB_TR_PATH2, "file.rename", -1, 0, 0},
    {"renameat", SB_TR_PATH2AT, "file.rename", -1, 0, 0},
    {"renameat2", SB_TR_PATH2AT, "file.rename", -1, 0, 0},
    {"mkdir", SB_TR_PATH, "file.mkdir", -1, 0, 0},
    {"mkdirat", SB_TR_PATHAT, "file.mkdir", -1, 0, 0},
    {"mknod", SB_TR_PATH, "file.write", -1, 0, 0},
    {"mknodat", SB_TR_PATHAT, "file.write", -1, 0, 0},
    {"chmod", SB_TR_PATH, "file.chmod", -1, 0, 0},
    {"fchmod", SB_TR_FD, "file.chmod", -1, 0, 0},
    {"fchmodat", SB_TR_PATHAT, "file.chmod", -1, 0, 0},
    {"fchmodat2", SB_TR_PATHAT, "file.chmod", -1, 0, 0},
    {"chown", SB_TR_PATH, "file.chown", -1, 0, 0},
    {"lchown", SB_TR_PATH, "file.chown", -1, 0, 0},
    {"fchown", SB_TR_FD, "file.chown", -1, 0, 0},
    {"fchownat", SB_TR_PATHAT, "file.chown", -1, 0, 0},
    {"link", SB_TR_PATH2, "file.link", -1, 0, 0},
    {"linkat", SB_TR_PATH2AT, "file.link", -1, 0, 0},
    {"symlink", SB_TR_SYMLINK, "file.symlink", -1, 0, 0},
    {"symlinkat", SB_TR_SYMLINKAT, "file.symlink", -1, 0, 0},
    {"execve", SB_TR_EXECVE, "exec", -1, 0, 0},
    {"execveat", SB_TR_EXECVEAT, "exec", -1, 0, 0},
    {"connect", SB_TR_CONNECT, "net.connect", -1, 0, 0},
    {"bind", SB_TR_BIND, "net.bind", -1, 0, 0},
    {"sendto", SB_TR_SENDTO, "net.send", -1, 0, 0},
    {"sendmsg", SB_TR_SENDMSG, "net.send", -1, 0, 0},
    {"sendmmsg", SB_TR_SENDMMSG, "net.send", -1, 0, 0},
    {"nanosleep", SB_TR_NANOSLEEP, "sleep", -1, 0, 0},
    {"clock_nanosleep", SB_TR_CLOCK_NANOSLEEP, "sleep", -1, 0, 0},
    {NULL, 0, NULL, 0, 0, 0},
};

const sb_tr_rule *sb_trace_rules(void) { return rules; }

/* Syscall number -> first row, resolved once (the table is small, the
 * lookup runs for every notification). */
#define NR_MAX 1024
static const sb_tr_rule *by_nr[NR_MAX];
static bool resolved;

static void resolve(void)
{
    for (const sb_tr_rule *r = rules; r->name; r++) {
        int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, r->name);
        if (nr >= 0 && nr < NR_MAX && !by_nr[nr])
            by_nr[nr] = r;
    }
    resolved = true;
}

const sb_tr_rule *sb_trace_match(int nr, const uint64_t *args)
{
    if (!resolved)
        resolve();
    if (nr < 0 || nr >= NR_MAX || !by_nr[nr])
        return NULL;
    const sb_tr_rule *r = by_nr[nr];
    if (r->arg >= 0 && (args[r->arg] & r->mask) != r->value)
        return NULL;
    return r;
}
