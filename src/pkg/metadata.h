/* metadata.h — core metadata (PKG-INFO / METADATA, versions 1.0 to 2.4):
 * parsing the RFC 822 form and validating it.
 *
 * Parsing is lenient the way pip and packaging are (it keeps what it can
 * read and records what it could not); validation turns every problem into
 * a finding with a severity. */
#ifndef PYTI_METADATA_H
#define PYTI_METADATA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/finding.h"
#include "common/strv.h"

typedef struct pyti_metadata_field {
    char *name;    /* as written, e.g. "Requires-Dist" */
    char *value;   /* continuation lines joined with "\n" and their leading
                      whitespace kept (as email.parser does), trailing
                      whitespace removed; for Description and License the
                      folding is undone as readers do: the spec's "       |"
                      prefix or the common (up to 8-space) indentation is
                      stripped from continuation lines */
    unsigned line; /* 1-based line of the field name */
} pyti_metadata_field;

typedef struct pyti_metadata {
    pyti_metadata_field *fields; /* in file order */
    size_t nfields;
    char *body;                  /* message body (the description), or NULL */
    unsigned body_line;
    char *source;                /* name used in messages ("foo-1.0/PKG-INFO") */
    pyti_findings parse_findings; /* problems met while parsing */
} pyti_metadata;

/* Parses text[0..len). Fails (PYTI_ERR_INPUT) only if nothing usable is
 * there (empty, binary, not UTF-8 decodable in the header, or larger than
 * limits); other problems (malformed lines, duplicated single-use fields)
 * become parse_findings. source names the file in messages. */
pyti_metadata *metadata_parse(const char *text, size_t len, const char *source,
                              pyti_error *err);
void metadata_free(pyti_metadata *md);

/* First value of a field (case-insensitive name), or NULL. */
const char *metadata_get(const pyti_metadata *md, const char *name);
/* Appends every value of a multiple-use field to out; returns the count. */
size_t metadata_get_all(const pyti_metadata *md, const char *name, pyti_strv *out);
/* The description: Description field if present, else the body. */
const char *metadata_description(const pyti_metadata *md);

/* Validates against the core metadata spec and appends findings:
 * missing required fields, invalid Metadata-Version / Name / Version,
 * Name or Version not matching the file name (filename may be NULL to
 * skip), unparsable Requires-Dist / Provides-Extra / Requires-Python,
 * malformed classifiers, missing license / summary / description, fields
 * newer than the declared Metadata-Version, Dynamic misuse. Ids are listed
 * in docs/findings.md. known_classifiers (may be NULL: syntax checks only)
 * is the list of valid trove classifiers (data/classifiers.txt). */
void metadata_validate(const pyti_metadata *md, const char *filename,
                       const pyti_strv *known_classifiers, pyti_findings *out);

/* Loads a trove classifier list (data/classifiers.txt) into out, one entry
 * per non-blank line that does not start with '#'. Entries starting with
 * '!' are deprecated classifiers, written "!Old" or "!Old => Replacement";
 * metadata_validate reports them as deprecated rather than unknown.
 * Fails if the file cannot be read (at most 8 MiB). */
pyti_status metadata_load_classifiers(const char *path, pyti_strv *out, pyti_error *err);

/* True if expr has the shape of an SPDX license expression (ids and
 * LicenseRef-s joined by AND / OR, WITH exceptions, parentheses, "id+").
 * Identifiers are not checked against the SPDX list. */
bool metadata_license_expression_ok(const char *expr);

/* The JSON form of PEP 566 (lowercase underscore keys, multiple-use fields
 * as lists, the description included), new object. */
json_t *metadata_to_json(const pyti_metadata *md);

#endif
