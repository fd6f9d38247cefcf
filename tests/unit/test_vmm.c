/* Shadow and agile VMMs against exit counts and walk lengths worked out by hand.
 * Configuration: 4-level, 4 KiB pages, caches and walk caches off, flat 1-cycle references. */
#include "simtest.h"
#include "sim/sim_internal.h"
#include "vmm/vmm_internal.h"

/* The counts below marked "wp" were worked out for --shadow-sync wp without prefetch. */
static void cfg_wp(ags_config_t *c)
{
    c->shadow_sync = AGS_SYNC_WP;
    c->shadow_prefetch = 0;
}

#define NATIVE (1u << AGS_MODE_NATIVE)
#define NESTED (1u << AGS_MODE_NESTED)
#define SHADOW (1u << AGS_MODE_SHADOW)
#define AGILE (1u << AGS_MODE_AGILE)
static const uint64_t A = 0x7f0000000000ULL;

static void seq_mmap_touch3_munmap(evs_t *e)
{
    MMAP(e, 1, A, 3 * 4096);
    LOAD(e, 1, A);
    LOAD(e, 1, A + 4096);
    LOAD(e, 1, A + 8192);
    MUNMAP(e, 1, A, 3 * 4096);
}

/* mmap + touch 3 pages + munmap. Shadow, by hand:
 *  process creation: CR3 write                                  cr3 1
 *  touch A:   #PF intercepted (1), root-entry write trapped (1: only the root is shadowed),
 *             L3/L2/leaf writes go to unshadowed pages, retry: hidden fault (1) fills L3,L2,L1
 *  touch A+4K, A+8K: #PF (1) + leaf write in the shadowed L1 (1) + hidden fault (1), each
 *  munmap: 3 leaf clears + L2, L3, L4 entry clears (6 writes, all shadowed) + 3 INVLPG
 *  => cr3 1, guest_fault 3, pt_write 1+2+6 = 9, hidden_fault 3, invlpg 3: 19 exits. */
static void shadow_mmap_touch_munmap(void)
{
    ags_config_t c;
    cfg_bare(&c, NATIVE | NESTED | SHADOW | AGILE);
    cfg_wp(&c); /* hand-computed for trap-and-emulate of every write */
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    seq_mmap_touch3_munmap(&e);
    sim_feed(s, &e);
    ags_sim_finish(s);
    ags_stats_t sh = st_of(s, AGS_MODE_SHADOW), ne = st_of(s, AGS_MODE_NESTED), ag = st_of(s, AGS_MODE_AGILE);
    CHECK_EQ(sh.exits.cr3_write, 1);
    CHECK_EQ(sh.exits.guest_fault, 3);
    CHECK_EQ(sh.exits.pt_write, 9);
    CHECK_EQ(sh.exits.hidden_fault, 3);
    CHECK_EQ(sh.exits.invlpg, 3);
    CHECK_EQ(sh.exits.dirty, 0);
    CHECK_EQ(sh.exits.total, 19);
    /* default costs: exit 1500 + cr3 1000, reflect 1000, emulate 2000, fill 1000, invlpg 500 */
    CHECK_EQ(sh.cycles.vmm, 2500 + 3 * 2500 + 9 * 3500 + 3 * 2500 + 3 * 2000);
    CHECK_EQ(sh.walks, 3);
    CHECK_EQ(sh.walk_refs, 12);          /* 4 per completed walk */
    CHECK_EQ(sh.aborted_walks, 6);       /* the walks cut short by the 3 hidden faults, and the 3
                                          * faulting walks that found the guest's page faults */
    CHECK_EQ(sh.fault_walks, 3);
    CHECK_EQ(ne.fault_walks, 3);
    CHECK_EQ(ne.exits.total, 0);
    CHECK_EQ(ne.walk_refs, 3 * 24);
    /* agile (new processes start nested): the CR3 write and the 3 INVLPG exit (intercepted as in
     * shadow mode: the VMM cannot tell which addresses its shadow part maps) */
    CHECK_EQ(ag.exits.total, 4);
    CHECK_EQ(ag.exits.cr3_write, 1);
    CHECK_EQ(ag.exits.invlpg, 3);
    CHECK_EQ(ag.walk_refs, 3 * 24);
    CHECK_EQ(ag.shadow_pages_built, 0);
    CHECK_EQ(sh.translation_checksum, ne.translation_checksum);
    CHECK_EQ(ag.translation_checksum, ne.translation_checksum);
    CHECK_EQ(sh.cycles.guest_kernel, 3 * 1000);
    ags_sim_destroy(s);
}

/* warm-up: the same sequence with the first access simulated but not counted. Without it there
 * were 19 exits; the process creation (cr3 1) and the first touch (guest_fault 1, pt_write 1,
 * hidden_fault 1) fall in the warm-up: 15 remain. */
static void warmup_excludes(void)
{
    ags_config_t c;
    cfg_bare(&c, NESTED | SHADOW);
    cfg_wp(&c); /* hand-computed for trap-and-emulate of every write */
    c.warmup = 1;
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    seq_mmap_touch3_munmap(&e);
    sim_feed(s, &e);
    ags_sim_finish(s);
    ags_stats_t sh = st_of(s, AGS_MODE_SHADOW);
    CHECK_EQ(sh.exits.total, 15);
    CHECK_EQ(sh.exits.cr3_write, 0);
    CHECK_EQ(sh.exits.guest_fault, 2);
    CHECK_EQ(sh.exits.pt_write, 8);
    CHECK_EQ(sh.exits.hidden_fault, 2);
    CHECK_EQ(sh.exits.invlpg, 3);
    CHECK_EQ(sh.accesses, 2);
    CHECK_EQ(sh.instructions, 2);
    CHECK_EQ(sh.walks, 2);
    CHECK_EQ(st_of(s, AGS_MODE_NESTED).walk_refs, 2 * 24);
    ags_guest_stats_t g;
    ags_sim_guest_stats(s, &g);
    CHECK_EQ(g.page_faults, 2);
    CHECK_EQ(g.guest_kernel_cycles, 2000);
    ags_sim_destroy(s);
}

/* fork of a process with N mapped, written pages: the parent's N leaves are write-protected in
 * its shadowed L1 table (N trapped writes); the child's new tables are not shadowed (free); the
 * parent's TLB flush is a CR3 reload (1 exit). */
static void shadow_fork(void)
{
    for (unsigned N = 1; N <= 40; N += 13) {
        ags_config_t c;
        cfg_bare(&c, NESTED | SHADOW);
        cfg_wp(&c); /* hand-computed for trap-and-emulate of every write */
        ags_sim_t *s = sim_new(&c);
        evs_t e = { .n = 0 };
        MMAP(&e, 1, A, N * 4096ULL);
        for (unsigned i = 0; i < N; i++)
            STORE(&e, 1, A + i * 4096ULL);
        sim_feed(s, &e);
        ags_stats_t b = st_of(s, AGS_MODE_SHADOW);
        FORK(&e, 1, 2);
        sim_feed(s, &e);
        ags_stats_t a = st_of(s, AGS_MODE_SHADOW);
        CHECK_EQ(a.exits.pt_write - b.exits.pt_write, N);
        CHECK_EQ(a.exits.cr3_write - b.exits.cr3_write, 1);
        CHECK_EQ(a.exits.total - b.exits.total, N + 1);
        CHECK_EQ(st_of(s, AGS_MODE_NESTED).exits.total, 0);
        /* the child's first store to a shared page: COW fault intercepted, leaf write in the
         * child's table (not shadowed yet: free), retry: hidden fault */
        b = a;
        STORE(&e, 2, A);
        sim_feed(s, &e);
        a = st_of(s, AGS_MODE_SHADOW);
        CHECK_EQ(a.exits.cr3_write - b.exits.cr3_write, 1); /* switch to the child */
        CHECK_EQ(a.exits.guest_fault - b.exits.guest_fault, 1);
        CHECK_EQ(a.exits.hidden_fault - b.exits.hidden_fault, 1);
        CHECK_EQ(a.exits.pt_write - b.exits.pt_write, 0);
        ags_sim_destroy(s);
    }
}

/* two processes switching K times: K CR3-write exits in shadow and agile; none in agile with a
 * gCR3 cache of 2; none in nested. */
static void shadow_switches(void)
{
    for (unsigned cache = 0; cache <= 2; cache += 2) {
        ags_config_t c;
        cfg_bare(&c, NESTED | SHADOW | AGILE);
        c.agile_cr3_cache = cache;
        ags_sim_t *s = sim_new(&c);
        evs_t e = { .n = 0 };
        LOAD(&e, 1, A);
        LOAD(&e, 2, A);
        sim_feed(s, &e);
        ags_stats_t sb = st_of(s, AGS_MODE_SHADOW), ab = st_of(s, AGS_MODE_AGILE);
        const unsigned K = 10;
        for (unsigned k = 0; k < K; k++) {
            SWITCH(&e, k & 1 ? 2 : 1);
            LOAD(&e, k & 1 ? 2 : 1, A);
        }
        sim_feed(s, &e);
        ags_stats_t sa = st_of(s, AGS_MODE_SHADOW), aa = st_of(s, AGS_MODE_AGILE);
        CHECK_EQ(sa.exits.total - sb.exits.total, K);
        CHECK_EQ(sa.exits.cr3_write - sb.exits.cr3_write, K);
        CHECK_EQ(aa.exits.total - ab.exits.total, cache ? 0 : K);
        CHECK_EQ(st_of(s, AGS_MODE_NESTED).exits.total, 0);
        ags_sim_destroy(s);
    }
}

/* dirty-bit emulation: load then store to a page; the store to the clean TLB entry exits in
 * shadow (and agile's shadow part), not with --agile-ad-hw, never in nested. */
static void shadow_dirty(void)
{
    for (int adhw = 0; adhw <= 1; adhw++) {
        ags_config_t c;
        cfg_bare(&c, NESTED | SHADOW | AGILE);
        c.agile_start_shadow = 1;
        c.agile_ad_hw = adhw;
        ags_sim_t *s = sim_new(&c);
        evs_t e = { .n = 0 };
        LOAD(&e, 1, A);
        STORE(&e, 1, A + 8);
        STORE(&e, 1, A + 16); /* already dirty */
        sim_feed(s, &e);
        CHECK_EQ(st_of(s, AGS_MODE_SHADOW).exits.dirty, 1);
        CHECK_EQ(st_of(s, AGS_MODE_AGILE).exits.dirty, adhw ? 0 : 1);
        CHECK_EQ(st_of(s, AGS_MODE_NESTED).exits.dirty, 0);
        CHECK_EQ(st_of(s, AGS_MODE_SHADOW).dirty_assists, 1);
        ags_sim_destroy(s);
    }
}

/* unsync: the first write to a shadowed leaf table exits and marks it unsync; later writes are
 * free; an INVLPG of an address it maps resyncs it. */
static void shadow_unsync(void)
{
    ags_config_t c;
    cfg_bare(&c, NESTED | SHADOW);
    c.shadow_sync = AGS_SYNC_UNSYNC;
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    MMAP(&e, 1, A, 16 * 4096);
    LOAD(&e, 1, A);              /* builds the shadow path */
    sim_feed(s, &e);
    ags_stats_t b = st_of(s, AGS_MODE_SHADOW);
    for (unsigned i = 1; i < 6; i++)
        LOAD(&e, 1, A + i * 4096ULL); /* 5 leaf writes: 1 exit (unsync), 4 free */
    sim_feed(s, &e);
    ags_stats_t a = st_of(s, AGS_MODE_SHADOW);
    CHECK_EQ(a.exits.pt_write - b.exits.pt_write, 1);
    CHECK_EQ(a.exits.guest_fault - b.exits.guest_fault, 5);
    CHECK_EQ(a.exits.hidden_fault - b.exits.hidden_fault, 5);
    MUNMAP(&e, 1, A + 4096, 4096); /* leaf write free (unsync); INVLPG exits and syncs that entry only */
    sim_feed(s, &e);
    b = a;
    a = st_of(s, AGS_MODE_SHADOW);
    CHECK_EQ(a.exits.pt_write - b.exits.pt_write, 0);
    CHECK_EQ(a.exits.invlpg - b.exits.invlpg, 1);
    CHECK_EQ(a.resyncs, 0);
    LOAD(&e, 1, A + 4096); /* faults again: #PF, the leaf write is free (still unsync), hidden fault */
    sim_feed(s, &e);
    b = a;
    a = st_of(s, AGS_MODE_SHADOW);
    CHECK_EQ(a.exits.pt_write - b.exits.pt_write, 0);
    CHECK_EQ(a.exits.guest_fault - b.exits.guest_fault, 1);
    CHECK_EQ(a.exits.hidden_fault - b.exits.hidden_fault, 1);
    /* a switch away and back: 2 CR3 exits; loading pid 1 resyncs its unsync page, which agrees
     * with the guest (every stale entry was synced or refilled): no VMM flush */
    SWITCH(&e, 2);
    SWITCH(&e, 1);
    sim_feed(s, &e);
    b = a;
    a = st_of(s, AGS_MODE_SHADOW);
    CHECK_EQ(a.exits.cr3_write - b.exits.cr3_write, 2);
    CHECK_EQ(a.resyncs, 1);
    CHECK_EQ(a.vmm_tlb_flushes, 0);
    LOAD(&e, 1, A + 6 * 4096); /* the resynced page is protected again: 1 write exit */
    sim_feed(s, &e);
    b = a;
    a = st_of(s, AGS_MODE_SHADOW);
    CHECK_EQ(a.exits.pt_write - b.exits.pt_write, 1);
    ags_sim_destroy(s);
}

/* agile: a SHADOW page written twice switches to NESTED; its walks then switch at the parent
 * (shadow L2 entry: 3 shadow + 1 guest + 4 host = 8 references). */
static void agile_two_writes(void)
{
    ags_config_t c;
    cfg_bare(&c, NESTED | AGILE);
    cfg_wp(&c); /* hand-computed for trap-and-emulate of every write */
    c.agile_start_shadow = 1;
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    MMAP(&e, 1, A, 16 * 4096);
    LOAD(&e, 1, A);            /* root write trapped (root count 1), hidden fault */
    LOAD(&e, 1, A + 4096);     /* leaf write trapped: L1 count 1 */
    sim_feed(s, &e);
    ags_stats_t st = st_of(s, AGS_MODE_AGILE);
    CHECK_EQ(st.agile.to_nested, 0);
    CHECK_EQ(st.walk_refs_hist[4], 2);
    LOAD(&e, 1, A + 8192);     /* L1 count 2: switch */
    sim_feed(s, &e);
    st = st_of(s, AGS_MODE_AGILE);
    CHECK_EQ(st.agile.to_nested, 1);
    CHECK_EQ(st.exits.pt_write, 3);
    CHECK_EQ(st.exits.guest_fault, 3);
    CHECK_EQ(st.exits.hidden_fault, 2);
    CHECK_EQ(st.walk_refs_hist[8], 1);
    CHECK_EQ(st.agile.switch_level_hist[2], 1);
    LOAD(&e, 1, A + 12288);    /* in the nested part: no #PF exit, no write exit */
    sim_feed(s, &e);
    st = st_of(s, AGS_MODE_AGILE);
    CHECK_EQ(st.exits.pt_write, 3);
    CHECK_EQ(st.exits.guest_fault, 3);
    CHECK_EQ(st.walk_refs_hist[8], 2);
    CHECK_EQ(st.agile.walks_full_shadow, 2);
    CHECK_EQ(st.translation_checksum, st_of(s, AGS_MODE_NESTED).translation_checksum);
    ags_sim_destroy(s);
}

/* agile: switching an L2 page makes its whole subtree nested: 2 shadow + 10 = 12 references. */
static void agile_subtree(void)
{
    ags_config_t c;
    cfg_bare(&c, NESTED | AGILE);
    c.agile_start_shadow = 1;
    c.tlb_on = 0; /* every access walks */
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    MMAP(&e, 1, A, 64 << 20);
    LOAD(&e, 1, A);                 /* builds L3, L2, L1 shadow pages */
    LOAD(&e, 1, A + (2 << 20));     /* L2 entry write trapped (L2 count 1) */
    LOAD(&e, 1, A + (4 << 20));     /* L2 count 2: L2 and its three L1 tables go nested */
    LOAD(&e, 1, A);
    LOAD(&e, 1, A + (2 << 20));
    sim_feed(s, &e);
    ags_stats_t st = st_of(s, AGS_MODE_AGILE);
    CHECK_EQ(st.agile.to_nested, 1);
    CHECK_EQ(st.walk_refs_hist[12], 3);
    CHECK_EQ(st.agile.switch_level_hist[3], 3);
    CHECK_EQ(st.agile.nested_pages, 0); /* set at finish */
    ags_sim_finish(s);
    st = st_of(s, AGS_MODE_AGILE);
    CHECK_EQ(st.agile.nested_pages, 4); /* L2 + 3 L1 */
    CHECK_EQ(st.agile.shadow_pages, 2); /* root + L3 */
    ags_sim_destroy(s);
}

/* agile: nested -> shadow, top-down, one level per clean interval, and only when the parent is
 * SHADOW. Root starts nested; interval 1000 instructions; each load retires 100. */
static void agile_revert(int dirty_l3)
{
    ags_config_t c;
    cfg_bare(&c, NESTED | AGILE);
    c.tlb_on = 0;
    c.agile_interval = 1000;
    c.agile_revert_one_level = 1;
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    uint64_t cnt = 0;
    for (unsigned i = 0; i < 70; i++) {
        /* interval 1 dirties everything (faults and first A bits): nothing reverts at scan 1 */
        uint64_t a = A;
        if (dirty_l3 && i == 25)
            a = A + (1ULL << 30); /* a new L2 table under the (nested) L3: L3 dirty in interval 3 */
        ev_push(&e, AGS_EV_ACCESS, 1, a, 0, 0, AGS_ACC_LOAD, 100);
        cnt++;
    }
    sim_feed(s, &e);
    ags_sim_finish(s);
    ags_stats_t st = st_of(s, AGS_MODE_AGILE);
    /* loads 1-20: 24 (root reverts at scan 2), 21-30: 16 (L3 at scan 3), 31-40: 12 (L2),
     * 41-50: 8 (L1), 51-70: 4 */
    if (!dirty_l3) {
        CHECK_EQ(st.walk_refs_hist[24], 20);
        CHECK_EQ(st.walk_refs_hist[16], 10);
        CHECK_EQ(st.walk_refs_hist[12], 10);
        CHECK_EQ(st.walk_refs_hist[8], 10);
        CHECK_EQ(st.walk_refs_hist[4], 20);
        CHECK_EQ(st.agile.to_shadow, 4);
    } else {
        /* the L3 table stays nested one more interval: 21-40 at 16, then L3 (and the new L2's
         * sibling levels) follow one interval later */
        CHECK_EQ(st.walk_refs_hist[24], 20);
        CHECK_EQ(st.walk_refs_hist[16], 20);
        CHECK_EQ(st.walk_refs_hist[12], 10);
        CHECK_EQ(st.walk_refs_hist[8], 10);
        CHECK_EQ(st.walk_refs_hist[4], 10);
    }
    CHECK_EQ(st.agile.scans, 7);
    CHECK_EQ(st.agile.to_nested, 0);
    CHECK_EQ(st.translation_checksum, st_of(s, AGS_MODE_NESTED).translation_checksum);
    CHECK_EQ(cnt, 70);
    ags_sim_destroy(s);
}

/* agile, default scan: a clean subtree reverts in one scan, top-down; a dirty page blocks its
 * subtree. Loads 1-10 at 24 (interval 1 dirty), scan 2 reverts all four levels: 11-20 at 24,
 * 21-30 at 4. With the L3 table dirtied in interval 2 (a new L2 under it at load 15), scan 2
 * reverts the root only: 21-30 at 16; scan 3 the rest: 31-40 at 4. */
static void agile_revert_subtree(int dirty_l3)
{
    ags_config_t c;
    cfg_bare(&c, NESTED | AGILE);
    c.tlb_on = 0;
    c.agile_interval = 1000;
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    for (unsigned i = 0; i < 40; i++)
        ev_push(&e, AGS_EV_ACCESS, 1, dirty_l3 && i == 14 ? A + (1ULL << 30) : A, 0, 0, AGS_ACC_LOAD, 100);
    sim_feed(s, &e);
    ags_stats_t st = st_of(s, AGS_MODE_AGILE);
    if (!dirty_l3) {
        CHECK_EQ(st.walk_refs_hist[24], 20);
        CHECK_EQ(st.walk_refs_hist[4], 20);
        CHECK_EQ(st.agile.to_shadow, 4);
    } else {
        CHECK_EQ(st.walk_refs_hist[24], 20);
        CHECK_EQ(st.walk_refs_hist[16], 10);
        CHECK_EQ(st.walk_refs_hist[4], 10);
        CHECK_EQ(st.agile.to_shadow, 1 + 1 + 2 + 2); /* root; then L3, 2 L2, 2 L1 */
    }
    ags_sim_destroy(s);
}

/* agile: a process that exits young (before a scan) never builds shadow tables. */
static void agile_young_exit(void)
{
    ags_config_t c;
    cfg_bare(&c, SHADOW | AGILE);
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    MMAP(&e, 1, A, 64 * 4096);
    for (unsigned i = 0; i < 64; i++)
        STORE(&e, 1, A + i * 4096ULL);
    EXIT(&e, 1);
    sim_feed(s, &e);
    CHECK_EQ(st_of(s, AGS_MODE_AGILE).shadow_pages_built, 0);
    CHECK(st_of(s, AGS_MODE_SHADOW).shadow_pages_built >= 4);
    /* an exit of a process that is gone (or never ran) changes nothing */
    ags_guest_stats_t g0, g1;
    ags_sim_guest_stats(s, &g0);
    EXIT(&e, 1);
    EXIT(&e, 77);
    sim_feed(s, &e);
    ags_sim_guest_stats(s, &g1);
    CHECK_EQ(g1.processes, g0.processes);
    CHECK_EQ(g1.exits, g0.exits);
    ags_sim_destroy(s);
}

/* the forced levels of docs/model.md §3: 4, 8, 12, 16, and 24 for a root-nested process */
static void agile_forced(void)
{
    const unsigned expect[6] = { 0, 4, 8, 12, 16, 24 };
    for (unsigned L = 1; L <= 5; L++) {
        ags_config_t c;
        cfg_bare(&c, AGILE);
        c.tlb_on = 0;
        c.agile_force_level = L;
        ags_sim_t *s = sim_new(&c);
        evs_t e = { .n = 0 };
        for (unsigned i = 0; i < 50; i++)
            LOAD(&e, 1, A + (i % 5) * 4096ULL);
        sim_feed(s, &e);
        ags_stats_t st = st_of(s, AGS_MODE_AGILE);
        CHECK_EQ(st.walk_refs, 50 * expect[L]);
        ags_sim_destroy(s);
    }
}

/* The --check audit passes on a consistent VMM and catches each kind of corruption: a shadow
 * leaf that maps the wrong frame, a writable shadow leaf over a clean guest entry, a guest page
 * that claims a shadow page that does not shadow it. */
static ags_vmm_t *vmm_of(ags_sim_t *s, ags_mode_t mode)
{
    for (unsigned i = 0; i < s->nm; i++)
        if (s->m[i]->mode == mode)
            return &s->m[i]->vmm;
    return NULL;
}

static void audit_catches(void)
{
    ags_config_t c;
    cfg_bare(&c, SHADOW);
    cfg_wp(&c); /* hand-computed for trap-and-emulate of every write */
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    MMAP(&e, 1, A, 4 * 4096);
    LOAD(&e, 1, A);
    STORE(&e, 1, A + 4096);
    sim_feed(s, &e);
    ags_vmm_t *v = vmm_of(s, AGS_MODE_SHADOW);
    char err[256];
    CHECK_EQ(ags_vmm_audit(v, err, sizeof(err)), AGS_OK);
    /* find the leaf shadow page and its entries for A and A+4K */
    uint32_t leaf = 0;
    for (uint32_t id = 1; id < v->nsp; id++)
        if (v->sp[id].live && v->sp[id].level == 1)
            leaf = id;
    CHECK(leaf != 0);
    uint64_t *se = ags_mem_pt(v->mem, v->sp[leaf].hpa >> AGS_PAGE_SHIFT);
    unsigned i0 = ags_pt_index(A, 1), i1 = ags_pt_index(A + 4096, 1);
    CHECK(ags_x86_present(se[i0]) && ags_x86_present(se[i1]));
    uint64_t save = se[i0];
    se[i0] += 4096; /* maps the neighbouring frame */
    CHECK_EQ(ags_vmm_audit(v, err, sizeof(err)), AGS_E_INTERNAL);
    CHECK(strstr(err, "maps hPA") != NULL);
    se[i0] = save | AGS_X86_RW; /* writable, but the guest entry of A is clean (a load) */
    CHECK_EQ(ags_vmm_audit(v, err, sizeof(err)), AGS_E_INTERNAL);
    CHECK(strstr(err, "is writable") != NULL);
    se[i0] = save;
    CHECK_EQ(ags_vmm_audit(v, err, sizeof(err)), AGS_OK);
    uint32_t slot = v->sp[leaf].slot;
    v->slot[slot].sp = AGS_NO_SP;
    CHECK_EQ(ags_vmm_audit(v, err, sizeof(err)), AGS_E_INTERNAL);
    CHECK(strstr(err, "do not name each other") != NULL);
    v->slot[slot].sp = leaf;
    CHECK_EQ(ags_vmm_audit(v, err, sizeof(err)), AGS_OK);
    ags_sim_destroy(s);
}

/* A VMM that could not grow its bookkeeping (its sticky error) stops the run at the next
 * fan-out, with the VMM's message: the driver learns of it from one flag (vmm_failed). */
static void vmm_sticky_error(void)
{
    ags_config_t c;
    cfg_bare(&c, NATIVE | NESTED | SHADOW | AGILE);
    c.check = 0;
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    MMAP(&e, 1, A, 2 * 4096);
    LOAD(&e, 1, A);
    sim_feed(s, &e);
    CHECK_EQ(s->vmm_failed, 0);
    ags_vmm_t *v = NULL;
    for (unsigned i = 0; i < s->nm; i++)
        if (s->m[i]->mode == AGS_MODE_SHADOW)
            v = &s->m[i]->vmm;
    CHECK(v != NULL);
    ags_vmm_fail(v, "unit test");
    CHECK_EQ(s->vmm_failed, 1);
    LOAD(&e, 1, A); /* a TLB hit: no fan-out, no check */
    CHECK_EQ(ags_sim_run(s, e.ev, e.n), 0);
    e.n = 0;
    LOAD(&e, 1, A + 4096); /* a miss: the fan-out finds the error */
    CHECK_EQ(ags_sim_run(s, e.ev, e.n), AGS_E_NOMEM);
    const char *msg = ags_sim_errmsg(s);
    CHECK(msg && strstr(msg, "shadow: VMM: out of memory: unit test"));
    ags_sim_destroy(s);
}

/* With the machines in groups, the groups beyond the first follow it a few batches behind: an
 * error one of them finds (here the shadow VMM's) is the run's, at the event where it came, even
 * when the first group then fails at a later event; the error stays (every later call returns it). */
static void group_error_earliest(void)
{
    ags_config_t c;
    cfg_bare(&c, NATIVE | NESTED | SHADOW | AGILE);
    c.check = 0;
    ags_sim_t *s = sim_new(&c);
    CHECK_EQ(ags_sim_set_groups(s, 4), AGS_OK);
    CHECK_EQ(ags_sim_groups(s), 4u);
    evs_t e = { .n = 0 };
    MMAP(&e, 1, A, 2 * 4096);
    LOAD(&e, 1, A);
    CHECK_EQ(ags_sim_run(s, e.ev, e.n), 0);
    CHECK_EQ(ags_sim_run(s, NULL, 0), 0); /* every group has run both */
    CHECK_EQ(ags_sim_set_groups(s, 2), AGS_E_INVAL); /* after the first event */
    ags_sim_t *sh = ags_group_core(s, AGS_MODE_SHADOW);
    CHECK(sh != NULL && sh != s); /* the first group is native's */
    ags_vmm_fail(vmm_of(sh, AGS_MODE_SHADOW), "unit test");
    e.n = 0;
    LOAD(&e, 1, A);                     /* event 3: a TLB hit */
    LOAD(&e, 1, A + 4096);              /* event 4: a miss: the shadow group's fan-out finds the error */
    LOAD(&e, 1, 0x800000000000ULL);     /* event 5: non-canonical, an error of every group */
    CHECK_EQ(ags_sim_run(s, e.ev, e.n), AGS_E_NOMEM);
    CHECK_EQ(ags_sim_events_done(s), 3u);
    const char *msg = ags_sim_errmsg(s);
    CHECK(msg && strstr(msg, "shadow: VMM: out of memory: unit test"));
    CHECK_EQ(ags_sim_run(s, e.ev, 1), AGS_E_NOMEM);
    CHECK_EQ(ags_sim_run(s, NULL, 0), AGS_E_NOMEM);
    ags_sim_finish(s);
    ags_sim_destroy(s);
    /* and the first group's own error, when no other group found one before it */
    s = sim_new(&c);
    CHECK_EQ(ags_sim_set_groups(s, 3), AGS_OK);
    e.n = 0;
    MMAP(&e, 1, A, 2 * 4096);
    LOAD(&e, 1, A);
    LOAD(&e, 1, 0x800000000000ULL);
    CHECK_EQ(ags_sim_run(s, e.ev, e.n), AGS_E_NONCANON);
    CHECK_EQ(ags_sim_events_done(s), 2u);
    ags_sim_destroy(s);
}

int main(void)
{
    vmm_sticky_error();
    group_error_earliest();
    audit_catches();
    shadow_mmap_touch_munmap();
    warmup_excludes();
    shadow_fork();
    shadow_switches();
    shadow_dirty();
    shadow_unsync();
    agile_two_writes();
    agile_subtree();
    agile_revert(0);
    agile_revert(1);
    agile_revert_subtree(0);
    agile_revert_subtree(1);
    agile_young_exit();
    agile_forced();
    TEST_END();
}
