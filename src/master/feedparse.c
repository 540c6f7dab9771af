/* feedparse.c — RSS (libxml2), the JSON project list with serials
 * (jansson) and the RSS cursor (see feedparse.h). */
#include "master/feedparse.h"
#include "common/jsonutil.h"
#include "common/str.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define FEED_MAX_DOC (64u << 20)

/* ---- RFC 822 dates ---- */

long long feed_parse_rfc822(const char *s)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (!s)
        return -1;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    /* An optional day name and comma. */
    const char *comma = strchr(s, ',');
    if (comma && comma - s <= 9)
        s = comma + 1;
    int day, year, hh, mm, ss = 0, consumed = 0;
    char mon[4], zone[8] = "";
    if (sscanf(s, " %2d %3s %4d %2d:%2d%n", &day, mon, &year, &hh, &mm, &consumed) != 5)
        return -1;
    s += consumed;
    if (*s == ':') {
        int c2 = 0;
        if (sscanf(s, ":%2d%n", &ss, &c2) != 1)
            return -1;
        s += c2;
    }
    if (sscanf(s, " %7s", zone) != 1)
        zone[0] = '\0';
    int month = -1;
    for (int i = 0; i < 12; i++)
        if (strcasecmp(mon, months[i]) == 0)
            month = i;
    if (month < 0 || day < 1 || day > 31 || year < 1970 || year > 9999 || hh > 23 || mm > 59 ||
        ss > 60)
        return -1;
    long offset = 0;
    if ((zone[0] == '+' || zone[0] == '-') && strlen(zone) == 5 && isdigit((unsigned char)zone[1])) {
        long v = strtol(zone + 1, NULL, 10);
        offset = (v / 100) * 3600 + (v % 100) * 60;
        if (zone[0] == '-')
            offset = -offset;
    } else if (zone[0] && strcasecmp(zone, "GMT") != 0 && strcasecmp(zone, "UT") != 0 &&
               strcasecmp(zone, "UTC") != 0 && strcasecmp(zone, "Z") != 0) {
        return -1;
    }
    struct tm tm = {0};
    tm.tm_year = year - 1900;
    tm.tm_mon = month;
    tm.tm_mday = day;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    return (long long)t - offset;
}

/* ---- RSS ---- */

static char *node_text(xmlNode *n)
{
    xmlChar *c = xmlNodeGetContent(n);
    if (!c)
        return NULL;
    char *s = xstrndup((const char *)c, FEED_MAX_FIELD);
    xmlFree(c);
    str_trim(s);
    return s;
}

static bool plausible_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 200 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return false;
    return true;
}

static bool plausible_version(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(".-_+!", *p))
            return false;
    return true;
}

/* ".../project/NAME/[VERSION/]" of a link. */
static bool from_link(const char *link, char **name, char **version)
{
    const char *p = link ? strstr(link, "/project/") : NULL;
    if (!p)
        return false;
    p += 9;
    size_t n = strcspn(p, "/?#");
    if (n == 0 || n > 200)
        return false;
    char *nm = xstrndup(p, n);
    p += n;
    char *ver = NULL;
    if (*p == '/' && p[1] && p[1] != '?' && p[1] != '#') {
        size_t vn = strcspn(p + 1, "/?#");
        ver = vn ? xstrndup(p + 1, vn) : NULL;
    }
    if (!plausible_name(nm) || (ver && !plausible_version(ver))) {
        free(nm);
        free(ver);
        return false;
    }
    *name = nm;
    *version = ver;
    return true;
}

/* "NAME VERSION" or "NAME added to PyPI" of a title. */
static bool from_title(const char *title, char **name, char **version)
{
    if (!title)
        return false;
    size_t n = strcspn(title, " \t");
    if (n == 0)
        return false;
    char *nm = xstrndup(title, n);
    const char *rest = title + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    char *ver = NULL;
    if (*rest && !str_startswith(rest, "added to ")) {
        size_t vn = strcspn(rest, " \t");
        if (rest[vn] == '\0')
            ver = xstrndup(rest, vn);
    }
    if (!plausible_name(nm) || (ver && !plausible_version(ver)) ||
        (*rest && !ver && !str_startswith(rest, "added to "))) {
        free(nm);
        free(ver);
        return false;
    }
    *name = nm;
    *version = ver;
    return true;
}

static xmlNode *child(xmlNode *n, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

pyti_status feed_parse_rss(const char *body, size_t len, feed_item **items, size_t *n,
                           size_t *skipped, pyti_error *err)
{
    *items = NULL;
    *n = 0;
    if (skipped)
        *skipped = 0;
    if (len > FEED_MAX_DOC || len > (size_t)INT32_MAX)
        return pyti_error_set(err, PYTI_ERR_INPUT, "RSS: document larger than 64 MiB");
    /* No network, no external entities, no entity substitution, no DTD
     * loading; a document with a DOCTYPE is refused below. */
    xmlDoc *doc = xmlReadMemory(body, (int)len, "feed.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                    XML_PARSE_NOCDATA);
    if (!doc) {
        const xmlError *xe = xmlGetLastError();
        pyti_status rc = pyti_error_set(err, PYTI_ERR_INPUT, "RSS: not well-formed XML (line %d: "
                                        "%.120s)", xe ? xe->line : 0,
                                        xe && xe->message ? xe->message : "?");
        xmlResetLastError();
        return rc;
    }
    pyti_status rc = PYTI_OK;
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *channel = NULL;
    if (doc->intSubset || doc->extSubset) {
        rc = pyti_error_set(err, PYTI_ERR_INPUT, "RSS: documents with a DOCTYPE are refused");
        goto out;
    }
    if (!root || strcmp((const char *)root->name, "rss") != 0 || !(channel = child(root, "channel"))) {
        rc = pyti_error_set(err, PYTI_ERR_INPUT, "RSS: expected <rss><channel>, found <%.40s> "
                            "at line %d", root ? (const char *)root->name : "nothing",
                            root ? root->line : 0);
        goto out;
    }
    size_t cap = 0;
    for (xmlNode *c = channel->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "item") != 0)
            continue;
        if (*n == FEED_MAX_ITEMS) {
            rc = pyti_error_set(err, PYTI_ERR_INPUT, "RSS: more than %d items (line %d)",
                                FEED_MAX_ITEMS, c->line);
            goto out;
        }
        char *title = node_text(child(c, "title")), *link = node_text(child(c, "link")),
             *date = node_text(child(c, "pubDate"));
        char *name = NULL, *version = NULL;
        long long t = feed_parse_rfc822(date);
        bool ok = t >= 0 && (from_link(link, &name, &version) || from_title(title, &name, &version));
        free(title);
        free(link);
        free(date);
        if (!ok) {
            if (skipped)
                (*skipped)++;
            continue;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            *items = xreallocarray(*items, cap, sizeof **items);
        }
        (*items)[(*n)++] = (feed_item){name, version, t};
    }
out:
    xmlFreeDoc(doc);
    if (rc != PYTI_OK) {
        feed_items_free(*items, *n);
        *items = NULL;
        *n = 0;
    }
    return rc;
}

void feed_items_free(feed_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(items[i].name);
        free(items[i].version);
    }
    free(items);
}

/* ---- the JSON project list with serials ---- */

pyti_status feed_parse_serial_index(const char *body, size_t len, feed_project **projects,
                                    size_t *n, long long *last_serial, pyti_error *err)
{
    *projects = NULL;
    *n = 0;
    *last_serial = -1;
    if (len > (256u << 20))
        return pyti_error_set(err, PYTI_ERR_INPUT, "project list: larger than 256 MiB");
    json_error_t je;
    json_t *doc = json_loadb(body, len, 0, &je);
    if (!doc)
        return pyti_error_set(err, PYTI_ERR_INPUT, "project list: line %d, column %d: %s",
                              je.line, je.column, je.text);
    pyti_status rc = PYTI_OK;
    json_t *meta = json_object_get(doc, "meta");
    json_t *list = json_object_get(doc, "projects");
    json_t *ms = meta ? json_object_get(meta, "_last-serial") : NULL;
    if (!json_is_object(doc) || !json_is_array(list)) {
        rc = pyti_error_set(err, PYTI_ERR_INPUT, "project list: expected {\"meta\": {...}, "
                            "\"projects\": [...]} (PEP 691 JSON)");
        goto out;
    }
    if (ms && (!json_is_integer(ms) || json_integer_value(ms) < 0)) {
        rc = pyti_error_set(err, PYTI_ERR_INPUT, "project list: meta._last-serial: expected a "
                            "non-negative integer");
        goto out;
    }
    size_t count = json_array_size(list);
    if (count > FEED_MAX_PROJECTS) {
        rc = pyti_error_set(err, PYTI_ERR_INPUT, "project list: more than %d projects",
                            FEED_MAX_PROJECTS);
        goto out;
    }
    *projects = xcalloc(count + 1, sizeof **projects);
    long long max = -1;
    for (size_t i = 0; i < count; i++) {
        json_t *p = json_array_get(list, i);
        json_t *nm = json_object_get(p, "name"), *se = json_object_get(p, "_last-serial");
        if (!json_is_string(nm) || json_string_length(nm) == 0 ||
            json_string_length(nm) > FEED_MAX_FIELD) {
            rc = pyti_error_set(err, PYTI_ERR_INPUT, "project list: projects[%zu].name: expected "
                                "a string of 1-%d bytes", i, FEED_MAX_FIELD);
            goto out;
        }
        if (!json_is_integer(se) || json_integer_value(se) < 0) {
            rc = pyti_error_set(err, PYTI_ERR_INPUT, "project list: projects[%zu]._last-serial: "
                                "expected a non-negative integer (is this index a PyPI mirror "
                                "with serials?)", i);
            goto out;
        }
        (*projects)[i].name = xstrdup(json_string_value(nm));
        (*projects)[i].serial = json_integer_value(se);
        *n = i + 1;
        if ((*projects)[i].serial > max)
            max = (*projects)[i].serial;
    }
    *last_serial = ms ? json_integer_value(ms) : max;
out:
    json_decref(doc);
    if (rc != PYTI_OK) {
        feed_projects_free(*projects, *n);
        *projects = NULL;
        *n = 0;
    }
    return rc;
}

void feed_projects_free(feed_project *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(p[i].name);
    free(p);
}

/* ---- the RSS cursor ---- */

pyti_status feed_rss_cursor_parse(const char *text, long long *time, pyti_strv *seen,
                                  pyti_error *err)
{
    *time = -1;
    if (!text || !*text)
        return PYTI_OK;
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    json_t *t = j ? json_object_get(j, "time") : NULL, *s = j ? json_object_get(j, "seen") : NULL;
    if (!json_is_integer(t) || !json_is_array(s) || json_array_size(s) > FEED_MAX_ITEMS) {
        json_decref(j);
        return pyti_error_set(err, PYTI_ERR_INPUT, "RSS cursor '%.80s': expected {\"time\": N, "
                              "\"seen\": [...]}", text);
    }
    *time = json_integer_value(t);
    size_t i;
    json_t *v;
    json_array_foreach(s, i, v)
        if (json_is_string(v))
            strv_push(seen, json_string_value(v));
    json_decref(j);
    return PYTI_OK;
}

char *feed_rss_cursor_format(long long time, const pyti_strv *seen)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < seen->len; i++)
        json_array_append_new(arr, json_text(seen->items[i]));
    json_t *j = json_pack("{s:I, s:o}", "time", (json_int_t)time, "seen", arr);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return s;
}
