/* Model notes: host physical memory. Page-table pages are real 4 KiB arrays of 512 eight-byte
 * entries at a fixed place in one sparse reservation (frame f of region r at slice[r] + f * 4 KiB),
 * so that a walk reads an entry with one load plus one of a region's base; the reservation holds
 * each region's planned frames (sized from the guest's memory), cut to fit address-space limits; a two-level radix store records which frames hold page
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
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

/* Address space this process may still take for the reservation (bytes; UINT64_MAX: no limit
 * known), and which limit it is: half of what RLIMIT_AS leaves (the rest is for the heap), and,
 * under vm.overcommit_memory=2 (where MAP_NORESERVE is ignored), half of the commit headroom. */
static uint64_t reservable(int *cut, uint64_t *limit)
{
    uint64_t best = UINT64_MAX;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        unsigned long long vm_pages = 0;
        FILE *f = fopen("/proc/self/statm", "r");
        if (f) {
            if (fscanf(f, "%llu", &vm_pages) != 1)
                vm_pages = 0;
            fclose(f);
        }
        uint64_t used = (uint64_t)vm_pages * (uint64_t)sysconf(_SC_PAGESIZE);
        best = rl.rlim_cur > used ? (rl.rlim_cur - used) / 2 : 0;
        *cut = AGS_MEM_CUT_RLIMIT_AS;
        *limit = rl.rlim_cur;
    }
    int mode = -1;
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    if (f) {
        if (fscanf(f, "%d", &mode) != 1)
            mode = -1;
        fclose(f);
    }
    if (mode == 2 && (f = fopen("/proc/meminfo", "r"))) {
        char line[128];
        unsigned long long kb, commit_limit = 0, committed = 0;
        while (fgets(line, sizeof(line), f)) {
            if (sscanf(line, "CommitLimit: %llu kB", &kb) == 1)
                commit_limit = kb * 1024;
            else if (sscanf(line, "Committed_AS: %llu kB", &kb) == 1)
                committed = kb * 1024;
        }
        fclose(f);
        uint64_t left = commit_limit > committed ? (commit_limit - committed) / 2 : 0;
        if (left < best) {
            best = left;
            *cut = AGS_MEM_CUT_COMMIT;
            *limit = commit_limit;
        }
    }
    return best;
}

int ags_mem_init(ags_mem_t *m, const ags_mem_plan_t *plan)
{
    memset(m, 0, sizeof(*m));
    m->full_region = -1;
    uint64_t frames[AGS_REGION_COUNT], total = 0;
    for (unsigned r = 0; r < AGS_REGION_COUNT; r++) {
        ags_region_t *rg = &m->region[r];
        /* region 0 starts at 4 GiB so that hPA never equals gPA by accident */
        rg->base = ((uint64_t)r << AGS_REGION_SPAN_SHIFT) + (r == 0 ? (1u << 20) : (1u << 18));
        uint64_t span = ((uint64_t)(r + 1) << AGS_REGION_SPAN_SHIFT) - rg->base;
        frames[r] = AGS_MIN(plan->frames[r], span);
        total += frames[r];
    }
    int cut = AGS_MEM_CUT_NONE;
    uint64_t limit = 0, room = reservable(&cut, &limit);
    void *a = MAP_FAILED;
    int halved = 0;
    if (total > (room >> AGS_PAGE_SHIFT)) { /* scale every region down to the room */
        double k = (double)(room >> AGS_PAGE_SHIFT) / (double)total;
        total = 0;
        for (unsigned r = 0; r < AGS_REGION_COUNT; r++)
            total += frames[r] = frames[r] ? AGS_MAX(1, (uint64_t)((double)frames[r] * k)) : 0;
        halved = 1;
    }
    for (;;) {
        if (total <= (room >> AGS_PAGE_SHIFT)) {
            a = mmap(NULL, total << AGS_PAGE_SHIFT, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (a != MAP_FAILED)
                break;
            if (cut == AGS_MEM_CUT_NONE)
                cut = AGS_MEM_CUT_MMAP;
        }
        if (frames[0] < (1ULL << (26 - AGS_PAGE_SHIFT))) /* below 64 MiB of guest memory: give up */
            break;
        total = 0;
        for (unsigned r = 0; r < AGS_REGION_COUNT; r++)
            total += frames[r] = frames[r] > 1 ? frames[r] / 2 : frames[r];
        halved = 1;
    }
    m->cut = halved || a == MAP_FAILED ? cut : AGS_MEM_CUT_NONE;
    m->cut_limit = limit;
    if (a == MAP_FAILED)
        return -1;
    m->arena = a;
    m->arena_len = total << AGS_PAGE_SHIFT;
    uint64_t off = 0;
    for (unsigned r = 0; r < AGS_REGION_COUNT; r++) {
        ags_region_t *rg = &m->region[r];
        rg->next = rg->base;
        rg->limit = rg->base + frames[r];
        m->slice[r] = (uintptr_t)m->arena + (off << AGS_PAGE_SHIFT) - (uintptr_t)(rg->base << AGS_PAGE_SHIFT);
        off += frames[r];
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
        if (f + n > rg->limit) {
            m->full_region = (int)region;
            return 0;
        }
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
    const ags_region_t *rg = &m->region[(hpfn >> AGS_REGION_SPAN_SHIFT) & (AGS_REGION_COUNT - 1)];
    if (hpfn >= ((uint64_t)AGS_REGION_COUNT << AGS_REGION_SPAN_SHIFT) || hpfn < rg->base || hpfn >= rg->limit)
        return NULL; /* outside the reservation */
    unsigned ti = (unsigned)(hpfn >> AGS_MEM_CHUNK_SHIFT);
    if (!m->present[ti]) {
        m->present[ti] = calloc(1u << AGS_MEM_CHUNK_SHIFT, 1);
        m->tag[ti] = calloc(1u << AGS_MEM_CHUNK_SHIFT, sizeof(uint32_t));
        if (!m->present[ti] || !m->tag[ti])
            return NULL;
    }
    size_t j = hpfn & ((1u << AGS_MEM_CHUNK_SHIFT) - 1);
    uint64_t *p = ags_mem_storage(m, hpfn);
    if (!(m->present[ti][j] & 1)) {
        m->resident_pages += !m->present[ti][j];
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
    if (ti >= AGS_MEM_TOP_ENTRIES || !m->present[ti] || !(m->present[ti][j] & 1))
        return;
    /* the storage stays resident (zeroed again when the frame next holds a table) */
    m->present[ti][j] = 2;
    m->tag[ti][j] = 0;
    m->pt_pages--;
}
