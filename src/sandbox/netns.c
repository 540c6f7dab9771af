/* netns.c — the sandbox's network: a new, empty network namespace in
 * which only the loopback interface is brought up. There is no other
 * interface, route or socket path out: the host's loopback services, its
 * abstract unix sockets (which belong to the network namespace) and the
 * outside world are unreachable. Filesystem unix sockets of the host are
 * not mounted inside. */
#include "sandbox/sandbox_internal.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int sb_child_loopback_up(sb_msg *m)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return sb_fail(m, errno, "socket for loopback set-up");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
        int e = errno;
        close(fd);
        return sb_fail(m, e, "SIOCGIFFLAGS lo");
    }
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) {
        int e = errno;
        close(fd);
        return sb_fail(m, e, "bringing up lo");
    }
    close(fd);
    return 0;
}
