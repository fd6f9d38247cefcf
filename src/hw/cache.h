/* A physically-indexed, inclusive three-level cache hierarchy (tags only) for walk and data
 * references. One per machine: page-table entries compete with data as on real hardware. */
#ifndef AGS_CACHE_H
#define AGS_CACHE_H

#include <stdint.h>
#include "agilesim/config.h"

#define AGS_CACHE_INVALID 0xffffffffu

/* One level: 32-bit tags (line >> set bits), MRU-first per set, exact LRU. */
typedef struct {
    uint32_t *tag;
    uint32_t set_mask, set_bits, ways;
} ags_clevel_t;

typedef struct {
    ags_clevel_t lvl[3];
    unsigned line_shift;
    int on;
} ags_cache_t;

int ags_cache_init(ags_cache_t *c, const ags_config_t *cfg);
void ags_cache_fini(ags_cache_t *c);

static inline int ags_clevel_lookup(ags_clevel_t *l, uint64_t line)
{
    uint32_t *t = l->tag + (size_t)(line & l->set_mask) * l->ways;
    uint32_t tag = (uint32_t)(line >> l->set_bits);
    if (t[0] == tag)
        return 1;
    for (uint32_t i = 1; i < l->ways; i++)
        if (t[i] == tag) {
            for (uint32_t j = i; j > 0; j--)
                t[j] = t[j - 1];
            t[0] = tag;
            return 1;
        }
    return 0;
}

static inline void ags_clevel_insert(ags_clevel_t *l, uint64_t line)
{
    uint32_t *t = l->tag + (size_t)(line & l->set_mask) * l->ways;
    for (uint32_t j = l->ways - 1; j > 0; j--)
        t[j] = t[j - 1];
    t[0] = (uint32_t)(line >> l->set_bits);
}

/* Access one line (hpa >> line_shift); returns where it hit: 1 = L1, 2 = L2, 3 = LLC, 4 = DRAM.
 * Fills all levels. */
static inline unsigned ags_cache_access_line(ags_cache_t *c, uint64_t line)
{
    for (unsigned i = 0; i < 3; i++) {
        if (ags_clevel_lookup(&c->lvl[i], line)) {
            for (unsigned j = 0; j < i; j++)
                ags_clevel_insert(&c->lvl[j], line);
            return i + 1;
        }
    }
    for (unsigned j = 0; j < 3; j++)
        ags_clevel_insert(&c->lvl[j], line);
    return 4;
}

static inline unsigned ags_cache_access(ags_cache_t *c, uint64_t hpa)
{
    return ags_cache_access_line(c, hpa >> c->line_shift);
}

/* Bring the three sets of a line into the host's caches ahead of ags_cache_access_line. */
static inline void ags_cache_prefetch(const ags_cache_t *c, uint64_t line)
{
    for (unsigned i = 0; i < 3; i++)
        __builtin_prefetch(c->lvl[i].tag + (size_t)(line & c->lvl[i].set_mask) * c->lvl[i].ways, 1, 3);
}

#endif
