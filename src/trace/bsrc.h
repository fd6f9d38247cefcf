/* A buffered byte source over a file or standard input, transparently decompressing gzip, xz
 * and zstd streams (detected by their magic bytes). Readers parse from buf[pos..len). */
#ifndef AGS_BSRC_H
#define AGS_BSRC_H

#include <stddef.h>
#include <stdint.h>

enum { AGS_COMP_NONE = 0, AGS_COMP_GZIP, AGS_COMP_XZ, AGS_COMP_ZSTD };

typedef struct ags_bsrc ags_bsrc_t;

struct ags_bsrc {
    int fd;
    int own_fd;             /* close fd on ags_bsrc_close (not standard input) */
    int comp;
    void *dec;              /* decompressor state */
    uint8_t *in;            /* raw (compressed) input */
    size_t in_len, in_pos, in_cap;
    int in_eof;
    uint8_t *buf;           /* decoded bytes */
    size_t len, pos, cap;
    uint64_t base;          /* stream offset of buf[0] (decoded bytes) */
    int eof;                /* no more decoded bytes will come after buf[len) */
    int stream_end;         /* the decoder has reached the end of a complete stream/frame/member */
    int err;                /* 0, or the AGS_E_* code of the first error */
    char msg[256];
    const char *name;
    uint64_t file_size, file_read;
    struct ags_bsrc_thr *thr;   /* decompression on a thread of its own, or NULL */
    uint8_t *map;               /* the mapped window buf points into, or NULL */
    size_t map_len, page;
    uint8_t *heap;              /* the heap buffer while buf is a window */
    size_t heap_cap;
};

/* Open; `path` "-" is standard input. Returns 0 or an AGS_E_* code with b->msg set. */
int ags_bsrc_open(ags_bsrc_t *b, const char *path);
/* Open over an already open descriptor (a pipe or socket); it is closed by ags_bsrc_close. */
int ags_bsrc_open_fd(ags_bsrc_t *b, int fd, const char *name);
void ags_bsrc_close(ags_bsrc_t *b);
/* Make at least `want` bytes available at buf[pos] (fewer only at the end). Returns the
 * number available, or a negative AGS_E_* code on an error (msg set). */
long ags_bsrc_need(ags_bsrc_t *b, size_t want);
const char *ags_comp_name(int comp);
/* Decompress on a thread of its own from here on: compressed regular files only (a read from a
 * pipe could wait indefinitely on a thread that blocks signals). 1 if started, 0 if not
 * applicable or not possible (decoding goes on here, as before). The bytes, their offsets and
 * every error message are those of the synchronous path. */
int ags_bsrc_thread_start(ags_bsrc_t *b);
/* Read a plain regular file (opened by name) through a mapped window of it from here on: 1 if
 * started, 0 if not applicable or not possible (read(2) goes on). The bytes and every message are
 * those of read(2). A window that cannot be mapped later hands over to read(2). The caller must
 * expect SIGBUS if another process truncates the file while a window is mapped
 * (ags_bsrc_mapped says whether an address is in the window). */
int ags_bsrc_map_start(ags_bsrc_t *b);
/* Whether addr lies in the mapped window (async-signal-safe: reads two fields). */
int ags_bsrc_mapped(const ags_bsrc_t *b, const void *addr);

#endif
