/* settings.c — the master's settings: [master] of pyti.ini (listen
 * address, public URL, limits, the files directory, tokens) and the
 * project allow/deny lists of [feeds]; the default token files made on
 * first start when no token is configured. */
#include "master/master_internal.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/path.h"
#include "common/str.h"
#include "common/xalloc.h"
#include "pkg/name.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const master_keys[] = {
    "listen", "public_url", "public_read", "max_body", "max_result", "max_upload",
    "files_dir", "long_poll_max", "lease", "reap_interval", "connection_limit",
    "admin_token", "admin_token_file", "worker_tokens", "worker_token_file",
    "submit_tokens", "submit_token_file", "max_attempts", "retry_backoff", NULL,
};

#define TOKEN_FILE_MAX 65536

/* Adds the whitespace-separated tokens of text (lines starting with '#'
 * are comments). */
static size_t add_tokens_text(master_settings *st, const char *text, master_role role)
{
    size_t n = 0;
    pyti_strv lines = PYTI_STRV_INIT;
    strv_split(&lines, text, "\n");
    for (size_t i = 0; i < lines.len; i++) {
        if (lines.items[i][0] == '#')
            continue;
        pyti_strv words = PYTI_STRV_INIT;
        strv_split(&words, lines.items[i], " \t\r,");
        for (size_t k = 0; k < words.len; k++, n++)
            master_settings_add_token(st, words.items[k], role);
        strv_free(&words);
    }
    strv_free(&lines);
    return n;
}

static pyti_status add_tokens_file(master_settings *st, const char *path, master_role role,
                                   const char *what, size_t *n, pyti_error *err)
{
    pyti_buf b = PYTI_BUF_INIT;
    if (path_read_file(path, TOKEN_FILE_MAX, &b, err) != PYTI_OK) {
        buf_free(&b);
        return pyti_error_prefix(err, "[master] %s", what);
    }
    struct stat sb;
    if (stat(path, &sb) == 0 && (sb.st_mode & 077))
        log_warn("token file %s can be read by other users (chmod 600 it)", path);
    *n += add_tokens_text(st, buf_cstr(&b), role);
    buf_free(&b);
    return PYTI_OK;
}

/* Reads the token file at path, or makes it with a fresh random token
 * (mode 0600) when it does not exist. */
static pyti_status default_token_file(master_settings *st, const char *path, master_role role,
                                      bool *made, pyti_error *err)
{
    *made = false;
    if (!path_exists(path)) {
        char *dir = path_dirname(path);
        pyti_status rc = path_mkdirs(dir, 0700, err);
        free(dir);
        if (rc != PYTI_OK)
            return rc;
        unsigned char raw[24];
        if (RAND_bytes(raw, sizeof raw) != 1)
            return pyti_error_set(err, PYTI_ERR_INTERNAL, "no random bytes for a token");
        char tok[2 * sizeof raw + 2];
        for (size_t i = 0; i < sizeof raw; i++)
            snprintf(tok + 2 * i, 3, "%02x", raw[i]);
        strcat(tok, "\n");
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            ssize_t w = write(fd, tok, strlen(tok));
            int e = errno;
            close(fd);
            if (w != (ssize_t)strlen(tok)) {
                unlink(path);
                return pyti_error_errno(err, PYTI_ERR_IO, e, "writing token file %s", path);
            }
            *made = true;
        } else if (errno != EEXIST) {
            return pyti_error_errno(err, PYTI_ERR_IO, errno, "creating token file %s", path);
        }
    }
    size_t n = 0;
    return add_tokens_file(st, path, role, "token file", &n, err);
}

static pyti_status load_role(const pyti_config *cfg, master_settings *st, const char *inline_key,
                             const char *file_key, master_role role, size_t *n, pyti_error *err)
{
    const char *v = config_get(cfg, "master", inline_key);
    if (v)
        *n += add_tokens_text(st, v, role);
    const char *f = config_get(cfg, "master", file_key);
    if (f && add_tokens_file(st, f, role, file_key, n, err) != PYTI_OK)
        return err ? err->code : PYTI_ERR_IO;
    return PYTI_OK;
}

static pyti_status get_bounded(const pyti_config *cfg, const char *key, unsigned long long *out,
                               unsigned long long min, unsigned long long max, pyti_error *err)
{
    uint64_t v = *out;
    if (config_get_u64(cfg, "master", key, &v, err) != PYTI_OK)
        return PYTI_ERR_USAGE;
    if (v < min || v > max)
        return pyti_error_set(err, PYTI_ERR_USAGE, "%s: [master] %s = %llu: expected %llu..%llu",
                              config_path(cfg) ? config_path(cfg) : "settings", key,
                              (unsigned long long)v, min, max);
    *out = v;
    return PYTI_OK;
}

pyti_status master_settings_load(const pyti_config *cfg, const char *extra_worker_token,
                                 master_settings *st, pyti_error *err)
{
    memset(st, 0, sizeof *st);
    st->public_read = true;
    st->max_body = 8u << 20;
    st->max_result = 96u << 20;
    st->max_upload = 512u << 20;
    st->long_poll_max_s = 30;
    st->lease_s = 60;
    st->reap_interval_s = 5;
    st->connection_limit = 512;
    st->max_attempts = 3;
    st->retry_backoff_s = 10;
    if (config_check_keys(cfg, "master", master_keys, err) != PYTI_OK)
        goto fail;
    const char *v = config_get(cfg, "master", "listen");
    st->listen = xstrdup(v ? v : "127.0.0.1:8080");
    v = config_get(cfg, "master", "public_url");
    if (v) {
        if (!str_startswith(v, "http://") && !str_startswith(v, "https://")) {
            pyti_error_set(err, PYTI_ERR_USAGE,
                           "[master] public_url '%s': expected an http:// or https:// URL", v);
            goto fail;
        }
        st->public_url = xstrdup(v);
        size_t n = strlen(st->public_url);
        while (n > 0 && st->public_url[n - 1] == '/')
            st->public_url[--n] = '\0';
    }
    if (config_get_bool(cfg, "master", "public_read", &st->public_read, err) != PYTI_OK ||
        config_get_u64(cfg, "master", "max_body", &st->max_body, err) != PYTI_OK ||
        config_get_u64(cfg, "master", "max_result", &st->max_result, err) != PYTI_OK ||
        config_get_u64(cfg, "master", "max_upload", &st->max_upload, err) != PYTI_OK ||
        get_bounded(cfg, "long_poll_max", &st->long_poll_max_s, 0, 600, err) != PYTI_OK ||
        get_bounded(cfg, "lease", &st->lease_s, 5, 86400, err) != PYTI_OK ||
        get_bounded(cfg, "reap_interval", &st->reap_interval_s, 1, 3600, err) != PYTI_OK ||
        get_bounded(cfg, "connection_limit", &st->connection_limit, 8, 65536, err) != PYTI_OK ||
        get_bounded(cfg, "max_attempts", &st->max_attempts, 1, 100, err) != PYTI_OK ||
        get_bounded(cfg, "retry_backoff", &st->retry_backoff_s, 0, 86400, err) != PYTI_OK)
        goto fail;
    v = config_get(cfg, "master", "files_dir");
    if (v) {
        st->files_dir = xstrdup(v);
    } else {
        char *data = path_xdg_data_home();
        st->files_dir = xasprintf("%s/pyti/files", data);
        free(data);
    }

    size_t nadmin = 0, nworker = 0, nsubmit = 0;
    if (load_role(cfg, st, "admin_token", "admin_token_file", ROLE_ADMIN, &nadmin, err) ||
        load_role(cfg, st, "worker_tokens", "worker_token_file", ROLE_WORKER, &nworker, err) ||
        load_role(cfg, st, "submit_tokens", "submit_token_file", ROLE_SUBMIT, &nsubmit, err))
        goto fail;
    /* No token configured: the single-machine set-up. Tokens in files of
     * the user's configuration directory, made once, which pyti submit,
     * pyti jobs --master and pyti worker read by default. */
    char *cfgdir = path_xdg_config_home();
    if (nadmin == 0) {
        char *p = xasprintf("%s/pyti/admin.token", cfgdir);
        bool made;
        if (default_token_file(st, p, ROLE_ADMIN, &made, err) != PYTI_OK) {
            free(p);
            free(cfgdir);
            goto fail;
        }
        st->generated_token_file = p;
        if (made)
            log_info("no admin token configured: made %s", p);
    }
    if (nworker == 0) {
        char *p = xasprintf("%s/pyti/worker.token", cfgdir);
        bool made;
        pyti_status rc = default_token_file(st, p, ROLE_WORKER, &made, err);
        if (rc == PYTI_OK && made)
            log_info("no worker token configured: made %s", p);
        free(p);
        if (rc != PYTI_OK) {
            free(cfgdir);
            goto fail;
        }
    }
    free(cfgdir);
    if (extra_worker_token)
        master_settings_add_token(st, extra_worker_token, ROLE_WORKER);

    const char *lists[2] = {config_get(cfg, "feeds", "allow"), config_get(cfg, "feeds", "deny")};
    for (int i = 0; i < 2; i++) {
        pyti_strv raw = PYTI_STRV_INIT;
        if (lists[i])
            strv_split(&raw, lists[i], " \t\n,");
        for (size_t k = 0; k < raw.len; k++)
            strv_push_owned(i ? &st->deny : &st->allow, name_normalize(raw.items[k]));
        strv_free(&raw);
    }
    return PYTI_OK;
fail:
    master_settings_free(st);
    return err ? (err->code ? err->code : PYTI_ERR_USAGE) : PYTI_ERR_USAGE;
}

void master_settings_free(master_settings *st)
{
    free(st->listen);
    free(st->public_url);
    free(st->files_dir);
    free(st->tokens);
    free(st->generated_token_file);
    strv_free(&st->allow);
    strv_free(&st->deny);
    memset(st, 0, sizeof *st);
}

static bool list_matches(const pyti_strv *list, const char *norm)
{
    for (size_t i = 0; i < list->len; i++)
        if (fnmatch(list->items[i], norm, 0) == 0)
            return true;
    return false;
}

bool master_project_allowed(const master_settings *st, const char *project)
{
    char *norm = name_normalize(project ? project : "");
    bool ok = !list_matches(&st->deny, norm) && (st->allow.len == 0 || list_matches(&st->allow, norm));
    free(norm);
    return ok;
}
