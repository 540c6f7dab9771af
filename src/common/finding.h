/* finding.h — findings: what a check noticed about a distribution, with a
 * stable id, a severity, a message and where (file:line or field).
 *
 * Parsers and tasks append findings to a pyti_findings list; the report
 * carries them as [{id, severity, message, where}]. Ids are dotted and
 * stable ("metadata.missing-summary", "wheel.record-hash-mismatch") and
 * are documented in docs/findings.md. */
#ifndef PYTI_FINDING_H
#define PYTI_FINDING_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum pyti_severity {
    PYTI_SEV_INFO = 0, /* a fact worth showing, never a problem */
    PYTI_SEV_LOW,      /* a small packaging or quality flaw */
    PYTI_SEV_MEDIUM,   /* a flaw users will notice */
    PYTI_SEV_HIGH,     /* breaks tools or users; or suspicious behaviour */
    PYTI_SEV_CRITICAL, /* the distribution is unusable or hostile */
} pyti_severity;

typedef struct pyti_finding {
    char *id;
    pyti_severity severity;
    char *message;
    char *where; /* may be NULL */
    char *excerpt; /* the offending text, bounded, for display; may be NULL */
} pyti_finding;

typedef struct pyti_findings {
    pyti_finding *items;
    size_t len;
    size_t cap;
} pyti_findings;

#define PYTI_FINDINGS_INIT {NULL, 0, 0}

/* Appends a finding; where may be NULL. Copies every string. */
void findings_add(pyti_findings *f, const char *id, pyti_severity sev, const char *where,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Sets the excerpt of the last finding added to a copy of excerpt (NULL
 * clears it). Callers bound the excerpt and replace control characters
 * (str_excerpt); it is carried as "excerpt" in the JSON form. No-op on an
 * empty list. */
void findings_set_last_excerpt(pyti_findings *f, const char *excerpt);
/* True if a finding with this id is present. */
bool findings_has(const pyti_findings *f, const char *id);
/* The highest severity present, or -1 if the list is empty. */
int findings_max_severity(const pyti_findings *f);
void findings_free(pyti_findings *f);

const char *severity_name(pyti_severity sev);
/* Parses "info", "low", ... ; returns -1 for anything else. */
int severity_from_name(const char *name);

/* [{id, severity, message, where}] as a new JSON array; a finding with an
 * excerpt also has "excerpt". */
json_t *findings_to_json(const pyti_findings *f);
/* Appends the findings of a JSON array produced by findings_to_json;
 * malformed entries are skipped. */
void findings_from_json(pyti_findings *f, const json_t *array);

#endif
