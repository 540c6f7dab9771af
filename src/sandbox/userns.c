/* userns.c — who the package is: the uid/gid mapping of the sandbox's user
 * namespace, the switch to the inside user, and the dropping of every
 * privilege before the command runs.
 *
 * Package code never runs as host root. Inside it is uid/gid 1000
 * ("pyti"). When pyti runs as root that id maps to an unprivileged host
 * id (SANDBOX_DEFAULT_HOST_ID, 100000, or the spec's), and the writable
 * dirs pyti made for the job are handed to it (sb_chown_tree, when the
 * spec says give_writable_dirs); when pyti runs as an ordinary
 * user it maps to that user. Only that one id is mapped: host root and
 * everyone else appear as the overflow id (65534), so a setuid-root file
 * can never give root (the kernel refuses to honour set-id bits of
 * unmapped owners; nosuid mounts and no_new_privs refuse it twice more). */
#include "sandbox/sandbox_internal.h"
#include "common/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

void sb_ids_choose(const pyti_sandbox_spec *spec, sb_ids *ids)
{
    memset(ids, 0, sizeof *ids);
    ids->inside_uid = SANDBOX_INSIDE_UID;
    ids->inside_gid = SANDBOX_INSIDE_GID;
    ids->root = geteuid() == 0;
    if (ids->root) {
        ids->host_uid = spec->host_uid ? spec->host_uid : SANDBOX_DEFAULT_HOST_ID;
        ids->host_gid = spec->host_gid ? spec->host_gid : SANDBOX_DEFAULT_HOST_ID;
    } else {
        ids->host_uid = geteuid();
        ids->host_gid = getegid();
    }
}

static pyti_status write_proc(pid_t pid, const char *file, const char *text, pyti_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return pyti_error_errno(err, PYTI_ERR_INTERNAL, errno, "sandbox: opening %s", path);
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    int e = errno;
    close(fd);
    if (w != (ssize_t)len)
        return pyti_error_errno(err, PYTI_ERR_INTERNAL, w < 0 ? e : EIO,
                                "sandbox: writing '%.*s' to %s", (int)strcspn(text, "\n"), text,
                                path);
    return PYTI_OK;
}

pyti_status sb_userns_write_maps(pid_t pid, const sb_ids *ids, pyti_error *err)
{
    char line[64];
    /* An unprivileged writer must deny setgroups before gid_map; as root we
     * keep it allowed so the child can clear root's supplementary groups. */
    if (!ids->root && write_proc(pid, "setgroups", "deny", err) != PYTI_OK)
        return PYTI_ERR_INTERNAL;
    snprintf(line, sizeof line, "%u %u 1\n", (unsigned)ids->inside_uid, (unsigned)ids->host_uid);
    if (write_proc(pid, "uid_map", line, err) != PYTI_OK)
        return PYTI_ERR_INTERNAL;
    snprintf(line, sizeof line, "%u %u 1\n", (unsigned)ids->inside_gid, (unsigned)ids->host_gid);
    return write_proc(pid, "gid_map", line, err);
}

static int capset_raw(uint32_t eff0, uint32_t eff1, uint32_t prm0, uint32_t prm1)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    data[0].effective = eff0;
    data[1].effective = eff1;
    data[0].permitted = prm0;
    data[1].permitted = prm1;
    return (int)syscall(SYS_capset, &hdr, data);
}

int sb_child_become_user(const sb_ids *ids, sb_msg *m)
{
    /* Keep the namespace's capabilities across the uid change: setup
     * (mounts, hostname, loopback) still needs them. Files created in the
     * new tmpfs root must be owned by a mapped id, hence the early switch. */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
        return sb_fail(m, errno, "PR_SET_KEEPCAPS");
    if (ids->root && setgroups(0, NULL) != 0)
        return sb_fail(m, errno, "clearing supplementary groups");
    if (setresgid(ids->inside_gid, ids->inside_gid, ids->inside_gid) != 0)
        return sb_fail(m, errno, "setresgid(%u)", (unsigned)ids->inside_gid);
    if (setresuid(ids->inside_uid, ids->inside_uid, ids->inside_uid) != 0)
        return sb_fail(m, errno, "setresuid(%u)", (unsigned)ids->inside_uid);
    if (capset_raw(~0u, ~0u, ~0u, ~0u) != 0)
        return sb_fail(m, errno, "re-raising capabilities for setup");
    return 0;
}

int sb_child_drop_privileges(sb_msg *m)
{
    /* Securebits first (needs CAP_SETPCAP): no capability is ever regained
     * by uid changes or exec of a file owned by "root". */
    if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                     SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                                     SECBIT_NO_CAP_AMBIENT_RAISE |
                                     SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
              0, 0, 0) != 0)
        return sb_fail(m, errno, "PR_SET_SECUREBITS");
    for (int cap = 0; cap <= 63; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
            return sb_fail(m, errno, "dropping capability %d from the bounding set", cap);
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
        return sb_fail(m, errno, "clearing ambient capabilities");
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &hdr, data) != 0)
        return sb_fail(m, errno, "dropping capabilities");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return sb_fail(m, errno, "PR_SET_NO_NEW_PRIVS");
    return 0;
}

/* lchown -R below dirfd/name, never following symlinks or leaving the
 * file system. depth bounds the recursion (fds). */
static int chown_at(int dfd, const char *name, uid_t uid, gid_t gid, dev_t dev, int depth)
{
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -1;
    if (st.st_dev != dev)
        return 0;
    if ((st.st_uid != uid || st.st_gid != gid) &&
        fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode))
        return 0;
    if (depth > 256) {
        errno = ELOOP;
        return -1;
    }
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (chown_at(dirfd(d), de->d_name, uid, gid, dev, depth + 1) != 0) {
            rc = -1;
            break;
        }
    }
    int e = errno;
    closedir(d);
    errno = e;
    return rc;
}

pyti_status sb_chown_tree(const char *path, uid_t uid, gid_t gid, pyti_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return pyti_error_errno(err, PYTI_ERR_IO, errno, "sandbox: %s", path);
    if (chown_at(AT_FDCWD, path, uid, gid, st.st_dev, 0) != 0)
        return pyti_error_errno(err, PYTI_ERR_IO, errno,
                                "sandbox: handing %s to host uid %u", path, (unsigned)uid);
    return PYTI_OK;
}
