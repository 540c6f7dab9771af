/* job.c — creating and removing a job's directories (see job.h). */
#include "exec/job.h"
#include "exec/python.h"
#include "exec/wheelhouse.h"
#include "index/index.h"
#include "common/hash.h"
#include "common/path.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void new_id(char out[33])
{
    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        /* getrandom cannot fail for 16 bytes once the pool is ready; fall
         * back to something unique enough rather than abort. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        memcpy(raw, &ts, sizeof ts < sizeof raw ? sizeof ts : sizeof raw);
        pid_t pid = getpid();
        memcpy(raw + 12, &pid, 4);
    }
    char *hex = hash_hex(raw, sizeof raw);
    memcpy(out, hex, 33);
    free(hex);
}

pyti_status job_copy_file(const char *from, const char *to, pyti_error *err)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return pyti_error_errno(err, PYTI_ERR_IO, errno, "opening %s", from);
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (out < 0) {
        int e = errno;
        close(in);
        return pyti_error_errno(err, PYTI_ERR_IO, e, "creating %s", to);
    }
    pyti_status rc = PYTI_OK;
    for (;;) {
        ssize_t n = sendfile(out, in, NULL, 1 << 30);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "copying %s to %s", from, to);
            break;
        }
        if (n == 0)
            break;
    }
    close(in);
    if (close(out) != 0 && rc == PYTI_OK)
        rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "writing %s", to);
    return rc;
}

pyti_status job_limits_from_config(const pyti_config *config, pyti_extract_limits *l,
                                   pyti_error *err)
{
    static const char *const known[] = {
        "extract_max_total_size", "extract_max_entry_size", "extract_max_entries",
        "extract_max_ratio", "extract_ratio_min_size", "extract_max_depth",
        "extract_max_name_len", "extract_max_path_len", NULL};
    extract_limits_default(l);
    if (!config)
        return PYTI_OK;
    if (config_check_keys(config, "limits", known, err) != PYTI_OK)
        return PYTI_ERR_USAGE;
    uint64_t depth = l->max_depth, name = l->max_name_len, path = l->max_path_len;
    if (config_get_u64(config, "limits", "extract_max_total_size", &l->max_total_size, err) ||
        config_get_u64(config, "limits", "extract_max_entry_size", &l->max_entry_size, err) ||
        config_get_u64(config, "limits", "extract_max_entries", &l->max_entries, err) ||
        config_get_double(config, "limits", "extract_max_ratio", &l->max_ratio, err) ||
        config_get_u64(config, "limits", "extract_ratio_min_size", &l->ratio_min_size, err) ||
        config_get_u64(config, "limits", "extract_max_depth", &depth, err) ||
        config_get_u64(config, "limits", "extract_max_name_len", &name, err) ||
        config_get_u64(config, "limits", "extract_max_path_len", &path, err))
        return PYTI_ERR_USAGE;
    if (depth > 4096 || name > 4096 || path > 65536)
        return pyti_error_set(err, PYTI_ERR_USAGE,
                              "[limits] extract_max_depth/name_len/path_len out of range");
    l->max_depth = (unsigned)depth;
    l->max_name_len = (unsigned)name;
    l->max_path_len = (unsigned)path;
    return PYTI_OK;
}

pyti_status job_prepare(pyti_job *job, const char *target, const char *parent,
                        const pyti_config *config, pyti_error *err)
{
    memset(job, 0, sizeof *job);
    job->config = config;
    struct stat st;
    if (stat(target, &st) != 0)
        return pyti_error_errno(err, errno == ENOENT ? PYTI_ERR_NOTFOUND : PYTI_ERR_IO, errno,
                                "%s", target);
    if (!S_ISREG(st.st_mode))
        return pyti_error_set(err, PYTI_ERR_USAGE, "%s is not a regular file", target);
    if (job_limits_from_config(config, &job->extract_limits, err) != PYTI_OK)
        return PYTI_ERR_USAGE;
    new_id(job->id);
    job->job_dir = path_mkdtemp(parent, "pyti-job-", err);
    if (!job->job_dir)
        return PYTI_ERR_IO;
    job->input_dir = path_join(job->job_dir, "input");
    job->work_dir = path_join(job->job_dir, "work");
    job->out_dir = path_join(job->job_dir, "out");
    job->dist_filename = xstrdup(path_basename(target));
    job->dist_path = path_join(job->input_dir, job->dist_filename);
    pyti_status rc;
    if ((rc = path_mkdirs(job->input_dir, 0755, err)) != PYTI_OK ||
        (rc = path_mkdirs(job->work_dir, 0755, err)) != PYTI_OK ||
        (rc = path_mkdirs(job->out_dir, 0755, err)) != PYTI_OK ||
        (rc = job_copy_file(target, job->dist_path, err)) != PYTI_OK) {
        job_cleanup(job, false);
        return rc;
    }
    unsigned long long size = 0;
    if ((rc = hash_sha256_file(job->dist_path, job->sha256, &size, err)) != PYTI_OK) {
        job_cleanup(job, false);
        return rc;
    }
    job->size = size;
    job->python = python_find(NULL, NULL); /* NULL if the host has none */
    const char *wh = config_get(config, "jobs", "wheelhouse");
    job->wheelhouse = wh ? xstrdup(wh) : wheelhouse_default_dir();
    if ((rc = job_set_indexes(job, NULL, NULL, err)) != PYTI_OK) {
        job_cleanup(job, false);
        return rc;
    }
    return PYTI_OK;
}

pyti_status job_set_indexes(pyti_job *job, const char *url, const pyti_strv *extra,
                            pyti_error *err)
{
    pyti_strv urls = PYTI_STRV_INIT;
    if (index_urls_from_config(job->config, url, extra, &urls, err) != PYTI_OK) {
        strv_free(&urls);
        return PYTI_ERR_USAGE;
    }
    strv_free(&job->index_urls);
    job->index_urls = urls;
    return PYTI_OK;
}

pyti_status job_set_python(pyti_job *job, const char *spec, pyti_error *err)
{
    char *p = python_find(spec, err);
    if (!p)
        return PYTI_ERR_USAGE;
    free(job->python);
    job->python = p;
    return PYTI_OK;
}

/* Frees the job's strings (the directory is the caller's business). */
static void job_free(pyti_job *job)
{
    free(job->job_dir);
    free(job->input_dir);
    free(job->work_dir);
    free(job->out_dir);
    free(job->dist_filename);
    free(job->dist_path);
    free(job->python);
    free(job->wheelhouse);
    strv_free(&job->index_urls);
    job->python = job->wheelhouse = NULL;
    job->job_dir = job->input_dir = job->work_dir = job->out_dir = NULL;
    job->dist_filename = job->dist_path = NULL;
}

void job_cleanup(pyti_job *job, bool keep)
{
    if (job->job_dir && !keep)
        path_rmtree(job->job_dir, NULL);
    job_free(job);
}

/* In the grandchild: nothing of the caller's (its pipes above all: a
 * caller reading pyti's output to EOF must not wait for the removal). */
__attribute__((noreturn)) static void remove_detached(const char *dir)
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    syscall(SYS_close_range, 3, ~0U, 0);
    path_rmtree(dir, NULL);
    _exit(0);
}

void job_cleanup_detached(pyti_job *job, bool keep)
{
    if (!job->job_dir || keep) {
        job_free(job);
        return;
    }
    /* Double fork: the grandchild belongs to init (or the nearest
     * subreaper), so no caller ever has to reap it. */
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        if (fork() == 0)
            remove_detached(job->job_dir);
        _exit(0);
    }
    if (pid < 0) {
        job_cleanup(job, false); /* cannot fork: remove it here */
        return;
    }
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    job_free(job);
}
