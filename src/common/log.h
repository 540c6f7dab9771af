/* log.h — diagnostics on stderr: "pyti: error: ..." lines, with a level
 * filter and optional colour (off when not a TTY or NO_COLOR is set). */
#ifndef PYTI_LOG_H
#define PYTI_LOG_H

#include <stdbool.h>

typedef enum pyti_log_level {
    PYTI_LOG_ERROR = 0,
    PYTI_LOG_WARN,
    PYTI_LOG_INFO,
    PYTI_LOG_DEBUG,
} pyti_log_level;

void log_set_level(pyti_log_level level);
pyti_log_level log_get_level(void);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True if colour escapes may be written to the stream with this fd: it is a
 * TTY, NO_COLOR is unset or empty, and TERM is not "dumb". */
bool log_color_enabled(int fd);

#endif
