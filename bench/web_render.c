/* web_render.c — the dashboard renderer's own cost, without HTTP: calls
 * web_render over a list of paths (one a line, as bench/web_load writes
 * them: "/project/NAME", "/report/ID") with one store handle, REPEAT
 * times in a random order, and prints the CPU time (user + system) and
 * wall-clock time per page and the bytes rendered.
 *
 *   web_render --db LOCATION --paths FILE [--repeat N] [--report-cache BYTES]
 *              [--project-cache BYTES]
 *
 * --report-cache turns on the report pages' cache (web_set_report_cache),
 * --project-cache the project pages' (web_set_project_cache); either
 * fills them with one untimed pass over the paths first, so the timed
 * passes show what a page served from them costs.
 *
 * With the same store and paths as web_load, the difference between this
 * and the server's CPU per request is what HTTP and the handle pool cost. */
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "store/store.h"
#include "web/web.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Prints a cache's figures, then turns it off. */
static void cache_report(const char *what, void (*stats)(web_report_cache_info *),
                         void (*set)(size_t))
{
    web_report_cache_info info;
    stats(&info);
    printf("%s cache: %zu entries, %.1f MiB, %llu hits, %llu misses\n", what, info.entries,
           (double)info.used / 1048576.0, info.hits, info.misses);
    set(0);
}

int main(int argc, char **argv)
{
    const char *db = NULL, *paths_file = NULL;
    long repeat = 1;
    long long cache = 0, pcache = 0;
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                          {"paths", required_argument, NULL, 'p'},
                                          {"repeat", required_argument, NULL, 'r'},
                                          {"report-cache", required_argument, NULL, 'c'},
                                          {"project-cache", required_argument, NULL, 'j'},
                                          {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'p')
            paths_file = optarg;
        else if (c == 'r')
            repeat = strtol(optarg, NULL, 10);
        else if (c == 'c')
            cache = strtoll(optarg, NULL, 10);
        else if (c == 'j')
            pcache = strtoll(optarg, NULL, 10);
        else
            return 2;
    }
    if (!db || !paths_file || repeat < 1) {
        fprintf(stderr, "usage: web_render --db LOC --paths FILE [--repeat N] [--report-cache BYTES]"
                        " [--project-cache BYTES]\n");
        return 2;
    }
    FILE *f = fopen(paths_file, "r");
    if (!f) {
        perror(paths_file);
        return 1;
    }
    char **paths = NULL;
    size_t n = 0, cap = 0;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            paths = xreallocarray(paths, cap, sizeof *paths);
        }
        paths[n++] = xstrdup(line);
    }
    fclose(f);
    if (!n) {
        fprintf(stderr, "web_render: %s: no paths\n", paths_file);
        return 1;
    }
    pyti_error err;
    pyti_store *s = store_open(db, &err);
    if (!s) {
        fprintf(stderr, "web_render: %s\n", err.msg);
        return 1;
    }
    if (cache > 0)
        web_set_report_cache((size_t)cache);
    if (pcache > 0)
        web_set_project_cache((size_t)pcache);
    if (cache > 0 || pcache > 0) {
        for (size_t i = 0; i < n; i++) {
            web_page page;
            web_page_init(&page);
            web_render(s, paths[i], NULL, &page, &err);
            web_page_free(&page);
        }
    }
    unsigned long long seed = 0x9e3779b97f4a7c15ull, bytes = 0, pages = 0, failed = 0;
    double cpu0 = cpu_s(), wall0 = time_monotonic();
    for (long r = 0; r < repeat; r++) {
        for (size_t i = 0; i < n; i++) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            const char *p = paths[seed % n];
            char *q = strchr(p, '?');
            char *path = q ? xstrndup(p, (size_t)(q - p)) : xstrdup(p);
            web_page page;
            web_page_init(&page);
            if (web_render(s, path, q ? q + 1 : NULL, &page, &err) != PYTI_OK ||
                page.status != 200)
                failed++;
            bytes += page.body.len;
            pages++;
            web_page_free(&page);
            free(path);
        }
    }
    double cpu = cpu_s() - cpu0, wall = time_monotonic() - wall0;
    printf("%llu pages (%zu paths), %llu not 200; CPU %.3f ms per page, wall %.3f ms per page, "
           "%.1f KiB per page\n",
           pages, n, failed, cpu * 1000 / (double)pages, wall * 1000 / (double)pages,
           (double)bytes / 1024 / (double)pages);
    if (cache > 0)
        cache_report("report", web_report_cache_stats, web_set_report_cache);
    if (pcache > 0)
        cache_report("project", web_project_cache_stats, web_set_project_cache);
    store_close(s);
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return failed ? 1 : 0;
}
