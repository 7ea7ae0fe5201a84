#pragma once
// Host emulation of the cuSOLVER calls that cuda/*.cu makes (see cuda_runtime.h here), computed
// with LAPACK: workspaces and devInfo must be device memory of the sizes cuSOLVER asks for.

#include "cublas_v2.h"

namespace gpbo::cuda {

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

}  // namespace gpbo::cuda
