/* store.h — where reports live: one interface, several backends.
 *
 * The embedded default is SQLite (WAL) at $XDG_DATA_HOME/pyti/pyti.db.
 * A location is a file path or "sqlite:PATH"; "postgresql://..." is
 * reserved for the PostgreSQL backend. The schema is versioned and
 * migrated when the store is opened.
 *
 * Storing is idempotent: a report is keyed by its id, and storing the same
 * id again keeps the first copy (inserted = false). */
#ifndef PYTI_STORE_H
#define PYTI_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

typedef struct pyti_store pyti_store;

/* The default location ($XDG_DATA_HOME/pyti/pyti.db), new string. */
char *store_default_location(void);

/* Opens (creating if needed, with parent directories) and migrates the
 * store. NULL with err naming the location on failure; a database newer
 * than this pyti is PYTI_ERR_USAGE. */
pyti_store *store_open(const char *location, pyti_error *err);
void store_close(pyti_store *s);
/* The schema version the store is at. */
int store_schema_version(pyti_store *s);

/* Stores a report (which must pass report_validate). *inserted (may be
 * NULL) tells whether it was new. Atomic: on error nothing is stored. */
pyti_status store_put_report(pyti_store *s, const json_t *report, bool *inserted,
                             pyti_error *err);

/* Summaries (see report_summary) of stored reports, newest first; project
 * (any spelling, compared PEP 503-normalised) may be NULL for all. limit 0
 * means no limit. Returns a new array or NULL with err. */
json_t *store_list_reports(pyti_store *s, const char *project, size_t limit, pyti_error *err);

/* The report with this id, or the only one whose id starts with the given
 * prefix (at least 4 hex digits). PYTI_ERR_NOTFOUND, or PYTI_ERR_USAGE when
 * a prefix is ambiguous. New reference. */
json_t *store_get_report(pyti_store *s, const char *id, pyti_error *err);

/* Number of stored reports, or -1 with err. */
long long store_count_reports(pyti_store *s, pyti_error *err);

#endif
