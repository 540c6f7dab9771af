/* trace_mem.c — the tracer's view into a traced process: its memory
 * (process_vm_readv, page by page), its strings, its directories and file
 * descriptors (/proc/<pid>/cwd, fd/N) and path resolution inside its own
 * root (openat2 RESOLVE_IN_ROOT on /proc/<pid>/root).
 *
 * Everything read here belongs to a process that may be hostile and may
 * change it at any moment (another thread, a shared mapping): every read
 * is bounded, nothing read is trusted for a size, and what is read is
 * evidence of what the call asked for, not proof of what the kernel did
 * (docs/tracing.md, "TOCTOU"). */
#include "sandbox/sandbox_internal.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGE 4096u

size_t sb_tr_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
    size_t done = 0;
    if (addr == 0)
        return 0;
    /* One page at a time: process_vm_readv stops at the first fault, and
     * a string may end just before an unmapped page. */
    while (done < len) {
        uint64_t a = addr + done;
        size_t chunk = PAGE - (size_t)(a % PAGE);
        if (chunk > len - done)
            chunk = len - done;
        struct iovec l = {(char *)buf + done, chunk};
        struct iovec r = {(void *)(uintptr_t)a, chunk};
        ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);
        if (n <= 0)
            break;
        done += (size_t)n;
        if ((size_t)n < chunk)
            break;
    }
    return done;
}

ssize_t sb_tr_read_str(pid_t pid, uint64_t addr, char *buf, size_t cap, bool *cut)
{
    if (cut)
        *cut = false;
    buf[0] = '\0';
    if (addr == 0 || cap < 2)
        return -1;
    size_t done = 0;
    while (done < cap - 1) {
        uint64_t a = addr + done;
        size_t chunk = PAGE - (size_t)(a % PAGE);
        if (chunk > cap - 1 - done)
            chunk = cap - 1 - done;
        size_t n = sb_tr_read(pid, a, buf + done, chunk);
        if (n == 0)
            break;
        void *nul = memchr(buf + done, '\0', n);
        if (nul)
            return (ssize_t)((char *)nul - buf);
        done += n;
        if (n < chunk)
            break;
    }
    if (done == 0)
        return -1;
    buf[done] = '\0';
    if (cut && done == cap - 1)
        *cut = true;
    return (ssize_t)done;
}

char *sb_path_join_normal(const char *base, const char *rel)
{
    size_t bl = rel[0] == '/' || !base ? 0 : strlen(base);
    size_t rl = strlen(rel);
    char *tmp = xmalloc(bl + rl + 3);
    size_t n = 0;
    if (bl) {
        memcpy(tmp, base, bl);
        n = bl;
        tmp[n++] = '/';
    }
    memcpy(tmp + n, rel, rl);
    n += rl;
    tmp[n] = '\0';
    /* Split on '/' and rebuild with a stack of component starts. */
    char *out = xmalloc(n + 2);
    size_t o = 0;
    size_t *starts = xmalloc((n / 2 + 2) * sizeof *starts);
    size_t depth = 0;
    char *p = tmp;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        char *e = p;
        while (*e && *e != '/')
            e++;
        size_t len = (size_t)(e - p);
        if (len == 1 && p[0] == '.') {
            /* nothing */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            if (depth)
                o = starts[--depth];
        } else {
            starts[depth++] = o;
            out[o++] = '/';
            memcpy(out + o, p, len);
            o += len;
        }
        p = e;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    free(starts);
    free(tmp);
    return out;
}

static bool proc_link(pid_t pid, const char *what, char *out, size_t cap)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, what);
    ssize_t n = readlink(p, out, cap - 1);
    if (n <= 0)
        return false;
    out[n] = '\0';
    return true;
}

bool sb_tr_fd_link(pid_t pid, int fd, char *out, size_t cap)
{
    char what[32];
    snprintf(what, sizeof what, "fd/%d", fd);
    return fd >= 0 && proc_link(pid, what, out, cap);
}

char *sb_tr_dir_of(pid_t pid, int dirfd)
{
    char buf[4096];
    bool ok = dirfd == AT_FDCWD ? proc_link(pid, "cwd", buf, sizeof buf)
                                : sb_tr_fd_link(pid, dirfd, buf, sizeof buf);
    /* "socket:[..]", "pipe:[..]", "anon_inode:..." are not directories;
     * a deleted directory reads "/x (deleted)" and is kept as is. */
    if (!ok || buf[0] != '/')
        return NULL;
    return xstrdup(buf);
}

char *sb_tr_abs_path(pid_t pid, int dirfd, const char *path)
{
    if (path[0] == '/')
        return sb_path_join_normal(NULL, path);
    char *dir = sb_tr_dir_of(pid, dirfd);
    char *r;
    if (dir)
        r = sb_path_join_normal(dir, path);
    else
        r = xasprintf("<fd %d>/%s", dirfd, path);
    free(dir);
    return r;
}

/* openat2 inside pid's root; -1 on failure. */
static int open_in_root(int root, const char *abs, bool nofollow)
{
    struct open_how how = {
        .flags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    return (int)syscall(SYS_openat2, root, abs[0] == '/' ? abs + 1 : abs, &how, sizeof how);
}

static char *self_fd_path(int fd)
{
    char p[64], buf[4096];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(p, buf, sizeof buf - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    return xstrdup(buf);
}

char *sb_tr_resolve_at(int root, const char *abs, bool nofollow)
{
    if (abs[0] != '/' || root < 0)
        return NULL;
    char *out = NULL;
    int fd = open_in_root(root, abs, nofollow);
    if (fd >= 0) {
        /* The link of an fd opened through the sandbox's mounts reads as
         * the path inside (the mounts are not reachable from pyti's root). */
        out = self_fd_path(fd);
        close(fd);
    } else if (errno == ENOENT) {
        const char *slash = strrchr(abs, '/');
        if (slash && slash != abs) {
            char *parent = xstrndup(abs, (size_t)(slash - abs));
            fd = open_in_root(root, parent, false);
            if (fd >= 0) {
                char *d = self_fd_path(fd);
                close(fd);
                if (d)
                    out = sb_path_join_normal(d, slash + 1);
                free(d);
            }
            free(parent);
        }
    }
    return out;
}

int sb_tr_open_root(pid_t pid)
{
    char rp[64];
    snprintf(rp, sizeof rp, "/proc/%d/root", (int)pid);
    return open(rp, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

bool sb_tr_exists_at(int root, const char *abs)
{
    if (abs[0] != '/' || root < 0)
        return true; /* cannot tell: say nothing */
    int fd = open_in_root(root, abs, false);
    if (fd >= 0) {
        close(fd);
        return true;
    }
    return errno != ENOENT;
}

char *sb_tr_resolve(pid_t pid, const char *abs, bool nofollow)
{
    int root = sb_tr_open_root(pid);
    char *out = sb_tr_resolve_at(root, abs, nofollow);
    if (root >= 0)
        close(root);
    return out;
}

void sb_tr_open_flags(uint64_t flags, char *out, size_t cap)
{
    static const struct {
        uint64_t bit;
        const char *name;
    } bits[] = {
        {O_CREAT, "O_CREAT"},       {O_EXCL, "O_EXCL"},         {O_NOCTTY, "O_NOCTTY"},
        {O_TRUNC, "O_TRUNC"},       {O_APPEND, "O_APPEND"},     {O_NONBLOCK, "O_NONBLOCK"},
        {O_DSYNC, "O_DSYNC"},       {O_DIRECT, "O_DIRECT"},     {O_LARGEFILE, "O_LARGEFILE"},
        {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"}, {O_NOATIME, "O_NOATIME"},
        {O_CLOEXEC, "O_CLOEXEC"},   {O_PATH, "O_PATH"},
    };
    uint64_t acc = flags & O_ACCMODE;
    size_t n = (size_t)snprintf(out, cap, "%s",
                                acc == O_RDONLY ? "O_RDONLY"
                                : acc == O_WRONLY ? "O_WRONLY"
                                : acc == O_RDWR   ? "O_RDWR"
                                                  : "O_ACCMODE");
    uint64_t rest = flags & ~(uint64_t)O_ACCMODE;
    if ((rest & __O_TMPFILE) == __O_TMPFILE) {
        if (n < cap)
            n += (size_t)snprintf(out + n, cap - n, "|O_TMPFILE");
        rest &= ~(uint64_t)__O_TMPFILE;
    }
    for (size_t i = 0; i < sizeof bits / sizeof *bits; i++) {
        if ((rest & bits[i].bit) && n < cap) {
            n += (size_t)snprintf(out + n, cap - n, "|%s", bits[i].name);
            rest &= ~bits[i].bit;
        }
    }
    if (rest && n < cap)
        snprintf(out + n, cap - n, "|0x%llx", (unsigned long long)rest);
}
