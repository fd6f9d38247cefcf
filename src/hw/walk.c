/* Model notes: the walker reads real entries from host memory and records one step per memory
 * reference. Paging-structure caches (PWC) exist per level and per dimension: for the guest or
 * shadow dimension they map a virtual-address prefix (tagged by ASID) to the host-physical
 * address of the next table and its kind (shadow or guest: Intel's "combined" entries), so a hit
 * at level L skips every reference above and including L. Host-dimension PWCs map a gPA prefix
 * to the next EPT table; the nested TLB maps a guest page to its host page and skips the host
 * walk entirely. The lowest-level hit is used (PDE cache first). Leaves are never cached here
 * (they go to the TLB). A/D updates are done by the caller, not charged as references. */
#include "hw/walk.h"
#include "pt/pt.h"

int ags_walker_init(ags_walker_t *w, const ags_config_t *cfg, const ags_mem_t *mem,
                    const ags_ept_t *ept, int native)
{
    memset(w, 0, sizeof(*w));
    w->mem = mem;
    w->ept = ept;
    w->glevels = cfg->guest_levels;
    w->hlevels = cfg->host_levels;
    w->hshift = cfg->host_page_shift;
    w->native = native;
    w->pwc_on = cfg->pwc_on;
    w->ntlb_on = cfg->ntlb_on && !native;
    for (unsigned l = 2; l <= 5; l++) {
        if (w->pwc_on && (ags_sa_init(&w->pwc_g[l], cfg->pwc) || ags_sa_init(&w->pwc_h[l], cfg->pwc)))
            return -1;
    }
    if (w->ntlb_on && ags_sa_init(&w->ntlb, cfg->ntlb))
        return -1;
    return 0;
}

void ags_walker_fini(ags_walker_t *w)
{
    for (unsigned l = 0; l < 6; l++) {
        ags_sa_fini(&w->pwc_g[l]);
        ags_sa_fini(&w->pwc_h[l]);
    }
    ags_sa_fini(&w->ntlb);
}

void ags_walker_flush_guest(ags_walker_t *w)
{
    for (unsigned l = 2; l <= 5; l++)
        ags_sa_flush(&w->pwc_g[l]);
}

void ags_walker_flush_all(ags_walker_t *w)
{
    for (unsigned l = 2; l <= 5; l++) {
        ags_sa_flush(&w->pwc_g[l]);
        ags_sa_flush(&w->pwc_h[l]);
    }
    ags_sa_flush(&w->ntlb);
}

void ags_walker_flush_asid(ags_walker_t *w, uint32_t asid)
{
    for (unsigned l = 2; l <= 5; l++)
        ags_sa_flush_match(&w->pwc_g[l], AGS_PWCT_ASID, asid);
}

static inline void step(ags_walk_t *o, uint64_t hpa, uint64_t val, unsigned level, unsigned dim)
{
    ags_wstep_t *s = &o->s[o->n++];
    s->hpa = hpa;
    s->val = val;
    s->level = (uint8_t)level;
    s->dim = (uint8_t)dim;
    o->ndim[dim]++;
}

/* gPA -> hPA through the nested TLB, host PWCs and the EPT. */
static ags_walk_ret_t host_xlate(ags_walker_t *w, uint64_t gpa, ags_walk_t *o, uint64_t *hpa)
{
    if (w->native) {
        *hpa = ags_ept_gpa2hpa(w->ept, gpa);
        return AGS_WALK_DONE;
    }
    uint64_t hmask = (1ULL << w->hshift) - 1, v;
    uint64_t key = gpa >> w->hshift;
    if (w->ntlb_on) {
        if (ags_sa_lookup(&w->ntlb, key, key, &v)) {
            o->ntlb_hits++;
            *hpa = v | (gpa & hmask);
            return AGS_WALK_DONE;
        }
        o->ntlb_misses++;
    }
    unsigned level = w->hlevels;
    uint64_t base = w->ept->root_hpa;
    if (w->pwc_on) {
        for (unsigned l = 2; l <= w->hlevels; l++) {
            uint64_t k = gpa >> ags_pt_shift(l);
            if (ags_sa_lookup(&w->pwc_h[l], k, k, &v)) {
                base = v;
                level = l - 1;
                o->pwc_hits++;
                break;
            }
        }
    }
    for (;;) {
        uint64_t ea = base + ((uint64_t)ags_pt_index(gpa, level) << 3);
        uint64_t e = ags_mem_table(w->mem, ea >> AGS_PAGE_SHIFT)[(ea >> 3) & 511];
        step(o, ea, e, level, AGS_DIM_HOST);
        if (!ags_ept_present(e))
            return AGS_WALK_BROKEN; /* guest memory is always backed before use */
        if (ags_ept_leaf(e, level)) {
            uint64_t m = (1ULL << ags_pt_shift(level)) - 1;
            *hpa = (ags_pte_addr(e) & ~m) | (gpa & m);
            break;
        }
        base = ags_pte_addr(e);
        if (w->pwc_on) {
            uint64_t k = gpa >> ags_pt_shift(level);
            ags_sa_insert(&w->pwc_h[level], k, k, base);
        }
        level--;
    }
    if (w->ntlb_on)
        ags_sa_insert(&w->ntlb, key, key, *hpa & ~hmask);
    return AGS_WALK_DONE;
}

ags_walk_ret_t ags_walk(ags_walker_t *w, uint64_t va, uint32_t asid, uint64_t root, int root_kind, ags_walk_t *o)
{
    o->n = 0;
    o->ndim[0] = o->ndim[1] = o->ndim[2] = 0;
    o->pwc_hits = o->ntlb_hits = o->ntlb_misses = 0;
    o->fault_level = 0;
    o->switch_level = root_kind == AGS_ROOT_GUEST ? w->glevels + 1 : 0;

    unsigned level = w->glevels;
    int kind = root_kind;       /* kind of the table being read: shadow or guest */
    uint64_t base = 0, v;
    int have_base = 0;
    if (w->pwc_on) {
        for (unsigned l = 2; l <= w->glevels; l++) {
            uint64_t k = va >> ags_pt_shift(l);
            if (ags_sa_lookup(&w->pwc_g[l], k, (k << AGS_PWCT_PREFIX_SHIFT) | asid, &v)) {
                base = v & AGS_PWCE_ADDR;
                kind = (int)(v & AGS_PWCE_GUEST);
                if (kind == AGS_ROOT_GUEST && root_kind == AGS_ROOT_SHADOW && !o->switch_level)
                    o->switch_level = (unsigned)((v & AGS_PWCE_SWL) >> AGS_PWCE_SWL_SHIFT);
                level = l - 1;
                have_base = 1;
                o->pwc_hits++;
                break;
            }
        }
    }
    if (!have_base) {
        if (kind == AGS_ROOT_GUEST) {
            if (host_xlate(w, root, o, &base))
                return AGS_WALK_BROKEN;
        } else {
            base = root;
        }
    }
    for (;;) {
        uint64_t ea = base + ((uint64_t)ags_pt_index(va, level) << 3);
        uint64_t e = ags_mem_table(w->mem, ea >> AGS_PAGE_SHIFT)[(ea >> 3) & 511];
        unsigned dim = kind == AGS_ROOT_GUEST ? AGS_DIM_GUEST : AGS_DIM_SHADOW;
        step(o, ea, e, level, dim);
        if (!ags_x86_present(e)) {
            o->fault_level = level;
            o->fault_dim = dim;
            o->fault_table = base;
            return AGS_WALK_FAULT;
        }
        if (ags_x86_leaf(e, level)) {
            uint64_t m = (1ULL << ags_pt_shift(level)) - 1;
            uint64_t a = (ags_pte_addr(e) & ~m) | (va & m);
            o->leaf_val = e;
            o->leaf_hpa = ea;
            o->leaf_level = level;
            o->leaf_dim = dim;
            if (kind == AGS_ROOT_GUEST) {
                if (w->native) { /* host_xlate's first case, without the call: native's every walk ends here */
                    o->hpa = ags_ept_gpa2hpa(w->ept, a);
                    return AGS_WALK_DONE;
                }
                return host_xlate(w, a, o, &o->hpa);
            }
            o->hpa = a;
            return AGS_WALK_DONE;
        }
        uint64_t next = ags_pte_addr(e);
        if (kind == AGS_ROOT_SHADOW) {
            if (ags_x86_switched(e)) {
                kind = AGS_ROOT_GUEST;  /* the pointer is the hPA of a guest table */
                o->switch_level = level;
            }
        } else if (host_xlate(w, next, o, &next)) {
            return AGS_WALK_BROKEN;
        }
        if (w->pwc_on) {
            uint64_t k = va >> ags_pt_shift(level);
            uint64_t sw = root_kind == AGS_ROOT_SHADOW && kind == AGS_ROOT_GUEST ? o->switch_level : 0;
            ags_sa_insert(&w->pwc_g[level], k, (k << AGS_PWCT_PREFIX_SHIFT) | asid,
                          next | (uint64_t)kind | (sw << AGS_PWCE_SWL_SHIFT));
        }
        base = next;
        level--;
    }
}
