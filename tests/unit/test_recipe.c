/* test_recipe.c — unit tests for src/exec/recipe.c: the INI format, every
 * key, lists, options, every error with its exact file:line, includes
 * (by name through the search path, by relative path, nested, cycles,
 * overrides) and recipe_list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/buf.h"
#include "common/err.h"
#include "common/path.h"
#include "common/str.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "exec/recipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes text to a fresh directory as NAME and loads it by path. */
static pyti_recipe *load_text(const char *name, const char *text, char **path_out,
                              pyti_error *err)
{
    char *dir = t_tmpdir();
    char *path = t_write(dir, name, text);
    pyti_recipe *r = recipe_load(path, NULL, err);
    if (path_out)
        *path_out = path;
    else
        free(path);
    return r;
}

/* Asserts that text fails to load with exactly "<path>:<line>: <msg>". */
static void expect_error_at(const char *text, unsigned line, const char *msg)
{
    char *path;
    pyti_error err;
    pyti_error_clear(&err);
    pyti_recipe *r = load_text("bad.ini", text, &path, &err);
    if (r) {
        fprintf(stderr, "unexpectedly loaded:\n%s\n", text);
        recipe_free(r);
        fail();
    }
    char *want = xasprintf("%s:%u: %s", path, line, msg);
    if (strcmp(err.msg, want) != 0)
        fprintf(stderr, "want: %s\ngot:  %s\n", want, err.msg);
    assert_string_equal(err.msg, want);
    assert_int_equal(err.code, PYTI_ERR_INPUT);
    free(want);
    free(path);
}

static bool fake_is_builtin(const char *name)
{
    return strcmp(name, "extract") == 0 || strcmp(name, "metadata") == 0;
}

static void assert_strv(const pyti_strv *v, const char *joined)
{
    char *j = strv_join(v, " ");
    assert_string_equal(j, joined);
    free(j);
}

static void test_minimal(void **state)
{
    char *path;
    pyti_error err;
    pyti_recipe *r = load_text("mini.ini", "[task a]\nbuiltin = extract\n", &path, &err);
    assert_non_null(r);
    assert_string_equal(r->name, "mini");
    assert_null(r->description);
    assert_true(r->file[0] == '/');
    assert_true(strstr(r->file, "mini.ini") != NULL);
    assert_int_equal(r->ntasks, 1);
    const pyti_task_def *t = &r->tasks[0];
    assert_string_equal(t->name, "a");
    assert_string_equal(t->builtin, "extract");
    assert_null(t->run);
    assert_null(t->description);
    assert_int_equal(t->requires.len, 0);
    assert_int_equal(t->needs.len, 0);
    assert_int_equal(t->produces.len, 0);
    assert_int_equal(t->option_keys.len, 0);
    assert_true(t->timeout_s == 600.0);
    assert_string_equal(t->file, path);
    assert_int_equal(t->line, 1);
    assert_ptr_equal(recipe_find_task(r, "a"), t);
    assert_null(recipe_find_task(r, "b"));
    recipe_free(r);
    free(path);

    /* A file with no tasks at all is a valid (empty) recipe. */
    r = load_text("empty.ini", "; nothing here\n", NULL, &err);
    assert_non_null(r);
    assert_int_equal(r->ntasks, 0);
    recipe_free(r);
}

static void test_every_key(void **state)
{
    const char *text =
        "\xef\xbb\xbf; a recipe with every key\n"
        "# hash comments too\n"
        "[recipe]\n"
        "description = Everything at once ; inline comment\n"
        "\n"
        "[task extract]\n"
        "builtin = extract\n"
        "produces = source\n"
        "\n"
        "[task meta]\n"
        "builtin = metadata\n"
        "requires = extract\n"
        "needs = source\n"
        "produces = metadata, facts\n"
        "timeout = 90s\n"
        "description = Read and\n"
        "  validate metadata\n"
        "strict = yes\n"
        "max-size = 10\n"
        "\n"
        "[task mytests]\n"
        "run = python -m pytest\n"
        "    -x --maxfail=3\n"
        "requires = meta\n"
        "timeout: 2h\n"
        "args = -k\n"
        "   not slow\n";
    pyti_recipe_search search = {NULL, NULL, fake_is_builtin};
    char *dir = t_tmpdir();
    char *path = t_write(dir, "every.ini", text);
    pyti_error err;
    pyti_recipe *r = recipe_load(path, &search, &err);
    if (!r)
        fprintf(stderr, "%s\n", err.msg);
    assert_non_null(r);
    assert_string_equal(r->description, "Everything at once");
    assert_int_equal(r->ntasks, 3);

    const pyti_task_def *e = &r->tasks[0];
    assert_string_equal(e->name, "extract");
    assert_int_equal(e->line, 6);
    assert_strv(&e->produces, "source");

    const pyti_task_def *m = &r->tasks[1];
    assert_string_equal(m->name, "meta");
    assert_int_equal(m->line, 10);
    assert_string_equal(m->builtin, "metadata");
    assert_strv(&m->requires, "extract");
    assert_strv(&m->needs, "source");
    assert_strv(&m->produces, "metadata facts");
    assert_true(m->timeout_s == 90.0);
    assert_string_equal(m->description, "Read and validate metadata");
    assert_int_equal(m->option_keys.len, 2);
    assert_string_equal(m->option_keys.items[0], "strict");
    assert_string_equal(m->option_values.items[0], "yes");
    assert_string_equal(m->option_keys.items[1], "max-size");
    assert_string_equal(task_def_option(m, "max-size"), "10");
    assert_null(task_def_option(m, "builtin"));
    assert_null(task_def_option(m, "nope"));

    const pyti_task_def *t = &r->tasks[2];
    assert_string_equal(t->name, "mytests");
    assert_null(t->builtin);
    assert_string_equal(t->run, "python -m pytest -x --maxfail=3");
    assert_true(t->timeout_s == 7200.0);
    assert_string_equal(task_def_option(t, "args"), "-k not slow");
    recipe_free(r);
    free(path);
}

static void test_lists(void **state)
{
    pyti_error err;
    pyti_recipe *r = load_text("lists.ini",
                               "[task a]\nrun = true\nproduces = p1,p2 p3\n"
                               "[task b]\nrun = true\nproduces = q\n"
                               "[task z]\n"
                               "run = true\n"
                               "requires = a, b,,a\tb  ,\n"
                               "needs = p1 p2,p3\n"
                               "  q, p1\n"
                               "produces =\n",
                               NULL, &err);
    assert_non_null(r);
    const pyti_task_def *z = recipe_find_task(r, "z");
    assert_non_null(z);
    assert_strv(&z->requires, "a b");      /* deduplicated, in first-seen order */
    assert_strv(&z->needs, "p1 p2 p3 q");  /* continuation lines add items */
    assert_int_equal(z->produces.len, 0);  /* empty list */
    assert_strv(&recipe_find_task(r, "a")->produces, "p1 p2 p3");
    recipe_free(r);
}

static void test_timeouts(void **state)
{
    static const struct { const char *text; double want; } good[] = {
        {"30", 30}, {"90s", 90}, {"1.5m", 90}, {"2h", 7200}, {"0.5", 0.5}, {"10 m", 600},
        {"168h", 604800},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char *text = xasprintf("[task a]\nrun = x\ntimeout = %s\n", good[i].text);
        pyti_error err;
        pyti_recipe *r = load_text("t.ini", text, NULL, &err);
        if (!r)
            fprintf(stderr, "%s: %s\n", good[i].text, err.msg);
        assert_non_null(r);
        assert_true(r->tasks[0].timeout_s == good[i].want);
        recipe_free(r);
        free(text);
    }
    static const char *const bad[] = {"0", "-1", "abc", "1e3", "inf", "nan", "0x10", "5d",
                                      "10x", "169h", ".", "1.2.3", "s", "0s", "1 2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *text = xasprintf("[task a]\nrun = x\n\ntimeout = %s\n", bad[i]);
        char *msg = xasprintf("task 'a': bad timeout '%s' (expected a positive number of "
                              "seconds, optionally followed by s, m or h, at most 7 days)",
                              bad[i]);
        expect_error_at(text, 4, msg);
        free(msg);
        free(text);
    }
    expect_error_at("[task a]\nrun = x\ntimeout =\n", 3,
                    "task 'a': bad timeout '' (expected a positive number of seconds, "
                    "optionally followed by s, m or h, at most 7 days)");
}

static void test_section_errors(void **state)
{
    expect_error_at("[task a]\nrun = x\n\n[tasks b]\nrun = y\n", 4,
                    "unknown section [tasks b] (expected [recipe] or [task NAME])");
    expect_error_at("[Recipe]\n", 1, "unknown section [Recipe] (expected [recipe] or [task NAME])");
    expect_error_at("[task]\nrun = x\n", 1, "task section without a name (expected [task NAME])");
    expect_error_at("\n[task a/b]\nrun = x\n", 2,
                    "invalid task name 'a/b' (use letters, digits, '_', '.' and '-', starting "
                    "with a letter, digit or '_'; at most 64 characters)");
    expect_error_at("[task ..]\nrun = x\n", 1,
                    "invalid task name '..' (use letters, digits, '_', '.' and '-', starting "
                    "with a letter, digit or '_'; at most 64 characters)");
    expect_error_at("[task a]\nrun = x\n[task b]\nrun = y\n[task a]\nrun = z\n", 5,
                    "duplicate section [task a] (first at line 1)");
    expect_error_at("[recipe]\n[task a]\nrun = x\n[recipe]\n", 4,
                    "duplicate [recipe] section (first at line 1)");
    expect_error_at("[task a\nrun = x\n", 1, "section header without a closing ']'");
    expect_error_at("[task a] extra\nrun = x\n", 1, "unexpected text after the section header");
    /* A long task name is checked by pyti, not silently cut by inih. */
    char name[80];
    memset(name, 'n', 70);
    name[70] = '\0';
    char *text = xasprintf("[task %s]\nrun = x\n", name);
    char *msg = xasprintf("invalid task name '%s' (use letters, digits, '_', '.' and '-', "
                          "starting with a letter, digit or '_'; at most 64 characters)", name);
    expect_error_at(text, 1, msg);
    free(text);
    free(msg);
    /* 60 characters is fine although inih keeps only 49 of the header. */
    memset(name, 'n', 60);
    name[60] = '\0';
    text = xasprintf("[task %s]\nrun = x\n", name);
    pyti_error err;
    pyti_recipe *r = load_text("long.ini", text, NULL, &err);
    assert_non_null(r);
    assert_string_equal(r->tasks[0].name, name);
    recipe_free(r);
    free(text);
}

static void test_key_errors(void **state)
{
    expect_error_at("run = x\n", 1,
                    "key 'run' outside of any section (expected [recipe] or [task NAME] first)");
    expect_error_at("[recipe]\ndescription = d\nname = x\n", 3,
                    "unknown key 'name' in [recipe] (expected description or include)");
    expect_error_at("[recipe]\ndescription = d\ndescription = e\n", 3,
                    "duplicate key 'description' in [recipe] (first at line 2)");
    expect_error_at("[task a]\nrun = x\nrequires = b\nrequires = c\n", 4,
                    "duplicate key 'requires' in [task a] (first at line 3)");
    expect_error_at("[task a]\nrun = x\nopt = 1\nother = 2\nopt = 3\n", 5,
                    "duplicate key 'opt' in [task a] (first at line 3)");
    expect_error_at("[task a]\nRun = x\n", 2,
                    "unknown key 'Run' in [task a] (keys are case-sensitive; did you mean 'run'?)");
    expect_error_at("[task a]\nrun = x\nmy opt = 1\n", 3,
                    "invalid key 'my opt' in [task a] (use letters, digits, '_', '.' and '-')");
    expect_error_at("[task a]\nrun = x\n= 1\n", 3, "missing key before '='");
    expect_error_at("[task a]\nrun = x\njust words\n", 3,
                    "syntax error (expected 'key = value', '[section]' or a comment)");
    expect_error_at("[task a]\nrun = x\nkey ;= 1\n", 3,
                    "syntax error (expected 'key = value', '[section]' or a comment)");
}

static void test_task_errors(void **state)
{
    expect_error_at("[task a]\nrun = x\n\n[task b]\nbuiltin = extract\nrun = y\n", 4,
                    "task 'b' has both builtin (line 5) and run (line 6); choose one");
    expect_error_at("[task a]\nrun = x\n[task b]\ndescription = nothing to do\n", 3,
                    "task 'b' has neither builtin nor run");
    /* The last section is checked at the end of the file too. */
    expect_error_at("[task a]\n", 1, "task 'a' has neither builtin nor run");
    expect_error_at("[task a]\nbuiltin =\n", 2, "task 'a': empty builtin");
    expect_error_at("[task a]\nrun =\n", 2, "task 'a': empty run");
    expect_error_at("[task a]\nbuiltin = no/such\n", 2, "task 'a': unknown builtin 'no/such'");
    expect_error_at("[task a]\nrun = x\nrequires = b, c/d\n", 3,
                    "task 'a': requires: invalid task name 'c/d'");
    expect_error_at("[task a]\nrun = x\nneeds = ok\nproduces = x\n  .hidden\n", 4,
                    "task 'a': produces: invalid item name '.hidden'");

    /* Unknown builtins, through the search's is_builtin. */
    pyti_recipe_search search = {NULL, NULL, fake_is_builtin};
    char *dir = t_tmpdir();
    char *path = t_write(dir, "b.ini", "[task a]\nbuiltin = extract\n[task b]\n\nbuiltin = lint\n");
    pyti_error err;
    assert_null(recipe_load(path, &search, &err));
    char *want = xasprintf("%s:5: task 'b': unknown builtin 'lint'", path);
    assert_string_equal(err.msg, want);
    free(want);
    /* Without is_builtin any well-formed name is accepted. */
    pyti_recipe *r = recipe_load(path, NULL, &err);
    assert_non_null(r);
    recipe_free(r);
    free(path);
}

static void test_bad_bytes_and_sizes(void **state)
{
    /* inih would split a long line; pyti refuses it. */
    pyti_buf b = PYTI_BUF_INIT;
    buf_puts(&b, "[task a]\nrun = x\ndescription = ");
    for (int i = 0; i < 300; i++)
        buf_putc(&b, 'd');
    buf_puts(&b, "\n");
    expect_error_at(buf_cstr(&b), 3,
                    "line is too long (at most 198 characters; continue long values on "
                    "indented lines)");
    buf_free(&b);

    /* A 198-character line is fine. */
    buf_puts(&b, "[task a]\nrun = ");
    for (int i = 0; i < 192; i++)
        buf_putc(&b, 'r');
    buf_puts(&b, "\n");
    pyti_error err;
    pyti_recipe *r = load_text("ok.ini", buf_cstr(&b), NULL, &err);
    assert_non_null(r);
    assert_int_equal(strlen(r->tasks[0].run), 192);
    recipe_free(r);
    buf_free(&b);

    expect_error_at("[task a]\nrun = \xff\xfe\n", 2, "invalid UTF-8");

    char *dir = t_tmpdir();
    char *path = t_write_bytes(dir, "nul.ini", "[task a]\nrun = x\0y\n", 19);
    assert_null(recipe_load(path, NULL, &err));
    char *want = xasprintf("%s:2: NUL byte in line", path);
    assert_string_equal(err.msg, want);
    assert_int_equal(err.code, PYTI_ERR_INPUT);
    free(want);
    free(path);

    /* Larger than 1 MiB. */
    size_t big = 1024 * 1024 + 10;
    char *data = xmalloc(big);
    memset(data, '\n', big);
    memcpy(data, "[task a]\nrun = x\n", 17);
    path = t_write_bytes(dir, "big.ini", data, big);
    assert_null(recipe_load(path, NULL, &err));
    want = xasprintf("%s: file is larger than the limit of 1048576 bytes", path);
    assert_string_equal(err.msg, want);
    assert_int_equal(err.code, PYTI_ERR_INPUT);
    free(want);
    free(path);
    free(data);
}

static void test_not_found(void **state)
{
    char *user = t_tmpdir();
    char *shipped = t_tmpdir();
    pyti_recipe_search search = {user, shipped, NULL};
    pyti_error err;
    assert_null(recipe_load("nosuch", &search, &err));
    assert_int_equal(err.code, PYTI_ERR_NOTFOUND);
    char *want = xasprintf("recipe 'nosuch' not found (looked for %s/nosuch.ini, %s/nosuch.ini)",
                           user, shipped);
    assert_string_equal(err.msg, want);
    free(want);

    assert_null(recipe_load("nosuch", NULL, &err));
    assert_int_equal(err.code, PYTI_ERR_NOTFOUND);
    assert_string_equal(err.msg, "recipe 'nosuch' not found (no recipe directories configured)");

    want = xasprintf("%s/missing.ini", user);
    assert_null(recipe_load(want, &search, &err));
    assert_int_equal(err.code, PYTI_ERR_NOTFOUND);
    char *msg = xasprintf("recipe file %s not found", want);
    assert_string_equal(err.msg, msg);
    free(msg);
    free(want);

    assert_null(recipe_load("bad name", &search, &err));
    assert_int_equal(err.code, PYTI_ERR_INPUT);
    assert_null(recipe_load("", &search, &err));
    assert_null(recipe_load(user, &search, &err)); /* a directory */
    assert_int_equal(err.code, PYTI_ERR_INPUT);
    want = xasprintf("recipe file %s is not a regular file", user);
    assert_string_equal(err.msg, want);
    free(want);
    char *fifo = path_join(user, "fifo.ini");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_null(recipe_load(fifo, &search, &err)); /* must not block */
    assert_int_equal(err.code, PYTI_ERR_INPUT);
    free(fifo);
}

static void test_lookup_by_name(void **state)
{
    char *user = t_tmpdir();
    char *shipped = t_tmpdir();
    free(t_write(shipped, "default.ini", "[task shipped]\nrun = x\n"));
    free(t_write(shipped, "other.ini", "[task other]\nrun = x\n"));
    free(t_write(user, "default.ini", "[recipe]\ndescription = mine\n[task mine]\nrun = x\n"));
    pyti_recipe_search search = {user, shipped, NULL};
    pyti_error err;
    pyti_recipe *r = recipe_load("default", &search, &err);
    assert_non_null(r);
    assert_string_equal(r->name, "default");
    assert_string_equal(r->description, "mine");
    assert_non_null(recipe_find_task(r, "mine"));
    assert_null(recipe_find_task(r, "shipped"));
    recipe_free(r);

    r = recipe_load("other", &search, &err);
    assert_non_null(r);
    assert_non_null(recipe_find_task(r, "other"));
    recipe_free(r);

    /* Without a user dir, the shipped one is found. */
    pyti_recipe_search only_shipped = {NULL, shipped, NULL};
    r = recipe_load("default", &only_shipped, &err);
    assert_non_null(r);
    assert_non_null(recipe_find_task(r, "shipped"));
    recipe_free(r);
}

static void test_includes_by_name_and_path(void **state)
{
    char *user = t_tmpdir();
    char *shipped = t_tmpdir();
    char *work = t_tmpdir();
    free(t_write(shipped, "base.ini",
                 "[task extract]\nbuiltin = extract\nproduces = source\n"
                 "[task shipped-only]\nrun = x\n"));
    /* The user's base shadows the shipped one for includes by name too. */
    free(t_write(user, "base.ini",
                 "[task extract]\nbuiltin = extract\nproduces = source\ndescription = user\n"));
    free(t_write(work, "sub/lint.ini",
                 "[recipe]\ninclude = base\n"
                 "[task lint]\nrun = flake8\nneeds = source\n"));
    char *top = t_write(work, "top.ini",
                        "[recipe]\ndescription = top\ninclude = sub/lint.ini\n"
                        "[task report]\nrun = echo\nrequires = lint\n");
    pyti_recipe_search search = {user, shipped, NULL};
    pyti_error err;
    pyti_recipe *r = recipe_load(top, &search, &err);
    if (!r)
        fprintf(stderr, "%s\n", err.msg);
    assert_non_null(r);
    assert_string_equal(r->name, "top");
    assert_string_equal(r->description, "top");
    assert_int_equal(r->ntasks, 3);
    /* Included tasks first, nested includes first of all. */
    assert_string_equal(r->tasks[0].name, "extract");
    assert_string_equal(r->tasks[0].description, "user");
    assert_true(strstr(r->tasks[0].file, user) == r->tasks[0].file);
    assert_string_equal(r->tasks[1].name, "lint");
    assert_true(str_endswith(r->tasks[1].file, "/sub/lint.ini"));
    assert_int_equal(r->tasks[1].line, 3);
    assert_string_equal(r->tasks[2].name, "report");
    assert_string_equal(r->tasks[2].file, top);
    assert_null(recipe_find_task(r, "shipped-only"));
    recipe_free(r);
    free(top);
}

static void test_include_override_position(void **state)
{
    char *dir = t_tmpdir();
    free(t_write(dir, "base.ini",
                 "[task a]\nrun = base-a\n[task b]\nrun = base-b\ntimeout = 5\n"
                 "[task c]\nrun = base-c\n"));
    char *top = t_write(dir, "top.ini",
                        "[task first]\nrun = mine\n"
                        "[recipe]\ninclude = base.ini\n"
                        "[task b]\nbuiltin = metadata\n"
                        "[task d]\nrun = d\n");
    pyti_error err;
    pyti_recipe *r = recipe_load(top, NULL, &err);
    assert_non_null(r);
    /* Included tasks come first (wherever [recipe] is in the file); the
     * redefined b keeps the included b's position and is entirely the
     * including recipe's definition. */
    assert_int_equal(r->ntasks, 5);
    assert_string_equal(r->tasks[0].name, "a");
    assert_string_equal(r->tasks[1].name, "b");
    assert_string_equal(r->tasks[1].builtin, "metadata");
    assert_null(r->tasks[1].run);
    assert_true(r->tasks[1].timeout_s == 600.0);
    assert_string_equal(r->tasks[1].file, top);
    assert_int_equal(r->tasks[1].line, 5);
    assert_string_equal(r->tasks[2].name, "c");
    assert_string_equal(r->tasks[3].name, "first");
    assert_string_equal(r->tasks[4].name, "d");
    recipe_free(r);
    free(top);
}

static void test_include_later_overrides_earlier(void **state)
{
    char *dir = t_tmpdir();
    free(t_write(dir, "one.ini", "[task x]\nrun = one\n[task y]\nrun = one\n"));
    free(t_write(dir, "two.ini", "[task z]\nrun = two\n[task x]\nrun = two\n"));
    char *top = t_write(dir, "top.ini", "[recipe]\ninclude = one.ini, two.ini\n");
    pyti_error err;
    pyti_recipe *r = recipe_load(top, NULL, &err);
    assert_non_null(r);
    assert_int_equal(r->ntasks, 3);
    assert_string_equal(r->tasks[0].name, "x");
    assert_string_equal(r->tasks[0].run, "two");
    assert_string_equal(r->tasks[1].name, "y");
    assert_string_equal(r->tasks[2].name, "z");
    recipe_free(r);
    free(top);
}

static void test_include_diamond_once(void **state)
{
    char *dir = t_tmpdir();
    free(t_write(dir, "d.ini", "[task x]\nrun = d\n"));
    free(t_write(dir, "b.ini", "[recipe]\ninclude = d.ini\n[task x]\nrun = b\n"));
    free(t_write(dir, "c.ini", "[recipe]\ninclude = d.ini\n[task c]\nrun = c\n"));
    char *top = t_write(dir, "a.ini", "[recipe]\ninclude = b.ini\n  c.ini\n");
    pyti_error err;
    pyti_recipe *r = recipe_load(top, NULL, &err);
    assert_non_null(r);
    /* d is merged once (through b); c's include of d does not bring the
     * original x back over b's override. */
    assert_int_equal(r->ntasks, 2);
    assert_string_equal(r->tasks[0].run, "b");
    assert_string_equal(r->tasks[1].name, "c");
    recipe_free(r);
    free(top);
}

static void test_include_own_name_reaches_shipped(void **state)
{
    char *user = t_tmpdir();
    char *shipped = t_tmpdir();
    free(t_write(shipped, "default.ini", "[task a]\nrun = shipped\n[task b]\nrun = shipped\n"));
    free(t_write(user, "default.ini", "[recipe]\ninclude = default\n[task b]\nrun = user\n"));
    pyti_recipe_search search = {user, shipped, NULL};
    pyti_error err;
    pyti_recipe *r = recipe_load("default", &search, &err);
    if (!r)
        fprintf(stderr, "%s\n", err.msg);
    assert_non_null(r);
    assert_int_equal(r->ntasks, 2);
    assert_string_equal(r->tasks[0].run, "shipped");
    assert_string_equal(r->tasks[1].run, "user");
    recipe_free(r);
}

static void test_include_errors(void **state)
{
    char *user = t_tmpdir();
    char *shipped = t_tmpdir();
    pyti_recipe_search search = {user, shipped, NULL};
    pyti_error err;

    /* Cycle by name, three files. */
    char *a = t_write(user, "a.ini", "[recipe]\ninclude = b\n[task a]\nrun = x\n");
    char *b = t_write(user, "b.ini", "[task b]\nrun = x\n[recipe]\ninclude = c\n");
    char *c = t_write(shipped, "c.ini", "\n[recipe]\n\ninclude = a\n");
    assert_null(recipe_load("a", &search, &err));
    assert_int_equal(err.code, PYTI_ERR_INPUT);
    char *want = xasprintf("%s:4: include cycle: %s -> %s -> %s -> %s (included from %s:4) "
                           "(included from %s:2)", c, a, b, c, a, b, a);
    assert_string_equal(err.msg, want);
    free(want);

    /* A file including itself by path. */
    char *self = t_write(user, "self.ini", "[recipe]\ninclude = ./self.ini\n");
    assert_null(recipe_load(self, &search, &err));
    char *self_inc = xasprintf("%s/./self.ini", user);
    want = xasprintf("%s:2: include cycle: %s -> %s", self, self, self_inc);
    assert_string_equal(err.msg, want);
    free(want);
    free(self_inc);

    /* Missing includes name the line and where pyti looked. */
    char *m = t_write(user, "m.ini", "[task a]\nrun = x\n[recipe]\ninclude = nosuch\n");
    assert_null(recipe_load(m, &search, &err));
    assert_int_equal(err.code, PYTI_ERR_NOTFOUND);
    want = xasprintf("%s:4: include 'nosuch': recipe not found (looked for %s/nosuch.ini, "
                     "%s/nosuch.ini)", m, user, shipped);
    assert_string_equal(err.msg, want);
    free(want);
    char *mp = t_write(user, "mp.ini", "[recipe]\ninclude = base.ini,\n  lib/none.ini\n");
    free(t_write(user, "base.ini", "[task base]\nrun = x\n"));
    assert_null(recipe_load(mp, &search, &err));
    assert_int_equal(err.code, PYTI_ERR_NOTFOUND);
    want = xasprintf("%s:3: include 'lib/none.ini': no such recipe file %s/lib/none.ini", mp, user);
    assert_string_equal(err.msg, want);
    free(want);

    /* An error inside an included file names that file's line. */
    char *broken = t_write(user, "broken.ini", "[task a]\nrun = x\n[bogus]\n");
    char *inc = t_write(user, "inc.ini", "[recipe]\ninclude = broken\n");
    assert_null(recipe_load(inc, &search, &err));
    want = xasprintf("%s:3: unknown section [bogus] (expected [recipe] or [task NAME]) "
                     "(included from %s:2)", broken, inc);
    assert_string_equal(err.msg, want);
    free(want);

    char *bad = t_write(user, "badname.ini", "[recipe]\ninclude = -x\n");
    assert_null(recipe_load(bad, &search, &err));
    want = xasprintf("%s:2: include '-x': invalid recipe name", bad);
    assert_string_equal(err.msg, want);
    free(want);

    free(a);
    free(b);
    free(c);
    free(self);
    free(m);
    free(mp);
    free(broken);
    free(inc);
    free(bad);
}

static void test_recipe_list(void **state)
{
    char *user = t_tmpdir();
    char *shipped = t_tmpdir();
    free(t_write(shipped, "default.ini", "[task a]\nrun = x\n"));
    free(t_write(shipped, "lint.ini", "[task a]\nrun = x\n"));
    free(t_write(shipped, "README.md", "not a recipe\n"));
    free(t_write(user, "default.ini", "[task a]\nrun = x\n"));
    free(t_write(user, "aaa.ini", "[task a]\nrun = x\n"));
    free(t_write(user, ".hidden.ini", "[task a]\nrun = x\n"));
    free(t_write(user, "dir.ini/x", "not a file\n"));
    pyti_recipe_search search = {user, shipped, NULL};
    pyti_strv names = PYTI_STRV_INIT;
    strv_push(&names, "kept");
    recipe_list(&search, &names);
    assert_strv(&names, "kept aaa default lint");
    strv_free(&names);

    pyti_recipe_search missing = {"/nonexistent/pyti/a", NULL, NULL};
    recipe_list(&missing, &names);
    assert_int_equal(names.len, 0);
    recipe_list(NULL, &names);
    assert_int_equal(names.len, 0);
    strv_free(&names);
}

static void test_comments_and_whitespace(void **state)
{
    pyti_error err;
    pyti_recipe *r = load_text("c.ini",
                               "; comment\n"
                               "# comment\n"
                               "   \n"
                               "[ task  spaced ]   ; comment after header\n"
                               "  run   =   echo a;b ; trailing comment\n"
                               "\r\n"
                               "[task win]\r\n"
                               "run = echo\r\n",
                               NULL, &err);
    if (!r)
        fprintf(stderr, "%s\n", err.msg);
    assert_non_null(r);
    assert_int_equal(r->ntasks, 2);
    assert_string_equal(r->tasks[0].name, "spaced");
    assert_string_equal(r->tasks[0].run, "echo a;b");
    assert_string_equal(r->tasks[1].run, "echo");
    assert_int_equal(r->tasks[1].line, 7);
    recipe_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_section_errors),
        cmocka_unit_test(test_key_errors),
        cmocka_unit_test(test_task_errors),
        cmocka_unit_test(test_bad_bytes_and_sizes),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_lookup_by_name),
        cmocka_unit_test(test_includes_by_name_and_path),
        cmocka_unit_test(test_include_override_position),
        cmocka_unit_test(test_include_later_overrides_earlier),
        cmocka_unit_test(test_include_diamond_once),
        cmocka_unit_test(test_include_own_name_reaches_shipped),
        cmocka_unit_test(test_include_errors),
        cmocka_unit_test(test_recipe_list),
        cmocka_unit_test(test_comments_and_whitespace),
    };
    return cmocka_run_group_tests_name("recipe", tests, NULL, NULL);
}
