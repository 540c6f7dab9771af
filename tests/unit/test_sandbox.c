/* test_sandbox.c — unit tests for src/sandbox: size and duration parsing,
 * spec validation, inside paths and the mount plan, the seccomp rule table
 * and notification classification, cgroup file parsing, the disk walk,
 * the probe, the result's JSON, and one real run in-process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/xalloc.h"
#include "sandbox/sandbox.h"
#include "sandbox/sandbox_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void test_parse_size(void **state)
{
    uint64_t v;
    pyti_error err;
    assert_int_equal(sandbox_parse_size("512", &v, &err), PYTI_OK);
    assert_int_equal(v, 512);
    assert_int_equal(sandbox_parse_size("4K", &v, &err), PYTI_OK);
    assert_int_equal(v, 4096);
    assert_int_equal(sandbox_parse_size("2G", &v, &err), PYTI_OK);
    assert_int_equal(v, (uint64_t)2 << 30);
    assert_int_equal(sandbox_parse_size("3MiB", &v, &err), PYTI_OK);
    assert_int_equal(v, (uint64_t)3 << 20);
    assert_int_equal(sandbox_parse_size("1mb", &v, &err), PYTI_OK);
    assert_int_equal(v, (uint64_t)1 << 20);
    assert_int_equal(sandbox_parse_size("", &v, &err), PYTI_ERR_USAGE);
    assert_int_equal(sandbox_parse_size("-1", &v, &err), PYTI_ERR_USAGE);
    assert_int_equal(sandbox_parse_size("12X", &v, &err), PYTI_ERR_USAGE);
    assert_non_null(strstr(err.msg, "12X"));
    assert_int_equal(sandbox_parse_size("99999999999T", &v, &err), PYTI_ERR_USAGE);
    assert_int_equal(sandbox_parse_size("99999999999999999999999", &v, &err), PYTI_ERR_USAGE);
}

static void test_parse_duration(void **state)
{
    double d;
    pyti_error err;
    assert_int_equal(sandbox_parse_duration("1.5", &d, &err), PYTI_OK);
    assert_true(d == 1.5);
    assert_int_equal(sandbox_parse_duration("2m", &d, &err), PYTI_OK);
    assert_true(d == 120);
    assert_int_equal(sandbox_parse_duration("1h", &d, &err), PYTI_OK);
    assert_true(d == 3600);
    assert_int_equal(sandbox_parse_duration("10s", &d, &err), PYTI_OK);
    assert_int_equal(sandbox_parse_duration("0", &d, &err), PYTI_ERR_USAGE);
    assert_int_equal(sandbox_parse_duration("abc", &d, &err), PYTI_ERR_USAGE);
    assert_int_equal(sandbox_parse_duration("nan", &d, &err), PYTI_ERR_USAGE);
    assert_int_equal(sandbox_parse_duration("1e300", &d, &err), PYTI_ERR_USAGE);
    assert_int_equal(sandbox_parse_duration("5x", &d, &err), PYTI_ERR_USAGE);
}

static void test_spec_check(void **state)
{
    pyti_sandbox_spec s;
    pyti_error err;
    sandbox_spec_init(&s);
    assert_int_equal(s.stdin_fd, -1);
    assert_int_equal(sandbox_spec_check(&s, &err), PYTI_ERR_USAGE);
    assert_non_null(strstr(err.msg, "no command"));
    char *argv[] = {"true", NULL};
    s.argv = argv;
    assert_int_equal(sandbox_spec_check(&s, &err), PYTI_OK);
    s.cwd = "relative";
    assert_int_equal(sandbox_spec_check(&s, &err), PYTI_ERR_USAGE);
    s.cwd = NULL;
    s.hostname = "bad host";
    assert_int_equal(sandbox_spec_check(&s, &err), PYTI_ERR_USAGE);
    s.hostname = "ok-host.example";
    assert_int_equal(sandbox_spec_check(&s, &err), PYTI_OK);
    s.limits.memory_bytes = 1000;
    assert_int_equal(sandbox_spec_check(&s, &err), PYTI_ERR_USAGE);
    s.limits.memory_bytes = 0;
    s.limits.timeout_s = -1;
    assert_int_equal(sandbox_spec_check(&s, &err), PYTI_ERR_USAGE);
    s.limits.timeout_s = 0;
    pyti_sandbox_mount m[] = {{SANDBOX_MOUNT_BIND, NULL, "/x", 0}};
    s.mounts = m;
    s.n_mounts = 1;
    assert_int_equal(sandbox_spec_check(&s, &err), PYTI_ERR_USAGE);
    assert_non_null(strstr(err.msg, "no source"));
    m[0] = (pyti_sandbox_mount){SANDBOX_MOUNT_TMPFS, NULL, "/a/../b", 0};
    assert_int_equal(sandbox_spec_check(&s, &err), PYTI_ERR_USAGE);
    s.n_mounts = 0;
    char *envp[] = {"NOEQUALS", NULL};
    s.envp = envp;
    assert_int_equal(sandbox_spec_check(&s, &err), PYTI_ERR_USAGE);
}

static void test_inside_path(void **state)
{
    char *p = sb_inside_path("//a///b/");
    assert_string_equal(p, "/a/b");
    free(p);
    assert_null(sb_inside_path("/"));
    assert_null(sb_inside_path("a/b"));
    assert_null(sb_inside_path("/a/../b"));
    assert_null(sb_inside_path("/a/./b"));
    assert_null(sb_inside_path(NULL));
    p = sb_inside_path("/a/..b/.c");
    assert_string_equal(p, "/a/..b/.c");
    free(p);
}

static const sb_op *find_op(const sb_plan *plan, const char *dst)
{
    for (size_t i = 0; i < plan->n; i++)
        if (strcmp(plan->ops[i].dst, dst) == 0)
            return &plan->ops[i];
    return NULL;
}

static void test_plan_build(void **state)
{
    char *dir = t_tmpdir();
    pyti_sandbox_spec s;
    sandbox_spec_init(&s);
    char *argv[] = {"true", NULL};
    s.argv = argv;
    s.hostname = "boxname";
    pyti_sandbox_mount m[] = {
        {SANDBOX_MOUNT_RO_BIND, dir, "/input", 0},
        {SANDBOX_MOUNT_BIND, dir, "/work/", 0},
        {SANDBOX_MOUNT_TMPFS, NULL, "/scratch", 0},
        {SANDBOX_MOUNT_DIR, NULL, "/empty", 0},
    };
    s.mounts = m;
    s.n_mounts = 4;
    sb_plan plan;
    pyti_error err;
    assert_int_equal(sb_plan_build(&s, 5 << 20, &plan, &err), PYTI_OK);
    const sb_op *op = find_op(&plan, "/usr");
    assert_non_null(op);
    assert_int_equal(op->kind, SB_OP_BIND);
    assert_true(op->ro);
    assert_false(op->disk);
    assert_non_null(find_op(&plan, "/proc"));
    op = find_op(&plan, "/proc/sys");
    assert_non_null(op);
    assert_int_equal(op->kind, SB_OP_RO_REMOUNT);
    assert_int_equal(find_op(&plan, "/proc/kcore")->kind, SB_OP_MASK);
    op = find_op(&plan, "/etc/hosts");
    assert_non_null(op);
    assert_non_null(strstr(op->data, "127.0.1.1\tboxname"));
    op = find_op(&plan, "/etc/passwd");
    assert_non_null(strstr(op->data, "pyti:x:1000:1000"));
    assert_null(find_op(&plan, "/etc/shadow"));
    assert_null(find_op(&plan, "/etc/resolv.conf"));
    op = find_op(&plan, "/dev/null");
    assert_true(op->devices);
    op = find_op(&plan, "/tmp");
    assert_int_equal(op->kind, SB_OP_TMPFS);
    assert_int_equal(op->size, 5 << 20);
    assert_true(op->disk);
    assert_int_equal(find_op(&plan, "/home/pyti")->kind, SB_OP_TMPFS);
    op = find_op(&plan, "/input");
    assert_true(op->ro && !op->disk);
    op = find_op(&plan, "/work");
    assert_true(!op->ro && op->disk);
    assert_int_equal(find_op(&plan, "/scratch")->size, 5 << 20);
    assert_int_equal(find_op(&plan, "/empty")->kind, SB_OP_DIR);
    /* the spec's mounts come after the system ones */
    assert_true(find_op(&plan, "/input") > find_op(&plan, "/home/pyti"));
    sb_plan_free(&plan);

    m[0].target = "/proc/sys/x";
    assert_int_equal(sb_plan_build(&s, 0, &plan, &err), PYTI_ERR_USAGE);
    assert_non_null(strstr(err.msg, "/proc"));
    m[0].target = "/input";
    m[0].source = "/nonexistent-pyti-source";
    assert_int_equal(sb_plan_build(&s, 0, &plan, &err), PYTI_ERR_USAGE);
    assert_non_null(strstr(err.msg, "/nonexistent-pyti-source"));

    s.home_source = dir;
    s.n_mounts = 0;
    assert_int_equal(sb_plan_build(&s, 0, &plan, &err), PYTI_OK);
    op = find_op(&plan, "/home/pyti");
    assert_int_equal(op->kind, SB_OP_BIND);
    assert_true(op->disk);
    assert_int_equal(find_op(&plan, "/tmp")->size, (uint64_t)1 << 30);
    sb_plan_free(&plan);
}

static size_t count_entries(const char *root)
{
    size_t n = 0;
    DIR *d = opendir(root);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static char *entry_file(const sb_plan *plan, const char *name)
{
    const sb_op *etc = find_op(plan, "/etc");
    assert_non_null(etc);
    assert_int_equal(etc->kind, SB_OP_BIND);
    char *p = xasprintf("%s/%s", etc->src, name);
    char *text = t_slurp(p);
    free(p);
    return text;
}

static void plan_for(const char *hostname, const pyti_sandbox_mount *mounts, size_t n,
                     sb_plan *plan)
{
    pyti_sandbox_spec s;
    sandbox_spec_init(&s);
    char *argv[] = {"true", NULL};
    s.argv = argv;
    s.hostname = hostname;
    s.mounts = mounts;
    s.n_mounts = n;
    pyti_error err;
    assert_int_equal(sb_plan_build(&s, 0, plan, &err), PYTI_OK);
}

static void test_etc_cache(void **state)
{
    char *root = t_tmpdir();
    sb_plan a, b, c;

    /* built with exact modes whatever the umask; the plan binds it */
    mode_t old_umask = umask(077);
    plan_for("cachebox", NULL, 0, &a);
    size_t ops_before = a.n;
    assert_true(sb_etc_cache_use(&a, root));
    umask(old_umask);
    assert_true(a.n < ops_before);
    const sb_op *etc = find_op(&a, "/etc");
    assert_true(etc->ro);
    assert_int_equal(strncmp(etc->src, root, strlen(root)), 0);
    assert_null(find_op(&a, "/etc/passwd"));
    assert_null(find_op(&a, "/etc/hostname"));
    struct stat st;
    if (stat("/etc/ssl", &st) == 0) { /* big dirs stay binds, on mount points in the entry */
        const sb_op *ssl = find_op(&a, "/etc/ssl");
        assert_non_null(ssl);
        assert_int_equal(ssl->kind, SB_OP_BIND);
        assert_true(ssl - a.ops > etc - a.ops);
        char *mp = xasprintf("%s/ssl", etc->src);
        assert_int_equal(lstat(mp, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        free(mp);
    }
    assert_non_null(find_op(&a, "/proc")); /* the rest of the plan is kept */
    char *text = entry_file(&a, "hostname");
    assert_string_equal(text, "cachebox\n");
    free(text);
    text = entry_file(&a, "passwd");
    assert_non_null(strstr(text, "pyti:x:1000:1000"));
    free(text);
    char *p = xasprintf("%s/passwd", etc->src);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    free(p);
    assert_int_equal(stat(etc->src, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);

    /* the same /etc again: the same entry */
    plan_for("cachebox", NULL, 0, &b);
    assert_true(sb_etc_cache_use(&b, root));
    assert_string_equal(find_op(&b, "/etc")->src, etc->src);
    assert_int_equal(count_entries(root), 1);
    sb_plan_free(&b);

    /* another host name: another entry */
    plan_for("otherbox", NULL, 0, &b);
    assert_true(sb_etc_cache_use(&b, root));
    assert_string_not_equal(find_op(&b, "/etc")->src, etc->src);
    assert_int_equal(count_entries(root), 2);

    /* entries unused for over an hour (and builders' leftovers) go when a
     * new one is built; recent ones stay */
    struct timespec old[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
    assert_int_equal(utimensat(AT_FDCWD, find_op(&b, "/etc")->src, old, 0), 0);
    char *leftover = xasprintf("%s/.build-1-0-x", root);
    assert_int_equal(mkdir(leftover, 0700), 0);
    assert_int_equal(utimensat(AT_FDCWD, leftover, old, 0), 0);
    plan_for("thirdbox", NULL, 0, &c);
    assert_true(sb_etc_cache_use(&c, root));
    assert_int_equal(lstat(find_op(&b, "/etc")->src, &st), -1);
    assert_int_equal(lstat(leftover, &st), -1);
    assert_int_equal(lstat(etc->src, &st), 0);
    assert_int_equal(count_entries(root), 2);
    free(leftover);
    sb_plan_free(&b);
    sb_plan_free(&c);

    /* a mount asked for under /etc needs a writable /etc: no cache */
    pyti_sandbox_mount m[] = {{SANDBOX_MOUNT_DIR, NULL, "/etc/extra", 0}};
    plan_for("cachebox", m, 1, &b);
    assert_false(sb_etc_cache_use(&b, root));
    assert_int_equal(find_op(&b, "/etc/passwd")->kind, SB_OP_FILE);
    assert_int_equal(find_op(&b, "/etc")->kind, SB_OP_DIR);
    sb_plan_free(&b);

    /* no root, or one others may write: no cache, plan unchanged */
    plan_for("cachebox", NULL, 0, &b);
    size_t n = b.n;
    assert_false(sb_etc_cache_use(&b, NULL));
    assert_int_equal(chmod(root, 0777), 0);
    assert_false(sb_etc_cache_use(&b, root));
    assert_int_equal(chmod(root, 0700), 0);
    assert_int_equal(b.n, n);
    assert_int_equal(find_op(&b, "/etc/passwd")->kind, SB_OP_FILE);
    sb_plan_free(&b);
    sb_plan_free(&a);

    /* a copied host file that changes gives a new entry, never a stale copy */
    char *hostdir = t_tmpdir();
    char *src = t_write(hostdir, "conf", "one\n");
    for (int round = 0; round < 2; round++) {
        sb_plan h = {0};
        h.cap = h.n = 2;
        h.ops = xcalloc(2, sizeof *h.ops);
        h.ops[0] = (sb_op){.kind = SB_OP_DIR, .dst = xstrdup("/etc"), .mode = 0755, .tree_fd = -1};
        h.ops[1] = (sb_op){.kind = SB_OP_COPY, .src = xstrdup(src), .dst = xstrdup("/etc/conf"),
                           .mode = 0644, .tree_fd = -1};
        assert_true(sb_etc_cache_use(&h, root));
        assert_int_equal(h.n, 1);
        text = entry_file(&h, "conf");
        assert_string_equal(text, round == 0 ? "one\n" : "two, longer\n");
        free(text);
        sb_plan_free(&h);
        free(t_write(hostdir, "conf", "two, longer\n"));
    }
    /* facts read by the plan itself name the same entry as a stat now */
    char *srcs[2] = {NULL, NULL};
    for (int fresh = 0; fresh < 2; fresh++) {
        sb_plan h = {0};
        h.cap = h.n = 2;
        h.ops = xcalloc(2, sizeof *h.ops);
        h.ops[0] = (sb_op){.kind = SB_OP_DIR, .dst = xstrdup("/etc"), .mode = 0755, .tree_fd = -1};
        h.ops[1] = (sb_op){.kind = SB_OP_COPY, .src = xstrdup(src), .dst = xstrdup("/etc/conf"),
                           .mode = 0644, .tree_fd = -1};
        if (fresh) {
            struct stat fst;
            assert_int_equal(lstat(src, &fst), 0);
            h.ops[1].facts_fresh = true;
            sb_file_facts_of(&fst, &h.ops[1].facts);
        }
        assert_true(sb_etc_cache_use(&h, root));
        srcs[fresh] = xstrdup(h.ops[0].src);
        sb_plan_free(&h);
    }
    assert_string_equal(srcs[0], srcs[1]);
    free(srcs[0]);
    free(srcs[1]);
    free(src); /* root and hostdir belong to t_tmpdir's clean-up */
}

static void assert_same_program(const sb_filter *a, const sb_filter *b)
{
    assert_int_equal(a->prog.len, b->prog.len);
    assert_memory_equal(a->prog.filter, b->prog.filter, a->prog.len * sizeof *a->prog.filter);
}

/* The standard programs kept in the runtime directory are the compiled
 * ones, and a kept file that is damaged or writable by others is never
 * loaded: the program is compiled (and kept) again. */
static void test_filter_cache(void **state)
{
    (void)state;
    for (int tracer = 0; tracer < 2; tracer++) {
        pyti_error err;
        sb_filter built, got;
        assert_int_equal(sb_filter_build(NULL, tracer, &built, &err), PYTI_OK);
        char *path = sb_filter_program_path(tracer);
        if (!path) {
            sb_filter_free(&built);
            skip();
        }
        (void)unlink(path);
        assert_int_equal(sb_filter_standard(tracer, &got, &err), PYTI_OK); /* compiled, kept */
        assert_same_program(&built, &got);
        sb_filter_free(&got);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        assert_int_equal(st.st_size, built.prog.len * sizeof *built.prog.filter);
        assert_int_equal(sb_filter_standard(tracer, &got, &err), PYTI_OK); /* read back */
        assert_same_program(&built, &got);
        sb_filter_free(&got);

        /* a torn file (not whole instructions) */
        assert_int_equal(truncate(path, 12), 0);
        assert_int_equal(sb_filter_standard(tracer, &got, &err), PYTI_OK);
        assert_same_program(&built, &got);
        sb_filter_free(&got);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_size, built.prog.len * sizeof *built.prog.filter);

        /* a file others could have written: an allow-all program */
        int fd = open(path, O_WRONLY | O_TRUNC);
        assert_true(fd >= 0);
        struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        assert_int_equal(write(fd, &allow, sizeof allow), (ssize_t)sizeof allow);
        close(fd);
        assert_int_equal(chmod(path, 0666), 0);
        assert_int_equal(sb_filter_standard(tracer, &got, &err), PYTI_OK);
        assert_same_program(&built, &got);
        sb_filter_free(&got);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        free(path);
        sb_filter_free(&built);
    }
}

static void test_seccomp_table(void **state)
{
    size_t n = 0;
    bool seen_mount = false, seen_clone3 = false;
    for (const sb_sc_rule *r = sb_seccomp_rules(); r->name; r++, n++) {
        assert_non_null(r->why);
        assert_true(strlen(r->why) > 3);
        if (strcmp(r->name, "mount") == 0)
            seen_mount = r->action == SB_SC_DENY;
        if (strcmp(r->name, "clone3") == 0)
            seen_clone3 = r->action == SB_SC_ENOSYS;
    }
    assert_true(n >= 60);
    assert_true(seen_mount && seen_clone3);

    sb_filter f;
    pyti_error err;
    assert_int_equal(sb_filter_build(NULL, false, &f, &err), PYTI_OK);
    assert_true(f.prog.len > 20);
    sb_filter_free(&f);
    const char *trace[] = {"openat", "connect", NULL};
    assert_int_equal(sb_filter_build(trace, false, &f, &err), PYTI_OK);
    sb_filter_free(&f);
    const char *bad[] = {"no_such_syscall", NULL};
    assert_int_equal(sb_filter_build(bad, false, &f, &err), PYTI_ERR_USAGE);
    assert_non_null(strstr(err.msg, "no_such_syscall"));
}

static void test_seccomp_classify(void **state)
{
    char name[32];
    const char *arch;
    uint64_t args[6] = {0};
    int nr_mount = seccomp_syscall_resolve_name("mount");
    assert_int_equal(sb_seccomp_classify(AUDIT_ARCH_X86_64, nr_mount, args, NULL, false, name,
                                         sizeof name, &arch), SB_SC_DENY);
    assert_string_equal(name, "mount");
    assert_string_equal(arch, "x86_64");

    int nr_unshare = seccomp_syscall_resolve_name("unshare");
    args[0] = CLONE_NEWUSER;
    assert_int_equal(sb_seccomp_classify(AUDIT_ARCH_X86_64, nr_unshare, args, NULL, false, name,
                                         sizeof name, &arch), SB_SC_DENY);
    args[0] = CLONE_FILES; /* no namespace: would not be notified; denied if it were */
    assert_int_equal(sb_seccomp_classify(AUDIT_ARCH_X86_64, nr_unshare, args, NULL, false, name,
                                         sizeof name, &arch), SB_SC_DENY);

    assert_int_equal(sb_seccomp_classify(AUDIT_ARCH_X86_64, seccomp_syscall_resolve_name("clone3"),
                                         args, NULL, false, name, sizeof name, &arch), SB_SC_ENOSYS);

    int nr_pers = seccomp_syscall_resolve_name("personality");
    args[0] = 0xffffffffu;
    assert_int_equal(sb_seccomp_classify(AUDIT_ARCH_X86_64, nr_pers, args, NULL, false, name,
                                         sizeof name, &arch), SB_SC_ALLOW);
    args[0] = 0x0400000; /* READ_IMPLIES_EXEC */
    assert_int_equal(sb_seccomp_classify(AUDIT_ARCH_X86_64, nr_pers, args, NULL, false, name,
                                         sizeof name, &arch), SB_SC_DENY);

    int nr_ioctl = seccomp_syscall_resolve_name("ioctl");
    args[1] = 0x100005412ULL; /* TIOCSTI with junk in the high half */
    assert_int_equal(sb_seccomp_classify(AUDIT_ARCH_X86_64, nr_ioctl, args, NULL, false, name,
                                         sizeof name, &arch), SB_SC_DENY);

    assert_int_equal(sb_seccomp_classify(AUDIT_ARCH_I386, 21, args, NULL, false, name, sizeof name,
                                         &arch), SB_SC_DENY);
    assert_string_equal(name, "x86:mount");
    assert_string_equal(arch, "x86");
    assert_int_equal(sb_seccomp_classify(AUDIT_ARCH_X86_64, 0x40000000 | 39, args, NULL, false, name,
                                         sizeof name, &arch), SB_SC_DENY);
    assert_string_equal(arch, "x32");
    assert_non_null(strstr(name, "x32:"));

    const char *trace[] = {"uname", "mount", NULL};
    int nr_uname = seccomp_syscall_resolve_name("uname");
    assert_int_equal(sb_seccomp_classify(AUDIT_ARCH_X86_64, nr_uname, args, trace, false, name,
                                         sizeof name, &arch), SB_SC_TRACE);
    /* a denied call stays denied even when traced */
    assert_int_equal(sb_seccomp_classify(AUDIT_ARCH_X86_64, nr_mount, args, trace, false, name,
                                         sizeof name, &arch), SB_SC_DENY);
}

static void test_cgroup_parsing(void **state)
{
    const char *self_v1 = "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n"
                          "2:cpu,cpuacct:/x\n0::/\n";
    char *p = sb_cgroup_parse_self(self_v1, "memory");
    assert_string_equal(p, "/process_api/abc");
    free(p);
    p = sb_cgroup_parse_self(self_v1, "cpuacct");
    assert_string_equal(p, "/x");
    free(p);
    p = sb_cgroup_parse_self(self_v1, NULL);
    assert_string_equal(p, "/");
    free(p);
    assert_null(sb_cgroup_parse_self(self_v1, "freezer"));
    p = sb_cgroup_parse_self("0::/user.slice/user-1000.slice/session-2.scope\n", NULL);
    assert_string_equal(p, "/user.slice/user-1000.slice/session-2.scope");
    free(p);

    const char *mi =
        "25 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
        "36 30 0:31 / /sys/fs/cgroup/memory rw,relatime shared:14 - cgroup cgroup rw,memory\n"
        "37 30 0:32 / /sys/fs/cgroup/cpu,cpuacct rw shared:15 - cgroup cgroup rw,cpu,cpuacct\n"
        "38 30 0:33 / /sys/fs/cgroup/unified rw shared:16 - cgroup2 cgroup2 rw,nsdelegate\n";
    p = sb_cgroup_parse_mountinfo(mi, "memory");
    assert_string_equal(p, "/sys/fs/cgroup/memory");
    free(p);
    p = sb_cgroup_parse_mountinfo(mi, "cpuacct");
    assert_string_equal(p, "/sys/fs/cgroup/cpu,cpuacct");
    free(p);
    p = sb_cgroup_parse_mountinfo(mi, NULL);
    assert_string_equal(p, "/sys/fs/cgroup/unified");
    free(p);
    assert_null(sb_cgroup_parse_mountinfo(mi, "pids"));
    assert_null(sb_cgroup_parse_mountinfo("", "pids"));
}

static void test_disk_usage_never_follows_links(void **state)
{
    char *dir = t_tmpdir();
    char big[8192];
    memset(big, 'x', sizeof big);
    char *f = t_write_bytes(dir, "a/b/file", big, sizeof big);
    free(f);
    char *link = xasprintf("%s/a/root", dir);
    assert_int_equal(symlink("/", link), 0);
    free(link);
    uint64_t bytes = 0;
    assert_true(sb_disk_usage(dir, &bytes));
    assert_true(bytes >= 8192);
    assert_true(bytes < 1 << 20);
}

static void test_proctree_counts_children(void **state)
{
    pid_t kid = fork();
    if (kid == 0) {
        pause();
        _exit(0);
    }
    uint64_t tasks = 0, rss = 0;
    for (int i = 0; i < 100 && tasks < 2; i++) {
        sb_proctree_sample(getpid(), 1000, &tasks, &rss);
        usleep(1000);
    }
    kill(kid, SIGKILL);
    waitpid(kid, NULL, 0);
    assert_true(tasks >= 2);
    assert_true(rss > 0);
    sb_proctree_sample(getpid(), 1, &tasks, &rss);
    assert_int_equal(tasks, 1); /* bounded by max_tasks */
}

static void test_probe(void **state)
{
    pyti_sandbox_probe p;
    pyti_error err;
    pyti_status st = sandbox_probe(&p, true, &err);
    char *d = sandbox_probe_describe(&p);
    assert_non_null(strstr(d, "namespaces:"));
    if (st == PYTI_OK) {
        assert_string_equal(p.missing, "");
        assert_non_null(strstr(d, "full isolation available"));
        assert_true(p.userns && p.pivot_root && p.seccomp_notify && p.tried);
    } else {
        assert_non_null(strstr(err.msg, "missing"));
    }
    free(d);
    /* missing pieces are named */
    pyti_sandbox_probe q;
    memset(&q, 0, sizeof q);
    char text[256];
    sb_probe_missing(&q, text, sizeof text);
    assert_non_null(strstr(text, "user namespaces"));
    assert_non_null(strstr(text, "seccomp user notification"));
}

static void test_supervisor_caps_events(void **state)
{
    pyti_sandbox_spec s;
    sandbox_spec_init(&s);
    s.max_events = 2;
    sb_supervisor sup;
    sb_supervisor_init(&sup, -1, &s, 0);
    pyti_sandbox_event ev;
    memset(&ev, 0, sizeof ev);
    strcpy(ev.syscall, "mount");
    for (int i = 0; i < 5; i++)
        sb_supervisor_record(&sup, &ev);
    pyti_sandbox_result res;
    memset(&res, 0, sizeof res);
    sb_supervisor_finish(&sup, &res);
    assert_int_equal(res.n_events, 2);
    assert_int_equal(res.events_dropped, 3);
    json_t *j = sandbox_result_json(&res);
    assert_int_equal(json_array_size(json_object_get(j, "events")), 2);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "exited");
    json_decref(j);
    sandbox_result_free(&res);
}

static int events_seen;
static void count_event(void *user, const pyti_sandbox_event *ev)
{
    (void)user;
    if (strcmp(ev->syscall, "mount") == 0)
        events_seen++;
}

static void test_run_in_process(void **state)
{
    pyti_sandbox_probe p;
    if (sandbox_probe(&p, true, NULL) != PYTI_OK)
        skip();
    char *dir = t_tmpdir();
    char *out = xasprintf("%s/out.txt", dir);
    pyti_sandbox_spec s;
    sandbox_spec_init(&s);
    char *argv[] = {"/bin/sh", "-c", "mount -t tmpfs none /tmp 2>/dev/null; echo done; exit 3",
                    NULL};
    s.argv = argv;
    s.stdout_path = out;
    s.limits.timeout_s = 30;
    s.on_event = count_event;
    pyti_sandbox_result res;
    pyti_error err;
    events_seen = 0;
    assert_int_equal(sandbox_run(&s, &res, &err), PYTI_OK);
    assert_int_equal(res.exit_code, 3);
    assert_int_equal(res.signal, 0);
    assert_false(res.timed_out);
    assert_null(res.limit);
    assert_int_equal(res.stdout_bytes, 5);
    assert_true(res.wall_s > 0);
    assert_true(res.n_events >= 1);
    assert_int_equal(events_seen, (int)res.n_events);
    assert_string_equal(res.events[0].syscall, "mount");
    assert_string_equal(res.events[0].action, "denied");
    char *text = t_slurp(out);
    assert_string_equal(text, "done\n");
    free(text);
    sandbox_result_free(&res);

    /* as root, writable job dirs can be handed to the mapped uid */
    if (geteuid() == 0) {
        char *job = t_tmpdir();
        char *f = t_write(job, "sub/file", "x");
        char *evil = xasprintf("%s/sub/evil", job);
        assert_int_equal(symlink("/etc/hostname", evil), 0); /* never followed */
        free(evil);
        pyti_sandbox_mount jm[] = {{SANDBOX_MOUNT_BIND, job, "/job", 0}};
        char *argv2[] = {"/bin/sh", "-c", "echo new > /job/sub/made", NULL};
        s.argv = argv2;
        s.mounts = jm;
        s.n_mounts = 1;
        s.give_writable_dirs = true;
        assert_int_equal(sandbox_run(&s, &res, &err), PYTI_OK);
        assert_int_equal(res.exit_code, 0);
        sandbox_result_free(&res);
        struct stat st;
        assert_int_equal(lstat(f, &st), 0);
        assert_int_equal(st.st_uid, SANDBOX_DEFAULT_HOST_ID);
        char *made = xasprintf("%s/sub/made", job);
        assert_int_equal(lstat(made, &st), 0);
        assert_int_equal(st.st_uid, SANDBOX_DEFAULT_HOST_ID);
        free(made);
        free(f);
        assert_int_equal(stat("/etc/hostname", &st), 0);
        assert_int_equal(st.st_uid, 0);
        /* never / or a system directory */
        const char *refused[] = {"/etc", "/", "/usr/lib", "/etc/ssl", "/tmp"};
        for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
            jm[0].source = refused[i];
            assert_int_equal(sandbox_run(&s, &res, &err), PYTI_ERR_USAGE);
            assert_non_null(strstr(err.msg, "refusing"));
            sandbox_result_free(&res);
        }
        s.give_writable_dirs = false;
        s.argv = argv;
    }

    /* a set-up failure is pyti's failure, not the command's */
    pyti_sandbox_mount m[] = {{SANDBOX_MOUNT_RO_BIND, "/nonexistent-x", "/x", 0}};
    s.mounts = m;
    s.n_mounts = 1;
    assert_int_equal(sandbox_run(&s, &res, &err), PYTI_ERR_USAGE);
    sandbox_result_free(&res);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_spec_check),
        cmocka_unit_test(test_inside_path),
        cmocka_unit_test(test_plan_build),
        cmocka_unit_test(test_etc_cache),
        cmocka_unit_test(test_filter_cache),
        cmocka_unit_test(test_seccomp_table),
        cmocka_unit_test(test_seccomp_classify),
        cmocka_unit_test(test_cgroup_parsing),
        cmocka_unit_test(test_disk_usage_never_follows_links),
        cmocka_unit_test(test_proctree_counts_children),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_supervisor_caps_events),
        cmocka_unit_test(test_run_in_process),
    };
    return cmocka_run_group_tests_name("sandbox", tests, NULL, NULL);
}
