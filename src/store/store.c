/* store.c — the store's front door: picks the backend from the location,
 * opens and migrates, closes; the handle's queue options and test clock
 * (see store.h, queue.h). */
#include "store/store.h"
#include "store/queue.h"
#include "store/store_internal.h"
#include "common/buf.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

char *store_default_location(void)
{
    char *data = path_xdg_data_home();
    char *loc = xasprintf("%s/pyti/pyti.db", data);
    free(data);
    return loc;
}

bool store_location_is_pg(const char *location)
{
    return str_startswith(location, "postgresql://") || str_startswith(location, "postgres://");
}

/* The location for messages: a URI's password ("user:secret@", or
 * "password=secret" in the query) replaced by "***". */
static char *redact(const char *location)
{
    if (!store_location_is_pg(location))
        return xstrdup(location);
    pyti_buf b = PYTI_BUF_INIT;
    const char *auth = strstr(location, "://") + 3;
    const char *at = strchr(auth, '@');
    const char *slash = strchr(auth, '/');
    const char *colon = strchr(auth, ':');
    const char *p = location;
    if (at && (!slash || at < slash) && colon && colon < at) {
        buf_append(&b, location, (size_t)(colon + 1 - location));
        buf_puts(&b, "***");
        p = at;
    }
    const char *q;
    while ((q = strstr(p, "password=")) != NULL) {
        buf_append(&b, p, (size_t)(q + 9 - p));
        buf_puts(&b, "***");
        p = q + 9;
        while (*p && *p != '&')
            p++;
    }
    buf_puts(&b, p);
    return buf_detach(&b);
}

pyti_store *store_open(const char *location, pyti_error *err)
{
    bool pg = store_location_is_pg(location);
    const char *path = !pg && str_startswith(location, "sqlite:") ? location + 7 : location;
    if (!*path) {
        pyti_error_set(err, PYTI_ERR_USAGE, "store: empty location");
        return NULL;
    }
    pyti_store *s = xcalloc(1, sizeof *s);
    s->location = redact(location);
    store_queue_options_default(&s->qopt);
    pyti_status rc = pg ? store_pg_open(s, location, err) : store_sqlite_open(s, path, err);
    if (rc == PYTI_OK && store_migrate(s, err) != PYTI_OK) {
        db_free_statements(s);
        s->drv->close(s);
        rc = PYTI_ERR_IO;
    }
    if (rc != PYTI_OK) {
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
    db_rollback(s);
    db_res_free(db_take_kept(s)); /* a caller's that was never taken */
    db_free_statements(s);
    s->drv->close(s);
    free(s->location);
    free(s);
}

int store_schema_version(pyti_store *s)
{
    db_res *r = db_query(s, "reading the schema version",
                         "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", DB_NOARGS,
                         NULL);
    if (!r)
        return -1;
    int v = (int)db_get_int(r, 0, 0);
    db_res_free(r);
    return v;
}

const char *store_backend(const pyti_store *s)
{
    return s->drv->name;
}

void store_queue_options_default(store_queue_options *o)
{
    o->lease_ms = 60000;
    o->backoff_base_ms = 10000;
    o->backoff_max_ms = 3600000;
    o->max_attempts = 3;
    o->worker_gone_ms = 120000;
    o->reap_interval_ms = 5000;
}

void store_set_queue_options(pyti_store *s, const store_queue_options *o)
{
    s->qopt = *o;
    if (s->qopt.lease_ms <= 0)
        s->qopt.lease_ms = 60000;
    if (s->qopt.backoff_base_ms < 0)
        s->qopt.backoff_base_ms = 0;
    if (s->qopt.backoff_max_ms < s->qopt.backoff_base_ms)
        s->qopt.backoff_max_ms = s->qopt.backoff_base_ms;
    if (s->qopt.max_attempts < 1)
        s->qopt.max_attempts = 1;
    if (s->qopt.max_attempts > 100)
        s->qopt.max_attempts = 100;
}

pyti_status store_debug_clock_offset(pyti_store *s, long long offset_ms, pyti_error *err)
{
    s->last_reap = 0; /* the next claim reaps on the new clock */
    return s->drv->set_clock_offset(s, offset_ms, err);
}
