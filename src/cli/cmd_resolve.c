/* cmd_resolve.c — `pyti resolve REQUIREMENT...`: resolve requirements
 * against package indexes for a target Python and print the chosen
 * versions (the work is in src/index: http, index, resolver). */
#include "cli/cli.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/str.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "common/timeutil.h"
#include "exec/depbuild.h"
#include "index/http.h"
#include "index/index.h"
#include "index/resolver.h"
#include "index/tags.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Requirement lines of a requirements file: comments and blank lines
 * skipped; options (-r, --index-url, ...) are not supported. */
static pyti_status read_requirements(const char *path, pyti_strv *out, pyti_error *err)
{
    pyti_buf b = PYTI_BUF_INIT;
    pyti_status st = path_read_file(path, 16u << 20, &b, err);
    if (st != PYTI_OK)
        return st;
    char *text = b.data ? b.data : (char *)"";
    unsigned lineno = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        char *hash = strstr(line, " #");
        if (line[0] == '#')
            *line = '\0';
        else if (hash)
            *hash = '\0';
        char *t = str_trim(line);
        if (*t == '-') {
            st = pyti_error_set(err, PYTI_ERR_USAGE,
                                "%s:%u: options in requirements files are not supported ('%s')",
                                path, lineno, t);
            break;
        }
        if (*t)
            strv_push(out, t);
        line = nl ? nl + 1 : NULL;
    }
    buf_free(&b);
    return st;
}

/* Copies (or hard-links) a cached file into dir. */
static pyti_status place(const char *src, const char *dir, const char *name, pyti_error *err)
{
    char *dst = path_join(dir, name);
    unlink(dst);
    pyti_status st = PYTI_OK;
    if (link(src, dst) != 0) {
        pyti_buf b = PYTI_BUF_INIT;
        st = path_read_file(src, 0, &b, err);
        if (st == PYTI_OK)
            st = path_write_file_atomic(dst, b.data ? b.data : "", b.len, err);
        buf_free(&b);
    }
    free(dst);
    return st;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int cmd_resolve(int argc, char **argv, cli_globals *g)
{
    const cli_command *self = cli_find_command("resolve");
    static const struct option opts[] = {
        {"index-url", required_argument, NULL, 'i'},
        {"extra-index-url", required_argument, NULL, 'x'},
        {"python", required_argument, NULL, 'p'},
        {"json", required_argument, NULL, 'j'},
        {"offline", no_argument, NULL, 'o'},
        {"pre", no_argument, NULL, 'P'},
        {"requirement", required_argument, NULL, 'r'},
        {"download", required_argument, NULL, 'd'},
        {"no-cache", no_argument, NULL, 'n'},
        {"no-build", no_argument, NULL, 'B'},
        {"quiet", no_argument, NULL, 'q'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *index_url = NULL, *python = NULL, *json_path = NULL, *download = NULL;
    bool offline = false, pre = false, no_cache = false, no_build = false;
    pyti_strv extra = PYTI_STRV_INIT, reqs = PYTI_STRV_INIT, req_files = PYTI_STRV_INIT;
    int c, rc = EXIT_PASSED;
    while ((c = getopt_long(argc, argv, "i:r:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'i': index_url = optarg; break;
        case 'x': strv_push(&extra, optarg); break;
        case 'p': python = optarg; break;
        case 'j': json_path = optarg; break;
        case 'o': offline = true; break;
        case 'P': pre = true; break;
        case 'r': strv_push(&req_files, optarg); break;
        case 'd': download = optarg; break;
        case 'n': no_cache = true; break;
        case 'B': no_build = true; break;
        case 'q': g->quiet = true; break;
        case 'c': g->config_path = optarg; break;
        case 'h':
            cli_print_command_help(self, stdout);
            goto out;
        default: rc = cli_usage(self, "bad option"); goto out;
        }
    }
    for (int i = optind; i < argc; i++)
        strv_push(&reqs, argv[i]);
    pyti_error err;
    for (size_t i = 0; i < req_files.len; i++)
        if (read_requirements(req_files.items[i], &reqs, &err) != PYTI_OK) {
            rc = cli_fail(&err);
            goto out;
        }
    if (!reqs.len) {
        rc = cli_usage(self, "expected at least one REQUIREMENT");
        goto out;
    }
    if (offline && no_cache) {
        rc = cli_usage(self, "--offline needs the cache; it cannot go with --no-cache");
        goto out;
    }

    pyti_config *cfg = cli_load_config(g, &err);
    if (!cfg) {
        rc = cli_fail(&err);
        goto out;
    }
    pyti_strv urls = PYTI_STRV_INIT;
    pyti_http_options ho;
    http_options_default(&ho);
    pyti_target target;
    bool have_target = false;
    pyti_http *http = NULL;
    pyti_index *ix = NULL;
    pyti_resolution res = {0};
    pyti_depbuild_host *builder = NULL;
    if (index_urls_from_config(cfg, index_url, &extra, &urls, &err) != PYTI_OK ||
        index_http_options_from_config(cfg, &ho, &err) != PYTI_OK ||
        target_init_host(&target, python, &err) != PYTI_OK) {
        rc = cli_fail(&err);
        goto done;
    }
    have_target = true;
    ho.offline = offline;
    ho.no_cache = no_cache;
    if (!(http = http_new(&ho, &err))) {
        rc = cli_fail(&err);
        goto done;
    }
    ix = index_new(http, &urls);
    if (!no_build) {
        /* sdists without static metadata: their PEP 517 hook, in the
         * sandbox (depbuild.h); without a sandbox they stay needs-build. */
        builder = depbuild_host_new(cfg, python, &urls, offline);
        index_set_builder(ix, depbuild_host_metadata, builder);
    }
    pyti_provider prov;
    index_provider(ix, &prov);
    pyti_resolve_options ro = {.allow_prereleases = pre};
    double t0 = now_s();
    pyti_status st = resolve_requirements(&prov, &target, (const char *const *)reqs.items,
                                          reqs.len, &ro, &res, &err);
    double elapsed = now_s() - t0;
    if (st != PYTI_OK && depbuild_host_failed(builder)) {
        /* the sdist's backend failed: no resolution (as pip's
         * metadata-generation-failed), not a rejected input */
        const char *blog = depbuild_host_log(builder);
        if (*blog && g->verbose)
            fputs(blog, stderr);
        log_error("cannot resolve: %s", err.msg);
        rc = EXIT_FLAGGED;
    } else if (st != PYTI_OK) {
        rc = cli_fail(&err);
    } else if (res.outcome == PYTI_RESOLVED) {
        for (size_t i = 0; i < res.npins; i++)
            printf("%s==%s\n", res.pins[i].name, res.pins[i].version);
    } else {
        const char *blog = builder ? depbuild_host_log(builder) : "";
        if (*blog && g->verbose)
            fputs(blog, stderr);
        log_error("cannot resolve (%s): %s", resolve_outcome_name(res.outcome),
                  res.explanation ? res.explanation : "");
        rc = EXIT_FLAGGED;
    }
    if (download && res.outcome == PYTI_RESOLVED && rc == EXIT_PASSED) {
        if (path_mkdirs(download, 0755, &err) != PYTI_OK) {
            rc = cli_fail(&err);
        } else {
            for (size_t i = 0; i < res.npins && rc == EXIT_PASSED; i++) {
                char *path = NULL;
                if (index_download(ix, &res.pins[i].file, &path, NULL, &err) != PYTI_OK ||
                    place(path, download, res.pins[i].file.filename, &err) != PYTI_OK)
                    rc = cli_fail(&err);
                free(path);
            }
        }
    }
    /* A metadata build is package code: what the tracer saw is told. */
    json_t *bfind = builder ? depbuild_host_findings(builder) : json_array();
    size_t bi;
    json_t *bv;
    json_array_foreach(bfind, bi, bv)
        log_warn("while building metadata: %s: %s", json_get_str(bv, "id"),
                 json_get_str(bv, "message"));
    pyti_http_stats hs;
    http_stats(http, &hs);
    if (g->verbose)
        fprintf(stderr,
                "pyti: %.3fs, %lu rounds, %lu backtracks, %lu projects, %lu metadata reads, "
                "%lu requests (%lu retries), %lu cache hits, %llu bytes\n",
                elapsed, res.rounds, res.backtracks, res.projects, res.metadata_reads,
                hs.requests, hs.retries, hs.cache_hits, hs.bytes);
    if (json_path && (st == PYTI_OK || res.outcome == PYTI_RESOLVE_ERROR)) {
        json_t *j = resolution_to_json(&res);
        json_object_set_new(j, "schema_version", json_integer(1));
        char full[32];
        target_python_full(&target, full, sizeof full);
        json_set_text(j, "python", full);
        json_object_set_new(j, "requirements", json_array());
        for (size_t i = 0; i < reqs.len; i++)
            json_array_append_new(json_object_get(j, "requirements"), json_text(reqs.items[i]));
        json_object_set_new(j, "indexes", json_array());
        for (size_t i = 0; i < urls.len; i++)
            json_array_append_new(json_object_get(j, "indexes"), json_text(urls.items[i]));
        if (builder) {
            json_object_set_new(j, "builds", depbuild_host_records(builder));
            json_object_set(j, "build_findings", bfind);
        }
        json_t *stats = json_object_get(j, "stats");
        json_object_set_new(stats, "seconds", json_real(elapsed));
        json_object_set_new(stats, "requests", json_integer((json_int_t)hs.requests));
        json_object_set_new(stats, "retries", json_integer((json_int_t)hs.retries));
        json_object_set_new(stats, "cache_hits", json_integer((json_int_t)hs.cache_hits));
        if (strcmp(json_path, "-") == 0) {
            char *s = json_dump_pretty(j);
            fputs(s, stdout);
            free(s);
        } else if (json_write_file(j, json_path, &err) != PYTI_OK) {
            log_error("%s", err.msg);
            rc = EXIT_INTERNAL;
        }
        json_decref(j);
    }
    json_decref(bfind);
done:
    resolution_free(&res);
    index_free(ix);
    depbuild_host_free(builder);
    http_free(http);
    if (have_target)
        target_free(&target);
    strv_free(&urls);
    config_free(cfg);
out:
    strv_free(&extra);
    strv_free(&reqs);
    strv_free(&req_files);
    return rc;
}
