// cuda/cholesky.cu compiled by the host compiler against the emulation here (README.md).
#include "cuda/cholesky.cu"
