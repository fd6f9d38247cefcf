/* agilesim — command-line tool: dispatch, convert, info, record. The only place that prints or
 * exits. Options are in options.c, compare/run in run.c, the recorder in record.c, diff in
 * diff.c, sweep and merge in sweep.c (JSON reading in json.c).
 * Model notes: none. */
#define _DEFAULT_SOURCE /* realpath */
#include "cli.h"
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile sig_atomic_t ags_cli_stop;
volatile sig_atomic_t ags_cli_nsignals;
static void on_signal(int sig) { ags_cli_stop = sig; ags_cli_nsignals++; }

/* A trace read through a mapped window (ags_reader_use_mmap) that another process truncates:
 * the access to the lost part raises SIGBUS. If the address is the mapped input's, one line names
 * the file and the run exits with status 2 as for any bad input; outputs are left as a failed run
 * leaves them (anonymous until complete; a named temporary is removed). Any other SIGBUS gets
 * the default action. */
static ags_reader_t *volatile g_mapped;
static const char *volatile g_mapped_path;

static void put_err(const char *s) { ssize_t w = write(2, s, strlen(s)); (void)w; }

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    ags_reader_t *r = g_mapped;
    if (r && ags_reader_maps(r, si->si_addr)) {
        ags_out_unlink_named();
        put_err("agilesim: ");
        put_err(g_mapped_path);
        put_err(": the file shrank while it was being read (truncated by another process)\n");
        _exit(EXIT_USAGE);
    }
    signal(sig, SIG_DFL); /* not ours: the access faults again, with the default action */
}

void ags_cli_watch_mapped(ags_reader_t *r, const char *path)
{
    static int installed;
    if (r && !installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = on_sigbus;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGBUS, &sa, NULL);
        installed = 1;
    }
    g_mapped = NULL;
    g_mapped_path = path;
    g_mapped = r;
}

/* SIGINT, SIGTERM and SIGHUP stop the run: the statistics so far are reported (exit 130). A
 * signal inherited as ignored (nohup) stays ignored. SIGPIPE is ignored: a failed write is an
 * error with a message. No SA_RESTART: a read blocked on a pipe returns to see the stop flag. */
void ags_cli_install_signals(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(sigs[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    ags_trace_set_stop(&ags_cli_stop);
}

void ags_cli_die(int code, const char *fmt, ...)
{
    ags_cli_out_abort_all(); /* never leave a half-written output behind */
    va_list ap;
    va_start(ap, fmt);
    fputs("agilesim: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

/* ------------------------------------------------------------------ convert, info, record */

/* Copy the source's events to w: all of them, or up to the limit-th access (the events after it
 * are left out). */
static int pump_to_writer(ags_cli_source_t *src, ags_writer_t *w, const char *out, uint64_t limit, uint64_t *events,
                          ags_outfile_t *of)
{
    ags_event_t *buf = malloc(4096 * sizeof(ags_event_t));
    size_t n;
    const char *rerr = NULL;
    *events = 0;
    if (!buf)
        ags_cli_die(1, "out of memory");
    uint64_t accesses = 0;
    while (!ags_cli_stop && accesses < limit && (n = ags_cli_source_next(src, buf, 4096, &rerr)) > 0) {
        for (size_t i = 0; i < n; i++)
            if (buf[i].type == AGS_EV_ACCESS && ++accesses == limit) {
                n = i + 1;
                break;
            }
        if (ags_writer_write(w, buf, n)) {
            char werr[600] = "";
            free(buf);
            ags_writer_close(w, 0, werr, sizeof(werr));
            ags_out_abort(of);
            if (werr[0])
                ags_cli_die(1, "%s", werr);
            ags_cli_die(1, "%s: write failed", out);
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

/* An .agt output (convert, record): the rules of every output (outfile.c): never half-written,
 * '-' is standard output, a symlink's target is replaced, a FIFO or device written through, a
 * directory or an input refused. Returns the descriptor for the writer (its own copy). */
static int trace_out_open(ags_outfile_t *of, const char *out, const char *input)
{
    ags_out_open(of, out, "-o");
    char in[4096];
    if (input && strcmp(input, "-") && of->kind != AGS_OUT_STDOUT && realpath(input, in) &&
        !strcmp(in, ags_out_target(of)))
        ags_cli_die(EXIT_USAGE, "-o %s: is the input trace", out);
    if (of->kind == AGS_OUT_STDOUT && isatty(1))
        ags_cli_die(EXIT_USAGE, "-o %s: standard output is a terminal; redirect it or name a file", out);
    FILE *f = ags_out_stream(of);
    int fd = f ? dup(fileno(f)) : -1;
    if (fd < 0) {
        ags_out_abort(of);
        ags_cli_die(EXIT_USAGE, "-o %s: cannot write there: %s", out, strerror(errno));
    }
    return fd;
}

static int convert_command(ags_cli_opts_t *o)
{
    const char *out = o->output;
    if (!out && o->ninputs == 2) {
        out = o->inputs[1];
        o->ninputs = 1;
    }
    if (o->ninputs != 1 || !out)
        ags_cli_die(EXIT_USAGE, "convert: usage: agilesim convert IN OUT.agt [--format F] [--zstd]");
    ags_outfile_t of;
    int fd = trace_out_open(&of, out, o->is_trace[0] == 1 ? o->inputs[0] : NULL);
    ags_cli_source_t src;
    if (ags_cli_source_open(o, 0, o->accesses, &src)) {
        close(fd);
        ags_out_abort(&of);
        return EXIT_SIGNAL;
    }
    ags_writer_t *w;
    char err[512];
    if (ags_writer_open_fd(fd, out, o->zstd, &w, err, sizeof(err))) {
        ags_out_abort(&of);
        ags_cli_die(EXIT_USAGE, "%s", err);
    }
    uint64_t events;
    ags_cli_install_signals();
    ags_cli_source_map(&src, o->inputs[0]);
    /* a trace is copied whole unless --accesses says how much (a workload makes that many) */
    uint64_t limit = o->is_trace[0] && o->accesses_given ? o->accesses : UINT64_MAX;
    int rc = pump_to_writer(&src, w, out, limit, &events, &of);
    ags_cli_source_close(&src);
    if (rc) {
        ags_out_abort(&of);
        return rc;
    }
    if (ags_cli_stop) {
        ags_writer_close(w, 0, NULL, 0);
        ags_out_abort(&of);
        fprintf(stderr, "agilesim: interrupted; %s not written\n", out);
        return EXIT_SIGNAL;
    }
    if (ags_writer_close(w, 1, err, sizeof(err))) {
        ags_out_abort(&of);
        ags_cli_die(1, "%s", err);
    }
    if (ags_out_commit(&of))
        return 1;
    if (!o->quiet)
        fprintf(stderr, "agilesim: wrote %llu events to %s\n", (unsigned long long)events, out);
    return 0;
}

static int info_command(ags_cli_opts_t *o)
{
    if (o->ninputs != 1)
        ags_cli_die(EXIT_USAGE, "info: usage: agilesim info TRACE [--format F]");
    ags_cli_source_t src;
    if (ags_cli_source_open(o, 0, o->accesses, &src))
        return EXIT_SIGNAL;
    ags_cli_source_map(&src, o->inputs[0]);
    ags_event_t *buf = malloc(4096 * sizeof(ags_event_t));
    ags_summarizer_t *sum;
    if (!buf || ags_summarizer_create(&sum))
        ags_cli_die(1, "out of memory");
    size_t n;
    const char *rerr = NULL;
    while ((n = ags_cli_source_next(&src, buf, 4096, &rerr)) > 0)
        if (ags_summarizer_add(sum, buf, n))
            ags_cli_die(1, "out of memory");
    ags_trace_summary_t t;
    ags_summarizer_get(sum, &t);
    ags_summarizer_destroy(sum);
    free(buf);
    if (rerr) {
        fprintf(stderr, "agilesim: %s\n", rerr);
        ags_cli_source_close(&src);
        return EXIT_USAGE;
    }
    printf("trace:        %s (%s)\n", o->inputs[0],
           o->is_trace[0] ? ags_format_name(ags_reader_format(src.r)) : "built-in workload");
    printf("events:       %llu\n", (unsigned long long)t.events);
    printf("accesses:     %llu (fetch %llu, load %llu, store %llu, modify %llu)\n",
           (unsigned long long)t.types[AGS_EV_ACCESS], (unsigned long long)t.kinds[0], (unsigned long long)t.kinds[1],
           (unsigned long long)t.kinds[2], (unsigned long long)t.kinds[3]);
    printf("instructions: %llu\n", (unsigned long long)t.instructions);
    printf("processes:    %zu%s\n", t.npids, t.more_pids ? "+" : "");
    if (t.threads)
        printf("threads:      %llu (processes and their threads, from the tids of the accesses)\n",
               (unsigned long long)t.threads);
    if (o->is_trace[0] && ags_reader_truncated(src.r))
        printf("truncated:    yes (%s)\n", ags_reader_truncated(src.r) == AGS_TRUNC_LIMIT
                                               ? "the recording stopped at --max-instructions"
                                               : "the recording was stopped by a signal");
    printf("pages:        %llu touched (4 KiB), footprint %.1f MiB\n", (unsigned long long)t.pages,
           (double)t.pages * 4096 / (1 << 20));
    if (t.types[AGS_EV_ACCESS])
        printf("addresses:    0x%llx .. 0x%llx\n", (unsigned long long)t.lo, (unsigned long long)t.hi);
    printf("address-space events:");
    for (unsigned k = 1; k < AGS_EV_TYPE_COUNT; k++)
        printf(" %s %llu", ags_event_type_name(k), (unsigned long long)t.types[k]);
    printf("\n");
    ags_cli_source_close(&src);
    return 0;
}

static int record_command(ags_cli_opts_t *o, char **cmd)
{
    if (!o->output)
        ags_cli_die(EXIT_USAGE, "record: -o OUT.agt is required");
    ags_cli_install_signals();
    if (o->recorder == 1) {
        if (o->roi || o->skip_instructions || o->max_instructions != UINT64_MAX)
            ags_cli_die(EXIT_USAGE, "record: --roi, --skip-instructions and --max-instructions need --recorder agstrace");
        return ags_cli_record(o->output, o->zstd, o->quiet, cmd, &ags_cli_stop);
    }
    ags_outfile_t of;
    int fd = trace_out_open(&of, o->output, NULL);
    ags_rec_opts_t ro = { o->output, fd, 0, o->zstd, o->quiet, o->roi, o->skip_instructions, o->max_instructions };
    int rc = ags_cli_record_vg(&ro, cmd, &ags_cli_stop);
    if (rc == 0 || rc == EXIT_SIGNAL) /* a recording cut short is a valid trace, marked truncated */
        return ags_out_commit(&of) ? 1 : rc;
    ags_out_abort(&of);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        ags_cli_usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    static const struct {
        const char *name;
        unsigned cmd;
    } cmds[] = {
        { "compare", CMD_COMPARE }, { "run", CMD_RUN }, { "convert", CMD_CONVERT }, { "info", CMD_INFO },
        { "record", CMD_RECORD },
    };
    unsigned command = 0;
    if (!strcmp(cmd, "help") && argc == 3 && !strcmp(argv[2], "--man")) {
        ags_cli_man(stdout);
        return fflush(stdout) ? 1 : 0;
    }
    if (!strcmp(cmd, "help") && argc == 3 && !strcmp(argv[2], "--bash-completion")) {
        ags_cli_bash_completion(stdout);
        return fflush(stdout) ? 1 : 0;
    }
    const char *helpfor = !strcmp(cmd, "help") && argc > 2 ? argv[2] : cmd;
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (!strcmp(helpfor, cmds[i].name))
            command = cmds[i].cmd;
    if (!strcmp(cmd, "help") && argc > 2 && !command)
        ags_cli_die(EXIT_USAGE, "help: unknown command '%s' (see 'agilesim help')", argv[2]);
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        if (command)
            ags_cli_usage_command(stdout, command);
        else
            ags_cli_usage(stdout);
        return 0;
    }
    /* agilesim COMMAND --help (before any "--": after it, the arguments are the recorded program's) */
    for (int i = 2; command && i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            ags_cli_usage_command(stdout, command);
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
            printf("%-14s %s\n%-14s   stands for: %s\n", l[i].name, l[i].description, "", l[i].stands_for);
        printf("\nStress tests run only when named. Measured fault rates and MPKI, next to recorded real\n"
               "programs: docs/model.md, section 11.\n");
        return 0;
    }
    if (!strcmp(cmd, "diff") || !strcmp(helpfor, "diff")) {
        if (!strcmp(cmd, "help") || (argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")))) {
            printf("usage: agilesim diff A.json B.json\n\n"
                   "Two JSON reports side by side: per workload and mode, total cycles (and the change),\n"
                   "overhead against native, MPKI, references per walk and exits per 1,000 instructions;\n"
                   "the configuration keys that differ; runs found in one report only.\n");
            return 0;
        }
        return ags_cli_diff(argc - 2, argv + 2);
    }
    static char cmdline[8192];
    size_t pos = 0;
    for (int i = 0; i < argc && pos < sizeof(cmdline) - 1; i++)
        pos += (size_t)snprintf(cmdline + pos, sizeof(cmdline) - pos, "%s%s", i ? " " : "", argv[i]);
    if (!strcmp(cmd, "sweep") || !strcmp(cmd, "merge") || !strcmp(helpfor, "sweep") || !strcmp(helpfor, "merge")) {
        int sweep = !strcmp(cmd, "sweep") || !strcmp(helpfor, "sweep");
        int help = !strcmp(cmd, "help");
        for (int i = 2; !help && i < argc; i++)
            help = !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h");
        if (help) {
            fputs(sweep ? ags_cli_sweep_help : ags_cli_merge_help, stdout);
            return 0;
        }
        return sweep ? ags_cli_sweep(argc - 2, argv + 2, cmdline) : ags_cli_merge(argc - 2, argv + 2, cmdline);
    }
    if (!command)
        ags_cli_die(EXIT_USAGE, "unknown command '%s' (see 'agilesim help')", cmd);
    ags_cli_opts_t o;
    ags_cli_defaults(&o, command, cmd);
    o.cmdline = cmdline;
    int rest = 0;
    ags_cli_parse(&o, argc, argv, 2, &rest);
    if ((command & CMD_SIM) && rest) { /* compare/run -- CMD ARGS...: simulate CMD while it runs */
        if (rest >= argc)
            ags_cli_die(EXIT_USAGE, "%s: a command goes after --", cmd);
        if (o.ninputs == AGS_CLI_MAX_INPUTS)
            ags_cli_die(EXIT_USAGE, "too many inputs (at most %d)", AGS_CLI_MAX_INPUTS);
        o.live_cmd = argv + rest;
        o.is_trace[o.ninputs] = AGS_CLI_LIVE;
        o.inputs[o.ninputs++] = argv[rest];
    }
    switch (command) {
    case CMD_COMPARE:
        return ags_cli_run(&o);
    case CMD_RUN:
        if (!o.cfg.modes || __builtin_popcount(o.cfg.modes) != 1)
            ags_cli_die(EXIT_USAGE, "run needs --mode native|nested|shadow|agile");
        return ags_cli_run(&o);
    case CMD_CONVERT:
        return convert_command(&o);
    case CMD_INFO:
        return info_command(&o);
    default:
        if (!rest || rest >= argc)
            ags_cli_die(EXIT_USAGE, "record: usage: agilesim record -o OUT.agt [--zstd] -- CMD ARGS... "
                                    "(the command goes after --)");
        return record_command(&o, argv + rest);
    }
}
