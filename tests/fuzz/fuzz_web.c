/* fuzz_web.c — libFuzzer target for the web dashboard's handling of
 * untrusted input: request paths and query strings from the network, and
 * reports (from workers, `pyti store`) whose free-form task data the
 * report page renders. The first byte picks the mode:
 *   'p' PATH [\n QUERY]  rendered by web_render against a small SQLite
 *                        store made once (with one report in it);
 *   anything else        the rest parsed as JSON and rendered as a
 *                        standalone report page, valid or not.
 * Nothing may crash or leak; every page must be a complete document, and
 * no '<script' may appear in one (every value is escaped). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/buf.h"
#include "store/store.h"
#include "web/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pyti_store *store;

static pyti_store *the_store(void)
{
    if (store)
        return store;
    char dir[] = "/tmp/pyti-fuzz-web-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    char path[64];
    snprintf(path, sizeof path, "%s/s.db", dir);
    pyti_error err;
    store = store_open(path, &err);
    if (!store)
        abort();
    json_t *r = json_loads(
        "{\"schema_version\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"pyti_version\":\"0\","
        "\"created\":\"2026-12-06T10:00:00.000Z\",\"outcome\":\"failed\","
        "\"distribution\":{\"name\":\"demo\",\"version\":\"1.0\",\"filename\":\"demo-1.0.tar.gz\","
        "\"sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"},"
        "\"tasks\":[{\"name\":\"test\",\"builtin\":\"test\",\"status\":\"failed\",\"reason\":null,"
        "\"duration_s\":1,\"data\":{}}],\"findings\":[],"
        "\"verdict\":{\"quality\":\"broken\",\"safety\":\"clean\"}}",
        0, NULL);
    if (!r || store_put_report(store, r, NULL, &err) != PYTI_OK) {
        fprintf(stderr, "fuzz_web: setting up the store: %s\n", r ? err.msg : "bad JSON");
        abort();
    }
    json_decref(r);
    return store;
}

static void check(const pyti_buf *b)
{
    const char *s = buf_cstr(b);
    if (!strstr(s, "</html>") || strstr(s, "<script"))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 16)
        return 0;
    if (data[0] == 'p') {
        char *text = strndup((const char *)data + 1, size - 1);
        if (!text)
            return 0;
        char *nl = strchr(text, '\n');
        if (nl)
            *nl = '\0';
        web_page page;
        web_page_init(&page);
        pyti_error err;
        (void)web_render(the_store(), text, nl ? nl + 1 : NULL, &page, &err);
        if (page.status < 200 || page.status > 599)
            abort();
        check(&page.body);
        web_page_free(&page);
        free(text);
        return 0;
    }
    json_t *r = json_loadb((const char *)data + 1, size - 1, 0, NULL);
    if (!r)
        return 0;
    pyti_buf out = PYTI_BUF_INIT;
    web_report_standalone(r, &out);
    check(&out);
    buf_free(&out);
    json_decref(r);
    return 0;
}
