/* fuzz_archive.c — libFuzzer target for src/pkg/archive.c.
 *
 * Each input is extracted (from memory, and for one input in eight also
 * from a file) into a fresh directory ROOT/dest beside a sentinel
 * ROOT/outside/secret, and archive_read_member is asked for a member. After
 * each run the target checks, and aborts (a finding) if broken:
 *  - nothing appeared or changed outside dest (ROOT holds exactly dest and
 *    outside; the sentinel keeps its inode, link count and content);
 *  - a failed extraction left dest empty and set a message;
 *  - a successful one left only files (0644/0755), directories (0755) and
 *    symlinks that the kernel resolves beneath dest (openat2 with
 *    RESOLVE_BENEATH), and nothing setuid/setgid/sticky;
 *  - no file descriptor leaked (the lowest free fd never moves).
 * Limits are small so each run stays fast; the input's last byte picks a
 * roomy or a tight set, so that small inputs reach every limit. */
#include "common/err.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "pkg/archive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *root, *dest, *outside, *secret, *input_file;
static ino_t secret_ino;

#define SECRET "s3cret\n"

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_archive: INVARIANT BROKEN: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    abort();
}

static void cleanup(void)
{
    if (root)
        path_rmtree(root, NULL);
    if (input_file)
        unlink(input_file);
}

static void setup(void)
{
    pyti_error err;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NULL;
    root = path_mkdtemp(base, "pyti-fuzz-archive-", &err);
    if (!root)
        die("mkdtemp", err.msg);
    dest = path_join(root, "dest");
    outside = path_join(root, "outside");
    if (mkdir(outside, 0755) != 0)
        die("mkdir outside", strerror(errno));
    secret = path_join(outside, "secret");
    FILE *f = fopen(secret, "w");
    if (!f || fputs(SECRET, f) < 0 || fclose(f) != 0)
        die("write secret", NULL);
    struct stat st;
    if (stat(secret, &st) != 0)
        die("stat secret", NULL);
    secret_ino = st.st_ino;
    input_file = xasprintf("%s.input", root); /* beside ROOT, not inside */
    atexit(cleanup);
}

/* A leak is a descriptor still open on something of ours (the work tree
 * or the input file). Counting descriptors instead gives false alarms:
 * libFuzzer and the sanitizers open pipes to llvm-symbolizer whenever they
 * print a new function. */
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

static size_t count_entries(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        die("opendir", path);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void check_outside(void)
{
    if (count_entries(root) != 2)
        die("something was created beside dest", root);
    if (count_entries(outside) != 1)
        die("something was created in the sentinel directory", outside);
    struct stat st;
    if (lstat(secret, &st) != 0 || !S_ISREG(st.st_mode) || st.st_ino != secret_ino ||
        st.st_nlink != 1 || st.st_size != (off_t)strlen(SECRET))
        die("the sentinel file changed", secret);
    char buf[64] = {0};
    FILE *f = fopen(secret, "r");
    if (!f || fread(buf, 1, sizeof buf - 1, f) != strlen(SECRET) || strcmp(buf, SECRET) != 0)
        die("the sentinel's content changed", secret);
    fclose(f);
    if (lstat(dest, &st) != 0 || !S_ISDIR(st.st_mode))
        die("dest is no longer a directory", dest);
}

/* Walks what a successful extraction made (rel is the path below dest). */
static void check_tree(int destfd, int dfd, const char *rel, int depth)
{
    if (depth > 256)
        die("tree deeper than any limit allows", rel);
    int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
    DIR *d = fdopendir(fd);
    if (!d)
        die("fdopendir", rel);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *r = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
        struct stat st;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            die("fstatat", r);
        mode_t perm = st.st_mode & 07777;
        if (S_ISDIR(st.st_mode)) {
            if (perm != 0755)
                die("directory mode is not 0755", r);
            int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0)
                die("openat", r);
            check_tree(destfd, sub, r, depth + 1);
            close(sub);
        } else if (S_ISREG(st.st_mode)) {
            if (perm != 0644 && perm != 0755)
                die("file mode is not 0644 or 0755", r);
        } else if (S_ISLNK(st.st_mode)) {
            struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
            };
            long lfd = syscall(SYS_openat2, destfd, r, &how, sizeof how);
            if (lfd >= 0)
                close((int)lfd);
            else if (errno == EXDEV)
                die("symlink resolves outside dest", r);
        } else {
            die("a device, fifo or socket was created", r);
        }
        free(r);
    }
    closedir(d);
}

static void check_result(pyti_status rc, const pyti_error *err, const char *how)
{
    if (rc != PYTI_OK) {
        if (rc != PYTI_ERR_INPUT && rc != PYTI_ERR_LIMIT)
            die("unexpected status (not input/limit)", err->msg);
        if (err->code != rc || err->msg[0] == '\0')
            die("failure without a message", how);
        if (count_entries(dest) != 0)
            die("dest not emptied after a failure", err->msg);
    } else {
        int destfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (destfd < 0)
            die("open dest", strerror(errno));
        check_tree(destfd, destfd, "", 0);
        close(destfd);
    }
    check_outside();
}

static void reset_dest(void)
{
    pyti_error err;
    if (path_rmtree(dest, &err) != PYTI_OK)
        die("removing dest", err.msg);
    if (mkdir(dest, 0755) != 0)
        die("mkdir dest", strerror(errno));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!root) {
        setup();
        if (mkdir(dest, 0755) != 0)
            die("mkdir dest", strerror(errno));
    }
    /* Two limit profiles, chosen by the input's last byte: roomy (bombs
     * stop at a few MiB) and tight, so that small inputs reach every
     * limit's code path. */
    pyti_extract_limits lim;
    extract_limits_default(&lim);
    if (size > 0 && (data[size - 1] & 1)) {
        lim.max_total_size = 64u << 10;
        lim.max_entry_size = 16u << 10;
        lim.max_entries = 12;
        lim.max_ratio = 10.0;
        lim.ratio_min_size = 4096;
        lim.max_depth = 4;
        lim.max_name_len = 16;
        lim.max_path_len = 48;
    } else {
        lim.max_total_size = 8u << 20;
        lim.max_entry_size = 4u << 20;
        lim.max_entries = 2000;
        lim.ratio_min_size = 1u << 20;
        lim.max_depth = 32;
    }

    pyti_error err;
    pyti_error_clear(&err);
    pyti_extract_stats st;
    pyti_status rc = archive_extract_memory(data, size, "fuzz", dest, &lim, &st, &err);
    check_result(rc, &err, "memory");
    if (st.total_size > lim.max_total_size)
        die("total size over the limit", NULL);
    reset_dest();

    if ((size & 7) == 0) {
        FILE *f = fopen(input_file, "wb");
        if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
            die("writing the input file", input_file);
        pyti_error err2;
        pyti_error_clear(&err2);
        pyti_status rc2 = archive_extract(input_file, dest, &lim, NULL, &err2);
        check_result(rc2, &err2, "file");
        /* the two paths must agree */
        if ((rc == PYTI_OK) != (rc2 == PYTI_OK))
            die("memory and file extraction disagree", err.msg[0] ? err.msg : err2.msg);
        reset_dest();

        char *out = NULL;
        size_t len = 0;
        rc2 = archive_read_member(input_file, "pkg-1.0/PKG-INFO", 4096, &out, &len, &err2);
        if (rc2 == PYTI_OK) {
            if (!out || len > 4096 || out[len] != '\0')
                die("archive_read_member result", NULL);
        } else if (out) {
            die("archive_read_member set *out on failure", NULL);
        }
        free(out);
        unlink(input_file);
    }

    check_no_fd_leak();
    return 0;
}
