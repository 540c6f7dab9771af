/* limits.c — limits that are not cgroups: parsing sizes and durations,
 * the rlimits set in the sandbox (backstops, or the fallback when no
 * cgroup is usable), and measuring the disk use of the writable host dirs.
 *
 * Disk: a job's writable dirs are host directories (bind mounts), which no
 * per-directory quota covers without privileges or special file systems.
 * pyti combines three measures: RLIMIT_FSIZE caps every single file at the
 * disk limit; tmpfs mounts inside get size= the limit (ENOSPC, and their
 * use is read with fstatfs on an fd the init passes out); and the parent
 * samples the writable binds (sb_disk_usage) during and after the run and
 * kills the run when the total reaches the limit. docs/sandbox.md lists
 * what this does not catch (space held by unlinked open files between two
 * samples). */
#include "sandbox/sandbox_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

pyti_status sandbox_parse_size(const char *s, uint64_t *out, pyti_error *err)
{
    if (!s || !isdigit((unsigned char)*s))
        return pyti_error_set(err, PYTI_ERR_USAGE, "invalid size '%s' (e.g. 512M, 2G)",
                              s ? s : "");
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return pyti_error_set(err, PYTI_ERR_USAGE, "size '%s' is too large", s);
    unsigned shift = 0;
    switch (toupper((unsigned char)*end)) {
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    case 'T': shift = 40; end++; break;
    default: break;
    }
    if (shift && *end == 'i')
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end)
        return pyti_error_set(err, PYTI_ERR_USAGE, "invalid size '%s' (e.g. 512M, 2G)", s);
    if (shift && v > (UINT64_MAX >> shift))
        return pyti_error_set(err, PYTI_ERR_USAGE, "size '%s' is too large", s);
    *out = (uint64_t)v << shift;
    return PYTI_OK;
}

pyti_status sandbox_parse_duration(const char *s, double *out, pyti_error *err)
{
    if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
        return pyti_error_set(err, PYTI_ERR_USAGE, "invalid duration '%s' (e.g. 30, 1.5, 10m)",
                              s ? s : "");
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s)
        return pyti_error_set(err, PYTI_ERR_USAGE, "invalid duration '%s'", s);
    if (*end == 's')
        end++;
    else if (*end == 'm') {
        v *= 60;
        end++;
    } else if (*end == 'h') {
        v *= 3600;
        end++;
    }
    if (*end || !(v > 0) || !isfinite(v) || v > 1e7)
        return pyti_error_set(err, PYTI_ERR_USAGE,
                              "invalid duration '%s' (a positive number of seconds, "
                              "optionally with s, m or h)", s);
    *out = v;
    return PYTI_OK;
}

static int set_rlimit(int res, uint64_t v, const char *name, sb_msg *m)
{
    struct rlimit rl = {(rlim_t)v, (rlim_t)v};
    struct rlimit cur;
    if (getrlimit(res, &cur) == 0 && cur.rlim_max != RLIM_INFINITY && cur.rlim_max < v)
        rl.rlim_cur = rl.rlim_max = cur.rlim_max; /* can only lower */
    if (setrlimit(res, &rl) != 0)
        return sb_fail(m, errno, "setting %s", name);
    return 0;
}

int sb_child_set_rlimits(const pyti_sandbox_limits *lim, unsigned cg_flags, sb_msg *m)
{
    /* No core files: they would land in the work dir or go to the host's
     * core_pattern handler. */
    if (set_rlimit(RLIMIT_CORE, 0, "RLIMIT_CORE", m) != 0)
        return -1;
    if (lim->disk_bytes && set_rlimit(RLIMIT_FSIZE, lim->disk_bytes, "RLIMIT_FSIZE", m) != 0)
        return -1;
    if (lim->cpu_s > 0) {
        /* Per process; the cgroup (or the parent's sampling) covers the
         * tree. One second of slack so the tree-wide check names it first. */
        uint64_t s = (uint64_t)ceil(lim->cpu_s) + (cg_flags & SB_CG_CPU ? 1 : 0);
        struct rlimit rl = {(rlim_t)s, (rlim_t)s + 1};
        if (setrlimit(RLIMIT_CPU, &rl) != 0)
            return sb_fail(m, errno, "setting RLIMIT_CPU");
    }
    if (lim->memory_bytes && !(cg_flags & SB_CG_MEMORY) &&
        set_rlimit(RLIMIT_AS, lim->memory_bytes, "RLIMIT_AS", m) != 0)
        return -1;
    /* RLIMIT_NPROC counts the processes of the inside uid in the sandbox's
     * own user namespace (ucounts), so it is a per-sandbox limit. */
    if (lim->pids &&
        set_rlimit(RLIMIT_NPROC, cg_flags & SB_CG_PIDS ? lim->pids * 2 + 8 : lim->pids, "RLIMIT_NPROC", m) != 0)
        return -1;
    return 0;
}

/* Sums st_blocks below dirfd (an open directory); false if too deep. */
static bool walk(int dfd, dev_t dev, int depth, uint64_t *bytes)
{
    if (depth > 512)
        return false;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return true;
    }
    bool ok = true;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        *bytes += (uint64_t)st.st_blocks * 512 + 512;
        if (S_ISDIR(st.st_mode) && st.st_dev == dev) {
            int fd = openat(dirfd(d), de->d_name,
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd >= 0 && !walk(fd, dev, depth + 1, bytes)) {
                ok = false;
                break;
            }
        }
    }
    closedir(d);
    return ok;
}

bool sb_disk_usage(const char *path, uint64_t *bytes)
{
    *bytes = 0;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        /* a single file bound writable */
        struct stat st;
        if (stat(path, &st) == 0)
            *bytes = (uint64_t)st.st_blocks * 512;
        return true;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return true;
    }
    return walk(fd, st.st_dev, 0, bytes);
}
