/* Model notes: tags only, exact LRU, fills into every level on a miss (inclusive), no
 * back-invalidation of inner levels on an LLC eviction, no prefetchers, no write-back traffic,
 * no coherence. Walk references and data references share it. Tags are 32 bits of the line
 * number above the set index (lines of host-physical addresses below 2^(32+set bits+6)). A set is
 * searched and reordered 16 ways per AVX-512 instruction where the host has AVX-512F (checked at
 * run time; cache_avx512.c), else four ways per SSE2 instruction (scalar without SSE2); the
 * order, and so every hit, is that of the MRU-first list. */
#include "hw/cache.h"
#include <stdlib.h>
#include <string.h>

static int level_init(ags_clevel_t *l, ags_geom_t g)
{
    uint32_t sets = g.entries / g.ways;
    l->ways = g.ways;
    l->nvec = (g.ways + 3) / 4;
    l->stride = 4 * l->nvec;
    l->waymask = g.ways == 64 ? ~0ULL : (1ULL << g.ways) - 1;
    l->set_mask = sets - 1;
    l->set_bits = (uint32_t)__builtin_ctz(sets);
    /* whole host cache lines, and 48 bytes of slack: a lookup reads 16 ways of every set */
    size_t bytes = ((size_t)sets * l->stride * sizeof(uint32_t) + 48 + 63) & ~(size_t)63;
    l->tag = aligned_alloc(64, bytes); /* a set of 16 ways is one host cache line */
    if (!l->tag)
        return -1;
    memset(l->tag, 0xff, bytes);
    return 0;
}

int ags_cache_host_avx512(void)
{
#if defined(AGS_HAVE_AVX512) && (defined(__x86_64__) || defined(__i386__))
    return __builtin_cpu_supports("avx512f") != 0; /* CPUID and the OS's XCR0 state */
#else
    return 0;
#endif
}

int ags_cache_init(ags_cache_t *c, const ags_config_t *cfg)
{
    memset(c, 0, sizeof(*c));
    c->on = cfg->caches_on;
    c->line_shift = cfg->line_shift;
    if (!c->on)
        return 0;
    if (level_init(&c->lvl[0], cfg->l1c) || level_init(&c->lvl[1], cfg->l2c) || level_init(&c->lvl[2], cfg->llc))
        return -1;
    c->avx512 = ags_cache_host_avx512();
    return 0;
}

void ags_cache_fini(ags_cache_t *c)
{
    for (int i = 0; i < 3; i++)
        free(c->lvl[i].tag);
    memset(c, 0, sizeof(*c));
}
