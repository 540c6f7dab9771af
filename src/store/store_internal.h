/* store_internal.h — the backend interface behind store.h. Private to
 * src/store/. Each backend fills a store_ops table; store.c validates
 * arguments and dispatches. */
#ifndef PYTI_STORE_INTERNAL_H
#define PYTI_STORE_INTERNAL_H

#include "store/store.h"

typedef struct store_ops {
    const char *name;
    void (*close)(pyti_store *s);
    int (*schema_version)(pyti_store *s);
    pyti_status (*put_report)(pyti_store *s, const json_t *report, const json_t *summary,
                              const char *project, const char *text, bool *inserted,
                              pyti_error *err);
    json_t *(*list_reports)(pyti_store *s, const char *project, size_t limit, pyti_error *err);
    json_t *(*get_report)(pyti_store *s, const char *id, bool prefix, pyti_error *err);
    long long (*count_reports)(pyti_store *s, pyti_error *err);
} store_ops;

struct pyti_store {
    const store_ops *ops;
    char *location;
    void *impl;
};

/* Opens the SQLite backend at path into s (ops and impl set). */
pyti_status store_sqlite_open(pyti_store *s, const char *path, pyti_error *err);

#endif
