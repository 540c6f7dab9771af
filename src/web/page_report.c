/* page_report.c — the release report page: its order of sections, the
 * header, the verdict and its evidence, regressions against the previous
 * release, the task timeline and the metrics with their catalogue links
 * (the other sections: report_contents.c, report_behaviour.c). The same
 * body serves /report/ID, /project/NAME/VERSION and `pyti test --html`
 * (standalone). Everything taken from the report is escaped by hf(). */
#include "web/web_internal.h"
#include "common/jsonarena.h"
#include "common/jsonutil.h"
#include "common/xalloc.h"
#include "exec/metrics.h"
#include "store/dashboard.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void metric_link(pyti_buf *b, const metric_def *m, bool standalone)
{
    hf(b, "<a href=\"%r#metric-%u\">%s</a>", standalone ? "" : "/catalogue", m->id, m->title);
}

/* ---- header and verdict ---- */

static void section_header(pyti_buf *b, const json_t *r, bool standalone)
{
    const json_t *d = json_object_get(r, "distribution");
    const json_t *v = json_object_get(r, "verdict");
    const char *name = json_get_str(d, "name"), *version = json_get_str(d, "version");
    if (!standalone && name)
        hf(b, "<h1><a href=\"/project/%u\">%s</a> %s</h1>", name, name, version ? version : "");
    else
        hf(b, "<h1>%s %s</h1>", name ? name : json_get_str(d, "filename"), version ? version : "");
    buf_puts(b, "<p>outcome ");
    web_badge(b, json_get_str(r, "outcome"));
    buf_puts(b, " quality ");
    web_badge(b, json_get_str(v, "quality"));
    buf_puts(b, " safety ");
    web_badge(b, json_get_str(v, "safety"));
    buf_puts(b, "</p><dl class=\"kv\">");
    web_kv_text(b, "file", json_get_str(d, "filename"));
    web_kv_text(b, "sha256", json_get_str(d, "sha256"));
    web_kv_int(b, "size (bytes)", json_object_get(d, "size"));
    web_kv_text(b, "kind", json_get_str(d, "kind"));
    web_kv_text(b, "recipe", json_get_str(json_object_get(r, "recipe"), "name"));
    const json_t *venv = web_task_data(web_task(r, "venv"));
    web_kv_text(b, "python",
            json_get_str(json_object_get(json_object_get(venv, "interpreter"), "markers"),
                         "python_full_version"));
    buf_puts(b, "<dt>created</dt><dd>");
    web_time(b, json_get_str(r, "created"));
    buf_puts(b, "</dd>");
    const json_t *dur = json_object_get(r, "duration_s");
    if (json_is_number(dur))
        hf(b, "<dt>duration</dt><dd>%.1f s</dd>", json_number_value(dur));
    web_kv_text(b, "pyti", json_get_str(r, "pyti_version"));
    const char *id = json_get_str(r, "id");
    if (standalone)
        web_kv_text(b, "report", id);
    else if (id)
        hf(b, "<dt>report</dt><dd><a href=\"/report/%u\">%s</a></dd>", id, id);
    buf_puts(b, "</dl>");
}

static void evidence_item(pyti_buf *b, const json_t *e)
{
    const char *kind = json_get_str(e, "kind");
    if (kind && strcmp(kind, "task") == 0) {
        hf(b, "<li>task <b>%s</b> ", json_get_str(e, "task"));
        web_badge(b, json_get_str(e, "status"));
        if (json_get_str(e, "reason"))
            hf(b, " &mdash; %s", json_get_str(e, "reason"));
        buf_puts(b, "</li>");
        return;
    }
    buf_puts(b, "<li>");
    if (json_get_str(e, "severity")) {
        web_badge(b, json_get_str(e, "severity"));
        buf_putc(b, ' ');
    }
    hf(b, "<code>%s</code> %s", json_get_str(e, "id") ?: kind ?: "evidence",
       json_get_str(e, "message"));
    if (json_get_str(e, "where"))
        hf(b, " <span class=\"mut\">at %s</span>", json_get_str(e, "where"));
    if (json_get_str(e, "task") || json_get_str(e, "phase"))
        hf(b, " <span class=\"mut\">(%s)</span>", json_get_str(e, "phase") ?: json_get_str(e, "task"));
    if (json_get_str(e, "excerpt"))
        hf(b, "<br><code>%s</code>", json_get_str(e, "excerpt"));
    /* Whatever else the tracer attached (process, time, argument). */
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)e, k, v) {
        static const char *const shown[] = {"kind", "id", "severity", "message", "where", "task",
                                            "phase", "excerpt", "status", "reason", NULL};
        bool skip = false;
        for (size_t i = 0; shown[i] && !skip; i++)
            skip = strcmp(k, shown[i]) == 0;
        if (skip || json_is_null(v))
            continue;
        hf(b, "<br><span class=\"mut small\">%s:</span> <span class=\"small\">", k);
        web_json_inline(b, v);
        buf_puts(b, "</span>");
    }
    buf_puts(b, "</li>");
}

static void section_verdict(pyti_buf *b, const json_t *r)
{
    const json_t *v = json_object_get(r, "verdict");
    const json_t *q = json_object_get(v, "quality_evidence");
    const json_t *s = json_object_get(v, "safety_evidence");
    buf_puts(b, "<h2 id=\"verdict\">Verdict and evidence</h2>");
    if (json_array_size(s)) {
        buf_puts(b, "<h3>Safety: the evidence that decided it</h3><div class=\"evidence\"><ul>");
        size_t i;
        const json_t *e;
        json_array_foreach(s, i, e) evidence_item(b, e);
        buf_puts(b, "</ul></div>");
    } else {
        hf(b, "<p>Safety <b>%s</b>: no finding or behaviour of medium severity or above.</p>",
           json_get_str(v, "safety"));
    }
    if (json_array_size(q)) {
        buf_puts(b, "<h3>Quality</h3><ul>");
        size_t i;
        const json_t *e;
        json_array_foreach(q, i, e) evidence_item(b, e);
        buf_puts(b, "</ul>");
    } else {
        hf(b, "<p>Quality <b>%s</b>: every task passed or was neutral, no finding of low severity "
              "or above.</p>",
           json_get_str(v, "quality"));
    }
}

/* ---- regressions against the previous release ---- */

/* cur and prev: this report and the previous release's newest report as
 * history entries (metrics_history_entry, store_report_history_entry). */
static void section_regressions(pyti_buf *b, const json_t *cur_entry, const json_t *prev)
{
    json_t *pair = json_array();
    json_array_append(pair, (json_t *)prev);
    json_array_append(pair, (json_t *)cur_entry);
    json_t *h = metrics_history(pair);
    const json_t *cur = json_array_get(h, 1);
    const json_t *regs = json_object_get(cur, "regressions");
    const json_t *changes = json_object_get(cur, "changes");
    const char *pv = json_get_str(prev, "version");
    hf(b, "<h2 id=\"history\">Since the previous release (%s)</h2>", pv ? pv : "?");
    if (json_array_size(regs)) {
        buf_puts(b, "<ul>");
        size_t i;
        const json_t *g;
        json_array_foreach(regs, i, g) {
            hf(b, "<li class=\"reg\">regression: %s", json_get_str(g, "message"));
            const json_t *tests = json_object_get(g, "tests");
            if (json_array_size(tests)) {
                buf_puts(b, "<ul>");
                size_t k;
                const json_t *t;
                json_array_foreach(tests, k, t) hf(b, "<li><code>%s</code></li>", json_string_value(t));
                buf_puts(b, "</ul>");
            }
            buf_puts(b, "</li>");
        }
        buf_puts(b, "</ul>");
    } else {
        buf_puts(b, "<p>No regressions.</p>");
    }
    if (json_array_size(changes)) {
        buf_puts(b, "<table><tr><th>metric</th><th class=\"num\">before</th>"
                    "<th class=\"num\">now</th><th></th></tr>");
        size_t i;
        const json_t *c;
        json_array_foreach(changes, i, c) {
            const metric_def *m = metrics_find(json_get_str(c, "id"));
            if (!m)
                continue;
            char a[48], z[48];
            const json_t *from = json_object_get(c, "from"), *to = json_object_get(c, "to");
            metrics_format(m, json_is_number(from) ? json_number_value(from) : NAN, a, sizeof a);
            metrics_format(m, json_is_number(to) ? json_number_value(to) : NAN, z, sizeof z);
            const char *ch = json_get_str(c, "change");
            buf_puts(b, "<tr><td>");
            metric_link(b, m, false);
            hf(b, "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"%r\">%s</td>"
                  "</tr>",
               a, z, strcmp(ch, "better") == 0 ? "better" : strcmp(ch, "worse") == 0 ? "worse" : "mut",
               ch);
        }
        buf_puts(b, "</table>");
    }
    json_decref(h);
    json_decref(pair);
}

/* ---- timeline ---- */

static void section_timeline(pyti_buf *b, const json_t *r)
{
    const json_t *tasks = json_object_get(r, "tasks");
    size_t n = json_array_size(tasks);
    if (!n)
        return;
    double t0 = web_iso_ms(json_get_str(r, "created"));
    svg_gantt_bar *bars = xcalloc(n, sizeof *bars);
    char **tips = xcalloc(n, sizeof *tips);
    double cursor = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_array_get(tasks, i);
        double start = web_iso_ms(json_get_str(t, "started"));
        const json_t *dur = json_object_get(t, "duration_s");
        double d = json_is_number(dur) ? json_number_value(dur) : 0;
        double off = isfinite(start) && isfinite(t0) ? (start - t0) / 1000.0 : cursor;
        bars[i].label = json_get_str(t, "name") ?: "?";
        bars[i].start_s = off;
        bars[i].duration_s = d;
        bars[i].css_class = web_class(json_get_str(t, "status"));
        const char *reason = json_get_str(t, "reason");
        tips[i] = xasprintf("%s, %.2f s%s%s", json_get_str(t, "status") ?: "?", d,
                            reason ? ": " : "", reason ? reason : "");
        bars[i].tip = tips[i];
        cursor = off + d;
    }
    buf_puts(b, "<h2 id=\"timeline\">Task timeline</h2>");
    svg_gantt(b, "Tasks over time (colour: status)", bars, n, 900);
    buf_puts(b, "<table><tr><th>task</th><th>status</th><th class=\"num\">time</th>"
                "<th>reason</th></tr>");
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_array_get(tasks, i);
        hf(b, "<tr><td><a href=\"#log-%u\">%s</a></td><td>", bars[i].label, bars[i].label);
        web_badge(b, json_get_str(t, "status"));
        hf(b, "</td><td class=\"num\">%.2f s</td><td>%s</td></tr>", bars[i].duration_s,
           json_get_str(t, "reason"));
    }
    buf_puts(b, "</table>");
    for (size_t i = 0; i < n; i++)
        free(tips[i]);
    free(tips);
    free(bars);
}

/* ---- metrics ---- */

static void section_metrics(pyti_buf *b, const json_t *r, bool standalone)
{
    json_t *m = metrics_of_report(r);
    const json_t *values = json_object_get(m, "values");
    const json_t *details = json_object_get(m, "details");
    size_t n;
    const metric_def *cat = metrics_catalogue(&n);
    buf_puts(b, "<h2 id=\"metrics\">Metrics</h2><table><tr><th>metric</th>"
                "<th class=\"num\">value</th><th>from</th><th>note</th></tr>");
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_object_get(values, cat[i].id);
        char val[48];
        metrics_format(&cat[i], json_is_number(v) ? json_number_value(v) : NAN, val, sizeof val);
        buf_puts(b, "<tr><td>");
        metric_link(b, &cat[i], standalone);
        hf(b, "</td><td class=\"num\">%s</td><td>%s</td><td class=\"small\">", val, cat[i].source);
        /* Why a value is missing, or what it is made of. */
        char group[32];
        snprintf(group, sizeof group, "%s", cat[i].id);
        char *dot = strchr(group, '.');
        if (dot)
            *dot = '\0';
        const json_t *d = json_object_get(details, group);
        if (!d && strcmp(group, "style") == 0)
            d = json_object_get(details, "lint");
        if (!json_is_number(v) && json_get_str(d, "reason"))
            hf(b, "%s", json_get_str(d, "reason"));
        else if (!json_is_number(v) && json_get_str(d, "freshness_reason") &&
                 strcmp(cat[i].id, "dependencies.freshness") == 0)
            hf(b, "%s", json_get_str(d, "freshness_reason"));
        else if (strcmp(cat[i].id, "metadata_score") == 0 && json_array_size(json_object_get(d, "missing"))) {
            buf_puts(b, "missing: ");
            size_t k;
            const json_t *x;
            json_array_foreach(json_object_get(d, "missing"), k, x)
                hf(b, "%r%s", k ? "; " : "", json_string_value(x));
        } else if (strcmp(cat[i].id, "installs") == 0 && json_get_str(d, "python"))
            hf(b, "Python %s", json_get_str(d, "python"));
        else if (strcmp(cat[i].id, "tests.pass_rate") == 0 && json_get_str(d, "status") &&
                 strcmp(json_get_str(d, "status"), "neutral") == 0)
            buf_puts(b, "neutral: no tests");
        buf_puts(b, "</td></tr>");
    }
    buf_puts(b, "</table>");
    json_decref(m);
}

static void section_others(pyti_buf *b, const json_t *others, const char *self)
{
    if (json_array_size(others) < 2)
        return;
    hf(b, "<h2 id=\"reports\">Reports of this release (%L)</h2><table><tr><th>report</th>"
          "<th>file</th><th>outcome</th><th>created</th></tr>",
       (long long)json_array_size(others));
    size_t i;
    const json_t *o;
    json_array_foreach(others, i, o) {
        const char *id = json_get_str(o, "id");
        bool me = id && self && strcmp(id, self) == 0;
        hf(b, "<tr><td><a href=\"/report/%u\">%s</a>%r</td><td>%s</td><td>", id, id,
           me ? " (this one)" : "", json_get_str(o, "filename"));
        web_badge(b, json_get_str(o, "outcome"));
        buf_puts(b, "</td><td>");
        web_time(b, json_get_str(o, "created"));
        buf_puts(b, "</td></tr>");
    }
    buf_puts(b, "</table>");
}

/* The parts of the body that depend on the report alone: the header, the
 * contents line and the verdict (head); the timeline to the logs (tail). */
static void body_head(pyti_buf *b, const json_t *report, bool standalone)
{
    section_header(b, report, standalone);
    buf_puts(b, "<p class=\"small\"><a href=\"#verdict\">verdict</a> &middot; "
                "<a href=\"#timeline\">timeline</a> &middot; <a href=\"#metrics\">metrics</a> "
                "&middot; <a href=\"#facts\">distribution</a> &middot; "
                "<a href=\"#dependencies\">dependencies</a> &middot; <a href=\"#tests\">tests</a> "
                "&middot; <a href=\"#behaviour\">behaviour</a> &middot; "
                "<a href=\"#findings\">findings</a> &middot; <a href=\"#logs\">logs</a></p>");
    section_verdict(b, report);
}

static void body_tail(pyti_buf *b, const json_t *report, bool standalone)
{
    section_timeline(b, report);
    section_metrics(b, report, standalone);
    report_section_facts(b, report);
    report_section_dependencies(b, report);
    report_section_tests(b, report);
    report_section_events(b, report);
    report_section_findings(b, report);
    report_section_logs(b, report);
}

void report_body(pyti_buf *b, const json_t *report, const json_t *previous, const json_t *others,
                 bool standalone)
{
    body_head(b, report, standalone);
    if (previous) {
        json_t *cur = metrics_history_entry(report);
        section_regressions(b, cur, previous);
        json_decref(cur);
    }
    body_tail(b, report, standalone);
    if (!standalone)
        section_others(b, others, json_get_str(report, "id"));
}

void web_report_standalone(const json_t *report, pyti_buf *out)
{
    const json_t *d = json_object_get(report, "distribution");
    char *title = xasprintf("pyti report: %s %s", json_get_str(d, "name") ?: json_get_str(d, "filename") ?: "",
                            json_get_str(d, "version") ?: "");
    layout_open(out, title, true);
    report_body(out, report, NULL, NULL, true);
    buf_puts(out, "<h2 id=\"catalogue\">The metrics catalogue</h2>");
    catalogue_table(out);
    layout_close(out);
    free(title);
}

/* ---- the pages ---- */

/* The newest report of the release before release name/version, as a
 * history entry (from the store's columns: no second report parsed), or
 * NULL. */
static json_t *previous_entry(pyti_store *s, const char *name, const char *version)
{
    if (!name || !version)
        return NULL;
    char *id = NULL;
    if (store_previous_release_report(s, name, version, &id, NULL) != PYTI_OK || !id)
        return NULL;
    json_t *prev = store_report_history_entry(s, id, NULL);
    free(id);
    return prev;
}

/* REPORT_RENDERER, the version of the parts parts_render makes, is kept
 * with them in the store (store_put_report_page): parts of another
 * version are ignored and rendered again from the report. It is a digest
 * of the renderer's sources, made at build time (scripts/renderer-version,
 * src/web/meson.build), so any change to what the parts contain — here,
 * report_contents.c, report_behaviour.c, the layout and stylesheet, the
 * badges, the SVG charts, the metrics catalogue — changes it. */
#include "web/report_renderer.h"

/* Renders the parts of report's page that depend on it alone. */
static void parts_render(const json_t *report, report_parts *p)
{
    const json_t *d = json_object_get(report, "distribution");
    const char *name = json_get_str(d, "name"), *version = json_get_str(d, "version");
    memset(p, 0, sizeof *p);
    p->renderer = REPORT_RENDERER;
    p->name = name ? xstrdup(name) : NULL;
    p->version = version ? xstrdup(version) : NULL;
    char *title = xasprintf("%s %s \xe2\x80\x94 pyti", name ? name : json_get_str(d, "filename") ?: "",
                            version ? version : "");
    pyti_buf b = PYTI_BUF_INIT;
    layout_open(&b, title, false);
    body_head(&b, report, false);
    free(title);
    p->head_len = b.len;
    p->head = buf_detach(&b);
    body_tail(&b, report, false);
    p->tail_len = b.len;
    p->tail = buf_detach(&b);
    buf_free(&b);
}

/* The parts of report id from its stored page, if the store has one of
 * this renderer; false otherwise (no row, another renderer, an error). */
static bool parts_from_row(pyti_store *s, const char *id, report_parts *p)
{
    pyti_error e;
    if (store_get_report_page(s, id, p, &e) != PYTI_OK)
        return false;
    if (p->renderer == REPORT_RENDERER)
        return true;
    report_parts_free(p);
    return false;
}

/* Keeps p as report id's stored page; wait: whether to wait for the
 * store's write lock (not on a thread serving requests: the master's
 * reads never wait for a lock). A failure (a busy or read-only store, a
 * report deleted meanwhile) costs only a render at a later request, so
 * it is not reported. */
static void parts_keep(pyti_store *s, const char *id, const report_parts *p, bool wait)
{
    pyti_error e;
    (void)store_put_report_page(s, id, p, wait, &e);
}

/* The parts of report id's page into p: from its stored page, else
 * rendered from the stored report and then stored (the lazy back-fill of
 * reports stored before pages were, or by another renderer); either way
 * kept in the report cache (wait: as for parts_keep). False (err set,
 * nothing in p) when the store has no such report or fails. */
static bool parts_from_store(pyti_store *s, const char *id, report_parts *p, bool wait,
                             pyti_error *err)
{
    if (!parts_from_row(s, id, p)) {
        /* The report's ~1,700 values live only until its parts are
         * rendered: from this thread's arena, not malloc (jsonarena.h). */
        json_arena_begin();
        json_t *report = store_get_report(s, id, err);
        if (report) {
            parts_render(report, p);
            json_decref(report);
        }
        json_arena_end();
        if (!report)
            return false;
        parts_keep(s, id, p, wait);
    }
    report_cache_put(store_location_of(s), id, p);
    return true;
}

void web_report_warm(pyti_store *s, const char *id)
{
    report_parts p;
    if (!id || report_cache_peek(store_location_of(s), id))
        return;
    pyti_error err;
    if (parts_from_store(s, id, &p, true, &err))
        report_parts_free(&p);
}

/* The page of report id: its parts from the cache, else from the stored
 * report (then cached), around what depends on the rest of the store:
 * the regressions against the previous release (both sides from the
 * store's report_metrics rows, so a cached and a fresh page agree) and
 * the release's reports (others, or NULL to read them). */
static pyti_status render_report(pyti_store *s, const char *id, json_t *others, web_page *out,
                                 pyti_error *err)
{
    const char *loc = store_location_of(s);
    report_parts p;
    if (!report_cache_get(loc, id, &p)) {
        pyti_error e;
        if (!parts_from_store(s, id, &p, false, &e)) {
            if (e.code == PYTI_ERR_NOTFOUND) {
                web_error_page(out, 404, "No such report", "This store has no report with that id.");
                return PYTI_OK;
            }
            if (err)
                *err = e;
            return PYTI_ERR_IO;
        }
    }
    json_t *prev = previous_entry(s, p.name, p.version);
    json_t *cur = prev ? store_report_history_entry(s, id, NULL) : NULL;
    json_t *own = others ? NULL : p.name && p.version ? store_release_reports(s, p.name, p.version, NULL) : NULL;
    out->status = 200;
    buf_append(&out->body, p.head, p.head_len);
    if (prev && cur)
        section_regressions(&out->body, cur, prev);
    buf_append(&out->body, p.tail, p.tail_len);
    section_others(&out->body, others ? others : own, id);
    layout_close(&out->body);
    json_decref(prev);
    json_decref(cur);
    json_decref(own);
    report_parts_free(&p);
    return PYTI_OK;
}

static bool is_report_id(const char *id)
{
    size_t n = strlen(id);
    if (n != 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return false;
    return true;
}

pyti_status page_report(pyti_store *s, const char *id, web_page *out, pyti_error *err)
{
    if (!is_report_id(id)) {
        web_error_page(out, 404, "No such report", "A report id is 32 lowercase hex digits.");
        return PYTI_OK;
    }
    return render_report(s, id, NULL, out, err);
}

pyti_status page_release(pyti_store *s, const char *name, const char *version, web_page *out,
                         pyti_error *err)
{
    json_t *reports = store_release_reports(s, name, version, err);
    if (!reports)
        return PYTI_ERR_IO;
    const char *id = json_get_str(json_array_get(reports, 0), "id");
    if (!id) {
        json_decref(reports);
        web_error_page(out, 404, "No such release",
                       "This store has no report of that project and version.");
        return PYTI_OK;
    }
    char idc[40];
    snprintf(idc, sizeof idc, "%s", id);
    pyti_status rc = render_report(s, idc, reports, out, err);
    if (rc == PYTI_OK && out->status == 404) /* listed, yet gone meanwhile */
        rc = pyti_error_set(err, PYTI_ERR_IO, "release %s %s: report %s listed but not found",
                            name, version, idc);
    json_decref(reports);
    return rc;
}
