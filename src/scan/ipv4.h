/* ipv4.h — spotting hard-coded public IPv4 addresses in text, for the
 * scan's ipv4 check. Dotted quads in private, loopback, link-local,
 * shared, documentation, benchmark, multicast and reserved ranges are not
 * public and are skipped, and so is what looks like a version number
 * rather than an address (see ipv4_find_public). */
#ifndef PYTI_SCAN_IPV4_H
#define PYTI_SCAN_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True if the address a.b.c.d (as a host-order 32-bit value) is a
 * globally routable unicast address: not in 0/8, 10/8, 100.64/10, 127/8,
 * 169.254/16, 172.16/12, 192.0.0/24, 192.0.2/24, 192.88.99/24,
 * 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24, 224/4 or 240/4. */
bool ipv4_is_public(uint32_t addr);

/* Finds the first public IPv4 address in s[0..len) at or after *pos.
 * A candidate is four decimal octets (0-255, no leading zeros) joined by
 * dots, not touching another digit, dot or letter on either side (nor
 * followed by more dotted parts, as in a reverse-DNS name). It is
 * taken for a version rather than an address when it follows a letter,
 * '-', '<', '>' or a comparison operator ("==", ">=", "~=", ...; as in
 * "v1.2.3.4", "pkg-1.2.3.4", ">=10.2.30.4"), or when all four octets are single digits. On success
 * returns true with *pos set to its offset and *n to its length; else
 * false. Cannot fail. */
bool ipv4_find_public(const char *s, size_t len, size_t *pos, size_t *n);

#endif
