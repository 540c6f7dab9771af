/* fuzz_jobspec.c — libFuzzer target for what the queue accepts from
 * outside (later: the master's submit and worker APIs): a JSON job spec
 * (store_job_spec_from_json + store_job_submit, which validates it and
 * expands its Python requirement) or, under a "worker" member, a worker
 * description (store_worker_info_from_json + store_worker_register), into
 * an in-memory SQLite store. Nothing may crash or leak; every refusal is
 * an input or usage error with a message; an accepted job reads back with
 * the file it was given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/jsonutil.h"
#include "common/strv.h"
#include "store/queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pyti_store *store;
static unsigned inputs;

static void refused_well(const pyti_error *err)
{
    if ((err->code != PYTI_ERR_INPUT && err->code != PYTI_ERR_USAGE) || !err->msg[0])
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pyti_error err;
    /* A fresh store now and then keeps the in-memory database small. */
    if (store && ++inputs % 5000 == 0) {
        store_close(store);
        store = NULL;
    }
    if (!store && !(store = store_open(":memory:", &err)))
        abort();
    json_error_t jerr;
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        return 0;
    pyti_strv a = PYTI_STRV_INIT, b = PYTI_STRV_INIT, c = PYTI_STRV_INIT, d = PYTI_STRV_INIT;
    const json_t *w = json_object_get(j, "worker");
    if (w) {
        store_worker_info info;
        if (store_worker_info_from_json(w, &info, &a, &b, &c, &d, &err) != PYTI_OK)
            refused_well(&err);
        else if (store_worker_register(store, &info, &err) != PYTI_OK)
            refused_well(&err);
    } else {
        store_job_spec spec;
        long long id = 0;
        bool created;
        if (store_job_spec_from_json(j, &spec, &a, &b, &err) != PYTI_OK) {
            refused_well(&err);
        } else if (store_job_submit(store, &spec, &id, &created, &err) != PYTI_OK) {
            refused_well(&err);
        } else {
            json_t *job = store_job_get(store, id, &err);
            if (!job || strcmp(json_get_str(job, "sha256"), spec.sha256) != 0)
                abort();
            json_decref(job);
        }
    }
    strv_free(&a);
    strv_free(&b);
    strv_free(&c);
    strv_free(&d);
    json_decref(j);
    return 0;
}
