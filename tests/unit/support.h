/* support.h — helpers shared by the C unit tests: temporary directories
 * that clean themselves up, writing and reading small files.
 *
 * Include after <setjmp.h>, <stdarg.h>, <stddef.h> and <cmocka.h>. */
#ifndef PYTI_TEST_SUPPORT_H
#define PYTI_TEST_SUPPORT_H

#include <stddef.h>

/* A fresh directory under $TMPDIR (or /tmp), removed at exit. Never NULL
 * (the test aborts if it cannot be made). */
char *t_tmpdir(void);
/* Writes content to dir/rel, creating parent directories. Returns the
 * full path (owned by the caller). */
char *t_write(const char *dir, const char *rel, const char *content);
/* Like t_write with explicit length (content may contain NUL bytes). */
char *t_write_bytes(const char *dir, const char *rel, const void *content, size_t len);
/* Reads a whole file into a new NUL-terminated string (NULL if missing). */
char *t_slurp(const char *path);
/* The source tree root (from $PYTI_SOURCE_ROOT, set by meson test). */
const char *t_source_root(void);

#endif
