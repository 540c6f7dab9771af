/* str.h — small string helpers used across pyti. All are pure and cannot fail. */
#ifndef PYTI_STR_H
#define PYTI_STR_H

#include <stdbool.h>
#include <stddef.h>

bool str_startswith(const char *s, const char *prefix);
bool str_endswith(const char *s, const char *suffix);
/* ASCII case-insensitive equality. */
bool str_eq_nocase(const char *a, const char *b);
/* Removes leading and trailing ASCII whitespace in place; returns s. */
char *str_trim(char *s);
/* Lowercases ASCII letters in place; returns s. */
char *str_lower(char *s);
/* True if s is NULL or only whitespace. */
bool str_blank(const char *s);
/* True if every byte of s[0..len) is valid UTF-8 (no overlongs, no
 * surrogates). */
bool str_valid_utf8(const char *s, size_t len);
/* Copies at most max bytes of s into a new string for display, replacing
 * control characters with '?' and appending "..." if cut. Never NULL. */
char *str_excerpt(const char *s, size_t len, size_t max);

#endif
