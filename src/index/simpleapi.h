/* simpleapi.h — the simple repository API: project pages and the project
 * list, in PEP 691 JSON or PEP 503 HTML, parsed into one model.
 *
 * Supported: file URLs resolved against the page (and an HTML <base>),
 * hashes (JSON "hashes", HTML "#sha256=" fragments), requires-python
 * (HTML attribute values are entity-decoded by the parser), yanked with
 * its reason (PEP 592), core metadata availability and hash (PEP 658
 * "data-dist-info-metadata", PEP 714 "core-metadata" /
 * "data-core-metadata", the newer name winning), PEP 700 "versions",
 * "size" and "upload-time", the API version (JSON meta, HTML
 * <meta name="pypi:repository-version">) and the last serial. Pages are
 * untrusted: every count and length is bounded, junk is skipped, and the
 * HTML parser (libxml2) recovers from any markup. A plain directory listing
 * (python3 -m http.server, Apache) parses as a page whose links are its
 * files. */
#ifndef PYTI_SIMPLEAPI_H
#define PYTI_SIMPLEAPI_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/strv.h"

#define SIMPLE_MAX_FILES 200000     /* links kept from one page */
#define SIMPLE_MAX_PROJECTS 2000000 /* names kept from the project list */
#define SIMPLE_MAX_FIELD 8192       /* bytes of one string field */

#define SIMPLE_ACCEPT                                                                      \
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, " \
    "text/html;q=0.01"

typedef enum pyti_page_format {
    PYTI_PAGE_HTML,
    PYTI_PAGE_JSON,
} pyti_page_format;

typedef struct pyti_simple_file {
    char *filename;        /* the URL's last path component, decoded (JSON:
                              the "filename" field) */
    char *url;             /* absolute, without fragment */
    char *sha256;          /* lowercase hex, or NULL */
    char *sha384, *sha512; /* lowercase hex, or NULL */
    char *requires_python; /* as given (entity-decoded), or NULL */
    bool yanked;
    char *yanked_reason;   /* NULL if none given */
    bool has_metadata;     /* PEP 658/714 metadata file at url + ".metadata" */
    char *metadata_sha256; /* its hash when given, else NULL */
    long long size;        /* PEP 700, -1 if unknown */
    char *upload_time;     /* PEP 700, or NULL */
} pyti_simple_file;

typedef struct pyti_simple_project {
    char *name;            /* JSON "name" (normalised per PEP 691), or NULL */
    char *api_version;     /* "1.1", or NULL when the page does not say */
    char *page_url;
    pyti_simple_file *files;
    size_t nfiles;
    pyti_strv versions;    /* PEP 700 (JSON, api 1.1); empty otherwise */
    long long last_serial; /* meta "_last-serial" or X-PyPI-Last-Serial; -1 */
    pyti_page_format format;
} pyti_simple_project;

typedef struct pyti_simple_index {
    pyti_strv names;       /* as given (HTML: the anchor text) */
    char *api_version;
    long long last_serial;
} pyti_simple_index;

/* Which parser a Content-Type asks for: JSON for
 * application/vnd.pypi.simple.v1+json (and application/json), HTML for
 * anything else (text/html, application/vnd.pypi.simple.v1+html, none). */
pyti_page_format simple_format_for(const char *content_type);

/* Parses a project page body[0..len) fetched from page_url (the final URL
 * after redirects: relative links are resolved against it). out is
 * overwritten (free with simple_project_free even on failure). Fails with
 * PYTI_ERR_INPUT only for JSON that does not parse or has the wrong shape
 * (e.g. "files" not a list, an unsupported major api-version); HTML never
 * fails. Links that are not usable (no href, a scheme other than
 * http/https, a file name that is empty) are skipped. */
pyti_status simple_parse_project(const char *body, size_t len, pyti_page_format format,
                                 const char *page_url, pyti_simple_project *out,
                                 pyti_error *err);
void simple_project_free(pyti_simple_project *p);

/* Parses the project list (the index's root page). Same rules. */
pyti_status simple_parse_index(const char *body, size_t len, pyti_page_format format,
                               pyti_simple_index *out, pyti_error *err);
void simple_index_free(pyti_simple_index *ix);

/* Parses a PEP 658 hash value "sha256=abc..." (or "true"): has is set
 * when the value says metadata exists; *sha256 gets a new lowercase hex
 * string or NULL. */
void simple_parse_metadata_attr(const char *value, bool *has, char **sha256);

#endif
