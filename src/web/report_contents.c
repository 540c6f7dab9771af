/* report_contents.c — the parts of the report page about what the
 * distribution is and what its tests did: metadata and contents,
 * dependencies (declared and resolved), test counts, coverage, failed
 * tests and collection errors. Shared helpers of the report's sections
 * live here too (web_task, web_kv_*, web_json_inline). */
#include "web/web_internal.h"
#include "common/jsonutil.h"
#include "common/xalloc.h"
#include "exec/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Descriptions are shown up to this many bytes. */
#define TEXT_SHOW_BYTES (16u << 10)

const json_t *web_task(const json_t *r, const char *builtin)
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

const json_t *web_task_data(const json_t *t)
{
    return t ? json_object_get(t, "data") : NULL;
}

void web_kv_text(pyti_buf *b, const char *k, const char *v)
{
    if (v)
        hf(b, "<dt>%s</dt><dd>%s</dd>", k, v);
}

void web_kv_int(pyti_buf *b, const char *k, const json_t *v)
{
    if (json_is_integer(v))
        hf(b, "<dt>%s</dt><dd>%L</dd>", k, (long long)json_integer_value(v));
}

/* A JSON value compactly as escaped text (for generic event fields). */
void web_json_inline(pyti_buf *b, const json_t *v)
{
    if (json_is_string(v)) {
        html_text(b, json_string_value(v));
        return;
    }
    /* json_dumpb into a buffer of our own, not json_dumps: a report page
     * is rendered while jansson allocates from an arena (jsonarena.h),
     * whose memory free() must never see. */
    char small[640];
    size_t n = json_dumpb(v, small, sizeof small, JSON_COMPACT | JSON_ENCODE_ANY);
    char *s = small;
    if (n > sizeof small) {
        s = xmalloc(n);
        n = json_dumpb(v, s, n, JSON_COMPACT | JSON_ENCODE_ANY);
    }
    if (n > 600) {
        html_textn(b, s, 597);
        buf_puts(b, "...");
    } else {
        html_textn(b, s, n);
    }
    if (s != small)
        free(s);
}

/* ---- distribution facts ---- */

void report_section_facts(pyti_buf *b, const json_t *r)
{
    const json_t *md = json_object_get(web_task_data(web_task(r, "metadata")), "metadata");
    const json_t *facts = web_task_data(web_task(r, "facts"));
    const json_t *archive = json_object_get(web_task_data(web_task(r, "extract")), "archive");
    buf_puts(b, "<h2 id=\"facts\">Distribution</h2><div class=\"grid2\"><div><h3>Metadata</h3>"
                "<dl class=\"kv\">");
    static const char *const fields[][2] = {
        {"summary", "summary"}, {"license", "license"}, {"license_expression", "license expression"},
        {"requires_python", "Requires-Python"}, {"home_page", "home page"}, {"author", "author"},
        {"author_email", "author e-mail"}, {"maintainer", "maintainer"},
        {"metadata_version", "metadata version"}, {"description_content_type", "description type"}};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        web_kv_text(b, fields[i][1], json_get_str(md, fields[i][0]));
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
        html_textn(b, desc, len > TEXT_SHOW_BYTES ? TEXT_SHOW_BYTES : len);
        buf_puts(b, "</pre></details>");
    }
    buf_puts(b, "</div><div><h3>Contents</h3><dl class=\"kv\">");
    web_kv_int(b, "files", json_object_get(facts, "files"));
    web_kv_int(b, "directories", json_object_get(facts, "dirs"));
    web_kv_int(b, "bytes unpacked", json_object_get(facts, "bytes"));
    web_kv_text(b, "archive format", json_get_str(archive, "format"));
    web_kv_text(b, "largest file", json_get_str(facts, "largest_file"));
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

void report_section_dependencies(pyti_buf *b, const json_t *r)
{
    const json_t *md = json_object_get(web_task_data(web_task(r, "metadata")), "metadata");
    const json_t *req = json_object_get(md, "requires_dist");
    json_t *resolved = metrics_resolved_set(r);
    size_t i;
    const json_t *installed = json_object_get(web_task_data(web_task(r, "install")), "installed");
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
           resolved ? "the job's resolution; \"installed\": satisfied by the system's "
                      "site-packages"
                    : "what pip installed");
        const json_t *e;
        json_array_foreach(set, i, e) {
            hf(b, "<tr><td>%s</td><td>%s</td><td class=\"small\">%s</td><td class=\"small\">%s",
               json_get_str(e, "name"), json_get_str(e, "version"),
               json_get_str(e, "filename") ?: json_get_str(e, "file"),
               strcmp(json_get_str(e, "source") ?: "", "installed") == 0
                   ? "installed"
                   : json_get_str(e, "index") ?: json_get_str(e, "source"));
            if (json_get_str(e, "latest") && json_get_str(e, "version") &&
                strcmp(json_get_str(e, "latest"), json_get_str(e, "version")) != 0)
                hf(b, " (newest %s)", json_get_str(e, "latest"));
            buf_puts(b, "</td></tr>");
        }
        buf_puts(b, "</table>");
    } else if (web_task(r, "install")) {
        buf_puts(b, "<p>The install brought in no other distribution.</p>");
    }
    json_decref(resolved);
}

/* ---- tests ---- */

void report_section_tests(pyti_buf *b, const json_t *r)
{
    const json_t *t = web_task(r, "test");
    if (!t)
        return;
    const json_t *d = web_task_data(t);
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

