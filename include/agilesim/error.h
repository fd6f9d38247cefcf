/* agilesim — error codes. The library returns them and never exits, aborts or prints. */
#ifndef AGILESIM_ERROR_H
#define AGILESIM_ERROR_H

/* Error codes returned by the library (never exits or aborts on user input). */
typedef enum {
    AGS_OK = 0,
    AGS_E_INVAL = -1,       /* bad configuration or argument */
    AGS_E_NOMEM = -2,       /* out of memory */
    AGS_E_NONCANON = -3,    /* non-canonical guest-virtual address in the input */
    AGS_E_MISMATCH = -4,    /* --check: a machine's translation differs from the oracle */
    AGS_E_INTERNAL = -5,    /* simulator invariant violated (a bug: please report) */
    AGS_E_IO = -6,          /* read/write error */
    AGS_E_FORMAT = -7,      /* malformed input */
    AGS_E_BADPID = -8,      /* event names a process that does not exist */
    AGS_E_INTR = -9         /* a blocking read or open was interrupted by a stop request */
} ags_err_t;

/* A short description of an error code ("out of memory", ...). */
const char *ags_strerror(int err);

#endif
