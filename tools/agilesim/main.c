/* agilesim — command-line tool. The only place that prints or exits.
 * Model notes: none — option parsing, progress, signal handling and output files. */
#include "agilesim/agilesim.h"
#include "record.h"
#include "util.h"
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define EXIT_SIGNAL 130

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { g_stop = sig; }

static void out_abort_all(void);

static void die(int code, const char *fmt, ...)
{
    out_abort_all(); /* never leave a half-written output behind */
    va_list ap;
    va_start(ap, fmt);
    fputs("agilesim: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

/* ------------------------------------------------------------------ option values */

static int parse_u64(const char *s, uint64_t *out, int allow_suffix)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s)
        return -1;
    uint64_t mul = 1;
    if (*end && allow_suffix) {
        switch (*end) {
        case 'k': case 'K': mul = 1ULL << 10; break;
        case 'm': case 'M': mul = 1ULL << 20; break;
        case 'g': case 'G': mul = 1ULL << 30; break;
        case 't': case 'T': mul = 1ULL << 40; break;
        default: return -1;
        }
        end++;
        if (*end == 'i' || *end == 'I')
            end++;
        if (*end == 'b' || *end == 'B')
            end++;
    }
    if (*end)
        return -1;
    if (v && mul > UINT64_MAX / v)
        return -1;
    *out = v * mul;
    return 0;
}

/* a count with optional decimal suffix: 10M = 10,000,000 */
static int parse_count(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return -1;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    double mul = 1;
    if (*end == 'k' || *end == 'K') mul = 1e3, end++;
    else if (*end == 'm' || *end == 'M') mul = 1e6, end++;
    else if (*end == 'g' || *end == 'G' || *end == 'b' || *end == 'B') mul = 1e9, end++;
    if (*end || v * mul > 1.8e19)
        return -1;
    *out = (uint64_t)llround(v * mul);
    return 0;
}

static const char *opt_name;

static void bad(const char *val, const char *expect)
{
    die(EXIT_USAGE, "%s: invalid value '%s' (expected %s)", opt_name, val ? val : "", expect);
}

static unsigned u_opt(const char *v, unsigned lo, unsigned hi)
{
    uint64_t x;
    if (parse_u64(v, &x, 0) || x < lo || x > hi) {
        char e[64];
        snprintf(e, sizeof(e), "an integer %u..%u", lo, hi);
        bad(v, e);
    }
    return (unsigned)x;
}

static int onoff(const char *v)
{
    if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "yes"))
        return 1;
    if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "no"))
        return 0;
    bad(v, "on or off");
    return 0;
}

static unsigned page_shift(const char *v)
{
    if (!strcmp(v, "4k") || !strcmp(v, "4K")) return 12;
    if (!strcmp(v, "2m") || !strcmp(v, "2M")) return 21;
    if (!strcmp(v, "1g") || !strcmp(v, "1G")) return 30;
    bad(v, "4k, 2m or 1g");
    return 0;
}

static ags_geom_t geom(const char *v)
{
    unsigned long e, w;
    char tail;
    if (sscanf(v, "%lu:%lu%c", &e, &w, &tail) != 2 || !e || !w || e > (1ul << 24) || w > 64)
        bad(v, "ENTRIES:WAYS, e.g. 64:4");
    return (ags_geom_t){ (uint32_t)e, (uint32_t)w };
}

/* ------------------------------------------------------------------ options */

typedef struct {
    ags_config_t cfg;
    const char *workloads[32];  /* built-in workload names, or trace paths */
    int is_trace[32];
    size_t nworkloads;
    int format;                 /* ags_format_t for trace inputs */
    int accesses_given, zstd;
    const char *output;         /* convert / record */
    uint64_t accesses, footprint, seed;
    double warmup_pct;          /* < 0: warmup_abs applies */
    uint64_t warmup_abs;
    const char *json, *csv, *svg;
    int quiet;
    const char *cmd;
} opts_t;

typedef struct {
    const char *name;
    int has_arg;
    const char *arg;    /* the value's name in --help */
    const char *help;
} optdef_t;

static const optdef_t optdefs[] = {
    { "--workload", 1, "NAME[,NAME...]", "built-in workload(s) (default: the whole suite)" },
    { "--format", 1, "F", "trace format: auto (default: from the content), agt, lackey, pinatrace, champsim" },
    { "--zstd", 0, "", "convert/record: compress the .agt output with zstd" },
    { "-o", 1, "FILE", "convert/record: the .agt file to write" },
    { "--modes", 1, "LIST", "modes to run: native,nested,shadow,agile (compare; default all)" },
    { "--mode", 1, "MODE", "the mode (run)" },
    { "--accesses", 1, "N", "memory accesses per workload, counted (default 16M; suffixes k, M, G)" },
    { "--footprint", 1, "SIZE", "main data-set size (default: the workload's own; e.g. 512m, 1g)" },
    { "--seed", 1, "N", "random seed of the workloads (default 1)" },
    { "--json", 1, "FILE", "write the JSON report" },
    { "--csv", 1, "FILE", "write the CSV report" },
    { "--svg", 1, "FILE", "write an SVG stacked-bar chart" },
    { "--check", 0, "", "compare every walk with the guest's functional translation" },
    { "--quiet", 0, "", "no progress on stderr" },
    { "--interval", 1, "N", "per-interval rows every N instructions" },
    { "--warmup", 1, "N|P%", "simulate the first N accesses (or P% of --accesses) without counting them (default 50% for built-in workloads)" },
    { "--guest-levels", 1, "N", "4 or 5 (LA57)" },
    { "--host-levels", 1, "N", "4 or 5" },
    { "--guest-page", 1, "SZ", "4k, 2m (THP) or 1g" },
    { "--host-page", 1, "SZ", "4k, 2m or 1g (EPT leaf size)" },
    { "--host-backing", 1, "P", "prefault (default) or lazy (an EPT-violation exit per first touch)" },
    { "--pcid", 1, "on|off", "tag TLB entries with the ASID (default on)" },
    { "--flush-ceiling", 1, "N", "per-page INVLPG up to N pages, else a full flush (default 33)" },
    { "--tlb", 1, "off|on", "the TLB hierarchy" },
    { "--l1d-tlb", 1, "E:W", "L1 data TLB, 4 KiB pages (default 64:4)" },
    { "--l1d-tlb-2m", 1, "E:W", "(default 32:4)" },
    { "--l1d-tlb-1g", 1, "E:W", "(default 4:4)" },
    { "--l1i-tlb", 1, "E:W", "L1 instruction TLB, 4 KiB (default 128:8)" },
    { "--l1i-tlb-2m", 1, "E:W", "(default 8:8)" },
    { "--l2-tlb", 1, "E:W", "unified L2 TLB, 4 KiB + 2 MiB (default 1536:12)" },
    { "--l2-tlb-1g", 1, "E:W", "(default 16:4)" },
    { "--pwc", 1, "off|E:W", "paging-structure caches per level and dimension (default 32:4)" },
    { "--ntlb", 1, "off|E:W", "nested TLB gPA->hPA (default 32:4)" },
    { "--caches", 1, "on|off", "cache hierarchy for walk and data references (default on)" },
    { "--l1-cache", 1, "LINES:W", "(default 768:12 = 48 KiB)" },
    { "--l2-cache", 1, "LINES:W", "(default 32768:16 = 2 MiB)" },
    { "--llc", 1, "LINES:W", "(default 131072:16 = 8 MiB)" },
    { "--walk-latency", 1, "fixed:N|cache", "flat N cycles per walk reference, or from the caches" },
    { "--cpi", 1, "X", "base cycles per instruction (default 1.0)" },
    { "--native-cycles", 1, "N", "calibrate the base CPI so that native totals N cycles" },
    { "--cost-exit", 1, "N", "VM exit + entry round trip (default 1500)" },
    { "--cost-pt-write", 1, "N", "+ emulating a trapped guest PT write (default 2000)" },
    { "--cost-hidden-fault", 1, "N", "+ filling shadow entries on a hidden fault (default 1000)" },
    { "--cost-reflect", 1, "N", "+ reflecting a guest page fault (default 1000)" },
    { "--cost-cr3", 1, "N", "+ a CR3 write: find/sync the shadow root (default 1000)" },
    { "--cost-invlpg", 1, "N", "+ an intercepted INVLPG (default 500)" },
    { "--cost-dirty", 1, "N", "+ dirty-bit emulation (default 1000)" },
    { "--cost-ept-violation", 1, "N", "+ an EPT violation, lazy backing (default 1000)" },
    { "--cost-switch", 1, "N", "agile: switching or reverting one guest PT page (default 2000)" },
    { "--cost-switch-entry", 1, "N", "agile: per shadow entry rebuilt on a revert (default 50)" },
    { "--cost-scan-page", 1, "N", "agile: per NESTED page per dirty scan (default 20)" },
    { "--cost-resync", 1, "N", "unsync: resynchronising one shadow page (default 1000)" },
    { "--cost-guest-fault", 1, "N", "the guest's page-fault handler, every mode (default 1000)" },
    { "--shadow-sync", 1, "wp|unsync", "write-protect every shadowed page, or KVM's unsync leaves" },
    { "--agile-threshold", 1, "N", "trapped writes before a page goes nested (default 2)" },
    { "--agile-interval", 1, "N", "instructions between dirty scans (default 10M)" },
    { "--agile-start", 1, "nested|shadow", "mode of a new process's root (default nested)" },
    { "--agile-ad-hw", 0, "", "hardware A/D bits in guest and shadow entries" },
    { "--agile-cr3-cache", 1, "N", "gCR3->sCR3 cache entries (default 0)" },
    { "--agile-force-level", 1, "L", "pin the switch at shadow level L (1 = all shadow, levels+1 = root nested)" },
    { "--agile-revert", 1, "subtree|one-level", "a scan reverts every clean level top-down (default), or one level" },
};

static void usage(FILE *f)
{
    fputs("usage: agilesim COMMAND [OPTIONS]\n\n"
          "Simulates address translation in a virtualized computer: native, nested (EPT),\n"
          "shadow and agile paging, on one event stream.\n\n"
          "commands:\n"
          "  compare [WORKLOAD|TRACE...]  run the selected modes in lockstep (default: all four, whole suite)\n"
          "  run --mode M [WORKLOAD|TRACE...]  one mode\n"
          "  convert IN OUT.agt      convert a trace (Lackey, pinatrace, ChampSim, .agt) to .agt\n"
          "  info TRACE              counts, footprint, pages touched, events, instructions\n"
          "  record -o OUT.agt [--zstd] -- CMD ARGS...  run CMD under Valgrind Lackey, convert on the fly\n"
          "  workloads               list the built-in workloads\n"
          "  help                    this text\n\noptions:\n", f);
    for (size_t i = 0; i < sizeof(optdefs) / sizeof(optdefs[0]); i++) {
        char lhs[64];
        snprintf(lhs, sizeof(lhs), "%s%s%s", optdefs[i].name, optdefs[i].has_arg ? " " : "", optdefs[i].arg);
        fprintf(f, "  %-28s %s\n", lhs, optdefs[i].help);
    }
    fputs("\nexit status: 0 ok, 1 simulation error, 2 bad usage or input, 130 interrupted\n", f);
}

static int workload_exists(const char *name)
{
    size_t n;
    const ags_workload_info_t *l = ags_workload_list(&n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(l[i].name, name))
            return 1;
    return 0;
}

static void add_workloads(opts_t *o, const char *list)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (!workload_exists(tok))
            die(EXIT_USAGE, "unknown workload '%s' (see 'agilesim workloads')", tok);
        if (o->nworkloads == 32)
            die(EXIT_USAGE, "too many workloads");
        size_t n;
        const ags_workload_info_t *l = ags_workload_list(&n);
        for (size_t i = 0; i < n; i++)
            if (!strcmp(l[i].name, tok))
                o->workloads[o->nworkloads++] = l[i].name;
    }
}

static unsigned parse_modes(const char *v)
{
    char buf[128];
    unsigned m = 0;
    snprintf(buf, sizeof(buf), "%s", v);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (!strcmp(tok, "all")) {
            m |= AGS_MODES_ALL;
            continue;
        }
        int k = ags_mode_parse(tok);
        if (k < 0)
            bad(v, "a list of native, nested, shadow, agile");
        m |= 1u << k;
    }
    if (!m)
        bad(v, "a list of native, nested, shadow, agile");
    return m;
}

static void set_option(opts_t *o, const char *name, const char *v, int is_run)
{
    ags_config_t *c = &o->cfg;
    uint64_t x;
    opt_name = name;
    if (!strcmp(name, "--workload")) add_workloads(o, v);
    else if (!strcmp(name, "--modes")) {
        if (is_run)
            die(EXIT_USAGE, "--modes is for 'compare'; 'run' takes --mode");
        c->modes = parse_modes(v);
    } else if (!strcmp(name, "--mode")) {
        int k = ags_mode_parse(v);
        if (k < 0)
            bad(v, "native, nested, shadow or agile");
        c->modes = 1u << k;
    } else if (!strcmp(name, "--accesses")) {
        if (parse_count(v, &x) || !x)
            bad(v, "a positive count, e.g. 4M");
        o->accesses = x;
        o->accesses_given = 1;
    } else if (!strcmp(name, "--footprint")) {
        if (parse_u64(v, &x, 1) || x < (1ULL << 20) || x > (1ULL << 42))
            bad(v, "a size from 1m to 4t, e.g. 512m");
        o->footprint = x;
    } else if (!strcmp(name, "--seed")) {
        if (parse_u64(v, &x, 0))
            bad(v, "an integer");
        o->seed = x;
    } else if (!strcmp(name, "--format")) {
        int f = ags_format_parse(v);
        if (f < 0)
            bad(v, "auto, agt, lackey, pinatrace or champsim");
        o->format = f;
    } else if (!strcmp(name, "--zstd")) o->zstd = 1;
    else if (!strcmp(name, "-o")) o->output = v;
    else if (!strcmp(name, "--json")) o->json = v;
    else if (!strcmp(name, "--csv")) o->csv = v;
    else if (!strcmp(name, "--svg")) o->svg = v;
    else if (!strcmp(name, "--check")) c->check = 1;
    else if (!strcmp(name, "--quiet")) o->quiet = 1;
    else if (!strcmp(name, "--interval")) {
        if (parse_count(v, &x) || x < 1000)
            bad(v, "a count of at least 1000 instructions");
        c->interval = x;
    } else if (!strcmp(name, "--warmup")) {
        size_t len = strlen(v);
        if (len > 1 && v[len - 1] == '%') {
            char num[32];
            double pct;
            char *end;
            snprintf(num, sizeof(num), "%.*s", (int)(len - 1), v);
            pct = strtod(num, &end);
            if (*end || !(pct >= 0) || pct >= 100)
                bad(v, "an access count or a percentage below 100%");
            o->warmup_pct = pct;
            o->warmup_abs = 0;
        } else {
            if (parse_count(v, &x))
                bad(v, "an access count or a percentage below 100%");
            o->warmup_abs = x;
            o->warmup_pct = -1;
        }
    } else if (!strcmp(name, "--guest-levels")) c->guest_levels = u_opt(v, 4, 5);
    else if (!strcmp(name, "--host-levels")) c->host_levels = u_opt(v, 4, 5);
    else if (!strcmp(name, "--guest-page")) c->guest_page_shift = page_shift(v);
    else if (!strcmp(name, "--host-page")) c->host_page_shift = page_shift(v);
    else if (!strcmp(name, "--host-backing")) {
        if (!strcmp(v, "lazy")) c->host_backing_lazy = 1;
        else if (!strcmp(v, "prefault")) c->host_backing_lazy = 0;
        else bad(v, "prefault or lazy");
    } else if (!strcmp(name, "--pcid")) c->pcid = onoff(v);
    else if (!strcmp(name, "--flush-ceiling")) c->flush_ceiling = u_opt(v, 0, 64);
    else if (!strcmp(name, "--tlb")) c->tlb_on = onoff(v);
    else if (!strcmp(name, "--l1d-tlb")) c->l1d_4k = geom(v);
    else if (!strcmp(name, "--l1d-tlb-2m")) c->l1d_2m = geom(v);
    else if (!strcmp(name, "--l1d-tlb-1g")) c->l1d_1g = geom(v);
    else if (!strcmp(name, "--l1i-tlb")) c->l1i_4k = geom(v);
    else if (!strcmp(name, "--l1i-tlb-2m")) c->l1i_2m = geom(v);
    else if (!strcmp(name, "--l2-tlb")) c->l2_tlb = geom(v);
    else if (!strcmp(name, "--l2-tlb-1g")) c->l2_tlb_1g = geom(v);
    else if (!strcmp(name, "--pwc")) {
        if (!strcmp(v, "off")) c->pwc_on = 0;
        else if (!strcmp(v, "on")) c->pwc_on = 1;
        else { c->pwc_on = 1; c->pwc = geom(v); }
    } else if (!strcmp(name, "--ntlb")) {
        if (!strcmp(v, "off")) c->ntlb_on = 0;
        else if (!strcmp(v, "on")) c->ntlb_on = 1;
        else { c->ntlb_on = 1; c->ntlb = geom(v); }
    } else if (!strcmp(name, "--caches")) c->caches_on = onoff(v);
    else if (!strcmp(name, "--l1-cache")) c->l1c = geom(v);
    else if (!strcmp(name, "--l2-cache")) c->l2c = geom(v);
    else if (!strcmp(name, "--llc")) c->llc = geom(v);
    else if (!strcmp(name, "--walk-latency")) {
        if (!strcmp(v, "cache")) c->walk_latency_fixed = 0;
        else if (!strncmp(v, "fixed:", 6)) {
            c->walk_latency_fixed = 1;
            c->walk_latency = u_opt(v + 6, 0, 100000);
        } else bad(v, "fixed:N or cache");
    } else if (!strcmp(name, "--cpi")) {
        char *end;
        double d = strtod(v, &end);
        if (*end || !(d > 0) || d > 1000)
            bad(v, "a number in (0, 1000]");
        c->cpi = d;
    } else if (!strcmp(name, "--native-cycles")) {
        if (parse_count(v, &x) || !x)
            bad(v, "a positive cycle count");
        c->native_cycles = (double)x;
    }
#define COST(opt, field) else if (!strcmp(name, opt)) c->field = u_opt(v, 0, 100000000)
    COST("--cost-exit", cost_exit);
    COST("--cost-pt-write", cost_pt_write);
    COST("--cost-hidden-fault", cost_hidden_fault);
    COST("--cost-reflect", cost_reflect);
    COST("--cost-cr3", cost_cr3);
    COST("--cost-invlpg", cost_invlpg);
    COST("--cost-dirty", cost_dirty);
    COST("--cost-ept-violation", cost_ept_violation);
    COST("--cost-switch", cost_switch);
    COST("--cost-switch-entry", cost_switch_entry);
    COST("--cost-scan-page", cost_scan_page);
    COST("--cost-resync", cost_resync);
    COST("--cost-guest-fault", cost_guest_fault);
#undef COST
    else if (!strcmp(name, "--shadow-sync")) {
        if (!strcmp(v, "wp")) c->shadow_sync = AGS_SYNC_WP;
        else if (!strcmp(v, "unsync")) c->shadow_sync = AGS_SYNC_UNSYNC;
        else bad(v, "wp or unsync");
    } else if (!strcmp(name, "--agile-threshold")) c->agile_threshold = u_opt(v, 1, 255);
    else if (!strcmp(name, "--agile-interval")) {
        if (parse_count(v, &x) || x < 1000)
            bad(v, "a count of at least 1000 instructions");
        c->agile_interval = x;
    } else if (!strcmp(name, "--agile-start")) {
        if (!strcmp(v, "nested")) c->agile_start_shadow = 0;
        else if (!strcmp(v, "shadow")) c->agile_start_shadow = 1;
        else bad(v, "nested or shadow");
    } else if (!strcmp(name, "--agile-ad-hw")) c->agile_ad_hw = 1;
    else if (!strcmp(name, "--agile-cr3-cache")) c->agile_cr3_cache = u_opt(v, 0, 4096);
    else if (!strcmp(name, "--agile-force-level")) c->agile_force_level = u_opt(v, 1, 6);
    else if (!strcmp(name, "--agile-revert")) {
        if (!strcmp(v, "subtree")) c->agile_revert_one_level = 0;
        else if (!strcmp(v, "one-level")) c->agile_revert_one_level = 1;
        else bad(v, "subtree or one-level");
    }
    else die(EXIT_USAGE, "unknown option '%s' (see 'agilesim help')", name);
}

static void parse(opts_t *o, int argc, char **argv, int first, int is_run, int stop_at_dashdash, int *rest)
{
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--") && stop_at_dashdash) {
            *rest = i + 1;
            return;
        }
        if ((a[0] == '-' && a[1] == '-') || !strcmp(a, "-o")) {
            char name[64];
            const char *eq = strchr(a, '=');
            size_t len = eq ? (size_t)(eq - a) : strlen(a);
            if (len >= sizeof(name))
                die(EXIT_USAGE, "unknown option '%s'", a);
            memcpy(name, a, len);
            name[len] = 0;
            const optdef_t *d = NULL;
            for (size_t k = 0; k < sizeof(optdefs) / sizeof(optdefs[0]); k++)
                if (!strcmp(optdefs[k].name, name))
                    d = &optdefs[k];
            if (!d)
                die(EXIT_USAGE, "unknown option '%s' (see 'agilesim help')", name);
            const char *v = NULL;
            if (d->has_arg) {
                if (eq)
                    v = eq + 1;
                else if (i + 1 < argc)
                    v = argv[++i];
                else
                    die(EXIT_USAGE, "%s needs a value", name);
            } else if (eq) {
                die(EXIT_USAGE, "%s takes no value", name);
            }
            set_option(o, name, v, is_run);
        } else if (workload_exists(a)) {
            add_workloads(o, a);
        } else if (access(a, F_OK) == 0 || strchr(a, '/') || strchr(a, '.') || !strcmp(a, "-")) {
            if (o->nworkloads == 32)
                die(EXIT_USAGE, "too many inputs");
            o->is_trace[o->nworkloads] = 1;
            o->workloads[o->nworkloads++] = a;
        } else {
            die(EXIT_USAGE, "unknown workload or argument '%s' (see 'agilesim workloads')", a);
        }
    }
}

/* ------------------------------------------------------------------ output files */

typedef struct {
    const char *path;
    char tmp[4096];
    FILE *f;
} outfile_t;

static void out_open(outfile_t *o, const char *path, const char *opt)
{
    o->path = path;
    o->f = NULL;
    if (!path)
        return;
    if (snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(o->tmp))
        die(EXIT_USAGE, "%s %s: path too long", opt, path);
    int fd = mkstemp(o->tmp);
    if (fd < 0)
        die(EXIT_USAGE, "%s %s: cannot write there: %s", opt, path, strerror(errno));
    mode_t um = umask(0);
    umask(um);
    fchmod(fd, 0666 & ~um);
    o->f = fdopen(fd, "w");
    if (!o->f)
        die(EXIT_USAGE, "%s %s: %s", opt, path, strerror(errno));
}

static outfile_t *g_outs[3];

static void out_abort_all(void)
{
    for (int i = 0; i < 3; i++)
        if (g_outs[i] && g_outs[i]->f) {
            fclose(g_outs[i]->f);
            unlink(g_outs[i]->tmp);
            g_outs[i]->f = NULL;
        }
}

static int out_commit(outfile_t *o)
{
    if (!o->f)
        return 0;
    int bad_write = ferror(o->f);
    if (fflush(o->f) || fsync(fileno(o->f)))
        bad_write = 1;
    if (fclose(o->f))
        bad_write = 1;
    o->f = NULL;
    if (bad_write || rename(o->tmp, o->path)) {
        unlink(o->tmp);
        fprintf(stderr, "agilesim: %s: write failed: %s\n", o->path, strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ inputs */

typedef struct {
    ags_workload_t *w;
    ags_reader_t *r;
    const char *name;
} source_t;

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Open input i, or exit with status 2 and one line naming the problem. */
static void source_open(opts_t *o, size_t i, uint64_t accesses, source_t *src)
{
    memset(src, 0, sizeof(*src));
    if (!o->is_trace[i]) {
        src->name = o->workloads[i];
        if (ags_workload_create(o->workloads[i], accesses, o->footprint, o->seed, &src->w))
            die(1, "cannot create workload %s", o->workloads[i]);
        return;
    }
    char err[512];
    src->name = !strcmp(o->workloads[i], "-") ? "stdin" : base_name(o->workloads[i]);
    if (ags_reader_open(o->workloads[i], (ags_format_t)o->format, &src->r, err, sizeof(err)))
        die(EXIT_USAGE, "%s", err);
    ags_reader_set_va_bits(src->r, o->cfg.guest_levels == 5 ? 57 : 48);
}

/* Next batch; 0 at the end. On a reader error: returns 0 and sets *err. */
static size_t source_next(source_t *src, ags_event_t *buf, size_t n, const char **err)
{
    *err = NULL;
    if (src->w)
        return ags_workload_next(src->w, buf, n);
    size_t k = ags_reader_next(src->r, buf, n);
    if (!k && ags_reader_error(src->r, err) == 0)
        *err = NULL;
    return k;
}

static void source_close(source_t *src)
{
    ags_workload_destroy(src->w);
    ags_reader_close(src->r);
}

/* ------------------------------------------------------------------ running */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int run_command(opts_t *o)
{
    char err[256];
    if (o->warmup_pct == -2) /* default: half the run for built-in workloads, none for traces */
        o->cfg.warmup = o->accesses / 2;
    else
        o->cfg.warmup = o->warmup_pct >= 0 ? (uint64_t)((double)o->accesses * o->warmup_pct / 100.0) : o->warmup_abs;
    if (ags_config_validate(&o->cfg, err, sizeof(err)))
        die(EXIT_USAGE, "%s", err);
    if (!o->nworkloads) {
        size_t n;
        const ags_workload_info_t *l = ags_workload_list(&n);
        for (size_t i = 0; i < n && i < 32; i++)
            o->workloads[o->nworkloads++] = l[i].name;
    }
    outfile_t oj, oc, os;
    out_open(&oj, o->json, "--json");
    out_open(&oc, o->csv, "--csv");
    out_open(&os, o->svg, "--svg");
    g_outs[0] = &oj, g_outs[1] = &oc, g_outs[2] = &os;

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int progress = !o->quiet && isatty(2);
    size_t maxruns = o->nworkloads * AGS_MODE_COUNT;
    ags_run_t *runs = calloc(maxruns, sizeof(ags_run_t));
    ags_run_intervals_t *ivs = calloc(o->nworkloads, sizeof(ags_run_intervals_t));
    ags_interval_t **ivcopies = calloc(o->nworkloads, sizeof(ags_interval_t *));
    ags_event_t *buf = malloc(4096 * sizeof(ags_event_t));
    if (!runs || !ivs || !buf || !ivcopies)
        die(1, "out of memory");
    size_t nruns = 0, nivs = 0;
    int status = 0;
    double t_start = now();

    for (size_t wi = 0; wi < o->nworkloads && !g_stop; wi++) {
        ags_config_t cfg = o->cfg;
        int trace = o->is_trace[wi];
        if (trace) {
            cfg.warmup = o->warmup_pct == -2 ? 0 : o->warmup_abs;
            if (o->warmup_pct >= 0)
                die(EXIT_USAGE, "--warmup %g%%: a percentage applies to built-in workloads; give %s an access count",
                    o->warmup_pct, o->workloads[wi]);
        }
        ags_sim_t *sim;
        source_t src;
        int rc = ags_sim_create(&cfg, &sim);
        if (rc) {
            out_abort_all();
            die(1, "cannot create the simulator: %s", ags_strerror(rc));
        }
        source_open(o, wi, o->accesses + cfg.warmup, &src);
        const char *wl = src.name;
        uint64_t limit = trace && o->accesses_given ? o->accesses + cfg.warmup : UINT64_MAX;
        uint64_t total = trace ? ags_reader_count_hint(src.r) : ags_workload_total(src.w), done = 0, acc = 0;
        double t0 = now(), last = t0;
        size_t n;
        const char *rerr = NULL;
        while (!g_stop && acc < limit && (n = source_next(&src, buf, 4096, &rerr)) > 0) {
            if (limit != UINT64_MAX) { /* --accesses caps a trace */
                size_t k = 0;
                for (; k < n && acc < limit; k++)
                    acc += buf[k].type == AGS_EV_ACCESS;
                n = k;
            }
            rc = ags_sim_run(sim, buf, n);
            if (rc) {
                fputs(progress ? "\r\033[K" : "", stderr);
                fprintf(stderr, "agilesim: %s: event %llu: %s\n", wl,
                        (unsigned long long)ags_sim_events_done(sim) + 1, ags_sim_errmsg(sim));
                status = rc == AGS_E_NONCANON || rc == AGS_E_FORMAT || rc == AGS_E_INVAL || rc == AGS_E_BADPID ? EXIT_USAGE : 1;
                break;
            }
            done += n;
            if (progress) {
                double t = now();
                if (t - last > 0.5) {
                    last = t;
                    double rate = (double)done / (t - t0), pct = 0;
                    if (trace) {
                        uint64_t d, tot;
                        ags_reader_progress(src.r, &d, &tot);
                        pct = tot ? 100.0 * (double)d / (double)tot : 0;
                    } else if (total) {
                        pct = 100.0 * (double)done / (double)total;
                    }
                    double eta = pct > 0 ? (t - t0) * (100.0 - pct) / pct : 0;
                    fprintf(stderr, "\r\033[K%s: %5.1f%%  %.1f M events/s  ETA %.0fs", wl, pct > 100 ? 100 : pct,
                            rate / 1e6, eta);
                }
            }
        }
        if (!status && rerr) {
            fputs(progress ? "\r\033[K" : "", stderr);
            fprintf(stderr, "agilesim: %s\n", rerr);
            status = EXIT_USAGE;
        }
        if (progress)
            fputs("\r\033[K", stderr);
        if (status) {
            source_close(&src);
            ags_sim_destroy(sim);
            break;
        }
        ags_sim_finish(sim);
        ags_guest_stats_t gs;
        ags_sim_guest_stats(sim, &gs);
        for (unsigned m = 0; m < AGS_MODE_COUNT; m++) {
            if (!ags_sim_has_mode(sim, (ags_mode_t)m))
                continue;
            ags_run_t *r = &runs[nruns++];
            r->workload = wl;
            r->mode = (ags_mode_t)m;
            ags_sim_stats(sim, (ags_mode_t)m, &r->st);
            r->guest = gs;
            r->interrupted = g_stop != 0;
        }
        if (o->cfg.interval) {
            size_t niv;
            const ags_interval_t *iv = ags_sim_intervals(sim, &niv);
            ivcopies[nivs] = malloc((niv ? niv : 1) * sizeof(ags_interval_t));
            if (ivcopies[nivs]) {
                memcpy(ivcopies[nivs], iv, niv * sizeof(ags_interval_t));
                ivs[nivs] = (ags_run_intervals_t){ wl, ivcopies[nivs], niv, o->cfg.modes };
                nivs++;
            }
        }
        source_close(&src);
        ags_sim_destroy(sim);
    }
    if (status) {
        out_abort_all();
        goto done;
    }
    ags_report_t rep = { o->cmd, &o->cfg, o->accesses, o->footprint, o->seed, runs, nruns, ivs, nivs };
    ags_report_text(stdout, &rep);
    fflush(stdout);
    if (!o->quiet)
        fprintf(stderr, "agilesim: %zu run(s) in %.1fs%s\n", nruns, now() - t_start,
                g_stop ? " (interrupted: statistics so far)" : "");
    int werr = 0;
    if (oj.f && ags_report_json(oj.f, &rep))
        werr = 1;
    if (oc.f && ags_report_csv(oc.f, &rep))
        werr = 1;
    if (os.f && ags_report_svg(os.f, &rep))
        werr = 1;
    if (werr) {
        out_abort_all();
        die(1, "writing the reports failed");
    }
    if (out_commit(&oj) | out_commit(&oc) | out_commit(&os))
        status = 1;
    if (g_stop)
        status = EXIT_SIGNAL;
done:
    for (size_t i = 0; i < nivs; i++)
        free(ivcopies[i]);
    free(ivcopies);
    free(ivs);
    free(runs);
    free(buf);
    return status;
}

/* ------------------------------------------------------------------ convert, info, record */

static int pump_to_writer(source_t *src, ags_writer_t *w, const char *out, uint64_t *events)
{
    ags_event_t *buf = malloc(4096 * sizeof(ags_event_t));
    size_t n;
    const char *rerr = NULL;
    *events = 0;
    if (!buf)
        die(1, "out of memory");
    while (!g_stop && (n = source_next(src, buf, 4096, &rerr)) > 0) {
        if (ags_writer_write(w, buf, n)) {
            free(buf);
            ags_writer_close(w, 0, NULL, 0);
            die(1, "%s: write failed", out);
        }
        *events += n;
    }
    free(buf);
    if (rerr) {
        ags_writer_close(w, 0, NULL, 0);
        fprintf(stderr, "agilesim: %s\n", rerr);
        return EXIT_USAGE;
    }
    return 0;
}

static int convert_command(opts_t *o)
{
    const char *out = o->output;
    if (!out && o->nworkloads == 2) {
        out = o->workloads[1];
        o->nworkloads = 1;
    }
    if (o->nworkloads != 1 || !out)
        die(EXIT_USAGE, "convert: usage: agilesim convert IN OUT.agt [--format F] [--zstd]");
    source_t src;
    source_open(o, 0, o->accesses, &src);
    ags_writer_t *w;
    char err[512];
    if (ags_writer_open(out, o->zstd, &w, err, sizeof(err)))
        die(EXIT_USAGE, "%s", err);
    uint64_t events;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int rc = pump_to_writer(&src, w, out, &events);
    source_close(&src);
    if (rc)
        return rc;
    if (g_stop) {
        ags_writer_close(w, 0, NULL, 0);
        fprintf(stderr, "agilesim: interrupted; %s not written\n", out);
        return EXIT_SIGNAL;
    }
    if (ags_writer_close(w, 1, err, sizeof(err)))
        die(1, "%s", err);
    if (!o->quiet)
        fprintf(stderr, "agilesim: wrote %llu events to %s\n", (unsigned long long)events, out);
    return 0;
}

static int info_command(opts_t *o)
{
    if (o->nworkloads != 1)
        die(EXIT_USAGE, "info: usage: agilesim info TRACE [--format F]");
    source_t src;
    source_open(o, 0, o->accesses, &src);
    ags_event_t *buf = malloc(4096 * sizeof(ags_event_t));
    uint64_t kinds[4] = { 0 }, types[AGS_EV_TYPE_COUNT] = { 0 }, instr = 0, lo = UINT64_MAX, hi = 0;
    uint32_t pids[64];
    size_t npids = 0;
    ags_u64set_t pages = { 0 };
    size_t n;
    const char *rerr = NULL;
    while ((n = source_next(&src, buf, 4096, &rerr)) > 0) {
        for (size_t i = 0; i < n; i++) {
            const ags_event_t *e = &buf[i];
            types[e->type]++;
            instr += e->icount;
            int seen = 0;
            for (size_t k = 0; k < npids; k++)
                seen |= pids[k] == e->pid;
            if (!seen && npids < 64)
                pids[npids++] = e->pid;
            if (e->type != AGS_EV_ACCESS)
                continue;
            kinds[e->kind & 3]++;
            if (ags_u64set_add(&pages, ((uint64_t)e->pid << 40) ^ (e->addr >> 12)))
                die(1, "out of memory");
            lo = e->addr < lo ? e->addr : lo;
            hi = e->addr > hi ? e->addr : hi;
        }
    }
    if (rerr) {
        fprintf(stderr, "agilesim: %s\n", rerr);
        ags_u64set_free(&pages);
        free(buf);
        source_close(&src);
        return EXIT_USAGE;
    }
    printf("trace:        %s (%s)\n", o->workloads[0], o->is_trace[0] ? ags_format_name(ags_reader_format(src.r)) : "built-in workload");
    printf("events:       %llu\n", (unsigned long long)(types[0] + types[1] + types[2] + types[3] + types[4] + types[5] +
                                                        types[6] + types[7] + types[8] + types[9]));
    printf("accesses:     %llu (fetch %llu, load %llu, store %llu, modify %llu)\n",
           (unsigned long long)types[AGS_EV_ACCESS], (unsigned long long)kinds[0], (unsigned long long)kinds[1],
           (unsigned long long)kinds[2], (unsigned long long)kinds[3]);
    printf("instructions: %llu\n", (unsigned long long)instr);
    printf("processes:    %zu%s\n", npids, npids == 64 ? "+" : "");
    printf("pages:        %zu touched (4 KiB), footprint %.1f MiB\n", pages.n, (double)pages.n * 4096 / (1 << 20));
    if (types[AGS_EV_ACCESS])
        printf("addresses:    0x%llx .. 0x%llx\n", (unsigned long long)lo, (unsigned long long)hi);
    printf("address-space events:");
    for (unsigned t = 1; t < AGS_EV_TYPE_COUNT; t++)
        printf(" %s %llu", ags_event_type_name(t), (unsigned long long)types[t]);
    printf("\n");
    ags_u64set_free(&pages);
    free(buf);
    source_close(&src);
    return 0;
}

static int record_command(opts_t *o, char **cmd)
{
    if (!o->output)
        die(EXIT_USAGE, "record: -o OUT.agt is required");
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return ags_cli_record(o->output, o->zstd, o->quiet, cmd, &g_stop);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("agilesim %s\n", AGS_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "workloads")) {
        size_t n;
        const ags_workload_info_t *l = ags_workload_list(&n);
        for (size_t i = 0; i < n; i++)
            printf("%-9s %s\n", l[i].name, l[i].description);
        return 0;
    }
    opts_t o;
    memset(&o, 0, sizeof(o));
    ags_config_defaults(&o.cfg);
    o.accesses = 16000000;
    o.warmup_pct = -2;
    o.seed = 1;
    static char cmdline[8192];
    size_t pos = 0;
    for (int i = 0; i < argc && pos < sizeof(cmdline) - 1; i++)
        pos += (size_t)snprintf(cmdline + pos, sizeof(cmdline) - pos, "%s%s", i ? " " : "", argv[i]);
    o.cmd = cmdline;
    if (!strcmp(cmd, "compare")) {
        parse(&o, argc, argv, 2, 0, 0, NULL);
        return run_command(&o);
    }
    if (!strcmp(cmd, "run")) {
        o.cfg.modes = 0;
        parse(&o, argc, argv, 2, 1, 0, NULL);
        if (!o.cfg.modes || __builtin_popcount(o.cfg.modes) != 1)
            die(EXIT_USAGE, "run needs --mode native|nested|shadow|agile");
        return run_command(&o);
    }
    if (!strcmp(cmd, "convert")) {
        parse(&o, argc, argv, 2, 0, 0, NULL);
        return convert_command(&o);
    }
    if (!strcmp(cmd, "info")) {
        parse(&o, argc, argv, 2, 0, 0, NULL);
        return info_command(&o);
    }
    if (!strcmp(cmd, "record")) {
        int rest = 0;
        parse(&o, argc, argv, 2, 0, 1, &rest);
        if (!rest || rest >= argc)
            die(EXIT_USAGE, "record: usage: agilesim record -o OUT.agt [--zstd] -- CMD ARGS...");
        return record_command(&o, argv + rest);
    }
    die(EXIT_USAGE, "unknown command '%s' (see 'agilesim help')", cmd);
}
