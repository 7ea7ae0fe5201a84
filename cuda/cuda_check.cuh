#pragma once
// Status checks for the CUDA runtime, cuBLAS and cuSOLVER. Each macro throws BackendUnavailable
// naming the call, the status and file:line; none aborts. A failed call means a missing driver
// or device, no memory, a device fault (which leaves the context unusable) or a gpbo bug: never
// a numerical condition for a caller to absorb, so never NumericalError (which the GP fit reads
// as "this point is infeasible"). Numerical failures (potrf's devInfo > 0, a non-finite
// factor) are found by the backend and thrown as NumericalError there.

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <string>

#include "gpbo/error.hpp"

namespace gpbo::cuda {

/// The enumerator's name of a cuBLAS status ("CUBLAS_STATUS_ALLOC_FAILED").
const char* cublas_status_name(cublasStatus_t s) noexcept;
/// The enumerator's name of a cuSOLVER status.
const char* cusolver_status_name(cusolverStatus_t s) noexcept;

[[noreturn]] void throw_cuda_error(cudaError_t e, const char* call, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t s, const char* call, const char* file,
                                     int line);
[[noreturn]] void throw_cusolver_error(cusolverStatus_t s, const char* call, const char* file,
                                       int line);

}  // namespace gpbo::cuda

#define GPBO_CUDA_TRY(call)                                                    \
  do {                                                                         \
    const cudaError_t gpbo_status_ = (call);                                   \
    if (gpbo_status_ != cudaSuccess) {                                         \
      ::gpbo::cuda::throw_cuda_error(gpbo_status_, #call, __FILE__, __LINE__); \
    }                                                                          \
  } while (0)

#define GPBO_CUBLAS_TRY(call)                                                    \
  do {                                                                           \
    const cublasStatus_t gpbo_status_ = (call);                                  \
    if (gpbo_status_ != CUBLAS_STATUS_SUCCESS) {                                 \
      ::gpbo::cuda::throw_cublas_error(gpbo_status_, #call, __FILE__, __LINE__); \
    }                                                                            \
  } while (0)

#define GPBO_CUSOLVER_TRY(call)                                                    \
  do {                                                                             \
    const cusolverStatus_t gpbo_status_ = (call);                                  \
    if (gpbo_status_ != CUSOLVER_STATUS_SUCCESS) {                                 \
      ::gpbo::cuda::throw_cusolver_error(gpbo_status_, #call, __FILE__, __LINE__); \
    }                                                                              \
  } while (0)

/// Checks the launch of the kernel just enqueued (configuration errors surface here).
#define GPBO_CUDA_CHECK_LAUNCH() GPBO_CUDA_TRY(cudaGetLastError())
