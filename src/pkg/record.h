/* record.h — the CSV of wheel RECORD files (PEP 376 / the "Recording
 * installed projects" spec): reading rows exactly as Python's csv module
 * does, and writing rows quoted as csv.writer does. */
#ifndef PYTI_RECORD_H
#define PYTI_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

typedef struct pyti_record_row {
    char *f[3];      /* path, hash, size (NULL if the row has fewer fields) */
    unsigned nf;     /* number of fields in the row */
    unsigned line;   /* line where the row starts */
    bool bad;        /* NUL byte or unterminated quote */
    const char *why; /* static text saying why it is bad */
} pyti_record_row;

typedef struct pyti_record_rows {
    pyti_record_row *items;
    size_t len, cap;
    bool truncated; /* more than max_rows rows: the rest were dropped */
} pyti_record_rows;

/* Parses s[0..len) into rows (appended to a zero-initialised rows). Blank
 * lines yield no row; rows beyond max_rows (0 = no limit) set truncated.
 * Cannot fail: malformed rows are marked bad. */
void record_parse(const char *s, size_t len, size_t max_rows, pyti_record_rows *rows);
void record_rows_free(pyti_record_rows *rows);

/* Appends one field, quoted only if it needs to be. */
void record_append_field(pyti_buf *out, const char *field);
/* Appends "path,hash,size\n" (hash/size may be NULL for empty fields). */
void record_append_row(pyti_buf *out, const char *path, const char *hash, const char *size);

#endif
