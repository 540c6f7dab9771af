/* html.h — writing HTML safely: escaping, URL encoding, and hf(), the one
 * formatter every page uses, which escapes its text arguments by default.
 *
 * The rule of the web room: every value that is not a literal of pyti's
 * own code goes through html_text (or %s of hf), html_attr, or url
 * encoding (%u of hf). Raw insertion (%r) is only for markup pyti built
 * itself. */
#ifndef PYTI_WEB_HTML_H
#define PYTI_WEB_HTML_H

#include <stddef.h>

#include "common/buf.h"

/* Appends s as HTML text or attribute value: & < > " ' become entities,
 * and so do the C0 controls other than tab, newline and carriage return
 * (shown as U+FFFD) and DEL. Bytes that are not valid UTF-8 become U+FFFD
 * too, so the page is always valid UTF-8. NULL appends nothing. */
void html_text(pyti_buf *b, const char *s);
/* The same for s[0..len) (NUL bytes become U+FFFD). */
void html_textn(pyti_buf *b, const char *s, size_t len);

/* Percent-encodes s for one URL path segment or query value: everything
 * but A-Z a-z 0-9 - . _ ~ is %XX (so '/' and '?' cannot escape the
 * segment). The result is also safe inside an attribute. */
void html_url_encode(pyti_buf *b, const char *s);

/* Decodes %XX and (if plus_is_space) '+' in s[0..len) into a new string.
 * Returns NULL if a %-escape is malformed or decodes to a NUL byte. */
char *html_url_decode(const char *s, size_t len, int plus_is_space);

/* The value of key in a query string ("a=1&b=x%20y"), decoded, as a new
 * string; NULL if absent or malformed. */
char *html_query_get(const char *query, const char *key);

/* Appends formatted HTML. Conversions:
 *   %s  text, escaped with html_text (NULL: nothing)
 *   %u  text, percent-encoded with html_url_encode (for hrefs)
 *   %r  raw markup (pyti's own, never data from a package)
 *   %d  int        %L  long long
 *   %f  double, with optional precision (%.1f)
 *   %%  a percent sign
 * Anything else is a programming error (abort). */
void hf(pyti_buf *b, const char *fmt, ...);

#endif
