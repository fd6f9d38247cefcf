/* Model notes: the driver. One event stream, one guest, one shared TLB hierarchy, one machine
 * per selected mode. Every access costs one shared TLB lookup; only misses (and first stores
 * to a clean TLB entry) fan out to the machines. The guest OS's functional translation (gPT
 * then EPT, no caches, no cost) is the oracle: with --check every machine's walk must produce
 * the same hPA. An access that spans two pages is translated twice (as the hardware does); it
 * counts as one access. A guest page fault is detected by the oracle before the machines walk (the
 * faulting walk itself is not charged in any mode); the guest handles it, broadcasting its
 * effects, and the access then misses in every machine.
 * Time is guest instructions (the events' icount). cycles(mode) = instructions x CPI + walk
 * cycles + VMM cycles + guest-kernel cycles. With caches on, walk references take the latency
 * of the level they hit (PWC/nTLB hits 1 cycle); data references go through the same caches
 * (to compete with page-table entries) but their latency is part of the base CPI. */
#include "sim/sim_internal.h"
#include "pt/pt.h"
#include "util.h"
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

void ags_sim_set_err(ags_sim_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof(s->err), fmt, ap);
    va_end(ap);
}

/* The sticky errors of the modules (the deferred_err pattern): an allocation that failed where
 * the failure could not be returned. Checked after every fan-out (never on the TLB-hit path);
 * the first one stops the run. */
static __attribute__((noinline)) int sticky_slow(ags_sim_t *s)
{
    if (s->deferred_err)
        return s->deferred_err;
    const char *what = NULL;
    if (s->guest.sticky)
        what = "guest OS bookkeeping";
    else if (s->mem->err)
        what = "host frame free lists";
    for (unsigned i = 0; !what && s->vmm_failed && i < s->nm; i++)
        if (s->m[i]->has_vmm && s->m[i]->vmm.err) {
            ags_sim_set_err(s, "%s: VMM: %s", ags_mode_name(s->m[i]->mode), s->m[i]->vmm.errmsg);
            return s->deferred_err = s->m[i]->vmm.err;
        }
    if (!what)
        return AGS_OK;
    ags_sim_set_err(s, "out of memory: %s", what);
    return s->deferred_err = AGS_E_NOMEM;
}
/* one test of four flags where nothing failed (every fan-out) */
static inline int sticky(ags_sim_t *s)
{
    if (AGS_LIKELY(!s->deferred_err && !s->guest.sticky && !s->mem->err && !s->vmm_failed))
        return AGS_OK;
    return sticky_slow(s);
}

/* ------------------------------------------------------------------ guest listener */

static void on_pt_page_alloc(void *ctx, uint32_t slot)
{
    ags_sim_t *s = ctx;
    for (unsigned i = 0; i < s->nm; i++)
        if (s->m[i]->has_vmm && ags_vmm_pt_page_alloc(&s->m[i]->vmm, slot))
            s->deferred_err = AGS_E_NOMEM;
}

static void on_pt_page_free(void *ctx, uint32_t slot)
{
    ags_sim_t *s = ctx;
    for (unsigned i = 0; i < s->nm; i++)
        if (s->m[i]->has_vmm)
            ags_vmm_pt_page_free(&s->m[i]->vmm, slot);
}

static void on_pt_write(void *ctx, uint32_t slot, unsigned idx, uint64_t old, uint64_t val)
{
    ags_sim_t *s = ctx;
    for (unsigned i = 0; i < s->nm; i++)
        if (s->m[i]->has_vmm)
            ags_vmm_pt_write(&s->m[i]->vmm, slot, idx, old, val);
}

static void tlb_guest_flush(ags_tlb_t *t, int kind, uint32_t asid, uint64_t va, unsigned shift)
{
    if (kind == AGS_FLUSH_PAGE)
        ags_tlb_invlpg(t, va, asid, shift);
    else if (kind == AGS_FLUSH_ASID || kind == AGS_FLUSH_CR3)
        ags_tlb_flush_asid(t, asid);
    else
        ags_tlb_flush_all(t);
}

static void on_tlb_flush(void *ctx, int kind, uint32_t asid, uint64_t va, unsigned shift)
{
    ags_sim_t *s = ctx;
    tlb_guest_flush(&s->tlb, kind, asid, va, shift);
    if (s->native_own)
        tlb_guest_flush(&s->native_own->own_tlb, kind, asid, va, shift);
    for (unsigned i = 0; i < s->nm; i++) {
        ags_machine_t *m = s->m[i];
        /* INVLPG invalidates every paging-structure-cache entry of the current PCID (SDM 4.10.4.1) */
        if (kind == AGS_FLUSH_ALL)
            ags_walker_flush_guest(&m->walker);
        else
            ags_walker_flush_asid(&m->walker, asid);
        if (m->has_vmm && kind != AGS_FLUSH_CR3) /* a CR3 write's own flush: its exit is the CR3 write's */
            ags_vmm_tlb_flush(&m->vmm, kind, va);
    }
}

static void on_cr3_write(void *ctx, uint32_t pid)
{
    ags_sim_t *s = ctx;
    (void)pid;
    for (unsigned i = 0; i < s->nm; i++)
        if (s->m[i]->has_vmm && ags_vmm_cr3_write(&s->m[i]->vmm, s->guest.cur))
            s->deferred_err = AGS_E_NOMEM;
}

static void on_guest_fault(void *ctx, uint32_t pid, uint64_t va, uint32_t table_slot)
{
    ags_sim_t *s = ctx;
    (void)pid;
    (void)va;
    for (unsigned i = 0; i < s->nm; i++)
        if (s->m[i]->has_vmm)
            ags_vmm_guest_fault(&s->m[i]->vmm, table_slot);
}

static void on_host_backed(void *ctx, uint64_t gpfn)
{
    ags_sim_t *s = ctx;
    (void)gpfn;
    if (!s->cfg.host_backing_lazy)
        return;
    for (unsigned i = 0; i < s->nm; i++) {
        ags_machine_t *m = s->m[i];
        if (m->mode == AGS_MODE_NATIVE)
            continue;
        uint64_t c = (uint64_t)s->cfg.cost_exit + s->cfg.cost_ept_violation;
        m->st.exits.total++;
        m->st.exits.ept_violation++;
        m->st.vmm.ept_violation += c;
        m->rg_pend[0]++;
        m->rg_pend[1] += c;
        s->vmm_charges++;
    }
}

/* ------------------------------------------------------------------ accesses */

/* The TLB value of the oracle's translation x (page of 2^shift), valid for every sharing machine:
 * the host-physical page, or, for a page larger than the host's (native's guest leaf: native has
 * no EPT), the guest-physical page, whose host page per reference the EPT's map gives (leaf_hpa). */
static uint64_t tlb_value(const ags_sim_t *s, const ags_gxlate_t *x, unsigned shift, int is_store, uint64_t bits)
{
    uint64_t pte = x->pte | (is_store ? AGS_X86_D : 0);
    uint64_t pa = shift > s->ept.page_shift ? x->gpa : x->hpa;
    return (pa & ~((1ULL << shift) - 1)) | (ags_x86_writable(pte) ? AGS_TLBE_W : 0) |
           ((pte & AGS_X86_D) ? AGS_TLBE_D : 0) | bits;
}

/* The host-physical address of va through a TLB entry of 2^shift bytes with value val: a guest
 * leaf larger than a host page (native) is not contiguous in host memory, and its data references
 * reach the host page the EPT maps, as in every other mode (the data line is the same in all). */
static uint64_t leaf_hpa(const ags_sim_t *s, uint64_t val, uint64_t va, unsigned shift)
{
    uint64_t mask = (1ULL << shift) - 1, pa = (val & AGS_TLBE_BASE & ~mask) | (va & mask);
    return shift > s->ept.page_shift ? ags_ept_gpa2hpa(&s->ept, pa) : pa;
}

/* Hardware A/D updates after a walk, told to the VMMs (agile tracks dirty pages). */
static void touch(ags_sim_t *s, const ags_gxlate_t *x, int is_store)
{
    unsigned changed = ags_guest_touch(&s->guest, x, is_store);
    if (changed || (is_store && s->ept.page_shift > AGS_PAGE_SHIFT))
        for (unsigned i = 0; i < s->nm; i++)
            if (s->m[i]->has_vmm)
                ags_vmm_touch(&s->m[i]->vmm, x, changed, is_store);
}

/* The guest's translation of va for an access, handling a guest page fault first. */
static int guest_translate(ags_sim_t *s, ags_proc_t *p, uint64_t va, int is_store, ags_gxlate_t *x)
{
    int mapped = ags_guest_xlate_memo(&s->guest, p, va, x);
    if (mapped && !(is_store && !ags_x86_writable(x->pte)))
        return AGS_OK;
    for (unsigned i = 0; i < s->nm; i++)
        ags_machine_fault_walk(s, s->m[i], p, va);
    int rc = ags_guest_fault(&s->guest, p, va, is_store);
    if (rc) {
        ags_sim_set_err(s, "guest could not handle a fault at 0x%llx: %s", (unsigned long long)va, ags_strerror(rc));
        return rc;
    }
    if (sticky(s))
        return s->deferred_err;
    AGS_BUG_ON(!ags_guest_xlate_memo(&s->guest, p, va, x) || (is_store && !ags_x86_writable(x->pte)), s->err,
               "guest fault at 0x%llx left it unmapped", (unsigned long long)va);
    return AGS_OK;
}

/* A miss in the shared TLB: every sharing machine walks. */
static int slow_access(ags_sim_t *s, uint64_t va, int ifetch, int is_store, uint64_t *hpa)
{
    ags_proc_t *p = s->guest.cur;
    ags_gxlate_t x;
    int rc = guest_translate(s, p, va, is_store, &x);
    if (rc)
        return rc;
    s->tlb_misses++;
    if (ifetch)
        s->itlb_misses++;
    for (unsigned i = 0; i < s->nm; i++) {
        if (s->m[i] == s->native_own)
            continue;
        rc = ags_machine_miss(s, s->m[i], p, va, is_store, &x, 1);
        if (rc)
            return rc;
    }
    touch(s, &x, is_store);
    *hpa = x.hpa;
    unsigned shift = s->shared_leaf_reach ? ags_pt_shift(x.leaf_level) : x.page_shift;
    ags_tlb_insert(&s->tlb, va, p->asid, ifetch, shift,
                   tlb_value(s, &x, shift, is_store, s->all_bits | (is_store ? s->eptd_bits : 0)));
    return sticky(s);
}

/* A shared-TLB hit that some machine cannot use as it is: an entry its VMM flushed (a miss for
 * that machine alone: it walks and is charged), a store to a read-only entry (a fault), to a
 * clean entry (the dirty-bit assist: hardware sets D, or a shadow machine's read-only leaf exits),
 * or, agile with large host pages, the first store since an INVEPT (sets the EPT D bit). */
static __attribute__((noinline)) int slow_hit(ags_sim_t *s, uint64_t va, int ifetch, int is_store, uint64_t val,
                                              unsigned shift, uint64_t *hpa)
{
    ags_proc_t *p = s->guest.cur;
    if (is_store && !(val & AGS_TLBE_W)) {
        ags_tlb_invlpg(&s->tlb, va, p->asid, AGS_PAGE_SHIFT); /* faults; the retry misses */
        return slow_access(s, va, ifetch, is_store, hpa);
    }
    ags_gxlate_t x;
    AGS_BUG_ON(!ags_guest_xlate_memo(&s->guest, p, va, &x), s->err, "TLB holds 0x%llx but the guest does not map it",
               (unsigned long long)va);
    uint64_t missing = s->all_bits & ~val;
    for (unsigned i = 0; i < s->nm && missing; i++) {
        ags_machine_t *m = s->m[i];
        if (!(missing & m->bit))
            continue;
        m->flush_misses++;
        m->flush_imisses += ifetch != 0;
        int rc = ags_machine_miss(s, m, p, va, is_store, &x, 0);
        if (rc)
            return rc;
    }
    if (is_store && !(val & AGS_TLBE_D)) {
        s->dirty_assists++;
        for (unsigned i = 0; i < s->nm; i++) {
            ags_machine_t *m = s->m[i];
            if (m == s->native_own || (missing & m->bit))
                continue; /* native's own TLB is handled by native_translate; walkers handled the store */
            m->st.dirty_assists++;
            int rc = m->has_vmm ? ags_vmm_dirty_fault(&m->vmm, p, va, &x) : AGS_DIRTY_HW;
            if (rc < 0) {
                ags_sim_set_err(s, "%s: VMM could not emulate the dirty bit at 0x%llx: %s", ags_mode_name(m->mode),
                                (unsigned long long)va, ags_strerror(rc));
                return rc;
            }
        }
        touch(s, &x, 1);
    } else if (is_store && (s->eptd_bits & ~val)) {
        for (unsigned i = 0; i < s->nm; i++)
            if (s->m[i]->mode == AGS_MODE_AGILE)
                ags_vmm_touch(&s->m[i]->vmm, &x, 0, 1); /* the EPT D bit of the data's host page */
    }
    ags_tlb_update(&s->tlb, va, p->asid, shift, val | missing | (is_store ? AGS_TLBE_D | s->eptd_bits : 0));
    return sticky(s);
}

/* ------------------------------------------------------------------ attribution by region */

static unsigned region_add(ags_sim_t *s, uint32_t pid, uint64_t lo, uint64_t hi, uint32_t prot, int range)
{
    for (unsigned k = 2; k < s->nrg; k++)
        if (s->rg[k].pid == pid && s->rg[k].start == lo && s->rg[k].is_range == range) {
            if (hi > s->rg[k].end)
                s->rg[k].end = hi;
            return k;
        }
    if (s->nrg == AGS_MAX_REGIONS)
        return 1; /* the other regions */
    ags_region_stats_t *r = &s->rg[s->nrg];
    memset(r, 0, sizeof(*r));
    r->pid = pid, r->start = lo, r->end = hi, r->prot = prot, r->is_range = range;
    return s->nrg++;
}

/* The region of an access at va (the cache for its kind missed). */
static __attribute__((noinline)) unsigned region_of(ags_sim_t *s, uint64_t va, int ifetch)
{
    ags_proc_t *p = s->guest.cur;
    uint64_t lo, hi, gap_lo, gap_hi;
    ags_vma_t *v = ags_guest_vma_around(p, va, &gap_lo, &gap_hi);
    unsigned r;
    if (v) {
        lo = v->start, hi = v->end;
        if (!v->region)
            v->region = region_add(s, p->pid, lo, hi, v->prot, 0);
        r = v->region;
        if (r >= 2 && hi > s->rg[r].end)
            s->rg[r].end = hi;
    } else {
        lo = va & ~((1ULL << 30) - 1), hi = lo + (1ULL << 30);
        r = region_add(s, p->pid, lo, hi, 0, 1);
        /* the cache entry covers only the unmapped part of the GiB: a VMA inside it is its own
         * region, whatever the cache held before */
        lo = AGS_MAX(lo, gap_lo), hi = AGS_MIN(hi, gap_hi);
    }
    struct ags_rgc *c = s->rgc[ifetch];
    memmove(c + 1, c, (AGS_RGC_WAYS - 1) * sizeof(*c));
    c[0] = (struct ags_rgc){ p->pid, r, lo, hi };
    return r;
}

static inline int rgc_holds(const struct ags_rgc *c, uint32_t pid, uint64_t va)
{
    return c->pid == pid && va - c->lo < c->hi - c->lo;
}

/* The region of an access whose kind's most recent region does not hold it. */
static __attribute__((noinline)) unsigned region_lookup(ags_sim_t *s, uint64_t va, uint32_t pid, int ifetch)
{
    struct ags_rgc *c = s->rgc[ifetch];
    for (unsigned i = 1; i < AGS_RGC_WAYS; i++)
        if (rgc_holds(&c[i], pid, va)) {
            struct ags_rgc hit = c[i];
            memmove(c + 1, c, i * sizeof(*c));
            c[0] = hit;
            return hit.rg;
        }
    return region_of(s, va, ifetch);
}

/* The region of an access to a page the memo does not hold (for this process and generation):
 * from the region cache, else looked up; then memoized for the page. */
static inline __attribute__((always_inline)) unsigned region_page(ags_sim_t *s, uint64_t va, uint32_t pid, int ifetch,
                                                                     uint64_t pg)
{
    unsigned r = s->rgc[ifetch][0].rg;
    if (AGS_UNLIKELY(!rgc_holds(&s->rgc[ifetch][0], pid, va)))
        r = region_lookup(s, va, pid, ifetch);
    s->rgp[(va >> AGS_PAGE_SHIFT) & (AGS_RGP_SIZE - 1)] = (struct ags_rgp){ va >> AGS_PAGE_SHIFT, pg, r };
    return r;
}

/* VM exits and VMM cycles of a slow path go to the access's region: what the machines charged
 * between rg_begin and rg_end (those charged elsewhere, in events, go to no region). Every charge
 * bumps vmm_charges, so that a slow path that charged nothing (the common one) costs a compare. */
static __attribute__((noinline)) void rg_clear(ags_sim_t *s)
{
    for (unsigned i = 0; i < s->nm; i++)
        s->m[i]->rg_pend[0] = s->m[i]->rg_pend[1] = 0;
    s->rg_charges = s->vmm_charges;
}
static inline void rg_begin(ags_sim_t *s)
{
    if (AGS_UNLIKELY(s->vmm_charges != s->rg_charges))
        rg_clear(s);
}
static __attribute__((noinline)) void rg_attribute(ags_sim_t *s)
{
    for (unsigned i = 0; i < s->nm; i++) {
        ags_machine_t *m = s->m[i];
        m->rg[s->cur_rg].vm_exits += m->rg_pend[0];
        m->rg[s->cur_rg].vmm_cycles += m->rg_pend[1];
        m->rg_pend[0] = m->rg_pend[1] = 0;
    }
    s->rg_charges = s->vmm_charges;
}
static inline void rg_end(ags_sim_t *s)
{
    if (AGS_UNLIKELY(s->vmm_charges != s->rg_charges))
        rg_attribute(s);
}

/* --check: a TLB hit must give the oracle's translation (a stale entry would not). */
static __attribute__((noinline)) int check_hit(ags_sim_t *s, uint64_t va, uint64_t val, unsigned shift)
{
    ags_gxlate_t x;
    int mapped = ags_guest_xlate_memo(&s->guest, s->guest.cur, va, &x);
    uint64_t mask = ~((1ULL << shift) - 1);
    if (!mapped || (x.hpa & mask) != (val & AGS_TLBE_BASE & mask)) {
        ags_sim_set_err(s, "TLB hit for 0x%llx gives hPA page 0x%llx, the guest maps %s 0x%llx (a stale entry)",
                        (unsigned long long)va, (unsigned long long)(val & AGS_TLBE_BASE & mask),
                        mapped ? "it to" : "nothing at", (unsigned long long)((mapped ? x.hpa : va) & mask));
        return AGS_E_MISMATCH;
    }
    return AGS_OK;
}

/* Native with its own TLB (guest pages larger than host pages: it caches the guest leaf size,
 * the virtualized modes min(guest, host)). Runs after the shared path, which handled any fault. */
static __attribute__((noinline)) int native_translate(ags_sim_t *s, uint64_t va, int ifetch, int is_store)
{
    ags_machine_t *m = s->native_own;
    ags_proc_t *p = s->guest.cur;
    uint64_t val;
    unsigned shift;
    if (m->own_tlb.on && ags_tlb_lookup(&m->own_tlb, va, p->asid, ifetch, &val, &shift)) {
        if (is_store && !(val & AGS_TLBE_D)) {
            m->st.dirty_assists++;
            ags_tlb_update(&m->own_tlb, va, p->asid, shift, val | AGS_TLBE_D);
        }
        return AGS_OK;
    }
    ags_gxlate_t x;
    AGS_BUG_ON(!ags_guest_xlate_memo(&s->guest, p, va, &x), s->err, "native: 0x%llx is not mapped after the shared path",
               (unsigned long long)va);
    m->own_misses++;
    m->own_itlb_misses += ifetch != 0;
    int rc = ags_machine_miss(s, m, p, va, is_store, &x, 1);
    if (rc)
        return rc;
    shift = ags_pt_shift(x.leaf_level);
    ags_tlb_insert(&m->own_tlb, va, p->asid, ifetch, shift, tlb_value(s, &x, shift, is_store, m->bit));
    return AGS_OK;
}

/* One translation: the shared TLB lookup, and on a miss (or an entry some machine cannot use
 * as it is) the fan-out to the machines; then the data reference in every machine's caches.
 * `check` is a constant: with --check, every hit is verified against the oracle. */
static inline __attribute__((always_inline)) int translate(ags_sim_t *s, uint64_t va, int ifetch, int is_store,
                                                           int check)
{
    uint64_t val = 0, hpa;
    unsigned shift = AGS_PAGE_SHIFT;
    int rc;
    if (AGS_LIKELY(s->tlb.on) && ags_tlb_lookup(&s->tlb, va, s->guest.cur->asid, ifetch, &val, &shift)) {
        uint64_t need = s->all_bits | (is_store ? s->store_bits : 0);
        if (check && !s->shared_leaf_reach && (rc = check_hit(s, va, val, shift)))
            return rc;
        hpa = UINT64_MAX; /* from val, below, unless the slow path gives it */
        if (AGS_UNLIKELY((val & need) != need)) {
            rg_begin(s);
            rc = slow_hit(s, va, ifetch, is_store, val, shift, &hpa);
            rg_end(s);
            if (rc)
                return rc;
        }
    } else {
        rg_begin(s);
        rc = slow_access(s, va, ifetch, is_store, &hpa);
        rg_end(s);
        if (rc)
            return rc;
    }
    if (AGS_UNLIKELY(s->native_own != NULL) && (rc = native_translate(s, va, ifetch, is_store)))
        return rc;
    if (s->cfg.caches_on) {
        if (hpa == UINT64_MAX) /* a 4 KiB page with constants: the common case */
            hpa = shift == AGS_PAGE_SHIFT ? (val & AGS_TLBE_BASE & ~(AGS_PAGE_SIZE - 1)) | (va & (AGS_PAGE_SIZE - 1))
                                          : leaf_hpa(s, val, va, shift);
        uint64_t line = hpa >> s->cfg.line_shift, *all = &s->l1_mru_all[line & s->l1_set_mask];
        if (*all != line) { /* else an L1 hit at the MRU way in every machine: nothing changes */
            for (unsigned i = 0; i < s->nm; i++)
                ags_machine_cache_push(s, s->m[i], line << 1);
            *all = line;
        }
    }
    return AGS_OK;
}

/* the second page of a page-crossing access: rare, kept out of the hot loop */
static __attribute__((noinline)) int translate_next_page(ags_sim_t *s, uint64_t va, unsigned size, int ifetch,
                                                         int is_store, int check)
{
    /* va is the trace's address (not yet masked): the next page must be canonical too (an
     * access at 0x7ffffffffff8 of 16 bytes runs into the non-canonical hole) */
    uint64_t next = (va | (AGS_PAGE_SIZE - 1)) + 1;
    if (!ags_canonical(next, s->va_bits)) {
        ags_sim_set_err(s, "access at 0x%llx (%u bytes) runs off the address space", (unsigned long long)va, size);
        return AGS_E_NONCANON;
    }
    s->page_crossings++;
    return translate(s, next & s->va_mask, ifetch, is_store, check);
}

static inline __attribute__((always_inline)) int do_access(ags_sim_t *s, const ags_event_t *ev, int check)
{
    uint64_t va = ev->addr;
    if (AGS_UNLIKELY(!ags_canonical(va, s->va_bits))) {
        ags_sim_set_err(s, "non-canonical address 0x%llx", (unsigned long long)va);
        return AGS_E_NONCANON;
    }
    va &= s->va_mask;
    if (AGS_UNLIKELY(s->cur_pid != ev->pid)) { /* another process, or the first access after an event */
        if (!s->guest.cur || s->guest.cur->pid != ev->pid) {
            ags_proc_t *p;
            int rc = ags_guest_switch(&s->guest, ev->pid, &p);
            if (rc || sticky(s))
                return rc ? rc : s->deferred_err;
        }
        s->cur_pid = ev->pid;
        s->cur_pg = (uint64_t)s->rg_gen << 32 | ev->pid;
    }
    s->accesses++;
    int ifetch = ev->kind == AGS_ACC_IFETCH;
    int is_store = ev->kind >= AGS_ACC_STORE;
    const struct ags_rgp *rp = &s->rgp[(va >> AGS_PAGE_SHIFT) & (AGS_RGP_SIZE - 1)];
    uint64_t pg = s->cur_pg;
    unsigned r = rp->rg;
    if (AGS_UNLIKELY(rp->vpn != va >> AGS_PAGE_SHIFT || rp->pg != pg))
        r = region_page(s, va, ev->pid, ifetch, pg);
    s->cur_rg = r;
    s->rg[r].accesses++;
    int rc = translate(s, va, ifetch, is_store, check);
    /* an access that crosses into the next page needs that page's translation too */
    if (AGS_UNLIKELY((va & (AGS_PAGE_SIZE - 1)) + ev->size > AGS_PAGE_SIZE) && !rc)
        rc = translate_next_page(s, ev->addr, ev->size, ifetch, is_store, check);
    return rc;
}

/* ------------------------------------------------------------------ other events */

static int do_event(ags_sim_t *s, const ags_event_t *ev)
{
    ags_proc_t *p;
    int rc;
    s->cur_pid = UINT64_MAX; /* the next access looks again: this event may switch or end the process */
    if (ev->type >= AGS_EV_TYPE_COUNT) {
        ags_sim_set_err(s, "unknown event type %u", ev->type);
        return AGS_E_FORMAT;
    }
    if ((ev->type == AGS_EV_EXIT || ev->type == AGS_EV_EXEC) && !ags_guest_proc(&s->guest, ev->pid))
        return AGS_OK; /* a process that never ran here (e.g. its exit was already seen): nothing to do */
    rc = ags_guest_switch(&s->guest, ev->pid, &p); /* syscalls run in their process's context */
    if (rc)
        return rc;
    memset(s->rgc, 0, sizeof(s->rgc)); /* VMAs may change: look again */
    if (!++s->rg_gen) { /* a new generation of the page memo; at the wrap, a clean one */
        memset(s->rgp, 0, sizeof(s->rgp));
        s->rg_gen = 1;
    }
    s->cur_rg = 0;
    uint64_t a = ev->addr & s->va_mask, a2 = ev->arg & s->va_mask;
    if ((ev->type == AGS_EV_MMAP || ev->type == AGS_EV_MUNMAP || ev->type == AGS_EV_MPROTECT ||
         ev->type == AGS_EV_MREMAP) && !ags_canonical(ev->addr, s->va_bits)) {
        ags_sim_set_err(s, "%s: non-canonical address 0x%llx", ags_event_type_name(ev->type),
                (unsigned long long)ev->addr);
        return AGS_E_NONCANON;
    }
    switch (ev->type) {
    case AGS_EV_MMAP: rc = ags_guest_mmap(&s->guest, p, a, ev->len, (uint32_t)ev->arg); break;
    case AGS_EV_MUNMAP: rc = ags_guest_munmap(&s->guest, p, a, ev->len); break;
    case AGS_EV_MPROTECT: rc = ags_guest_mprotect(&s->guest, p, a, ev->len, (uint32_t)ev->arg); break;
    case AGS_EV_BRK: rc = ags_guest_brk(&s->guest, p, a); break;
    case AGS_EV_MREMAP: rc = ags_guest_mremap(&s->guest, p, a, ev->len, a2, ev->arg2); break;
    case AGS_EV_FORK: rc = ags_guest_fork(&s->guest, p, (uint32_t)ev->arg); break;
    case AGS_EV_EXEC: rc = ags_guest_exec(&s->guest, p); break;
    case AGS_EV_EXIT: rc = ags_guest_exit(&s->guest, p); break;
    case AGS_EV_SWITCH: rc = AGS_OK; break;
    default: rc = AGS_E_FORMAT; break;
    }
    if (rc) {
        if (rc == AGS_E_INVAL)
            ags_sim_set_err(s, "%s: address 0x%llx is not page-aligned", ags_event_type_name(ev->type),
                    (unsigned long long)ev->addr);
        else if (rc == AGS_E_NONCANON)
            ags_sim_set_err(s, "%s: range 0x%llx+0x%llx leaves the address space", ags_event_type_name(ev->type),
                    (unsigned long long)ev->addr, (unsigned long long)ev->len);
        else if (rc == AGS_E_BADPID)
            ags_sim_set_err(s, "fork: child pid %llu already exists", (unsigned long long)ev->arg);
        else
            ags_sim_set_err(s, "%s failed: %s", ags_event_type_name(ev->type), ags_strerror(rc));
        return rc;
    }
    return sticky(s);
}

/* The next multiple of `step` after `now`, counted from `from` (arithmetic: one event may
 * retire billions of instructions). */
static uint64_t next_tick(uint64_t from, uint64_t now, uint64_t step)
{
    return from > now ? from : from + ((now - from) / step + 1) * step;
}

/* Timers, on the instruction clock: the agile dirty scans (with --check, the VMM audit after
 * each), and the interval rows. */
static int timer(ags_sim_t *s)
{
    if (s->instructions >= s->next_scan) {
        for (unsigned k = 0; k < s->nm; k++) {
            ags_machine_t *m = s->m[k];
            if (m->mode == AGS_MODE_AGILE)
                ags_vmm_scan(&m->vmm);
            if (s->cfg.check && m->has_vmm && ags_vmm_audit(&m->vmm, s->err, sizeof(s->err)))
                return AGS_E_INTERNAL;
        }
        s->next_scan = next_tick(s->next_scan, s->instructions, s->cfg.agile_interval);
    }
    if (s->cfg.interval && s->instructions >= s->next_interval) {
        ags_sim_record_interval(s);
        s->next_interval = next_tick(s->next_interval, s->instructions, s->cfg.interval);
    }
    return sticky(s);
}

/* Where the next milestone lies: the warm-up's end, or the counted run's limit. */
static void plan_milestones(ags_sim_t *s)
{
    const ags_config_t *c = &s->cfg;
    s->acc_at = s->instr_at = UINT64_MAX;
    if (s->warming) {
        if (c->warmup)
            s->acc_at = c->warmup;
        if (c->warmup_instructions)
            s->instr_at = c->warmup_instructions;
    } else {
        if (c->max_accesses)
            s->acc_at = c->max_accesses; /* accesses count from 0 again after the warm-up */
        if (c->max_instructions)
            s->instr_at = s->instr_base + c->max_instructions;
    }
    s->next_timer = AGS_MIN(s->next_scan, s->instr_at);
    if (s->cfg.interval)
        s->next_timer = AGS_MIN(s->next_timer, s->next_interval);
}

/* An access or instruction milestone or a timer is due. */
static __attribute__((noinline)) int milestone(ags_sim_t *s)
{
    int rc = AGS_OK;
    uint64_t next = s->cfg.interval ? AGS_MIN(s->next_scan, s->next_interval) : s->next_scan;
    if (s->instructions >= next && (rc = timer(s)))
        return rc;
    int due = s->accesses >= s->acc_at || s->instructions >= s->instr_at;
    if (due && s->warming) {
        ags_sim_reset_stats(s);
        s->warming = 0;
    } else if (due) {
        rc = AGS_SIM_DONE;
    }
    plan_milestones(s);
    return rc;
}

/* The message when a region of the simulated host memory ran out: which, how big, and why. */
static void explain_full(ags_sim_t *s)
{
    const ags_mem_t *mem = s->mem;
    int r = mem->full_region;
    const ags_region_t *rg = &mem->region[r];
    char what[64];
    if (r == AGS_REGION_GUEST_BACKING)
        snprintf(what, sizeof(what), "the guest's physical memory");
    else if (r == AGS_REGION_EPT)
        snprintf(what, sizeof(what), "the EPT tables' memory");
    else
        snprintf(what, sizeof(what), "%s's shadow page-table memory",
                 (unsigned)(r - AGS_REGION_MACHINE0) < s->nm ? ags_mode_name(s->m[r - AGS_REGION_MACHINE0]->mode) : "a VMM");
    char size[32], lim[32];
    ags_fmt_bytes(size, sizeof(size), (rg->limit - rg->base) << AGS_PAGE_SHIFT);
    ags_fmt_bytes(lim, sizeof(lim), mem->cut_limit);
    if (mem->cut == AGS_MEM_CUT_RLIMIT_AS)
        ags_sim_set_err(s, "%s (%s) is exhausted: RLIMIT_AS (ulimit -v %s) left room for no more; raise ulimit -v",
                        what, size, lim);
    else if (mem->cut == AGS_MEM_CUT_COMMIT)
        ags_sim_set_err(s, "%s (%s) is exhausted: vm.overcommit_memory=2 (CommitLimit %s) left room for no more; "
                           "use overcommit mode 0 or 1", what, size, lim);
    else if (mem->cut == AGS_MEM_CUT_MMAP)
        ags_sim_set_err(s, "%s (%s) is exhausted: mmap refused a larger reservation", what, size);
    else if (r == AGS_REGION_GUEST_BACKING)
        ags_sim_set_err(s, "%s (%s, --guest-memory) is exhausted (no swapping is modelled); raise --guest-memory",
                        what, size);
    else
        ags_sim_set_err(s, "%s (%s, sized from --guest-memory) is exhausted; raise --guest-memory", what, size);
}

/* Data references to lines that were not the last ones queued in their L1 sets in every
 * machine, in order: queued in each machine (translate's caches part, for run_fast, which has
 * already set l1_mru_all). */
static __attribute__((noinline)) void push_data(ags_sim_t *s, const uint64_t *line, size_t n)
{
    for (size_t j = 0; j < n; j++)
        for (unsigned i = 0; i < s->nm; i++)
            ags_machine_cache_push(s, s->m[i], line[j] << 1);
}

/* The lookup in an L1 TLB array of an entry not at its set's MRU way (run_fast). */
static __attribute__((noinline)) int l1_lookup(ags_sa_t *a, uint64_t key, uint64_t tag, uint64_t *val)
{
    return ags_sa_lookup(a, key, tag, val);
}

/* The common access, with the run's state in registers: an access of the current process (the
 * one whose memo key is cur_pg) that stays within one page, whose page's region the memo (or the
 * first entry of the region cache for its kind) gives, whose 4 KiB entry the L1 TLB holds with
 * every bit the access needs, and after which no milestone is due. For such an access
 * do_access, translate and run_events change only what this loop changes (the counters, the
 * memo entry, the L1 TLB set's order, the data line queued in every machine with caches on),
 * in the same order. At the first event that is not one, the loop stops; what it changed for
 * that event (a memo entry, an L1 entry moved to its MRU way) is what do_access would change
 * first, and finds done, so the event then goes through do_access with the same effects. Not
 * with --check (every hit is verified), a TLB of native's own, or the TLB off. `caches` and
 * `va_bits` are constants (four copies). Returns how many events it took. golden.sh checks
 * every case with and without --check against the same counters. */
static inline __attribute__((always_inline)) size_t run_fast_body(ags_sim_t *s, const ags_event_t *ev, size_t n,
                                                                  const int caches, const unsigned va_bits)
{
    const struct ags_fastk *const k = s->fastk;
    /* the first 8 bytes of an event: type (0, an access), kind (< 4), size, pid */
    _Static_assert(offsetof(ags_event_t, type) == 0 && offsetof(ags_event_t, kind) == 1 &&
                       offsetof(ags_event_t, size) == 2 && offsetof(ags_event_t, pid) == 4 && AGS_EV_ACCESS == 0,
                   "event header layout");
    const uint64_t hdr_mask = 0xffffffff0000fcffULL, hdr = s->cur_pid << 32;
    const uint64_t pg = s->cur_pg, asid = s->guest.cur->asid, next_timer = s->next_timer;
    const uint64_t va_mask = (1ULL << va_bits) - 1;
    const unsigned line_shift = s->cfg.line_shift;
    uint64_t *const mru_all = s->l1_mru_all, l1_set_mask = s->l1_set_mask;
    struct ags_rgp *const rgp = s->rgp;
    ags_region_stats_t *const rg = s->rg;
    const uint32_t pid = (uint32_t)s->cur_pid;
    uint64_t instructions = s->instructions;
    unsigned r = s->cur_rg;
    /* the data lines to queue in every machine, in order (no walk reference comes between them:
     * walks happen only outside this loop); queued before it returns */
    enum { AGS_FAST_PEND = 256 };
    uint64_t pend[AGS_FAST_PEND];
    size_t npend = 0;
    /* each event taken is one access: stop before the one that reaches acc_at */
    if (s->accesses >= s->acc_at)
        return 0;
    if (s->acc_at - s->accesses - 1 < n)
        n = (size_t)(s->acc_at - s->accesses - 1);
    size_t i;
    for (i = 0; i < n; i++) {
        const ags_event_t *e = &ev[i];
        uint64_t w, va = e->addr;
        memcpy(&w, e, sizeof(w));
        if (AGS_UNLIKELY((w & hdr_mask) != hdr || !ags_canonical(va, va_bits)))
            break;
        unsigned kind = (unsigned)(w >> 8) & 3, size = (unsigned)(w >> 16) & 0xffff;
        va &= va_mask;
        uint64_t vpn = va >> AGS_PAGE_SHIFT, off = va & (AGS_PAGE_SIZE - 1);
        struct ags_rgp *rp = &rgp[vpn & (AGS_RGP_SIZE - 1)];
        if (AGS_UNLIKELY(off + size > AGS_PAGE_SIZE))
            break;
        if (AGS_UNLIKELY(rp->vpn != vpn || rp->pg != pg)) { /* region_page, when its cache's first entry holds va */
            const struct ags_rgc *c = &s->rgc[kind == AGS_ACC_IFETCH][0];
            if (!rgc_holds(c, pid, va))
                break;
            *rp = (struct ags_rgp){ vpn, pg, c->rg };
        }
        size_t base = (size_t)(vpn & k[kind].set_mask) * k[kind].ways;
        uint64_t v = k[kind].val[base], need = k[kind].need, tag = ags_tlb_tag(va, 0, (uint32_t)asid);
        /* not at the MRU way: ags_tlb_lookup's first lookup, which moves a hit there */
        if (AGS_UNLIKELY(k[kind].tag[base] != tag) && !l1_lookup(k[kind].sa, vpn, tag, &v))
            break;
        if (AGS_UNLIKELY((v & need) != need))
            break;
        uint64_t ni = instructions + e->icount;
        if (AGS_UNLIKELY(ni >= next_timer))
            break;
        if (caches) { /* without a branch on the line: it goes to the list if its set's differs */
            uint64_t line = ((v & AGS_TLBE_BASE) | off) >> line_shift, *all = &mru_all[line & l1_set_mask];
            pend[npend] = line;
            npend += *all != line;
            *all = line;
            if (AGS_UNLIKELY(npend == AGS_FAST_PEND)) {
                push_data(s, pend, npend);
                npend = 0;
            }
        }
        r = rp->rg;
        rg[r].accesses++;
        instructions = ni;
    }
    if (caches && npend)
        push_data(s, pend, npend);
    s->accesses += i;
    s->instructions = instructions;
    s->events += i;
    s->cur_rg = r;
    return i;
}

static __attribute__((noinline)) size_t run_fast_48(ags_sim_t *s, const ags_event_t *ev, size_t n)
{
    return run_fast_body(s, ev, n, 0, 48);
}
static __attribute__((noinline)) size_t run_fast_48c(ags_sim_t *s, const ags_event_t *ev, size_t n)
{
    return run_fast_body(s, ev, n, 1, 48);
}
static __attribute__((noinline)) size_t run_fast_57(ags_sim_t *s, const ags_event_t *ev, size_t n)
{
    return run_fast_body(s, ev, n, 0, 57);
}
static __attribute__((noinline)) size_t run_fast_57c(ags_sim_t *s, const ags_event_t *ev, size_t n)
{
    return run_fast_body(s, ev, n, 1, 57);
}

static inline size_t run_fast(ags_sim_t *s, const ags_event_t *ev, size_t n)
{
    if (s->cur_pid == UINT64_MAX || !s->fast)
        return 0;
    if (s->va_bits == 48)
        return s->cfg.caches_on ? run_fast_48c(s, ev, n) : run_fast_48(s, ev, n);
    return s->cfg.caches_on ? run_fast_57c(s, ev, n) : run_fast_57(s, ev, n);
}

/* The event loop, compiled twice: `check` (a constant) adds the verification of TLB hits. */
static inline __attribute__((always_inline)) int run_events(ags_sim_t *s, const ags_event_t *ev, size_t n, int check)
{
    for (size_t i = 0; i < n; i++) {
        if (!check && !s->fast_skip) {
            size_t k = run_fast(s, ev + i, n - i);
            /* a stream whose common accesses come a few at a time (gups: every other one misses
             * the TLB) pays the fast path's entry for little: try it again after 1, 2, 4 ... 64
             * events, until it takes 4 or more at once (results do not depend on the path) */
            if (k < 4 && s->fast)
                s->fast_skip = s->fast_backoff = s->fast_backoff ? AGS_MIN(2 * s->fast_backoff, 64u) : 1;
            else
                s->fast_backoff = 0;
            if ((i += k) == n)
                break;
        } else if (s->fast_skip) {
            s->fast_skip--;
        }
        const ags_event_t *e = &ev[i];
        int rc = e->type == AGS_EV_ACCESS ? do_access(s, e, check) : do_event(s, e);
        if (AGS_UNLIKELY(rc)) {
            if (rc == AGS_E_NOMEM && s->mem->full_region >= 0)
                explain_full(s);
            else if (!s->err[0])
                ags_sim_set_err(s, "%s", ags_strerror(rc));
            return rc;
        }
        s->events++;
        s->instructions += e->icount;
        if (AGS_UNLIKELY(s->accesses >= s->acc_at || s->instructions >= s->next_timer)) {
            rc = milestone(s);
            if (rc)
                return rc;
        }
    }
    return AGS_OK;
}

int ags_sim_counting(const ags_sim_t *s) { return !s->warming; }

int ags_sim_run_core(ags_sim_t *s, const ags_event_t *ev, size_t n)
{
    return s->cfg.check ? run_events(s, ev, n, 1) : run_events(s, ev, n, 0);
}

int ags_sim_run(ags_sim_t *s, const ags_event_t *ev, size_t n)
{
    if (AGS_UNLIKELY(s->grp != NULL || s->dead)) {
        if (s->dead) {
            ags_sim_set_err(s, "out of memory: the simulator could not be rebuilt in groups");
            return AGS_E_NOMEM;
        }
        return ags_group_run(s, ev, n);
    }
    return ags_sim_run_core(s, ev, n);
}

/* ------------------------------------------------------------------ lifecycle and accessors */

int ags_sim_create(const ags_config_t *cfg, ags_sim_t **out)
{
    *out = NULL;
    if (ags_config_validate(cfg, NULL, 0))
        return AGS_E_INVAL;
    ags_sim_t *s = calloc(1, sizeof(*s));
    if (!s)
        return AGS_E_NOMEM;
    int rc = ags_sim_core_init(s, cfg);
    if (rc) {
        ags_sim_core_fini(s);
        free(s);
        return rc;
    }
    *out = s;
    return AGS_OK;
}

/* A simulation of cfg's modes in s (zeroed); on failure, s is only good for ags_sim_core_fini. */
int ags_sim_core_init(ags_sim_t *s, const ags_config_t *cfg)
{
    s->cfg = *cfg;
    s->va_bits = cfg->guest_levels == 5 ? 57 : 48;
    s->va_mask = (1ULL << s->va_bits) - 1;
    s->next_scan = cfg->agile_interval;
    s->nrg = 2; /* 0: no access (events, scans); 1: the regions beyond AGS_MAX_REGIONS */
    s->rg_gen = 1; /* the page memo's entries (zeroed) are of generation 0: none valid */
    s->cur_pid = UINT64_MAX;
    s->next_interval = cfg->interval ? cfg->interval : UINT64_MAX;
    s->warming = cfg->warmup || cfg->warmup_instructions;
    plan_milestones(s);
    s->mem = malloc(sizeof(ags_mem_t));
    /* The reservation: the guest's memory; EPT tables (one per 512 frames, with room); per
     * machine, shadow tables for up to half the guest's frames (only shadow and agile have them) */
    ags_mem_plan_t plan = { { 0 } };
    uint64_t gframes = cfg->guest_memory >> AGS_PAGE_SHIFT;
    plan.frames[AGS_REGION_GUEST_BACKING] = gframes + (1ULL << (cfg->host_page_shift - AGS_PAGE_SHIFT));
    plan.frames[AGS_REGION_EPT] = gframes / 256 + 1024;
    for (unsigned mode = 0, i = 0; mode < AGS_MODE_COUNT; mode++)
        if (cfg->modes & (1u << mode))
            plan.frames[AGS_REGION_MACHINE0 + i++] =
                mode == AGS_MODE_SHADOW || mode == AGS_MODE_AGILE ? gframes / 2 + 4096 : 1024;
    if (!s->mem || ags_mem_init(s->mem, &plan) || ags_ept_init(&s->ept, s->mem, cfg->host_levels, cfg->host_page_shift) ||
        ags_tlb_init(&s->tlb, &s->cfg))
        goto nomem;
    for (unsigned mode = 0; mode < AGS_MODE_COUNT; mode++) {
        if (!(cfg->modes & (1u << mode)))
            continue;
        if (ags_machine_create(s, (ags_mode_t)mode, s->nm, &s->m[s->nm]))
            goto nomem;
        s->nm++;
    }
    s->l1_set_mask = s->m[0]->cache.lvl[0].set_mask; /* caches off: 0, one unused entry */
    if (!(s->l1_mru_all = malloc((s->l1_set_mask + 1) * sizeof(uint64_t))))
        goto nomem;
    memset(s->l1_mru_all, 0xff, (s->l1_set_mask + 1) * sizeof(uint64_t)); /* no line */
    /* TLB reach: the virtualized modes cache min(guest leaf, host page), native the guest leaf.
     * With guest pages larger than host pages native then needs a TLB of its own (the shared
     * one serves the others); with native alone, the shared TLB caches guest leaves. */
    int virt = (cfg->modes & ~(1u << AGS_MODE_NATIVE)) != 0;
    if ((cfg->modes & (1u << AGS_MODE_NATIVE)) && cfg->guest_page_shift > cfg->host_page_shift) {
        if (!virt) {
            s->shared_leaf_reach = 1;
        } else {
            s->native_own = s->m[0]; /* native is machine 0 */
            s->native_own->has_own_tlb = 1;
            if (ags_tlb_init(&s->native_own->own_tlb, &s->cfg))
                goto nomem;
        }
    }
    for (unsigned i = 0; i < s->nm; i++)
        if (s->m[i] != s->native_own)
            s->all_bits |= s->m[i]->bit;
    if ((cfg->modes & (1u << AGS_MODE_AGILE)) && cfg->host_page_shift > AGS_PAGE_SHIFT)
        s->eptd_bits = AGS_TLBE_EPTD; /* agile tracks data stores to large host pages (EPT D bits) */
    s->store_bits = AGS_TLBE_W | AGS_TLBE_D | s->eptd_bits;
    for (unsigned i = 0; i < 4; i++) {
        ags_sa_t *a = &s->tlb.l1[i == AGS_ACC_IFETCH][0];
        s->fastk[i] = (struct ags_fastk){ a, a->tag, a->val, a->set_mask, a->ways,
                                          s->all_bits | (i >= AGS_ACC_STORE ? s->store_bits : 0) };
    }
    s->fast = !cfg->check && !s->native_own && s->tlb.on && s->tlb.l1[0][0].ways && s->tlb.l1[1][0].ways;
    ags_guest_listener_t ls = { s, on_pt_page_alloc, on_pt_page_free, on_pt_write, on_tlb_flush,
                                on_cr3_write, on_guest_fault, on_host_backed };
    if (ags_guest_init(&s->guest, &s->cfg, s->mem, &s->ept, &ls))
        goto nomem;
    return AGS_OK;
nomem:
    return AGS_E_NOMEM;
}

void ags_sim_set_stop(ags_sim_t *s, const volatile sig_atomic_t *flag)
{
    s->user_stop = flag;
    s->guest.stop = flag;
}

const ags_region_stats_t *ags_sim_regions(const ags_sim_t *s, size_t *n)
{
    *n = s->nrg; /* with groups, the first's: ags_sim_finish filled in the other groups' modes */
    return s->rg;
}

int ags_sim_set_threads(ags_sim_t *s, unsigned n)
{
    if (s->grp)
        return ags_group_set_threads(s, n);
    return ags_sim_core_threads(s, n);
}

int ags_sim_core_threads(ags_sim_t *s, unsigned n)
{
    ags_sim_cache_sync(s);
    ags_sim_workers_stop(s);
    unsigned w = n > 1 ? n - 1 : 0;
    if (w > s->nm)
        w = s->nm;
    if (!s->cfg.caches_on || s->cfg.walk_latency_fixed)
        w = 0; /* nothing to replay */
    return ags_sim_workers_start(s, w);
}

unsigned ags_sim_worker_threads(const ags_sim_t *s) { return s->grp ? ags_group_worker_threads(s) : s->nworkers; }

_Static_assert(AGS_MEMLIMIT_RLIMIT_AS == AGS_MEM_CUT_RLIMIT_AS && AGS_MEMLIMIT_COMMIT == AGS_MEM_CUT_COMMIT &&
                   AGS_MEMLIMIT_MMAP == AGS_MEM_CUT_MMAP && AGS_MEMLIMIT_NONE == AGS_MEM_CUT_NONE,
               "public and private memory-limit codes agree");

void ags_sim_memory(const ags_sim_t *s, ags_sim_memory_t *out)
{
    if (s->grp) {
        ags_group_memory(s, out);
        return;
    }
    ags_sim_core_memory(s, out);
}

void ags_sim_core_memory(const ags_sim_t *s, ags_sim_memory_t *out)
{
    const ags_region_t *g = &s->mem->region[AGS_REGION_GUEST_BACKING];
    out->guest_memory = AGS_MIN((g->limit - g->base) << AGS_PAGE_SHIFT, s->cfg.guest_memory);
    out->limited_by = s->mem->cut;
    out->limit = s->mem->cut_limit;
    out->reserved = s->mem->arena_len;
    out->pt_resident = s->mem->resident_pages << AGS_PAGE_SHIFT;
}

void ags_sim_destroy(ags_sim_t *s)
{
    if (!s)
        return;
    ags_group_teardown(s);
    ags_sim_core_fini(s);
    free(s);
}

/* Everything s holds released (s itself kept, zeroed): after ags_sim_core_init, failed or not. */
void ags_sim_core_fini(ags_sim_t *s)
{
    ags_sim_workers_stop(s);
    for (unsigned i = 0; i < s->nm; i++)
        ags_machine_destroy(s->m[i]);
    ags_guest_fini(&s->guest);
    ags_tlb_fini(&s->tlb);
    ags_ept_fini(&s->ept);
    if (s->mem) {
        ags_mem_fini(s->mem);
        free(s->mem);
    }
    free(s->iv);
    free(s->l1_mru_all);
    memset(s, 0, sizeof(*s));
}

