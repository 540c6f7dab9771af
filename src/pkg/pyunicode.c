/* pyunicode.c — Python 3.11 str/re Unicode rules on UTF-8 (see
 * pyunicode_internal.h). */
#include "pkg/pyunicode_internal.h"

#include "pkg/pyunicode_tables.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int32_t pyu_decode(const char *str, size_t n, size_t *i)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t p = *i;
    unsigned c = s[p];
    if (c < 0x80) {
        *i = p + 1;
        return (int32_t)c;
    }
    unsigned need;
    uint32_t cp, min;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1; cp = c & 0x1f; min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2; cp = c & 0x0f; min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3; cp = c & 0x07; min = 0x10000;
    } else {
        *i = p + 1;
        return -1;
    }
    if (n - p - 1 < need) {
        *i = p + 1;
        return -1;
    }
    for (unsigned k = 1; k <= need; k++) {
        unsigned cc = s[p + k];
        if ((cc & 0xc0) != 0x80) {
            *i = p + 1;
            return -1;
        }
        cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) {
        *i = p + 1;
        return -1;
    }
    *i = p + 1 + need;
    return (int32_t)cp;
}

/* Start offset of the code point that ends at i (i > 0); a byte that is
 * not part of a valid sequence counts alone. */
static size_t prev_start(const char *s, size_t i)
{
    if (((unsigned char)s[i - 1] & 0xc0) != 0x80)
        return i - 1;
    for (size_t back = 2; back <= 4 && back <= i; back++) {
        size_t j = i - back;
        if (((unsigned char)s[j] & 0xc0) == 0x80)
            continue;
        size_t k = j;
        if (pyu_decode(s, i, &k) >= 0 && k == i)
            return j;
        break;
    }
    return i - 1;
}

int32_t pyu_prev(const char *s, size_t i)
{
    if (i == 0)
        return -1;
    size_t j = prev_start(s, i);
    return pyu_decode(s, i, &j);
}

static bool in_ranges(const pyu_range *r, size_t n, int32_t cp)
{
    if (cp < 0)
        return false;
    unsigned c = (unsigned)cp;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c < r[mid].lo)
            hi = mid;
        else if (c > r[mid].hi)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

bool pyu_isspace(int32_t cp)
{
    return in_ranges(pyu_space, NELEM(pyu_space), cp);
}

bool pyu_isword(int32_t cp)
{
    if (cp < 0)
        return false;
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
               (cp >= '0' && cp <= '9') || cp == '_';
    return in_ranges(pyu_word, NELEM(pyu_word), cp);
}

bool pyu_isdigit(int32_t cp)
{
    if (cp >= 0 && cp < 0x80)
        return cp >= '0' && cp <= '9';
    return in_ranges(pyu_digit, NELEM(pyu_digit), cp);
}

bool pyu_nfkc_delim(int32_t cp)
{
    return in_ranges(pyu_nfkc_delim_ranges, NELEM(pyu_nfkc_delim_ranges), cp);
}

size_t pyu_skip_space(const char *s, size_t n, size_t i)
{
    while (i < n) {
        size_t j = i;
        if (!pyu_isspace(pyu_decode(s, n, &j)))
            break;
        i = j;
    }
    return i;
}

size_t pyu_rstrip_end(const char *s, size_t start, size_t end)
{
    while (end > start && pyu_isspace(pyu_prev(s, end)))
        end = prev_start(s, end);
    return end < start ? start : end;
}

static int32_t simple_lower(int32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    unsigned c = (unsigned)cp;
    size_t lo = 0, hi = NELEM(pyu_lower_runs);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const pyu_lower_run *r = &pyu_lower_runs[mid];
        if (c < r->first)
            hi = mid;
        else if (c > r->last)
            lo = mid + 1;
        else
            return ((c - r->first) % r->stride == 0) ? (int32_t)(c + (unsigned)r->delta) : cp;
    }
    return cp;
}

static void put_utf8(pyti_buf *out, int32_t cp)
{
    char b[4];
    unsigned c = (unsigned)cp;
    if (c < 0x80) {
        buf_putc(out, (char)c);
        return;
    }
    size_t n;
    if (c < 0x800) {
        b[0] = (char)(0xc0 | (c >> 6));
        b[1] = (char)(0x80 | (c & 0x3f));
        n = 2;
    } else if (c < 0x10000) {
        b[0] = (char)(0xe0 | (c >> 12));
        b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        b[2] = (char)(0x80 | (c & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | (c >> 18));
        b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
        b[3] = (char)(0x80 | (c & 0x3f));
        n = 4;
    }
    buf_append(out, b, n);
}

static bool is_cased(int32_t cp)
{
    return in_ranges(pyu_cased, NELEM(pyu_cased), cp);
}

static bool is_case_ignorable(int32_t cp)
{
    return in_ranges(pyu_case_ignorable, NELEM(pyu_case_ignorable), cp);
}

/* CPython's handle_capital_sigma: U+03A3 at [at, after) lowercases to final
 * sigma when preceded by a cased letter and not followed by one (skipping
 * case-ignorable letters both ways). */
static bool final_sigma(const char *s, size_t n, size_t at, size_t after)
{
    size_t i = at;
    int32_t c = -1;
    while (i > 0) {
        c = pyu_prev(s, i);
        i = prev_start(s, i);
        if (!is_case_ignorable(c))
            break;
    }
    if (c < 0 || is_case_ignorable(c) || !is_cased(c))
        return false;
    size_t j = after;
    while (j < n) {
        c = pyu_decode(s, n, &j);
        if (!is_case_ignorable(c))
            return !is_cased(c);
    }
    return true;
}

void pyu_lower(pyti_buf *out, const char *s, size_t n)
{
    /* No buf_reserve here: on an empty buffer it allocates without
     * terminating, and "" must come out as "". */
    buf_append(out, "", 0);
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        int32_t cp = pyu_decode(s, n, &i);
        if (cp < 0) {
            buf_putc(out, s[start]);
        } else if (cp < 0x80) {
            buf_putc(out, (char)((cp >= 'A' && cp <= 'Z') ? cp + 32 : cp));
        } else if (cp == 0x130) {
            buf_append(out, "i\xcc\x87", 3); /* U+0130 -> "i" U+0307 */
        } else if (cp == 0x3a3) {
            put_utf8(out, final_sigma(s, n, start, i) ? 0x3c2 : 0x3c3);
        } else {
            put_utf8(out, simple_lower(cp));
        }
    }
}

size_t pyu_column(const char *s, size_t off)
{
    size_t col = 1;
    for (size_t i = 0; i < off; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            col++;
    return col;
}

bool pyu_word_boundary(const char *s, size_t n, size_t i)
{
    bool before = i > 0 && pyu_isword(pyu_prev(s, i));
    bool after = false;
    if (i < n) {
        size_t j = i;
        after = pyu_isword(pyu_decode(s, n, &j));
    }
    return before != after;
}
