/* etc_cache.c — the sandbox's /etc, prepared once on the host and bound
 * read-only into every sandbox that needs the same one.
 *
 * Why: a plan puts about forty things under /etc (host files copied,
 * passwd, group, hosts and hostname generated, links, small directories).
 * Writing them into each sandbox's tmpfs root was the largest single part
 * of the child's set-up (~0.6 ms of `pyti sandbox -- true`'s ~6 ms on
 * the reference VM, bench/README.md sandbox_start); one read-only bind
 * costs a few microseconds.
 *
 * What a cached directory holds is exactly what the plan would have
 * written, named by a digest of what it is made of: every /etc op of the
 * plan (kind, path, mode, generated text, link target) and, for each host
 * file copied, its device, inode, size, modification and change times. A
 * host file that changes gives a new name, never a stale copy. Entries are
 * built in a private temporary directory and renamed into place, so a
 * reader sees a complete directory or none; two builders racing keep the
 * first; files and directories are synced before the rename, since an
 * entry is never rebuilt (the root may be on disk: /run is not always a
 * tmpfs). The root is sandbox-etc in the runtime directory
 * (runtime_dir.c), owned by pyti's user and writable by no one else;
 * anything unexpected
 * (no such directory, a foreign owner, a failed write, an /etc mount asked
 * for by the caller) leaves the plan as it was: the files are then written
 * into the sandbox's root as before. Entries unused for an hour are
 * removed when a new one is built; an entry's mtime is refreshed when it
 * is used, at most every ten minutes. */
#include "sandbox/sandbox_internal.h"
#include "common/fnv.h"
#include "common/log.h"
#include "common/path.h"
#include "common/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ETC_CACHE_FORMAT "pyti-etc-cache-1"
#define ETC_CACHE_UNUSED_S (60 * 60)
#define ETC_CACHE_TOUCH_S (10 * 60)

static bool is_etc_path(const char *dst)
{
    return strcmp(dst, "/etc") == 0 || strncmp(dst, "/etc/", 5) == 0;
}

/* ---- the digest (FNV-1a, 64 bits: names entries, not an integrity check:
 * the directory is writable only by pyti's own user) ------------------- */

static void mix(uint64_t *h, const void *p, size_t n)
{
    *h = fnv1a(*h, p, n);
}

static void mix_str(uint64_t *h, const char *s)
{
    mix(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

static void mix_u64(uint64_t *h, uint64_t v)
{
    mix(h, &v, sizeof v);
}

/* The contiguous block of /etc ops (from "DIR /etc" on); false when there
 * is none or when another op elsewhere in the plan targets /etc (a mount
 * the caller asked for, which needs a writable /etc to create its mount
 * point). */
static bool find_block(const sb_plan *plan, size_t *first, size_t *end)
{
    size_t i = 0;
    while (i < plan->n && !is_etc_path(plan->ops[i].dst))
        i++;
    if (i == plan->n || plan->ops[i].kind != SB_OP_DIR || strcmp(plan->ops[i].dst, "/etc") != 0)
        return false;
    *first = i;
    while (i < plan->n && is_etc_path(plan->ops[i].dst))
        i++;
    *end = i;
    for (; i < plan->n; i++)
        if (is_etc_path(plan->ops[i].dst))
            return false;
    return true;
}

static bool digest_block(const sb_plan *plan, size_t first, size_t end, uint64_t *out)
{
    uint64_t h = FNV1A_INIT;
    mix_str(&h, ETC_CACHE_FORMAT);
    for (size_t i = first; i < end; i++) {
        const sb_op *op = &plan->ops[i];
        mix_u64(&h, (uint64_t)op->kind);
        mix_str(&h, op->dst);
        mix_u64(&h, (uint64_t)op->mode);
        switch (op->kind) {
        case SB_OP_DIR:
            break;
        case SB_OP_SYMLINK:
            mix_str(&h, op->src);
            break;
        case SB_OP_FILE:
            mix_u64(&h, op->data_len);
            mix(&h, op->data, op->data_len);
            break;
        case SB_OP_COPY: {
            /* the facts the plan just read, else the file's now */
            sb_file_facts facts = op->facts;
            struct stat st;
            mix_str(&h, op->src);
            if (!op->facts_fresh) {
                if (stat(op->src, &st) != 0) {
                    if (!(op->optional && errno == ENOENT))
                        return false;
                    mix_str(&h, "absent");
                    break;
                }
                if (!S_ISREG(st.st_mode))
                    return false;
                sb_file_facts_of(&st, &facts);
            }
            mix(&h, &facts, sizeof facts);
            break;
        }
        case SB_OP_BIND: /* a mount point in the entry; the bind stays in the plan */
            mix_str(&h, op->src);
            break;
        default:
            return false; /* nothing else is planned under /etc */
        }
    }
    *out = h;
    return true;
}

/* ---- building an entry -------------------------------------------------- */

/* Creates name in dirfd with mode (exactly: the umask does not apply) and
 * the given contents, or the contents of host file src. A missing src is
 * ENOENT with nothing created. */
static int make_file(int dirfd, const char *name, mode_t mode, const char *data, size_t len,
                     const char *src)
{
    int in = -1;
    if (src && (in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    int out = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    int rc = out < 0 ? -1 : 0;
    if (rc == 0 && src) {
        char buf[16384];
        ssize_t r;
        size_t total = 0;
        while (rc == 0 && (r = read(in, buf, sizeof buf)) != 0) {
            if (r < 0) {
                if (errno != EINTR)
                    rc = -1;
                continue;
            }
            total += (size_t)r;
            if (total > 4 * 1024 * 1024) {
                errno = EFBIG;
                rc = -1;
            } else {
                rc = sb_write_all(out, buf, (size_t)r);
            }
        }
    } else if (rc == 0) {
        rc = sb_write_all(out, data, len);
    }
    if (rc == 0)
        rc = fchmod(out, mode);
    if (rc == 0) /* an entry is never rebuilt: it must not come back truncated */
        rc = fsync(out);
    int e = errno;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    errno = e;
    return rc;
}

/* Applies one /etc op under rootfd (the entry, standing for /etc). */
static int build_op(int rootfd, const sb_op *op)
{
    const char *rel = op->dst + 4; /* "" for /etc itself, else "/x/y" */
    if (!*rel)
        return fchmod(rootfd, op->mode);
    rel++;
    const char *slash = strrchr(rel, '/');
    int dirfd = rootfd;
    const char *name = rel;
    if (slash) {
        char parent[PATH_MAX];
        size_t len = (size_t)(slash - rel);
        if (len >= sizeof parent) {
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(parent, rel, len);
        parent[len] = '\0';
        dirfd = openat(rootfd, parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dirfd < 0)
            return -1;
        name = slash + 1;
    }
    int rc = 0;
    switch (op->kind) {
    case SB_OP_DIR:
        rc = mkdirat(dirfd, name, 0700);
        if (rc == 0)
            rc = fchmodat(dirfd, name, op->mode, 0);
        break;
    case SB_OP_SYMLINK:
        rc = symlinkat(op->src, dirfd, name);
        break;
    case SB_OP_FILE:
        rc = make_file(dirfd, name, op->mode, op->data, op->data_len, NULL);
        break;
    case SB_OP_COPY:
        rc = make_file(dirfd, name, op->mode, NULL, 0, op->src);
        if (rc != 0 && errno == ENOENT && op->optional)
            rc = 0;
        break;
    case SB_OP_BIND: {
        /* The plan binds only directories under /etc; one missing now
         * still gets its mount point (the entry outlives this moment). */
        struct stat st;
        if (stat(op->src, &st) != 0 || S_ISDIR(st.st_mode)) {
            rc = mkdirat(dirfd, name, 0700);
            if (rc == 0)
                rc = fchmodat(dirfd, name, 0755, 0);
        } else {
            rc = make_file(dirfd, name, 0644, "", 0, NULL);
        }
        break;
    }
    default:
        errno = EINVAL;
        rc = -1;
        break;
    }
    int e = errno;
    if (dirfd != rootfd)
        close(dirfd);
    errno = e;
    return rc;
}

/* Removes entries (and builders' leftovers) unused for an hour. */
static void prune(const char *root, const char *keep)
{
    DIR *d = opendir(root);
    if (!d)
        return;
    time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
            continue;
        if (strcmp(de->d_name, keep) == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            now - st.st_mtime < ETC_CACHE_UNUSED_S)
            continue;
        char *p = xasprintf("%s/%s", root, de->d_name);
        pyti_error err;
        if (path_rmtree(p, &err) != PYTI_OK)
            log_debug("sandbox /etc cache: %s", err.msg);
        free(p);
    }
    closedir(d);
}

static bool build_entry(const sb_plan *plan, size_t first, size_t end, const char *root,
                        const char *name, const char *final)
{
    static unsigned serial; /* builders in several threads get their own dirs */
    char *tmp = xasprintf("%s/.build-%d-%u-%s", root, (int)getpid(),
                          __atomic_fetch_add(&serial, 1, __ATOMIC_RELAXED), name);
    bool ok = false;
    int fd = -1;
    if (mkdir(tmp, 0700) != 0) {
        log_debug("sandbox /etc cache: creating %s: %s", tmp, strerror(errno));
        goto out;
    }
    if ((fd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        goto out;
    for (size_t i = first; i < end; i++) {
        if (build_op(fd, &plan->ops[i]) != 0) {
            log_debug("sandbox /etc cache: %s: %s", plan->ops[i].dst, strerror(errno));
            goto out;
        }
    }
    /* The directories' entries too, before the entry gets its name. */
    for (size_t i = first; i < end; i++) {
        const sb_op *op = &plan->ops[i];
        if (op->kind != SB_OP_DIR)
            continue;
        int d = op->dst[4] ? openat(fd, op->dst + 5, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                                         O_CLOEXEC)
                           : dup(fd);
        int rc = d < 0 ? -1 : fsync(d);
        if (d >= 0)
            close(d);
        if (rc != 0) {
            log_debug("sandbox /etc cache: syncing %s: %s", op->dst, strerror(errno));
            goto out;
        }
    }
    if (rename(tmp, final) != 0 && errno != ENOTEMPTY && errno != EEXIST) {
        log_debug("sandbox /etc cache: renaming to %s: %s", final, strerror(errno));
        goto out;
    }
    ok = true; /* ours, or an identical one another builder put there first */
    prune(root, name);
out:
    if (fd >= 0)
        close(fd);
    pyti_error err;
    if (path_exists(tmp) && path_rmtree(tmp, &err) != PYTI_OK)
        log_debug("sandbox /etc cache: %s", err.msg);
    free(tmp);
    return ok;
}

/* Opens the entry if it is there and trusted; refreshes its mtime when it
 * has not been for a while (pruning goes by it). */
static bool entry_ready(const char *final)
{
    struct stat st;
    if (lstat(final, &st) != 0 || !sb_trusted_dir(&st))
        return false;
    if (time(NULL) - st.st_mtime > ETC_CACHE_TOUCH_S)
        (void)utimensat(AT_FDCWD, final, NULL, AT_SYMLINK_NOFOLLOW);
    return true;
}

/* Replaces the block [first, end) by a read-only bind of entry at /etc,
 * followed by the block's own binds (their mount points are in the entry). */
static void rewrite_plan(sb_plan *plan, size_t first, size_t end, const char *entry)
{
    sb_op etc = {
        .kind = SB_OP_BIND,
        .src = xstrdup(entry),
        .dst = xstrdup("/etc"),
        .ro = true,
        .mode = 0755,
        .tree_fd = -1,
    };
    size_t out = first;
    sb_op *binds = xcalloc(end - first, sizeof *binds);
    size_t n_binds = 0;
    for (size_t i = first; i < end; i++) {
        sb_op *op = &plan->ops[i];
        if (op->kind == SB_OP_BIND) {
            binds[n_binds++] = *op;
            continue;
        }
        free(op->src);
        free(op->dst);
        free(op->data);
    }
    plan->ops[out++] = etc;
    for (size_t i = 0; i < n_binds; i++)
        plan->ops[out++] = binds[i];
    free(binds);
    memmove(&plan->ops[out], &plan->ops[end], (plan->n - end) * sizeof *plan->ops);
    plan->n = out + (plan->n - end);
}

bool sb_etc_cache_use(sb_plan *plan, const char *root)
{
    size_t first, end;
    uint64_t key;
    struct stat st;
    if (!root || !find_block(plan, &first, &end) || !digest_block(plan, first, end, &key))
        return false;
    if (lstat(root, &st) != 0 || !sb_trusted_dir(&st))
        return false;
    char name[32];
    snprintf(name, sizeof name, "%016llx", (unsigned long long)key);
    char *final = xasprintf("%s/%s", root, name);
    bool ok = entry_ready(final) ||
              (build_entry(plan, first, end, root, name, final) && entry_ready(final));
    if (ok)
        rewrite_plan(plan, first, end, final);
    free(final);
    return ok;
}

static char *default_root;

static void decide_default_root(void)
{
    default_root = sb_runtime_subdir("sandbox-etc");
}

const char *sb_etc_cache_default_root(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT; /* workers start sandboxes from threads */
    pthread_once(&once, decide_default_root);
    return default_root;
}
