/* The guest OS model, shared by every mode: processes, VMAs, demand paging, munmap, mprotect,
 * brk, mremap, fork with copy-on-write, exec, exit, context switch, TLB-flush policy.
 * It is the only writer of guest page tables and broadcasts every effect to a listener. */
#ifndef AGS_GUEST_H
#define AGS_GUEST_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "agilesim/config.h"
#include "agilesim/sim.h"
#include "mem/mem.h"
#include "mem/ept.h"
#include "pt/pt.h"
#include "util.h"
#include <string.h>

#define AGS_NO_SLOT 0xffffffffu

/* Guest TLB flushes: INVLPG; a full flush of an address space (a CR3 reload: intercepted like a
 * CR3 write); every PCID (a CR3 write without PCIDs); the flush of a PCID that a CR3 write does
 * when it hands the PCID to another process (part of that CR3 write, not a separate exit). */
enum { AGS_FLUSH_PAGE = 0, AGS_FLUSH_ASID = 1, AGS_FLUSH_ALL = 2, AGS_FLUSH_CR3 = 3 };

/* Effects the guest broadcasts. Called synchronously, in program order. */
typedef struct {
    void *ctx;
    void (*pt_page_alloc)(void *ctx, uint32_t slot);    /* before any write that links it */
    void (*pt_page_free)(void *ctx, uint32_t slot);     /* after the write that unlinked it */
    void (*pt_write)(void *ctx, uint32_t slot, unsigned idx, uint64_t old, uint64_t val);
    /* AGS_FLUSH_PAGE: INVLPG of the guest leaf of size 2^shift at va; ASID/ALL: va, shift 0 */
    void (*tlb_flush)(void *ctx, int kind, uint32_t asid, uint64_t va, unsigned shift);
    void (*cr3_write)(void *ctx, uint32_t pid);
    void (*guest_fault)(void *ctx, uint32_t pid, uint64_t va, uint32_t table_slot); /* table whose entry faulted */
    void (*host_backed)(void *ctx, uint64_t gpfn);      /* the host newly backed a host page */
} ags_guest_listener_t;

/* A guest page-table page. */
typedef struct {
    uint64_t gpfn;
    uint64_t hpa;           /* host-physical address of the page (its backing) */
    uint64_t *e;            /* its 512 entries, in host memory */
    uint32_t *child;        /* level > 1: slot of the table each present non-leaf entry points to */
    uint64_t va_base;       /* first guest-virtual address it covers */
    uint32_t parent;        /* slot of the parent table, AGS_NO_SLOT for a root */
    uint32_t pid;
    uint16_t pidx;          /* index of the entry in the parent that points here */
    uint8_t level;          /* 1 = holds 4 KiB leaves */
    uint8_t live;
    uint32_t npresent;      /* present entries */
} ags_gpt_t;

typedef struct {
    uint64_t start, end;
    uint32_t prot;
    uint32_t region;        /* the simulator's attribution bucket (0: not assigned yet) */
} ags_vma_t;

typedef struct {
    uint32_t pid, asid;
    uint32_t root;          /* slot of the root table (gCR3) */
    ags_vma_t *vma;
    size_t nvma, capvma;
    int implicit;           /* no address-space events seen: a touched page is demand-mapped */
    uint64_t brk_start, brk;
} ags_proc_t;

/* The VMA of p that holds va, or NULL. */
ags_vma_t *ags_guest_vma_at(ags_proc_t *p, uint64_t va);
/* The VMA holding va, or NULL and the unmapped gap [*gap_lo, *gap_hi) around va. */
ags_vma_t *ags_guest_vma_around(ags_proc_t *p, uint64_t va, uint64_t *gap_lo, uint64_t *gap_hi);

#define AGS_GMEMO_SIZE 64     /* 2 MiB regions in the oracle's memo of leaf tables (a power of two) */

/* The oracle's functional translation of one address. */
typedef struct {
    uint64_t gpa, hpa;
    uint64_t pte;               /* guest leaf entry */
    unsigned leaf_level;        /* guest leaf level; on a miss, the level of the non-present entry */
    unsigned page_shift;        /* TLB page: min(guest leaf, host page) */
    uint32_t slot[6];           /* table slot at each level (index = level) */
    unsigned idx[6];
    struct ags_gmemo *memo;     /* the leaf-table memo entry of va's region (NULL: none; see
                                 * ags_guest_t.memo), for ags_guest_touch */
} ags_gxlate_t;

typedef struct ags_guest ags_guest_t;

struct ags_guest {
    const ags_config_t *cfg;
    ags_mem_t *mem;
    ags_ept_t *ept;
    ags_guest_listener_t ls;
    unsigned levels, page_shift, va_bits;

    ags_gpt_t *pt;          /* by slot */
    size_t npt, cappt;
    uint32_t *free_slots;
    size_t nfree_slots, capfree_slots;

    /* guest-physical frames */
    uint64_t gnext;                 /* bump pointer (gPFN) */
    uint64_t *gfree[3];             /* free lists for order 0, 9, 18 */
    size_t ngfree[3], capgfree[3];
    uint32_t *ref;                  /* refcount per gPFN */
    size_t capref;
    uint64_t frames_in_use;

    ags_proc_t **procs;
    size_t nprocs, capprocs;
    ags_proc_t *cur;
    /* dynamic PCIDs: the pid holding each slot (0: none), the next slot to hand out */
    uint32_t pcid_owner[4096];
    unsigned next_pcid;

    /* the pending flush of the running operation (Linux's mmu_gather) */
    uint64_t flush_lo, flush_hi;
    unsigned flush_stride;
    int flush_pending, fullmm;
    const volatile sig_atomic_t *stop; /* set: a long range change, fork or exit returns AGS_E_INTR */

    ags_guest_stats_t st;
    int sticky;             /* AGS_E_NOMEM once bookkeeping could not grow (the driver stops) */

    /* The oracle's memo of leaf tables (ags_guest_xlate_memo): by 2 MiB region of va, direct
     * mapped, the slot of the table at every level down to the leaf table (level 1) for a root.
     * An entry is good while pt_gen has the value it was made with: pt_gen changes on every write
     * of an entry above level 1 and every table released, the only changes to which table a
     * walk reaches at level 1 (A/D updates and leaf writes leave it). */
    uint64_t pt_gen;
    struct ags_gmemo {
        uint64_t region, gen;
        uint32_t root, slot[6];
        uint32_t upper_a;   /* the A bit is set in the entry of every level above 1 on the way:
                             * set by ags_guest_touch, which then checks the leaf entry only
                             * (nothing clears an A bit above level 1 but a write, which changes
                             * pt_gen) */
    } memo[AGS_GMEMO_SIZE];
};

int ags_guest_init(ags_guest_t *g, const ags_config_t *cfg, ags_mem_t *mem, ags_ept_t *ept,
                   const ags_guest_listener_t *ls);
void ags_guest_fini(ags_guest_t *g);

ags_proc_t *ags_guest_proc(ags_guest_t *g, uint32_t pid);      /* NULL if none */
/* Make pid the running process (creating it, implicit, if unknown). */
int ags_guest_switch(ags_guest_t *g, uint32_t pid, ags_proc_t **out);

/* Oracle: 1 if mapped (fills x), 0 if the guest table has no mapping. */
int ags_guest_xlate(const ags_guest_t *g, const ags_proc_t *p, uint64_t va, ags_gxlate_t *x);
/* ags_guest_xlate, and the memo entry of va's region where the descent reached a leaf table */
int ags_guest_xlate_fill(ags_guest_t *g, const ags_proc_t *p, uint64_t va, ags_gxlate_t *x);
/* The same as ags_guest_xlate, from the memo of leaf tables where it holds va's region (the
 * driver's TLB misses): x as ags_guest_xlate fills it (x->slot above g->levels aside, which
 * nobody reads). */
static inline int ags_guest_xlate_memo(ags_guest_t *g, const ags_proc_t *p, uint64_t va, ags_gxlate_t *x)
{
    struct ags_gmemo *m = &g->memo[(va >> 21) & (AGS_GMEMO_SIZE - 1)];
    if (!(m->gen == g->pt_gen && m->region == va >> 21 && m->root == p->root))
        return ags_guest_xlate_fill(g, p, va, x);
    x->memo = m;
    memcpy(x->slot, m->slot, sizeof(x->slot));
    x->idx[1] = (unsigned)(va >> 12) & 511u;
    x->idx[2] = (unsigned)(va >> 21) & 511u;
    x->idx[3] = (unsigned)(va >> 30) & 511u;
    x->idx[4] = (unsigned)(va >> 39) & 511u;
    x->idx[5] = (unsigned)(va >> 48) & 511u;
    x->leaf_level = 1;
    uint64_t e = g->pt[x->slot[1]].e[x->idx[1]];
    if (!ags_x86_present(e))
        return 0;
    x->gpa = ags_pte_addr(e) | (va & (AGS_PAGE_SIZE - 1));
    x->hpa = ags_ept_gpa2hpa(g->ept, x->gpa);
    x->pte = e;
    x->page_shift = AGS_MIN(AGS_PAGE_SHIFT, g->ept->page_shift);
    return 1;
}
/* Handle a guest page fault (not present, or a store to a read-only page). */
int ags_guest_fault(ags_guest_t *g, ags_proc_t *p, uint64_t va, int is_write);
/* Hardware A/D update after a walk: returns a mask of levels whose entry changed (bit L). */
unsigned ags_guest_touch(ags_guest_t *g, const ags_gxlate_t *x, int is_write);

int ags_guest_mmap(ags_guest_t *g, ags_proc_t *p, uint64_t start, uint64_t len, uint32_t prot);
int ags_guest_munmap(ags_guest_t *g, ags_proc_t *p, uint64_t start, uint64_t len);
int ags_guest_mprotect(ags_guest_t *g, ags_proc_t *p, uint64_t start, uint64_t len, uint32_t prot);
int ags_guest_brk(ags_guest_t *g, ags_proc_t *p, uint64_t newbrk);
int ags_guest_mremap(ags_guest_t *g, ags_proc_t *p, uint64_t old, uint64_t oldlen, uint64_t nw,
                     uint64_t newlen);
int ags_guest_fork(ags_guest_t *g, ags_proc_t *parent, uint32_t child_pid);
int ags_guest_exec(ags_guest_t *g, ags_proc_t *p);
int ags_guest_exit(ags_guest_t *g, ags_proc_t *p);

/* Functional descent of a process's guest table (no cost), after KVM's for_each_shadow_entry:
 * visits the entry that maps va at each level from the root down to level `stop`, and stops
 * after a non-present or leaf entry. it.slot/level/idx/entry describe the current entry; the
 * body may write the entry (the next step reads the table again). */
typedef struct {
    uint32_t slot;
    unsigned level, idx;
    uint64_t entry;
} ags_gpt_iter_t;

static inline int ags_gpt_iter_load(ags_gpt_iter_t *it, const ags_guest_t *g, uint64_t va, unsigned stop)
{
    if (it->level < stop || it->slot == AGS_NO_SLOT)
        return 0;
    it->idx = (unsigned)(va >> (12u + 9u * (it->level - 1u))) & 511u;
    it->entry = g->pt[it->slot].e[it->idx];
    return 1;
}
static inline void ags_gpt_iter_next(ags_gpt_iter_t *it, const ags_guest_t *g)
{
    uint64_t e = g->pt[it->slot].e[it->idx];
    if (!(e & 1) || it->level == 1 || (e & (1ULL << 7)))  /* not present, or a leaf: done */
        it->slot = AGS_NO_SLOT;
    else
        it->slot = g->pt[it->slot].child[it->idx];
    it->level--;
}
#define ags_for_each_gpt_level(it, g, root, va, stop)                                    \
    for ((it).slot = (root), (it).level = (g)->levels; ags_gpt_iter_load(&(it), (g), (va), (stop)); \
         ags_gpt_iter_next(&(it), (g)))

static inline const ags_gpt_t *ags_guest_pt(const ags_guest_t *g, uint32_t slot) { return &g->pt[slot]; }
/* Slot of the table that entry idx of table `slot` points to (entry must be a present table entry). */
static inline uint32_t ags_guest_child(const ags_guest_t *g, uint32_t slot, unsigned idx) { return g->pt[slot].child[idx]; }

#endif
