/* fuzz_rss.c — libFuzzer target for the RSS feed parser (libxml2) and the
 * RFC 822 dates of its items (src/master/feedparse.c), as the master's
 * RSS feed reads them from an index. Nothing may crash or leak; a refusal
 * is an input error with a message; items have a name and a date. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "master/feedparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    feed_item *it;
    size_t n, skipped;
    pyti_error err;
    if (feed_parse_rss((const char *)data, size, &it, &n, &skipped, &err) == PYTI_OK) {
        for (size_t i = 0; i < n; i++)
            if (!it[i].name || !it[i].name[0] || it[i].time < 0)
                abort();
        feed_items_free(it, n);
    } else if (err.code != PYTI_ERR_INPUT || !err.msg[0]) {
        abort();
    }
    char *s = xstrndup((const char *)data, size < 256 ? size : 256);
    (void)feed_parse_rfc822(s);
    free(s);
    return 0;
}
