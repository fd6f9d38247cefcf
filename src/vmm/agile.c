/* Model notes: the agile policy (Gandhi, Hill, Swift, ISCA 2016; US 2016/0246730). Each guest
 * PT page is SHADOW or NESTED; a NESTED page's descendants are NESTED. The switching bit lives in
 * the parent's shadow entry, which then holds the hPA of the guest table. shadow -> nested at
 * `agile_threshold` trapped writes since the page last became SHADOW; nested -> shadow when a
 * periodic scan finds the page clean and its parent SHADOW. The scan walks each process's table
 * top-down, so a clean child of a page reverted in the same scan reverts too
 * (agile_revert_one_level: only pages whose parent was SHADOW before the scan, i.e. one level
 * per interval).
 * Dirty flags model the EPT D bit of the host page holding the guest table: set by guest writes
 * to a NESTED page, by hardware A/D updates in the nested part, and (host pages larger than
 * 4 KiB) by data stores to the same host page.
 * Simplified: switch/revert costs are flat (plus a cost per entry rebuilt). */
#include "vmm/vmm_internal.h"

static void agile_mark_nested(ags_vmm_t *v, uint32_t slot)
{
    v->slot[slot].nested = 1;
    v->slot[slot].writes = 0;
    const ags_gpt_t *t = &v->g->pt[slot];
    if (t->level == 1)
        return;
    for (unsigned i = 0; i < AGS_PT_ENTRIES; i++)
        if (ags_x86_present(t->e[i]) && !ags_x86_leaf(t->e[i], t->level))
            agile_mark_nested(v, ags_guest_child(v->g, slot, i));
}

void ags_agile_to_nested(ags_vmm_t *v, uint32_t slot)
{
    agile_mark_nested(v, slot);
    uint32_t id = v->slot[slot].sp;
    if (id) {
        uint32_t parent = v->sp[id].parent;
        unsigned pidx = v->sp[id].pidx;
        ags_sp_free_tree(v, id);
        if (parent != AGS_NO_SP && v->sp[parent].live)
            ags_sp_entries(v, parent)[pidx] = ags_vmm_switch_entry(v->g->pt[slot].hpa);
    }
    ags_vmm_flush_tlb(v); /* a live non-leaf entry changed */
    v->st->agile.to_nested++;
    ags_vmm_charge(v, &v->st->vmm.agile_switch, v->cfg->cost_switch);
}

void ags_agile_to_shadow(ags_vmm_t *v, uint32_t slot)
{
    const ags_gpt_t *t = &v->g->pt[slot];
    v->slot[slot].nested = 0;
    v->slot[slot].writes = 0;
    uint64_t cost = v->cfg->cost_switch;
    uint32_t pslot = t->parent;
    uint32_t psp = pslot == AGS_NO_SLOT ? AGS_NO_SP : v->slot[pslot].sp;
    if (pslot == AGS_NO_SLOT || psp) {
        uint32_t id = ags_sp_new(v, slot, t->level, t->va_base, psp, t->pidx);
        if (id != AGS_NO_SP) {
            uint64_t *e = ags_sp_entries(v, id);
            unsigned host_level = ags_pt_leaf_level(v->ept->page_shift);
            unsigned n = 0;
            for (unsigned i = 0; i < AGS_PT_ENTRIES; i++) {
                uint64_t ge = t->e[i];
                if (!ags_x86_present(ge))
                    continue;
                if (ags_x86_leaf(ge, t->level)) {
                    if (t->level <= host_level) {
                        uint64_t va = t->va_base | ((uint64_t)i << ags_pt_shift(t->level));
                        e[i] = ags_shadow_compose_leaf(v, va, ge, t->level, t->level, 0);
                        n++;
                    }
                } else {
                    e[i] = ags_vmm_switch_entry(v->g->pt[ags_guest_child(v->g, slot, i)].hpa);
                    n++;
                }
            }
            if (psp)
                ags_sp_entries(v, psp)[t->pidx] = ags_x86_table(v->sp[id].hpa);
            cost += (uint64_t)n * v->cfg->cost_switch_entry;
        }
    }
    /* no flush here: reverts happen only in a scan, which ends with an INVEPT */
    v->st->agile.to_shadow++;
    ags_vmm_charge(v, &v->st->vmm.agile_revert, cost);
}

/* Revert the clean NESTED pages of the subtree at slot whose parent is SHADOW, top-down. */
static void agile_scan_rec(ags_vmm_t *v, uint32_t slot, int parent_shadow, uint32_t **cand, size_t *ncand,
                     size_t *capcand, uint64_t *nested)
{
    const ags_gpt_t *t = &v->g->pt[slot];
    int is_shadow = !v->slot[slot].nested;
    if (!is_shadow) {
        ++*nested;
        if (parent_shadow && !ags_agile_dirty_test(v, t->hpa)) {
            if (v->cfg->agile_revert_one_level) {
                if (*ncand == *capcand && ags_grow((void **)cand, capcand, sizeof(uint32_t), *ncand)) {
                    ags_vmm_fail(v, "agile scan candidates");
                    return;
                }
                (*cand)[(*ncand)++] = slot;
            } else {
                ags_agile_to_shadow(v, slot);
                is_shadow = 1;
            }
        }
    }
    if (t->level == 1)
        return;
    for (unsigned i = 0; i < AGS_PT_ENTRIES; i++)
        if (ags_x86_present(t->e[i]) && !ags_x86_leaf(t->e[i], t->level))
            agile_scan_rec(v, ags_guest_child(v->g, slot, i), is_shadow, cand, ncand, capcand, nested);
}

/* --agile-dirty ept-ad (stock EPT A/D, SDM 28.3.3.2): the walker's accesses to guest paging
 * structures are writes for EPT A/D purposes, so every guest table a walk reads is dirty. */
void ags_vmm_walked(ags_vmm_t *v, const ags_walk_t *w)
{
    for (unsigned i = 0; i < w->n; i++)
        if (w->s[i].dim == AGS_DIM_GUEST)
            ags_agile_dirty_mark(v, w->s[i].hpa);
}

void ags_vmm_scan(ags_vmm_t *v)
{
    if (!v->agile || v->cfg->agile_force_level)
        return;
    uint32_t *cand = NULL;
    size_t ncand = 0, capcand = 0;
    uint64_t nested = 0;
    for (size_t i = 0; i < v->g->nprocs; i++)
        agile_scan_rec(v, v->g->procs[i]->root, 1, &cand, &ncand, &capcand, &nested);
    for (size_t i = 0; i < ncand; i++)
        ags_agile_to_shadow(v, cand[i]);
    free(cand);
    ags_agile_dirty_clear(v);
    if (nested) /* EPT D bits were cleared (and perhaps pages reverted): INVEPT */
        ags_vmm_invept(v);
    v->st->agile.scans++;
    ags_vmm_charge(v, &v->st->vmm.agile_scan, nested * v->cfg->cost_scan_page);
}
