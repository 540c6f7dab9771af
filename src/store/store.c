/* store.c — the store front end: picks the backend from the location,
 * checks arguments, derives the indexed columns of a report, dispatches
 * (see store.h). */
#include "store/store.h"
#include "store/store_internal.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "exec/report.h"
#include "pkg/name.h"

#include <stdlib.h>
#include <string.h>

char *store_default_location(void)
{
    char *data = path_xdg_data_home();
    char *loc = xasprintf("%s/pyti/pyti.db", data);
    free(data);
    return loc;
}

pyti_store *store_open(const char *location, pyti_error *err)
{
    if (str_startswith(location, "postgresql://") || str_startswith(location, "postgres://")) {
        pyti_error_set(err, PYTI_ERR_USAGE,
                       "store %s: the PostgreSQL backend is not available in this build", location);
        return NULL;
    }
    const char *path = str_startswith(location, "sqlite:") ? location + 7 : location;
    if (!*path) {
        pyti_error_set(err, PYTI_ERR_USAGE, "store: empty location");
        return NULL;
    }
    pyti_store *s = xcalloc(1, sizeof *s);
    s->location = xstrdup(location);
    if (store_sqlite_open(s, path, err) != PYTI_OK) {
        free(s->location);
        free(s);
        return NULL;
    }
    return s;
}

void store_close(pyti_store *s)
{
    if (!s)
        return;
    s->ops->close(s);
    free(s->location);
    free(s);
}

int store_schema_version(pyti_store *s)
{
    return s->ops->schema_version(s);
}

pyti_status store_put_report(pyti_store *s, const json_t *report, bool *inserted, pyti_error *err)
{
    if (report_validate(report, err) != PYTI_OK)
        return PYTI_ERR_INPUT;
    json_t *summary = report_summary(report);
    const char *name = json_get_str(summary, "name");
    char *project = name ? name_normalize(name) : xstrdup("");
    char *text = json_dumps(report, JSON_COMPACT | JSON_SORT_KEYS);
    pyti_status rc;
    if (!text)
        rc = pyti_error_set(err, PYTI_ERR_INTERNAL, "cannot serialise the report");
    else
        rc = s->ops->put_report(s, report, summary, project, text, inserted, err);
    free(text);
    free(project);
    json_decref(summary);
    return rc;
}

json_t *store_list_reports(pyti_store *s, const char *project, size_t limit, pyti_error *err)
{
    char *norm = project ? name_normalize(project) : NULL;
    json_t *r = s->ops->list_reports(s, norm, limit, err);
    free(norm);
    return r;
}

json_t *store_get_report(pyti_store *s, const char *id, pyti_error *err)
{
    size_t len = strlen(id);
    bool hex = len >= 4 && len <= 32;
    for (size_t i = 0; hex && i < len; i++)
        hex = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
    if (!hex) {
        pyti_error_set(err, PYTI_ERR_USAGE,
                       "report id '%s': expected 4 to 32 lowercase hex digits", id);
        return NULL;
    }
    return s->ops->get_report(s, id, len < 32, err);
}

long long store_count_reports(pyti_store *s, pyti_error *err)
{
    return s->ops->count_reports(s, err);
}
