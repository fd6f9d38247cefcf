/* Private: the cache replay loop, compiled twice (machine.c with the default set code,
 * replay_avx512.c with the AVX-512 one). */
#ifndef AGS_REPLAY_H
#define AGS_REPLAY_H

#include "sim/sim_internal.h"

/* Replay queued references through m's caches, in order; add latencies and hit levels of walk
 * references to m->acc_*. */
static inline __attribute__((always_inline)) void ags_machine_replay_body(const ags_config_t *cfg, ags_machine_t *m,
                                                                          const uint64_t *q, unsigned n)
{
    const uint64_t lat[5] = { 0, cfg->lat_l1, cfg->lat_l2, cfg->lat_llc, cfg->lat_dram };
    uint64_t cyc = 0, hits[5] = { 0 };
    unsigned l1 = 0;
    uint64_t *rgc = m->acc_rg_cycles;
    enum { AHEAD = 8 };
    int pf = m->prefetch; /* only where the last batch missed L1 often: prefetches cost bandwidth */
    for (unsigned i = 0; pf && i < n && i < AHEAD; i++)
        ags_cache_prefetch(&m->cache, (q[i] >> 1) & AGS_CQ_LINE_MASK);
    for (unsigned i = 0; i < n; i++) {
        if (pf && i + AHEAD < n)
            ags_cache_prefetch(&m->cache, (q[i + AHEAD] >> 1) & AGS_CQ_LINE_MASK);
        unsigned where = ags_cache_access_line(&m->cache, (q[i] >> 1) & AGS_CQ_LINE_MASK);
        uint64_t walk = q[i] & 1, c = lat[where] & (0 - walk);
        l1 += where == 1;
        hits[where] += walk;
        cyc += c;
        rgc[q[i] >> AGS_CQ_RG_SHIFT] += c;
    }
    m->prefetch = l1 < n - n / 8;
    m->acc_cycles += cyc;
    for (unsigned k = 1; k < 5; k++)
        m->acc_hits[k] += hits[k];
}

#endif
