/* Model notes: TLB entries are tagged with the ASID/PCID (12 bits) and hold the hPA of a page of
 * the *effective* size min(guest leaf, host page), which is what every mode can cache; so the
 * shared TLB gives native the same reach as the virtualized modes when guest pages are larger
 * than host pages (a documented simplification). Exact LRU. An L2 hit refills L1. A 2 MiB/1 GiB
 * array is probed only once such a page has been inserted. No global pages. */
#include "hw/tlb.h"

int ags_tlb_init(ags_tlb_t *t, const ags_config_t *cfg)
{
    memset(t, 0, sizeof(*t));
    t->on = cfg->tlb_on;
    if (!t->on)
        return 0;
    ags_geom_t g[2][3] = { { cfg->l1d_4k, cfg->l1d_2m, cfg->l1d_1g },
                           { cfg->l1i_4k, cfg->l1i_2m, { 0, 0 } } };
    for (int i = 0; i < 2; i++)
        for (int s = 0; s < 3; s++)
            if (ags_sa_init(&t->l1[i][s], g[i][s]))
                return -1;
    if (ags_sa_init(&t->l2, cfg->l2_tlb) || ags_sa_init(&t->l2_1g, cfg->l2_tlb_1g))
        return -1;
    return 0;
}

void ags_tlb_fini(ags_tlb_t *t)
{
    for (int i = 0; i < 2; i++)
        for (int s = 0; s < 3; s++)
            ags_sa_fini(&t->l1[i][s]);
    ags_sa_fini(&t->l2);
    ags_sa_fini(&t->l2_1g);
}

void ags_tlb_insert(ags_tlb_t *t, uint64_t va, uint32_t asid, int ifetch, unsigned shift, uint64_t val)
{
    if (!t->on)
        return;
    unsigned s = ags_tlb_size_index(shift);
    uint64_t k = va >> shift, tag = ags_tlb_tag(va, s, asid);
    t->huge_seen |= 1u << s;
    ags_sa_insert(s == 2 ? &t->l2_1g : &t->l2, k, tag, val);
    ags_sa_insert(&t->l1[ifetch][s], k, tag, val);
}

void ags_tlb_update(ags_tlb_t *t, uint64_t va, uint32_t asid, unsigned shift, uint64_t val)
{
    unsigned s = ags_tlb_size_index(shift);
    uint64_t k = va >> shift, tag = ags_tlb_tag(va, s, asid);
    ags_sa_update(&t->l1[0][s], k, tag, val);
    ags_sa_update(&t->l1[1][s], k, tag, val);
    ags_sa_update(s == 2 ? &t->l2_1g : &t->l2, k, tag, val);
}

void ags_tlb_invlpg(ags_tlb_t *t, uint64_t va, uint32_t asid)
{
    for (unsigned s = 0; s < 3; s++) {
        uint64_t k = va >> (12 + 9 * s), tag = ags_tlb_tag(va, s, asid);
        ags_sa_invalidate(&t->l1[0][s], k, tag);
        ags_sa_invalidate(&t->l1[1][s], k, tag);
        ags_sa_invalidate(s == 2 ? &t->l2_1g : &t->l2, k, tag);
    }
}

void ags_tlb_flush_asid(ags_tlb_t *t, uint32_t asid)
{
    for (int i = 0; i < 2; i++)
        for (int s = 0; s < 3; s++)
            ags_sa_flush_match(&t->l1[i][s], AGS_TLBT_ASID, asid);
    ags_sa_flush_match(&t->l2, AGS_TLBT_ASID, asid);
    ags_sa_flush_match(&t->l2_1g, AGS_TLBT_ASID, asid);
}

void ags_tlb_flush_all(ags_tlb_t *t)
{
    for (int i = 0; i < 2; i++)
        for (int s = 0; s < 3; s++)
            ags_sa_flush(&t->l1[i][s]);
    ags_sa_flush(&t->l2);
    ags_sa_flush(&t->l2_1g);
}
