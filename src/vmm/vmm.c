/* Model notes: the VMM entry points of the shadow and agile machines: what each guest effect
 * (page-table write, fault, flush, CR3 write) and each hardware event (hidden fault, dirty-bit
 * fault, A/D update) costs, and which exits it takes. Shadow tables are in shadow.c, the agile
 * policy in agile.c.
 * - Trapped guest PT write (wp): exit + emulate: the corresponding shadow entry is zapped (its
 *   subtree freed if it pointed to a shadow page); the retry takes a hidden fault.
 * - unsync (KVM): the first write to a shadowed leaf table exits and marks it unsync. A non-leaf
 *   shadow page trapped flood_threshold (3) times without being used by a hidden-fault fill is
 *   zapped (KVM's write-flooding rule).
 * - Dirty-bit emulation: a shadow leaf is writable only once the guest D bit is set; the first
 *   store to a clean page exits (unless agile with hardware A/D).
 * - Agile in wp mode does not intercept INVLPG: its shadow part is kept coherent by write
 *   protection alone (shadow mode keeps KVM's INVLPG exit); in unsync mode both intercept it. */
#include "vmm/vmm_internal.h"

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
        ags_sp_unlink(v, id);
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
        ags_agile_dirty_mark(v, v->g->pt[slot].hpa);
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
        ags_vmm_exit(v, &v->st->exits.pt_write, &v->st->vmm.pt_write, v->cfg->cost_pt_write);
        if (v->nunsync == v->capunsync &&
            ags_grow((void **)&v->unsync_list, &v->capunsync, sizeof(uint32_t), v->nunsync)) {
            ags_vmm_fail(v, "unsync list"); /* never marked unsync without a place in the list */
            return;
        }
        s->unsync = 1;
        v->unsync_list[v->nunsync++] = id;
    } else {
        ags_vmm_exit(v, &v->st->exits.pt_write, &v->st->vmm.pt_write, v->cfg->cost_pt_write);
        ags_sp_zap_entry(v, id, idx);
        if (v->cfg->shadow_sync == AGS_SYNC_UNSYNC && !leaf_table &&
            ++v->sp[id].flood >= v->cfg->flood_threshold) {
            v->st->flood_zaps++;
            ags_sp_unlink(v, id);
            return;
        }
    }
    if (v->agile && !v->cfg->agile_force_level && ++v->slot[slot].writes >= v->cfg->agile_threshold)
        ags_agile_to_nested(v, slot);
}

void ags_vmm_guest_fault(ags_vmm_t *v, uint32_t table_slot)
{
    if (v->agile && v->slot[table_slot].nested)
        return; /* faulted in the nested part: delivered to the guest directly */
    ags_vmm_exit(v, &v->st->exits.guest_fault, &v->st->vmm.guest_fault, v->cfg->cost_reflect);
}

/* The agile hardware's gCR3 -> sCR3 cache: a hit loads the root without an exit. */
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

/* Guest TLB flushes. INVLPG exits in shadow and agile alike (KVM intercepts INVLPG whenever it
 * shadows: kvm_mmu_invlpg) and syncs the one entry of an unsync page. A full flush is a CR3
 * reload: it exits like a CR3 write and resyncs the process's unsync pages. */
/* A CR3 load of process pid (a CR3 write, or the reload of a full flush): an exit, unless agile's
 * gCR3 cache holds the root and the process has no unsync page (an exitless load cannot
 * resync: such a load misses the cache). */
static void cr3_load(ags_vmm_t *v, uint32_t pid)
{
    int unsync = v->cfg->shadow_sync == AGS_SYNC_UNSYNC && ags_shadow_has_unsync(v, pid);
    if (v->agile && !unsync && cr3_cache_hit(v, pid))
        return;
    ags_vmm_exit(v, &v->st->exits.cr3_write, &v->st->vmm.cr3_write, v->cfg->cost_cr3);
    if (unsync)
        ags_shadow_resync_proc(v, pid);
}

void ags_vmm_tlb_flush(ags_vmm_t *v, int kind, uint64_t va)
{
    int unsync = v->cfg->shadow_sync == AGS_SYNC_UNSYNC;
    if (kind == AGS_FLUSH_PAGE) {
        ags_vmm_exit(v, &v->st->exits.invlpg, &v->st->vmm.invlpg, v->cfg->cost_invlpg);
        if (unsync)
            ags_shadow_invlpg(v, va);
    } else if (kind == AGS_FLUSH_ASID && v->g->cur) {
        cr3_load(v, v->g->cur->pid);
    }
}

int ags_vmm_cr3_write(ags_vmm_t *v, const ags_proc_t *p)
{
    cr3_load(v, p->pid);
    if (!(v->agile && v->slot[p->root].nested) && ags_shadow_ensure_root(v, p) == AGS_NO_SP)
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
    uint32_t id = ags_shadow_ensure_root(v, p);
    *root = id ? v->sp[id].hpa : 0;
    *kind = AGS_ROOT_SHADOW;
}

/* ------------------------------------------------------------------ hardware events */

int ags_vmm_hidden_fault(ags_vmm_t *v, const ags_proc_t *p, uint64_t va, int is_write)
{
    ags_vmm_exit(v, &v->st->exits.hidden_fault, &v->st->vmm.hidden_fault, v->cfg->cost_hidden_fault);
    return ags_shadow_fill(v, p, va, is_write);
}

int ags_vmm_dirty_fault(ags_vmm_t *v, const ags_proc_t *p, uint64_t va, const ags_gxlate_t *x)
{
    if (v->agile) {
        uint32_t leaf_slot = x->slot[x->leaf_level];
        if (v->slot[leaf_slot].nested) {
            ags_agile_dirty_mark(v, v->g->pt[leaf_slot].hpa); /* hardware sets the guest D bit */
            return AGS_DIRTY_HW;
        }
        if (v->cfg->agile_ad_hw) {
            int rc = ags_shadow_fill(v, p, va, 1);
            return rc < 0 ? rc : AGS_DIRTY_HW;
        }
    }
    ags_vmm_exit(v, &v->st->exits.dirty, &v->st->vmm.dirty, v->cfg->cost_dirty);
    int rc = ags_shadow_fill(v, p, va, 1);
    return rc < 0 ? rc : AGS_DIRTY_EXIT;
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
            ags_agile_dirty_mark(v, v->g->pt[slot].hpa);
    }
    if (is_write && v->ept->page_shift > AGS_PAGE_SHIFT)
        ags_agile_dirty_mark(v, x->hpa);
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
                 const ags_ept_t *ept, ags_walker_t *walker, ags_tlb_t *tlb, uint64_t tlb_bits, ags_stats_t *st,
                 unsigned region, int agile)
{
    memset(v, 0, sizeof(*v));
    v->cfg = cfg;
    v->mem = mem;
    v->g = g;
    v->ept = ept;
    v->walker = walker;
    v->tlb = tlb;
    v->tlb_bits = tlb_bits;
    v->st = st;
    v->region = region;
    v->agile = agile;
    v->levels = cfg->guest_levels;
    v->charges = &v->own[0];
    v->pend = &v->own[1];
    v->failed = &v->failed_own;
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

