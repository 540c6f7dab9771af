/* feedparse.h — parsers of what the feeds read from an index (untrusted):
 * PyPI's RSS feeds (updates.xml: "name version" items; packages.xml: new
 * projects) with libxml2, the JSON project list of the simple API with
 * its "_last-serial" values (PEP 691 as PyPI serves it), and the RSS
 * feed's cursor. Every count and length is bounded; input that is not
 * what it should be is refused with a message saying what and where. */
#ifndef PYTI_FEEDPARSE_H
#define PYTI_FEEDPARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/strv.h"

#define FEED_MAX_ITEMS 10000       /* RSS items kept from one document */
#define FEED_MAX_PROJECTS 2000000  /* entries of a project list */
#define FEED_MAX_FIELD 1024        /* bytes of one name, version, title, link */

typedef struct feed_item {
    char *name;     /* the project as written */
    char *version;  /* NULL for a new-project item (packages.xml): the latest */
    long long time; /* pubDate, seconds since the epoch */
} feed_item;

/* Parses an RSS 2.0 document into items (in document order). Items
 * without a usable name or pubDate are skipped (counted in *skipped, may
 * be NULL). The name and version come from the item's link
 * (".../project/NAME/VERSION/") or else its title ("NAME VERSION", or
 * "NAME added to PyPI"). PYTI_ERR_INPUT when the document is not RSS
 * (names the line), has a DOCTYPE (entity tricks are refused outright)
 * or has more than FEED_MAX_ITEMS items. Free with feed_items_free. */
pyti_status feed_parse_rss(const char *body, size_t len, feed_item **items, size_t *n,
                           size_t *skipped, pyti_error *err);
void feed_items_free(feed_item *items, size_t n);

/* Parses an RFC 822 date as RSS uses it ("Sat, 05 Dec 2026 10:00:00
 * GMT", numeric zones too). -1 if it is not one. */
long long feed_parse_rfc822(const char *s);

typedef struct feed_project {
    char *name;
    long long serial;
} feed_project;

/* Parses a PEP 691 JSON project list with "_last-serial" on every project
 * (PyPI's, bandersnatch's mirrors) into projects (document order) and
 * *last_serial (meta "_last-serial", else the largest project serial).
 * PYTI_ERR_INPUT naming the member for anything else (a project without
 * a serial, a name that is not a string, ...). */
pyti_status feed_parse_serial_index(const char *body, size_t len, feed_project **projects,
                                    size_t *n, long long *last_serial, pyti_error *err);
void feed_projects_free(feed_project *p, size_t n);

/* The RSS cursor: the newest pubDate processed and the items ("name
 * version") processed at that second, as JSON {"time": T, "seen": [...]}.
 * Parse: NULL or "" is the empty cursor (time -1); PYTI_ERR_INPUT for
 * anything malformed. Format: a new string. */
pyti_status feed_rss_cursor_parse(const char *text, long long *time, pyti_strv *seen,
                                  pyti_error *err);
char *feed_rss_cursor_format(long long time, const pyti_strv *seen);

#endif
