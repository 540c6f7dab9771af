/* scan_tree.c — runs the static scan (src/scan/) over directories and
 * prints its findings and how long it took: the figures of bench/README.md
 * ("scan_tree") and a tool for tuning rules against real code.
 *
 *   build/bench/scan_tree [--rules FILE] [--repeat N] [--min-severity SEV] DIR...
 *
 * Rules are the shipped ones (plus the user's override file) unless
 * --rules names a file. Each DIR is scanned --repeat times (default 1);
 * the times printed are the fastest run's wall-clock and CPU time (the
 * CPU time is the steadier figure on a shared machine), rule compilation
 * excluded (it is printed once). Findings are printed for the first run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/finding.h"
#include "common/timeutil.h"
#include "scan/rules.h"
#include "scan/scanner.h"

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *rules_path = NULL;
    int repeat = 1, min_sev = PYTI_SEV_INFO, first = 1;
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
        if (strcmp(argv[first], "--rules") == 0 && first + 1 < argc)
            rules_path = argv[++first];
        else if (strcmp(argv[first], "--repeat") == 0 && first + 1 < argc)
            repeat = atoi(argv[++first]);
        else if (strcmp(argv[first], "--min-severity") == 0 && first + 1 < argc)
            min_sev = severity_from_name(argv[++first]);
        else {
            fprintf(stderr, "usage: scan_tree [--rules FILE] [--repeat N] [--min-severity SEV] DIR...\n");
            return 2;
        }
    }
    if (first >= argc || repeat < 1 || min_sev < 0) {
        fprintf(stderr, "usage: scan_tree [--rules FILE] [--repeat N] [--min-severity SEV] DIR...\n");
        return 2;
    }
    pyti_error err;
    double t0 = time_monotonic();
    pyti_scan_rules *rs;
    if (rules_path) {
        const char *paths[] = {rules_path, NULL};
        rs = scan_rules_load(paths, NULL, &err);
    } else {
        rs = scan_rules_load_default(NULL, &err);
    }
    if (!rs) {
        fprintf(stderr, "scan_tree: %s\n", err.msg);
        return 1;
    }
    printf("rules: %zu (%s), loaded and compiled in %.2f ms\n", scan_rules_count(rs),
           scan_rules_jit(rs) ? "JIT" : "no JIT", (time_monotonic() - t0) * 1000);
    int rc = 0;
    for (int d = first; d < argc; d++) {
        double best = 1e9, best_cpu = 1e9;
        for (int r = 0; r < repeat; r++) {
            pyti_scanner *sc = scanner_new(rs, NULL);
            pyti_findings f = PYTI_FINDINGS_INIT;
            double t = time_monotonic(), c = cpu_seconds();
            if (scanner_scan_tree(sc, argv[d], &f, &err) != PYTI_OK) {
                fprintf(stderr, "scan_tree: %s\n", err.msg);
                rc = 1;
            }
            t = time_monotonic() - t;
            c = cpu_seconds() - c;
            if (t < best)
                best = t;
            if (c < best_cpu)
                best_cpu = c;
            const pyti_scan_stats *st = scanner_stats(sc);
            if (r == 0) {
                for (size_t i = 0; i < f.len; i++) {
                    const pyti_finding *x = &f.items[i];
                    if ((int)x->severity < min_sev)
                        continue;
                    printf("  %-8s %-28s %s\n           %s\n           > %s\n",
                           severity_name(x->severity), x->id, x->where ? x->where : "-",
                           x->message, x->excerpt ? x->excerpt : "");
                }
            }
            if (r == repeat - 1)
                printf("%s: %llu files, %llu scanned, %.1f MiB, %llu binary, %llu findings; "
                       "best of %d: %.1f ms wall, %.1f ms CPU (%.0f MiB/s)\n",
                       argv[d], (unsigned long long)st->files, (unsigned long long)st->scanned,
                       (double)st->bytes / 1048576.0, (unsigned long long)st->binary,
                       (unsigned long long)f.len, repeat, best * 1000, best_cpu * 1000,
                       (double)st->bytes / 1048576.0 / best_cpu);
            findings_free(&f);
            scanner_free(sc);
        }
    }
    scan_rules_free(rs);
    return rc;
}
