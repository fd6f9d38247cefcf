/* A set-associative array of (tag, value) with exact LRU kept MRU-first: the building block of
 * TLBs, paging-structure caches, the nested TLB and the data caches (after Cachegrind). */
#ifndef AGS_SA_H
#define AGS_SA_H

#include <stdint.h>
#include <string.h>
#include "agilesim/config.h"

#define AGS_SA_INVALID (~0ULL)

typedef struct {
    uint64_t *tag;
    uint64_t *val;
    uint32_t set_mask;
    uint32_t ways;      /* 0: the array is absent (every lookup misses, inserts do nothing) */
} ags_sa_t;

/* Geometry is validated by the caller (entries % ways == 0, sets a power of two). */
int ags_sa_init(ags_sa_t *c, ags_geom_t g);
void ags_sa_fini(ags_sa_t *c);
void ags_sa_flush(ags_sa_t *c);
/* Invalidate every entry whose (tag & mask) == value. */
void ags_sa_flush_match(ags_sa_t *c, uint64_t mask, uint64_t value);

static inline int ags_sa_lookup(ags_sa_t *c, uint64_t set_key, uint64_t tag, uint64_t *val)
{
    if (!c->ways)
        return 0;
    size_t base = (size_t)(set_key & c->set_mask) * c->ways;
    uint64_t *t = c->tag + base, *v = c->val + base;
    if (t[0] == tag) {
        *val = v[0];
        return 1;
    }
    for (uint32_t i = 1; i < c->ways; i++) {
        if (t[i] == tag) {
            uint64_t vi = v[i];
            for (uint32_t j = i; j > 0; j--) {
                t[j] = t[j - 1];
                v[j] = v[j - 1];
            }
            t[0] = tag;
            v[0] = vi;
            *val = vi;
            return 1;
        }
    }
    return 0;
}

/* a[0..n) moves to a[1..n], n a constant: through a copy (GCC calls memmove even for a constant
 * size; copies of constant sizes become vector loads and stores) */
static inline __attribute__((always_inline)) void ags_sa_shift1(uint64_t *a, const uint32_t n)
{
    uint64_t tmp[16];
    memcpy(tmp, a, n * sizeof(uint64_t));
    memcpy(a + 1, tmp, n * sizeof(uint64_t));
}

/* Insert as MRU, evicting the LRU way. The tag must not be present. */
static inline void ags_sa_insert(ags_sa_t *c, uint64_t set_key, uint64_t tag, uint64_t val)
{
    if (!c->ways)
        return;
    size_t base = (size_t)(set_key & c->set_mask) * c->ways;
    uint64_t *t = c->tag + base, *v = c->val + base;
    /* the usual way counts with moves of a constant size (a few vector loads and stores, where
     * the loop took seven instructions per way) */
#define AGS_SA_SHIFT(w)                                        \
    case w:                                                    \
        ags_sa_shift1(t, w - 1);                               \
        ags_sa_shift1(v, w - 1);                               \
        break
    switch (c->ways) {
    AGS_SA_SHIFT(4);
    AGS_SA_SHIFT(8);
    AGS_SA_SHIFT(12);
    AGS_SA_SHIFT(16);
    default:
        for (uint32_t j = c->ways - 1; j > 0; j--) {
            t[j] = t[j - 1];
            v[j] = v[j - 1];
        }
    }
#undef AGS_SA_SHIFT
    t[0] = tag;
    v[0] = val;
}

/* Update the value of a present tag without changing recency. Returns 1 if found. */
static inline int ags_sa_update(ags_sa_t *c, uint64_t set_key, uint64_t tag, uint64_t val)
{
    if (!c->ways)
        return 0;
    size_t base = (size_t)(set_key & c->set_mask) * c->ways;
    for (uint32_t i = 0; i < c->ways; i++)
        if (c->tag[base + i] == tag) {
            c->val[base + i] = val;
            return 1;
        }
    return 0;
}

static inline void ags_sa_invalidate(ags_sa_t *c, uint64_t set_key, uint64_t tag)
{
    if (!c->ways)
        return;
    size_t base = (size_t)(set_key & c->set_mask) * c->ways;
    uint64_t *t = c->tag + base, *v = c->val + base;
    for (uint32_t i = 0; i < c->ways; i++)
        if (t[i] == tag) {
            /* close the gap so that invalid ways sit at the LRU end */
            memmove(t + i, t + i + 1, (c->ways - 1 - i) * sizeof(uint64_t));
            memmove(v + i, v + i + 1, (c->ways - 1 - i) * sizeof(uint64_t));
            t[c->ways - 1] = AGS_SA_INVALID;
            return;
        }
}

#endif
