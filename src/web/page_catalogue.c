/* page_catalogue.c — the metrics catalogue page (/catalogue), written from
 * the table in exec/metrics.c, with an anchor per metric that report and
 * project pages link to. */
#include "web/web_internal.h"
#include "exec/metrics.h"

#include <stdio.h>

void catalogue_table(pyti_buf *b)
{
    size_t n;
    const metric_def *cat = metrics_catalogue(&n);
    buf_puts(b, "<table><tr><th>metric</th><th>definition</th><th>formula</th><th>range</th>"
                "<th>from task</th><th>better</th></tr>");
    for (size_t i = 0; i < n; i++) {
        const metric_def *m = &cat[i];
        char range[64];
        if (m->max < 0)
            snprintf(range, sizeof range, "%g and up (%s)", m->min, m->unit);
        else
            snprintf(range, sizeof range, "%g to %g (%s)", m->min, m->max, m->unit);
        hf(b, "<tr id=\"metric-%s\"><td><b>%s</b><br><code>%s</code></td><td>%s</td>"
              "<td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td></tr>",
           m->id, m->title, m->id, m->definition, m->formula, range, m->source,
           m->better == METRIC_HIGHER ? "higher" : m->better == METRIC_LOWER ? "lower" : "\xe2\x80\x93");
    }
    buf_puts(b, "</table><p class=\"small mut\">A value is empty (&ndash;) when the job did not "
                "measure it: the task was not in the recipe, was skipped, ended in error, or had "
                "nothing to measure. See docs/metrics.md.</p>");
}

pyti_status page_catalogue(web_page *out)
{
    out->status = 200;
    layout_open(&out->body, "Metrics catalogue \xe2\x80\x94 pyti", false);
    hf(&out->body, "<h1>The metrics catalogue</h1><p>Catalogue version %d. Every report carries "
                   "these values in its <code>metrics</code> member.</p>",
       PYTI_METRICS_CATALOGUE_VERSION);
    catalogue_table(&out->body);
    layout_close(&out->body);
    return PYTI_OK;
}
