/* policy.h — the behaviour policy: an ordered list of rules (INI, shipped
 * as data/trace-policy.ini, overridable from $XDG_CONFIG_HOME/pyti/
 * trace-policy.ini) that maps what the tracer saw to a finding id and a
 * severity, or marks it as expected. The first rule that matches an event
 * decides. Grammar and every shipped rule: docs/tracing.md.
 *
 *   [rule persistence-startup-files]
 *   id = trace.persistence
 *   kind = file.write, file.rename, file.link
 *   any-path = /home/pyti/.bashrc, /home/pyti/.profile
 *   phase = build, install, import, test
 *   severity = critical
 *   message = changes a shell start-up file or an autostart location
 *
 * Severities: ignore (expected: forgotten), record (kept in the report's
 * events, no finding), info, low, medium, high, critical (a finding). */
#ifndef PYTI_POLICY_H
#define PYTI_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/strv.h"

#define POLICY_IGNORE (-2)
#define POLICY_RECORD (-1)
/* Largest policy file read. */
#define POLICY_MAX_BYTES (1u << 20)
#define POLICY_MAX_RULES 2000

typedef struct pyti_policy_rule {
    char *name;           /* the section's name */
    char *id;             /* finding id (trace.*, honeytoken.*); NULL for ignore/record */
    int severity;         /* POLICY_IGNORE, POLICY_RECORD or a pyti_severity */
    char *message;        /* what the finding says; may be NULL */
    pyti_strv kind, path, target, any_path, program, argv, object, phase, process, category;
    int local;            /* -1 either, 0 not local, 1 local (loopback, unix) */
    int socket_stdio;     /* -1 either, 1 standard streams on a socket */
    double min_seconds;   /* sleeps: at least this long; 0 = any */
    uint64_t min_count;   /* counts (forks): at least; 0 = any */
    uint64_t mode_any;    /* chmod/mkdir/creat: any of these mode bits; 0 = any */
    char *file;
    unsigned line;
} pyti_policy_rule;

typedef struct pyti_policy {
    pyti_policy_rule *rules;
    size_t n, cap;
} pyti_policy;

/* What a rule is matched against. Strings may be NULL (a rule with a
 * pattern for a NULL field does not match). */
typedef struct pyti_policy_event {
    const char *kind;       /* "file.write", "exec", "net.dns", "honeytoken.read", ... */
    const char *phase;      /* "build", "install", "import", "test", "lint", "venv", "command" */
    const char *process;    /* process name (comm) */
    const char *object;     /* path, program, address, DNS name, syscall, limit */
    const char *object2;    /* second path (rename/link target) */
    const char *argv;       /* exec: the arguments joined by spaces */
    const char *category;   /* honeytokens: "ssh-key", "cloud", ... */
    bool local;
    bool socket_stdio;
    double seconds;
    uint64_t mode;
    uint64_t count;
} pyti_policy_event;

/* Parses policy text (name is used in messages) and appends its rules to
 * p: a rule whose section name is already present replaces it in place;
 * new rules go before the existing ones when prepend (user overrides are
 * tried first), else after. PYTI_ERR_INPUT naming "name:line" and the
 * problem (unknown key, bad severity, missing id for a finding rule, a
 * value too long...) on error; p keeps what it had. */
pyti_status policy_parse(pyti_policy *p, const char *text, size_t len, const char *name,
                         bool prepend, pyti_error *err);

/* Loads the shipped policy (<datadir>/data/trace-policy.ini) and the
 * user's ($XDG_CONFIG_HOME/pyti/trace-policy.ini, when it exists). */
pyti_status policy_load_default(pyti_policy *p, pyti_error *err);

void policy_free(pyti_policy *p);

/* The first rule matching ev, or NULL (nothing said: treated as ignore). */
const pyti_policy_rule *policy_match(const pyti_policy *p, const pyti_policy_event *ev);

/* Glob matching (fnmatch with FNM_PATHNAME): a star matches any run of
 * characters but '/', '?' one character but '/', [...] classes; one
 * double star as a whole path component matches any number of components
 * (docs/tracing.md has examples). With text, '/' is an ordinary character
 * (a star matches it too). Pure. */
bool policy_glob(const char *pattern, const char *s, bool text);

#endif
