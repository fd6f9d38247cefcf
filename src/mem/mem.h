/* Host physical memory: the page-table page store and the frame allocators. */
#ifndef AGS_MEM_H
#define AGS_MEM_H

#include <stddef.h>
#include <stdint.h>

#define AGS_PAGE_SHIFT 12
#define AGS_PAGE_SIZE (1ULL << AGS_PAGE_SHIFT)
#define AGS_PT_ENTRIES 512

/* Host-physical frame regions. Each owner allocates from its own region so that the frames
 * that back guest memory (and so every hPA the oracle sees) do not depend on which modes run. */
#define AGS_REGION_GUEST_BACKING 0  /* frames backing guest-physical memory */
#define AGS_REGION_EPT 1            /* host (EPT) page-table pages */
#define AGS_REGION_MACHINE0 2       /* + machine index: that machine's private VMM pages */
#define AGS_REGION_COUNT 8
#define AGS_REGION_SPAN_SHIFT 28    /* 2^28 frames = 1 TiB per region */

#define AGS_MEM_CHUNK_SHIFT 18      /* metadata: present/tag[hpfn >> 18][hpfn & (2^18-1)] */
#define AGS_MEM_TOP_ENTRIES (1u << (32 - AGS_MEM_CHUNK_SHIFT))

typedef struct {
    uint64_t base, next, limit;     /* frames [base, limit) */
    uint64_t *free0;                /* freed single frames (LIFO: deterministic reuse) */
    size_t nfree0, capfree0;
    uint64_t allocated, peak;
} ags_region_t;

/* What ags_mem_init reserves: frames per region (0: the region is not used). The frame layout
 * (region r spans hPFNs [r << AGS_REGION_SPAN_SHIFT, (r + 1) << ...)) never depends on it, so
 * every hPA, and so every result, is the same whatever was reserved. */
typedef struct {
    uint64_t frames[AGS_REGION_COUNT];
} ags_mem_plan_t;

/* Why the reservation is smaller than planned (ags_mem_t.cut). */
#define AGS_MEM_CUT_NONE 0
#define AGS_MEM_CUT_RLIMIT_AS 1     /* ulimit -v */
#define AGS_MEM_CUT_COMMIT 2        /* vm.overcommit_memory=2: the commit limit */
#define AGS_MEM_CUT_MMAP 3          /* mmap refused the planned size */

typedef struct {
    uint8_t *arena;         /* one sparse MAP_NORESERVE reservation holding each region's slice;
                             * only page-table pages are ever touched */
    size_t arena_len;
    uintptr_t slice[AGS_REGION_COUNT];  /* frame f of region r has its storage at slice[r] + f * 4 KiB
                                         * (modular arithmetic: the slice starts at the region's base) */
    uint8_t *present[AGS_MEM_TOP_ENTRIES];  /* per frame: 1 holds a page table, 2 held one (its
                                             * storage stays resident), 0 never (chunks, or NULL) */
    uint32_t *tag[AGS_MEM_TOP_ENTRIES];     /* owner-defined tag per frame (e.g. shadow-page id) */
    ags_region_t region[AGS_REGION_COUNT];
    uint64_t pt_pages;                      /* frames holding a page table now */
    uint64_t resident_pages;                /* frames whose storage was ever touched */
    int err;                                /* sticky: AGS_E_NOMEM once a free list could not grow */
    int full_region;                        /* the region that ran out of frames, or -1 */
    int cut;                                /* AGS_MEM_CUT_*: why the reservation is below the plan */
    uint64_t cut_limit;                     /* the limit that cut it (bytes), if known */
} ags_mem_t;

/* Reserve the planned frames; when the address-space limit (RLIMIT_AS), the commit limit
 * (vm.overcommit_memory=2) or mmap refuses, every region is halved until the reservation fits in
 * half of what is left (down to 64 MiB of guest memory). AGS_E_NOMEM if even that fails. */
int ags_mem_init(ags_mem_t *m, const ags_mem_plan_t *plan);
void ags_mem_fini(ags_mem_t *m);

/* Allocate 2^order contiguous, aligned frames from a region; returns the first hPFN or 0 (the
 * region's reservation is exhausted: full_region says which). */
uint64_t ags_mem_alloc(ags_mem_t *m, unsigned region, unsigned order);
void ags_mem_free(ags_mem_t *m, unsigned region, uint64_t hpfn);   /* order 0 only; may set m->err */

/* Give a frame page-table storage (512 zeroed entries). Returns the entry array or NULL. */
uint64_t *ags_mem_pt_attach(ags_mem_t *m, uint64_t hpfn, uint32_t tag);
void ags_mem_pt_detach(ags_mem_t *m, uint64_t hpfn);

/* Entry array of a page-table frame, or NULL if the frame holds no page table. */
static inline uint64_t *ags_mem_storage(const ags_mem_t *m, uint64_t hpfn)
{
    return (uint64_t *)(m->slice[(hpfn >> AGS_REGION_SPAN_SHIFT) & (AGS_REGION_COUNT - 1)] + (hpfn << AGS_PAGE_SHIFT));
}
static inline uint64_t *ags_mem_pt(const ags_mem_t *m, uint64_t hpfn)
{
    const uint8_t *c = m->present[(hpfn >> AGS_MEM_CHUNK_SHIFT) & (AGS_MEM_TOP_ENTRIES - 1)];
    return c && (c[hpfn & ((1u << AGS_MEM_CHUNK_SHIFT) - 1)] & 1) ? ags_mem_storage(m, hpfn) : NULL;
}
static inline uint32_t ags_mem_tag(const ags_mem_t *m, uint64_t hpfn)
{
    uint32_t *t = m->tag[(hpfn >> AGS_MEM_CHUNK_SHIFT) & (AGS_MEM_TOP_ENTRIES - 1)];
    return t ? t[hpfn & ((1u << AGS_MEM_CHUNK_SHIFT) - 1)] : 0;
}

/* The entries of page-table frame hpfn, by arithmetic (the hot path: one load per entry read).
 * The frame must hold a page table (ags_mem_pt says whether it does). */
static inline const uint64_t *ags_mem_table(const ags_mem_t *m, uint64_t hpfn)
{
    return ags_mem_storage(m, hpfn);
}

/* Read the 8-byte entry at host-physical address hpa (which must lie in a page table). */
static inline uint64_t ags_mem_read(const ags_mem_t *m, uint64_t hpa)
{
    return ags_mem_table(m, hpa >> AGS_PAGE_SHIFT)[(hpa >> 3) & (AGS_PT_ENTRIES - 1)];
}

static inline uint64_t *ags_mem_entry(const ags_mem_t *m, uint64_t hpa)
{
    return &ags_mem_pt(m, hpa >> AGS_PAGE_SHIFT)[(hpa >> 3) & (AGS_PT_ENTRIES - 1)];
}

#endif
