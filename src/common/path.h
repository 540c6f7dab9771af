/* path.h — file-system helpers: joining, creating, removing, reading and
 * atomically writing files, and the XDG base directories.
 *
 * Every function that touches the file system reports failures through
 * pyti_error with the path it was working on. */
#ifndef PYTI_PATH_H
#define PYTI_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/err.h"

/* "a" + "/" + "b" as a new string (no doubled slash). Never NULL. */
char *path_join(const char *a, const char *b);
/* The last component of path (pointer into path; "" if path ends in '/'). */
const char *path_basename(const char *path);
/* The directory part of path as a new string ("." if there is none). */
char *path_dirname(const char *path);
bool path_exists(const char *path);
bool path_is_dir(const char *path);
bool path_is_file(const char *path);

/* mkdir -p. Existing directories are fine. */
pyti_status path_mkdirs(const char *path, mode_t mode, pyti_error *err);
/* rm -rf that never follows symlinks (unlinks them instead) and stays on
 * the tree it was given. A missing path is not an error. */
pyti_status path_rmtree(const char *path, pyti_error *err);
/* Creates a fresh private directory "<parent>/<prefix>XXXXXX"; returns the
 * malloc'd path or NULL. parent NULL means $TMPDIR or /tmp. */
char *path_mkdtemp(const char *parent, const char *prefix, pyti_error *err);

/* Reads a whole regular file into out (appending). Fails with
 * PYTI_ERR_LIMIT if it is larger than max bytes (0 = no limit). */
pyti_status path_read_file(const char *path, size_t max, pyti_buf *out, pyti_error *err);
/* Writes data to path atomically (temporary file in the same directory,
 * fsync, rename). On failure path is unchanged. */
pyti_status path_write_file_atomic(const char *path, const void *data, size_t len,
                                   pyti_error *err);
/* Like path_write_file_atomic without the fsync: for scratch files that
 * need not survive a crash (a job's task results, removed with the job),
 * where an fsync per file costs more than the task itself on slow disks. */
pyti_status path_write_file_scratch(const char *path, const void *data, size_t len,
                                    pyti_error *err);

/* $XDG_DATA_HOME or ~/.local/share, as a new string. */
char *path_xdg_data_home(void);
/* $XDG_CONFIG_HOME or ~/.config, as a new string. */
char *path_xdg_config_home(void);
/* $XDG_CACHE_HOME or ~/.cache, as a new string. */
char *path_xdg_cache_home(void);

/* Where pyti's shipped data (recipes/, data/) lives: $PYTI_DATA_DIR if set,
 * the source tree when running from the build tree, else the install
 * datadir. Returned string is static. */
const char *path_pyti_datadir(void);

#endif
