/* fuzz_trace.c — libFuzzer target for the tracer's decoders of bytes a
 * traced process controls: DNS queries in UDP payloads, socket addresses,
 * lines of /proc/net tables, lexical path joining, and the search for
 * decoy secret values in outgoing data. The first input byte selects the
 * decoder; outputs must stay NUL-terminated within their buffers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "exec/honeytoken.h"
#include "sandbox/sandbox_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_terminated(const char *s, size_t cap)
{
    if (!memchr(s, '\0', cap))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned sel = data[0] % 5;
    data++;
    size--;
    char out[300];
    switch (sel) {
    case 0: {
        unsigned t;
        size_t cap = 1 + (size % sizeof out);
        if (sb_dns_parse_query(data, size, out, cap, &t))
            check_terminated(out, cap);
        break;
    }
    case 1: {
        int fam, port;
        bool local;
        if (sb_tr_sockaddr(data, size, out, sizeof out, &fam, &port, &local))
            check_terminated(out, sizeof out);
        break;
    }
    case 2: {
        char *line = xmalloc(size + 1);
        memcpy(line, data, size);
        line[size] = '\0';
        unsigned long ino;
        int port;
        if (sb_tr_parse_net_line(line, size & 1, &ino, out, sizeof out, &port))
            check_terminated(out, sizeof out);
        free(line);
        break;
    }
    case 3: {
        char *s = xmalloc(size + 1);
        memcpy(s, data, size);
        s[size] = '\0';
        char *split = strchr(s, '|');
        if (split)
            *split = '\0';
        char *r = sb_path_join_normal("/base/dir", split ? split + 1 : s);
        if (r[0] != '/' || strstr(r, "/../") || strstr(r, "//"))
            abort();
        free(r);
        free(s);
        break;
    }
    case 4: {
        static pyti_honeytokens h;
        static bool ready;
        if (!ready) {
            /* A few fixed values and their forms, without touching disk. */
            memset(&h, 0, sizeof h);
            h.values = xcalloc(2, sizeof *h.values);
            h.values[0].value = xstrdup("AKIAQWERTYUIOPASDFGH");
            strv_push(&h.values[0].forms, "akiaqwertyuiopasdfgh");
            strv_push(&h.values[0].forms, "qufervfxvevuwvvpqvnernhu");
            h.values[1].value = xstrdup("ghp_abcdefghijklmnopqrstuvwxyz0123456789");
            strv_push(&h.values[1].forms, "ghp_abcdefghijklmnopqrstuvwxyz0123456789");
            h.n_values = 2;
            ready = true;
        }
        (void)honeytokens_find_value(&h, data, size);
        break;
    }
    }
    return 0;
}
