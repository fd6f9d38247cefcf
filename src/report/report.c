/* Model notes: none — output formatting. JSON follows docs/cli.md (schema_version 1) and adds
 * keys, never renames. Every configuration parameter is echoed. */
#include "agilesim/report.h"
#include "agilesim/workload.h"
#include "util.h"
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ config echo */

typedef enum { F_UINT, F_U64, F_INT, F_DBL, F_GEOM, F_SYNC, F_ADIRTY } ftype_t;
typedef struct {
    const char *name;
    ftype_t type;
    size_t off;
} field_t;

#define F(n, t) { #n, t, offsetof(ags_config_t, n) }
static const field_t cfg_fields[] = {
    F(guest_levels, F_UINT), F(host_levels, F_UINT), F(guest_page_shift, F_UINT), F(host_page_shift, F_UINT),
    F(host_backing_lazy, F_INT), F(flush_ceiling, F_UINT), F(pcid, F_INT), F(pcids, F_UINT), F(guest_memory, F_U64), F(tlb_on, F_INT),
    F(l1d_4k, F_GEOM), F(l1d_2m, F_GEOM), F(l1d_1g, F_GEOM), F(l1i_4k, F_GEOM), F(l1i_2m, F_GEOM),
    F(l2_tlb, F_GEOM), F(l2_tlb_1g, F_GEOM), F(pwc_on, F_INT), F(pwc, F_GEOM), F(ntlb_on, F_INT), F(ntlb, F_GEOM),
    F(caches_on, F_INT), F(l1c, F_GEOM), F(l2c, F_GEOM), F(llc, F_GEOM), F(line_shift, F_UINT),
    F(lat_pwc, F_UINT), F(lat_l1, F_UINT), F(lat_l2, F_UINT), F(lat_llc, F_UINT), F(lat_dram, F_UINT),
    F(walk_latency_fixed, F_INT), F(walk_latency, F_UINT), F(cpi, F_DBL), F(native_cycles, F_DBL),
    F(insn_per_access, F_U64), F(cost_exit, F_UINT), F(cost_pt_write, F_UINT), F(cost_hidden_fault, F_UINT),
    F(cost_reflect, F_UINT), F(cost_cr3, F_UINT), F(cost_invlpg, F_UINT), F(cost_dirty, F_UINT),
    F(cost_ept_violation, F_UINT), F(cost_switch, F_UINT), F(cost_switch_entry, F_UINT),
    F(cost_scan_page, F_UINT), F(cost_resync, F_UINT), F(cost_guest_fault, F_UINT), F(shadow_sync, F_SYNC),
    F(flood_threshold, F_UINT), F(shadow_prefetch, F_UINT), F(agile_threshold, F_UINT), F(agile_dirty, F_ADIRTY), F(agile_interval, F_U64),
    F(agile_start_shadow, F_INT), F(agile_ad_hw, F_INT), F(agile_cr3_cache, F_UINT),
    F(agile_force_level, F_UINT), F(agile_revert_one_level, F_INT), F(modes, F_UINT), F(check, F_INT), F(interval, F_U64), F(warmup, F_U64),
    F(warmup_instructions, F_U64), F(max_accesses, F_U64), F(max_instructions, F_U64),
};

/* The length of a valid UTF-8 sequence at s (1-4), or 0 (a stray, overlong or surrogate byte). */
static int utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    int n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (n <= 1)
        return n;
    uint32_t cp = c & (0x7fu >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* A JSON string: escapes, and U+FFFD for bytes that are not UTF-8 (a file name may hold any). */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    while (s && *s) {
        unsigned char c = (unsigned char)*s;
        int n = utf8_len((const unsigned char *)s);
        if (!n) {
            fputs("\\ufffd", f);
            s++;
        } else if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
            s++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
            s++;
        } else {
            fwrite(s, 1, (size_t)n, f);
            s += n;
        }
    }
    fputc('"', f);
}

/* Text in SVG/XML: &, <, >, quotes escaped; control characters and non-UTF-8 bytes as U+FFFD. */
static void xml_str(FILE *f, const char *s)
{
    while (s && *s) {
        unsigned char c = (unsigned char)*s;
        int n = utf8_len((const unsigned char *)s);
        if (!n || (c < 0x20 && c != '\t') || c == 0x7f) {
            fputs("&#xfffd;", f);
            s++;
            continue;
        }
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: fwrite(s, 1, (size_t)n, f); break;
        }
        s += n;
    }
}

static void json_dbl(FILE *f, double d)
{
    if (isnan(d) || isinf(d))
        fputs("null", f);
    else
        fprintf(f, "%.6g", d);
}

static void json_config(FILE *f, const ags_config_t *c)
{
    fputs("{", f);
    for (size_t i = 0; i < sizeof(cfg_fields) / sizeof(cfg_fields[0]); i++) {
        const field_t *fl = &cfg_fields[i];
        const char *p = (const char *)c + fl->off;
        fprintf(f, "%s\n    \"%s\": ", i ? "," : "", fl->name);
        switch (fl->type) {
        case F_UINT: fprintf(f, "%u", *(const unsigned *)p); break;
        case F_U64: fprintf(f, "%llu", (unsigned long long)*(const uint64_t *)p); break;
        case F_INT: fprintf(f, "%d", *(const int *)p); break;
        case F_DBL: json_dbl(f, *(const double *)p); break;
        case F_GEOM: {
            const ags_geom_t *g = (const ags_geom_t *)p;
            fprintf(f, "{\"entries\": %u, \"ways\": %u}", g->entries, g->ways);
            break;
        }
        case F_SYNC: fputs(*(const ags_shadow_sync_t *)p == AGS_SYNC_UNSYNC ? "\"unsync\"" : "\"wp\"", f); break;
        case F_ADIRTY: fputs(*(const ags_agile_dirty_t *)p == AGS_AGILE_DIRTY_EPT_AD ? "\"ept-ad\"" : "\"pt-write\"", f); break;
        }
    }
    fputs("\n  }", f);
}

#define U(x) ((unsigned long long)(x))

static void json_run(FILE *f, const ags_run_t *r)
{
    const ags_stats_t *s = &r->st;
    fputs("    {\"workload\": ", f);
    json_str(f, r->workload);
    fprintf(f, ", \"mode\": \"%s\",\n", ags_mode_name(r->mode));
    fprintf(f, "      \"instructions\": %llu, \"accesses\": %llu, \"tlb_misses\": %llu, \"walks\": %llu,\n",
            U(s->instructions), U(s->accesses), U(s->tlb_misses), U(s->walks));
    fprintf(f, "      \"walk_refs\": %llu, \"walk_refs_hist\": {", U(s->walk_refs));
    int first = 1;
    for (unsigned i = 0; i < AGS_HIST_MAX; i++)
        if (s->walk_refs_hist[i]) {
            fprintf(f, "%s\"%u\": %llu", first ? "" : ", ", i, U(s->walk_refs_hist[i]));
            first = 0;
        }
    fputs("},\n", f);
    const ags_exits_t *e = &s->exits;
    fprintf(f,
            "      \"vm_exits\": {\"total\": %llu, \"pt_write\": %llu, \"hidden_fault\": %llu, \"guest_fault\": %llu, "
            "\"cr3_write\": %llu, \"invlpg\": %llu, \"dirty\": %llu, \"ept_violation\": %llu},\n",
            U(e->total), U(e->pt_write), U(e->hidden_fault), U(e->guest_fault), U(e->cr3_write), U(e->invlpg),
            U(e->dirty), U(e->ept_violation));
    fprintf(f, "      \"agile\": {\"to_nested\": %llu, \"to_shadow\": %llu, \"walks_full_shadow\": %llu, "
               "\"scans\": %llu, \"nested_pages\": %llu, \"shadow_pages\": %llu, \"switch_level_hist\": {",
            U(s->agile.to_nested), U(s->agile.to_shadow), U(s->agile.walks_full_shadow), U(s->agile.scans),
            U(s->agile.nested_pages), U(s->agile.shadow_pages));
    first = 1;
    for (unsigned i = 0; i < 7; i++)
        if (s->agile.switch_level_hist[i]) {
            fprintf(f, "%s\"%u\": %llu", first ? "" : ", ", i, U(s->agile.switch_level_hist[i]));
            first = 0;
        }
    fputs("}},\n", f);
    const ags_cycles_t *c = &s->cycles;
    fprintf(f, "      \"cycles\": {\"total\": %llu, \"base\": %llu, \"walk\": %llu, \"vmm\": %llu, \"guest_kernel\": %llu},\n",
            U(c->total), U(c->base), U(c->walk), U(c->vmm), U(c->guest_kernel));
    const ags_vmm_cycles_t *v = &s->vmm;
    fprintf(f, "      \"vmm_cycles\": {\"pt_write\": %llu, \"hidden_fault\": %llu, \"guest_fault\": %llu, \"cr3_write\": %llu, "
               "\"invlpg\": %llu, \"dirty\": %llu, \"ept_violation\": %llu, \"agile_switch\": %llu, \"agile_revert\": %llu, "
               "\"agile_scan\": %llu, \"resync\": %llu},\n",
            U(v->pt_write), U(v->hidden_fault), U(v->guest_fault), U(v->cr3_write), U(v->invlpg), U(v->dirty),
            U(v->ept_violation), U(v->agile_switch), U(v->agile_revert), U(v->agile_scan), U(v->resync));
    fprintf(f, "      \"walk_refs_by_dim\": {\"guest\": %llu, \"host\": %llu, \"shadow\": %llu}, "
               "\"aborted_walks\": %llu, \"fault_walks\": %llu, \"aborted_refs\": %llu, \"pwc_hits\": %llu, \"ntlb_hits\": %llu, \"ntlb_misses\": %llu,\n",
            U(s->walk_refs_guest), U(s->walk_refs_host), U(s->walk_refs_shadow), U(s->aborted_walks), U(s->fault_walks),
            U(s->aborted_refs), U(s->pwc_hits), U(s->ntlb_hits), U(s->ntlb_misses));
    fprintf(f, "      \"walk_ref_hits\": {\"l1\": %llu, \"l2\": %llu, \"llc\": %llu, \"dram\": %llu}, "
               "\"itlb_misses\": %llu, \"dtlb_misses\": %llu, \"dirty_assists\": %llu, \"page_crossings\": %llu,\n",
            U(s->walk_cache_hits[1]), U(s->walk_cache_hits[2]), U(s->walk_cache_hits[3]), U(s->walk_cache_hits[4]),
            U(s->itlb_misses), U(s->dtlb_misses), U(s->dirty_assists), U(s->page_crossings));
    fprintf(f, "      \"shadow_pages\": {\"built\": %llu, \"zapped\": %llu, \"peak\": %llu, \"resyncs\": %llu, \"flood_zaps\": %llu, "
               "\"prefetched\": %llu},\n",
            U(s->shadow_pages_built), U(s->shadow_pages_zapped), U(s->shadow_pages_peak), U(s->resyncs),
            U(s->flood_zaps), U(s->shadow_prefetched));
    fprintf(f, "      \"vmm_tlb_flushes\": %llu, \"vmm_flush_misses\": %llu,\n", U(s->vmm_tlb_flushes),
            U(s->vmm_flush_misses));
    const ags_guest_stats_t *g = &r->guest;
    fprintf(f, "      \"guest\": {\"processes\": %llu, \"page_faults\": %llu, \"cow_faults\": %llu, \"pt_writes\": %llu, "
               "\"pt_pages_peak\": %llu, \"frames_peak\": %llu, \"invlpg\": %llu, \"full_flushes\": %llu, \"cr3_writes\": %llu, "
               "\"implicit_maps\": %llu, \"pcid_flushes\": %llu},\n",
            U(g->processes), U(g->page_faults), U(g->cow_faults), U(g->pt_writes), U(g->pt_pages_peak),
            U(g->frames_peak), U(g->invlpg), U(g->full_flushes), U(g->cr3_writes), U(g->implicit_maps),
            U(g->pcid_flushes));
    fputs("      \"overhead_vs_native\": ", f);
    json_dbl(f, s->overhead_vs_native);
    fprintf(f, ", \"translation_checksum\": \"%016llx\", \"interrupted\": %s,\n", U(s->translation_checksum),
            r->interrupted ? "true" : "false");
    fprintf(f, "      \"counted_from_instruction\": %llu, \"counted_instructions\": %llu, \"counted_accesses\": %llu, "
               "\"warmup_incomplete\": %s",
            U(s->counted_from_instruction), U(s->instructions), U(s->accesses), s->warmup_incomplete ? "true" : "false");
    if (r->regions) {
        fputs(",\n      \"regions\": [", f);
        for (size_t k = 0; k < r->nregions; k++) {
            const ags_region_stats_t *rg = &r->regions[k];
            const char *kind = k == 0 ? "no-access" : k == 1 ? "other" : rg->is_range ? "range" : "vma";
            if (k == 1 && !rg->accesses)
                continue; /* no overflow */
            fprintf(f, "%s\n        {\"kind\": \"%s\", \"pid\": %u, \"start\": \"0x%llx\", \"end\": \"0x%llx\", "
                       "\"prot\": \"%c%c%c\", \"accesses\": %llu, \"walks\": %llu, \"walk_refs\": %llu, "
                       "\"walk_cycles\": %llu, \"vm_exits\": %llu, \"vmm_cycles\": %llu, \"walks_full_shadow\": %llu}",
                    k ? "," : "", kind, rg->pid, U(rg->start), U(rg->end), rg->prot & AGS_PROT_R ? 'r' : '-',
                    rg->prot & AGS_PROT_W ? 'w' : '-', rg->prot & AGS_PROT_X ? 'x' : '-', U(rg->accesses),
                    U(rg->mode[r->mode].walks), U(rg->mode[r->mode].walk_refs), U(rg->mode[r->mode].walk_cycles),
                    U(rg->mode[r->mode].vm_exits), U(rg->mode[r->mode].vmm_cycles), U(rg->mode[r->mode].walks_full_shadow));
        }
        fputs("]", f);
    }
    fputs("}", f);
}

int ags_report_json(FILE *f, const ags_report_t *r)
{
    fprintf(f, "{\"schema_version\": 1, \"tool\": \"agilesim\", \"version\": \"%s\", \"command\": ", AGS_VERSION);
    json_str(f, r->command);
    if (r->nlabels) {
        fputs(",\n  \"labels\": {", f);
        for (size_t i = 0; i < r->nlabels; i++) {
            fputs(i ? ", " : "", f);
            json_str(f, r->labels[2 * i]);
            fputs(": ", f);
            json_str(f, r->labels[2 * i + 1]);
        }
        fputs("}", f);
    }
    fprintf(f, ",\n  \"workload_params\": {\"accesses\": %llu, \"footprint\": %llu, \"seed\": %llu},\n",
            U(r->accesses), U(r->footprint), U(r->seed));
    fputs("  \"config\": ", f);
    json_config(f, r->cfg);
    fputs(",\n  \"runs\": [\n", f);
    for (size_t i = 0; i < r->nruns; i++) {
        json_run(f, &r->runs[i]);
        fputs(i + 1 < r->nruns ? ",\n" : "\n", f);
    }
    fputs("  ]", f);
    if (r->nivs) {
        fputs(",\n  \"intervals\": [\n", f);
        for (size_t k = 0; k < r->nivs; k++) {
            const ags_run_intervals_t *ri = &r->ivs[k];
            fputs("    {\"workload\": ", f);
            json_str(f, ri->workload);
            fputs(", \"rows\": [\n", f);
            for (size_t i = 0; i < ri->n; i++) {
                const ags_interval_t *iv = &ri->iv[i];
                fprintf(f, "      {\"instructions\": %llu, \"tlb_misses\": %llu", U(iv->instructions), U(iv->tlb_misses));
                for (unsigned m = 0; m < AGS_MODE_COUNT; m++)
                    if (ri->modes & (1u << m))
                        fprintf(f, ", \"%s\": {\"walk_refs\": %llu, \"vm_exits\": %llu, \"cycles\": %llu}",
                                ags_mode_name((ags_mode_t)m), U(iv->walk_refs[m]), U(iv->vm_exits[m]), U(iv->cycles[m]));
                if (ri->modes & (1u << AGS_MODE_AGILE))
                    fprintf(f, ", \"agile_nested_pages\": %llu, \"agile_shadow_pages\": %llu, "
                               "\"agile_walks_full_shadow\": %llu, \"agile_walks\": %llu",
                            U(iv->agile_nested_pages), U(iv->agile_shadow_pages), U(iv->agile_walks_full_shadow),
                            U(iv->agile_walks));
                fputs(i + 1 < ri->n ? "},\n" : "}\n", f);
            }
            fputs(k + 1 < r->nivs ? "    ]},\n" : "    ]}\n", f);
        }
        fputs("  ]", f);
    }
    fputs("\n}\n", f);
    return ferror(f) ? -1 : 0;
}

/* ------------------------------------------------------------------ CSV */

#define CSV_NCOLS 30 /* the columns of the header below */

/* A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180). */
void ags_report_csv_str(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* The --label values that lead every row (their keys lead the header) */
static void csv_labels(FILE *f, const ags_report_t *r, int keys)
{
    for (size_t i = 0; i < r->nlabels; i++) {
        ags_report_csv_str(f, r->labels[2 * i + !keys]);
        fputc(',', f);
    }
}

int ags_report_csv(FILE *f, const ags_report_t *r)
{
    csv_labels(f, r, 1);
    fputs("kind,workload,mode,instructions,accesses,tlb_misses,walks,walk_refs,refs_per_walk,"
          "vm_exits_total,vm_exits_pt_write,vm_exits_hidden_fault,vm_exits_guest_fault,vm_exits_cr3_write,"
          "vm_exits_invlpg,vm_exits_dirty,vm_exits_ept_violation,agile_to_nested,agile_to_shadow,"
          "agile_walks_full_shadow,cycles_total,cycles_base,cycles_walk,cycles_vmm,cycles_guest_kernel,"
          "overhead_vs_native,translation_checksum,interrupted,vmm_tlb_flushes,vmm_flush_misses\n", f);
    for (size_t i = 0; i < r->nruns; i++) {
        const ags_run_t *run = &r->runs[i];
        const ags_stats_t *s = &run->st;
        csv_labels(f, r, 0);
        fputs("run,", f);
        ags_report_csv_str(f, run->workload);
        fprintf(f, ",%s,%llu,%llu,%llu,%llu,%llu,%.4f,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,"
                   "%llu,%llu,%llu,%llu,%llu,",
                ags_mode_name(run->mode), U(s->instructions), U(s->accesses), U(s->tlb_misses),
                U(s->walks), U(s->walk_refs), s->walks ? (double)s->walk_refs / (double)s->walks : 0.0,
                U(s->exits.total), U(s->exits.pt_write), U(s->exits.hidden_fault), U(s->exits.guest_fault),
                U(s->exits.cr3_write), U(s->exits.invlpg), U(s->exits.dirty), U(s->exits.ept_violation),
                U(s->agile.to_nested), U(s->agile.to_shadow), U(s->agile.walks_full_shadow), U(s->cycles.total),
                U(s->cycles.base), U(s->cycles.walk), U(s->cycles.vmm), U(s->cycles.guest_kernel));
        if (isnan(s->overhead_vs_native))
            fputs("", f);
        else
            fprintf(f, "%.6f", s->overhead_vs_native);
        fprintf(f, ",%016llx,%d,%llu,%llu\n", U(s->translation_checksum), run->interrupted, U(s->vmm_tlb_flushes),
                U(s->vmm_flush_misses));
    }
    for (size_t k = 0; k < r->nivs; k++) {
        const ags_run_intervals_t *ri = &r->ivs[k];
        for (size_t i = 0; i < ri->n; i++)
            for (unsigned m = 0; m < AGS_MODE_COUNT; m++) {
                if (!(ri->modes & (1u << m)))
                    continue;
                const ags_interval_t *iv = &ri->iv[i];
                /* interval rows: cumulative counters at the end of each interval, in the columns
                 * of the header (the others empty) */
                uint64_t val[CSV_NCOLS];
                int has[CSV_NCOLS] = { 0 };
                val[3] = iv->instructions, val[5] = iv->tlb_misses, val[7] = iv->walk_refs[m];
                val[9] = iv->vm_exits[m], val[19] = m == AGS_MODE_AGILE ? iv->agile_walks_full_shadow : 0;
                val[20] = iv->cycles[m];
                has[3] = has[5] = has[7] = has[9] = has[19] = has[20] = 1;
                csv_labels(f, r, 0);
                fputs("interval,", f);
                ags_report_csv_str(f, ri->workload);
                fprintf(f, ",%s", ags_mode_name((ags_mode_t)m));
                for (int c = 3; c < CSV_NCOLS; c++)
                    if (has[c])
                        fprintf(f, ",%llu", U(val[c]));
                    else
                        fputc(',', f);
                fputc('\n', f);
            }
    }
    return ferror(f) ? -1 : 0;
}

/* ------------------------------------------------------------------ text */

static int is_stress(const char *name)
{
    size_t n;
    const ags_workload_info_t *l = ags_workload_list(&n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(l[i].name, name))
            return l[i].stress;
    return 0;
}

/* A number that stays visible when small: `dec` decimals, or two significant digits below
 * 10^-dec (0.0012 instead of 0.00); zero is "0". */
static void fmt_num(char *buf, size_t len, double v, int dec)
{
    double lim = dec == 0 ? 1 : dec == 1 ? 0.1 : dec == 2 ? 0.01 : 0.001;
    if (v == 0)
        snprintf(buf, len, "0");
    else if (fabs(v) < lim)
        snprintf(buf, len, "%.2g", v);
    else
        snprintf(buf, len, "%.*f", dec, v);
}

/* A signed percentage: one decimal, or two significant digits below 0.1% ("+0.012%"). */
static void fmt_pct(char *buf, size_t len, double pct)
{
    if (pct == 0)
        snprintf(buf, len, "0.0%%");
    else if (fabs(pct) < 0.1)
        snprintf(buf, len, "%+.2g%%", pct);
    else
        snprintf(buf, len, "%+.1f%%", pct);
}

static const ags_run_t *find_run(const ags_report_t *r, const char *wl, ags_mode_t m)
{
    for (size_t i = 0; i < r->nruns; i++)
        if (r->runs[i].mode == m && !strcmp(r->runs[i].workload, wl))
            return &r->runs[i];
    return NULL;
}

/* --by region|process: per input, its regions (or processes) with accesses and, per mode, walks,
 * walk + VMM cycles and (agile) the share of walks that stayed in the shadow table. */
typedef struct {
    char label[96];
    uint64_t accesses, walks[AGS_MODE_COUNT], cyc[AGS_MODE_COUNT], full[AGS_MODE_COUNT];
} by_row_t;

static int by_cmp(const void *a, const void *b)
{
    const by_row_t *x = a, *y = b;
    return x->accesses < y->accesses ? 1 : x->accesses > y->accesses ? -1 : strcmp(x->label, y->label);
}

static void text_by(FILE *f, const ags_report_t *r, const char *wl, int nw)
{
    const ags_run_t *first = NULL;
    unsigned modes = 0;
    for (size_t i = 0; i < r->nruns; i++)
        if (!strcmp(r->runs[i].workload, wl)) {
            first = first ? first : &r->runs[i];
            modes |= 1u << r->runs[i].mode;
        }
    if (!first || !first->regions)
        return;
    by_row_t rows[AGS_MAX_REGIONS + 1];
    size_t n = 0;
    uint64_t total_acc = 0;
    for (size_t k = 1; k < first->nregions; k++) {
        const ags_region_stats_t *g = &first->regions[k];
        if (k == 1 && !g->accesses)
            continue;
        by_row_t row;
        memset(&row, 0, sizeof(row));
        if (r->by == 2)
            snprintf(row.label, sizeof(row.label), "pid %u", g->pid);
        else if (k == 1)
            snprintf(row.label, sizeof(row.label), "(regions beyond the first %d)", AGS_MAX_REGIONS - 2);
        else
            snprintf(row.label, sizeof(row.label), "pid %u %s %llx-%llx (%.1f MiB)", g->pid,
                     g->is_range ? "range" : g->prot & AGS_PROT_X ? "r-x" : g->prot & AGS_PROT_W ? "rw-" : "r--",
                     U(g->start), U(g->end), (double)(g->end - g->start) / (1 << 20));
        size_t at = n;
        if (r->by == 2)
            for (size_t j = 0; j < n; j++)
                if (!strcmp(rows[j].label, row.label))
                    at = j;
        if (at == n)
            rows[n++] = row;
        rows[at].accesses += g->accesses;
        total_acc += g->accesses;
        for (unsigned m = 0; m < AGS_MODE_COUNT; m++) {
            rows[at].walks[m] += g->mode[m].walks;
            rows[at].cyc[m] += g->mode[m].walk_cycles + g->mode[m].vmm_cycles;
            rows[at].full[m] += g->mode[m].walks_full_shadow;
        }
    }
    qsort(rows, n, sizeof(rows[0]), by_cmp);
    by_row_t *z = &rows[n++]; /* what no access caused */
    memset(z, 0, sizeof(*z));
    snprintf(z->label, sizeof(z->label), "(no access: address-space events, scans)");
    for (unsigned m = 0; m < AGS_MODE_COUNT; m++)
        z->cyc[m] = first->regions[0].mode[m].walk_cycles + first->regions[0].mode[m].vmm_cycles;
    fprintf(f, "\n%-*s %s by %s: accesses, then per mode walks (k) and walk+VMM cycles (M); agile: walks in shadow\n",
            nw, wl, "cost", r->by == 2 ? "process" : "region");
    fprintf(f, "  %-50s %8s", r->by == 2 ? "process" : "region", "acc%");
    for (unsigned m = 0; m < AGS_MODE_COUNT; m++)
        if (modes & (1u << m))
            fprintf(f, " %8.8s %7s", ags_mode_name((ags_mode_t)m), "Mcyc");
    if (modes & (1u << AGS_MODE_AGILE))
        fprintf(f, " %8s", "shadow%");
    fputc('\n', f);
    for (size_t j = 0; j < n; j++) {
        char a[24], w[24], c[24];
        fmt_num(a, sizeof(a), total_acc ? 100.0 * (double)rows[j].accesses / (double)total_acc : 0, 1);
        fprintf(f, "  %-50.50s %8s", rows[j].label, j == n - 1 ? "-" : a);
        for (unsigned m = 0; m < AGS_MODE_COUNT; m++)
            if (modes & (1u << m)) {
                fmt_num(w, sizeof(w), (double)rows[j].walks[m] / 1e3, 1);
                fmt_num(c, sizeof(c), (double)rows[j].cyc[m] / 1e6, 2);
                fprintf(f, " %8s %7s", w, c);
            }
        if (modes & (1u << AGS_MODE_AGILE)) {
            uint64_t wk = rows[j].walks[AGS_MODE_AGILE];
            if (wk)
                fmt_num(w, sizeof(w), 100.0 * (double)rows[j].full[AGS_MODE_AGILE] / (double)wk, 0), strcat(w, "%");
            else
                snprintf(w, sizeof(w), "-");
            fprintf(f, " %8s", w);
        }
        fputc('\n', f);
    }
}

int ags_report_text(FILE *f, const ags_report_t *r)
{
    fprintf(f, "# caches %s, TLB %s, PWC %s, nTLB %s; %u+%u levels, %s guest / %s host pages; shadow %s%s",
            r->cfg->caches_on ? "on" : "off", r->cfg->tlb_on ? "on" : "off", r->cfg->pwc_on ? "on" : "off",
            r->cfg->ntlb_on ? "on" : "off", r->cfg->guest_levels, r->cfg->host_levels,
            r->cfg->guest_page_shift == 12 ? "4K" : r->cfg->guest_page_shift == 21 ? "2M" : "1G",
            r->cfg->host_page_shift == 12 ? "4K" : r->cfg->host_page_shift == 21 ? "2M" : "1G",
            r->cfg->shadow_sync == AGS_SYNC_UNSYNC ? "unsync" : "wp (every write trapped)",
            r->cfg->shadow_prefetch ? "" : ", no prefetch");
    if (r->cfg->agile_dirty == AGS_AGILE_DIRTY_EPT_AD)
        fputs("; agile dirty: ept-ad", f);
    if (r->cfg->pcid)
        fprintf(f, "; %u PCIDs", r->cfg->pcids);
    else
        fputs("; no PCIDs", f);
    fputc('\n', f);
    /* what was counted, per input (the first run of each) */
    for (size_t i = 0; i < r->nruns; i++) {
        const ags_run_t *run = &r->runs[i];
        if (i && !strcmp(r->runs[i - 1].workload, run->workload))
            continue;
        const ags_stats_t *s = &run->st;
        if (s->warmup_incomplete) {
            fprintf(f, "# %s: nothing counted: the warm-up did not end\n", run->workload);
            continue;
        }
        fprintf(f, "# %s%s: counted %llu accesses, %llu instructions", run->workload,
                is_stress(run->workload) ? " (stress test: faults far more often than real programs)" : "",
                U(s->accesses), U(s->instructions));
        if (s->counted_from_instruction)
            fprintf(f, ", after a warm-up of %llu instructions (simulated, not counted)", U(s->counted_from_instruction));
        else
            fputs(", no warm-up", f);
        fputs(run->interrupted ? " (interrupted)\n" : "\n", f);
    }
    int nw = 8; /* the workload column fits the longest name */
    for (size_t i = 0; i < r->nruns; i++)
        nw = AGS_MAX(nw, (int)AGS_MIN(strlen(r->runs[i].workload), 60));
    fprintf(f, "%-*s %-7s %8s %9s %10s %9s %11s %9s %8s  %s\n", nw, "workload", "mode", "MPKI", "refs/walk",
            "walkcyc/miss", "exits/KI", "VMM Mcyc", "overhead", "shadow%", "cycles: base / walk / vmm / kernel (M)");
    const char *prev = NULL;
    for (size_t i = 0; i < r->nruns; i++) {
        const ags_run_t *run = &r->runs[i];
        const ags_stats_t *s = &run->st;
        if (prev && strcmp(prev, run->workload))
            fputc('\n', f);
        prev = run->workload;
        double ki = s->instructions ? (double)s->instructions / 1000.0 : 1.0;
        char ovh[32] = "-", sh[16] = "", c[7][24];
        if (!isnan(s->overhead_vs_native))
            fmt_pct(ovh, sizeof(ovh), 100.0 * s->overhead_vs_native);
        if (run->mode == AGS_MODE_AGILE && s->walks)
            fmt_num(sh, sizeof(sh), 100.0 * (double)s->agile.walks_full_shadow / (double)s->walks, 0), strcat(sh, "%");
        fmt_num(c[0], 24, (double)s->tlb_misses / ki, 2);
        fmt_num(c[1], 24, s->walks ? (double)s->walk_refs / (double)s->walks : 0.0, 2);
        fmt_num(c[2], 24, s->tlb_misses ? (double)s->cycles.walk / (double)s->tlb_misses : 0.0, 1);
        fmt_num(c[3], 24, (double)s->exits.total / ki, 3);
        fmt_num(c[4], 24, (double)s->cycles.vmm / 1e6, 2);
        fmt_num(c[5], 24, (double)s->cycles.walk / 1e6, 1);
        fmt_num(c[6], 24, (double)s->cycles.vmm / 1e6, 1);
        char kern[24], base[24];
        fmt_num(kern, 24, (double)s->cycles.guest_kernel / 1e6, 1);
        fmt_num(base, 24, (double)s->cycles.base / 1e6, 1);
        fprintf(f, "%-*s %-7s %8s %9s %10s %9s %11s %9s %8s  %s / %s / %s / %s%s\n", nw, run->workload,
                ags_mode_name(run->mode), c[0], c[1], c[2], c[3], c[4], ovh, sh, base, c[5], c[6], kern,
                run->interrupted ? "  (interrupted)" : "");
    }
    if (r->legend)
        fputs("\n"
              "  MPKI          TLB misses per 1,000 guest instructions: lookups that missed every TLB level\n"
              "                and started a page walk (the mode's own VMM-caused misses included)\n"
              "  refs/walk     memory references per walk (guest, host and shadow dimensions); a\n"
              "                paging-structure-cache or nested-TLB hit skips its references\n"
              "  walkcyc/miss  page-walk cycles per TLB miss (each reference's cache latency)\n"
              "  exits/KI      VM exits per 1,000 guest instructions (every cause; JSON: exits.*)\n"
              "  VMM Mcyc      cycles spent in the VMM (exits and their handling), millions\n"
              "  overhead      total cycles against native's, in per cent (not against the best mode)\n"
              "  shadow%       agile: the share of walks that stayed entirely in the shadow table\n"
              "  cycles        base (instructions x --cpi) / walk / VMM / guest kernel (fault handling), millions\n"
              "  docs/schema.md defines every JSON and CSV field; --no-legend hides this\n", f);
    /* verdict per workload: which mode wins, by how much, and why */
    fputs("\n", f);
    prev = NULL;
    for (size_t i = 0; i < r->nruns; i++) {
        const char *wl = r->runs[i].workload;
        if (prev && !strcmp(prev, wl))
            continue;
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(r->runs[j].workload, wl))
                seen = 1;
        prev = wl;
        if (seen)
            continue;
        const ags_run_t *best = NULL;
        for (unsigned m = AGS_MODE_NESTED; m < AGS_MODE_COUNT; m++) {
            const ags_run_t *x = find_run(r, wl, (ags_mode_t)m);
            if (x && (!best || x->st.cycles.total < best->st.cycles.total))
                best = x;
        }
        if (!best)
            continue;
        char p[32];
        fprintf(f, "%-*s best virtualized: %s", nw, wl, ags_mode_name(best->mode));
        if (!isnan(best->st.overhead_vs_native)) {
            fmt_pct(p, sizeof(p), 100.0 * best->st.overhead_vs_native);
            fprintf(f, " (%s against native)", p);
        }
        int first = 1;
        for (unsigned m = AGS_MODE_NESTED; m < AGS_MODE_COUNT; m++) {
            const ags_run_t *x = find_run(r, wl, (ags_mode_t)m);
            if (!x || x == best || !best->st.cycles.total)
                continue;
            double d = (double)x->st.cycles.total / (double)best->st.cycles.total - 1.0;
            fprintf(f, first ? "; against %s:" : ",", ags_mode_name(best->mode));
            first = 0;
            if (d < 0.0005) {
                fprintf(f, " %s ties", ags_mode_name(x->mode));
                continue;
            }
            const char *why = x->st.cycles.vmm > x->st.cycles.walk ? "VMM exits" : "walks";
            fmt_pct(p, sizeof(p), 100.0 * d);
            fprintf(f, " %s %s (%s)", ags_mode_name(x->mode), p, why);
        }
        fputc('\n', f);
    }
    if (r->by)
        for (size_t i = 0; i < r->nruns; i++)
            if (!i || strcmp(r->runs[i - 1].workload, r->runs[i].workload))
                text_by(f, r, r->runs[i].workload, nw);
    /* agile acts through its dirty scans: a run with few of them shows its start, not its state */
    for (size_t i = 0; i < r->nruns; i++) {
        const ags_run_t *run = &r->runs[i];
        if (run->mode != AGS_MODE_AGILE || run->st.warmup_incomplete || r->cfg->agile_force_level)
            continue;
        uint64_t sc = run->st.agile.scans;
        fprintf(f, "%-*s agile: %llu dirty scan%s in the counted run, %llu switches to nested, %llu to shadow",
                nw, run->workload, U(sc), sc == 1 ? "" : "s", U(run->st.agile.to_nested), U(run->st.agile.to_shadow));
        if (sc < 3)
            fprintf(f, " (warning: fewer than 3 scans: its pages have not settled; run longer or lower --agile-interval)");
        fputc('\n', f);
    }
    return ferror(f) ? -1 : 0;
}

/* ------------------------------------------------------------------ SVG */

int ags_report_svg(FILE *f, const ags_report_t *r)
{
    /* one group of bars per workload; one bar per mode; stacked base / walk / VMM / kernel,
     * normalised to the workload's native (or smallest) total */
    const char *wls[64];
    size_t nw = 0;
    for (size_t i = 0; i < r->nruns && nw < 64; i++) {
        int seen = 0;
        for (size_t k = 0; k < nw; k++)
            if (!strcmp(wls[k], r->runs[i].workload))
                seen = 1;
        if (!seen)
            wls[nw++] = r->runs[i].workload;
    }
    unsigned modes = 0;
    for (size_t i = 0; i < r->nruns; i++)
        modes |= 1u << r->runs[i].mode;
    unsigned nm = (unsigned)__builtin_popcount(modes);
    double maxn = 1.0;
    for (size_t i = 0; i < r->nruns; i++) {
        const ags_run_t *nat = find_run(r, r->runs[i].workload, AGS_MODE_NATIVE);
        double ref = nat ? (double)nat->st.cycles.total : 0;
        if (!nat) {
            ref = 1e300;
            for (size_t j = 0; j < r->nruns; j++)
                if (!strcmp(r->runs[j].workload, r->runs[i].workload))
                    ref = AGS_MIN(ref, (double)r->runs[j].st.cycles.total);
        }
        if (ref > 0)
            maxn = AGS_MAX(maxn, (double)r->runs[i].st.cycles.total / ref);
    }
    maxn = ceil(maxn * 4.0) / 4.0;
    int clipped_axis = maxn > 4.0; /* keep the interesting range readable; taller bars are cut */
    if (clipped_axis)
        maxn = 4.0;
    const double bw = 22, gap = 28, left = 80, top = 64, h = 300;
    double gw = nm * bw + gap;
    double width = AGS_MAX(left + nw * gw + 180, 520), height = top + h + 90;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n",
            width, height, width, height);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"20\" y=\"24\" font-size=\"15\" font-weight=\"bold\">agilesim: cycles per mode, "
               "normalised to native</text>\n<text x=\"20\" y=\"42\">stacked: base / walk / VMM / guest kernel%s</text>\n",
            clipped_axis ? "; taller bars cut at 4x" : "");
    fprintf(f, "<text x=\"22\" y=\"%.0f\" text-anchor=\"middle\" transform=\"rotate(-90 22 %.0f)\">"
               "cycles / native's cycles</text>\n", top + h / 2, top + h / 2);
    /* axis and grid */
    for (double y = 0; y <= maxn + 1e-9; y += maxn > 4 ? 1.0 : 0.25) {
        double py = top + h - y / maxn * h;
        fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", left, left + nw * gw, py, py);
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>\n", left - 6, py + 4, y);
    }
    static const char *colors[4] = { "#9e9e9e", "#1f77b4", "#d62728", "#ff9f1c" };
    static const char *parts[4] = { "base", "walk", "VMM", "guest kernel" };
    for (size_t w = 0; w < nw; w++) {
        const ags_run_t *nat = find_run(r, wls[w], AGS_MODE_NATIVE);
        double ref = 0;
        if (nat)
            ref = (double)nat->st.cycles.total;
        else
            for (size_t j = 0; j < r->nruns; j++)
                if (!strcmp(r->runs[j].workload, wls[w]))
                    ref = ref == 0 ? (double)r->runs[j].st.cycles.total : AGS_MIN(ref, (double)r->runs[j].st.cycles.total);
        if (ref <= 0)
            ref = 1;
        double gx = left + w * gw + gap / 2;
        fputs("<g class=\"workload\" id=\"wl-", f);
        xml_str(f, wls[w]);
        fputs("\">\n", f);
        unsigned k = 0;
        for (unsigned m = 0; m < AGS_MODE_COUNT; m++) {
            if (!(modes & (1u << m)))
                continue;
            const ags_run_t *x = find_run(r, wls[w], (ags_mode_t)m);
            double x0 = gx + k * bw;
            k++;
            if (!x)
                continue;
            double v[4] = { (double)x->st.cycles.base, (double)x->st.cycles.walk, (double)x->st.cycles.vmm,
                            (double)x->st.cycles.guest_kernel };
            double acc = 0;
            for (int p = 0; p < 4; p++) {
                double lo = AGS_MIN(acc / ref, maxn), hi = AGS_MIN((acc + v[p]) / ref, maxn);
                double y0 = top + h - hi / maxn * h;
                double hh = (hi - lo) / maxn * h;
                fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>",
                        x0, y0, bw - 2, hh, colors[p]);
                xml_str(f, wls[w]);
                fprintf(f, " %s %s: %.3g cycles</title></rect>\n", ags_mode_name(x->mode), parts[p], v[p]);
                acc += v[p];
            }
            if (acc / ref > maxn) /* cut bar: zig-zag mark and its value */
                fprintf(f, "<path d=\"M%.1f %.1f l%.1f -5 l%.1f 5\" stroke=\"white\" stroke-width=\"2\" fill=\"none\"/>"
                           "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">%.1fx</text>\n",
                        x0, top + 8, (bw - 2) / 2, (bw - 2) / 2, x0 + bw / 2 - 1, top - 4, acc / ref);
            fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"10\" text-anchor=\"end\" "
                       "transform=\"rotate(-60 %.1f %.0f)\">%s</text>\n",
                    x0 + bw / 2, top + h + 12, x0 + bw / 2, top + h + 12, ags_mode_name(x->mode));
        }
        /* the name fits its group (about 7.5 px per bold character); a longer one keeps its start
         * and its end (where names differ) around an ellipsis, in full in its tooltip */
        size_t fit = (size_t)((gw - 6) / 7.5), len = strlen(wls[w]);
        char name[256];
        snprintf(name, sizeof(name), "%s", wls[w]);
        if (len > fit && fit >= 3 && len < sizeof(name)) {
            size_t head = (fit - 1) / 2, tail = len - (fit - 1 - head);
            while (head && ((unsigned char)wls[w][head] & 0xc0) == 0x80)
                head--; /* not inside a UTF-8 sequence */
            while (tail < len && ((unsigned char)wls[w][tail] & 0xc0) == 0x80)
                tail++;
            snprintf(name, sizeof(name), "%.*s\xe2\x80\xa6%s", (int)head, wls[w], wls[w] + tail);
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" font-weight=\"bold\"><title>", gx + nm * bw / 2,
                top + h + 62);
        xml_str(f, wls[w]);
        fputs("</title>", f);
        xml_str(f, name);
        fputs("</text>\n</g>\n", f);
    }
    for (int p = 0; p < 4; p++) {
        double lx = left + nw * gw + 20, ly = top + 10 + p * 20;
        fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                   "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n", lx, ly, colors[p], lx + 18, ly + 10, parts[p]);
    }
    fputs("</svg>\n", f);
    return ferror(f) ? -1 : 0;
}

/* ------------------------------------------------------------------ SVG: time series */

static const char *mode_colors[AGS_MODE_COUNT] = { "#555555", "#1f77b4", "#d62728", "#2ca02c" };

/* A round step (1, 2 or 5 times a power of ten) that splits `range` into about four parts. */
static double nice_step(double range)
{
    double raw = range / 4, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/* One panel: series[k] over xs (n points); a y axis from 0 (or the minimum, if negative) to the
 * maximum, five grid lines, the panel's title and unit. */
static void svg_panel(FILE *f, double x0, double y0, double w, double h, const char *title, const double *xs,
                      size_t n, const double *const *series, const char *const *names, const char *const *colors,
                      size_t ns)
{
    double lo = 0, hi = 0;
    for (size_t k = 0; k < ns; k++)
        for (size_t i = 0; i < n; i++)
            if (isfinite(series[k][i]))
                lo = AGS_MIN(lo, series[k][i]), hi = AGS_MAX(hi, series[k][i]);
    if (hi <= lo)
        hi = lo + 1;
    double ys = nice_step(hi - lo);
    lo = floor(lo / ys) * ys, hi = ceil(hi / ys) * ys;
    double xmax = n ? xs[n - 1] : 1;
    if (xmax <= 0)
        xmax = 1;
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-weight=\"bold\">%s</text>\n", x0, y0 - 8, title);
    for (double v = lo; v <= hi + ys / 2; v += ys) {
        double py = y0 + h - (v - lo) / (hi - lo) * h;
        fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%.4g</text>\n",
                x0, x0 + w, py, py, x0 - 6, py + 4, fabs(v) < ys / 1e6 ? 0.0 : v);
    }
    double xstep = nice_step(xmax / 1e6) * 1e6;
    for (double v = 0; v <= xmax * (1 + 1e-9); v += xstep)
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"11\">%.4g</text>\n",
                x0 + v / xmax * w, y0 + h + 14, v / 1e6);
    fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#888\"/>\n", x0, x0 + w, y0 + h, y0 + h);
    for (size_t k = 0; k < ns; k++) {
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" points=\"", colors[k]);
        for (size_t i = 0; i < n; i++)
            if (isfinite(series[k][i]))
                fprintf(f, "%.1f,%.1f ", x0 + xs[i] / xmax * w, y0 + h - (series[k][i] - lo) / (hi - lo) * h);
        fprintf(f, "\"><title>%s</title></polyline>\n", names[k]);
        fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"3\" fill=\"%s\"/><text x=\"%.0f\" y=\"%.0f\" "
                   "font-size=\"11\">%s</text>\n", x0 + w + 14, y0 + 6 + k * 16.0, colors[k], x0 + w + 30,
                y0 + 10 + k * 16.0, names[k]);
    }
}

int ags_report_svg_intervals(FILE *f, const ags_report_t *r)
{
    const double left = 80, pw = 640, ph = 150, pgap = 60, right = 150;
    size_t panels = 0;
    for (size_t i = 0; i < r->nivs; i++)
        panels += r->ivs[i].n ? 3 : 1;
    if (!r->nivs)
        panels = 1;
    double width = left + pw + right, height = 60 + panels * (ph + pgap) + 40 * (double)r->nivs;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
               "<text x=\"20\" y=\"24\" font-size=\"15\" font-weight=\"bold\">agilesim: per interval of %llu "
               "instructions</text>\n",
            width, height, width, height, (unsigned long long)r->cfg->interval);
    double y = 60;
    if (!r->nivs)
        fputs("<text x=\"20\" y=\"70\">no interval rows: run with --interval N</text>\n", f);
    for (size_t i = 0; i < r->nivs; i++) {
        const ags_run_intervals_t *ri = &r->ivs[i];
        fputs("<text x=\"20\" y=\"", f);
        fprintf(f, "%.0f\" font-size=\"14\" font-weight=\"bold\">", y + 6);
        xml_str(f, ri->workload);
        fputs("</text>\n", f);
        y += 40;
        if (!ri->n) {
            fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">no interval ended in the counted run</text>\n", left, y);
            y += ph + pgap;
            continue;
        }
        size_t n = ri->n;
        double *buf = calloc(n * 11, sizeof(double)); /* rows: x, overhead x4, exits x4, agile pages x2 */
        if (!buf)
            return -1;
        double *xs = buf, *ovh[AGS_MODE_COUNT], *ex[AGS_MODE_COUNT], *np = buf + 9 * n, *sp = buf + 10 * n;
        const double *so[AGS_MODE_COUNT], *se[AGS_MODE_COUNT];
        const char *nm[AGS_MODE_COUNT], *col[AGS_MODE_COUNT], *enm[AGS_MODE_COUNT], *ecol[AGS_MODE_COUNT];
        size_t no = 0, ne = 0;
        for (size_t k = 0; k < n; k++)
            xs[k] = (double)ri->iv[k].instructions;
        for (unsigned m = 0; m < AGS_MODE_COUNT; m++) {
            ovh[m] = buf + (1 + m) * n;
            ex[m] = m ? buf + (5 + m) * n : NULL; /* native has no VM exits */
        }
        for (unsigned m = 0; m < AGS_MODE_COUNT; m++) {
            if (!(ri->modes & (1u << m)))
                continue;
            for (size_t k = 0; k < n; k++) {
                const ags_interval_t *a = k ? &ri->iv[k - 1] : NULL, *b = &ri->iv[k];
                double dc = (double)(b->cycles[m] - (a ? a->cycles[m] : 0));
                double dn = (double)(b->cycles[AGS_MODE_NATIVE] - (a ? a->cycles[AGS_MODE_NATIVE] : 0));
                double di = (double)(b->instructions - (a ? a->instructions : 0));
                ovh[m][k] = (ri->modes & 1u) && dn > 0 ? 100.0 * (dc / dn - 1.0) : NAN;
                if (ex[m])
                    ex[m][k] = di > 0 ? 1000.0 * (double)(b->vm_exits[m] - (a ? a->vm_exits[m] : 0)) / di : NAN;
                if (m == AGS_MODE_AGILE) {
                    np[k] = (double)b->agile_nested_pages;
                    sp[k] = (double)b->agile_shadow_pages;
                }
            }
            if (m != AGS_MODE_NATIVE && (ri->modes & 1u))
                so[no] = ovh[m], nm[no] = ags_mode_name((ags_mode_t)m), col[no++] = mode_colors[m];
            if (ex[m])
                se[ne] = ex[m], enm[ne] = ags_mode_name((ags_mode_t)m), ecol[ne++] = mode_colors[m];
        }
        svg_panel(f, left, y, pw, ph, no ? "overhead against native in the interval (%)"
                                         : "overhead against native (%): native was not run", xs, n, so, nm, col, no);
        y += ph + pgap;
        svg_panel(f, left, y, pw, ph, "VM exits per 1,000 instructions in the interval", xs, n, se, enm, ecol, ne);
        y += ph + pgap;
        if (ri->modes & (1u << AGS_MODE_AGILE)) {
            const double *as[2] = { np, sp };
            static const char *an[2] = { "nested", "shadow" }, *ac[2] = { "#1f77b4", "#d62728" };
            svg_panel(f, left, y, pw, ph, "agile: guest page-table pages in each mode (at the interval's end)", xs, n, as,
                      an, ac, 2);
        } else {
            fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">agile was not run</text>\n", left, y + 20);
        }
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">instructions (millions)</text>\n", left + pw / 2,
                y + ph + 32);
        y += ph + pgap;
        free(buf);
    }
    fputs("</svg>\n", f);
    return ferror(f) ? -1 : 0;
}
