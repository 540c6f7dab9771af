/* jsonwrite.c — the streaming JSON writer (see jsonwrite.h). The layout
 * rules are jansson's (dump.c): an item starts on a new line indented by
 * its depth, items are separated by ",", a key is followed by ": ", an
 * empty container is "[]" or "{}", and a non-empty one closes on a line
 * of its own at its parent's depth. */
#include "common/jsonwrite.h"
#include "common/jsonutil.h"
#include "common/str.h"
#include "common/xalloc.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(json_writer *w, pyti_buf *out, int indent)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->indent = indent < 1 ? 1 : indent > 31 ? 31 : indent;
}

/* buf_append and buf_putc, inlined: a job list is some 10,000 appends of
 * a few bytes, and the call and its checks were a good part of the
 * writer's time. The buffer stays NUL-terminated as buf.h promises. */
static inline void put(pyti_buf *b, const void *s, size_t n)
{
    if (b->cap - b->len <= n) /* room for n bytes and the NUL? (cap 0: no) */
        buf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static inline void put1(pyti_buf *b, char c)
{
    if (b->cap - b->len <= 1)
        buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

/* ",\n" and the indentation of a line, cut to size: one append per item
 * (these appends are most of the writer's work). */
static const char line_start[] = ",\n"
                                 "                                                                ";

/* A new line indented to depth, after a comma if comma. */
static void newline(json_writer *w, int depth, bool comma)
{
    size_t n = (size_t)depth * (size_t)w->indent;
    size_t room = sizeof line_start - 3;
    size_t k = n < room ? n : room;
    put(w->out, line_start + (comma ? 0 : 1), (comma ? 2 : 1) + k);
    for (n -= k; n > 0; n -= k) { /* deeper than the string reaches */
        k = n < room ? n : room;
        put(w->out, line_start + 2, k);
    }
}

/* What comes before a value or a key: nothing after a key, else the
 * separator from the previous item and the new line. */
static void item(json_writer *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth == 0)
        return;
    unsigned long long bit = 1ull << (w->depth - 1);
    bool comma = w->nonempty & bit;
    w->nonempty |= bit;
    newline(w, w->depth, comma);
}

static void container_open(json_writer *w, char c)
{
    if (w->depth >= JW_MAX_DEPTH)
        abort(); /* the caller's bug: nothing of pyti's nests that deep (jw_json stops) */
    item(w);
    put1(w->out, c);
    w->depth++;
    w->nonempty &= ~(1ull << (w->depth - 1));
}

static void container_close(json_writer *w, char c)
{
    if (w->depth == 0)
        return;
    bool any = w->nonempty & (1ull << (w->depth - 1));
    w->depth--;
    if (any)
        newline(w, w->depth, false);
    put1(w->out, c);
}

void jw_object_open(json_writer *w)
{
    container_open(w, '{');
}

void jw_object_close(json_writer *w)
{
    container_close(w, '}');
}

void jw_array_open(json_writer *w)
{
    container_open(w, '[');
}

void jw_array_close(json_writer *w)
{
    container_close(w, ']');
}

/* s[0..len), valid UTF-8, quoted and escaped as jansson does: \" \\ and
 * the short escapes, other control characters as \uXXXX, the rest as is. */
static void quoted(pyti_buf *out, const char *s, size_t len)
{
    buf_reserve(out, len + 2);
    put1(out, '"');
    size_t run = 0; /* start of the bytes not yet copied */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(out, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': buf_puts(out, "\\\""); break;
        case '\\': buf_puts(out, "\\\\"); break;
        case '\b': buf_puts(out, "\\b"); break;
        case '\f': buf_puts(out, "\\f"); break;
        case '\n': buf_puts(out, "\\n"); break;
        case '\r': buf_puts(out, "\\r"); break;
        case '\t': buf_puts(out, "\\t"); break;
        default: {
            static const char hex[] = "0123456789ABCDEF";
            char seq[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(out, seq, sizeof seq);
        }
        }
    }
    put(out, s + run, len - run);
    put1(out, '"');
}

/* True if s[0..len) is printable ASCII without '"' or '\\' (nothing to
 * escape). Eight bytes at a time: the scan was the writer's largest cost.
 * Each test below is exact about whether some byte matches (a borrow can
 * only mark a byte above one that truly matches). */
static inline bool plain_word(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t bad = x                          /* >= 0x80 */
                   | ((x - ones * 0x20) & ~x) /* < 0x20 */
                   | ((q - ones) & ~q)        /* '"' */
                   | ((b - ones) & ~b);       /* '\\' */
    return !(bad & highs);
}

static bool plain(const char *s, size_t len)
{
    uint64_t x;
    if (len < 8) { /* the bytes, padded with a plain one */
        x = 0x0101010101010101ull * 'a';
        memcpy(&x, s, len);
        return plain_word(x);
    }
    for (size_t i = 0; i + 8 < len; i += 8) {
        memcpy(&x, s + i, 8);
        if (!plain_word(x))
            return false;
    }
    memcpy(&x, s + len - 8, 8); /* the last 8 bytes, overlapping the loop's */
    return plain_word(x);
}

/* A string of len bytes, repaired first if it is not valid UTF-8 (rare:
 * json_text does the repair, so both paths agree). */
static void string_n(pyti_buf *out, const char *s, size_t len)
{
    if (plain(s, len)) { /* printable ASCII, nothing to escape: the common case */
        if (out->cap - out->len <= len + 2)
            buf_reserve(out, len + 2);
        char *d = out->data + out->len;
        d[0] = '"';
        memcpy(d + 1, s, len);
        d[len + 1] = '"';
        d[len + 2] = '\0';
        out->len += len + 2;
        return;
    }
    if (str_valid_utf8(s, len)) {
        quoted(out, s, len);
        return;
    }
    json_t *t = json_textn(s, len);
    quoted(out, json_string_value(t), json_string_length(t));
    json_decref(t);
}

void jw_key(json_writer *w, const char *key)
{
    item(w);
    string_n(w->out, key, strlen(key));
    put(w->out, ": ", 2);
    w->after_key = true;
}

void jw_key_plain(json_writer *w, const char *key, size_t len)
{
    item(w);
    pyti_buf *out = w->out;
    if (out->cap - out->len <= len + 4)
        buf_reserve(out, len + 4);
    char *d = out->data + out->len;
    d[0] = '"';
    memcpy(d + 1, key, len);
    memcpy(d + 1 + len, "\": ", 4); /* with the NUL */
    out->len += len + 4;
    w->after_key = true;
}

void jw_string(json_writer *w, const char *s)
{
    if (!s) {
        jw_null(w);
        return;
    }
    item(w);
    string_n(w->out, s, strlen(s));
}

void jw_int(json_writer *w, long long v)
{
    item(w);
    char tmp[24];
    char *p = tmp + sizeof tmp;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    put(w->out, p, (size_t)(tmp + sizeof tmp - p));
}

void jw_int_text(json_writer *w, const char *s)
{
    const char *p = s + (*s == '-');
    size_t n = 0;
    while (p[n] >= '0' && p[n] <= '9')
        n++;
    /* strtoll's value spelled as jw_int spells it: copy it. 18 digits
     * cannot overflow; "-0" and leading zeros are not jw_int's. */
    if (p[n] == '\0' && n >= 1 && n <= 18 && (p[0] != '0' || (n == 1 && p == s))) {
        item(w);
        put(w->out, s, (size_t)(p - s) + n);
        return;
    }
    jw_int(w, strtoll(s, NULL, 10));
}

/* snprintf(b, .., "%.17g", v) for 1e-4 <= |v| < 1e15, where it takes
 * the fixed style, computed exactly with 128-bit integers: v = m / 2^q,
 * and its 17 significant digits are m * 10^k / 2^q rounded to nearest,
 * ties to even (as glibc rounds). The API's job lists write a duration
 * per job and printf's arbitrary precision cost more than the rest of the
 * value. -1 outside the range (the caller uses snprintf). */
static int g17_fixed(double v, char *b)
{
    double a = fabs(v);
    if (!(a >= 1e-4 && a < 1e15))
        return -1;
    int e2;
    uint64_t m = (uint64_t)ldexp(frexp(a, &e2), 53); /* exact: a = m * 2^(e2 - 53) */
    int q = 53 - e2;                                  /* 3..67 in this range */
    static const uint64_t pow5[] = {
        1ull, 5ull, 25ull, 125ull, 625ull, 3125ull, 15625ull, 78125ull, 390625ull,
        1953125ull, 9765625ull, 48828125ull, 244140625ull, 1220703125ull, 6103515625ull,
        30517578125ull, 152587890625ull, 762939453125ull, 3814697265625ull,
        19073486328125ull, 95367431640625ull, 476837158203125ull, 2384185791015625ull,
        11920928955078125ull};
    const uint64_t lo = 10000000000000000ull, hi = 100000000000000000ull; /* 1e16, 1e17 */
    int x = (int)floor(log10(a)); /* the decimal exponent; corrected below if off */
    __extension__ typedef unsigned __int128 u128;
    uint64_t n;
    u128 rem, half;
    for (;;) {
        int k = 16 - x; /* n = a * 10^k = m * 5^k * 2^(k - q), 1e16 <= n < 1e17 */
        if (k < 0 || k >= (int)(sizeof pow5 / sizeof *pow5))
            return -1;
        u128 p = (u128)m * pow5[k];
        int s = q - k;
        if (s <= 0 || s >= 120) /* not in this range of v: leave it to snprintf */
            return -1;
        n = (uint64_t)(p >> s);
        rem = p & (((u128)1 << s) - 1);
        half = (u128)1 << (s - 1);
        if (n < lo)
            x--;
        else if (n >= hi)
            x++;
        else
            break;
    }
    if (rem > half || (rem == half && (n & 1)))
        n++;
    if (n == hi) { /* 99999999999999999.5 and up: one more digit before the point */
        n = lo;
        x++;
    }
    if (x < -4 || x >= 17) /* the exponent style */
        return -1;
    char d[17];
    for (int i = 16; i >= 0; i--, n /= 10)
        d[i] = (char)('0' + n % 10);
    char *p = b;
    if (v < 0)
        *p++ = '-';
    if (x >= 0) {
        memcpy(p, d, (size_t)x + 1);
        p += x + 1;
        *p++ = '.';
        memcpy(p, d + x + 1, (size_t)(16 - x));
        p += 16 - x;
    } else {
        *p++ = '0';
        *p++ = '.';
        for (int i = 0; i < -x - 1; i++)
            *p++ = '0';
        memcpy(p, d, 17);
        p += 17;
    }
    while (p[-1] == '0') /* %g drops the fraction's trailing zeros, */
        p--;
    if (p[-1] == '.') /* and the point when nothing is left after it */
        p--;
    *p = '\0';
    return (int)(p - b);
}

void jw_real(json_writer *w, double v)
{
    if (!isfinite(v)) {
        jw_null(w);
        return;
    }
    item(w);
    char b[40];
    int n = g17_fixed(v, b);
    if (n < 0)
        n = snprintf(b, sizeof b - 3, "%.17g", v);
    if (n < 0 || (size_t)n >= sizeof b - 3)
        n = 0;
    b[n] = '\0';
    if (!strchr(b, '.') && !strchr(b, 'e')) {
        memcpy(b + n, ".0", 3);
        n += 2;
    }
    char *e = strchr(b, 'e');
    if (e) { /* "1e+05" -> "1e5", "1e-05" -> "1e-5", as jansson */
        char *start = e + 1, *end = start + 1;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, (size_t)(b + n - end) + 1);
            n -= (int)(end - start);
        }
    }
    put(w->out, b, (size_t)n);
}

void jw_raw_value(json_writer *w, const char *text, size_t len)
{
    item(w);
    put(w->out, text, len);
}

void jw_null(json_writer *w)
{
    item(w);
    put(w->out, "null", 4);
}

void jw_bool(json_writer *w, bool v)
{
    item(w);
    buf_puts(w->out, v ? "true" : "false");
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void jw_json(json_writer *w, const json_t *v)
{
    if (!v || (w->depth >= JW_MAX_DEPTH && (json_is_object(v) || json_is_array(v)))) {
        jw_null(w);
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = xcalloc(n ? n : 1, sizeof *keys);
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
            keys[i++] = k;
        qsort(keys, i, sizeof *keys, cmp_key);
        jw_object_open(w);
        for (size_t j = 0; j < i; j++) {
            jw_key(w, keys[j]);
            jw_json(w, json_object_get(v, keys[j]));
        }
        jw_object_close(w);
        free(keys);
        break;
    }
    case JSON_ARRAY:
        jw_array_open(w);
        for (size_t i = 0; i < json_array_size(v); i++)
            jw_json(w, json_array_get(v, i));
        jw_array_close(w);
        break;
    case JSON_STRING:
        item(w);
        quoted(w->out, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        jw_int(w, (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        jw_real(w, json_real_value(v));
        break;
    case JSON_TRUE:
        jw_bool(w, true);
        break;
    case JSON_FALSE:
        jw_bool(w, false);
        break;
    case JSON_NULL:
        jw_null(w);
        break;
    }
}
