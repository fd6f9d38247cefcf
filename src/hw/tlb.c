/* Model notes: TLB entries are tagged with the ASID/PCID (12 bits) and hold the hPA of a page of
 * the size the inserting machines can cache: min(guest leaf, host page) for the virtualized
 * modes, the guest leaf for native (which has its own TLB when that differs). Exact LRU. An L2
 * hit refills L1. A 2 MiB/1 GiB array is probed only once such a page has been inserted. Each
 * entry carries a valid bit per machine (VMM-caused flushes clear one machine's bits);
 * recency and replacement stay shared. INVLPG of a guest leaf invalidates every entry of it
 * (SDM 4.10.4.1). No global pages. */
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

/* Invalidate the entries of size index sz (in array c) whose page lies in [lo, hi) of asid. */
static void invalidate_range(ags_sa_t *c, unsigned sz, uint32_t asid, uint64_t lo, uint64_t hi)
{
    unsigned sh = 12u + 9u * sz;
    uint64_t n = (hi - lo) >> sh;
    if (n <= 16) { /* a few pages: look each up */
        for (uint64_t a = lo; a < hi; a += 1ULL << sh)
            ags_sa_invalidate(c, a >> sh, ags_tlb_tag(a, sz, asid));
        return;
    }
    for (size_t set = 0; set <= c->set_mask && c->ways; set++) /* many: scan the array once */
        for (uint32_t w = 0; w < c->ways; w++) {
            uint64_t tag = c->tag[set * c->ways + w];
            if (tag == AGS_SA_INVALID || (tag & AGS_TLBT_ASID) != asid ||
                ((tag & AGS_TLBT_SIZE) >> AGS_TLBT_SIZE_SHIFT) != sz)
                continue;
            uint64_t a = (tag >> AGS_TLBT_VPN_SHIFT) << sh;
            if (a >= lo && a < hi) {
                ags_sa_invalidate(c, a >> sh, tag);
                w--; /* the set closed the gap */
            }
        }
}

void ags_tlb_invlpg(ags_tlb_t *t, uint64_t va, uint32_t asid, unsigned shift)
{
    uint64_t lo = va & ~((1ULL << shift) - 1), hi = lo + (1ULL << shift);
    for (unsigned s = 0; s < 3; s++) {
        unsigned sh = 12u + 9u * s;
        uint64_t a = sh >= shift ? va & ~((1ULL << sh) - 1) : lo;
        uint64_t b = sh >= shift ? a + (1ULL << sh) : hi;
        if (s && !((t->huge_seen >> s) & 1))
            continue;
        invalidate_range(&t->l1[0][s], s, asid, a, b);
        invalidate_range(&t->l1[1][s], s, asid, a, b);
        invalidate_range(s == 2 ? &t->l2_1g : &t->l2, s, asid, a, b);
    }
}

static void clear_bits(ags_sa_t *c, uint64_t bits)
{
    size_t n = c->ways ? (size_t)(c->set_mask + 1) * c->ways : 0;
    for (size_t i = 0; i < n; i++)
        c->val[i] &= ~bits;
}

void ags_tlb_clear_bits(ags_tlb_t *t, uint64_t bits)
{
    for (int i = 0; i < 2; i++)
        for (int s = 0; s < 3; s++)
            clear_bits(&t->l1[i][s], bits);
    clear_bits(&t->l2, bits);
    clear_bits(&t->l2_1g, bits);
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
