/* html.c — escaping, URL encoding and the hf() formatter (see html.h). */
#include "web/html.h"
#include "common/xalloc.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void html_textn(pyti_buf *b, const char *s, size_t len)
{
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0; /* bytes [i-run, i) are copied as they are */
    buf_reserve(b, len + len / 8);
    while (i < len) {
        unsigned c = p[i];
        const char *rep = NULL;
        size_t adv = 1;
        switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        case '\t': case '\n': case '\r': break;
        default:
            if (c < 0x20 || c == 0x7f) {
                rep = REPLACEMENT;
            } else if (c >= 0x80) {
                adv = utf8_len(p + i, len - i);
                if (adv == 0) {
                    rep = REPLACEMENT;
                    adv = 1;
                }
            }
        }
        if (rep) {
            buf_append(b, p + i - run, run);
            run = 0;
            buf_puts(b, rep);
            i += adv;
        } else {
            run += adv;
            i += adv;
        }
    }
    buf_append(b, p + i - run, run);
}

void html_text(pyti_buf *b, const char *s)
{
    if (s)
        html_textn(b, s, strlen(s));
}

void html_url_encode(pyti_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; s && *p; p++) {
        unsigned c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            buf_putc(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(b, e, 3);
        }
    }
}

/* The value of a hex digit, or -1. */
static int hexval(char c)
{
    static const char digits[] = "0123456789abcdef";
    if (c >= 'A' && c <= 'F')
        c = (char)(c - 'A' + 'a');
    const char *p = c ? strchr(digits, c) : NULL;
    return p ? (int)(p - digits) : -1;
}

char *html_url_decode(const char *s, size_t len, int plus_is_space)
{
    char *out = xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len) {
                free(out);
                return NULL;
            }
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0)) {
                free(out);
                return NULL;
            }
            out[n++] = (char)(h * 16 + l);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out[n++] = ' ';
        } else if (c == '\0') {
            free(out);
            return NULL;
        } else {
            out[n++] = c;
        }
    }
    out[n] = '\0';
    return out;
}

char *html_query_get(const char *query, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        if (plen > klen && strncmp(p, key, klen) == 0 && p[klen] == '=')
            return html_url_decode(p + klen + 1, plen - klen - 1, 1);
        if (plen == klen && strncmp(p, key, klen) == 0)
            return xstrdup("");
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

/* %.Nf for N <= 3 and moderate values without printf's exact
 * floating-point machinery: charts write thousands of coordinates, and
 * glibc's printf_fp was the largest cost of a page. Rounds half away from
 * zero (printf rounds half to even on exact binary halves: the two can
 * differ in the last digit of a coordinate, which no one can see). */
/* A decimal integer without printf (a project page writes thousands of
 * chart coordinates, and vsnprintf was a tenth of its cost). */
static void put_int(pyti_buf *b, long long v)
{
    char tmp[24];
    int i = (int)sizeof tmp;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--i] = '-';
    buf_append(b, tmp + i, sizeof tmp - (size_t)i);
}

static void put_fixed(pyti_buf *b, double v, int prec)
{
    static const long long scale[] = {1, 10, 100, 1000};
    if (prec < 0 || prec > 3 || !(v > -1e15 && v < 1e15)) {
        buf_printf(b, "%.*f", prec < 0 ? 6 : prec, v);
        return;
    }
    bool neg = v < 0;
    long long n = (long long)((neg ? -v : v) * (double)scale[prec] + 0.5);
    if (neg && n != 0)
        buf_putc(b, '-');
    put_int(b, n / scale[prec]);
    if (prec > 0) {
        char frac[4];
        long long f = n % scale[prec];
        for (int i = prec - 1; i >= 0; i--, f /= 10)
            frac[i] = (char)('0' + f % 10);
        buf_putc(b, '.');
        buf_append(b, frac, (size_t)prec);
    }
}

void hf(pyti_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *p = fmt;
    while (*p) {
        const char *pct = strchr(p, '%');
        if (!pct) {
            buf_puts(b, p);
            break;
        }
        buf_append(b, p, (size_t)(pct - p));
        p = pct + 1;
        int prec = -1;
        if (*p == '.') {
            prec = 0;
            for (p++; *p >= '0' && *p <= '9'; p++)
                prec = prec * 10 + (*p - '0');
        }
        switch (*p) {
        case 's':
            html_text(b, va_arg(ap, const char *));
            break;
        case 'u':
            html_url_encode(b, va_arg(ap, const char *));
            break;
        case 'r': {
            const char *raw = va_arg(ap, const char *);
            if (raw)
                buf_puts(b, raw);
            break;
        }
        case 'd':
            put_int(b, va_arg(ap, int));
            break;
        case 'L':
            put_int(b, va_arg(ap, long long));
            break;
        case 'f':
            put_fixed(b, va_arg(ap, double), prec);
            break;
        case '%':
            buf_putc(b, '%');
            break;
        default:
            fprintf(stderr, "hf: bad conversion '%%%c' in \"%s\"\n", *p, fmt);
            abort();
        }
        p++;
    }
    va_end(ap);
}
