/* Page-table entry formats (x86-64 IA-32e for guest and shadow tables, Intel EPT for host
 * tables) as named masks with one-line predicates, and radix-index helpers. */
#ifndef AGS_PT_H
#define AGS_PT_H

#include <stdint.h>
#include "mem/mem.h"

/* ---- x86-64 (IA-32e) paging-structure entry ---- */
#define AGS_X86_P    (1ULL << 0)    /* present */
#define AGS_X86_RW   (1ULL << 1)    /* writable */
#define AGS_X86_US   (1ULL << 2)    /* user */
#define AGS_X86_PWT  (1ULL << 3)
#define AGS_X86_PCD  (1ULL << 4)
#define AGS_X86_A    (1ULL << 5)    /* accessed */
#define AGS_X86_D    (1ULL << 6)    /* dirty (leaf only) */
#define AGS_X86_PS   (1ULL << 7)    /* page size: leaf at level 2 (2 MiB) or 3 (1 GiB) */
#define AGS_X86_G    (1ULL << 8)    /* global */
#define AGS_X86_PROTNONE AGS_X86_G  /* software, P clear: a PROT_NONE mapping (Linux _PAGE_PROTNONE) */
#define AGS_X86_SW   (1ULL << 11)   /* agile switching bit (bit 11: ignored by hardware, available) */
#define AGS_X86_NX   (1ULL << 63)
#define AGS_PT_ADDR  0x000ffffffffff000ULL  /* bits 51:12 */

/* ---- Intel EPT entry ---- */
#define AGS_EPT_R    (1ULL << 0)
#define AGS_EPT_W    (1ULL << 1)
#define AGS_EPT_X    (1ULL << 2)
#define AGS_EPT_MT_WB (6ULL << 3)   /* memory type write-back (leaves) */
#define AGS_EPT_IPAT (1ULL << 6)
#define AGS_EPT_PS   (1ULL << 7)    /* leaf at level 2 or 3 */
#define AGS_EPT_A    (1ULL << 8)
#define AGS_EPT_D    (1ULL << 9)
#define AGS_EPT_RWX  (AGS_EPT_R | AGS_EPT_W | AGS_EPT_X)

_Static_assert(AGS_X86_SW != AGS_X86_PS && (AGS_X86_SW & AGS_PT_ADDR) == 0,
               "switching bit must be a software-available bit outside the address");
_Static_assert((AGS_X86_P | AGS_X86_RW | AGS_X86_US | AGS_X86_A | AGS_X86_D | AGS_X86_PS |
                AGS_X86_SW) == 0x8e7ULL, "x86 flag layout");
_Static_assert((AGS_EPT_RWX | AGS_EPT_MT_WB | AGS_EPT_IPAT | AGS_EPT_PS | AGS_EPT_A | AGS_EPT_D) ==
                   0x3f7ULL, "EPT flag layout (memory type WB = 110b in bits 5:3)");
_Static_assert(AGS_X86_PS == AGS_EPT_PS, "PS is bit 7 in both formats");

/* PCID: 12 bits (SDM 4.10.1); the guest's ASIDs and every ASID tag below use this width. */
#define AGS_PCID_BITS 12u
#define AGS_PCID_MASK ((1ULL << AGS_PCID_BITS) - 1)

static inline int ags_x86_present(uint64_t e) { return (e & AGS_X86_P) != 0; }
static inline int ags_x86_writable(uint64_t e) { return (e & AGS_X86_RW) != 0; }
static inline int ags_x86_leaf(uint64_t e, unsigned level) { return level == 1 || (e & AGS_X86_PS); }
static inline int ags_x86_switched(uint64_t e) { return (e & AGS_X86_SW) != 0; }
static inline uint64_t ags_pte_addr(uint64_t e) { return e & AGS_PT_ADDR; }

static inline int ags_ept_present(uint64_t e) { return (e & AGS_EPT_RWX) != 0; }
static inline int ags_ept_leaf(uint64_t e, unsigned level) { return level == 1 || (e & AGS_EPT_PS); }

/* ---- radix geometry: level 1 holds 4 KiB leaves; level L covers 2^(12+9L) bytes ---- */
static inline unsigned ags_pt_shift(unsigned level) { return 12u + 9u * (level - 1u); }
static inline unsigned ags_pt_index(uint64_t addr, unsigned level)
{
    return (unsigned)(addr >> ags_pt_shift(level)) & (AGS_PT_ENTRIES - 1);
}
/* Level at which a page of the given shift is a leaf: 12 -> 1, 21 -> 2, 30 -> 3. */
static inline unsigned ags_pt_leaf_level(unsigned page_shift) { return (page_shift - 12u) / 9u + 1u; }

/* Entry constructors. */
static inline uint64_t ags_x86_table(uint64_t pa) { return pa | AGS_X86_P | AGS_X86_RW | AGS_X86_US; }
static inline uint64_t ags_x86_page(uint64_t pa, unsigned level, int writable)
{
    return pa | AGS_X86_P | AGS_X86_US | (writable ? AGS_X86_RW : 0) | (level > 1 ? AGS_X86_PS : 0);
}
static inline uint64_t ags_ept_table(uint64_t pa) { return pa | AGS_EPT_RWX; }
static inline uint64_t ags_ept_page(uint64_t pa, unsigned level)
{
    return pa | AGS_EPT_RWX | AGS_EPT_MT_WB | (level > 1 ? AGS_EPT_PS : 0);
}

#endif
