/* Private: the cache replay loop, compiled twice (machine.c with the default set code,
 * replay_avx512.c with the AVX-512 one). */
#ifndef AGS_REPLAY_H
#define AGS_REPLAY_H

#include "sim/sim_internal.h"

/* One level's pass over the n entries of q (in order): each line is looked up in level l; a walk
 * reference that hits adds lat to *cyc and to its region's cycles, and 1 to *hits; a miss inserts
 * the line, and its entry moves to the front of q, in order. Returns the misses. With `ahead` (a
 * constant), the level's set of the entry that many places on is prefetched. */
static inline __attribute__((always_inline)) unsigned ags_replay_level(const ags_clevel_t *l, uint64_t *q, unsigned n,
                                                                      uint64_t lat, uint64_t *hits, uint64_t *cyc,
                                                                      uint64_t *rgc, const unsigned ahead)
{
    unsigned k = 0;
    for (unsigned j = 0; ahead && j < ahead && j < n; j++)
        __builtin_prefetch(ags_clevel_set(l, (q[j] >> 1) & AGS_CQ_LINE_MASK), 1, 3);
    for (unsigned j = 0; j < n; j++) {
        if (ahead && j + ahead < n)
            __builtin_prefetch(ags_clevel_set(l, (q[j + ahead] >> 1) & AGS_CQ_LINE_MASK), 1, 3);
        uint64_t e = q[j], line = (e >> 1) & AGS_CQ_LINE_MASK;
        uint32_t *t = ags_clevel_set(l, line), g = (uint32_t)(line >> l->set_bits);
        if (ags_clevel_hit(l, t, g)) {
            uint64_t walk = e & 1, c = lat & (0 - walk);
            *hits += walk;
            *cyc += c;
            rgc[e >> AGS_CQ_RG_SHIFT] += c;
        } else {
            ags_clevel_rotate(l, t, g);
            q[k++] = e;
        }
    }
    return k;
}

/* Replay queued references through m's caches; add latencies and hit levels of walk references
 * to m->acc_*. Level by level: here a level's contents depend only on the references that reach
 * it (L1: all of them; L2: L1's misses; the LLC: L2's misses), since a hit moves the line to the
 * front of its set, a miss inserts it there, and nothing else changes a level (no
 * back-invalidation; ags_cache_access_line fills only the levels inside the one that hit). So
 * the batch goes through L1, L1's misses (in order) through L2, and L2's through the LLC: every
 * hit is the one ags_cache_access_line would give taking the references one at a time, and the
 * L2 and LLC passes prefetch the sets of exactly the lines they will look up. q is consumed (the
 * misses are compacted at its front). */
static inline __attribute__((always_inline)) void ags_machine_replay_body(const ags_config_t *cfg, ags_machine_t *m,
                                                                          uint64_t *q, unsigned n)
{
    enum { AHEAD = 16 };
    uint64_t cyc = 0, hits[5] = { 0 };
    uint64_t *rgc = m->acc_rg_cycles;
    const ags_clevel_t *lv = m->cache.lvl;
    /* L1's sets, a few KiB per machine, are in the host's L1: not prefetched (an earlier
     * microbenchmark of 4 caches on random lines ran 14.0-15.0 ns per reference with them
     * prefetched, 10.4-11.0 without) */
    n = ags_replay_level(&lv[0], q, n, cfg->lat_l1, &hits[1], &cyc, rgc, 0);
    n = ags_replay_level(&lv[1], q, n, cfg->lat_l2, &hits[2], &cyc, rgc, AHEAD);
    n = ags_replay_level(&lv[2], q, n, cfg->lat_llc, &hits[3], &cyc, rgc, AHEAD);
    for (unsigned j = 0; j < n; j++) { /* DRAM */
        uint64_t walk = q[j] & 1, c = cfg->lat_dram & (0 - walk);
        hits[4] += walk;
        cyc += c;
        rgc[q[j] >> AGS_CQ_RG_SHIFT] += c;
    }
    m->acc_cycles += cyc;
    for (unsigned k = 1; k < 5; k++)
        m->acc_hits[k] += hits[k];
}

#endif
