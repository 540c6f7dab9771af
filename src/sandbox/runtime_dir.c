/* runtime_dir.c — where the sandbox keeps what it prepares once and reuses
 * across runs and processes (the prepared /etc of etc_cache.c, the
 * compiled seccomp programs of filter_cache.c): /run/pyti as root; as a
 * user $XDG_RUNTIME_DIR/pyti, else $XDG_CACHE_HOME/pyti (or ~/.cache/pyti).
 *
 * What is kept there decides what package code can do, so it is used only
 * while pyti's own user owns it and no one else may write it; when the
 * directory cannot be made or fails that check, the callers fall back to
 * doing the work at every run. */
#include "sandbox/sandbox_internal.h"
#include "common/log.h"
#include "common/path.h"
#include "common/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool sb_trusted_dir(const struct stat *st)
{
    return S_ISDIR(st->st_mode) && st->st_uid == geteuid() && !(st->st_mode & 022);
}

static char *runtime_root;

static void decide(void)
{
    char *base = NULL;
    if (geteuid() == 0) {
        base = xstrdup("/run/pyti");
    } else {
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        if (xdg && xdg[0] == '/') {
            base = xasprintf("%s/pyti", xdg);
        } else {
            char *cache = path_xdg_cache_home();
            if (cache && cache[0] == '/')
                base = xasprintf("%s/pyti", cache);
            free(cache);
        }
    }
    runtime_root = base;
}

char *sb_runtime_subdir(const char *name)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT; /* workers start sandboxes from threads */
    pthread_once(&once, decide);
    if (!runtime_root)
        return NULL;
    char *dir = xasprintf("%s/%s", runtime_root, name);
    pyti_error err;
    struct stat st;
    /* mkdir -p; owner and mode are checked here and again at every use */
    if (path_mkdirs(dir, 0755, &err) != PYTI_OK) {
        log_debug("sandbox: %s unused: %s", dir, err.msg);
    } else if (lstat(dir, &st) != 0 || !sb_trusted_dir(&st)) {
        log_debug("sandbox: %s unused: not pyti's own or writable by others", dir);
    } else {
        return dir;
    }
    free(dir);
    return NULL;
}
