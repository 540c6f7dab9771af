/* ipv4.c — public IPv4 addresses in text (see ipv4.h). */
#include "scan/ipv4.h"

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

bool ipv4_is_public(uint32_t a)
{
    static const struct { uint32_t net, mask; } reserved[] = {
        {0x00000000, 0xff000000}, /* 0/8 "this network" */
        {0x0a000000, 0xff000000}, /* 10/8 private */
        {0x64400000, 0xffc00000}, /* 100.64/10 shared (CGNAT) */
        {0x7f000000, 0xff000000}, /* 127/8 loopback */
        {0xa9fe0000, 0xffff0000}, /* 169.254/16 link-local */
        {0xac100000, 0xfff00000}, /* 172.16/12 private */
        {0xc0000000, 0xffffff00}, /* 192.0.0/24 protocol assignments */
        {0xc0000200, 0xffffff00}, /* 192.0.2/24 TEST-NET-1 */
        {0xc0586300, 0xffffff00}, /* 192.88.99/24 6to4 relay (deprecated) */
        {0xc0a80000, 0xffff0000}, /* 192.168/16 private */
        {0xc6120000, 0xfffe0000}, /* 198.18/15 benchmarking */
        {0xc6336400, 0xffffff00}, /* 198.51.100/24 TEST-NET-2 */
        {0xcb007100, 0xffffff00}, /* 203.0.113/24 TEST-NET-3 */
        {0xe0000000, 0xf0000000}, /* 224/4 multicast */
        {0xf0000000, 0xf0000000}, /* 240/4 reserved, broadcast */
    };
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if ((a & reserved[i].mask) == reserved[i].net)
            return false;
    return true;
}

/* Parses an octet at s[*i..len): 1-3 digits, no leading zero, <= 255. */
static bool octet(const char *s, size_t len, size_t *i, unsigned *out, bool *single)
{
    size_t j = *i;
    unsigned v = 0;
    while (j < len && is_digit(s[j]) && j - *i < 4)
        v = v * 10 + (unsigned)(s[j++] - '0');
    size_t n = j - *i;
    if (n == 0 || n > 3 || v > 255 || (n > 1 && s[*i] == '0'))
        return false;
    *single = n == 1;
    *out = v;
    *i = j;
    return true;
}

bool ipv4_find_public(const char *s, size_t len, size_t *pos, size_t *n)
{
    for (size_t i = *pos; i < len; i++) {
        if (!is_digit(s[i]) || (i > 0 && (is_digit(s[i - 1]) || s[i - 1] == '.')))
            continue;
        size_t j = i;
        uint32_t addr = 0;
        bool ok = true, all_single = true;
        for (int k = 0; k < 4 && ok; k++) {
            unsigned v = 0;
            bool single = false;
            if (k > 0) {
                if (j >= len || s[j] != '.') {
                    ok = false;
                    break;
                }
                j++;
            }
            ok = octet(s, len, &j, &v, &single);
            all_single &= single;
            addr = addr << 8 | v;
        }
        if (!ok)
            continue;
        /* Not glued to more digits, letters or dotted parts ("1.2.3.4.5",
         * "1.2.3.4a", "4.3.2.1.in-addr.arpa"). */
        if (j < len && (is_digit(s[j]) || is_alpha(s[j]) ||
                        (s[j] == '.' && j + 1 < len && (is_digit(s[j + 1]) || is_alpha(s[j + 1])))))
            continue;
        if (i > 0) {
            char p = s[i - 1];
            char pp = i > 1 ? s[i - 2] : '\0';
            bool op = p == '=' && (pp == '=' || pp == '<' || pp == '>' || pp == '~' || pp == '!');
            if (is_alpha(p) || p == '-' || p == '<' || p == '>' || op)
                continue;
        }
        /* 1.3.x.y and 2.5.x.y are object identifier arcs ("1.3.101.112"
         * is Ed25519, "2.5.29.17" subjectAltName), far more often than
         * addresses. */
        if (all_single || !ipv4_is_public(addr) || (addr >> 16) == 0x0103 ||
            (addr >> 16) == 0x0205)
            continue;
        *pos = i;
        *n = j - i;
        return true;
    }
    return false;
}
