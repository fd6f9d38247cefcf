/* The host's extended page table (gPA -> hPA), shared by every virtualized machine. */
#ifndef AGS_EPT_H
#define AGS_EPT_H

#include <stddef.h>
#include <stdint.h>
#include "mem/mem.h"

typedef struct {
    ags_mem_t *mem;
    unsigned levels, page_shift;
    uint64_t root_hpa;
    uint64_t *hp_base;      /* functional map: host-page index (gpa >> page_shift) -> hPA base, 0 = unbacked */
    size_t cap;
    uint64_t backed_pages, table_pages;
} ags_ept_t;

int ags_ept_init(ags_ept_t *e, ags_mem_t *mem, unsigned levels, unsigned page_shift);
void ags_ept_fini(ags_ept_t *e);

/* What backing a guest frame did. */
enum {
    AGS_EPT_WAS_BACKED = 0,     /* its host page was backed already */
    AGS_EPT_NEWLY_BACKED = 1    /* the first touch of the host page: an EPT violation under lazy backing */
};
/* Back the host page holding guest frame gpfn: AGS_EPT_WAS_BACKED, AGS_EPT_NEWLY_BACKED, or
 * AGS_E_NOMEM. */
int ags_ept_back(ags_ept_t *e, uint64_t gpfn);

/* Functional gPA -> hPA (no cost). The guest page must be backed. */
static inline uint64_t ags_ept_gpa2hpa(const ags_ept_t *e, uint64_t gpa)
{
    return e->hp_base[gpa >> e->page_shift] | (gpa & ((1ULL << e->page_shift) - 1));
}

#endif
