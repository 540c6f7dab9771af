/* cgroup.c — control groups for sandbox runs: finding a usable hierarchy
 * (cgroup v2 where it is mounted with the controllers, v1 otherwise),
 * making a pyti parent cgroup once, one child cgroup per run with memory
 * and pids limits, placing the run's init in it, sampling usage (peak
 * memory, CPU, pids-limit hits, OOM kills), killing everything in it, and
 * removing it.
 *
 * v2: as root, <cgroup2 mount>/pyti with memory, pids and cpu enabled;
 * as an ordinary user, the user's own (delegated) cgroup, moving pyti
 * itself into a leaf "pyti-self" if its cgroup holds processes (the
 * no-internal-processes rule). v1: <mount>/<pyti's own path>/pyti in the
 * memory, pids, cpuacct and freezer hierarchies (needs write access:
 * root). Without either, version 0: limits fall back to rlimits and
 * pyti says so at start-up. */
#include "sandbox/sandbox_internal.h"
#include "common/buf.h"
#include "common/path.h"
#include "common/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { V1_MEMORY, V1_PIDS, V1_CPUACCT, V1_FREEZER };
static const char *const v1_names[] = {"memory", "pids", "cpuacct", "freezer"};

static bool read_small(const char *path, char *out, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t len = 0;
    ssize_t n;
    while (len + 1 < size && (n = read(fd, out + len, size - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    out[len] = '\0';
    return true;
}

static bool write_str(const char *dir, const char *file, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t len = strlen(text);
    bool ok = write(fd, text, len) == (ssize_t)len;
    close(fd);
    return ok;
}

static bool read_u64(const char *dir, const char *file, uint64_t *out)
{
    char path[PATH_MAX], buf[64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (!read_small(path, buf, sizeof buf))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || end == buf)
        return false;
    *out = v;
    return true;
}

/* Value of "key N" in a flat keyed file (memory.events, cpu.stat...). */
static bool read_key(const char *dir, const char *file, const char *key, uint64_t *out)
{
    char path[PATH_MAX], buf[2048];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (!read_small(path, buf, sizeof buf))
        return false;
    size_t kl = strlen(key);
    for (char *line = buf; line && *line; ) {
        char *nl = strchr(line, '\n');
        if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
            *out = strtoull(line + kl + 1, NULL, 10);
            return true;
        }
        line = nl ? nl + 1 : NULL;
    }
    return false;
}

char *sb_cgroup_parse_self(const char *text, const char *ctl)
{
    /* lines: "hierarchy-id:controller-list:path" */
    const char *line = text;
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        const char *c1 = memchr(line, ':', len);
        const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
        if (c1 && c2) {
            size_t cl = (size_t)(c2 - c1 - 1);
            const char *path = c2 + 1;
            size_t pl = len - (size_t)(path - line);
            if (!ctl) {
                if (cl == 0 && c1 - line == 1 && line[0] == '0')
                    return xstrndup(path, pl);
            } else {
                /* controller lists are comma-separated ("cpu,cpuacct") */
                const char *p = c1 + 1;
                size_t ctll = strlen(ctl);
                while (p < c2) {
                    const char *comma = memchr(p, ',', (size_t)(c2 - p));
                    const char *e = comma ? comma : c2;
                    if ((size_t)(e - p) == ctll && strncmp(p, ctl, ctll) == 0)
                        return xstrndup(path, pl);
                    p = e + 1;
                }
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return NULL;
}

char *sb_cgroup_parse_mountinfo(const char *text, const char *ctl)
{
    /* "36 25 0:31 / /sys/fs/cgroup/memory rw,... shared:14 - cgroup cgroup rw,memory" */
    const char *line = text;
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char *l = xstrndup(line, len);
        char *fields[6] = {0};
        char *save = NULL, *tok = strtok_r(l, " ", &save);
        for (int i = 0; tok && i < 6; i++) {
            fields[i] = tok;
            tok = i < 5 ? strtok_r(NULL, " ", &save) : NULL;
        }
        /* The fs type, source and super options follow " - ". */
        const char *sep = strstr(line, " - ");
        char *result = NULL;
        if (fields[4] && sep && sep < line + len) {
            char *after = xstrndup(sep + 3, len - (size_t)(sep + 3 - line));
            char *s2 = NULL;
            char *fstype = strtok_r(after, " ", &s2);
            char *source = fstype ? strtok_r(NULL, " ", &s2) : NULL;
            char *opts = source ? strtok_r(NULL, " ", &s2) : NULL;
            if (fstype && !ctl && strcmp(fstype, "cgroup2") == 0) {
                result = xstrdup(fields[4]);
            } else if (fstype && ctl && opts && strcmp(fstype, "cgroup") == 0) {
                char *s3 = NULL;
                for (char *o = strtok_r(opts, ",", &s3); o; o = strtok_r(NULL, ",", &s3))
                    if (strcmp(o, ctl) == 0)
                        result = xstrdup(fields[4]);
            }
            free(after);
        }
        free(l);
        if (result)
            return result;
        line = nl ? nl + 1 : NULL;
    }
    return NULL;
}

static bool has_word(const char *list, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += wl)
        if ((p == list || p[-1] == ' ') && (p[wl] == ' ' || p[wl] == '\n' || p[wl] == '\0'))
            return true;
    return false;
}

static sb_cgroup_info info;
static bool detected;

/* Enables each controller on its own: a write naming one the parent
 * lacks fails as a whole. True if memory and pids are enabled. */
static bool enable_controllers(const char *dir)
{
    static const char *const ctl[] = {"+memory", "+pids", "+cpu"};
    bool ok = true;
    for (int i = 0; i < 3; i++)
        if (!write_str(dir, "cgroup.subtree_control", ctl[i]) && i < 2)
            ok = false;
    return ok;
}

/* Removes run cgroups left by pyti processes that died (best effort). */
static void remove_stale(const char *base)
{
    DIR *d = opendir(base);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        int pid = 0;
        if (sscanf(de->d_name, "run-%d-", &pid) == 1 && pid > 0 && pid != getpid() &&
            kill(pid, 0) != 0 && errno == ESRCH) {
            char *p = path_join(base, de->d_name);
            (void)rmdir(p);
            free(p);
        }
    }
    closedir(d);
}

static bool try_v2(const char *mp, const char *self)
{
    char ctl[512];
    char *cpath = xasprintf("%s/cgroup.controllers", mp);
    bool ok = read_small(cpath, ctl, sizeof ctl);
    free(cpath);
    if (!ok || !has_word(ctl, "memory") || !has_word(ctl, "pids")) {
        snprintf(info.note, sizeof info.note,
                 "cgroup2 at %s has no memory/pids controllers (hybrid set-up)", mp);
        return false;
    }
    char *base;
    if (geteuid() == 0) {
        (void)enable_controllers(mp);
        base = xasprintf("%s/pyti", mp);
        if (mkdir(base, 0755) != 0 && errno != EEXIST) {
            snprintf(info.note, sizeof info.note, "cannot create %s: %s", base, strerror(errno));
            free(base);
            return false;
        }
    } else {
        /* The user's own cgroup, if delegated to them. */
        base = xasprintf("%s%s", mp, self ? self : "/");
        char *cc = xasprintf("%s/cgroup.controllers", base);
        ok = read_small(cc, ctl, sizeof ctl) && has_word(ctl, "memory") && has_word(ctl, "pids");
        free(cc);
        if (!ok || access(base, W_OK) != 0) {
            snprintf(info.note, sizeof info.note, "cgroup %s is not delegated to this user",
                     base);
            free(base);
            return false;
        }
        if (!enable_controllers(base) && errno == EBUSY) {
            /* Processes live in our cgroup: move pyti into a leaf first. */
            char *leaf = xasprintf("%s/pyti-self", base);
            char pid[32];
            snprintf(pid, sizeof pid, "%d", (int)getpid());
            (void)mkdir(leaf, 0755);
            ok = write_str(leaf, "cgroup.procs", pid) && enable_controllers(base);
            free(leaf);
            if (!ok) {
                snprintf(info.note, sizeof info.note,
                         "cannot enable memory and pids controllers in %s", base);
                free(base);
                return false;
            }
        }
    }
    (void)enable_controllers(base);
    char sub[512];
    char *sc = xasprintf("%s/cgroup.subtree_control", base);
    ok = read_small(sc, sub, sizeof sub);
    free(sc);
    if (!ok || !has_word(sub, "memory") || !has_word(sub, "pids")) {
        snprintf(info.note, sizeof info.note, "cannot enable memory and pids in %s", base);
        free(base);
        return false;
    }
    info.version = 2;
    info.v2_base = base;
    info.memory = info.pids = true;
    info.cpu = true; /* cpu.stat exists in every v2 cgroup */
    char *kill_path = xasprintf("%s/cgroup.kill", base);
    info.kill = access(kill_path, F_OK) == 0;
    free(kill_path);
    return true;
}

static void try_v1(const char *mountinfo, const char *self)
{
    for (int i = 0; i < 4; i++) {
        char *mp = sb_cgroup_parse_mountinfo(mountinfo, v1_names[i]);
        char *own = sb_cgroup_parse_self(self, v1_names[i]);
        if (mp && own) {
            char *base = xasprintf("%s%s%spyti", mp, own, own[strlen(own) - 1] == '/' ? "" : "/");
            if (mkdir(base, 0755) == 0 || errno == EEXIST) {
                if (access(base, W_OK) == 0) {
                    info.v1_base[i] = base;
                    base = NULL;
                }
            }
            free(base);
        }
        free(mp);
        free(own);
    }
    if (!info.v1_base[V1_MEMORY] || !info.v1_base[V1_PIDS]) {
        char v2note[160];
        snprintf(v2note, sizeof v2note, "%.150s%s", info.note, info.note[0] ? "; " : "");
        snprintf(info.note, sizeof info.note, "%sno writable cgroup v1 memory and pids%s",
                 v2note, geteuid() == 0 ? "" : " (not root)");
        for (int i = 0; i < 4; i++) {
            free(info.v1_base[i]);
            info.v1_base[i] = NULL;
        }
        return;
    }
    info.version = 1;
    info.memory = info.pids = true;
    info.cpu = info.v1_base[V1_CPUACCT] != NULL;
    info.kill = info.v1_base[V1_FREEZER] != NULL;
    info.note[0] = '\0';
}

void sb_cgroup_sweep_stale(void)
{
    static bool swept;
    if (swept)
        return;
    swept = true;
    const sb_cgroup_info *ci = sb_cgroup_detect();
    if (ci->version == 2)
        remove_stale(ci->v2_base);
    for (int i = 0; ci->version == 1 && i < 4; i++)
        if (ci->v1_base[i])
            remove_stale(ci->v1_base[i]);
}

const sb_cgroup_info *sb_cgroup_detect(void)
{
    if (detected)
        return &info;
    detected = true;
    pyti_buf mi = PYTI_BUF_INIT, self = PYTI_BUF_INIT;
    if (path_read_file("/proc/self/mountinfo", 1 << 20, &mi, NULL) != PYTI_OK ||
        path_read_file("/proc/self/cgroup", 1 << 16, &self, NULL) != PYTI_OK) {
        snprintf(info.note, sizeof info.note, "cannot read /proc/self/mountinfo or cgroup");
        buf_free(&mi);
        buf_free(&self);
        return &info;
    }
    char *mp2 = sb_cgroup_parse_mountinfo(buf_cstr(&mi), NULL);
    char *self2 = sb_cgroup_parse_self(buf_cstr(&self), NULL);
    bool v2 = mp2 && try_v2(mp2, self2);
    if (!mp2)
        snprintf(info.note, sizeof info.note, "no cgroup2 mount");
    if (!v2)
        try_v1(buf_cstr(&mi), buf_cstr(&self));
    free(mp2);
    free(self2);
    buf_free(&mi);
    buf_free(&self);
    return &info;
}

pyti_status sb_cgroup_create(sb_cgroup *cg, const pyti_sandbox_limits *lim, pyti_error *err)
{
    static unsigned counter;
    const sb_cgroup_info *ci = sb_cgroup_detect();
    memset(cg, 0, sizeof *cg);
    cg->version = ci->version;
    if (ci->version == 0)
        return PYTI_OK;
    char name[64], num[32];
    snprintf(name, sizeof name, "run-%d-%u", (int)getpid(), ++counter);
    if (ci->version == 2) {
        cg->v2_dir = path_join(ci->v2_base, name);
        if (mkdir(cg->v2_dir, 0755) != 0) {
            pyti_error_errno(err, PYTI_ERR_INTERNAL, errno, "sandbox: creating cgroup %s",
                             cg->v2_dir);
            free(cg->v2_dir);
            cg->v2_dir = NULL;
            return PYTI_ERR_INTERNAL;
        }
        if (lim->memory_bytes) {
            snprintf(num, sizeof num, "%" PRIu64, lim->memory_bytes);
            if (!write_str(cg->v2_dir, "memory.max", num))
                goto fail_v2;
            (void)write_str(cg->v2_dir, "memory.swap.max", "0");
        }
        if (lim->pids) {
            snprintf(num, sizeof num, "%" PRIu64, lim->pids);
            if (!write_str(cg->v2_dir, "pids.max", num))
                goto fail_v2;
        }
        cg->memory = cg->pids = cg->cpu = true;
        return PYTI_OK;
    fail_v2:
        pyti_error_errno(err, PYTI_ERR_INTERNAL, errno, "sandbox: setting limits of cgroup %s",
                         cg->v2_dir);
        sb_cgroup_destroy(cg);
        return PYTI_ERR_INTERNAL;
    }
    char **dirs[4] = {&cg->mem_dir, &cg->pids_dir, &cg->cpu_dir, &cg->freezer_dir};
    for (int i = 0; i < 4; i++) {
        if (!ci->v1_base[i])
            continue;
        *dirs[i] = path_join(ci->v1_base[i], name);
        if (mkdir(*dirs[i], 0755) != 0) {
            pyti_error_errno(err, PYTI_ERR_INTERNAL, errno, "sandbox: creating cgroup %s",
                             *dirs[i]);
            free(*dirs[i]);
            *dirs[i] = NULL;
            sb_cgroup_destroy(cg);
            return PYTI_ERR_INTERNAL;
        }
    }
    if (lim->memory_bytes) {
        snprintf(num, sizeof num, "%" PRIu64, lim->memory_bytes);
        if (!write_str(cg->mem_dir, "memory.limit_in_bytes", num)) {
            pyti_error_errno(err, PYTI_ERR_INTERNAL, errno, "sandbox: memory limit in %s",
                             cg->mem_dir);
            sb_cgroup_destroy(cg);
            return PYTI_ERR_INTERNAL;
        }
        /* No escaping the limit into swap, where swap accounting exists. */
        (void)write_str(cg->mem_dir, "memory.memsw.limit_in_bytes", num);
    }
    if (lim->pids) {
        snprintf(num, sizeof num, "%" PRIu64, lim->pids);
        if (!write_str(cg->pids_dir, "pids.max", num)) {
            pyti_error_errno(err, PYTI_ERR_INTERNAL, errno, "sandbox: pids limit in %s",
                             cg->pids_dir);
            sb_cgroup_destroy(cg);
            return PYTI_ERR_INTERNAL;
        }
    }
    cg->memory = cg->pids = true;
    cg->cpu = cg->cpu_dir != NULL;
    return PYTI_OK;
}

pyti_status sb_cgroup_attach(const sb_cgroup *cg, pid_t pid, pyti_error *err)
{
    char num[32];
    snprintf(num, sizeof num, "%d", (int)pid);
    const char *dirs[4] = {cg->v2_dir, NULL, NULL, NULL};
    if (cg->version == 1) {
        dirs[0] = cg->mem_dir;
        dirs[1] = cg->pids_dir;
        dirs[2] = cg->cpu_dir;
        dirs[3] = cg->freezer_dir;
    }
    for (int i = 0; i < 4; i++) {
        if (dirs[i] && !write_str(dirs[i], "cgroup.procs", num))
            return pyti_error_errno(err, PYTI_ERR_INTERNAL, errno,
                                    "sandbox: moving pid %d into cgroup %s", (int)pid, dirs[i]);
    }
    return PYTI_OK;
}

void sb_cgroup_sample(const sb_cgroup *cg, uint64_t *peak, uint64_t *user_ns, uint64_t *sys_ns,
                      uint64_t *pids_max_hits, uint64_t *oom_kills)
{
    uint64_t v;
    if (cg->version == 2) {
        if (read_u64(cg->v2_dir, "memory.peak", &v) ||
            (read_u64(cg->v2_dir, "memory.current", &v) && v > *peak))
            *peak = v > *peak ? v : *peak;
        if (read_key(cg->v2_dir, "cpu.stat", "user_usec", &v))
            *user_ns = v * 1000;
        if (read_key(cg->v2_dir, "cpu.stat", "system_usec", &v))
            *sys_ns = v * 1000;
        if (read_key(cg->v2_dir, "pids.events", "max", &v))
            *pids_max_hits = v;
        if (read_key(cg->v2_dir, "memory.events", "oom_kill", &v))
            *oom_kills = v;
    } else if (cg->version == 1) {
        if (cg->mem_dir && read_u64(cg->mem_dir, "memory.max_usage_in_bytes", &v))
            *peak = v;
        if (cg->mem_dir && read_key(cg->mem_dir, "memory.oom_control", "oom_kill", &v))
            *oom_kills = v;
        if (cg->cpu_dir) {
            if (read_u64(cg->cpu_dir, "cpuacct.usage_user", &v))
                *user_ns = v;
            if (read_u64(cg->cpu_dir, "cpuacct.usage_sys", &v))
                *sys_ns = v;
        }
        if (cg->pids_dir && read_key(cg->pids_dir, "pids.events", "max", &v))
            *pids_max_hits = v;
    }
}

/* Sends SIGKILL to every pid listed in dir/cgroup.procs; returns how many. */
static int kill_listed(const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    int n = 0, pid;
    while (fscanf(f, "%d", &pid) == 1) {
        if (pid > 0 && kill(pid, SIGKILL) == 0)
            n++;
    }
    fclose(f);
    return n;
}

void sb_cgroup_kill(const sb_cgroup *cg)
{
    if (cg->version == 2) {
        if (!write_str(cg->v2_dir, "cgroup.kill", "1"))
            for (int i = 0; i < 10 && kill_listed(cg->v2_dir) > 0; i++)
                ;
    } else if (cg->version == 1) {
        /* Freeze first so nothing can fork while we kill. */
        bool frozen = cg->freezer_dir && write_str(cg->freezer_dir, "freezer.state", "FROZEN");
        const char *dir = cg->freezer_dir ? cg->freezer_dir : cg->pids_dir;
        for (int i = 0; i < 10 && dir && kill_listed(dir) > 0; i++)
            ;
        if (frozen)
            (void)write_str(cg->freezer_dir, "freezer.state", "THAWED");
    }
}

static void remove_dir(char **dir)
{
    if (!*dir)
        return;
    for (int i = 0; i < 200; i++) {
        if (rmdir(*dir) == 0 || errno == ENOENT)
            break;
        if (errno != EBUSY)
            break;
        struct timespec ts = {0, 1000 * 1000}; /* tasks still exiting */
        nanosleep(&ts, NULL);
    }
    free(*dir);
    *dir = NULL;
}

void sb_cgroup_destroy(sb_cgroup *cg)
{
    remove_dir(&cg->v2_dir);
    remove_dir(&cg->mem_dir);
    remove_dir(&cg->pids_dir);
    remove_dir(&cg->cpu_dir);
    remove_dir(&cg->freezer_dir);
    cg->version = 0;
}
