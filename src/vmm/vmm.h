/* The VMM of the shadow and agile machines: shadow tables (gVA -> hPA) built lazily on hidden
 * faults, write protection of shadowed guest page-table pages, trap-and-emulate of guest PT
 * writes, unsync leaves (KVM), dirty-bit emulation, and the agile policy (per guest PT page
 * SHADOW/NESTED mode, switching bit in the parent's shadow entry). */
#ifndef AGS_VMM_H
#define AGS_VMM_H

#include <stdint.h>
#include "agilesim/config.h"
#include "agilesim/sim.h"
#include "guest/guest.h"
#include "hw/tlb.h"
#include "hw/walk.h"
#include "mem/mem.h"
#include "mem/ept.h"
#include "util.h"

#define AGS_NO_SP 0u   /* shadow page ids start at 1 */

typedef struct {
    uint64_t hpa;           /* host-physical address of the shadow page */
    uint64_t va_base;
    uint32_t slot;          /* guest PT page it shadows, AGS_NO_SLOT for a direct page */
    uint32_t parent;        /* parent shadow page, AGS_NO_SP for a root */
    uint16_t pidx;
    uint8_t level, live, unsync, flood;
} ags_spage_t;

/* VMM state of one guest page-table page. */
typedef struct {
    uint32_t sp;            /* its shadow page, AGS_NO_SP if none (then not write-protected) */
    uint8_t nested;         /* agile: 1 = NESTED */
    uint8_t writes;         /* agile: trapped writes since the page last became SHADOW */
} ags_vslot_t;

typedef struct {
    const ags_config_t *cfg;
    ags_mem_t *mem;
    ags_guest_t *g;
    const ags_ept_t *ept;
    ags_walker_t *walker;
    ags_tlb_t *tlb;         /* the shared TLB; this machine's entries carry tlb_bits */
    uint64_t tlb_bits;
    ags_stats_t *st;
    unsigned region;
    int agile;
    unsigned levels;

    ags_spage_t *sp;        /* by id (0 unused) */
    size_t nsp, capsp;
    uint32_t *free_sp;
    size_t nfree_sp, capfree_sp;
    uint64_t live_sp;

    /* per guest PT slot */
    ags_vslot_t *slot;
    size_t capslot;

    uint32_t *unsync_list;  /* shadow page ids marked unsync */
    size_t nunsync, capunsync;

    /* agile: dirty flags (model of EPT D bits) by host page number */
    ags_u64set_t dirty;

    /* sticky error (the deferred_err pattern): AGS_E_NOMEM once bookkeeping could not grow;
     * the driver checks it after every fan-out and stops the run with errmsg */
    int err;
    char errmsg[160];

    /* For the driver (which points them at its own counters after init; until then, at own[]
     * and failed_own): *charges is bumped on every charge of an exit or of VMM cycles, and
     * pend[0], pend[1] add up the exits and cycles charged (the driver attributes them to the
     * region of the access whose slow path charged them, and clears them); *failed is set with
     * err. So that the driver learns whether a slow path charged anything, or whether any VMM
     * failed, from one counter or flag. */
    uint64_t *charges, *pend, own[3];
    int *failed, failed_own;

    /* agile: gCR3 -> sCR3 cache (pids, LRU first) */
    uint32_t *cr3c;
    size_t ncr3c;
} ags_vmm_t;

/* tlb, tlb_bits: the shared TLB and this machine's bits in its entries (cleared by VMM flushes). */
int ags_vmm_init(ags_vmm_t *v, const ags_config_t *cfg, ags_mem_t *mem, ags_guest_t *g,
                 const ags_ept_t *ept, ags_walker_t *walker, ags_tlb_t *tlb, uint64_t tlb_bits, ags_stats_t *st,
                 unsigned region, int agile);
void ags_vmm_fini(ags_vmm_t *v);

/* Where the hardware walk of process p starts. */
void ags_vmm_root(ags_vmm_t *v, const ags_proc_t *p, uint64_t *root, int *kind);

/* Guest effects. */
int ags_vmm_pt_page_alloc(ags_vmm_t *v, uint32_t slot);
void ags_vmm_pt_page_free(ags_vmm_t *v, uint32_t slot);
void ags_vmm_pt_write(ags_vmm_t *v, uint32_t slot, unsigned idx, uint64_t old, uint64_t val);
void ags_vmm_guest_fault(ags_vmm_t *v, uint32_t table_slot);
void ags_vmm_tlb_flush(ags_vmm_t *v, int kind, uint64_t va);
int ags_vmm_cr3_write(ags_vmm_t *v, const ags_proc_t *p);

/* Hardware events. */
int ags_vmm_hidden_fault(ags_vmm_t *v, const ags_proc_t *p, uint64_t va, int is_write);
/* What a store to a clean page cost in a VMM machine. */
enum {
    AGS_DIRTY_HW = 0,       /* handled without an exit (hardware A/D, or agile's nested part) */
    AGS_DIRTY_EXIT = 1      /* the read-only shadow leaf exited: dirty-bit emulation */
};
/* A store found a clean page (guest D clear): AGS_DIRTY_HW, AGS_DIRTY_EXIT or an AGS_E_* code. */
int ags_vmm_dirty_fault(ags_vmm_t *v, const ags_proc_t *p, uint64_t va, const ags_gxlate_t *x);
/* Hardware A/D updates of guest entries (levels in mask) and data stores (agile dirty tracking). */
void ags_vmm_touch(ags_vmm_t *v, const ags_gxlate_t *x, unsigned changed, int is_write);
/* Agile, --agile-dirty ept-ad: the guest tables a walk read are marked dirty. */
void ags_vmm_walked(ags_vmm_t *v, const ags_walk_t *w);
/* Agile: the periodic dirty scan (reverts clean NESTED pages whose parent is SHADOW). */
void ags_vmm_scan(ags_vmm_t *v);
/* Agile: count of guest PT pages in each mode. */
void ags_vmm_mode_counts(const ags_vmm_t *v, uint64_t *nested, uint64_t *shadow);
/* Debug checker (--check): AGS_OK, or AGS_E_INTERNAL with a message naming the broken invariant. */
int ags_vmm_audit(const ags_vmm_t *v, char *err, size_t errlen);

#endif
