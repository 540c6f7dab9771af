/* store_pages.c — the rendered parts of report pages kept beside the
 * reports (table report_pages, migration 5; store.h says what they are).
 * One row per report, replaced when a newer renderer renders the page
 * again; the row goes with its report (ON DELETE CASCADE). */
#include "store/store_internal.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

pyti_status store_put_report_page(pyti_store *s, const char *id, const store_report_page *page,
                                  bool wait, pyti_error *err)
{
    s->no_lock_wait = !wait;
    /* The report must exist: the row references it (a missing one would
     * fail the foreign key, which SQLite checks only when enabled). */
    db_res *r = db_query(
        s, "keeping a report page",
        "INSERT INTO report_pages (report_id, renderer, name, version, head, tail)"
        " SELECT id, $2, $3, $4, $5, $6 FROM reports WHERE id = $1"
        " ON CONFLICT (report_id) DO UPDATE SET renderer = excluded.renderer,"
        "  name = excluded.name, version = excluded.version, head = excluded.head,"
        "  tail = excluded.tail",
        DB_ARGS(db_text(id), db_int(page->renderer), db_text(page->name), db_text(page->version),
                db_text(page->head), db_text(page->tail)),
        err);
    s->no_lock_wait = false;
    if (!r)
        return PYTI_ERR_IO;
    long long changed = r->changes;
    db_res_free(r);
    if (changed == 0)
        return pyti_error_set(err, PYTI_ERR_NOTFOUND, "no report '%s' in %s", id, s->location);
    return PYTI_OK;
}

static char *dup_or_null(const char *v) { return v ? xstrdup(v) : NULL; }

pyti_status store_get_report_page(pyti_store *s, const char *id, store_report_page *out,
                                  pyti_error *err)
{
    memset(out, 0, sizeof *out);
    db_res *r = db_query(s, "reading a report page",
                         "SELECT renderer, name, version, head, tail FROM report_pages"
                         " WHERE report_id = $1",
                         DB_ARGS(db_text(id)), err);
    if (!r)
        return PYTI_ERR_IO;
    if (r->nrows == 0) {
        db_res_free(r);
        return pyti_error_set(err, PYTI_ERR_NOTFOUND, "no page of report '%s' in %s", id,
                              s->location);
    }
    out->renderer = (int)db_get_int(r, 0, 0);
    out->name = dup_or_null(db_get(r, 0, 1));
    out->version = dup_or_null(db_get(r, 0, 2));
    out->head = xstrdup(db_get(r, 0, 3) ? db_get(r, 0, 3) : "");
    out->tail = xstrdup(db_get(r, 0, 4) ? db_get(r, 0, 4) : "");
    out->head_len = strlen(out->head);
    out->tail_len = strlen(out->tail);
    db_res_free(r);
    return PYTI_OK;
}

void store_report_page_free(store_report_page *p)
{
    free(p->name);
    free(p->version);
    free(p->head);
    free(p->tail);
    memset(p, 0, sizeof *p);
}
