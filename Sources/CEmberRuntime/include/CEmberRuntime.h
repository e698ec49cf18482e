// Per-thread runtime state for Ember's autograd (grad mode), kept in C because Swift has
// no thread-local storage class of its own.
#ifndef CEMBER_RUNTIME_H
#define CEMBER_RUNTIME_H

#include <stdbool.h>
#include "CEmberKernels.h"
#include "CEmberParallel.h"

/// Whether operations on this thread record autograd history (default true).
bool ember_grad_enabled(void);
/// Sets grad mode for this thread and returns the previous value.
bool ember_set_grad_enabled(bool enabled);

#endif
