/* sbattack.c — attacks on pyti's sandbox, run inside it by
 * tests/e2e/test_sandbox_attacks.py (like bubblewrap's try-syscall.c).
 *
 * `sbattack NAME [ARGS]` makes one attempt. It prints one line and exits
 * 0 "BLOCKED: ..." when the attempt failed as it must, or 10 "ESCAPED: ..."
 * when it worked (a sandbox bug). Resource attacks (forkbomb, membomb,
 * diskfill, flood, spin) never succeed on their own: pyti must kill them
 * and name the limit. Everything is raw system calls so that the exact
 * call the seccomp filter must see is made. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <dirent.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int blocked(const char *what, int e)
{
    printf("BLOCKED: %s: %s\n", what, strerror(e));
    return 0;
}

static int escaped(const char *what)
{
    printf("ESCAPED: %s\n", what);
    return 10;
}

/* The result of a raw call: blocked if it failed. */
static int expect_fail(const char *what, long rc)
{
    if (rc < 0)
        return blocked(what, errno);
    return escaped(what);
}

static long raw_int80(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return ret;
}

static long raw_syscall(long nr)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
    return ret;
}

static int a_write(char **argv)
{
    int fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return blocked(argv[0], errno);
    close(fd);
    return escaped(argv[0]);
}

static int a_read(char **argv)
{
    int fd = open(argv[0], O_RDONLY);
    if (fd < 0)
        return blocked(argv[0], errno);
    char buf[64];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n < 0)
        return blocked(argv[0], errno);
    return escaped(argv[0]);
}

static int a_tcp(char **argv)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    inet_pton(AF_INET, argv[0], &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        return blocked("tcp connect", errno);
    return escaped("tcp connect");
}

static int a_udp(char **argv)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    inet_pton(AF_INET, argv[0], &sa.sin_addr);
    if (sendto(fd, "x", 1, 0, (struct sockaddr *)&sa, sizeof sa) != 1)
        return blocked("udp sendto", errno);
    return escaped("udp sendto");
}

static int a_dns(char **argv)
{
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(argv[0], "443", NULL, &ai);
    if (rc != 0) {
        printf("BLOCKED: getaddrinfo %s: %s\n", argv[0], gai_strerror(rc));
        return 0;
    }
    freeaddrinfo(ai);
    return escaped("getaddrinfo");
}

static int a_abstract(char **argv)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(argv[0]);
    memcpy(sa.sun_path + 1, argv[0], len);
    if (connect(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)) != 0)
        return blocked("abstract unix connect", errno);
    return escaped("abstract unix connect");
}

static int a_kill(char **argv) { return expect_fail("kill host pid", kill(atoi(argv[0]), SIGKILL)); }

static int a_ptrace(char **argv)
{
    return expect_fail("ptrace attach", ptrace(PTRACE_ATTACH, atoi(argv[0]), 0, 0));
}

static int a_mount(char **argv)
{
    (void)argv;
    return expect_fail("mount tmpfs", mount("tmpfs", "/tmp", "tmpfs", 0, NULL));
}

static int a_umount(char **argv)
{
    (void)argv;
    return expect_fail("umount /usr", umount2("/usr", MNT_DETACH));
}

static int a_unshare(char **argv)
{
    (void)argv;
    return expect_fail("unshare(CLONE_NEWUSER)", unshare(CLONE_NEWUSER));
}

static int a_unshare_net(char **argv)
{
    (void)argv;
    return expect_fail("unshare(CLONE_NEWNET)", unshare(CLONE_NEWNET));
}

static int a_clone(char **argv)
{
    (void)argv;
    long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0)
        _exit(0);
    if (pid > 0) {
        waitpid((pid_t)pid, NULL, 0);
        return escaped("clone(CLONE_NEWUSER)");
    }
    return blocked("clone(CLONE_NEWUSER)", errno);
}

struct clone_args_v0 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static int a_clone3(char **argv)
{
    (void)argv;
    struct clone_args_v0 ca = {.flags = CLONE_NEWUSER, .exit_signal = SIGCHLD};
    long pid = syscall(435 /* clone3 */, &ca, sizeof ca);
    if (pid == 0)
        _exit(0);
    if (pid > 0) {
        waitpid((pid_t)pid, NULL, 0);
        return escaped("clone3(CLONE_NEWUSER)");
    }
    return blocked("clone3(CLONE_NEWUSER)", errno);
}

static int a_int80(char **argv)
{
    long nr = atol(argv[0]);
    long rc = nr == 21 ? raw_int80(nr, (long)"none", (long)"/tmp", (long)"tmpfs")
                       : raw_int80(nr, 0, 0, 0);
    if (rc < 0 && rc > -4096) {
        printf("BLOCKED: int 0x80 syscall %ld: %s\n", nr, strerror((int)-rc));
        return 0;
    }
    printf("ESCAPED: int 0x80 syscall %ld returned %ld\n", nr, rc);
    return 10;
}

static int a_x32(char **argv)
{
    long nr = atol(argv[0]) | 0x40000000L;
    long rc = raw_syscall(nr);
    if (rc < 0 && rc > -4096) {
        printf("BLOCKED: x32 syscall %ld: %s\n", nr, strerror((int)-rc));
        return 0;
    }
    printf("ESCAPED: x32 syscall %ld returned %ld\n", nr, rc);
    return 10;
}

static int a_whoami(char **argv)
{
    (void)argv;
    uid_t r, e, s;
    getresuid(&r, &e, &s);
    printf("uid=%u euid=%u suid=%u\n", r, e, s);
    if (e == 0 || r == 0 || s == 0)
        return escaped("became root");
    printf("BLOCKED: still uid %u\n", e);
    return 0;
}

static int a_forkbomb(char **argv)
{
    (void)argv;
    for (int i = 0; i < 200000; i++) {
        pid_t p = fork();
        if (p == 0) {
            pause();
            _exit(0);
        }
    }
    sleep(60);
    return 0;
}

__attribute__((noreturn)) static int a_membomb(char **argv)
{
    (void)argv;
    for (;;) {
        size_t sz = 16 << 20;
        char *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            sleep(1);
            continue;
        }
        memset(p, 1, sz);
    }
}

static int a_diskfill(char **argv)
{
    static char chunk[1 << 20];
    memset(chunk, 'x', sizeof chunk);
    signal(SIGXFSZ, SIG_IGN); /* like Python: keep going on EFBIG */
    time_t end = time(NULL) + 60;
    for (int i = 0; time(NULL) < end; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/fill%d", argv[0], i);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) {
            sleep(1);
            continue;
        }
        while (write(fd, chunk, sizeof chunk) == (ssize_t)sizeof chunk)
            ;
        close(fd);
    }
    return 0;
}

static int a_flood(char **argv)
{
    (void)argv;
    static char line[4096];
    memset(line, 'A', sizeof line);
    for (;;)
        if (write(1, line, sizeof line) < 0)
            return 1;
}

__attribute__((noreturn)) static int a_spin(char **argv)
{
    (void)argv;
    volatile unsigned long x = 0;
    for (;;)
        x++;
}

static int a_sleep(char **argv)
{
    sleep((unsigned)atoi(argv[0]));
    return 0;
}

/* Double fork + setsid: a daemon that writes MARKER after DELAY seconds. */
static int a_daemon(char **argv)
{
    pid_t p = fork();
    if (p == 0) {
        setsid();
        if (fork() == 0) {
            signal(SIGHUP, SIG_IGN);
            sleep((unsigned)atoi(argv[1]));
            int fd = open(argv[0], O_WRONLY | O_CREAT, 0644);
            if (fd >= 0) {
                (void)!write(fd, "survived\n", 9);
                close(fd);
            }
            _exit(0);
        }
        _exit(0);
    }
    waitpid(p, NULL, 0);
    printf("daemon started\n");
    return 0;
}

static int a_tiocsti(char **argv)
{
    (void)argv;
    char c = 'x';
    printf("isatty(0)=%d\n", isatty(0));
    return expect_fail("TIOCSTI", ioctl(0, TIOCSTI, &c));
}

static int a_tioclinux(char **argv)
{
    (void)argv;
    char sub = 3; /* TIOCL_SETSEL-style subcode */
    return expect_fail("TIOCLINUX", ioctl(0, TIOCLINUX, &sub));
}

static int a_bpf(char **argv)
{
    (void)argv;
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    return expect_fail("bpf(BPF_MAP_CREATE)", syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
}

static int a_perf(char **argv)
{
    (void)argv;
    struct perf_event_attr pe;
    memset(&pe, 0, sizeof pe);
    pe.type = PERF_TYPE_SOFTWARE;
    pe.size = sizeof pe;
    pe.config = PERF_COUNT_SW_CPU_CLOCK;
    return expect_fail("perf_event_open", syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0));
}

static int a_keyctl(char **argv)
{
    (void)argv;
    long rc = syscall(SYS_add_key, "user", "pyti", "secret", 6, -3 /* session keyring */);
    if (rc >= 0)
        return escaped("add_key");
    return expect_fail("keyctl(JOIN_SESSION)", syscall(SYS_keyctl, 1 /* JOIN */, "x"));
}

static int a_io_uring(char **argv)
{
    (void)argv;
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    return expect_fail("io_uring_setup", syscall(SYS_io_uring_setup, 4, &p));
}

static int a_userfaultfd(char **argv)
{
    (void)argv;
    return expect_fail("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC));
}

static int a_open_by_handle(char **argv)
{
    (void)argv;
    /* shocker: a guessed handle for the root inode of the host fs */
    struct {
        unsigned int handle_bytes;
        int handle_type;
        unsigned char f_handle[8];
    } h = {8, 1, {2, 0, 0, 0, 0, 0, 0, 0}};
    int fd = open("/usr", O_RDONLY);
    return expect_fail("open_by_handle_at", syscall(SYS_open_by_handle_at, fd, &h, O_RDONLY));
}

static int a_init_module(char **argv)
{
    (void)argv;
    int fd = open("/dev/null", O_RDONLY);
    if (syscall(SYS_finit_module, fd, "", 0) >= 0)
        return escaped("finit_module");
    return expect_fail("init_module", syscall(SYS_init_module, NULL, 0, ""));
}

static int a_kexec(char **argv)
{
    (void)argv;
    return expect_fail("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
}

static int a_reboot(char **argv)
{
    (void)argv;
    /* CAD_OFF: harmless even if it went through */
    return expect_fail("reboot", syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
                                         LINUX_REBOOT_CMD_CAD_OFF, NULL));
}

static int a_swapon(char **argv)
{
    (void)argv;
    return expect_fail("swapon", syscall(SYS_swapon, "/tmp/swap", 0));
}

static int a_setns(char **argv)
{
    (void)argv;
    static const char *const ns[] = {"user", "mnt", "net", "pid", "uts", "ipc", "cgroup"};
    int worked = 0, last = 0;
    for (int i = 0; i < 7; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/1/ns/%s", ns[i]);
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            fd = open("/proc/self/ns/user", O_RDONLY);
        if (syscall(SYS_setns, fd, 0) == 0)
            worked++;
        else
            last = errno;
    }
    if (worked)
        return escaped("setns");
    return blocked("setns /proc/1/ns/*", last);
}

static int a_chroot(char **argv)
{
    (void)argv;
    mkdir("/tmp/jail", 0755);
    if (chroot("/tmp/jail") != 0)
        return blocked("chroot", errno);
    for (int i = 0; i < 64; i++)
        (void)!chdir("..");
    (void)!chroot(".");
    return escaped("chroot");
}

static int a_traceme(char **argv)
{
    (void)argv;
    if (ptrace(PTRACE_TRACEME, 0, 0, 0) == 0)
        return escaped("PTRACE_TRACEME");
    int e = errno;
    pid_t c = fork();
    if (c == 0) {
        pause();
        _exit(0);
    }
    long rc = ptrace(PTRACE_ATTACH, c, 0, 0);
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    if (rc == 0)
        return escaped("PTRACE_ATTACH own child");
    return blocked("PTRACE_TRACEME and PTRACE_ATTACH", e);
}

static int a_caps(char **argv)
{
    (void)argv;
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int bad = 0, seen = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "Cap", 3) == 0) {
            seen++;
            char *v = strchr(line, ':') + 1;
            if (strtoull(v, NULL, 16) != 0) {
                printf("capability set not empty: %s", line);
                bad++;
            }
        } else if (strncmp(line, "NoNewPrivs:", 11) == 0) {
            seen++;
            if (atoi(line + 11) != 1)
                bad++;
        } else if (strncmp(line, "Seccomp:", 8) == 0) {
            seen++;
            if (atoi(line + 8) != 2)
                bad++;
        }
        fputs(line, stdout);
    }
    if (seen < 7)
        return escaped("could not read /proc/self/status");
    if (bad)
        return escaped("privileges left");
    printf("BLOCKED: no capabilities, no_new_privs, seccomp filter\n");
    return 0;
}

static int a_sethostname(char **argv)
{
    if (sethostname(argv[0], strlen(argv[0])) != 0)
        return blocked("sethostname", errno);
    char buf[128];
    gethostname(buf, sizeof buf);
    printf("hostname inside is now %s (only this UTS namespace)\n", buf);
    return 0;
}

static int a_proc1(char **argv)
{
    (void)argv;
    char buf[4096];
    int fd = open("/proc/1/environ", O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n > 0) {
            for (ssize_t i = 0; i < n; i++)
                if (buf[i] == '\0')
                    buf[i] = ' ';
            buf[n] = '\0';
            printf("/proc/1/environ: %s\n", buf);
        } else {
            printf("/proc/1/environ: unreadable (%s)\n", n < 0 ? strerror(errno) : "empty");
        }
    } else {
        printf("/proc/1/environ: unreadable (%s)\n", strerror(errno));
    }
    DIR *d = opendir("/proc");
    int pids = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] >= '0' && de->d_name[0] <= '9')
            pids++;
    if (d)
        closedir(d);
    printf("pids visible: %d\n", pids);
    if (pids > 5)
        return escaped("host processes visible");
    printf("BLOCKED: only the sandbox's processes are visible\n");
    return 0;
}

static int a_devs(char **argv)
{
    (void)argv;
    static const char *const bad[] = {"/dev/sda", "/dev/vda", "/dev/nvme0n1", "/dev/mem",
                                      "/dev/kmem", "/dev/port", "/dev/tty", "/dev/console",
                                      "/dev/kmsg", "/dev/fuse", "/dev/net/tun", NULL};
    for (int i = 0; bad[i]; i++) {
        if (access(bad[i], F_OK) == 0) {
            printf("present: %s\n", bad[i]);
            return escaped("device node present");
        }
    }
    return blocked("no disks, memory or terminal devices in /dev", ENOENT);
}

static int a_personality(char **argv)
{
    (void)argv;
    long rc = syscall(SYS_personality, READ_IMPLIES_EXEC);
    if (rc < 0)
        return blocked("personality(READ_IMPLIES_EXEC)", errno);
    return escaped("personality(READ_IMPLIES_EXEC)");
}

static int a_process_vm(char **argv)
{
    (void)argv;
    char buf[16];
    struct iovec l = {buf, sizeof buf}, r = {(void *)0x400000, sizeof buf};
    return expect_fail("process_vm_readv", process_vm_readv(1, &l, 1, &r, 1, 0));
}

static int a_settime(char **argv)
{
    (void)argv;
    struct timeval tv = {0, 0};
    return expect_fail("settimeofday", settimeofday(&tv, NULL));
}

static int a_acct(char **argv)
{
    (void)argv;
    return expect_fail("acct", acct("/tmp/acct"));
}

static int a_symlink(char **argv)
{
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/to-root", argv[0]);
    snprintf(b, sizeof b, "%s/to-shadow", argv[0]);
    if (symlink("/", a) != 0 || symlink("/etc/shadow", b) != 0)
        return blocked("symlink", errno);
    char p[4096];
    snprintf(p, sizeof p, "%s/to-root/etc/hostname", argv[0]);
    int fd = open(p, O_RDONLY);
    if (fd >= 0) {
        char buf[128] = {0};
        (void)!read(fd, buf, sizeof buf - 1);
        printf("to-root/etc/hostname (the sandbox's): %s", buf);
        close(fd);
    }
    fd = open(b, O_RDONLY);
    if (fd >= 0)
        return escaped("read /etc/shadow through a symlink");
    return blocked("to-shadow resolves inside the sandbox", errno);
}

static int a_ioctl_fionread(char **argv)
{
    (void)argv;
    int n = 0;
    /* a harmless ioctl must keep working (no false positives) */
    if (ioctl(0, FIONREAD, &n) != 0 && errno == EPERM)
        return escaped("harmless ioctl refused with EPERM");
    printf("BLOCKED: nothing (harmless ioctl allowed)\n");
    return 0;
}

static const struct {
    const char *name;
    int nargs;
    int (*fn)(char **);
} attacks[] = {
    {"write", 1, a_write},
    {"read", 1, a_read},
    {"tcp", 2, a_tcp},
    {"udp", 2, a_udp},
    {"dns", 1, a_dns},
    {"abstract", 1, a_abstract},
    {"kill", 1, a_kill},
    {"ptrace", 1, a_ptrace},
    {"mount", 0, a_mount},
    {"umount", 0, a_umount},
    {"unshare", 0, a_unshare},
    {"unshare_net", 0, a_unshare_net},
    {"clone", 0, a_clone},
    {"clone3", 0, a_clone3},
    {"int80", 1, a_int80},
    {"x32", 1, a_x32},
    {"whoami", 0, a_whoami},
    {"forkbomb", 0, a_forkbomb},
    {"membomb", 0, a_membomb},
    {"diskfill", 1, a_diskfill},
    {"flood", 0, a_flood},
    {"spin", 0, a_spin},
    {"sleep", 1, a_sleep},
    {"daemon", 2, a_daemon},
    {"tiocsti", 0, a_tiocsti},
    {"tioclinux", 0, a_tioclinux},
    {"bpf", 0, a_bpf},
    {"perf", 0, a_perf},
    {"keyctl", 0, a_keyctl},
    {"io_uring", 0, a_io_uring},
    {"userfaultfd", 0, a_userfaultfd},
    {"open_by_handle", 0, a_open_by_handle},
    {"init_module", 0, a_init_module},
    {"kexec", 0, a_kexec},
    {"reboot", 0, a_reboot},
    {"swapon", 0, a_swapon},
    {"setns", 0, a_setns},
    {"chroot", 0, a_chroot},
    {"traceme", 0, a_traceme},
    {"caps", 0, a_caps},
    {"sethostname", 1, a_sethostname},
    {"proc1", 0, a_proc1},
    {"devs", 0, a_devs},
    {"personality", 0, a_personality},
    {"process_vm", 0, a_process_vm},
    {"settime", 0, a_settime},
    {"acct", 0, a_acct},
    {"symlink", 1, a_symlink},
    {"fionread", 0, a_ioctl_fionread},
};

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2) {
        fprintf(stderr, "usage: sbattack NAME [ARGS]\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
        if (strcmp(argv[1], attacks[i].name) == 0) {
            if (argc - 2 < attacks[i].nargs) {
                fprintf(stderr, "sbattack %s: needs %d argument(s)\n", argv[1], attacks[i].nargs);
                return 2;
            }
            return attacks[i].fn(argv + 2);
        }
    }
    fprintf(stderr, "sbattack: unknown attack %s\n", argv[1]);
    return 2;
}
