/* filter_cache.c — the sandbox's two standard seccomp programs (with and
 * without the behaviour tracer's calls), compiled by libseccomp once and
 * kept in the runtime directory (runtime_dir.c) for the processes that
 * follow.
 *
 * Why: compiling the rule tables takes libseccomp ~0.3 ms of CPU, which
 * every `pyti sandbox` process paid again (~5% of `pyti sandbox -- true`,
 * bench/README.md sandbox_start). Reading the kept program is one small
 * file.
 *
 * A kept program is named by what made it: SB_FILTER_SOURCES (a build-time
 * digest of the rule tables and the code that compiles them,
 * scripts/source-digest), libseccomp's version and the API level it found
 * in the kernel, and which of the two it is. It is written to a private
 * temporary file, synced and renamed into place, and read back only if
 * pyti's user owns it, no one else may write it, and its size is a whole
 * number of BPF instructions within the kernel's limit; anything else
 * compiles the program as before (and nothing is kept). */
#include "sandbox/sandbox_internal.h"
#include "sandbox/filter_sources.h"
#include "common/log.h"
#include "common/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *cache_dir;

static void decide_dir(void)
{
    cache_dir = sb_runtime_subdir("sandbox-filters");
}

/* "<dir>/<sources>-<libseccomp x.y.z>-api<n>-<plain|tracer>.bpf" */
char *sb_filter_program_path(bool tracer)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, decide_dir);
    if (!cache_dir)
        return NULL;
    const struct scmp_version *v = seccomp_version();
    return xasprintf("%s/%07x-%u.%u.%u-api%u-%s.bpf", cache_dir, (unsigned)SB_FILTER_SOURCES,
                     v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0, seccomp_api_get(),
                     tracer ? "tracer" : "plain");
}

static bool read_program(const char *path, sb_filter *f)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
              !(st.st_mode & 022) && st.st_size > 0 &&
              st.st_size % (off_t)sizeof(struct sock_filter) == 0 &&
              st.st_size <= (off_t)(BPF_MAXINSNS * sizeof(struct sock_filter));
    struct sock_filter *insns = NULL;
    if (ok) {
        insns = xmalloc((size_t)st.st_size);
        ok = read(fd, insns, (size_t)st.st_size) == (ssize_t)st.st_size;
    }
    close(fd);
    if (!ok) {
        free(insns);
        return false;
    }
    f->prog.len = (unsigned short)((size_t)st.st_size / sizeof(struct sock_filter));
    f->prog.filter = insns;
    return true;
}

/* Programs of other builds (or libseccomp versions) unchanged for an hour
 * go when a new one is kept. A reader that loses one compiles instead. */
static void prune(const char *kept)
{
    DIR *d = opendir(cache_dir);
    if (!d)
        return;
    const char *own = strrchr(kept, '/') + 1;
    time_t now = time(NULL);
    struct dirent *de;
    struct stat st;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, own) == 0)
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            now - st.st_mtime > 60 * 60)
            (void)unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
}

static void keep_program(const char *path, const sb_filter *f)
{
    char *tmp = xasprintf("%s.%d.tmp", path, (int)getpid());
    size_t len = f->prog.len * sizeof(struct sock_filter);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && sb_write_all(fd, (const char *)f->prog.filter, len) == 0 &&
              fchmod(fd, 0644) == 0 && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    if (ok)
        ok = rename(tmp, path) == 0;
    if (!ok) {
        log_debug("sandbox: keeping the seccomp program in %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    prune(path);
}

pyti_status sb_filter_standard(bool tracer, sb_filter *f, pyti_error *err)
{
    memset(f, 0, sizeof *f);
    char *path = sb_filter_program_path(tracer);
    if (path && read_program(path, f)) {
        free(path);
        return PYTI_OK;
    }
    pyti_status st = sb_filter_build(NULL, tracer, f, err);
    if (st == PYTI_OK && path)
        keep_program(path, f);
    free(path);
    return st;
}
