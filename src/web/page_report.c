/* page_report.c — the release report page: verdict and its evidence,
 * regressions against the previous release, the task timeline, metrics
 * with their catalogue links, distribution facts, dependencies, tests,
 * behaviour events grouped by phase, static findings, logs. The same
 * body serves /report/ID, /project/NAME/VERSION and `pyti test --html`
 * (standalone). Everything taken from the report is escaped by hf(). */
#include "web/web_internal.h"
#include "common/jsonutil.h"
#include "common/xalloc.h"
#include "exec/metrics.h"
#include "store/dashboard.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Logs are shown up to this many bytes each (the report keeps 64 KiB). */
#define LOG_SHOW_BYTES (16u << 10)
/* Events shown per phase; the rest are counted. */
#define EVENTS_SHOW 300
#define FINDINGS_SHOW 500

static const json_t *task_of(const json_t *r, const char *builtin)
{
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(r, "tasks"), i, t) {
        const char *b = json_get_str(t, "builtin");
        if (b && strcmp(b, builtin) == 0)
            return t;
    }
    return NULL;
}

static const json_t *data_of(const json_t *t)
{
    return t ? json_object_get(t, "data") : NULL;
}

static void kv_text(pyti_buf *b, const char *k, const char *v)
{
    if (v)
        hf(b, "<dt>%s</dt><dd>%s</dd>", k, v);
}

static void kv_int(pyti_buf *b, const char *k, const json_t *v)
{
    if (json_is_integer(v))
        hf(b, "<dt>%s</dt><dd>%L</dd>", k, (long long)json_integer_value(v));
}

/* A JSON value compactly as escaped text (for generic event fields). */
static void json_inline(pyti_buf *b, const json_t *v)
{
    if (json_is_string(v)) {
        html_text(b, json_string_value(v));
        return;
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s && strlen(s) > 600)
        strcpy(s + 597, "...");
    html_text(b, s);
    free(s);
}

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
    kv_text(b, "file", json_get_str(d, "filename"));
    kv_text(b, "sha256", json_get_str(d, "sha256"));
    kv_int(b, "size (bytes)", json_object_get(d, "size"));
    kv_text(b, "kind", json_get_str(d, "kind"));
    kv_text(b, "recipe", json_get_str(json_object_get(r, "recipe"), "name"));
    const json_t *venv = data_of(task_of(r, "venv"));
    kv_text(b, "python",
            json_get_str(json_object_get(json_object_get(venv, "interpreter"), "markers"),
                         "python_full_version"));
    buf_puts(b, "<dt>created</dt><dd>");
    web_time(b, json_get_str(r, "created"));
    buf_puts(b, "</dd>");
    const json_t *dur = json_object_get(r, "duration_s");
    if (json_is_number(dur))
        hf(b, "<dt>duration</dt><dd>%.1f s</dd>", json_number_value(dur));
    kv_text(b, "pyti", json_get_str(r, "pyti_version"));
    const char *id = json_get_str(r, "id");
    if (standalone)
        kv_text(b, "report", id);
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
        json_inline(b, v);
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

/* prev: the previous release's newest report as a history entry
 * (metrics_history_entry, store_report_history_entry). */
static void section_regressions(pyti_buf *b, const json_t *r, const json_t *prev)
{
    json_t *pair = json_array();
    json_array_append(pair, (json_t *)prev);
    json_array_append_new(pair, metrics_history_entry(r));
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

/* ---- distribution facts ---- */

static void section_facts(pyti_buf *b, const json_t *r)
{
    const json_t *md = json_object_get(data_of(task_of(r, "metadata")), "metadata");
    const json_t *facts = data_of(task_of(r, "facts"));
    const json_t *archive = json_object_get(data_of(task_of(r, "extract")), "archive");
    buf_puts(b, "<h2 id=\"facts\">Distribution</h2><div class=\"grid2\"><div><h3>Metadata</h3>"
                "<dl class=\"kv\">");
    static const char *const fields[][2] = {
        {"summary", "summary"}, {"license", "license"}, {"license_expression", "license expression"},
        {"requires_python", "Requires-Python"}, {"home_page", "home page"}, {"author", "author"},
        {"author_email", "author e-mail"}, {"maintainer", "maintainer"},
        {"metadata_version", "metadata version"}, {"description_content_type", "description type"}};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        kv_text(b, fields[i][1], json_get_str(md, fields[i][0]));
    const json_t *urls = json_object_get(md, "project_url");
    if (json_array_size(urls)) {
        buf_puts(b, "<dt>project URLs</dt><dd>");
        size_t i;
        const json_t *u;
        /* Shown as text, never as links: a package's URL is not pyti's to
         * recommend (and javascript: URLs stay inert). */
        json_array_foreach(urls, i, u) hf(b, "%r%s", i ? "<br>" : "", json_string_value(u));
        buf_puts(b, "</dd>");
    }
    const json_t *cls = json_object_get(md, "classifier");
    if (json_array_size(cls)) {
        hf(b, "<dt>classifiers</dt><dd><details><summary>%L</summary>",
           (long long)json_array_size(cls));
        size_t i;
        const json_t *c;
        json_array_foreach(cls, i, c) hf(b, "%s<br>", json_string_value(c));
        buf_puts(b, "</details></dd>");
    }
    buf_puts(b, "</dl>");
    const char *desc = json_get_str(md, "description");
    if (desc) {
        size_t len = strlen(desc);
        hf(b, "<details><summary>description (%L bytes)</summary><pre>", (long long)len);
        html_textn(b, desc, len > LOG_SHOW_BYTES ? LOG_SHOW_BYTES : len);
        buf_puts(b, "</pre></details>");
    }
    buf_puts(b, "</div><div><h3>Contents</h3><dl class=\"kv\">");
    kv_int(b, "files", json_object_get(facts, "files"));
    kv_int(b, "directories", json_object_get(facts, "dirs"));
    kv_int(b, "bytes unpacked", json_object_get(facts, "bytes"));
    kv_text(b, "archive format", json_get_str(archive, "format"));
    kv_text(b, "largest file", json_get_str(facts, "largest_file"));
    static const char *const flags[][2] = {{"has_tests", "tests"},
                                           {"has_docs", "docs directory"},
                                           {"has_readme", "README"},
                                           {"has_license_file", "license file"},
                                           {"has_native_code", "native code"}};
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
        const json_t *v = json_object_get(facts, flags[i][0]);
        if (json_is_boolean(v))
            hf(b, "<dt>%s</dt><dd>%s</dd>", flags[i][1], json_is_true(v) ? "yes" : "no");
    }
    buf_puts(b, "</dl>");
    const json_t *langs = json_object_get(facts, "languages");
    if (json_object_size(langs)) {
        buf_puts(b, "<table><tr><th>language</th><th class=\"num\">files</th>"
                    "<th class=\"num\">lines</th></tr>");
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)langs, k, v)
            hf(b, "<tr><td>%s</td><td class=\"num\">%L</td><td class=\"num\">%L</td></tr>", k,
               (long long)json_integer_value(json_object_get(v, "files")),
               (long long)json_integer_value(json_object_get(v, "lines")));
        buf_puts(b, "</table>");
    }
    buf_puts(b, "</div></div>");
}

/* ---- dependencies ---- */

static void section_dependencies(pyti_buf *b, const json_t *r)
{
    const json_t *md = json_object_get(data_of(task_of(r, "metadata")), "metadata");
    const json_t *req = json_object_get(md, "requires_dist");
    const json_t *resolved = NULL;
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(r, "tasks"), i, t) {
        const json_t *res = json_object_get(data_of(t), "resolved");
        if (json_is_array(res)) {
            resolved = res;
            break;
        }
    }
    const json_t *installed = json_object_get(data_of(task_of(r, "install")), "installed");
    buf_puts(b, "<h2 id=\"dependencies\">Dependencies</h2>");
    if (json_array_size(req)) {
        buf_puts(b, "<h3>Declared (Requires-Dist)</h3><ul class=\"small\">");
        const json_t *x;
        json_array_foreach(req, i, x) hf(b, "<li><code>%s</code></li>", json_string_value(x));
        buf_puts(b, "</ul>");
    } else {
        buf_puts(b, "<p>No declared dependencies.</p>");
    }
    const json_t *set = resolved ? resolved : installed;
    if (json_array_size(set)) {
        hf(b, "<h3>Resolved (%s)</h3><table><tr><th>name</th><th>version</th><th>file</th>"
              "<th>from</th></tr>",
           resolved ? "the job's resolution" : "what pip installed");
        const json_t *e;
        json_array_foreach(set, i, e) {
            hf(b, "<tr><td>%s</td><td>%s</td><td class=\"small\">%s</td><td class=\"small\">%s",
               json_get_str(e, "name"), json_get_str(e, "version"),
               json_get_str(e, "filename") ?: json_get_str(e, "file"),
               json_get_str(e, "index") ?: json_get_str(e, "source"));
            if (json_get_str(e, "latest") && json_get_str(e, "version") &&
                strcmp(json_get_str(e, "latest"), json_get_str(e, "version")) != 0)
                hf(b, " (newest %s)", json_get_str(e, "latest"));
            buf_puts(b, "</td></tr>");
        }
        buf_puts(b, "</table>");
    } else if (task_of(r, "install")) {
        buf_puts(b, "<p>The install brought in no other distribution.</p>");
    }
}

/* ---- tests ---- */

static void section_tests(pyti_buf *b, const json_t *r)
{
    const json_t *t = task_of(r, "test");
    if (!t)
        return;
    const json_t *d = data_of(t);
    const json_t *c = json_object_get(d, "counts");
    buf_puts(b, "<h2 id=\"tests\">Tests</h2><p>");
    web_badge(b, json_get_str(t, "status"));
    if (json_get_str(d, "runner"))
        hf(b, " run with <b>%s</b>", json_get_str(d, "runner"));
    if (json_get_str(t, "reason"))
        hf(b, " &mdash; %s", json_get_str(t, "reason"));
    buf_puts(b, "</p>");
    if (json_is_object(c)) {
        static const char *const keys[] = {"tests", "passed", "failures", "errors", "skipped",
                                           "collection_errors", NULL};
        buf_puts(b, "<table><tr>");
        for (size_t i = 0; keys[i]; i++)
            hf(b, "<th class=\"num\">%s</th>", keys[i]);
        buf_puts(b, "</tr><tr>");
        for (size_t i = 0; keys[i]; i++)
            hf(b, "<td class=\"num\">%L</td>",
               (long long)json_integer_value(json_object_get(c, keys[i])));
        buf_puts(b, "</tr></table>");
    }
    const json_t *cov = json_object_get(d, "coverage");
    if (json_is_number(json_object_get(cov, "percent")))
        hf(b, "<p>Line coverage <b>%.1f %%</b> (%L of %L statements in %L files; %s)</p>",
           json_number_value(json_object_get(cov, "percent")),
           (long long)json_integer_value(json_object_get(cov, "covered")),
           (long long)json_integer_value(json_object_get(cov, "statements")),
           (long long)json_integer_value(json_object_get(cov, "files")), json_get_str(cov, "tool"));
    else if (json_get_str(cov, "reason"))
        hf(b, "<p>Coverage not measured: %s</p>", json_get_str(cov, "reason"));
    size_t i;
    const json_t *f;
    const json_t *failed = json_object_get(d, "failed_tests");
    if (json_array_size(failed)) {
        hf(b, "<h3>Failed tests (%L)</h3>", (long long)json_array_size(failed));
        json_array_foreach(failed, i, f) {
            hf(b, "<details><summary><code>%s</code></summary><pre>%s</pre></details>",
               json_get_str(f, "test"), json_get_str(f, "message"));
        }
    }
    const json_t *coll = json_object_get(d, "collection_errors");
    if (json_array_size(coll)) {
        hf(b, "<h3>Collection errors (%L)</h3>", (long long)json_array_size(coll));
        json_array_foreach(coll, i, f)
            hf(b, "<details><summary>%s</summary><pre>%s</pre></details>",
               json_get_str(f, "where") ?: "(where unknown)", json_get_str(f, "message"));
    }
    const json_t *miss = json_object_get(d, "missing_test_dependencies");
    if (json_array_size(miss)) {
        buf_puts(b, "<p>Missing test dependencies: ");
        json_array_foreach(miss, i, f) hf(b, "%r<code>%s</code>", i ? ", " : "", json_string_value(f));
        buf_puts(b, "</p>");
    }
}

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
            const json_t *sb = json_object_get(data_of(t), "sandbox");
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
    const json_t *tm = json_object_get(e, "time") ?: json_object_get(e, "t");
    buf_puts(b, "<td class=\"num small\">");
    if (tm)
        json_inline(b, tm);
    buf_puts(b, "</td><td class=\"small\">");
    const json_t *pid = json_object_get(e, "pid");
    if (pid)
        json_inline(b, pid);
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
        json_inline(b, v);
        first = false;
    }
    buf_puts(b, "</td></tr>");
}

static void section_events(pyti_buf *b, const json_t *r)
{
    long long dropped = 0;
    json_t *groups = events_by_phase(r, &dropped);
    buf_puts(b, "<h2 id=\"behaviour\">Behaviour</h2>");
    if (!json_array_size(groups)) {
        bool sandboxed = false;
        size_t i;
        const json_t *t;
        json_array_foreach(json_object_get(r, "tasks"), i, t)
            sandboxed |= json_is_object(json_object_get(data_of(t), "sandbox"));
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

static void section_findings(pyti_buf *b, const json_t *r)
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

static void section_logs(pyti_buf *b, const json_t *r)
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

void report_body(pyti_buf *b, const json_t *report, const json_t *previous, const json_t *others,
                 bool standalone)
{
    section_header(b, report, standalone);
    buf_puts(b, "<p class=\"small\"><a href=\"#verdict\">verdict</a> &middot; "
                "<a href=\"#timeline\">timeline</a> &middot; <a href=\"#metrics\">metrics</a> "
                "&middot; <a href=\"#facts\">distribution</a> &middot; "
                "<a href=\"#dependencies\">dependencies</a> &middot; <a href=\"#tests\">tests</a> "
                "&middot; <a href=\"#behaviour\">behaviour</a> &middot; "
                "<a href=\"#findings\">findings</a> &middot; <a href=\"#logs\">logs</a></p>");
    section_verdict(b, report);
    if (previous)
        section_regressions(b, report, previous);
    section_timeline(b, report);
    section_metrics(b, report, standalone);
    section_facts(b, report);
    section_dependencies(b, report);
    section_tests(b, report);
    section_events(b, report);
    section_findings(b, report);
    section_logs(b, report);
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

/* The newest report of the release before this report's release, as a
 * history entry (from the store's columns: no second report parsed), or
 * NULL. */
static json_t *previous_entry(pyti_store *s, const json_t *report)
{
    const json_t *d = json_object_get(report, "distribution");
    const char *name = json_get_str(d, "name"), *version = json_get_str(d, "version");
    if (!name || !version)
        return NULL;
    json_t *rels = store_list_releases(s, name, NULL);
    json_t *prev = NULL;
    bool seen = false;
    size_t i;
    const json_t *rel;
    json_array_foreach(rels, i, rel) {
        if (!seen) {
            seen = strcmp(json_get_str(rel, "version") ?: "", version) == 0;
            continue;
        }
        const char *id = json_get_str(json_object_get(rel, "latest"), "id");
        if (id) {
            prev = store_report_history_entry(s, id, NULL);
            break;
        }
    }
    json_decref(rels);
    return prev;
}

static pyti_status render_report(pyti_store *s, json_t *report, web_page *out, pyti_error *err)
{
    const json_t *d = json_object_get(report, "distribution");
    const char *name = json_get_str(d, "name"), *version = json_get_str(d, "version");
    json_t *prev = previous_entry(s, report);
    json_t *others = name && version ? store_release_reports(s, name, version, NULL) : NULL;
    char *title = xasprintf("%s %s \xe2\x80\x94 pyti", name ? name : json_get_str(d, "filename") ?: "",
                            version ? version : "");
    out->status = 200;
    layout_open(&out->body, title, false);
    report_body(&out->body, report, prev, others, false);
    layout_close(&out->body);
    free(title);
    json_decref(prev);
    json_decref(others);
    (void)err;
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
    pyti_error e;
    json_t *report = store_get_report(s, id, &e);
    if (!report) {
        if (e.code == PYTI_ERR_NOTFOUND) {
            web_error_page(out, 404, "No such report", "This store has no report with that id.");
            return PYTI_OK;
        }
        if (err)
            *err = e;
        return PYTI_ERR_IO;
    }
    pyti_status rc = render_report(s, report, out, err);
    json_decref(report);
    return rc;
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
    json_t *report = store_get_report(s, id, err);
    json_decref(reports);
    if (!report)
        return PYTI_ERR_IO;
    pyti_status rc = render_report(s, report, out, err);
    json_decref(report);
    return rc;
}
