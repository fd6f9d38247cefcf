/* A physically-indexed, inclusive three-level cache hierarchy (tags only) for walk and data
 * references. One per machine: page-table entries compete with data as on real hardware. */
#ifndef AGS_CACHE_H
#define AGS_CACHE_H

#include <stdint.h>
#include "hw/sa.h"

typedef struct {
    ags_sa_t lvl[3];
    unsigned line_shift;
    int on;
} ags_cache_t;

int ags_cache_init(ags_cache_t *c, const ags_config_t *cfg);
void ags_cache_fini(ags_cache_t *c);

/* Access one line; returns where it hit: 1 = L1, 2 = L2, 3 = LLC, 4 = DRAM. Fills all levels. */
static inline unsigned ags_cache_access(ags_cache_t *c, uint64_t hpa)
{
    uint64_t line = hpa >> c->line_shift, v;
    for (unsigned i = 0; i < 3; i++) {
        if (ags_sa_lookup(&c->lvl[i], line, line, &v)) {
            for (unsigned j = 0; j < i; j++)
                ags_sa_insert(&c->lvl[j], line, line, 0);
            return i + 1;
        }
    }
    for (unsigned j = 0; j < 3; j++)
        ags_sa_insert(&c->lvl[j], line, line, 0);
    return 4;
}

#endif
