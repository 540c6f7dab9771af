/* cmd_sandbox.h — the help texts of `pyti sandbox`, shared by the command
 * table (commands.c) and by the small front binary (front.c), which runs
 * `pyti sandbox` without linking the rest of the command line. */
#ifndef PYTI_CMD_SANDBOX_H
#define PYTI_CMD_SANDBOX_H

#define CMD_SANDBOX_SYNOPSIS "pyti sandbox [OPTIONS] -- CMD [ARGS]"
#define CMD_SANDBOX_SUMMARY "run a command in pyti's sandbox (debugging)"
#define CMD_SANDBOX_HELP \
    "Runs CMD inside the sandbox every package task gets: new user, mount, PID,\n" \
    "network, IPC, UTS and cgroup namespaces; a tmpfs root with the host's /usr\n" \
    "read-only; uid 1000 with no capabilities and no_new_privs; a seccomp filter\n" \
    "whose denied calls are reported; no network but loopback; and limits.\n" \
    "By default /work is an empty tmpfs and the working directory, HOME is an\n" \
    "empty /home/pyti, PATH is /usr/local/bin:/usr/bin:/bin, stdin is passed on,\n" \
    "and output is shown as it comes. There is no way to turn isolation off.\n" \
    "\n" \
    "mounts (repeatable, applied in order after the system ones):\n" \
    "      --ro-bind SRC DEST  host path SRC read-only at DEST\n" \
    "      --bind SRC DEST     host path SRC writable at DEST (counts as disk)\n" \
    "      --tmpfs DEST[:SIZE] a fresh tmpfs at DEST (SIZE default: --disk)\n" \
    "      --dir DEST          an empty directory at DEST\n" \
    "      --home DIR          host DIR as the (writable) home instead of a tmpfs\n" \
    "\n" \
    "environment:\n" \
    "      --chdir DIR         working directory inside (default /work)\n" \
    "      --setenv NAME VALUE set a variable (the environment is otherwise clean)\n" \
    "      --hostname NAME     host name inside (default pyti)\n" \
    "      --no-stdin          give the command /dev/null as stdin\n" \
    "\n" \
    "limits (0 means none, except --timeout):\n" \
    "      --timeout S         wall clock, whole process tree (default 600)\n" \
    "      --memory SIZE       memory (default 2G)\n" \
    "      --pids N            processes and threads (default 512)\n" \
    "      --cpu S             CPU seconds of the whole tree (default none)\n" \
    "      --disk SIZE         writable dirs and tmpfs together (default 1G)\n" \
    "      --output-limit SIZE stdout+stderr together (default 16M)\n" \
    "\n" \
    "results:\n" \
    "      --json FILE         write the result (exit, limit, usage, events) as JSON\n" \
    "                          ('-' for stdout)\n" \
    "      --stdout FILE       also capture stdout into FILE\n" \
    "      --stderr FILE       also capture stderr into FILE\n" \
    "      --trace SYSCALL     report SYSCALL as a 'traced' event and let it run\n" \
    "      --trace-all         the behaviour tracer: files, programs, network, DNS\n" \
    "                          (decoded; docs/tracing.md)\n" \
    "      --verbose           print the isolation probe and the usage\n" \
    "\n" \
    "SIZE is a number with an optional K, M, G or T suffix; S is seconds with an\n" \
    "optional s, m or h suffix.\n" \
    "\n" \
    "exit codes: CMD's own exit code; 128+N if it was killed by signal N;\n" \
    "124 when pyti killed it at the timeout; 125 when pyti killed it at a limit\n" \
    "(memory, pids, cpu, disk, output: named on stderr and in --json); 2 usage\n" \
    "error; 3 pyti's own failure (including a host without full isolation).\n"

#endif
