/* multipart.c — multipart/form-data bodies (see multipart.h). Delimiters
 * are found with memmem over the body; a part's header block is parsed
 * line by line, only Content-Disposition and Content-Type being kept. */
#include "master/multipart.h"
#include "common/str.h"
#include "common/xalloc.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BOUNDARY_MAX 70

static bool bchar(unsigned char c)
{
    /* RFC 2046 bcharsnospace, plus space (not last). */
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           strchr("'()+_,-./:=? ", c) != NULL;
}

/* Reads a parameter value at *p (a quoted-string with backslash escapes,
 * or a token) into a new string of at most max bytes; advances *p. NULL
 * if malformed. */
static char *param_value(const char **p, const char *end, size_t max)
{
    const char *s = *p;
    char *out = xmalloc(max + 1);
    size_t n = 0;
    if (s < end && *s == '"') {
        s++;
        while (s < end && *s != '"') {
            if (*s == '\\' && s + 1 < end)
                s++;
            if (n == max || *s == '\0' || *s == '\r' || *s == '\n') {
                free(out);
                return NULL;
            }
            out[n++] = *s++;
        }
        if (s == end) {
            free(out);
            return NULL;
        }
        s++;
    } else {
        while (s < end && *s != ';' && *s != ' ' && *s != '\t') {
            if (n == max || (unsigned char)*s < 0x21 || *s == '"') {
                free(out);
                return NULL;
            }
            out[n++] = *s++;
        }
        if (n == 0) {
            free(out);
            return NULL;
        }
    }
    out[n] = '\0';
    *p = s;
    return out;
}

pyti_status multipart_boundary(const char *content_type, char *out, size_t size,
                               pyti_error *err)
{
    if (!content_type || strncasecmp(content_type, "multipart/form-data", 19) != 0)
        return pyti_error_set(err, PYTI_ERR_INPUT,
                              "Content-Type: expected multipart/form-data, got '%.80s'",
                              content_type ? content_type : "");
    const char *p = content_type + 19, *end = p + strlen(p);
    while (p < end) {
        while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
            p++;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq)
            break;
        bool is_b = (size_t)(eq - p) == 8 && strncasecmp(p, "boundary", 8) == 0;
        p = eq + 1;
        char *v = param_value(&p, end, BOUNDARY_MAX);
        if (!v)
            return pyti_error_set(err, PYTI_ERR_INPUT,
                                  "Content-Type: malformed parameter in '%.120s'", content_type);
        if (is_b) {
            size_t n = strlen(v);
            bool ok = n >= 1 && n <= BOUNDARY_MAX && v[n - 1] != ' ' && n < size;
            for (size_t i = 0; ok && i < n; i++)
                ok = bchar((unsigned char)v[i]);
            if (ok)
                memcpy(out, v, n + 1);
            free(v);
            if (!ok)
                return pyti_error_set(err, PYTI_ERR_INPUT,
                                      "Content-Type: boundary is not 1-70 characters of RFC "
                                      "2046's set");
            return PYTI_OK;
        }
        free(v);
    }
    return pyti_error_set(err, PYTI_ERR_INPUT, "Content-Type: multipart/form-data without a "
                          "boundary");
}

/* Parses the Content-Disposition value v[0..n) into the part. */
static pyti_status disposition(const char *v, size_t n, mp_part *part, size_t index,
                               pyti_error *err)
{
    const char *p = v, *end = v + n;
    if (n < 9 || strncasecmp(p, "form-data", 9) != 0)
        return pyti_error_set(err, PYTI_ERR_INPUT,
                              "part %zu: Content-Disposition: expected form-data", index);
    p += 9;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p == end)
            break;
        if (*p != ';')
            return pyti_error_set(err, PYTI_ERR_INPUT,
                                  "part %zu: Content-Disposition: expected ';' at column %zu",
                                  index, (size_t)(p - v) + 1);
        p++;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq)
            return pyti_error_set(err, PYTI_ERR_INPUT,
                                  "part %zu: Content-Disposition: parameter without '='", index);
        size_t klen = (size_t)(eq - p);
        const char *key = p;
        p = eq + 1;
        char *val = param_value(&p, end, MULTIPART_MAX_NAME);
        if (!val)
            return pyti_error_set(err, PYTI_ERR_INPUT,
                                  "part %zu: Content-Disposition: malformed or longer than %d "
                                  "bytes value of '%.*s'", index, MULTIPART_MAX_NAME,
                                  (int)(klen > 40 ? 40 : klen), key);
        char **slot = NULL;
        if (klen == 4 && strncasecmp(key, "name", 4) == 0)
            slot = &part->name;
        else if (klen == 8 && strncasecmp(key, "filename", 8) == 0)
            slot = &part->filename;
        if (slot && *slot) {
            free(val);
            return pyti_error_set(err, PYTI_ERR_INPUT,
                                  "part %zu: Content-Disposition: '%.*s' given twice", index,
                                  (int)klen, key);
        }
        if (slot)
            *slot = val;
        else
            free(val);
    }
    if (!part->name)
        return pyti_error_set(err, PYTI_ERR_INPUT, "part %zu: Content-Disposition: no name",
                              index);
    return PYTI_OK;
}

static pyti_status headers(const char *h, size_t n, mp_part *part, size_t index, pyti_error *err)
{
    const char *p = h, *end = h + n;
    bool have_disp = false;
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        const char *line_end = eol ? eol : end;
        const char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (!colon || colon == p)
            return pyti_error_set(err, PYTI_ERR_INPUT, "part %zu: malformed header line '%.*s'",
                                  index, (int)(line_end - p > 60 ? 60 : line_end - p), p);
        const char *v = colon + 1;
        while (v < line_end && (*v == ' ' || *v == '\t'))
            v++;
        size_t vlen = (size_t)(line_end - v);
        while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        size_t klen = (size_t)(colon - p);
        if (klen == 19 && strncasecmp(p, "Content-Disposition", 19) == 0) {
            if (have_disp)
                return pyti_error_set(err, PYTI_ERR_INPUT,
                                      "part %zu: Content-Disposition given twice", index);
            have_disp = true;
            if (disposition(v, vlen, part, index, err) != PYTI_OK)
                return PYTI_ERR_INPUT;
        } else if (klen == 12 && strncasecmp(p, "Content-Type", 12) == 0 && !part->content_type) {
            part->content_type = xstrndup(v, vlen > 255 ? 255 : vlen);
        }
        p = eol ? eol + 2 : end;
    }
    if (!have_disp)
        return pyti_error_set(err, PYTI_ERR_INPUT, "part %zu: no Content-Disposition header",
                              index);
    return PYTI_OK;
}

pyti_status multipart_parse(const char *body, size_t len, const char *boundary, mp_form *form,
                            pyti_error *err)
{
    memset(form, 0, sizeof *form);
    size_t blen = strlen(boundary);
    if (blen == 0 || blen > BOUNDARY_MAX)
        return pyti_error_set(err, PYTI_ERR_INPUT, "multipart: bad boundary");
    char delim[BOUNDARY_MAX + 5];
    int dlen = snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    const char *end = body + len;
    /* The first delimiter may open the body without the CRLF before it. */
    const char *p;
    if (len >= (size_t)dlen - 2 && memcmp(body, delim + 2, (size_t)dlen - 2) == 0)
        p = body + dlen - 2;
    else {
        p = memmem(body, len, delim, (size_t)dlen);
        if (!p)
            return pyti_error_set(err, PYTI_ERR_INPUT,
                                  "multipart: the boundary never appears in the body");
        p += dlen;
    }
    size_t cap = 0;
    for (;;) {
        /* After a delimiter: "--" ends the body, else optional white space
         * and CRLF start a part. */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return PYTI_OK;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return pyti_error_set(err, PYTI_ERR_INPUT,
                                  "part %zu: expected CRLF after the boundary (at byte %zu)",
                                  form->n + 1, (size_t)(p - body));
        p += 2;
        if (form->n == MULTIPART_MAX_PARTS)
            return pyti_error_set(err, PYTI_ERR_LIMIT, "multipart: more than %d parts",
                                  MULTIPART_MAX_PARTS);
        if (form->n == cap) {
            cap = cap ? 2 * cap : 16;
            form->parts = xreallocarray(form->parts, cap, sizeof *form->parts);
        }
        mp_part *part = &form->parts[form->n++];
        memset(part, 0, sizeof *part);
        size_t index = form->n;
        const char *hend;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            hend = p; /* no headers at all */
        } else {
            size_t window = (size_t)(end - p) < MULTIPART_MAX_HEADERS + 4
                                ? (size_t)(end - p)
                                : MULTIPART_MAX_HEADERS + 4;
            const char *crlf2 = memmem(p, window, "\r\n\r\n", 4);
            if (!crlf2)
                return pyti_error_set(err, window > MULTIPART_MAX_HEADERS ? PYTI_ERR_LIMIT
                                                                          : PYTI_ERR_INPUT,
                                      "part %zu: header block %s", index,
                                      window > MULTIPART_MAX_HEADERS
                                          ? "longer than 8192 bytes"
                                          : "does not end (no empty line)");
            hend = crlf2 + 2;
        }
        if (headers(p, (size_t)(hend - p), part, index, err) != PYTI_OK)
            return PYTI_ERR_INPUT;
        const char *data = hend + 2;
        const char *next = memmem(data, (size_t)(end - data), delim, (size_t)dlen);
        if (!next)
            return pyti_error_set(err, PYTI_ERR_INPUT,
                                  "part %zu ('%s'): no closing boundary (truncated body?)", index,
                                  part->name);
        part->data = data;
        part->len = (size_t)(next - data);
        p = next + dlen;
    }
}

void multipart_free(mp_form *form)
{
    for (size_t i = 0; i < form->n; i++) {
        free(form->parts[i].name);
        free(form->parts[i].filename);
        free(form->parts[i].content_type);
    }
    free(form->parts);
    memset(form, 0, sizeof *form);
}

const mp_part *multipart_get(const mp_form *form, const char *name)
{
    for (size_t i = 0; i < form->n; i++)
        if (form->parts[i].name && strcmp(form->parts[i].name, name) == 0)
            return &form->parts[i];
    return NULL;
}

char *multipart_field(const mp_form *form, const char *name, size_t max)
{
    const mp_part *p = multipart_get(form, name);
    if (!p || p->filename || p->len > max || memchr(p->data, '\0', p->len))
        return NULL;
    return xstrndup(p->data, p->len);
}
