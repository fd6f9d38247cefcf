/* The guest follows Linux's mm (issue: faithful baselines II), against counts worked out by hand.
 * 4-level tables, 4 KiB pages, walk caches and caches off, every walk checked. */
#include "simtest.h"

#define NATIVE (1u << AGS_MODE_NATIVE)
#define NESTED (1u << AGS_MODE_NESTED)
#define SHADOW (1u << AGS_MODE_SHADOW)
static const uint64_t A = 0x7f0000000000ULL;
static const uint64_t PG = 4096;

static ags_guest_stats_t gst(ags_sim_t *s)
{
    ags_guest_stats_t g;
    ags_sim_guest_stats(s, &g);
    return g;
}

/* flush_tlb_mm_range: the range is that of the changed entries (and freed tables), INVLPG of every
 * page of it while it spans at most 33 pages, else one full flush.
 * (a) 3 pages touched across 64 MiB: the span is 64 MiB: 1 full flush, no INVLPG (the old model:
 *     3 INVLPG). Shadow: the full flush is a CR3 reload: 1 cr3 exit, no invlpg exit.
 * (b) pages 0 and 2 of 40 touched: the span is 3 pages: 3 INVLPG, the untouched page 1 too. */
static void span_ceiling(void)
{
    ags_config_t c;
    cfg_bare(&c, NESTED | SHADOW);
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    MMAP(&e, 1, A, 64 << 20);
    LOAD(&e, 1, A);
    LOAD(&e, 1, A + (32 << 20));
    LOAD(&e, 1, A + (64 << 20) - PG);
    sim_feed(s, &e);
    ags_guest_stats_t g0 = gst(s);
    ags_stats_t b = st_of(s, AGS_MODE_SHADOW);
    MUNMAP(&e, 1, A, 64 << 20);
    sim_feed(s, &e);
    ags_guest_stats_t g1 = gst(s);
    ags_stats_t a = st_of(s, AGS_MODE_SHADOW);
    CHECK_EQ(g1.full_flushes - g0.full_flushes, 1);
    CHECK_EQ(g1.invlpg - g0.invlpg, 0);
    CHECK_EQ(a.exits.cr3_write - b.exits.cr3_write, 1);
    CHECK_EQ(a.exits.invlpg - b.exits.invlpg, 0);

    MMAP(&e, 1, A, 40 * PG);
    LOAD(&e, 1, A);
    LOAD(&e, 1, A + 2 * PG);
    sim_feed(s, &e);
    g0 = gst(s);
    b = st_of(s, AGS_MODE_SHADOW);
    MUNMAP(&e, 1, A, 40 * PG);
    sim_feed(s, &e);
    g1 = gst(s);
    a = st_of(s, AGS_MODE_SHADOW);
    CHECK_EQ(g1.invlpg - g0.invlpg, 3);
    CHECK_EQ(g1.full_flushes - g0.full_flushes, 0);
    CHECK_EQ(a.exits.invlpg - b.exits.invlpg, 3);
    ags_sim_destroy(s);
}

/* exit_mmap: a fullmm teardown flushes the address space once, with no INVLPG, and exit issues no
 * second flush: 3 touched pages, then exit: 1 full flush; shadow: 1 cr3 exit (was 3 INVLPG + 2). */
static void exit_fullmm(void)
{
    ags_config_t c;
    cfg_bare(&c, SHADOW);
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    MMAP(&e, 1, A, 3 * PG);
    for (unsigned i = 0; i < 3; i++)
        STORE(&e, 1, A + i * PG);
    sim_feed(s, &e);
    ags_guest_stats_t g0 = gst(s);
    ags_stats_t b = st_of(s, AGS_MODE_SHADOW);
    EXIT(&e, 1);
    sim_feed(s, &e);
    ags_guest_stats_t g1 = gst(s);
    ags_stats_t a = st_of(s, AGS_MODE_SHADOW);
    CHECK_EQ(g1.full_flushes - g0.full_flushes, 1);
    CHECK_EQ(g1.invlpg - g0.invlpg, 0);
    CHECK_EQ(a.exits.cr3_write - b.exits.cr3_write, 1);
    CHECK_EQ(a.exits.invlpg - b.exits.invlpg, 0);
    ags_sim_destroy(s);
}

/* Copy-on-write: the child's store copies the frame (wp_page_copy: INVLPG 1); the parent's later
 * store finds its frame with no other reference and reuses it in place (wp_page_reuse: no flush). */
static void cow_reuse(void)
{
    ags_config_t c;
    cfg_bare(&c, NESTED);
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    MMAP(&e, 1, A, PG);
    STORE(&e, 1, A);
    FORK(&e, 1, 2);
    sim_feed(s, &e);
    ags_guest_stats_t g0 = gst(s);
    STORE(&e, 2, A);
    sim_feed(s, &e);
    ags_guest_stats_t g1 = gst(s);
    CHECK_EQ(g1.cow_faults - g0.cow_faults, 1);
    CHECK_EQ(g1.invlpg - g0.invlpg, 1);
    STORE(&e, 1, A);
    sim_feed(s, &e);
    ags_guest_stats_t g2 = gst(s);
    CHECK_EQ(g2.cow_faults - g1.cow_faults, 1);
    CHECK_EQ(g2.invlpg - g1.invlpg, 0);
    ags_sim_destroy(s);
}

/* Dynamic PCIDs (choose_new_asid), handed out round robin. 7 processes run one load each, then
 * two rounds of the same 7. With 6 PCIDs every switch finds its PCID reused: 7 + 14 = 21 PCID
 * flushes, and every load misses (21). With 8 PCIDs: 7 flushes (the first runs), and the 14
 * later loads hit. The shadow VMM takes a CR3 exit per switch either way (21). */
static void dynamic_pcids(void)
{
    for (unsigned n = 6; n <= 8; n += 2) {
        ags_config_t c;
        cfg_bare(&c, NESTED | SHADOW);
        c.pcids = n;
        ags_sim_t *s = sim_new(&c);
        evs_t e = { .n = 0 };
        for (unsigned r = 0; r < 3; r++)
            for (unsigned p = 1; p <= 7; p++)
                LOAD(&e, p, A);
        sim_feed(s, &e);
        ags_sim_finish(s);
        CHECK_EQ(gst(s).pcid_flushes, n == 6 ? 21 : 7);
        CHECK_EQ(st_of(s, AGS_MODE_NESTED).tlb_misses, n == 6 ? 21 : 7);
        CHECK_EQ(st_of(s, AGS_MODE_SHADOW).exits.cr3_write, 21);
        ags_sim_destroy(s);
    }
}

/* mprotect(PROT_NONE) makes the page not present to the hardware (pte_modify keeps the frame):
 * one entry written, one INVLPG; a later load faults (the trace did it, so it is counted as an
 * implicit mapping) and maps the same frame again; munmap frees every frame. */
static void prot_none(void)
{
    ags_config_t c;
    cfg_bare(&c, NATIVE | NESTED | SHADOW);
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    MMAP(&e, 1, A, 2 * PG);
    STORE(&e, 1, A);
    STORE(&e, 1, A + PG);
    sim_feed(s, &e);
    ags_guest_stats_t g0 = gst(s);
    ev_push(&e, AGS_EV_MPROTECT, 1, A, PG, 0, 0, 0);
    sim_feed(s, &e);
    ags_guest_stats_t g1 = gst(s);
    CHECK_EQ(g1.pt_writes - g0.pt_writes, 1);
    CHECK_EQ(g1.invlpg - g0.invlpg, 1);
    LOAD(&e, 1, A);
    sim_feed(s, &e);
    ags_guest_stats_t g2 = gst(s);
    CHECK_EQ(g2.page_faults - g1.page_faults, 1);
    CHECK_EQ(g2.implicit_maps - g1.implicit_maps, 1);
    CHECK_EQ(g2.frames_alloc - g1.frames_alloc, 0); /* the same frame */
    MUNMAP(&e, 1, A, 2 * PG);
    sim_feed(s, &e);
    ags_guest_stats_t g3 = gst(s);
    CHECK_EQ(g3.frames_alloc - g3.frames_free, 1); /* only the root table is left */
    ags_sim_destroy(s);
}

/* The faulting walk is charged in every mode. The first touch finds the root entry missing:
 * native reads 1 entry, nested 4 host + 1 = 5. The second touch, in the same L1 table, finds the
 * leaf missing: native 4, nested 4 x (4 host + 1) = 20. */
static void fault_walk(void)
{
    ags_config_t c;
    cfg_bare(&c, NATIVE | NESTED);
    ags_sim_t *s = sim_new(&c);
    evs_t e = { .n = 0 };
    MMAP(&e, 1, A, 2 * PG);
    LOAD(&e, 1, A);
    LOAD(&e, 1, A + PG);
    sim_feed(s, &e);
    CHECK_EQ(st_of(s, AGS_MODE_NATIVE).fault_walks, 2);
    CHECK_EQ(st_of(s, AGS_MODE_NATIVE).aborted_refs, 1 + 4);
    CHECK_EQ(st_of(s, AGS_MODE_NESTED).aborted_refs, 5 + 20);
    CHECK_EQ(st_of(s, AGS_MODE_NESTED).walk_refs, 2 * 24);
    ags_sim_destroy(s);
}

int main(void)
{
    span_ceiling();
    exit_fullmm();
    cow_reuse();
    dynamic_pcids();
    prot_none();
    fault_walk();
    TEST_END();
}
