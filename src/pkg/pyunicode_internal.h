/* pyunicode_internal.h — the handful of Python 3.11 str/re Unicode rules
 * that packaging's parsers depend on (whitespace for \s and str.strip(),
 * word characters for \b, decimal digits for \d, str.lower()), on UTF-8
 * text. Private to src/pkg. The tables come from
 * tests/crosscheck/gen_pyunicode.py. */
#ifndef PYTI_PYUNICODE_INTERNAL_H
#define PYTI_PYUNICODE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Decodes the code point at s[*i] (s has n bytes) and advances *i past it.
 * Invalid or truncated UTF-8 yields -1 and advances by one byte. */
int32_t pyu_decode(const char *s, size_t n, size_t *i);
/* The code point that ends just before byte offset i (-1 at the start or
 * if the bytes there are not valid UTF-8). */
int32_t pyu_prev(const char *s, size_t i);

bool pyu_isspace(int32_t cp);   /* re \s == str.isspace() */
bool pyu_isword(int32_t cp);    /* re \w for str patterns */
bool pyu_isdigit(int32_t cp);   /* re \d for str patterns (category Nd) */
/* True if NFKC maps cp to something containing '/', '?', '#', '@' or ':'. */
bool pyu_nfkc_delim(int32_t cp);

/* Byte offset of the first non-\s code point at or after i. */
size_t pyu_skip_space(const char *s, size_t n, size_t i);
/* The end offset of s[start..end) with trailing \s removed. */
size_t pyu_rstrip_end(const char *s, size_t start, size_t end);

/* Appends str.lower() of s[0..n) to out (final sigma included). Bytes that
 * are not valid UTF-8 are copied unchanged. */
void pyu_lower(pyti_buf *out, const char *s, size_t n);
/* 1-based column (in code points) of byte offset off, for messages. */
size_t pyu_column(const char *s, size_t off);
/* True if the code point at i is \b-adjacent: word(prev) != word(next). */
bool pyu_word_boundary(const char *s, size_t n, size_t i);

#endif
