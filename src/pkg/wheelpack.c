/* wheelpack.c — packing an installed distribution into a wheel with
 * libarchive's zip writer (see wheelpack.h). */
#include "pkg/wheelpack.h"
#include "common/buf.h"
#include "common/hash.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "pkg/metadata.h"
#include "pkg/name.h"
#include "pkg/record.h"
#include "pkg/requirement.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE_BYTES (256u << 20)
#define MAX_FILES 100000

/* The distribution's name and version split from "<name>-<version>.<ext>". */
static bool split_info_dir(const char *dirname, const char *ext, char **name, char **version)
{
    if (!str_endswith(dirname, ext))
        return false;
    size_t len = strlen(dirname) - strlen(ext);
    const char *dash = memchr(dirname, '-', len);
    if (!dash)
        return false;
    *name = xstrndup(dirname, (size_t)(dash - dirname));
    *version = xstrndup(dash + 1, len - (size_t)(dash - dirname) - 1);
    return true;
}

void wheelpack_list_installed(const char *site_dir, pyti_strv *names)
{
    DIR *d = opendir(site_dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char *n, *v;
        if (split_info_dir(de->d_name, ".dist-info", &n, &v) ||
            split_info_dir(de->d_name, ".egg-info", &n, &v)) {
            strv_push_owned(names, name_normalize(n));
            free(n);
            free(v);
        }
    }
    closedir(d);
    strv_sort(names);
    /* A name can appear twice (dist-info and egg-info); keep one. */
    size_t w = 0;
    for (size_t i = 0; i < names->len; i++) {
        if (w && strcmp(names->items[w - 1], names->items[i]) == 0) {
            free(names->items[i]);
            continue;
        }
        names->items[w++] = names->items[i];
    }
    names->len = w;
    if (names->items)
        names->items[w] = NULL;
}

/* Finds the info directory of name in site_dir. */
static char *find_info_dir(const char *site_dir, const char *name, bool *is_dist_info,
                           char **found_version)
{
    char *want = name_normalize(name);
    DIR *d = opendir(site_dir);
    char *result = NULL;
    if (d) {
        struct dirent *de;
        while (!result && (de = readdir(d)) != NULL) {
            char *n, *v;
            bool di = split_info_dir(de->d_name, ".dist-info", &n, &v);
            if (!di && !split_info_dir(de->d_name, ".egg-info", &n, &v))
                continue;
            char *norm = name_normalize(n);
            if (strcmp(norm, want) == 0) {
                result = xstrdup(de->d_name);
                *is_dist_info = di;
                *found_version = v;
                v = NULL;
            }
            free(norm);
            free(n);
            free(v);
        }
        closedir(d);
    }
    free(want);
    return result;
}

/* Files relative to site_dir that belong to the distribution. */
static pyti_status list_from_record(const char *site_dir, const char *info, pyti_strv *files,
                                    pyti_error *err)
{
    char *rel = xasprintf("%s/RECORD", info);
    char *path = path_join(site_dir, rel);
    pyti_buf text = PYTI_BUF_INIT;
    pyti_status rc = path_read_file(path, 64u << 20, &text, err);
    free(path);
    free(rel);
    if (rc != PYTI_OK) {
        buf_free(&text);
        return rc;
    }
    pyti_record_rows rows = {0};
    record_parse(buf_cstr(&text), text.len, MAX_FILES, &rows);
    buf_free(&text);
    for (size_t i = 0; i < rows.len; i++) {
        const char *p = rows.items[i].f[0];
        if (!p || rows.items[i].bad || p[0] == '/' || str_startswith(p, "../") ||
            strstr(p, "/../") || strstr(p, "__pycache__/") || str_endswith(p, ".pyc"))
            continue; /* scripts outside site-packages, caches, anything odd */
        if (str_startswith(p, info) && p[strlen(info)] == '/')
            continue; /* the info dir is regenerated */
        strv_push_unique(files, p);
    }
    record_rows_free(&rows);
    return PYTI_OK;
}

static void add_tree(const char *site_dir, const char *rel, pyti_strv *files, int depth)
{
    char *abs = path_join(site_dir, rel);
    struct stat st;
    if (depth > 32 || lstat(abs, &st) != 0) {
        free(abs);
        return;
    }
    if (S_ISREG(st.st_mode)) {
        if (!str_endswith(rel, ".pyc"))
            strv_push_unique(files, rel);
    } else if (S_ISDIR(st.st_mode) && strcmp(path_basename(rel), "__pycache__") != 0) {
        DIR *d = opendir(abs);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char *child = xasprintf("%s/%s", rel, de->d_name);
            add_tree(site_dir, child, files, depth + 1);
            free(child);
        }
        if (d)
            closedir(d);
    }
    free(abs);
}

/* An egg-info has no file list: pack the modules top_level.txt names. */
static pyti_status list_from_top_level(const char *site_dir, const char *info, pyti_strv *files,
                                       pyti_error *err)
{
    char *path = xasprintf("%s/%s/top_level.txt", site_dir, info);
    pyti_buf text = PYTI_BUF_INIT;
    pyti_status rc = path_read_file(path, 1u << 20, &text, err);
    free(path);
    if (rc != PYTI_OK) {
        buf_free(&text);
        return rc;
    }
    pyti_strv mods = PYTI_STRV_INIT;
    strv_split(&mods, buf_cstr(&text), "\n");
    buf_free(&text);
    for (size_t i = 0; i < mods.len; i++) {
        const char *m = mods.items[i];
        if (strchr(m, '/') || strcmp(m, "..") == 0 || strcmp(m, ".") == 0)
            continue;
        char *py = xasprintf("%s.py", m);
        add_tree(site_dir, m, files, 0);
        add_tree(site_dir, py, files, 0);
        free(py);
    }
    strv_free(&mods);
    return PYTI_OK;
}

/* METADATA with the Requires-Dist entries whose distributions are not
 * installed dropped (listed in *dropped). */
static char *rewrite_metadata(const char *text, const pyti_strv *installed, pyti_strv *dropped)
{
    pyti_buf out = PYTI_BUF_INIT;
    const char *p = text;
    bool in_header = true;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (in_header && (len == 1 || (len == 2 && p[0] == '\r')))
            in_header = false;
        bool keep = true;
        if (in_header && len > 14 && strncasecmp(p, "Requires-Dist:", 14) == 0) {
            char *value = xstrndup(p + 14, len - 14);
            str_trim(value);
            pyti_requirement *req = requirement_parse(value, NULL);
            if (req && !strv_contains(installed, req->normalized)) {
                keep = false;
                strv_push(dropped, value);
            }
            requirement_free(req);
            free(value);
        }
        if (keep)
            buf_append(&out, p, len);
        p += len;
    }
    return buf_detach(&out);
}

typedef struct packed {
    pyti_buf record;
    struct archive *zip;
} packed;

static pyti_status add_member(packed *pk, const char *arcname, const void *data, size_t len,
                              mode_t mode, pyti_error *err)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, arcname);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, (mode & 0111) ? 0755 : 0644);
    archive_entry_set_size(e, (la_int64_t)len);
    /* A fixed timestamp keeps packed wheels byte-for-byte reproducible. */
    archive_entry_set_mtime(e, 315532800, 0); /* 1980-01-01, zip's epoch */
    int rc = archive_write_header(pk->zip, e);
    archive_entry_free(e);
    if (rc != ARCHIVE_OK || (len && archive_write_data(pk->zip, data, len) != (la_ssize_t)len))
        return pyti_error_set(err, PYTI_ERR_IO, "writing %s into the wheel: %s", arcname,
                              archive_error_string(pk->zip));
    if (strcmp(path_basename(arcname), "RECORD") != 0 || !strstr(arcname, ".dist-info/")) {
        char *hash = hash_record_sha256(data, len);
        char size[32];
        snprintf(size, sizeof size, "%zu", len);
        record_append_row(&pk->record, arcname, hash, size);
        free(hash);
    }
    return PYTI_OK;
}

static pyti_status add_file(packed *pk, const char *site_dir, const char *rel, pyti_error *err)
{
    char *abs = path_join(site_dir, rel);
    int fd = open(abs, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    pyti_status rc = PYTI_OK;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = pyti_error_errno(err, PYTI_ERR_INPUT, fd < 0 ? errno : EINVAL,
                              "%s is listed but is not a readable regular file", abs);
    } else if (str_endswith(rel, ".so") || strstr(rel, ".so.")) {
        rc = pyti_error_set(err, PYTI_ERR_INPUT,
                            "%s is a compiled extension: only pure-Python distributions are packed",
                            rel);
    } else {
        pyti_buf data = PYTI_BUF_INIT;
        rc = path_read_file(abs, MAX_FILE_BYTES, &data, err);
        if (rc == PYTI_OK)
            rc = add_member(pk, rel, data.data ? data.data : "", data.len, st.st_mode, err);
        buf_free(&data);
    }
    if (fd >= 0)
        close(fd);
    free(abs);
    return rc;
}

pyti_status wheelpack_installed(const char *site_dir, const char *name, const char *out_dir,
                                char **wheel_path, pyti_error *err)
{
    bool dist_info = false;
    char *version = NULL;
    char *info = find_info_dir(site_dir, name, &dist_info, &version);
    if (!info)
        return pyti_error_set(err, PYTI_ERR_NOTFOUND, "no distribution '%s' is installed in %s",
                              name, site_dir);
    pyti_status rc;
    pyti_strv files = PYTI_STRV_INIT, installed = PYTI_STRV_INIT, dropped = PYTI_STRV_INIT;
    pyti_buf md_text = PYTI_BUF_INIT, other = PYTI_BUF_INIT;
    char *wheel = NULL, *tmp = NULL, *md_path = NULL, *md_new = NULL, *di = NULL;
    pyti_metadata *md = NULL;
    packed pk = {PYTI_BUF_INIT, NULL};

    rc = dist_info ? list_from_record(site_dir, info, &files, err)
                   : list_from_top_level(site_dir, info, &files, err);
    if (rc != PYTI_OK)
        goto out;
    if (files.len == 0) {
        rc = pyti_error_set(err, PYTI_ERR_INPUT, "%s/%s lists no files to pack", site_dir, info);
        goto out;
    }
    md_path = xasprintf("%s/%s/%s", site_dir, info, dist_info ? "METADATA" : "PKG-INFO");
    if ((rc = path_read_file(md_path, 16u << 20, &md_text, err)) != PYTI_OK)
        goto out;
    md = metadata_parse(buf_cstr(&md_text), md_text.len, md_path, err);
    if (!md || !metadata_get(md, "Name") || !metadata_get(md, "Version")) {
        rc = md ? pyti_error_set(err, PYTI_ERR_INPUT, "%s has no Name or Version", md_path)
                : PYTI_ERR_INPUT;
        goto out;
    }
    char *norm = name_normalize(metadata_get(md, "Name"));
    for (char *c = norm; *c; c++)
        if (*c == '-')
            *c = '_';
    const char *ver = metadata_get(md, "Version");
    di = xasprintf("%s-%s.dist-info", norm, ver);
    wheel = xasprintf("%s/%s-%s-py3-none-any.whl", out_dir, norm, ver);
    free(norm);

    wheelpack_list_installed(site_dir, &installed);
    md_new = rewrite_metadata(buf_cstr(&md_text), &installed, &dropped);

    tmp = xasprintf("%s.part", wheel);
    pk.zip = archive_write_new();
    archive_write_set_format_zip(pk.zip);
    if (archive_write_open_filename(pk.zip, tmp) != ARCHIVE_OK) {
        rc = pyti_error_set(err, PYTI_ERR_IO, "creating %s: %s", tmp, archive_error_string(pk.zip));
        goto out;
    }
    strv_sort(&files);
    for (size_t i = 0; i < files.len && rc == PYTI_OK; i++) {
        /* Debian removes some files a RECORD lists (licences of vendored
         * code, for one); what is not there is not packed. */
        char *abs = path_join(site_dir, files.items[i]);
        bool present = path_exists(abs);
        free(abs);
        if (present)
            rc = add_file(&pk, site_dir, files.items[i], err);
    }
    if (rc != PYTI_OK)
        goto out;
    char *arc = xasprintf("%s/METADATA", di);
    rc = add_member(&pk, arc, md_new, strlen(md_new), 0644, err);
    free(arc);
    static const char wheel_file[] =
        "Wheel-Version: 1.0\nGenerator: pyti wheelpack\nRoot-Is-Purelib: true\nTag: py3-none-any\n";
    arc = xasprintf("%s/WHEEL", di);
    if (rc == PYTI_OK)
        rc = add_member(&pk, arc, wheel_file, sizeof wheel_file - 1, 0644, err);
    free(arc);
    /* entry_points.txt carries console scripts and backend plugins. */
    char *ep = xasprintf("%s/%s/entry_points.txt", site_dir, info);
    if (rc == PYTI_OK && path_read_file(ep, 1u << 20, &other, NULL) == PYTI_OK) {
        arc = xasprintf("%s/entry_points.txt", di);
        rc = add_member(&pk, arc, buf_cstr(&other), other.len, 0644, err);
        free(arc);
    }
    free(ep);
    if (rc == PYTI_OK && dropped.len) {
        char *list = strv_join(&dropped, "\n");
        char *text = xasprintf("%s\n", list);
        arc = xasprintf("%s/pyti-dropped-requires.txt", di);
        rc = add_member(&pk, arc, text, strlen(text), 0644, err);
        free(arc);
        free(text);
        free(list);
    }
    if (rc != PYTI_OK)
        goto out;
    arc = xasprintf("%s/RECORD", di);
    record_append_row(&pk.record, arc, NULL, NULL);
    rc = add_member(&pk, arc, buf_cstr(&pk.record), pk.record.len, 0644, err);
    free(arc);
    if (rc != PYTI_OK)
        goto out;
    if (archive_write_close(pk.zip) != ARCHIVE_OK) {
        rc = pyti_error_set(err, PYTI_ERR_IO, "finishing %s: %s", tmp, archive_error_string(pk.zip));
        goto out;
    }
    if (rename(tmp, wheel) != 0) {
        rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "renaming %s", tmp);
        goto out;
    }
out:
    if (pk.zip)
        archive_write_free(pk.zip);
    if (tmp && rc != PYTI_OK)
        unlink(tmp);
    if (rc == PYTI_OK && wheel_path)
        *wheel_path = xstrdup(wheel);
    buf_free(&pk.record);
    buf_free(&md_text);
    buf_free(&other);
    metadata_free(md);
    strv_free(&files);
    strv_free(&installed);
    strv_free(&dropped);
    free(md_new);
    free(md_path);
    free(tmp);
    free(wheel);
    free(di);
    free(info);
    free(version);
    return rc;
}
