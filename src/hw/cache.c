/* Model notes: tags only, exact LRU, fills into every level on a miss (inclusive), no
 * back-invalidation of inner levels on an LLC eviction, no prefetchers, no write-back traffic,
 * no coherence. Walk references and data references share it. */
#include "hw/cache.h"

int ags_cache_init(ags_cache_t *c, const ags_config_t *cfg)
{
    memset(c, 0, sizeof(*c));
    c->on = cfg->caches_on;
    c->line_shift = cfg->line_shift;
    if (!c->on)
        return 0;
    if (ags_sa_init(&c->lvl[0], cfg->l1c) || ags_sa_init(&c->lvl[1], cfg->l2c) ||
        ags_sa_init(&c->lvl[2], cfg->llc))
        return -1;
    return 0;
}

void ags_cache_fini(ags_cache_t *c)
{
    for (int i = 0; i < 3; i++)
        ags_sa_fini(&c->lvl[i]);
}
