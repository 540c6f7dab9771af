/* scanner.h — the static scan: walking an unpacked distribution without
 * following symlinks, reading each text file once (bounded), and applying
 * the compiled rules (rules.h) to it. One finding per rule per file, with
 * the first hit's file:line, the matched excerpt and the number of hits.
 *
 * Nothing here runs package code. Work per file is bounded: files larger
 * than max_file_size are skipped (and reported), binaries (a NUL byte in
 * the first 8 KiB) are skipped, every PCRE2 match runs under a match limit
 * and a hit count limit per rule, and hitting the match limit is itself a
 * finding (scan.match-limit) rather than a silent miss. */
#ifndef PYTI_SCAN_SCANNER_H
#define PYTI_SCAN_SCANNER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/finding.h"
#include "scan/rules.h"

typedef struct pyti_scan_limits {
    uint64_t max_file_size;  /* larger files are not read (default 10 MiB) */
    uint64_t max_files;      /* regular files looked at (default 1,000,000) */
    unsigned max_depth;      /* directory nesting (default 64) */
    uint32_t match_limit;    /* PCRE2 match limit per search (default 20,000,000) */
    unsigned max_hits;       /* hits counted per rule per file (default 10,000) */
    unsigned max_findings;   /* rule findings reported per scanner (default 1,000);
                                past it, files hit are only counted */
} pyti_scan_limits;

typedef struct pyti_scan_stats {
    uint64_t files;          /* regular files seen */
    uint64_t scanned;        /* text files the rules ran on */
    uint64_t bytes;          /* bytes of those */
    uint64_t binary;         /* skipped as binary */
    uint64_t too_large;      /* skipped as larger than max_file_size */
    uint64_t unreadable;     /* could not be opened or read */
    uint64_t symlinks;       /* never followed */
    uint64_t other;          /* fifos, sockets, devices: never opened */
    uint64_t match_limit;    /* searches stopped by the match limit */
    uint64_t findings;       /* rule findings reported */
    uint64_t findings_dropped; /* rule findings past max_findings, not reported */
    bool incomplete;         /* max_files or max_depth was reached */
} pyti_scan_stats;

typedef struct pyti_scanner pyti_scanner;

/* Fills limits with the defaults above. */
void scan_limits_default(pyti_scan_limits *limits);

/* A scanner applying rs (borrowed: it must outlive the scanner) with the
 * given limits (NULL: defaults). Cannot fail. */
pyti_scanner *scanner_new(const pyti_scan_rules *rs, const pyti_scan_limits *limits);
void scanner_free(pyti_scanner *s);

/* Applies every rule whose `files` match rel to data[0..len) as if it were
 * the file rel, appending findings to out. data need not be text nor
 * NUL-terminated; binaries are not skipped here (the walk does that). */
void scanner_scan_buffer(pyti_scanner *s, const char *rel, const char *data, size_t len,
                         pyti_findings *out);

/* Walks root (a directory; never followed if it is a symlink) in sorted
 * order, scanning each regular text file and appending findings to out;
 * paths in findings are relative to root. Files over the size limit,
 * depth or file-count limits give findings (scan.file-too-large,
 * scan.incomplete). Fails only if root cannot be opened (PYTI_ERR_IO). */
pyti_status scanner_scan_tree(pyti_scanner *s, const char *root, pyti_findings *out,
                              pyti_error *err);

/* Adds scan.findings-truncated to out if findings were dropped past
 * max_findings (call once, after the last scan). */
void scanner_finish(pyti_scanner *s, pyti_findings *out);

/* Counts so far. */
const pyti_scan_stats *scanner_stats(const pyti_scanner *s);
/* {files, scanned, bytes, binary, too_large, unreadable, symlinks, other,
 *  match_limit, findings, findings_dropped, incomplete, rules, jit,
 *  hits: {rule id: files hit}} as a
 * new JSON object. */
json_t *scanner_stats_json(const pyti_scanner *s);

#endif
