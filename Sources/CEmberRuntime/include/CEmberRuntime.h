// Per-thread runtime state for Ember's autograd (grad mode, operation tracing), kept in C
// because Swift has no thread-local storage class of its own.
#ifndef CEMBER_RUNTIME_H
#define CEMBER_RUNTIME_H

#include <stdbool.h>
#include "CEmberKernels.h"
#include "CEmberParallel.h"

/// Whether operations on this thread record autograd history (default true).
bool ember_grad_enabled(void);
/// Sets grad mode for this thread and returns the previous value.
bool ember_set_grad_enabled(bool enabled);
/// The operation trace recording on this thread (an opaque Swift object), or NULL.
void *ember_active_trace(void);
/// Installs `trace` (or NULL) as this thread's operation trace; returns the previous one.
void *ember_set_active_trace(void *trace);

#endif
