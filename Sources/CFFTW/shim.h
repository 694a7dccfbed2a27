/* Single-precision FFTW3 (Debian: libfftw3-dev). */
#include <fftw3.h>
