/* Model notes: one machine per mode: its walker and walk caches, its cache hierarchy for walk
 * and data references, and (shadow, agile) its VMM. A TLB miss walks from the root the machine
 * uses (the guest's gCR3 for native and nested, the shadow root or a nested root for shadow and
 * agile); a walk cut short by a hidden fault or a store to a read-only shadow leaf is charged
 * (aborted_walks) and retried after the VMM filled the entry. With caches on, each walk
 * reference takes the latency of the level where it hits (PWC/nTLB hits: lat_pwc). */
#include "sim/sim_internal.h"
#include "sim/replay.h"
#include "pt/pt.h"
#include "util.h"
#include <signal.h>
#include <string.h>

/* Replay queued references through m's caches, in order (the AVX-512 set code where the host has
 * it); q is consumed. Runs on the main thread or on m's worker, never both at once. */
static void replay(const ags_config_t *cfg, ags_machine_t *m, uint64_t *q, unsigned n)
{
#ifdef AGS_HAVE_AVX512
    if (m->cache.avx512) {
        ags_machine_replay_avx512(cfg, m, q, n);
        return;
    }
#endif
    ags_machine_replay_body(cfg, m, q, n);
}

static void *worker_main(void *arg)
{
    ags_cworker_t *w = arg;
    ags_sim_t *s = w->s;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        ags_machine_t *m = NULL;
        for (unsigned i = w->idx; w->stride && i < s->nm && !m; i += w->stride)
            if (s->m[i]->job && !s->m[i]->job_taken)
                m = s->m[i];
        if (!m) {
            if (w->quit)
                break;
            pthread_cond_wait(&w->cv_job, &w->mu);
            continue;
        }
        uint64_t *q = m->job;
        unsigned n = m->jobn;
        m->job_taken = 1;
        pthread_mutex_unlock(&w->mu);
        replay(&s->cfg, m, q, n);
        pthread_mutex_lock(&w->mu);
        m->job = NULL;
        m->job_taken = 0;
        pthread_cond_broadcast(&w->cv_done);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Until what m's worker was handed is replayed: replayed here if the worker has not started it
 * (it is busy with other machines: the translating thread helps instead of waiting), else waited
 * for. Either way m's buffers are replayed one after the other, in order. Called and returns with
 * w->mu held. */
static void settle_job(const ags_config_t *cfg, ags_machine_t *m)
{
    ags_cworker_t *w = m->worker;
    if (m->job && !m->job_taken) {
        uint64_t *q = m->job;
        unsigned n = m->jobn;
        m->job_taken = 1;
        pthread_mutex_unlock(&w->mu);
        replay(cfg, m, q, n);
        pthread_mutex_lock(&w->mu);
        m->job = NULL;
        m->job_taken = 0;
    }
    while (m->job)
        pthread_cond_wait(&w->cv_done, &w->mu);
}

static void wait_job(const ags_config_t *cfg, ags_machine_t *m)
{
    pthread_mutex_lock(&m->worker->mu);
    settle_job(cfg, m);
    pthread_mutex_unlock(&m->worker->mu);
}

/* The queue is full: replay it here, or hand it to m's worker and fill the other buffer. */
void ags_machine_cache_drain(ags_sim_t *s, ags_machine_t *m)
{
    if (!m->worker) {
        replay(&s->cfg, m, m->cq, m->cqn);
        m->cqn = 0;
        return;
    }
    ags_cworker_t *w = m->worker;
    pthread_mutex_lock(&w->mu);
    settle_job(&s->cfg, m); /* the other buffer */
    m->job = m->cq;
    m->jobn = m->cqn;
    pthread_cond_signal(&w->cv_job);
    pthread_mutex_unlock(&w->mu);
    m->cq = m->cq == m->cqbuf[0] ? m->cqbuf[1] : m->cqbuf[0];
    m->cqn = 0;
}

/* Every queued reference replayed and its cycles and hit levels counted: before any counter is
 * read or reset. */
void ags_sim_cache_sync(ags_sim_t *s)
{
    for (unsigned i = 0; i < s->nm; i++) {
        ags_machine_t *m = s->m[i];
        if (m->worker)
            wait_job(&s->cfg, m);
        if (m->cqn)
            replay(&s->cfg, m, m->cq, m->cqn);
        m->cqn = 0;
        m->walk_cycles += m->acc_cycles;
        for (unsigned k = 1; k < 5; k++)
            m->st.walk_cache_hits[k] += m->acc_hits[k];
        for (unsigned r = 0; r < AGS_MAX_REGIONS; r++)
            m->rg[r].walk_cycles += m->acc_rg_cycles[r];
        m->acc_cycles = 0;
        memset(m->acc_hits, 0, sizeof(m->acc_hits));
        memset(m->acc_rg_cycles, 0, sizeof(m->acc_rg_cycles));
    }
}

/* Stop and join the workers (every job done first). */
void ags_sim_workers_stop(ags_sim_t *s)
{
    for (unsigned i = 0; i < s->nworkers; i++) {
        ags_cworker_t *w = &s->workers[i];
        pthread_mutex_lock(&w->mu);
        w->quit = 1;
        pthread_cond_broadcast(&w->cv_job);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->th, NULL);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv_job);
        pthread_cond_destroy(&w->cv_done);
    }
    for (unsigned i = 0; i < s->nm; i++)
        s->m[i]->worker = NULL;
    free(s->workers);
    s->workers = NULL;
    s->nworkers = 0;
}

int ags_sim_workers_start(ags_sim_t *s, unsigned n)
{
    if (!n)
        return AGS_OK;
    s->workers = calloc(n, sizeof(ags_cworker_t));
    if (!s->workers)
        return AGS_E_NOMEM;
    /* workers block every signal: a handler runs on the caller's thread, whose blocking reads
     * it must interrupt */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = AGS_OK;
    for (unsigned i = 0; i < n && !rc; i++) {
        ags_cworker_t *w = &s->workers[i];
        w->idx = i;
        w->s = s;
        if (pthread_mutex_init(&w->mu, NULL) || pthread_cond_init(&w->cv_job, NULL) ||
            pthread_cond_init(&w->cv_done, NULL) || pthread_create(&w->th, NULL, worker_main, w)) {
            rc = AGS_E_NOMEM;
            break;
        }
        s->nworkers = i + 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) { /* run with the workers that started, or none */
        if (!s->nworkers) {
            free(s->workers);
            s->workers = NULL;
            return rc;
        }
    }
    for (unsigned i = 0; i < s->nm; i++)
        s->m[i]->worker = &s->workers[i % s->nworkers];
    for (unsigned i = 0; i < s->nworkers; i++) {
        pthread_mutex_lock(&s->workers[i].mu);
        s->workers[i].stride = s->nworkers;
        pthread_mutex_unlock(&s->workers[i].mu);
    }
    return rc;
}

/* Charge the references of a walk record (complete or aborted). With caches on, each reference
 * queues for the machine's cache model, which adds its latency when it replays. */
static inline __attribute__((always_inline)) void account_refs(ags_sim_t *s, ags_machine_t *m, const ags_walk_t *w)
{
    uint64_t cyc = (uint64_t)(w->pwc_hits + w->ntlb_hits) * s->cfg.lat_pwc;
    uint64_t rgtag = (uint64_t)s->cur_rg << AGS_CQ_RG_SHIFT;
    if (s->cfg.walk_latency_fixed || !s->cfg.caches_on)
        cyc += (uint64_t)w->n * s->cfg.walk_latency;
    else
        for (unsigned i = 0; i < w->n; i++)
            ags_machine_cache_push(s, m, rgtag | (w->s[i].hpa >> s->cfg.line_shift) << 1 | 1);
    m->walk_cycles += cyc;
    m->rg[s->cur_rg].walk_cycles += cyc;
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

/* The walk (rc) cannot complete the access: a fault, or a read-only shadow leaf for a store. */
static inline int walk_stops(const ags_walk_t *w, ags_walk_ret_t rc, int is_store)
{
    return rc != AGS_WALK_DONE || (is_store && w->leaf_dim == AGS_DIM_SHADOW && !ags_x86_writable(w->leaf_val));
}

/* A walk of va that stopped (walk_stops): the VMM fills the entry, charged as an aborted walk,
 * and the walk is retried until it completes. */
static __attribute__((noinline)) int miss_retry(ags_sim_t *s, ags_machine_t *m, ags_proc_t *p, uint64_t va,
                                                int is_store, const ags_gxlate_t *x, ags_walk_ret_t rc)
{
    ags_walk_t *w = &m->w;
    for (int attempt = 1;; attempt++) {
        if (rc == AGS_WALK_BROKEN) {
            ags_sim_set_err(s, "%s: walk of 0x%llx reached an unbacked table (simulator bug)",
                    ags_mode_name(m->mode), (unsigned long long)va);
            return AGS_E_INTERNAL;
        }
        if (attempt > 2 * (int)s->cfg.guest_levels + 3) { /* the walk examined is the attempt-th */
            ags_sim_set_err(s, "%s: walk of 0x%llx does not converge (simulator bug)", ags_mode_name(m->mode),
                    (unsigned long long)va);
            return AGS_E_INTERNAL;
        }
        if (!walk_stops(w, rc, is_store))
            return AGS_OK;
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
        uint64_t root;
        int kind;
        machine_root(s, m, p, &root, &kind);
        rc = ags_walk(&m->walker, va, p->asid, root, kind, w);
    }
}

int ags_machine_miss(ags_sim_t *s, ags_machine_t *m, ags_proc_t *p, uint64_t va, int is_store,
                     const ags_gxlate_t *x, int shared)
{
    ags_walk_t *w = &m->w;
    uint64_t root;
    int kind;
    machine_root(s, m, p, &root, &kind);
    ags_walk_ret_t wrc = ags_walk(&m->walker, va, p->asid, root, kind, w);
    if (AGS_UNLIKELY(walk_stops(w, wrc, is_store))) {
        int rc = miss_retry(s, m, p, va, is_store, x, wrc);
        if (rc)
            return rc;
    }
    unsigned n = w->n;
    m->st.walks++;
    m->st.walk_refs += n;
    m->rg[s->cur_rg].walks++;
    m->rg[s->cur_rg].walk_refs += n;
    m->st.walk_refs_hist[n < AGS_HIST_MAX ? n : AGS_HIST_MAX - 1]++;
    m->st.walk_refs_host += w->ndim[AGS_DIM_HOST];
    m->st.walk_refs_guest += w->ndim[AGS_DIM_GUEST];
    m->st.walk_refs_shadow += w->ndim[AGS_DIM_SHADOW];
    account_refs(s, m, w);
    if (m->mode == AGS_MODE_AGILE) {
        unsigned sl = w->switch_level;
        m->st.agile.switch_level_hist[sl < 7 ? sl : 6]++;
        if (!sl) {
            m->st.agile.walks_full_shadow++;
            m->rg[s->cur_rg].walks_full_shadow++;
        }
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
        ags_cache_init(&m->cache, &s->cfg) || !(m->cqbuf[0] = malloc(2 * AGS_CQ_LEN * sizeof(uint64_t))) ||
        !(m->l1_mru = malloc(((size_t)m->cache.lvl[0].set_mask + 1) * sizeof(uint64_t)))) {
        ags_walker_fini(&m->walker);
        ags_cache_fini(&m->cache);
        free(m->cqbuf[0]);
        free(m);
        return AGS_E_NOMEM;
    }
    m->cqbuf[1] = m->cqbuf[0] + AGS_CQ_LEN;
    m->cq = m->cqbuf[0];
    /* no line: lines are below 2^55 */
    memset(m->l1_mru, 0xff, ((size_t)m->cache.lvl[0].set_mask + 1) * sizeof(uint64_t));
    if (mode == AGS_MODE_SHADOW || mode == AGS_MODE_AGILE) {
        m->has_vmm = 1;
        if (ags_vmm_init(&m->vmm, &s->cfg, s->mem, &s->guest, &s->ept, &m->walker, &s->tlb,
                         m->bit | (mode == AGS_MODE_AGILE ? AGS_TLBE_EPTD : 0), &m->st, AGS_REGION_MACHINE0 + index,
                         mode == AGS_MODE_AGILE)) {
            ags_machine_destroy(m);
            return AGS_E_NOMEM;
        }
        m->vmm.charges = &s->vmm_charges;
        m->vmm.pend = m->rg_pend;
        m->vmm.failed = &s->vmm_failed;
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
    free(m->cqbuf[0]);
    free(m->l1_mru);
    ags_tlb_fini(&m->own_tlb);
    if (m->has_vmm)
        ags_vmm_fini(&m->vmm);
    free(m);
}
