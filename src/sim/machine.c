/* Model notes: one machine per mode: its walker and walk caches, its cache hierarchy for walk
 * and data references, and (shadow, agile) its VMM. A TLB miss walks from the root the machine
 * uses (the guest's gCR3 for native and nested, the shadow root or a nested root for shadow and
 * agile); a walk cut short by a hidden fault or a store to a read-only shadow leaf is charged
 * (aborted_walks) and retried after the VMM filled the entry. With caches on, each walk
 * reference takes the latency of the level where it hits (PWC/nTLB hits: lat_pwc). */
#include "sim/sim_internal.h"
#include "pt/pt.h"
#include "util.h"
#include <string.h>

static uint64_t step_latency(ags_sim_t *s, ags_machine_t *m, uint64_t hpa)
{
    if (s->cfg.walk_latency_fixed || !s->cfg.caches_on)
        return s->cfg.walk_latency;
    unsigned where = ags_cache_access(&m->cache, hpa);
    m->st.walk_cache_hits[where]++;
    static const int idx[5] = { 0, 0, 1, 2, 3 };
    const unsigned lat[4] = { s->cfg.lat_l1, s->cfg.lat_l2, s->cfg.lat_llc, s->cfg.lat_dram };
    return lat[idx[where]];
}

/* Charge the references of a walk record (complete or aborted). */
static void account_refs(ags_sim_t *s, ags_machine_t *m, const ags_walk_t *w)
{
    uint64_t cyc = (uint64_t)(w->pwc_hits + w->ntlb_hits) * s->cfg.lat_pwc;
    for (unsigned i = 0; i < w->n; i++)
        cyc += step_latency(s, m, w->s[i].hpa);
    m->walk_cycles += cyc;
    m->st.pwc_hits += w->pwc_hits;
    m->st.ntlb_hits += w->ntlb_hits;
    m->st.ntlb_misses += w->ntlb_misses;
}

/* Where machine m's walk for process p starts: the VMM's root (shadow, or a nested root), or the
 * guest's gCR3 (native, nested). */
static void machine_root(const ags_sim_t *s, ags_machine_t *m, const ags_proc_t *p, uint64_t *root, int *kind)
{
    if (m->has_vmm) {
        ags_vmm_root(&m->vmm, p, root, kind);
    } else {
        *root = s->guest.pt[p->root].gpfn << AGS_PAGE_SHIFT;
        *kind = AGS_ROOT_GUEST;
    }
}

int ags_machine_miss(ags_sim_t *s, ags_machine_t *m, ags_proc_t *p, uint64_t va, int is_store,
                     const ags_gxlate_t *x, int shared)
{
    ags_walk_t *w = &m->w;
    for (int attempt = 0;; attempt++) {
        uint64_t root;
        int kind;
        machine_root(s, m, p, &root, &kind);
        ags_walk_ret_t rc = ags_walk(&m->walker, va, p->asid, root, kind, w);
        if (rc == AGS_WALK_BROKEN) {
            ags_sim_set_err(s, "%s: walk of 0x%llx reached an unbacked table (simulator bug)",
                    ags_mode_name(m->mode), (unsigned long long)va);
            return AGS_E_INTERNAL;
        }
        if (attempt > 2 * (int)s->cfg.guest_levels + 2) {
            ags_sim_set_err(s, "%s: walk of 0x%llx does not converge (simulator bug)", ags_mode_name(m->mode),
                    (unsigned long long)va);
            return AGS_E_INTERNAL;
        }
        if (rc == AGS_WALK_FAULT || (is_store && w->leaf_dim == AGS_DIM_SHADOW && !ags_x86_writable(w->leaf_val))) {
            if (!m->has_vmm || (rc == AGS_WALK_FAULT && w->fault_dim != AGS_DIM_SHADOW)) {
                ags_sim_set_err(s, "%s: walk of 0x%llx faults at level %u but the guest maps it",
                        ags_mode_name(m->mode), (unsigned long long)va, w->fault_level);
                return AGS_E_MISMATCH;
            }
            m->st.aborted_walks++;
            m->st.aborted_refs += w->n;
            account_refs(s, m, w);
            int r = rc == AGS_WALK_FAULT ? ags_vmm_hidden_fault(&m->vmm, p, va, is_store)
                            : ags_vmm_dirty_fault(&m->vmm, p, va, x);
            if (r < 0) {
                ags_sim_set_err(s, "%s: VMM could not fill the shadow entry for 0x%llx", ags_mode_name(m->mode),
                        (unsigned long long)va);
                return r;
            }
            continue;
        }
        break;
    }
    unsigned n = w->n;
    m->st.walks++;
    m->st.walk_refs += n;
    m->st.walk_refs_hist[n < AGS_HIST_MAX ? n : AGS_HIST_MAX - 1]++;
    for (unsigned i = 0; i < n; i++) {
        unsigned d = w->s[i].dim;
        if (d == AGS_DIM_HOST)
            m->st.walk_refs_host++;
        else if (d == AGS_DIM_GUEST)
            m->st.walk_refs_guest++;
        else
            m->st.walk_refs_shadow++;
    }
    account_refs(s, m, w);
    if (m->mode == AGS_MODE_AGILE) {
        unsigned sl = w->switch_level;
        m->st.agile.switch_level_hist[sl < 7 ? sl : 6]++;
        if (!sl)
            m->st.agile.walks_full_shadow++;
        if (s->cfg.agile_dirty == AGS_AGILE_DIRTY_EPT_AD)
            ags_vmm_walked(&m->vmm, w);
    }
    if (s->cfg.check && w->hpa != x->hpa) {
        ags_sim_set_err(s, "%s: 0x%llx translated to hPA 0x%llx, oracle says 0x%llx", ags_mode_name(m->mode),
                (unsigned long long)va, (unsigned long long)w->hpa, (unsigned long long)x->hpa);
        return AGS_E_MISMATCH;
    }
    /* over the misses of the TLB this machine uses (the shared ones, or native's own), so that
     * modes sharing a TLB have equal checksums; refills after a VMM flush are not in it */
    if (shared)
        m->st.translation_checksum =
            ags_mix64(m->st.translation_checksum ^ ((va >> 12) * 0x9e3779b97f4a7c15ULL) ^ (w->hpa >> 12));
    return AGS_OK;
}

/* The walk that finds the non-present (or read-only) entry before a guest page fault: its
 * references are charged in every mode (nested pays a 2D faulting walk), as an aborted walk. */
void ags_machine_fault_walk(ags_sim_t *s, ags_machine_t *m, ags_proc_t *p, uint64_t va)
{
    uint64_t root;
    int kind;
    machine_root(s, m, p, &root, &kind);
    if (ags_walk(&m->walker, va, p->asid, root, kind, &m->w) == AGS_WALK_BROKEN)
        return; /* cannot happen: every table the guest links is backed */
    m->st.aborted_walks++;
    m->st.aborted_refs += m->w.n;
    m->st.fault_walks++;
    account_refs(s, m, &m->w);
}

int ags_machine_create(ags_sim_t *s, ags_mode_t mode, unsigned index, ags_machine_t **out)
{
    ags_machine_t *m = calloc(1, sizeof(*m));
    if (!m)
        return AGS_E_NOMEM;
    m->mode = mode;
    m->bit = ags_tlbe_machine(index);
    if (ags_walker_init(&m->walker, &s->cfg, s->mem, &s->ept, mode == AGS_MODE_NATIVE) ||
        ags_cache_init(&m->cache, &s->cfg)) {
        free(m);
        return AGS_E_NOMEM;
    }
    if (mode == AGS_MODE_SHADOW || mode == AGS_MODE_AGILE) {
        m->has_vmm = 1;
        if (ags_vmm_init(&m->vmm, &s->cfg, s->mem, &s->guest, &s->ept, &m->walker, &s->tlb,
                         m->bit | (mode == AGS_MODE_AGILE ? AGS_TLBE_EPTD : 0), &m->st, AGS_REGION_MACHINE0 + index,
                         mode == AGS_MODE_AGILE))
            return AGS_E_NOMEM;
    }
    *out = m;
    return AGS_OK;
}

void ags_machine_destroy(ags_machine_t *m)
{
    if (!m)
        return;
    ags_walker_fini(&m->walker);
    ags_cache_fini(&m->cache);
    ags_tlb_fini(&m->own_tlb);
    if (m->has_vmm)
        ags_vmm_fini(&m->vmm);
    free(m);
}
