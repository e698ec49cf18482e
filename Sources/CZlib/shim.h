// zlib (Debian package zlib1g-dev installs it under /usr/include).
#include <zlib.h>
