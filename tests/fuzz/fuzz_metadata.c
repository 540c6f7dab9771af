/* fuzz_metadata.c — libFuzzer target: metadata_parse, metadata_validate
 * (with and without a classifier list and a file name), metadata_to_json
 * and the SPDX expression check on arbitrary bytes; and
 * index_metadata_from_text, which reads the resolver's fields (also of the
 * METADATA a dependency's backend prepared in the sandbox, depbuild.c).
 * Any crash, leak or sanitizer report is a bug. */
#include "common/finding.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "index/index.h"
#include "pkg/metadata.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pyti_strv known = PYTI_STRV_INIT;
    if (!known.len) {
        strv_push(&known, "Topic :: Software Development");
        strv_push(&known, "License :: OSI Approved :: MIT License");
        strv_push(&known, "!Natural Language :: Ukranian => Natural Language :: Ukrainian");
        strv_push(&known, "!Topic :: Old");
    }
    pyti_error err;
    pyti_metadata *md = metadata_parse((const char *)data, size, "fuzz/PKG-INFO", &err);
    if (md) {
        pyti_findings f = PYTI_FINDINGS_INIT;
        metadata_validate(md, NULL, NULL, &f);
        metadata_validate(md, "pkg-1.0-py3-none-any.whl", &known, &f);
        metadata_validate(md, "pkg-1.0.tar.gz", &known, &f);
        json_t *j = metadata_to_json(md);
        char *s = json_dumps(j, JSON_SORT_KEYS);
        free(s);
        json_decref(j);
        json_t *fj = findings_to_json(&f);
        json_decref(fj);
        findings_free(&f);
        metadata_free(md);
    }
    pyti_dist_metadata dm;
    bool is_static = false;
    if (index_metadata_from_text((const char *)data, size, "fuzz/METADATA", true, &dm,
                                 &is_static, &err) == PYTI_OK)
        dist_metadata_free(&dm);
    if (size < 4096) {
        char *text = xstrndup((const char *)data, size);
        (void)metadata_license_expression_ok(text);
        free(text);
    }
    return 0;
}
