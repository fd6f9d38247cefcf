/* Model notes: shadow tables. They live in host memory (this machine's own frame region),
 * x86-64 format, one shadow page per shadowed guest PT page (each guest PT page has one parent
 * in this guest model), plus "direct" pages where a guest leaf is larger than the host page (the
 * shadow leaf maps at min(guest, host) page size). A guest PT page is write-protected exactly
 * while it has a shadow page (and, in unsync mode, is not marked unsync).
 * - Hidden fault: one exit fills the whole path for the faulting address (like KVM's fetch).
 * - unsync (KVM): a shadowed leaf table, once written, is left writable and resynchronised
 *   (stale shadow entries zapped, protection restored) on INVLPG of an address it maps, on a
 *   full flush, and on a CR3 write.
 * - Simplified: no limit on shadow memory (KVM recycles shadow pages past a quota); one shadow
 *   table per process kept while the process lives. */
#include "vmm/vmm_internal.h"

uint32_t ags_sp_new(ags_vmm_t *v, uint32_t slot, unsigned level, uint64_t va_base,
                       uint32_t parent, unsigned pidx)
{
    uint32_t id;
    if (v->nfree_sp) {
        id = v->free_sp[--v->nfree_sp];
    } else {
        if (!v->nsp)
            v->nsp = 1; /* id 0 = none */
        id = (uint32_t)v->nsp;
        if (ags_grow((void **)&v->sp, &v->capsp, sizeof(ags_spage_t), v->nsp))
            return AGS_NO_SP;
        v->nsp++;
    }
    uint64_t f = ags_mem_alloc(v->mem, v->region, 0);
    if (!f || !ags_mem_pt_attach(v->mem, f, id))
        return AGS_NO_SP;
    ags_spage_t *s = &v->sp[id];
    memset(s, 0, sizeof(*s));
    s->hpa = f << AGS_PAGE_SHIFT;
    s->va_base = va_base;
    s->slot = slot;
    s->parent = parent;
    s->pidx = (uint16_t)pidx;
    s->level = (uint8_t)level;
    s->live = 1;
    if (slot != AGS_NO_SLOT)
        v->slot[slot].sp = id;
    v->st->shadow_pages_built++;
    if (++v->live_sp > v->st->shadow_pages_peak)
        v->st->shadow_pages_peak = v->live_sp;
    return id;
}

void ags_sp_free_tree(ags_vmm_t *v, uint32_t id)
{
    uint64_t *e = ags_sp_entries(v, id);
    unsigned level = v->sp[id].level;
    if (level > 1) {
        for (unsigned i = 0; i < AGS_PT_ENTRIES; i++)
            if (ags_x86_present(e[i]) && !ags_x86_leaf(e[i], level) && !ags_x86_switched(e[i]))
                ags_sp_free_tree(v, ags_mem_tag(v->mem, ags_pte_addr(e[i]) >> AGS_PAGE_SHIFT));
    }
    ags_spage_t *s = &v->sp[id];
    if (s->slot != AGS_NO_SLOT && v->slot[s->slot].sp == id)
        v->slot[s->slot].sp = AGS_NO_SP;
    ags_mem_pt_detach(v->mem, s->hpa >> AGS_PAGE_SHIFT);
    ags_mem_free(v->mem, v->region, s->hpa >> AGS_PAGE_SHIFT);
    s->live = 0;
    s->unsync = 0;
    v->live_sp--;
    v->st->shadow_pages_zapped++;
    if (v->nfree_sp == v->capfree_sp &&
        ags_grow((void **)&v->free_sp, &v->capfree_sp, sizeof(uint32_t), v->nfree_sp)) {
        ags_vmm_fail(v, "shadow page ids");
        return;
    }
    v->free_sp[v->nfree_sp++] = id;
}

/* Remove a shadow page and its subtree, clearing the parent's entry. */
void ags_sp_unlink(ags_vmm_t *v, uint32_t id)
{
    uint32_t parent = v->sp[id].parent;
    unsigned pidx = v->sp[id].pidx;
    ags_sp_free_tree(v, id);
    if (parent != AGS_NO_SP && v->sp[parent].live && ags_x86_present(ags_sp_entries(v, parent)[pidx])) {
        ags_sp_entries(v, parent)[pidx] = 0;
        ags_vmm_flush_tlb(v); /* a live entry went away */
    }
}

void ags_sp_zap_entry(ags_vmm_t *v, uint32_t id, unsigned idx)
{
    uint64_t *e = &ags_sp_entries(v, id)[idx];
    if (!ags_x86_present(*e))
        return;
    unsigned level = v->sp[id].level;
    if (!ags_x86_leaf(*e, level) && !ags_x86_switched(*e))
        ags_sp_free_tree(v, ags_mem_tag(v->mem, ags_pte_addr(*e) >> AGS_PAGE_SHIFT));
    *e = 0;
    ags_vmm_flush_tlb(v); /* KVM flushes after zapping a present spte */
}

uint32_t ags_shadow_ensure_root(ags_vmm_t *v, const ags_proc_t *p)
{
    uint32_t id = v->slot[p->root].sp;
    if (!id)
        id = ags_sp_new(v, p->root, v->levels, 0, AGS_NO_SP, 0);
    return id;
}

/* Compose the shadow leaf for va from the guest leaf ge (guest level glevel) at shadow level. */
uint64_t ags_shadow_compose_leaf(const ags_vmm_t *v, uint64_t va, uint64_t ge, unsigned glevel,
                             unsigned level, int is_write)
{
    uint64_t gmask = (1ULL << ags_pt_shift(glevel)) - 1, smask = (1ULL << ags_pt_shift(level)) - 1;
    uint64_t gpa = (ags_pte_addr(ge) & ~gmask) | (va & gmask & ~smask);
    uint64_t hpa = ags_ept_gpa2hpa(v->ept, gpa) & ~smask;
    int w = ags_x86_writable(ge) && ((ge & AGS_X86_D) || is_write);
    return ags_x86_page(hpa, level, w) | AGS_X86_A | (w ? AGS_X86_D : 0);
}

/* Fill the shadow path for va (software; no exit charged here). */
/* KVM's pte_prefetch (FNAME(pte_prefetch), __direct_pte_prefetch): with a 4 KiB leaf filled at
 * index idx, also fill the other not-present entries of its aligned group of shadow_prefetch
 * entries whose guest entry is present and accessed (a direct page: every entry, all inside the
 * same guest leaf). Prefetched leaves are writable only where the guest entry is dirty. */
static void prefetch(ags_vmm_t *v, uint32_t id, uint32_t gslot, unsigned idx, uint64_t va, uint64_t ge,
                     unsigned glevel)
{
    unsigned n = v->cfg->shadow_prefetch;
    if (n < 2)
        return;
    uint64_t *se = ags_sp_entries(v, id);
    unsigned first = idx & ~(n - 1);
    for (unsigned j = first; j < first + n && j < AGS_PT_ENTRIES; j++) {
        if (j == idx || ags_x86_present(se[j]))
            continue;
        uint64_t vj = (va & ~((uint64_t)AGS_PT_ENTRIES * AGS_PAGE_SIZE - 1)) | ((uint64_t)j << AGS_PAGE_SHIFT);
        uint64_t gj = ge;
        if (gslot != AGS_NO_SLOT) {
            gj = v->g->pt[gslot].e[j];
            if (!ags_x86_present(gj) || !(gj & AGS_X86_A))
                continue;
        }
        se[j] = ags_shadow_compose_leaf(v, vj, gj, glevel, 1, 0);
        v->st->shadow_prefetched++;
    }
}

int ags_shadow_fill(ags_vmm_t *v, const ags_proc_t *p, uint64_t va, int is_write)
{
    if (v->agile && v->slot[p->root].nested)
        return AGS_E_INTERNAL; /* root nested: the hardware never walks a shadow table */
    uint32_t id = ags_shadow_ensure_root(v, p);
    if (id == AGS_NO_SP)
        return AGS_E_NOMEM;
    uint32_t gslot = p->root;
    uint64_t ge = 0;
    unsigned glevel = 0; /* != 0 once inside a guest leaf larger than the shadow leaf */
    unsigned host_level = ags_pt_leaf_level(v->ept->page_shift);
    for (unsigned level = v->levels; level >= 1; level--) {
        v->sp[id].flood = 0;
        unsigned idx = ags_pt_index(va, level);
        if (!glevel) {
            ge = v->g->pt[gslot].e[idx];
            if (!ags_x86_present(ge))
                return AGS_E_INTERNAL;
            if (ags_x86_leaf(ge, level))
                glevel = level;
        }
        if (glevel) {
            unsigned slevel = AGS_MIN(glevel, host_level);
            if (slevel == level) {
                ags_sp_entries(v, id)[idx] = ags_shadow_compose_leaf(v, va, ge, glevel, level, is_write);
                if (level == 1)
                    prefetch(v, id, glevel > 1 ? AGS_NO_SLOT : gslot, idx, va, ge, glevel);
                return AGS_OK;
            }
            uint64_t se = ags_sp_entries(v, id)[idx];
            if (!ags_x86_present(se) || ags_x86_leaf(se, level)) {
                uint64_t base = va & ~((1ULL << ags_pt_shift(level)) - 1);
                uint32_t nid = ags_sp_new(v, AGS_NO_SLOT, level - 1, base, id, idx);
                if (nid == AGS_NO_SP)
                    return AGS_E_NOMEM;
                ags_sp_entries(v, id)[idx] = ags_x86_table(v->sp[nid].hpa);
                id = nid;
            } else {
                id = ags_mem_tag(v->mem, ags_pte_addr(se) >> AGS_PAGE_SHIFT);
            }
            continue;
        }
        uint32_t child = ags_guest_child(v->g, gslot, idx);
        uint64_t se = ags_sp_entries(v, id)[idx];
        if (v->agile && v->slot[child].nested) {
            ags_sp_entries(v, id)[idx] = ags_vmm_switch_entry(v->g->pt[child].hpa);
            return AGS_OK;
        }
        if (!ags_x86_present(se) || ags_x86_switched(se)) {
            uint32_t nid = v->slot[child].sp;
            if (nid) { /* built by a revert before this parent existed: adopt it */
                v->sp[nid].parent = id;
                v->sp[nid].pidx = (uint16_t)idx;
            } else {
                nid = ags_sp_new(v, child, level - 1, v->g->pt[child].va_base, id, idx);
                if (nid == AGS_NO_SP)
                    return AGS_E_NOMEM;
            }
            ags_sp_entries(v, id)[idx] = ags_x86_table(v->sp[nid].hpa);
            id = nid;
        } else {
            id = ags_mem_tag(v->mem, ags_pte_addr(se) >> AGS_PAGE_SHIFT);
        }
        gslot = child;
    }
    return AGS_E_INTERNAL;
}

/* ------------------------------------------------------------------ unsync */

/* Is the shadow entry e (of a 4 KiB leaf table) stale against guest entry ge? */
static int stale(const ags_vmm_t *v, uint64_t e, uint64_t ge)
{
    if (!ags_x86_present(ge))
        return 1;
    return ags_pte_addr(e) != ags_ept_gpa2hpa(v->ept, ags_pte_addr(ge)) ||
           (ags_x86_writable(e) && !(ags_x86_writable(ge) && (ge & AGS_X86_D)));
}

/* Resynchronise an unsync page (KVM's kvm_sync_page): zap every stale entry, write-protect the
 * guest page again. Returns the number of entries zapped; the caller flushes if any. An agile
 * page found changed counts as written once more towards its switch to nested. */
static unsigned resync(ags_vmm_t *v, uint32_t id)
{
    ags_spage_t *s = &v->sp[id];
    if (!s->live || !s->unsync)
        return 0;
    uint64_t *e = ags_sp_entries(v, id);
    const uint64_t *ge = v->g->pt[s->slot].e;
    unsigned changed = 0;
    for (unsigned i = 0; i < AGS_PT_ENTRIES; i++)
        if (ags_x86_present(e[i]) && stale(v, e[i], ge[i])) {
            e[i] = 0;
            changed++;
        }
    s->unsync = 0;
    v->st->resyncs++;
    ags_vmm_charge(v, &v->st->vmm.resync, v->cfg->cost_resync);
    uint32_t slot = s->slot;
    if (changed && v->agile && !v->cfg->agile_force_level && ++v->slot[slot].writes >= v->cfg->agile_threshold)
        ags_agile_to_nested(v, slot); /* flushes */
    return changed;
}

int ags_shadow_has_unsync(const ags_vmm_t *v, uint32_t pid)
{
    for (size_t i = 0; i < v->nunsync; i++) {
        const ags_spage_t *s = &v->sp[v->unsync_list[i]];
        if (s->live && s->unsync && v->g->pt[s->slot].pid == pid)
            return 1;
    }
    return 0;
}

/* CR3 write or full flush of process pid (KVM's kvm_mmu_sync_roots): resync its unsync pages;
 * flush this machine's TLB if an entry changed. */
void ags_shadow_resync_proc(ags_vmm_t *v, uint32_t pid)
{
    unsigned changed = 0;
    size_t keep = 0;
    for (size_t i = 0; i < v->nunsync; i++) {
        uint32_t id = v->unsync_list[i];
        const ags_spage_t *s = &v->sp[id];
        if (!s->live || !s->unsync)
            continue; /* zapped meanwhile */
        if (v->g->pt[s->slot].pid != pid) {
            v->unsync_list[keep++] = id;
            continue;
        }
        changed += resync(v, id);
    }
    v->nunsync = keep;
    if (changed)
        ags_vmm_flush_tlb(v);
}

/* INVLPG of va (KVM's FNAME(invlpg)): sync the one shadow entry that maps va, if its page is
 * unsync; the guest's INVLPG itself drops the TLB entry, so no further flush. */
void ags_shadow_invlpg(ags_vmm_t *v, uint64_t va)
{
    ags_proc_t *p = v->g->cur;
    if (!p || !v->nunsync)
        return;
    ags_gxlate_t x;
    ags_guest_xlate(v->g, p, va, &x);
    if (x.leaf_level != 1)
        return; /* no 4 KiB leaf table there */
    uint32_t id = v->slot[x.slot[1]].sp;
    if (!id || !v->sp[id].unsync)
        return;
    uint64_t *e = &ags_sp_entries(v, id)[x.idx[1]];
    if (ags_x86_present(*e) && stale(v, *e, v->g->pt[x.slot[1]].e[x.idx[1]]))
        *e = 0;
}
