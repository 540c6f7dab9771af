/* typosquat.c — popular project names and look-alike detection (see
 * typosquat.h and docs/scan-rules.md). */
#include "scan/typosquat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "pkg/name.h"

#define POPULAR_MAX_BYTES (16u << 20)
#define NAME_MAX_LEN 127 /* longer names are skipped by the checks */
#define MIN_CANDIDATE 4

typedef struct popular_name {
    char *name;     /* PEP 503 normalised */
    char *bare;     /* separators dropped */
    char *fold;     /* look-alikes folded (typosquat_fold) */
    size_t len;
    bool top;
} popular_name;

struct pyti_popular {
    popular_name *items;
    size_t len, cap;
    char **sorted; /* names, sorted, for popular_contains */
};

void popular_free(pyti_popular *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->len; i++) {
        free(p->items[i].name);
        free(p->items[i].bare);
        free(p->items[i].fold);
    }
    free(p->items);
    free(p->sorted);
    free(p);
}

size_t popular_count(const pyti_popular *p) { return p ? p->len : 0; }

static void strip_separators(const char *s, char *out, size_t outsz)
{
    size_t j = 0;
    for (; *s && j + 1 < outsz; s++)
        if (*s != '-' && *s != '_' && *s != '.')
            out[j++] = *s;
    out[j] = '\0';
}

void typosquat_fold(const char *name, char *out, size_t outsz)
{
    if (!outsz)
        return;
    char bare[NAME_MAX_LEN + 1];
    strip_separators(name, bare, sizeof bare);
    size_t j = 0;
    for (size_t i = 0; bare[i] && j + 1 < outsz; i++) {
        char c = bare[i];
        if (c == 'r' && bare[i + 1] == 'n') {
            c = 'm';
            i++;
        } else if (c == 'v' && bare[i + 1] == 'v') {
            c = 'w';
            i++;
        } else if (c == '0') {
            c = 'o';
        } else if (c == '1') {
            c = 'l';
        }
        out[j++] = c;
    }
    out[j] = '\0';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

pyti_popular *popular_from_string(const char *text, size_t len, const char *name,
                                  pyti_error *err)
{
    pyti_popular *p = xcalloc(1, sizeof *p);
    size_t pos = 0;
    unsigned lineno = 0;
    while (pos < len) {
        lineno++;
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        char *line = xstrndup(start, n);
        if (strlen(line) != n) {
            free(line);
            pyti_error_set(err, PYTI_ERR_INPUT, "%s:%u: NUL byte in the line", name, lineno);
            goto fail;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = str_trim(line);
        if (!*s) {
            free(line);
            continue;
        }
        char *tier = s + strcspn(s, " \t");
        if (*tier) {
            *tier++ = '\0';
            tier = str_trim(tier);
        }
        bool top = false;
        if (strcmp(tier, "top") == 0) {
            top = true;
        } else if (*tier && strcmp(tier, "listed") != 0) {
            pyti_error_set(err, PYTI_ERR_INPUT, "%s:%u: unknown tier '%.40s' (top or listed)", name,
                           lineno, tier);
            free(line);
            goto fail;
        }
        if (!name_is_valid(s) || strlen(s) > NAME_MAX_LEN) {
            pyti_error_set(err, PYTI_ERR_INPUT, "%s:%u: '%.80s' is not a valid project name", name,
                           lineno, s);
            free(line);
            goto fail;
        }
        if (p->len == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 1024;
            p->items = xreallocarray(p->items, p->cap, sizeof *p->items);
        }
        popular_name *it = &p->items[p->len++];
        it->name = name_normalize(s);
        char buf[NAME_MAX_LEN + 1];
        strip_separators(it->name, buf, sizeof buf);
        it->bare = xstrdup(buf);
        typosquat_fold(it->name, buf, sizeof buf);
        it->fold = xstrdup(buf);
        it->len = strlen(it->name);
        it->top = top;
        free(line);
    }
    p->sorted = xcalloc(p->len + 1, sizeof *p->sorted);
    for (size_t i = 0; i < p->len; i++)
        p->sorted[i] = p->items[i].name;
    qsort(p->sorted, p->len, sizeof *p->sorted, cmp_str);
    return p;
fail:
    popular_free(p);
    return NULL;
}

pyti_popular *popular_load(const char *path, pyti_error *err)
{
    pyti_buf b = PYTI_BUF_INIT;
    if (path_read_file(path, POPULAR_MAX_BYTES, &b, err) != PYTI_OK) {
        buf_free(&b);
        return NULL;
    }
    pyti_popular *p = popular_from_string(buf_cstr(&b), b.len, path, err);
    buf_free(&b);
    return p;
}

pyti_popular *popular_load_default(pyti_error *err)
{
    char *path = path_join(path_pyti_datadir(), "data/popular-projects.txt");
    pyti_popular *p = popular_load(path, err);
    free(path);
    return p;
}

static bool contains_normalized(const pyti_popular *p, const char *norm)
{
    return p->len && bsearch(&norm, p->sorted, p->len, sizeof *p->sorted, cmp_str) != NULL;
}

bool popular_contains(const pyti_popular *p, const char *name)
{
    char *norm = name_normalize(name);
    bool r = contains_normalized(p, norm);
    free(norm);
    return r;
}

unsigned typosquat_distance(const char *a, const char *b, unsigned max)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 255 || lb > 255)
        return strcmp(a, b) == 0 ? 0 : max + 1;
    size_t diff = la > lb ? la - lb : lb - la;
    if (diff > max)
        return max + 1;
    /* Three rows of the optimal-string-alignment table. */
    unsigned rows[3][256];
    unsigned *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (unsigned)i;
        unsigned rowmin = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            unsigned cost = a[i - 1] != b[j - 1];
            unsigned v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (prev[j - 1] + cost < v)
                v = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < v)
                v = prev2[j - 2] + 1;
            cur[j] = v;
            if (v < rowmin)
                rowmin = v;
        }
        if (rowmin > max)
            return max + 1;
        unsigned *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb] <= max ? prev[lb] : max + 1;
}

/* True if a and b have the same length and differ by one exchange of two
 * adjacent characters. */
static bool is_swap(const char *a, const char *b, size_t len)
{
    size_t i = 0;
    while (i < len && a[i] == b[i])
        i++;
    if (i + 1 >= len || a[i] != b[i + 1] || a[i + 1] != b[i])
        return false;
    return strcmp(a + i + 2, b + i + 2) == 0;
}

static bool is_affix(const char *cand, const char *pop, size_t plen)
{
    static const char *const prefixes[] = {"python-", "python3-", "py-", "py", NULL};
    static const char *const suffixes[] = {"-python", "-py", "py", "2", "3", "-2", "-3", "-lib",
                                           "-dev", "-official", "-latest", "-new", "-fix",
                                           "-secure", NULL};
    size_t clen = strlen(cand);
    for (size_t i = 0; prefixes[i]; i++) {
        size_t n = strlen(prefixes[i]);
        if (clen == n + plen && strncmp(cand, prefixes[i], n) == 0 && strcmp(cand + n, pop) == 0)
            return true;
    }
    for (size_t i = 0; suffixes[i]; i++) {
        size_t n = strlen(suffixes[i]);
        if (clen == plen + n && strncmp(cand, pop, plen) == 0 && strcmp(cand + plen, suffixes[i]) == 0)
            return true;
    }
    return false;
}

static void set_out(pyti_typosquat *out, const popular_name *pn, const char *method, unsigned d)
{
    snprintf(out->target, sizeof out->target, "%s", pn->name);
    out->method = method;
    out->distance = d;
}

bool typosquat_check(const pyti_popular *p, const char *name, pyti_typosquat *out)
{
    if (!p || !name)
        return false;
    char *norm = name_normalize(name);
    size_t len = strlen(norm);
    bool found = false;
    if (len < MIN_CANDIDATE || len > NAME_MAX_LEN || contains_normalized(p, norm))
        goto out;
    char bare[NAME_MAX_LEN + 1], fold[NAME_MAX_LEN + 1];
    strip_separators(norm, bare, sizeof bare);
    typosquat_fold(norm, fold, sizeof fold);

    for (size_t i = 0; i < p->len && !found; i++)
        if (strcmp(bare, p->items[i].bare) == 0) {
            set_out(out, &p->items[i], "separators", 0);
            found = true;
        }
    for (size_t i = 0; i < p->len && !found; i++)
        if (p->items[i].len >= 3 && strcmp(fold, p->items[i].fold) == 0) {
            set_out(out, &p->items[i], "homoglyph", 0);
            found = true;
        }
    for (size_t i = 0; i < p->len && !found; i++)
        if (p->items[i].len == len && is_swap(norm, p->items[i].name, len)) {
            set_out(out, &p->items[i], "swap", 1);
            found = true;
        }
    for (size_t i = 0; i < p->len && !found; i++) {
        const popular_name *pn = &p->items[i];
        unsigned max = pn->len >= 10 && pn->top ? 2 : pn->len >= 5 ? 1 : 0;
        if (!max)
            continue;
        unsigned d = typosquat_distance(norm, pn->name, max);
        if (d >= 1 && d <= max) {
            set_out(out, pn, "edit", d);
            found = true;
        }
    }
    for (size_t i = 0; i < p->len && !found; i++) {
        const popular_name *pn = &p->items[i];
        if (pn->top && pn->len >= 4 && is_affix(norm, pn->name, pn->len)) {
            set_out(out, pn, "affix", 0);
            found = true;
        }
    }
out:
    free(norm);
    return found;
}
