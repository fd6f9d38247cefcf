/* Hand-computed cases for the set-associative arrays (LRU order), the TLB hierarchy, the cache
 * model, and the walk caches (PWC and nested TLB) through the simulator. */
#include "check.h"
#include "hw/cache.h"
#include "hw/tlb.h"
#include "sim/sim_internal.h" /* AGS_RGP_SIZE */
#include "sim/replay.h"
#include "simtest.h"

static void test_sa_lru(void)
{
    ags_sa_t c;
    ags_sa_init(&c, (ags_geom_t){ 4, 2 }); /* 2 sets x 2 ways; set = key & 1 */
    uint64_t v;
    ags_sa_insert(&c, 0, 10, 100); /* set 0: [10] */
    ags_sa_insert(&c, 2, 12, 120); /* set 0: [12, 10] */
    CHECK(ags_sa_lookup(&c, 0, 10, &v) && v == 100); /* set 0: [10, 12] */
    ags_sa_insert(&c, 4, 14, 140);                   /* evicts LRU 12: [14, 10] */
    CHECK(!ags_sa_lookup(&c, 2, 12, &v));
    CHECK(ags_sa_lookup(&c, 0, 10, &v));
    CHECK(ags_sa_lookup(&c, 4, 14, &v) && v == 140);
    ags_sa_insert(&c, 1, 11, 110); /* other set untouched */
    CHECK(ags_sa_lookup(&c, 0, 10, &v));
    ags_sa_invalidate(&c, 4, 14);
    CHECK(!ags_sa_lookup(&c, 4, 14, &v));
    ags_sa_flush_match(&c, 0xf, 1); /* drops tag 11 (11 & 0xf == 11? no) */
    CHECK(ags_sa_lookup(&c, 1, 11, &v));
    ags_sa_flush_match(&c, 0x1, 1); /* odd tags: 11 */
    CHECK(!ags_sa_lookup(&c, 1, 11, &v));
    CHECK(ags_sa_lookup(&c, 0, 10, &v));
    ags_sa_fini(&c);
}

/* The reference for test_sa_model: each set a plain MRU-first list of (tag, value), invalid
 * entries dropped (so that an insert evicts the LRU valid entry only when the set is full). */
typedef struct {
    uint64_t t[64], v[64];
    uint32_t n;
} ref_set_t;

static int ref_find(const ref_set_t *r, uint64_t tag)
{
    for (uint32_t i = 0; i < r->n; i++)
        if (r->t[i] == tag)
            return (int)i;
    return -1;
}

static void ref_remove(ref_set_t *r, uint32_t i)
{
    memmove(r->t + i, r->t + i + 1, (r->n - 1 - i) * sizeof(uint64_t));
    memmove(r->v + i, r->v + i + 1, (r->n - 1 - i) * sizeof(uint64_t));
    r->n--;
}

static void ref_front(ref_set_t *r, uint64_t tag, uint64_t val, uint32_t ways)
{
    if (r->n == ways)
        r->n--; /* the LRU entry is evicted */
    memmove(r->t + 1, r->t, r->n * sizeof(uint64_t));
    memmove(r->v + 1, r->v, r->n * sizeof(uint64_t));
    r->t[0] = tag;
    r->v[0] = val;
    r->n++;
}

/* Property: for ways 1 to 64 (the insert's constant-size shifts of 4, 8, 12 and 16 ways, and its
 * loop for the others), every operation of the set-associative array on a random stream -
 * lookups (a hit moves the entry to MRU), inserts (evicting the LRU entry), updates,
 * invalidations, flushes by mask and whole flushes - gives what the reference lists give; after
 * each stream, every set's valid entries are found, and the MRU entry of every set is at way 0
 * (the run loop's fast path reads it there). */
static void test_sa_model(void)
{
    static const uint32_t ways[] = { 1, 2, 3, 4, 5, 8, 12, 15, 16, 17, 24, 64 };
    uint64_t x = 0x2545f4914f6cdd1dULL;
    for (size_t wi = 0; wi < sizeof(ways) / sizeof(ways[0]); wi++) {
        const uint32_t w = ways[wi], sets = 4;
        ags_sa_t c;
        CHECK_EQ(ags_sa_init(&c, (ags_geom_t){ sets * w, w }), 0);
        ref_set_t ref[4];
        memset(ref, 0, sizeof(ref));
        /* tags: set s holds keys k with k % 4 == s; the tag is the key itself; a span of
         * 3 * ways keys per set, so that hits land on every way and sets overflow */
        const uint64_t span = 3ULL * w * sets;
        for (int op = 0; op < 20000; op++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            uint64_t key = (x >> 8) % span, val = x >> 20, v = 0;
            ref_set_t *r = &ref[key & (sets - 1)];
            unsigned what = (unsigned)(x & 255);
            int at = ref_find(r, key);
            if (what < 150) { /* lookup, then insert on a miss */
                int hit = ags_sa_lookup(&c, key, key, &v);
                CHECK_EQ(hit, at >= 0);
                if (at >= 0) {
                    CHECK_EQ(v, r->v[at]);
                    uint64_t tv = r->v[at];
                    ref_remove(r, (uint32_t)at);
                    ref_front(r, key, tv, w);
                } else {
                    ags_sa_insert(&c, key, key, val);
                    ref_front(r, key, val, w);
                }
            } else if (what < 190) { /* update without a change of recency */
                CHECK_EQ(ags_sa_update(&c, key, key, val), at >= 0);
                if (at >= 0)
                    r->v[at] = val;
            } else if (what < 250) { /* invalidate */
                ags_sa_invalidate(&c, key, key);
                if (at >= 0)
                    ref_remove(r, (uint32_t)at);
            } else if (what < 254) { /* flush the keys with one bit set */
                uint64_t bit = 4ULL << (x >> 60 & 3);
                ags_sa_flush_match(&c, bit, bit);
                for (unsigned s = 0; s < sets; s++)
                    for (uint32_t i = 0; i < ref[s].n;)
                        if (ref[s].t[i] & bit)
                            ref_remove(&ref[s], i);
                        else
                            i++;
            } else if (what == 254 && (x >> 40 & 15) == 0) {
                ags_sa_flush(&c);
                for (unsigned s = 0; s < sets; s++)
                    ref[s].n = 0;
            }
        }
        for (unsigned s = 0; s < sets; s++) {
            if (ref[s].n)
                CHECK_EQ(c.tag[s * w], ref[s].t[0]);
            else
                CHECK_EQ(c.tag[s * w], AGS_SA_INVALID);
            /* every entry in recency order: looking them up LRU first keeps the order */
            for (uint32_t i = ref[s].n; i-- > 0;) {
                uint64_t v = 0;
                CHECK(ags_sa_lookup(&c, ref[s].t[i], ref[s].t[i], &v) && v == ref[s].v[i]);
            }
        }
        ags_sa_fini(&c);
    }
}

static void test_tlb(void)
{
    ags_config_t cfg;
    ags_config_defaults(&cfg);
    cfg.l1d_4k = (ags_geom_t){ 2, 2 }; /* one set, 2 ways */
    cfg.l2_tlb = (ags_geom_t){ 4, 4 }; /* one set, 4 ways */
    ags_tlb_t t;
    ags_tlb_init(&t, &cfg);
    uint64_t v;
    unsigned sh;
    uint64_t a = 0x1000, b = 0x2000, c = 0x3000, d = 0x4000, e = 0x5000;
    ags_tlb_insert(&t, a, 1, 0, 12, 0xa000);
    ags_tlb_insert(&t, b, 1, 0, 12, 0xb000);
    ags_tlb_insert(&t, c, 1, 0, 12, 0xc000); /* L1 [c, b]; L2 [c, b, a] */
    CHECK(ags_tlb_lookup(&t, b, 1, 0, &v, &sh) && v == 0xb000 && sh == 12); /* L1 hit */
    CHECK_EQ(t.l2_hits, 0);
    CHECK(ags_tlb_lookup(&t, a, 1, 0, &v, &sh) && v == 0xa000); /* L2 hit, refills L1: [a, b] */
    CHECK_EQ(t.l2_hits, 1);
    CHECK(!ags_tlb_lookup(&t, a, 2, 0, &v, &sh)); /* other ASID misses */
    ags_tlb_insert(&t, d, 1, 0, 12, 0xd000);
    ags_tlb_insert(&t, e, 1, 0, 12, 0xe000); /* L2 LRU order before: [a, c, b]... e evicts the LRU */
    /* L2 after inserts: [e, d, a, c] (b was LRU: evicted) */
    ags_tlb_invlpg(&t, c, 1, 12);
    CHECK(!ags_tlb_lookup(&t, c, 1, 0, &v, &sh));
    CHECK(!ags_tlb_lookup(&t, b, 1, 0, &v, &sh));
    CHECK(ags_tlb_lookup(&t, a, 1, 0, &v, &sh));
    /* huge pages share the unified L2 and are found through their own L1 array */
    ags_tlb_insert(&t, 0x40000000, 3, 0, 21, 0x80000000);
    CHECK(ags_tlb_lookup(&t, 0x40123456, 3, 0, &v, &sh) && v == 0x80000000 && sh == 21);
    ags_tlb_flush_asid(&t, 3);
    CHECK(!ags_tlb_lookup(&t, 0x40123456, 3, 0, &v, &sh));
    CHECK(ags_tlb_lookup(&t, a, 1, 0, &v, &sh));
    ags_tlb_flush_all(&t);
    CHECK(!ags_tlb_lookup(&t, a, 1, 0, &v, &sh));
    ags_tlb_fini(&t);
}

static void test_cache(void)
{
    ags_config_t cfg;
    ags_config_defaults(&cfg);
    cfg.l1c = (ags_geom_t){ 4, 2 };  /* 2 sets */
    cfg.l2c = (ags_geom_t){ 8, 2 };  /* 4 sets */
    cfg.llc = (ags_geom_t){ 16, 4 }; /* 4 sets */
    ags_cache_t c;
    ags_cache_init(&c, &cfg);
    uint64_t a = 0 << 6, b = 2 << 6, cc = 4 << 6; /* lines 0, 2, 4: one L1 set */
    CHECK_EQ(ags_cache_access(&c, a), 4);
    CHECK_EQ(ags_cache_access(&c, b), 4);
    CHECK_EQ(ags_cache_access(&c, a + 8), 1);  /* same line */
    CHECK_EQ(ags_cache_access(&c, cc), 4);     /* evicts b from L1 */
    CHECK_EQ(ags_cache_access(&c, b), 2);      /* L2 (set 2) still has it; evicts a from L1 */
    CHECK_EQ(ags_cache_access(&c, a), 2);
    CHECK_EQ(ags_cache_access(&c, a), 1);
    ags_cache_fini(&c);
}

/* The reference LRU for test_cache_lru: one level as a plain MRU-first list per set. */
typedef struct {
    uint64_t *t; /* line + 1 (0: empty), ways per set */
    uint32_t sets, ways;
} ref_level_t;

static int ref_access(ref_level_t *r, uint64_t line, int fill)
{
    uint64_t *t = r->t + (line & (r->sets - 1)) * r->ways;
    uint32_t i = 0;
    while (i < r->ways && t[i] != line + 1)
        i++;
    int hit = i < r->ways;
    if (!hit && !fill)
        return 0;
    if (!hit)
        i = r->ways - 1;
    memmove(t + 1, t, i * sizeof(*t));
    t[0] = line + 1;
    return hit;
}

/* Property: for every geometry (1 to 64 ways, ways that are and are not a multiple of the
 * four-way vector step), the cache model's hit levels on a random stream equal a plain
 * MRU-first LRU's, line for line. Streams mix a hot set, a warm span and cold lines, so that
 * every way position hits and every level evicts. */
static void test_cache_lru(void)
{
    static const uint32_t ways[] = { 1, 2, 3, 4, 5, 7, 8, 12, 13, 16, 17, 24, 32, 33, 64 };
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    int avx512_ran = 0;
    for (unsigned wi = 0; wi < sizeof(ways) / sizeof(ways[0]); wi++) {
        ags_config_t cfg;
        ags_config_defaults(&cfg);
        uint32_t w1 = ways[wi], w2 = ways[(wi + 3) % 15], w3 = ways[(wi + 7) % 15];
        cfg.l1c = (ags_geom_t){ 4 * w1, w1 };
        cfg.l2c = (ags_geom_t){ 16 * w2, w2 };
        cfg.llc = (ags_geom_t){ 64 * w3, w3 };
        ags_cache_t c, c512;
        CHECK_EQ(ags_cache_init(&c, &cfg), 0);
        CHECK_EQ(ags_cache_init(&c512, &cfg), 0);
        avx512_ran |= c512.avx512;
        ref_level_t ref[3] = { { calloc(4 * w1, 8), 4, w1 }, { calloc(16 * w2, 8), 16, w2 },
                               { calloc(64 * w3, 8), 64, w3 } };
        unsigned bad = 0, seen[5] = { 0 };
        for (unsigned n = 0; n < 200000; n++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            unsigned k = x % 8;
            uint64_t line = k < 4 ? x % (2 * w1 * 4) : k < 7 ? x % (2 * w3 * 64) : x % (1ULL << 40);
            unsigned want = 4;
            for (unsigned i = 0; i < 3 && want == 4; i++)
                if (ref_access(&ref[i], line, 0))
                    want = i + 1;
            for (unsigned i = 0; i + 1 < want; i++)
                ref_access(&ref[i], line, 1);
            if (want == 4)
                for (unsigned i = 0; i < 3; i++)
                    ref_access(&ref[i], line, 1);
            unsigned got = ags_cache_access_line(&c, line);
            seen[want]++;
            if (got != want && bad++ < 3)
                CHECK_EQ(got, want);
#ifdef AGS_HAVE_AVX512
            if (c512.avx512 && (got = ags_cache_access_line_avx512(&c512, line)) != want && bad++ < 3)
                CHECK_EQ(got, want);
#endif
        }
        CHECK_EQ(bad, 0);
        /* every level that holds more than the levels inside it was hit: the stream reached it */
        CHECK(seen[1] && seen[4]);
        CHECK(seen[2] || 16 * w2 <= 4 * w1);
        CHECK(seen[3] || 64 * w3 <= 16 * w2 || 64 * w3 <= 4 * w1);
        for (unsigned i = 0; i < 3; i++)
            free(ref[i].t);
        ags_cache_fini(&c);
        ags_cache_fini(&c512);
    }
    /* the AVX-512 set code is checked where the host has it (and this build has it) */
    printf("test_cache_lru: AVX-512 set code %s\n", avx512_ran ? "checked too" : "not available here");
    CHECK_EQ(avx512_ran, ags_cache_host_avx512());
}

/* Property: the cache replay, which takes a batch level by level (L1, then L1's misses through
 * L2, then L2's through the LLC), gives the cycles, hit levels and per-region cycles of the
 * references taken one at a time through ags_cache_access_line, over batches of 1 to
 * AGS_CQ_LEN references of walks and data, for several geometries (the set code of this build,
 * and the AVX-512 replay where the host has it). */
static void test_replay_levels(void)
{
    static const uint32_t ways[] = { 1, 3, 4, 8, 12, 16, 17, 32 };
    uint64_t x = 0x2545f4914f6cdd1dULL;
    for (unsigned wi = 0; wi < sizeof(ways) / sizeof(ways[0]); wi++) {
        ags_config_t cfg;
        ags_config_defaults(&cfg);
        uint32_t w1 = ways[wi], w2 = ways[(wi + 3) % 8], w3 = ways[(wi + 5) % 8];
        cfg.l1c = (ags_geom_t){ 8 * w1, w1 };
        cfg.l2c = (ags_geom_t){ 32 * w2, w2 };
        cfg.llc = (ags_geom_t){ 128 * w3, w3 };
        ags_cache_t ref;
        ags_machine_t *m = calloc(1, sizeof(*m)), *m512 = calloc(1, sizeof(*m512));
        uint64_t *q = malloc(AGS_CQ_LEN * sizeof(uint64_t)), *q512 = malloc(AGS_CQ_LEN * sizeof(uint64_t));
        CHECK(m && m512 && q && q512);
        CHECK_EQ(ags_cache_init(&ref, &cfg), 0);
        CHECK_EQ(ags_cache_init(&m->cache, &cfg), 0);
        CHECK_EQ(ags_cache_init(&m512->cache, &cfg), 0);
        uint64_t cyc = 0, hits[5] = { 0 }, rgc[AGS_MAX_REGIONS] = { 0 };
        const uint64_t lat[5] = { 0, cfg.lat_l1, cfg.lat_l2, cfg.lat_llc, cfg.lat_dram };
        unsigned seen[5] = { 0 };
        for (unsigned batch = 0; batch < 40; batch++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            unsigned n = batch % 4 == 0 ? 1 + (unsigned)(x % 7) : 1 + (unsigned)(x % AGS_CQ_LEN);
            for (unsigned i = 0; i < n; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                unsigned k = x % 8;
                uint64_t line = k < 4 ? x % (2 * 8 * w1) : k < 7 ? x % (2 * 128 * w3) : x % (1ULL << 40);
                uint64_t walk = (x >> 40) & 1, rg = (x >> 41) % AGS_MAX_REGIONS;
                q[i] = q512[i] = rg << AGS_CQ_RG_SHIFT | line << 1 | walk;
                unsigned where = ags_cache_access_line(&ref, line);
                seen[where]++;
                if (walk) {
                    cyc += lat[where];
                    hits[where]++;
                    rgc[rg] += lat[where];
                }
            }
            ags_machine_replay_body(&cfg, m, q, n);
#ifdef AGS_HAVE_AVX512
            if (m512->cache.avx512)
                ags_machine_replay_avx512(&cfg, m512, q512, n);
#endif
        }
        CHECK(seen[1] && seen[2] && seen[4]);
        CHECK_EQ(m->acc_cycles, cyc);
        for (unsigned k = 1; k < 5; k++)
            CHECK_EQ(m->acc_hits[k], hits[k]);
        CHECK(!memcmp(m->acc_rg_cycles, rgc, sizeof(rgc)));
        if (m512->cache.avx512) {
            CHECK_EQ(m512->acc_cycles, cyc);
            for (unsigned k = 1; k < 5; k++)
                CHECK_EQ(m512->acc_hits[k], hits[k]);
            CHECK(!memcmp(m512->acc_rg_cycles, rgc, sizeof(rgc)));
        }
        ags_cache_fini(&ref);
        ags_cache_fini(&m->cache);
        ags_cache_fini(&m512->cache);
        free(m);
        free(m512);
        free(q);
        free(q512);
    }
}

/* Walk caches through the simulator: TLB off so every access walks. */
static void test_walk_caches(void)
{
    ags_config_t c;
    cfg_bare(&c, (1u << AGS_MODE_NATIVE) | (1u << AGS_MODE_NESTED));
    c.tlb_on = 0;
    c.pwc_on = 1;
    c.ntlb_on = 1;
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    uint64_t A = 0x7f0000000000ULL;
    LOAD(&e, 1, A);                     /* cold: native 4 */
    LOAD(&e, 1, A);                     /* PDE-cache hit: native 1 */
    LOAD(&e, 1, A + 0x1000);            /* same L1 table: native 1 */
    LOAD(&e, 1, A + 0x200000);          /* new L1 table: PDPTE hit -> native 2 */
    LOAD(&e, 1, A + 0x40000000);        /* new L2 table: PML4E hit -> native 3 */
    sim_feed(s, &e);
    ags_stats_t n = st_of(s, AGS_MODE_NATIVE), x = st_of(s, AGS_MODE_NESTED);
    CHECK_EQ(n.walks, 5);
    CHECK_EQ(n.walk_refs_hist[4], 1);
    CHECK_EQ(n.walk_refs_hist[1], 2);
    CHECK_EQ(n.walk_refs_hist[2], 1);
    CHECK_EQ(n.walk_refs_hist[3], 1);
    CHECK_EQ(n.walk_refs, 4 + 1 + 1 + 2 + 3);
    /* nested, by hand. Guest frames: root 256, L3 257, L2 258, L1 259, data 260, 261, then
     * L1' 262, data 263, L2'' 264, L1'' 265, data 266: all in the first 2 MiB of gPA, so after
     * the root's full host walk every other gPA hits the host PDE cache (1 EPT reference).
     * Each first touch is preceded by the faulting walk (charged as aborted); the one of A
     * translates gCR3 (4 EPT references), which fills the nested TLB for the root.
     *  A:        gCR3 nTLB hit + 4 guest entries + 4 x 1 host  = 8
     *  A again:  guest PDE-cache hit, L1 entry, nTLB hit       = 1
     *  A+4K:     L1 entry + 1 host (new data page)             = 2
     *  A+2M:     PDPTE hit: L2 entry, 1 host, L1 entry, 1 host = 4
     *  A+1G:     PML4E hit: L3, host, L2, host, L1, host       = 6 */
    CHECK_EQ(x.walk_refs_hist[8], 1);
    CHECK_EQ(x.walk_refs_hist[1], 1);
    CHECK_EQ(x.walk_refs_hist[2], 1);
    CHECK_EQ(x.walk_refs_hist[4], 1);
    CHECK_EQ(x.walk_refs_hist[6], 1);
    CHECK_EQ(x.walk_refs, 8 + 1 + 2 + 4 + 6);
    /* the faulting walks: A 4 host + root entry; A+4K, A+2M, A+1G one entry each (PWC hits) */
    CHECK_EQ(x.aborted_refs, 5 + 1 + 1 + 1);
    CHECK_EQ(n.aborted_refs, 1 + 1 + 1 + 1);
    CHECK_EQ(n.translation_checksum, x.translation_checksum);
    ags_sim_destroy(s);
}

/* Cycle arithmetic of one first touch per mode, caches on (L1 4, L2 14, LLC 54, DRAM 200), no
 * PWC or nested TLB. Guest frames 256.. (root, L3, L2, L1, data) lie in one EPT L1 line (8
 * entries). The touch faults: first the faulting walk, then the walk after the guest's handler.
 *  native:  fault walk: root entry (200); walk: root entry in L1 (4), 3 entries from DRAM   =  804
 *  nested:  fault walk: gCR3's host walk 4 x 200, root entry 200 (1000); walk: gCR3's host
 *           walk in L1 (16), root entry (4), 3 entries from DRAM (600), the host walks of
 *           L3, L2, L1 and the data page hit the same four EPT lines: 4 x 16             = 1684
 *  shadow:  fault walk: shadow root entry (200); the walk aborted by the hidden fault reads
 *           it again (4); the retry: root entry (4), three new shadow pages (600)       =  808
 *  agile (root nested): as nested                                                       = 1684 */
static void test_walk_cycles(void)
{
    ags_config_t c;
    ags_config_defaults(&c);
    c.modes = AGS_MODES_ALL;
    c.check = 1;
    c.pwc_on = 0;
    c.ntlb_on = 0;
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    LOAD(&e, 1, 0x7f0000000000ULL);
    sim_feed(s, &e);
    ags_sim_finish(s);
    CHECK_EQ(st_of(s, AGS_MODE_NATIVE).cycles.walk, 804);
    CHECK_EQ(st_of(s, AGS_MODE_NESTED).cycles.walk, 1684);
    CHECK_EQ(st_of(s, AGS_MODE_SHADOW).cycles.walk, 808);
    CHECK_EQ(st_of(s, AGS_MODE_AGILE).cycles.walk, 1684);
    /* totals: 1 instruction x CPI 1 + walk + VMM + 1000 (the guest's fault handler) */
    ags_stats_t sh = st_of(s, AGS_MODE_SHADOW);
    CHECK_EQ(sh.cycles.total, 1 + 808 + sh.cycles.vmm + 1000);
    CHECK_EQ(sh.cycles.vmm, 2500 /* cr3 */ + 2500 /* #PF */ + 3500 /* root write */ + 2500 /* fill */);
    CHECK_EQ(st_of(s, AGS_MODE_NATIVE).cycles.total, 1 + 804 + 1000);
    ags_sim_destroy(s);
}

/* An 8-byte load 4 bytes before a page boundary touches two pages: two translations, one access. */
static void test_page_crossing(void)
{
    ags_config_t c;
    cfg_bare(&c, (1u << AGS_MODE_NATIVE) | (1u << AGS_MODE_NESTED));
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    LOAD(&e, 1, 0x7f0000000ffcULL);       /* crosses into 0x7f0000001000 */
    LOAD(&e, 1, 0x7f0000001ff8ULL);       /* fits: 0x1ff8 + 8 = 0x2000 */
    sim_feed(s, &e);
    ags_sim_finish(s);
    ags_stats_t n = st_of(s, AGS_MODE_NATIVE);
    CHECK_EQ(n.accesses, 2);
    CHECK_EQ(n.page_crossings, 1);
    CHECK_EQ(n.tlb_misses, 2); /* the two pages of the first load; the second load hits */
    CHECK_EQ(n.walks, 2);
    ags_guest_stats_t g;
    ags_sim_guest_stats(s, &g);
    CHECK_EQ(g.page_faults, 2);
    ags_sim_destroy(s);
}

/* Attribution by region does not depend on the order of accesses: an access outside every VMA
 * is charged to its GiB's range, and a VMA inside that GiB stays its own region even right after
 * such an access (the region cache once let the range's entry swallow it). */
static void test_region_attribution(void)
{
    ags_config_t cfg;
    cfg_bare(&cfg, 1u << AGS_MODE_NATIVE);
    ags_sim_t *s = sim_new(&cfg);
    static evs_t e;
    const uint64_t vma = 0x10000000;
    MMAP(&e, 1, vma, 1 << 16);
    LOAD(&e, 1, vma);          /* the VMA */
    LOAD(&e, 1, 0x200000);     /* outside every VMA, same GiB: the range [0, 1 GiB) */
    LOAD(&e, 1, vma + 4096);   /* the VMA again, with the range most recent */
    LOAD(&e, 1, 0x300000);     /* the range */
    LOAD(&e, 1, vma + 8192);   /* the VMA */
    sim_feed(s, &e);
    ags_sim_finish(s);
    size_t n;
    const ags_region_stats_t *r = ags_sim_regions(s, &n);
    uint64_t in_vma = 0, in_range = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].pid == 1 && !r[i].is_range && r[i].start == vma)
            in_vma += r[i].accesses;
        if (r[i].pid == 1 && r[i].is_range && r[i].start == 0 && r[i].end == 1ULL << 30)
            in_range += r[i].accesses;
    }
    CHECK_EQ(in_vma, 3);
    CHECK_EQ(in_range, 2);
    ags_sim_destroy(s);
}

static uint64_t region_accesses(const ags_region_stats_t *r, size_t n, uint32_t pid, uint64_t start)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].pid == pid && !r[i].is_range && r[i].start == start)
            return r[i].accesses;
    return 0;
}

/* The region of a page is memoized: the memo must follow an event that moves the page to another
 * VMA, tell apart two pages that share its slot, and two processes' same page. */
static void test_region_page_memo(void)
{
    ags_config_t cfg;
    cfg_bare(&cfg, 1u << AGS_MODE_NATIVE);
    ags_sim_t *s = sim_new(&cfg);
    static evs_t e;
    const uint64_t A = 0x10000000, A2 = A - 0x10000, B = A + AGS_RGP_SIZE * 4096ULL;
    MMAP(&e, 1, A, 1 << 16);
    LOAD(&e, 1, A);             /* (1, A) */
    MUNMAP(&e, 1, A, 1 << 16);
    MMAP(&e, 1, A2, 1 << 17);   /* the page of A is now in the VMA that starts at A2 */
    LOAD(&e, 1, A);             /* (1, A2) */
    MMAP(&e, 1, B, 4096);
    LOAD(&e, 1, B);             /* (1, B): the memo slot of A's page */
    LOAD(&e, 1, A);             /* (1, A2) */
    MMAP(&e, 2, A, 4096);
    LOAD(&e, 2, A);             /* (2, A): the same page in another process */
    LOAD(&e, 1, A + 8);         /* (1, A2): back in process 1, no event between */
    sim_feed(s, &e);
    ags_sim_finish(s);
    size_t n;
    const ags_region_stats_t *r = ags_sim_regions(s, &n);
    CHECK_EQ(region_accesses(r, n, 1, A), 1);
    CHECK_EQ(region_accesses(r, n, 1, A2), 3);
    CHECK_EQ(region_accesses(r, n, 1, B), 1);
    CHECK_EQ(region_accesses(r, n, 2, A), 1);
    ags_sim_destroy(s);
}

int main(void)
{
    test_page_crossing();
    test_walk_cycles();
    test_sa_lru();
    test_sa_model();
    test_tlb();
    test_cache();
    test_cache_lru();
    test_replay_levels();
    test_walk_caches();
    test_region_attribution();
    test_region_page_memo();
    TEST_END();
}
