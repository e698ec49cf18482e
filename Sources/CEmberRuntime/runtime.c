// Per-thread grad mode flag; starts enabled on every thread, as in PyTorch.
#include "CEmberRuntime.h"

static _Thread_local bool grad_disabled = false;

bool ember_grad_enabled(void) { return !grad_disabled; }

bool ember_set_grad_enabled(bool enabled) {
    bool previous = !grad_disabled;
    grad_disabled = !enabled;
    return previous;
}
