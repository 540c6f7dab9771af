/* scanner.c — walking a tree and applying scan rules to each file (see
 * scanner.h and docs/scan-rules.md).
 *
 * The walk follows tasks_facts.c: directories are opened with openat and
 * O_NOFOLLOW | O_DIRECTORY, entries are classified with fstatat and
 * AT_SYMLINK_NOFOLLOW, files are opened with O_NOFOLLOW | O_NONBLOCK and
 * checked again with fstat on the open descriptor, so a symlink or a fifo
 * is never followed or read, whatever races the tree might hold. Entries
 * are visited in name order so that reports are reproducible. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "scan/scanner.h"
#include "common/fnv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "scan/entropy.h"
#include "scan/ipv4.h"
#include "scan/pylex.h"

#define BINARY_SNIFF 8192  /* a NUL byte in this many first bytes: binary */
#define EXCERPT_MAX 160    /* bytes of matched text kept in a finding */
#define EXCERPT_LEAD 40    /* bytes shown before a hit on a long line */

struct pyti_scanner {
    const pyti_scan_rules *rules;
    pyti_scan_limits lim;
    pyti_scan_stats stats;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jstack;
    pcre2_match_data *md;
    uint64_t *hits; /* files hit, per rule */
    pyti_buf content;
    /* Trigger words of all rules: an open-addressing table of lowercase
     * words to bit numbers, and per rule and trigger key the bits that
     * satisfy it. */
    char **words;        /* table slots (NULL: empty) */
    unsigned *word_bit;  /* bit number of each slot */
    size_t table_size;   /* power of two */
    size_t nbits;
    size_t word_min, word_max;
    /* bit n of first_len[c] is set if a trigger word starts with byte c
     * (lowercase) and has length n: most tokens are dismissed on this
     * test without hashing */
    uint64_t first_len[256];
    size_t **rule_bits;  /* [rule][trigger] -> bit list, terminated by SIZE_MAX */
    uint64_t *present;   /* bits of the words in the current file */
};

/* What is known about the file being scanned, computed once, on demand. */
typedef struct file_ctx {
    const char *rel;
    const char *data;
    size_t len;
    bool tokenized;
    bool lexed;
    struct span { size_t off, len; } *spans; /* string literals */
    size_t nspans, capspans;
} file_ctx;

/* ---- trigger words --------------------------------------------------------- */

static uint64_t hash_word(const char *w, size_t n)
{
    return fnv1a(FNV1A_INIT, w, n);
}

/* The slot of word w[0..n) (lowercase) or of the empty slot it would go in. */
static size_t slot_of(const pyti_scanner *s, const char *w, size_t n)
{
    size_t mask = s->table_size - 1, i = (size_t)hash_word(w, n) & mask;
    while (s->words[i] && !(strlen(s->words[i]) == n && memcmp(s->words[i], w, n) == 0))
        i = (i + 1) & mask;
    return i;
}

static void build_triggers(pyti_scanner *s)
{
    size_t nrules = scan_rules_count(s->rules), total = 0;
    for (size_t i = 0; i < nrules; i++) {
        const pyti_scan_rule *r = scan_rules_get(s->rules, i);
        for (size_t t = 0; t < r->ntriggers; t++)
            total += r->triggers[t].words.len;
    }
    s->table_size = 16;
    while (s->table_size < total * 2 + 1)
        s->table_size *= 2;
    s->words = xcalloc(s->table_size, sizeof *s->words);
    s->word_bit = xcalloc(s->table_size, sizeof *s->word_bit);
    s->rule_bits = xcalloc(nrules * SCAN_RULE_PATTERNS_MAX + 1, sizeof *s->rule_bits);
    s->word_min = SIZE_MAX;
    for (size_t i = 0; i < nrules; i++) {
        const pyti_scan_rule *r = scan_rules_get(s->rules, i);
        for (size_t t = 0; t < r->ntriggers; t++) {
            const pyti_strv *w = &r->triggers[t].words;
            size_t *bits = xcalloc(w->len + 1, sizeof *bits);
            for (size_t j = 0; j < w->len; j++) {
                size_t n = strlen(w->items[j]);
                size_t slot = slot_of(s, w->items[j], n);
                if (!s->words[slot]) {
                    s->words[slot] = xstrdup(w->items[j]);
                    s->word_bit[slot] = (unsigned)s->nbits++;
                }
                bits[j] = s->word_bit[slot];
                s->first_len[(unsigned char)w->items[j][0]] |= 1ull << n;
                if (n < s->word_min)
                    s->word_min = n;
                if (n > s->word_max)
                    s->word_max = n;
            }
            bits[w->len] = SIZE_MAX;
            s->rule_bits[i * SCAN_RULE_PATTERNS_MAX + t] = bits;
        }
    }
    s->present = xcalloc(s->nbits / 64 + 1, sizeof *s->present);
}

/* 1 for [A-Za-z0-9_] */
static const unsigned char word_char[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['_'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
};

static inline bool is_word_char(unsigned char c) { return word_char[c]; }

/* Marks which trigger words occur in the file as whole tokens (runs of
 * [A-Za-z0-9_]), ignoring case. */
static void tokenize(pyti_scanner *s, file_ctx *fc)
{
    memset(s->present, 0, (s->nbits / 64 + 1) * sizeof *s->present);
    fc->tokenized = true;
    if (!s->nbits)
        return;
    const unsigned char *p = (const unsigned char *)fc->data;
    size_t i = 0, len = fc->len;
    char low[SCAN_TRIGGER_WORD_MAX];
    while (i < len) {
        if (!is_word_char(p[i])) {
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && is_word_char(p[i]))
            i++;
        size_t n = i - start;
        if (n < s->word_min || n > s->word_max)
            continue;
        unsigned char c0 = p[start] >= 'A' && p[start] <= 'Z' ? p[start] + 32 : p[start];
        if (!((s->first_len[c0] >> n) & 1))
            continue;
        for (size_t k = 0; k < n; k++)
            low[k] = (char)(p[start + k] >= 'A' && p[start + k] <= 'Z' ? p[start + k] + 32
                                                                      : p[start + k]);
        size_t slot = slot_of(s, low, n);
        if (s->words[slot]) {
            unsigned b = s->word_bit[slot];
            s->present[b / 64] |= 1ull << (b % 64);
        }
    }
}

/* True unless one of the rule's trigger keys has none of its words in the
 * file. */
static bool triggers_met(pyti_scanner *s, size_t ri, const pyti_scan_rule *r, file_ctx *fc)
{
    if (!r->ntriggers)
        return true;
    if (!fc->tokenized)
        tokenize(s, fc);
    for (size_t t = 0; t < r->ntriggers; t++) {
        const size_t *bits = s->rule_bits[ri * SCAN_RULE_PATTERNS_MAX + t];
        bool any = false;
        for (size_t j = 0; bits[j] != SIZE_MAX && !any; j++)
            any = (s->present[bits[j] / 64] >> (bits[j] % 64)) & 1;
        if (!any)
            return false;
    }
    return true;
}

void scan_limits_default(pyti_scan_limits *l)
{
    l->max_file_size = 10u << 20;
    l->max_files = 1000000;
    l->max_depth = 64;
    l->match_limit = 20000000;
    l->max_hits = 10000;
    l->max_findings = 1000;
}

pyti_scanner *scanner_new(const pyti_scan_rules *rs, const pyti_scan_limits *limits)
{
    pyti_scanner *s = xcalloc(1, sizeof *s);
    s->rules = rs;
    if (limits)
        s->lim = *limits;
    else
        scan_limits_default(&s->lim);
    s->mctx = pcre2_match_context_create(NULL);
    if (!s->mctx)
        abort(); /* out of memory, as xalloc */
    pcre2_set_match_limit(s->mctx, s->lim.match_limit);
    pcre2_set_depth_limit(s->mctx, 10000);
    pcre2_set_heap_limit(s->mctx, 64 * 1024); /* KiB, for the interpreter */
    s->jstack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
    if (s->jstack)
        pcre2_jit_stack_assign(s->mctx, NULL, s->jstack);
    s->md = pcre2_match_data_create(1, NULL);
    if (!s->md)
        abort();
    s->hits = xcalloc(scan_rules_count(rs) + 1, sizeof *s->hits);
    build_triggers(s);
    return s;
}

void scanner_free(pyti_scanner *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->table_size; i++)
        free(s->words[i]);
    free(s->words);
    free(s->word_bit);
    for (size_t i = 0; s->rule_bits && i < scan_rules_count(s->rules); i++) {
        const pyti_scan_rule *r = scan_rules_get(s->rules, i);
        for (size_t t = 0; t < r->ntriggers; t++)
            free(s->rule_bits[i * SCAN_RULE_PATTERNS_MAX + t]);
    }
    free(s->rule_bits);
    free(s->present);
    pcre2_match_data_free(s->md);
    pcre2_jit_stack_free(s->jstack);
    pcre2_match_context_free(s->mctx);
    free(s->hits);
    buf_free(&s->content);
    free(s);
}

const pyti_scan_stats *scanner_stats(const pyti_scanner *s) { return &s->stats; }

/* ---- helpers ------------------------------------------------------------- */

/* A path for `where`: its last WHERE_PATH_MAX bytes, so that a deep tree
 * cannot make a finding the report store refuses. */
#define WHERE_PATH_MAX 1024
static const char *shown(const char *rel)
{
    size_t n = strlen(rel);
    return n > WHERE_PATH_MAX ? rel + n - WHERE_PATH_MAX : rel;
}

static unsigned line_of(const char *data, size_t off)
{
    unsigned line = 1;
    const char *p = data, *end = data + off;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        line++;
        p++;
    }
    return line;
}

static void line_bounds(const char *data, size_t len, size_t off, size_t *b, size_t *e)
{
    size_t i = off < len ? off : len;
    while (i > 0 && data[i - 1] != '\n')
        i--;
    *b = i;
    const char *nl = memchr(data + off, '\n', len - (off < len ? off : len));
    *e = nl ? (size_t)(nl - data) : len;
}

/* The text shown for a hit: whitespace runs (newlines included) become one
 * space, control characters '?', at most EXCERPT_MAX bytes. */
static char *make_excerpt(const char *s, size_t n)
{
    pyti_buf b = PYTI_BUF_INIT;
    bool space = false;
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    for (; i < n && b.len < EXCERPT_MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
            space = true;
            continue;
        }
        if (space && b.len)
            buf_putc(&b, ' ');
        space = false;
        buf_putc(&b, c < 0x20 || c == 0x7f ? '?' : (char)c);
    }
    if (i < n)
        buf_puts(&b, "...");
    return buf_detach(&b);
}

typedef enum { M_NONE, M_HIT, M_LIMIT } match_result;

static match_result search(pyti_scanner *s, const pyti_scan_pattern *p, const char *data,
                           size_t len, size_t start, size_t *ms, size_t *me)
{
    int rc = pcre2_match(scan_pattern_ready(s->rules, p), (PCRE2_SPTR)data, len, start, 0, s->md,
                         s->mctx);
    if (rc >= 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
        *ms = ov[0];
        *me = ov[1] >= ov[0] ? ov[1] : ov[0];
        return M_HIT;
    }
    if (rc == PCRE2_ERROR_NOMATCH)
        return M_NONE;
    /* Match, depth, heap or JIT stack limit (or a bad offset, which would be
     * a bug here): the search could not decide. */
    return M_LIMIT;
}

static void report_limit(pyti_scanner *s, const pyti_scan_rule *r, const char *rel,
                         pyti_findings *out)
{
    s->stats.match_limit++;
    findings_add(out, "scan.match-limit", PYTI_SEV_MEDIUM, shown(rel),
                 "rule '%s' could not finish on this file: the pattern hit PCRE2's match limit, "
                 "so the file was not fully checked", r->id);
}

/* -1: a requirement hit the limit; 0: not all present; 1: all present. */
static int requirements_met(pyti_scanner *s, const pyti_scan_rule *r, const char *data, size_t len)
{
    for (size_t i = 0; i < r->nrequire; i++) {
        size_t a, b;
        match_result m = search(s, &r->require[i], data, len, 0, &a, &b);
        if (m == M_LIMIT)
            return -1;
        if (m == M_NONE)
            return 0;
    }
    return 1;
}

static bool line_is_excused(pyti_scanner *s, const pyti_scan_rule *r, const char *data, size_t len,
                            size_t off)
{
    if (!r->unless.code)
        return false;
    size_t b, e, x, y;
    line_bounds(data, len, off, &b, &e);
    return search(s, &r->unless, data + b, e - b, 0, &x, &y) == M_HIT;
}

/* One hit, the first by offset, is kept for where and excerpt. */
typedef struct hit_set {
    unsigned count;
    size_t off, len;
    char *detail; /* check-specific text for the message, or NULL */
} hit_set;

static void hit_add(hit_set *h, size_t off, size_t len)
{
    if (h->count == 0 || off < h->off) {
        h->off = off;
        h->len = len;
    }
    h->count++;
}

static void emit(pyti_scanner *s, size_t ri, const pyti_scan_rule *r, const char *rel,
                 const char *data, size_t len, hit_set *h, pyti_findings *out)
{
    if (!h->count)
        return;
    s->hits[ri]++;
    /* A package made to drown the report (thousands of files hit) is
     * judged on the first findings; the rest are counted. */
    if (s->stats.findings >= s->lim.max_findings) {
        s->stats.findings_dropped++;
        return;
    }
    s->stats.findings++;
    char *id = xasprintf("scan.%s", r->id);
    char *where = xasprintf("%s:%u", shown(rel), line_of(data, h->off));
    pyti_buf msg = PYTI_BUF_INIT;
    buf_puts(&msg, r->description);
    if (h->detail)
        buf_printf(&msg, " (%s)", h->detail);
    if (h->count > 1)
        buf_printf(&msg, " [%u hits in this file%s]", h->count,
                   h->count >= s->lim.max_hits ? " or more" : "");
    findings_add(out, id, r->severity, where, "%s", buf_cstr(&msg));
    /* A hit within one line is shown with the rest of its line (from a
     * little before the hit), a hit across lines as matched. */
    char *ex;
    if (!memchr(data + h->off, '\n', h->len)) {
        size_t b, e;
        line_bounds(data, len, h->off, &b, &e);
        if (h->off > b + EXCERPT_LEAD)
            b = h->off - EXCERPT_LEAD;
        ex = make_excerpt(data + b, e - b);
    } else {
        ex = make_excerpt(data + h->off, h->len);
    }
    findings_set_last_excerpt(out, ex);
    free(ex);
    buf_free(&msg);
    free(where);
    free(id);
}

/* ---- the kinds of rules ---------------------------------------------------- */

static void run_patterns(pyti_scanner *s, const pyti_scan_rule *r, const char *rel,
                         const char *data, size_t len, hit_set *h, pyti_findings *out)
{
    int required = r->nrequire ? 2 : 1; /* 2: not yet checked */
    for (size_t i = 0; i < r->npatterns && h->count < s->lim.max_hits; i++) {
        size_t off = 0;
        while (off <= len && h->count < s->lim.max_hits) {
            size_t ms, me;
            match_result m = search(s, &r->patterns[i], data, len, off, &ms, &me);
            if (m == M_LIMIT) {
                report_limit(s, r, rel, out);
                break;
            }
            if (m == M_NONE)
                break;
            off = me > ms ? me : ms + 1;
            if (line_is_excused(s, r, data, len, ms))
                continue;
            if (required == 2) {
                required = requirements_met(s, r, data, len);
                if (required < 0)
                    report_limit(s, r, rel, out);
            }
            if (required <= 0) {
                h->count = 0;
                return;
            }
            hit_add(h, ms, me - ms);
        }
    }
}

static void run_long_line(pyti_scanner *s, const pyti_scan_rule *r, const char *data, size_t len,
                          hit_set *h)
{
    size_t pos = 0, longest = 0;
    while (pos < len && h->count < s->lim.max_hits) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t e = nl ? (size_t)(nl - data) : len;
        size_t n = e - pos;
        if ((double)n > r->threshold) {
            hit_add(h, pos, n > 120 ? 120 : n);
            if (n > longest)
                longest = n;
        }
        pos = e + 1;
    }
    if (h->count)
        h->detail = xasprintf("longest: %zu bytes; threshold %.0f", longest, r->threshold);
}

typedef struct literal_walk {
    const char *data; /* the whole file (literals point into it) */
    pyti_scanner *s;
    const pyti_scan_rule *r;
    hit_set *h;
    double best;      /* entropy: the highest seen among hits */
    size_t best_len;
} literal_walk;

/* Encoded payloads (base64, base85, hex, escapes) are ASCII; text in other
 * scripts has a high byte entropy for another reason (UTF-8 lead and
 * continuation bytes), so only mostly-ASCII literals are measured. */
static bool mostly_ascii(const char *s, size_t n)
{
    size_t high = 0;
    for (size_t i = 0; i < n; i++)
        high += (unsigned char)s[i] >= 0x80;
    return high * 20 <= n;
}

static bool on_literal_entropy(const char *body, size_t len, size_t offset, void *arg)
{
    literal_walk *w = arg;
    if (len < w->r->min_length || !mostly_ascii(body, len))
        return true;
    double e = entropy_shannon(body, len);
    if (e >= w->r->threshold) {
        hit_add(w->h, offset, len > 60 ? 60 : len);
        if (e > w->best) {
            w->best = e;
            w->best_len = len;
        }
    }
    return w->h->count < w->s->lim.max_hits;
}

/* An address in prose (a docstring citing "section 4.10.22.7") is not an
 * address: only short literals count, or an address that reads like one in
 * a URL or endpoint ("//1.2.3.4", "@1.2.3.4", "1.2.3.4:8080", "1.2.3.4/"). */
static bool address_context(const char *s, size_t len, size_t pos, size_t n)
{
    if (len <= 100)
        return true;
    if (pos >= 2 && s[pos - 1] == '/' && s[pos - 2] == '/')
        return true;
    if (pos >= 1 && s[pos - 1] == '@')
        return true;
    return pos + n + 1 < len && (s[pos + n] == ':' || s[pos + n] == '/') &&
           s[pos + n + 1] >= '0' && s[pos + n + 1] <= '9';
}

/* True if the literal at offset is the value of something named like a
 * version ("__version__ = '12.2.30.40'", "VERSION_INFO = ..."): looks back
 * over at most 64 bytes of its line. */
static bool version_context(const char *data, size_t offset)
{
    size_t b = offset > 64 ? offset - 64 : 0;
    for (size_t i = offset; i > b; i--) {
        if (data[i - 1] == '\n') {
            b = i;
            break;
        }
    }
    for (size_t i = b; i + 7 <= offset; i++)
        if (strncasecmp(data + i, "version", 7) == 0)
            return true;
    return false;
}

static bool on_literal_ipv4(const char *body, size_t len, size_t offset, void *arg)
{
    literal_walk *w = arg;
    size_t pos = 0, n;
    if (version_context(w->data, offset))
        return true;
    while (pos < len && ipv4_find_public(body, len, &pos, &n)) {
        if (!address_context(body, len, pos, n)) {
            pos += n;
            continue;
        }
        hit_add(w->h, offset + pos, n);
        pos += n;
        if (w->h->count >= w->s->lim.max_hits)
            return false;
    }
    return true;
}

static bool on_literal_collect(const char *body, size_t len, size_t offset, void *arg)
{
    file_ctx *fc = arg;
    (void)body;
    if (fc->nspans == fc->capspans) {
        fc->capspans = fc->capspans ? fc->capspans * 2 : 256;
        fc->spans = xreallocarray(fc->spans, fc->capspans, sizeof *fc->spans);
    }
    fc->spans[fc->nspans++] = (struct span){offset, len};
    return true;
}

static void lex(file_ctx *fc)
{
    if (!fc->lexed)
        pylex_strings(fc->data, fc->len, on_literal_collect, fc);
    fc->lexed = true;
}

/* Checks apply their require-also patterns after the fact (the lexing is
 * the expensive part and needs no regex). */
static void run_check(pyti_scanner *s, const pyti_scan_rule *r, file_ctx *fc, hit_set *h,
                      pyti_findings *out)
{
    const char *rel = fc->rel, *data = fc->data;
    size_t len = fc->len;
    literal_walk w = {data, s, r, h, 0, 0};
    switch (r->check) {
    case SCAN_CHECK_LONG_LINE:
        run_long_line(s, r, data, len, h);
        break;
    case SCAN_CHECK_ENTROPY:
        lex(fc);
        for (size_t i = 0; i < fc->nspans; i++)
            if (!on_literal_entropy(data + fc->spans[i].off, fc->spans[i].len, fc->spans[i].off, &w))
                break;
        if (h->count)
            h->detail = xasprintf("highest: %.2f bits per byte over %zu bytes; threshold %.2f",
                                  w.best, w.best_len, r->threshold);
        break;
    case SCAN_CHECK_IPV4:
        lex(fc);
        for (size_t i = 0; i < fc->nspans; i++)
            if (!on_literal_ipv4(data + fc->spans[i].off, fc->spans[i].len, fc->spans[i].off, &w))
                break;
        break;
    case SCAN_CHECK_PATTERN:
        break;
    }
    if (h->count && r->unless.code) {
        /* Only the first hit is re-checked: checks keep no list of hits. */
        if (line_is_excused(s, r, data, len, h->off))
            h->count = 0;
    }
    if (h->count && r->nrequire) {
        int ok = requirements_met(s, r, data, len);
        if (ok < 0)
            report_limit(s, r, rel, out);
        if (ok <= 0)
            h->count = 0;
    }
}

void scanner_scan_buffer(pyti_scanner *s, const char *rel, const char *data, size_t len,
                         pyti_findings *out)
{
    size_t n = scan_rules_count(s->rules);
    file_ctx fc = {rel, data, len, false, false, NULL, 0, 0};
    for (size_t i = 0; i < n; i++) {
        const pyti_scan_rule *r = scan_rules_get(s->rules, i);
        if (!scan_rule_applies(r, rel) || !triggers_met(s, i, r, &fc))
            continue;
        hit_set h = {0, 0, 0, NULL};
        if (r->check == SCAN_CHECK_PATTERN)
            run_patterns(s, r, rel, data, len, &h, out);
        else
            run_check(s, r, &fc, &h, out);
        emit(s, i, r, rel, data, len, &h, out);
        free(h.detail);
    }
    free(fc.spans);
}

/* ---- the walk -------------------------------------------------------------- */

static bool is_code_name(const char *name)
{
    return str_endswith(name, ".py") || str_endswith(name, ".pyw") || str_endswith(name, ".pth");
}

static void scan_file(pyti_scanner *s, int dirfd, const char *name, const char *rel,
                      pyti_findings *out)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        s->stats.unreadable++;
        findings_add(out, "scan.unreadable", PYTI_SEV_MEDIUM, shown(rel),
                     "the file could not be opened for the scan, so it was not checked");
        return;
    }
    if ((uint64_t)st.st_size > s->lim.max_file_size) {
        close(fd);
        s->stats.too_large++;
        bool code = is_code_name(name);
        findings_add(out, "scan.file-too-large", code ? PYTI_SEV_MEDIUM : PYTI_SEV_INFO, shown(rel),
                     "%s of %llu bytes is larger than the scan's limit of %llu bytes and was "
                     "not scanned", code ? "Python code" : "a file",
                     (unsigned long long)st.st_size, (unsigned long long)s->lim.max_file_size);
        return;
    }
    pyti_buf *b = &s->content;
    buf_reset(b);
    buf_reserve(b, (size_t)st.st_size + 1);
    bool failed = false;
    for (;;) {
        size_t room = (size_t)s->lim.max_file_size + 1 - b->len;
        if (room == 0)
            break;
        buf_reserve(b, room < 65536 ? room : 65536);
        ssize_t r = read(fd, b->data + b->len, room < 65536 ? room : 65536);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            failed = true;
            break;
        }
        if (r == 0)
            break;
        b->len += (size_t)r;
        b->data[b->len] = '\0';
    }
    close(fd);
    if (failed) {
        s->stats.unreadable++;
        findings_add(out, "scan.unreadable", PYTI_SEV_MEDIUM, shown(rel),
                     "the file could not be read for the scan, so it was not checked");
        return;
    }
    if (b->len > s->lim.max_file_size) { /* grew while being read */
        s->stats.too_large++;
        findings_add(out, "scan.file-too-large", PYTI_SEV_MEDIUM, shown(rel),
                     "the file grew past the scan's limit of %llu bytes while being read",
                     (unsigned long long)s->lim.max_file_size);
        return;
    }
    size_t sniff = b->len < BINARY_SNIFF ? b->len : BINARY_SNIFF;
    if (b->len && memchr(b->data, '\0', sniff)) {
        s->stats.binary++;
        return;
    }
    s->stats.scanned++;
    s->stats.bytes += b->len;
    scanner_scan_buffer(s, rel, b->len ? b->data : "", b->len, out);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk(pyti_scanner *s, int dirfd, const char *rel, unsigned depth, pyti_findings *out)
{
    DIR *d = fdopendir(dirfd);
    if (!d) {
        close(dirfd);
        s->stats.unreadable++;
        findings_add(out, "scan.unreadable", PYTI_SEV_MEDIUM, *rel ? shown(rel) : ".",
                     "the directory could not be listed, so its files were not checked");
        return;
    }
    pyti_strv names = PYTI_STRV_INIT;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            strv_push(&names, de->d_name);
    }
    if (names.len > 1)
        qsort(names.items, names.len, sizeof *names.items, cmp_names);
    for (size_t i = 0; i < names.len; i++) {
        const char *name = names.items[i];
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        char *child = *rel ? xasprintf("%s/%s", rel, name) : xstrdup(name);
        if (S_ISDIR(st.st_mode)) {
            if (depth + 1 > s->lim.max_depth) {
                if (!s->stats.incomplete)
                    findings_add(out, "scan.incomplete", PYTI_SEV_MEDIUM, shown(child),
                                 "directories nested deeper than %u were not scanned",
                                 s->lim.max_depth);
                s->stats.incomplete = true;
            } else {
                int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0)
                    walk(s, sub, child, depth + 1, out);
                else
                    s->stats.unreadable++;
            }
        } else if (S_ISREG(st.st_mode)) {
            if (s->stats.files >= s->lim.max_files) {
                if (!s->stats.incomplete)
                    findings_add(out, "scan.incomplete", PYTI_SEV_MEDIUM, shown(child),
                                 "more than %llu files: the rest were not scanned",
                                 (unsigned long long)s->lim.max_files);
                s->stats.incomplete = true;
            } else {
                s->stats.files++;
                scan_file(s, dirfd, name, child, out);
            }
        } else if (S_ISLNK(st.st_mode)) {
            s->stats.symlinks++;
        } else {
            s->stats.other++;
        }
        free(child);
    }
    strv_free(&names);
    closedir(d);
}

pyti_status scanner_scan_tree(pyti_scanner *s, const char *root, pyti_findings *out,
                              pyti_error *err)
{
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return pyti_error_errno(err, PYTI_ERR_IO, errno, "opening %s", root);
    walk(s, fd, "", 0, out);
    return PYTI_OK;
}

void scanner_finish(pyti_scanner *s, pyti_findings *out)
{
    if (s->stats.findings_dropped)
        findings_add(out, "scan.findings-truncated", PYTI_SEV_INFO, NULL,
                     "%llu more rule findings were not reported (limit %u); their counts are in "
                     "the task's data (scan.hits)", (unsigned long long)s->stats.findings_dropped,
                     s->lim.max_findings);
}

json_t *scanner_stats_json(const pyti_scanner *s)
{
    const pyti_scan_stats *st = &s->stats;
    json_t *o = json_object();
    json_object_set_new(o, "files", json_integer((json_int_t)st->files));
    json_object_set_new(o, "scanned", json_integer((json_int_t)st->scanned));
    json_object_set_new(o, "bytes", json_integer((json_int_t)st->bytes));
    json_object_set_new(o, "binary", json_integer((json_int_t)st->binary));
    json_object_set_new(o, "too_large", json_integer((json_int_t)st->too_large));
    json_object_set_new(o, "unreadable", json_integer((json_int_t)st->unreadable));
    json_object_set_new(o, "symlinks", json_integer((json_int_t)st->symlinks));
    json_object_set_new(o, "other", json_integer((json_int_t)st->other));
    json_object_set_new(o, "match_limit", json_integer((json_int_t)st->match_limit));
    json_object_set_new(o, "findings", json_integer((json_int_t)st->findings));
    json_object_set_new(o, "findings_dropped", json_integer((json_int_t)st->findings_dropped));
    json_object_set_new(o, "incomplete", json_boolean(st->incomplete));
    json_object_set_new(o, "rules", json_integer((json_int_t)scan_rules_count(s->rules)));
    json_object_set_new(o, "jit", json_boolean(scan_rules_jit(s->rules)));
    json_t *hits = json_object();
    for (size_t i = 0; i < scan_rules_count(s->rules); i++)
        if (s->hits[i])
            json_object_set_new(hits, scan_rules_get(s->rules, i)->id,
                                json_integer((json_int_t)s->hits[i]));
    json_object_set_new(o, "hits", hits);
    return o;
}
