/* install_report.c — an installed distribution described from its RECORD
 * (see install_report.h). */
#include "pkg/install_report.h"
#include "common/buf.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/str.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "pkg/record.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RECORD_MAX (64u << 20)
#define TOP_LEVEL_MAX (1u << 20)

static bool is_identifier(const char *s, size_t n)
{
    if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_' || (unsigned char)s[0] >= 0x80))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || (unsigned char)s[i] >= 0x80))
            return false;
    return true;
}

static bool importable_file(const char *name)
{
    return str_endswith(name, ".py") || str_endswith(name, ".so") || str_endswith(name, ".pyd");
}

/* The top-level name a RECORD path gives, as the import task needs it:
 * "pkg/x.py" gives "pkg", "mod.py" and "mod.cpython-311-x86_64-linux-gnu.so"
 * give "mod"; metadata, data, scripts and caches give nothing. */
static void top_of(const char *path, pyti_strv *tops)
{
    const char *slash = strchr(path, '/');
    size_t first = slash ? (size_t)(slash - path) : strlen(path);
    if ((first >= 10 && strncmp(path + first - 10, ".dist-info", 10) == 0) ||
        (first >= 5 && strncmp(path + first - 5, ".data", 5) == 0) ||
        (first == 2 && strncmp(path, "..", 2) == 0) ||
        (first == 11 && strncmp(path, "__pycache__", 11) == 0))
        return;
    if (!slash) {
        if (!importable_file(path))
            return;
        size_t stem = strcspn(path, ".");
        if (is_identifier(path, stem)) {
            char *t = xstrndup(path, stem);
            strv_push_unique(tops, t);
            free(t);
        }
        return;
    }
    const char *last = strrchr(path, '/') + 1;
    if (is_identifier(path, first) && importable_file(last)) {
        char *t = xstrndup(path, first);
        strv_push_unique(tops, t);
        free(t);
    }
}

/* The Name header of the METADATA at path (the project's spelling, which
 * the dist-info directory's name has escaped), or NULL. */
static char *metadata_name(const char *path)
{
    pyti_buf b = PYTI_BUF_INIT;
    char *name = NULL;
    if (path_read_file(path, 1u << 20, &b, NULL) == PYTI_OK && b.data) {
        for (char *line = b.data; line && *line && *line != '\n' && *line != '\r';) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            if (strncasecmp(line, "Name:", 5) == 0) {
                char *v = str_trim(line + 5);
                if (*v)
                    name = xstrdup(v);
                break;
            }
            line = nl ? nl + 1 : NULL;
        }
    }
    buf_free(&b);
    return name;
}

json_t *install_report_dist(const pyti_install_scheme *scheme, const pyti_installed_dist *d)
{
    json_t *j = json_object();
    json_set_text(j, "name", d->name);
    json_set_text(j, "version", d->version);
    json_set_text(j, "dist_info", d->dist_info);
    json_object_set_new(j, "launchers", json_integer((json_int_t)d->launchers));
    json_t *record = json_array(), *tops_j = json_array(), *missing = json_array();
    pyti_strv tops = PYTI_STRV_INIT;
    size_t nfiles = 0;
    const char *lib = NULL;
    pyti_buf b = PYTI_BUF_INIT;
    pyti_error err = {0};
    const char *libs[] = {scheme->purelib, scheme->platlib};
    for (size_t i = 0; i < 2 && !lib; i++) {
        char *p = xasprintf("%s/%s/RECORD", libs[i], d->dist_info);
        buf_truncate(&b, 0);
        if (path_read_file(p, RECORD_MAX, &b, &err) == PYTI_OK)
            lib = libs[i];
        free(p);
    }
    if (!lib) {
        json_set_text(j, "record_error", err.msg);
    } else {
        char *mp = xasprintf("%s/%s/METADATA", lib, d->dist_info);
        char *name = metadata_name(mp);
        if (name)
            json_set_text(j, "name", name);
        free(name);
        free(mp);
        pyti_record_rows rows = {0};
        record_parse(b.data ? b.data : "", b.len, 0, &rows);
        for (size_t i = 0; i < rows.len; i++) {
            const char *path = rows.items[i].f[0];
            if (rows.items[i].bad || !path || !*path)
                continue;
            nfiles++;
            if (json_array_size(record) < INSTALL_REPORT_MAX_PATHS)
                json_array_append_new(record, json_text(path));
            top_of(path, &tops);
        }
        record_rows_free(&rows);
        strv_sort(&tops);
        for (size_t i = 0; i < tops.len; i++)
            json_array_append_new(tops_j, json_text(tops.items[i]));
        char *tl = xasprintf("%s/%s/top_level.txt", lib, d->dist_info);
        pyti_buf t = PYTI_BUF_INIT;
        if (path_read_file(tl, TOP_LEVEL_MAX, &t, NULL) == PYTI_OK && t.data) {
            pyti_strv listed = PYTI_STRV_INIT;
            for (char *line = strtok(t.data, "\r\n"); line; line = strtok(NULL, "\r\n")) {
                char *tl_name = str_trim(line);
                char *sl = strchr(tl_name, '/');
                if (sl)
                    *sl = '\0';
                if (*tl_name && !strv_contains(&tops, tl_name))
                    strv_push_unique(&listed, tl_name);
            }
            strv_sort(&listed);
            for (size_t i = 0; i < listed.len; i++)
                json_array_append_new(missing, json_text(listed.items[i]));
            strv_free(&listed);
        }
        buf_free(&t);
        free(tl);
    }
    json_object_set_new(j, "files", json_integer((json_int_t)nfiles));
    json_object_set_new(j, "record", record);
    json_object_set_new(j, "top_level", tops_j);
    json_object_set_new(j, "top_level_txt_not_installed", missing);
    strv_free(&tops);
    buf_free(&b);
    return j;
}
