/* Model notes: host physical memory. Page-table pages are real 4 KiB arrays of 512 eight-byte
 * entries at a fixed place in one sparse reservation (frame f at arena + f * 4 KiB), so that a
 * walk reads an entry with one load; a two-level radix store records which frames hold page
 * tables (a byte each) and an owner tag per frame. A freed table's storage stays resident and is zeroed when
 * the frame next holds a table: freed frames are reused LIFO, so resident storage is bounded
 * by the guest's peak frame count (returning each page to the OS cost 14% on churny runs). Data frames exist only
 * as numbers (no storage). Frames come from fixed regions (guest backing, EPT, one per machine),
 * so that the hPA of every guest frame is the same whichever modes are simulated. Frees of
 * single frames are reused LIFO; large blocks are never freed (the host never reclaims
 * guest backing in this model). */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "mem/mem.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int ags_mem_init(ags_mem_t *m)
{
    memset(m, 0, sizeof(*m));
    m->arena_len = (size_t)AGS_REGION_COUNT << (AGS_REGION_SPAN_SHIFT + AGS_PAGE_SHIFT);
    void *a = mmap(NULL, m->arena_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (a == MAP_FAILED) {
        m->arena = NULL;
        return -1;
    }
    m->arena = a;
    for (unsigned r = 0; r < AGS_REGION_COUNT; r++) {
        ags_region_t *rg = &m->region[r];
        /* region 0 starts at 4 GiB so that hPA never equals gPA by accident */
        rg->base = ((uint64_t)r << AGS_REGION_SPAN_SHIFT) + (r == 0 ? (1u << 20) : (1u << 18));
        rg->next = rg->base;
        rg->limit = ((uint64_t)(r + 1) << AGS_REGION_SPAN_SHIFT);
    }
    return 0;
}

void ags_mem_fini(ags_mem_t *m)
{
    for (unsigned i = 0; i < AGS_MEM_TOP_ENTRIES; i++) {
        free(m->present[i]);
        free(m->tag[i]);
    }
    if (m->arena)
        munmap(m->arena, m->arena_len);
    for (unsigned r = 0; r < AGS_REGION_COUNT; r++)
        free(m->region[r].free0);
    memset(m, 0, sizeof(*m));
}

uint64_t ags_mem_alloc(ags_mem_t *m, unsigned region, unsigned order)
{
    ags_region_t *rg = &m->region[region];
    uint64_t n = 1ULL << order, f;
    if (order == 0 && rg->nfree0) {
        f = rg->free0[--rg->nfree0];
    } else {
        f = (rg->next + n - 1) & ~(n - 1);
        if (f + n > rg->limit)
            return 0;
        rg->next = f + n;
    }
    rg->allocated += n;
    if (rg->allocated > rg->peak)
        rg->peak = rg->allocated;
    return f;
}

void ags_mem_free(ags_mem_t *m, unsigned region, uint64_t hpfn)
{
    ags_region_t *rg = &m->region[region];
    if (rg->nfree0 == rg->capfree0) {
        size_t nc = rg->capfree0 ? rg->capfree0 * 2 : 256;
        uint64_t *p = realloc(rg->free0, nc * sizeof(*p));
        if (!p) {
            m->err = AGS_E_NOMEM; /* the driver stops the run */
            return;
        }
        rg->free0 = p;
        rg->capfree0 = nc;
    }
    rg->free0[rg->nfree0++] = hpfn;
    rg->allocated--;
}

uint64_t *ags_mem_pt_attach(ags_mem_t *m, uint64_t hpfn, uint32_t tag)
{
    if (hpfn >= ((uint64_t)AGS_REGION_COUNT << AGS_REGION_SPAN_SHIFT)) /* outside the arena */
        return NULL;
    unsigned ti = (unsigned)(hpfn >> AGS_MEM_CHUNK_SHIFT);
    if (!m->present[ti]) {
        m->present[ti] = calloc(1u << AGS_MEM_CHUNK_SHIFT, 1);
        m->tag[ti] = calloc(1u << AGS_MEM_CHUNK_SHIFT, sizeof(uint32_t));
        if (!m->present[ti] || !m->tag[ti])
            return NULL;
    }
    size_t j = hpfn & ((1u << AGS_MEM_CHUNK_SHIFT) - 1);
    uint64_t *p = (uint64_t *)(m->arena + (hpfn << AGS_PAGE_SHIFT));
    if (!m->present[ti][j]) {
        m->present[ti][j] = 1;
        m->pt_pages++;
    }
    memset(p, 0, AGS_PAGE_SIZE);
    m->tag[ti][j] = tag;
    return p;
}

void ags_mem_pt_detach(ags_mem_t *m, uint64_t hpfn)
{
    unsigned ti = (unsigned)(hpfn >> AGS_MEM_CHUNK_SHIFT);
    size_t j = hpfn & ((1u << AGS_MEM_CHUNK_SHIFT) - 1);
    if (ti >= AGS_MEM_TOP_ENTRIES || !m->present[ti] || !m->present[ti][j])
        return;
    /* the storage stays resident (zeroed again when the frame next holds a table) */
    m->present[ti][j] = 0;
    m->tag[ti][j] = 0;
    m->pt_pages--;
}
