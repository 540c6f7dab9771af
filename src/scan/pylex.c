/* pylex.c — string literals of Python source (see pylex.h). */
#include "scan/pylex.h"

#include <string.h>

static bool is_ident(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c >= 0x80;
}

/* True if word[0..n) is a string prefix (r, b, u, f, t and their
 * two-letter combinations, any case). */
static bool is_prefix(const char *w, size_t n)
{
    if (n == 0 || n > 2)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = (char)(w[i] | 0x20);
        if (c != 'r' && c != 'b' && c != 'u' && c != 'f' && c != 't')
            return false;
    }
    return true;
}

void pylex_strings(const char *buf, size_t len, pylex_literal_fn fn, void *arg)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '#') {
            const char *nl = memchr(buf + i, '\n', len - i);
            i = nl ? (size_t)(nl - buf) + 1 : len;
            continue;
        }
        if (is_ident(c)) {
            size_t start = i;
            while (i < len && is_ident((unsigned char)buf[i]))
                i++;
            /* A prefix followed by a quote starts a literal with that
             * prefix; any other word is skipped whole (a quote after it
             * opens a plain literal, as Python's tokenizer would). */
            if (!(i < len && (buf[i] == '\'' || buf[i] == '"') && is_prefix(buf + start, i - start)))
                continue;
            c = (unsigned char)buf[i];
        }
        if (c != '\'' && c != '"') {
            i++;
            continue;
        }
        char q = (char)c;
        bool triple = i + 2 < len && buf[i + 1] == q && buf[i + 2] == q;
        size_t body = i + (triple ? 3 : 1);
        size_t j = body, end = len, next = len;
        while (j < len) {
            char d = buf[j];
            if (d == '\\') {
                j += 2;
                continue;
            }
            if (!triple && d == '\n') {
                end = j;
                next = j + 1;
                break;
            }
            if (d == q && (!triple || (j + 2 < len && buf[j + 1] == q && buf[j + 2] == q))) {
                end = j;
                next = j + (triple ? 3 : 1);
                break;
            }
            j++;
        }
        if (end > len)
            end = len;
        if (!fn(buf + body, end - body, body, arg))
            return;
        i = next;
    }
}
