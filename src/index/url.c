/* url.c — URL helpers over curl_url (see url.h). */
#include "index/url.h"
#include "common/buf.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

char *url_scheme(const char *url)
{
    if (!url || !isalpha((unsigned char)url[0]))
        return NULL;
    size_t i = 1;
    while (isalnum((unsigned char)url[i]) || url[i] == '+' || url[i] == '-' || url[i] == '.')
        i++;
    if (url[i] != ':')
        return NULL;
    char *s = xstrndup(url, i);
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return s;
}

static bool scheme_allowed(const char *scheme, bool base_is_file)
{
    if (!scheme)
        return false;
    if (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0)
        return true;
    return base_is_file && strcmp(scheme, "file") == 0;
}

char *url_resolve(const char *base, const char *ref, char **fragment)
{
    if (fragment)
        *fragment = NULL;
    if (!base || !ref || strlen(ref) > 8192)
        return NULL;
    /* Leading and trailing whitespace in an href is ignored by browsers
     * and pip alike. */
    while (*ref == ' ' || *ref == '\t' || *ref == '\n' || *ref == '\r' || *ref == '\f')
        ref++;
    size_t rlen = strlen(ref);
    while (rlen && strchr(" \t\n\r\f", ref[rlen - 1]))
        rlen--;
    char *r = xstrndup(ref, rlen);
    for (char *p = r; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) { /* control bytes: no URL */
            free(r);
            return NULL;
        }
    char *result = NULL;
    CURLU *u = curl_url();
    if (!u) {
        free(r);
        return NULL;
    }
    char *bscheme = url_scheme(base);
    bool base_is_file = bscheme && strcmp(bscheme, "file") == 0;
    free(bscheme);
    if (curl_url_set(u, CURLUPART_URL, base, CURLU_ALLOW_SPACE | CURLU_URLENCODE) != CURLUE_OK)
        goto out;
    if (curl_url_set(u, CURLUPART_URL, r, CURLU_ALLOW_SPACE | CURLU_URLENCODE) != CURLUE_OK)
        goto out;
    char *scheme = NULL;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
        goto out;
    bool ok = scheme_allowed(scheme, base_is_file);
    curl_free(scheme);
    if (!ok)
        goto out;
    char *frag = NULL;
    if (curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK) {
        if (fragment)
            *fragment = xstrdup(frag);
        curl_free(frag);
        curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
    }
    char *full = NULL;
    if (curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK) {
        result = xstrdup(full);
        curl_free(full);
    } else if (fragment) {
        free(*fragment);
        *fragment = NULL;
    }
out:
    curl_url_cleanup(u);
    free(r);
    return result;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

char *url_decode(const char *s, size_t len)
{
    pyti_buf b = PYTI_BUF_INIT;
    buf_reserve(&b, len);
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < len && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)s[i + 2])) >= 0) {
            char c = (char)(hi * 16 + lo);
            if (c == '\0')
                break;
            buf_putc(&b, c);
            i += 2;
        } else {
            if (s[i] == '\0')
                break;
            buf_putc(&b, s[i]);
        }
    }
    return buf_detach(&b);
}

char *url_encode(const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    pyti_buf b = PYTI_BUF_INIT;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
            (keep_slash && *p == '/')) {
            buf_putc(&b, (char)*p);
        } else {
            buf_putc(&b, '%');
            buf_putc(&b, hex[*p >> 4]);
            buf_putc(&b, hex[*p & 15]);
        }
    }
    return buf_detach(&b);
}

char *url_filename(const char *url)
{
    CURLU *u = curl_url();
    if (!u)
        return NULL;
    char *res = NULL, *path = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_ALLOW_SPACE | CURLU_URLENCODE) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
        const char *slash = strrchr(path, '/');
        const char *last = slash ? slash + 1 : path;
        res = url_decode(last, strlen(last));
        curl_free(path);
    }
    curl_url_cleanup(u);
    return res;
}

char *url_join(const char *base, const char *path, bool trailing_slash)
{
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    while (*path == '/')
        path++;
    size_t pl = strlen(path);
    while (pl && path[pl - 1] == '/')
        pl--;
    return xasprintf("%.*s/%.*s%s", (int)bl, base, (int)pl, path,
                     trailing_slash && pl ? "/" : "");
}

char *url_password(const char *url)
{
    const char *auth = url ? strstr(url, "://") : NULL;
    if (!auth)
        return NULL;
    auth += 3;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            at = auth + i;
    if (!at)
        return NULL;
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    if (!colon || colon + 1 == at)
        return NULL;
    return xstrndup(colon + 1, (size_t)(at - colon - 1));
}

char *url_redact_in(const char *text, const char *url)
{
    char *pw = url_password(url);
    if (!pw)
        return xstrdup(text ? text : "");
    char *needle = xasprintf(":%s@", pw);
    pyti_buf b = PYTI_BUF_INIT;
    const char *p = text ? text : "";
    for (const char *hit; (hit = strstr(p, needle));) {
        buf_append(&b, p, (size_t)(hit - p));
        buf_puts(&b, ":****@");
        p = hit + strlen(needle);
    }
    buf_puts(&b, p);
    free(needle);
    free(pw);
    return buf_detach(&b);
}
