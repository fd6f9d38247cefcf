/* agilesim — trace input and output: the .agt format, readers for Valgrind Lackey, Intel Pin
 * pinatrace and ChampSim traces (raw, gzip, xz, zstd), detected from their content. */
#ifndef AGILESIM_TRACE_H
#define AGILESIM_TRACE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "event.h"

typedef enum {
    AGS_FMT_AUTO = 0,
    AGS_FMT_AGT,
    AGS_FMT_LACKEY,
    AGS_FMT_PINATRACE,
    AGS_FMT_CHAMPSIM
} ags_format_t;

const char *ags_format_name(ags_format_t f);
int ags_format_parse(const char *name); /* -1 if unknown */

typedef struct ags_reader ags_reader_t;

/* A flag that a signal handler sets to stop: a read or an open blocked on a pipe or a FIFO that
 * a signal interrupts then fails with AGS_E_INTR instead of waiting on (process-wide). */
void ags_trace_set_stop(volatile sig_atomic_t *flag);

/* Open a trace ("-" = standard input). On failure returns an error code and a one-line message
 * in err that names the file and what is wrong. */
int ags_reader_open(const char *path, ags_format_t fmt, ags_reader_t **out, char *err, size_t errlen);
/* The same over an open descriptor (a pipe or a socket), which the reader then owns. */
int ags_reader_open_fd(int fd, const char *name, ags_format_t fmt, ags_reader_t **out, char *err, size_t errlen);
/* Decode up to n events; returns the count; 0 at the end or on error (see ags_reader_error). */
size_t ags_reader_next(ags_reader_t *r, ags_event_t *buf, size_t n);
/* 0 if the trace was read cleanly so far, else an error code with a message naming the file,
 * the line or byte offset and what was expected. */
int ags_reader_error(const ags_reader_t *r, const char **msg);
ags_format_t ags_reader_format(const ags_reader_t *r);
/* Progress: bytes of the file consumed and its size (0 if unknown, e.g. a pipe). */
void ags_reader_progress(const ags_reader_t *r, uint64_t *done, uint64_t *total);
/* For .agt: the event count from the header (0 if unknown). */
uint64_t ags_reader_count_hint(const ags_reader_t *r);
/* Lackey from a live recording: skip (and count) malformed lines — Valgrind interleaves a child's
 * output between fork and exec with its parent's — instead of failing. */
void ags_reader_set_lenient(ags_reader_t *r, int on);
/* Addresses must be canonical for this virtual-address width: 48 (default) or 57 (5-level). */
void ags_reader_set_va_bits(ags_reader_t *r, unsigned bits);
uint64_t ags_reader_skipped(const ags_reader_t *r);
/* Lenient Lackey: forks taken from lines that Valgrind garbled ("process P created child C"). */
uint64_t ags_reader_salvaged(const ags_reader_t *r);
/* .agt: why the recording was cut short (a mark record), or 0 (complete). */
enum { AGS_TRUNC_SIGNAL = 1, AGS_TRUNC_LIMIT = 2, AGS_TRUNC_MAX = 2 };
int ags_reader_truncated(const ags_reader_t *r);
/* With n > 1, a compressed regular file (gzip, xz, zstd) is decompressed on a thread of its own
 * while the caller parses. Not for pipes or standard input. Events and errors are the same.
 * Returns the threads the reader now uses (1 or 2). */
unsigned ags_reader_set_threads(ags_reader_t *r, unsigned n);
/* Read a plain (uncompressed) regular file opened by name through a window of it mapped into
 * memory, 16 MiB at a time, instead of read(2) into a buffer: the same events and errors with no
 * copy (an .agt file decodes about 10% faster). Returns 1 if in use, 0 if not applicable
 * (compressed, a pipe, standard input, a decompression thread) or not possible (read(2) goes on).
 * Off unless asked for: if another process truncates the file while a window of it is mapped, the
 * next access to the lost part raises SIGBUS. A caller that turns this on handles SIGBUS;
 * ags_reader_maps says whether the faulting address is this reader's window. */
int ags_reader_use_mmap(ags_reader_t *r);
/* Whether addr lies in the reader's mapped window. Async-signal-safe (reads two fields). */
int ags_reader_maps(const ags_reader_t *r, const void *addr);
void ags_reader_close(ags_reader_t *r);

/* What a trace holds (agilesim info): counts by event type and access kind, instructions,
 * processes, distinct pages touched, the address range. */
typedef struct {
    uint64_t events, types[AGS_EV_TYPE_COUNT], kinds[4], instructions;
    uint64_t pages;             /* distinct (pid, 4 KiB page) pairs accessed */
    uint64_t lo, hi;            /* lowest and highest access address (lo > hi: no access) */
    uint32_t pids[64];          /* the first 64 processes seen */
    size_t npids;               /* how many of pids[] are set */
    int more_pids;              /* more than 64 processes */
    uint64_t threads;           /* distinct (pid, tid) pairs of accesses that carry a tid */
} ags_trace_summary_t;

typedef struct ags_summarizer ags_summarizer_t;
int ags_summarizer_create(ags_summarizer_t **out);        /* AGS_OK or AGS_E_NOMEM */
int ags_summarizer_add(ags_summarizer_t *s, const ags_event_t *ev, size_t n); /* AGS_OK or AGS_E_NOMEM */
void ags_summarizer_get(const ags_summarizer_t *s, ags_trace_summary_t *out);
void ags_summarizer_destroy(ags_summarizer_t *s);

typedef struct ags_writer ags_writer_t;

/* Write an .agt file: to a temporary name, renamed to `path` by ags_writer_close(w, 1). */
int ags_writer_open(const char *path, int zstd, ags_writer_t **out, char *err, size_t errlen);
/* The same to an open descriptor (a pipe): nothing is renamed, the counts and the checksum are
 * in the trailer only (as in a compressed file). The writer owns fd. */
int ags_writer_open_fd(int fd, const char *name, int zstd, ags_writer_t **out, char *err, size_t errlen);
int ags_writer_write(ags_writer_t *w, const ags_event_t *ev, size_t n);
/* Bytes written so far (compressed bytes for zstd). */
uint64_t ags_writer_bytes(const ags_writer_t *w);
/* Mark the trace as cut short here (AGS_TRUNC_*): a reader reports it. */
int ags_writer_mark_truncated(ags_writer_t *w, int why);
/* commit = 1: finish and rename; 0: discard. Returns 0 or an error code (message in err). */
int ags_writer_close(ags_writer_t *w, int commit, char *err, size_t errlen);

#endif
