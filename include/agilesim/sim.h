/* agilesim — the simulator handle: feed events, read statistics per mode. */
#ifndef AGILESIM_SIM_H
#define AGILESIM_SIM_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include "config.h"
#include "event.h"

#define AGS_HIST_MAX 64     /* walk_refs_hist buckets: refs per walk 0..63 */

/* VM exits by cause (the JSON key names of docs/cli.md). */
typedef struct {
    uint64_t total, pt_write, hidden_fault, guest_fault, cr3_write, invlpg, dirty, ept_violation;
} ags_exits_t;

/* VMM cycles by cause (exit round trip included in each cause). */
typedef struct {
    uint64_t pt_write, hidden_fault, guest_fault, cr3_write, invlpg, dirty, ept_violation;
    uint64_t agile_switch, agile_revert, agile_scan, resync;
} ags_vmm_cycles_t;

typedef struct {
    uint64_t total, base, walk, vmm, guest_kernel;
} ags_cycles_t;

/* Statistics of one machine (one mode). instructions and accesses are equal in every mode;
 * tlb_misses = the misses of the shared TLB (equal in every mode that shares it) + vmm_flush_misses
 * (misses caused by this machine's own VMM flushes). Native has a TLB of its own when guest pages
 * are larger than host pages (it caches the guest leaf size). */
typedef struct {
    uint64_t instructions, accesses, tlb_misses;
    uint64_t itlb_misses, dtlb_misses, l2tlb_hits;
    uint64_t walks, walk_refs;
    uint64_t walk_refs_hist[AGS_HIST_MAX];
    uint64_t walk_refs_guest, walk_refs_host, walk_refs_shadow;  /* by dimension */
    uint64_t aborted_walks, aborted_refs;   /* walks cut short: guest faults, hidden/dirty faults */
    uint64_t fault_walks;                   /* of them, the walks that found a guest page fault */
    uint64_t pwc_hits, ntlb_hits, ntlb_misses;
    uint64_t walk_cache_hits[5];            /* where walk references hit: PWC(unused), L1, L2, LLC, DRAM */
    ags_exits_t exits;
    ags_vmm_cycles_t vmm;
    struct {
        uint64_t to_nested, to_shadow, walks_full_shadow, scans;
        uint64_t switch_level_hist[7];      /* index = shadow level of the switch; 0: none */
        uint64_t nested_pages, shadow_pages; /* guest PT pages in each mode at the end */
    } agile;
    uint64_t shadow_pages_built, shadow_pages_zapped, shadow_pages_peak, resyncs, flood_zaps;
    uint64_t shadow_prefetched;             /* 4 KiB shadow entries filled by prefetch on hidden faults */
    uint64_t vmm_tlb_flushes;               /* TLB flushes the VMM caused (zaps, resyncs, agile switches, INVEPT) */
    uint64_t vmm_flush_misses;              /* TLB misses of this machine caused by them */
    uint64_t dirty_assists;                 /* first stores to a clean TLB entry */
    uint64_t page_crossings;                /* accesses that spanned two pages (two translations) */
    ags_cycles_t cycles;
    double overhead_vs_native;              /* NaN if native was not run */
    uint64_t counted_from_instruction;      /* the instruction at which counting began (the warm-up's end) */
    int warmup_incomplete;                  /* the input ended (or the run was stopped) before the warm-up
                                             * did: nothing was counted */
    uint64_t translation_checksum;
} ags_stats_t;

/* Statistics of the shared guest OS (same for every mode). */
typedef struct {
    uint64_t processes, forks, execs, exits, switches;
    uint64_t page_faults, cow_faults, implicit_maps;
    uint64_t pt_writes, pt_pages_alloc, pt_pages_free, pt_pages_peak;
    uint64_t frames_alloc, frames_free, frames_peak;
    uint64_t invlpg, full_flushes, cr3_writes, pcid_flushes;
    uint64_t mmaps, munmaps, mprotects, brks, mremaps;
    uint64_t guest_kernel_cycles;
} ags_guest_stats_t;

/* Per-interval statistics (every cfg.interval instructions). */
typedef struct {
    uint64_t instructions;                  /* at the end of the interval */
    uint64_t tlb_misses;
    uint64_t walk_refs[AGS_MODE_COUNT];
    uint64_t vm_exits[AGS_MODE_COUNT];
    uint64_t cycles[AGS_MODE_COUNT];
    uint64_t agile_nested_pages, agile_shadow_pages, agile_walks_full_shadow, agile_walks;
} ags_interval_t;

/* Attribution by region: each access is charged to the VMA it falls in (a region is a process's
 * VMA as first seen, keyed by its start; an access outside every VMA, as in a trace without
 * address-space events, to its 1 GiB-aligned range). Region 0 holds what belongs to no access
 * (address-space events, agile's scans): the totals minus the other regions. Region 1 holds the
 * regions beyond the first AGS_MAX_REGIONS - 2. Counted from the warm-up's end. */
#define AGS_MAX_REGIONS 64
typedef struct {
    uint32_t pid;                   /* 0: region 0 or 1 */
    uint64_t start, end;            /* [start, end): the VMA (its largest extent) or the range */
    uint32_t prot;                  /* AGS_PROT_* of the VMA when first seen; 0 for a range */
    int is_range;                   /* 1: an address range outside every VMA */
    uint64_t accesses;
    struct {
        uint64_t walks, walk_refs, walk_cycles;     /* completed walks; cycles include aborted walks */
        uint64_t vm_exits, vmm_cycles;
        uint64_t walks_full_shadow;                 /* agile */
    } mode[AGS_MODE_COUNT];
} ags_region_stats_t;

typedef struct ags_sim ags_sim_t;

int ags_sim_create(const ags_config_t *cfg, ags_sim_t **out);
void ags_sim_destroy(ags_sim_t *sim);

/* Feed events. Returns AGS_OK; AGS_SIM_DONE when a counted limit (max_accesses,
 * max_instructions) was reached (the events after the one that reached it were not consumed:
 * stop feeding); or an ags_err_t, with ags_sim_errmsg() saying what and where
 * (ags_sim_events_done(): the events before the one that failed). With machines in groups
 * (ags_sim_set_groups), the other groups follow the caller's a few batches behind, so an error
 * of theirs may be returned by a later call; a call with n = 0 waits until every group has run
 * every event fed and returns what they found (AGS_OK or the error of the earliest event). */
#define AGS_SIM_DONE 1
int ags_sim_run(ags_sim_t *sim, const ags_event_t *ev, size_t n);
/* Whether the warm-up is over (counting has begun). */
int ags_sim_counting(const ags_sim_t *sim);

/* Close the run: settle costs (cycles, overheads). Idempotent. */
void ags_sim_finish(ags_sim_t *sim);

const ags_config_t *ags_sim_config(const ags_sim_t *sim);
int ags_sim_has_mode(const ags_sim_t *sim, ags_mode_t m);
void ags_sim_stats(const ags_sim_t *sim, ags_mode_t m, ags_stats_t *out);
void ags_sim_guest_stats(const ags_sim_t *sim, ags_guest_stats_t *out);
/* The interval rows (with machines in groups, complete after ags_sim_finish). */
const ags_interval_t *ags_sim_intervals(const ags_sim_t *sim, size_t *n);
const char *ags_sim_errmsg(const ags_sim_t *sim);
/* The regions of the run (after ags_sim_finish): n entries, region 0 first. */
const ags_region_stats_t *ags_sim_regions(const ags_sim_t *sim, size_t *n);

/* Use up to n threads (1: none beyond the caller's). With caches on, the machines' cache models
 * then replay their queued references on n - 1 worker threads (at most one per machine) while the
 * caller's thread translates. With g groups, each group's thread counts as one, and the n - g
 * left are shared out as the groups' cache workers. Results are identical for every n. Call
 * between ags_sim_run calls; returns AGS_E_NOMEM if a thread could not be started (the run goes
 * on with fewer). */
int ags_sim_set_threads(ags_sim_t *sim, unsigned n);
/* The worker threads the simulator runs now (the groups' threads beyond the caller's and the cache
 * workers; 0 with one group and caches off or fixed walk latencies: nothing to replay). A caller
 * with threads to spare can use them, e.g. to read its input ahead. */
unsigned ags_sim_worker_threads(const ags_sim_t *sim);

/* Run the machines in g groups (g is capped at the number of modes; 0 or 1: one group, the
 * default). Each group is a simulation of its own, with its own guest, fed copies of the same
 * events on a thread of its own (the first group on the caller's); results are identical for
 * every g, since no machine's numbers depend on the others'. What it gains: the groups translate
 * side by side, so a stream with many TLB misses runs at the pace of the slowest group, not of
 * every machine in turn. What it costs: each group repeats the shared work (the TLB lookup, the
 * guest's page tables and its memory) and each event is copied once; a stream that mostly hits
 * the TLB runs no faster. Call before the first ags_sim_run, then ags_sim_set_threads (a group's
 * thread counts as one of its n). Returns AGS_E_INVAL after the first event, AGS_E_NOMEM if a
 * group or its thread could not be created (the run then stays in one group). */
int ags_sim_set_groups(ags_sim_t *sim, unsigned g);
/* The groups the machines run in (1 unless ags_sim_set_groups split them). */
unsigned ags_sim_groups(const ags_sim_t *sim);

/* A flag the caller sets (from a signal handler, say) to stop inside a long event: a fork, exit
 * or range change over many page tables returns AGS_E_INTR at its next table. The run's state
 * is then only good for reading statistics and ags_sim_destroy. NULL: never. */
void ags_sim_set_stop(ags_sim_t *sim, const volatile sig_atomic_t *flag);

/* The simulated host memory behind a run. Its reservation is sized from the configuration
 * (guest_memory and the modes); when RLIMIT_AS, the commit limit (vm.overcommit_memory=2) or
 * mmap refuses that, it is halved until it fits, and a run needing more ends with AGS_E_NOMEM
 * and a message naming the limit. Results never depend on the size reserved. */
#define AGS_MEMLIMIT_NONE 0
#define AGS_MEMLIMIT_RLIMIT_AS 1    /* ulimit -v */
#define AGS_MEMLIMIT_COMMIT 2       /* vm.overcommit_memory=2: CommitLimit */
#define AGS_MEMLIMIT_MMAP 3         /* mmap refused the size for another reason */
typedef struct {
    uint64_t guest_memory;          /* guest physical memory that fits (<= the configured size) */
    int limited_by;                 /* AGS_MEMLIMIT_*: why it is below the configured size */
    uint64_t limit;                 /* that limit in bytes (RLIMIT_AS, CommitLimit; 0 if unknown) */
    uint64_t reserved;              /* address space reserved (bytes) */
    uint64_t pt_resident;           /* page-table storage touched so far (bytes) */
} ags_sim_memory_t;
void ags_sim_memory(const ags_sim_t *sim, ags_sim_memory_t *out);
uint64_t ags_sim_events_done(const ags_sim_t *sim);

#endif
