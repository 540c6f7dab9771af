/* support.c — helpers shared by the C unit tests (see support.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/buf.h"
#include "common/path.h"
#include "common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TMPDIRS 256
static char *tmpdirs[MAX_TMPDIRS];
static size_t ntmpdirs;

static void cleanup_tmpdirs(void)
{
    for (size_t i = 0; i < ntmpdirs; i++) {
        path_rmtree(tmpdirs[i], NULL);
        free(tmpdirs[i]);
    }
    ntmpdirs = 0;
}

char *t_tmpdir(void)
{
    pyti_error err;
    char *dir = path_mkdtemp(NULL, "pyti-unit-", &err);
    if (!dir) {
        fprintf(stderr, "t_tmpdir: %s\n", err.msg);
        abort();
    }
    if (ntmpdirs == 0)
        atexit(cleanup_tmpdirs);
    if (ntmpdirs < MAX_TMPDIRS) {
        tmpdirs[ntmpdirs++] = dir;
        return dir;
    }
    return dir; /* leaked on purpose past the cap: tests rarely need 256 */
}

char *t_write_bytes(const char *dir, const char *rel, const void *content, size_t len)
{
    char *path = path_join(dir, rel);
    char *parent = path_dirname(path);
    pyti_error err;
    if (path_mkdirs(parent, 0755, &err) != PYTI_OK) {
        fprintf(stderr, "t_write: %s\n", err.msg);
        abort();
    }
    free(parent);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(content, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "t_write: cannot write %s\n", path);
        abort();
    }
    return path;
}

char *t_write(const char *dir, const char *rel, const char *content)
{
    return t_write_bytes(dir, rel, content, strlen(content));
}

char *t_slurp(const char *path)
{
    pyti_buf b = PYTI_BUF_INIT;
    if (path_read_file(path, 0, &b, NULL) != PYTI_OK) {
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b);
}

const char *t_source_root(void)
{
    const char *root = getenv("PYTI_SOURCE_ROOT");
    return root ? root : ".";
}
