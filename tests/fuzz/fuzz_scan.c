/* fuzz_scan.c — libFuzzer target for the static scan (src/scan/). The
 * first byte chooses what the rest of the input is:
 *
 *   0: a file's content, scanned with the shipped rules as a .py file, as
 *      setup.py, as a .pth file and as plain text (every rule kind, the
 *      Python literal lexer, entropy, IPv4, triggers, excerpts);
 *   1: a rules file, loaded and, if valid, run over a fixed sample and
 *      over itself (user patterns are only bounded by the match limit);
 *   2: a project name for the typosquatting check against the shipped
 *      popular-projects list, and text for the IPv4 finder and lexer.
 *
 * Findings must be well formed: a scan.* id, a where, an excerpt that is
 * bounded and free of control characters. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/finding.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "scan/ipv4.h"
#include "scan/pylex.h"
#include "scan/rules.h"
#include "scan/scanner.h"
#include "scan/typosquat.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pyti_scan_rules *shipped;
static pyti_popular *popular;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    pyti_error err;
    char *path = path_join(path_pyti_datadir(), "data/scan-rules.ini");
    const char *paths[] = {path, NULL};
    shipped = scan_rules_load(paths, NULL, &err);
    free(path);
    if (!shipped) {
        fprintf(stderr, "fuzz_scan: %s\n", err.msg);
        abort();
    }
    popular = popular_load_default(&err);
    if (!popular) {
        fprintf(stderr, "fuzz_scan: %s\n", err.msg);
        abort();
    }
    return 0;
}

static void check_findings(const pyti_findings *f)
{
    for (size_t i = 0; i < f->len; i++) {
        const pyti_finding *x = &f->items[i];
        if (strncmp(x->id, "scan.", 5) != 0 || !x->where || !x->message)
            abort();
        if (x->excerpt) {
            if (strlen(x->excerpt) > 200)
                abort();
            for (const unsigned char *p = (const unsigned char *)x->excerpt; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                    abort();
        }
    }
}

static void scan_as(const pyti_scan_rules *rs, const pyti_scan_limits *lim, const char *rel,
                    const char *text, size_t len)
{
    pyti_scanner *s = scanner_new(rs, lim);
    pyti_findings f = PYTI_FINDINGS_INIT;
    scanner_scan_buffer(s, rel, text, len, &f);
    check_findings(&f);
    json_decref(scanner_stats_json(s));
    findings_free(&f);
    scanner_free(s);
}

static bool count_literal(const char *body, size_t len, size_t offset, void *arg)
{
    size_t *total = arg;
    (void)body;
    *total += len + offset;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int mode = data[0] % 3;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (mode == 0) {
        scan_as(shipped, NULL, "pkg/m.py", text, len);
        scan_as(shipped, NULL, "setup.py", text, len);
        scan_as(shipped, NULL, "x.pth", text, len);
        scan_as(shipped, NULL, "README.txt", text, len);
    } else if (mode == 1) {
        if (len > 8192)
            return 0; /* keep pattern compilation quick */
        pyti_error err;
        pyti_scan_rules *rs = scan_rules_from_string(text, len, "fuzz.ini", &err);
        if (!rs) {
            if (err.code == PYTI_OK || !err.msg[0])
                abort(); /* failure without a message */
            return 0;
        }
        pyti_scan_limits lim;
        scan_limits_default(&lim);
        lim.match_limit = 100000;
        static const char sample[] =
            "import base64, os\nexec(base64.b64decode('aWQ='))\n__import__('os').system('id')\n"
            "HOST = '45.33.32.156'\nx = 'aGVsbG8gd29ybGQ='\n";
        scan_as(rs, &lim, "setup.py", sample, sizeof sample - 1);
        scan_as(rs, &lim, "m.pth", text, len);
        for (size_t i = 0; i < scan_rules_count(rs); i++) {
            const pyti_scan_rule *r = scan_rules_get(rs, i);
            if (!r->id || !r->description || (r->check == SCAN_CHECK_PATTERN && !r->npatterns))
                abort();
            (void)scan_rule_applies(r, "a/b.py");
        }
        scan_rules_free(rs);
    } else {
        char *name = xstrndup(text, len > 300 ? 300 : len);
        pyti_typosquat ts;
        if (typosquat_check(popular, name, &ts) && (!ts.method || !ts.target[0]))
            abort();
        char fold[128];
        typosquat_fold(name, fold, sizeof fold);
        (void)typosquat_distance(name, "requests", 2);
        free(name);
        size_t pos = 0, n, total = 0;
        while (pos < len && ipv4_find_public(text, len, &pos, &n)) {
            if (n < 7 || n > 15 || pos + n > len)
                abort();
            pos += n;
        }
        pylex_strings(text, len, count_literal, &total);
    }
    return 0;
}
