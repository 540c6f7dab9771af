/* test_worker.c — the worker's side without running jobs: token files,
 * the capabilities it advertises, and the master client (src/worker/
 * client.c) against a real master on loopback (master_start over a
 * SQLite store) and a small file server: calls, retries that give up or
 * stop when told, verified downloads (a wrong hash keeps nothing), and a
 * token that never leaves for another origin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/hash.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "master/master.h"
#include "support.h"
#include "worker/client.h"
#include "worker/worker.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void test_token_files(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    char *p = t_write(dir, "t1", "# comment\n\n  secret-one other\n");
    pyti_error err;
    char *tok = mclient_read_token(p, &err);
    assert_string_equal(tok, "secret-one");
    free(tok);
    free(p);
    p = t_write(dir, "t2", "# only a comment\n");
    assert_null(mclient_read_token(p, &err));
    assert_int_equal(err.code, PYTI_ERR_USAGE);
    free(p);
    assert_null(mclient_read_token("/nonexistent/token", &err));
    assert_int_equal(err.code, PYTI_ERR_NOTFOUND);
}

static void test_capabilities(void **state)
{
    (void)state;
    pyti_strv tags = PYTI_STRV_INIT, py = PYTI_STRV_INIT, rec = PYTI_STRV_INIT;
    strv_push(&tags, "gpu");
    strv_push(&py, "3.11");
    strv_push(&rec, "static");
    worker_options o = {0};
    o.id = "w-7";
    o.slots = 3;
    o.tags = &tags;
    o.pythons = &py;
    o.recipes = &rec;
    o.max_dist_size = 1000;
    json_t *c = worker_capabilities(&o);
    assert_string_equal(json_get_str(c, "id"), "w-7");
    assert_string_equal(json_get_str(c, "os"), "linux");
    assert_non_null(json_get_str(c, "arch"));
    assert_true(json_integer_value(json_object_get(c, "memory_mb")) > 0);
    assert_string_equal(json_string_value(json_array_get(json_object_get(c, "pythons"), 0)), "3.11");
    assert_string_equal(json_string_value(json_array_get(json_object_get(c, "tags"), 0)), "gpu");
    assert_int_equal(json_integer_value(json_object_get(c, "max_dist_size")), 1000);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "info"), "slots")), 3);
    json_decref(c);
    /* Without --python: the interpreters found under /usr/bin. */
    o.pythons = NULL;
    c = worker_capabilities(&o);
    json_t *found = json_object_get(c, "pythons");
    for (size_t i = 0; i < json_array_size(found); i++)
        assert_true(json_string_value(json_array_get(found, i))[0] == '3');
    json_decref(c);
    strv_free(&tags);
    strv_free(&py);
    strv_free(&rec);
}

/* ---- a file server that records what it was sent ---- */

typedef struct file_server {
    struct MHD_Daemon *d;
    unsigned port;
    const char *data;
    size_t len;
    char last_auth[256];
    pthread_mutex_t lock;
} file_server;

static enum MHD_Result serve(void *cls, struct MHD_Connection *c, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **con_cls)
{
    (void)method;
    (void)version;
    (void)upload;
    (void)upload_size;
    file_server *fs = cls;
    static int first;
    if (!*con_cls) {
        *con_cls = &first;
        return MHD_YES;
    }
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    pthread_mutex_lock(&fs->lock);
    snprintf(fs->last_auth, sizeof fs->last_auth, "%s", auth ? auth : "(none)");
    pthread_mutex_unlock(&fs->lock);
    bool found = strcmp(url, "/f/dist.tar.gz") == 0;
    struct MHD_Response *r = MHD_create_response_from_buffer(
        found ? fs->len : 4, (void *)(found ? fs->data : "gone"), MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, found ? 200 : 404, r);
    MHD_destroy_response(r);
    return ret;
}

static void fs_start(file_server *fs, const char *data)
{
    memset(fs, 0, sizeof *fs);
    fs->data = data;
    fs->len = strlen(data);
    pthread_mutex_init(&fs->lock, NULL);
    fs->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, serve, fs,
                             MHD_OPTION_END);
    assert_non_null(fs->d);
    fs->port = MHD_get_daemon_info(fs->d, MHD_DAEMON_INFO_BIND_PORT)->port;
}

static void fs_stop(file_server *fs)
{
    MHD_stop_daemon(fs->d);
    pthread_mutex_destroy(&fs->lock);
}

static void test_download_is_verified_and_token_stays_home(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    file_server fs;
    fs_start(&fs, "the distribution's bytes");
    char sha[65];
    hash_sha256_hex(fs.data, fs.len, sha);
    char *home = xasprintf("http://127.0.0.1:%u", fs.port);
    pyti_error err;
    /* The client's master is this server: the token goes along. */
    mclient *c = mclient_new(home, "tok-123", &err);
    char *url = xasprintf("%s/f/dist.tar.gz", home);
    char *dest = xasprintf("%s/dist.tar.gz", dir);
    assert_int_equal(mclient_download(c, url, dest, sha, 0, &err), PYTI_OK);
    char *got = t_slurp(dest);
    assert_string_equal(got, fs.data);
    free(got);
    assert_string_equal(fs.last_auth, "Bearer tok-123");
    /* A wrong hash: refused, nothing kept. */
    char bad[65];
    memcpy(bad, sha, sizeof bad);
    bad[0] = bad[0] == 'a' ? 'b' : 'a';
    assert_int_equal(mclient_download(c, url, dest, bad, 0, &err), PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "hash mismatch"));
    assert_false(path_exists(dest));
    /* Over the size limit, and gone. */
    assert_int_equal(mclient_download(c, url, dest, sha, 5, &err), PYTI_ERR_LIMIT);
    assert_false(path_exists(dest));
    char *gone = xasprintf("%s/f/other.tar.gz", home);
    assert_int_equal(mclient_download(c, gone, dest, sha, 0, &err), PYTI_ERR_NOTFOUND);
    assert_int_equal(mclient_download(c, "file:///etc/passwd", dest, sha, 0, &err),
                     PYTI_ERR_INPUT);
    mclient_free(c);
    /* Another origin (the same host, another port) never gets the token. */
    c = mclient_new("http://127.0.0.1:9", "tok-123", &err);
    assert_int_equal(mclient_download(c, url, dest, sha, 0, &err), PYTI_OK);
    assert_string_equal(fs.last_auth, "(none)");
    mclient_free(c);
    free(gone);
    free(dest);
    free(url);
    free(home);
    fs_stop(&fs);
}

static volatile sig_atomic_t stop_flag;

static void *raise_flag(void *arg)
{
    (void)arg;
    struct timespec t = {0, 300 * 1000000L};
    nanosleep(&t, NULL);
    stop_flag = 1;
    return NULL;
}

static void test_client_against_a_master(void **state)
{
    (void)state;
    const char *dir = t_tmpdir();
    char *ini = xasprintf("[master]\nadmin_token = adm\nworker_tokens = wrk\nfiles_dir = %s/files\n"
                          "long_poll_max = 2\n", dir);
    char *p = t_write(dir, "pyti.ini", ini);
    pyti_error err;
    pyti_config *cfg = config_load(p, &err);
    assert_non_null(cfg);
    char *db = xasprintf("%s/pyti.db", dir);
    master_options mo = {0};
    mo.listen = "127.0.0.1:0";
    mo.db = db;
    mo.config = cfg;
    pyti_master *m = master_start(&mo, &err);
    if (!m)
        fail_msg("%s", err.msg);
    mclient *c = mclient_new(master_url(m), "wrk", &err);
    json_t *caps = json_pack("{s:[s]}", "pythons", "3.11");
    long status;
    json_t *ans = NULL;
    assert_int_equal(mclient_call(c, "PUT", "/api/v1/workers/unit", caps, 10, &status, &ans,
                                  &err), PYTI_OK);
    assert_int_equal(status, 200);
    assert_int_equal(json_integer_value(json_object_get(ans, "long_poll_max_s")), 2);
    json_decref(ans);
    /* A long poll on an empty queue waits, then answers with nothing. */
    json_t *claim = json_pack("{s:i, s:i}", "max", 1, "wait", 1);
    time_t t0 = time(NULL);
    assert_int_equal(mclient_call(c, "POST", "/api/v1/workers/unit/claim", claim, 10, &status,
                                  &ans, &err), PYTI_OK);
    assert_int_equal(status, 200);
    assert_int_equal(json_array_size(json_object_get(ans, "leases")), 0);
    assert_true(time(NULL) - t0 >= 1);
    json_decref(ans);
    /* A worker token cannot submit; the answer says why. */
    assert_int_equal(mclient_call(c, "POST", "/api/v1/jobs", claim, 10, &status, &ans, &err),
                     PYTI_OK);
    assert_int_equal(status, 403);
    assert_non_null(strstr(mclient_error_text(ans, status), "submit token"));
    json_decref(ans);
    assert_string_equal(mclient_error_text(NULL, 502), "the master answered HTTP 502");
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(mclient_get_text(c, "/metrics", &status, &text, &len, &err), PYTI_OK);
    assert_int_equal(status, 200);
    assert_non_null(strstr(text, "pyti_workers{state=\"idle\"} 1"));
    free(text);
    mclient_free(c);
    master_stop(m);

    /* The master is gone: retries give up after their time... */
    c = mclient_new("http://127.0.0.1:9", "wrk", &err);
    t0 = time(NULL);
    assert_int_equal(mclient_call_retry(c, "GET", "/api/v1", NULL, 5, 1.2, &status, &ans, &err),
                     PYTI_ERR_IO);
    assert_true(time(NULL) - t0 <= 4);
    /* ...or stop as soon as they are told to. */
    stop_flag = 0;
    mclient_set_abort(c, &stop_flag);
    pthread_t th;
    pthread_create(&th, NULL, raise_flag, NULL);
    t0 = time(NULL);
    assert_int_equal(mclient_call_retry(c, "GET", "/api/v1", NULL, 5, -1, &status, &ans, &err),
                     PYTI_ERR_IO);
    assert_true(time(NULL) - t0 <= 3);
    pthread_join(th, NULL);
    mclient_free(c);
    assert_null(mclient_new("ftp://x", NULL, &err));
    json_decref(caps);
    json_decref(claim);
    config_free(cfg);
    free(db);
    free(p);
    free(ini);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_files),
        cmocka_unit_test(test_capabilities),
        cmocka_unit_test(test_download_is_verified_and_token_stays_home),
        cmocka_unit_test(test_client_against_a_master),
    };
    return cmocka_run_group_tests_name("worker", tests, NULL, NULL);
}
