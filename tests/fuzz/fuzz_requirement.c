/* fuzz_requirement.c — libFuzzer target for PEP 508 requirements
 * (pkg/requirement.h), and on the same bytes, distribution file names and
 * name normalisation (pkg/name.h).
 *
 * Checks no crash or leak, that the parts are consistent (normalized ==
 * name_normalize(name), spec never NULL), and that str() is stable
 * (str(parse(str(r))) == str(r)) when the input has no backslash and no
 * single quote (see fuzz_marker.c for why). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/name.h"
#include "pkg/requirement.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';

    char *norm = name_normalize(text);
    char *norm2 = name_normalize(norm);
    if (strcmp(norm, norm2) != 0 && !strchr(text, '\xce') && !strchr(text, '\xc4'))
        abort(); /* idempotent, bar Greek final sigma and U+0130 corner cases */
    free(norm);
    free(norm2);
    (void)name_is_valid(text);
    pyti_dist_filename f;
    pyti_error err;
    if (dist_filename_parse(text, &f, &err) == PYTI_OK) {
        if (!f.name || !f.version || !f.extension)
            abort();
        if (f.kind == PYTI_DIST_WHEEL && (!f.python_tags.len || !f.abi_tags.len || !f.platform_tags.len))
            abort();
    } else if (err.code != PYTI_ERR_INPUT || !err.msg[0]) {
        abort();
    }
    dist_filename_free(&f);

    pyti_requirement *r = requirement_parse(text, &err);
    if (!r) {
        if (err.code != PYTI_ERR_INPUT || !err.msg[0])
            abort();
        free(text);
        return 0;
    }
    if (!r->name || !r->normalized || !r->spec)
        abort();
    char *n = name_normalize(r->name);
    if (strcmp(n, r->normalized) != 0)
        abort();
    free(n);
    char *s = requirement_to_string(r);
    if (!strchr(text, '\\') && !strchr(text, '\'') && !strchr(s, '\n')) {
        pyti_requirement *again = requirement_parse(s, &err);
        if (!again)
            abort();
        char *s2 = requirement_to_string(again);
        if (strcmp(s, s2) != 0)
            abort();
        free(s2);
        requirement_free(again);
    }
    free(s);
    requirement_free(r);
    free(text);
    return 0;
}
