/* Model notes: the shadow and agile VMMs.
 * Shadow tables live in host memory (this machine's own frame region), x86-64 format, one
 * shadow page per shadowed guest PT page (each guest PT page has one parent in this guest
 * model), plus "direct" pages where a guest leaf is larger than the host page (the shadow leaf
 * maps at min(guest, host) page size). A guest PT page is write-protected exactly while it has
 * a shadow page (and, in unsync mode, is not marked unsync).
 * - Hidden fault: one exit fills the whole path for the faulting address (like KVM's fetch).
 * - Trapped guest PT write (wp): exit + emulate: the corresponding shadow entry is zapped
 *   (its subtree freed if it pointed to a shadow page); the retry takes a hidden fault.
 * - unsync (KVM): the first write to a shadowed leaf table exits and marks it unsync (left
 *   writable); it is resynchronised (stale shadow entries zapped, protection restored) on
 *   INVLPG of an address it maps, on a full flush, and on a CR3 write. A non-leaf shadow page
 *   trapped flood_threshold (3) times without being used by a hidden-fault fill is zapped.
 * - Dirty-bit emulation: a shadow leaf is writable only once the guest D bit is set; the first
 *   store to a clean page exits (unless agile with hardware A/D).
 * - Agile: each guest PT page is SHADOW or NESTED; a NESTED page's descendants are NESTED.
 *   The switching bit lives in the parent's shadow entry, which then holds the hPA of the guest
 *   table. shadow -> nested at `agile_threshold` trapped writes since the page last became
 *   SHADOW; nested -> shadow when a periodic scan finds the page clean and its parent SHADOW.
 *   The scan walks each process's table top-down, so a clean child of a page reverted in the
 *   same scan reverts too (agile_revert_one_level: only pages whose parent was SHADOW before
 *   the scan, i.e. one level per interval).
 *   Dirty flags model the EPT D bit of the host page holding the guest table: set by guest
 *   writes to a NESTED page, by hardware A/D updates in the nested part, and (host pages larger
 *   than 4 KiB) by data stores to the same host page. Agile in wp mode does not intercept
 *   INVLPG: its shadow part is kept coherent by write protection alone (shadow mode keeps
 *   KVM's INVLPG exit, as the design asks); in unsync mode both intercept it.
 * - Simplified: no limit on shadow memory (KVM recycles shadow pages past a quota); one
 *   shadow table per process kept while the process lives; switch/revert costs are flat. */
#include "vmm/vmm.h"
#include "pt/pt.h"
#include "util.h"
#include <string.h>

/* ------------------------------------------------------------------ helpers */

static void vm_exit(ags_vmm_t *v, uint64_t *count, uint64_t *cycles, unsigned extra)
{
    v->st->exits.total++;
    (*count)++;
    *cycles += (uint64_t)v->cfg->cost_exit + extra;
}

static uint64_t switch_entry(uint64_t guest_table_hpa)
{
    return ags_x86_table(guest_table_hpa) | AGS_X86_SW;
}


static uint64_t *sp_entries(const ags_vmm_t *v, uint32_t id)
{
    return ags_mem_pt(v->mem, v->sp[id].hpa >> AGS_PAGE_SHIFT);
}

static void flush_walk_caches(ags_vmm_t *v)
{
    ags_walker_flush_guest(v->walker);
}

/* dirty flags by host page number */
static void dirty_mark(ags_vmm_t *v, uint64_t hpa) { ags_u64set_add(&v->dirty, hpa >> v->ept->page_shift); }
static int dirty_test(const ags_vmm_t *v, uint64_t hpa) { return ags_u64set_has(&v->dirty, hpa >> v->ept->page_shift); }
static void dirty_clear(ags_vmm_t *v) { ags_u64set_clear(&v->dirty); }

/* ------------------------------------------------------------------ shadow pages */

static uint32_t sp_new(ags_vmm_t *v, uint32_t slot, unsigned level, uint64_t va_base,
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

static void sp_free_tree(ags_vmm_t *v, uint32_t id)
{
    uint64_t *e = sp_entries(v, id);
    unsigned level = v->sp[id].level;
    if (level > 1) {
        for (unsigned i = 0; i < AGS_PT_ENTRIES; i++)
            if (ags_x86_present(e[i]) && !ags_x86_leaf(e[i], level) && !ags_x86_switched(e[i]))
                sp_free_tree(v, ags_mem_tag(v->mem, ags_pte_addr(e[i]) >> AGS_PAGE_SHIFT));
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
        ags_grow((void **)&v->free_sp, &v->capfree_sp, sizeof(uint32_t), v->nfree_sp))
        return;
    v->free_sp[v->nfree_sp++] = id;
}

/* Remove a shadow page and its subtree, clearing the parent's entry. */
static void sp_unlink(ags_vmm_t *v, uint32_t id)
{
    uint32_t parent = v->sp[id].parent;
    unsigned pidx = v->sp[id].pidx;
    sp_free_tree(v, id);
    if (parent != AGS_NO_SP && v->sp[parent].live)
        sp_entries(v, parent)[pidx] = 0;
    flush_walk_caches(v);
}

static void zap_entry(ags_vmm_t *v, uint32_t id, unsigned idx)
{
    uint64_t *e = &sp_entries(v, id)[idx];
    if (!ags_x86_present(*e))
        return;
    unsigned level = v->sp[id].level;
    if (!ags_x86_leaf(*e, level)) {
        if (!ags_x86_switched(*e))
            sp_free_tree(v, ags_mem_tag(v->mem, ags_pte_addr(*e) >> AGS_PAGE_SHIFT));
        *e = 0;
        flush_walk_caches(v);
        return;
    }
    *e = 0;
}

static uint32_t ensure_root(ags_vmm_t *v, const ags_proc_t *p)
{
    uint32_t id = v->slot[p->root].sp;
    if (!id)
        id = sp_new(v, p->root, v->levels, 0, AGS_NO_SP, 0);
    return id;
}

/* Compose the shadow leaf for va from the guest leaf ge (guest level glevel) at shadow level. */
static uint64_t compose_leaf(const ags_vmm_t *v, uint64_t va, uint64_t ge, unsigned glevel,
                             unsigned level, int is_write)
{
    uint64_t gmask = (1ULL << ags_pt_shift(glevel)) - 1, smask = (1ULL << ags_pt_shift(level)) - 1;
    uint64_t gpa = (ags_pte_addr(ge) & ~gmask) | (va & gmask & ~smask);
    uint64_t hpa = ags_ept_gpa2hpa(v->ept, gpa) & ~smask;
    int w = ags_x86_writable(ge) && ((ge & AGS_X86_D) || is_write);
    return ags_x86_page(hpa, level, w) | AGS_X86_A | (w ? AGS_X86_D : 0);
}

/* Fill the shadow path for va (software; no exit charged here). */
static int fill(ags_vmm_t *v, const ags_proc_t *p, uint64_t va, int is_write)
{
    if (v->agile && v->slot[p->root].nested)
        return AGS_E_INTERNAL; /* root nested: the hardware never walks a shadow table */
    uint32_t id = ensure_root(v, p);
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
                sp_entries(v, id)[idx] = compose_leaf(v, va, ge, glevel, level, is_write);
                return AGS_OK;
            }
            uint64_t se = sp_entries(v, id)[idx];
            if (!ags_x86_present(se) || ags_x86_leaf(se, level)) {
                uint64_t base = va & ~((1ULL << ags_pt_shift(level)) - 1);
                uint32_t nid = sp_new(v, AGS_NO_SLOT, level - 1, base, id, idx);
                if (nid == AGS_NO_SP)
                    return AGS_E_NOMEM;
                sp_entries(v, id)[idx] = ags_x86_table(v->sp[nid].hpa);
                id = nid;
            } else {
                id = ags_mem_tag(v->mem, ags_pte_addr(se) >> AGS_PAGE_SHIFT);
            }
            continue;
        }
        uint32_t child = ags_guest_child(v->g, gslot, idx);
        uint64_t se = sp_entries(v, id)[idx];
        if (v->agile && v->slot[child].nested) {
            sp_entries(v, id)[idx] = switch_entry(v->g->pt[child].hpa);
            return AGS_OK;
        }
        if (!ags_x86_present(se) || ags_x86_switched(se)) {
            uint32_t nid = v->slot[child].sp;
            if (nid) { /* built by a revert before this parent existed: adopt it */
                v->sp[nid].parent = id;
                v->sp[nid].pidx = (uint16_t)idx;
            } else {
                nid = sp_new(v, child, level - 1, v->g->pt[child].va_base, id, idx);
                if (nid == AGS_NO_SP)
                    return AGS_E_NOMEM;
            }
            sp_entries(v, id)[idx] = ags_x86_table(v->sp[nid].hpa);
            id = nid;
        } else {
            id = ags_mem_tag(v->mem, ags_pte_addr(se) >> AGS_PAGE_SHIFT);
        }
        gslot = child;
    }
    return AGS_E_INTERNAL;
}

/* ------------------------------------------------------------------ unsync */

static void resync(ags_vmm_t *v, uint32_t id)
{
    ags_spage_t *s = &v->sp[id];
    if (!s->live || !s->unsync)
        return;
    uint64_t *e = sp_entries(v, id);
    const uint64_t *ge = v->g->pt[s->slot].e;
    for (unsigned i = 0; i < AGS_PT_ENTRIES; i++) {
        if (!ags_x86_present(e[i]))
            continue;
        uint64_t want = ags_x86_present(ge[i]) ? ags_ept_gpa2hpa(v->ept, ags_pte_addr(ge[i])) : 0;
        if (!ags_x86_present(ge[i]) || ags_pte_addr(e[i]) != want ||
            (ags_x86_writable(e[i]) && !ags_x86_writable(ge[i])))
            e[i] = 0;
    }
    s->unsync = 0;
    v->st->resyncs++;
    v->st->vmm.resync += v->cfg->cost_resync;
}

static void resync_all(ags_vmm_t *v)
{
    for (size_t i = 0; i < v->nunsync; i++)
        resync(v, v->unsync_list[i]);
    v->nunsync = 0;
}

static void resync_va(ags_vmm_t *v, uint64_t va)
{
    ags_proc_t *p = v->g->cur;
    if (!p || !v->nunsync)
        return;
    ags_gxlate_t x;
    int mapped = ags_guest_xlate(v->g, p, va, &x);
    if (!mapped && x.leaf_level > 1)
        return;
    if (mapped && x.leaf_level != 1)
        return;
    uint32_t id = v->slot[x.slot[1]].sp;
    if (id && v->sp[id].unsync)
        resync(v, id);
}

/* ------------------------------------------------------------------ agile transitions */

static void mark_nested(ags_vmm_t *v, uint32_t slot)
{
    v->slot[slot].nested = 1;
    v->slot[slot].writes = 0;
    const ags_gpt_t *t = &v->g->pt[slot];
    if (t->level == 1)
        return;
    for (unsigned i = 0; i < AGS_PT_ENTRIES; i++)
        if (ags_x86_present(t->e[i]) && !ags_x86_leaf(t->e[i], t->level))
            mark_nested(v, ags_guest_child(v->g, slot, i));
}

static void to_nested(ags_vmm_t *v, uint32_t slot)
{
    mark_nested(v, slot);
    uint32_t id = v->slot[slot].sp;
    if (id) {
        uint32_t parent = v->sp[id].parent;
        unsigned pidx = v->sp[id].pidx;
        sp_free_tree(v, id);
        if (parent != AGS_NO_SP && v->sp[parent].live)
            sp_entries(v, parent)[pidx] = switch_entry(v->g->pt[slot].hpa);
    }
    flush_walk_caches(v);
    v->st->agile.to_nested++;
    v->st->vmm.agile_switch += v->cfg->cost_switch;
}

static void to_shadow(ags_vmm_t *v, uint32_t slot)
{
    const ags_gpt_t *t = &v->g->pt[slot];
    v->slot[slot].nested = 0;
    v->slot[slot].writes = 0;
    uint64_t cost = v->cfg->cost_switch;
    uint32_t pslot = t->parent;
    uint32_t psp = pslot == AGS_NO_SLOT ? AGS_NO_SP : v->slot[pslot].sp;
    if (pslot == AGS_NO_SLOT || psp) {
        uint32_t id = sp_new(v, slot, t->level, t->va_base, psp, t->pidx);
        if (id != AGS_NO_SP) {
            uint64_t *e = sp_entries(v, id);
            unsigned host_level = ags_pt_leaf_level(v->ept->page_shift);
            unsigned n = 0;
            for (unsigned i = 0; i < AGS_PT_ENTRIES; i++) {
                uint64_t ge = t->e[i];
                if (!ags_x86_present(ge))
                    continue;
                if (ags_x86_leaf(ge, t->level)) {
                    if (t->level <= host_level) {
                        uint64_t va = t->va_base | ((uint64_t)i << ags_pt_shift(t->level));
                        e[i] = compose_leaf(v, va, ge, t->level, t->level, 0);
                        n++;
                    }
                } else {
                    e[i] = switch_entry(v->g->pt[ags_guest_child(v->g, slot, i)].hpa);
                    n++;
                }
            }
            if (psp)
                sp_entries(v, psp)[t->pidx] = ags_x86_table(v->sp[id].hpa);
            cost += (uint64_t)n * v->cfg->cost_switch_entry;
        }
    }
    flush_walk_caches(v);
    v->st->agile.to_shadow++;
    v->st->vmm.agile_revert += cost;
}

/* Revert the clean NESTED pages of the subtree at slot whose parent is SHADOW, top-down. */
static void scan_rec(ags_vmm_t *v, uint32_t slot, int parent_shadow, uint32_t **cand, size_t *ncand,
                     size_t *capcand, uint64_t *nested)
{
    const ags_gpt_t *t = &v->g->pt[slot];
    int is_shadow = !v->slot[slot].nested;
    if (!is_shadow) {
        ++*nested;
        if (parent_shadow && !dirty_test(v, t->hpa)) {
            if (v->cfg->agile_revert_one_level) {
                if (*ncand == *capcand && ags_grow((void **)cand, capcand, sizeof(uint32_t), *ncand))
                    return;
                (*cand)[(*ncand)++] = slot;
            } else {
                to_shadow(v, slot);
                is_shadow = 1;
            }
        }
    }
    if (t->level == 1)
        return;
    for (unsigned i = 0; i < AGS_PT_ENTRIES; i++)
        if (ags_x86_present(t->e[i]) && !ags_x86_leaf(t->e[i], t->level))
            scan_rec(v, ags_guest_child(v->g, slot, i), is_shadow, cand, ncand, capcand, nested);
}

void ags_vmm_scan(ags_vmm_t *v)
{
    if (!v->agile || v->cfg->agile_force_level)
        return;
    uint32_t *cand = NULL;
    size_t ncand = 0, capcand = 0;
    uint64_t nested = 0;
    for (size_t i = 0; i < v->g->nprocs; i++)
        scan_rec(v, v->g->procs[i]->root, 1, &cand, &ncand, &capcand, &nested);
    for (size_t i = 0; i < ncand; i++)
        to_shadow(v, cand[i]);
    free(cand);
    dirty_clear(v);
    v->st->agile.scans++;
    v->st->vmm.agile_scan += nested * v->cfg->cost_scan_page;
}

/* ------------------------------------------------------------------ guest effects */

int ags_vmm_pt_page_alloc(ags_vmm_t *v, uint32_t slot)
{
    if (ags_grow((void **)&v->slot, &v->capslot, sizeof(ags_vslot_t), slot))
        return AGS_E_NOMEM;
    v->slot[slot].sp = AGS_NO_SP;
    v->slot[slot].writes = 0;
    v->slot[slot].nested = 0;
    if (v->agile) {
        const ags_gpt_t *t = &v->g->pt[slot];
        if (v->cfg->agile_force_level)
            v->slot[slot].nested = t->level < v->cfg->agile_force_level;
        else if (t->parent == AGS_NO_SLOT)
            v->slot[slot].nested = !v->cfg->agile_start_shadow;
        else
            v->slot[slot].nested = v->slot[t->parent].nested;
    }
    return AGS_OK;
}

void ags_vmm_pt_page_free(ags_vmm_t *v, uint32_t slot)
{
    uint32_t id = v->slot[slot].sp;
    if (id)
        sp_unlink(v, id);
    v->slot[slot].nested = 0;
    v->slot[slot].writes = 0;
    if (v->g->pt[slot].parent == AGS_NO_SLOT && v->cr3c) {
        uint32_t pid = v->g->pt[slot].pid;
        for (size_t i = 0; i < v->ncr3c; i++)
            if (v->cr3c[i] == pid) {
                memmove(v->cr3c + i, v->cr3c + i + 1, (v->ncr3c - i - 1) * sizeof(uint32_t));
                v->ncr3c--;
                break;
            }
    }
}

void ags_vmm_pt_write(ags_vmm_t *v, uint32_t slot, unsigned idx, uint64_t old, uint64_t val)
{
    (void)old;
    (void)val;
    if (v->agile && v->slot[slot].nested) {
        dirty_mark(v, v->g->pt[slot].hpa);
        return;
    }
    uint32_t id = v->slot[slot].sp;
    if (!id)
        return; /* not shadowed: not write-protected */
    ags_spage_t *s = &v->sp[id];
    int leaf_table = s->level == 1;
    if (v->cfg->shadow_sync == AGS_SYNC_UNSYNC && leaf_table) {
        if (s->unsync)
            return;
        vm_exit(v, &v->st->exits.pt_write, &v->st->vmm.pt_write, v->cfg->cost_pt_write);
        s->unsync = 1;
        if (v->nunsync == v->capunsync &&
            ags_grow((void **)&v->unsync_list, &v->capunsync, sizeof(uint32_t), v->nunsync))
            return;
        v->unsync_list[v->nunsync++] = id;
    } else {
        vm_exit(v, &v->st->exits.pt_write, &v->st->vmm.pt_write, v->cfg->cost_pt_write);
        zap_entry(v, id, idx);
        if (v->cfg->shadow_sync == AGS_SYNC_UNSYNC && !leaf_table &&
            ++v->sp[id].flood >= v->cfg->flood_threshold) {
            v->st->flood_zaps++;
            sp_unlink(v, id);
            return;
        }
    }
    if (v->agile && !v->cfg->agile_force_level && ++v->slot[slot].writes >= v->cfg->agile_threshold)
        to_nested(v, slot);
}

void ags_vmm_guest_fault(ags_vmm_t *v, uint32_t table_slot)
{
    if (v->agile && v->slot[table_slot].nested)
        return; /* faulted in the nested part: delivered to the guest directly */
    vm_exit(v, &v->st->exits.guest_fault, &v->st->vmm.guest_fault, v->cfg->cost_reflect);
}

static int cr3_cache_hit(ags_vmm_t *v, uint32_t pid)
{
    if (!v->cr3c)
        return 0;
    for (size_t i = 0; i < v->ncr3c; i++)
        if (v->cr3c[i] == pid) {
            memmove(v->cr3c + 1, v->cr3c, i * sizeof(uint32_t));
            v->cr3c[0] = pid;
            return 1;
        }
    size_t n = AGS_MIN(v->ncr3c + 1, (size_t)v->cfg->agile_cr3_cache);
    memmove(v->cr3c + 1, v->cr3c, (n - 1) * sizeof(uint32_t));
    v->cr3c[0] = pid;
    v->ncr3c = n;
    return 0;
}

void ags_vmm_tlb_flush(ags_vmm_t *v, int kind, uint64_t va)
{
    int unsync = v->cfg->shadow_sync == AGS_SYNC_UNSYNC;
    if (kind == AGS_FLUSH_PAGE) {
        if (v->agile && !unsync)
            return;
        vm_exit(v, &v->st->exits.invlpg, &v->st->vmm.invlpg, v->cfg->cost_invlpg);
        if (unsync)
            resync_va(v, va);
    } else if (kind == AGS_FLUSH_ASID) {
        /* a full flush is a CR3 reload: it exits like a CR3 write */
        if (v->agile && v->g->cur && cr3_cache_hit(v, v->g->cur->pid))
            return;
        vm_exit(v, &v->st->exits.cr3_write, &v->st->vmm.cr3_write, v->cfg->cost_cr3);
        if (unsync)
            resync_all(v);
    }
}

int ags_vmm_cr3_write(ags_vmm_t *v, const ags_proc_t *p)
{
    if (!(v->agile && cr3_cache_hit(v, p->pid)))
        vm_exit(v, &v->st->exits.cr3_write, &v->st->vmm.cr3_write, v->cfg->cost_cr3);
    if (v->cfg->shadow_sync == AGS_SYNC_UNSYNC)
        resync_all(v);
    if (!(v->agile && v->slot[p->root].nested) && ensure_root(v, p) == AGS_NO_SP)
        return AGS_E_NOMEM;
    return AGS_OK;
}

void ags_vmm_root(ags_vmm_t *v, const ags_proc_t *p, uint64_t *root, int *kind)
{
    if (v->agile && v->slot[p->root].nested) {
        *root = v->g->pt[p->root].gpfn << AGS_PAGE_SHIFT;
        *kind = AGS_ROOT_GUEST;
        return;
    }
    uint32_t id = ensure_root(v, p);
    *root = id ? v->sp[id].hpa : 0;
    *kind = AGS_ROOT_SHADOW;
}

/* ------------------------------------------------------------------ hardware events */

int ags_vmm_hidden_fault(ags_vmm_t *v, const ags_proc_t *p, uint64_t va, int is_write)
{
    vm_exit(v, &v->st->exits.hidden_fault, &v->st->vmm.hidden_fault, v->cfg->cost_hidden_fault);
    return fill(v, p, va, is_write);
}

int ags_vmm_dirty_fault(ags_vmm_t *v, const ags_proc_t *p, uint64_t va, const ags_gxlate_t *x)
{
    if (v->agile) {
        uint32_t leaf_slot = x->slot[x->leaf_level];
        if (v->slot[leaf_slot].nested) {
            dirty_mark(v, v->g->pt[leaf_slot].hpa); /* hardware sets the guest D bit */
            return 0;
        }
        if (v->cfg->agile_ad_hw)
            return fill(v, p, va, 1) < 0 ? -1 : 0;
    }
    vm_exit(v, &v->st->exits.dirty, &v->st->vmm.dirty, v->cfg->cost_dirty);
    int rc = fill(v, p, va, 1);
    return rc < 0 ? rc : 1;
}

void ags_vmm_touch(ags_vmm_t *v, const ags_gxlate_t *x, unsigned changed, int is_write)
{
    if (!v->agile)
        return;
    for (unsigned level = x->leaf_level; changed >> level; level++) {
        if (!((changed >> level) & 1))
            continue;
        uint32_t slot = x->slot[level];
        if (v->slot[slot].nested)
            dirty_mark(v, v->g->pt[slot].hpa);
    }
    if (is_write && v->ept->page_shift > AGS_PAGE_SHIFT)
        dirty_mark(v, x->hpa);
}

void ags_vmm_mode_counts(const ags_vmm_t *v, uint64_t *nested, uint64_t *shadow)
{
    *nested = *shadow = 0;
    for (size_t s = 0; s < v->g->npt; s++) {
        if (!v->g->pt[s].live)
            continue;
        if (v->agile && v->slot[s].nested)
            ++*nested;
        else
            ++*shadow;
    }
}

/* ------------------------------------------------------------------ lifecycle */

int ags_vmm_init(ags_vmm_t *v, const ags_config_t *cfg, ags_mem_t *mem, ags_guest_t *g,
                 const ags_ept_t *ept, ags_walker_t *walker, ags_stats_t *st, unsigned region, int agile)
{
    memset(v, 0, sizeof(*v));
    v->cfg = cfg;
    v->mem = mem;
    v->g = g;
    v->ept = ept;
    v->walker = walker;
    v->st = st;
    v->region = region;
    v->agile = agile;
    v->levels = cfg->guest_levels;
    if (agile && cfg->agile_cr3_cache) {
        v->cr3c = calloc(cfg->agile_cr3_cache, sizeof(uint32_t));
        if (!v->cr3c)
            return AGS_E_NOMEM;
    }
    return AGS_OK;
}

void ags_vmm_fini(ags_vmm_t *v)
{
    free(v->sp);
    free(v->free_sp);
    free(v->slot);
    free(v->unsync_list);
    ags_u64set_free(&v->dirty);
    free(v->cr3c);
    memset(v, 0, sizeof(*v));
}
