/* wheelhouse.c — building the local wheelhouse (see wheelhouse.h). */
#include "exec/wheelhouse.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "pkg/wheelpack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

/* The PEP 517 backends Debian 12 ships and what they need at build time. */
static const char *const default_names[] = {
    "flit-core", "hatchling", "packaging", "pathspec", "pluggy", "trove-classifiers",
    "poetry-core", "setuptools-scm", "typing-extensions", "tomli", "editables",
    "calver", "hatch-vcs", "hatch-fancy-pypi-readme", "pdm-backend", "scikit-build-core",
    "cython", NULL,
};

const char *const *wheelhouse_default_names(void) { return default_names; }

char *wheelhouse_default_dir(void)
{
    char *data = path_xdg_data_home();
    char *dir = xasprintf("%s/pyti/wheelhouse", data);
    free(data);
    return dir;
}

static pyti_status copy_file(const char *from, const char *to, pyti_error *err)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return pyti_error_errno(err, PYTI_ERR_IO, errno, "opening %s", from);
    char *tmp = xasprintf("%s.part", to);
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pyti_status rc = PYTI_OK;
    if (out < 0) {
        rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "creating %s", tmp);
    } else {
        ssize_t n;
        while ((n = sendfile(out, in, NULL, 1 << 30)) > 0)
            ;
        if (n < 0)
            rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "copying %s", from);
        if (close(out) != 0 && rc == PYTI_OK)
            rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "writing %s", tmp);
        if (rc == PYTI_OK && rename(tmp, to) != 0)
            rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "renaming %s", tmp);
        if (rc != PYTI_OK)
            unlink(tmp);
    }
    close(in);
    free(tmp);
    return rc;
}

json_t *wheelhouse_build(const char *dir, const char *wheels_dir, const char *site_dir,
                         const pyti_strv *names, pyti_error *err)
{
    if (path_mkdirs(dir, 0755, err) != PYTI_OK)
        return NULL;
    json_t *copied = json_array(), *packed = json_array(), *skipped = json_array();
    DIR *d = wheels_dir ? opendir(wheels_dir) : NULL;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (!str_endswith(de->d_name, ".whl"))
            continue;
        char *from = path_join(wheels_dir, de->d_name);
        char *to = path_join(dir, de->d_name);
        pyti_error cerr;
        if (copy_file(from, to, &cerr) == PYTI_OK) {
            json_array_append_new(copied, json_text(de->d_name));
        } else {
            json_t *s = json_object();
            json_set_text(s, "name", de->d_name);
            json_set_text(s, "reason", cerr.msg);
            json_array_append_new(skipped, s);
        }
        free(from);
        free(to);
    }
    if (d)
        closedir(d);
    size_t n = names ? names->len : 0;
    for (size_t i = 0; names ? i < n : default_names[i] != NULL; i++) {
        const char *name = names ? names->items[i] : default_names[i];
        char *wheel = NULL;
        pyti_error perr;
        if (wheelpack_installed(site_dir, name, dir, &wheel, &perr) == PYTI_OK) {
            json_array_append_new(packed, json_text(path_basename(wheel)));
            free(wheel);
        } else {
            json_t *s = json_object();
            json_set_text(s, "name", name);
            json_set_text(s, "reason", perr.msg);
            json_array_append_new(skipped, s);
        }
    }
    json_t *summary = json_object();
    json_object_set_new(summary, "dir", json_text(dir));
    json_object_set_new(summary, "copied", copied);
    json_object_set_new(summary, "packed", packed);
    json_object_set_new(summary, "skipped", skipped);
    return summary;
}

static bool has_wheels(const char *dir)
{
    DIR *d = opendir(dir);
    bool found = false;
    struct dirent *de;
    while (d && !found && (de = readdir(d)) != NULL)
        found = str_endswith(de->d_name, ".whl");
    if (d)
        closedir(d);
    return found;
}

pyti_status wheelhouse_ensure(const char *dir, pyti_error *err)
{
    if (has_wheels(dir))
        return PYTI_OK;
    json_t *s = wheelhouse_build(dir, WHEELHOUSE_DEBIAN_WHEELS, WHEELHOUSE_DEBIAN_SITE, NULL, err);
    if (!s)
        return err ? err->code : PYTI_ERR_IO;
    bool any = json_array_size(json_object_get(s, "copied")) + json_array_size(json_object_get(s, "packed")) > 0;
    json_decref(s);
    if (!any)
        return pyti_error_set(err, PYTI_ERR_INTERNAL,
                              "the wheelhouse %s is empty: install python3-pip-whl, "
                              "python3-setuptools-whl and python3-wheel-whl (scripts/install-deps)",
                              dir);
    return PYTI_OK;
}
