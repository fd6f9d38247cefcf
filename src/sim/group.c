/* Model notes: nothing of the model — how one run's machines share the host's cores. The
 * machines are split into groups (ags_sim_set_groups). Each group is a simulation of its own
 * (its own guest, EPT, TLB, memory and cache workers) fed copies of the same events: no machine's
 * numbers depend on which machines run beside it (tests/cli/test_modes.py), so the results are
 * those of one group by construction (tests/cli/test_groups.py compares them). The first group is
 * the caller's handle and runs on the caller's thread; every other group runs on a thread of its
 * own, behind it by at most AGS_GRP_SLOTS batches, each batch copied once into a ring; an event
 * that may walk many page tables (fork, exit, a range change) every group runs at once, after
 * everything before it, so that a stop (which interrupts such an event) stops every group inside
 * the same event, within a table of each other. Results
 * are merged by mode: a mode's counters, interval columns and region columns come from its
 * group; what every group has alike (the guest, the accesses, the regions' keys, the interval
 * rows) from the first. The cost: the work every group repeats (the shared TLB's lookups, the
 * guest's page tables, the copies), which is why one group is the default. */
#include "sim/sim_internal.h"
#include "util.h"
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AGS_GRP_SLOTS 8             /* batches a group may lag behind the first */
#define AGS_GRP_SLOT_EVENTS 4096    /* events per batch (a caller's larger batch is cut) */

struct ags_groups;

/* A group beyond the first: its simulation and the thread that runs it. */
typedef struct {
    pthread_t th;
    int started;
    struct ags_groups *G;
    ags_sim_t *c;
    /* its simulation's stop flag (the caller's flag is the first group's only): set just before
     * the event inside which the first group stopped, so that every group stops in it */
    volatile sig_atomic_t stop;
    uint64_t next;              /* the next batch it runs (a count of batches posted); under mu */
    int rc;                     /* what its simulation returned other than AGS_OK (it then runs
                                 * no more); under mu */
} ags_gthread_t;

struct ags_groups {
    ags_config_t cfg;           /* the caller's configuration: every mode */
    unsigned ng;
    ags_sim_t *core[AGS_MODE_COUNT];        /* core[0]: the caller's handle */
    ags_sim_t *by_mode[AGS_MODE_COUNT];
    ags_gthread_t th[AGS_MODE_COUNT];       /* th[1 .. ng-1] */
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    int sync_init;
    ags_event_t *slot[AGS_GRP_SLOTS];
    size_t slot_n[AGS_GRP_SLOTS];
    uint64_t posted;            /* batches posted; under mu */
    int quit;                   /* under mu */
    int failed, rc;             /* an error was returned: every later call returns it */
    uint64_t err_event;
    char err[256];
    int merged;
};

static void *group_main(void *arg)
{
    ags_gthread_t *t = arg;
    struct ags_groups *G = t->G;
    pthread_mutex_lock(&G->mu);
    for (;;) {
        if (t->next == G->posted) {
            if (G->quit)
                break;
            pthread_cond_wait(&G->cv_work, &G->mu);
            continue;
        }
        unsigned k = (unsigned)(t->next % AGS_GRP_SLOTS);
        const ags_event_t *ev = G->slot[k];
        size_t n = G->slot_n[k];
        int skip = t->rc != AGS_OK; /* stopped: the batches still posted are passed over */
        pthread_mutex_unlock(&G->mu);
        int rc = skip ? AGS_OK : ags_sim_run_core(t->c, ev, n);
        pthread_mutex_lock(&G->mu);
        if (rc != AGS_OK)
            t->rc = rc;
        t->next++;
        pthread_cond_broadcast(&G->cv_done);
    }
    pthread_mutex_unlock(&G->mu);
    return NULL;
}

/* The batch every group has run (under mu). */
static uint64_t slowest(const struct ags_groups *G)
{
    uint64_t m = G->posted;
    for (unsigned i = 1; i < G->ng; i++)
        m = AGS_MIN(m, G->th[i].next);
    return m;
}

/* Hand a copy of ev[0 .. n) (n <= AGS_GRP_SLOT_EVENTS) to every other group, once a slot is free. */
static void post(struct ags_groups *G, const ags_event_t *ev, size_t n)
{
    pthread_mutex_lock(&G->mu);
    while (G->posted - slowest(G) >= AGS_GRP_SLOTS)
        pthread_cond_wait(&G->cv_done, &G->mu);
    unsigned k = (unsigned)(G->posted % AGS_GRP_SLOTS);
    pthread_mutex_unlock(&G->mu);
    /* no group reads slot k until it is posted again: each has run the batch it held */
    memcpy(G->slot[k], ev, n * sizeof(*ev));
    G->slot_n[k] = n;
    pthread_mutex_lock(&G->mu);
    G->posted++;
    pthread_cond_broadcast(&G->cv_work);
    pthread_mutex_unlock(&G->mu);
}

/* Until every group has run every batch posted. */
static void drain(struct ags_groups *G)
{
    pthread_mutex_lock(&G->mu);
    while (slowest(G) < G->posted)
        pthread_cond_wait(&G->cv_done, &G->mu);
    pthread_mutex_unlock(&G->mu);
}

/* The group beyond the first whose error came at the earliest event (0: none); interruptions,
 * which only the first group's stop causes, are not errors here. */
static unsigned earliest_error(struct ags_groups *G, int *rc, uint64_t *at)
{
    unsigned who = 0;
    pthread_mutex_lock(&G->mu);
    for (unsigned i = 1; i < G->ng; i++) {
        const ags_gthread_t *t = &G->th[i];
        if (t->rc < 0 && t->rc != AGS_E_INTR && (!who || t->c->events < *at)) {
            who = i;
            *rc = t->rc;
            *at = t->c->events;
        }
    }
    pthread_mutex_unlock(&G->mu);
    return who;
}

static int fail(struct ags_groups *G, int rc, uint64_t at, const char *msg)
{
    G->failed = 1;
    G->rc = rc;
    G->err_event = at;
    snprintf(G->err, sizeof(G->err), "%s", msg);
    return rc;
}

/* An event that may walk many page tables (a fork, an exit, a range change): it may take seconds,
 * and a stop flag interrupts it inside (AGS_E_INTR). The groups run it side by side, having run
 * everything before it: the others are never more than the event itself behind, and a stop stops
 * every group inside it. (An mmap over a mapping unmaps it first and may be long too; it is rare,
 * and a stop inside one stops the others inside it as well, after they caught up: stop_at.) */
static inline int is_long(const ags_event_t *e)
{
    return e->type != AGS_EV_ACCESS && e->type != AGS_EV_MMAP && e->type != AGS_EV_SWITCH;
}

/* The first group returned rc (not AGS_OK) after `done` events of batch ev: the others run up
 * to the same point (stopped inside the same event if it was interrupted there: `together`, the
 * event the groups run side by side), and the error of the earliest event, whichever group found
 * it, is the run's. */
static int stop_at(ags_sim_t *s, int rc, const ags_event_t *ev, size_t done, int together)
{
    struct ags_groups *G = s->grp;
    if (together) {
        if (rc == AGS_E_INTR)
            for (unsigned i = 1; i < G->ng; i++)
                __atomic_store_n(&G->th[i].stop, 1, __ATOMIC_RELAXED); /* read at its next table */
    } else {
        if (done)
            post(G, ev, done);
        if (rc == AGS_E_INTR) { /* an mmap over a mapping: the others stop inside it too */
            drain(G);
            for (unsigned i = 1; i < G->ng; i++)
                G->th[i].stop = 1; /* idle: read by its thread after the post below */
            post(G, ev + done, 1);
        }
    }
    drain(G);
    int wrc = AGS_OK;
    uint64_t at = 0;
    unsigned who = earliest_error(G, &wrc, &at);
    if (who && (rc > 0 || rc == AGS_E_INTR || at < s->events))
        return fail(G, wrc, at, G->th[who].c->err);
    if (rc < 0 && rc != AGS_E_INTR)
        return fail(G, rc, s->events, s->err);
    return rc;
}

int ags_group_run(ags_sim_t *s, const ags_event_t *ev, size_t n)
{
    struct ags_groups *G = s->grp;
    if (G->failed)
        return G->rc;
    if (n == 0)
        drain(G);
    int rc = AGS_OK;
    uint64_t at = 0;
    unsigned who = earliest_error(G, &rc, &at);
    if (who)
        return fail(G, rc, at, G->th[who].c->err);
    for (size_t off = 0; off < n;) {
        /* a long event alone, run by every group at once; else the events up to the next long
         * one (at most a slot's), run here first and then handed on */
        size_t k = 1;
        int together = is_long(&ev[off]);
        if (together) {
            drain(G);
            post(G, ev + off, 1);
        } else {
            size_t lim = AGS_MIN(n - off, (size_t)AGS_GRP_SLOT_EVENTS);
            while (k < lim && !is_long(&ev[off + k]))
                k++;
        }
        uint64_t before = s->events;
        rc = ags_sim_run_core(s, ev + off, k);
        if (rc != AGS_OK)
            return stop_at(s, rc, ev + off, (size_t)(s->events - before), together);
        if (!together)
            post(G, ev + off, k);
        off += k;
    }
    return AGS_OK;
}

ags_sim_t *ags_group_core(const ags_sim_t *s, ags_mode_t mode)
{
    struct ags_groups *G = s->grp;
    if ((unsigned)mode >= AGS_MODE_COUNT)
        return NULL;
    drain(G); /* its counters are then settled up to every event fed, and no thread writes them */
    return G->by_mode[mode];
}

void ags_group_finish(ags_sim_t *s)
{
    struct ags_groups *G = s->grp;
    if (G->merged)
        return;
    G->merged = 1;
    drain(G);
    int rc = AGS_OK;
    uint64_t at = 0;
    unsigned who = earliest_error(G, &rc, &at);
    if (who && !G->failed)
        fail(G, rc, at, G->th[who].c->err);
    /* native's group first: with native_cycles, the CPI it derives is every group's */
    ags_sim_t *nat = G->by_mode[AGS_MODE_NATIVE];
    double cpi = NAN;
    if (nat) {
        ags_sim_core_finish(nat, NAN);
        cpi = nat->cpi_used;
    }
    for (unsigned i = 0; i < G->ng; i++)
        ags_sim_core_finish(G->core[i], cpi);
    uint64_t nat_total = 0;
    for (unsigned i = 0; nat && i < nat->nm; i++)
        if (nat->m[i]->mode == AGS_MODE_NATIVE)
            nat_total = nat->m[i]->st.cycles.total;
    for (unsigned i = 0; i < G->ng; i++)
        for (unsigned j = 0; j < G->core[i]->nm; j++) {
            ags_stats_t *st = &G->core[i]->m[j]->st;
            st->overhead_vs_native = nat_total ? (double)st->cycles.total / (double)nat_total - 1.0 : NAN;
        }
    /* interval rows and regions: the first group's, with every other mode's columns filled in
     * from its group (every group has the same rows and the same regions: the same events, the
     * same guest) */
    ags_sim_t *c0 = G->core[0], *tlbc = NULL, *ag = G->by_mode[AGS_MODE_AGILE];
    for (unsigned i = 0; i < G->ng && !tlbc; i++)
        for (unsigned j = 0; j < G->core[i]->nm; j++)
            if (G->core[i]->m[j]->mode != AGS_MODE_NATIVE)
                tlbc = G->core[i]; /* the shared TLB's misses: native alone caches guest leaves */
    for (size_t r = 0; r < c0->niv; r++) {
        ags_interval_t *row = &c0->iv[r];
        for (unsigned mode = 0; mode < AGS_MODE_COUNT; mode++) {
            const ags_sim_t *c = G->by_mode[mode];
            if (!c || c == c0 || r >= c->niv)
                continue;
            row->walk_refs[mode] = c->iv[r].walk_refs[mode];
            row->vm_exits[mode] = c->iv[r].vm_exits[mode];
            row->cycles[mode] = c->iv[r].cycles[mode];
        }
        if (tlbc && r < tlbc->niv)
            row->tlb_misses = tlbc->iv[r].tlb_misses;
        if (ag && ag != c0 && r < ag->niv) {
            row->agile_nested_pages = ag->iv[r].agile_nested_pages;
            row->agile_shadow_pages = ag->iv[r].agile_shadow_pages;
            row->agile_walks_full_shadow = ag->iv[r].agile_walks_full_shadow;
            row->agile_walks = ag->iv[r].agile_walks;
        }
    }
    for (unsigned r = 0; r < c0->nrg; r++)
        for (unsigned mode = 0; mode < AGS_MODE_COUNT; mode++) {
            const ags_sim_t *c = G->by_mode[mode];
            if (c && c != c0 && r < c->nrg)
                c0->rg[r].mode[mode] = c->rg[r].mode[mode];
        }
}

const ags_config_t *ags_group_config(const ags_sim_t *s) { return &s->grp->cfg; }
const char *ags_group_errmsg(const ags_sim_t *s) { return s->grp->failed ? s->grp->err : s->err; }
uint64_t ags_group_events_done(const ags_sim_t *s) { return s->grp->failed ? s->grp->err_event : s->events; }

int ags_group_set_threads(ags_sim_t *s, unsigned n)
{
    struct ags_groups *G = s->grp;
    drain(G);
    unsigned extra = n > G->ng ? n - G->ng : 0;
    int rc = AGS_OK;
    for (unsigned i = 0; i < G->ng; i++)
        if (ags_sim_core_threads(G->core[i], 1 + extra / G->ng + (i < extra % G->ng)))
            rc = AGS_E_NOMEM;
    return rc;
}

unsigned ags_group_worker_threads(const ags_sim_t *s)
{
    const struct ags_groups *G = s->grp;
    unsigned n = G->ng - 1;
    for (unsigned i = 0; i < G->ng; i++)
        n += G->core[i]->nworkers;
    return n;
}

void ags_group_memory(const ags_sim_t *s, ags_sim_memory_t *out)
{
    const struct ags_groups *G = s->grp;
    ags_sim_core_memory(G->core[0], out);
    for (unsigned i = 1; i < G->ng; i++) {
        ags_sim_memory_t o;
        ags_sim_core_memory(G->core[i], &o);
        if (o.guest_memory < out->guest_memory) {
            out->guest_memory = o.guest_memory;
            out->limited_by = o.limited_by;
            out->limit = o.limit;
        }
        out->reserved += o.reserved;
        out->pt_resident += o.pt_resident;
    }
}

/* Stop the groups' threads; release their simulations and the ring (not the first group's). */
static void group_free(struct ags_groups *G)
{
    if (!G)
        return;
    if (G->sync_init) {
        pthread_mutex_lock(&G->mu);
        G->quit = 1;
        pthread_cond_broadcast(&G->cv_work);
        pthread_mutex_unlock(&G->mu);
    }
    for (unsigned i = 1; i < G->ng; i++) {
        if (G->th[i].started)
            pthread_join(G->th[i].th, NULL);
        if (G->core[i]) {
            ags_sim_core_fini(G->core[i]);
            free(G->core[i]);
        }
    }
    if (G->sync_init) {
        pthread_mutex_destroy(&G->mu);
        pthread_cond_destroy(&G->cv_work);
        pthread_cond_destroy(&G->cv_done);
    }
    for (unsigned k = 0; k < AGS_GRP_SLOTS; k++)
        free(G->slot[k]);
    free(G);
}

/* Back to s alone: it runs its own modes only (ags_sim_set_groups rebuilds it). */
void ags_group_teardown(ags_sim_t *s)
{
    group_free(s->grp);
    s->grp = NULL;
}

/* The groups beyond the first (modes mask[1 .. g-1]), each on its thread, waiting for events. */
static int group_new(const ags_config_t *cfg, unsigned g, const unsigned *mask, struct ags_groups **out)
{
    struct ags_groups *G = calloc(1, sizeof(*G));
    *out = NULL;
    if (!G)
        return AGS_E_NOMEM;
    G->cfg = *cfg;
    G->ng = g;
    int rc = AGS_E_NOMEM;
    if (pthread_mutex_init(&G->mu, NULL))
        goto fail;
    if (pthread_cond_init(&G->cv_work, NULL)) {
        pthread_mutex_destroy(&G->mu);
        goto fail;
    }
    if (pthread_cond_init(&G->cv_done, NULL)) {
        pthread_cond_destroy(&G->cv_work);
        pthread_mutex_destroy(&G->mu);
        goto fail;
    }
    G->sync_init = 1;
    for (unsigned k = 0; k < AGS_GRP_SLOTS; k++)
        if (!(G->slot[k] = malloc(AGS_GRP_SLOT_EVENTS * sizeof(ags_event_t))))
            goto fail;
    /* the group threads block every signal: a handler runs on the caller's thread */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = AGS_OK;
    for (unsigned i = 1; i < g && rc == AGS_OK; i++) {
        ags_config_t c = *cfg;
        c.modes = mask[i];
        ags_gthread_t *t = &G->th[i];
        t->G = G;
        if (!(t->c = G->core[i] = calloc(1, sizeof(ags_sim_t))))
            rc = AGS_E_NOMEM;
        else if ((rc = ags_sim_core_init(t->c, &c)) == AGS_OK) {
            t->c->guest.stop = &t->stop;
            if (pthread_create(&t->th, NULL, group_main, t))
                rc = AGS_E_NOMEM;
            else
                t->started = 1;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != AGS_OK)
        goto fail;
    *out = G;
    return AGS_OK;
fail:
    group_free(G);
    return rc;
}

/* Modes into g groups, heaviest first into the least loaded group (by a rough weight of a miss:
 * nested walks up to 24 references, shadow and agile take VMM exits, native walks 4); the first
 * group starts loaded by one, for the caller's thread also reads the input. With g <= the number
 * of modes, no group is left empty: a group without load takes the next mode first. */
static void assign(unsigned modes, unsigned g, unsigned mask[AGS_MODE_COUNT])
{
    static const ags_mode_t order[AGS_MODE_COUNT] = { AGS_MODE_NESTED, AGS_MODE_AGILE, AGS_MODE_SHADOW,
                                                      AGS_MODE_NATIVE };
    static const unsigned weight[AGS_MODE_COUNT] = { [AGS_MODE_NATIVE] = 1, [AGS_MODE_NESTED] = 3,
                                                     [AGS_MODE_SHADOW] = 2, [AGS_MODE_AGILE] = 2 };
    unsigned load[AGS_MODE_COUNT] = { 1 };
    memset(mask, 0, AGS_MODE_COUNT * sizeof(unsigned));
    for (unsigned k = 0; k < AGS_MODE_COUNT; k++) {
        ags_mode_t m = order[k];
        if (!(modes & (1u << m)))
            continue;
        unsigned best = 0;
        for (unsigned i = 1; i < g; i++)
            if (load[i] < load[best])
                best = i;
        load[best] += weight[m];
        mask[best] |= 1u << m;
    }
}

unsigned ags_sim_groups(const ags_sim_t *s) { return s->grp ? s->grp->ng : 1; }

int ags_sim_set_groups(ags_sim_t *s, unsigned g)
{
    ags_config_t cfg = s->grp ? s->grp->cfg : s->cfg;
    if (s->events || s->dead)
        return AGS_E_INVAL;
    unsigned k = (unsigned)__builtin_popcount(cfg.modes & ((1u << AGS_MODE_COUNT) - 1));
    g = AGS_MIN(AGS_MAX(g, 1u), AGS_MAX(k, 1u));
    unsigned mask[AGS_MODE_COUNT];
    assign(cfg.modes, g, mask);
    const volatile sig_atomic_t *stop = s->user_stop;
    ags_group_teardown(s);
    struct ags_groups *G = NULL;
    int rc = g > 1 ? group_new(&cfg, g, mask, &G) : AGS_OK;
    /* the caller's handle becomes the first group (or, after a failure, all of them again) */
    unsigned want = rc == AGS_OK ? mask[0] : cfg.modes;
    if (s->cfg.modes != want) {
        ags_config_t c = cfg;
        c.modes = want;
        ags_sim_core_fini(s);
        if (ags_sim_core_init(s, &c) != AGS_OK) {
            rc = AGS_E_NOMEM;
            group_free(G);
            G = NULL;
            ags_sim_core_fini(s);
            if (ags_sim_core_init(s, &cfg) != AGS_OK)
                s->dead = 1; /* every run then fails (ags_sim_run) */
        }
    }
    s->user_stop = stop;
    s->guest.stop = stop;
    if (G) {
        G->core[0] = s;
        for (unsigned i = 0; i < g; i++)
            for (unsigned j = 0; j < G->core[i]->nm; j++)
                G->by_mode[G->core[i]->m[j]->mode] = G->core[i];
        s->grp = G;
    }
    return rc;
}
