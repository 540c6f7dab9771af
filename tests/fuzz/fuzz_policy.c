/* fuzz_policy.c — libFuzzer target for the behaviour policy: the input is
 * parsed as a policy file (twice: as the shipped file and as a user's
 * override, which replaces and prepends), and every rule parsed is then
 * matched against events built from the input's own strings. Any error
 * must come back as a message naming the file and line; nothing may
 * crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "exec/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pyti_policy p = {0};
    pyti_error err;
    const char *text = (const char *)data;
    if (policy_parse(&p, text, size, "fuzz.ini", false, &err) != PYTI_OK) {
        if (strncmp(err.msg, "fuzz.ini", 8) != 0)
            abort(); /* every error names the file */
    }
    (void)policy_parse(&p, text, size, "user.ini", true, &err);
    /* Events made of the input: its first lines as kind, object, phase. */
    char buf[256];
    size_t n = size < sizeof buf - 1 ? size : sizeof buf - 1;
    memcpy(buf, data, n);
    buf[n] = '\0';
    char *parts[4] = {buf, buf, buf, buf};
    size_t k = 1;
    for (char *c = buf; *c && k < 4; c++)
        if (*c == '\n') {
            *c = '\0';
            parts[k++] = c + 1;
        }
    const char *kinds[] = {"file.write", "exec", "net.dns", "honeytoken.read", parts[0]};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        pyti_policy_event e = {.kind = kinds[i], .object = parts[1], .object2 = parts[2],
                               .phase = parts[3], .argv = parts[1], .category = parts[2],
                               .process = parts[3], .seconds = 30, .count = 300,
                               .mode = 0755, .local = i & 1, .socket_stdio = i & 2};
        (void)policy_match(&p, &e);
        (void)policy_glob(parts[0], parts[1], i & 1);
    }
    policy_free(&p);
    return 0;
}
