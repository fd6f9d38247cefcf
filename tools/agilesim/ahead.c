/* Read-ahead: the next events are decoded (or generated) on a thread of its own while the
 * simulator runs the current ones. A ring of AGS_CLI_AHEAD_SLOTS slots of AGS_CLI_AHEAD_BATCH
 * events, filled and used in order: the producer fills the free slots ahead of the one the
 * consumer holds, and the consumer fills the next one itself when the producer has not started it
 * (busy cache workers left it no core). One fill at a time, so the source is read by one thread
 * at a time. The events are exactly those the synchronous loop would read, so results do not
 * change.
 *
 * The simulator still gets batches of AGS_CLI_BATCH (a slot is handed out a batch at a time), so
 * every per-batch check of the run loop (memory budget, progress, stop) keeps its granularity.
 *
 * Used only for inputs whose reads cannot block indefinitely (regular files, built-in workloads):
 * the producer blocks every signal, so a read waiting on a pipe could not be interrupted by
 * Ctrl-C. A signal stops the consumer's wait at once (it waits in steps of 50 ms and checks the
 * stop flag); the producer ends its batch and stops. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Fill the next slot in order (the caller holds a->mu and has checked it may: no fill under way,
 * the slot free). The source is read with the mutex released; one fill at a time, so whichever
 * thread fills, the source is read by one thread at a time and in order. */
static void fill(ags_cli_ahead_t *a)
{
    unsigned slot = a->fill_next;
    a->fill_next = (a->fill_next + 1) % AGS_CLI_AHEAD_SLOTS;
    a->filling = 1;
    pthread_mutex_unlock(&a->mu);
    const char *err = NULL;
    size_t n = ags_cli_source_next(a->src, a->buf[slot], AGS_CLI_AHEAD_BATCH, &err);
    uint64_t done = 0, total = 0;
    if (a->src->r)
        ags_reader_progress(a->src->r, &done, &total);
    pthread_mutex_lock(&a->mu);
    a->n[slot] = n;
    a->err[slot] = err;
    a->done[slot] = done;
    a->total[slot] = total;
    a->ready[slot] = 1;
    a->filling = 0;
    if (!n)
        a->ended = 1; /* the end, an error, or a stop: nothing more */
    pthread_cond_broadcast(&a->cv);
}

/* may the next slot be filled now? */
static int can_fill(const ags_cli_ahead_t *a)
{
    return !a->filling && !a->ended && !a->ready[a->fill_next] && a->held != (int)a->fill_next;
}

static void *producer(void *arg)
{
    ags_cli_ahead_t *a = arg;
    pthread_mutex_lock(&a->mu);
    while (!a->quit && !a->ended) {
        if (can_fill(a))
            fill(a);
        else
            pthread_cond_wait(&a->cv, &a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

int ags_cli_ahead_start(ags_cli_ahead_t *a, ags_cli_source_t *src)
{
    memset(a, 0, sizeof(*a));
    a->src = src;
    a->held = -1;
    a->buf[0] = malloc(AGS_CLI_AHEAD_SLOTS * AGS_CLI_AHEAD_BATCH * sizeof(ags_event_t));
    if (!a->buf[0])
        return -1;
    for (unsigned k = 1; k < AGS_CLI_AHEAD_SLOTS; k++)
        a->buf[k] = a->buf[0] + k * AGS_CLI_AHEAD_BATCH;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int bad = pthread_mutex_init(&a->mu, NULL) || pthread_cond_init(&a->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (bad) {
        free(a->buf[0]);
        return -1;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* signals go to the simulating thread */
    bad = pthread_create(&a->th, NULL, producer, a);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (bad) {
        pthread_mutex_destroy(&a->mu);
        pthread_cond_destroy(&a->cv);
        free(a->buf[0]);
        return -1;
    }
    a->running = 1;
    return 0;
}

size_t ags_cli_ahead_next(ags_cli_ahead_t *a, ags_event_t **batch, const char **err)
{
    *err = NULL;
    if (a->held >= 0 && a->off < a->n[a->held]) { /* the rest of the slot, a batch at a time */
        size_t k = a->n[a->held] - a->off < AGS_CLI_BATCH ? a->n[a->held] - a->off : AGS_CLI_BATCH;
        *batch = a->buf[a->held] + a->off;
        a->off += k;
        return k;
    }
    pthread_mutex_lock(&a->mu);
    if (a->held >= 0) { /* the batch the simulator has finished with goes back to the producer */
        a->ready[a->held] = 0;
        a->held = -1;
        pthread_cond_broadcast(&a->cv);
    }
    unsigned slot = a->next;
    while (!a->ready[slot] && !ags_cli_stop) {
        if (can_fill(a) && a->fill_next == slot) {
            fill(a); /* the producer has not started it (it had no core): fill it here, not wait */
            continue;
        }
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        t.tv_nsec += 50 * 1000 * 1000;
        if (t.tv_nsec >= 1000000000L) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&a->cv, &a->mu, &t);
    }
    size_t n = 0;
    if (a->ready[slot]) {
        n = a->n[slot] < AGS_CLI_BATCH ? a->n[slot] : AGS_CLI_BATCH;
        *err = n ? NULL : a->err[slot];
        *batch = a->buf[slot];
        a->cur_done = a->done[slot];
        a->cur_total = a->total[slot];
        a->held = (int)slot;
        a->off = n;
        a->next = (slot + 1) % AGS_CLI_AHEAD_SLOTS;
    }
    pthread_mutex_unlock(&a->mu);
    return n;
}

void ags_cli_ahead_stop(ags_cli_ahead_t *a)
{
    if (!a->running)
        return;
    pthread_mutex_lock(&a->mu);
    a->quit = 1;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->th, NULL); /* at most the batch in progress: the input cannot block */
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    free(a->buf[0]);
    memset(a, 0, sizeof(*a));
}
