/* page_overview.c — the overview (/): the queue by state, throughput and
 * verdicts over time (SVG), latest jobs, failing and suspicious releases,
 * slow jobs, workers online. */
#include "web/web_internal.h"
#include "common/jsonutil.h"
#include "common/xalloc.h"
#include "store/dashboard.h"
#include "store/queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LATEST_JOBS 15
#define FLAGGED 10
#define SLOW_JOBS 10

static void tiles(pyti_buf *b, const store_metrics *m)
{
    buf_puts(b, "<h2>Queue</h2><div class=\"tiles\">");
    for (int st = 0; st < STORE_JOB_NSTATES; st++)
        hf(b, "<div class=\"tile\"><span class=\"mut\">%s</span><b>%L</b></div>",
           store_job_state_name((store_job_state)st), m->jobs[st]);
    hf(b, "<div class=\"tile\"><span class=\"mut\">workers online</span><b>%L</b></div>"
          "<div class=\"tile\"><span class=\"mut\">done last hour</span><b>%L</b></div>"
          "<div class=\"tile\"><span class=\"mut\">run time p50 / p99</span><b>%.1f / %.1f s</b>"
          "</div><div class=\"tile\"><span class=\"mut\">oldest queued</span><b>%.0f s</b></div>"
          "</div>",
       m->workers_idle + m->workers_busy + m->workers_draining, m->done_recent,
       m->duration_p50_s, m->duration_p99_s, m->oldest_queued_s);
}

static void throughput_chart(pyti_buf *b, const json_t *tp)
{
    const json_t *buckets = json_object_get(tp, "buckets");
    size_t n = json_array_size(buckets);
    double *done = xcalloc(n + 1, sizeof *done), *failed = xcalloc(n + 1, sizeof *failed);
    char **labels = xcalloc(n + 1, sizeof *labels);
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(buckets, i);
        done[i] = (double)json_integer_value(json_object_get(o, "done"));
        failed[i] = (double)json_integer_value(json_object_get(o, "failed"));
        char iso[40];
        long long t = json_integer_value(json_object_get(o, "t"));
        time_t sec = (time_t)(t / 1000);
        struct tm tm;
        gmtime_r(&sec, &tm);
        strftime(iso, sizeof iso, "%H:%M", &tm);
        labels[i] = xstrdup(iso);
    }
    svg_series series[] = {{"done", "c-done", done}, {"failed", "c-failed", failed}};
    svg_stacked_bars(b, "Jobs finished per hour, last 24 h (UTC)", (const char *const *)labels, n,
                     series, 2, 560, 220);
    for (size_t i = 0; i < n; i++)
        free(labels[i]);
    free(labels);
    free(done);
    free(failed);
}

static void verdicts_chart(pyti_buf *b, const json_t *days)
{
    size_t n = json_array_size(days);
    static const char *const keys[] = {"passed", "failed", "rejected", "error", "suspicious",
                                       "malicious"};
    double *v[6];
    for (int k = 0; k < 6; k++)
        v[k] = xcalloc(n + 1, sizeof *v[k]);
    const char **labels = xcalloc(n + 1, sizeof *labels);
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(days, i);
        for (int k = 0; k < 6; k++)
            v[k][i] = (double)json_integer_value(json_object_get(o, keys[k]));
        const char *day = json_get_str(o, "day");
        labels[i] = day && strlen(day) == 10 ? day + 5 : day; /* MM-DD */
    }
    /* Outcomes stack to the number of reports; suspicious and malicious
     * are a second chart: they overlap the outcomes. */
    svg_series outcomes[] = {{"passed", "c-passed", v[0]},
                             {"failed", "c-failed", v[1]},
                             {"rejected", "c-rejected", v[2]},
                             {"error", "c-error", v[3]}};
    svg_stacked_bars(b, "Reports per day by outcome, last 14 days", labels, n, outcomes, 4, 560,
                     220);
    svg_series safety[] = {{"suspicious", "c-suspicious", v[4]},
                           {"malicious", "c-malicious", v[5]}};
    svg_stacked_bars(b, "Flagged by safety per day", labels, n, safety, 2, 560, 160);
    for (int k = 0; k < 6; k++)
        free(v[k]);
    free(labels);
}

static void flagged_table(pyti_buf *b, const char *title, const json_t *rows)
{
    hf(b, "<div><h2>%s</h2>", title);
    if (!json_array_size(rows)) {
        buf_puts(b, "<p class=\"mut\">None.</p></div>");
        return;
    }
    buf_puts(b, "<table><tr><th>release</th><th>verdict</th><th>when</th></tr>");
    size_t i;
    const json_t *o;
    json_array_foreach(rows, i, o) {
        const json_t *l = json_object_get(o, "latest");
        const char *p = json_get_str(o, "project"), *v = json_get_str(o, "version");
        hf(b, "<tr><td><a href=\"/project/%u/%u\">%s %s</a></td><td>", p, v, p, v);
        web_badge(b, json_get_str(l, "outcome"));
        buf_putc(b, ' ');
        web_badge(b, json_get_str(l, "safety"));
        buf_puts(b, "</td><td class=\"small\">");
        web_time(b, json_get_str(l, "created"));
        buf_puts(b, "</td></tr>");
    }
    buf_puts(b, "</table></div>");
}

void web_jobs_table(pyti_buf *b, const json_t *jobs)
{
    if (!json_array_size(jobs)) {
        buf_puts(b, "<p class=\"mut\">No jobs.</p>");
        return;
    }
    buf_puts(b, "<table><tr><th class=\"num\">job</th><th>distribution</th><th>state</th>"
                "<th>worker</th><th>created</th><th class=\"num\">run time</th></tr>");
    size_t i;
    const json_t *j;
    json_array_foreach(jobs, i, j) {
        long long id = (long long)json_integer_value(json_object_get(j, "id"));
        const char *rep = json_get_str(j, "report_id");
        hf(b, "<tr><td class=\"num\"><a href=\"/job/%L\">%L</a></td><td>", id, id);
        if (rep)
            hf(b, "<a href=\"/report/%u\">%s</a>", rep, json_get_str(j, "filename"));
        else
            hf(b, "%s", json_get_str(j, "filename"));
        buf_puts(b, "</td><td>");
        web_badge(b, json_get_str(j, "state"));
        hf(b, "</td><td class=\"small\">%s</td><td class=\"small\">", json_get_str(j, "worker"));
        web_time(b, json_get_str(j, "created"));
        const json_t *d = json_object_get(j, "duration_s");
        if (json_is_number(d))
            hf(b, "</td><td class=\"num\">%.1f s</td></tr>", json_number_value(d));
        else
            buf_puts(b, "</td><td class=\"num\">&ndash;</td></tr>");
    }
    buf_puts(b, "</table>");
}

static void slow_table(pyti_buf *b, const json_t *rows)
{
    buf_puts(b, "<div><h2>Slow jobs (last 7 days)</h2>");
    if (!json_array_size(rows)) {
        buf_puts(b, "<p class=\"mut\">None.</p></div>");
        return;
    }
    buf_puts(b, "<table><tr><th>distribution</th><th>worker</th><th class=\"num\">run time</th>"
                "</tr>");
    size_t i;
    const json_t *o;
    json_array_foreach(rows, i, o) {
        const char *rep = json_get_str(o, "report_id");
        buf_puts(b, "<tr><td>");
        if (rep)
            hf(b, "<a href=\"/report/%u\">%s</a>", rep, json_get_str(o, "filename"));
        else
            hf(b, "<a href=\"/job/%L\">%s</a>", (long long)json_integer_value(json_object_get(o, "id")),
               json_get_str(o, "filename"));
        hf(b, "</td><td class=\"small\">%s</td><td class=\"num\">%.1f s</td></tr>",
           json_get_str(o, "worker"), json_number_value(json_object_get(o, "duration_s")));
    }
    buf_puts(b, "</table></div>");
}

static void workers_online(pyti_buf *b, const json_t *workers)
{
    buf_puts(b, "<div><h2>Workers online</h2>");
    size_t i, n = 0;
    const json_t *w;
    json_array_foreach(workers, i, w) {
        const char *st = json_get_str(w, "state");
        if (st && strcmp(st, "gone") == 0)
            continue;
        if (n++ == 0)
            buf_puts(b, "<table><tr><th>worker</th><th>state</th><th class=\"num\">leases</th>"
                        "<th>last seen</th></tr>");
        hf(b, "<tr><td>%s</td><td>", json_get_str(w, "id"));
        web_badge(b, st);
        hf(b, "</td><td class=\"num\">%L</td><td class=\"small\">",
           (long long)json_integer_value(json_object_get(w, "leases")));
        web_time(b, json_get_str(w, "last_seen"));
        buf_puts(b, "</td></tr>");
    }
    buf_puts(b, n ? "</table>" : "<p class=\"mut\">None.</p>");
    buf_puts(b, "<p class=\"small\"><a href=\"/workers\">All workers</a></p></div>");
}

pyti_status page_overview(pyti_store *s, web_page *out, pyti_error *err)
{
    store_metrics m;
    if (store_metrics_get(s, 3600, &m, err) != PYTI_OK)
        return PYTI_ERR_IO;
    store_job_filter f = {.limit = LATEST_JOBS};
    json_t *tp = store_throughput(s, 24 * 3600, 3600, err);
    json_t *days = tp ? store_verdicts_by_day(s, 14, err) : NULL;
    json_t *jobs = days ? store_jobs_list(s, &f, err) : NULL;
    json_t *failing = jobs ? store_list_flagged_releases(s, "failing", FLAGGED, err) : NULL;
    json_t *susp = failing ? store_list_flagged_releases(s, "suspicious", FLAGGED, err) : NULL;
    json_t *slow = susp ? store_slow_jobs(s, 7 * 86400, SLOW_JOBS, err) : NULL;
    json_t *workers = slow ? store_workers_list(s, err) : NULL;
    pyti_status rc = PYTI_ERR_IO;
    if (workers) {
        pyti_buf *b = &out->body;
        out->status = 200;
        layout_open(b, "pyti \xe2\x80\x94 overview", false);
        buf_puts(b, "<h1>Overview</h1>");
        tiles(b, &m);
        buf_puts(b, "<div class=\"grid2\"><div><h2>Throughput</h2>");
        throughput_chart(b, tp);
        buf_puts(b, "</div><div><h2>Verdicts over time</h2>");
        verdicts_chart(b, days);
        buf_puts(b, "</div></div><div class=\"grid2\">");
        flagged_table(b, "Failing releases", failing);
        flagged_table(b, "Suspicious releases", susp);
        buf_puts(b, "</div><h2>Latest jobs</h2>");
        web_jobs_table(b, jobs);
        buf_puts(b, "<div class=\"grid2\">");
        slow_table(b, slow);
        workers_online(b, workers);
        buf_puts(b, "</div>");
        layout_close(b);
        rc = PYTI_OK;
    }
    json_decref(tp);
    json_decref(days);
    json_decref(jobs);
    json_decref(failing);
    json_decref(susp);
    json_decref(slow);
    json_decref(workers);
    return rc;
}
