/* agilesim — reports: text table, JSON (docs/cli.md), CSV, SVG. Writers take an open FILE. */
#ifndef AGILESIM_REPORT_H
#define AGILESIM_REPORT_H

#include <stdio.h>
#include "config.h"
#include "sim.h"

typedef struct {
    const char *workload;
    ags_mode_t mode;
    ags_stats_t st;
    ags_guest_stats_t guest;
    int interrupted;
    const ags_region_stats_t *regions;  /* the input's regions (ags_sim_regions), or NULL */
    size_t nregions;
} ags_run_t;

typedef struct {
    const char *workload;
    const ags_interval_t *iv;
    size_t n;
    unsigned modes;
} ags_run_intervals_t;

typedef struct {
    const char *command;            /* the command line, echoed */
    const ags_config_t *cfg;
    uint64_t accesses, footprint, seed;   /* workload parameters */
    const ags_run_t *runs;
    size_t nruns;
    const ags_run_intervals_t *ivs;
    size_t nivs;
    int legend;                     /* text: define every column under the table */
    int by;                         /* text: 1 a table per region, 2 per process, after the main one */
    const char *const *labels;      /* KEY, VALUE pairs (--label): JSON "labels", leading CSV columns */
    size_t nlabels;                 /* pairs */
} ags_report_t;

int ags_report_text(FILE *f, const ags_report_t *r);
int ags_report_json(FILE *f, const ags_report_t *r);
int ags_report_csv(FILE *f, const ags_report_t *r);
/* One CSV field as ags_report_csv writes them: quoted when it holds a comma, a quote or a line
 * break (RFC 4180) */
void ags_report_csv_str(FILE *f, const char *s);
int ags_report_svg(FILE *f, const ags_report_t *r);
/* Line charts over instructions from the --interval rows, per input: overhead against native and
 * VM exits per 1,000 instructions in each interval, per mode; agile's guest page-table pages in
 * nested and in shadow mode. An input without interval rows gets a note instead. */
int ags_report_svg_intervals(FILE *f, const ags_report_t *r);

#endif
