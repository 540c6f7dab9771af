/* archive.h — safe extraction of distribution archives (sdists: .tar.gz,
 * .tgz, .tar.bz2, .tar.xz, .zip; wheels: .whl) with libarchive.
 *
 * Extraction is all-or-nothing: an archive is rejected as a whole (clear
 * error, PYTI_ERR_INPUT or PYTI_ERR_LIMIT, nothing left in dest) if any
 * entry has an absolute path, a ".." component, a symlink or hardlink that
 * points outside dest, a device/fifo/socket type, setuid/setgid/sticky
 * bits, or if the archive breaks a limit (bombs). Nothing is ever written outside dest:
 * every path is created relative to an open directory descriptor with
 * O_NOFOLLOW on every component, so even a symlink planted by an earlier
 * entry cannot redirect a later one.
 *
 * The full rule set (names with control characters or invalid UTF-8,
 * backslashes, duplicates, type clashes, encrypted zip entries, which
 * formats and compressions are read, ...) and how each rule is tested is in
 * docs/archive-safety.md. Formats: tar (ustar, pax, GNU) and zip only;
 * compressions for tar: none, gzip, bzip2, xz, compress (.Z), at most one
 * layer; zip is read through its central directory, never compressed. */
#ifndef PYTI_ARCHIVE_H
#define PYTI_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct pyti_extract_limits {
    uint64_t max_total_size;   /* sum of unpacked entry sizes, bytes: counted
                                * as the data is produced, never taken from
                                * headers (data of entries that are skipped,
                                * such as a directory with a size, counts at
                                * its declared size since it is still
                                * decompressed) */
    uint64_t max_entry_size;   /* one entry, bytes; an entry declaring more
                                * is rejected before any data is read */
    uint64_t max_entries;      /* archive entries plus directories created as
                                * parents of entries: every inode made counts */
    double max_ratio;          /* unpacked / archive file size */
    uint64_t ratio_min_size;   /* ratio only checked once unpacked > this */
    unsigned max_depth;        /* path components */
    unsigned max_name_len;     /* one component, bytes */
    unsigned max_path_len;     /* whole path, bytes */
} pyti_extract_limits;

/* Defaults: 1 GiB total, 512 MiB per entry, 100000 entries, ratio 200 once
 * past 10 MiB, depth 64, names 255, paths 1024. Breaking any limit fails
 * with PYTI_ERR_LIMIT. This function can't fail. */
void extract_limits_default(pyti_extract_limits *limits);

/* What an extraction did. On failure the counts describe what was done
 * before the rejection (and then removed again). */
typedef struct pyti_extract_stats {
    uint64_t entries;         /* archive entries read */
    uint64_t files;
    uint64_t dirs;            /* directories created, listed or not */
    uint64_t symlinks;
    uint64_t hardlinks;
    uint64_t total_size;      /* bytes written (sparse holes included) */
    uint64_t archive_size;    /* bytes of the archive file */
    char format[64];          /* libarchive's format name, e.g. "ZIP 2.0 (deflation)" */
    char filter[32];          /* compression, e.g. "gzip", "none" */
} pyti_extract_stats;

/* Extracts archive_path into dest_dir (which must exist and be empty).
 * Files are created 0644 or 0755 (execute bit kept, other mode bits
 * dropped), directories 0755; ownership and timestamps from the archive are
 * not applied except mtime. On failure dest_dir is emptied again and err
 * names the archive, the entry and the rule it broke ("archive x.tar.gz:
 * entry 'pkg/../../etc/x': path escapes the target directory ('..'
 * component)"). stats may be NULL; limits NULL means the defaults.
 *
 * Returns PYTI_OK; PYTI_ERR_INPUT (a rule broken, damaged or unsupported
 * archive); PYTI_ERR_LIMIT (a limit); PYTI_ERR_NOTFOUND (archive_path or
 * dest_dir missing); PYTI_ERR_USAGE (dest_dir not empty: then nothing in it
 * is touched); PYTI_ERR_IO (the file system refused). Thread-safe: it only
 * changes the calling thread's locale (uselocale), and only while reading. */
pyti_status archive_extract(const char *archive_path, const char *dest_dir,
                            const pyti_extract_limits *limits, pyti_extract_stats *stats,
                            pyti_error *err);

/* Like archive_extract, reading the archive from memory (data, len bytes;
 * name is only used in messages, NULL gives "(memory)"). The ratio limit
 * uses len as the archive size. The caller keeps data. */
pyti_status archive_extract_memory(const void *data, size_t len, const char *name,
                                   const char *dest_dir, const pyti_extract_limits *limits,
                                   pyti_extract_stats *stats, pyti_error *err);

/* Reads one member (exact path inside the archive) into a new buffer of at
 * most max bytes, without extracting anything. *out is malloc'd and NUL-
 * terminated, *out_len its length (out_len may be NULL). Names compare
 * after normalisation ("./pkg//PKG-INFO" matches "pkg/PKG-INFO"); the
 * first matching entry is used (extraction rejects archives with
 * duplicates). The member must be a regular file, not a link.
 *
 * Returns PYTI_OK; PYTI_ERR_NOTFOUND if absent (or archive_path missing);
 * PYTI_ERR_LIMIT if the member is larger than max bytes (counted as read,
 * and also when its header says so) or if the scan passes the default
 * entry-count or total-size limits; PYTI_ERR_INPUT for a damaged or
 * unsupported archive or a member that is not a regular file;
 * PYTI_ERR_USAGE for an invalid member name. On error *out is NULL. */
pyti_status archive_read_member(const char *archive_path, const char *member, size_t max,
                                char **out, size_t *out_len, pyti_error *err);

#endif
