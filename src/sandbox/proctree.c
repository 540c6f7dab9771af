/* proctree.c — sampling the sandbox's process tree through the host's
 * /proc when no cgroup counts for pyti (the rlimit fallback): how many
 * tasks (processes and threads) there are and how much resident memory
 * they use together. The parent uses it to enforce the pids and memory
 * limits tree-wide (RLIMIT_NPROC and RLIMIT_AS alone are silent, and
 * RLIMIT_AS is per process) and to name them when they are hit.
 *
 * The walk follows /proc/<pid>/task/<tid>/children from init, so it sees
 * exactly the sandbox's processes (every one descends from init: orphans
 * are re-parented to it). Numbers are samples: a process born and dead
 * between two samples is not seen. */
#include "sandbox/sandbox_internal.h"
#include "common/xalloc.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ssize_t read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

void sb_proctree_sample(pid_t root, size_t max_tasks, uint64_t *tasks, uint64_t *rss_bytes)
{
    *tasks = 0;
    *rss_bytes = 0;
    long page = sysconf(_SC_PAGESIZE);
    size_t cap = 64, n = 0;
    pid_t *queue = xmalloc(cap * sizeof *queue);
    queue[n++] = root;
    for (size_t i = 0; i < n && *tasks < max_tasks; i++) {
        char path[96], buf[4096];
        snprintf(path, sizeof path, "/proc/%d/statm", (int)queue[i]);
        if (read_file(path, buf, sizeof buf) > 0) {
            unsigned long long size = 0, resident = 0;
            if (sscanf(buf, "%llu %llu", &size, &resident) == 2)
                *rss_bytes += resident * (uint64_t)page;
        }
        snprintf(path, sizeof path, "/proc/%d/task", (int)queue[i]);
        DIR *d = opendir(path);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d)) && *tasks < max_tasks) {
            if (de->d_name[0] < '0' || de->d_name[0] > '9')
                continue;
            (*tasks)++;
            snprintf(path, sizeof path, "/proc/%d/task/%.20s/children", (int)queue[i], de->d_name);
            if (read_file(path, buf, sizeof buf) <= 0)
                continue;
            for (char *p = buf, *end; *p; p = end) {
                long child = strtol(p, &end, 10);
                if (end == p)
                    break;
                if (child > 0) {
                    if (n == cap) {
                        cap *= 2;
                        queue = xreallocarray(queue, cap, sizeof *queue);
                    }
                    queue[n++] = (pid_t)child;
                }
            }
        }
        closedir(d);
    }
    free(queue);
}
