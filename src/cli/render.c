/* render.c — reports as text for people (see render.h). Every string that
 * comes from a package is printed through safe_text(), which replaces
 * control characters so a hostile name cannot drive the terminal. */
#include "cli/render.h"
#include "common/jsonutil.h"
#include "common/str.h"

#include <stdlib.h>
#include <string.h>

#define BOLD "\033[1m"
#define DIM "\033[2m"
#define RED "\033[31m"
#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define RESET "\033[0m"

static void safe_text(FILE *out, const char *s, size_t max)
{
    if (!s) {
        fputs("-", out);
        return;
    }
    char *e = str_excerpt(s, strlen(s), max);
    fputs(e, out);
    free(e);
}

static const char *status_color(const char *st)
{
    if (!st)
        return "";
    if (strcmp(st, "passed") == 0)
        return GREEN;
    if (strcmp(st, "failed") == 0 || strcmp(st, "timeout") == 0 || strcmp(st, "error") == 0)
        return RED;
    if (strcmp(st, "skipped") == 0 || strcmp(st, "neutral") == 0)
        return YELLOW;
    return "";
}

static const char *verdict_color(const char *v)
{
    if (!v)
        return "";
    if (!strcmp(v, "ok") || !strcmp(v, "clean") || !strcmp(v, "passed"))
        return GREEN;
    if (!strcmp(v, "warnings") || !strcmp(v, "suspicious") || !strcmp(v, "unassessed"))
        return YELLOW;
    return RED;
}

static size_t count_task_findings(const json_t *findings, const char *task)
{
    size_t n = 0, i;
    json_t *f;
    json_array_foreach(findings, i, f) {
        const char *t = json_get_str(f, "task");
        if (t && strcmp(t, task) == 0)
            n++;
    }
    return n;
}

void render_verdict_line(FILE *out, const json_t *report, bool color)
{
    const json_t *v = json_object_get(report, "verdict");
    const char *q = json_get_str(v, "quality"), *s = json_get_str(v, "safety");
    const char *o = json_get_str(report, "outcome");
    fprintf(out, "%sverdict:%s %s%s%s (quality %s%s%s, safety %s%s%s)  report %s\n",
            color ? BOLD : "", color ? RESET : "",
            color ? verdict_color(o) : "", o ? o : "?", color ? RESET : "",
            color ? verdict_color(q) : "", q ? q : "?", color ? RESET : "",
            color ? verdict_color(s) : "", s ? s : "?", color ? RESET : "",
            json_get_str(report, "id") ? json_get_str(report, "id") : "?");
}

void render_report(FILE *out, const json_t *report, bool color)
{
    const json_t *d = json_object_get(report, "distribution");
    fprintf(out, "%s", color ? BOLD : "");
    safe_text(out, json_get_str(d, "filename"), 200);
    fprintf(out, "%s  ", color ? RESET : "");
    safe_text(out, json_get_str(d, "name"), 100);
    fputc(' ', out);
    safe_text(out, json_get_str(d, "version"), 100);
    fprintf(out, "  sha256 %.16s  %lld bytes  recipe %s\n", json_get_str(d, "sha256") ? json_get_str(d, "sha256") : "?",
            (long long)json_integer_value(json_object_get(d, "size")),
            json_get_str(json_object_get(report, "recipe"), "name") ? json_get_str(json_object_get(report, "recipe"), "name") : "?");

    const json_t *tasks = json_object_get(report, "tasks");
    const json_t *findings = json_object_get(report, "findings");
    size_t i;
    json_t *t;
    size_t width = 4;
    json_array_foreach(tasks, i, t) {
        const char *n = json_get_str(t, "name");
        if (n && strlen(n) > width)
            width = strlen(n) < 30 ? strlen(n) : 30;
    }
    json_array_foreach(tasks, i, t) {
        const char *name = json_get_str(t, "name");
        const char *st = json_get_str(t, "status");
        fprintf(out, "  %-*.*s  %s%-8s%s %7.2fs", (int)width, (int)width, name ? name : "?",
                color ? status_color(st) : "", st ? st : "?", color ? RESET : "",
                json_number_value(json_object_get(t, "duration_s")));
        size_t nf = name ? count_task_findings(findings, name) : 0;
        if (nf)
            fprintf(out, "  %zu finding%s", nf, nf == 1 ? "" : "s");
        const char *reason = json_get_str(t, "reason");
        if (reason && st && strcmp(st, "passed") != 0) {
            fputs("  ", out);
            fputs(color ? DIM : "", out);
            safe_text(out, reason, 200);
            fputs(color ? RESET : "", out);
        }
        fputc('\n', out);
    }
    if (json_array_size(findings)) {
        fprintf(out, "findings:\n");
        json_t *f;
        json_array_foreach(findings, i, f) {
            const char *sev = json_get_str(f, "severity");
            int bad = sev && (!strcmp(sev, "high") || !strcmp(sev, "critical"));
            fprintf(out, "  %s%-8s%s ", color ? (bad ? RED : sev && !strcmp(sev, "info") ? DIM : YELLOW) : "",
                    sev ? sev : "?", color ? RESET : "");
            safe_text(out, json_get_str(f, "id"), 80);
            fputs("  ", out);
            safe_text(out, json_get_str(f, "message"), 300);
            const char *where = json_get_str(f, "where");
            if (where) {
                fputs(color ? DIM : "", out);
                fputs("  (", out);
                safe_text(out, where, 200);
                fputs(")", out);
                fputs(color ? RESET : "", out);
            }
            fputc('\n', out);
            const char *excerpt = json_get_str(f, "excerpt");
            if (excerpt && *excerpt) {
                fputs(color ? DIM : "", out);
                fputs("           > ", out);
                safe_text(out, excerpt, 160);
                fputs(color ? RESET : "", out);
                fputc('\n', out);
            }
        }
    }
    render_verdict_line(out, report, color);
}

void render_summaries(FILE *out, const json_t *summaries, bool color)
{
    size_t i;
    json_t *s;
    json_array_foreach(summaries, i, s) {
        const char *o = json_get_str(s, "outcome");
        fprintf(out, "%.12s  %-24.24s  ", json_get_str(s, "id") ? json_get_str(s, "id") : "?",
                json_get_str(s, "created") ? json_get_str(s, "created") : "?");
        fprintf(out, "%s%-8s%s  ", color ? verdict_color(o) : "", o ? o : "?", color ? RESET : "");
        safe_text(out, json_get_str(s, "name"), 60);
        fputc(' ', out);
        safe_text(out, json_get_str(s, "version"), 40);
        fputs("  ", out);
        safe_text(out, json_get_str(s, "filename"), 120);
        fputc('\n', out);
    }
}
