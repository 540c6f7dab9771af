/* timeutil.h — clocks: monotonic seconds for durations, UTC timestamps for
 * reports. */
#ifndef PYTI_TIMEUTIL_H
#define PYTI_TIMEUTIL_H

#include <stddef.h>

/* Seconds on the monotonic clock (for measuring durations). */
double time_monotonic(void);
/* Current UTC time as "2026-11-25T10:00:00.123Z" into out (>= 32 bytes). */
void time_utc_iso8601(char *out, size_t size);

#endif
