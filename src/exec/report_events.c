/* report_events.c — the report's behaviour timeline (see report_events.h). */
#include "exec/report_events.h"
#include "common/jsonutil.h"
#include "common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct item {
    double wall;
    size_t seq;
    json_t *ev;
} item;

static int by_time(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->wall != y->wall)
        return x->wall < y->wall ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void copy_member(json_t *to, const char *key, const json_t *from, const char *fkey)
{
    json_t *v = json_object_get(from, fkey);
    if (v && !json_is_null(v))
        json_object_set(to, key, v);
}

static json_t *timeline_event(const json_t *task, const json_t *e, double wall, double t0)
{
    const json_t *d = json_object_get(e, "detail");
    json_t *o = json_object();
    char iso[40] = "";
    time_t secs = (time_t)wall;
    struct tm tm;
    if (wall > 0 && gmtime_r(&secs, &tm)) {
        size_t n = strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(iso + n, sizeof iso - n, ".%03dZ", (int)((wall - (double)secs) * 1000));
        json_object_set_new(o, "time", json_string(iso));
        json_object_set_new(o, "t", json_real(t0 > 0 ? wall - t0 : 0));
    }
    copy_member(o, "task", task, "name");
    copy_member(o, "phase", d, "phase");
    if (!json_object_get(o, "phase")) {
        const char *b = json_get_str(task, "builtin");
        json_object_set_new(o, "phase", json_string(b ? b : "command"));
    }
    copy_member(o, "pid", e, "pid");
    copy_member(o, "process", e, "comm");
    copy_member(o, "kind", e, "kind");
    copy_member(o, "syscall", e, "syscall");
    copy_member(o, "action", e, "action");
    copy_member(o, "text", e, "text");
    copy_member(o, "object", e, "object");
    copy_member(o, "result", d, "result");
    copy_member(o, "severity", d, "severity");
    copy_member(o, "finding", d, "finding");
    copy_member(o, "honeytoken", d, "honeytoken");
    return o;
}

void report_set_events(json_t *report, double created_epoch)
{
    item *items = NULL;
    size_t n = 0, cap = 0;
    size_t i, k;
    json_t *task, *e;
    json_array_foreach(json_object_get(report, "tasks"), i, task) {
        const json_t *sb = json_object_get(json_object_get(task, "data"), "sandbox");
        json_array_foreach(json_object_get(sb, "events"), k, e) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                items = xreallocarray(items, cap, sizeof *items);
            }
            double wall = json_number_value(json_object_get(e, "wall_s"));
            items[n] = (item){wall, n, timeline_event(task, e, wall, created_epoch)};
            n++;
        }
    }
    if (n)
        qsort(items, n, sizeof *items, by_time);
    json_t *arr = json_array();
    size_t dropped = 0;
    for (i = 0; i < n; i++) {
        if (i < REPORT_EVENTS_MAX)
            json_array_append_new(arr, items[i].ev);
        else {
            json_decref(items[i].ev);
            dropped++;
        }
    }
    /* Events the sandbox itself could not keep count as dropped too. */
    json_array_foreach(json_object_get(report, "tasks"), i, task) {
        const json_t *sb = json_object_get(json_object_get(task, "data"), "sandbox");
        dropped += (size_t)json_integer_value(json_object_get(sb, "events_dropped"));
    }
    free(items);
    json_object_set_new(report, "events", arr);
    json_object_set_new(report, "events_dropped", json_integer((json_int_t)dropped));
}
