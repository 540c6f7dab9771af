/* jsonwrite.h — a streaming JSON writer: appends JSON text to a buffer
 * without building a jansson tree first, for answers large enough that
 * the tree (an allocation per value, a sort per object, a copy of the
 * dump) costs more than the data behind them (the API's job lists).
 *
 * Its text is byte for byte what json_dumps(value, JSON_INDENT(indent) |
 * JSON_SORT_KEYS) gives for the same value, provided the caller writes
 * each object's keys in strcmp order (jw_json sorts them itself): the
 * API promises sorted keys (docs/api.md), and tests compare the two.
 * Strings that are not valid UTF-8 are repaired as json_text() does.
 * Nothing here can fail (allocation failure aborts, see xalloc.h). */
#ifndef PYTI_JSONWRITE_H
#define PYTI_JSONWRITE_H

#include <jansson.h>
#include <stdbool.h>

#include "common/buf.h"

/* Containers nest at most this deep (deeper input is written as null). */
#define JW_MAX_DEPTH 64

typedef struct json_writer {
    pyti_buf *out;
    int indent;                 /* spaces per level; 1..31 */
    int depth;                  /* open containers */
    bool after_key;             /* a key was written, its value is next */
    unsigned long long nonempty; /* bit d: the container at depth d has an item */
} json_writer;

/* Starts writing into out (appending) with JSON_INDENT(indent). */
void jw_init(json_writer *w, pyti_buf *out, int indent);

void jw_object_open(json_writer *w);
void jw_object_close(json_writer *w);
void jw_array_open(json_writer *w);
void jw_array_close(json_writer *w);
/* The key of the next value, inside an object. */
void jw_key(json_writer *w, const char *key);
/* jw_key for a key of len bytes known to need no escaping (printable
 * ASCII without '"' or '\\'; not checked: the caller's literals): a
 * row's fixed keys, written thousands of times per answer. */
void jw_key_plain(json_writer *w, const char *key, size_t len);

/* A string; NULL writes null. */
void jw_string(json_writer *w, const char *s);
void jw_int(json_writer *w, long long v);
/* An integer given as decimal text (a database cell): what
 * jw_int(strtoll(s, NULL, 10)) writes, copied as is when s is already
 * that spelling. s must not be NULL. */
void jw_int_text(json_writer *w, const char *s);
/* As jansson writes a real: "%.17g", with ".0" when that looks like an
 * integer. Non-finite values (which jansson refuses) are written as null. */
void jw_real(json_writer *w, double v);
void jw_null(json_writer *w);
void jw_bool(json_writer *w, bool v);
/* A value whose text this writer wrote before at the same depth (what
 * the buffer grew by while writing it after its key or as an array
 * item), copied as is: for a caller that writes one value many times. */
void jw_raw_value(json_writer *w, const char *text, size_t len);
/* Any jansson value (NULL writes null), keys sorted. */
void jw_json(json_writer *w, const json_t *v);

#endif
