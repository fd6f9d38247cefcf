/* Private to the guest OS model: frames (frames.c) and VMAs (vma.c), used by guest.c. */
#ifndef AGS_GUEST_INTERNAL_H
#define AGS_GUEST_INTERNAL_H

#include "guest/guest.h"

static inline unsigned ags_g_order_of_level(unsigned level) { return 9u * (level - 1u); }
#define AGS_GFN_BASE 256 /* guest frames start at 1 MiB */

static inline unsigned ags_g_order_index(unsigned order) { return order / 9u; }

/* frames.c: guest-physical frames with reference counts; order-0/9/18 free lists. */
int ags_g_ref_ensure(ags_guest_t *g, uint64_t gpfn_end);
int ags_g_push_u64(uint64_t **arr, size_t *n, size_t *cap, uint64_t v);
uint64_t ags_g_frame_alloc(ags_guest_t *g, unsigned order);     /* gPFN, or 0 */
void ags_g_frame_put(ags_guest_t *g, uint64_t f, unsigned order);
void ags_g_frame_get(ags_guest_t *g, uint64_t f, unsigned order);

/* vma.c: a process's VMAs, sorted, non-overlapping. */
ags_vma_t *ags_g_vma_find(ags_proc_t *p, uint64_t va);
int ags_g_vma_remove(ags_proc_t *p, uint64_t s, uint64_t e);
int ags_g_vma_overlaps(const ags_proc_t *p, uint64_t s, uint64_t e);
int ags_g_vma_insert(ags_proc_t *p, uint64_t s, uint64_t e, uint32_t prot);

#endif
