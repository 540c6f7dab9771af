/* http.h — pyti's HTTP client (libcurl) for package indexes: pages,
 * metadata files and distributions, with a content-addressed download
 * cache, hash verification, retries and size limits.
 *
 * Every downloaded file is verified against the hashes the index gave
 * (sha256, sha384, sha512); a mismatch is a hard error, the bytes are
 * thrown away and nothing is cached. Transient failures (connection
 * errors, timeouts, HTTP 5xx and 429) are retried with exponential backoff
 * (Retry-After honoured up to the backoff cap). Proxies come from the
 * usual environment variables (http_proxy, https_proxy, no_proxy, read by
 * libcurl), CA certificates from CURL_CA_BUNDLE or SSL_CERT_FILE (and
 * SSL_CERT_DIR). Only http, https and file URLs are fetched; redirects
 * only to http and https.
 *
 * Cache layout under cache_dir (default $XDG_CACHE_HOME/pyti):
 *   files/sha256/ab/abcd...      verified file contents, by SHA-256
 *   urls/ab/<sha256 of URL>      for files the index gave no SHA-256 for:
 *                                the SHA-256 of what URL served last
 *   pages/ab/<sha256 of URL+Accept>  the last page fetched (for --offline)
 * Offline mode reads only the cache and never opens a connection.
 *
 * A pyti_http is not thread-safe (one curl handle, reused so connections
 * are kept alive); use one per thread. */
#ifndef PYTI_HTTP_H
#define PYTI_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

typedef struct pyti_http_options {
    const char *user_agent;   /* NULL: "pyti/<version> (+<homepage>)" */
    const char *cache_dir;    /* NULL: $XDG_CACHE_HOME/pyti */
    long connect_timeout_ms;  /* 0: 10 s */
    long low_speed_time_s;    /* abort below 1 byte/s for this long; 0: 60 s */
    unsigned retries;         /* extra attempts after the first; default 4 */
    long backoff_ms;          /* first retry delay, doubled each time; 0: 250 ms */
    long backoff_max_ms;      /* cap; 0: 8 s */
    size_t max_page_size;     /* 0: 64 MiB */
    size_t max_file_size;     /* 0: 2 GiB */
    bool offline;             /* cache only */
    bool no_cache;            /* neither read nor write the cache (pages still
                                 need the network) */
} pyti_http_options;

/* Sets the defaults above. */
void http_options_default(pyti_http_options *o);

typedef struct pyti_http pyti_http;

/* A client. NULL with err if libcurl cannot be initialised. */
pyti_http *http_new(const pyti_http_options *opts, pyti_error *err);
void http_free(pyti_http *h);

/* The options in use (defaults filled in). */
const pyti_http_options *http_options(const pyti_http *h);

typedef struct pyti_http_response {
    long status;            /* HTTP status (200 for file: URLs) */
    char *content_type;     /* or NULL */
    char *url;              /* final URL after redirects */
    long long last_serial;  /* X-PyPI-Last-Serial, -1 if absent */
    pyti_buf body;
    bool from_cache;
} pyti_http_response;

void http_response_free(pyti_http_response *r);

/* GETs a page (project page or project list) with the given Accept
 * header, following redirects. On success (2xx) the page is also written
 * to the page cache. Offline, the cached copy is returned (from_cache) or
 * PYTI_ERR_NOTFOUND. Returns PYTI_ERR_NOTFOUND for 404 and 410 (not
 * retried), PYTI_ERR_LIMIT for a body over max_page_size, PYTI_ERR_IO for
 * other failures after the retries; err names the URL. */
pyti_status http_get_page(pyti_http *h, const char *url, const char *accept,
                          pyti_http_response *out, pyti_error *err);

/* Fetches n pages at once (up to 8 transfers in parallel, sharing
 * connections with h), one attempt each. st[i] is PYTI_OK (out[i] filled,
 * and the page cached), PYTI_ERR_NOTFOUND for 404/410, or PYTI_ERR_IO for
 * anything else, which the caller leaves to http_get_page (with its
 * retries and messages). Offline it does nothing (every st[i] is
 * PYTI_ERR_IO). out[i] is freed with http_response_free in every case. */
void http_get_pages(pyti_http *h, const char *const *urls, size_t n, const char *accept,
                    pyti_http_response *out, pyti_status *st);

/* Expected hashes of a file (lowercase hex; NULL when not known). */
typedef struct pyti_hashes {
    const char *sha256;
    const char *sha384;
    const char *sha512;
} pyti_hashes;

/* Returns true if any hash is given. */
bool hashes_any(const pyti_hashes *hs);

/* Fetches a file into the content-addressed cache and returns its path
 * there (new string) and its SHA-256 (sha256_out, 65 bytes, may be NULL).
 * A file whose SHA-256 is known and already cached is not downloaded
 * again. Every given hash is checked; a mismatch fails with PYTI_ERR_INPUT
 * ("hash mismatch ... the file was not used") and leaves nothing behind.
 * Without any expected hash the file is still cached by its own SHA-256
 * and remembered under its URL, so offline mode can find it. max is the
 * size limit (0: max_file_size). Offline, a file not in the cache is
 * PYTI_ERR_NOTFOUND. */
pyti_status http_fetch_file(pyti_http *h, const char *url, const pyti_hashes *expect,
                            size_t max, char **path_out, char *sha256_out, pyti_error *err);

/* Statistics since http_new (for --verbose and benchmarks). */
typedef struct pyti_http_stats {
    unsigned long requests;     /* network requests made, retries included */
    unsigned long retries;
    unsigned long cache_hits;   /* files and pages served from the cache */
    unsigned long long bytes;   /* body bytes received */
} pyti_http_stats;
void http_stats(const pyti_http *h, pyti_http_stats *out);

/* The default User-Agent string (static). */
const char *http_default_user_agent(void);

#endif
