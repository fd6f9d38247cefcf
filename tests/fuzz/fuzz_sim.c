/* libFuzzer target for the simulator: the input is decoded into a stream of events (accesses
 * and address-space/process events over a few processes and a small address range, so that
 * they collide) and run in all four modes under --check (every walk and every TLB hit compared
 * with the guest's functional translation, the VMM audited). A wrong translation
 * (AGS_E_MISMATCH), a broken invariant (AGS_E_INTERNAL), an error without a message, a crash or
 * a sanitizer report is a finding; rejected input (non-canonical, unaligned, unknown pid) is not. */
#include "agilesim/agilesim.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t take(const uint8_t **p, const uint8_t *end, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n && *p < end; i++)
        v |= (uint64_t)*(*p)++ << (8 * i);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ags_event_t ev[4096];
    size_t n = 0;
    const uint8_t *p = data, *end = data + size;
    while (p < end && n < 4096) {
        uint8_t op = *p++;
        ags_event_t *e = &ev[n++];
        memset(e, 0, sizeof(*e));
        e->pid = 1 + (op >> 6); /* processes 1..4 */
        /* addresses: a 1 GiB window near the bottom, or the top of the lower half */
        uint64_t base = (op & 0x20) ? 0x7fffc0000000ull : 0x10000000ull;
        switch (op & 0x0f) {
        case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
            e->type = AGS_EV_ACCESS;
            e->kind = op & 3;
            e->size = (uint16_t)(1u << (take(&p, end, 1) & 7));
            e->icount = e->kind == AGS_ACC_IFETCH;
            e->addr = base + (take(&p, end, 4) & 0x3fffffffull);
            break;
        case 8: case 9: case 10: {
            static const uint8_t t[3] = { AGS_EV_MMAP, AGS_EV_MUNMAP, AGS_EV_MPROTECT };
            e->type = t[(op & 0x0f) - 8];
            e->addr = base + ((take(&p, end, 3) & 0x3ffff) << 12);
            e->len = (take(&p, end, 2) + 1) << 12;
            e->arg = take(&p, end, 1) & 7;
            break;
        }
        case 11:
            e->type = AGS_EV_MREMAP;
            e->addr = base + ((take(&p, end, 3) & 0x3ffff) << 12);
            e->len = (take(&p, end, 1) + 1) << 12;
            e->arg = base + ((take(&p, end, 3) & 0x3ffff) << 12);
            e->arg2 = (take(&p, end, 1) + 1) << 12;
            break;
        case 12:
            e->type = AGS_EV_BRK;
            e->addr = base + (take(&p, end, 3) << 8);
            break;
        case 13:
            e->type = AGS_EV_FORK;
            e->arg = 1 + (take(&p, end, 1) & 3);
            break;
        case 14:
            e->type = (op & 0x10) ? AGS_EV_EXEC : AGS_EV_EXIT;
            break;
        default:
            e->type = AGS_EV_SWITCH;
            break;
        }
    }
    ags_config_t cfg;
    ags_config_defaults(&cfg);
    cfg.check = 1;
    cfg.warmup = 0;
    cfg.agile_interval = 2000; /* scans happen within a short input */
    ags_sim_t *sim;
    if (ags_sim_create(&cfg, &sim))
        return 0;
    int rc = ags_sim_run(sim, ev, n);
    if (rc == AGS_E_MISMATCH || rc == AGS_E_INTERNAL || (rc < 0 && !ags_sim_errmsg(sim)[0]))
        abort();
    if (rc >= 0)
        ags_sim_finish(sim);
    ags_sim_destroy(sim);
    return 0;
}
