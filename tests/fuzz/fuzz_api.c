/* fuzz_api.c — libFuzzer target for the master's request handling
 * without the network: master_dispatch (src/master/api.c and the handler
 * files) over a SQLite store in a temporary directory. An input is
 * "METHOD PATH?QUERY\nTOKEN\nCONTENT-TYPE\nBODY": every route, every JSON
 * body parser (job specs, worker registration, claims, heartbeats,
 * results with reports and logs, failures), multipart uploads and the
 * catalogue get untrusted bytes. Nothing may crash or leak, and every
 * answer is a status between 200 and 599 with a body. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/path.h"
#include "common/xalloc.h"
#include "master/master_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static pyti_master *m;
static pyti_config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    pyti_error err;
    char *dir = path_mkdtemp(NULL, "pyti-fuzz-api-", &err);
    if (!dir)
        abort();
    cfg = config_new_empty();
    char *files = xasprintf("%s/files", dir);
    config_set(cfg, "master", "admin_token", "adm", "fuzz");
    config_set(cfg, "master", "worker_tokens", "wrk", "fuzz");
    config_set(cfg, "master", "submit_tokens", "sub", "fuzz");
    config_set(cfg, "master", "files_dir", files, "fuzz");
    config_set(cfg, "master", "long_poll_max", "0", "fuzz");
    config_set(cfg, "feeds", "deny", "evil-*", "fuzz");
    char *db = xasprintf("%s/pyti.db", dir);
    m = master_new_for_tests(db, cfg, &err);
    if (!m || path_mkdirs(files, 0700, &err) != PYTI_OK)
        abort();
    free(db);
    free(files);
    free(dir); /* left for the fuzzer's lifetime; removed with $TMPDIR */
    return 0;
}

/* The next line of [*p, end) as a new string (without the newline). */
static char *line(const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    const char *stop = nl ? nl : end;
    char *s = xstrndup(*p, (size_t)(stop - *p));
    *p = nl ? nl + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    char *first = line(&p, end), *token = line(&p, end), *ctype = line(&p, end);
    char *sp = strchr(first, ' ');
    char *path = sp ? sp + 1 : (char *)"/";
    if (sp)
        *sp = '\0';
    pyti_strv q = PYTI_STRV_INIT;
    char *qs = strchr(path, '?');
    if (qs) {
        *qs++ = '\0';
        master_split_query(qs, &q);
    }
    char *auth = *token ? xasprintf("Bearer %s", token) : NULL;
    size_t blen = (size_t)(end - p);
    char *body = xmalloc(blen + 1);
    memcpy(body, p, blen);
    body[blen] = '\0';
    master_request r = {0};
    r.method = first;
    r.path = *path ? path : "/";
    r.query = &q;
    r.authorization = auth;
    r.content_type = *ctype ? ctype : NULL;
    r.body = body;
    r.body_len = blen;
    r.client_fd = -1;
    master_response resp;
    master_response_init(&resp);
    master_dispatch(m, &r, &resp);
    if (resp.status < 200 || resp.status > 599 || (resp.fd < 0 && resp.body.len == 0 &&
                                                   resp.status != 200))
        abort();
    master_response_free(&resp);
    free(body);
    free(auth);
    strv_free(&q);
    free(first);
    free(token);
    free(ctype);
    return 0;
}
