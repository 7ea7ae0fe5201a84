// cuda/cuda_backend.cu compiled by the host compiler against the emulation here (README.md).
#include "cuda/cuda_backend.cu"
