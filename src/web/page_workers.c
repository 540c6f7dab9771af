/* page_workers.c — the workers page (/workers: every worker with its
 * capabilities, policy, state and the jobs it holds) and the job page
 * (/job/ID: a job, its attempts and logs). */
#include "web/web_internal.h"
#include "common/jsonutil.h"
#include "store/queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void str_list(pyti_buf *b, const json_t *arr)
{
    size_t i;
    const json_t *v;
    if (!json_array_size(arr)) {
        buf_puts(b, "<span class=\"mut\">any</span>");
        return;
    }
    json_array_foreach(arr, i, v) hf(b, "%r%s", i ? ", " : "", json_string_value(v));
}

pyti_status page_workers(pyti_store *s, web_page *out, pyti_error *err)
{
    json_t *workers = store_workers_list(s, err);
    if (!workers)
        return PYTI_ERR_IO;
    pyti_buf *b = &out->body;
    out->status = 200;
    layout_open(b, "Workers \xe2\x80\x94 pyti", false);
    hf(b, "<h1>Workers</h1><p>%L registered.</p>", (long long)json_array_size(workers));
    if (json_array_size(workers)) {
        buf_puts(b, "<div class=\"scroll\"><table><tr><th>worker</th><th>state</th>"
                    "<th>platform</th><th>Pythons</th><th>tags</th><th>recipes</th>"
                    "<th>projects</th><th class=\"num\">max size</th><th class=\"num\">leases</th>"
                    "<th>last seen</th><th>registered</th></tr>");
        size_t i;
        const json_t *w;
        json_array_foreach(workers, i, w) {
            hf(b, "<tr id=\"w-%u\"><td>%s", json_get_str(w, "id"), json_get_str(w, "id"));
            const json_t *info = json_object_get(w, "info");
            if (json_get_str(info, "hostname"))
                hf(b, "<br><span class=\"mut small\">%s</span>", json_get_str(info, "hostname"));
            buf_puts(b, "</td><td>");
            web_badge(b, json_get_str(w, "state"));
            hf(b, "</td><td>%s %s", json_get_str(w, "arch"), json_get_str(w, "os"));
            const json_t *mem = json_object_get(w, "memory_mb");
            if (json_is_integer(mem) && json_integer_value(mem) > 0)
                hf(b, "<br><span class=\"small\">%L MiB</span>", (long long)json_integer_value(mem));
            buf_puts(b, "</td><td>");
            str_list(b, json_object_get(w, "pythons"));
            buf_puts(b, "</td><td>");
            str_list(b, json_object_get(w, "tags"));
            buf_puts(b, "</td><td>");
            str_list(b, json_object_get(w, "recipes"));
            buf_puts(b, "</td><td>");
            str_list(b, json_object_get(w, "projects"));
            const json_t *max = json_object_get(w, "max_dist_size");
            if (json_is_integer(max) && json_integer_value(max) > 0)
                hf(b, "</td><td class=\"num\">%L</td>", (long long)json_integer_value(max));
            else
                buf_puts(b, "</td><td class=\"num\">any</td>");
            hf(b, "<td class=\"num\">%L</td><td class=\"small\">",
               (long long)json_integer_value(json_object_get(w, "leases")));
            web_time(b, json_get_str(w, "last_seen"));
            buf_puts(b, "</td><td class=\"small\">");
            web_time(b, json_get_str(w, "registered"));
            buf_puts(b, "</td></tr>");
        }
        buf_puts(b, "</table></div>");
    }
    /* The jobs each busy worker holds now. */
    size_t i;
    const json_t *w;
    json_array_foreach(workers, i, w) {
        if (json_integer_value(json_object_get(w, "leases")) <= 0)
            continue;
        store_job_filter f = {.worker = json_get_str(w, "id"), .limit = 50};
        json_t *jobs = store_jobs_list(s, &f, err);
        if (!jobs) {
            json_decref(workers);
            return PYTI_ERR_IO;
        }
        hf(b, "<h2>Held by %s</h2>", json_get_str(w, "id"));
        web_jobs_table(b, jobs);
        json_decref(jobs);
    }
    layout_close(b);
    json_decref(workers);
    return PYTI_OK;
}

/* Logs are shown collapsed, their first LOG_SHOW bytes; logs larger than
 * LOG_READ_MAX are not read for a page at all (the API has them). */
#define LOG_SHOW (16u << 10)
#define LOG_READ_MAX (1u << 20)

static void log_block(pyti_store *s, pyti_buf *b, long long job, const json_t *l)
{
    int attempt = (int)json_integer_value(json_object_get(l, "attempt"));
    const char *name = json_get_str(l, "name");
    long long size = (long long)json_integer_value(json_object_get(l, "size"));
    hf(b, "<details><summary>attempt %d: %s &mdash; %L bytes</summary>", attempt, name, size);
    char *text = size <= (long long)LOG_READ_MAX && name
                     ? store_get_log(s, job, attempt, name, NULL, NULL)
                     : NULL;
    if (text) {
        size_t len = strlen(text);
        buf_puts(b, "<pre>");
        html_textn(b, text, len > LOG_SHOW ? LOG_SHOW : len);
        buf_puts(b, "</pre>");
        if (len > LOG_SHOW)
            hf(b, "<p class=\"mut\">%L more bytes through the API.</p>",
               (long long)(len - LOG_SHOW));
        free(text);
    } else {
        buf_puts(b, "<p class=\"mut\">Too large to show here; read it through the API.</p>");
    }
    buf_puts(b, "</details>");
}

pyti_status page_job(pyti_store *s, long long id, web_page *out, pyti_error *err)
{
    pyti_error e;
    json_t *job = store_job_get(s, id, &e);
    if (!job) {
        if (e.code == PYTI_ERR_NOTFOUND) {
            web_error_page(out, 404, "No such job", "This store has no job with that id.");
            return PYTI_OK;
        }
        if (err)
            *err = e;
        return PYTI_ERR_IO;
    }
    json_t *logs = store_list_logs(s, id, err);
    if (!logs) {
        json_decref(job);
        return PYTI_ERR_IO;
    }
    pyti_buf *b = &out->body;
    out->status = 200;
    char title[64];
    snprintf(title, sizeof title, "Job %lld \xe2\x80\x94 pyti", id);
    layout_open(b, title, false);
    const char *name = json_get_str(job, "name"), *version = json_get_str(job, "version");
    hf(b, "<h1>Job %L: <a href=\"/project/%u/%u\">%s %s</a></h1><p>", id, name ? name : "",
       version ? version : "", name, version);
    web_badge(b, json_get_str(job, "state"));
    const char *rep = json_get_str(job, "report_id");
    if (rep)
        hf(b, " &mdash; <a href=\"/report/%u\">the report</a>", rep);
    buf_puts(b, "</p><dl class=\"kv\">");
    static const char *const keys[] = {"filename", "sha256", "url", "recipe", "python",
                                       "created_by", "worker", "error", NULL};
    for (size_t i = 0; keys[i]; i++) {
        const char *v = json_get_str(job, keys[i]);
        if (v && !*v && strcmp(keys[i], "python") == 0)
            v = "any";
        if (v && *v)
            hf(b, "<dt>%s</dt><dd>%s</dd>", keys[i], v);
    }
    hf(b, "<dt>priority</dt><dd>%L</dd><dt>attempts</dt><dd>%L of %L</dd><dt>created</dt><dd>",
       (long long)json_integer_value(json_object_get(job, "priority")),
       (long long)json_integer_value(json_object_get(job, "attempts")),
       (long long)json_integer_value(json_object_get(job, "max_attempts")));
    web_time(b, json_get_str(job, "created"));
    buf_puts(b, "</dd><dt>finished</dt><dd>");
    web_time(b, json_get_str(job, "finished"));
    buf_puts(b, "</dd></dl><h2>Attempts</h2>");
    const json_t *hist = json_object_get(job, "attempt_history");
    if (json_array_size(hist)) {
        buf_puts(b, "<table><tr><th class=\"num\">#</th><th>worker</th><th>leased</th>"
                    "<th>ended</th><th>outcome</th><th>error</th></tr>");
        size_t i;
        const json_t *a;
        json_array_foreach(hist, i, a) {
            hf(b, "<tr><td class=\"num\">%L</td><td>%s</td><td class=\"small\">",
               (long long)json_integer_value(json_object_get(a, "attempt")),
               json_get_str(a, "worker"));
            web_time(b, json_get_str(a, "leased"));
            buf_puts(b, "</td><td class=\"small\">");
            web_time(b, json_get_str(a, "ended"));
            hf(b, "</td><td>%s</td><td class=\"small\">%s</td></tr>", json_get_str(a, "outcome"),
               json_get_str(a, "error"));
        }
        buf_puts(b, "</table>");
    } else {
        buf_puts(b, "<p class=\"mut\">Not leased yet.</p>");
    }
    if (json_array_size(logs)) {
        buf_puts(b, "<h2>Logs</h2>");
        size_t i;
        const json_t *l;
        json_array_foreach(logs, i, l) log_block(s, b, id, l);
    }
    layout_close(b);
    json_decref(logs);
    json_decref(job);
    return PYTI_OK;
}
