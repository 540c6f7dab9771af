/* pylex.h — finding the string literals of Python source without running
 * or fully parsing it: enough of Python's lexical rules (comments, string
 * prefixes, single and triple quotes, backslash escapes) to hand each
 * literal's body to a callback. Used by the entropy and IPv4 checks so that
 * comments and code do not count, only data.
 *
 * The lexer never fails: hostile or non-Python input only gives odd spans.
 * Work is linear in the input. */
#ifndef PYTI_SCAN_PYLEX_H
#define PYTI_SCAN_PYLEX_H

#include <stdbool.h>
#include <stddef.h>

/* Called once per literal with its body (between the quotes, escapes not
 * interpreted) and the offset of the body in the buffer. Return false to
 * stop lexing. */
typedef bool (*pylex_literal_fn)(const char *body, size_t len, size_t offset, void *arg);

/* Calls fn for every string literal of buf[0..len) in order. An
 * unterminated literal ends at the end of its line (single quotes) or of
 * the buffer (triple quotes). */
void pylex_strings(const char *buf, size_t len, pylex_literal_fn fn, void *arg);

#endif
