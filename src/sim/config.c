/* Model notes: default values and their sources are listed in docs/model.md. Defaults model a
 * current Intel server core (Skylake-SP / Ice Lake class TLBs and caches). */
#include "agilesim/config.h"
#include <stdio.h>
#include <string.h>

void ags_config_defaults(ags_config_t *c)
{
    memset(c, 0, sizeof(*c));
    c->guest_levels = 4;
    c->host_levels = 4;
    c->guest_page_shift = 12;
    c->host_page_shift = 12;
    c->host_backing_lazy = 0;
    c->flush_ceiling = 33;
    c->pcid = 1;
    c->pcids = 6;               /* Linux TLB_NR_DYN_ASIDS */
    c->guest_memory = 512ULL << 30;

    c->tlb_on = 1;
    c->l1d_4k = (ags_geom_t){ 64, 4 };
    c->l1d_2m = (ags_geom_t){ 32, 4 };
    c->l1d_1g = (ags_geom_t){ 4, 4 };
    c->l1i_4k = (ags_geom_t){ 128, 8 };
    c->l1i_2m = (ags_geom_t){ 8, 8 };
    c->l2_tlb = (ags_geom_t){ 1536, 12 };
    c->l2_tlb_1g = (ags_geom_t){ 16, 4 };
    c->pwc_on = 1;
    c->pwc = (ags_geom_t){ 32, 4 };
    c->ntlb_on = 1;
    c->ntlb = (ags_geom_t){ 32, 4 };

    c->caches_on = 1;
    c->l1c = (ags_geom_t){ 768, 12 };      /* 48 KiB, 12-way */
    c->l2c = (ags_geom_t){ 32768, 16 };    /* 2 MiB, 16-way */
    c->llc = (ags_geom_t){ 131072, 16 };   /* 8 MiB share of the LLC, 16-way */
    c->line_shift = 6;
    c->lat_pwc = 1;
    c->lat_l1 = 4;
    c->lat_l2 = 14;
    c->lat_llc = 54;
    c->lat_dram = 200;
    c->walk_latency_fixed = 0;
    c->walk_latency = 40;

    c->cpi = 1.0;
    c->native_cycles = 0;
    c->insn_per_access = 3;
    c->cost_exit = 1500;
    c->cost_pt_write = 2000;
    c->cost_hidden_fault = 1000;
    c->cost_reflect = 1000;
    c->cost_cr3 = 1000;
    c->cost_invlpg = 500;
    c->cost_dirty = 1000;
    c->cost_ept_violation = 1000;
    c->cost_switch = 2000;
    c->cost_switch_entry = 50;
    c->cost_scan_page = 20;
    c->cost_resync = 1000;
    c->cost_guest_fault = 1000;

    c->shadow_sync = AGS_SYNC_UNSYNC;   /* KVM's default (mmu.rst: unsync shadow pages) */
    c->flood_threshold = 3;             /* KVM detect_write_flooding */
    c->shadow_prefetch = 8;             /* KVM PTE_PREFETCH_NUM */
    c->agile_dirty = AGS_AGILE_DIRTY_PT_WRITE;

    c->agile_threshold = 2;
    c->agile_interval = 10000000;
    c->agile_start_shadow = 0;
    c->agile_ad_hw = 0;
    c->agile_cr3_cache = 0;
    c->agile_force_level = 0;

    c->modes = AGS_MODES_ALL;
    c->check = 0;
    c->interval = 0;
}

static int geom_ok(ags_geom_t g, int may_be_empty)
{
    if (!g.entries && !g.ways)
        return may_be_empty;
    if (!g.entries || !g.ways || g.entries % g.ways)
        return 0;
    uint32_t sets = g.entries / g.ways;
    return (sets & (sets - 1)) == 0 && g.ways <= 64;
}

#define FAIL(...)                                  \
    do {                                           \
        if (err)                                   \
            snprintf(err, errlen, __VA_ARGS__);    \
        return AGS_E_INVAL;                        \
    } while (0)

int ags_config_validate(const ags_config_t *c, char *err, size_t errlen)
{
    if (c->guest_levels != 4 && c->guest_levels != 5)
        FAIL("--guest-levels must be 4 or 5 (got %u)", c->guest_levels);
    if (c->host_levels != 4 && c->host_levels != 5)
        FAIL("--host-levels must be 4 or 5 (got %u)", c->host_levels);
    if (c->guest_page_shift != 12 && c->guest_page_shift != 21 && c->guest_page_shift != 30)
        FAIL("--guest-page must be 4k, 2m or 1g");
    if (c->host_page_shift != 12 && c->host_page_shift != 21 && c->host_page_shift != 30)
        FAIL("--host-page must be 4k, 2m or 1g");
    if (c->pcid && (c->pcids < 1 || c->pcids > 4095))
        FAIL("--pcids must be 1..4095 or off (got %u)", c->pcids);
    if (c->guest_memory < (64ULL << 20) || c->guest_memory > (1020ULL << 30))
        FAIL("--guest-memory must be from 64m to 1020g (got %llu bytes)", (unsigned long long)c->guest_memory);
    if (c->flush_ceiling > 64)
        FAIL("--flush-ceiling must be at most 64 (got %u)", c->flush_ceiling);
    struct { const char *name; ags_geom_t g; int empty; } gs[] = {
        { "--l1d-tlb", c->l1d_4k, 1 }, { "--l1d-tlb-2m", c->l1d_2m, 1 }, { "--l1d-tlb-1g", c->l1d_1g, 1 },
        { "--l1i-tlb", c->l1i_4k, 1 }, { "--l1i-tlb-2m", c->l1i_2m, 1 }, { "--l2-tlb", c->l2_tlb, 1 },
        { "--l2-tlb-1g", c->l2_tlb_1g, 1 }, { "--pwc", c->pwc, 0 }, { "--ntlb", c->ntlb, 0 },
        { "--l1-cache", c->l1c, 0 }, { "--l2-cache", c->l2c, 0 }, { "--llc", c->llc, 0 },
    };
    for (size_t i = 0; i < sizeof(gs) / sizeof(gs[0]); i++)
        if (!geom_ok(gs[i].g, gs[i].empty))
            FAIL("%s %u:%u: entries must be a multiple of ways, sets a power of two, ways <= 64",
                 gs[i].name, gs[i].g.entries, gs[i].g.ways);
    if (c->line_shift < 4 || c->line_shift > 12)
        FAIL("cache line size must be 16..4096 bytes");
    if (!(c->cpi > 0) || c->cpi > 1000)
        FAIL("--cpi must be in (0, 1000]");
    if (c->native_cycles < 0)
        FAIL("--native-cycles must be positive");
    if (c->agile_threshold < 1 || c->agile_threshold > 255)
        FAIL("--agile-threshold must be 1..255");
    if (c->agile_interval < 1000)
        FAIL("--agile-interval must be at least 1000 instructions");
    if (c->agile_cr3_cache > 4096)
        FAIL("--agile-cr3-cache must be at most 4096");
    if (c->agile_force_level > c->guest_levels + 1)
        FAIL("--agile-force-level must be 1..%u (guest levels + 1 = root nested)", c->guest_levels + 1);
    if (c->flood_threshold < 1 || c->flood_threshold > 255)
        FAIL("flood threshold must be 1..255");
    if (c->shadow_prefetch > 512 || (c->shadow_prefetch & (c->shadow_prefetch - 1)))
        FAIL("--shadow-prefetch must be 0 or a power of two up to 512 (got %u)", c->shadow_prefetch);
    if ((unsigned)c->agile_dirty > AGS_AGILE_DIRTY_EPT_AD)
        FAIL("--agile-dirty must be pt-write or ept-ad");
    if (c->warmup && c->warmup_instructions)
        FAIL("give the warm-up in accesses or in instructions, not both");
    if (c->max_accesses && c->max_instructions)
        FAIL("give the run length in accesses or in instructions, not both");
    if (!c->modes || (c->modes & ~AGS_MODES_ALL))
        FAIL("--modes selects none of native,nested,shadow,agile");
    if (c->walk_latency_fixed && c->walk_latency > 100000)
        FAIL("--walk-latency fixed:N: N too large");
    return AGS_OK;
}

static const char *const mode_names[AGS_MODE_COUNT] = { "native", "nested", "shadow", "agile" };

const char *ags_mode_name(ags_mode_t m) { return (unsigned)m < AGS_MODE_COUNT ? mode_names[m] : "?"; }

int ags_mode_parse(const char *name)
{
    for (int i = 0; i < AGS_MODE_COUNT; i++)
        if (!strcmp(name, mode_names[i]))
            return i;
    return -1;
}

const char *ags_strerror(int e)
{
    switch (e) {
    case AGS_OK: return "ok";
    case AGS_E_INVAL: return "invalid argument";
    case AGS_E_NOMEM: return "out of memory";
    case AGS_E_NONCANON: return "non-canonical address";
    case AGS_E_MISMATCH: return "translation mismatch (--check)";
    case AGS_E_INTERNAL: return "internal simulator error";
    case AGS_E_IO: return "I/O error";
    case AGS_E_FORMAT: return "malformed input";
    case AGS_E_BADPID: return "bad process id";
    case AGS_E_INTR: return "interrupted";
    default: return "unknown error";
    }
}
