/* test_install.c — unit tests for the native wheel installer
 * (src/pkg/install.c, install_scripts.c): the text rules (entry points,
 * export entries, launchers, shebangs, paths) and whole installs of wheels
 * built here with libarchive's zip writer: purelib and platlib, .data
 * directories, scripts, console and gui launchers, the exact RECORD,
 * refusals (unsafe paths, RECORD mismatches, conflicts) that leave the
 * environment exactly as it was, overwrite with restore on failure, and
 * byte-compilation. The comparison with pip itself is
 * tests/e2e/test_install_vs_pip.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/buf.h"
#include "common/hash.h"
#include "common/path.h"
#include "common/str.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "pkg/install.h"
#include "pkg/install_report.h"
#include "pkg/install_internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

/* ---- building wheels ------------------------------------------------ */

typedef struct wf {
    const char *name;
    const char *data;
    int mode;              /* 0: 0644; 0755; -1: a symlink to data */
    const char *record_as; /* RECORD hashes these bytes instead (a mismatch) */
    bool unlisted;         /* not in RECORD */
} wf;

static void zip_add(struct archive *a, const char *name, const char *data, int mode)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    if (mode == -1) {
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_perm(e, 0777);
        archive_entry_set_symlink(e, data);
        archive_entry_set_size(e, 0);
    } else {
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, mode ? mode : 0644);
        archive_entry_set_size(e, (la_int64_t)strlen(data));
    }
    archive_entry_set_mtime(e, 1600000000, 0);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    if (mode != -1 && *data)
        assert_int_equal(archive_write_data(a, data, strlen(data)), (la_ssize_t)strlen(data));
    archive_entry_free(e);
}

static const char *find_wf(const wf *files, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(files[i].name, name) == 0)
            return files[i].data;
    return NULL;
}

/* dir/<name>-<version>-py3-none-any.whl with a correct RECORD (but for
 * record_as and unlisted files); METADATA and WHEEL are added unless
 * given. Returns the path. */
static char *make_wheel_named(const char *dir, const char *filename, const char *name,
                              const char *version, bool purelib, const wf *files, size_t n)
{
    char *path = path_join(dir, filename);
    char *di = xasprintf("%s-%s.dist-info", name, version);
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    pyti_buf rec = PYTI_BUF_INIT;
    char *md = xasprintf("%s/METADATA", di), *wh = xasprintf("%s/WHEEL", di);
    char *md_text = xasprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", name, version);
    char *wh_text = xasprintf("Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: %s\n"
                              "Tag: py3-none-any\n", purelib ? "true" : "false");
    wf auto_files[2] = {{md, md_text, 0, NULL, false}, {wh, wh_text, 0, NULL, false}};
    for (int pass = 0; pass < 2; pass++) {
        const wf *list = pass == 0 ? auto_files : files;
        size_t len = pass == 0 ? 2 : n;
        for (size_t i = 0; i < len; i++) {
            const wf *f = &list[i];
            if (pass == 0 && find_wf(files, n, f->name))
                continue;
            zip_add(a, f->name, f->data, f->mode);
            if (f->unlisted || f->mode == -1)
                continue;
            const char *h = f->record_as ? f->record_as : f->data;
            char *hash = hash_record_sha256(h, strlen(h));
            buf_printf(&rec, "%s,%s,%zu\n", f->name, hash, strlen(h));
            free(hash);
        }
    }
    char *rp = xasprintf("%s/RECORD", di);
    if (!find_wf(files, n, rp)) {
        buf_printf(&rec, "%s,,\n", rp);
        zip_add(a, rp, buf_cstr(&rec), 0);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    free(rp);
    buf_free(&rec);
    free(md);
    free(wh);
    free(md_text);
    free(wh_text);
    free(di);
    return path;
}

static char *make_wheel(const char *dir, const char *name, const char *version, bool purelib,
                        const wf *files, size_t n)
{
    char *fn = xasprintf("%s-%s-py3-none-any.whl", name, version);
    char *p = make_wheel_named(dir, fn, name, version, purelib, files, n);
    free(fn);
    return p;
}

#define NF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- environments and snapshots ------------------------------------- */

typedef struct env {
    char *root; /* holds venv/ and wheels/ */
    char *venv;
    char *wheels;
    pyti_install_scheme scheme;
} env;

static void env_make(env *e)
{
    e->root = t_tmpdir();
    e->venv = path_join(e->root, "venv");
    e->wheels = path_join(e->root, "wheels");
    free(t_write(e->venv, "pyvenv.cfg", "home = /usr/bin\nversion = 3.11.2\n"));
    free(t_write(e->venv, "bin/python", "not really\n"));
    assert_int_equal(mkdir(e->wheels, 0755), 0);
    char *sp = path_join(e->venv, "lib/python3.11/site-packages");
    assert_int_equal(path_mkdirs(sp, 0755, NULL), PYTI_OK);
    free(sp);
    pyti_error err;
    assert_int_equal(install_scheme_for_venv(e->venv, NULL, &e->scheme, &err), PYTI_OK);
}

static void env_free(env *e)
{
    install_scheme_free(&e->scheme);
    free(e->venv);
    free(e->wheels);
}

static void snap_walk(const char *root, const char *rel, pyti_strv *out)
{
    char *abs = *rel ? path_join(root, rel) : xstrdup(root);
    DIR *d = opendir(abs);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *r = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
        char *p = path_join(root, r);
        struct stat st;
        assert_int_equal(lstat(p, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            strv_push_owned(out, xasprintf("%s/ %o", r, st.st_mode & 07777));
            snap_walk(root, r, out);
        } else if (S_ISLNK(st.st_mode)) {
            char t[4096];
            ssize_t n = readlink(p, t, sizeof t - 1);
            t[n < 0 ? 0 : n] = '\0';
            strv_push_owned(out, xasprintf("%s -> %s", r, t));
        } else {
            char hex[PYTI_SHA256_HEX_LEN + 1];
            assert_int_equal(hash_sha256_file(p, hex, NULL, NULL), PYTI_OK);
            strv_push_owned(out, xasprintf("%s %o %s", r, st.st_mode & 07777, hex));
        }
        free(p);
        free(r);
    }
    if (d)
        closedir(d);
    free(abs);
}

/* Every path under root with mode and content hash, one per line. */
static char *snapshot(const char *root)
{
    pyti_strv v = PYTI_STRV_INIT;
    snap_walk(root, "", &v);
    strv_sort(&v);
    char *s = strv_join(&v, "\n");
    strv_free(&v);
    return s;
}

static pyti_status install1(env *e, const char *wheel, const pyti_install_options *o,
                            pyti_error *err)
{
    const char *w[] = {wheel};
    return install_wheels(&e->scheme, w, 1, o, NULL, err);
}

static char *venv_file(env *e, const char *rel)
{
    char *p = path_join(e->venv, rel);
    char *s = t_slurp(p);
    free(p);
    return s;
}

static mode_t venv_mode(env *e, const char *rel)
{
    char *p = path_join(e->venv, rel);
    struct stat st;
    int r = lstat(p, &st);
    free(p);
    return r == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

#define SP "lib/python3.11/site-packages/"

static void assert_file(env *e, const char *rel, const char *want)
{
    char *got = venv_file(e, rel);
    if (!got)
        fail_msg("%s was not installed", rel);
    if (strcmp(got, want) != 0)
        fail_msg("%s:\n--- got\n%s\n--- want\n%s", rel, got, want);
    free(got);
}

/* ---- text rules ----------------------------------------------------- */

static void test_entry_points_parse(void **state)
{
    (void)state;
    const char *text = "junk outside any section\n"
                       "[console_scripts]\n"
                       "  a = m:f  \n"
                       "# a comment\n"
                       "b=m:g [x]\n"
                       "a = m:z\n"
                       "\n"
                       "[gui_scripts]\r\n"
                       "g = m:h\xe2\x80\xa8" "h = m:i\n" /* U+2028 ends a line */
                       "[[other]]\n"
                       "x = y\n";
    pyti_ep_map con = {0}, gui = {0};
    pyti_error err;
    assert_int_equal(entry_points_parse(text, strlen(text), &con, &gui, &err), PYTI_OK);
    assert_int_equal(con.names.len, 2);
    assert_string_equal(con.names.items[0], "a");
    assert_string_equal(con.values.items[0], "m:z"); /* replaced in place */
    assert_string_equal(con.names.items[1], "b");
    assert_string_equal(con.values.items[1], "m:g [x]");
    assert_int_equal(gui.names.len, 2);
    assert_string_equal(ep_map_get(&gui, "h"), "m:i");
    ep_map_free(&con);
    ep_map_free(&gui);

    const char *bad = "[other]\nno equals sign\n";
    assert_int_equal(entry_points_parse(bad, strlen(bad), &con, &gui, &err), PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "entry_points.txt:2"));
    ep_map_free(&con);
    ep_map_free(&gui);
    assert_int_equal(entry_points_parse("\xff", 1, &con, &gui, &err), PYTI_ERR_INPUT);
    ep_map_free(&con);
    ep_map_free(&gui);
}

static void test_export_entries(void **state)
{
    (void)state;
    static const struct {
        const char *spec, *name, *prefix, *suffix;
    } ok[] = {
        {"foo = mod:func", "foo", "mod", "func"},
        {"foo=pkg.mod:Obj.meth [extra1, extra2]", "foo", "pkg.mod", "Obj.meth"},
        {"foo-bar.x+y = a:b [e-1]", "foo-bar.x+y", "a", "b"},
        {"my tool = a:b", "tool", "a", "b"},          /* re.search: the match starts late */
        {"foo = a:b trailing junk", "foo", "a", "b"},  /* not anchored at the end */
        {"\xc3\xa9t\xc3\xa9 = m\xc3\xb6" "d:f", "\xc3\xa9t\xc3\xa9", "m\xc3\xb6" "d", "f"},
        {"x = a:b[opt]", "x", "a", "b"},
    };
    for (size_t i = 0; i < NF(ok); i++) {
        pyti_export_entry e;
        pyti_error err;
        if (export_entry_parse(ok[i].spec, &e, &err) != PYTI_OK)
            fail_msg("'%s': %s", ok[i].spec, err.msg);
        assert_string_equal(e.name, ok[i].name);
        assert_string_equal(e.prefix, ok[i].prefix);
        assert_string_equal(e.suffix, ok[i].suffix);
        export_entry_free(&e);
    }
    static const char *const bad[] = {
        "foo = mod",            /* no callable */
        "foo = a:b:c",          /* two colons */
        "foo = a:b [x y]",      /* brackets that are no flags list */
        "foo = a:b [x, y-z]",   /* later flags have no '-' */
        ". = a:b", ".. = a:b",  /* not file names */
        "foo = ", "= a:b", "",
    };
    for (size_t i = 0; i < NF(bad); i++) {
        pyti_export_entry e;
        pyti_error err;
        if (export_entry_parse(bad[i], &e, &err) != PYTI_ERR_INPUT)
            fail_msg("'%s' was accepted", bad[i]);
    }
}

static void test_console_specs(void **state)
{
    (void)state;
    pyti_ep_map con = {0};
    ep_map_set(&con, "pip3.9", "x:y");
    ep_map_set(&con, "pip", "pip._internal.cli.main:main");
    ep_map_set(&con, "tool", "m:f");
    ep_map_set(&con, "pip3", "x:y");
    ep_map_set(&con, "pipx", "p:x");
    ep_map_set(&con, "easy_install-3.5", "s:e");
    ep_map_set(&con, "easy_install", "setuptools.command.easy_install:main");
    pyti_strv specs = PYTI_STRV_INIT;
    console_script_specs(&con, "3.11", &specs);
    char *j = strv_join(&specs, "|");
    assert_string_equal(j, "pip = pip._internal.cli.main:main|pip3 = pip._internal.cli.main:main|"
                           "pip3.11 = pip._internal.cli.main:main|"
                           "easy_install = setuptools.command.easy_install:main|"
                           "easy_install-3.11 = setuptools.command.easy_install:main|"
                           "tool = m:f|pipx = p:x");
    free(j);
    strv_free(&specs);
    ep_map_free(&con);
    /* without a "pip" entry, versioned names are ordinary */
    ep_map_set(&con, "pip3", "x:y");
    console_script_specs(&con, "3.11", &specs);
    assert_int_equal(specs.len, 1);
    assert_string_equal(specs.items[0], "pip3 = x:y");
    strv_free(&specs);
    ep_map_free(&con);
}

static void test_launchers(void **state)
{
    (void)state;
    pyti_error err;
    char *s = launcher_shebang("/v/bin/python", &err);
    assert_string_equal(s, "#!/v/bin/python\n");
    free(s);
    s = launcher_shebang("/my venv/bin/python", &err);
    assert_string_equal(s, "#!/bin/sh\n'''exec' \"/my venv/bin/python\" \"$0\" \"$@\"\n' '''\n");
    free(s);
    s = launcher_shebang("/usr/bin/env python3", &err);
    assert_string_equal(s, "#!/bin/sh\n'''exec' /usr/bin/env python3 \"$0\" \"$@\"\n' '''\n");
    free(s);
    s = launcher_shebang("/usr/bin/env my python", &err);
    assert_string_equal(s, "#!/bin/sh\n'''exec' /usr/bin/env \"my python\" \"$0\" \"$@\"\n' '''\n");
    free(s);
    /* 127 bytes with "#!" and "\n" is the longest simple shebang */
    char p124[125], p125[126];
    memset(p124, 'x', 124);
    p124[0] = '/';
    p124[124] = '\0';
    memset(p125, 'x', 125);
    p125[0] = '/';
    p125[125] = '\0';
    s = launcher_shebang(p124, &err);
    assert_int_equal(strlen(s), 127);
    assert_true(str_startswith(s, "#!/x"));
    free(s);
    s = launcher_shebang(p125, &err);
    assert_true(str_startswith(s, "#!/bin/sh\n'''exec' /xxx"));
    free(s);
    assert_null(launcher_shebang("/bad\xff/python", &err));
    assert_null(launcher_shebang("", &err));

    pyti_export_entry e;
    assert_int_equal(export_entry_parse("demo = pkg.cli:Obj.run [x]", &e, &err), PYTI_OK);
    pyti_buf b = PYTI_BUF_INIT;
    launcher_text("#!/v/bin/python\n", &e, &b);
    assert_string_equal(buf_cstr(&b),
                        "#!/v/bin/python\n"
                        "# -*- coding: utf-8 -*-\n"
                        "import re\n"
                        "import sys\n"
                        "from pkg.cli import Obj\n"
                        "if __name__ == '__main__':\n"
                        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
                        "    sys.exit(Obj.run())\n");
    buf_free(&b);
    export_entry_free(&e);
}

static void test_fix_shebang(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"#!python\nprint(1)\n", "#!/v/py\nprint(1)\n"},
        {"#!pythonw -u\r\nx\r\n", "#!/v/py\nx\r\n"},   /* arguments and CRLF dropped */
        {"#!python3.11 -E\nx", "#!/v/py\nx"},
        {"#!python", "#!/v/py\n"},                     /* no line break at all */
        {"#!/usr/bin/python\nx\n", NULL},
        {"#!pytho\n", NULL},
        {"", NULL},
        {" #!python\n", NULL},
    };
    for (size_t i = 0; i < NF(cases); i++) {
        pyti_buf b = PYTI_BUF_INIT;
        bool changed = script_fix_shebang(cases[i].in, strlen(cases[i].in), "/v/py", &b);
        assert_int_equal(changed, cases[i].out != NULL);
        if (cases[i].out)
            assert_string_equal(buf_cstr(&b), cases[i].out);
        buf_free(&b);
    }
    pyti_ep_map con = {0}, gui = {0};
    ep_map_set(&con, "foo", "m:f");
    ep_map_set(&gui, "bar", "m:g");
    assert_true(script_is_entrypoint_wrapper("foo", &con, &gui));
    assert_true(script_is_entrypoint_wrapper("foo.EXE", &con, &gui));
    assert_true(script_is_entrypoint_wrapper("foo-Script.py", &con, &gui));
    assert_true(script_is_entrypoint_wrapper("bar.pya", &con, &gui));
    assert_false(script_is_entrypoint_wrapper("FOO", &con, &gui));
    assert_false(script_is_entrypoint_wrapper("foo.py", &con, &gui));
    ep_map_free(&con);
    ep_map_free(&gui);
}

static void test_paths(void **state)
{
    (void)state;
    static const char *const norm[][2] = {
        {"/a//b/./c/../d", "/a/b/d"}, {"//a/b", "//a/b"}, {"///a", "/a"}, {"", "."},
        {"a/../..", ".."}, {"/..", "/"}, {"a/b/", "a/b"}, {"./", "."},
    };
    for (size_t i = 0; i < NF(norm); i++) {
        char *n = install_normpath(norm[i][0]);
        assert_string_equal(n, norm[i][1]);
        free(n);
    }
    char *r = install_relpath("/v/bin/x", "/v/lib/python3.11/site-packages");
    assert_string_equal(r, "../../../bin/x");
    free(r);
    r = install_relpath("/v/lib/python3.11/site-packages/a/b.py", "/v/lib/python3.11/site-packages");
    assert_string_equal(r, "a/b.py");
    free(r);
    r = install_file_url("/tmp/a b+c/x~_-.whl");
    assert_string_equal(r, "file:///tmp/a%20b%2Bc/x~_-.whl");
    free(r);
    r = install_file_url("/t/\xc3\xa9.whl");
    assert_string_equal(r, "file:///t/%C3%A9.whl");
    free(r);
}

static void test_scheme_for_venv(void **state)
{
    (void)state;
    env e;
    env_make(&e);
    char *want = xasprintf("%s/lib/python3.11/site-packages", e.venv);
    assert_string_equal(e.scheme.purelib, want);
    assert_string_equal(e.scheme.platlib, want);
    free(want);
    want = xasprintf("%s/include/site/python3.11", e.venv);
    assert_string_equal(e.scheme.headers, want);
    free(want);
    want = xasprintf("%s/bin/python", e.venv);
    assert_string_equal(e.scheme.python, want);
    free(want);
    assert_string_equal(e.scheme.python_version, "3.11");
    pyti_install_scheme s;
    pyti_error err;
    assert_int_equal(install_scheme_for_venv(e.venv, "3.12", &s, &err), PYTI_OK);
    assert_non_null(strstr(s.purelib, "python3.12"));
    install_scheme_free(&s);
    assert_int_equal(install_scheme_for_venv(e.venv, "three", &s, &err), PYTI_ERR_USAGE);
    assert_int_equal(install_scheme_for_venv(e.wheels, NULL, &s, &err), PYTI_ERR_NOTFOUND);
    env_free(&e);
}

/* ---- whole installs ------------------------------------------------- */

static const char EP[] = "[console_scripts]\n"
                         "democli = demo.cli:main [extra]\n"
                         "demo-obj = demo.cli:Obj.run\n"
                         "[gui_scripts]\n"
                         "demogui = demo.cli:gui\n";

static void test_install_full(void **state)
{
    (void)state;
    env e;
    env_make(&e);
    const wf files[] = {
        {"demo/__init__.py", "X = 1\n", 0, NULL, false},
        {"demo/cli.py", "def main(): pass\n", 0, NULL, false},
        {"demo/tool.bin", "\x7f" "ELF", 0755, NULL, false},
        {"demo-1.0.data/scripts/run", "#!python\nprint('run')\n", 0755, NULL, false},
        {"demo-1.0.data/scripts/runw", "#!pythonw -u\r\nprint('w')\r\n", 0, NULL, false},
        {"demo-1.0.data/scripts/tool.sh", "#!/bin/sh\necho hi\n", 0755, NULL, false},
        {"demo-1.0.data/scripts/democli", "#!python\n# setuptools wrapper\n", 0755, NULL, false},
        {"demo-1.0.data/headers/demo.h", "int demo;\n", 0, NULL, false},
        {"demo-1.0.data/data/share/demo/x.txt", "data\n", 0, NULL, false},
        {"demo-1.0.data/purelib/demo_extra.py", "Y = 2\n", 0, NULL, false},
        {"demo-1.0.data/platlib/demo_plat.py", "Z = 3\n", 0, NULL, false},
        {"demo-1.0.dist-info/entry_points.txt", EP, 0, NULL, false},
    };
    char *whl = make_wheel(e.wheels, "demo", "1.0", true, files, NF(files));
    pyti_install_options o = {.requested = true, .direct_url = true};
    pyti_install_result res;
    pyti_error err;
    const char *w[] = {whl};
    if (install_wheels(&e.scheme, w, 1, &o, &res, &err) != PYTI_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(res.len, 1);
    assert_string_equal(res.dists[0].name, "demo");
    assert_string_equal(res.dists[0].version, "1.0");
    assert_int_equal(res.dists[0].launchers, 3);
    install_result_free(&res);

    char *py = xasprintf("#!%s/bin/python\n", e.venv);
    assert_file(&e, SP "demo/__init__.py", "X = 1\n");
    assert_int_equal(venv_mode(&e, SP "demo/__init__.py"), 0644);
    assert_int_equal(venv_mode(&e, SP "demo/tool.bin"), 0755);
    char *want = xasprintf("%sprint('run')\n", py);
    assert_file(&e, "bin/run", want);
    free(want);
    assert_int_equal(venv_mode(&e, "bin/run"), 0755);
    want = xasprintf("%sprint('w')\r\n", py);
    assert_file(&e, "bin/runw", want);
    free(want);
    assert_int_equal(venv_mode(&e, "bin/runw"), 0644); /* pip keeps the wheel's mode */
    assert_file(&e, "bin/tool.sh", "#!/bin/sh\necho hi\n");
    assert_file(&e, "include/site/python3.11/demo/demo.h", "int demo;\n");
    assert_file(&e, "share/demo/x.txt", "data\n");
    assert_file(&e, SP "demo_extra.py", "Y = 2\n");
    assert_file(&e, SP "demo_plat.py", "Z = 3\n");
    /* the wrapper script gave way to the launcher */
    char *launcher = venv_file(&e, "bin/democli");
    assert_non_null(launcher);
    assert_true(str_startswith(launcher, py));
    assert_non_null(strstr(launcher, "from demo.cli import main\n"));
    assert_non_null(strstr(launcher, "    sys.exit(main())\n"));
    free(launcher);
    assert_int_equal(venv_mode(&e, "bin/democli"), 0755);
    launcher = venv_file(&e, "bin/demo-obj");
    assert_non_null(strstr(launcher, "from demo.cli import Obj\n"));
    assert_non_null(strstr(launcher, "    sys.exit(Obj.run())\n"));
    free(launcher);
    launcher = venv_file(&e, "bin/demogui");
    assert_non_null(strstr(launcher, "sys.exit(gui())"));
    free(launcher);
    assert_file(&e, SP "demo-1.0.dist-info/INSTALLER", "pyti\n");
    assert_file(&e, SP "demo-1.0.dist-info/REQUESTED", "");
    char *url = install_file_url(whl);
    want = xasprintf("{\"archive_info\": {}, \"url\": \"%s\"}", url);
    assert_file(&e, SP "demo-1.0.dist-info/direct_url.json", want);
    free(want);
    free(url);
    assert_int_equal(venv_mode(&e, SP "demo-1.0.dist-info/RECORD"), 0644);

    /* RECORD, as pip writes it: sorted, CRLF, rewritten scripts rehashed,
     * the skipped wrapper still listed under its wheel path */
    pyti_strv rows = PYTI_STRV_INIT;
#define ROW(path, data)                                                          \
    do {                                                                         \
        char *h_ = hash_record_sha256((data), strlen(data));                     \
        strv_push_owned(&rows, xasprintf("%s,%s,%zu", (path), h_, strlen(data))); \
        free(h_);                                                                \
    } while (0)
    for (size_t i = 0; i < NF(files); i++) {
        const char *n = files[i].name;
        char *p;
        if (str_startswith(n, "demo-1.0.data/scripts/democli"))
            p = xstrdup(n);
        else if (str_startswith(n, "demo-1.0.data/scripts/"))
            p = xasprintf("../../../bin/%s", n + strlen("demo-1.0.data/scripts/"));
        else if (str_startswith(n, "demo-1.0.data/headers/"))
            p = xasprintf("../../../include/site/python3.11/demo/%s",
                          n + strlen("demo-1.0.data/headers/"));
        else if (str_startswith(n, "demo-1.0.data/data/"))
            p = xasprintf("../../../%s", n + strlen("demo-1.0.data/data/"));
        else if (str_startswith(n, "demo-1.0.data/purelib/") ||
                 str_startswith(n, "demo-1.0.data/platlib/"))
            p = xstrdup(n + strlen("demo-1.0.data/purelib/"));
        else
            p = xstrdup(n);
        if (strcmp(n, "demo-1.0.data/scripts/run") == 0) {
            char *d = xasprintf("%sprint('run')\n", py);
            ROW(p, d);
            free(d);
        } else if (strcmp(n, "demo-1.0.data/scripts/runw") == 0) {
            char *d = xasprintf("%sprint('w')\r\n", py);
            ROW(p, d);
            free(d);
        } else {
            ROW(p, files[i].data);
        }
        free(p);
    }
    ROW("demo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n");
    ROW("demo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: "
                                    "true\nTag: py3-none-any\n");
    ROW("demo-1.0.dist-info/INSTALLER", "pyti\n");
    ROW("demo-1.0.dist-info/REQUESTED", "");
    url = install_file_url(whl);
    want = xasprintf("{\"archive_info\": {}, \"url\": \"%s\"}", url);
    ROW("demo-1.0.dist-info/direct_url.json", want);
    free(want);
    free(url);
    strv_push(&rows, "demo-1.0.dist-info/RECORD,,");
    const char *launchers[] = {"democli", "demo-obj", "demogui"};
    for (size_t i = 0; i < 3; i++) {
        char *rel = xasprintf("bin/%s", launchers[i]);
        char *d = venv_file(&e, rel);
        char *p = xasprintf("../../../%s", rel);
        ROW(p, d);
        free(p);
        free(d);
        free(rel);
    }
#undef ROW
    strv_sort(&rows);
    char *joined = strv_join(&rows, "\r\n");
    want = xasprintf("%s\r\n", joined);
    assert_file(&e, SP "demo-1.0.dist-info/RECORD", want);
    free(want);
    free(joined);
    strv_free(&rows);

    /* nothing was left behind in the venv but what pip writes */
    char *staging_left = NULL;
    DIR *d = opendir(e.venv);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (str_startswith(de->d_name, ".pyti"))
            staging_left = xstrdup(de->d_name);
    closedir(d);
    assert_null(staging_left);
    free(py);
    free(whl);
    env_free(&e);
}

static void test_platlib_scheme(void **state)
{
    (void)state;
    env e;
    env_make(&e);
    /* a scheme where purelib and platlib differ */
    free(e.scheme.platlib);
    e.scheme.platlib = path_join(e.venv, "plat");
    const wf files[] = {
        {"native/__init__.py", "N = 1\n", 0, NULL, false},
        {"native-2.0.data/purelib/pure_part.py", "P = 1\n", 0, NULL, false},
    };
    char *whl = make_wheel(e.wheels, "native", "2.0", false, files, NF(files));
    pyti_error err;
    pyti_install_options o = {0};
    if (install1(&e, whl, &o, &err) != PYTI_OK)
        fail_msg("%s", err.msg);
    assert_file(&e, "plat/native/__init__.py", "N = 1\n");
    assert_file(&e, SP "pure_part.py", "P = 1\n");
    char *rec = venv_file(&e, "plat/native-2.0.dist-info/RECORD");
    assert_non_null(rec);
    assert_non_null(strstr(rec, "native/__init__.py,sha256="));
    assert_null(strstr(rec, "REQUESTED"));
    assert_null(strstr(rec, "direct_url.json"));
    assert_true(str_startswith(rec, "../lib/python3.11/site-packages/pure_part.py"));
    free(rec);
    assert_file(&e, "plat/native-2.0.dist-info/INSTALLER", "pyti\n");
    free(whl);
    env_free(&e);
}

static void test_long_interpreter(void **state)
{
    (void)state;
    env e;
    env_make(&e);
    free(e.scheme.python);
    char longp[200];
    memset(longp, 'p', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    e.scheme.python = xstrdup(longp);
    const wf files[] = {
        {"demo/__init__.py", "", 0, NULL, false},
        {"demo/cli.py", "def main(): pass\ndef gui(): pass\n", 0, NULL, false},
        {"demo-1.0.data/scripts/run", "#!python\nx\n", 0755, NULL, false},
        {"demo-1.0.dist-info/entry_points.txt", EP, 0, NULL, false},
    };
    char *whl = make_wheel(e.wheels, "demo", "1.0", true, files, NF(files));
    pyti_error err;
    if (install1(&e, whl, NULL, &err) != PYTI_OK)
        fail_msg("%s", err.msg);
    char *l = venv_file(&e, "bin/democli");
    char *want = xasprintf("#!/bin/sh\n'''exec' %s \"$0\" \"$@\"\n' '''\n# -*- coding", longp);
    assert_true(str_startswith(l, want));
    free(want);
    free(l);
    /* pip's fix_script never uses the trampoline */
    want = xasprintf("#!%s\nx\n", longp);
    assert_file(&e, "bin/run", want);
    free(want);
    free(whl);
    env_free(&e);
}

/* A wheel is refused and the environment (and its surroundings) are left
 * exactly as they were. */
static void expect_refused(env *e, const char *whl, pyti_status want, const char *msg_part,
                           const pyti_install_options *o)
{
    /* a private staging directory (on tmpfs where there is one, as by
     * default), which must be left empty */
    pyti_install_options priv = o ? *o : (pyti_install_options){0};
    struct statfs fs;
    char *stage = NULL;
    if (!priv.staging_dir) {
        stage = statfs("/dev/shm", &fs) == 0 && fs.f_type == TMPFS_MAGIC
                    ? path_mkdtemp("/dev/shm", "pyti-unit-stage-", NULL)
                    : xstrdup(t_tmpdir());
        assert_non_null(stage);
        priv.staging_dir = stage;
    }
    char *before = snapshot(e->root);
    pyti_error err = {0};
    pyti_status rc = install1(e, whl, &priv, &err);
    if (rc != want)
        fail_msg("%s: got %s (%s), expected %s", whl, pyti_status_name(rc), err.msg,
                 pyti_status_name(want));
    if (msg_part && !strstr(err.msg, msg_part))
        fail_msg("%s: message '%s' lacks '%s'", whl, err.msg, msg_part);
    char *after = snapshot(e->root);
    if (strcmp(before, after) != 0)
        fail_msg("%s changed the tree:\n--- before\n%s\n--- after\n%s", whl, before, after);
    if (stage) {
        char *left = snapshot(stage);
        assert_string_equal(left, "");
        free(left);
        path_rmtree(stage, NULL);
        free(stage);
    }
    free(before);
    free(after);
}

static void test_refuse_unsafe(void **state)
{
    (void)state;
    env e;
    env_make(&e);
    const wf good = {"demo/__init__.py", "X = 1\n", 0, NULL, false};
    struct {
        wf f;
        pyti_status rc;
        const char *msg;
    } cases[] = {
        {{"../evil.py", "x", 0, NULL, false}, PYTI_ERR_INPUT, "escapes"},
        {{"/abs.py", "x", 0, NULL, false}, PYTI_ERR_INPUT, "absolute"},
        {{"demo/link", "../../../../etc/passwd", -1, NULL, false}, PYTI_ERR_INPUT, NULL},
        {{"demo/inlink", "__init__.py", -1, NULL, false}, PYTI_ERR_INPUT, "RECORD"},
        {{"demo-1.0.data/unknown/x", "x", 0, NULL, false}, PYTI_ERR_INPUT, "unknown scheme key"},
        {{"demo-1.0.data/x.txt", "x", 0, NULL, false}, PYTI_ERR_INPUT, "<scheme key>/<path>"},
        {{"stray.data", "x", 0, NULL, false}, PYTI_ERR_INPUT, "<scheme key>/<path>"},
        {{"demo-1.0.dist-info/entry_points.txt", "[console_scripts]\nbad = justamodule\n", 0,
          NULL, false}, PYTI_ERR_INPUT, "callable"},
        {{"demo-1.0.dist-info/entry_points.txt", "[console_scripts]\n.. = m:f\n", 0, NULL,
          false}, PYTI_ERR_INPUT, "not a file name"},
        {{"demo-1.0.dist-info/WHEEL", "Wheel-Version: 2.0\nRoot-Is-Purelib: true\n", 0, NULL,
          false}, PYTI_ERR_INPUT, "Wheel-Version"},
        {{"demo-1.0.data/purelib/demo/__init__.py", "again", 0, NULL, false}, PYTI_ERR_INPUT,
         "would both be installed"},
        {{"demo-1.0.data/purelib/demo", "a file where a directory is", 0, NULL, false},
         PYTI_ERR_INPUT, "needs a directory"},
    };
    for (size_t i = 0; i < NF(cases); i++) {
        wf files[2] = {good, cases[i].f};
        char *name = xasprintf("c%zu", i);
        char *sub = path_join(e.wheels, name);
        assert_int_equal(mkdir(sub, 0755), 0);
        char *whl = make_wheel(sub, "demo", "1.0", true, files, 2);
        expect_refused(&e, whl, cases[i].rc, cases[i].msg, NULL);
        free(whl);
        free(sub);
        free(name);
    }
    /* not a zip: a tar archive named .whl */
    {
        char *path = path_join(e.wheels, "demo-1.0-py3-none-any.whl");
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
        zip_add(a, "demo/__init__.py", "x", 0);
        archive_write_close(a);
        archive_write_free(a);
        expect_refused(&e, path, PYTI_ERR_INPUT, "zip", NULL);
        free(path);
    }
    /* a .dist-info of another project */
    {
        const wf files[] = {good};
        char *whl = make_wheel_named(e.wheels, "other-1.0-py3-none-any.whl", "demo", "1.0",
                                     true, files, 1);
        expect_refused(&e, whl, PYTI_ERR_INPUT, "does not start with", NULL);
        free(whl);
    }
    /* not a wheel name, missing file */
    {
        char *p = t_write(e.wheels, "demo.zip", "x");
        expect_refused(&e, p, PYTI_ERR_INPUT, NULL, NULL);
        free(p);
        p = path_join(e.wheels, "absent-1.0-py3-none-any.whl");
        expect_refused(&e, p, PYTI_ERR_NOTFOUND, NULL, NULL);
        free(p);
    }
    env_free(&e);
}

static void test_refuse_record_mismatch(void **state)
{
    (void)state;
    env e;
    env_make(&e);
    struct {
        wf f;
        const char *msg;
    } cases[] = {
        {{"demo/mod.py", "tampered\n", 0, "orig\n", false}, "bytes but RECORD says"},
        {{"demo/mod.py", "tampered\n", 0, "TAMPERED\n", false}, "does not match"},
        {{"demo/mod.py", "unlisted\n", 0, NULL, true}, "not listed"},
        {{"demo-1.0.dist-info/RECORD", "demo/__init__.py,sha256=AAAA,6\n", 0, NULL, true},
         "RECORD"},
        {{"demo-1.0.dist-info/RECORD", "demo/__init__.py,,\ndemo-1.0.dist-info/RECORD,,\n", 0,
          NULL, true}, "no hash"},
        {{"demo-1.0.dist-info/RECORD", "demo/__init__.py,md5=abc,6\n", 0, NULL, true}, "weak"},
    };
    for (size_t i = 0; i < NF(cases); i++) {
        wf files[2] = {{"demo/__init__.py", "X = 1\n", 0, NULL, false}, cases[i].f};
        char *name = xasprintf("m%zu", i);
        char *sub = path_join(e.wheels, name);
        assert_int_equal(mkdir(sub, 0755), 0);
        char *whl = make_wheel(sub, "demo", "1.0", true, files, 2);
        expect_refused(&e, whl, PYTI_ERR_INPUT, cases[i].msg, NULL);
        free(whl);
        free(sub);
        free(name);
    }
    env_free(&e);
}

static void test_conflicts_and_overwrite(void **state)
{
    (void)state;
    env e;
    env_make(&e);
    /* a file of another distribution is in the way */
    free(t_write(e.venv, SP "shared/__init__.py", "# owned by another distribution\n"));
    const wf files_a[] = {
        {"alpha/__init__.py", "A = 1\n", 0, NULL, false},
        {"shared/__init__.py", "# alpha's copy\n", 0, NULL, false},
    };
    char *a = make_wheel(e.wheels, "alpha", "1.0", true, files_a, NF(files_a));
    expect_refused(&e, a, PYTI_ERR_USAGE, "refusing to overwrite", NULL);

    /* with overwrite, but a later wheel of the batch is broken: restored */
    const wf files_b[] = {{"beta/__init__.py", "B\n", 0, "not B\n", false}};
    char *b = make_wheel(e.wheels, "beta", "1.0", true, files_b, NF(files_b));
    pyti_install_options ow = {.overwrite = true};
    char *before = snapshot(e.root);
    const char *batch[] = {a, b};
    pyti_error err;
    assert_int_equal(install_wheels(&e.scheme, batch, 2, &ow, NULL, &err), PYTI_ERR_INPUT);
    char *after = snapshot(e.root);
    assert_string_equal(before, after);
    free(after);

    /* a failure at commit time (a directory where beta's file goes):
     * alpha's files are removed again and the replaced file restored */
    const wf files_c[] = {
        {"gamma/__init__.py", "G\n", 0, NULL, false},
        {"gamma/blocked.py", "G\n", 0, NULL, false},
    };
    char *c = make_wheel(e.wheels, "gamma", "1.0", true, files_c, NF(files_c));
    char *blocked = path_join(e.venv, SP "gamma/blocked.py");
    assert_int_equal(path_mkdirs(blocked, 0755, NULL), PYTI_OK);
    free(before);
    before = snapshot(e.root);
    const char *batch2[] = {a, c};
    assert_int_equal(install_wheels(&e.scheme, batch2, 2, &ow, NULL, &err), PYTI_ERR_USAGE);
    assert_non_null(strstr(err.msg, "a directory is there"));
    after = snapshot(e.root);
    assert_string_equal(before, after);
    free(after);
    free(before);
    assert_int_equal(rmdir(blocked), 0);
    free(blocked);

    /* with overwrite alone it goes through */
    if (install1(&e, a, &ow, &err) != PYTI_OK)
        fail_msg("%s", err.msg);
    assert_file(&e, SP "shared/__init__.py", "# alpha's copy\n");
    /* the same version again: only with overwrite; another version never */
    expect_refused(&e, a, PYTI_ERR_USAGE, "already installed", NULL);
    if (install1(&e, a, &ow, &err) != PYTI_OK)
        fail_msg("reinstall: %s", err.msg);
    const wf files_a2[] = {{"alpha/__init__.py", "A = 2\n", 0, NULL, false}};
    char *a2 = make_wheel(e.wheels, "alpha", "2.0", true, files_a2, NF(files_a2));
    expect_refused(&e, a2, PYTI_ERR_USAGE, "does not upgrade", &ow);
    free(a2);
    free(a);
    free(b);
    free(c);
    env_free(&e);
}

static void test_batch(void **state)
{
    (void)state;
    env e;
    env_make(&e);
    const wf fa[] = {{"one/__init__.py", "1\n", 0, NULL, false},
                     {"common/data.txt", "from one\n", 0, NULL, false}};
    const wf fb[] = {{"two/__init__.py", "2\n", 0, NULL, false},
                     {"common/data.txt", "from two\n", 0, NULL, false}};
    char *a = make_wheel(e.wheels, "one", "1.0", true, fa, NF(fa));
    char *b = make_wheel(e.wheels, "two", "1.0", true, fb, NF(fb));
    const char *batch[] = {a, b};
    char *before = snapshot(e.root);
    pyti_error err;
    assert_int_equal(install_wheels(&e.scheme, batch, 2, NULL, NULL, &err), PYTI_ERR_USAGE);
    assert_non_null(strstr(err.msg, "both install"));
    char *after = snapshot(e.root);
    assert_string_equal(before, after);
    free(after);
    free(before);
    /* the same project twice */
    const char *twice[] = {a, a};
    assert_int_equal(install_wheels(&e.scheme, twice, 2, NULL, NULL, &err), PYTI_ERR_USAGE);
    /* with overwrite the later wheel wins, and each RECORD has its own hash */
    pyti_install_options ow = {.overwrite = true};
    pyti_install_result res;
    if (install_wheels(&e.scheme, batch, 2, &ow, &res, &err) != PYTI_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(res.len, 2);
    install_result_free(&res);
    assert_file(&e, SP "common/data.txt", "from two\n");
    char *rec = venv_file(&e, SP "one-1.0.dist-info/RECORD");
    char *h = hash_record_sha256("from one\n", 9);
    assert_non_null(strstr(rec, h));
    free(h);
    free(rec);
    free(a);
    free(b);
    env_free(&e);
}

static void test_symlink_in_target(void **state)
{
    (void)state;
    env e;
    env_make(&e);
    char *outside = path_join(e.root, "outside");
    assert_int_equal(mkdir(outside, 0755), 0);
    char *link = path_join(e.venv, SP "demo");
    assert_int_equal(symlink(outside, link), 0);
    const wf files[] = {{"demo/__init__.py", "X\n", 0, NULL, false}};
    char *whl = make_wheel(e.wheels, "demo", "1.0", true, files, NF(files));
    pyti_install_options ow = {.overwrite = true};
    expect_refused(&e, whl, PYTI_ERR_USAGE, "symbolic link", &ow);
    DIR *d = opendir(outside);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    assert_int_equal(n, 0);
    free(whl);
    free(link);
    free(outside);
    env_free(&e);
}

static void test_compile(void **state)
{
    (void)state;
    if (access("/usr/bin/python3", X_OK) != 0)
        skip();
    env e;
    env_make(&e);
    free(e.scheme.python);
    e.scheme.python = xstrdup("/usr/bin/python3");
    /* the tag of the pyc files follows the interpreter */
    FILE *fp = popen("/usr/bin/python3 -c 'import sys; print(sys.implementation.cache_tag)'",
                     "r");
    char tag[64] = "";
    assert_non_null(fgets(tag, sizeof tag, fp));
    pclose(fp);
    tag[strcspn(tag, "\n")] = '\0';
    const wf files[] = {
        {"demo/__init__.py", "X = 1\n", 0, NULL, false},
        {"demo/broken.py", "def (:\n", 0, NULL, false},
        {"demo/data.txt", "x\n", 0, NULL, false},
    };
    char *whl = make_wheel(e.wheels, "demo", "1.0", true, files, NF(files));
    pyti_install_options o = {.compile = true};
    pyti_install_result res;
    pyti_error err;
    const char *w[] = {whl};
    if (install_wheels(&e.scheme, w, 1, &o, &res, &err) != PYTI_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(res.dists[0].compiled, 1); /* broken.py does not compile, as with pip */
    install_result_free(&res);
    char *pyc = xasprintf(SP "demo/__pycache__/__init__.%s.pyc", tag);
    assert_int_not_equal(venv_mode(&e, pyc), (mode_t)-1);
    char *rec = venv_file(&e, SP "demo-1.0.dist-info/RECORD");
    char *row = xasprintf("\r\ndemo/__pycache__/__init__.%s.pyc,,\r\n", tag);
    assert_non_null(strstr(rec, row));
    assert_null(strstr(rec, "broken"".cpython"));
    free(row);
    free(rec);
    free(pyc);

    /* an interpreter that fails: everything is undone */
    const wf f2[] = {{"demo2/__init__.py", "X = 1\n", 0, NULL, false}};
    char *whl2 = make_wheel(e.wheels, "demo2", "1.0", true, f2, NF(f2));
    free(e.scheme.python);
    e.scheme.python = xstrdup("/bin/false");
    expect_refused(&e, whl2, PYTI_ERR_IO, "byte-compiling", &o);
    free(whl2);
    free(whl);
    env_free(&e);
}

/* A staging directory on another file system: files are copied next to
 * their destination and renamed, with the same modes. */
static void test_staging_elsewhere(void **state)
{
    (void)state;
    env e;
    env_make(&e);
    struct stat a, b;
    if (stat("/dev/shm", &b) != 0 || stat(e.venv, &a) != 0 || a.st_dev == b.st_dev) {
        env_free(&e);
        skip();
    }
    char *stage = path_mkdtemp("/dev/shm", "pyti-unit-stage-", NULL);
    assert_non_null(stage);
    const wf files[] = {
        {"demo/__init__.py", "X = 1\n", 0, NULL, false},
        {"demo/cli.py", "def main(): pass\ndef gui(): pass\n", 0, NULL, false},
        {"demo-1.0.data/scripts/run", "#!python\nx\n", 0755, NULL, false},
        {"demo-1.0.dist-info/entry_points.txt", EP, 0, NULL, false},
    };
    char *whl = make_wheel(e.wheels, "demo", "1.0", true, files, NF(files));
    pyti_install_options o = {.staging_dir = stage};
    pyti_error err;
    if (install1(&e, whl, &o, &err) != PYTI_OK)
        fail_msg("%s", err.msg);
    assert_file(&e, SP "demo/__init__.py", "X = 1\n");
    assert_int_equal(venv_mode(&e, SP "demo/__init__.py"), 0644);
    assert_int_equal(venv_mode(&e, "bin/run"), 0755);
    assert_int_equal(venv_mode(&e, "bin/democli"), 0755);
    assert_int_equal(venv_mode(&e, SP "demo-1.0.dist-info/RECORD"), 0644);
    char *snap = snapshot(e.venv);
    assert_null(strstr(snap, ".pyti"));
    free(snap);
    snap = snapshot(stage);
    assert_string_equal(snap, "");
    free(snap);
    path_rmtree(stage, NULL);
    free(stage);
    free(whl);
    env_free(&e);
}

/* Whole directories are renamed into place when nothing is there yet; the
 * result is the same as file by file: names that sort between a directory
 * and its children, a namespace directory that exists already, an empty
 * directory (never created, as pip), a rollback that moves them back. */
static void test_directory_moves(void **state)
{
    (void)state;
    env e;
    env_make(&e);
    free(t_write(e.venv, SP "ns/existing.py", "# another distribution\n"));
    const wf files[] = {
        {"a/h.py", "h\n", 0, NULL, false},
        {"a/x/f.py", "f\n", 0, NULL, false},
        {"a/x/y/z.py", "z\n", 0, NULL, false},
        {"a-b/g.py", "g\n", 0, NULL, false},
        {"ns/mine/m.py", "m\n", 0, NULL, false},
        {"ns/top.py", "t\n", 0, NULL, false},
        {"a/empty/", "", 0, NULL, true}, /* a directory entry, no files */
        {"demo-1.0.data/data/share/doc/demo/README", "r\n", 0, NULL, false},
    };
    char *whl = make_wheel(e.wheels, "demo", "1.0", true, files, NF(files));
    pyti_error err;
    pyti_install_options o = {.staging_dir = e.venv}; /* renames need one file system */
    char *before = snapshot(e.root);
    /* a later wheel of the batch fails at commit: the moved directories
     * go back and the tree is as it was */
    const wf fb[] = {{"zz/__init__.py", "z\n", 0, NULL, false}};
    char *b = make_wheel(e.wheels, "zz", "1.0", true, fb, NF(fb));
    char *block = path_join(e.venv, SP "zz/__init__.py");
    assert_int_equal(path_mkdirs(block, 0755, NULL), PYTI_OK);
    free(before);
    before = snapshot(e.root);
    const char *batch[] = {whl, b};
    assert_int_equal(install_wheels(&e.scheme, batch, 2, &o, NULL, &err), PYTI_ERR_USAGE);
    char *after = snapshot(e.root);
    assert_string_equal(before, after);
    free(after);
    free(before);
    assert_int_equal(rmdir(block), 0);
    char *zz = path_join(e.venv, SP "zz");
    assert_int_equal(rmdir(zz), 0);
    free(zz);
    free(block);
    if (install1(&e, whl, &o, &err) != PYTI_OK)
        fail_msg("%s", err.msg);
    assert_file(&e, SP "a/h.py", "h\n");
    assert_file(&e, SP "a/x/f.py", "f\n");
    assert_file(&e, SP "a/x/y/z.py", "z\n");
    assert_file(&e, SP "a-b/g.py", "g\n");
    assert_file(&e, SP "ns/mine/m.py", "m\n");
    assert_file(&e, SP "ns/top.py", "t\n");
    assert_file(&e, SP "ns/existing.py", "# another distribution\n");
    assert_file(&e, "share/doc/demo/README", "r\n");
    assert_int_equal(venv_mode(&e, SP "a/empty"), (mode_t)-1);
    assert_int_equal(venv_mode(&e, SP "a/x/y"), 0755);
    char *rec = venv_file(&e, SP "demo-1.0.dist-info/RECORD");
    assert_non_null(strstr(rec, "\r\na/x/y/z.py,sha256="));
    assert_true(str_startswith(rec, "../../../share/doc/demo/README,sha256="));
    free(rec);
    free(b);
    free(whl);
    env_free(&e);
}


/* What an install put where, from the RECORD it wrote (install_report.h). */
static void test_install_report(void **state)
{
    (void)state;
    env e;
    env_make(&e);
    const wf files[] = {
        {"demo/__init__.py", "X = 1\n", 0, NULL, false},
        {"demo/sub/x.py", "Y = 1\n", 0, NULL, false},
        {"demo_mod.py", "Z = 1\n", 0, NULL, false},
        {"_speed.cpython-311-x86_64-linux-gnu.so", "\x7f" "ELF", 0755, NULL, false},
        {"data_only/readme.txt", "no code\n", 0, NULL, false},
        {"not-an-identifier.py", "W = 1\n", 0, NULL, false},
        {"demo_pkg-1.0.data/scripts/run", "#!python\n", 0755, NULL, false},
        {"demo_pkg-1.0.dist-info/top_level.txt", "demo\ndemo_mod\nghost\n", 0, NULL, false},
        {"demo_pkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: Demo-Pkg\n"
                                            "Version: 1.0\n", 0, NULL, false},
    };
    char *whl = make_wheel(e.wheels, "demo_pkg", "1.0", true, files, NF(files));
    pyti_install_result res;
    pyti_error err;
    const char *w[] = {whl};
    if (install_wheels(&e.scheme, w, 1, NULL, &res, &err) != PYTI_OK)
        fail_msg("%s", err.msg);
    json_t *j = install_report_dist(&e.scheme, &res.dists[0]);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "Demo-Pkg");
    assert_string_equal(json_string_value(json_object_get(j, "version")), "1.0");
    json_t *tops = json_object_get(j, "top_level");
    assert_int_equal(json_array_size(tops), 3);
    assert_string_equal(json_string_value(json_array_get(tops, 0)), "_speed");
    assert_string_equal(json_string_value(json_array_get(tops, 1)), "demo");
    assert_string_equal(json_string_value(json_array_get(tops, 2)), "demo_mod");
    json_t *missing = json_object_get(j, "top_level_txt_not_installed");
    assert_int_equal(json_array_size(missing), 1);
    assert_string_equal(json_string_value(json_array_get(missing, 0)), "ghost");
    json_t *rec = json_object_get(j, "record");
    assert_int_equal((size_t)json_integer_value(json_object_get(j, "files")),
                     json_array_size(rec));
    bool seen = false;
    for (size_t i = 0; i < json_array_size(rec); i++)
        seen |= strcmp(json_string_value(json_array_get(rec, i)), "demo/sub/x.py") == 0;
    assert_true(seen);
    json_decref(j);
    /* A distribution whose RECORD is gone: said so, nothing invented. */
    char *r = path_join(e.venv, "lib/python3.11/site-packages/demo_pkg-1.0.dist-info/RECORD");
    assert_int_equal(unlink(r), 0);
    free(r);
    j = install_report_dist(&e.scheme, &res.dists[0]);
    assert_non_null(json_object_get(j, "record_error"));
    assert_int_equal(json_array_size(json_object_get(j, "top_level")), 0);
    json_decref(j);
    install_result_free(&res);
    free(whl);
    env_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_points_parse),
        cmocka_unit_test(test_export_entries),
        cmocka_unit_test(test_console_specs),
        cmocka_unit_test(test_launchers),
        cmocka_unit_test(test_fix_shebang),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_scheme_for_venv),
        cmocka_unit_test(test_install_full),
        cmocka_unit_test(test_platlib_scheme),
        cmocka_unit_test(test_long_interpreter),
        cmocka_unit_test(test_refuse_unsafe),
        cmocka_unit_test(test_refuse_record_mismatch),
        cmocka_unit_test(test_conflicts_and_overwrite),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_symlink_in_target),
        cmocka_unit_test(test_compile),
        cmocka_unit_test(test_staging_elsewhere),
        cmocka_unit_test(test_directory_moves),
        cmocka_unit_test(test_install_report),
    };
    return cmocka_run_group_tests_name("install", tests, NULL, NULL);
}
