/* The VMM and TLB as KVM and the hardware behave (issue: faithful baselines I), against counts
 * worked out by hand. 4-level tables, 4 KiB pages unless said, walk caches and data caches off.
 * Every run is under --check: walks and TLB hits are verified against the guest's translation. */
#include "simtest.h"

#define NATIVE (1u << AGS_MODE_NATIVE)
#define NESTED (1u << AGS_MODE_NESTED)
#define SHADOW (1u << AGS_MODE_SHADOW)
#define AGILE (1u << AGS_MODE_AGILE)
static const uint64_t A = 0x7f0000000000ULL;
static const uint64_t PG = 4096;

static int run_ok(ags_sim_t *s, evs_t *e)
{
    int rc = ags_sim_run(s, e->ev, e->n);
    if (rc)
        fprintf(stderr, "sim_run: %s\n", ags_sim_errmsg(s));
    e->n = 0;
    return rc;
}

/* The default shadow VMM (KVM: unsync leaves, prefetch 8) on mmap + touch 3 pages + munmap:
 *  process creation: CR3 write                                              cr3 1
 *  touch A:    #PF (1); the root entry write is trapped (the root is shadowed; a non-leaf
 *              page is never unsync); L3, L2, L1 are not shadowed yet: free; hidden fault (1)
 *  touch A+4K: #PF (1); the first write to the shadowed L1 table exits and marks it unsync (1);
 *              hidden fault (1)
 *  touch A+8K: #PF (1); the L1 table is unsync: its write is free; hidden fault (1)
 *  munmap:     3 leaf clears (unsync: free); L2, L3, root entries cleared: 3 trapped writes, each
 *              zapping a present shadow entry -> 3 VMM TLB flushes; 3 INVLPG exits
 *  => cr3 1, #PF 3, pt_write 5, hidden 3, invlpg 3 = 15 exits (wp: 19), 3 VMM flushes.
 *  Cycles: 2500 + 3 x 2500 + 5 x 3500 + 3 x 2500 + 3 x 2000 = 41000. */
static void kvm_default_counts(void)
{
    ags_config_t c;
    cfg_bare(&c, NESTED | SHADOW);
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    MMAP(&e, 1, A, 3 * PG);
    LOAD(&e, 1, A);
    LOAD(&e, 1, A + PG);
    LOAD(&e, 1, A + 2 * PG);
    MUNMAP(&e, 1, A, 3 * PG);
    CHECK_EQ(run_ok(s, &e), 0);
    ags_sim_finish(s);
    ags_stats_t sh = st_of(s, AGS_MODE_SHADOW);
    CHECK_EQ(sh.exits.cr3_write, 1);
    CHECK_EQ(sh.exits.guest_fault, 3);
    CHECK_EQ(sh.exits.pt_write, 5);
    CHECK_EQ(sh.exits.hidden_fault, 3);
    CHECK_EQ(sh.exits.invlpg, 3);
    CHECK_EQ(sh.exits.total, 15);
    CHECK_EQ(sh.vmm_tlb_flushes, 3);
    CHECK_EQ(sh.cycles.vmm, 41000);
    CHECK_EQ(st_of(s, AGS_MODE_NESTED).exits.total, 0);
    ags_sim_destroy(s);
}

/* Flood zap (KVM detect_write_flooding): three L2 tables under one L3 table, each mapped by a
 * touch; munmap of the 3 GiB range clears 3 leaves (3 first writes to clean leaf tables: 3
 * unsync exits), 3 L2 entries (3 trapped writes) and 3 L3 entries: the third trapped write to
 * the L3 shadow page without a fill through it zaps it; then the root entry (1 trapped write).
 * => 10 pt_write exits, 1 flood zap. */
static void flood_zap(void)
{
    ags_config_t c;
    cfg_bare(&c, SHADOW);
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    const uint64_t G = 1ULL << 30;
    MMAP(&e, 1, A, 3 * G);
    LOAD(&e, 1, A);
    LOAD(&e, 1, A + G);
    LOAD(&e, 1, A + 2 * G);
    CHECK_EQ(run_ok(s, &e), 0);
    ags_stats_t b = st_of(s, AGS_MODE_SHADOW);
    MUNMAP(&e, 1, A, 3 * G);
    CHECK_EQ(run_ok(s, &e), 0);
    ags_stats_t a = st_of(s, AGS_MODE_SHADOW);
    CHECK_EQ(a.exits.pt_write - b.exits.pt_write, 10);
    CHECK_EQ(a.flood_zaps - b.flood_zaps, 1);
    ags_sim_destroy(s);
}

/* KVM's pte_prefetch: a parent stores to 64 pages and forks; the child's table is a copy whose
 * leaves are present and accessed. The child loads the 64 pages: each hidden fault fills its
 * entry and the 7 others of its aligned group of 8: 8 hidden faults, 56 entries prefetched;
 * without prefetch, 64 hidden faults. */
static void prefetch_child(void)
{
    for (unsigned pf = 0; pf <= 8; pf += 8) {
        ags_config_t c;
        cfg_bare(&c, SHADOW);
        c.shadow_prefetch = pf;
        ags_sim_t *s = sim_new(&c);
        evs_t e = { .n = 0 };
        MMAP(&e, 1, A, 64 * PG);
        for (unsigned i = 0; i < 64; i++)
            STORE(&e, 1, A + i * PG);
        FORK(&e, 1, 2);
        SWITCH(&e, 2);
        CHECK_EQ(run_ok(s, &e), 0);
        ags_stats_t b = st_of(s, AGS_MODE_SHADOW);
        for (unsigned i = 0; i < 64; i++)
            LOAD(&e, 2, A + i * PG);
        CHECK_EQ(run_ok(s, &e), 0);
        ags_stats_t a = st_of(s, AGS_MODE_SHADOW);
        CHECK_EQ(a.exits.hidden_fault - b.exits.hidden_fault, pf ? 8 : 64);
        CHECK_EQ(a.shadow_prefetched - b.shadow_prefetched, pf ? 56 : 0);
        CHECK_EQ(a.exits.total - b.exits.total, pf ? 8 : 64);
        ags_sim_destroy(s);
    }
}

/* VMM-caused flushes cost misses in their own mode only. Process 2 loads 4 pages (TLB entries
 * of ASID 2). Process 1 maps 40 pages, loads them, unmaps them: the shadow VMM zaps present
 * entries (flushing its whole TLB, VPID-wide); nested and agile (whose new processes are nested)
 * flush nothing. Back in process 2, its 4 loads hit the shared TLB: 4 misses for shadow alone. */
static void vmm_flush_misses(void)
{
    ags_config_t c;
    cfg_bare(&c, NESTED | SHADOW | AGILE);
    c.tlb_on = 1;
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    MMAP(&e, 2, A, 4 * PG);
    for (unsigned i = 0; i < 4; i++)
        LOAD(&e, 2, A + i * PG);
    MMAP(&e, 1, A, 40 * PG);
    for (unsigned i = 0; i < 40; i++)
        LOAD(&e, 1, A + i * PG);
    MUNMAP(&e, 1, A, 40 * PG);
    CHECK_EQ(run_ok(s, &e), 0);
    ags_stats_t sb = st_of(s, AGS_MODE_SHADOW), nb = st_of(s, AGS_MODE_NESTED), ab = st_of(s, AGS_MODE_AGILE);
    CHECK(sb.vmm_tlb_flushes > 0);
    CHECK_EQ(nb.vmm_tlb_flushes + ab.vmm_tlb_flushes, 0);
    for (unsigned i = 0; i < 4; i++)
        LOAD(&e, 2, A + i * PG);
    CHECK_EQ(run_ok(s, &e), 0);
    ags_stats_t sa = st_of(s, AGS_MODE_SHADOW), na = st_of(s, AGS_MODE_NESTED), aa = st_of(s, AGS_MODE_AGILE);
    CHECK_EQ(na.tlb_misses - nb.tlb_misses, 0);
    CHECK_EQ(aa.tlb_misses - ab.tlb_misses, 0);
    CHECK_EQ(sa.tlb_misses - sb.tlb_misses, 4);
    CHECK_EQ(sa.vmm_flush_misses - sb.vmm_flush_misses, 4);
    CHECK_EQ(sa.walks - sb.walks, 4);
    ags_sim_finish(s);
    CHECK_EQ(st_of(s, AGS_MODE_SHADOW).translation_checksum, st_of(s, AGS_MODE_NESTED).translation_checksum);
    ags_sim_destroy(s);
}

/* INVLPG of a large guest page drops every entry of it (SDM 4.10.4.1). Guest 2 MiB pages over
 * 4 KiB host pages: the TLB holds the guest leaf as 4 KiB entries. Unmapping the leaf must drop
 * all of them; with only the base dropped, the last load hit the stale +0x1000 entry. */
static void invlpg_large_page(void)
{
    ags_config_t c;
    cfg_bare(&c, NATIVE | NESTED | SHADOW | AGILE);
    c.tlb_on = 1;
    c.guest_page_shift = 21;
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    const uint64_t B = 0x40000000;
    MMAP(&e, 1, B, 2 << 20);
    LOAD(&e, 1, B + 0x1000);
    MUNMAP(&e, 1, B, 2 << 20);
    MMAP(&e, 1, 0x80000000, 2 << 20); /* takes the freed frame, so B gets another one */
    STORE(&e, 1, 0x80000000);
    MMAP(&e, 1, B, 2 << 20);
    STORE(&e, 1, B + 0x5000);
    LOAD(&e, 1, B + 0x1000);
    CHECK_EQ(run_ok(s, &e), 0);
    ags_sim_destroy(s);
    /* guest 1 GiB pages over 2 MiB host pages: fetch, exec (tears the page down), modify */
    cfg_bare(&c, NATIVE | NESTED | SHADOW | AGILE);
    c.tlb_on = 1;
    c.guest_page_shift = 30;
    c.host_page_shift = 21;
    s = sim_new(&c);
    FETCH(&e, 1, 0x404d3f5fULL);
    EXEC(&e, 1);
    MODIFY(&e, 1, 0x405d5e1eULL);
    CHECK_EQ(run_ok(s, &e), 0);
    ags_sim_destroy(s);
}

/* An exitless CR3 reload (agile's gCR3 cache) cannot resync unsync pages: a load whose process
 * has unsync pages misses the cache. 65 pages mapped, 64 stored to (the leaf table goes unsync),
 * 64 unmapped (a full flush), mapped again, loaded: the load must not use a stale shadow entry. */
static void cr3_cache_unsync(void)
{
    ags_config_t c;
    cfg_bare(&c, NESTED | AGILE);
    c.tlb_on = 1;
    c.agile_cr3_cache = 4;
    c.agile_start_shadow = 1;
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    MMAP(&e, 1, A, 65 * PG);
    for (unsigned i = 0; i < 64; i++)
        STORE(&e, 1, A + i * PG);
    LOAD(&e, 1, A + 64 * PG);
    CHECK_EQ(run_ok(s, &e), 0);
    ags_stats_t b = st_of(s, AGS_MODE_AGILE);
    MUNMAP(&e, 1, A, 64 * PG);
    MMAP(&e, 1, A, 64 * PG);
    for (unsigned i = 0; i < 64; i++)
        LOAD(&e, 1, A + i * PG);
    CHECK_EQ(run_ok(s, &e), 0);
    ags_stats_t a = st_of(s, AGS_MODE_AGILE);
    CHECK(a.exits.cr3_write - b.exits.cr3_write >= 1); /* the full flush's reload exited */
    ags_sim_destroy(s);
}

/* Native keeps the guest leaf's reach: guest 2 MiB pages over 4 KiB host pages, 512 loads, one
 * per 4 KiB page of one 2 MiB page: native misses once, nested 512 times (4 KiB entries). */
static void native_reach(void)
{
    ags_config_t c;
    cfg_bare(&c, NATIVE | NESTED);
    c.tlb_on = 1;
    c.guest_page_shift = 21;
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    MMAP(&e, 1, 0x40000000, 2 << 20);
    for (unsigned i = 0; i < 512; i++)
        LOAD(&e, 1, 0x40000000 + i * PG);
    CHECK_EQ(run_ok(s, &e), 0);
    ags_sim_finish(s);
    CHECK_EQ(st_of(s, AGS_MODE_NATIVE).tlb_misses, 1);
    CHECK_EQ(st_of(s, AGS_MODE_NESTED).tlb_misses, 512);
    CHECK_EQ(st_of(s, AGS_MODE_NATIVE).walks, 1);
    ags_sim_destroy(s);
}

/* Agile's dirty flags behave like the EPT D bit with 2 MiB host pages: the guest's table pages
 * and its data frame share one host page. Stores to the data page, 100 instructions each, scans
 * every 1000: after each scan's INVEPT the next store sets the host page's D bit again, so the
 * nested tables never revert. With loads only (after one store), they revert. */
static void large_host_page_dirty(void)
{
    for (int stores = 0; stores <= 1; stores++) {
        ags_config_t c;
        cfg_bare(&c, NESTED | AGILE);
        c.tlb_on = 1;
        c.host_page_shift = 21;
        c.agile_interval = 1000;
        ags_sim_t *s = sim_new(&c);
        evs_t e = { .n = 0 };
        for (unsigned i = 0; i < 60; i++)
            ev_push(&e, AGS_EV_ACCESS, 1, A + 8 * (i % 4), 0, 0, stores || i == 0 ? AGS_ACC_STORE : AGS_ACC_LOAD, 100);
        CHECK_EQ(run_ok(s, &e), 0);
        ags_stats_t st = st_of(s, AGS_MODE_AGILE);
        CHECK_EQ(st.agile.scans, 6);
        if (stores) {
            CHECK_EQ(st.agile.to_shadow, 0);
            CHECK_EQ(st.vmm_flush_misses, 5); /* one refill after each INVEPT but the last (no access after it) */
        } else {
            CHECK(st.agile.to_shadow >= 1);
        }
        ags_sim_destroy(s);
    }
}

/* --agile-dirty ept-ad (stock EPT A/D): every walk marks the guest tables it read dirty, so with
 * the TLB off (every load walks) the root stays nested (24 references a walk); with pt-write the
 * clean tables revert at the second scan. 40 loads of 100 instructions, scans every 1000. */
static void ept_ad_keeps_nested(void)
{
    for (int ad = 0; ad <= 1; ad++) {
        ags_config_t c;
        cfg_bare(&c, NESTED | AGILE);
        c.tlb_on = 0;
        c.agile_interval = 1000;
        c.agile_dirty = ad ? AGS_AGILE_DIRTY_EPT_AD : AGS_AGILE_DIRTY_PT_WRITE;
        ags_sim_t *s = sim_new(&c);
        evs_t e = { .n = 0 };
        for (unsigned i = 0; i < 40; i++)
            ev_push(&e, AGS_EV_ACCESS, 1, A, 0, 0, AGS_ACC_LOAD, 100);
        CHECK_EQ(run_ok(s, &e), 0);
        ags_stats_t st = st_of(s, AGS_MODE_AGILE);
        if (ad) {
            CHECK_EQ(st.agile.to_shadow, 0);
            CHECK_EQ(st.walk_refs_hist[24], 40);
        } else {
            CHECK_EQ(st.agile.to_shadow, 4); /* as agile_revert_subtree in test_vmm */
            CHECK_EQ(st.walk_refs_hist[24], 20);
            CHECK_EQ(st.walk_refs_hist[4], 20);
        }
        ags_sim_destroy(s);
    }
}

int main(void)
{
    kvm_default_counts();
    flood_zap();
    prefetch_child();
    vmm_flush_misses();
    invlpg_large_page();
    cr3_cache_unsync();
    native_reach();
    large_host_page_dirty();
    ept_ad_keeps_nested();
    TEST_END();
}
