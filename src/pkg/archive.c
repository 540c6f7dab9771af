/* archive.c — safe extraction of distribution archives (see archive.h and
 * docs/archive-safety.md).
 *
 * libarchive only reads here. Everything on disk is created by this file
 * with *at() calls relative to a descriptor of the target directory, and
 * every directory on the way is opened with O_NOFOLLOW|O_DIRECTORY, so no
 * symlink (planted by an earlier entry or by a racing process) can send a
 * write elsewhere. Before touching the disk each entry is checked against
 * an in-memory tree of what this extraction has created so far; the tree
 * gives the good error messages ("goes through the symlink 'x'"), the
 * *at()/O_NOFOLLOW discipline is the guarantee.
 *
 * Invariants:
 *  - the target directory was empty when we started, so everything in it
 *    is in the tree (a node per file, directory and link we created);
 *  - a node's parent was created before it, so nodes[] is in creation order;
 *  - symlink targets are relative, in the form "../../a/b" (every ".."
 *    before every name) and never climb above the target directory. With
 *    no symlink traversed on the way to the link itself, this keeps every
 *    link's resolution inside the target directory, chains included. */
#include "pkg/archive.h"

#include "common/buf.h"
#include "common/err.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void extract_limits_default(pyti_extract_limits *limits)
{
    limits->max_total_size = UINT64_C(1) << 30;
    limits->max_entry_size = UINT64_C(512) << 20;
    limits->max_entries = 100000;
    limits->max_ratio = 200.0;
    limits->ratio_min_size = UINT64_C(10) << 20;
    limits->max_depth = 64;
    limits->max_name_len = 255;
    limits->max_path_len = 1024;
}

/* ------------------------------------------------------------------ */
/* Reading: which formats and filters, and the locale names are read in */

/* libarchive converts names to the current locale's charset; under the C
 * locale a UTF-8 name becomes "caf??.py" plus a warning. Reading under a
 * thread-local C.UTF-8 locale keeps names as the bytes the archive holds,
 * whatever the process locale is. If C.UTF-8 is missing we keep the
 * process locale: non-ASCII names in pax/zip are then rejected (libarchive
 * warns and we treat warnings as errors), never mangled silently. */
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;
static locale_t utf8_locale = (locale_t)0;

static void utf8_locale_init(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static locale_t enter_utf8_locale(void)
{
    pthread_once(&utf8_once, utf8_locale_init);
    if (utf8_locale == (locale_t)0)
        return (locale_t)0;
    return uselocale(utf8_locale);
}

static void leave_utf8_locale(locale_t old)
{
    if (old != (locale_t)0)
        uselocale(old);
}

/* A reader for tar (ustar, pax, GNU) and zip only, with the compressions
 * distributions use. Filters are enabled one by one, and only when
 * libarchive has the library built in: archive_read_support_filter_all()
 * would also register filters that run external programs (lrzip, grzip,
 * lzop, ...) on untrusted data, and stacking bids on formats a
 * distribution never uses. */
static struct archive *reader_new(void)
{
    struct archive *a = archive_read_new();
    if (!a) {
        fputs("pyti: out of memory (archive_read_new)\n", stderr);
        abort();
    }
    if (archive_zlib_version())
        archive_read_support_filter_gzip(a);
    if (archive_bzlib_version())
        archive_read_support_filter_bzip2(a);
    if (archive_liblzma_version())
        archive_read_support_filter_xz(a);
    archive_read_support_filter_compress(a); /* .tar.Z; built in, no library */
    archive_read_support_format_tar(a);
    /* Zip through the central directory only, like Python's zipfile (and
     * so pip): the streaming reader would also accept a zip without one
     * (truncated) and would see the local headers, which an attacker can
     * make disagree with the central directory. The seekable reader
     * checks each local header against it (mismatches warn; warnings are
     * errors here). Our sources, files and memory, can always seek. */
    archive_read_support_format_zip_seekable(a);
    archive_clear_error(a);
    return a;
}

static bool filter_allowed(int code)
{
    switch (code) {
    case ARCHIVE_FILTER_NONE:
    case ARCHIVE_FILTER_GZIP:
    case ARCHIVE_FILTER_BZIP2:
    case ARCHIVE_FILTER_XZ:
    case ARCHIVE_FILTER_COMPRESS:
        return true;
    default:
        return false;
    }
}

#define NOT_AN_ARCHIVE                                                                       \
    "not a tar or zip archive; a distribution is a tar archive (plain or compressed with "   \
    "gzip, bzip2, xz or compress) or a zip archive"

static const char *archive_msg(struct archive *a)
{
    const char *m = archive_error_string(a);
    return m && *m ? m : "no details from libarchive";
}

/* Why no format could be chosen: nothing recognised the data (not an
 * archive, or one we do not read), or the decompressor failed first (a
 * truncated or corrupt compressed stream). */
static const char *unrecognised_why(struct archive *a, bool zip_magic)
{
    /* libarchive's ARCHIVE_ERRNO_FILE_FORMAT is private; it is EILSEQ
     * where there is no EFTYPE (Linux). */
    if (archive_errno(a) != EILSEQ)
        return "damaged or truncated archive";
    if (zip_magic)
        return "zip archive without a readable central directory (truncated or damaged)";
    return NOT_AN_ARCHIVE;
}

/* ------------------------------------------------------------------ */
/* Names */

/* Appends s to b for an error message: printable ASCII and valid UTF-8 as
 * they are, everything else as \xNN, cut after max bytes. */
static void escape_into(pyti_buf *b, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    size_t i = 0;
    while (i < len) {
        if (b->len >= max) {
            buf_puts(b, "...");
            return;
        }
        unsigned c = p[i];
        if (c >= 0x20 && c < 0x7f) {
            buf_putc(b, (char)c);
            i++;
            continue;
        }
        size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (c >= 0x80 && n > 1 && i + n <= len && str_valid_utf8(s + i, n)) {
            buf_append(b, s + i, n);
            i += n;
        } else {
            buf_printf(b, "\\x%02x", c);
            i++;
        }
    }
}

static char *escape_name(const char *s)
{
    pyti_buf b = PYTI_BUF_INIT;
    escape_into(&b, s, 200);
    return buf_detach(&b);
}

/* A checked, normalised path: components without "", "." or "..". */
typedef struct comps {
    char *buf;      /* the components, NUL-separated */
    char **v;
    size_t n;
} comps;

static void comps_free(comps *c)
{
    free(c->buf);
    free(c->v);
    memset(c, 0, sizeof *c);
}

static bool is_drive_letter(const char *s)
{
    return ((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')) && s[1] == ':';
}

/* True if some component of s, split on any of seps, is "..". */
static bool has_dotdot(const char *s, const char *seps)
{
    const char *p = s;
    while (*p) {
        size_t n = strcspn(p, seps);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return true;
        p += n;
        if (*p)
            p++;
    }
    return false;
}

/* Checks the bytes of a name or link target: no control characters, valid
 * UTF-8, no Windows-isms. what is "name" or "symlink target" etc. for the
 * message. Fills why with the rule broken; returns PYTI_OK or the code. */
static pyti_status check_bytes(const char *s, const char *what, pyti_buf *why)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            buf_printf(why, "%s contains a control character (byte 0x%02x)", what, c);
            return PYTI_ERR_INPUT;
        }
    }
    if (!str_valid_utf8(s, len)) {
        buf_printf(why, "%s is not valid UTF-8", what);
        return PYTI_ERR_INPUT;
    }
    return PYTI_OK;
}

/* Parses an entry name into c. An empty result (the name was "." or "./")
 * is allowed only for directories (callers skip it). */
static pyti_status parse_name(const char *raw, const pyti_extract_limits *lim, comps *c,
                              pyti_buf *why)
{
    memset(c, 0, sizeof *c);
    if (!raw) {
        buf_puts(why, "name cannot be decoded");
        return PYTI_ERR_INPUT;
    }
    size_t len = strlen(raw);
    if (len == 0) {
        buf_puts(why, "empty name");
        return PYTI_ERR_INPUT;
    }
    if (len > lim->max_path_len) {
        buf_printf(why, "path is %zu bytes long, over the limit of %u (max_path_len)", len,
                   lim->max_path_len);
        return PYTI_ERR_LIMIT;
    }
    pyti_status rc = check_bytes(raw, "name", why);
    if (rc != PYTI_OK)
        return rc;
    if (raw[0] == '/' || raw[0] == '\\') {
        buf_puts(why, "absolute path");
        return PYTI_ERR_INPUT;
    }
    if (is_drive_letter(raw)) {
        buf_puts(why, "absolute path (Windows drive letter)");
        return PYTI_ERR_INPUT;
    }
    if (has_dotdot(raw, "/")) {
        buf_puts(why, "path escapes the target directory ('..' component)");
        return PYTI_ERR_INPUT;
    }
    if (has_dotdot(raw, "/\\")) {
        buf_puts(why, "path escapes the target directory ('..' component, with '\\' as a "
                      "Windows path separator)");
        return PYTI_ERR_INPUT;
    }
    if (strchr(raw, '\\')) {
        buf_puts(why, "name contains a backslash (a Windows path separator)");
        return PYTI_ERR_INPUT;
    }

    c->buf = xstrdup(raw);
    size_t cap = 8;
    c->v = xreallocarray(NULL, cap, sizeof *c->v);
    char *save = NULL;
    for (char *tok = strtok_r(c->buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
        if (strcmp(tok, ".") == 0)
            continue;
        size_t tl = strlen(tok);
        if (tl > lim->max_name_len) {
            buf_printf(why, "a component is %zu bytes long, over the limit of %u (max_name_len)",
                       tl, lim->max_name_len);
            comps_free(c);
            return PYTI_ERR_LIMIT;
        }
        if (c->n + 1 > lim->max_depth) {
            buf_printf(why, "path is more than %u components deep (max_depth)", lim->max_depth);
            comps_free(c);
            return PYTI_ERR_LIMIT;
        }
        if (c->n == cap) {
            cap *= 2;
            c->v = xreallocarray(c->v, cap, sizeof *c->v);
        }
        c->v[c->n++] = tok;
    }
    return PYTI_OK;
}

/* ------------------------------------------------------------------ */
/* The tree of what this extraction created */

enum { N_DIR = 1, N_FILE, N_SYMLINK };
#define NO_NODE UINT32_MAX
#define ROOT 0u

typedef struct tnode {
    char *name;
    uint32_t parent;
    uint32_t next;      /* hash chain */
    uint8_t type;
    bool listed;        /* an archive entry named it (else: made as a parent) */
} tnode;

typedef struct tree {
    tnode *nodes;
    size_t len, cap;
    uint32_t *buckets;
    size_t nbuckets;    /* power of two */
} tree;

static uint64_t node_hash(uint32_t parent, const char *name)
{
    uint64_t h = 1469598103934665603ULL ^ parent;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static void tree_init(tree *t)
{
    memset(t, 0, sizeof *t);
    t->nbuckets = 64;
    t->buckets = xreallocarray(NULL, t->nbuckets, sizeof *t->buckets);
    for (size_t i = 0; i < t->nbuckets; i++)
        t->buckets[i] = NO_NODE;
    t->cap = 64;
    t->nodes = xreallocarray(NULL, t->cap, sizeof *t->nodes);
    t->nodes[0] = (tnode){xstrdup(""), NO_NODE, NO_NODE, N_DIR, true};
    t->len = 1;
}

static void tree_free(tree *t)
{
    for (size_t i = 0; i < t->len; i++)
        free(t->nodes[i].name);
    free(t->nodes);
    free(t->buckets);
    memset(t, 0, sizeof *t);
}

static uint32_t tree_find(const tree *t, uint32_t parent, const char *name)
{
    uint32_t i = t->buckets[node_hash(parent, name) & (t->nbuckets - 1)];
    for (; i != NO_NODE; i = t->nodes[i].next)
        if (t->nodes[i].parent == parent && strcmp(t->nodes[i].name, name) == 0)
            return i;
    return NO_NODE;
}

static uint32_t tree_add(tree *t, uint32_t parent, const char *name, uint8_t type, bool listed)
{
    if (t->len == t->cap) {
        t->cap *= 2;
        t->nodes = xreallocarray(t->nodes, t->cap, sizeof *t->nodes);
    }
    if (t->len * 4 >= t->nbuckets * 3) {
        size_t nb = t->nbuckets * 2;
        uint32_t *b = xreallocarray(NULL, nb, sizeof *b);
        for (size_t i = 0; i < nb; i++)
            b[i] = NO_NODE;
        for (size_t i = 1; i < t->len; i++) {
            size_t h = node_hash(t->nodes[i].parent, t->nodes[i].name) & (nb - 1);
            t->nodes[i].next = b[h];
            b[h] = (uint32_t)i;
        }
        free(t->buckets);
        t->buckets = b;
        t->nbuckets = nb;
    }
    uint32_t id = (uint32_t)t->len++;
    size_t h = node_hash(parent, name) & (t->nbuckets - 1);
    t->nodes[id] = (tnode){xstrdup(name), parent, t->buckets[h], type, listed};
    t->buckets[h] = id;
    return id;
}

/* The path of a node inside dest ("a/b/c"), for messages. */
static char *node_path(const tree *t, uint32_t id)
{
    if (id == ROOT)
        return xstrdup(".");
    size_t depth = 0;
    for (uint32_t i = id; i != ROOT; i = t->nodes[i].parent)
        depth++;
    const char **names = xreallocarray(NULL, depth, sizeof *names);
    size_t k = depth;
    for (uint32_t i = id; i != ROOT; i = t->nodes[i].parent)
        names[--k] = t->nodes[i].name;
    pyti_buf b = PYTI_BUF_INIT;
    for (size_t j = 0; j < depth; j++) {
        if (j)
            buf_putc(&b, '/');
        buf_puts(&b, names[j]);
    }
    free(names);
    return buf_detach(&b);
}

static const char *type_name(uint8_t type)
{
    switch (type) {
    case N_DIR: return "a directory";
    case N_FILE: return "a file";
    case N_SYMLINK: return "a symlink";
    default: return "something";
    }
}

/* ------------------------------------------------------------------ */
/* Extraction state */

typedef struct dir_time {
    uint32_t node;
    struct timespec mtime;
} dir_time;

typedef struct xctx {
    struct archive *a;
    const char *shown;        /* the archive's name in messages */
    int destfd;
    pyti_extract_limits lim;
    pyti_extract_stats st;
    uint64_t inodes;          /* entries + directories made as parents */
    uint64_t unpacked;        /* bytes written + data of entries skipped */
    tree t;
    dir_time *dtimes;
    size_t ndtimes, capdtimes;
    uint32_t cache_node;      /* the directory cache_fd is open on */
    int cache_fd;
    char *ename;              /* current entry's name, escaped for messages */
    bool zip_magic;           /* see source */
    pyti_error *err;
} xctx;

static pyti_status xfail(xctx *x, pyti_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "archive NAME: entry 'E': " + message. */
static pyti_status xfail(xctx *x, pyti_status code, const char *fmt, ...)
{
    char msg[PYTI_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (x->ename)
        return pyti_error_set(x->err, code, "archive %s: entry '%s': %s", x->shown, x->ename, msg);
    return pyti_error_set(x->err, code, "archive %s: %s", x->shown, msg);
}

static pyti_status xfail_errno(xctx *x, int errnum, const char *what, const char *path)
{
    char *p = escape_name(path);
    pyti_status rc = xfail(x, PYTI_ERR_IO, "%s '%s': %s", what, p, strerror(errnum));
    free(p);
    return rc;
}

static void cache_drop(xctx *x)
{
    if (x->cache_fd >= 0)
        close(x->cache_fd);
    x->cache_fd = -1;
    x->cache_node = NO_NODE;
}

static void cache_set(xctx *x, uint32_t node, int fd)
{
    if (x->cache_fd >= 0 && x->cache_fd != fd)
        close(x->cache_fd);
    x->cache_fd = fd;
    x->cache_node = node;
}

/* Opens the directory of an existing node by walking from destfd with
 * O_NOFOLLOW on every component. Returns a new fd or -1 with err set. */
static int open_node_dir(xctx *x, uint32_t id)
{
    size_t depth = 0;
    for (uint32_t i = id; i != ROOT; i = x->t.nodes[i].parent)
        depth++;
    uint32_t *chain = xreallocarray(NULL, depth ? depth : 1, sizeof *chain);
    size_t k = depth;
    for (uint32_t i = id; i != ROOT; i = x->t.nodes[i].parent)
        chain[--k] = i;
    int fd = fcntl(x->destfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        free(chain);
        xfail_errno(x, errno, "opening the target directory", ".");
        return -1;
    }
    for (size_t j = 0; j < depth; j++) {
        int sub = openat(fd, x->t.nodes[chain[j]].name,
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            int e = errno;
            char *p = node_path(&x->t, chain[j]);
            xfail_errno(x, e, "opening directory", p);
            free(p);
            close(fd);
            free(chain);
            return -1;
        }
        close(fd);
        fd = sub;
    }
    free(chain);
    return fd;
}

/* Counts one more inode against max_entries. */
static pyti_status count_inode(xctx *x)
{
    if (x->inodes >= x->lim.max_entries)
        return xfail(x, PYTI_ERR_LIMIT,
                     "more than %llu entries and directories (max_entries)",
                     (unsigned long long)x->lim.max_entries);
    x->inodes++;
    return PYTI_OK;
}

/* Counts n more unpacked bytes against the total and ratio limits. */
static pyti_status count_bytes(xctx *x, uint64_t n)
{
    if (n > x->lim.max_total_size || x->unpacked > x->lim.max_total_size - n)
        return xfail(x, PYTI_ERR_LIMIT,
                     "archive unpacks to more than %llu bytes (max_total_size)",
                     (unsigned long long)x->lim.max_total_size);
    x->unpacked += n;
    if (x->unpacked > x->lim.ratio_min_size &&
        (double)x->unpacked > x->lim.max_ratio * (double)x->st.archive_size)
        return xfail(x, PYTI_ERR_LIMIT,
                     "compression ratio over %g (%llu bytes unpacked from a %llu-byte "
                     "archive; max_ratio)",
                     x->lim.max_ratio, (unsigned long long)x->unpacked,
                     (unsigned long long)x->st.archive_size);
    return PYTI_OK;
}

/* Walks to the directory that will hold c->v[c->n - 1], creating missing
 * directories (0755) on the way. Returns an fd owned by the cache (do not
 * close) or -1 with err set; *parent_out is its node. */
static int walk_parent(xctx *x, const comps *c, uint32_t *parent_out)
{
    uint32_t node = ROOT;
    size_t i = 0;
    for (; i + 1 < c->n; i++) {
        uint32_t ch = tree_find(&x->t, node, c->v[i]);
        if (ch == NO_NODE)
            break;
        if (x->t.nodes[ch].type != N_DIR) {
            char *p = node_path(&x->t, ch);
            char *ep = escape_name(p);
            if (x->t.nodes[ch].type == N_SYMLINK)
                xfail(x, PYTI_ERR_INPUT,
                      "path goes through the symlink '%s' (an earlier entry); writing "
                      "through symlinks is not allowed", ep);
            else
                xfail(x, PYTI_ERR_INPUT,
                      "type clash: '%s' is a file (an earlier entry), not a directory", ep);
            free(ep);
            free(p);
            return -1;
        }
        node = ch;
    }
    int fd;
    if (node == x->cache_node && x->cache_fd >= 0) {
        fd = x->cache_fd;
    } else {
        fd = open_node_dir(x, node);
        if (fd < 0)
            return -1;
        cache_set(x, node, fd);
    }
    for (; i + 1 < c->n; i++) {
        if (count_inode(x) != PYTI_OK)
            return -1;
        const char *name = c->v[i];
        if (mkdirat(fd, name, 0755) != 0) {
            int e = errno;
            char *p = node_path(&x->t, node);
            char *full = xasprintf("%s/%s", p, name);
            xfail_errno(x, e, "creating directory", full);
            free(full);
            free(p);
            return -1;
        }
        int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            xfail_errno(x, errno, "opening directory", name);
            return -1;
        }
        fchmod(sub, 0755); /* mkdirat's mode went through the umask */
        node = tree_add(&x->t, node, name, N_DIR, false);
        x->st.dirs++;
        cache_set(x, node, sub);
        fd = sub;
    }
    *parent_out = node;
    return fd;
}

/* The node at c (all components), or NO_NODE; stops at non-directories. */
static uint32_t tree_lookup(const tree *t, const comps *c)
{
    uint32_t node = ROOT;
    for (size_t i = 0; i < c->n; i++) {
        if (i > 0 && t->nodes[node].type != N_DIR)
            return NO_NODE;
        node = tree_find(t, node, c->v[i]);
        if (node == NO_NODE)
            return NO_NODE;
    }
    return node;
}

/* Reports why an entry of type `type` may not be created where `existing`
 * already is. */
static pyti_status clash(xctx *x, uint32_t existing, uint8_t type)
{
    const tnode *n = &x->t.nodes[existing];
    if (n->type == type && n->listed)
        return xfail(x, PYTI_ERR_INPUT,
                     "duplicate entry: the archive holds this path more than once");
    if (n->type == N_DIR && !n->listed)
        return xfail(x, PYTI_ERR_INPUT,
                     "type clash: would replace a directory (made for earlier entries) with %s",
                     type_name(type));
    return xfail(x, PYTI_ERR_INPUT, "type clash: would replace %s (an earlier entry) with %s",
                 type_name(n->type), type_name(type));
}

static void set_times_fd(int fd, struct archive_entry *e)
{
    if (!archive_entry_mtime_is_set(e))
        return;
    struct timespec ts[2];
    ts[1].tv_sec = archive_entry_mtime(e);
    ts[1].tv_nsec = archive_entry_mtime_nsec(e);
    if (ts[1].tv_nsec < 0 || ts[1].tv_nsec > 999999999)
        ts[1].tv_nsec = 0;
    ts[0] = ts[1];
    futimens(fd, ts); /* best effort: a timestamp the file system refuses is not fatal */
}

/* Streams the entry's data into fd, counting the bytes actually produced
 * (never the header's size) against the limits. */
static pyti_status write_data(xctx *x, int fd)
{
    uint64_t end = 0;
    for (;;) {
        const void *buf = NULL;
        size_t size = 0;
        la_int64_t off = 0;
        int r = archive_read_data_block(x->a, &buf, &size, &off);
        if (r == ARCHIVE_EOF) {
            size = 0;
            buf = NULL;
        } else if (r != ARCHIVE_OK) {
            return xfail(x, PYTI_ERR_INPUT, "cannot read data: %s", archive_msg(x->a));
        }
        if (off < 0 || (uint64_t)off > UINT64_MAX - size)
            return xfail(x, PYTI_ERR_INPUT, "bad data offset %lld", (long long)off);
        uint64_t blk_end = (uint64_t)off + size;
        if (blk_end > end) {
            uint64_t grow = blk_end - end;
            if (blk_end > x->lim.max_entry_size)
                return xfail(x, PYTI_ERR_LIMIT,
                             "entry unpacks to more than %llu bytes (max_entry_size)",
                             (unsigned long long)x->lim.max_entry_size);
            pyti_status rc = count_bytes(x, grow);
            if (rc != PYTI_OK)
                return rc;
            x->st.total_size += grow;
            end = blk_end;
        }
        if (r == ARCHIVE_EOF)
            break;
        const char *p = buf;
        uint64_t pos = (uint64_t)off;
        while (size > 0) {
            ssize_t w = pwrite(fd, p, size, (off_t)pos);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return xfail(x, PYTI_ERR_IO, "writing: %s", w < 0 ? strerror(errno) : "short write");
            p += w;
            size -= (size_t)w;
            pos += (uint64_t)w;
        }
    }
    /* A sparse file may end in a hole. */
    struct stat st;
    if (fstat(fd, &st) == 0 && (uint64_t)st.st_size < end && ftruncate(fd, (off_t)end) != 0)
        return xfail(x, PYTI_ERR_IO, "writing: %s", strerror(errno));
    return PYTI_OK;
}

/* Data of entries we do not write (directories, links with a size) is
 * still decompressed to be skipped: count it. */
static pyti_status count_skipped(xctx *x, struct archive_entry *e)
{
    if (!archive_entry_size_is_set(e) || archive_entry_size(e) <= 0)
        return PYTI_OK;
    return count_bytes(x, (uint64_t)archive_entry_size(e));
}

static pyti_status do_dir(xctx *x, struct archive_entry *e, const comps *c)
{
    pyti_status rc = count_skipped(x, e);
    if (rc != PYTI_OK)
        return rc;
    if (c->n == 0)
        return PYTI_OK; /* "./": the target directory itself */
    uint32_t existing = tree_lookup(&x->t, c);
    uint32_t id;
    if (existing != NO_NODE) {
        tnode *n = &x->t.nodes[existing];
        if (n->type != N_DIR || n->listed)
            return clash(x, existing, N_DIR);
        n->listed = true;
        id = existing;
    } else {
        uint32_t parent;
        int pfd = walk_parent(x, c, &parent);
        if (pfd < 0)
            return x->err ? x->err->code : PYTI_ERR_INPUT;
        const char *name = c->v[c->n - 1];
        if (mkdirat(pfd, name, 0755) != 0)
            return xfail(x, PYTI_ERR_IO, "creating the directory: %s", strerror(errno));
        int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return xfail(x, PYTI_ERR_IO, "opening the directory: %s", strerror(errno));
        fchmod(fd, 0755);
        id = tree_add(&x->t, parent, name, N_DIR, true);
        x->st.dirs++;
        cache_set(x, id, fd); /* files of this directory usually follow */
    }
    if (archive_entry_mtime_is_set(e)) {
        if (x->ndtimes == x->capdtimes) {
            x->capdtimes = x->capdtimes ? x->capdtimes * 2 : 16;
            x->dtimes = xreallocarray(x->dtimes, x->capdtimes, sizeof *x->dtimes);
        }
        long ns = archive_entry_mtime_nsec(e);
        x->dtimes[x->ndtimes++] = (dir_time){
            id, {archive_entry_mtime(e), ns >= 0 && ns <= 999999999 ? ns : 0}};
    }
    return PYTI_OK;
}

static pyti_status do_file(xctx *x, struct archive_entry *e, const comps *c, mode_t mode)
{
    uint32_t existing = tree_lookup(&x->t, c);
    if (existing != NO_NODE)
        return clash(x, existing, N_FILE);
    uint32_t parent;
    int pfd = walk_parent(x, c, &parent);
    if (pfd < 0)
        return x->err ? x->err->code : PYTI_ERR_INPUT;
    pyti_status rc;
    const char *name = c->v[c->n - 1];
    /* O_EXCL|O_NOFOLLOW: never open, truncate or follow anything that exists. */
    int fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return xfail(x, PYTI_ERR_IO, "creating the file: %s", strerror(errno));
    tree_add(&x->t, parent, name, N_FILE, true);
    x->st.files++;
    rc = write_data(x, fd);
    if (rc == PYTI_OK) {
        fchmod(fd, (mode & 0111) ? 0755 : 0644);
        set_times_fd(fd, e);
    }
    if (close(fd) != 0 && rc == PYTI_OK)
        rc = xfail(x, PYTI_ERR_IO, "writing: %s", strerror(errno));
    return rc;
}

/* Checks a symlink target: relative, "../" only at the start, never above
 * dest when resolved from the link's directory (depth components deep). */
static pyti_status check_symlink_target(xctx *x, const char *target, size_t depth)
{
    char *et = escape_name(target);
    pyti_buf why = PYTI_BUF_INIT;
    pyti_status rc = PYTI_OK;
    size_t tl = strlen(target);
    if (tl == 0) {
        rc = xfail(x, PYTI_ERR_INPUT, "symlink with an empty target");
        goto out;
    }
    if (tl > x->lim.max_path_len) {
        rc = xfail(x, PYTI_ERR_LIMIT,
                   "symlink target is %zu bytes long, over the limit of %u (max_path_len)", tl,
                   x->lim.max_path_len);
        goto out;
    }
    if ((rc = check_bytes(target, "symlink target", &why)) != PYTI_OK) {
        rc = xfail(x, rc, "%s", buf_cstr(&why));
        goto out;
    }
    if (target[0] == '/' || target[0] == '\\' || is_drive_letter(target)) {
        rc = xfail(x, PYTI_ERR_INPUT,
                   "symlink target '%s' is absolute (points outside the target directory)", et);
        goto out;
    }
    if (strchr(target, '\\')) {
        rc = xfail(x, PYTI_ERR_INPUT,
                   "symlink target '%s' contains a backslash (a Windows path separator)", et);
        goto out;
    }
    size_t ups = 0;
    bool seen_name = false;
    const char *p = target;
    while (*p) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (seen_name) {
                rc = xfail(x, PYTI_ERR_INPUT,
                           "symlink target '%s' has a '..' after a name; only leading '..' "
                           "components are allowed", et);
                goto out;
            }
            ups++;
        } else if (n > x->lim.max_name_len) {
            rc = xfail(x, PYTI_ERR_LIMIT,
                       "symlink target has a component %zu bytes long, over the limit of %u "
                       "(max_name_len)", n, x->lim.max_name_len);
            goto out;
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            seen_name = true;
        }
        p += n;
        if (*p)
            p++;
    }
    if (ups > depth)
        rc = xfail(x, PYTI_ERR_INPUT,
                   "symlink target '%s' points outside the target directory", et);
out:
    buf_free(&why);
    free(et);
    return rc;
}

static pyti_status do_symlink(xctx *x, struct archive_entry *e, const comps *c)
{
    const char *target = archive_entry_symlink(e);
    if (!target)
        return xfail(x, PYTI_ERR_INPUT, "symlink without a readable target");
    pyti_status rc = count_skipped(x, e);
    if (rc != PYTI_OK)
        return rc;
    if ((rc = check_symlink_target(x, target, c->n - 1)) != PYTI_OK)
        return rc;
    uint32_t existing = tree_lookup(&x->t, c);
    if (existing != NO_NODE)
        return clash(x, existing, N_SYMLINK);
    uint32_t parent;
    int pfd = walk_parent(x, c, &parent);
    if (pfd < 0)
        return x->err ? x->err->code : PYTI_ERR_INPUT;
    const char *name = c->v[c->n - 1];
    if (symlinkat(target, pfd, name) != 0)
        return xfail(x, PYTI_ERR_IO, "creating the symlink: %s", strerror(errno));
    tree_add(&x->t, parent, name, N_SYMLINK, true);
    x->st.symlinks++;
    if (archive_entry_mtime_is_set(e)) {
        long ns = archive_entry_mtime_nsec(e);
        struct timespec ts[2] = {{archive_entry_mtime(e), ns >= 0 && ns <= 999999999 ? ns : 0}};
        ts[1] = ts[0];
        utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW);
    }
    return PYTI_OK;
}

static pyti_status do_hardlink(xctx *x, struct archive_entry *e, const comps *c)
{
    const char *target = archive_entry_hardlink(e);
    char *et = escape_name(target);
    comps tc;
    pyti_buf why = PYTI_BUF_INIT;
    pyti_status rc = parse_name(target, &x->lim, &tc, &why);
    if (rc != PYTI_OK) {
        rc = xfail(x, rc, "hardlink target '%s' is outside the target directory or invalid (%s)",
                   et, buf_cstr(&why));
        goto out;
    }
    uint32_t tid = tc.n ? tree_lookup(&x->t, &tc) : ROOT;
    if (tid == NO_NODE) {
        rc = xfail(x, PYTI_ERR_INPUT,
                   "hardlink target '%s' is not a file extracted earlier from this archive", et);
        goto out;
    }
    if (x->t.nodes[tid].type != N_FILE) {
        rc = xfail(x, PYTI_ERR_INPUT, "hardlink target '%s' is %s, not a regular file", et,
                   type_name(x->t.nodes[tid].type));
        goto out;
    }
    if ((rc = count_skipped(x, e)) != PYTI_OK)
        goto out;
    uint32_t existing = tree_lookup(&x->t, c);
    if (existing != NO_NODE) {
        rc = clash(x, existing, N_FILE);
        goto out;
    }
    int tfd = open_node_dir(x, x->t.nodes[tid].parent);
    if (tfd < 0) {
        rc = x->err ? x->err->code : PYTI_ERR_IO;
        goto out;
    }
    uint32_t parent;
    int pfd = walk_parent(x, c, &parent);
    if (pfd < 0) {
        close(tfd);
        rc = x->err ? x->err->code : PYTI_ERR_INPUT;
        goto out;
    }
    const char *name = c->v[c->n - 1];
    /* flags 0: linkat never follows a symlink at the old path. */
    if (linkat(tfd, x->t.nodes[tid].name, pfd, name, 0) != 0) {
        int en = errno;
        close(tfd);
        rc = xfail(x, PYTI_ERR_IO, "creating the hardlink to '%s': %s", et, strerror(en));
        goto out;
    }
    close(tfd);
    tree_add(&x->t, parent, name, N_FILE, true);
    x->st.hardlinks++;
out:
    comps_free(&tc);
    buf_free(&why);
    free(et);
    return rc;
}

static const char *bad_type_name(mode_t type)
{
    switch (type) {
    case AE_IFCHR: return "a character device";
    case AE_IFBLK: return "a block device";
    case AE_IFIFO: return "a fifo";
    case AE_IFSOCK: return "a socket";
    default: return "of an unknown type";
    }
}

static pyti_status extract_entry(xctx *x, struct archive_entry *e)
{
    x->st.entries++;
    pyti_status rc = count_inode(x);
    if (rc != PYTI_OK)
        return rc;
    if (archive_entry_is_encrypted(e))
        return xfail(x, PYTI_ERR_INPUT, "entry is encrypted");
    mode_t mode = archive_entry_mode(e);
    mode_t type = archive_entry_filetype(e);
    const char *hardlink = archive_entry_hardlink(e);
    if (!hardlink && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
        return xfail(x, PYTI_ERR_INPUT,
                     "entry is %s; only files, directories and links are allowed",
                     bad_type_name(type));
    if (mode & (S_ISUID | S_ISGID | S_ISVTX))
        return xfail(x, PYTI_ERR_INPUT, "entry has the %s bit set (mode %04o)",
                     (mode & S_ISUID) ? "setuid" : (mode & S_ISGID) ? "setgid" : "sticky",
                     (unsigned)(mode & 07777));
    if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0 &&
        (uint64_t)archive_entry_size(e) > x->lim.max_entry_size)
        return xfail(x, PYTI_ERR_LIMIT,
                     "entry declares %lld bytes, over the limit of %llu (max_entry_size)",
                     (long long)archive_entry_size(e),
                     (unsigned long long)x->lim.max_entry_size);

    comps c;
    pyti_buf why = PYTI_BUF_INIT;
    rc = parse_name(archive_entry_pathname(e), &x->lim, &c, &why);
    if (rc != PYTI_OK) {
        rc = xfail(x, rc, "%s", buf_cstr(&why));
        buf_free(&why);
        return rc;
    }
    buf_free(&why);
    if (c.n == 0 && (hardlink || type != AE_IFDIR)) {
        comps_free(&c);
        return xfail(x, PYTI_ERR_INPUT, "entry names the target directory itself");
    }
    if (hardlink)
        rc = do_hardlink(x, e, &c);
    else if (type == AE_IFDIR)
        rc = do_dir(x, e, &c);
    else if (type == AE_IFLNK)
        rc = do_symlink(x, e, &c);
    else
        rc = do_file(x, e, &c, mode);
    comps_free(&c);
    return rc;
}

/* Removes everything inside the directory open at dfd, never following
 * symlinks. Returns 0 or an errno value. */
static int empty_dir(int dfd, int depth)
{
    if (depth > 4096)
        return ELOOP;
    int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return e;
    }
    rewinddir(d);
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                rc = rc ? rc : errno;
                continue;
            }
            int r = empty_dir(sub, depth + 1);
            close(sub);
            if (r)
                rc = rc ? rc : r;
            if (unlinkat(dfd, de->d_name, AT_REMOVEDIR) != 0)
                rc = rc ? rc : errno;
        } else if (unlinkat(dfd, de->d_name, 0) != 0 && errno != ENOENT) {
            rc = rc ? rc : errno;
        }
    }
    closedir(d);
    return rc;
}

static bool dir_is_empty(int dfd)
{
    int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return false;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return false;
    }
    rewinddir(d);
    bool empty = true;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            empty = false;
            break;
        }
    }
    closedir(d);
    return empty;
}

static void apply_dir_times(xctx *x)
{
    for (size_t i = 0; i < x->ndtimes; i++) {
        int fd = open_node_dir(x, x->dtimes[i].node);
        if (fd < 0)
            continue;
        struct timespec ts[2] = {x->dtimes[i].mtime, x->dtimes[i].mtime};
        futimens(fd, ts);
        close(fd);
    }
    if (x->err)
        pyti_error_clear(x->err); /* timestamps are best effort */
}

static void fill_format(xctx *x)
{
    const char *f = archive_format_name(x->a);
    snprintf(x->st.format, sizeof x->st.format, "%s", f ? f : "");
    const char *fl = archive_filter_count(x->a) > 0 ? archive_filter_name(x->a, 0) : NULL;
    snprintf(x->st.filter, sizeof x->st.filter, "%s", fl ? fl : "none");
}

/* Checks the filters libarchive chose: at most one compression, and one
 * of ours. Stacked compressions multiply bomb ratios and are never how a
 * distribution is made. */
static pyti_status check_filters(xctx *x)
{
    int n = archive_filter_count(x->a);
    for (int i = 0; i < n; i++)
        if (!filter_allowed(archive_filter_code(x->a, i)))
            return xfail(x, PYTI_ERR_INPUT, "unsupported compression '%s'",
                         archive_filter_name(x->a, i));
    if (n > 2)
        return xfail(x, PYTI_ERR_INPUT,
                     "compressed more than once (%s inside %s); a distribution is compressed "
                     "at most once", archive_filter_name(x->a, 1), archive_filter_name(x->a, 0));
    return PYTI_OK;
}

static pyti_status check_format(xctx *x)
{
    int f = archive_format(x->a) & ARCHIVE_FORMAT_BASE_MASK;
    if (f != ARCHIVE_FORMAT_TAR && f != ARCHIVE_FORMAT_ZIP)
        return xfail(x, PYTI_ERR_INPUT, "unsupported archive format '%s'; a distribution is "
                     "tar or zip", archive_format_name(x->a) ? archive_format_name(x->a) : "?");
    return PYTI_OK;
}

/* Runs the extraction on an opened reader. */
static pyti_status extract_all(xctx *x)
{
    pyti_status rc = PYTI_OK;
    bool first = true;
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(x->a, &e);
        free(x->ename);
        x->ename = NULL;
        if (r == ARCHIVE_EOF) {
            if (first && (rc = check_filters(x)) != PYTI_OK)
                return rc;
            break;
        }
        if (first) {
            if (r != ARCHIVE_OK && archive_format(x->a) == 0)
                return xfail(x, PYTI_ERR_INPUT, "%s (%s)", unrecognised_why(x->a, x->zip_magic),
                             archive_msg(x->a));
            if ((rc = check_filters(x)) != PYTI_OK || (rc = check_format(x)) != PYTI_OK)
                return rc;
            fill_format(x);
            first = false;
        }
        const char *raw = r == ARCHIVE_FATAL ? NULL : archive_entry_pathname(e);
        x->ename = raw ? escape_name(raw) : xasprintf("#%llu", (unsigned long long)x->st.entries + 1);
        if (r != ARCHIVE_OK) {
            /* Warnings are errors here: they mean a damaged or inconsistent
             * header (zip central directory vs local header, a name that is
             * not valid in its declared charset, a bad pax record), exactly
             * where parsers disagree and attacks hide. */
            return xfail(x, PYTI_ERR_INPUT, "damaged or unreadable header: %s",
                         archive_msg(x->a));
        }
        if ((rc = extract_entry(x, e)) != PYTI_OK)
            return rc;
    }
    free(x->ename);
    x->ename = NULL;
    fill_format(x);
    return PYTI_OK;
}

static void ctx_free(xctx *x)
{
    cache_drop(x);
    tree_free(&x->t);
    free(x->dtimes);
    free(x->ename);
    x->ename = NULL;
}

typedef struct source {
    const char *path;   /* a file, or */
    const void *data;   /* a buffer of len bytes */
    size_t len;
    const char *name;   /* for messages */
    bool zip_magic;     /* set by open_source: starts with a zip local header */
} source;

/* Opens src for reading into a new reader. Returns PYTI_OK and *out, or an
 * error. *fd_out is the file descriptor to close after the reader (-1 for
 * memory). */
static pyti_status open_source(source *src, struct archive **out, int *fd_out,
                               uint64_t *size_out, pyti_error *err)
{
    *out = NULL;
    *fd_out = -1;
    struct archive *a = reader_new();
    int r;
    if (src->path) {
        int fd = open(src->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
            int e = errno;
            archive_read_free(a);
            return pyti_error_errno(err, e == ENOENT ? PYTI_ERR_NOTFOUND : PYTI_ERR_IO, e,
                                    "archive %s: opening", src->name);
        }
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            archive_read_free(a);
            return pyti_error_set(err, PYTI_ERR_INPUT, "archive %s: not a regular file",
                                  src->name);
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        *size_out = (uint64_t)st.st_size;
        char magic[4];
        src->zip_magic = pread(fd, magic, 4, 0) == 4 && memcmp(magic, "PK\3\4", 4) == 0;
        r = archive_read_open_fd(a, fd, 64 * 1024);
        *fd_out = fd;
    } else {
        *size_out = src->len;
        src->zip_magic = src->len >= 4 && memcmp(src->data, "PK\3\4", 4) == 0;
        r = archive_read_open_memory(a, src->data, src->len);
    }
    if (r != ARCHIVE_OK) {
        if (archive_format(a) == 0)
            pyti_error_set(err, PYTI_ERR_INPUT, "archive %s: %s (%s)", src->name,
                           unrecognised_why(a, src->zip_magic), archive_msg(a));
        else
            pyti_error_set(err, PYTI_ERR_INPUT, "archive %s: cannot read: %s", src->name,
                           archive_msg(a));
        archive_read_free(a);
        if (*fd_out >= 0)
            close(*fd_out);
        *fd_out = -1;
        return PYTI_ERR_INPUT;
    }
    *out = a;
    return PYTI_OK;
}

static pyti_status extract_source(source *src, const char *dest_dir,
                                  const pyti_extract_limits *limits, pyti_extract_stats *stats,
                                  pyti_error *err)
{
    if (stats)
        memset(stats, 0, sizeof *stats);
    int destfd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (destfd < 0) {
        int e = errno;
        return pyti_error_errno(err, e == ENOENT ? PYTI_ERR_NOTFOUND : PYTI_ERR_IO, e,
                                "archive %s: opening the target directory %s", src->name,
                                dest_dir);
    }
    /* Only an empty dest can be emptied again on failure without
     * destroying something that was not ours. */
    if (!dir_is_empty(destfd)) {
        close(destfd);
        return pyti_error_set(err, PYTI_ERR_USAGE,
                              "archive %s: target directory %s is not empty", src->name,
                              dest_dir);
    }
    xctx x;
    memset(&x, 0, sizeof x);
    x.shown = src->name;
    x.destfd = destfd;
    x.cache_fd = -1;
    x.cache_node = NO_NODE;
    if (limits)
        x.lim = *limits;
    else
        extract_limits_default(&x.lim);
    pyti_error local;
    x.err = err ? err : &local;
    tree_init(&x.t);

    locale_t old = enter_utf8_locale();
    int fd = -1;
    pyti_status rc = open_source(src, &x.a, &fd, &x.st.archive_size, x.err);
    x.zip_magic = src->zip_magic;
    if (rc == PYTI_OK) {
        rc = extract_all(&x);
        cache_drop(&x);
        if (rc == PYTI_OK)
            apply_dir_times(&x);
        archive_read_free(x.a);
        x.a = NULL;
    }
    if (fd >= 0)
        close(fd);
    leave_utf8_locale(old);

    if (rc != PYTI_OK) {
        cache_drop(&x);
        int e = empty_dir(destfd, 0);
        if (e && x.err)
            pyti_error_prefix(x.err, "could not empty %s after the failure (%s)", dest_dir,
                              strerror(e));
    }
    if (stats)
        *stats = x.st;
    ctx_free(&x);
    close(destfd);
    return rc;
}

pyti_status archive_extract(const char *archive_path, const char *dest_dir,
                            const pyti_extract_limits *limits, pyti_extract_stats *stats,
                            pyti_error *err)
{
    source src = {archive_path, NULL, 0, path_basename(archive_path), false};
    return extract_source(&src, dest_dir, limits, stats, err);
}

pyti_status archive_extract_memory(const void *data, size_t len, const char *name,
                                   const char *dest_dir, const pyti_extract_limits *limits,
                                   pyti_extract_stats *stats, pyti_error *err)
{
    source src = {NULL, data ? data : "", len, name ? name : "(memory)", false};
    return extract_source(&src, dest_dir, limits, stats, err);
}

/* ------------------------------------------------------------------ */
/* Reading one member */

/* Compares an entry name with a wanted member, both normalised ("./a//b"
 * equals "a/b"). Invalid names never match. */
static bool name_matches(const char *raw, const comps *want, const pyti_extract_limits *lim)
{
    comps c;
    pyti_buf why = PYTI_BUF_INIT;
    bool ok = parse_name(raw, lim, &c, &why) == PYTI_OK && c.n == want->n;
    for (size_t i = 0; ok && i < c.n; i++)
        ok = strcmp(c.v[i], want->v[i]) == 0;
    comps_free(&c);
    buf_free(&why);
    return ok;
}

static pyti_status read_member_data(struct archive *a, const char *shown, const char *em,
                                    size_t max, pyti_buf *out, pyti_error *err)
{
    for (;;) {
        const void *buf = NULL;
        size_t size = 0;
        la_int64_t off = 0;
        int r = archive_read_data_block(a, &buf, &size, &off);
        if (r == ARCHIVE_EOF) {
            size = 0;
        } else if (r != ARCHIVE_OK) {
            return pyti_error_set(err, PYTI_ERR_INPUT, "archive %s: member '%s': cannot read "
                                  "data: %s", shown, em, archive_msg(a));
        }
        if (off < 0 || (uint64_t)off > (uint64_t)SIZE_MAX - size)
            return pyti_error_set(err, PYTI_ERR_INPUT, "archive %s: member '%s': bad data "
                                  "offset", shown, em);
        size_t end = (size_t)off + size;
        if (end > max)
            return pyti_error_set(err, PYTI_ERR_LIMIT, "archive %s: member '%s' is larger "
                                  "than %zu bytes", shown, em, max);
        if ((size_t)off > out->len) { /* a hole in a sparse file */
            size_t gap = (size_t)off - out->len;
            buf_reserve(out, gap);
            memset(out->data + out->len, 0, gap);
            out->len += gap;
            out->data[out->len] = '\0';
        }
        if (r == ARCHIVE_EOF)
            break;
        if ((size_t)off < out->len)
            buf_truncate(out, (size_t)off); /* formats deliver in order; be safe */
        buf_append(out, buf, size);
    }
    return PYTI_OK;
}

pyti_status archive_read_member(const char *archive_path, const char *member, size_t max,
                                char **out, size_t *out_len, pyti_error *err)
{
    *out = NULL;
    if (out_len)
        *out_len = 0;
    pyti_extract_limits lim;
    extract_limits_default(&lim);
    const char *shown = path_basename(archive_path);
    char *em = escape_name(member);
    comps want;
    pyti_buf why = PYTI_BUF_INIT;
    pyti_status rc = parse_name(member, &lim, &want, &why);
    if (rc != PYTI_OK || want.n == 0) {
        rc = pyti_error_set(err, PYTI_ERR_USAGE, "archive %s: invalid member name '%s': %s",
                            shown, em, want.n == 0 && rc == PYTI_OK ? "empty" : buf_cstr(&why));
        comps_free(&want);
        buf_free(&why);
        free(em);
        return rc;
    }
    buf_free(&why);

    locale_t old = enter_utf8_locale();
    source src = {archive_path, NULL, 0, shown, false};
    struct archive *a;
    int fd;
    uint64_t size;
    rc = open_source(&src, &a, &fd, &size, err);
    if (rc != PYTI_OK)
        goto done;
    pyti_buf data = PYTI_BUF_INIT;
    rc = PYTI_ERR_NOTFOUND;
    for (uint64_t n = 0;; n++) {
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF) {
            pyti_error_set(err, PYTI_ERR_NOTFOUND, "archive %s: no member '%s'", shown, em);
            break;
        }
        if (r != ARCHIVE_OK) {
            rc = pyti_error_set(err, PYTI_ERR_INPUT, "archive %s: %s: %s", shown,
                                n == 0 && archive_format(a) == 0 ? unrecognised_why(a, src.zip_magic)
                                                                 : "damaged header",
                                archive_msg(a));
            break;
        }
        /* Scanning a bomb for a member is bounded like extracting it. */
        if (n >= lim.max_entries ||
            (uint64_t)archive_filter_bytes(a, 0) > lim.max_total_size) {
            rc = pyti_error_set(err, PYTI_ERR_LIMIT, "archive %s: gave up looking for '%s' "
                                "after %llu entries", shown, em, (unsigned long long)n);
            break;
        }
        if (!name_matches(archive_entry_pathname(e), &want, &lim)) {
            /* Skipping a compressed entry means decompressing it: do not
             * start on data that would take the stream past the bound. */
            if (archive_filter_count(a) > 1 && archive_entry_size_is_set(e) &&
                archive_entry_size(e) > 0 &&
                (uint64_t)archive_entry_size(e) >
                    lim.max_total_size - (uint64_t)archive_filter_bytes(a, 0)) {
                rc = pyti_error_set(err, PYTI_ERR_LIMIT, "archive %s: gave up looking for '%s' "
                                    "at a %lld-byte entry (past the %llu-byte bound on the "
                                    "scan)", shown, em, (long long)archive_entry_size(e),
                                    (unsigned long long)lim.max_total_size);
                break;
            }
            continue;
        }
        if (archive_entry_hardlink(e) || archive_entry_filetype(e) != AE_IFREG) {
            rc = pyti_error_set(err, PYTI_ERR_INPUT, "archive %s: member '%s' is not a "
                                "regular file", shown, em);
            break;
        }
        if (archive_entry_is_encrypted(e)) {
            rc = pyti_error_set(err, PYTI_ERR_INPUT, "archive %s: member '%s' is encrypted",
                                shown, em);
            break;
        }
        if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0 &&
            (uint64_t)archive_entry_size(e) > max) {
            rc = pyti_error_set(err, PYTI_ERR_LIMIT, "archive %s: member '%s' is larger than "
                                "%zu bytes", shown, em, max);
            break;
        }
        rc = read_member_data(a, shown, em, max, &data, err);
        break;
    }
    archive_read_free(a);
    if (fd >= 0)
        close(fd);
    if (rc == PYTI_OK) {
        if (out_len)
            *out_len = data.len;
        *out = buf_detach(&data);
    }
    buf_free(&data);
done:
    leave_utf8_locale(old);
    comps_free(&want);
    free(em);
    return rc;
}
