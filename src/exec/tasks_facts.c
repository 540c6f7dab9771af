/* tasks_facts.c — the `facts` built-in: static facts about the unpacked
 * distribution, without running anything: file/dir/symlink counts, sizes,
 * languages by extension (files and lines), tests, docs, build files,
 * native sources and prebuilt binaries (by magic number). Produces `facts`.
 * Never fails on package content; findings note binaries in sdists and
 * byte-compiled files. */
#include "exec/task.h"
#include "exec/tasks_internal.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FACTS_MAX_DEPTH 64
#define FACTS_LINE_COUNT_MAX (4u << 20) /* count lines of files up to 4 MiB */
#define FACTS_LIST_MAX 50               /* names kept per list in the data */

typedef struct lang_rule {
    const char *ext;
    const char *language;
    bool native; /* compiled into an extension module */
} lang_rule;

static const lang_rule lang_rules[] = {
    {".py", "Python", false}, {".pyi", "Python stub", false}, {".pyx", "Cython", true},
    {".pxd", "Cython", true}, {".c", "C", true}, {".h", "C", true}, {".cpp", "C++", true},
    {".cc", "C++", true}, {".cxx", "C++", true}, {".hpp", "C++", true}, {".hh", "C++", true},
    {".rs", "Rust", true}, {".f", "Fortran", true}, {".f90", "Fortran", true},
    {".for", "Fortran", true}, {".go", "Go", true}, {".m", "Objective-C", true},
    {".js", "JavaScript", false}, {".mjs", "JavaScript", false}, {".ts", "TypeScript", false},
    {".css", "CSS", false}, {".html", "HTML", false}, {".sh", "Shell", false},
    {".bat", "Batch", false}, {".ps1", "PowerShell", false}, {".rst", "reStructuredText", false},
    {".md", "Markdown", false}, {".txt", "Text", false}, {".toml", "TOML", false},
    {".cfg", "INI", false}, {".ini", "INI", false}, {".yml", "YAML", false},
    {".yaml", "YAML", false}, {".json", "JSON", false}, {".xml", "XML", false},
    {".ipynb", "Jupyter", false}, {NULL, NULL, false},
};

static const char *const build_files[] = {
    "setup.py", "setup.cfg", "pyproject.toml", "MANIFEST.in", "tox.ini", "noxfile.py",
    "Makefile", "CMakeLists.txt", "meson.build", "Cargo.toml", "requirements.txt",
    "pytest.ini", "conftest.py", NULL,
};

typedef struct facts {
    unsigned long long files, dirs, symlinks, other, bytes;
    unsigned long long test_files, doc_files, pyc_files, native_sources;
    json_t *languages; /* {lang: {files, bytes, lines}} */
    json_t *binaries;  /* [{path, kind}] */
    json_t *build;     /* names of build files at the root */
    json_t *test_dirs;
    json_t *doc_dirs;
    bool has_readme, has_license;
    unsigned long long largest_size;
    char *largest;
    pyti_task_ctx *ctx;
} facts;

static const lang_rule *lang_for(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return NULL;
    for (const lang_rule *r = lang_rules; r->ext; r++)
        if (str_eq_nocase(dot, r->ext))
            return r;
    return NULL;
}

/* Kind of prebuilt binary by magic number, or NULL. */
static const char *binary_kind(const unsigned char *m, size_t n)
{
    if (n >= 4 && memcmp(m, "\x7f" "ELF", 4) == 0)
        return "ELF";
    if (n >= 2 && m[0] == 'M' && m[1] == 'Z')
        return "PE (Windows)";
    if (n >= 4) {
        unsigned be = (unsigned)m[0] << 24 | (unsigned)m[1] << 16 | (unsigned)m[2] << 8 | m[3];
        if (be == 0xfeedface || be == 0xfeedfacf || be == 0xcefaedfe || be == 0xcffaedfe)
            return "Mach-O";
        if (be == 0xcafebabe)
            return "Mach-O universal or Java class";
    }
    return NULL;
}

static void add_lang(facts *f, const char *lang, unsigned long long bytes, unsigned long long lines)
{
    json_t *o = json_object_get(f->languages, lang);
    if (!o) {
        o = json_object();
        json_object_set_new(o, "files", json_integer(0));
        json_object_set_new(o, "bytes", json_integer(0));
        json_object_set_new(o, "lines", json_integer(0));
        json_object_set_new(f->languages, lang, o);
    }
    json_integer_set(json_object_get(o, "files"), json_integer_value(json_object_get(o, "files")) + 1);
    json_integer_set(json_object_get(o, "bytes"),
                     json_integer_value(json_object_get(o, "bytes")) + (json_int_t)bytes);
    json_integer_set(json_object_get(o, "lines"),
                     json_integer_value(json_object_get(o, "lines")) + (json_int_t)lines);
}

static void push_limited(json_t *arr, json_t *item)
{
    if (json_array_size(arr) < FACTS_LIST_MAX)
        json_array_append_new(arr, item);
    else
        json_decref(item);
}

static bool is_test_dir(const char *name)
{
    return strcmp(name, "tests") == 0 || strcmp(name, "test") == 0 || strcmp(name, "testing") == 0;
}

static bool is_test_file(const char *name)
{
    return (str_startswith(name, "test_") && str_endswith(name, ".py")) ||
           str_endswith(name, "_test.py") || strcmp(name, "conftest.py") == 0;
}

static void scan_file(facts *f, int dirfd, const char *name, const char *rel, off_t size,
                      bool in_tests, bool in_docs)
{
    f->files++;
    f->bytes += (unsigned long long)size;
    if ((unsigned long long)size > f->largest_size || !f->largest) {
        f->largest_size = (unsigned long long)size;
        free(f->largest);
        f->largest = xstrdup(rel);
    }
    if (in_tests || is_test_file(name))
        f->test_files++;
    if (in_docs)
        f->doc_files++;
    if (str_endswith(name, ".pyc") || str_endswith(name, ".pyo"))
        f->pyc_files++;
    char lower[256];
    snprintf(lower, sizeof lower, "%s", name);
    str_lower(lower);
    if (str_startswith(lower, "readme"))
        f->has_readme = true;
    if (str_startswith(lower, "license") || str_startswith(lower, "licence") ||
        str_startswith(lower, "copying"))
        f->has_license = true;

    const lang_rule *lr = lang_for(name);
    unsigned long long lines = 0;
    unsigned char head[8];
    size_t headlen = 0;
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0) {
        char chunk[65536];
        off_t seen = 0;
        ssize_t n;
        while ((n = read(fd, chunk, sizeof chunk)) > 0) {
            if (seen == 0) {
                headlen = (size_t)n < sizeof head ? (size_t)n : sizeof head;
                memcpy(head, chunk, headlen);
            }
            seen += n;
            if (!lr || seen > (off_t)FACTS_LINE_COUNT_MAX)
                break;
            for (ssize_t i = 0; i < n; i++)
                lines += chunk[i] == '\n';
        }
        close(fd);
    }
    const char *bin = binary_kind(head, headlen);
    if (bin || str_endswith(name, ".so") || str_endswith(name, ".pyd") ||
        str_endswith(name, ".dll") || str_endswith(name, ".dylib")) {
        json_t *b = json_object();
        json_set_text(b, "path", rel);
        json_set_text(b, "kind", bin ? bin : "shared library (by name)");
        push_limited(f->binaries, b);
    }
    if (lr) {
        add_lang(f, lr->language, (unsigned long long)size, lines);
        if (lr->native)
            f->native_sources++;
    }
}

static void walk(facts *f, int dirfd, const char *rel, unsigned depth, bool in_tests, bool in_docs)
{
    if (depth > FACTS_MAX_DEPTH)
        return;
    DIR *d = fdopendir(dirfd);
    if (!d) {
        close(dirfd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        char *child = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
        if (S_ISDIR(st.st_mode)) {
            f->dirs++;
            bool t = in_tests || is_test_dir(de->d_name);
            bool dd = in_docs || strcmp(de->d_name, "docs") == 0 || strcmp(de->d_name, "doc") == 0;
            if (is_test_dir(de->d_name) && !in_tests)
                push_limited(f->test_dirs, json_text(child));
            if (dd && !in_docs)
                push_limited(f->doc_dirs, json_text(child));
            int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                walk(f, sub, child, depth + 1, t, dd);
        } else if (S_ISREG(st.st_mode)) {
            if (depth == 0)
                for (size_t i = 0; build_files[i]; i++)
                    if (strcmp(build_files[i], de->d_name) == 0)
                        json_array_append_new(f->build, json_string(build_files[i]));
            scan_file(f, dirfd, de->d_name, child, st.st_size, in_tests, in_docs);
        } else if (S_ISLNK(st.st_mode)) {
            f->symlinks++;
        } else {
            f->other++;
        }
        free(child);
    }
    closedir(d);
}

pyti_task_status task_builtin_facts(pyti_task_ctx *ctx)
{
    const json_t *source = task_input(ctx, "source");
    const char *root = json_get_str(source, "root");
    const char *kind = json_get_str(source, "kind");
    if (!root || !kind)
        return task_error(ctx, "no 'source' item with a root and kind");
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return task_error(ctx, "opening %s: %s", root, strerror(errno));

    facts f = {0};
    f.ctx = ctx;
    f.languages = json_object();
    f.binaries = json_array();
    f.build = json_array();
    f.test_dirs = json_array();
    f.doc_dirs = json_array();
    walk(&f, fd, "", 0, false, false);

    json_t *d = ctx->data;
    json_object_set_new(d, "files", json_integer((json_int_t)f.files));
    json_object_set_new(d, "dirs", json_integer((json_int_t)f.dirs));
    json_object_set_new(d, "symlinks", json_integer((json_int_t)f.symlinks));
    json_object_set_new(d, "bytes", json_integer((json_int_t)f.bytes));
    json_object_set_new(d, "largest_file", json_text(f.largest));
    json_object_set_new(d, "largest_file_bytes", json_integer((json_int_t)f.largest_size));
    json_object_set_new(d, "languages", f.languages);
    json_object_set_new(d, "build_files", f.build);
    json_object_set_new(d, "has_tests", json_boolean(f.test_files > 0));
    json_object_set_new(d, "test_files", json_integer((json_int_t)f.test_files));
    json_object_set_new(d, "test_dirs", f.test_dirs);
    json_object_set_new(d, "has_docs", json_boolean(f.doc_files > 0));
    json_object_set_new(d, "doc_files", json_integer((json_int_t)f.doc_files));
    json_object_set_new(d, "doc_dirs", f.doc_dirs);
    json_object_set_new(d, "has_readme", json_boolean(f.has_readme));
    json_object_set_new(d, "has_license_file", json_boolean(f.has_license));
    json_object_set_new(d, "native_sources", json_integer((json_int_t)f.native_sources));
    json_object_set_new(d, "has_native_code", json_boolean(f.native_sources > 0 ||
                                                           json_array_size(f.binaries) > 0));
    json_object_set_new(d, "binaries", f.binaries);
    json_object_set_new(d, "pyc_files", json_integer((json_int_t)f.pyc_files));

    bool sdist = strcmp(kind, "sdist") == 0;
    size_t i;
    json_t *b;
    json_array_foreach(f.binaries, i, b) {
        if (sdist)
            findings_add(&ctx->findings, "facts.binary-in-sdist", PYTI_SEV_MEDIUM,
                         json_get_str(b, "path"),
                         "the sdist ships a prebuilt %s binary; sources are expected",
                         json_get_str(b, "kind"));
    }
    if (sdist && f.pyc_files)
        findings_add(&ctx->findings, "facts.bytecode-in-sdist", PYTI_SEV_LOW, NULL,
                     "the sdist ships %llu byte-compiled file(s) (.pyc/.pyo)", f.pyc_files);
    if (sdist && f.test_files == 0)
        findings_add(&ctx->findings, "facts.no-tests", PYTI_SEV_INFO, NULL,
                     "no test files or test directories found in the sdist");
    task_log(ctx, "%llu files, %llu dirs, %llu bytes", f.files, f.dirs, f.bytes);
    free(f.largest);
    task_produce(ctx, "facts", json_incref(d));
    return PYTI_TASK_PASSED;
}
