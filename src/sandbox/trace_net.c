/* trace_net.c — decoding what a traced process sends to the network:
 * socket addresses (IPv4, IPv6, unix, netlink), DNS queries in UDP
 * payloads, and the peer of an already connected socket (from the
 * sandbox network namespace's /proc/<pid>/net tables).
 *
 * Every input here is bytes from a hostile process: parsers check every
 * length before reading and never trust a count for an allocation.
 * sb_dns_parse_query has a libFuzzer target (tests/fuzz/fuzz_trace.c). */
#include "sandbox/sandbox_internal.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

bool sb_tr_sockaddr(const unsigned char *sa, size_t len, char *out, size_t cap, int *family,
                    int *port, bool *local)
{
    *family = 0;
    *port = 0;
    *local = false;
    out[0] = '\0';
    if (len < sizeof(sa_family_t))
        return false;
    sa_family_t fam;
    memcpy(&fam, sa, sizeof fam);
    *family = fam;
    char ip[INET6_ADDRSTRLEN];
    switch (fam) {
    case AF_INET: {
        struct sockaddr_in in;
        if (len < sizeof in)
            return false;
        memcpy(&in, sa, sizeof in);
        inet_ntop(AF_INET, &in.sin_addr, ip, sizeof ip);
        *port = ntohs(in.sin_port);
        uint32_t a = ntohl(in.sin_addr.s_addr);
        *local = (a >> 24) == 127;
        snprintf(out, cap, "%s:%d", ip, *port);
        return true;
    }
    case AF_INET6: {
        struct sockaddr_in6 in6;
        if (len < sizeof in6)
            return false;
        memcpy(&in6, sa, sizeof in6);
        inet_ntop(AF_INET6, &in6.sin6_addr, ip, sizeof ip);
        *port = ntohs(in6.sin6_port);
        static const unsigned char v4loop[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        *local = IN6_IS_ADDR_LOOPBACK(&in6.sin6_addr) ||
                 (memcmp(in6.sin6_addr.s6_addr, v4loop, 12) == 0 &&
                  in6.sin6_addr.s6_addr[12] == 127);
        snprintf(out, cap, "[%s]:%d", ip, *port);
        return true;
    }
    case AF_UNIX: {
        *local = true;
        size_t off = offsetof(struct sockaddr_un, sun_path);
        if (len <= off) {
            snprintf(out, cap, "unix:(unnamed)");
            return true;
        }
        size_t n = len - off;
        if (n > sizeof(((struct sockaddr_un *)0)->sun_path))
            n = sizeof(((struct sockaddr_un *)0)->sun_path);
        const unsigned char *p = sa + off;
        bool abstract = p[0] == '\0';
        size_t o = (size_t)snprintf(out, cap, "unix:%s", abstract ? "@" : "");
        for (size_t i = abstract ? 1 : 0; i < n && o + 5 < cap; i++) {
            if (!abstract && p[i] == '\0')
                break;
            if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
                out[o++] = (char)p[i];
            else
                o += (size_t)snprintf(out + o, cap - o, "\\x%02x", p[i]);
        }
        out[o < cap ? o : cap - 1] = '\0';
        return true;
    }
    case AF_NETLINK:
        *local = true;
        snprintf(out, cap, "netlink");
        return true;
    default:
        snprintf(out, cap, "family %d", (int)fam);
        return true;
    }
}

const char *sb_dns_type_name(unsigned t)
{
    switch (t) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 12: return "PTR";
    case 15: return "MX";
    case 16: return "TXT";
    case 28: return "AAAA";
    case 33: return "SRV";
    case 65: return "HTTPS";
    case 255: return "ANY";
    default: return NULL;
    }
}

bool sb_dns_parse_query(const unsigned char *p, size_t n, char *name, size_t cap,
                        unsigned *qtype)
{
    if (cap < 2 || n < 12)
        return false;
    name[0] = '\0';
    unsigned flags = (unsigned)p[2] << 8 | p[3];
    unsigned qd = (unsigned)p[4] << 8 | p[5];
    /* QR = 0 (a query), opcode 0..2, at least one question, no answers. */
    if ((flags & 0x8000) || ((flags >> 11) & 0xf) > 2 || qd == 0 || p[6] || p[7])
        return false;
    size_t i = 12, o = 0;
    unsigned labels = 0;
    for (;;) {
        if (i >= n)
            return false;
        unsigned l = p[i++];
        if (l == 0)
            break;
        if (l > 63 || ++labels > 127 || l > n - i) /* no compression in a question */
            return false;
        if (o && o + 1 < cap)
            name[o++] = '.';
        for (unsigned k = 0; k < l; k++) {
            unsigned char c = p[i + k];
            if (c >= 'A' && c <= 'Z')
                c = (unsigned char)(c - 'A' + 'a');
            bool plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                         c == '_';
            if (plain && o + 1 < cap) {
                name[o++] = (char)c;
            } else if (!plain && o + 5 < cap) {
                snprintf(name + o, cap - o, "\\x%02x", c);
                o += 4;
            }
        }
        i += l;
    }
    if (n - i < 4)
        return false;
    if (o == 0)
        name[o++] = '.';
    name[o < cap ? o : cap - 1] = '\0';
    *qtype = (unsigned)p[i] << 8 | p[i + 1];
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Parses "HHHH...:PPPP" of a /proc/net table into an address string. */
static bool parse_hexaddr(const char *s, size_t hexlen, char *out, size_t cap, int *port)
{
    unsigned char b[16];
    for (size_t i = 0; i < hexlen; i++)
        if (hexval(s[i]) < 0)
            return false;
    if (s[hexlen] != ':')
        return false;
    for (size_t i = 0; i < hexlen / 2; i++)
        b[i] = (unsigned char)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
    /* The kernel prints each 32-bit word in host order (little endian). */
    unsigned char a[16];
    for (size_t w = 0; w < hexlen / 8; w++)
        for (int k = 0; k < 4; k++)
            a[w * 4 + (size_t)k] = b[w * 4 + (size_t)(3 - k)];
    int pt = 0;
    for (int i = 1; i <= 4; i++) {
        int v = hexval(s[hexlen + (size_t)i]);
        if (v < 0)
            return false;
        pt = pt << 4 | v;
    }
    *port = pt;
    char ip[INET6_ADDRSTRLEN];
    if (hexlen == 8) {
        inet_ntop(AF_INET, a, ip, sizeof ip);
        snprintf(out, cap, "%s:%d", ip, pt);
    } else {
        inet_ntop(AF_INET6, a, ip, sizeof ip);
        snprintf(out, cap, "[%s]:%d", ip, pt);
    }
    return true;
}

bool sb_tr_parse_net_line(const char *line, bool v6, unsigned long *inode, char *peer,
                          size_t cap, int *port)
{
    /*   sl  local_address rem_address   st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode */
    const char *p = line;
    char field[10][80];
    size_t nf = 0;
    while (*p && nf < 10) {
        while (*p == ' ')
            p++;
        if (!*p || *p == '\n')
            break;
        size_t l = 0;
        while (p[l] && p[l] != ' ' && p[l] != '\n')
            l++;
        if (l >= sizeof field[0])
            return false;
        memcpy(field[nf], p, l);
        field[nf][l] = '\0';
        nf++;
        p += l;
    }
    if (nf < 10)
        return false;
    size_t hexlen = v6 ? 32 : 8;
    if (strlen(field[2]) != hexlen + 5)
        return false;
    if (!parse_hexaddr(field[2], hexlen, peer, cap, port))
        return false;
    char *end;
    unsigned long ino = strtoul(field[9], &end, 10);
    if (*end)
        return false;
    *inode = ino;
    return true;
}

bool sb_tr_socket_peer(pid_t pid, int fd, char *out, size_t cap, int *port, bool *udp)
{
    char link[64];
    if (!sb_tr_fd_link(pid, fd, link, sizeof link) || strncmp(link, "socket:[", 8) != 0)
        return false;
    unsigned long want = strtoul(link + 8, NULL, 10);
    static const struct {
        const char *file;
        bool v6, udp;
    } tables[] = {{"udp", false, true}, {"udp6", true, true}, {"tcp", false, false},
                  {"tcp6", true, false}};
    for (size_t t = 0; t < 4; t++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/net/%s", (int)pid, tables[t].file);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        char line[512];
        bool found = false;
        while (fgets(line, sizeof line, f)) {
            unsigned long ino;
            if (sb_tr_parse_net_line(line, tables[t].v6, &ino, out, cap, port) && ino == want) {
                *udp = tables[t].udp;
                found = true;
                break;
            }
        }
        fclose(f);
        if (found)
            return true;
    }
    return false;
}
