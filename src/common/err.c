/* err.c — filling and composing pyti_error values (see err.h). */
#include "common/err.h"

#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 3, 0)))
static void set_v(pyti_error *err, pyti_status code, const char *fmt, va_list ap)
{
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

pyti_status pyti_error_set(pyti_error *err, pyti_status code, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    set_v(err, code, fmt, ap);
    va_end(ap);
    return code;
}

pyti_status pyti_error_errno(pyti_error *err, pyti_status code, int errnum,
                             const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    set_v(err, code, fmt, ap);
    va_end(ap);
    size_t len = strlen(err->msg);
    snprintf(err->msg + len, sizeof err->msg - len, ": %s", strerror(errnum));
    return code;
}

pyti_status pyti_error_prefix(pyti_error *err, const char *fmt, ...)
{
    if (!err)
        return PYTI_OK;
    char prefix[PYTI_ERROR_MSG_MAX];
    char old[PYTI_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* Truncation of an over-long message is acceptable: the head (the
     * context) is what matters most. */
    size_t lp = strnlen(prefix, sizeof err->msg - 1);
    memcpy(err->msg, prefix, lp);
    size_t pos = lp;
    if (pos + 2 < sizeof err->msg) {
        memcpy(err->msg + pos, ": ", 2);
        pos += 2;
    }
    size_t lo = strnlen(old, sizeof old);
    if (lo > sizeof err->msg - 1 - pos)
        lo = sizeof err->msg - 1 - pos;
    memcpy(err->msg + pos, old, lo);
    err->msg[pos + lo] = '\0';
    return err->code;
}

void pyti_error_clear(pyti_error *err)
{
    if (!err)
        return;
    err->code = PYTI_OK;
    err->msg[0] = '\0';
}

const char *pyti_status_name(pyti_status code)
{
    switch (code) {
    case PYTI_OK: return "ok";
    case PYTI_ERR_INPUT: return "input";
    case PYTI_ERR_USAGE: return "usage";
    case PYTI_ERR_NOTFOUND: return "not-found";
    case PYTI_ERR_LIMIT: return "limit";
    case PYTI_ERR_IO: return "io";
    case PYTI_ERR_INTERNAL: return "internal";
    }
    return "unknown";
}
