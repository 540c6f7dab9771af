/* honeytoken.c — the decoy home and environment of a job (see
 * honeytoken.h): making realistic bait with fresh random values, saving
 * and loading the list, finding a bait value in bytes a process sent,
 * and noticing reads by access time. */
#include "exec/honeytoken.h"
#include "common/buf.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MANIFEST "honeytokens.json"
#define MIN_FORM 12

static void random_bytes(unsigned char *out, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = getrandom(out + done, n - done, 0);
        if (r > 0)
            done += (size_t)r;
        else if (errno != EINTR)
            abort(); /* the kernel's CSPRNG cannot fail on a running system */
    }
}

/* n characters drawn from alphabet. */
static char *random_text(const char *alphabet, size_t n)
{
    size_t k = strlen(alphabet);
    unsigned char *r = xmalloc(n);
    random_bytes(r, n);
    char *s = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = alphabet[r[i] % k];
    s[n] = '\0';
    free(r);
    return s;
}

static const char ALNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
static const char UPPER32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char B64CH[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char HEX[] = "0123456789abcdef";

static char *b64(const unsigned char *d, size_t n)
{
    char *o = xmalloc(4 * ((n + 2) / 3) + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) |
                     (i + 2 < n ? d[i + 2] : 0);
        o[j++] = B64CH[v >> 18 & 63];
        o[j++] = B64CH[v >> 12 & 63];
        o[j++] = i + 1 < n ? B64CH[v >> 6 & 63] : '=';
        o[j++] = i + 2 < n ? B64CH[v & 63] : '=';
    }
    o[j] = '\0';
    return o;
}

static char *lower_dup(const char *s)
{
    char *l = xstrdup(s);
    for (char *p = l; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return l;
}

/* The searched forms of a value: itself, and its base64 encoding starting
 * at each of the three alignments, without the last (partial) group. */
static void value_forms(pyti_bait_value *v)
{
    strv_push_owned(&v->forms, lower_dup(v->value));
    size_t n = strlen(v->value);
    for (size_t off = 0; off < 3 && off < n; off++) {
        char *e = b64((const unsigned char *)v->value + off, n - off);
        size_t el = strlen(e);
        if (el > 4 + MIN_FORM) {
            e[el - 4] = '\0';
            strv_push_owned(&v->forms, lower_dup(e));
        }
        free(e);
    }
}

static void add_value(pyti_honeytokens *h, const char *value, const char *category,
                      const char *label)
{
    h->values = xreallocarray(h->values, h->n_values + 1, sizeof *h->values);
    pyti_bait_value *v = &h->values[h->n_values++];
    memset(v, 0, sizeof *v);
    v->value = xstrdup(value);
    v->category = xstrdup(category);
    v->label = xstrdup(label);
    value_forms(v);
}

static void add_file(pyti_honeytokens *h, const char *rel, const char *category, const char *label)
{
    h->files = xreallocarray(h->files, h->n_files + 1, sizeof *h->files);
    pyti_bait *b = &h->files[h->n_files++];
    b->path = xasprintf(HONEYTOKEN_HOME "/%s", rel);
    b->category = xstrdup(category);
    b->label = xstrdup(label);
}

static pyti_status write_rel(const char *home, const char *rel, const void *data, size_t len,
                             mode_t mode, pyti_error *err)
{
    char *path = path_join(home, rel);
    char *dir = path_dirname(path);
    pyti_status st = path_mkdirs(dir, 0700, err);
    if (st == PYTI_OK) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0 || write(fd, data, len) != (ssize_t)len)
            st = pyti_error_errno(err, PYTI_ERR_IO, errno, "honeytokens: writing %s", path);
        if (fd >= 0)
            close(fd);
    }
    free(dir);
    free(path);
    return st;
}

static pyti_status write_text(const char *home, const char *rel, const char *text, mode_t mode,
                              pyti_error *err)
{
    return write_rel(home, rel, text, strlen(text), mode, err);
}

/* A small SQLite database like a browser's (Login Data, Cookies). */
static pyti_status write_sqlite(const char *home, const char *rel, const char *sql,
                                pyti_error *err)
{
    char *path = path_join(home, rel);
    char *dir = path_dirname(path);
    pyti_status st = path_mkdirs(dir, 0700, err);
    sqlite3 *db = NULL;
    if (st == PYTI_OK &&
        (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
             SQLITE_OK ||
         /* A scratch file of the job (removed with it): no journal, no
          * fsync — four fdatasyncs per database were ~35 ms of every job
          * on a slow disk. The file format is the same. */
         sqlite3_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", NULL, NULL,
                      NULL) != SQLITE_OK ||
         sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK))
        st = pyti_error_set(err, PYTI_ERR_IO, "honeytokens: creating %s: %s", path,
                            db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    free(dir);
    free(path);
    return st;
}

/* prefix followed by n characters of alphabet (a token like ghp_...). */
static char *token(const char *prefix, const char *alphabet, size_t n)
{
    char *tail = random_text(alphabet, n);
    char *t = xasprintf("%s%s", prefix, tail);
    free(tail);
    return t;
}

/* One bait file: text (taken, freed) written at rel unless *st already
 * failed, listed with its category, and its secret (may be NULL) listed
 * as a value to watch for. */
static void bait(const char *home, pyti_honeytokens *h, pyti_status *st, pyti_error *err,
                 const char *rel, char *text, const char *category, const char *file_label,
                 const char *secret, const char *value_label)
{
    if (*st == PYTI_OK)
        *st = write_text(home, rel, text, 0600, err);
    free(text);
    add_file(h, rel, category, file_label);
    if (secret)
        add_value(h, secret, category, value_label);
}

/* A token only in the environment: NAME=value, watched for. */
static void env_token(pyti_honeytokens *h, const char *name, const char *prefix, size_t n,
                      const char *category, const char *label)
{
    char *v = token(prefix, ALNUM, n);
    strv_push_owned(&h->env, xasprintf("%s=%s", name, v));
    add_value(h, v, category, label);
    free(v);
}

/* An SSH key pair and known hosts. */
static pyti_status seed_ssh(const char *home, pyti_honeytokens *h, pyti_error *err)
{
    pyti_status st = PYTI_OK;
    pyti_buf key = PYTI_BUF_INIT;
    buf_puts(&key, "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABlwAAAAdzc2gtcn\n");
    char *first = NULL;
    for (int i = 0; i < 26; i++) {
        char *line = random_text(B64CH, 70);
        if (!first)
            first = xstrdup(line);
        buf_printf(&key, "%s\n", line);
        free(line);
    }
    buf_puts(&key, "-----END OPENSSH PRIVATE KEY-----\n");
    st = write_rel(home, ".ssh/id_rsa", key.data, key.len, 0600, err);
    buf_free(&key);
    add_value(h, first, "ssh-key", "SSH private key (~/.ssh/id_rsa)");
    free(first);
    char *pub = random_text(B64CH, 372);
    char *pubtext = xasprintf("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ%s dev@workstation\n", pub);
    if (st == PYTI_OK)
        st = write_text(home, ".ssh/id_rsa.pub", pubtext, 0644, err);
    free(pub);
    free(pubtext);
    char *kh1 = random_text(B64CH, 68), *kh2 = random_text(B64CH, 68);
    char *khtext = xasprintf("github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI%s\n"
                             "git.internal.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI%s\n",
                             kh1, kh2);
    if (st == PYTI_OK)
        st = write_text(home, ".ssh/known_hosts", khtext, 0644, err);
    free(kh1);
    free(kh2);
    free(khtext);
    add_file(h, ".ssh/id_rsa", "ssh-key", "SSH private key");
    add_file(h, ".ssh/id_rsa.pub", "ssh-key", "SSH public key");
    add_file(h, ".ssh/known_hosts", "known-hosts", "SSH known hosts");
    return st;
}

/* AWS credentials, also in the environment. */
static pyti_status seed_cloud(const char *home, pyti_honeytokens *h, pyti_error *err)
{
    pyti_status st = PYTI_OK;
    char *akid_tail = random_text(UPPER32, 16);
    char *akid = xasprintf("AKIA%s", akid_tail);
    char *secret = random_text(B64CH, 40);
    char *aws = xasprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", akid,
                          secret);
    if (st == PYTI_OK)
        st = write_text(home, ".aws/credentials", aws, 0600, err);
    if (st == PYTI_OK)
        st = write_text(home, ".aws/config", "[default]\nregion = us-east-1\noutput = json\n", 0644,
                        err);
    strv_push_owned(&h->env, xasprintf("AWS_ACCESS_KEY_ID=%s", akid));
    strv_push_owned(&h->env, xasprintf("AWS_SECRET_ACCESS_KEY=%s", secret));
    strv_push(&h->env, "AWS_DEFAULT_REGION=us-east-1");
    add_value(h, akid, "cloud", "AWS access key id (AWS_ACCESS_KEY_ID, ~/.aws/credentials)");
    add_value(h, secret, "cloud",
              "AWS secret access key (AWS_SECRET_ACCESS_KEY, ~/.aws/credentials)");
    free(akid_tail);
    free(akid);
    free(secret);
    free(aws);
    add_file(h, ".aws/credentials", "cloud", "AWS credentials");
    add_file(h, ".aws/config", "cloud-config", "AWS configuration");
    return st;
}

/* A package index token (~/.pypirc, TWINE_PASSWORD). */
static pyti_status seed_index(const char *home, pyti_honeytokens *h, pyti_error *err)
{
    pyti_status st = PYTI_OK;
    char *pypi = token("pypi-AgEIcHlwaS5vcmc", ALNUM, 64);
    bait(home, h, &st, err, ".pypirc",
         xasprintf("[distutils]\nindex-servers =\n    pypi\n\n[pypi]\nusername = __token__\n"
                   "password = %s\n", pypi),
         "pypi", "package index credentials (~/.pypirc)", pypi,
         "PyPI API token (~/.pypirc, TWINE_PASSWORD)");
    strv_push(&h->env, "TWINE_USERNAME=__token__");
    strv_push_owned(&h->env, xasprintf("TWINE_PASSWORD=%s", pypi));
    free(pypi);
    return st;
}

/* ~/.netrc, git credentials, and CI tokens in the environment. */
static pyti_status seed_git(const char *home, pyti_honeytokens *h, pyti_error *err)
{
    pyti_status st = PYTI_OK;
    char *netpw = token("", ALNUM, 24);
    bait(home, h, &st, err, ".netrc",
         xasprintf("machine api.example-deploy.com\n  login deploy\n  password %s\n", netpw),
         "netrc", "~/.netrc passwords", netpw, "password in ~/.netrc");
    free(netpw);
    char *ghp = token("ghp_", ALNUM, 36);
    bait(home, h, &st, err, ".git-credentials",
         xasprintf("https://dev-eloper:%s@github.com\n", ghp), "git", "git credentials", ghp,
         "GitHub token (~/.git-credentials)");
    free(ghp);
    env_token(h, "GITHUB_TOKEN", "ghp_", 36, "ci", "GITHUB_TOKEN (environment)");
    env_token(h, "NPM_TOKEN", "npm_", 36, "ci", "NPM_TOKEN (environment)");
    return st;
}

/* Docker and Kubernetes credentials. */
static pyti_status seed_containers(const char *home, pyti_honeytokens *h, pyti_error *err)
{
    pyti_status st = PYTI_OK;
    char *pat = token("dev-eloper:dckr_pat_", ALNUM, 27);
    char *dauth = b64((const unsigned char *)pat, strlen(pat));
    bait(home, h, &st, err, ".docker/config.json",
         xasprintf("{\n\t\"auths\": {\n\t\t\"https://index.docker.io/v1/\": {\n\t\t\t"
                   "\"auth\": \"%s\"\n\t\t}\n\t}\n}\n", dauth),
         "docker", "Docker registry credentials", dauth,
         "Docker registry auth (~/.docker/config.json)");
    free(pat);
    free(dauth);
    char *j1 = token("", ALNUM, 36), *j2 = token("", ALNUM, 120), *j3 = token("", ALNUM, 43);
    char *kt = xasprintf("eyJhbGciOiJSUzI1NiIsImtpZCI6I%s.eyJpc3MiOiJrdWJlcm5ldGVz%s.%s", j1, j2, j3);
    bait(home, h, &st, err, ".kube/config",
         xasprintf("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: "
                   "https://k8s.internal.example.com:6443\n  name: prod\ncontexts:\n"
                   "- context:\n    cluster: prod\n    user: deployer\n  name: prod\n"
                   "current-context: prod\nusers:\n- name: deployer\n  user:\n"
                   "    token: %s\n", kt),
         "kube", "Kubernetes credentials", kt, "Kubernetes token (~/.kube/config)");
    free(j1);
    free(j2);
    free(j3);
    free(kt);
    return st;
}

/* Chrome's saved passwords, cookies and key store; Firefox's logins. */
static pyti_status seed_browsers(const char *home, pyti_honeytokens *h, pyti_error *err)
{
    pyti_status st = PYTI_OK;
    char *pw = random_text(ALNUM, 20);
    char *sql = xasprintf("CREATE TABLE logins(origin_url TEXT, username_value TEXT, "
                          "password_value BLOB, date_created INTEGER);"
                          "INSERT INTO logins VALUES('https://accounts.example.com/', "
                          "'dev@example.org', CAST('v10%s' AS BLOB), 13300000000000000);",
                          pw);
    if (st == PYTI_OK)
        st = write_sqlite(home, ".config/google-chrome/Default/Login Data", sql, err);
    free(sql);
    add_value(h, pw, "browser", "saved browser password (Chrome Login Data)");
    free(pw);
    char *ck = random_text(ALNUM, 32);
    sql = xasprintf("CREATE TABLE cookies(host_key TEXT, name TEXT, value TEXT, "
                    "encrypted_value BLOB, path TEXT, expires_utc INTEGER);"
                    "INSERT INTO cookies VALUES('.example.com', 'session', '', "
                    "CAST('v10%s' AS BLOB), '/', 13400000000000000);", ck);
    if (st == PYTI_OK)
        st = write_sqlite(home, ".config/google-chrome/Default/Cookies", sql, err);
    free(sql);
    add_value(h, ck, "browser", "browser session cookie (Chrome Cookies)");
    free(ck);
    unsigned char raw[32];
    random_bytes(raw, sizeof raw);
    char *ek = b64(raw, sizeof raw);
    char *ls = xasprintf("{\"os_crypt\":{\"encrypted_key\":\"RFBBUEk%s\"},"
                         "\"profile\":{\"info_cache\":{\"Default\":{\"name\":\"Person 1\"}}}}\n",
                         ek);
    if (st == PYTI_OK)
        st = write_text(home, ".config/google-chrome/Local State", ls, 0600, err);
    free(ek);
    free(ls);
    add_file(h, ".config/google-chrome/Default/Login Data", "browser", "Chrome saved passwords");
    add_file(h, ".config/google-chrome/Default/Cookies", "browser", "Chrome cookies");
    add_file(h, ".config/google-chrome/Local State", "browser", "Chrome key store (Local State)");
    char *prof = token("", "abcdefghijklmnopqrstuvwxyz0123456789", 8);
    char *fx_rel = xasprintf(".mozilla/firefox/%s.default-release/logins.json", prof);
    char *fx_user = token("", B64CH, 64), *fx_pw = token("", B64CH, 64);
    bait(home, h, &st, err, fx_rel,
         xasprintf("{\"nextId\":2,\"logins\":[{\"id\":1,\"hostname\":\"https://mail.example.com\","
                   "\"encryptedUsername\":\"MDoEEPgAAAAA%s\",\"encryptedPassword\":"
                   "\"MEIEEPgAAAAA%s\",\"encType\":1}]}\n", fx_user, fx_pw),
         "browser", "Firefox saved logins", fx_pw, "Firefox saved login (logins.json)");
    free(prof);
    free(fx_rel);
    free(fx_user);
    free(fx_pw);
    return st;
}

/* A Discord token store. */
static pyti_status seed_discord(const char *home, pyti_honeytokens *h, pyti_error *err)
{
    pyti_status st = PYTI_OK;
    char *d1 = token("", ALNUM, 24), *d2 = token("", ALNUM, 6), *d3 = token("", ALNUM, 38);
    char *dtok = xasprintf("%s.%s.%s", d1, d2, d3);
    bait(home, h, &st, err, ".config/discord/Local Storage/leveldb/000005.ldb",
         xasprintf("\x01\x02_https://discord.com\x01\x01token\x01\"%s\"\n", dtok), "discord",
         "Discord token store", dtok, "Discord token (Local Storage leveldb)");
    free(d1);
    free(d2);
    free(d3);
    free(dtok);
    return st;
}

/* Crypto wallets. */
static pyti_status seed_wallets(const char *home, pyti_honeytokens *h, pyti_error *err)
{
    pyti_status st = PYTI_OK;
    static const char *const words[] = {"abandon", "ladder", "orbit", "velvet", "sugar",
                                        "canyon", "mirror", "tribe", "hollow", "quantum",
                                        "ember", "walnut"};
    unsigned char wr[12];
    random_bytes(wr, sizeof wr);
    pyti_buf seed = PYTI_BUF_INIT;
    for (int i = 0; i < 12; i++)
        buf_printf(&seed, "%s%s", i ? " " : "", words[wr[i] % 12]);
    char *xprv = token("", B64CH, 100);
    bait(home, h, &st, err, ".electrum/wallets/default_wallet",
         xasprintf("{\"keystore\": {\"type\": \"bip32\", \"xprv\": \"xprv9s21ZrQH143K%s\", "
                   "\"seed\": \"%s\"}, \"wallet_type\": \"standard\", \"seed_version\": 18}\n",
                   xprv, buf_cstr(&seed)),
         "wallet", "Electrum wallet", xprv, "Electrum wallet key (~/.electrum)");
    buf_free(&seed);
    free(xprv);
    unsigned char blob[512];
    random_bytes(blob, sizeof blob);
    memcpy(blob + 12, "b1\x05\x00\x00\x00", 6); /* a Berkeley DB-looking header */
    if (st == PYTI_OK)
        st = write_rel(home, ".bitcoin/wallet.dat", blob, sizeof blob, 0600, err);
    random_bytes(blob, sizeof blob);
    memcpy(blob, "SECO", 4);
    if (st == PYTI_OK)
        st = write_rel(home, ".config/Exodus/exodus.wallet/seed.seco", blob, 256, 0600, err);
    add_file(h, ".bitcoin/wallet.dat", "wallet", "Bitcoin Core wallet");
    add_file(h, ".config/Exodus/exodus.wallet/seed.seco", "wallet", "Exodus wallet seed");
    char *addr = token("", HEX, 40), *ct = token("", HEX, 64);
    char *eth_rel = xasprintf(".ethereum/keystore/UTC--2024-03-14T09-26-53.123456789Z--%s", addr);
    bait(home, h, &st, err, eth_rel,
         xasprintf("{\"address\":\"%s\",\"crypto\":{\"cipher\":\"aes-128-ctr\","
                   "\"ciphertext\":\"%s\",\"kdf\":\"scrypt\"},\"version\":3}\n", addr, ct),
         "wallet", "Ethereum keystore", ct, "Ethereum keystore (~/.ethereum/keystore)");
    free(addr);
    free(ct);
    free(eth_rel);
    return st;
}

static pyti_status seed_files(const char *home, pyti_honeytokens *h, pyti_error *err)
{
    pyti_status st = PYTI_OK;
    /* Ordinary files, so the home looks lived in (and so changes to the
     * start-up files are changes, not creations). */
    st = write_text(home, ".bashrc", "# ~/.bashrc\n[ -z \"$PS1\" ] && return\nHISTCONTROL=ignoreboth\n"
                    "alias ll='ls -l'\n", 0644, err);
    if (st == PYTI_OK)
        st = write_text(home, ".profile", "# ~/.profile\nif [ -n \"$BASH_VERSION\" ]; then\n"
                        "    . \"$HOME/.bashrc\"\nfi\nPATH=\"$HOME/.local/bin:$PATH\"\n", 0644, err);
    if (st == PYTI_OK)
        st = write_text(home, ".gitconfig", "[user]\n\tname = Dev Eloper\n\temail = dev@example.org\n"
                        "[credential]\n\thelper = store\n", 0644, err);
    if (st == PYTI_OK)
        st = seed_ssh(home, h, err);
    if (st == PYTI_OK)
        st = seed_cloud(home, h, err);
    if (st == PYTI_OK)
        st = seed_index(home, h, err);
    if (st == PYTI_OK)
        st = seed_git(home, h, err);
    if (st == PYTI_OK)
        st = seed_containers(home, h, err);
    if (st == PYTI_OK)
        st = seed_browsers(home, h, err);
    if (st == PYTI_OK)
        st = seed_discord(home, h, err);
    if (st == PYTI_OK)
        st = seed_wallets(home, h, err);
    return st;
}

static char *host_path(const pyti_honeytokens *h, const pyti_bait *b)
{
    return path_join(h->home, b->path + strlen(HONEYTOKEN_HOME) + 1);
}

/* Access times go back two days, modification times one: any read moves
 * the access time (relatime updates an access time older than the
 * modification time). */
static void reset_atime(const pyti_honeytokens *h, const pyti_bait *b)
{
    char *p = host_path(h, b);
    struct timespec ts[2] = {h->atime, {h->atime.tv_sec + 86400, 0}};
    utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
    free(p);
}

pyti_status honeytokens_seed(const char *dir, pyti_honeytokens *h, pyti_error *err)
{
    memset(h, 0, sizeof *h);
    h->home = xstrdup(dir);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    h->atime.tv_sec = now.tv_sec - 2 * 86400;
    pyti_status st = seed_files(dir, h, err);
    if (st != PYTI_OK) {
        honeytokens_free(h);
        return st;
    }
    for (size_t i = 0; i < h->n_files; i++)
        reset_atime(h, &h->files[i]);
    return PYTI_OK;
}

static json_t *to_json(const pyti_honeytokens *h)
{
    json_t *o = json_object();
    json_t *files = json_array(), *values = json_array(), *env = json_array();
    for (size_t i = 0; i < h->n_files; i++) {
        json_t *f = json_object();
        json_set_text(f, "path", h->files[i].path);
        json_set_text(f, "category", h->files[i].category);
        json_set_text(f, "label", h->files[i].label);
        json_array_append_new(files, f);
    }
    for (size_t i = 0; i < h->n_values; i++) {
        json_t *v = json_object();
        json_set_text(v, "value", h->values[i].value);
        json_set_text(v, "category", h->values[i].category);
        json_set_text(v, "label", h->values[i].label);
        json_array_append_new(values, v);
    }
    for (size_t i = 0; i < h->env.len; i++)
        json_array_append_new(env, json_string(h->env.items[i]));
    json_object_set_new(o, "files", files);
    json_object_set_new(o, "values", values);
    json_object_set_new(o, "env", env);
    json_object_set_new(o, "atime", json_integer((json_int_t)h->atime.tv_sec));
    return o;
}

static bool from_json(const json_t *o, const char *home, pyti_honeytokens *h)
{
    memset(h, 0, sizeof *h);
    h->home = xstrdup(home);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(o, "files"), i, e) {
        const char *p = json_get_str(e, "path"), *c = json_get_str(e, "category"),
                   *l = json_get_str(e, "label");
        if (!p || !c || !l || strncmp(p, HONEYTOKEN_HOME "/", strlen(HONEYTOKEN_HOME) + 1))
            return false;
        h->files = xreallocarray(h->files, h->n_files + 1, sizeof *h->files);
        h->files[h->n_files++] = (pyti_bait){xstrdup(p), xstrdup(c), xstrdup(l)};
    }
    json_array_foreach(json_object_get(o, "values"), i, e) {
        const char *v = json_get_str(e, "value"), *c = json_get_str(e, "category"),
                   *l = json_get_str(e, "label");
        if (!v || !c || !l)
            return false;
        add_value(h, v, c, l);
    }
    json_array_foreach(json_object_get(o, "env"), i, e) {
        if (!json_is_string(e))
            return false;
        strv_push(&h->env, json_string_value(e));
    }
    h->atime.tv_sec = (time_t)json_integer_value(json_object_get(o, "atime"));
    return h->n_files > 0;
}

/* Creates the decoy home and manifest, or loads them; the caller holds
 * the job's lock. */
static pyti_status prepare_locked(const char *home, const char *manifest, pyti_honeytokens *h,
                                  pyti_error *err)
{
    pyti_status st = PYTI_OK;
    if (path_exists(manifest)) {
        pyti_error rerr;
        json_t *o = json_read_file(manifest, 4u << 20, &rerr);
        if (!o || !from_json(o, home, h)) {
            honeytokens_free(h);
            st = pyti_error_set(err, PYTI_ERR_IO, "honeytokens: %s is unusable", manifest);
        }
        json_decref(o);
        return st;
    }
    /* A home without a manifest is what a seeder killed half-way left
     * (no package code ever saw it): start again. */
    struct stat sb;
    if (lstat(home, &sb) == 0 && path_rmtree(home, err) != PYTI_OK)
        return PYTI_ERR_IO;
    if (mkdir(home, 0700) != 0)
        return pyti_error_errno(err, PYTI_ERR_IO, errno, "honeytokens: creating %s", home);
    st = honeytokens_seed(home, h, err);
    if (st == PYTI_OK) {
        /* Removed with the job: written without fsync. */
        json_t *o = to_json(h);
        char *text = json_dump_pretty(o);
        st = path_write_file_scratch(manifest, text, strlen(text), err);
        free(text);
        json_decref(o);
        if (st != PYTI_OK)
            honeytokens_free(h);
    }
    return st;
}

pyti_status honeytokens_prepare(const pyti_job *job, pyti_honeytokens *h, pyti_error *err)
{
    /* The job directory's flock orders the first call against a seeder
     * (honeytokens_prepare_async) still at work: one seeds, the other
     * waits and loads. */
    int lock = open(job->job_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lock < 0)
        return pyti_error_errno(err, PYTI_ERR_IO, errno, "honeytokens: opening %s", job->job_dir);
    while (flock(lock, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int e = errno;
            close(lock);
            return pyti_error_errno(err, PYTI_ERR_IO, e, "honeytokens: locking %s", job->job_dir);
        }
    }
    char *home = path_join(job->job_dir, "home");
    char *manifest = path_join(job->job_dir, MANIFEST);
    pyti_status st = prepare_locked(home, manifest, h, err);
    free(home);
    free(manifest);
    close(lock); /* releases the lock */
    return st;
}

pid_t honeytokens_prepare_async(const pyti_job *job)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return pid; /* -1: the first traced run seeds, as without a seeder */
    pyti_honeytokens h;
    pyti_error err;
    int rc = honeytokens_prepare(job, &h, &err) == PYTI_OK ? 0 : 1;
    if (rc == 0)
        honeytokens_free(&h);
    _exit(rc);
}

void honeytokens_prepare_wait(pid_t pid)
{
    while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

void honeytokens_free(pyti_honeytokens *h)
{
    free(h->home);
    for (size_t i = 0; i < h->n_files; i++) {
        free(h->files[i].path);
        free(h->files[i].category);
        free(h->files[i].label);
    }
    free(h->files);
    for (size_t i = 0; i < h->n_values; i++) {
        free(h->values[i].value);
        free(h->values[i].category);
        free(h->values[i].label);
        strv_free(&h->values[i].forms);
    }
    free(h->values);
    strv_free(&h->env);
    memset(h, 0, sizeof *h);
}

const pyti_bait *honeytokens_file(const pyti_honeytokens *h, const char *path)
{
    if (!path || strncmp(path, HONEYTOKEN_HOME "/", strlen(HONEYTOKEN_HOME) + 1) != 0)
        return NULL;
    for (size_t i = 0; i < h->n_files; i++)
        if (strcmp(h->files[i].path, path) == 0)
            return &h->files[i];
    return NULL;
}

const pyti_bait_value *honeytokens_find_value(const pyti_honeytokens *h, const void *data,
                                              size_t len)
{
    if (!data || len < MIN_FORM)
        return NULL;
    char *low = xmalloc(len);
    const unsigned char *d = data;
    for (size_t i = 0; i < len; i++)
        low[i] = (char)(d[i] >= 'A' && d[i] <= 'Z' ? d[i] - 'A' + 'a' : d[i]);
    const pyti_bait_value *hit = NULL;
    for (size_t i = 0; i < h->n_values && !hit; i++)
        for (size_t k = 0; k < h->values[i].forms.len && !hit; k++) {
            const char *f = h->values[i].forms.items[k];
            if (strlen(f) >= MIN_FORM && memmem(low, len, f, strlen(f)))
                hit = &h->values[i];
        }
    free(low);
    return hit;
}

void honeytokens_check_reads(const pyti_honeytokens *h, pyti_strv *read)
{
    for (size_t i = 0; i < h->n_files; i++) {
        char *p = host_path(h, &h->files[i]);
        struct stat st;
        if (lstat(p, &st) == 0 && st.st_atim.tv_sec != h->atime.tv_sec) {
            strv_push(read, h->files[i].path);
            reset_atime(h, &h->files[i]);
        }
        free(p);
    }
}
