/* Model notes: exact LRU replacement within a set, sets indexed by the low bits of the set key
 * (no hashing). Geometry is validated once in ags_config_validate. */
#include "hw/sa.h"
#include <stdlib.h>

int ags_sa_init(ags_sa_t *c, ags_geom_t g)
{
    memset(c, 0, sizeof(*c));
    if (!g.entries || !g.ways)
        return 0;
    c->ways = g.ways;
    c->set_mask = g.entries / g.ways - 1;
    c->tag = malloc(g.entries * sizeof(uint64_t));
    c->val = calloc(g.entries, sizeof(uint64_t));
    if (!c->tag || !c->val)
        return -1;
    ags_sa_flush(c);
    return 0;
}

void ags_sa_fini(ags_sa_t *c)
{
    free(c->tag);
    free(c->val);
    memset(c, 0, sizeof(*c));
}

void ags_sa_flush(ags_sa_t *c)
{
    if (c->ways)
        memset(c->tag, 0xff, (size_t)(c->set_mask + 1) * c->ways * sizeof(uint64_t));
}

void ags_sa_flush_match(ags_sa_t *c, uint64_t mask, uint64_t value)
{
    if (!c->ways)
        return;
    for (size_t s = 0; s <= c->set_mask; s++) {
        uint64_t *t = c->tag + s * c->ways, *v = c->val + s * c->ways;
        uint32_t o = 0;
        for (uint32_t i = 0; i < c->ways; i++)
            if (t[i] != AGS_SA_INVALID && (t[i] & mask) != value) {
                t[o] = t[i];
                v[o] = v[i];
                o++;
            }
        for (; o < c->ways; o++)
            t[o] = AGS_SA_INVALID;
    }
}
