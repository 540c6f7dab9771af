/* sbtask.c — running a task's command in the sandbox (see sbtask.h). */
#include "exec/sbtask.h"
#include "exec/tracing.h"
#include "common/buf.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "sandbox/sandbox.h"
#include "pyti_config.h"

#include <limits.h>

#include <linux/openat2.h>
#include <sys/syscall.h>

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_TAIL_BYTES (32u << 10)

/* Defaults for [sandbox] in pyti.ini: generous for a build or a test
 * suite, small enough that a bomb cannot hurt the worker. */
#define DEFAULT_MEMORY (4ull << 30)
#define DEFAULT_PIDS 1024
#define DEFAULT_DISK (8ull << 30)
#define DEFAULT_OUTPUT (32ull << 20)

pyti_status sbtask_check_isolation(pyti_error *err)
{
    static int checked; /* 0 not yet, 1 fine, -1 refused */
    static pyti_error saved;
    if (checked == 1)
        return PYTI_OK;
    if (checked == -1) {
        if (err)
            *err = saved;
        return saved.code;
    }
    pyti_sandbox_probe probe;
    pyti_error perr;
    if (sandbox_probe(&probe, true, &perr) != PYTI_OK) {
        pyti_error_set(&saved, PYTI_ERR_INTERNAL,
                       "refusing to run package code without full isolation: %s", perr.msg);
        checked = -1;
        if (err)
            *err = saved;
        return saved.code;
    }
    if (probe.cgroup_version == 0 || !probe.cg_memory || !probe.cg_pids)
        log_warn("cgroups are not fully usable (%s): memory and process limits of the sandbox "
                 "fall back to rlimits", probe.cgroup_note[0] ? probe.cgroup_note : "unknown");
    checked = 1;
    return PYTI_OK;
}

static pyti_status size_setting(const pyti_config *cfg, const char *key, uint64_t *out,
                                pyti_error *err)
{
    const char *v = config_get(cfg, "sandbox", key);
    if (!v)
        return PYTI_OK;
    if (sandbox_parse_size(v, out, err) != PYTI_OK)
        return pyti_error_prefix(err, "[sandbox] %s", key);
    return PYTI_OK;
}

static pyti_status limits_from_config(const pyti_config *cfg, pyti_sandbox_limits *l,
                                      pyti_error *err)
{
    static const char *const known[] = {"memory", "pids", "cpu", "disk", "output", "trace", NULL};
    l->memory_bytes = DEFAULT_MEMORY;
    l->pids = DEFAULT_PIDS;
    l->disk_bytes = DEFAULT_DISK;
    l->output_bytes = DEFAULT_OUTPUT;
    if (!cfg)
        return PYTI_OK;
    if (config_check_keys(cfg, "sandbox", known, err) != PYTI_OK ||
        size_setting(cfg, "memory", &l->memory_bytes, err) != PYTI_OK ||
        size_setting(cfg, "disk", &l->disk_bytes, err) != PYTI_OK ||
        size_setting(cfg, "output", &l->output_bytes, err) != PYTI_OK ||
        config_get_u64(cfg, "sandbox", "pids", &l->pids, err) != PYTI_OK ||
        config_get_double(cfg, "sandbox", "cpu", &l->cpu_s, err) != PYTI_OK)
        return PYTI_ERR_USAGE;
    return PYTI_OK;
}

const char *sbtask_core_binary(void)
{
    static char core[PATH_MAX];
    if (core[0])
        return core;
    const char *env = getenv("PYTI_CORE_BIN");
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0)
        exe[n] = '\0';
    if (env && *env)
        snprintf(core, sizeof core, "%s", env);
    else if (n > 0 && strcmp(path_basename(exe), "pyti-core") == 0)
        snprintf(core, sizeof core, "%s", exe);
    else if (access(PYTI_BUILD_ROOT "/pyti-core", X_OK) == 0)
        snprintf(core, sizeof core, "%s", PYTI_BUILD_ROOT "/pyti-core");
    else
        snprintf(core, sizeof core, "%s/pyti-core", PYTI_INSTALL_LIBEXECDIR);
    return core;
}

char *sbtask_host_path(const pyti_job *job, const char *inside)
{
    if (!inside || strstr(inside, "/../") || str_endswith(inside, "/.."))
        return NULL;
    static const struct {
        const char *prefix;
        size_t off; /* offset of the host dir in pyti_job */
    } maps[] = {
        {SB_WORK, offsetof(pyti_job, work_dir)},
        {SB_INPUT, offsetof(pyti_job, input_dir)},
    };
    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++) {
        size_t n = strlen(maps[i].prefix);
        if (strncmp(inside, maps[i].prefix, n) == 0 && (inside[n] == '/' || inside[n] == '\0')) {
            const char *host = *(char *const *)((const char *)job + maps[i].off);
            return xasprintf("%s%s", host, inside + n);
        }
    }
    return NULL;
}

json_t *sbtask_read_json(const pyti_task_ctx *ctx, const char *name, pyti_error *err)
{
    int dfd = open(ctx->out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        pyti_error_errno(err, PYTI_ERR_IO, errno, "opening %s", ctx->out_dir);
        return NULL;
    }
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    close(dfd);
    if (fd < 0) {
        pyti_error_errno(err, errno == ENOENT ? PYTI_ERR_NOTFOUND : PYTI_ERR_INPUT, errno,
                         "the helper's result %s", name);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)SBTASK_RESULT_MAX) {
        close(fd);
        pyti_error_set(err, PYTI_ERR_INPUT, "the helper's result %s is not a regular file of at "
                                            "most %u bytes", name, SBTASK_RESULT_MAX);
        return NULL;
    }
    pyti_buf b = PYTI_BUF_INIT;
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0 && b.len <= SBTASK_RESULT_MAX)
        buf_append(&b, chunk, (size_t)n);
    close(fd);
    json_error_t jerr;
    json_t *j = b.len <= SBTASK_RESULT_MAX ? json_loadb(buf_cstr(&b), b.len, 0, &jerr) : NULL;
    buf_free(&b);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        pyti_error_set(err, PYTI_ERR_INPUT, "the helper's result %s is not a JSON object", name);
        return NULL;
    }
    return j;
}

/* The tail of a capture (a file in a kept job's logs/, else a memfd) into
 * the task's log. */
static void log_capture(pyti_task_ctx *ctx, const char *label, const char *path, int mfd)
{
    int fd = path ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : mfd;
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        off_t start = st.st_size > (off_t)LOG_TAIL_BYTES ? st.st_size - (off_t)LOG_TAIL_BYTES : 0;
        char *data = xmalloc(LOG_TAIL_BYTES + 1);
        ssize_t n = pread(fd, data, LOG_TAIL_BYTES, start);
        if (n > 0) {
            task_log(ctx, "--- %s%s", label, start ? " (last 32 KiB)" : "");
            buf_append(&ctx->log, data, (size_t)n);
            if (data[n - 1] != '\n')
                buf_putc(&ctx->log, '\n');
        }
        free(data);
    }
    if (path)
        close(fd);
}

static char **build_env(const sbtask_opts *o, const pyti_strv *extra)
{
    static const char *const base[] = {
        "PATH=" SB_VENV "/bin:/usr/local/bin:/usr/bin:/bin",
        "HOME=/home/pyti",
        "USER=pyti",
        "LOGNAME=pyti",
        "LANG=C.UTF-8",
        "LC_ALL=C.UTF-8",
        "TMPDIR=/tmp",
        "PYTHONUNBUFFERED=1",
        "PYTHONNOUSERSITE=1",
        "PIP_NO_INDEX=1",
        "PIP_DISABLE_PIP_VERSION_CHECK=1",
        "PIP_NO_CACHE_DIR=1",
        "SOURCE_DATE_EPOCH=315532800",
        NULL,
    };
    pyti_strv env = PYTI_STRV_INIT;
    for (size_t i = 0; base[i]; i++)
        strv_push(&env, base[i]);
    for (size_t i = 0; extra && i < extra->len; i++)
        strv_push(&env, extra->items[i]);
    for (size_t i = 0; o->env && o->env[i]; i++)
        strv_push(&env, o->env[i]);
    return env.items; /* NULL-terminated; freed by free_env */
}

static void free_env(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

pyti_task_status sbtask_run(pyti_task_ctx *ctx, const sbtask_opts *o, int *exit_code)
{
    const pyti_job *job = ctx->job;
    pyti_error err;
    if (exit_code)
        *exit_code = -1;
    if (sbtask_check_isolation(&err) != PYTI_OK)
        return task_error(ctx, "%s", err.msg);

    pyti_sandbox_spec spec;
    sandbox_spec_init(&spec);
    if (limits_from_config(job->config, &spec.limits, &err) != PYTI_OK)
        return task_error(ctx, "%s", err.msg);
    spec.limits.timeout_s = o->timeout_s > 0 ? o->timeout_s : ctx->def->timeout_s;

    char *dist = path_join(job->work_dir, "dist");
    char *helpers = path_join(path_pyti_datadir(), "python");
    char *logs = path_join(job->job_dir, "logs");
    char *out_path = xasprintf("%s/%s.stdout", logs, ctx->def->name);
    char *err_path = xasprintf("%s/%s.stderr", logs, ctx->def->name);
    pyti_sandbox_mount mounts[7];
    size_t n = 0;
    mounts[n++] = (pyti_sandbox_mount){SANDBOX_MOUNT_RO_BIND, job->input_dir, SB_INPUT, 0};
    mounts[n++] = (pyti_sandbox_mount){SANDBOX_MOUNT_BIND, job->work_dir, SB_WORK, 0};
    if (path_is_dir(dist))
        mounts[n++] = (pyti_sandbox_mount){SANDBOX_MOUNT_RO_BIND, dist, SB_DIST, 0};
    mounts[n++] = (pyti_sandbox_mount){SANDBOX_MOUNT_BIND, ctx->out_dir, SB_OUT, 0};
    mounts[n++] = (pyti_sandbox_mount){SANDBOX_MOUNT_RO_BIND, helpers, SB_HELPERS "/python", 0};
    if (job->wheelhouse && path_is_dir(job->wheelhouse))
        mounts[n++] = (pyti_sandbox_mount){SANDBOX_MOUNT_RO_BIND, job->wheelhouse, SB_WHEELHOUSE, 0};
    const char *core = sbtask_core_binary();
    if (path_is_file(core))
        mounts[n++] = (pyti_sandbox_mount){SANDBOX_MOUNT_RO_BIND, core, SB_CORE, 0};
    /* Every run is traced (tracing.h: the decoy home and environment, the
     * behaviour policy) unless pyti.ini says [sandbox] trace = no; a
     * failure to set tracing up is an error, never a silent untraced run. */
    pyti_strv bait_env = PYTI_STRV_INIT;
    pyti_tracing *tracing = NULL;
    if (tracing_enabled(job) && !(tracing = tracing_begin(ctx, &spec, &bait_env, &err))) {
        free(dist);
        free(helpers);
        free(logs);
        free(out_path);
        free(err_path);
        return task_error(ctx, "behaviour tracing could not be set up: %s", err.msg);
    }
    char **env = build_env(o, &bait_env);
    strv_free(&bait_env);
    spec.argv = o->argv;
    spec.envp = env;
    spec.cwd = o->cwd ? o->cwd : SB_WORK;
    spec.mounts = mounts;
    spec.n_mounts = n;
    /* The output goes to files in <job>/logs/ only when the job directory
     * is kept; else to memory (the sandbox's output limit bounds it), read
     * back for the log's tail: two files per run were two new inodes, up
     * to ~1 ms each on a slow file system. */
    int out_mfd = -1, err_mfd = -1;
    bool to_files = job->keep;
    if (!to_files) {
        out_mfd = memfd_create("pyti-stdout", MFD_CLOEXEC);
        err_mfd = memfd_create("pyti-stderr", MFD_CLOEXEC);
        to_files = out_mfd < 0 || err_mfd < 0; /* then as in a kept job */
    }
    if (to_files) {
        spec.stdout_path = out_path;
        spec.stderr_path = err_path;
    } else {
        spec.stdout_tee_fd = out_mfd;
        spec.stderr_tee_fd = err_mfd;
    }
    /* The job's work and out dirs are pyti's own: hand them to the
     * sandbox's uid so package code can write there (and nowhere else). */
    spec.give_writable_dirs = true;

    pyti_task_status status;
    pyti_sandbox_result res;
    /* The runner leaves the out dir to the tasks that use it. */
    if (path_mkdirs(ctx->out_dir, 0755, &err) != PYTI_OK ||
        (to_files && path_mkdirs(logs, 0700, &err) != PYTI_OK)) {
        status = task_error(ctx, "%s", err.msg);
        goto out;
    }
    if (sandbox_run(&spec, &res, &err) != PYTI_OK) {
        status = task_error(ctx, "the sandbox could not run the task: %s", err.msg);
        sandbox_result_free(&res);
        goto out;
    }
    if (tracing)
        tracing_end(tracing, &res);
    json_object_set_new(ctx->data, "sandbox", sandbox_result_json(&res));
    json_t *r = json_object();
    json_object_set_new(r, "wall_s", json_real(res.wall_s));
    json_object_set_new(r, "cpu_s", json_real(res.user_s + res.sys_s));
    json_object_set_new(r, "peak_memory_bytes", json_integer((json_int_t)res.peak_memory_bytes));
    json_object_set_new(r, "disk_bytes", json_integer((json_int_t)res.disk_bytes));
    json_object_set_new(ctx->data, "resources", r);
    log_capture(ctx, "stdout", spec.stdout_path, out_mfd);
    log_capture(ctx, "stderr", spec.stderr_path, err_mfd);
    if (exit_code)
        *exit_code = res.exit_code;
    if (res.timed_out)
        status = task_timeout(ctx, "exceeded its timeout of %g s", spec.limits.timeout_s);
    else if (res.limit)
        status = task_fail(ctx, "hit the sandbox's %s limit: %s", res.limit, res.limit_detail);
    else if (res.signal)
        status = task_fail(ctx, "killed by signal %d (%s)", res.signal, strsignal(res.signal));
    else if (res.exit_code != 0)
        status = task_fail(ctx, "exited with status %d", res.exit_code);
    else
        status = PYTI_TASK_PASSED;
    sandbox_result_free(&res);
out:
    if (out_mfd >= 0)
        close(out_mfd);
    if (err_mfd >= 0)
        close(err_mfd);
    tracing_free(tracing);
    free_env(env);
    free(dist);
    free(helpers);
    free(logs);
    free(out_path);
    free(err_path);
    return status;
}

char *sbtask_inside_path(const pyti_job *job, const char *host)
{
    const struct {
        const char *dir;
        const char *inside;
    } maps[] = {{job->work_dir, SB_WORK}, {job->input_dir, SB_INPUT}};
    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++) {
        size_t n = strlen(maps[i].dir);
        if (strncmp(host, maps[i].dir, n) == 0 && (host[n] == '/' || host[n] == '\0'))
            return xasprintf("%s%s", maps[i].inside, host + n);
    }
    return NULL;
}

int sbtask_open_beneath(const pyti_job *job, const char *inside, pyti_error *err)
{
    const char *base = NULL, *rel = NULL;
    size_t nw = strlen(SB_WORK), ni = strlen(SB_INPUT);
    if (strncmp(inside, SB_WORK "/", nw + 1) == 0) {
        base = job->work_dir;
        rel = inside + nw + 1;
    } else if (strncmp(inside, SB_INPUT "/", ni + 1) == 0) {
        base = job->input_dir;
        rel = inside + ni + 1;
    } else {
        pyti_error_set(err, PYTI_ERR_INPUT, "%s is not under %s or %s", inside, SB_WORK, SB_INPUT);
        return -1;
    }
    int dfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        pyti_error_errno(err, PYTI_ERR_IO, errno, "opening %s", base);
        return -1;
    }
    struct open_how how = {
        .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    int fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof how);
    int e = errno;
    close(dfd);
    if (fd < 0) {
        pyti_error_errno(err, PYTI_ERR_INPUT, e, "opening %s without following links", inside);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        pyti_error_set(err, PYTI_ERR_INPUT, "%s is not a regular file", inside);
        return -1;
    }
    return fd;
}

pyti_task_status sbtask_helper(pyti_task_ctx *ctx, const char *helper, const char *const *args,
                               double timeout_s, json_t **result)
{
    *result = NULL;
    if (!ctx->job->python)
        return task_error(ctx, "no Python interpreter under /usr to run the task with");
    pyti_strv argv = PYTI_STRV_INIT;
    strv_push(&argv, ctx->job->python);
    strv_push(&argv, "-I");
    strv_push_owned(&argv, xasprintf(SB_HELPERS "/python/pyti_helper/%s.py", helper));
    for (size_t i = 0; args && args[i]; i++)
        strv_push(&argv, args[i]);
    strv_push(&argv, "--result");
    strv_push(&argv, SB_OUT "/helper.json");
    sbtask_opts o = {argv.items, NULL, NULL, timeout_s};
    pyti_task_status st = sbtask_run(ctx, &o, NULL);
    strv_free(&argv);
    pyti_error err;
    *result = sbtask_read_json(ctx, "helper.json", &err);
    if (!*result)
        task_log(ctx, "no usable helper result: %s", err.msg);
    return st;
}
