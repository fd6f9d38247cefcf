/* Model notes: none — a debug checker (after SQLite's sqlite3PcachePageSanity), run by the
 * driver under --check after every agile scan interval. It verifies the VMM's invariants:
 * - write protection <=> a shadow page: a guest PT page has a shadow page exactly when the
 *   shadow page names it back (slot <-> id), and every live shadow page's guest page is live;
 * - every present entry of a shadow page that is in sync agrees with its guest entry: a leaf
 *   maps what the guest's leaf maps (through the EPT) and is writable only if the guest entry
 *   is writable and dirty; a table entry points to the shadow page of the guest's child table
 *   (or, switched, to the guest child itself, which is then NESTED);
 * - agile: a NESTED page has no shadow page and all its descendants are NESTED.
 * Unsync pages are exempt from the agreement check (they are stale by design until resynced). */
#include "vmm/vmm_internal.h"
#include <stdio.h>

#define AUDIT_FAIL(...)                                  \
    do {                                                 \
        snprintf(err, errlen, "VMM audit: " __VA_ARGS__); \
        return AGS_E_INTERNAL;                           \
    } while (0)

static int audit_entry(const ags_vmm_t *v, uint32_t id, unsigned i, char *err, size_t errlen)
{
    const ags_spage_t *s = &v->sp[id];
    uint64_t se = ags_sp_entries(v, id)[i];
    unsigned level = s->level;
    uint64_t va = s->va_base | ((uint64_t)i << ags_pt_shift(level));
    if (ags_x86_leaf(se, level)) {
        if (s->slot == AGS_NO_SLOT)
            return AGS_OK; /* direct page: checked through its parent's guest leaf */
        uint64_t ge = v->g->pt[s->slot].e[i];
        if (!ags_x86_present(ge) || !ags_x86_leaf(ge, level))
            AUDIT_FAIL("shadow leaf for 0x%llx (level %u) but the guest entry is %s", (unsigned long long)va, level,
                       ags_x86_present(ge) ? "a table" : "not present");
        uint64_t want = ags_shadow_compose_leaf(v, va, ge, level, level, 0);
        if (ags_pte_addr(se) != ags_pte_addr(want))
            AUDIT_FAIL("shadow leaf for 0x%llx maps hPA 0x%llx, guest and EPT say 0x%llx", (unsigned long long)va,
                       (unsigned long long)ags_pte_addr(se), (unsigned long long)ags_pte_addr(want));
        if (ags_x86_writable(se) && !(ags_x86_writable(ge) && (ge & AGS_X86_D)))
            AUDIT_FAIL("shadow leaf for 0x%llx is writable, guest entry 0x%llx is not writable and dirty",
                       (unsigned long long)va, (unsigned long long)ge);
        return AGS_OK;
    }
    if (ags_x86_switched(se)) {
        if (!v->agile || s->slot == AGS_NO_SLOT)
            AUDIT_FAIL("switching bit outside agile's guest-backed shadow pages (0x%llx)", (unsigned long long)va);
        uint64_t ge = v->g->pt[s->slot].e[i];
        if (!ags_x86_present(ge) || ags_x86_leaf(ge, level))
            AUDIT_FAIL("switched entry for 0x%llx but the guest entry is no table", (unsigned long long)va);
        uint32_t child = ags_guest_child(v->g, s->slot, i);
        if (ags_pte_addr(se) != v->g->pt[child].hpa || !v->slot[child].nested)
            AUDIT_FAIL("switched entry for 0x%llx does not point to a NESTED guest table", (unsigned long long)va);
        return AGS_OK;
    }
    uint32_t cid = ags_mem_tag(v->mem, ags_pte_addr(se) >> AGS_PAGE_SHIFT);
    if (!cid || cid >= v->nsp || !v->sp[cid].live || v->sp[cid].parent != id || v->sp[cid].pidx != i ||
        v->sp[cid].level != level - 1)
        AUDIT_FAIL("shadow table entry for 0x%llx (level %u) does not point to its live child shadow page",
                   (unsigned long long)va, level);
    if (s->slot == AGS_NO_SLOT)
        return AGS_OK;
    uint64_t ge = v->g->pt[s->slot].e[i];
    if (!ags_x86_present(ge))
        AUDIT_FAIL("shadow table entry for 0x%llx but the guest entry is not present", (unsigned long long)va);
    uint32_t want = ags_x86_leaf(ge, level) ? AGS_NO_SLOT : ags_guest_child(v->g, s->slot, i);
    if (v->sp[cid].slot != want)
        AUDIT_FAIL("shadow child of 0x%llx (level %u) shadows guest slot %u, guest says %u", (unsigned long long)va,
                   level, v->sp[cid].slot, want);
    return AGS_OK;
}

int ags_vmm_audit(const ags_vmm_t *v, char *err, size_t errlen)
{
    for (size_t id = 1; id < v->nsp; id++) {
        const ags_spage_t *s = &v->sp[id];
        if (!s->live)
            continue;
        if (s->slot != AGS_NO_SLOT) {
            if (!v->g->pt[s->slot].live || v->slot[s->slot].sp != id || v->g->pt[s->slot].level != s->level)
                AUDIT_FAIL("shadow page %zu and guest PT slot %u do not name each other", id, s->slot);
            if (v->agile && v->slot[s->slot].nested)
                AUDIT_FAIL("guest PT slot %u is NESTED but has shadow page %zu", s->slot, id);
            if (s->unsync)
                continue;
        }
        const uint64_t *e = ags_sp_entries(v, (uint32_t)id);
        for (unsigned i = 0; i < AGS_PT_ENTRIES; i++)
            if (ags_x86_present(e[i])) {
                int rc = audit_entry(v, (uint32_t)id, i, err, errlen);
                if (rc)
                    return rc;
            }
    }
    for (size_t slot = 0; slot < v->g->npt; slot++) {
        const ags_gpt_t *t = &v->g->pt[slot];
        if (!t->live)
            continue;
        uint32_t id = v->slot[slot].sp;
        if (id && (id >= v->nsp || !v->sp[id].live || v->sp[id].slot != slot))
            AUDIT_FAIL("guest PT slot %zu is write-protected for shadow page %u, which does not shadow it", slot, id);
        if (v->agile && v->slot[slot].nested && t->level > 1)
            for (unsigned i = 0; i < AGS_PT_ENTRIES; i++)
                if (ags_x86_present(t->e[i]) && !ags_x86_leaf(t->e[i], t->level) &&
                    !v->slot[ags_guest_child(v->g, (uint32_t)slot, i)].nested)
                    AUDIT_FAIL("guest PT slot %zu is NESTED but its child at entry %u is SHADOW", slot, i);
    }
    return AGS_OK;
}
