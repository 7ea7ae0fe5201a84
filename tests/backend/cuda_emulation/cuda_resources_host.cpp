// cuda/cuda_resources.cu compiled by the host compiler against the emulation here (README.md).
#include "cuda/cuda_resources.cu"
