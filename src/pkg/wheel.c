/* wheel.c — checks on an extracted wheel (see wheel.h): the .dist-info
 * directory, the WHEEL file and RECORD verification.
 *
 * RECORD is read as Python's csv module reads it (excel dialect, not
 * strict): fields may be quoted, "" inside quotes is a quote, quoted
 * fields may hold commas and line breaks, text after a closing quote is
 * kept. Its paths are never opened as given: the tree is walked once
 * without following symlinks, and an entry is hashed only if the walk saw
 * a regular file at exactly that relative path, so no entry can make us
 * read outside the root. */
#include "pkg/wheel.h"
#include "pkg/record.h"

#include "common/buf.h"
#include "common/hash.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/str.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "pkg/metadata.h"
#include "pkg/name.h"
#include "pkg/version.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WHEEL_FILE_MAX (1u << 20)
#define RECORD_MAX_BYTES (64u << 20)
#define RECORD_MAX_ENTRIES 200000
#define RECORD_PATH_MAX 4096
#define TREE_MAX_FILES 500000
#define TREE_MAX_DEPTH 128
#define EXCERPT 120
#define MAX_TAGS 1024 /* expanded tags per Tag line / file name, and per WHEEL */

/* ---- .dist-info ----------------------------------------------------- */

char *wheel_find_dist_info(const char *root, pyti_error *err)
{
    DIR *d = opendir(root);
    if (!d) {
        pyti_error_errno(err, errno == ENOENT ? PYTI_ERR_NOTFOUND : PYTI_ERR_IO, errno,
                         "opening wheel directory %s", root);
        return NULL;
    }
    pyti_strv found = PYTI_STRV_INIT;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!str_endswith(de->d_name, ".dist-info") || strcmp(de->d_name, ".dist-info") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
            strv_push(&found, de->d_name);
    }
    closedir(d);
    char *out = NULL;
    if (found.len == 1) {
        out = xstrdup(found.items[0]);
    } else if (found.len == 0) {
        pyti_error_set(err, PYTI_ERR_INPUT, "%s: no .dist-info directory at the top of the wheel",
                       root);
    } else {
        strv_sort(&found);
        char *all = strv_join(&found, ", ");
        char *e = str_excerpt(all, strlen(all), 400);
        pyti_error_set(err, PYTI_ERR_INPUT, "%s: %zu .dist-info directories (%s); a wheel has "
                       "exactly one", root, found.len, e);
        free(e);
        free(all);
    }
    strv_free(&found);
    return out;
}

/* Reads root/dist_info/name (a regular file, not a symlink) into out. */
static pyti_status read_member(const char *root, const char *dist_info, const char *name,
                               size_t max, pyti_buf *out, pyti_error *err)
{
    char *dir = path_join(root, dist_info);
    char *path = path_join(dir, name);
    free(dir);
    struct stat st;
    pyti_status rc;
    if (lstat(path, &st) != 0)
        rc = pyti_error_errno(err, errno == ENOENT ? PYTI_ERR_NOTFOUND : PYTI_ERR_IO, errno,
                              "%s/%s", dist_info, name);
    else if (!S_ISREG(st.st_mode))
        rc = pyti_error_set(err, PYTI_ERR_INPUT, "%s/%s is not a regular file", dist_info,
                            name);
    else if ((unsigned long long)st.st_size > max)
        rc = pyti_error_set(err, PYTI_ERR_LIMIT, "%s/%s is %lld bytes, more than the %zu allowed",
                            dist_info, name, (long long)st.st_size, max);
    else
        rc = path_read_file(path, max, out, err);
    free(path);
    return rc;
}

/* ---- WHEEL ---------------------------------------------------------- */

static char *wloc(const char *dist_info, const char *file, unsigned line)
{
    return line ? xasprintf("%s/%s:%u", dist_info, file, line)
                : xasprintf("%s/%s", dist_info, file);
}

/* Appends the tags of "py3.py2-none-any" (compressed sets expanded) to
 * out; false if the text is not three non-empty dash-separated parts. */
static bool expand_tag(const char *tag, pyti_strv *out)
{
    pyti_strv parts[3] = {PYTI_STRV_INIT, PYTI_STRV_INIT, PYTI_STRV_INIT};
    const char *d1 = strchr(tag, '-');
    const char *d2 = d1 ? strchr(d1 + 1, '-') : NULL;
    bool ok = d1 && d2 && !strchr(d2 + 1, '-');
    if (ok) {
        char *a = xstrndup(tag, (size_t)(d1 - tag));
        char *b = xstrndup(d1 + 1, (size_t)(d2 - d1 - 1));
        strv_split(&parts[0], a, ".");
        strv_split(&parts[1], b, ".");
        strv_split(&parts[2], d2 + 1, ".");
        free(a);
        free(b);
        for (size_t i = 0; i < 3; i++)
            ok = ok && parts[i].len > 0 && parts[i].len <= MAX_TAGS;
        /* a compressed tag set is a product: bound it before expanding */
        ok = ok && parts[0].len * parts[1].len * parts[2].len <= MAX_TAGS;
        for (size_t i = 0; ok && i < 3; i++)
            for (size_t j = 0; j < parts[i].len; j++)
                for (const char *p = parts[i].items[j]; *p; p++)
                    if (!isalnum((unsigned char)*p) && *p != '_')
                        ok = false;
    }
    for (size_t i = 0; ok && i < parts[0].len; i++)
        for (size_t j = 0; j < parts[1].len; j++)
            for (size_t k = 0; k < parts[2].len; k++)
                strv_push_owned(out, xasprintf("%s-%s-%s", parts[0].items[i],
                                               parts[1].items[j], parts[2].items[k]));
    for (size_t i = 0; i < 3; i++)
        strv_free(&parts[i]);
    return ok;
}

static void check_tags(const pyti_strv *wheel_tags, const pyti_dist_filename *fn,
                       const char *filename, const char *where, pyti_findings *out)
{
    pyti_strv expect = PYTI_STRV_INIT;
    if (fn->python_tags.len * fn->abi_tags.len * fn->platform_tags.len > MAX_TAGS)
        return; /* absurd file name; not worth a quadratic comparison */
    for (size_t i = 0; i < fn->python_tags.len; i++)
        for (size_t j = 0; j < fn->abi_tags.len; j++)
            for (size_t k = 0; k < fn->platform_tags.len; k++)
                strv_push_owned(&expect, xasprintf("%s-%s-%s", fn->python_tags.items[i],
                                                   fn->abi_tags.items[j],
                                                   fn->platform_tags.items[k]));
    pyti_strv only_name = PYTI_STRV_INIT, only_wheel = PYTI_STRV_INIT;
    for (size_t i = 0; i < expect.len; i++)
        if (!strv_contains(wheel_tags, expect.items[i]))
            strv_push_unique(&only_name, expect.items[i]);
    for (size_t i = 0; i < wheel_tags->len; i++)
        if (!strv_contains(&expect, wheel_tags->items[i]))
            strv_push_unique(&only_wheel, wheel_tags->items[i]);
    char *fe = str_excerpt(filename, strlen(filename), EXCERPT);
    if (only_name.len) {
        char *j = strv_join(&only_name, ", ");
        char *e = str_excerpt(j, strlen(j), 400);
        findings_add(out, "wheel.tag-mismatch", PYTI_SEV_MEDIUM, where,
                     "%s: tag(s) %s of the file name '%s' have no Tag line in WHEEL", where, e,
                     fe);
        free(e);
        free(j);
    }
    if (only_wheel.len) {
        char *j = strv_join(&only_wheel, ", ");
        char *e = str_excerpt(j, strlen(j), 400);
        findings_add(out, "wheel.tag-mismatch", PYTI_SEV_MEDIUM, where,
                     "%s: Tag line(s) %s are not among the tags of the file name '%s'", where,
                     e, fe);
        free(e);
        free(j);
    }
    free(fe);
    strv_free(&only_name);
    strv_free(&only_wheel);
    strv_free(&expect);
}

/* "<name>-<version>.dist-info" against the wheel's file name: pip refuses
 * a wheel whose .dist-info does not belong to the named project. */
static void check_dist_info_name(const char *dist_info, const pyti_dist_filename *fn,
                                 const char *filename, pyti_findings *out)
{
    size_t n = strlen(dist_info) - strlen(".dist-info");
    char *stem = xstrndup(dist_info, n);
    char *dash = strrchr(stem, '-');
    char *fe = str_excerpt(filename, strlen(filename), EXCERPT);
    char *de = str_excerpt(dist_info, strlen(dist_info), EXCERPT);
    if (!dash) {
        findings_add(out, "wheel.dist-info-mismatch", PYTI_SEV_MEDIUM, dist_info,
                     "%s: the directory name is not '<name>-<version>.dist-info'", de);
    } else {
        *dash = '\0';
        char *a = name_normalize(stem), *b = name_normalize(fn->name);
        if (strcmp(a, b) != 0) {
            findings_add(out, "wheel.dist-info-mismatch", PYTI_SEV_HIGH, dist_info,
                         "%s: names project '%s' but the file name '%s' names '%s'; pip "
                         "refuses such a wheel", de, a, fe, b);
        } else {
            pyti_version *v1 = version_parse(dash + 1, NULL);
            pyti_version *v2 = version_parse(fn->version, NULL);
            bool differ = v1 && v2 ? version_compare(v1, v2) != 0
                                   : strcmp(dash + 1, fn->version) != 0;
            if (differ)
                findings_add(out, "wheel.dist-info-mismatch", PYTI_SEV_MEDIUM, dist_info,
                             "%s: version '%s' differs from the file name '%s'", de, dash + 1,
                             fe);
            version_free(v1);
            version_free(v2);
        }
        free(a);
        free(b);
    }
    free(fe);
    free(de);
    free(stem);
}

json_t *wheel_check_wheel_file(const char *root, const char *dist_info,
                               const char *filename, pyti_findings *out, pyti_error *err)
{
    pyti_buf text = PYTI_BUF_INIT;
    pyti_error lerr = {0};
    char *where0 = wloc(dist_info, "WHEEL", 0);
    pyti_status rc = read_member(root, dist_info, "WHEEL", WHEEL_FILE_MAX, &text, &lerr);
    pyti_metadata *md = NULL;
    if (rc == PYTI_OK) {
        md = metadata_parse(text.data, text.len, where0, &lerr);
        rc = md ? PYTI_OK : lerr.code;
    }
    buf_free(&text);
    if (rc != PYTI_OK) {
        findings_add(out, rc == PYTI_ERR_NOTFOUND ? "wheel.wheel-file-missing"
                                                  : "wheel.wheel-file-unreadable",
                     PYTI_SEV_HIGH, where0, "%s", lerr.msg);
        if (err)
            *err = lerr;
        free(where0);
        return NULL;
    }
    for (size_t i = 0; i < md->parse_findings.len; i++) {
        const pyti_finding *f = &md->parse_findings.items[i];
        findings_add(out, "wheel.wheel-file-syntax", f->severity, f->where, "%s", f->message);
    }
    static const char *const single[] = {"Wheel-Version", "Generator", "Root-Is-Purelib",
                                         "Build", NULL};
    for (size_t k = 0; single[k]; k++) {
        unsigned first = 0;
        for (size_t i = 0; i < md->nfields; i++) {
            if (!str_eq_nocase(md->fields[i].name, single[k]))
                continue;
            if (!first) {
                first = md->fields[i].line;
                continue;
            }
            char *w = wloc(dist_info, "WHEEL", md->fields[i].line);
            findings_add(out, "wheel.duplicate-field", PYTI_SEV_MEDIUM, w,
                         "%s: %s is given again (first on line %u); the first is used", w,
                         single[k], first);
            free(w);
        }
    }
    json_t *o = json_object();
    /* Wheel-Version */
    const char *wv = metadata_get(md, "Wheel-Version");
    const pyti_metadata_field *wvf = NULL;
    for (size_t i = 0; i < md->nfields && !wvf; i++)
        if (str_eq_nocase(md->fields[i].name, "Wheel-Version"))
            wvf = &md->fields[i];
    json_set_text(o, "wheel_version", wv);
    if (!wvf) {
        findings_add(out, "wheel.missing-wheel-version", PYTI_SEV_HIGH, where0,
                     "%s: no Wheel-Version field", where0);
    } else {
        char *w = wloc(dist_info, "WHEEL", wvf->line);
        char *e = str_excerpt(wv, strlen(wv), EXCERPT);
        unsigned long major = 0, minor = 0;
        int n = 0;
        if (strspn(wv, "0123456789.") != strlen(wv) ||
            sscanf(wv, "%4lu.%4lu%n", &major, &minor, &n) != 2 || wv[n] != '\0' ||
            !isdigit((unsigned char)wv[0]) || !isdigit((unsigned char)wv[strlen(wv) - 1])) {
            findings_add(out, "wheel.invalid-wheel-version", PYTI_SEV_HIGH, w,
                         "%s: Wheel-Version '%s' is not 'major.minor'", w, e);
        } else if (major != 1) {
            findings_add(out, "wheel.unsupported-wheel-version", PYTI_SEV_HIGH, w,
                         "%s: Wheel-Version '%s' has major version %lu; installers support "
                         "1.x only and must refuse it", w, e, major);
        } else if (minor > 0) {
            findings_add(out, "wheel.newer-wheel-version", PYTI_SEV_LOW, w,
                         "%s: Wheel-Version '%s' is newer than 1.0; installers warn", w, e);
        }
        free(e);
        free(w);
    }
    /* Generator */
    const char *gen = metadata_get(md, "Generator");
    json_set_text(o, "generator", gen);
    if (!gen || str_blank(gen))
        findings_add(out, "wheel.missing-generator", PYTI_SEV_INFO, where0,
                     "%s: no Generator field (the tool that built the wheel)", where0);
    /* Root-Is-Purelib */
    const pyti_metadata_field *rp = NULL;
    for (size_t i = 0; i < md->nfields && !rp; i++)
        if (str_eq_nocase(md->fields[i].name, "Root-Is-Purelib"))
            rp = &md->fields[i];
    if (!rp) {
        json_object_set_new(o, "root_is_purelib", json_null());
        findings_add(out, "wheel.missing-root-is-purelib", PYTI_SEV_MEDIUM, where0,
                     "%s: no Root-Is-Purelib field (installers assume false)", where0);
    } else if (strcmp(rp->value, "true") == 0 || strcmp(rp->value, "false") == 0) {
        json_object_set_new(o, "root_is_purelib", json_boolean(rp->value[0] == 't'));
    } else {
        char *w = wloc(dist_info, "WHEEL", rp->line);
        char *e = str_excerpt(rp->value, strlen(rp->value), EXCERPT);
        bool t = str_eq_nocase(rp->value, "true");
        json_object_set_new(o, "root_is_purelib", t || str_eq_nocase(rp->value, "false")
                                                      ? json_boolean(t) : json_null());
        findings_add(out, "wheel.invalid-root-is-purelib", PYTI_SEV_MEDIUM, w,
                     "%s: Root-Is-Purelib '%s' is not 'true' or 'false'", w, e);
        free(e);
        free(w);
    }
    /* Tag lines */
    pyti_strv tags = PYTI_STRV_INIT;
    json_t *jtags = json_array();
    for (size_t i = 0; i < md->nfields; i++) {
        const pyti_metadata_field *f = &md->fields[i];
        if (!str_eq_nocase(f->name, "Tag"))
            continue;
        json_array_append_new(jtags, json_text(f->value));
        pyti_strv exp = PYTI_STRV_INIT;
        if (!expand_tag(f->value, &exp)) {
            char *w = wloc(dist_info, "WHEEL", f->line);
            char *e = str_excerpt(f->value, strlen(f->value), EXCERPT);
            findings_add(out, "wheel.invalid-tag", PYTI_SEV_MEDIUM, w,
                         "%s: Tag '%s' is not 'python-abi-platform' (or expands to more "
                         "than %d tags)", w, e, MAX_TAGS);
            free(e);
            free(w);
        }
        for (size_t k = 0; k < exp.len && tags.len < MAX_TAGS; k++)
            strv_push_unique(&tags, exp.items[k]);
        strv_free(&exp);
    }
    json_object_set_new(o, "tags", jtags);
    if (json_array_size(jtags) == 0)
        findings_add(out, "wheel.missing-tag", PYTI_SEV_MEDIUM, where0,
                     "%s: no Tag lines (the compatibility tags of the wheel)", where0);
    const char *build = metadata_get(md, "Build");
    json_set_text(o, "build", build);
    if (filename && *filename) {
        const char *base = path_basename(filename);
        pyti_dist_filename fn;
        pyti_error ferr = {0};
        if (dist_filename_parse(base, &fn, &ferr) != PYTI_OK || fn.kind != PYTI_DIST_WHEEL) {
            char *e = str_excerpt(base, strlen(base), EXCERPT);
            findings_add(out, "wheel.filename-unparsable", PYTI_SEV_LOW, where0,
                         "cannot compare WHEEL with the file name '%s': %s", e,
                         ferr.msg[0] ? ferr.msg : "not a wheel file name");
            free(e);
        } else {
            if (json_array_size(jtags))
                check_tags(&tags, &fn, base, where0, out);
            check_dist_info_name(dist_info, &fn, base, out);
            if ((build || fn.build) && !(build && fn.build && strcmp(build, fn.build) == 0)) {
                char *e = str_excerpt(base, strlen(base), EXCERPT);
                findings_add(out, "wheel.build-tag-mismatch", PYTI_SEV_LOW, where0,
                             "%s: Build '%s' differs from the build tag of the file name '%s'",
                             where0, build ? build : "(none)", e);
                free(e);
            }
        }
        dist_filename_free(&fn);
    }
    strv_free(&tags);
    metadata_free(md);
    free(where0);
    return o;
}

/* ---- RECORD: the tree ----------------------------------------------- */

typedef struct tree_ent {
    char *rel;
    char type; /* 'f' regular file, 'd' directory, 'l' symlink, 'o' anything else */
    bool listed;
} tree_ent;

typedef struct tree {
    tree_ent *items;
    size_t len, cap;
    bool truncated;
    int error; /* errno of the first directory that could not be read */
    char *error_path;
} tree;

static void tree_add(tree *t, char *rel, char type)
{
    if (t->len == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->items = xreallocarray(t->items, t->cap, sizeof *t->items);
    }
    t->items[t->len++] = (tree_ent){rel, type, false};
}

static void walk(tree *t, int dfd, const char *prefix, int depth)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return;
    }
    struct dirent *de;
    while (!t->truncated && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (t->len >= TREE_MAX_FILES) {
            t->truncated = true;
            break;
        }
        char *rel = *prefix ? xasprintf("%s/%s", prefix, de->d_name) : xstrdup(de->d_name);
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            free(rel);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            tree_add(t, xstrdup(rel), 'd');
            if (depth >= TREE_MAX_DEPTH || strlen(rel) > RECORD_PATH_MAX) {
                t->truncated = true;
                free(rel);
                break;
            }
            int sub = openat(dirfd(d), de->d_name,
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                if (!t->error) {
                    t->error = errno;
                    t->error_path = xstrdup(rel);
                }
            } else {
                walk(t, sub, rel, depth + 1);
            }
            free(rel);
        } else {
            tree_add(t, rel, S_ISREG(st.st_mode) ? 'f' : S_ISLNK(st.st_mode) ? 'l' : 'o');
        }
    }
    closedir(d);
}

static int tree_cmp(const void *a, const void *b)
{
    return strcmp(((const tree_ent *)a)->rel, ((const tree_ent *)b)->rel);
}

static tree_ent *tree_find(tree *t, const char *rel)
{
    tree_ent key = {(char *)rel, 0, false};
    return bsearch(&key, t->items, t->len, sizeof *t->items, tree_cmp);
}

/* ---- RECORD: verification ------------------------------------------- */

/* The RECORD path in normal form ("a//./b" -> "a/b"), or NULL with *why
 * if it is empty, absolute or has a ".." component. */
static char *record_path_norm(const char *p, const char **why)
{
    if (!*p) {
        *why = "is empty";
        return NULL;
    }
    if (p[0] == '/' || p[0] == '\\' || (isalpha((unsigned char)p[0]) && p[1] == ':')) {
        *why = "is absolute";
        return NULL;
    }
    if (strlen(p) > RECORD_PATH_MAX) {
        *why = "is too long";
        return NULL;
    }
    pyti_buf b = PYTI_BUF_INIT;
    for (const char *s = p; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            buf_free(&b);
            *why = "has a '..' component";
            return NULL;
        }
        if (!(n == 0 || (n == 1 && s[0] == '.'))) {
            if (b.len)
                buf_putc(&b, '/');
            buf_append(&b, s, n);
        }
        s += n + (e ? 1 : 0);
    }
    if (b.len == 0) {
        buf_free(&b);
        *why = "names the root directory";
        return NULL;
    }
    return buf_detach(&b);
}

static bool is_signature_or_record(const char *rel, const char *dist_info)
{
    size_t n = strlen(dist_info);
    if (strncmp(rel, dist_info, n) != 0 || rel[n] != '/')
        return false;
    const char *b = rel + n + 1;
    return strcmp(b, "RECORD") == 0 || strcmp(b, "RECORD.jws") == 0 ||
           strcmp(b, "RECORD.p7s") == 0;
}

typedef struct rec_entry {
    char *norm;
    size_t row;
} rec_entry;

static int rec_entry_cmp(const void *a, const void *b)
{
    const rec_entry *x = a, *y = b;
    int c = strcmp(x->norm, y->norm);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

typedef struct rec_counts {
    size_t entries, verified, mismatched, missing, unlisted, unverified, malformed;
} rec_counts;

static void verify_entry(const char *root, const char *dist_info, const pyti_record_row *row,
                         const char *norm, tree *t, pyti_findings *out, rec_counts *n)
{
    char *w = wloc(dist_info, "RECORD", row->line);
    char *pe = str_excerpt(row->f[0], strlen(row->f[0]), EXCERPT);
    const char *hash = row->f[1] ? row->f[1] : "";
    const char *size = row->f[2] ? row->f[2] : "";
    bool is_record = is_signature_or_record(norm, dist_info);
    tree_ent *te = tree_find(t, norm);
    if (te)
        te->listed = true;
    if (!te) {
        n->missing++;
        findings_add(out, "wheel.record-missing-file", PYTI_SEV_HIGH, w,
                     "%s: '%s' is listed in RECORD but is not in the wheel", w, pe);
        goto done;
    }
    if (te->type != 'f') {
        n->missing++;
        findings_add(out, "wheel.record-not-regular-file", PYTI_SEV_HIGH, w,
                     "%s: '%s' is a %s, not a regular file", w, pe,
                     te->type == 'l' ? "symbolic link" : te->type == 'd' ? "directory"
                                                                       : "special file");
        goto done;
    }
    if (is_record) {
        /* RECORD cannot hold its own hash; signatures are outside it */
        goto done;
    }
    if (!*hash) {
        n->unverified++;
        if (!str_endswith(norm, ".pyc"))
            findings_add(out, "wheel.record-missing-hash", PYTI_SEV_MEDIUM, w,
                         "%s: '%s' has no hash; only RECORD itself (and .pyc files) may omit "
                         "it", w, pe);
        goto done;
    }
    const char *eq = strchr(hash, '=');
    char *he = str_excerpt(hash, strlen(hash), EXCERPT);
    if (!eq || eq == hash || !eq[1]) {
        n->unverified++;
        findings_add(out, "wheel.record-malformed-hash", PYTI_SEV_HIGH, w,
                     "%s: '%s' has hash '%s', not 'algorithm=urlsafe-base64-digest'", w, pe, he);
        free(he);
        goto done;
    }
    char *algo = str_lower(xstrndup(hash, (size_t)(eq - hash)));
    if (strcmp(algo, "md5") == 0 || strcmp(algo, "sha1") == 0) {
        n->unverified++;
        findings_add(out, "wheel.record-weak-hash", PYTI_SEV_MEDIUM, w,
                     "%s: '%s' is hashed with %s, too weak to vouch for the file (use sha256)",
                     w, pe, algo);
        free(algo);
        free(he);
        goto done;
    }
    char *fpath = path_join(root, norm);
    unsigned char digest[PYTI_DIGEST_MAX];
    size_t dlen = 0;
    unsigned long long fsize = 0;
    pyti_error herr = {0};
    pyti_status rc = hash_file_named(fpath, algo, digest, &dlen, &fsize, &herr);
    free(fpath);
    if (rc == PYTI_ERR_INPUT) {
        n->unverified++;
        findings_add(out, "wheel.record-unknown-hash-algorithm", PYTI_SEV_MEDIUM, w,
                     "%s: '%s' uses hash algorithm '%s', which pyti cannot check", w, pe,
                     algo);
    } else if (rc != PYTI_OK) {
        n->unverified++;
        findings_add(out, "wheel.record-unreadable-file", PYTI_SEV_HIGH, w,
                     "%s: '%s' cannot be read: %s", w, pe, herr.msg);
    } else {
        char *got = hash_urlsafe_b64_nopad(digest, dlen);
        size_t vl = strlen(eq + 1);
        while (vl && eq[1 + vl - 1] == '=')
            vl--;
        bool hash_ok = vl == strlen(got) && memcmp(got, eq + 1, vl) == 0;
        bool size_ok = true;
        if (*size) {
            char *endp = NULL;
            errno = 0;
            unsigned long long want = isdigit((unsigned char)size[0])
                                          ? strtoull(size, &endp, 10) : 0;
            if (!endp || *endp || errno) {
                char *se = str_excerpt(size, strlen(size), EXCERPT);
                findings_add(out, "wheel.record-malformed-size", PYTI_SEV_MEDIUM, w,
                             "%s: '%s' has size '%s', not a decimal number of bytes", w, pe,
                             se);
                free(se);
            } else if (want != fsize) {
                size_ok = false;
                findings_add(out, "wheel.record-size-mismatch", PYTI_SEV_HIGH, w,
                             "%s: '%s' is %llu bytes but RECORD says %llu", w, pe, fsize, want);
            }
        } else {
            findings_add(out, "wheel.record-missing-size", PYTI_SEV_LOW, w,
                         "%s: '%s' has a hash but no size", w, pe);
        }
        if (!hash_ok)
            findings_add(out, "wheel.record-hash-mismatch", PYTI_SEV_HIGH, w,
                         "%s: '%s' does not match its RECORD hash (%s: RECORD says %s, file "
                         "has %s)", w, pe, algo, he, got);
        if (hash_ok && size_ok)
            n->verified++;
        else
            n->mismatched++;
        free(got);
    }
    free(algo);
    free(he);
done:
    free(pe);
    free(w);
}

json_t *wheel_verify_record(const char *root, const char *dist_info,
                            pyti_findings *out, pyti_error *err)
{
    pyti_buf text = PYTI_BUF_INIT;
    pyti_error lerr = {0};
    char *where0 = wloc(dist_info, "RECORD", 0);
    pyti_status rc = read_member(root, dist_info, "RECORD", RECORD_MAX_BYTES, &text, &lerr);
    if (rc != PYTI_OK) {
        findings_add(out, rc == PYTI_ERR_NOTFOUND ? "wheel.record-missing"
                                                  : "wheel.record-unreadable",
                     PYTI_SEV_HIGH, where0, "%s", lerr.msg);
        if (err)
            *err = lerr;
        buf_free(&text);
        free(where0);
        return NULL;
    }
    pyti_record_rows rows = {NULL, 0, 0, false};
    record_parse(text.data ? text.data : "", text.len, RECORD_MAX_ENTRIES, &rows);
    buf_free(&text);

    tree t = {NULL, 0, 0, false, 0, NULL};
    int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rfd < 0) {
        pyti_error_errno(err, PYTI_ERR_IO, errno, "opening wheel directory %s", root);
        record_rows_free(&rows);
        free(where0);
        return NULL;
    }
    walk(&t, rfd, "", 0);
    qsort(t.items, t.len, sizeof *t.items, tree_cmp);
    if (t.truncated)
        findings_add(out, "wheel.tree-too-large", PYTI_SEV_HIGH, NULL,
                     "the wheel has more than %d files or directories nested deeper than %d; "
                     "the check for unlisted files is incomplete", TREE_MAX_FILES,
                     TREE_MAX_DEPTH);
    if (t.error)
        findings_add(out, "wheel.unreadable-directory", PYTI_SEV_HIGH, t.error_path,
                     "directory '%s' of the wheel cannot be read: %s", t.error_path,
                     strerror(t.error));
    if (rows.truncated)
        findings_add(out, "wheel.record-too-many-entries", PYTI_SEV_HIGH, where0,
                     "%s: more than %d entries; the rest were not checked", where0,
                     RECORD_MAX_ENTRIES);

    rec_counts n = {0};
    rec_entry *ents = xcalloc(rows.len ? rows.len : 1, sizeof *ents);
    size_t nents = 0;
    for (size_t i = 0; i < rows.len; i++) {
        pyti_record_row *r = &rows.items[i];
        n.entries++;
        char *w = wloc(dist_info, "RECORD", r->line);
        if (r->bad || r->nf != 3 || !r->f[0] || !*r->f[0]) {
            n.malformed++;
            char *first = r->f[0] ? str_excerpt(r->f[0], strlen(r->f[0]), EXCERPT)
                                  : xstrdup("");
            if (r->bad)
                findings_add(out, "wheel.record-malformed-row", PYTI_SEV_HIGH, w,
                             "%s: the row '%s' %s", w, first, r->why);
            else if (r->nf != 3)
                findings_add(out, "wheel.record-malformed-row", PYTI_SEV_HIGH, w,
                             "%s: the row '%s' has %u field(s); RECORD rows are "
                             "'path,hash,size'", w, first, r->nf);
            else
                findings_add(out, "wheel.record-malformed-row", PYTI_SEV_HIGH, w,
                             "%s: the row has an empty path", w);
            free(first);
            /* still count the path as listed so it is not also "unlisted" */
            const char *why = NULL;
            char *norm = r->f[0] ? record_path_norm(r->f[0], &why) : NULL;
            tree_ent *te = norm ? tree_find(&t, norm) : NULL;
            if (te)
                te->listed = true;
            free(norm);
            free(w);
            continue;
        }
        const char *why = NULL;
        char *norm = record_path_norm(r->f[0], &why);
        if (!norm) {
            char *pe = str_excerpt(r->f[0], strlen(r->f[0]), EXCERPT);
            findings_add(out, "wheel.record-path-escapes", PYTI_SEV_HIGH, w,
                         "%s: path '%s' %s; RECORD paths must stay inside the wheel", w, pe,
                         why);
            free(pe);
            n.malformed++;
            free(w);
            continue;
        }
        free(w);
        ents[nents++] = (rec_entry){norm, i};
    }
    /* duplicates via a sorted copy; findings then follow RECORD's order */
    qsort(ents, nents, sizeof *ents, rec_entry_cmp);
    const char **norm_of = xcalloc(rows.len ? rows.len : 1, sizeof *norm_of);
    unsigned *dup_of = xcalloc(rows.len ? rows.len : 1, sizeof *dup_of);
    for (size_t i = 0; i < nents; i++) {
        norm_of[ents[i].row] = ents[i].norm;
        if (i > 0 && strcmp(ents[i].norm, ents[i - 1].norm) == 0) {
            size_t k = i - 1;
            while (k > 0 && strcmp(ents[k - 1].norm, ents[i].norm) == 0)
                k--;
            dup_of[ents[i].row] = rows.items[ents[k].row].line;
        }
    }
    bool self_listed = false;
    char *record_rel = xasprintf("%s/RECORD", dist_info);
    for (size_t i = 0; i < rows.len; i++) {
        const pyti_record_row *r = &rows.items[i];
        if (!norm_of[i])
            continue;
        if (dup_of[i]) {
            char *w = wloc(dist_info, "RECORD", r->line);
            char *pe = str_excerpt(r->f[0], strlen(r->f[0]), EXCERPT);
            findings_add(out, "wheel.record-duplicate-entry", PYTI_SEV_MEDIUM, w,
                         "%s: '%s' is listed again (first on line %u)", w, pe, dup_of[i]);
            free(pe);
            free(w);
            continue;
        }
        if (strcmp(norm_of[i], record_rel) == 0)
            self_listed = true;
        verify_entry(root, dist_info, r, norm_of[i], &t, out, &n);
    }
    free(norm_of);
    free(dup_of);
    if (!self_listed && !rows.truncated)
        findings_add(out, "wheel.record-not-self-listed", PYTI_SEV_LOW, where0,
                     "%s: RECORD does not list itself", where0);
    for (size_t i = 0; i < t.len; i++) {
        const tree_ent *te = &t.items[i];
        if (te->listed || te->type == 'd' || is_signature_or_record(te->rel, dist_info))
            continue;
        if (rows.truncated)
            break;
        n.unlisted++;
        char *pe = str_excerpt(te->rel, strlen(te->rel), EXCERPT);
        findings_add(out, "wheel.record-unlisted-file", PYTI_SEV_MEDIUM, te->rel,
                     "'%s' is in the wheel but not listed in %s/RECORD, so nothing vouches "
                     "for it", pe, dist_info);
        free(pe);
    }
    free(record_rel);

    json_t *o = json_object();
    json_object_set_new(o, "entries", json_integer((json_int_t)n.entries));
    json_object_set_new(o, "verified", json_integer((json_int_t)n.verified));
    json_object_set_new(o, "mismatched", json_integer((json_int_t)n.mismatched));
    json_object_set_new(o, "missing", json_integer((json_int_t)n.missing));
    json_object_set_new(o, "unlisted", json_integer((json_int_t)n.unlisted));
    json_object_set_new(o, "unverified", json_integer((json_int_t)n.unverified));
    json_object_set_new(o, "malformed", json_integer((json_int_t)n.malformed));

    for (size_t i = 0; i < nents; i++)
        free(ents[i].norm);
    free(ents);
    record_rows_free(&rows);
    for (size_t i = 0; i < t.len; i++)
        free(t.items[i].rel);
    free(t.items);
    free(t.error_path);
    free(where0);
    return o;
}
