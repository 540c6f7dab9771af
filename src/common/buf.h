/* buf.h — a growable byte buffer, always NUL-terminated.
 *
 * A zero-initialised pyti_buf is an empty buffer ready for use. data is
 * NULL until the first append; buf_cstr() always returns a valid string.
 * Appends cannot fail (allocation failure aborts, see xalloc.h). */
#ifndef PYTI_BUF_H
#define PYTI_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct pyti_buf {
    char *data;
    size_t len;
    size_t cap;
} pyti_buf;

#define PYTI_BUF_INIT {NULL, 0, 0}

void buf_append(pyti_buf *b, const void *data, size_t len);
void buf_puts(pyti_buf *b, const char *s);
void buf_putc(pyti_buf *b, char c);
void buf_printf(pyti_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(pyti_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Makes room for at least extra more bytes (plus the terminating NUL). */
void buf_reserve(pyti_buf *b, size_t extra);
/* Empties the buffer, keeping its memory. */
void buf_reset(pyti_buf *b);
/* Shortens the buffer to len bytes (no-op if already shorter). */
void buf_truncate(pyti_buf *b, size_t len);
/* The contents as a string ("" for an empty buffer). */
const char *buf_cstr(const pyti_buf *b);
/* Hands the malloc'd string to the caller (never NULL) and empties b. */
char *buf_detach(pyti_buf *b);
void buf_free(pyti_buf *b);

#endif
