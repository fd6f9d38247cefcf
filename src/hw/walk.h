/* The one page walker: native (1D over the guest table), nested (2D: guest table, every gPA
 * through the EPT), shadow (1D over the shadow table) and agile (shadow, switching to nested at a
 * shadow entry whose switching bit is set). It fills a per-level walk record that the TLB fill,
 * the reference counting, the cache model and the fault report all read. */
#ifndef AGS_WALK_H
#define AGS_WALK_H

#include <stdint.h>
#include "agilesim/config.h"
#include "hw/sa.h"
#include "mem/mem.h"
#include "pt/pt.h"
#include "mem/ept.h"

enum { AGS_DIM_SHADOW = 0, AGS_DIM_GUEST = 1, AGS_DIM_HOST = 2 };
enum { AGS_ROOT_SHADOW = 0, AGS_ROOT_GUEST = 1 };

/* Guest/shadow-dimension PWC entry. Tag: VA prefix << 12 | ASID. Value: the host-physical
 * address of the next table | the kind of that table (shadow or guest) | for agile, the shadow
 * level whose entry switched to nested (so a PWC hit reports the walk's switch level). */
#define AGS_PWCT_ASID      AGS_PCID_MASK
#define AGS_PWCT_PREFIX_SHIFT AGS_PCID_BITS
#define AGS_PWCE_GUEST     0x1ULL               /* the next table is a guest table (AGS_ROOT_GUEST) */
#define AGS_PWCE_SWL_SHIFT 1u
#define AGS_PWCE_SWL       (0x7ULL << AGS_PWCE_SWL_SHIFT)
#define AGS_PWCE_ADDR      (~0xfffULL)
_Static_assert((AGS_PWCE_GUEST & AGS_PWCE_SWL) == 0 && ((AGS_PWCE_GUEST | AGS_PWCE_SWL) & AGS_PWCE_ADDR) == 0,
               "PWC entry layout");
_Static_assert(AGS_ROOT_GUEST == AGS_PWCE_GUEST, "kind bit");

#define AGS_WALK_MAX 48     /* 5-level 2D: 5*5+5+5 = 35 */

typedef struct {
    uint64_t hpa;           /* where the entry was read */
    uint64_t val;
    uint8_t level, dim;
} ags_wstep_t;

typedef struct {
    unsigned n;             /* memory references (steps recorded) */
    unsigned ndim[3];       /* of them, by dimension (AGS_DIM_*) */
    unsigned pwc_hits, ntlb_hits, ntlb_misses;
    ags_wstep_t s[AGS_WALK_MAX];
    uint64_t hpa;           /* translation of va */
    uint64_t leaf_val, leaf_hpa;
    unsigned leaf_level, leaf_dim;
    unsigned fault_level;   /* 0: complete; else level of the non-present entry */
    unsigned fault_dim;
    uint64_t fault_table;   /* hPA of the table holding the non-present entry */
    unsigned switch_level;  /* agile: shadow level whose entry switched; levels+1 = root nested */
} ags_walk_t;

typedef struct {
    const ags_mem_t *mem;
    const ags_ept_t *ept;
    unsigned glevels, hlevels, hshift;
    int native;             /* guest-dimension pointers are physical: no host walk */
    int pwc_on, ntlb_on;
    ags_sa_t pwc_g[6];      /* guest/shadow dimension, by level of the cached entry */
    ags_sa_t pwc_h[6];      /* host dimension */
    ags_sa_t ntlb;
} ags_walker_t;

int ags_walker_init(ags_walker_t *w, const ags_config_t *cfg, const ags_mem_t *mem,
                    const ags_ept_t *ept, int native);
void ags_walker_fini(ags_walker_t *w);
/* Flush the guest/shadow-dimension walk caches (INVLPG, CR3 write, VMM table changes). */
void ags_walker_flush_guest(ags_walker_t *w);
void ags_walker_flush_asid(ags_walker_t *w, uint32_t asid);
/* Every walk cache of both dimensions and the nested TLB (INVEPT). */
void ags_walker_flush_all(ags_walker_t *w);

/* What a walk found (after KVM's RET_PF_*). */
typedef enum {
    AGS_WALK_DONE = 0,      /* complete: hpa, leaf_* set */
    AGS_WALK_FAULT = 1,     /* a non-present entry: fault_level, fault_dim, fault_table set */
    AGS_WALK_BROKEN = -1    /* an EPT hole under a guest table: a simulator bug */
} ags_walk_ret_t;

/* Walk va from root (an hPA for AGS_ROOT_SHADOW, a gPA for AGS_ROOT_GUEST). */
ags_walk_ret_t ags_walk(ags_walker_t *w, uint64_t va, uint32_t asid, uint64_t root, int root_kind, ags_walk_t *out);

#endif
