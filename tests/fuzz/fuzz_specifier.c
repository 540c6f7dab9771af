/* fuzz_specifier.c — libFuzzer target for specifier sets (pkg/specifier.h).
 *
 * Input: a specifier set, then after '\n' a version. Checks no crash or
 * leak, that str() is stable (str(parse(str(s))) == str(s), same length),
 * that a copy answers like the original, and that specset_contains agrees
 * with specset_check for every prereleases setting. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/specifier.h"
#include "pkg/version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *vs = strchr(text, '\n');
    if (vs)
        *vs++ = '\0';
    pyti_error err;
    pyti_specset *s = specset_parse(text, &err);
    if (!s) {
        if (err.code != PYTI_ERR_INPUT || !err.msg[0])
            abort();
        free(text);
        return 0;
    }
    char *str = specset_to_string(s);
    pyti_specset *again = specset_parse(str, &err);
    if (!again)
        abort();
    char *str2 = specset_to_string(again);
    if (strcmp(str, str2) != 0 || specset_len(s) != specset_len(again))
        abort();
    for (unsigned i = 0; i < specset_len(s); i++)
        if (!specset_clause_at(s, i))
            abort();
    pyti_specset *copy = specset_copy(s);
    if (vs) {
        pyti_version *v = version_parse(vs, NULL);
        if (v) {
            for (int pre = -1; pre <= 1; pre++) {
                int r = specset_check(s, v, pre, &err);
                if (r < -1 || r > 1)
                    abort();
                if ((r == 1) != specset_contains(s, v, pre))
                    abort();
                if (specset_check(copy, v, pre, NULL) != r)
                    abort();
            }
            version_free(v);
        }
        (void)specset_contains_str(s, vs, -1);
    }
    specset_free(copy);
    free(str);
    free(str2);
    specset_free(again);
    specset_free(s);
    free(text);
    return 0;
}
