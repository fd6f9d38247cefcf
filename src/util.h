/* Private helpers shared by all modules. */
#ifndef AGS_UTIL_H
#define AGS_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include "agilesim/error.h"

#define AGS_LIKELY(x) __builtin_expect(!!(x), 1)
#define AGS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define AGS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define AGS_MAX(a, b) ((a) > (b) ? (a) : (b))

/* 64-bit mixer (splitmix64 finaliser): checksums and hashing. */
static inline uint64_t ags_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* An impossible state (a simulator bug): write a message naming the source location into the
 * array `buf` and return AGS_E_INTERNAL from the calling function (SQLite's NEVER(), KVM's
 * WARN_ON with a return). */
void ags_bug_msg(char *buf, size_t len, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define AGS_BUG_ON(cond, buf, ...)                                                   \
    do {                                                                             \
        if (AGS_UNLIKELY(cond)) {                                                    \
            ags_bug_msg((buf), sizeof(buf), __FILE__, __LINE__, __VA_ARGS__);        \
            return AGS_E_INTERNAL;                                                   \
        }                                                                            \
    } while (0)

/* Grow a dynamic array so that index `need` fits; zero-fills the new part. 0 on success. */
int ags_grow(void **arr, size_t *cap, size_t elem, size_t need);
/* "64 MiB", "1.50 GiB", "2.0 TiB": a byte count for a message. */
void ags_fmt_bytes(char *buf, size_t len, uint64_t bytes);

static inline int ags_is_pow2(uint64_t x) { return x && !(x & (x - 1)); }
static inline unsigned ags_log2(uint64_t x) { return 63u - (unsigned)__builtin_clzll(x); }

/* Canonical for a virtual-address width of `bits` (48 or 57). */
static inline int ags_canonical(uint64_t va, unsigned bits)
{
    int64_t s = (int64_t)(va << (64 - bits)) >> (64 - bits);
    return (uint64_t)s == va;
}

/* An open-addressing set of 64-bit keys (any value), cleared in place. */
typedef struct {
    uint64_t *slot;     /* key + 1; 0 = empty */
    size_t cap, n;
} ags_u64set_t;

int ags_u64set_add(ags_u64set_t *s, uint64_t key);   /* 0, or -1 when out of memory */
int ags_u64set_has(const ags_u64set_t *s, uint64_t key);
void ags_u64set_clear(ags_u64set_t *s);
void ags_u64set_free(ags_u64set_t *s);

#endif
