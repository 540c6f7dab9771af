/* url.h — URL helpers for the index client and server, over libcurl's URL
 * API (curl_url): resolving a link against the page it was found on,
 * splitting off the fragment, the file name of a URL, percent-coding. */
#ifndef PYTI_URL_H
#define PYTI_URL_H

#include <stdbool.h>
#include <stddef.h>

/* Resolves ref (absolute, scheme-relative, absolute-path or relative)
 * against base, as a browser does; spaces and non-ASCII bytes are
 * percent-encoded. The fragment is removed; if fragment is not NULL it gets
 * a new string with the fragment (without '#'), or NULL when there is none.
 * Only http, https and file URLs are returned, and file URLs only when base
 * is one too (a remote index cannot point at local files). Returns a new
 * string, or NULL if ref cannot be resolved or is not allowed. */
char *url_resolve(const char *base, const char *ref, char **fragment);

/* The last path component of url, percent-decoded (query and fragment
 * ignored), as a new string; "" if the path ends in '/'. NULL if url is
 * not a URL libcurl can parse. */
char *url_filename(const char *url);

/* Percent-decodes s[0..len) into a new string. Invalid escapes are kept
 * as written; a decoded NUL byte stops the string there. */
char *url_decode(const char *s, size_t len);

/* Percent-encodes everything but unreserved characters (RFC 3986) and,
 * if keep_slash, '/'. New string. */
char *url_encode(const char *s, bool keep_slash);

/* The scheme of url lowercased ("http"), or NULL if it has none. New
 * string. */
char *url_scheme(const char *url);

/* base with "/" + path appended (exactly one slash in between), and a
 * trailing '/' if trailing_slash. New string. */
char *url_join(const char *base, const char *path, bool trailing_slash);

/* The password of url's user information ("https://user:PASS@host/..."),
 * as written (not decoded), or NULL when there is none. New string. Used
 * to keep index credentials out of reports and messages. */
char *url_password(const char *url);

/* text with every ":" password "@" of url replaced by ":****@" (as pip
 * shows credentials). New string; a copy when url has no password. */
char *url_redact_in(const char *text, const char *url);

#endif
