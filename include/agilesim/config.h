/* agilesim — configuration: one struct, one defaults function, one validator. */
#ifndef AGILESIM_CONFIG_H
#define AGILESIM_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

/* Translation modes. A run may select any subset (bit i = mode i). */
typedef enum {
    AGS_MODE_NATIVE = 0,
    AGS_MODE_NESTED = 1,
    AGS_MODE_SHADOW = 2,
    AGS_MODE_AGILE = 3,
    AGS_MODE_COUNT = 4
} ags_mode_t;

#define AGS_MODES_ALL 0xfu


/* Set-associative geometry: entries and ways (entries % ways == 0, sets a power of two). */
typedef struct {
    uint32_t entries;
    uint32_t ways;
} ags_geom_t;

typedef enum { AGS_SYNC_WP = 0, AGS_SYNC_UNSYNC = 1 } ags_shadow_sync_t;
/* What sets agile's dirty flag of a guest page-table page (the EPT D bit of its host page). */
typedef enum {
    AGS_AGILE_DIRTY_PT_WRITE = 0,   /* guest writes and A/D updates to it (the hardware agile paging assumes) */
    AGS_AGILE_DIRTY_EPT_AD = 1      /* stock EPT A/D (SDM 28.3.3.2): also every walk that reads it */
} ags_agile_dirty_t;

typedef struct {
    /* --- memory and page tables --- */
    unsigned guest_levels;      /* 4 or 5 */
    unsigned host_levels;       /* 4 or 5 */
    unsigned guest_page_shift;  /* 12 (4K), 21 (2M THP), 30 (1G) */
    unsigned host_page_shift;   /* 12, 21, 30: EPT leaf size */
    int host_backing_lazy;      /* 0: prefaulted, 1: EPT violation exit per first touch */
    unsigned flush_ceiling;     /* per-page INVLPG up to this many pages, else full flush (Linux: 33) */
    int pcid;                   /* 1: TLB entries are tagged by PCID (0: every switch flushes) */
    unsigned pcids;             /* dynamic PCIDs per CPU (Linux TLB_NR_DYN_ASIDS: 6) */
    uint64_t guest_memory;      /* the guest's physical memory (bytes; 64 MiB .. 1020 GiB): a run
                                 * that needs more stops with an error (no swapping is modelled) */

    /* --- translation hardware --- */
    int tlb_on;
    ags_geom_t l1d_4k, l1d_2m, l1d_1g, l1i_4k, l1i_2m, l2_tlb, l2_tlb_1g;
    int pwc_on;
    ags_geom_t pwc;             /* per level (2..levels) and per dimension */
    int ntlb_on;
    ags_geom_t ntlb;            /* nested TLB: gPA -> hPA */

    /* --- cache hierarchy for walk and data references --- */
    int caches_on;
    ags_geom_t l1c, l2c, llc;   /* entries are lines */
    unsigned line_shift;        /* 6: 64-byte lines */
    unsigned lat_pwc, lat_l1, lat_l2, lat_llc, lat_dram;
    int walk_latency_fixed;     /* 1: every walk reference costs walk_latency cycles */
    unsigned walk_latency;

    /* --- cost model (cycles) --- */
    double cpi;                 /* base cycles per guest instruction */
    double native_cycles;       /* >0: calibrate base CPI so native total = this */
    uint64_t insn_per_access;   /* instructions per access for inputs without icounts (0: 1) */
    unsigned cost_exit;         /* VM exit + entry round trip */
    unsigned cost_pt_write;     /* emulate a trapped guest PT write */
    unsigned cost_hidden_fault; /* fill shadow entries */
    unsigned cost_reflect;      /* reflect a guest page fault */
    unsigned cost_cr3;          /* find/sync the shadow root */
    unsigned cost_invlpg;
    unsigned cost_dirty;        /* emulate the dirty bit (set guest D, make shadow writable) */
    unsigned cost_ept_violation;
    unsigned cost_switch;       /* agile: switch/revert one guest PT page */
    unsigned cost_switch_entry; /* agile: per shadow entry rebuilt */
    unsigned cost_scan_page;    /* agile: per NESTED page per scan */
    unsigned cost_resync;       /* unsync: resynchronise one shadow page */
    unsigned cost_guest_fault;  /* guest page-fault handler (every mode) */

    /* --- shadow VMM --- */
    ags_shadow_sync_t shadow_sync;
    unsigned flood_threshold;   /* unsync: zap a non-leaf shadow page after this many writes */
    unsigned shadow_prefetch;   /* fill up to N neighbouring 4 KiB entries on a hidden fault (KVM: 8; 0 off) */

    /* --- agile VMM --- */
    unsigned agile_threshold;   /* trapped writes (and changed resyncs) before a SHADOW page goes NESTED */
    ags_agile_dirty_t agile_dirty;
    uint64_t agile_interval;    /* guest instructions between dirty scans */
    int agile_start_shadow;     /* new processes start SHADOW at the root */
    int agile_ad_hw;            /* hardware A/D in guest and shadow entries */
    unsigned agile_cr3_cache;   /* gCR3 -> sCR3 cache entries (0: none) */
    unsigned agile_force_level; /* 0: dynamic; L: pin the switch at shadow level L (1: all shadow, levels+1: root nested) */
    int agile_revert_one_level; /* 1: a scan reverts only pages whose parent was SHADOW before it
                                 * (one level per interval); 0: the scan walks each table top-down
                                 * and a child of a page it just reverted qualifies too */

    /* --- run --- */
    unsigned modes;             /* bitmask of ags_mode_t */
    int check;                  /* compare every walk with the oracle */
    uint64_t interval;          /* per-interval statistics every N instructions (0: off) */
    uint64_t warmup;            /* simulate the first N accesses without counting them (0: none) */
    uint64_t warmup_instructions; /* ... or the first N instructions (ChampSim's convention; 0: none) */
    uint64_t max_accesses;      /* stop after N counted accesses (0: at the end of the input) */
    uint64_t max_instructions;  /* stop after N counted instructions (0: at the end of the input) */
} ags_config_t;

void ags_config_defaults(ags_config_t *cfg);

/* Validate once, before a run. Returns AGS_OK, or AGS_E_INVAL with a message in err. */
int ags_config_validate(const ags_config_t *cfg, char *err, size_t errlen);

const char *ags_mode_name(ags_mode_t m);
int ags_mode_parse(const char *name);   /* -1 if unknown */

#endif
