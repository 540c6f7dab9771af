/* job.h — one job: a distribution file to test, the directories the job
 * works in, and the settings that bound it.
 *
 * Layout of a job directory (created by job_prepare):
 *   <job_dir>/input/<filename>   the distribution (a private copy)
 *   <job_dir>/work/              where tasks unpack and build
 *   <job_dir>/out/<task>/        each task's own files (a sandboxed task's
 *                                /job/out); in a kept job (keep) also its
 *                                result.json and log.txt */
#ifndef PYTI_JOB_H
#define PYTI_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/err.h"
#include "common/strv.h"
#include "pkg/archive.h"

typedef struct pyti_job {
    char id[33];            /* random 128-bit hex; the report's id */
    char *dist_path;        /* the distribution inside input/ */
    char *dist_filename;    /* its base name */
    char sha256[65];
    uint64_t size;
    char *job_dir;
    char *input_dir;
    char *work_dir;
    char *out_dir;
    pyti_extract_limits extract_limits;
    char *python;           /* target interpreter (real path under /usr), or NULL */
    char *wheelhouse;       /* the local wheelhouse (see wheelhouse.h) */
    pyti_strv index_urls;   /* where dependencies are staged from: the main
                               index first ([index] url/extra_urls, or
                               job_set_indexes; default PyPI) */
    bool index_offline;     /* staging reads the download cache only */
    const pyti_config *config; /* borrowed; may be NULL */
    bool keep;              /* the directory outlives the job (pyti test
                               --keep): the runner writes each task's
                               result.json and log.txt there too */
} pyti_job;

/* Creates a fresh job directory under parent (NULL: $TMPDIR or /tmp), copies
 * the distribution into input/ and hashes it. Fails with PYTI_ERR_NOTFOUND
 * if target is missing, PYTI_ERR_USAGE if it is not a regular file,
 * PYTI_ERR_USAGE for a bad limit in config. On failure nothing is left
 * behind. */
pyti_status job_prepare(pyti_job *job, const char *target, const char *parent,
                        const pyti_config *config, pyti_error *err);
/* Chooses the target interpreter: spec is NULL (the default python3), a
 * version ("3.11") or a path; see python_find. */
pyti_status job_set_python(pyti_job *job, const char *spec, pyti_error *err);

/* Replaces the job's indexes: url (NULL: [index] url, else PyPI) and the
 * extra ones (NULL or empty: [index] extra_urls), as pip's --index-url and
 * --extra-index-url. PYTI_ERR_USAGE for a bad [index] setting. */
pyti_status job_set_indexes(pyti_job *job, const char *url, const pyti_strv *extra,
                            pyti_error *err);

/* Removes the job directory (unless keep) and frees the job's strings. */
void job_cleanup(pyti_job *job, bool keep);

/* Like job_cleanup, but the directory is removed by a detached process
 * (a grandchild with no descriptors of the caller's), so the caller does
 * not wait for the file system: removing a small job's ~160 entries took
 * 0.1-0.2 s on an ext4 mounted with discard, 3-5% of the job. For the end
 * of a job whose report is out; the directory disappears shortly after
 * the call returns. Removes it in the caller if it cannot fork. */
void job_cleanup_detached(pyti_job *job, bool keep);

/* Copies the file from into a new file to (created exclusively, never
 * through a link, mode 0644). On failure err names the file. */
pyti_status job_copy_file(const char *from, const char *to, pyti_error *err);

/* Reads the [limits] section of config into limits (defaults for what is
 * not set). */
pyti_status job_limits_from_config(const pyti_config *config, pyti_extract_limits *limits,
                                   pyti_error *err);

#endif
