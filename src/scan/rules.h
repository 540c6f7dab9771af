/* rules.h — the static scan's rules: loading rules files (INI, one
 * section per rule), merging overrides by id, and compiling the PCRE2
 * patterns once (JIT, when the library has it, on a pattern's first use).
 *
 * A rules file looks like this (docs/scan-rules.md has the full grammar):
 *
 *   [rule exec-base64]
 *   severity = critical
 *   category = exec
 *   description = exec/eval of base64-decoded data
 *   files = @python
 *   pattern = \b(?:exec|eval)\s*\([^\n]{0,300}?b64decode
 *   require-also = ...        ; optional, repeatable: all must match the file
 *   unless = ...              ; optional: a hit is dropped when its line matches
 *   trigger = exec eval       ; optional, repeatable: the rule is only tried on
 *                             ; files containing one of these words (a speed-up)
 *
 * A rule either has one or more `pattern`s (PCRE2, matched over the whole
 * file in multi-line mode) or a `check` naming a detector built into the
 * scanner (long-line, entropy, ipv4) with its `threshold`/`min-length`.
 *
 * Rules are data: the shipped file is data/scan-rules.ini; a user file
 * ($XDG_CONFIG_HOME/pyti/scan-rules.ini) adds rules and overrides shipped
 * ones key by key (`disabled = yes` turns one off). Every error names
 * file:line. */
#ifndef PYTI_SCAN_RULES_H
#define PYTI_SCAN_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/finding.h"
#include "common/strv.h"

#define SCAN_RULES_MAX_BYTES (1u << 20)  /* per rules file */
#define SCAN_RULE_ID_MAX 64
#define SCAN_RULE_PATTERNS_MAX 16         /* pattern / require-also / trigger keys per rule */
#define SCAN_TRIGGER_WORD_MAX 48          /* bytes in a trigger word */

typedef enum pyti_scan_check {
    SCAN_CHECK_PATTERN = 0, /* PCRE2 pattern(s) */
    SCAN_CHECK_LONG_LINE,   /* a line longer than threshold bytes */
    SCAN_CHECK_ENTROPY,     /* a string literal of >= min-length bytes with Shannon
                               entropy >= threshold bits per byte */
    SCAN_CHECK_IPV4,        /* a public IPv4 address inside a string literal */
} pyti_scan_check;

/* A compiled pattern with the place it came from. code is a pcre2_code*;
 * kept as void* so that users of this header need not include pcre2.h.
 * jit is the state of its JIT code, made on first use (scan_pattern_ready):
 * 0 not yet, 1 made, -1 refused by the library (the interpreter matches). */
typedef struct pyti_scan_pattern {
    char *source;
    void *code;
    int jit;
} pyti_scan_pattern;

/* A `trigger` key: words (lowercase [a-z0-9_]) of which at least one must
 * occur in a file, as a whole token, for the rule to be tried there. */
typedef struct pyti_scan_trigger {
    pyti_strv words;
} pyti_scan_trigger;

typedef struct pyti_scan_rule {
    char *id;              /* [a-z0-9][a-z0-9-]*; findings are "scan.<id>" */
    pyti_severity severity;
    char *category;
    char *description;
    pyti_strv files;       /* globs and @scopes, already expanded to globs */
    pyti_strv exclude;     /* globs */
    pyti_scan_check check;
    pyti_scan_pattern patterns[SCAN_RULE_PATTERNS_MAX];
    size_t npatterns;
    pyti_scan_pattern require[SCAN_RULE_PATTERNS_MAX];
    size_t nrequire;
    pyti_scan_pattern unless; /* code NULL if none */
    pyti_scan_trigger triggers[SCAN_RULE_PATTERNS_MAX]; /* all must be met */
    size_t ntriggers;
    double threshold;      /* long-line: bytes; entropy: bits per byte */
    size_t min_length;     /* entropy: shortest literal considered */
    char *file;            /* where the rule's section starts (last override wins) */
    unsigned line;
} pyti_scan_rule;

typedef struct pyti_scan_rules pyti_scan_rules;

/* Reads and compiles rules files in order: later files override earlier
 * ones by rule id, key by key (a `pattern` or `require-also` key replaces
 * all of the earlier rule's keys of that name). paths is NULL-terminated;
 * a NULL entry ends the list, an entry that does not exist is an error
 * unless optional[i] is true (optional may be NULL: all required).
 * On error NULL is returned and err names file:line and the problem
 * (syntax, unknown key, bad value, a pattern PCRE2 refuses with its
 * offset, a rule missing a required key). */
pyti_scan_rules *scan_rules_load(const char *const *paths, const bool *optional, pyti_error *err);

/* Like scan_rules_load for one file given as text (name is used in
 * messages). For tests and the fuzz target. */
pyti_scan_rules *scan_rules_from_string(const char *text, size_t len, const char *name,
                                        pyti_error *err);

/* The shipped rules (<datadir>/data/scan-rules.ini) followed by the
 * user's ($XDG_CONFIG_HOME/pyti/scan-rules.ini, if it exists). The names
 * of the files actually read are appended to files_read (may be NULL). */
pyti_scan_rules *scan_rules_load_default(pyti_strv *files_read, pyti_error *err);

/* Number of enabled rules, and the i-th of them (in file order). */
size_t scan_rules_count(const pyti_scan_rules *rs);
const pyti_scan_rule *scan_rules_get(const pyti_scan_rules *rs, size_t i);
/* The enabled rule with this id, or NULL. */
const pyti_scan_rule *scan_rules_find(const pyti_scan_rules *rs, const char *id);
/* True if the library has JIT and no pattern used so far was refused it. */
bool scan_rules_jit(const pyti_scan_rules *rs);
/* Returns p's code (a pcre2_code*), JIT-compiled first if this is its
 * first use and the library has JIT. JIT compilation of every pattern took
 * most of a small package's scan (~100 patterns, most never tried on it:
 * triggers and file globs rule them out). The JIT code is a cache inside
 * the otherwise read-only rules: a rules set must not be used by two
 * threads at once. */
void *scan_pattern_ready(const pyti_scan_rules *rs, const pyti_scan_pattern *p);
void scan_rules_free(pyti_scan_rules *rs);

/* True if the rule applies to the file at rel (a path relative to the
 * scanned root, '/'-separated): it matches one of `files` and none of
 * `exclude`. A glob without '/' is matched against the base name, one
 * with '/' against the whole path; matching ignores ASCII case. */
bool scan_rule_applies(const pyti_scan_rule *r, const char *rel);

#endif
