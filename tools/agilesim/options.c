/* agilesim command line — the option table. Model notes: none.
 * One row per option: its name, value, help, the commands it applies to, and either the
 * ags_config_t field it sets (with how to parse it) or a handler for the CLI's own settings.
 * `agilesim help` prints every default from ags_config_defaults() through the same table, so a
 * default is written in one place. Numbers are base 10, finite and in range. */
#include "cli.h"
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum {
    K_UINT,     /* unsigned field: an integer lo..hi */
    K_U64,      /* uint64_t field: a count (k, M, G decimal suffixes), at least lo */
    K_ONOFF,    /* int field: on/off */
    K_FLAG,     /* int field set to 1, no value */
    K_GEOM,     /* ags_geom_t field: ENTRIES:WAYS */
    K_GEOM_ON,  /* ags_geom_t field + an int on-flag at off2: off | on | ENTRIES:WAYS */
    K_PAGE,     /* unsigned page shift: 4k, 2m, 1g */
    K_ENUM,     /* int field: one of names[] (index = value) */
    K_DOUBLE,   /* double field in (lo, hi] */
    K_CLI       /* the CLI's own setting: handler */
} kind_t;

typedef struct optdef optdef_t;
struct optdef {
    const char *name, *arg, *help;
    unsigned cmds;
    kind_t kind;
    size_t off, off2;
    uint64_t lo, hi;
    const char *const *names;
    void (*handler)(ags_cli_opts_t *o, const optdef_t *d, const char *v);
    const char *def;    /* K_CLI: the default as help shows it (NULL: none) */
};

#define AGS_CLI_MIN(a, b) ((a) < (b) ? (a) : (b))
static const char *did_you_mean(const char *a, size_t len, int workloads);

static const char *const s_sync[] = { "wp", "unsync", NULL };
static const char *const s_backing[] = { "prefault", "lazy", NULL };
static const char *const s_start[] = { "nested", "shadow", NULL };
static const char *const s_revert[] = { "subtree", "one-level", NULL };
static const char *const s_adirty[] = { "pt-write", "ept-ad", NULL };

/* ------------------------------------------------------------------ value parsers */

static const optdef_t *cur; /* the option being parsed, for messages */

static __attribute__((noreturn)) void bad(const char *v, const char *expect)
{
    ags_cli_die(EXIT_USAGE, "%s: invalid value '%s' (expected %s)", cur->name, v ? v : "", expect);
}

/* Base-10 digits only, at least one; no sign, no space, no 0x. */
static const char *digits(const char *s, uint64_t *out)
{
    uint64_t x = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (x > (UINT64_MAX - 9) / 10)
            return NULL;
        x = x * 10 + (uint64_t)(*p - '0');
    }
    if (p == s)
        return NULL;
    *out = x;
    return p;
}

/* A size with a binary suffix (k, m, g, t; optional "i" and "b"): 512m = 512 MiB. */
static int parse_size(const char *s, uint64_t *out)
{
    uint64_t v;
    const char *p = digits(s, &v);
    if (!p)
        return -1;
    unsigned sh = 0;
    switch (*p) {
    case 'k': case 'K': sh = 10; break;
    case 'm': case 'M': sh = 20; break;
    case 'g': case 'G': sh = 30; break;
    case 't': case 'T': sh = 40; break;
    case 0: break;
    default: return -1;
    }
    if (sh) {
        p++;
        if (*p == 'i' || *p == 'I')
            p++;
        if (*p == 'b' || *p == 'B')
            p++;
    }
    if (*p || (sh && v > (UINT64_MAX >> sh)))
        return -1;
    *out = v << sh;
    return 0;
}

/* A count with a decimal suffix: 10M = 10,000,000; 1.5k = 1500. Below 2^63. */
static int parse_count(const char *s, uint64_t *out)
{
    uint64_t ip, fp = 0, fscale = 1;
    const char *p = digits(s, &ip);
    if (!p)
        return -1;
    if (*p == '.') {
        const char *q = p + 1;
        for (; *q >= '0' && *q <= '9' && fscale < 1000000000ULL; q++) {
            fp = fp * 10 + (uint64_t)(*q - '0');
            fscale *= 10;
        }
        if (q == p + 1 || (*q >= '0' && *q <= '9'))
            return -1;
        p = q;
    }
    uint64_t mul = 1;
    switch (*p) {
    case 'k': case 'K': mul = 1000; p++; break;
    case 'm': case 'M': mul = 1000000; p++; break;
    case 'g': case 'G': case 'b': case 'B': mul = 1000000000; p++; break;
    default: break;
    }
    if (*p || ip > (UINT64_MAX >> 1) / mul)
        return -1;
    uint64_t frac = fp * mul;
    if (frac % fscale)
        return -1; /* not a whole number */
    uint64_t v = ip * mul + frac / fscale;
    if (v >> 63)
        return -1;
    *out = v;
    return 0;
}

/* A finite decimal number (no hex, no nan, no inf). */
static int parse_double(const char *s, double *out)
{
    if (!*s || !((*s >= '0' && *s <= '9') || *s == '.') || strpbrk(s, "xXnNiI"))
        return -1;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || *end || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

static int enum_index(const char *const *names, const char *v)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], v))
            return i;
    return -1;
}

static void enum_expect(const char *const *names, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; names[i]; i++)
        n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", i ? (names[i + 1] ? ", " : " or ") : "", names[i]);
}

static ags_geom_t parse_geom(const char *v)
{
    uint64_t e, w;
    const char *p = digits(v, &e);
    if (!p || *p != ':' || !(p = digits(p + 1, &w)) || *p || !e || !w || e > (1u << 24) || w > 64)
        bad(v, "ENTRIES:WAYS, e.g. 64:4");
    return (ags_geom_t){ (uint32_t)e, (uint32_t)w };
}

static unsigned parse_page(const char *v)
{
    if (!strcmp(v, "4k") || !strcmp(v, "4K")) return 12;
    if (!strcmp(v, "2m") || !strcmp(v, "2M")) return 21;
    if (!strcmp(v, "1g") || !strcmp(v, "1G")) return 30;
    bad(v, "4k, 2m or 1g");
}

static int parse_onoff(const char *v)
{
    if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "yes"))
        return 1;
    if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "no"))
        return 0;
    bad(v, "on or off");
}

/* ------------------------------------------------------------------ the CLI's own options */

void ags_cli_add_suite(ags_cli_opts_t *o)
{
    size_t n;
    const ags_workload_info_t *l = ags_workload_list(&n);
    for (size_t k = 0; k < n; k++) {
        if (l[k].stress) /* stress tests run only when named */
            continue;
        if (o->ninputs == AGS_CLI_MAX_INPUTS)
            ags_cli_die(EXIT_USAGE, "too many inputs (at most %d)", AGS_CLI_MAX_INPUTS);
        o->is_trace[o->ninputs] = 0;
        o->inputs[o->ninputs++] = l[k].name;
    }
}

static void add_workloads(ags_cli_opts_t *o, const char *list)
{
    const char *p = list;
    if (!*p)
        ags_cli_die(EXIT_USAGE, "--workload: empty list (see 'agilesim workloads')");
    while (*p) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        char name[64];
        if (!len || len >= sizeof(name))
            ags_cli_die(EXIT_USAGE, "--workload: invalid list '%s' (names separated by commas)", list);
        memcpy(name, p, len);
        name[len] = 0;
        size_t n;
        const ags_workload_info_t *l = ags_workload_list(&n);
        if (!strcmp(name, "suite")) {
            ags_cli_add_suite(o);
            p += len + (c != NULL);
            continue;
        }
        size_t k = 0;
        while (k < n && strcmp(l[k].name, name))
            k++;
        if (k == n)
            ags_cli_die(EXIT_USAGE, "unknown workload '%s'%s (see 'agilesim workloads')", name,
                        did_you_mean(name, strlen(name), 1));
        if (o->ninputs == AGS_CLI_MAX_INPUTS)
            ags_cli_die(EXIT_USAGE, "too many inputs (at most %d)", AGS_CLI_MAX_INPUTS);
        o->is_trace[o->ninputs] = 0;
        o->inputs[o->ninputs++] = l[k].name;
        p += len + (c != NULL);
        if (c && !*p)
            ags_cli_die(EXIT_USAGE, "--workload: invalid list '%s' (names separated by commas)", list);
    }
}

static void h_workload(ags_cli_opts_t *o, const optdef_t *d, const char *v) { (void)d; add_workloads(o, v); }

static void h_modes(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    (void)d;
    unsigned m = 0;
    const char *p = v;
    while (*p) {
        const char *c = strpbrk(p, ",+"); /* native+agile: a list that is one value of sweep's --param */
        size_t len = c ? (size_t)(c - p) : strlen(p);
        char tok[16];
        if (!len || len >= sizeof(tok))
            bad(v, "a list of native, nested, shadow, agile");
        memcpy(tok, p, len);
        tok[len] = 0;
        int k = ags_mode_parse(tok);
        if (!strcmp(tok, "all"))
            m |= AGS_MODES_ALL;
        else if (k < 0)
            bad(v, "a list of native, nested, shadow, agile");
        else
            m |= 1u << k;
        p += len + (c != NULL);
    }
    if (!m)
        bad(v, "a list of native, nested, shadow, agile");
    o->cfg.modes = m;
}

static void h_mode(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    (void)d;
    int k = ags_mode_parse(v);
    if (k < 0)
        bad(v, "native, nested, shadow or agile");
    o->cfg.modes = 1u << k;
}

static void h_accesses(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    (void)d;
    if (parse_count(v, &o->accesses) || !o->accesses)
        bad(v, "a positive count, e.g. 4M");
    o->accesses_given = 1;
}

static void h_footprint(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    (void)d;
    if (parse_size(v, &o->footprint) || o->footprint < (1ULL << 20) || o->footprint > (1ULL << 42))
        bad(v, "a size from 1m to 4t, e.g. 512m");
}

static void h_guest_memory(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    (void)d;
    uint64_t sz;
    if (parse_size(v, &sz) || sz < (64ULL << 20) || sz > (1020ULL << 30))
        bad(v, "a size from 64m to 1020g, e.g. 64g");
    o->cfg.guest_memory = sz;
}

static void h_max_memory(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    (void)d;
    if (!strcmp(v, "off"))
        o->max_memory = UINT64_MAX;
    else if (!strcmp(v, "auto"))
        o->max_memory = 0;
    else if (parse_size(v, &o->max_memory) || o->max_memory < (16ULL << 20))
        bad(v, "auto, off or a size of at least 16m, e.g. 8g");
}

static void h_groups(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    (void)d;
    uint64_t n;
    const char *p = digits(v, &n);
    if (!strcmp(v, "auto"))
        o->groups = 0;
    else if (p && !*p && n >= 1 && n <= 4)
        o->groups = (unsigned)n;
    else
        bad(v, "auto or a count 1..4");
}

static void h_threads(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    (void)d;
    uint64_t n;
    const char *p = digits(v, &n);
    if (!strcmp(v, "all"))
        o->threads = 0;
    else if (p && !*p && n >= 1 && n <= 256)
        o->threads = (unsigned)n;
    else
        bad(v, "all or a count 1..256");
}

static void h_by(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    (void)d;
    if (!strcmp(v, "region"))
        o->by = 1;
    else if (!strcmp(v, "process"))
        o->by = 2;
    else
        bad(v, "region or process");
}

static void h_seed(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    (void)d;
    const char *p = digits(v, &o->seed);
    if (!p || *p)
        bad(v, "a non-negative integer");
}

static void h_format(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    (void)d;
    int f = ags_format_parse(v);
    if (f < 0)
        bad(v, "auto, agt, lackey, pinatrace or champsim");
    o->format = f;
}

static void h_zstd(ags_cli_opts_t *o, const optdef_t *d, const char *v) { (void)v; o->zstd = !strcmp(d->name, "--zstd"); }
static void h_roi(ags_cli_opts_t *o, const optdef_t *d, const char *v) { (void)d, (void)v; o->roi = 1; }

static void h_recorder(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    (void)d;
    if (!strcmp(v, "agstrace"))
        o->recorder = 0;
    else if (!strcmp(v, "lackey"))
        o->recorder = 1;
    else
        bad(v, "agstrace or lackey");
}

static void h_rec_instructions(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    uint64_t x;
    int max = !strcmp(d->name, "--max-instructions");
    if (parse_count(v, &x) || (max && !x))
        bad(v, max ? "a positive count of instructions (suffixes k, M, G)" : "a count of instructions (suffixes k, M, G)");
    if (max)
        o->max_instructions = x;
    else
        o->skip_instructions = x;
}
static void h_quiet(ags_cli_opts_t *o, const optdef_t *d, const char *v) { (void)d, (void)v; o->quiet = 1; }
static void h_legend(ags_cli_opts_t *o, const optdef_t *d, const char *v) { (void)v; o->legend = !strcmp(d->name, "--legend"); }

static void h_path(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    if (!*v)
        bad(v, "a file name");
    const char **slot = !strcmp(d->name, "-o") ? &o->output : !strcmp(d->name, "--json") ? &o->json
                        : !strcmp(d->name, "--csv") ? &o->csv : !strcmp(d->name, "--interval-svg") ? &o->interval_svg : &o->svg;
    *slot = v;
}

/* --label KEY=VALUE: a key of letters, digits, '_', '-', '.', given once */
static void h_label(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    (void)d;
    const char *eq = strchr(v, '=');
    size_t klen = eq ? (size_t)(eq - v) : 0;
    if (!klen || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != klen ||
        strpbrk(eq + 1, "\r\n"))
        bad(v, "KEY=VALUE, a key of letters, digits, '_', '-' and '.', a value on one line");
    for (size_t i = 0; i < o->nlabels; i++)
        if (strlen(o->labels[2 * i]) == klen && !strncmp(o->labels[2 * i], v, klen))
            ags_cli_die(EXIT_USAGE, "--label: key '%.*s' given twice", (int)klen, v);
    if (o->nlabels == AGS_CLI_MAX_LABELS)
        ags_cli_die(EXIT_USAGE, "--label: at most %d labels", AGS_CLI_MAX_LABELS);
    static char keys[AGS_CLI_MAX_LABELS][64]; /* the options live as long as the process */
    if (klen >= sizeof(keys[0]))
        bad(v, "a key of at most 63 characters");
    memcpy(keys[o->nlabels], v, klen);
    keys[o->nlabels][klen] = 0;
    o->labels[2 * o->nlabels] = keys[o->nlabels];
    o->labels[2 * o->nlabels + 1] = eq + 1;
    o->nlabels++;
}

static void h_warmup(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    (void)d;
    size_t len = strlen(v);
    if (len > 1 && v[len - 1] == '%') {
        char num[32];
        double pct;
        if (len > sizeof(num))
            bad(v, "an access count or a percentage below 100%");
        memcpy(num, v, len - 1);
        num[len - 1] = 0;
        if (parse_double(num, &pct) || pct < 0 || pct >= 100)
            bad(v, "an access count or a percentage below 100%");
        o->warmup_pct = pct;
        o->warmup_abs = 0;
    } else {
        if (parse_count(v, &o->warmup_abs))
            bad(v, "an access count or a percentage below 100%");
        o->warmup_pct = -1;
    }
}

static void h_instructions(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    uint64_t x;
    if (parse_count(v, &x) || (!x && !strcmp(d->name, "--instructions")))
        bad(v, "a count of instructions (suffixes k, M, G)");
    if (!strcmp(d->name, "--instructions"))
        o->instructions = x;
    else
        o->warmup_instructions = x;
}

static void h_walk_latency(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    (void)d;
    uint64_t n;
    const char *p;
    if (!strcmp(v, "cache")) {
        o->cfg.walk_latency_fixed = 0;
    } else if (!strncmp(v, "fixed:", 6) && (p = digits(v + 6, &n)) && !*p && n <= 100000) {
        o->cfg.walk_latency_fixed = 1;
        o->cfg.walk_latency = (unsigned)n;
    } else {
        bad(v, "fixed:N (N <= 100000) or cache");
    }
}

static void h_pcids(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    (void)d;
    uint64_t n;
    const char *p = digits(v, &n);
    if (!strcmp(v, "off")) {
        o->cfg.pcid = 0;
    } else if (p && !*p && n >= 1 && n <= 4095) {
        o->cfg.pcid = 1;
        o->cfg.pcids = (unsigned)n;
    } else {
        bad(v, "off or a count 1..4095");
    }
}

static void h_native_cycles(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    (void)d;
    uint64_t x;
    if (parse_count(v, &x) || !x)
        bad(v, "a positive cycle count");
    o->cfg.native_cycles = (double)x;
}

/* ------------------------------------------------------------------ the table */

#define C(f) offsetof(ags_config_t, f)
#define CLI(n, a, cmds, h, def, help) { n, a, help, cmds, K_CLI, 0, 0, 0, 0, NULL, h, def }
#define UINT(n, a, f, lo, hi, help) { n, a, help, CMD_SIM, K_UINT, C(f), 0, lo, hi, NULL, NULL, NULL }
#define COST(n, f, help) UINT(n, "N", f, 0, 100000000, help)
#define U64(n, a, f, lo, help) { n, a, help, CMD_SIM, K_U64, C(f), 0, lo, 0, NULL, NULL, NULL }
#define ONOFF(n, f, help) { n, "on|off", help, CMD_SIM, K_ONOFF, C(f), 0, 0, 0, NULL, NULL, NULL }
#define FLAG(n, f, help) { n, "", help, CMD_SIM, K_FLAG, C(f), 0, 0, 0, NULL, NULL, NULL }
#define GEOM(n, a, f, help) { n, a, help, CMD_SIM, K_GEOM, C(f), 0, 0, 0, NULL, NULL, NULL }
#define GEOM_ON(n, f, on, help) { n, "off|on|E:W", help, CMD_SIM, K_GEOM_ON, C(f), C(on), 0, 0, NULL, NULL, NULL }
#define PAGE(n, f, help) { n, "4k|2m|1g", help, CMD_SIM, K_PAGE, C(f), 0, 0, 0, NULL, NULL, NULL }
#define ENUM(n, a, f, names, help) { n, a, help, CMD_SIM, K_ENUM, C(f), 0, 0, 0, names, NULL, NULL }

static const optdef_t optdefs[] = {
    CLI("--workload", "NAME[,NAME...]", CMD_SIM | CMD_CONVERT | CMD_INFO, h_workload, "the whole suite", "built-in workload(s); suite = every one but the stress tests"),
    CLI("--format", "F", CMD_SIM | CMD_CONVERT | CMD_INFO, h_format, "auto", "trace format: auto (from the content), agt, lackey, pinatrace, champsim"),
    CLI("--zstd", "", CMD_CONVERT | CMD_RECORD, h_zstd, "on for record, off for convert", "compress the .agt output with zstd"),
    CLI("--no-zstd", "", CMD_CONVERT | CMD_RECORD, h_zstd, NULL, "write the .agt output uncompressed"),
    CLI("--recorder", "agstrace|lackey", CMD_RECORD, h_recorder, "agstrace", "record with agilesim's Valgrind tool, or with Valgrind's Lackey (slower, text)"),
    CLI("--skip-instructions", "N", CMD_RECORD, h_rec_instructions, "0", "record: drop the accesses of the first N instructions (address-space events are kept)"),
    CLI("--max-instructions", "N", CMD_RECORD, h_rec_instructions, "none", "record: stop the program after N recorded instructions (the trace is marked truncated)"),
    CLI("--roi", "", CMD_RECORD, h_roi, NULL, "record: only accesses inside AGILESIM_ROI_BEGIN/END (agilesim/roi.h)"),
    CLI("-o", "FILE", CMD_CONVERT | CMD_RECORD, h_path, NULL, "the .agt file to write"),
    CLI("--modes", "LIST", CMD_COMPARE, h_modes, "all", "modes to compare: native,nested,shadow,agile (or joined by +)"),
    CLI("--mode", "MODE", CMD_RUN, h_mode, NULL, "the mode to run (run)"),
    CLI("--accesses", "N", CMD_SIM | CMD_CONVERT, h_accesses, "16M for built-in workloads; the whole trace", "memory accesses to count per input (suffixes k, M, G)"),
    CLI("--footprint", "SIZE", CMD_SIM | CMD_CONVERT | CMD_INFO, h_footprint, "the workload's own", "main data-set size of the built-in workloads (e.g. 512m, 1g)"),
    CLI("--seed", "N", CMD_SIM | CMD_CONVERT | CMD_INFO, h_seed, "1", "random seed of the built-in workloads"),
    CLI("--json", "FILE", CMD_SIM, h_path, NULL, "write the JSON report"),
    CLI("--csv", "FILE", CMD_SIM, h_path, NULL, "write the CSV report"),
    CLI("--svg", "FILE", CMD_SIM, h_path, NULL, "write an SVG stacked-bar chart"),
    CLI("--interval-svg", "FILE", CMD_SIM, h_path, NULL, "with --interval: write SVG line charts over instructions (overhead, exits, agile's pages)"),
    CLI("--label", "KEY=VALUE", CMD_SIM, h_label, NULL, "tag the report: JSON \"labels\", and a leading CSV column KEY (repeatable; sweep sets one per parameter)"),
    FLAG("--check", check, "compare every walk with the guest's functional translation; audit the VMM"),
    CLI("--quiet", "", CMD_SIM | CMD_CONVERT | CMD_RECORD, h_quiet, NULL, "no progress or summary on stderr"),
    CLI("--by", "region|process", CMD_SIM, h_by, NULL, "also a table per region (VMA) or per process: accesses, walks, walk and VMM cycles per mode, agile's shadow share"),
    CLI("--legend", "", CMD_SIM, h_legend, "on when stdout is a terminal", "define every column under the text table"),
    CLI("--no-legend", "", CMD_SIM, h_legend, NULL, "no legend under the text table"),
    U64("--interval", "N", interval, 1000, "per-interval rows every N instructions (0: none)"),
    CLI("--warmup", "N|P%", CMD_SIM, h_warmup, "50% for built-in workloads, 0 for traces", "simulate the first N accesses (or P% of --accesses) without counting them"),
    CLI("--instructions", "N", CMD_SIM, h_instructions, NULL, "count N instructions per input instead of --accesses (ChampSim's convention)"),
    CLI("--warmup-instructions", "N", CMD_SIM, h_instructions, NULL, "simulate the first N instructions without counting them (instead of --warmup)"),
    UINT("--guest-levels", "N", guest_levels, 4, 5, "guest page-table levels: 4, or 5 (LA57)"),
    UINT("--host-levels", "N", host_levels, 4, 5, "host (EPT) levels: 4 or 5"),
    PAGE("--guest-page", guest_page_shift, "guest page size: 4k, 2m (THP) or 1g"),
    PAGE("--host-page", host_page_shift, "host page size (EPT leaf)"),
    CLI("--guest-memory", "SIZE", CMD_SIM, h_guest_memory, "512g", "the guest's physical memory; a run that needs more stops with an error (no swapping is modelled)"),
    CLI("--threads", "N|all", CMD_SIM, h_threads, "all: every online core", "threads per run: the machines' cache models replay on N-1 of them, and the input is read ahead (results are the same for every N)"),
    CLI("--groups", "N|auto", CMD_SIM, h_groups, "auto", "run the machines in N groups, each on a thread of its own (each repeats the shared TLB and the guest): faster where TLB misses are many, slower where they are few; auto: one group per 2 threads with caches on, per thread beyond the first with caches off (one on 2 cores); results are the same for every N"),
    CLI("--max-memory", "SIZE|auto|off", CMD_SIM, h_max_memory, "auto: 90% of the memory free at start", "stop a run whose resident size reaches SIZE, reporting the statistics so far"),
    ENUM("--host-backing", "prefault|lazy", host_backing_lazy, s_backing, "guest memory backed at boot, or an EPT-violation exit per first touch"),
    ONOFF("--pcid", pcid, "tag TLB entries with a PCID (off: every context switch flushes the TLB)"),
    CLI("--pcids", "N|off", CMD_SIM, h_pcids, "6", "PCIDs the guest hands out per CPU (Linux TLB_NR_DYN_ASIDS); a process whose PCID was reused flushes"),
    UINT("--flush-ceiling", "N", flush_ceiling, 0, 64, "INVLPG each page while a flush spans at most N pages, else a full flush (Linux tlb_single_page_flush_ceiling)"),
    ONOFF("--tlb", tlb_on, "the TLB hierarchy"),
    GEOM("--l1d-tlb", "E:W", l1d_4k, "L1 data TLB, 4 KiB pages"),
    GEOM("--l1d-tlb-2m", "E:W", l1d_2m, "L1 data TLB, 2 MiB pages"),
    GEOM("--l1d-tlb-1g", "E:W", l1d_1g, "L1 data TLB, 1 GiB pages"),
    GEOM("--l1i-tlb", "E:W", l1i_4k, "L1 instruction TLB, 4 KiB pages"),
    GEOM("--l1i-tlb-2m", "E:W", l1i_2m, "L1 instruction TLB, 2 MiB pages"),
    GEOM("--l2-tlb", "E:W", l2_tlb, "unified L2 TLB, 4 KiB and 2 MiB pages"),
    GEOM("--l2-tlb-1g", "E:W", l2_tlb_1g, "L2 TLB, 1 GiB pages"),
    GEOM_ON("--pwc", pwc, pwc_on, "paging-structure caches, per level and dimension"),
    GEOM_ON("--ntlb", ntlb, ntlb_on, "nested TLB (gPA -> hPA)"),
    ONOFF("--caches", caches_on, "cache hierarchy for walk and data references"),
    GEOM("--l1-cache", "LINES:W", l1c, "L1 data cache (64-byte lines)"),
    GEOM("--l2-cache", "LINES:W", l2c, "L2 cache"),
    GEOM("--llc", "LINES:W", llc, "last-level cache (a core's share)"),
    CLI("--walk-latency", "cache|fixed:N", CMD_SIM, h_walk_latency, "cache", "walk reference latency: from the caches, or a flat N cycles"),
    { "--cpi", "X", "base cycles per instruction", CMD_SIM, K_DOUBLE, C(cpi), 0, 0, 1000, NULL, NULL, NULL },
    CLI("--native-cycles", "N", CMD_SIM, h_native_cycles, NULL, "calibrate the base CPI so that native totals N cycles"),
    COST("--cost-exit", cost_exit, "VM exit + entry round trip (cycles)"),
    COST("--cost-pt-write", cost_pt_write, "+ emulating a trapped guest PT write"),
    COST("--cost-hidden-fault", cost_hidden_fault, "+ filling shadow entries on a hidden fault"),
    COST("--cost-reflect", cost_reflect, "+ reflecting a guest page fault"),
    COST("--cost-cr3", cost_cr3, "+ a CR3 write: find/sync the shadow root"),
    COST("--cost-invlpg", cost_invlpg, "+ an intercepted INVLPG"),
    COST("--cost-dirty", cost_dirty, "+ dirty-bit emulation"),
    COST("--cost-ept-violation", cost_ept_violation, "+ an EPT violation (lazy backing)"),
    COST("--cost-switch", cost_switch, "agile: switching or reverting one guest PT page"),
    COST("--cost-switch-entry", cost_switch_entry, "agile: per shadow entry rebuilt on a revert"),
    COST("--cost-scan-page", cost_scan_page, "agile: per NESTED page per dirty scan"),
    COST("--cost-resync", cost_resync, "unsync: resynchronising one shadow page"),
    COST("--cost-guest-fault", cost_guest_fault, "the guest's page-fault handler, every mode"),
    ENUM("--shadow-sync", "unsync|wp", shadow_sync, s_sync, "shadow coherence: KVM's unsync leaves, or wp = trap and emulate every write (no KVM configuration does this)"),
    UINT("--shadow-prefetch", "N", shadow_prefetch, 0, 512, "shadow: on a hidden fault, also fill the other entries of the aligned group of N (KVM pte_prefetch; 0 = off; a power of two)"),
    UINT("--agile-threshold", "N", agile_threshold, 1, 255, "agile: trapped writes (or resyncs that found changes) before a page goes nested"),
    U64("--agile-interval", "N", agile_interval, 1000, "agile: instructions between dirty scans"),
    ENUM("--agile-start", "nested|shadow", agile_start_shadow, s_start, "agile: mode of a new process's root"),
    FLAG("--agile-ad-hw", agile_ad_hw, "agile: hardware A/D bits in guest and shadow entries"),
    UINT("--agile-cr3-cache", "N", agile_cr3_cache, 0, 4096, "agile: gCR3 -> sCR3 cache entries"),
    UINT("--agile-force-level", "L", agile_force_level, 0, 6, "agile: pin the switch at shadow level L (1 = all shadow, levels+1 = root nested; 0 = dynamic)"),
    ENUM("--agile-revert", "subtree|one-level", agile_revert_one_level, s_revert, "agile: a scan reverts every clean level top-down, or one level"),
    ENUM("--agile-dirty", "pt-write|ept-ad", agile_dirty, s_adirty, "agile: what dirties a guest table: guest writes and A/D updates (the hardware agile paging assumes), or stock EPT A/D (every walk that reads it, SDM 28.3.3.2)"),
};
#define NOPTS (sizeof(optdefs) / sizeof(optdefs[0]))

/* ------------------------------------------------------------------ parse */

static void set_option(ags_cli_opts_t *o, const optdef_t *d, const char *v)
{
    char *base = (char *)&o->cfg;
    char expect[128];
    uint64_t x;
    double dv;
    cur = d;
    switch (d->kind) {
    case K_CLI: d->handler(o, d, v); break;
    case K_UINT: {
        const char *p = digits(v, &x);
        if (!p || *p || x < d->lo || x > d->hi) {
            snprintf(expect, sizeof(expect), "an integer %llu..%llu", (unsigned long long)d->lo, (unsigned long long)d->hi);
            bad(v, expect);
        }
        *(unsigned *)(base + d->off) = (unsigned)x;
        break;
    }
    case K_U64:
        if (parse_count(v, &x) || (x < d->lo && !(x == 0 && !strcmp(d->name, "--interval")))) {
            snprintf(expect, sizeof(expect), "a count of at least %llu (suffixes k, M, G)", (unsigned long long)d->lo);
            bad(v, expect);
        }
        *(uint64_t *)(base + d->off) = x;
        break;
    case K_ONOFF: *(int *)(base + d->off) = parse_onoff(v); break;
    case K_FLAG: *(int *)(base + d->off) = 1; break;
    case K_GEOM: *(ags_geom_t *)(base + d->off) = parse_geom(v); break;
    case K_GEOM_ON:
        if (!strcmp(v, "off") || !strcmp(v, "on")) {
            *(int *)(base + d->off2) = !strcmp(v, "on");
        } else {
            *(ags_geom_t *)(base + d->off) = parse_geom(v);
            *(int *)(base + d->off2) = 1;
        }
        break;
    case K_PAGE: *(unsigned *)(base + d->off) = parse_page(v); break;
    case K_ENUM: {
        int k = enum_index(d->names, v);
        if (k < 0) {
            enum_expect(d->names, expect, sizeof(expect));
            bad(v, expect);
        }
        *(int *)(base + d->off) = k;
        break;
    }
    case K_DOUBLE:
        if (parse_double(v, &dv) || !(dv > (double)d->lo) || dv > (double)d->hi) {
            snprintf(expect, sizeof(expect), "a decimal number in (%llu, %llu]", (unsigned long long)d->lo,
                     (unsigned long long)d->hi);
            bad(v, expect);
        }
        *(double *)(base + d->off) = dv;
        break;
    }
}

static const char *command_list(unsigned cmds, char *buf, size_t len)
{
    static const char *const names[] = { "compare", "run", "convert", "info", "record" };
    size_t n = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < 5; i++)
        if (cmds & (1u << i))
            n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s'%s'", n ? ", " : "", names[i]);
    return buf;
}

int ags_cli_workload_exists(const char *name)
{
    if (!strcmp(name, "suite"))
        return 1;
    size_t n;
    const ags_workload_info_t *l = ags_workload_list(&n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(l[i].name, name))
            return 1;
    return 0;
}

/* Edit distance (insertions, deletions, substitutions, adjacent swaps) of two short strings. */
static size_t edit_distance(const char *a, size_t la, const char *b)
{
    size_t lb = strlen(b), d[3][72];
    if (la > 70 || lb > 70)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t *row = d[i % 3], *prev = d[(i - 1) % 3], *pp = d[(i + 1) % 3];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t c = prev[j - 1] + (a[i - 1] != b[j - 1]);
            c = AGS_CLI_MIN(c, prev[j] + 1);
            c = AGS_CLI_MIN(c, row[j - 1] + 1);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                c = AGS_CLI_MIN(c, pp[j - 2] + 1);
            row[j] = c;
        }
    }
    return d[la % 3][lb];
}

/* " (did you mean '--modes'?)" for the closest option or workload within a third of its length, or "" */
static const char *did_you_mean(const char *a, size_t len, int workloads)
{
    static char buf[96];
    const char *best = NULL;
    size_t bd = len / 3 + 1;
    if (workloads) {
        size_t n;
        const ags_workload_info_t *l = ags_workload_list(&n);
        for (size_t k = 0; k < n; k++) {
            size_t dd = edit_distance(a, len, l[k].name);
            if (dd < bd)
                bd = dd, best = l[k].name;
        }
    } else {
        for (size_t k = 0; k < NOPTS; k++) {
            size_t dd = edit_distance(a, len, optdefs[k].name);
            if (dd < bd)
                bd = dd, best = optdefs[k].name;
        }
    }
    if (!best)
        return "";
    snprintf(buf, sizeof(buf), " (did you mean '%s'?)", best);
    return buf;
}

void ags_cli_parse(ags_cli_opts_t *o, int argc, char **argv, int first, int *rest)
{
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--") && (o->command & (CMD_RECORD | CMD_SIM))) {
            *rest = i + 1;
            return;
        }
        if ((a[0] == '-' && a[1] == '-' && a[2]) || !strcmp(a, "-o")) {
            const char *eq = strchr(a, '=');
            size_t len = eq ? (size_t)(eq - a) : strlen(a);
            const optdef_t *d = NULL;
            for (size_t k = 0; k < NOPTS && !d; k++)
                if (strlen(optdefs[k].name) == len && !strncmp(optdefs[k].name, a, len))
                    d = &optdefs[k];
            if (!d)
                ags_cli_die(EXIT_USAGE, "unknown option '%.*s'%s (see 'agilesim help')", (int)len, a,
                            did_you_mean(a, len, 0));
            if (!(d->cmds & o->command)) {
                char buf[96];
                ags_cli_die(EXIT_USAGE, "%s does not apply to '%s' (it is for %s)", d->name, o->command_name,
                            command_list(d->cmds, buf, sizeof(buf)));
            }
            const char *v = NULL;
            int has_arg = d->arg[0] != 0;
            if (has_arg) {
                if (eq)
                    v = eq + 1;
                else if (i + 1 < argc)
                    v = argv[++i];
                else
                    ags_cli_die(EXIT_USAGE, "%s needs a value", d->name);
            } else if (eq) {
                ags_cli_die(EXIT_USAGE, "%s takes no value", d->name);
            }
            set_option(o, d, v);
        } else if (ags_cli_workload_exists(a)) {
            add_workloads(o, a);
        } else if (a[0] == '-' && a[1] && a[1] != '-') {
            ags_cli_die(EXIT_USAGE, "unknown option '%s' (see 'agilesim help')", a);
        } else if (access(a, F_OK) == 0 || strchr(a, '/') || strchr(a, '.') || !strcmp(a, "-") ||
                   (o->command & (CMD_INFO | CMD_CONVERT))) { /* info and convert take files: the open names the problem */
            if (o->ninputs == AGS_CLI_MAX_INPUTS)
                ags_cli_die(EXIT_USAGE, "too many inputs (at most %d)", AGS_CLI_MAX_INPUTS);
            o->is_trace[o->ninputs] = 1;
            o->inputs[o->ninputs++] = a;
        } else {
            if (o->command == CMD_RECORD)
                ags_cli_die(EXIT_USAGE, "record: '%s': the command to record goes after --: agilesim record -o OUT.agt -- %s ...", a, a);
            ags_cli_die(EXIT_USAGE, "unknown workload or argument '%s'%s (see 'agilesim workloads')", a,
                        did_you_mean(a, strlen(a), 1));
        }
    }
}

int ags_cli_option_arity(const char *name, unsigned command, const char **canonical)
{
    for (size_t k = 0; k < NOPTS; k++)
        if (!strcmp(optdefs[k].name, name) || (optdefs[k].name[1] == '-' && !strcmp(optdefs[k].name + 2, name))) {
            if (!(optdefs[k].cmds & command))
                return -1;
            if (canonical)
                *canonical = optdefs[k].name;
            return optdefs[k].arg[0] != 0;
        }
    return -1;
}

void ags_cli_defaults(ags_cli_opts_t *o, unsigned command, const char *name)
{
    memset(o, 0, sizeof(*o));
    ags_config_defaults(&o->cfg);
    o->command = command;
    o->command_name = name;
    o->accesses = 16000000;
    o->warmup_pct = -2;
    o->seed = 1;
    o->zstd = command == CMD_RECORD; /* a recording is big: compressed unless --no-zstd */
    o->max_instructions = UINT64_MAX;
    o->legend = -1;
    if (command == CMD_RUN)
        o->cfg.modes = 0;
}

/* ------------------------------------------------------------------ help */

/* The default of a config option, as a user would type it. */
static void default_text(const optdef_t *d, const ags_config_t *c, char *buf, size_t len)
{
    const char *base = (const char *)c;
    buf[0] = 0;
    switch (d->kind) {
    case K_CLI: snprintf(buf, len, "%s", d->def ? d->def : ""); break;
    case K_UINT: snprintf(buf, len, "%u", *(const unsigned *)(base + d->off)); break;
    case K_U64: {
        uint64_t v = *(const uint64_t *)(base + d->off);
        if (v && v % 1000000 == 0)
            snprintf(buf, len, "%lluM", (unsigned long long)(v / 1000000));
        else
            snprintf(buf, len, "%llu", (unsigned long long)v);
        break;
    }
    case K_ONOFF: snprintf(buf, len, "%s", *(const int *)(base + d->off) ? "on" : "off"); break;
    case K_FLAG: snprintf(buf, len, "%s", *(const int *)(base + d->off) ? "on" : "off"); break;
    case K_GEOM: {
        const ags_geom_t *g = (const ags_geom_t *)(base + d->off);
        snprintf(buf, len, "%u:%u", g->entries, g->ways);
        break;
    }
    case K_GEOM_ON: {
        const ags_geom_t *g = (const ags_geom_t *)(base + d->off);
        if (*(const int *)(base + d->off2))
            snprintf(buf, len, "%u:%u", g->entries, g->ways);
        else
            snprintf(buf, len, "off");
        break;
    }
    case K_PAGE: {
        unsigned sh = *(const unsigned *)(base + d->off);
        snprintf(buf, len, "%s", sh == 12 ? "4k" : sh == 21 ? "2m" : "1g");
        break;
    }
    case K_ENUM: snprintf(buf, len, "%s", d->names[*(const int *)(base + d->off)]); break;
    case K_DOUBLE: snprintf(buf, len, "%g", *(const double *)(base + d->off)); break;
    }
}

static void print_options(FILE *f, unsigned cmds)
{
    ags_config_t c;
    ags_config_defaults(&c);
    size_t w = 0;
    for (size_t i = 0; i < NOPTS; i++) {
        size_t l = strlen(optdefs[i].name) + (optdefs[i].arg[0] ? 1 + strlen(optdefs[i].arg) : 0);
        w = (optdefs[i].cmds & cmds) && l > w ? l : w;
    }
    for (size_t i = 0; i < NOPTS; i++) {
        const optdef_t *d = &optdefs[i];
        if (!(d->cmds & cmds))
            continue;
        char lhs[96], def[96];
        snprintf(lhs, sizeof(lhs), "%s%s%s", d->name, d->arg[0] ? " " : "", d->arg);
        default_text(d, &c, def, sizeof(def));
        fprintf(f, "  %-*s  %s%s%s%s\n", (int)w, lhs, d->help, def[0] ? " [" : "", def, def[0] ? "]" : "");
    }
}

/* agilesim COMMAND --help: its synopsis and only the options it takes. */
void ags_cli_usage_command(FILE *f, unsigned command)
{
    static const struct {
        unsigned cmd;
        const char *text;
    } syn[] = {
        { CMD_COMPARE, "usage: agilesim compare [WORKLOAD|TRACE...] [OPTIONS] [-- CMD ARGS...]\n"
                       "Runs the selected modes (default: all four) in lockstep on each input: built-in workloads\n"
                       "(default: the whole suite), trace files ('-' = standard input), or a program simulated\n"
                       "while it runs (after --).\n" },
        { CMD_RUN, "usage: agilesim run --mode MODE [WORKLOAD|TRACE...] [OPTIONS] [-- CMD ARGS...]\n"
                   "Runs one mode on each input.\n" },
        { CMD_CONVERT, "usage: agilesim convert IN OUT.agt [OPTIONS]\n"
                       "Converts a trace (any format) or a built-in workload to .agt ('-' = standard output).\n" },
        { CMD_INFO, "usage: agilesim info TRACE|WORKLOAD [OPTIONS]\n"
                    "Prints what an input holds: counts by event and access kind, instructions, processes,\n"
                    "threads, pages touched, the address range, whether a recording was truncated.\n" },
        { CMD_RECORD, "usage: agilesim record -o OUT.agt [OPTIONS] -- CMD ARGS...\n"
                      "Runs CMD and its children under agilesim's Valgrind tool into an .agt trace (zstd by\n"
                      "default); docs/trace-format.md.\n" },
    };
    for (size_t i = 0; i < sizeof(syn) / sizeof(syn[0]); i++)
        if (syn[i].cmd == command)
            fputs(syn[i].text, f);
    fputs("\noptions (default in brackets):\n", f);
    print_options(f, command);
    fputs("\nexit status: 0 ok, 1 simulation error, 2 bad usage or input, 130 interrupted\n", f);
}

void ags_cli_usage(FILE *f)
{
    fputs("usage: agilesim COMMAND [OPTIONS]\n\n"
          "Simulates address translation in a virtualized computer: native, nested (EPT),\n"
          "shadow and agile paging, on one event stream.\n\n"
          "commands:\n"
          "  compare [WORKLOAD|TRACE...]       run the selected modes in lockstep (default: all four, whole suite)\n"
          "  run --mode M [WORKLOAD|TRACE...]  one mode\n"
          "  compare|run ... -- CMD ARGS...    also simulate CMD while it runs (recorded by agilesim's Valgrind tool)\n"
          "  convert IN OUT.agt                convert a trace (Lackey, pinatrace, ChampSim, .agt) or workload to .agt\n"
          "  info TRACE                        counts, footprint, pages touched, events, instructions\n"
          "  record -o OUT.agt -- CMD ARGS...  run CMD under agilesim's Valgrind tool, following its children, into an .agt trace (zstd)\n"
          "  diff A.json B.json                two reports side by side: the change per workload and mode\n"
          "  sweep -o DIR --param NAME=V,...   a grid of compare runs on every core (or as commands for a cluster)\n"
          "  merge DIR                         merge a sweep's points into DIR/sweep.json, .csv and .svg\n"
          "  workloads                         list the built-in workloads\n"
          "  help [COMMAND], -h, --help        this text, or one command's synopsis and options\n"
          "  version, --version                the version\n\noptions (default in brackets):\n",
          f);
    print_options(f, ~0u);
    fputs("\n'agilesim COMMAND --help' lists only the options of COMMAND.\n", f);
    fputs("\nexit status: 0 ok, 1 simulation error, 2 bad usage or input, 130 interrupted\n", f);
}

/* roff text: backslashes doubled, a leading '.' or '\'' escaped, '-' as \- */
static void roff(FILE *f, const char *s)
{
    for (int bol = 1; *s; s++) {
        if (bol && (*s == '.' || *s == '\''))
            fputs("\\&", f);
        if (*s == '\\')
            fputs("\\e", f);
        else if (*s == '-')
            fputs("\\-", f);
        else
            fputc(*s, f);
        bol = *s == '\n';
    }
}

/* agilesim help --man: the manual page, generated from the option table (CMake installs it). */
void ags_cli_man(FILE *f)
{
    static const struct {
        unsigned cmd;
        const char *name;
    } cmds[] = { { CMD_COMPARE, "compare" }, { CMD_RUN, "run" }, { CMD_CONVERT, "convert" }, { CMD_INFO, "info" },
                 { CMD_RECORD, "record" } };
    ags_config_t c;
    ags_config_defaults(&c);
    fprintf(f, ".TH AGILESIM 1 \"\" \"agilesim %s\" \"User Commands\"\n", AGS_VERSION);
    fputs(".SH NAME\nagilesim \\- simulate native, nested, shadow and agile paging on one event stream\n"
          ".SH SYNOPSIS\n"
          ".B agilesim compare\n[\\fIWORKLOAD\\fR|\\fITRACE\\fR...] [\\fIOPTIONS\\fR] [\\fB\\-\\-\\fR \\fICMD ARGS\\fR...]\n.br\n"
          ".B agilesim run \\-\\-mode\n\\fIMODE\\fR [\\fIWORKLOAD\\fR|\\fITRACE\\fR...] [\\fIOPTIONS\\fR]\n.br\n"
          ".B agilesim convert\n\\fIIN\\fR \\fIOUT.agt\\fR [\\fIOPTIONS\\fR]\n.br\n"
          ".B agilesim info\n\\fITRACE\\fR|\\fIWORKLOAD\\fR\n.br\n"
          ".B agilesim record \\-o\n\\fIOUT.agt\\fR [\\fIOPTIONS\\fR] \\fB\\-\\-\\fR \\fICMD ARGS\\fR...\n.br\n"
          ".B agilesim diff\n\\fIA.json\\fR \\fIB.json\\fR\n.br\n"
          ".B agilesim sweep \\-o\n\\fIDIR\\fR \\fB\\-\\-param\\fR \\fINAME\\fR=\\fIV1\\fR,\\fIV2\\fR... [\\fB\\-j\\fR \\fIN\\fR] "
          "[\\fB\\-\\-emit\\-jobs\\fR \\fIFILE\\fR] [\\fB\\-\\-emit\\-slurm\\fR \\fIFILE\\fR] [compare's \\fIOPTIONS\\fR and inputs]\n.br\n"
          ".B agilesim merge\n\\fIDIR\\fR\n.br\n"
          ".B agilesim workloads\n|\n.B help\n[\\fICOMMAND\\fR] |\n.B version\n"
          ".SH DESCRIPTION\n"
          "agilesim simulates address translation in a virtualized computer: native paging, nested\n"
          "(two-dimensional, EPT) paging, shadow paging with KVM's unsync pages, and agile paging, in\n"
          "which one walk starts in the shadow table and may switch to the nested one part-way. Every\n"
          "mode runs in lockstep on one stream of memory accesses and address-space events, from a\n"
          "built-in workload, a trace (Lackey, pinatrace, ChampSim or .agt), or a program recorded while\n"
          "it runs. It reports TLB misses, walk references, VM exits by cause and cycles per mode.\n"
          ".SH OPTIONS\n",
          f);
    for (size_t i = 0; i < NOPTS; i++) {
        const optdef_t *d = &optdefs[i];
        char def[96];
        default_text(d, &c, def, sizeof(def));
        fputs(".TP\n.B ", f);
        roff(f, d->name);
        if (d->arg[0]) {
            fputs(" \\fI", f);
            roff(f, d->arg);
            fputs("\\fR", f);
        }
        fputc('\n', f);
        roff(f, d->help);
        if (def[0]) {
            fputs(" [default: ", f);
            roff(f, def);
            fputc(']', f);
        }
        fputs(".\n(", f);
        for (size_t k = 0, n = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
            if (d->cmds & cmds[k].cmd)
                fprintf(f, "%s%s", n++ ? ", " : "", cmds[k].name);
        fputs(")\n", f);
    }
    fputs(".SH SWEEP\n.nf\n", f); /* the help text as laid out */
    roff(f, ags_cli_sweep_help);
    fputs(".fi\n", f);
    fputs(".SH EXIT STATUS\n0 ok; 1 simulation error or an output that could not be written; 2 bad usage or input;\n"
          "130 interrupted (the statistics so far are printed and written).\n"
          ".SH FILES\nThe JSON, CSV and SVG reports are defined in docs/schema.md; the .agt trace format in\n"
          "docs/trace-format.md; the model and the source of every default in docs/model.md.\n"
          ".SH SEE ALSO\n.BR valgrind (1)\n",
          f);
}

/* agilesim help --bash-completion: a completion script, generated from the option table. */
void ags_cli_bash_completion(FILE *f)
{
    static const struct {
        unsigned cmd;
        const char *name;
    } cmds[] = { { CMD_COMPARE, "compare" }, { CMD_RUN, "run" }, { CMD_CONVERT, "convert" }, { CMD_INFO, "info" },
                 { CMD_RECORD, "record" } };
    fputs("# bash completion for agilesim (generated by 'agilesim help --bash-completion')\n"
          "_agilesim() {\n"
          "  local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]} opts i\n"
          "  for ((i = 1; i < COMP_CWORD; i++)); do [ \"${COMP_WORDS[i]}\" = -- ] && { COMPREPLY=(); return; }; done\n"
          "  if [ $COMP_CWORD -eq 1 ]; then\n"
          "    COMPREPLY=($(compgen -W 'compare run convert info record diff sweep merge workloads help version' -- \"$cur\")); return\n"
          "  fi\n"
          "  case $cmd in\n",
          f);
    for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
        fprintf(f, "    %s) opts='", cmds[k].name);
        for (size_t i = 0, n = 0; i < NOPTS; i++)
            if (optdefs[i].cmds & cmds[k].cmd)
                fprintf(f, "%s%s", n++ ? " " : "", optdefs[i].name);
        fputs(" --help';;\n", f);
    }
    fputs("    sweep) opts='-o --param -j --emit-jobs --emit-slurm --quiet", f); /* and compare's, but the reports */
    for (size_t i = 0; i < NOPTS; i++)
        if ((optdefs[i].cmds & CMD_COMPARE) && !strstr(" --json --csv --svg --interval-svg --label ", optdefs[i].name))
            fprintf(f, " %s", optdefs[i].name);
    fputs(" --help';;\n    merge) opts='--quiet --help';;\n", f);
    fputs("    help) COMPREPLY=($(compgen -W 'compare run convert info record diff sweep merge' -- \"$cur\")); return;;\n"
          "    *) opts='';;\n"
          "  esac\n"
          "  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\")); return; fi\n"
          "  case ${COMP_WORDS[COMP_CWORD-1]} in\n"
          "    --mode) COMPREPLY=($(compgen -W 'native nested shadow agile' -- \"$cur\")); return;;\n"
          "    --workload) COMPREPLY=($(compgen -W \"$(agilesim workloads 2>/dev/null | awk '/^[a-z]/ {print $1}')\" -- \"$cur\")); return;;\n"
          "  esac\n"
          "  if [ \"$cmd\" = compare ] || [ \"$cmd\" = run ] || [ \"$cmd\" = info ] || [ \"$cmd\" = convert ]; then\n"
          "    COMPREPLY=($(compgen -f -- \"$cur\") $(compgen -W \"$(agilesim workloads 2>/dev/null | awk '/^[a-z]/ {print $1}')\" -- \"$cur\"))\n"
          "  else\n"
          "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
          "  fi\n"
          "}\n"
          "complete -o filenames -F _agilesim agilesim\n",
          f);
}
