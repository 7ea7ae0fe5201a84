#pragma once
// The three shapes in which cuda_backend.cu runs its own device code, over GPBO_HD functors:
//   for_each_index(st, count, f)       f(i) for i < count
//   for_each_2d(st, rows, cols, f)     f(i, c) for i < rows, c < cols
//   for_each_segment(st, segments, b)  per segment s: b.finish(s, sum_t b.term(s, t)) over
//                                      t < b.length(s), one thread block per segment
// Under nvcc they are CUDA kernels enqueued on the stream `st`. Compiled by a host compiler,
// which only the device emulation of tests/backend/cuda_emulation does, they are plain loops,
// so every functor's indexing and arithmetic runs in CI; the kernels below are the only device
// code that the emulation does not run.

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <exception>
#include <string>

#include "backend/host_device.hpp"
#include "cuda/cuda_check.cuh"
#include "gpbo/error.hpp"

#if defined(__CUDACC__)
#include <thrust/system/cuda/execution_policy.h>
#else
#include <thrust/system/cpp/execution_policy.h>
#endif

namespace gpbo::cuda {

/// Threads per block of every launch.
constexpr int kBlock = 256;
/// Largest grid y-dimension a launch may use; loops stride over the rest.
constexpr int kMaxGridY = 65535;

/// Two sums carried through one segment reduction.
struct Sum2 {
  double a = 0.0, b = 0.0;
};
GPBO_HD inline Sum2& operator+=(Sum2& x, const Sum2& y) {
  x.a += y.a;
  x.b += y.b;
  return x;
}

/// Sums `count` values op(i) into *out: a body for for_each_segment with one segment.
template <typename Op>
struct SumInto {
  std::size_t count;
  Op op;
  double* out;
  GPBO_HD std::size_t length(int) const { return count; }
  GPBO_HD double term(int, std::size_t i) const { return op(i); }
  GPBO_HD void finish(int, double sum) const { *out = sum; }
};
template <typename Op>
SumInto<Op> sum_into(std::size_t count, Op op, double* out) {
  return SumInto<Op>{count, op, out};
}

/// Runs Thrust calls, turning Thrust's own exceptions (thrust::system_error, bad_alloc) into
/// BackendUnavailable like every other failed device call.
template <typename F>
void thrust_call(const char* what, F&& f) {
  try {
    f();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw BackendUnavailable(std::string("Thrust: ") + what + " failed: " + e.what());
  }
}

#if defined(__CUDACC__)

namespace launch_detail {

/// Sum over the block (all threads must call; the result is valid in thread 0).
__device__ inline double block_sum(double v) {
  __shared__ double warp_sums[kBlock / 32];
  __syncthreads();  // the shared array may still be read by a previous call
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < kBlock / 32 ? warp_sums[lane] : 0.0;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  }
  return v;
}
__device__ inline Sum2 block_sum(Sum2 v) { return {block_sum(v.a), block_sum(v.b)}; }

template <typename F>
__global__ void for_each_index_kernel(std::size_t count, F f) {
  for (std::size_t i = blockIdx.x * std::size_t(kBlock) + threadIdx.x; i < count;
       i += std::size_t(gridDim.x) * kBlock) {
    f(i);
  }
}

template <typename F>
__global__ void for_each_2d_kernel(int rows, int cols, F f) {
  const int i = blockIdx.x * kBlock + threadIdx.x;
  if (i >= rows) return;
  for (int c = blockIdx.y; c < cols; c += gridDim.y) f(i, c);
}

/// One block per segment; the threads stride over its terms in a fixed order (deterministic).
template <typename Body>
__global__ void for_each_segment_kernel(Body body) {
  const int s = blockIdx.x;
  decltype(body.term(s, 0)) acc{};
  const std::size_t len = body.length(s);
  for (std::size_t t = threadIdx.x; t < len; t += kBlock) acc += body.term(s, t);
  acc = block_sum(acc);
  if (threadIdx.x == 0) body.finish(s, acc);
}

inline unsigned blocks_for(std::size_t count, std::size_t cap) {
  return static_cast<unsigned>(std::min<std::size_t>((count + kBlock - 1) / kBlock, cap));
}

}  // namespace launch_detail

template <typename F>
void for_each_index(cudaStream_t st, std::size_t count, const F& f) {
  if (count == 0) return;
  launch_detail::for_each_index_kernel<<<launch_detail::blocks_for(count, 65535), kBlock, 0, st>>>(
      count, f);
  GPBO_CUDA_CHECK_LAUNCH();
}

template <typename F>
void for_each_2d(cudaStream_t st, int rows, int cols, const F& f) {
  if (rows <= 0 || cols <= 0) return;
  const dim3 grid(launch_detail::blocks_for(rows, 1u << 30),
                  static_cast<unsigned>(std::min(cols, kMaxGridY)));
  launch_detail::for_each_2d_kernel<<<grid, kBlock, 0, st>>>(rows, cols, f);
  GPBO_CUDA_CHECK_LAUNCH();
}

template <typename Body>
void for_each_segment(cudaStream_t st, int segments, const Body& body) {
  if (segments <= 0) return;
  launch_detail::for_each_segment_kernel<<<segments, kBlock, 0, st>>>(body);
  GPBO_CUDA_CHECK_LAUNCH();
}

/// Thrust's policy for work on the stream `st`: asynchronous (no sync at the end of each
/// algorithm; temporaries from the stream's pool). Every host read of a result goes through
/// DeviceBuffer::download, which synchronizes.
inline auto thrust_policy(cudaStream_t st) { return thrust::cuda::par_nosync.on(st); }

#else  // a host compiler: the device emulation

template <typename F>
void for_each_index(cudaStream_t, std::size_t count, const F& f) {
  for (std::size_t i = 0; i < count; ++i) f(i);
}

template <typename F>
void for_each_2d(cudaStream_t, int rows, int cols, const F& f) {
  for (int c = 0; c < cols; ++c) {
    for (int i = 0; i < rows; ++i) f(i, c);
  }
}

template <typename Body>
void for_each_segment(cudaStream_t, int segments, const Body& body) {
  for (int s = 0; s < segments; ++s) {
    decltype(body.term(s, 0)) acc{};
    const std::size_t len = body.length(s);
    for (std::size_t t = 0; t < len; ++t) acc += body.term(s, t);
    body.finish(s, acc);
  }
}

inline auto thrust_policy(cudaStream_t) { return thrust::cpp::par; }

#endif

}  // namespace gpbo::cuda
