/* metadata.c — core metadata (PKG-INFO / METADATA) parsing, validation and
 * the PEP 566 JSON form (see metadata.h).
 *
 * The parser follows what Python's email.parser does with the compat32
 * policy, because that is the practical standard the spec names and what
 * pip and packaging see:
 *   - a line "Name: value" starts a field; lines starting with a space or a
 *     tab continue it; the first empty line ends the header block;
 *   - a line that is neither (no colon, or a field name outside printable
 *     ASCII) ends the header block too, and it and everything after it
 *     become the message body: fields written after it are invisible to
 *     Python tools, so we report that instead of guessing;
 *   - line ends may be LF, CRLF or a lone CR.
 * Header bytes must be UTF-8 (the spec says metadata is written in UTF-8);
 * a header that is not is rejected with the line. The body is repaired
 * (invalid bytes and NULs become U+FFFD) and flagged, since a broken
 * description should not hide the rest of the metadata. */
#include "pkg/metadata.h"

#include "common/buf.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "pkg/marker.h"
#include "pkg/name.h"
#include "pkg/requirement.h"
#include "pkg/specifier.h"
#include "pkg/version.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- what the spec knows about each field --------------------------- */

/* Metadata versions are handled as major*10+minor (1.2 -> 12, 2.4 -> 24). */
#define MV_LATEST 25

typedef struct field_info {
    const char *name;       /* canonical spelling */
    int since;              /* first metadata version defining it */
    bool multi;             /* multiple use */
    int deprecated_since;   /* 0: not deprecated */
    pyti_severity dep_sev;  /* severity of using it once deprecated */
    const char *dep_note;   /* what to use instead */
} field_info;

static const field_info known_fields[] = {
    {"Metadata-Version", 10, false, 0, 0, NULL},
    {"Name", 10, false, 0, 0, NULL},
    {"Version", 10, false, 0, 0, NULL},
    {"Dynamic", 22, true, 0, 0, NULL},
    {"Platform", 10, true, 0, 0, NULL},
    {"Supported-Platform", 11, true, 0, 0, NULL},
    {"Summary", 10, false, 0, 0, NULL},
    {"Description", 10, false, 0, 0, NULL},
    {"Description-Content-Type", 21, false, 0, 0, NULL},
    {"Keywords", 10, false, 0, 0, NULL},
    /* PEP 753 steers consumers from Home-page / Download-URL to Project-URL
     * but the fields stay valid: not reported as deprecated. */
    {"Home-page", 10, false, 0, 0, NULL},
    {"Download-URL", 11, false, 0, 0, NULL},
    {"Author", 10, false, 0, 0, NULL},
    {"Author-email", 10, false, 0, 0, NULL},
    {"Maintainer", 12, false, 0, 0, NULL},
    {"Maintainer-email", 12, false, 0, 0, NULL},
    {"License", 10, false, 24, PYTI_SEV_INFO, "use License-Expression (PEP 639)"},
    {"License-Expression", 24, false, 0, 0, NULL},
    {"License-File", 24, true, 0, 0, NULL},
    {"Classifier", 11, true, 0, 0, NULL},
    {"Requires-Dist", 12, true, 0, 0, NULL},
    {"Requires-Python", 12, false, 0, 0, NULL},
    {"Requires-External", 12, true, 0, 0, NULL},
    {"Project-URL", 12, true, 0, 0, NULL},
    {"Provides-Extra", 21, true, 0, 0, NULL},
    {"Provides-Dist", 12, true, 0, 0, NULL},
    {"Obsoletes-Dist", 12, true, 0, 0, NULL},
    {"Import-Name", 25, true, 0, 0, NULL},
    {"Import-Namespace", 25, true, 0, 0, NULL},
    /* Metadata 1.1 names, replaced by the *-Dist fields in 1.2. */
    {"Requires", 11, true, 12, PYTI_SEV_LOW, "use Requires-Dist"},
    {"Provides", 11, true, 12, PYTI_SEV_LOW, "use Provides-Dist"},
    {"Obsoletes", 11, true, 12, PYTI_SEV_LOW, "use Obsoletes-Dist"},
};
#define N_KNOWN_FIELDS (sizeof known_fields / sizeof known_fields[0])

static const field_info *field_lookup(const char *name)
{
    for (size_t i = 0; i < N_KNOWN_FIELDS; i++)
        if (str_eq_nocase(name, known_fields[i].name))
            return &known_fields[i];
    return NULL;
}

/* ---- parsing -------------------------------------------------------- */

#define MD_MAX_BYTES (16u << 20)
#define MD_MAX_FIELDS 20000
#define MD_EXCERPT 80

static bool is_ws(char c) { return c == ' ' || c == '\t'; }

/* Field name characters as email's headerRE: printable ASCII but ':'. */
static bool is_name_char(unsigned char c) { return c >= 0x21 && c <= 0x7e && c != ':'; }

static void rstrip_ws(pyti_buf *b)
{
    while (b->len && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\t' ||
                      b->data[b->len - 1] == '\n'))
        b->data[--b->len] = '\0';
}

/* Undoes the folding of multi-line fields (Description, License) as the
 * tools that read them do: when every continuation line carries the
 * spec's "7 spaces + |" marker (some old tools wrote up to 8 spaces), the
 * marker goes; otherwise the common indentation is removed the way
 * importlib.metadata does (textwrap.dedent with the first line counted as
 * indented by 8 spaces), so setuptools' 8-space folding disappears and
 * deeper indentation is kept. Whitespace-only lines become empty. */
static char *unfold_multiline(const char *value)
{
    const char *nl = strchr(value, '\n');
    if (!nl)
        return xstrdup(value);
    bool piped = true;
    for (const char *l = nl + 1; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        size_t k = 0;
        while (k < 8 && is_ws(l[k]))
            k++;
        if (l[k] != '|') {
            piped = false;
            break;
        }
    }
    /* margin: common prefix of "        " and each non-blank line's indent */
    char margin[9] = "        ";
    size_t mlen = 8;
    if (!piped) {
        for (const char *l = nl + 1; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
            size_t k = 0;
            while (is_ws(l[k]))
                k++;
            if (l[k] == '\n' || l[k] == '\0')
                continue; /* blank */
            size_t j = 0;
            while (j < mlen && j < k && l[j] == margin[j])
                j++;
            mlen = j;
        }
    }
    pyti_buf b = PYTI_BUF_INIT;
    buf_append(&b, value, (size_t)(nl - value));
    for (const char *l = nl + 1; l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        buf_putc(&b, '\n');
        size_t k = 0;
        if (piped) {
            while (is_ws(l[k]))
                k++;
            k++; /* the '|' */
        } else {
            size_t w = 0;
            while (w < n && is_ws(l[w]))
                w++;
            k = w == n ? n : mlen;
        }
        buf_append(&b, l + k, n - k);
        l = e ? e + 1 : NULL;
    }
    return buf_detach(&b);
}

typedef struct line_iter {
    const char *p, *end;
    unsigned lineno;
} line_iter;

/* Next line as [*start, *start + *len), without its terminator. False at
 * the end of input. */
static bool next_line(line_iter *it, const char **start, size_t *len)
{
    if (it->p >= it->end)
        return false;
    const char *s = it->p, *q = s;
    while (q < it->end && *q != '\n' && *q != '\r')
        q++;
    *start = s;
    *len = (size_t)(q - s);
    if (q < it->end && *q == '\r')
        q++;
    if (q < it->end && *q == '\n' && (q == s + *len || q[-1] == '\r'))
        q++;
    it->p = q;
    it->lineno++;
    return true;
}

static char *where_line(const char *source, unsigned line)
{
    return xasprintf("%s:%u", source, line);
}

static void finish_field(pyti_metadata *md, pyti_buf *value)
{
    pyti_metadata_field *f = &md->fields[md->nfields - 1];
    rstrip_ws(value);
    char *v = buf_detach(value);
    if (str_eq_nocase(f->name, "Description") || str_eq_nocase(f->name, "License")) {
        pyti_buf u = PYTI_BUF_INIT;
        char *unfolded = unfold_multiline(v);
        buf_puts(&u, unfolded);
        rstrip_ws(&u); /* a trailing "       |" line unfolds to an empty line */
        f->value = buf_detach(&u);
        free(unfolded);
        free(v);
    } else {
        f->value = v;
    }
}

/* Copies the body, normalising line ends to LF and replacing invalid
 * UTF-8 and NUL bytes by U+FFFD; counts what it replaced. */
static char *repair_body(const char *s, size_t len, size_t *bad, size_t *nuls)
{
    pyti_buf b = PYTI_BUF_INIT;
    buf_reserve(&b, len);
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r') {
            buf_putc(&b, '\n');
            i += (i + 1 < len && s[i + 1] == '\n') ? 2 : 1;
            continue;
        }
        if (c == 0) {
            buf_puts(&b, "\xEF\xBF\xBD");
            (*nuls)++;
            i++;
            continue;
        }
        size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
        if (n && i + n <= len && (n == 1 || str_valid_utf8(s + i, n))) {
            buf_append(&b, s + i, n);
            i += n;
        } else {
            buf_puts(&b, "\xEF\xBF\xBD");
            (*bad)++;
            i++;
        }
    }
    return buf_detach(&b);
}

void metadata_free(pyti_metadata *md)
{
    if (!md)
        return;
    for (size_t i = 0; i < md->nfields; i++) {
        free(md->fields[i].name);
        free(md->fields[i].value);
    }
    free(md->fields);
    free(md->body);
    free(md->source);
    findings_free(&md->parse_findings);
    free(md);
}

static void add_field(pyti_metadata *md, size_t *cap, const char *name, size_t nlen,
                      unsigned line)
{
    if (md->nfields == *cap) {
        *cap = *cap ? *cap * 2 : 32;
        md->fields = xreallocarray(md->fields, *cap, sizeof *md->fields);
    }
    md->fields[md->nfields++] = (pyti_metadata_field){xstrndup(name, nlen), NULL, line};
}

/* Drops a half-built result (a field being collected has value NULL). */
static pyti_metadata *parse_fail(pyti_metadata *md, pyti_buf *value)
{
    buf_free(value);
    metadata_free(md);
    return NULL;
}

pyti_metadata *metadata_parse(const char *text, size_t len, const char *source,
                              pyti_error *err)
{
    const char *src = source ? source : "metadata";
    if (!text || len == 0) {
        pyti_error_set(err, PYTI_ERR_INPUT, "%s: empty metadata", src);
        return NULL;
    }
    if (len > MD_MAX_BYTES) {
        pyti_error_set(err, PYTI_ERR_INPUT, "%s: metadata is %zu bytes, more than the %u allowed",
                       src, len, MD_MAX_BYTES);
        return NULL;
    }
    pyti_metadata *md = xcalloc(1, sizeof *md);
    md->source = xstrdup(src);
    size_t cap = 0;
    line_iter it = {text, text + len, 0};
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        it.p += 3;
        findings_add(&md->parse_findings, "metadata.utf8-bom", PYTI_SEV_LOW, src,
                     "%s starts with a UTF-8 byte order mark; Python's email parser reads it "
                     "as part of the first field name", src);
    }
    pyti_buf value = PYTI_BUF_INIT;
    bool open = false; /* a field is being collected into value */
    const char *ls;
    size_t ll;
    const char *body_start = NULL;
    unsigned body_line = 0;
    while (next_line(&it, &ls, &ll)) {
        if (ll == 0) { /* the blank line that ends the headers */
            body_start = it.p;
            body_line = it.lineno + 1;
            break;
        }
        bool cont = is_ws(ls[0]);
        size_t nlen = 0;
        if (!cont) {
            while (nlen < ll && is_name_char((unsigned char)ls[nlen]))
                nlen++;
            if (nlen == ll || ls[nlen] != ':' || nlen == 0) {
                if (nlen == 0 && ll > 0 && ls[0] == ':') {
                    char *ex = str_excerpt(ls, ll, MD_EXCERPT);
                    char *w = where_line(src, it.lineno);
                    findings_add(&md->parse_findings, "metadata.malformed-header-line",
                                 PYTI_SEV_MEDIUM, w, "%s: line %u '%s' has an empty field "
                                 "name; skipped", src, it.lineno, ex);
                    free(w);
                    free(ex);
                    continue;
                }
                /* email.parser: a non-header line ends the headers */
                char *ex = str_excerpt(ls, ll, MD_EXCERPT);
                char *w = where_line(src, it.lineno);
                findings_add(&md->parse_findings, "metadata.malformed-header-line",
                             PYTI_SEV_MEDIUM, w, "%s: line %u '%s' is not a 'Name: value' "
                             "field; it and the rest of the file are read as the description "
                             "body, as Python's email parser does", src, it.lineno, ex);
                free(w);
                free(ex);
                body_start = ls;
                body_line = it.lineno;
                break;
            }
        }
        if (memchr(ls, '\0', ll) || !str_valid_utf8(ls, ll)) {
            pyti_error_set(err, PYTI_ERR_INPUT, "%s:%u: header line is not valid UTF-8 text "
                           "(core metadata must be UTF-8)", src, it.lineno);
            return parse_fail(md, &value);
        }
        if (cont) {
            if (!open) {
                char *ex = str_excerpt(ls, ll, MD_EXCERPT);
                char *w = where_line(src, it.lineno);
                findings_add(&md->parse_findings, "metadata.orphan-continuation-line",
                             PYTI_SEV_MEDIUM, w, "%s: line %u '%s' is indented but follows "
                             "no field; skipped", src, it.lineno, ex);
                free(w);
                free(ex);
                continue;
            }
            buf_putc(&value, '\n');
            buf_append(&value, ls, ll);
            continue;
        }
        if (open)
            finish_field(md, &value);
        if (md->nfields >= MD_MAX_FIELDS) {
            pyti_error_set(err, PYTI_ERR_INPUT, "%s:%u: more than %d header fields", src,
                           it.lineno, MD_MAX_FIELDS);
            return parse_fail(md, &value);
        }
        add_field(md, &cap, ls, nlen, it.lineno);
        open = true;
        size_t v = nlen + 1;
        while (v < ll && is_ws(ls[v]))
            v++;
        buf_append(&value, ls + v, ll - v);
    }
    if (open)
        finish_field(md, &value);
    buf_free(&value);
    if (md->nfields == 0) {
        pyti_error_set(err, PYTI_ERR_INPUT, "%s: no 'Name: value' header fields found", src);
        metadata_free(md);
        return NULL;
    }
    if (body_start && body_start < text + len) {
        size_t bad = 0, nuls = 0;
        md->body = repair_body(body_start, (size_t)(text + len - body_start), &bad, &nuls);
        md->body_line = body_line;
        char *w = where_line(src, body_line);
        if (bad)
            findings_add(&md->parse_findings, "metadata.body-not-utf8", PYTI_SEV_MEDIUM, w,
                         "%s: the description body has %zu byte(s) that are not UTF-8 "
                         "(replaced by U+FFFD)", src, bad);
        if (nuls)
            findings_add(&md->parse_findings, "metadata.body-nul-bytes", PYTI_SEV_MEDIUM, w,
                         "%s: the description body has %zu NUL byte(s) (replaced by U+FFFD)",
                         src, nuls);
        free(w);
        if (md->body[0] == '\0') {
            free(md->body);
            md->body = NULL;
            md->body_line = 0;
        }
    }
    /* Duplicated single-use fields: packaging treats them as unparsable. */
    for (size_t i = 0; i < md->nfields; i++) {
        const field_info *fi = field_lookup(md->fields[i].name);
        if (!fi || fi->multi)
            continue;
        for (size_t j = 0; j < i; j++) {
            if (str_eq_nocase(md->fields[j].name, md->fields[i].name)) {
                bool core = fi->since == 10 && (strcmp(fi->name, "Name") == 0 ||
                                                strcmp(fi->name, "Version") == 0 ||
                                                strcmp(fi->name, "Metadata-Version") == 0);
                char *w = where_line(src, md->fields[i].line);
                char *ex = str_excerpt(md->fields[i].value, strlen(md->fields[i].value),
                                       MD_EXCERPT);
                findings_add(&md->parse_findings, "metadata.duplicate-field",
                             core ? PYTI_SEV_HIGH : PYTI_SEV_MEDIUM, w,
                             "%s:%u: %s '%s' repeats a single-use field first given on line "
                             "%u", src, md->fields[i].line, fi->name, ex, md->fields[j].line);
                free(ex);
                free(w);
                break;
            }
        }
    }
    const char *desc = metadata_get(md, "Description");
    if (desc && md->body) {
        char *w = where_line(src, md->body_line);
        findings_add(&md->parse_findings, "metadata.description-header-and-body",
                     PYTI_SEV_MEDIUM, w, "%s: the description is given both as a Description "
                     "field and as the message body; tools disagree on which wins (pyti uses "
                     "the field)", src);
        free(w);
    }
    return md;
}

/* ---- access --------------------------------------------------------- */

static const pyti_metadata_field *get_field(const pyti_metadata *md, const char *name)
{
    for (size_t i = 0; i < md->nfields; i++)
        if (str_eq_nocase(md->fields[i].name, name))
            return &md->fields[i];
    return NULL;
}

const char *metadata_get(const pyti_metadata *md, const char *name)
{
    const pyti_metadata_field *f = get_field(md, name);
    return f ? f->value : NULL;
}

size_t metadata_get_all(const pyti_metadata *md, const char *name, pyti_strv *out)
{
    size_t n = 0;
    for (size_t i = 0; i < md->nfields; i++) {
        if (str_eq_nocase(md->fields[i].name, name)) {
            strv_push(out, md->fields[i].value);
            n++;
        }
    }
    return n;
}

const char *metadata_description(const pyti_metadata *md)
{
    const char *d = metadata_get(md, "Description");
    return d ? d : md->body;
}

pyti_status metadata_load_classifiers(const char *path, pyti_strv *out, pyti_error *err)
{
    pyti_buf b = PYTI_BUF_INIT;
    pyti_status rc = path_read_file(path, 8u << 20, &b, err);
    if (rc != PYTI_OK) {
        buf_free(&b);
        return rc;
    }
    const char *s = buf_cstr(&b);
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        char *line = xstrndup(s, n);
        str_trim(line);
        if (line[0] && line[0] != '#')
            strv_push_owned(out, line);
        else
            free(line);
        s += n + (e ? 1 : 0);
    }
    buf_free(&b);
    return PYTI_OK;
}

/* ---- validation ----------------------------------------------------- */

typedef struct vctx {
    const pyti_metadata *md;
    pyti_findings *out;
    int mv; /* effective metadata version (major*10+minor), 0 if unknown */
} vctx;

static void vfind(vctx *c, const char *id, pyti_severity sev, unsigned line, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));

static void vfind(vctx *c, const char *id, pyti_severity sev, unsigned line, const char *fmt,
                  ...)
{
    va_list ap;
    va_start(ap, fmt);
    pyti_buf msg = PYTI_BUF_INIT;
    if (line)
        buf_printf(&msg, "%s:%u: ", c->md->source, line);
    else
        buf_printf(&msg, "%s: ", c->md->source);
    buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    char *w = line ? where_line(c->md->source, line) : xstrdup(c->md->source);
    findings_add(c->out, id, sev, w, "%s", buf_cstr(&msg));
    free(w);
    buf_free(&msg);
}

/* Value excerpt for messages (control characters shown as '?'). */
static char *ex(const char *s)
{
    return str_excerpt(s, strlen(s), MD_EXCERPT);
}

static bool unknown_value(const char *v)
{
    return str_blank(v) || strcmp(v, "UNKNOWN") == 0;
}

/* Parses "M.m" into major*10+minor; -1 if it is not two small numbers. */
static int parse_mv(const char *s)
{
    char *copy = xstrdup(s);
    str_trim(copy);
    int major = 0, minor = 0, n = 0;
    int rc = -1;
    if (sscanf(copy, "%2d.%1d%n", &major, &minor, &n) == 2 && copy[n] == '\0' &&
        isdigit((unsigned char)copy[0]) && major >= 0 && minor >= 0)
        rc = major * 10 + minor;
    free(copy);
    return rc;
}

static void check_metadata_version(vctx *c)
{
    const pyti_metadata_field *f = get_field(c->md, "Metadata-Version");
    if (!f) {
        vfind(c, "metadata.missing-metadata-version", PYTI_SEV_HIGH, 0,
              "required field Metadata-Version is missing");
        c->mv = 0;
        return;
    }
    char *e = ex(f->value);
    int mv = parse_mv(f->value);
    static const int known[] = {10, 11, 12, 21, 22, 23, 24, 25};
    bool ok = false;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        ok |= mv == known[i];
    if (mv < 0) {
        vfind(c, "metadata.invalid-metadata-version", PYTI_SEV_HIGH, f->line,
              "Metadata-Version '%s' is not a version number like '2.1'", e);
        c->mv = 0;
    } else if (ok) {
        c->mv = mv;
    } else if (mv == 20) {
        vfind(c, "metadata.unknown-metadata-version", PYTI_SEV_LOW, f->line,
              "Metadata-Version '%s' was never standardised (PEP 426 was withdrawn); tools "
              "read it as 2.1", e);
        c->mv = 21;
    } else if (mv / 10 > 2) {
        vfind(c, "metadata.unknown-metadata-version", PYTI_SEV_HIGH, f->line,
              "Metadata-Version '%s' has a major version newer than 2; tools must refuse it",
              e);
        c->mv = 0;
    } else if (mv > MV_LATEST) {
        vfind(c, "metadata.unknown-metadata-version", PYTI_SEV_LOW, f->line,
              "Metadata-Version '%s' is newer than the versions pyti knows (up to 2.5); "
              "checked as 2.5", e);
        c->mv = MV_LATEST;
    } else {
        vfind(c, "metadata.unknown-metadata-version", PYTI_SEV_MEDIUM, f->line,
              "Metadata-Version '%s' is not one of 1.0, 1.1, 1.2, 2.1, 2.2, 2.3, 2.4, 2.5", e);
        c->mv = 0;
    }
    free(e);
}

static void check_fields_known(vctx *c)
{
    for (size_t i = 0; i < c->md->nfields; i++) {
        const pyti_metadata_field *f = &c->md->fields[i];
        const field_info *fi = field_lookup(f->name);
        if (!fi) {
            /* report each unknown name once */
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++)
                seen = str_eq_nocase(c->md->fields[j].name, f->name);
            if (!seen)
                vfind(c, "metadata.unknown-field", PYTI_SEV_LOW, f->line,
                      "field '%s' is not defined by the core metadata spec", f->name);
            continue;
        }
        if (c->mv && fi->since > c->mv) {
            /* setuptools wrote License-File under 2.1/2.2 for years: low */
            pyti_severity sev = strcmp(fi->name, "License-File") == 0 ? PYTI_SEV_LOW
                                                                      : PYTI_SEV_MEDIUM;
            vfind(c, "metadata.field-too-new", sev, f->line,
                  "field %s was introduced in Metadata-Version %d.%d but the file declares "
                  "%d.%d; tools may ignore it", fi->name, fi->since / 10, fi->since % 10,
                  c->mv / 10, c->mv % 10);
        }
        if (fi->deprecated_since && c->mv >= fi->deprecated_since) {
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++)
                seen = str_eq_nocase(c->md->fields[j].name, f->name);
            if (!seen)
                vfind(c, "metadata.deprecated-field", fi->dep_sev, f->line,
                      "field %s is deprecated; %s", fi->name, fi->dep_note);
        }
    }
}

static void check_name_version(vctx *c, const char *filename)
{
    const pyti_metadata_field *nf = get_field(c->md, "Name");
    const pyti_metadata_field *vf = get_field(c->md, "Version");
    if (!nf)
        vfind(c, "metadata.missing-name", PYTI_SEV_HIGH, 0, "required field Name is missing");
    else if (!name_is_valid(nf->value)) {
        char *e = ex(nf->value);
        vfind(c, "metadata.invalid-name", PYTI_SEV_HIGH, nf->line,
              "Name '%s' is not a valid project name (letters, digits, '.', '_', '-'; starting "
              "and ending with a letter or digit)", e);
        free(e);
    }
    pyti_version *ver = NULL;
    if (!vf) {
        vfind(c, "metadata.missing-version", PYTI_SEV_HIGH, 0,
              "required field Version is missing");
    } else {
        pyti_error verr = {0};
        ver = version_parse(vf->value, &verr);
        char *e = ex(vf->value);
        if (!ver) {
            vfind(c, "metadata.invalid-version", PYTI_SEV_HIGH, vf->line,
                  "Version '%s' is not a valid PEP 440 version", e);
        } else {
            char *norm = version_to_string(ver);
            if (strcmp(norm, vf->value) != 0)
                vfind(c, "metadata.version-not-normalized", PYTI_SEV_LOW, vf->line,
                      "Version '%s' is valid but not in normal form ('%s')", e, norm);
            free(norm);
        }
        free(e);
    }
    if (filename && *filename) {
        const char *base = path_basename(filename);
        pyti_dist_filename fn;
        pyti_error ferr = {0};
        if (dist_filename_parse(base, &fn, &ferr) != PYTI_OK) {
            char *e = ex(base);
            vfind(c, "metadata.filename-unparsable", PYTI_SEV_LOW, 0,
                  "cannot compare Name and Version with the file name '%s': %s", e, ferr.msg);
            free(e);
        } else {
            if (nf && fn.name) {
                char *a = name_normalize(nf->value), *b = name_normalize(fn.name);
                if (strcmp(a, b) != 0) {
                    char *e1 = ex(nf->value), *e2 = ex(base);
                    vfind(c, "metadata.name-mismatch", PYTI_SEV_HIGH, nf->line,
                          "Name '%s' does not match the file name '%s' (normalised '%s' vs "
                          "'%s')", e1, e2, a, b);
                    free(e1);
                    free(e2);
                }
                free(a);
                free(b);
            }
            if (vf && fn.version) {
                pyti_version *fv = version_parse(fn.version, NULL);
                bool differ;
                if (ver && fv)
                    differ = version_compare(ver, fv) != 0;
                else {
                    char *t = xstrdup(vf->value);
                    differ = strcmp(str_trim(t), fn.version) != 0;
                    free(t);
                }
                if (differ) {
                    char *e1 = ex(vf->value), *e2 = ex(base);
                    vfind(c, "metadata.version-mismatch", PYTI_SEV_HIGH, vf->line,
                          "Version '%s' does not match the version in the file name '%s'", e1,
                          e2);
                    free(e1);
                    free(e2);
                }
                version_free(fv);
            }
        }
        dist_filename_free(&fn);
    }
    version_free(ver);
}

/* Values of `extra == "x"` comparisons in a marker text (both orders). */
static void marker_extras(const char *m, pyti_strv *out)
{
    for (const char *p = m; (p = strstr(p, "extra")) != NULL; p += 5) {
        if (p > m && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '.' ||
                      p[-1] == '"' || p[-1] == '\''))
            continue;
        const char *q = p + 5;
        while (is_ws(*q))
            q++;
        if (q[0] != '=' || q[1] != '=')
            continue;
        q += 2;
        if (*q == '=')
            continue;
        while (is_ws(*q))
            q++;
        if (*q != '"' && *q != '\'')
            continue;
        const char *e = strchr(q + 1, *q);
        if (!e)
            continue;
        char *v = xstrndup(q + 1, (size_t)(e - q - 1));
        strv_push_owned(out, name_normalize(v));
        free(v);
    }
}

static void check_dependencies(vctx *c)
{
    pyti_strv extras = PYTI_STRV_INIT; /* normalised Provides-Extra */
    bool have_extras = false;
    for (size_t i = 0; i < c->md->nfields; i++) {
        const pyti_metadata_field *f = &c->md->fields[i];
        if (!str_eq_nocase(f->name, "Provides-Extra"))
            continue;
        have_extras = true;
        char *e = ex(f->value);
        char *norm = name_normalize(f->value);
        if (!name_is_valid(f->value))
            vfind(c, "metadata.invalid-provides-extra", PYTI_SEV_MEDIUM, f->line,
                  "Provides-Extra '%s' is not a valid extra name", e);
        else if (c->mv >= 23 && strcmp(norm, f->value) != 0)
            vfind(c, "metadata.extra-not-normalized", PYTI_SEV_LOW, f->line,
                  "Provides-Extra '%s' must be written normalised ('%s') since Metadata-Version"
                  " 2.3", e, norm);
        if (strv_contains(&extras, norm))
            vfind(c, "metadata.duplicate-extra", PYTI_SEV_LOW, f->line,
                  "Provides-Extra '%s' is declared more than once", e);
        else
            strv_push(&extras, norm);
        free(norm);
        free(e);
    }
    for (size_t i = 0; i < c->md->nfields; i++) {
        const pyti_metadata_field *f = &c->md->fields[i];
        bool rd = str_eq_nocase(f->name, "Requires-Dist");
        bool od = str_eq_nocase(f->name, "Obsoletes-Dist");
        if (!rd && !od)
            continue;
        pyti_error rerr = {0};
        pyti_requirement *r = requirement_parse(f->value, &rerr);
        char *e = ex(f->value);
        if (!r) {
            if (rd)
                vfind(c, "metadata.invalid-requires-dist", PYTI_SEV_HIGH, f->line,
                      "Requires-Dist '%s' is not a valid PEP 508 requirement: %s", e, rerr.msg);
            else
                vfind(c, "metadata.invalid-obsoletes-dist", PYTI_SEV_MEDIUM, f->line,
                      "Obsoletes-Dist '%s' is not a valid requirement: %s", e, rerr.msg);
        } else if (rd && have_extras) {
            const char *semi = strchr(f->value, ';');
            if (r->marker && semi) {
                pyti_strv used = PYTI_STRV_INIT;
                marker_extras(semi + 1, &used);
                for (size_t k = 0; k < used.len; k++)
                    if (!strv_contains(&extras, used.items[k]))
                        vfind(c, "metadata.undeclared-extra", PYTI_SEV_LOW, f->line,
                              "Requires-Dist '%s' depends on extra '%s', which no "
                              "Provides-Extra declares", e, used.items[k]);
                strv_free(&used);
            }
        }
        requirement_free(r);
        free(e);
    }
    const pyti_metadata_field *rp = get_field(c->md, "Requires-Python");
    if (rp) {
        pyti_error serr = {0};
        pyti_specset *s = specset_parse(rp->value, &serr);
        if (!s) {
            char *e = ex(rp->value);
            vfind(c, "metadata.invalid-requires-python", PYTI_SEV_HIGH, rp->line,
                  "Requires-Python '%s' is not a valid version specifier set: %s", e,
                  serr.msg);
            free(e);
        }
        specset_free(s);
    }
    strv_free(&extras);
}

/* "name", "name (version-ish)", each optionally followed by "; marker".
 * For Provides-Dist the parenthesised part (or a bare second word) must be
 * a PEP 440 version; for Requires-External it is free-form. */
static bool name_paren_marker_ok(const char *value, bool need_version)
{
    char *v = xstrdup(value);
    char *semi = strchr(v, ';');
    bool ok = true;
    if (semi) {
        *semi = '\0';
        pyti_marker *m = marker_parse(semi + 1, NULL);
        ok = m != NULL;
        marker_free(m);
    }
    str_trim(v);
    size_t n = 0;
    while (v[n] && !is_ws(v[n]) && v[n] != '(')
        n++;
    char saved = v[n];
    v[n] = '\0';
    if (!name_is_valid(v))
        ok = false;
    v[n] = saved;
    char *rest = v + n;
    while (is_ws(*rest))
        rest++;
    if (*rest) {
        char *inner = rest;
        if (*rest == '(') {
            size_t l = strlen(rest);
            if (rest[l - 1] != ')' || strchr(rest + 1, '(')) {
                ok = false;
                inner = NULL;
            } else {
                rest[l - 1] = '\0';
                inner = rest + 1;
            }
        } else if (!need_version) {
            ok = false; /* Requires-External: version only in parentheses */
            inner = NULL;
        }
        if (inner && need_version) {
            pyti_version *ver = version_parse(inner, NULL);
            ok = ok && ver != NULL;
            version_free(ver);
        } else if (inner && str_blank(inner)) {
            ok = false;
        }
    }
    free(v);
    return ok;
}

static void check_other_relations(vctx *c)
{
    for (size_t i = 0; i < c->md->nfields; i++) {
        const pyti_metadata_field *f = &c->md->fields[i];
        bool re = str_eq_nocase(f->name, "Requires-External");
        bool pd = str_eq_nocase(f->name, "Provides-Dist");
        if (!re && !pd)
            continue;
        if (name_paren_marker_ok(f->value, pd))
            continue;
        char *e = ex(f->value);
        if (re)
            vfind(c, "metadata.invalid-requires-external", PYTI_SEV_LOW, f->line,
                  "Requires-External '%s' is not 'name', 'name (version)' or with '; marker'",
                  e);
        else
            vfind(c, "metadata.invalid-provides-dist", PYTI_SEV_MEDIUM, f->line,
                  "Provides-Dist '%s' is not 'name' or 'name (version)' with an optional "
                  "'; marker'", e);
        free(e);
    }
}

/* Classifier syntax: "Top :: Sub [:: ...]", every segment non-empty and
 * without surrounding spaces, no stray "::". */
static bool classifier_syntax_ok(const char *s)
{
    if (!*s || is_ws(s[0]) || is_ws(s[strlen(s) - 1]))
        return false;
    int segs = 0;
    const char *p = s;
    for (;;) {
        const char *sep = strstr(p, " :: ");
        size_t n = sep ? (size_t)(sep - p) : strlen(p);
        if (n == 0 || is_ws(p[0]) || is_ws(p[n - 1]))
            return false;
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)p[i];
            if (ch < 0x20 || ch == 0x7f || (ch == ':' && i + 1 < n && p[i + 1] == ':'))
                return false;
        }
        segs++;
        if (!sep)
            break;
        p = sep + 4;
    }
    return segs >= 2;
}

/* 1 known, 2 deprecated (*repl may be set), 0 unknown. */
static int classifier_lookup(const pyti_strv *known, const char *c, const char **repl)
{
    size_t n = strlen(c);
    *repl = NULL;
    for (size_t i = 0; i < known->len; i++) {
        const char *k = known->items[i];
        if (k[0] != '!') {
            if (strcmp(k, c) == 0)
                return 1;
        } else if (strncmp(k + 1, c, n) == 0 && (k[1 + n] == '\0' || str_startswith(k + 1 + n,
                                                                                    " => "))) {
            if (k[1 + n])
                *repl = k + 1 + n + 4;
            return 2;
        }
    }
    return 0;
}

static void check_classifiers(vctx *c, const pyti_strv *known, bool *has_license_cls,
                              unsigned *license_cls_line)
{
    pyti_strv seen = PYTI_STRV_INIT;
    for (size_t i = 0; i < c->md->nfields; i++) {
        const pyti_metadata_field *f = &c->md->fields[i];
        if (!str_eq_nocase(f->name, "Classifier"))
            continue;
        char *v = xstrdup(f->value);
        char *semi = strchr(v, ';');
        char *e = ex(f->value);
        if (semi) {
            pyti_marker *m = marker_parse(semi + 1, NULL);
            if (!m)
                vfind(c, "metadata.invalid-classifier", PYTI_SEV_MEDIUM, f->line,
                      "Classifier '%s' has an invalid environment marker", e);
            marker_free(m);
            *semi = '\0';
            size_t l = strlen(v);
            while (l && is_ws(v[l - 1]))
                v[--l] = '\0';
        }
        if (str_startswith(v, "License ::")) {
            if (!*has_license_cls)
                *license_cls_line = f->line;
            *has_license_cls = true;
        }
        if (strv_contains(&seen, v)) {
            vfind(c, "metadata.duplicate-classifier", PYTI_SEV_LOW, f->line,
                  "Classifier '%s' is listed more than once", e);
        } else {
            strv_push(&seen, v);
            if (!classifier_syntax_ok(v)) {
                vfind(c, "metadata.invalid-classifier", PYTI_SEV_MEDIUM, f->line,
                      "Classifier '%s' is not of the form 'Topic :: Subtopic' (segments "
                      "separated by ' :: ', none empty, no surrounding spaces)", e);
            } else if (str_startswith(v, "Private ::")) {
                vfind(c, "metadata.private-classifier", PYTI_SEV_INFO, f->line,
                      "Classifier '%s' is a 'Private ::' classifier: PyPI refuses uploads "
                      "carrying it (meant for private packages)", e);
            } else if (known && known->len) {
                const char *repl = NULL;
                int k = classifier_lookup(known, v, &repl);
                /* low, not medium: PyPI already refuses unknown classifiers at
                 * upload, so on PyPI packages this mostly means our list
                 * (Debian's python3-trove-classifiers) is older than the
                 * package */
                if (k == 0)
                    vfind(c, "metadata.unknown-classifier", PYTI_SEV_LOW, f->line,
                          "Classifier '%s' is not in pyti's list of trove classifiers", e);
                else if (k == 2)
                    vfind(c, "metadata.deprecated-classifier", PYTI_SEV_LOW, f->line,
                          "Classifier '%s' is deprecated%s%s", e,
                          repl ? "; use " : "", repl ? repl : "");
            }
        }
        free(e);
        free(v);
    }
    strv_free(&seen);
}

static void check_descriptive(vctx *c)
{
    const pyti_metadata_field *s = get_field(c->md, "Summary");
    if (!s || unknown_value(s->value)) {
        vfind(c, "metadata.missing-summary", PYTI_SEV_LOW, s ? s->line : 0,
              "no Summary (a one-line description of the project)");
    } else {
        char *e = ex(s->value);
        if (strchr(s->value, '\n'))
            vfind(c, "metadata.summary-multiline", PYTI_SEV_MEDIUM, s->line,
                  "Summary '%s' spans several lines; it must be one line (PyPI rejects it)", e);
        if (strlen(s->value) > 512)
            vfind(c, "metadata.summary-too-long", PYTI_SEV_LOW, s->line,
                  "Summary is %zu bytes long; PyPI allows 512", strlen(s->value));
        free(e);
    }
    const char *d = metadata_description(c->md);
    if (unknown_value(d))
        vfind(c, "metadata.missing-description", PYTI_SEV_LOW, 0,
              "no description (neither a Description field nor a message body)");
    bool url = false;
    static const char *const url_fields[] = {"Home-page", "Download-URL", "Project-URL", NULL};
    for (size_t i = 0; url_fields[i]; i++) {
        const char *v = metadata_get(c->md, url_fields[i]);
        url |= v && !unknown_value(v);
    }
    if (!url)
        vfind(c, "metadata.missing-project-url", PYTI_SEV_LOW, 0,
              "no Home-page, Download-URL or Project-URL: users cannot find the project");
    bool who = false;
    static const char *const who_fields[] = {"Author", "Author-email", "Maintainer",
                                             "Maintainer-email", NULL};
    for (size_t i = 0; who_fields[i]; i++) {
        const char *v = metadata_get(c->md, who_fields[i]);
        who |= v && !unknown_value(v);
    }
    if (!who)
        vfind(c, "metadata.missing-author", PYTI_SEV_LOW, 0,
              "no Author, Author-email, Maintainer or Maintainer-email");
    for (size_t i = 0; i < c->md->nfields; i++) {
        const pyti_metadata_field *f = &c->md->fields[i];
        if (!str_eq_nocase(f->name, "Project-URL"))
            continue;
        const char *comma = strchr(f->value, ',');
        char *e = ex(f->value);
        if (!comma || comma == f->value || str_blank(comma + 1))
            vfind(c, "metadata.invalid-project-url", PYTI_SEV_LOW, f->line,
                  "Project-URL '%s' is not 'label, URL'", e);
        else if ((size_t)(comma - f->value) > 32)
            vfind(c, "metadata.invalid-project-url", PYTI_SEV_LOW, f->line,
                  "Project-URL '%s' has a label longer than 32 characters", e);
        free(e);
    }
}

static void check_content_type(vctx *c)
{
    const pyti_metadata_field *f = get_field(c->md, "Description-Content-Type");
    if (!f)
        return;
    pyti_strv parts = PYTI_STRV_INIT;
    strv_split(&parts, f->value, ";");
    char *e = ex(f->value);
    static const char *const types[] = {"text/plain", "text/x-rst", "text/markdown", NULL};
    bool type_ok = false, md_type = false;
    if (parts.len) {
        for (size_t i = 0; types[i]; i++)
            type_ok |= str_eq_nocase(parts.items[0], types[i]);
        md_type = str_eq_nocase(parts.items[0], "text/markdown");
    }
    if (!type_ok)
        vfind(c, "metadata.invalid-description-content-type", PYTI_SEV_MEDIUM, f->line,
              "Description-Content-Type '%s' is not text/plain, text/x-rst or text/markdown", e);
    for (size_t i = 1; i < parts.len; i++) {
        char *eq = strchr(parts.items[i], '=');
        if (!eq) {
            vfind(c, "metadata.invalid-description-content-type", PYTI_SEV_MEDIUM, f->line,
                  "Description-Content-Type '%s': parameter '%s' is not name=value", e,
                  parts.items[i]);
            continue;
        }
        *eq = '\0';
        char *k = str_trim(parts.items[i]), *v = str_trim(eq + 1);
        size_t vl = strlen(v);
        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
            v[vl - 1] = '\0';
            v++;
        }
        if (str_eq_nocase(k, "charset")) {
            if (!str_eq_nocase(v, "UTF-8"))
                vfind(c, "metadata.invalid-description-content-type", PYTI_SEV_MEDIUM, f->line,
                      "Description-Content-Type '%s': charset must be UTF-8", e);
        } else if (str_eq_nocase(k, "variant") && md_type) {
            if (!str_eq_nocase(v, "GFM") && !str_eq_nocase(v, "CommonMark"))
                vfind(c, "metadata.unknown-markdown-variant", PYTI_SEV_LOW, f->line,
                      "Description-Content-Type '%s': Markdown variant '%s' is neither GFM nor "
                      "CommonMark (GFM is assumed)", e, v);
        }
    }
    free(e);
    strv_free(&parts);
}

static void check_dynamic(vctx *c)
{
    for (size_t i = 0; i < c->md->nfields; i++) {
        const pyti_metadata_field *f = &c->md->fields[i];
        if (!str_eq_nocase(f->name, "Dynamic"))
            continue;
        char *e = ex(f->value);
        const field_info *fi = field_lookup(f->value);
        if (str_eq_nocase(f->value, "Name") || str_eq_nocase(f->value, "Version") ||
            str_eq_nocase(f->value, "Metadata-Version"))
            vfind(c, "metadata.dynamic-forbidden", PYTI_SEV_HIGH, f->line,
                  "Dynamic '%s': Name, Version and Metadata-Version may never be dynamic", e);
        else if (!fi)
            vfind(c, "metadata.dynamic-unknown-field", PYTI_SEV_MEDIUM, f->line,
                  "Dynamic '%s' does not name a core metadata field", e);
        free(e);
    }
}

/* SPDX license expression shape (PEP 639): ids and LicenseRef-s joined
 * with AND / OR, "id WITH exception", parentheses, "id+" (ids themselves
 * are not checked against the SPDX list). */
typedef struct spdx {
    const char *s;
    size_t i;
    int depth;
} spdx;

static void spdx_ws(spdx *p)
{
    while (is_ws(p->s[p->i]))
        p->i++;
}

static size_t spdx_idlen(const char *s)
{
    size_t n = 0;
    while (isalnum((unsigned char)s[n]) || s[n] == '.' || s[n] == '-' || s[n] == ':')
        n++;
    return n;
}

static bool spdx_is_op(const char *s, size_t n)
{
    return (n == 3 && (strncasecmp(s, "AND", 3) == 0 || strncasecmp(s, "WITH", 3) == 0)) ||
           (n == 2 && strncasecmp(s, "OR", 2) == 0) || (n == 4 && strncasecmp(s, "WITH", 4) == 0);
}

static bool spdx_or(spdx *p);

static bool spdx_atom(spdx *p)
{
    spdx_ws(p);
    if (p->s[p->i] == '(') {
        if (++p->depth > 64)
            return false;
        p->i++;
        if (!spdx_or(p))
            return false;
        spdx_ws(p);
        if (p->s[p->i] != ')')
            return false;
        p->i++;
        p->depth--;
        return true;
    }
    size_t n = spdx_idlen(p->s + p->i);
    if (!n || spdx_is_op(p->s + p->i, n))
        return false;
    const char *id = p->s + p->i;
    if (memchr(id, ':', n) && !(strncmp(id, "DocumentRef-", 12) == 0 &&
                                strstr(id, ":LicenseRef-") && strstr(id, ":LicenseRef-") < id + n))
        return false;
    p->i += n;
    if (p->s[p->i] == '+')
        p->i++;
    spdx_ws(p);
    n = spdx_idlen(p->s + p->i);
    if (n == 4 && strncasecmp(p->s + p->i, "WITH", 4) == 0) {
        p->i += 4;
        spdx_ws(p);
        n = spdx_idlen(p->s + p->i);
        if (!n || spdx_is_op(p->s + p->i, n))
            return false;
        p->i += n;
    }
    return true;
}

static bool spdx_keyword(spdx *p, const char *kw)
{
    size_t save = p->i;
    spdx_ws(p);
    size_t n = spdx_idlen(p->s + p->i);
    if (n == strlen(kw) && strncasecmp(p->s + p->i, kw, n) == 0) {
        p->i += n;
        return true;
    }
    p->i = save;
    return false;
}

static bool spdx_and(spdx *p)
{
    if (!spdx_atom(p))
        return false;
    while (spdx_keyword(p, "AND"))
        if (!spdx_atom(p))
            return false;
    return true;
}

static bool spdx_or(spdx *p)
{
    if (!spdx_and(p))
        return false;
    while (spdx_keyword(p, "OR"))
        if (!spdx_and(p))
            return false;
    return true;
}

bool metadata_license_expression_ok(const char *expr)
{
    spdx p = {expr, 0, 0};
    if (!spdx_or(&p))
        return false;
    spdx_ws(&p);
    return p.s[p.i] == '\0';
}

static void check_license(vctx *c, bool has_license_cls, unsigned license_cls_line)
{
    const pyti_metadata_field *lic = get_field(c->md, "License");
    const pyti_metadata_field *le = get_field(c->md, "License-Expression");
    if (le) {
        if (!metadata_license_expression_ok(le->value)) {
            char *e = ex(le->value);
            vfind(c, "metadata.invalid-license-expression", PYTI_SEV_MEDIUM, le->line,
                  "License-Expression '%s' is not a valid SPDX license expression", e);
            free(e);
        }
        if (lic && !unknown_value(lic->value))
            vfind(c, "metadata.license-and-expression", PYTI_SEV_LOW, lic->line,
                  "both License and License-Expression are given; License is deprecated");
        if (has_license_cls)
            vfind(c, "metadata.license-classifier-with-expression", PYTI_SEV_MEDIUM,
                  license_cls_line, "'License ::' classifiers must not be used together with "
                  "License-Expression (PEP 639)");
    }
    if ((!lic || unknown_value(lic->value)) && !le && !has_license_cls)
        vfind(c, "metadata.missing-license", PYTI_SEV_MEDIUM, 0,
              "no License-Expression, License or 'License ::' classifier: the terms of use "
              "are unknown");
    for (size_t i = 0; i < c->md->nfields; i++) {
        const pyti_metadata_field *f = &c->md->fields[i];
        if (!str_eq_nocase(f->name, "License-File"))
            continue;
        const char *v = f->value;
        const char *why = NULL;
        if (!*v)
            why = "is empty";
        else if (v[0] == '/' || (isalpha((unsigned char)v[0]) && v[1] == ':'))
            why = "is an absolute path";
        else if (strchr(v, '\\'))
            why = "uses '\\' (paths use '/')";
        else if (strpbrk(v, "*?[]"))
            why = "contains glob characters (entries are paths, not patterns)";
        else if (str_endswith(v, "/"))
            why = "names a directory";
        else {
            for (const char *p = v; *p;) {
                const char *s = strchr(p, '/');
                size_t n = s ? (size_t)(s - p) : strlen(p);
                if (n == 2 && p[0] == '.' && p[1] == '.')
                    why = "contains '..'";
                p += n + (s ? 1 : 0);
            }
        }
        if (why) {
            char *e = ex(v);
            vfind(c, "metadata.invalid-license-file", PYTI_SEV_MEDIUM, f->line,
                  "License-File '%s' %s", e, why);
            free(e);
        }
    }
}

void metadata_validate(const pyti_metadata *md, const char *filename,
                       const pyti_strv *known_classifiers, pyti_findings *out)
{
    vctx c = {md, out, 0};
    check_metadata_version(&c);
    check_name_version(&c, filename);
    check_fields_known(&c);
    check_dependencies(&c);
    check_other_relations(&c);
    bool has_license_cls = false;
    unsigned license_cls_line = 0;
    check_classifiers(&c, known_classifiers, &has_license_cls, &license_cls_line);
    check_descriptive(&c);
    check_content_type(&c);
    check_dynamic(&c);
    check_license(&c, has_license_cls, license_cls_line);
}

/* ---- JSON ----------------------------------------------------------- */

/* "Home-page" -> "home_page" (field names are printable ASCII). */
static char *json_key(const char *name)
{
    char *k = xstrdup(name);
    for (char *p = k; *p; p++)
        *p = *p == '-' ? '_' : (char)tolower((unsigned char)*p);
    return k;
}

json_t *metadata_to_json(const pyti_metadata *md)
{
    json_t *o = json_object();
    for (size_t i = 0; i < md->nfields; i++) {
        const pyti_metadata_field *f = &md->fields[i];
        const field_info *fi = field_lookup(f->name);
        char *key = json_key(fi ? fi->name : f->name);
        json_t *cur = json_object_get(o, key);
        if (fi && strcmp(fi->name, "Keywords") == 0) {
            if (!cur) {
                pyti_strv kw = PYTI_STRV_INIT;
                strv_split(&kw, f->value, strchr(f->value, ',') ? "," : " \t\n");
                json_t *arr = json_array();
                for (size_t k = 0; k < kw.len; k++)
                    json_array_append_new(arr, json_text(kw.items[k]));
                json_object_set_new(o, key, arr);
                strv_free(&kw);
            }
        } else if (fi && strcmp(fi->name, "Description") == 0) {
            /* added below from metadata_description() */
        } else if ((fi && fi->multi) || (!fi && cur)) {
            if (!cur) {
                cur = json_array();
                json_object_set_new(o, key, cur);
            } else if (!json_is_array(cur)) { /* an unknown field seen twice */
                json_t *arr = json_array();
                json_array_append(arr, cur);
                json_object_set_new(o, key, arr);
                cur = arr;
            }
            json_array_append_new(cur, json_text(f->value));
        } else if (!cur) {
            json_object_set_new(o, key, json_text(f->value));
        }
        free(key);
    }
    const char *d = metadata_description(md);
    if (d)
        json_object_set_new(o, "description", json_text(d));
    return o;
}
