/* Model notes: none — generic helpers. */
#include "util.h"
#include <string.h>

int ags_grow(void **arr, size_t *cap, size_t elem, size_t need)
{
    if (need < *cap)
        return 0;
    size_t ncap = *cap ? *cap : 64;
    while (ncap <= need)
        ncap *= 2;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return -1;
    memset((char *)p + *cap * elem, 0, (ncap - *cap) * elem);
    *arr = p;
    *cap = ncap;
    return 0;
}
