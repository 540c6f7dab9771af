/* netaddr.h — listen addresses of pyti's HTTP servers ("ADDR:PORT",
 * "[ADDR6]:PORT" or "PORT") into socket addresses. */
#ifndef PYTI_NETADDR_H
#define PYTI_NETADDR_H

#include <stdbool.h>
#include <sys/socket.h>

#include "common/err.h"

/* Parses listen (NULL or empty means dflt, itself ADDR:PORT) and resolves
 * the address (numeric or a name) into *ss and *len; *v6 tells the family.
 * Port 0 asks the kernel for a free one. PYTI_ERR_USAGE naming the value
 * for a bad port or an address that does not resolve. */
pyti_status netaddr_parse_listen(const char *listen, const char *dflt,
                                 struct sockaddr_storage *ss, socklen_t *len, bool *v6,
                                 pyti_error *err);

/* "http://ADDR:PORT" (brackets around IPv6) for a bound address with the
 * given port into out. An unspecified address (0.0.0.0, ::) becomes the
 * loopback address, which is where a local client reaches it. */
void netaddr_http_url(const struct sockaddr_storage *ss, bool v6, unsigned port, char *out,
                      size_t size);

#endif
