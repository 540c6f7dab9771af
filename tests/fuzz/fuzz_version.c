/* fuzz_version.c — libFuzzer target for PEP 440 versions (pkg/version.h).
 *
 * Input: up to three versions separated by '\n'. Checks that parsing never
 * crashes or leaks, that normalising is idempotent
 * (str(parse(str(parse(x)))) == str(parse(x)) whenever the normal form
 * re-parses; a U+0130 in "preview" legitimately does not), that an ASCII
 * version equals its normal form, and that version_compare is a total
 * order: reflexive, antisymmetric and transitive on the parsed pieces. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/version.h"

static void check_one(const pyti_version *v, const char *text)
{
    char *s = version_to_string(v);
    char *pub = version_public(v);
    char *base = version_base(v);
    if (strncmp(s, pub, strlen(pub)) != 0 || strncmp(pub, base, strlen(base)) != 0)
        abort();
    if (version_compare(v, v) != 0)
        abort();
    pyti_version *c = version_copy(v);
    if (version_compare(v, c) != 0)
        abort();
    version_free(c);
    if (version_release_len(v) == 0 || !version_release_at(v, 0) || !version_epoch(v))
        abort();
    (void)version_is_prerelease(v);
    (void)version_is_postrelease(v);
    (void)version_is_devrelease(v);
    (void)version_has_local(v);

    pyti_version *again = version_parse(s, NULL);
    if (again) {
        char *s2 = version_to_string(again);
        if (strcmp(s, s2) != 0)
            abort();
        bool ascii = true;
        for (const char *p = text; *p; p++)
            if ((unsigned char)*p >= 0x80)
                ascii = false;
        /* Odd letters (U+017F in "post") take part in the order but not
         * in the normal form, so only ASCII input must compare equal. */
        if (ascii && version_compare(v, again) != 0)
            abort();
        free(s2);
        version_free(again);
    }
    free(s);
    free(pub);
    free(base);
}

static int sign(int c)
{
    return (c > 0) - (c < 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    pyti_version *v[3] = {NULL, NULL, NULL};
    char *p = text;
    for (int i = 0; i < 3 && p; i++) {
        char *nl = i < 2 ? strchr(p, '\n') : NULL;
        if (nl)
            *nl = '\0';
        pyti_error err;
        v[i] = version_parse(p, &err);
        if (v[i])
            check_one(v[i], p);
        else if (err.code != PYTI_ERR_INPUT || !err.msg[0])
            abort();
        p = nl ? nl + 1 : NULL;
    }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            if (v[i] && v[j] && sign(version_compare(v[i], v[j])) != -sign(version_compare(v[j], v[i])))
                abort();
    if (v[0] && v[1] && v[2]) {
        int ab = version_compare(v[0], v[1]), bc = version_compare(v[1], v[2]);
        int ac = version_compare(v[0], v[2]);
        if (ab <= 0 && bc <= 0 && ac > 0)
            abort();
        if (ab >= 0 && bc >= 0 && ac < 0)
            abort();
        if (ab == 0 && bc == 0 && ac != 0)
            abort();
    }
    for (int i = 0; i < 3; i++)
        version_free(v[i]);
    free(text);
    return 0;
}
