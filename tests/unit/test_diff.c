/* Differential oracle: all four modes must produce the same translation for every TLB miss,
 * on every built-in workload, under many configurations (--check is on: any machine whose walk
 * disagrees with the guest's functional translation stops the run). Also checks invariants
 * that hold in every mode: the same TLB misses, one completed walk per miss. */
#include "simtest.h"
#include "sim/sim_internal.h"

/* The oracle's memo of leaf tables gives what the full descent gives, for the addresses of the
 * batch just run (every 5th access, in the process that made it), as the tables change under
 * every workload and configuration. Returns the mismatches; counts the memo's hits. */
static unsigned memo_agrees(ags_sim_t *s, const ags_event_t *ev, size_t n, uint64_t *hits)
{
    ags_guest_t *g = &s->guest;
    unsigned bad = 0;
    for (size_t i = 0; i < n; i += 5) {
        ags_proc_t *p = ev[i].type == AGS_EV_ACCESS ? ags_guest_proc(g, ev[i].pid) : NULL;
        if (!p)
            continue;
        uint64_t va = ev[i].addr & ((1ULL << g->va_bits) - 1);
        const struct ags_gmemo *m = &g->memo[(va >> 21) & (AGS_GMEMO_SIZE - 1)];
        *hits += m->gen == g->pt_gen && m->region == va >> 21 && m->root == p->root;
        ags_gxlate_t a, b;
        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        int ma = ags_guest_xlate_memo(g, p, va, &a), mb = ags_guest_xlate(g, p, va, &b);
        int same = ma == mb && a.leaf_level == b.leaf_level;
        for (unsigned l = g->levels; same && l >= b.leaf_level; l--)
            same = a.slot[l] == b.slot[l] && a.idx[l] == b.idx[l];
        if (same && mb)
            same = a.gpa == b.gpa && a.hpa == b.hpa && a.pte == b.pte && a.page_shift == b.page_shift;
        bad += !same;
    }
    return bad;
}

typedef struct {
    const char *name;
    void (*set)(ags_config_t *c);
} variant_t;

static void v_default(ags_config_t *c) { (void)c; }
static void v_bare(ags_config_t *c) { c->tlb_on = 0; c->pwc_on = 0; c->ntlb_on = 0; c->caches_on = 0; }
static void v_g2m(ags_config_t *c) { c->guest_page_shift = 21; }
static void v_h2m(ags_config_t *c) { c->host_page_shift = 21; }
static void v_22(ags_config_t *c) { c->guest_page_shift = 21; c->host_page_shift = 21; }
static void v_g1g_h2m(ags_config_t *c) { c->guest_page_shift = 30; c->host_page_shift = 21; }
static void v_h1g(ags_config_t *c) { c->host_page_shift = 30; }
static void v_5lvl(ags_config_t *c) { c->guest_levels = 5; c->host_levels = 5; }
static void v_wp(ags_config_t *c) { c->shadow_sync = AGS_SYNC_WP; c->shadow_prefetch = 0; }
static void v_unsync(ags_config_t *c) { c->shadow_sync = AGS_SYNC_UNSYNC; }
static void v_churn(ags_config_t *c) { c->agile_interval = 1000; c->agile_threshold = 1; }
static void v_churn_wp_eptad(ags_config_t *c) { v_churn(c); v_wp(c); c->agile_dirty = AGS_AGILE_DIRTY_EPT_AD; c->host_page_shift = 21; }
static void v_churn_unsync(ags_config_t *c) { v_churn(c); v_unsync(c); c->agile_cr3_cache = 4; }
static void v_start_shadow(ags_config_t *c) { c->agile_start_shadow = 1; c->agile_interval = 5000; c->agile_ad_hw = 1; }
static void v_nopcid(ags_config_t *c) { c->pcid = 0; c->host_backing_lazy = 1; c->flush_ceiling = 0; }
static void v_tiny_tlb(ags_config_t *c) { c->l1d_4k = (ags_geom_t){ 4, 2 }; c->l2_tlb = (ags_geom_t){ 8, 2 }; c->pwc = (ags_geom_t){ 2, 1 }; c->ntlb = (ags_geom_t){ 2, 2 }; }

static const variant_t variants[] = {
    { "default", v_default }, { "bare", v_bare }, { "guest2m", v_g2m }, { "host2m", v_h2m },
    { "2m/2m", v_22 }, { "guest1g/host2m", v_g1g_h2m }, { "host1g", v_h1g }, { "5-level", v_5lvl },
    { "unsync", v_unsync }, { "wp", v_wp }, { "agile-churn", v_churn }, { "agile-churn-wp-eptad-h2m", v_churn_wp_eptad }, { "agile-churn-unsync", v_churn_unsync },
    { "agile-start-shadow", v_start_shadow }, { "nopcid-lazy", v_nopcid }, { "tiny-tlb", v_tiny_tlb },
};

int main(int argc, char **argv)
{
    uint64_t accesses = argc > 1 ? strtoull(argv[1], NULL, 0) : 60000;
    size_t nwl;
    const ags_workload_info_t *wl = ags_workload_list(&nwl);
    ags_event_t *buf = malloc(4096 * sizeof(ags_event_t));
    uint64_t switches = 0, reverts = 0, memo_hits = 0;
    for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
        for (size_t w = 0; w < nwl; w++) {
            ags_config_t c;
            ags_config_defaults(&c);
            c.check = 1;
            variants[v].set(&c);
            ags_sim_t *s = sim_new(&c);
            ags_workload_t *g;
            if (ags_workload_create(wl[w].name, accesses, 64ULL << 20, 7, &g)) {
                CHECK(0);
                continue;
            }
            size_t n;
            int rc = 0;
            unsigned memo_bad = 0;
            while (!rc && (n = ags_workload_next(g, buf, 4096)) > 0) {
                rc = ags_sim_run(s, buf, n);
                memo_bad += memo_agrees(s, buf, n, &memo_hits);
            }
            CHECK_EQ(memo_bad, 0);
            if (rc)
                fprintf(stderr, "%s / %s: %s\n", variants[v].name, wl[w].name, ags_sim_errmsg(s));
            CHECK_EQ(rc, 0);
            ags_sim_finish(s);
            ags_stats_t st[AGS_MODE_COUNT];
            for (unsigned m = 0; m < AGS_MODE_COUNT; m++)
                st[m] = st_of(s, (ags_mode_t)m);
            /* the modes that share the TLB (all, except native when guest pages are larger than
             * host pages: it has a TLB of guest-leaf reach) see the same misses, walk once per
             * miss (the shared ones and those their own VMM's flushes caused), and translate
             * identically; native and nested never flush */
            unsigned ref = c.guest_page_shift > c.host_page_shift ? AGS_MODE_NESTED : AGS_MODE_NATIVE;
            for (unsigned m = 0; m < AGS_MODE_COUNT; m++) {
                CHECK_EQ(st[m].walks, st[m].tlb_misses);
                if (m < ref)
                    continue;
                if (st[m].translation_checksum != st[ref].translation_checksum)
                    fprintf(stderr, "%s / %s: %s checksum differs\n", variants[v].name, wl[w].name,
                            ags_mode_name((ags_mode_t)m));
                CHECK_EQ(st[m].translation_checksum, st[ref].translation_checksum);
                CHECK_EQ(st[m].tlb_misses - st[m].vmm_flush_misses, st[ref].tlb_misses);
            }
            CHECK_EQ(st[AGS_MODE_NATIVE].vmm_flush_misses + st[AGS_MODE_NESTED].vmm_flush_misses, 0);
            CHECK(st[0].tlb_misses > 0);
            if (ref == AGS_MODE_NESTED) /* native's larger reach: fewer misses */
                CHECK(st[AGS_MODE_NATIVE].tlb_misses <= st[AGS_MODE_NESTED].tlb_misses);
            CHECK_EQ(st[AGS_MODE_NATIVE].exits.total, 0);
            CHECK_EQ(st[AGS_MODE_NESTED].exits.total, st[AGS_MODE_NESTED].exits.ept_violation);
            if (!c.host_backing_lazy)
                CHECK_EQ(st[AGS_MODE_NESTED].exits.total, 0);
            switches += st[AGS_MODE_AGILE].agile.to_nested;
            reverts += st[AGS_MODE_AGILE].agile.to_shadow;
            ags_workload_destroy(g);
            ags_sim_destroy(s);
        }
    }
    /* the churn variants must really have exercised both directions many times */
    printf("agile switches to nested: %llu, reverts to shadow: %llu\n", (unsigned long long)switches,
           (unsigned long long)reverts);
    CHECK(switches > 100);
    CHECK(reverts > 100);
    printf("oracle memo hits on the addresses compared: %llu\n", (unsigned long long)memo_hits);
    CHECK(memo_hits > 10000);
    free(buf);
    TEST_END();
}
