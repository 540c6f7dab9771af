/* entropy.h — Shannon entropy of byte strings, the measure behind the
 * scan's high-entropy check (docs/scan-rules.md explains the threshold). */
#ifndef PYTI_SCAN_ENTROPY_H
#define PYTI_SCAN_ENTROPY_H

#include <stddef.h>

/* The Shannon entropy of data[0..len) in bits per byte, from the
 * frequencies of its byte values: 0 for an empty or one-symbol string, at
 * most 8. English prose is about 4.2, Python code about 4.5-5, base64 of
 * random data close to 6 (less for short strings), hex at most 4. Cannot
 * fail. */
double entropy_shannon(const void *data, size_t len);

#endif
