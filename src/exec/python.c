/* python.c — finding target interpreters (see python.h). */
#include "exec/python.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const search_dirs[] = {"/usr/bin", "/usr/local/bin", NULL};

/* "python3.11" (and not "python3.11-config", "python3.11m"...). */
static bool is_versioned_python(const char *name)
{
    if (!str_startswith(name, "python3."))
        return false;
    const char *p = name + 8;
    if (!isdigit((unsigned char)*p))
        return false;
    while (isdigit((unsigned char)*p))
        p++;
    return *p == '\0';
}

static char *usable(const char *path)
{
    char real[PATH_MAX];
    struct stat st;
    if (!realpath(path, real) || stat(real, &st) != 0 || !S_ISREG(st.st_mode) ||
        access(real, X_OK) != 0)
        return NULL;
    return xstrdup(real);
}

void python_list(pyti_strv *out)
{
    pyti_strv found = PYTI_STRV_INIT;
    for (size_t i = 0; search_dirs[i]; i++) {
        DIR *d = opendir(search_dirs[i]);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            if (!is_versioned_python(de->d_name))
                continue;
            char *p = path_join(search_dirs[i], de->d_name);
            char *real = usable(p);
            if (real && str_startswith(real, "/usr/"))
                strv_push_unique(&found, real);
            free(real);
            free(p);
        }
        if (d)
            closedir(d);
    }
    strv_sort(&found);
    strv_extend(out, &found);
    strv_free(&found);
}

static bool is_version(const char *s)
{
    if (!isdigit((unsigned char)*s))
        return false;
    while (isdigit((unsigned char)*s))
        s++;
    if (*s != '.')
        return false;
    s++;
    if (!isdigit((unsigned char)*s))
        return false;
    while (isdigit((unsigned char)*s))
        s++;
    return *s == '\0';
}

char *python_find(const char *spec, pyti_error *err)
{
    char *candidate = NULL;
    if (!spec)
        candidate = usable(PYTHON_DEFAULT);
    else if (is_version(spec)) {
        for (size_t i = 0; search_dirs[i] && !candidate; i++) {
            char *p = xasprintf("%s/python%s", search_dirs[i], spec);
            candidate = usable(p);
            free(p);
        }
    } else if (strchr(spec, '/')) {
        candidate = usable(spec);
    }
    if (candidate && str_startswith(candidate, "/usr/"))
        return candidate;
    pyti_strv all = PYTI_STRV_INIT;
    python_list(&all);
    char *list = all.len ? strv_join(&all, ", ") : xstrdup("none");
    if (candidate)
        pyti_error_set(err, PYTI_ERR_USAGE,
                       "interpreter %s is not under /usr, so the sandbox cannot see it "
                       "(interpreters found: %s)", candidate, list);
    else
        pyti_error_set(err, PYTI_ERR_USAGE,
                       "no Python interpreter '%s' (give a path or a version such as 3.11; "
                       "interpreters found: %s)", spec ? spec : PYTHON_DEFAULT, list);
    free(list);
    free(candidate);
    strv_free(&all);
    return NULL;
}
