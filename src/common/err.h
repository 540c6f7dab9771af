/* err.h — pyti's error value: a status code and a message naming what failed,
 * on what input and where.
 *
 * Functions that can fail take a `pyti_error *err` as their last argument,
 * return a pyti_status (or NULL/-1 where they return a value), and fill err
 * with a message a user can act on ("archive foo.tar.gz: entry '../x':
 * path escapes the target directory"). err may be NULL when the caller does
 * not want the message. The user never sees a bare errno. */
#ifndef PYTI_ERR_H
#define PYTI_ERR_H

#include <stdarg.h>

typedef enum pyti_status {
    PYTI_OK = 0,
    PYTI_ERR_INPUT,    /* untrusted input rejected (bad archive, metadata, ...) */
    PYTI_ERR_USAGE,    /* the user asked for something invalid */
    PYTI_ERR_NOTFOUND, /* a named thing (file, recipe, report) does not exist */
    PYTI_ERR_LIMIT,    /* a configured limit was hit */
    PYTI_ERR_IO,       /* the operating system refused (file system, fork...) */
    PYTI_ERR_INTERNAL, /* pyti's own bug or an infrastructure failure */
} pyti_status;

#define PYTI_ERROR_MSG_MAX 1024

typedef struct pyti_error {
    pyti_status code;
    char msg[PYTI_ERROR_MSG_MAX];
} pyti_error;

/* Sets err (if not NULL) to code and the formatted message; returns code so
 * callers can write `return pyti_error_set(err, ...)`. */
pyti_status pyti_error_set(pyti_error *err, pyti_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like pyti_error_set, appending ": " and strerror(errnum) to the message. */
pyti_status pyti_error_errno(pyti_error *err, pyti_status code, int errnum,
                             const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prepends context to err's message ("reading recipe x: " + old message).
 * Keeps the code. Returns err->code (PYTI_OK if err is NULL). */
pyti_status pyti_error_prefix(pyti_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resets err to PYTI_OK with an empty message. */
void pyti_error_clear(pyti_error *err);

/* The short stable name of a status ("input", "usage", "io", ...). */
const char *pyti_status_name(pyti_status code);

#endif
