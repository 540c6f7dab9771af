/* report_behaviour.c — the parts of the report page about what the
 * package did and what was found: behaviour events grouped by phase,
 * findings with file:line and excerpt, and the tasks' logs, collapsed and
 * size-limited. */
#include "web/web_internal.h"
#include "common/jsonutil.h"
#include "common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Logs are shown up to this many bytes each (the report keeps 64 KiB). */
#define LOG_SHOW_BYTES (16u << 10)
/* Events shown per phase; the rest are counted. */
#define EVENTS_SHOW 300
#define FINDINGS_SHOW 500

/* ---- behaviour events ---- */

/* Events of the report: a report-level "events" list (the tracer's, each
 * with its "phase"), else each sandboxed task's sandbox.events (phase =
 * the task). Returned as [{"phase", "events": [...]}] in order of first
 * appearance. */
static json_t *events_by_phase(const json_t *r, long long *dropped)
{
    json_t *groups = json_array();
    json_t *index = json_object();
    *dropped = 0;
    const json_t *top = json_object_get(r, "events");
    size_t i, k;
    const json_t *t, *e;
    if (json_is_array(top)) {
        json_array_foreach(top, i, e) {
            const char *phase = json_get_str(e, "phase") ?: json_get_str(e, "task") ?: "job";
            json_t *g = json_object_get(index, phase);
            if (!g) {
                g = json_object();
                json_set_text(g, "phase", phase);
                json_object_set_new(g, "events", json_array());
                json_array_append_new(groups, g);
                json_object_set(index, phase, g);
            }
            json_array_append(json_object_get(g, "events"), (json_t *)e);
        }
        const json_t *dr = json_object_get(r, "events_dropped");
        *dropped = json_is_integer(dr) ? json_integer_value(dr) : 0;
    } else {
        json_array_foreach(json_object_get(r, "tasks"), i, t) {
            const json_t *sb = json_object_get(web_task_data(t), "sandbox");
            const json_t *ev = json_object_get(sb, "events");
            const json_t *dr = json_object_get(sb, "events_dropped");
            *dropped += json_is_integer(dr) ? json_integer_value(dr) : 0;
            if (!json_array_size(ev))
                continue;
            json_t *g = json_object();
            json_set_text(g, "phase", json_get_str(t, "name"));
            json_t *list = json_array();
            json_array_foreach(ev, k, e) json_array_append(list, (json_t *)e);
            json_object_set_new(g, "events", list);
            json_array_append_new(groups, g);
        }
    }
    json_decref(index);
    return groups;
}

static void event_row(pyti_buf *b, const json_t *e)
{
    static const char *const main_keys[] = {"time", "t", "pid", "comm", "process", "syscall",
                                            "kind", "type", "action", "severity", NULL};
    buf_puts(b, "<tr>");
    /* Seconds since the job started (the tracer's "t"), else the time. */
    const json_t *rel = json_object_get(e, "t");
    const json_t *tm = json_object_get(e, "time");
    buf_puts(b, "<td class=\"num small\">");
    if (json_is_number(rel))
        hf(b, "%.3f s", json_number_value(rel));
    else if (tm)
        web_json_inline(b, tm);
    buf_puts(b, "</td><td class=\"small\">");
    const json_t *pid = json_object_get(e, "pid");
    if (pid)
        web_json_inline(b, pid);
    const char *comm = json_get_str(e, "comm") ?: json_get_str(e, "process");
    if (comm)
        hf(b, " %s", comm);
    hf(b, "</td><td><code>%s</code></td><td>",
       json_get_str(e, "syscall") ?: json_get_str(e, "kind") ?: json_get_str(e, "type"));
    if (json_get_str(e, "severity"))
        web_badge(b, json_get_str(e, "severity"));
    else if (json_get_str(e, "action"))
        hf(b, "%s", json_get_str(e, "action"));
    buf_puts(b, "</td><td class=\"small\">");
    const char *k;
    const json_t *v;
    bool first = true;
    json_object_foreach((json_t *)e, k, v) {
        bool skip = strcmp(k, "phase") == 0 || strcmp(k, "task") == 0;
        for (size_t i = 0; main_keys[i] && !skip; i++)
            skip = strcmp(k, main_keys[i]) == 0;
        if (skip || json_is_null(v))
            continue;
        hf(b, "%r<span class=\"mut\">%s</span>=", first ? "" : " ", k);
        web_json_inline(b, v);
        first = false;
    }
    buf_puts(b, "</td></tr>");
}

void report_section_events(pyti_buf *b, const json_t *r)
{
    long long dropped = 0;
    json_t *groups = events_by_phase(r, &dropped);
    buf_puts(b, "<h2 id=\"behaviour\">Behaviour</h2>");
    if (!json_array_size(groups)) {
        bool sandboxed = false;
        size_t i;
        const json_t *t;
        json_array_foreach(json_object_get(r, "tasks"), i, t)
            sandboxed |= json_is_object(json_object_get(web_task_data(t), "sandbox"));
        hf(b, "<p>%s</p>", sandboxed ? "No behaviour events were recorded in the sandbox."
                                     : "No package code ran (no sandboxed task in the recipe).");
    }
    size_t i;
    const json_t *g;
    json_array_foreach(groups, i, g) {
        const json_t *ev = json_object_get(g, "events");
        size_t n = json_array_size(ev);
        hf(b, "<h3>%s &mdash; %L event%r</h3><table><tr><th class=\"num\">time</th>"
              "<th>process</th><th>call</th><th></th><th>details</th></tr>",
           json_get_str(g, "phase"), (long long)n, n == 1 ? "" : "s");
        size_t k;
        const json_t *e;
        json_array_foreach(ev, k, e) {
            if (k >= EVENTS_SHOW)
                break;
            event_row(b, e);
        }
        buf_puts(b, "</table>");
        if (n > EVENTS_SHOW)
            hf(b, "<p class=\"mut\">%L more events in this phase are in the JSON report.</p>",
               (long long)(n - EVENTS_SHOW));
    }
    if (dropped > 0)
        hf(b, "<p class=\"mut\">%L events were not recorded (over the sandbox's cap).</p>",
           dropped);
    json_decref(groups);
}

/* ---- findings ---- */

static int sev_rank(const char *s)
{
    static const char *const order[] = {"critical", "high", "medium", "low", "info", NULL};
    for (int i = 0; s && order[i]; i++)
        if (strcmp(s, order[i]) == 0)
            return i;
    return 5;
}

void report_section_findings(pyti_buf *b, const json_t *r)
{
    const json_t *fs = json_object_get(r, "findings");
    size_t n = json_array_size(fs);
    hf(b, "<h2 id=\"findings\">Findings (%L)</h2>", (long long)n);
    if (!n) {
        buf_puts(b, "<p>None.</p>");
        return;
    }
    buf_puts(b, "<table><tr><th>severity</th><th>id</th><th>where</th><th>message</th></tr>");
    size_t shown = 0;
    for (int rank = 0; rank <= 5; rank++) {
        size_t i;
        const json_t *f;
        json_array_foreach(fs, i, f) {
            if (sev_rank(json_get_str(f, "severity")) != rank || shown >= FINDINGS_SHOW)
                continue;
            shown++;
            buf_puts(b, "<tr><td>");
            web_badge(b, json_get_str(f, "severity"));
            hf(b, "</td><td><code>%s</code><br><span class=\"mut small\">%s</span></td>"
                  "<td class=\"small\"><code>%s</code></td><td>%s",
               json_get_str(f, "id"), json_get_str(f, "task"), json_get_str(f, "where"),
               json_get_str(f, "message"));
            if (json_get_str(f, "excerpt"))
                hf(b, "<br><code>%s</code>", json_get_str(f, "excerpt"));
            buf_puts(b, "</td></tr>");
        }
    }
    buf_puts(b, "</table>");
    if (n > shown)
        hf(b, "<p class=\"mut\">%L more findings are in the JSON report.</p>",
           (long long)(n - shown));
}

/* ---- logs ---- */

void report_section_logs(pyti_buf *b, const json_t *r)
{
    buf_puts(b, "<h2 id=\"logs\">Logs</h2>");
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(r, "tasks"), i, t) {
        const char *log = json_get_str(t, "log");
        const char *name = json_get_str(t, "name");
        size_t len = log ? strlen(log) : 0;
        hf(b, "<details id=\"log-%u\"><summary>%s &mdash; %L bytes</summary>", name ? name : "",
           name, (long long)len);
        if (len) {
            buf_puts(b, "<pre>");
            html_textn(b, log, len > LOG_SHOW_BYTES ? LOG_SHOW_BYTES : len);
            buf_puts(b, "</pre>");
            if (len > LOG_SHOW_BYTES)
                hf(b, "<p class=\"mut\">%L more bytes in the JSON report.</p>",
                   (long long)(len - LOG_SHOW_BYTES));
        }
        buf_puts(b, "</details>");
    }
}

