/* finding.c — lists of findings and their JSON form (see finding.h). */
#include "common/finding.h"
#include "common/jsonutil.h"
#include "common/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sev_names[] = {"info", "low", "medium", "high", "critical"};

const char *severity_name(pyti_severity sev)
{
    return (unsigned)sev <= PYTI_SEV_CRITICAL ? sev_names[sev] : "unknown";
}

int severity_from_name(const char *name)
{
    for (int i = 0; i <= PYTI_SEV_CRITICAL; i++)
        if (name && strcmp(name, sev_names[i]) == 0)
            return i;
    return -1;
}

static void push(pyti_findings *f, char *id, pyti_severity sev, char *where, char *msg)
{
    if (f->len == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 8;
        f->items = xreallocarray(f->items, f->cap, sizeof *f->items);
    }
    f->items[f->len++] = (pyti_finding){id, sev, msg, where, NULL};
}

void findings_set_last_excerpt(pyti_findings *f, const char *excerpt)
{
    if (!f->len)
        return;
    pyti_finding *x = &f->items[f->len - 1];
    free(x->excerpt);
    x->excerpt = excerpt ? xstrdup(excerpt) : NULL;
}

void findings_add(pyti_findings *f, const char *id, pyti_severity sev, const char *where,
                  const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = xstrdup("(message lost: out of memory)");
    va_end(ap);
    push(f, xstrdup(id), sev, where ? xstrdup(where) : NULL, msg);
}

bool findings_has(const pyti_findings *f, const char *id)
{
    for (size_t i = 0; i < f->len; i++)
        if (strcmp(f->items[i].id, id) == 0)
            return true;
    return false;
}

int findings_max_severity(const pyti_findings *f)
{
    int max = -1;
    for (size_t i = 0; i < f->len; i++)
        if ((int)f->items[i].severity > max)
            max = (int)f->items[i].severity;
    return max;
}

void findings_free(pyti_findings *f)
{
    for (size_t i = 0; i < f->len; i++) {
        free(f->items[i].id);
        free(f->items[i].message);
        free(f->items[i].where);
        free(f->items[i].excerpt);
    }
    free(f->items);
    f->items = NULL;
    f->len = f->cap = 0;
}

json_t *findings_to_json(const pyti_findings *f)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < f->len; i++) {
        const pyti_finding *x = &f->items[i];
        json_t *o = json_object();
        json_set_text(o, "id", x->id);
        json_object_set_new(o, "severity", json_string(severity_name(x->severity)));
        json_set_text(o, "message", x->message);
        json_set_text(o, "where", x->where);
        if (x->excerpt)
            json_set_text(o, "excerpt", x->excerpt);
        json_array_append_new(arr, o);
    }
    return arr;
}

void findings_from_json(pyti_findings *f, const json_t *array)
{
    size_t i;
    json_t *o;
    json_array_foreach(array, i, o) {
        const char *id = json_get_str(o, "id");
        const char *msg = json_get_str(o, "message");
        int sev = severity_from_name(json_get_str(o, "severity"));
        if (!id || !msg || sev < 0)
            continue;
        const char *where = json_get_str(o, "where");
        push(f, xstrdup(id), (pyti_severity)sev, where ? xstrdup(where) : NULL, xstrdup(msg));
        const char *excerpt = json_get_str(o, "excerpt");
        if (excerpt)
            findings_set_last_excerpt(f, excerpt);
    }
}
