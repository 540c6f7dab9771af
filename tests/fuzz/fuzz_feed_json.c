/* fuzz_feed_json.c — libFuzzer target for the JSON the serial feed reads
 * (a PEP 691 project list with "_last-serial" values) and the RSS feed's
 * cursor as kept in the store (src/master/feedparse.c). Nothing may crash
 * or leak; refusals are input errors with a message; a parsed cursor
 * formats and parses back to the same values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "master/feedparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    feed_project *p;
    size_t n;
    long long last;
    pyti_error err;
    if (feed_parse_serial_index((const char *)data, size, &p, &n, &last, &err) == PYTI_OK) {
        for (size_t i = 0; i < n; i++)
            if (!p[i].name || p[i].serial < 0)
                abort();
        if (n > 0 && last < 0)
            abort();
        feed_projects_free(p, n);
    } else if (err.code != PYTI_ERR_INPUT || !err.msg[0]) {
        abort();
    }
    char *text = xstrndup((const char *)data, size);
    long long t;
    pyti_strv seen = PYTI_STRV_INIT;
    if (feed_rss_cursor_parse(text, &t, &seen, &err) == PYTI_OK) {
        char *again = feed_rss_cursor_format(t, &seen);
        long long t2;
        pyti_strv seen2 = PYTI_STRV_INIT;
        if (feed_rss_cursor_parse(again, &t2, &seen2, &err) != PYTI_OK || t2 != t ||
            seen2.len != seen.len)
            abort();
        strv_free(&seen2);
        free(again);
    } else if (err.code != PYTI_ERR_INPUT) {
        abort();
    }
    strv_free(&seen);
    free(text);
    return 0;
}
