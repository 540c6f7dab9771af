/* honeytoken.h — decoy secrets: a realistic HOME (SSH keys, cloud, index,
 * git, docker and kube credentials, browser profiles, a Discord token
 * store, crypto wallets) and environment (AWS_*, GITHUB_TOKEN, NPM_TOKEN,
 * TWINE_PASSWORD), with values made fresh for every job. Package code
 * has no business touching any of them: a read of a bait file is an event
 * of its own (seen by the tracer, and again by the file's access time
 * should the tracer have been evaded), and a bait value found in what a
 * process sends or passes to a program is a use.
 *
 * The decoy home lives in <job>/home (bound at /home/pyti in every
 * sandboxed task of the job); the list of baits and values in
 * <job>/honeytokens.json, outside every mount. The runner starts making
 * both while the static tasks run (honeytokens_prepare_async); the first
 * sandboxed task waits for that or makes them itself, later tasks load
 * them. docs/tracing.md lists every bait. */
#ifndef PYTI_HONEYTOKEN_H
#define PYTI_HONEYTOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "common/err.h"
#include "common/strv.h"
#include "exec/job.h"

#define HONEYTOKEN_HOME "/home/pyti"

typedef struct pyti_bait {
    char *path;      /* inside path: /home/pyti/.ssh/id_rsa */
    char *category;  /* ssh-key, known-hosts, cloud, cloud-config, pypi, netrc, git, docker,
                      * kube, browser, discord, wallet */
    char *label;     /* "SSH private key" */
} pyti_bait;

typedef struct pyti_bait_value {
    char *value;     /* as seeded */
    char *label;     /* "AWS secret access key (AWS_SECRET_ACCESS_KEY, ~/.aws/credentials)" */
    char *category;
    pyti_strv forms; /* lower-cased forms searched: the value, base64 at each alignment */
} pyti_bait_value;

typedef struct pyti_honeytokens {
    char *home;      /* host directory of the decoy home */
    pyti_bait *files;
    size_t n_files;
    pyti_bait_value *values;
    size_t n_values;
    pyti_strv env;   /* NAME=VALUE entries for the sandbox's environment */
    struct timespec atime; /* access time every bait file is reset to */
} pyti_honeytokens;

/* Creates the job's decoy home and baits (first call in a job) or loads
 * them (later calls). Calls from several processes are serialised by a
 * lock on the job directory. PYTI_ERR_IO naming the file on failure. */
pyti_status honeytokens_prepare(const pyti_job *job, pyti_honeytokens *h, pyti_error *err);

/* Starts honeytokens_prepare in a forked child, so that the decoy home
 * (~45 files and directories: 10-30 ms on a slow file system) is made
 * while the job's static tasks run rather than in front of its first
 * sandboxed task. Returns the child's pid, or -1 if it cannot fork (the
 * first traced run then seeds, as it would anyway). Reap it with
 * honeytokens_prepare_wait. Whatever the child does, later calls of
 * honeytokens_prepare are correct: they wait for it (the lock), and
 * redo a home it left without a manifest. */
pid_t honeytokens_prepare_async(const pyti_job *job);

/* Waits for a child of honeytokens_prepare_async (pid <= 0: nothing). */
void honeytokens_prepare_wait(pid_t pid);

/* Seeds dir (an empty directory) with fresh baits; fills h (home = dir).
 * Used by honeytokens_prepare and by tests. */
pyti_status honeytokens_seed(const char *dir, pyti_honeytokens *h, pyti_error *err);

void honeytokens_free(pyti_honeytokens *h);

/* The bait at an inside path, or NULL. */
const pyti_bait *honeytokens_file(const pyti_honeytokens *h, const char *path);

/* The first bait value found in data (case-insensitive; raw or base64 at
 * any alignment), or NULL. */
const pyti_bait_value *honeytokens_find_value(const pyti_honeytokens *h, const void *data,
                                              size_t len);

/* Appends to read (inside paths) the bait files whose access time moved
 * since they were seeded or last checked, and resets it. This sees reads
 * the tracer could have missed (a path changed after it was read). */
void honeytokens_check_reads(const pyti_honeytokens *h, pyti_strv *read);

#endif
