/* Model notes: a Linux-like guest OS, identical in every mode (same frames, same page-table
 * pages, same faults), so that modes differ only in the translation mechanism.
 * - Demand paging: the first touch of a page is a guest page fault; the guest allocates a frame
 *   (2 MiB / 1 GiB when --guest-page asks for it and the aligned region lies inside the VMA,
 *   like THP), and writes the intermediate tables' entries and the leaf, each a pt_write.
 * - Traces without address-space events: a touched page outside every VMA is demand-mapped
 *   read-write (counted as implicit_maps); so is a store to a VMA that forbids it (the trace
 *   did it, so the real program had the right).
 * - munmap/exit clear every present leaf (writes), free frames by reference count, and free
 *   page-table pages that become empty (clearing the parent entry). TLB flush policy: per-page
 *   INVLPG up to flush_ceiling pages (Linux: 33), else one full flush of the address space.
 * - fork copies the page table and write-protects writable leaves in parent and child (COW);
 *   the parent's TLB is flushed. A store to a COW page copies the frame unless it is the last
 *   reference. mremap moves leaf entries. exec replaces the address space.
 * - Frames: order-0/9/18 free lists over a bump allocator; blocks are not coalesced.
 * - Simplified: no file-backed or shared mappings, no swapping, no page reclaim (A bits are set
 *   by the hardware model but never cleared), no global pages, no kernel address space. */
#include "guest/guest_internal.h"
#include "pt/pt.h"
#include "util.h"
#include <stdio.h>
#include <string.h>


/* ------------------------------------------------------------------ page-table pages */

/* A leaf or table entry that maps something: present, or a PROT_NONE leaf (not present to the
 * hardware, but its frame is kept). */
static int mapped(uint64_t e) { return ags_x86_present(e) || (e & AGS_X86_PROTNONE) != 0; }

static void pt_write(ags_guest_t *g, uint32_t slot, unsigned idx, uint64_t val)
{
    ags_gpt_t *t = &g->pt[slot];
    uint64_t old = t->e[idx];
    t->e[idx] = val;
    if (t->level > 1)
        g->pt_gen++; /* the leaf-table memo */
    t->npresent += (unsigned)mapped(val) - (unsigned)mapped(old);
    if (t->level > 1 && ags_x86_present(val) && !ags_x86_leaf(val, t->level))
        t->child[idx] = ags_mem_tag(g->mem, ags_ept_gpa2hpa(g->ept, ags_pte_addr(val)) >> AGS_PAGE_SHIFT);
    g->st.pt_writes++;
    g->ls.pt_write(g->ls.ctx, slot, idx, old, val);
}

static uint32_t pt_alloc(ags_guest_t *g, uint32_t pid, unsigned level, uint32_t parent,
                         unsigned pidx, uint64_t va_base)
{
    uint64_t f = ags_g_frame_alloc(g, 0);
    if (!f)
        return AGS_NO_SLOT;
    uint32_t slot;
    if (g->nfree_slots) {
        slot = g->free_slots[--g->nfree_slots];
    } else {
        slot = (uint32_t)g->npt;
        if (ags_grow((void **)&g->pt, &g->cappt, sizeof(ags_gpt_t), g->npt))
            return AGS_NO_SLOT;
        g->npt++;
    }
    uint64_t hpa = ags_ept_gpa2hpa(g->ept, f << AGS_PAGE_SHIFT);
    uint64_t *e = ags_mem_pt_attach(g->mem, hpa >> AGS_PAGE_SHIFT, slot);
    if (!e)
        return AGS_NO_SLOT;
    ags_gpt_t *t = &g->pt[slot];
    t->child = NULL;
    if (level > 1 && !(t->child = malloc(AGS_PT_ENTRIES * sizeof(uint32_t))))
        return AGS_NO_SLOT;
    t->gpfn = f;
    t->hpa = hpa;
    t->e = e;
    t->va_base = va_base;
    t->parent = parent;
    t->pidx = (uint16_t)pidx;
    t->level = (uint8_t)level;
    t->live = 1;
    t->pid = pid;
    t->npresent = 0;
    g->st.pt_pages_alloc++;
    uint64_t live = g->st.pt_pages_alloc - g->st.pt_pages_free;
    if (live > g->st.pt_pages_peak)
        g->st.pt_pages_peak = live;
    g->ls.pt_page_alloc(g->ls.ctx, slot);
    return slot;
}

/* Free an (empty, already unlinked) table page. */
static void pt_release(ags_guest_t *g, uint32_t slot)
{
    ags_gpt_t *t = &g->pt[slot];
    g->pt_gen++; /* the leaf-table memo: the slot may be reused */
    g->ls.pt_page_free(g->ls.ctx, slot);
    ags_mem_pt_detach(g->mem, t->hpa >> AGS_PAGE_SHIFT);
    ags_g_frame_put(g, t->gpfn, 0);
    t->live = 0;
    t->e = NULL;
    free(t->child);
    t->child = NULL;
    if (g->nfree_slots == g->capfree_slots &&
        ags_grow((void **)&g->free_slots, &g->capfree_slots, sizeof(uint32_t), g->nfree_slots)) {
        g->sticky = AGS_E_NOMEM;
        return;
    }
    g->free_slots[g->nfree_slots++] = slot;
    g->st.pt_pages_free++;
}

/* ------------------------------------------------------------------ flushing */

/* The pending flush of the running operation, as Linux's mmu_gather tracks it: the range of the
 * entries changed (and of page tables freed) and the smallest page size among them. */
static void flush_range(ags_guest_t *g, uint64_t va, uint64_t len, unsigned shift)
{
    if (!g->flush_pending || va < g->flush_lo)
        g->flush_lo = va;
    if (!g->flush_pending || va + len > g->flush_hi)
        g->flush_hi = va + len;
    if (!g->flush_pending || shift < g->flush_stride)
        g->flush_stride = shift;
    g->flush_pending = 1;
}

/* A changed leaf of size 2^shift at va (its base): tlb_remove_tlb_entry. */
static void flush_page(ags_guest_t *g, uint64_t va, unsigned shift) { flush_range(g, va, 1ULL << shift, shift); }

/* A freed page table covering addresses from va: pte_free_tlb adjusts the range by one page. */
static void flush_table(ags_guest_t *g, uint64_t va)
{
    if (g->flush_pending)
        flush_range(g, va, AGS_PAGE_SIZE, g->flush_stride);
    else
        flush_range(g, va, AGS_PAGE_SIZE, AGS_PAGE_SHIFT);
}

/* Issue the pending flush for process p (Linux flush_tlb_mm_range): nothing if nothing changed;
 * INVLPG of every page of the range (stride: the page size) while the range spans at most
 * tlb_single_page_flush_ceiling (33) pages, else one full flush of the address space. A fullmm
 * teardown (exit, exec) flushes the whole address space once. */
static void flush_commit(ags_guest_t *g, ags_proc_t *p)
{
    if (g->fullmm || (g->flush_pending && ((g->flush_hi - g->flush_lo) >> g->flush_stride) > g->cfg->flush_ceiling)) {
        g->st.full_flushes++;
        g->ls.tlb_flush(g->ls.ctx, AGS_FLUSH_ASID, p->asid, 0, 0);
    } else if (g->flush_pending) {
        for (uint64_t a = g->flush_lo; a < g->flush_hi; a += 1ULL << g->flush_stride) {
            g->st.invlpg++;
            g->ls.tlb_flush(g->ls.ctx, AGS_FLUSH_PAGE, p->asid, a, g->flush_stride);
        }
    }
    g->flush_pending = 0;
}

/* ------------------------------------------------------------------ processes */

ags_proc_t *ags_guest_proc(ags_guest_t *g, uint32_t pid)
{
    if (g->cur && g->cur->pid == pid)
        return g->cur;
    for (size_t i = 0; i < g->nprocs; i++)
        if (g->procs[i]->pid == pid)
            return g->procs[i];
    return NULL;
}

static ags_proc_t *proc_new(ags_guest_t *g, uint32_t pid)
{
    ags_proc_t *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    if (g->nprocs == g->capprocs &&
        ags_grow((void **)&g->procs, &g->capprocs, sizeof(ags_proc_t *), g->nprocs)) {
        free(p);
        return NULL;
    }
    p->pid = pid;
    p->asid = 0; /* a PCID is given when it first runs */
    p->implicit = 1;
    p->root = pt_alloc(g, pid, g->levels, AGS_NO_SLOT, 0, 0);
    if (p->root == AGS_NO_SLOT) {
        free(p);
        return NULL;
    }
    g->procs[g->nprocs++] = p;
    g->st.processes++;
    return p;
}

/* Linux's dynamic PCIDs (arch/x86/mm/tlb.c, choose_new_asid): TLB_NR_DYN_ASIDS (6) per CPU. A
 * process that still holds its slot switches without a flush; otherwise it takes the next slot
 * round robin, its previous owner loses it, and the CR3 write flushes that PCID. Without PCIDs
 * every switch flushes the TLB. */
int ags_guest_switch(ags_guest_t *g, uint32_t pid, ags_proc_t **out)
{
    ags_proc_t *p = ags_guest_proc(g, pid);
    if (!p) {
        p = proc_new(g, pid);
        if (!p)
            return AGS_E_NOMEM;
    }
    if (g->cur != p) {
        g->cur = p;
        g->st.switches++;
        g->st.cr3_writes++;
        unsigned n = g->cfg->pcid ? g->cfg->pcids : 0;
        int flush_pcid = 0;
        if (n && !(p->asid && g->pcid_owner[p->asid - 1] == p->pid)) {
            unsigned slot = g->next_pcid;
            g->next_pcid = (slot + 1) % n;
            ags_proc_t *old = g->pcid_owner[slot] ? ags_guest_proc(g, g->pcid_owner[slot]) : NULL;
            if (old)
                old->asid = 0;
            g->pcid_owner[slot] = p->pid;
            p->asid = slot + 1;
            flush_pcid = 1;
            g->st.pcid_flushes++;
        }
        g->ls.cr3_write(g->ls.ctx, pid);
        if (!n)
            g->ls.tlb_flush(g->ls.ctx, AGS_FLUSH_ALL, 0, 0, 0);
        else if (flush_pcid)
            g->ls.tlb_flush(g->ls.ctx, AGS_FLUSH_CR3, p->asid, 0, 0);
    }
    *out = p;
    return AGS_OK;
}

/* ------------------------------------------------------------------ translation (oracle) */

int ags_guest_xlate(const ags_guest_t *g, const ags_proc_t *p, uint64_t va, ags_gxlate_t *x)
{
    ags_gpt_iter_t it;
    x->memo = NULL;
    ags_for_each_gpt_level(it, g, p->root, va, 1) {
        x->slot[it.level] = it.slot;
        x->idx[it.level] = it.idx;
        x->leaf_level = it.level;
        if (!ags_x86_present(it.entry))
            return 0;
        if (ags_x86_leaf(it.entry, it.level)) {
            unsigned shift = ags_pt_shift(it.level);
            uint64_t mask = (1ULL << shift) - 1;
            x->gpa = (ags_pte_addr(it.entry) & ~mask) | (va & mask);
            x->hpa = ags_ept_gpa2hpa(g->ept, x->gpa);
            x->pte = it.entry;
            x->page_shift = AGS_MIN(shift, g->ept->page_shift);
            return 1;
        }
    }
    return 0;
}

int ags_guest_xlate_fill(ags_guest_t *g, const ags_proc_t *p, uint64_t va, ags_gxlate_t *x)
{
    int mapped = ags_guest_xlate(g, p, va, x);
    if (x->leaf_level == 1) { /* the descent reached a leaf table */
        struct ags_gmemo *m = &g->memo[(va >> 21) & (AGS_GMEMO_SIZE - 1)];
        m->region = va >> 21;
        m->gen = g->pt_gen;
        m->root = p->root;
        for (unsigned level = g->levels; level >= 1; level--)
            m->slot[level] = x->slot[level];
        m->upper_a = 0;
        x->memo = m;
    }
    return mapped;
}

unsigned ags_guest_touch(ags_guest_t *g, const ags_gxlate_t *x, int is_write)
{
    unsigned changed = 0;
    /* the memo entry, if it still describes x's way (no table changed since, and the entry was not
     * taken over by another region: a leaf table has one way down to it) */
    struct ags_gmemo *m = x->memo;
    if (m && (m->gen != g->pt_gen || m->slot[1] != x->slot[1] || x->leaf_level != 1))
        m = NULL;
    for (unsigned level = m && m->upper_a ? x->leaf_level : g->levels; level >= x->leaf_level; level--) {
        uint64_t *e = &g->pt[x->slot[level]].e[x->idx[level]];
        uint64_t want = AGS_X86_A | ((is_write && level == x->leaf_level) ? AGS_X86_D : 0);
        if ((*e & want) != want) {
            *e |= want;
            changed |= 1u << level;
        }
    }
    if (m)
        m->upper_a = 1;
    return changed;
}

/* Ensure tables down to `level` exist for va; return the slot of the table at `level`. */
static uint32_t walk_alloc(ags_guest_t *g, ags_proc_t *p, uint64_t va, unsigned level)
{
    ags_gpt_iter_t it;
    ags_for_each_gpt_level(it, g, p->root, va, level + 1) {
        if (!ags_x86_present(it.entry)) {
            uint64_t base = va & ~((1ULL << ags_pt_shift(it.level)) - 1);
            uint32_t child = pt_alloc(g, p->pid, it.level - 1, it.slot, it.idx, base);
            if (child == AGS_NO_SLOT)
                return AGS_NO_SLOT;
            pt_write(g, it.slot, it.idx, ags_x86_table(g->pt[child].gpfn << AGS_PAGE_SHIFT));
        } else if (ags_x86_leaf(it.entry, it.level)) {
            return AGS_NO_SLOT; /* caller must split first */
        }
    }
    return it.slot;
}

/* Can the aligned region of a leaf at `level` around va be mapped as one page? */
static int huge_fits(ags_guest_t *g, ags_proc_t *p, uint64_t va, unsigned level)
{
    uint64_t size = 1ULL << ags_pt_shift(level);
    uint64_t s = va & ~(size - 1), e = s + size;
    if (!(p->nvma == 0 && p->implicit)) {
        ags_vma_t *v = ags_g_vma_find(p, va);
        if (!v || v->start > s || v->end < e)
            return 0;
    }
    /* the table at this level must not already hold a lower table there */
    ags_gpt_iter_t it;
    ags_for_each_gpt_level(it, g, p->root, va, level) {
        if (!ags_x86_present(it.entry))
            return 1;
        if (it.level == level || ags_x86_leaf(it.entry, it.level))
            return 0;
    }
    return 0;
}

ags_vma_t *ags_guest_vma_at(ags_proc_t *p, uint64_t va) { return ags_g_vma_find(p, va); }

int ags_guest_fault(ags_guest_t *g, ags_proc_t *p, uint64_t va, int is_write)
{
    ags_gxlate_t x;
    int present = ags_guest_xlate(g, p, va, &x);
    g->ls.guest_fault(g->ls.ctx, p->pid, va, x.slot[x.leaf_level]);
    g->st.guest_kernel_cycles += g->cfg->cost_guest_fault;
    ags_vma_t *v = ags_g_vma_find(p, va);
    if (!v)
        g->st.implicit_maps++;
    else if ((is_write && !(v->prot & AGS_PROT_W)) || !(v->prot & (AGS_PROT_R | AGS_PROT_W | AGS_PROT_X))) {
        /* a store to a read-only VMA, or any access to a PROT_NONE one: the real program would
         * have died, so the trace says it had the right (counted as an implicit mapping) */
        g->st.implicit_maps++;
        v->prot |= AGS_PROT_R | (is_write ? AGS_PROT_W : 0);
    }
    int writable = !v || (v->prot & AGS_PROT_W);
    uint64_t fe = g->pt[x.slot[x.leaf_level]].e[x.idx[x.leaf_level]];
    if (!present && (fe & AGS_X86_PROTNONE)) { /* map the PROT_NONE page again, same frame */
        g->st.page_faults++;
        uint64_t ne = (fe | AGS_X86_P) & ~AGS_X86_PROTNONE;
        ne = writable ? ne | AGS_X86_RW : ne & ~AGS_X86_RW;
        pt_write(g, x.slot[x.leaf_level], x.idx[x.leaf_level], ne);
        return AGS_OK;
    }

    if (present) {
        /* present: a store to a read-only page (COW or upgraded permission) */
        g->st.cow_faults++;
        unsigned level = x.leaf_level, order = ags_g_order_of_level(level);
        uint64_t f = ags_pte_addr(x.pte) >> AGS_PAGE_SHIFT;
        uint64_t keep = x.pte & (AGS_X86_A | AGS_X86_D);
        uint64_t nf = f;
        if (g->ref[f] > 1) {
            nf = ags_g_frame_alloc(g, order);
            if (!nf)
                return AGS_E_NOMEM;
            ags_g_frame_put(g, f, order);
            keep = 0;
        }
        pt_write(g, x.slot[level], x.idx[level],
                 ags_x86_page(nf << AGS_PAGE_SHIFT, level, 1) | keep);
        if (nf != f) { /* wp_page_copy: ptep_clear_flush; wp_page_reuse upgrades in place, no flush */
            flush_page(g, va & ~((1ULL << ags_pt_shift(level)) - 1), ags_pt_shift(level));
            flush_commit(g, p);
        }
        return AGS_OK;
    }
    g->st.page_faults++;
    unsigned level = 1;
    if (g->page_shift > 12) {
        for (unsigned l = ags_pt_leaf_level(g->page_shift); l > 1; l--)
            if (huge_fits(g, p, va, l)) {
                level = l;
                break;
            }
    }
    uint32_t slot = walk_alloc(g, p, va, level);
    if (slot == AGS_NO_SLOT)
        return AGS_E_NOMEM;
    uint64_t f = ags_g_frame_alloc(g, ags_g_order_of_level(level));
    if (!f)
        return AGS_E_NOMEM;
    pt_write(g, slot, ags_pt_index(va, level), ags_x86_page(f << AGS_PAGE_SHIFT, level, writable));
    return AGS_OK;
}

/* ------------------------------------------------------------------ range operations */

typedef struct {
    ags_guest_t *g;
    ags_proc_t *p;
    uint64_t s, e;
    int op;             /* OP_UNMAP, OP_PROTECT */
    int writable, none; /* OP_PROTECT: the new protection allows writes / allows nothing */
    uint64_t changed;
} range_t;

enum { OP_UNMAP, OP_PROTECT };

/* Split the huge leaf at (slot, idx, level) into a table of next-smaller leaves. */
static int split_leaf(ags_guest_t *g, uint32_t slot, unsigned idx, unsigned level)
{
    uint64_t e = g->pt[slot].e[idx];
    uint64_t base_va = g->pt[slot].va_base | ((uint64_t)idx << ags_pt_shift(level));
    uint32_t child = pt_alloc(g, g->pt[slot].pid, level - 1, slot, idx, base_va);
    if (child == AGS_NO_SLOT)
        return AGS_E_NOMEM;
    uint64_t pa = ags_pte_addr(e) & ~((1ULL << ags_pt_shift(level)) - 1);
    uint64_t flags = e & (AGS_X86_RW | AGS_X86_A | AGS_X86_D | AGS_X86_PROTNONE);
    uint64_t clear = ags_x86_present(e) ? 0 : AGS_X86_P; /* the pieces of a PROT_NONE leaf stay not present */
    for (unsigned i = 0; i < AGS_PT_ENTRIES; i++)
        pt_write(g, child, i,
                 (ags_x86_page(pa + ((uint64_t)i << ags_pt_shift(level - 1)), level - 1, 0) | flags) & ~clear);
    pt_write(g, slot, idx, ags_x86_table(g->pt[child].gpfn << AGS_PAGE_SHIFT));
    return AGS_OK;
}

static int range_rec(range_t *r, uint32_t slot)
{
    ags_guest_t *g = r->g;
    if (g->stop && *g->stop)
        return AGS_E_INTR; /* checked per table: the event may span millions of them */
    unsigned level = g->pt[slot].level;
    unsigned shift = ags_pt_shift(level);
    uint64_t size = 1ULL << shift;
    uint64_t tbase = g->pt[slot].va_base;
    uint64_t tspan = size << 9;
    uint64_t s = AGS_MAX(r->s, tbase), e = AGS_MIN(r->e, tbase + tspan);
    for (uint64_t a = s & ~(size - 1); a < e; a += size) {
        unsigned idx = ags_pt_index(a, level);
        uint64_t ent = g->pt[slot].e[idx];
        if (!mapped(ent))
            continue;
        int full = a >= r->s && a + size <= r->e;
        if (ags_x86_leaf(ent, level)) {
            if (!full) {
                int rc = split_leaf(g, slot, idx, level);
                if (rc)
                    return rc;
                ent = g->pt[slot].e[idx];
            } else if (r->op == OP_UNMAP) {
                pt_write(g, slot, idx, 0);
                ags_g_frame_put(g, ags_pte_addr(ent) >> AGS_PAGE_SHIFT, ags_g_order_of_level(level));
                flush_page(g, a, shift);
                r->changed++;
                continue;
            } else {
                uint64_t f = ags_pte_addr(ent) >> AGS_PAGE_SHIFT;
                int w = r->writable && g->ref[f] <= 1;
                uint64_t ne = w ? (ent | AGS_X86_RW) : (ent & ~AGS_X86_RW);
                /* PROT_NONE: not present to the hardware, the frame kept (Linux pte_modify) */
                ne = r->none ? ((ne & ~AGS_X86_P) | AGS_X86_PROTNONE) : ((ne | AGS_X86_P) & ~AGS_X86_PROTNONE);
                if (ne != ent) {
                    pt_write(g, slot, idx, ne);
                    if (ags_x86_present(ent))
                        flush_page(g, a, shift); /* Linux flushes on any mprotect change */
                    r->changed++;
                }
                continue;
            }
        }
        uint32_t child = g->pt[slot].child[idx];
        int rc = range_rec(r, child);
        if (rc)
            return rc;
        /* like Linux's free_pgtables(): an empty table is freed only when no VMA remains in
         * the range it covers (tables shared with a neighbouring mapping stay) */
        if (r->op == OP_UNMAP && g->pt[child].npresent == 0 &&
            !ags_g_vma_overlaps(r->p, a, a + size)) {
            pt_write(g, slot, idx, 0);
            pt_release(g, child);
            flush_table(g, a);
        }
    }
    return AGS_OK;
}

static int range_apply(ags_guest_t *g, ags_proc_t *p, uint64_t s, uint64_t e, int op, uint32_t prot)
{
    range_t r = { g, p, s, e, op, (prot & AGS_PROT_W) != 0, !(prot & (AGS_PROT_R | AGS_PROT_W | AGS_PROT_X)), 0 };
    int rc = range_rec(&r, p->root);
    flush_commit(g, p);
    return rc;
}

static int check_range(ags_guest_t *g, uint64_t start, uint64_t len)
{
    uint64_t lim = 1ULL << g->va_bits;
    if (start & (AGS_PAGE_SIZE - 1))
        return AGS_E_INVAL;
    if (len > lim || start >= lim || start + len > lim)
        return AGS_E_NONCANON;
    return AGS_OK;
}

static uint64_t page_up(uint64_t x) { return (x + AGS_PAGE_SIZE - 1) & ~(AGS_PAGE_SIZE - 1); }

int ags_guest_mmap(ags_guest_t *g, ags_proc_t *p, uint64_t start, uint64_t len, uint32_t prot)
{
    len = page_up(len);
    int rc = check_range(g, start, len);
    if (rc || !len)
        return rc;
    g->st.mmaps++;
    p->implicit = 0;
    rc = range_apply(g, p, start, start + len, OP_UNMAP, 0); /* MAP_FIXED semantics */
    if (rc)
        return rc;
    return ags_g_vma_insert(p, start, start + len, prot);
}

int ags_guest_munmap(ags_guest_t *g, ags_proc_t *p, uint64_t start, uint64_t len)
{
    len = page_up(len);
    int rc = check_range(g, start, len);
    if (rc || !len)
        return rc;
    g->st.munmaps++;
    rc = ags_g_vma_remove(p, start, start + len);
    if (rc)
        return rc;
    return range_apply(g, p, start, start + len, OP_UNMAP, 0);
}

int ags_guest_mprotect(ags_guest_t *g, ags_proc_t *p, uint64_t start, uint64_t len, uint32_t prot)
{
    len = page_up(len);
    int rc = check_range(g, start, len);
    if (rc || !len)
        return rc;
    g->st.mprotects++;
    /* update the VMAs that overlap the range, splitting at its ends */
    uint64_t e = start + len;
    ags_vma_t *pieces = NULL;
    size_t np = 0, capp = 0;
    for (size_t i = 0; i < p->nvma; i++) {
        ags_vma_t v = p->vma[i];
        if (v.end <= start || v.start >= e || v.prot == prot)
            continue;
        if (ags_grow((void **)&pieces, &capp, sizeof(ags_vma_t), np)) {
            free(pieces);
            return AGS_E_NOMEM;
        }
        pieces[np++] = (ags_vma_t){ AGS_MAX(v.start, start), AGS_MIN(v.end, e), prot, 0 };
    }
    for (size_t i = 0; i < np && !rc; i++)
        rc = ags_g_vma_insert(p, pieces[i].start, pieces[i].end, prot);
    free(pieces);
    if (rc)
        return rc;
    return range_apply(g, p, start, e, OP_PROTECT, prot);
}

int ags_guest_brk(ags_guest_t *g, ags_proc_t *p, uint64_t newbrk)
{
    g->st.brks++;
    p->implicit = 0;
    if (!p->brk_start) {
        p->brk_start = p->brk = page_up(newbrk);
        return AGS_OK;
    }
    newbrk = page_up(newbrk);
    if (newbrk < p->brk_start)
        return AGS_OK; /* the kernel refuses; nothing changes */
    if (newbrk > p->brk) {
        int rc = check_range(g, p->brk_start, newbrk - p->brk_start);
        if (rc)
            return rc;
        rc = ags_g_vma_insert(p, p->brk_start, newbrk, AGS_PROT_R | AGS_PROT_W);
        if (rc)
            return rc;
    } else if (newbrk < p->brk) {
        int rc = ags_g_vma_remove(p, newbrk, p->brk);
        if (!rc)
            rc = range_apply(g, p, newbrk, p->brk, OP_UNMAP, 0);
        if (!rc && newbrk > p->brk_start)
            rc = ags_g_vma_insert(p, p->brk_start, newbrk, AGS_PROT_R | AGS_PROT_W);
        if (rc)
            return rc;
    }
    p->brk = newbrk;
    return AGS_OK;
}

typedef struct {
    uint64_t va, pte;
} moved_t;

int ags_guest_mremap(ags_guest_t *g, ags_proc_t *p, uint64_t old, uint64_t oldlen, uint64_t nw,
                     uint64_t newlen)
{
    oldlen = page_up(oldlen);
    newlen = page_up(newlen);
    int rc = check_range(g, old, oldlen);
    if (!rc)
        rc = check_range(g, nw, newlen);
    if (rc)
        return rc;
    g->st.mremaps++;
    ags_vma_t *v = ags_g_vma_find(p, old);
    uint32_t prot = v ? v->prot : (AGS_PROT_R | AGS_PROT_W);
    if (nw == old) {
        if (newlen < oldlen)
            return ags_guest_munmap(g, p, old + newlen, oldlen - newlen);
        return ags_g_vma_insert(p, old, old + newlen, prot);
    }
    /* move: collect the 4 KiB leaves of the kept part, unmap the old range, map them anew */
    uint64_t keep = AGS_MIN(oldlen, newlen);
    moved_t *mv = NULL;
    size_t nmv = 0, capmv = 0;
    for (uint64_t a = old; a < old + keep; a += AGS_PAGE_SIZE) {
        ags_gxlate_t x;
        if (!ags_guest_xlate(g, p, a, &x)) {
            /* skip the whole subtree that is missing (a huge sparse range costs its mapped
             * leaves, not its size in pages) */
            uint64_t sz = 1ULL << ags_pt_shift(x.leaf_level);
            a = (a & ~(sz - 1)) + sz - AGS_PAGE_SIZE;
            continue;
        }
        if (ags_grow((void **)&mv, &capmv, sizeof(moved_t), nmv)) {
            free(mv);
            return AGS_E_NOMEM;
        }
        uint64_t f = x.gpa >> AGS_PAGE_SHIFT;
        ags_g_frame_get(g, f, 0); /* hold the frame across the unmap */
        mv[nmv++] = (moved_t){ a - old + nw, (f << AGS_PAGE_SHIFT) | (x.pte & (AGS_X86_RW | AGS_X86_A | AGS_X86_D)) };
    }
    rc = ags_guest_munmap(g, p, old, oldlen);
    if (!rc)
        rc = ags_guest_mmap(g, p, nw, newlen, prot);
    for (size_t i = 0; !rc && i < nmv; i++) {
        uint32_t slot = walk_alloc(g, p, mv[i].va, 1);
        if (slot == AGS_NO_SLOT) {
            rc = AGS_E_NOMEM;
            break;
        }
        pt_write(g, slot, ags_pt_index(mv[i].va, 1),
                 ags_x86_page(ags_pte_addr(mv[i].pte), 1, 0) | (mv[i].pte & (AGS_X86_RW | AGS_X86_A | AGS_X86_D)));
    }
    /* frames were referenced once more above; the new mapping now owns that reference */
    free(mv);
    return rc;
}

/* ------------------------------------------------------------------ fork / exec / exit */

static int fork_rec(ags_guest_t *g, uint32_t ps, uint32_t cs)
{
    if (g->stop && *g->stop)
        return AGS_E_INTR;
    unsigned level = g->pt[ps].level;
    for (unsigned i = 0; i < AGS_PT_ENTRIES; i++) {
        uint64_t e = g->pt[ps].e[i];
        if (!mapped(e))
            continue;
        if (ags_x86_leaf(e, level)) {
            if (ags_x86_writable(e)) {
                e &= ~AGS_X86_RW;
                pt_write(g, ps, i, e);
            }
            ags_g_frame_get(g, ags_pte_addr(e) >> AGS_PAGE_SHIFT, ags_g_order_of_level(level));
            pt_write(g, cs, i, e);
            continue;
        }
        uint64_t base = g->pt[ps].va_base | ((uint64_t)i << ags_pt_shift(level));
        uint32_t child = pt_alloc(g, g->pt[cs].pid, level - 1, cs, i, base);
        if (child == AGS_NO_SLOT)
            return AGS_E_NOMEM;
        pt_write(g, cs, i, ags_x86_table(g->pt[child].gpfn << AGS_PAGE_SHIFT));
        uint32_t pchild = g->pt[ps].child[i];
        int rc = fork_rec(g, pchild, child);
        if (rc)
            return rc;
    }
    return AGS_OK;
}

int ags_guest_fork(ags_guest_t *g, ags_proc_t *parent, uint32_t child_pid)
{
    if (ags_guest_proc(g, child_pid))
        return AGS_E_BADPID;
    ags_proc_t *c = proc_new(g, child_pid);
    if (!c)
        return AGS_E_NOMEM;
    g->st.forks++;
    c->implicit = parent->implicit;
    c->brk_start = parent->brk_start;
    c->brk = parent->brk;
    if (parent->nvma) {
        c->vma = malloc(parent->nvma * sizeof(ags_vma_t));
        if (!c->vma)
            return AGS_E_NOMEM;
        memcpy(c->vma, parent->vma, parent->nvma * sizeof(ags_vma_t));
        for (size_t i = 0; i < parent->nvma; i++)
            c->vma[i].region = 0; /* the child's regions are its own */
        c->nvma = c->capvma = parent->nvma;
    }
    int rc = fork_rec(g, parent->root, c->root);
    g->st.full_flushes++; /* dup_mmap ends with flush_tlb_mm(oldmm) */
    g->ls.tlb_flush(g->ls.ctx, AGS_FLUSH_ASID, parent->asid, 0, 0);
    return rc;
}

/* Unmap everything and free every table below the root. */
static int teardown(ags_guest_t *g, ags_proc_t *p)
{
    uint64_t top = 1ULL << g->va_bits;
    p->nvma = 0;
    p->brk_start = p->brk = 0;
    g->fullmm = 1; /* exit_mmap: tlb_gather_mmu_fullmm, one flush of the whole mm */
    int rc = range_apply(g, p, 0, top, OP_UNMAP, 0);
    g->fullmm = 0;
    return rc;
}

int ags_guest_exec(ags_guest_t *g, ags_proc_t *p)
{
    g->st.execs++;
    int rc = teardown(g, p);
    p->implicit = 1;
    return rc;
}

int ags_guest_exit(ags_guest_t *g, ags_proc_t *p)
{
    g->st.exits++;
    int rc = teardown(g, p); /* its one flush; exit issues no second */
    if (rc)
        return rc;
    pt_release(g, p->root);
    for (size_t i = 0; i < g->nprocs; i++)
        if (g->procs[i] == p) {
            g->procs[i] = g->procs[--g->nprocs];
            break;
        }
    if (p->asid && g->pcid_owner[p->asid - 1] == p->pid)
        g->pcid_owner[p->asid - 1] = 0; /* its slot holds nothing live any more */
    if (g->cur == p)
        g->cur = NULL;
    free(p->vma);
    free(p);
    return AGS_OK;
}

/* ------------------------------------------------------------------ lifecycle */

int ags_guest_init(ags_guest_t *g, const ags_config_t *cfg, ags_mem_t *mem, ags_ept_t *ept,
                   const ags_guest_listener_t *ls)
{
    memset(g, 0, sizeof(*g));
    g->cfg = cfg;
    g->mem = mem;
    g->ept = ept;
    g->ls = *ls;
    g->levels = cfg->guest_levels;
    g->pt_gen = 1; /* no memo entry (generation 0) is good */
    g->page_shift = cfg->guest_page_shift;
    g->va_bits = g->levels == 5 ? 57 : 48;
    g->gnext = AGS_GFN_BASE;
    return ags_g_ref_ensure(g, AGS_GFN_BASE + 1024) ? AGS_E_NOMEM : AGS_OK;
}

void ags_guest_fini(ags_guest_t *g)
{
    for (size_t i = 0; i < g->nprocs; i++) {
        free(g->procs[i]->vma);
        free(g->procs[i]);
    }
    for (size_t i = 0; i < g->npt; i++)
        free(g->pt[i].child);
    free(g->procs);
    free(g->pt);
    free(g->free_slots);
    free(g->ref);
    for (int i = 0; i < 3; i++)
        free(g->gfree[i]);
    memset(g, 0, sizeof(*g));
}

