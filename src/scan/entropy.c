/* entropy.c — Shannon entropy (see entropy.h). */
#include "scan/entropy.h"

#include <math.h>

double entropy_shannon(const void *data, size_t len)
{
    if (len == 0)
        return 0.0;
    size_t counts[256] = {0};
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        counts[p[i]]++;
    double h = 0.0, n = (double)len;
    for (int i = 0; i < 256; i++) {
        if (!counts[i])
            continue;
        double pr = (double)counts[i] / n;
        h -= pr * log2(pr);
    }
    return h < 0 ? 0.0 : h;
}
