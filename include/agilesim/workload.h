/* agilesim — built-in workloads: deterministic, seeded event generators. */
#ifndef AGILESIM_WORKLOAD_H
#define AGILESIM_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>
#include "event.h"

typedef struct {
    const char *name;
    const char *description;
    int stress;             /* a stress test (fault rates far above real programs'): not in the default suite */
    const char *stands_for; /* the real programs it stands for (docs/model.md, section 11) */
} ags_workload_info_t;

/* The built-in workloads, in suite order. */
const ags_workload_info_t *ags_workload_list(size_t *n);

typedef struct ags_workload ags_workload_t;

/* Returns AGS_OK, AGS_E_INVAL (no such workload) or AGS_E_NOMEM.
 * accesses: total memory accesses to generate; footprint: bytes of the main data set
 * (0: the workload's default); seed: any value, same seed = same stream. */
int ags_workload_create(const char *name, uint64_t accesses, uint64_t footprint, uint64_t seed,
                        ags_workload_t **out);
/* Fill up to n events; returns the count, 0 at the end or after an error (ags_workload_error). */
size_t ags_workload_next(ags_workload_t *w, ags_event_t *buf, size_t n);
/* Events the workload will generate at most (for progress), 0 if unknown. */
uint64_t ags_workload_total(const ags_workload_t *w);
/* 0, or AGS_E_NOMEM if the generator could not queue an event (the stream is then incomplete). */
int ags_workload_error(const ags_workload_t *w);
void ags_workload_destroy(ags_workload_t *w);

#endif
