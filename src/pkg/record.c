/* record.c — the CSV of wheel RECORD files: a reader that is CPython's
 * csv module (excel dialect, strict=False) step for step, since that is
 * what pip and installers read RECORD with, and a writer that quotes as
 * csv.writer does (see record.h). */
#include "pkg/record.h"
#include "common/buf.h"
#include "common/xalloc.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum csv_state { START_RECORD, START_FIELD, IN_FIELD, IN_QUOTED, QUOTE_IN_QUOTED, EAT_CRNL };

typedef struct csv_parser {
    enum csv_state st;
    pyti_buf field;
    pyti_record_row row;
    pyti_record_rows *rows;
    size_t max_rows;
} csv_parser;

static void csv_save_field(csv_parser *p)
{
    if (p->row.nf < 3)
        p->row.f[p->row.nf] = buf_detach(&p->field);
    else
        buf_reset(&p->field);
    if (p->row.nf < UINT_MAX)
        p->row.nf++;
}

static void csv_emit(csv_parser *p)
{
    pyti_record_rows *r = p->rows;
    if (p->row.nf == 0) { /* blank line: csv yields [], skipped */
        memset(&p->row, 0, sizeof p->row);
        return;
    }
    if (r->len >= p->max_rows) {
        r->truncated = true;
        for (int i = 0; i < 3; i++)
            free(p->row.f[i]);
    } else {
        if (r->len == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 64;
            r->items = xreallocarray(r->items, r->cap, sizeof *r->items);
        }
        r->items[r->len++] = p->row;
    }
    memset(&p->row, 0, sizeof p->row);
}

#define CSV_EOL (-1)

/* One step of CPython's _csv reader state machine (excel dialect,
 * strict=False). c is a byte or CSV_EOL after each physical line. */
static void csv_char(csv_parser *p, int c, unsigned line)
{
    bool nl = c == '\n' || c == '\r' || c == CSV_EOL;
    switch (p->st) {
    case START_RECORD:
        if (c == CSV_EOL)
            return;
        p->row.line = line;
        if (c == '\n' || c == '\r') {
            p->st = EAT_CRNL;
            return;
        }
        p->st = START_FIELD;
        /* fall through */
    case START_FIELD:
        if (nl) {
            csv_save_field(p);
            p->st = c == CSV_EOL ? START_RECORD : EAT_CRNL;
        } else if (c == '"') {
            p->st = IN_QUOTED;
        } else if (c == ',') {
            csv_save_field(p);
        } else {
            buf_putc(&p->field, (char)c);
            p->st = IN_FIELD;
        }
        break;
    case IN_FIELD:
        if (nl) {
            csv_save_field(p);
            p->st = c == CSV_EOL ? START_RECORD : EAT_CRNL;
        } else if (c == ',') {
            csv_save_field(p);
            p->st = START_FIELD;
        } else {
            buf_putc(&p->field, (char)c);
        }
        break;
    case IN_QUOTED:
        if (c == CSV_EOL)
            ;
        else if (c == '"')
            p->st = QUOTE_IN_QUOTED;
        else
            buf_putc(&p->field, (char)c);
        break;
    case QUOTE_IN_QUOTED:
        if (c == '"') {
            buf_putc(&p->field, '"');
            p->st = IN_QUOTED;
        } else if (c == ',') {
            csv_save_field(p);
            p->st = START_FIELD;
        } else if (nl) {
            csv_save_field(p);
            p->st = c == CSV_EOL ? START_RECORD : EAT_CRNL;
        } else {
            buf_putc(&p->field, (char)c);
            p->st = IN_FIELD;
        }
        break;
    case EAT_CRNL:
        if (c == CSV_EOL)
            p->st = START_RECORD;
        break;
    }
    if (c == 0 && p->st != START_RECORD) {
        p->row.bad = true;
        p->row.why = "contains a NUL byte";
    }
}

void record_parse(const char *s, size_t len, size_t max_rows, pyti_record_rows *rows)
{
    csv_parser p = {START_RECORD, PYTI_BUF_INIT, {{NULL, NULL, NULL}, 0, 0, false, NULL}, rows,
                    max_rows ? max_rows : SIZE_MAX};
    unsigned line = 1;
    for (size_t i = 0; i < len && !rows->truncated; i++) {
        unsigned char c = (unsigned char)s[i];
        csv_char(&p, c, line);
        if (c == '\n' || (c == '\r' && !(i + 1 < len && s[i + 1] == '\n'))) {
            csv_char(&p, CSV_EOL, line);
            line++;
            if (p.st == START_RECORD)
                csv_emit(&p);
        }
    }
    if (!rows->truncated && p.st != START_RECORD) {
        if (p.st == IN_QUOTED) {
            p.row.bad = true;
            p.row.why = "has an unterminated quoted field";
        }
        if (p.st != EAT_CRNL)
            csv_save_field(&p);
        csv_emit(&p);
    }
    for (int i = 0; i < 3; i++)
        free(p.row.f[i]);
    buf_free(&p.field);
}

void record_rows_free(pyti_record_rows *rows)
{
    for (size_t i = 0; i < rows->len; i++)
        for (int k = 0; k < 3; k++)
            free(rows->items[i].f[k]);
    free(rows->items);
    memset(rows, 0, sizeof *rows);
}

void record_append_field(pyti_buf *out, const char *field)
{
    /* csv.writer's QUOTE_MINIMAL: quote when the field holds the
     * delimiter, a quote or a line break; double the quotes inside. */
    if (!strpbrk(field, ",\"\r\n")) {
        buf_puts(out, field);
        return;
    }
    buf_putc(out, '"');
    for (const char *c = field; *c; c++) {
        if (*c == '"')
            buf_putc(out, '"');
        buf_putc(out, *c);
    }
    buf_putc(out, '"');
}

void record_append_row(pyti_buf *out, const char *path, const char *hash, const char *size)
{
    record_append_field(out, path);
    buf_putc(out, ',');
    record_append_field(out, hash ? hash : "");
    buf_putc(out, ',');
    record_append_field(out, size ? size : "");
    buf_putc(out, '\n');
}
