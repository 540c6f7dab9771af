/* test_runner.c — unit tests for the job runner and the built-in tasks on
 * real archives built here with libarchive's writer: a healthy sdist and
 * wheel run through the static recipe, skip propagation, timeouts of
 * built-ins in their forked child, refusal of command tasks, progress
 * events, and the job directory's life cycle (removed here or by a
 * detached process). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/hash.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "exec/job.h"
#include "exec/recipe.h"
#include "exec/report.h"
#include "exec/runner.h"
#include "exec/task.h"

#include <archive.h>
#include <archive_entry.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct member {
    const char *path;
    const char *data;
} member;

/* Writes members into an archive at path: tar.gz, or zip when zip is set. */
static void write_archive(const char *path, const member *m, size_t n, bool zip)
{
    struct archive *a = archive_write_new();
    if (zip) {
        archive_write_set_format_zip(a);
    } else {
        archive_write_set_format_pax_restricted(a);
        archive_write_add_filter_gzip(a);
    }
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, m[i].path);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)strlen(m[i].data));
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        archive_write_data(a, m[i].data, strlen(m[i].data));
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

static const char pkg_info[] =
    "Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.0\nSummary: demo\n"
    "Home-page: https://example.invalid/\nAuthor: A\nAuthor-email: a@example.invalid\n"
    "License: MIT\nClassifier: Programming Language :: Python :: 3\n"
    "Description-Content-Type: text/plain\n\nA demo.\n";

static char *make_sdist(const char *dir, const char *pkginfo)
{
    member m[] = {
        {"demo_pkg-1.0/PKG-INFO", pkginfo},
        {"demo_pkg-1.0/pyproject.toml", "[build-system]\nrequires = []\n"},
        {"demo_pkg-1.0/src/demo_pkg/__init__.py", "x = 1\ny = 2\n"},
        {"demo_pkg-1.0/tests/test_x.py", "def test_x():\n    pass\n"},
        {"demo_pkg-1.0/README.md", "# demo\n"},
    };
    char *path = path_join(dir, "demo_pkg-1.0.tar.gz");
    write_archive(path, m, sizeof m / sizeof *m, false);
    return path;
}

static char *record_line(const char *path, const char *data)
{
    unsigned char md[32];
    char hex[65];
    hash_sha256_hex(data, strlen(data), hex);
    for (int i = 0; i < 32; i++)
        sscanf(hex + 2 * i, "%2hhx", &md[i]);
    char *b64 = hash_urlsafe_b64_nopad(md, 32);
    char *line = xasprintf("%s,sha256=%s,%zu\n", path, b64, strlen(data));
    free(b64);
    return line;
}

static char *make_wheel(const char *dir, bool tamper)
{
    const char *init = "x = 1\n";
    const char *wheel = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n";
    char *l1 = record_line("demo_pkg/__init__.py", init);
    char *l2 = record_line("demo_pkg-1.0.dist-info/METADATA", pkg_info);
    char *l3 = record_line("demo_pkg-1.0.dist-info/WHEEL", wheel);
    char *record = xasprintf("%s%s%sdemo_pkg-1.0.dist-info/RECORD,,\n", l1, l2, l3);
    member m[] = {
        {"demo_pkg/__init__.py", tamper ? "x = 2\n" : init},
        {"demo_pkg-1.0.dist-info/METADATA", pkg_info},
        {"demo_pkg-1.0.dist-info/WHEEL", wheel},
        {"demo_pkg-1.0.dist-info/RECORD", record},
    };
    char *path = path_join(dir, "demo_pkg-1.0-py3-none-any.whl");
    write_archive(path, m, sizeof m / sizeof *m, true);
    free(l1); free(l2); free(l3); free(record);
    return path;
}

static const char static_recipe[] =
    "[recipe]\ndescription = test\n"
    "[task extract]\nbuiltin = extract\nproduces = source\n"
    "[task metadata]\nbuiltin = metadata\nneeds = source\nproduces = metadata\n"
    "[task record]\nbuiltin = record\nneeds = source\n"
    "[task facts]\nbuiltin = facts\nneeds = source\nproduces = facts\n";

static pyti_recipe *load_recipe_text(const char *dir, const char *text)
{
    char *path = t_write(dir, "recipe.ini", text);
    pyti_recipe_search search = {NULL, NULL, builtin_exists};
    pyti_error err;
    pyti_recipe *r = recipe_load(path, &search, &err);
    if (!r)
        fail_msg("recipe: %s", err.msg);
    free(path);
    return r;
}

static json_t *run(const char *dir, const char *dist, const char *recipe_text, pyti_job *job_out)
{
    pyti_recipe *r = load_recipe_text(dir, recipe_text);
    pyti_job job;
    pyti_error err;
    if (job_prepare(&job, dist, dir, NULL, &err) != PYTI_OK)
        fail_msg("job: %s", err.msg);
    json_t *report = runner_run(&job, r, NULL, &err);
    if (!report)
        fail_msg("run: %s", err.msg);
    if (job_out)
        *job_out = job;
    else
        job_cleanup(&job, false);
    recipe_free(r);
    return report;
}

static const json_t *task_named(const json_t *report, const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(report, "tasks"), i, t)
        if (strcmp(json_get_str(t, "name"), name) == 0)
            return t;
    fail_msg("no task %s", name);
    return NULL;
}

static void test_sdist_through_static_recipe(void **state)
{
    char *dir = t_tmpdir();
    char *sdist = make_sdist(dir, pkg_info);
    json_t *r = run(dir, sdist, static_recipe, NULL);
    assert_int_equal(report_validate(r, NULL), PYTI_OK);
    assert_string_equal(json_get_str(r, "outcome"), "passed");
    assert_string_equal(json_get_str(task_named(r, "extract"), "status"), "passed");
    assert_string_equal(json_get_str(task_named(r, "metadata"), "status"), "passed");
    assert_string_equal(json_get_str(task_named(r, "record"), "status"), "neutral");
    const json_t *facts = json_object_get(task_named(r, "facts"), "data");
    assert_int_equal(json_integer_value(json_object_get(facts, "files")), 5);
    assert_true(json_is_true(json_object_get(facts, "has_tests")));
    const json_t *py = json_object_get(json_object_get(facts, "languages"), "Python");
    assert_int_equal(json_integer_value(json_object_get(py, "lines")), 4);
    const json_t *d = json_object_get(r, "distribution");
    assert_string_equal(json_get_str(d, "name"), "demo-pkg");
    assert_string_equal(json_get_str(d, "version"), "1.0");
    json_decref(r);
    free(sdist);
}

static void test_wheel_record_verified_and_tampering_found(void **state)
{
    char *dir = t_tmpdir();
    char *whl = make_wheel(dir, false);
    json_t *r = run(dir, whl, static_recipe, NULL);
    assert_string_equal(json_get_str(task_named(r, "record"), "status"), "passed");
    assert_string_equal(json_get_str(r, "outcome"), "passed");
    json_decref(r);
    free(whl);

    char *dir2 = t_tmpdir();
    whl = make_wheel(dir2, true);
    r = run(dir2, whl, static_recipe, NULL);
    assert_string_equal(json_get_str(task_named(r, "record"), "status"), "failed");
    assert_string_equal(json_get_str(r, "outcome"), "failed");
    assert_int_equal(report_exit_code(r), 1);
    json_decref(r);
    free(whl);
}

static void test_failed_metadata_skips_dependants(void **state)
{
    char *dir = t_tmpdir();
    char *sdist = make_sdist(dir, "Metadata-Version: 2.1\nName: demo-pkg\n");
    json_t *r = run(dir, sdist,
                    "[recipe]\n"
                    "[task extract]\nbuiltin = extract\nproduces = source\n"
                    "[task metadata]\nbuiltin = metadata\nneeds = source\nproduces = metadata\n"
                    "[task facts]\nbuiltin = facts\nneeds = source\nrequires = metadata\n"
                    "[task record]\nbuiltin = record\nneeds = source\n",
                    NULL);
    assert_string_equal(json_get_str(task_named(r, "metadata"), "status"), "failed");
    assert_string_equal(json_get_str(task_named(r, "facts"), "status"), "skipped");
    assert_string_equal(json_get_str(task_named(r, "facts"), "reason"),
                        "requires task 'metadata' which failed");
    assert_string_equal(json_get_str(task_named(r, "record"), "status"), "neutral");
    json_decref(r);
    free(sdist);
}

static void test_rejected_archive_skips_everything(void **state)
{
    char *dir = t_tmpdir();
    member m[] = {{"demo_pkg-1.0/PKG-INFO", pkg_info}, {"../escape.txt", "x"}};
    char *path = path_join(dir, "demo_pkg-1.0.tar.gz");
    write_archive(path, m, 2, false);
    json_t *r = run(dir, path, static_recipe, NULL);
    assert_string_equal(json_get_str(r, "outcome"), "rejected");
    assert_int_equal(report_exit_code(r), 2);
    assert_true(json_is_true(json_object_get(task_named(r, "extract"), "input_rejected")));
    assert_string_equal(json_get_str(task_named(r, "metadata"), "reason"),
                        "needs 'source' from task 'extract' which failed");
    char *escaped = path_join(dir, "escape.txt");
    assert_false(path_exists(escaped));
    free(escaped);
    json_decref(r);
    free(path);
}

static void test_builtin_timeout_is_enforced(void **state)
{
    char *dir = t_tmpdir();
    char *sdist = make_sdist(dir, pkg_info);
    /* A deadline that has passed before the child can finish. */
    json_t *r = run(dir, sdist,
                    "[recipe]\n[task extract]\nbuiltin = extract\nproduces = source\n"
                    "timeout = 0.000001\n"
                    "[task facts]\nbuiltin = facts\nneeds = source\n",
                    NULL);
    const json_t *ex = task_named(r, "extract");
    assert_string_equal(json_get_str(ex, "status"), "timeout");
    assert_non_null(strstr(json_get_str(ex, "reason"), "timeout"));
    assert_string_equal(json_get_str(task_named(r, "facts"), "status"), "skipped");
    assert_string_equal(json_get_str(r, "outcome"), "failed");
    json_decref(r);
    free(sdist);
}

static void test_command_task_runs_in_the_sandbox(void **state)
{
    char *dir = t_tmpdir();
    char *sdist = make_sdist(dir, pkg_info);
    json_t *r = run(dir, sdist,
                    "[recipe]\n[task extract]\nbuiltin = extract\nproduces = source\n"
                    "[task cmd]\nneeds = source\nrun = echo inside-$(id -u)-$(hostname); "
                    "test ! -e /root/.bashrc\n"
                    "[task bad]\nrun = exit 7\n",
                    NULL);
    const json_t *cmd = task_named(r, "cmd");
    assert_string_equal(json_get_str(cmd, "status"), "passed");
    assert_non_null(strstr(json_get_str(cmd, "log"), "inside-1000-pyti"));
    const json_t *bad = task_named(r, "bad");
    assert_string_equal(json_get_str(bad, "status"), "failed");
    assert_string_equal(json_get_str(bad, "reason"), "exited with status 7");
    json_decref(r);
    free(sdist);
}

static void test_unknown_builtin_refused(void **state)
{
    char *dir = t_tmpdir();
    char *path = t_write(dir, "recipe.ini", "[recipe]\n[task x]\nbuiltin = frobnicate\n");
    pyti_recipe_search search = {NULL, NULL, NULL};
    pyti_error err;
    pyti_recipe *r = recipe_load(path, &search, &err);
    assert_non_null(r);
    assert_int_equal(runner_check_recipe(r, &err), PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "recipe.ini:2"));
    assert_non_null(strstr(err.msg, "frobnicate"));
    recipe_free(r);
    free(path);
}

typedef struct seen {
    char log[512];
} seen;

static void ev_start(void *user, size_t i, size_t n, const pyti_task_def *d)
{
    seen *s = user;
    size_t len = strlen(s->log);
    snprintf(s->log + len, sizeof s->log - len, "+%s(%zu/%zu) ", d->name, i + 1, n);
}

static void ev_end(void *user, size_t i, size_t n, const pyti_task_def *d, pyti_task_status st,
                   const char *reason, double dur)
{
    seen *s = user;
    size_t len = strlen(s->log);
    snprintf(s->log + len, sizeof s->log - len, "-%s:%s ", d->name, task_status_name(st));
}

/* Progress events, and the job directory: result.json and log.txt are
 * written only in a kept job (without keep the results travel from the
 * task host to the runner only); job_cleanup removes it all. */
static void test_events_and_job_directory(void **state)
{
    char *dir = t_tmpdir();
    char *sdist = make_sdist(dir, pkg_info);
    pyti_recipe *r = load_recipe_text(dir, static_recipe);
    for (int keep = 0; keep < 2; keep++) {
        pyti_job job;
        pyti_error err;
        assert_int_equal(job_prepare(&job, sdist, dir, NULL, &err), PYTI_OK);
        assert_int_equal(strlen(job.id), 32);
        assert_true(path_is_file(job.dist_path));
        job.keep = keep;
        seen s = {{0}};
        pyti_run_events ev = {ev_start, ev_end, &s};
        json_t *report = runner_run(&job, r, &ev, &err);
        assert_string_equal(s.log,
                            "+extract(1/4) -extract:passed +metadata(2/4) -metadata:passed "
                            "+record(3/4) -record:neutral +facts(4/4) -facts:passed ");
        char *result = path_join(job.out_dir, "facts/result.json");
        char *log = path_join(job.out_dir, "facts/log.txt");
        assert_int_equal(path_is_file(result), keep);
        assert_int_equal(path_is_file(log), keep);
        free(result);
        free(log);
        char *jd = xstrdup(job.job_dir);
        job_cleanup(&job, false);
        assert_false(path_exists(jd));
        free(jd);
        json_decref(report);
    }
    recipe_free(r);
    free(sdist);
}

typedef struct killer {
    const char *task; /* kill the task host when this task starts */
    int sig;
    pid_t pid;        /* the process that sends it */
} killer;

/* The task host is this process's only child while no task runs. */
static pid_t only_child(void)
{
    char path[64], buf[64] = {0};
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)gettid());
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (pid_t)atoi(buf);
}

static void ev_kill_host(void *user, size_t i, size_t n, const pyti_task_def *d)
{
    killer *k = user;
    if (strcmp(d->name, k->task) != 0)
        return;
    pid_t host = only_child();
    assert_true(host > 0);
    k->pid = fork();
    if (k->pid == 0) {
        usleep(300000); /* the task is running by then */
        kill(host, k->sig);
        _exit(0);
    }
}

/* A task host that crashes while running a task costs that task only: it
 * ends as error (crashed), its dependants are skipped, and the next tasks
 * run in a fresh host that still has the items produced before. */
static void test_host_crash_is_charged_to_its_task(void **state)
{
    char *dir = t_tmpdir();
    char *sdist = make_sdist(dir, pkg_info);
    pyti_recipe *r = load_recipe_text(dir, "[recipe]\n"
                                           "[task extract]\nbuiltin = extract\nproduces = source\n"
                                           "[task slow]\nneeds = source\nrun = sleep 3\n"
                                           "[task after]\nrequires = slow\nrun = true\n"
                                           "[task facts]\nbuiltin = facts\nneeds = source\n");
    pyti_job job;
    pyti_error err;
    assert_int_equal(job_prepare(&job, sdist, dir, NULL, &err), PYTI_OK);
    /* SIGKILL (as the OOM killer would): cmocka's handlers for SIGSEGV
     * and friends are inherited by the forked host. */
    killer k = {"slow", SIGKILL, -1};
    pyti_run_events ev = {ev_kill_host, NULL, &k};
    json_t *report = runner_run(&job, r, &ev, &err);
    assert_non_null(report);
    assert_true(k.pid > 0);
    waitpid(k.pid, NULL, 0);
    assert_string_equal(json_get_str(task_named(report, "extract"), "status"), "passed");
    const json_t *slow = task_named(report, "slow");
    assert_string_equal(json_get_str(slow, "status"), "error");
    assert_non_null(strstr(json_get_str(slow, "reason"), "task 'slow' crashed (signal 9"));
    assert_string_equal(json_get_str(task_named(report, "after"), "status"), "skipped");
    /* facts needs extract's `source`, produced in the first host */
    assert_string_equal(json_get_str(task_named(report, "facts"), "status"), "passed");
    job_cleanup(&job, false);
    json_decref(report);
    recipe_free(r);
    free(sdist);
}

/* job_cleanup_detached: the directory goes away without the caller
 * waiting (a detached grandchild removes it), and nothing of the caller's
 * is left waiting on it; with keep it stays. */
static void test_detached_job_removal(void **state)
{
    char *dir = t_tmpdir();
    char *sdist = make_sdist(dir, pkg_info);
    pyti_job job;
    pyti_error err;
    assert_int_equal(job_prepare(&job, sdist, dir, NULL, &err), PYTI_OK);
    char *deep = path_join(job.work_dir, "a/b/c");
    assert_int_equal(path_mkdirs(deep, 0755, &err), PYTI_OK);
    char *f = path_join(deep, "file.txt");
    assert_int_equal(path_write_file_scratch(f, "x", 1, &err), PYTI_OK);
    char *jd = xstrdup(job.job_dir);
    job_cleanup_detached(&job, false);
    assert_null(job.job_dir);
    /* Gone within moments (the grandchild is not ours to wait for). */
    for (int i = 0; i < 400 && path_exists(jd); i++)
        usleep(25000);
    assert_false(path_exists(jd));
    free(jd);

    assert_int_equal(job_prepare(&job, sdist, dir, NULL, &err), PYTI_OK);
    jd = xstrdup(job.job_dir);
    job_cleanup_detached(&job, true);
    usleep(100000);
    assert_true(path_is_dir(jd));
    assert_int_equal(path_rmtree(jd, &err), PYTI_OK);
    free(jd);
    free(f);
    free(deep);
    free(sdist);
}

static void test_missing_target(void **state)
{
    pyti_job job;
    pyti_error err;
    assert_int_equal(job_prepare(&job, "/nonexistent/x.whl", NULL, NULL, &err), PYTI_ERR_NOTFOUND);
    assert_non_null(strstr(err.msg, "/nonexistent/x.whl"));
    assert_int_equal(job_prepare(&job, "/tmp", NULL, NULL, &err), PYTI_ERR_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sdist_through_static_recipe),
        cmocka_unit_test(test_wheel_record_verified_and_tampering_found),
        cmocka_unit_test(test_failed_metadata_skips_dependants),
        cmocka_unit_test(test_rejected_archive_skips_everything),
        cmocka_unit_test(test_builtin_timeout_is_enforced),
        cmocka_unit_test(test_host_crash_is_charged_to_its_task),
        cmocka_unit_test(test_command_task_runs_in_the_sandbox),
        cmocka_unit_test(test_unknown_builtin_refused),
        cmocka_unit_test(test_events_and_job_directory),
        cmocka_unit_test(test_detached_job_removal),
        cmocka_unit_test(test_missing_target),
    };
    return cmocka_run_group_tests_name("runner", tests, NULL, NULL);
}
