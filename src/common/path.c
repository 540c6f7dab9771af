/* path.c — file-system helpers (see path.h). */
#include "common/path.h"
#include "common/xalloc.h"
#include "common/str.h"
#include "pyti_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *path_join(const char *a, const char *b)
{
    if (!*a)
        return xstrdup(b);
    size_t la = strlen(a);
    while (*b == '/')
        b++;
    if (la && a[la - 1] == '/')
        return xasprintf("%s%s", a, b);
    return xasprintf("%s/%s", a, b);
}

const char *path_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

char *path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

bool path_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

bool path_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool path_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

pyti_status path_mkdirs(const char *path, mode_t mode, pyti_error *err)
{
    char *copy = xstrdup(path);
    for (char *p = copy + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(copy, mode) != 0 && errno != EEXIST) {
                pyti_error_errno(err, PYTI_ERR_IO, errno, "creating directory %s", copy);
                free(copy);
                return PYTI_ERR_IO;
            }
            *p = saved;
            if (!saved)
                break;
        }
    }
    free(copy);
    if (!path_is_dir(path))
        return pyti_error_set(err, PYTI_ERR_IO, "%s exists and is not a directory", path);
    return PYTI_OK;
}

/* Removes everything inside the directory open at dfd (which it closes). */
static pyti_status rmtree_at(int dfd, const char *shown, pyti_error *err)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return pyti_error_errno(err, PYTI_ERR_IO, errno, "reading directory %s", shown);
    }
    pyti_status rc = PYTI_OK;
    struct dirent *de;
    while (rc == PYTI_OK && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            /* A directory may be unreadable (mode 0); make it usable first. */
            fchmodat(dirfd(d), de->d_name, 0700, 0);
            int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "opening %s/%s", shown, de->d_name);
                break;
            }
            char *child = path_join(shown, de->d_name);
            rc = rmtree_at(sub, child, err);
            free(child);
            if (rc == PYTI_OK && unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) != 0)
                rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "removing %s/%s", shown, de->d_name);
        } else if (unlinkat(dirfd(d), de->d_name, 0) != 0 && errno != ENOENT) {
            rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "removing %s/%s", shown, de->d_name);
        }
    }
    closedir(d);
    return rc;
}

pyti_status path_rmtree(const char *path, pyti_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? PYTI_OK
                               : pyti_error_errno(err, PYTI_ERR_IO, errno, "inspecting %s", path);
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) != 0)
            return pyti_error_errno(err, PYTI_ERR_IO, errno, "removing %s", path);
        return PYTI_OK;
    }
    chmod(path, 0700);
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return pyti_error_errno(err, PYTI_ERR_IO, errno, "opening %s", path);
    pyti_status rc = rmtree_at(dfd, path, err);
    if (rc == PYTI_OK && rmdir(path) != 0)
        return pyti_error_errno(err, PYTI_ERR_IO, errno, "removing %s", path);
    return rc;
}

char *path_mkdtemp(const char *parent, const char *prefix, pyti_error *err)
{
    if (!parent) {
        parent = getenv("TMPDIR");
        if (!parent || !*parent)
            parent = "/tmp";
    }
    char *tmpl = xasprintf("%s/%sXXXXXX", parent, prefix);
    if (!mkdtemp(tmpl)) {
        pyti_error_errno(err, PYTI_ERR_IO, errno, "creating a temporary directory in %s", parent);
        free(tmpl);
        return NULL;
    }
    return tmpl;
}

pyti_status path_read_file(const char *path, size_t max, pyti_buf *out, pyti_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pyti_error_errno(err, errno == ENOENT ? PYTI_ERR_NOTFOUND : PYTI_ERR_IO, errno,
                                "opening %s", path);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return pyti_error_set(err, PYTI_ERR_IO, "%s is not a regular file", path);
    }
    size_t total = 0;
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            return pyti_error_errno(err, PYTI_ERR_IO, e, "reading %s", path);
        }
        if (n == 0)
            break;
        total += (size_t)n;
        if (max && total > max) {
            close(fd);
            return pyti_error_set(err, PYTI_ERR_LIMIT, "%s is larger than the limit of %zu bytes",
                                  path, max);
        }
        buf_append(out, chunk, (size_t)n);
    }
    close(fd);
    return PYTI_OK;
}

static pyti_status write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return PYTI_ERR_IO;
        }
        p += n;
        len -= (size_t)n;
    }
    return PYTI_OK;
}

static pyti_status write_file(const char *path, const void *data, size_t len, bool durable,
                              pyti_error *err)
{
    char *dir = path_dirname(path);
    char *tmp = xasprintf("%s/.%s.tmpXXXXXX", dir, path_basename(path));
    free(dir);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        pyti_error_errno(err, PYTI_ERR_IO, errno, "creating a temporary file for %s", path);
        free(tmp);
        return PYTI_ERR_IO;
    }
    int e = 0;
    if (write_all(fd, data, len) != PYTI_OK || (durable && fsync(fd) != 0))
        e = errno ? errno : EIO;
    fchmod(fd, 0644);
    if (close(fd) != 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) != 0)
        e = errno;
    if (e) {
        unlink(tmp);
        free(tmp);
        return pyti_error_errno(err, PYTI_ERR_IO, e, "writing %s", path);
    }
    free(tmp);
    return PYTI_OK;
}

pyti_status path_write_file_atomic(const char *path, const void *data, size_t len,
                                   pyti_error *err)
{
    return write_file(path, data, len, true, err);
}

pyti_status path_write_file_scratch(const char *path, const void *data, size_t len,
                                    pyti_error *err)
{
    return write_file(path, data, len, false, err);
}

static char *xdg_dir(const char *env, const char *fallback)
{
    const char *v = getenv(env);
    if (v && v[0] == '/')
        return xstrdup(v);
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw && pw->pw_dir ? pw->pw_dir : "/";
    }
    return path_join(home, fallback);
}

char *path_xdg_data_home(void) { return xdg_dir("XDG_DATA_HOME", ".local/share"); }
char *path_xdg_config_home(void) { return xdg_dir("XDG_CONFIG_HOME", ".config"); }
char *path_xdg_cache_home(void) { return xdg_dir("XDG_CACHE_HOME", ".cache"); }

const char *path_pyti_datadir(void)
{
    static char resolved[PATH_MAX];
    if (resolved[0])
        return resolved;
    const char *env = getenv("PYTI_DATA_DIR");
    if (env && *env) {
        snprintf(resolved, sizeof resolved, "%s", env);
        return resolved;
    }
    /* Running from the build tree (not installed): use the source tree, so
     * that a fresh checkout works without `meson install`. */
    char exe[PATH_MAX], build[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0 && realpath(PYTI_BUILD_ROOT, build)) {
        exe[n] = '\0';
        size_t lb = strlen(build);
        if (strncmp(exe, build, lb) == 0 && exe[lb] == '/') {
            snprintf(resolved, sizeof resolved, "%s", PYTI_SOURCE_ROOT);
            return resolved;
        }
    }
    snprintf(resolved, sizeof resolved, "%s", PYTI_INSTALL_DATADIR);
    return resolved;
}
