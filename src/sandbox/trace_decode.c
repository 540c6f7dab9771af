/* trace_decode.c — turns one notified system call of the behaviour
 * tracer into an event: which object it acts on (a path resolved the way
 * the kernel will resolve it, an address, a DNS name, a program and its
 * argv), a one-line text for people, and every decoded argument as JSON.
 *
 * Runs in the supervisor while the caller is blocked in the kernel, so it
 * stays short: a few process_vm_readv and readlink calls per event. The
 * symlink resolution of paths in trees the sandbox can write (a link can
 * only be planted there) and the existence of programs are looked up
 * after the answer (sb_trace_after), while the caller goes on. What it reads can be changed by the
 * caller's other threads before the kernel re-reads it after CONTINUE:
 * see docs/tracing.md, "TOCTOU". */
#include "sandbox/sandbox_internal.h"
#include "common/jsonutil.h"
#include "common/str.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <time.h>

#define PATH_CAP 4096
#define PAYLOAD_CAP 4096
#define ARGV_MAX 256
#define ARGV_BYTES (32u << 10)
#define ENV_MAX 4096
#define ENV_READ 512
#define SOCKADDR_CAP 128

static void set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = s ? xstrdup(s) : NULL;
}

static bool in_writable(const sb_supervisor *s, const char *abs)
{
    for (size_t i = 0; i < s->n_writable; i++) {
        size_t n = strlen(s->writable[i]);
        if (strncmp(abs, s->writable[i], n) == 0 && (abs[n] == '/' || abs[n] == '\0'))
            return true;
    }
    return false;
}

/* Reads the path at addr for (dirfd), makes it absolute, resolves links
 * where they could have been planted. Sets detail members prefix+"path"
 * (and prefix+"given" when the text differs, prefix+"resolved"). Returns
 * the object path (new string). */
static char *decode_path(sb_supervisor *s, pid_t pid, int dirfd, uint64_t addr, bool nofollow,
                         json_t *d, const char *prefix)
{
    char raw[PATH_CAP];
    bool cut;
    char key[32];
    if (sb_tr_read_str(pid, addr, raw, sizeof raw, &cut) < 0) {
        snprintf(key, sizeof key, "%spath", prefix);
        json_object_set_new(d, key, json_string("<unreadable>"));
        return xstrdup("<unreadable>");
    }
    char *abs = sb_tr_abs_path(pid, dirfd, raw);
    snprintf(key, sizeof key, "%spath", prefix);
    json_set_text(d, key, abs);
    if (strcmp(abs, raw) != 0) {
        snprintf(key, sizeof key, "%sgiven", prefix);
        json_set_text(d, key, raw);
    }
    if (cut) {
        snprintf(key, sizeof key, "%struncated", prefix);
        json_object_set_new(d, key, json_true());
    }
    /* Links are followed after the answer (sb_trace_after): the caller
     * need not wait for it, and a link can only be planted where the
     * sandbox can write. */
    if (abs[0] == '/' && in_writable(s, abs)) {
        int i = prefix[0] ? 1 : 0;
        s->pend[i].active = true;
        s->pend[i].nofollow = nofollow;
        (void)sb_supervisor_root(s, pid);
    }
    return abs;
}

static char *replace_first(const char *text, const char *old, const char *new)
{
    const char *at = text ? strstr(text, old) : NULL;
    if (!at)
        return text ? xstrdup(text) : NULL;
    return xasprintf("%.*s%s%s", (int)(at - text), text, new, at + strlen(old));
}

void sb_trace_after(sb_supervisor *s, pyti_sandbox_event *ev)
{
    static const char *const keys[2] = {"resolved", "new_resolved"};
    for (int i = 0; i < 2; i++) {
        char **slot = i == 0 ? &ev->object : &ev->object2;
        if (!s->pend[i].active || !*slot)
            continue;
        char *res = sb_tr_resolve_at(s->root, *slot, s->pend[i].nofollow);
        if (res && strcmp(res, *slot) != 0) {
            json_set_text(ev->detail, keys[i], res);
            char *t = replace_first(ev->text, *slot, res);
            free(ev->text);
            ev->text = t;
            free(*slot);
            *slot = res;
            res = NULL;
        }
        free(res);
    }
    /* A PATH search tries several names: say which do not exist (the
     * call failed), so attempts can be told from programs run. */
    if (s->check_exists && ev->object && !sb_tr_exists_at(s->root, ev->object))
        json_object_set_new(ev->detail, "missing", json_true());
    memset(s->pend, 0, sizeof s->pend);
    s->check_exists = false;
}

static void text_path_call(pyti_sandbox_event *ev, const char *extra)
{
    char *t = xasprintf("%s(%s%s%s)", ev->syscall, ev->object ? ev->object : "?",
                        extra ? ", " : "", extra ? extra : "");
    free(ev->text);
    ev->text = t;
}

static void decode_open(sb_supervisor *s, pid_t pid, int dirfd, uint64_t path, uint64_t flags,
                        uint64_t mode, pyti_sandbox_event *ev, json_t *d)
{
    uint64_t acc = flags & O_ACCMODE;
    bool write = acc != O_RDONLY || (flags & (O_CREAT | O_TRUNC)) ||
                 (flags & __O_TMPFILE) == __O_TMPFILE;
    snprintf(ev->kind, sizeof ev->kind, "%s", write ? "file.write" : "file.open");
    ev->object = decode_path(s, pid, dirfd, path, (flags & O_NOFOLLOW) != 0, d, "");
    ev->flags = flags;
    char fl[200];
    sb_tr_open_flags(flags, fl, sizeof fl);
    json_set_text(d, "flags", fl);
    if (flags & (O_CREAT | __O_TMPFILE)) {
        char m[16];
        snprintf(m, sizeof m, "0%03llo", (unsigned long long)(mode & 07777));
        json_set_text(d, "mode", m);
    }
    text_path_call(ev, fl);
}

/* Reads argv-like pointer vectors. */
static size_t read_ptrs(pid_t pid, uint64_t addr, uint64_t *out, size_t max, bool *more)
{
    *more = false;
    if (!addr)
        return 0;
    size_t got = sb_tr_read(pid, addr, out, max * sizeof *out) / sizeof *out;
    for (size_t i = 0; i < got; i++)
        if (out[i] == 0)
            return i;
    *more = got == max;
    return got;
}

static void fd_is_socket(pid_t pid, int fd, json_t *d, const char *key, bool *any)
{
    char l[64];
    if (sb_tr_fd_link(pid, fd, l, sizeof l) && strncmp(l, "socket:", 7) == 0) {
        json_object_set_new(d, key, json_true());
        *any = true;
    }
}

static void decode_exec(sb_supervisor *s, pid_t pid, int dirfd, uint64_t path, uint64_t argvp,
                        uint64_t envp, pyti_sandbox_event *ev, json_t *d)
{
    s->execs++;
    ev->object = decode_path(s, pid, dirfd, path, false, d, "");
    s->check_exists = ev->object[0] == '/';
    (void)sb_supervisor_root(s, pid);
    uint64_t *ptrs = xmalloc(ENV_MAX * sizeof *ptrs);
    bool more;
    size_t argc = read_ptrs(pid, argvp, ptrs, ARGV_MAX, &more);
    json_t *argv = json_array();
    pyti_buf text = PYTI_BUF_INIT;
    unsigned char *data = xmalloc(ARGV_BYTES);
    size_t dl = 0;
    buf_printf(&text, "%s(%s, [", ev->syscall, ev->object);
    char *arg = xmalloc(PATH_CAP);
    for (size_t i = 0; i < argc && dl < ARGV_BYTES; i++) {
        bool cut;
        ssize_t n = sb_tr_read_str(pid, ptrs[i], arg, PATH_CAP, &cut);
        if (n < 0)
            snprintf(arg, PATH_CAP, "<unreadable>"), n = 12;
        json_array_append_new(argv, json_textn(arg, (size_t)n));
        size_t take = (size_t)n + 1 <= ARGV_BYTES - dl ? (size_t)n + 1 : ARGV_BYTES - dl;
        memcpy(data + dl, arg, take);
        dl += take;
        if (i < 8) {
            char *ex = str_excerpt(arg, (size_t)n, 120);
            buf_printf(&text, "%s\"%s\"", i ? ", " : "", ex);
            free(ex);
        } else if (i == 8) {
            buf_printf(&text, ", ...");
        }
    }
    free(arg);
    buf_printf(&text, "])");
    json_object_set_new(d, "argv", argv);
    json_object_set_new(d, "argc", json_integer((json_int_t)argc));
    if (more)
        json_object_set_new(d, "argv_truncated", json_true());
    ev->data = data;
    ev->data_len = dl;
    /* The environment: its size, and whether the loader is redirected. */
    size_t envc = read_ptrs(pid, envp, ptrs, ENV_MAX, &more);
    uint64_t env_bytes = 0;
    char *e = xmalloc(PATH_CAP);
    json_t *loader = json_array();
    for (size_t i = 0; i < envc && i < ENV_READ; i++) {
        bool cut;
        ssize_t n = sb_tr_read_str(pid, ptrs[i], e, PATH_CAP, &cut);
        if (n > 0)
            env_bytes += (uint64_t)n + 1;
        if (n > 0 && (strncmp(e, "LD_PRELOAD=", 11) == 0 || strncmp(e, "LD_AUDIT=", 9) == 0))
            json_array_append_new(loader, json_textn(e, (size_t)n));
    }
    free(e);
    free(ptrs);
    json_object_set_new(d, "env_count", json_integer((json_int_t)envc));
    json_object_set_new(d, "env_bytes", json_integer((json_int_t)env_bytes));
    if (envc > ENV_READ || more)
        json_object_set_new(d, "env_partial", json_true());
    if (json_array_size(loader))
        json_object_set_new(d, "loader_env", loader);
    else
        json_decref(loader);
    buf_printf(&text, " env %zu vars %llu bytes", envc, (unsigned long long)env_bytes);
    bool sock = false;
    fd_is_socket(pid, 0, d, "stdin_socket", &sock);
    fd_is_socket(pid, 1, d, "stdout_socket", &sock);
    if (sock)
        buf_printf(&text, ", standard streams on a socket");
    ev->text = buf_detach(&text);
}

static void set_addr(pyti_sandbox_event *ev, json_t *d, const char *addr, int family, int port,
                     bool local)
{
    set_str(&ev->object, addr);
    ev->flags = (uint64_t)port;
    json_set_text(d, "address", addr);
    json_object_set_new(d, "family", json_string(family == AF_INET    ? "inet"
                                                 : family == AF_INET6 ? "inet6"
                                                 : family == AF_UNIX  ? "unix"
                                                 : family == AF_NETLINK ? "netlink"
                                                                        : "other"));
    if (port)
        json_object_set_new(d, "port", json_integer(port));
    json_object_set_new(d, "local", json_boolean(local));
}

static bool decode_sockaddr(pid_t pid, uint64_t addr, uint64_t len, pyti_sandbox_event *ev,
                            json_t *d, int *port)
{
    unsigned char sa[SOCKADDR_CAP];
    size_t l = len < sizeof sa ? (size_t)len : sizeof sa;
    size_t got = sb_tr_read(pid, addr, sa, l);
    char text[256];
    int family;
    bool local;
    if (!sb_tr_sockaddr(sa, got, text, sizeof text, &family, port, &local))
        return false;
    set_addr(ev, d, text, family, *port, local);
    return true;
}

static void decode_connect(pid_t pid, const uint64_t *a, pyti_sandbox_event *ev, json_t *d)
{
    int port = 0;
    if (!decode_sockaddr(pid, a[1], a[2], ev, d, &port))
        set_str(&ev->object, "<unreadable address>");
    ev->text = xasprintf("%s(%s)", ev->syscall, ev->object);
}

/* The payload of a send: DNS when it goes to port 53 or reads as a query
 * to an unknown peer. */
static void finish_send(pid_t pid, int fd, bool have_addr, int port, unsigned char *buf,
                        size_t n, size_t total, unsigned messages, pyti_sandbox_event *ev,
                        json_t *d)
{
    if (!have_addr) {
        char peer[128];
        bool udp = false;
        if (sb_tr_socket_peer(pid, fd, peer, sizeof peer, &port, &udp)) {
            set_addr(ev, d, peer, strchr(peer, '[') ? AF_INET6 : AF_INET, port,
                     strncmp(peer, "127.", 4) == 0 || strncmp(peer, "[::1]", 5) == 0);
            json_object_set_new(d, "connected", json_true());
        }
    }
    ev->data = buf;
    ev->data_len = n;
    json_object_set_new(d, "bytes", json_integer((json_int_t)total));
    if (messages > 1)
        json_object_set_new(d, "messages", json_integer(messages));
    char name[512];
    unsigned qtype = 0;
    if ((port == 53 || !ev->object) && sb_dns_parse_query(buf, n, name, sizeof name, &qtype)) {
        snprintf(ev->kind, sizeof ev->kind, "net.dns");
        const char *tn = sb_dns_type_name(qtype);
        char tbuf[16];
        if (!tn)
            snprintf(tbuf, sizeof tbuf, "TYPE%u", qtype), tn = tbuf;
        json_set_text(d, "dns_name", name);
        json_set_text(d, "dns_type", tn);
        if (ev->object)
            json_set_text(d, "resolver", ev->object);
        ev->text = xasprintf("DNS query %s %s (%s to %s)", tn, name, ev->syscall,
                             ev->object ? ev->object : "?");
        set_str(&ev->object, name);
        return;
    }
    ev->text = xasprintf("%s(%s, %zu bytes)", ev->syscall, ev->object ? ev->object : "?", total);
}

static void decode_sendto(pid_t pid, const uint64_t *a, pyti_sandbox_event *ev, json_t *d)
{
    int port = 0;
    bool have = a[4] && decode_sockaddr(pid, a[4], a[5], ev, d, &port);
    size_t want = a[2] < PAYLOAD_CAP ? (size_t)a[2] : PAYLOAD_CAP;
    unsigned char *buf = xmalloc(want ? want : 1);
    size_t n = sb_tr_read(pid, a[1], buf, want);
    finish_send(pid, (int)a[0], have, port, buf, n, (size_t)a[2], 1, ev, d);
}

/* struct msghdr as the x86_64 kernel reads it. */
struct tr_msghdr {
    uint64_t name;
    uint32_t namelen, pad0;
    uint64_t iov;
    uint64_t iovlen;
    uint64_t control, controllen;
    uint32_t flags, pad1;
};

static size_t gather_iov(pid_t pid, const struct tr_msghdr *m, unsigned char *buf, size_t cap,
                         size_t *total)
{
    uint64_t iov[2 * 16];
    size_t cnt = m->iovlen < 16 ? (size_t)m->iovlen : 16;
    size_t got = sb_tr_read(pid, m->iov, iov, cnt * 16) / 16;
    size_t n = 0;
    for (size_t i = 0; i < got; i++) {
        *total += (size_t)iov[2 * i + 1];
        if (n < cap) {
            size_t want = iov[2 * i + 1] < cap - n ? (size_t)iov[2 * i + 1] : cap - n;
            n += sb_tr_read(pid, iov[2 * i], buf + n, want);
        }
    }
    return n;
}

static void decode_sendmsg(pid_t pid, const uint64_t *a, bool multi, pyti_sandbox_event *ev,
                           json_t *d)
{
    struct tr_msghdr m;
    memset(&m, 0, sizeof m);
    unsigned messages = 1;
    if (multi) {
        /* struct mmsghdr: a msghdr and an unsigned length, 64 bytes */
        messages = a[2] > 1024 ? 1024 : (unsigned)a[2];
        if (sb_tr_read(pid, a[1], &m, sizeof m) != sizeof m)
            memset(&m, 0, sizeof m);
    } else if (sb_tr_read(pid, a[1], &m, sizeof m) != sizeof m) {
        memset(&m, 0, sizeof m);
    }
    int port = 0;
    bool have = m.name && decode_sockaddr(pid, m.name, m.namelen, ev, d, &port);
    unsigned char *buf = xmalloc(PAYLOAD_CAP);
    size_t total = 0;
    size_t n = gather_iov(pid, &m, buf, PAYLOAD_CAP, &total);
    finish_send(pid, (int)a[0], have, port, buf, n, total, messages, ev, d);
}

static bool decode_sleep(uint64_t clk, bool absolute, pid_t pid, uint64_t req,
                         pyti_sandbox_event *ev, json_t *d)
{
    struct {
        int64_t sec, nsec;
    } ts;
    if (sb_tr_read(pid, req, &ts, sizeof ts) != sizeof ts)
        return false;
    double secs = (double)ts.sec + (double)ts.nsec / 1e9;
    if (absolute) {
        /* Only the static clocks: a negative id names a clock by file
         * descriptor, which here would be one of pyti's. */
        if (clk > CLOCK_TAI)
            return false;
        struct timespec now;
        if (clock_gettime((clockid_t)clk, &now) != 0)
            return false;
        secs -= (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    }
    if (secs < 1.0)
        return false; /* short naps are not news */
    json_object_set_new(d, "seconds", json_real(secs));
    ev->flags = (uint64_t)secs;
    ev->object = xasprintf("%.1f s", secs);
    ev->text = xasprintf("%s(%.1f s)", ev->syscall, secs);
    return true;
}

bool sb_trace_decode(sb_supervisor *s, pid_t pid, int nr, const uint64_t *a, const sb_tr_rule *r,
                     pyti_sandbox_event *ev)
{
    (void)nr;
    memset(s->pend, 0, sizeof s->pend);
    s->check_exists = false;
    snprintf(ev->kind, sizeof ev->kind, "%s", r->kind);
    json_t *d = json_object();
    bool keep = true;
    char extra[64];
    switch (r->decoder) {
    case SB_TR_OPEN:
        decode_open(s, pid, AT_FDCWD, a[0], a[1], a[2], ev, d);
        break;
    case SB_TR_OPENAT:
        decode_open(s, pid, (int)a[0], a[1], a[2], a[3], ev, d);
        break;
    case SB_TR_OPENAT2: {
        struct open_how how;
        memset(&how, 0, sizeof how);
        sb_tr_read(pid, a[2], &how, a[3] < sizeof how ? (size_t)a[3] : sizeof how);
        decode_open(s, pid, (int)a[0], a[1], how.flags, how.mode, ev, d);
        break;
    }
    case SB_TR_CREAT:
        decode_open(s, pid, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1], ev, d);
        break;
    case SB_TR_PATH:
    case SB_TR_PATHAT: {
        bool at = r->decoder == SB_TR_PATHAT;
        int dirfd = at ? (int)a[0] : AT_FDCWD;
        uint64_t mode = at ? a[2] : a[1];
        bool nofollow = strcmp(ev->syscall, "lchown") == 0 ||
                        strcmp(r->kind, "file.unlink") == 0 ||
                        (strcmp(ev->syscall, "fchownat") == 0 && (a[4] & AT_SYMLINK_NOFOLLOW));
        ev->object = decode_path(s, pid, dirfd, at ? a[1] : a[0], nofollow, d, "");
        extra[0] = '\0';
        if (strcmp(r->kind, "file.chmod") == 0 || strcmp(r->kind, "file.mkdir") == 0) {
            snprintf(extra, sizeof extra, "0%03llo", (unsigned long long)(mode & 07777));
            json_set_text(d, "mode", extra);
            ev->flags = mode & 07777;
        } else if (strcmp(r->kind, "file.chown") == 0) {
            snprintf(extra, sizeof extra, "%lld:%lld", (long long)(int)(at ? a[2] : a[1]),
                     (long long)(int)(at ? a[3] : a[2]));
            json_set_text(d, "owner", extra);
        }
        text_path_call(ev, extra[0] ? extra : NULL);
        break;
    }
    case SB_TR_FD: {
        char l[PATH_CAP];
        ev->object = sb_tr_fd_link(pid, (int)a[0], l, sizeof l) ? xstrdup(l)
                                                                : xasprintf("<fd %d>", (int)a[0]);
        json_set_text(d, "path", ev->object);
        extra[0] = '\0';
        if (strcmp(r->kind, "file.chmod") == 0) {
            snprintf(extra, sizeof extra, "0%03llo", (unsigned long long)(a[1] & 07777));
            json_set_text(d, "mode", extra);
            ev->flags = a[1] & 07777;
        }
        text_path_call(ev, extra[0] ? extra : NULL);
        break;
    }
    case SB_TR_PATH2:
    case SB_TR_PATH2AT: {
        bool at = r->decoder == SB_TR_PATH2AT;
        bool link = strcmp(r->kind, "file.link") == 0;
        bool follow_old = link && at && (a[4] & AT_SYMLINK_FOLLOW);
        ev->object = decode_path(s, pid, at ? (int)a[0] : AT_FDCWD, at ? a[1] : a[0],
                                 !follow_old, d, "");
        ev->object2 = decode_path(s, pid, at ? (int)a[2] : AT_FDCWD, at ? a[3] : a[1], true, d,
                                  "new_");
        ev->text = xasprintf("%s(%s -> %s)", ev->syscall, ev->object, ev->object2);
        break;
    }
    case SB_TR_SYMLINK:
    case SB_TR_SYMLINKAT: {
        char target[PATH_CAP];
        if (sb_tr_read_str(pid, a[0], target, sizeof target, NULL) < 0)
            snprintf(target, sizeof target, "<unreadable>");
        json_set_text(d, "target", target);
        bool at = r->decoder == SB_TR_SYMLINKAT;
        ev->object = decode_path(s, pid, at ? (int)a[1] : AT_FDCWD, at ? a[2] : a[1], true, d, "");
        /* What the link will point at, as a path inside (relative
         * targets are relative to the link's directory). */
        char *dir = xstrdup(ev->object);
        char *slash = strrchr(dir, '/');
        if (slash)
            slash[slash == dir ? 1 : 0] = '\0';
        ev->object2 = sb_path_join_normal(dir[0] == '/' ? dir : "/", target);
        free(dir);
        json_set_text(d, "target_path", ev->object2);
        ev->text = xasprintf("%s(%s -> %s)", ev->syscall, ev->object, target);
        break;
    }
    case SB_TR_EXECVE:
        decode_exec(s, pid, AT_FDCWD, a[0], a[1], a[2], ev, d);
        break;
    case SB_TR_EXECVEAT:
        decode_exec(s, pid, (int)a[0], a[1], a[2], a[3], ev, d);
        break;
    case SB_TR_CONNECT:
    case SB_TR_BIND:
        decode_connect(pid, a, ev, d);
        break;
    case SB_TR_SENDTO:
        decode_sendto(pid, a, ev, d);
        break;
    case SB_TR_SENDMSG:
    case SB_TR_SENDMMSG:
        decode_sendmsg(pid, a, r->decoder == SB_TR_SENDMMSG, ev, d);
        break;
    case SB_TR_NANOSLEEP:
        keep = decode_sleep(CLOCK_MONOTONIC, false, pid, a[0], ev, d);
        break;
    case SB_TR_CLOCK_NANOSLEEP:
        keep = decode_sleep(a[0], (a[1] & TIMER_ABSTIME) != 0, pid, a[2], ev, d);
        break;
    }
    if (!keep) {
        json_decref(d);
        return false;
    }
    ev->detail = d;
    return true;
}

/* Trees mounted read-only: a change there fails with EROFS. */
static bool read_only_tree(const char *p)
{
    static const char *const ro[] = {"/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
                                     "/libx32", "/job/input", "/job/work/dist", "/pyti",
                                     "/wheelhouse", "/proc/sys", NULL};
    for (size_t i = 0; ro[i]; i++) {
        size_t n = strlen(ro[i]);
        if (strncmp(p, ro[i], n) == 0 && (p[n] == '/' || p[n] == '\0'))
            return true;
    }
    return false;
}

void sb_trace_result(const char *action, pyti_sandbox_event *ev)
{
    if (!ev->detail)
        ev->detail = json_object();
    const char *r = "continued (the kernel ran it; its result is not observed)";
    json_t *d = ev->detail;
    if (strcmp(action, "denied") == 0)
        r = "EPERM: denied by the sandbox";
    else if (strcmp(action, "enosys") == 0)
        r = "ENOSYS: answered by the sandbox";
    else if (strcmp(ev->kind, "exec") == 0 && json_is_true(json_object_get(d, "missing")))
        r = "ENOENT: no such program";
    else if ((strcmp(ev->kind, "net.connect") == 0 || strcmp(ev->kind, "net.send") == 0 ||
              strcmp(ev->kind, "net.dns") == 0) &&
             json_is_false(json_object_get(d, "local")) &&
             strncmp(json_string_value(json_object_get(d, "family")) ?: "", "inet", 4) == 0)
        r = "ENETUNREACH: the sandbox has no network";
    else if (strcmp(ev->kind, "net.dns") == 0)
        r = "sent; nothing answers (connection refused)";
    else if (strncmp(ev->kind, "file.", 5) == 0 && strcmp(ev->kind, "file.open") != 0 &&
             ev->object && read_only_tree(ev->object))
        r = "EROFS: a read-only file system";
    json_object_set_new(d, "result", json_string(r));
}

