/* report_events.h — the report's behaviour timeline: every event the
 * tracer kept in any task (data.sandbox.events), in time order, each with
 * its task, phase, process and what it was; bounded. */
#ifndef PYTI_REPORT_EVENTS_H
#define PYTI_REPORT_EVENTS_H

#include <jansson.h>

/* Most events in a report's timeline; the rest are counted. */
#define REPORT_EVENTS_MAX 5000

/* Sets report.events (sorted by time, at most REPORT_EVENTS_MAX, the
 * latest dropped) and report.events_dropped from report.tasks. Each
 * event: {time, t, task, phase, pid, process, kind, syscall, action,
 * text, object, result, severity, finding, honeytoken} (absent members omitted); t is seconds
 * since the report's creation. Can't fail. */
void report_set_events(json_t *report, double created_epoch);

#endif
