/* Helpers to drive the simulator with hand-written event sequences. */
#ifndef AGS_SIMTEST_H
#define AGS_SIMTEST_H
#include "agilesim/agilesim.h"
#include "check.h"
#include <stdlib.h>

typedef struct {
    ags_event_t ev[4096];
    size_t n;
} evs_t;

static inline void ev_push(evs_t *e, unsigned type, uint32_t pid, uint64_t addr, uint64_t len, uint64_t arg,
                           unsigned kind, uint32_t icount)
{
    ags_event_t *x = &e->ev[e->n++];
    memset(x, 0, sizeof(*x));
    x->type = (uint8_t)type;
    x->pid = pid;
    x->addr = addr;
    x->len = len;
    x->arg = arg;
    x->kind = (uint8_t)kind;
    x->size = 8;
    x->icount = icount;
}
#define LOAD(e, pid, a) ev_push(e, AGS_EV_ACCESS, pid, a, 0, 0, AGS_ACC_LOAD, 1)
#define STORE(e, pid, a) ev_push(e, AGS_EV_ACCESS, pid, a, 0, 0, AGS_ACC_STORE, 1)
#define MMAP(e, pid, a, l) ev_push(e, AGS_EV_MMAP, pid, a, l, AGS_PROT_R | AGS_PROT_W, 0, 0)
#define MUNMAP(e, pid, a, l) ev_push(e, AGS_EV_MUNMAP, pid, a, l, 0, 0, 0)
#define FORK(e, pid, child) ev_push(e, AGS_EV_FORK, pid, 0, 0, child, 0, 0)
#define SWITCH(e, pid) ev_push(e, AGS_EV_SWITCH, pid, 0, 0, 0, 0, 0)
#define EXIT(e, pid) ev_push(e, AGS_EV_EXIT, pid, 0, 0, 0, 0, 0)
#define EXEC(e, pid) ev_push(e, AGS_EV_EXEC, pid, 0, 0, 0, 0, 0)
#define FETCH(e, pid, a) ev_push(e, AGS_EV_ACCESS, pid, a, 0, 0, AGS_ACC_IFETCH, 1)
#define MODIFY(e, pid, a) ev_push(e, AGS_EV_ACCESS, pid, a, 0, 0, AGS_ACC_MODIFY, 1)

/* caches off, walk caches off, check on: every walk is counted in full */
static inline void cfg_bare(ags_config_t *c, unsigned modes)
{
    ags_config_defaults(c);
    c->modes = modes;
    c->check = 1;
    c->pwc_on = 0;
    c->ntlb_on = 0;
    c->caches_on = 0;
    c->walk_latency_fixed = 1;
    c->walk_latency = 1;
}

static inline ags_sim_t *sim_new(const ags_config_t *c)
{
    ags_sim_t *s;
    if (ags_sim_create(c, &s)) {
        fprintf(stderr, "sim_create failed\n");
        exit(1);
    }
    return s;
}

static inline void sim_feed(ags_sim_t *s, evs_t *e)
{
    int rc = ags_sim_run(s, e->ev, e->n);
    if (rc) {
        fprintf(stderr, "sim_run: %s\n", ags_sim_errmsg(s));
        exit(1);
    }
    e->n = 0;
}

static inline ags_stats_t st_of(ags_sim_t *s, ags_mode_t m)
{
    ags_stats_t st;
    ags_sim_stats(s, m, &st);
    return st;
}
#endif
