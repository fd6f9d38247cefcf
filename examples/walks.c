/* Example: drive the agilesim library directly. Runs the built-in `gups` workload in the four
 * modes with the TLB's walk caches and data caches off, and prints each mode's memory
 * references per TLB miss (native 4, nested 24, shadow 4, agile 24 while its new process is
 * still nested) and its overhead against native.
 * Build against an installed agilesim:
 *   cc walks.c $(pkg-config --cflags --libs agilesim) -o walks */
#include <agilesim/agilesim.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    ags_config_t cfg;
    ags_config_defaults(&cfg);
    cfg.pwc_on = cfg.ntlb_on = cfg.caches_on = 0;
    cfg.check = 1;
    char err[256];
    if (ags_config_validate(&cfg, err, sizeof(err))) {
        fprintf(stderr, "config: %s\n", err);
        return 1;
    }
    ags_sim_t *sim;
    ags_workload_t *wl;
    if (ags_sim_create(&cfg, &sim) || ags_workload_create("gups", 200000, 64u << 20, 1, &wl)) {
        fprintf(stderr, "cannot create the simulator or the workload\n");
        return 1;
    }
    ags_event_t buf[1024];
    size_t n;
    while ((n = ags_workload_next(wl, buf, 1024)) > 0)
        if (ags_sim_run(sim, buf, n)) {
            fprintf(stderr, "simulation: %s\n", ags_sim_errmsg(sim));
            return 1;
        }
    ags_sim_finish(sim);
    for (unsigned m = 0; m < AGS_MODE_COUNT; m++) {
        ags_stats_t st;
        ags_sim_stats(sim, (ags_mode_t)m, &st);
        printf("%-7s refs/walk %.1f  overhead %+.1f%%\n", ags_mode_name((ags_mode_t)m),
               st.walks ? (double)st.walk_refs / (double)st.walks : 0.0, 100.0 * st.overhead_vs_native);
    }
    ags_workload_destroy(wl);
    ags_sim_destroy(sim);
    return 0;
}
