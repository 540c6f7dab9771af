/* page_project.c — a project's page (/project/NAME): every version with its
 * verdict, installs per Python and key metrics (arrows for changes from
 * the version before), regressions highlighted, and a trend chart per key
 * metric (SVG). */
#include "web/web_internal.h"
#include "common/jsonutil.h"
#include "common/xalloc.h"
#include "exec/metrics.h"
#include "store/dashboard.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Versions charted (the newest ones). */
#define CHART_VERSIONS 40

static double value(const json_t *values, const char *id)
{
    const json_t *v = json_object_get(values, id);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The change of metric id in one history entry: "better", "worse",
 * "changed" or NULL. */
static const char *change_of(const json_t *h, const char *id)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(h, "changes"), i, c)
        if (strcmp(json_get_str(c, "id") ?: "", id) == 0)
            return json_get_str(c, "change");
    return NULL;
}

static void pythons_cell(pyti_buf *b, const json_t *pythons)
{
    const char *py;
    const json_t *o;
    json_object_foreach((json_t *)pythons, py, o) {
        const json_t *inst = json_object_get(o, "installs");
        const char *cls = !json_is_number(inst) ? "b-skipped"
                          : json_number_value(inst) != 0 ? "b-passed" : "b-failed";
        const char *rep = json_get_str(o, "report");
        hf(b, "<a class=\"badge %r\" href=\"/report/%u\" title=\"installs on Python %s: %s\">%s</a> ",
           cls, rep ? rep : "", py,
           !json_is_number(inst) ? "not measured" : json_number_value(inst) != 0 ? "yes" : "no", py);
    }
}

static void releases_table(pyti_buf *b, const char *project, const json_t *releases,
                           const json_t *history, const metric_def **keys, size_t nkeys)
{
    size_t n = json_array_size(releases);
    buf_puts(b, "<div class=\"scroll\"><table class=\"small\"><tr><th>version</th>"
                "<th>verdict</th><th>installs on</th>");
    for (size_t k = 0; k < nkeys; k++)
        hf(b, "<th class=\"num\"><a href=\"/catalogue#metric-%u\">%s</a></th>", keys[k]->id,
           keys[k]->title);
    buf_puts(b, "</tr>");
    for (size_t i = 0; i < n; i++) {
        const json_t *rel = json_array_get(releases, i);
        /* history is oldest first, releases newest first */
        const json_t *h = json_array_get(history, n - 1 - i);
        const json_t *regs = json_object_get(h, "regressions");
        const json_t *latest = json_object_get(rel, "latest");
        const char *ver = json_get_str(rel, "version");
        hf(b, "<tr%r><td><a href=\"/project/%u/%u\">%s</a></td><td>",
           json_array_size(regs) ? " class=\"regression\"" : "", project, ver, ver);
        if (json_is_object(latest)) {
            web_badge(b, json_get_str(latest, "outcome"));
            buf_putc(b, ' ');
            web_badge(b, json_get_str(latest, "safety"));
        } else {
            buf_puts(b, "<span class=\"mut\">not tested yet</span>");
        }
        buf_puts(b, "</td><td>");
        pythons_cell(b, json_object_get(rel, "pythons"));
        buf_puts(b, "</td>");
        const json_t *values = json_object_get(rel, "values");
        for (size_t k = 0; k < nkeys; k++) {
            char txt[48];
            metrics_format(keys[k], value(values, keys[k]->id), txt, sizeof txt);
            const char *ch = change_of(h, keys[k]->id);
            const char *arrow = !ch ? "" : strcmp(ch, "better") == 0 ? " <span class=\"better\">&#9650;</span>"
                                : strcmp(ch, "worse") == 0        ? " <span class=\"worse\">&#9660;</span>"
                                                                  : " <span class=\"mut\">&#8226;</span>";
            hf(b, "<td class=\"num\">%s%r</td>", txt, arrow);
        }
        buf_puts(b, "</tr>");
        if (json_array_size(regs)) {
            hf(b, "<tr class=\"regression\"><td></td><td colspan=\"%d\">", (int)nkeys + 2);
            size_t r;
            const json_t *g;
            json_array_foreach(regs, r, g)
                hf(b, "<span class=\"reg\">regression:</span> %s<br>", json_get_str(g, "message"));
            buf_puts(b, "</td></tr>");
        }
    }
    buf_puts(b, "</table></div>");
}

static void trend_charts(pyti_buf *b, const json_t *releases, const json_t *history,
                         const metric_def **keys, size_t nkeys)
{
    size_t n = json_array_size(releases);
    size_t m = n < CHART_VERSIONS ? n : CHART_VERSIONS;
    if (m < 2)
        return;
    /* Oldest first: releases is newest first. */
    const char **labels = xcalloc(m, sizeof *labels);
    int *marks = xcalloc(m, sizeof *marks);
    double *vals = xcalloc(m, sizeof *vals);
    char **tips = xcalloc(m, sizeof *tips);
    for (size_t i = 0; i < m; i++) {
        const json_t *rel = json_array_get(releases, m - 1 - i);
        labels[i] = json_get_str(rel, "version");
        marks[i] = json_array_size(json_object_get(json_array_get(history, n - m + i),
                                                   "regressions")) > 0;
    }
    buf_puts(b, "<h2>Trends</h2><div class=\"grid2\">");
    for (size_t k = 0; k < nkeys; k++) {
        bool any = false;
        for (size_t i = 0; i < m; i++) {
            const json_t *rel = json_array_get(releases, m - 1 - i);
            vals[i] = value(json_object_get(rel, "values"), keys[k]->id);
            any |= isfinite(vals[i]);
            char txt[48];
            metrics_format(keys[k], vals[i], txt, sizeof txt);
            free(tips[i]);
            tips[i] = xstrdup(txt);
        }
        if (!any)
            continue;
        double lo = keys[k]->min, hi = keys[k]->max;
        if (hi < 0)
            hi = lo; /* fitted */
        buf_puts(b, "<div>");
        svg_line_chart(b, keys[k]->title, labels, (const char *const *)tips, vals, marks, m, lo,
                       strcmp(keys[k]->unit, "ratio") == 0 ? 1 : hi, 420, 200);
        buf_puts(b, "</div>");
    }
    buf_puts(b, "</div><p class=\"small mut\">Red points: versions with a regression.</p>");
    for (size_t i = 0; i < m; i++)
        free(tips[i]);
    free(tips);
    free(vals);
    free(marks);
    free(labels);
}

pyti_status page_project(pyti_store *s, const char *name, web_page *out, pyti_error *err)
{
    json_t *proj = store_project_history(s, name, err);
    if (!proj)
        return PYTI_ERR_IO;
    if (json_is_null(proj)) {
        json_decref(proj);
        web_error_page(out, 404, "No such project",
                       "pyti has not seen a project of that name. Try the search.");
        return PYTI_OK;
    }
    const json_t *releases = json_object_get(proj, "releases");
    size_t n = json_array_size(releases);
    /* metrics_history wants oldest first. */
    json_t *input = json_array();
    for (size_t i = n; i-- > 0;) {
        const json_t *rel = json_array_get(releases, i);
        json_t *o = json_object();
        json_object_set(o, "version", json_object_get(rel, "version"));
        json_t *safety = json_object_get(json_object_get(rel, "latest"), "safety");
        if (safety)
            json_object_set(o, "safety", safety);
        json_object_set(o, "values", json_object_get(rel, "values"));
        json_array_append_new(input, o);
    }
    json_t *history = metrics_history(input);
    size_t ncat, nkeys = 0;
    const metric_def *cat = metrics_catalogue(&ncat);
    const metric_def **keys = xcalloc(ncat, sizeof *keys);
    for (size_t i = 0; i < ncat; i++)
        if (cat[i].key)
            keys[nkeys++] = &cat[i];

    const char *display = json_get_str(proj, "display_name");
    const char *norm = json_get_str(proj, "project");
    char *title = xasprintf("%s \xe2\x80\x94 pyti", display ? display : norm);
    pyti_buf *b = &out->body;
    out->status = 200;
    layout_open(b, title, false);
    size_t nreg = 0;
    for (size_t i = 0; i < json_array_size(history); i++)
        nreg += json_array_size(json_object_get(json_array_get(history, i), "regressions")) > 0;
    hf(b, "<h1>%s</h1><p>%L release%r tested", display ? display : norm, (long long)n,
       n == 1 ? "" : "s");
    if (nreg)
        hf(b, "; <span class=\"reg\">%L with regressions</span>", (long long)nreg);
    buf_puts(b, ". Arrows: change from the version before (&#9650; better, &#9660; worse).</p>");
    releases_table(b, norm, releases, history, keys, nkeys);
    trend_charts(b, releases, history, keys, nkeys);
    layout_close(b);
    free(title);
    free(keys);
    json_decref(history);
    json_decref(input);
    json_decref(proj);
    return PYTI_OK;
}
