/* fuzz_install.c — libFuzzer target for the wheel installer
 * (pkg/install.h). Each input becomes a wheel file that install_wheels
 * installs into a private venv skeleton:
 *
 *  - raw mode (any input not starting with 'S'): the bytes are the wheel;
 *  - structured mode ('S', a flags byte, then "name\0content\0" pairs):
 *    a zip is built with those members (a name starting with '!' is
 *    executable) plus METADATA and WHEEL unless given, and a correct
 *    RECORD when flag 1 is set, so the fuzzer reaches entry points,
 *    .data directories, scripts and conflicts rather than only the zip
 *    reader. Flag 2 asks for overwrite, flag 4 for REQUESTED and
 *    direct_url.json, flag 8 for a purelib/platlib split scheme, flag 16
 *    for staging inside the venv (renames and whole-directory moves
 *    instead of copies from tmpfs).
 *
 * After every run:
 *  - nothing outside the venv changed (a sentinel tree beside it, and a
 *    symlink inside site-packages pointing at it, are compared);
 *  - a refused install left the venv exactly as it was (all or nothing);
 *  - no descriptor of ours is left open (leaks of memory are ASan's).
 * The venv is rebuilt after a successful install. */
#include "common/buf.h"
#include "common/hash.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "pkg/install.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *root, *venv, *outside, *wheel_path, *skeleton, *outside_snap;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_install: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void put(const char *dir, const char *rel, const char *content)
{
    char *p = path_join(dir, rel);
    char *d = path_dirname(p);
    if (path_mkdirs(d, 0755, NULL) != PYTI_OK)
        die("mkdirs", d);
    FILE *fp = fopen(p, "wb");
    if (!fp || fputs(content, fp) < 0 || fclose(fp) != 0)
        die("write", p);
    free(d);
    free(p);
}

static void snap_walk(const char *base, const char *rel, pyti_strv *out)
{
    char *abs = *rel ? path_join(base, rel) : xstrdup(base);
    DIR *d = opendir(abs);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *r = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
        char *p = path_join(base, r);
        struct stat st;
        if (lstat(p, &st) != 0)
            die("lstat", p);
        if (S_ISDIR(st.st_mode)) {
            strv_push_owned(out, xasprintf("%s/ %o", r, st.st_mode & 07777));
            snap_walk(base, r, out);
        } else if (S_ISLNK(st.st_mode)) {
            strv_push_owned(out, xasprintf("%s ->", r));
        } else {
            char hex[PYTI_SHA256_HEX_LEN + 1];
            if (hash_sha256_file(p, hex, NULL, NULL) != PYTI_OK)
                die("hash", p);
            strv_push_owned(out, xasprintf("%s %o %s", r, st.st_mode & 07777, hex));
        }
        free(p);
        free(r);
    }
    if (d)
        closedir(d);
    free(abs);
}

static char *snapshot(const char *base)
{
    pyti_strv v = PYTI_STRV_INIT;
    snap_walk(base, "", &v);
    strv_sort(&v);
    char *s = strv_join(&v, "\n");
    strv_free(&v);
    return s;
}

static void make_venv(void)
{
    put(venv, "pyvenv.cfg", "home = /usr/bin\nversion = 3.11.2\n");
    put(venv, "bin/python", "placeholder\n");
    put(venv, "lib/python3.11/site-packages/existing.py", "# another distribution\n");
    put(venv, "lib/python3.11/site-packages/other-1.0.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: other\nVersion: 1.0\n");
    char *link = path_join(venv, "lib/python3.11/site-packages/escape");
    if (symlink(outside, link) != 0)
        die("symlink", link);
    free(link);
}

static void cleanup(void)
{
    path_rmtree(root, NULL);
    free(root);
    free(venv);
    free(outside);
    free(wheel_path);
    free(skeleton);
    free(outside_snap);
}

static void setup(void)
{
    root = path_mkdtemp(NULL, "pyti-fuzz-install-", NULL);
    if (!root)
        die("mkdtemp", NULL);
    venv = path_join(root, "venv");
    outside = path_join(root, "outside");
    put(outside, "secret.txt", "must never change\n");
    make_venv();
    char *in = path_join(root, "in");
    if (mkdir(in, 0755) != 0)
        die("mkdir", in);
    wheel_path = path_join(in, "fuzz-1.0-py3-none-any.whl");
    free(in);
    skeleton = snapshot(venv);
    outside_snap = snapshot(outside);
    atexit(cleanup);
}

static void check_no_fd_leak(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        die("opendir /proc/self/fd", strerror(errno));
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char link[300], target[4096];
        snprintf(link, sizeof link, "/proc/self/fd/%s", de->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (strncmp(target, root, strlen(root)) == 0)
            die("file descriptor leak", target);
    }
    closedir(d);
}

static void zip_add(struct archive *a, const char *name, const void *data, size_t len,
                    bool exec)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, exec ? 0755 : 0644);
    archive_entry_set_size(e, (la_int64_t)len);
    if (archive_write_header(a, e) == ARCHIVE_OK && len)
        archive_write_data(a, data, len);
    archive_entry_free(e);
}

/* Structured input -> a zip file at wheel_path. */
static void build_structured(const uint8_t *data, size_t size)
{
    uint8_t flags = size > 1 ? data[1] : 0;
    const char *p = (const char *)data + 2, *end = (const char *)data + size;
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    if (archive_write_open_filename(a, wheel_path) != ARCHIVE_OK)
        die("zip open", archive_error_string(a));
    pyti_buf rec = PYTI_BUF_INIT;
    bool have_md = false, have_wheel = false, have_record = false;
    for (int n = 0; p < end && n < 64; n++) {
        const char *name = p;
        const char *z = memchr(p, 0, (size_t)(end - p));
        if (!z)
            break;
        const char *content = z + 1;
        const char *z2 = content < end ? memchr(content, 0, (size_t)(end - content)) : NULL;
        size_t clen = z2 ? (size_t)(z2 - content) : (size_t)(end - content);
        p = z2 ? z2 + 1 : end;
        bool exec = name[0] == '!';
        if (exec)
            name++;
        if (!*name)
            continue;
        have_md |= strcmp(name, "fuzz-1.0.dist-info/METADATA") == 0;
        have_wheel |= strcmp(name, "fuzz-1.0.dist-info/WHEEL") == 0;
        have_record |= strcmp(name, "fuzz-1.0.dist-info/RECORD") == 0;
        zip_add(a, name, content, clen, exec);
        char *h = hash_record_sha256(content, clen);
        buf_printf(&rec, "\"%s\",%s,%zu\n", name, h, clen);
        free(h);
    }
    static const char md[] = "Metadata-Version: 2.1\nName: fuzz\nVersion: 1.0\n";
    static const char wh[] = "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n";
    if (!have_md) {
        zip_add(a, "fuzz-1.0.dist-info/METADATA", md, sizeof md - 1, false);
        char *h = hash_record_sha256(md, sizeof md - 1);
        buf_printf(&rec, "fuzz-1.0.dist-info/METADATA,%s,%zu\n", h, sizeof md - 1);
        free(h);
    }
    if (!have_wheel) {
        zip_add(a, "fuzz-1.0.dist-info/WHEEL", wh, sizeof wh - 1, false);
        char *h = hash_record_sha256(wh, sizeof wh - 1);
        buf_printf(&rec, "fuzz-1.0.dist-info/WHEEL,%s,%zu\n", h, sizeof wh - 1);
        free(h);
    }
    if ((flags & 1) && !have_record) {
        buf_puts(&rec, "fuzz-1.0.dist-info/RECORD,,\n");
        zip_add(a, "fuzz-1.0.dist-info/RECORD", rec.data, rec.len, false);
    }
    archive_write_close(a);
    archive_write_free(a);
    buf_free(&rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!root)
        setup();
    if (size > (1u << 20))
        return 0;
    bool structured = size >= 2 && data[0] == 'S';
    uint8_t flags = structured ? data[1] : 0;
    if (structured) {
        build_structured(data, size);
    } else {
        FILE *fp = fopen(wheel_path, "wb");
        if (!fp || (size && fwrite(data, 1, size, fp) != size) || fclose(fp) != 0)
            die("write", wheel_path);
    }
    pyti_install_scheme s;
    pyti_error err;
    if (install_scheme_for_venv(venv, NULL, &s, &err) != PYTI_OK)
        die("scheme", err.msg);
    if (flags & 8) {
        free(s.platlib);
        s.platlib = path_join(venv, "lib64/python3.11/site-packages");
    }
    pyti_install_options o = {
        .overwrite = (flags & 2) != 0,
        .requested = (flags & 4) != 0,
        .direct_url = (flags & 4) != 0,
        .staging_dir = (flags & 16) ? venv : NULL,
    };
    pyti_install_result res;
    const char *w[] = {wheel_path};
    pyti_status rc = install_wheels(&s, w, 1, &o, &res, &err);
    install_scheme_free(&s);
    install_result_free(&res);
    check_no_fd_leak();
    char *now = snapshot(outside);
    if (strcmp(now, outside_snap) != 0)
        die("something outside the venv changed", now);
    free(now);
    if (rc != PYTI_OK) {
        now = snapshot(venv);
        if (strcmp(now, skeleton) != 0) {
            fprintf(stderr, "--- before\n%s\n--- after\n%s\n--- error\n%s\n", skeleton, now,
                    err.msg);
            die("a refused install left changes in the venv", NULL);
        }
        free(now);
    } else {
        path_rmtree(venv, NULL);
        make_venv();
    }
    unlink(wheel_path);
    return 0;
}
