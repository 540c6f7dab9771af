/* log.c — stderr diagnostics with levels and optional colour (see log.h). */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pyti_log_level current_level = PYTI_LOG_INFO;

void log_set_level(pyti_log_level level) { current_level = level; }
pyti_log_level log_get_level(void) { return current_level; }

bool log_color_enabled(int fd)
{
    const char *no_color = getenv("NO_COLOR");
    if (no_color && *no_color)
        return false;
    const char *term = getenv("TERM");
    if (term && strcmp(term, "dumb") == 0)
        return false;
    return isatty(fd);
}

__attribute__((format(printf, 2, 0)))
static void emit(pyti_log_level level, const char *fmt, va_list ap)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    static const char *const colors[] = {"\033[1;31m", "\033[1;33m", "\033[1;34m", "\033[2m"};
    if (level > current_level)
        return;
    bool color = log_color_enabled(STDERR_FILENO);
    fprintf(stderr, "pyti: %s%s:%s ", color ? colors[level] : "", names[level],
            color ? "\033[0m" : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

#define DEFINE_LOG(fn, level)            \
    void fn(const char *fmt, ...)        \
    {                                    \
        va_list ap;                      \
        va_start(ap, fmt);               \
        emit(level, fmt, ap);            \
        va_end(ap);                      \
    }

DEFINE_LOG(log_error, PYTI_LOG_ERROR)
DEFINE_LOG(log_warn, PYTI_LOG_WARN)
DEFINE_LOG(log_info, PYTI_LOG_INFO)
DEFINE_LOG(log_debug, PYTI_LOG_DEBUG)
