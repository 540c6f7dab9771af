/* taskgraph.c — the task manager's plan: validating a recipe's dependency
 * graph, ordering it (Kahn's algorithm, earliest-defined ready task first)
 * and deciding skips from recorded outcomes. See taskgraph.h.
 *
 * Indices: "def" indices are positions in r->tasks (definition order);
 * "pos" indices are positions in the execution order, which is what the
 * public functions take. Everything is O((n + e) log n) for n tasks and e
 * dependency edges; names are resolved once through hash maps. */
#include "exec/taskgraph.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/xalloc.h"
#include "exec/strmap_internal.h"

struct pyti_plan {
    const pyti_recipe *r;
    size_t n;
    size_t *order;      /* pos -> def */
    size_t *pos;        /* def -> pos */
    size_t *dep_start;  /* n + 1 offsets into deps, by pos */
    size_t *deps;       /* positions, ascending per task */
    /* Per def task, parallel to its requires / needs / produces lists:
     * the required task (def), the needed item and the produced item. */
    size_t *req_start, *req;
    size_t *need_start, *need;
    size_t *prod_start, *prod;
    /* Data items. */
    strmap items;            /* name -> item id; keys are the recipe's strings */
    size_t nitems;
    size_t *item_producer;   /* item -> def */
    const char **item_name;  /* item -> name (the recipe's string) */
    bool *item_done;         /* item -> produced by its (recorded) producer */
    pyti_task_status *status; /* by pos */
};

static const char *const status_names[] = {
    [PYTI_TASK_PENDING] = "pending", [PYTI_TASK_PASSED] = "passed",
    [PYTI_TASK_FAILED] = "failed",   [PYTI_TASK_SKIPPED] = "skipped",
    [PYTI_TASK_TIMEOUT] = "timeout", [PYTI_TASK_ERROR] = "error",
    [PYTI_TASK_NEUTRAL] = "neutral",
};
#define NSTATUS (sizeof status_names / sizeof status_names[0])

const char *task_status_name(pyti_task_status s)
{
    if ((unsigned)s < NSTATUS)
        return status_names[s];
    return "unknown";
}

int task_status_from_name(const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < NSTATUS; i++) {
        if (strcmp(status_names[i], name) == 0)
            return (int)i;
    }
    return -1;
}

bool task_status_ok(pyti_task_status s)
{
    return s == PYTI_TASK_PASSED || s == PYTI_TASK_NEUTRAL;
}

/* "which failed", as in "requires task 'build' which failed". */
static const char *status_phrase(pyti_task_status s)
{
    switch (s) {
    case PYTI_TASK_FAILED: return "failed";
    case PYTI_TASK_TIMEOUT: return "timed out";
    case PYTI_TASK_SKIPPED: return "was skipped";
    case PYTI_TASK_ERROR: return "ended in error";
    default: return "did not pass";
    }
}

void plan_free(pyti_plan *p)
{
    if (!p)
        return;
    free(p->order);
    free(p->pos);
    free(p->dep_start);
    free(p->deps);
    free(p->req_start);
    free(p->req);
    free(p->need_start);
    free(p->need);
    free(p->prod_start);
    free(p->prod);
    strmap_free(&p->items);
    free(p->item_producer);
    free(p->item_name);
    free(p->item_done);
    free(p->status);
    free(p);
}

static const char *task_file(const pyti_recipe *r, const pyti_task_def *t)
{
    if (t->file)
        return t->file;
    return r->file ? r->file : "recipe";
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* A binary min-heap of def indices: the ready task defined first comes out
 * first. */
typedef struct heap {
    size_t *v;
    size_t len;
} heap;

static void heap_push(heap *h, size_t x)
{
    size_t i = h->len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->v[parent] <= x)
            break;
        h->v[i] = h->v[parent];
        i = parent;
    }
    h->v[i] = x;
}

static size_t heap_pop(heap *h)
{
    size_t top = h->v[0];
    size_t x = h->v[--h->len];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        size_t best = x;
        if (l < h->len && h->v[l] < best)
            m = l, best = h->v[l];
        if (l + 1 < h->len && h->v[l + 1] < best)
            m = l + 1, best = h->v[l + 1];
        if (m == i)
            break;
        h->v[i] = h->v[m];
        i = m;
    }
    if (h->len)
        h->v[i] = x;
    return top;
}

/* Fills the per-task CSR arrays of names resolved to indices and checks
 * them: duplicate task names, items with two producers, unknown or self
 * requires, needs nobody (or only the task itself) produces. */
static pyti_status resolve(pyti_plan *p, strmap *names, pyti_error *err)
{
    const pyti_recipe *r = p->r;
    size_t n = p->n;
    for (size_t i = 0; i < n; i++) {
        const pyti_task_def *t = &r->tasks[i];
        size_t first;
        if (!t->name)
            return pyti_error_set(err, PYTI_ERR_INPUT, "%s:%u: task without a name",
                                  task_file(r, t), t->line);
        if (!strmap_add(names, t->name, i, &first))
            return pyti_error_set(err, PYTI_ERR_INPUT,
                                  "%s:%u: task '%s' is defined twice (first at %s:%u)",
                                  task_file(r, t), t->line, t->name,
                                  task_file(r, &r->tasks[first]), r->tasks[first].line);
    }

    size_t nprod = 0, nreq = 0, nneed = 0;
    for (size_t i = 0; i < n; i++) {
        nprod += r->tasks[i].produces.len;
        nreq += r->tasks[i].requires.len;
        nneed += r->tasks[i].needs.len;
    }
    p->prod_start = xcalloc(n + 1, sizeof *p->prod_start);
    p->prod = xcalloc(nprod ? nprod : 1, sizeof *p->prod);
    p->item_producer = xcalloc(nprod ? nprod : 1, sizeof *p->item_producer);
    p->item_name = xcalloc(nprod ? nprod : 1, sizeof *p->item_name);
    p->item_done = xcalloc(nprod ? nprod : 1, sizeof *p->item_done);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const pyti_task_def *t = &r->tasks[i];
        p->prod_start[i] = k;
        for (size_t j = 0; j < t->produces.len; j++) {
            const char *item = t->produces.items[j];
            size_t id;
            if (strmap_add(&p->items, item, p->nitems, &id)) {
                id = p->nitems++;
                p->item_producer[id] = i;
                p->item_name[id] = item;
            } else if (p->item_producer[id] != i) {
                const pyti_task_def *o = &r->tasks[p->item_producer[id]];
                return pyti_error_set(err, PYTI_ERR_INPUT,
                                      "%s:%u: item '%s' is produced by two tasks: '%s' (%s:%u) "
                                      "and '%s' (%s:%u)",
                                      task_file(r, t), t->line, item, o->name, task_file(r, o),
                                      o->line, t->name, task_file(r, t), t->line);
            }
            p->prod[k++] = id;
        }
    }
    p->prod_start[n] = k;

    p->req_start = xcalloc(n + 1, sizeof *p->req_start);
    p->req = xcalloc(nreq ? nreq : 1, sizeof *p->req);
    p->need_start = xcalloc(n + 1, sizeof *p->need_start);
    p->need = xcalloc(nneed ? nneed : 1, sizeof *p->need);
    size_t kr = 0, kn = 0;
    for (size_t i = 0; i < n; i++) {
        const pyti_task_def *t = &r->tasks[i];
        const char *file = task_file(r, t);
        p->req_start[i] = kr;
        for (size_t j = 0; j < t->requires.len; j++) {
            const char *name = t->requires.items[j];
            size_t d;
            if (!strmap_get(names, name, &d))
                return pyti_error_set(err, PYTI_ERR_INPUT,
                                      "%s:%u: task '%s' requires unknown task '%s'", file,
                                      t->line, t->name, name);
            if (d == i)
                return pyti_error_set(err, PYTI_ERR_INPUT, "%s:%u: task '%s' requires itself",
                                      file, t->line, t->name);
            p->req[kr++] = d;
        }
        p->need_start[i] = kn;
        for (size_t j = 0; j < t->needs.len; j++) {
            const char *item = t->needs.items[j];
            size_t id;
            if (!strmap_get(&p->items, item, &id))
                return pyti_error_set(err, PYTI_ERR_INPUT,
                                      "%s:%u: task '%s' needs '%s' which no task produces", file,
                                      t->line, t->name, item);
            if (p->item_producer[id] == i)
                return pyti_error_set(err, PYTI_ERR_INPUT,
                                      "%s:%u: task '%s' needs '%s' which it produces itself",
                                      file, t->line, t->name, item);
            p->need[kn++] = id;
        }
    }
    p->req_start[n] = kr;
    p->need_start[n] = kn;
    return PYTI_OK;
}

/* Reports a cycle among the tasks Kahn's algorithm could not place. Every
 * unplaced task has an unplaced dependency, so walking from the earliest
 * defined unplaced task, always to its earliest defined unplaced
 * dependency, must revisit a task; the loop found is reported starting at
 * its earliest defined task. Deterministic by construction. */
static pyti_status report_cycle(const pyti_plan *p, const size_t *dstart, const size_t *ddefs,
                                const bool *placed, pyti_error *err)
{
    const pyti_recipe *r = p->r;
    size_t n = p->n;
    size_t *step = xmalloc(n * sizeof *step); /* visit number + 1; 0 = unvisited */
    memset(step, 0, n * sizeof *step);
    size_t *path = xmalloc(n * sizeof *path);
    size_t len = 0;
    size_t cur = 0;
    while (placed[cur])
        cur++;
    while (!step[cur]) {
        path[len] = cur;
        step[cur] = ++len;
        size_t next = n;
        for (size_t j = dstart[cur]; j < dstart[cur + 1]; j++) {
            if (!placed[ddefs[j]]) {
                next = ddefs[j];
                break; /* ddefs is ascending */
            }
        }
        if (next == n) { /* cannot happen: an unplaced task has an unplaced dependency */
            free(step);
            free(path);
            return pyti_error_set(err, PYTI_ERR_INTERNAL, "task graph: cycle search failed");
        }
        cur = next;
    }
    size_t from = step[cur] - 1; /* the loop is path[from..len) */
    size_t clen = len - from;
    size_t rot = 0;
    for (size_t i = 1; i < clen; i++) {
        if (path[from + i] < path[from + rot])
            rot = i;
    }
    pyti_buf b = PYTI_BUF_INIT;
    for (size_t i = 0; i <= clen; i++) {
        const pyti_task_def *t = &r->tasks[path[from + (rot + i) % clen]];
        buf_printf(&b, "%s%s", i ? " -> " : "", t->name);
        if (b.len > PYTI_ERROR_MSG_MAX)
            break;
    }
    const pyti_task_def *first = &r->tasks[path[from + rot]];
    pyti_error_set(err, PYTI_ERR_INPUT, "%s:%u: dependency cycle: %s", task_file(r, first),
                   first->line, buf_cstr(&b));
    buf_free(&b);
    free(step);
    free(path);
    return PYTI_ERR_INPUT;
}

pyti_plan *plan_build(const pyti_recipe *r, pyti_error *err)
{
    if (!r) {
        pyti_error_set(err, PYTI_ERR_USAGE, "plan_build: no recipe");
        return NULL;
    }
    pyti_plan *p = xcalloc(1, sizeof *p);
    p->r = r;
    size_t n = p->n = r->ntasks;
    strmap names = STRMAP_INIT;
    pyti_status st = resolve(p, &names, err);
    strmap_free(&names);
    if (st != PYTI_OK) {
        plan_free(p);
        return NULL;
    }

    /* Dependencies by def: required tasks and producers of needed items,
     * sorted and deduplicated. */
    size_t *dstart = xcalloc(n + 1, sizeof *dstart);
    size_t total = p->req_start[n] + p->need_start[n];
    size_t *ddefs = xcalloc(total ? total : 1, sizeof *ddefs);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t begin = k;
        dstart[i] = k;
        for (size_t j = p->req_start[i]; j < p->req_start[i + 1]; j++)
            ddefs[k++] = p->req[j];
        for (size_t j = p->need_start[i]; j < p->need_start[i + 1]; j++)
            ddefs[k++] = p->item_producer[p->need[j]];
        qsort(ddefs + begin, k - begin, sizeof *ddefs, cmp_size);
        size_t u = begin;
        for (size_t j = begin; j < k; j++) {
            if (u == begin || ddefs[u - 1] != ddefs[j])
                ddefs[u++] = ddefs[j];
        }
        k = u;
    }
    dstart[n] = k;

    /* Reverse edges (dependants), for Kahn's algorithm. */
    size_t *rstart = xcalloc(n + 1, sizeof *rstart);
    size_t *rdefs = xcalloc(k ? k : 1, sizeof *rdefs);
    size_t *indeg = xcalloc(n ? n : 1, sizeof *indeg);
    for (size_t i = 0; i < n; i++) {
        indeg[i] = dstart[i + 1] - dstart[i];
        for (size_t j = dstart[i]; j < dstart[i + 1]; j++)
            rstart[ddefs[j] + 1]++;
    }
    for (size_t i = 0; i < n; i++)
        rstart[i + 1] += rstart[i];
    size_t *fill = xcalloc(n ? n : 1, sizeof *fill);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = dstart[i]; j < dstart[i + 1]; j++) {
            size_t d = ddefs[j];
            rdefs[rstart[d] + fill[d]++] = i;
        }
    }
    free(fill);

    p->order = xcalloc(n ? n : 1, sizeof *p->order);
    p->pos = xcalloc(n ? n : 1, sizeof *p->pos);
    bool *placed = xcalloc(n ? n : 1, sizeof *placed);
    heap h = {xcalloc(n ? n : 1, sizeof *h.v), 0};
    for (size_t i = 0; i < n; i++) {
        if (indeg[i] == 0)
            heap_push(&h, i);
    }
    size_t nplaced = 0;
    while (h.len) {
        size_t i = heap_pop(&h);
        placed[i] = true;
        p->pos[i] = nplaced;
        p->order[nplaced++] = i;
        for (size_t j = rstart[i]; j < rstart[i + 1]; j++) {
            if (--indeg[rdefs[j]] == 0)
                heap_push(&h, rdefs[j]);
        }
    }
    free(h.v);
    free(indeg);
    free(rstart);
    free(rdefs);
    if (nplaced < n) {
        report_cycle(p, dstart, ddefs, placed, err);
        free(placed);
        free(dstart);
        free(ddefs);
        plan_free(p);
        return NULL;
    }
    free(placed);

    /* Dependencies by position, ascending. */
    p->dep_start = xcalloc(n + 1, sizeof *p->dep_start);
    p->deps = xcalloc(k ? k : 1, sizeof *p->deps);
    size_t m = 0;
    for (size_t q = 0; q < n; q++) {
        size_t i = p->order[q];
        p->dep_start[q] = m;
        for (size_t j = dstart[i]; j < dstart[i + 1]; j++)
            p->deps[m++] = p->pos[ddefs[j]];
        qsort(p->deps + p->dep_start[q], m - p->dep_start[q], sizeof *p->deps, cmp_size);
    }
    p->dep_start[n] = m;
    free(dstart);
    free(ddefs);

    p->status = xcalloc(n ? n : 1, sizeof *p->status);
    return p;
}

size_t plan_len(const pyti_plan *p)
{
    return p ? p->n : 0;
}

const pyti_task_def *plan_task(const pyti_plan *p, size_t i)
{
    if (!p || i >= p->n)
        return NULL;
    return &p->r->tasks[p->order[i]];
}

const size_t *plan_deps(const pyti_plan *p, size_t i, size_t *n)
{
    if (!p || i >= p->n) {
        if (n)
            *n = 0;
        return NULL;
    }
    if (n)
        *n = p->dep_start[i + 1] - p->dep_start[i];
    return p->deps + p->dep_start[i];
}

void plan_record(pyti_plan *p, size_t i, pyti_task_status status, const pyti_strv *produced)
{
    if (!p || i >= p->n)
        return;
    p->status[i] = status;
    size_t d = p->order[i];
    for (size_t j = p->prod_start[d]; j < p->prod_start[d + 1]; j++)
        p->item_done[p->prod[j]] = false;
    if (!produced)
        return;
    for (size_t j = 0; j < produced->len; j++) {
        size_t id;
        if (produced->items[j] && strmap_get(&p->items, produced->items[j], &id) &&
            p->item_producer[id] == d)
            p->item_done[id] = true;
    }
}

pyti_task_status plan_status(const pyti_plan *p, size_t i)
{
    if (!p || i >= p->n)
        return PYTI_TASK_PENDING;
    return p->status[i];
}

char *plan_skip_reason(const pyti_plan *p, size_t i)
{
    if (!p || i >= p->n)
        return NULL;
    const pyti_recipe *r = p->r;
    size_t d = p->order[i];
    for (size_t j = p->req_start[d]; j < p->req_start[d + 1]; j++) {
        size_t dep = p->req[j];
        pyti_task_status s = p->status[p->pos[dep]];
        if (s != PYTI_TASK_PENDING && !task_status_ok(s))
            return xasprintf("requires task '%s' which %s", r->tasks[dep].name, status_phrase(s));
    }
    for (size_t j = p->need_start[d]; j < p->need_start[d + 1]; j++) {
        size_t id = p->need[j];
        size_t prod = p->item_producer[id];
        pyti_task_status s = p->status[p->pos[prod]];
        if (s == PYTI_TASK_PENDING)
            continue;
        if (!task_status_ok(s))
            return xasprintf("needs '%s' from task '%s' which %s", p->item_name[id],
                             r->tasks[prod].name, status_phrase(s));
        if (!p->item_done[id])
            return xasprintf("needs '%s' which task '%s' did not produce", p->item_name[id],
                             r->tasks[prod].name);
    }
    return NULL;
}
