/* fuzz_simple_html.c — libFuzzer target: the PEP 503 HTML parsers of
 * src/index/simpleapi.c (libxml2's recovering HTML parser, link
 * extraction, hash fragments, data-* attributes, <base>, relative URLs)
 * on arbitrary bytes, and the index server's Accept-header negotiation on
 * the same text. Any crash, leak or sanitizer report is a bug; every
 * file kept must have a URL and a non-empty file name. */
#include "common/xalloc.h"
#include "index/server.h"
#include "index/simpleapi.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pyti_simple_project p;
    pyti_error err;
    if (simple_parse_project((const char *)data, size, PYTI_PAGE_HTML,
                             "https://idx.example/simple/foo/", &p, &err) == PYTI_OK)
        for (size_t k = 0; k < p.nfiles; k++)
            if (!p.files[k].url || !p.files[k].filename || !*p.files[k].filename)
                abort();
    simple_project_free(&p);
    pyti_simple_index ix;
    simple_parse_index((const char *)data, size, PYTI_PAGE_HTML, &ix, &err);
    simple_index_free(&ix);
    if (size < 4096) {
        char *accept = xstrndup((const char *)data, size);
        int f = server_negotiate(accept);
        if (f < 0 || f > 3)
            abort();
        free(accept);
    }
    return 0;
}
