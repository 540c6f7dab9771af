/* archive.h — safe extraction of distribution archives (sdists: .tar.gz,
 * .tgz, .tar.bz2, .tar.xz, .zip; wheels: .whl) with libarchive.
 *
 * Extraction is all-or-nothing: an archive is rejected as a whole (clear
 * error, PYTI_ERR_INPUT or PYTI_ERR_LIMIT, nothing left in dest) if any
 * entry has an absolute path, a ".." component, a symlink or hardlink that
 * points outside dest, a device/fifo/socket type, setuid/setgid bits, or if
 * the archive breaks a limit (bombs). Nothing is ever written outside dest:
 * every path is created relative to an open directory descriptor with
 * O_NOFOLLOW on every component, so even a symlink planted by an earlier
 * entry cannot redirect a later one. */
#ifndef PYTI_ARCHIVE_H
#define PYTI_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct pyti_extract_limits {
    uint64_t max_total_size;   /* sum of unpacked entry sizes, bytes */
    uint64_t max_entry_size;   /* one entry, bytes */
    uint64_t max_entries;
    double max_ratio;          /* unpacked / archive file size */
    uint64_t ratio_min_size;   /* ratio only checked once unpacked > this */
    unsigned max_depth;        /* path components */
    unsigned max_name_len;     /* one component, bytes */
    unsigned max_path_len;     /* whole path, bytes */
} pyti_extract_limits;

/* Defaults: 1 GiB total, 512 MiB per entry, 100000 entries, ratio 200 once
 * past 10 MiB, depth 64, names 255, paths 1024. */
void extract_limits_default(pyti_extract_limits *limits);

typedef struct pyti_extract_stats {
    uint64_t entries;
    uint64_t files;
    uint64_t dirs;
    uint64_t symlinks;
    uint64_t hardlinks;
    uint64_t total_size;      /* unpacked bytes */
    uint64_t archive_size;    /* bytes of the archive file */
    char format[64];          /* libarchive's format name, e.g. "ZIP 2.0 (deflation)" */
    char filter[32];          /* compression, e.g. "gzip", "none" */
} pyti_extract_stats;

/* Extracts archive_path into dest_dir (which must exist and be empty).
 * Files are created 0644 or 0755 (execute bit kept, other mode bits
 * dropped), directories 0755; ownership and timestamps from the archive are
 * not applied except mtime. On failure dest_dir is emptied again and err
 * names the archive, the entry and the rule it broke. stats may be NULL. */
pyti_status archive_extract(const char *archive_path, const char *dest_dir,
                            const pyti_extract_limits *limits, pyti_extract_stats *stats,
                            pyti_error *err);

/* Reads one member (exact path inside the archive) into a new buffer of at
 * most max bytes, without extracting anything. *out is malloc'd and NUL-
 * terminated, *out_len its length. PYTI_ERR_NOTFOUND if absent. */
pyti_status archive_read_member(const char *archive_path, const char *member, size_t max,
                                char **out, size_t *out_len, pyti_error *err);

#endif
