/* The shared TLB hierarchy (gVA -> hPA): L1 I and D per page size, a unified L2 for 4 KiB and
 * 2 MiB pages and an L2 for 1 GiB pages. Shared by every mode: hits and misses are identical. */
#ifndef AGS_TLB_H
#define AGS_TLB_H

#include <stdint.h>
#include "hw/sa.h"
#include "pt/pt.h"

/* TLB entry value: the host-physical page base | flags in the low bits (the base is 4 KiB
 * aligned). The TLB is shared by the machines (one per mode); a VMM can flush it for its own
 * machine only, so every entry carries a bit per machine saying for which machines it is valid
 * (a shared hit lacking a machine's bit is a miss for that machine alone). */
#define AGS_TLBE_W    0x1ULL                    /* writable */
#define AGS_TLBE_D    0x2ULL                    /* dirty (a store needs no assist) */
#define AGS_TLBE_VM_SHIFT 4u                    /* bits 7:4: valid for machine 0..3 */
#define AGS_TLBE_VM   (0xfULL << AGS_TLBE_VM_SHIFT)
#define AGS_TLBE_EPTD 0x100ULL                  /* agile, host pages > 4 KiB: a store through this entry
                                                 * already set the EPT D bit of its host page */
#define AGS_TLBE_BASE (~0xfffULL)               /* host-physical page base */
_Static_assert(((AGS_TLBE_W | AGS_TLBE_D | AGS_TLBE_VM | AGS_TLBE_EPTD) & AGS_TLBE_BASE) == 0 &&
                   (AGS_TLBE_W & AGS_TLBE_D) == 0 && ((AGS_TLBE_W | AGS_TLBE_D) & AGS_TLBE_VM) == 0 &&
                   (AGS_TLBE_VM & AGS_TLBE_EPTD) == 0,
               "TLB value layout");
static inline uint64_t ags_tlbe_machine(unsigned i) { return 1ULL << (AGS_TLBE_VM_SHIFT + i); }

/* TLB tag: virtual page number (of its size) | size index | ASID. */
#define AGS_TLBT_ASID      AGS_PCID_MASK        /* bits 11:0 */
#define AGS_TLBT_SIZE_SHIFT 12u                 /* bits 13:12: 0 = 4K, 1 = 2M, 2 = 1G */
#define AGS_TLBT_SIZE      (3ULL << AGS_TLBT_SIZE_SHIFT)
#define AGS_TLBT_VPN_SHIFT 14u
_Static_assert((AGS_TLBT_ASID & AGS_TLBT_SIZE) == 0 && ((AGS_TLBT_ASID | AGS_TLBT_SIZE) >> AGS_TLBT_VPN_SHIFT) == 0,
               "TLB tag layout");

typedef struct {
    ags_sa_t l1[2][3];      /* [0 = data, 1 = instruction][size: 0 = 4K, 1 = 2M, 2 = 1G] */
    ags_sa_t l2, l2_1g;
    int on;
    unsigned huge_seen;     /* bit 1: a 2M entry was inserted; bit 2: a 1G entry */
    uint64_t l2_hits;
} ags_tlb_t;

int ags_tlb_init(ags_tlb_t *t, const ags_config_t *cfg);
void ags_tlb_fini(ags_tlb_t *t);

static inline unsigned ags_tlb_size_index(unsigned shift) { return (shift - 12u) / 9u; }
static inline uint64_t ags_tlb_tag(uint64_t va, unsigned s, uint32_t asid)
{
    return ((va >> (12u + 9u * s)) << AGS_TLBT_VPN_SHIFT) | ((uint64_t)s << AGS_TLBT_SIZE_SHIFT) | asid;
}

/* Lookup; on a hit returns 1 with *val (hPA page base | W | D) and *shift. */
static inline __attribute__((always_inline)) int ags_tlb_lookup(ags_tlb_t *t, uint64_t va, uint32_t asid, int ifetch,
                                 uint64_t *val, unsigned *shift)
{
    ags_sa_t *l1 = t->l1[ifetch];
    uint64_t k = va >> 12;
    if (ags_sa_lookup(&l1[0], k, ags_tlb_tag(va, 0, asid), val)) {
        *shift = 12;
        return 1;
    }
    for (unsigned s = 1; s < 3; s++) {
        if ((t->huge_seen >> s) & 1) {
            k = va >> (12 + 9 * s);
            if (ags_sa_lookup(&l1[s], k, ags_tlb_tag(va, s, asid), val)) {
                *shift = 12 + 9 * s;
                return 1;
            }
        }
    }
    for (unsigned s = 0; s < 3; s++) {
        if (s && !((t->huge_seen >> s) & 1))
            continue;
        ags_sa_t *l2 = s == 2 ? &t->l2_1g : &t->l2;
        k = va >> (12 + 9 * s);
        if (ags_sa_lookup(l2, k, ags_tlb_tag(va, s, asid), val)) {
            ags_sa_insert(&l1[s], k, ags_tlb_tag(va, s, asid), *val);
            *shift = 12 + 9 * s;
            t->l2_hits++;
            return 1;
        }
    }
    return 0;
}

void ags_tlb_insert(ags_tlb_t *t, uint64_t va, uint32_t asid, int ifetch, unsigned shift, uint64_t val);
/* Update the value of the entry for va (after a dirty assist), in every array that holds it. */
void ags_tlb_update(ags_tlb_t *t, uint64_t va, uint32_t asid, unsigned shift, uint64_t val);
/* Invalidate every entry of asid that overlaps [va, va + 2^shift) (INVLPG of a guest leaf of
 * that size, SDM 4.10.4.1: all entries of the page, whatever size they were cached at). */
void ags_tlb_invlpg(ags_tlb_t *t, uint64_t va, uint32_t asid, unsigned shift);
/* A flush by one machine's VMM: clear `bits` (its valid bit, and EPTD) in every entry. */
void ags_tlb_clear_bits(ags_tlb_t *t, uint64_t bits);
void ags_tlb_flush_asid(ags_tlb_t *t, uint32_t asid);
void ags_tlb_flush_all(ags_tlb_t *t);

#endif
