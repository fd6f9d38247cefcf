/* agilesim — the stream agilesim's Valgrind tool (agstrace) writes to `agilesim record`.
 * Macros only: included by the tool (built against Valgrind's headers) and by the recorder.
 *
 * The stream is a sequence of chunks of little-endian 64-bit words. A chunk is a header word
 * AGS_VGS_HDR(pid, n) followed by n (1..AGS_VGS_CHUNK_WORDS) record words of that process; a
 * chunk is at most 4096 bytes, written with one write(), so that chunks of processes sharing
 * the FIFO never interleave. Records:
 *   - an access: top byte = size << 2 | kind (size 1..63 bytes, kind AGS_VGS_FETCH..MODIFY),
 *     the low 56 bits the address, sign-extended from bit 55;
 *   - a control record: top byte 0, bits 0-7 the type (AGS_VGS_START...), bits 8-15 the number
 *     of argument words that follow (in the same chunk). */
#ifndef AGILESIM_VGSTREAM_H
#define AGILESIM_VGSTREAM_H

#define AGS_VGS_CHUNK_WORDS 511u /* + the header word: 4096 bytes = PIPE_BUF */
#define AGS_VGS_MAGIC 0xA65Eull
#define AGS_VGS_HDR(pid, n) (AGS_VGS_MAGIC << 48 | ((unsigned long long)(pid) & 0xffffffffull) << 16 | \
                             ((unsigned long long)(n) & 0xffffull))
#define AGS_VGS_HDR_MAGIC(w) ((w) >> 48)
#define AGS_VGS_HDR_PID(w) ((unsigned)(((w) >> 16) & 0xffffffffull))
#define AGS_VGS_HDR_N(w) ((unsigned)((w) & 0xffffull))

#define AGS_VGS_ADDR_MASK 0x00ffffffffffffffull
#define AGS_VGS_FETCH 0u
#define AGS_VGS_LOAD 1u
#define AGS_VGS_STORE 2u
#define AGS_VGS_MODIFY 3u
#define AGS_VGS_ACC(kind, size, a) ((unsigned long long)((size) << 2 | (kind)) << 56 | \
                                    ((unsigned long long)(a) & AGS_VGS_ADDR_MASK))
#define AGS_VGS_CTL(type, nargs) ((unsigned long long)(type) | (unsigned long long)(nargs) << 8)

/* control records (arguments) */
#define AGS_VGS_START 1u    /* parent pid, forked (1: a fork's child; 0: a new image) */
#define AGS_VGS_TID 2u      /* kernel thread id of the accesses that follow */
#define AGS_VGS_MMAP 3u     /* addr, len, prot */
#define AGS_VGS_MUNMAP 4u   /* addr, len */
#define AGS_VGS_MPROTECT 5u /* addr, len, prot */
#define AGS_VGS_BRK 6u      /* the new break */
#define AGS_VGS_MREMAP 7u   /* old addr, old len, new addr, new len */
#define AGS_VGS_DONTNEED 8u /* addr, len, prot of the mapping: madvise(MADV_DONTNEED) */
#define AGS_VGS_FORK 9u     /* child pid (a clone without CLONE_THREAD, fork, vfork) */
#define AGS_VGS_EXIT 10u    /* exit status */
#define AGS_VGS_ROI 11u     /* 1: the region of interest begins, 0: it ends */
#define AGS_VGS_BIGACC 12u  /* addr, kind, size: an access of 64 bytes or more */
#define AGS_VGS_CTL_COUNT 13u

#endif
