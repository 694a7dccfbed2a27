/* zlib, for compressed PNG output (Debian: zlib1g-dev). */
#include <zlib.h>
