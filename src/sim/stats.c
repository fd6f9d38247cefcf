/* Model notes: accounting. cycles(mode) = instructions x CPI + walk cycles + VMM cycles +
 * guest-kernel cycles; overhead = cycles(mode) / cycles(native) - 1. The warm-up ends with a
 * reset of every counter (all state kept). Interval rows hold cumulative counters. */
#include "sim/sim_internal.h"
#include "util.h"
#include <math.h>
#include <string.h>

/* End of the warm-up: forget every counter, keep every state (tables, TLB, caches, modes). */
void ags_sim_reset_stats(ags_sim_t *s)
{
    ags_sim_cache_sync(s); /* the warm-up's references are the warm-up's */
    for (unsigned i = 0; i < s->nm; i++) {
        ags_machine_t *m = s->m[i];
        memset(&m->st, 0, sizeof(m->st));
        memset(m->rg, 0, sizeof(m->rg));
        m->walk_cycles = 0;
        m->flush_misses = m->flush_imisses = m->own_misses = m->own_itlb_misses = 0;
        m->own_tlb.l2_hits = 0;
        if (m->has_vmm)
            m->st.shadow_pages_peak = m->vmm.live_sp;
    }
    s->accesses = s->tlb_misses = s->itlb_misses = s->dirty_assists = s->page_crossings = 0;
    for (unsigned r = 0; r < s->nrg; r++) {
        s->rg[r].accesses = 0;
        memset(s->rg[r].mode, 0, sizeof(s->rg[r].mode));
    }
    s->tlb.l2_hits = 0;
    s->instr_base = s->instructions;
    ags_guest_stats_t *g = &s->guest.st;
    uint64_t procs = s->guest.nprocs;
    uint64_t ptl = g->pt_pages_alloc - g->pt_pages_free, frames = s->guest.frames_in_use;
    memset(g, 0, sizeof(*g));
    g->processes = procs;
    g->pt_pages_peak = ptl;
    g->frames_peak = frames;
    s->niv = 0;
    if (s->cfg.interval)
        s->next_interval = s->instructions + s->cfg.interval;
}

void ags_sim_record_interval(ags_sim_t *s)
{
    ags_sim_cache_sync(s);
    if (ags_grow((void **)&s->iv, &s->capiv, sizeof(ags_interval_t), s->niv)) {
        s->deferred_err = AGS_E_NOMEM; /* an interval row would be missing: stop the run */
        ags_sim_set_err(s, "out of memory: interval rows");
        return;
    }
    ags_interval_t *r = &s->iv[s->niv++];
    memset(r, 0, sizeof(*r));
    r->instructions = s->instructions - s->instr_base;
    r->tlb_misses = s->tlb_misses;
    for (unsigned i = 0; i < s->nm; i++) {
        ags_machine_t *m = s->m[i];
        r->walk_refs[m->mode] = m->st.walk_refs;
        r->vm_exits[m->mode] = m->st.exits.total;
        r->cycles[m->mode] = (uint64_t)((double)(s->instructions - s->instr_base) * s->cfg.cpi) + m->walk_cycles +
                             ags_vmm_cycles_total(&m->st.vmm) + s->guest.st.guest_kernel_cycles;
        if (m->mode == AGS_MODE_AGILE) {
            ags_vmm_mode_counts(&m->vmm, &r->agile_nested_pages, &r->agile_shadow_pages);
            r->agile_walks_full_shadow = m->st.agile.walks_full_shadow;
            r->agile_walks = m->st.walks;
        }
    }
}

/* ------------------------------------------------------------------ results */


/* The counters a machine shares with the driver (instructions, accesses, TLB misses). */
static void fill_counts(const ags_sim_t *s, const ags_machine_t *m, ags_stats_t *st)
{
    st->instructions = s->instructions - s->instr_base;
    st->counted_from_instruction = s->instr_base;
    st->accesses = s->accesses;
    if (m->has_own_tlb) {
        st->tlb_misses = m->own_misses;
        st->itlb_misses = m->own_itlb_misses;
        st->l2tlb_hits = m->own_tlb.l2_hits;
    } else {
        st->tlb_misses = s->tlb_misses + m->flush_misses;
        st->itlb_misses = s->itlb_misses + m->flush_imisses;
        st->l2tlb_hits = s->tlb.l2_hits;
    }
    st->vmm_flush_misses = m->flush_misses;
    st->dtlb_misses = st->tlb_misses - st->itlb_misses;
    st->page_crossings = s->page_crossings;
}

void ags_sim_finish(ags_sim_t *s)
{
    if (s->grp)
        ags_group_finish(s);
    else
        ags_sim_core_finish(s, NAN);
}

/* Settle s's costs; with cpi not NaN, the CPI to use (the one native's group derived from
 * native_cycles, for the groups without native). */
void ags_sim_core_finish(ags_sim_t *s, double cpi_given)
{
    if (s->finished)
        return;
    s->finished = 1;
    ags_sim_cache_sync(s);
    int incomplete = s->warming;
    if (incomplete) /* the warm-up never ended: nothing was counted */
        ags_sim_reset_stats(s);
    uint64_t instructions = s->instructions - s->instr_base;
    if (s->cfg.interval && (!s->niv || s->iv[s->niv - 1].instructions != instructions))
        ags_sim_record_interval(s);
    double cpi = s->cfg.cpi;
    uint64_t gk = s->guest.st.guest_kernel_cycles;
    for (unsigned i = 0; i < s->nm; i++) {
        ags_machine_t *m = s->m[i];
        if (m->mode == AGS_MODE_NATIVE && s->cfg.native_cycles > 0 && instructions) {
            double rest = (double)(m->walk_cycles + ags_vmm_cycles_total(&m->st.vmm) + gk);
            double base = s->cfg.native_cycles - rest;
            if (base > 0)
                cpi = base / (double)instructions;
        }
    }
    if (!isnan(cpi_given))
        cpi = cpi_given;
    s->cpi_used = cpi;
    for (unsigned i = 0; i < s->nm; i++) {
        ags_machine_t *m = s->m[i];
        ags_stats_t *st = &m->st;
        fill_counts(s, m, st);
        st->warmup_incomplete = incomplete;
        st->cycles.base = (uint64_t)llround((double)instructions * cpi);
        st->cycles.walk = m->walk_cycles;
        st->cycles.vmm = ags_vmm_cycles_total(&st->vmm);
        st->cycles.guest_kernel = gk;
        st->cycles.total = st->cycles.base + st->cycles.walk + st->cycles.vmm + st->cycles.guest_kernel;
        if (m->has_vmm)
            ags_vmm_mode_counts(&m->vmm, &st->agile.nested_pages, &st->agile.shadow_pages);
        if (m->mode != AGS_MODE_AGILE)
            st->agile.nested_pages = st->agile.shadow_pages = 0;
        /* per region, and region 0 = the totals minus the regions (what no access caused) */
        uint64_t w = st->walks, r = st->walk_refs, c = st->cycles.walk, e = st->exits.total, v = st->cycles.vmm,
                 f = st->agile.walks_full_shadow;
        for (unsigned k = 1; k < s->nrg; k++) {
            s->rg[k].mode[m->mode].walks = m->rg[k].walks;
            s->rg[k].mode[m->mode].walk_refs = m->rg[k].walk_refs;
            s->rg[k].mode[m->mode].walk_cycles = m->rg[k].walk_cycles;
            s->rg[k].mode[m->mode].vm_exits = m->rg[k].vm_exits;
            s->rg[k].mode[m->mode].vmm_cycles = m->rg[k].vmm_cycles;
            s->rg[k].mode[m->mode].walks_full_shadow = m->rg[k].walks_full_shadow;
            w -= m->rg[k].walks, r -= m->rg[k].walk_refs, c -= m->rg[k].walk_cycles, e -= m->rg[k].vm_exits;
            v -= m->rg[k].vmm_cycles, f -= m->rg[k].walks_full_shadow;
        }
        s->rg[0].mode[m->mode].walks = w, s->rg[0].mode[m->mode].walk_refs = r;
        s->rg[0].mode[m->mode].walk_cycles = c, s->rg[0].mode[m->mode].vm_exits = e;
        s->rg[0].mode[m->mode].vmm_cycles = v, s->rg[0].mode[m->mode].walks_full_shadow = f;
    }
    const ags_machine_t *nat = NULL;
    for (unsigned i = 0; i < s->nm; i++)
        if (s->m[i]->mode == AGS_MODE_NATIVE)
            nat = s->m[i];
    for (unsigned i = 0; i < s->nm; i++) {
        ags_stats_t *st = &s->m[i]->st;
        st->overhead_vs_native = nat && nat->st.cycles.total
                                     ? (double)st->cycles.total / (double)nat->st.cycles.total - 1.0
                                     : NAN;
    }
}

const ags_config_t *ags_sim_config(const ags_sim_t *s) { return s->grp ? ags_group_config(s) : &s->cfg; }

int ags_sim_has_mode(const ags_sim_t *s, ags_mode_t mode)
{
    if (s->grp)
        return ags_group_core(s, mode) != NULL;
    for (unsigned i = 0; i < s->nm; i++)
        if (s->m[i]->mode == mode)
            return 1;
    return 0;
}

void ags_sim_stats(const ags_sim_t *s, ags_mode_t mode, ags_stats_t *out)
{
    if (s->grp && (s = ags_group_core(s, mode)) == NULL) {
        memset(out, 0, sizeof(*out));
        return;
    }
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < s->nm; i++)
        if (s->m[i]->mode == mode) {
            *out = s->m[i]->st;
            fill_counts(s, s->m[i], out); /* live, also before ags_sim_finish */
        }
}

void ags_sim_guest_stats(const ags_sim_t *s, ags_guest_stats_t *out) { *out = s->guest.st; }

const ags_interval_t *ags_sim_intervals(const ags_sim_t *s, size_t *n)
{
    *n = s->niv; /* with groups, the first's: ags_sim_finish filled in the other groups' columns */
    return s->iv;
}

const char *ags_sim_errmsg(const ags_sim_t *s) { return s->grp ? ags_group_errmsg(s) : s->err; }
uint64_t ags_sim_events_done(const ags_sim_t *s) { return s->grp ? ags_group_events_done(s) : s->events; }

