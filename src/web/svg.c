/* svg.c — inline SVG charts (see svg.h). Coordinates are written with one
 * decimal: small output, and no locale-dependent formatting (hf's %f uses
 * the C locale, which pyti never changes). */
#include "web/svg.h"
#include "web/html.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PAD_L 44.0
#define PAD_R 10.0
#define PAD_T 24.0
#define PAD_B 34.0

static void open_svg(pyti_buf *b, const char *title, int width, int height)
{
    hf(b, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
          "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\"><title>%s</title>"
          "<text class=\"ct\" x=\"4\" y=\"14\">%s</text>",
       width, height, width, height, title, title, title);
}

/* A "nice" axis maximum >= v: 1, 2, 4 or 8 times a power of ten, so the
 * four grid steps are round numbers too. */
static double nice_max(double v)
{
    if (!(v > 0))
        return 1;
    double p = pow(10, floor(log10(v)));
    for (double m = 1; m <= 8; m *= 2)
        if (m * p >= v * (1 - 1e-12))
            return m * p;
    return 10 * p;
}

static void y_axis(pyti_buf *b, double ymin, double ymax, int width, int height)
{
    double plot_h = height - PAD_T - PAD_B;
    for (int i = 0; i <= 4; i++) {
        double v = ymin + (ymax - ymin) * i / 4.0;
        double y = PAD_T + plot_h - plot_h * i / 4.0;
        char lab[32];
        double a = fabs(v);
        if (a >= 1e9)
            snprintf(lab, sizeof lab, "%.1fG", v / 1e9);
        else if (a >= 1e6)
            snprintf(lab, sizeof lab, "%.1fM", v / 1e6);
        else if (a >= 1e4)
            snprintf(lab, sizeof lab, "%.0fk", v / 1e3);
        else if (a >= 100 || v == floor(v))
            snprintf(lab, sizeof lab, "%.0f", v);
        else
            snprintf(lab, sizeof lab, "%.2g", v);
        hf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
              "<text class=\"ax\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
           PAD_L, y, width - PAD_R, y, PAD_L - 4, y + 4, lab);
    }
}

/* Labels under at most ~12 evenly spread positions. */
static void x_label(pyti_buf *b, const char *label, size_t i, size_t n, double x, int height)
{
    size_t step = n > 12 ? (n + 11) / 12 : 1;
    if (!label || i % step != 0)
        return;
    hf(b, "<text class=\"ax\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", x,
       height - PAD_B + 14, label);
}

void svg_stacked_bars(pyti_buf *b, const char *title, const char *const *labels, size_t n,
                      const svg_series *series, size_t k, int width, int height)
{
    open_svg(b, title, width, height);
    double top = 0;
    for (size_t i = 0; i < n; i++) {
        double sum = 0;
        for (size_t s = 0; s < k; s++)
            sum += isfinite(series[s].values[i]) ? series[s].values[i] : 0;
        top = fmax(top, sum);
    }
    top = nice_max(top);
    y_axis(b, 0, top, width, height);
    double plot_w = width - PAD_L - PAD_R, plot_h = height - PAD_T - PAD_B;
    double slot = n ? plot_w / (double)n : plot_w;
    double bw = fmax(1, slot * 0.8);
    for (size_t i = 0; i < n; i++) {
        double x = PAD_L + slot * (double)i + (slot - bw) / 2;
        double y = PAD_T + plot_h;
        for (size_t s = 0; s < k; s++) {
            double v = series[s].values[i];
            if (!isfinite(v) || v <= 0)
                continue;
            double h = plot_h * v / top;
            y -= h;
            hf(b, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
                  "<title>%s: %s %.0f</title></rect>",
               series[s].css_class, x, y, bw, h, labels && labels[i] ? labels[i] : "",
               series[s].name, v);
        }
        x_label(b, labels ? labels[i] : NULL, i, n, x + bw / 2, height);
    }
    /* Legend, right-aligned at the top. */
    double lx = width - PAD_R;
    for (size_t s = k; s-- > 0;) {
        double w = 14 + 7.0 * (double)strlen(series[s].name);
        lx -= w;
        hf(b, "<rect class=\"%s\" x=\"%.1f\" y=\"6\" width=\"9\" height=\"9\"/>"
              "<text class=\"ax\" x=\"%.1f\" y=\"14\">%s</text>",
           series[s].css_class, lx, lx + 12, series[s].name);
    }
    buf_puts(b, "</svg>");
}

void svg_line_chart(pyti_buf *b, const char *title, const char *const *labels,
                    const char *const *tips, const double *values, const int *marks, size_t n,
                    double ymin, double ymax, int width, int height)
{
    open_svg(b, title, width, height);
    if (ymax <= ymin) {
        bool any = false;
        double lo = 0, hi = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(values[i]))
                continue;
            lo = any ? fmin(lo, values[i]) : values[i];
            hi = any ? fmax(hi, values[i]) : values[i];
            any = true;
        }
        ymin = lo > 0 ? 0 : lo;
        ymax = nice_max(hi > ymin ? hi : ymin + 1);
    }
    y_axis(b, ymin, ymax, width, height);
    double plot_w = width - PAD_L - PAD_R, plot_h = height - PAD_T - PAD_B;
    double slot = n ? plot_w / (double)n : plot_w;
    /* The line, broken at gaps. */
    bool pen = false;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(values[i])) {
            if (pen)
                buf_puts(b, "\"/>");
            pen = false;
            continue;
        }
        double x = PAD_L + slot * ((double)i + 0.5);
        double v = fmin(fmax(values[i], ymin), ymax);
        double y = PAD_T + plot_h - plot_h * (v - ymin) / (ymax - ymin);
        if (!pen)
            hf(b, "<polyline class=\"line\" points=\"%.1f,%.1f", x, y);
        else
            hf(b, " %.1f,%.1f", x, y);
        pen = true;
    }
    if (pen)
        buf_puts(b, "\"/>");
    for (size_t i = 0; i < n; i++) {
        double x = PAD_L + slot * ((double)i + 0.5);
        if (isfinite(values[i])) {
            double v = fmin(fmax(values[i], ymin), ymax);
            double y = PAD_T + plot_h - plot_h * (v - ymin) / (ymax - ymin);
            hf(b, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%d\"><title>%s: %s</title>"
                  "</circle>",
               marks && marks[i] ? "pt reg" : "pt", x, y, marks && marks[i] ? 5 : 3,
               labels ? labels[i] : "", tips && tips[i] ? tips[i] : "");
        }
        x_label(b, labels ? labels[i] : NULL, i, n, x, height);
    }
    buf_puts(b, "</svg>");
}

void svg_gantt(pyti_buf *b, const char *title, const svg_gantt_bar *bars, size_t n, int width)
{
    const double row = 20, left = 90, right = 70;
    int height = (int)(PAD_T + row * (double)n + 22);
    open_svg(b, title, width, height);
    double end = 0;
    for (size_t i = 0; i < n; i++)
        end = fmax(end, bars[i].start_s + fmax(bars[i].duration_s, 0));
    if (!(end > 0))
        end = 1;
    double plot_w = width - left - right;
    for (int t = 0; t <= 4; t++) {
        double x = left + plot_w * t / 4.0;
        hf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
              "<text class=\"ax\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.1f s</text>",
           x, PAD_T - 4, x, PAD_T + row * (double)n, x, PAD_T + row * (double)n + 14,
           end * t / 4.0);
    }
    for (size_t i = 0; i < n; i++) {
        double y = PAD_T + row * (double)i;
        double x = left + plot_w * fmax(bars[i].start_s, 0) / end;
        double w = fmax(2, plot_w * fmax(bars[i].duration_s, 0) / end);
        char dur[32];
        snprintf(dur, sizeof dur, "%.2f s", fmax(bars[i].duration_s, 0));
        hf(b, "<text class=\"ax\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>"
              "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
              "<title>%s: %s</title></rect>"
              "<text class=\"ax\" x=\"%.1f\" y=\"%.1f\">%s</text>",
           left - 6, y + 14, bars[i].label, bars[i].css_class, x, y + 3, w, row - 6,
           bars[i].label, bars[i].tip ? bars[i].tip : "", fmin(x + w + 4, width - right + 4),
           y + 14, dur);
    }
    buf_puts(b, "</svg>");
}
