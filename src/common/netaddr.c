/* netaddr.c — listen addresses into socket addresses (see netaddr.h). */
#include "common/netaddr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

pyti_status netaddr_parse_listen(const char *listen, const char *dflt,
                                 struct sockaddr_storage *ss, socklen_t *len, bool *v6,
                                 pyti_error *err)
{
    const char *spec = listen && *listen ? listen : dflt;
    char host[256] = "127.0.0.1", port[16] = "8000";
    const char *colon = strrchr(spec, ':');
    if (spec[0] == '[') {
        const char *close_br = strchr(spec, ']');
        if (!close_br || (close_br[1] && close_br[1] != ':'))
            return pyti_error_set(err, PYTI_ERR_USAGE, "--listen '%s': expected [ADDR]:PORT",
                                  spec);
        snprintf(host, sizeof host, "%.*s", (int)(close_br - spec - 1), spec + 1);
        if (close_br[1] == ':')
            snprintf(port, sizeof port, "%s", close_br + 2);
    } else if (colon) {
        if (colon > spec)
            snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
        snprintf(port, sizeof port, "%s", colon + 1);
    } else {
        snprintf(port, sizeof port, "%s", spec);
    }
    char *end;
    long pn = strtol(port, &end, 10);
    if (!*port || *end || pn < 0 || pn > 65535)
        return pyti_error_set(err, PYTI_ERR_USAGE, "--listen '%s': invalid port '%s'", spec,
                              port);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0 || !res)
        return pyti_error_set(err, PYTI_ERR_USAGE, "--listen '%s': cannot use address '%s': %s",
                              spec, host, gai_strerror(gai));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    *v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return PYTI_OK;
}

void netaddr_http_url(const struct sockaddr_storage *ss, bool v6, unsigned port, char *out,
                      size_t size)
{
    char host[INET6_ADDRSTRLEN] = "127.0.0.1";
    if (v6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        if (IN6_IS_ADDR_UNSPECIFIED(a))
            snprintf(host, sizeof host, "::1");
        else
            inet_ntop(AF_INET6, a, host, sizeof host);
    } else {
        const struct in_addr *a = &((const struct sockaddr_in *)ss)->sin_addr;
        if (a->s_addr != htonl(INADDR_ANY))
            inet_ntop(AF_INET, a, host, sizeof host);
    }
    snprintf(out, size, v6 ? "http://[%s]:%u" : "http://%s:%u", host, port);
}
