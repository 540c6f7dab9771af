/* fuzz_multipart.c — libFuzzer target for multipart/form-data bodies as
 * the master's upload endpoints receive them (src/master/multipart.c):
 * the first line is the Content-Type's boundary parameter, the rest the
 * body. Nothing may crash, leak or read outside the body; every refusal
 * names what is wrong; every part lies inside the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "master/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size < 200 ? size : 200);
    if (!nl)
        return 0;
    char *ctype = xasprintf("multipart/form-data; boundary=%.*s", (int)(nl - data),
                            (const char *)data);
    if (memchr(data, '\0', (size_t)(nl - data))) {
        free(ctype);
        return 0;
    }
    /* The body in its own allocation, so ASan sees any read past it. */
    size_t len = size - (size_t)(nl - data) - 1;
    char *body = xmalloc(len ? len : 1);
    memcpy(body, nl + 1, len);
    char b[80];
    pyti_error err;
    if (multipart_boundary(ctype, b, sizeof b, &err) == PYTI_OK) {
        mp_form f;
        if (multipart_parse(body, len, b, &f, &err) == PYTI_OK) {
            for (size_t i = 0; i < f.n; i++) {
                const mp_part *p = &f.parts[i];
                if (!p->name || p->data < body || p->data + p->len > body + len)
                    abort();
            }
            free(multipart_field(&f, ":action", 64));
            free(multipart_field(&f, "name", 4096));
            (void)multipart_get(&f, "content");
        } else if (!err.msg[0] || (err.code != PYTI_ERR_INPUT && err.code != PYTI_ERR_LIMIT)) {
            abort();
        }
        multipart_free(&f);
    } else if (err.code != PYTI_ERR_INPUT) {
        abort();
    }
    free(body);
    free(ctype);
    return 0;
}
