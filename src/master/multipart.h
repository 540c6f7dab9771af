/* multipart.h — a strict parser of multipart/form-data request bodies
 * (RFC 7578), as twine and browsers send them: the boundary from the
 * Content-Type, then each part's Content-Disposition name and filename,
 * its Content-Type, and its bytes. The body is untrusted: every count and
 * length is bounded, and anything that does not follow the grammar is
 * refused with a message naming the part and what is wrong.
 *
 * Parts point into the body (no copies): the body must outlive the form. */
#ifndef PYTI_MULTIPART_H
#define PYTI_MULTIPART_H

#include <stddef.h>

#include "common/err.h"

#define MULTIPART_MAX_PARTS 1024
#define MULTIPART_MAX_HEADERS 8192 /* bytes of one part's header block */
#define MULTIPART_MAX_NAME 255     /* bytes of a field name or file name */

typedef struct mp_part {
    char *name;          /* the field name (new string) */
    char *filename;      /* the file name as sent, or NULL for a plain field */
    char *content_type;  /* or NULL */
    const char *data;    /* into the body */
    size_t len;
} mp_part;

typedef struct mp_form {
    mp_part *parts;
    size_t n;
} mp_form;

/* The boundary parameter of a multipart/form-data Content-Type into out
 * (1-70 characters, RFC 2046). PYTI_ERR_INPUT if the type is another or
 * the boundary is missing or malformed. */
pyti_status multipart_boundary(const char *content_type, char *out, size_t size,
                               pyti_error *err);

/* Parses body[0..len) with boundary into form (free with multipart_free,
 * also after a failure). PYTI_ERR_INPUT naming the part ("part 3:
 * Content-Disposition: ...") for malformed input, PYTI_ERR_LIMIT for too
 * many parts or an oversized header block. */
pyti_status multipart_parse(const char *body, size_t len, const char *boundary, mp_form *form,
                            pyti_error *err);
void multipart_free(mp_form *form);

/* The first part named name, or NULL. */
const mp_part *multipart_get(const mp_form *form, const char *name);
/* A plain field's value as a new NUL-terminated string, or NULL when the
 * field is absent, holds a file, contains a NUL byte or is longer than
 * max bytes. */
char *multipart_field(const mp_form *form, const char *name, size_t max);

#endif
