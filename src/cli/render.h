/* render.h — a report as text for people: the per-task table, findings and
 * verdict (`pyti test` and `pyti report`), and one-line summaries
 * (`pyti results`). Colour only when asked (see log_color_enabled). */
#ifndef PYTI_RENDER_H
#define PYTI_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* The full human-readable form of a report. */
void render_report(FILE *out, const json_t *report, bool color);
/* The closing verdict line ("verdict: quality=ok safety=unassessed ..."). */
void render_verdict_line(FILE *out, const json_t *report, bool color);
/* One line per summary (from store_list_reports). */
void render_summaries(FILE *out, const json_t *summaries, bool color);

#endif
