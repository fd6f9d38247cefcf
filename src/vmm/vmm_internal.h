/* Private to the VMM: the helpers and the shadow-page machinery shared by vmm.c (the entry
 * points the driver calls), shadow.c (shadow tables, hidden faults, unsync) and agile.c (the
 * agile policy). */
#ifndef AGS_VMM_INTERNAL_H
#define AGS_VMM_INTERNAL_H

#include "vmm/vmm.h"
#include "pt/pt.h"
#include "util.h"
#include <stdio.h>
#include <string.h>

static inline void ags_vmm_exit(ags_vmm_t *v, uint64_t *count, uint64_t *cycles, unsigned extra)
{
    v->st->exits.total++;
    (*count)++;
    uint64_t c = (uint64_t)v->cfg->cost_exit + extra;
    *cycles += c;
    v->pend[0]++;
    v->pend[1] += c;
    (*v->charges)++;
}

/* VMM cycles without an exit of their own (resync, agile's switches and scans) */
static inline void ags_vmm_charge(ags_vmm_t *v, uint64_t *cycles, uint64_t n)
{
    *cycles += n;
    v->pend[1] += n;
    (*v->charges)++;
}

static inline uint64_t ags_vmm_switch_entry(uint64_t guest_table_hpa)
{
    return ags_x86_table(guest_table_hpa) | AGS_X86_SW;
}


static inline uint64_t *ags_sp_entries(const ags_vmm_t *v, uint32_t id)
{
    return ags_mem_pt(v->mem, v->sp[id].hpa >> AGS_PAGE_SHIFT);
}

/* A VMM-caused flush of this machine's TLB entries and guest-dimension walk caches, after it
 * changed or removed a present shadow entry (KVM: kvm_flush_remote_tlbs, i.e. INVVPID). */
static inline void ags_vmm_flush_tlb(ags_vmm_t *v)
{
    v->st->vmm_tlb_flushes++;
    ags_tlb_clear_bits(v->tlb, v->tlb_bits);
    ags_walker_flush_guest(v->walker);
}

/* INVEPT (single context): also the combined and guest-physical mappings: the nested TLB and
 * the host-dimension walk caches. */
static inline void ags_vmm_invept(ags_vmm_t *v)
{
    v->st->vmm_tlb_flushes++;
    ags_tlb_clear_bits(v->tlb, v->tlb_bits);
    ags_walker_flush_all(v->walker);
}

/* dirty flags by host page number */

static inline int ags_agile_dirty_test(const ags_vmm_t *v, uint64_t hpa) { return ags_u64set_has(&v->dirty, hpa >> v->ept->page_shift); }
static inline void ags_agile_dirty_clear(ags_vmm_t *v) { ags_u64set_clear(&v->dirty); }

/* Record a failure that the caller cannot return (a sticky error the driver checks). */
static inline void ags_vmm_fail(ags_vmm_t *v, const char *what)
{
    if (!v->err) {
        v->err = AGS_E_NOMEM;
        *v->failed = 1;
        snprintf(v->errmsg, sizeof(v->errmsg), "out of memory: %s", what);
    }
}

/* agile: mark the host page holding hpa dirty (the model of its EPT D bit) */
static inline void ags_agile_dirty_mark(ags_vmm_t *v, uint64_t hpa)
{
    if (ags_u64set_add(&v->dirty, hpa >> v->ept->page_shift))
        ags_vmm_fail(v, "agile dirty flags"); /* a lost flag could revert a dirty page */
}

/* shadow.c */
uint32_t ags_sp_new(ags_vmm_t *v, uint32_t slot, unsigned level, uint64_t va_base, uint32_t parent, unsigned pidx);
void ags_sp_free_tree(ags_vmm_t *v, uint32_t id);
void ags_sp_unlink(ags_vmm_t *v, uint32_t id);
void ags_sp_zap_entry(ags_vmm_t *v, uint32_t id, unsigned idx);
uint32_t ags_shadow_ensure_root(ags_vmm_t *v, const ags_proc_t *p);
uint64_t ags_shadow_compose_leaf(const ags_vmm_t *v, uint64_t va, uint64_t ge, unsigned glevel, unsigned level,
                                 int is_write);
int ags_shadow_fill(ags_vmm_t *v, const ags_proc_t *p, uint64_t va, int is_write);
int ags_shadow_has_unsync(const ags_vmm_t *v, uint32_t pid);
void ags_shadow_resync_proc(ags_vmm_t *v, uint32_t pid);
void ags_shadow_invlpg(ags_vmm_t *v, uint64_t va);

/* agile.c */
void ags_agile_to_nested(ags_vmm_t *v, uint32_t slot);
void ags_agile_to_shadow(ags_vmm_t *v, uint32_t slot);

#endif
