/* Model notes: none — generic helpers. */
#include "util.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ags_bug_msg(char *buf, size_t len, const char *file, int line, const char *fmt, ...)
{
    int n = snprintf(buf, len, "internal error at %s:%d: ", file, line);
    if (n < 0 || (size_t)n >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, len - (size_t)n, fmt, ap);
    va_end(ap);
}

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

int ags_u64set_add(ags_u64set_t *s, uint64_t key)
{
    uint64_t k = key + 1;
    if (s->n * 2 >= s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 1024;
        uint64_t *n = calloc(ncap, sizeof(uint64_t));
        if (!n)
            return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slot[i])
                continue;
            size_t j = ags_mix64(s->slot[i]) & (ncap - 1);
            while (n[j])
                j = (j + 1) & (ncap - 1);
            n[j] = s->slot[i];
        }
        free(s->slot);
        s->slot = n;
        s->cap = ncap;
    }
    size_t j = ags_mix64(k) & (s->cap - 1);
    while (s->slot[j]) {
        if (s->slot[j] == k)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->slot[j] = k;
    s->n++;
    return 0;
}

int ags_u64set_has(const ags_u64set_t *s, uint64_t key)
{
    if (!s->cap)
        return 0;
    uint64_t k = key + 1;
    size_t j = ags_mix64(k) & (s->cap - 1);
    while (s->slot[j]) {
        if (s->slot[j] == k)
            return 1;
        j = (j + 1) & (s->cap - 1);
    }
    return 0;
}

void ags_u64set_clear(ags_u64set_t *s)
{
    if (s->cap)
        memset(s->slot, 0, s->cap * sizeof(uint64_t));
    s->n = 0;
}

void ags_u64set_free(ags_u64set_t *s)
{
    free(s->slot);
    memset(s, 0, sizeof(*s));
}

void ags_fmt_bytes(char *buf, size_t len, uint64_t b)
{
    if (b >= (1ULL << 40))
        snprintf(buf, len, "%.1f TiB", (double)b / (double)(1ULL << 40));
    else if (b >= (1ULL << 30))
        snprintf(buf, len, "%.2f GiB", (double)b / (double)(1ULL << 30));
    else
        snprintf(buf, len, "%llu MiB", (unsigned long long)(b >> 20));
}
