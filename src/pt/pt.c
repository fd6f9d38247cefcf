/* Model notes: table iteration and functional lookup over real page-table pages. Only the
 * present/leaf/address fields are interpreted; memory types and caching attributes are kept in
 * the entries but have no effect in the model. */
#include "pt/pt.h"

static void foreach_rec(const ags_mem_t *m, uint64_t hpa, unsigned level, int ept, uint64_t va,
                        ags_pt_leaf_fn fn, void *ctx)
{
    const uint64_t *t = ags_mem_pt(m, hpa >> AGS_PAGE_SHIFT);
    if (!t)
        return;
    for (unsigned i = 0; i < AGS_PT_ENTRIES; i++) {
        uint64_t e = t[i];
        uint64_t a = va | ((uint64_t)i << ags_pt_shift(level));
        int present = ept ? ags_ept_present(e) : ags_x86_present(e);
        if (!present)
            continue;
        int leaf = ept ? ags_ept_leaf(e, level) : ags_x86_leaf(e, level);
        if (leaf)
            fn(ctx, a, level, e);
        else if (ept || !ags_x86_switched(e))
            foreach_rec(m, ags_pte_addr(e), level - 1, ept, a, fn, ctx);
    }
}

void ags_pt_foreach_leaf(const ags_mem_t *m, uint64_t root_hpa, unsigned levels, int ept,
                         ags_pt_leaf_fn fn, void *ctx)
{
    foreach_rec(m, root_hpa, levels, ept, 0, fn, ctx);
}

int ags_pt_lookup(const ags_mem_t *m, uint64_t root_hpa, unsigned levels, int ept, uint64_t va,
                  uint64_t *pa, unsigned *leaf_level)
{
    uint64_t base = root_hpa;
    for (unsigned level = levels; level >= 1; level--) {
        const uint64_t *t = ags_mem_pt(m, base >> AGS_PAGE_SHIFT);
        if (!t)
            return 0;
        uint64_t e = t[ags_pt_index(va, level)];
        int present = ept ? ags_ept_present(e) : ags_x86_present(e);
        if (!present)
            return 0;
        if (ept ? ags_ept_leaf(e, level) : ags_x86_leaf(e, level)) {
            uint64_t mask = (1ULL << ags_pt_shift(level)) - 1;
            *pa = (ags_pte_addr(e) & ~mask) | (va & mask);
            *leaf_level = level;
            return 1;
        }
        base = ags_pte_addr(e);
    }
    return 0;
}
