#pragma once
// GPBO_HD marks inline math that is compiled for the host and, under nvcc, for the device too:
// the same functors score candidates in Thrust on the GPU and in plain loops on the CPU.
#if defined(__CUDACC__)
#define GPBO_HD __host__ __device__
#else
#define GPBO_HD
#endif
