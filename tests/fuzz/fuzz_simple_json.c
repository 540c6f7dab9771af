/* fuzz_simple_json.c — libFuzzer target: the PEP 691 JSON parsers of
 * src/index/simpleapi.c (project page and project list) on arbitrary
 * bytes, with relative URLs resolved against an http and a file page.
 * Any crash, leak or sanitizer report is a bug; every file kept must have
 * a URL and a non-empty file name. */
#include "index/simpleapi.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const pages[] = {"https://idx.example/simple/foo/",
                                        "file:///srv/simple/foo/"};
    for (size_t i = 0; i < 2; i++) {
        pyti_simple_project p;
        pyti_error err;
        if (simple_parse_project((const char *)data, size, PYTI_PAGE_JSON, pages[i], &p, &err) ==
            PYTI_OK)
            for (size_t k = 0; k < p.nfiles; k++)
                if (!p.files[k].url || !p.files[k].filename || !*p.files[k].filename)
                    abort();
        simple_project_free(&p);
    }
    pyti_simple_index ix;
    pyti_error err;
    simple_parse_index((const char *)data, size, PYTI_PAGE_JSON, &ix, &err);
    simple_index_free(&ix);
    return 0;
}
