/* mounts.c — the sandbox's file system: the mount plan (which host paths
 * appear where, what is generated, what is masked) built in the parent,
 * and its application in the child: clone the bind sources, build a tmpfs
 * root, enter it with pivot_root and detach the old root.
 *
 * The plan is data (sb_op list) so it can be unit-tested and so the child
 * only makes system calls. Binds use the new mount API: open_tree() clones
 * every source first (before anything is mounted over the host tree, e.g.
 * the new root over /tmp), mount_setattr() makes the clone read-only,
 * nosuid and nodev recursively (sub-mounts included, which a remount of a
 * MS_REC bind would not do), and move_mount() attaches it. Targets are
 * created component by component with O_NOFOLLOW, so no symlink (planted
 * in a writable bind by an earlier task) is ever followed during setup. */
#include "sandbox/sandbox_internal.h"
#include "common/strv.h"
#include "common/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int sb_fail(sb_msg *m, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(m->text, sizeof m->text, fmt, ap);
    va_end(ap);
    if (errnum && n >= 0 && (size_t)n < sizeof m->text)
        snprintf(m->text + n, sizeof m->text - (size_t)n, ": %s", strerror(errnum));
    return -1;
}

/* ---- the plan (parent) ------------------------------------------------ */

char *sb_inside_path(const char *p)
{
    if (!p || p[0] != '/' || strlen(p) > 1024)
        return NULL;
    pyti_buf out = PYTI_BUF_INIT;
    const char *s = p;
    while (*s) {
        while (*s == '/')
            s++;
        if (!*s)
            break;
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.')) {
            buf_free(&out);
            return NULL;
        }
        buf_putc(&out, '/');
        buf_append(&out, s, len);
        s += len;
    }
    if (out.len == 0) { /* "/" itself is never a mount target */
        buf_free(&out);
        return NULL;
    }
    return buf_detach(&out);
}

void sb_file_facts_of(const struct stat *st, sb_file_facts *out)
{
    *out = (sb_file_facts){
        (uint64_t)st->st_dev,          (uint64_t)st->st_ino,
        (uint64_t)st->st_size,         (uint64_t)st->st_mtim.tv_sec,
        (uint64_t)st->st_mtim.tv_nsec, (uint64_t)st->st_ctim.tv_sec,
        (uint64_t)st->st_ctim.tv_nsec,
    };
}

static sb_op *plan_add(sb_plan *plan, sb_op_kind kind, const char *src, const char *dst)
{
    if (plan->n == plan->cap) {
        plan->cap = plan->cap ? plan->cap * 2 : 64;
        plan->ops = xreallocarray(plan->ops, plan->cap, sizeof *plan->ops);
    }
    sb_op *op = &plan->ops[plan->n++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->src = src ? xstrdup(src) : NULL;
    op->dst = xstrdup(dst);
    op->mode = 0755;
    op->tree_fd = -1;
    return op;
}

static void plan_file(sb_plan *plan, const char *dst, const char *text)
{
    sb_op *op = plan_add(plan, SB_OP_FILE, NULL, dst);
    op->data = xstrdup(text);
    op->data_len = strlen(text);
    op->mode = 0644;
}

/* Host /etc entries made visible: regular files are copied (cheaper than
 * a mount each and frozen for the run), directories bound read-only,
 * symlinks recreated. Nothing that names the host's identity, users,
 * secrets or network set-up: passwd, group and hosts are generated,
 * resolv.conf is absent (no network) or, with the tracer, names a
 * loopback address where nothing listens, shadow, machine-id, ssh, sudoers
 * and pip.conf are not there. */
static const char *const etc_entries[] = {
    "nsswitch.conf", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone",
    "os-release", "debian_version", "mime.types", "protocols", "services", "ssl",
    "alternatives", "python3", "python3.11", "python3.12", "python3.13", "gai.conf",
    "host.conf", "inputrc", "magic", "magic.mime", "shells", NULL,
};

/* A small flat directory (python3.11/, ld.so.conf.d/) is copied rather
 * than bound: every mount costs at set-up and again at tear-down. Returns
 * false (bind it instead) for anything bigger or with subdirectories. A
 * directory over 4 KiB is big without reading it (32 names fit in one
 * ext4 block; other file systems report less): reading /etc/alternatives
 * (~500 entries) was ~2% of `pyti sandbox -- true`'s CPU. */
static bool plan_small_dir(sb_plan *plan, const char *host, const struct stat *dst)
{
    if (dst->st_size > 4096)
        return false;
    DIR *d = opendir(host);
    if (!d)
        return false;
    pyti_strv names = PYTI_STRV_INIT;
    struct dirent *de;
    bool ok = true;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (names.len >= 32 || (de->d_type != DT_REG && de->d_type != DT_LNK)) {
            ok = false;
            break;
        }
        strv_push(&names, de->d_name);
    }
    closedir(d);
    if (ok) {
        plan_add(plan, SB_OP_DIR, NULL, host);
        for (size_t i = 0; i < names.len; i++) {
            char *p = xasprintf("%s/%s", host, names.items[i]);
            struct stat st;
            if (lstat(p, &st) != 0) {
                /* gone since readdir: nothing to show */
            } else if (S_ISLNK(st.st_mode)) {
                char link[PATH_MAX];
                ssize_t n = readlink(p, link, sizeof link - 1);
                if (n > 0) {
                    link[n] = '\0';
                    plan_add(plan, SB_OP_SYMLINK, link, p);
                }
            } else if (S_ISREG(st.st_mode) && st.st_size <= 1024 * 1024) {
                sb_op *op = plan_add(plan, SB_OP_COPY, p, p);
                op->mode = 0644;
                op->optional = true;
                op->facts_fresh = true;
                sb_file_facts_of(&st, &op->facts);
            }
            free(p);
        }
    }
    strv_free(&names);
    return ok;
}

/* The generated /etc files (they depend on the spec's host name). */
static void plan_etc_generated(sb_plan *plan, const char *hostname, bool trace)
{
    /* With the tracer, name resolution is sent to a loopback address
     * where nothing listens: the query is traced (and decoded) on its way
     * out and fails at once with "connection refused". */
    if (trace)
        plan_file(plan, "/etc/resolv.conf", "nameserver 127.0.0.53\noptions timeout:1 attempts:1\n");
    plan_file(plan, "/etc/passwd",
              "root:x:0:0:root:/root:/usr/sbin/nologin\n"
              "pyti:x:1000:1000:pyti sandbox:/home/pyti:/bin/sh\n"
              "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
    plan_file(plan, "/etc/group", "root:x:0:\npyti:x:1000:\nnogroup:x:65534:\n");
    char *hosts = xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                            "127.0.1.1\t%s\n", hostname);
    plan_file(plan, "/etc/hosts", hosts);
    free(hosts);
    char *hn = xasprintf("%s\n", hostname);
    plan_file(plan, "/etc/hostname", hn);
    free(hn);
}

/* The host-derived part of the plan: /usr, the top-level links, and the
 * /etc entries found on the host. */
static void plan_host(sb_plan *plan)
{
    /* The host's programs and libraries, read-only; Debian's merged-/usr
     * links (/bin -> usr/bin, ...) recreated as they are on the host. */
    sb_op *op = plan_add(plan, SB_OP_BIND, "/usr", "/usr");
    op->ro = true;
    static const char *const top[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32", NULL};
    for (size_t i = 0; top[i]; i++) {
        char *host = xasprintf("/%s", top[i]);
        struct stat st;
        if (lstat(host, &st) == 0) {
            if (S_ISLNK(st.st_mode)) {
                char link[PATH_MAX];
                ssize_t n = readlink(host, link, sizeof link - 1);
                if (n > 0) {
                    link[n] = '\0';
                    plan_add(plan, SB_OP_SYMLINK, link, host);
                }
            } else if (S_ISDIR(st.st_mode)) {
                op = plan_add(plan, SB_OP_BIND, host, host);
                op->ro = true;
            }
        }
        free(host);
    }
    plan_add(plan, SB_OP_DIR, NULL, "/etc");
    for (size_t i = 0; etc_entries[i]; i++) {
        char *host = xasprintf("/etc/%s", etc_entries[i]);
        struct stat st;
        if (lstat(host, &st) == 0) {
            if (S_ISLNK(st.st_mode)) {
                char link[PATH_MAX];
                ssize_t n = readlink(host, link, sizeof link - 1);
                if (n > 0) {
                    link[n] = '\0';
                    plan_add(plan, SB_OP_SYMLINK, link, host);
                }
            } else if (S_ISDIR(st.st_mode)) {
                if (!plan_small_dir(plan, host, &st)) {
                    op = plan_add(plan, SB_OP_BIND, host, host);
                    op->ro = true;
                    op->optional = true;
                }
            } else if (S_ISREG(st.st_mode) && st.st_size <= 4 * 1024 * 1024) {
                op = plan_add(plan, SB_OP_COPY, host, host);
                op->mode = 0644;
                op->optional = true;
                op->facts_fresh = true;
                sb_file_facts_of(&st, &op->facts);
            }
        }
        free(host);
    }
}

/* The host part is discovered once per process (about 50 lstat/readdir
 * calls) and copied into every plan; file contents are still read at
 * each run. */
static sb_plan host_cache;
static bool host_cached;

static void plan_host_cached(sb_plan *plan)
{
    bool fresh = !host_cached;
    if (!host_cached) {
        plan_host(&host_cache);
        host_cached = true;
    }
    for (size_t i = 0; i < host_cache.n; i++) {
        const sb_op *c = &host_cache.ops[i];
        sb_op *op = plan_add(plan, c->kind, c->src, c->dst);
        op->ro = c->ro;
        op->devices = c->devices;
        op->disk = c->disk;
        op->optional = c->optional;
        op->size = c->size;
        op->mode = c->mode;
        /* the facts just read serve this plan (the /etc digest), not later ones */
        op->facts_fresh = fresh && c->facts_fresh;
        op->facts = c->facts;
    }
}

/* /proc entries hidden or made read-only, as Docker and bwrap do. */
static const char *const proc_ro[] = {"sys", "sysrq-trigger", "irq", "bus", "fs", NULL};
static const char *const proc_masked[] = {
    "kcore", "keys", "key-users", "timer_list", "sched_debug", "latency_stats", "kallsyms",
    "kmsg", "acpi", "asound", "scsi", "firmware", "driver", "config.gz", "vmallocinfo",
    "pagetypeinfo", "slabinfo", NULL,
};
static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", NULL};

pyti_status sb_plan_build(const pyti_sandbox_spec *spec, uint64_t disk_limit, sb_plan *plan,
                          pyti_error *err)
{
    memset(plan, 0, sizeof *plan);
    uint64_t tmpfs_default = disk_limit ? disk_limit : (uint64_t)1 << 30;

    plan_host_cached(plan);
    plan_etc_generated(plan, spec->hostname ? spec->hostname : "pyti", spec->trace);
    sb_op *op;

    plan_add(plan, SB_OP_PROC, NULL, "/proc");
    for (size_t i = 0; proc_ro[i]; i++) {
        char *p = xasprintf("/proc/%s", proc_ro[i]);
        op = plan_add(plan, SB_OP_RO_REMOUNT, NULL, p);
        op->optional = true;
        free(p);
    }
    for (size_t i = 0; proc_masked[i]; i++) {
        char *p = xasprintf("/proc/%s", proc_masked[i]);
        op = plan_add(plan, SB_OP_MASK, NULL, p);
        op->optional = true;
        free(p);
    }

    op = plan_add(plan, SB_OP_TMPFS, NULL, "/dev");
    op->size = 64 * 1024;
    op->ro = true; /* made read-only once populated (its sub-mounts keep theirs) */
    for (size_t i = 0; dev_nodes[i]; i++) {
        char *p = xasprintf("/dev/%s", dev_nodes[i]);
        op = plan_add(plan, SB_OP_BIND, p, p);
        op->devices = true;
        free(p);
    }
    plan_add(plan, SB_OP_SYMLINK, "/proc/self/fd", "/dev/fd");
    plan_add(plan, SB_OP_SYMLINK, "/proc/self/fd/0", "/dev/stdin");
    plan_add(plan, SB_OP_SYMLINK, "/proc/self/fd/1", "/dev/stdout");
    plan_add(plan, SB_OP_SYMLINK, "/proc/self/fd/2", "/dev/stderr");
    op = plan_add(plan, SB_OP_TMPFS, NULL, "/dev/shm");
    op->size = tmpfs_default;
    op->mode = 01777;
    op->disk = true;

    op = plan_add(plan, SB_OP_TMPFS, NULL, "/tmp");
    op->size = tmpfs_default;
    op->mode = 01777;
    op->disk = true;
    plan_add(plan, SB_OP_SYMLINK, "/tmp", "/var/tmp");

    if (spec->home_source) {
        op = plan_add(plan, SB_OP_BIND, spec->home_source, "/home/pyti");
        op->disk = true;
    } else {
        op = plan_add(plan, SB_OP_TMPFS, NULL, "/home/pyti");
        op->size = tmpfs_default;
        op->mode = 0700;
        op->disk = true;
    }

    for (size_t i = 0; i < spec->n_mounts; i++) {
        const pyti_sandbox_mount *m = &spec->mounts[i];
        char *dst = sb_inside_path(m->target);
        if (!dst) {
            sb_plan_free(plan);
            return pyti_error_set(err, PYTI_ERR_USAGE,
                                  "sandbox mount %zu: target '%s' must be an absolute path "
                                  "other than / without '.' or '..' components",
                                  i + 1, m->target ? m->target : "(null)");
        }
        if (strncmp(dst, "/proc", 5) == 0 && (dst[5] == '\0' || dst[5] == '/')) {
            free(dst);
            sb_plan_free(plan);
            return pyti_error_set(err, PYTI_ERR_USAGE,
                                  "sandbox mount %zu: nothing may be mounted over /proc", i + 1);
        }
        switch (m->kind) {
        case SANDBOX_MOUNT_RO_BIND:
        case SANDBOX_MOUNT_BIND: {
            struct stat st;
            if (!m->source || stat(m->source, &st) != 0) {
                int e = errno;
                free(dst);
                sb_plan_free(plan);
                if (!m->source)
                    return pyti_error_set(err, PYTI_ERR_USAGE,
                                          "sandbox mount %zu: bind without a source", i + 1);
                return pyti_error_errno(err, PYTI_ERR_USAGE, e, "sandbox mount source %s",
                                        m->source);
            }
            op = plan_add(plan, SB_OP_BIND, m->source, dst);
            op->ro = m->kind == SANDBOX_MOUNT_RO_BIND;
            op->disk = !op->ro;
            break;
        }
        case SANDBOX_MOUNT_TMPFS:
            op = plan_add(plan, SB_OP_TMPFS, NULL, dst);
            op->size = m->size ? m->size : tmpfs_default;
            op->mode = 01777;
            op->disk = true;
            break;
        case SANDBOX_MOUNT_DIR:
            plan_add(plan, SB_OP_DIR, NULL, dst);
            break;
        default:
            free(dst);
            sb_plan_free(plan);
            return pyti_error_set(err, PYTI_ERR_USAGE, "sandbox mount %zu: unknown kind %d",
                                  i + 1, (int)m->kind);
        }
        free(dst);
    }
    return PYTI_OK;
}

void sb_plan_free(sb_plan *plan)
{
    for (size_t i = 0; i < plan->n; i++) {
        free(plan->ops[i].src);
        free(plan->ops[i].dst);
        free(plan->ops[i].data);
        if (plan->ops[i].tree_fd >= 0)
            close(plan->ops[i].tree_fd);
    }
    free(plan->ops);
    memset(plan, 0, sizeof *plan);
}

/* ---- application (child) ---------------------------------------------- */

int sb_child_open_sources(sb_plan *plan, sb_msg *m)
{
    for (size_t i = 0; i < plan->n; i++) {
        sb_op *op = &plan->ops[i];
        if (op->kind != SB_OP_BIND)
            continue;
        op->tree_fd = open_tree(AT_FDCWD, op->src,
                                OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (op->tree_fd < 0) {
            if (op->optional && errno == ENOENT)
                continue;
            return sb_fail(m, errno, "cloning mount source %s", op->src);
        }
        struct mount_attr attr = {0};
        attr.attr_set = MOUNT_ATTR_NOSUID;
        if (op->devices)
            attr.attr_set |= MOUNT_ATTR_NOEXEC;
        else
            attr.attr_set |= MOUNT_ATTR_NODEV;
        if (op->ro || op->devices)
            attr.attr_set |= MOUNT_ATTR_RDONLY;
        if (mount_setattr(op->tree_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                          sizeof attr) != 0)
            return sb_fail(m, errno, "setting mount flags of %s", op->src);
    }
    return 0;
}

/* Opens (creating as needed) the directory `rel` (no leading slash) under
 * rootfd, one component at a time, never following a symlink. */
static int open_dir_nofollow(int rootfd, const char *rel, bool create, sb_msg *m,
                             const char *what)
{
    int fd = dup(rootfd);
    if (fd < 0)
        return sb_fail(m, errno, "dup");
    char comp[256];
    const char *s = rel;
    while (*s) {
        while (*s == '/')
            s++;
        if (!*s)
            break;
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len >= sizeof comp) {
            close(fd);
            return sb_fail(m, ENAMETOOLONG, "%s", what);
        }
        memcpy(comp, s, len);
        comp[len] = '\0';
        s += len;
        int next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, comp, 0755) != 0 && errno != EEXIST) {
                int e2 = errno;
                close(fd);
                return sb_fail(m, e2, "creating %s", what);
            }
            next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            int e2 = errno;
            close(fd);
            return sb_fail(m, e2, "opening %s (symlinks are not followed)", what);
        }
        close(fd);
        fd = next;
    }
    return fd;
}

/* Splits dst "/a/b/c" into the parent "a/b" (in buf) and "c". */
static const char *split_parent(const char *dst, char *buf, size_t size)
{
    const char *slash = strrchr(dst, '/');
    size_t len = slash > dst ? (size_t)(slash - dst) - 1 : 0;
    if (len >= size)
        len = size - 1;
    memcpy(buf, dst + 1, len);
    buf[len] = '\0';
    return slash + 1;
}

/* Creates the mount point `name` in dirfd: a directory, or an empty file
 * when the thing mounted there is not a directory. */
static int make_mountpoint(int dirfd, const char *name, bool dir)
{
    if (dir) {
        if (mkdirat(dirfd, name, 0755) != 0 && errno != EEXIST)
            return -1;
        return 0;
    }
    /* An existing file will do (it may be on a read-only bind, /etc). */
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
        return 0;
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

int sb_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int copy_host_file(const char *src, int dirfd, const char *name, mode_t mode)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (out < 0) {
        int e = errno;
        close(in);
        errno = e;
        return -1;
    }
    char buf[16384];
    ssize_t r;
    int rc = 0;
    size_t total = 0;
    while ((r = read(in, buf, sizeof buf)) > 0) {
        total += (size_t)r;
        if (total > 4 * 1024 * 1024 || sb_write_all(out, buf, (size_t)r) != 0) {
            rc = -1;
            break;
        }
    }
    if (r < 0)
        rc = -1;
    int e = errno;
    close(in);
    close(out);
    errno = e;
    return rc;
}

static int mount_tmpfs_at(const char *path, uint64_t size, mode_t mode, unsigned long flags)
{
    /* Inodes bounded too (one per 4 KiB of size): empty files use no
     * blocks, and millions of them would still cost kernel memory. */
    char opts[96];
    unsigned long long inodes = size / 4096 < 1024 ? 1024 : size / 4096;
    snprintf(opts, sizeof opts, "size=%llu,nr_inodes=%llu,mode=%o", (unsigned long long)size,
             inodes, (unsigned)mode);
    return mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | flags, opts);
}

/* The directory the previous op worked in, kept open for the next op in
 * the same place (the ~20 /etc files): opening it again costs a dup, an
 * openat per component and two closes each time. Forgotten after any op
 * that mounts something, which could cover it. Static: init never
 * allocates. */
typedef struct parent_cache {
    char path[PATH_MAX];
    int fd;
} parent_cache;

static void parent_cache_drop(parent_cache *pc)
{
    if (pc->fd >= 0)
        close(pc->fd);
    pc->fd = -1;
}

static int parent_dir(parent_cache *pc, int rootfd, const char *parent, sb_msg *m,
                      const char *what)
{
    if (pc->fd >= 0 && strcmp(pc->path, parent) == 0)
        return pc->fd;
    parent_cache_drop(pc);
    int fd = open_dir_nofollow(rootfd, parent, true, m, what);
    if (fd < 0)
        return -1;
    snprintf(pc->path, sizeof pc->path, "%s", parent);
    pc->fd = fd;
    return fd;
}

static int apply_op(sb_op *op, int rootfd, parent_cache *pc, const char *newroot,
                    int *tmpfs_fds, size_t max, size_t *n_tmpfs, sb_msg *m)
{
    char parent[PATH_MAX];
    char full[PATH_MAX];
    const char *name = split_parent(op->dst, parent, sizeof parent);
    snprintf(full, sizeof full, "%s%s", newroot, op->dst);

    if (op->kind != SB_OP_DIR && op->kind != SB_OP_SYMLINK && op->kind != SB_OP_FILE &&
        op->kind != SB_OP_COPY)
        parent_cache_drop(pc); /* this op mounts: a kept directory could be covered */
    if (op->kind == SB_OP_RO_REMOUNT || op->kind == SB_OP_MASK) {
        /* Existing paths inside the new /proc: nothing to create. */
        struct stat st;
        if (lstat(full, &st) != 0) {
            if (op->optional)
                return 0;
            return sb_fail(m, errno, "%s", op->dst);
        }
        if (op->kind == SB_OP_RO_REMOUNT) {
            int t = open_tree(AT_FDCWD, full, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
            if (t < 0)
                return sb_fail(m, errno, "cloning %s", op->dst);
            struct mount_attr attr = {0};
            attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                            MOUNT_ATTR_NOEXEC;
            int rc = mount_setattr(t, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr);
            if (rc == 0)
                rc = move_mount(t, "", AT_FDCWD, full, MOVE_MOUNT_F_EMPTY_PATH);
            int e = errno;
            close(t);
            if (rc != 0)
                return sb_fail(m, e, "making %s read-only", op->dst);
            return 0;
        }
        /* Host-root files without permission bits for others are out of
         * reach already (host root is unmapped inside): no mount needed. */
        if (!(st.st_mode & (S_IROTH | S_IWOTH | S_IXOTH)))
            return 0;
        if (S_ISDIR(st.st_mode)) {
            if (mount_tmpfs_at(full, 4096, 0555, MS_RDONLY | MS_NOEXEC) != 0)
                return sb_fail(m, errno, "masking %s", op->dst);
        } else if (mount("/dev/null", full, NULL, MS_BIND, NULL) != 0 ||
                   mount(NULL, full, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID |
                                               MS_NODEV | MS_NOEXEC, NULL) != 0) {
            return sb_fail(m, errno, "masking %s", op->dst);
        }
        return 0;
    }

    int dirfd = parent_dir(pc, rootfd, parent, m, op->dst);
    if (dirfd < 0)
        return -1;
    int rc = 0;
    switch (op->kind) {
    case SB_OP_DIR:
        if (mkdirat(dirfd, name, op->mode) != 0 && errno != EEXIST)
            rc = sb_fail(m, errno, "creating %s", op->dst);
        break;
    case SB_OP_SYMLINK:
        if (symlinkat(op->src, dirfd, name) != 0)
            rc = sb_fail(m, errno, "creating link %s", op->dst);
        break;
    case SB_OP_FILE: {
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        op->mode);
        if (fd < 0 || sb_write_all(fd, op->data, op->data_len) != 0)
            rc = sb_fail(m, errno, "writing %s", op->dst);
        if (fd >= 0)
            close(fd);
        break;
    }
    case SB_OP_COPY:
        if (copy_host_file(op->src, dirfd, name, op->mode) != 0 &&
            !(op->optional && errno == ENOENT))
            rc = sb_fail(m, errno, "copying %s", op->src);
        break;
    case SB_OP_BIND: {
        if (op->tree_fd < 0) /* optional and missing */
            break;
        struct stat st;
        if (fstat(op->tree_fd, &st) != 0 ||
            make_mountpoint(dirfd, name, S_ISDIR(st.st_mode)) != 0) {
            rc = sb_fail(m, errno, "creating mount point %s", op->dst);
            break;
        }
        /* MOVE_MOUNT_T_SYMLINKS is not given: a symlink target is refused. */
        if (move_mount(op->tree_fd, "", dirfd, name, MOVE_MOUNT_F_EMPTY_PATH) != 0)
            rc = sb_fail(m, errno, "mounting %s on %s", op->src, op->dst);
        close(op->tree_fd);
        op->tree_fd = -1;
        break;
    }
    case SB_OP_TMPFS:
        if (mkdirat(dirfd, name, 0755) != 0 && errno != EEXIST) {
            rc = sb_fail(m, errno, "creating %s", op->dst);
            break;
        }
        if (mount_tmpfs_at(full, op->size, op->mode, 0) != 0) {
            rc = sb_fail(m, errno, "mounting tmpfs on %s", op->dst);
            break;
        }
        if (op->disk && *n_tmpfs < max) {
            int fd = open(full, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) {
                rc = sb_fail(m, errno, "opening %s", op->dst);
                break;
            }
            tmpfs_fds[(*n_tmpfs)++] = fd;
        }
        break;
    case SB_OP_PROC:
        if (mkdirat(dirfd, name, 0555) != 0 && errno != EEXIST) {
            rc = sb_fail(m, errno, "creating %s", op->dst);
            break;
        }
        if (mount("proc", full, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
            rc = sb_fail(m, errno, "mounting proc on %s", op->dst);
        break;
    default:
        break;
    }
    return rc; /* dirfd stays in the cache (dropped before the next mount) */
}

int sb_child_build_root(sb_plan *plan, const char *newroot, int *tmpfs_fds, size_t max,
                        size_t *n_tmpfs, sb_msg *m)
{
    *n_tmpfs = 0;
    if (mount_tmpfs_at(newroot, 64 * 1024 * 1024, 0755, 0) != 0)
        return sb_fail(m, errno, "mounting the root tmpfs on %s", newroot);
    int rootfd = open(newroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return sb_fail(m, errno, "opening %s", newroot);
    static parent_cache pc;
    pc.fd = -1;
    for (size_t i = 0; i < plan->n; i++) {
        if (apply_op(&plan->ops[i], rootfd, &pc, newroot, tmpfs_fds, max, n_tmpfs, m) != 0) {
            parent_cache_drop(&pc);
            close(rootfd);
            return -1;
        }
    }
    parent_cache_drop(&pc);
    close(rootfd);
    for (size_t i = 0; i < plan->n; i++) {
        const sb_op *op = &plan->ops[i];
        if (op->kind != SB_OP_TMPFS || !op->ro)
            continue;
        char full[PATH_MAX];
        snprintf(full, sizeof full, "%s%s", newroot, op->dst);
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
        if (mount_setattr(AT_FDCWD, full, AT_SYMLINK_NOFOLLOW, &attr, sizeof attr) != 0)
            return sb_fail(m, errno, "making %s read-only", op->dst);
    }
    /* The root itself read-only (its sub-mounts keep their own flags). */
    if (mount(NULL, newroot, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
              NULL) != 0)
        return sb_fail(m, errno, "making the root read-only");
    if (chdir(newroot) != 0)
        return sb_fail(m, errno, "chdir %s", newroot);
    /* pivot_root(".", "."): the old root ends up stacked under the new one
     * and is detached right away; nothing of the host tree stays reachable. */
    if (syscall(SYS_pivot_root, ".", ".") != 0)
        return sb_fail(m, errno, "pivot_root");
    if (umount2(".", MNT_DETACH) != 0)
        return sb_fail(m, errno, "detaching the old root");
    if (chdir("/") != 0)
        return sb_fail(m, errno, "chdir /");
    return 0;
}
