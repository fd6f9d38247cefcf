/* The guest OS model against hand-computed fault counts, page-table writes and flushes for a
 * known mmap / touch / munmap / fork sequence (4-level tables, 4 KiB pages). */
#include "check.h"
#include <stdlib.h>
#include "guest/guest.h"
#include "pt/pt.h"

typedef struct {
    unsigned allocs, frees, writes, faults, invlpg, asid_flush, all_flush, cr3;
} rec_t;

static void r_alloc(void *c, uint32_t s) { (void)s; ((rec_t *)c)->allocs++; }
static void r_free(void *c, uint32_t s) { (void)s; ((rec_t *)c)->frees++; }
static void r_write(void *c, uint32_t s, unsigned i, uint64_t o, uint64_t v) { (void)s, (void)i, (void)o, (void)v; ((rec_t *)c)->writes++; }
static void r_flush(void *c, int k, uint32_t a, uint64_t v, unsigned sh)
{
    (void)a, (void)v, (void)sh;
    rec_t *r = c;
    if (k == AGS_FLUSH_PAGE) r->invlpg++;
    else if (k == AGS_FLUSH_ASID) r->asid_flush++;
    else r->all_flush++;
}
static void r_cr3(void *c, uint32_t p) { (void)p; ((rec_t *)c)->cr3++; }
static void r_fault(void *c, uint32_t p, uint64_t v, uint32_t s) { (void)p, (void)v, (void)s; ((rec_t *)c)->faults++; }

/* The host-memory reservation: a region holds exactly its planned frames, each region's storage is
 * its own, a full region says so, stop flags interrupt long range changes, and storage touched
 * once stays counted when its frame is freed and reused. */
static void mem_cases(void)
{
    ags_mem_plan_t plan = { { 0 } };
    plan.frames[AGS_REGION_GUEST_BACKING] = 1u << 14; /* 64 MiB */
    plan.frames[AGS_REGION_EPT] = 3;
    plan.frames[AGS_REGION_MACHINE0] = 2;
    ags_mem_t *m = malloc(sizeof(*m));
    CHECK_EQ(ags_mem_init(m, &plan), 0);
    CHECK_EQ(m->cut, AGS_MEM_CUT_NONE);
    CHECK_EQ(m->arena_len, ((1u << 14) + 3 + 2) * 4096ULL);
    uint64_t e[4];
    for (int i = 0; i < 3; i++)
        CHECK((e[i] = ags_mem_alloc(m, AGS_REGION_EPT, 0)) != 0);
    CHECK_EQ(m->full_region, -1);
    CHECK_EQ(ags_mem_alloc(m, AGS_REGION_EPT, 0), 0); /* a fourth does not fit */
    CHECK_EQ(m->full_region, AGS_REGION_EPT);
    CHECK_EQ(ags_mem_alloc(m, 3, 0), 0);               /* an unplanned region has no frames */
    uint64_t s0 = ags_mem_alloc(m, AGS_REGION_MACHINE0, 0), g0 = ags_mem_alloc(m, AGS_REGION_GUEST_BACKING, 0);
    uint64_t *pe = ags_mem_pt_attach(m, e[2], 7), *ps = ags_mem_pt_attach(m, s0, 8), *pg = ags_mem_pt_attach(m, g0, 9);
    CHECK(pe && ps && pg && pe != ps && ps != pg && pe != pg);
    pe[511] = 1, ps[0] = 2, pg[5] = 3;                 /* every slice is writable and disjoint */
    CHECK_EQ(ags_mem_read(m, (e[2] << 12) + 511 * 8), 1);
    CHECK_EQ(ags_mem_read(m, s0 << 12), 2);
    CHECK_EQ(ags_mem_read(m, (g0 << 12) + 40), 3);
    CHECK_EQ(ags_mem_tag(m, s0), 8);
    CHECK(ags_mem_pt_attach(m, e[2] + 1, 0) == NULL);  /* beyond the region's reservation */
    CHECK_EQ(m->resident_pages, 3);
    ags_mem_pt_detach(m, s0);
    ags_mem_free(m, AGS_REGION_MACHINE0, s0);
    CHECK(ags_mem_pt(m, s0) == NULL);
    CHECK_EQ(ags_mem_alloc(m, AGS_REGION_MACHINE0, 0), s0); /* LIFO reuse */
    CHECK(ags_mem_pt_attach(m, s0, 8) != NULL);
    CHECK_EQ(ags_mem_read(m, s0 << 12), 0);            /* zeroed again */
    CHECK_EQ(m->resident_pages, 3);                     /* its storage was counted once */
    CHECK_EQ(m->pt_pages, 3);
    ags_mem_fini(m);
    free(m);
}

int main(void)
{
    mem_cases();
    ags_config_t cfg;
    ags_config_defaults(&cfg);
    ags_mem_t *mem = malloc(sizeof(*mem));
    ags_ept_t ept;
    ags_guest_t g;
    rec_t r;
    memset(&r, 0, sizeof(r));
    ags_mem_plan_t plan = { { 0 } };
    plan.frames[AGS_REGION_GUEST_BACKING] = plan.frames[AGS_REGION_EPT] = 1u << 16;
    CHECK_EQ(ags_mem_init(mem, &plan), 0);
    ags_ept_init(&ept, mem, 4, 12);
    ags_guest_listener_t ls = { &r, r_alloc, r_free, r_write, r_flush, r_cr3, r_fault, NULL };
    ags_guest_init(&g, &cfg, mem, &ept, &ls);

    ags_proc_t *p;
    CHECK_EQ(ags_guest_switch(&g, 1, &p), 0);
    CHECK_EQ(r.allocs, 1); /* the root table */
    CHECK_EQ(r.cr3, 1);
    uint64_t A = 0x7f0000000000ULL;
    CHECK_EQ(ags_guest_mmap(&g, p, A, 3 * 4096, AGS_PROT_R | AGS_PROT_W), 0);
    CHECK_EQ(r.writes, 0); /* demand paging: mmap writes no entry */

    ags_gxlate_t x;
    CHECK(!ags_guest_xlate(&g, p, A, &x));
    CHECK_EQ(x.leaf_level, 4); /* the root entry is the first non-present one */
    CHECK_EQ(ags_guest_fault(&g, p, A, 0), 0);
    CHECK_EQ(r.faults, 1);
    CHECK_EQ(r.allocs, 4); /* + L3, L2, L1 tables */
    CHECK_EQ(r.writes, 4); /* L4, L3, L2 entries + the leaf */
    CHECK(ags_guest_xlate(&g, p, A + 0x123, &x));
    CHECK_EQ(x.leaf_level, 1);
    CHECK_EQ(x.gpa & 0xfff, 0x123);
    CHECK_EQ(x.hpa, ags_ept_gpa2hpa(&ept, x.gpa));
    CHECK(x.hpa != x.gpa);
    CHECK(ags_x86_writable(x.pte)); /* writable VMA: writable PTE */
    CHECK_EQ(ags_guest_fault(&g, p, A + 0x1000, 1), 0);
    CHECK_EQ(ags_guest_fault(&g, p, A + 0x2000, 0), 0);
    CHECK_EQ(r.faults, 3);
    CHECK_EQ(r.writes, 6); /* one leaf each */
    CHECK_EQ(g.st.page_faults, 3);

    /* A/D: the first walk sets A at every level; a store sets D on the leaf */
    CHECK(ags_guest_xlate(&g, p, A, &x));
    CHECK_EQ(ags_guest_touch(&g, &x, 0), (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4));
    CHECK_EQ(ags_guest_touch(&g, &x, 0), 0);
    CHECK_EQ(ags_guest_touch(&g, &x, 1), 1u << 1);
    CHECK_EQ(r.writes, 6); /* hardware A/D updates are not guest PT writes */

    /* fork: write-protect 3 leaves in the parent; the child gets 3 tables + 3 leaves */
    rec_t before = r;
    CHECK_EQ(ags_guest_fork(&g, p, 2), 0);
    CHECK_EQ(r.writes - before.writes, 3 + 3 + 3);
    CHECK_EQ(r.allocs - before.allocs, 1 + 3); /* child root + L3, L2, L1 */
    CHECK_EQ(r.asid_flush - before.asid_flush, 1);
    CHECK(ags_guest_xlate(&g, p, A, &x));
    CHECK(!ags_x86_writable(x.pte));
    ags_gxlate_t y;
    ags_proc_t *c = ags_guest_proc(&g, 2);
    CHECK(c != NULL);
    CHECK(ags_guest_xlate(&g, c, A, &y));
    CHECK_EQ(y.gpa, x.gpa); /* shared frame */
    CHECK_EQ(g.ref[x.gpa >> 12], 2);

    /* COW: a store by the parent copies the frame (ref 2) and INVLPGs the page */
    before = r;
    CHECK_EQ(ags_guest_fault(&g, p, A, 1), 0);
    CHECK_EQ(r.writes - before.writes, 1);
    CHECK_EQ(r.invlpg - before.invlpg, 1);
    CHECK_EQ(g.st.cow_faults, 1);
    CHECK(ags_guest_xlate(&g, p, A, &x));
    CHECK(ags_x86_writable(x.pte));
    CHECK(x.gpa != y.gpa);
    CHECK_EQ(g.ref[y.gpa >> 12], 1);
    /* the child's store to the same page is now the last reference: no copy */
    before = r;
    CHECK_EQ(ags_guest_fault(&g, c, A, 1), 0);
    CHECK(ags_guest_xlate(&g, c, A, &x));
    CHECK_EQ(x.gpa, y.gpa);

    /* munmap in the parent: 3 leaf clears, then the empty L1, L2, L3 tables are freed (3 parent
     * entry clears); 3 pages <= 33: one INVLPG each */
    before = r;
    CHECK_EQ(ags_guest_munmap(&g, p, A, 3 * 4096), 0);
    CHECK_EQ(r.writes - before.writes, 6);
    CHECK_EQ(r.frees - before.frees, 3);
    CHECK_EQ(r.invlpg - before.invlpg, 3);
    CHECK(!ags_guest_xlate(&g, p, A, &x));

    /* a munmap of more than 33 pages is one full flush */
    CHECK_EQ(ags_guest_mmap(&g, p, A, 64 * 4096, AGS_PROT_R | AGS_PROT_W), 0);
    for (unsigned i = 0; i < 40; i++)
        CHECK_EQ(ags_guest_fault(&g, p, A + i * 4096ULL, 0), 0);
    before = r;
    CHECK_EQ(ags_guest_munmap(&g, p, A, 64 * 4096), 0);
    CHECK_EQ(r.invlpg - before.invlpg, 0);
    CHECK_EQ(r.asid_flush - before.asid_flush, 1);
    CHECK_EQ(r.writes - before.writes, 40 + 3);

    /* exit of the child: its 3 leaves are cleared, its 4 tables freed */
    before = r;
    CHECK_EQ(ags_guest_exit(&g, c), 0);
    CHECK_EQ(r.writes - before.writes, 3 + 3);
    CHECK_EQ(r.frees - before.frees, 4);
    CHECK_EQ(g.frames_in_use, 1 + 0); /* the parent's root table only */

    /* mprotect read-only rewrites present leaves and flushes them */
    CHECK_EQ(ags_guest_mmap(&g, p, A, 4 * 4096, AGS_PROT_R | AGS_PROT_W), 0);
    CHECK_EQ(ags_guest_fault(&g, p, A, 1), 0);
    CHECK_EQ(ags_guest_fault(&g, p, A + 4096, 1), 0);
    before = r;
    CHECK_EQ(ags_guest_mprotect(&g, p, A, 4 * 4096, AGS_PROT_R), 0);
    CHECK_EQ(r.writes - before.writes, 2);
    CHECK_EQ(r.invlpg - before.invlpg, 2);
    CHECK(ags_guest_xlate(&g, p, A, &x) && !ags_x86_writable(x.pte));

    ags_guest_fini(&g);
    ags_ept_fini(&ept);
    ags_mem_fini(mem);
    free(mem);
    TEST_END();
}
