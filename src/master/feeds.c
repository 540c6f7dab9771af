/* feeds.c — where jobs come from without anyone submitting them: PyPI's
 * RSS feeds, the simple API's serials (like bandersnatch) and a watched
 * drop directory, polled by one thread of the master.
 *
 * Every feed keeps a cursor in the store (store_cursor_get/cas). A poll
 * reads the cursor, submits the jobs after it — submits are idempotent
 * (an active or done job for the same file absorbs a repeat) — and only
 * then moves the cursor, by compare-and-set. So a master that dies
 * between the two repeats submits that are absorbed (no work is
 * repeated) and never skips one (no work is lost); two masters polling
 * the same feed do the same. A poll that fails half way (the index is
 * down) moves the cursor only past what it submitted. */
#include "master/master_internal.h"
#include "master/feedparse.h"
#include "common/hash.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/path.h"
#include "common/str.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "index/index.h"
#include "pkg/name.h"
#include "pkg/version.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SERIAL_BATCH 500 /* projects submitted per poll of the serial feed */
#define DROP_BATCH 200   /* files taken per poll of the drop directory */

typedef enum feed_kind { FEED_RSS, FEED_SERIAL, FEED_DROPDIR } feed_kind;
typedef enum file_choice { FILES_PREFERRED, FILES_ALL, FILES_SDIST, FILES_WHEELS } file_choice;

typedef struct feed {
    feed_kind kind;
    char *url;         /* RSS document, or the index root (serial) */
    char *path;        /* the drop directory */
    char *cursor;      /* the cursor's name in the store */
    double interval_s;
    double next_at;
    bool start_now;    /* serial: a first poll only records where the index is */
} feed;

struct master_feeds {
    pyti_master *m;
    feed *feeds;
    size_t n;
    char *index_url;   /* where RSS and serial feeds look files up */
    file_choice files;
    pyti_http_options ho;
    pthread_t thread;
    bool started;
};

static const char *const feeds_keys[] = {"allow", "deny", "recipe", "python", "priority",
                                         "files", "interval", NULL};
static const char *const rss_keys[] = {"urls", "index_url", "interval", NULL};
static const char *const serial_keys[] = {"index_url", "interval", "start", NULL};
static const char *const dropdir_keys[] = {"path", "interval", NULL};

/* ---- submitting what a feed found ---- */

static void feed_spec(const pyti_master *m, store_job_spec *sp)
{
    store_job_spec_init(sp);
    sp->recipe = config_get(m->config, "feeds", "recipe");
    sp->python = config_get(m->config, "feeds", "python");
    const char *pr = config_get(m->config, "feeds", "priority");
    sp->priority = pr ? atoi(pr) : 0;
    sp->created_by = "feed";
}

static bool choose(file_choice c, const pyti_dist_filename *df, bool have_sdist)
{
    switch (c) {
    case FILES_ALL: return true;
    case FILES_SDIST: return df->kind == PYTI_DIST_SDIST;
    case FILES_WHEELS: return df->kind == PYTI_DIST_WHEEL;
    case FILES_PREFERRED: return have_sdist ? df->kind == PYTI_DIST_SDIST : true;
    }
    return false;
}

/* Submits the files of project's version (NULL: its newest non-yanked
 * version) found on the feed's index. PYTI_OK also when the project or
 * version has no files (nothing to test); an error only when the index
 * or the store failed, so the caller stops and retries later. */
static pyti_status submit_release(struct master_feeds *fs, pyti_store *s, pyti_http *http,
                                  const char *project, const char *version, size_t *submitted,
                                  pyti_error *err)
{
    pyti_strv urls = PYTI_STRV_INIT;
    strv_push(&urls, fs->index_url);
    pyti_index *ix = index_new(http, &urls);
    strv_free(&urls);
    const pyti_dist_file *files = NULL;
    size_t nf = 0;
    pyti_status rc = index_project_files(ix, project, &files, &nf, err);
    if (rc != PYTI_OK) {
        index_free(ix);
        return rc;
    }
    /* Which version: the given one, or the newest with a file not yanked. */
    pyti_version *want = version ? version_parse(version, NULL) : NULL;
    pyti_version *best = NULL;
    pyti_dist_filename *dfs = xcalloc(nf + 1, sizeof *dfs);
    bool *parsed = xcalloc(nf + 1, sizeof *parsed);
    for (size_t i = 0; i < nf; i++) {
        parsed[i] = dist_filename_parse(files[i].filename, &dfs[i], NULL) == PYTI_OK;
        if (!parsed[i] || version || files[i].yanked)
            continue;
        pyti_version *v = version_parse(dfs[i].version, NULL);
        if (v && (!best || version_compare(v, best) > 0)) {
            version_free(best);
            best = v;
        } else {
            version_free(v);
        }
    }
    const pyti_version *target = version ? want : best;
    bool have_sdist = false;
    bool *match = xcalloc(nf + 1, sizeof *match);
    for (size_t i = 0; i < nf; i++) {
        if (!parsed[i])
            continue;
        pyti_version *v = version_parse(dfs[i].version, NULL);
        match[i] = target && v ? version_compare(v, target) == 0
                               : version && strcmp(dfs[i].version, version) == 0;
        version_free(v);
        if (match[i] && dfs[i].kind == PYTI_DIST_SDIST)
            have_sdist = true;
    }
    store_job_spec sp;
    feed_spec(fs->m, &sp);
    for (size_t i = 0; i < nf && rc == PYTI_OK; i++) {
        if (!match[i] || !choose(fs->files, &dfs[i], have_sdist))
            continue;
        if (!files[i].sha256) {
            log_warn("feed: %s: no sha256 from the index, not submitted", files[i].filename);
            continue;
        }
        if (!master_project_allowed(&fs->m->st, dfs[i].name))
            continue;
        sp.name = dfs[i].name;
        sp.version = dfs[i].version;
        sp.filename = files[i].filename;
        sp.url = files[i].url;
        sp.sha256 = files[i].sha256;
        sp.size = files[i].size;
        long long id;
        bool created;
        rc = store_job_submit(s, &sp, &id, &created, err);
        if (rc == PYTI_OK && created) {
            (*submitted)++;
            log_info("feed: %s queued as job %lld", files[i].filename, id);
        } else if (rc == PYTI_ERR_USAGE) {
            /* A spec the store refuses (say, an odd file) is skipped, not
             * retried forever. */
            log_warn("feed: %s: %s", files[i].filename, err->msg);
            rc = PYTI_OK;
        }
    }
    for (size_t i = 0; i < nf; i++)
        if (parsed[i])
            dist_filename_free(&dfs[i]);
    free(dfs);
    free(parsed);
    free(match);
    version_free(want);
    version_free(best);
    index_free(ix);
    return rc;
}

/* ---- RSS ---- */

static int item_order(const void *a, const void *b)
{
    const feed_item *x = a, *y = b;
    return x->time < y->time ? -1 : x->time > y->time;
}

static char *item_key(const feed_item *it)
{
    return xasprintf("%s %s", it->name, it->version ? it->version : "");
}

static pyti_status poll_rss(struct master_feeds *fs, feed *f, pyti_store *s, pyti_http *http,
                            pyti_error *err)
{
    pyti_http_response r = {0};
    pyti_status rc = http_get_page(http, f->url, "application/rss+xml, application/xml;q=0.9, "
                                   "text/xml;q=0.8", &r, err);
    if (rc != PYTI_OK) {
        http_response_free(&r);
        return rc;
    }
    feed_item *items = NULL;
    size_t n = 0, skipped = 0;
    rc = feed_parse_rss(buf_cstr(&r.body), r.body.len, &items, &n, &skipped, err);
    http_response_free(&r);
    if (rc != PYTI_OK)
        return pyti_error_prefix(err, "%s", f->url);
    if (skipped)
        log_warn("feed %s: %zu items without a project or date skipped", f->url, skipped);
    qsort(items, n, sizeof *items, item_order);

    char *cur = NULL;
    long long ctime = -1;
    pyti_strv seen = PYTI_STRV_INIT;
    if ((rc = store_cursor_get(s, f->cursor, &cur, err)) != PYTI_OK ||
        (rc = feed_rss_cursor_parse(cur, &ctime, &seen, err)) != PYTI_OK)
        goto out;
    long long ntime = ctime;
    pyti_strv nseen = PYTI_STRV_INIT;
    strv_extend(&nseen, &seen);
    size_t submitted = 0;
    bool moved = false;
    for (size_t i = 0; i < n; i++) {
        char *key = item_key(&items[i]);
        bool fresh = items[i].time > ctime || (items[i].time == ctime && !strv_contains(&seen, key));
        if (!fresh) {
            free(key);
            continue;
        }
        if (master_project_allowed(&fs->m->st, items[i].name)) {
            rc = submit_release(fs, s, http, items[i].name, items[i].version, &submitted, err);
            if (rc != PYTI_OK) {
                pyti_error_prefix(err, "feed %s: %s", f->url, key);
                free(key);
                break;
            }
        }
        if (items[i].time > ntime) {
            ntime = items[i].time;
            strv_free(&nseen);
        }
        strv_push_unique(&nseen, key);
        moved = true;
        free(key);
    }
    if (moved) {
        char *val = feed_rss_cursor_format(ntime, &nseen);
        bool swapped;
        pyti_error cerr;
        if (store_cursor_cas(s, f->cursor, cur, val, &swapped, &cerr) != PYTI_OK)
            log_warn("feed %s: moving the cursor: %s", f->url, cerr.msg);
        free(val);
    }
    if (submitted)
        log_info("feed %s: %zu jobs queued", f->url, submitted);
    strv_free(&nseen);
out:
    strv_free(&seen);
    free(cur);
    feed_items_free(items, n);
    return rc;
}

/* ---- serials ---- */

static int project_order(const void *a, const void *b)
{
    const feed_project *x = a, *y = b;
    return x->serial < y->serial ? -1 : x->serial > y->serial;
}

static pyti_status poll_serial(struct master_feeds *fs, feed *f, pyti_store *s, pyti_http *http,
                               pyti_error *err)
{
    pyti_http_response r = {0};
    pyti_status rc = http_get_page(http, f->url, "application/vnd.pypi.simple.v1+json", &r, err);
    if (rc != PYTI_OK) {
        http_response_free(&r);
        return rc;
    }
    feed_project *ps = NULL;
    size_t n = 0;
    long long last = -1;
    rc = feed_parse_serial_index(buf_cstr(&r.body), r.body.len, &ps, &n, &last, err);
    http_response_free(&r);
    if (rc != PYTI_OK)
        return pyti_error_prefix(err, "%s", f->url);
    char *cur = NULL;
    if ((rc = store_cursor_get(s, f->cursor, &cur, err)) != PYTI_OK)
        goto out;
    long long from = -1;
    if (cur) {
        char *end;
        from = strtoll(cur, &end, 10);
        if (*end || from < 0) {
            rc = pyti_error_set(err, PYTI_ERR_INPUT, "feed %s: cursor '%.40s' is not a serial",
                                f->url, cur);
            goto out;
        }
    } else if (f->start_now) {
        /* A new mirror starts from now, as bandersnatch does. */
        char val[32];
        snprintf(val, sizeof val, "%lld", last < 0 ? 0 : last);
        bool swapped;
        rc = store_cursor_cas(s, f->cursor, NULL, val, &swapped, err);
        if (rc == PYTI_OK)
            log_info("feed %s: starting at serial %s", f->url, val);
        goto out;
    }
    qsort(ps, n, sizeof *ps, project_order);
    long long upto = from;
    size_t submitted = 0, done = 0;
    for (size_t i = 0; i < n && done < SERIAL_BATCH; i++) {
        if (ps[i].serial <= from)
            continue;
        if (master_project_allowed(&fs->m->st, ps[i].name)) {
            rc = submit_release(fs, s, http, ps[i].name, NULL, &submitted, err);
            if (rc != PYTI_OK) {
                pyti_error_prefix(err, "feed %s: %s", f->url, ps[i].name);
                break;
            }
        }
        done++;
        /* Equal serials are taken together before the cursor moves past them. */
        if (i + 1 == n || ps[i + 1].serial != ps[i].serial)
            upto = ps[i].serial;
    }
    if (upto > from) {
        char val[32];
        snprintf(val, sizeof val, "%lld", upto);
        bool swapped;
        pyti_error cerr;
        if (store_cursor_cas(s, f->cursor, cur, val, &swapped, &cerr) != PYTI_OK)
            log_warn("feed %s: moving the cursor: %s", f->url, cerr.msg);
    }
    if (submitted)
        log_info("feed %s: %zu jobs queued (serial %lld)", f->url, submitted, upto);
out:
    free(cur);
    feed_projects_free(ps, n);
    return rc;
}

/* ---- the drop directory ---- */

/* Moves name out of the drop directory into its subdirectory sub. */
static void drop_move(const feed *f, const char *name, const char *sub)
{
    char *dir = xasprintf("%s/%s", f->path, sub);
    char *from = xasprintf("%s/%s", f->path, name), *to = xasprintf("%s/%s", dir, name);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        log_warn("feed %s: cannot make %s: %s", f->path, dir, strerror(errno));
    else if (rename(from, to) != 0 && errno != ENOENT)
        log_warn("feed %s: cannot move %s to %s/: %s", f->path, name, sub, strerror(errno));
    free(dir);
    free(from);
    free(to);
}

static int name_order(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static pyti_status poll_dropdir(struct master_feeds *fs, feed *f, pyti_store *s, pyti_error *err)
{
    DIR *d = opendir(f->path);
    if (!d)
        return pyti_error_errno(err, PYTI_ERR_IO, errno, "drop directory %s", f->path);
    pyti_strv names = PYTI_STRV_INIT;
    struct dirent *e;
    time_t now = time(NULL);
    while ((e = readdir(d)) && names.len < DROP_BATCH) {
        if (e->d_name[0] == '.')
            continue;
        struct stat st;
        char *p = xasprintf("%s/%s", f->path, e->d_name);
        /* Files still being written (changed in the last two seconds)
         * wait for the next poll; writers should rename into place. */
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < now - 1)
            strv_push(&names, e->d_name);
        free(p);
    }
    closedir(d);
    qsort(names.items, names.len, sizeof *names.items, name_order);
    store_job_spec sp;
    feed_spec(fs->m, &sp);
    pyti_status rc = PYTI_OK;
    size_t taken = 0;
    const char *last = NULL;
    for (size_t i = 0; i < names.len && rc == PYTI_OK; i++) {
        char *p = xasprintf("%s/%s", f->path, names.items[i]);
        int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        free(p);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            if (fd >= 0)
                close(fd);
            continue;
        }
        void *map = st.st_size ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)
                               : NULL;
        close(fd);
        if (map == MAP_FAILED) {
            rc = pyti_error_errno(err, PYTI_ERR_IO, errno, "reading %s/%s", f->path,
                                  names.items[i]);
            break;
        }
        long long id;
        bool created;
        pyti_error uerr;
        pyti_status urc = master_store_upload(fs->m, s, names.items[i], map ? map : "",
                                              (size_t)st.st_size, NULL, &sp, &id, &created, NULL,
                                              &uerr);
        if (map)
            munmap(map, (size_t)st.st_size);
        if (urc == PYTI_OK) {
            log_info("feed %s: %s %s job %lld", f->path, names.items[i],
                     created ? "queued as" : "already", id);
            drop_move(f, names.items[i], "done");
            taken++;
            last = names.items[i];
        } else if (urc == PYTI_ERR_INPUT || urc == PYTI_ERR_USAGE) {
            log_warn("feed %s: %s refused: %s", f->path, names.items[i], uerr.msg);
            drop_move(f, names.items[i], "rejected");
        } else {
            /* The store or the files directory failed: leave the file for
             * the next poll. */
            *err = uerr;
            rc = urc;
        }
    }
    /* The directory itself is the durable queue (a file leaves it only
     * once its job is in the store); the cursor records progress for
     * operators and for masters sharing the directory. */
    if (taken) {
        char *cur = NULL;
        pyti_error cerr;
        if (store_cursor_get(s, f->cursor, &cur, &cerr) == PYTI_OK) {
            long long total = 0;
            json_t *j = cur ? json_loads(cur, 0, NULL) : NULL;
            if (j)
                total = json_integer_value(json_object_get(j, "files"));
            json_decref(j);
            json_t *nv = json_pack("{s:I, s:o}", "files", (json_int_t)(total + (long long)taken),
                                   "last", json_text(last));
            char *val = json_dumps(nv, JSON_COMPACT | JSON_SORT_KEYS);
            json_decref(nv);
            bool swapped;
            store_cursor_cas(s, f->cursor, cur, val, &swapped, &cerr);
            free(val);
        }
        free(cur);
    }
    strv_free(&names);
    return rc;
}

/* ---- the thread ---- */

static void *feeds_main(void *arg)
{
    struct master_feeds *fs = arg;
    pyti_master *m = fs->m;
    pyti_error err;
    pyti_http *http = http_new(&fs->ho, &err);
    if (!http) {
        log_error("feeds: %s", err.msg);
        return NULL;
    }
    while (!m->stopping) {
        double now = time_monotonic();
        for (size_t i = 0; i < fs->n && !m->stopping; i++) {
            feed *f = &fs->feeds[i];
            if (now < f->next_at)
                continue;
            pyti_store *s = master_store_get(m, &err);
            pyti_status rc = err.code;
            if (s) {
                if (f->kind == FEED_RSS)
                    rc = poll_rss(fs, f, s, http, &err);
                else if (f->kind == FEED_SERIAL)
                    rc = poll_serial(fs, f, s, http, &err);
                else
                    rc = poll_dropdir(fs, f, s, &err);
            }
            master_store_put(m, s);
            if (rc != PYTI_OK)
                log_warn("feed %s: %s", f->url ? f->url : f->path, err.msg);
            else
                master_wake(m);
            f->next_at = time_monotonic() + f->interval_s;
        }
        pthread_mutex_lock(&m->wake_lock);
        if (!m->stopping) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 200 * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&m->wake, &m->wake_lock, &until);
        }
        pthread_mutex_unlock(&m->wake_lock);
    }
    http_free(http);
    return NULL;
}

static pyti_status interval_of(const pyti_config *cfg, const char *section, double dflt,
                               double *out, pyti_error *err)
{
    *out = dflt;
    if (config_get_double(cfg, section, "interval", out, err) != PYTI_OK)
        return PYTI_ERR_USAGE;
    if (*out < 0.2)
        *out = 0.2;
    return PYTI_OK;
}

static feed *add_feed(struct master_feeds *fs, feed_kind kind)
{
    fs->feeds = xreallocarray(fs->feeds, fs->n + 1, sizeof *fs->feeds);
    feed *f = &fs->feeds[fs->n++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    return f;
}

static void feeds_free(struct master_feeds *fs)
{
    if (!fs)
        return;
    for (size_t i = 0; i < fs->n; i++) {
        free(fs->feeds[i].url);
        free(fs->feeds[i].path);
        free(fs->feeds[i].cursor);
    }
    free(fs->feeds);
    free(fs->index_url);
    free(fs);
}

pyti_status feeds_start(pyti_master *m, const pyti_config *cfg, pyti_error *err)
{
    const char *rss_urls = config_get(cfg, "feed.rss", "urls");
    const char *serial_url = config_get(cfg, "feed.serial", "index_url");
    const char *drop = config_get(cfg, "feed.dropdir", "path");
    if (config_check_keys(cfg, "feeds", feeds_keys, err) != PYTI_OK ||
        config_check_keys(cfg, "feed.rss", rss_keys, err) != PYTI_OK ||
        config_check_keys(cfg, "feed.serial", serial_keys, err) != PYTI_OK ||
        config_check_keys(cfg, "feed.dropdir", dropdir_keys, err) != PYTI_OK)
        return PYTI_ERR_USAGE;
    if (!rss_urls && !serial_url && !drop)
        return PYTI_OK;
    struct master_feeds *fs = xcalloc(1, sizeof *fs);
    fs->m = m;
    const char *files = config_get(cfg, "feeds", "files");
    static const char *const choices[] = {"preferred", "all", "sdist", "wheels"};
    bool known = !files;
    for (int i = 0; files && i < 4; i++)
        if (strcmp(files, choices[i]) == 0) {
            fs->files = (file_choice)i;
            known = true;
        }
    double dflt = 60;
    const char *prio = config_get(cfg, "feeds", "priority");
    char *end = NULL;
    long pv = prio ? strtol(prio, &end, 10) : 0;
    pyti_status rc = PYTI_OK;
    if (!known)
        rc = pyti_error_set(err, PYTI_ERR_USAGE, "[feeds] files = '%s': expected preferred, all, "
                            "sdist or wheels", files);
    else if (prio && (*end || pv < -1000 || pv > 1000))
        rc = pyti_error_set(err, PYTI_ERR_USAGE, "[feeds] priority = '%s': expected -1000..1000",
                            prio);
    else if (interval_of(cfg, "feeds", 60, &dflt, err) != PYTI_OK)
        rc = PYTI_ERR_USAGE;
    http_options_default(&fs->ho);
    if (rc == PYTI_OK)
        rc = index_http_options_from_config(cfg, &fs->ho, err);
    if (rc == PYTI_OK && rss_urls) {
        const char *ix = config_get(cfg, "feed.rss", "index_url");
        pyti_strv urls = PYTI_STRV_INIT;
        strv_split(&urls, rss_urls, " \t\n,");
        double iv;
        rc = interval_of(cfg, "feed.rss", dflt, &iv, err);
        for (size_t i = 0; rc == PYTI_OK && i < urls.len; i++) {
            feed *f = add_feed(fs, FEED_RSS);
            f->url = xstrdup(urls.items[i]);
            f->cursor = xasprintf("rss:%s", urls.items[i]);
            f->interval_s = iv;
        }
        strv_free(&urls);
        fs->index_url = xstrdup(ix ? ix : PYTI_DEFAULT_INDEX);
    }
    if (rc == PYTI_OK && serial_url) {
        const char *start = config_get(cfg, "feed.serial", "start");
        feed *f = add_feed(fs, FEED_SERIAL);
        f->url = xstrdup(serial_url);
        f->cursor = xasprintf("serial:%s", serial_url);
        f->start_now = !start || strcmp(start, "now") == 0;
        if (start && strcmp(start, "now") != 0 && strcmp(start, "beginning") != 0)
            rc = pyti_error_set(err, PYTI_ERR_USAGE, "[feed.serial] start = '%s': expected now or "
                                "beginning", start);
        else
            rc = interval_of(cfg, "feed.serial", dflt, &f->interval_s, err);
        if (!fs->index_url)
            fs->index_url = xstrdup(serial_url);
    }
    if (rc == PYTI_OK && drop) {
        feed *f = add_feed(fs, FEED_DROPDIR);
        f->path = xstrdup(drop);
        f->cursor = xasprintf("dropdir:%s", drop);
        rc = interval_of(cfg, "feed.dropdir", 5, &f->interval_s, err);
        if (rc == PYTI_OK && !path_is_dir(drop))
            rc = pyti_error_set(err, PYTI_ERR_USAGE, "[feed.dropdir] path = '%s': not a directory",
                                drop);
    }
    if (rc == PYTI_OK && !fs->index_url)
        fs->index_url = xstrdup(PYTI_DEFAULT_INDEX);
    if (rc != PYTI_OK || pthread_create(&fs->thread, NULL, feeds_main, fs) != 0) {
        if (rc == PYTI_OK)
            rc = pyti_error_set(err, PYTI_ERR_INTERNAL, "feeds: cannot start a thread");
        feeds_free(fs);
        return rc;
    }
    fs->started = true;
    m->feeds = fs;
    return PYTI_OK;
}

void feeds_stop(pyti_master *m)
{
    struct master_feeds *fs = m->feeds;
    if (!fs)
        return;
    if (fs->started)
        pthread_join(fs->thread, NULL);
    feeds_free(fs);
    m->feeds = NULL;
}
