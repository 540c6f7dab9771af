/* fuzz_pyfacts.c — libFuzzer target: the input is the JSON an interpreter
 * reports about itself from inside the sandbox (the venv task's facts).
 * pyfacts_target and pyfacts_installed must accept it or refuse it with a
 * message, never crash or leak; an accepted target must have its tags
 * indexed and every marker value set, and a resolution over installed
 * distributions taken from it must end (the resolver reads their
 * metadata as given). */
#include "exec/pyfacts.h"
#include "index/resolver.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pyti_status no_files(void *ctx, const char *project, const pyti_dist_file **files,
                            size_t *nfiles, pyti_error *err)
{
    (void)ctx;
    (void)project;
    (void)err;
    *files = NULL;
    *nfiles = 0;
    return PYTI_OK;
}

static pyti_status no_meta(void *ctx, const char *project, const pyti_dist_file *f,
                           pyti_dist_metadata *out, bool *needs_build, pyti_error *err)
{
    (void)ctx;
    (void)project;
    (void)f;
    (void)needs_build;
    (void)err;
    memset(out, 0, sizeof *out);
    return PYTI_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *facts = json_loadb((const char *)data, size, 0, &je);
    if (!facts)
        return 0;
    pyti_target t;
    pyti_error err;
    if (pyfacts_target(facts, &t, &err) == PYTI_OK) {
        if (!t.map || !t.env.sys_platform || !t.env.python_full_version)
            abort();
        pyti_dist_metadata *inst = NULL;
        size_t n = 0;
        if (pyfacts_installed(facts, &inst, &n, &err) == PYTI_OK && n) {
            /* Ask for the first installed one: only installed metadata is
             * read (the provider has no files). */
            const char *req = inst[0].name;
            pyti_provider p = {NULL, no_files, no_meta, NULL};
            pyti_resolve_options o = {.installed = inst, .ninstalled = n, .max_rounds = 2000,
                                      .max_steps = 20000};
            pyti_resolution res;
            resolve_requirements(&p, &t, &req, 1, &o, &res, &err);
            resolution_free(&res);
        }
        pyfacts_installed_free(inst, n);
        target_free(&t);
    }
    json_decref(facts);
    return 0;
}
