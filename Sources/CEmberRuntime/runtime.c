// Per-thread grad mode flag (starts enabled on every thread, as in PyTorch) and the
// per-thread operation trace that export tools install while tracing.
#include "CEmberRuntime.h"

static _Thread_local bool grad_disabled = false;

bool ember_grad_enabled(void) { return !grad_disabled; }

bool ember_set_grad_enabled(bool enabled) {
    bool previous = !grad_disabled;
    grad_disabled = !enabled;
    return previous;
}

static _Thread_local void *active_trace = 0;

void *ember_active_trace(void) { return active_trace; }

void *ember_set_active_trace(void *trace) {
    void *previous = active_trace;
    active_trace = trace;
    return previous;
}
