#pragma once
// Host emulation of the cuSOLVER calls that cuda/*.cu makes (see cuda_runtime.h here), computed
// with LAPACK: workspaces and devInfo must be device memory of the sizes cuSOLVER asks for (and
// the 64-bit API's host workspace host memory). The 32-bit routines refuse an operand of more
// than 2^31 - 1 elements: gpbo's rule (cuda/cholesky.cuh), as NVIDIA documents no limit.

#include <cstddef>
#include <cstdint>

#include "cublas_v2.h"

namespace gpbo::cuda {

/// library_types.h's data types; the emulation computes CUDA_R_64F only.
enum cudaDataType_t { CUDA_R_32F = 0, CUDA_R_64F = 1 };
using cudaDataType = cudaDataType_t;

enum cusolverStatus_t {
  CUSOLVER_STATUS_SUCCESS = 0,
  CUSOLVER_STATUS_NOT_INITIALIZED = 1,
  CUSOLVER_STATUS_ALLOC_FAILED = 2,
  CUSOLVER_STATUS_INVALID_VALUE = 3,
  CUSOLVER_STATUS_ARCH_MISMATCH = 4,
  CUSOLVER_STATUS_MAPPING_ERROR = 5,
  CUSOLVER_STATUS_EXECUTION_FAILED = 6,
  CUSOLVER_STATUS_INTERNAL_ERROR = 7,
  CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED = 8,
  CUSOLVER_STATUS_NOT_SUPPORTED = 9,
};

struct EmulatedSolver;
using cusolverDnHandle_t = EmulatedSolver*;
struct EmulatedSolverParams;
using cusolverDnParams_t = EmulatedSolverParams*;

cusolverStatus_t cusolverDnCreate(cusolverDnHandle_t* handle);
cusolverStatus_t cusolverDnDestroy(cusolverDnHandle_t handle);
cusolverStatus_t cusolverDnSetStream(cusolverDnHandle_t handle, cudaStream_t stream);
cusolverStatus_t cusolverDnDpotrf_bufferSize(cusolverDnHandle_t h, cublasFillMode_t uplo, int n,
                                             double* A, int lda, int* lwork);
cusolverStatus_t cusolverDnDpotrf(cusolverDnHandle_t h, cublasFillMode_t uplo, int n, double* A,
                                  int lda, double* work, int lwork, int* dev_info);
cusolverStatus_t cusolverDnDpotri_bufferSize(cusolverDnHandle_t h, cublasFillMode_t uplo, int n,
                                             double* A, int lda, int* lwork);
cusolverStatus_t cusolverDnDpotri(cusolverDnHandle_t h, cublasFillMode_t uplo, int n, double* A,
                                  int lda, double* work, int lwork, int* dev_info);

// The 64-bit generic API.
cusolverStatus_t cusolverDnCreateParams(cusolverDnParams_t* params);
cusolverStatus_t cusolverDnDestroyParams(cusolverDnParams_t params);
cusolverStatus_t cusolverDnXpotrf_bufferSize(cusolverDnHandle_t h, cusolverDnParams_t params,
                                             cublasFillMode_t uplo, std::int64_t n,
                                             cudaDataType dataTypeA, const void* A,
                                             std::int64_t lda, cudaDataType computeType,
                                             std::size_t* workspaceInBytesOnDevice,
                                             std::size_t* workspaceInBytesOnHost);
cusolverStatus_t cusolverDnXpotrf(cusolverDnHandle_t h, cusolverDnParams_t params,
                                  cublasFillMode_t uplo, std::int64_t n, cudaDataType dataTypeA,
                                  void* A, std::int64_t lda, cudaDataType computeType,
                                  void* bufferOnDevice, std::size_t workspaceInBytesOnDevice,
                                  void* bufferOnHost, std::size_t workspaceInBytesOnHost,
                                  int* info);
cusolverStatus_t cusolverDnXtrtri_bufferSize(cusolverDnHandle_t h, cublasFillMode_t uplo,
                                             cublasDiagType_t diag, std::int64_t n,
                                             cudaDataType dataTypeA, void* A, std::int64_t lda,
                                             std::size_t* workspaceInBytesOnDevice,
                                             std::size_t* workspaceInBytesOnHost);
cusolverStatus_t cusolverDnXtrtri(cusolverDnHandle_t h, cublasFillMode_t uplo,
                                  cublasDiagType_t diag, std::int64_t n, cudaDataType dataTypeA,
                                  void* A, std::int64_t lda, void* bufferOnDevice,
                                  std::size_t workspaceInBytesOnDevice, void* bufferOnHost,
                                  std::size_t workspaceInBytesOnHost, int* devInfo);

}  // namespace gpbo::cuda
