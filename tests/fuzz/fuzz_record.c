/* fuzz_record.c — libFuzzer target: the input is written as RECORD (and
 * as WHEEL) into a small extracted-wheel tree in a private temporary
 * directory, then wheel_verify_record and wheel_check_wheel_file run on
 * it. Checks that no RECORD content crashes, leaks, or makes the verifier
 * touch anything outside the tree. */
#include "common/finding.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "pkg/wheel.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DI "demo-1.0.dist-info"

static char *root;

/* Plain write: path_write_file_atomic fsyncs, far too slow per input. */
static int write_plain(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    size_t n = len ? fwrite(data, 1, len, fp) : 0;
    return fclose(fp) == 0 && n == len ? 0 : -1;
}

static void put(const char *rel, const char *content)
{
    char *p = path_join(root, rel);
    char *dir = path_dirname(p);
    path_mkdirs(dir, 0755, NULL);
    free(dir);
    if (write_plain(p, content, strlen(content)) != 0)
        abort();
    free(p);
}

static void cleanup(void)
{
    path_rmtree(root, NULL);
    free(root);
}

static void setup(void)
{
    root = path_mkdtemp(NULL, "pyti-fuzz-record-", NULL);
    if (!root)
        abort();
    atexit(cleanup);
    put("demo/__init__.py", "x = 1\n");
    put("demo/data, with comma.txt", "comma\n");
    put("demo/sub/deep.txt", "");
    put(DI "/METADATA", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!root)
        setup();
    if (size > (1u << 20))
        return 0;
    char *rec = path_join(root, DI "/RECORD");
    char *whl = path_join(root, DI "/WHEEL");
    if (write_plain(rec, data, size) != 0 || write_plain(whl, data, size) != 0)
        abort();
    pyti_findings f = PYTI_FINDINGS_INIT;
    pyti_error err;
    json_t *j = wheel_verify_record(root, DI, &f, &err);
    json_decref(j);
    j = wheel_check_wheel_file(root, DI, "demo-1.0-py3-none-any.whl", &f, &err);
    json_decref(j);
    json_t *fj = findings_to_json(&f);
    json_decref(fj);
    findings_free(&f);
    free(rec);
    free(whl);
    return 0;
}
