/* agilesim command line — compare and run: inputs, the run loop, progress, output files.
 * Model notes: none. Output files are written to a temporary name and renamed when complete;
 * a failure or a signal removes them. */
#define _DEFAULT_SOURCE /* realpath */
#define _GNU_SOURCE
#include "cli.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ output files */

#define NOUTS 4 /* --json, --csv, --svg, --interval-svg */
static ags_outfile_t *ags_cli_outs[NOUTS];

void ags_cli_out_abort_all(void)
{
    for (int i = 0; i < NOUTS; i++)
        if (ags_cli_outs[i])
            ags_out_abort(ags_cli_outs[i]);
}

/* Two outputs on one file, or an output on an input trace, are refused before simulating. */
static void check_outputs(const ags_cli_opts_t *o, ags_outfile_t *outs[NOUTS])
{
    for (int i = 0; i < NOUTS; i++) {
        if (!outs[i]->path)
            continue;
        for (int k = 0; k < i; k++)
            if (outs[k]->path && !strcmp(ags_out_target(outs[i]), ags_out_target(outs[k])))
                ags_cli_die(EXIT_USAGE, "%s and %s name the same file (%s)", outs[k]->opt, outs[i]->opt, outs[i]->path);
        for (size_t n = 0; n < o->ninputs; n++) {
            char in[4096];
            if (o->is_trace[n] == 1 && strcmp(o->inputs[n], "-") && realpath(o->inputs[n], in) &&
                !strcmp(in, ags_out_target(outs[i])))
                ags_cli_die(EXIT_USAGE, "%s %s: is an input trace", outs[i]->opt, outs[i]->path);
        }
    }
}

/* ------------------------------------------------------------------ inputs */

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Open input i, or exit with status 2 and one line naming the problem. */
/* compare/run -- CMD: a recorder process writes the trace into a pipe the simulator reads (the
 * same events as recording to a file, then simulating it). */
static int live_open(const ags_cli_opts_t *o, size_t i, ags_cli_source_t *src)
{
    int p[2];
    char err[512];
    src->name = base_name(o->live_cmd[0]);
    if (pipe2(p, O_CLOEXEC))
        ags_cli_die(1, "%s: pipe: %s", o->command_name, strerror(errno));
    fflush(NULL);
    pid_t c = fork();
    if (c < 0)
        ags_cli_die(1, "%s: fork: %s", o->command_name, strerror(errno));
    if (c == 0) {
        close(p[0]);
        ags_rec_opts_t ro = { o->inputs[i], p[1], 1, 0, 1, 0, 0, UINT64_MAX };
        _exit(ags_cli_record_vg(&ro, o->live_cmd, &ags_cli_stop));
    }
    close(p[1]);
    src->live_pid = c;
    int rc = ags_reader_open_fd(p[0], o->inputs[i], AGS_FMT_AGT, &src->r, err, sizeof(err));
    if (rc) {
        kill(c, SIGTERM);
        int st = 0;
        while (waitpid(c, &st, 0) < 0 && errno == EINTR)
            ;
        src->live_pid = 0;
        if (rc == AGS_E_INTR)
            return rc;
        ags_cli_out_abort_all();
        if (WIFEXITED(st) && WEXITSTATUS(st)) /* the recorder said why */
            exit(WEXITSTATUS(st) == EXIT_USAGE ? EXIT_USAGE : 1);
        ags_cli_die(EXIT_USAGE, "%s", err);
    }
    ags_reader_set_va_bits(src->r, o->cfg.guest_levels == 5 ? 57 : 48);
    return AGS_OK;
}

int ags_cli_source_open(const ags_cli_opts_t *o, size_t i, uint64_t accesses, ags_cli_source_t *src)
{
    memset(src, 0, sizeof(*src));
    if (!o->is_trace[i]) {
        src->name = o->inputs[i];
        if (ags_workload_create(o->inputs[i], accesses, o->footprint, o->seed, &src->w))
            ags_cli_die(1, "cannot create workload %s", o->inputs[i]);
        return AGS_OK;
    }
    char err[512];
    if (o->is_trace[i] == AGS_CLI_LIVE)
        return live_open(o, i, src);
    src->name = !strcmp(o->inputs[i], "-") ? "stdin" : base_name(o->inputs[i]);
    int rc = ags_reader_open(o->inputs[i], (ags_format_t)o->format, &src->r, err, sizeof(err));
    if (rc == AGS_E_INTR)
        return rc; /* a signal while waiting for a FIFO's writer: the run stops, results so far kept */
    if (rc)
        ags_cli_die(EXIT_USAGE, "%s", err);
    ags_reader_set_va_bits(src->r, o->cfg.guest_levels == 5 ? 57 : 48);
    return AGS_OK;
}

/* A plain trace file decoded on the thread that uses its events is read through a mapped window
 * (parsed where it lies, no copy): decode only (ags_bench), best of 11, gups.agt 0.0348 ->
 * 0.0316 s; python3 `run --mode native --caches off --threads 1`, best of 5, 2.096 -> 2.038 s;
 * `info` unchanged (2.70 -> 2.71 s, the summary bounds it). Not on the read-ahead thread: there
 * the run was 1-3% slower with it (python3 native, 2 threads, median of 15: 1.222 vs 1.185 s,
 * populated in 1 MiB steps or 16 MiB windows alike), though it took no more CPU time; we could
 * not pin down why. */
void ags_cli_source_map(ags_cli_source_t *src, const char *path)
{
    if (src->r && src->live_pid <= 0 && ags_reader_use_mmap(src->r))
        ags_cli_watch_mapped(src->r, path);
}

/* Next batch; 0 at the end. On a reader error: returns 0 and sets *err. */
size_t ags_cli_source_next(ags_cli_source_t *src, ags_event_t *buf, size_t n, const char **err)
{
    *err = NULL;
    if (src->w) {
        size_t k = ags_workload_next(src->w, buf, n);
        if (!k && ags_workload_error(src->w))
            *err = "out of memory while generating the workload";
        return k;
    }
    size_t k = ags_reader_next(src->r, buf, n);
    if (!k && ags_reader_error(src->r, err) == 0)
        *err = NULL;
    return k;
}

/* The simulator's error rc: one line naming the input and the event; the exit status. */
static int sim_error(const ags_sim_t *sim, const char *wl, int rc, int progress)
{
    fputs(progress ? "\r\033[K" : "", stderr);
    fprintf(stderr, "agilesim: %s: event %llu: %s\n", wl, (unsigned long long)ags_sim_events_done(sim) + 1,
            ags_sim_errmsg(sim));
    return rc == AGS_E_NONCANON || rc == AGS_E_FORMAT || rc == AGS_E_INVAL || rc == AGS_E_BADPID ? EXIT_USAGE : 1;
}

int ags_cli_source_can_read_ahead(const ags_cli_source_t *src)
{
    if (src->w)
        return 1;
    uint64_t done, total;
    ags_reader_progress(src->r, &done, &total);
    return src->live_pid <= 0 && total > 0; /* a size is known only for a regular file */
}

void ags_cli_source_close(ags_cli_source_t *src)
{
    if (src->r)
        ags_cli_watch_mapped(NULL, NULL);
    ags_workload_destroy(src->w);
    if (src->live_pid > 0)
        kill(src->live_pid, SIGTERM); /* stopped early: the recorder stops the program (no-op if done) */
    ags_reader_close(src->r);
    if (src->live_pid > 0) {
        while (waitpid(src->live_pid, NULL, 0) < 0 && errno == EINTR)
            ;
        src->live_pid = 0;
    }
}

/* ------------------------------------------------------------------ running */

/* The simulator reserves (MAP_NORESERVE) 8 TiB of address space for page-table storage, of which
 * it touches only what the page tables use: name what refuses the reservation. */
static void nomem_cause(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        ags_cli_die(1, "cannot create the simulator: RLIMIT_AS (ulimit -v %llu KiB) leaves no room for its "
                       "address-space reservation, even for 64 MiB of guest memory (only page-table pages are "
                       "ever touched); raise ulimit -v",
                    (unsigned long long)rl.rlim_cur / 1024);
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int mode = -1;
    if (f) {
        if (fscanf(f, "%d", &mode) != 1)
            mode = -1;
        fclose(f);
    }
    if (mode == 2)
        ags_cli_die(1, "cannot create the simulator: vm.overcommit_memory=2 leaves no commit room for its "
                       "MAP_NORESERVE reservation, even for 64 MiB of guest memory; use mode 0 or 1");
}

/* ------------------------------------------------------------------ memory budget */

static uint64_t rss_bytes(void)
{
    unsigned long long size = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%llu %llu", &size, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* A number from a one-line file, or UINT64_MAX ("max", missing, unreadable). */
static uint64_t file_u64(const char *path)
{
    unsigned long long v;
    FILE *f = fopen(path, "r");
    if (!f)
        return UINT64_MAX;
    int ok = fscanf(f, "%llu", &v) == 1;
    fclose(f);
    return ok ? (uint64_t)v : UINT64_MAX;
}

/* What the memory cgroup still allows (bytes), or UINT64_MAX: cgroup v2 memory.max - memory.current,
 * else v1 memory.limit_in_bytes - memory.usage_in_bytes; this process's group where it is
 * visible, else the namespace's root. */
static uint64_t cgroup_room(void)
{
    char line[512], path[700];
    uint64_t room = UINT64_MAX;
    FILE *f = fopen("/proc/self/cgroup", "r");
    while (f && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = 0;
        const char *grp = NULL, *v2 = strstr(line, "::"), *v1 = strstr(line, ":memory:");
        const char *lim = NULL, *cur = NULL, *dir = NULL;
        if (line[0] == '0' && v2 == line + 1)
            grp = v2 + 2, dir = "/sys/fs/cgroup", lim = "memory.max", cur = "memory.current";
        else if (v1)
            grp = v1 + 8, dir = "/sys/fs/cgroup/memory", lim = "memory.limit_in_bytes", cur = "memory.usage_in_bytes";
        if (!grp)
            continue;
        for (int pass = 0; pass < 2; pass++) {
            snprintf(path, sizeof(path), "%s%s/%s", dir, pass ? "" : grp, lim);
            uint64_t l = file_u64(path);
            if (l == UINT64_MAX && access(path, R_OK))
                continue; /* not visible here: try the root */
            snprintf(path, sizeof(path), "%s%s/%s", dir, pass ? "" : grp, cur);
            uint64_t c = file_u64(path);
            if (l != UINT64_MAX && c != UINT64_MAX && l < (1ULL << 60))
                room = (l > c ? l - c : 0) < room ? (l > c ? l - c : 0) : room;
            break;
        }
    }
    if (f)
        fclose(f);
    return room;
}

/* --max-memory auto: 90% of what MemAvailable and the memory cgroup leave, plus what this
 * process holds already. */
static uint64_t memory_budget(const ags_cli_opts_t *o)
{
    if (o->max_memory == UINT64_MAX)
        return 0;
    if (o->max_memory)
        return o->max_memory;
    uint64_t avail = UINT64_MAX;
    char line[128];
    unsigned long long kb;
    FILE *f = fopen("/proc/meminfo", "r");
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
            avail = (uint64_t)kb * 1024;
    if (f)
        fclose(f);
    uint64_t cg = cgroup_room();
    if (cg < avail)
        avail = cg;
    if (avail == UINT64_MAX)
        return 0;
    return avail / 10 * 9 + rss_bytes();
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* What input i simulates and counts: the warm-up and the counted length, in accesses or in
 * instructions. Built-in workloads default to --accesses counted after 50% of it as warm-up;
 * traces to the whole trace, no warm-up. */
static void input_config(const ags_cli_opts_t *o, int trace, ags_config_t *cfg, uint64_t *budget)
{
    *cfg = o->cfg;
    cfg->warmup = cfg->warmup_instructions = cfg->max_accesses = cfg->max_instructions = 0;
    if (o->warmup_instructions)
        cfg->warmup_instructions = o->warmup_instructions;
    else if (o->warmup_pct == -2)
        cfg->warmup = trace || o->instructions ? 0 : o->accesses / 2;
    else if (o->warmup_pct >= 0)
        cfg->warmup = (uint64_t)((double)o->accesses * o->warmup_pct / 100.0);
    else
        cfg->warmup = o->warmup_abs;
    if (o->instructions)
        cfg->max_instructions = o->instructions;
    else if (!trace || o->accesses_given)
        cfg->max_accesses = o->accesses;
    /* a workload generates what the run needs; in instructions, until the simulator stops it */
    *budget = cfg->max_accesses && !cfg->warmup_instructions ? cfg->warmup + cfg->max_accesses : UINT64_MAX >> 2;
}

int ags_cli_run(ags_cli_opts_t *o)
{
    char err[256];
    if (!o->ninputs)
        ags_cli_add_suite(o);
    /* every input and option is checked before anything is simulated */
    int stdin_inputs = 0;
    for (size_t i = 0; i < o->ninputs; i++) {
        if (!o->is_trace[i])
            continue;
        if (o->warmup_pct >= 0)
            ags_cli_die(EXIT_USAGE, "--warmup %g%%: a percentage applies to built-in workloads; give %s an access count",
                        o->warmup_pct, o->inputs[i]);
        if (o->is_trace[i] == AGS_CLI_LIVE) {
            char msg[512];
            if (ags_cli_record_check(msg, sizeof(msg)))
                ags_cli_die(1, "%s -- %s: %s", o->command_name, o->live_cmd[0], msg);
        } else if (!strcmp(o->inputs[i], "-")) {
            if (stdin_inputs++)
                ags_cli_die(EXIT_USAGE, "standard input ('-') can be read once only");
        } else if (access(o->inputs[i], R_OK)) {
            ags_cli_die(EXIT_USAGE, "%s: cannot open: %s", o->inputs[i], strerror(errno));
        }
    }
    if (o->warmup_instructions && o->warmup_pct != -2)
        ags_cli_die(EXIT_USAGE, "--warmup and --warmup-instructions: give one of them");
    if (o->interval_svg && !o->cfg.interval)
        ags_cli_die(EXIT_USAGE, "--interval-svg %s: it charts the interval rows; give --interval N too", o->interval_svg);
    if (o->instructions && o->accesses_given)
        ags_cli_die(EXIT_USAGE, "--accesses and --instructions: give one of them");
    ags_config_t c0;
    uint64_t b0;
    input_config(o, o->is_trace[0], &c0, &b0);
    o->cfg.warmup = c0.warmup; /* echoed: what the first input applies (each run says what it did) */
    o->cfg.warmup_instructions = c0.warmup_instructions;
    o->cfg.max_accesses = c0.max_accesses;
    o->cfg.max_instructions = c0.max_instructions;
    if (ags_config_validate(&c0, err, sizeof(err)))
        ags_cli_die(EXIT_USAGE, "%s", err);
    ags_outfile_t oj, oc, os, oi;
    ags_out_open(&oj, o->json, "--json");
    ags_out_open(&oc, o->csv, "--csv");
    ags_out_open(&os, o->svg, "--svg");
    ags_out_open(&oi, o->interval_svg, "--interval-svg");
    ags_cli_outs[0] = &oj, ags_cli_outs[1] = &oc, ags_cli_outs[2] = &os, ags_cli_outs[3] = &oi;
    check_outputs(o, ags_cli_outs);
    int to_stdout = oj.kind == AGS_OUT_STDOUT || oc.kind == AGS_OUT_STDOUT || os.kind == AGS_OUT_STDOUT || oi.kind == AGS_OUT_STDOUT;

    ags_cli_install_signals();

    int progress = !o->quiet && isatty(2);
    size_t maxruns = o->ninputs * AGS_MODE_COUNT;
    ags_run_t *runs = calloc(maxruns, sizeof(ags_run_t));
    ags_run_intervals_t *ivs = calloc(o->ninputs, sizeof(ags_run_intervals_t));
    ags_interval_t **ivcopies = calloc(o->ninputs, sizeof(ags_interval_t *));
    ags_region_stats_t **rgcopies = calloc(o->ninputs, sizeof(ags_region_stats_t *));
    ags_event_t *buf = malloc(AGS_CLI_BATCH * sizeof(ags_event_t));
    if (!runs || !ivs || !buf || !ivcopies || !rgcopies)
        ags_cli_die(1, "out of memory");
    size_t nruns = 0, nivs = 0;
    int status = 0, warm_status = 0, mem_stop = 0;
    uint64_t budget_rss = memory_budget(o);
    double t_start = now();

    for (size_t wi = 0; wi < o->ninputs && !ags_cli_stop; wi++) {
        ags_config_t cfg;
        uint64_t budget;
        int trace = o->is_trace[wi];
        input_config(o, trace, &cfg, &budget);
        ags_sim_t *sim;
        ags_cli_source_t src;
        int rc = ags_sim_create(&cfg, &sim);
        if (rc) {
            ags_cli_out_abort_all();
            if (rc == AGS_E_NOMEM)
                nomem_cause();
            ags_cli_die(1, "cannot create the simulator: %s", ags_strerror(rc));
        }
        ags_sim_set_stop(sim, &ags_cli_stop);
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        unsigned threads = o->threads ? o->threads : (unsigned)(cores > 0 ? cores : 1);
        /* auto: with caches on, a group takes a translating thread and a cache worker; with
         * caches off, one thread is left to read the input ahead. On 2 cores: one group (two
         * groups made a stream with few TLB misses slower: each repeats the TLB lookups) */
        unsigned groups = o->groups;
        if (!groups)
            groups = cfg.caches_on && !cfg.walk_latency_fixed ? threads / 2 : threads - 1;
        if (groups > 1 && ags_sim_set_groups(sim, groups) && !o->quiet)
            fprintf(stderr, "agilesim: note: could not run the machines in %u groups; running them in one\n", groups);
        if (ags_sim_set_threads(sim, threads) && !o->quiet)
            fprintf(stderr, "agilesim: note: could not start every thread of --threads; running with fewer\n");
        if (wi == 0 && !o->quiet) {
            ags_sim_memory_t sm;
            ags_sim_memory(sim, &sm);
            if (sm.limited_by)
                fprintf(stderr, "agilesim: note: %s leaves room for %.2f GiB of guest memory, not the %.0f GiB of "
                                "--guest-memory; a run that needs more stops with an error\n",
                        sm.limited_by == AGS_MEMLIMIT_RLIMIT_AS ? "RLIMIT_AS (ulimit -v)"
                        : sm.limited_by == AGS_MEMLIMIT_COMMIT ? "vm.overcommit_memory=2" : "mmap",
                        (double)sm.guest_memory / (1 << 30), (double)o->cfg.guest_memory / (1 << 30));
        }
        if (ags_cli_source_open(o, wi, budget, &src)) {
            ags_sim_destroy(sim);
            break;
        }
        /* a compressed file decompressed on a thread of its own, with a core to spare beyond the
         * simulating thread, the read-ahead thread and the cache workers: on two cores a third
         * busy thread beside read-ahead made a one-mode run slower */
        if (src.r && src.live_pid <= 0 && threads > 2 + ags_sim_worker_threads(sim))
            ags_reader_set_threads(src.r, 2);
        const char *wl = src.name;
        uint64_t total = trace ? ags_reader_count_hint(src.r) : ags_workload_total(src.w), done = 0;
        if (total >= UINT64_MAX >> 3)
            total = 0; /* unknown */
        double t0 = now(), last = t0;
        size_t n;
        unsigned batches = 0;
        const char *rerr = NULL;
        /* with more than one thread, the next batch is decoded while this one is simulated; when
         * the cache workers keep the cores busy, this thread decodes what the producer has not
         * started (ahead.c) */
        ags_cli_ahead_t ahead;
        unsigned ngroups = ags_sim_groups(sim); /* with groups: only with a thread beyond theirs */
        int use_ahead = threads > 1 && (ngroups == 1 || threads > ngroups) && ags_cli_source_can_read_ahead(&src) &&
                        !ags_cli_ahead_start(&ahead, &src);
        if (!use_ahead)
            ags_cli_source_map(&src, o->inputs[wi]);
        ags_event_t *batch = buf;
        while (!ags_cli_stop && (n = use_ahead ? ags_cli_ahead_next(&ahead, &batch, &rerr)
                                               : ags_cli_source_next(&src, buf, AGS_CLI_BATCH, &rerr)) > 0) {
            rc = ags_sim_run(sim, batch, n);
            if (rc == AGS_SIM_DONE) /* the counted length was reached */
                break;
            if (rc == AGS_E_INTR && ags_cli_stop) /* a signal inside a long event */
                break;
            if (rc) {
                status = sim_error(sim, wl, rc, progress);
                break;
            }
            done += n;
            uint64_t rss;
            if (budget_rss && (++batches & 7) == 0 && (rss = rss_bytes()) > budget_rss) {
                fputs(progress ? "\r\033[K" : "", stderr);
                fprintf(stderr, "agilesim: %s: event %llu: stopped: agilesim's resident memory reached %.2f GiB, over "
                                "the budget of %.2f GiB (--max-memory%s); the statistics so far are reported\n",
                        wl, (unsigned long long)ags_sim_events_done(sim), (double)rss / (1 << 30),
                        (double)budget_rss / (1 << 30), o->max_memory ? "" : " auto: 90% of the memory free at start");
                mem_stop = 1;
                break;
            }
            if (progress) {
                double t = now();
                if (t - last > 0.5) {
                    last = t;
                    double rate = (double)done / (t - t0), pct = 0;
                    if (trace) {
                        uint64_t d, tot;
                        if (use_ahead)
                            d = ahead.cur_done, tot = ahead.cur_total;
                        else
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
        if (use_ahead)
            ags_cli_ahead_stop(&ahead); /* src is this thread's again */
        /* every group has run every event (groups beyond the first follow a few batches behind):
         * an error one of them found is the run's */
        if (!status && (rc = ags_sim_run(sim, NULL, 0)) < 0)
            status = sim_error(sim, wl, rc, progress);
        if (!status && rerr && !ags_cli_stop) {
            fputs(progress ? "\r\033[K" : "", stderr);
            fprintf(stderr, "agilesim: %s\n", rerr);
            status = EXIT_USAGE;
        }
        if (progress)
            fputs("\r\033[K", stderr);
        if (status) {
            ags_cli_source_close(&src);
            ags_sim_destroy(sim);
            break;
        }
        ags_sim_finish(sim);
        if (!ags_sim_counting(sim)) {
            fprintf(stderr, "agilesim: %s: %s before the warm-up (%llu %s) ended: nothing was counted\n", wl,
                    ags_cli_stop ? "interrupted" : mem_stop ? "stopped at the memory budget" : "the input ended",
                    (unsigned long long)(cfg.warmup ? cfg.warmup : cfg.warmup_instructions),
                    cfg.warmup ? "accesses" : "instructions");
            warm_status = ags_cli_stop ? EXIT_SIGNAL : mem_stop ? 1 : EXIT_USAGE; /* reports say warmup_incomplete */
        }
        ags_guest_stats_t gs;
        ags_sim_guest_stats(sim, &gs);
        size_t nrg;
        const ags_region_stats_t *rg = ags_sim_regions(sim, &nrg);
        if ((rgcopies[wi] = malloc(nrg * sizeof(*rg))) != NULL)
            memcpy(rgcopies[wi], rg, nrg * sizeof(*rg));
        for (unsigned m = 0; m < AGS_MODE_COUNT; m++) {
            if (!ags_sim_has_mode(sim, (ags_mode_t)m))
                continue;
            ags_run_t *r = &runs[nruns++];
            r->workload = wl;
            r->mode = (ags_mode_t)m;
            ags_sim_stats(sim, (ags_mode_t)m, &r->st);
            r->guest = gs;
            r->interrupted = ags_cli_stop != 0 || mem_stop;
            r->regions = rgcopies[wi];
            r->nregions = rgcopies[wi] ? nrg : 0;
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
        ags_cli_source_close(&src);
        ags_sim_destroy(sim);
        if (warm_status || mem_stop)
            break;
    }
    if (status) {
        ags_cli_out_abort_all();
        goto done;
    }
    ags_report_t rep = { o->cmdline, &o->cfg, o->accesses, o->footprint, o->seed, runs, nruns, ivs, nivs,
                         o->legend >= 0 ? o->legend : isatty(1), o->by, o->labels, o->nlabels };
    if (!to_stdout && (ags_report_text(stdout, &rep) || fflush(stdout))) {
        ags_cli_out_abort_all();
        ags_cli_die(1, "standard output: write failed: %s", strerror(errno ? errno : EIO));
    }
    if (!o->quiet)
        fprintf(stderr, "agilesim: %zu run(s) in %.1fs%s\n", nruns, now() - t_start,
                ags_cli_stop || mem_stop ? " (interrupted: statistics so far)" : "");
    static int (*const writers[NOUTS])(FILE *, const ags_report_t *) = { ags_report_json, ags_report_csv, ags_report_svg,
                                                                         ags_report_svg_intervals };
    for (int k = 0; k < NOUTS; k++) {
        ags_outfile_t *of = ags_cli_outs[k];
        if (!of->path)
            continue;
        FILE *f = ags_out_stream(of);
        errno = 0;
        int wrc = f ? writers[k](f, &rep) : -1;
        if (f && wrc) /* a write failed before the commit (a report bigger than the stdio buffer) */
            fprintf(stderr, "agilesim: %s %s: write failed: %s\n", of->opt, of->path, strerror(errno ? errno : EIO));
        if (!f || wrc || ags_out_commit(of)) {
            ags_out_abort(of);
            status = 1;
        }
    }
    if (ags_cli_stop)
        status = EXIT_SIGNAL;
    else if (mem_stop && !status)
        status = 1;
    if (warm_status && !status)
        status = warm_status;
done:
    for (size_t i = 0; i < nivs; i++)
        free(ivcopies[i]);
    free(ivcopies);
    for (size_t i = 0; i < o->ninputs; i++)
        free(rgcopies[i]);
    free(rgcopies);
    free(ivs);
    free(runs);
    free(buf);
    return status;
}
