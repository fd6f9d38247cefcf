/* Model notes: none — names of the event types (include/agilesim/event.h). */
#include "agilesim/event.h"

static const char *const ev_names[AGS_EV_TYPE_COUNT] = { "access", "mmap", "munmap", "mprotect", "brk",
                                                         "mremap", "fork", "exec", "exit", "switch" };

const char *ags_event_type_name(unsigned t) { return t < AGS_EV_TYPE_COUNT ? ev_names[t] : "?"; }
