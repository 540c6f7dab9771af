/* server.h — a local package index over a directory of distributions
 * (`pyti index serve`), with libmicrohttpd.
 *
 * Every distribution file found in the directory (and its subdirectories,
 * three levels deep) is grouped by project (PEP 503 names from the file
 * name) and served as a simple repository:
 *   /simple/                  the project list
 *   /simple/<project>/        a project page (other spellings redirect)
 *   /files/<project>/<file>   the file itself (single byte ranges too)
 *   /files/<project>/<file>.metadata   the wheel's METADATA (PEP 658)
 * Pages are PEP 691 JSON or PEP 503 HTML by content negotiation (Accept,
 * or ?format=), with sha256 hashes, requires-python (from the metadata),
 * PEP 592 yanked (a file "<file>.yanked" next to the distribution marks
 * it, its text being the reason), PEP 658/714 metadata hashes under both
 * attribute names, PEP 700 versions, size and upload-time (the file's
 * mtime), and X-PyPI-Last-Serial. Everything in HTML is escaped; nothing
 * from a URL ever becomes a file system path (files are looked up in the
 * scanned table). */
#ifndef PYTI_SERVER_H
#define PYTI_SERVER_H

#include <stdbool.h>

#include "common/err.h"

typedef struct pyti_server_options {
    const char *dir;
    const char *listen;  /* "ADDR:PORT", "[ADDR6]:PORT" or "PORT"; NULL: 127.0.0.1:8000;
                            port 0 picks a free one */
    bool no_metadata;    /* do not offer PEP 658 metadata files */
    unsigned threads;    /* 0: 4 */
    bool log_requests;   /* one line per request on stderr */
} pyti_server_options;

typedef struct pyti_server pyti_server;

/* Scans dir and starts serving. NULL with err: PYTI_ERR_NOTFOUND (no such
 * directory), PYTI_ERR_USAGE (bad listen address), PYTI_ERR_IO (the port
 * cannot be bound). Files that are not distributions are ignored;
 * distributions that cannot be read are served without metadata (a
 * warning says why). */
pyti_server *server_start(const pyti_server_options *o, pyti_error *err);

/* The port actually bound. */
unsigned server_port(const pyti_server *s);
/* "http://ADDR:PORT/simple/" (static storage in s). */
const char *server_url(const pyti_server *s);
/* Number of projects and files in the current scan. */
void server_counts(const pyti_server *s, unsigned long *projects, unsigned long *files);

/* Scans the directory again and swaps the new table in (requests in
 * flight finish with the old one). */
pyti_status server_rescan(pyti_server *s, pyti_error *err);

/* Stops serving and frees everything. */
void server_stop(pyti_server *s);

/* Chooses the page format for an Accept header value (NULL: none sent):
 * 1 JSON, 2 PEP 691 HTML, 3 text/html, 0 nothing acceptable (406).
 * Exposed for tests. */
int server_negotiate(const char *accept);

#endif
