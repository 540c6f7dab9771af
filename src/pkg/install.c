/* install.c — the native wheel installer (see install.h): staging,
 * verification, the plan of every file's destination, conflict checks,
 * the commit with its journal and rollback, byte-compilation, and the
 * RECORD pip would write.
 *
 * A batch goes through four phases; only the last touches the target:
 *
 *  1. stage: each wheel is unpacked by archive_extract into a private
 *     staging directory (<tmpfs or venv>/.pyti-install-XXXXXX/t<N>), its
 *     RECORD verified, WHEEL and entry_points.txt read;
 *  2. plan: every file gets its destination (root + relative path), as
 *     pip's _install_wheel would place it; launchers, rewritten scripts
 *     and metadata are written into the staging directory with their
 *     final bytes and modes;
 *  3. check: no two files of the batch at one path (or one under the
 *     other), nothing in the way on disk (a file, unless overwrite; a
 *     directory or a symlink, ever), no other version of a project
 *     installed;
 *  4. commit: files are placed below directory descriptors opened with
 *     O_NOFOLLOW from the scheme's roots — renamed (whole directories when
 *     their destination is new) when staging shares the file system, else
 *     copied into O_EXCL files; each step is journalled (directories made,
 *     files and directories placed, files replaced and kept aside) so any
 *     failure is undone; then optional byte-compilation, then each
 *     RECORD.
 */
#include "pkg/install.h"
#include "pkg/install_internal.h"

#include "common/buf.h"
#include "common/hash.h"
#include "common/path.h"
#include "common/str.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "pkg/archive.h"
#include "pkg/name.h"
#include "pkg/record.h"
#include "pkg/wheel.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define WHEEL_FILE_MAX (1u << 20)
#define EP_FILE_MAX (16u << 20)
#define RECORD_FILE_MAX (64u << 20)
#define SCRIPT_MAX (512u << 20)
#define TREE_DEPTH_MAX 128
#define MAX_PROBLEMS_SHOWN 3

enum { R_PURELIB, R_PLATLIB, R_SCRIPTS, R_HEADERS, R_DATA, R_NROOTS };
static const char *const scheme_keys[R_NROOTS] = {"purelib", "platlib", "scripts", "headers",
                                                  "data"};

typedef enum item_kind {
    IK_FILE,     /* a file of the wheel */
    IK_SCRIPT,   /* a file of .data/scripts (maybe rewritten) */
    IK_LAUNCHER, /* a console or gui launcher */
    IK_META,     /* INSTALLER, REQUESTED, direct_url.json */
    IK_RECORD,   /* RECORD, written after everything else */
} item_kind;

typedef struct item {
    item_kind kind;
    char *src;         /* wheel files: the path inside the wheel */
    int root;          /* R_* */
    char *rel;         /* below the root */
    char *abs;         /* normalised absolute destination */
    char *record_path; /* relative to the wheel's lib dir, as pip writes it */
    char *content;     /* the staged file with the final bytes */
    mode_t mode;
    bool changed;      /* bytes differ from the wheel's: RECORD rehashes */
    char *hash, *size; /* for changed and generated files */
    bool shadowed;     /* a wheel file replaced by generated metadata: not moved */
    bool replaces_batch; /* an earlier wheel of the batch wrote this path */
    bool committed;
    char *backup;      /* an existing file kept aside (name in the same directory) */
    long move;         /* the directory move that places it, or -1 */
} item;

/* A staged directory moved into place whole: its destination did not
 * exist and every file below it is installed as it is, at the same
 * relative place (see plan_moves). */
typedef struct dir_move {
    char *src;         /* staged path, relative to the tree */
    int root;
    char *rel;         /* destination below the root */
    bool done, failed;
} dir_move;

typedef struct wheel {
    const char *arg;    /* as given */
    char *abs_path;     /* absolute, normalised */
    pyti_dist_filename fn;
    bool fn_ok;
    size_t index;       /* in the batch */
    char *tree, *gen;   /* <stage>/t<index>, and <stage>/gen shared by the batch */
    char *dist_info;
    char *name, *version;
    char *roots[R_NROOTS];
    int lib_root;
    item *items;
    size_t nitems, cap;
    pyti_record_rows rows;
    pyti_ep_map console, gui;
    size_t ngen;
    size_t launchers;
    pyti_strv pyc_abs;   /* compiled files, as the interpreter named them */
    pyti_strv files, dirs; /* the staged tree, sorted */
    dir_move *moves;
    size_t nmoves;
} wheel;

/* ---- small helpers -------------------------------------------------- */

static mode_t current_umask(void)
{
    FILE *fp = fopen("/proc/self/status", "re");
    if (fp) {
        char line[256];
        unsigned m;
        while (fgets(line, sizeof line, fp))
            if (sscanf(line, "Umask: %o", &m) == 1) {
                fclose(fp);
                return (mode_t)m & 0777;
            }
        fclose(fp);
    }
    mode_t m = umask(022);
    umask(m);
    return m;
}

static char *abspath(const char *p)
{
    if (p[0] == '/')
        return install_normpath(p);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return install_normpath(p);
    char *j = xasprintf("%s/%s", cwd, p);
    char *n = install_normpath(j);
    free(j);
    return n;
}

static item *add_item(wheel *w)
{
    if (w->nitems == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 64;
        w->items = xreallocarray(w->items, w->cap, sizeof *w->items);
    }
    item *it = &w->items[w->nitems++];
    memset(it, 0, sizeof *it);
    it->move = -1;
    return it;
}

static void item_set_dest(wheel *w, item *it, int root, const char *rel)
{
    it->root = root;
    it->rel = xstrdup(rel);
    char *j = xasprintf("%s/%s", w->roots[root], rel);
    it->abs = install_normpath(j);
    free(j);
    it->record_path = install_relpath(it->abs, w->roots[w->lib_root]);
}

/* Writes data to a new file in the wheel's gen directory with mode;
 * returns its path. */
static char *write_gen(wheel *w, const void *data, size_t len, mode_t mode, pyti_error *err)
{
    char *p = xasprintf("%s/%zu-%zu", w->gen, w->index, w->ngen++);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        pyti_error_errno(err, PYTI_ERR_IO, errno, "creating %s", p);
        free(p);
        return NULL;
    }
    const char *d = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, d, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            pyti_error_errno(err, PYTI_ERR_IO, n < 0 ? errno : EIO, "writing %s", p);
            close(fd);
            free(p);
            return NULL;
        }
        d += n;
        left -= (size_t)n;
    }
    if (fchmod(fd, mode) != 0 || close(fd) != 0) {
        pyti_error_errno(err, PYTI_ERR_IO, errno, "writing %s", p);
        free(p);
        return NULL;
    }
    return p;
}

static void set_hash(item *it, const void *data, size_t len)
{
    it->hash = hash_record_sha256(data, len);
    it->size = xasprintf("%zu", len);
}

/* ---- the scheme ----------------------------------------------------- */

void install_scheme_free(pyti_install_scheme *s)
{
    free(s->purelib);
    free(s->platlib);
    free(s->scripts);
    free(s->headers);
    free(s->data);
    free(s->python);
    free(s->python_version);
    memset(s, 0, sizeof *s);
}

static bool valid_xy(const char *v)
{
    size_t a = strspn(v, "0123456789");
    if (a == 0 || a > 4 || v[a] != '.')
        return false;
    size_t b = strspn(v + a + 1, "0123456789");
    return b > 0 && b <= 4 && v[a + 1 + b] == '\0';
}

pyti_status install_scheme_for_venv(const char *venv_dir, const char *python_version,
                                    pyti_install_scheme *out, pyti_error *err)
{
    memset(out, 0, sizeof *out);
    char *venv = abspath(venv_dir);
    char *cfg = path_join(venv, "pyvenv.cfg");
    char *ver = NULL;
    pyti_status rc = PYTI_OK;
    if (!path_is_file(cfg)) {
        rc = pyti_error_set(err, PYTI_ERR_NOTFOUND, "%s is not a virtual environment (no "
                            "pyvenv.cfg)", venv);
        goto done;
    }
    if (python_version) {
        ver = xstrdup(python_version);
    } else {
        pyti_buf text = PYTI_BUF_INIT;
        rc = path_read_file(cfg, 1u << 20, &text, err);
        pyti_strv lines = PYTI_STRV_INIT;
        strv_split(&lines, buf_cstr(&text), "\n");
        buf_free(&text);
        for (size_t i = 0; rc == PYTI_OK && i < lines.len && !ver; i++) {
            char *eq = strchr(lines.items[i], '=');
            if (!eq)
                continue;
            *eq = '\0';
            char *k = str_trim(lines.items[i]), *v = str_trim(eq + 1);
            if (strcmp(k, "version") == 0 || strcmp(k, "version_info") == 0) {
                /* "3.11.2" -> "3.11" */
                char *d1 = strchr(v, '.');
                char *d2 = d1 ? d1 + 1 + strspn(d1 + 1, "0123456789") : NULL;
                ver = d2 ? xstrndup(v, (size_t)(d2 - v)) : xstrdup(v);
            }
        }
        strv_free(&lines);
        if (rc == PYTI_OK && !ver)
            rc = pyti_error_set(err, PYTI_ERR_USAGE, "%s names no Python version; pass it "
                                "explicitly", cfg);
        if (rc != PYTI_OK)
            goto done;
    }
    if (!valid_xy(ver)) {
        rc = pyti_error_set(err, PYTI_ERR_USAGE, "'%s' is not a Python version 'X.Y'", ver);
        goto done;
    }
    out->purelib = xasprintf("%s/lib/python%s/site-packages", venv, ver);
    out->platlib = xstrdup(out->purelib);
    out->scripts = xasprintf("%s/bin", venv);
    out->headers = xasprintf("%s/include/site/python%s", venv, ver);
    out->data = xstrdup(venv);
    out->python = xasprintf("%s/bin/python", venv);
    out->python_version = ver;
    ver = NULL;
done:
    free(ver);
    free(cfg);
    free(venv);
    return rc;
}

/* ---- stage: unpack, verify, read ------------------------------------ */

/* Reads a regular file of the staged tree (never a link). */
static pyti_status read_staged(const char *tree, const char *rel, size_t max, pyti_buf *out,
                               pyti_error *err)
{
    char *p = path_join(tree, rel);
    struct stat st;
    pyti_status rc;
    if (lstat(p, &st) != 0)
        rc = pyti_error_errno(err, errno == ENOENT ? PYTI_ERR_NOTFOUND : PYTI_ERR_IO, errno,
                              "%s", rel);
    else if (!S_ISREG(st.st_mode))
        rc = pyti_error_set(err, PYTI_ERR_INPUT, "%s is not a regular file", rel);
    else if ((unsigned long long)st.st_size > max)
        rc = pyti_error_set(err, PYTI_ERR_LIMIT, "%s is larger than %zu bytes", rel, max);
    else
        rc = path_read_file(p, max, out, err);
    free(p);
    return rc;
}

/* The WHEEL file as pip reads it (email.parser, compat32): the first
 * Wheel-Version and Root-Is-Purelib headers. */
static pyti_status read_wheel_file(wheel *w, bool *purelib, pyti_error *err)
{
    pyti_buf text = PYTI_BUF_INIT;
    char *rel = xasprintf("%s/WHEEL", w->dist_info);
    pyti_status rc = read_staged(w->tree, rel, WHEEL_FILE_MAX, &text, err);
    free(rel);
    if (rc != PYTI_OK) {
        buf_free(&text);
        return rc;
    }
    if (!str_valid_utf8(buf_cstr(&text), text.len) || memchr(buf_cstr(&text), 0, text.len)) {
        buf_free(&text);
        return pyti_error_set(err, PYTI_ERR_INPUT, "%s/WHEEL is not UTF-8 text", w->dist_info);
    }
    char *version = NULL, *rip = NULL;
    char **cur = NULL; /* the header being continued, if we keep it */
    const char *p = buf_cstr(&text);
    while (*p) {
        size_t n = strcspn(p, "\n");
        size_t len = n;
        if (len && p[len - 1] == '\r')
            len--;
        const char *next = p + n + (p[n] == '\n');
        if (len == 0)
            break; /* end of the headers */
        if (p[0] == ' ' || p[0] == '\t') {
            if (cur && *cur) {
                char *j = xasprintf("%s\n%.*s", *cur, (int)len, p);
                free(*cur);
                *cur = j;
            }
            p = next;
            continue;
        }
        size_t k = 0;
        while (k < len && p[k] != ':' && (unsigned char)p[k] >= 0x21 && (unsigned char)p[k] <= 0x7e)
            k++;
        if (k >= len || p[k] != ':')
            break; /* not a header: the body starts (a defect pip ignores) */
        const char *v = p + k + 1;
        size_t vl = len - k - 1;
        while (vl && (*v == ' ' || *v == '\t')) {
            v++;
            vl--;
        }
        cur = NULL;
        if (k == strlen("Wheel-Version") && strncasecmp(p, "Wheel-Version", k) == 0 && !version)
            cur = &version;
        else if (k == strlen("Root-Is-Purelib") && strncasecmp(p, "Root-Is-Purelib", k) == 0 &&
                 !rip)
            cur = &rip;
        if (cur)
            *cur = xstrndup(v, vl);
        p = next;
    }
    buf_free(&text);
    if (!version) {
        rc = pyti_error_set(err, PYTI_ERR_INPUT, "%s/WHEEL has no Wheel-Version", w->dist_info);
    } else {
        /* tuple(map(int, version.strip().split("."))); major > 1 refused */
        char *v = str_trim(version);
        unsigned long major = 0;
        bool ok = *v != '\0';
        int field = 0;
        for (char *s = v; ok;) {
            size_t d = strspn(s, "0123456789");
            ok = d > 0 && d <= 9;
            if (!ok)
                break;
            if (field++ == 0)
                major = strtoul(s, NULL, 10);
            s += d;
            if (*s == '\0')
                break;
            if (*s != '.')
                ok = false;
            s++;
        }
        if (!ok)
            rc = pyti_error_set(err, PYTI_ERR_INPUT, "%s/WHEEL: invalid Wheel-Version '%s'",
                                w->dist_info, v);
        else if (major > 1)
            rc = pyti_error_set(err, PYTI_ERR_INPUT, "%s/WHEEL: Wheel-Version %s is not "
                                "supported (1.x only)", w->dist_info, v);
    }
    *purelib = rip && strcasecmp(rip, "true") == 0;
    free(version);
    free(rip);
    return rc;
}

/* Findings of wheel_verify_record that refuse a wheel: everything but a
 * missing size or RECORD not listing itself. */
static bool blocking_finding(const char *id)
{
    return strcmp(id, "wheel.record-missing-size") != 0 &&
           strcmp(id, "wheel.record-not-self-listed") != 0;
}

static pyti_status verify_record(wheel *w, pyti_error *err)
{
    pyti_findings f = PYTI_FINDINGS_INIT;
    pyti_error verr = {0};
    json_t *sum = wheel_verify_record(w->tree, w->dist_info, &f, &verr);
    pyti_status rc = PYTI_OK;
    if (!sum) {
        rc = pyti_error_set(err, verr.code == PYTI_ERR_NOTFOUND ? PYTI_ERR_INPUT : verr.code,
                            "RECORD cannot be verified: %s", verr.msg);
        findings_free(&f);
        return rc;
    }
    pyti_buf msg = PYTI_BUF_INIT;
    size_t problems = 0;
    for (size_t i = 0; i < f.len; i++) {
        if (!blocking_finding(f.items[i].id))
            continue;
        if (problems++ < MAX_PROBLEMS_SHOWN) {
            if (msg.len)
                buf_puts(&msg, "; ");
            buf_puts(&msg, f.items[i].message);
        }
    }
    json_int_t unverified = json_integer_value(json_object_get(sum, "unverified"));
    if (!problems && unverified > 0) {
        problems = (size_t)unverified;
        buf_printf(&msg, "%lld file(s) listed in RECORD have no hash", (long long)unverified);
    }
    if (problems) {
        if (problems > MAX_PROBLEMS_SHOWN)
            buf_printf(&msg, "; and %zu more", problems - MAX_PROBLEMS_SHOWN);
        rc = pyti_error_set(err, PYTI_ERR_INPUT, "RECORD verification failed: %s",
                            buf_cstr(&msg));
    }
    buf_free(&msg);
    json_decref(sum);
    findings_free(&f);
    return rc;
}

/* pip's wheel_dist_info_dir check: the canonical name of the .dist-info
 * directory starts with the canonical project name of the file name. */
static pyti_status check_dist_info(wheel *w, pyti_error *err)
{
    char *a = name_normalize(w->dist_info), *b = name_normalize(w->fn.name);
    pyti_status rc = str_startswith(a, b) ? PYTI_OK
        : pyti_error_set(err, PYTI_ERR_INPUT, ".dist-info directory '%s' does not start with "
                         "'%s'", w->dist_info, b);
    free(a);
    free(b);
    if (rc != PYTI_OK)
        return rc;
    size_t n = strlen(w->dist_info) - strlen(".dist-info");
    const char *dash = memchr(w->dist_info, '-', n);
    w->name = dash ? xstrndup(w->dist_info, (size_t)(dash - w->dist_info))
                   : xstrndup(w->dist_info, n);
    w->version = dash ? xstrndup(dash + 1, n - (size_t)(dash - w->dist_info) - 1) : xstrdup("");
    return PYTI_OK;
}

/* Every regular file below dir (relative paths, sorted). Anything else
 * than files and directories is refused: RECORD verification already
 * refused links, this keeps the promise local. */
static pyti_status list_files(int dfd, const char *prefix, int depth, pyti_strv *out,
                              pyti_strv *dirs, pyti_error *err)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return pyti_error_errno(err, PYTI_ERR_IO, errno, "reading the staged wheel");
    }
    pyti_status rc = PYTI_OK;
    struct dirent *de;
    while (rc == PYTI_OK && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *rel = *prefix ? xasprintf("%s/%s", prefix, de->d_name) : xstrdup(de->d_name);
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "inspecting %s", rel);
        } else if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                             O_CLOEXEC);
            if (depth >= TREE_DEPTH_MAX)
                rc = pyti_error_set(err, PYTI_ERR_LIMIT, "%s is nested too deeply", rel);
            else if (sub < 0)
                rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "opening %s", rel);
            else
                rc = list_files(sub, rel, depth + 1, out, dirs, err), sub = -1;
            strv_push(dirs, rel);
            if (sub >= 0)
                close(sub);
        } else if (S_ISREG(st.st_mode)) {
            strv_push(out, rel);
        } else {
            rc = pyti_error_set(err, PYTI_ERR_INPUT, "'%s' is not a regular file", rel);
        }
        free(rel);
    }
    closedir(d);
    return rc;
}

/* ---- plan ----------------------------------------------------------- */

static mode_t file_mode(mode_t um, bool exec)
{
    return exec ? ((0777 & ~um) | 0111) : (0666 & ~um);
}

static bool is_generated_meta(const wheel *w, const char *src, const pyti_install_options *o)
{
    size_t n = strlen(w->dist_info);
    if (strncmp(src, w->dist_info, n) != 0 || src[n] != '/')
        return false;
    const char *b = src + n + 1;
    return strcmp(b, "RECORD") == 0 || strcmp(b, "INSTALLER") == 0 ||
           (o->requested && strcmp(b, "REQUESTED") == 0) ||
           (o->direct_url && strcmp(b, "direct_url.json") == 0);
}

/* Places one file of the wheel as pip's _install_wheel would. */
static pyti_status plan_wheel_file(wheel *w, const char *src, mode_t um,
                                   const pyti_install_options *o, const char *python,
                                   pyti_error *err)
{
    const char *slash = strchr(src, '/');
    size_t c0 = slash ? (size_t)(slash - src) : strlen(src);
    bool data = c0 >= 5 && strncmp(src + c0 - 5, ".data", 5) == 0;
    char *tree_path = path_join(w->tree, src);
    struct stat st;
    if (lstat(tree_path, &st) != 0 || !S_ISREG(st.st_mode)) {
        pyti_status rc = pyti_error_set(err, PYTI_ERR_INPUT, "'%s' is not a regular file", src);
        free(tree_path);
        return rc;
    }
    mode_t mode = file_mode(um, (st.st_mode & 0111) != 0);
    if ((st.st_mode & 07777) != mode && chmod(tree_path, mode) != 0) {
        pyti_status rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "setting the mode of %s",
                                          tree_path);
        free(tree_path);
        return rc;
    }
    if (!data) {
        item *it = add_item(w);
        it->kind = IK_FILE;
        it->src = xstrdup(src);
        it->content = tree_path;
        it->mode = mode;
        it->shadowed = is_generated_meta(w, src, o);
        item_set_dest(w, it, w->lib_root, src);
        return PYTI_OK;
    }
    /* <x>.data/<scheme key>/<path> */
    const char *k = slash ? slash + 1 : NULL;
    const char *s2 = k ? strchr(k, '/') : NULL;
    if (!s2 || !s2[1]) {
        free(tree_path);
        return pyti_error_set(err, PYTI_ERR_INPUT, "unexpected file '%s': .data directory "
                              "contents should be named like '<scheme key>/<path>'", src);
    }
    int root = -1;
    for (int r = 0; r < R_NROOTS; r++)
        if ((size_t)(s2 - k) == strlen(scheme_keys[r]) &&
            strncmp(k, scheme_keys[r], (size_t)(s2 - k)) == 0)
            root = r;
    if (root < 0) {
        char *key = xstrndup(k, (size_t)(s2 - k));
        char *e = str_excerpt(key, strlen(key), 80);
        pyti_status rc = pyti_error_set(err, PYTI_ERR_INPUT, "unknown scheme key '%s' (file "
                                        "'%s'); .data directory contents go in data, headers, "
                                        "platlib, purelib or scripts", e, src);
        free(e);
        free(key);
        free(tree_path);
        return rc;
    }
    const char *sub = s2 + 1;
    if (root == R_SCRIPTS &&
        script_is_entrypoint_wrapper(path_basename(sub), &w->console, &w->gui)) {
        free(tree_path); /* setuptools' wrapper for an entry point: pip skips it */
        return PYTI_OK;
    }
    item *it = add_item(w);
    it->kind = root == R_SCRIPTS ? IK_SCRIPT : IK_FILE;
    it->src = xstrdup(src);
    it->mode = mode;
    item_set_dest(w, it, root, sub);
    it->content = tree_path;
    if (root == R_SCRIPTS) {
        char head[8];
        int fd = open(tree_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        ssize_t got = fd >= 0 ? read(fd, head, sizeof head) : -1;
        if (fd >= 0)
            close(fd);
        if (got == (ssize_t)sizeof head && memcmp(head, "#!python", 8) == 0) {
            pyti_buf in = PYTI_BUF_INIT, out = PYTI_BUF_INIT;
            pyti_status rc = path_read_file(tree_path, SCRIPT_MAX, &in, err);
            if (rc == PYTI_OK && script_fix_shebang(buf_cstr(&in), in.len, python, &out)) {
                char *g = write_gen(w, buf_cstr(&out), out.len, mode, err);
                if (!g) {
                    rc = err ? err->code : PYTI_ERR_IO;
                } else {
                    free(it->content);
                    it->content = g;
                    it->changed = true;
                    set_hash(it, buf_cstr(&out), out.len);
                }
            }
            buf_free(&in);
            buf_free(&out);
            if (rc != PYTI_OK)
                return rc;
        }
    }
    return PYTI_OK;
}

static pyti_status plan_generated(wheel *w, item_kind kind, int root, const char *rel,
                                  const void *data, size_t len, mode_t mode, pyti_error *err)
{
    char *g = write_gen(w, data, len, mode, err);
    if (!g)
        return err ? err->code : PYTI_ERR_IO;
    item *it = add_item(w);
    it->kind = kind;
    it->content = g;
    it->mode = mode;
    item_set_dest(w, it, root, rel);
    set_hash(it, data, len);
    return PYTI_OK;
}

static pyti_status plan_launchers(wheel *w, const pyti_install_scheme *s, mode_t um,
                                  pyti_error *err)
{
    pyti_strv specs = PYTI_STRV_INIT;
    console_script_specs(&w->console, s->python_version, &specs);
    size_t nconsole = specs.len;
    gui_script_specs(&w->gui, &specs);
    (void)nconsole;
    char *shebang = NULL;
    pyti_status rc = PYTI_OK;
    for (size_t i = 0; i < specs.len && rc == PYTI_OK; i++) {
        pyti_export_entry e;
        if ((rc = export_entry_parse(specs.items[i], &e, err)) != PYTI_OK)
            break;
        if (!shebang && !(shebang = launcher_shebang(s->python, err))) {
            rc = err ? err->code : PYTI_ERR_USAGE;
            export_entry_free(&e);
            break;
        }
        pyti_buf text = PYTI_BUF_INIT;
        launcher_text(shebang, &e, &text);
        /* distlib: written with the umask, then chmod |0555 */
        rc = plan_generated(w, IK_LAUNCHER, R_SCRIPTS, e.name, buf_cstr(&text), text.len,
                            ((0666 & ~um) | 0555) & 07777, err);
        if (rc == PYTI_OK)
            w->launchers++;
        buf_free(&text);
        export_entry_free(&e);
    }
    free(shebang);
    strv_free(&specs);
    return rc;
}

static pyti_status stage_and_plan(wheel *w, const pyti_install_scheme *s,
                                  const pyti_install_options *o, const char *stage_root,
                                  size_t index, mode_t um, pyti_error *err)
{
    pyti_status rc;
    const char *base = path_basename(w->arg);
    if ((rc = dist_filename_parse(base, &w->fn, err)) != PYTI_OK)
        return rc;
    w->fn_ok = true;
    if (w->fn.kind != PYTI_DIST_WHEEL)
        return pyti_error_set(err, PYTI_ERR_INPUT, "not a wheel file name (*.whl)");
    struct stat st;
    if (stat(w->arg, &st) != 0)
        return pyti_error_errno(err, errno == ENOENT ? PYTI_ERR_NOTFOUND : PYTI_ERR_IO, errno,
                                "cannot open the wheel");
    if (!S_ISREG(st.st_mode))
        return pyti_error_set(err, PYTI_ERR_INPUT, "not a regular file");
    /* few staging directories: on journalling file systems removing them
     * at the end is the dearest step of an install */
    w->index = index;
    w->tree = xasprintf("%s/t%zu", stage_root, index);
    w->gen = xasprintf("%s/gen", stage_root);
    if (mkdir(w->tree, 0700) != 0 || (index == 0 && mkdir(w->gen, 0700) != 0))
        return pyti_error_errno(err, PYTI_ERR_IO, errno, "creating %s", w->tree);
    pyti_extract_stats stats;
    pyti_error xerr = {0};
    if ((rc = archive_extract(w->arg, w->tree, NULL, &stats, &xerr)) != PYTI_OK)
        return pyti_error_set(err, rc, "%s", xerr.msg);
    if (strncmp(stats.format, "ZIP", 3) != 0)
        return pyti_error_set(err, PYTI_ERR_INPUT, "a wheel is a zip archive, this is %s",
                              stats.format);
    if (!(w->dist_info = wheel_find_dist_info(w->tree, err)))
        return err ? err->code : PYTI_ERR_INPUT;
    if ((rc = check_dist_info(w, err)) != PYTI_OK)
        return rc;
    bool purelib = false;
    if ((rc = read_wheel_file(w, &purelib, err)) != PYTI_OK)
        return rc;
    if ((rc = verify_record(w, err)) != PYTI_OK)
        return rc;

    /* the RECORD rows as pip reads them back */
    pyti_buf text = PYTI_BUF_INIT;
    char *rel = xasprintf("%s/RECORD", w->dist_info);
    rc = read_staged(w->tree, rel, RECORD_FILE_MAX, &text, err);
    free(rel);
    if (rc == PYTI_OK && !str_valid_utf8(buf_cstr(&text), text.len))
        rc = pyti_error_set(err, PYTI_ERR_INPUT, "%s/RECORD is not UTF-8", w->dist_info);
    if (rc == PYTI_OK)
        record_parse(buf_cstr(&text), text.len, 0, &w->rows);
    buf_free(&text);
    if (rc != PYTI_OK)
        return rc;

    /* entry points */
    rel = xasprintf("%s/entry_points.txt", w->dist_info);
    rc = read_staged(w->tree, rel, EP_FILE_MAX, &text, err);
    free(rel);
    if (rc == PYTI_ERR_NOTFOUND)
        rc = PYTI_OK;
    else if (rc == PYTI_OK)
        rc = entry_points_parse(buf_cstr(&text), text.len, &w->console, &w->gui, err);
    buf_free(&text);
    if (rc != PYTI_OK)
        return rc;

    /* roots */
    w->lib_root = purelib ? R_PURELIB : R_PLATLIB;
    w->roots[R_PURELIB] = install_normpath(s->purelib);
    w->roots[R_PLATLIB] = install_normpath(s->platlib);
    w->roots[R_SCRIPTS] = install_normpath(s->scripts);
    w->roots[R_DATA] = install_normpath(s->data);
    /* pip: os.path.join(include, dist_name), dist_name from the file name */
    char *dist_name = xstrdup(w->fn.name);
    for (char *c = dist_name; *c; c++)
        if (*c == '_')
            *c = '-';
    char *h = xasprintf("%s/%s", s->headers, dist_name);
    w->roots[R_HEADERS] = install_normpath(h);
    free(h);
    free(dist_name);

    /* the wheel's files */
    int tfd = open(w->tree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    rc = tfd < 0 ? pyti_error_errno(err, PYTI_ERR_IO, errno, "opening %s", w->tree)
                 : list_files(tfd, "", 0, &w->files, &w->dirs, err);
    strv_sort(&w->files);
    strv_sort(&w->dirs);
    for (size_t i = 0; rc == PYTI_OK && i < w->files.len; i++)
        rc = plan_wheel_file(w, w->files.items[i], um, o, s->python, err);
    if (rc != PYTI_OK)
        return rc;

    /* generated: launchers, then INSTALLER, direct_url.json, REQUESTED */
    if ((rc = plan_launchers(w, s, um, err)) != PYTI_OK)
        return rc;
    mode_t gmode = 0666 & ~um;
    char *line = xasprintf("%s\n", o->installer ? o->installer : "pyti");
    rel = xasprintf("%s/INSTALLER", w->dist_info);
    rc = plan_generated(w, IK_META, w->lib_root, rel, line, strlen(line), gmode, err);
    free(rel);
    free(line);
    if (rc == PYTI_OK && o->direct_url) {
        char *url = install_file_url(w->abs_path);
        /* json.dumps({"archive_info": {}, "url": url}, sort_keys=True);
         * the URL is percent-encoded ASCII, nothing to escape */
        char *json = xasprintf("{\"archive_info\": {}, \"url\": \"%s\"}", url);
        rel = xasprintf("%s/direct_url.json", w->dist_info);
        rc = plan_generated(w, IK_META, w->lib_root, rel, json, strlen(json), gmode, err);
        free(rel);
        free(json);
        free(url);
    }
    if (rc == PYTI_OK && o->requested) {
        rel = xasprintf("%s/REQUESTED", w->dist_info);
        rc = plan_generated(w, IK_META, w->lib_root, rel, "", 0, gmode, err);
        free(rel);
    }
    if (rc == PYTI_OK) {
        /* RECORD: its bytes are known only after everything else */
        item *it = add_item(w);
        it->kind = IK_RECORD;
        it->mode = gmode;
        rel = xasprintf("%s/RECORD", w->dist_info);
        item_set_dest(w, it, w->lib_root, rel);
        free(rel);
    }
    return rc;
}

/* ---- check ---------------------------------------------------------- */

typedef struct dest_ref {
    const char *abs;
    size_t w, i;
} dest_ref;

static int dest_cmp(const void *a, const void *b)
{
    const dest_ref *x = a, *y = b;
    int c = strcmp(x->abs, y->abs);
    if (c)
        return c;
    if (x->w != y->w)
        return x->w < y->w ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Items that will be placed (the RECORD placeholder too, at the end). */
static bool placed(const item *it)
{
    return !it->shadowed;
}

static const char *item_what(const item *it)
{
    switch (it->kind) {
    case IK_LAUNCHER: return "the launcher";
    case IK_META: return "the metadata file";
    case IK_RECORD: return "RECORD";
    default: return "the file";
    }
}

/* Two files of the batch at one path, or one below the other. */
static pyti_status check_batch(wheel *ws, size_t n, const pyti_install_options *o,
                               pyti_error *err)
{
    size_t total = 0;
    for (size_t k = 0; k < n; k++)
        total += ws[k].nitems;
    dest_ref *refs = xcalloc(total ? total : 1, sizeof *refs);
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < ws[k].nitems; i++)
            if (placed(&ws[k].items[i]))
                refs[m++] = (dest_ref){ws[k].items[i].abs, k, i};
    qsort(refs, m, sizeof *refs, dest_cmp);
    pyti_status rc = PYTI_OK;
    for (size_t j = 1; j < m && rc == PYTI_OK; j++) {
        if (strcmp(refs[j].abs, refs[j - 1].abs) != 0)
            continue;
        item *a = &ws[refs[j - 1].w].items[refs[j - 1].i];
        item *b = &ws[refs[j].w].items[refs[j].i];
        if (refs[j].w == refs[j - 1].w) {
            /* pip lets a later launcher of the same name replace an earlier one */
            if (a->kind == IK_LAUNCHER && b->kind == IK_LAUNCHER) {
                b->replaces_batch = true;
                continue;
            }
            rc = pyti_error_set(err, PYTI_ERR_INPUT, "%s: %s '%s' and %s '%s' would both be "
                                "installed at %s", path_basename(ws[refs[j].w].arg),
                                item_what(a), a->src ? a->src : a->rel, item_what(b),
                                b->src ? b->src : b->rel, refs[j].abs);
        } else if (o->overwrite) {
            b->replaces_batch = true;
        } else {
            rc = pyti_error_set(err, PYTI_ERR_USAGE, "%s and %s both install %s (use "
                                "overwrite to let the later one replace it)",
                                path_basename(ws[refs[j - 1].w].arg),
                                path_basename(ws[refs[j].w].arg), refs[j].abs);
        }
    }
    /* a file where another needs a directory */
    for (size_t j = 0; j < m && rc == PYTI_OK; j++) {
        char *p = xstrdup(refs[j].abs);
        for (char *s = strrchr(p, '/'); s && s > p && rc == PYTI_OK; s = strrchr(p, '/')) {
            *s = '\0';
            dest_ref key = {p, 0, 0};
            size_t lo = 0, hi = m;
            while (lo < hi) { /* first ref with abs >= p */
                size_t mid = (lo + hi) / 2;
                if (strcmp(refs[mid].abs, key.abs) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo < m && strcmp(refs[lo].abs, p) == 0)
                rc = pyti_error_set(err, PYTI_ERR_INPUT, "%s installs a file at %s, where %s "
                                    "needs a directory", path_basename(ws[refs[lo].w].arg), p,
                                    refs[j].abs);
        }
        free(p);
    }
    free(refs);
    return rc;
}

/* Opens the directory rel (relative, may be "") below rootfd without
 * following symlinks. With mkdirs, missing directories are created (with
 * the umask, as os.makedirs) and their paths appended to made. Returns an
 * fd, or -1 with errno (ENOENT: something missing and !mkdirs; ENOTDIR /
 * ELOOP: a component is a file or a symlink). */
static int open_below(int rootfd, const char *root_abs, const char *rel, bool mkdirs,
                      pyti_strv *made)
{
    int fd = dup(rootfd);
    if (fd < 0)
        return -1;
    const char *p = rel;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char *comp = xstrndup(p, n);
        int sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0 && errno == ENOENT && mkdirs) {
            if (mkdirat(fd, comp, 0777) == 0) {
                strv_push_owned(made, xasprintf("%s/%.*s", root_abs, (int)(p + n - rel), rel));
                sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            } else if (errno == EEXIST) {
                sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            }
        }
        int saved = errno;
        free(comp);
        close(fd);
        if (sub < 0) {
            errno = saved;
            return -1;
        }
        fd = sub;
        p += n + (e ? 1 : 0);
        if (!e)
            break;
    }
    return fd;
}

/* One open directory, reused while consecutive files share it. */
typedef struct dir_cache {
    char *key; /* root abs + "\n" + dir rel */
    int fd;
} dir_cache;

static void dir_cache_drop(dir_cache *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->key);
    c->key = NULL;
    c->fd = -1;
}

/* The open roots of the batch, by absolute path. */
typedef struct roots {
    pyti_strv paths;
    int *fds; /* -1: does not exist (yet) */
    size_t cap;
} roots;

static int root_fd(roots *r, const char *abs, bool create, pyti_strv *made)
{
    long i = strv_index(&r->paths, abs);
    if (i < 0) {
        if (r->paths.len == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 8;
            r->fds = xreallocarray(r->fds, r->cap, sizeof *r->fds);
        }
        strv_push(&r->paths, abs);
        i = (long)r->paths.len - 1;
        r->fds[i] = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (r->fds[i] < 0 && create) {
        /* the scheme's own directories are the caller's trusted paths:
         * created like mkdir -p, each new one journalled */
        char *p = xstrdup(abs);
        pyti_strv mine = PYTI_STRV_INIT;
        for (char *s = p + 1;; s++) {
            if (*s == '/' || *s == '\0') {
                char c = *s;
                *s = '\0';
                if (mkdir(p, 0777) == 0)
                    strv_push(&mine, p);
                else if (errno != EEXIST)
                    break;
                *s = c;
                if (!c)
                    break;
            }
        }
        free(p);
        strv_extend(made, &mine);
        strv_free(&mine);
        r->fds[i] = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    return r->fds[i];
}

static void roots_free(roots *r)
{
    for (size_t i = 0; i < r->paths.len; i++)
        if (r->fds[i] >= 0)
            close(r->fds[i]);
    free(r->fds);
    strv_free(&r->paths);
}

/* The parent directory of it's destination, opened (and with mkdirs,
 * created). Returns an fd owned by the cache, or -1 with errno. */
static int parent_fd(roots *rs, dir_cache *c, const wheel *w, const item *it, bool mkdirs,
                     pyti_strv *made)
{
    const char *root_abs = w->roots[it->root];
    const char *slash = strrchr(it->rel, '/');
    size_t dl = slash ? (size_t)(slash - it->rel) : 0;
    char *key = xasprintf("%s\n%.*s", root_abs, (int)dl, it->rel);
    if (c->key && strcmp(c->key, key) == 0 && c->fd >= 0) {
        free(key);
        return c->fd;
    }
    dir_cache_drop(c);
    int rfd = root_fd(rs, root_abs, mkdirs, made);
    if (rfd < 0) {
        free(key);
        return -1;
    }
    char *dir = xstrndup(it->rel, dl);
    int fd = open_below(rfd, root_abs, dir, mkdirs, made);
    int saved = errno;
    free(dir);
    if (fd < 0) {
        free(key);
        errno = saved;
        return -1;
    }
    c->key = key;
    c->fd = fd;
    return fd;
}

/* Nothing in the way on disk. */
static pyti_status check_disk(wheel *ws, size_t n, roots *rs, const pyti_install_options *o,
                              pyti_error *err)
{
    dir_cache c = {NULL, -1};
    pyti_strv unused = PYTI_STRV_INIT;
    pyti_status rc = PYTI_OK;
    for (size_t k = 0; k < n && rc == PYTI_OK; k++) {
        for (size_t i = 0; i < ws[k].nitems && rc == PYTI_OK; i++) {
            item *it = &ws[k].items[i];
            if (!placed(it))
                continue;
            int fd = parent_fd(rs, &c, &ws[k], it, false, &unused);
            if (fd < 0) {
                if (errno == ENOENT)
                    continue; /* nothing there yet */
                rc = pyti_error_errno(err, PYTI_ERR_USAGE, errno, "cannot install %s: a "
                                      "directory on the way is a file or a symbolic link",
                                      it->abs);
                break;
            }
            struct stat st;
            if (fstatat(fd, path_basename(it->rel), &st, AT_SYMLINK_NOFOLLOW) != 0)
                continue;
            if (S_ISDIR(st.st_mode))
                rc = pyti_error_set(err, PYTI_ERR_USAGE, "cannot install %s: a directory is "
                                    "there", it->abs);
            else if (!o->overwrite)
                rc = pyti_error_set(err, PYTI_ERR_USAGE, "%s: %s already exists (installed by "
                                    "another distribution?); refusing to overwrite it",
                                    path_basename(ws[k].arg), it->abs);
        }
    }
    dir_cache_drop(&c);
    strv_free(&unused);
    return rc;
}

/* No other version of a project installed; the same version only with
 * overwrite. Two wheels of one project in a batch are refused. */
static pyti_status check_installed(wheel *ws, size_t n, const pyti_install_options *o,
                                   pyti_error *err)
{
    for (size_t k = 0; k < n; k++) {
        char *mine = name_normalize(ws[k].name);
        for (size_t j = 0; j < k; j++) {
            char *other = name_normalize(ws[j].name);
            bool same = strcmp(mine, other) == 0;
            free(other);
            if (same) {
                pyti_status rc = pyti_error_set(err, PYTI_ERR_USAGE, "%s and %s are both "
                                                "wheels of %s", path_basename(ws[j].arg),
                                                path_basename(ws[k].arg), mine);
                free(mine);
                return rc;
            }
        }
        for (int r = R_PURELIB; r <= R_PLATLIB; r++) {
            if (r == R_PLATLIB && strcmp(ws[k].roots[R_PLATLIB], ws[k].roots[R_PURELIB]) == 0)
                break;
            DIR *d = opendir(ws[k].roots[r]);
            struct dirent *de;
            while (d && (de = readdir(d)) != NULL) {
                const char *ext = str_endswith(de->d_name, ".dist-info") ? ".dist-info"
                                  : str_endswith(de->d_name, ".egg-info") ? ".egg-info" : NULL;
                if (!ext)
                    continue;
                size_t len = strlen(de->d_name) - strlen(ext);
                const char *dash = memchr(de->d_name, '-', len);
                char *nm = xstrndup(de->d_name, dash ? (size_t)(dash - de->d_name) : len);
                char *norm = name_normalize(nm);
                free(nm);
                bool same = strcmp(norm, mine) == 0;
                free(norm);
                if (!same)
                    continue;
                bool same_dir = strcmp(de->d_name, ws[k].dist_info) == 0;
                pyti_status rc = PYTI_OK;
                if (!same_dir)
                    rc = pyti_error_set(err, PYTI_ERR_USAGE, "%s: %s is already installed (%s "
                                        "in %s); pyti install does not upgrade or uninstall",
                                        path_basename(ws[k].arg), mine, de->d_name,
                                        ws[k].roots[r]);
                else if (!o->overwrite)
                    rc = pyti_error_set(err, PYTI_ERR_USAGE, "%s: %s is already installed in "
                                        "%s; refusing to overwrite it",
                                        path_basename(ws[k].arg), de->d_name, ws[k].roots[r]);
                if (rc != PYTI_OK) {
                    closedir(d);
                    free(mine);
                    return rc;
                }
            }
            if (d)
                closedir(d);
        }
        free(mine);
    }
    return PYTI_OK;
}

/* ---- commit, journal, rollback -------------------------------------- */

typedef struct journal {
    pyti_strv made; /* directories created, in order */
    struct jfile {
        size_t w, i;
        bool dir;   /* i is a directory move of wheel w, not an item */
    } *files;       /* items and directories placed, in order */
    size_t nfiles, cap;
    unsigned long counter;
    mode_t umask;
    bool exdev;     /* staging is on another file system: copy, never rename */
} journal;

/* Copies src to name in dirfd, for a staging directory on another file
 * system. Nothing is at name (replace false): the file is created there
 * directly (O_EXCL, so it is ours, and removed again if the copy fails).
 * Something of this batch is there (replace true): a fresh file next to it
 * is renamed over it. The umask gives most modes; fchmod does the rest. */
static int copy_into(int dirfd, const char *name, const char *src, mode_t mode, bool replace,
                     journal *j)
{
    char tmp[64] = "";
    if (replace)
        snprintf(tmp, sizeof tmp, ".pyti-tmp-%ld-%lu", (long)getpid(), j->counter++);
    const char *target = replace ? tmp : name;
    int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = openat(dirfd, target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                     mode);
    if (out < 0) {
        int e = errno;
        close(in);
        errno = e;
        return -1;
    }
    char buf[65536];
    ssize_t r;
    int rc = 0;
    while ((r = read(in, buf, sizeof buf)) > 0) {
        for (ssize_t off = 0; off < r;) {
            ssize_t wr = write(out, buf + off, (size_t)(r - off));
            if (wr <= 0) {
                rc = -1;
                break;
            }
            off += wr;
        }
        if (rc)
            break;
    }
    if (r < 0)
        rc = -1;
    int e = errno;
    if (rc == 0 && (mode & ~j->umask) != mode && fchmod(out, mode) != 0)
        rc = -1, e = errno;
    if (close(out) != 0 && rc == 0)
        rc = -1, e = errno;
    close(in);
    if (rc == 0 && replace && renameat(dirfd, tmp, dirfd, name) != 0)
        rc = -1, e = errno;
    if (rc != 0)
        unlinkat(dirfd, target, 0);
    errno = e;
    return rc;
}

static pyti_status commit_item(wheel *ws, size_t k, size_t i, roots *rs, dir_cache *c,
                               const pyti_install_options *o, journal *j, pyti_error *err)
{
    wheel *w = &ws[k];
    item *it = &w->items[i];
    int fd = parent_fd(rs, c, w, it, true, &j->made);
    if (fd < 0)
        return pyti_error_errno(err, errno == ENOTDIR || errno == ELOOP ? PYTI_ERR_USAGE
                                                                          : PYTI_ERR_IO,
                                errno, "%s: cannot create the directory of %s",
                                path_basename(w->arg), it->abs);
    const char *name = path_basename(it->rel);
    struct stat st;
    if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISDIR(st.st_mode))
            return pyti_error_set(err, PYTI_ERR_USAGE, "cannot install %s: a directory is "
                                  "there", it->abs);
        if (!it->replaces_batch) {
            /* not written by this batch: must have been allowed by overwrite */
            if (!o->overwrite)
                return pyti_error_set(err, PYTI_ERR_USAGE, "%s appeared while installing; "
                                      "refusing to overwrite it", it->abs);
            char bak[64];
            snprintf(bak, sizeof bak, ".pyti-backup-%ld-%lu", (long)getpid(), j->counter++);
            if (renameat(fd, name, fd, bak) != 0)
                return pyti_error_errno(err, PYTI_ERR_IO, errno, "keeping %s aside", it->abs);
            it->backup = xstrdup(bak);
        }
    }
    /* journal before the move: a failed move is then undone harmlessly */
    if (j->nfiles == j->cap) {
        j->cap = j->cap ? j->cap * 2 : 256;
        j->files = xreallocarray(j->files, j->cap, sizeof *j->files);
    }
    j->files[j->nfiles++] = (struct jfile){k, i, false};
    int r = j->exdev ? -1 : renameat(AT_FDCWD, it->content, fd, name);
    if (r != 0 && !j->exdev && errno == EXDEV)
        j->exdev = true;
    if (r != 0) {
        bool replace = it->replaces_batch && !it->backup;
        if (!j->exdev || copy_into(fd, name, it->content, it->mode, replace, j) != 0) {
            /* nothing placed: restore the backup now */
            if (it->backup) {
                renameat(fd, it->backup, fd, name);
                free(it->backup);
                it->backup = NULL;
            }
            j->nfiles--;
            return pyti_error_errno(err, PYTI_ERR_IO, errno, "installing %s", it->abs);
        }
    }
    it->committed = true;
    return PYTI_OK;
}

/* ---- whole directories ---------------------------------------------- */

/* Index of the first string in v (sorted) that is >= key. */
static size_t lower_bound(const pyti_strv *v, const char *key)
{
    size_t lo = 0, hi = v->len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(v->items[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* True if some string of v (sorted) starts with prefix. */
static bool has_prefix(const pyti_strv *v, const char *prefix)
{
    size_t i = lower_bound(v, prefix);
    return i < v->len && str_startswith(v->items[i], prefix);
}

typedef struct src_idx {
    const char *src;
    size_t i;
} src_idx;

static int src_idx_cmp(const void *a, const void *b)
{
    return strcmp(((const src_idx *)a)->src, ((const src_idx *)b)->src);
}

/* Chooses the staged directories that can be renamed into place whole:
 * the topmost ones whose destination does not exist yet, all of whose
 * files are installed unchanged at the same relative place, with no empty
 * directory below (pip never makes one). It saves a mkdir per directory
 * and a rename per file; the result on disk is the same. Their mode
 * becomes 0777 & ~umask, as os.makedirs gives. Nothing is refused here:
 * a directory that does not qualify is placed file by file. */
static void plan_moves(wheel *w, roots *rs, mode_t um)
{
    src_idx *idx = xcalloc(w->nitems ? w->nitems : 1, sizeof *idx);
    size_t m = 0;
    for (size_t i = 0; i < w->nitems; i++)
        if (w->items[i].src)
            idx[m++] = (src_idx){w->items[i].src, i};
    qsort(idx, m, sizeof *idx, src_idx_cmp);
    dir_cache c = {NULL, -1};
    pyti_strv unused = PYTI_STRV_INIT;
    pyti_strv chosen = PYTI_STRV_INIT;
    size_t cap = 0;
    for (size_t d = 0; d < w->dirs.len; d++) {
        const char *dir = w->dirs.items[d];
        size_t dl = strlen(dir);
        /* below a directory already chosen? (sorted order does not say:
         * "a-b" sorts between "a" and "a/x") */
        bool covered = false;
        char *anc = xstrdup(dir);
        for (char *sl = strrchr(anc, '/'); sl && !covered; sl = strrchr(anc, '/')) {
            *sl = '\0';
            covered = strv_contains(&chosen, anc);
        }
        free(anc);
        if (covered)
            continue;
        /* where it would go */
        int root = w->lib_root;
        const char *rel = dir;
        const char *slash = strchr(dir, '/');
        size_t c0 = slash ? (size_t)(slash - dir) : dl;
        if (c0 >= 5 && strncmp(dir + c0 - 5, ".data", 5) == 0) {
            const char *k = slash ? slash + 1 : NULL;
            const char *s2 = k ? strchr(k, '/') : NULL;
            if (!s2)
                continue; /* <x>.data or <x>.data/<key>: a scheme root */
            root = -1;
            for (int r = 0; r < R_NROOTS; r++)
                if ((size_t)(s2 - k) == strlen(scheme_keys[r]) &&
                    strncmp(k, scheme_keys[r], (size_t)(s2 - k)) == 0)
                    root = r;
            if (root < 0)
                continue;
            rel = s2 + 1;
        }
        char *prefix = xasprintf("%s/", dir);
        bool ok = has_prefix(&w->files, prefix);
        for (size_t f = lower_bound(&w->files, prefix);
             ok && f < w->files.len && str_startswith(w->files.items[f], prefix); f++) {
            src_idx key = {w->files.items[f], 0};
            src_idx *hit = bsearch(&key, idx, m, sizeof *idx, src_idx_cmp);
            const item *it = hit ? &w->items[hit->i] : NULL;
            /* a shadowed file (the wheel's RECORD, INSTALLER...) is dropped
             * before the move: pip overwrites it with the generated one */
            ok = it && !it->changed && it->root == root &&
                 (it->kind == IK_FILE || it->kind == IK_SCRIPT);
        }
        for (size_t e = lower_bound(&w->dirs, prefix);
             ok && e < w->dirs.len && str_startswith(w->dirs.items[e], prefix); e++) {
            char *ep = xasprintf("%s/", w->dirs.items[e]);
            ok = has_prefix(&w->files, ep);
            free(ep);
        }
        if (ok) {
            item fake = {.root = root, .rel = (char *)rel};
            int fd = parent_fd(rs, &c, w, &fake, false, &unused);
            struct stat st;
            if (fd >= 0)
                ok = fstatat(fd, path_basename(rel), &st, AT_SYMLINK_NOFOLLOW) != 0 &&
                     errno == ENOENT;
            else
                ok = errno == ENOENT; /* its parent is not there either */
        }
        if (ok) {
            if (w->nmoves == cap) {
                cap = cap ? cap * 2 : 16;
                w->moves = xreallocarray(w->moves, cap, sizeof *w->moves);
            }
            long mi = (long)w->nmoves;
            w->moves[w->nmoves++] = (dir_move){xstrdup(dir), root, xstrdup(rel), false, false};
            for (size_t f = lower_bound(&w->files, prefix);
                 f < w->files.len && str_startswith(w->files.items[f], prefix); f++) {
                src_idx key = {w->files.items[f], 0};
                src_idx *hit = bsearch(&key, idx, m, sizeof *idx, src_idx_cmp);
                w->items[hit->i].move = mi;
            }
            mode_t dmode = 0777 & ~um;
            if (dmode != 0755) { /* the extractor's mode */
                char *p = path_join(w->tree, dir);
                chmod(p, dmode);
                free(p);
                for (size_t e = lower_bound(&w->dirs, prefix);
                     e < w->dirs.len && str_startswith(w->dirs.items[e], prefix); e++) {
                    p = path_join(w->tree, w->dirs.items[e]);
                    chmod(p, dmode);
                    free(p);
                }
            }
            strv_push(&chosen, dir);
        }
        free(prefix);
    }
    dir_cache_drop(&c);
    strv_free(&unused);
    strv_free(&chosen);
    free(idx);
}

/* Renames a chosen directory into place; never over anything. A move
 * the file system cannot do (something appeared there, another file
 * system) is marked failed and its files are placed one by one. */
static pyti_status commit_move(wheel *ws, size_t k, size_t mi, roots *rs, dir_cache *c,
                               journal *j, pyti_error *err)
{
    wheel *w = &ws[k];
    dir_move *m = &w->moves[mi];
    item fake = {.root = m->root, .rel = m->rel};
    int fd = parent_fd(rs, c, w, &fake, true, &j->made);
    if (fd < 0)
        return pyti_error_errno(err, errno == ENOTDIR || errno == ELOOP ? PYTI_ERR_USAGE
                                                                          : PYTI_ERR_IO,
                                errno, "%s: cannot create the directory of %s/%s",
                                path_basename(w->arg), w->roots[m->root], m->rel);
    if (j->nfiles == j->cap) {
        j->cap = j->cap ? j->cap * 2 : 256;
        j->files = xreallocarray(j->files, j->cap, sizeof *j->files);
    }
    for (size_t i = 0; i < w->nitems; i++)
        if (w->items[i].move == (long)mi && w->items[i].shadowed)
            unlink(w->items[i].content);
    char *src = path_join(w->tree, m->src);
    int r = j->exdev ? -1 : renameat2(AT_FDCWD, src, fd, path_basename(m->rel),
                                      RENAME_NOREPLACE);
    if (r != 0 && errno == EXDEV)
        j->exdev = true;
    free(src);
    if (r == 0) {
        j->files[j->nfiles++] = (struct jfile){k, mi, true};
        m->done = true;
    } else {
        m->failed = true;
    }
    return PYTI_OK;
}

static void rollback(wheel *ws, roots *rs, journal *j)
{
    dir_cache c = {NULL, -1};
    pyti_strv unused = PYTI_STRV_INIT;
    for (size_t x = j->nfiles; x-- > 0;) {
        wheel *w = &ws[j->files[x].w];
        if (j->files[x].dir) {
            /* back where it came from, with whatever it holds */
            dir_move *m = &w->moves[j->files[x].i];
            item fake = {.root = m->root, .rel = m->rel};
            int fd = parent_fd(rs, &c, w, &fake, false, &unused);
            char *src = path_join(w->tree, m->src);
            if (fd >= 0)
                renameat(fd, path_basename(m->rel), AT_FDCWD, src);
            free(src);
            dir_cache_drop(&c);
            for (size_t i = 0; i < w->nitems; i++)
                if (w->items[i].move == (long)j->files[x].i)
                    w->items[i].committed = false;
            continue;
        }
        item *it = &w->items[j->files[x].i];
        int fd = parent_fd(rs, &c, w, it, false, &unused);
        if (fd < 0)
            continue;
        const char *name = path_basename(it->rel);
        if (it->committed)
            unlinkat(fd, name, 0);
        if (it->backup) {
            renameat(fd, it->backup, fd, name);
            free(it->backup);
            it->backup = NULL;
        }
        it->committed = false;
    }
    dir_cache_drop(&c);
    strv_free(&unused);
}

static void rollback_dirs(journal *j)
{
    for (size_t x = j->made.len; x-- > 0;)
        rmdir(j->made.items[x]); /* only if empty: never someone else's */
}

/* After success: the replaced files kept aside are dropped. */
static void drop_backups(wheel *ws, size_t n, roots *rs)
{
    dir_cache c = {NULL, -1};
    pyti_strv unused = PYTI_STRV_INIT;
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < ws[k].nitems; i++) {
            item *it = &ws[k].items[i];
            if (!it->backup)
                continue;
            int fd = parent_fd(rs, &c, &ws[k], it, false, &unused);
            if (fd >= 0)
                unlinkat(fd, it->backup, 0);
            free(it->backup);
            it->backup = NULL;
        }
    dir_cache_drop(&c);
    strv_free(&unused);
}

/* ---- byte-compilation ----------------------------------------------- */

/* Run by the target interpreter with -I -S: only the standard library is
 * importable and no .pth file of the environment is processed, so no
 * installed code runs; compileall only parses and compiles. The calls are
 * pip's (compile_file(path, force=True, quiet=True), warnings ignored,
 * stdout discarded). For each input path (NUL separated) it answers the
 * path of the .pyc written, or nothing if compiling failed, NUL
 * terminated. */
static const char compile_script[] =
    "import compileall, contextlib, importlib.util, io, os, sys, warnings\n"
    "paths = sys.stdin.buffer.read().split(b'\\0')[:-1]\n"
    "out = sys.stdout.buffer\n"
    "sink = io.StringIO()\n"
    "with warnings.catch_warnings():\n"
    "    warnings.filterwarnings('ignore')\n"
    "    for raw in paths:\n"
    "        p = os.fsdecode(raw)\n"
    "        with contextlib.redirect_stdout(sink):\n"
    "            ok = compileall.compile_file(p, force=True, quiet=True)\n"
    "        if ok:\n"
    "            out.write(os.fsencode(importlib.util.cache_from_source(p)))\n"
    "        out.write(b'\\0')\n"
    "out.flush()\n";

static pyti_status run_compile(const char *python, const pyti_buf *input, pyti_buf *output,
                               pyti_error *err)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0)
        return pyti_error_errno(err, PYTI_ERR_IO, errno, "creating a pipe");
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return pyti_error_errno(err, PYTI_ERR_IO, errno, "creating a pipe");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    char *argv[] = {(char *)python, "-I", "-S", "-c", (char *)compile_script, NULL};
    pid_t pid;
    int sp = posix_spawn(&pid, python, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (sp != 0) {
        close(in[1]);
        close(out[0]);
        return pyti_error_errno(err, PYTI_ERR_IO, sp, "running %s to byte-compile", python);
    }
    /* the script reads all its input before it writes anything */
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    const char *d = input->data ? input->data : "";
    size_t left = input->len;
    while (left) {
        ssize_t n = write(in[1], d, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        d += n;
        left -= (size_t)n;
    }
    close(in[1]);
    signal(SIGPIPE, old);
    char buf[65536];
    ssize_t r;
    while ((r = read(out[0], buf, sizeof buf)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        buf_append(output, buf, (size_t)r);
    }
    close(out[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return pyti_error_set(err, PYTI_ERR_IO, "byte-compiling with %s failed (%s %d)", python,
                              WIFEXITED(status) ? "exit status" : "signal",
                              WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return PYTI_OK;
}

/* pip compiles os.path.join(lib_dir, p) for every installed record path p
 * ending in ".py" (sorted, once each) — not normalised, so the code
 * objects name the same path as pip's. */
static pyti_status compile_all(wheel *ws, size_t n, const char *python, pyti_error *err)
{
    pyti_buf input = PYTI_BUF_INIT, output = PYTI_BUF_INIT;
    size_t *owner = NULL, count = 0, cap = 0;
    for (size_t k = 0; k < n; k++) {
        pyti_strv paths = PYTI_STRV_INIT;
        for (size_t i = 0; i < ws[k].nitems; i++) {
            const item *it = &ws[k].items[i];
            if ((it->kind == IK_FILE || it->kind == IK_SCRIPT) && !it->shadowed &&
                str_endswith(it->record_path, ".py"))
                strv_push(&paths, it->record_path);
        }
        strv_sort(&paths);
        for (size_t i = 0; i < paths.len; i++) {
            if (i && strcmp(paths.items[i], paths.items[i - 1]) == 0)
                continue;
            buf_printf(&input, "%s/%s", ws[k].roots[ws[k].lib_root], paths.items[i]);
            buf_putc(&input, '\0');
            if (count == cap) {
                cap = cap ? cap * 2 : 256;
                owner = xreallocarray(owner, cap, sizeof *owner);
            }
            owner[count++] = k;
        }
        strv_free(&paths);
    }
    pyti_status rc = count ? run_compile(python, &input, &output, err) : PYTI_OK;
    size_t idx = 0;
    for (size_t off = 0; rc == PYTI_OK && off < output.len && idx < count; idx++) {
        const char *p = output.data + off;
        size_t len = strnlen(p, output.len - off);
        if (len)
            strv_push_owned(&ws[owner[idx]].pyc_abs, xstrndup(p, len));
        off += len + 1;
    }
    free(owner);
    buf_free(&input);
    buf_free(&output);
    return rc;
}

/* Removes compiled files and the __pycache__ directories they left. */
static void remove_compiled(wheel *ws, size_t n)
{
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < ws[k].pyc_abs.len; i++) {
            char *norm = install_normpath(ws[k].pyc_abs.items[i]);
            unlink(norm);
            char *dir = path_dirname(norm);
            rmdir(dir);
            free(dir);
            free(norm);
        }
}

/* ---- RECORD --------------------------------------------------------- */

typedef struct out_row {
    char *path, *hash, *size;
} out_row;

static int out_row_cmp(const void *a, const void *b)
{
    const out_row *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    if (c)
        return c;
    c = strcmp(x->hash, y->hash);
    return c ? c : strcmp(x->size, y->size);
}

/* "a//./b" -> "a/b" (how RECORD paths were matched when verifying). */
static char *record_norm(const char *p)
{
    pyti_buf b = PYTI_BUF_INIT;
    for (const char *s = p; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (!(n == 0 || (n == 1 && s[0] == '.'))) {
            if (b.len)
                buf_putc(&b, '/');
            buf_append(&b, s, n);
        }
        s += n + (e ? 1 : 0);
        if (!e)
            break;
    }
    return buf_detach(&b);
}

typedef struct inst {
    const char *key;   /* the path in the wheel (or the .pyc's path) */
    char *record_path; /* where RECORD says it went */
    bool popped;
} inst;

static int inst_cmp(const void *a, const void *b)
{
    return strcmp(((const inst *)a)->key, ((const inst *)b)->key);
}

/* pip's get_csv_rows_for_installed + _normalized_outrows, written as
 * csv.writer writes (QUOTE_MINIMAL, "\r\n"). */
static char *build_record(wheel *w)
{
    /* installed: wheel path -> record path; popped when a row of the
     * wheel's RECORD names it */
    size_t ni = w->pyc_abs.len;
    for (size_t i = 0; i < w->nitems; i++)
        ni += w->items[i].kind == IK_FILE || w->items[i].kind == IK_SCRIPT;
    inst *ins = xcalloc(ni ? ni : 1, sizeof *ins);
    size_t m = 0;
    for (size_t i = 0; i < w->nitems; i++) {
        item *it = &w->items[i];
        if (it->kind == IK_FILE || it->kind == IK_SCRIPT)
            ins[m++] = (inst){it->src, xstrdup(it->record_path), false};
    }
    const char *lib = w->roots[w->lib_root];
    for (size_t i = 0; i < w->pyc_abs.len; i++) {
        char *norm = install_normpath(w->pyc_abs.items[i]);
        ins[m++] = (inst){w->pyc_abs.items[i], install_relpath(norm, lib), false};
        free(norm);
    }
    qsort(ins, m, sizeof *ins, inst_cmp);
    size_t cap = w->rows.len + w->nitems + m + 1, nrows = 0;
    out_row *rows = xcalloc(cap, sizeof *rows);
    for (size_t r = 0; r < w->rows.len; r++) {
        const pyti_record_row *row = &w->rows.items[r];
        if (!row->f[0])
            continue;
        char *norm = record_norm(row->f[0]);
        inst key = {norm, NULL, false};
        inst *hit = bsearch(&key, ins, m, sizeof *ins, inst_cmp);
        const char *newp = row->f[0];
        if (hit && !hit->popped) {
            hit->popped = true;
            newp = hit->record_path;
        }
        free(norm);
        out_row o = {xstrdup(newp), NULL, NULL};
        /* pip: `if new_record_path in changed` — rehash what was rewritten */
        for (size_t i = 0; i < w->nitems && !o.hash; i++)
            if (w->items[i].changed && strcmp(w->items[i].record_path, newp) == 0) {
                o.hash = xstrdup(w->items[i].hash);
                o.size = xstrdup(w->items[i].size);
            }
        if (!o.hash) {
            o.hash = xstrdup(row->f[1] ? row->f[1] : "");
            o.size = xstrdup(row->f[2] ? row->f[2] : "");
        }
        rows[nrows++] = o;
    }
    /* generated: the final bytes at each path (a later launcher of the
     * same name wins, and pip hashes the file after both were written) */
    for (size_t i = 0; i < w->nitems; i++) {
        const item *it = &w->items[i];
        if (it->kind != IK_LAUNCHER && it->kind != IK_META)
            continue;
        const item *last = it;
        for (size_t x = i + 1; x < w->nitems; x++)
            if (w->items[x].kind == it->kind && strcmp(w->items[x].abs, it->abs) == 0)
                last = &w->items[x];
        rows[nrows++] = (out_row){xstrdup(it->record_path), xstrdup(last->hash),
                                  xstrdup(last->size)};
    }
    for (size_t x = 0; x < m; x++)
        if (!ins[x].popped)
            rows[nrows++] = (out_row){xstrdup(ins[x].record_path), xstrdup(""), xstrdup("")};
    qsort(rows, nrows, sizeof *rows, out_row_cmp);
    pyti_buf out = PYTI_BUF_INIT;
    for (size_t r = 0; r < nrows; r++) {
        record_append_field(&out, rows[r].path);
        buf_putc(&out, ',');
        record_append_field(&out, rows[r].hash);
        buf_putc(&out, ',');
        record_append_field(&out, rows[r].size);
        buf_puts(&out, "\r\n");
        free(rows[r].path);
        free(rows[r].hash);
        free(rows[r].size);
    }
    free(rows);
    for (size_t x = 0; x < m; x++)
        free(ins[x].record_path);
    free(ins);
    return buf_detach(&out);
}

/* ---- the batch ------------------------------------------------------ */

static void wheel_free(wheel *w)
{
    for (size_t i = 0; i < w->nitems; i++) {
        item *it = &w->items[i];
        free(it->src);
        free(it->rel);
        free(it->abs);
        free(it->record_path);
        free(it->content);
        free(it->hash);
        free(it->size);
        free(it->backup);
    }
    free(w->items);
    if (w->fn_ok)
        dist_filename_free(&w->fn);
    free(w->abs_path);
    free(w->tree);
    free(w->gen);
    free(w->dist_info);
    free(w->name);
    free(w->version);
    for (int r = 0; r < R_NROOTS; r++)
        free(w->roots[r]);
    record_rows_free(&w->rows);
    ep_map_free(&w->console);
    ep_map_free(&w->gui);
    strv_free(&w->pyc_abs);
    strv_free(&w->files);
    strv_free(&w->dirs);
    for (size_t i = 0; i < w->nmoves; i++) {
        free(w->moves[i].src);
        free(w->moves[i].rel);
    }
    free(w->moves);
}

void install_result_free(pyti_install_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->len; i++) {
        free(r->dists[i].name);
        free(r->dists[i].version);
        free(r->dists[i].dist_info);
    }
    free(r->dists);
    r->dists = NULL;
    r->len = 0;
}

/* Where to unpack when the caller did not say: a tmpfs $TMPDIR (or /tmp),
 * else /dev/shm if it is a tmpfs, else the venv itself. On tmpfs the
 * staging files cost no disk I/O and removing them is free; files are then
 * copied into place (one creation each, like pip). In the venv they are
 * renamed into place, whole directories at once, but the directories left
 * behind must be removed from the disk. */
static const char *default_staging(const pyti_install_scheme *s)
{
    const char *tmp = getenv("TMPDIR");
    const char *cands[] = {tmp && *tmp ? tmp : "/tmp", "/dev/shm"};
    for (size_t i = 0; i < 2; i++) {
        struct statfs fs;
        if (statfs(cands[i], &fs) == 0 && fs.f_type == TMPFS_MAGIC &&
            access(cands[i], W_OK | X_OK) == 0)
            return cands[i];
    }
    return s->data;
}

static pyti_status check_scheme(const pyti_install_scheme *s, pyti_error *err)
{
    const char *const paths[] = {s->purelib, s->platlib, s->scripts, s->headers, s->data};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        if (!paths[i] || paths[i][0] != '/')
            return pyti_error_set(err, PYTI_ERR_USAGE, "the install scheme's %s directory must "
                                  "be an absolute path", scheme_keys[i]);
    if (!s->python || !*s->python)
        return pyti_error_set(err, PYTI_ERR_USAGE, "the install scheme names no interpreter");
    if (!s->python_version || !valid_xy(s->python_version))
        return pyti_error_set(err, PYTI_ERR_USAGE, "the install scheme's Python version must be "
                              "'X.Y'");
    return PYTI_OK;
}

pyti_status install_wheels(const pyti_install_scheme *scheme, const char *const *wheels,
                           size_t n, const pyti_install_options *opts,
                           pyti_install_result *result, pyti_error *err)
{
    static const pyti_install_options defaults = {0};
    const pyti_install_options *o = opts ? opts : &defaults;
    if (result)
        memset(result, 0, sizeof *result);
    pyti_status rc = check_scheme(scheme, err);
    if (rc != PYTI_OK)
        return rc;
    if (n == 0)
        return PYTI_OK;
    mode_t um = current_umask();
    const char *parent = o->staging_dir ? o->staging_dir : default_staging(scheme);
    if (!path_is_dir(parent))
        return pyti_error_set(err, PYTI_ERR_USAGE, "staging directory %s does not exist",
                              parent);
    char *stage = path_mkdtemp(parent, ".pyti-install-", err);
    if (!stage)
        return err ? err->code : PYTI_ERR_IO;
    wheel *ws = xcalloc(n, sizeof *ws);
    roots rs = {PYTI_STRV_INIT, NULL, 0};
    journal j = {PYTI_STRV_INIT, NULL, 0, 0, 0, um, false};
    dir_cache c = {NULL, -1};

    for (size_t k = 0; k < n && rc == PYTI_OK; k++) {
        ws[k].arg = wheels[k];
        ws[k].abs_path = abspath(wheels[k]);
        rc = stage_and_plan(&ws[k], scheme, o, stage, k, um, err);
        if (rc != PYTI_OK)
            pyti_error_prefix(err, "%s", path_basename(wheels[k]));
    }
    if (rc == PYTI_OK)
        rc = check_installed(ws, n, o, err);
    if (rc == PYTI_OK)
        rc = check_batch(ws, n, o, err);
    if (rc == PYTI_OK)
        rc = check_disk(ws, n, &rs, o, err);

    /* commit the files, then compile, then the RECORDs; the directories
     * a wheel can move whole are chosen just before its commit, after
     * what the wheels before it placed */
    for (size_t k = 0; k < n && rc == PYTI_OK; k++) {
        dir_cache_drop(&c);
        if (!j.exdev)
            plan_moves(&ws[k], &rs, um);
        for (size_t i = 0; i < ws[k].nitems && rc == PYTI_OK; i++) {
            item *it = &ws[k].items[i];
            if (!placed(it) || it->kind == IK_RECORD)
                continue;
            if (it->move >= 0) {
                dir_move *m = &ws[k].moves[it->move];
                if (!m->done && !m->failed)
                    rc = commit_move(ws, k, (size_t)it->move, &rs, &c, &j, err);
                if (rc == PYTI_OK && m->done) {
                    it->committed = true;
                    continue;
                }
            }
            if (rc == PYTI_OK)
                rc = commit_item(ws, k, i, &rs, &c, o, &j, err);
        }
    }
    bool compiled = false;
    if (rc == PYTI_OK && o->compile) {
        dir_cache_drop(&c);
        rc = compile_all(ws, n, scheme->python, err);
        compiled = true;
    }
    for (size_t k = 0; k < n && rc == PYTI_OK; k++) {
        size_t ri = ws[k].nitems - 1; /* the placeholder, planned last */
        char *text = build_record(&ws[k]);
        ws[k].items[ri].content = write_gen(&ws[k], text, strlen(text), ws[k].items[ri].mode,
                                            err);
        free(text);
        rc = ws[k].items[ri].content ? commit_item(ws, k, ri, &rs, &c, o, &j, err)
                                     : (err ? err->code : PYTI_ERR_IO);
    }
    dir_cache_drop(&c);

    if (rc != PYTI_OK) {
        if (compiled)
            remove_compiled(ws, n);
        rollback(ws, &rs, &j);
        rollback_dirs(&j);
    } else {
        drop_backups(ws, n, &rs);
        if (result) {
            result->dists = xcalloc(n, sizeof *result->dists);
            result->len = n;
            for (size_t k = 0; k < n; k++) {
                pyti_installed_dist *d = &result->dists[k];
                d->name = xstrdup(ws[k].name);
                d->version = xstrdup(ws[k].version);
                d->dist_info = xstrdup(ws[k].dist_info);
                for (size_t i = 0; i < ws[k].nitems; i++)
                    d->files += ws[k].items[i].committed;
                d->launchers = ws[k].launchers;
                d->compiled = ws[k].pyc_abs.len;
                d->files += d->compiled;
            }
        }
    }
    path_rmtree(stage, NULL);
    free(stage);
    for (size_t k = 0; k < n; k++)
        wheel_free(&ws[k]);
    free(ws);
    roots_free(&rs);
    strv_free(&j.made);
    free(j.files);
    return rc;
}
