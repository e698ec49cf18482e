// oneDNN's C API (Debian package libdnnl-dev installs it under /usr/include).
#include <dnnl.h>
