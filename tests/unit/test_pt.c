/* PTE formats: exhaustive predicate checks over every combination of the flag bits, and the
 * radix index arithmetic. */
#include "check.h"
#include "pt/pt.h"

int main(void)
{
    /* every combination of P, RW, US, A, D, PS, SW (7 bits) at every level 1..5 */
    const uint64_t bits[7] = { AGS_X86_P, AGS_X86_RW, AGS_X86_US, AGS_X86_A, AGS_X86_D, AGS_X86_PS, AGS_X86_SW };
    for (unsigned combo = 0; combo < 128; combo++) {
        uint64_t e = 0x0000123456789000ULL;
        for (int b = 0; b < 7; b++)
            if (combo & (1u << b))
                e |= bits[b];
        for (unsigned level = 1; level <= 5; level++) {
            CHECK_EQ(ags_x86_present(e), (combo & 1) != 0);
            CHECK_EQ(ags_x86_writable(e), (combo & 2) != 0);
            CHECK_EQ(ags_x86_switched(e), (combo & 64) != 0);
            CHECK_EQ(ags_x86_leaf(e, level), level == 1 || (combo & 32) != 0);
            CHECK_EQ(ags_pte_addr(e), 0x0000123456789000ULL); /* flags never leak into the address */
        }
    }
    /* the NX bit and bits above 51 are not address bits */
    CHECK_EQ(ags_pte_addr(0x8000123456789fffULL), 0x0000123456789000ULL);
    /* EPT: readable/writable/executable in any combination means present */
    for (unsigned rwx = 0; rwx < 8; rwx++) {
        for (unsigned ps = 0; ps < 2; ps++) {
            uint64_t e = 0x000000abcdef0000ULL | rwx | (ps ? AGS_EPT_PS : 0) | AGS_EPT_A | AGS_EPT_D;
            CHECK_EQ(ags_ept_present(e), rwx != 0);
            CHECK_EQ(ags_ept_leaf(e, 2), ps);
            CHECK_EQ(ags_ept_leaf(e, 1), 1);
            CHECK_EQ(ags_pte_addr(e), 0x000000abcdef0000ULL);
        }
    }
    /* constructors */
    CHECK_EQ(ags_x86_page(0x200000, 2, 1), 0x200000 | AGS_X86_P | AGS_X86_US | AGS_X86_RW | AGS_X86_PS);
    CHECK_EQ(ags_x86_page(0x5000, 1, 0), 0x5000 | AGS_X86_P | AGS_X86_US);
    CHECK_EQ(ags_ept_page(0x40000000, 3), 0x40000000 | 7 | (6 << 3) | AGS_EPT_PS);
    CHECK(!ags_x86_switched(ags_x86_table(0x1000)));
    /* index arithmetic: 0x00007f12_3456_7000 = PML4 254, PDPT 72, PD 418, PT 359 */
    uint64_t va = 0x00007f1234567000ULL;
    CHECK_EQ(ags_pt_index(va, 4), (va >> 39) & 511);
    CHECK_EQ(ags_pt_index(va, 4), 254);
    CHECK_EQ(ags_pt_index(va, 3), 72);
    CHECK_EQ(ags_pt_index(va, 2), 418);
    CHECK_EQ(ags_pt_index(va, 1), 359);
    CHECK_EQ(ags_pt_index(0x01fe000000000000ULL, 5), 510); /* bits 56:48 = 0x1fe */
    CHECK_EQ(ags_pt_shift(1), 12);
    CHECK_EQ(ags_pt_shift(5), 48);
    CHECK_EQ(ags_pt_leaf_level(12), 1);
    CHECK_EQ(ags_pt_leaf_level(21), 2);
    CHECK_EQ(ags_pt_leaf_level(30), 3);
    TEST_END();
}
