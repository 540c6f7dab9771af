/* jsonutil.h — jansson helpers for untrusted text and files.
 *
 * jansson refuses strings that are not valid UTF-8 (json_string returns
 * NULL); package data often is not. json_text() never fails: invalid bytes
 * become U+FFFD, so a hostile file name cannot drop a whole report. */
#ifndef PYTI_JSONUTIL_H
#define PYTI_JSONUTIL_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

/* A JSON string from s (NULL gives json null), repairing invalid UTF-8. */
json_t *json_text(const char *s);
/* The same for s[0..len), which may contain NUL bytes (kept as \u0000). */
json_t *json_textn(const char *s, size_t len);
/* json_object_set_new(obj, key, json_text(s)). */
void json_set_text(json_t *obj, const char *key, const char *s);
/* Value of obj[key] if it is a string, else NULL. */
const char *json_get_str(const json_t *obj, const char *key);

/* Serialises with sorted keys and 2-space indent, newline-terminated, into
 * a new string. */
char *json_dump_pretty(const json_t *value);
/* Writes value to path atomically (see path_write_file_atomic). */
pyti_status json_write_file(const json_t *value, const char *path, pyti_error *err);
/* Like json_write_file without the fsync (path_write_file_scratch): still
 * never a partial file under path, but a crash right after may leave the
 * old one. For outputs that can be made again (a command's --json report;
 * the durable copy of a job's report is the store's), where an fsync cost
 * ~7 ms, ~0.5% of a small job, on a slow disk. */
pyti_status json_write_file_unsynced(const json_t *value, const char *path, pyti_error *err);
/* Parses a JSON file of at most max bytes; NULL with err set on failure,
 * naming the file, line and column. */
json_t *json_read_file(const char *path, size_t max, pyti_error *err);

#endif
