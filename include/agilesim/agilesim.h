/* agilesim — umbrella header. */
#ifndef AGILESIM_AGILESIM_H
#define AGILESIM_AGILESIM_H
#include "config.h"
#include "event.h"
#include "sim.h"
#include "workload.h"
#include "report.h"
#include "trace.h"
#endif
