/* Private: the simulator and its machines. */
#ifndef AGS_SIM_INTERNAL_H
#define AGS_SIM_INTERNAL_H

#include <pthread.h>
#include "agilesim/sim.h"
#include "guest/guest.h"
#include "hw/cache.h"
#include "hw/tlb.h"
#include "hw/walk.h"
#include "mem/mem.h"
#include "mem/ept.h"
#include "vmm/vmm.h"

typedef struct {
    ags_mode_t mode;
    uint64_t bit;           /* its valid bit in shared TLB entries */
    uint64_t flush_misses, flush_imisses; /* shared-TLB hits that were misses for it after its VMM
                                           * flushed (all; instruction fetches) */
    int has_own_tlb;        /* native with guest pages > host pages: its own TLB of guest-leaf reach */
    ags_tlb_t own_tlb;
    uint64_t own_misses, own_itlb_misses;
    ags_walker_t walker;
    ags_cache_t cache;
    int has_vmm;
    ags_vmm_t vmm;
    ags_stats_t st;
    uint64_t walk_cycles;
    /* exits and VMM cycles charged and not yet attributed to a region: [0] exits, [1] cycles
     * (the VMM's pend points here; EPT violations of host backing add here too) */
    uint64_t rg_pend[2];
    ags_walk_t w;           /* scratch walk record */
    /* The cache model is a pure consumer (walk lengths never depend on it; its latencies only add
     * to walk_cycles and walk_cache_hits): references queue here, in order, and are replayed in
     * batches, level by level (replay.h; a replay consumes its buffer), when the queue fills and
     * before any counter is read. Entry: region << AGS_CQ_RG_SHIFT | line << 1 | 1 for a walk
     * reference, line << 1 for data. */
    uint64_t *cq;           /* the buffer being filled (of cqbuf[2]) */
    unsigned cqn;
    uint64_t *cqbuf[2];
    /* With worker threads: the buffer handed to this machine's worker (NULL: none in flight), and
     * what replays add up; both written by whoever replays, folded in by ags_sim_cache_sync. */
    uint64_t *job;
    unsigned jobn;
    int job_taken;          /* a thread is replaying job: the worker, or the translating thread
                             * that found it not yet started when it needed the buffer back */
    struct ags_cworker *worker;
    uint64_t acc_cycles, acc_hits[5];
    struct { uint64_t walks, walk_refs, walk_cycles, vm_exits, vmm_cycles, walks_full_shadow; } rg[AGS_MAX_REGIONS];
    uint64_t acc_rg_cycles[AGS_MAX_REGIONS]; /* replayed walk cycles per region (whoever replays) */
    /* The line last queued for each L1 set (all ones: none). Every reference goes through L1 and
     * leaves its line at the MRU way of its L1 set, and nothing else changes L1 (no
     * back-invalidation, no flush), so a reference to the line last queued in its L1 set is an
     * L1 hit at the MRU way that changes nothing: it is counted here, not queued. */
    uint64_t *l1_mru;       /* indexed by line & ags_sim.l1_set_mask */
} ags_machine_t;

/* A thread that replays the cache queues of the machines i with i % nworkers == its index. */
typedef struct ags_cworker {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv_job, cv_done;
    int quit;
    unsigned idx, stride;   /* serves machines idx, idx + stride, ... (stride 0: none yet) */
    struct ags_sim *s;
} ags_cworker_t;

#define AGS_RGC_WAYS 4  /* entries of the region cache per access kind */
#define AGS_RGP_SIZE 256 /* pages in the region-of-page memo (a power of two) */
#define AGS_CQ_LEN 4096
/* A queue entry: region << AGS_CQ_RG_SHIFT | line << 1 | walk (lines are below 2^44) */
#define AGS_CQ_RG_SHIFT 56
#define AGS_CQ_LINE_MASK ((1ULL << (AGS_CQ_RG_SHIFT - 1)) - 1)

struct ags_sim {
    ags_config_t cfg;
    ags_mem_t *mem;
    ags_ept_t ept;
    ags_guest_t guest;
    ags_tlb_t tlb;
    /* For each L1 set (every machine's L1 has the same geometry), the line that
     * is the last one queued in that set in every machine (all ones: none). A data reference goes
     * to every machine, so to this line it is an L1 hit at the MRU way for all of them at once,
     * checked once instead of once per machine; a walk reference (one machine's) voids its set. */
    uint64_t *l1_mru_all;
    uint64_t l1_set_mask;
    ags_machine_t *m[AGS_MODE_COUNT];
    unsigned nm;
    unsigned va_bits;
    uint64_t va_mask;
    uint64_t instructions, accesses, tlb_misses, itlb_misses, dirty_assists, events, page_crossings;
    uint64_t all_bits;      /* valid bits of every machine sharing the TLB */
    uint64_t store_bits;    /* what a store needs in a TLB entry to go without the slow path: W, D (and
                             * agile's EPTD when it tracks data stores to large host pages) */
    uint64_t eptd_bits;     /* AGS_TLBE_EPTD if agile tracks data stores, else 0 */
    ags_machine_t *native_own; /* native with a TLB of its own, or NULL */
    int shared_leaf_reach;  /* native alone with guest pages > host pages: the TLB caches guest leaves */
    uint64_t next_scan, next_interval, next_timer; /* next_timer: min of the scan, interval and instr_at */
    uint64_t acc_at;        /* the access count at which the warm-up ends or the counted run stops */
    uint64_t instr_at;      /* the same on the instruction clock (folded into next_timer) */
    int warming;            /* the warm-up is not over */
    uint64_t instr_base;    /* instructions at the end of the warm-up */
    ags_interval_t *iv;
    size_t niv, capiv;
    double cpi_used;
    int finished;
    int deferred_err;
    /* bumped on every charge of a VM exit or VMM cycles in any machine; the value at the start of
     * the current slow path (attribution by region) */
    uint64_t vmm_charges, rg_charges;
    int vmm_failed;         /* set when any VMM set its sticky error */
    ags_cworker_t *workers;
    unsigned nworkers;
    /* attribution by region (ags_region_stats_t): the keys and access counts; the region of the
     * current access; a small MRU-first cache each for fetches and data (a program's data
     * accesses alternate between stack, heap and mappings) */
    ags_region_stats_t rg[AGS_MAX_REGIONS];
    unsigned nrg;
    unsigned cur_rg;
    struct ags_rgc { uint32_t pid; unsigned rg; uint64_t lo, hi; } rgc[2][AGS_RGC_WAYS];
    /* The region of each recently accessed 4 KiB page (direct-mapped on the page number; a
     * region's bounds are page-aligned): valid while `pg` is (rg_gen << 32 | pid). Every event
     * (the only thing that changes VMAs) starts a new generation. */
    struct ags_rgp { uint64_t vpn, pg; unsigned rg; } rgp[AGS_RGP_SIZE];
    uint32_t rg_gen;
    /* the pid of the last access, whose process is guest.cur, and its memo key (rg_gen << 32 |
     * pid); UINT64_MAX after every event (it may switch, end the process, start a generation) */
    uint64_t cur_pid, cur_pg;
    /* run_fast may be used (not --check, no TLB of native's own, the TLB on with both 4 KiB L1
     * arrays); and by access kind, the L1 TLB array for 4 KiB pages it looks up and the bits of
     * an entry it needs (all constant once created) */
    int fast;
    unsigned fast_skip, fast_backoff; /* general events before run_fast is tried again; the next wait */
    struct ags_fastk { ags_sa_t *sa; const uint64_t *tag, *val; uint64_t set_mask, ways, need; } fastk[4];
    const volatile sig_atomic_t *user_stop; /* ags_sim_set_stop's flag (the guest's, unless a group's) */
    /* The machines in groups (ags_sim_set_groups; group.c): this simulation runs the first group's
     * modes and the caller's handle; the others are simulations of their own on threads of their
     * own. NULL: one group, this simulation is the whole run. */
    struct ags_groups *grp;
    int dead;               /* ags_sim_set_groups could not rebuild this simulation: runs fail */
    char err[256];
};

/* sim.c: one simulation (one group of machines) */
int ags_sim_core_init(ags_sim_t *s, const ags_config_t *cfg);
void ags_sim_core_fini(ags_sim_t *s);
int ags_sim_run_core(ags_sim_t *s, const ags_event_t *ev, size_t n);
int ags_sim_core_threads(ags_sim_t *s, unsigned n);
void ags_sim_core_memory(const ags_sim_t *s, ags_sim_memory_t *out);
void ags_sim_core_finish(ags_sim_t *s, double cpi);

/* group.c: the machines in groups, each group on a thread (ags_sim_t.grp set) */
int ags_group_run(ags_sim_t *s, const ags_event_t *ev, size_t n);
void ags_group_finish(ags_sim_t *s);
void ags_group_teardown(ags_sim_t *s);
int ags_group_set_threads(ags_sim_t *s, unsigned n);
unsigned ags_group_worker_threads(const ags_sim_t *s);
void ags_group_memory(const ags_sim_t *s, ags_sim_memory_t *out);
const ags_config_t *ags_group_config(const ags_sim_t *s);
/* The simulation that runs mode (NULL: none); its statistics settled up to every event fed */
ags_sim_t *ags_group_core(const ags_sim_t *s, ags_mode_t mode);
const char *ags_group_errmsg(const ags_sim_t *s);
uint64_t ags_group_events_done(const ags_sim_t *s);

void ags_sim_set_err(ags_sim_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* machine.c */
int ags_machine_create(ags_sim_t *s, ags_mode_t mode, unsigned index, ags_machine_t **out);
void ags_machine_destroy(ags_machine_t *m);
/* A TLB miss in machine m: walk (with the VMM's fills), charge it, check it against the oracle x. */
int ags_machine_miss(ags_sim_t *s, ags_machine_t *m, ags_proc_t *p, uint64_t va, int is_store,
                     const ags_gxlate_t *x, int shared);

/* Replay machine m's queued cache references (ags_sim_cache_sync: every machine's). */
void ags_machine_cache_drain(ags_sim_t *s, ags_machine_t *m);
/* The replay loop with the AVX-512 set code (replay_avx512.c; only where m->cache.avx512). */
void ags_machine_replay_avx512(const ags_config_t *cfg, ags_machine_t *m, uint64_t *q, unsigned n);
void ags_sim_cache_sync(ags_sim_t *s);
int ags_sim_workers_start(ags_sim_t *s, unsigned n);
void ags_sim_workers_stop(ags_sim_t *s);
static inline void ags_machine_cache_push(ags_sim_t *s, ags_machine_t *m, uint64_t entry)
{
    uint64_t line = (entry >> 1) & AGS_CQ_LINE_MASK, set = line & s->l1_set_mask, *mru = &m->l1_mru[set];
    if (entry & 1)
        s->l1_mru_all[set] = UINT64_MAX; /* this machine's set differs now */
    if (line == *mru) {
        if (entry & 1) {
            m->walk_cycles += s->cfg.lat_l1;
            m->rg[entry >> AGS_CQ_RG_SHIFT].walk_cycles += s->cfg.lat_l1;
            m->st.walk_cache_hits[1]++;
        }
        return;
    }
    *mru = line;
    if (__builtin_expect(m->cqn == AGS_CQ_LEN, 0))
        ags_machine_cache_drain(s, m);
    m->cq[m->cqn++] = entry;
}

/* The faulting walk before a guest page fault, charged as an aborted walk. */
void ags_machine_fault_walk(ags_sim_t *s, ags_machine_t *m, ags_proc_t *p, uint64_t va);

/* stats.c */
static inline uint64_t ags_vmm_cycles_total(const ags_vmm_cycles_t *v)
{
    return v->pt_write + v->hidden_fault + v->guest_fault + v->cr3_write + v->invlpg + v->dirty +
           v->ept_violation + v->agile_switch + v->agile_revert + v->agile_scan + v->resync;
}
void ags_sim_reset_stats(ags_sim_t *s);
void ags_sim_record_interval(ags_sim_t *s);

#endif
