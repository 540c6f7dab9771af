/* fuzz_marker.c — libFuzzer target for environment markers (pkg/marker.h).
 *
 * Input: a marker; after a '\n', values for the environment separated by
 * '\n' (missing ones stay unset). Checks no crash or leak, that evaluation
 * returns -1/0/1 with a message on -1, that a copy behaves the same, and
 * that str() settles after one round (s2 = str(parse(str(m))) parses and
 * str(parse(s2)) == s2) when the input has only "..." strings without
 * escapes (str() does not escape values, as in packaging, so other inputs
 * need not round-trip). One round, not zero: like packaging, a
 * parenthesised `(extra == "A.B")` keeps its value as written while the
 * same comparison at the top level is normalised ("a-b"), and str() drops
 * the outer parentheses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/marker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    const char *vals[12] = {0};
    char *p = strchr(text, '\n');
    if (p)
        *p++ = '\0';
    for (int i = 0; i < 12 && p; i++) {
        vals[i] = p;
        p = strchr(p, '\n');
        if (p)
            *p++ = '\0';
    }
    pyti_error err;
    pyti_marker *m = marker_parse(text, &err);
    if (!m) {
        if (err.code != PYTI_ERR_INPUT || !err.msg[0])
            abort();
        free(text);
        return 0;
    }
    pyti_marker_env env = {vals[0], vals[1], vals[2], vals[3], vals[4], vals[5],
                           vals[6], vals[7], vals[8], vals[9], vals[10], vals[11]};
    int r = marker_evaluate(m, &env, &err);
    if (r < -1 || r > 1 || (r < 0 && !err.msg[0]))
        abort();
    pyti_marker_env def;
    marker_env_default(&def, "3.11.2");
    r = marker_evaluate(m, &def, &err);
    if (r < -1 || r > 1)
        abort();
    pyti_marker *copy = marker_copy(m);
    if (marker_evaluate(copy, &def, NULL) != r)
        abort();
    char *s = marker_to_string(m);
    char *cs = marker_to_string(copy);
    if (strcmp(s, cs) != 0)
        abort();
    if (!strchr(text, '\\') && !strchr(text, '\'')) {
        /* Only "..." strings without escapes: no value can hold a quote,
         * backslash or line break, so str() re-parses to itself. */
        pyti_marker *again = marker_parse(s, &err);
        if (!again)
            abort();
        char *s2 = marker_to_string(again);
        pyti_marker *third = marker_parse(s2, &err);
        if (!third)
            abort();
        char *s3 = marker_to_string(third);
        if (strcmp(s2, s3) != 0)
            abort();
        free(s3);
        marker_free(third);
        free(s2);
        marker_free(again);
    }
    free(s);
    free(cs);
    marker_free(copy);
    marker_free(m);
    free(text);
    return 0;
}
