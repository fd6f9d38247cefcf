/* agilesim — mark a program's region of interest for `agilesim record --roi`.
 *
 *   #include <agilesim/roi.h>
 *   AGILESIM_ROI_BEGIN();   ... the part to simulate ...   AGILESIM_ROI_END();
 *
 * Under agilesim's recorder these are Valgrind client requests (as CALLGRIND_START_INSTRUMENTATION
 * is); run natively they cost a few instructions and do nothing. They need Valgrind's
 * <valgrind/valgrind.h> (Debian package valgrind); without it they compile to nothing. */
#ifndef AGILESIM_ROI_H
#define AGILESIM_ROI_H

#define AGS_ROI_REQ_BASE (((unsigned)'A' & 0xffu) << 24 | ((unsigned)'G' & 0xffu) << 16)
#define AGS_ROI_REQ_BEGIN (AGS_ROI_REQ_BASE + 1u)
#define AGS_ROI_REQ_END (AGS_ROI_REQ_BASE + 2u)

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define AGILESIM_ROI_BEGIN() VALGRIND_DO_CLIENT_REQUEST_STMT(AGS_ROI_REQ_BEGIN, 0, 0, 0, 0, 0)
#define AGILESIM_ROI_END() VALGRIND_DO_CLIENT_REQUEST_STMT(AGS_ROI_REQ_END, 0, 0, 0, 0, 0)
#endif
#endif
#ifndef AGILESIM_ROI_BEGIN
#define AGILESIM_ROI_BEGIN() ((void)0)
#define AGILESIM_ROI_END() ((void)0)
#endif

#endif
