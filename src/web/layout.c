/* layout.c — the frame every page shares: the document head with pyti's
 * one stylesheet (inline: the pages load nothing, see web.h), the top
 * bar, error pages, badges and time formatting. */
#include "web/web_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char stylesheet[] =
    ":root{--fg:#1b1f24;--mut:#5c6670;--bg:#fff;--line:#d8dde3;--pass:#2e7d32;--fail:#c62828;"
    "--warn:#b26a00;--skip:#8a939c;--err:#6a1b9a;--susp:#d84315;--mal:#7f0000;--acc:#1f5fa8}"
    "*{box-sizing:border-box}"
    "body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "color:var(--fg);background:var(--bg)}"
    "header.top{display:flex;align-items:center;gap:1.2em;padding:.5em 1.2em;background:#0f2a44;"
    "color:#fff}header.top a{color:#fff;text-decoration:none}header.top .brand{font-weight:700;"
    "font-size:1.15em}header.top form{margin-left:auto}"
    "header.top input{padding:.25em .5em;border-radius:3px;border:0;width:16em}"
    "main{max-width:1200px;margin:0 auto;padding:1em 1.2em 3em}"
    "h1{font-size:1.5em;margin:.4em 0}h2{font-size:1.15em;margin:1.6em 0 .5em;"
    "border-bottom:1px solid var(--line);padding-bottom:.2em}h3{font-size:1em;margin:1em 0 .3em}"
    "a{color:var(--acc)}"
    "table{border-collapse:collapse;width:100%;margin:.3em 0}"
    "th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid var(--line);"
    "vertical-align:top}th{font-weight:600;color:var(--mut);font-size:.92em}"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}td.num{white-space:nowrap}"
    "tr.regression td{background:#fdecea}"
    ".badge{display:inline-block;padding:0 .45em;border-radius:3px;color:#fff;font-size:.85em;"
    "font-weight:600;white-space:nowrap}"
    ".b-passed,.b-ok,.b-clean,.b-done,.b-idle{background:var(--pass)}"
    ".b-failed,.b-broken,.b-rejected,.b-high{background:var(--fail)}"
    ".b-warnings,.b-medium,.b-low,.b-draining{background:var(--warn)}"
    ".b-skipped,.b-neutral,.b-unassessed,.b-info,.b-queued,.b-gone,.b-cancelled,.b-other"
    "{background:var(--skip)}"
    ".b-error,.b-timeout{background:var(--err)}.b-suspicious{background:var(--susp)}"
    ".b-malicious,.b-critical{background:var(--mal)}"
    ".b-leased,.b-running,.b-busy{background:var(--acc)}"
    ".tiles{display:flex;flex-wrap:wrap;gap:.6em}.tile{border:1px solid var(--line);"
    "border-radius:4px;padding:.4em .8em;min-width:7em}.tile b{display:block;font-size:1.5em}"
    ".mut{color:var(--mut)}.small{font-size:.88em}"
    ".grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:1em}"
    "dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:.3em 0}"
    "dl.kv dt{color:var(--mut)}dl.kv dd{margin:0;overflow-wrap:anywhere}"
    "pre{background:#f5f7f9;border:1px solid var(--line);padding:.5em;overflow:auto;"
    "max-height:32em;font-size:12.5px;white-space:pre-wrap;overflow-wrap:anywhere}"
    "code{font-size:12.5px;background:#f5f7f9;padding:0 .2em;overflow-wrap:anywhere}"
    "details{margin:.3em 0}summary{cursor:pointer}"
    ".evidence{border-left:4px solid var(--susp);padding:.2em .6em;margin:.4em 0;"
    "background:#fff6f2}"
    ".reg{color:var(--fail);font-weight:600}.better{color:var(--pass)}.worse{color:var(--fail)}"
    "svg.chart{display:block;max-width:100%;height:auto;background:#fff}"
    "svg .ct{font-size:12px;font-weight:600;fill:var(--fg)}"
    "svg .ax{font-size:10px;fill:var(--mut)}svg .grid{stroke:#e6e9ed;stroke-width:1}"
    "svg .line{fill:none;stroke:var(--acc);stroke-width:2}svg .pt{fill:var(--acc)}"
    "svg .pt.reg{fill:var(--fail)}"
    "svg .c-passed,svg .c-done{fill:var(--pass)}svg .c-failed,svg .c-rejected{fill:var(--fail)}"
    "svg .c-timeout,svg .c-error{fill:var(--err)}svg .c-skipped,svg .c-neutral,"
    "svg .c-cancelled,svg .c-other{fill:var(--skip)}svg .c-suspicious{fill:var(--susp)}"
    "svg .c-malicious{fill:var(--mal)}"
    ".scroll{overflow-x:auto}"
    "footer{color:var(--mut);font-size:.85em;text-align:center;padding:1em}";

void layout_open(pyti_buf *b, const char *title, bool standalone)
{
    hf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
          "<meta name=\"referrer\" content=\"no-referrer\">"
          /* no /favicon.ico request: the pages load nothing */
          "<link rel=\"icon\" href=\"data:,\">"
          "<title>%s</title><style>%r</style></head><body>",
       title, stylesheet);
    if (standalone) {
        hf(b, "<header class=\"top\"><span class=\"brand\">pyti</span>"
              "<span>report</span></header>");
    } else {
        hf(b, "<header class=\"top\"><a class=\"brand\" href=\"/\">pyti</a>"
              "<a href=\"/\">Overview</a><a href=\"/workers\">Workers</a>"
              "<a href=\"/catalogue\">Metrics</a><a href=\"/api/v1\">API</a>"
              "<form method=\"get\" action=\"/search\" role=\"search\">"
              "<input type=\"search\" name=\"q\" placeholder=\"Search projects\" "
              "aria-label=\"Search projects\"></form></header>");
    }
    buf_puts(b, "<main>");
}

void layout_close(pyti_buf *b)
{
    buf_puts(b, "</main><footer>pyti &mdash; testing infrastructure for the Python Package "
                "Index</footer></body></html>\n");
}

void web_error_page(web_page *p, int status, const char *title, const char *message)
{
    buf_reset(&p->body);
    p->status = status;
    p->content_type = "text/html; charset=utf-8";
    layout_open(&p->body, title, false);
    hf(&p->body, "<h1>%s</h1><p>%s</p><p><a href=\"/\">Back to the overview</a></p>", title,
       message);
    layout_close(&p->body);
}

/* value -> class, a fixed table: a value from a report never becomes a
 * class name itself. */
static const char *const known[][2] = {
    {"passed", "c-passed"}, {"failed", "c-failed"}, {"skipped", "c-skipped"},
    {"timeout", "c-timeout"}, {"error", "c-error"}, {"neutral", "c-neutral"},
    {"rejected", "c-rejected"}, {"ok", "c-ok"}, {"warnings", "c-warnings"},
    {"broken", "c-broken"}, {"unassessed", "c-unassessed"}, {"clean", "c-clean"},
    {"suspicious", "c-suspicious"}, {"malicious", "c-malicious"}, {"info", "c-info"},
    {"low", "c-low"}, {"medium", "c-medium"}, {"high", "c-high"}, {"critical", "c-critical"},
    {"queued", "c-queued"}, {"leased", "c-leased"}, {"running", "c-running"},
    {"done", "c-done"}, {"cancelled", "c-cancelled"}, {"idle", "c-idle"}, {"busy", "c-busy"},
    {"draining", "c-draining"}, {"gone", "c-gone"}, {NULL, NULL}};

const char *web_class(const char *value)
{
    for (size_t i = 0; value && known[i][0]; i++)
        if (strcmp(value, known[i][0]) == 0)
            return known[i][1];
    return "c-other";
}

void web_badge(pyti_buf *b, const char *value)
{
    const char *cls = web_class(value);
    hf(b, "<span class=\"badge b-%r\">%s</span>", cls + 2, value ? value : "none");
}

double web_iso_ms(const char *iso)
{
    if (!iso)
        return NAN;
    struct tm tm = {0};
    int ms = 0;
    char *rest = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest)
        return NAN;
    if (*rest == '.') {
        int digits = 0;
        for (rest++; *rest >= '0' && *rest <= '9'; rest++, digits++)
            if (digits < 3)
                ms = ms * 10 + (*rest - '0');
        for (; digits < 3; digits++)
            ms *= 10;
    }
    return (double)timegm(&tm) * 1000.0 + ms;
}

void web_time(pyti_buf *b, const char *iso)
{
    if (!iso) {
        buf_puts(b, "&ndash;");
        return;
    }
    char t[20];
    snprintf(t, sizeof t, "%.19s", iso);
    if (strlen(t) == 19 && t[10] == 'T')
        t[10] = ' ';
    hf(b, "<time datetime=\"%s\">%s</time>", iso, t);
}
