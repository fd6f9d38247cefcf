/* agilesim command line: what the option module (options.c), the run loop (run.c), the
 * dispatcher (main.c) and the recorder (record.c) share. Uses only the public API. */
#ifndef AGS_CLI_H
#define AGS_CLI_H

#include "agilesim/agilesim.h"
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#define EXIT_USAGE 2
#define EXIT_SIGNAL 130
#define AGS_CLI_MAX_INPUTS 32
#define AGS_CLI_LIVE 2
#define AGS_CLI_MAX_LABELS 16

/* The commands, as a bit set: each option names the commands it applies to. */
enum {
    CMD_COMPARE = 1u << 0,
    CMD_RUN = 1u << 1,
    CMD_CONVERT = 1u << 2,
    CMD_INFO = 1u << 3,
    CMD_RECORD = 1u << 4,
    CMD_SIM = CMD_COMPARE | CMD_RUN
};

typedef struct {
    ags_config_t cfg;
    unsigned command;                           /* one CMD_* bit */
    const char *command_name;
    const char *inputs[AGS_CLI_MAX_INPUTS];    /* built-in workload names, or trace paths */
    int is_trace[AGS_CLI_MAX_INPUTS];           /* 0 workload, 1 trace file, AGS_CLI_LIVE: live_cmd */
    char **live_cmd;                            /* compare/run -- CMD ARGS...: simulated while it runs */
    size_t ninputs;
    int format;                                 /* ags_format_t for trace inputs */
    int accesses_given, zstd, quiet;
    int recorder;                               /* record: 0 agstrace, 1 lackey */
    int roi;                                    /* record --roi */
    uint64_t skip_instructions, max_instructions; /* record (max: UINT64_MAX = none) */
    const char *output;                         /* convert / record */
    uint64_t accesses, footprint, seed;
    double warmup_pct;                          /* < 0: warmup_abs applies; -2: the default */
    uint64_t warmup_abs;
    uint64_t instructions;                      /* --instructions: counted instructions per input (0: none) */
    uint64_t warmup_instructions;               /* --warmup-instructions (0: none) */
    unsigned threads;                           /* --threads (0: all cores) */
    unsigned groups;                            /* --groups (0: auto) */
    int by;                                     /* --by: 0 none, 1 region, 2 process */
    int legend;                                 /* 1 --legend, 0 --no-legend, -1 on a terminal */
    uint64_t max_memory;                        /* --max-memory bytes (0: auto, UINT64_MAX: off) */
    const char *json, *csv, *svg, *interval_svg;
    const char *labels[2 * AGS_CLI_MAX_LABELS]; /* --label KEY=VALUE: KEY, VALUE pairs */
    size_t nlabels;
    const char *cmdline;
} ags_cli_opts_t;

extern volatile sig_atomic_t ags_cli_stop;
extern volatile sig_atomic_t ags_cli_nsignals; /* how many stop signals arrived */

/* Print "agilesim: MESSAGE", remove every half-written output, exit with `code`. */
void ags_cli_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void ags_cli_install_signals(void);
/* The input read through a mapped window (NULL: none), for the SIGBUS handler */
void ags_cli_watch_mapped(ags_reader_t *r, const char *path);

/* options.c */
void ags_cli_defaults(ags_cli_opts_t *o, unsigned command, const char *name);
/* Parse argv[first..]; with CMD_RECORD, stop at "--" and set *rest to the index after it. */
void ags_cli_parse(ags_cli_opts_t *o, int argc, char **argv, int first, int *rest);
void ags_cli_usage(FILE *f);
/* NAME ("--x" or "x") as an option of `command`: 1 takes a value, 0 a flag, -1 not an option of
 * it; *canonical (if not NULL) is set to its "--x" spelling */
int ags_cli_option_arity(const char *name, unsigned command, const char **canonical);
void ags_cli_usage_command(FILE *f, unsigned command); /* agilesim COMMAND --help */

void ags_cli_man(FILE *f);              /* agilesim help --man */
void ags_cli_bash_completion(FILE *f);  /* agilesim help --bash-completion */

/* sweep.c: agilesim sweep and agilesim merge (argv: the arguments after the command) */
int ags_cli_sweep(int argc, char **argv, const char *cmdline);
int ags_cli_merge(int argc, char **argv, const char *cmdline);
extern const char ags_cli_sweep_help[], ags_cli_merge_help[];

/* diff.c: agilesim diff A.json B.json (argv: the two paths) */
int ags_cli_diff(int argc, char **argv);
int ags_cli_workload_exists(const char *name);
/* Add the default inputs: every built-in workload but the stress tests ("suite") */
void ags_cli_add_suite(ags_cli_opts_t *o);

/* outfile.c: outputs that are never left half-written */
enum { AGS_OUT_FILE = 0, AGS_OUT_THROUGH = 1, AGS_OUT_STDOUT = 2 };
typedef struct {
    const char *path, *opt;
    char target[4096];      /* the resolved file */
    char tmp[4200];         /* its temporary name while being linked or written */
    int kind, anon;
    FILE *f;
} ags_outfile_t;
/* Check and prepare an output (NULL path: none); exits with status 2 and one line if it cannot be. */
void ags_out_open(ags_outfile_t *o, const char *path, const char *opt);
FILE *ags_out_stream(ags_outfile_t *o);     /* where to write it (NULL: none, or cannot) */
int ags_out_commit(ags_outfile_t *o);       /* put it in place: 0, or -1 with a message */
void ags_out_abort(ags_outfile_t *o);       /* drop it */
const char *ags_out_target(const ags_outfile_t *o);
/* Remove every named temporary output (where O_TMPFILE is not supported): async-signal-safe */
void ags_out_unlink_named(void);

/* run.c: compare and run; removing half-written outputs (called by ags_cli_die) */
void ags_cli_out_abort_all(void);
int ags_cli_run(ags_cli_opts_t *o);

/* inputs (run.c) */
typedef struct {
    ags_workload_t *w;
    ags_reader_t *r;
    const char *name;
    int live_pid;       /* > 0: the recorder process feeding r */
} ags_cli_source_t;
/* AGS_OK, or AGS_E_INTR (a signal while waiting for a FIFO); any other failure exits with status 2 */
int ags_cli_source_open(const ags_cli_opts_t *o, size_t i, uint64_t accesses, ags_cli_source_t *src);
size_t ags_cli_source_next(ags_cli_source_t *src, ags_event_t *buf, size_t n, const char **err);
void ags_cli_source_close(ags_cli_source_t *src);
/* Read a plain trace file through a mapped window from here on (only where the events are used on
 * the reading thread: see run.c) */
void ags_cli_source_map(ags_cli_source_t *src, const char *path);
/* 1 if src's batches can be read ahead on a thread (a regular file or a built-in workload: no read
 * that may wait indefinitely) */
int ags_cli_source_can_read_ahead(const ags_cli_source_t *src);

/* ahead.c: the next batch decoded on its own thread while the current one is simulated */
#define AGS_CLI_BATCH 4096
/* a read-ahead slot: large, since each hand-over between the threads costs a wake-up (tens of
 * microseconds in a VM); 4,096-event slots made a one-mode run slower, not faster */
#define AGS_CLI_AHEAD_BATCH 32768
/* slots in the ring (6 MiB of events in all, as the two 65,536-event slots before): with two,
 * the producer waited for each slot the simulator gave back and the simulator for each one the
 * producer filled (the threads take turns being late); four absorb that. python3 `run --mode
 * native --caches off`, 2 threads, median of 5: 2.92 s (two of 65,536) -> 2.47 s (four of 32,768),
 * 2.45 s (four of 65,536) */
#define AGS_CLI_AHEAD_SLOTS 4
typedef struct {
    ags_cli_source_t *src;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ags_event_t *buf[AGS_CLI_AHEAD_SLOTS];
    size_t n[AGS_CLI_AHEAD_SLOTS];
    const char *err[AGS_CLI_AHEAD_SLOTS];
    /* the reader's progress (bytes) after each slot's batch */
    uint64_t done[AGS_CLI_AHEAD_SLOTS], total[AGS_CLI_AHEAD_SLOTS];
    int ready[AGS_CLI_AHEAD_SLOTS]; /* slot filled (and not yet given back) */
    int held;                       /* the slot the simulator is using, or -1 */
    size_t off;                     /* events of the held slot handed out so far */
    unsigned next;                  /* the slot of the next batch */
    unsigned fill_next;             /* the slot the next fill goes to (fills are in order too) */
    int filling;                    /* a fill is under way (by the producer or the simulating
                                     * thread): one at a time, so the source has one reader */
    int ended;                      /* a fill returned nothing: no more fills */
    int quit, running;
    uint64_t cur_done, cur_total;   /* the progress of the batch last returned */
} ags_cli_ahead_t;
/* 0, or -1 if the thread could not be started (read synchronously then) */
int ags_cli_ahead_start(ags_cli_ahead_t *a, ags_cli_source_t *src);
/* The next batch (at most AGS_CLI_BATCH events) in *batch, valid until the next call; 0 at the
 * end, on an error (*err set, as ags_cli_source_next) or when ags_cli_stop is set. */
size_t ags_cli_ahead_next(ags_cli_ahead_t *a, ags_event_t **batch, const char **err);
/* Stop and join the thread; src is the caller's again. */
void ags_cli_ahead_stop(ags_cli_ahead_t *a);

/* record_vg.c: agilesim record with agilesim's Valgrind tool */
typedef struct {
    const char *output;         /* the .agt file (or, with out_fd >= 0, its name in messages) */
    int out_fd;                 /* >= 0: write the trace to this descriptor (the writer owns it) */
    int live;                   /* the descriptor is a pipe to the simulator (compare/run -- CMD) */
    int zstd, quiet, roi;
    uint64_t skip_instructions, max_instructions;
} ags_rec_opts_t;
int ags_cli_record_vg(const ags_rec_opts_t *o, char **cmd, volatile sig_atomic_t *stop);
/* 0 if valgrind and agilesim's tool are there, else -1 with the reason in msg */
int ags_cli_record_check(char *msg, size_t len);

/* record.c: agilesim record --recorder lackey */
int ags_cli_record(const char *output, int zstd, int quiet, char **cmd, volatile sig_atomic_t *stop);

#endif
