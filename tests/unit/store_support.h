/* store_support.h — helpers for the store tests that run on both
 * backends: each test is registered twice (T_BOTH), once with the SQLite
 * backend and once with PostgreSQL, and asks for a fresh, empty store.
 *
 * PostgreSQL comes from $PYTI_TEST_PG (a libpq URI; scripts/test starts a
 * throwaway server and sets it). Each store is a new schema in that
 * database, dropped when the test program exits. When PYTI_TEST_PG is
 * unset the PostgreSQL cases FAIL, unless PYTI_ALLOW_NO_PG=1 says to skip
 * them (for a quick local run; CI never sets it).
 *
 * Include after <setjmp.h>, <stdarg.h>, <stddef.h> and <cmocka.h>. */
#ifndef PYTI_TEST_STORE_SUPPORT_H
#define PYTI_TEST_STORE_SUPPORT_H

#include <jansson.h>
#include <stdbool.h>

#include "store/queue.h"
#include "store/store.h"

typedef struct t_backend {
    const char *name;
    bool pg;
} t_backend;

extern const t_backend T_SQLITE;
extern const t_backend T_PG;

/* Two entries of a CMUnitTest array: f on SQLite, then on PostgreSQL. */
#define T_BOTH(f)                                                      \
    {#f "[sqlite]", f, NULL, NULL, (void *)&T_SQLITE},                 \
    {#f "[postgresql]", f, NULL, NULL, (void *)&T_PG}

/* The backend of the running test (its prestate). */
const t_backend *t_backend_of(void **state);

/* A new, empty store location on the test's backend (caller frees). Fails
 * (or skips, see above) a PostgreSQL test without a server. */
char *t_store_location(void **state);
/* The same for an explicit backend. */
char *t_store_location_for(const t_backend *b);
/* Opens location; fails the test with the error if it cannot. */
pyti_store *t_store_open(const char *location);
/* t_store_open(t_store_location(state)); *location (may be NULL) gets the
 * location (caller frees). */
pyti_store *t_store_fresh(void **state, char **location);

/* Runs SQL on the raw database behind location (a new schema's search
 * path for PostgreSQL); fails the test on error. For setting up old
 * schemas and for checks the API does not expose. */
void t_raw_sql(const char *location, const char *sql);
/* t_raw_sql that does not fail the test: whether the SQL succeeded (for
 * checks that the database refuses something). */
bool t_raw_sql_ok(const char *location, const char *sql);
/* The first column of the first row of a query on the raw database, as
 * an integer (-1 if no row). */
long long t_raw_int(const char *location, const char *sql);

/* A valid report (schema_version 1) with the given id (32 hex), project,
 * version, file sha256 (64 hex), outcome, created time and safety verdict
 * ("unassessed" if NULL). New reference. */
json_t *t_report(const char *id, const char *name, const char *version, const char *sha256,
                 const char *outcome, const char *created, const char *safety);
/* A fresh random report id (32 hex) into out[33]. */
void t_report_id(char out[33]);
/* "ab..." repeated into a 64-hex sha256 made from n, into out[65]. */
void t_sha(unsigned n, char out[65]);

/* A job spec for "demo-<n>" version 1.0 with the file of t_sha(n), fetched
 * from a URL; strings live in static storage per n (valid until the next
 * call with the same slot). */
void t_spec(store_job_spec *spec, unsigned n);

/* Registers a worker with the given capabilities (comma-separated lists,
 * NULL for none) and no policy. */
void t_worker(pyti_store *s, const char *id, const char *arch, const char *os, long long memory_mb,
              const char *pythons, const char *tags);

/* Queue options for tests: 1 s leases, backoff 1 s doubling to 8 s, no
 * automatic reaping (tests call store_reap_expired), applied to s. Tests
 * move the store's clock (store_debug_clock_offset) and keep margins of
 * a few hundred ms, since real time passes too. */
void t_fast_queue(pyti_store *s);

#endif
