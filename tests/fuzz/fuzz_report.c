/* fuzz_report.c — libFuzzer target for report validation: reports arrive
 * from outside (`pyti store`, later the master's result API). The input is
 * parsed as JSON; whatever report_validate accepts must also summarise,
 * serialise and re-validate identically. Nothing may crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "exec/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *r = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!r)
        return 0;
    pyti_error err;
    if (report_validate(r, &err) == PYTI_OK) {
        json_t *s = report_summary(r);
        (void)report_exit_code(r);
        char *text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
        if (!text)
            abort();
        json_t *again = json_loads(text, 0, &jerr);
        if (!again || report_validate(again, &err) != PYTI_OK)
            abort(); /* what we accepted must survive a round trip */
        json_decref(again);
        free(text);
        json_decref(s);
    } else if (err.code != PYTI_ERR_INPUT || strlen(err.msg) == 0) {
        abort(); /* every refusal is an input error with a message */
    }
    json_decref(r);
    return 0;
}
